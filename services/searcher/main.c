/*  soulpipe-searcher: searches slskd (Soulseek) for each queued track within
    a shared search budget and ranks the candidates (handler in searcher.c,
    slskd client in slskd_search.c, ranking in common/src/match.c). */
#include "searcher.h"

#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/worker.h"

#include <string.h>

#define SEARCHER_SLOTS 2  //  tracks searched at once per process (the budget is shared anyway)

static const sp_app_info_t s_info = {
    .name = "soulpipe-searcher",
    .service = "searcher",
    .services = SP_SVC_SEARCHER,
    .summary = "searches slskd (Soulseek) for each queued track within a shared search budget and "
               "ranks the candidates",
    .usage = "\n       soulpipe-searcher --rank TRACK.json RESPONSES.json [--json]",
    .details =
        "Start as many searchers as you like: they share one search budget through Redis\n"
        "(SOULPIPE_SEARCH_BUDGET), so scaling out never searches faster than the budget.\n\n"
        "--rank ranks an slskd responses array (GET /api/v0/searches/{id}/responses) against a\n"
        "Spotify track object offline (no Redis, no network) and prints the ranked candidates\n"
        "with their scores and the rejected ones with their reasons (--json for scripts).",
};

static int
s_slots (const sp_config_t *cfg)
{
    (void) cfg;
    return SEARCHER_SLOTS;
}

int
main (int argc, char **argv)
{
    //  offline ranking needs no configuration
    if (argc >= 2 && strcmp (argv[1], "--rank") == 0)
        return sp_searcher_rank_main (argc - 1, argv + 1);
    sp_worker_service_t service = {
        .info = &s_info,
        .role = "search",
        .slots = s_slots,
        .thread_init = sp_searcher_thread_init,
        .thread_fini = sp_searcher_thread_fini,
        .handle = sp_searcher_handle,
    };
    return sp_worker_main (&service, argc, argv);
}
