/*  source.h: what a `submit` source string names.

    Accepted forms (anything else is refused with a message listing them):
      - Spotify playlist / album as a URL
        (https://open.spotify.com/[intl-xx/]playlist/ID[?si=...], also
        without the scheme, http://, play.spotify.com, trailing '/', '#...'),
        a URI (spotify:playlist:ID, spotify:album:ID,
        spotify:user:NAME:playlist:ID) or a bare playlist id (16 to 64
        letters and digits; Spotify ids have 22);
      - Liked Songs: "liked" (any case), "spotify:collection",
        "spotify:user:NAME:collection", https://open.spotify.com/collection/tracks;
      - a plain text list: "text" (the list itself comes in `content`).
    I/O-free and pure.
*/
#ifndef SOULPIPE_ANALYZER_SOURCE_H
#define SOULPIPE_ANALYZER_SOURCE_H

#include <stddef.h>

typedef enum {
    SP_SOURCE_INVALID = 0,
    SP_SOURCE_PLAYLIST,
    SP_SOURCE_ALBUM,
    SP_SOURCE_LIKED,
    SP_SOURCE_TEXT
} sp_source_kind_t;

#define SP_SOURCE_ID_MAX 65 /* id bytes including the NUL */

typedef struct {
    sp_source_kind_t kind;
    char id[SP_SOURCE_ID_MAX]; /* playlist/album id, "" otherwise */
    char uri[96];              /* canonical: spotify:playlist:ID, spotify:album:ID,
                                   spotify:collection, text */
} sp_source_ref_t;

/*  The message listing the accepted forms (static string). */
const char *sp_source_help (void);

/*  Parse s into *out. Returns 0, or -1 (out->kind SP_SOURCE_INVALID) with a
    message in err (n bytes, may be NULL) that names the accepted forms. */
int sp_source_parse (const char *s, sp_source_ref_t *out, char *err, size_t n);

#endif
