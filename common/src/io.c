/*  io.c: write-all and copy loops over raw descriptors (see soulpipe/io.h). */
#include "soulpipe/io.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define S_COPY_BUF 65536  //  bytes per read(2) in sp_io_copy_fd

int
sp_io_write_all (int fd, const void *buf, size_t len)
{
    const char *p = buf;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write (fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) {
            //  Not expected from a regular file or pipe; do not spin on it.
            errno = EIO;
            return -1;
        }
        off += (size_t) w;
    }
    return 0;
}

int
sp_io_copy_fd (int in_fd, int out_fd)
{
    char *buf = malloc (S_COPY_BUF);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (;;) {
        ssize_t r = read (in_fd, buf, S_COPY_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        if (sp_io_write_all (out_fd, buf, (size_t) r) != 0) {
            rc = -1;
            break;
        }
    }
    int e = errno;
    free (buf);
    errno = e;
    return rc;
}

int
sp_io_fs_problem (int dirfd, int err, uint64_t need, char *why, size_t n)
{
    struct statvfs vfs;
    bool have = fstatvfs (dirfd, &vfs) == 0;
    uint64_t avail = have ? (uint64_t) vfs.f_bavail * (uint64_t) vfs.f_frsize : 0;
    int cause = 0;
    if (err == EROFS || (have && (vfs.f_flag & ST_RDONLY)))
        cause = EROFS;
    else if (err == ENOSPC || err == EDQUOT || (have && avail < need))
        cause = ENOSPC;
    if (cause && why && n) {
        if (cause == EROFS)
            snprintf (why, n, "the file system is mounted read-only");
        else if (err == EDQUOT)
            snprintf (why, n, "the disk quota is exceeded");
        else if (have)
            snprintf (why, n, "no space left on the file system (%llu KiB free, %llu KiB needed)",
                      (unsigned long long) (avail / 1024),
                      (unsigned long long) ((need + 1023) / 1024));
        else
            snprintf (why, n, "no space left on the file system");
    }
    return cause;
}
