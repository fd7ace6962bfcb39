/*  cli.h: what the client tool's source files share. */
#ifndef SOULPIPE_CLI_H
#define SOULPIPE_CLI_H

#define SP_CLI_NAME "soulpipe" /* the program name errors start with */

/*  Print one error line on stderr: `soulpipe: MESSAGE`, or `soulpipe
    COMMAND: MESSAGE` when command is not NULL. fmt is printf-style, without
    the trailing newline (the line gets one). */
void sp_cli_error (const char *command, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
