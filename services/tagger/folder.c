/*  folder.c: which folder under Transfer a job's playlist gets (its m3u8 is
    named after it too), so that distinct playlists never share one.

    The folder is the sanitized playlist name, except:
      - a name of which nothing survives sanitizing (".", "..", "...",
        spaces, "///": sp_path_is_degenerate) gets "untitled [<id>]";
      - a name whose sanitized folder another playlist claimed first (two
        Spotify playlists both called "Chill", or "AC/DC" and "AC_DC") gets
        "<name> [<id>]".
    The id is the Spotify playlist or album id of the job's source (the
    part after the last ':' of "spotify:playlist:ID"); a text list has no
    id, so it is a hash of its name (a text list is known by its name:
    the same list submitted again goes to the same folder). Claims are
    kept in Redis ("soulpipe:folder:<folder>" -> the source, or "text:" +
    the name, set once with SET NX and never changed), so every tagger
    process and every later job of a playlist picks the same folder.
    Without a store only the degenerate rule applies (the id is then the
    job id).
*/
#include "tagger_int.h"

#include "soulpipe/log.h"
#include "soulpipe/path.h"

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CLAIM_PREFIX "soulpipe:folder:"

//  Claim folder for identity: true when it is (now) ours, false when
//  another playlist holds it; -1 on a Redis error.
static int
s_claim (sp_store_t *store, const char *folder, const char *identity)
{
    size_t kl = strlen (S_CLAIM_PREFIX) + strlen (folder) + 1;
    char *key = malloc (kl);
    if (!key)
        return -1;
    snprintf (key, kl, "%s%s", S_CLAIM_PREFIX, folder);
    const char *set[] = {"SET", key, identity, "NX"};
    size_t set_l[] = {3, strlen (key), strlen (identity), 2};
    const char *get[] = {"GET", key};
    size_t get_l[] = {3, strlen (key)};
    struct redisReply *r = NULL;
    int result = -1;
    //  SET NX then GET (both safe to resend): the holder is whoever set it
    //  first, and a claim never changes
    if (sp_store_command (store, 4, set, set_l, &r) != SP_STORE_OK)
        goto done;
    bool err = r->type == REDIS_REPLY_ERROR;
    freeReplyObject (r);
    r = NULL;
    if (err || sp_store_command (store, 2, get, get_l, &r) != SP_STORE_OK)
        goto done;
    if (r->type == REDIS_REPLY_STRING)
        result = r->len == strlen (identity) && memcmp (r->str, identity, r->len) == 0;
    freeReplyObject (r);
done:
    free (key);
    return result;
}

int
sp_tagger__folder (sp_tagger_t *self, const char *job_id, const char *name, char **folder_out)
{
    *folder_out = NULL;
    if (!self->store || !job_id || !*job_id) {
        *folder_out = sp_path_playlist_folder (name, job_id, false);
        return *folder_out ? 0 : -1;
    }
    sp_store_job_t *job = NULL;
    if (sp_store_job_get (self->store, job_id, &job) != SP_STORE_OK)
        return -2;
    const char *source = job->source ? job->source : "";
    bool text = !*source || strcmp (source, "text") == 0;
    char id[80];
    char *identity = NULL;
    int result = -1;
    if (text) {
        //  FNV-1a of the name: stable for a list submitted again
        uint64_t h = 1469598103934665603ull;
        for (const unsigned char *c = (const unsigned char *) (name ? name : ""); *c; c++)
            h = (h ^ *c) * 1099511628211ull;
        snprintf (id, sizeof id, "%016llx", (unsigned long long) h);
        size_t n = strlen (name ? name : "") + 6;
        identity = malloc (n);
        if (identity)
            snprintf (identity, n, "text:%s", name ? name : "");
    } else {
        const char *tail = strrchr (source, ':');
        const char *slash = strrchr (source, '/');
        if (slash && (!tail || slash > tail))
            tail = slash;
        snprintf (id, sizeof id, "%.64s", tail ? tail + 1 : source);
        identity = strdup (source);
    }
    if (!identity)
        goto done;
    if (sp_path_is_degenerate (name)) {
        *folder_out = sp_path_playlist_folder (name, id, false);
        result = *folder_out ? 0 : -1;
        goto done;
    }
    char *plain = sp_path_sanitize (name);
    if (!plain)
        goto done;
    int mine = s_claim (self->store, plain, identity);
    if (mine < 0) {
        free (plain);
        result = -2;
        goto done;
    }
    if (mine) {
        *folder_out = plain;
        result = 0;
        goto done;
    }
    free (plain);
    *folder_out = sp_path_playlist_folder (name, id, true);
    result = *folder_out ? 0 : -1;
    if (*folder_out)
        sp_log_debug ("event=playlist_folder_taken job=%s name=%s folder=%s", sp_log_q (job_id),
                      sp_log_q (name), sp_log_q (*folder_out));
done:
    free (identity);
    sp_store_job_destroy (&job);
    return result;
}
