/*  soulpipe-downloader: downloads the best candidate of each track through slskd, with stall detection and fallback to the next peer. */
#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"

#include <stdio.h>

static const sp_app_info_t s_info = {
    .name = "soulpipe-downloader",
    .service = "downloader",
    .services = SP_SVC_DOWNLOADER,
    .summary = "downloads the best candidate of each track through slskd, with stall detection and fallback to the next peer",
    .usage = "",
    .details = NULL,
};

int
main (int argc, char **argv)
{
    sp_config_t cfg;
    int rc = sp_app_start (&s_info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    sp_config_log (&cfg, s_info.services);
    sp_log_error ("event=exit reason=\"the downloader loop is not built yet (see issue tracker)\"");
    sp_config_destroy (&cfg);
    return 1;
}
