/*  test_path_sweep.c: sp_path_sweep_tmp_at removes the temporary files a
    killed writer left behind (found by the chaos test: a tagger killed while
    writing the m3u8 left ".sp-<hex>.tmp" in the playlist folder), and only
    those: not a live writer's locked file, not a fresh one, not other names. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "soulpipe/path.h"

static void
s_touch_old (int dirfd, const char *name, int age_s)
{
    int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq (fd, 0);
    cr_assert_eq (write (fd, "x", 1), 1);
    struct timespec ts[2];
    clock_gettime (CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= age_s;
    ts[1] = ts[0];
    cr_assert_eq (futimens (fd, ts), 0);
    close (fd);
}

static bool
s_exists (int dirfd, const char *name)
{
    struct stat st;
    return fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Test (path_sweep, removes_only_dead_writers_files)
{
    char dir[] = "/tmp/sp-sweep-XXXXXX";
    cr_assert_not_null (mkdtemp (dir));
    int dirfd = open (dir, O_RDONLY | O_DIRECTORY);
    cr_assert_geq (dirfd, 0);

    //  a live writer: its file is locked while the fd is open, even when old
    char live[SP_PATH_TMPNAME_SIZE];
    int live_fd;
    cr_assert_eq (sp_path_open_tmp_at (dirfd, "list.m3u8", live, sizeof live, &live_fd),
                  SP_PATH_OK);
    struct timespec old[2];
    clock_gettime (CLOCK_REALTIME, &old[0]);
    old[0].tv_sec -= 60;
    old[1] = old[0];
    cr_assert_eq (futimens (live_fd, old), 0);

    s_touch_old (dirfd, ".sp-0123456789abcdef.tmp", 60);       //  dead writer
    s_touch_old (dirfd, ".sp-00000000000000ff.tmp.flac", 60);  //  dead, renamed for tagging
    s_touch_old (dirfd, ".sp-1111111111111111.tmp", 0);        //  fresh: maybe being created
    s_touch_old (dirfd, "01 - Song.flac", 60);                 //  not a temporary name
    s_touch_old (dirfd, ".sp-xyz.tmp", 60);                    //  not ours

    cr_assert_eq (sp_path_sweep_tmp_at (dirfd, 2), 2);
    cr_assert (s_exists (dirfd, live), "a live writer's file was removed");
    cr_assert_not (s_exists (dirfd, ".sp-0123456789abcdef.tmp"));
    cr_assert_not (s_exists (dirfd, ".sp-00000000000000ff.tmp.flac"));
    cr_assert (s_exists (dirfd, ".sp-1111111111111111.tmp"));
    cr_assert (s_exists (dirfd, "01 - Song.flac"));
    cr_assert (s_exists (dirfd, ".sp-xyz.tmp"));

    //  the writer dies (its fd closes): its file goes at the next sweep
    close (live_fd);
    cr_assert_eq (sp_path_sweep_tmp_at (dirfd, 2), 1);
    cr_assert_not (s_exists (dirfd, live));
    cr_assert_eq (sp_path_sweep_tmp_at (-1, 2), -1);

    close (dirfd);
    char cmd[64];
    snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq (system (cmd), 0);
}
