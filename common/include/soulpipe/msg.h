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
    The stage payload (the `payload` bin of task/done/fail) is itself a
    msgpack map of type "payload" with its own codec: payload.h, included
    here. Limits and return codes are in msg_codes.h, also included.

    Vocabulary: a job is a playlist submission (the `job` field, a playlist
    job id); a task is one stage's unit of work for one track (the `id`
    field, "<job>:<pos>:<stage>"). The broker hands a task to a worker in a
    `task` message. Until this release that message was called "job": the
    decoder still accepts the old name ("v" stays 1), the encoder writes
    "task", so a worker built before the rename does not understand a new
    broker: the analyzer and the workers ship and upgrade together.

    Ownership: sp_msg_destroy() / sp_payload_destroy() free the struct and
    every non-NULL pointer in it with free(). So a message to send is either
    built on the stack with borrowed pointers (and never destroyed), or built
    with sp_msg_new() and heap copies (sp_msg_strset, strdup) and destroyed.

    Return codes: SP_MSG_OK (0) or one of the negative SP_MSG_ERR_* codes.
*/
#ifndef SOULPIPE_MSG_H
#define SOULPIPE_MSG_H

#include "soulpipe/msg_codes.h"
#include "soulpipe/payload.h" /* the payload types, for every caller of msg.h */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    SP_MSG_TASK, /* "task" (decoded from "job" too, its old name) */
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

/*  The type for a wire name, or SP_MSG_NONE when unknown ("job" gives
    SP_MSG_TASK, the message's name before the rename). */
sp_msg_type_t sp_msg_type_from_name (const char *name);

/*  heartbeat.held[] entry: a task the worker holds, with its fencing token. */
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
      task       id ≤64, stage ≤64, fence, token?, attempt, payload ≤4 MiB
      done       id, fence, token?, next? ≤64, payload?
      fail       id, fence, token?, reason ≤4096, retry, payload?
      progress   id, fence, token?, state ≤32, bytes?, size?, percent? 0..100,
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
    char *id;         /* task, done, fail, progress: task id */
    char *stage;      /* task */
    uint64_t fence;   /* task, done, fail, progress: fencing token */
    bool has_token;   /* task?, done?, fail?, progress? */
    uint64_t token;   /* the dispatch's random token, echoed in every answer */
    uint64_t attempt; /* task */
    uint8_t *payload; /* task, done?, fail?: encoded sp_payload_t */
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

#endif
