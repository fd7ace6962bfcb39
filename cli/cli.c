/*  cli.c: the client tool's error line and its escaping of outside text for
    the terminal (see cli.h). */
#include "cli.h"

#include "soulpipe/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define S_SAFE_SLOTS 16  //  sp_cli_safe results alive at once

static char *s_safe[S_SAFE_SLOTS];
static unsigned s_safe_next;

const char *
sp_cli_safe (const char *s)
{
    if (!s)
        return "";
    char *copy = sp_text_printable (s, 0);
    if (!copy)
        return "?";  //  out of memory: print nothing of the outside text
    unsigned slot = s_safe_next++ % S_SAFE_SLOTS;
    free (s_safe[slot]);
    s_safe[slot] = copy;
    return copy;
}

void
sp_cli_error (const char *command, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    //  the message often quotes the analyzer's answer (names from outside)
    fprintf (stderr, "%s%s%s: %s\n", SP_CLI_NAME, command ? " " : "", command ? command : "",
             sp_cli_safe (line));
}
