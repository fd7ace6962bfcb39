/*  worker_main.c: the main() shared by searcher, downloader and tagger
    (see sp_worker_main in soulpipe/worker.h). */
#include "soulpipe/worker.h"
#include "soulpipe/log.h"

int
sp_worker_main (const sp_worker_service_t *service, int argc, char **argv)
{
    sp_config_t cfg;
    int rc = sp_app_start (service->info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    sp_config_log (&cfg, service->info->services);
    if (service->preflight) {
        rc = service->preflight (&cfg);
        if (rc != 0) {
            sp_config_destroy (&cfg);
            return rc;
        }
    }
    int slots = service->slots ? service->slots (&cfg) : 1;
    sp_worker_def_t def = {
        .role = service->role,
        .slots = slots > 0 ? slots : 1,
        .cfg = &cfg,
        .thread_init = service->thread_init,
        .thread_fini = service->thread_fini,
        .handle = service->handle,
        .arg = &cfg,
    };
    rc = sp_worker_run (&def);
    sp_config_destroy (&cfg);
    return rc;
}
