/*  test_analyzer_common.h: helpers shared by the analyzer integration tests
    (static functions; included by each test_analyzer_*.c file). Redis from
    SOULPIPE_TEST_REDIS_URL (FLUSHDB per test), the fake upstream server
    from SOULPIPE_BIN_DIR, fixtures written into a fresh temp dir. */
#ifndef TEST_ANALYZER_COMMON_H
#define TEST_ANALYZER_COMMON_H

#include "../../services/analyzer/analyzer.h"
#include "soulpipe/config.h"
#include "soulpipe/msg.h"
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static __attribute__ ((unused)) const char *
ta_redis_url (void)
{
    const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
    if (!url || !*url)
        cr_skip_test ("SOULPIPE_TEST_REDIS_URL not set");
    return url;
}

static __attribute__ ((unused)) void
ta_flushdb (const char *url)
{
    char host[64] = "127.0.0.1";
    int port = 6379, db = 0;
    cr_assert (sscanf (url, "redis://%63[^:]:%d/%d", host, &port, &db) >= 2, "url %s", url);
    redisContext *c = redisConnect (host, port);
    cr_assert (c && !c->err, "cannot connect to %s", url);
    redisReply *r = redisCommand (c, "SELECT %d", db);
    freeReplyObject (r);
    r = redisCommand (c, "FLUSHDB");
    cr_assert (r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject (r);
    redisFree (c);
}

static __attribute__ ((unused)) sp_store_t *
ta_store (void)
{
    const char *url = ta_redis_url ();
    ta_flushdb (url);
    char err[256];
    sp_store_t *s = sp_store_new (url, err, sizeof err);
    cr_assert_not_null (s, "store: %s", err);
    return s;
}

//  A fresh temp dir (caller frees the string).
static __attribute__ ((unused)) char *
ta_tmpdir (void)
{
    const char *base = getenv ("SOULPIPE_TEST_TMP");
    char tmpl[512];
    snprintf (tmpl, sizeof tmpl, "%s/analyzer.XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp (tmpl);
    cr_assert_not_null (d, "mkdtemp: %s", strerror (errno));
    return strdup (d);
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
    setenv ("SOULPIPE_REDIS_URL", ta_redis_url (), 1);
    for (size_t i = 0; vars && vars[i]; i += 2) {
        if (vars[i + 1])
            setenv (vars[i], vars[i + 1], 1);
        else
            unsetenv (vars[i]);
    }
    char err[512];
    cr_assert_eq (sp_config_load (cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "config: %s", err);
}

//  The fake upstream server on a free port; returns its pid, port in *port.
static __attribute__ ((unused)) pid_t
ta_fake_start (const char *fixtures, const char *downloads, int *port)
{
    const char *bindir = getenv ("SOULPIPE_BIN_DIR");
    if (!bindir || !*bindir)
        cr_skip_test ("SOULPIPE_BIN_DIR not set");
    char bin[1024];
    snprintf (bin, sizeof bin, "%s/soulpipe-fake", bindir);
    if (access (bin, X_OK) != 0)
        cr_skip_test ("%s not built", bin);
    int fds[2];
    cr_assert_eq (pipe (fds), 0);
    pid_t pid = fork ();
    cr_assert (pid >= 0);
    if (pid == 0) {
        dup2 (fds[1], 1);
        close (fds[0]);
        close (fds[1]);
        execl (bin, bin, "--listen", "127.0.0.1:0", "--fixtures", fixtures, "--downloads",
               downloads, (char *) NULL);
        _exit (127);
    }
    close (fds[1]);
    FILE *f = fdopen (fds[0], "r");
    char line[256] = "";
    cr_assert_not_null (fgets (line, sizeof line, f), "fake printed nothing");
    fclose (f);
    cr_assert (sscanf (line, "listening on %*[^:]:%d", port) == 1, "fake said: %s", line);
    return pid;
}

static __attribute__ ((unused)) void
ta_fake_stop (pid_t pid)
{
    if (pid > 0) {
        kill (pid, SIGTERM);
        waitpid (pid, NULL, 0);
    }
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
