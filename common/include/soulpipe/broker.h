/*  broker.h: the task broker, run by the analyzer in a thread of its own.

    A ROUTER socket on SOULPIPE_BROKER_ENDPOINT. Workers connect a DEALER and
    say `ready` with their role (stage) and how many tasks they can hold
    (credit). The broker takes tasks from the Redis store (which leases them)
    and sends `task` messages only up to each worker's credit, so no task ever
    waits in the buffer of a busy or dead worker. `done` and `fail` go to the
    store with the fencing token of the lease (a late answer from a worker
    whose lease expired is refused there) and the dispatch's claim: the
    random token sent with the task and the identity it was sent to (an
    answer from any other socket, or with another token, is refused and
    logged); `progress` extends the lease and is
    published as an event; `heartbeat`s go both ways (they keep a worker
    known, but do not extend leases: a handler that hangs without reporting
    progress loses its task when the lease runs out). A worker that
    stays silent for liveness heartbeats is forgotten: its tasks come back
    when their leases expire (the broker runs the reaper every second).

    Redis outages: the broker's store calls use a short retry budget so the
    loop keeps heartbeating; answers that could not be stored are kept (up to
    a bound) and retried until Redis is back.
*/
#ifndef SOULPIPE_BROKER_H
#define SOULPIPE_BROKER_H

#include "soulpipe/events.h"
#include "soulpipe/wire.h"

#include <stdint.h>

typedef struct {
    const char *endpoint;   //  where to bind (borrowed, copied)
    const char *redis_url;  //  the store (borrowed, copied)
    int heartbeat_ms;       //  heartbeat interval
    int liveness;           //  missed heartbeats before a worker is dropped
    int lease_ms;           //  lease given with each task
    int max_attempts;       //  tries per stage before a track fails
    sp_events_t *events;    //  where to publish (borrowed, may be NULL; must outlive the broker)
    const sp_wire_curve_t *curve;  //  CURVE settings (borrowed, may be NULL)
} sp_broker_config_t;

typedef struct _sp_broker_t sp_broker_t;

/*  Start the broker thread: binds the socket and connects to Redis before
    returning. NULL with a reason in err on failure. Caller owns the result. */
sp_broker_t *sp_broker_new (const sp_broker_config_t *config, char *err, size_t err_size);

/*  Stop the broker thread and free it. Accepts NULL; nulls *self_p. */
void sp_broker_destroy (sp_broker_t **self_p);

/*  Counters for tests and benchmarks (a snapshot; thread-safe). */
typedef struct {
    uint64_t tasks_sent, done, failed, stale, bad_messages, workers_dropped, reaped;
    uint64_t forged;   //  answers refused: not from the worker the task went to
    uint64_t dropped;  //  messages discarded unanswered (peers that never said ready)
    int workers;
} sp_broker_stats_t;
void sp_broker_stats (sp_broker_t *self, sp_broker_stats_t *stats);

/*  Exponential backoff before retry number `attempt` (1-based) of a failed
    task: 1 s, 2 s, 4 s ... capped at 60 s. */
int sp_broker_backoff_ms (int attempt);

#endif
