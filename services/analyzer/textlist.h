/*  textlist.h: plain text track lists, for users without Spotify.

    Two forms, told apart by the first line that is not blank or a comment:
      - CSV with a header row naming at least the columns "artist" and
        "title" (any case, any order), optionally "album" and "duration"
        (also "length"); fields separated by ',' (or ';' / tab when the
        header uses them), RFC 4180 quoting ("a ""b""", quoted newlines);
        durations as "m:ss", "h:mm:ss" or seconds ("215", "215.4");
      - otherwise one "Artist - Title" per line (separator " - ", " – " or
        " — "; the first one splits, so "A - Song - Live" has the title
        "Song - Live").
    Blank lines and lines starting with '#' are ignored. A line that cannot
    be read becomes a note ("line 7: ..."), never a failure; an unreadable
    duration is ignored with a note and the track kept. A UTF-8 BOM and CRLF
    line ends are accepted. I/O-free and pure.
*/
#ifndef SOULPIPE_ANALYZER_TEXTLIST_H
#define SOULPIPE_ANALYZER_TEXTLIST_H

#include "playlist.h"

#define SP_TEXTLIST_MAX_BYTES SP_MSG_MAX_CONTENT /* 4 MiB: larger lists are refused */

/*  Parse content (NUL-terminated UTF-8) into a new playlist named name
    (NULL or "" = "Text list"), source "text". Each track gets title,
    artists (one), album and duration when given, playlist = the name and
    position = its 0-based index. Returns 0 and *out (caller owns;
    sp_playlist_destroy), or -1 with a reason in err (NULL content, more
    than SP_TEXTLIST_MAX_BYTES bytes, invalid UTF-8, out of memory). An
    input without any track is not an error here (the playlist is empty,
    notes say why). More than SP_PLAYLIST_MAX_ENTRIES tracks: the rest is
    ignored with a note. */
int sp_textlist_parse (const char *content, const char *name, sp_playlist_t **out, char *err,
                       size_t err_size);

/*  Parse a duration "m:ss", "h:mm:ss", "ss" or "ss.f" into milliseconds.
    Returns 0, or -1 when s is not such a duration (or above 24 h). */
int sp_textlist_parse_duration (const char *s, uint64_t *ms);

#endif
