/*  slskd_search.h: one Soulseek search through slskd's HTTP API v0.

    POST /api/v0/searches with our own id and searchTimeout (ms), poll
    GET /api/v0/searches/{id} until isComplete (responses are empty before
    that), cancel early with PUT once enough users answered (or at our own
    deadline), read /responses (again, with a back-off, while it has fewer
    than the completed search's responseCount: slskd stores them after it
    says isComplete), DELETE the search. slskd answers 429 while
    another search POST is in flight: POSTs from this process are
    serialized by a mutex, and a 429 (another process) is retried after a
    short back-off.
*/
#ifndef SOULPIPE_SLSKD_SEARCH_H
#define SOULPIPE_SLSKD_SEARCH_H

#include "soulpipe/http.h"

#include <jansson.h>
#include <stdbool.h>

#define SP_SLSKD_OK          0
#define SP_SLSKD_ERR_RETRY   -1 /* slskd down, not logged in, 5xx, 429 for too long */
#define SP_SLSKD_ERR_FATAL   -2 /* 4xx: our request is wrong */
#define SP_SLSKD_ERR_STOPPED -3 /* the stop callback asked to stop */

#define SP_SLSKD_POLL_MS 500 /* between search polls (at most) */
#define SP_SLSKD_POLL_MIN_MS                                                                       \
    2                                           /* first poll interval after the POST (a search
                                             that ends at once: ~5 ms, not 10+; a 6 s
                                             search costs ~7 more local GETs) */
#define SP_SLSKD_ENOUGH_RESPONSES         60    /* users answering: cancel early */
#define SP_SLSKD_EARLY_MIN_MS             1500  /* never cancel before this */
#define SP_SLSKD_GRACE_MS                 10000 /* past searchTimeout: our deadline */
#define SP_SLSKD_429_MAX_MS               60000 /* give up retrying a 429 POST after */
#define SP_SLSKD_RESPONSES_WAIT_MS        10000 /* re-read short /responses this long */
#define SP_SLSKD_RESPONSES_BACKOFF_MS     100   /* first re-read of /responses */
#define SP_SLSKD_RESPONSES_BACKOFF_MAX_MS 1000  /* re-read interval grows to this */

/*  A client for base_url with the API key (may be NULL/empty). Caller owns
    it (sp_http_destroy). NULL on failure. */
sp_http_t *sp_slskd_client_new (const char *base_url, const char *api_key);

/*  GET /api/v0/server. Returns 1 logged in, 0 connected but not logged in
    (err says so), or SP_SLSKD_ERR_* (err says why). */
int sp_slskd_logged_in (sp_http_t *http, char *err, size_t n);

/*  Called between polls; return true to stop (the search is cancelled). */
typedef bool (sp_slskd_stop_fn) (void *arg);

/*  Run one search for text. On SP_SLSKD_OK *responses is the responses
    array (caller owns it, json_decref). Otherwise err holds a reason. */
int sp_slskd_search (sp_http_t *http, const char *text, int timeout_ms, sp_slskd_stop_fn *stop,
                     void *arg, json_t **responses, char *err, size_t n);

#endif
