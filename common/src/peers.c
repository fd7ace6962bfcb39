/*  peers.c: peer memory in Redis (see peers.h). One Lua script per update,
    using the Redis clock, so concurrent downloaders never lose a count. */
#include "soulpipe/peers.h"
#include "soulpipe/store.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX "soulpipe:peer:"
#define MAX_MANY   512  //  usernames per sp_peers_get_many round trip

//  KEYS[1] peer key; ARGV[1] outcome ("ok"|"fail"|"fake"); ARGV[2] speed; ARGV[3] ttl s
static const char *s_record_lua =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "if ARGV[1] == 'ok' then\n"
    "  redis.call('HINCRBY', KEYS[1], 'ok', 1)\n"
    "  redis.call('HSET', KEYS[1], 'streak', 0, 'last_ok', now)\n"
    "  local sp = tonumber(ARGV[2])\n"
    "  if sp and sp > 0 then\n"
    "    local old = tonumber(redis.call('HGET', KEYS[1], 'speed') or '0')\n"
    "    if old and old > 0 then sp = math.floor(old * 0.75 + sp * 0.25) end\n"
    "    redis.call('HSET', KEYS[1], 'speed', sp)\n"
    "  end\n"
    "else\n"
    "  if ARGV[1] == 'fake' then redis.call('HINCRBY', KEYS[1], 'fake', 1) end\n"
    "  redis.call('HINCRBY', KEYS[1], 'fail', 1)\n"
    "  redis.call('HINCRBY', KEYS[1], 'streak', 1)\n"
    "  redis.call('HSET', KEYS[1], 'last_fail', now)\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))\n"
    "return 1\n";

//  KEYS = peer keys; returns one array per key (empty when absent)
static const char *s_get_lua = "local out = {}\n"
                               "for i, k in ipairs(KEYS) do\n"
                               "  out[i] = redis.call('HMGET', k, 'ok', 'fail', 'streak', "
                               "'last_fail', 'last_ok', 'speed', 'fake')\n"
                               "end\n"
                               "return out\n";

static char *
s_key (const char *username)
{
    size_t n = strlen (KEY_PREFIX) + strlen (username) + 1;
    char *k = malloc (n);
    if (k)
        snprintf (k, n, "%s%s", KEY_PREFIX, username);
    return k;
}

int
sp_peers_record (sp_store_t *store, const char *username, sp_peer_outcome_t outcome, int64_t speed)
{
    if (!store || !username || !*username)
        return SP_STORE_EINVAL;
    char *key = s_key (username);
    if (!key)
        return SP_STORE_ENOMEM;
    char sp[32], ttl[32];
    snprintf (sp, sizeof sp, "%lld", (long long) (speed > 0 ? speed : 0));
    snprintf (ttl, sizeof ttl, "%d", SP_PEERS_TTL_S);
    const char *argv[] = {"EVAL",
                          s_record_lua,
                          "1",
                          key,
                          outcome == SP_PEER_OK     ? "ok"
                          : outcome == SP_PEER_FAKE ? "fake"
                                                    : "fail",
                          sp,
                          ttl};
    redisReply *reply = NULL;
    int rc = sp_store_command (store, 7, argv, NULL, &reply);
    free (key);
    if (rc != SP_STORE_OK)
        return rc;
    if (!reply || reply->type == REDIS_REPLY_ERROR)
        rc = SP_STORE_EPROTO;
    freeReplyObject (reply);
    return rc;
}

static int64_t
s_num (const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_STRING)
        return strtoll (r->str, NULL, 10);
    if (r && r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    return 0;
}

static int
s_get_chunk (sp_store_t *store, const char *const *usernames, size_t n, sp_peer_t *out)
{
    const char **argv = calloc (n + 3, sizeof *argv);
    char **keys = calloc (n, sizeof *keys);
    int rc = SP_STORE_ENOMEM;
    redisReply *reply = NULL;
    if (!argv || !keys)
        goto done;
    char nkeys[24];
    snprintf (nkeys, sizeof nkeys, "%zu", n);
    argv[0] = "EVAL";
    argv[1] = s_get_lua;
    argv[2] = nkeys;
    for (size_t i = 0; i < n; i++) {
        keys[i] = s_key (usernames[i] ? usernames[i] : "");
        if (!keys[i])
            goto done;
        argv[3 + i] = keys[i];
    }
    rc = sp_store_command (store, (int) (n + 3), argv, NULL, &reply);
    if (rc != SP_STORE_OK)
        goto done;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != n) {
        rc = SP_STORE_EPROTO;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = reply->element[i];
        memset (&out[i], 0, sizeof out[i]);
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 7)
            continue;
        bool any = false;
        for (size_t k = 0; k < 7; k++)
            any |= e->element[k]->type == REDIS_REPLY_STRING;
        if (!any)
            continue;
        out[i].known = true;
        out[i].ok = s_num (e->element[0]);
        out[i].fail = s_num (e->element[1]);
        out[i].streak = s_num (e->element[2]);
        out[i].last_fail_ms = s_num (e->element[3]);
        out[i].last_ok_ms = s_num (e->element[4]);
        out[i].speed = s_num (e->element[5]);
        out[i].fakes = s_num (e->element[6]);
    }
    rc = SP_STORE_OK;
done:
    if (reply)
        freeReplyObject (reply);
    if (keys)
        for (size_t i = 0; i < n; i++)
            free (keys[i]);
    free (keys);
    free (argv);
    return rc;
}

int
sp_peers_get_many (sp_store_t *store, const char *const *usernames, size_t n, sp_peer_t *out)
{
    if (!store || (n && (!usernames || !out)))
        return SP_STORE_EINVAL;
    for (size_t i = 0; i < n; i += MAX_MANY) {
        size_t c = n - i < MAX_MANY ? n - i : MAX_MANY;
        int rc = s_get_chunk (store, usernames + i, c, out + i);
        if (rc != SP_STORE_OK)
            return rc;
    }
    return SP_STORE_OK;
}

int
sp_peers_get (sp_store_t *store, const char *username, sp_peer_t *out)
{
    if (!username || !out)
        return SP_STORE_EINVAL;
    const char *names[1] = {username};
    return sp_peers_get_many (store, names, 1, out);
}

bool
sp_peers_blocked (const sp_peer_t *peer, int64_t now_ms)
{
    return peer && peer->known && peer->streak >= SP_PEERS_SKIP_STREAK &&
           now_ms - peer->last_fail_ms < SP_PEERS_SKIP_MS;
}
