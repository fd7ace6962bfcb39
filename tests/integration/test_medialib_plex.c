/*  test_medialib_plex.c: the medialib Plex backend against the fake Plex:
    its row of the shared table (test_medialib_table.h), and what only Plex
    does: the rescan scoped to a folder (a pending file elsewhere stays
    unseen), a scan slower than the timeout, playlists edited in place
    (the id stays, the order follows the list, items removed), the
    machineIdentifier in the playlist URI (the fake refuses another).
*/
#include "test_medialib_table.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_TOKEN "demo-plex-token-Zx81q"

typedef struct {
    fk_t fk;
    char url[64];
    char bad_url[64];
} s_env_t;

static s_env_t s_env;

static void
s_write_pending (fk_t *f)
{
    json_t *p =
        json_pack ("[{s:s, s:s, s:s, s:s, s:i, s:[{s:[{s:s}]}]},"
                   " {s:s, s:s, s:s, s:s, s:i, s:[{s:[{s:s}]}]}]",
                   "ratingKey", "77001", "title", TM_NEW_TITLE, "grandparentTitle", TM_NEW_ARTIST,
                   "parentTitle", TM_NEW_ALBUM, "duration", TM_NEW_MS, "Media", "Part", "file",
                   TM_NEW_PATH, "ratingKey", "77002", "title", "Somewhere Else", "grandparentTitle",
                   "Other Artist", "parentTitle", "Other Album", "duration", 100000, "Media",
                   "Part", "file", "/music/Elsewhere/Other Artist/01 - Somewhere Else.flac");
    char *text = json_dumps (p, 0);
    fk_write (f, "plex/pending.json", text);
    free (text);
    json_decref (p);
}

static int
s_start_scan (tm_backend_t *self, sp_medialib_opts_t *opts, int scan_ms)
{
    s_env_t *e = self->env;
    fk_init (&e->fk);
    tm_copy_demo (&e->fk, "plex/token");
    tm_copy_demo (&e->fk, "plex/sections.json");
    tm_copy_demo (&e->fk, "plex/tracks.json");
    s_write_pending (&e->fk);
    char scan[64];
    snprintf (scan, sizeof scan, "{\"scan_ms\": %d}", scan_ms);
    fk_write (&e->fk, "plex/scan.json", scan);
    if (fk_start (&e->fk, NULL) != 0)
        return -1;
    snprintf (e->url, sizeof e->url, "%s", e->fk.base);
    opts->plex_url = e->url;
    opts->plex_token = DEMO_TOKEN;
    return 0;
}

static int
s_start (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    return s_start_scan (self, opts, 400);
}

static void
s_bad_credentials (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    (void) self;
    opts->plex_token = "not-the-token";
}

static void
s_unreachable (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    s_env_t *e = self->env;
    snprintf (e->bad_url, sizeof e->bad_url, "http://127.0.0.1:1");
    opts->plex_url = e->bad_url;
}

static json_t *
s_get (fk_t *f, const char *path)
{
    const char *hdrs[] = {"Accept: application/json", "X-Plex-Token: " DEMO_TOKEN, NULL};
    fk_resp_t r;
    long st = fk_http (f, "GET", path, hdrs, NULL, &r);
    cr_assert_eq (st, 200, "GET %s: %ld %s", path, st, r.body);
    json_t *mc = json_incref (json_object_get (r.json, "MediaContainer"));
    fk_resp_free (&r);
    return mc;
}

static json_t *
s_server_playlist (tm_backend_t *self, const char *id, const char *name, int *same_name)
{
    s_env_t *e = self->env;
    char path[128];
    snprintf (path, sizeof path, "/playlists/%s/items", id);
    json_t *mc = s_get (&e->fk, path);
    json_t *out = json_array ();
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (mc, "Metadata"), i, t)
        json_array_append (out, json_object_get (t, "ratingKey"));
    json_decref (mc);
    mc = s_get (&e->fk, "/playlists");
    *same_name = 0;
    json_array_foreach (json_object_get (mc, "Metadata"), i, t)
    {
        const char *title = json_string_value (json_object_get (t, "title"));
        if (title && strcmp (title, name) == 0)
            (*same_name)++;
    }
    json_decref (mc);
    return out;
}

static void
s_stop (tm_backend_t *self)
{
    s_env_t *e = self->env;
    fk_stop (&e->fk);
}

void
tm_row_plex (tm_backend_t *row)
{
    memset (&s_env, 0, sizeof s_env);
    *row = (tm_backend_t){.name = "plex",
                          .kind = SP_MEDIALIB_PLEX,
                          .paths_as_plex = true,
                          .refused_hint = "check PLEX_TOKEN",
                          .url_var = "PLEX_URL",
                          .env = &s_env,
                          .start = s_start,
                          .bad_credentials = s_bad_credentials,
                          .unreachable = s_unreachable,
                          .server_playlist = s_server_playlist,
                          .stop = s_stop};
}

// ------------------------------------------------------------ Plex only

static tm_backend_t s_row;
static sp_medialib_t *s_ml;

static void
s_fini (void)
{
    sp_medialib_destroy (&s_ml);
    s_stop (&s_row);
}

static void
s_setup (int scan_ms)
{
    tm_row_plex (&s_row);
    sp_medialib_opts_t opts = {.kind = SP_MEDIALIB_PLEX, .poll_ms = 50};
    cr_assert_eq (s_start_scan (&s_row, &opts, scan_ms), 0);
    char note[256];
    s_ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (s_ml, "%s", note);
}

static json_int_t
s_stat (const char *key)
{
    json_t *st = fk_stats (&s_env.fk);
    json_int_t v = json_integer_value (json_object_get (json_object_get (st, "plex"), key));
    json_decref (st);
    return v;
}

Test (medialib_plex, rescan_is_scoped_and_waits_for_the_scan, .fini = s_fini, .timeout = 30)
{
    s_setup (800);
    cr_assert_eq (s_stat ("pending"), 2);
    char note[256];
    double t0 = fk_now_s ();
    int rc = sp_medialib_rescan (s_ml, TM_NEW_DIR, 10000, note, sizeof note);
    double took = fk_now_s () - t0;
    cr_assert_eq (rc, SP_MEDIALIB_OK, "%s", note);
    //  it waited for the scan (800 ms), not returned at the trigger
    cr_expect_geq (took, 0.75, "returned after %.2f s", took);
    //  the file outside the Transfer folder was not scanned in
    cr_expect_eq (s_stat ("pending"), 1);
    char *id = NULL;
    cr_assert_eq (sp_medialib_find_item (s_ml, TM_NEW_PATH, &id, note, sizeof note), SP_MEDIALIB_OK,
                  "%s", note);
    cr_expect_str_eq (id, "77001");
    free (id);
    cr_expect_eq (sp_medialib_find_item (s_ml,
                                         "/music/Elsewhere/Other Artist/01 - Somewhere "
                                         "Else.flac",
                                         &id, note, sizeof note),
                  SP_MEDIALIB_ERR_NOTFOUND);
    cr_expect (strstr (note, "Plex has no track for"), "%s", note);
    json_t *st = fk_stats (&s_env.fk);
    cr_expect_eq (json_integer_value (json_object_get (
                      json_object_get (json_object_get (st, "plex"), "refresh"), "1")),
                  1);
    json_decref (st);
}

Test (medialib_plex, rescan_slower_than_the_timeout_says_so, .fini = s_fini, .timeout = 30)
{
    s_setup (5000);
    char note[256];
    double t0 = fk_now_s ();
    int rc = sp_medialib_rescan (s_ml, TM_NEW_DIR, 700, note, sizeof note);
    cr_expect_eq (rc, SP_MEDIALIB_ERR_TIMEOUT, "%d %s", rc, note);
    cr_expect (strstr (note, "Plex was still scanning after 1 s"), "%s", note);
    cr_expect_lt (fk_now_s () - t0, 3.0);
}

static json_t *
s_items (const char *pid)
{
    char path[128];
    snprintf (path, sizeof path, "/playlists/%s/items", pid);
    json_t *mc = s_get (&s_env.fk, path);
    json_t *out = json_array ();
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (mc, "Metadata"), i, t)
        json_array_append (out, json_object_get (t, "ratingKey"));
    json_decref (mc);
    return out;
}

static void
s_expect_items (const char *pid, const char *const *want, size_t n)
{
    json_t *got = s_items (pid);
    cr_expect_eq (json_array_size (got), n);
    for (size_t i = 0; i < n && i < json_array_size (got); i++)
        cr_expect_str_eq (json_string_value (json_array_get (got, i)), want[i], "#%zu", i);
    json_decref (got);
}

Test (medialib_plex, playlist_is_edited_in_place, .fini = s_fini)
{
    s_setup (0);
    char note[256];
    char *p1 = NULL, *p2 = NULL, *p3 = NULL;
    const char *a[] = {"10007", "10014", "10021"};
    cr_assert_eq (sp_medialib_playlist_upsert (s_ml, "Mix", a, 3, &p1, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    s_expect_items (p1, a, 3);
    //  reordered, one dropped, one added: same playlist
    const char *b[] = {"10007", "10021", "10014"};
    cr_assert_eq (sp_medialib_playlist_upsert (s_ml, "Mix", b, 3, &p2, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    cr_expect_str_eq (p2, p1);
    s_expect_items (p1, b, 3);
    const char *c[] = {"10021"};
    cr_assert_eq (sp_medialib_playlist_upsert (s_ml, "Mix", c, 1, &p3, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    cr_expect_str_eq (p3, p1);
    s_expect_items (p1, c, 1);
    cr_expect_eq (s_stat ("playlists"), 1);
    //  an id the server does not have is the server's 400, said as such
    const char *bad[] = {"99999999"};
    char *p4 = NULL;
    cr_expect_eq (sp_medialib_playlist_upsert (s_ml, "Other", bad, 1, &p4, note, sizeof note),
                  SP_MEDIALIB_ERR);
    cr_expect (strstr (note, "Plex answered HTTP 400 while creating a playlist"), "%s", note);
    cr_expect_null (p4);
    cr_expect_eq (s_stat ("playlists"), 1);
    free (p1);
    free (p2);
    free (p3);
}

Test (medialib_plex, a_long_playlist_goes_in_chunks_in_order, .fini = s_fini, .timeout = 60)
{
    s_setup (0);
    //  the demo library has a few dozen tracks: repeat them to 250 items
    json_t *mc = s_get (&s_env.fk, "/library/sections/1/all?type=10");
    json_t *md = json_object_get (mc, "Metadata");
    size_t have = json_array_size (md);
    cr_assert_gt (have, 5);
    const char *ids[250];
    for (size_t i = 0; i < 250; i++)
        ids[i] = json_string_value (json_object_get (json_array_get (md, i % have), "ratingKey"));
    char note[256];
    char *pid = NULL;
    cr_assert_eq (sp_medialib_playlist_upsert (s_ml, "Long", ids, 250, &pid, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    s_expect_items (pid, ids, 250);
    free (pid);
    json_decref (mc);
}

static int
s_count_tracks (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    (void) note;
    (void) n;
    size_t *count = arg;
    if (t->item_id && t->path && t->title)
        (*count)++;
    return 0;
}

Test (medialib_plex, ten_thousand_tracks_over_pages, .fini = s_fini, .timeout = 60)
{
    tm_row_plex (&s_row);
    fk_init (&s_env.fk);
    fk_write (&s_env.fk, "plex/token", DEMO_TOKEN "\n");
    json_t *tracks = json_array ();
    for (int i = 0; i < 10500; i++) {
        char title[64], file[128], key[16];
        snprintf (title, sizeof title, "Song %05d", i);
        snprintf (file, sizeof file, "/music/Gen/%03d/%05d.flac", i % 997, i);
        snprintf (key, sizeof key, "%d", 200000 + i);
        json_array_append_new (
            tracks, json_pack ("{s:s, s:s, s:s, s:s, s:i, s:[{s:[{s:s}]}]}", "ratingKey", key,
                               "title", title, "grandparentTitle", "Gen Artist", "parentTitle",
                               "Gen Album", "duration", 180000 + i, "Media", "Part", "file", file));
    }
    char *text = json_dumps (tracks, 0);
    fk_write (&s_env.fk, "plex/tracks.json", text);
    free (text);
    json_decref (tracks);
    cr_assert_eq (fk_start (&s_env.fk, NULL), 0);
    sp_medialib_opts_t opts = {
        .kind = SP_MEDIALIB_PLEX, .plex_url = s_env.fk.base, .plex_token = DEMO_TOKEN};
    char note[256];
    s_ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (s_ml, "%s", note);
    size_t count = 0;
    double t0 = fk_now_s ();
    cr_assert_eq (sp_medialib_load (s_ml, s_count_tracks, &count, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    cr_log_info ("plex load of %zu tracks: %.3f s", count, fk_now_s () - t0);
    cr_expect_eq (count, 10500);
    json_t *st = fk_stats (&s_env.fk);
    json_int_t pages = json_integer_value (
        json_object_get (json_object_get (st, "requests"), "GET /library/sections/1/all"));
    cr_expect_eq (pages, 6, "%lld pages", (long long) pages);
    json_decref (st);
}

Test (medialib_plex, pages_without_total_size_are_all_read, .fini = s_fini, .timeout = 60)
{
    tm_row_plex (&s_row);
    fk_init (&s_env.fk);
    fk_write (&s_env.fk, "plex/token", DEMO_TOKEN "\n");
    json_t *tracks = json_array ();
    for (int i = 0; i < 10500; i++) {
        char title[64], file[128], key[16];
        snprintf (title, sizeof title, "Song %05d", i);
        snprintf (file, sizeof file, "/music/Gen/%03d/%05d.flac", i % 997, i);
        snprintf (key, sizeof key, "%d", 200000 + i);
        json_array_append_new (
            tracks, json_pack ("{s:s, s:s, s:s, s:s, s:i, s:[{s:[{s:s}]}]}", "ratingKey", key,
                               "title", title, "grandparentTitle", "Gen Artist", "parentTitle",
                               "Gen Album", "duration", 180000 + i, "Media", "Part", "file", file));
    }
    char *text = json_dumps (tracks, 0);
    fk_write (&s_env.fk, "plex/tracks.json", text);
    free (text);
    json_decref (tracks);
    //  no totalSize in the MediaContainer: a full page means ask again
    fk_write (&s_env.fk, "plex/scan.json", "{\"total_size\": false}");
    cr_assert_eq (fk_start (&s_env.fk, NULL), 0);
    sp_medialib_opts_t opts = {
        .kind = SP_MEDIALIB_PLEX, .plex_url = s_env.fk.base, .plex_token = DEMO_TOKEN};
    char note[256];
    s_ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (s_ml, "%s", note);
    size_t count = 0;
    double t0 = fk_now_s ();
    cr_assert_eq (sp_medialib_load (s_ml, s_count_tracks, &count, note, sizeof note),
                  SP_MEDIALIB_OK, "%s", note);
    cr_log_info ("plex load of %zu tracks: %.3f s", count, fk_now_s () - t0);
    cr_expect_eq (count, 10500);
    json_t *st = fk_stats (&s_env.fk);
    json_int_t pages = json_integer_value (
        json_object_get (json_object_get (st, "requests"), "GET /library/sections/1/all"));
    cr_expect_eq (pages, 6, "%lld pages", (long long) pages);
    json_decref (st);
}
