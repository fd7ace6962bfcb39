/*  payload.h: the stage payload, the domain data a task carries from stage
    to stage: the playlist track, the ranked candidates, the users excluded
    and the files tried, the staged file.

    Encoded, it travels as the `payload` bin of task/done/fail (msg.h) and
    is kept in the store with the track. Its own codec: a msgpack map of
    type "payload" with "v": 1, checked field by field against its schema
    with the rules and codes msg.h states (strings NUL-terminated, optional
    scalars with has_<field> flags, optional arrays absent when count 0).

    Ownership: sp_payload_destroy() / sp_track_clear() free every non-NULL
    pointer with free().
*/
#ifndef SOULPIPE_PAYLOAD_H
#define SOULPIPE_PAYLOAD_H

#include "soulpipe/msg_codes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  The playlist track a task is about. */
typedef struct {
    char *spotify_id; /* ? ≤64 */
    char *title;      /* ≤1024 */
    char **artists;   /* 1..32 strings ≤1024 */
    size_t artists_count;
    char *album;          /* ? ≤1024 */
    char *album_id;       /* ? ≤64 */
    char *album_type;     /* ? "album" | "single" | "compilation" */
    char **album_artists; /* ? ≤32 strings ≤1024 */
    size_t album_artists_count;
    char *release_date;   /* ? ≤16: "1981", "1981-12", "1981-12-15" */
    char *date_precision; /* ? ≤16: "year" | "month" | "day" (not enforced) */
    bool has_track_number;
    uint64_t track_number; /* ? ≤10000 */
    bool has_track_total;
    uint64_t track_total; /* ? ≤10000 */
    bool has_disc_number;
    uint64_t disc_number; /* ? ≤10000 */
    bool has_disc_total;
    uint64_t disc_total; /* ? ≤10000 */
    bool has_duration_ms;
    uint64_t duration_ms; /* ? */
    char *isrc;           /* ? ≤32 */
    char *cover_url;      /* ? ≤4096 */
    char *playlist;       /* ≤1024: playlist name */
    uint64_t position;    /* position in the playlist (0-based or 1-based: caller's choice) */
    char *genre;          /* ? ≤1024 */
} sp_track_t;

/*  One ranked Soulseek search result. */
typedef struct {
    char *username; /* ≤255 */
    char *filename; /* ≤4096: the remote path as the peer sent it */
    uint64_t size;  /* bytes */
    char *ext;      /* ? ≤16 */
    bool has_bitrate;
    uint64_t bitrate; /* ? kbit/s */
    bool has_bitdepth;
    uint64_t bitdepth; /* ? */
    bool has_samplerate;
    uint64_t samplerate; /* ? Hz */
    bool has_length;
    uint64_t length; /* ? seconds */
    bool has_vbr;
    bool vbr;     /* ? */
    double score; /* finite */
    bool has_free_slot;
    bool free_slot; /* ? */
    bool has_queue;
    uint64_t queue; /* ? */
    bool has_speed;
    uint64_t speed; /* ? bytes/s */
} sp_candidate_t;

/*  payload.source: the file being downloaded. */
typedef struct {
    char *username; /* ≤255 */
    char *filename; /* ≤4096 */
    uint64_t size;
} sp_source_t;

/*  The stage payload carried (encoded) in task/done/fail. */
typedef struct {
    char *job;       /* ≤64 playlist job id */
    char *track_key; /* ≤128 */
    sp_track_t track;
    sp_candidate_t *candidates; /* ? ≤200, best first */
    size_t candidates_count;
    char **excluded_users; /* ? ≤200 strings ≤255 */
    size_t excluded_users_count;
    bool has_search_rounds;
    uint64_t search_rounds; /* ? */
    bool has_searches_used;
    uint64_t searches_used; /* ? */
    char *query;            /* ? ≤4096 */
    char *staged_path;      /* ? ≤4096 */
    bool has_source;        /* ? */
    sp_source_t source;
    char *transfer_id; /* ? ≤64 */
    char **tried;      /* ? ≤200 strings ≤1024 */
    size_t tried_count;
} sp_payload_t;

/*  A zeroed payload. Caller owns it (sp_payload_destroy). NULL on OOM. */
sp_payload_t *sp_payload_new (void);

/*  Free a payload and every non-NULL pointer in it. Accepts NULL; nulls
    *self_p. */
void sp_payload_destroy (sp_payload_t **self_p);

/*  Decode an encoded payload (a map with "v": 1, "type": "payload"), with
    the same checks and codes as sp_msg_decode; the frame may be at most
    SP_PAYLOAD_MAX_FRAME bytes. On SP_MSG_OK the caller owns *payload. */
int sp_payload_decode (const uint8_t *data, size_t size, sp_payload_t **payload, char *reason,
                       size_t reason_size);

/*  Encode a payload (checked against the schema, as sp_msg_encode_r).
    On SP_MSG_OK the caller owns *data (free). */
int sp_payload_encode (const sp_payload_t *payload, uint8_t **data, size_t *size, char *reason,
                       size_t reason_size);

/*  Deep-copy src into *dst (which must be zeroed or cleared: its old pointers
    are not freed). On error *dst is left cleared. Returns SP_MSG_OK,
    SP_MSG_ERR_NOMEM or SP_MSG_ERR_INVAL. */
int sp_track_copy (sp_track_t *dst, const sp_track_t *src);

/*  Free every pointer in *track and zero it. Accepts NULL. */
void sp_track_clear (sp_track_t *track);

/*  Append a deep copy of *candidate to payload->candidates. Does not check
    SP_MSG_MAX_CANDIDATES (encode does). Returns SP_MSG_OK, SP_MSG_ERR_NOMEM
    or SP_MSG_ERR_INVAL. */
int sp_payload_add_candidate (sp_payload_t *payload, const sp_candidate_t *candidate);

#endif
