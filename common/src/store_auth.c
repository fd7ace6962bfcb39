/*  store_auth.c: the saved Spotify login (see store.h, "Spotify login"):
    the refresh token `soulpipe login spotify` obtained and the access token
    cached with its expiry, in one hash the analyzer reads and rewrites.
    Plain HMGET/HSET of fixed values: resending them is harmless.
*/
#include "store_int.h"

#include "soulpipe/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_AUTH_KEY "soulpipe:spotify:auth"

void
sp_store_spotify_auth_clear (sp_store_spotify_auth_t *auth)
{
    if (!auth)
        return;
    free (auth->refresh_token);
    free (auth->access_token);
    memset (auth, 0, sizeof *auth);
}

int
sp_store_spotify_auth_get (sp_store_t *self, sp_store_spotify_auth_t *auth)
{
    if (auth)
        memset (auth, 0, sizeof *auth);
    if (!self || !auth)
        return SP_STORE_EINVAL;
    const char *argv[] = {"HMGET", S_AUTH_KEY, "refresh_token", "access_token", "expires_at_ms"};
    redisReply *r = NULL;
    int rc = sp_store__exec (self, 5, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    char **fields[] = {&auth->refresh_token, &auth->access_token};
    for (size_t i = 0; i < 2; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len == 0)
            continue;
        *fields[i] = sp_store__strndup (e->str, e->len);
        if (!*fields[i]) {
            freeReplyObject (r);
            sp_store_spotify_auth_clear (auth);
            return SP_STORE_ENOMEM;
        }
    }
    if (r->element[2]->type == REDIS_REPLY_STRING)
        auth->expires_at_ms = sp_store__parse_i64 (r->element[2]->str);
    freeReplyObject (r);
    return SP_STORE_OK;
}

int
sp_store_spotify_auth_put (sp_store_t *self, const char *refresh_token, const char *access_token,
                           int64_t expires_at_ms, const char *scope)
{
    if (!self)
        return SP_STORE_EINVAL;
    char exp[32], now[32];
    snprintf (exp, sizeof exp, "%lld", (long long) expires_at_ms);
    snprintf (now, sizeof now, "%lld", (long long) sp_clock_wall_ms ());
    const char *argv[12];
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = S_AUTH_KEY;
    argv[argc++] = "access_token";
    argv[argc++] = access_token ? access_token : "";
    argv[argc++] = "expires_at_ms";
    argv[argc++] = exp;
    argv[argc++] = "updated_ms";
    argv[argc++] = now;
    if (refresh_token) {
        argv[argc++] = "refresh_token";
        argv[argc++] = refresh_token;
    }
    if (scope) {
        argv[argc++] = "scope";
        argv[argc++] = scope;
    }
    redisReply *r = NULL;
    int rc = sp_store__exec (self, argc, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    rc = r->type == REDIS_REPLY_ERROR ? SP_STORE_EPROTO : SP_STORE_OK;
    freeReplyObject (r);
    return rc;
}
