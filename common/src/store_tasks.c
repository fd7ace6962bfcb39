/*  store_tasks.c: the store's stage queues (see store.h, "tasks"): take a
    task with a lease, extend, complete, fail, reap expired leases, and the
    queue sizes. Every state change is one script call through store.c.
*/
#include "store_int.h"

#include "soulpipe/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_REAP_LIMIT 1000 /* expired leases handled per stage per call */

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

/*  The claim's two script arguments: token as 16 hex digits (in buf, which
    must live until the call) and the route, '' for none. */
static void
s_claim_args (sp_store__args_t *a, const sp_store_claim_t *claim, char buf[17])
{
    buf[0] = '\0';
    if (claim && claim->token)
        snprintf (buf, 17, "%016" PRIx64, claim->token);
    sp_store__arg (a, buf);
    sp_store__arg (a, claim && claim->route ? claim->route : "");
}

static bool
s_claim_ok (const sp_store_claim_t *claim)
{
    return !claim || !claim->route || strlen (claim->route) <= SP_STORE_ROUTE_MAX;
}

int
sp_store_take (sp_store_t *self, sp_store_stage_t stage, const char *owner, int lease_ms,
               sp_store_task_t **task_p)
{
    return sp_store_take_as (self, stage, owner, NULL, lease_ms, task_p);
}

int
sp_store_take_as (sp_store_t *self, sp_store_stage_t stage, const char *owner,
                  const sp_store_claim_t *claim, int lease_ms, sp_store_task_t **task_p)
{
    if (task_p)
        *task_p = NULL;
    if (!self || !task_p || !sp_store__stage_ok (stage) || !owner ||
        strlen (owner) > SP_STORE__ID_LEN_MAX || lease_ms <= 0 || !s_claim_ok (claim))
        return SP_STORE_EINVAL;
    char req[64], tok[17];
    sp_store__token (self, req, sizeof req);
    sp_store__args_t a;
    sp_store__args_init (&a, 6);
    sp_store__arg (&a, sp_store_stage_name (stage));
    sp_store__arg (&a, owner);
    sp_store__argi (&a, lease_ms);
    sp_store__arg (&a, req);
    s_claim_args (&a, claim, tok);
    redisReply *r = NULL;
    int rc = sp_store__run (self, SP_STORE__LUA_TAKE, &a, &r);
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
    s = sp_store__elem_str (d, 0, &len, b);
    t->id = sp_store__strndup (s, len);
    t->stage = stage;
    s = sp_store__elem_str (d, 2, &len, b);
    t->track_key = sp_store__strndup (s, len);
    s = sp_store__elem_str (d, 3, &len, b);
    t->job_id = sp_store__strndup (s, len);
    t->attempt = (int) sp_store__elem_i64 (d, 4);
    t->fence = (uint64_t) sp_store__elem_i64 (d, 5);
    s = sp_store__elem_str (d, 6, &len, b);
    t->payload = sp_store__strndup (s, len);
    t->payload_len = len;
    s = sp_store__elem_str (d, 7, &len, b);
    t->owner = sp_store__strndup (s, len);
    t->deadline_ms = sp_store__elem_i64 (d, 8);
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
    return sp_store_extend_as (self, task_id, fence, NULL, lease_ms);
}

int
sp_store_extend_as (sp_store_t *self, const char *task_id, uint64_t fence,
                    const sp_store_claim_t *claim, int lease_ms)
{
    if (!self || !sp_store__valid_id (task_id) || lease_ms <= 0 || !s_claim_ok (claim))
        return SP_STORE_EINVAL;
    char tok[17];
    sp_store__args_t a;
    sp_store__args_init (&a, 5);
    sp_store__arg (&a, task_id);
    sp_store__argi (&a, (int64_t) fence);
    sp_store__argi (&a, lease_ms);
    s_claim_args (&a, claim, tok);
    return sp_store__run (self, SP_STORE__LUA_EXTEND, &a, NULL);
}

int
sp_store_complete (sp_store_t *self, const char *task_id, uint64_t fence,
                   sp_store_stage_t next_stage, const void *next_payload, size_t next_len,
                   const sp_store_result_t *result)
{
    return sp_store_complete_as (self, task_id, fence, NULL, next_stage, next_payload, next_len,
                                 result);
}

int
sp_store_complete_as (sp_store_t *self, const char *task_id, uint64_t fence,
                      const sp_store_claim_t *claim, sp_store_stage_t next_stage,
                      const void *next_payload, size_t next_len, const sp_store_result_t *result)
{
    if (!self || !sp_store__valid_id (task_id) || !s_claim_ok (claim) ||
        (next_stage != SP_STORE_NONE && !sp_store__stage_ok (next_stage)) ||
        (next_len && !next_payload))
        return SP_STORE_EINVAL;
    sp_store_result_t none = {0};
    if (!result)
        result = &none;
    char tok[17];
    sp_store__args_t a;
    sp_store__args_init (&a, 10);
    sp_store__arg (&a, task_id);
    sp_store__argi (&a, (int64_t) fence);
    sp_store__arg (&a, next_stage == SP_STORE_NONE ? "" : sp_store_stage_name (next_stage));
    sp_store__argb (&a, next_payload ? next_payload : "", next_payload ? next_len : 0);
    sp_store__arg (&a, result->path);
    sp_store__arg (&a, result->source_user);
    sp_store__arg (&a, result->source_file);
    sp_store__arg (&a, result->transfer_id);
    s_claim_args (&a, claim, tok);
    int rc = sp_store__run (self, SP_STORE__LUA_COMPLETE, &a, NULL);
    if (rc == SP_STORE_ESTALE)
        sp_log_warn ("event=complete_stale task=%s fence=%" PRIu64, task_id, fence);
    return rc;
}

int
sp_store_fail (sp_store_t *self, const char *task_id, uint64_t fence, const char *reason,
               bool retryable, int max_attempts, int backoff_ms)
{
    return sp_store_fail_as (self, task_id, fence, NULL, reason, retryable, max_attempts,
                             backoff_ms);
}

int
sp_store_fail_as (sp_store_t *self, const char *task_id, uint64_t fence,
                  const sp_store_claim_t *claim, const char *reason, bool retryable,
                  int max_attempts, int backoff_ms)
{
    if (!self || !sp_store__valid_id (task_id) || max_attempts < 1 || backoff_ms < 0 ||
        !s_claim_ok (claim))
        return SP_STORE_EINVAL;
    char tok[17];
    sp_store__args_t a;
    sp_store__args_init (&a, 8);
    sp_store__arg (&a, task_id);
    sp_store__argi (&a, (int64_t) fence);
    sp_store__arg (&a, reason && *reason ? reason : "unknown error");
    sp_store__arg (&a, retryable ? "1" : "0");
    sp_store__argi (&a, max_attempts);
    sp_store__argi (&a, backoff_ms);
    s_claim_args (&a, claim, tok);
    int rc = sp_store__run (self, SP_STORE__LUA_FAIL, &a, NULL);
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
    sp_store__args_t a;
    sp_store__args_init (&a, 3);
    sp_store__argi (&a, now_ms);
    sp_store__argi (&a, max_attempts);
    sp_store__argi (&a, S_REAP_LIMIT);
    redisReply *r = NULL;
    int rc = sp_store__run (self, SP_STORE__LUA_REAP, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    int n = (int) sp_store__elem_i64 (r->element[1], 0);
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
    if (!self || !sp_store__stage_ok (stage))
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
        int rc = sp_store__exec (self, 2, argv, NULL, &r);
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
