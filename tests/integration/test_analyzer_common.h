/*  test_analyzer_common.h: helpers shared by the analyzer integration tests
    (static functions; included by each test_analyzer_*.c file). Redis from
    SOULPIPE_TEST_REDIS_URL (FLUSHDB per test), the fake upstream server
    from SOULPIPE_BIN_DIR (started through harness.h), fixtures written
    into a fresh temp dir. */
#ifndef TEST_ANALYZER_COMMON_H
#define TEST_ANALYZER_COMMON_H

#include "../../services/analyzer/analyzer.h"
#include "harness.h"
#include "soulpipe/config.h"
#include "soulpipe/http.h"
#include "soulpipe/msg.h"
#include "soulpipe/spotify_auth.h"
#include "soulpipe/store.h"

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

//  The test's harness state: temp dir, its own redis-server, spawned
//  processes. Every test gets a redis-server of its own so that tests run
//  in parallel (Criterion's default --jobs) cannot see each other's keys:
//  a songs-index entry or a FLUSHDB of one test changed another test's
//  results when they shared SOULPIPE_TEST_REDIS_URL.
static sp_test_t ta_t;

//  Start the test's harness (temp dir, own redis-server) and return its
//  store (owned by ta_t; freed by ta_fini).
static __attribute__ ((unused)) sp_store_t *
ta_store (void)
{
    sp_test_init (&ta_t, true);
    return ta_t.store;
}

//  Stop what the test started (processes, redis-server), remove its temp
//  dir. Safe to call twice; the suites also run it as their .fini so that
//  a failed assertion cleans up too.
static __attribute__ ((unused)) void
ta_fini (void)
{
    sp_test_fini (&ta_t);
}

static __attribute__ ((unused)) void
ta_write (const char *dir, const char *rel, const char *text)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, rel);
    //  make parent directories
    for (char *p = path + strlen (dir) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir (path, 0700);
            *p = '/';
        }
    FILE *f = fopen (path, "w");
    cr_assert_not_null (f, "open %s", path);
    fputs (text, f);
    fclose (f);
}

//  Load the analyzer config from the environment after setting vars
//  (name=value pairs, NULL-terminated; value NULL = unset).
static __attribute__ ((unused)) void
ta_config (sp_config_t *cfg, const char *const *vars)
{
    unsetenv ("PLEX_URL");
    unsetenv ("PLEX_TOKEN");
    unsetenv ("SPOTIFY_CLIENT_SECRET");
    cr_assert (ta_t.redis_url[0], "ta_store () first");
    setenv ("SOULPIPE_REDIS_URL", ta_t.redis_url, 1);
    for (size_t i = 0; vars && vars[i]; i += 2) {
        if (vars[i + 1])
            setenv (vars[i], vars[i + 1], 1);
        else
            unsetenv (vars[i]);
    }
    char err[512];
    cr_assert_eq (sp_config_load (cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "config: %s", err);
}

//  The fake upstream server on a free port, started through the harness
//  (PR_SET_PDEATHSIG, output in t->dir/fake-N.log, stopped by sp_test_fini
//  even when an assertion ends the test early). Returns its pid, its port
//  in *port.
static __attribute__ ((unused)) pid_t
ta_fake_start (sp_test_t *t, const char *fixtures, const char *downloads, int *port)
{
    const char *bin = sp_test_bin ("soulpipe-fake");
    if (access (bin, X_OK) != 0)
        cr_skip_test ("%s not built", bin);
    return sp_test_start_fake (t, fixtures, downloads, 0, port);
}

//  Stop the fake (SIGTERM, then SIGKILL after 5 s).
static __attribute__ ((unused)) void
ta_fake_stop (sp_test_t *t, pid_t pid)
{
    if (pid > 0)
        sp_test_stop (t, pid, SIGTERM, 5000);
}

//  The PKCE flow against the fake at base (the fake approves /authorize at
//  once): authorize without following the redirect, read the code from
//  the redirect, exchange it with the verifier (or a wrong one). Returns
//  sp_spotify_exchange_code's result (0 or SP_SPOTIFY_AUTH_*), err filled.
static __attribute__ ((unused)) int
ta_pkce (const char *base, const char *client_id, bool wrong_verifier, sp_spotify_tokens_t *tok,
         char *err, size_t n)
{
    char verifier[SP_SPOTIFY_VERIFIER_LEN + 1], challenge[64], state[SP_SPOTIFY_VERIFIER_LEN + 1];
    cr_assert_eq (sp_spotify_pkce_verifier (verifier, sizeof verifier), 0);
    cr_assert_eq (sp_spotify_pkce_verifier (state, sizeof state), 0);
    cr_assert_eq (sp_spotify_pkce_challenge (verifier, challenge, sizeof challenge), 0);
    const char *redirect = "http://127.0.0.1:43123/callback";
    char *url = sp_spotify_authorize_url (base, client_id, redirect, NULL, state, challenge);
    cr_assert_not_null (url);
    sp_http_t *http = sp_http_new (NULL);
    sp_http_set_follow_redirects (http, false);
    sp_http_req_t req = {.allow_text = true};
    sp_http_resp_t *resp = NULL;
    cr_assert_eq (sp_http_request (http, SP_HTTP_GET, url, &req, &resp), SP_HTTP_OK);
    const char *loc = sp_http_resp_header (resp, "Location");
    cr_assert_not_null (loc);
    cr_assert (strncmp (loc, redirect, strlen (redirect)) == 0, "%s", loc);
    char *code = NULL;
    int rc = sp_spotify_parse_callback (loc, state, &code, err, n);
    if (rc == 0) {
        if (wrong_verifier)
            verifier[0] = verifier[0] == 'A' ? 'B' : 'A';
        rc = sp_spotify_exchange_code (base, client_id, code, redirect, verifier, tok, err, n);
    }
    free (code);
    free (url);
    sp_http_resp_destroy (&resp);
    sp_http_destroy (&http);
    return rc;
}

//  `soulpipe login spotify` without the client: PKCE against the fake, then
//  the tokens handed to the analyzer as a `login` request. Asserts success.
static __attribute__ ((unused)) void
ta_login (sp_analyzer_t *an, sp_store_t *store, const char *base, const char *client_id)
{
    sp_spotify_tokens_t tok;
    char err[512];
    cr_assert_eq (ta_pkce (base, client_id, false, &tok, err, sizeof err), 0, "%s", err);
    cr_assert_not_null (tok.refresh_token);
    sp_msg_t req, reply;
    memset (&req, 0, sizeof req);
    memset (&reply, 0, sizeof reply);
    req.type = SP_MSG_LOGIN;
    req.provider = "spotify";
    req.access_token = tok.access_token;
    req.refresh_token = tok.refresh_token;
    req.expires_in = (uint64_t) tok.expires_in;
    req.scope = tok.scope;
    cr_assert_eq (sp_analyzer_login (an, store, &req, &reply), 0);
    cr_assert_eq (reply.type, SP_MSG_OK_REPLY, "%s", reply.message);
    sp_msg_clear (&reply);
    sp_spotify_tokens_clear (&tok);
}

//  Submit and check the reply type.
static __attribute__ ((unused)) void
ta_submit (sp_analyzer_t *an, sp_store_t *store, const char *source, const char *name,
           const char *content, sp_msg_t *reply)
{
    sp_msg_t req;
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_SUBMIT;
    req.source = (char *) source;
    req.name = (char *) name;
    req.content = (char *) content;
    memset (reply, 0, sizeof *reply);
    cr_assert_eq (sp_analyzer_submit (an, store, &req, reply), 0);
}

//  Collected track records of a job.
typedef struct {
    int n;
    char state[64][16];
    char title[64][128];
    char artists[64][256];
    char reason[64][512];
    char path[64][256];
    sp_payload_t *payload[64];
} ta_tracks_t;

static __attribute__ ((unused)) int
ta_track_cb (const sp_store_track_t *t, void *arg)
{
    ta_tracks_t *c = arg;
    if (c->n >= 64)
        return 1;
    int i = c->n++;
    snprintf (c->state[i], sizeof c->state[i], "%s", t->state ? t->state : "");
    snprintf (c->title[i], sizeof c->title[i], "%s", t->title ? t->title : "");
    snprintf (c->artists[i], sizeof c->artists[i], "%s", t->artists ? t->artists : "");
    snprintf (c->reason[i], sizeof c->reason[i], "%s", t->reason ? t->reason : "");
    snprintf (c->path[i], sizeof c->path[i], "%s", t->path ? t->path : "");
    c->payload[i] = NULL;
    if (t->payload && t->payload_len)
        sp_payload_decode (t->payload, t->payload_len, &c->payload[i], NULL, 0);
    return 0;
}

static __attribute__ ((unused)) void
ta_tracks (sp_store_t *store, const char *job, ta_tracks_t *out)
{
    memset (out, 0, sizeof *out);
    cr_assert_eq (sp_store_job_tracks (store, job, ta_track_cb, out), SP_STORE_OK);
}

static __attribute__ ((unused)) void
ta_tracks_free (ta_tracks_t *t)
{
    for (int i = 0; i < t->n; i++)
        sp_payload_destroy (&t->payload[i]);
}

#endif
