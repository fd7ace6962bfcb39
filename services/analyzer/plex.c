/*  plex.c: the Plex library loader (see plex.h), now a thin caller of the
    medialib Plex backend (common/src/medialib_plex.c) that fills an
    sp_library_t. */
#include "plex.h"

#include "soulpipe/log.h"
#include "soulpipe/medialib.h"

#include <stdio.h>

static int
s_add (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    if (sp_library_add (arg, t->title, t->album_artist, t->artist, t->album, t->duration_ms,
                        t->path) < 0) {
        snprintf (note, n, "out of memory while indexing the Plex library");
        return -1;
    }
    return 0;
}

int
sp_plex_load_library (const sp_config_t *cfg, sp_library_t **lib_out, char *note, size_t n)
{
    *lib_out = NULL;
    sp_medialib_opts_t opts = {.kind = SP_MEDIALIB_PLEX,
                               .plex_url = cfg->plex_url,
                               .plex_token = cfg->plex_token,
                               .plex_sections = cfg->plex_sections};
    sp_medialib_t *ml = sp_medialib_new (&opts, NULL, note, n);
    if (!ml)
        return -1;
    sp_library_t *lib = sp_library_new ();
    if (!lib) {
        snprintf (note, n, "out of memory");
        sp_medialib_destroy (&ml);
        return -1;
    }
    int rc = sp_medialib_load (ml, s_add, lib, note, n);
    sp_medialib_destroy (&ml);
    if (rc != SP_MEDIALIB_OK) {
        sp_library_destroy (&lib);
        return -1;
    }
    sp_log_info ("event=plex_index tracks=%zu", sp_library_size (lib));
    *lib_out = lib;
    return 0;
}
