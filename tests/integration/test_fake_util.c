/*  test_fake_util.c: see test_fake_util.h. */
#include "test_fake_util.h"

#include "soulpipe/http.h"

#include <criterion/criterion.h>
#include <curl/curl.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 10000  //  wait this long for "listening on"
#define STOP_TIMEOUT_MS  5000   //  then SIGKILL

void
fk_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
        ;
}

double
fk_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
s_mkdirs (const char *path)
{
    char buf[1024];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir (buf, 0755);
            *p = '/';
        }
    mkdir (buf, 0755);
}

void
fk_init (fk_t *f)
{
    memset (f, 0, sizeof *f);
    const char *tmp = getenv ("SOULPIPE_TEST_TMP");
    snprintf (f->dir, sizeof f->dir, "%s/fake-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null (mkdtemp (f->dir), "mkdtemp %s: %s", f->dir, strerror (errno));
    snprintf (f->fixtures, sizeof f->fixtures, "%s/fx", f->dir);
    snprintf (f->downloads, sizeof f->downloads, "%s/dl", f->dir);
    s_mkdirs (f->fixtures);
}

void
fk_write (fk_t *f, const char *rel, const char *content)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", f->fixtures, rel);
    char *slash = strrchr (path, '/');
    *slash = '\0';
    s_mkdirs (path);
    *slash = '/';
    FILE *fp = fopen (path, "w");
    cr_assert_not_null (fp, "open %s", path);
    fputs (content, fp);
    fclose (fp);
}

int
fk_start (fk_t *f, const char *const *extra)
{
    const char *bindir = getenv ("SOULPIPE_BIN_DIR");
    char bin[1024];
    snprintf (bin, sizeof bin, "%s/soulpipe-fake", bindir && *bindir ? bindir : "bin");
    int pfd[2];
    if (pipe (pfd) != 0)
        return -1;
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        if (getppid () != parent)
            _exit (127);
        dup2 (pfd[1], 1);
        close (pfd[0]);
        close (pfd[1]);
        const char *argv[32] = {bin,         "--listen",    "127.0.0.1:0", "--fixtures",
                                f->fixtures, "--downloads", f->downloads};
        int n = 7;
        for (int i = 0; extra && extra[i] && n < 30; i++)
            argv[n++] = extra[i];
        argv[n] = NULL;
        execv (bin, (char *const *) argv);
        _exit (127);
    }
    close (pfd[1]);
    f->pid = pid;
    char line[256] = "";
    size_t len = 0;
    double deadline = fk_now_s () + START_TIMEOUT_MS / 1000.0;
    while (fk_now_s () < deadline && len + 1 < sizeof line) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (poll (&p, 1, 100) <= 0)
            continue;
        ssize_t got = read (pfd[0], line + len, 1);
        if (got <= 0)
            break;
        len++;
        if (line[len - 1] == '\n')
            break;
    }
    line[len] = '\0';
    close (pfd[0]);
    int port = 0;
    if (sscanf (line, "listening on 127.0.0.1:%d", &port) != 1 || port <= 0) {
        fk_stop (f);
        return -1;
    }
    f->port = port;
    snprintf (f->base, sizeof f->base, "http://127.0.0.1:%d", port);
    return 0;
}

static void
s_rm_rf (const char *dir)
{
    if (!*dir)
        return;
    pid_t pid = fork ();
    if (pid == 0) {
        execlp ("rm", "rm", "-rf", dir, (char *) NULL);
        _exit (127);
    }
    if (pid > 0)
        waitpid (pid, NULL, 0);
}

int
fk_stop (fk_t *f)
{
    int rc = -1;
    if (f->pid > 0) {
        kill (f->pid, SIGTERM);
        int status = 0;
        double deadline = fk_now_s () + STOP_TIMEOUT_MS / 1000.0;
        pid_t w = 0;
        while ((w = waitpid (f->pid, &status, WNOHANG)) == 0 && fk_now_s () < deadline)
            fk_sleep_ms (10);
        if (w == 0) {
            kill (f->pid, SIGKILL);
            waitpid (f->pid, &status, 0);
        } else if (w == f->pid && WIFEXITED (status))
            rc = WEXITSTATUS (status);
        f->pid = 0;
    }
    if (getenv ("FK_KEEP") == NULL)
        s_rm_rf (f->dir);
    f->dir[0] = '\0';
    return rc;
}

/*  Requests go through the project's own http module (soulpipe/http.h), as
    the services' do, with retries and 429 sleeping off so the tests see
    every answer the fake gives, and redirects not followed. */
long
fk_http_url (const char *method, const char *url, const char *const *headers, const char *body,
             fk_resp_t *out)
{
    memset (out, 0, sizeof *out);
    sp_http_method_t m;
    if (strcmp (method, "GET") == 0)
        m = SP_HTTP_GET;
    else if (strcmp (method, "POST") == 0)
        m = SP_HTTP_POST;
    else if (strcmp (method, "PUT") == 0)
        m = SP_HTTP_PUT;
    else if (strcmp (method, "DELETE") == 0)
        m = SP_HTTP_DELETE;
    else {
        cr_assert_fail ("fk_http: unsupported method %s", method);
        return 0;
    }
    sp_http_t *http = sp_http_new (NULL);
    cr_assert_not_null (http);
    sp_http_set_retries (http, 0, 0, 0);
    sp_http_set_return_429 (http, true);
    sp_http_set_follow_redirects (http, false);
    sp_http_set_timeouts (http, 5000, 20000);
    //  no default Accept: the Plex tests choose XML or JSON themselves
    sp_http_set_header (http, "Accept", NULL);
    sp_http_req_t req = {.headers = headers, .allow_text = true, .retry_post = true};
    if (body) {
        req.body = body;
        req.body_len = strlen (body);
        req.content_type = "application/x-www-form-urlencoded";
    }
    sp_http_resp_t *resp = NULL;
    double t0 = fk_now_s ();
    sp_http_request (http, m, url, &req, &resp);
    out->seconds = fk_now_s () - t0;
    sp_http_destroy (&http);
    if (resp) {
        out->status = resp->status;
        out->body = strndup (resp->body ? resp->body : "", resp->body_len);
        out->json = json_loads (out->body, JSON_DECODE_ANY, NULL);
        out->resp = resp;
    } else
        out->body = strdup ("");
    out->headers = strdup ("");
    return out->status;
}

long
fk_http (fk_t *f, const char *method, const char *path, const char *const *headers,
         const char *body, fk_resp_t *out)
{
    char url[4096];
    snprintf (url, sizeof url, "%s%s", f->base, path);
    return fk_http_url (method, url, headers, body, out);
}

void
fk_resp_free (fk_resp_t *r)
{
    sp_http_resp_t *resp = r->resp;
    sp_http_resp_destroy (&resp);
    free (r->body);
    free (r->headers);
    json_decref (r->json);
    memset (r, 0, sizeof *r);
}

char *
fk_header (const fk_resp_t *r, const char *name)
{
    const char *v = r->resp ? sp_http_resp_header (r->resp, name) : NULL;
    return v ? strdup (v) : NULL;
}

json_t *
fk_stats (fk_t *f)
{
    fk_resp_t r;
    fk_http (f, "GET", "/_fake/stats", NULL, NULL, &r);
    json_t *j = json_incref (r.json);
    fk_resp_free (&r);
    return j;
}
