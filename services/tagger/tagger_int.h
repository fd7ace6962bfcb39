/*  tagger_int.h: what the tagger's source files share; private to
    services/tagger/ (the stage's API is tagger.h).

    tagger.c     the object, and filing one track (sp_tagger_process, step
                 by step: check the staged file, the folder, the name, copy
                 + tag + rename, the records)
    layout.c     where a track goes (sp_tagger_layout; no I/O)
    cover.c      the album cover: cache in the album folder, else fetched
    m3u8.c       the playlist file: render (no I/O) and write it under the
                 store's per-playlist lock
    finisher.c   job end: final m3u8 and one library rescan per ending

    Internal names are sp_tagger__<verb> (double underscore).
*/
#ifndef SOULPIPE_TAGGER_INT_H
#define SOULPIPE_TAGGER_INT_H

#include "tagger.h"

#include "soulpipe/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_TAGGER__COVER_MAX   (10u * 1024 * 1024)  //  largest cover image, bytes
#define SP_TAGGER__TMP_SWEEP_S 2  //  temporary files this old and unlocked are a dead writer's

struct _sp_tagger_t {
    char *transfer_dir;      //  root of every file we write
    char *staging_real;      //  realpath of the staging dir ("" = unknown)
    bool embed_cover;        //  embed the cover in the file
    sp_store_t *store;       //  Redis (NULL = none)
    sp_http_t *cover_http;   //  base = SPOTIFY_API_URL (relative cover URLs)
    sp_medialib_t *library;  //  rescanned at a job's end; NULL = none or no rescan needed
    int scan_timeout_ms;     //  how long that rescan is waited for
    bool proc_fd;            //  /proc/self/fd usable for dirfd-relative paths
    int fail_point;          //  tests: 1 after copy, 2 after tag
    char m3u8_job[72];       //  job of the last progress m3u8 written
    int64_t m3u8_at;         //  when (monotonic ms)
};

/*  The artists joined with ", " (empty ones left out). Caller frees; NULL
    on out of memory. */
char *sp_tagger__join_artists (char *const *v, size_t n);

/*  The album cover for track t, whose album folder is open as albumfd:
    cover.jpg / cover.png there, else fetched from t->cover_url and saved
    there. On success *data (caller frees), *len and *mime (static) are set;
    without a cover *data is NULL. Never fails the track: problems are
    logged as warnings. */
void sp_tagger__cover (sp_tagger_t *self, int albumfd, const sp_track_t *t, unsigned char **data,
                       size_t *len, const char **mime);

/*  Rewrite Transfer/<playlist>/<playlist>.m3u8 of job_id from its track
    records, under the store's per-playlist lock. name is the playlist name
    (unsanitized); self_key/self_path (may be NULL) name a track being filed
    right now, whose record does not say so yet, and self_duration its
    length (s, -1 unknown). create: make the playlist folder if it is
    missing (else a missing folder means nothing to write). Problems are
    warnings: the tracks themselves are filed. Returns 0 when written (or
    nothing to write), -1 otherwise. Needs a store. */
int sp_tagger__m3u8_write (sp_tagger_t *self, const char *job_id, const char *name,
                           const char *self_key, const char *self_path, long self_duration,
                           bool create);

/*  After filing one track: the progress m3u8 (at most once a second per
    job, and always for the job's last track still to deliver). */
void sp_tagger__playlist_update (sp_tagger_t *self, const sp_payload_t *p, const char *final_path);

#endif
