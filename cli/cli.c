/*  cli.c: the client tool's error line (see cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

void
sp_cli_error (const char *command, const char *fmt, ...)
{
    fprintf (stderr, "%s%s%s: ", SP_CLI_NAME, command ? " " : "", command ? command : "");
    va_list ap;
    va_start (ap, fmt);
    vfprintf (stderr, fmt, ap);
    va_end (ap);
    fputc ('\n', stderr);
}
