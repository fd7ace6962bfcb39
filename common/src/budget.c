/*  budget.c: the shared sliding-window search budget (see budget.h). */
#include "soulpipe/budget.h"
#include "soulpipe/clock.h"
#include "soulpipe/rand.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

struct _sp_budget_t {
    sp_store_t *store;  //  borrowed
    char *key;          //  the sorted set
    char count[24];     //  searches per window, as text
    char window[24];    //  window in ms, as text
    unsigned seed;      //  for request ids and jitter
};

//  KEYS[1] log; ARGV[1] count; ARGV[2] window ms; ARGV[3] request id.
//  Returns {granted 1|0, wait ms, now ms}.
static const char *s_lua = "local t = redis.call('TIME')\n"
                           "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
                           "local win = tonumber(ARGV[2])\n"
                           "local seen = redis.call('ZSCORE', KEYS[1], ARGV[3])\n"
                           "if seen then return {1, 0, tonumber(seen)} end\n"
                           "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - win)\n"
                           "if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then\n"
                           "  redis.call('ZADD', KEYS[1], now, ARGV[3])\n"
                           "  redis.call('PEXPIRE', KEYS[1], win + 1000)\n"
                           "  return {1, 0, now}\n"
                           "end\n"
                           "local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
                           "local wait = tonumber(first[2]) + win - now + 1\n"
                           "if wait < 1 then wait = 1 end\n"
                           "return {0, wait, now}\n";

sp_budget_t *
sp_budget_new (sp_store_t *store, int count, int window_s, const char *key)
{
    if (!store || count < 1 || window_s < 1)
        return NULL;
    sp_budget_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->key = strdup (key ? key : SP_BUDGET_KEY);
    if (!self->key) {
        free (self);
        return NULL;
    }
    snprintf (self->count, sizeof self->count, "%d", count);
    snprintf (self->window, sizeof self->window, "%lld", (long long) window_s * 1000);
    self->seed = (unsigned) sp_rand_u64 ();
    return self;
}

void
sp_budget_destroy (sp_budget_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->key);
    free (*self_p);
    *self_p = NULL;
}

static int
s_try (sp_budget_t *self, const char *id, int64_t *wait_ms, int64_t *granted_ms)
{
    const char *argv[] = {"EVAL", s_lua, "1", self->key, self->count, self->window, id};
    redisReply *reply = NULL;
    int rc = sp_store_command (self->store, 7, argv, NULL, &reply);
    if (rc != SP_STORE_OK)
        return rc;
    rc = SP_STORE_EPROTO;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER) {
        bool granted = reply->element[0]->integer == 1;
        if (wait_ms)
            *wait_ms = reply->element[1]->integer;
        if (granted_ms)
            *granted_ms = reply->element[2]->integer;
        rc = granted ? 1 : 0;
    }
    freeReplyObject (reply);
    return rc;
}

static void
s_new_id (sp_budget_t *self, char *id, size_t n)
{
    (void) self;
    snprintf (id, n, "%llx-%016llx", (unsigned long long) sp_clock_wall_ms (),
              (unsigned long long) sp_rand_u64 ());
}

int
sp_budget_try (sp_budget_t *self, int64_t *wait_ms, int64_t *granted_ms)
{
    if (!self)
        return SP_STORE_EINVAL;
    char id[64];
    s_new_id (self, id, sizeof id);
    return s_try (self, id, wait_ms, granted_ms);
}

int
sp_budget_acquire (sp_budget_t *self, sp_budget_tick_fn *tick, void *arg, int64_t *granted_ms)
{
    if (!self)
        return SP_STORE_EINVAL;
    char id[64];
    s_new_id (self, id, sizeof id);
    for (;;) {
        int64_t wait = 0;
        int rc = s_try (self, id, &wait, granted_ms);
        if (rc == 1)
            return 0;
        if (rc < 0)
            return rc;
        if (tick && !tick (arg, wait))
            return 1;
        //  sleep until the oldest grant leaves the window, at most 1 s so
        //  the tick runs; a little jitter spreads the waiting searchers
        int64_t ms = wait < SP_BUDGET_MAX_SLEEP_MS ? wait : SP_BUDGET_MAX_SLEEP_MS;
        ms += rand_r (&self->seed) % 25;
        sp_clock_sleep_ms (ms);
    }
}
