/*  match.h: Soulseek result matching: hard filters and ranking of search
    results against one playlist track.

    Shared by the searcher (ranking of slskd responses, the offline --rank
    mode) and by anything else that must judge whether a file is the wanted
    recording. Pure code: no I/O, no global state; thread-safe.

    Three steps:
      1. sp_match_track_new(): the wanted track is analyzed ONCE (title base
         and version descriptors via title.h, normalized artists, album,
         duration), so scoring a result never allocates.
      2. sp_match_set_add*(): each result's remote path
         (`@@user\Music\Artist\Album (2019) [FLAC]\CD2\03 - Title.flac`) is
         parsed into artist / album / disc / track number / title (folders
         and file name both count) and kept in matching form (remote_path.h).
      3. sp_match_set_rank(): every result goes through the hard filters
         (first failing one = its reject reason), survivors are scored and
         the set is sorted: accepted best first, then rejected ones.

    Hard filters, in order: excluded user; peer that failed repeatedly;
    audio extension; accepted format; lossy bitrate (>= min_bitrate, or VBR
    V0-class: VBR with >= SP_MATCH_V0_KBPS); length within tolerance of the
    wanted duration (when both are known); the base title matches; version
    descriptors agree (title.h rules; folder names such as "Live at Budokan"
    count); a credited artist appears somewhere in the path.

    Score (higher is better) = 1000 * match tier (match quality quantized
    to 1/20 steps: title, artist placement, album, length, track number) +
    100 * format/quality (preferred format order, bitrate) + 10 * peer
    (free slot, queue, speed, earlier transfers). Ties are broken by
    username then filename (byte order), so a ranking is deterministic.
*/
#ifndef SOULPIPE_MATCH_H
#define SOULPIPE_MATCH_H

#include "soulpipe/msg.h"
#include "soulpipe/peers.h"
#include "soulpipe/remote_path.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_MATCH_MAX_FORMATS 12
#define SP_MATCH_V0_KBPS     220                  /* VBR files at or above: V0-class */
#define SP_MATCH_TITLE_MIN   0.86                 /* base title similarity needed */
#define SP_MATCH_FIELD       SP_REMOTE_PATH_FIELD /* bytes per parsed text field */
#define SP_MATCH_PATH_NORM   SP_REMOTE_PATH_NORM  /* bytes of the normalized path kept */

/*  Reject reasons (0 = accepted). */
typedef enum {
    SP_MATCH_OK = 0,
    SP_MATCH_REJ_EXCLUDED,  /* user excluded by the job (failed before) */
    SP_MATCH_REJ_PEER,      /* peer failed repeatedly, skipped for a while */
    SP_MATCH_REJ_NOT_AUDIO, /* extension is not an audio format */
    SP_MATCH_REJ_FORMAT,    /* audio, but not an accepted format */
    SP_MATCH_REJ_BITRATE,   /* lossy below min_bitrate (and not V0-class) */
    SP_MATCH_REJ_LENGTH,    /* length outside the tolerance */
    SP_MATCH_REJ_TITLE,     /* base title does not match */
    SP_MATCH_REJ_VERSION,   /* version descriptors disagree */
    SP_MATCH_REJ_ARTIST,    /* no credited artist in the path */
    SP_MATCH_REJ_COUNT
} sp_match_reject_t;

/*  User preferences (from the config). */
typedef struct {
    int length_tolerance_s;                /* default 3 */
    char formats[SP_MATCH_MAX_FORMATS][8]; /* accepted, most preferred first, lower case */
    int formats_count;                     /* 0 = every audio format */
    int min_bitrate;                       /* kbps for lossy files, default 256 */
    bool allow_lossy;                      /* default true */
    int max_candidates;                    /* kept per track, default 10 */
    int max_per_user;                      /* candidates per user kept, default 2 */
} sp_match_prefs_t;

/*  Defaults: tolerance 3 s, "flac,mp3,ogg,m4a", 256 kbps, lossy allowed,
    10 candidates, 2 per user. */
void sp_match_prefs_default (sp_match_prefs_t *prefs);

/*  Set the accepted formats from a comma list ("flac,mp3"; case and
    leading dots ignored; empty = any audio). Returns 0, or -1 on a bad
    entry (prefs unchanged). */
int sp_match_prefs_set_formats (sp_match_prefs_t *prefs, const char *csv);

/*  True for audio extensions (lower case, no dot): flac mp3 ogg opus m4a
    aac wav aiff aif alac ape wv wma mpc. */
bool sp_match_is_audio_ext (const char *ext);
/*  True for lossless ones (flac wav aiff aif alac ape wv). */
bool sp_match_is_lossless_ext (const char *ext);

/* ------------------------------------------------------------ track */

typedef struct _sp_match_track_t sp_match_track_t;

/*  Analyze the wanted track once. The album name counts for the wanted
    version ("MTV Unplugged in New York" asks for the live recording).
    Caller owns the result (sp_match_track_destroy). NULL when the track
    has no title/artist, on invalid UTF-8 or out of memory. */
sp_match_track_t *sp_match_track_new (const sp_track_t *track);
void sp_match_track_destroy (sp_match_track_t **self_p);

/*  The wanted version kinds (SP_TITLE_* bits), its duration in seconds (0
    unknown) and its base title in matching form (borrowed). */
uint32_t sp_match_track_kinds (const sp_match_track_t *self);
int sp_match_track_duration (const sp_match_track_t *self);
const char *sp_match_track_base (const sp_match_track_t *self);

/*  Fill *track from a Spotify track object (name, artists[].name,
    album{name, album_type, release_date, artists}, duration_ms,
    track_number, disc_number, external_ids.isrc, id). Heap strings,
    caller frees with sp_track_clear. Returns 0 or -1 (missing name or
    artists; *track is then cleared). */
int sp_match_track_from_spotify (const json_t *obj, sp_track_t *track);

/* ------------------------------------------------------------ results */

/*  One search result (a file offered by a user). */
typedef struct {
    char *username; /* owned by the set */
    char *filename; /* owned by the set: remote path as sent */
    uint64_t size;
    int bitrate;           /* kbps, -1 unknown */
    int bitdepth;          /* -1 unknown */
    int samplerate;        /* Hz, -1 unknown */
    int length;            /* s, -1 unknown */
    int vbr;               /* 1, 0, -1 unknown */
    int free_slot;         /* 1, 0, -1 unknown */
    int64_t queue;         /* -1 unknown */
    int64_t speed;         /* bytes/s, -1 unknown */
    sp_remote_path_t path; /* parsed filename */
    /* filled by sp_match_set_rank */
    sp_match_reject_t reject;
    uint32_t reject_kinds;  /* REJ_VERSION: the offending descriptor kind */
    char reject_detail[96]; /* extra words for the reason, may be "" */
    double title_sim;       /* best base title similarity */
    double match;           /* match quality 0..1 */
    double quality;         /* format/quality 0..1 */
    double peer;            /* peer 0..1 */
    double score;           /* the total (0 when rejected) */
    sp_peer_t peer_rec;     /* the peer's record (zero when unknown) */
} sp_match_result_t;

typedef struct _sp_match_set_t sp_match_set_t;

/*  An empty set. Caller owns it (sp_match_set_destroy). NULL on OOM. */
sp_match_set_t *sp_match_set_new (void);
void sp_match_set_destroy (sp_match_set_t **self_p);

/*  Add one result; strings are copied and the path parsed. r->username and
    r->filename are read; the other input fields of *r are copied; the
    output fields are ignored. Returns 0, or -1 (NULL or empty strings, a
    path that does not parse, OOM): the result is then not added. */
int sp_match_set_add (sp_match_set_t *self, const sp_match_result_t *r);

/*  Add every file of an slskd responses array (GET
    /api/v0/searches/{id}/responses): username, hasFreeUploadSlot,
    uploadSpeed, queueLength; files[] filename, size, bitRate, bitDepth,
    sampleRate, length, isVariableBitRate. lockedFiles are skipped; bad
    entries are skipped. A result that could not be downloaded or carried
    in a task (a user name or file name with a NUL byte or invalid UTF-8,
    which sp_http reads as a NUL; a user name over SP_MSG_MAX_NAME or a
    file name over SP_MSG_MAX_STR bytes) is dropped alone, the rest of its
    response and page kept, and counted (sp_match_set_dropped). Returns the
    number of files added, -1 when responses is not an array. */
int sp_match_set_add_responses (sp_match_set_t *self, const json_t *responses);

/*  How many results sp_match_set_add_responses dropped (all calls on this
    set), and in why (n bytes, may be NULL; "" when none) what they were,
    e.g. "3 results dropped: 1 with a user name over 255 bytes, 2 with a
    file name not valid UTF-8 (or with a NUL)". */
size_t sp_match_set_dropped (const sp_match_set_t *self, char *why, size_t n);

size_t sp_match_set_count (const sp_match_set_t *self);
/*  Result i (in rank order after sp_match_set_rank), NULL out of range. */
sp_match_result_t *sp_match_set_get (sp_match_set_t *self, size_t i);

/*  A peer lookup: return the record of username or NULL when unknown. */
typedef const sp_peer_t *(sp_match_peer_fn) (void *arg, const char *username);

/*  Filter and score every result against track, then sort (accepted best
    first, then rejected). excluded (n_excluded usernames) are rejected;
    peer_fn (may be NULL) supplies peer records; now_ms is the time used to
    judge a peer's recent failures. Returns the number of accepted results. */
size_t sp_match_set_rank (sp_match_set_t *self, const sp_match_track_t *track,
                          const sp_match_prefs_t *prefs, const char *const *excluded,
                          size_t n_excluded, sp_match_peer_fn *peer_fn, void *peer_arg,
                          int64_t now_ms);

/*  Filter and score one result (the scoring path: no allocation). Fills
    the output fields of *r. Returns r->reject. peer may be NULL. */
sp_match_reject_t sp_match_score (const sp_match_track_t *track, const sp_match_prefs_t *prefs,
                                  sp_match_result_t *r, const sp_peer_t *peer, int64_t now_ms);

/*  The number of accepted results after the last rank. */
size_t sp_match_set_accepted (const sp_match_set_t *self);

/*  The reason of a rejected result in words ("live version", "length 4:12,
    wanted 3:35 (±3 s)", "mp3 at 192 kbps, below 256 kbps"). Returns buf. */
char *sp_match_reason (const sp_match_result_t *r, const sp_match_prefs_t *prefs,
                       const sp_match_track_t *track, char *buf, size_t n);

/*  A short category name for a reject ("live version", "wrong length",
    "below 256 kbps"...) used in summaries. Returns buf. */
char *sp_match_category (const sp_match_result_t *r, const sp_match_prefs_t *prefs, char *buf,
                         size_t n);

/*  "12 results: 7 live versions, 3 wrong length, 2 below 256 kbps" for the
    rejected results of the last rank (categories most frequent first).
    Returns buf. */
char *sp_match_set_summary (const sp_match_set_t *self, const sp_match_prefs_t *prefs, char *buf,
                            size_t n);

/*  Append the accepted results to payload->candidates, at most
    prefs->max_candidates in all and prefs->max_per_user per user: first
    the best file of each user (users in rank order of their best file), so
    the first candidates come from distinct users; then the users' further
    files in rank order. The first candidate is always the best result.
    Returns the number appended or -1 on OOM. */
int sp_match_set_to_payload (const sp_match_set_t *self, const sp_match_prefs_t *prefs,
                             sp_payload_t *payload);

#endif
