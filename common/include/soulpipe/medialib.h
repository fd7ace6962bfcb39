/*  medialib.h: the media library, one interface over Plex, Jellyfin,
    Subsonic (Navidrome) and a plain music folder.

    The analyzer needs the index of what the user already owns (every music
    track: title, artists, album, album artist, duration, file path, the
    server's item id) so the diff (services/analyzer/library.c,
    sp_library_match) can skip owned tracks; the tagger, after it moved a
    file into the library, needs the server to notice it (a rescan scoped to
    the folder Transfer lands in, waited on), the server's item for that
    file, and a playlist holding the user's tracks in order. One
    sp_medialib_t is one configured backend; what it cannot do is said by
    sp_medialib_caps().

    What each call does per backend:

                 load                  rescan (path, wait)           find_item            playlist_upsert
      plex       GET /library/sections GET /library/sections/<id>/   /library/sections/   GET /playlists (by title),
                 (type artist), then   refresh?path=<dir> for the    <id>/all?type=10&    POST /playlists?type=audio
                 /library/sections/    section whose Location holds  sort=addedAt:desc    &title=&smart=0&uri=
                 <id>/all?type=10      the path (all music sections  (newest first),      server://<machineId>/
                 paged with X-Plex-    when none does); done when    matched on Media/    com.plexapp.plugins.library/
                 Container-Start/Size  the section's "refreshing"    Part file            library/metadata/<ids>, or in
                                       attribute is back to false                         place: DELETE /playlists/<id>/
                                       (seen true first, or a short                       items/<playlistItemID> then
                                       grace when the scan was                            PUT /playlists/<id>/items?uri=
                                       quicker than the first poll)
      jellyfin   GET /Items?Include    POST /Library/Refresh (the    GET /Items?Include   GET /Items?IncludeItemTypes=
                 ItemTypes=Audio&      whole library: no RESCAN_     ItemTypes=Audio&     Playlist&userId= (by Name),
                 Recursive=true&       PATH); done when the Refresh- Recursive=true&      POST /Playlists {Name, Ids,
                 Fields=Path,...       Library task of /Scheduled-   Fields=Path newest   UserId, MediaType:"Audio"}, or
                 paged StartIndex/     Tasks is Idle (seen Running,  first, matched on    in place: DELETE /Playlists/
                 Limit until Total-    or its LastExecutionResult    Path                 <id>/Items?entryIds=, POST
                 RecordCount           changed)                                           /Playlists/<id>/Items?ids=
      subsonic   search3?query=""      startScan, then getScanStatus search3 over the     getPlaylists (by name),
                 paged songCount/      until scanning=false          index, by path       createPlaylist / updatePlaylist
                 songOffset                                                               (songIndexToRemove, songIdToAdd)
      folder     TagLib over          nothing to do (caps has no     the path itself is   <name>.m3u8 written atomically
                 SOULPIPE_LIBRARY_DIR  RESCAN_NEEDED): returns OK     the item id          in SOULPIPE_LIBRARY_PLAYLIST_DIR
                 (cache in Redis by    at once
                 path + mtime + size)
      none       OK, no tracks         OK at once                    NOTFOUND             UNSUPPORTED

    Errors: every call returns SP_MEDIALIB_OK (0) or a negative
    sp_medialib_err_t and writes a one-line reason into note (n bytes) that
    names the library and says what to check, e.g.
        "Plex is unreachable at http://plex:32400 (transport) while listing
         the library sections: check PLEX_URL"
        "Jellyfin refused the API key (HTTP 401) while reading the tracks:
         check JELLYFIN_API_KEY"
    URLs in notes are redacted (sp_log_redact_url); tokens, API keys and
    passwords are never put in notes or logs. UNREACHABLE is worth retrying
    later; REFUSED needs a configuration fix; the analyzer queues every track
    on either (nothing is "owned" when the library could not be read).

    Threads: one sp_medialib_t per thread (it holds one HTTP client).
*/
#ifndef SOULPIPE_MEDIALIB_H
#define SOULPIPE_MEDIALIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _sp_medialib_t sp_medialib_t;
typedef struct _sp_store_t sp_store_t; /* soulpipe/store.h */

typedef enum {
    SP_MEDIALIB_NONE = 0,  //  no library: nothing owned, every track queued
    SP_MEDIALIB_PLEX,
    SP_MEDIALIB_JELLYFIN,
    SP_MEDIALIB_SUBSONIC,  //  Navidrome or any Subsonic API server
    SP_MEDIALIB_FOLDER,
    SP_MEDIALIB_KIND_COUNT
} sp_medialib_kind_t;

typedef enum {
    SP_MEDIALIB_OK = 0,
    SP_MEDIALIB_ERR = -1,              //  anything else (an unexpected answer...): see note
    SP_MEDIALIB_ERR_UNREACHABLE = -2,  //  transport error, timeout, 5xx, 429: retry later
    SP_MEDIALIB_ERR_REFUSED = -3,      //  credentials refused (401/403, Subsonic 40/50)
    SP_MEDIALIB_ERR_TIMEOUT = -4,      //  the rescan did not finish within timeout_ms
    SP_MEDIALIB_ERR_NOTFOUND = -5,     //  find_item: no item for that path (yet)
    SP_MEDIALIB_ERR_UNSUPPORTED = -6,  //  this backend cannot do that (see caps)
    SP_MEDIALIB_ERR_CONFIG = -7,       //  sp_medialib_new: missing or bad option
    SP_MEDIALIB_ERR_NOMEM = -8
} sp_medialib_err_t;

//  Capabilities (sp_medialib_caps). A bit not set is a thing the backend
//  cannot do; its call then returns SP_MEDIALIB_ERR_UNSUPPORTED.
#define SP_MEDIALIB_CAN_LOAD          0x01u  //  has an index to load
#define SP_MEDIALIB_CAN_RESCAN        0x02u  //  can be told to rescan
#define SP_MEDIALIB_CAN_RESCAN_PATH   0x04u  //  ...only the folder given
#define SP_MEDIALIB_CAN_RESCAN_WAIT   0x08u  //  ...and tell when it finished
#define SP_MEDIALIB_CAN_FIND_ITEM     0x10u  //  item id for a file path
#define SP_MEDIALIB_CAN_PLAYLIST      0x20u  //  playlist_upsert
#define SP_MEDIALIB_RESCAN_NEEDED     0x40u  //  a new file is unseen until a rescan
#define SP_MEDIALIB_CAN_PLAYLIST_KEEP 0x80u  //  an update keeps the playlist's id

/*  Options, plain values so config wiring stays small. Strings are borrowed
    for the call of sp_medialib_new only (the backend copies what it keeps).
    NULL or "" = unset; 0 = the default for numbers. Each backend reads only
    its own group. */
typedef struct {
    sp_medialib_kind_t kind;

    const char *plex_url;       //  PLEX_URL, "http://plex:32400"
    const char *plex_token;     //  PLEX_TOKEN (secret)
    const char *plex_sections;  //  PLEX_SECTIONS, "1,4" ("" = every music section)

    const char *jellyfin_url;      //  JELLYFIN_URL, "http://jellyfin:8096"
    const char *jellyfin_api_key;  //  JELLYFIN_API_KEY (secret)
    const char *jellyfin_user_id;  //  JELLYFIN_USER_ID ("" = the first administrator
                                   //  from GET /Users, needed for playlists only)

    const char *subsonic_url;       //  SUBSONIC_URL (alias NAVIDROME_URL)
    const char *subsonic_user;      //  SUBSONIC_USER
    const char *subsonic_password;  //  SUBSONIC_PASSWORD (secret)

    const char *library_dir;   //  SOULPIPE_LIBRARY_DIR: one or more folders, ':' separated
    const char *playlist_dir;  //  SOULPIPE_LIBRARY_PLAYLIST_DIR: where .m3u8 files go (folder)
    sp_store_t *store;         //  folder index cache (borrowed, must outlive the
                               //  medialib); NULL = use redis_url
    const char *redis_url;     //  folder index cache when store is NULL ("" = no cache)

    int connect_timeout_ms;  //  per request connect timeout (default 3000)
    int request_timeout_ms;  //  per request total timeout (default 60000)
    int retries;             //  extra attempts on transport errors/5xx (default 1)
    int poll_ms;             //  rescan: status poll interval (default 500)
} sp_medialib_opts_t;

/*  One library track as a backend reports it. Strings are borrowed for the
    call of the callback only (copy what you keep). title is never NULL;
    others may be NULL when the server does not know them. */
typedef struct {
    const char *title;
    const char *artist;          //  track artist(s) as one string ("A, B";
                                 //  Plex originalTitle), NULL = same as album artist
    const char *const *artists;  //  the track artists one by one when the server
    size_t n_artists;            //  lists them (Jellyfin Artists); may be 0
    const char *album_artist;    //  Plex grandparentTitle, Jellyfin AlbumArtist
    const char *album;
    uint64_t duration_ms;  //  0 = unknown
    const char *path;      //  the file as the server sees it
    const char *item_id;   //  the server's id (Plex ratingKey, Jellyfin Id,
                           //  Subsonic song id, folder: the path)
} sp_medialib_track_t;

/*  Called once per track by sp_medialib_load. Return 0 to go on, non-zero
    to stop (sp_medialib_load then returns SP_MEDIALIB_ERR with note
    "stopped by the caller" unless the callback wrote a note itself). */
typedef int (sp_medialib_track_fn) (const sp_medialib_track_t *track, void *arg, char *note,
                                    size_t n);

// ------------------------------------------------------------ backends

/*  What a backend fills in (medialib_<kind>.c defines one const instance).
    state is the backend's own object. Every function gets the same
    contract as its sp_medialib_ wrapper below; the dispatcher checks
    arguments and caps before calling, so a function a backend cannot
    provide may be NULL. */
typedef struct {
    const char *name;  //  "Plex", "Jellyfin", "Subsonic", "folder": used in notes
    unsigned caps;     //  SP_MEDIALIB_CAN_* bits
    void *(*create) (const sp_medialib_opts_t *opts, char *note, size_t n);
    void (*destroy) (void **state_p);
    int (*load) (void *state, sp_medialib_track_fn *fn, void *arg, char *note, size_t n);
    int (*rescan) (void *state, const char *path, int timeout_ms, char *note, size_t n);
    int (*find_item) (void *state, const char *path, char **item_id, char *note, size_t n);
    int (*playlist_upsert) (void *state, const char *name, const char *const *item_ids,
                            size_t count, char **playlist_id, char *note, size_t n);
} sp_medialib_backend_t;

extern const sp_medialib_backend_t sp_medialib_plex_backend;      //  medialib_plex.c
extern const sp_medialib_backend_t sp_medialib_jellyfin_backend;  //  medialib_jellyfin.c
extern const sp_medialib_backend_t sp_medialib_subsonic_backend;  //  medialib_subsonic.c
extern const sp_medialib_backend_t sp_medialib_folder_backend;    //  medialib_folder.c

// ------------------------------------------------------------ choosing

/*  "plex", "jellyfin", "subsonic", "folder", "none". Static string. */
const char *sp_medialib_kind_name (sp_medialib_kind_t kind);

/*  The kind from SOULPIPE_LIBRARY's value (case-insensitive "plex",
    "jellyfin", "navidrome" or "subsonic", "folder", "none"). When value is
    NULL or "" the default: the one whose URL (or folder) is set, in the
    order plex, jellyfin, subsonic, folder; none when none is. When more than
    one is set the first wins and note says which were ignored (still 0).
    Returns 0 and *kind (note "" when nothing to say), or -1 with a note
    when value is not a known name. */
int sp_medialib_kind_choose (const char *value, const char *plex_url, const char *jellyfin_url,
                             const char *subsonic_url, const char *library_dir,
                             sp_medialib_kind_t *kind, char *note, size_t n);

// ------------------------------------------------------------ the library

/*  A library for opts->kind. Checks the options the backend needs (URL
    syntax, key present...) and returns NULL with a note and *err
    (SP_MEDIALIB_ERR_CONFIG, _NOMEM) when one is missing; makes no request
    yet. err may be NULL. Caller owns the result. */
sp_medialib_t *sp_medialib_new (const sp_medialib_opts_t *opts, int *err, char *note, size_t n);

/*  Destroy and NULL *self_p; accepts NULL. */
void sp_medialib_destroy (sp_medialib_t **self_p);

sp_medialib_kind_t sp_medialib_kind (const sp_medialib_t *self);

/*  "Plex", "Jellyfin", ... as used in notes. */
const char *sp_medialib_name (const sp_medialib_t *self);

/*  SP_MEDIALIB_CAN_* bits of this library. */
unsigned sp_medialib_caps (const sp_medialib_t *self);

/*  Call fn for every music track of the library. Returns OK, or an error
    with note. On an error some tracks may already have been reported: the
    caller must then throw its partial index away. */
int sp_medialib_load (sp_medialib_t *self, sp_medialib_track_fn *fn, void *arg, char *note,
                      size_t n);

/*  Make the server see new files under path (a directory or a file; the
    folder Transfer lands in) and wait up to timeout_ms (> 0) for the scan to
    finish. Returns OK when it finished (or when the backend needs no
    rescan), SP_MEDIALIB_ERR_TIMEOUT when it still ran at the deadline (note
    says so: "Plex was still scanning after 60 s"), or another error. */
int sp_medialib_rescan (sp_medialib_t *self, const char *path, int timeout_ms, char *note,
                        size_t n);

/*  The server's item id of the file at path (as the server sees it).
    Returns OK and *item_id (caller owns, free()), SP_MEDIALIB_ERR_NOTFOUND
    when the server has no such file (rescan first), or another error. */
int sp_medialib_find_item (sp_medialib_t *self, const char *path, char **item_id, char *note,
                           size_t n);

/*  Make the playlist called name hold exactly item_ids[0..count-1] in that
    order (count may be 0: an empty playlist). One playlist per name: when
    one exists it is updated in place (its id stays, when caps has
    CAN_PLAYLIST_KEEP); else it is created. Returns OK and *playlist_id
    (caller owns, free(); playlist_id may be NULL), or an error. */
int sp_medialib_playlist_upsert (sp_medialib_t *self, const char *name, const char *const *item_ids,
                                 size_t count, char **playlist_id, char *note, size_t n);

/*  A short name for an error ("ok", "unreachable", "refused", ...). */
const char *sp_medialib_err_name (int err);

// ------------------------------------------------------------ for backends

/*  The note for a failed HTTP request (rc an sp_http_err_t, status the HTTP
    status or 0), in the house words: "<name> is unreachable at <redacted
    url> (<class>) while <what>: check <url_var>", "<name> refused the
    <credential> (HTTP 401) while <what>: check <key_var>", "<name> answered
    HTTP 500 while <what>". Returns the sp_medialib_err_t for it. */
int sp_medialib_http_note (const char *name, const char *base_url, const char *url_var,
                           const char *credential, const char *key_var, int rc, long status,
                           const char *what, char *note, size_t n);

#endif
