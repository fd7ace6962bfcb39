/*  Unit tests for the log module: line shape, levels, context, escaping. */
#include "soulpipe/log.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  Run fn with stderr captured; returns what was written (caller frees). */
static char *
s_capture (void (*fn) (void))
{
    char path[] = "/tmp/sp-log-XXXXXX";
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    int saved = dup (STDERR_FILENO);
    dup2 (fd, STDERR_FILENO);
    fn ();
    dup2 (saved, STDERR_FILENO);
    close (saved);
    off_t len = lseek (fd, 0, SEEK_END);
    char *buf = calloc (1, (size_t) len + 1);
    pread (fd, buf, (size_t) len, 0);
    close (fd);
    unlink (path);
    return buf;
}

static int s_evaluated;
static int
s_count (void)
{
    return ++s_evaluated;
}

static void
s_levels (void)
{
    sp_log_init ("tester", SP_LOG_WARN);
    sp_log_info ("event=hidden n=%d", s_count ());
    sp_log_warn ("event=shown n=%d", 7);
}

Test (log, level_filters_without_evaluating)
{
    s_evaluated = 0;
    char *out = s_capture (s_levels);
    cr_assert_eq (s_evaluated, 0, "arguments evaluated below the level");
    cr_assert_null (strstr (out, "hidden"));
    cr_assert (strstr (out, " WARN tester event=shown n=7\n"), "%s", out);
    //  ISO-8601 UTC timestamp first
    cr_assert_eq (out[4], '-');
    cr_assert_eq (out[10], 'T');
    cr_assert_eq (out[23], 'Z');
    free (out);
}

static void
s_context (void)
{
    sp_log_init ("searcher", SP_LOG_DEBUG);
    sp_log_context ("j-1", "j-1:3");
    sp_log_debug ("event=search");
    sp_log_context (NULL, NULL);
    sp_log_info ("event=idle");
}

Test (log, context_ids_on_every_line)
{
    char *out = s_capture (s_context);
    cr_assert (strstr (out, "DEBUG searcher event=search job=j-1 track=j-1:3\n"), "%s", out);
    cr_assert (strstr (out, "INFO searcher event=idle\n"), "%s", out);
    free (out);
}

Test (log, quoting_escapes_hostile_strings)
{
    cr_assert_str_eq (sp_log_q ("plain"), "\"plain\"");
    cr_assert_str_eq (sp_log_q ("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    cr_assert_str_eq (sp_log_q ("\x01\x7f"), "\"\\x01\\x7f\"");
    cr_assert_str_eq (sp_log_q ("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
    cr_assert_str_eq (sp_log_q ("bad\xff\xc3"), "\"bad\\xff\\xc3\"");
    cr_assert_str_eq (sp_log_q (NULL), "null");
    char big[2000];
    memset (big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *q = sp_log_q (big);
    cr_assert_lt (strlen (q), 500u);
    cr_assert (strstr (q, "...\""));
    //  rotating buffers: 8 results stay valid together
    const char *a = sp_log_q ("one");
    for (int i = 0; i < 6; i++)
        sp_log_q ("other");
    cr_assert_str_eq (a, "\"one\"");
}

Test (log, redaction)
{
    char buf[256];
    cr_assert_str_eq (sp_log_redact_url ("redis://:hunter2@host:6379/0", buf, sizeof buf),
                      "redis://:***@host:6379/0");
    cr_assert_str_eq (sp_log_redact_url ("redis://alice:pw@host", buf, sizeof buf),
                      "redis://alice:***@host");
    cr_assert_str_eq (
        sp_log_redact_url ("http://plex:32400/library?X-Plex-Token=abc&type=10", buf, sizeof buf),
        "http://plex:32400/library?X-Plex-Token=***&type=10");
    cr_assert_str_eq (sp_log_redact_url ("http://h/cb?code=XYZ&state=1", buf, sizeof buf),
                      "http://h/cb?code=***&state=1");
    cr_assert_str_eq (sp_log_redact_url ("http://h:1/x", buf, sizeof buf), "http://h:1/x");
    char small[8];
    sp_log_redact_url ("redis://:hunter2@host", small, sizeof small);
    cr_assert_lt (strlen (small), sizeof small);
    cr_assert_null (strstr (small, "hunter2"));
}

Test (log, level_names)
{
    sp_log_level_t l;
    cr_assert_eq (sp_log_level_parse ("Warning", &l), 0);
    cr_assert_eq (l, SP_LOG_WARN);
    cr_assert_eq (sp_log_level_parse ("verbose", &l), -1);
    cr_assert_eq (sp_log_level_parse (NULL, &l), -1);
}

/* ------------------------------------------------ rate limit (issue 21 item 6) */

static size_t
s_occurrences (const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr (hay, needle); p; p = strstr (p + 1, needle))
        n++;
    return n;
}

static void
s_flood_line (int i)
{
    sp_log_warn ("event=flood i=%d", i);
}

static void
s_other_line (void)
{
    sp_log_warn ("event=other");
}

static void
s_flood (void)
{
    sp_log_init ("tester", SP_LOG_INFO);
    sp_log_set_rate (5);
    for (int i = 0; i < 1000; i++)
        s_flood_line (i);
    //  another call site is not held back by the flood
    s_other_line ();
    usleep (1100 * 1000);
    //  the next window: the summary first, then the line itself
    s_flood_line (1000);
}

Test (log, rate_limit_per_call_site)
{
    char *out = s_capture (s_flood);
    cr_assert_eq (s_occurrences (out, "tester event=flood "), 6, "%s", out);
    cr_assert (strstr (out, "event=flood i=4\n"), "%s", out);
    cr_assert_null (strstr (out, "event=flood i=5\n"), "%s", out);
    cr_assert_eq (s_occurrences (out, "event=other\n"), 1, "%s", out);
    const char *sum = strstr (out, "event=log_suppressed count=995 ");
    cr_assert_not_null (sum, "%s", out);
    cr_assert (strstr (sum, "what=\"suppressed 995 similar lines\""), "%s", out);
    cr_assert (strstr (sum, "like=\"event=flood i=%d\""), "%s", out);
    //  the summary keeps the suppressed lines' level and comes before the new line
    cr_assert (strstr (out, "WARN tester event=log_suppressed"), "%s", out);
    cr_assert_lt (sum, strstr (out, "event=flood i=1000\n"), "%s", out);
    free (out);
}

static void
s_quiet_after_flood (void)
{
    sp_log_init ("tester", SP_LOG_INFO);
    sp_log_set_rate (3);
    for (int i = 0; i < 50; i++)
        s_flood_line (i);
    usleep (1100 * 1000);
    //  the flooding site is silent now: any later line brings its summary out
    s_other_line ();
}

Test (log, rate_limit_summary_when_the_site_goes_quiet)
{
    char *out = s_capture (s_quiet_after_flood);
    cr_assert_eq (s_occurrences (out, "tester event=flood "), 3, "%s", out);
    cr_assert (strstr (out, "event=log_suppressed count=47 "), "%s", out);
    free (out);
}

static void
s_unlimited (void)
{
    sp_log_init ("tester", SP_LOG_INFO);
    sp_log_set_rate (0);
    for (int i = 0; i < 300; i++)
        s_flood_line (i);
}

Test (log, rate_limit_off)
{
    char *out = s_capture (s_unlimited);
    cr_assert_eq (s_occurrences (out, "tester event=flood "), 300);
    cr_assert_null (strstr (out, "log_suppressed"));
    free (out);
}

static void
s_default_flood (void)
{
    sp_log_init ("tester", SP_LOG_INFO);
    for (int i = 0; i < 300000; i++)
        s_flood_line (i);
}

//  The hostile pass's flood: 300k lines from one site write at most the
//  default burst (20) in the first second, not 300k.
Test (log, rate_limit_default_bounds_a_flood)
{
    char *out = s_capture (s_default_flood);
    cr_assert_leq (s_occurrences (out, "tester event=flood "), 40, "%zu lines",
                   s_occurrences (out, "tester event=flood "));
    cr_assert_lt (strlen (out), 8192u);
    free (out);
}
