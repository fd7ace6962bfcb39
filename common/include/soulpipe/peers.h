/*  peers.h: peer memory: what earlier transfers from a Soulseek user did.

    The downloader records the outcome of every transfer
    (sp_peers_record); the searcher reads the records (sp_peers_get /
    sp_peers_get_many) to rank candidates and to skip, for a while, a peer
    that failed repeatedly.

    Redis: one hash per user, key soulpipe:peer:<username>, fields
      ok        transfers that succeeded
      fail      transfers that failed (error, stall, reject, offline)
      streak    consecutive failures (reset by a success)
      last_fail server time of the last failure (ms)
      last_ok   server time of the last success (ms)
      fake      files that failed the audio check as fakes (lossy-sourced
                "lossless", upsampled MP3s); each also counts in fail
      speed     moving average of measured speeds (bytes/s; 3/4 old + 1/4 new)
    Each update is one Lua script using the Redis clock; the key expires
    SP_PEERS_TTL_S after the last update.
*/
#ifndef SOULPIPE_PEERS_H
#define SOULPIPE_PEERS_H

#include "soulpipe/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_PEERS_TTL_S       (30 * 24 * 3600) /* record kept 30 days */
#define SP_PEERS_SKIP_STREAK 3                /* failures in a row ... */
#define SP_PEERS_SKIP_MS     (60 * 60 * 1000) /* ... skip for 1 hour after the last */

typedef enum {
    SP_PEER_OK = 0,  /* transfer completed */
    SP_PEER_FAILED,  /* errored / rejected / corrupt */
    SP_PEER_STALLED, /* stopped moving, given up */
    SP_PEER_OFFLINE, /* user offline or unreachable */
    SP_PEER_FAKE     /* served a fake (lossy-sourced FLAC, upsampled MP3) */
} sp_peer_outcome_t;

typedef struct {
    bool known;           /* a record exists */
    int64_t ok;           /* successes */
    int64_t fail;         /* failures */
    int64_t streak;       /* failures in a row */
    int64_t last_fail_ms; /* 0 = never */
    int64_t last_ok_ms;   /* 0 = never */
    int64_t speed;        /* bytes/s average, 0 = unknown */
    int64_t fakes;        /* fakes served (see SP_PEER_FAKE) */
} sp_peer_t;

/*  Record one transfer outcome. speed (bytes/s) is used when > 0 and the
    outcome is SP_PEER_OK. Returns 0 (SP_STORE_OK) or a negative
    SP_STORE_* code. */
int sp_peers_record (sp_store_t *store, const char *username, sp_peer_outcome_t outcome,
                     int64_t speed);

/*  Read one record into *out (zeroed, known = false when none). Returns 0
    or a negative SP_STORE_* code. */
int sp_peers_get (sp_store_t *store, const char *username, sp_peer_t *out);

/*  Read n records at once (one round trip). out has n entries. Returns 0
    or a negative SP_STORE_* code. */
int sp_peers_get_many (sp_store_t *store, const char *const *usernames, size_t n, sp_peer_t *out);

/*  True when the peer failed SP_PEERS_SKIP_STREAK times in a row and the
    last failure is less than SP_PEERS_SKIP_MS before now_ms. */
bool sp_peers_blocked (const sp_peer_t *peer, int64_t now_ms);

#endif
