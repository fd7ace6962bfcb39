/*  test_store_coord.c: what the store coordinates between processes,
    against a real redis-server (SOULPIPE_TEST_REDIS_URL, FLUSHDB first):
    the job-endings queue (pop, ack, recover, malformed entries), the
    once-per-ending rescan claim, named locks with token and fence, and the
    saved Spotify login. The lost-reply cases are in test_store.c (its
    proxy), store/lost_replies_coord.
*/
#include "soulpipe/store.h"

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sp_store_t *
s_open (void)
{
    const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
    if (!url || !*url)
        cr_skip_test ("SOULPIPE_TEST_REDIS_URL not set");
    char err[256];
    sp_store_t *st = sp_store_new (url, err, sizeof err);
    cr_assert_not_null (st, "sp_store_new: %s", err);
    const char *argv[] = {"FLUSHDB"};
    redisReply *r = NULL;
    cr_assert_eq (sp_store_command (st, 1, argv, NULL, &r), SP_STORE_OK);
    freeReplyObject (r);
    return st;
}

//  A raw command whose reply is an integer (LLEN, PTTL, RPUSH...).
static long long
s_int (sp_store_t *st, int argc, const char **argv)
{
    redisReply *r = NULL;
    cr_assert_eq (sp_store_command (st, argc, argv, NULL, &r), SP_STORE_OK);
    cr_assert_eq (r->type, REDIS_REPLY_INTEGER, "reply type %d", r->type);
    long long n = r->integer;
    freeReplyObject (r);
    return n;
}

static long long
s_llen (sp_store_t *st, const char *key)
{
    const char *argv[] = {"LLEN", key};
    return s_int (st, 2, argv);
}

//  A one-track job whose track fails for good: the job ends (done).
static void
s_job_that_ends (sp_store_t *st, char job[SP_STORE_ID_MAX])
{
    sp_store_job_spec_t spec = {.source = "x", .name = "List"};
    sp_store_track_spec_t t = {.title = "Song", .artists = "A", .payload = "p", .payload_len = 1};
    cr_assert_eq (sp_store_job_create (st, &spec, &t, 1, job), SP_STORE_OK);
    sp_store_task_t *task = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_store_fail (st, task->id, task->fence, "no results", false, 3, 0),
                  SP_STORE_OK);
    sp_store_task_destroy (&task);
}

/* ---------------------------------------------------------------- job endings */

Test (store, finished_pop_ack_recover)
{
    sp_store_t *st = s_open ();
    sp_store_ending_t e;
    cr_assert_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_EMPTY);
    char job[SP_STORE_ID_MAX];
    s_job_that_ends (st, job);

    //  The ending the script announced: taken, kept on the finishing list
    //  until acknowledged.
    cr_assert_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_OK);
    cr_expect_str_eq (e.job_id, job);
    cr_expect_eq (e.ending, 1);
    cr_expect_eq (s_llen (st, "soulpipe:finished"), 0);
    cr_expect_eq (s_llen (st, "soulpipe:finishing"), 1);
    cr_expect_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_EMPTY, "taken once");

    //  A finisher that died with it: recover puts it back, and it is taken
    //  again with the same content.
    int n = -1;
    cr_assert_eq (sp_store_finished_recover (st, &n), SP_STORE_OK);
    cr_expect_eq (n, 1);
    cr_expect_eq (s_llen (st, "soulpipe:finishing"), 0);
    sp_store_ending_t again;
    cr_assert_eq (sp_store_finished_pop (st, 0, &again), SP_STORE_OK);
    cr_expect_str_eq (again.job_id, job);
    cr_expect_eq (again.ending, 1);
    cr_assert_eq (sp_store_finished_ack (st, &again), SP_STORE_OK);
    cr_expect_eq (s_llen (st, "soulpipe:finishing"), 0, "acknowledged");
    cr_expect_eq (sp_store_finished_ack (st, &again), SP_STORE_OK, "a repeat ack is harmless");

    //  A retried job that ends again is a second ending.
    int count = 0;
    cr_assert_eq (sp_store_retry_job (st, job, &count), SP_STORE_OK);
    cr_assert_eq (count, 1);
    sp_store_task_t *task = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_store_fail (st, task->id, task->fence, "no results", false, 1, 0),
                  SP_STORE_OK);
    sp_store_task_destroy (&task);
    cr_assert_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_OK);
    cr_expect_str_eq (e.job_id, job);
    cr_expect_eq (e.ending, 2);
    cr_assert_eq (sp_store_finished_ack (st, &e), SP_STORE_OK);

    //  Recover keeps the order: oldest taken entry first.
    const char *push[] = {"RPUSH", "soulpipe:finishing", "j-a 1", "j-b 1"};
    cr_assert_eq (s_int (st, 4, push), 2);
    cr_assert_eq (sp_store_finished_recover (st, &n), SP_STORE_OK);
    cr_expect_eq (n, 2);
    cr_assert_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_OK);
    cr_expect_str_eq (e.job_id, "j-a");
    cr_assert_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_OK);
    cr_expect_str_eq (e.job_id, "j-b");
    sp_store_destroy (&st);
}

Test (store, finished_pop_waits_and_drops_malformed)
{
    sp_store_t *st = s_open ();
    sp_store_ending_t e;
    //  Waiting: an empty queue answers after about wait_ms.
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    cr_assert_eq (sp_store_finished_pop (st, 300, &e), SP_STORE_EMPTY);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    cr_expect_geq (ms, 250, "returned after %ld ms", ms);
    cr_expect_lt (ms, 3000, "returned after %ld ms", ms);

    //  Entries the store never writes: no job named, dropped from both lists.
    const char *bad[] = {"RPUSH", "soulpipe:finished", "garbage", "j-x 0", "j-x 1x",
                         " 1",    "j x y 2",           "j-ok 3"};
    cr_assert_eq (s_int (st, 8, bad), 6);
    for (int i = 0; i < 5; i++) {
        cr_expect_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_ENOENT, "entry %d", i);
        cr_expect_str_eq (e.job_id, "");
    }
    cr_expect_eq (s_llen (st, "soulpipe:finishing"), 0, "malformed entries are dropped");
    cr_assert_eq (sp_store_finished_pop (st, 0, &e), SP_STORE_OK);
    cr_expect_str_eq (e.job_id, "j-ok");
    cr_expect_eq (e.ending, 3);
    cr_expect_eq (sp_store_finished_pop (NULL, 0, &e), SP_STORE_EINVAL);
    cr_expect_eq (sp_store_finished_pop (st, -1, &e), SP_STORE_EINVAL);
    sp_store_destroy (&st);
}

/* ---------------------------------------------------------------- rescan claim */

Test (store, claim_rescan_once_per_ending)
{
    sp_store_t *st = s_open ();
    char err[256];
    sp_store_t *other = sp_store_new (getenv ("SOULPIPE_TEST_REDIS_URL"), err, sizeof err);
    cr_assert_not_null (other, "%s", err);
    cr_expect_eq (sp_store_job_claim_rescan (st, "j-1", 1), SP_STORE_OK);
    cr_expect_eq (sp_store_job_claim_rescan (st, "j-1", 1), SP_STORE_EMPTY, "same caller again");
    cr_expect_eq (sp_store_job_claim_rescan (other, "j-1", 1), SP_STORE_EMPTY, "another process");
    cr_expect_eq (sp_store_job_claim_rescan (other, "j-1", 2), SP_STORE_OK, "a new ending");
    cr_expect_eq (sp_store_job_claim_rescan (st, "j-2", 1), SP_STORE_OK, "another job");
    //  Kept 30 days, not forever.
    const char *ttl[] = {"TTL", "soulpipe:job:j-1:rescanned:1"};
    long long s = s_int (st, 2, ttl);
    cr_expect (s > 2592000 - 60 && s <= 2592000, "ttl %lld", s);
    cr_expect_eq (sp_store_job_claim_rescan (st, "j-1", 0), SP_STORE_EINVAL);
    cr_expect_eq (sp_store_job_claim_rescan (st, "bad id", 1), SP_STORE_EINVAL);
    sp_store_destroy (&other);
    sp_store_destroy (&st);
}

/* ---------------------------------------------------------------- locks */

Test (store, lock_token_fence_and_lease)
{
    sp_store_t *a = s_open ();
    char err[256];
    sp_store_t *b = sp_store_new (getenv ("SOULPIPE_TEST_REDIS_URL"), err, sizeof err);
    cr_assert_not_null (b, "%s", err);
    const char *name = "playlist:My List é";

    sp_store_lock_t la, lb;
    cr_assert_eq (sp_store_lock_acquire (a, name, 30000, 0, &la), SP_STORE_OK);
    cr_expect_eq (la.fence, 1);
    cr_expect_str_eq (la.name, name);
    cr_expect_neq (la.token[0], '\0');
    //  Held: another holder waits its wait_ms, then gets EMPTY.
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    cr_expect_eq (sp_store_lock_acquire (b, name, 30000, 200, &lb), SP_STORE_EMPTY);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    cr_expect_geq (ms, 190, "gave up after %ld ms", ms);
    cr_expect_eq (lb.token[0], '\0', "nothing filled in on EMPTY");
    //  Another name is another lock.
    sp_store_lock_t lo;
    cr_expect_eq (sp_store_lock_acquire (b, "playlist:other", 30000, 0, &lo), SP_STORE_OK);
    cr_expect_eq (sp_store_lock_release (b, &lo), SP_STORE_OK);

    //  Release frees it for the next holder, whose fence is higher.
    cr_assert_eq (sp_store_lock_extend (a, &la, 30000), SP_STORE_OK);
    cr_assert_eq (sp_store_lock_release (a, &la), SP_STORE_OK);
    cr_expect_eq (sp_store_lock_release (a, &la), SP_STORE_ESTALE, "released already");
    cr_assert_eq (sp_store_lock_acquire (b, name, 30000, 0, &lb), SP_STORE_OK);
    cr_expect_eq (lb.fence, 2);

    //  A lease that runs out: the next holder gets it, and the old holder
    //  can neither extend nor release it any more.
    cr_assert_eq (sp_store_lock_release (b, &lb), SP_STORE_OK);
    cr_assert_eq (sp_store_lock_acquire (a, name, 100, 0, &la), SP_STORE_OK);
    cr_assert_eq (sp_store_lock_acquire (b, name, 30000, 2000, &lb), SP_STORE_OK,
                  "taken after the first lease ran out");
    cr_expect_gt (lb.fence, la.fence);
    cr_expect_eq (sp_store_lock_extend (a, &la, 30000), SP_STORE_ESTALE);
    cr_expect_eq (sp_store_lock_release (a, &la), SP_STORE_ESTALE);
    cr_expect_eq (sp_store_lock_extend (b, &lb, 30000), SP_STORE_OK, "b still holds it");
    //  extend renews the lease
    const char *pttl[] = {"PTTL", "soulpipe:lock:playlist:My List é"};
    long long left = s_int (a, 2, pttl);
    cr_expect (left > 25000 && left <= 30000, "pttl %lld", left);
    cr_expect_eq (sp_store_lock_release (b, &lb), SP_STORE_OK);
    cr_expect_eq (s_int (a, 2, pttl), -2, "released: the key is gone");

    cr_expect_eq (sp_store_lock_acquire (a, "", 1000, 0, &la), SP_STORE_EINVAL);
    cr_expect_eq (sp_store_lock_acquire (a, name, 0, 0, &la), SP_STORE_EINVAL);
    char longname[SP_STORE_LOCK_NAME_MAX + 1];
    memset (longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_expect_eq (sp_store_lock_acquire (a, longname, 1000, 0, &la), SP_STORE_EINVAL);
    sp_store_destroy (&b);
    sp_store_destroy (&a);
}

/* ---------------------------------------------------------------- Spotify login */

Test (store, spotify_auth_get_put)
{
    sp_store_t *st = s_open ();
    sp_store_spotify_auth_t a;
    cr_assert_eq (sp_store_spotify_auth_get (st, &a), SP_STORE_OK);
    cr_expect_null (a.refresh_token, "no login saved");
    cr_expect_null (a.access_token);
    cr_expect_eq (a.expires_at_ms, 0);

    cr_assert_eq (sp_store_spotify_auth_put (st, "R1", "A1", 1700000000123LL, "scope-a"),
                  SP_STORE_OK);
    cr_assert_eq (sp_store_spotify_auth_get (st, &a), SP_STORE_OK);
    cr_expect_str_eq (a.refresh_token, "R1");
    cr_expect_str_eq (a.access_token, "A1");
    cr_expect_eq (a.expires_at_ms, 1700000000123LL);
    sp_store_spotify_auth_clear (&a);
    cr_expect_null (a.refresh_token);

    //  A refresh without rotation keeps the refresh token and the scope.
    cr_assert_eq (sp_store_spotify_auth_put (st, NULL, "A2", 1700000009999LL, NULL), SP_STORE_OK);
    cr_assert_eq (sp_store_spotify_auth_get (st, &a), SP_STORE_OK);
    cr_expect_str_eq (a.refresh_token, "R1");
    cr_expect_str_eq (a.access_token, "A2");
    cr_expect_eq (a.expires_at_ms, 1700000009999LL);
    sp_store_spotify_auth_clear (&a);
    const char *scope[] = {"HGET", "soulpipe:spotify:auth", "scope"};
    redisReply *r = NULL;
    cr_assert_eq (sp_store_command (st, 3, scope, NULL, &r), SP_STORE_OK);
    cr_assert_eq (r->type, REDIS_REPLY_STRING);
    cr_expect_str_eq (r->str, "scope-a");
    freeReplyObject (r);
    const char *upd[] = {"HGET", "soulpipe:spotify:auth", "updated_ms"};
    cr_assert_eq (sp_store_command (st, 3, upd, NULL, &r), SP_STORE_OK);
    cr_expect (r->type == REDIS_REPLY_STRING && atoll (r->str) > 1700000000000LL);
    freeReplyObject (r);

    cr_expect_eq (sp_store_spotify_auth_get (NULL, &a), SP_STORE_EINVAL);
    cr_expect_eq (sp_store_spotify_auth_put (NULL, "R", "A", 0, NULL), SP_STORE_EINVAL);
    sp_store_spotify_auth_clear (NULL);
    sp_store_destroy (&st);
}
