/*  test_http.c: the http client against a tiny in-test libmicrohttpd server
    on a free loopback port: JSON GET, POST/PUT echo, retries on 5xx,
    Retry-After on 429 (sleep and hand-back modes), refused connections,
    timeouts, oversize bodies, bad JSON, 204, headers both ways, redirects,
    and secrets kept out of error strings. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "soulpipe/http.h"

// ------------------------------------------------------------ fake server

typedef struct {
    struct MHD_Daemon *daemon;
    int port;
    atomic_int hits;  //  requests answered on counting routes
    char base[64];    //  "http://127.0.0.1:PORT"
} s_server_t;

static s_server_t s_srv;

typedef struct {
    char *buf;
    size_t len;
} s_upload_t;

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned int status, const char *body, const char *ctype,
         const char *hname, const char *hvalue)
{
    struct MHD_Response *r = MHD_create_response_from_buffer (
        body ? strlen (body) : 0, (void *) (body ? body : ""), MHD_RESPMEM_MUST_COPY);
    if (ctype)
        MHD_add_response_header (r, "Content-Type", ctype);
    if (hname)
        MHD_add_response_header (r, hname, hvalue);
    enum MHD_Result ret = MHD_queue_response (conn, status, r);
    MHD_destroy_response (r);
    return ret;
}

static ssize_t
s_stream_cb (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void) cls;
    if (pos >= 1000000)
        return MHD_CONTENT_READER_END_OF_STREAM;
    memset (buf, 'x', max);
    return (ssize_t) max;
}

static const char *
s_hdr (struct MHD_Connection *conn, const char *name)
{
    const char *v = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, name);
    return v ? v : "";
}

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) cls;
    (void) version;
    //  Collect any request body first.
    s_upload_t *up = *con_cls;
    if (!up) {
        up = calloc (1, sizeof *up);
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        up->buf = realloc (up->buf, up->len + *upload_data_size + 1);
        memcpy (up->buf + up->len, upload_data, *upload_data_size);
        up->len += *upload_data_size;
        up->buf[up->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    const char *J = "application/json";

    if (strcmp (url, "/json") == 0)
        return s_reply (conn, 200, "{\"ok\":true,\"n\":42}", J, NULL, NULL);
    if (strcmp (url, "/echo") == 0) {
        char out[4096];
        snprintf (out, sizeof out, "{\"method\":\"%s\",\"ctype\":\"%s\",\"body\":%s}", method,
                  s_hdr (conn, "Content-Type"),
                  up->len && strcmp (s_hdr (conn, "Content-Type"), J) == 0 ? up->buf : "null");
        return s_reply (conn, 200, out, J, NULL, NULL);
    }
    if (strcmp (url, "/form") == 0) {
        char out[4096];
        snprintf (out, sizeof out, "{\"ctype\":\"%s\",\"len\":%zu,\"eq\":%s}",
                  s_hdr (conn, "Content-Type"), up->len,
                  up->len && strcmp (up->buf, "a=1&b=x%20y") == 0 ? "true" : "false");
        return s_reply (conn, 200, out, J, NULL, NULL);
    }
    if (strcmp (url, "/flaky") == 0) {
        int n = atomic_fetch_add (&s_srv.hits, 1);
        if (n == 0)
            return s_reply (conn, 500, "boom", "text/plain", NULL, NULL);
        return s_reply (conn, 200, "{\"ok\":1}", J, NULL, NULL);
    }
    if (strcmp (url, "/down") == 0) {
        atomic_fetch_add (&s_srv.hits, 1);
        return s_reply (conn, 503, "maintenance", "text/plain", NULL, NULL);
    }
    if (strcmp (url, "/rate") == 0) {
        int n = atomic_fetch_add (&s_srv.hits, 1);
        if (n == 0)
            return s_reply (conn, 429, "slow down", "text/plain", "Retry-After", "1");
        return s_reply (conn, 200, "{\"ok\":2}", J, NULL, NULL);
    }
    if (strcmp (url, "/slow") == 0) {
        usleep (800 * 1000);
        return s_reply (conn, 200, "{}", J, NULL, NULL);
    }
    if (strcmp (url, "/big") == 0) {
        char *b = malloc (100001);
        memset (b, ' ', 100000);
        b[0] = '[';
        b[99999] = ']';
        b[100000] = '\0';
        enum MHD_Result r = s_reply (conn, 200, b, J, NULL, NULL);
        free (b);
        return r;
    }
    if (strcmp (url, "/stream") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_callback (MHD_SIZE_UNKNOWN, 4096, s_stream_cb, NULL, NULL);
        enum MHD_Result ret = MHD_queue_response (conn, 200, r);
        MHD_destroy_response (r);
        return ret;
    }
    if (strcmp (url, "/badjson") == 0)
        return s_reply (conn, 200, "{\"a\": [1, 2", J, NULL, NULL);
    if (strcmp (url, "/text") == 0)
        return s_reply (conn, 200, "Healthy", "text/plain", NULL, NULL);
    if (strcmp (url, "/empty") == 0)
        return s_reply (conn, 204, NULL, NULL, NULL, NULL);
    if (strcmp (url, "/headers") == 0) {
        char out[2048];
        snprintf (out, sizeof out,
                  "{\"key\":\"%s\",\"accept\":\"%s\",\"extra\":\"%s\",\"auth\":\"%s\"}",
                  s_hdr (conn, "X-API-Key"), s_hdr (conn, "Accept"), s_hdr (conn, "X-Extra"),
                  s_hdr (conn, "Authorization"));
        return s_reply (conn, 200, out, J, "X-Plex-Container-Total-Size", "1234");
    }
    if (strcmp (url, "/redirect") == 0)
        return s_reply (conn, 302, NULL, NULL, "Location", "/json");
    if (strcmp (url, "/post500") == 0) {
        atomic_fetch_add (&s_srv.hits, 1);
        return s_reply (conn, 500, "oops", "text/plain", NULL, NULL);
    }
    return s_reply (conn, 404, "no such thing", "text/plain", NULL, NULL);
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void) cls;
    (void) conn;
    (void) toe;
    s_upload_t *up = *con_cls;
    if (up) {
        free (up->buf);
        free (up);
        *con_cls = NULL;
    }
}

static void
s_server_start (void)
{
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    atomic_store (&s_srv.hits, 0);
    s_srv.daemon =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                          NULL, s_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                          MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    cr_assert_not_null (s_srv.daemon, "MHD_start_daemon failed");
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (s_srv.daemon, MHD_DAEMON_INFO_BIND_PORT);
    cr_assert_not_null (info);
    s_srv.port = info->port;
    cr_assert_gt (s_srv.port, 0);
    snprintf (s_srv.base, sizeof s_srv.base, "http://127.0.0.1:%d", s_srv.port);
}

static void
s_server_stop (void)
{
    if (s_srv.daemon)
        MHD_stop_daemon (s_srv.daemon);
    s_srv.daemon = NULL;
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  A client with fast retries for the tests.
static sp_http_t *
s_client (void)
{
    sp_http_t *h = sp_http_new (s_srv.base);
    cr_assert_not_null (h);
    sp_http_set_retries (h, 2, 10, 50);
    sp_http_set_timeouts (h, 1000, 3000);
    return h;
}

TestSuite (http, .init = s_server_start, .fini = s_server_stop);

// ------------------------------------------------------------ tests

Test (http, get_json)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    cr_assert_eq (sp_http_get (h, "/json", &r), SP_HTTP_OK);
    cr_assert_not_null (r);
    cr_expect_eq (r->status, 200);
    cr_expect_eq (r->err, SP_HTTP_OK);
    cr_expect_null (r->error);
    cr_assert (json_is_object (r->json));
    cr_expect_eq (json_integer_value (json_object_get (r->json, "n")), 42);
    cr_expect_str_eq (r->body, "{\"ok\":true,\"n\":42}");
    cr_expect_str_eq (sp_http_resp_header (r, "content-type"), "application/json");
    cr_expect_eq (r->attempts, 1);
    sp_http_resp_destroy (&r);
    cr_expect_null (r);

    //  Absolute URL (Spotify's `next` links), with no base URL at all.
    sp_http_t *abs = sp_http_new (NULL);
    char url[128];
    snprintf (url, sizeof url, "%s/json", s_srv.base);
    cr_expect_eq (sp_http_get (abs, url, &r), SP_HTTP_OK);
    sp_http_resp_destroy (&r);
    cr_expect_eq (sp_http_get (abs, "/json", &r), SP_HTTP_ERR_INVALID);
    cr_expect_null (r);
    sp_http_destroy (&abs);
    cr_expect_null (abs);
    sp_http_destroy (&abs);
    sp_http_destroy (&h);
}

Test (http, post_and_put_json_echo)
{
    sp_http_t *h = s_client ();
    json_t *body = json_pack ("{s:s, s:i}", "searchText", "artist – title", "searchTimeout", 15000);
    sp_http_resp_t *r = NULL;
    cr_assert_eq (sp_http_post_json (h, "/echo", body, &r), SP_HTTP_OK);
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "method")), "POST");
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "ctype")), "application/json");
    cr_expect (json_equal (json_object_get (r->json, "body"), body), "body: %s", r->body);
    sp_http_resp_destroy (&r);

    cr_assert_eq (sp_http_put_json (h, "echo", body, &r), SP_HTTP_OK);
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "method")), "PUT");
    cr_expect (json_equal (json_object_get (r->json, "body"), body));
    sp_http_resp_destroy (&r);

    //  PUT without a body (slskd cancel) and DELETE.
    cr_assert_eq (sp_http_request (h, SP_HTTP_PUT, "/echo", NULL, &r), SP_HTTP_OK);
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "method")), "PUT");
    sp_http_resp_destroy (&r);
    cr_assert_eq (sp_http_delete (h, "/echo", &r), SP_HTTP_OK);
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "method")), "DELETE");
    sp_http_resp_destroy (&r);

    //  Form body.
    sp_http_req_t req = {.form = "a=1&b=x%20y"};
    cr_assert_eq (sp_http_request (h, SP_HTTP_POST, "/form", &req, &r), SP_HTTP_OK);
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "ctype")),
                      "application/x-www-form-urlencoded");
    cr_expect (json_is_true (json_object_get (r->json, "eq")), "%s", r->body);
    sp_http_resp_destroy (&r);

    //  Two body kinds at once are refused.
    sp_http_req_t bad = {.form = "a=1", .json = body};
    cr_expect_eq (sp_http_request (h, SP_HTTP_POST, "/form", &bad, &r), SP_HTTP_ERR_INVALID);
    json_decref (body);
    sp_http_destroy (&h);
}

Test (http, retry_500_then_200)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    cr_assert_eq (sp_http_get (h, "/flaky", &r), SP_HTTP_OK, "%s", r && r->error ? r->error : "");
    cr_expect_eq (r->status, 200);
    cr_expect_eq (r->attempts, 2);
    cr_expect_eq (atomic_load (&s_srv.hits), 2);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, post_not_retried_on_500)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    sp_http_req_t req = {.body = "x", .body_len = 1};
    cr_expect_eq (sp_http_request (h, SP_HTTP_POST, "/post500", &req, &r), SP_HTTP_ERR_SERVER);
    cr_expect_eq (r->attempts, 1);
    cr_expect_eq (atomic_load (&s_srv.hits), 1);
    sp_http_resp_destroy (&r);
    req.retry_post = true;
    cr_expect_eq (sp_http_request (h, SP_HTTP_POST, "/post500", &req, &r), SP_HTTP_ERR_SERVER);
    cr_expect_eq (r->attempts, 3);
    cr_expect_eq (atomic_load (&s_srv.hits), 4);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, retry_503_exhausted)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    int rc = sp_http_get (h, "/down", &r);
    cr_expect_eq (rc, SP_HTTP_ERR_SERVER);
    cr_expect (sp_http_err_retryable (rc));
    cr_expect_eq (r->status, 503);
    cr_expect_eq (r->attempts, 3);
    cr_expect_eq (atomic_load (&s_srv.hits), 3);
    char want[128];
    snprintf (want, sizeof want, "GET %s/down: HTTP 503: maintenance", s_srv.base);
    cr_expect (r->error && strstr (r->error, want), "error: %s", r->error);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, retry_after_429_sleeps)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    double t0 = s_now ();
    cr_assert_eq (sp_http_get (h, "/rate", &r), SP_HTTP_OK);
    double dt = s_now () - t0;
    cr_expect_geq (dt, 1.0, "waited only %.3f s", dt);
    cr_expect_lt (dt, 3.0, "waited %.3f s", dt);
    cr_expect_eq (r->attempts, 2);
    cr_expect_eq (json_integer_value (json_object_get (r->json, "ok")), 2);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, retry_after_429_returned)
{
    sp_http_t *h = s_client ();
    sp_http_set_return_429 (h, true);
    sp_http_resp_t *r = NULL;
    double t0 = s_now ();
    int rc = sp_http_get (h, "/rate", &r);
    double dt = s_now () - t0;
    cr_expect_eq (rc, SP_HTTP_ERR_RATE_LIMITED);
    cr_expect (sp_http_err_retryable (rc));
    cr_expect_lt (dt, 0.5, "slept %.3f s", dt);
    cr_expect_eq (r->status, 429);
    cr_expect_eq (r->retry_after_ms, 1000);
    cr_expect_str_eq (sp_http_resp_header (r, "Retry-After"), "1");
    cr_expect_eq (atomic_load (&s_srv.hits), 1);
    sp_http_resp_destroy (&r);

    //  Sleep mode, but Retry-After above the cap: handed back too.
    sp_http_set_return_429 (h, false);
    sp_http_set_retry_after_cap (h, 500);
    atomic_store (&s_srv.hits, 0);
    t0 = s_now ();
    cr_expect_eq (sp_http_get (h, "/rate", &r), SP_HTTP_ERR_RATE_LIMITED);
    cr_expect_lt (s_now () - t0, 0.5);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

//  sp_http_set_hide_path: a webhook whose path is its secret shows only
//  scheme://host:port in the error (and the logs, which use the same text).
Test (http, hide_path_keeps_the_path_out_of_errors)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    cr_assert_eq (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname (fd, (struct sockaddr *) &a, &al);
    int port = ntohs (a.sin_port);
    close (fd);
    sp_http_t *h = sp_http_new (NULL);
    sp_http_set_retries (h, 0, 10, 10);
    sp_http_set_hide_path (h, true);
    char url[160];
    snprintf (url, sizeof url, "http://bob:pw1@127.0.0.1:%d/hooks/S3CR3T-topic?auth=Zz9", port);
    sp_http_resp_t *r = NULL;
    cr_expect_eq (sp_http_get (h, url, &r), SP_HTTP_ERR_TRANSPORT);
    cr_assert_not_null (r->error);
    char want[64];
    snprintf (want, sizeof want, "http://127.0.0.1:%d/...", port);
    cr_expect (strstr (r->error, want) != NULL, "%s", r->error);
    cr_expect (!strstr (r->error, "S3CR3T") && !strstr (r->error, "Zz9") &&
                   !strstr (r->error, "bob") && !strstr (r->error, "pw1"),
               "%s", r->error);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, connection_refused)
{
    //  A port that was free a moment ago: bind, read it, close.
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    cr_assert_eq (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname (fd, (struct sockaddr *) &a, &al);
    int port = ntohs (a.sin_port);
    close (fd);

    char base[64];
    snprintf (base, sizeof base, "http://user:hunter2@127.0.0.1:%d", port);
    sp_http_t *h = sp_http_new (base);
    sp_http_set_retries (h, 1, 10, 10);
    sp_http_set_header (h, "X-API-Key", "sekrit-key-123");
    sp_http_resp_t *r = NULL;
    int rc = sp_http_get (h, "/api/v0/server?token=abc123", &r);
    cr_expect_eq (rc, SP_HTTP_ERR_TRANSPORT);
    cr_expect (sp_http_err_retryable (rc));
    cr_expect_eq (r->status, 0);
    cr_expect_eq (r->attempts, 2);
    char want[96];
    snprintf (want, sizeof want, "GET http://user:***@127.0.0.1:%d/api/v0/server", port);
    cr_expect (strstr (r->error, want), "error: %s", r->error);
    cr_expect_null (strstr (r->error, "hunter2"), "password leaked: %s", r->error);
    cr_expect_null (strstr (r->error, "abc123"), "token leaked: %s", r->error);
    cr_expect_null (strstr (r->error, "sekrit"), "key leaked: %s", r->error);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, timeout_on_slow_handler)
{
    sp_http_t *h = s_client ();
    sp_http_set_retries (h, 0, 10, 10);
    sp_http_set_timeouts (h, 200, 200);
    sp_http_resp_t *r = NULL;
    double t0 = s_now ();
    int rc = sp_http_get (h, "/slow", &r);
    double dt = s_now () - t0;
    cr_expect_eq (rc, SP_HTTP_ERR_TIMEOUT);
    cr_expect (sp_http_err_retryable (rc));
    cr_expect_lt (dt, 0.7, "took %.3f s", dt);
    cr_expect (strstr (r->error, "timed out"), "error: %s", r->error);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, oversize_body_aborted)
{
    sp_http_t *h = s_client ();
    sp_http_set_max_response (h, 10000);
    sp_http_resp_t *r = NULL;
    //  Known Content-Length.
    int rc = sp_http_get (h, "/big", &r);
    cr_expect_eq (rc, SP_HTTP_ERR_TOO_LARGE);
    cr_expect_not (sp_http_err_retryable (rc));
    cr_expect (strstr (r->error, "response too large"), "error: %s", r->error);
    cr_expect_leq (r->body_len, 10000);
    cr_expect_null (r->json);
    cr_expect_eq (r->attempts, 1);
    sp_http_resp_destroy (&r);
    //  Streamed without a length: stopped by the write callback.
    rc = sp_http_get (h, "/stream", &r);
    cr_expect_eq (rc, SP_HTTP_ERR_TOO_LARGE);
    cr_expect_leq (r->body_len, 10000);
    sp_http_resp_destroy (&r);
    //  The same body is fine under a larger limit.
    sp_http_set_max_response (h, 200000);
    cr_expect_eq (sp_http_get (h, "/big", &r), SP_HTTP_OK);
    cr_expect (json_is_array (r->json));
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, bad_json_and_text)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    int rc = sp_http_get (h, "/badjson", &r);
    cr_expect_eq (rc, SP_HTTP_ERR_BAD_JSON);
    cr_expect_not (sp_http_err_retryable (rc));
    cr_expect (r->json_bad);
    cr_expect_null (r->json);
    cr_expect_str_eq (r->body, "{\"a\": [1, 2");
    cr_expect (strstr (r->error, "bad JSON"), "error: %s", r->error);
    sp_http_resp_destroy (&r);

    //  Plain text (slskd /health) is fine when allowed.
    cr_expect_eq (sp_http_get (h, "/text", &r), SP_HTTP_ERR_BAD_JSON);
    sp_http_resp_destroy (&r);
    sp_http_req_t req = {.allow_text = true};
    cr_expect_eq (sp_http_request (h, SP_HTTP_GET, "/text", &req, &r), SP_HTTP_OK);
    cr_expect_str_eq (r->body, "Healthy");
    cr_expect (r->json_bad);
    sp_http_resp_destroy (&r);

    //  A 404 with a text body is a 4xx, not a JSON error.
    rc = sp_http_get (h, "/missing?X-Plex-Token=plexsecret", &r);
    cr_expect_eq (rc, SP_HTTP_ERR_CLIENT);
    cr_expect_eq (r->attempts, 1);
    cr_expect_eq (r->status, 404);
    cr_expect (strstr (r->error, "HTTP 404: no such thing"), "error: %s", r->error);
    cr_expect_null (strstr (r->error, "plexsecret"), "token leaked: %s", r->error);
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, empty_204)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    cr_assert_eq (sp_http_delete (h, "/empty", &r), SP_HTTP_OK);
    cr_expect_eq (r->status, 204);
    cr_expect_null (r->json);
    cr_expect_not (r->json_bad);
    cr_expect_eq (r->body_len, 0);
    cr_expect_str_eq (r->body, "");
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, headers_both_ways)
{
    sp_http_t *h = s_client ();
    cr_assert_eq (sp_http_set_header (h, "X-API-Key", "k-123"), SP_HTTP_OK);
    cr_assert_eq (sp_http_set_header (h, "Authorization", "Bearer old"), SP_HTTP_OK);
    cr_assert_eq (sp_http_set_header (h, "Authorization", "Bearer tok"), SP_HTTP_OK);
    cr_expect_eq (sp_http_set_header (h, "X-Bad", "a\r\nInjected: 1"), SP_HTTP_ERR_INVALID);
    cr_expect_eq (sp_http_set_header (h, "Bad:Name", "v"), SP_HTTP_ERR_INVALID);
    const char *extra[] = {"X-Extra: yes", NULL};
    sp_http_req_t req = {.headers = extra};
    sp_http_resp_t *r = NULL;
    cr_assert_eq (sp_http_request (h, SP_HTTP_GET, "/headers", &req, &r), SP_HTTP_OK);
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "key")), "k-123");
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "accept")), "application/json");
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "extra")), "yes");
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "auth")), "Bearer tok");
    cr_expect_str_eq (sp_http_resp_header (r, "X-Plex-Container-Total-Size"), "1234");
    cr_expect_null (sp_http_resp_header (r, "X-Nope"));
    sp_http_resp_destroy (&r);

    //  A per-request header replaces a default one; NULL removes one.
    const char *over[] = {"Authorization: Bearer other", NULL};
    req.headers = over;
    sp_http_set_header (h, "X-API-Key", NULL);
    cr_assert_eq (sp_http_request (h, SP_HTTP_GET, "/headers", &req, &r), SP_HTTP_OK);
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "auth")), "Bearer other");
    cr_expect_str_eq (json_string_value (json_object_get (r->json, "key")), "");
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, redirects)
{
    sp_http_t *h = s_client ();
    sp_http_resp_t *r = NULL;
    cr_assert_eq (sp_http_get (h, "/redirect", &r), SP_HTTP_OK);
    cr_expect_eq (r->status, 200);
    cr_expect_eq (json_integer_value (json_object_get (r->json, "n")), 42);
    sp_http_resp_destroy (&r);
    sp_http_set_follow_redirects (h, false);
    cr_assert_eq (sp_http_get (h, "/redirect", &r), SP_HTTP_OK);
    cr_expect_eq (r->status, 302);
    cr_expect_str_eq (sp_http_resp_header (r, "Location"), "/json");
    sp_http_resp_destroy (&r);
    sp_http_destroy (&h);
}

Test (http, urlencode_and_names)
{
    char *e = sp_http_urlencode ("a b/ü~-._");
    cr_expect_str_eq (e, "a%20b%2F%C3%BC~-._");
    free (e);
    cr_expect_null (sp_http_urlencode (NULL));
    cr_expect_str_eq (sp_http_err_name (SP_HTTP_ERR_CLIENT), "http-4xx");
    cr_expect_not (sp_http_err_retryable (SP_HTTP_ERR_CLIENT));
    cr_expect_not (sp_http_err_retryable (SP_HTTP_OK));
    cr_expect (sp_http_err_retryable (SP_HTTP_ERR_TIMEOUT));
}
