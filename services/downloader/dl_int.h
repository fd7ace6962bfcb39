/*  dl_int.h: what the download stage's own files share; not for other
    modules (they use downloader.h).

    downloader.c   setup, the run (which candidates, in which order, and what
                   happens when all failed) and the worker handler
    dl_attempt.c   one candidate: enqueue in slskd, follow the transfer
                   (queue, stall and time limits), finish (verify + stage)
    dl_files.c     file checks and staging (public in downloader.h)
*/
#ifndef SOULPIPE_DL_INT_H
#define SOULPIPE_DL_INT_H

#include "downloader.h"

#include "soulpipe/http.h"
#include "soulpipe/msg.h"
#include "soulpipe/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DL_TRIED_MAX 1000  //  bytes of one "tried" entry

struct _sp_dl_t {
    sp_dl_config_t cfg;  //  settings (strings borrowed)
    sp_http_t *http;     //  slskd client, this thread's
    sp_store_t *store;   //  Redis (NULL when not configured)
};

//  Progress reports to the task, rate-limited.
typedef struct {
    const sp_dl_ops_t *ops;  //  the task's callbacks (may be NULL)
    int64_t last_ms;         //  last progress report (monotonic)
} sp_dl_report_t;

//  What one attempt on a candidate came to.
typedef enum {
    SP_DL_A_STAGED,   //  the file is in staging
    SP_DL_A_FAILED,   //  this candidate failed: try the next
    SP_DL_A_DOWN,     //  slskd unreachable (or staging broken): retry the task later
    SP_DL_A_STOPPING  //  the worker is stopping: hand the task back
} sp_dl_attempt_t;

//  One run of sp_dl_run over a track's candidates.
typedef struct {
    sp_dl_t *self;
    sp_payload_t *payload;
    const char *pos;  //  position part of the track key (borrowed)
    sp_dl_report_t report;
    char tried_now[SP_MSG_MAX_LIST][DL_TRIED_MAX];  //  entries of this run
    size_t n_tried;
    char *failed_users[SP_MSG_MAX_LIST];  //  borrowed from candidates
    size_t n_failed;
    char down[512];  //  why slskd counts as down
} sp_dl_run_t;

//  The file name of a Soulseek remote path (after the last backslash).
//  Borrowed from remote.
const char *sp_dl__remote_file (const char *remote);

//  Add "user/file: what" to the run's tried list (and log it).
void sp_dl__tried (sp_dl_run_t *run, const char *user, const char *remote, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Record the transfer on the track ("" id forgets it; user/file may be
//  NULL to leave those fields). Logs and goes on when Redis refuses.
void sp_dl__record_set (sp_dl_t *self, const char *track_key, const char *id, const char *user,
                        const char *file);

//  Try candidate c: enqueue it (or, with existing_id, follow the transfer an
//  earlier run started), follow the transfer, and stage the finished file
//  into the run's payload.
sp_dl_attempt_t sp_dl__attempt (sp_dl_run_t *run, sp_candidate_t *c, const char *existing_id);

/*  The last-resort fake of a track (staged aside as <job>/lossy-<pos>.<ext>
    by the audio check): sp_dl__fallback_drop removes it (a good file came);
    sp_dl__fallback_promote moves it to the track's staged name and fills
    the payload for the tag stage (true), or returns false when none. */
void sp_dl__fallback_drop (sp_dl_t *self, const char *job, const char *pos);
bool sp_dl__fallback_promote (sp_dl_run_t *run, char *reason, size_t reason_size);

#endif
