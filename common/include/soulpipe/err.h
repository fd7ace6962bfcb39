/*  err.h: the one helper behind every `char *err, size_t err_size` pair.

    Functions across common/ report a failure as a return code plus a
    sentence for the user in a caller-supplied buffer. sp_err_set writes that
    sentence: printf-style, truncated to fit (always NUL-terminated), and a
    no-op when err is NULL or err_size is 0, so callers that do not want the
    text pass NULL, 0. errno is preserved, so it can be called between a
    failing system call and the caller's own use of errno.
*/
#ifndef SOULPIPE_ERR_H
#define SOULPIPE_ERR_H

#include <stddef.h>

void sp_err_set (char *err, size_t err_size, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
