/*  broker.c: credit-based task broker over a ROUTER socket, with task state
    in the Redis store (see soulpipe/broker.h).

    Handles: ready, heartbeat, done, fail, progress, bye (from workers).
    Sends:   task, heartbeat, error (unknown_worker: please say ready again).

    Forged answers: every task goes out with a random token drawn for that
    dispatch, and the store records it with the ROUTER identity the task
    went to; done/fail/progress must come from that identity with that
    token, else the store refuses them (SP_STORE_EFORGED) and nothing
    changes. Peers that never said ready ("strangers") are served a bounded
    number of messages (errors, answer checks), then dropped: their
    messages are read and discarded without a reply, a Redis call or a log
    line. A worker whose answers keep being forged is dropped the same way.

    Structure follows the ZeroMQ Guide's Paranoid Pirate queue (heartbeats,
    liveness, worker expiry) with two changes: the queue of work lives in
    Redis (leases + fencing tokens), and workers get tasks only against the
    credit they announced. */
#include "soulpipe/clock.h"
#include "soulpipe/broker.h"
#include "soulpipe/log.h"
#include "soulpipe/rand.h"
#include "soulpipe/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BROKER_IDLE_POLL_MS   20     //  how often an idle broker looks for new work (ms)
#define BROKER_REAP_MS        1000   //  reaper period (ms)
#define BROKER_STORE_RETRY_MS 1000   //  store retry budget per call, so heartbeats keep going
#define BROKER_MAX_PENDING    10000  //  answers kept while Redis is down
#define BROKER_DISPATCH_BURST 200    //  tasks sent per loop turn at most
#define BROKER_MAX_WORKERS    4096   //  connected workers at most
#define BROKER_MAX_STRANGERS  1024   //  peers without ready tracked at once (oldest forgotten)
#define BROKER_STRANGER_LIMIT 32     //  messages served to a peer that never said ready
#define BROKER_FORGED_LIMIT   32     //  forged answers in a row before a worker is dropped
#define BROKER_ROUTE_MAX      (2 * 255 + 1)  //  a routing id (≤255 bytes) as hex

typedef struct {
    zframe_t *routing_id;          //  the worker's DEALER identity (owned)
    char name[SP_MSG_MAX_ID + 1];  //  the worker id it announced
    sp_store_stage_t stage;        //  its role
    int capacity;                  //  credit announced in ready
    int credit;                    //  tasks it can still take now
    int64_t expires_ms;            //  silent past this: dropped
    int64_t last_task_ms;          //  when it last got a task (for fairness)
    int forged;                    //  refused (forged) answers in a row
} worker_t;

typedef struct {
    zframe_t *routing_id;  //  the peer's identity (owned)
    int messages;          //  messages it sent without a ready
    int64_t last_ms;       //  when it last sent one
} stranger_t;

typedef struct {
    sp_msg_t *msg;                 //  the answer (owned)
    char route[BROKER_ROUTE_MAX];  //  the identity it came from (hex)
} pending_t;

struct _sp_broker_t {
    sp_broker_config_t cfg;  //  copy of the configuration (strings below)
    char *endpoint;          //  owned copy of cfg.endpoint
    char *redis_url;         //  owned copy of cfg.redis_url
    zsock_t *router;         //  the bound ROUTER (used by the thread only)
    sp_store_t *store;       //  Redis connection (used by the thread only)
    pthread_t thread;        //  the broker thread
    atomic_bool stop;        //  set to end the thread
    worker_t *workers;       //  connected workers
    size_t n_workers, cap_workers;
    stranger_t *strangers;  //  peers that sent something but never said ready
    size_t n_strangers;
    pending_t *pending;  //  done/fail answers not yet stored (Redis down)
    size_t n_pending;
    pthread_mutex_t stats_lock;  //  guards stats
    sp_broker_stats_t stats;     //  counters
};

int
sp_broker_backoff_ms (int attempt)
{
    if (attempt < 1)
        attempt = 1;
    if (attempt > 7)
        return 60000;
    int ms = 1000 << (attempt - 1);
    return ms > 60000 ? 60000 : ms;
}

static void
s_stat_add (sp_broker_t *self, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock (&self->stats_lock);
    *field += n;
    pthread_mutex_unlock (&self->stats_lock);
}

void
sp_broker_stats (sp_broker_t *self, sp_broker_stats_t *stats)
{
    pthread_mutex_lock (&self->stats_lock);
    *stats = self->stats;
    stats->workers = (int) self->n_workers;
    pthread_mutex_unlock (&self->stats_lock);
}

/* ---------------------------------------------------------------- workers */

static worker_t *
s_worker_find (sp_broker_t *self, zframe_t *routing_id)
{
    for (size_t i = 0; i < self->n_workers; i++)
        if (zframe_eq (self->workers[i].routing_id, routing_id))
            return &self->workers[i];
    return NULL;
}

static void
s_worker_remove (sp_broker_t *self, size_t index, const char *why)
{
    worker_t *w = &self->workers[index];
    sp_log_info ("event=worker_gone worker=%s role=%s reason=%s", sp_log_q (w->name),
                 sp_store_stage_name (w->stage), why);
    zframe_destroy (&w->routing_id);
    self->workers[index] = self->workers[self->n_workers - 1];
    self->n_workers--;
}

static worker_t *
s_worker_add (sp_broker_t *self, zframe_t *routing_id)
{
    if (self->n_workers >= BROKER_MAX_WORKERS)
        return NULL;
    if (self->n_workers == self->cap_workers) {
        size_t cap = self->cap_workers ? self->cap_workers * 2 : 16;
        worker_t *grown = realloc (self->workers, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->workers = grown;
        self->cap_workers = cap;
    }
    //  workers is allocated here: n_workers < cap_workers
    worker_t *w = &self->workers[self->n_workers++];
    memset (w, 0, sizeof *w);  // NOLINT(clang-analyzer-core.NonNullParamChecker)
    w->routing_id = zframe_dup (routing_id);
    return w;
}

/* ---------------------------------------------------------------- strangers */

/*  Count one message from a peer that never said ready. Returns false when
    the peer has used up BROKER_STRANGER_LIMIT: drop the message unanswered. */
static bool
s_stranger_admit (sp_broker_t *self, zframe_t *routing_id, int64_t now)
{
    stranger_t *s = NULL;
    for (size_t i = 0; i < self->n_strangers && !s; i++)
        if (zframe_eq (self->strangers[i].routing_id, routing_id))
            s = &self->strangers[i];
    if (!s) {
        if (!self->strangers) {
            self->strangers = calloc (BROKER_MAX_STRANGERS, sizeof *self->strangers);
            if (!self->strangers)
                return true;
        }
        if (self->n_strangers < BROKER_MAX_STRANGERS)
            s = &self->strangers[self->n_strangers++];
        else {
            //  full: forget the one that has been quiet longest
            s = &self->strangers[0];
            for (size_t i = 1; i < self->n_strangers; i++)
                if (self->strangers[i].last_ms < s->last_ms)
                    s = &self->strangers[i];
            zframe_destroy (&s->routing_id);
        }
        s->routing_id = zframe_dup (routing_id);
        s->messages = 0;
    }
    s->last_ms = now;
    if (s->messages >= BROKER_STRANGER_LIMIT) {
        s_stat_add (self, &self->stats.dropped, 1);
        return false;
    }
    if (++s->messages == BROKER_STRANGER_LIMIT)
        sp_log_warn ("event=peer_dropped messages=%d reason=\"never said ready: its further "
                     "messages are discarded unanswered\"",
                     s->messages);
    return true;
}

/*  A peer saying ready is no stranger any more; strikes set its count
    (BROKER_STRANGER_LIMIT: dropped at once). */
static void
s_stranger_set (sp_broker_t *self, zframe_t *routing_id, int messages, int64_t now)
{
    for (size_t i = 0; i < self->n_strangers; i++) {
        if (zframe_eq (self->strangers[i].routing_id, routing_id)) {
            if (messages > 0) {
                self->strangers[i].messages = messages;
                self->strangers[i].last_ms = now;
            } else {
                zframe_destroy (&self->strangers[i].routing_id);
                self->strangers[i] = self->strangers[--self->n_strangers];
            }
            return;
        }
    }
    if (messages > 0 && s_stranger_admit (self, routing_id, now))
        s_stranger_set (self, routing_id, messages, now);
}

/* ---------------------------------------------------------------- helpers */

/*  A routing id as hex text, as recorded with the lease. */
static void
s_route_hex (zframe_t *routing_id, char out[BROKER_ROUTE_MAX])
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *d = routing_id ? zframe_data (routing_id) : NULL;
    size_t n = routing_id ? zframe_size (routing_id) : 0;
    if (n > 255)
        n = 255;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/*  Split a task id "<job>:<pos>:<stage>" into job and track key. */
static void
s_task_ids (const char *task_id, char *job, size_t job_size, char *track, size_t track_size)
{
    job[0] = track[0] = '\0';
    if (!task_id)
        return;
    const char *first = strchr (task_id, ':');
    const char *last = strrchr (task_id, ':');
    if (first && (size_t) (first - task_id) < job_size)
        snprintf (job, job_size, "%.*s", (int) (first - task_id), task_id);
    if (last && last != first && (size_t) (last - task_id) < track_size)
        snprintf (track, track_size, "%.*s", (int) (last - task_id), task_id);
}

static void
s_send_error (sp_broker_t *self, zframe_t *routing_id, const char *code, const char *message)
{
    sp_wire_send_error (self->router, routing_id, code, message);
}

/*  Store a done or fail answer that came from route (hex routing id).
    Returns SP_STORE_* (EIO = keep for later, EFORGED = not from the
    worker the task went to). */
static int
s_store_answer (sp_broker_t *self, const sp_msg_t *msg, const char *route)
{
    sp_store_claim_t claim = {.route = route, .token = msg->has_token ? msg->token : 0};
    char job[SP_MSG_MAX_ID + 1], track[SP_MSG_MAX_TRACK_KEY + 1];
    s_task_ids (msg->id, job, sizeof job, track, sizeof track);
    sp_log_context (job, track);
    int rc;
    if (msg->type == SP_MSG_DONE) {
        sp_store_stage_t next = SP_STORE_NONE;
        if (msg->next && sp_store_stage_parse (msg->next, &next)) {
            sp_log_warn ("event=bad_done task=%s reason=\"unknown next stage\"",
                         sp_log_q (msg->id));
            sp_log_context (NULL, NULL);
            return SP_STORE_EINVAL;
        }
        //  What the stage learned goes on the track record too, for status.
        sp_store_result_t result = {0};
        sp_payload_t *payload = NULL;
        char why[128];
        if (msg->payload && msg->payload_size &&
            sp_payload_decode (msg->payload, msg->payload_size, &payload, why, sizeof why) ==
                SP_MSG_OK) {
            if (payload->has_source) {
                result.source_user = payload->source.username;
                result.source_file = payload->source.filename;
            }
            result.transfer_id = payload->transfer_id;
            if (next == SP_STORE_NONE)
                result.path = payload->staged_path;
        }
        rc = sp_store_complete_as (self->store, msg->id, msg->fence, &claim, next, msg->payload,
                                   next == SP_STORE_NONE ? 0 : msg->payload_size, &result);
        sp_payload_destroy (&payload);
        if (rc == SP_STORE_OK) {
            s_stat_add (self, &self->stats.done, 1);
            sp_log_debug ("event=done task=%s next=%s", sp_log_q (msg->id),
                          msg->next ? msg->next : "none");
        }
    } else {
        int attempt_guess = msg->fence > 10 ? 10 : (int) msg->fence;
        rc = sp_store_fail_as (self->store, msg->id, msg->fence, &claim, msg->reason, msg->retry,
                               self->cfg.max_attempts,
                               msg->retry ? sp_broker_backoff_ms (attempt_guess) : 0);
        if (rc == SP_STORE_OK) {
            s_stat_add (self, &self->stats.failed, 1);
            sp_log_info ("event=fail task=%s retry=%s reason=%s", sp_log_q (msg->id),
                         msg->retry ? "true" : "false", sp_log_q (msg->reason));
        }
    }
    if (rc == SP_STORE_EFORGED) {
        s_stat_add (self, &self->stats.forged, 1);
        sp_log_warn ("event=answer_refused type=%s task=%s reason=\"forged: not from the worker "
                     "the task was given to (token or sender does not match)\"",
                     sp_msg_type_name (msg->type), sp_log_q (msg->id));
    } else if (rc == SP_STORE_ESTALE) {
        s_stat_add (self, &self->stats.stale, 1);
        sp_log_info (
            "event=stale_answer task=%s fence=%llu reason=\"lease lost; another worker owns it\"",
            sp_log_q (msg->id), (unsigned long long) msg->fence);
    } else if (rc != SP_STORE_OK && rc != SP_STORE_EIO)
        sp_log_warn ("event=answer_refused task=%s reason=%s", sp_log_q (msg->id),
                     sp_store_strerror (rc));
    sp_log_context (NULL, NULL);
    return rc;
}

static void
s_keep_pending (sp_broker_t *self, sp_msg_t **msg_p, const char *route)
{
    if (self->n_pending >= BROKER_MAX_PENDING) {
        //  the lease will bring the task back; the handler is idempotent
        sp_log_error (
            "event=answer_dropped task=%s reason=\"redis unreachable and %d answers waiting\"",
            sp_log_q ((*msg_p)->id), BROKER_MAX_PENDING);
        sp_msg_destroy (msg_p);
        return;
    }
    pending_t *grown = realloc (self->pending, (self->n_pending + 1) * sizeof *grown);
    if (!grown) {
        sp_msg_destroy (msg_p);
        return;
    }
    self->pending = grown;
    pending_t *p = &self->pending[self->n_pending++];
    p->msg = *msg_p;
    snprintf (p->route, sizeof p->route, "%s", route);
    *msg_p = NULL;
}

static void
s_retry_pending (sp_broker_t *self)
{
    size_t done = 0;
    //  in arrival order; stop at the first one Redis still cannot take
    while (done < self->n_pending && s_store_answer (self, self->pending[done].msg,
                                                     self->pending[done].route) != SP_STORE_EIO) {
        sp_msg_destroy (&self->pending[done].msg);
        done++;
    }
    memmove (self->pending, self->pending + done, (self->n_pending - done) * sizeof *self->pending);
    self->n_pending -= done;
}

/* ---------------------------------------------------------------- messages */

/*  Handle one worker message. Returns true when it may have made work
    dispatchable (ready, done or fail: credit came back, or a done queued the
    next stage's task), so the caller looks for work at once instead of at
    the next idle poll (a single-slot tagger otherwise waited up to
    BROKER_IDLE_POLL_MS for every track). */
static bool
s_on_message (sp_broker_t *self, zframe_t *routing_id, sp_msg_t **msg_p, int64_t now)
{
    sp_msg_t *msg = *msg_p;
    bool wake = msg->type == SP_MSG_READY || msg->type == SP_MSG_DONE || msg->type == SP_MSG_FAIL;
    worker_t *w = s_worker_find (self, routing_id);
    int64_t expiry = now + (int64_t) self->cfg.heartbeat_ms * self->cfg.liveness;
    if (w)
        w->expires_ms = expiry;
    else if (msg->type != SP_MSG_READY && !s_stranger_admit (self, routing_id, now))
        return false;  //  a peer that never said ready and has had its share
    char route[BROKER_ROUTE_MAX];
    s_route_hex (routing_id, route);

    switch (msg->type) {
        case SP_MSG_READY: {
            sp_store_stage_t stage;
            if (sp_store_stage_parse (msg->role, &stage) || stage == SP_STORE_NONE) {
                s_send_error (self, routing_id, "bad_role", "role must be search, download or tag");
                break;
            }
            //  A worker that reconnected has a new routing id: forget the old entry.
            for (size_t i = 0; i < self->n_workers; i++) {
                if (&self->workers[i] != w && strcmp (self->workers[i].name, msg->worker) == 0) {
                    s_worker_remove (self, i, "\"reconnected\"");
                    w = s_worker_find (self, routing_id);
                    break;
                }
            }
            if (!w)
                w = s_worker_add (self, routing_id);
            if (!w) {
                s_send_error (self, routing_id, "busy", "too many workers");
                break;
            }
            s_stranger_set (self, routing_id, 0, now);
            snprintf (w->name, sizeof w->name, "%s", msg->worker);
            w->stage = stage;
            w->capacity = (int) msg->credit;
            w->credit = (int) msg->credit;
            w->expires_ms = expiry;
            sp_log_info ("event=worker_ready worker=%s role=%s credit=%d", sp_log_q (w->name),
                         sp_store_stage_name (stage), w->credit);
            break;
        }
        case SP_MSG_HEARTBEAT:
            //  A heartbeat proves the process lives, not that its handler
            //  does: only progress extends a lease, so a hung handler loses
            //  its task to another worker when the lease runs out.
            if (!w)
                s_send_error (self, routing_id, "unknown_worker", "say ready again");
            break;
        case SP_MSG_DONE:
        case SP_MSG_FAIL: {
            int rc = s_store_answer (self, msg, route);
            if (rc == SP_STORE_EIO)
                s_keep_pending (self, msg_p, route);
            if (w && rc == SP_STORE_EFORGED && ++w->forged >= BROKER_FORGED_LIMIT) {
                sp_log_warn ("event=worker_dropped worker=%s reason=\"%d forged answers in a row\"",
                             sp_log_q (w->name), w->forged);
                s_stat_add (self, &self->stats.workers_dropped, 1);
                s_worker_remove (self, (size_t) (w - self->workers), "\"forged answers\"");
                s_stranger_set (self, routing_id, BROKER_STRANGER_LIMIT, now);
                break;
            }
            if (w) {
                if (rc != SP_STORE_EFORGED)
                    w->forged = 0;
                if (w->credit < w->capacity)
                    w->credit++;
            } else
                s_send_error (self, routing_id, "unknown_worker", "say ready again");
            break;
        }
        case SP_MSG_PROGRESS: {
            sp_store_claim_t claim = {.route = route, .token = msg->has_token ? msg->token : 0};
            int rc =
                sp_store_extend_as (self->store, msg->id, msg->fence, &claim, self->cfg.lease_ms);
            if (rc == SP_STORE_EFORGED) {
                s_stat_add (self, &self->stats.forged, 1);
                sp_log_warn ("event=answer_refused type=progress task=%s reason=\"forged: not "
                             "from the worker the task was given to\"",
                             sp_log_q (msg->id));
            }
            if (rc != SP_STORE_OK && rc != SP_STORE_EIO) {
                if (!w)
                    s_send_error (self, routing_id, "unknown_worker", "say ready again");
                break;  //  stale (someone else owns it now) or forged: not news
            }
            char job[SP_MSG_MAX_ID + 1], track[SP_MSG_MAX_TRACK_KEY + 1];
            s_task_ids (msg->id, job, sizeof job, track, sizeof track);
            if (self->cfg.events && job[0]) {
                sp_msg_t ev;
                memset (&ev, 0, sizeof ev);
                ev.type = SP_MSG_EVENT;
                ev.job = job;
                ev.kind = "progress";
                ev.track = track[0] ? track : NULL;
                ev.state = msg->state;
                ev.message = msg->message;
                ev.has_bytes = msg->has_bytes;
                ev.bytes = msg->bytes;
                ev.has_size = msg->has_size;
                ev.size = msg->size;
                ev.has_percent = msg->has_percent;
                ev.percent = msg->percent;
                sp_events_publish (self->cfg.events, &ev);
            }
            if (!w)
                s_send_error (self, routing_id, "unknown_worker", "say ready again");
            break;
        }
        case SP_MSG_BYE:
            for (size_t i = 0; i < self->n_workers; i++) {
                if (zframe_eq (self->workers[i].routing_id, routing_id)) {
                    s_worker_remove (self, i, "\"said bye\"");
                    break;
                }
            }
            break;
        default:
            s_stat_add (self, &self->stats.bad_messages, 1);
            sp_log_warn ("event=unexpected_message type=%s", sp_msg_type_name (msg->type));
            s_send_error (self, routing_id, "unexpected",
                          "the broker does not handle this message type");
            break;
    }
    return wake;
}

/* ---------------------------------------------------------------- dispatch */

/*  The worker of `stage` with the most credit left (ties: the one that waited
    longest), or NULL. */
static worker_t *
s_pick_worker (sp_broker_t *self, sp_store_stage_t stage)
{
    worker_t *best = NULL;
    for (size_t i = 0; i < self->n_workers; i++) {
        worker_t *w = &self->workers[i];
        if (w->stage != stage || w->credit <= 0)
            continue;
        if (!best || w->credit > best->credit ||
            (w->credit == best->credit && w->last_task_ms < best->last_task_ms))
            best = w;
    }
    return best;
}

/*  Hand out tasks against credit. Returns how many were sent. */
static int
s_dispatch (sp_broker_t *self, int64_t now)
{
    int sent = 0;
    for (int s = SP_STORE_SEARCH; s <= SP_STORE_TAG; s++) {
        sp_store_stage_t stage = (sp_store_stage_t) s;
        while (sent < BROKER_DISPATCH_BURST) {
            worker_t *w = s_pick_worker (self, stage);
            if (!w)
                break;
            //  the claim: where the task goes and a token nobody else can guess
            char route[BROKER_ROUTE_MAX];
            s_route_hex (w->routing_id, route);
            uint64_t token = 0;
            while (token == 0)
                token = sp_rand_u64 ();
            sp_store_claim_t claim = {.route = route, .token = token};
            sp_store_task_t *task = NULL;
            int rc =
                sp_store_take_as (self->store, stage, w->name, &claim, self->cfg.lease_ms, &task);
            if (rc != SP_STORE_OK)
                break;
            sp_msg_t out;
            memset (&out, 0, sizeof out);
            out.type = SP_MSG_TASK;
            out.id = task->id;
            out.stage = (char *) sp_store_stage_name (stage);
            out.fence = task->fence;
            out.has_token = true;
            out.token = token;
            out.attempt = (uint64_t) task->attempt;
            out.payload = task->payload;
            out.payload_size = task->payload_len;
            if (sp_wire_send (self->router, w->routing_id, NULL, &out, true) != SP_WIRE_OK) {
                //  It vanished between its last message and now: give the task back.
                sp_store_fail_as (self->store, task->id, task->fence, &claim,
                                  "the worker went away before the task reached it", true,
                                  self->cfg.max_attempts + 1, 0);
                s_worker_remove (self, (size_t) (w - self->workers), "\"unreachable\"");
                sp_store_task_destroy (&task);
                continue;
            }
            sp_log_context (task->job_id, task->track_key);
            sp_log_debug ("event=task_sent task=%s worker=%s attempt=%d", sp_log_q (task->id),
                          sp_log_q (w->name), task->attempt);
            sp_log_context (NULL, NULL);
            w->credit--;
            w->last_task_ms = now;
            sent++;
            sp_store_task_destroy (&task);
        }
    }
    if (sent)
        s_stat_add (self, &self->stats.tasks_sent, (uint64_t) sent);
    return sent;
}

static bool
s_any_credit (sp_broker_t *self)
{
    for (size_t i = 0; i < self->n_workers; i++)
        if (self->workers[i].credit > 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- thread */

/*  A frame that did not decode: logged and answered, unless it comes from
    a stranger that has had its share. */
static void
s_on_bad_message (sp_broker_t *self, zframe_t *routing_id, const char *reason, int64_t now)
{
    s_stat_add (self, &self->stats.bad_messages, 1);
    if (routing_id && !s_worker_find (self, routing_id) &&
        !s_stranger_admit (self, routing_id, now))
        return;
    sp_log_warn ("event=bad_message reason=%s", sp_log_q (reason));
    if (routing_id)
        s_send_error (self, routing_id, "bad_message", reason);
}

static void *
s_broker_thread (void *arg)
{
    sp_broker_t *self = arg;
    int64_t now = sp_clock_mono_ms ();
    int64_t next_heartbeat = now + self->cfg.heartbeat_ms;
    int64_t next_reap = now + BROKER_REAP_MS;
    int64_t next_dispatch = now;
    bool busy = false;

    while (!atomic_load (&self->stop)) {
        int timeout = busy ? 0 : BROKER_IDLE_POLL_MS;
        zframe_t *routing_id = NULL;
        sp_msg_t *msg = NULL;
        char reason[256];
        int rc = sp_wire_recv (self->router, true, false, timeout, &routing_id, &msg, reason,
                               sizeof reason);
        now = sp_clock_mono_ms ();
        if (rc == SP_WIRE_OK) {
            if (s_on_message (self, routing_id, &msg, now))
                next_dispatch = now;
            //  drain whatever else already arrived before dispatching
            for (int i = 0; i < 1000; i++) {
                sp_msg_destroy (&msg);
                zframe_destroy (&routing_id);
                rc = sp_wire_recv (self->router, true, false, 0, &routing_id, &msg, reason,
                                   sizeof reason);
                if (rc == SP_WIRE_OK) {
                    if (s_on_message (self, routing_id, &msg, now))
                        next_dispatch = now;
                } else if (rc == SP_WIRE_BAD_MSG)
                    s_on_bad_message (self, routing_id, reason, now);
                else
                    break;
            }
        } else if (rc == SP_WIRE_BAD_MSG)
            s_on_bad_message (self, routing_id, reason, now);
        sp_msg_destroy (&msg);
        zframe_destroy (&routing_id);

        if (self->n_pending)
            s_retry_pending (self);

        busy = false;
        if (s_any_credit (self) && now >= next_dispatch) {
            int sent = s_dispatch (self, now);
            busy = sent >= BROKER_DISPATCH_BURST;
            next_dispatch = sent ? now : now + BROKER_IDLE_POLL_MS;
        }
        if (now >= next_heartbeat) {
            sp_msg_t hb;
            memset (&hb, 0, sizeof hb);
            hb.type = SP_MSG_HEARTBEAT;
            for (size_t i = 0; i < self->n_workers;) {
                if (self->workers[i].expires_ms < now) {
                    s_stat_add (self, &self->stats.workers_dropped, 1);
                    s_worker_remove (self, i, "\"silent past its heartbeat liveness\"");
                    continue;
                }
                sp_wire_send (self->router, self->workers[i].routing_id, NULL, &hb, true);
                i++;
            }
            next_heartbeat = now + self->cfg.heartbeat_ms;
        }
        if (now >= next_reap) {
            int reaped = 0;
            if (sp_store_reap (self->store, 0, self->cfg.max_attempts, &reaped) == SP_STORE_OK &&
                reaped) {
                s_stat_add (self, &self->stats.reaped, (uint64_t) reaped);
                sp_log_info ("event=leases_expired count=%d", reaped);
            }
            next_reap = now + BROKER_REAP_MS;
        }
    }
    return NULL;
}

sp_broker_t *
sp_broker_new (const sp_broker_config_t *config, char *err, size_t err_size)
{
    sp_broker_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->cfg = *config;
    self->endpoint = strdup (config->endpoint);
    self->redis_url = strdup (config->redis_url);
    pthread_mutex_init (&self->stats_lock, NULL);
    if (!self->endpoint || !self->redis_url) {
        snprintf (err, err_size, "out of memory");
        goto fail;
    }
    self->cfg.endpoint = self->endpoint;
    self->cfg.redis_url = self->redis_url;
    if (self->cfg.heartbeat_ms <= 0)
        self->cfg.heartbeat_ms = 1000;
    if (self->cfg.liveness <= 0)
        self->cfg.liveness = 3;
    if (self->cfg.max_attempts <= 0)
        self->cfg.max_attempts = 3;
    if (self->cfg.lease_ms <= 0)
        self->cfg.lease_ms = 60000;

    self->store = sp_store_new (self->redis_url, err, err_size);
    if (!self->store)
        goto fail;
    sp_store_set_retry (self->store, BROKER_STORE_RETRY_MS);
    if (self->cfg.events)
        sp_store_set_change_handler (self->store, sp_events_store_change, self->cfg.events);
    self->router = sp_wire_socket (ZMQ_ROUTER, self->endpoint, true, SP_MSG_MAX_BROKER_FRAME, 0,
                                   config->curve, err, err_size);
    if (!self->router)
        goto fail;
    //  A worker keeps its (secret, random) identity across reconnects: its
    //  new connection replaces one the broker has not yet seen close.
    zsock_set_router_handover (self->router, 1);
    atomic_store (&self->stop, false);
    if (pthread_create (&self->thread, NULL, s_broker_thread, self) != 0) {
        snprintf (err, err_size, "cannot start the broker thread");
        goto fail;
    }
    sp_log_info ("event=broker_started endpoint=%s lease_ms=%d heartbeat_ms=%d", self->endpoint,
                 self->cfg.lease_ms, self->cfg.heartbeat_ms);
    return self;
fail:
    zsock_destroy (&self->router);
    sp_store_destroy (&self->store);
    free (self->endpoint);
    free (self->redis_url);
    pthread_mutex_destroy (&self->stats_lock);
    free (self);
    return NULL;
}

void
sp_broker_destroy (sp_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_broker_t *self = *self_p;
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    for (size_t i = 0; i < self->n_workers; i++)
        zframe_destroy (&self->workers[i].routing_id);
    free (self->workers);
    for (size_t i = 0; i < self->n_pending; i++)
        sp_msg_destroy (&self->pending[i].msg);
    free (self->pending);
    for (size_t i = 0; i < self->n_strangers; i++)
        zframe_destroy (&self->strangers[i].routing_id);
    free (self->strangers);
    zsock_destroy (&self->router);
    sp_store_destroy (&self->store);
    free (self->endpoint);
    free (self->redis_url);
    pthread_mutex_destroy (&self->stats_lock);
    free (self);
    *self_p = NULL;
}
