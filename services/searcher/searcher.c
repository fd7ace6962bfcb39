/*  searcher.c: the search stage: queries, shared budget, slskd searches,
    ranking (see searcher.h), and the offline --rank mode. */
#include "searcher.h"
#include "slskd_search.h"

#include "soulpipe/clock.h"
#include "soulpipe/budget.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"
#include "soulpipe/match.h"
#include "soulpipe/peers.h"
#include "soulpipe/store.h"
#include "soulpipe/text.h"
#include "soulpipe/title.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_PEER_LOOKUPS 128  //  distinct users whose record is read

typedef struct {
    const sp_config_t *cfg;  //  borrowed
    sp_http_t *http;         //  slskd client
    sp_store_t *store;       //  Redis (budget, peers)
    sp_budget_t *budget;     //  shared search budget
    sp_match_prefs_t prefs;  //  user preferences
} s_ctx_t;

// ---------------------------------------------------------------- queries

static char *
s_join_words (const char *a, const char *b)
{
    size_t n = strlen (a) + strlen (b) + 2;
    char *s = malloc (n);
    if (!s)
        return NULL;
    snprintf (s, n, "%s%s%s", a, *a && *b ? " " : "", b);
    char *q = sp_text_query_words (s);
    free (s);
    return q;
}

static bool
s_has_non_ascii (const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s >= 0x80)
            return true;
    return false;
}

static void
s_push (char **out, size_t *n, size_t max, char *q)
{
    if (!q)
        return;
    if (!*q || *n >= max) {
        free (q);
        return;
    }
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp (out[i], q) == 0) {
            free (q);
            return;
        }
    out[(*n)++] = q;
}

//  A title that is worth searching alone: several words and long enough,
//  or one long word ("Bohemian Rhapsody" yes, "Intro" no).
static bool
s_distinctive (const char *base)
{
    size_t letters = 0, words = 0, longest = 0, cur = 0;
    for (const char *p = base;; p++) {
        if (*p && *p != ' ') {
            letters++;
            cur++;
            continue;
        }
        if (cur) {
            words++;
            if (cur > longest)
                longest = cur;
        }
        cur = 0;
        if (!*p)
            break;
    }
    return (words >= 2 && letters >= 12) || longest >= 9;
}

size_t
sp_searcher_queries (const sp_track_t *track, char **out, size_t max)
{
    size_t n = 0;
    if (!track || !track->title || !track->artists_count || !track->artists[0])
        return 0;
    sp_title_t *t = malloc (sizeof *t);
    if (!t || sp_title_parse (track->title, t) != 0) {
        free (t);
        return 0;
    }
    //  the primary artist without "feat." parts
    char *artist = NULL, *feat = NULL;
    if (sp_text_split_feat (track->artists[0], &artist, &feat) < 0) {
        free (t);
        return 0;
    }
    free (feat);
    char *first = s_join_words (artist, t->base_raw);
    //  1. artist + base title; 2. the same without diacritics
    if (first && s_has_non_ascii (first)) {
        char *plain = sp_text_normalize (first);
        s_push (out, &n, max, first);
        s_push (out, &n, max, plain);
    } else
        s_push (out, &n, max, first);
    //  3. another credited artist + title
    for (size_t i = 1; i < track->artists_count && i < 3; i++)
        if (track->artists[i])
            s_push (out, &n, max, s_join_words (track->artists[i], t->base_raw));
    //  4. artist + album (the album's base title)
    if (track->album && *track->album) {
        sp_title_t *at = malloc (sizeof *at);
        if (at && sp_title_parse (track->album, at) == 0 && strcasecmp (at->base, t->base) != 0)
            s_push (out, &n, max, s_join_words (artist, at->base_raw));
        free (at);
    }
    //  5. the title alone, when distinctive
    if (s_distinctive (t->base))
        s_push (out, &n, max, sp_text_query_words (t->base_raw));
    free (artist);
    free (t);
    return n;
}

// ---------------------------------------------------------------- context

void *
sp_searcher_thread_init (void *arg)
{
    const sp_config_t *cfg = arg;
    if (!cfg)
        return NULL;
    s_ctx_t *ctx = calloc (1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->cfg = cfg;
    sp_match_prefs_default (&ctx->prefs);
    ctx->prefs.length_tolerance_s = cfg->length_tolerance_s;
    if (cfg->formats && sp_match_prefs_set_formats (&ctx->prefs, cfg->formats) != 0)
        sp_log_warn ("event=bad_formats formats=%s", sp_log_q (cfg->formats));
    ctx->prefs.min_bitrate = cfg->min_bitrate;
    ctx->prefs.allow_lossy = cfg->allow_lossy;
    if (cfg->max_candidates > 0)
        ctx->prefs.max_candidates = cfg->max_candidates;
    ctx->http = sp_slskd_client_new (cfg->slskd_url, cfg->slskd_api_key);
    char err[256] = "";
    ctx->store = sp_store_new (cfg->redis_url, err, sizeof err);
    if (!ctx->http || !ctx->store) {
        sp_log_error ("event=searcher_init_failed reason=%s",
                      sp_log_q (ctx->store ? "slskd client" : err));
        sp_searcher_thread_fini (ctx);
        return NULL;
    }
    ctx->budget =
        sp_budget_new (ctx->store, cfg->search_budget_count, cfg->search_budget_window_s, NULL);
    if (!ctx->budget) {
        sp_log_error ("event=searcher_init_failed reason=\"bad search budget\"");
        sp_searcher_thread_fini (ctx);
        return NULL;
    }
    return ctx;
}

void
sp_searcher_thread_fini (void *arg)
{
    s_ctx_t *ctx = arg;
    if (!ctx)
        return;
    sp_budget_destroy (&ctx->budget);
    sp_store_destroy (&ctx->store);
    sp_http_destroy (&ctx->http);
    free (ctx);
}

// ---------------------------------------------------------------- handler

typedef struct {
    sp_task_t *job;
    int64_t last_event;  //  monotonic ms of the last waiting event
} s_wait_t;

static bool
s_budget_tick (void *arg, int64_t wait_ms)
{
    s_wait_t *w = arg;
    if (sp_task_stopping (w->job))
        return false;
    int64_t now = sp_clock_mono_ms ();
    if (w->last_event == 0 || now - w->last_event >= SP_SEARCHER_WAIT_EVENT_MS) {
        sp_task_progress (w->job, "waiting", -1, -1, -1, "waiting for search budget");
        sp_log_info ("event=budget_wait wait_ms=%lld", (long long) wait_ms);
        w->last_event = now;
    }
    return true;
}

static bool
s_search_stop (void *arg)
{
    return sp_task_stopping ((sp_task_t *) arg);
}

//  Peer records of the distinct users among the accepted results.
typedef struct {
    const char *names[MAX_PEER_LOOKUPS];
    sp_peer_t recs[MAX_PEER_LOOKUPS];
    size_t n;
} s_peers_t;

static const sp_peer_t *
s_peer_lookup (void *arg, const char *username)
{
    s_peers_t *p = arg;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp (p->names[i], username) == 0)
            return &p->recs[i];
    return NULL;
}

static void
s_clear_candidates (sp_payload_t *pl)
{
    for (size_t i = 0; i < pl->candidates_count; i++) {
        free (pl->candidates[i].username);
        free (pl->candidates[i].filename);
        free (pl->candidates[i].ext);
    }
    free (pl->candidates);
    pl->candidates = NULL;
    pl->candidates_count = 0;
}

//  Rank the set; with a store, rank again with the accepted users' peer
//  records (a peer that keeps failing drops out). Returns accepted count.
static size_t
s_rank (s_ctx_t *ctx, sp_match_set_t *set, const sp_match_track_t *mt, const sp_payload_t *pl)
{
    const char *const *ex = (const char *const *) pl->excluded_users;
    size_t accepted =
        sp_match_set_rank (set, mt, &ctx->prefs, ex, pl->excluded_users_count, NULL, NULL, 0);
    if (accepted == 0 || !ctx->store)
        return accepted;
    s_peers_t *peers = calloc (1, sizeof *peers);
    if (!peers)
        return accepted;
    for (size_t i = 0; i < accepted && peers->n < MAX_PEER_LOOKUPS; i++) {
        const char *u = sp_match_set_get (set, i)->username;
        if (!s_peer_lookup (peers, u))
            peers->names[peers->n++] = u;
    }
    if (sp_peers_get_many (ctx->store, peers->names, peers->n, peers->recs) == SP_STORE_OK)
        accepted = sp_match_set_rank (set, mt, &ctx->prefs, ex, pl->excluded_users_count,
                                      s_peer_lookup, peers, sp_clock_wall_ms ());
    else
        sp_log_warn ("event=peer_records_unavailable");
    free (peers);
    return accepted;
}

void
sp_searcher_handle (void *arg, sp_task_t *task)
{
    s_ctx_t *ctx = arg;
    sp_payload_t *pl = sp_task_payload (task);
    char *queries[SP_SEARCHER_MAX_QUERIES] = {0};
    size_t nq = 0;
    sp_match_track_t *mt = NULL;
    sp_match_set_t *set = NULL;
    if (!pl) {
        sp_task_fail (task, false, "search job without a payload");
        return;
    }
    mt = sp_match_track_new (&pl->track);
    nq = sp_searcher_queries (&pl->track, queries, SP_SEARCHER_MAX_QUERIES);
    set = sp_match_set_new ();
    if (!mt || nq == 0 || !set) {
        sp_task_fail (task, false, "track has no usable title or artist");
        goto done;
    }
    char err[512];
    int li = sp_slskd_logged_in (ctx->http, err, sizeof err);
    if (li != 1) {
        sp_task_fail (task, true, "%s", err);
        goto done;
    }
    uint64_t used = 0;
    size_t accepted = 0;
    size_t winner = nq;
    s_wait_t wait = {.job = task};
    for (size_t q = 0; q < nq && accepted == 0; q++) {
        int rc = sp_budget_acquire (ctx->budget, s_budget_tick, &wait, NULL);
        if (rc == 1) {
            sp_task_fail (task, true, "worker stopping");
            goto done;
        }
        if (rc < 0) {
            sp_task_fail (task, true, "search budget unavailable (Redis: %s)",
                          sp_store_strerror (rc));
            goto done;
        }
        used++;
        sp_task_progress (task, "searching", -1, -1, -1, queries[q]);
        sp_log_info ("event=search query=%s n=%zu", sp_log_q (queries[q]), q + 1);
        json_t *responses = NULL;
        int64_t t0 = sp_clock_mono_ms ();
        rc = sp_slskd_search (ctx->http, queries[q], ctx->cfg->search_timeout_ms, s_search_stop,
                              task, &responses, err, sizeof err);
        if (rc != SP_SLSKD_OK) {
            sp_task_fail (task, rc != SP_SLSKD_ERR_FATAL, "%s", err);
            goto done;
        }
        size_t before = sp_match_set_count (set);
        int added = sp_match_set_add_responses (set, responses);
        json_decref (responses);
        accepted = s_rank (ctx, set, mt, pl);
        sp_log_info ("event=search_done query=%s files=%d total=%zu accepted=%zu ms=%lld",
                     sp_log_q (queries[q]), added, before + (size_t) (added > 0 ? added : 0),
                     accepted, (long long) (sp_clock_mono_ms () - t0));
        if (accepted)
            winner = q;
    }
    pl->has_searches_used = true;
    pl->searches_used += used;
    //  results that could not be carried to a download were left out one
    //  by one (the rest kept): say so, and in the reason if none was good
    char dropped[256];
    size_t nd = sp_match_set_dropped (set, dropped, sizeof dropped);
    if (nd)
        sp_log_warn ("event=results_dropped n=%zu why=%s", nd, sp_log_q (dropped));
    if (!accepted) {
        char summary[1024];
        sp_match_set_summary (set, &ctx->prefs, summary, sizeof summary);
        //  after a round of failed downloads, say what was tried too
        char tried[2048] = "";
        size_t off = 0;
        for (size_t i = 0; i < pl->tried_count && off + 4 < sizeof tried; i++) {
            int n = snprintf (tried + off, sizeof tried - off, "%s%s",
                              i ? "; " : "; downloads tried: ", pl->tried[i]);
            if (n < 0)
                break;
            off += (size_t) n;
        }
        sp_task_fail (task, false, "no acceptable copy found: %s (%zu quer%s)%s%s%s", summary,
                      (size_t) used, used == 1 ? "y" : "ies", nd ? "; " : "", nd ? dropped : "",
                      tried);
        goto done;
    }
    s_clear_candidates (pl);
    if (sp_match_set_to_payload (set, &ctx->prefs, pl) <= 0) {
        sp_task_fail (task, true, "out of memory");
        goto done;
    }
    sp_msg_strset (&pl->query, queries[winner]);
    if (!pl->has_search_rounds) {
        pl->has_search_rounds = true;
        pl->search_rounds = 0;
    }
    pl->search_rounds++;
    const sp_match_result_t *best = sp_match_set_get (set, 0);
    sp_log_info ("event=chosen user=%s file=%s score=%.3f candidates=%zu searches=%llu",
                 sp_log_q (best->username), sp_log_q (best->filename), best->score,
                 pl->candidates_count, (unsigned long long) used);
    sp_task_done (task, "download", NULL);
done:
    for (size_t i = 0; i < nq; i++)
        free (queries[i]);
    sp_match_set_destroy (&set);
    sp_match_track_destroy (&mt);
}

// ---------------------------------------------------------------- --rank

static json_t *
s_load (const char *path)
{
    json_error_t e;
    json_t *j = json_load_file (path, 0, &e);
    if (!j)
        fprintf (stderr, "soulpipe-searcher: %s:%d: %s\n", path, e.line, e.text);
    return j;
}

int
sp_searcher_rank_main (int argc, char **argv)
{
    bool as_json = false;
    const char *files[2] = {NULL, NULL};
    size_t nf = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            as_json = true;
        else if (nf < 2 && argv[i][0] != '-')
            files[nf++] = argv[i];
        else {
            nf = 3;
            break;
        }
    }
    if (nf != 2) {
        fprintf (stderr, "usage: soulpipe-searcher --rank TRACK.json RESPONSES.json [--json]\n");
        return 2;
    }
    int rc = 2;
    sp_track_t track;
    memset (&track, 0, sizeof track);
    sp_match_track_t *mt = NULL;
    sp_match_set_t *set = NULL;
    json_t *tj = s_load (files[0]);
    json_t *rj = tj ? s_load (files[1]) : NULL;
    if (!tj || !rj)
        goto done;
    if (json_is_object (rj) && json_is_array (json_object_get (rj, "responses"))) {
        json_t *inner = json_incref (json_object_get (rj, "responses"));
        json_decref (rj);
        rj = inner;
    }
    if (sp_match_track_from_spotify (tj, &track) != 0 || !(mt = sp_match_track_new (&track))) {
        fprintf (stderr, "soulpipe-searcher: %s: not a Spotify track object (name, artists)\n",
                 files[0]);
        goto done;
    }
    set = sp_match_set_new ();
    if (!set || sp_match_set_add_responses (set, rj) < 0) {
        fprintf (stderr, "soulpipe-searcher: %s: not a responses array\n", files[1]);
        goto done;
    }
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    size_t accepted = sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0);
    size_t n = sp_match_set_count (set);
    char reason[512];
    if (as_json) {
        json_t *out = json_object ();
        json_t *ranked = json_array ();
        json_t *rejected = json_array ();
        for (size_t i = 0; i < n; i++) {
            const sp_match_result_t *r = sp_match_set_get (set, i);
            if (r->reject == SP_MATCH_OK)
                json_array_append_new (
                    ranked,
                    json_pack ("{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:s, s:I, s:i, s:i}",
                               "username", r->username, "filename", r->filename, "score", r->score,
                               "match", r->match, "quality", r->quality, "peer", r->peer,
                               "title_similarity", r->title_sim, "ext", r->path.ext, "size",
                               (json_int_t) r->size, "bitrate", r->bitrate, "length", r->length));
            else
                json_array_append_new (
                    rejected,
                    json_pack ("{s:s, s:s, s:s}", "username", r->username, "filename", r->filename,
                               "reason", sp_match_reason (r, &prefs, mt, reason, sizeof reason)));
        }
        json_object_set_new (out, "ranked", ranked);
        json_object_set_new (out, "rejected", rejected);
        sp_match_set_summary (set, &prefs, reason, sizeof reason);
        json_object_set_new (out, "summary", json_string (reason));
        char *text = json_dumps (out, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
        if (text)
            printf ("%s\n", text);
        free (text);
        json_decref (out);
    } else {
        char **queries = calloc (SP_SEARCHER_MAX_QUERIES, sizeof (char *));
        size_t nq = queries ? sp_searcher_queries (&track, queries, SP_SEARCHER_MAX_QUERIES) : 0;
        printf ("track: %s - %s (%d:%02d), wanted version: %s\n", track.artists[0], track.title,
                sp_match_track_duration (mt) / 60, sp_match_track_duration (mt) % 60,
                (sp_match_track_kinds (mt) & SP_TITLE_HARD_MASK) ? "special (see title/album)"
                                                                 : "studio");
        for (size_t q = 0; q < nq; q++)
            printf ("query %zu: %s\n", q + 1, queries[q]);
        for (size_t q = 0; q < nq; q++)
            free (queries[q]);
        free (queries);
        printf ("\nranked (%zu):\n", accepted);
        for (size_t i = 0; i < accepted; i++) {
            const sp_match_result_t *r = sp_match_set_get (set, i);
            printf ("%3zu. %9.3f  match %.2f  quality %.2f  peer %.2f  %s  %s\n", i + 1, r->score,
                    r->match, r->quality, r->peer, r->username, r->filename);
        }
        printf ("\nrejected (%zu):\n", n - accepted);
        for (size_t i = accepted; i < n; i++) {
            const sp_match_result_t *r = sp_match_set_get (set, i);
            printf ("     %s  %s\n       %s\n", r->username, r->filename,
                    sp_match_reason (r, &prefs, mt, reason, sizeof reason));
        }
        printf ("\n%s\n", sp_match_set_summary (set, &prefs, reason, sizeof reason));
    }
    rc = accepted ? 0 : 1;
done:
    sp_match_set_destroy (&set);
    sp_match_track_destroy (&mt);
    sp_track_clear (&track);
    json_decref (tj);
    json_decref (rj);
    return rc;
}
