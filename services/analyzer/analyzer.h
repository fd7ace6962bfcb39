/*  analyzer.h: the analyzer's submission pipeline.

    sp_analyzer_submit() turns a `submit` request into a playlist job:
    fetch the list (Spotify playlist / album / Liked Songs, or a plain text
    list), drop what cannot be fetched (null items, local files, episodes),
    mark repeats of a track ("duplicate of position N"), skip tracks that an
    earlier run already downloaded (the songs index, songs.h; file still
    there) and tracks the Plex library already has (confidence >=
    SOULPIPE_MATCH_THRESHOLD), then create the job with one search task per
    remaining track (sp_store_job_create) and reply `submit_ok`.
    When Plex is not configured, unreachable or answers errors, every track
    is queued and the reply says why (library_checked false, library_note).

    sp_analyzer_login() keeps the tokens of `soulpipe login spotify`.

    Threads: one sp_analyzer_t is shared by every submit thread; the library
    cache and the Spotify token state inside it are guarded by mutexes. Each
    call takes the caller's own sp_store_t (one per thread).
*/
#ifndef SOULPIPE_ANALYZER_H
#define SOULPIPE_ANALYZER_H

#include "soulpipe/config.h"
#include "soulpipe/events.h"
#include "soulpipe/msg.h"
#include "soulpipe/store.h"

#include <stddef.h>

typedef struct _sp_analyzer_t sp_analyzer_t;

/*  Shared state for all submissions (config, library index cache, Spotify
    token state). cfg and events are borrowed and must outlive the analyzer;
    events may be NULL. Returns NULL with a reason in err (n bytes) on
    failure. Caller owns the result (sp_analyzer_destroy). */
sp_analyzer_t *sp_analyzer_new (const sp_config_t *cfg, sp_events_t *events, char *err, size_t n);

/*  Free the analyzer. Accepts NULL; nulls *self_p. No submit may be running. */
void sp_analyzer_destroy (sp_analyzer_t **self_p);

/*  Handle one `submit` request (source, name?, content?) and fill *reply (a
    zeroed stack message; heap strings; the caller calls sp_msg_clear) with
    `submit_ok` {job, name, total, skipped, queued, library_checked,
    library_note?, notes?} or `error` {code, message}. Error codes:
    bad_request, bad_source, empty_list, spotify_login_required,
    spotify_forbidden, spotify_not_found, spotify_unavailable, store,
    internal. Returns 0 when *reply is filled (either type), -1 only when even
    the reply could not be built (out of memory). Thread-safe. */
int sp_analyzer_submit (sp_analyzer_t *self, sp_store_t *store, const sp_msg_t *request,
                        sp_msg_t *reply);

/*  Handle a `login` request: store the refresh token (and the access token
    with its expiry) in Redis, reply `ok` or `error` {code, message}.
    Returns 0 when *reply is filled, -1 on out of memory. Thread-safe. */
int sp_analyzer_login (sp_analyzer_t *self, sp_store_t *store, const sp_msg_t *request,
                       sp_msg_t *reply);

#endif
