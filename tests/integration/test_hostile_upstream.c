/*  test_hostile_upstream.c: hostile upstream HTTP answers. A tiny in-test
    libmicrohttpd server stands in for slskd and Plex and answers every
    request the same scripted way: malformed JSON, truncated JSON, HTML,
    JSON of the wrong shape, a body above the client's size limit, a deep
    nesting bomb, HTTP 500/502/503, an answer slower than the client's
    timeout; a closed port stands in for "connection refused".

    Driven through the real clients: the downloader's transfer client
    (sp_xfer_get / sp_xfer_enqueue), the searcher's slskd client
    (sp_slskd_logged_in / sp_slskd_search) and the analyzer's Plex loader.
    Each must return (never crash or hang), with a non-empty reason, and
    with the right class: transport / 5xx / timeout -> retryable
    (SP_XFER_ERR_DOWN, SP_SLSKD_ERR_RETRY), a reply that cannot be read ->
    SP_XFER_ERR_BAD_REPLY (the candidate fails, the job goes on). */
#include "../../services/analyzer/plex.h"
#include "../../services/analyzer/spotify.h"
#include "../../services/downloader/slskd_transfer.h"
#include "../../services/searcher/slskd_search.h"
#include "harness.h"
#include "soulpipe/http.h"
#include "soulpipe/store.h"

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum {
    M_MALFORMED,    //  {"id":"x","state":   (cut)
    M_HTML,         //  an HTML error page with status 200
    M_WRONG_SHAPE,  //  valid JSON, wrong types everywhere
    M_HUGE,         //  32 MiB body (above every client's limit but Plex's)
    M_DEEP,         //  100 000 nested arrays
    M_500,
    M_502,
    M_503,
    M_SLOW,  //  answers after 3 s (clients time out after 1 s)
    M_COUNT
} s_mode_t;

static const char *s_mode_names[] = {"malformed", "html", "wrong shape", "huge", "deep",
                                     "500",       "502",  "503",         "slow"};

static _Atomic int s_mode;
static _Atomic int s_requests;
static char *s_huge;
static size_t s_huge_len;
static char *s_deep;
static size_t s_deep_len;

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void) cls;
    (void) method;
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
    s_requests++;
    //  The Spotify token endpoint always works, so the API calls behind it
    //  meet the hostile answers.
    if (strcmp (url, "/api/token") == 0) {
        static const char tok[] =
            "{\"access_token\":\"tok\",\"token_type\":\"Bearer\",\"expires_in\":3600}";
        struct MHD_Response *r =
            MHD_create_response_from_buffer (sizeof tok - 1, (void *) tok, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header (r, "Content-Type", "application/json");
        enum MHD_Result ret = MHD_queue_response (conn, 200, r);
        MHD_destroy_response (r);
        return ret;
    }
    const char *body = "";
    size_t len = 0;
    unsigned status = 200;
    const char *ctype = "application/json";
    switch ((s_mode_t) s_mode) {
        case M_MALFORMED:
            body = "{\"id\":\"0d3e\",\"state\":\"InProg";
            break;
        case M_HTML:
            body = "<html><body>502 Bad Gateway</body></html>";
            ctype = "text/html";
            break;
        case M_WRONG_SHAPE:
            body = "{\"id\":5,\"state\":[1],\"size\":\"big\",\"MediaContainer\":7,\"isComplete\":"
                   "\"yes\","
                   "\"responses\":{},\"state_\":null,\"loggedIn\":\"no\",\"directories\":3}";
            break;
        case M_HUGE:
            body = s_huge;
            len = s_huge_len;
            break;
        case M_DEEP:
            body = s_deep;
            len = s_deep_len;
            break;
        case M_500:
            status = 500;
            body = "{\"error\":\"boom\"}";
            break;
        case M_502:
            status = 502;
            body = "bad gateway";
            ctype = "text/plain";
            break;
        case M_503:
            status = 503;
            body = "";
            break;
        case M_SLOW:
            sleep (3);
            body = "{}";
            break;
        default:
            break;
    }
    if (!len)
        len = strlen (body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer (len, (void *) body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header (r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response (conn, status, r);
    MHD_destroy_response (r);
    return ret;
}

static long long
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct MHD_Daemon *s_daemon;
static char s_base[64];
static char s_refused[64];

static void
s_setup (void)
{
    //  A 32 MiB JSON array of strings and a 100k-deep nesting.
    s_huge_len = 32u << 20;
    s_huge = malloc (s_huge_len);
    cr_assert_not_null (s_huge);
    memset (s_huge, '1', s_huge_len);
    s_huge[0] = '[';
    for (size_t i = 2; i + 1 < s_huge_len; i += 2)
        s_huge[i] = ',';
    s_huge[s_huge_len - 1] = ']';
    s_deep_len = 200000;
    s_deep = malloc (s_deep_len);
    memset (s_deep, '[', s_deep_len / 2);
    memset (s_deep + s_deep_len / 2, ']', s_deep_len / 2);

    s_daemon = MHD_start_daemon (MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
                                 NULL, NULL, s_handler, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned) 30, MHD_OPTION_END);
    cr_assert_not_null (s_daemon);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (s_daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf (s_base, sizeof s_base, "http://127.0.0.1:%u", (unsigned) info->port);

    //  A port nobody listens on: bind, read the port, close.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    cr_assert_eq (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname (fd, (struct sockaddr *) &a, &al);
    snprintf (s_refused, sizeof s_refused, "http://127.0.0.1:%u", (unsigned) ntohs (a.sin_port));
    close (fd);
}

static void
s_teardown (void)
{
    if (s_daemon)
        MHD_stop_daemon (s_daemon);
    s_daemon = NULL;
    free (s_huge);
    free (s_deep);
    s_huge = s_deep = NULL;
}

static bool
s_retryable (int mode)
{
    return mode == M_500 || mode == M_502 || mode == M_503 || mode == M_SLOW;
}

static sp_http_t *
s_fast (sp_http_t *http)
{
    cr_assert_not_null (http);
    sp_http_set_timeouts (http, 1000, 1000);
    sp_http_set_retries (http, 1, 50, 100);
    return http;
}

TestSuite (hostile_upstream, .init = s_setup, .fini = s_teardown, .timeout = 240);

//  Downloader: read a transfer, and enqueue one.
Test (hostile_upstream, slskd_transfer_client)
{
    for (int mode = 0; mode <= M_COUNT; mode++) {
        bool refused = mode == M_COUNT;
        s_mode = refused ? M_500 : mode;
        const char *name = refused ? "refused" : s_mode_names[mode];
        sp_http_t *http = s_fast (sp_http_new (refused ? s_refused : s_base));
        sp_xfer_t x;
        char err[512] = "";
        long long t0 = s_now_ms ();
        int rc = sp_xfer_get (http, "alice", "0d3e", &x, err, sizeof err);
        cr_assert_neq (rc, SP_XFER_OK, "%s: get succeeded", name);
        cr_assert (err[0], "%s: get without a reason", name);
        if (refused || s_retryable (mode))
            cr_assert_eq (rc, SP_XFER_ERR_DOWN, "%s: get %s (%s), want retryable", name,
                          sp_xfer_strerror (rc), err);
        else
            cr_assert (rc == SP_XFER_ERR_BAD_REPLY || rc == SP_XFER_ERR_DOWN, "%s: get %s (%s)",
                       name, sp_xfer_strerror (rc), err);
        char id[SP_XFER_ID_MAX];
        err[0] = '\0';
        rc = sp_xfer_enqueue (http, "alice", "@@alice\\Music\\a.flac", 100, 2000, NULL, NULL, id,
                              err, sizeof err);
        cr_assert_neq (rc, SP_XFER_OK, "%s: enqueue succeeded", name);
        cr_assert (err[0], "%s: enqueue without a reason", name);
        //  slskd reports a per-file failure as a 500 with a text body: that
        //  candidate is refused; a gateway's 502/503 means slskd is down.
        if (mode == M_500)
            cr_assert (rc == SP_XFER_ERR_REFUSED || rc == SP_XFER_ERR_DOWN, "%s: enqueue %s (%s)",
                       name, sp_xfer_strerror (rc), err);
        else if (refused || s_retryable (mode))
            cr_assert_eq (rc, SP_XFER_ERR_DOWN, "%s: enqueue %s (%s)", name, sp_xfer_strerror (rc),
                          err);
        cr_log_info ("xfer %-11s -> %s: %s (%lld ms)", name, sp_xfer_strerror (rc), err,
                     s_now_ms () - t0);
        sp_http_destroy (&http);
    }
}

//  Searcher: the login check and a whole search.
Test (hostile_upstream, slskd_search_client)
{
    for (int mode = 0; mode <= M_COUNT; mode++) {
        bool refused = mode == M_COUNT;
        s_mode = refused ? M_500 : mode;
        const char *name = refused ? "refused" : s_mode_names[mode];
        sp_http_t *http = s_fast (sp_slskd_client_new (refused ? s_refused : s_base, "key"));
        char err[512] = "";
        int rc = sp_slskd_logged_in (http, err, sizeof err);
        cr_assert_neq (rc, 1, "%s: logged in", name);
        cr_assert (err[0], "%s: no reason", name);
        if (refused || s_retryable (mode))
            cr_assert_eq (rc, SP_SLSKD_ERR_RETRY, "%s: logged_in %d (%s)", name, rc, err);
        json_t *responses = NULL;
        err[0] = '\0';
        rc = sp_slskd_search (http, "artist song", 1000, NULL, NULL, &responses, err, sizeof err);
        cr_assert_neq (rc, SP_SLSKD_OK, "%s: search succeeded", name);
        cr_assert_null (responses);
        cr_assert (err[0], "%s: search without a reason", name);
        //  an unreadable answer is slskd (or a proxy) misbehaving: retry
        //  later, never fail the track for good
        if (refused || s_retryable (mode) || mode == M_MALFORMED || mode == M_HTML ||
            mode == M_HUGE || mode == M_DEEP)
            cr_assert_eq (rc, SP_SLSKD_ERR_RETRY, "%s: search %d (%s)", name, rc, err);
        cr_log_info ("search %-11s -> %d: %s", name, rc, err);
        sp_http_destroy (&http);
    }
}

//  Analyzer: the Plex library loader says why it could not load (the
//  submit then queues every track and shows this note).
Test (hostile_upstream, plex_loader)
{
    for (int mode = 0; mode <= M_COUNT; mode++) {
        if (mode == M_SLOW)
            continue;  //  Plex's own timeout is 60 s
        bool refused = mode == M_COUNT;
        s_mode = refused ? M_500 : mode;
        const char *name = refused ? "refused" : s_mode_names[mode];
        sp_config_t cfg;
        memset (&cfg, 0, sizeof cfg);
        cfg.plex_url = refused ? s_refused : s_base;
        cfg.plex_token = "secret-plex-token";
        cfg.plex_sections = "";
        sp_library_t *lib = NULL;
        char note[512] = "";
        int rc = sp_plex_load_library (&cfg, &lib, note, sizeof note);
        cr_assert_eq (rc, -1, "%s: loaded", name);
        cr_assert_null (lib);
        cr_assert (note[0], "%s: no note", name);
        cr_assert_null (strstr (note, "secret-plex-token"), "%s: token in the note", name);
        cr_log_info ("plex %-11s -> %s", name, note);
    }
}

//  Analyzer: the Spotify client (client-credentials token from the stand-in,
//  then a playlist fetch that meets the hostile answer). A clear code and
//  message, never a playlist; 5xx and transport errors are
//  "spotify_unavailable" (the user may try again).
Test (hostile_upstream, spotify_client)
{
    const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
    if (!url)
        cr_skip_test ("SOULPIPE_TEST_REDIS_URL not set");
    char serr[256];
    sp_store_t *store = sp_store_new (url, serr, sizeof serr);
    cr_assert_not_null (store, "%s", serr);
    sp_source_ref_t src;
    cr_assert_eq (sp_source_parse ("spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", &src, NULL, 0), 0);
    for (int mode = 0; mode <= M_COUNT; mode++) {
        if (mode == M_SLOW)
            continue;  //  the client's own timeout is 30 s
        bool refused = mode == M_COUNT;
        s_mode = refused ? M_500 : mode;
        const char *name = refused ? "refused" : s_mode_names[mode];
        sp_config_t cfg;
        memset (&cfg, 0, sizeof cfg);
        cfg.spotify_client_id = "id";
        cfg.spotify_client_secret = "secret-client-secret";
        cfg.spotify_accounts_url = s_base;
        cfg.spotify_api_url = refused ? s_refused : s_base;
        cfg.spotify_market = "";
        sp_spotify_t *sp = sp_spotify_new (&cfg);
        cr_assert_not_null (sp);
        sp_playlist_t *pl = NULL;
        sp_spotify_err_t err;
        memset (&err, 0, sizeof err);
        int rc = sp_spotify_fetch (sp, store, &src, &pl, &err);
        cr_assert_eq (rc, -1, "%s: fetched", name);
        cr_assert_null (pl);
        cr_assert (err.code[0] && err.message[0], "%s: no code or message", name);
        cr_assert_null (strstr (err.message, "secret-client-secret"), "%s: secret in message",
                        name);
        if (refused || s_retryable (mode))
            cr_assert_str_eq (err.code, "spotify_unavailable", "%s: %s %s", name, err.code,
                              err.message);
        if (refused)
            cr_assert_not_null (strstr (err.message, "(transport)"), "%s", err.message);
        cr_log_info ("spotify %-11s -> %s: %s", name, err.code, err.message);
        sp_spotify_destroy (&sp);
    }
    sp_store_destroy (&store);
}

// ------------------------------------------------------------ processes

static sp_test_t s_t;

static void
s_fini_procs (void)
{
    sp_test_fini (&s_t);
}

static char *
s_track_field (const char *job, const char *field)
{
    char key[256];
    snprintf (key, sizeof key, "soulpipe:track:%s:0", job);
    const char *argv[] = {"HGET", key, field};
    redisReply *r = NULL;
    if (sp_store_command (s_t.store, 3, argv, NULL, &r) != SP_STORE_OK || !r)
        return NULL;
    char *v = r->type == REDIS_REPLY_STRING ? strdup (r->str) : NULL;
    freeReplyObject (r);
    return v;
}

static void
s_alive (pid_t pid, const char *what)
{
    int status;
    cr_assert_eq (waitpid (pid, &status, WNOHANG), 0, "%s exited", what);
}

//  The real analyzer and searcher processes against the stand-in: Plex
//  answers 503 (the submit queues every track and says why), slskd answers
//  503 (the track stays queued for a retry with the reason recorded), then
//  malformed JSON and HTML (a reason recorded, the searcher keeps running);
//  neither process exits.
Test (hostile_upstream, services_keep_running, .fini = s_fini_procs)
{
    sp_test_init (&s_t, false);
    sp_test_setenv (&s_t, "PLEX_URL", s_base);
    sp_test_setenv (&s_t, "PLEX_TOKEN", "secret-plex-token");
    sp_test_setenv (&s_t, "SLSKD_URL", s_base);
    sp_test_setenv (&s_t, "SLSKD_API_KEY", "secret-slskd-key");
    sp_test_setenv (&s_t, "SOULPIPE_MAX_ATTEMPTS", "50");
    sp_test_setenv (&s_t, "SOULPIPE_LOG_LEVEL", "info");
    s_mode = M_503;
    pid_t an = sp_test_start_analyzer (&s_t);
    const char *sargv[] = {sp_test_bin ("soulpipe-searcher"), NULL};
    pid_t se = sp_test_spawn (&s_t, "searcher", sargv);

    const char *list = sp_test_write (&s_t, "list.txt", "Artist - Song\n");
    const char *sub[] = {sp_test_bin ("soulpipe"), "submit", list, "--name", "Hostile", NULL};
    char *out = NULL, *err = NULL;
    int rc = sp_test_run (&s_t, sub, 30000, &out, &err);
    cr_assert_eq (rc, 0, "submit: %s %s", out ? out : "", err ? err : "");
    cr_assert_not_null (strstr (out, "library not checked"), "%s", out);
    cr_assert_not_null (strstr (out, "1 queued"), "%s", out);
    cr_assert_null (strstr (out, "secret-plex-token"));
    char job[128];
    cr_assert_eq (sscanf (out, "%127s", job), 1);
    free (out);
    free (err);

    //  slskd 503: a retryable failure with the reason on the track.
    //  Each mode's own words must reach the track record.
    static const int modes[] = {M_503, M_MALFORMED, M_HTML, M_500};
    static const char *marks[] = {"HTTP 503", "premature end", "invalid token", "HTTP 500"};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        s_mode = modes[m];
        long long deadline = s_now_ms () + 30000;
        char *reason = NULL, *state = NULL;
        while (s_now_ms () < deadline) {
            free (reason);
            free (state);
            reason = s_track_field (job, "reason");
            state = s_track_field (job, "state");
            //  a reason written after this mode's requests began
            if (reason && strstr (reason, marks[m]))
                break;
            if (state && strcmp (state, "failed") == 0)
                break;
            usleep (100 * 1000);
        }
        cr_log_info ("slskd %-10s -> state %s, reason %s", s_mode_names[modes[m]],
                     state ? state : "-", reason ? reason : "-");
        cr_assert (reason && *reason, "%s: no reason on the track", s_mode_names[modes[m]]);
        cr_assert_null (strstr (reason, "secret-slskd-key"));
        cr_assert_not_null (strstr (reason, marks[m]), "%s: reason %s", s_mode_names[modes[m]],
                            reason);
        //  slskd unreachable or answering garbage: retried, never failed
        cr_assert_str_neq (state, "failed", "%s failed the track: %s", s_mode_names[modes[m]],
                           reason);
        free (reason);
        free (state);
        s_alive (an, "the analyzer");
        s_alive (se, "the searcher");
    }
    //  Both still serve: `soulpipe list` answers.
    const char *lst[] = {sp_test_bin ("soulpipe"), "list", NULL};
    cr_assert_eq (sp_test_run (&s_t, lst, 10000, NULL, NULL), 0);
    s_alive (an, "the analyzer");
    s_alive (se, "the searcher");
}
