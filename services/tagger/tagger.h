/*  tagger.h: the tag stage. For one downloaded track (a `tag` job payload)
    the tagger
      1. checks the staged file (inside SOULPIPE_STAGING_DIR, readable audio
         of a supported format) before anything is created in Transfer;
      2. works out its place (sp_tagger_layout):
           Transfer/<PLAYLIST>/<ARTIST>/<ARTIST> - <ALBUM>/<NN> - <TITLE>.<ext>
           Transfer/<PLAYLIST>/<ARTIST>/<ARTIST> - <TITLE>/<TITLE>.<ext>  (single)
         ARTIST is the album's first artist, or the track's first artist for
         compilations (album type "compilation" or album artist "Various
         Artists"); every component goes through the path sanitizer;
      3. recognizes a re-delivery: when the name is taken by a file whose
         SPOTIFY_TRACK_ID tag (or, without an id, title + artist tags) is
         this track, that file is the result and nothing is written; a file
         of a different track makes it try "<stem> [<spotify id>]" and then
         "<stem> (2)".."(99)" (deterministic for the same track);
      4. fetches the album cover once per album folder: cover.jpg (cover.png
         for PNG images) in the album folder is the cache; cover_url may be
         absolute or a path ("/images/<id>.jpg", as in the demo fixture),
         which is resolved against SPOTIFY_API_URL's scheme/host/port;
         a cover that cannot be fetched is a warning, not a failure;
      5. copies the staged file to a hidden temporary name in the destination
         folder, writes the tags there (sp_tags_write), renames it into place
         without overwriting, and only then removes the staged file. Any
         failure before the rename discards the temporary file and the folders
         this call created: Transfer is unchanged and the staged file intact;
      6. with a store: records the path on the track record and in the songs
         index, and rewrites Transfer/<PLAYLIST>/<PLAYLIST>.m3u8 from the
         job's track records in playlist order under the store's
         per-playlist lock (progress while the job runs).

    Job end (the finisher): a job's last track may finish in any stage (a
    search that finds nothing, a failed download), where no tagger runs. So
    the store itself announces every job that ends (done, or cancelled while
    running) as "<job> <ending>" (ending counts the job's endings), in the
    same script that ends it. Each tagger process runs one finisher thread
    (main.c) that takes an ending (sp_store_finished_pop), rewrites the m3u8
    a last time (now listing failed tracks with their reasons) and, when a
    library that needs it is configured (medialib caps RESCAN_NEEDED: Plex,
    Jellyfin, Subsonic; a folder library reads the files itself) and the job
    filed at least one track, asks the library to rescan the Transfer folder
    and waits for that scan (sp_medialib_rescan, SOULPIPE_LIBRARY_SCAN_TIMEOUT_S)
    once per ending (sp_store_job_claim_rescan), then acknowledges
    the entry (sp_store_finished_ack). After the rescan, for a job that is
    done, the playlist in the media library (SOULPIPE_LIBRARY_PLAYLISTS,
    jobend.c): same name, the tracks in source order that the library has
    a file of, failed ones left out and logged; one playlist per name,
    updated in place. Then the job_finished notification (SOULPIPE_NOTIFY_URL,
    notify.h), queued and sent by the notifier's own threads. A job retried with `soulpipe retry`
    that ends again has a new ending number, so it gets its final m3u8 and
    one more rescan (new files may have arrived). Crash safety: an ending a
    dead process had taken is put back at the next tagger start
    (sp_tagger_finish_recover); running it twice rewrites the same m3u8 and
    the claim keeps the rescan single (a crash between the claim and the
    request loses that rescan rather than doubling it).

    Files: tagger.c (object, filing), layout.c, cover.c, m3u8.c, finisher.c
    (see tagger_int.h).     One sp_tagger_t per thread (it holds a Redis connection and HTTP clients).
*/
#ifndef SOULPIPE_TAGGER_H
#define SOULPIPE_TAGGER_H

#include "soulpipe/medialib.h"
#include "soulpipe/msg.h"
#include "soulpipe/store.h"

#include <stdbool.h>
#include <stddef.h>

// ------------------------------------------------------------ layout (no I/O)

typedef struct {
    char *playlist;  //  sanitized playlist folder
    char *artist;    //  sanitized artist folder
    char *album;     //  "<ARTIST> - <ALBUM>" or "<ARTIST> - <TITLE>" (single)
    char *file;      //  "<NN> - <TITLE>.<ext>" or "<TITLE>.<ext>", with suffix
    bool single;
} sp_tagger_layout_t;

/*  Compute the layout of track for a file of extension ext (e.g. "flac";
    lower-cased, only [a-z0-9] kept). suffix (may be NULL/"") is added to the
    file stem before the extension (" [id]", " (2)"); the stem is cut so the
    name with suffix and extension stays within 255 bytes. On 0 *out holds
    heap strings (sp_tagger_layout_clear); -1 on bad input (no playlist, no
    title, no extension) or out of memory, with *out zeroed. */
int sp_tagger_layout (const sp_track_t *track, const char *ext, const char *suffix,
                      sp_tagger_layout_t *out);

/*  Free the strings of *layout and zero it. Accepts NULL. */
void sp_tagger_layout_clear (sp_tagger_layout_t *layout);

// ------------------------------------------------------------ m3u8 (no I/O)

/*  One line source for sp_tagger_m3u8_render. Borrowed strings. */
typedef struct {
    const char *state;  //  track state ("done", "skipped", "failed", ...)
    const char *title;
    const char *artists;  //  display text "A, B"
    const char *path;     //  final path (done/tagged) or library path (skipped); may be NULL
    const char *reason;   //  failure reason; may be NULL
    long duration_s;      //  -1 = unknown
    bool filed;           //  the file is in this playlist's folder
} sp_tagger_m3u8_entry_t;

/*  Render the playlist file: "#EXTM3U", "#PLAYLIST:<name>", then per entry
    in order: filed tracks as "#EXTINF:<s>,<Artist> - <Title>" + the path
    relative to playlist_dir; every other track as a comment line
    "# <n>. <Artist> - <Title> (<state>[: library path or reason])".
    CR/LF in any text become spaces. Caller owns the returned string; NULL on
    out of memory. */
char *sp_tagger_m3u8_render (const char *name, const char *playlist_dir,
                             const sp_tagger_m3u8_entry_t *entries, size_t n);

// ------------------------------------------------------------ the stage

typedef struct {
    const char *transfer_dir;     //  SOULPIPE_TRANSFER_DIR (must exist)
    const char *staging_dir;      //  SOULPIPE_STAGING_DIR (staged files must be inside)
    const char *redis_url;        //  NULL/"" = no store: no m3u8, songs, lock, rescan
    const char *spotify_api_url;  //  base for relative cover URLs (may be NULL)
    sp_medialib_opts_t library;   //  the library to rescan at a job's end (kind NONE = none;
                                  //  sp_config_library_opts); its store is set by the tagger
    int scan_timeout_ms;          //  how long to wait for that rescan (0 = 300 s)
    bool library_playlists;       //  create/update the playlist in the library at a job's end
    bool embed_cover;
} sp_tagger_opts_t;

typedef struct _sp_tagger_t sp_tagger_t;

/*  Create a tagger (connects to Redis when redis_url is set). Strings are
    copied. Returns NULL with a reason in err on failure. Caller owns it. */
sp_tagger_t *sp_tagger_new (const sp_tagger_opts_t *opts, char *err, size_t err_size);

/*  Destroy; accepts NULL, nulls *self_p. */
void sp_tagger_destroy (sp_tagger_t **self_p);

/*  The store the tagger uses (borrowed; NULL without one). */
sp_store_t *sp_tagger_store (sp_tagger_t *self);

/*  Notifications for the job ends this tagger finishes (borrowed: notify
    must outlive the tagger; NULL = none). The finisher's tagger only. */
typedef struct _sp_notify_t sp_notify_t;
void sp_tagger_set_notify (sp_tagger_t *self, sp_notify_t *notify);

/*  Tests only: make the next files fail on purpose at a point:
    1 = after the copy into the destination folder, 2 = after tagging,
    before the rename; 0 = off. */
void sp_tagger_set_fail_point (sp_tagger_t *self, int point);

/*  Tag and file one track (steps above). On 0 payload->staged_path is
    replaced by the final path. On -1 reason holds words a user understands
    and *retry says whether another try could succeed (I/O errors, Redis
    down) or not (corrupt or unsupported file, missing staged file). */
int sp_tagger_process (sp_tagger_t *self, sp_payload_t *payload, char *reason, size_t reason_size,
                       bool *retry);

/*  Job-end work for one ending of job_id (see "Job end" above): final m3u8
    (the playlist folder is created only if the job filed a track) and the
    library rescan once per (job, ending). A job that is running again (retried
    since) is skipped. Returns 0, or -1 when Redis or the m3u8 write failed
    (the rescan flag is not retried). Needs a store. */
int sp_tagger_finish_job (sp_tagger_t *self, const char *job_id, long ending);

/*  Take one announced job ending (waiting up to wait_ms; 0 = do not wait)
    and finish it. Returns 1 when an entry was handled (a malformed one is
    dropped), 0 when there was none, -1 on a Redis error. */
int sp_tagger_finish_next (sp_tagger_t *self, int wait_ms);

/*  At start-up: put the endings a dead finisher had taken back on the
    queue (sp_store_finished_recover). Returns how many, or -1 on a Redis
    error. */
int sp_tagger_finish_recover (sp_tagger_t *self);

#endif
