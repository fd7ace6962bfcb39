/*  worker.h: the loop every worker service (searcher, downloader, tagger)
    runs: connect to the broker, announce the role and credit, receive tasks,
    run the handler on a pool of threads, report done/fail, heartbeat.

    Each of `slots` threads runs one task at a time, so one slow task never
    holds up the others, and the credit announced to the broker is the number
    of free threads: a busy worker is never sent a task it cannot start.
    Heartbeats keep the worker known to the broker; a task's lease is extended
    only by sp_task_progress(), so a handler of long work (a download, a wait
    for the search budget) must report progress well within the lease
    (SOULPIPE_LEASE_S), and a handler that hangs loses its task. When the
    broker goes silent for `liveness` heartbeats the worker reconnects with a fresh socket and says ready
    again; answers for tasks it still holds are accepted by the new broker as
    long as their lease (fencing token) is still current.

    SIGTERM (sp_app_stopping): the worker says bye, lets running tasks finish
    for up to stop_grace_ms (handlers see sp_task_stopping() and should hand
    back long work), hands back whatever has not finished as a retryable
    failure, and returns.
*/
#ifndef SOULPIPE_WORKER_H
#define SOULPIPE_WORKER_H

#include "soulpipe/config.h"
#include "soulpipe/msg.h"
#include "soulpipe/wire.h"

#include <stdbool.h>
#include <stdint.h>

/*  One task (one stage's unit of work for one track of a playlist job) as
    a handler sees it. Opaque; use the accessors. */
typedef struct _sp_task_t sp_task_t;

const char *sp_task_id (const sp_task_t *task);     //  task id "<job>:<pos>:<stage>"
const char *sp_task_stage (const sp_task_t *task);  //  "search" | "download" | "tag"
uint64_t sp_task_fence (const sp_task_t *task);
int sp_task_attempt (const sp_task_t *task);  //  1-based

/*  The decoded stage payload, owned by the task; the handler may modify
    it and pass it on with sp_task_done(task, next, NULL). */
sp_payload_t *sp_task_payload (sp_task_t *task);

/*  Finish the task: next is the stage to enqueue ("download", "tag", or
    "search" to go back) or NULL when this was the last stage; payload is the
    next stage's payload (NULL = the task's own payload as modified). */
void sp_task_done (sp_task_t *task, const char *next, const sp_payload_t *payload);

/*  Fail the task with a reason in words a user understands; retry says if
    another try could succeed (timeouts, 5xx, Redis down) or not (bad input,
    nothing found). payload may be NULL. */
void sp_task_fail (sp_task_t *task, bool retry, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/*  Report progress (extends the lease; published as an event). state is a
    short word ("searching", "queued", "transferring"...); pass has-values via
    negative numbers for "unknown": bytes/size < 0 and percent < 0 are left
    out. message may be NULL. Thread-safe; rate-limit it in the handler
    (a few per second at most). */
void sp_task_progress (sp_task_t *task, const char *state, int64_t bytes, int64_t size,
                       double percent, const char *message);

/*  True when the worker is stopping: hand back (sp_task_fail retry) soon. */
bool sp_task_stopping (const sp_task_t *task);

typedef struct {
    const char *role;         //  "search" | "download" | "tag"
    const char *worker_name;  //  unique id; NULL = <hostname>-<pid>-<random>
    int slots;                //  tasks run at once (threads)
    const sp_config_t *cfg;   //  broker endpoint, heartbeats (borrowed)
    const sp_wire_curve_t
        *curve;  //  CURVE (borrowed); NULL = load from cfg->curve_dir (off when empty)
    /*  Per thread: ctx = thread_init(arg) before the first task (NULL init =
        ctx is arg; a NULL return stops the worker with an error), then
        handle(ctx, task) per task, then thread_fini(ctx) (may be NULL). */
    void *(*thread_init) (void *arg);
    void (*thread_fini) (void *ctx);
    void (*handle) (void *ctx, sp_task_t *task);
    void *arg;
    int stop_grace_ms;  //  SIGTERM: time for running tasks to finish (0 = 10000)
    /*  Stop condition (NULL = sp_app_stopping). */
    bool (*should_stop) (void);
} sp_worker_def_t;

/*  Run the worker until it is told to stop. Returns 0 after a clean stop,
    2 when it cannot start (bad endpoint, thread creation failed). */
int sp_worker_run (const sp_worker_def_t *def);

#include "soulpipe/app.h"

/*  What a worker service's main() needs besides its handler. */
typedef struct {
    const sp_app_info_t *info;  //  --help text, config mask
    const char *role;           //  "search" | "download" | "tag"
    /*  Slots from the config (NULL = 1 slot). */
    int (*slots) (const sp_config_t *cfg);
    /*  Per-thread context and handler, as in sp_worker_def_t; thread_init gets
        the loaded sp_config_t as its argument. */
    void *(*thread_init) (void *cfg);
    void (*thread_fini) (void *ctx);
    void (*handle) (void *ctx, sp_task_t *task);
    /*  Optional check before connecting (e.g. folders exist); returns 0 or
        prints why and returns an exit status. */
    int (*preflight) (const sp_config_t *cfg);
} sp_worker_service_t;

/*  The whole main() of a worker service: --help/--version, config, logging,
    preflight, sp_worker_run until SIGTERM. Returns the exit status. */
int sp_worker_main (const sp_worker_service_t *service, int argc, char **argv);

#endif
