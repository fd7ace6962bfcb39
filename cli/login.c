/*  login.c: `soulpipe login spotify` (authorization code + PKCE). */
#include "login.h"

#include <stdio.h>

int
sp_cli_login (const sp_config_t *cfg, int argc, char **argv)
{
    (void) cfg;
    (void) argc;
    (void) argv;
    fprintf (stderr, "soulpipe login: the Spotify login flow is not built yet\n");
    return 2;
}
