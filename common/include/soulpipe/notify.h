/*  notify.h: notifications to the user's endpoints (SOULPIPE_NOTIFY_URL),
    sent from a queue so that a slow or dead endpoint never slows the
    pipeline.

    Endpoints, one or more, comma-separated:
      http://host[:port]/path, https://...   a JSON POST of the event as it
                                             is given (Content-Type:
                                             application/json)
      ntfy://host[:port]/topic               ntfy: a plain-text POST to
                                             https://host[:port]/topic
      ntfy+http://host[:port]/topic          the same over plain http (a
                                             local ntfy server)
    A user:password@ in the URL is sent as basic authentication (ntfy
    access control); it, the path and the query are never logged: logs name
    an endpoint as scheme://host[:port]/... only.

    Delivery: one thread and one bounded queue per endpoint (an endpoint
    that hangs delays only itself). Each event is tried up to 1 + retries
    times, each try bounded by timeout_ms, with a backoff doubling from
    backoff_ms (capped at S_BACKOFF_MAX_MS) between tries; 4xx answers
    other than 408/429 are not retried. A full queue drops its oldest
    event. Failures and drops are logged at most once per log_interval_ms
    per endpoint (the next line says how many were not logged).
    sp_notify_send only copies the event onto the queues and returns.

    Events (the JSON the caller builds; this module renders the ntfy text):
      {"event": "job_finished", "job": id, "source": url, "name": playlist,
       "state": "done" | "cancelled",
       "counts": {"total", "skipped", "done", "failed", "cancelled"},
       "failed": [{"artist", "title", "reason"}], "failed_more": N}

    Threads: sp_notify_send is thread-safe; one sp_notify_t per process is
    enough.
*/
#ifndef SOULPIPE_NOTIFY_H
#define SOULPIPE_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _sp_notify_t sp_notify_t;

typedef enum {
    SP_NOTIFY_JSON = 0,  //  http(s)://: the event as JSON
    SP_NOTIFY_NTFY       //  ntfy:// or ntfy+http://: plain text
} sp_notify_kind_t;

typedef struct {
    const char *urls;        //  SOULPIPE_NOTIFY_URL (borrowed for sp_notify_new)
    int timeout_ms;          //  per try, whole request (default 10000)
    int connect_timeout_ms;  //  per try (default 3000, at most timeout_ms)
    int retries;             //  tries after the first (0 = none; < 0 = default 3)
    int backoff_ms;          //  first pause between tries (default 1000)
    int queue_max;           //  events waiting per endpoint (default 1000)
    int log_interval_ms;     //  at most one failure line per endpoint this often
                             //  (default 60000)
    int drain_ms;            //  sp_notify_destroy: how long queued events may
                             //  still be sent (default 2000)
} sp_notify_opts_t;

/*  One endpoint of a SOULPIPE_NOTIFY_URL value parsed: its kind, the URL
    actually POSTed to and the display form for logs
    ("https://ntfy.sh/..."). Pure (no I/O). Returns 0, or -1 with a reason
    in err that does not repeat the URL's secret parts. */
int sp_notify_parse_url (const char *url, sp_notify_kind_t *kind, char *target, size_t target_size,
                         char *display, size_t display_size, char *err, size_t err_size);

/*  The ntfy text of an event: its first line (the title: "soulpipe:
    <name> finished") in *title (caller frees), the message returned
    (caller frees): counts, then one line per failed track "- Artist -
    Title: reason". Control characters from the event become spaces. NULL
    on out of memory (then *title is NULL too). */
char *sp_notify_text (const json_t *event, char **title);

/*  Start the notifier: one thread per endpoint of opts->urls. With no
    endpoint (NULL or "" or only commas) returns NULL and err "" (nothing
    to do; sp_notify_send accepts NULL). On a bad URL returns NULL with a
    one-line err naming SOULPIPE_NOTIFY_URL. Caller owns the result. */
sp_notify_t *sp_notify_new (const sp_notify_opts_t *opts, char *err, size_t err_size);

/*  Give queued events up to drain_ms, then stop the threads (a try in
    progress is bounded by timeout_ms) and free. Accepts NULL; nulls
    *self_p. */
void sp_notify_destroy (sp_notify_t **self_p);

/*  Queue a copy of event for every endpoint (event is borrowed). Never
    waits on the network. Returns 0, or -1 (self NULL, out of memory).
    A full queue drops its oldest event and still returns 0. */
int sp_notify_send (sp_notify_t *self, const json_t *event);

/*  Counters (tests, diagnostics): events delivered (2xx), given up on
    (every try failed, or dropped from a full queue), over all endpoints. */
typedef struct {
    size_t delivered, failed, dropped;
} sp_notify_stats_t;
void sp_notify_stats (sp_notify_t *self, sp_notify_stats_t *out);

#endif
