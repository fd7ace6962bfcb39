/*  soulpipe-searcher: searches slskd (Soulseek) for each queued track within a shared search budget and ranks the candidates. */
#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"

#include <stdio.h>
#include <string.h>

/* ---- searcher (step 5): offline --rank mode and handler wiring ---- */
#include "searcher.h"
#include "soulpipe/worker.h"
#define SEARCHER_SLOTS 2        //  jobs searched at once per process (the budget is shared anyway)
/* ---- end searcher block ---- */

static const sp_app_info_t s_info = {
    .name = "soulpipe-searcher",
    .service = "searcher",
    .services = SP_SVC_SEARCHER,
    .summary = "searches slskd (Soulseek) for each queued track within a shared search budget and ranks the candidates",
    .usage = "\n       soulpipe-searcher --rank TRACK.json RESPONSES.json [--json]",
    .details = "--rank ranks an slskd responses array (GET /api/v0/searches/{id}/responses) against a\n"
               "Spotify track object offline (no Redis, no network) and prints the ranked candidates\n"
               "with their scores and the rejected ones with their reasons.",
};

int
main (int argc, char **argv)
{
    /* ---- searcher block: offline ranking needs no configuration ---- */
    if (argc >= 2 && strcmp (argv [1], "--rank") == 0)
        return sp_searcher_rank_main (argc - 1, argv + 1);
    /* ---- end searcher block ---- */
    sp_config_t cfg;
    int rc = sp_app_start (&s_info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    sp_config_log (&cfg, s_info.services);
    /* ---- searcher block: the worker loop with the search handler ---- */
    sp_worker_def_t def = {
        .role = "search",
        .slots = SEARCHER_SLOTS,
        .cfg = &cfg,
        .thread_init = sp_searcher_thread_init,
        .thread_fini = sp_searcher_thread_fini,
        .handle = sp_searcher_handle,
        .arg = &cfg,
    };
    rc = sp_worker_run (&def);
    /* ---- end searcher block ---- */
    sp_config_destroy (&cfg);
    return rc;
}
