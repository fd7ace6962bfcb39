/*  Unit tests for the notify module: endpoint URLs (kinds, the URL posted
    to, the display form that hides the secret parts, bad values), the ntfy
    text, and delivery against an in-test webhook receiver: one POST per
    event per endpoint (JSON as given, ntfy as text with a Title), sending
    never waits on a refusing or hanging endpoint, those endpoints are given
    up on after their tries and logged once per interval, without their
    paths; a full queue drops the oldest event.
*/
#include "../integration/test_hook.c"
#include "soulpipe/clock.h"
#include "soulpipe/log.h"
#include "soulpipe/notify.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// ------------------------------------------------------------ URLs

static void
s_parse_ok (const char *url, sp_notify_kind_t want_kind, const char *want_target,
            const char *want_display)
{
    sp_notify_kind_t kind;
    char target[512], display[160], err[256] = "";
    cr_assert_eq (sp_notify_parse_url (url, &kind, target, sizeof target, display, sizeof display,
                                       err, sizeof err),
                  0, "%s: %s", url, err);
    cr_expect_eq (kind, want_kind, "%s", url);
    cr_expect_str_eq (target, want_target);
    cr_expect_str_eq (display, want_display);
}

static void
s_parse_bad (const char *url, const char *want_in_err, const char *secret)
{
    sp_notify_kind_t kind;
    char target[512], display[160], err[256] = "";
    cr_expect_eq (sp_notify_parse_url (url, &kind, target, sizeof target, display, sizeof display,
                                       err, sizeof err),
                  -1, "%s accepted", url);
    cr_expect (strstr (err, want_in_err) != NULL, "%s: %s", url, err);
    if (secret)
        cr_expect (strstr (err, secret) == NULL, "the error shows %s: %s", secret, err);
}

Test (notify, endpoint_urls)
{
    s_parse_ok ("https://hooks.example.com/api/webhooks/123/T0KEN", SP_NOTIFY_JSON,
                "https://hooks.example.com/api/webhooks/123/T0KEN",
                "https://hooks.example.com/...");
    s_parse_ok ("http://10.0.0.2:8080", SP_NOTIFY_JSON, "http://10.0.0.2:8080",
                "http://10.0.0.2:8080");
    s_parse_ok ("ntfy://ntfy.sh/my-secret-topic", SP_NOTIFY_NTFY, "https://ntfy.sh/my-secret-topic",
                "ntfy://ntfy.sh/...");
    s_parse_ok ("ntfy+http://u:pw@127.0.0.1:2586/alerts", SP_NOTIFY_NTFY,
                "http://u:pw@127.0.0.1:2586/alerts", "ntfy+http://127.0.0.1:2586/...");
    s_parse_bad ("ftp://x/y", "scheme \"ftp\"", NULL);
    s_parse_bad ("hooks.example.com/abc", "scheme", NULL);
    s_parse_bad ("ntfy://ntfy.sh", "without a topic", NULL);
    s_parse_bad ("ntfy://ntfy.sh/", "without a topic", NULL);
    s_parse_bad ("https:///path-only", "without a host", "path-only");
    s_parse_bad ("https://x.example/a b", "space or control", "a b");
    s_parse_bad ("", "empty", NULL);
}

Test (notify, new_checks_every_endpoint)
{
    char err[256];
    sp_notify_opts_t o = {.urls = " , ,"};
    cr_expect_null (sp_notify_new (&o, err, sizeof err));
    cr_expect_str_eq (err, "", "no endpoint is not an error");
    o.urls = "http://127.0.0.1:9/a, gopher://secret-host/x";
    cr_expect_null (sp_notify_new (&o, err, sizeof err));
    cr_expect (strstr (err, "SOULPIPE_NOTIFY_URL: endpoint 2") != NULL, "%s", err);
    cr_expect (strstr (err, "secret-host") == NULL, "%s", err);
    json_t *ev = json_object ();
    cr_expect_eq (sp_notify_send (NULL, ev), -1);
    json_decref (ev);
}

// ------------------------------------------------------------ text

static json_t *
s_event (const char *name, int failed)
{
    json_t *f = json_array ();
    for (int i = 0; i < failed; i++)
        json_array_append_new (f, json_pack ("{s:s, s:s, s:s}", "artist", i ? "B\nand C" : "A",
                                             "title", i ? "Two" : "One", "reason",
                                             "no acceptable copy"));
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:o}", "event",
                      "job_finished", "job", "j-1", "source", "spotify:playlist:x", "name", name,
                      "state", "done", "counts", "total", 9, "skipped", 3, "done", 4, "failed",
                      failed, "cancelled", 0, "failed", f);
}

Test (notify, ntfy_text)
{
    json_t *ev = s_event ("Road\r\nTrip", 2);
    char *title = NULL;
    char *text = sp_notify_text (ev, &title);
    cr_assert_not_null (text);
    cr_expect_str_eq (title, "soulpipe: Road  Trip finished");
    cr_expect_str_eq (text, "Road  Trip: 4 downloaded, 3 already there, 2 failed (9 tracks)\n"
                            "Failed:\n"
                            "- A - One: no acceptable copy\n"
                            "- B and C - Two: no acceptable copy\n");
    free (text);
    free (title);
    json_decref (ev);
}

// ------------------------------------------------------------ delivery

//  stderr into a file for the test's process (Criterion forks per test).
static int s_saved_err = -1;
static char s_err_path[64];

static void
s_capture_stderr (void)
{
    snprintf (s_err_path, sizeof s_err_path, "/tmp/sp-notify-err-%d", (int) getpid ());
    int fd = open (s_err_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    cr_assert_geq (fd, 0);
    fflush (stderr);
    s_saved_err = dup (2);
    dup2 (fd, 2);
    close (fd);
}

static char *
s_release_stderr (void)
{
    fflush (stderr);
    dup2 (s_saved_err, 2);
    close (s_saved_err);
    FILE *fp = fopen (s_err_path, "r");
    cr_assert_not_null (fp);
    char *buf = calloc (1, 1 << 20);
    size_t n = fread (buf, 1, (1 << 20) - 1, fp);
    buf[n] = '\0';
    fclose (fp);
    unlink (s_err_path);
    return buf;
}

static size_t
s_count (const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr (p, needle)); p++)
        n++;
    return n;
}

static bool
s_wait (bool (*cond) (void *), void *arg, int ms)
{
    int64_t end = sp_clock_mono_ms () + ms;
    while (!cond (arg)) {
        if (sp_clock_mono_ms () > end)
            return false;
        sp_clock_sleep_ms (20);
    }
    return true;
}

typedef struct {
    th_hook_t *hook;
    sp_notify_t *n;
    size_t want;
} s_cond_t;

static bool
s_hook_has (void *arg)
{
    s_cond_t *c = arg;
    return th_hook_count (c->hook, "/hook") >= c->want &&
           th_hook_count (c->hook, "/alerts") >= c->want;
}

static bool
s_failed_is (void *arg)
{
    s_cond_t *c = arg;
    sp_notify_stats_t st;
    sp_notify_stats (c->n, &st);
    return st.failed >= c->want;
}

Test (notify, one_post_per_event_and_dead_endpoints_change_nothing, .timeout = 30)
{
    sp_log_init ("test", SP_LOG_INFO);
    th_hook_t *hook = th_hook_start ();
    int hang_port = 0;
    int hang_fd = th_hang_start (&hang_port);
    int refused = th_refused_port ();
    char urls[512];
    snprintf (urls, sizeof urls,
              "http://127.0.0.1:%d/refused-S3CRET, http://127.0.0.1:%d/hang-S3CRET,"
              "http://127.0.0.1:%d/hook,ntfy+http://127.0.0.1:%d/alerts",
              refused, hang_port, th_hook_port (hook), th_hook_port (hook));
    sp_notify_opts_t o = {.urls = urls,
                          .timeout_ms = 400,
                          .retries = 1,
                          .backoff_ms = 100,
                          .log_interval_ms = 60000,
                          .drain_ms = 500};
    s_capture_stderr ();
    char err[256];
    sp_notify_t *n = sp_notify_new (&o, err, sizeof err);
    cr_assert_not_null (n, "%s", err);
    json_t *e1 = s_event ("First", 1), *e2 = s_event ("Second", 0);
    int64_t t0 = sp_clock_mono_ms ();
    cr_expect_eq (sp_notify_send (n, e1), 0);
    cr_expect_eq (sp_notify_send (n, e2), 0);
    int64_t took = sp_clock_mono_ms () - t0;
    cr_expect_lt (took, 50, "sending waited %lld ms", (long long) took);

    //  the good endpoints get both at once, although the others hang/refuse
    s_cond_t c = {.hook = hook, .n = n, .want = 2};
    cr_expect (s_wait (s_hook_has, &c, 1500), "the good endpoints were held up");
    //  the dead ones are given up on after 1 + 1 tries per event
    c.want = 4;
    cr_expect (s_wait (s_failed_is, &c, 8000), "the dead endpoints were not given up on");
    sp_notify_stats_t st;
    sp_notify_stats (n, &st);
    cr_expect_eq (st.delivered, 4);
    cr_expect_eq (st.failed, 4);
    t0 = sp_clock_mono_ms ();
    sp_notify_destroy (&n);
    cr_expect_null (n);
    took = sp_clock_mono_ms () - t0;
    cr_expect_lt (took, 1500, "destroy took %lld ms", (long long) took);
    char *log = s_release_stderr ();

    //  exactly one POST per event per endpoint, each as it should be
    cr_expect_eq (th_hook_count (hook, "/hook"), 2);
    cr_expect_eq (th_hook_count (hook, "/alerts"), 2);
    for (size_t i = 0; i < 2; i++) {
        char *body = th_hook_get (hook, "/hook", i, "body");
        char *type = th_hook_get (hook, "/hook", i, "type");
        json_t *got = json_loads (body, 0, NULL);
        cr_expect (json_equal (got, i == 0 ? e1 : e2), "%s", body);
        cr_expect_str_eq (type, "application/json");
        json_decref (got);
        free (body);
        free (type);
    }
    char *text = th_hook_get (hook, "/alerts", 0, "body");
    char *title = th_hook_get (hook, "/alerts", 0, "title");
    char *type = th_hook_get (hook, "/alerts", 0, "type");
    cr_expect_str_eq (title, "soulpipe: First finished");
    cr_expect (strncmp (type, "text/plain", 10) == 0, "%s", type);
    cr_expect (strstr (text, "First: 4 downloaded") == text, "%s", text);
    free (text);
    free (title);
    free (type);

    //  each dead endpoint logged once (its second failure inside the
    //  minute is not), and no path of any endpoint in the log
    cr_expect_eq (s_count (log, "event=notify_failed"), 2, "%s", log);
    cr_expect_eq (s_count (log, "event=notify_sent"), 4, "%s", log);
    cr_expect (!strstr (log, "S3CRET") && !strstr (log, "/hook") && !strstr (log, "/alerts"), "%s",
               log);
    char shown[64];
    snprintf (shown, sizeof shown, "\"http://127.0.0.1:%d/...\"", hang_port);
    cr_expect (strstr (log, shown) != NULL, "%s", log);
    free (log);
    json_decref (e1);
    json_decref (e2);
    close (hang_fd);
    th_hook_stop (&hook);
}

Test (notify, full_queue_drops_the_oldest, .timeout = 30)
{
    int hang_port = 0;
    int hang_fd = th_hang_start (&hang_port);
    char urls[128];
    snprintf (urls, sizeof urls, "http://127.0.0.1:%d/x", hang_port);
    sp_notify_opts_t o = {.urls = urls,
                          .timeout_ms = 300,
                          .retries = 0,
                          .queue_max = 2,
                          .log_interval_ms = 60000,
                          .drain_ms = 100};
    char err[256];
    sp_notify_t *n = sp_notify_new (&o, err, sizeof err);
    cr_assert_not_null (n, "%s", err);
    json_t *e = s_event ("X", 0);
    for (int i = 0; i < 6; i++)
        cr_expect_eq (sp_notify_send (n, e), 0);
    sp_notify_stats_t st;
    sp_notify_stats (n, &st);
    //  one is being tried, two wait, three were dropped (or four, when the
    //  thread had not taken the first yet)
    cr_expect (st.dropped == 3 || st.dropped == 4, "dropped %zu", st.dropped);
    int64_t t0 = sp_clock_mono_ms ();
    sp_notify_destroy (&n);
    int64_t took = sp_clock_mono_ms () - t0;
    cr_expect_lt (took, 1000, "destroy took %lld ms", (long long) took);
    json_decref (e);
    close (hang_fd);
}
