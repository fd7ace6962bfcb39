/*  bench_pipeline: the whole pipeline, four real services against the fake
    upstreams (bin/soulpipe-fake), with job state in a real redis-server
    (SOULPIPE_BENCH_REDIS_URL, flushed), binaries from SOULPIPE_BIN_DIR.

    It writes a fixture of its own (an "extended" mode Spotify app read with
    client credentials, a Plex library of other songs, and a Soulseek network
    where one peer shares each track as a ~100 KB FLAC), starts the fake,
    the analyzer and the workers, submits with the client protocol and polls
    Redis until the job is done.

      1. submit_to_first_job_ms: a 100-track playlist; from sending `submit`
         to the first search task in Redis (ready or already handed out),
         polled every 0.5 ms. Zero latency.
      2. pipeline_1000_tracks_s, pipeline_tracks_per_s: a 1,000-track
         playlist from submit to the last track tagged; the fake answers at
         once (searches end with their response, transfers take no time).
         One analyzer, searcher, downloader and tagger.
         service_peak_rss_mb_<svc>: VmHWM of each service after both runs;
         service_peak_rss_mb: the largest of them.
      3. scaleout_tracks_per_s_<n>, scaleout_speedup_2, scaleout_speedup_4:
         searches answer after 500 ms, transfers take 1 s; 1, 2 and 4
         searchers and downloaders (one tagger), search budget raised.

    SOULPIPE_BENCH_PIPELINE_TRACKS and SOULPIPE_BENCH_SCALEOUT_TRACKS
    change the sizes (defaults 1000 and 120). Every process it starts dies
    with it (PR_SET_PDEATHSIG) and is stopped at the end.
*/
#include "bench_util.h"
#include "soulpipe/log.h"
#include "soulpipe/msg.h"
#include "soulpipe/store.h"
#include "soulpipe/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 16

typedef struct {
    char name[32];
    pid_t pid;
} proc_t;

static proc_t s_procs[MAX_PROCS];
static int s_nprocs;
static char s_tmp[512];
static char s_bindir[512];
static const char *s_redis;

static void
s_die (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "bench_pipeline: ");
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\n");
    va_end (ap);
    for (int i = 0; i < s_nprocs; i++)
        if (s_procs[i].pid > 0)
            kill (s_procs[i].pid, SIGKILL);
    exit (1);
}

static void
s_mkdirs (const char *path)
{
    char buf[1024];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir (buf, 0755);
            *p = '/';
        }
    mkdir (buf, 0755);
}

static FILE *
s_open (const char *dir, const char *name)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr (path, '/');
    *slash = 0;
    s_mkdirs (path);
    *slash = '/';
    FILE *f = fopen (path, "w");
    if (!f)
        s_die ("cannot write %s", path);
    return f;
}

/*  A word of letters only, unique per i (search words must not collide). */
static void
s_word (unsigned i, char *buf)
{
    buf[0] = 'q';
    for (int k = 1; k <= 4; k++) {
        buf[k] = (char) ('a' + i % 26);
        i /= 26;
    }
    buf[5] = 0;
}

/*  Fixture: playlists "bench100", "bench<n>"; one peer per 50 tracks. */
static void
s_fixture (const char *dir, int n, int search_ms, int transfer_ms)
{
    FILE *f = s_open (dir, "spotify/credentials.json");
    fprintf (f, "{\"client_id\": \"bench-id\", \"client_secret\": \"bench-secret\", \"user_id\": "
                "\"bench\", "
                "\"mode\": \"extended\"}\n");
    fclose (f);
    //  "bench<n>": tracks 0..n-1; "first100": tracks n..n+99 (other songs,
    //  so the big playlist has nothing already delivered)
    int sizes[2] = {100, n}, from[2] = {n, 0};
    const char *names[2] = {"first100", "bench"};
    for (int p = 0; p < 2; p++) {
        char name[64], id[32];
        snprintf (id, sizeof id, "%s%d", names[p], p ? n : 0);
        if (!p)
            snprintf (id, sizeof id, "first100");
        snprintf (name, sizeof name, "spotify/playlists/%s.json", id);
        f = s_open (dir, name);
        fprintf (f,
                 "{\"id\": \"%s\", \"name\": \"Bench %s\", \"owner\": {\"id\": \"bench\"}, "
                 "\"collaborative\": false, \"public\": true, \"tracks\": {\"items\": [\n",
                 id, id);
        for (int i = from[p]; i < from[p] + sizes[p]; i++) {
            char w[8];
            s_word ((unsigned) i, w);
            fprintf (
                f,
                "%s{\"track\": {\"type\": \"track\", \"id\": \"trk%06d\", \"name\": \"Song %s\", "
                "\"artists\": [{\"name\": \"Band %s\"}], \"duration_ms\": 6000, \"track_number\": "
                "1, "
                "\"disc_number\": 1, \"external_ids\": {\"isrc\": \"QZBEN%07d\"}, "
                "\"album\": {\"id\": \"alb%06d\", \"name\": \"Album %s\", \"album_type\": "
                "\"album\", "
                "\"release_date\": \"2020-01-01\", \"release_date_precision\": \"day\", "
                "\"artists\": [{\"name\": \"Band %s\"}], \"images\": []}}}\n",
                i > from[p] ? "," : "", i, w, w, i, i, w, w);
        }
        fprintf (f, "]}}\n");
        fclose (f);
    }
    f = s_open (dir, "plex/token");
    fprintf (f, "bench-plex-token\n");
    fclose (f);
    f = s_open (dir, "plex/tracks.json");
    fprintf (f, "[");
    for (int i = 0; i < 500; i++)
        fprintf (f,
                 "%s{\"ratingKey\": %d, \"title\": \"Other Song %d\", \"grandparentTitle\": "
                 "\"Other Band\", "
                 "\"parentTitle\": \"Other Album\", \"index\": 1, \"duration\": 200000, "
                 "\"Media\": [{\"Part\": [{\"file\": \"/music/other/%d.flac\"}]}]}\n",
                 i ? "," : "", 1000 + i, i, i);
    fprintf (f, "]\n");
    fclose (f);
    f = s_open (dir, "slskd/api-key");
    fprintf (f, "bench-slskd-key\n");
    fclose (f);
    f = s_open (dir, "slskd/network.json");
    //  peers answer at once; the search ends search_ms after that (the fake's
    //  searchTimeout override: 1 ms = as soon as the answers are in)
    fprintf (f,
             "{\"logged_in\": true, \"search_delay_ms\": 0, \"search_timeout_ms\": %d, "
             "\"requested_ms\": 0, \"init_ms\": 0, \"transfer_ms\": %d, "
             "\"max_concurrent_enqueues\": 64, \"users\": [\n",
             search_ms > 0 ? search_ms : 1, transfer_ms);
    int per_user = 50;
    n += 100;  //  first100 too
    for (int u = 0; u * per_user < n; u++) {
        fprintf (f,
                 "%s{\"username\": \"peer%03d\", \"uploadSpeed\": 104857600, "
                 "\"hasFreeUploadSlot\": true, "
                 "\"queueLength\": 0, \"behavior\": \"ok\", \"files\": [\n",
                 u ? "," : "", u);
        for (int i = u * per_user; i < n && i < (u + 1) * per_user; i++) {
            char w[8];
            s_word ((unsigned) i, w);
            fprintf (f,
                     "%s{\"filename\": \"@@p%d\\\\Music\\\\Band %s\\\\2020 - Album %s\\\\01 - Song "
                     "%s.flac\", "
                     "\"size\": 100000, \"bitDepth\": 16, \"sampleRate\": 44100, \"length\": 6, "
                     "\"extension\": \"flac\"}\n",
                     i > u * per_user ? "," : "", u, w, w, w);
        }
        fprintf (f, "]}\n");
    }
    fprintf (f, "]}\n");
    fclose (f);
}

static pid_t
s_spawn (const char *name, const char *log, char *const argv[], const char *stdout_file)
{
    pid_t pid = fork ();
    if (pid < 0)
        s_die ("fork: %s", strerror (errno));
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int out = stdout_file ? open (stdout_file, O_WRONLY | O_CREAT | O_TRUNC, 0644) : fd;
        dup2 (out, 1);
        dup2 (fd, 2);
        execv (argv[0], argv);
        _exit (127);
    }
    if (s_nprocs < MAX_PROCS) {
        snprintf (s_procs[s_nprocs].name, sizeof s_procs[s_nprocs].name, "%s", name);
        s_procs[s_nprocs++].pid = pid;
    }
    return pid;
}

static void
s_stop_all (void)
{
    for (int i = 0; i < s_nprocs; i++)
        if (s_procs[i].pid > 0)
            kill (s_procs[i].pid, SIGTERM);
    for (int i = 0; i < s_nprocs; i++) {
        if (s_procs[i].pid <= 0)
            continue;
        int status;
        for (int k = 0; k < 100; k++) {
            if (waitpid (s_procs[i].pid, &status, WNOHANG) == s_procs[i].pid)
                goto next;
            usleep (50000);
        }
        kill (s_procs[i].pid, SIGKILL);
        waitpid (s_procs[i].pid, &status, 0);
    next:
        s_procs[i].pid = 0;
    }
    s_nprocs = 0;
}

static void
s_setenv_ep (const char *name)
{
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", sp_bench_free_port ());
    setenv (name, ep, 1);
}

static void
s_bin (char *out, size_t n, const char *name)
{
    snprintf (out, n, "%s/%s", s_bindir, name);
}

/*  Start the fake and the services for one run in DIR. */
static void
s_start_stack (const char *dir, int n_search, int n_download)
{
    char fixtures[600], dl[600], staging[600], transfer[600], log[700], out[700], fake[600],
        port_s[32];
    snprintf (fixtures, sizeof fixtures, "%s/fixtures", dir);
    snprintf (dl, sizeof dl, "%s/slskd-downloads", dir);
    snprintf (staging, sizeof staging, "%s/staging", dir);
    snprintf (transfer, sizeof transfer, "%s/Transfer", dir);
    s_mkdirs (dl);
    s_mkdirs (staging);
    s_mkdirs (transfer);
    s_bin (fake, sizeof fake, "soulpipe-fake");
    snprintf (log, sizeof log, "%s/fake.log", dir);
    snprintf (out, sizeof out, "%s/fake.out", dir);
    char *fargv[] = {fake,          "--listen", "127.0.0.1:0", "--fixtures", fixtures,
                     "--downloads", dl,         NULL};
    s_spawn ("fake", log, fargv, out);
    int port = 0;
    for (int k = 0; k < 200 && !port; k++) {
        FILE *f = fopen (out, "r");
        char line[128];
        if (f && fgets (line, sizeof line, f))
            sscanf (line, "listening on 127.0.0.1:%d", &port);
        if (f)
            fclose (f);
        if (!port)
            usleep (25000);
    }
    if (!port)
        s_die ("the fake did not start (see %s)", log);
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", port);
    setenv ("SPOTIFY_ACCOUNTS_URL", url, 1);
    setenv ("SPOTIFY_API_URL", url, 1);
    setenv ("PLEX_URL", url, 1);
    setenv ("SLSKD_URL", url, 1);
    setenv ("SPOTIFY_CLIENT_ID", "bench-id", 1);
    setenv ("SPOTIFY_CLIENT_SECRET", "bench-secret", 1);
    setenv ("PLEX_TOKEN", "bench-plex-token", 1);
    setenv ("SLSKD_API_KEY", "bench-slskd-key", 1);
    setenv ("SLSKD_DOWNLOADS_DIR", dl, 1);
    setenv ("SOULPIPE_STAGING_DIR", staging, 1);
    setenv ("SOULPIPE_TRANSFER_DIR", transfer, 1);
    setenv ("SOULPIPE_REDIS_URL", s_redis, 1);
    setenv ("SOULPIPE_SEARCH_BUDGET", "100000/1", 1);
    setenv ("SOULPIPE_SEARCH_TIMEOUT_MS", "1000", 1);
    s_setenv_ep ("SOULPIPE_CLIENT_ENDPOINT");
    s_setenv_ep ("SOULPIPE_BROKER_ENDPOINT");
    s_setenv_ep ("SOULPIPE_EVENTS_ENDPOINT");
    snprintf (port_s, sizeof port_s, "%d", port);

    char bin[600];
    s_bin (bin, sizeof bin, "soulpipe-analyzer");
    snprintf (log, sizeof log, "%s/analyzer.log", dir);
    char *aargv[] = {bin, NULL};
    s_spawn ("analyzer", log, aargv, NULL);
    const char *roles[] = {"searcher", "downloader", "tagger"};
    int counts[] = {n_search, n_download, 1};
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < counts[r]; i++) {
            char b[600], name[32];
            snprintf (name, sizeof name, "soulpipe-%s", roles[r]);
            s_bin (b, sizeof b, name);
            snprintf (log, sizeof log, "%s/%s-%d.log", dir, roles[r], i);
            char *wargv[] = {b, NULL};
            s_spawn (roles[r], log, wargv, NULL);
        }
}

static sp_store_t *
s_store_fresh (void)
{
    char err[256];
    sp_store_t *store = sp_store_new (s_redis, err, sizeof err);
    if (!store)
        s_die ("%s", err);
    const char *flush[] = {"FLUSHDB"};
    redisReply *reply = NULL;
    if (sp_store_command (store, 1, flush, NULL, &reply) == SP_STORE_OK)
        freeReplyObject (reply);
    return store;
}

/*  Send submit; returns the socket (the caller reads submit_ok later). */
static zsock_t *
s_submit_send (const char *playlist)
{
    char err[256], src[128];
    zsock_t *sock = NULL;
    //  the analyzer may still be starting: ZMQ_IMMEDIATE makes the send fail
    for (int k = 0; k < 400 && !sock; k++) {
        sock = sp_wire_client_socket (getenv ("SOULPIPE_CLIENT_ENDPOINT"), SP_MSG_MAX_FRAME, 100,
                                      NULL, err, sizeof err);
        if (!sock)
            s_die ("client socket: %s", err);
        zclock_sleep (20);
        sp_msg_t ping;
        memset (&ping, 0, sizeof ping);
        ping.type = SP_MSG_LIST;
        if (sp_wire_send (sock, NULL, NULL, &ping, false) != SP_WIRE_OK) {
            zsock_destroy (&sock);
            continue;
        }
        sp_msg_t *reply = NULL;
        if (sp_wire_recv (sock, false, false, 2000, NULL, &reply, err, sizeof err) != SP_WIRE_OK)
            zsock_destroy (&sock);
        sp_msg_destroy (&reply);
    }
    if (!sock)
        s_die ("the analyzer does not answer");
    snprintf (src, sizeof src, "https://open.spotify.com/playlist/%s", playlist);
    sp_msg_t submit;
    memset (&submit, 0, sizeof submit);
    submit.type = SP_MSG_SUBMIT;
    submit.source = src;
    if (sp_wire_send (sock, NULL, NULL, &submit, false) != SP_WIRE_OK)
        s_die ("submit send failed");
    return sock;
}

static void
s_submit_reply (zsock_t **sock_p, char *job, size_t n)
{
    char err[256];
    sp_msg_t *reply = NULL;
    int rc = sp_wire_recv (*sock_p, false, false, 60000, NULL, &reply, err, sizeof err);
    if (rc != SP_WIRE_OK || reply->type != SP_MSG_SUBMIT_OK)
        s_die ("submit: %s", reply && reply->message ? reply->message : "no submit_ok");
    snprintf (job, n, "%s", reply->job);
    sp_msg_destroy (&reply);
    zsock_destroy (sock_p);
}

/*  Wait until the job is done; returns seconds since t0, or dies. */
static double
s_wait_done (sp_store_t *store, const char *job, double t0, double timeout_s, int64_t *done,
             int64_t *failed)
{
    for (;;) {
        sp_store_job_t *j = NULL;
        if (sp_store_job_get (store, job, &j) == SP_STORE_OK && j->sealed && j->queued == 0) {
            double dt = sp_bench_now () - t0;
            *done = j->done;
            *failed = j->failed;
            sp_store_job_destroy (&j);
            return dt;
        }
        sp_store_job_destroy (&j);
        if (sp_bench_now () - t0 > timeout_s)
            s_die ("job %s not done after %.0f s (logs in %s)", job, timeout_s, s_tmp);
        usleep (5000);
    }
}

static int
s_env_int (const char *name, int dflt)
{
    const char *v = getenv (name);
    return v && *v ? atoi (v) : dflt;
}

/*  Scenarios 1 and 2 on one stack. */
static void
s_zero_latency (int n)
{
    char dir[700], fixtures[800];
    snprintf (dir, sizeof dir, "%s/zero", s_tmp);
    snprintf (fixtures, sizeof fixtures, "%s/fixtures", dir);
    s_fixture (fixtures, n, 0, 0);
    sp_store_t *store = s_store_fresh ();
    s_start_stack (dir, 1, 1);

    //  1. submit to first search task
    char job[128];
    int64_t done = 0, failed = 0;
    double t0 = sp_bench_now ();
    zsock_t *sock = s_submit_send ("first100");
    t0 = sp_bench_now ();
    double first = -1;
    while (sp_bench_now () - t0 < 30) {
        int64_t total = 0;
        for (int s = SP_STORE_SEARCH; s <= SP_STORE_TAG; s++) {
            int64_t ready = 0, delayed = 0, inflight = 0;
            if (sp_store_stage_counts (store, (sp_store_stage_t) s, &ready, &delayed, &inflight) ==
                SP_STORE_OK)
                total += ready + delayed + inflight;
        }
        if (total > 0) {
            first = sp_bench_now () - t0;
            break;
        }
        usleep (500);
    }
    if (first < 0)
        s_die ("no search job 30 s after submit (logs in %s)", dir);
    s_submit_reply (&sock, job, sizeof job);
    s_wait_done (store, job, t0, 120, &done, &failed);
    printf ("submit_to_first_job_ms %.1f ms\n", first * 1000.0);
    fflush (stdout);

    //  2. the whole pipeline
    char pl[32];
    snprintf (pl, sizeof pl, "bench%d", n);
    sock = s_submit_send (pl);
    t0 = sp_bench_now ();
    s_submit_reply (&sock, job, sizeof job);
    double dt = s_wait_done (store, job, t0, 600, &done, &failed);
    if (done + failed != n)
        s_die ("%d tracks submitted, %lld done and %lld failed", n, (long long) done,
               (long long) failed);
    printf ("pipeline_%d_tracks_s %.2f s\n", n, dt);
    printf ("pipeline_tracks_per_s %.1f tracks/s\n", (double) done / dt);
    printf ("pipeline_failed %lld tracks\n", (long long) failed);
    double worst = 0;
    for (int i = 0; i < s_nprocs; i++) {
        if (!strcmp (s_procs[i].name, "fake"))
            continue;
        double mb = (double) sp_bench_hwm_kb (s_procs[i].pid) / 1024.0;
        printf ("service_peak_rss_mb_%s %.1f MB\n", s_procs[i].name, mb);
        if (mb > worst)
            worst = mb;
    }
    printf ("service_peak_rss_mb %.1f MB\n", worst);
    fflush (stdout);
    s_stop_all ();
    sp_store_destroy (&store);
}

static double
s_scaleout (int workers, int n)
{
    char dir[700], fixtures[800], pl[32], job[128];
    snprintf (dir, sizeof dir, "%s/scale%d", s_tmp, workers);
    snprintf (fixtures, sizeof fixtures, "%s/fixtures", dir);
    s_fixture (fixtures, n, 500, 1000);
    sp_store_t *store = s_store_fresh ();
    s_start_stack (dir, workers, workers);
    snprintf (pl, sizeof pl, "bench%d", n);
    zsock_t *sock = s_submit_send (pl);
    double t0 = sp_bench_now ();
    s_submit_reply (&sock, job, sizeof job);
    int64_t done = 0, failed = 0;
    double dt = s_wait_done (store, job, t0, 600, &done, &failed);
    if (done != n)
        s_die ("scale-out %d: %lld of %d tracks done, %lld failed (logs in %s)", workers,
               (long long) done, n, (long long) failed, dir);
    double rate = (double) done / dt;
    printf ("scaleout_tracks_per_s_%d %.2f tracks/s\n", workers, rate);
    fflush (stdout);
    s_stop_all ();
    sp_store_destroy (&store);
    return rate;
}

int
main (void)
{
    sp_log_init ("bench", SP_LOG_WARN);
    zsys_init ();
    zsys_set_logstream (NULL);
    s_redis = sp_bench_redis_url ();
    const char *bindir = getenv ("SOULPIPE_BIN_DIR");
    if (!s_redis || !bindir) {
        fprintf (stderr, "bench_pipeline: set SOULPIPE_BENCH_REDIS_URL and SOULPIPE_BIN_DIR "
                         "(scripts/run-bench.sh does)\n");
        return 2;
    }
    snprintf (s_bindir, sizeof s_bindir, "%s", bindir);
    const char *base = getenv ("SOULPIPE_BENCH_TMP");
    snprintf (s_tmp, sizeof s_tmp, "%s/pipeline-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (s_tmp))
        s_die ("mkdtemp: %s", strerror (errno));
    if (!getenv ("SOULPIPE_LOG_LEVEL"))
        setenv ("SOULPIPE_LOG_LEVEL", "warn", 1);

    int n = s_env_int ("SOULPIPE_BENCH_PIPELINE_TRACKS", 1000);
    int m = s_env_int ("SOULPIPE_BENCH_SCALEOUT_TRACKS", 120);
    const char *only = getenv ("SOULPIPE_BENCH_ONLY");  //  "zero" or "scale" (default both)
    if (!only || strcmp (only, "scale"))
        s_zero_latency (n);
    if (!only || strcmp (only, "zero")) {
        double r1 = s_scaleout (1, m);
        double r2 = s_scaleout (2, m);
        double r4 = s_scaleout (4, m);
        printf ("scaleout_speedup_2 %.2f x\n", r2 / r1);
        printf ("scaleout_speedup_4 %.2f x\n", r4 / r1);
    }
    return 0;
}
