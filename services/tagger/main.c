/*  soulpipe-tagger: tags each downloaded file with its Spotify metadata and
    cover art and files it under the Transfer folder (the `tag` stage; see
    tagger.h). */
#include "tagger.h"

#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"
#include "soulpipe/worker.h"

#include <stdio.h>
#include <sys/stat.h>

static const sp_app_info_t s_info = {
    .name = "soulpipe-tagger",
    .service = "tagger",
    .services = SP_SVC_TAGGER,
    .summary = "tags each downloaded file with its Spotify metadata and cover art and files it under the Transfer folder",
    .usage = "",
    .details = "Files go to Transfer/<playlist>/<artist>/<artist> - <album>/<NN> - <title>.<ext>\n"
               "(singles: <artist> - <title>/<title>.<ext>), with cover.jpg per album folder and\n"
               "Transfer/<playlist>/<playlist>.m3u8. Relative cover URLs (\"/images/x.jpg\") are\n"
               "fetched from SPOTIFY_API_URL. Start more taggers to tag in parallel.\n",
};

static void *
s_thread_init (void *arg)
{
    const sp_config_t *cfg = arg;
    sp_tagger_opts_t opts = {
        .transfer_dir = cfg->transfer_dir,
        .staging_dir = cfg->staging_dir,
        .redis_url = cfg->redis_url,
        .spotify_api_url = cfg->spotify_api_url,
        .plex_url = cfg->plex_url,
        .plex_token = cfg->plex_token,
        .plex_sections = cfg->plex_sections,
        .embed_cover = cfg->embed_cover,
    };
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
s_handle (void *ctx, sp_job_t *job)
{
    sp_payload_t *payload = sp_job_payload (job);
    char reason[512];
    bool retry = false;
    if (sp_tagger_process (ctx, payload, reason, sizeof reason, &retry) != 0) {
        sp_log_warn ("event=tag_failed retry=%s reason=%s", retry ? "yes" : "no", sp_log_q (reason));
        sp_job_fail (job, retry, "%s", reason);
        return;
    }
    sp_job_done (job, NULL, payload);
}

static int
s_check_dir (const char *name, const char *path)
{
    struct stat st;
    if (!path || !*path || stat (path, &st) != 0 || !S_ISDIR (st.st_mode)) {
        fprintf (stderr, "soulpipe-tagger: %s=\"%s\" is not an existing folder\n", name,
                 path ? path : "");
        return 2;
    }
    return 0;
}

static int
s_preflight (const sp_config_t *cfg)
{
    int rc = s_check_dir ("SOULPIPE_STAGING_DIR", cfg->staging_dir);
    return rc ? rc : s_check_dir ("SOULPIPE_TRANSFER_DIR", cfg->transfer_dir);
}

static const sp_worker_service_t s_service = {
    .info = &s_info,
    .role = "tag",
    .slots = NULL,
    .thread_init = s_thread_init,
    .thread_fini = s_thread_fini,
    .handle = s_handle,
    .preflight = s_preflight,
};

int
main (int argc, char **argv)
{
    return sp_worker_main (&s_service, argc, argv);
}
