/*  app.c: start-up shared by every binary: --help, --version, config, logging,
    signals. */
#include "soulpipe/app.h"
#include "soulpipe/log.h"

#include <czmq.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t s_stopping = 0;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stopping = 1;
}

bool
sp_app_stopping (void)
{
    return s_stopping != 0;
}

void
sp_app_request_stop (void)
{
    s_stopping = 1;
}

void
sp_app_print_help (const sp_app_info_t *info, FILE *out)
{
    fprintf (out, "%s %s: %s\n\n", info->name, SOULPIPE_VERSION, info->summary);
    fprintf (out, "Usage: %s %s\n       %s --help | --version\n\n", info->name,
             info->usage ? info->usage : "", info->name);
    if (info->details && *info->details)
        fprintf (out, "%s\n\n", info->details);
    sp_config_print_help (out, info->services);
}

int
sp_app_start (const sp_app_info_t *info, int argc, char **argv, sp_config_t *cfg)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
            sp_app_print_help (info, stdout);
            return 0;
        }
        if (strcmp (argv[i], "--version") == 0) {
            printf ("%s %s\n", info->name, SOULPIPE_VERSION);
            return 0;
        }
    }
    //  One malloc arena for the whole process (before any thread starts):
    //  glibc gives each thread its own arena, and with a broker, submission,
    //  slot, finisher and ZeroMQ threads the arenas' partly used pages were
    //  1.5-3 MB of every service's peak RSS (target: < 20 MB). The threads
    //  spend their time waiting on sockets and Redis, and glibc's per-thread
    //  cache keeps most allocations off the arena lock. MALLOC_ARENA_MAX in
    //  the environment still wins.
    if (!getenv ("MALLOC_ARENA_MAX"))
        mallopt (M_ARENA_MAX, 1);
    char err[1024];
    if (sp_config_load (cfg, info->services, err, sizeof err)) {
        fprintf (stderr, "%s: configuration error: %s\n", info->name, err);
        return 2;
    }
    sp_log_init (info->service, (sp_log_level_t) cfg->log_level);

    //  CZMQ would install its own SIGINT/SIGTERM handler on first use and
    //  replace ours; we want one stop flag for the whole process.
    zsys_handler_set (NULL);
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    return -1;
}

int
sp_app_check_dir (const char *binary, const char *var, const char *dir)
{
    const char *who = binary ? binary : "soulpipe";
    struct stat st;
    if (!dir || !*dir) {
        fprintf (stderr, "%s: %s is empty: set it to a folder\n", who, var);
        return 2;
    }
    if (stat (dir, &st) != 0) {
        fprintf (stderr, "%s: %s: %s: %s (create it, or point %s at an existing folder)\n", who,
                 var, dir, strerror (errno), var);
        return 2;
    }
    if (!S_ISDIR (st.st_mode)) {
        fprintf (stderr, "%s: %s: %s is not a directory\n", who, var, dir);
        return 2;
    }
    if (access (dir, R_OK | W_OK | X_OK) != 0) {
        fprintf (stderr, "%s: %s: %s is not readable and writable by this user: %s\n", who, var,
                 dir, strerror (errno));
        return 2;
    }
    return 0;
}
