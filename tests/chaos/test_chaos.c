/*  test_chaos.c: the chaos test (make test-chaos).

    A generated 300-track playlist (tests/chaos/chaos_fixture.c) against the
    fake Spotify/Plex/slskd with a mixed network, an own redis-server (AOF),
    the analyzer, 2 searchers, 2 downloaders and a tagger, leases of 5 s and
    heartbeats of 200 ms. During the run a random worker is killed with
    SIGKILL and restarted every 2-4 s, the analyzer is killed and restarted
    twice and redis-server once (kill -9, same port and dir). At the end it
    prints and checks: every track done, skipped or failed with a reason (and
    the right one for its kind); every done track has exactly one file in
    Transfer (tagged with its title) and one line in the m3u8; staging holds
    no orphan; the counters equal the track records; no file outside the
    configured folders.

    SOULPIPE_CHAOS_SEED repeats a run's kill schedule; SOULPIPE_CHAOS_TRACKS
    changes the playlist size (default 300). */
#include "../integration/harness.h"
#include "chaos_fixture.h"

#include "soulpipe/tags.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHAOS_TRACKS       300
#define CHAOS_MAX_RUN_MS   240000  //  the job must end within this (chaos included)
#define CHAOS_WINDOW_MS    75000   //  kills stop after this even if the job runs on
#define CHAOS_ANALYZER_AT1 6000    //  ms after submit: first analyzer kill
#define CHAOS_REDIS_AT     15000   //  redis-server kill -9 and restart
#define CHAOS_ANALYZER_AT2 27000   //  second analyzer kill
#define CHAOS_FINISH_MS    30000   //  after the job ends: the final m3u8

static sp_test_t s_t;

static void
s_fini (void)
{
    sp_test_fini (&s_t);
}

TestSuite (chaos, .fini = s_fini, .timeout = 600);

typedef struct {
    const char *name;  //  log name
    const char *bin;   //  binary name
    pid_t pid;
    int kills;
} s_proc_t;

#define N_WORKERS 5

typedef struct {
    char fixtures[400], downloads[400], staging[400], transfer[400];
    int port;
    sp_chaos_expect_t expect;
    int n_tracks;
    s_proc_t analyzer;
    s_proc_t workers[N_WORKERS];  //  searcher-1, -2, downloader-1, -2, tagger
} s_stack_t;

static void
s_spawn (sp_test_t *t, s_proc_t *p)
{
    const char *argv[] = {sp_test_bin (p->bin), NULL};
    p->pid = sp_test_spawn (t, p->name, argv);
}

static char *
s_hget (sp_test_t *t, const char *key, const char *field)
{
    const char *argv[] = {"HGET", key, field};
    redisReply *r = NULL;
    char *v = NULL;
    if (sp_store_command (t->store, 3, argv, NULL, &r) == SP_STORE_OK) {
        if (r->type == REDIS_REPLY_STRING)
            v = strdup (r->str);
        freeReplyObject (r);
    }
    return v;
}

static bool
s_job_ended (sp_test_t *t, const char *job)
{
    char key[128];
    snprintf (key, sizeof key, "soulpipe:job:%s", job);
    char *state = s_hget (t, key, "state");
    bool ended = state && strcmp (state, "running") != 0;
    free (state);
    return ended;
}

/* ---------------------------------------------------------------- files */

typedef struct {
    char root[512];  //  Transfer/<playlist>/
    char m3u8[600];
    char **audio;  //  audio files found under Transfer (full paths)
    size_t n_audio, cap_audio;
    int covers, m3u8s, stray;  //  cover.jpg files, m3u8 files, anything else
    int outside_playlist;      //  files in Transfer but not under root
} s_tree_t;

static s_tree_t *s_tree;

static bool
s_has_ext (const char *path, const char *ext)
{
    size_t n = strlen (path), e = strlen (ext);
    return n > e && strcmp (path + n - e, ext) == 0;
}

static int
s_tree_visit (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    if (flag != FTW_F)
        return 0;
    if (strncmp (path, s_tree->root, strlen (s_tree->root)) != 0) {
        fprintf (stderr, "chaos: file outside the playlist folder: %s\n", path);
        s_tree->outside_playlist++;
    } else if (strcmp (path, s_tree->m3u8) == 0)
        s_tree->m3u8s++;
    else if (s_has_ext (path, "/cover.jpg"))
        s_tree->covers++;
    else if (s_has_ext (path, ".flac") || s_has_ext (path, ".mp3") || s_has_ext (path, ".ogg") ||
             s_has_ext (path, ".m4a")) {
        if (s_tree->n_audio == s_tree->cap_audio) {
            s_tree->cap_audio = s_tree->cap_audio ? s_tree->cap_audio * 2 : 64;
            s_tree->audio = realloc (s_tree->audio, s_tree->cap_audio * sizeof (char *));
        }
        s_tree->audio[s_tree->n_audio++] = strdup (path);
    } else {
        fprintf (stderr, "chaos: stray file in Transfer: %s\n", path);
        s_tree->stray++;
    }
    return 0;
}

static int s_count_files_n;
static int
s_count_visit (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    if (flag == FTW_F) {
        s_count_files_n++;
        fprintf (stderr, "chaos: file: %s\n", path);
    }
    return 0;
}

/*  Regular files under dir (each printed to stderr). */
static int
s_count_files (const char *dir)
{
    s_count_files_n = 0;
    nftw (dir, s_count_visit, 16, FTW_PHYS);
    return s_count_files_n;
}

/*  Files in the test dir outside every folder a service may write to. The
    test's own files are its logs, run-N.{out,err}, the fixtures and redis/. */
static int
s_files_outside (sp_test_t *t)
{
    DIR *d = opendir (t->dir);
    cr_assert_not_null (d);
    struct dirent *e;
    int outside = 0;
    while ((e = readdir (d))) {
        const char *n = e->d_name;
        if (strcmp (n, ".") == 0 || strcmp (n, "..") == 0 || strcmp (n, "fixtures") == 0 ||
            strcmp (n, "slskd-downloads") == 0 || strcmp (n, "staging") == 0 ||
            strcmp (n, "Transfer") == 0 || strcmp (n, "redis") == 0 || s_has_ext (n, ".log") ||
            (strncmp (n, "run-", 4) == 0 && (s_has_ext (n, ".out") || s_has_ext (n, ".err"))))
            continue;
        fprintf (stderr, "chaos: file outside the configured folders: %s/%s\n", t->dir, n);
        outside++;
    }
    closedir (d);
    return outside;
}

static char *
s_slurp (const char *path)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = calloc (1, (size_t) (n > 0 ? n : 0) + 1);
    if (n > 0 && fread (buf, 1, (size_t) n, f) != (size_t) n)
        buf[0] = '\0';
    fclose (f);
    return buf;
}

/*  Lines of text equal to line. */
static int
s_count_lines (const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen (line);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr (p, '\n');
        size_t l = eol ? (size_t) (eol - p) : strlen (p);
        if (l && p[l - 1] == '\r')
            l--;
        if (l == len && memcmp (p, line, len) == 0)
            n++;
        p = eol ? eol + 1 : p + l;
    }
    return n;
}

/*  Lines "# N." (the m3u8's entries for tracks without a file). */
static int
s_count_markers (const char *text)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr (p, '\n');
        if (p[0] == '#' && p[1] == ' ' && p[2] >= '0' && p[2] <= '9')
            n++;
        p = eol ? eol + 1 : p + strlen (p);
    }
    return n;
}

/*  Lines that are neither empty nor comments (the m3u8's file entries). */
static int
s_count_entries (const char *text)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        const char *eol = strchr (p, '\n');
        if (*p != '#' && *p != '\n' && *p != '\r')
            n++;
        p = eol ? eol + 1 : p + strlen (p);
    }
    return n;
}

/* ---------------------------------------------------------------- tracks */

typedef struct {
    int n;
    int done, skipped, failed, other;
    int failed_no_reason, skipped_no_reason;
    int wrong_kind;   //  a track ended in a state its kind forbids
    int good_failed;  //  tracks with a good copy that failed anyway
    int done_no_file, done_outside, done_bad_tag, done_dup_path;
    int m3u8_missing, m3u8_dup;
    char **paths;  //  done paths (n_done)
    const char *m3u8_text;
    const char *root;
    json_t *reasons;  //  reason (first 60 bytes) -> count
} s_scan_t;

static int
s_scan_track (const sp_store_track_t *tr, void *arg)
{
    s_scan_t *s = arg;
    sp_chaos_track_t want;
    sp_chaos_track (tr->position, &want);
    s->n++;
    const char *state = tr->state ? tr->state : "";
    if (strcmp (state, "done") == 0) {
        s->done++;
        if (want.kind != SP_CHAOS_GOOD) {
            fprintf (stderr, "chaos: track %d (%s) is done but has no good copy\n", tr->position,
                     want.title);
            s->wrong_kind++;
        }
        struct stat st;
        if (!tr->path || !*tr->path || stat (tr->path, &st) != 0) {
            fprintf (stderr, "chaos: track %d done without its file (%s)\n", tr->position,
                     tr->path ? tr->path : "-");
            s->done_no_file++;
            return 0;
        }
        if (strncmp (tr->path, s->root, strlen (s->root)) != 0) {
            s->done_outside++;
            return 0;
        }
        for (int i = 0; i < s->done - 1; i++)
            if (s->paths[i] && strcmp (s->paths[i], tr->path) == 0)
                s->done_dup_path++;
        s->paths[s->done - 1] = strdup (tr->path);
        char *title = sp_tags_get1 (tr->path, "TITLE");
        if (!title || strcmp (title, want.title) != 0) {
            fprintf (stderr, "chaos: track %d: title tag %s, want %s\n", tr->position,
                     title ? title : "(none)", want.title);
            s->done_bad_tag++;
        }
        free (title);
        int lines = s->m3u8_text ? s_count_lines (s->m3u8_text, tr->path + strlen (s->root)) : 0;
        if (lines == 0) {
            fprintf (stderr, "chaos: track %d not in the m3u8: %s\n", tr->position,
                     tr->path + strlen (s->root));
            s->m3u8_missing++;
        } else if (lines > 1)
            s->m3u8_dup++;
    } else if (strcmp (state, "skipped") == 0) {
        s->skipped++;
        if (!tr->reason || !*tr->reason)
            s->skipped_no_reason++;
        if (want.kind != SP_CHAOS_LIBRARY)
            s->wrong_kind++;
    } else if (strcmp (state, "failed") == 0) {
        s->failed++;
        if (!tr->reason || strlen (tr->reason) < 5)
            s->failed_no_reason++;
        if (want.kind == SP_CHAOS_LIBRARY)
            s->wrong_kind++;
        if (want.kind == SP_CHAOS_GOOD) {
            s->good_failed++;
            fprintf (stderr, "chaos: track %d has a good copy but failed: %s\n", tr->position,
                     tr->reason ? tr->reason : "");
        }
        //  grouped by the reason's words before its first colon
        const char *r = tr->reason ? tr->reason : "(none)";
        char key[64];
        snprintf (key, sizeof key, "%.*s", (int) (strcspn (r, ":") < 60 ? strcspn (r, ":") : 60),
                  r);
        json_t *c = json_object_get (s->reasons, key);
        if (c)
            json_array_set_new (c, 0,
                                json_integer (json_integer_value (json_array_get (c, 0)) + 1));
        else
            json_object_set_new (s->reasons, key, json_pack ("[i s]", 1, r));
    } else {
        fprintf (stderr, "chaos: track %d ended %s\n", tr->position, state);
        s->other++;
    }
    return 0;
}

/* ---------------------------------------------------------------- the run */

static void
s_stack_env (sp_test_t *t, s_stack_t *s)
{
    sp_test_env_fake (t, s->fixtures, s->port);
    sp_test_setenv (t, "SLSKD_DOWNLOADS_DIR", s->downloads);
    sp_test_setenv (t, "SOULPIPE_STAGING_DIR", s->staging);
    sp_test_setenv (t, "SOULPIPE_TRANSFER_DIR", s->transfer);
    sp_test_setenv (t, "SOULPIPE_SEARCH_BUDGET", "2000/60");
    sp_test_setenv (t, "SOULPIPE_SEARCH_TIMEOUT_MS", "1000");
    sp_test_setenv (t, "SOULPIPE_STALL_TIMEOUT_S", "2");
    sp_test_setenv (t, "SOULPIPE_QUEUE_TIMEOUT_S", "2");
    sp_test_setenv (t, "SOULPIPE_LEASE_S", "5");
    sp_test_setenv (t, "SOULPIPE_HEARTBEAT_MS", "200");
    //  a kill costs every job the victim held one attempt
    sp_test_setenv (t, "SOULPIPE_MAX_ATTEMPTS", "6");
    sp_test_setenv (t, "SOULPIPE_EMBED_COVER", "false");
}

static void
s_stack_dirs (sp_test_t *t, s_stack_t *s)
{
    snprintf (s->fixtures, sizeof s->fixtures, "%s/fixtures", t->dir);
    snprintf (s->downloads, sizeof s->downloads, "%s/slskd-downloads", t->dir);
    snprintf (s->staging, sizeof s->staging, "%s/staging", t->dir);
    snprintf (s->transfer, sizeof s->transfer, "%s/Transfer", t->dir);
    mkdir (s->downloads, 0700);
    mkdir (s->staging, 0700);
    mkdir (s->transfer, 0700);
}

static char *
s_submit (sp_test_t *t, const char *url)
{
    const char *argv[] = {sp_test_bin ("soulpipe"), "submit", url, NULL};
    char *out = NULL, *err = NULL;
    int rc = sp_test_run (t, argv, 60000, &out, &err);
    if (rc != 0)
        sp_test_dump_logs (t);
    cr_assert_eq (rc, 0, "submit failed (%d): %s", rc, err);
    char *job = strndup (out, strcspn (out, "\n"));
    free (out);
    free (err);
    return job;
}

/*  The fixture, the fake, the analyzer and the five workers. */
static void
s_stack_start (sp_test_t *t, s_stack_t *s, int transfer_ms)
{
    s_stack_dirs (t, s);
    cr_assert_eq (sp_chaos_fixture_write (s->fixtures, s->n_tracks, transfer_ms, &s->expect), 0);
    sp_test_start_fake (t, s->fixtures, s->downloads, 0, &s->port);
    s_stack_env (t, s);
    const char *names[N_WORKERS] = {"searcher-1", "searcher-2", "downloader-1", "downloader-2",
                                    "tagger"};
    const char *bins[N_WORKERS] = {"soulpipe-searcher", "soulpipe-searcher", "soulpipe-downloader",
                                   "soulpipe-downloader", "soulpipe-tagger"};
    s->analyzer = (s_proc_t){.name = "analyzer", .bin = "soulpipe-analyzer"};
    s->analyzer.pid = sp_test_start_analyzer (t);
    for (int i = 0; i < N_WORKERS; i++) {
        s->workers[i] = (s_proc_t){.name = names[i], .bin = bins[i]};
        s_spawn (t, &s->workers[i]);
    }
}

/*  After the job ended: wait for the final m3u8, then check and print the
    figures (title: the first line). good_must_finish: a track with a good
    copy must not fail (no kills that cost attempts). Returns true when
    everything is consistent; failures are also Criterion expectations. */
static bool
s_check_end (sp_test_t *t, s_stack_t *s, const char *job, const char *title, bool good_must_finish)
{
    //  every service is still running (none exited on its own)
    for (int i = 0; i < N_WORKERS; i++) {
        int status;
        cr_expect_eq (waitpid (s->workers[i].pid, &status, WNOHANG), 0, "%s exited on its own",
                      s->workers[i].name);
    }

    //  the tagger's finisher writes the final m3u8 once the job ended
    s_tree_t tree = {0};
    snprintf (tree.root, sizeof tree.root, "%s/%s/", s->transfer, s->expect.playlist_name);
    snprintf (tree.m3u8, sizeof tree.m3u8, "%s%s.m3u8", tree.root, s->expect.playlist_name);
    sp_store_job_t *jr = NULL;
    cr_assert_eq (sp_store_job_get (t->store, job, &jr), SP_STORE_OK);
    long long want_done = jr->done;
    sp_store_job_destroy (&jr);
    char *m3u8 = NULL;
    long long deadline = sp_test_now_ms () + CHAOS_FINISH_MS;
    do {
        free (m3u8);
        m3u8 = s_slurp (tree.m3u8);
        if (m3u8 && s_count_entries (m3u8) >= want_done &&
            s_count_entries (m3u8) + s_count_markers (m3u8) >= s->n_tracks)
            break;
        usleep (200 * 1000);
    } while (sp_test_now_ms () < deadline);

    //  the checks
    s_scan_t scan = {.paths = calloc ((size_t) s->n_tracks + 1, sizeof (char *)),
                     .m3u8_text = m3u8,
                     .root = tree.root,
                     .reasons = json_object ()};
    cr_assert_eq (sp_store_job_tracks (t->store, job, s_scan_track, &scan), SP_STORE_OK);
    s_tree = &tree;
    nftw (s->transfer, s_tree_visit, 16, FTW_PHYS);
    int unlisted = 0;  //  audio files in Transfer that no done track names
    for (size_t i = 0; i < tree.n_audio; i++) {
        bool found = false;
        for (int k = 0; k < scan.done && !found; k++)
            found = scan.paths[k] && strcmp (scan.paths[k], tree.audio[i]) == 0;
        if (!found) {
            fprintf (stderr, "chaos: audio file no done track names: %s\n", tree.audio[i]);
            unlisted++;
        }
    }
    int staging_orphans = s_count_files (s->staging);
    int outside = s_files_outside (t);
    char report[512] = "";
    int counters = sp_store_check_counters (t->store, job, report, sizeof report);
    json_t *stats = sp_test_fake_stats (s->port);
    json_t *slskd = json_object_get (stats, "slskd");
    size_t written = json_array_size (json_object_get (slskd, "files_written"));
    long long enqueued = json_integer_value (json_object_get (slskd, "enqueued"));
    long long searches = json_integer_value (json_object_get (slskd, "searches_started"));
    int m3u8_entries = m3u8 ? s_count_entries (m3u8) : -1;
    //  the fake renames a second download of the same remote file
    //  (<name>_<ticks>.<ext>): a transfer that was started again, not resumed
    int written_twice = 0;
    for (size_t i = 0; i < written; i++) {
        const char *w =
            json_string_value (json_array_get (json_object_get (slskd, "files_written"), i));
        const char *u = w ? strrchr (w, '_') : NULL;
        if (u && strspn (u + 1, "0123456789") >= 15) {
            fprintf (stderr, "chaos: downloaded twice: %s\n", w);
            written_twice++;
        }
    }

    printf ("%s", title);
    printf ("tracks              %d: %d done, %d skipped, %d failed, %d in another state\n", scan.n,
            scan.done, scan.skipped, scan.failed, scan.other);
    printf ("expected            %d skipped (library), %d done at most (good copies), %d failed at "
            "least\n",
            s->expect.library, s->expect.good, s->expect.bad_only + s->expect.nowhere);
    printf ("failed with reason  %d of %d; tracks with a good copy that failed: %d\n",
            scan.failed - scan.failed_no_reason, scan.failed, scan.good_failed);
    const char *reason;
    json_t *count;
    json_object_foreach (scan.reasons, reason, count) printf (
        "  %4lld x %s (e.g. \"%s\")\n", (long long) json_integer_value (json_array_get (count, 0)),
        reason, json_string_value (json_array_get (count, 1)));
    printf ("wrong end state     %d (a done track without a good copy, a skipped one not in the "
            "library...)\n",
            scan.wrong_kind);
    printf ("Transfer            %zu audio files for %d done tracks; %d done without a file, %d "
            "sharing a path, "
            "%d unlisted files, %d wrong title tags, %d covers, %d stray files, %d outside the "
            "playlist folder\n",
            tree.n_audio, scan.done, scan.done_no_file, scan.done_dup_path, unlisted,
            scan.done_bad_tag, tree.covers, tree.stray, tree.outside_playlist + scan.done_outside);
    printf ("m3u8                %s; %d file entries for %d done tracks; %d done tracks missing, "
            "%d listed twice\n",
            m3u8 ? "present" : "MISSING", m3u8_entries, scan.done, scan.m3u8_missing,
            scan.m3u8_dup);
    printf ("staging             %d orphan files\n", staging_orphans);
    printf ("outside folders     %d files\n", outside);
    printf ("counters            %s (%s)\n",
            counters == SP_STORE_OK ? "equal the track records" : "MISMATCH", report);
    printf ("slskd               %lld searches, %lld transfers enqueued, %zu files written by the "
            "fake, "
            "%d downloaded twice\n",
            searches, enqueued, written, written_twice);
    fflush (stdout);

    bool ok = scan.n == s->n_tracks && scan.other == 0 && scan.failed_no_reason == 0 &&
              scan.skipped_no_reason == 0 && scan.wrong_kind == 0 && scan.done_no_file == 0 &&
              scan.done_outside == 0 && scan.done_dup_path == 0 && scan.done_bad_tag == 0 &&
              unlisted == 0 && tree.n_audio == (size_t) scan.done && tree.stray == 0 &&
              tree.outside_playlist == 0 && m3u8 && scan.m3u8_missing == 0 && scan.m3u8_dup == 0 &&
              m3u8_entries == scan.done && staging_orphans == 0 && outside == 0 &&
              counters == SP_STORE_OK && scan.skipped == s->expect.library &&
              (!good_must_finish || scan.good_failed == 0) && written_twice == 0;
    printf ("result              %s\n", ok ? "CONSISTENT" : "INCONSISTENT");
    fflush (stdout);
    if (!ok)
        sp_test_dump_logs (t);
    cr_expect_eq (scan.n, s->n_tracks, "track records: %d of %d", scan.n, s->n_tracks);
    cr_expect_eq (scan.other, 0, "tracks not done, skipped or failed");
    cr_expect_eq (scan.failed_no_reason + scan.skipped_no_reason, 0, "tracks without a reason");
    cr_expect_eq (scan.wrong_kind, 0, "tracks in a state their kind forbids");
    cr_expect_eq (scan.skipped, s->expect.library, "skipped %d, library %d", scan.skipped,
                  s->expect.library);
    cr_expect_eq (scan.done_no_file + scan.done_outside + scan.done_dup_path + scan.done_bad_tag, 0,
                  "done tracks without their own tagged file in the playlist folder");
    cr_expect_eq (tree.n_audio, (size_t) scan.done,
                  "%zu audio files in Transfer for %d done tracks", tree.n_audio, scan.done);
    cr_expect_eq (unlisted + tree.stray + tree.outside_playlist, 0,
                  "files in Transfer that should not be there");
    cr_expect_not_null (m3u8, "no m3u8");
    cr_expect_eq (scan.m3u8_missing + scan.m3u8_dup, 0, "m3u8 lines missing or doubled");
    cr_expect_eq (m3u8_entries, scan.done, "m3u8 has %d file entries for %d done tracks",
                  m3u8_entries, scan.done);
    cr_expect_eq (staging_orphans, 0, "orphans in staging");
    cr_expect_eq (outside, 0, "files outside the configured folders");
    cr_expect_eq (counters, SP_STORE_OK, "counters: %s", report);
    cr_expect_eq (written_twice, 0, "%d files downloaded twice", written_twice);
    if (good_must_finish)
        cr_expect_eq (scan.good_failed, 0, "%d tracks with a good copy failed", scan.good_failed);

    json_decref (stats);
    json_decref (scan.reasons);
    for (int i = 0; i < s->n_tracks; i++)
        free (scan.paths[i]);
    free (scan.paths);
    for (size_t i = 0; i < tree.n_audio; i++)
        free (tree.audio[i]);
    free (tree.audio);
    free (m3u8);
    return ok;
}

Test (chaos, kill_restart_300)
{
    sp_test_t *t = &s_t;
    long long t0 = sp_test_now_ms ();
    sp_test_init (t, true);
    s_stack_t s = {.n_tracks = CHAOS_TRACKS};
    if (getenv ("SOULPIPE_CHAOS_TRACKS"))
        s.n_tracks = atoi (getenv ("SOULPIPE_CHAOS_TRACKS"));
    cr_assert (s.n_tracks >= 10 && s.n_tracks <= 5000);
    unsigned seed = getenv ("SOULPIPE_CHAOS_SEED")
                        ? (unsigned) strtoul (getenv ("SOULPIPE_CHAOS_SEED"), NULL, 10)
                        : (unsigned) time (NULL);
    srand (seed);
    s_stack_start (t, &s, 300);
    s_proc_t *workers = s.workers;
    const int n_workers = N_WORKERS;

    printf ("chaos: seed %u, %d tracks (%d in the library, %d with a good copy, %d only on bad "
            "peers, %d nowhere)\n",
            seed, s.n_tracks, s.expect.library, s.expect.good, s.expect.bad_only, s.expect.nowhere);
    fflush (stdout);
    char *job = s_submit (t, s.expect.url);
    long long start = sp_test_now_ms ();
    printf ("chaos: job %s submitted after %.1f s of set-up\n", job,
            (double) (start - t0) / 1000.0);
    fflush (stdout);

    //  the chaos: one event per loop turn, every 2-4 s
    int worker_kills = 0, analyzer_kills = 0, redis_restarts = 0;
    long long next_kill = start + 2000 + rand () % 2000;
    bool ended = false;
    long long now;
    while ((now = sp_test_now_ms ()) - start < CHAOS_MAX_RUN_MS) {
        long long at = now - start;
        bool chaos = at < CHAOS_WINDOW_MS || analyzer_kills < 2 || redis_restarts < 1;
        if (!chaos && (ended = s_job_ended (t, job)))
            break;
        if (chaos && (analyzer_kills == 0 && at >= CHAOS_ANALYZER_AT1)) {
            sp_test_stop (t, s.analyzer.pid, SIGKILL, 2000);
            s.analyzer.pid = sp_test_start_analyzer (t);
            analyzer_kills++;
            printf ("chaos: %5.1f s analyzer killed and restarted\n", (double) at / 1000.0);
        } else if (chaos && redis_restarts == 0 && at >= CHAOS_REDIS_AT) {
            sp_test_restart_redis (t);
            redis_restarts++;
            printf ("chaos: %5.1f s redis-server killed and restarted\n", (double) at / 1000.0);
        } else if (chaos && analyzer_kills == 1 && at >= CHAOS_ANALYZER_AT2) {
            sp_test_stop (t, s.analyzer.pid, SIGKILL, 2000);
            s.analyzer.pid = sp_test_start_analyzer (t);
            analyzer_kills++;
            printf ("chaos: %5.1f s analyzer killed and restarted\n", (double) at / 1000.0);
        } else if (chaos && now >= next_kill && at < CHAOS_WINDOW_MS) {
            s_proc_t *w = &workers[rand () % n_workers];
            int rc = sp_test_stop (t, w->pid, SIGKILL, 2000);
            cr_assert_eq (rc, 128 + SIGKILL, "%s had exited before the kill (status %d)", w->name,
                          rc);
            s_spawn (t, w);
            w->kills++;
            worker_kills++;
            printf ("chaos: %5.1f s %s killed and restarted\n", (double) at / 1000.0, w->name);
            next_kill = now + 2000 + rand () % 2000;
        }
        fflush (stdout);
        usleep (200 * 1000);
    }
    long long run_ms = sp_test_now_ms () - start;
    if (!ended)
        sp_test_dump_logs (t);
    cr_assert (ended, "the job did not end within %d s", CHAOS_MAX_RUN_MS / 1000);
    char title[1024];
    int off = snprintf (title, sizeof title,
                        "\n==> chaos figures (seed %u)\n"
                        "run                 %.1f s to the end of the job (%.1f s from the start)\n"
                        "chaos               %d worker kills (",
                        seed, (double) run_ms / 1000.0, (double) (sp_test_now_ms () - t0) / 1000.0,
                        worker_kills);
    for (int i = 0; i < n_workers; i++)
        off += snprintf (title + off, sizeof title - (size_t) off, "%s%s %d", i ? ", " : "",
                         workers[i].name, workers[i].kills);
    snprintf (title + off, sizeof title - (size_t) off,
              "), %d analyzer kills, %d redis-server restarts\n", analyzer_kills, redis_restarts);
    s_check_end (t, &s, job, title, false);
    free (job);
}

/* ---------------------------------------------------------------- graceful stop */

#define GRACE_TRACKS  60
#define GRACE_XFER_MS 2500  //  long enough that a SIGTERM meets transfers in flight
//  a service must exit this soon after SIGTERM (the worker grace is 10 s;
//  handlers hand back sooner)
#define GRACE_BOUND_MS   12000
#define GRACE_MAX_RUN_MS 180000

static int64_t
s_inflight (sp_test_t *t, sp_store_stage_t stage)
{
    int64_t n = 0;
    if (sp_store_stage_counts (t->store, stage, NULL, NULL, &n) != SP_STORE_OK)
        return -1;
    return n;
}

/*  SIGTERM each service mid-run (each worker while its stage has jobs in
    flight, the analyzer too), as `docker compose down` or a restart does:
    each exits 0 within GRACE_BOUND_MS, hands back what it held, and after
    a restart the job ends with nothing lost: every track with a good copy
    done (hand-backs cost no track), each downloaded once (the next holder
    resumes the slskd transfer), and the chaos test's end checks. */
Test (chaos, graceful_stop)
{
    sp_test_t *t = &s_t;
    long long t0 = sp_test_now_ms ();
    sp_test_init (t, true);
    s_stack_t s = {.n_tracks = GRACE_TRACKS};
    s_stack_start (t, &s, GRACE_XFER_MS);
    char *job = s_submit (t, s.expect.url);
    long long start = sp_test_now_ms ();
    printf ("graceful: %d tracks, job %s\n", s.n_tracks, job);

    //  who is stopped, and which stage must have jobs in flight first
    //  (index into s.workers; -1 = the analyzer)
    struct {
        int who;
        sp_store_stage_t stage;
    } plan[] = {
        {2, SP_STORE_DOWNLOAD}, {0, SP_STORE_SEARCH}, {4, SP_STORE_TAG},
        {3, SP_STORE_DOWNLOAD}, {-1, SP_STORE_NONE},  {1, SP_STORE_SEARCH},
        {2, SP_STORE_DOWNLOAD},
    };
    int stops = 0, slow = 0, bad_exit = 0;
    long long worst_ms = 0;
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        s_proc_t *p = plan[i].who < 0 ? &s.analyzer : &s.workers[plan[i].who];
        int64_t inflight = 0;
        if (plan[i].stage != SP_STORE_NONE) {
            long long until = sp_test_now_ms () + 20000;
            while ((inflight = s_inflight (t, plan[i].stage)) < 1 && sp_test_now_ms () < until &&
                   !s_job_ended (t, job))
                usleep (50 * 1000);
        }
        long long t_stop = sp_test_now_ms ();
        int rc = sp_test_stop (t, p->pid, SIGTERM, GRACE_BOUND_MS + 10000);
        long long ms = sp_test_now_ms () - t_stop;
        stops++;
        worst_ms = ms > worst_ms ? ms : worst_ms;
        slow += ms > GRACE_BOUND_MS;
        bad_exit += rc != 0;
        printf ("graceful: %5.1f s SIGTERM %-12s (%lld jobs in flight at its stage): exit %d after "
                "%lld ms\n",
                (double) (t_stop - start) / 1000.0, p->name, (long long) inflight, rc, ms);
        fflush (stdout);
        cr_expect_eq (rc, 0, "%s exited %d after SIGTERM", p->name, rc);
        cr_expect_leq (ms, GRACE_BOUND_MS, "%s took %lld ms to stop", p->name, ms);
        if (plan[i].who < 0)
            p->pid = sp_test_start_analyzer (t);
        else
            s_spawn (t, p);
        usleep (1500 * 1000);
    }
    bool ended = false;
    while (!(ended = s_job_ended (t, job)) && sp_test_now_ms () - start < GRACE_MAX_RUN_MS)
        usleep (200 * 1000);
    long long run_ms = sp_test_now_ms () - start;
    if (!ended)
        sp_test_dump_logs (t);
    cr_assert (ended, "the job did not end within %d s", GRACE_MAX_RUN_MS / 1000);
    char title[512];
    snprintf (
        title, sizeof title,
        "\n==> graceful stop figures\n"
        "run                 %.1f s to the end of the job (%.1f s from the start)\n"
        "SIGTERM             %d stops: %d exited non-zero, %d slower than %d ms, slowest %lld ms\n",
        (double) run_ms / 1000.0, (double) (sp_test_now_ms () - t0) / 1000.0, stops, bad_exit, slow,
        GRACE_BOUND_MS, worst_ms);
    s_check_end (t, &s, job, title, true);
    free (job);
}
