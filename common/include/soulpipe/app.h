/*  app.h: what every soulpipe binary does before its real work.

    sp_app_start() handles `--help` and `--version`, loads and validates the
    configuration for the binary (exit code 2 with a one-line error naming the
    variable when it is invalid), starts logging, logs the effective config
    (secrets masked) and installs SIGTERM/SIGINT handlers that only set a flag
    (sp_app_stopping()). It also limits glibc malloc to one arena
    (mallopt M_ARENA_MAX 1, unless MALLOC_ARENA_MAX is set): less peak RSS.
*/
#ifndef SOULPIPE_APP_H
#define SOULPIPE_APP_H

#include "soulpipe/config.h"

#include <stdbool.h>

typedef struct {
    const char *name;     //  binary name, e.g. "soulpipe-searcher"
    const char *service;  //  short name on log lines, e.g. "searcher"
    unsigned services;    //  SP_SVC_* mask of variables this binary reads
    const char *summary;  //  one line: what the binary does
    const char *usage;    //  usage line(s) after the name, may be ""
    const char *details;  //  extra paragraphs for --help, may be NULL
} sp_app_info_t;

/*  Returns -1 when the caller should continue (cfg loaded, logging on), or an
    exit status (0 after --help/--version, 2 on a configuration error) that the
    caller should return from main. Options other than --help/--version are
    left for the caller. cfg is owned by the caller (sp_config_destroy). */
int sp_app_start (const sp_app_info_t *info, int argc, char **argv, sp_config_t *cfg);

/*  Print the --help text to out. */
void sp_app_print_help (const sp_app_info_t *info, FILE *out);

/*  Check that the folder a variable names exists, is a directory and can be
    read and written. Returns 0, or prints "<binary>: VAR: why" to stderr and
    returns 2 (an exit status). binary may be NULL. */
int sp_app_check_dir (const char *binary, const char *var, const char *dir);

/*  True once SIGTERM or SIGINT has arrived. */
bool sp_app_stopping (void);

/*  Ask the process to stop, as a signal would (for tests and fatal paths). */
void sp_app_request_stop (void);

#endif
