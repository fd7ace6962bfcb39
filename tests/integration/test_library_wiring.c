/*  test_library_wiring.c: the analyzer's library check through the config
    (SOULPIPE_LIBRARY and each backend's variables, sp_config_load as the
    binary does it) against the fake server, per backend: jellyfin and
    navidrome (the fake's Jellyfin API and /rest/ Subsonic API serving the
    demo's Plex library) and folder (the demo library written as real
    tagged files). The demo playlist must give the same answer as with
    Plex (test_analyzer_demo.c): the 9 library tracks skipped as "in
    library" with confidence >= 0.8, every other track queued (the 8 near
    misses included). Refused credentials and an unreachable server queue
    everything with a note naming the library and the variable to check;
    a bad SOULPIPE_LIBRARY makes the real binary exit 2.
*/
#include "test_analyzer_common.h"
#include "test_medialib_util.h"

#include "../fakes/audio.h"
#include "soulpipe/path.h"
#include "soulpipe/tags.h"

#include <errno.h>

#define DEMO_URL "https://open.spotify.com/playlist/" TU_DEMO_PLAYLIST "?si=demo"

#define JF_KEY   "demo-jellyfin-key-9q"
#define SUB_USER "demo"
#define SUB_PASS "demo-subsonic-pass-4k2" /* tests/fixtures/demo/subsonic/server.json */

TestSuite (library_wiring, .fini = ta_fini, .timeout = 180);

typedef struct {
    char fixtures[400];
    char music[400];  //  the folder library's root
    char url[64];
    int port;
    sp_store_t *store;
    sp_config_t cfg;
    sp_analyzer_t *an;
    tu_expected_t x;
} s_env_t;

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

//  Every Plex track of the demo as a real tagged file below root (the same
//  relative place as its Plex path below /music).
static void
s_write_folder_library (const char *root)
{
    json_t *plex = tu_demo_plex_tracks ();
    size_t i;
    json_t *m;
    json_array_foreach (plex, i, m)
    {
        json_t *part = json_array_get (
            json_object_get (json_array_get (json_object_get (m, "Media"), 0), "Part"), 0);
        const char *file = json_string_value (json_object_get (part, "file"));
        cr_assert (file && strncmp (file, TU_DEMO_PLEX_ROOT "/", 7) == 0, "%s", file);
        char path[1024];
        snprintf (path, sizeof path, "%s%s", root, file + strlen (TU_DEMO_PLEX_ROOT));
        char dir[1024];
        snprintf (dir, sizeof dir, "%s", path);
        *strrchr (dir, '/') = '\0';
        s_mkdirs (dir);
        const char *ext = sp_path_ext (path);
        cr_assert (sp_fake_audio_supported (ext), "the generator cannot write %s", path);
        const char *aa = json_string_value (json_object_get (m, "grandparentTitle"));
        const char *ta = json_string_value (json_object_get (m, "originalTitle"));
        json_int_t dur = json_integer_value (json_object_get (m, "duration"));
        cr_assert_eq (
            sp_fake_audio_write (path, ext, (unsigned) ((dur + 500) / 1000), 0, false, NULL), 0,
            "%s: %s", path, strerror (errno));
        const char *artists[] = {ta ? ta : aa};
        const char *aas[] = {aa};
        sp_tags_t t = {.title = json_string_value (json_object_get (m, "title")),
                       .artists = artists,
                       .artists_count = 1,
                       .album = json_string_value (json_object_get (m, "parentTitle")),
                       .album_artists = aas,
                       .album_artists_count = aa ? 1 : 0};
        char err[256];
        cr_assert_eq (sp_tags_write (path, &t, err, sizeof err), SP_TAGS_OK, "%s: %s", path, err);
    }
    json_decref (plex);
}

//  The demo fixture copied, a Jellyfin server.json added (the demo has
//  none), the fake started; then the analyzer with vars (plus the Spotify
//  ones) through the config.
static void
s_start (s_env_t *e, const char *const *vars)
{
    memset (e, 0, sizeof *e);
    e->store = ta_store ();
    tu_read_expected (&e->x);
    char demo[512];
    tu_demo_dir (demo, sizeof demo);
    snprintf (e->fixtures, sizeof e->fixtures, "%s/fixtures", ta_t.dir);
    snprintf (e->music, sizeof e->music, "%s/music", ta_t.dir);
    const char *cp[] = {"/bin/cp", "-r", demo, e->fixtures, NULL};
    cr_assert_eq (sp_test_run (&ta_t, cp, 30000, NULL, NULL), 0, "cp -r %s", demo);
    ta_write (e->fixtures, "jellyfin/server.json",
              "{\"api_key\": \"" JF_KEY "\", \"items\": \"plex\"}");
    char downloads[420];
    snprintf (downloads, sizeof downloads, "%s/downloads", ta_t.dir);
    cr_assert_eq (mkdir (downloads, 0700), 0);
    ta_fake_start (&ta_t, e->fixtures, downloads, &e->port);
    snprintf (e->url, sizeof e->url, "http://127.0.0.1:%d", e->port);

    const char *clear[] = {"SOULPIPE_LIBRARY",     "JELLYFIN_URL",
                           "JELLYFIN_API_KEY",     "JELLYFIN_USER_ID",
                           "SUBSONIC_URL",         "NAVIDROME_URL",
                           "SUBSONIC_USER",        "SUBSONIC_PASSWORD",
                           "SOULPIPE_LIBRARY_DIR", "SOULPIPE_LIBRARY_PLAYLIST_DIR"};
    for (size_t i = 0; i < sizeof clear / sizeof clear[0]; i++)
        unsetenv (clear[i]);
    setenv ("SOULPIPE_LIBRARY_CACHE_S", "0", 1);
    setenv ("SPOTIFY_CLIENT_ID", "demo-client-id-7f3a9c", 1);
    setenv ("SPOTIFY_CLIENT_SECRET", "demo-client-secret-1b8e44d0", 1);
    setenv ("SPOTIFY_ACCOUNTS_URL", e->url, 1);
    setenv ("SPOTIFY_API_URL", e->url, 1);
    //  values "@" stand for the fake's URL
    const char *v[32];
    size_t k = 0;
    for (size_t i = 0; vars[i] && k + 2 < 32; i += 2) {
        v[k++] = vars[i];
        v[k++] = vars[i + 1] && strcmp (vars[i + 1], "@") == 0 ? e->url : vars[i + 1];
    }
    v[k] = NULL;
    ta_config (&e->cfg, v);
    char err[256];
    e->an = sp_analyzer_new (&e->cfg, NULL, err, sizeof err);
    cr_assert_not_null (e->an, "%s", err);
    ta_login (e->an, e->store, e->url, "demo-client-id-7f3a9c");
}

static void
s_stop (s_env_t *e)
{
    sp_analyzer_destroy (&e->an);
    sp_config_destroy (&e->cfg);
    e->store = NULL;
    ta_fini ();
}

//  The demo playlist through the analyzer: the 9 library tracks skipped
//  (path = the Plex path below path_root instead of /music), the rest
//  queued.
static void
s_check_demo (s_env_t *e, sp_medialib_kind_t kind, const char *path_root)
{
    cr_assert_eq (e->cfg.library_kind, kind, "chose %s",
                  sp_medialib_kind_name ((sp_medialib_kind_t) e->cfg.library_kind));
    sp_msg_t reply;
    ta_submit (e->an, e->store, DEMO_URL, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect (reply.library_checked, "%s", reply.library_note ? reply.library_note : "");
    cr_expect_null (reply.library_note);
    cr_assert_eq (reply.total, TU_DEMO_TRACKS);
    cr_expect_eq (reply.skipped, (uint64_t) e->x.n_in_library);
    cr_expect_eq (reply.queued, (uint64_t) (TU_DEMO_TRACKS - e->x.n_in_library));
    ta_tracks_t t;
    ta_tracks (e->store, reply.job, &t);
    cr_assert_eq (t.n, TU_DEMO_TRACKS);
    int skipped = 0, near_queued = 0;
    for (int i = 0; i < t.n; i++) {
        int pos = i + 1;
        if (e->x.in_library[pos]) {
            skipped++;
            cr_expect_str_eq (t.state[i], "skipped", "#%d %s", pos, t.title[i]);
            cr_expect (strncmp (t.reason[i], "in library: ", 12) == 0, "#%d: %s", pos, t.reason[i]);
            const char *c = strstr (t.reason[i], ", confidence ");
            double conf = c ? strtod (c + 13, NULL) : -1;
            cr_expect (conf >= 0.8 && conf <= 1.0, "#%d %s: %s", pos, t.title[i], t.reason[i]);
            char want[700];
            snprintf (want, sizeof want, "%s%s", path_root,
                      e->x.plex_path[pos] + strlen (TU_DEMO_PLEX_ROOT));
            cr_expect_str_eq (t.path[i], want, "#%d", pos);
        } else {
            cr_expect_str_eq (t.state[i], "queued", "#%d %s: %s", pos, t.title[i], t.reason[i]);
            if (e->x.near_miss[pos] && strcmp (t.state[i], "queued") == 0)
                near_queued++;
        }
    }
    cr_expect_eq (skipped, 9);
    cr_expect_eq (near_queued, 8, "every near miss queued, 0 false owned");
    ta_tracks_free (&t);
    sp_msg_clear (&reply);
}

//  A submit whose library cannot be read: everything queued, the note
//  names the library and says what to check.
static void
s_check_queued_all (s_env_t *e, const char *name, const char *check)
{
    sp_msg_t reply;
    ta_submit (e->an, e->store, DEMO_URL, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect (!reply.library_checked);
    cr_assert_not_null (reply.library_note);
    cr_expect (strstr (reply.library_note, name) != NULL, "%s", reply.library_note);
    cr_expect (strstr (reply.library_note, check) != NULL, "%s", reply.library_note);
    cr_expect (strstr (reply.library_note, "every track is queued") != NULL, "%s",
               reply.library_note);
    cr_expect_eq (reply.skipped, 0);
    cr_expect_eq (reply.queued, (uint64_t) TU_DEMO_TRACKS);
    sp_msg_clear (&reply);
}

Test (library_wiring, jellyfin_demo_same_skips_as_plex)
{
    s_env_t e;
    //  PLEX_URL set too: the explicit choice wins
    const char *vars[] = {"SOULPIPE_LIBRARY",
                          "jellyfin",
                          "JELLYFIN_URL",
                          "@",
                          "JELLYFIN_API_KEY",
                          JF_KEY,
                          "PLEX_URL",
                          "@",
                          NULL};
    s_start (&e, vars);
    s_check_demo (&e, SP_MEDIALIB_JELLYFIN, TU_DEMO_PLEX_ROOT);
    //  the index really came from the Jellyfin API
    json_t *st = sp_test_fake_stats (e.port);
    cr_assert_not_null (st);
    json_int_t pages =
        json_integer_value (json_object_get (json_object_get (st, "jellyfin"), "item_pages"));
    cr_expect_geq (pages, 1, "Jellyfin /Items pages read: %lld", (long long) pages);
    json_decref (st);
    s_stop (&e);
}

Test (library_wiring, jellyfin_refused_key_queues_everything)
{
    s_env_t e;
    const char *vars[] = {"JELLYFIN_URL", "@", "JELLYFIN_API_KEY", "wrong-key", NULL};
    s_start (&e, vars);
    cr_assert_eq (e.cfg.library_kind, SP_MEDIALIB_JELLYFIN, "chosen by JELLYFIN_URL");
    s_check_queued_all (&e, "Jellyfin", "check JELLYFIN_API_KEY");
    s_stop (&e);
}

Test (library_wiring, navidrome_demo_same_skips_as_plex)
{
    s_env_t e;
    const char *vars[] = {
        "SOULPIPE_LIBRARY", "navidrome",         "NAVIDROME_URL", "@", "SUBSONIC_USER",
        SUB_USER,           "SUBSONIC_PASSWORD", SUB_PASS,        NULL};
    s_start (&e, vars);
    cr_expect_str_eq (e.cfg.subsonic_url, e.url);
    s_check_demo (&e, SP_MEDIALIB_SUBSONIC, TU_DEMO_PLEX_ROOT);
    //  the index really came from the Subsonic API
    json_t *st = sp_test_fake_stats (e.port);
    cr_assert_not_null (st);
    json_int_t n = json_integer_value (
        json_object_get (json_object_get (json_object_get (st, "subsonic"), "methods"), "search3"));
    cr_expect_geq (n, 1, "search3 calls: %lld", (long long) n);
    json_decref (st);
    s_stop (&e);
}

Test (library_wiring, subsonic_refused_and_unreachable_queue_everything)
{
    s_env_t e;
    const char *vars[] = {"SUBSONIC_URL",     "@", "SUBSONIC_USER", SUB_USER, "SUBSONIC_PASSWORD",
                          "not-the-password", NULL};
    s_start (&e, vars);
    cr_assert_eq (e.cfg.library_kind, SP_MEDIALIB_SUBSONIC);
    s_check_queued_all (&e, "Navidrome refused the login", "SUBSONIC_PASSWORD");
    sp_analyzer_destroy (&e.an);
    sp_config_destroy (&e.cfg);
    //  nothing listens on port 9 of localhost
    const char *down[] = {"SUBSONIC_URL", "http://127.0.0.1:9", "SUBSONIC_PASSWORD", SUB_PASS,
                          NULL};
    ta_config (&e.cfg, down);
    char err[256];
    e.an = sp_analyzer_new (&e.cfg, NULL, err, sizeof err);
    cr_assert_not_null (e.an, "%s", err);
    ta_login (e.an, e.store, e.url, "demo-client-id-7f3a9c");
    s_check_queued_all (&e, "Subsonic is unreachable", "check SUBSONIC_URL");
    s_stop (&e);
}

Test (library_wiring, folder_demo_same_skips_as_plex)
{
    s_env_t e;
    //  the folder is written after the start (ta_t.dir exists only then); the
    //  library is read at the first submit
    const char *vars[] = {"SOULPIPE_LIBRARY", "folder", "SOULPIPE_LIBRARY_DIR", "/placeholder",
                          NULL};
    s_start (&e, vars);
    sp_analyzer_destroy (&e.an);
    sp_config_destroy (&e.cfg);
    s_write_folder_library (e.music);
    const char *real[] = {"SOULPIPE_LIBRARY_DIR", e.music, NULL};
    ta_config (&e.cfg, real);
    char err[256];
    e.an = sp_analyzer_new (&e.cfg, NULL, err, sizeof err);
    cr_assert_not_null (e.an, "%s", err);
    ta_login (e.an, e.store, e.url, "demo-client-id-7f3a9c");
    s_check_demo (&e, SP_MEDIALIB_FOLDER, e.music);
    s_stop (&e);
}

//  The real binary: a bad SOULPIPE_LIBRARY, or a chosen library without its
//  URL, is a configuration error (exit 2) naming the variable.
Test (library_wiring, bad_library_exits_2)
{
    sp_test_init (&ta_t, false);
    const char *bin = sp_test_bin ("soulpipe-analyzer");
    if (access (bin, X_OK) != 0)
        cr_skip_test ("no %s", bin);
    const char *argv[] = {bin, NULL};
    static const char *const rows[][3] = {
        {"itunes", "SOULPIPE_LIBRARY: expected plex, jellyfin, navidrome", NULL},
        {"navidrome", "needs SUBSONIC_URL (or NAVIDROME_URL)", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *err = NULL;
        sp_test_setenv (&ta_t, "SOULPIPE_LIBRARY", rows[i][0]);
        int rc = sp_test_run (&ta_t, argv, 10000, NULL, &err);
        cr_expect_eq (rc, 2, "SOULPIPE_LIBRARY=%s: exit %d: %s", rows[i][0], rc, err ? err : "");
        cr_expect (err && strstr (err, "configuration error") && strstr (err, rows[i][1]), "%s",
                   err ? err : "");
        free (err);
    }
    sp_test_fini (&ta_t);
}
