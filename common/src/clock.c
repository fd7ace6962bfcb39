/*  clock.c: monotonic and wall clocks in milliseconds, and a sleep that
    survives signals (see soulpipe/clock.h). */
#include "soulpipe/clock.h"

#include <errno.h>
#include <time.h>

static int64_t
s_ms (clockid_t id)
{
    struct timespec ts;
    clock_gettime (id, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sp_clock_mono_ms (void)
{
    return s_ms (CLOCK_MONOTONIC);
}

int64_t
sp_clock_wall_ms (void)
{
    return s_ms (CLOCK_REALTIME);
}

void
sp_clock_sleep_ms (int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t) (ms / 1000), .tv_nsec = (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
        ;
}
