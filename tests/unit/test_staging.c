/*  Unit tests for the staging module (issue 21 item 3): a staged path is
    accepted only when it is the task's own file. */
#include "soulpipe/staging.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_root[64], s_staging[128];

static void
s_touch (const char *path)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq (fd, 0, "%s", path);
    cr_assert_eq (write (fd, "x", 1), 1);
    close (fd);
}

static void
s_setup (void)
{
    snprintf (s_root, sizeof s_root, "/tmp/sp-staging-XXXXXX");
    cr_assert_not_null (mkdtemp (s_root));
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_root);
    cr_assert_eq (mkdir (s_staging, 0755), 0);
    char p[256];
    snprintf (p, sizeof p, "%s/jobA", s_staging);
    cr_assert_eq (mkdir (p, 0755), 0);
    snprintf (p, sizeof p, "%s/jobB", s_staging);
    cr_assert_eq (mkdir (p, 0755), 0);
    snprintf (p, sizeof p, "%s/jobA/0.flac", s_staging);
    s_touch (p);
    snprintf (p, sizeof p, "%s/jobB/3.mp3", s_staging);
    s_touch (p);
}

static void
s_teardown (void)
{
    char cmd[160];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_root);
    cr_assert_eq (system (cmd), 0);
}

TestSuite (staging, .init = s_setup, .fini = s_teardown);

static int
s_check (const char *job, const char *track_key, const char *rel)
{
    char path[256], why[256] = "";
    snprintf (path, sizeof path, "%s/%s", s_staging, rel);
    int rc = sp_staging_check (s_staging, job, track_key, path, why, sizeof why);
    if (rc != 0)
        cr_assert (why[0], "refused without a reason");
    return rc;
}

Test (staging, own_file_is_accepted)
{
    cr_assert_eq (s_check ("jobA", "jobA:0", "jobA/0.flac"), 0);
    cr_assert_eq (s_check ("jobB", "jobB:3", "jobB/3.mp3"), 0);
    //  missing (a re-run after the move): passes on its names
    cr_assert_eq (s_check ("jobB", "jobB:4", "jobB/4.flac"), 0);
}

Test (staging, another_tasks_file_is_refused)
{
    //  the rogue's task is jobB:3; it names jobA's file
    cr_assert_eq (s_check ("jobB", "jobB:3", "jobA/0.flac"), -1);
    //  its own job, another position
    cr_assert_eq (s_check ("jobA", "jobA:1", "jobA/0.flac"), -1);
    //  a name that only starts like its own
    cr_assert_eq (s_check ("jobA", "jobA:0", "jobA/0.flac.part"), -1);
    cr_assert_eq (s_check ("jobA", "jobA:0", "jobA/00.flac"), -1);
    //  outside staging, or no track key of the right shape
    char why[128];
    cr_assert_eq (sp_staging_check (s_staging, "jobA", "jobA:0", "/etc/shadow", why, sizeof why),
                  -1);
    cr_assert_eq (sp_staging_check (s_staging, "jobA", "jobA", "x", why, sizeof why), -1);
    cr_assert_eq (sp_staging_check (s_staging, "jobA", "jobA:0", NULL, why, sizeof why), -1);
    cr_assert_eq (sp_staging_check (s_staging, "jobA", "jobA:x1", "x", why, sizeof why), -1);
}

Test (staging, own_name_leading_elsewhere_is_refused)
{
    //  jobB/5.flac is a symlink to jobA's file: the names match, the file does not
    char link[256], target[256];
    snprintf (link, sizeof link, "%s/jobB/5.flac", s_staging);
    snprintf (target, sizeof target, "%s/jobA/0.flac", s_staging);
    cr_assert_eq (symlink (target, link), 0);
    cr_assert_eq (s_check ("jobB", "jobB:5", "jobB/5.flac"), -1);
    //  and a job folder reached through "..": the real place is checked
    cr_assert_eq (s_check ("jobA", "jobA:0", "jobB/../jobA/0.flac"), 0);
    cr_assert_eq (s_check ("jobB", "jobB:3", "jobA/../jobB/3.mp3"), 0);
}

Test (staging, names_and_position)
{
    cr_assert_str_eq (sp_staging_pos ("job:12"), "12");
    cr_assert_null (sp_staging_pos ("job:"));
    cr_assert_null (sp_staging_pos ("job"));
    cr_assert_null (sp_staging_pos ("job:1a"));
    cr_assert_null (sp_staging_pos (NULL));
    char *dir = NULL, *file = NULL;
    cr_assert_eq (sp_staging_names ("jobA", "7", "flac", &dir, &file), 0);
    cr_assert_str_eq (dir, "jobA");
    cr_assert_str_eq (file, "7.flac");
    free (dir);
    free (file);
    cr_assert_eq (sp_staging_names (NULL, "7", "flac", &dir, &file), -1);
    cr_assert_null (dir);
}
