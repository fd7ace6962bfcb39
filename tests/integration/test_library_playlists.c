/*  test_library_playlists.c: the playlist in the media library at a job's
    end (issue 18, SOULPIPE_LIBRARY_PLAYLISTS), through the real
    soulpipe-tagger binary (its finisher thread) against the fake Plex,
    whose rescan discovers the files filed under the Transfer folder
    (plex/scan.json "discover", Transfer mapped into the music section).

    The jobs are driven through the stages in the store as the broker would
    and filed by an in-test tagger; the job end is the binary's:
      job 1  [library track, A, B (fails), C]       -> Plex playlist [lib, A, C]
      job 2  [library track, A (delivered by job 1), D (new), B (fails again),
              C (delivered by job 1)]               -> the same playlist (same
                                                       ratingKey, still one of
                                                       that title) [lib, A, D, C]
    and with SOULPIPE_LIBRARY_PLAYLISTS=false the job ends (rescan done) with
    no playlist at all. The job_finished notification (SOULPIPE_NOTIFY_URL)
    of the same two jobs reaches a webhook receiver exactly once per job end,
    with the counts and the failed track, while a refusing and a hanging
    endpoint beside it change nothing (the jobs finish in the same time).
*/
#include "../../services/tagger/tagger.h"
#include "../fakes/audio.h"
#include "harness.h"
#include "soulpipe/store.h"
#include "test_fake_util.h"
#include "test_hook.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN     "demo-plex-token-Zx81q" /* tests/fixtures/demo/plex/token */
#define LIB_KEY   "10007"                 /* the demo library's Bohemian Rhapsody */
#define LIB_PATH  "/music/Queen/A Night at the Opera (1975)/11 - Bohemian Rhapsody.flac"
#define PL_NAME   "Road Trip «Classics»"
#define PL_SOURCE "spotify:playlist:roadtrip"
#define FAIL_WHY  "no acceptable copy: every result was too short"

typedef struct {
    sp_test_t t;
    fk_t fk;
    char transfer[300], staging[300];
    sp_tagger_t *tg;  //  files the tracks (no library of its own)
    sp_store_t *st;   //  its store
    pid_t tagger;     //  the binary whose finisher ends the jobs
} s_env_t;

static s_env_t s_env;
static const char *s_notify_url;  //  SOULPIPE_NOTIFY_URL for the next s_start (NULL = none)
static bool s_no_binary;          //  the next s_start starts no soulpipe-tagger

static void
s_copy_demo (fk_t *f, const char *rel)
{
    const char *src = getenv ("SOULPIPE_SRC_DIR");
    char path[600];
    snprintf (path, sizeof path, "%s/tests/fixtures/demo/%s", src && *src ? src : ".", rel);
    FILE *fp = fopen (path, "rb");
    if (!fp)
        cr_skip_test ("no demo fixture at %s (set SOULPIPE_SRC_DIR)", path);
    fseek (fp, 0, SEEK_END);
    long n = ftell (fp);
    fseek (fp, 0, SEEK_SET);
    char *buf = calloc (1, (size_t) n + 1);
    cr_assert_eq (fread (buf, 1, (size_t) n, fp), (size_t) n);
    fclose (fp);
    fk_write (f, rel, buf);
    free (buf);
}

static void
s_start (bool playlists)
{
    s_env_t *e = &s_env;
    memset (e, 0, sizeof *e);
    sp_test_init (&e->t, false);
    cr_assert_lt (snprintf (e->transfer, sizeof e->transfer, "%s/Transfer", e->t.dir),
                  (int) sizeof e->transfer);
    cr_assert_lt (snprintf (e->staging, sizeof e->staging, "%s/staging", e->t.dir),
                  (int) sizeof e->staging);
    cr_assert_eq (mkdir (e->transfer, 0755), 0);
    cr_assert_eq (mkdir (e->staging, 0755), 0);

    //  The fake Plex: the demo library, its music section mapping /music
    //  and the Transfer folder, and scans that read the disk.
    fk_init (&e->fk);
    s_copy_demo (&e->fk, "plex/token");
    s_copy_demo (&e->fk, "plex/tracks.json");
    char sections[1024];
    snprintf (sections, sizeof sections,
              "[{\"key\": \"1\", \"type\": \"artist\", \"title\": \"Music\", \"Location\": "
              "[{\"id\": 1, \"path\": \"/music\"}, {\"id\": 2, \"path\": \"%s\"}]}]",
              e->transfer);
    fk_write (&e->fk, "plex/sections.json", sections);
    fk_write (&e->fk, "plex/scan.json", "{\"scan_ms\": 300, \"discover\": true}");
    cr_assert_eq (fk_start (&e->fk, NULL), 0);

    sp_test_setenv (&e->t, "PLEX_URL", e->fk.base);
    sp_test_setenv (&e->t, "PLEX_TOKEN", TOKEN);
    sp_test_setenv (&e->t, "SOULPIPE_TRANSFER_DIR", e->transfer);
    sp_test_setenv (&e->t, "SOULPIPE_STAGING_DIR", e->staging);
    sp_test_setenv (&e->t, "SOULPIPE_LIBRARY_PLAYLISTS", playlists ? "true" : "false");
    if (s_notify_url) {
        sp_test_setenv (&e->t, "SOULPIPE_NOTIFY_URL", s_notify_url);
        sp_test_setenv (&e->t, "SOULPIPE_NOTIFY_TIMEOUT_S", "5");
    }
    const char *argv[] = {sp_test_bin ("soulpipe-tagger"), NULL};
    if (!s_no_binary)
        e->tagger = sp_test_spawn (&e->t, "tagger", argv);

    sp_tagger_opts_t o = {.transfer_dir = e->transfer,
                          .staging_dir = e->staging,
                          .redis_url = e->t.redis_url,
                          .library = {.kind = SP_MEDIALIB_NONE}};
    char err[256] = "";
    e->tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (e->tg, "%s", err);
    e->st = sp_tagger_store (e->tg);
}

static void
s_stop (void)
{
    s_env_t *e = &s_env;
    sp_tagger_destroy (&e->tg);
    sp_test_fini (&e->t);
    fk_stop (&e->fk);
}

// ------------------------------------------------------------ the tracks

static char *s_bonnie[] = {"Bonnie Tyler"};
static char *s_qb[] = {"Queen", "David Bowie"};
static char *s_toto[] = {"Toto"};

typedef struct {
    const char *id, *title, *artists_json, *album, *ext;
    char **artists;
    int track_no;  //  0 = a single
} s_song_t;

static const s_song_t s_a = {"trk00000000000000000A1",
                             "Holding Out for a Hero",
                             "[\"Bonnie Tyler\"]",
                             "Faster Than the Speed of Night",
                             "flac",
                             s_bonnie,
                             1};
static const s_song_t s_b = {"trk00000000000000000B2",
                             "Total Eclipse of the Heart",
                             "[\"Bonnie Tyler\"]",
                             "Faster Than the Speed of Night",
                             "mp3",
                             s_bonnie,
                             2};
static const s_song_t s_c = {"trk00000000000000000C3",
                             "Under Pressure",
                             "[\"Queen\",\"David Bowie\"]",
                             "Under Pressure",
                             "m4a",
                             s_qb,
                             0};
static const s_song_t s_d = {
    "trk00000000000000000D4", "Africa", "[\"Toto\"]", "Toto IV", "flac", s_toto, 10};

//  One playlist entry: a song to download, a library track, or a song an
//  earlier job delivered (skipped with its Transfer path).
typedef struct {
    const s_song_t *song;   //  NULL = the library track
    const char *delivered;  //  Transfer path of an earlier delivery (skipped)
} s_entry_t;

static void
s_track_of (sp_track_t *t, const s_song_t *s, int pos)
{
    memset (t, 0, sizeof *t);
    t->spotify_id = (char *) s->id;
    t->title = (char *) s->title;
    t->artists = s->artists;
    t->artists_count = s->artists == s_qb ? 2 : 1;
    t->album = (char *) s->album;
    t->album_type = s->track_no ? "album" : "single";
    t->album_artists = s->artists;
    t->album_artists_count = 1;
    t->has_track_number = s->track_no > 0;
    t->track_number = (uint64_t) s->track_no;
    t->has_duration_ms = true;
    t->duration_ms = 30000;
    t->playlist = PL_NAME;
    t->position = (uint64_t) pos;
}

//  Create the job; returns its id in job.
static void
s_create (const s_entry_t *entries, size_t n, char job[SP_STORE_ID_MAX])
{
    sp_store_track_spec_t specs[8];
    uint8_t *payloads[8] = {NULL};
    cr_assert (n <= 8);
    memset (specs, 0, sizeof specs);
    for (size_t i = 0; i < n; i++) {
        const s_song_t *s = entries[i].song;
        if (!s) {
            specs[i] = (sp_store_track_spec_t){.spotify_id = "trk0000000000000000lib",
                                               .title = "Bohemian Rhapsody",
                                               .artists = "[\"Queen\"]",
                                               .skipped = true,
                                               .reason = "in library",
                                               .path = LIB_PATH};
            continue;
        }
        if (entries[i].delivered) {
            specs[i] = (sp_store_track_spec_t){.spotify_id = s->id,
                                               .title = s->title,
                                               .artists = s->artists_json,
                                               .skipped = true,
                                               .reason = "already downloaded",
                                               .path = entries[i].delivered};
            continue;
        }
        sp_track_t t;
        s_track_of (&t, s, (int) i);
        sp_payload_t p = {.job = "pending", .track_key = "pending", .track = t};
        size_t len = 0;
        cr_assert_eq (sp_payload_encode (&p, &payloads[i], &len, NULL, 0), SP_MSG_OK);
        specs[i] = (sp_store_track_spec_t){.spotify_id = s->id,
                                           .title = s->title,
                                           .artists = s->artists_json,
                                           .payload = payloads[i],
                                           .payload_len = len};
    }
    sp_store_job_spec_t js = {.source = PL_SOURCE, .name = PL_NAME, .library_checked = true};
    cr_assert_eq (sp_store_job_create (s_env.st, &js, specs, n, job), SP_STORE_OK);
    for (size_t i = 0; i < n; i++)
        free (payloads[i]);
}

static const char *
s_ext_of (const char *spotify_id)
{
    const s_song_t *all[] = {&s_a, &s_b, &s_c, &s_d};
    for (size_t i = 0; i < 4; i++)
        if (strcmp (all[i]->id, spotify_id) == 0)
            return all[i]->ext;
    cr_assert_fail ("unknown song %s", spotify_id);
    return NULL;
}

//  Drive every queued track through search, download and tag as the
//  broker would; the song `fails` fails in the search stage instead.
static void
s_run (const char *job, const s_song_t *fails)
{
    sp_store_t *st = s_env.st;
    sp_store_task_t *task = NULL;
    while (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task) == SP_STORE_OK) {
        sp_payload_t *p = NULL;
        cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, NULL, 0), SP_MSG_OK);
        if (fails && strcmp (p->track.spotify_id, fails->id) == 0) {
            cr_assert_eq (sp_store_fail (st, task->id, task->fence, FAIL_WHY, false, 3, 0),
                          SP_STORE_OK);
            sp_payload_destroy (&p);
            sp_store_task_destroy (&task);
            continue;
        }
        free (p->job);
        free (p->track_key);
        p->job = strdup (job);
        p->track_key = strdup (task->track_key);
        uint8_t *bytes = NULL;
        size_t len = 0;
        cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
        cr_assert_eq (
            sp_store_complete (st, task->id, task->fence, SP_STORE_DOWNLOAD, bytes, len, NULL),
            SP_STORE_OK);
        free (bytes);
        sp_store_task_destroy (&task);
        cr_assert_eq (sp_store_take (st, SP_STORE_DOWNLOAD, "w", 30000, &task), SP_STORE_OK);
        char staged[600];
        const char *ext = s_ext_of (p->track.spotify_id);
        snprintf (staged, sizeof staged, "%s/%s.%s", s_env.staging, p->track.spotify_id, ext);
        cr_assert_eq (sp_fake_audio_write (staged, ext, 30, 0, false, NULL), 0);
        free (p->staged_path);
        p->staged_path = strdup (staged);
        cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
        cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_TAG, bytes, len, NULL),
                      SP_STORE_OK);
        free (bytes);
        sp_store_task_destroy (&task);
        cr_assert_eq (sp_store_take (st, SP_STORE_TAG, "w", 30000, &task), SP_STORE_OK);
        char reason[256] = "";
        bool retry = false;
        cr_assert_eq (sp_tagger_process (s_env.tg, p, reason, sizeof reason, &retry), 0, "%s",
                      reason);
        sp_store_result_t res = {.path = p->staged_path};
        cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_NONE, NULL, 0, &res),
                      SP_STORE_OK);
        sp_store_task_destroy (&task);
        sp_payload_destroy (&p);
    }
    sp_store_job_t *j = NULL;
    cr_assert_eq (sp_store_job_get (st, job, &j), SP_STORE_OK);
    cr_assert_str_eq (j->state, "done");
    sp_store_job_destroy (&j);
}

// ------------------------------------------------------------ Plex's view

static json_t *
s_plex_get (const char *path)
{
    const char *hdrs[] = {"Accept: application/json", "X-Plex-Token: " TOKEN, NULL};
    fk_resp_t r;
    long st = fk_http (&s_env.fk, "GET", path, hdrs, NULL, &r);
    cr_assert_eq (st, 200, "GET %s: %ld %s", path, st, r.body);
    json_t *mc = json_incref (json_object_get (r.json, "MediaContainer"));
    fk_resp_free (&r);
    return mc;
}

//  The ratingKey of the Plex track whose file is path; "" when none.
static void
s_plex_key_of (const char *path, char *out, size_t n)
{
    json_t *mc = s_plex_get ("/library/sections/1/all?type=10");
    out[0] = '\0';
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (mc, "Metadata"), i, t)
    {
        json_t *part = json_array_get (
            json_object_get (json_array_get (json_object_get (t, "Media"), 0), "Part"), 0);
        const char *f = json_string_value (json_object_get (part, "file"));
        if (f && strcmp (f, path) == 0)
            snprintf (out, n, "%s", json_string_value (json_object_get (t, "ratingKey")));
    }
    json_decref (mc);
}

//  How many audio playlists have title name; *id gets the last one's
//  ratingKey ("" when none).
static int
s_playlists_named (const char *name, char *id, size_t n)
{
    json_t *mc = s_plex_get ("/playlists?playlistType=audio");
    int count = 0;
    id[0] = '\0';
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get (mc, "Metadata"), i, p)
    {
        const char *title = json_string_value (json_object_get (p, "title"));
        if (title && strcmp (title, name) == 0) {
            count++;
            snprintf (id, n, "%s", json_string_value (json_object_get (p, "ratingKey")));
        }
    }
    json_decref (mc);
    return count;
}

//  The playlist's items as "k1,k2,..." (ratingKeys in order).
static void
s_items (const char *id, char *out, size_t n)
{
    char path[128];
    snprintf (path, sizeof path, "/playlists/%s/items", id);
    json_t *mc = s_plex_get (path);
    out[0] = '\0';
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (mc, "Metadata"), i, t)
    {
        size_t l = strlen (out);
        snprintf (out + l, n - l, "%s%s", l ? "," : "",
                  json_string_value (json_object_get (t, "ratingKey")));
    }
    json_decref (mc);
}

//  The final path of the job's track at position pos (caller frees).
static char *
s_track_path (const char *job, int pos)
{
    char key[128];
    snprintf (key, sizeof key, "%s:%d", job, pos);
    const char *fields[] = {"path"};
    char *v[1] = {NULL};
    cr_assert_eq (sp_store_track_get_fields (s_env.st, key, fields, 1, v), SP_STORE_OK);
    cr_assert_not_null (v[0], "track %s has no path", key);
    return v[0];
}

typedef struct {
    const char *want;  //  expected items
    char id[32];       //  the playlist found
    char got[512];     //  its items
} s_wait_t;

static bool
s_playlist_is (void *arg)
{
    s_wait_t *w = arg;
    if (s_playlists_named (PL_NAME, w->id, sizeof w->id) == 0)
        return false;
    s_items (w->id, w->got, sizeof w->got);
    return strcmp (w->got, w->want) == 0;
}

//  The ratingKey of each path, joined with ','.
static void
s_expect (const char *const *paths, size_t n, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char k[32];
        s_plex_key_of (paths[i], k, sizeof k);
        cr_assert (*k, "Plex has no track for %s (the rescan did not discover it)", paths[i]);
        size_t l = strlen (out);
        snprintf (out + l, size - l, "%s%s", l ? "," : "", k);
    }
}

typedef struct {
    const char *path;
    const char *needle;
    const char *and;  //  on the same line too (NULL = no)
} s_log_wait_t;

static bool
s_log_has (void *arg)
{
    s_log_wait_t *w = arg;
    FILE *fp = fopen (w->path, "r");
    if (!fp)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets (line, sizeof line, fp))
        found = strstr (line, w->needle) && (!w->and || strstr (line, w->and));
    fclose (fp);
    return found;
}

// ------------------------------------------------------------ tests

TestSuite (library_playlists, .fini = s_stop, .timeout = 120);

Test (library_playlists, plex_playlist_in_source_order_kept_in_place)
{
    s_start (true);
    //  job 1: [library, A, B (fails), C]
    s_entry_t one[] = {{NULL, NULL}, {&s_a, NULL}, {&s_b, NULL}, {&s_c, NULL}};
    char job1[SP_STORE_ID_MAX];
    s_create (one, 4, job1);
    s_run (job1, &s_b);
    char *a = s_track_path (job1, 1), *c = s_track_path (job1, 3);
    s_wait_t w = {0};
    char want[512];
    //  the finisher rescans first (300 ms); poll until the files are Plex's
    s_log_wait_t lw = {.path = NULL};
    char logpath[400];
    snprintf (logpath, sizeof logpath, "%s/tagger.log", s_env.t.dir);
    lw.path = logpath;
    lw.needle = "event=library_playlist ";
    cr_assert (sp_test_wait (s_log_has, &lw, 30000), "no library_playlist event after job 1");
    const char *p1[] = {LIB_PATH, a, c};
    s_expect (p1, 3, want, sizeof want);
    cr_assert (strncmp (want, LIB_KEY ",", strlen (LIB_KEY) + 1) == 0, "%s", want);
    w.want = want;
    cr_assert (sp_test_wait (s_playlist_is, &w, 10000), "job 1: playlist %s holds [%s], want [%s]",
               w.id, w.got, want);
    char first_id[32];
    snprintf (first_id, sizeof first_id, "%s", w.id);
    cr_expect_eq (s_playlists_named (PL_NAME, w.id, sizeof w.id), 1);

    //  job 2: D added before B; A and C were delivered by job 1
    s_entry_t two[] = {{NULL, NULL}, {&s_a, a}, {&s_d, NULL}, {&s_b, NULL}, {&s_c, c}};
    char job2[SP_STORE_ID_MAX];
    s_create (two, 5, job2);
    s_run (job2, &s_b);
    char *d = s_track_path (job2, 2);
    lw.needle = "event=library_playlist ";
    lw.and = job2;
    cr_assert (sp_test_wait (s_log_has, &lw, 30000), "no library_playlist event after job 2");
    lw.and = NULL;
    const char *p2[] = {LIB_PATH, a, d, c};
    s_expect (p2, 4, want, sizeof want);
    memset (&w, 0, sizeof w);
    w.want = want;
    cr_assert (sp_test_wait (s_playlist_is, &w, 10000), "job 2: playlist %s holds [%s], want [%s]",
               w.id, w.got, want);
    cr_expect_str_eq (w.id, first_id, "the playlist was replaced, not updated in place");
    cr_expect_eq (s_playlists_named (PL_NAME, w.id, sizeof w.id), 1, "a second playlist appeared");
    //  the failed track is named in the log with its reason
    lw.needle = "event=library_playlist_left_out";
    cr_expect (s_log_has (&lw), "the failed track was not listed");
    lw.needle = FAIL_WHY;
    cr_expect (s_log_has (&lw));
    free (a);
    free (c);
    free (d);
}

Test (library_playlists, switched_off_no_playlist)
{
    s_start (false);
    s_entry_t one[] = {{NULL, NULL}, {&s_a, NULL}, {&s_c, NULL}};
    char job1[SP_STORE_ID_MAX];
    s_create (one, 3, job1);
    s_run (job1, NULL);
    char logpath[400];
    snprintf (logpath, sizeof logpath, "%s/tagger.log", s_env.t.dir);
    s_log_wait_t lw = {.path = logpath, .needle = "event=job_finished"};
    cr_assert (sp_test_wait (s_log_has, &lw, 30000), "the job did not finish");
    lw.needle = "event=library_rescan ";
    cr_expect (s_log_has (&lw), "the rescan still runs");
    char id[32];
    cr_expect_eq (s_playlists_named (PL_NAME, id, sizeof id), 0, "a playlist was made: %s", id);
}

typedef struct {
    th_hook_t *hook;
    size_t want;
} s_hook_wait_t;

static bool
s_hook_got (void *arg)
{
    s_hook_wait_t *w = arg;
    return th_hook_count (w->hook, "/soulpipe") >= w->want;
}

//  POST i on the receiver as JSON; caller decrefs.
static json_t *
s_hook_json (th_hook_t *hook, size_t i)
{
    char *body = th_hook_get (hook, "/soulpipe", i, "body");
    cr_assert_not_null (body);
    json_t *j = json_loads (body, 0, NULL);
    cr_assert_not_null (j, "not JSON: %s", body);
    free (body);
    return j;
}

Test (library_playlists, notify_once_per_job_end_dead_endpoints_change_nothing)
{
    th_hook_t *hook = th_hook_start ();
    int hang_port = 0;
    int hang_fd = th_hang_start (&hang_port);
    char urls[300];
    snprintf (urls, sizeof urls,
              "http://127.0.0.1:%d/refused,http://127.0.0.1:%d/hang-secret,"
              "http://127.0.0.1:%d/soulpipe",
              th_refused_port (), hang_port, th_hook_port (hook));
    s_notify_url = urls;
    s_start (true);
    s_notify_url = NULL;
    char logpath[400];
    snprintf (logpath, sizeof logpath, "%s/tagger.log", s_env.t.dir);

    s_entry_t one[] = {{NULL, NULL}, {&s_a, NULL}, {&s_b, NULL}, {&s_c, NULL}};
    char job1[SP_STORE_ID_MAX];
    s_create (one, 4, job1);
    s_run (job1, &s_b);
    long long t0 = sp_test_now_ms ();
    s_hook_wait_t hw = {.hook = hook, .want = 1};
    //  the job's end work is a 300 ms rescan, the index and the playlist:
    //  the notification follows within seconds although the hanging
    //  endpoint holds each try 5 s
    cr_assert (sp_test_wait (s_hook_got, &hw, 8000), "no notification for job 1");
    s_log_wait_t lw = {.path = logpath, .needle = "event=job_finished", .and = job1};
    cr_assert (sp_test_wait (s_log_has, &lw, 2000));
    long long took1 = sp_test_now_ms () - t0;

    char *a = s_track_path (job1, 1), *c = s_track_path (job1, 3);
    s_entry_t two[] = {{NULL, NULL}, {&s_a, a}, {&s_d, NULL}, {&s_b, NULL}, {&s_c, c}};
    char job2[SP_STORE_ID_MAX];
    s_create (two, 5, job2);
    s_run (job2, &s_b);
    t0 = sp_test_now_ms ();
    hw.want = 2;
    cr_assert (sp_test_wait (s_hook_got, &hw, 8000), "no notification for job 2");
    lw.and = job2;
    cr_assert (sp_test_wait (s_log_has, &lw, 2000));
    long long took2 = sp_test_now_ms () - t0;
    cr_expect_lt (took1, 5000, "job 1's end took %lld ms", took1);
    cr_expect_lt (took2, 5000, "job 2's end took %lld ms", took2);

    //  a moment later still exactly one per job end
    fk_sleep_ms (1500);
    cr_expect_eq (th_hook_count (hook, "/soulpipe"), 2);
    json_t *n1 = s_hook_json (hook, 0), *n2 = s_hook_json (hook, 1);
    cr_expect_str_eq (json_string_value (json_object_get (n1, "event")), "job_finished");
    cr_expect_str_eq (json_string_value (json_object_get (n1, "job")), job1);
    cr_expect_str_eq (json_string_value (json_object_get (n2, "job")), job2);
    cr_expect_str_eq (json_string_value (json_object_get (n2, "name")), PL_NAME);
    cr_expect_str_eq (json_string_value (json_object_get (n2, "source")), PL_SOURCE);
    json_t *counts = json_object_get (n2, "counts");
    cr_expect_eq (json_integer_value (json_object_get (counts, "total")), 5);
    cr_expect_eq (json_integer_value (json_object_get (counts, "skipped")), 3);
    cr_expect_eq (json_integer_value (json_object_get (counts, "done")), 1);
    cr_expect_eq (json_integer_value (json_object_get (counts, "failed")), 1);
    json_t *failed = json_object_get (n2, "failed");
    cr_assert_eq (json_array_size (failed), 1, "%s", json_dumps (n2, 0));
    json_t *f = json_array_get (failed, 0);
    cr_expect_str_eq (json_string_value (json_object_get (f, "artist")), "Bonnie Tyler");
    cr_expect_str_eq (json_string_value (json_object_get (f, "title")), s_b.title);
    cr_expect_str_eq (json_string_value (json_object_get (f, "reason")), FAIL_WHY);
    json_decref (n1);
    json_decref (n2);
    //  the playlist work was not held up either
    lw.needle = "event=library_playlist ";
    cr_expect (s_log_has (&lw), "job 2's library playlist is missing");
    //  the hanging endpoint's path never reaches the log
    lw.needle = "hang-secret";
    lw.and = NULL;
    cr_expect (!s_log_has (&lw), "an endpoint's path was logged");
    free (a);
    free (c);
    close (hang_fd);
    th_hook_stop (&hook);
}

//  A SOULPIPE_NOTIFY_URL that is not one stops the tagger at start (exit
//  2) with a line naming the variable and not the URL's secret part.
Test (library_playlists, bad_notify_url_exits_2)
{
    s_start (true);
    sp_test_setenv (&s_env.t, "SOULPIPE_NOTIFY_URL",
                    "https://hooks.example/ok,smtp://mail.example/S3CRET");
    const char *argv[] = {sp_test_bin ("soulpipe-tagger"), NULL};
    char *out = NULL, *err = NULL;
    int rc = sp_test_run (&s_env.t, argv, 10000, &out, &err);
    cr_expect_eq (rc, 2, "exit %d: %s", rc, err);
    cr_expect (err && strstr (err, "SOULPIPE_NOTIFY_URL: endpoint 2"), "%s", err);
    cr_expect (err && !strstr (err, "S3CRET"), "%s", err);
    free (out);
    free (err);
}

//  A folder library (Transfer is one of its folders): the playlist is
//  <SOULPIPE_LIBRARY_PLAYLIST_DIR>/<name>.m3u8 with the filed tracks in
//  source order, the failed one left out; run by an in-process finisher.
Test (library_playlists, folder_library_m3u8_in_source_order)
{
    s_no_binary = true;
    s_start (true);
    s_no_binary = false;
    char pldir[400];
    snprintf (pldir, sizeof pldir, "%s/playlists", s_env.t.dir);
    cr_assert_eq (mkdir (pldir, 0755), 0);
    sp_tagger_opts_t o = {.transfer_dir = s_env.transfer,
                          .staging_dir = s_env.staging,
                          .redis_url = s_env.t.redis_url,
                          .library = {.kind = SP_MEDIALIB_FOLDER,
                                      .library_dir = s_env.transfer,
                                      .playlist_dir = pldir},
                          .library_playlists = true};
    char err[256] = "";
    sp_tagger_t *fin = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (fin, "%s", err);
    s_entry_t one[] = {{&s_a, NULL}, {&s_b, NULL}, {&s_c, NULL}, {NULL, NULL}};
    char job[SP_STORE_ID_MAX];
    s_create (one, 4, job);
    s_run (job, &s_b);
    cr_expect_eq (sp_tagger_finish_next (fin, 2000), 1);
    char *a = s_track_path (job, 0), *c = s_track_path (job, 2);
    char path[600];
    snprintf (path, sizeof path, "%s/%s.m3u8", pldir, PL_NAME);
    FILE *fp = fopen (path, "r");
    cr_assert_not_null (fp, "no %s", path);
    char text[4096];
    size_t n = fread (text, 1, sizeof text - 1, fp);
    text[n] = '\0';
    fclose (fp);
    //  the library track (/music/...) is not in this folder library: left out too
    char want[4096];
    snprintf (want, sizeof want, "#EXTM3U\n#PLAYLIST:%s\n%s\n%s\n", PL_NAME, a, c);
    cr_expect_str_eq (text, want);
    sp_tagger_destroy (&fin);
    free (a);
    free (c);
}
