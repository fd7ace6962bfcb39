/*  bench_broker: job round trips through the broker over real ZeroMQ
    sockets on loopback, with the job state in a real redis-server
    (SOULPIPE_BENCH_REDIS_URL; the database is flushed).

    A job of N queued search tasks is created; the broker (sp_broker_new, the
    analyzer's own thread) hands them out to W worker threads, each a DEALER
    that says `ready` with credit 1 and answers every `job` at once with
    `done` (no next stage). Every job thus costs the broker one take and one
    complete in Redis plus a message each way. The latency of a round trip
    is measured in the worker: from sending `done` to receiving the next
    `job` (the first job of each worker is not counted).
    Prints, for W = 1 and 4:
        broker_jobs_per_s_<W>w <n> jobs/s
        broker_latency_p50_ms_<W>w, broker_latency_p99_ms_<W>w <ms> ms
    and broker_jobs_per_s (the 4-worker figure).
*/
#include "bench_util.h"
#include "soulpipe/broker.h"
#include "soulpipe/log.h"
#include "soulpipe/store.h"
#include "soulpipe/wire.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_JOBS 4000

typedef struct {
    const char *endpoint;
    int index;
    int jobs;     //  answered
    double *lat;  //  round trip latencies, ms
    size_t n_lat;
    int error;
} worker_t;

static volatile int s_total_done;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_target;

static void *
s_worker (void *arg)
{
    worker_t *w = arg;
    char err[256], name[32];
    snprintf (name, sizeof name, "bench-w%d", w->index);
    zsock_t *sock = sp_wire_socket (ZMQ_DEALER, w->endpoint, false, SP_MSG_MAX_BROKER_FRAME, 0,
                                    NULL, err, sizeof err);
    if (!sock) {
        w->error = 1;
        return NULL;
    }
    sp_msg_t ready;
    memset (&ready, 0, sizeof ready);
    ready.type = SP_MSG_READY;
    ready.role = "search";
    ready.worker = name;
    ready.credit = 1;
    sp_wire_send (sock, NULL, NULL, &ready, false);
    double sent_at = 0;
    for (;;) {
        pthread_mutex_lock (&s_lock);
        int all = s_total_done >= s_target;
        pthread_mutex_unlock (&s_lock);
        if (all)
            break;
        sp_msg_t *msg = NULL;
        int rc = sp_wire_recv (sock, false, false, 200, NULL, &msg, err, sizeof err);
        if (rc == SP_WIRE_TIMEOUT)
            continue;
        if (rc != SP_WIRE_OK) {
            w->error = 1;
            break;
        }
        if (msg->type == SP_MSG_TASK) {
            double now = sp_bench_now ();
            if (sent_at > 0)
                w->lat[w->n_lat++] = (now - sent_at) * 1000.0;
            sp_msg_t done;
            memset (&done, 0, sizeof done);
            done.type = SP_MSG_DONE;
            done.id = msg->id;
            done.fence = msg->fence;
            sent_at = sp_bench_now ();
            sp_wire_send (sock, NULL, NULL, &done, false);
            w->jobs++;
            pthread_mutex_lock (&s_lock);
            s_total_done++;
            pthread_mutex_unlock (&s_lock);
        }
        sp_msg_destroy (&msg);
    }
    sp_msg_t bye;
    memset (&bye, 0, sizeof bye);
    bye.type = SP_MSG_BYE;
    bye.worker = name;
    sp_wire_send (sock, NULL, NULL, &bye, false);
    zsock_destroy (&sock);
    return NULL;
}

static int
s_run (const char *url, int n_workers)
{
    char err[256];
    sp_store_t *store = sp_store_new (url, err, sizeof err);
    if (!store) {
        fprintf (stderr, "bench_broker: %s\n", err);
        return 1;
    }
    const char *flush[] = {"FLUSHDB"};
    redisReply *reply = NULL;
    if (sp_store_command (store, 1, flush, NULL, &reply) == SP_STORE_OK)
        freeReplyObject (reply);
    sp_store_track_spec_t *tracks = calloc (N_JOBS, sizeof *tracks);
    static char payload[300];
    memset (payload, 'x', sizeof payload);
    for (size_t i = 0; i < N_JOBS; i++) {
        tracks[i].title = "Song";
        tracks[i].artists = "Artist";
        tracks[i].payload = payload;
        tracks[i].payload_len = sizeof payload;
    }
    sp_store_job_spec_t spec = {.source = "bench", .name = "bench"};
    char job[SP_STORE_ID_MAX];
    int rc = sp_store_job_create (store, &spec, tracks, N_JOBS, job);
    free (tracks);
    if (rc != SP_STORE_OK) {
        fprintf (stderr, "bench_broker: job create: %s\n", sp_store_strerror (rc));
        return 1;
    }

    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", sp_bench_free_port ());
    sp_broker_config_t bc = {.endpoint = endpoint,
                             .redis_url = url,
                             .heartbeat_ms = 1000,
                             .liveness = 5,
                             .lease_ms = 60000,
                             .max_attempts = 3};
    sp_broker_t *broker = sp_broker_new (&bc, err, sizeof err);
    if (!broker) {
        fprintf (stderr, "bench_broker: %s\n", err);
        return 1;
    }
    s_total_done = 0;
    s_target = N_JOBS;
    worker_t w[4];
    pthread_t th[4];
    double t0 = sp_bench_now ();
    for (int i = 0; i < n_workers; i++) {
        memset (&w[i], 0, sizeof w[i]);
        w[i].endpoint = endpoint;
        w[i].index = i;
        w[i].lat = calloc (N_JOBS, sizeof (double));
        pthread_create (&th[i], NULL, s_worker, &w[i]);
    }
    for (int i = 0; i < n_workers; i++)
        pthread_join (th[i], NULL);
    double dt = sp_bench_now () - t0;
    //  the last answers must be in Redis: wait for the job to be done
    sp_store_job_t *j = NULL;
    for (int k = 0; k < 200; k++) {
        sp_store_job_destroy (&j);
        if (sp_store_job_get (store, job, &j) == SP_STORE_OK && j->done == N_JOBS)
            break;
        zclock_sleep (10);
    }
    dt = sp_bench_now () - t0;
    int ok = j && j->done == N_JOBS;
    sp_store_job_destroy (&j);
    sp_broker_destroy (&broker);
    sp_store_destroy (&store);

    size_t n_lat = 0;
    int errors = 0;
    for (int i = 0; i < n_workers; i++) {
        n_lat += w[i].n_lat;
        errors += w[i].error;
    }
    double *lat = calloc (n_lat + 1, sizeof *lat);
    size_t k = 0;
    for (int i = 0; i < n_workers; i++) {
        memcpy (lat + k, w[i].lat, w[i].n_lat * sizeof *lat);
        k += w[i].n_lat;
        free (w[i].lat);
    }
    if (!ok || errors) {
        fprintf (stderr, "bench_broker: %d workers: job not done (errors %d)\n", n_workers, errors);
        free (lat);
        return 1;
    }
    double p50 = sp_bench_percentile (lat, n_lat, 50);
    double p99 = sp_bench_percentile (lat, n_lat, 99);
    printf ("broker_jobs_per_s_%dw %.0f jobs/s\n", n_workers, N_JOBS / dt);
    printf ("broker_latency_p50_ms_%dw %.2f ms\n", n_workers, p50);
    printf ("broker_latency_p99_ms_%dw %.2f ms\n", n_workers, p99);
    if (n_workers == 4)
        printf ("broker_jobs_per_s %.0f jobs/s\n", N_JOBS / dt);
    free (lat);
    return 0;
}

int
main (void)
{
    sp_log_init ("bench", SP_LOG_WARN);
    zsys_init ();
    zsys_set_logstream (NULL);
    const char *url = sp_bench_redis_url ();
    if (!url) {
        fprintf (stderr,
                 "bench_broker: set SOULPIPE_BENCH_REDIS_URL (scripts/run-bench.sh does)\n");
        return 2;
    }
    if (s_run (url, 1) || s_run (url, 4))
        return 1;
    return 0;
}
