/*  soulpipe-analyzer: fetches playlists from Spotify, diffs them against the Plex library, queues the missing tracks, serves the client API and hosts the job broker. */
#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"

#include <stdio.h>

static const sp_app_info_t s_info = {
    .name = "soulpipe-analyzer",
    .service = "analyzer",
    .services = SP_SVC_ANALYZER,
    .summary = "fetches playlists from Spotify, diffs them against the Plex library, queues the missing tracks, serves the client API and hosts the job broker",
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
    sp_log_error ("event=exit reason=\"the analyzer loop is not built yet (see issue tracker)\"");
    sp_config_destroy (&cfg);
    return 1;
}
