/*  http.c: libcurl wrapper for the upstream JSON APIs (Spotify, Plex,
    slskd): base URL + default headers, timeouts, retries with backoff and
    jitter, Retry-After on 429, bounded bodies, JSON parsing with jansson,
    and error strings with secrets redacted. See http.h.
*/
#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"
#include "soulpipe/rand.h"
#include "soulpipe/text.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef SOULPIPE_VERSION
#define SOULPIPE_VERSION "dev"
#endif

#define DEFAULT_CONNECT_MS      5000   //  msecs
#define DEFAULT_TOTAL_MS        30000  //  msecs
#define DEFAULT_RETRIES         3
#define DEFAULT_BASE_DELAY_MS   500          //  msecs
#define DEFAULT_MAX_DELAY_MS    30000        //  msecs
#define DEFAULT_RETRY_AFTER_CAP 60000        //  msecs
#define DEFAULT_MAX_RESPONSE    (16u << 20)  //  bytes
#define MAX_REDIRECTS           5
#define MAX_RESP_HEADERS        128   //  headers kept per response
#define URL_MAX                 8192  //  bytes of a built URL
#define SNIPPET_MAX             160   //  bytes of body quoted in errors

struct _sp_http_t {
    CURL *curl;               //  reused easy handle (keeps connections alive)
    char *base;               //  base URL without trailing '/', or NULL
    char **hdr_names;         //  default header names
    char **hdr_lines;         //  matching "Name: value" lines
    size_t hdr_count;         //  number of default headers
    long connect_ms;          //  connect timeout
    long total_ms;            //  whole-transfer timeout (per attempt)
    int retries;              //  extra attempts after the first
    long base_delay_ms;       //  first backoff delay
    long max_delay_ms;        //  backoff cap
    long retry_after_cap_ms;  //  longest Retry-After slept on
    bool return_429;          //  never sleep on 429: hand it back
    size_t max_response;      //  body size limit in bytes
    bool follow;              //  follow redirects
    bool hide_path;           //  logs and errors show scheme://host[:port] only
    unsigned int seed;        //  rand_r state for jitter
};

//  One attempt's received data.
typedef struct {
    char *buf;         //  body bytes (NUL-terminated)
    size_t len;        //  body length
    size_t cap;        //  allocated
    size_t max;        //  limit
    bool too_large;    //  limit hit, transfer aborted
    bool nomem;        //  allocation failed
    char **hdr;        //  "name\0value" entries
    size_t hdr_count;  //  entries used
} s_xfer_t;

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc = CURLE_OK;

static void
s_curl_global_init (void)
{
    s_curl_init_rc = curl_global_init (CURL_GLOBAL_DEFAULT);
}

static const char *
s_method_name (sp_http_method_t m)
{
    switch (m) {
        case SP_HTTP_GET:
            return "GET";
        case SP_HTTP_POST:
            return "POST";
        case SP_HTTP_PUT:
            return "PUT";
        case SP_HTTP_DELETE:
            return "DELETE";
    }
    return "?";
}

// ------------------------------------------------------------ client

sp_http_t *
sp_http_new (const char *base_url)
{
    pthread_once (&s_curl_once, s_curl_global_init);
    if (s_curl_init_rc != CURLE_OK)
        return NULL;
    sp_http_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->curl = curl_easy_init ();
    if (!self->curl)
        goto fail;
    if (base_url) {
        size_t len = strlen (base_url);
        while (len > 0 && base_url[len - 1] == '/')
            len--;
        self->base = strndup (base_url, len);
        if (!self->base)
            goto fail;
    }
    self->connect_ms = DEFAULT_CONNECT_MS;
    self->total_ms = DEFAULT_TOTAL_MS;
    self->retries = DEFAULT_RETRIES;
    self->base_delay_ms = DEFAULT_BASE_DELAY_MS;
    self->max_delay_ms = DEFAULT_MAX_DELAY_MS;
    self->retry_after_cap_ms = DEFAULT_RETRY_AFTER_CAP;
    self->max_response = DEFAULT_MAX_RESPONSE;
    self->follow = true;
    self->seed = (unsigned int) sp_rand_u64 ();
    if (sp_http_set_header (self, "Accept", "application/json") != SP_HTTP_OK)
        goto fail;
    return self;
fail:
    sp_http_destroy (&self);
    return NULL;
}

void
sp_http_destroy (sp_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_http_t *self = *self_p;
    if (self->curl)
        curl_easy_cleanup (self->curl);
    for (size_t i = 0; i < self->hdr_count; i++) {
        free (self->hdr_names[i]);
        free (self->hdr_lines[i]);
    }
    free (self->hdr_names);
    free (self->hdr_lines);
    free (self->base);
    free (self);
    *self_p = NULL;
}

//  True when s has no CR or LF (no header injection).
static bool
s_no_crlf (const char *s)
{
    return strpbrk (s, "\r\n") == NULL;
}

int
sp_http_set_header (sp_http_t *self, const char *name, const char *value)
{
    if (!self || !name || !*name || strchr (name, ':') || strchr (name, ' ') || !s_no_crlf (name) ||
        (value && !s_no_crlf (value)))
        return SP_HTTP_ERR_INVALID;
    //  Remove any existing header of that name.
    for (size_t i = 0; i < self->hdr_count; i++) {
        if (strcasecmp (self->hdr_names[i], name) == 0) {
            free (self->hdr_names[i]);
            free (self->hdr_lines[i]);
            self->hdr_count--;
            self->hdr_names[i] = self->hdr_names[self->hdr_count];
            self->hdr_lines[i] = self->hdr_lines[self->hdr_count];
            break;
        }
    }
    if (!value)
        return SP_HTTP_OK;
    char **names = realloc (self->hdr_names, (self->hdr_count + 1) * sizeof (char *));
    if (!names)
        return SP_HTTP_ERR_NOMEM;
    self->hdr_names = names;
    char **lines = realloc (self->hdr_lines, (self->hdr_count + 1) * sizeof (char *));
    if (!lines)
        return SP_HTTP_ERR_NOMEM;
    self->hdr_lines = lines;
    size_t ll = strlen (name) + strlen (value) + 3;
    char *line = malloc (ll);
    char *nm = strdup (name);
    if (!line || !nm) {
        free (line);
        free (nm);
        return SP_HTTP_ERR_NOMEM;
    }
    snprintf (line, ll, "%s: %s", name, value);
    self->hdr_names[self->hdr_count] = nm;
    self->hdr_lines[self->hdr_count] = line;
    self->hdr_count++;
    return SP_HTTP_OK;
}

void
sp_http_set_timeouts (sp_http_t *self, long connect_ms, long total_ms)
{
    if (!self)
        return;
    if (connect_ms > 0)
        self->connect_ms = connect_ms;
    if (total_ms > 0)
        self->total_ms = total_ms;
}

void
sp_http_set_retries (sp_http_t *self, int retries, long base_delay_ms, long max_delay_ms)
{
    if (!self)
        return;
    self->retries = retries < 0 ? 0 : retries;
    self->base_delay_ms = base_delay_ms < 0 ? 0 : base_delay_ms;
    self->max_delay_ms = max_delay_ms < self->base_delay_ms ? self->base_delay_ms : max_delay_ms;
}

void
sp_http_set_retry_after_cap (sp_http_t *self, long cap_ms)
{
    if (self)
        self->retry_after_cap_ms = cap_ms < 0 ? 0 : cap_ms;
}

void
sp_http_set_return_429 (sp_http_t *self, bool return_429)
{
    if (self)
        self->return_429 = return_429;
}

void
sp_http_set_max_response (sp_http_t *self, size_t max_bytes)
{
    if (self && max_bytes > 0)
        self->max_response = max_bytes;
}

void
sp_http_set_follow_redirects (sp_http_t *self, bool follow)
{
    if (self)
        self->follow = follow;
}

void
sp_http_set_hide_path (sp_http_t *self, bool hide)
{
    if (self)
        self->hide_path = hide;
}

//  Cut a (redacted) URL to scheme://host[:port]/... (no user, path, query).
static void
s_hide_path (char *url)
{
    char *p = strstr (url, "://");
    if (!p)
        return;
    p += 3;
    char *end = p + strcspn (p, "/?#");
    char *at = memchr (p, '@', (size_t) (end - p));
    if (at) {  //  user[:password]@ goes too
        size_t cut = (size_t) (at + 1 - p);
        memmove (p, at + 1, strlen (at + 1) + 1);
        end -= cut;
    }
    if (strlen (end) >= 4)  //  room for "/..." in place
        memcpy (end, "/...", 5);
    else
        *end = '\0';
}

// ------------------------------------------------------------ transfer callbacks

static void
s_xfer_clear_headers (s_xfer_t *x)
{
    for (size_t i = 0; i < x->hdr_count; i++)
        free (x->hdr[i]);
    x->hdr_count = 0;
}

static size_t
s_write_cb (char *data, size_t size, size_t nmemb, void *userp)
{
    s_xfer_t *x = userp;
    size_t n = size * nmemb;
    if (n > x->max - x->len) {
        x->too_large = true;
        return 0;  //  aborts the transfer
    }
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *b = realloc (x->buf, cap);
        if (!b) {
            x->nomem = true;
            return 0;
        }
        x->buf = b;
        x->cap = cap;
    }
    memcpy (x->buf + x->len, data, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

//  Collect "Name: value" lines of the last response block (a status line
//  starts a new block: 100-continue, redirects).
static size_t
s_header_cb (char *data, size_t size, size_t nitems, void *userp)
{
    s_xfer_t *x = userp;
    size_t n = size * nitems;
    if (n >= 5 && memcmp (data, "HTTP/", 5) == 0) {
        s_xfer_clear_headers (x);
        return n;
    }
    const char *colon = memchr (data, ':', n);
    if (!colon || x->hdr_count >= MAX_RESP_HEADERS)
        return n;
    size_t nl = (size_t) (colon - data);
    const char *v = colon + 1;
    const char *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vl = (size_t) (end - v);
    char *e = malloc (nl + vl + 2);
    if (!e)
        return n;
    memcpy (e, data, nl);
    e[nl] = '\0';
    memcpy (e + nl + 1, v, vl);
    e[nl + 1 + vl] = '\0';
    if (!x->hdr) {
        x->hdr = calloc (MAX_RESP_HEADERS, sizeof (char *));
        if (!x->hdr) {
            free (e);
            return n;
        }
    }
    x->hdr[x->hdr_count++] = e;
    return n;
}

static const char *
s_header_lookup (char *const *hdr, size_t count, const char *name)
{
    const char *found = NULL;
    for (size_t i = 0; i < count; i++)
        if (strcasecmp (hdr[i], name) == 0)
            found = hdr[i] + strlen (hdr[i]) + 1;
    return found;
}

// ------------------------------------------------------------ helpers

//  Retry-After: delta seconds or an HTTP date. Returns ms, or -1.
static long
s_parse_retry_after (const char *v)
{
    if (!v || !*v)
        return -1;
    if (*v >= '0' && *v <= '9') {
        char *end;
        errno = 0;
        long s = strtol (v, &end, 10);
        if (errno || *end != '\0' || s < 0 || s > 86400 * 7)
            return -1;
        return s * 1000;
    }
    time_t when = curl_getdate (v, NULL);
    if (when < 0)
        return -1;
    time_t now = time (NULL);
    return when <= now ? 0 : (long) (when - now) * 1000;
}

static long
s_backoff_ms (sp_http_t *self, int attempt)
{
    long d = self->base_delay_ms;
    for (int i = 1; i < attempt && d < self->max_delay_ms; i++)
        d *= 2;
    if (d > self->max_delay_ms)
        d = self->max_delay_ms;
    //  Equal jitter: somewhere in [d/2, d].
    long half = d / 2;
    return half + (half > 0 ? (long) (rand_r (&self->seed) % (unsigned long) (half + 1)) : 0);
}

//  A short printable quote of a body for error messages.
static void
s_snippet (const char *body, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < size; i++) {
        unsigned char c = (unsigned char) body[i];
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        out[o++] = (c >= 0x20 && c < 0x7F) ? (char) c : '?';
    }
    if (o + 4 >= size && len > o) {
        out[o++] = '.';
        out[o++] = '.';
        out[o++] = '.';
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

//  True when the body is only whitespace.
static bool
s_blank (const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
            return false;
    return true;
}

static int
s_build_url (sp_http_t *self, const char *path, char **out)
{
    *out = NULL;
    if (strncasecmp (path, "http://", 7) == 0 || strncasecmp (path, "https://", 8) == 0) {
        *out = strdup (path);
        return *out ? SP_HTTP_OK : SP_HTTP_ERR_NOMEM;
    }
    if (!self->base)
        return SP_HTTP_ERR_INVALID;
    size_t len = strlen (self->base) + strlen (path) + 2;
    if (len > URL_MAX)
        return SP_HTTP_ERR_INVALID;
    char *u = malloc (len);
    if (!u)
        return SP_HTTP_ERR_NOMEM;
    size_t bl = strlen (self->base), pl = strlen (path), o = bl;
    memcpy (u, self->base, bl);
    if (path[0] != '/')
        u[o++] = '/';
    memcpy (u + o, path, pl + 1);
    *out = u;
    return SP_HTTP_OK;
}

//  Does the header line list hdrs (NULL-terminated) set this name?
static bool
s_req_sets (const char *const *hdrs, const char *name)
{
    size_t nl = strlen (name);
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        if (strncasecmp (hdrs[i], name, nl) == 0 && hdrs[i][nl] == ':')
            return true;
    return false;
}

//  Build the header list for one request. Returns NULL on allocation
//  failure (list may legitimately be empty only when nothing is set, which
//  never happens: Expect: is always sent).
static struct curl_slist *
s_headers (sp_http_t *self, const sp_http_req_t *req, const char *ctype)
{
    struct curl_slist *list = NULL, *t;
    const char *const *extra = req ? req->headers : NULL;
    for (size_t i = 0; i < self->hdr_count; i++) {
        if (s_req_sets (extra, self->hdr_names[i]))
            continue;
        if (!(t = curl_slist_append (list, self->hdr_lines[i])))
            goto fail;
        list = t;
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        if (!(t = curl_slist_append (list, extra[i])))
            goto fail;
        list = t;
    }
    if (ctype && !s_req_sets (extra, "Content-Type")) {
        char line[256];
        snprintf (line, sizeof line, "Content-Type: %s", ctype);
        if (!(t = curl_slist_append (list, line)))
            goto fail;
        list = t;
    }
    //  No "Expect: 100-continue" round trip on larger bodies.
    if (!(t = curl_slist_append (list, "Expect:")))
        goto fail;
    return t;
fail:
    curl_slist_free_all (list);
    return NULL;
}

// ------------------------------------------------------------ requests

//  One request: what sp_http_request builds once and every attempt uses.
typedef struct {
    sp_http_method_t method;            //  the method
    const char *mname;                  //  its name, for logs and errors
    char *url;                          //  full URL (owned)
    char rurl[1024];                    //  url with secrets redacted, for logs and errors
    char *json_text;                    //  serialized req->json (owned), or NULL
    const char *body;                   //  request body, or NULL
    size_t body_len;                    //  its length
    const char *ctype;                  //  its Content-Type, NULL without a body
    struct curl_slist *hdrs;            //  request headers (owned)
    bool post_safe;                     //  may be sent again after a failure
    s_xfer_t x;                         //  the current attempt's answer
    char errbuf[CURL_ERROR_SIZE];       //  libcurl's message for the attempt
    char cause[CURL_ERROR_SIZE + 256];  //  why the attempt failed ("" when it did not)
} s_call_t;

//  Arguments that sp_http_request refuses before sending anything.
static int
s_check_request (const sp_http_t *self, sp_http_method_t method, const char *path,
                 const sp_http_req_t *req)
{
    if (!self || !path || (int) method < SP_HTTP_GET || method > SP_HTTP_DELETE)
        return SP_HTTP_ERR_INVALID;
    int bodies = (req->json != NULL) + (req->form != NULL) + (req->body != NULL);
    if (bodies > 1 || (req->body_len > 0 && !req->body))
        return SP_HTTP_ERR_INVALID;
    for (size_t i = 0; req->headers && req->headers[i]; i++)
        if (!s_no_crlf (req->headers[i]) || !strchr (req->headers[i], ':'))
            return SP_HTTP_ERR_INVALID;
    return SP_HTTP_OK;
}

//  The body, if any, and its Content-Type.
static int
s_prepare_body (s_call_t *call, const sp_http_req_t *req)
{
    if (req->json) {
        call->json_text = json_dumps (req->json, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!call->json_text)
            return SP_HTTP_ERR_INVALID;
        call->body = call->json_text;
        call->body_len = strlen (call->json_text);
        call->ctype = "application/json";
    } else if (req->form) {
        call->body = req->form;
        call->body_len = strlen (req->form);
        call->ctype = "application/x-www-form-urlencoded";
    } else if (req->body) {
        call->body = req->body;
        call->body_len = req->body_len;
        call->ctype = req->content_type ? req->content_type : "application/octet-stream";
    }
    return SP_HTTP_OK;
}

//  Forget the previous attempt's answer.
static void
s_xfer_reset (s_xfer_t *x, size_t max)
{
    free (x->buf);
    x->buf = NULL;
    x->len = x->cap = 0;
    x->max = max;
    x->too_large = x->nomem = false;
    s_xfer_clear_headers (x);
}

//  Set the reused easy handle up for one attempt.
static void
s_set_options (sp_http_t *self, s_call_t *call)
{
    CURL *c = self->curl;
    curl_easy_reset (c);
    curl_easy_setopt (c, CURLOPT_URL, call->url);
    curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT_MS, self->connect_ms);
    curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, self->total_ms);
    curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, self->follow ? 1L : 0L);
    curl_easy_setopt (c, CURLOPT_MAXREDIRS, (long) MAX_REDIRECTS);
    curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt (c, CURLOPT_WRITEDATA, &call->x);
    curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_header_cb);
    curl_easy_setopt (c, CURLOPT_HEADERDATA, &call->x);
    curl_easy_setopt (c, CURLOPT_HTTPHEADER, call->hdrs);
    curl_easy_setopt (c, CURLOPT_ERRORBUFFER, call->errbuf);
    curl_easy_setopt (c, CURLOPT_USERAGENT, "soulpipe/" SOULPIPE_VERSION);
    curl_easy_setopt (c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) self->max_response);
    curl_easy_setopt (c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt (c, CURLOPT_TCP_KEEPALIVE, 1L);
    switch (call->method) {
        case SP_HTTP_GET:
            curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
            break;
        case SP_HTTP_POST:
            curl_easy_setopt (c, CURLOPT_POST, 1L);
            break;
        case SP_HTTP_PUT:
        case SP_HTTP_DELETE:
            curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, call->mname);
            break;
    }
    if (call->body || call->method == SP_HTTP_POST || call->method == SP_HTTP_PUT) {
        curl_easy_setopt (c, CURLOPT_POSTFIELDS, call->body ? call->body : "");
        curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) call->body_len);
    }
}

//  What one attempt's outcome means: returns its result code, writes why it
//  failed into call->cause, and says whether it may be retried and after
//  what delay (-1: the usual backoff).
static int
s_judge (const sp_http_t *self, s_call_t *call, CURLcode cc, const sp_http_resp_t *resp,
         bool *retry, long *delay)
{
    s_xfer_t *x = &call->x;
    long status = resp->status;
    *retry = false;
    *delay = -1;
    if (x->nomem) {
        snprintf (call->cause, sizeof call->cause, "out of memory");
        return SP_HTTP_ERR_NOMEM;
    }
    if (x->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf (call->cause, sizeof call->cause, "response too large (over %zu bytes)",
                  self->max_response);
        return SP_HTTP_ERR_TOO_LARGE;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf (call->cause, sizeof call->cause, "timed out (connect %ld ms, total %ld ms)",
                  self->connect_ms, self->total_ms);
        *retry = call->post_safe;
        return SP_HTTP_ERR_TIMEOUT;
    }
    if (cc != CURLE_OK) {
        snprintf (call->cause, sizeof call->cause, "%s",
                  call->errbuf[0] ? call->errbuf : curl_easy_strerror (cc));
        //  Not connected means not sent: safe to retry even a POST.
        *retry = call->post_safe || cc == CURLE_COULDNT_CONNECT ||
                 cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY;
        return SP_HTTP_ERR_TRANSPORT;
    }
    if (status >= 200 && status < 400)
        return SP_HTTP_OK;
    char snip[SNIPPET_MAX];
    s_snippet (x->buf ? x->buf : "", x->len, snip, sizeof snip);
    snprintf (call->cause, sizeof call->cause, "HTTP %ld%s%s", status, snip[0] ? ": " : "", snip);
    if (status == 429) {
        if (!self->return_429 && resp->retry_after_ms <= self->retry_after_cap_ms) {
            *retry = true;
            *delay = resp->retry_after_ms;
        }
        return SP_HTTP_ERR_RATE_LIMITED;
    }
    if (status >= 500) {
        *retry = call->post_safe || status == 503;
        if (resp->retry_after_ms >= 0) {
            if (resp->retry_after_ms > self->retry_after_cap_ms)
                *retry = false;
            else
                *delay = resp->retry_after_ms;
        }
        return SP_HTTP_ERR_SERVER;
    }
    return SP_HTTP_ERR_CLIENT;
}

//  Send the request until an attempt may not be retried (or the retries
//  are used up). Fills resp->status and retry_after_ms from the last
//  attempt, whose answer stays in call->x. Returns its result code.
static int
s_attempts (sp_http_t *self, s_call_t *call, sp_http_resp_t *resp)
{
    int rc;
    for (;;) {
        resp->attempts++;
        s_xfer_reset (&call->x, self->max_response);
        call->errbuf[0] = '\0';
        call->cause[0] = '\0';
        s_set_options (self, call);
        CURLcode cc = curl_easy_perform (self->curl);
        long status = 0;
        curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &status);
        resp->status = status;
        resp->retry_after_ms =
            s_parse_retry_after (s_header_lookup (call->x.hdr, call->x.hdr_count, "Retry-After"));
        bool retry;
        long delay;
        rc = s_judge (self, call, cc, resp, &retry, &delay);
        if (!retry || resp->attempts > self->retries)
            return rc;
        if (delay < 0)
            delay = s_backoff_ms (self, resp->attempts);
        sp_log_warn ("event=http_retry method=%s url=%s attempt=%d delay_ms=%ld reason=%s",
                     call->mname, sp_log_q (call->rurl), resp->attempts, delay,
                     sp_log_q (call->cause));
        sp_clock_sleep_ms (delay);
    }
}

//  Hand the last answer's body and headers to resp, parse its JSON and
//  write resp->error. Returns the final result code.
static int
s_finish (s_call_t *call, const sp_http_req_t *req, sp_http_resp_t *resp, int rc)
{
    resp->body = call->x.buf ? call->x.buf : strdup ("");
    call->x.buf = NULL;
    resp->body_len = call->x.len;
    resp->hdr_ = call->x.hdr;
    resp->hdr_count_ = call->x.hdr_count;
    call->x.hdr = NULL;
    call->x.hdr_count = 0;
    if (!resp->body)
        return SP_HTTP_ERR_NOMEM;
    if (rc != SP_HTTP_ERR_TOO_LARGE && resp->body_len > 0 &&
        !s_blank (resp->body, resp->body_len)) {
        json_error_t jerr;
        //  One bad string (a NUL, a byte of invalid UTF-8 in a peer's file
        //  name or a playlist title) must not cost the whole answer: NULs
        //  are allowed, and invalid bytes are read as NULs, so the reader
        //  can drop or repair that one item.
        resp->json =
            json_loadb (resp->body, resp->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!resp->json && json_error_code (&jerr) == json_error_invalid_utf8) {
            size_t mlen = 0, marked = 0;
            char *m = sp_text_json_mark_invalid (resp->body, resp->body_len, &mlen, &marked);
            if (m)
                resp->json = json_loadb (m, mlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            free (m);
            if (resp->json) {
                resp->json_marked = marked;
                sp_log_warn ("event=http_invalid_utf8 url=%s bytes=%zu", sp_log_q (call->rurl),
                             marked);
            }
        }
        if (!resp->json) {
            resp->json_bad = true;
            if (rc == SP_HTTP_OK && resp->status < 300 && !req->allow_text) {
                rc = SP_HTTP_ERR_BAD_JSON;
                snprintf (call->cause, sizeof call->cause,
                          "bad JSON in HTTP %ld response: %s (line %d)", resp->status, jerr.text,
                          jerr.line);
            }
        }
    }
    if (rc != SP_HTTP_OK) {
        char msg[sizeof call->rurl + sizeof call->cause + 64];
        if (resp->attempts > 1)
            snprintf (msg, sizeof msg, "%s %s: %s (after %d attempts)", call->mname, call->rurl,
                      call->cause, resp->attempts);
        else
            snprintf (msg, sizeof msg, "%s %s: %s", call->mname, call->rurl, call->cause);
        resp->error = strdup (msg);
    }
    sp_log_debug ("event=http method=%s url=%s status=%ld bytes=%zu attempts=%d result=%s",
                  call->mname, sp_log_q (call->rurl), resp->status, resp->body_len, resp->attempts,
                  sp_http_err_name (rc));
    return rc;
}

int
sp_http_request (sp_http_t *self, sp_http_method_t method, const char *path,
                 const sp_http_req_t *req, sp_http_resp_t **resp_p)
{
    if (resp_p)
        *resp_p = NULL;
    static const sp_http_req_t s_none;
    if (!req)
        req = &s_none;
    int rc = s_check_request (self, method, path, req);
    if (rc != SP_HTTP_OK)
        return rc;

    s_call_t call = {.method = method, .mname = s_method_name (method)};
    sp_http_resp_t *resp = NULL;
    rc = s_build_url (self, path, &call.url);
    if (rc != SP_HTTP_OK)
        goto done;
    sp_log_redact_url (call.url, call.rurl, sizeof call.rurl);
    //  call.url is freed at done: the analyzer loses it inside the big s_call_t
    // NOLINTNEXTLINE(clang-analyzer-unix.Malloc)
    rc = s_prepare_body (&call, req);
    if (self->hide_path)
        s_hide_path (call.rurl);
    if (rc != SP_HTTP_OK)
        goto done;
    call.hdrs = s_headers (self, req, call.ctype);
    resp = calloc (1, sizeof *resp);
    if (!call.hdrs || !resp) {
        rc = SP_HTTP_ERR_NOMEM;
        goto done;
    }
    resp->retry_after_ms = -1;
    call.post_safe = method != SP_HTTP_POST || req->retry_post;
    rc = s_attempts (self, &call, resp);
    rc = s_finish (&call, req, resp, rc);

done:
    if (resp)
        resp->err = (sp_http_err_t) rc;
    free (call.x.buf);
    s_xfer_clear_headers (&call.x);
    free (call.x.hdr);
    curl_slist_free_all (call.hdrs);
    free (call.json_text);
    free (call.url);
    if (resp_p && rc != SP_HTTP_ERR_NOMEM)
        *resp_p = resp;
    else
        sp_http_resp_destroy (&resp);
    return rc;
}

int
sp_http_get (sp_http_t *self, const char *path, sp_http_resp_t **resp_p)
{
    return sp_http_request (self, SP_HTTP_GET, path, NULL, resp_p);
}

int
sp_http_post_json (sp_http_t *self, const char *path, const json_t *body, sp_http_resp_t **resp_p)
{
    sp_http_req_t req = {.json = body};
    return sp_http_request (self, SP_HTTP_POST, path, &req, resp_p);
}

int
sp_http_put_json (sp_http_t *self, const char *path, const json_t *body, sp_http_resp_t **resp_p)
{
    sp_http_req_t req = {.json = body};
    return sp_http_request (self, SP_HTTP_PUT, path, &req, resp_p);
}

int
sp_http_delete (sp_http_t *self, const char *path, sp_http_resp_t **resp_p)
{
    return sp_http_request (self, SP_HTTP_DELETE, path, NULL, resp_p);
}

// ------------------------------------------------------------ responses

void
sp_http_resp_destroy (sp_http_resp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_http_resp_t *self = *self_p;
    json_decref (self->json);
    free (self->body);
    free (self->error);
    for (size_t i = 0; i < self->hdr_count_; i++)
        free (self->hdr_[i]);
    free (self->hdr_);
    free (self);
    *self_p = NULL;
}

const char *
sp_http_resp_header (const sp_http_resp_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    return s_header_lookup (self->hdr_, self->hdr_count_, name);
}

// ------------------------------------------------------------ helpers

bool
sp_http_err_retryable (int err)
{
    return err == SP_HTTP_ERR_TRANSPORT || err == SP_HTTP_ERR_TIMEOUT ||
           err == SP_HTTP_ERR_RATE_LIMITED || err == SP_HTTP_ERR_SERVER;
}

const char *
sp_http_err_name (int err)
{
    switch (err) {
        case SP_HTTP_OK:
            return "ok";
        case SP_HTTP_ERR_TRANSPORT:
            return "transport";
        case SP_HTTP_ERR_TIMEOUT:
            return "timeout";
        case SP_HTTP_ERR_CLIENT:
            return "http-4xx";
        case SP_HTTP_ERR_RATE_LIMITED:
            return "rate-limited";
        case SP_HTTP_ERR_SERVER:
            return "http-5xx";
        case SP_HTTP_ERR_TOO_LARGE:
            return "too-large";
        case SP_HTTP_ERR_BAD_JSON:
            return "bad-json";
        case SP_HTTP_ERR_INVALID:
            return "invalid";
        case SP_HTTP_ERR_NOMEM:
            return "nomem";
        default:
            return "unknown";
    }
}

char *
sp_http_urlencode (const char *s)
{
    if (!s)
        return NULL;
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen (s);
    char *out = malloc (len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            out[o++] = (char) c;
        else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}
