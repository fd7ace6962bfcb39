/*  medialib_subsonic_int.h: private to the Subsonic backend of the media
    library (medialib_subsonic.c: load, rescan, find_item, playlists;
    medialib_subsonic_call.c: the authenticated form requests). Nothing here
    is part of the public API; see medialib.h.
*/
#ifndef SOULPIPE_MEDIALIB_SUBSONIC_INT_H
#define SOULPIPE_MEDIALIB_SUBSONIC_INT_H

#include "soulpipe/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define S_API_VERSION  "1.16.1"
#define S_CLIENT       "soulpipe"
#define S_PAGE         500          //  songs per search3 request
#define S_MAX_SONGS    10000000     //  a sanity bound on the index
#define S_MAX_RESPONSE (64u << 20)  //  a page of 500 songs is well under 1 MB
#define S_CONNECT_MS   3000         //  default connect timeout
#define S_TOTAL_MS     60000        //  default per request
#define S_POLL_MS      500          //  default getScanStatus interval
#define S_UPDATE_BATCH 200          //  songIdToAdd per updatePlaylist request

//  One song of the cached index (for find_item).
typedef struct {
    char *id;            //  the server's song id
    char *path;          //  as the server reports it
    char *title;         //  for the match by tags (servers without real paths)
    char *album;         //  may be NULL
    char *artist;        //  may be NULL
    char *album_artist;  //  may be NULL
} s_song_t;

typedef struct {
    char *url;         //  SUBSONIC_URL without trailing '/'
    char *user;        //  SUBSONIC_USER
    char *password;    //  SUBSONIC_PASSWORD (secret: never logged)
    char server[32];   //  "Navidrome" once an answer said so, else "Subsonic"
    int poll_ms;       //  scan status poll interval
    sp_http_t *http;   //  one client, keep-alive
    s_song_t *songs;   //  index for find_item
    size_t n_songs;    //  songs used
    size_t cap_songs;  //  songs allocated
    bool songs_valid;  //  the index reflects the last scan
} s_subsonic_t;

//  A growable form body.
typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
} s_form_t;

/*  Append to a form body; on out of memory the form is marked (f->oom) and
    the call that sends it fails. */
void sp_subsonic__form_raw (s_form_t *f, const char *s);
void sp_subsonic__form_add (s_form_t *f, const char *name, const char *value);
void sp_subsonic__form_addf (s_form_t *f, const char *name, long long value);

/*  Wipe (it may hold a token) and free the body; the form is empty after. */
void sp_subsonic__form_free (s_form_t *f);

/*  Call method with the form parameters params (already built, may be
    empty), with a fresh salt and token. On SP_MEDIALIB_OK *out (caller
    owns, json_decref) is the subsonic-response object; otherwise note says
    what failed and what to check. idempotent: the request may be sent
    again on a transport error or 5xx (reads). */
int sp_subsonic__call (s_subsonic_t *self, const char *method, s_form_t *params, bool idempotent,
                       const char *what, json_t **out, char *note, size_t n);

#endif
