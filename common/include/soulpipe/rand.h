/*  rand.h: random bytes for names and tokens (temporary file names, lock
    tokens, ids), never for keys or secrets.

    The bytes come from getrandom(2) without blocking. When the kernel cannot
    supply them (no entropy yet at early boot, a seccomp filter, an old
    kernel) they come from a mix of the wall and monotonic clocks, the pid, a
    process-wide counter and the caller's address, passed through a 64-bit
    mixer: unique enough for names that are also checked for collisions
    (O_EXCL, SET NX), not unpredictable. Thread-safe, no allocation.
*/
#ifndef SOULPIPE_RAND_H
#define SOULPIPE_RAND_H

#include <stddef.h>
#include <stdint.h>

//  Fill buf with len random bytes. Returns 0 when every byte came from the
//  kernel, 1 when the fallback mix filled some of them. Never fails.
int sp_rand_bytes (void *buf, size_t len);

//  64 random bits (sp_rand_bytes for one uint64_t).
uint64_t sp_rand_u64 (void);

#endif
