/*  api.h: the analyzer's client API requests that read or change job state
    in Redis: status, list, cancel, retry. (submit and login are handled by
    analyzer.h on threads of their own.)

    Each function fills *reply (a zeroed stack sp_msg_t) with heap strings;
    the caller sends it and then calls sp_msg_clear(reply). Errors become an
    `error` reply with a code and a message for the user; the return value is
    0 when the reply is a success and -1 when it is an error.
*/
#ifndef SOULPIPE_ANALYZER_API_H
#define SOULPIPE_ANALYZER_API_H

#include "soulpipe/msg.h"
#include "soulpipe/store.h"

#include <jansson.h>

/*  `status_ok` with the job as one JSON document:
    {"job","name","source","state","counts":{"total","skipped","queued","done",
    "failed","cancelled"},"library_checked","library_note","created","updated",
    "tracks":[{"id","key","position","title","artists":[...],"state","reason",
    "attempts","source":{"username","filename"}|null,"path"|null}]} */
int sp_api_status (sp_store_t *store, const char *job, sp_msg_t *reply);

/*  The same document as a jansson object (caller owns it), or NULL with
    *rc set to the store's error. Used by sp_api_status and by tests. */
json_t *sp_api_status_json (sp_store_t *store, const char *job, int *rc);

/*  `list_ok` with {"jobs":[{"job","name","state","counts":{...},"created"}]}
    newest first (at most 1000). */
int sp_api_list (sp_store_t *store, sp_msg_t *reply);

/*  `ok` {message, count} after cancelling the job's unfinished tracks. */
int sp_api_cancel (sp_store_t *store, const char *job, sp_msg_t *reply);

/*  `ok` {message, count} after re-queueing the job's failed tracks. */
int sp_api_retry (sp_store_t *store, const char *job, sp_msg_t *reply);

/*  Fill reply with an `error` {code, message}. Returns -1. */
int sp_api_error (sp_msg_t *reply, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
