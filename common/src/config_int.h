/*  config_int.h: what the config module's two source files share; private
    to common/src/config*.c (the API is soulpipe/config.h).

    config.c      the variable table, loading, --help and the config log line
    config_url.c  Redis URLs, upstream base URLs and ZeroMQ endpoints

    Internal names are sp_config__<verb> (double underscore): callable from
    both config files, never from outside the module.
*/
#ifndef SOULPIPE_CONFIG_INT_H
#define SOULPIPE_CONFIG_INT_H

#include "soulpipe/config.h"

/*  A whole decimal integer (strtol; trailing spaces allowed, nothing else).
    Returns 0 with *out set, or -1 for NULL, "", junk or out of range. */
int sp_config__parse_long (const char *s, long *out);

/*  "http(s)://host[:port]" with an optional trailing "/" and nothing else.
    Returns 0 or -1. */
int sp_config__check_upstream (const char *s);

#endif
