/*  songs.c: the index of delivered songs, soulpipe:song:<spotify_id>
    (see songs.h). */
#include "soulpipe/songs.h"
#include "soulpipe/clock.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ID_MAX 64 /* longest accepted id, bytes */

//  Spotify ids are base62; accept letters, digits, '-' and '_' (tests).
static int
s_key (const char *id, char *key, size_t n)
{
    if (!id || !*id || strlen (id) > S_ID_MAX)
        return -1;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            return -1;
    snprintf (key, n, SP_SONGS_PREFIX "%s", id);
    return 0;
}

int
sp_songs_put (sp_store_t *store, const char *spotify_id, const char *path, const char *job,
              const char *track)
{
    char key[128];
    if (!store || !path || s_key (spotify_id, key, sizeof key) != 0)
        return SP_STORE_EINVAL;
    char ms[32];
    snprintf (ms, sizeof ms, "%lld", (long long) sp_clock_wall_ms ());
    const char *argv[] = {
        "HSET",       key, "path", path, "job", job ? job : "", "track", track ? track : "",
        "updated_ms", ms};
    size_t lens[10];
    for (int i = 0; i < 10; i++)
        lens[i] = strlen (argv[i]);
    redisReply *r = NULL;
    int rc = sp_store_command (store, 10, argv, lens, &r);
    if (rc == SP_STORE_OK && r->type == REDIS_REPLY_ERROR)
        rc = SP_STORE_EPROTO;
    if (r)
        freeReplyObject (r);
    return rc;
}

static char *
s_dup (const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? strndup (r->str, r->len) : strdup ("");
}

int
sp_songs_get (sp_store_t *store, const char *spotify_id, sp_songs_entry_t *entry)
{
    char key[128];
    if (entry)
        memset (entry, 0, sizeof *entry);
    if (!store || !entry || s_key (spotify_id, key, sizeof key) != 0)
        return SP_STORE_EINVAL;
    const char *argv[] = {"HMGET", key, "path", "job", "track"};
    size_t lens[5];
    for (int i = 0; i < 5; i++)
        lens[i] = strlen (argv[i]);
    redisReply *r = NULL;
    int rc = sp_store_command (store, 5, argv, lens, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3)
        rc = SP_STORE_EPROTO;
    else if (r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len == 0)
        rc = SP_STORE_ENOENT;
    else {
        entry->path = s_dup (r->element[0]);
        entry->job = s_dup (r->element[1]);
        entry->track = s_dup (r->element[2]);
        if (!entry->path || !entry->job || !entry->track) {
            sp_songs_entry_clear (entry);
            rc = SP_STORE_ENOMEM;
        }
    }
    freeReplyObject (r);
    return rc;
}

int
sp_songs_del (sp_store_t *store, const char *spotify_id)
{
    char key[128];
    if (!store || s_key (spotify_id, key, sizeof key) != 0)
        return SP_STORE_EINVAL;
    const char *argv[] = {"DEL", key};
    size_t lens[] = {3, strlen (key)};
    redisReply *r = NULL;
    int rc = sp_store_command (store, 2, argv, lens, &r);
    if (r)
        freeReplyObject (r);
    return rc;
}

void
sp_songs_entry_clear (sp_songs_entry_t *entry)
{
    if (!entry)
        return;
    free (entry->path);
    free (entry->job);
    free (entry->track);
    memset (entry, 0, sizeof *entry);
}
