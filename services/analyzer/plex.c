/*  plex.c: the Plex library loader (see plex.h), now a thin caller of
    sp_library_load with the Plex options, which goes through the medialib
    Plex backend (common/src/medialib_plex.c). */
#include "plex.h"

#include "soulpipe/log.h"
#include "soulpipe/medialib.h"

int
sp_plex_load_library (const sp_config_t *cfg, sp_library_t **lib_out, char *note, size_t n)
{
    sp_medialib_opts_t opts = {.kind = SP_MEDIALIB_PLEX,
                               .plex_url = cfg->plex_url,
                               .plex_token = cfg->plex_token,
                               .plex_sections = cfg->plex_sections};
    if (sp_library_load (&opts, lib_out, note, n) != 0)
        return -1;
    sp_log_info ("event=plex_index tracks=%zu", sp_library_size (*lib_out));
    return 0;
}
