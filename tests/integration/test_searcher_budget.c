/*  test_searcher_budget.c: three searchers (threads, each with its own Redis
    connection, as separate processes would have) share one search budget
    of 5 searches per 3 s: in no window of 3 s are there more than 5 grants,
    and the budget is actually used up (the test can fail both ways). */
#include "harness.h"
#include "soulpipe/budget.h"
#include "soulpipe/peers.h"
#include "soulpipe/store.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUDGET_N   5
#define BUDGET_S   3
#define RUN_MS     7000
#define MAX_GRANTS 256

typedef struct {
    const char *url;
    pthread_mutex_t lock;
    int64_t grants[MAX_GRANTS];
    size_t n;
    int errors;
    long long stop_at;
} s_shared_t;

static bool
s_tick (void *arg, int64_t wait_ms)
{
    (void) wait_ms;
    s_shared_t *s = arg;
    return sp_test_now_ms () < s->stop_at;
}

static void *
s_searcher (void *arg)
{
    s_shared_t *s = arg;
    char err[256];
    sp_store_t *store = sp_store_new (s->url, err, sizeof err);
    sp_budget_t *b =
        store ? sp_budget_new (store, BUDGET_N, BUDGET_S, "soulpipe:test:budget") : NULL;
    while (b && sp_test_now_ms () < s->stop_at) {
        int64_t at = 0;
        int rc = sp_budget_acquire (b, s_tick, s, &at);
        pthread_mutex_lock (&s->lock);
        if (rc == 0 && s->n < MAX_GRANTS)
            s->grants[s->n++] = at;
        else if (rc < 0)
            s->errors++;
        pthread_mutex_unlock (&s->lock);
    }
    if (!b)
        s->errors++;
    sp_budget_destroy (&b);
    sp_store_destroy (&store);
    return NULL;
}

static int
s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

Test (searcher_budget, three_searchers_never_exceed_budget, .timeout = 30)
{
    sp_test_t t;
    sp_test_init (&t, false);
    s_shared_t *s = calloc (1, sizeof *s);
    s->url = t.redis_url;
    pthread_mutex_init (&s->lock, NULL);
    s->stop_at = sp_test_now_ms () + RUN_MS;
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create (&th[i], NULL, s_searcher, s);
    for (int i = 0; i < 3; i++)
        pthread_join (th[i], NULL);
    cr_assert_eq (s->errors, 0);
    qsort (s->grants, s->n, sizeof s->grants[0], s_cmp);
    for (size_t i = 0; getenv ("SP_DEBUG") && i < s->n; i++)
        fprintf (stderr, "grant %lld\n", (long long) (s->grants[i] - s->grants[0]));
    //  any BUDGET_N + 1 consecutive grants span at least the window
    for (size_t i = 0; i + BUDGET_N < s->n; i++)
        cr_assert_geq (s->grants[i + BUDGET_N] - s->grants[i], BUDGET_S * 1000,
                       "grants %zu and %zu only %lld ms apart", i, i + BUDGET_N,
                       (long long) (s->grants[i + BUDGET_N] - s->grants[i]));
    //  7 s with 5 per 3 s: 3 full windows are started (5 + 5 + 5)
    cr_assert_geq (s->n, 2 * BUDGET_N + 1, "only %zu grants: the budget was not used", s->n);
    cr_assert_leq (s->n, 3 * BUDGET_N);
    free (s);
    sp_test_fini (&t);
}

Test (searcher_budget, try_reports_wait)
{
    sp_test_t t;
    sp_test_init (&t, false);
    sp_budget_t *b = sp_budget_new (t.store, 2, 60, "soulpipe:test:budget2");
    int64_t wait = 0, at = 0;
    cr_assert_eq (sp_budget_try (b, &wait, &at), 1);
    cr_assert_eq (sp_budget_try (b, &wait, &at), 1);
    cr_assert_eq (sp_budget_try (b, &wait, &at), 0);
    cr_assert_gt (wait, 59000);
    cr_assert_leq (wait, 60001);
    cr_assert_null (sp_budget_new (t.store, 0, 60, NULL));
    sp_budget_destroy (&b);
    sp_test_fini (&t);
}

Test (searcher_budget, peer_records)
{
    sp_test_t t;
    sp_test_init (&t, false);
    sp_peer_t p;
    cr_assert_eq (sp_peers_get (t.store, "nobody", &p), 0);
    cr_assert (!p.known);
    cr_assert_eq (sp_peers_record (t.store, "bob", SP_PEER_OK, 1000000), 0);
    cr_assert_eq (sp_peers_record (t.store, "bob", SP_PEER_OK, 2000000), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_eq (sp_peers_record (t.store, "eve", SP_PEER_STALLED, 0), 0);
    const char *names[] = {"bob", "eve", "nobody"};
    sp_peer_t recs[3];
    cr_assert_eq (sp_peers_get_many (t.store, names, 3, recs), 0);
    cr_assert (recs[0].known);
    cr_assert_eq (recs[0].ok, 2);
    cr_assert_eq (recs[0].speed, 1250000);
    cr_assert_eq (recs[1].streak, 3);
    cr_assert (sp_peers_blocked (&recs[1], recs[1].last_fail_ms + 1000));
    cr_assert (!sp_peers_blocked (&recs[0], recs[1].last_fail_ms + 1000));
    cr_assert (!recs[2].known);
    cr_assert_eq (sp_peers_record (t.store, "eve", SP_PEER_OK, 0), 0);
    cr_assert_eq (sp_peers_get (t.store, "eve", &p), 0);
    cr_assert_eq (p.streak, 0);
    sp_test_fini (&t);
}
