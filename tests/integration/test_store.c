/*  test_store.c: the Redis job store against a real redis-server.

    Uses SOULPIPE_TEST_REDIS_URL (FLUSHDB at the start of each test); the
    restart test starts its own redis-server (AOF, fsync always) on a free
    port in a temp dir, kills it with SIGKILL and starts it again.
*/
#include "soulpipe/store.h"

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ATTEMPTS 3
#define LEASE_MS     30000

/* ---------------------------------------------------------------- helpers */

static void
s_sleep_ms (int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

static double
s_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *
s_url (void)
{
    const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
    if (!url || !*url)
        cr_skip_test ("SOULPIPE_TEST_REDIS_URL not set");
    return url;
}

static void
s_flushdb (const char *url)
{
    /* the test URL is redis://127.0.0.1:PORT/DB */
    char host[64] = "127.0.0.1";
    int port = 6379, db = 0;
    cr_assert (sscanf (url, "redis://%63[^:]:%d/%d", host, &port, &db) >= 2,
               "unexpected test url %s", url);
    redisContext *c = redisConnect (host, port);
    cr_assert (c && !c->err, "cannot connect to %s", url);
    redisReply *r = redisCommand (c, "SELECT %d", db);
    freeReplyObject (r);
    r = redisCommand (c, "FLUSHDB");
    cr_assert (r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject (r);
    redisFree (c);
}

static sp_store_t *
s_open (void)
{
    const char *url = s_url ();
    s_flushdb (url);
    char err[256];
    sp_store_t *st = sp_store_new (url, err, sizeof err);
    cr_assert_not_null (st, "sp_store_new: %s", err);
    return st;
}

static void
s_check (sp_store_t *st, const char *job)
{
    char report[1024];
    int rc = sp_store_check_counters (st, job, report, sizeof report);
    cr_assert_eq (rc, SP_STORE_OK, "check_counters: %s", report);
}

/*  A binary payload with NUL and high bytes, tagged with n. */
static size_t
s_payload (int n, unsigned char buf[16])
{
    unsigned char p[16] = {0x82, 0xa1, 'v', 0x01, 0x00, 0xff, 0x00, 0x7f};
    memcpy (buf, p, 16);
    buf[8] = (unsigned char) n;
    buf[9] = (unsigned char) (n >> 8);
    return 12;
}

static sp_store_job_spec_t s_spec = {.source = "https://open.spotify.com/playlist/x",
                                     .name = "Test list",
                                     .library_checked = true,
                                     .library_note = ""};

/*  Create a job of n tracks, the ones whose bit is set in skip_mask skipped. */
static void
s_create (sp_store_t *st, int n, unsigned skip_mask, char job[SP_STORE_ID_MAX])
{
    sp_store_track_spec_t *t = calloc ((size_t) n, sizeof *t);
    unsigned char (*pl)[16] = calloc ((size_t) n, 16);
    char (*titles)[32] = calloc ((size_t) n, 32);
    cr_assert (t && pl && titles);
    for (int i = 0; i < n; i++) {
        snprintf (titles[i], 32, "Song %d", i);
        t[i].spotify_id = "4iV5W9uYEdYUVa79Axb7Rh";
        t[i].title = titles[i];
        t[i].artists = "A, B";
        if (i < 32 && (skip_mask & (1u << i))) {
            t[i].skipped = true;
            t[i].reason = "in library";
            t[i].path = "/music/a.flac";
        } else {
            t[i].payload = pl[i];
            t[i].payload_len = s_payload (i, pl[i]);
        }
    }
    int rc = sp_store_job_create (st, &s_spec, t, (size_t) n, job);
    free (t);
    free (pl);
    free (titles);
    cr_assert_eq (rc, SP_STORE_OK, "job_create: %s", sp_store_strerror (rc));
    cr_assert (strncmp (job, "j-", 2) == 0, "job id %s", job);
}

static sp_store_job_t *
s_job (sp_store_t *st, const char *id)
{
    sp_store_job_t *j = NULL;
    cr_assert_eq (sp_store_job_get (st, id, &j), SP_STORE_OK);
    return j;
}

typedef struct {
    char key[96];
    char state[16];
    char reason[160];
    char path[64];
    char source_user[32];
    char transfer_id[32];
    int attempts;
    int position;
} s_trk_t;

typedef struct {
    s_trk_t t[300];
    int n;
} s_trks_t;

static int
s_collect (const sp_store_track_t *t, void *arg)
{
    s_trks_t *all = arg;
    if (all->n >= 300)
        return 1;
    s_trk_t *o = &all->t[all->n++];
    snprintf (o->key, sizeof o->key, "%s", t->key);
    snprintf (o->state, sizeof o->state, "%s", t->state);
    snprintf (o->reason, sizeof o->reason, "%s", t->reason);
    snprintf (o->path, sizeof o->path, "%s", t->path);
    snprintf (o->source_user, sizeof o->source_user, "%s", t->source_user);
    snprintf (o->transfer_id, sizeof o->transfer_id, "%s", t->transfer_id);
    o->attempts = t->attempts;
    o->position = t->position;
    return 0;
}

static s_trks_t *
s_tracks (sp_store_t *st, const char *job)
{
    s_trks_t *all = calloc (1, sizeof *all);
    cr_assert (all);
    cr_assert_eq (sp_store_job_tracks (st, job, s_collect, all), SP_STORE_OK);
    return all;
}

static void
s_assert_track (sp_store_t *st, const char *job, int pos, const char *state)
{
    s_trks_t *all = s_tracks (st, job);
    cr_assert (pos < all->n);
    cr_assert_str_eq (all->t[pos].state, state, "track %d: %s, want %s", pos, all->t[pos].state,
                      state);
    free (all);
}

/*  Records the change events seen by a store. */
typedef struct {
    char new_state[64][16];
    int n;
    int64_t last_queued, last_done, last_failed;
    char last_job_state[16];
} s_events_t;

static void
s_on_change (const sp_store_change_t *c, void *arg)
{
    s_events_t *ev = arg;
    if (c->track_key[0] && ev->n < 64)
        snprintf (ev->new_state[ev->n++], 16, "%s", c->new_state);
    ev->last_queued = c->queued;
    ev->last_done = c->done;
    ev->last_failed = c->failed;
    snprintf (ev->last_job_state, sizeof ev->last_job_state, "%s", c->job_state);
}

/* ---------------------------------------------------------------- tests */

Test (store, url_errors)
{
    char err[256];
    cr_assert_null (sp_store_new ("http://x", err, sizeof err));
    cr_assert (strstr (err, "redis://"), "%s", err);
    cr_assert_null (sp_store_new ("redis://127.0.0.1:99999/0", err, sizeof err));
    cr_assert_null (sp_store_new ("redis://127.0.0.1:6379/x", err, sizeof err));
    cr_assert_null (sp_store_new ("redis://:%zz@127.0.0.1/0", err, sizeof err));
    cr_assert_null (sp_store_new ("unix://relative", err, sizeof err));
    cr_assert_null (sp_store_new (NULL, err, sizeof err));

    /* a password the server does not expect: refused at once, never echoed */
    const char *url = s_url ();
    int port = 0, db = 0;
    cr_assert (sscanf (url, "redis://127.0.0.1:%d/%d", &port, &db) == 2, "%s", url);
    char bad[128];
    snprintf (bad, sizeof bad, "redis://:s3cr3tpw@127.0.0.1:%d/%d", port, db);
    double t0 = s_now_s ();
    cr_assert_null (sp_store_new (bad, err, sizeof err));
    cr_assert (s_now_s () - t0 < 5.0, "auth failure should not be retried");
    cr_assert (strstr (err, "AUTH"), "%s", err);
    cr_assert_null (strstr (err, "s3cr3tpw"), "password leaked: %s", err);
}

Test (store, create_mixed)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 5, (1u << 1) | (1u << 3), job);
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->total, 5);
    cr_assert_eq (j->skipped, 2);
    cr_assert_eq (j->queued, 3);
    cr_assert_eq (j->done + j->failed + j->cancelled, 0);
    cr_assert_str_eq (j->state, "running");
    cr_assert_str_eq (j->name, "Test list");
    cr_assert (j->sealed && j->library_checked && j->created_ms > 0);
    sp_store_job_destroy (&j);
    cr_assert_null (j);
    s_check (st, job);

    s_trks_t *all = s_tracks (st, job);
    cr_assert_eq (all->n, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq (all->t[i].position, i);
        cr_assert_str_eq (all->t[i].state, (i == 1 || i == 3) ? "skipped" : "queued");
    }
    cr_assert_str_eq (all->t[1].reason, "in library");
    cr_assert_str_eq (all->t[1].path, "/music/a.flac");
    free (all);

    /* payloads come back byte for byte, in playlist order */
    for (int want = 0; want < 5; want++) {
        if (want == 1 || want == 3)
            continue;
        sp_store_task_t *t = NULL;
        cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w1", LEASE_MS, &t), SP_STORE_OK);
        unsigned char pl[16];
        size_t len = s_payload (want, pl);
        cr_assert_eq (t->payload_len, len);
        cr_assert (memcmp (t->payload, pl, len) == 0, "payload of %s", t->id);
        char key[96];
        snprintf (key, sizeof key, "%s:%d", job, want);
        cr_assert_str_eq (t->track_key, key);
        cr_assert_str_eq (t->job_id, job);
        cr_assert_eq (t->attempt, 1);
        cr_assert_eq (t->fence, 1);
        sp_store_task_destroy (&t);
    }
    sp_store_task_t *t = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w1", LEASE_MS, &t), SP_STORE_EMPTY);
    cr_assert_null (t);
    s_check (st, job);

    /* a job with nothing to fetch is done at once; an empty one too */
    char job2[SP_STORE_ID_MAX];
    s_create (st, 2, 3u, job2);
    j = s_job (st, job2);
    cr_assert_str_eq (j->state, "done");
    sp_store_job_destroy (&j);
    s_check (st, job2);
    char job3[SP_STORE_ID_MAX];
    cr_assert_eq (sp_store_job_create (st, &s_spec, NULL, 0, job3), SP_STORE_OK);
    j = s_job (st, job3);
    cr_assert_str_eq (j->state, "done");
    cr_assert_eq (j->total, 0);
    sp_store_job_destroy (&j);

    cr_assert_eq (sp_store_job_get (st, "j-nope-x", &j), SP_STORE_ENOENT);
    cr_assert_eq (sp_store_job_get (st, "bad key!", &j), SP_STORE_EINVAL);
    sp_store_destroy (&st);
    cr_assert_null (st);
    sp_store_destroy (&st);
}

static int
s_count_jobs (const sp_store_job_t *j, void *arg)
{
    int *n = arg;
    cr_assert (j->id[0] == 'j');
    (*n)++;
    return 0;
}

Test (store, list_jobs)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    for (int i = 0; i < 3; i++)
        s_create (st, 1, 0, job);
    int n = 0;
    cr_assert_eq (sp_store_list_jobs (st, 0, 10, s_count_jobs, &n), SP_STORE_OK);
    cr_assert_eq (n, 3);
    n = 0;
    cr_assert_eq (sp_store_list_jobs (st, 1, 10, s_count_jobs, &n), SP_STORE_OK);
    cr_assert_eq (n, 2);
    sp_store_destroy (&st);
}

Test (store, three_stages)
{
    sp_store_t *st = s_open ();
    s_events_t ev = {0};
    sp_store_set_change_handler (st, s_on_change, &ev);
    char job[SP_STORE_ID_MAX];
    s_create (st, 2, 1u, job); /* track 0 skipped, track 1 queued */
    s_check (st, job);

    sp_store_stage_t stages[3] = {SP_STORE_SEARCH, SP_STORE_DOWNLOAD, SP_STORE_TAG};
    const char *running[3] = {"searching", "downloading", "tagging"};
    for (int s = 0; s < 3; s++) {
        sp_store_task_t *t = NULL;
        /* nothing for the other stages */
        cr_assert_eq (sp_store_take (st, stages[(s + 1) % 3], "w", LEASE_MS, &t), SP_STORE_EMPTY);
        cr_assert_eq (sp_store_take (st, stages[s], "w", LEASE_MS, &t), SP_STORE_OK);
        cr_assert_eq (t->stage, stages[s]);
        char want[128];
        snprintf (want, sizeof want, "%s:1:%s", job, sp_store_stage_name (stages[s]));
        cr_assert_str_eq (t->id, want);
        cr_assert_str_eq (t->owner, "w");
        cr_assert_gt (t->deadline_ms, 0);
        if (s > 0) {
            cr_assert_eq (t->payload_len, 3);
            cr_assert (memcmp (t->payload, s == 1 ? "D\0x" : "T\0x", 3) == 0);
        }
        s_assert_track (st, job, 1, running[s]);
        s_check (st, job);
        cr_assert_eq (sp_store_extend (st, t->id, t->fence, LEASE_MS), SP_STORE_OK);
        int rc;
        if (s < 2) {
            sp_store_result_t res = {.source_user = s == 0 ? "peer1" : NULL,
                                     .transfer_id = s == 1 ? "tx-9" : NULL};
            rc = sp_store_complete (st, t->id, t->fence, stages[s + 1], s == 0 ? "D\0x" : "T\0x", 3,
                                    &res);
            cr_assert_eq (rc, SP_STORE_OK, "%s", sp_store_strerror (rc));
            s_assert_track (st, job, 1, "queued");
        } else {
            sp_store_result_t res = {.path = "/transfer/x.flac"};
            rc = sp_store_complete (st, t->id, t->fence, SP_STORE_NONE, NULL, 0, &res);
            cr_assert_eq (rc, SP_STORE_OK);
            /* a resend of the same completion is a success, and changes nothing */
            rc = sp_store_complete (st, t->id, t->fence, SP_STORE_NONE, NULL, 0, &res);
            cr_assert_eq (rc, SP_STORE_OK);
        }
        s_check (st, job);
        sp_store_task_destroy (&t);
    }
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->done, 1);
    cr_assert_eq (j->queued, 0);
    cr_assert_eq (j->skipped, 1);
    cr_assert_str_eq (j->state, "done");
    sp_store_job_destroy (&j);
    s_trks_t *all = s_tracks (st, job);
    cr_assert_str_eq (all->t[1].state, "done");
    cr_assert_str_eq (all->t[1].path, "/transfer/x.flac");
    cr_assert_str_eq (all->t[1].source_user, "peer1");
    cr_assert_str_eq (all->t[1].transfer_id, "tx-9");
    free (all);

    /* the events tell the same story */
    const char *want[] = {"searching", "queued", "downloading", "queued", "tagging", "done"};
    cr_assert_eq (ev.n, 6, "events: %d", ev.n);
    for (int i = 0; i < 6; i++)
        cr_assert_str_eq (ev.new_state[i], want[i]);
    cr_assert_eq (ev.last_done, 1);
    cr_assert_eq (ev.last_queued, 0);
    cr_assert_str_eq (ev.last_job_state, "done");

    /* the set_field allowlist */
    char key[96];
    snprintf (key, sizeof key, "%s:1", job);
    cr_assert_eq (sp_store_track_set_field (st, key, "transfer_id", "tx-10"), SP_STORE_OK);
    cr_assert_eq (sp_store_track_set_field (st, key, "state", "queued"), SP_STORE_EINVAL);
    /* several at once: all or none */
    const char *f3[] = {"transfer_id", "source_user", "reason"};
    const char *v3[] = {"tx-11", "peer2", "why not"};
    cr_assert_eq (sp_store_track_set_fields (st, key, f3, v3, 3), SP_STORE_OK);
    const char *fbad[] = {"source_user", "state"};
    const char *vbad[] = {"peer3", "queued"};
    cr_assert_eq (sp_store_track_set_fields (st, key, fbad, vbad, 2), SP_STORE_EINVAL);
    const char *vnull[] = {"peer3", NULL};
    cr_assert_eq (sp_store_track_set_fields (st, key, f3, vnull, 2), SP_STORE_EINVAL);
    cr_assert_eq (sp_store_track_set_fields (st, key, f3, v3, 0), SP_STORE_EINVAL);
    s_trks_t *set = s_tracks (st, job);
    cr_assert_str_eq (set->t[1].transfer_id, "tx-11");
    cr_assert_str_eq (set->t[1].source_user, "peer2");
    cr_assert_str_eq (set->t[1].reason, "why not");
    cr_assert_str_eq (set->t[1].state, "done");
    free (set);
    /* reading fields back: set ones copied, unset ones NULL */
    const char *fget[] = {"transfer_id", "source_user", "source_file"};
    char *got[3];
    cr_assert_eq (sp_store_track_get_fields (st, key, fget, 3, got), SP_STORE_OK);
    cr_assert_str_eq (got[0], "tx-11");
    cr_assert_str_eq (got[1], "peer2");
    cr_assert_null (got[2]);
    free (got[0]);
    free (got[1]);
    cr_assert_eq (sp_store_track_get_fields (st, key, fget, 0, got), SP_STORE_EINVAL);
    cr_assert_eq (sp_store_track_get_fields (st, "bad key with spaces", fget, 3, got),
                  SP_STORE_EINVAL);
    cr_assert_null (got[0]);
    snprintf (key, sizeof key, "%s:7", job);
    cr_assert_eq (sp_store_track_set_field (st, key, "transfer_id", "x"), SP_STORE_ENOENT);
    cr_assert_eq (sp_store_track_set_fields (st, key, f3, v3, 3), SP_STORE_ENOENT);
    s_check (st, job);
    sp_store_destroy (&st);
}

Test (store, fail_retryable)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 2, 0, job);
    for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        sp_store_task_t *t = NULL;
        cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
        if (strcmp (t->track_key + strlen (t->track_key) - 2, ":1") == 0) {
            /* keep track 1 in flight: not our subject */
            sp_store_task_destroy (&t);
            cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
        }
        cr_assert_eq (t->attempt, attempt);
        char reason[64];
        snprintf (reason, sizeof reason, "slskd 503 (try %d)", attempt);
        cr_assert_eq (sp_store_fail (st, t->id, t->fence, reason, true, MAX_ATTEMPTS, 0),
                      SP_STORE_OK);
        /* a resend of the same failure is no second attempt */
        cr_assert_eq (sp_store_fail (st, t->id, t->fence, reason, true, MAX_ATTEMPTS, 0),
                      SP_STORE_OK);
        s_check (st, job);
        s_trks_t *all = s_tracks (st, job);
        cr_assert_str_eq (all->t[0].state, attempt < MAX_ATTEMPTS ? "queued" : "failed");
        cr_assert_str_eq (all->t[0].reason, reason);
        cr_assert_eq (all->t[0].attempts, attempt);
        free (all);
        sp_store_task_destroy (&t);
    }
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->failed, 1);
    cr_assert_eq (j->queued, 1);
    cr_assert_str_eq (j->state, "running");
    sp_store_job_destroy (&j);
    sp_store_destroy (&st);
}

Test (store, fail_fatal)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 1, 0, job);
    sp_store_task_t *t = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    cr_assert_eq (
        sp_store_fail (st, t->id, t->fence, "no match on Soulseek", false, MAX_ATTEMPTS, 0),
        SP_STORE_OK);
    s_check (st, job);
    s_assert_track (st, job, 0, "failed");
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->failed, 1);
    cr_assert_eq (j->queued, 0);
    cr_assert_str_eq (j->state, "done");
    sp_store_job_destroy (&j);
    /* a completion after the failure is refused */
    cr_assert_eq (sp_store_complete (st, t->id, t->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_ESTALE);
    cr_assert_eq (sp_store_complete (st, "j-x-y:0:search", 1, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_ENOENT);
    cr_assert_eq (sp_store_fail (st, t->id, t->fence, "x", true, 0, 0), SP_STORE_EINVAL);
    s_check (st, job);
    sp_store_task_destroy (&t);
    sp_store_destroy (&st);
}

/*  Issue 21 item 2: a lease taken with a claim (token + route) is only
    answered with the same claim; a guessed fence alone changes nothing. */
Test (store, claim_refuses_forged_answers)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 1, 0, job);
    sp_store_claim_t claim = {.route = "57a1b2c3", .token = 0x8badf00d12345678ULL};
    sp_store_task_t *t = NULL;
    cr_assert_eq (sp_store_take_as (st, SP_STORE_SEARCH, "w", &claim, LEASE_MS, &t), SP_STORE_OK);
    sp_store_claim_t no_token = {.route = claim.route, .token = 0};
    sp_store_claim_t other_token = {.route = claim.route, .token = claim.token + 1};
    sp_store_claim_t other_route = {.route = "57a1b2c4", .token = claim.token};
    const sp_store_claim_t *forged[] = {NULL, &no_token, &other_token, &other_route};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        cr_assert_eq (
            sp_store_complete_as (st, t->id, t->fence, forged[i], SP_STORE_NONE, NULL, 0, NULL),
            SP_STORE_EFORGED, "forged done %zu", i);
        cr_assert_eq (
            sp_store_fail_as (st, t->id, t->fence, forged[i], "forged", false, MAX_ATTEMPTS, 0),
            SP_STORE_EFORGED, "forged fail %zu", i);
        cr_assert_eq (sp_store_extend_as (st, t->id, t->fence, forged[i], LEASE_MS),
                      SP_STORE_EFORGED, "forged progress %zu", i);
    }
    s_assert_track (st, job, 0, "searching");
    cr_assert_eq (sp_store_extend_as (st, t->id, t->fence, &claim, LEASE_MS), SP_STORE_OK);
    cr_assert_eq (sp_store_complete_as (st, t->id, t->fence, &claim, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_OK);
    //  a resend by the holder is OK again; the same fence with another claim is not
    cr_assert_eq (sp_store_complete_as (st, t->id, t->fence, &claim, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_OK);
    cr_assert_neq (
        sp_store_complete_as (st, t->id, t->fence, &other_token, SP_STORE_NONE, NULL, 0, NULL),
        SP_STORE_OK);
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->done, 1);
    cr_assert_eq (j->failed, 0);
    sp_store_job_destroy (&j);
    s_check (st, job);
    sp_store_task_destroy (&t);
    sp_store_destroy (&st);
}

Test (store, stale_fence)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 1, 0, job);
    sp_store_task_t *old = NULL, *cur = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "slow", 60000, &old), SP_STORE_OK);
    /* the lease runs out (reap "in the future") and someone else takes it */
    int n = 0;
    cr_assert_eq (sp_store_reap (st, 0, MAX_ATTEMPTS, &n), SP_STORE_OK);
    cr_assert_eq (n, 0);
    cr_assert_eq (sp_store_reap (st, old->deadline_ms + 1, MAX_ATTEMPTS, &n), SP_STORE_OK);
    cr_assert_eq (n, 1);
    s_check (st, job);
    /* stale while back in the queue */
    cr_assert_eq (sp_store_complete (st, old->id, old->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_ESTALE);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "fast", LEASE_MS, &cur), SP_STORE_OK);
    cr_assert_str_eq (cur->id, old->id);
    cr_assert_eq (cur->fence, old->fence + 1);
    cr_assert_eq (cur->attempt, 2);
    /* and stale while someone else holds it */
    cr_assert_eq (sp_store_complete (st, old->id, old->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_ESTALE);
    cr_assert_eq (sp_store_fail (st, old->id, old->fence, "late", true, MAX_ATTEMPTS, 0),
                  SP_STORE_ESTALE);
    cr_assert_eq (sp_store_extend (st, old->id, old->fence, LEASE_MS), SP_STORE_ESTALE);
    s_check (st, job);
    s_assert_track (st, job, 0, "searching");
    cr_assert_eq (sp_store_complete (st, cur->id, cur->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_OK);
    cr_assert_eq (sp_store_complete (st, old->id, old->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_ESTALE);
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->done, 1);
    cr_assert_eq (j->failed, 0);
    sp_store_job_destroy (&j);
    s_check (st, job);
    sp_store_task_destroy (&old);
    sp_store_task_destroy (&cur);
    sp_store_destroy (&st);
}

Test (store, reaper)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 1, 0, job);
    const int max = 2;
    for (int attempt = 1; attempt <= max; attempt++) {
        sp_store_task_t *t = NULL;
        cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w1", 100, &t), SP_STORE_OK);
        cr_assert_eq (t->attempt, attempt);
        int n = -1;
        cr_assert_eq (sp_store_reap (st, 0, max, &n), SP_STORE_OK);
        cr_assert_eq (n, 0, "lease not yet expired");
        s_sleep_ms (250);
        cr_assert_eq (sp_store_reap (st, 0, max, &n), SP_STORE_OK);
        cr_assert_eq (n, 1);
        s_check (st, job);
        s_trks_t *all = s_tracks (st, job);
        if (attempt < max) {
            cr_assert_str_eq (all->t[0].state, "queued");
            cr_assert (strstr (all->t[0].reason, "lease expired"), "%s", all->t[0].reason);
        } else {
            cr_assert_str_eq (all->t[0].state, "failed");
            cr_assert_str_eq (all->t[0].reason, "lease expired 2 times (last: held by w1)");
        }
        free (all);
        sp_store_task_destroy (&t);
    }
    sp_store_task_t *t = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w1", 100, &t), SP_STORE_EMPTY);
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->failed, 1);
    cr_assert_str_eq (j->state, "done");
    sp_store_job_destroy (&j);
    sp_store_destroy (&st);
}

Test (store, delayed_backoff)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 1, 0, job);
    sp_store_task_t *t = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    cr_assert_eq (sp_store_fail (st, t->id, t->fence, "429", true, MAX_ATTEMPTS, 400), SP_STORE_OK);
    sp_store_task_destroy (&t);
    int64_t ready = -1, delayed = -1, inflight = -1;
    cr_assert_eq (sp_store_stage_counts (st, SP_STORE_SEARCH, &ready, &delayed, &inflight),
                  SP_STORE_OK);
    cr_assert_eq (ready, 0);
    cr_assert_eq (delayed, 1);
    cr_assert_eq (inflight, 0);
    s_check (st, job);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_EMPTY);
    s_sleep_ms (150);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_EMPTY);
    s_sleep_ms (350);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    cr_assert_eq (t->attempt, 2);
    s_check (st, job);
    sp_store_task_destroy (&t);
    sp_store_destroy (&st);
}

Test (store, cancel_and_retry)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 5, 1u << 4, job); /* 4 queued, 1 skipped */
    sp_store_task_t *held = NULL, *t = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &held), SP_STORE_OK);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    cr_assert_eq (sp_store_fail (st, t->id, t->fence, "bad", false, MAX_ATTEMPTS, 0), SP_STORE_OK);
    sp_store_task_destroy (&t);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    cr_assert_eq (sp_store_fail (st, t->id, t->fence, "503", true, MAX_ATTEMPTS, 60000),
                  SP_STORE_OK); /* delayed */
    sp_store_task_destroy (&t);
    s_check (st, job);

    int n = -1;
    cr_assert_eq (sp_store_cancel_job (st, job, &n), SP_STORE_OK);
    cr_assert_eq (n, 3); /* in flight, delayed, ready */
    cr_assert_eq (sp_store_cancel_job (st, job, &n), SP_STORE_OK);
    cr_assert_eq (n, 0);
    s_check (st, job);
    sp_store_job_t *j = s_job (st, job);
    cr_assert_str_eq (j->state, "cancelled");
    cr_assert_eq (j->cancelled, 3);
    cr_assert_eq (j->failed, 1);
    cr_assert_eq (j->queued, 0);
    sp_store_job_destroy (&j);
    cr_assert_eq (sp_store_complete (st, held->id, held->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_ESTALE);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_EMPTY);

    cr_assert_eq (sp_store_retry_job (st, job, &n), SP_STORE_OK);
    cr_assert_eq (n, 4);
    s_check (st, job);
    j = s_job (st, job);
    cr_assert_str_eq (j->state, "running");
    cr_assert_eq (j->queued, 4);
    cr_assert_eq (j->cancelled + j->failed + j->done, 0);
    sp_store_job_destroy (&j);
    /* the old holder is still refused; the four tracks run to the end */
    cr_assert_eq (sp_store_complete (st, held->id, held->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_ESTALE);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
        cr_assert_eq (t->attempt, 1);
        cr_assert_eq (t->payload_len, 12);
        cr_assert_eq (sp_store_complete (st, t->id, t->fence, SP_STORE_NONE, NULL, 0, NULL),
                      SP_STORE_OK);
        sp_store_task_destroy (&t);
        s_check (st, job);
    }
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_EMPTY);
    j = s_job (st, job);
    cr_assert_str_eq (j->state, "done");
    cr_assert_eq (j->done, 4);
    cr_assert_eq (j->skipped, 1);
    sp_store_job_destroy (&j);
    cr_assert_eq (sp_store_cancel_job (st, "j-none-1", &n), SP_STORE_ENOENT);
    sp_store_task_destroy (&held);
    sp_store_destroy (&st);
}

Test (store, big_job_chunks)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, 600, 0x5u, job); /* spans three job_add chunks */
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->total, 600);
    cr_assert_eq (j->skipped, 2);
    cr_assert_eq (j->queued, 598);
    sp_store_job_destroy (&j);
    s_check (st, job);
    struct {
        int bad;
    } it = {0};
    s_trks_t *all = s_tracks (st, job); /* stops at 300 */
    for (int i = 0; i < all->n; i++)
        if (all->t[i].position != i)
            it.bad++;
    cr_assert_eq (all->n, 300);
    cr_assert_eq (it.bad, 0);
    free (all);
    sp_store_destroy (&st);
}

/* ---------------------------------------------------------------- concurrency */

#define CONC_TASKS   200
#define CONC_THREADS 3

typedef struct {
    const char *url;
    const char *job;
    pthread_mutex_t *lock;
    int *completed; /* per position: successful completions */
    int taken;      /* by this thread */
    int errors;
} s_worker_t;

static void *
s_worker (void *arg)
{
    s_worker_t *w = arg;
    char err[256], owner[32];
    snprintf (owner, sizeof owner, "w%p", (void *) w);
    sp_store_t *st = sp_store_new (w->url, err, sizeof err);
    if (!st) {
        w->errors++;
        return NULL;
    }
    for (;;) {
        sp_store_task_t *t = NULL;
        int rc = sp_store_take (st, SP_STORE_SEARCH, owner, LEASE_MS, &t);
        if (rc == SP_STORE_EMPTY)
            break;
        if (rc != SP_STORE_OK) {
            w->errors++;
            break;
        }
        w->taken++;
        int pos = atoi (strrchr (t->track_key, ':') + 1);
        rc = sp_store_complete (st, t->id, t->fence, SP_STORE_NONE, NULL, 0, NULL);
        if (rc == SP_STORE_OK && pos >= 0 && pos < CONC_TASKS) {
            pthread_mutex_lock (w->lock);
            w->completed[pos]++;
            pthread_mutex_unlock (w->lock);
        } else
            w->errors++;
        sp_store_task_destroy (&t);
    }
    sp_store_destroy (&st);
    return NULL;
}

Test (store, concurrent_workers)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    s_create (st, CONC_TASKS, 0, job);
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int completed[CONC_TASKS] = {0};
    s_worker_t w[CONC_THREADS];
    pthread_t th[CONC_THREADS];
    double t0 = s_now_s ();
    for (int i = 0; i < CONC_THREADS; i++) {
        w[i] = (s_worker_t){.url = s_url (), .job = job, .lock = &lock, .completed = completed};
        cr_assert_eq (pthread_create (&th[i], NULL, s_worker, &w[i]), 0);
    }
    int taken = 0;
    for (int i = 0; i < CONC_THREADS; i++) {
        pthread_join (th[i], NULL);
        cr_assert_eq (w[i].errors, 0, "worker %d had errors", i);
        taken += w[i].taken;
    }
    double dt = s_now_s () - t0;
    cr_assert_eq (taken, CONC_TASKS);
    for (int i = 0; i < CONC_TASKS; i++)
        cr_assert_eq (completed[i], 1, "track %d completed %d times", i, completed[i]);
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->done, CONC_TASKS);
    cr_assert_str_eq (j->state, "done");
    sp_store_job_destroy (&j);
    s_check (st, job);
    fprintf (stderr, "store_concurrent_transitions_per_s %.0f transitions/s (%d threads)\n",
             CONC_TASKS / dt, CONC_THREADS);
    sp_store_destroy (&st);
}

Test (store, throughput)
{
    sp_store_t *st = s_open ();
    char job[SP_STORE_ID_MAX];
    const int n = 2000;
    s_create (st, n, 0, job);
    double t0 = s_now_s ();
    for (int i = 0; i < n; i++) {
        sp_store_task_t *t = NULL;
        cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "bench", LEASE_MS, &t), SP_STORE_OK);
        cr_assert_eq (sp_store_complete (st, t->id, t->fence, SP_STORE_NONE, NULL, 0, NULL),
                      SP_STORE_OK);
        sp_store_task_destroy (&t);
    }
    double dt = s_now_s () - t0;
    fprintf (stderr, "store_transitions_per_s %.0f take+complete/s\n", n / dt);
    s_check (st, job);
    sp_store_destroy (&st);
}

/* ---------------------------------------------------------------- restart */

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind (fd, (struct sockaddr *) &a, sizeof a) != 0 ||
        getsockname (fd, (struct sockaddr *) &a, &len) != 0) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    close (fd);
    return ntohs (a.sin_port);
}

static pid_t
s_redis_start (const char *dir, int port)
{
    pid_t pid = fork ();
    if (pid == 0) {
        char p[16];
        snprintf (p, sizeof p, "%d", port);
        int devnull = open ("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2 (devnull, 1);
            dup2 (devnull, 2);
        }
        execlp ("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--dir", dir,
                "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--unixsocket",
                "redis.sock", "--unixsocketperm", "700", (char *) NULL);
        _exit (127);
    }
    /* wait until it answers */
    for (int i = 0; i < 100; i++) {
        redisContext *c = redisConnect ("127.0.0.1", port);
        if (c && !c->err) {
            redisReply *r = redisCommand (c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            freeReplyObject (r);
            redisFree (c);
            if (ok)
                return pid;
        } else if (c)
            redisFree (c);
        s_sleep_ms (50);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    return -1;
}

static void
s_redis_kill (pid_t pid)
{
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
}

#define RESTART_TASKS 120

typedef struct {
    const char *url;
    int completed[RESTART_TASKS];
    int taken;
    int stale;
    int errors;
    volatile int done;
} s_rworker_t;

static void *
s_rworker (void *arg)
{
    s_rworker_t *w = arg;
    char err[256];
    sp_store_t *st = sp_store_new (w->url, err, sizeof err);
    if (!st) {
        w->errors++;
        w->done = 1;
        return NULL;
    }
    sp_store_set_retry (st, 20000);
    for (;;) {
        sp_store_task_t *t = NULL;
        int rc = sp_store_take (st, SP_STORE_SEARCH, "rw", LEASE_MS, &t);
        if (rc == SP_STORE_EMPTY)
            break;
        if (rc != SP_STORE_OK) {
            w->errors++;
            break;
        }
        w->taken++;
        s_sleep_ms (5); /* some work, so the kill lands mid-stream */
        int pos = atoi (strrchr (t->track_key, ':') + 1);
        rc = sp_store_complete (st, t->id, t->fence, SP_STORE_DOWNLOAD, "d", 1, NULL);
        if (rc == SP_STORE_OK && pos >= 0 && pos < RESTART_TASKS)
            w->completed[pos]++;
        else if (rc == SP_STORE_ESTALE)
            w->stale++;
        else
            w->errors++;
        sp_store_task_destroy (&t);
    }
    sp_store_destroy (&st);
    w->done = 1;
    return NULL;
}

Test (store, redis_restart, .timeout = 120)
{
    s_url (); /* skip together with the rest when there is no test redis */
    char dir[] = "/tmp/sp-store-restart-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    int port = s_free_port ();
    cr_assert_gt (port, 0);
    pid_t pid = s_redis_start (dir, port);
    cr_assert_gt (pid, 0, "redis-server did not start");
    char url[128];
    snprintf (url, sizeof url, "redis://127.0.0.1:%d/0", port);

    char err[256];
    sp_store_t *st = sp_store_new (url, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    char job[SP_STORE_ID_MAX];
    s_create (st, RESTART_TASKS, 0, job);

    s_rworker_t *w = calloc (1, sizeof *w);
    cr_assert (w);
    w->url = url;
    pthread_t th;
    cr_assert_eq (pthread_create (&th, NULL, s_rworker, w), 0);
    s_sleep_ms (150);
    s_redis_kill (pid);

    /* while Redis is down, a call with a short budget fails ... */
    sp_store_set_retry (st, 300);
    double t0 = s_now_s ();
    cr_assert_eq (sp_store_ping (st), SP_STORE_EIO);
    cr_assert_lt (s_now_s () - t0, 3.0);
    s_sleep_ms (300);
    pid = s_redis_start (dir, port);
    cr_assert_gt (pid, 0, "redis-server did not restart");
    /* ... and recovers once it is back */
    sp_store_set_retry (st, 10000);
    cr_assert_eq (sp_store_ping (st), SP_STORE_OK);

    /* one more restart while the worker is busy */
    s_sleep_ms (150);
    if (!w->done) {
        s_redis_kill (pid);
        s_sleep_ms (200);
        pid = s_redis_start (dir, port);
        cr_assert_gt (pid, 0);
    }
    pthread_join (th, NULL);
    cr_assert_eq (w->errors, 0, "worker errors: %d", w->errors);
    cr_assert_eq (w->stale, 0);
    int64_t ready = -1, delayed = -1, inflight = -1;
    cr_assert_eq (sp_store_stage_counts (st, SP_STORE_DOWNLOAD, &ready, &delayed, &inflight),
                  SP_STORE_OK);
    for (int i = 0; i < RESTART_TASKS; i++)
        cr_assert_eq (w->completed[i], 1, "track %d completed %d times", i, w->completed[i]);
    cr_assert_eq (w->taken, RESTART_TASKS);
    cr_assert_eq (ready, RESTART_TASKS, "download queue: %lld", (long long) ready);
    cr_assert_eq (inflight, 0);
    s_check (st, job);
    sp_store_job_t *j = s_job (st, job);
    cr_assert_eq (j->queued, RESTART_TASKS);
    sp_store_job_destroy (&j);

    /* the same server through its unix socket */
    char uurl[PATH_MAX + 32];
    snprintf (uurl, sizeof uurl, "unix://%s/redis.sock?db=0", dir);
    sp_store_t *us = sp_store_new (uurl, err, sizeof err);
    cr_assert_not_null (us, "%s: %s", uurl, err);
    cr_assert_eq (sp_store_ping (us), SP_STORE_OK);
    j = s_job (us, job);
    cr_assert_eq (j->total, RESTART_TASKS);
    sp_store_job_destroy (&j);
    sp_store_destroy (&us);

    free (w);
    sp_store_destroy (&st);
    s_redis_kill (pid);
    char cmd[256];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq (system (cmd), 0);
}

/* ---------------------------------------------------------------- lost replies */

/*  A one-connection-at-a-time TCP proxy in front of the test Redis. When
    drop_next is set, it forwards the next request, swallows Redis's reply
    and closes the client connection: the outcome is unknown to the client,
    which must resend without doing the work twice. */
typedef struct {
    int listen_fd;
    int port;
    int upstream_port;
    volatile int drop_next;
    volatile int dropped;
    volatile int stop;
} s_proxy_t;

static int
s_connect_local (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons ((uint16_t) port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    if (fd >= 0 && connect (fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

static void *
s_proxy_run (void *arg)
{
    s_proxy_t *p = arg;
    char buf[65536];
    while (!p->stop) {
        struct pollfd lp = {.fd = p->listen_fd, .events = POLLIN};
        if (poll (&lp, 1, 50) <= 0)
            continue;
        int c = accept (p->listen_fd, NULL, NULL);
        if (c < 0)
            continue;
        int u = s_connect_local (p->upstream_port);
        if (u < 0) {
            close (c);
            continue;
        }
        bool alive = true;
        while (alive && !p->stop) {
            struct pollfd fds[2] = {{.fd = c, .events = POLLIN}, {.fd = u, .events = POLLIN}};
            if (poll (fds, 2, 50) <= 0)
                continue;
            if (fds[0].revents) {
                ssize_t n = read (c, buf, sizeof buf);
                if (n <= 0 || write (u, buf, (size_t) n) != n)
                    break;
                if (p->drop_next) {
                    /* let Redis run it, then lose the reply */
                    struct pollfd up = {.fd = u, .events = POLLIN};
                    if (poll (&up, 1, 2000) > 0 && read (u, buf, sizeof buf) > 0) {
                        p->drop_next = 0;
                        p->dropped++;
                    }
                    alive = false;
                }
            }
            if (alive && fds[1].revents) {
                ssize_t n = read (u, buf, sizeof buf);
                if (n <= 0 || write (c, buf, (size_t) n) != n)
                    break;
            }
        }
        close (c);
        close (u);
    }
    return NULL;
}

Test (store, lost_replies)
{
    sp_store_t *direct = s_open ();
    const char *url = s_url ();
    int port = 0, db = 0;
    cr_assert (sscanf (url, "redis://127.0.0.1:%d/%d", &port, &db) == 2, "%s", url);

    s_proxy_t px = {.upstream_port = port};
    px.listen_fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq (bind (px.listen_fd, (struct sockaddr *) &a, sizeof a), 0);
    cr_assert_eq (listen (px.listen_fd, 4), 0);
    cr_assert_eq (getsockname (px.listen_fd, (struct sockaddr *) &a, &alen), 0);
    px.port = ntohs (a.sin_port);
    pthread_t th;
    cr_assert_eq (pthread_create (&th, NULL, s_proxy_run, &px), 0);

    char purl[128], err[256];
    snprintf (purl, sizeof purl, "redis://127.0.0.1:%d/%d", px.port, db);
    sp_store_t *st = sp_store_new (purl, err, sizeof err);
    cr_assert_not_null (st, "%s", err);
    char job[SP_STORE_ID_MAX];
    s_create (st, 3, 0, job);

    /* take: the first reply is lost, the resend gets the same task back */
    sp_store_task_t *t = NULL;
    px.drop_next = 1;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    cr_assert_eq (px.dropped, 1, "the proxy did not drop a reply");
    cr_assert_eq (t->fence, 1);
    char want[96];
    snprintf (want, sizeof want, "%s:0:search", job);
    cr_assert_str_eq (t->id, want);
    int64_t ready = -1, inflight = -1;
    cr_assert_eq (sp_store_stage_counts (direct, SP_STORE_SEARCH, &ready, NULL, &inflight),
                  SP_STORE_OK);
    cr_assert_eq (inflight, 1, "a lost take reply must not take a second task");
    cr_assert_eq (ready, 2);

    /* complete: lost reply, the resend is recognised as already done */
    px.drop_next = 1;
    cr_assert_eq (sp_store_complete (st, t->id, t->fence, SP_STORE_NONE, NULL, 0, NULL),
                  SP_STORE_OK);
    cr_assert_eq (px.dropped, 2);
    sp_store_task_destroy (&t);
    s_check (direct, job);

    /* fail: lost reply, only one attempt is counted */
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    px.drop_next = 1;
    cr_assert_eq (sp_store_fail (st, t->id, t->fence, "503", true, MAX_ATTEMPTS, 0), SP_STORE_OK);
    cr_assert_eq (px.dropped, 3);
    sp_store_task_destroy (&t);
    s_check (direct, job);
    s_trks_t *all = s_tracks (direct, job);
    cr_assert_str_eq (all->t[1].state, "queued");
    free (all);
    /* the retried track comes back with attempt 2, not 3 */
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    sp_store_task_destroy (&t);
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", LEASE_MS, &t), SP_STORE_OK);
    cr_assert_eq (t->attempt, 2);
    sp_store_task_destroy (&t);

    sp_store_job_t *j = s_job (direct, job);
    cr_assert_eq (j->done, 1);
    cr_assert_eq (j->queued, 2);
    sp_store_job_destroy (&j);
    s_check (direct, job);

    sp_store_destroy (&st);
    px.stop = 1;
    pthread_join (th, NULL);
    close (px.listen_fd);
    sp_store_destroy (&direct);
}

/*  The coordination calls through the same reply-dropping proxy: a won
    rescan claim whose reply is lost is still won when resent, and a lock
    acquisition whose reply is lost still gets the lock (same token), not a
    wait for itself. */
Test (store, lost_replies_coord)
{
    sp_store_t *direct = s_open ();
    const char *url = s_url ();
    int port = 0, db = 0;
    cr_assert (sscanf (url, "redis://127.0.0.1:%d/%d", &port, &db) == 2, "%s", url);
    s_proxy_t px = {.upstream_port = port};
    px.listen_fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq (bind (px.listen_fd, (struct sockaddr *) &a, sizeof a), 0);
    cr_assert_eq (listen (px.listen_fd, 4), 0);
    cr_assert_eq (getsockname (px.listen_fd, (struct sockaddr *) &a, &alen), 0);
    px.port = ntohs (a.sin_port);
    pthread_t th;
    cr_assert_eq (pthread_create (&th, NULL, s_proxy_run, &px), 0);
    char purl[128], err[256];
    snprintf (purl, sizeof purl, "redis://127.0.0.1:%d/%d", px.port, db);
    sp_store_t *st = sp_store_new (purl, err, sizeof err);
    cr_assert_not_null (st, "%s", err);

    px.drop_next = 1;
    cr_assert_eq (sp_store_job_claim_rescan (st, "j-lost", 1), SP_STORE_OK);
    cr_assert_eq (px.dropped, 1, "the proxy did not drop a reply");
    cr_expect_eq (sp_store_job_claim_rescan (direct, "j-lost", 1), SP_STORE_EMPTY);

    sp_store_lock_t lock;
    px.drop_next = 1;
    cr_assert_eq (sp_store_lock_acquire (st, "playlist:lost", 30000, 0, &lock), SP_STORE_OK);
    cr_assert_eq (px.dropped, 2);
    cr_expect_eq (lock.fence, 1, "one acquisition counted");
    sp_store_lock_t other;
    cr_expect_eq (sp_store_lock_acquire (direct, "playlist:lost", 30000, 0, &other),
                  SP_STORE_EMPTY);
    cr_expect_eq (sp_store_lock_release (st, &lock), SP_STORE_OK);

    sp_store_destroy (&st);
    px.stop = 1;
    pthread_join (th, NULL);
    close (px.listen_fd);
    sp_store_destroy (&direct);
}
