/*  store_int.h: what the store's source files share; private to
    common/src/store*.c (the API is soulpipe/store.h, the one public header).

    store.c         the object, the connection and the one retry loop
                    (sp_store__exec), script calls (sp_store__run), helpers
    store_jobs.c    jobs and track records
    store_tasks.c   stage queues: take, extend, complete, fail, reap
    store_coord.c   between processes: the job-endings queue, named locks,
                    the once-per-ending rescan claim
    store_auth.c    the saved Spotify login
    store_lua.h     the Lua scripts (included by store.c only)

    Internal names are sp_store__<verb> (double underscore): callable from
    every store file, never from outside the store.
*/
#ifndef SOULPIPE_STORE_INT_H
#define SOULPIPE_STORE_INT_H

#include "soulpipe/store.h"

#include <hiredis/hiredis.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_STORE__ID_LEN_MAX 200 /* longest task id, track key or owner */

/*  The scripts, in the order of store.c's tables. */
enum {
    SP_STORE__LUA_JOB_INIT,
    SP_STORE__LUA_JOB_ADD,
    SP_STORE__LUA_JOB_SEAL,
    SP_STORE__LUA_TAKE,
    SP_STORE__LUA_EXTEND,
    SP_STORE__LUA_COMPLETE,
    SP_STORE__LUA_FAIL,
    SP_STORE__LUA_REAP,
    SP_STORE__LUA_CANCEL,
    SP_STORE__LUA_RETRY,
    SP_STORE__LUA_SET_FIELD,
    SP_STORE__LUA_CHECK,
    SP_STORE__LUA_TRACKS_PAGE,
    SP_STORE__LUA_JOBS_PAGE,
    SP_STORE__LUA_FINISHED_RECOVER,
    SP_STORE__LUA_LOCK_ACQUIRE,
    SP_STORE__LUA_LOCK_EXTEND,
    SP_STORE__LUA_LOCK_RELEASE,
    SP_STORE__LUA_CLAIM_RESCAN,
    SP_STORE__LUA_SCRIPT_COUNT
};

struct _sp_store_t {
    redisContext *ctx;                        /* live connection, NULL when down */
    char *host;                               /* TCP host (NULL for a unix socket) */
    int port;                                 /* TCP port */
    char *unix_path;                          /* unix socket path, or NULL */
    char *user;                               /* ACL user, or NULL */
    char *password;                           /* password, or NULL; never logged */
    int db;                                   /* SELECTed database */
    int timeout_ms;                           /* connect and read timeout */
    int retry_ms;                             /* reconnect budget per call */
    char *src[SP_STORE__LUA_SCRIPT_COUNT];    /* prelude + body of each script */
    char sha[SP_STORE__LUA_SCRIPT_COUNT][41]; /* SHA1 from SCRIPT LOAD */
    bool was_down;                            /* a call had to reconnect (for logging) */
    bool timed_out;                           /* the last failure: Redis did not answer in time */
    sp_store_change_fn *change_fn;            /* change handler, or NULL */
    void *change_arg;                         /* its argument */
    char req_prefix[24];                      /* random per store, for request ids, tokens */
    uint64_t req_seq;                         /* request and token counter */
    char where[128];                          /* host:port/db or socket, for messages */
};

/* ---------------------------------------------------------------- helpers */

/*  Ids become part of Redis key names: [A-Za-z0-9:._-], 1..199 bytes. */
bool sp_store__valid_id (const char *s);
/*  search, download or tag. */
bool sp_store__stage_ok (sp_store_stage_t stage);
/*  A NUL-terminated copy of len bytes (which may hold NULs). Caller frees. */
char *sp_store__strndup (const char *s, size_t len);
/*  v in base 36 into out (n bytes). */
void sp_store__base36 (uint64_t v, char *out, size_t n);
/*  A fresh value unique to this store and call ("<random>-<n>"), for
    request ids and lock tokens. */
void sp_store__token (sp_store_t *self, char *out, size_t n);
/*  strtoll of a decimal string; 0 for NULL, "" or garbage. */
int64_t sp_store__parse_i64 (const char *s);

/*  String view of array element i of r (strings, status, integers; "" for
    anything else); integers are formatted into buf. */
const char *sp_store__elem_str (const redisReply *r, size_t i, size_t *len, char buf[32]);
/*  Integer value of array element i of r (integers and decimal strings). */
int64_t sp_store__elem_i64 (const redisReply *r, size_t i);

/* ---------------------------------------------------------------- commands */

/*  Send one command, (re)connecting and resending within the retry budget
    (the store's one backoff loop). On SP_STORE_OK the caller owns *out,
    which may be an error reply that retrying cannot fix. Returns
    SP_STORE_OK or SP_STORE_EIO. */
int sp_store__exec (sp_store_t *self, int argc, const char **argv, const size_t *lens,
                    redisReply **out);

/*  An argv under construction for a script call; slots 0..2 are reserved
    for EVALSHA <sha> 0. Numbers are formatted into nums. */
#define SP_STORE__ARGS_NUMS 8
typedef struct {
    const char **argv;
    size_t *lens;
    int argc;
    int cap;
    char nums[SP_STORE__ARGS_NUMS][24];
    int nnums;
    bool bad; /* out of memory or of number slots */
} sp_store__args_t;

/*  Start an argv for up to cap script arguments. */
void sp_store__args_init (sp_store__args_t *a, int cap);
void sp_store__args_free (sp_store__args_t *a);
/*  Append bytes (borrowed: must live until the call), a string, a number. */
void sp_store__argb (sp_store__args_t *a, const void *p, size_t len);
void sp_store__arg (sp_store__args_t *a, const char *s);
void sp_store__argi (sp_store__args_t *a, int64_t v);

/*  Run a script with the arguments in a (consumed: freed here). Returns the
    script's code mapped to SP_STORE_OK/EMPTY/ESTALE/ENOENT, or a negative
    error. On SP_STORE_OK with reply_p set, the caller owns *reply_p (the
    whole reply: element 1 is the script's data); otherwise it is NULL.
    Change records are handed to the change handler here. */
int sp_store__run (sp_store_t *self, int script, sp_store__args_t *a, redisReply **reply_p);

#endif
