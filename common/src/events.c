/*  events.c: progress events on a PUB socket (see soulpipe/events.h). */
#include "soulpipe/events.h"
#include "soulpipe/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct _sp_events_t {
    zsock_t *pub;          //  the bound PUB socket
    pthread_mutex_t lock;  //  guards pub: publishers run on several threads
};

sp_events_t *
sp_events_new (const char *endpoint, const sp_wire_curve_t *curve, char *err, size_t err_size)
{
    sp_events_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->pub = sp_wire_socket (ZMQ_PUB, endpoint, true, 0, 0, curve, err, err_size);
    if (!self->pub) {
        free (self);
        return NULL;
    }
    zsock_set_sndhwm (self->pub, 100000);
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
sp_events_destroy (sp_events_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_events_t *self = *self_p;
    zsock_destroy (&self->pub);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
sp_events_publish (sp_events_t *self, const sp_msg_t *event)
{
    if (!self || !event || event->type != SP_MSG_EVENT || !event->job)
        return;
    pthread_mutex_lock (&self->lock);
    sp_wire_send (self->pub, NULL, event->job, event, true);
    pthread_mutex_unlock (&self->lock);
}

void
sp_events_store_change (const sp_store_change_t *change, void *arg)
{
    sp_events_t *self = arg;
    if (!self || !change || !change->job_id || !*change->job_id)
        return;
    sp_msg_t ev;
    memset (&ev, 0, sizeof ev);
    ev.type = SP_MSG_EVENT;
    ev.job = (char *) change->job_id;
    if (change->track_key && *change->track_key && change->new_state && *change->new_state) {
        ev.kind = "track";
        ev.track = (char *) change->track_key;
        ev.state = (char *) change->new_state;
        if (change->reason && *change->reason)
            ev.message = (char *) change->reason;
        //  the position is the part of the track key after the last ':'
        const char *colon = strrchr (change->track_key, ':');
        if (colon) {
            char *end = NULL;
            unsigned long long pos = strtoull (colon + 1, &end, 10);
            if (end && *end == '\0' && end != colon + 1) {
                ev.has_position = true;
                ev.position = pos;
            }
        }
        sp_events_publish (self, &ev);
    }
    memset (&ev, 0, sizeof ev);
    ev.type = SP_MSG_EVENT;
    ev.job = (char *) change->job_id;
    ev.kind = "counts";
    ev.state = (char *) (change->job_state && *change->job_state ? change->job_state : NULL);
    ev.has_counts = true;
    ev.counts.total = (uint64_t) (change->total > 0 ? change->total : 0);
    ev.counts.skipped = (uint64_t) (change->skipped > 0 ? change->skipped : 0);
    ev.counts.queued = (uint64_t) (change->queued > 0 ? change->queued : 0);
    ev.counts.done = (uint64_t) (change->done > 0 ? change->done : 0);
    ev.counts.failed = (uint64_t) (change->failed > 0 ? change->failed : 0);
    sp_events_publish (self, &ev);
}

void
sp_events_notice (sp_events_t *self, const char *job, const char *track, const char *message)
{
    if (!self || !job)
        return;
    sp_msg_t ev;
    memset (&ev, 0, sizeof ev);
    ev.type = SP_MSG_EVENT;
    ev.job = (char *) job;
    ev.kind = "notice";
    ev.track = (char *) track;
    ev.message = (char *) message;
    sp_events_publish (self, &ev);
}
