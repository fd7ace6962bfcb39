/*  library.h: the in-memory media library index and the track matcher.

    The library (every track of the Plex music sections) is loaded once into
    an sp_library_t: the strings of all tracks in one arena, and a hash index
    on the "base title key" (the title in matching form with version
    descriptors such as "- Remastered 2011", "(feat. X)", "- Radio Edit"
    split off, spaces removed), so a lookup costs O(1) plus the few tracks
    that share the base title.

    sp_library_match() confirms each same-key candidate:
      - versions must agree (sp_title_compatible: a live, remix, acoustic,
        ... recording is a different song; a radio edit vs the full length
        counts with a small penalty, settled by the duration);
      - artist score: the best similarity of any credited artist (or all of
        them joined) against the library's album artist (grandparentTitle)
        and track artist (originalTitle), featured parts split off;
      - duration factor: 1.0 within 3 s, 0.9 at 10 s, 0.7 at 30 s, 0.5
        beyond (0.95 when either side has no duration);
      confidence = artist score x version factor x duration factor.
    The track counts as present at confidence >= threshold.

    Threads: adding is single-threaded; once built, any number of threads
    may call sp_library_match at once (it does not modify the library).
*/
#ifndef SOULPIPE_ANALYZER_LIBRARY_H
#define SOULPIPE_ANALYZER_LIBRARY_H

#include "soulpipe/medialib.h"

#include <stddef.h>
#include <stdint.h>

typedef struct _sp_library_t sp_library_t;

/*  An empty library. NULL on out of memory. Caller owns it. */
sp_library_t *sp_library_new (void);

/*  Free it. Accepts NULL; nulls *self_p. */
void sp_library_destroy (sp_library_t **self_p);

/*  Add one library track. title is required; album_artist
    (grandparentTitle), track_artist (originalTitle), album and path may be
    NULL; duration_ms 0 = unknown. Strings are copied. Returns 0, 1 when the
    track was not indexed (no title, invalid UTF-8: ignored), -1 on out of
    memory or when the library is full (2^31 bytes of text). */
int sp_library_add (sp_library_t *self, const char *title, const char *album_artist,
                    const char *track_artist, const char *album, uint64_t duration_ms,
                    const char *path);

/*  Load the index of any library backend (soulpipe/medialib.h): a
    library for opts, then every track sp_medialib_load reports (album
    artist, track artist, album, duration, path). Returns 0 and *lib_out
    (caller owns), or an sp_medialib_err_t (< 0) with the backend's
    one-line note ("Jellyfin refused the API key (HTTP 401) while reading
    the tracks: check JELLYFIN_API_KEY"); *lib_out is then NULL and the
    caller queues every track. */
int sp_library_load (const sp_medialib_opts_t *opts, sp_library_t **lib_out, char *note, size_t n);

/*  Tracks indexed. */
size_t sp_library_size (const sp_library_t *self);

/*  Bytes held (arena + index), for the benchmark. */
size_t sp_library_bytes (const sp_library_t *self);

/*  The best library candidate for a wanted track. Strings are borrowed from
    the library (valid while it lives); artist is the track artist when the
    library has one, else the album artist. */
typedef struct {
    double confidence; /* 0 when no candidate */
    const char *title;
    const char *artist;
    const char *album;
    const char *path;
    char why_not[160]; /* when no candidate passed: e.g. "live version" */
} sp_library_match_t;

/*  Look up a wanted track: title (Spotify style), artists (n >= 1),
    duration_ms (0 = unknown). Returns 1 when the best candidate reaches
    threshold, 0 when not (out still describes the best candidate, if any),
    -1 on bad arguments. */
int sp_library_match (const sp_library_t *self, const char *title, const char *const *artists,
                      size_t n_artists, uint64_t duration_ms, double threshold,
                      sp_library_match_t *out);

#endif
