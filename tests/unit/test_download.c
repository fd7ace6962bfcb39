/*  test_download.c: the downloader's I/O-free and file-system parts:
    slskd transfer states and objects, finding the finished file in slskd's
    downloads folder (exact name, clash variants, symlinks, dot-dot), the
    duration tolerance, file verification (real audio from tests/fakes/audio,
    zeros, truncation, wrong length), and staging (rename, copy, no
    overwrite, no leftovers).

    The fake audio writer is linked from test_fake_audio.c (which includes
    tests/fakes/audio.c); only its header is used here. */
#include "../../services/downloader/downloader.h"
#include "../../services/downloader/slskd_transfer.h"
#include "../fakes/audio.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[256];

static void
s_setup (void)
{
    snprintf (s_dir, sizeof s_dir, "/tmp/sp-test-download-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd[300];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    cr_expect_eq (system (cmd), 0);
}

static const char *
s_path (const char *rel)
{
    static char buf[4][512];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf (b, 512, "%s/%s", s_dir, rel);
    return b;
}

static void
s_mkdir (const char *rel)
{
    cr_assert_eq (mkdir (s_path (rel), 0755), 0, "mkdir %s", rel);
}

static void
s_write (const char *rel, const char *content, size_t len)
{
    FILE *f = fopen (s_path (rel), "wb");
    cr_assert_not_null (f, "%s", rel);
    cr_assert_eq (fwrite (content, 1, len, f), len);
    fclose (f);
}

static long long
s_size (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 ? (long long) st.st_size : -1;
}

/* ---------------------------------------------------------------- states */

Test (xfer, state_parse)
{
    cr_assert_eq (sp_xfer_state_parse ("Requested"), SP_XFER_REQUESTED);
    cr_assert_eq (sp_xfer_state_parse ("Queued, Remotely"), SP_XFER_QUEUED_REMOTELY);
    cr_assert_eq (sp_xfer_state_parse ("Queued, Locally"), SP_XFER_QUEUED_LOCALLY);
    cr_assert_eq (sp_xfer_state_parse ("Initializing"), SP_XFER_INITIALIZING);
    cr_assert_eq (sp_xfer_state_parse ("InProgress"), SP_XFER_IN_PROGRESS);
    cr_assert_eq (sp_xfer_state_parse ("Completed, Succeeded"), SP_XFER_SUCCEEDED);
    cr_assert_eq (sp_xfer_state_parse ("Succeeded, Completed"), SP_XFER_SUCCEEDED);
    cr_assert_eq (sp_xfer_state_parse ("completed,succeeded"), SP_XFER_SUCCEEDED);
    cr_assert_eq (sp_xfer_state_parse ("Completed, Cancelled"), SP_XFER_CANCELLED);
    cr_assert_eq (sp_xfer_state_parse ("Completed, TimedOut"), SP_XFER_TIMED_OUT);
    cr_assert_eq (sp_xfer_state_parse ("Completed, Errored"), SP_XFER_ERRORED);
    cr_assert_eq (sp_xfer_state_parse ("Completed, Rejected"), SP_XFER_REJECTED);
    cr_assert_eq (sp_xfer_state_parse ("Completed, Aborted"), SP_XFER_ABORTED);
    cr_assert_eq (sp_xfer_state_parse ("Completed, Melted"), SP_XFER_COMPLETED_OTHER);
    //  a success mixed with a failure flag is not a success
    cr_assert_eq (sp_xfer_state_parse ("Completed, Succeeded, Errored"), SP_XFER_ERRORED);
    //  "Succeeded" without "Completed" is not terminal
    cr_assert_eq (sp_xfer_state_parse ("Succeeded"), SP_XFER_UNKNOWN);
    cr_assert_eq (sp_xfer_state_parse (NULL), SP_XFER_UNKNOWN);
    cr_assert_eq (sp_xfer_state_parse (""), SP_XFER_UNKNOWN);
    cr_assert_eq (sp_xfer_state_parse ("Completed"), SP_XFER_COMPLETED_OTHER);
    cr_assert (sp_xfer_state_final (SP_XFER_SUCCEEDED));
    cr_assert (sp_xfer_state_final (SP_XFER_COMPLETED_OTHER));
    cr_assert_not (sp_xfer_state_final (SP_XFER_IN_PROGRESS));
    cr_assert_not (sp_xfer_state_final (SP_XFER_UNKNOWN));
    cr_assert_str_eq (sp_xfer_state_name (SP_XFER_TIMED_OUT), "timed-out");
    cr_assert_str_eq (sp_xfer_state_name ((sp_xfer_state_t) 99), "unknown");
}

Test (xfer, parse)
{
    json_t *j = json_loads ("{\"id\":\"0b7f2a3c-1111-4222-8333-944455556666\",\"username\":\"u\","
                            "\"state\":\"InProgress\",\"size\":1000,\"bytesTransferred\":250,"
                            "\"percentComplete\":25.0,\"averageSpeed\":512.5,\"placeInQueue\":3,"
                            "\"exception\":\"boom\",\"removed\":true}",
                            0, NULL);
    cr_assert_not_null (j);
    sp_xfer_t x;
    cr_assert_eq (sp_xfer_parse (j, &x), SP_XFER_OK);
    cr_assert_str_eq (x.id, "0b7f2a3c-1111-4222-8333-944455556666");
    cr_assert_eq (x.state, SP_XFER_IN_PROGRESS);
    cr_assert_eq (x.size, 1000);
    cr_assert_eq (x.bytes, 250);
    cr_assert_float_eq (x.percent, 25.0, 1e-9);
    cr_assert_float_eq (x.speed, 512.5, 1e-9);
    cr_assert_eq (x.place, 3);
    cr_assert_str_eq (x.exception, "boom");
    cr_assert (x.removed);
    json_decref (j);

    //  absent fields: -1 / 0 / ""
    j = json_loads ("{\"id\":\"ab\",\"state\":\"Requested\"}", 0, NULL);
    cr_assert_eq (sp_xfer_parse (j, &x), SP_XFER_OK);
    cr_assert_eq (x.bytes, -1);
    cr_assert_eq (x.size, -1);
    cr_assert_eq (x.place, -1);
    cr_assert_float_eq (x.speed, 0, 1e-9);
    cr_assert_str_eq (x.exception, "");
    cr_assert_not (x.removed);
    json_decref (j);

    //  no id, no state, wrong types, not an object
    const char *bad[] = {"{\"state\":\"Requested\"}", "{\"id\":\"a\"}",
                         "{\"id\":5,\"state\":\"x\"}", "[1]", "\"x\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = json_loads (bad[i], JSON_DECODE_ANY, NULL);
        cr_assert_not_null (j, "%s", bad[i]);
        cr_assert_eq (sp_xfer_parse (j, &x), SP_XFER_ERR_BAD_REPLY, "%s", bad[i]);
        json_decref (j);
    }
    cr_assert_eq (sp_xfer_parse (NULL, &x), SP_XFER_ERR_BAD_REPLY);
}

Test (xfer, find_in_user)
{
    json_t *j =
        json_loads ("{\"username\":\"u\",\"directories\":[{\"directory\":\"a\",\"files\":["
                    "{\"id\":\"1\",\"filename\":\"a\\\\f.flac\",\"state\":\"Completed, Errored\","
                    "\"requestedAt\":\"2026-01-01T00:00:03\"},"
                    "{\"id\":\"2\",\"filename\":\"a\\\\f.flac\",\"state\":\"InProgress\","
                    "\"requestedAt\":\"2026-01-01T00:00:01\"},"
                    "{\"id\":\"3\",\"filename\":\"a\\\\f.flac\",\"state\":\"Queued, Remotely\","
                    "\"requestedAt\":\"2026-01-01T00:00:02\"},"
                    "{\"id\":\"4\",\"filename\":\"a\\\\g.flac\",\"state\":\"InProgress\","
                    "\"requestedAt\":\"2026-01-01T00:00:09\"}]}]}",
                    0, NULL);
    cr_assert_not_null (j);
    sp_xfer_t x;
    cr_assert_eq (sp_xfer_find_in_user (j, "a\\f.flac", false, &x), SP_XFER_OK);
    cr_assert_str_eq (x.id, "3", "newest non-final");
    cr_assert_eq (sp_xfer_find_in_user (j, "a\\f.flac", true, &x), SP_XFER_OK);
    cr_assert_str_eq (x.id, "1", "newest in any state");
    cr_assert_eq (sp_xfer_find_in_user (j, "a\\h.flac", true, &x), SP_XFER_ERR_NOT_FOUND);
    cr_assert_eq (sp_xfer_find_in_user (NULL, "a\\f.flac", true, &x), SP_XFER_ERR_NOT_FOUND);
    json_decref (j);
}

/* ---------------------------------------------------------------- local file */

Test (xfer, local_path, .init = s_setup, .fini = s_teardown)
{
    s_mkdir ("2001 - Album");
    s_write ("2001 - Album/01 - Song.flac", "0123456789", 10);
    char *p = NULL;
    cr_assert_eq (
        sp_xfer_local_path (s_dir, "@@music\\Artist\\2001 - Album\\01 - Song.flac", 10, &p),
        SP_XFER_OK);
    cr_assert_str_eq (p, s_path ("2001 - Album/01 - Song.flac"));
    free (p);

    //  the exact name has the wrong size; a clash variant has the right one
    s_write ("2001 - Album/01 - Song_638000000000000001.flac", "01234567890123", 14);
    s_write ("2001 - Album/01 - Song_638000000000000002.flac", "0123456789012", 13);
    s_write ("2001 - Album/01 - Song_x.flac", "01234567890123", 14);
    cr_assert_eq (
        sp_xfer_local_path (s_dir, "@@music\\Artist\\2001 - Album\\01 - Song.flac", 14, &p),
        SP_XFER_OK);
    cr_assert_str_eq (p, s_path ("2001 - Album/01 - Song_638000000000000001.flac"));
    free (p);
    //  no file of that size: the exact name (the size check reports it)
    cr_assert_eq (
        sp_xfer_local_path (s_dir, "@@music\\Artist\\2001 - Album\\01 - Song.flac", 99, &p),
        SP_XFER_OK);
    cr_assert_str_eq (p, s_path ("2001 - Album/01 - Song.flac"));
    free (p);

    //  no folder in the remote path: the downloads root
    s_write ("Loose.mp3", "abc", 3);
    cr_assert_eq (sp_xfer_local_path (s_dir, "Loose.mp3", 3, &p), SP_XFER_OK);
    cr_assert_str_eq (p, s_path ("Loose.mp3"));
    free (p);

    //  a symlink is never taken
    s_mkdir ("Links");
    cr_assert_eq (symlink ("/etc/passwd", s_path ("Links/pw.flac")), 0);
    cr_assert_eq (
        sp_xfer_local_path (s_dir, "x\\Links\\pw.flac", (uint64_t) s_size ("/etc/passwd"), &p),
        SP_XFER_ERR_NOT_FOUND);
    cr_assert_null (p);
    //  a symlinked folder neither
    cr_assert_eq (symlink (s_dir, s_path ("Loop")), 0);
    cr_assert_eq (sp_xfer_local_path (s_dir, "x\\Loop\\Loose.mp3", 3, &p), SP_XFER_ERR_NOT_FOUND);

    //  dot-dot and empty names are refused
    cr_assert_eq (sp_xfer_local_path (s_dir, "x\\..\\Loose.mp3", 3, &p), SP_XFER_ERR_INVALID);
    cr_assert_eq (sp_xfer_local_path (s_dir, "x\\..", 3, &p), SP_XFER_ERR_INVALID);
    cr_assert_eq (sp_xfer_local_path (s_dir, "x\\Album\\", 3, &p), SP_XFER_ERR_INVALID);
    cr_assert_eq (sp_xfer_local_path (s_dir, "", 3, &p), SP_XFER_ERR_INVALID);
    cr_assert_eq (sp_xfer_local_path (s_dir, "x\\Nope\\a.flac", 3, &p), SP_XFER_ERR_NOT_FOUND);
    //  '/' in a remote component is slskd's '_'
    s_mkdir ("AC_DC");
    s_write ("AC_DC/T_N_T.mp3", "abcd", 4);
    cr_assert_eq (sp_xfer_local_path (s_dir, "m\\AC/DC\\T/N/T.mp3", 4, &p), SP_XFER_OK);
    cr_assert_str_eq (p, s_path ("AC_DC/T_N_T.mp3"));
    free (p);
}

/* ---------------------------------------------------------------- verification */

Test (dl, length_ok)
{
    cr_assert (sp_dl_length_ok (200000, 200000));
    cr_assert (sp_dl_length_ok (100000, 105000));  //  5 s
    cr_assert (sp_dl_length_ok (100000, 95000));
    cr_assert_not (sp_dl_length_ok (100000, 106000));
    cr_assert_not (sp_dl_length_ok (100000, 94000));
    cr_assert (sp_dl_length_ok (600000, 618000));  //  3 % of 10 min
    cr_assert_not (sp_dl_length_ok (600000, 619000));
    cr_assert (sp_dl_length_ok (0, 5));  //  unknown: anything
    cr_assert (sp_dl_length_ok (-1, 123456));
}

Test (dl, verify_file, .init = s_setup, .fini = s_teardown)
{
    const char *good = s_path ("good.flac");
    uint64_t size = 0;
    cr_assert_eq (sp_fake_audio_write (good, "flac", 60, 30000, false, &size), 0);
    char why[256];
    int len = 0;
    cr_assert_eq (sp_dl_verify_file (good, size, 60000, &len, why, sizeof why), SP_DL_VERIFY_OK,
                  "%s", why);
    cr_assert_eq (len, 60);
    cr_assert_eq (sp_dl_verify_file (good, 0, -1, NULL, why, sizeof why), SP_DL_VERIFY_OK);
    //  wrong expected length
    cr_assert_eq (sp_dl_verify_file (good, size, 120000, &len, why, sizeof why),
                  SP_DL_VERIFY_LENGTH);
    cr_assert (strstr (why, "60 s instead of 120 s"), "%s", why);
    //  wrong size
    cr_assert_eq (sp_dl_verify_file (good, size + 1, 60000, &len, why, sizeof why),
                  SP_DL_VERIFY_CORRUPT);
    cr_assert (strstr (why, "bytes instead of"), "%s", why);

    //  the fake's corrupt files: right size, all zeros
    const char *zero = s_path ("zero.flac");
    cr_assert_eq (sp_fake_audio_write (zero, "flac", 60, 30000, true, &size), 0);
    cr_assert_eq (sp_dl_verify_file (zero, size, 60000, &len, why, sizeof why),
                  SP_DL_VERIFY_CORRUPT);
    cr_assert (strstr (why, "zeros"), "%s", why);

    //  non-zero garbage: TagLib cannot decode it
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char) (i * 7 + 1);
    s_write ("junk.mp3", junk, sizeof junk);
    cr_assert_eq (
        sp_dl_verify_file (s_path ("junk.mp3"), sizeof junk, 60000, &len, why, sizeof why),
        SP_DL_VERIFY_CORRUPT);
    //  each other format the fake writes verifies
    const char *exts[] = {"mp3", "ogg", "m4a"};
    for (size_t i = 0; i < 3; i++) {
        char rel[32];
        snprintf (rel, sizeof rel, "f.%s", exts[i]);
        cr_assert_eq (sp_fake_audio_write (s_path (rel), exts[i], 30, 0, false, &size), 0);
        cr_assert_eq (sp_dl_verify_file (s_path (rel), size, 31000, &len, why, sizeof why),
                      SP_DL_VERIFY_OK, "%s: %s", exts[i], why);
    }
    //  missing file; a symlink is not followed
    cr_assert_eq (sp_dl_verify_file (s_path ("none.flac"), 0, -1, NULL, why, sizeof why),
                  SP_DL_VERIFY_IO);
    cr_assert_eq (symlink (good, s_path ("link.flac")), 0);
    cr_assert_eq (sp_dl_verify_file (s_path ("link.flac"), 0, -1, NULL, why, sizeof why),
                  SP_DL_VERIFY_IO);
}

//  Without its old TagLib lock (tags.h, "Threads"): 8 threads verify the same
//  files at once, 50 rounds each, good and corrupt; every answer must be the
//  single-threaded one. Run under `make SAN=1` too.
#define S_VERIFY_THREADS 8
#define S_VERIFY_ROUNDS  50

typedef struct {
    const char *paths[5];
    uint64_t sizes[5];
    pthread_barrier_t *start;
    int wrong;  //  answers that differ from the single-threaded ones
} s_verify_job_t;

static void *
s_verify_loop (void *arg)
{
    s_verify_job_t *j = arg;
    pthread_barrier_wait (j->start);
    for (int r = 0; r < S_VERIFY_ROUNDS; r++)
        for (int k = 0; k < 5; k++) {
            char why[256];
            int len = 0;
            int rc = sp_dl_verify_file (j->paths[k], j->sizes[k], 40000, &len, why, sizeof why);
            if (k < 4 ? rc != SP_DL_VERIFY_OK || len != 40 : rc != SP_DL_VERIFY_CORRUPT)
                __atomic_add_fetch (&j->wrong, 1, __ATOMIC_RELAXED);
        }
    return NULL;
}

Test (dl, verify_file_from_threads_at_once, .init = s_setup, .fini = s_teardown, .timeout = 300)
{
    static const char *exts[] = {"flac", "mp3", "ogg", "m4a"};
    pthread_barrier_t start;
    cr_assert_eq (pthread_barrier_init (&start, NULL, S_VERIFY_THREADS), 0);
    s_verify_job_t job = {.start = &start};
    static char names[5][512];
    for (int k = 0; k < 5; k++) {
        char rel[32];
        snprintf (rel, sizeof rel, "t%d.%s", k, k < 4 ? exts[k] : "flac");
        snprintf (names[k], sizeof names[k], "%s", s_path (rel));
        cr_assert_eq (
            sp_fake_audio_write (names[k], k < 4 ? exts[k] : "flac", 40, 0, k == 4, &job.sizes[k]),
            0);
        job.paths[k] = names[k];
    }
    pthread_t th[S_VERIFY_THREADS];
    for (int i = 0; i < S_VERIFY_THREADS; i++)
        cr_assert_eq (pthread_create (&th[i], NULL, s_verify_loop, &job), 0);
    for (int i = 0; i < S_VERIFY_THREADS; i++)
        pthread_join (th[i], NULL);
    pthread_barrier_destroy (&start);
    cr_assert_eq (job.wrong, 0, "%d of %d answers differ", job.wrong,
                  S_VERIFY_THREADS * S_VERIFY_ROUNDS * 5);
}

/* ---------------------------------------------------------------- staging */

static int
s_count_entries (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL)
        if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
            n++;
    closedir (d);
    return n;
}

static void
s_stage_case (bool force_copy)
{
    s_mkdir ("dl");
    s_mkdir ("staging");
    s_write ("dl/a.flac", "AAAA", 4);
    char *staged = NULL;
    char why[256];
    int rc = sp_dl_stage (s_path ("staging"), "j-1", "7", s_path ("dl/a.flac"), "flac", force_copy,
                          &staged, why, sizeof why);
    cr_assert_eq (rc, 0, "%s", why);
    cr_assert_str_eq (staged, s_path ("staging/j-1/7.flac"));
    cr_assert_eq (s_size (staged), 4);
    cr_assert_eq (s_size (s_path ("dl/a.flac")), -1, "the source is moved");
    cr_assert_eq (s_count_entries (s_path ("staging/j-1")), 1, "no work folder or temp file left");
    char *found = NULL;
    cr_assert_eq (sp_dl_find_staged (s_path ("staging"), "j-1", "7", &found), 0);
    cr_assert_str_eq (found, staged);
    free (found);
    cr_assert_eq (sp_dl_find_staged (s_path ("staging"), "j-1", "70", &found), -1);
    cr_assert_eq (sp_dl_find_staged (s_path ("staging"), "j-2", "7", &found), -1);

    //  a second file for the same track never replaces the first
    s_write ("dl/b.flac", "BBBBBB", 6);
    char *again = NULL;
    rc = sp_dl_stage (s_path ("staging"), "j-1", "7", s_path ("dl/b.flac"), "flac", force_copy,
                      &again, why, sizeof why);
    cr_assert_eq (rc, 1);
    cr_assert_null (again);
    cr_assert_eq (s_size (staged), 4);
    cr_assert_eq (s_size (s_path ("dl/b.flac")), 6, "the source is left alone");
    //  another position of the same job sits beside it
    rc = sp_dl_stage (s_path ("staging"), "j-1", "8", s_path ("dl/b.flac"), "FLAC", force_copy,
                      &again, why, sizeof why);
    cr_assert_eq (rc, 0, "%s", why);
    cr_assert_str_eq (again, s_path ("staging/j-1/8.FLAC"));
    free (again);
    free (staged);
    cr_assert_eq (s_count_entries (s_path ("staging/j-1")), 2);
}

Test (dl, stage_rename, .init = s_setup, .fini = s_teardown)
{
    s_stage_case (false);
}

Test (dl, stage_copy, .init = s_setup, .fini = s_teardown)
{
    s_stage_case (true);
}

Test (dl, stage_refuses, .init = s_setup, .fini = s_teardown)
{
    s_mkdir ("dl");
    s_mkdir ("staging");
    char why[256];
    char *staged = NULL;
    //  a symlink as the source
    cr_assert_eq (symlink ("/etc/passwd", s_path ("dl/evil.flac")), 0);
    cr_assert_eq (sp_dl_stage (s_path ("staging"), "j", "1", s_path ("dl/evil.flac"), "flac", true,
                               &staged, why, sizeof why),
                  -1);
    cr_assert_null (staged);
    //  a symlinked job folder in staging
    cr_assert_eq (symlink ("/tmp", s_path ("staging/j2")), 0);
    s_write ("dl/ok.flac", "x", 1);
    cr_assert_eq (sp_dl_stage (s_path ("staging"), "j2", "1", s_path ("dl/ok.flac"), "flac", false,
                               &staged, why, sizeof why),
                  -1);
    cr_assert_eq (s_size (s_path ("dl/ok.flac")), 1);
    //  a hostile job id stays one component under staging
    cr_assert_eq (sp_dl_stage (s_path ("staging"), "../../x", "1", s_path ("dl/ok.flac"), "flac",
                               false, &staged, why, sizeof why),
                  0, "%s", why);
    cr_assert (strncmp (staged, s_path ("staging/"), strlen (s_path ("staging/"))) == 0, "%s",
               staged);
    cr_assert_null (strstr (staged, "/.."), "%s", staged);
    const char *rest = staged + strlen (s_path ("staging/"));
    const char *slash = strchr (rest, '/');
    cr_assert (slash && !strchr (slash + 1, '/'), "one job folder: %s", staged);
    free (staged);
}

Test (dl, clean_work, .init = s_setup, .fini = s_teardown)
{
    s_mkdir ("staging");
    s_mkdir ("staging/j");
    s_mkdir ("staging/j/.work-3");
    s_write ("staging/j/.work-3/.sp-0123456789abcdef.tmp", "partial", 7);
    s_mkdir ("staging/j/.work-4");
    s_write ("staging/j/.work-4/.sp-0123456789abcdee.tmp", "other", 5);
    sp_dl_clean_work (s_path ("staging"), "j", "3");
    cr_assert_eq (s_size (s_path ("staging/j/.work-3")), -1, "the crashed copy is gone");
    cr_assert_eq (s_size (s_path ("staging/j/.work-4/.sp-0123456789abcdee.tmp")), 5,
                  "another track's copy is left alone");
    sp_dl_clean_work (s_path ("staging"), "nojob", "3");  //  nothing there: no harm
}
