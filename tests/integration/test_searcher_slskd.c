/*  test_searcher_slskd.c: sp_slskd_search / sp_slskd_logged_in against
    soulpipe-fake's slskd, checked through the fake's /_fake/stats counters:

    - responses are read once, only after the search completed (the fake
      answers [] before), and every search is DELETEd afterwards;
    - a search POST that meets another one in flight (429) is retried and
      succeeds; searches from threads of one process never collide;
    - a logged-out slskd: sp_slskd_logged_in says so, and a search POST
      (409) is a retryable failure with a reason naming the login;
    - the stop callback and "enough users answered" both cancel with PUT,
      and the search is still deleted;
    - slskd storing the responses after it says isComplete (the fake's
      responses_lag_ms): /responses is read again with a back-off until it
      has responseCount entries, at most SP_SLSKD_RESPONSES_WAIT_MS. */
#include "../../services/searcher/slskd_search.h"
#include "test_fake_util.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API_KEY "slskd-test-key-0123456789"

static fk_t s_fk;

static void
s_teardown (void)
{
    fk_stop (&s_fk);
}

/*  A network of nusers users, each sharing "Artist\Album\01 - Song.flac";
    net_extra is spliced into the top-level object. */
static void
s_start (int nusers, const char *net_extra)
{
    fk_init (&s_fk);
    fk_write (&s_fk, "slskd/api-key", API_KEY "\n");
    size_t cap = 1024 + (size_t) nusers * 256;
    char *net = malloc (cap);
    int n = snprintf (net, cap, "{%s\"users\":[", net_extra ? net_extra : "");
    for (int u = 0; u < nusers; u++)
        n += snprintf (net + n, cap - (size_t) n,
                       "%s{\"username\":\"user%02d\",\"files\":[{\"filename\":"
                       "\"@@u%d\\\\Music\\\\Artist\\\\Album\\\\01 - Song.flac\",\"size\":300000,"
                       "\"length\":60}]}",
                       u ? "," : "", u, u);
    snprintf (net + n, cap - (size_t) n, "]}");
    fk_write (&s_fk, "slskd/network.json", net);
    free (net);
    cr_assert_eq (fk_start (&s_fk, NULL), 0, "the fake did not start");
}

static sp_http_t *
s_client (void)
{
    sp_http_t *http = sp_slskd_client_new (s_fk.base, API_KEY);
    cr_assert_not_null (http);
    return http;
}

/*  Requests seen by the fake whose "METHOD path" starts with prefix and
    (when suffix is not NULL) ends with suffix. */
static long long
s_requests (json_t *stats, const char *prefix, const char *suffix)
{
    long long total = 0;
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get (stats, "requests"), key, v)
    {
        size_t kl = strlen (key);
        if (strncmp (key, prefix, strlen (prefix)) != 0)
            continue;
        if (suffix && (kl < strlen (suffix) || strcmp (key + kl - strlen (suffix), suffix) != 0))
            continue;
        total += (long long) json_integer_value (v);
    }
    return total;
}

static long long
s_slskd_stat (json_t *stats, const char *name)
{
    return (long long) json_integer_value (
        json_object_get (json_object_get (stats, "slskd"), name));
}

Test (searcher_slskd, responses_after_completion_then_delete, .fini = s_teardown, .timeout = 30)
{
    s_start (3, "\"search_delay_ms\":200,");
    sp_http_t *http = s_client ();
    json_t *responses = NULL;
    char err[256];
    double t0 = fk_now_s ();
    int rc = sp_slskd_search (http, "artist song", 700, NULL, NULL, &responses, err, sizeof err);
    double took = fk_now_s () - t0;
    cr_assert_eq (rc, SP_SLSKD_OK, "%s", err);
    cr_assert_eq (json_array_size (responses), 3, "every user's response, read after completion");
    //  the fake completes searchTimeout after the last response (~0.9 s)
    cr_assert_geq (took, 0.85, "returned before the search completed (%.2f s)", took);
    json_t *st = fk_stats (&s_fk);
    cr_assert_eq (s_slskd_stat (st, "searches_started"), 1);
    cr_assert_eq (s_requests (st, "POST /api/v0/searches", NULL), 1);
    cr_assert_eq (s_requests (st, "GET /api/v0/searches/", "/responses"), 1, "responses read once");
    cr_assert_geq (s_requests (st, "GET /api/v0/searches/", NULL), 3, "polled before completion");
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 1, "the search is deleted");
    cr_assert_eq (s_requests (st, "PUT /api/v0/searches/", NULL), 0, "nothing to cancel");
    json_decref (st);
    json_decref (responses);

    //  a search nobody answers: empty array, still deleted
    rc = sp_slskd_search (http, "nothing matches this", 300, NULL, NULL, &responses, err,
                          sizeof err);
    cr_assert_eq (rc, SP_SLSKD_OK, "%s", err);
    cr_assert (json_is_array (responses) && json_array_size (responses) == 0);
    json_decref (responses);
    st = fk_stats (&s_fk);
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 2);
    json_decref (st);
    sp_http_destroy (&http);
}

typedef struct {
    sp_http_t *http;
    int rc;
    size_t responses;
    char err[256];
} s_job_t;

static void *
s_search_thread (void *arg)
{
    s_job_t *j = arg;
    json_t *r = NULL;
    j->rc = sp_slskd_search (j->http, "artist song", 400, NULL, NULL, &r, j->err, sizeof j->err);
    j->responses = json_array_size (r);
    json_decref (r);
    return NULL;
}

static void *
s_foreign_post (void *arg)
{
    (void) arg;
    static const char *hdrs[] = {"X-API-Key: " API_KEY, "Content-Type: application/json", NULL};
    fk_resp_t r;
    fk_http (&s_fk, "POST", "/api/v0/searches", hdrs,
             "{\"id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"searchText\":\"artist\","
             "\"searchTimeout\":300}",
             &r);
    fk_resp_free (&r);
    return NULL;
}

Test (searcher_slskd, busy_post_429_is_retried, .fini = s_teardown, .timeout = 30)
{
    //  every search POST is "being handled" for 600 ms: another one meanwhile gets 429
    s_start (2, "\"search_delay_ms\":100,\"search_post_ms\":600,");
    //  another process' POST is in flight when ours arrives
    pthread_t other;
    pthread_create (&other, NULL, s_foreign_post, NULL);
    fk_sleep_ms (150);
    s_job_t j = {.http = s_client ()};
    s_search_thread (&j);
    pthread_join (other, NULL);
    cr_assert_eq (j.rc, SP_SLSKD_OK, "%s", j.err);
    cr_assert_eq (j.responses, 2);
    json_t *st = fk_stats (&s_fk);
    cr_assert_geq (s_slskd_stat (st, "searches_rejected_busy"), 1,
                   "our POST met the other one (429)");
    cr_assert_eq (s_slskd_stat (st, "searches_started"), 2, "and was retried until it started");
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 1);
    json_decref (st);
    sp_http_destroy (&j.http);
}

Test (searcher_slskd, threads_of_one_process_never_collide, .fini = s_teardown, .timeout = 30)
{
    s_start (2, "\"search_delay_ms\":100,\"search_post_ms\":300,");
    s_job_t j[3];
    pthread_t th[3];
    memset (j, 0, sizeof j);
    for (int i = 0; i < 3; i++) {
        j[i].http = s_client ();
        pthread_create (&th[i], NULL, s_search_thread, &j[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join (th[i], NULL);
        cr_assert_eq (j[i].rc, SP_SLSKD_OK, "%s", j[i].err);
        cr_assert_eq (j[i].responses, 2);
        sp_http_destroy (&j[i].http);
    }
    json_t *st = fk_stats (&s_fk);
    cr_assert_eq (s_slskd_stat (st, "searches_started"), 3);
    cr_assert_eq (s_slskd_stat (st, "searches_rejected_busy"), 0,
                  "POSTs are serialized in-process");
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 3);
    json_decref (st);
}

Test (searcher_slskd, logged_out_is_retryable_with_reason, .fini = s_teardown, .timeout = 30)
{
    s_start (1, "\"logged_in\":false,");
    sp_http_t *http = s_client ();
    char err[256] = "";
    cr_assert_eq (sp_slskd_logged_in (http, err, sizeof err), 0);
    cr_assert (strstr (err, "not logged in"), "reason: %s", err);
    json_t *responses = NULL;
    err[0] = 0;
    int rc = sp_slskd_search (http, "artist song", 500, NULL, NULL, &responses, err, sizeof err);
    cr_assert_eq (rc, SP_SLSKD_ERR_RETRY, "409 is retryable (got %d: %s)", rc, err);
    cr_assert_null (responses);
    cr_assert (strstr (err, "not logged in"), "reason names the login: %s", err);
    json_t *st = fk_stats (&s_fk);
    cr_assert_eq (s_slskd_stat (st, "searches_started"), 0);
    cr_assert_eq (s_requests (st, "POST /api/v0/searches", NULL), 1, "a 409 is not hammered");
    json_decref (st);
    sp_http_destroy (&http);

    //  a wrong API key: retryable too (the user can fix the key), reason given
    http = sp_slskd_client_new (s_fk.base, "wrong-key");
    rc = sp_slskd_logged_in (http, err, sizeof err);
    cr_assert_eq (rc, SP_SLSKD_ERR_RETRY, "got %d: %s", rc, err);
    cr_assert_neq (err[0], 0);
    sp_http_destroy (&http);
}

static bool
s_stop_now (void *arg)
{
    int *calls = arg;
    (*calls)++;
    return true;
}

Test (searcher_slskd, stop_cancels_with_put_and_deletes, .fini = s_teardown, .timeout = 30)
{
    s_start (2, "\"search_delay_ms\":100,");
    sp_http_t *http = s_client ();
    json_t *responses = NULL;
    char err[256];
    int calls = 0;
    int rc = sp_slskd_search (http, "artist song", 10000, s_stop_now, &calls, &responses, err,
                              sizeof err);
    cr_assert_eq (rc, SP_SLSKD_ERR_STOPPED, "%d %s", rc, err);
    cr_assert_eq (calls, 1);
    cr_assert_null (responses);
    json_t *st = fk_stats (&s_fk);
    cr_assert_eq (s_requests (st, "PUT /api/v0/searches/", NULL), 1, "cancelled with PUT");
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 1, "and deleted");
    cr_assert_eq (s_requests (st, "GET /api/v0/searches/", "/responses"), 0);
    json_decref (st);
    sp_http_destroy (&http);
}

Test (searcher_slskd, enough_users_cancel_early, .fini = s_teardown, .timeout = 30)
{
    //  70 users answer within 0.1 s; the search itself would run 20 s
    s_start (70, "\"search_delay_ms\":100,");
    sp_http_t *http = s_client ();
    json_t *responses = NULL;
    char err[256];
    double t0 = fk_now_s ();
    int rc = sp_slskd_search (http, "artist song", 20000, NULL, NULL, &responses, err, sizeof err);
    double took = fk_now_s () - t0;
    cr_assert_eq (rc, SP_SLSKD_OK, "%s", err);
    cr_assert_eq (json_array_size (responses), 70, "the responses of a cancelled search are kept");
    cr_assert_lt (took, 5.0, "cancelled early (%.2f s)", took);
    cr_assert_geq (took, SP_SLSKD_EARLY_MIN_MS / 1000.0 - 0.05, "but not before %d ms",
                   SP_SLSKD_EARLY_MIN_MS);
    json_t *st = fk_stats (&s_fk);
    cr_assert_eq (s_requests (st, "PUT /api/v0/searches/", NULL), 1);
    cr_assert_eq (s_requests (st, "GET /api/v0/searches/", "/responses"), 1);
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 1);
    json_decref (st);
    json_decref (responses);
    sp_http_destroy (&http);
}

Test (searcher_slskd, responses_lag_after_completion_is_waited_for, .fini = s_teardown,
      .timeout = 30)
{
    //  slskd says isComplete (and the final responseCount) before it has
    //  stored the responses: /responses is [] for 1.5 s after completion
    s_start (3, "\"search_delay_ms\":200,\"responses_lag_ms\":1500,");
    sp_http_t *http = s_client ();
    json_t *responses = NULL;
    char err[256];
    double t0 = fk_now_s ();
    int rc = sp_slskd_search (http, "artist song", 300, NULL, NULL, &responses, err, sizeof err);
    double took = fk_now_s () - t0;
    cr_assert_eq (rc, SP_SLSKD_OK, "%s", err);
    cr_assert_eq (json_array_size (responses), 3, "every user's response, once slskd stored them");
    for (size_t i = 0; i < json_array_size (responses); i++)
        cr_assert_eq (json_array_size (json_object_get (json_array_get (responses, i), "files")), 1,
                      "the response carries its file (a candidate)");
    //  complete at ~0.5 s, stored at ~2.0 s
    cr_assert_geq (took, 1.9, "returned before the responses were stored (%.2f s)", took);
    cr_assert_lt (took, 5.0, "re-read soon after they were stored (%.2f s)", took);
    json_t *st = fk_stats (&s_fk);
    cr_assert_geq (s_requests (st, "GET /api/v0/searches/", "/responses"), 2,
                   "the empty responses were read again");
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 1, "the search is deleted");
    json_decref (st);
    json_decref (responses);
    sp_http_destroy (&http);
}

Test (searcher_slskd, responses_lag_wait_is_bounded, .fini = s_teardown, .timeout = 40)
{
    //  responses never show up in time: after SP_SLSKD_RESPONSES_WAIT_MS
    //  the search returns what is there (nothing) instead of waiting on
    s_start (2, "\"search_delay_ms\":100,\"responses_lag_ms\":60000,");
    sp_http_t *http = s_client ();
    json_t *responses = NULL;
    char err[256];
    double t0 = fk_now_s ();
    int rc = sp_slskd_search (http, "artist song", 200, NULL, NULL, &responses, err, sizeof err);
    double took = fk_now_s () - t0;
    cr_assert_eq (rc, SP_SLSKD_OK, "%s", err);
    cr_assert (json_is_array (responses) && json_array_size (responses) == 0);
    cr_assert_geq (took, SP_SLSKD_RESPONSES_WAIT_MS / 1000.0, "waited (%.2f s)", took);
    cr_assert_lt (took, SP_SLSKD_RESPONSES_WAIT_MS / 1000.0 + 3.0, "but not longer (%.2f s)", took);
    json_t *st = fk_stats (&s_fk);
    long long reads = s_requests (st, "GET /api/v0/searches/", "/responses");
    //  100, 200, 400, 800 ms, then every second: about 14 reads in 10 s
    cr_assert (reads >= 8 && reads <= 20, "re-read with a back-off (%lld reads)", reads);
    cr_assert_eq (s_requests (st, "DELETE /api/v0/searches/", NULL), 1, "the search is deleted");
    json_decref (st);
    json_decref (responses);
    sp_http_destroy (&http);
}
