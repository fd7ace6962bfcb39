/*  store_coord.c: what the store coordinates between processes (see
    store.h, "job endings" and "locks"): the queue of job endings the
    scripts announce (taken by the tagger's finisher, acknowledged when
    done, recovered after a crash), the once-per-ending rescan claim, and
    named locks with a token and a fence. The keys are the store's; the
    scripts are in store_lua.h.
*/
#include "store_int.h"

#include "soulpipe/clock.h"
#include "soulpipe/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FINISHED_KEY  "soulpipe:finished"  /* endings announced (the scripts push) */
#define S_FINISHING_KEY "soulpipe:finishing" /* endings taken, not yet acknowledged */
#define S_RESCAN_TTL_S  2592000              /* keep a rescan claim 30 days */
#define S_LOCK_POLL_MS  25                   /* poll interval while a lock is held */

/* ---------------------------------------------------------------- job endings */

//  Parse "<job> <n>" (n a positive decimal) of the finished list.
static bool
s_parse_ending (const char *s, size_t len, sp_store_ending_t *out)
{
    const char *sp = memchr (s, ' ', len);
    if (!sp || sp == s || (size_t) (sp - s) >= sizeof out->job_id || len >= sizeof out->entry)
        return false;
    memcpy (out->job_id, s, (size_t) (sp - s));
    out->job_id[sp - s] = '\0';
    char num[24];
    size_t nl = len - (size_t) (sp - s) - 1;
    if (nl == 0 || nl >= sizeof num || !sp_store__valid_id (out->job_id))
        return false;
    memcpy (num, sp + 1, nl);
    num[nl] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol (num, &end, 10);
    if (errno || *end || v < 1)
        return false;
    out->ending = v;
    memcpy (out->entry, s, len);
    out->entry[len] = '\0';
    return true;
}

//  LREM the finishing list's entry (binary-safe).
static int
s_finishing_remove (sp_store_t *self, const char *entry, size_t len)
{
    const char *argv[] = {"LREM", S_FINISHING_KEY, "1", entry};
    size_t lens[] = {4, strlen (S_FINISHING_KEY), 1, len};
    redisReply *r = NULL;
    int rc = sp_store__exec (self, 4, argv, lens, &r);
    if (rc != SP_STORE_OK)
        return rc;
    rc = r->type == REDIS_REPLY_INTEGER ? SP_STORE_OK : SP_STORE_EPROTO;
    freeReplyObject (r);
    return rc;
}

int
sp_store_finished_pop (sp_store_t *self, int wait_ms, sp_store_ending_t *out)
{
    if (out)
        memset (out, 0, sizeof *out);
    if (!self || !out || wait_ms < 0)
        return SP_STORE_EINVAL;
    char secs[32];
    snprintf (secs, sizeof secs, "%d.%03d", wait_ms / 1000, wait_ms % 1000);
    const char *argv[] = {
        wait_ms > 0 ? "BLMOVE" : "LMOVE", S_FINISHED_KEY, S_FINISHING_KEY, "LEFT", "RIGHT", secs};
    redisReply *r = NULL;
    int rc = sp_store__exec (self, wait_ms > 0 ? 6 : 5, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject (r);
        return SP_STORE_EMPTY;
    }
    if (r->type != REDIS_REPLY_STRING) {
        sp_log_warn ("event=finished_pop_failed error=%s",
                     sp_log_q (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    rc = SP_STORE_OK;
    if (!s_parse_ending (r->str, r->len, out)) {
        sp_log_warn ("event=finished_bad_entry entry=%s", sp_log_q (r->str));
        memset (out, 0, sizeof *out);
        rc = s_finishing_remove (self, r->str, r->len);
        rc = rc == SP_STORE_OK ? SP_STORE_ENOENT : rc;
    }
    freeReplyObject (r);
    return rc;
}

int
sp_store_finished_ack (sp_store_t *self, const sp_store_ending_t *ending)
{
    if (!self || !ending || !ending->entry[0])
        return SP_STORE_EINVAL;
    return s_finishing_remove (self, ending->entry, strlen (ending->entry));
}

int
sp_store_finished_recover (sp_store_t *self, int *count)
{
    if (count)
        *count = 0;
    if (!self)
        return SP_STORE_EINVAL;
    sp_store__args_t a;
    sp_store__args_init (&a, 0);
    redisReply *r = NULL;
    int rc = sp_store__run (self, SP_STORE__LUA_FINISHED_RECOVER, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    int n = (int) sp_store__elem_i64 (r->element[1], 0);
    freeReplyObject (r);
    if (n > 0)
        sp_log_info ("event=finished_recovered jobs=%d", n);
    if (count)
        *count = n;
    return SP_STORE_OK;
}

int
sp_store_job_claim_rescan (sp_store_t *self, const char *job_id, long ending)
{
    if (!self || !sp_store__valid_id (job_id) || ending < 1)
        return SP_STORE_EINVAL;
    char token[48];
    sp_store__token (self, token, sizeof token);
    sp_store__args_t a;
    sp_store__args_init (&a, 4);
    sp_store__arg (&a, job_id);
    sp_store__argi (&a, ending);
    sp_store__arg (&a, token);
    sp_store__argi (&a, S_RESCAN_TTL_S);
    return sp_store__run (self, SP_STORE__LUA_CLAIM_RESCAN, &a, NULL);
}

/* ---------------------------------------------------------------- locks */

int
sp_store_lock_acquire (sp_store_t *self, const char *name, int ttl_ms, int wait_ms,
                       sp_store_lock_t *lock)
{
    if (lock)
        memset (lock, 0, sizeof *lock);
    if (!self || !name || !*name || strlen (name) >= SP_STORE_LOCK_NAME_MAX || ttl_ms <= 0 || !lock)
        return SP_STORE_EINVAL;
    snprintf (lock->name, sizeof lock->name, "%s", name);
    sp_store__token (self, lock->token, sizeof lock->token);
    int64_t start = sp_clock_mono_ms ();
    for (;;) {
        sp_store__args_t a;
        sp_store__args_init (&a, 3);
        sp_store__arg (&a, lock->name);
        sp_store__arg (&a, lock->token);
        sp_store__argi (&a, ttl_ms);
        redisReply *r = NULL;
        int rc = sp_store__run (self, SP_STORE__LUA_LOCK_ACQUIRE, &a, &r);
        if (rc == SP_STORE_OK) {
            lock->fence = (uint64_t) sp_store__elem_i64 (r->element[1], 0);
            freeReplyObject (r);
            return SP_STORE_OK;
        }
        if (rc != SP_STORE_EMPTY || sp_clock_mono_ms () - start >= wait_ms) {
            memset (lock, 0, sizeof *lock);
            return rc;
        }
        sp_clock_sleep_ms (S_LOCK_POLL_MS);
    }
}

//  extend (ttl_ms > 0) or release (ttl_ms 0) a held lock.
static int
s_lock_call (sp_store_t *self, const sp_store_lock_t *lock, int ttl_ms)
{
    if (!self || !lock || !lock->name[0] || !lock->token[0] || ttl_ms < 0)
        return SP_STORE_EINVAL;
    sp_store__args_t a;
    sp_store__args_init (&a, 4);
    sp_store__arg (&a, lock->name);
    sp_store__arg (&a, lock->token);
    sp_store__argi (&a, (int64_t) lock->fence);
    if (ttl_ms > 0)
        sp_store__argi (&a, ttl_ms);
    return sp_store__run (self, ttl_ms > 0 ? SP_STORE__LUA_LOCK_EXTEND : SP_STORE__LUA_LOCK_RELEASE,
                          &a, NULL);
}

int
sp_store_lock_extend (sp_store_t *self, const sp_store_lock_t *lock, int ttl_ms)
{
    if (ttl_ms <= 0)
        return SP_STORE_EINVAL;
    return s_lock_call (self, lock, ttl_ms);
}

int
sp_store_lock_release (sp_store_t *self, const sp_store_lock_t *lock)
{
    return s_lock_call (self, lock, 0);
}
