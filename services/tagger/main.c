/*  soulpipe-tagger: tags each downloaded file with its Spotify metadata and
    cover art and files it under the Transfer folder (the `tag` stage; see
    tagger.h). Besides the worker threads it runs one finisher thread that
    does the job-end work (final m3u8, one library rescan) for every job the
    store announces as ended (tagger.h, "Job end"). */
#include "tagger.h"

#include "soulpipe/app.h"
#include "soulpipe/clock.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"
#include "soulpipe/notify.h"
#include "soulpipe/staging.h"
#include "soulpipe/worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define S_FINISH_WAIT_MS  1000  //  wait for an ending per round (bounds the stop delay), ms
#define S_FINISH_RETRY_MS 2000  //  pause after a Redis error, ms

static const sp_app_info_t s_info = {
    .name = "soulpipe-tagger",
    .service = "tagger",
    .services = SP_SVC_TAGGER,
    .summary = "tags each downloaded file with its Spotify metadata and cover art and files it "
               "under the Transfer folder",
    .usage = "",
    .details = "Files go to Transfer/<playlist>/<artist>/<artist> - <album>/<NN> - <title>.<ext>\n"
               "(singles: <artist> - <title>/<title>.<ext>), with cover.jpg per album folder and\n"
               "Transfer/<playlist>/<playlist>.m3u8. Relative cover URLs (\"/images/x.jpg\") are\n"
               "fetched from SPOTIFY_API_URL. Start more taggers to tag in parallel.\n",
};

static _Atomic (const char *) s_staging_dir;  //  SOULPIPE_STAGING_DIR (borrowed from the config)

static sp_tagger_opts_t
s_opts (const sp_config_t *cfg)
{
    sp_tagger_opts_t opts = {
        .transfer_dir = cfg->transfer_dir,
        .staging_dir = cfg->staging_dir,
        .redis_url = cfg->redis_url,
        .spotify_api_url = cfg->spotify_api_url,
        .scan_timeout_ms = cfg->library_scan_timeout_s * 1000,
        .embed_cover = cfg->embed_cover,
        .library_playlists = cfg->library_playlists,
    };
    sp_config_library_opts (cfg, &opts.library);
    return opts;
}

static void *
s_thread_init (void *arg)
{
    const sp_config_t *cfg = arg;
    atomic_store (&s_staging_dir, cfg->staging_dir);
    sp_tagger_opts_t opts = s_opts (cfg);
    char err[256] = "";
    sp_tagger_t *tagger = sp_tagger_new (&opts, err, sizeof err);
    if (!tagger)
        sp_log_error ("event=tagger_init_failed error=%s", sp_log_q (err));
    return tagger;
}

static void
s_thread_fini (void *ctx)
{
    sp_tagger_t *tagger = ctx;
    sp_tagger_destroy (&tagger);
}

static void
s_handle (void *ctx, sp_task_t *task)
{
    sp_payload_t *payload = sp_task_payload (task);
    char reason[512];
    bool retry = false;
    //  The staged file must be this task's own (job and position come from
    //  the task id, not from the download worker's payload): a rogue worker
    //  naming another track's file would have it filed and deleted.
    if (sp_staging_check (atomic_load (&s_staging_dir), payload->job, payload->track_key,
                          payload->staged_path, reason, sizeof reason) != 0) {
        sp_log_warn ("event=tag_refused staged=%s reason=%s", sp_log_q (payload->staged_path),
                     sp_log_q (reason));
        sp_task_fail (task, false, "%s", reason);
        return;
    }
    if (sp_tagger_process (ctx, payload, reason, sizeof reason, &retry) != 0) {
        sp_log_warn ("event=tag_failed retry=%s reason=%s", retry ? "yes" : "no",
                     sp_log_q (reason));
        sp_task_fail (task, retry, "%s", reason);
        return;
    }
    sp_task_done (task, NULL, payload);
}

static int
s_preflight (const sp_config_t *cfg)
{
    int rc = sp_app_check_dir (s_info.name, "SOULPIPE_STAGING_DIR", cfg->staging_dir);
    return rc ? rc : sp_app_check_dir (s_info.name, "SOULPIPE_TRANSFER_DIR", cfg->transfer_dir);
}

//  Tracks filed at once: separate files, each slot its own tagger and Redis
//  connection; what is shared (album folders, cover.jpg, the m3u8) is safe
//  across processes already (mkdirat EEXIST, flock'ed temporaries + rename,
//  the store's per-playlist lock), so it is across threads too.
static int
s_slots (const sp_config_t *cfg)
{
    return cfg->tagger_slots;
}

static const sp_worker_service_t s_service = {
    .info = &s_info,
    .role = "tag",
    .slots = s_slots,
    .thread_init = s_thread_init,
    .thread_fini = s_thread_fini,
    .handle = s_handle,
    .preflight = s_preflight,
};

// ------------------------------------------------------------ finisher

static atomic_bool s_finisher_stop;
static sp_notify_t *s_notify;  //  SOULPIPE_NOTIFY_URL's notifier (NULL = none), the finisher's

static bool
s_finisher_stopping (void)
{
    return atomic_load (&s_finisher_stop) || sp_app_stopping ();
}

static void
s_pause_ms (int ms)
{
    for (int waited = 0; waited < ms && !s_finisher_stopping (); waited += 100)
        sp_clock_sleep_ms (100);
}

//  The finisher thread: its own tagger (own Redis connection), puts back
//  what a dead finisher left, then finishes ended jobs until told to stop.
static void *
s_finisher (void *arg)
{
    const sp_config_t *cfg = arg;
    sp_tagger_opts_t opts = s_opts (cfg);
    sp_tagger_t *tagger = NULL;
    while (!tagger && !s_finisher_stopping ()) {
        char err[256] = "";
        tagger = sp_tagger_new (&opts, err, sizeof err);
        if (!tagger) {
            sp_log_warn ("event=finisher_init_failed error=%s", sp_log_q (err));
            s_pause_ms (S_FINISH_RETRY_MS);
        }
    }
    sp_tagger_set_notify (tagger, s_notify);
    bool recovered = false;
    while (tagger && !s_finisher_stopping ()) {
        if (!recovered && sp_tagger_finish_recover (tagger) < 0) {
            s_pause_ms (S_FINISH_RETRY_MS);
            continue;
        }
        recovered = true;
        if (sp_tagger_finish_next (tagger, S_FINISH_WAIT_MS) < 0)
            s_pause_ms (S_FINISH_RETRY_MS);
    }
    sp_tagger_destroy (&tagger);
    return NULL;
}

//  sp_worker_main plus the finisher thread.
int
main (int argc, char **argv)
{
    sp_config_t cfg;
    int rc = sp_app_start (&s_info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    sp_config_log (&cfg, s_info.services);
    rc = s_preflight (&cfg);
    if (rc != 0) {
        sp_config_destroy (&cfg);
        return rc;
    }
    //  A bad SOULPIPE_NOTIFY_URL is a configuration error like any other.
    sp_notify_opts_t nopts = {
        .urls = cfg.notify_url, .timeout_ms = cfg.notify_timeout_s * 1000, .retries = -1};
    char nerr[512] = "";
    s_notify = sp_notify_new (&nopts, nerr, sizeof nerr);
    if (!s_notify && *nerr) {
        fprintf (stderr, "%s: %s\n", s_info.name, nerr);
        sp_log_error ("event=config_invalid error=%s", sp_log_q (nerr));
        sp_config_destroy (&cfg);
        return 2;
    }
    pthread_t finisher;
    bool finisher_on = false;
    if (cfg.redis_url && *cfg.redis_url) {
        int prc = pthread_create (&finisher, NULL, s_finisher, &cfg);
        if (prc != 0)
            sp_log_error ("event=finisher_start_failed error=%s", sp_log_q (strerror (prc)));
        finisher_on = prc == 0;
    }
    sp_worker_def_t def = {
        .role = s_service.role,
        .slots = s_slots (&cfg),
        .cfg = &cfg,
        .thread_init = s_service.thread_init,
        .thread_fini = s_service.thread_fini,
        .handle = s_service.handle,
        .arg = &cfg,
    };
    rc = sp_worker_run (&def);
    atomic_store (&s_finisher_stop, true);
    if (finisher_on)
        pthread_join (finisher, NULL);
    sp_notify_destroy (&s_notify);
    sp_config_destroy (&cfg);
    return rc;
}
