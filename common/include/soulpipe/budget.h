/*  budget.h: the search budget shared by every searcher through Redis.

    Soulseek bans accounts that search too fast (slsk-batchdl's default is
    34 searches per 220 s), so every search (fallback queries included)
    first takes a token from one sliding-window log kept in Redis: a sorted
    set (default key soulpipe:search:budget) of grant times. One Lua script
    drops entries older than the window and grants when fewer than `count`
    remain, so however many searcher processes run, no window of
    `window_s` seconds ever holds more than `count` grants. The Redis clock
    is used (TIME), never the workers' clocks. Each acquire carries a random
    request id, so a resent script (after a lost reply) does not take a
    second token.
*/
#ifndef SOULPIPE_BUDGET_H
#define SOULPIPE_BUDGET_H

#include "soulpipe/store.h"

#include <stdbool.h>
#include <stdint.h>

#define SP_BUDGET_KEY          "soulpipe:search:budget"
#define SP_BUDGET_MAX_SLEEP_MS 1000 /* longest sleep between tries */

typedef struct _sp_budget_t sp_budget_t;

/*  A budget of count searches per window_s seconds on store (borrowed; it
    must outlive the budget and be used by one thread at a time). key NULL =
    SP_BUDGET_KEY. Returns NULL on bad arguments (count/window < 1) or OOM.
    Caller owns the result (sp_budget_destroy). */
sp_budget_t *sp_budget_new (sp_store_t *store, int count, int window_s, const char *key);
void sp_budget_destroy (sp_budget_t **self_p);

/*  One try. Returns 1 when a token was granted (*granted_ms = Redis time of
    the grant), 0 when the budget is used up (*wait_ms = ms until the oldest
    grant leaves the window), or a negative SP_STORE_* code. Pointers may be
    NULL. */
int sp_budget_try (sp_budget_t *self, int64_t *wait_ms, int64_t *granted_ms);

/*  Called while waiting, about once a second: return false to give up. */
typedef bool (sp_budget_tick_fn) (void *arg, int64_t wait_ms);

/*  Wait until a token is granted. tick (may be NULL) is called before each
    sleep. Returns 0 when granted (*granted_ms set, may be NULL), 1 when tick
    gave up, or a negative SP_STORE_* code (Redis unreachable). */
int sp_budget_acquire (sp_budget_t *self, sp_budget_tick_fn *tick, void *arg, int64_t *granted_ms);

#endif
