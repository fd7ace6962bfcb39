/*  songs.h: the index of songs soulpipe has already delivered.

    One Redis hash per Spotify track, soulpipe:song:<spotify_id> ->
    {path, job, track, updated_ms}. The tagger writes it when a track is done
    (sp_songs_put); the analyzer reads it (sp_songs_get) so that a track
    downloaded by an earlier run, whose file is still there, is not
    downloaded again when a playlist is submitted again.

    All access goes through sp_store_command (reconnect and retry included).
    The commands are idempotent (HSET of fixed values, HGETALL, DEL).
*/
#ifndef SOULPIPE_SONGS_H
#define SOULPIPE_SONGS_H

#include "soulpipe/store.h"

#define SP_SONGS_PREFIX "soulpipe:song:"

/*  One index entry. Strings are heap copies owned by the struct
    (sp_songs_entry_clear). */
typedef struct {
    char *path;  /* final file path */
    char *job;   /* playlist job that delivered it */
    char *track; /* its track key */
} sp_songs_entry_t;

/*  Record that spotify_id was delivered to path by job/track (job and track
    may be NULL = ""). Returns SP_STORE_OK, SP_STORE_EINVAL (empty or odd
    id, NULL path), SP_STORE_EIO. */
int sp_songs_put (sp_store_t *store, const char *spotify_id, const char *path, const char *job,
                  const char *track);

/*  Look up spotify_id. On SP_STORE_OK *entry is filled (clear it with
    sp_songs_entry_clear); SP_STORE_ENOENT when not recorded; SP_STORE_EINVAL,
    SP_STORE_EIO, SP_STORE_EPROTO (unexpected reply). *entry is zeroed
    first. */
int sp_songs_get (sp_store_t *store, const char *spotify_id, sp_songs_entry_t *entry);

/*  Forget spotify_id (e.g. its file was deleted). SP_STORE_OK also when it
    was not recorded. */
int sp_songs_del (sp_store_t *store, const char *spotify_id);

/*  Free the strings of *entry and zero it. Accepts NULL. */
void sp_songs_entry_clear (sp_songs_entry_t *entry);

#endif
