/*  test_medialib_jellyfin.c: the medialib Jellyfin backend against the fake
    Jellyfin: its row of the shared table (test_medialib_table.h; the fake
    serves the demo's Plex library converted to BaseItemDto), and what only
    Jellyfin does: a 10,000+ track library over several pages, RunTimeTicks
    and Artists[], both auth header forms, a 5xx answer retried then given
    up with the status in the note, a scan slower than the timeout, the
    playlist owner from /Users, playlists edited in place.
*/
#include "test_medialib_table.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JF_KEY "jf-demo-key-4b1d"

typedef struct {
    fk_t fk;
    char url[64];
    char bad_url[64];
    const char *extra;  //  more server.json members (",\"generate\": 10")
    int scan_ms;
} s_env_t;

static s_env_t s_env;

static int
s_start (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    s_env_t *e = self->env;
    fk_init (&e->fk);
    tm_copy_demo (&e->fk, "plex/tracks.json");
    char cfg[4096];
    snprintf (cfg, sizeof cfg,
              "{\"api_key\": \"%s\", \"scan_ms\": %d, \"pending\": [{\"Name\": \"%s\", "
              "\"Artists\": [\"%s\"], \"AlbumArtist\": \"%s\", \"Album\": \"%s\", "
              "\"RunTimeTicks\": %lld, \"Path\": \"%s\"}]%s}",
              JF_KEY, e->scan_ms, TM_NEW_TITLE, TM_NEW_ARTIST, TM_NEW_ARTIST, TM_NEW_ALBUM,
              (long long) TM_NEW_MS * 10000, TM_NEW_PATH, e->extra ? e->extra : "");
    fk_write (&e->fk, "jellyfin/server.json", cfg);
    if (fk_start (&e->fk, NULL) != 0)
        return -1;
    snprintf (e->url, sizeof e->url, "%s", e->fk.base);
    opts->jellyfin_url = e->url;
    opts->jellyfin_api_key = JF_KEY;
    return 0;
}

static void
s_bad_credentials (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    (void) self;
    opts->jellyfin_api_key = "not-the-key";
}

static void
s_unreachable (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    s_env_t *e = self->env;
    snprintf (e->bad_url, sizeof e->bad_url, "http://127.0.0.1:1");
    opts->jellyfin_url = e->bad_url;
}

static json_t *
s_jstats (void)
{
    json_t *st = fk_stats (&s_env.fk);
    json_t *jf = json_incref (json_object_get (st, "jellyfin"));
    json_decref (st);
    cr_assert_not_null (jf);
    return jf;
}

static json_t *
s_server_playlist (tm_backend_t *self, const char *id, const char *name, int *same_name)
{
    (void) self;
    json_t *jf = s_jstats ();
    json_t *out = NULL;
    *same_name = 0;
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get (jf, "playlists"), i, p)
    {
        const char *pid = json_string_value (json_object_get (p, "Id"));
        const char *nm = json_string_value (json_object_get (p, "Name"));
        if (nm && strcmp (nm, name) == 0)
            (*same_name)++;
        if (pid && strcmp (pid, id) == 0)
            out = json_incref (json_object_get (p, "Ids"));
    }
    json_decref (jf);
    return out ? out : json_array ();
}

static void
s_stop (tm_backend_t *self)
{
    s_env_t *e = self->env;
    fk_stop (&e->fk);
}

void
tm_row_jellyfin (tm_backend_t *row)
{
    memset (&s_env, 0, sizeof s_env);
    s_env.scan_ms = 400;
    *row = (tm_backend_t){.name = "jellyfin",
                          .kind = SP_MEDIALIB_JELLYFIN,
                          .paths_as_plex = true,
                          .refused_hint = "check JELLYFIN_API_KEY",
                          .url_var = "JELLYFIN_URL",
                          .env = &s_env,
                          .start = s_start,
                          .bad_credentials = s_bad_credentials,
                          .unreachable = s_unreachable,
                          .server_playlist = s_server_playlist,
                          .stop = s_stop};
}

// ------------------------------------------------------------ Jellyfin only

static tm_backend_t s_row;
static sp_medialib_t *s_ml;

static void
s_fini (void)
{
    sp_medialib_destroy (&s_ml);
    s_stop (&s_row);
}

static void
s_setup (const char *extra, int scan_ms, int retries)
{
    tm_row_jellyfin (&s_row);
    s_env.extra = extra;
    s_env.scan_ms = scan_ms;
    sp_medialib_opts_t opts = {.kind = SP_MEDIALIB_JELLYFIN, .poll_ms = 50, .retries = retries};
    cr_assert_eq (s_start (&s_row, &opts), 0);
    char note[256];
    s_ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (s_ml, "%s", note);
}

typedef struct {
    size_t n;
    uint64_t bohemian_ms;  //  duration of the demo's Bohemian Rhapsody
    char two_artists[128];
    size_t n_artists;
    bool generated_last_seen;
} s_seen_t;

static int
s_count (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    (void) note;
    (void) n;
    s_seen_t *s = arg;
    s->n++;
    if (strcmp (t->title, "Bohemian Rhapsody") == 0)
        s->bohemian_ms = t->duration_ms;
    if (strcmp (t->title, "Duet") == 0) {
        snprintf (s->two_artists, sizeof s->two_artists, "%s", t->artist ? t->artist : "");
        s->n_artists = t->n_artists;
    }
    if (strcmp (t->title, "Generated Song 10000") == 0)
        s->generated_last_seen = t->path && strstr (t->path, "/music/Generated/") == t->path;
    return 0;
}

Test (medialib_jellyfin, ten_thousand_tracks_over_pages, .fini = s_fini, .timeout = 60)
{
    s_setup (",\"generate\": 10000", 0, 1);
    json_t *jf = s_jstats ();
    size_t items = (size_t) json_integer_value (json_object_get (jf, "items"));
    json_decref (jf);
    cr_assert_gt (items, 10000);
    s_seen_t seen = {0};
    char note[256];
    double t0 = fk_now_s ();
    cr_assert_eq (sp_medialib_load (s_ml, s_count, &seen, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_log_info ("jellyfin load of %zu tracks: %.3f s", seen.n, fk_now_s () - t0);
    cr_expect_eq (seen.n, items);
    cr_expect (seen.generated_last_seen);
    //  354947 ms in the Plex fixture -> 3549470000 ticks -> 354947 ms
    cr_expect_eq (seen.bohemian_ms, 354947);
    jf = s_jstats ();
    cr_expect_geq (json_integer_value (json_object_get (jf, "item_pages")), 6);
    json_decref (jf);
}

Test (medialib_jellyfin, artists_joined_and_page_cap_respected, .fini = s_fini)
{
    //  a server that hands out at most 7 items a page whatever Limit asks
    s_setup (",\"max_limit\": 7, \"items\": [{\"Name\": \"Duet\", \"Artists\": [\"A\", \"B\"],"
             " \"AlbumArtist\": \"A\", \"Album\": \"X\", \"RunTimeTicks\": 1800000000,"
             " \"Path\": \"/music/A/X/01.flac\"}], \"generate\": 20",
             0, 1);
    s_seen_t seen = {0};
    char note[256];
    cr_assert_eq (sp_medialib_load (s_ml, s_count, &seen, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect_eq (seen.n, 21);
    cr_expect_str_eq (seen.two_artists, "A, B");
    cr_expect_eq (seen.n_artists, 2);
}

Test (medialib_jellyfin, both_auth_forms_and_401, .fini = s_fini)
{
    s_setup (NULL, 0, 1);
    fk_resp_t r;
    const char *emby[] = {"X-Emby-Token: " JF_KEY, NULL};
    cr_expect_eq (
        fk_http (&s_env.fk, "GET", "/Items?IncludeItemTypes=Audio&Limit=1", emby, NULL, &r), 200);
    cr_expect_eq (json_integer_value (json_object_get (r.json, "TotalRecordCount")) > 9, 1);
    fk_resp_free (&r);
    const char *mb[] = {"Authorization: MediaBrowser Client=\"t\", Token=\"" JF_KEY "\"", NULL};
    cr_expect_eq (fk_http (&s_env.fk, "GET", "/Users", mb, NULL, &r), 200);
    fk_resp_free (&r);
    const char *wrong[] = {"X-Emby-Token: nope", NULL};
    cr_expect_eq (fk_http (&s_env.fk, "GET", "/Items", wrong, NULL, &r), 401);
    fk_resp_free (&r);
    cr_expect_eq (fk_http (&s_env.fk, "GET", "/Items", NULL, NULL, &r), 401);
    fk_resp_free (&r);
    cr_expect_eq (fk_http (&s_env.fk, "GET", "/System/Info/Public", NULL, NULL, &r), 200);
    fk_resp_free (&r);
}

Test (medialib_jellyfin, a_5xx_is_retried_then_reported, .fini = s_fini, .timeout = 30)
{
    s_setup (",\"fail_5xx\": 1", 0, 1);
    s_seen_t seen = {0};
    char note[256];
    cr_expect_eq (sp_medialib_load (s_ml, s_count, &seen, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect_gt (seen.n, 9);
    sp_medialib_destroy (&s_ml);
    s_stop (&s_row);

    s_setup (",\"fail_5xx\": 50", 0, 1);
    memset (&seen, 0, sizeof seen);
    int rc = sp_medialib_load (s_ml, s_count, &seen, note, sizeof note);
    cr_expect_eq (rc, SP_MEDIALIB_ERR_UNREACHABLE, "%d %s", rc, note);
    cr_expect (strstr (note, "Jellyfin answered HTTP 503 while reading the tracks"), "%s", note);
    cr_expect_eq (seen.n, 0);
}

Test (medialib_jellyfin, rescan_waits_then_times_out_when_slow, .fini = s_fini, .timeout = 30)
{
    s_setup (NULL, 700, 1);
    char note[256];
    double t0 = fk_now_s ();
    cr_assert_eq (sp_medialib_rescan (s_ml, TM_NEW_DIR, 10000, note, sizeof note), SP_MEDIALIB_OK,
                  "%s", note);
    cr_expect_geq (fk_now_s () - t0, 0.65);
    char *id = NULL;
    cr_expect_eq (sp_medialib_find_item (s_ml, TM_NEW_PATH, &id, note, sizeof note), SP_MEDIALIB_OK,
                  "%s", note);
    free (id);
    sp_medialib_destroy (&s_ml);
    s_stop (&s_row);

    s_setup (NULL, 5000, 1);
    t0 = fk_now_s ();
    int rc = sp_medialib_rescan (s_ml, TM_NEW_DIR, 600, note, sizeof note);
    cr_expect_eq (rc, SP_MEDIALIB_ERR_TIMEOUT, "%d %s", rc, note);
    cr_expect (strstr (note, "Jellyfin was still scanning after 1 s"), "%s", note);
    cr_expect_lt (fk_now_s () - t0, 3.0);
}

Test (medialib_jellyfin, playlist_owner_from_users_and_edited_in_place, .fini = s_fini)
{
    //  the first user is not an administrator: the admin owns the playlist
    s_setup (",\"users\": [{\"Name\": \"kid\", \"Id\": \"00000000000000000000000000000b0b\","
             " \"Policy\": {\"IsAdministrator\": false}}, {\"Name\": \"root\", \"Id\":"
             " \"00000000000000000000000000000a0a\", \"Policy\": {\"IsAdministrator\": true}}]",
             0, 1);
    json_t *ids = json_array ();
    fk_resp_t r;
    const char *auth[] = {"X-Emby-Token: " JF_KEY, NULL};
    cr_assert_eq (
        fk_http (&s_env.fk, "GET", "/Items?IncludeItemTypes=Audio&Limit=4", auth, NULL, &r), 200);
    size_t i;
    json_t *it;
    json_array_foreach (json_object_get (r.json, "Items"), i, it)
        json_array_append (ids, json_object_get (it, "Id"));
    fk_resp_free (&r);
    cr_assert_eq (json_array_size (ids), 4);
    const char *a[] = {json_string_value (json_array_get (ids, 0)),
                       json_string_value (json_array_get (ids, 1)),
                       json_string_value (json_array_get (ids, 2))};
    char note[256];
    char *p1 = NULL, *p2 = NULL;
    cr_assert_eq (sp_medialib_playlist_upsert (s_ml, "Mix", a, 3, &p1, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    //  listed for the admin, not for the other user
    char path[256];
    snprintf (
        path, sizeof path,
        "/Items?IncludeItemTypes=Playlist&Recursive=true&userId=00000000000000000000000000000a0a");
    cr_assert_eq (fk_http (&s_env.fk, "GET", path, auth, NULL, &r), 200);
    cr_expect_eq (json_array_size (json_object_get (r.json, "Items")), 1);
    fk_resp_free (&r);
    snprintf (
        path, sizeof path,
        "/Items?IncludeItemTypes=Playlist&Recursive=true&userId=00000000000000000000000000000b0b");
    cr_assert_eq (fk_http (&s_env.fk, "GET", path, auth, NULL, &r), 200);
    cr_expect_eq (json_array_size (json_object_get (r.json, "Items")), 0);
    fk_resp_free (&r);

    const char *b[] = {a[0], json_string_value (json_array_get (ids, 3)), a[1]};
    cr_assert_eq (sp_medialib_playlist_upsert (s_ml, "Mix", b, 3, &p2, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    cr_expect_str_eq (p2, p1);
    int same = 0;
    json_t *got = s_server_playlist (&s_row, p1, "Mix", &same);
    cr_expect_eq (same, 1);
    cr_assert_eq (json_array_size (got), 3);
    for (i = 0; i < 3; i++)
        cr_expect_str_eq (json_string_value (json_array_get (got, i)), b[i], "#%zu", i);
    json_decref (got);
    //  not a Jellyfin id: refused before any request
    const char *bad[] = {"../Users"};
    char *p3 = NULL;
    cr_expect_eq (sp_medialib_playlist_upsert (s_ml, "Mix", bad, 1, &p3, note, sizeof note),
                  SP_MEDIALIB_ERR);
    cr_expect_null (p3);
    free (p1);
    free (p2);
    json_decref (ids);
}
