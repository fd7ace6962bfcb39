/*  store.c: the Redis job store (see store.h for the data model).

    Every state change is one Lua script (store_lua.h), run with EVALSHA and
    falling back to EVAL on NOSCRIPT. All commands go through s_exec, which
    owns the connection: it (re)connects, re-AUTHs, re-SELECTs, restores the
    read timeout (hiredis 0.14 drops it on reconnect; we simply open a new
    context) and re-loads the scripts, and resends a command whose outcome
    is unknown, with exponential backoff, until the retry budget is spent.
    The scripts are written so that a resend is harmless (see store.h).
*/
#include "soulpipe/store.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"
#include "store_lua.h"

#include <hiredis/hiredis.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define S_RETRY_FIRST_MS 50   /* first wait before a reconnect, ms */
#define S_RETRY_MAX_MS   2000 /* longest wait between reconnects, ms */
#define S_CHUNK_TRACKS   256  /* tracks per job_add script call */
#define S_PAGE           256  /* tracks per page when iterating */
#define S_REAP_LIMIT     1000 /* expired leases handled per stage per call */
#define S_ID_LEN_MAX     200  /* longest task id, track key or owner */
#define S_CHANGE_FIELDS  14   /* entries in one change record */

/* ---------------------------------------------------------------- scripts */

enum {
    S_JOB_INIT,
    S_JOB_ADD,
    S_JOB_SEAL,
    S_TAKE,
    S_EXTEND,
    S_COMPLETE,
    S_FAIL,
    S_REAP,
    S_CANCEL,
    S_RETRY,
    S_SET_FIELD,
    S_CHECK,
    S_TRACKS_PAGE,
    S_JOBS_PAGE,
    S_SCRIPT_COUNT
};

static const char *const s_script_body[S_SCRIPT_COUNT] = {
    s_lua_job_init,  s_lua_job_add, s_lua_job_seal,    s_lua_take,     s_lua_extend,
    s_lua_complete,  s_lua_fail,    s_lua_reap,        s_lua_cancel,   s_lua_retry,
    s_lua_set_field, s_lua_check,   s_lua_tracks_page, s_lua_jobs_page};

static const char *const s_script_name[S_SCRIPT_COUNT] = {
    "job_init", "job_add", "job_seal", "take",      "extend", "complete",    "fail",
    "reap",     "cancel",  "retry",    "set_field", "check",  "tracks_page", "jobs_page"};

/* ---------------------------------------------------------------- object */

struct _sp_store_t {
    redisContext *ctx;             /* live connection, NULL when down */
    char *host;                    /* TCP host (NULL for a unix socket) */
    int port;                      /* TCP port */
    char *unix_path;               /* unix socket path, or NULL */
    char *user;                    /* ACL user, or NULL */
    char *password;                /* password, or NULL; never logged */
    int db;                        /* SELECTed database */
    int timeout_ms;                /* connect and read timeout */
    int retry_ms;                  /* reconnect budget per call */
    char *src[S_SCRIPT_COUNT];     /* prelude + body of each script */
    char sha[S_SCRIPT_COUNT][41];  /* SHA1 from SCRIPT LOAD */
    bool was_down;                 /* a call had to reconnect (for logging) */
    sp_store_change_fn *change_fn; /* change handler, or NULL */
    void *change_arg;              /* its argument */
    char req_prefix[24];           /* random per store, for take request ids */
    uint64_t req_seq;              /* take request counter */
    char where[128];               /* host:port/db or socket, for messages */
};

/* ---------------------------------------------------------------- helpers */

static int64_t
s_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_sleep_ms (int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR) {
    }
}

static uint64_t
s_random64 (void)
{
    uint64_t v = 0;
    if (getrandom (&v, sizeof v, 0) != (ssize_t) sizeof v) {
        struct timespec ts;
        clock_gettime (CLOCK_REALTIME, &ts);
        v = ((uint64_t) ts.tv_nsec << 20) ^ (uint64_t) ts.tv_sec ^ ((uint64_t) getpid () << 40);
    }
    return v;
}

static void
s_base36 (uint64_t v, char *out, size_t n)
{
    char tmp[16];
    size_t len = 0;
    do {
        tmp[len++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v && len < sizeof tmp);
    size_t i = 0;
    for (; i < len && i + 1 < n; i++)
        out[i] = tmp[len - 1 - i];
    out[i] = '\0';
}

static char *
s_strdup_n (const char *s, size_t len)
{
    char *p = malloc (len + 1);
    if (p) {
        if (len)
            memcpy (p, s, len);
        p[len] = '\0';
    }
    return p;
}

static void s_set_err (char *err, size_t n, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_set_err (char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, n, fmt, ap);
    va_end (ap);
}

/*  Ids become part of Redis key names: keep them to a safe alphabet. */
static bool
s_valid_id (const char *s)
{
    if (!s || !*s)
        return false;
    size_t len = 0;
    for (const char *p = s; *p; p++, len++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '-' || c == '_' || c == '.';
        if (!ok || len >= S_ID_LEN_MAX)
            return false;
    }
    return true;
}

static bool
s_transient (const char *msg)
{
    static const char *const prefixes[] = {"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN",
                                           "CLUSTERDOWN"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp (msg, prefixes[i], strlen (prefixes[i])) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- replies */

/*  String view of an array element (strings, status and integers; "" for
    anything else). Integers are formatted into buf. */
static const char *
s_elem_str (const redisReply *r, size_t i, size_t *len, char buf[32])
{
    static const char empty[] = "";
    if (len)
        *len = 0;
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return empty;
    const redisReply *e = r->element[i];
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS) {
        if (len)
            *len = e->len;
        return e->str;
    }
    if (e->type == REDIS_REPLY_INTEGER && buf) {
        int k = snprintf (buf, 32, "%lld", e->integer);
        if (len)
            *len = (size_t) k;
        return buf;
    }
    return empty;
}

static int64_t
s_parse_i64 (const char *s)
{
    if (!s || !*s)
        return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll (s, &end, 10);
    if (errno || end == s)
        return 0;
    return (int64_t) v;
}

static int64_t
s_elem_i64 (const redisReply *r, size_t i)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return 0;
    const redisReply *e = r->element[i];
    if (e->type == REDIS_REPLY_INTEGER)
        return e->integer;
    if (e->type == REDIS_REPLY_STRING)
        return s_parse_i64 (e->str);
    return 0;
}

/* ---------------------------------------------------------------- connection */

static void
s_disconnect (sp_store_t *self)
{
    if (self->ctx) {
        redisFree (self->ctx);
        self->ctx = NULL;
    }
}

/*  Run one command on the current context with no retry. Returns the reply
    or NULL (connection error: the context is dropped). */
static redisReply *
s_raw (sp_store_t *self, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv (self->ctx, argc, argv, lens);
    if (!r)
        s_disconnect (self);
    return r;
}

/*  Open a fresh connection: connect, timeouts, keepalive, AUTH, SELECT,
    SCRIPT LOAD. Returns 0, -1 for a transient failure (retry), -2 for a
    failure retrying cannot fix (bad password, unknown db, script error). */
static int
s_connect (sp_store_t *self, char *err, size_t n)
{
    s_disconnect (self);
    struct timeval tv = {.tv_sec = self->timeout_ms / 1000,
                         .tv_usec = (self->timeout_ms % 1000) * 1000};
    redisContext *c = self->unix_path ? redisConnectUnixWithTimeout (self->unix_path, tv)
                                      : redisConnectWithTimeout (self->host, self->port, tv);
    if (!c) {
        s_set_err (err, n, "redis %s: out of memory", self->where);
        return -1;
    }
    if (c->err) {
        s_set_err (err, n, "redis %s: %s", self->where, c->errstr);
        redisFree (c);
        return -1;
    }
    redisSetTimeout (c, tv);
    if (!self->unix_path)
        redisEnableKeepAlive (c);
    self->ctx = c;

    redisReply *r;
    if (self->password) {
        const char *argv[3] = {"AUTH", self->user ? self->user : self->password, self->password};
        r = s_raw (self, self->user ? 3 : 2, argv, NULL);
        if (!r)
            goto io_error;
        if (r->type == REDIS_REPLY_ERROR) {
            int rc = s_transient (r->str) ? -1 : -2;
            s_set_err (err, n, "redis %s: AUTH refused: %s", self->where, r->str);
            freeReplyObject (r);
            s_disconnect (self);
            return rc;
        }
        freeReplyObject (r);
    }
    if (self->db) {
        char db[16];
        snprintf (db, sizeof db, "%d", self->db);
        const char *argv[2] = {"SELECT", db};
        r = s_raw (self, 2, argv, NULL);
        if (!r)
            goto io_error;
        if (r->type == REDIS_REPLY_ERROR) {
            int rc = s_transient (r->str) ? -1 : -2;
            s_set_err (err, n, "redis %s: SELECT refused: %s", self->where, r->str);
            freeReplyObject (r);
            s_disconnect (self);
            return rc;
        }
        freeReplyObject (r);
    }
    for (int i = 0; i < S_SCRIPT_COUNT; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", self->src[i]};
        r = s_raw (self, 3, argv, NULL);
        if (!r)
            goto io_error;
        if (r->type != REDIS_REPLY_STRING || r->len != 40) {
            int rc = (r->type == REDIS_REPLY_ERROR && s_transient (r->str)) ? -1 : -2;
            s_set_err (err, n, "redis: SCRIPT LOAD %s: %s", s_script_name[i],
                       r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            freeReplyObject (r);
            s_disconnect (self);
            return rc;
        }
        memcpy (self->sha[i], r->str, 40);
        self->sha[i][40] = '\0';
        freeReplyObject (r);
    }
    return 0;

io_error:
    s_set_err (err, n, "redis %s: connection lost during setup", self->where);
    return -1;
}

/*  Send a command, reconnecting and resending as needed within the retry
    budget. On SP_STORE_OK the caller owns *out (which may be an error reply
    that retrying cannot fix, e.g. NOSCRIPT or a script error). */
static int
s_exec (sp_store_t *self, int argc, const char **argv, const size_t *lens, redisReply **out)
{
    int64_t start = s_mono_ms ();
    int64_t delay = S_RETRY_FIRST_MS;
    char err[512] = "";
    int tries = 0;
    for (;;) {
        tries++;
        int c = 0;
        if (!self->ctx)
            c = s_connect (self, err, sizeof err);
        if (c == -2) {
            sp_log_error ("event=redis_setup_failed err=%s", sp_log_q (err));
            return SP_STORE_EIO;
        }
        if (c == 0) {
            redisReply *r = redisCommandArgv (self->ctx, argc, argv, lens);
            if (!r) {
                snprintf (err, sizeof err, "redis %s: %s", self->where,
                          self->ctx->errstr[0] ? self->ctx->errstr : "connection lost");
                s_disconnect (self);
            } else if (r->type == REDIS_REPLY_ERROR && s_transient (r->str)) {
                snprintf (err, sizeof err, "redis %s: %s", self->where, r->str);
                freeReplyObject (r);
            } else {
                if (self->was_down) {
                    sp_log_info ("event=redis_reconnected where=%s tries=%d", self->where, tries);
                    self->was_down = false;
                }
                *out = r;
                return SP_STORE_OK;
            }
        }
        int64_t elapsed = s_mono_ms () - start;
        if (elapsed >= self->retry_ms) {
            sp_log_error ("event=redis_unavailable err=%s tries=%d elapsed_ms=%" PRId64,
                          sp_log_q (err), tries, elapsed);
            return SP_STORE_EIO;
        }
        if (!self->was_down)
            sp_log_warn ("event=redis_retry err=%s", sp_log_q (err));
        self->was_down = true;
        int64_t wait = delay < self->retry_ms - elapsed ? delay : self->retry_ms - elapsed;
        s_sleep_ms (wait);
        delay = delay * 2 > S_RETRY_MAX_MS ? S_RETRY_MAX_MS : delay * 2;
    }
}

/* ---------------------------------------------------------------- arguments */

/*  An argv under construction for a script call; slots 0..2 are reserved
    for EVALSHA <sha> 0. Numbers are formatted into nums. */
#define S_ARGS_NUMS 8
typedef struct {
    const char **argv;
    size_t *lens;
    int argc;
    int cap;
    char nums[S_ARGS_NUMS][24];
    int nnums;
    bool bad; /* out of memory or of number slots */
} s_args_t;

static void
s_args_init (s_args_t *a, int cap)
{
    memset (a, 0, sizeof *a);
    a->cap = cap + 3;
    a->argv = calloc ((size_t) a->cap, sizeof *a->argv);
    a->lens = calloc ((size_t) a->cap, sizeof *a->lens);
    a->argc = 3;
    if (!a->argv || !a->lens)
        a->bad = true;
}

static void
s_args_free (s_args_t *a)
{
    free (a->argv);
    free (a->lens);
    a->argv = NULL;
    a->lens = NULL;
}

static void
s_argb (s_args_t *a, const void *p, size_t len)
{
    if (a->bad || a->argc >= a->cap) {
        a->bad = true;
        return;
    }
    a->argv[a->argc] = p ? (const char *) p : "";
    a->lens[a->argc] = p ? len : 0;
    a->argc++;
}

static void
s_arg (s_args_t *a, const char *s)
{
    s_argb (a, s ? s : "", s ? strlen (s) : 0);
}

static void
s_argi (s_args_t *a, int64_t v)
{
    if (a->nnums >= S_ARGS_NUMS) {
        a->bad = true;
        return;
    }
    char *buf = a->nums[a->nnums++];
    snprintf (buf, 24, "%" PRId64, v);
    s_arg (a, buf);
}

static void
s_dispatch_changes (sp_store_t *self, const redisReply *list)
{
    if (!self->change_fn || !list || list->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < list->elements; i++) {
        const redisReply *c = list->element[i];
        if (c->type != REDIS_REPLY_ARRAY || c->elements != S_CHANGE_FIELDS)
            continue;
        char b[7][32];
        sp_store_change_t ch = {
            .job_id = s_elem_str (c, 0, NULL, b[0]),
            .track_key = s_elem_str (c, 1, NULL, b[1]),
            .old_state = s_elem_str (c, 2, NULL, b[2]),
            .new_state = s_elem_str (c, 3, NULL, b[3]),
            .stage = s_elem_str (c, 4, NULL, b[4]),
            .attempt = (int) s_elem_i64 (c, 5),
            .reason = s_elem_str (c, 6, NULL, b[5]),
            .job_state = s_elem_str (c, 7, NULL, b[6]),
            .total = s_elem_i64 (c, 8),
            .skipped = s_elem_i64 (c, 9),
            .queued = s_elem_i64 (c, 10),
            .done = s_elem_i64 (c, 11),
            .failed = s_elem_i64 (c, 12),
            .cancelled = s_elem_i64 (c, 13),
        };
        self->change_fn (&ch, self->change_arg);
    }
}

/*  Run a script with the arguments in a (consumed: freed here). Returns the
    script's code mapped to SP_STORE_OK/EMPTY/ESTALE/ENOENT, or a negative
    error. On SP_STORE_OK with reply_p set, the caller owns *reply_p (the
    whole reply: element 1 is the script's data); otherwise it is NULL. Changes are dispatched here. */
static int
s_run (sp_store_t *self, int script, s_args_t *a, redisReply **reply_p)
{
    if (reply_p)
        *reply_p = NULL;
    if (a->bad) {
        s_args_free (a);
        return SP_STORE_ENOMEM;
    }
    a->argv[0] = "EVALSHA";
    a->lens[0] = 7;
    a->argv[1] = self->sha[script];
    a->lens[1] = 40;
    a->argv[2] = "0";
    a->lens[2] = 1;
    redisReply *r = NULL;
    int rc = s_exec (self, a->argc, a->argv, a->lens, &r);
    if (rc == SP_STORE_OK && r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0) {
        /* script cache flushed behind our back: send the source */
        freeReplyObject (r);
        r = NULL;
        a->argv[0] = "EVAL";
        a->lens[0] = 4;
        a->argv[1] = self->src[script];
        a->lens[1] = strlen (self->src[script]);
        rc = s_exec (self, a->argc, a->argv, a->lens, &r);
    }
    s_args_free (a);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_ERROR) {
        sp_log_error ("event=store_script_error script=%s err=%s", s_script_name[script],
                      sp_log_q (r->str));
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        sp_log_error ("event=store_bad_reply script=%s type=%d", s_script_name[script], r->type);
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    s_dispatch_changes (self, r->element[2]);
    switch (r->element[0]->integer) {
        case 0:
            rc = SP_STORE_OK;
            break;
        case 1:
            rc = SP_STORE_EMPTY;
            break;
        case 2:
            rc = SP_STORE_ESTALE;
            break;
        case 3:
            rc = SP_STORE_ENOENT;
            break;
        default:
            rc = SP_STORE_EPROTO;
            break;
    }
    if (reply_p && rc == SP_STORE_OK)
        *reply_p = r;
    else
        freeReplyObject (r);
    return rc;
}

/* ---------------------------------------------------------------- URL */

/*  The one Redis URL parser is the config module's (it also validates
    SOULPIPE_REDIS_URL at start-up); keep what the connection needs. */
static int
s_parse_url (sp_store_t *self, const char *url, char *err, size_t n)
{
    sp_redis_url_t u;
    char why[160];
    if (sp_config_parse_redis_url (url, &u, why, sizeof why) != 0) {
        s_set_err (err, n, "redis url: %s", why);
        return -1;
    }
    int rc = 0;
    if (*u.unix_path) {
        self->unix_path = strdup (u.unix_path);
        rc = self->unix_path ? 0 : -1;
        snprintf (self->where, sizeof self->where, "unix:%s/%d", u.unix_path, u.db);
    } else {
        self->host = strdup (u.host);
        self->port = u.port;
        rc = self->host ? 0 : -1;
        snprintf (self->where, sizeof self->where, "%s:%d/%d", u.host, u.port, u.db);
    }
    self->db = u.db;
    if (*u.user)
        self->user = strdup (u.user);
    if (*u.password)
        self->password = strdup (u.password);
    if ((*u.user && !self->user) || (*u.password && !self->password))
        rc = -1;
    sp_config_redis_url_free (&u);
    return rc;
}

/* ---------------------------------------------------------------- lifecycle */

const char *
sp_store_stage_name (sp_store_stage_t stage)
{
    switch (stage) {
        case SP_STORE_NONE:
            return "none";
        case SP_STORE_SEARCH:
            return "search";
        case SP_STORE_DOWNLOAD:
            return "download";
        case SP_STORE_TAG:
            return "tag";
    }
    return "?";
}

int
sp_store_stage_parse (const char *name, sp_store_stage_t *stage)
{
    if (!name)
        return -1;
    static const sp_store_stage_t all[] = {SP_STORE_SEARCH, SP_STORE_DOWNLOAD, SP_STORE_TAG};
    for (size_t i = 0; i < 3; i++)
        if (strcmp (name, sp_store_stage_name (all[i])) == 0) {
            *stage = all[i];
            return 0;
        }
    return -1;
}

static bool
s_stage_ok (sp_store_stage_t stage)
{
    return stage == SP_STORE_SEARCH || stage == SP_STORE_DOWNLOAD || stage == SP_STORE_TAG;
}

const char *
sp_store_strerror (int rc)
{
    switch (rc) {
        case SP_STORE_OK:
            return "ok";
        case SP_STORE_EMPTY:
            return "nothing ready";
        case SP_STORE_EIO:
            return "redis unavailable";
        case SP_STORE_ESTALE:
            return "stale fence (lease lost or job cancelled)";
        case SP_STORE_ENOENT:
            return "no such job, track or task";
        case SP_STORE_EINVAL:
            return "invalid argument";
        case SP_STORE_EPROTO:
            return "unexpected reply from redis";
        case SP_STORE_EINCONSISTENT:
            return "counters inconsistent";
        case SP_STORE_ENOMEM:
            return "out of memory";
        default:
            return "unknown error";
    }
}

sp_store_t *
sp_store_new (const char *redis_url, char *err, size_t n)
{
    if (err && n)
        err[0] = '\0';
    if (!redis_url) {
        s_set_err (err, n, "redis url missing");
        return NULL;
    }
    sp_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        s_set_err (err, n, "out of memory");
        return NULL;
    }
    self->timeout_ms = SP_STORE_DEFAULT_TIMEOUT_MS;
    self->retry_ms = SP_STORE_DEFAULT_RETRY_MS;
    if (s_parse_url (self, redis_url, err, n) != 0)
        goto fail;
    size_t plen = strlen (s_lua_prelude);
    for (int i = 0; i < S_SCRIPT_COUNT; i++) {
        size_t blen = strlen (s_script_body[i]);
        self->src[i] = malloc (plen + blen + 1);
        if (!self->src[i]) {
            s_set_err (err, n, "out of memory");
            goto fail;
        }
        memcpy (self->src[i], s_lua_prelude, plen);
        memcpy (self->src[i] + plen, s_script_body[i], blen + 1);
    }
    uint64_t r = s_random64 ();
    s_base36 (r, self->req_prefix, sizeof self->req_prefix);

    /* first connection: same retry budget as any call */
    int64_t start = s_mono_ms ();
    int64_t delay = S_RETRY_FIRST_MS;
    for (;;) {
        int c = s_connect (self, err, n);
        if (c == 0)
            break;
        int64_t elapsed = s_mono_ms () - start;
        if (c == -2 || elapsed >= self->retry_ms)
            goto fail;
        s_sleep_ms (delay < self->retry_ms - elapsed ? delay : self->retry_ms - elapsed);
        delay = delay * 2 > S_RETRY_MAX_MS ? S_RETRY_MAX_MS : delay * 2;
    }
    sp_log_debug ("event=store_connected where=%s", self->where);
    return self;

fail:
    sp_store_destroy (&self);
    return NULL;
}

void
sp_store_destroy (sp_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_store_t *self = *self_p;
    s_disconnect (self);
    free (self->host);
    free (self->unix_path);
    free (self->user);
    if (self->password) {
        volatile char *p = self->password;
        while (*p)
            *p++ = 0;
        free (self->password);
    }
    for (int i = 0; i < S_SCRIPT_COUNT; i++)
        free (self->src[i]);
    free (self);
    *self_p = NULL;
}

void
sp_store_set_retry (sp_store_t *self, int total_ms)
{
    if (self)
        self->retry_ms = total_ms < 0 ? 0 : total_ms;
}

void
sp_store_set_timeout (sp_store_t *self, int timeout_ms)
{
    if (!self || timeout_ms <= 0)
        return;
    self->timeout_ms = timeout_ms;
    if (self->ctx) {
        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
        redisSetTimeout (self->ctx, tv);
    }
}

void
sp_store_set_change_handler (sp_store_t *self, sp_store_change_fn *fn, void *arg)
{
    if (!self)
        return;
    self->change_fn = fn;
    self->change_arg = arg;
}

int
sp_store_ping (sp_store_t *self)
{
    if (!self)
        return SP_STORE_EINVAL;
    const char *argv[1] = {"PING"};
    redisReply *r = NULL;
    int rc = s_exec (self, 1, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    rc = (r->type == REDIS_REPLY_STATUS && strcmp (r->str, "PONG") == 0) ? SP_STORE_OK
                                                                         : SP_STORE_EPROTO;
    freeReplyObject (r);
    return rc;
}

/* ---------------------------------------------------------------- jobs */

int
sp_store_job_create (sp_store_t *self, const sp_store_job_spec_t *spec,
                     const sp_store_track_spec_t *tracks, size_t n,
                     char job_id_out[SP_STORE_ID_MAX])
{
    if (!self || !spec || (n && !tracks) || !job_id_out)
        return SP_STORE_EINVAL;
    job_id_out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!tracks[i].skipped && !tracks[i].payload && tracks[i].payload_len)
            return SP_STORE_EINVAL;

    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    char t36[16], r36[16], id[SP_STORE_ID_MAX];
    s_base36 ((uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000, t36, sizeof t36);
    s_base36 (s_random64 (), r36, sizeof r36);
    snprintf (id, sizeof id, "j-%s-%s", t36, r36);

    s_args_t a;
    s_args_init (&a, 5);
    s_arg (&a, id);
    s_arg (&a, spec->source);
    s_arg (&a, spec->name);
    s_arg (&a, spec->library_checked ? "1" : "0");
    s_arg (&a, spec->library_note);
    int rc = s_run (self, S_JOB_INIT, &a, NULL);
    if (rc != SP_STORE_OK)
        return rc;

    for (size_t first = 0; first < n; first += S_CHUNK_TRACKS) {
        size_t cnt = n - first < S_CHUNK_TRACKS ? n - first : S_CHUNK_TRACKS;
        s_args_init (&a, 3 + 7 * (int) cnt);
        s_arg (&a, id);
        s_argi (&a, (int64_t) first);
        s_argi (&a, (int64_t) cnt);
        for (size_t i = first; i < first + cnt; i++) {
            const sp_store_track_spec_t *t = &tracks[i];
            s_arg (&a, t->spotify_id);
            s_arg (&a, t->title);
            s_arg (&a, t->artists);
            s_arg (&a, t->skipped ? "1" : "0");
            s_arg (&a, t->reason);
            s_arg (&a, t->path);
            if (t->skipped)
                s_arg (&a, "");
            else
                s_argb (&a, t->payload, t->payload_len);
        }
        rc = s_run (self, S_JOB_ADD, &a, NULL);
        if (rc != SP_STORE_OK) {
            sp_log_error ("event=job_create_failed job=%s at=%zu rc=%d", id, first, rc);
            return rc;
        }
    }
    s_args_init (&a, 1);
    s_arg (&a, id);
    rc = s_run (self, S_JOB_SEAL, &a, NULL);
    if (rc != SP_STORE_OK)
        return rc;
    snprintf (job_id_out, SP_STORE_ID_MAX, "%s", id);
    sp_log_debug ("event=job_created job=%s tracks=%zu", id, n);
    return SP_STORE_OK;
}

/*  Fill a job struct from a flat HGETALL array. */
static sp_store_job_t *
s_job_from_hash (const char *id, const redisReply *h)
{
    sp_store_job_t *j = calloc (1, sizeof *j);
    if (!j)
        return NULL;
    j->id = strdup (id);
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        char b[32];
        size_t len;
        const char *f = s_elem_str (h, i, NULL, b);
        const char *v = s_elem_str (h, i + 1, &len, b);
        if (strcmp (f, "source") == 0)
            j->source = s_strdup_n (v, len);
        else if (strcmp (f, "name") == 0)
            j->name = s_strdup_n (v, len);
        else if (strcmp (f, "state") == 0)
            j->state = s_strdup_n (v, len);
        else if (strcmp (f, "library_note") == 0)
            j->library_note = s_strdup_n (v, len);
        else if (strcmp (f, "library_checked") == 0)
            j->library_checked = strcmp (v, "1") == 0;
        else if (strcmp (f, "sealed") == 0)
            j->sealed = strcmp (v, "1") == 0;
        else if (strcmp (f, "total") == 0)
            j->total = s_parse_i64 (v);
        else if (strcmp (f, "skipped") == 0)
            j->skipped = s_parse_i64 (v);
        else if (strcmp (f, "queued") == 0)
            j->queued = s_parse_i64 (v);
        else if (strcmp (f, "done") == 0)
            j->done = s_parse_i64 (v);
        else if (strcmp (f, "failed") == 0)
            j->failed = s_parse_i64 (v);
        else if (strcmp (f, "cancelled") == 0)
            j->cancelled = s_parse_i64 (v);
        else if (strcmp (f, "created") == 0)
            j->created_ms = s_parse_i64 (v);
        else if (strcmp (f, "updated") == 0)
            j->updated_ms = s_parse_i64 (v);
    }
    /* never hand out NULL strings */
    char **strs[] = {&j->id, &j->source, &j->name, &j->state, &j->library_note};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!*strs[i])
            *strs[i] = strdup ("");
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!*strs[i]) {
            sp_store_job_destroy (&j);
            return NULL;
        }
    return j;
}

void
sp_store_job_destroy (sp_store_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_store_job_t *j = *self_p;
    free (j->id);
    free (j->source);
    free (j->name);
    free (j->state);
    free (j->library_note);
    free (j);
    *self_p = NULL;
}

int
sp_store_job_get (sp_store_t *self, const char *job_id, sp_store_job_t **job_p)
{
    if (!self || !job_p || !s_valid_id (job_id))
        return SP_STORE_EINVAL;
    *job_p = NULL;
    char key[S_ID_LEN_MAX + 32];
    snprintf (key, sizeof key, "soulpipe:job:%s", job_id);
    const char *argv[2] = {"HGETALL", key};
    redisReply *r = NULL;
    int rc = s_exec (self, 2, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    if (r->elements == 0) {
        freeReplyObject (r);
        return SP_STORE_ENOENT;
    }
    *job_p = s_job_from_hash (job_id, r);
    freeReplyObject (r);
    return *job_p ? SP_STORE_OK : SP_STORE_ENOMEM;
}

int
sp_store_job_tracks (sp_store_t *self, const char *job_id, sp_store_track_fn *fn, void *arg)
{
    if (!self || !fn || !s_valid_id (job_id))
        return SP_STORE_EINVAL;
    for (int64_t start = 0;; start += S_PAGE) {
        s_args_t a;
        s_args_init (&a, 3);
        s_arg (&a, job_id);
        s_argi (&a, start);
        s_argi (&a, S_PAGE);
        redisReply *r = NULL;
        int rc = s_run (self, S_TRACKS_PAGE, &a, &r);
        if (rc != SP_STORE_OK)
            return rc;
        const redisReply *d = r->element[1];
        size_t got = d->type == REDIS_REPLY_ARRAY ? d->elements / 2 : 0;
        for (size_t k = 0; k < got; k++) {
            const redisReply *h = d->element[2 * k + 1];
            char kb[32];
            sp_store_track_t t = {.key = s_elem_str (d, 2 * k, NULL, kb)};
            const char **strs[] = {&t.job_id,      &t.spotify_id, &t.title,      &t.artists,
                                   &t.state,       &t.stage,      &t.reason,     &t.source_user,
                                   &t.source_file, &t.path,       &t.transfer_id};
            static const char *const names[] = {
                "job",    "spotify_id",  "title",       "artists", "state",      "stage",
                "reason", "source_user", "source_file", "path",    "transfer_id"};
            for (size_t s = 0; s < sizeof strs / sizeof strs[0]; s++)
                *strs[s] = "";
            t.payload = "";
            for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
                char b1[32], b2[32];
                size_t len;
                const char *f = s_elem_str (h, i, NULL, b1);
                const char *v = s_elem_str (h, i + 1, &len, b2);
                if (strcmp (f, "payload") == 0) {
                    t.payload = v;
                    t.payload_len = len;
                } else if (strcmp (f, "position") == 0)
                    t.position = (int) s_parse_i64 (v);
                else if (strcmp (f, "attempts") == 0)
                    t.attempts = (int) s_parse_i64 (v);
                else if (strcmp (f, "updated") == 0)
                    t.updated_ms = s_parse_i64 (v);
                else {
                    for (size_t s = 0; s < sizeof names / sizeof names[0]; s++)
                        if (strcmp (f, names[s]) == 0) {
                            /* hash values are strings: they stay valid */
                            *strs[s] = h->element[i + 1]->type == REDIS_REPLY_STRING
                                           ? h->element[i + 1]->str
                                           : "";
                            break;
                        }
                }
            }
            if (fn (&t, arg) != 0) {
                freeReplyObject (r);
                return SP_STORE_OK;
            }
        }
        freeReplyObject (r);
        if (got < S_PAGE)
            return SP_STORE_OK;
    }
}

int
sp_store_list_jobs (sp_store_t *self, size_t offset, size_t limit, sp_store_job_fn *fn, void *arg)
{
    if (!self || !fn)
        return SP_STORE_EINVAL;
    if (limit == 0)
        return SP_STORE_OK;
    s_args_t a;
    s_args_init (&a, 2);
    s_argi (&a, (int64_t) offset);
    s_argi (&a, (int64_t) (limit > 100000 ? 100000 : limit));
    redisReply *r = NULL;
    int rc = s_run (self, S_JOBS_PAGE, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    const redisReply *d = r->element[1];
    for (size_t k = 0; d->type == REDIS_REPLY_ARRAY && k + 1 < d->elements; k += 2) {
        char b[32];
        sp_store_job_t *j = s_job_from_hash (s_elem_str (d, k, NULL, b), d->element[k + 1]);
        if (!j) {
            rc = SP_STORE_ENOMEM;
            break;
        }
        int stop = fn (j, arg);
        sp_store_job_destroy (&j);
        if (stop)
            break;
    }
    freeReplyObject (r);
    return rc;
}

static int
s_job_script (sp_store_t *self, int script, const char *job_id, int *count)
{
    if (count)
        *count = 0;
    if (!self || !s_valid_id (job_id))
        return SP_STORE_EINVAL;
    s_args_t a;
    s_args_init (&a, 1);
    s_arg (&a, job_id);
    redisReply *r = NULL;
    int rc = s_run (self, script, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (count)
        *count = (int) s_elem_i64 (r->element[1], 0);
    freeReplyObject (r);
    return SP_STORE_OK;
}

int
sp_store_cancel_job (sp_store_t *self, const char *job_id, int *count)
{
    int rc = s_job_script (self, S_CANCEL, job_id, count);
    if (rc == SP_STORE_OK)
        sp_log_info ("event=job_cancelled job=%s tracks=%d", job_id, count ? *count : -1);
    return rc;
}

int
sp_store_retry_job (sp_store_t *self, const char *job_id, int *count)
{
    int rc = s_job_script (self, S_RETRY, job_id, count);
    if (rc == SP_STORE_OK)
        sp_log_info ("event=job_retried job=%s tracks=%d", job_id, count ? *count : -1);
    return rc;
}

int
sp_store_track_set_fields (sp_store_t *self, const char *track_key, const char *const *fields,
                           const char *const *values, size_t n)
{
    static const char *const allowed[] = {"transfer_id", "source_user", "source_file", "path",
                                          "reason"};
    const size_t n_allowed = sizeof allowed / sizeof allowed[0];
    if (!self || !s_valid_id (track_key) || !fields || !values || n == 0 || n > n_allowed)
        return SP_STORE_EINVAL;
    for (size_t f = 0; f < n; f++) {
        bool ok = false;
        for (size_t i = 0; fields[f] && values[f] && i < n_allowed; i++)
            if (strcmp (fields[f], allowed[i]) == 0)
                ok = true;
        if (!ok)
            return SP_STORE_EINVAL;
    }
    s_args_t a;
    s_args_init (&a, 1 + 2 * (int) n);
    s_arg (&a, track_key);
    for (size_t f = 0; f < n; f++) {
        s_arg (&a, fields[f]);
        s_arg (&a, values[f]);
    }
    return s_run (self, S_SET_FIELD, &a, NULL);
}

int
sp_store_track_get_fields (sp_store_t *self, const char *track_key, const char *const *fields,
                           size_t n, char **values)
{
    if (!values || n == 0 || n > 8)
        return SP_STORE_EINVAL;
    for (size_t i = 0; i < n; i++)
        values[i] = NULL;
    if (!self || !s_valid_id (track_key) || !fields)
        return SP_STORE_EINVAL;
    char key[S_ID_LEN_MAX + 32];
    snprintf (key, sizeof key, "soulpipe:track:%s", track_key);
    const char *argv[2 + 8] = {"HMGET", key};
    for (size_t i = 0; i < n; i++) {
        if (!fields[i])
            return SP_STORE_EINVAL;
        argv[2 + i] = fields[i];
    }
    redisReply *r = NULL;
    int rc = s_exec (self, 2 + (int) n, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len == 0)
            continue;
        values[i] = strndup (e->str, e->len);
        if (!values[i]) {
            for (size_t j = 0; j < i; j++) {
                free (values[j]);
                values[j] = NULL;
            }
            freeReplyObject (r);
            return SP_STORE_ENOMEM;
        }
    }
    freeReplyObject (r);
    return SP_STORE_OK;
}

int
sp_store_track_set_field (sp_store_t *self, const char *track_key, const char *field,
                          const char *value)
{
    return sp_store_track_set_fields (self, track_key, &field, &value, 1);
}

int
sp_store_check_counters (sp_store_t *self, const char *job_id, char *report, size_t n)
{
    if (report && n)
        report[0] = '\0';
    if (!self || !s_valid_id (job_id))
        return SP_STORE_EINVAL;
    s_args_t a;
    s_args_init (&a, 1);
    s_arg (&a, job_id);
    redisReply *r = NULL;
    int rc = s_run (self, S_CHECK, &a, &r);
    if (rc != SP_STORE_OK) {
        if (report && n)
            snprintf (report, n, "%s", sp_store_strerror (rc));
        return rc;
    }
    char b[32];
    bool ok = s_elem_i64 (r->element[1], 0) == 1;
    if (report && n)
        snprintf (report, n, "%s", s_elem_str (r->element[1], 1, NULL, b));
    freeReplyObject (r);
    return ok ? SP_STORE_OK : SP_STORE_EINCONSISTENT;
}

/* ---------------------------------------------------------------- tasks */

void
sp_store_task_destroy (sp_store_task_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_store_task_t *t = *self_p;
    free (t->id);
    free (t->track_key);
    free (t->job_id);
    free (t->owner);
    free (t->payload);
    free (t);
    *self_p = NULL;
}

int
sp_store_take (sp_store_t *self, sp_store_stage_t stage, const char *owner, int lease_ms,
               sp_store_task_t **task_p)
{
    if (task_p)
        *task_p = NULL;
    if (!self || !task_p || !s_stage_ok (stage) || !owner || strlen (owner) > S_ID_LEN_MAX ||
        lease_ms <= 0)
        return SP_STORE_EINVAL;
    char req[64];
    snprintf (req, sizeof req, "%s-%" PRIu64, self->req_prefix, ++self->req_seq);
    s_args_t a;
    s_args_init (&a, 4);
    s_arg (&a, sp_store_stage_name (stage));
    s_arg (&a, owner);
    s_argi (&a, lease_ms);
    s_arg (&a, req);
    redisReply *r = NULL;
    int rc = s_run (self, S_TAKE, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    const redisReply *d = r->element[1];
    if (d->type != REDIS_REPLY_ARRAY || d->elements != 9) {
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    sp_store_task_t *t = calloc (1, sizeof *t);
    if (!t) {
        freeReplyObject (r);
        return SP_STORE_ENOMEM;
    }
    char b[32];
    size_t len;
    const char *s;
    s = s_elem_str (d, 0, &len, b);
    t->id = s_strdup_n (s, len);
    t->stage = stage;
    s = s_elem_str (d, 2, &len, b);
    t->track_key = s_strdup_n (s, len);
    s = s_elem_str (d, 3, &len, b);
    t->job_id = s_strdup_n (s, len);
    t->attempt = (int) s_elem_i64 (d, 4);
    t->fence = (uint64_t) s_elem_i64 (d, 5);
    s = s_elem_str (d, 6, &len, b);
    t->payload = s_strdup_n (s, len);
    t->payload_len = len;
    s = s_elem_str (d, 7, &len, b);
    t->owner = s_strdup_n (s, len);
    t->deadline_ms = s_elem_i64 (d, 8);
    freeReplyObject (r);
    if (!t->id || !t->track_key || !t->job_id || !t->payload || !t->owner) {
        sp_store_task_destroy (&t);
        return SP_STORE_ENOMEM;
    }
    sp_log_debug ("event=task_taken task=%s fence=%" PRIu64 " attempt=%d owner=%s", t->id, t->fence,
                  t->attempt, sp_log_q (owner));
    *task_p = t;
    return SP_STORE_OK;
}

int
sp_store_extend (sp_store_t *self, const char *task_id, uint64_t fence, int lease_ms)
{
    if (!self || !s_valid_id (task_id) || lease_ms <= 0)
        return SP_STORE_EINVAL;
    s_args_t a;
    s_args_init (&a, 3);
    s_arg (&a, task_id);
    s_argi (&a, (int64_t) fence);
    s_argi (&a, lease_ms);
    return s_run (self, S_EXTEND, &a, NULL);
}

int
sp_store_complete (sp_store_t *self, const char *task_id, uint64_t fence,
                   sp_store_stage_t next_stage, const void *next_payload, size_t next_len,
                   const sp_store_result_t *result)
{
    if (!self || !s_valid_id (task_id) ||
        (next_stage != SP_STORE_NONE && !s_stage_ok (next_stage)) || (next_len && !next_payload))
        return SP_STORE_EINVAL;
    sp_store_result_t none = {0};
    if (!result)
        result = &none;
    s_args_t a;
    s_args_init (&a, 8);
    s_arg (&a, task_id);
    s_argi (&a, (int64_t) fence);
    s_arg (&a, next_stage == SP_STORE_NONE ? "" : sp_store_stage_name (next_stage));
    s_argb (&a, next_payload ? next_payload : "", next_payload ? next_len : 0);
    s_arg (&a, result->path);
    s_arg (&a, result->source_user);
    s_arg (&a, result->source_file);
    s_arg (&a, result->transfer_id);
    int rc = s_run (self, S_COMPLETE, &a, NULL);
    if (rc == SP_STORE_ESTALE)
        sp_log_warn ("event=complete_stale task=%s fence=%" PRIu64, task_id, fence);
    return rc;
}

int
sp_store_fail (sp_store_t *self, const char *task_id, uint64_t fence, const char *reason,
               bool retryable, int max_attempts, int backoff_ms)
{
    if (!self || !s_valid_id (task_id) || max_attempts < 1 || backoff_ms < 0)
        return SP_STORE_EINVAL;
    s_args_t a;
    s_args_init (&a, 6);
    s_arg (&a, task_id);
    s_argi (&a, (int64_t) fence);
    s_arg (&a, reason && *reason ? reason : "unknown error");
    s_arg (&a, retryable ? "1" : "0");
    s_argi (&a, max_attempts);
    s_argi (&a, backoff_ms);
    int rc = s_run (self, S_FAIL, &a, NULL);
    if (rc == SP_STORE_ESTALE)
        sp_log_warn ("event=fail_stale task=%s fence=%" PRIu64, task_id, fence);
    return rc;
}

int
sp_store_reap (sp_store_t *self, int64_t now_ms, int max_attempts, int *reaped)
{
    if (reaped)
        *reaped = 0;
    if (!self || max_attempts < 1 || now_ms < 0)
        return SP_STORE_EINVAL;
    s_args_t a;
    s_args_init (&a, 3);
    s_argi (&a, now_ms);
    s_argi (&a, max_attempts);
    s_argi (&a, S_REAP_LIMIT);
    redisReply *r = NULL;
    int rc = s_run (self, S_REAP, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    int n = (int) s_elem_i64 (r->element[1], 0);
    freeReplyObject (r);
    if (n > 0)
        sp_log_info ("event=leases_reaped count=%d", n);
    if (reaped)
        *reaped = n;
    return SP_STORE_OK;
}

int
sp_store_stage_counts (sp_store_t *self, sp_store_stage_t stage, int64_t *ready, int64_t *delayed,
                       int64_t *inflight)
{
    if (!self || !s_stage_ok (stage))
        return SP_STORE_EINVAL;
    const char *cmd[3] = {"LLEN", "ZCARD", "ZCARD"};
    const char *kind[3] = {"q", "delayed", "inflight"};
    int64_t *out[3] = {ready, delayed, inflight};
    for (int i = 0; i < 3; i++) {
        if (!out[i])
            continue;
        char key[64];
        snprintf (key, sizeof key, "soulpipe:%s:%s", kind[i], sp_store_stage_name (stage));
        const char *argv[2] = {cmd[i], key};
        redisReply *r = NULL;
        int rc = s_exec (self, 2, argv, NULL, &r);
        if (rc != SP_STORE_OK)
            return rc;
        bool ok = r->type == REDIS_REPLY_INTEGER;
        *out[i] = ok ? r->integer : 0;
        freeReplyObject (r);
        if (!ok)
            return SP_STORE_EPROTO;
    }
    return SP_STORE_OK;
}

/* ---------------------------------------------------------------- raw access */

int
sp_store_command (sp_store_t *self, int argc, const char **argv, const size_t *lens,
                  struct redisReply **reply)
{
    if (!self || argc < 1 || !argv || !reply)
        return SP_STORE_EINVAL;
    *reply = NULL;
    return s_exec (self, argc, argv, lens, reply);
}
