/*  worker.c: the worker loop shared by searcher, downloader and tagger
    (see soulpipe/worker.h).

    Threads: the main thread owns the DEALER to the broker and an inproc PULL
    that collects answers (done/fail/progress) from the handler threads, each
    of which has its own inproc PUSH. Tasks go from the main thread to the
    handler threads through a mutex-guarded queue. Heartbeat/liveness numbers
    follow the ZeroMQ Guide's Paranoid Pirate worker. */
#include "soulpipe/clock.h"
#include "soulpipe/worker.h"
#include "soulpipe/app.h"
#include "soulpipe/curve.h"
#include "soulpipe/log.h"
#include "soulpipe/rand.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_DEFAULT_GRACE_MS 10000  //  SIGTERM: time for running tasks (ms)
#define WORKER_RECONNECT_MAX_MS 32000  //  longest wait between reconnects (ms)

struct _sp_task_t {
    sp_msg_t *msg;          //  the `task` message (owned)
    sp_payload_t *payload;  //  decoded payload (owned)
    zsock_t *push;          //  the running thread's PUSH (borrowed)
    atomic_bool *stopping;  //  the worker's stop flag (borrowed)
    bool answered;          //  done or fail was sent
};

typedef struct _worker_t worker_t;

typedef struct {
    worker_t *worker;  //  back pointer
    pthread_t thread;  //  this handler thread
    int index;         //  0..slots-1
} slot_t;

struct _worker_t {
    const sp_worker_def_t *def;    //  the definition (borrowed)
    char name[SP_MSG_MAX_ID + 1];  //  worker id announced to the broker
    char inproc[96];               //  endpoint of the answer PULL
    uint8_t routing_id[16];        //  this process's DEALER identity (random, secret)
    pthread_mutex_t lock;          //  guards queue, running
    pthread_cond_t cond;           //  signalled on new tasks / stop
    sp_msg_t **queue;              //  tasks waiting for a thread (FIFO)
    size_t n_queue, cap_queue;
    int running;             //  tasks being handled now
    atomic_bool stopping;    //  stop requested: no new tasks, hand back soon
    atomic_bool quit;        //  handler threads must exit
    atomic_int init_failed;  //  a thread_init returned NULL
    slot_t *slots;
    sp_msg_held_t *held;   //  tasks held (queued or running), for heartbeats
    uint64_t *held_token;  //  held[i]'s dispatch token (for hand-backs; never in heartbeats)
    size_t n_held, cap_held;
};

/* ---------------------------------------------------------------- task API */

const char *
sp_task_id (const sp_task_t *task)
{
    return task->msg->id;
}

const char *
sp_task_stage (const sp_task_t *task)
{
    return task->msg->stage;
}

uint64_t
sp_task_fence (const sp_task_t *task)
{
    return task->msg->fence;
}

int
sp_task_attempt (const sp_task_t *task)
{
    return (int) task->msg->attempt;
}

sp_payload_t *
sp_task_payload (sp_task_t *task)
{
    return task->payload;
}

bool
sp_task_stopping (const sp_task_t *task)
{
    return atomic_load (task->stopping);
}

static void
s_task_answer (sp_task_t *task, sp_msg_t *answer)
{
    if (sp_wire_send (task->push, NULL, NULL, answer, false) != SP_WIRE_OK)
        sp_log_error ("event=answer_not_sent task=%s", sp_log_q (task->msg->id));
}

void
sp_task_done (sp_task_t *task, const char *next, const sp_payload_t *payload)
{
    if (task->answered)
        return;
    sp_msg_t answer;
    memset (&answer, 0, sizeof answer);
    answer.type = SP_MSG_DONE;
    answer.id = task->msg->id;
    answer.fence = task->msg->fence;
    answer.has_token = task->msg->has_token;
    answer.token = task->msg->token;
    answer.next = (char *) next;
    const sp_payload_t *out = payload ? payload : task->payload;
    uint8_t *data = NULL;
    size_t size = 0;
    char reason[256];
    if (out && sp_payload_encode (out, &data, &size, reason, sizeof reason) != SP_MSG_OK) {
        sp_task_fail (task, false, "internal error: the next stage's payload did not encode (%s)",
                      reason);
        return;
    }
    answer.payload = data;
    answer.payload_size = size;
    s_task_answer (task, &answer);
    free (data);
    task->answered = true;
}

void
sp_task_fail (sp_task_t *task, bool retry, const char *fmt, ...)
{
    if (task->answered)
        return;
    char reason[SP_MSG_MAX_STR];
    va_list ap;
    va_start (ap, fmt);
    //  va_start is just above (the analyzer loses it through the format attribute)
    vsnprintf (reason, sizeof reason, fmt, ap);  // NOLINT(clang-analyzer-valist.Uninitialized)
    va_end (ap);
    sp_msg_t answer;
    memset (&answer, 0, sizeof answer);
    answer.type = SP_MSG_FAIL;
    answer.id = task->msg->id;
    answer.fence = task->msg->fence;
    answer.has_token = task->msg->has_token;
    answer.token = task->msg->token;
    answer.reason = reason;
    answer.retry = retry;
    s_task_answer (task, &answer);
    task->answered = true;
}

void
sp_task_progress (sp_task_t *task, const char *state, int64_t bytes, int64_t size, double percent,
                  const char *message)
{
    sp_msg_t p;
    memset (&p, 0, sizeof p);
    p.type = SP_MSG_PROGRESS;
    p.id = task->msg->id;
    p.fence = task->msg->fence;
    p.has_token = task->msg->has_token;
    p.token = task->msg->token;
    p.state = (char *) (state ? state : "working");
    p.has_bytes = bytes >= 0;
    p.bytes = (uint64_t) (bytes >= 0 ? bytes : 0);
    p.has_size = size >= 0;
    p.size = (uint64_t) (size >= 0 ? size : 0);
    p.has_percent = percent >= 0 && percent <= 100;
    p.percent = p.has_percent ? percent : 0;
    p.message = (char *) message;
    sp_wire_send (task->push, NULL, NULL, &p, false);
}

/* ---------------------------------------------------------------- held tasks */

static void
s_held_add (worker_t *self, const char *id, uint64_t fence, uint64_t token)
{
    if (self->n_held == self->cap_held) {
        size_t cap = self->cap_held ? self->cap_held * 2 : 16;
        sp_msg_held_t *grown = realloc (self->held, cap * sizeof *grown);
        if (!grown)
            return;
        self->held = grown;
        uint64_t *tokens = realloc (self->held_token, cap * sizeof *tokens);
        if (!tokens)
            return;
        self->held_token = tokens;
        self->cap_held = cap;
    }
    char *copy = strdup (id);
    if (!copy)
        return;
    self->held[self->n_held].id = copy;
    self->held[self->n_held].fence = fence;
    self->held_token[self->n_held] = token;
    self->n_held++;
}

static void
s_held_remove (worker_t *self, const char *id, uint64_t fence)
{
    for (size_t i = 0; i < self->n_held; i++) {
        if (self->held[i].fence == fence && strcmp (self->held[i].id, id) == 0) {
            free (self->held[i].id);
            self->held[i] = self->held[--self->n_held];
            self->held_token[i] = self->held_token[self->n_held];
            return;
        }
    }
}

/*  The task id "<job>:<pos>:<stage>" names the playlist job and the track: set them
    on the payload, so producers need not know them in advance. */
static int
s_fill_ids (sp_payload_t *payload, const char *task_id)
{
    const char *first = strchr (task_id, ':');
    const char *last = strrchr (task_id, ':');
    if (!first || last == first)
        return -1;
    char *job = strndup (task_id, (size_t) (first - task_id));
    char *track = strndup (task_id, (size_t) (last - task_id));
    if (!job || !track) {
        free (job);
        free (track);
        return -1;
    }
    free (payload->job);
    free (payload->track_key);
    payload->job = job;
    payload->track_key = track;
    return 0;
}

/* ---------------------------------------------------------------- threads */

static void *
s_slot_thread (void *arg)
{
    slot_t *slot = arg;
    worker_t *self = slot->worker;
    const sp_worker_def_t *def = self->def;
    char err[256];
    zsock_t *push = sp_wire_socket (ZMQ_PUSH, self->inproc, false, 0, 0, NULL, err, sizeof err);
    void *ctx = def->arg;
    if (def->thread_init)
        ctx = def->thread_init (def->arg);
    if (!push || (def->thread_init && !ctx)) {
        sp_log_error ("event=slot_init_failed slot=%d reason=%s", slot->index,
                      push ? "\"the handler could not start\"" : sp_log_q (err));
        atomic_store (&self->init_failed, 1);
        zsock_destroy (&push);
        return NULL;
    }
    while (true) {
        pthread_mutex_lock (&self->lock);
        while (self->n_queue == 0 && !atomic_load (&self->quit))
            pthread_cond_wait (&self->cond, &self->lock);
        if (self->n_queue == 0) {
            pthread_mutex_unlock (&self->lock);
            break;
        }
        sp_msg_t *msg = self->queue[0];
        //  the queue is an array of pointers: sizeof one pointer is meant
        memmove (self->queue, self->queue + 1,
                 (self->n_queue - 1) * sizeof *self->queue);  // NOLINT(bugprone-sizeof-expression)
        self->n_queue--;
        self->running++;
        pthread_mutex_unlock (&self->lock);

        sp_task_t task = {.msg = msg, .push = push, .stopping = &self->stopping};
        char reason[256];
        if (sp_payload_decode (msg->payload, msg->payload_size, &task.payload, reason,
                               sizeof reason) != SP_MSG_OK) {
            sp_task_fail (&task, false, "the task's payload is malformed (%s)", reason);
        } else if (s_fill_ids (task.payload, msg->id) != 0) {
            sp_task_fail (&task, false, "the task's id \"%s\" is not <job>:<position>:<stage>",
                          msg->id);
        } else {
            sp_log_context (task.payload->job, task.payload->track_key);
            def->handle (ctx, &task);
            if (!task.answered)
                sp_task_fail (&task, true,
                              "internal error: the %s handler returned without a result",
                              def->role);
            sp_log_context (NULL, NULL);
        }
        sp_payload_destroy (&task.payload);
        sp_msg_destroy (&msg);

        pthread_mutex_lock (&self->lock);
        self->running--;
        pthread_cond_broadcast (&self->cond);
        pthread_mutex_unlock (&self->lock);
    }
    if (def->thread_fini)
        def->thread_fini (ctx);
    zsock_destroy (&push);
    return NULL;
}

/* ---------------------------------------------------------------- main loop */

static int
s_free_slots (worker_t *self)
{
    pthread_mutex_lock (&self->lock);
    int free_slots = self->def->slots - self->running - (int) self->n_queue;
    pthread_mutex_unlock (&self->lock);
    return free_slots > 0 ? free_slots : 0;
}

static void
s_send_ready (worker_t *self, zsock_t *dealer)
{
    sp_msg_t ready;
    memset (&ready, 0, sizeof ready);
    ready.type = SP_MSG_READY;
    ready.role = (char *) self->def->role;
    ready.worker = self->name;
    ready.credit = (uint64_t) s_free_slots (self);
    ready.has_credit = true;
    sp_wire_send (dealer, NULL, NULL, &ready, true);
}

static void
s_send_heartbeat (worker_t *self, zsock_t *dealer)
{
    sp_msg_t hb;
    memset (&hb, 0, sizeof hb);
    hb.type = SP_MSG_HEARTBEAT;
    hb.has_credit = true;
    hb.credit = (uint64_t) s_free_slots (self);
    hb.held = self->held;
    hb.held_count = self->n_held > SP_MSG_MAX_HELD ? SP_MSG_MAX_HELD : self->n_held;
    sp_wire_send (dealer, NULL, NULL, &hb, true);
}

static bool
s_default_should_stop (void)
{
    return sp_app_stopping ();
}

static void
s_enqueue_task (worker_t *self, sp_msg_t **msg_p)
{
    sp_msg_t *msg = *msg_p;
    pthread_mutex_lock (&self->lock);
    if (self->n_queue == self->cap_queue) {
        size_t cap = self->cap_queue ? self->cap_queue * 2 : 16;
        //  an array of pointers: sizeof one pointer is meant
        sp_msg_t **grown =
            realloc (self->queue, cap * sizeof *grown);  // NOLINT(bugprone-sizeof-expression)
        if (!grown) {
            pthread_mutex_unlock (&self->lock);
            return;  //  the lease brings it back
        }
        self->queue = grown;
        self->cap_queue = cap;
    }
    s_held_add (self, msg->id, msg->fence, msg->token);
    self->queue[self->n_queue++] = msg;
    *msg_p = NULL;
    pthread_cond_signal (&self->cond);
    pthread_mutex_unlock (&self->lock);
}

/*  Forward everything the handler threads have produced. */
static void
s_forward_answers (worker_t *self, zsock_t *pull, zsock_t *dealer, int timeout_ms)
{
    for (int i = 0; i < 10000; i++) {
        sp_msg_t *answer = NULL;
        char reason[256];
        int rc = sp_wire_recv (pull, false, false, i == 0 ? timeout_ms : 0, NULL, &answer, reason,
                               sizeof reason);
        if (rc != SP_WIRE_OK)
            return;
        if (answer->type == SP_MSG_DONE || answer->type == SP_MSG_FAIL)
            s_held_remove (self, answer->id, answer->fence);
        if (dealer)
            sp_wire_send (dealer, NULL, NULL, answer, false);
        sp_msg_destroy (&answer);
    }
}

//  The worker id announced to the broker: the configured one, else
//  <role>-<hostname>-<pid>-<random>.
static void
s_worker_name (worker_t *self, const sp_worker_def_t *def)
{
    if (def->worker_name) {
        snprintf (self->name, sizeof self->name, "%s", def->worker_name);
        return;
    }
    char host[40] = "host";
    gethostname (host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf (self->name, sizeof self->name, "%s-%s-%ld-%04x", def->role, host, (long) getpid (),
              (unsigned) (zclock_usecs () & 0xffff));
}

//  Start the handler threads; *started counts the ones running. Returns 0
//  or -1 (logged).
static int
s_start_slots (worker_t *self, int *started)
{
    self->slots = calloc ((size_t) self->def->slots, sizeof *self->slots);
    if (!self->slots)
        return -1;
    for (int i = 0; i < self->def->slots; i++) {
        self->slots[i].worker = self;
        self->slots[i].index = i;
        if (pthread_create (&self->slots[i].thread, NULL, s_slot_thread, &self->slots[i]) != 0) {
            sp_log_error ("event=worker_start_failed reason=\"cannot start handler thread\"");
            return -1;
        }
        (*started)++;
    }
    return 0;
}

//  One message from the broker.
static void
s_on_broker (worker_t *self, zsock_t *dealer, sp_msg_t **msg_p)
{
    sp_msg_t *msg = *msg_p;
    if (msg->type == SP_MSG_TASK)
        s_enqueue_task (self, msg_p);
    else if (msg->type == SP_MSG_ERROR && msg->code && strcmp (msg->code, "unknown_worker") == 0)
        s_send_ready (self, dealer);  //  the broker restarted
    else if (msg->type == SP_MSG_ERROR)
        sp_log_warn ("event=broker_error code=%s message=%s", sp_log_q (msg->code),
                     sp_log_q (msg->message));
}

//  One connection to the broker: ready, then tasks in, answers out and
//  heartbeats until told to stop (returns false) or the broker is silent
//  for liveness heartbeats (returns true: reconnect). *reconnect_ms goes
//  back to one heartbeat when the broker answers.
static bool
s_session (worker_t *self, zsock_t *dealer, zsock_t *pull, bool (*should_stop) (void),
           int64_t *reconnect_ms)
{
    const sp_worker_def_t *def = self->def;
    int heartbeat_ms = def->cfg->heartbeat_ms > 0 ? def->cfg->heartbeat_ms : 1000;
    int liveness = def->cfg->heartbeat_liveness > 0 ? def->cfg->heartbeat_liveness : 3;
    int64_t now = sp_clock_mono_ms ();
    int64_t broker_expires = now + (int64_t) heartbeat_ms * liveness;
    int64_t next_heartbeat = now + heartbeat_ms;
    bool lost = false;
    zpoller_t *poller = zpoller_new (dealer, pull, NULL);
    while (!should_stop () && !atomic_load (&self->init_failed)) {
        void *which = zpoller_wait (poller, heartbeat_ms / 2 > 0 ? heartbeat_ms / 2 : 1);
        now = sp_clock_mono_ms ();
        if (which == dealer) {
            sp_msg_t *msg = NULL;
            char reason[256];
            int rc = sp_wire_recv (dealer, false, false, 0, NULL, &msg, reason, sizeof reason);
            if (rc == SP_WIRE_OK) {
                broker_expires = now + (int64_t) heartbeat_ms * liveness;
                *reconnect_ms = heartbeat_ms;
                s_on_broker (self, dealer, &msg);
            } else if (rc == SP_WIRE_BAD_MSG)
                sp_log_warn ("event=bad_message from=broker reason=%s", sp_log_q (reason));
            sp_msg_destroy (&msg);
        } else if (which == pull)
            s_forward_answers (self, pull, dealer, 0);
        if (now >= next_heartbeat) {
            s_send_heartbeat (self, dealer);
            next_heartbeat = now + heartbeat_ms;
        }
        if (now > broker_expires) {
            sp_log_warn ("event=broker_silent action=reconnect wait_ms=%lld",
                         (long long) *reconnect_ms);
            lost = true;
            break;
        }
    }
    zpoller_destroy (&poller);
    return lost;
}

//  Tell the broker the task at (id, fence, token) is handed back (retryable).
static void
s_hand_back (zsock_t *dealer, const char *id, uint64_t fence, uint64_t token, const char *reason)
{
    if (!dealer)
        return;
    sp_msg_t fail;
    memset (&fail, 0, sizeof fail);
    fail.type = SP_MSG_FAIL;
    fail.id = (char *) id;
    fail.fence = fence;
    fail.has_token = token != 0;
    fail.token = token;
    fail.reason = (char *) reason;
    fail.retry = true;
    sp_wire_send (dealer, NULL, NULL, &fail, true);
}

//  Stopping: no new tasks, let running ones finish within grace_ms, hand
//  back the rest.
static void
s_stop (worker_t *self, zsock_t *dealer, zsock_t *pull, int grace_ms)
{
    atomic_store (&self->stopping, true);
    if (dealer) {
        sp_msg_t bye;
        memset (&bye, 0, sizeof bye);
        bye.type = SP_MSG_BYE;
        bye.worker = self->name;
        sp_wire_send (dealer, NULL, NULL, &bye, true);
    }
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n_queue; i++) {
        sp_msg_t *queued = self->queue[i];
        s_hand_back (dealer, queued->id, queued->fence, queued->token,
                     "the worker stopped before starting it");
        s_held_remove (self, queued->id, queued->fence);
        sp_msg_destroy (&self->queue[i]);
    }
    self->n_queue = 0;
    pthread_mutex_unlock (&self->lock);
    int64_t deadline = sp_clock_mono_ms () + grace_ms;
    while (sp_clock_mono_ms () < deadline) {
        s_forward_answers (self, pull, dealer, 50);
        pthread_mutex_lock (&self->lock);
        int running = self->running;
        pthread_mutex_unlock (&self->lock);
        if (running == 0)
            break;
    }
    s_forward_answers (self, pull, dealer, 0);
    //  whatever is still running is handed back; its late answer will be stale
    for (size_t i = 0; i < self->n_held; i++)
        s_hand_back (dealer, self->held[i].id, self->held[i].fence, self->held_token[i],
                     "the worker stopped before finishing it");
    sp_log_info ("event=worker_stopped worker=%s handed_back=%zu", sp_log_q (self->name),
                 self->n_held);
}

//  Stop the handler threads and free the worker. Handlers stuck past the
//  grace period keep using self, its lock and its PULL: then those are
//  left to the process exit.
static void
s_finish (worker_t *self, zsock_t **pull_p, int started)
{
    atomic_store (&self->quit, true);
    pthread_mutex_lock (&self->lock);
    pthread_cond_broadcast (&self->cond);
    int running_now = self->running;
    pthread_mutex_unlock (&self->lock);
    for (int i = 0; i < started; i++) {
        if (running_now == 0)
            pthread_join (self->slots[i].thread, NULL);
        else
            pthread_detach (self->slots[i].thread);
    }
    for (size_t i = 0; i < self->n_held; i++)
        free (self->held[i].id);
    free (self->held);
    free (self->held_token);
    if (running_now != 0)
        return;
    zsock_destroy (pull_p);
    free (self->slots);
    for (size_t i = 0; i < self->n_queue; i++)
        sp_msg_destroy (&self->queue[i]);
    free (self->queue);
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->cond);
    free (self);
}

int
sp_worker_run (const sp_worker_def_t *def)
{
    //  On the heap: handler threads stuck past the grace period keep using it.
    worker_t *self = calloc (1, sizeof *self);
    if (!self)
        return 2;
    self->def = def;
    bool (*should_stop) (void) = def->should_stop ? def->should_stop : s_default_should_stop;
    s_worker_name (self, def);
    //  The broker checks answers against the identity their task went to;
    //  one random identity for the process keeps them valid across reconnects.
    sp_rand_bytes (self->routing_id, sizeof self->routing_id);
    self->routing_id[0] = 'W';  //  a leading 0 byte is reserved by libzmq
    snprintf (self->inproc, sizeof self->inproc, "inproc://sp-worker-%p", (void *) self);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->cond, NULL);
    int status = 0;
    int heartbeat_ms = def->cfg->heartbeat_ms > 0 ? def->cfg->heartbeat_ms : 1000;
    int grace_ms = def->stop_grace_ms > 0 ? def->stop_grace_ms : WORKER_DEFAULT_GRACE_MS;

    char err[512];
    zsock_t *pull = NULL;
    zsock_t *dealer = NULL;
    int started = 0;
    //  CURVE: the caller's settings, else SOULPIPE_CURVE_DIR's client keys
    sp_curve_t *own_curve = NULL;
    const sp_wire_curve_t *curve = def->curve;
    if (!curve) {
        if (sp_curve_load (def->cfg->curve_dir, SP_CURVE_CLIENT, &own_curve, err, sizeof err) !=
            0) {
            sp_log_error ("event=worker_start_failed reason=%s", sp_log_q (err));
            fprintf (stderr, "%s\n", err);
            status = 2;
            goto done;
        }
        curve = sp_curve_wire (own_curve);
    }
    pull = sp_wire_socket (ZMQ_PULL, self->inproc, true, 0, 0, NULL, err, sizeof err);
    if (!pull) {
        sp_log_error ("event=worker_start_failed reason=%s", sp_log_q (err));
        status = 2;
        goto done;
    }
    if (s_start_slots (self, &started) != 0) {
        status = 2;
        goto done;
    }

    int64_t reconnect_ms = heartbeat_ms;
    while (!should_stop () && !atomic_load (&self->init_failed)) {
        dealer = sp_wire_worker_socket (def->cfg->broker_endpoint, SP_MSG_MAX_BROKER_FRAME,
                                        self->routing_id, sizeof self->routing_id, curve, err,
                                        sizeof err);
        if (!dealer) {
            sp_log_error ("event=broker_connect_failed reason=%s", sp_log_q (err));
            status = 2;
            goto done;
        }
        s_send_ready (self, dealer);
        sp_log_info ("event=worker_ready worker=%s role=%s slots=%d broker=%s curve=%s",
                     sp_log_q (self->name), def->role, def->slots, def->cfg->broker_endpoint,
                     curve ? "on" : "off");
        if (!s_session (self, dealer, pull, should_stop, &reconnect_ms))
            break;
        zsock_destroy (&dealer);
        //  keep forwarding nothing while disconnected: answers stay in the PULL
        int64_t until = sp_clock_mono_ms () + reconnect_ms;
        while (!should_stop () && sp_clock_mono_ms () < until)
            zclock_sleep (50);
        if (reconnect_ms < WORKER_RECONNECT_MAX_MS)
            reconnect_ms *= 2;
    }
    s_stop (self, dealer, pull, grace_ms);

done:
    zsock_destroy (&dealer);
    sp_curve_destroy (&own_curve);
    if (atomic_load (&self->init_failed) && status == 0)
        status = 2;
    s_finish (self, &pull, started);
    return status;
}
