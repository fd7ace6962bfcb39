/*  searcher.h: the search stage handler (run by sp_worker_run with role
    "search") and the offline --rank mode.

    Per job: check slskd is logged in, then run queries from the most
    specific to the loosest (primary artist + base title; the same without
    diacritics; another credited artist + title; artist + album; the title
    alone when it is distinctive), each one after taking a token from the
    shared Redis search budget, and stop at the first query that produced
    an acceptable candidate. Results of all queries run so far are ranked
    together (match.h, with the peers' records from peers.h).
      success  sp_task_done(job, "download") with candidates best first,
               query = the query that found the winner, searches_used;
      nothing  sp_task_fail(job, false, "no acceptable copy found: 12
               results: 7 live versions, ...");
      slskd down / not logged in / 5xx / Redis down: sp_task_fail(retry).
*/
#ifndef SOULPIPE_SEARCHER_H
#define SOULPIPE_SEARCHER_H

#include "soulpipe/msg.h"
#include "soulpipe/worker.h"

#include <stddef.h>

#define SP_SEARCHER_MAX_QUERIES   6
#define SP_SEARCHER_WAIT_EVENT_MS 3000 /* "waiting for search budget" every */

/*  Per thread context (slskd client, Redis store, budget). cfg is a const
    sp_config_t * (borrowed, must outlive the context). NULL on failure. */
void *sp_searcher_thread_init (void *cfg);
void sp_searcher_thread_fini (void *ctx);
void sp_searcher_handle (void *ctx, sp_task_t *job);

/*  The queries for a track, most specific first, without duplicates.
    Writes at most max heap strings (caller frees each) and returns their
    number. */
size_t sp_searcher_queries (const sp_track_t *track, char **out, size_t max);

/*  soulpipe-searcher --rank TRACK.json RESPONSES.json [--json]: argv[0] is
    "--rank". Prints to stdout; returns the exit code (0, 1 = nothing
    acceptable, 2 = usage/input error). */
int sp_searcher_rank_main (int argc, char **argv);

#endif
