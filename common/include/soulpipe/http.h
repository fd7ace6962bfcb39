/*  http.h: a small libcurl client for the JSON APIs soulpipe talks to
    (Spotify, Plex, slskd).

    One sp_http_t holds a base URL ("http://slskd:5030", no path), default
    headers (X-API-Key, Authorization, Accept: application/json by default),
    timeouts, a retry policy and a response size limit, plus one reused curl
    handle (keep-alive). Use one sp_http_t per thread; sp_http_new calls
    curl_global_init once per process (pthread_once).

    Retries: transport errors (refused, reset, DNS), timeouts and 5xx are
    retried up to `retries` times with exponential backoff and jitter
    (delay = base * 2^(attempt-1), capped, then a random value in
    [delay/2, delay]). A 429 (and a 503 with Retry-After) sleeps the
    Retry-After seconds (or the backoff when absent) and retries, unless the
    wait is longer than the cap or the client is in "return 429" mode; then
    SP_HTTP_ERR_RATE_LIMITED is returned at once with resp->retry_after_ms
    set. POST is retried only when the request surely was not processed
    (connect/resolve errors, 429, 503) unless req->retry_post is set.

    Every request gives a response (sp_http_resp_t, caller owns it) with the
    status, the raw body (bounded), the parsed JSON, the received headers and
    on failure an error string such as
        "GET http://127.0.0.1:5030/api/v0/server: HTTP 401"
    URLs in errors and logs are passed through sp_log_redact_url(); header
    values (API keys, tokens) are never logged or put in errors.
*/
#ifndef SOULPIPE_HTTP_H
#define SOULPIPE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _sp_http_t sp_http_t;

//  Result classes. The retryable ones are what a job should retry later.
typedef enum {
    SP_HTTP_OK = 0,                 //  2xx (or 3xx when redirects are not followed)
    SP_HTTP_ERR_TRANSPORT = -1,     //  refused/reset/DNS/TLS: retryable
    SP_HTTP_ERR_TIMEOUT = -2,       //  connect or total timeout: retryable
    SP_HTTP_ERR_CLIENT = -3,        //  HTTP 4xx other than 429: fatal
    SP_HTTP_ERR_RATE_LIMITED = -4,  //  HTTP 429 handed back: retryable (see retry_after_ms)
    SP_HTTP_ERR_SERVER = -5,        //  HTTP 5xx after retries ran out: retryable
    SP_HTTP_ERR_TOO_LARGE = -6,     //  body over the size limit, transfer aborted: fatal
    SP_HTTP_ERR_BAD_JSON = -7,      //  2xx body is not valid JSON: fatal
    SP_HTTP_ERR_INVALID = -8,       //  bad argument or URL
    SP_HTTP_ERR_NOMEM = -9          //  out of memory
} sp_http_err_t;

typedef enum { SP_HTTP_GET, SP_HTTP_POST, SP_HTTP_PUT, SP_HTTP_DELETE } sp_http_method_t;

//  Optional per-request settings; a zeroed struct (or NULL) means "none".
//  At most one body kind may be set (json, form, or body/body_len).
typedef struct {
    const json_t *json;          //  JSON body, sent compact with
                                 //  Content-Type: application/json (borrowed)
    const char *form;            //  already-encoded form body ("a=1&b=2"),
                                 //  Content-Type: application/x-www-form-urlencoded
    const void *body;            //  raw body bytes (borrowed)...
    size_t body_len;             //  ...and their length
    const char *content_type;    //  for the raw body (default application/octet-stream)
    const char *const *headers;  //  extra "Name: value" headers, NULL-terminated;
                                 //  a name given here replaces a default header
    bool allow_text;             //  a 2xx body that is not JSON is not an error
    bool retry_post;             //  POST is idempotent: retry it like GET
} sp_http_req_t;

//  A response. Caller owns it (sp_http_resp_destroy).
typedef struct {
    sp_http_err_t err;    //  the same class the request returned
    long status;          //  HTTP status of the last attempt; 0 when none
    json_t *json;         //  parsed body (any JSON value), owned by the
                          //  response; NULL when the body is empty or not JSON.
                          //  Strings may hold NUL bytes (\u0000, or a byte of
                          //  invalid UTF-8 a string held: see json_marked), so a
                          //  reader that must not cut a name short checks
                          //  json_string_length() against strlen()
    bool json_bad;        //  body was non-empty and not valid JSON
    size_t json_marked;   //  bytes of invalid UTF-8 read as \u0000 (0 = none)
    char *body;           //  raw body, NUL-terminated (never NULL)
    size_t body_len;      //  its length in bytes (may hold NULs)
    char *error;          //  NULL on success, else a one-line message
                          //  naming the method, redacted URL and cause
    long retry_after_ms;  //  Retry-After of the last response, -1 if none
    int attempts;         //  attempts made (1 + retries)
    char **hdr_;          //  private: "name\0value" pairs of the last response
    size_t hdr_count_;    //  private
} sp_http_resp_t;

// ------------------------------------------------------------ client

/*  Create a client. base_url ("http://host:port", a trailing '/' is dropped;
    NULL allowed when only absolute URLs are used) is copied. Defaults:
    Accept: application/json, connect timeout 5000 ms, total 30000 ms,
    3 retries, base delay 500 ms, max delay 30000 ms, Retry-After cap
    60000 ms, sleep on 429, responses up to 16 MiB, follow redirects (max 5),
    http/https only. Returns NULL on failure. Caller owns the client. */
sp_http_t *sp_http_new (const char *base_url);

/*  Destroy and NULL *self_p; accepts NULL. */
void sp_http_destroy (sp_http_t **self_p);

/*  Set (replace) a default header sent on every request, e.g.
    ("X-API-Key", key) or ("Authorization", "Bearer ..."); value NULL removes
    it. Name and value are copied; they must not contain CR or LF, and the
    name no ':' (SP_HTTP_ERR_INVALID). Returns SP_HTTP_OK or an error. */
int sp_http_set_header (sp_http_t *self, const char *name, const char *value);

/*  Timeouts in ms (values <= 0 keep the current ones). */
void sp_http_set_timeouts (sp_http_t *self, long connect_ms, long total_ms);

/*  Retry policy: retries >= 0 extra attempts, base and max delay in ms. */
void sp_http_set_retries (sp_http_t *self, int retries, long base_delay_ms, long max_delay_ms);

/*  Longest Retry-After (ms) slept on; a longer one is handed back as
    SP_HTTP_ERR_RATE_LIMITED. */
void sp_http_set_retry_after_cap (sp_http_t *self, long cap_ms);

/*  true: a 429 is never slept on; it is returned at once as
    SP_HTTP_ERR_RATE_LIMITED (slskd search serialization handles it). */
void sp_http_set_return_429 (sp_http_t *self, bool return_429);

/*  Largest accepted response body in bytes (> 0). */
void sp_http_set_max_response (sp_http_t *self, size_t max_bytes);

/*  Follow 3xx redirects (default true). With false a 3xx is returned as
    SP_HTTP_OK with its status and a Location header. */
void sp_http_set_follow_redirects (sp_http_t *self, bool follow);

/*  true: URLs in logs and error strings show only scheme://host[:port]
    ("http://hooks.example:8080/..."), for endpoints whose user, path or
    query is the secret (webhooks, ntfy topics). Default false. */
void sp_http_set_hide_path (sp_http_t *self, bool hide);

// ------------------------------------------------------------ requests

/*  Perform a request. path is either absolute ("http://..." or
    "https://...", e.g. Spotify's `next` links) or a path appended to the
    base URL ("/api/v0/server"; a missing leading '/' is added). req may be
    NULL. Returns SP_HTTP_OK or an sp_http_err_t. When resp_p is not NULL,
    *resp_p is set to the response (also on errors; NULL only when out of
    memory or on SP_HTTP_ERR_INVALID before any request); caller owns it. */
int sp_http_request (sp_http_t *self, sp_http_method_t method, const char *path,
                     const sp_http_req_t *req, sp_http_resp_t **resp_p);

//  Shorthands for sp_http_request.
int sp_http_get (sp_http_t *self, const char *path, sp_http_resp_t **resp_p);
int sp_http_post_json (sp_http_t *self, const char *path, const json_t *body,
                       sp_http_resp_t **resp_p);
int sp_http_put_json (sp_http_t *self, const char *path, const json_t *body,
                      sp_http_resp_t **resp_p);
int sp_http_delete (sp_http_t *self, const char *path, sp_http_resp_t **resp_p);

// ------------------------------------------------------------ responses

/*  Destroy and NULL *self_p; accepts NULL. */
void sp_http_resp_destroy (sp_http_resp_t **self_p);

/*  The value of a response header (case-insensitive name; the last one when
    repeated; surrounding whitespace trimmed), e.g. "Retry-After",
    "X-Plex-Container-Total-Size", "Location". Borrowed from the response;
    NULL when absent. */
const char *sp_http_resp_header (const sp_http_resp_t *self, const char *name);

// ------------------------------------------------------------ helpers

/*  True for the classes worth retrying later (transport, timeout, 429, 5xx). */
bool sp_http_err_retryable (int err);

/*  A short name for a class ("transport", "timeout", "http-4xx", ...). */
const char *sp_http_err_name (int err);

/*  Percent-encode s for a URL path segment or form value (RFC 3986
    unreserved characters are kept). Caller owns the result (free());
    NULL on out of memory or NULL s. */
char *sp_http_urlencode (const char *s);

#endif
