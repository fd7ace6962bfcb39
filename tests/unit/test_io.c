/*  test_io.c: the shared descriptor loops (io.h), random bytes (rand.h) and
    the error-buffer setter (err.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "soulpipe/err.h"
#include "soulpipe/io.h"
#include "soulpipe/rand.h"

// ------------------------------------------------------------ helpers

static unsigned char
s_byte (size_t i)
{
    return (unsigned char) ((i * 131u + (i >> 9)) & 0xff);
}

static int
s_tmpfile (char *path, size_t n)
{
    snprintf (path, n, "/tmp/sp-test-io-XXXXXX");
    int fd = mkstemp (path);
    cr_assert (fd >= 0);
    return fd;
}

typedef struct {
    int fd;
    pthread_t writer;  //  signalled before every read
    size_t got;
    size_t bad;  //  bytes that did not match the pattern
} s_reader_t;

static volatile sig_atomic_t s_signals;  //  handler runs

static void
s_on_signal (int sig)
{
    (void) sig;
    s_signals++;
}

//  Drain a pipe slowly: pause (the writer blocks on the full pipe), signal
//  the writer (its write(2) returns short or fails with EINTR), read a
//  little, check the pattern.
static void *
s_reader (void *arg)
{
    s_reader_t *r = arg;
    unsigned char buf[16384];
    for (;;) {
        usleep (50);
        pthread_kill (r->writer, SIGUSR1);
        ssize_t n = read (r->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != s_byte (r->got + (size_t) i))
                r->bad++;
        r->got += (size_t) n;
    }
    return NULL;
}

// ------------------------------------------------------------ io

//  4 MiB through a pipe while the reader keeps interrupting the writer
//  with a signal (no SA_RESTART): every short write and every EINTR must be
//  resumed where it stopped, or the reader sees a gap or a repeat.
Test (io, write_all_survives_short_writes_and_signals)
{
    size_t len = 4u << 20;
    unsigned char *data = malloc (len);
    cr_assert_not_null (data);
    for (size_t i = 0; i < len; i++)
        data[i] = s_byte (i);
    int p[2];
    cr_assert_eq (pipe (p), 0);
    struct sigaction sa = {.sa_handler = s_on_signal}, old;
    sigemptyset (&sa.sa_mask);
    cr_assert_eq (sigaction (SIGUSR1, &sa, &old), 0);
    s_signals = 0;

    s_reader_t r = {.fd = p[0], .writer = pthread_self ()};
    pthread_t th;
    cr_assert_eq (pthread_create (&th, NULL, s_reader, &r), 0);
    int rc = sp_io_write_all (p[1], data, len);
    int e = errno;
    close (p[1]);
    pthread_join (th, NULL);
    sigaction (SIGUSR1, &old, NULL);
    close (p[0]);
    free (data);
    cr_assert_eq (rc, 0, "write_all failed: %s", strerror (e));
    cr_assert_eq (r.got, len);
    cr_assert_eq (r.bad, 0);
    cr_assert_gt (s_signals, 10, "the writer was interrupted %d times", (int) s_signals);
}

Test (io, write_all_zero_and_errors)
{
    cr_assert_eq (sp_io_write_all (-1, "", 0), 0, "nothing to write is success");
    errno = 0;
    cr_assert_eq (sp_io_write_all (-1, "x", 1), -1);
    cr_assert_eq (errno, EBADF);

    //  A pipe nobody reads: EPIPE, reported, not retried forever.
    int p[2];
    cr_assert_eq (pipe (p), 0);
    close (p[0]);
    void (*prev) (int) = signal (SIGPIPE, SIG_IGN);
    errno = 0;
    int rc = sp_io_write_all (p[1], "abc", 3);
    int e = errno;
    signal (SIGPIPE, prev);
    close (p[1]);
    cr_assert_eq (rc, -1);
    cr_assert_eq (e, EPIPE);
}

//  From the input's current offset to its end; an odd size over several
//  buffers; the output's own offset is respected.
Test (io, copy_fd_copies_from_offset)
{
    char in_path[64], out_path[64];
    int in = s_tmpfile (in_path, sizeof in_path);
    int out = s_tmpfile (out_path, sizeof out_path);
    size_t len = 3 * 65536 + 12345;
    unsigned char *data = malloc (len);
    cr_assert_not_null (data);
    for (size_t i = 0; i < len; i++)
        data[i] = s_byte (i);
    cr_assert_eq (sp_io_write_all (in, data, len), 0);
    cr_assert_eq (lseek (in, 1000, SEEK_SET), 1000);
    cr_assert_eq (sp_io_write_all (out, "HEAD", 4), 0);

    cr_assert_eq (sp_io_copy_fd (in, out), 0);

    cr_assert_eq (lseek (out, 0, SEEK_END), (off_t) (4 + len - 1000));
    unsigned char *back = malloc (len);
    cr_assert_not_null (back);
    cr_assert_eq (pread (out, back, len, 0), (ssize_t) (4 + len - 1000));
    cr_assert_eq (memcmp (back, "HEAD", 4), 0);
    cr_assert_eq (memcmp (back + 4, data + 1000, len - 1000), 0);
    //  At the end already: copies nothing, succeeds.
    cr_assert_eq (sp_io_copy_fd (in, out), 0);
    cr_assert_eq (lseek (out, 0, SEEK_END), (off_t) (4 + len - 1000));
    free (back);
    free (data);
    close (in);
    close (out);
    unlink (in_path);
    unlink (out_path);
}

Test (io, copy_fd_reports_read_and_write_errors)
{
    char path[64];
    int fd = s_tmpfile (path, sizeof path);
    cr_assert_eq (sp_io_write_all (fd, "some bytes", 10), 0);
    int ro = open (path, O_RDONLY);
    int wo = open (path, O_WRONLY | O_APPEND);
    cr_assert (ro >= 0 && wo >= 0);
    int devnull = open ("/dev/null", O_WRONLY);
    cr_assert (devnull >= 0);

    errno = 0;
    cr_assert_eq (sp_io_copy_fd (wo, devnull), -1, "reading a write-only fd");
    cr_assert_eq (errno, EBADF);
    errno = 0;
    cr_assert_eq (sp_io_copy_fd (ro, ro), -1, "writing a read-only fd");
    cr_assert_eq (errno, EBADF);
    close (devnull);
    close (ro);
    close (wo);
    close (fd);
    unlink (path);
}

// ------------------------------------------------------------ rand

Test (rand, fills_every_byte_and_differs)
{
    cr_assert_eq (sp_rand_bytes (NULL, 0), 0);
    //  Bytes past the request stay untouched; the request is not all one
    //  value, and two draws differ.
    unsigned char a[4096 + 8], b[4096];
    memset (a, 0xAA, sizeof a);
    sp_rand_bytes (a, 4096);
    sp_rand_bytes (b, sizeof b);
    for (size_t i = 4096; i < sizeof a; i++)
        cr_assert_eq (a[i], 0xAA);
    cr_assert_neq (memcmp (a, b, sizeof b), 0);
    size_t same = 0;
    for (size_t i = 1; i < 4096; i++)
        same += a[i] == a[0];
    cr_assert_lt (same, 100, "4096 random bytes, %zu equal to the first", same);
}

Test (rand, u64_distinct_and_balanced)
{
    enum { N = 2000 };
    static uint64_t v[N];
    unsigned long bits = 0;
    for (int i = 0; i < N; i++) {
        v[i] = sp_rand_u64 ();
        bits += (unsigned long) __builtin_popcountll (v[i]);
        for (int j = 0; j < i; j++)
            cr_assert_neq (v[i], v[j], "repeat at %d and %d", j, i);
    }
    //  Mean 32 bits set per value; 2000 draws keep it within 31..33.
    cr_assert (bits > 31ul * N && bits < 33ul * N, "%lu bits set in %d values", bits, N);
}

// ------------------------------------------------------------ err

Test (err, formats_truncates_and_keeps_errno)
{
    char buf[32];
    errno = ENOSPC;
    sp_err_set (buf, sizeof buf, "disk %s at %d%%", "full", 99);
    cr_assert_str_eq (buf, "disk full at 99%");
    cr_assert_eq (errno, ENOSPC, "errno preserved");

    sp_err_set (buf, 8, "%s", "a long sentence");
    cr_assert_str_eq (buf, "a long ");
    memset (buf, 'x', sizeof buf);
    sp_err_set (buf, 1, "anything");
    cr_assert_eq (buf[0], '\0');
    cr_assert_eq (buf[1], 'x', "nothing past err_size is touched");

    //  No buffer: no-op, no crash.
    sp_err_set (NULL, 100, "x");
    memset (buf, 'y', sizeof buf);
    sp_err_set (buf, 0, "x");
    cr_assert_eq (buf[0], 'y');
}
