/*  bench_store: the Redis job store alone, against a real redis-server
    (SOULPIPE_BENCH_REDIS_URL, which scripts/run-bench.sh starts; the database
    is flushed). A job of N tracks is created, then one connection takes and
    completes every search task (complete with no next stage: the track is
    done), one Lua script call each.
    Prints:  store_transitions_per_s <n> take+complete/s
             store_job_create_1000_ms <ms> ms   (job of 1,000 queued tracks)
*/
#include "bench_util.h"
#include "soulpipe/log.h"
#include "soulpipe/store.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TRACKS 5000

static int
s_create (sp_store_t *store, size_t n, char job[SP_STORE_ID_MAX])
{
    sp_store_track_spec_t *tracks = calloc (n, sizeof *tracks);
    static char payload[300];
    memset (payload, 'x', sizeof payload);
    for (size_t i = 0; i < n; i++) {
        tracks[i].title = "Bohemian Rhapsody";
        tracks[i].artists = "Queen";
        tracks[i].payload = payload;
        tracks[i].payload_len = sizeof payload;
    }
    sp_store_job_spec_t spec = {.source = "bench", .name = "bench"};
    int rc = sp_store_job_create (store, &spec, tracks, n, job);
    free (tracks);
    return rc;
}

int
main (void)
{
    sp_log_init ("bench", SP_LOG_WARN);
    const char *url = sp_bench_redis_url ();
    if (!url) {
        fprintf (stderr, "bench_store: set SOULPIPE_BENCH_REDIS_URL (scripts/run-bench.sh does)\n");
        return 2;
    }
    char err[256];
    sp_store_t *store = sp_store_new (url, err, sizeof err);
    if (!store) {
        fprintf (stderr, "bench_store: %s\n", err);
        return 1;
    }
    const char *flush[] = {"FLUSHDB"};
    redisReply *reply = NULL;
    if (sp_store_command (store, 1, flush, NULL, &reply) == SP_STORE_OK)
        freeReplyObject (reply);

    char job[SP_STORE_ID_MAX];
    double c0 = sp_bench_now ();
    if (s_create (store, 1000, job) != SP_STORE_OK) {
        fprintf (stderr, "bench_store: job create failed\n");
        return 1;
    }
    double create_ms = (sp_bench_now () - c0) * 1000.0;
    if (s_create (store, N_TRACKS, job) != SP_STORE_OK) {
        fprintf (stderr, "bench_store: job create failed\n");
        return 1;
    }
    //  the first job's 1,000 tasks are taken first (FIFO): all count
    int done = 0;
    double t0 = sp_bench_now ();
    for (;;) {
        sp_store_task_t *task = NULL;
        int rc = sp_store_take (store, SP_STORE_SEARCH, "bench-worker", 60000, &task);
        if (rc == SP_STORE_EMPTY)
            break;
        if (rc != SP_STORE_OK) {
            fprintf (stderr, "bench_store: take: %s\n", sp_store_strerror (rc));
            return 1;
        }
        rc = sp_store_complete (store, task->id, task->fence, SP_STORE_NONE, NULL, 0, NULL);
        sp_store_task_destroy (&task);
        if (rc != SP_STORE_OK) {
            fprintf (stderr, "bench_store: complete: %s\n", sp_store_strerror (rc));
            return 1;
        }
        done++;
    }
    double dt = sp_bench_now () - t0;
    sp_store_job_t *j = NULL;
    if (done != N_TRACKS + 1000 || sp_store_job_get (store, job, &j) != SP_STORE_OK ||
        j->done != N_TRACKS) {
        fprintf (stderr, "bench_store: expected %d transitions, got %d\n", N_TRACKS + 1000, done);
        return 1;
    }
    sp_store_job_destroy (&j);
    printf ("store_transitions_per_s %.0f take+complete/s\n", done / dt);
    printf ("store_job_create_1000_ms %.1f ms\n", create_ms);
    sp_store_destroy (&store);
    return 0;
}
