/*  login.h: `soulpipe login spotify`, the authorization-code + PKCE flow. */
#ifndef SOULPIPE_CLI_LOGIN_H
#define SOULPIPE_CLI_LOGIN_H

#include "soulpipe/config.h"

/*  Run `soulpipe login ARGS...`. Returns an exit code (0, 1, 2). */
int sp_cli_login (const sp_config_t *cfg, int argc, char **argv);

#endif
