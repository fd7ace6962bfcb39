/*  test_fake_slskd.c: soulpipe-fake's slskd side and simulated Soulseek
    network: API key, server state, search life cycle (Requested ->
    InProgress -> Completed, TimedOut; responses empty until complete),
    matching (every word, case-insensitive, no diacritic folding), cancel and
    delete, 429 on concurrent search POSTs and enqueues, 409 when logged out,
    and each transfer behaviour (ok, slow, stall, queued, reject, error,
    offline, corrupt) with the files written into --downloads.
*/
#include "test_fake_util.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <taglib/tag_c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static fk_t s_fk;

static void
s_teardown (void)
{
    fk_stop (&s_fk);
}

#define KEY_HDR "X-API-Key: slskd-test-key-0123456789"
#define SONG    "@@music\\\\Artist\\\\2001 - Album\\\\01 - Song.flac"  //  JSON-escaped

static const char *s_hdrs[] = {KEY_HDR, "Content-Type: application/json", NULL};

static const char *s_users[] = {"good",    "slowpoke", "staller", "staller2", "waiter",
                                "refuser", "broken",   "ghost",   "zero",     "busy"};
static const char *s_behaviors[] = {"ok",     "slow",  "stall",   "stall",   "queued",
                                    "reject", "error", "offline", "corrupt", "ok"};
#define NUSERS 10

static void
s_start (const char *net_extra, const char *const *args)
{
    fk_init (&s_fk);
    fk_write (&s_fk, "slskd/api-key", "slskd-test-key-0123456789\n");
    char net[16384];
    int n = snprintf (net, sizeof net,
                      "{\"logged_in\":true,\"search_delay_ms\":100,\"transfer_ms\":300,"
                      "\"requested_ms\":50,\"init_ms\":50,\"queue_ms\":300%s,\"users\":[",
                      net_extra ? net_extra : "");
    for (int i = 0; i < NUSERS; i++) {
        bool busy = strcmp (s_users[i], "busy") == 0;
        bool staller2 = strcmp (s_users[i], "staller2") == 0;
        n += snprintf (net + n, sizeof net - (size_t) n,
                       "%s{\"username\":\"%s\",\"uploadSpeed\":%d,\"hasFreeUploadSlot\":%s,"
                       "\"queueLength\":%d,\"behavior\":\"%s\"%s,\"files\":["
                       "{\"filename\":\"" SONG "\",\"size\":300000,\"bitDepth\":16,"
                       "\"sampleRate\":44100,\"length\":60,\"extension\":\"flac\"}",
                       i ? "," : "", s_users[i], 1000000 + i, busy ? "false" : "true", busy ? 3 : 0,
                       s_behaviors[i], staller2 ? ",\"stall_timeout_ms\":200" : "");
        if (i == 0)
            n += snprintf (
                net + n, sizeof net - (size_t) n,
                ",{\"filename\":\"@@music\\\\Artist\\\\2001 - Album\\\\02 - Other.mp3\","
                "\"size\":9000,\"bitRate\":320,\"length\":30,\"isVariableBitRate\":false}"
                ",{\"filename\":\"@@music\\\\Bj\xc3\xb6rk\\\\D\xc3\xa9"
                "but\\\\01 - Human Behaviour.ogg\","
                "\"size\":50000,\"length\":10}"
                ",{\"filename\":\"@@x\\\\Artist\\\\Single\\\\Song.m4a\",\"size\":0,\"length\":20}");
        n += snprintf (net + n, sizeof net - (size_t) n, "]}");
    }
    snprintf (net + n, sizeof net - (size_t) n, "]}");
    fk_write (&s_fk, "slskd/network.json", net);
    cr_assert_eq (fk_start (&s_fk, args), 0, "fake did not start");
}

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
    fk_resp_t r;
    long st = fk_http (&s_fk, method, path, s_hdrs, body, &r);
    cr_assert_eq (st, want, "%s %s: %ld %s", method, path, st, r.body);
    json_t *j = json_incref (r.json);
    fk_resp_free (&r);
    return j;
}

static json_t *
s_search (const char *id, const char *text, int timeout_ms, const char *extra)
{
    char body[1024];
    snprintf (body, sizeof body, "{\"id\":\"%s\",\"searchText\":\"%s\",\"searchTimeout\":%d%s}", id,
              text, timeout_ms, extra ? extra : "");
    return s_call ("POST", "/api/v0/searches", body, 200);
}

//  Poll a search until isComplete (at most 5 s); returns it.
static json_t *
s_wait_search (const char *id)
{
    char path[256];
    snprintf (path, sizeof path, "/api/v0/searches/%s", id);
    for (int i = 0; i < 100; i++) {
        json_t *s = s_call ("GET", path, NULL, 200);
        if (json_is_true (json_object_get (s, "isComplete")))
            return s;
        json_decref (s);
        fk_sleep_ms (50);
    }
    cr_assert_fail ("search %s never completed", id);
    return NULL;
}

static size_t
s_count_responses (const char *id)
{
    char path[256];
    snprintf (path, sizeof path, "/api/v0/searches/%s/responses", id);
    json_t *r = s_call ("GET", path, NULL, 200);
    size_t n = json_array_size (r);
    json_decref (r);
    return n;
}

Test (fake_slskd, auth_and_server, .fini = s_teardown)
{
    s_start (NULL, NULL);
    fk_resp_t r;
    cr_assert_eq (fk_http (&s_fk, "GET", "/api/v0/server", NULL, NULL, &r), 401);
    cr_assert_str_eq (r.body, "");
    fk_resp_free (&r);
    const char *bad[] = {"X-API-Key: wrong", NULL};
    cr_assert_eq (fk_http (&s_fk, "GET", "/api/v0/searches", bad, NULL, &r), 401);
    fk_resp_free (&r);
    cr_assert_eq (fk_http (&s_fk, "GET", "/health", NULL, NULL, &r), 200);
    fk_resp_free (&r);
    json_t *srv = s_call ("GET", "/api/v0/server", NULL, 200);
    cr_assert (json_is_true (json_object_get (srv, "isLoggedIn")));
    cr_assert_str_eq (json_string_value (json_object_get (srv, "state")), "Connected, LoggedIn");
    json_decref (srv);
}

Test (fake_slskd, logged_out, .fini = s_teardown)
{
    fk_init (&s_fk);
    fk_write (&s_fk, "slskd/api-key", "slskd-test-key-0123456789");
    fk_write (&s_fk, "slskd/network.json", "{\"logged_in\":false,\"users\":[]}");
    cr_assert_eq (fk_start (&s_fk, NULL), 0);
    json_t *srv = s_call ("GET", "/api/v0/server", NULL, 200);
    cr_assert (json_is_false (json_object_get (srv, "isLoggedIn")));
    cr_assert_null (json_object_get (srv, "address"), "null fields are left out");
    json_decref (srv);
    json_decref (s_call ("POST", "/api/v0/searches", "{\"searchText\":\"a b\"}", 409));
}

Test (fake_slskd, search_lifecycle, .fini = s_teardown)
{
    s_start (NULL, NULL);
    const char *id = "0f0e0d0c-0b0a-4908-8706-050403020100";
    json_t *s = s_search (id, "ARTIST song", 800, NULL);
    cr_assert_str_eq (json_string_value (json_object_get (s, "state")), "Requested");
    cr_assert (json_is_false (json_object_get (s, "isComplete")));
    cr_assert_null (json_object_get (s, "endedAt"));
    json_decref (s);
    char path[256];
    snprintf (path, sizeof path, "/api/v0/searches/%s", id);
    s = s_call ("GET", path, NULL, 200);
    cr_assert_str_eq (json_string_value (json_object_get (s, "state")), "InProgress");
    json_decref (s);
    cr_assert_eq (s_count_responses (id), 0, "no responses before the search completes");
    fk_sleep_ms (250);
    //  users answered (counts move) but /responses stays empty
    s = s_call ("GET", path, NULL, 200);
    cr_assert_str_eq (json_string_value (json_object_get (s, "state")), "InProgress");
    cr_assert_eq (json_integer_value (json_object_get (s, "responseCount")), NUSERS);
    json_decref (s);
    cr_assert_eq (s_count_responses (id), 0);

    s = s_wait_search (id);
    cr_assert_str_eq (json_string_value (json_object_get (s, "state")), "Completed, TimedOut");
    cr_assert_not_null (json_object_get (s, "endedAt"));
    cr_assert_eq (json_integer_value (json_object_get (s, "responseCount")), NUSERS);
    //  good shares Song.flac and Single\Song.m4a: 2 files; the others 1
    cr_assert_eq (json_integer_value (json_object_get (s, "fileCount")), NUSERS + 1);
    json_decref (s);
    snprintf (path, sizeof path, "/api/v0/searches/%s/responses", id);
    json_t *resp = s_call ("GET", path, NULL, 200);
    cr_assert_eq (json_array_size (resp), NUSERS);
    json_t *first = json_array_get (resp, 0);
    cr_assert_str_eq (json_string_value (json_object_get (first, "username")), "good");
    json_t *file = json_array_get (json_object_get (first, "files"), 0);
    cr_assert_eq (json_integer_value (json_object_get (file, "length")), 60);
    cr_assert_null (json_object_get (file, "bitRate"), "absent attributes are left out");
    json_t *m4a = json_array_get (json_object_get (first, "files"), 1);
    cr_assert_str_eq (json_string_value (json_object_get (m4a, "extension")), "");
    cr_assert_gt (json_integer_value (json_object_get (m4a, "size")), 0, "size computed");
    json_decref (resp);

    //  includeResponses=true inlines them
    snprintf (path, sizeof path, "/api/v0/searches/%s?includeResponses=true", id);
    s = s_call ("GET", path, NULL, 200);
    cr_assert_eq (json_array_size (json_object_get (s, "responses")), NUSERS);
    json_decref (s);

    //  matching: diacritics are not folded, case is
    json_decref (s_search ("10000000-0000-4000-8000-000000000001", "bjork", 300, NULL));
    json_decref (s_search ("10000000-0000-4000-8000-000000000002",
                           "BJ\xc3\x96RK d\xc3\xa9"
                           "but",
                           300, NULL));
    json_decref (s_search ("10000000-0000-4000-8000-000000000003", "artist nothere", 300, NULL));
    json_decref (s_search ("10000000-0000-4000-8000-000000000004", "artist song", 5000,
                           ",\"responseLimit\":3"));
    json_decref (s_wait_search ("10000000-0000-4000-8000-000000000001"));
    json_decref (s_wait_search ("10000000-0000-4000-8000-000000000002"));
    json_decref (s_wait_search ("10000000-0000-4000-8000-000000000003"));
    cr_assert_eq (s_count_responses ("10000000-0000-4000-8000-000000000001"), 0);
    cr_assert_eq (s_count_responses ("10000000-0000-4000-8000-000000000002"), 1);
    cr_assert_eq (s_count_responses ("10000000-0000-4000-8000-000000000003"), 0);
    s = s_wait_search ("10000000-0000-4000-8000-000000000004");
    cr_assert_str_eq (json_string_value (json_object_get (s, "state")),
                      "Completed, ResponseLimitReached");
    cr_assert_eq (json_integer_value (json_object_get (s, "responseCount")), 3);
    json_decref (s);

    //  cancel then delete
    const char *cid = "20000000-0000-4000-8000-000000000001";
    json_decref (s_search (cid, "artist", 60000, NULL));
    snprintf (path, sizeof path, "/api/v0/searches/%s", cid);
    json_decref (s_call ("PUT", path, "", 200));
    s = s_call ("GET", path, NULL, 200);
    cr_assert_str_eq (json_string_value (json_object_get (s, "state")), "Completed, Cancelled");
    cr_assert (json_is_true (json_object_get (s, "isComplete")));
    json_decref (s);
    json_decref (s_call ("DELETE", path, NULL, 204));
    json_decref (s_call ("GET", path, NULL, 404));
    json_decref (s_call ("DELETE", path, NULL, 404));

    //  blank text and duplicate ids are refused
    json_decref (s_call ("POST", "/api/v0/searches", "{\"searchText\":\"  \"}", 400));
    char body[256];
    snprintf (body, sizeof body, "{\"id\":\"%s\",\"searchText\":\"x\"}", id);
    json_decref (s_call ("POST", "/api/v0/searches", body, 400));

    json_t *st = fk_stats (&s_fk);
    cr_assert_eq (
        json_integer_value (json_object_get (json_object_get (st, "slskd"), "searches_started")),
        6);
    json_decref (st);
    cr_assert_eq (fk_stop (&s_fk), 0, "the fake must exit 0 (and leak-free under SAN)");
}

typedef struct {
    const char *path;
    const char *body;
    long status;
} s_bg_t;

static void *
s_bg_post (void *arg)
{
    s_bg_t *bg = arg;
    fk_resp_t r;
    bg->status = fk_http (&s_fk, "POST", bg->path, s_hdrs, bg->body, &r);
    fk_resp_free (&r);
    return NULL;
}

Test (fake_slskd, concurrent_posts_429, .fini = s_teardown)
{
    s_start (",\"search_post_ms\":400,\"enqueue_ms\":400,\"max_concurrent_enqueues\":1", NULL);
    s_bg_t bg = {"/api/v0/searches", "{\"searchText\":\"artist\"}", 0};
    pthread_t th;
    pthread_create (&th, NULL, s_bg_post, &bg);
    fk_sleep_ms (150);
    fk_resp_t r;
    cr_assert_eq (
        fk_http (&s_fk, "POST", "/api/v0/searches", s_hdrs, "{\"searchText\":\"song\"}", &r), 429);
    cr_assert (strstr (r.body, "concurrent"), "%s", r.body);
    fk_resp_free (&r);
    pthread_join (th, NULL);
    cr_assert_eq (bg.status, 200);

    s_bg_t eq = {"/api/v0/transfers/downloads/good", "[{\"filename\":\"" SONG "\",\"size\":1}]", 0};
    pthread_create (&th, NULL, s_bg_post, &eq);
    fk_sleep_ms (150);
    cr_assert_eq (fk_http (&s_fk, "POST", "/api/v0/transfers/downloads/good", s_hdrs,
                           "[{\"filename\":\"" SONG "\",\"size\":1}]", &r),
                  429);
    fk_resp_free (&r);
    pthread_join (th, NULL);
    cr_assert_eq (eq.status, 201);
    json_t *st = fk_stats (&s_fk);
    json_t *sl = json_object_get (st, "slskd");
    cr_assert_eq (json_integer_value (json_object_get (sl, "searches_rejected_busy")), 1);
    cr_assert_eq (json_integer_value (json_object_get (sl, "enqueues_rejected_busy")), 1);
    json_decref (st);
}

static char *
s_enqueue (const char *user, const char *filename_json)
{
    char path[256], body[1024];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/%s", user);
    snprintf (body, sizeof body, "[{\"filename\":\"%s\",\"size\":300000}]", filename_json);
    json_t *j = s_call ("POST", path, body, 201);
    json_t *x = json_array_get (json_object_get (j, "enqueued"), 0);
    cr_assert_not_null (x, "nothing enqueued");
    cr_assert_eq (json_array_size (json_object_get (j, "failed")), 0);
    cr_assert_str_eq (json_string_value (json_object_get (x, "state")), "Requested");
    cr_assert_null (json_object_get (x, "endedAt"));
    cr_assert_null (json_object_get (x, "exception"));
    char *id = strdup (json_string_value (json_object_get (x, "id")));
    json_decref (j);
    return id;
}

static json_t *
s_transfer (const char *user, const char *id)
{
    char path[256];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/%s/%s", user, id);
    return s_call ("GET", path, NULL, 200);
}

static const char *
s_state (json_t *x)
{
    return json_string_value (json_object_get (x, "state"));
}

static off_t
s_file_size (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 ? st.st_size : -1;
}

Test (fake_slskd, transfer_ok_and_files, .fini = s_teardown)
{
    s_start (NULL, NULL);
    //  the size a search reports
    json_decref (s_search ("30000000-0000-4000-8000-000000000001", "human behaviour", 300, NULL));
    json_decref (s_wait_search ("30000000-0000-4000-8000-000000000001"));
    json_t *resp = s_call ("GET", "/api/v0/searches/30000000-0000-4000-8000-000000000001/responses",
                           NULL, 200);
    json_int_t ogg_size = json_integer_value (json_object_get (
        json_array_get (json_object_get (json_array_get (resp, 0), "files"), 0), "size"));
    json_decref (resp);
    cr_assert_eq (ogg_size, 50000);

    char *id = s_enqueue ("good", SONG);
    char *id2 = s_enqueue ("good", "@@music\\\\Bj\xc3\xb6rk\\\\D\xc3\xa9"
                                   "but\\\\01 - Human Behaviour.ogg");
    bool seen_progress = false;
    json_t *x = NULL;
    for (int i = 0; i < 100; i++) {
        json_decref (x);
        x = s_transfer ("good", id);
        if (strcmp (s_state (x), "InProgress") == 0) {
            seen_progress = true;
            cr_assert_lt (json_integer_value (json_object_get (x, "bytesTransferred")), 300000);
            cr_assert_not_null (json_object_get (x, "startedAt"));
        }
        if (strncmp (s_state (x), "Completed", 9) == 0)
            break;
        fk_sleep_ms (20);
    }
    cr_assert (seen_progress, "never saw InProgress");
    cr_assert_str_eq (s_state (x), "Completed, Succeeded");
    cr_assert_eq (json_integer_value (json_object_get (x, "bytesTransferred")), 300000);
    cr_assert_eq (json_real_value (json_object_get (x, "percentComplete")), 100.0);
    cr_assert_gt (json_real_value (json_object_get (x, "averageSpeed")), 0.0);
    json_decref (x);

    char path[1024];
    snprintf (path, sizeof path, "%s/2001 - Album/01 - Song.flac", s_fk.downloads);
    cr_assert_eq (s_file_size (path), 300000, "%s", path);
    TagLib_File *tf = taglib_file_new (path);
    cr_assert (tf && taglib_file_is_valid (tf), "not a valid audio file");
    cr_assert_eq (taglib_audioproperties_length (taglib_file_audioproperties (tf)), 60);
    taglib_file_free (tf);

    fk_sleep_ms (500);
    x = s_transfer ("good", id2);
    cr_assert_str_eq (s_state (x), "Completed, Succeeded");
    json_decref (x);
    snprintf (path, sizeof path,
              "%s/D\xc3\xa9"
              "but/01 - Human Behaviour.ogg",
              s_fk.downloads);
    cr_assert_eq (s_file_size (path), ogg_size);
    tf = taglib_file_new (path);
    cr_assert (tf && taglib_file_is_valid (tf));
    cr_assert_eq (taglib_audioproperties_length (taglib_file_audioproperties (tf)), 10);
    taglib_file_free (tf);

    //  the same file again: name_<ticks>.flac
    char *id3 = s_enqueue ("good", SONG);
    fk_sleep_ms (700);
    x = s_transfer ("good", id3);
    cr_assert_str_eq (s_state (x), "Completed, Succeeded");
    json_decref (x);
    json_t *st = fk_stats (&s_fk);
    json_t *written = json_object_get (json_object_get (st, "slskd"), "files_written");
    cr_assert_eq (json_array_size (written), 3);
    const char *third = json_string_value (json_array_get (written, 2));
    cr_assert (strstr (third, "/2001 - Album/01 - Song_") && strstr (third, ".flac"), "%s", third);
    cr_assert_eq (s_file_size (third), 300000);
    json_decref (st);

    //  listing grouped by user and remote directory
    json_t *all = s_call ("GET", "/api/v0/transfers/downloads", NULL, 200);
    cr_assert_eq (json_array_size (all), 1);
    json_t *dirs = json_object_get (json_array_get (all, 0), "directories");
    cr_assert_eq (json_array_size (dirs), 2);
    cr_assert_str_eq (json_string_value (json_object_get (json_array_get (dirs, 0), "directory")),
                      "@@music\\Artist\\2001 - Album");
    cr_assert_eq (json_integer_value (json_object_get (json_array_get (dirs, 0), "fileCount")), 2);
    json_decref (all);

    //  remove all three: the user then has none (404)
    const char *ids[] = {id, id2, id3};
    for (int i = 0; i < 3; i++) {
        snprintf (path, sizeof path, "/api/v0/transfers/downloads/good/%s?remove=true", ids[i]);
        json_decref (s_call ("DELETE", path, NULL, 204));
    }
    json_decref (s_call ("GET", "/api/v0/transfers/downloads/good", NULL, 404));
    json_decref (s_call ("GET", "/api/v0/transfers/downloads/good/not-a-guid", NULL, 400));
    json_decref (s_call (
        "GET", "/api/v0/transfers/downloads/good/40000000-0000-4000-8000-000000000001", NULL, 404));
    json_decref (s_call ("POST", "/api/v0/transfers/downloads/good", "[]", 400));
    json_decref (s_call ("POST", "/api/v0/transfers/downloads/good",
                         "[{\"filename\":\"@@music\\\\..\\\\x.flac\",\"size\":1}]", 400));
    free (id);
    free (id2);
    free (id3);
    cr_assert_eq (fk_stop (&s_fk), 0, "the fake must exit 0 (and leak-free under SAN)");
}

Test (fake_slskd, behaviours, .fini = s_teardown)
{
    s_start (NULL, NULL);
    //  offline: enqueue fails at once
    fk_resp_t r;
    cr_assert_eq (fk_http (&s_fk, "POST", "/api/v0/transfers/downloads/ghost", s_hdrs,
                           "[{\"filename\":\"" SONG "\",\"size\":1}]", &r),
                  500);
    cr_assert (strstr (r.body, "appears to be offline"), "%s", r.body);
    fk_resp_free (&r);

    const char *users[] = {"good",    "slowpoke", "staller", "staller2", "waiter",
                           "refuser", "broken",   "zero",    "busy"};
    char *ids[9];
    for (int i = 0; i < 9; i++)
        ids[i] = s_enqueue (users[i], SONG);
    char *unshared = s_enqueue ("good", "@@music\\\\nope.flac");
    bool busy_queued = false;
    for (int t = 0; t < 60; t++) {
        json_t *b = s_transfer ("busy", ids[8]);
        if (strcmp (s_state (b), "Queued, Remotely") == 0) {
            busy_queued = true;
            cr_assert_eq (json_integer_value (json_object_get (b, "placeInQueue")), 4);
        }
        json_decref (b);
        fk_sleep_ms (20);
    }
    fk_sleep_ms (300);

    json_t *x[9];
    for (int i = 0; i < 9; i++)
        x[i] = s_transfer (users[i], ids[i]);
    cr_assert (busy_queued, "a peer with a queue goes through Queued, Remotely");
    cr_assert_str_eq (s_state (x[0]), "Completed, Succeeded");
    cr_assert_str_eq (s_state (x[1]), "InProgress", "slow is still running");
    cr_assert_lt (json_integer_value (json_object_get (x[1], "bytesTransferred")), 300000);
    cr_assert_str_eq (s_state (x[2]), "InProgress", "stall never ends");
    cr_assert_str_eq (s_state (x[3]), "Completed, TimedOut", "stall with stall_timeout_ms");
    cr_assert_not_null (json_object_get (x[3], "exception"));
    cr_assert_str_eq (s_state (x[4]), "Queued, Remotely");
    cr_assert_not_null (json_object_get (x[4], "placeInQueue"));
    cr_assert_null (json_object_get (x[4], "startedAt"));
    cr_assert_str_eq (s_state (x[5]), "Completed, Rejected");
    cr_assert_str_eq (s_state (x[6]), "Completed, Errored");
    cr_assert_lt (json_integer_value (json_object_get (x[6], "bytesTransferred")), 300000);
    cr_assert_not_null (json_object_get (x[6], "exception"));
    cr_assert_str_eq (s_state (x[7]), "Completed, Succeeded");
    cr_assert_str_eq (s_state (x[8]), "Completed, Succeeded");
    json_t *u = s_transfer ("good", unshared);
    cr_assert_str_eq (s_state (u), "Completed, Rejected");
    cr_assert_str_eq (json_string_value (json_object_get (u, "exception")), "File not shared.");
    json_decref (u);

    //  a stalled transfer does not move
    json_int_t b1 = json_integer_value (json_object_get (x[2], "bytesTransferred"));
    cr_assert_gt (b1, 0);
    cr_assert_lt (b1, 300000);
    fk_sleep_ms (200);
    json_t *again = s_transfer ("staller", ids[2]);
    cr_assert_eq (json_integer_value (json_object_get (again, "bytesTransferred")), b1);
    json_decref (again);

    //  corrupt: right size, all zeros, under the same layout; the clash gets a new name
    json_t *st = fk_stats (&s_fk);
    json_t *sl = json_object_get (st, "slskd");
    json_t *written = json_object_get (sl, "files_written");
    cr_assert_eq (json_array_size (written), 3, "good, zero, busy");
    int zero_files = 0;
    size_t i;
    json_t *w;
    json_array_foreach (written, i, w)
    {
        const char *p = json_string_value (w);
        cr_assert_eq (s_file_size (p), 300000);
        FILE *fp = fopen (p, "rb");
        cr_assert_not_null (fp);
        int c, nonzero = 0;
        while ((c = fgetc (fp)) != EOF)
            nonzero |= c;
        fclose (fp);
        if (!nonzero)
            zero_files++;
    }
    cr_assert_eq (zero_files, 1, "exactly the corrupt peer's file is zeros");
    cr_assert_geq (json_integer_value (json_object_get (sl, "max_concurrent_transfers")), 8);
    cr_assert_geq (json_integer_value (json_object_get (sl, "max_concurrent_in_progress")), 5);
    json_decref (st);

    //  cancel the queued one: Completed, Cancelled; remove=true drops it
    char path[256];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/waiter/%s", ids[4]);
    json_decref (s_call ("DELETE", path, NULL, 204));
    json_t *c = s_transfer ("waiter", ids[4]);
    cr_assert_str_eq (s_state (c), "Completed, Cancelled");
    cr_assert_not_null (json_object_get (c, "endedAt"));
    json_decref (c);
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/waiter/%s?remove=true", ids[4]);
    json_decref (s_call ("DELETE", path, NULL, 204));
    json_decref (s_call ("GET", "/api/v0/transfers/downloads/waiter", NULL, 404));

    for (int k = 0; k < 9; k++) {
        json_decref (x[k]);
        free (ids[k]);
    }
    free (unshared);
    cr_assert_eq (fk_stop (&s_fk), 0, "the fake must exit 0 (and leak-free under SAN)");
}

Test (fake_slskd, latency_option, .fini = s_teardown)
{
    const char *args[] = {"--latency-ms", "300", NULL};
    s_start (NULL, args);
    fk_resp_t r;
    cr_assert_eq (fk_http (&s_fk, "GET", "/health", NULL, NULL, &r), 200);
    cr_assert_geq (r.seconds, 0.29, "answer came after %.3f s", r.seconds);
    fk_resp_free (&r);
}

Test (fake_slskd, bad_fixture_exits_2, .fini = s_teardown)
{
    fk_init (&s_fk);
    fk_write (&s_fk, "slskd/api-key", "k");
    fk_write (&s_fk, "slskd/network.json",
              "{\"users\":[{\"username\":\"u\",\"behavior\":\"weird\"}]}");
    cr_assert_neq (fk_start (&s_fk, NULL), 0, "a bad fixture must not start");
}
