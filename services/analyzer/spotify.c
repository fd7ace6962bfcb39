/*  spotify.c: placeholder until the Web API client lands. */
#include "spotify.h"

#include <stdio.h>
#include <stdlib.h>

struct _sp_spotify_t {
    const sp_config_t *cfg;
};

sp_spotify_t *
sp_spotify_new (const sp_config_t *cfg)
{
    sp_spotify_t *self = calloc (1, sizeof *self);
    if (self)
        self->cfg = cfg;
    return self;
}

void
sp_spotify_destroy (sp_spotify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

int
sp_spotify_fetch (sp_spotify_t *self, sp_store_t *store, const sp_source_ref_t *src,
                  sp_playlist_t **out, sp_spotify_err_t *err)
{
    (void) self; (void) store; (void) src;
    *out = NULL;
    snprintf (err->code, sizeof err->code, "internal");
    snprintf (err->message, sizeof err->message, "Spotify sources are not supported yet");
    return -1;
}

int
sp_spotify_login (sp_spotify_t *self, sp_store_t *store, const char *access_token,
                  const char *refresh_token, uint64_t expires_in, const char *scope,
                  sp_spotify_err_t *err)
{
    (void) self; (void) store; (void) access_token; (void) refresh_token; (void) expires_in;
    (void) scope;
    snprintf (err->code, sizeof err->code, "internal");
    snprintf (err->message, sizeof err->message, "Spotify login is not supported yet");
    return -1;
}
