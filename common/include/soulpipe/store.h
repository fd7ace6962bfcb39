/*  store.h: the Redis job store (playlist jobs, track records, stage queues
    with leases). Redis is the source of truth; every state change is one Lua
    script, so a track record, its task and the job counters never disagree.

    Vocabulary
      job    one playlist submission, id "j-<base36 ms>-<random>" (the store
             picks it). Key soulpipe:job:<job> (hash: source, name, state
             running|done|cancelled, total, skipped, queued, done, failed,
             cancelled, created, updated (ms), library_checked, library_note,
             sealed, finishes), soulpipe:job:<job>:tracks (list of track keys in
             playlist order), soulpipe:jobs (zset by creation time).
             When a job ends (becomes done, or is cancelled while running)
             its `finishes` count goes up and "<job> <finishes>" is pushed
             on soulpipe:finished (list, newest 10000) in the same script;
             the tagger's finisher takes it (sp_store_finished_pop: moved to
             soulpipe:finishing until sp_store_finished_ack), writes the
             final m3u8 and claims the Plex rescan of that ending
             (soulpipe:job:<job>:rescanned:<finishes>, kept 30 days).
      track  one playlist entry, key "<job>:<position>" (position = index in
             the array given to sp_store_job_create, from 0). Hash
             soulpipe:track:<key>: job, position, spotify_id, title, artists,
             state, stage, attempts, reason, source_user, source_file, path,
             transfer_id, payload (current stage payload), updated.
      task   the unit in a stage queue, id "<track key>:<stage>", one per
             track per stage (re-enqueuing is idempotent). Hash
             soulpipe:task:<id>: stage, track, job, attempt, fence, state
             (ready|delayed|inflight|done|failed|cancelled), owner, deadline,
             payload, expired, last_error, closed_fence, closed_op, token, route,
             closed_token (the claim, see below).
             Lists/sets per stage: soulpipe:q:<stage> (ready, FIFO),
             soulpipe:delayed:<stage> (zset, due ms), soulpipe:inflight:<stage>
             (zset, lease deadline ms).

      lock   a named lease between processes (the m3u8 writer's per-playlist
             lock): soulpipe:lock:<name> = "<token> <fence>", the fence
             counted per name in the hash soulpipe:lockfence.
      login  the saved Spotify login: hash soulpipe:spotify:auth
             (refresh_token, access_token, expires_at_ms, scope, updated_ms).

    Keys of their own (under soulpipe: too, through sp_store_command) belong
    to budget.c, peers.c and songs.c; no other module spells a key.

    Track states: skipped | queued | searching | downloading | tagging |
    done | failed | cancelled. A take on stage search/download/tag makes the
    track searching/downloading/tagging; a complete with a next stage makes
    it queued again (its `stage` field names the stage it waits for).
    Counter invariant (checked by sp_store_check_counters):
        total = skipped + queued + done + failed + cancelled
    where queued counts every non-terminal track (queued, searching,
    downloading, tagging). A sealed running job whose queued count reaches 0
    becomes done.

    Attempts: a task's attempt is 1-based (1 for the first try). A failed
    retryable try with attempt < max_attempts is re-queued with attempt + 1;
    otherwise the track fails with the reason. An expired lease counts as a
    failed try ("lease expired N times (last: ...)" at the limit).

    Fencing: every take increments the task's fence. extend/complete/fail must
    present the fence they got; a worker whose lease expired (or whose job
    was cancelled) gets SP_STORE_ESTALE and must drop its result.

    Claims: the fence is a small counter anyone can guess, so the broker
    also records with each lease a claim (sp_store_take_as): a random token
    drawn for that dispatch and the ROUTER identity the task was sent to.
    The _as calls must present the same claim; a current fence with another
    token or identity is SP_STORE_EFORGED and changes nothing. The calls
    without _as present the empty claim, which only matches a task taken
    without one (tests, tools).

    Time: scripts use the Redis server clock (TIME), so lease deadlines do not
    depend on the workers' clocks.

    Reconnect and retries: each call (re)connects as needed, re-AUTHs,
    re-SELECTs, restores the read timeout and re-loads the scripts; on a
    connection error or a LOADING/BUSY/MASTERDOWN reply the same command is
    sent again with exponential backoff (50 ms doubling to 2 s) until the
    retry budget (default 30 s, sp_store_set_retry) is used, then the call
    returns SP_STORE_EIO. Resending is safe because every script is
    idempotent for a repeated request: job creation skips existing tracks,
    take carries a request id and returns the same task again, complete/fail
    remember the last fence closed (a repeat answers OK), cancel/retry/reap
    only touch tracks still in the state they act on. Remaining window: if a
    reply is lost, its change records are lost with it (the state in Redis
    is right; an event may be missing), and a take whose reply is lost and
    whose client then gives up leaves the task in flight until the reaper
    returns it, which costs one attempt.

    Threads: a sp_store_t is one Redis connection and must be used by one
    thread at a time; give each thread its own store.
*/
#ifndef SOULPIPE_STORE_H
#define SOULPIPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Return codes. SP_STORE_EMPTY is not an error (nothing ready to take). */
#define SP_STORE_OK            0
#define SP_STORE_EMPTY         1
#define SP_STORE_EIO           -1 /* Redis unreachable past the retry budget */
#define SP_STORE_ESTALE        -2 /* fence no longer current (lease lost, job cancelled) */
#define SP_STORE_ENOENT        -3 /* no such job, track or task */
#define SP_STORE_EINVAL        -4 /* bad argument */
#define SP_STORE_EPROTO        -5 /* unexpected reply or script error from Redis */
#define SP_STORE_EINCONSISTENT -6 /* sp_store_check_counters found a mismatch */
#define SP_STORE_ENOMEM        -7
#define SP_STORE_EFORGED       -8 /* the answer's token or sender is not the lease's */

/*  Longest job id including the NUL; ids are far shorter in practice. */
#define SP_STORE_ID_MAX 64

/*  Default lease a caller may use, and the default retry budget. */
#define SP_STORE_DEFAULT_RETRY_MS   30000 /* ms of reconnect attempts per call */
#define SP_STORE_DEFAULT_TIMEOUT_MS 10000 /* connect and read timeout, ms */

typedef enum {
    SP_STORE_NONE = -1, /* no next stage: complete finishes the track */
    SP_STORE_SEARCH = 0,
    SP_STORE_DOWNLOAD = 1,
    SP_STORE_TAG = 2
} sp_store_stage_t;

typedef struct _sp_store_t sp_store_t;

/*  "search", "download", "tag" ("none" for SP_STORE_NONE, "?" otherwise). */
const char *sp_store_stage_name (sp_store_stage_t stage);
/*  Parse a stage name. Returns 0 and sets *stage, or -1. */
int sp_store_stage_parse (const char *name, sp_store_stage_t *stage);
/*  A static description of a return code. */
const char *sp_store_strerror (int rc);

/*  Connect to redis://[[user]:password@]host[:port][/db] or
    unix:///path/to/socket[?db=N]. Connects, AUTHs, SELECTs, sets the read
    timeout and keepalive, and loads the scripts. Returns NULL on failure
    with a message (never containing the password) in err (n bytes, may be
    NULL). Retries the first connection within the retry budget too.
    Caller owns the returned store (sp_store_destroy). */
sp_store_t *sp_store_new (const char *redis_url, char *err, size_t n);

/*  Close the connection and free the store. Accepts NULL, nulls *self_p. */
void sp_store_destroy (sp_store_t **self_p);

/*  Retry budget per call in ms (0: one try, no reconnect wait). */
void sp_store_set_retry (sp_store_t *self, int total_ms);
/*  Connect/read timeout in ms (takes effect now and on every reconnect). */
void sp_store_set_timeout (sp_store_t *self, int timeout_ms);
/*  After a call returned SP_STORE_EIO: true when its last failure was a
    timeout (Redis accepted the connection but did not answer: paused,
    stuck or overloaded), false when the connection was refused or lost. */
bool sp_store_not_responding (const sp_store_t *self);

/*  What a state change did, handed to the change handler. All strings are
    borrowed and valid only during the callback. For a job-level change
    (job sealed, cancelled, retried) track is "" and old/new_state are "". */
typedef struct {
    const char *job_id;
    const char *track_key;
    const char *old_state;
    const char *new_state;
    const char *stage; /* the stage concerned ("" if none) */
    int attempt;
    const char *reason;    /* "" if none */
    const char *job_state; /* running | done | cancelled */
    int64_t total, skipped, queued, done, failed, cancelled;
} sp_store_change_t;

typedef void (sp_store_change_fn) (const sp_store_change_t *change, void *arg);

/*  Call fn (with arg) for every change made by any later call on this store,
    before that call returns. NULL removes the handler. */
void sp_store_set_change_handler (sp_store_t *self, sp_store_change_fn *fn, void *arg);

/*  PING. Returns SP_STORE_OK or SP_STORE_EIO. */
int sp_store_ping (sp_store_t *self);

/* ---------------------------------------------------------------- jobs */

typedef struct {
    const char *source;       /* playlist URL or id */
    const char *name;         /* playlist name */
    bool library_checked;     /* the library diff ran */
    const char *library_note; /* e.g. "plex unreachable: ..." (NULL = "") */
} sp_store_job_spec_t;

typedef struct {
    const char *spotify_id; /* NULL = "" */
    const char *title;
    const char *artists; /* joined, e.g. "A, B" */
    bool skipped;        /* true: already in the library (or unusable) */
    const char *reason;  /* why skipped ("in library", ...) */
    const char *path;    /* library path of a skipped track */
    const void *payload; /* queued: the search payload (opaque bytes) */
    size_t payload_len;
} sp_store_track_spec_t;

/*  Create a job with n tracks (track i gets position i): skipped tracks are
    recorded as skipped; the others as queued, each with a search task.
    Work is done in chunks of a few hundred tracks, each one atomic with its
    counter updates; the job is "sealed" at the end, and only a sealed job
    can become done. Writes the new id to job_id_out. Returns SP_STORE_OK,
    SP_STORE_EINVAL, SP_STORE_EIO. */
int sp_store_job_create (sp_store_t *self, const sp_store_job_spec_t *spec,
                         const sp_store_track_spec_t *tracks, size_t n,
                         char job_id_out[SP_STORE_ID_MAX]);

typedef struct {
    char *id, *source, *name, *state, *library_note;
    bool library_checked, sealed;
    int64_t total, skipped, queued, done, failed, cancelled;
    int64_t created_ms, updated_ms;
} sp_store_job_t;

/*  Read a job. Caller owns *job_p (sp_store_job_destroy).
    Returns SP_STORE_OK, SP_STORE_ENOENT, SP_STORE_EIO. */
int sp_store_job_get (sp_store_t *self, const char *job_id, sp_store_job_t **job_p);
void sp_store_job_destroy (sp_store_job_t **self_p);

/*  A track record; strings are borrowed for the duration of the callback. */
typedef struct {
    const char *key, *job_id, *spotify_id, *title, *artists, *state, *stage;
    const char *reason, *source_user, *source_file, *path, *transfer_id;
    const char *audio_verdict, *audio_cutoff_hz, *audio_note;  //  the audio check ("" = none)
    int position, attempts;
    const void *payload;
    size_t payload_len;
    int64_t updated_ms;
} sp_store_track_t;

/*  Return nonzero to stop the iteration. */
typedef int (sp_store_track_fn) (const sp_store_track_t *track, void *arg);
typedef int (sp_store_job_fn) (const sp_store_job_t *job, void *arg);

/*  Call fn for each track of the job in playlist order (read in pages, so
    not one snapshot). Returns SP_STORE_OK (also when fn stopped early),
    SP_STORE_ENOENT, SP_STORE_EIO. */
int sp_store_job_tracks (sp_store_t *self, const char *job_id, sp_store_track_fn *fn, void *arg);

/*  Call fn for up to limit jobs, newest first, skipping offset. */
int sp_store_list_jobs (sp_store_t *self, size_t offset, size_t limit, sp_store_job_fn *fn,
                        void *arg);

/*  Cancel a job: every non-terminal track becomes cancelled, its task is
    withdrawn (an in-flight holder gets SP_STORE_ESTALE), job state
    cancelled. Idempotent. *count (may be NULL) = tracks cancelled. */
int sp_store_cancel_job (sp_store_t *self, const char *job_id, int *count);

/*  Re-queue a job's failed and cancelled tracks at the search stage with
    attempt 1 and their original search payload; job state running.
    *count (may be NULL) = tracks re-queued. */
int sp_store_retry_job (sp_store_t *self, const char *job_id, int *count);

/*  Set a small non-state field on a track (transfer_id, source_user,
    source_file, path, reason, and the audio check's audio_verdict,
    audio_cutoff_hz, audio_note). Other fields are refused (SP_STORE_EINVAL).
    SP_STORE_ENOENT if the track does not exist. */
int sp_store_track_set_field (sp_store_t *self, const char *track_key, const char *field,
                              const char *value);

/*  Read n (1..8) fields of a track's record with one HMGET: values[i] gets
    a copy of field fields[i], or NULL when the field is unset or empty.
    Caller owns each value (free()); on an error every value is NULL.
    Returns SP_STORE_OK (also for a track that does not exist: all NULL),
    SP_STORE_EINVAL, SP_STORE_EIO, SP_STORE_EPROTO, SP_STORE_ENOMEM. */
int sp_store_track_get_fields (sp_store_t *self, const char *track_key, const char *const *fields,
                               size_t n, char **values);

/*  sp_store_track_set_field for n (1..8) fields at once, in one script call
    (all or none: any field not allowed, or a NULL, is SP_STORE_EINVAL).
    fields[i] gets values[i]; the arrays are borrowed. */
int sp_store_track_set_fields (sp_store_t *self, const char *track_key, const char *const *fields,
                               const char *const *values, size_t n);

/*  Recount the job's track records and compare with its counters, state and
    tasks (each non-terminal track must have its task in the right queue or
    set). Writes a one-line report to report (n bytes, may be NULL).
    Returns SP_STORE_OK, SP_STORE_EINCONSISTENT, SP_STORE_ENOENT or
    SP_STORE_EIO. O(tracks x queue length): for tests and diagnostics. */
int sp_store_check_counters (sp_store_t *self, const char *job_id, char *report, size_t n);

/* ---------------------------------------------------------------- tasks */

typedef struct {
    char *id; /* "<job>:<pos>:<stage>" */
    sp_store_stage_t stage;
    char *track_key; /* "<job>:<pos>" */
    char *job_id;
    char *owner;
    int attempt;         /* 1-based */
    uint64_t fence;      /* present it to extend/complete/fail */
    int64_t deadline_ms; /* lease deadline, Redis server clock */
    void *payload;       /* the stage payload bytes (NUL-terminated */
    size_t payload_len;  /*   for convenience; len excludes it) */
} sp_store_task_t;

/*  Who a lease was given to (see "Claims" above). Both borrowed. */
#define SP_STORE_ROUTE_MAX 512 /* bytes of route at most */
typedef struct {
    const char *route; /* the identity it was sent to, as text (hex); NULL = none */
    uint64_t token;    /* random per dispatch; 0 = none */
} sp_store_claim_t;

/*  Take the next ready task of a stage for owner (a worker id, for the
    record), leased for lease_ms. Due delayed tasks are made ready first.
    On SP_STORE_OK the caller owns *task_p (sp_store_task_destroy).
    Returns SP_STORE_OK, SP_STORE_EMPTY, SP_STORE_EINVAL, SP_STORE_EIO. */
int sp_store_take (sp_store_t *self, sp_store_stage_t stage, const char *owner, int lease_ms,
                   sp_store_task_t **task_p);
/*  sp_store_take recording claim (may be NULL: none) with the lease. */
int sp_store_take_as (sp_store_t *self, sp_store_stage_t stage, const char *owner,
                      const sp_store_claim_t *claim, int lease_ms, sp_store_task_t **task_p);
void sp_store_task_destroy (sp_store_task_t **self_p);

/*  Push the lease deadline to now + lease_ms. SP_STORE_ESTALE if the fence
    is no longer current, SP_STORE_ENOENT for an unknown task. */
int sp_store_extend (sp_store_t *self, const char *task_id, uint64_t fence, int lease_ms);
/*  sp_store_extend for a lease taken with claim: SP_STORE_EFORGED when the
    claim is not the lease's. */
int sp_store_extend_as (sp_store_t *self, const char *task_id, uint64_t fence,
                        const sp_store_claim_t *claim, int lease_ms);

/*  Result fields set on the track by sp_store_complete; NULL or "" leaves a
    field as it is. */
typedef struct {
    const char *path, *source_user, *source_file, *transfer_id;
} sp_store_result_t;

/*  Finish a task. With next_stage != SP_STORE_NONE the next stage's task is
    queued with next_payload (the track becomes queued for that stage);
    otherwise the track is done. result may be NULL. A repeat of a completion
    that already succeeded with this fence returns SP_STORE_OK again.
    Returns SP_STORE_OK, SP_STORE_ESTALE, SP_STORE_ENOENT, SP_STORE_EINVAL,
    SP_STORE_EIO. */
int sp_store_complete (sp_store_t *self, const char *task_id, uint64_t fence,
                       sp_store_stage_t next_stage, const void *next_payload, size_t next_len,
                       const sp_store_result_t *result);
/*  sp_store_complete presenting claim: SP_STORE_EFORGED (nothing changed)
    when it is not the lease's; a repeat answers OK only with the same claim. */
int sp_store_complete_as (sp_store_t *self, const char *task_id, uint64_t fence,
                          const sp_store_claim_t *claim, sp_store_stage_t next_stage,
                          const void *next_payload, size_t next_len,
                          const sp_store_result_t *result);

/*  Report a failed try. retryable and attempt < max_attempts: re-queued with
    attempt + 1, ready again after backoff_ms (0: at once); otherwise the
    track fails with reason (words a user understands). Returns like
    sp_store_complete. */
int sp_store_fail (sp_store_t *self, const char *task_id, uint64_t fence, const char *reason,
                   bool retryable, int max_attempts, int backoff_ms);
/*  sp_store_fail presenting claim (as sp_store_complete_as). */
int sp_store_fail_as (sp_store_t *self, const char *task_id, uint64_t fence,
                      const sp_store_claim_t *claim, const char *reason, bool retryable,
                      int max_attempts, int backoff_ms);

/*  Return tasks whose lease deadline is before now_ms (0: Redis server time)
    to their queue (attempt + 1), or fail their track past max_attempts.
    *reaped (may be NULL) = tasks handled. Processes up to 1000 per stage per
    call; call again while *reaped is large. */
int sp_store_reap (sp_store_t *self, int64_t now_ms, int max_attempts, int *reaped);

/*  Sizes of a stage's ready list, delayed set and in-flight set (any may be
    NULL). The ready list may hold entries of cancelled tasks until a take
    skips them. */
int sp_store_stage_counts (sp_store_t *self, sp_store_stage_t stage, int64_t *ready,
                           int64_t *delayed, int64_t *inflight);


/* ---------------------------------------------------------------- job endings */

/*  One announced job ending, as taken by sp_store_finished_pop. */
typedef struct {
    char job_id[SP_STORE_ID_MAX];
    long ending;                      /* the job's n-th ending, from 1 */
    char entry[SP_STORE_ID_MAX + 24]; /* the list entry, for sp_store_finished_ack */
} sp_store_ending_t;

/*  Take the oldest announced job ending, waiting up to wait_ms for one
    (0: do not wait; keep wait_ms below the store's read timeout). The
    entry moves to the finishing list and stays there until
    sp_store_finished_ack, so one left by a taker that died is found by
    sp_store_finished_recover. Returns SP_STORE_OK (*out filled),
    SP_STORE_EMPTY (none), SP_STORE_ENOENT (the entry taken named no job:
    malformed, the store writes none such; it was dropped with a warning),
    SP_STORE_EINVAL, SP_STORE_EIO, SP_STORE_EPROTO. A reply lost while
    waiting leaves its entry on the finishing list until the next recover. */
int sp_store_finished_pop (sp_store_t *self, int wait_ms, sp_store_ending_t *out);

/*  Drop a taken ending from the finishing list (done with it, or given up
    on). SP_STORE_OK also when it was not there any more. */
int sp_store_finished_ack (sp_store_t *self, const sp_store_ending_t *ending);

/*  At a finisher's start: put every entry of the finishing list back at the
    head of the finished list, oldest first. Taken entries of a finisher
    still running elsewhere come back too and are finished twice (which the
    rescan claim makes harmless). *count (may be NULL) = entries moved. */
int sp_store_finished_recover (sp_store_t *self, int *count);

/*  Claim the Plex rescan of one ending of a job: the first caller for
    (job_id, ending) gets SP_STORE_OK and should rescan; every later one
    gets SP_STORE_EMPTY. The claim is kept 30 days. Resend-safe (a lost
    reply does not turn a won claim into a lost one). A crash between the
    claim and the rescan loses that rescan rather than doubling it.
    Returns also SP_STORE_EINVAL, SP_STORE_EIO. */
int sp_store_job_claim_rescan (sp_store_t *self, const char *job_id, long ending);

/* ---------------------------------------------------------------- locks */

#define SP_STORE_LOCK_NAME_MAX 320 /* longest lock name including the NUL */

/*  A held lock: what sp_store_lock_acquire filled in, handed back to
    extend and release. Plain data, nothing to free. */
typedef struct {
    char name[SP_STORE_LOCK_NAME_MAX];
    char token[48]; /* unique to this acquisition */
    uint64_t fence; /* grows with every acquisition of the name */
} sp_store_lock_t;

/*  Acquire the lock called name (any text, e.g. "playlist:<folder>") for
    ttl_ms, polling every 25 ms for up to wait_ms while another holds it.
    The lease ends at release or after ttl_ms, whichever comes first: a
    holder that may take longer extends it. Returns SP_STORE_OK (*lock
    filled), SP_STORE_EMPTY (still held by another after wait_ms),
    SP_STORE_EINVAL (empty or too long a name, ttl_ms <= 0), SP_STORE_EIO,
    SP_STORE_EPROTO. */
int sp_store_lock_acquire (sp_store_t *self, const char *name, int ttl_ms, int wait_ms,
                           sp_store_lock_t *lock);

/*  Renew the lease to ttl_ms from now; also the check before acting on what
    the lock protects. SP_STORE_ESTALE when the lease ran out (another may
    hold the lock now: do not act). */
int sp_store_lock_extend (sp_store_t *self, const sp_store_lock_t *lock, int ttl_ms);

/*  Release the lock. SP_STORE_ESTALE when it was no longer this holder's
    (nothing is deleted then). */
int sp_store_lock_release (sp_store_t *self, const sp_store_lock_t *lock);

/* ---------------------------------------------------------------- Spotify login */

/*  The saved Spotify login. Caller owns the strings
    (sp_store_spotify_auth_clear). */
typedef struct {
    char *refresh_token;   /* NULL: no login saved */
    char *access_token;    /* NULL: none cached */
    int64_t expires_at_ms; /* the access token's expiry, Unix ms (0: unknown) */
} sp_store_spotify_auth_t;

/*  Read the saved login into *auth (zeroed first; on an error it stays
    zeroed). Returns SP_STORE_OK (also when none is saved), SP_STORE_EINVAL,
    SP_STORE_EIO, SP_STORE_EPROTO, SP_STORE_ENOMEM. */
int sp_store_spotify_auth_get (sp_store_t *self, sp_store_spotify_auth_t *auth);

/*  Free the strings of *auth and zero it. Accepts NULL. */
void sp_store_spotify_auth_clear (sp_store_spotify_auth_t *auth);

/*  Save tokens: access_token (NULL = "") with its expiry; refresh_token and
    scope only when not NULL (NULL keeps the saved ones). Also stamps
    updated_ms. Returns SP_STORE_OK, SP_STORE_EINVAL, SP_STORE_EIO,
    SP_STORE_EPROTO. */
int sp_store_spotify_auth_put (sp_store_t *self, const char *refresh_token,
                               const char *access_token, int64_t expires_at_ms, const char *scope);

/* ---------------------------------------------------------------- raw access */

struct redisReply;

/*  Run one Redis command (binary-safe argv: argc strings with their lengths)
    with the store's reconnect-and-retry behaviour, for the small modules that
    keep their own keys under "soulpipe:" (search budget, peer memory, the
    index of finished songs) and for tests. Lua goes through EVAL.
    Commands must be safe to resend (idempotent), since a lost reply makes the
    store send them again. On SP_STORE_OK the caller owns *reply (free it with
    freeReplyObject; it may be an error reply). Returns SP_STORE_OK,
    SP_STORE_EINVAL or SP_STORE_EIO. */
int sp_store_command (sp_store_t *self, int argc, const char **argv, const size_t *lens,
                      struct redisReply **reply);
#endif
