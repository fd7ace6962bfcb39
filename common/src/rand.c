/*  rand.c: getrandom with a clock/pid/counter fallback (see soulpipe/rand.h). */
#include "soulpipe/rand.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

//  splitmix64's finalizer: spreads every input bit over the output.
static uint64_t
s_mix (uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
s_fallback64 (const void *where)
{
    static _Atomic uint64_t counter;
    struct timespec wall, mono;
    clock_gettime (CLOCK_REALTIME, &wall);
    clock_gettime (CLOCK_MONOTONIC, &mono);
    uint64_t v = ((uint64_t) wall.tv_sec << 32) ^ (uint64_t) wall.tv_nsec;
    v ^= s_mix ((uint64_t) mono.tv_nsec ^ ((uint64_t) mono.tv_sec << 30));
    v ^= (uint64_t) getpid () << 40;
    v ^= (uint64_t) (uintptr_t) where;
    v += ++counter * 0x9e3779b97f4a7c15ULL;
    return s_mix (v);
}

int
sp_rand_bytes (void *buf, size_t len)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = getrandom (p + got, len - got, GRND_NONBLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t) r;
    }
    if (got == len)
        return 0;
    int e = errno;
    while (got < len) {
        uint64_t v = s_fallback64 (p + got);
        size_t k = len - got < sizeof v ? len - got : sizeof v;
        memcpy (p + got, &v, k);
        got += k;
    }
    errno = e;
    return 1;
}

uint64_t
sp_rand_u64 (void)
{
    uint64_t v = 0;
    sp_rand_bytes (&v, sizeof v);
    return v;
}
