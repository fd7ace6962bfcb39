/*  test_curve.c: authenticated sockets and secrets in logs.

    CURVE (SOULPIPE_CURVE_DIR, keys from `soulpipe keygen`): with the
    analyzer's sockets as CURVE servers, a client without the key (none, or
    one the analyzer does not list in clients/) is refused with the "cannot
    reach" message within its timeout while one with the key works; a worker
    without the key gets no jobs; a subscriber without the key gets no
    events. Each refusal is checked next to the same action with the key, so
    the test fails if the refusal is for another reason.

    Secrets: the analyzer, a worker and the client run with a Redis password,
    SLSKD_API_KEY, PLEX_TOKEN, SPOTIFY_CLIENT_SECRET and CURVE secret keys set
    to recognizable values, through their config log, a wrong Redis password,
    an unreachable Plex, slskd and Spotify; none of the values may appear in
    any output. */
#include "harness.h"

#include "soulpipe/curve.h"
#include "soulpipe/wire.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/*  snprintf into an array, asserting that it fits. */
#define S_FMT(buf, ...)                                                                            \
    cr_assert_lt ((size_t) snprintf (buf, sizeof buf, __VA_ARGS__), sizeof buf, "path too long")

#define CLIENT_TIMEOUT_MS 1500  //  SOULPIPE_CLIENT_TIMEOUT_MS for the refused clients

static sp_test_t s_t;

static void
s_fini (void)
{
    sp_test_fini (&s_t);
}

TestSuite (curve, .fini = s_fini, .timeout = 120);

/* ---------------------------------------------------------------- helpers */

/*  `soulpipe keygen --dir DIR [--client NAME]`; asserts success. */
static void
s_keygen (sp_test_t *t, const char *dir, const char *client)
{
    const char *argv[] = {sp_test_bin ("soulpipe"),   "keygen", "--dir", dir,
                          client ? "--client" : NULL, client,   NULL};
    char *out = NULL, *err = NULL;
    int rc = sp_test_run (t, argv, 10000, &out, &err);
    cr_assert_eq (rc, 0, "keygen failed (%d): %s%s", rc, out, err);
    free (out);
    free (err);
}

static void
s_copy (const char *from, const char *to)
{
    FILE *in = fopen (from, "rb");
    cr_assert_not_null (in, "cannot open %s", from);
    FILE *out = fopen (to, "wb");
    cr_assert_not_null (out, "cannot create %s", to);
    char buf[4096];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, in)) > 0)
        fwrite (buf, 1, n, out);
    fclose (in);
    fclose (out);
}

/*  The key folders of a test: t->dir/keys (the analyzer's, with its own
    client), t->dir/keys/laptop (a second allowed client), t->dir/rogue (a
    client the analyzer does not list, holding the right server.key). */
typedef struct {
    char keys[300], laptop[320], rogue[300];
} key_dirs_t;

static void
s_make_keys (sp_test_t *t, key_dirs_t *k)
{
    S_FMT (k->keys, "%s/keys", t->dir);
    S_FMT (k->laptop, "%s/laptop", k->keys);
    S_FMT (k->rogue, "%s/rogue", t->dir);
    s_keygen (t, k->keys, NULL);
    s_keygen (t, k->keys, "laptop");
    s_keygen (t, k->rogue, NULL);
    //  the rogue knows the real server key; only its own key is not allowed
    char from[400], to[400];
    S_FMT (from, "%s/server.key", k->keys);
    S_FMT (to, "%s/server.key", k->rogue);
    s_copy (from, to);
}

/*  Run `soulpipe ARGS...` with SOULPIPE_CURVE_DIR=dir ("" = off); returns
    the exit status, *err_out its stderr, *ms_out how long it took. */
static int
s_client (sp_test_t *t, const char *dir, const char *const args[], char **out, char **err_out,
          long long *ms_out)
{
    const char *argv[8] = {sp_test_bin ("soulpipe")};
    for (int i = 0; args[i] && i < 6; i++)
        argv[i + 1] = args[i];
    sp_test_setenv (t, "SOULPIPE_CURVE_DIR", dir);
    long long start = sp_test_now_ms ();
    int rc = sp_test_run (t, argv, 20000, out, err_out);
    if (ms_out)
        *ms_out = sp_test_now_ms () - start;
    return rc;
}


static const char *
s_text_list (sp_test_t *t, int n)
{
    static char buf[4096];
    size_t used = 0;
    for (int i = 0; i < n && used < sizeof buf - 64; i++)
        used += (size_t) snprintf (buf + used, sizeof buf - used,
                                   "Curve Artist %d - Curve Title %d\n", i, i);
    return sp_test_write (t, "list.txt", buf);
}

/*  Submit with the key; returns the job id (static). */
static const char *
s_submit (sp_test_t *t, const char *keys, const char *path)
{
    static char job[80];
    const char *args[] = {"submit", path, NULL};
    char *out = NULL, *err = NULL;
    int rc = s_client (t, keys, args, &out, &err, NULL);
    if (rc != 0)
        sp_test_dump_logs (t);
    cr_assert_eq (rc, 0, "submit with the key failed (%d): %s", rc, err);
    size_t len = strcspn (out, "\n");
    cr_assert (len > 0 && len < sizeof job, "first line: %s", out);
    memcpy (job, out, len);
    job[len] = '\0';
    free (out);
    free (err);
    return job;
}

typedef struct {
    sp_test_t *t;
    const char *job;
    long long want_done;
} wait_job_t;

static long long
s_job_done (sp_test_t *t, const char *job)
{
    sp_store_job_t *j = NULL;
    if (sp_store_job_get (t->store, job, &j) != SP_STORE_OK)
        return -1;
    long long v = j->done;
    sp_store_job_destroy (&j);
    return v;
}

static bool
s_job_settled (void *arg)
{
    wait_job_t *w = arg;
    return s_job_done (w->t, w->job) == w->want_done;
}

static pid_t
s_worker (sp_test_t *t, const char *dir, const char *name)
{
    sp_test_setenv (t, "SOULPIPE_CURVE_DIR", dir);
    const char *argv[] = {sp_test_bin ("sp_test_worker"),
                          "--role",
                          "search",
                          "--name",
                          name,
                          "--slots",
                          "2",
                          "--sleep-ms",
                          "10",
                          "--next",
                          "none",
                          NULL};
    return sp_test_spawn (t, name, argv);
}

/*  Start the analyzer with CURVE on (keys dir) and the short client timeout. */
static void
s_start_curve_analyzer (sp_test_t *t, const key_dirs_t *k)
{
    sp_test_setenv (t, "SOULPIPE_CLIENT_TIMEOUT_MS", "1500");
    sp_test_setenv (t, "SOULPIPE_CURVE_DIR", k->keys);
    sp_test_start_analyzer (t);
}

/* ---------------------------------------------------------------- key files */

Test (curve, keygen_layout_modes_and_load_errors)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    key_dirs_t k;
    s_make_keys (t, &k);
    const char *secrets[] = {"server.key_secret", "client.key_secret", "laptop/client.key_secret"};
    for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
        char path[400];
        S_FMT (path, "%s/%s", k.keys, secrets[i]);
        struct stat st;
        cr_assert_eq (stat (path, &st), 0, "missing %s", path);
        cr_assert_eq (st.st_mode & 0777, 0600, "%s has mode %o", path, st.st_mode & 0777);
    }
    //  the laptop folder holds no server secret
    char path[400];
    S_FMT (path, "%s/server.key_secret", k.laptop);
    cr_assert_neq (access (path, F_OK), 0, "a client folder holds the server secret");

    //  both roles load; the analyzer side counts the allowed clients
    char err[512];
    sp_curve_t *c = NULL;
    cr_assert_eq (sp_curve_load (k.keys, SP_CURVE_SERVER, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq (sp_curve_clients (c), 2);
    cr_assert_not_null (sp_curve_wire (c));
    sp_curve_destroy (&c);
    cr_assert_null (c);
    cr_assert_eq (sp_curve_load (k.laptop, SP_CURVE_CLIENT, &c, err, sizeof err), 0, "%s", err);
    cr_assert_not_null (sp_curve_wire (c)->server_public);
    sp_curve_destroy (&c);

    //  off: no settings, no error
    cr_assert_eq (sp_curve_load ("", SP_CURVE_CLIENT, &c, err, sizeof err), 0);
    cr_assert_null (c);
    cr_assert_null (sp_curve_wire (c));

    //  a folder without keys: the error names the variable and the file
    char empty[300];
    S_FMT (empty, "%s/empty", t->dir);
    mkdir (empty, 0700);
    cr_assert_eq (sp_curve_load (empty, SP_CURVE_CLIENT, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "SOULPIPE_CURVE_DIR") && strstr (err, "client.key_secret"), "%s", err);
    cr_assert_eq (sp_curve_load (empty, SP_CURVE_SERVER, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "SOULPIPE_CURVE_DIR") && strstr (err, "server.key_secret"), "%s", err);
    //  a client folder without server.key
    S_FMT (path, "%s/server.key", k.laptop);
    char moved[400];
    S_FMT (moved, "%s/server.key.moved", t->dir);
    cr_assert_eq (rename (path, moved), 0);
    cr_assert_eq (sp_curve_load (k.laptop, SP_CURVE_CLIENT, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "SOULPIPE_CURVE_DIR") && strstr (err, "server.key"), "%s", err);
    cr_assert_eq (rename (moved, path), 0);
    //  a duplicate allowed key would make CZMQ abort: refused at load
    char from[400], to[400];
    S_FMT (from, "%s/clients/laptop.key", k.keys);
    S_FMT (to, "%s/clients/laptop-again.key", k.keys);
    s_copy (from, to);
    cr_assert_eq (sp_curve_load (k.keys, SP_CURVE_SERVER, &c, err, sizeof err), -1);
    cr_assert (strstr (err, "same public key"), "%s", err);
    unlink (to);
    //  a bad or existing client name
    cr_assert_eq (sp_curve_keygen (k.keys, "../evil", NULL, err, sizeof err), -1);
    cr_assert_eq (sp_curve_keygen (k.keys, "clients", NULL, err, sizeof err), -1);
    cr_assert_eq (sp_curve_keygen (k.keys, "laptop", NULL, err, sizeof err), -1);
    cr_assert (strstr (err, "exists"), "%s", err);
}

/* ---------------------------------------------------------------- client */

Test (curve, client_without_key_is_refused)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    key_dirs_t k;
    s_make_keys (t, &k);
    s_start_curve_analyzer (t, &k);

    const char *list[] = {"list", NULL};
    const char *submit[] = {"submit", s_text_list (t, 3), NULL};
    const char *refused[] = {"", k.rogue};
    for (size_t i = 0; i < 2; i++) {
        for (int which = 0; which < 2; which++) {
            char *out = NULL, *err = NULL;
            long long ms = 0;
            int rc = s_client (t, refused[i], which ? submit : list, &out, &err, &ms);
            cr_assert_eq (rc, 2, "a client with %s got in (%d): %s", i ? "a foreign key" : "no key",
                          rc, out);
            cr_assert_not_null (strstr (err, "cannot reach the analyzer"), "stderr: %s", err);
            cr_assert_not_null (strstr (err, "CURVE"), "no hint about CURVE: %s", err);
            cr_assert_lt (ms, CLIENT_TIMEOUT_MS + 3000, "refusal took %lld ms", ms);
            free (out);
            free (err);
        }
    }
    //  nothing was submitted by the refused clients, and the keyed ones work
    const char *allowed[] = {k.keys, k.laptop};
    for (size_t i = 0; i < 2; i++) {
        char *out = NULL;
        cr_assert_eq (s_client (t, allowed[i], list, &out, NULL, NULL), 0,
                      "client %zu with a key refused", i);
        cr_assert_not_null (strstr (out, "no jobs yet"), "a refused submit got through: %s", out);
        free (out);
    }
    s_submit (t, k.laptop, s_text_list (t, 3));

    //  revoking a key takes effect for new connections without a restart
    char revoked[400];
    S_FMT (revoked, "%s/clients/laptop.key", k.keys);
    cr_assert_eq (unlink (revoked), 0);
    sleep (1);  //  zcertstore notices a change by the folder's mtime (seconds)
    cr_assert_eq (s_client (t, k.laptop, list, NULL, NULL, NULL), 2, "a revoked key still works");
    cr_assert_eq (s_client (t, k.keys, list, NULL, NULL, NULL), 0);
}

/* ---------------------------------------------------------------- worker */

Test (curve, worker_without_key_gets_no_jobs)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    key_dirs_t k;
    s_make_keys (t, &k);
    s_start_curve_analyzer (t, &k);
    s_worker (t, "", "plain");
    s_worker (t, k.rogue, "rogue");
    const char *job = s_submit (t, k.keys, s_text_list (t, 6));
    sleep (3);  //  15 heartbeats of 200 ms: long enough for a connected worker
    cr_assert_eq (sp_test_hlen (t, "soulpipe:test:handled"), 0,
                  "a worker without the key got jobs");
    cr_assert_eq (s_job_done (t, job), 0);

    s_worker (t, k.keys, "keyed");
    wait_job_t w = {t, job, 6};
    bool settled = sp_test_wait (s_job_settled, &w, 20000);
    if (!settled)
        sp_test_dump_logs (t);
    cr_assert (settled, "the keyed worker did not finish the job: done=%lld", s_job_done (t, job));
    cr_assert_eq (sp_test_hget_int (t, "soulpipe:test:by-worker", "keyed"), 6);
    cr_assert_eq (sp_test_hlen (t, "soulpipe:test:by-worker"), 1, "another worker handled jobs");
}

/* ---------------------------------------------------------------- events */

static zsock_t *
s_subscriber (sp_test_t *t, const char *dir, sp_curve_t **curve)
{
    char err[512];
    *curve = NULL;
    cr_assert_eq (sp_curve_load (dir, SP_CURVE_CLIENT, curve, err, sizeof err), 0, "%s", err);
    zsock_t *sub = sp_wire_socket (ZMQ_SUB, t->events_ep, false, 1 << 20, 0, sp_curve_wire (*curve),
                                   err, sizeof err);
    cr_assert_not_null (sub, "%s", err);
    zsock_set_subscribe (sub, "");
    return sub;
}

Test (curve, subscriber_without_key_gets_no_events)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    key_dirs_t k;
    s_make_keys (t, &k);
    s_start_curve_analyzer (t, &k);
    s_worker (t, k.keys, "keyed");
    const char *dirs[3] = {k.keys, "", k.rogue};
    sp_curve_t *curves[3];
    zsock_t *subs[3];
    int events[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++)
        subs[i] = s_subscriber (t, dirs[i], &curves[i]);
    zclock_sleep (500);  //  let the handshakes finish (or fail)
    const char *job = s_submit (t, k.keys, s_text_list (t, 4));
    wait_job_t w = {t, job, 4};
    long long deadline = sp_test_now_ms () + 20000;
    while (sp_test_now_ms () < deadline && !(s_job_settled (&w) && events[0] > 0)) {
        for (int i = 0; i < 3; i++) {
            sp_msg_t *msg = NULL;
            char reason[256];
            while (sp_wire_recv (subs[i], false, true, 20, NULL, &msg, reason, sizeof reason) ==
                   SP_WIRE_OK) {
                events[i]++;
                sp_msg_destroy (&msg);
            }
        }
    }
    //  drain what is still on the way
    for (int i = 0; i < 3; i++) {
        sp_msg_t *msg = NULL;
        char reason[256];
        while (sp_wire_recv (subs[i], false, true, 300, NULL, &msg, reason, sizeof reason) ==
               SP_WIRE_OK) {
            events[i]++;
            sp_msg_destroy (&msg);
        }
        zsock_destroy (&subs[i]);
        sp_curve_destroy (&curves[i]);
    }
    cr_assert (s_job_settled (&w), "job did not finish");
    cr_assert_gt (events[0], 0, "the subscriber with the key got no events");
    cr_assert_eq (events[1], 0, "a subscriber without CURVE got %d events", events[1]);
    cr_assert_eq (events[2], 0, "a subscriber with a foreign key got %d events", events[2]);
}

/* ---------------------------------------------------------------- secrets */

#define REDIS_PW    "redispw-Q7xSECRETr3d1s"
#define WRONG_PW    "wrongpw-Q7xSECRETwr0ng"
#define SLSKD_KEY   "slskdkey-Q7xSECRETs1skd-0123456789"
#define PLEX_TOKEN  "plextok-Q7xSECRETp1ex"
#define SPOTIFY_SEC "spotsec-Q7xSECRETsp0t"

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    getsockname (fd, (struct sockaddr *) &a, &len);
    close (fd);
    return ntohs (a.sin_port);
}

static bool
s_redis_up (void *arg)
{
    int port = *(int *) arg;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons ((uint16_t) port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    bool up = connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
    close (fd);
    return up;
}

/*  Read a whole file (caller frees); NULL if unreadable. */
static char *
s_slurp (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc (cap);
    size_t n;
    while ((n = fread (buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 1024)
            buf = realloc (buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose (f);
    return buf;
}

/*  Assert none of the secrets is in text (named what). */
static void
s_assert_clean (const char *what, const char *text, const char *const secrets[], size_t n)
{
    if (!text)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *at = strstr (text, secrets[i]);
        if (at) {
            //  the line it is on, to stderr (a whole log is too big for an assertion message)
            const char *line = at;
            while (line > text && line[-1] != '\n')
                line--;
            fprintf (stderr, "%s: %.*s\n", what, (int) strcspn (line, "\n"), line);
        }
        cr_assert_null (at, "a secret (%.12s...) appears in %s (line on stderr)", secrets[i], what);
    }
}

static bool
s_track_tried (void *arg)
{
    sp_test_t *t = arg;
    char *log = NULL;
    char path[400];
    S_FMT (path, "%s/searcher.log", t->dir);
    log = s_slurp (path);
    bool tried = log && strstr (log, "/api/v0/");
    free (log);
    return tried;
}

Test (curve, secrets_never_logged)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    key_dirs_t k;
    s_make_keys (t, &k);
    //  a Redis of our own with a password
    int port = s_free_port ();
    char port_s[16];
    S_FMT (port_s, "%d", port);
    char redis_dir[300];
    S_FMT (redis_dir, "%s/redis-pw", t->dir);
    mkdir (redis_dir, 0700);
    const char *redis_argv[] = {"/usr/bin/redis-server",
                                "--port",
                                port_s,
                                "--bind",
                                "127.0.0.1",
                                "--requirepass",
                                REDIS_PW,
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--dir",
                                redis_dir,
                                NULL};
    sp_test_spawn (t, "redis-pw", redis_argv);
    cr_assert (sp_test_wait (s_redis_up, &port, 10000), "redis-server did not start");
    char url[200], wrong_url[200];
    S_FMT (url, "redis://:%s@127.0.0.1:%d/0", REDIS_PW, port);
    S_FMT (wrong_url, "redis://:%s@127.0.0.1:%d/0", WRONG_PW, port);

    //  every upstream unreachable: a closed port
    char closed[64], dirs[3][300];
    S_FMT (closed, "http://127.0.0.1:%d", s_free_port ());
    const char *names[] = {"staging", "transfer", "slskd-downloads"};
    for (int i = 0; i < 3; i++) {
        S_FMT (dirs[i], "%s/%s", t->dir, names[i]);
        mkdir (dirs[i], 0700);
    }
    sp_test_setenv (t, "SOULPIPE_REDIS_URL", url);
    sp_test_setenv (t, "SOULPIPE_LOG_LEVEL", "debug");
    sp_test_setenv (t, "SLSKD_URL", closed);
    sp_test_setenv (t, "SLSKD_API_KEY", SLSKD_KEY);
    sp_test_setenv (t, "PLEX_URL", closed);
    sp_test_setenv (t, "PLEX_TOKEN", PLEX_TOKEN);
    sp_test_setenv (t, "SPOTIFY_CLIENT_ID", "curve-test-client-id");
    sp_test_setenv (t, "SPOTIFY_CLIENT_SECRET", SPOTIFY_SEC);
    sp_test_setenv (t, "SPOTIFY_ACCOUNTS_URL", closed);
    sp_test_setenv (t, "SPOTIFY_API_URL", closed);
    sp_test_setenv (t, "SOULPIPE_STAGING_DIR", dirs[0]);
    sp_test_setenv (t, "SOULPIPE_TRANSFER_DIR", dirs[1]);
    sp_test_setenv (t, "SLSKD_DOWNLOADS_DIR", dirs[2]);
    s_start_curve_analyzer (t, &k);
    const char *searcher_argv[] = {sp_test_bin ("soulpipe-searcher"), NULL};
    sp_test_spawn (t, "searcher", searcher_argv);
    const char *tagger_argv[] = {sp_test_bin ("soulpipe-tagger"), NULL};
    sp_test_spawn (t, "tagger", tagger_argv);

    //  a text list: Plex is unreachable (every track queued), slskd too
    char *outs[12] = {0};
    int n_outs = 0;
    const char *submit[] = {"submit", s_text_list (t, 2), NULL};
    int rc = s_client (t, k.keys, submit, &outs[n_outs], &outs[n_outs + 1], NULL);
    n_outs += 2;
    cr_assert_eq (rc, 0, "submit failed: %s", outs[1]);
    //  a Spotify playlist: the token request fails
    const char *spotify[] = {"submit", "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M", NULL};
    s_client (t, k.keys, spotify, &outs[n_outs], &outs[n_outs + 1], NULL);
    n_outs += 2;
    bool tried = sp_test_wait (s_track_tried, t, 15000);

    //  a wrong Redis password, analyzer and worker
    sp_test_setenv (t, "SOULPIPE_REDIS_URL", wrong_url);
    const char *analyzer_argv[] = {sp_test_bin ("soulpipe-analyzer"), NULL};
    int wrong_rc = sp_test_run (t, analyzer_argv, 20000, &outs[n_outs], &outs[n_outs + 1]);
    n_outs += 2;
    //  (sp_test_bin's buffers are reused: take the path again)
    const char *wrong_argv[] = {sp_test_bin ("soulpipe-searcher"), NULL};
    pid_t wrong_worker = sp_test_spawn (t, "searcher-wrong-pw", wrong_argv);
    zclock_sleep (2000);
    sp_test_stop (t, wrong_worker, SIGTERM, 5000);
    //  a malformed URL with the password in it: the configuration error
    char bad_url[200];
    S_FMT (bad_url, "redis://:%s@127.0.0.1:notaport/0", REDIS_PW);
    sp_test_setenv (t, "SOULPIPE_REDIS_URL", bad_url);
    const char *bad_argv[] = {sp_test_bin ("soulpipe-analyzer"), NULL};
    int bad_rc = sp_test_run (t, bad_argv, 20000, &outs[n_outs], &outs[n_outs + 1]);
    n_outs += 2;
    cr_assert_eq (bad_rc, 2, "a malformed SOULPIPE_REDIS_URL was accepted");
    cr_assert (outs[n_outs - 1] && strstr (outs[n_outs - 1], "SOULPIPE_REDIS_URL"),
               "no configuration error");
    sp_test_setenv (t, "SOULPIPE_REDIS_URL", url);

    //  the secrets, CURVE secret keys included
    char err[512];
    sp_curve_t *server = NULL, *client = NULL;
    cr_assert_eq (sp_curve_load (k.keys, SP_CURVE_CLIENT, &client, err, sizeof err), 0, "%s", err);
    char server_secret[64], client_secret[64];
    S_FMT (client_secret, "%s", zcert_secret_txt (sp_curve_wire (client)->cert));
    sp_curve_destroy (&client);
    zcert_t *sc = NULL;
    char path[400];
    S_FMT (path, "%s/server.key", k.keys);
    sc = zcert_load (path);
    cr_assert_not_null (sc);
    S_FMT (server_secret, "%s", zcert_secret_txt (sc));
    zcert_destroy (&sc);
    (void) server;
    const char *secrets[] = {REDIS_PW,    WRONG_PW,      SLSKD_KEY,    PLEX_TOKEN,
                             SPOTIFY_SEC, server_secret, client_secret};
    size_t n_secrets = sizeof secrets / sizeof *secrets;

    //  every process log and every captured output
    DIR *d = opendir (t->dir);
    cr_assert_not_null (d);
    struct dirent *e;
    int logs = 0;
    char *analyzer_log = NULL, *searcher_log = NULL, *wrong_log = NULL;
    while ((e = readdir (d))) {
        size_t len = strlen (e->d_name);
        if (len < 5 || strcmp (e->d_name + len - 4, ".log") != 0)
            continue;
        S_FMT (path, "%s/%s", t->dir, e->d_name);
        char *text = s_slurp (path);
        s_assert_clean (e->d_name, text, secrets, n_secrets);
        logs++;
        if (strcmp (e->d_name, "analyzer.log") == 0)
            analyzer_log = text;
        else if (strcmp (e->d_name, "searcher.log") == 0)
            searcher_log = text;
        else if (strcmp (e->d_name, "searcher-wrong-pw.log") == 0)
            wrong_log = text;
        else
            free (text);
    }
    closedir (d);
    for (int i = 0; i < n_outs; i++)
        s_assert_clean ("a client or analyzer output", outs[i], secrets, n_secrets);

    //  ... and the paths that could leak were really taken
    cr_assert_geq (logs, 4, "only %d logs", logs);
    cr_assert (analyzer_log && strstr (analyzer_log, "event=config"), "no config log");
    cr_assert (strstr (analyzer_log, "SOULPIPE_REDIS_URL=") && strstr (analyzer_log, "PLEX_TOKEN="),
               "the config log lacks the secret variables");
    bool plex_logged = strstr (analyzer_log, "Plex is unreachable") != NULL;
    if (!plex_logged)
        sp_test_dump_logs (t);
    cr_assert (plex_logged, "the unreachable Plex was not logged");
    if (!tried)
        sp_test_dump_logs (t);
    cr_assert (tried, "the searcher never tried slskd");
    cr_assert (searcher_log && strstr (searcher_log, "SLSKD_API_KEY="), "no searcher config log");
    cr_assert_neq (wrong_rc, 0, "the analyzer started with a wrong Redis password");
    cr_assert (outs[5] && (strstr (outs[5], "Redis") || strstr (outs[5], "redis")),
               "the wrong password gave no Redis error: %s", outs[5]);
    cr_assert (wrong_log && strstr (wrong_log, "searcher event=config"),
               "the wrong-password worker did not run");
    free (analyzer_log);
    free (searcher_log);
    free (wrong_log);
    for (int i = 0; i < n_outs; i++)
        free (outs[i]);
}
