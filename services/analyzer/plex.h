/*  plex.h: loads the Plex music library into an sp_library_t, through the
    medialib Plex backend (common/src/medialib_plex.c, soulpipe/medialib.h):

    GET /library/sections (music sections are type "artist"; PLEX_SECTIONS
    limits them to the listed keys), then every track of each section with
    GET /library/sections/{key}/all?type=10, paged with
    X-Plex-Container-Start / -Size (S_PAGE tracks per request) until
    totalSize is reached. JSON (Accept: application/json), token in the
    X-Plex-Token header (never logged).
*/
#ifndef SOULPIPE_ANALYZER_PLEX_H
#define SOULPIPE_ANALYZER_PLEX_H

#include "library.h"
#include "soulpipe/config.h"

#include <stddef.h>

/*  Load the whole library. Returns 0 and *lib_out (caller owns), or -1 with
    a one-line reason in note (n bytes) that says what failed and what to
    do, e.g. "Plex is unreachable at http://plex:32400 (connection refused)"
    or "Plex refused the token (HTTP 401): check PLEX_TOKEN". */
int sp_plex_load_library (const sp_config_t *cfg, sp_library_t **lib_out, char *note, size_t n);

#endif
