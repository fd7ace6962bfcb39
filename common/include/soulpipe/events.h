/*  events.h: the analyzer's progress event publisher.

    One PUB socket bound on SOULPIPE_EVENTS_ENDPOINT; every message is an
    `event` (see msg.h) sent with the playlist job id as its topic, so
    `soulpipe watch JOB` subscribes to exactly one job. Publishing is
    thread-safe (a mutex guards the socket), so the client API thread, the
    submit threads and the broker thread all publish through one sp_events_t.
    PUB never blocks: events for slow subscribers are dropped by ZeroMQ, and
    the job state in Redis stays the source of truth.
*/
#ifndef SOULPIPE_EVENTS_H
#define SOULPIPE_EVENTS_H

#include "soulpipe/msg.h"
#include "soulpipe/store.h"
#include "soulpipe/wire.h"

typedef struct _sp_events_t sp_events_t;

/*  Bind a PUB socket on endpoint. NULL with a reason in err on failure.
    Caller owns the result (sp_events_destroy). */
sp_events_t *sp_events_new (const char *endpoint, const sp_wire_curve_t *curve, char *err,
                            size_t err_size);
void sp_events_destroy (sp_events_t **self_p);

/*  Publish an event (msg->type must be SP_MSG_EVENT; msg->job is the topic).
    Thread-safe; accepts self == NULL (does nothing). */
void sp_events_publish (sp_events_t *self, const sp_msg_t *event);

/*  Publish the events for one store change: a "track" event when a track
    changed state and a "counts" event with the job's counters. Suitable as
    a store change handler: sp_store_set_change_handler (store,
    sp_events_store_change, events). */
void sp_events_store_change (const sp_store_change_t *change, void *events);

/*  Publish a "notice" event with a message (e.g. "waiting for search budget")
    for a job, optionally about one track (may be NULL). */
void sp_events_notice (sp_events_t *self, const char *job, const char *track, const char *message);

#endif
