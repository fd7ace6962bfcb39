/*  spotify.h: the analyzer's Spotify Web API client.

    Fetches a playlist (GET /v1/playlists/{id}, entries through the
    embedded first page and `next` links of /items, falling back to the
    entry key `track` and to the /tracks path where /items is unknown), an
    album (GET /v1/albums/{id}, tracks paged) or the user's Liked Songs
    (GET /v1/me/tracks) into an sp_playlist_t, with every field the later
    stages need (see sp_track_t). Null items, local files and episodes
    become unusable entries with a reason.

    Tokens: a user token (from `soulpipe login spotify`: the refresh token
    is saved in the store, sp_store_spotify_auth_get/_put, and the access
    token is cached in memory and in the store with its expiry) is refreshed 60 s before it expires
    and on a 401, and a rotated refresh token is stored at once. Without a
    login, playlists and albums use a client-credentials token when
    SPOTIFY_CLIENT_SECRET is set. 429s are slept on (Retry-After).
    The token state is shared by all submit threads (mutex).
*/
#ifndef SOULPIPE_ANALYZER_SPOTIFY_H
#define SOULPIPE_ANALYZER_SPOTIFY_H

#include "playlist.h"
#include "source.h"
#include "soulpipe/config.h"
#include "soulpipe/store.h"

#include <stdint.h>

typedef struct _sp_spotify_t sp_spotify_t;

/*  A failure: a machine code and a message for the user that says what to do. */
typedef struct {
    char code[64]; /* spotify_login_required, spotify_forbidden,
                                   spotify_not_found, spotify_unavailable,
                                   store, internal */
    char message[1024];
} sp_spotify_err_t;

/*  cfg is borrowed (must outlive the client). NULL on out of memory.
    Caller owns the result. */
sp_spotify_t *sp_spotify_new (const sp_config_t *cfg);
void sp_spotify_destroy (sp_spotify_t **self_p);

/*  Fetch src (playlist, album or liked) into a new playlist (*out, caller
    owns). Returns 0, or -1 with *err filled. Thread-safe. */
int sp_spotify_fetch (sp_spotify_t *self, sp_store_t *store, const sp_source_ref_t *src,
                      sp_playlist_t **out, sp_spotify_err_t *err);

/*  Keep the tokens of a login: refresh token, access token with its expiry
    (now + expires_in s) and scope, in Redis and in memory. Returns 0, or -1
    with *err filled (empty refresh token, Redis down). Thread-safe. */
int sp_spotify_login (sp_spotify_t *self, sp_store_t *store, const char *access_token,
                      const char *refresh_token, uint64_t expires_in, const char *scope,
                      sp_spotify_err_t *err);

#endif
