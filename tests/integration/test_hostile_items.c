/*  test_hostile_items.c: one bad item in an upstream answer costs that item
    only (issue 21 item 8). A tiny in-test libmicrohttpd server stands in
    for slskd and Spotify and answers with pages that hold one hostile item
    among good ones:
      - an slskd responses page with a peer whose user name is 300 bytes
        (a task cannot carry it), a file name with a byte of invalid UTF-8
        (jansson refused the whole page) and one with \u0000 (it was cut
        short at the NUL and then asked of slskd under the wrong name),
        beside a peer with a good file;
      - a Spotify playlist whose name and one track title hold \u0000 and
        a byte of invalid UTF-8 (the whole playlist was refused as "Spotify
        is unavailable, try again later").
    Driven through the real clients: sp_slskd_search + the match set + the
    payload codec, and sp_spotify_fetch. */
#include "../../services/analyzer/spotify.h"
#include "../../services/searcher/slskd_search.h"
#include "soulpipe/match.h"
#include "soulpipe/payload.h"
#include "soulpipe/store.h"
#include "soulpipe/text.h"

#include <criterion/criterion.h>
#include <microhttpd.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_long_user[301];
static char *s_responses;  //  the slskd responses page (raw bytes)
static size_t s_responses_len;

//  The Spotify playlist: its name "Mix<NUL>tape", track 1 "Hel<0xFF>lo".
static const char s_playlist[] =
    "{\"name\":\"Mix\\u0000tape\",\"items\":{\"items\":["
    "{\"item\":{\"type\":\"track\",\"id\":\"t1\",\"name\":\"Hel\xff"
    "lo\","
    "\"artists\":[{\"name\":\"Adele\"}],\"album\":{\"name\":\"25\",\"id\":\"a1\"},"
    "\"duration_ms\":295000}},"
    "{\"item\":{\"type\":\"track\",\"id\":\"t2\",\"name\":\"Skyfall\","
    "\"artists\":[{\"name\":\"Ade\\u0000le\"}],\"album\":{\"name\":\"Skyfall\",\"id\":\"a2\"},"
    "\"duration_ms\":286000}}],"
    "\"next\":null,\"total\":2}}";

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned status, const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer (len, (void *) body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header (r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response (conn, status, r);
    MHD_destroy_response (r);
    return ret;
}

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void) cls;
    (void) version;
    (void) upload;
    if (*con_cls == NULL) {
        *con_cls = (void *) 1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp (url, "/api/token") == 0) {
        static const char tok[] =
            "{\"access_token\":\"tok\",\"token_type\":\"Bearer\",\"expires_in\":3600}";
        return s_reply (conn, 200, tok, sizeof tok - 1);
    }
    if (strncmp (url, "/v1/playlists/", 14) == 0)
        return s_reply (conn, 200, s_playlist, sizeof s_playlist - 1);
    if (strcmp (url, "/api/v0/searches") == 0 && strcmp (method, "POST") == 0)
        return s_reply (conn, 200, "{}", 2);
    if (strncmp (url, "/api/v0/searches/", 17) == 0) {
        size_t ul = strlen (url);
        if (ul > 10 && strcmp (url + ul - 10, "/responses") == 0)
            return s_reply (conn, 200, s_responses, s_responses_len);
        if (strcmp (method, "GET") == 0)
            return s_reply (conn, 200, "{\"isComplete\":true,\"responseCount\":2}", 37);
        return s_reply (conn, 204, "", 0);
    }
    return s_reply (conn, 404, "{}", 2);
}

static struct MHD_Daemon *s_daemon;
static char s_base[64];

static void
s_setup (void)
{
    //  a client that gives up on an answer closes the connection the
    //  stand-in still writes to: that must not kill the test process
    signal (SIGPIPE, SIG_IGN);
    memset (s_long_user, 'u', 300);
    s_long_user[300] = '\0';
    //  peer 1: a 300-byte user name, a perfect file; peer 2: a file name
    //  with a byte of invalid UTF-8, one with a NUL, and a good one
    static const char fmt[] =
        "[{\"username\":\"%s\",\"hasFreeUploadSlot\":true,\"uploadSpeed\":9000000,"
        "\"queueLength\":0,\"files\":[{\"filename\":\"@@long\\\\Adele\\\\25\\\\01 - Hello.flac\","
        "\"size\":30000000,\"length\":295}]},"
        "{\"username\":\"goodpeer\",\"hasFreeUploadSlot\":true,\"uploadSpeed\":1000000,"
        "\"queueLength\":0,\"files\":["
        "{\"filename\":\"@@good\\\\Adele\\\\25\\\\01 - Hel\xfflo.flac\",\"size\":30000000,"
        "\"length\":295},"
        "{\"filename\":\"@@good\\\\Adele\\\\25\\\\01 - Hello\\u0000.exe.flac\",\"size\":30000000,"
        "\"length\":295},"
        "{\"filename\":\"@@good\\\\Adele\\\\25\\\\01 - Hello.flac\",\"size\":30000000,"
        "\"length\":295}]}]";
    s_responses_len = sizeof fmt + 300;
    s_responses = malloc (s_responses_len);
    cr_assert_not_null (s_responses);
    s_responses_len = (size_t) snprintf (s_responses, s_responses_len, fmt, s_long_user);
    s_daemon = MHD_start_daemon (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                                 NULL, NULL, s_handler, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned) 30, MHD_OPTION_END);
    cr_assert_not_null (s_daemon);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (s_daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf (s_base, sizeof s_base, "http://127.0.0.1:%u", (unsigned) info->port);
}

static void
s_teardown (void)
{
    if (s_daemon)
        MHD_stop_daemon (s_daemon);
    s_daemon = NULL;
    free (s_responses);
    s_responses = NULL;
}

TestSuite (hostile_items, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  The search page is read; the 300-byte user and the two bad file names
//  are dropped and counted; the good file is kept and the ranked
//  candidates encode into a task (the long user name made that fail).
Test (hostile_items, slskd_page_drops_only_the_bad_items)
{
    sp_http_t *http = sp_slskd_client_new (s_base, "key");
    cr_assert_not_null (http);
    json_t *responses = NULL;
    char err[512] = "";
    int rc = sp_slskd_search (http, "adele hello", 1000, NULL, NULL, &responses, err, sizeof err);
    char *shown = sp_text_printable (err, 0);  //  the error may quote the bad byte
    cr_assert_eq (rc, SP_SLSKD_OK, "the page was refused whole: %s", shown);
    free (shown);
    cr_assert (json_is_array (responses));
    sp_match_set_t *set = sp_match_set_new ();
    cr_assert_not_null (set);
    int added = sp_match_set_add_responses (set, responses);
    cr_expect_eq (added, 1, "added %d", added);
    char why[256];
    cr_expect_eq (sp_match_set_dropped (set, why, sizeof why), 3, "%s", why);
    cr_expect_not_null (strstr (why, "user name over 255 bytes"), "%s", why);
    cr_expect_not_null (strstr (why, "2 with a file name not valid UTF-8"), "%s", why);
    for (size_t i = 0; i < sp_match_set_count (set); i++) {
        const sp_match_result_t *r = sp_match_set_get (set, i);
        cr_expect_str_eq (r->username, "goodpeer");
        cr_expect_str_eq (r->filename, "@@good\\Adele\\25\\01 - Hello.flac");
    }
    sp_match_prefs_t prefs;
    memset (&prefs, 0, sizeof prefs);
    sp_payload_t *p = sp_payload_new ();
    cr_assert_not_null (p);
    p->job = strdup ("j");
    p->track_key = strdup ("k");
    p->track.title = strdup ("Hello");
    p->track.playlist = strdup ("P");
    static char *artists[] = {"Adele"};
    p->track.artists = calloc (1, sizeof (char *));
    p->track.artists[0] = strdup (artists[0]);
    p->track.artists_count = 1;
    cr_assert_eq (sp_match_set_to_payload (set, &prefs, p), 1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    char perr[256] = "";
    cr_expect_eq (sp_payload_encode (p, &bytes, &len, perr, sizeof perr), SP_MSG_OK, "%s", perr);
    free (bytes);
    sp_payload_destroy (&p);
    sp_match_set_destroy (&set);
    json_decref (responses);
    sp_http_destroy (&http);
}

//  Stand-in for the searcher's whole page before the fix: the same page
//  given to the match set through jansson with a 300-byte user only (no
//  bad bytes): the long user is dropped, not carried into the task.
Test (hostile_items, long_user_name_dropped_from_a_parsed_page)
{
    char page[1024];
    snprintf (page, sizeof page,
              "[{\"username\":\"%s\",\"files\":[{\"filename\":\"@@x\\\\A\\\\01 - B.flac\","
              "\"size\":1000}]},{\"username\":\"ok\",\"files\":[{\"filename\":"
              "\"@@y\\\\A\\\\01 - B.flac\",\"size\":1000}]}]",
              s_long_user);
    json_t *j = json_loads (page, 0, NULL);
    cr_assert_not_null (j);
    sp_match_set_t *set = sp_match_set_new ();
    cr_expect_eq (sp_match_set_add_responses (set, j), 1);
    cr_expect_eq (sp_match_set_dropped (set, NULL, 0), 1);
    cr_expect_str_eq (sp_match_set_get (set, 0)->username, "ok");
    sp_match_set_destroy (&set);
    json_decref (j);
}

//  The playlist with a NUL in its name and a bad byte in a title is
//  fetched, with both repaired (U+FFFD) and a note saying so.
Test (hostile_items, spotify_nul_repairs_the_name_not_refuses_the_playlist)
{
    const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
    if (!url)
        cr_skip_test ("SOULPIPE_TEST_REDIS_URL not set");
    char serr[256];
    sp_store_t *store = sp_store_new (url, serr, sizeof serr);
    cr_assert_not_null (store, "%s", serr);
    sp_source_ref_t src;
    cr_assert_eq (sp_source_parse ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", &src, NULL, 0), 0);
    sp_config_t cfg;
    memset (&cfg, 0, sizeof cfg);
    cfg.spotify_client_id = "id";
    cfg.spotify_client_secret = "secret";
    cfg.spotify_accounts_url = s_base;
    cfg.spotify_api_url = s_base;
    cfg.spotify_market = "";
    sp_spotify_t *sp = sp_spotify_new (&cfg);
    cr_assert_not_null (sp);
    sp_playlist_t *pl = NULL;
    sp_spotify_err_t err;
    memset (&err, 0, sizeof err);
    int rc = sp_spotify_fetch (sp, store, &src, &pl, &err);
    cr_assert_eq (rc, 0, "refused: %s: %s", err.code, err.message);
    cr_assert_not_null (pl);
    cr_expect_str_eq (pl->name, "Mix\xef\xbf\xbdtape");
    cr_assert_eq (pl->count, 2);
    cr_expect_str_eq (pl->entries[0].track.title, "Hel\xef\xbf\xbdlo");
    cr_expect_str_eq (pl->entries[1].track.title, "Skyfall");
    cr_expect_str_eq (pl->entries[1].track.artists[0], "Ade\xef\xbf\xbdle");
    bool noted = false;
    for (size_t i = 0; i < pl->notes_count; i++)
        noted = noted || strstr (pl->notes[i], "3 names from Spotify had a NUL byte") != NULL;
    cr_expect (noted, "no note about the repaired names");
    sp_playlist_destroy (&pl);
    sp_spotify_destroy (&sp);
    sp_store_destroy (&store);
}
