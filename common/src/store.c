/*  store.c: the Redis job store's core (see store.h for the data model,
    store_int.h for how the store's files divide the work): the object and
    its connection, the one retry loop every command goes through, script
    calls, argument building and the reply helpers the other files share.

    Every state change is one Lua script (store_lua.h), run with EVALSHA and
    falling back to EVAL on NOSCRIPT. All commands go through
    sp_store__exec, which owns the connection: it (re)connects, re-AUTHs,
    re-SELECTs, restores the read timeout (hiredis 0.14 drops it on
    reconnect; we simply open a new context) and re-loads the scripts, and
    resends a command whose outcome is unknown, with exponential backoff,
    until the retry budget is spent. The first connection (sp_store_new)
    goes through the same loop. The scripts are written so that a resend is
    harmless (see store.h).
*/
#include "store_int.h"

#include "soulpipe/clock.h"
#include "soulpipe/config.h"
#include "soulpipe/err.h"
#include "soulpipe/log.h"
#include "soulpipe/rand.h"
#include "store_lua.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RETRY_FIRST_MS 50   /* first wait before a reconnect, ms */
#define S_RETRY_MAX_MS   2000 /* longest wait between reconnects, ms */
#define S_CHANGE_FIELDS  14   /* entries in one change record */

/* ---------------------------------------------------------------- scripts */

static const char *const s_script_body[SP_STORE__LUA_SCRIPT_COUNT] = {
    s_lua_job_init,     s_lua_job_add,     s_lua_job_seal,
    s_lua_take,         s_lua_extend,      s_lua_complete,
    s_lua_fail,         s_lua_reap,        s_lua_cancel,
    s_lua_retry,        s_lua_set_field,   s_lua_check,
    s_lua_tracks_page,  s_lua_jobs_page,   s_lua_finished_recover,
    s_lua_lock_acquire, s_lua_lock_extend, s_lua_lock_release,
    s_lua_claim_rescan};

static const char *const s_script_name[SP_STORE__LUA_SCRIPT_COUNT] = {
    "job_init",     "job_add",     "job_seal",     "take",        "extend",
    "complete",     "fail",        "reap",         "cancel",      "retry",
    "set_field",    "check",       "tracks_page",  "jobs_page",   "finished_recover",
    "lock_acquire", "lock_extend", "lock_release", "claim_rescan"};

/* ---------------------------------------------------------------- helpers */

void
sp_store__base36 (uint64_t v, char *out, size_t n)
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

void
sp_store__token (sp_store_t *self, char *out, size_t n)
{
    snprintf (out, n, "%s-%" PRIu64, self->req_prefix, ++self->req_seq);
}

char *
sp_store__strndup (const char *s, size_t len)
{
    char *p = malloc (len + 1);
    if (p) {
        if (len)
            memcpy (p, s, len);
        p[len] = '\0';
    }
    return p;
}

/*  Ids become part of Redis key names: keep them to a safe alphabet. */
bool
sp_store__valid_id (const char *s)
{
    if (!s || !*s)
        return false;
    size_t len = 0;
    for (const char *p = s; *p; p++, len++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '-' || c == '_' || c == '.';
        if (!ok || len >= SP_STORE__ID_LEN_MAX)
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
const char *
sp_store__elem_str (const redisReply *r, size_t i, size_t *len, char buf[32])
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

int64_t
sp_store__parse_i64 (const char *s)
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

int64_t
sp_store__elem_i64 (const redisReply *r, size_t i)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return 0;
    const redisReply *e = r->element[i];
    if (e->type == REDIS_REPLY_INTEGER)
        return e->integer;
    if (e->type == REDIS_REPLY_STRING)
        return sp_store__parse_i64 (e->str);
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

/*  After a failed command: was it a read timeout (Redis took the
    connection but did not answer: paused, stuck, overloaded) rather than
    a refused or broken connection? Call before the context is dropped. */
static void
s_note_failure (sp_store_t *self)
{
    int e = errno;
    const char *why = self->ctx ? self->ctx->errstr : "";
    self->timed_out = self->ctx && self->ctx->err == REDIS_ERR_IO &&
                      (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT ||
                       strstr (why, "temporarily unavailable") || strstr (why, "timed out"));
}

/*  Run one command on the current context with no retry. Returns the reply
    or NULL (connection error: the context is dropped). */
static redisReply *
s_raw (sp_store_t *self, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv (self->ctx, argc, argv, lens);
    if (!r) {
        s_note_failure (self);
        s_disconnect (self);
    }
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
        sp_err_set (err, n, "redis %s: out of memory", self->where);
        return -1;
    }
    if (c->err) {
        sp_err_set (err, n, "redis %s: %s", self->where, c->errstr);
        self->timed_out = strstr (c->errstr, "timed out") != NULL;
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
            sp_err_set (err, n, "redis %s: AUTH refused: %s", self->where, r->str);
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
            sp_err_set (err, n, "redis %s: SELECT refused: %s", self->where, r->str);
            freeReplyObject (r);
            s_disconnect (self);
            return rc;
        }
        freeReplyObject (r);
    }
    for (int i = 0; i < SP_STORE__LUA_SCRIPT_COUNT; i++) {
        const char *argv[3] = {"SCRIPT", "LOAD", self->src[i]};
        r = s_raw (self, 3, argv, NULL);
        if (!r)
            goto io_error;
        if (r->type != REDIS_REPLY_STRING || r->len != 40) {
            int rc = (r->type == REDIS_REPLY_ERROR && s_transient (r->str)) ? -1 : -2;
            sp_err_set (err, n, "redis: SCRIPT LOAD %s: %s", s_script_name[i],
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
    sp_err_set (err, n, "redis %s: connection lost during setup", self->where);
    return -1;
}

/*  One try: connect when there is no connection, then send the command
    (argc 0: connect only). S_TRY_OK: done (*out set when a command was
    sent); S_TRY_AGAIN: transient failure, err says why; S_TRY_FATAL: a
    failure retrying cannot fix (bad password, unknown db, script error). */
#define S_TRY_OK    0
#define S_TRY_AGAIN -1
#define S_TRY_FATAL -2
static int
s_try (sp_store_t *self, int argc, const char **argv, const size_t *lens, redisReply **out,
       char *err, size_t n)
{
    if (!self->ctx) {
        int c = s_connect (self, err, n);
        if (c != 0)
            return c == -2 ? S_TRY_FATAL : S_TRY_AGAIN;
    }
    if (argc == 0)
        return S_TRY_OK;
    redisReply *r = redisCommandArgv (self->ctx, argc, argv, lens);
    if (!r) {
        s_note_failure (self);
        sp_err_set (err, n, "redis %s: %s%s", self->where,
                    self->ctx->errstr[0] ? self->ctx->errstr : "connection lost",
                    self->timed_out ? " (no answer in time)" : "");
        s_disconnect (self);
        return S_TRY_AGAIN;
    }
    if (r->type == REDIS_REPLY_ERROR && s_transient (r->str)) {
        sp_err_set (err, n, "redis %s: %s", self->where, r->str);
        freeReplyObject (r);
        return S_TRY_AGAIN;
    }
    *out = r;
    return S_TRY_OK;
}

/*  The store's one backoff loop: s_try until it succeeds, fails for good
    or the retry budget is spent, waiting 50 ms doubling to 2 s between
    tries. argc 0 only connects (sp_store_new). err (n bytes) gets the last
    failure. Returns SP_STORE_OK (*out set when a command was sent) or
    SP_STORE_EIO. */
static int
s_with_retry (sp_store_t *self, int argc, const char **argv, const size_t *lens, redisReply **out,
              char *err, size_t n)
{
    char local[512] = "";
    if (!err || n == 0) {
        err = local;
        n = sizeof local;
    }
    int64_t start = sp_clock_mono_ms ();
    int64_t delay = S_RETRY_FIRST_MS;
    for (int tries = 1;; tries++) {
        int c = s_try (self, argc, argv, lens, out, err, n);
        if (c == S_TRY_OK) {
            if (self->was_down) {
                sp_log_info ("event=redis_reconnected where=%s tries=%d", self->where, tries);
                self->was_down = false;
            }
            return SP_STORE_OK;
        }
        if (c == S_TRY_FATAL) {
            sp_log_error ("event=redis_setup_failed err=%s", sp_log_q (err));
            return SP_STORE_EIO;
        }
        int64_t elapsed = sp_clock_mono_ms () - start;
        if (elapsed >= self->retry_ms) {
            sp_log_error ("event=redis_unavailable err=%s tries=%d elapsed_ms=%" PRId64,
                          sp_log_q (err), tries, elapsed);
            return SP_STORE_EIO;
        }
        if (!self->was_down)
            sp_log_warn ("event=redis_retry err=%s", sp_log_q (err));
        self->was_down = true;
        sp_clock_sleep_ms (delay < self->retry_ms - elapsed ? delay : self->retry_ms - elapsed);
        delay = delay * 2 > S_RETRY_MAX_MS ? S_RETRY_MAX_MS : delay * 2;
    }
}

int
sp_store__exec (sp_store_t *self, int argc, const char **argv, const size_t *lens, redisReply **out)
{
    char err[512] = "";
    return s_with_retry (self, argc, argv, lens, out, err, sizeof err);
}

/* ---------------------------------------------------------------- arguments */

void
sp_store__args_init (sp_store__args_t *a, int cap)
{
    memset (a, 0, sizeof *a);
    a->cap = cap + 3;
    a->argv = calloc ((size_t) a->cap, sizeof *a->argv);
    a->lens = calloc ((size_t) a->cap, sizeof *a->lens);
    a->argc = 3;
    if (!a->argv || !a->lens)
        a->bad = true;
}

void
sp_store__args_free (sp_store__args_t *a)
{
    free (a->argv);
    free (a->lens);
    a->argv = NULL;
    a->lens = NULL;
}

void
sp_store__argb (sp_store__args_t *a, const void *p, size_t len)
{
    if (a->bad || a->argc >= a->cap) {
        a->bad = true;
        return;
    }
    a->argv[a->argc] = p ? (const char *) p : "";
    a->lens[a->argc] = p ? len : 0;
    a->argc++;
}

void
sp_store__arg (sp_store__args_t *a, const char *s)
{
    sp_store__argb (a, s ? s : "", s ? strlen (s) : 0);
}

void
sp_store__argi (sp_store__args_t *a, int64_t v)
{
    if (a->nnums >= SP_STORE__ARGS_NUMS) {
        a->bad = true;
        return;
    }
    char *buf = a->nums[a->nnums++];
    snprintf (buf, 24, "%" PRId64, v);
    sp_store__arg (a, buf);
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
            .job_id = sp_store__elem_str (c, 0, NULL, b[0]),
            .track_key = sp_store__elem_str (c, 1, NULL, b[1]),
            .old_state = sp_store__elem_str (c, 2, NULL, b[2]),
            .new_state = sp_store__elem_str (c, 3, NULL, b[3]),
            .stage = sp_store__elem_str (c, 4, NULL, b[4]),
            .attempt = (int) sp_store__elem_i64 (c, 5),
            .reason = sp_store__elem_str (c, 6, NULL, b[5]),
            .job_state = sp_store__elem_str (c, 7, NULL, b[6]),
            .total = sp_store__elem_i64 (c, 8),
            .skipped = sp_store__elem_i64 (c, 9),
            .queued = sp_store__elem_i64 (c, 10),
            .done = sp_store__elem_i64 (c, 11),
            .failed = sp_store__elem_i64 (c, 12),
            .cancelled = sp_store__elem_i64 (c, 13),
        };
        self->change_fn (&ch, self->change_arg);
    }
}

/*  Run a script with the arguments in a (consumed: freed here). Returns the
    script's code mapped to SP_STORE_OK/EMPTY/ESTALE/ENOENT, or a negative
    error. On SP_STORE_OK with reply_p set, the caller owns *reply_p (the
    whole reply: element 1 is the script's data); otherwise it is NULL. Changes are dispatched here. */
int
sp_store__run (sp_store_t *self, int script, sp_store__args_t *a, redisReply **reply_p)
{
    if (reply_p)
        *reply_p = NULL;
    if (a->bad) {
        sp_store__args_free (a);
        return SP_STORE_ENOMEM;
    }
    a->argv[0] = "EVALSHA";
    a->lens[0] = 7;
    a->argv[1] = self->sha[script];
    a->lens[1] = 40;
    a->argv[2] = "0";
    a->lens[2] = 1;
    redisReply *r = NULL;
    int rc = sp_store__exec (self, a->argc, a->argv, a->lens, &r);
    if (rc == SP_STORE_OK && r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0) {
        /* script cache flushed behind our back: send the source */
        freeReplyObject (r);
        r = NULL;
        a->argv[0] = "EVAL";
        a->lens[0] = 4;
        a->argv[1] = self->src[script];
        a->lens[1] = strlen (self->src[script]);
        rc = sp_store__exec (self, a->argc, a->argv, a->lens, &r);
    }
    sp_store__args_free (a);
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
        case 4:
            rc = SP_STORE_EFORGED;
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
        sp_err_set (err, n, "redis url: %s", why);
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

bool
sp_store__stage_ok (sp_store_stage_t stage)
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
        case SP_STORE_EFORGED:
            return "not from the worker the task was given to (token or sender does not match)";
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
        sp_err_set (err, n, "redis url missing");
        return NULL;
    }
    sp_store_t *self = calloc (1, sizeof *self);
    if (!self) {
        sp_err_set (err, n, "out of memory");
        return NULL;
    }
    self->timeout_ms = SP_STORE_DEFAULT_TIMEOUT_MS;
    self->retry_ms = SP_STORE_DEFAULT_RETRY_MS;
    if (s_parse_url (self, redis_url, err, n) != 0)
        goto fail;
    size_t plen = strlen (s_lua_prelude);
    for (int i = 0; i < SP_STORE__LUA_SCRIPT_COUNT; i++) {
        size_t blen = strlen (s_script_body[i]);
        self->src[i] = malloc (plen + blen + 1);
        if (!self->src[i]) {
            sp_err_set (err, n, "out of memory");
            goto fail;
        }
        memcpy (self->src[i], s_lua_prelude, plen);
        memcpy (self->src[i] + plen, s_script_body[i], blen + 1);
    }
    sp_store__base36 (sp_rand_u64 (), self->req_prefix, sizeof self->req_prefix);
    self->timed_out = false;

    /* first connection: the same loop and retry budget as any call */
    if (s_with_retry (self, 0, NULL, NULL, NULL, err, n) != SP_STORE_OK)
        goto fail;
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
    for (int i = 0; i < SP_STORE__LUA_SCRIPT_COUNT; i++)
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

bool
sp_store_not_responding (const sp_store_t *self)
{
    return self && self->timed_out;
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
    int rc = sp_store__exec (self, 1, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    rc = (r->type == REDIS_REPLY_STATUS && strcmp (r->str, "PONG") == 0) ? SP_STORE_OK
                                                                         : SP_STORE_EPROTO;
    freeReplyObject (r);
    return rc;
}

/* ---------------------------------------------------------------- raw access */

int
sp_store_command (sp_store_t *self, int argc, const char **argv, const size_t *lens,
                  struct redisReply **reply)
{
    if (!self || argc < 1 || !argv || !reply)
        return SP_STORE_EINVAL;
    *reply = NULL;
    return sp_store__exec (self, argc, argv, lens, reply);
}
