/*  msg.h: the msgpack wire codec for every soulpipe message.

    Every message is one msgpack map with string keys, "v": 1 and "type".
    sp_msg_decode() never trusts its input: it first walks the raw frame
    itself (sp_msg_precheck: container counts within the remaining bytes,
    nesting depth, string/bin lengths, object count, total size), because
    msgpack-c 4.0 has no limits of its own (the 5-byte frame dd ff 00 00 00
    makes it try to allocate ~96 GiB). Only then does msgpack-c unpack it;
    the whole frame must be consumed, and every field is checked against the
    schema of its type (type, length, count, range; required fields present;
    unknown keys ignored; duplicate known keys, unknown types rejected).

    The decoded message owns copies of every string, array and bin: nothing
    points into the frame, which the caller may free at once.

    One struct, sp_msg_t, carries every message type: `type` says which
    fields are meaningful (see the table in the comment of sp_msg_t). Rules:
      - strings are NUL-terminated (a string holding a NUL byte is rejected);
        an optional string is absent when NULL;
      - an optional number or bool is present when its has_<field> flag is
        set (decode sets the flag for present fields; encode writes optional
        scalars only when the flag is set; required ones are always written);
      - an optional array is absent when its count is 0;
      - a bin (payload) is absent when the pointer is NULL; a decoded bin is
        never NULL, even when empty;
      - on decode, a nil value counts as absent for an optional field and is
        rejected for a required one; the encoder never writes nil.
    The stage payload (the `payload` bin of job/done/fail) is itself a
    msgpack map of type "payload" with its own codec: sp_payload_*.

    Ownership: sp_msg_destroy() / sp_payload_destroy() free the struct and
    every non-NULL pointer in it with free(). So a message to send is either
    built on the stack with borrowed pointers (and never destroyed), or built
    with sp_msg_new() and heap copies (sp_msg_strset, strdup) and destroyed.

    Return codes: SP_MSG_OK (0) or one of the negative SP_MSG_ERR_* codes.
*/
#ifndef SOULPIPE_MSG_H
#define SOULPIPE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ limits */

#define SP_MSG_VERSION     1
#define SP_MSG_MAX_DEPTH   8                              /* container nesting levels */
#define SP_MSG_MAX_OBJECTS 131072                         /* msgpack objects per frame */
#define SP_MSG_MAX_JSON    (64u * 1024 * 1024)            /* status_ok/list_ok json, bytes */
#define SP_MSG_MAX_FRAME   (SP_MSG_MAX_JSON + 64u * 1024) /* any frame, bytes */
#define SP_MSG_MAX_CONTENT (4u * 1024 * 1024)             /* submit content, bytes */
#define SP_MSG_MAX_PAYLOAD (4u * 1024 * 1024)             /* job/done/fail payload bin */
/*  Largest broker frame (job/done/fail with a full payload): a good
    ZMQ_MAXMSGSIZE for the broker sockets. The client socket needs
    SP_MSG_MAX_FRAME (status_ok). */
#define SP_MSG_MAX_BROKER_FRAME (SP_MSG_MAX_PAYLOAD + 64u * 1024)
#define SP_PAYLOAD_MAX_FRAME    SP_MSG_MAX_PAYLOAD /* an encoded payload, bytes */

#define SP_MSG_MAX_STR        4096   /* default bound of a string field */
#define SP_MSG_MAX_ID         64     /* job, id, worker, transfer_id, code, stage */
#define SP_MSG_MAX_NAME       255    /* submit name, usernames */
#define SP_MSG_MAX_TEXT       1024   /* notes, titles, artists, messages of progress */
#define SP_MSG_MAX_NOTES      100000 /* submit_ok notes */
#define SP_MSG_MAX_HELD       1024   /* heartbeat held entries */
#define SP_MSG_MAX_CREDIT     1024   /* ready credit */
#define SP_MSG_MAX_TRACK_KEY  128
#define SP_MSG_MAX_STATE      32
#define SP_MSG_MAX_CANDIDATES 200
#define SP_MSG_MAX_LIST       200 /* excluded_users, tried */
#define SP_MSG_MAX_ARTISTS    32
#define SP_MSG_MAX_NUMBER     10000 /* track/disc number/total */

/* ------------------------------------------------------------ errors */

#define SP_MSG_OK                0
#define SP_MSG_ERR_TRUNCATED     -1  /* frame ends early / a length passes its end */
#define SP_MSG_ERR_TOO_BIG       -2  /* frame above max size or too many objects */
#define SP_MSG_ERR_TOO_DEEP      -3  /* nesting depth above SP_MSG_MAX_DEPTH */
#define SP_MSG_ERR_TRAILING      -4  /* bytes after the top-level object */
#define SP_MSG_ERR_NOT_MAP       -5  /* top level is not a map */
#define SP_MSG_ERR_BAD_VERSION   -6  /* "v" is not 1 */
#define SP_MSG_ERR_UNKNOWN_TYPE  -7  /* "type" missing, not a string, or unknown */
#define SP_MSG_ERR_MISSING_FIELD -8  /* a required field is absent */
#define SP_MSG_ERR_BAD_FIELD     -9  /* wrong type, out of bounds, duplicate key */
#define SP_MSG_ERR_MALFORMED     -10 /* invalid msgpack (e.g. byte 0xc1) */
#define SP_MSG_ERR_NOMEM         -11 /* allocation failed */
#define SP_MSG_ERR_INVAL         -12 /* bad arguments (NULL data, unknown enum) */

/*  A static English name for an error code ("truncated", ...). */
const char *sp_msg_strerror (int rc);

/* ------------------------------------------------------------ types */

typedef enum {
    SP_MSG_NONE = 0,
    /* client API (cli <-> analyzer) */
    SP_MSG_SUBMIT,
    SP_MSG_SUBMIT_OK,
    SP_MSG_STATUS,
    SP_MSG_LIST,
    SP_MSG_CANCEL,
    SP_MSG_RETRY,
    SP_MSG_STATUS_OK,
    SP_MSG_LIST_OK,
    SP_MSG_OK_REPLY, /* "ok" */
    SP_MSG_ERROR,
    SP_MSG_LOGIN,
    /* broker (workers <-> analyzer) */
    SP_MSG_READY,
    SP_MSG_HEARTBEAT,
    SP_MSG_JOB,
    SP_MSG_DONE,
    SP_MSG_FAIL,
    SP_MSG_PROGRESS,
    SP_MSG_BYE,
    /* events (analyzer PUB) */
    SP_MSG_EVENT,
    SP_MSG_TYPE_COUNT
} sp_msg_type_t;

/*  The wire name of a type ("submit", "ok", ...), or NULL when out of range. */
const char *sp_msg_type_name (sp_msg_type_t type);

/*  The type for a wire name, or SP_MSG_NONE when unknown. */
sp_msg_type_t sp_msg_type_from_name (const char *name);

/*  heartbeat.held[] entry: a job the worker holds, with its fencing token. */
typedef struct {
    char *id; /* task id, ≤64 bytes */
    uint64_t fence;
} sp_msg_held_t;

/*  event.counts */
typedef struct {
    uint64_t total, skipped, queued, done, failed;
} sp_msg_counts_t;

/*  One message. Fields per type (? = optional, see the rules above):
      submit     source ≤4096, name? ≤255, content? ≤4 MiB, wait?
      submit_ok  job ≤64, name ≤4096, total, skipped, queued, library_checked,
                 library_note? ≤1024, notes? [≤1024] ≤100000
      status, cancel, retry   job ≤64          list   (no fields)
      status_ok  job ≤64, json ≤64 MiB         list_ok  json ≤64 MiB
      ok         message? ≤4096, count?
      error      code ≤64, message ≤4096
      login      provider ("spotify"), access_token ≤4096, refresh_token ≤4096,
                 expires_in, scope? ≤4096
      ready      role ("search"|"download"|"tag"), worker ≤64, credit ≤1024
      heartbeat  credit? ≤1024, held? [{id ≤64, fence}] ≤1024
      job        id ≤64, stage ≤64, fence, attempt, payload ≤4 MiB
      done       id, fence, next? ≤64, payload?
      fail       id, fence, reason ≤4096, retry, payload?
      progress   id, fence, state ≤32, bytes?, size?, percent? 0..100,
                 message? ≤1024
      bye        worker ≤64
      event      job ≤64, kind ("track"|"counts"|"progress"|"notice"),
                 track? ≤128, position?, title? ≤1024, state? ≤32,
                 message? ≤4096, counts?, bytes?, size?, percent? 0..100
*/
typedef struct {
    sp_msg_type_t type;

    /* client API */
    char *source;                    /* submit: URL / URI / id / "liked" / "text" */
    char *name;                      /* submit?, submit_ok: playlist name */
    char *content;                   /* submit?: track list when source is "text" */
    bool has_wait, wait;             /* submit? */
    char *job;                       /* playlist job id (many types) */
    uint64_t total, skipped, queued; /* submit_ok */
    bool library_checked;            /* submit_ok */
    char *library_note;              /* submit_ok? */
    char **notes;                    /* submit_ok?: notes_count strings */
    size_t notes_count;
    char *json;     /* status_ok, list_ok: JSON document */
    char *message;  /* ok?, error, progress?, event? */
    bool has_count; /* ok? */
    uint64_t count;
    char *code;          /* error: machine-readable code */
    char *provider;      /* login: "spotify" */
    char *access_token;  /* login (secret: never log) */
    char *refresh_token; /* login (secret: never log) */
    uint64_t expires_in; /* login, seconds */
    char *scope;         /* login? */

    /* broker */
    char *role;      /* ready: "search" | "download" | "tag" */
    char *worker;    /* ready, bye: unique worker id */
    bool has_credit; /* heartbeat? (ready: always written) */
    uint64_t credit;
    sp_msg_held_t *held; /* heartbeat?: held_count entries */
    size_t held_count;
    char *id;         /* job, done, fail, progress: task id */
    char *stage;      /* job */
    uint64_t fence;   /* job, done, fail, progress: fencing token */
    uint64_t attempt; /* job */
    uint8_t *payload; /* job, done?, fail?: encoded sp_payload_t */
    size_t payload_size;
    char *next;     /* done?: stage to enqueue (absent = last) */
    char *reason;   /* fail */
    bool retry;     /* fail */
    char *state;    /* progress, event? */
    bool has_bytes; /* progress?, event? */
    uint64_t bytes;
    bool has_size; /* progress?, event? */
    uint64_t size;
    bool has_percent; /* progress?, event?: 0..100 */
    double percent;

    /* events */
    char *kind;        /* event: "track"|"counts"|"progress"|"notice" */
    char *track;       /* event?: track key */
    bool has_position; /* event? */
    uint64_t position;
    char *title;     /* event? */
    bool has_counts; /* event? */
    sp_msg_counts_t counts;
} sp_msg_t;

/*  A zeroed message of this type. Caller owns it (sp_msg_destroy).
    Returns NULL on allocation failure. */
sp_msg_t *sp_msg_new (sp_msg_type_t type);

/*  Free a message and every non-NULL pointer in it. Accepts NULL; nulls
    *self_p. */
void sp_msg_destroy (sp_msg_t **self_p);

/*  Free every pointer in *msg and zero it, keeping nothing (not even type).
    For stack messages filled with heap data. Accepts NULL. */
void sp_msg_clear (sp_msg_t *msg);

/*  Check the raw frame without msgpack-c: exactly one msgpack object that
    fills the frame, size ≤ SP_MSG_MAX_FRAME, depth ≤ SP_MSG_MAX_DEPTH, at most
    SP_MSG_MAX_OBJECTS objects, every count/length within the frame, no
    reserved byte 0xc1. Returns SP_MSG_OK or SP_MSG_ERR_TRUNCATED / _TOO_BIG /
    _TOO_DEEP / _TRAILING / _MALFORMED / _INVAL, and writes a reason into
    reason (may be NULL / 0). */
int sp_msg_precheck (const uint8_t *data, size_t size, char *reason, size_t reason_size);

/*  Decode one frame. max_size caps the frame size (0 = SP_MSG_MAX_FRAME; it
    is never above SP_MSG_MAX_FRAME). On SP_MSG_OK *msg is a new message the
    caller owns (sp_msg_destroy); on error *msg is NULL and reason holds a
    short English reason naming the field (reason may be NULL / 0; it never
    contains peer bytes other than a sanitized copy of an unknown type name). */
int sp_msg_decode (const uint8_t *data, size_t size, size_t max_size, sp_msg_t **msg, char *reason,
                   size_t reason_size);

/*  Encode msg. Checks it against the same schema as decode (returns
    SP_MSG_ERR_MISSING_FIELD / _BAD_FIELD / _INVAL with a reason when it
    would not decode). On SP_MSG_OK *data is a malloc'd buffer the caller
    owns (free) and *size its length. reason may be NULL / 0. */
int sp_msg_encode_r (const sp_msg_t *msg, uint8_t **data, size_t *size, char *reason,
                     size_t reason_size);

/*  sp_msg_encode_r without a reason. */
int sp_msg_encode (const sp_msg_t *msg, uint8_t **data, size_t *size);

/*  Replace the string *field with a heap copy of value (NULL clears it).
    Frees the old value. Returns SP_MSG_OK or SP_MSG_ERR_NOMEM. */
int sp_msg_strset (char **field, const char *value);

/*  Append a heap copy of s to the string array *vec of *count entries
    (e.g. &msg->notes, &msg->notes_count). Returns SP_MSG_OK,
    SP_MSG_ERR_NOMEM or SP_MSG_ERR_INVAL (s NULL). */
int sp_msg_strv_add (char ***vec, size_t *count, const char *s);

/* ------------------------------------------------------------ payload */

/*  The playlist track a stage job is about. */
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

/*  The stage payload carried (encoded) in job/done/fail. */
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
