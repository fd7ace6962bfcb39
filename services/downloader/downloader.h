/*  downloader.h: the download stage's handler.

    For one track (a "download" task whose payload holds the candidates,
    ranked best first by the searcher) it tries the candidates one at a time,
    each from another user: enqueue in slskd, follow the transfer by polling
    (progress about once a second, which also extends the task's lease),
    give up on a transfer that is rejected, errors, times out, is cancelled
    or aborted, sits in the remote queue longer than SOULPIPE_QUEUE_TIMEOUT_S
    or makes no progress for SOULPIPE_STALL_TIMEOUT_S (cancelled and removed
    in slskd), and verifies a finished file (size, TagLib opens it, duration
    within max(5 s, 3 %) of the expected; zeros or undecodable = corrupt,
    deleted). A good file is moved atomically to
        SOULPIPE_STAGING_DIR/<job>/<position>.<ext>
    (created without following symlinks, never replacing an existing file),
    the slskd transfer is removed, and the track goes to the tag stage.
    Every outcome updates the peer's record (peers.h); peers that failed
    repeatedly are skipped for a while.

    When every candidate failed: the first time (search_rounds below 2; an
    absent search_rounds counts as 1) the track goes back to the search
    stage with the failed users added to excluded_users, what was tried in
    `tried`, search_rounds + 1 and no candidates; after that it fails with a
    reason listing what was tried. slskd unreachable or 5xx: a retryable
    failure (the transfer, if any, is left running to be picked up).

    Crash safety: the transfer id (with source_user and source_file) is set
    on the track record as soon as slskd gives it. A re-delivered task
    (1) whose staged file exists passes it on, (2) whose recorded transfer is
    still in slskd follows it (or uses its file when it completed), and
    (3) otherwise starts over. Copies across file systems go through a
    per-track work folder (<job>/.work-<position>) that every run of the
    track empties first, so no partial file survives in staging.
*/
#ifndef SOULPIPE_DOWNLOADER_H
#define SOULPIPE_DOWNLOADER_H

#include "soulpipe/config.h"
#include "soulpipe/msg.h"
#include "soulpipe/store.h"
#include "soulpipe/worker.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _sp_dl_t sp_dl_t;

/*  Settings (strings borrowed; they must outlive the sp_dl_t). */
typedef struct {
    const char *slskd_url;      //  "http://host:port"
    const char *slskd_api_key;  //  X-API-Key ("" = none)
    const char *downloads_dir;  //  slskd's downloads folder
    const char *staging_dir;    //  where verified files go
    const char *redis_url;      //  peer memory and track fields (NULL/"" = none)
    int queue_timeout_s;        //  remote queue limit
    int stall_timeout_s;        //  no-progress limit
    int transfer_timeout_s;     //  whole-transfer limit
    int poll_ms;                //  poll interval (0 = 500)
    int file_wait_s;            //  wait for the whole file after Succeeded (0 = 45)
    bool force_copy;            //  tests: copy + commit instead of rename
    const char *lossy_source;   //  fakes: "reject" (NULL too), "flag" or "accept"
    bool allow_lossy;           //  under "reject": keep the first fake as the last resort
} sp_dl_config_t;

/*  Fill *out from the service configuration (borrows its strings). */
void sp_dl_config_from (const sp_config_t *cfg, sp_dl_config_t *out);

/*  Per-thread context: an HTTP client and a Redis connection. The settings
    are borrowed. Returns NULL with a message in err on failure. Caller owns
    the result (sp_dl_destroy). */
sp_dl_t *sp_dl_new (const sp_dl_config_t *config, char *err, size_t err_size);
void sp_dl_destroy (sp_dl_t **self_p);

/*  What the task does with the result. */
typedef enum {
    SP_DL_TAG = 0,       //  staged: done, next stage "tag"
    SP_DL_SEARCH_AGAIN,  //  candidates exhausted: done, next stage "search"
    SP_DL_RETRY,         //  retryable failure (slskd/Redis down, stopping)
    SP_DL_FAILED         //  fatal failure (reason lists what was tried)
} sp_dl_result_t;

/*  How the handler talks to its task (so tests can run it without a broker). */
typedef struct {
    void (*progress) (void *arg, const char *state, int64_t bytes, int64_t size, double percent,
                      const char *message);
    bool (*stopping) (void *arg);
    void *arg;
} sp_dl_ops_t;

/*  Download one track. payload->job and payload->track_key ("<job>:<pos>")
    must be set; the payload is updated for the next stage (staged_path,
    source, transfer_id; or excluded_users, tried, search_rounds). ops may be
    NULL. reason (reason_size bytes) gets the failure reason. */
sp_dl_result_t sp_dl_run (sp_dl_t *self, sp_payload_t *payload, const sp_dl_ops_t *ops,
                          char *reason, size_t reason_size);

/*  The worker handler: ctx is an sp_dl_t. */
void sp_dl_handle (void *ctx, sp_task_t *task);

/*  `soulpipe-downloader --verify FILE ...` (argv[0] is "--verify"): the
    audio verifier on one file, offline. Returns the exit code (0 kept,
    1 rejected, 2 usage error). */
int sp_dl_verify_main (int argc, char **argv);

/* ------------------------------------------------------------ file checks */

#define SP_DL_VERIFY_OK      0
#define SP_DL_VERIFY_CORRUPT -1  //  wrong size, zeros, not decodable audio
#define SP_DL_VERIFY_LENGTH  -2  //  audio, but not of the expected length
#define SP_DL_VERIFY_IO      -3  //  cannot read the file

/*  True when actual_ms is within max(5 s, 3 %) of expected_ms (an
    expected_ms <= 0 accepts any length). */
bool sp_dl_length_ok (int64_t expected_ms, int64_t actual_ms);

/*  Check a finished file: exactly size bytes (size 0 = any), not all zeros
    in its first 64 KiB, TagLib opens it with audio properties and a length
    > 0 within tolerance of expected_ms (<= 0 = unknown). length_s (may be
    NULL) gets the length. Returns an SP_DL_VERIFY_* code and a reason. */
int sp_dl_verify_file (const char *path, uint64_t size, int64_t expected_ms, int *length_s,
                       char *why, size_t why_size);

/*  The staged file of a track: staging_dir/<job>/<pos>.<any ext>, a regular
    file. Returns 0 and a new string in *path_out (caller frees), or -1. */
int sp_dl_find_staged (const char *staging_dir, const char *job, const char *pos, char **path_out);

/*  Move src_path (a regular file, not a symlink) to
    staging_dir/<job>/<pos>.<ext> without replacing an existing file:
    rename when on the same file system (unless force_copy), else copy
    through <job>/.work-<pos> (fsync, commit, rename) and remove the source.
    Returns 0 with a new string in *staged_out (caller frees), 1 when the
    staged file already exists (source left alone), or -1 with a reason. */
int sp_dl_stage (const char *staging_dir, const char *job, const char *pos, const char *src_path,
                 const char *ext, bool force_copy, char **staged_out, char *why, size_t why_size);

/*  Remove <job>/.work-<pos> and whatever is in it (a crashed copy). */
void sp_dl_clean_work (const char *staging_dir, const char *job, const char *pos);

#endif
