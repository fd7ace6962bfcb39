/*  err.c: the printf-style error-buffer setter (see soulpipe/err.h). */
#include "soulpipe/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void
sp_err_set (char *err, size_t err_size, const char *fmt, ...)
{
    if (!err || !err_size)
        return;
    int e = errno;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err, err_size, fmt, ap);
    va_end (ap);
    errno = e;
}
