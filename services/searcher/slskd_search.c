/*  slskd_search.c: one Soulseek search through slskd (see slskd_search.h). */
#include "slskd_search.h"
#include "soulpipe/clock.h"
#include "soulpipe/log.h"
#include "soulpipe/rand.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  slskd refuses a second concurrent search POST with 429: serialize ours
static pthread_mutex_t s_post_lock = PTHREAD_MUTEX_INITIALIZER;

//  A random (version 4) UUID for a search: slskd takes the search id from
//  the client.
static void
s_guid (char *buf, size_t n)
{
    unsigned char b[16];
    sp_rand_bytes (b, sizeof b);
    b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
    snprintf (buf, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
              b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
              b[14], b[15]);
}

static int
s_class (int err)
{
    if (err == SP_HTTP_OK)
        return SP_SLSKD_OK;
    //  An unreadable 2xx answer (not JSON, too large) is slskd or a proxy in
    //  front of it misbehaving, not something wrong with this track: worth
    //  another try later rather than failing the track for good.
    if (sp_http_err_retryable (err) || err == SP_HTTP_ERR_BAD_JSON || err == SP_HTTP_ERR_TOO_LARGE)
        return SP_SLSKD_ERR_RETRY;
    return SP_SLSKD_ERR_FATAL;
}

sp_http_t *
sp_slskd_client_new (const char *base_url, const char *api_key)
{
    sp_http_t *http = sp_http_new (base_url);
    if (!http)
        return NULL;
    if (api_key && *api_key && sp_http_set_header (http, "X-API-Key", api_key) != SP_HTTP_OK) {
        sp_http_destroy (&http);
        return NULL;
    }
    sp_http_set_return_429 (http, true);
    sp_http_set_timeouts (http, 5000, 15000);
    sp_http_set_retries (http, 2, 300, 2000);
    return http;
}

int
sp_slskd_logged_in (sp_http_t *http, char *err, size_t n)
{
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_get (http, "/api/v0/server", &resp);
    int out;
    if (rc != SP_HTTP_OK) {
        snprintf (err, n, "slskd unreachable: %s",
                  resp && resp->error ? resp->error : sp_http_err_name (rc));
        out = s_class (rc);
        //  a 401/403 is a configuration problem, but retrying later is
        //  what lets the user fix the key without losing the playlist
        if (resp && (resp->status == 401 || resp->status == 403))
            out = SP_SLSKD_ERR_RETRY;
    } else if (json_is_true (json_object_get (resp->json, "isLoggedIn")))
        out = 1;
    else {
        const char *st = json_string_value (json_object_get (resp->json, "state"));
        snprintf (err, n, "slskd is not logged in to Soulseek (state %s)", st ? st : "unknown");
        out = 0;
    }
    sp_http_resp_destroy (&resp);
    return out;
}

static int
s_post (sp_http_t *http, const char *id, const char *text, int timeout_ms, char *err, size_t n)
{
    json_t *body = json_pack ("{s:s, s:s, s:i, s:b}", "id", id, "searchText", text, "searchTimeout",
                              timeout_ms, "filterResponses", 1);
    if (!body) {
        snprintf (err, n, "out of memory");
        return SP_SLSKD_ERR_RETRY;
    }
    int64_t start = sp_clock_mono_ms ();
    int64_t backoff = 200;
    int out = SP_SLSKD_ERR_RETRY;
    for (;;) {
        sp_http_resp_t *resp = NULL;
        pthread_mutex_lock (&s_post_lock);
        int rc = sp_http_post_json (http, "/api/v0/searches", body, &resp);
        pthread_mutex_unlock (&s_post_lock);
        if (rc == SP_HTTP_OK) {
            sp_http_resp_destroy (&resp);
            out = SP_SLSKD_OK;
            break;
        }
        long status = resp ? resp->status : 0;
        if (rc == SP_HTTP_ERR_RATE_LIMITED && sp_clock_mono_ms () - start < SP_SLSKD_429_MAX_MS) {
            sp_http_resp_destroy (&resp);
            sp_log_debug ("event=slskd_search_429 backoff_ms=%lld", (long long) backoff);
            sp_clock_sleep_ms (backoff + rand () % 100);
            backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
            continue;
        }
        //  409: slskd lost its Soulseek login between our check and the
        //  POST; retry later, and say it in the user's words
        if (status == 409)
            snprintf (err, n, "slskd is not logged in to Soulseek (search refused: %s)",
                      resp && resp->error ? resp->error : "HTTP 409");
        else
            snprintf (err, n, "slskd search failed: %s",
                      resp && resp->error ? resp->error : sp_http_err_name (rc));
        out = status == 409 ? SP_SLSKD_ERR_RETRY : s_class (rc);
        sp_http_resp_destroy (&resp);
        break;
    }
    json_decref (body);
    return out;
}

static void
s_cancel (sp_http_t *http, const char *path)
{
    sp_http_resp_t *resp = NULL;
    sp_http_request (http, SP_HTTP_PUT, path, NULL, &resp);
    sp_http_resp_destroy (&resp);
}

int
sp_slskd_search (sp_http_t *http, const char *text, int timeout_ms, sp_slskd_stop_fn *stop,
                 void *arg, json_t **responses, char *err, size_t n)
{
    *responses = NULL;
    err[0] = 0;
    char id[40], path[128];
    s_guid (id, sizeof id);
    int rc = s_post (http, id, text, timeout_ms, err, n);
    if (rc != SP_SLSKD_OK)
        return rc;
    snprintf (path, sizeof path, "/api/v0/searches/%s", id);
    int64_t start = sp_clock_mono_ms ();
    int64_t deadline = start + timeout_ms + SP_SLSKD_GRACE_MS;
    bool cancelled = false;
    json_int_t expected = 0;  //  responseCount of the completed search
    int out = SP_SLSKD_OK;
    for (;;) {
        sp_http_resp_t *resp = NULL;
        int hr = sp_http_get (http, path, &resp);
        if (hr != SP_HTTP_OK) {
            snprintf (err, n, "slskd search poll failed: %s",
                      resp && resp->error ? resp->error : sp_http_err_name (hr));
            sp_http_resp_destroy (&resp);
            out = s_class (hr);
            goto finish;
        }
        bool complete = json_is_true (json_object_get (resp->json, "isComplete"));
        json_int_t users = json_integer_value (json_object_get (resp->json, "responseCount"));
        sp_http_resp_destroy (&resp);
        if (complete) {
            expected = users;
            break;
        }
        int64_t now = sp_clock_mono_ms ();
        if (!cancelled && stop && stop (arg)) {
            s_cancel (http, path);
            out = SP_SLSKD_ERR_STOPPED;
            snprintf (err, n, "stopping");
            goto finish;
        }
        if (!cancelled &&
            ((users >= SP_SLSKD_ENOUGH_RESPONSES && now - start >= SP_SLSKD_EARLY_MIN_MS) ||
             now >= deadline)) {
            s_cancel (http, path);
            cancelled = true;
            deadline = now + 5000;
        } else if (cancelled && now >= deadline) {
            snprintf (err, n, "slskd search did not complete after cancel");
            out = SP_SLSKD_ERR_RETRY;
            goto finish;
        }
        //  Poll soon after the POST, then back off to SP_SLSKD_POLL_MS: a
        //  search that ends fast (few peers, a short searchTimeout) is
        //  noticed at most 25% late instead of up to SP_SLSKD_POLL_MS late.
        int64_t delay = (now - start) / 4;
        sp_clock_sleep_ms (delay < SP_SLSKD_POLL_MIN_MS ? SP_SLSKD_POLL_MIN_MS
                           : delay > SP_SLSKD_POLL_MS   ? SP_SLSKD_POLL_MS
                                                        : delay);
    }
    //  slskd marks a search complete, with its final responseCount, before
    //  it has stored the responses (a background task, longer for more
    //  results): fewer responses than responseCount means "ask again"
    snprintf (path, sizeof path, "/api/v0/searches/%s/responses", id);
    int64_t wait_start = sp_clock_mono_ms ();
    int64_t backoff = SP_SLSKD_RESPONSES_BACKOFF_MS;
    int reads = 0;
    for (;;) {
        sp_http_resp_t *resp = NULL;
        int hr = sp_http_get (http, path, &resp);
        reads++;
        if (hr != SP_HTTP_OK || !json_is_array (resp->json)) {
            snprintf (err, n, "slskd search responses: %s",
                      hr != SP_HTTP_OK && resp && resp->error ? resp->error : "not an array");
            out = hr != SP_HTTP_OK ? s_class (hr) : SP_SLSKD_ERR_RETRY;
            sp_http_resp_destroy (&resp);
            break;
        }
        json_int_t got = (json_int_t) json_array_size (resp->json);
        int64_t waited = sp_clock_mono_ms () - wait_start;
        if (got >= expected || waited >= SP_SLSKD_RESPONSES_WAIT_MS) {
            if (got < expected)
                sp_log_warn ("event=slskd_responses_incomplete id=%s got=%lld expected=%lld "
                             "waited_ms=%lld reads=%d",
                             id, (long long) got, (long long) expected, (long long) waited, reads);
            else if (reads > 1)
                sp_log_info ("event=slskd_responses_late id=%s got=%lld waited_ms=%lld reads=%d",
                             id, (long long) got, (long long) waited, reads);
            *responses = json_incref (resp->json);
            sp_http_resp_destroy (&resp);
            break;
        }
        sp_http_resp_destroy (&resp);
        if (stop && stop (arg)) {
            out = SP_SLSKD_ERR_STOPPED;
            snprintf (err, n, "stopping");
            break;
        }
        sp_log_debug ("event=slskd_responses_pending id=%s got=%lld expected=%lld backoff_ms=%lld",
                      id, (long long) got, (long long) expected, (long long) backoff);
        int64_t left = SP_SLSKD_RESPONSES_WAIT_MS - waited;
        sp_clock_sleep_ms (backoff < left ? backoff : left);
        backoff = backoff * 2 > SP_SLSKD_RESPONSES_BACKOFF_MAX_MS
                      ? SP_SLSKD_RESPONSES_BACKOFF_MAX_MS
                      : backoff * 2;
    }
finish:
    snprintf (path, sizeof path, "/api/v0/searches/%s", id);
    sp_http_resp_t *dresp = NULL;
    sp_http_delete (http, path, &dresp);
    sp_http_resp_destroy (&dresp);
    return out;
}
