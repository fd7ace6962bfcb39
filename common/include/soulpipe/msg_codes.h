/*  msg_codes.h: limits and return codes shared by soulpipe's two msgpack
    codecs, the message envelope (msg.h) and the stage payload (payload.h),
    and the helpers both use: the raw-frame precheck, error names, heap
    string setters. Included by both headers; include msg.h or payload.h
    rather than this one.

    Return codes: SP_MSG_OK (0) or one of the negative SP_MSG_ERR_* codes.
*/
#ifndef SOULPIPE_MSG_CODES_H
#define SOULPIPE_MSG_CODES_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ limits */

#define SP_MSG_VERSION     1
#define SP_MSG_MAX_DEPTH   8                              /* container nesting levels */
#define SP_MSG_MAX_OBJECTS 131072                         /* msgpack objects per frame */
#define SP_MSG_MAX_JSON    (64u * 1024 * 1024)            /* status_ok/list_ok json, bytes */
#define SP_MSG_MAX_FRAME   (SP_MSG_MAX_JSON + 64u * 1024) /* any frame, bytes */
#define SP_MSG_MAX_CONTENT (4u * 1024 * 1024)             /* submit content, bytes */
#define SP_MSG_MAX_PAYLOAD (4u * 1024 * 1024)             /* task/done/fail payload bin */
/*  Largest broker frame (task/done/fail with a full payload): a good
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

/*  Check the raw frame without msgpack-c: exactly one msgpack object that
    fills the frame, size ≤ SP_MSG_MAX_FRAME, depth ≤ SP_MSG_MAX_DEPTH, at most
    SP_MSG_MAX_OBJECTS objects, every count/length within the frame, no
    reserved byte 0xc1. Returns SP_MSG_OK or SP_MSG_ERR_TRUNCATED / _TOO_BIG /
    _TOO_DEEP / _TRAILING / _MALFORMED / _INVAL, and writes a reason into
    reason (may be NULL / 0). */
int sp_msg_precheck (const uint8_t *data, size_t size, char *reason, size_t reason_size);

/*  Replace the string *field with a heap copy of value (NULL clears it).
    Frees the old value. Returns SP_MSG_OK or SP_MSG_ERR_NOMEM. */
int sp_msg_strset (char **field, const char *value);

/*  Append a heap copy of s to the string array *vec of *count entries
    (e.g. &msg->notes, &msg->notes_count). Returns SP_MSG_OK,
    SP_MSG_ERR_NOMEM or SP_MSG_ERR_INVAL (s NULL). */
int sp_msg_strv_add (char ***vec, size_t *count, const char *s);

#endif
