/*  soulpipe-downloader: downloads the best candidate of each track through
    slskd, with stall detection and fallback to the next peer (the handler
    and the run over candidates are in downloader.c, one attempt in
    dl_attempt.c, file checks and staging in dl_files.c, the slskd transfer
    client in slskd_transfer.c). */
#include "downloader.h"

#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"
#include "soulpipe/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const sp_app_info_t s_info = {
    .name = "soulpipe-downloader",
    .service = "downloader",
    .services = SP_SVC_DOWNLOADER,
    .summary = "downloads the best candidate of each track through slskd, with stall detection and "
               "fallback to the next peer",
    .usage = "\n       soulpipe-downloader --verify FILE [--expect-ms N] [--claimed flac|mp3:320] "
             "[--json]",
    .details =
        "--verify decodes FILE to the end offline (no Redis, no slskd) and says whether it is\n"
        "what it claims to be: stream errors, the decoded length, silence, and the\n"
        "high-frequency cutoff that gives away a FLAC made from an MP3 or an MP3\n"
        "re-encoded from a lower bitrate. Exit 0 when the file would be kept, 1 when not.",
};

static int
s_preflight (const sp_config_t *cfg)
{
    int rc = sp_app_check_dir (s_info.name, "SLSKD_DOWNLOADS_DIR", cfg->slskd_downloads_dir);
    if (rc == 0)
        rc = sp_app_check_dir (s_info.name, "SOULPIPE_STAGING_DIR", cfg->staging_dir);
    return rc;
}

static int
s_slots (const sp_config_t *cfg)
{
    return cfg->downloader_slots;
}

static void *
s_thread_init (void *arg)
{
    const sp_config_t *cfg = arg;
    sp_dl_config_t dc;
    sp_dl_config_from (cfg, &dc);
    char err[512];
    sp_dl_t *dl = sp_dl_new (&dc, err, sizeof err);
    if (!dl)
        sp_log_error ("event=downloader_init_failed error=%s", sp_log_q (err));
    return dl;
}

static void
s_thread_fini (void *ctx)
{
    sp_dl_t *dl = ctx;
    sp_dl_destroy (&dl);
}

int
main (int argc, char **argv)
{
    static const sp_worker_service_t service = {
        .info = &s_info,
        .role = "download",
        .slots = s_slots,
        .thread_init = s_thread_init,
        .thread_fini = s_thread_fini,
        .handle = sp_dl_handle,
        .preflight = s_preflight,
    };
    //  offline verification needs no configuration
    if (argc >= 2 && strcmp (argv[1], "--verify") == 0)
        return sp_dl_verify_main (argc - 1, argv + 1);
    return sp_worker_main (&service, argc, argv);
}
