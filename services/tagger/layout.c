/*  layout.c: where a track is filed (see tagger.h, step 2): the playlist,
    artist and album folders and the file name, every component through the
    path sanitizer. No I/O.
*/
#include "tagger_int.h"

#include "soulpipe/path.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool
s_is_compilation (const sp_track_t *t)
{
    if (t->album_type && strcasecmp (t->album_type, "compilation") == 0)
        return true;
    return t->album_artists_count > 0 && t->album_artists[0] &&
           strcasecmp (t->album_artists[0], "Various Artists") == 0;
}

static bool
s_is_single (const sp_track_t *t)
{
    return !t->album || !*t->album || (t->album_type && strcasecmp (t->album_type, "single") == 0);
}

//  "<a> - <b>" sanitized as one component.
static char *
s_dash (const char *a, const char *b)
{
    size_t len = strlen (a) + strlen (b) + 4;
    char *raw = malloc (len);
    if (!raw)
        return NULL;
    snprintf (raw, len, "%s - %s", a, b);
    char *out = sp_path_sanitize (raw);
    free (raw);
    return out;
}

int
sp_tagger_layout (const sp_track_t *t, const char *ext_in, const char *suffix,
                  sp_tagger_layout_t *out)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    if (!t || !t->playlist || !*t->playlist || !t->title || !ext_in)
        return -1;
    char ext[SP_PATH_EXT_MAX + 1];
    size_t el = 0;
    for (const char *c = ext_in; *c && el < SP_PATH_EXT_MAX; c++)
        if (isalnum ((unsigned char) *c))
            ext[el++] = (char) tolower ((unsigned char) *c);
    ext[el] = '\0';
    if (el == 0)
        return -1;
    if (!suffix)
        suffix = "";

    const char *artist = NULL;
    if (!s_is_compilation (t) && t->album_artists_count > 0 && t->album_artists[0] &&
        *t->album_artists[0])
        artist = t->album_artists[0];
    else if (t->artists_count > 0 && t->artists[0] && *t->artists[0])
        artist = t->artists[0];
    else
        artist = "Unknown Artist";
    out->single = s_is_single (t);
    out->playlist = sp_path_sanitize (t->playlist);
    out->artist = sp_path_sanitize (artist);
    if (!out->playlist || !out->artist)
        goto fail;
    //  The album folder repeats the sanitized artist, so it matches the parent.
    out->album = s_dash (out->artist, out->single ? t->title : t->album);

    char stem[1100];
    if (!out->single && t->has_track_number)
        snprintf (stem, sizeof stem, "%02u - %s", (unsigned) t->track_number, t->title);
    else
        snprintf (stem, sizeof stem, "%s", t->title);
    size_t room = SP_PATH_NAME_MAX - el - 1 - strlen (suffix);
    if (strlen (suffix) > 64)
        goto fail;
    char *s = sp_path_sanitize_max (stem, room);
    if (!s || !out->album)
        goto fail;
    size_t len = strlen (s) + strlen (suffix) + el + 2;
    out->file = malloc (len);
    if (!out->file) {
        free (s);
        goto fail;
    }
    snprintf (out->file, len, "%s%s.%s", s, suffix, ext);
    free (s);
    if (!sp_path_is_safe (out->file)) {
        //  e.g. a suffix that is not itself safe: fall back to the sanitizer
        char *safe = sp_path_sanitize (out->file);
        free (out->file);
        out->file = safe;
        if (!safe)
            goto fail;
    }
    return 0;
fail:
    sp_tagger_layout_clear (out);
    return -1;
}

void
sp_tagger_layout_clear (sp_tagger_layout_t *l)
{
    if (!l)
        return;
    free (l->playlist);
    free (l->artist);
    free (l->album);
    free (l->file);
    memset (l, 0, sizeof *l);
}
