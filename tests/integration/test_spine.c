/*  test_spine.c: the job spine end to end: the analyzer (broker, store,
    client API), real worker processes (sp_test_worker), the soulpipe client.

    Workers are killed with SIGKILL, paused with SIGSTOP past their lease,
    Redis is killed and restarted with AOF, and a worker that never answers
    has its job taken away: every track still ends done exactly once (or
    failed with a reason), and the counters equal the track records. */
#include "harness.h"

#include <criterion/criterion.h>
#include <hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  A text list of n tracks. */
static const char *
s_text_list (sp_test_t *t, int n)
{
    size_t size = (size_t) n * 48 + 16;
    char *buf = malloc (size);
    size_t used = 0;
    for (int i = 0; i < n; i++)
        used += (size_t) snprintf (buf + used, size - used, "Artist %d - Title %d\n", i, i);
    const char *path = sp_test_write (t, "list.txt", buf);
    free (buf);
    return path;
}

/*  Submit a file; returns the job id (static). */
static const char *
s_submit (sp_test_t *t, const char *path)
{
    static char job[80];
    const char *argv[] = {sp_test_bin ("soulpipe"), "submit", path, NULL};
    char *out = NULL, *err = NULL;
    int rc = sp_test_run (t, argv, 30000, &out, &err);
    if (rc != 0)
        sp_test_dump_logs (t);
    cr_assert_eq (rc, 0, "submit failed (%d): %s", rc, err);
    //  the job id alone on the first line
    size_t len = strcspn (out, "\n");
    cr_assert (len > 0 && len < sizeof job, "first line: %s", out);
    memcpy (job, out, len);
    job[len] = '\0';
    cr_assert_null (strchr (job, ' '), "first line is not a bare job id: %s", out);
    free (out);
    free (err);
    return job;
}

typedef struct {
    sp_test_t *t;
    const char *job;
    long long want_done, want_failed;
} wait_job_t;

static bool
s_job_settled (void *arg)
{
    wait_job_t *w = arg;
    sp_store_job_t *j = NULL;
    if (sp_store_job_get (w->t->store, w->job, &j) != SP_STORE_OK)
        return false;
    bool ok =
        j->done == w->want_done && j->failed == w->want_failed && strcmp (j->state, "done") == 0;
    sp_store_job_destroy (&j);
    return ok;
}

static long long
s_job_count (sp_test_t *t, const char *job, const char *what)
{
    sp_store_job_t *j = NULL;
    if (sp_store_job_get (t->store, job, &j) != SP_STORE_OK)
        return -1;
    long long v = strcmp (what, "done") == 0     ? j->done
                  : strcmp (what, "failed") == 0 ? j->failed
                                                 : j->queued;
    sp_store_job_destroy (&j);
    return v;
}

static void
s_assert_counters (sp_test_t *t, const char *job)
{
    char report[512];
    int rc = sp_store_check_counters (t->store, job, report, sizeof report);
    cr_assert_eq (rc, SP_STORE_OK, "counters drifted: %s", report);
}

typedef struct {
    long long total, max, tasks, twice;
} handled_t;

static void
s_count_handled (const char *field, long long value, void *arg)
{
    (void) field;
    handled_t *h = arg;
    h->tasks++;
    h->total += value;
    if (value > h->max)
        h->max = value;
    if (value > 1)
        h->twice++;
}

static void
s_count_workers (const char *field, long long value, void *arg)
{
    (void) field;
    int *n = arg;
    if (value > 0)
        (*n)++;
}

static pid_t
s_worker (sp_test_t *t, const char *name, const char *role, const char *slots, const char *sleep_ms,
          const char *next, const char *extra)
{
    const char *argv[] = {sp_test_bin ("sp_test_worker"),
                          "--role",
                          role,
                          "--name",
                          name,
                          "--slots",
                          slots,
                          "--sleep-ms",
                          sleep_ms,
                          "--next",
                          next,
                          extra,
                          NULL};
    return sp_test_spawn (t, name, argv);
}

static sp_test_t s_t;

static void
s_fini (void)
{
    sp_test_fini (&s_t);
}

TestSuite (spine, .fini = s_fini, .timeout = 180);

Test (spine, three_workers_two_hundred_jobs)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    sp_test_start_analyzer (t);
    s_worker (t, "w1", "search", "2", "20", "none", NULL);
    s_worker (t, "w2", "search", "2", "20", "none", NULL);
    s_worker (t, "w3", "search", "2", "20", "none", NULL);
    const char *job = s_submit (t, s_text_list (t, 200));
    wait_job_t w = {t, job, 200, 0};
    bool settled = sp_test_wait (s_job_settled, &w, 60000);
    if (!settled)
        sp_test_dump_logs (t);
    cr_assert (settled, "job did not finish: done=%lld", s_job_count (t, job, "done"));
    handled_t h = {0};
    sp_test_hforeach (t, "soulpipe:test:handled", s_count_handled, &h);
    cr_assert_eq (h.tasks, 200);
    cr_assert_eq (h.max, 1, "a job was handled twice");
    int workers = 0;
    sp_test_hforeach (t, "soulpipe:test:by-worker", s_count_workers, &workers);
    cr_assert_eq (workers, 3, "work was not spread over the three workers");
    s_assert_counters (t, job);
}

static bool
s_some_done (void *arg)
{
    wait_job_t *w = arg;
    return s_job_count (w->t, w->job, "done") >= w->want_done;
}

Test (spine, worker_killed_while_holding_jobs)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    sp_test_setenv (t, "SOULPIPE_LEASE_S", "2");
    sp_test_start_analyzer (t);
    pid_t victim = s_worker (t, "victim", "search", "4", "100", "none", NULL);
    s_worker (t, "w2", "search", "2", "20", "none", NULL);
    s_worker (t, "w3", "search", "2", "20", "none", NULL);
    const char *job = s_submit (t, s_text_list (t, 200));
    wait_job_t some = {t, job, 40, 0};
    cr_assert (sp_test_wait (s_some_done, &some, 30000));
    cr_assert_eq (sp_test_stop (t, victim, SIGKILL, 2000), 128 + SIGKILL);
    wait_job_t w = {t, job, 200, 0};
    bool settled = sp_test_wait (s_job_settled, &w, 60000);
    if (!settled)
        sp_test_dump_logs (t);
    cr_assert (settled, "job did not finish after the kill: done=%lld",
               s_job_count (t, job, "done"));
    //  Handlers that ran to their end twice can only be the victim's held
    //  jobs (handled, then killed before its answer went out).
    handled_t h = {0};
    sp_test_hforeach (t, "soulpipe:test:handled", s_count_handled, &h);
    cr_assert_eq (h.tasks, 200);
    cr_assert_leq (h.twice, 4, "%lld jobs handled twice, more than the victim held", h.twice);
    s_assert_counters (t, job);
}

Test (spine, redis_restarted_mid_run)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, true);
    sp_store_set_retry (t->store, 20000);
    sp_test_start_analyzer (t);
    s_worker (t, "w1", "search", "2", "30", "download", NULL);
    s_worker (t, "w2", "download", "2", "30", "none", NULL);
    const char *job = s_submit (t, s_text_list (t, 60));
    wait_job_t some = {t, job, 10, 0};
    cr_assert (sp_test_wait (s_some_done, &some, 30000));
    sp_test_kill_redis (t);
    usleep (700 * 1000);
    sp_test_restart_redis (t);
    wait_job_t w = {t, job, 60, 0};
    bool settled = sp_test_wait (s_job_settled, &w, 90000);
    if (!settled)
        sp_test_dump_logs (t);
    cr_assert (settled, "job did not finish after the Redis restart: done=%lld failed=%lld",
               s_job_count (t, job, "done"), s_job_count (t, job, "failed"));
    s_assert_counters (t, job);
}

Test (spine, paused_worker_late_done_is_refused)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    sp_test_setenv (t, "SOULPIPE_LEASE_S", "2");
    sp_test_start_analyzer (t);
    //  The sleeper takes the only job and is paused inside its handler.
    pid_t sleeper = s_worker (t, "sleeper", "search", "1", "1500", "download", NULL);
    const char *job = s_submit (t, s_text_list (t, 1));
    usleep (500 * 1000);
    kill (sleeper, SIGSTOP);
    //  Another searcher takes the job once the lease has expired.
    s_worker (t, "rescuer", "search", "1", "10", "download", NULL);
    s_worker (t, "downloader", "download", "1", "10", "none", NULL);
    wait_job_t w = {t, job, 1, 0};
    bool settled = sp_test_wait (s_job_settled, &w, 30000);
    if (!settled)
        sp_test_dump_logs (t);
    cr_assert (settled);
    kill (sleeper, SIGCONT);
    //  The sleeper finishes its handler and sends a late done: refused.
    char task[128];
    snprintf (task, sizeof task, "%s:0:search", job);
    long long deadline = sp_test_now_ms () + 10000;
    while (sp_test_hget_int (t, "soulpipe:test:handled", task) < 2 && sp_test_now_ms () < deadline)
        usleep (50 * 1000);
    cr_assert_eq (sp_test_hget_int (t, "soulpipe:test:handled", task), 2,
                  "the paused handler never finished");
    usleep (1500 * 1000);
    snprintf (task, sizeof task, "%s:0:download", job);
    cr_assert_eq (sp_test_hget_int (t, "soulpipe:test:handled", task), 1,
                  "the download stage got the job more than once");
    cr_assert_eq (s_job_count (t, job, "done"), 1);
    s_assert_counters (t, job);
}

Test (spine, silent_worker_loses_the_job_then_track_fails)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    sp_test_setenv (t, "SOULPIPE_LEASE_S", "2");
    sp_test_setenv (t, "SOULPIPE_MAX_ATTEMPTS", "2");
    sp_test_start_analyzer (t);
    s_worker (t, "hang1", "search", "1", "0", "none", "--hang");
    s_worker (t, "hang2", "search", "1", "0", "none", "--hang");
    const char *job = s_submit (t, s_text_list (t, 1));
    wait_job_t w = {t, job, 0, 1};
    bool settled = sp_test_wait (s_job_settled, &w, 30000);
    if (!settled)
        sp_test_dump_logs (t);
    cr_assert (settled, "the track did not fail");
    const char *argv[] = {sp_test_bin ("soulpipe"), "status", job, NULL};
    char *out = NULL;
    int rc = sp_test_run (t, argv, 10000, &out, NULL);
    cr_assert_eq (rc, 1, "status of a job with failures exits 1, got %d", rc);
    cr_assert (strstr (out, "failed"), "%s", out);
    cr_assert (strstr (out, "lease expired"), "no reason in: %s", out);
    free (out);
    s_assert_counters (t, job);
}

Test (spine, submit_without_analyzer_fails_fast)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    const char *argv[] = {sp_test_bin ("soulpipe"), "submit",
                          "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", NULL};
    char *err = NULL;
    long long start = sp_test_now_ms ();
    int rc = sp_test_run (t, argv, 20000, NULL, &err);
    long long took = sp_test_now_ms () - start;
    cr_assert_eq (rc, 2, "exit %d", rc);
    cr_assert_lt (took, 5000, "took %lld ms", took);
    cr_assert (strstr (err, "cannot reach the analyzer"), "%s", err);
    free (err);
}

/*  Issue 21 item 10: with redis-server paused (SIGSTOP), `soulpipe list`
    and `status` get a prompt, clear "Redis is not responding" from the
    analyzer (before the client's own timeout: 5 s by default, 3 s in the
    tests, where the old analyzer gave only "did not answer"), and work again once
    Redis runs again. */
Test (spine, redis_paused_client_gets_a_clear_error)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, true);
    sp_test_start_analyzer (t);
    const char *job = s_submit (t, s_text_list (t, 2));
    const char *list[] = {sp_test_bin ("soulpipe"), "list", NULL};
    char *out = NULL, *err = NULL;
    cr_assert_eq (sp_test_run (t, list, 10000, &out, &err), 0, "list before the pause: %s", err);
    free (out);
    free (err);
    cr_assert_eq (kill (t->own_redis, SIGSTOP), 0);
    long long start = sp_test_now_ms ();
    int rc = sp_test_run (t, list, 15000, &out, &err);
    long long took = sp_test_now_ms () - start;
    const char *status[] = {sp_test_bin ("soulpipe"), "status", job, NULL};
    char *out2 = NULL, *err2 = NULL;
    int rc2 = sp_test_run (t, status, 15000, &out2, &err2);
    kill (t->own_redis, SIGCONT);
    cr_assert_neq (rc, 0, "list succeeded with Redis paused");
    cr_assert (err && strstr (err, "Redis is not responding"), "list said: %s%s", out ? out : "",
               err ? err : "");
    cr_assert_lt (took, 3000, "the answer took %lld ms (the client gives up at 3000)", took);
    cr_assert_neq (rc2, 0);
    cr_assert (err2 && strstr (err2, "Redis is not responding"), "status said: %s%s",
               out2 ? out2 : "", err2 ? err2 : "");
    free (out);
    free (err);
    free (out2);
    free (err2);
    //  Redis runs again: the analyzer answers normally
    out = err = NULL;
    long long deadline = sp_test_now_ms () + 15000;
    do {
        free (out);
        free (err);
        out = err = NULL;
        rc = sp_test_run (t, list, 10000, &out, &err);
    } while (rc != 0 && sp_test_now_ms () < deadline);
    cr_assert_eq (rc, 0, "list after the pause: %s", err ? err : "");
    cr_assert (strstr (out, job), "%s", out);
    free (out);
    free (err);
}
