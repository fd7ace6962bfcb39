/*  slskd_transfer.h: the slskd download-transfer client (API v0).

    Enqueue one file from one user (POST /api/v0/transfers/downloads/{user}),
    read a transfer back (GET .../{user}/{id}), cancel and remove it
    (DELETE .../{user}/{id}?remove=true), and find the finished file where
    slskd writes it (<downloads>/<last remote dir>/<file name>, or the
    <name>_<ticks><ext> variant slskd writes on a name clash).

    The JSON parsers (sp_xfer_parse, sp_xfer_state_parse) do no I/O, so they
    are tested alone. Enqueues are serialized inside the process (one POST at
    a time) and retried on 429, which slskd answers when two enqueues already
    run; the id comes from the "enqueued" reply (slskd >= 0.24) or, on older
    slskd or after a lost reply, from the user's transfer list.

    Return codes: SP_XFER_OK (0) or a negative SP_XFER_ERR_*; messages in
    err never contain the API key.
*/
#ifndef SOULPIPE_SLSKD_TRANSFER_H
#define SOULPIPE_SLSKD_TRANSFER_H

#include "soulpipe/http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_XFER_ID_MAX 64  //  id buffer size (a GUID is 36 bytes)

#define SP_XFER_OK            0
#define SP_XFER_ERR_DOWN      -1  //  slskd unreachable / 5xx / timeout: retry the job later
#define SP_XFER_ERR_OFFLINE   -2  //  the user is offline or unknown (peer's fault)
#define SP_XFER_ERR_REFUSED   -3  //  slskd refused the request (4xx): this candidate is unusable
#define SP_XFER_ERR_NOT_FOUND -4  //  no such transfer (404)
#define SP_XFER_ERR_BAD_REPLY -5  //  a reply we cannot read
#define SP_XFER_ERR_INVALID   -6  //  bad argument
#define SP_XFER_ERR_AUTH      -7  //  401/403: API key wrong (configuration)

/*  A static English name of a code. */
const char *sp_xfer_strerror (int rc);

typedef enum {
    SP_XFER_UNKNOWN = 0,      //  a state we do not know (treated as pending)
    SP_XFER_REQUESTED,        //  "Requested"
    SP_XFER_QUEUED_LOCALLY,   //  "Queued, Locally"
    SP_XFER_QUEUED_REMOTELY,  //  "Queued, Remotely"
    SP_XFER_INITIALIZING,     //  "Initializing"
    SP_XFER_IN_PROGRESS,      //  "InProgress"
    SP_XFER_SUCCEEDED,        //  "Completed, Succeeded": the only success
    SP_XFER_CANCELLED,        //  "Completed, Cancelled"
    SP_XFER_TIMED_OUT,        //  "Completed, TimedOut"
    SP_XFER_ERRORED,          //  "Completed, Errored"
    SP_XFER_REJECTED,         //  "Completed, Rejected"
    SP_XFER_ABORTED,          //  "Completed, Aborted"
    SP_XFER_COMPLETED_OTHER   //  "Completed, <anything else>": a failure
} sp_xfer_state_t;

/*  Map a state string (flags joined by ", ", in any order, any case) to a
    state. NULL or unknown strings give SP_XFER_UNKNOWN; any string with the
    Completed flag is terminal. */
sp_xfer_state_t sp_xfer_state_parse (const char *s);

/*  True for terminal states (every Completed one). */
bool sp_xfer_state_final (sp_xfer_state_t st);

/*  Short lower-case name ("queued-remotely", "succeeded", ...). Static. */
const char *sp_xfer_state_name (sp_xfer_state_t st);

/*  One transfer as slskd reports it. */
typedef struct {
    char id[SP_XFER_ID_MAX];  //  GUID
    sp_xfer_state_t state;
    int64_t size;         //  bytes, -1 when absent
    int64_t bytes;        //  bytesTransferred, -1 when absent
    double percent;       //  percentComplete, -1 when absent
    double speed;         //  averageSpeed bytes/s, 0 when absent
    int64_t place;        //  placeInQueue, -1 when absent
    char exception[256];  //  exception text (cut), "" when none
    bool removed;         //  the record was removed (DELETE ?remove=true)
} sp_xfer_t;

/*  Read a Transfer object. Returns SP_XFER_OK, or SP_XFER_ERR_BAD_REPLY when
    json is not an object with a string "id" and "state". */
int sp_xfer_parse (const json_t *json, sp_xfer_t *out);

/*  In the reply of GET .../downloads/{user} ({"username","directories":
    [{"files":[Transfer...]}]}) find the newest transfer of filename that is
    not final (or, with any_state, the newest in any state). Returns
    SP_XFER_OK and fills *out, or SP_XFER_ERR_NOT_FOUND. */
int sp_xfer_find_in_user (const json_t *user_json, const char *filename, bool any_state,
                          sp_xfer_t *out);

/*  Enqueue filename (exact remote path) of size bytes from username.
    Writes the transfer id to id_out. A 429 is retried (with backoff, up to
    about wait_ms in total; 0 = 30000) while tick(arg) is called every loop
    (may be NULL; return true from it to give up early: SP_XFER_ERR_DOWN).
    Returns SP_XFER_OK, SP_XFER_ERR_OFFLINE, SP_XFER_ERR_REFUSED,
    SP_XFER_ERR_DOWN, SP_XFER_ERR_AUTH or SP_XFER_ERR_BAD_REPLY with a
    message in err. */
int sp_xfer_enqueue (sp_http_t *http, const char *username, const char *filename, uint64_t size,
                     int wait_ms, bool (*tick) (void *arg), void *arg, char id_out[SP_XFER_ID_MAX],
                     char *err, size_t err_size);

/*  GET one transfer. Returns SP_XFER_OK (fills *out), SP_XFER_ERR_NOT_FOUND,
    SP_XFER_ERR_DOWN, SP_XFER_ERR_AUTH, SP_XFER_ERR_BAD_REPLY. */
int sp_xfer_get (sp_http_t *http, const char *username, const char *id, sp_xfer_t *out, char *err,
                 size_t err_size);

/*  Cancel (if active) and remove the transfer record. A 404 counts as done.
    Returns SP_XFER_OK, SP_XFER_ERR_DOWN, SP_XFER_ERR_AUTH,
    SP_XFER_ERR_REFUSED. */
int sp_xfer_remove (sp_http_t *http, const char *username, const char *id, char *err,
                    size_t err_size);

/*  Where slskd wrote the finished file of remote path `remote`: in
    downloads_dir/<last remote dir>/ (or downloads_dir itself when the
    remote path has no folder), the file <name>, or slskd's clash variant
    <stem>_<digits><ext>. Prefers a regular file (never a symlink) of `size`
    bytes (the newest such variant); without one, the file <name> itself
    whatever its size (the caller's size check then reports it). Components
    that are empty, ".", ".." are refused; '/' in a component becomes '_'
    as slskd does. On SP_XFER_OK *path_out is a new string (caller frees).
    Returns SP_XFER_OK, SP_XFER_ERR_NOT_FOUND or SP_XFER_ERR_INVALID. */
int sp_xfer_local_path (const char *downloads_dir, const char *remote, uint64_t size,
                        char **path_out);

#endif
