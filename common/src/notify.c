/*  notify.c: notifications to the user's endpoints (see notify.h): the URL
    parser and the ntfy text (no I/O), then the endpoint threads that POST
    queued events with retries, a timeout and rate-limited failure logs.

    Each endpoint has its own thread, queue and sp_http_t (one client per
    thread, as http.h asks), all guarded by the notifier's one mutex; the
    condition variable wakes a thread for a new event, at stop, and ends a
    backoff pause early at stop.
*/
#include "soulpipe/notify.h"

#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_TIMEOUT_MS      10000  //  default per try
#define S_CONNECT_MS      3000   //  default connect timeout
#define S_RETRIES         3      //  default tries after the first
#define S_BACKOFF_MS      1000   //  default first pause between tries
#define S_BACKOFF_MAX_MS  60000  //  pause cap
#define S_QUEUE_MAX       1000   //  default events waiting per endpoint
#define S_LOG_INTERVAL_MS 60000  //  default: one failure line per endpoint per minute
#define S_DRAIN_MS        2000   //  default: sp_notify_destroy lets queued events go
#define S_MAX_RESPONSE    65536  //  an endpoint's answer is read, then dropped
#define S_URL_MAX         2048   //  longest endpoint URL
#define S_DISPLAY_MAX     160    //  "scheme://host:port/..."
#define S_MAX_ENDPOINTS   16

// ------------------------------------------------------------ URLs (no I/O)

int
sp_notify_parse_url (const char *url, sp_notify_kind_t *kind, char *target, size_t target_size,
                     char *display, size_t display_size, char *err, size_t err_size)
{
    static const struct {
        const char *prefix;  //  as the user writes it
        const char *scheme;  //  what is POSTed to
        sp_notify_kind_t kind;
    } s_schemes[] = {
        {"http://", "http://", SP_NOTIFY_JSON},      {"https://", "https://", SP_NOTIFY_JSON},
        {"ntfy://", "https://", SP_NOTIFY_NTFY},     {"ntfy+https://", "https://", SP_NOTIFY_NTFY},
        {"ntfy+http://", "http://", SP_NOTIFY_NTFY},
    };
    if (!url || !*url) {
        snprintf (err, err_size, "an empty endpoint");
        return -1;
    }
    size_t s = 0;
    for (; s < sizeof s_schemes / sizeof s_schemes[0]; s++)
        if (strncmp (url, s_schemes[s].prefix, strlen (s_schemes[s].prefix)) == 0)
            break;
    if (s == sizeof s_schemes / sizeof s_schemes[0]) {
        size_t sl = strcspn (url, ":");
        snprintf (err, err_size,
                  "an endpoint with scheme \"%.*s\": want http://, https://, ntfy:// or "
                  "ntfy+http://",
                  (int) (sl < 16 ? sl : 16), url);
        return -1;
    }
    const char *rest = url + strlen (s_schemes[s].prefix);
    for (const char *c = url; *c; c++)
        if ((unsigned char) *c <= 0x20 || *c == 0x7f) {
            snprintf (err, err_size, "an endpoint (%s...) with a space or control character",
                      s_schemes[s].prefix);
            return -1;
        }
    size_t auth_len = strcspn (rest, "/?#");
    const char *host = rest;
    const char *at = memchr (rest, '@', auth_len);
    if (at)
        host = at + 1;
    size_t host_len = auth_len - (size_t) (host - rest);
    if (host_len == 0 || host_len >= S_DISPLAY_MAX - 32) {
        snprintf (err, err_size, "an endpoint (%s...) without a host", s_schemes[s].prefix);
        return -1;
    }
    const char *path = rest + auth_len;
    if (s_schemes[s].kind == SP_NOTIFY_NTFY && (path[0] != '/' || !path[1] || path[1] == '?')) {
        snprintf (err, err_size, "an ntfy endpoint (%s%.*s/...) without a topic",
                  s_schemes[s].prefix, (int) host_len, host);
        return -1;
    }
    int tn = snprintf (target, target_size, "%s%s", s_schemes[s].scheme, rest);
    if (tn < 0 || (size_t) tn >= target_size || strlen (url) >= S_URL_MAX) {
        snprintf (err, err_size, "an endpoint (%s%.*s/...) longer than %d bytes",
                  s_schemes[s].prefix, (int) host_len, host, S_URL_MAX - 1);
        return -1;
    }
    snprintf (display, display_size, "%s%.*s%s", s_schemes[s].prefix, (int) host_len, host,
              *path ? "/..." : "");
    *kind = s_schemes[s].kind;
    return 0;
}

// ------------------------------------------------------------ ntfy text (no I/O)

typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} s_buf_t;

//  Append text, its control characters as spaces (an event's names come
//  from outside and must not break the message's lines).
static void
s_put (s_buf_t *b, const char *text, bool clean)
{
    if (b->oom || !text)
        return;
    size_t n = strlen (text);
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *s = realloc (b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) text[i];
        b->s[b->len++] = clean && (c < 0x20 || c == 0x7f) ? ' ' : (char) c;
    }
    b->s[b->len] = '\0';
}

//  Append before, the number v, then after.
static void
s_putn (s_buf_t *b, const char *before, long long v, const char *after)
{
    char num[32];
    snprintf (num, sizeof num, "%lld", v);
    s_put (b, before, false);
    s_put (b, num, false);
    s_put (b, after, false);
}

static const char *
s_jstr (const json_t *o, const char *k, const char *def)
{
    const char *v = json_string_value (json_object_get (o, k));
    return v && *v ? v : def;
}

static long long
s_jint (const json_t *o, const char *k)
{
    return (long long) json_integer_value (json_object_get (o, k));
}

char *
sp_notify_text (const json_t *event, char **title)
{
    *title = NULL;
    const char *name = s_jstr (event, "name", "a playlist");
    bool cancelled = strcmp (s_jstr (event, "state", ""), "cancelled") == 0;
    s_buf_t t = {0}, b = {0};
    s_put (&t, "soulpipe: ", false);
    s_put (&t, name, true);
    s_put (&t, cancelled ? " cancelled" : " finished", false);

    const json_t *c = json_object_get (event, "counts");
    s_put (&b, name, true);
    s_putn (&b, ": ", s_jint (c, "done"), " downloaded");
    s_putn (&b, ", ", s_jint (c, "skipped"), " already there");
    s_putn (&b, ", ", s_jint (c, "failed"), " failed");
    if (s_jint (c, "cancelled") > 0)
        s_putn (&b, ", ", s_jint (c, "cancelled"), " cancelled");
    s_putn (&b, " (", s_jint (c, "total"), " tracks)\n");
    const json_t *failed = json_object_get (event, "failed");
    if (json_array_size (failed) > 0)
        s_put (&b, "Failed:\n", false);
    size_t i;
    const json_t *f;
    json_array_foreach (failed, i, f)
    {
        s_put (&b, "- ", false);
        s_put (&b, s_jstr (f, "artist", "?"), true);
        s_put (&b, " - ", false);
        s_put (&b, s_jstr (f, "title", "?"), true);
        s_put (&b, ": ", false);
        s_put (&b, s_jstr (f, "reason", "failed"), true);
        s_put (&b, "\n", false);
    }
    if (s_jint (event, "failed_more") > 0)
        s_putn (&b, "... and ", s_jint (event, "failed_more"), " more\n");
    if (t.oom || b.oom || !t.s || !b.s) {
        free (t.s);
        free (b.s);
        return NULL;
    }
    *title = t.s;
    return b.s;
}

// ------------------------------------------------------------ the notifier

typedef struct s_event_t {
    char *body;      //  what is POSTed
    char *title;     //  ntfy Title header (NULL = none)
    int64_t queued;  //  monotonic ms, for the log
    struct s_event_t *next;
} s_event_t;

typedef struct {
    sp_notify_t *owner;           //  the notifier (its lock guards the fields below)
    sp_notify_kind_t kind;        //  JSON or ntfy
    char *target;                 //  the URL POSTed to (holds secrets: never logged)
    char display[S_DISPLAY_MAX];  //  scheme://host[:port]/... for the logs
    pthread_t thread;             //  this endpoint's sender
    bool started;                 //  thread was created
    s_event_t *head, *tail;       //  the queue, oldest first
    size_t count;                 //  events in it
    int64_t last_log_ms;          //  last failure line (monotonic; 0 = never)
    size_t unlogged;              //  failures since that were not logged
} s_endpoint_t;

struct _sp_notify_t {
    pthread_mutex_t lock;    //  guards everything below and the endpoints' queues
    pthread_cond_t cond;     //  new event, or stopping
    bool stopping;           //  sp_notify_destroy began
    int64_t drain_deadline;  //  monotonic ms after which queued events are dropped
    s_endpoint_t eps[S_MAX_ENDPOINTS];
    size_t n_eps;
    sp_notify_opts_t o;       //  with defaults filled in
    sp_notify_stats_t stats;  //  over every endpoint
};

static void
s_event_free (s_event_t *e)
{
    if (e) {
        free (e->body);
        free (e->title);
        free (e);
    }
}

//  A failure of ep, logged at most once per log interval. Lock held.
static void
s_log_failure (s_endpoint_t *ep, const char *what, const char *error, long status, int tries)
{
    sp_notify_t *self = ep->owner;
    int64_t now = sp_clock_mono_ms ();
    if (ep->last_log_ms && now - ep->last_log_ms < self->o.log_interval_ms) {
        ep->unlogged++;
        return;
    }
    sp_log_warn ("event=notify_failed endpoint=%s what=%s error=%s status=%ld tries=%d "
                 "unlogged=%zu",
                 sp_log_q (ep->display), what, sp_log_q (error), status, tries, ep->unlogged);
    ep->last_log_ms = now;
    ep->unlogged = 0;
}

//  Wait until ms passed or the notifier stops past its drain deadline.
//  Lock held. Returns false when the wait was cut short that way.
static bool
s_pause (sp_notify_t *self, int ms)
{
    int64_t until = sp_clock_mono_ms () + ms;
    for (;;) {
        int64_t now = sp_clock_mono_ms ();
        if (self->stopping && now >= self->drain_deadline)
            return false;
        if (now >= until)
            return true;
        int64_t wake =
            self->stopping && self->drain_deadline < until ? self->drain_deadline : until;
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        int64_t ns = (int64_t) ts.tv_nsec + (wake - now) * 1000000;
        ts.tv_sec += (time_t) (ns / 1000000000);
        ts.tv_nsec = (long) (ns % 1000000000);
        pthread_cond_timedwait (&self->cond, &self->lock, &ts);
    }
}

//  One try. Returns 1 delivered, 0 worth another try, -1 not worth one;
//  *error and *status say what happened.
static int
s_try (s_endpoint_t *ep, sp_http_t *http, const s_event_t *ev, const char **error, long *status)
{
    char title[600];
    const char *hdrs[2] = {NULL, NULL};
    if (ev->title) {
        snprintf (title, sizeof title, "Title: %s", ev->title);
        hdrs[0] = title;
    }
    sp_http_req_t req = {
        .body = ev->body,
        .body_len = strlen (ev->body),
        .content_type =
            ep->kind == SP_NOTIFY_JSON ? "application/json" : "text/plain; charset=utf-8",
        .headers = hdrs,
        .allow_text = true,
    };
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_request (http, SP_HTTP_POST, ep->target, &req, &resp);
    *status = resp ? resp->status : 0;
    sp_http_resp_destroy (&resp);
    *error = sp_http_err_name (rc);
    if (rc == SP_HTTP_OK && *status >= 200 && *status < 300)
        return 1;
    if (rc == SP_HTTP_OK) {
        *error = "redirect (not followed)";
        return -1;
    }
    if (rc == SP_HTTP_ERR_CLIENT && *status != 408)
        return -1;
    return sp_http_err_retryable (rc) ? 0 : -1;
}

//  ntfy wants a header it can read: the title only when it is printable
//  ASCII (the message's first line names the playlist anyway).
static char *
s_header_title (char *title)
{
    for (const char *c = title; c && *c; c++)
        if ((unsigned char) *c < 0x20 || (unsigned char) *c > 0x7e) {
            free (title);
            return strdup ("soulpipe");
        }
    return title;
}

static void *
s_sender (void *arg)
{
    s_endpoint_t *ep = arg;
    sp_notify_t *self = ep->owner;
    sp_http_t *http = sp_http_new (NULL);
    if (http) {
        sp_http_set_timeouts (http, self->o.connect_timeout_ms, self->o.timeout_ms);
        sp_http_set_retries (http, 0, self->o.backoff_ms, S_BACKOFF_MAX_MS);
        sp_http_set_return_429 (http, true);
        sp_http_set_follow_redirects (http, false);
        sp_http_set_max_response (http, S_MAX_RESPONSE);
        sp_http_set_hide_path (http, true);
        sp_http_set_header (http, "Accept", NULL);
        sp_http_set_header (http, "User-Agent", "soulpipe/" SOULPIPE_VERSION);
    }
    pthread_mutex_lock (&self->lock);
    for (;;) {
        while (!ep->head && !self->stopping)
            pthread_cond_wait (&self->cond, &self->lock);
        if (!ep->head)
            break;
        if (self->stopping && sp_clock_mono_ms () >= self->drain_deadline)
            break;
        s_event_t *ev = ep->head;
        ep->head = ev->next;
        if (!ep->head)
            ep->tail = NULL;
        ep->count--;
        int result = -1, tries = 0;
        const char *error = "out of memory";
        long status = 0;
        int pause = self->o.backoff_ms;
        while (http) {
            tries++;
            pthread_mutex_unlock (&self->lock);
            int64_t t0 = sp_clock_mono_ms ();
            result = s_try (ep, http, ev, &error, &status);
            long long ms = (long long) (sp_clock_mono_ms () - t0);
            pthread_mutex_lock (&self->lock);
            if (result == 1)
                sp_log_info ("event=notify_sent endpoint=%s status=%ld tries=%d ms=%lld "
                             "waited_ms=%lld",
                             sp_log_q (ep->display), status, tries, ms,
                             (long long) (t0 - ev->queued));
            if (result != 0 || tries > self->o.retries)
                break;
            if (!s_pause (self, pause))
                break;
            pause = pause * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : pause * 2;
        }
        if (result == 1)
            self->stats.delivered++;
        else {
            self->stats.failed++;
            s_log_failure (ep, "gave_up", error, status, tries);
        }
        s_event_free (ev);
    }
    //  what is left at the deadline is dropped
    while (ep->head) {
        s_event_t *ev = ep->head;
        ep->head = ev->next;
        s_event_free (ev);
        self->stats.dropped++;
    }
    ep->tail = NULL;
    ep->count = 0;
    pthread_mutex_unlock (&self->lock);
    sp_http_destroy (&http);
    return NULL;
}

static int
s_default (int v, int def)
{
    return v > 0 ? v : def;
}

sp_notify_t *
sp_notify_new (const sp_notify_opts_t *opts, char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!opts || !opts->urls || !opts->urls[strspn (opts->urls, " ,")])
        return NULL;
    sp_notify_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->o = *opts;
    self->o.urls = NULL;
    self->o.timeout_ms = s_default (opts->timeout_ms, S_TIMEOUT_MS);
    self->o.connect_timeout_ms = s_default (opts->connect_timeout_ms, S_CONNECT_MS);
    if (self->o.connect_timeout_ms > self->o.timeout_ms)
        self->o.connect_timeout_ms = self->o.timeout_ms;
    self->o.retries = opts->retries >= 0 ? opts->retries : S_RETRIES;
    self->o.backoff_ms = s_default (opts->backoff_ms, S_BACKOFF_MS);
    self->o.queue_max = s_default (opts->queue_max, S_QUEUE_MAX);
    self->o.log_interval_ms = s_default (opts->log_interval_ms, S_LOG_INTERVAL_MS);
    self->o.drain_ms = s_default (opts->drain_ms, S_DRAIN_MS);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->cond, NULL);
    //  parse every endpoint before starting any thread
    const char *p = opts->urls;
    size_t index = 0;
    while (*p) {
        size_t len = strcspn (p, ",");
        const char *next = p[len] ? p + len + 1 : p + len;
        while (len && *p == ' ')
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        if (len == 0) {
            p = next;
            continue;
        }
        index++;
        char url[S_URL_MAX], why[256] = "";
        s_endpoint_t *ep = &self->eps[self->n_eps];
        char target[S_URL_MAX + 8];
        sp_notify_kind_t kind = SP_NOTIFY_JSON;
        if (self->n_eps == S_MAX_ENDPOINTS)
            snprintf (why, sizeof why, "more than %d endpoints", S_MAX_ENDPOINTS);
        else if (len >= sizeof url)
            snprintf (why, sizeof why, "an endpoint longer than %zu bytes", sizeof url - 1);
        else {
            memcpy (url, p, len);
            url[len] = '\0';
            sp_notify_parse_url (url, &kind, target, sizeof target, ep->display, sizeof ep->display,
                                 why, sizeof why);
        }
        if (*why) {
            snprintf (err, err_size, "SOULPIPE_NOTIFY_URL: endpoint %zu: %s", index, why);
            goto fail;
        }
        ep->owner = self;
        ep->kind = kind;
        ep->target = strdup (target);
        if (!ep->target) {
            snprintf (err, err_size, "out of memory");
            goto fail;
        }
        self->n_eps++;
        p = next;
    }
    for (size_t i = 0; i < self->n_eps; i++) {
        int rc = pthread_create (&self->eps[i].thread, NULL, s_sender, &self->eps[i]);
        if (rc != 0) {
            snprintf (err, err_size, "cannot start a notification thread: %s", strerror (rc));
            goto fail;
        }
        self->eps[i].started = true;
    }
    for (size_t i = 0; i < self->n_eps; i++)
        sp_log_info ("event=notify_endpoint endpoint=%s kind=%s", sp_log_q (self->eps[i].display),
                     self->eps[i].kind == SP_NOTIFY_NTFY ? "ntfy" : "json");
    return self;
fail:
    self->o.drain_ms = 1;
    sp_notify_destroy (&self);
    return NULL;
}

void
sp_notify_destroy (sp_notify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_notify_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stopping = true;
    self->drain_deadline = sp_clock_mono_ms () + self->o.drain_ms;
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    for (size_t i = 0; i < self->n_eps; i++) {
        s_endpoint_t *ep = &self->eps[i];
        if (ep->started)
            pthread_join (ep->thread, NULL);
        while (ep->head) {
            s_event_t *ev = ep->head;
            ep->head = ev->next;
            s_event_free (ev);
        }
        free (ep->target);
    }
    pthread_cond_destroy (&self->cond);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
sp_notify_send (sp_notify_t *self, const json_t *event)
{
    if (!self || !event)
        return -1;
    //  render outside the lock: one JSON text, one ntfy text
    char *json = NULL, *text = NULL, *title = NULL;
    bool want_json = false, want_ntfy = false;
    for (size_t i = 0; i < self->n_eps; i++)
        if (self->eps[i].kind == SP_NOTIFY_NTFY)
            want_ntfy = true;
        else
            want_json = true;
    if (want_json && !(json = json_dumps (event, JSON_COMPACT)))
        return -1;
    if (want_ntfy) {
        text = sp_notify_text (event, &title);
        if (!text) {
            free (json);
            return -1;
        }
        title = s_header_title (title);
    }
    int rc = 0;
    int64_t now = sp_clock_mono_ms ();
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n_eps && !self->stopping; i++) {
        s_endpoint_t *ep = &self->eps[i];
        s_event_t *ev = calloc (1, sizeof *ev);
        if (ev) {
            const char *src = ep->kind == SP_NOTIFY_NTFY ? text : json;
            ev->body = src ? strdup (src) : NULL;
            ev->title = ep->kind == SP_NOTIFY_NTFY && title ? strdup (title) : NULL;
            ev->queued = now;
        }
        if (!ev || !ev->body || (ep->kind == SP_NOTIFY_NTFY && title && !ev->title)) {
            s_event_free (ev);
            rc = -1;
            continue;
        }
        if (ep->count >= (size_t) self->o.queue_max) {
            s_event_t *old = ep->head;
            ep->head = old->next;
            if (!ep->head)
                ep->tail = NULL;
            ep->count--;
            s_event_free (old);
            self->stats.dropped++;
            s_log_failure (ep, "dropped_oldest", "queue_full", 0, 0);
        }
        if (ep->tail)
            ep->tail->next = ev;
        else
            ep->head = ev;
        ep->tail = ev;
        ep->count++;
    }
    pthread_cond_broadcast (&self->cond);
    pthread_mutex_unlock (&self->lock);
    free (json);
    free (text);
    free (title);
    return rc;
}

void
sp_notify_stats (sp_notify_t *self, sp_notify_stats_t *out)
{
    memset (out, 0, sizeof *out);
    if (!self)
        return;
    pthread_mutex_lock (&self->lock);
    *out = self->stats;
    pthread_mutex_unlock (&self->lock);
}
