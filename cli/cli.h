/*  cli.h: what the client tool's source files share. */
#ifndef SOULPIPE_CLI_H
#define SOULPIPE_CLI_H

#define SP_CLI_NAME "soulpipe" /* the program name errors start with */

/*  Print one error line on stderr: `soulpipe: MESSAGE`, or `soulpipe
    COMMAND: MESSAGE` when command is not NULL. fmt is printf-style, without
    the trailing newline (the line gets one). Control characters in the
    formatted message are escaped (sp_text_printable). */
void sp_cli_error (const char *command, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/*  s made safe for the terminal: control characters, bidi overrides and
    invalid UTF-8 escaped (sp_text_printable; "" for NULL). Every name,
    title, reason or message that came from outside (Spotify, a text list,
    the analyzer) goes through it before it is printed. The result is
    borrowed: it stays valid until 16 more calls (single-threaded tool). */
const char *sp_cli_safe (const char *s);

#endif
