/*  bench_util.h: small helpers shared by the benchmarks (header only, so the
    Makefile's bench_*.c rule needs nothing more): a monotonic clock, a free
    loopback port, peak RSS, percentiles, and the Redis URL the bench script
    gives (SOULPIPE_BENCH_REDIS_URL, else SOULPIPE_TEST_REDIS_URL). */
#ifndef SP_BENCH_UTIL_H
#define SP_BENCH_UTIL_H

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double
sp_bench_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*  A TCP port on 127.0.0.1 nothing listens on right now (0 on failure). */
static inline int
sp_bench_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (bind (fd, (struct sockaddr *) &a, sizeof a) == 0 &&
        getsockname (fd, (struct sockaddr *) &a, &len) == 0)
        port = ntohs (a.sin_port);
    close (fd);
    return port;
}

/*  VmHWM of /proc/<pid>/status in kB (pid 0 = self), -1 if unknown. */
static inline long
sp_bench_hwm_kb (int pid)
{
    char path[64];
    if (pid)
        snprintf (path, sizeof path, "/proc/%d/status", pid);
    else
        snprintf (path, sizeof path, "/proc/self/status");
    FILE *f = fopen (path, "r");
    char line[256];
    long kb = -1;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "VmHWM:", 6) == 0)
            kb = strtol (line + 6, NULL, 10);
    if (f)
        fclose (f);
    return kb;
}

static inline int
sp_bench_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/*  The p-th percentile (0..100) of n values; sorts them in place. */
static inline double
sp_bench_percentile (double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort (v, n, sizeof *v, sp_bench_cmp_double);
    size_t i = (size_t) (p / 100.0 * (double) (n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static inline const char *
sp_bench_redis_url (void)
{
    const char *u = getenv ("SOULPIPE_BENCH_REDIS_URL");
    if (!u || !*u)
        u = getenv ("SOULPIPE_TEST_REDIS_URL");
    return u && *u ? u : NULL;
}

#endif
