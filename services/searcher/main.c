/*  soulpipe-searcher: searches slskd (Soulseek) for each queued track within a shared search budget and ranks the candidates. */
#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"

#include <stdio.h>

static const sp_app_info_t s_info = {
    .name = "soulpipe-searcher",
    .service = "searcher",
    .services = SP_SVC_SEARCHER,
    .summary = "searches slskd (Soulseek) for each queued track within a shared search budget and ranks the candidates",
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
    sp_log_error ("event=exit reason=\"the searcher loop is not built yet (see issue tracker)\"");
    sp_config_destroy (&cfg);
    return 1;
}
