/*  soulpipe: the command line client (submit, status, list, watch, cancel,
    retry, login, keygen). Talks to the analyzer's client API. */
#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"

#include <stdio.h>
#include <string.h>

static const sp_app_info_t s_info = {
    .name = "soulpipe",
    .service = "cli",
    .services = SP_SVC_CLI,
    .summary = "submit playlists to soulpipe and follow their progress",
    .usage = "COMMAND [ARGS]",
    .details = "Commands:\n"
               "  submit URL_OR_URI [--name NAME] [--wait]   queue a playlist; prints the job id first\n"
               "  status JOB [--json]                        a job's state and its tracks\n"
               "  list                                       every job\n"
               "  watch JOB                                  live progress until the job ends\n"
               "  cancel JOB                                 stop a job\n"
               "  retry JOB                                  re-queue a job's failed tracks\n"
               "Exit codes: 0 done, 1 some tracks failed, 2 usage or connection error.",
};

int
main (int argc, char **argv)
{
    sp_config_t cfg;
    int rc = sp_app_start (&s_info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    if (argc < 2) {
        sp_app_print_help (&s_info, stderr);
        sp_config_destroy (&cfg);
        return 2;
    }
    fprintf (stderr, "soulpipe: unknown command \"%s\" (try --help)\n", argv[1]);
    sp_config_destroy (&cfg);
    return 2;
}
