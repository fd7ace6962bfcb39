/*  playlist.h: the analyzer's in-memory form of one submitted list.

    Every source (Spotify playlist, album, Liked Songs, plain text list) is
    turned into an sp_playlist_t: a name, a canonical source string and the
    entries in list order. An entry is either usable (its sp_track_t holds
    everything the later stages need) or unusable with a reason ("local
    file", "podcast episode", "unavailable on Spotify (null item)"), in which
    case the track may hold only what is known (title/artists may be NULL).
    Notes collect remarks about the input that are not entries (a text line
    that could not be read).

    Ownership: the playlist owns every string in it (heap, freed by
    sp_playlist_destroy). Not thread-safe; one playlist belongs to one
    submission.
*/
#ifndef SOULPIPE_ANALYZER_PLAYLIST_H
#define SOULPIPE_ANALYZER_PLAYLIST_H

#include "soulpipe/msg.h"

#include <stddef.h>

#define SP_PLAYLIST_MAX_ENTRIES 200000 /* refuse larger lists (memory bound) */

typedef struct {
    sp_track_t track; /* the playlist track (payload form) */
    char *unusable;   /* NULL when usable, else why it cannot be fetched */
} sp_playlist_entry_t;

typedef struct {
    char *name;   /* playlist / album name ("" until known) */
    char *source; /* canonical source, e.g. "spotify:playlist:ID" */
    sp_playlist_entry_t *entries;
    size_t count; /* entries used */
    size_t cap;   /* entries allocated */
    char **notes; /* remarks about the input (bad lines) */
    size_t notes_count;
} sp_playlist_t;

/*  A new empty playlist (name and source ""). NULL on out of memory.
    Caller owns it (sp_playlist_destroy). */
sp_playlist_t *sp_playlist_new (void);

/*  Free the playlist and everything in it. Accepts NULL; nulls *self_p. */
void sp_playlist_destroy (sp_playlist_t **self_p);

/*  Append a zeroed entry and return it (owned by the playlist; valid until
    the next sp_playlist_add). NULL on out of memory or when the playlist
    already holds SP_PLAYLIST_MAX_ENTRIES entries. */
sp_playlist_entry_t *sp_playlist_add (sp_playlist_t *self);

/*  Append a printf-formatted note (cut to SP_MSG_MAX_TEXT bytes on a UTF-8
    boundary). Returns 0 or -1 on out of memory. */
int sp_playlist_note (sp_playlist_t *self, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/*  Copy s into dst (n bytes, n > 0), cut on a UTF-8 boundary. */
void sp_playlist_cut_utf8 (char *dst, size_t n, const char *s);

#endif
