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
    folder.c     the playlist's folder name (distinct playlists, distinct folders)
    jobend.c     job end: the job's tracks in order (summary) and the
                 playlist in the media library

    Internal names are sp_tagger__<verb> (double underscore).
*/
#ifndef SOULPIPE_TAGGER_INT_H
#define SOULPIPE_TAGGER_INT_H

#include "tagger.h"

#include "soulpipe/http.h"
#include "soulpipe/notify.h"

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
    sp_medialib_t *library;  //  rescanned (when it needs it) and given the playlist at a
                             //  job's end; NULL = none, or neither is needed
    bool library_rescan;     //  the library needs a rescan to see new files
    bool library_playlists;  //  SOULPIPE_LIBRARY_PLAYLISTS
    sp_notify_t *notify;     //  job-end notifications (borrowed; NULL = none)
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

/*  The folder under Transfer of job_id's playlist called name (folder.c:
    the sanitized name, with " [<id>]" when the name is degenerate or
    another playlist claimed that folder first). On 0 *folder_out is set
    (caller frees); -1 out of memory, -2 Redis error (try again later). */
int sp_tagger__folder (sp_tagger_t *self, const char *job_id, const char *name, char **folder_out);

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

/*  One track of an ended job, as the job-end work needs it (heap strings,
    never NULL except path). */
typedef struct {
    int position;   //  0-based playlist position
    char *state;    //  "done", "skipped", "failed", ...
    char *title;    //  "" when unknown
    char *artists;  //  display text "A, B"
    char *path;     //  final path (done), library or Transfer path (skipped); NULL = none
    char *reason;   //  failure or skip reason ("" = none)
} sp_tagger__entry_t;

typedef struct {
    sp_tagger__entry_t *v;  //  in playlist order
    size_t n, cap;
} sp_tagger__summary_t;

/*  Read every track of job_id in playlist order into *out (cleared
    first; sp_tagger__summary_clear). Returns 0, or -1 (Redis error, out of
    memory: logged, *out empty). */
int sp_tagger__summary_load (sp_tagger_t *self, const char *job_id, sp_tagger__summary_t *out);
void sp_tagger__summary_clear (sp_tagger__summary_t *s);

/*  The artists field of a track record (a JSON array, or text already) as
    "A, B". Caller frees; NULL on out of memory. */
char *sp_tagger__artists_text (const char *artists);

/*  Create or update the playlist called name in the library from the
    summary s of job_id (see jobend.c): nothing when there is no library,
    SOULPIPE_LIBRARY_PLAYLISTS is off or the backend has no playlists.
    Returns 0 when done or nothing to do, -1 when the library failed
    (logged as event=library_playlist_failed). Needs a store. */
int sp_tagger__library_playlist (sp_tagger_t *self, const char *job_id, const char *name,
                                 const sp_tagger__summary_t *s);

/*  Queue the job_finished notification of job (summary s; NULL = counts
    only) on self->notify (see notify.h for the event). Never waits on the
    network. */
void sp_tagger__notify_job (sp_tagger_t *self, const sp_store_job_t *job,
                            const sp_tagger__summary_t *s);

/*  After filing one track: the progress m3u8 (at most once a second per
    job, and always for the job's last track still to deliver). */
void sp_tagger__playlist_update (sp_tagger_t *self, const sp_payload_t *p, const char *final_path);

#endif
