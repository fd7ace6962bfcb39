/*  io.h: the two file-descriptor loops every writer needs, in one place.

    Both retry on EINTR and on short writes, and never allocate on the
    caller's behalf beyond their own buffer. Neither closes, seeks or
    truncates the descriptors they are given: the caller owns them.

    Errors: each returns 0 on success, or -1 with errno set (the errno of the
    failed read(2)/write(2), ENOMEM when sp_io_copy_fd cannot get its buffer,
    EIO when write(2) reports zero bytes written for a non-empty request).
    On failure some bytes may already have been written: callers that need
    all-or-nothing write to a temporary file and commit it (see path.h).
*/
#ifndef SOULPIPE_IO_H
#define SOULPIPE_IO_H

#include <stddef.h>
#include <stdint.h>

//  Write all len bytes of buf to fd. len 0 writes nothing and returns 0.
int sp_io_write_all (int fd, const void *buf, size_t len);

//  Copy in_fd from its current offset to its end into out_fd (at out_fd's
//  current offset). Uses a 64 KiB heap buffer, so it is safe on small
//  thread stacks.
int sp_io_copy_fd (int in_fd, int out_fd);

/*  Whether a write of need more bytes in the directory dirfd fails, or
    failed, because of its file system rather than the file: returns EROFS
    when it is mounted read-only, ENOSPC when fewer than need bytes are
    free (to an unprivileged writer), else 0 (also when fstatvfs fails).
    err is the errno a write already got (0 = none): ENOSPC, EDQUOT and
    EROFS are taken as they are. On a non-zero return why (n bytes, may be
    NULL) gets a short English reason, e.g. "no space left on the file
    system (12 KiB free, 350 KiB needed)" or "the file system is mounted
    read-only". Such failures are worth a retry once the disk is fixed. */
int sp_io_fs_problem (int dirfd, int err, uint64_t need, char *why, size_t n);

#endif
