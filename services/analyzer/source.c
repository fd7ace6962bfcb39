/*  source.c: parse the `submit` source string (see source.h). */
#include "source.h"
#include "soulpipe/err.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_BARE_MIN 16 /* a bare id is at least this long (Spotify: 22) */

static const char s_help[] =
    "accepted sources: a Spotify playlist or album link "
    "(https://open.spotify.com/playlist/ID or /album/ID), a Spotify URI "
    "(spotify:playlist:ID, spotify:album:ID), a bare playlist id, \"liked\" for your "
    "Liked Songs, or \"text\" with a file of \"Artist - Title\" lines or CSV "
    "(artist,title[,album][,duration])";

const char *
sp_source_help (void)
{
    return s_help;
}

//  Length of the id at s (letters and digits), ending at end / '?' / '#' / '/'.
//  Returns the length, or 0 when the id is empty, too long or has other bytes.
static size_t
s_id_len (const char *s, bool allow_tail)
{
    size_t n = 0;
    while (isalnum ((unsigned char) s[n]))
        n++;
    if (n == 0 || n >= SP_SOURCE_ID_MAX)
        return 0;
    char c = s[n];
    if (c == '\0')
        return n;
    if (allow_tail && (c == '?' || c == '#' ||
                       (c == '/' && (s[n + 1] == '\0' || s[n + 1] == '?' || s[n + 1] == '#'))))
        return n;
    return 0;
}

static int
s_set (sp_source_ref_t *out, sp_source_kind_t kind, const char *id, size_t len)
{
    out->kind = kind;
    memcpy (out->id, id, len);
    out->id[len] = '\0';
    snprintf (out->uri, sizeof out->uri, "spotify:%s:%s",
              kind == SP_SOURCE_ALBUM ? "album" : "playlist", out->id);
    return 0;
}

static int
s_fail (sp_source_ref_t *out, char *err, size_t n, const char *what)
{
    memset (out, 0, sizeof *out);
    sp_err_set (err, n, "%s; %s", what, s_help);
    return -1;
}

static int
s_liked (sp_source_ref_t *out)
{
    out->kind = SP_SOURCE_LIKED;
    snprintf (out->uri, sizeof out->uri, "spotify:collection");
    return 0;
}

//  The rest of a Spotify URI after "spotify:".
static int
s_parse_uri (const char *r, sp_source_ref_t *out, char *err, size_t n)
{
    if (strncmp (r, "user:", 5) == 0) {
        const char *c = strchr (r + 5, ':');
        if (!c)
            return s_fail (out, err, n, "unrecognized Spotify URI");
        r = c + 1;
        if (strcmp (r, "collection") == 0)
            return s_liked (out);
    }
    sp_source_kind_t kind = SP_SOURCE_INVALID;
    if (strncmp (r, "playlist:", 9) == 0) {
        kind = SP_SOURCE_PLAYLIST;
        r += 9;
    } else if (strncmp (r, "album:", 6) == 0) {
        kind = SP_SOURCE_ALBUM;
        r += 6;
    } else if (strncmp (r, "track:", 6) == 0)
        return s_fail (out, err, n, "a single track is not a list");
    else
        return s_fail (out, err, n,
                       "unsupported Spotify URI (only playlists, albums and Liked Songs)");
    size_t idl = s_id_len (r, false);
    if (!idl)
        return s_fail (out, err, n, "the Spotify URI has no valid id");
    return s_set (out, kind, r, idl);
}

//  The path of a Spotify link after "open.spotify.com/".
static int
s_parse_link (const char *u, sp_source_ref_t *out, char *err, size_t n)
{
    //  optional locale segment: intl-xx or intl-xx-yy
    if (strncmp (u, "intl-", 5) == 0) {
        const char *sl = strchr (u, '/');
        if (!sl)
            return s_fail (out, err, n, "unrecognized Spotify link");
        u = sl + 1;
    }
    //  legacy user/NAME/playlist/ID
    if (strncmp (u, "user/", 5) == 0) {
        const char *sl = strchr (u + 5, '/');
        if (!sl)
            return s_fail (out, err, n, "unrecognized Spotify link");
        u = sl + 1;
    }
    sp_source_kind_t kind = SP_SOURCE_INVALID;
    if (strncmp (u, "playlist/", 9) == 0) {
        kind = SP_SOURCE_PLAYLIST;
        u += 9;
    } else if (strncmp (u, "album/", 6) == 0) {
        kind = SP_SOURCE_ALBUM;
        u += 6;
    } else if (strncmp (u, "collection/tracks", 17) == 0 &&
               (u[17] == '\0' || u[17] == '?' || u[17] == '/' || u[17] == '#'))
        return s_liked (out);
    else if (strncmp (u, "track/", 6) == 0)
        return s_fail (out, err, n, "a single track is not a list");
    else
        return s_fail (out, err, n,
                       "unsupported Spotify link (only playlists, albums and Liked Songs)");
    size_t idl = s_id_len (u, true);
    if (!idl)
        return s_fail (out, err, n, "the Spotify link has no valid id");
    return s_set (out, kind, u, idl);
}

int
sp_source_parse (const char *s, sp_source_ref_t *out, char *err, size_t n)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    if (err && n)
        err[0] = '\0';
    if (!s)
        return s_fail (out, err, n, "no source given");
    //  trim surrounding whitespace into a bounded copy
    while (isspace ((unsigned char) *s))
        s++;
    char buf[1024];
    size_t len = strlen (s);
    while (len > 0 && isspace ((unsigned char) s[len - 1]))
        len--;
    if (len == 0)
        return s_fail (out, err, n, "empty source");
    if (len >= sizeof buf)
        return s_fail (out, err, n, "source too long");
    memcpy (buf, s, len);
    buf[len] = '\0';

    if (strcasecmp (buf, "liked") == 0 || strcasecmp (buf, "spotify:collection") == 0 ||
        strcasecmp (buf, "liked songs") == 0)
        return s_liked (out);
    if (strcasecmp (buf, "text") == 0) {
        out->kind = SP_SOURCE_TEXT;
        snprintf (out->uri, sizeof out->uri, "text");
        return 0;
    }
    if (strncmp (buf, "spotify:", 8) == 0)
        return s_parse_uri (buf + 8, out, err, n);

    //  URLs (scheme optional)
    const char *u = buf;
    if (strncasecmp (u, "https://", 8) == 0)
        u += 8;
    else if (strncasecmp (u, "http://", 7) == 0)
        u += 7;
    bool is_url = u != buf;
    if (strncasecmp (u, "open.spotify.com/", 17) == 0 ||
        strncasecmp (u, "play.spotify.com/", 17) == 0)
        return s_parse_link (u + 17, out, err, n);
    if (is_url || strchr (buf, '/') || strchr (buf, '.'))
        return s_fail (out, err, n, "not a Spotify link (open.spotify.com)");

    //  bare id
    size_t idl = s_id_len (buf, false);
    if (idl >= S_BARE_MIN)
        return s_set (out, SP_SOURCE_PLAYLIST, buf, idl);
    return s_fail (out, err, n, "unrecognized source");
}
