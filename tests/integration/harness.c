/*  harness.c: processes, ports and Redis for the integration tests
    (see harness.h). */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis.h>
#include <jansson.h>

#include "soulpipe/http.h"
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64

static pid_t s_procs[MAX_PROCS];
static int s_n_procs;

long long
sp_test_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int port = 0;
    if (fd >= 0 && bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0 &&
        getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    if (fd >= 0)
        close (fd);
    cr_assert_gt (port, 0, "no free port");
    return port;
}

void
sp_test_setenv (sp_test_t *t, const char *name, const char *value)
{
    size_t nlen = strlen (name);
    char *entry = NULL;
    if (asprintf (&entry, "%s=%s", name, value) < 0)
        cr_assert_fail ("out of memory");
    for (int i = 0; i < t->n_env; i++) {
        if (strncmp (t->env[i], name, nlen) == 0 && t->env[i][nlen] == '=') {
            free (t->env[i]);
            t->env[i] = entry;
            return;
        }
    }
    cr_assert_lt (t->n_env, SP_TEST_MAX_ENV - 1);
    t->env[t->n_env++] = entry;
    t->env[t->n_env] = NULL;
}

const char *
sp_test_bin (const char *name)
{
    static char slots[4][512];
    static int next;
    char *out = slots[next++ % 4];
    if (strncmp (name, "sp_test_", 8) == 0) {
        const char *dir = getenv ("SOULPIPE_TEST_TOOLS_DIR");
        snprintf (out, 512, "%s/%s", dir ? dir : "build/rel/tests/tools", name);
    } else {
        const char *dir = getenv ("SOULPIPE_BIN_DIR");
        snprintf (out, 512, "%s/%s", dir ? dir : "bin", name);
    }
    return out;
}

static void
s_redis_wait (int port)
{
    for (int i = 0; i < 200; i++) {
        redisContext *c = redisConnect ("127.0.0.1", port);
        if (c && !c->err) {
            redisReply *r = redisCommand (c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            if (r)
                freeReplyObject (r);
            redisFree (c);
            if (ok)
                return;
        } else if (c)
            redisFree (c);
        usleep (25 * 1000);
    }
    cr_assert_fail ("redis-server on port %d did not start", port);
}

static pid_t
s_start_redis (sp_test_t *t)
{
    char port[16], dir[300];
    snprintf (port, sizeof port, "%d", t->own_redis_port);
    snprintf (dir, sizeof dir, "%s/redis", t->dir);
    mkdir (dir, 0700);
    const char *argv[] = {"redis-server",
                          "--port",
                          port,
                          "--bind",
                          "127.0.0.1",
                          "--dir",
                          dir,
                          "--appendonly",
                          "yes",
                          "--appendfsync",
                          "always",
                          "--save",
                          "",
                          "--daemonize",
                          "no",
                          NULL};
    pid_t pid = sp_test_spawn (t, "redis", argv);
    s_redis_wait (t->own_redis_port);
    return pid;
}

void
sp_test_kill_redis (sp_test_t *t)
{
    cr_assert_gt (t->own_redis, 0);
    sp_test_stop (t, t->own_redis, SIGKILL, 2000);
    t->own_redis = 0;
}

void
sp_test_restart_redis (sp_test_t *t)
{
    if (t->own_redis)
        sp_test_kill_redis (t);
    t->own_redis = s_start_redis (t);
}

void
sp_test_init (sp_test_t *t, bool own_redis)
{
    memset (t, 0, sizeof *t);
    snprintf (t->dir, sizeof t->dir, "/tmp/sp-it-XXXXXX");
    cr_assert_not_null (mkdtemp (t->dir));
    snprintf (t->client_ep, sizeof t->client_ep, "tcp://127.0.0.1:%d", s_free_port ());
    snprintf (t->broker_ep, sizeof t->broker_ep, "tcp://127.0.0.1:%d", s_free_port ());
    snprintf (t->events_ep, sizeof t->events_ep, "tcp://127.0.0.1:%d", s_free_port ());
    if (own_redis) {
        t->own_redis_port = s_free_port ();
        snprintf (t->redis_url, sizeof t->redis_url, "redis://127.0.0.1:%d/0", t->own_redis_port);
        t->own_redis = s_start_redis (t);
    } else {
        const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
        if (!url)
            cr_skip_test ("SOULPIPE_TEST_REDIS_URL is not set (run through make test)");
        snprintf (t->redis_url, sizeof t->redis_url, "%s", url);
    }
    char err[256];
    t->store = sp_store_new (t->redis_url, err, sizeof err);
    cr_assert_not_null (t->store, "%s", err);
    const char *flush[] = {"FLUSHDB"};
    redisReply *r = NULL;
    cr_assert_eq (sp_store_command (t->store, 1, flush, NULL, &r), SP_STORE_OK);
    freeReplyObject (r);

    sp_test_setenv (t, "PATH", getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");
    sp_test_setenv (t, "SOULPIPE_REDIS_URL", t->redis_url);
    sp_test_setenv (t, "SOULPIPE_CLIENT_ENDPOINT", t->client_ep);
    sp_test_setenv (t, "SOULPIPE_BROKER_ENDPOINT", t->broker_ep);
    sp_test_setenv (t, "SOULPIPE_EVENTS_ENDPOINT", t->events_ep);
    sp_test_setenv (t, "SOULPIPE_HEARTBEAT_MS", "200");
    sp_test_setenv (t, "SOULPIPE_LEASE_S", "5");
    sp_test_setenv (t, "SOULPIPE_LOG_LEVEL",
                    getenv ("SOULPIPE_TEST_LOG_LEVEL") ? getenv ("SOULPIPE_TEST_LOG_LEVEL")
                                                       : "info");
    sp_test_setenv (t, "SOULPIPE_CLIENT_TIMEOUT_MS", "3000");
    const char *pass[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
        if (getenv (pass[i]))
            sp_test_setenv (t, pass[i], getenv (pass[i]));
}

void
sp_test_dump_logs (sp_test_t *t)
{
    char cmd[600];
    snprintf (cmd, sizeof cmd,
              "for f in %s/*.log; do echo \"=== $f\"; tail -n 40 \"$f\"; done 1>&2", t->dir);
    if (system (cmd) != 0)
        fprintf (stderr, "(could not print logs)\n");
}

void
sp_test_fini (sp_test_t *t)
{
    for (int i = 0; i < s_n_procs; i++) {
        if (s_procs[i] > 0) {
            kill (s_procs[i], SIGCONT);
            sp_test_stop (t, s_procs[i], SIGTERM, 5000);
        }
    }
    s_n_procs = 0;
    sp_store_destroy (&t->store);
    if (getenv ("SOULPIPE_TEST_KEEP") == NULL) {
        char cmd[300];
        snprintf (cmd, sizeof cmd, "rm -rf '%s'", t->dir);
        if (system (cmd) != 0)
            fprintf (stderr, "could not remove %s\n", t->dir);
    }
    for (int i = 0; i < t->n_env; i++)
        free (t->env[i]);
    t->n_env = 0;
}

pid_t
sp_test_spawn (sp_test_t *t, const char *log_name, const char *const argv[])
{
    char log_path[400];
    snprintf (log_path, sizeof log_path, "%s/%s.log", t->dir, log_name);
    pid_t parent = getpid ();
    pid_t pid = fork ();
    cr_assert_geq (pid, 0, "fork: %s", strerror (errno));
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
        int null_fd = open ("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            dup2 (null_fd, STDIN_FILENO);
            close (null_fd);
        }
        execve (argv[0], (char *const *) argv, t->env);
        execvpe (argv[0], (char *const *) argv, t->env);
        fprintf (stderr, "exec %s: %s\n", argv[0], strerror (errno));
        _exit (127);
    }
    if (s_n_procs < MAX_PROCS)
        s_procs[s_n_procs++] = pid;
    return pid;
}

int
sp_test_stop (sp_test_t *t, pid_t pid, int sig, int timeout_ms)
{
    (void) t;
    if (pid <= 0)
        return -1;
    kill (pid, sig);
    long long deadline = sp_test_now_ms () + timeout_ms;
    int status = 0;
    pid_t r;
    while ((r = waitpid (pid, &status, WNOHANG)) == 0 && sp_test_now_ms () < deadline)
        usleep (10 * 1000);
    if (r == 0) {
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
    }
    for (int i = 0; i < s_n_procs; i++)
        if (s_procs[i] == pid)
            s_procs[i] = 0;
    if (r < 0)
        return -1;
    if (WIFEXITED (status))
        return WEXITSTATUS (status);
    if (WIFSIGNALED (status))
        return 128 + WTERMSIG (status);
    return -1;
}

static char *
s_slurp (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return strdup ("");
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = calloc (1, (size_t) (n > 0 ? n : 0) + 1);
    if (buf && n > 0 && fread (buf, 1, (size_t) n, f) != (size_t) n)
        buf[0] = '\0';
    fclose (f);
    return buf;
}

int
sp_test_run (sp_test_t *t, const char *const argv[], int timeout_ms, char **out, char **err_out)
{
    static int seq;
    char out_path[400], err_path[400];
    snprintf (out_path, sizeof out_path, "%s/run-%d.out", t->dir, ++seq);
    snprintf (err_path, sizeof err_path, "%s/run-%d.err", t->dir, seq);
    pid_t pid = fork ();
    cr_assert_geq (pid, 0);
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        int o = open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open (err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int in = open ("/dev/null", O_RDONLY);
        dup2 (o, STDOUT_FILENO);
        dup2 (e, STDERR_FILENO);
        dup2 (in, STDIN_FILENO);
        execve (argv[0], (char *const *) argv, t->env);
        _exit (127);
    }
    long long deadline = sp_test_now_ms () + timeout_ms;
    int status = 0;
    pid_t r;
    while ((r = waitpid (pid, &status, WNOHANG)) == 0 && sp_test_now_ms () < deadline)
        usleep (10 * 1000);
    int rc;
    if (r == 0) {
        kill (pid, SIGKILL);
        waitpid (pid, &status, 0);
        rc = -1;
    } else
        rc = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
    if (out)
        *out = s_slurp (out_path);
    if (err_out)
        *err_out = s_slurp (err_path);
    return rc;
}

pid_t
sp_test_start_analyzer (sp_test_t *t)
{
    const char *argv[] = {sp_test_bin ("soulpipe-analyzer"), NULL};
    pid_t pid = sp_test_spawn (t, "analyzer", argv);
    const char *list[] = {sp_test_bin ("soulpipe"), "list", NULL};
    for (int i = 0; i < 100; i++) {
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid) {
            sp_test_dump_logs (t);
            cr_assert_fail ("soulpipe-analyzer exited at start");
        }
        if (sp_test_run (t, list, 3000, NULL, NULL) == 0)
            return pid;
        usleep (50 * 1000);
    }
    sp_test_dump_logs (t);
    cr_assert_fail ("soulpipe-analyzer did not answer");
    return pid;
}

bool
sp_test_wait (bool (*cond) (void *arg), void *arg, int timeout_ms)
{
    long long deadline = sp_test_now_ms () + timeout_ms;
    while (sp_test_now_ms () < deadline) {
        if (cond (arg))
            return true;
        usleep (50 * 1000);
    }
    return cond (arg);
}

const char *
sp_test_write (sp_test_t *t, const char *name, const char *content)
{
    static char slots[4][400];
    static int next;
    char *path = slots[next++ % 4];
    snprintf (path, 400, "%s/%s", t->dir, name);
    FILE *f = fopen (path, "wb");
    cr_assert_not_null (f);
    fputs (content, f);
    fclose (f);
    return path;
}

long long
sp_test_hget_int (sp_test_t *t, const char *key, const char *field)
{
    const char *argv[] = {"HGET", key, field};
    redisReply *r = NULL;
    long long v = 0;
    if (sp_store_command (t->store, 3, argv, NULL, &r) == SP_STORE_OK) {
        if (r->type == REDIS_REPLY_STRING)
            v = strtoll (r->str, NULL, 10);
        freeReplyObject (r);
    }
    return v;
}

long long
sp_test_hlen (sp_test_t *t, const char *key)
{
    const char *argv[] = {"HLEN", key};
    redisReply *r = NULL;
    long long v = 0;
    if (sp_store_command (t->store, 2, argv, NULL, &r) == SP_STORE_OK) {
        if (r->type == REDIS_REPLY_INTEGER)
            v = r->integer;
        freeReplyObject (r);
    }
    return v;
}

void
sp_test_hforeach (sp_test_t *t, const char *key,
                  void (*fn) (const char *field, long long value, void *arg), void *arg)
{
    const char *argv[] = {"HGETALL", key};
    redisReply *r = NULL;
    if (sp_store_command (t->store, 2, argv, NULL, &r) != SP_STORE_OK)
        return;
    if (r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < r->elements; i += 2)
            fn (r->element[i]->str, strtoll (r->element[i + 1]->str, NULL, 10), arg);
    freeReplyObject (r);
}

pid_t
sp_test_start_fake (sp_test_t *t, const char *fixtures, const char *downloads, int port,
                    int *port_out)
{
    char listen_at[64];
    snprintf (listen_at, sizeof listen_at, "127.0.0.1:%d", port);
    const char *argv[] = {sp_test_bin ("soulpipe-fake"),
                          "--listen",
                          listen_at,
                          "--fixtures",
                          fixtures,
                          "--downloads",
                          downloads,
                          NULL};
    char log_name[32];
    static int seq;
    snprintf (log_name, sizeof log_name, "fake-%d", ++seq);
    pid_t pid = sp_test_spawn (t, log_name, argv);
    char log_path[400];
    snprintf (log_path, sizeof log_path, "%s/%s.log", t->dir, log_name);
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen (log_path, "r");
        char line[256];
        int got = 0;
        while (f && fgets (line, sizeof line, f)) {
            if (sscanf (line, "listening on %*[^:]:%d", &got) == 1) {
                fclose (f);
                if (port_out)
                    *port_out = got;
                return pid;
            }
        }
        if (f)
            fclose (f);
        usleep (25 * 1000);
    }
    sp_test_dump_logs (t);
    cr_assert_fail ("soulpipe-fake did not start");
    return pid;
}

static void
s_setenv_file (sp_test_t *t, const char *name, const char *path)
{
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "cannot read %s", path);
    char value[512] = "";
    if (!fgets (value, sizeof value, f))
        value[0] = '\0';
    fclose (f);
    value[strcspn (value, "\r\n")] = '\0';
    sp_test_setenv (t, name, value);
}

void
sp_test_env_fake (sp_test_t *t, const char *fixtures, int port)
{
    char url[64], path[512];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", port);
    sp_test_setenv (t, "SPOTIFY_ACCOUNTS_URL", url);
    sp_test_setenv (t, "SPOTIFY_API_URL", url);
    sp_test_setenv (t, "PLEX_URL", url);
    sp_test_setenv (t, "SLSKD_URL", url);
    snprintf (path, sizeof path, "%s/spotify/credentials.json", fixtures);
    json_t *cred = json_load_file (path, 0, NULL);
    cr_assert_not_null (cred, "cannot read %s", path);
    sp_test_setenv (t, "SPOTIFY_CLIENT_ID",
                    json_string_value (json_object_get (cred, "client_id")));
    sp_test_setenv (t, "SPOTIFY_CLIENT_SECRET",
                    json_string_value (json_object_get (cred, "client_secret")));
    json_decref (cred);
    snprintf (path, sizeof path, "%s/plex/token", fixtures);
    s_setenv_file (t, "PLEX_TOKEN", path);
    snprintf (path, sizeof path, "%s/slskd/api-key", fixtures);
    s_setenv_file (t, "SLSKD_API_KEY", path);
}

void
sp_test_login_spotify (sp_test_t *t)
{
    const char *argv[] = {
        sp_test_bin ("soulpipe"), "login", "spotify", "--no-browser", "--port", "0", NULL};
    static int seq;
    char log_name[32], log_path[400];
    snprintf (log_name, sizeof log_name, "login-%d", ++seq);
    snprintf (log_path, sizeof log_path, "%s/%s.log", t->dir, log_name);
    pid_t pid = sp_test_spawn (t, log_name, argv);
    char url[2048] = "";
    for (int i = 0; i < 200 && !url[0]; i++) {
        FILE *f = fopen (log_path, "r");
        char line[2048];
        while (f && fgets (line, sizeof line, f)) {
            if (strncmp (line, "http", 4) == 0) {
                line[strcspn (line, "\r\n")] = '\0';
                snprintf (url, sizeof url, "%s", line);
                break;
            }
        }
        if (f)
            fclose (f);
        if (!url[0])
            usleep (25 * 1000);
    }
    cr_assert (url[0], "soulpipe login printed no URL");
    //  the fake approves at once and redirects to the login's callback
    sp_http_t *http = sp_http_new (NULL);
    sp_http_resp_t *resp = NULL;
    sp_http_req_t req = {.allow_text = true};
    sp_http_request (http, SP_HTTP_GET, url, &req, &resp);
    sp_http_resp_destroy (&resp);
    sp_http_destroy (&http);
    int status = 0;
    long long deadline = sp_test_now_ms () + 20000;
    pid_t r = 0;
    while ((r = waitpid (pid, &status, WNOHANG)) == 0 && sp_test_now_ms () < deadline)
        usleep (20 * 1000);
    for (int i = 0; i < s_n_procs; i++)
        if (s_procs[i] == pid)
            s_procs[i] = 0;
    if (r != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
        sp_test_dump_logs (t);
    cr_assert (r == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0,
               "soulpipe login failed");
}

json_t *
sp_test_fake_stats (int port)
{
    char url[96];
    snprintf (url, sizeof url, "http://127.0.0.1:%d/_fake/stats", port);
    sp_http_t *http = sp_http_new (NULL);
    sp_http_resp_t *resp = NULL;
    json_t *stats = NULL;
    if (sp_http_get (http, url, &resp) == SP_HTTP_OK && resp->json)
        stats = json_incref (resp->json);
    sp_http_resp_destroy (&resp);
    sp_http_destroy (&http);
    return stats;
}
