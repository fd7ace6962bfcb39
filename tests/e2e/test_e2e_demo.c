/*  test_e2e_demo.c: the whole stack on the demo fixture, as a user runs it:
    redis-server, the fake Spotify/Plex/slskd, the analyzer, two searchers,
    two downloaders, a tagger, and the soulpipe client (login, submit --wait,
    status --json).

    1. The demo playlist ends with every track that has a good copy tagged in
       place in the right folder with its album's cover (cover.jpg, the image
       the fake serves, embedded byte for byte), the library's tracks
       skipped, the failing ones failed with reasons, the m3u8 complete, the
       counters consistent and the Plex rescan requested once.
    2. The same playlist submitted again downloads nothing new.
    3. The playlist with two added tracks downloads only those. */
#include "../integration/harness.h"

#include "soulpipe/tags.h"

#include "soulpipe/peers.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO_PLAYLIST "3cEYpjA9oz9GiPac4AsH4n"
#define DEMO_URL      "https://open.spotify.com/playlist/" DEMO_PLAYLIST "?si=e2e"
#define DEMO_NAME     "Road Trip Classics"

static sp_test_t s_t;

static void
s_fini (void)
{
    sp_test_fini (&s_t);
}

TestSuite (e2e, .fini = s_fini, .timeout = 400);

typedef struct {
    char fixtures[400], downloads[400], staging[400], transfer[400];
    int port;
    pid_t fake;
} demo_stack_t;

static void
s_run_ok (sp_test_t *t, const char *const argv[])
{
    char *err = NULL;
    int rc = sp_test_run (t, argv, 60000, NULL, &err);
    cr_assert_eq (rc, 0, "%s failed (%d): %s", argv[0], rc, err);
    free (err);
}

static void
s_stack_start (sp_test_t *t, demo_stack_t *s)
{
    const char *src = getenv ("SOULPIPE_SRC_DIR") ? getenv ("SOULPIPE_SRC_DIR") : ".";
    snprintf (s->fixtures, sizeof s->fixtures, "%s/fixtures", t->dir);
    snprintf (s->downloads, sizeof s->downloads, "%s/slskd-downloads", t->dir);
    snprintf (s->staging, sizeof s->staging, "%s/staging", t->dir);
    snprintf (s->transfer, sizeof s->transfer, "%s/Transfer", t->dir);
    char demo[400];
    snprintf (demo, sizeof demo, "%s/tests/fixtures/demo", src);
    const char *cp[] = {"/bin/cp", "-r", demo, s->fixtures, NULL};
    s_run_ok (t, cp);
    mkdir (s->downloads, 0700);
    mkdir (s->staging, 0700);
    mkdir (s->transfer, 0700);
    s->fake = sp_test_start_fake (t, s->fixtures, s->downloads, 0, &s->port);
    sp_test_env_fake (t, s->fixtures, s->port);
    sp_test_setenv (t, "SLSKD_DOWNLOADS_DIR", s->downloads);
    sp_test_setenv (t, "SOULPIPE_STAGING_DIR", s->staging);
    sp_test_setenv (t, "SOULPIPE_TRANSFER_DIR", s->transfer);
    sp_test_setenv (t, "SOULPIPE_SEARCH_BUDGET", "200/60");
    sp_test_setenv (t, "SOULPIPE_SEARCH_TIMEOUT_MS", "1500");
    sp_test_setenv (t, "SOULPIPE_STALL_TIMEOUT_S", "4");
    sp_test_setenv (t, "SOULPIPE_QUEUE_TIMEOUT_S", "4");
    sp_test_setenv (t, "SOULPIPE_LEASE_S", "30");
    sp_test_start_analyzer (t);
    const char *searcher[] = {sp_test_bin ("soulpipe-searcher"), NULL};
    const char *downloader[] = {sp_test_bin ("soulpipe-downloader"), NULL};
    const char *tagger[] = {sp_test_bin ("soulpipe-tagger"), NULL};
    sp_test_spawn (t, "searcher-1", searcher);
    sp_test_spawn (t, "searcher-2", searcher);
    sp_test_spawn (t, "downloader-1", downloader);
    sp_test_spawn (t, "downloader-2", downloader);
    sp_test_spawn (t, "tagger", tagger);
    sp_test_login_spotify (t);
}

/*  soulpipe submit URL --wait; returns the job id (caller frees) and the
    exit status in *rc. */
static char *
s_submit_wait (sp_test_t *t, int *rc)
{
    const char *argv[] = {sp_test_bin ("soulpipe"), "submit", DEMO_URL, "--wait", NULL};
    char *out = NULL, *err = NULL;
    *rc = sp_test_run (t, argv, 240000, &out, &err);
    if (*rc < 0 || *rc > 1)
        sp_test_dump_logs (t);
    cr_assert (*rc == 0 || *rc == 1, "submit --wait exited %d: %s", *rc, err);
    char *job = strndup (out, strcspn (out, "\n"));
    free (out);
    free (err);
    return job;
}

static json_t *
s_status (sp_test_t *t, const char *job)
{
    const char *argv[] = {sp_test_bin ("soulpipe"), "status", job, "--json", NULL};
    char *out = NULL;
    int rc = sp_test_run (t, argv, 20000, &out, NULL);
    cr_assert (rc == 0 || rc == 1, "status exited %d", rc);
    json_error_t e;
    json_t *doc = json_loads (out, 0, &e);
    cr_assert_not_null (doc, "status --json is not JSON: %s (%s)", e.text, out);
    free (out);
    return doc;
}

static json_int_t
s_count (json_t *doc, const char *name)
{
    return json_integer_value (json_object_get (json_object_get (doc, "counts"), name));
}

static long long
s_plex_refreshes (int port)
{
    json_t *stats = sp_test_fake_stats (port);
    cr_assert_not_null (stats);
    long long n = 0;
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get (json_object_get (stats, "plex"), "refresh"), key, v) n +=
        json_integer_value (v);
    json_decref (stats);
    return n;
}

static size_t
s_files_written (int port)
{
    json_t *stats = sp_test_fake_stats (port);
    cr_assert_not_null (stats);
    size_t n =
        json_array_size (json_object_get (json_object_get (stats, "slskd"), "files_written"));
    json_decref (stats);
    return n;
}

static char *
s_slurp (const char *path)
{
    FILE *f = fopen (path, "rb");
    cr_assert_not_null (f, "cannot open %s", path);
    fseek (f, 0, SEEK_END);
    long n = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *buf = calloc (1, (size_t) n + 1);
    cr_assert_eq (fread (buf, 1, (size_t) n, f), (size_t) n);
    fclose (f);
    return buf;
}

/*  The checks of a finished demo run. */
static void
s_check_demo_job (sp_test_t *t, demo_stack_t *s, json_t *doc, long long want_done,
                  long long want_skipped, long long want_failed)
{
    cr_assert_str_eq (json_string_value (json_object_get (doc, "state")), "done");
    cr_assert (json_is_true (json_object_get (doc, "library_checked")));
    cr_assert_eq (s_count (doc, "done"), want_done, "done %lld", (long long) s_count (doc, "done"));
    cr_assert_eq (s_count (doc, "skipped"), want_skipped, "skipped %lld",
                  (long long) s_count (doc, "skipped"));
    cr_assert_eq (s_count (doc, "failed"), want_failed, "failed %lld",
                  (long long) s_count (doc, "failed"));
    cr_assert_eq (s_count (doc, "queued"), 0);
    char root[512];
    snprintf (root, sizeof root, "%s/" DEMO_NAME "/", s->transfer);
    size_t i;
    json_t *tr;
    long long last_pos = -1;
    json_array_foreach (json_object_get (doc, "tracks"), i, tr)
    {
        long long pos = json_integer_value (json_object_get (tr, "position"));
        cr_assert_gt (pos, last_pos, "tracks out of playlist order");
        last_pos = pos;
        const char *state = json_string_value (json_object_get (tr, "state"));
        const char *title = json_string_value (json_object_get (tr, "title"));
        const char *path = json_string_value (json_object_get (tr, "path"));
        const char *reason = json_string_value (json_object_get (tr, "reason"));
        if (strcmp (state, "done") == 0) {
            cr_assert_not_null (path, "%s: done without a path", title);
            cr_assert_eq (strncmp (path, root, strlen (root)), 0,
                          "%s filed outside the playlist: %s", title, path);
            struct stat st;
            cr_assert_eq (stat (path, &st), 0, "%s: %s does not exist", title, path);
            //  tagged in place: the title tag is the Spotify title
            char *tag = sp_tags_get1 (path, "TITLE");
            cr_assert_not_null (tag, "%s: cannot read tags of %s", title, path);
            cr_assert_str_eq (tag, title);
            free (tag);
            //  Transfer/<playlist>/<artist>/<artist> - <album or title>/<file>
            const char *rel = path + strlen (root);
            int slashes = 0;
            for (const char *p = rel; *p; p++)
                slashes += *p == '/';
            cr_assert_eq (slashes, 2, "%s: not <artist>/<artist> - <album>/<file>: %s", title, rel);
            cr_assert_not_null (json_object_get (tr, "source"));
            cr_assert (json_is_object (json_object_get (tr, "source")), "%s: no source", title);
            //  decoded to the end by the downloader and found genuine
            json_t *audio = json_object_get (tr, "audio");
            cr_assert (json_is_object (audio), "%s: no audio check on the track", title);
            cr_assert_str_eq (json_string_value (json_object_get (audio, "verdict")), "genuine",
                              "%s: %s", title, json_string_value (json_object_get (audio, "note")));
            //  the fake FLAC ranked first (fakeflac_fred) was rejected after
            //  download and the track filed from the next peer
            const char *user =
                json_string_value (json_object_get (json_object_get (tr, "source"), "username"));
            cr_assert (!user || strcmp (user, "fakeflac_fred") != 0, "%s: filed the fake FLAC",
                       title);
            if (strstr (title, "\xe4\xb8\x8a\xe3\x82\x92"))  //  上を向いて歩こう
                cr_assert_str_eq (user, "tokyo_crate");
        } else if (strcmp (state, "skipped") == 0)
            cr_assert (reason && *reason, "%s: skipped without a reason", title);
        else if (strcmp (state, "failed") == 0)
            cr_assert (reason && strlen (reason) > 10, "%s: failed without a reason", title);
        else
            cr_assert_fail ("%s: unexpected state %s", title, state);
    }
    char report[512];
    cr_assert_eq (sp_store_check_counters (t->store,
                                           json_string_value (json_object_get (doc, "job")), report,
                                           sizeof report),
                  SP_STORE_OK, "%s", report);
}

/*  The whole file at path into *len bytes (caller frees); NULL when it
    cannot be read. */
static unsigned char *
s_read_bytes (const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    long n = -1;
    if (fseek (f, 0, SEEK_END) == 0 && (n = ftell (f)) >= 0 && fseek (f, 0, SEEK_SET) == 0)
        buf = malloc ((size_t) n + 1);
    if (buf && fread (buf, 1, (size_t) n, f) != (size_t) n) {
        free (buf);
        buf = NULL;
    }
    fclose (f);
    if (buf)
        *len = (size_t) n;
    return buf;
}

/*  Cover art: every album folder a done track was filed in has a cover.jpg
    that is the very JPEG the fake serves at the album's image URL
    (/images/<album id>.jpg, fetched by the tagger against SPOTIFY_API_URL),
    and every filed file embeds a front cover byte-equal to its folder's
    cover.jpg. Returns the number of album folders checked. */
static size_t
s_check_covers (sp_test_t *t, demo_stack_t *s, json_t *doc)
{
    size_t folders = 0, i;
    json_t *tr;
    char seen[32][700];
    json_array_foreach (json_object_get (doc, "tracks"), i, tr)
    {
        if (strcmp (json_string_value (json_object_get (tr, "state")), "done") != 0)
            continue;
        const char *title = json_string_value (json_object_get (tr, "title"));
        const char *path = json_string_value (json_object_get (tr, "path"));
        const char *slash = strrchr (path, '/');
        cr_assert_not_null (slash);
        char cover_path[700];
        snprintf (cover_path, sizeof cover_path, "%.*s/cover.jpg", (int) (slash - path), path);
        size_t cover_len = 0;
        unsigned char *cover = s_read_bytes (cover_path, &cover_len);
        cr_assert_not_null (cover, "%s: no cover.jpg beside %s", title, path);
        cr_assert (cover_len > 100 && cover[0] == 0xFF && cover[1] == 0xD8 && cover[2] == 0xFF &&
                       cover[cover_len - 2] == 0xFF && cover[cover_len - 1] == 0xD9,
                   "%s: %s is not a whole JPEG (%zu bytes)", title, cover_path, cover_len);

        //  the embedded picture is the folder's cover
        unsigned char *pic = NULL;
        size_t pic_len = 0;
        char *mime = NULL;
        cr_assert_eq (sp_tags_get_picture (path, &pic, &pic_len, &mime), SP_TAGS_OK,
                      "%s: cannot read the picture of %s", title, path);
        cr_assert_not_null (pic, "%s: no embedded cover in %s", title, path);
        cr_assert_eq (pic_len, cover_len, "%s: embedded cover %zu bytes, cover.jpg %zu", title,
                      pic_len, cover_len);
        cr_assert_eq (memcmp (pic, cover, cover_len), 0,
                      "%s: the embedded cover differs from cover.jpg", title);
        cr_assert (!mime || strcmp (mime, "image/jpeg") == 0, "%s: picture type %s", title, mime);
        free (pic);
        free (mime);

        //  once per folder: cover.jpg is what the fake serves for this album
        bool known = false;
        for (size_t k = 0; k < folders && !known; k++)
            known = strcmp (seen[k], cover_path) == 0;
        if (!known) {
            cr_assert_lt (folders, sizeof seen / sizeof seen[0]);
            snprintf (seen[folders++], sizeof seen[0], "%s", cover_path);
            char *album = sp_tags_get1 (path, "SPOTIFY_ALBUM_ID");
            cr_assert_not_null (album, "%s: no SPOTIFY_ALBUM_ID tag", title);
            char url[256], want_path[600];
            snprintf (url, sizeof url, "http://127.0.0.1:%d/images/%s.jpg", s->port, album);
            snprintf (want_path, sizeof want_path, "%s/served-%s.jpg", t->dir, album);
            const char *curl[] = {"/usr/bin/curl", "-sS", "-f", "-o", want_path, url, NULL};
            char *err = NULL;
            cr_assert_eq (sp_test_run (t, curl, 20000, NULL, &err), 0, "GET %s: %s", url, err);
            free (err);
            size_t want_len = 0;
            unsigned char *want = s_read_bytes (want_path, &want_len);
            cr_assert_not_null (want);
            cr_assert (want_len == cover_len && memcmp (want, cover, cover_len) == 0,
                       "%s: cover.jpg (%zu bytes) is not the image the fake serves for album %s "
                       "(%zu bytes)",
                       cover_path, cover_len, album, want_len);
            free (want);
            free (album);
        }
        free (cover);
    }
    return folders;
}

/*  Every playlist entry appears in the m3u8, in order: `#EXTINF` + path for
    files, a `# N. ...` comment for the others (failed ones say so). Returns
    NULL when it does, else what is wrong (static). */
static const char *
s_m3u8_problem (demo_stack_t *s, json_t *doc)
{
    static char why[700];
    char path[600];
    snprintf (path, sizeof path, "%s/" DEMO_NAME "/" DEMO_NAME ".m3u8", s->transfer);
    FILE *f = fopen (path, "rb");
    if (!f) {
        snprintf (why, sizeof why, "no %s", path);
        return why;
    }
    fclose (f);
    char *text = s_slurp (path);
    const char *problem = NULL;
    if (strncmp (text, "#EXTM3U", 7) != 0)
        problem = "no #EXTM3U header";
    const char *cursor = text;
    size_t i;
    json_t *tr;
    json_array_foreach (json_object_get (doc, "tracks"), i, tr)
    {
        if (problem)
            break;
        const char *state = json_string_value (json_object_get (tr, "state"));
        const char *full = json_string_value (json_object_get (tr, "path"));
        char rel_dir[600];
        snprintf (rel_dir, sizeof rel_dir, "%s/" DEMO_NAME "/", s->transfer);
        //  a track skipped because this playlist delivered it before (its
        //  file is in the playlist folder) is listed as a file too
        bool filed =
            strcmp (state, "done") == 0 || (strcmp (state, "skipped") == 0 && full &&
                                            strncmp (full, rel_dir, strlen (rel_dir)) == 0);
        if (filed) {
            const char *rel = full + strlen (rel_dir);
            const char *at = strstr (cursor, rel);
            if (!at) {
                snprintf (why, sizeof why, "m3u8 lacks %s (or has it out of order)", rel);
                problem = why;
                break;
            }
            cursor = at + strlen (rel);
        } else {
            char marker[32];
            snprintf (marker, sizeof marker, "# %lld.",
                      (long long) json_integer_value (json_object_get (tr, "position")) + 1);
            const char *at = strstr (cursor, marker);
            if (!at) {
                snprintf (why, sizeof why, "m3u8 lacks entry %s (or has it out of order)", marker);
                problem = why;
                break;
            }
            const char *eol = strchr (at, '\n');
            if (strcmp (state, "failed") == 0 && !strstr (at, "failed")) {
                snprintf (why, sizeof why, "m3u8 entry %s does not say failed", marker);
                problem = why;
                break;
            }
            if (strcmp (state, "failed") == 0 && eol && strstr (at, "failed") > eol) {
                snprintf (why, sizeof why, "m3u8 entry %s does not say failed", marker);
                problem = why;
                break;
            }
            cursor = at + strlen (marker);
        }
    }
    free (text);
    return problem;
}

/*  The final m3u8 is written by the tagger's finisher just after the job
    ends: give it a few seconds. */
static void
s_check_m3u8 (demo_stack_t *s, json_t *doc)
{
    const char *problem = s_m3u8_problem (s, doc);
    long long deadline = sp_test_now_ms () + 15000;
    while (problem && sp_test_now_ms () < deadline) {
        usleep (200 * 1000);
        problem = s_m3u8_problem (s, doc);
    }
    cr_assert_null (problem, "%s", problem);
}

static size_t
s_count_audio (const char *dir)
{
    char cmd[700];
    snprintf (cmd, sizeof cmd,
              "find '%s' -type f \\( -name '*.flac' -o -name '*.mp3' -o -name '*.ogg' -o -name "
              "'*.m4a' \\) | wc -l",
              dir);
    FILE *p = popen (cmd, "r");
    size_t n = 0;
    if (p) {
        if (fscanf (p, "%zu", &n) != 1)
            n = 0;
        pclose (p);
    }
    return n;
}

/*  Add two tracks to the demo playlist, with good copies on a good peer. */
static void
s_add_tracks (demo_stack_t *s)
{
    char path[600];
    snprintf (path, sizeof path, "%s/spotify/playlists/" DEMO_PLAYLIST ".json", s->fixtures);
    json_t *pl = json_load_file (path, 0, NULL);
    cr_assert_not_null (pl);
    json_t *items = json_object_get (json_object_get (pl, "tracks"), "items");
    const char *titles[] = {"Paper Planes Tonight", "Northern Highway"};
    const char *ids[] = {"5e2eAddedTrack000000001", "5e2eAddedTrack000000002"};
    for (int i = 0; i < 2; i++) {
        json_t *track =
            json_pack ("{s:s s:s s:[{s:s s:s s:s}] s:{s:s s:s s:s s:s s:s s:i s:[] s:[{s:s}]} s:i "
                       "s:i s:i s:b s:{s:s} s:b s:s}",
                       "id", ids[i], "name", titles[i], "artists", "id", "e2eartist", "name",
                       "The Test Pilots", "type", "artist", "album", "id", "e2ealbum", "name",
                       "Flight Plan", "album_type", "album", "release_date", "2020-05-01",
                       "release_date_precision", "day", "total_tracks", 10, "images", "artists",
                       "name", "The Test Pilots", "duration_ms", 200000 + i * 1000, "track_number",
                       i + 1, "disc_number", 1, "explicit", 0, "external_ids", "isrc",
                       i ? "USE2E2000002" : "USE2E2000001", "is_local", 0, "type", "track");
        json_array_append_new (items,
                               json_pack ("{s:s s:b s:o}", "added_at", "2026-11-01T00:00:00Z",
                                          "is_local", 0, "track", track));
    }
    json_object_set_new (json_object_get (pl, "tracks"), "total",
                         json_integer ((json_int_t) json_array_size (items)));
    cr_assert_eq (json_dump_file (pl, path, JSON_INDENT (1)), 0);
    json_decref (pl);

    snprintf (path, sizeof path, "%s/slskd/network.json", s->fixtures);
    json_t *net = json_load_file (path, 0, NULL);
    cr_assert_not_null (net);
    json_t *user =
        json_pack ("{s:s s:i s:b s:i s:s s:[]}", "username", "e2e_extra", "uploadSpeed", 2000000,
                   "hasFreeUploadSlot", 1, "queueLength", 0, "behavior", "ok", "files");
    for (int i = 0; i < 2; i++) {
        char file[256];
        snprintf (file, sizeof file,
                  "@@e2e\\Music\\The Test Pilots\\2020 - Flight Plan [FLAC]\\0%d - %s.flac", i + 1,
                  titles[i]);
        json_array_append_new (json_object_get (user, "files"),
                               json_pack ("{s:s s:i s:i s:i s:i s:s}", "filename", file, "size",
                                          300000, "bitDepth", 16, "sampleRate", 44100, "length",
                                          200 + i, "extension", "flac"));
    }
    json_array_append_new (json_object_get (net, "users"), user);
    cr_assert_eq (json_dump_file (net, path, JSON_INDENT (1)), 0);
    json_decref (net);
}

Test (e2e, demo_playlist_then_resubmit_then_added_tracks)
{
    sp_test_t *t = &s_t;
    sp_test_init (t, false);
    demo_stack_t s;
    memset (&s, 0, sizeof s);
    s_stack_start (t, &s);

    //  1. the demo playlist (EXPECTED.md: 17 downloaded, 9 in the library, 2 failing)
    int rc;
    char *job = s_submit_wait (t, &rc);
    cr_assert_eq (rc, 1, "a job with failed tracks exits 1, got %d", rc);
    json_t *doc = s_status (t, job);
    s_check_demo_job (t, &s, doc, 17, 9, 2);
    //  the fake FLAC's peer was tried first and is remembered as a faker
    sp_peer_t fred;
    cr_assert_eq (sp_peers_get (t->store, "fakeflac_fred", &fred), SP_STORE_OK);
    cr_assert (fred.known && fred.fakes == 1 && fred.ok == 0, "fakeflac_fred: %lld fakes",
               (long long) fred.fakes);
    s_check_m3u8 (&s, doc);
    //  17 downloaded tracks, each of its own album (EXPECTED.md)
    size_t folders = s_check_covers (t, &s, doc);
    cr_assert_eq (folders, 17, "%zu album folders with covers", folders);
    cr_assert_eq (s_count_audio (s.transfer), 17);
    //  the rescan comes when the job is finished; give the finisher a moment
    long long deadline = sp_test_now_ms () + 10000;
    while (s_plex_refreshes (s.port) < 1 && sp_test_now_ms () < deadline)
        usleep (100 * 1000);
    cr_assert_eq (s_plex_refreshes (s.port), 1, "Plex rescan requested %lld times",
                  s_plex_refreshes (s.port));
    json_decref (doc);
    size_t written = s_files_written (s.port);

    //  2. again: nothing new is downloaded
    char *job2 = s_submit_wait (t, &rc);
    cr_assert_str_neq (job2, job);
    doc = s_status (t, job2);
    cr_assert_eq (s_count (doc, "done"), 0, "the second run downloaded %lld tracks",
                  (long long) s_count (doc, "done"));
    cr_assert_eq (s_count (doc, "skipped"), 26);
    cr_assert_eq (s_count (doc, "failed"), 2);
    cr_assert_eq (s_count_audio (s.transfer), 17);
    cr_assert_eq (s_files_written (s.port), written, "the fake wrote new files on the second run");
    json_decref (doc);

    //  3. two tracks added to the playlist: only those are downloaded
    sp_test_stop (t, s.fake, SIGTERM, 5000);
    s_add_tracks (&s);
    s.fake = sp_test_start_fake (t, s.fixtures, s.downloads, s.port, NULL);
    sp_test_login_spotify (t);  //  the restarted fake forgot its tokens
    char *job3 = s_submit_wait (t, &rc);
    doc = s_status (t, job3);
    cr_assert_eq (json_integer_value (json_object_get (json_object_get (doc, "counts"), "total")),
                  30);
    cr_assert_eq (s_count (doc, "done"), 2, "downloaded %lld", (long long) s_count (doc, "done"));
    cr_assert_eq (s_count (doc, "skipped"), 26);
    cr_assert_eq (s_count_audio (s.transfer), 19);
    s_check_m3u8 (&s, doc);
    json_decref (doc);
    free (job);
    free (job2);
    free (job3);
}
