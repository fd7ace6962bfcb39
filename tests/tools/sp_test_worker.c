/*  sp-test-worker: a worker process with a scriptable handler, for the
    job-spine tests (started, killed and paused by the tests).

    Usage: sp-test-worker --role ROLE [--slots N] [--sleep-ms MS] [--name NAME]
                          [--next STAGE|none] [--fail-retry] [--fail-fatal]
                          [--hang]
    Reads the broker endpoint and heartbeat settings from the environment
    like the real workers. For each job it records, in Redis:
      HINCRBY soulpipe:test:handled <task id> 1      (a handler ran to its end)
      HINCRBY soulpipe:test:by-worker <name> 1
    then answers done (or fail, or nothing with --hang). */
#include "soulpipe/clock.h"
#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"
#include "soulpipe/store.h"
#include "soulpipe/worker.h"

#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const sp_config_t *cfg;
    const char *name;
    const char *next;
    int sleep_ms;
    bool fail_retry, fail_fatal, hang;
} opts_t;

static opts_t s_opts;

static void *
s_init (void *arg)
{
    (void) arg;
    char err[256];
    sp_store_t *store = sp_store_new (s_opts.cfg->redis_url, err, sizeof err);
    if (!store)
        fprintf (stderr, "sp-test-worker: %s\n", err);
    return store;
}

static void
s_fini (void *ctx)
{
    sp_store_t *store = ctx;
    sp_store_destroy (&store);
}

static void
s_hincr (sp_store_t *store, const char *key, const char *field)
{
    const char *argv[] = {"HINCRBY", key, field, "1"};
    redisReply *reply = NULL;
    if (sp_store_command (store, 4, argv, NULL, &reply) == SP_STORE_OK)
        freeReplyObject (reply);
}

static void
s_handle (void *ctx, sp_task_t *task)
{
    sp_store_t *store = ctx;
    if (s_opts.hang) {
        while (!sp_task_stopping (task))
            usleep (100 * 1000);
        return;
    }
    int64_t until = sp_clock_mono_ms () + s_opts.sleep_ms;
    int64_t next_progress = sp_clock_mono_ms () + 200;
    while (sp_clock_mono_ms () < until) {
        usleep (5 * 1000);
        if (sp_clock_mono_ms () >= next_progress) {
            sp_task_progress (task, "working", -1, -1, -1, NULL);
            next_progress += 200;
        }
    }
    s_hincr (store, "soulpipe:test:handled", sp_task_id (task));
    s_hincr (store, "soulpipe:test:by-worker", s_opts.name);
    if (s_opts.fail_retry)
        sp_task_fail (task, true, "test failure (worth retrying)");
    else if (s_opts.fail_fatal)
        sp_task_fail (task, false, "test failure (fatal)");
    else
        sp_task_done (task, strcmp (s_opts.next, "none") == 0 ? NULL : s_opts.next, NULL);
}

int
main (int argc, char **argv)
{
    static const sp_app_info_t info = {
        .name = "sp-test-worker",
        .service = "test-worker",
        .services = SP_SVC_WORKERS,
        .summary = "a scriptable worker for tests",
        .usage = "--role ROLE [options]",
    };
    sp_config_t cfg;
    int rc = sp_app_start (&info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    const char *role = "search";
    int slots = 1;
    s_opts.cfg = &cfg;
    s_opts.name = NULL;
    s_opts.next = "none";
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--role") == 0 && i + 1 < argc)
            role = argv[++i];
        else if (strcmp (argv[i], "--slots") == 0 && i + 1 < argc)
            slots = atoi (argv[++i]);
        else if (strcmp (argv[i], "--sleep-ms") == 0 && i + 1 < argc)
            s_opts.sleep_ms = atoi (argv[++i]);
        else if (strcmp (argv[i], "--name") == 0 && i + 1 < argc)
            s_opts.name = argv[++i];
        else if (strcmp (argv[i], "--next") == 0 && i + 1 < argc)
            s_opts.next = argv[++i];
        else if (strcmp (argv[i], "--fail-retry") == 0)
            s_opts.fail_retry = true;
        else if (strcmp (argv[i], "--fail-fatal") == 0)
            s_opts.fail_fatal = true;
        else if (strcmp (argv[i], "--hang") == 0)
            s_opts.hang = true;
        else {
            fprintf (stderr, "sp-test-worker: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    char name[64];
    if (!s_opts.name) {
        snprintf (name, sizeof name, "test-%ld", (long) getpid ());
        s_opts.name = name;
    }
    sp_worker_def_t def = {
        .role = role,
        .worker_name = s_opts.name,
        .slots = slots > 0 ? slots : 1,
        .cfg = &cfg,
        .thread_init = s_init,
        .thread_fini = s_fini,
        .handle = s_handle,
        .stop_grace_ms = 3000,
    };
    rc = sp_worker_run (&def);
    sp_config_destroy (&cfg);
    return rc;
}
