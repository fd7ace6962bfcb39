/*  test_medialib_subsonic.c: the Subsonic (Navidrome) library backend
    (common/src/medialib_subsonic.c) against the fake Subsonic server
    (tests/fakes/fake_subsonic.c) on a free port.

    - a 10,250-song library over many pages, the server capping songCount
      below what was asked; a fresh salt per request; no secret in a URL;
    - the demo fixture's library (the Plex fixture's tracks, served as
      songs) gives the diff the same 9 library tracks and no near miss;
    - wrong password (error 40 in a 200), LDAP user (41), a user that may
      not scan (50), unreachable server, 5xx: the documented notes;
    - rescan (a slow scan of the server's music folder, waited for, and a
      timeout), find_item for the new files, then playlist_upsert twice:
      the whole ordered list in the server, one playlist, the same id; on
      Navidrome (createPlaylist with playlistId) and on a plain Subsonic
      server (updatePlaylist: remove every index, add in order).
*/
#include "../fakes/audio.h"
#include "soulpipe/tags.h"
#include "test_fake_util.h"
#include "test_medialib_util.h"

#include <errno.h>
#include <sys/stat.h>

#define USER "demo"
#define PASS "demo-subsonic-pass-4k2"

TestSuite (medialib_subsonic, .timeout = 120);

//  A strong reference: medialib.c refers to the backends weakly (so the
//  tree linked before they existed), which alone does not pull them out of
//  the archive.
static const sp_medialib_backend_t *const s_backend_ref = &sp_medialib_subsonic_backend;

static sp_medialib_t *
s_open (fk_t *f, const char *user, const char *pass)
{
    sp_medialib_opts_t o = {.kind = SP_MEDIALIB_SUBSONIC,
                            .subsonic_url = f->base,
                            .subsonic_user = user,
                            .subsonic_password = pass,
                            .poll_ms = 50,
                            .connect_timeout_ms = 1000,
                            .request_timeout_ms = 10000};
    cr_assert_str_eq (s_backend_ref->name, "Subsonic");
    char note[512] = "";
    int err = 0;
    sp_medialib_t *ml = sp_medialib_new (&o, &err, note, sizeof note);
    cr_assert_not_null (ml, "%d %s", err, note);
    return ml;
}

static void
s_start (fk_t *f, const char *server_json)
{
    fk_init (f);
    fk_write (f, "subsonic/server.json", server_json);
    cr_assert_eq (fk_start (f, NULL), 0, "fake did not start");
}

static long long
s_stat (fk_t *f, const char *k)
{
    json_t *st = fk_stats (f);
    long long v = json_integer_value (json_object_get (json_object_get (st, "subsonic"), k));
    json_decref (st);
    return v;
}

static long long
s_method_count (fk_t *f, const char *m)
{
    json_t *st = fk_stats (f);
    long long v = json_integer_value (
        json_object_get (json_object_get (json_object_get (st, "subsonic"), "methods"), m));
    json_decref (st);
    return v;
}

Test (medialib_subsonic, loads_10k_songs_over_capped_pages_with_a_salt_per_request)
{
    fk_t f;
    s_start (&f, "{\"user\":\"" USER "\",\"password\":\"" PASS
                 "\",\"library\":\"none\",\"generate\":10250,\"max_song_count\":300}");
    sp_medialib_t *ml = s_open (&f, USER, PASS);
    cr_expect_str_eq (sp_medialib_name (ml), "Subsonic");
    tu_load_t l = {0};
    char note[512] = "";
    cr_assert_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect_eq (l.tracks, 10250);
    cr_expect_eq (l.with_id, 10250);
    //  300 per page (the server's cap, below the 500 asked), then the empty page
    cr_expect_eq (s_method_count (&f, "search3"), 10250 / 300 + 1 + 1);
    long long tokens = s_stat (&f, "token_requests");
    cr_expect_eq (tokens, s_method_count (&f, "search3"));
    cr_expect_eq (s_stat (&f, "distinct_salts"), tokens, "a fresh salt per request");
    cr_expect_eq (s_stat (&f, "secrets_in_query"), 0, "token or password in a URL");
    cr_expect_eq (s_stat (&f, "plain_password"), 0);
    cr_expect_eq (s_stat (&f, "auth_failures"), 0);
    sp_medialib_destroy (&ml);
    cr_expect_null (ml);
    cr_expect_eq (fk_stop (&f), 0);
}

Test (medialib_subsonic, demo_library_gives_the_same_skips_as_plex)
{
    fk_t f;
    fk_init (&f);
    char dir[512], src[600];
    tu_demo_dir (dir, sizeof dir);
    snprintf (src, sizeof src, "%s/plex/tracks.json", dir);
    char *tracks = NULL;
    size_t len = 0;
    FILE *fp = fopen (src, "r");
    cr_assert_not_null (fp);
    cr_assert_eq (getdelim (&tracks, &len, '\0', fp) > 0, 1);
    fclose (fp);
    fk_write (&f, "plex/tracks.json", tracks);
    free (tracks);
    //  the demo's own server.json: the Plex fixture's library, real paths
    snprintf (src, sizeof src, "%s/subsonic/server.json", dir);
    fp = fopen (src, "r");
    cr_assert_not_null (fp, "%s", src);
    char *server = NULL;
    len = 0;
    cr_assert_eq (getdelim (&server, &len, '\0', fp) > 0, 1);
    fclose (fp);
    fk_write (&f, "subsonic/server.json", server);
    free (server);
    cr_assert_eq (fk_start (&f, NULL), 0);
    sp_medialib_t *ml = s_open (&f, USER, PASS);
    tu_check_demo_diff (ml, NULL);
    sp_medialib_destroy (&ml);
    fk_stop (&f);
}

Test (medialib_subsonic, refused_login_says_what_to_check_and_never_the_password)
{
    fk_t f;
    s_start (&f, "{\"user\":\"" USER "\",\"password\":\"" PASS "\",\"generate\":5}");
    sp_medialib_t *ml = s_open (&f, USER, "wrong-password-123");
    tu_load_t l = {0};
    char note[512] = "";
    cr_assert_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note),
                  SP_MEDIALIB_ERR_REFUSED, "%s", note);
    cr_expect (strstr (note, "Navidrome refused the login (error 40") != NULL, "%s", note);
    cr_expect (strstr (note, "check SUBSONIC_USER and SUBSONIC_PASSWORD") != NULL, "%s", note);
    cr_expect (strstr (note, "wrong-password-123") == NULL, "%s", note);
    cr_expect_eq (l.tracks, 0);
    cr_expect_eq (s_stat (&f, "auth_failures"), 1, "a refusal is not retried");
    sp_medialib_destroy (&ml);
    //  the right password with a wrong user is the same refusal
    ml = s_open (&f, "nobody", PASS);
    cr_expect_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note),
                  SP_MEDIALIB_ERR_REFUSED, "%s", note);
    sp_medialib_destroy (&ml);
    fk_stop (&f);

    s_start (&f, "{\"user\":\"" USER "\",\"password\":\"" PASS "\",\"ldap\":true}");
    ml = s_open (&f, USER, PASS);
    cr_assert_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note),
                  SP_MEDIALIB_ERR_REFUSED, "%s", note);
    cr_expect (strstr (note, "error 41") != NULL && strstr (note, "non-LDAP") != NULL, "%s", note);
    sp_medialib_destroy (&ml);
    fk_stop (&f);

    s_start (&f, "{\"user\":\"" USER "\",\"password\":\"" PASS "\",\"admin\":false}");
    ml = s_open (&f, USER, PASS);
    cr_assert_eq (sp_medialib_rescan (ml, "/music", 5000, note, sizeof note),
                  SP_MEDIALIB_ERR_REFUSED, "%s", note);
    cr_expect (strstr (note, "error 50") != NULL && strstr (note, "administrator") != NULL, "%s",
               note);
    sp_medialib_destroy (&ml);
    fk_stop (&f);
}

Test (medialib_subsonic, unreachable_and_5xx)
{
    //  a port nobody listens on: the fake's, after it stopped
    fk_t f;
    s_start (&f, "{\"user\":\"" USER "\",\"password\":\"" PASS "\",\"generate\":3}");
    char base[64];
    snprintf (base, sizeof base, "%s", f.base);
    fk_stop (&f);
    sp_medialib_opts_t o = {.kind = SP_MEDIALIB_SUBSONIC,
                            .subsonic_url = base,
                            .subsonic_user = USER,
                            .subsonic_password = PASS,
                            .connect_timeout_ms = 500,
                            .request_timeout_ms = 2000};
    char note[512] = "";
    sp_medialib_t *ml = sp_medialib_new (&o, NULL, note, sizeof note);
    cr_assert_not_null (ml, "%s", note);
    tu_load_t l = {0};
    cr_assert_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note),
                  SP_MEDIALIB_ERR_UNREACHABLE, "%s", note);
    char want[128];
    snprintf (want, sizeof want, "is unreachable at %s", base);
    cr_expect (strstr (note, want) != NULL, "%s", note);
    cr_expect (strstr (note, "check SUBSONIC_URL") != NULL, "%s", note);
    sp_medialib_destroy (&ml);

    //  one 503 is retried; a server that keeps failing is "unreachable"
    s_start (&f,
             "{\"user\":\"" USER "\",\"password\":\"" PASS "\",\"generate\":3,\"fail_at\":[1]}");
    ml = s_open (&f, USER, PASS);
    cr_expect_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect_eq (l.tracks, 3);
    cr_expect_eq (s_stat (&f, "failed_5xx"), 1);
    sp_medialib_destroy (&ml);
    fk_stop (&f);
    s_start (&f, "{\"user\":\"" USER "\",\"password\":\"" PASS "\",\"fail_from\":1}");
    ml = s_open (&f, USER, PASS);
    cr_expect_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note),
                  SP_MEDIALIB_ERR_UNREACHABLE, "%s", note);
    cr_expect (strstr (note, "HTTP 503") != NULL, "%s", note);
    sp_medialib_destroy (&ml);
    fk_stop (&f);

    //  a URL that is not a Subsonic server (the fake's Plex side is off: 404)
    s_start (&f, "{\"user\":\"" USER "\",\"password\":\"" PASS "\"}");
    char other[128];
    snprintf (other, sizeof other, "%s/nothing-here", f.base);
    o.subsonic_url = other;
    ml = sp_medialib_new (&o, NULL, note, sizeof note);
    cr_assert_not_null (ml);
    cr_expect_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note), SP_MEDIALIB_ERR, "%s",
                  note);
    cr_expect (strstr (note, "404") != NULL && strstr (note, "SUBSONIC_URL") != NULL, "%s", note);
    sp_medialib_destroy (&ml);
    fk_stop (&f);

    //  missing settings are refused before any request
    sp_medialib_opts_t bad = {.kind = SP_MEDIALIB_SUBSONIC, .subsonic_url = "http://x:4533"};
    int err = 0;
    cr_expect_null (sp_medialib_new (&bad, &err, note, sizeof note));
    cr_expect (strstr (note, "SUBSONIC_USER") != NULL, "%s", note);
}

//  A tagged FLAC of length_s seconds at dir/name.
static void
s_flac (const char *dir, const char *name, const char *title, const char *artist, const char *album,
        unsigned length_s)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    cr_assert_eq (sp_fake_audio_write (path, "flac", length_s, 0, false, NULL), 0, "%s: %s", path,
                  strerror (errno));
    const char *artists[] = {artist};
    sp_tags_t t = {.title = title,
                   .artists = artists,
                   .artists_count = 1,
                   .album = album,
                   .album_artists = artists,
                   .album_artists_count = 1};
    char err[256];
    cr_assert_eq (sp_tags_write (path, &t, err, sizeof err), SP_TAGS_OK, "%s", err);
}

//  The playlist's entry ids as the server holds them (getPlaylist).
static json_t *
s_server_playlist (fk_t *f, const char *id)
{
    char path[512];
    snprintf (path, sizeof path, "/rest/getPlaylist.view?u=%s&p=%s&v=1.16.1&c=test&f=json&id=%s",
              USER, PASS, id);
    fk_resp_t r;
    cr_assert_eq (fk_http (f, "GET", path, NULL, NULL, &r), 200);
    json_t *pl = json_object_get (json_object_get (r.json, "subsonic-response"), "playlist");
    cr_assert_not_null (pl, "%s", r.body);
    json_t *ids = json_array ();
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get (pl, "entry"), i, e)
        json_array_append (ids, json_object_get (e, "id"));
    fk_resp_free (&r);
    return ids;
}

static size_t
s_server_playlist_count (fk_t *f)
{
    fk_resp_t r;
    cr_assert_eq (fk_http (f, "GET",
                           "/rest/getPlaylists?u=" USER "&p=" PASS "&v=1.16.1&c=test&f=json", NULL,
                           NULL, &r),
                  200);
    size_t n = json_array_size (json_object_get (
        json_object_get (json_object_get (r.json, "subsonic-response"), "playlists"), "playlist"));
    fk_resp_free (&r);
    return n;
}

static void
s_rescan_then_playlist (const char *type)
{
    fk_t f;
    fk_init (&f);
    char music[400];
    snprintf (music, sizeof music, "%s/music", f.dir);
    cr_assert_eq (mkdir (music, 0755), 0);
    char cfg[1024];
    snprintf (cfg, sizeof cfg,
              "{\"user\":\"" USER "\",\"password\":\"" PASS
              "\",\"type\":\"%s\",\"generate\":20,\"report_real_path\":true,\"scan_ms\":400,"
              "\"music_dir\":\"%s\"}",
              type, music);
    fk_write (&f, "subsonic/server.json", cfg);
    cr_assert_eq (fk_start (&f, NULL), 0);
    sp_medialib_t *ml = s_open (&f, USER, PASS);
    unsigned caps = sp_medialib_caps (ml);
    cr_expect (caps & SP_MEDIALIB_RESCAN_NEEDED);
    cr_expect (caps & SP_MEDIALIB_CAN_PLAYLIST_KEEP);

    //  two library songs by id, taken from the loaded index
    char note[512] = "";
    tu_load_t l = {0};
    cr_assert_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_assert_eq (l.tracks, 20);

    //  new downloads land in the server's folder; before the scan they are unknown
    char sub[500];
    snprintf (sub, sizeof sub, "%s/Transfer", music);
    cr_assert_eq (mkdir (sub, 0755), 0);
    s_flac (sub, "01 - New One.flac", "New One", "Fresh Band", "Fresh", 61);
    s_flac (sub, "02 - New Two.flac", "New Two", "Fresh Band", "Fresh", 62);
    s_flac (sub, "03 - New Three.flac", "New Three", "Fresh Band", "Fresh", 63);
    char p1[700], p2[700], p3[700];
    snprintf (p1, sizeof p1, "%s/01 - New One.flac", sub);
    snprintf (p2, sizeof p2, "%s/02 - New Two.flac", sub);
    snprintf (p3, sizeof p3, "%s/03 - New Three.flac", sub);
    char *id = NULL;
    cr_expect_eq (sp_medialib_find_item (ml, p1, &id, note, sizeof note), SP_MEDIALIB_ERR_NOTFOUND,
                  "%s", note);

    //  a scan that takes longer than the timeout says so
    cr_expect_eq (sp_medialib_rescan (ml, sub, 100, note, sizeof note), SP_MEDIALIB_ERR_TIMEOUT,
                  "%s", note);
    cr_expect (strstr (note, "still scanning") != NULL, "%s", note);
    //  then waited for: at least the scan's 400 ms from its start
    double t0 = fk_now_s ();
    cr_assert_eq (sp_medialib_rescan (ml, sub, 10000, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect (fk_now_s () - t0 > 0.15, "the rescan did not wait");
    cr_expect_eq (s_stat (&f, "scanning"), 0);
    cr_expect_eq (s_stat (&f, "songs"), 23);

    char *n1 = NULL, *n2 = NULL, *n3 = NULL;
    cr_assert_eq (sp_medialib_find_item (ml, p1, &n1, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_assert_eq (sp_medialib_find_item (ml, p2, &n2, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    //  the server may mount the folder elsewhere: the path's tail is enough
    char moved[800];
    snprintf (moved, sizeof moved, "/elsewhere/Transfer/03 - New Three.flac");
    cr_assert_eq (sp_medialib_find_item (ml, moved, &n3, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect_str_neq (n1, n2);

    //  the playlist: a library song, the new downloads, another library song
    cr_expect_eq (s_server_playlist_count (&f), 0);
    fk_resp_t r;
    cr_assert_eq (fk_http (&f, "GET",
                           "/rest/search3?u=" USER "&p=" PASS
                           "&v=1.16.1&c=test&f=json&query=&songCount=2",
                           NULL, NULL, &r),
                  200);
    json_t *songs = json_object_get (
        json_object_get (json_object_get (r.json, "subsonic-response"), "searchResult3"), "song");
    cr_assert_eq (json_array_size (songs), 2);
    char a[64], b[64];
    snprintf (a, sizeof a, "%s",
              json_string_value (json_object_get (json_array_get (songs, 0), "id")));
    snprintf (b, sizeof b, "%s",
              json_string_value (json_object_get (json_array_get (songs, 1), "id")));
    fk_resp_free (&r);
    const char *list[] = {a, n1, n2, n3, b};
    char *pid = NULL, *pid2 = NULL, *pid3 = NULL;
    cr_assert_eq (
        sp_medialib_playlist_upsert (ml, "Road Trip Classics", list, 5, &pid, note, sizeof note),
        SP_MEDIALIB_OK, "%s", note);
    cr_assert_not_null (pid);
    json_t *got = s_server_playlist (&f, pid);
    cr_assert_eq (json_array_size (got), 5);
    for (size_t i = 0; i < 5; i++)
        cr_expect_str_eq (json_string_value (json_array_get (got, i)), list[i], "entry %zu", i);
    json_decref (got);

    //  run twice: still one playlist, same id, same entries in order
    cr_assert_eq (
        sp_medialib_playlist_upsert (ml, "Road Trip Classics", list, 5, &pid2, note, sizeof note),
        SP_MEDIALIB_OK, "%s", note);
    cr_expect_str_eq (pid2, pid);
    cr_expect_eq (s_server_playlist_count (&f), 1);
    got = s_server_playlist (&f, pid);
    cr_assert_eq (json_array_size (got), 5);
    for (size_t i = 0; i < 5; i++)
        cr_expect_str_eq (json_string_value (json_array_get (got, i)), list[i], "entry %zu", i);
    json_decref (got);

    //  a changed list replaces the entries in place
    const char *shorter[] = {n3, a};
    cr_assert_eq (sp_medialib_playlist_upsert (ml, "Road Trip Classics", shorter, 2, &pid3, note,
                                               sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    cr_expect_str_eq (pid3, pid);
    got = s_server_playlist (&f, pid);
    cr_assert_eq (json_array_size (got), 2);
    cr_expect_str_eq (json_string_value (json_array_get (got, 0)), n3);
    cr_expect_str_eq (json_string_value (json_array_get (got, 1)), a);
    json_decref (got);
    cr_expect_eq (s_server_playlist_count (&f), 1);
    if (strcmp (type, "navidrome") == 0)
        cr_expect_eq (s_method_count (&f, "updatePlaylist"), 0);
    else
        cr_expect_geq (s_method_count (&f, "updatePlaylist"), 2);

    free (pid);
    free (pid2);
    free (pid3);
    free (n1);
    free (n2);
    free (n3);
    free (id);
    sp_medialib_destroy (&ml);
    fk_stop (&f);
}

Test (medialib_subsonic, rescan_then_playlist_twice_keeps_one_playlist_navidrome)
{
    s_rescan_then_playlist ("navidrome");
}

Test (medialib_subsonic, rescan_then_playlist_twice_keeps_one_playlist_plain_subsonic)
{
    s_rescan_then_playlist ("subsonic");
}

Test (medialib_subsonic, find_item_by_tags_when_the_server_hides_real_paths)
{
    //  Navidrome's default: "Album Artist/Album/NN - Title.ext" paths
    fk_t f;
    fk_init (&f);
    char music[400], cfg[1024];
    snprintf (music, sizeof music, "%s/music", f.dir);
    cr_assert_eq (mkdir (music, 0755), 0);
    snprintf (cfg, sizeof cfg,
              "{\"user\":\"" USER "\",\"password\":\"" PASS
              "\",\"generate\":5,\"music_dir\":\"%s\"}",
              music);
    fk_write (&f, "subsonic/server.json", cfg);
    cr_assert_eq (fk_start (&f, NULL), 0);
    s_flac (music, "01 - Hidden.flac", "Hidden Track", "Some Band", "Some Album", 90);
    s_flac (music, "02 - Other.flac", "Other Track", "Some Band", "Some Album", 91);
    sp_medialib_t *ml = s_open (&f, USER, PASS);
    char note[512] = "", *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq (sp_medialib_rescan (ml, music, 10000, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    char p1[600], p2[600], p3[600];
    snprintf (p1, sizeof p1, "%s/01 - Hidden.flac", music);
    snprintf (p2, sizeof p2, "%s/02 - Other.flac", music);
    cr_assert_eq (sp_medialib_find_item (ml, p1, &a, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_assert_eq (sp_medialib_find_item (ml, p2, &b, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect_str_neq (a, b);
    //  a file the server does not have (written after the scan)
    s_flac (music, "03 - Late.flac", "Late Track", "Some Band", "Some Album", 92);
    snprintf (p3, sizeof p3, "%s/03 - Late.flac", music);
    cr_expect_eq (sp_medialib_find_item (ml, p3, &c, note, sizeof note), SP_MEDIALIB_ERR_NOTFOUND,
                  "%s", note);
    cr_expect_null (c);
    free (a);
    free (b);
    sp_medialib_destroy (&ml);
    fk_stop (&f);
}

// ------------------------------------------------------------ the table row
//  tests/integration/test_medialib_table.c runs the same checks on every
//  backend; this is the Subsonic row: the fake with the demo's Plex library
//  (real paths, as a Navidrome player with "Report Real Path"), the new
//  download as a song the next scan adds.
#if __has_include("test_medialib_table.h")
#include "test_medialib_table.h"

typedef struct {
    fk_t fk;
    char bad_url[64];
} s_row_env_t;

static s_row_env_t s_row_env;

static int
s_row_start (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    s_row_env_t *e = self->env;
    fk_init (&e->fk);
    tm_copy_demo (&e->fk, "plex/tracks.json");
    char cfg[2048];
    snprintf (cfg, sizeof cfg,
              "{\"user\": \"%s\", \"password\": \"%s\", \"library\": \"plex\", "
              "\"report_real_path\": true, \"scan_ms\": 300, \"pending\": [{\"title\": \"%s\", "
              "\"artist\": \"%s\", \"albumArtist\": \"%s\", \"album\": \"%s\", \"track\": 1, "
              "\"duration\": %d, \"path\": \"%s\"}]}",
              USER, PASS, TM_NEW_TITLE, TM_NEW_ARTIST, TM_NEW_ARTIST, TM_NEW_ALBUM,
              TM_NEW_MS / 1000, TM_NEW_PATH);
    fk_write (&e->fk, "subsonic/server.json", cfg);
    if (fk_start (&e->fk, NULL) != 0)
        return -1;
    opts->subsonic_url = e->fk.base;
    opts->subsonic_user = USER;
    opts->subsonic_password = PASS;
    return 0;
}

static void
s_row_bad_credentials (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    (void) self;
    opts->subsonic_password = "not-the-password";
}

static void
s_row_unreachable (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    s_row_env_t *e = self->env;
    snprintf (e->bad_url, sizeof e->bad_url, "http://127.0.0.1:1");
    opts->subsonic_url = e->bad_url;
}

static json_t *
s_row_server_playlist (tm_backend_t *self, const char *id, const char *name, int *same_name)
{
    s_row_env_t *e = self->env;
    fk_resp_t r;
    cr_assert_eq (fk_http (&e->fk, "GET",
                           "/rest/getPlaylists?u=" USER "&p=" PASS "&v=1.16.1&c=test&f=json", NULL,
                           NULL, &r),
                  200);
    json_t *list = json_object_get (
        json_object_get (json_object_get (r.json, "subsonic-response"), "playlists"), "playlist");
    *same_name = 0;
    size_t i;
    json_t *p;
    json_array_foreach (list, i, p)
    {
        const char *nm = json_string_value (json_object_get (p, "name"));
        if (nm && strcmp (nm, name) == 0)
            (*same_name)++;
    }
    fk_resp_free (&r);
    return s_server_playlist (&e->fk, id);
}

static void
s_row_stop (tm_backend_t *self)
{
    s_row_env_t *e = self->env;
    if (e->fk.pid || e->fk.dir[0])
        fk_stop (&e->fk);
    memset (e, 0, sizeof *e);
}

void
tm_row_subsonic (tm_backend_t *row)
{
    memset (&s_row_env, 0, sizeof s_row_env);
    *row = (tm_backend_t){.name = "subsonic",
                          .kind = SP_MEDIALIB_SUBSONIC,
                          .paths_as_plex = true,
                          .refused_hint = "check SUBSONIC_USER and SUBSONIC_PASSWORD",
                          .url_var = "SUBSONIC_URL",
                          .env = &s_row_env,
                          .start = s_row_start,
                          .bad_credentials = s_row_bad_credentials,
                          .unreachable = s_row_unreachable,
                          .server_playlist = s_row_server_playlist,
                          .stop = s_row_stop};
}
#endif
