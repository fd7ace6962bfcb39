/*  clock.h: the few time helpers every module needs, in one place.

    sp_clock_mono_ms() is for measuring intervals and deadlines (never jumps);
    sp_clock_wall_ms() is Unix time in ms, for timestamps others read;
    sp_clock_sleep_ms() sleeps the whole interval even when signals arrive
    (negative or zero returns at once). No allocation, no errors.
*/
#ifndef SOULPIPE_CLOCK_H
#define SOULPIPE_CLOCK_H

#include <stdint.h>

int64_t sp_clock_mono_ms (void);
int64_t sp_clock_wall_ms (void);
void sp_clock_sleep_ms (int64_t ms);

#endif
