/*  test_medialib_table.c: the test table every library backend passes (see
    test_medialib_table.h), plus the choosing of a backend from the
    environment's values (sp_medialib_kind_choose).
*/
#include "test_medialib_table.h"

#include "../../services/analyzer/library.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_PLAYLIST "3cEYpjA9oz9GiPac4AsH4n"
#define DEMO_TRACKS   28
#define MAX_POS       64
#define THRESHOLD     0.8

const char *
tm_demo_dir (void)
{
    static char dir[1024];
    const char *src = getenv ("SOULPIPE_SRC_DIR");
    snprintf (dir, sizeof dir, "%s/tests/fixtures/demo", src && *src ? src : ".");
    return dir;
}

void
tm_copy_demo (fk_t *f, const char *rel)
{
    char path[1200];
    snprintf (path, sizeof path, "%s/%s", tm_demo_dir (), rel);
    FILE *in = fopen (path, "rb");
    cr_assert_not_null (in, "cannot read %s", path);
    fseek (in, 0, SEEK_END);
    long len = ftell (in);
    fseek (in, 0, SEEK_SET);
    char *text = malloc ((size_t) len + 1);
    cr_assert_not_null (text);
    cr_assert_eq (fread (text, 1, (size_t) len, in), (size_t) len);
    text[len] = '\0';
    fclose (in);
    fk_write (f, rel, text);
    free (text);
}

// ------------------------------------------------------------ the demo

typedef struct {
    char title[256];
    const char *artists[8];
    char artist_text[8][128];
    size_t n_artists;
    uint64_t duration_ms;
} s_want_t;

typedef struct {
    s_want_t want[MAX_POS];    //  1-based positions
    int n;                     //  tracks in the playlist
    bool in_library[MAX_POS];  //  EXPECTED.md: skipped (in library)
    char path[MAX_POS][256];   //  ...with this Plex file
    int n_in_library, n_near_misses;
} s_demo_t;

static void
s_read_demo (s_demo_t *d)
{
    memset (d, 0, sizeof *d);
    char path[1200];
    snprintf (path, sizeof path, "%s/spotify/playlists/%s.json", tm_demo_dir (), DEMO_PLAYLIST);
    json_error_t jerr;
    json_t *pl = json_load_file (path, 0, &jerr);
    cr_assert_not_null (pl, "%s: %s", path, jerr.text);
    json_t *items = json_object_get (json_object_get (pl, "tracks"), "items");
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it)
    {
        cr_assert (i + 1 < MAX_POS);
        s_want_t *w = &d->want[i + 1];
        json_t *t = json_object_get (it, "track");
        snprintf (w->title, sizeof w->title, "%s", json_string_value (json_object_get (t, "name")));
        size_t k;
        json_t *a;
        json_array_foreach (json_object_get (t, "artists"), k, a)
        {
            if (w->n_artists == 8)
                break;
            snprintf (w->artist_text[w->n_artists], sizeof w->artist_text[0], "%s",
                      json_string_value (json_object_get (a, "name")));
            w->artists[w->n_artists] = w->artist_text[w->n_artists];
            w->n_artists++;
        }
        w->duration_ms = (uint64_t) json_integer_value (json_object_get (t, "duration_ms"));
        d->n = (int) i + 1;
    }
    json_decref (pl);
    cr_assert_eq (d->n, DEMO_TRACKS);

    snprintf (path, sizeof path, "%s/EXPECTED.md", tm_demo_dir ());
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "cannot read %s", path);
    char line[2048];
    int pos = 0;
    while (fgets (line, sizeof line, f)) {
        int p;
        if (sscanf (line, "## %d. ", &p) == 1) {
            cr_assert (p > 0 && p < MAX_POS);
            pos = p;
        } else if (pos && strncmp (line, "- **skipped (in library)**", 26) == 0) {
            d->in_library[pos] = true;
            d->n_in_library++;
            const char *a = strchr (line, '`');
            const char *b = a ? strchr (a + 1, '`') : NULL;
            cr_assert (b && (size_t) (b - a - 1) < sizeof d->path[pos], "%s", line);
            memcpy (d->path[pos], a + 1, (size_t) (b - a - 1));
        } else if (pos && strncmp (line, "- library near miss, must NOT count", 35) == 0)
            d->n_near_misses++;
    }
    fclose (f);
    cr_assert_eq (d->n_in_library, 9);
    cr_assert_eq (d->n_near_misses, 8);
}

// ------------------------------------------------------------ loading

typedef struct {
    sp_library_t *lib;
    json_t *ids;    //  path -> item id
    size_t tracks;  //  reported
    size_t no_id;   //  reported without an item id
} s_index_t;

static int
s_add (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    s_index_t *x = arg;
    cr_assert_not_null (t->title);
    x->tracks++;
    if (!t->item_id || !*t->item_id)
        x->no_id++;
    if (t->path && t->item_id)
        json_object_set_new (x->ids, t->path, json_string (t->item_id));
    if (sp_library_add (x->lib, t->title, t->album_artist, t->artist, t->album, t->duration_ms,
                        t->path) < 0) {
        snprintf (note, n, "out of memory");
        return -1;
    }
    return 0;
}

static int
s_load (sp_medialib_t *ml, s_index_t *x, char *note, size_t n)
{
    x->lib = sp_library_new ();
    x->ids = json_object ();
    x->tracks = x->no_id = 0;
    cr_assert_not_null (x->lib);
    return sp_medialib_load (ml, s_add, x, note, n);
}

static void
s_index_free (s_index_t *x)
{
    sp_library_destroy (&x->lib);
    json_decref (x->ids);
    x->ids = NULL;
}

// ------------------------------------------------------------ the table

static tm_backend_t s_row;

static void
s_fini (void)
{
    if (s_row.stop)
        s_row.stop (&s_row);
}

static void
s_get_row (sp_medialib_kind_t kind, sp_medialib_opts_t *opts)
{
    void (*fn) (tm_backend_t *) = NULL;
    switch (kind) {
        case SP_MEDIALIB_PLEX:
            fn = tm_row_plex;
            break;
        case SP_MEDIALIB_JELLYFIN:
            fn = tm_row_jellyfin;
            break;
        case SP_MEDIALIB_SUBSONIC:
            fn = tm_row_subsonic;
            break;
        case SP_MEDIALIB_FOLDER:
            fn = tm_row_folder;
            break;
        default:
            break;
    }
    memset (&s_row, 0, sizeof s_row);
    if (!fn)
        cr_skip_test ("the %s backend has no row in this build", sp_medialib_kind_name (kind));
    fn (&s_row);
    cr_assert_eq (s_row.kind, kind);
    memset (opts, 0, sizeof *opts);
    opts->kind = kind;
    opts->poll_ms = 50;
    opts->retries = 1;
    cr_assert_eq (s_row.start (&s_row, opts), 0, "%s: start failed", s_row.name);
}

static void
s_demo_diff (sp_medialib_kind_t kind)
{
    s_demo_t demo;
    s_read_demo (&demo);
    sp_medialib_opts_t opts;
    s_get_row (kind, &opts);
    char note[512];
    int err = 0;
    sp_medialib_t *ml = sp_medialib_new (&opts, &err, note, sizeof note);
    cr_assert_not_null (ml, "%s: %s", s_row.name, note);
    cr_assert (sp_medialib_caps (ml) & SP_MEDIALIB_CAN_LOAD);
    s_index_t x;
    int rc = s_load (ml, &x, note, sizeof note);
    cr_assert_eq (rc, SP_MEDIALIB_OK, "%s: %s", s_row.name, note);
    cr_assert_gt (x.tracks, 9);
    cr_expect_eq (x.no_id, 0, "%s: %zu tracks without an item id", s_row.name, x.no_id);
    int owned = 0, false_owned = 0, missed = 0;
    for (int pos = 1; pos <= demo.n; pos++) {
        s_want_t *w = &demo.want[pos];
        sp_library_match_t m;
        int mr = sp_library_match (x.lib, w->title, w->artists, w->n_artists, w->duration_ms,
                                   THRESHOLD, &m);
        cr_assert_geq (mr, 0);
        if (mr == 1) {
            owned++;
            if (!demo.in_library[pos])
                false_owned++;
            else if (s_row.paths_as_plex)
                cr_expect_str_eq (m.path, demo.path[pos], "%s #%d", s_row.name, pos);
        } else if (demo.in_library[pos])
            missed++;
        cr_expect_eq (mr == 1, demo.in_library[pos], "%s #%d %s: confidence %.2f (%s)", s_row.name,
                      pos, w->title, m.confidence, m.why_not);
    }
    cr_expect_eq (owned, 9, "%s", s_row.name);
    cr_expect_eq (false_owned, 0, "%s", s_row.name);
    cr_expect_eq (missed, 0, "%s", s_row.name);
    s_index_free (&x);
    sp_medialib_destroy (&ml);
}

static void
s_refused (sp_medialib_kind_t kind)
{
    sp_medialib_opts_t opts;
    s_get_row (kind, &opts);
    if (!s_row.bad_credentials)
        cr_skip_test ("%s has no credentials", s_row.name);
    s_row.bad_credentials (&s_row, &opts);
    char note[512];
    sp_medialib_t *ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (ml, "%s: %s", s_row.name, note);
    s_index_t x;
    int rc = s_load (ml, &x, note, sizeof note);
    cr_expect_eq (rc, SP_MEDIALIB_ERR_REFUSED, "%s: %d %s", s_row.name, rc, note);
    cr_expect (strstr (note, s_row.refused_hint) != NULL, "%s: %s", s_row.name, note);
    cr_expect (strstr (note, "refused") != NULL, "%s: %s", s_row.name, note);
    s_index_free (&x);
    sp_medialib_destroy (&ml);
}

static void
s_unreachable (sp_medialib_kind_t kind)
{
    sp_medialib_opts_t opts;
    s_get_row (kind, &opts);
    if (!s_row.unreachable)
        cr_skip_test ("%s has no server", s_row.name);
    s_row.unreachable (&s_row, &opts);
    opts.connect_timeout_ms = 1000;
    char note[512];
    sp_medialib_t *ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (ml, "%s: %s", s_row.name, note);
    s_index_t x;
    double t0 = fk_now_s ();
    int rc = s_load (ml, &x, note, sizeof note);
    cr_expect_eq (rc, SP_MEDIALIB_ERR_UNREACHABLE, "%s: %d %s", s_row.name, rc, note);
    cr_expect (strstr (note, "unreachable") != NULL, "%s: %s", s_row.name, note);
    cr_expect (strstr (note, s_row.url_var) != NULL, "%s: %s", s_row.name, note);
    cr_expect (strstr (note, "127.0.0.1") != NULL, "%s: %s", s_row.name, note);
    cr_expect_lt (fk_now_s () - t0, 10.0, "a down library must not hold a submit long");
    cr_expect_eq (x.tracks, 0);
    s_index_free (&x);
    sp_medialib_destroy (&ml);
}

//  The new file as this row's library holds it.
static const char *
s_new_path (void)
{
    return s_row.new_path ? s_row.new_path : TM_NEW_PATH;
}

static void
s_rescan_playlist (sp_medialib_kind_t kind)
{
    s_demo_t demo;
    s_read_demo (&demo);
    sp_medialib_opts_t opts;
    s_get_row (kind, &opts);
    char note[512];
    sp_medialib_t *ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (ml, "%s: %s", s_row.name, note);
    unsigned caps = sp_medialib_caps (ml);
    if (!(caps & SP_MEDIALIB_CAN_PLAYLIST))
        cr_skip_test ("%s makes no playlists", s_row.name);
    char *id = NULL;
    //  before the rescan a backend that needs one does not know the file
    if (caps & SP_MEDIALIB_RESCAN_NEEDED) {
        cr_expect_eq (sp_medialib_find_item (ml, s_new_path (), &id, note, sizeof note),
                      SP_MEDIALIB_ERR_NOTFOUND, "%s: %s", s_row.name, note);
        free (id);
        id = NULL;
    }
    int rc = sp_medialib_rescan (ml, s_row.new_dir ? s_row.new_dir : TM_NEW_DIR, 20000, note,
                                 sizeof note);
    cr_assert_eq (rc, SP_MEDIALIB_OK, "%s: %s", s_row.name, note);
    rc = sp_medialib_find_item (ml, s_new_path (), &id, note, sizeof note);
    cr_assert_eq (rc, SP_MEDIALIB_OK, "%s: %s", s_row.name, note);
    cr_assert_not_null (id);

    //  the owned tracks in playlist order, the new download at its place
    //  (after track 5), a failed one simply left out
    s_index_t x;
    cr_assert_eq (s_load (ml, &x, note, sizeof note), SP_MEDIALIB_OK, "%s", note);
    const char *want[MAX_POS];
    size_t nw = 0;
    for (int pos = 1; pos <= demo.n; pos++) {
        s_want_t *w = &demo.want[pos];
        sp_library_match_t m;
        if (sp_library_match (x.lib, w->title, w->artists, w->n_artists, w->duration_ms, THRESHOLD,
                              &m) == 1) {
            const char *iid = json_string_value (json_object_get (x.ids, m.path));
            cr_assert_not_null (iid, "%s: no id for %s", s_row.name, m.path);
            want[nw++] = iid;
        }
        if (pos == 5)
            want[nw++] = id;
    }
    cr_assert_eq (nw, 10);
    char *pid1 = NULL, *pid2 = NULL;
    rc = sp_medialib_playlist_upsert (ml, TM_PLAYLIST, want, nw, &pid1, note, sizeof note);
    cr_assert_eq (rc, SP_MEDIALIB_OK, "%s: %s", s_row.name, note);
    cr_assert_not_null (pid1);
    int same = 0;
    json_t *got = s_row.server_playlist (&s_row, pid1, TM_PLAYLIST, &same);
    cr_assert_eq (json_array_size (got), nw, "%s", s_row.name);
    for (size_t i = 0; i < nw; i++)
        cr_expect_str_eq (json_string_value (json_array_get (got, i)), want[i], "%s #%zu",
                          s_row.name, i);
    cr_expect_eq (same, 1);
    json_decref (got);

    //  run twice (a fresh client, as the next job would): one playlist, same id
    sp_medialib_destroy (&ml);
    ml = sp_medialib_new (&opts, NULL, note, sizeof note);
    cr_assert_not_null (ml);
    rc = sp_medialib_playlist_upsert (ml, TM_PLAYLIST, want, nw, &pid2, note, sizeof note);
    cr_assert_eq (rc, SP_MEDIALIB_OK, "%s: %s", s_row.name, note);
    if (caps & SP_MEDIALIB_CAN_PLAYLIST_KEEP)
        cr_expect_str_eq (pid2, pid1, "%s", s_row.name);
    got = s_row.server_playlist (&s_row, pid2, TM_PLAYLIST, &same);
    cr_expect_eq (json_array_size (got), nw, "%s", s_row.name);
    for (size_t i = 0; i < nw && i < json_array_size (got); i++)
        cr_expect_str_eq (json_string_value (json_array_get (got, i)), want[i]);
    cr_expect_eq (same, 1, "%s: %d playlists called %s", s_row.name, same, TM_PLAYLIST);
    json_decref (got);
    free (pid1);
    free (pid2);
    free (id);
    s_index_free (&x);
    sp_medialib_destroy (&ml);
}

#define TM_TESTS(kname, KIND)                                                                      \
    Test (medialib_table, kname##_demo_diff, .fini = s_fini)                                       \
    {                                                                                              \
        s_demo_diff (KIND);                                                                        \
    }                                                                                              \
    Test (medialib_table, kname##_refused, .fini = s_fini)                                         \
    {                                                                                              \
        s_refused (KIND);                                                                          \
    }                                                                                              \
    Test (medialib_table, kname##_unreachable, .fini = s_fini)                                     \
    {                                                                                              \
        s_unreachable (KIND);                                                                      \
    }                                                                                              \
    Test (medialib_table, kname##_rescan_playlist, .fini = s_fini, .timeout = 60)                  \
    {                                                                                              \
        s_rescan_playlist (KIND);                                                                  \
    }

TM_TESTS (plex, SP_MEDIALIB_PLEX)
TM_TESTS (jellyfin, SP_MEDIALIB_JELLYFIN)
TM_TESTS (subsonic, SP_MEDIALIB_SUBSONIC)
TM_TESTS (folder, SP_MEDIALIB_FOLDER)

// ------------------------------------------------------------ choosing

Test (medialib_table, choose_kind)
{
    sp_medialib_kind_t k = SP_MEDIALIB_FOLDER;
    char note[256];
    cr_assert_eq (sp_medialib_kind_choose (NULL, NULL, NULL, NULL, NULL, &k, note, sizeof note), 0);
    cr_expect_eq (k, SP_MEDIALIB_NONE);
    cr_assert_eq (
        sp_medialib_kind_choose ("", "", "http://jf:8096", NULL, NULL, &k, note, sizeof note), 0);
    cr_expect_eq (k, SP_MEDIALIB_JELLYFIN);
    cr_expect_str_eq (note, "");
    cr_assert_eq (sp_medialib_kind_choose (NULL, NULL, NULL, "http://nd:4533", "/music", &k, note,
                                           sizeof note),
                  0);
    cr_expect_eq (k, SP_MEDIALIB_SUBSONIC);
    cr_expect (strstr (note, "SOULPIPE_LIBRARY_DIR is ignored"), "%s", note);
    cr_assert_eq (sp_medialib_kind_choose (NULL, NULL, NULL, NULL, "/music", &k, note, sizeof note),
                  0);
    cr_expect_eq (k, SP_MEDIALIB_FOLDER);
    //  an explicit choice wins over the URLs set
    cr_assert_eq (sp_medialib_kind_choose ("Navidrome", "http://plex:32400", NULL, NULL, NULL, &k,
                                           note, sizeof note),
                  0);
    cr_expect_eq (k, SP_MEDIALIB_SUBSONIC);
    cr_assert_eq (sp_medialib_kind_choose ("none", "http://plex:32400", NULL, NULL, NULL, &k, note,
                                           sizeof note),
                  0);
    cr_expect_eq (k, SP_MEDIALIB_NONE);
    cr_expect_eq (sp_medialib_kind_choose ("emby", NULL, NULL, NULL, NULL, &k, note, sizeof note),
                  -1);
    cr_expect (strstr (note, "SOULPIPE_LIBRARY=emby") && strstr (note, "navidrome"), "%s", note);
    cr_expect_str_eq (sp_medialib_kind_name (SP_MEDIALIB_JELLYFIN), "jellyfin");
}

Test (medialib_table, none_and_missing_options)
{
    char note[256];
    int err = 0;
    sp_medialib_opts_t opts = {.kind = SP_MEDIALIB_NONE};
    sp_medialib_t *ml = sp_medialib_new (&opts, &err, note, sizeof note);
    cr_assert_not_null (ml);
    cr_expect_eq (sp_medialib_rescan (ml, "/music", 1000, note, sizeof note), SP_MEDIALIB_OK);
    char *id = (char *) "x";
    cr_expect_eq (sp_medialib_find_item (ml, "/music/a.flac", &id, note, sizeof note),
                  SP_MEDIALIB_ERR_NOTFOUND);
    cr_expect_null (id);
    const char *ids[] = {"1"};
    cr_expect_eq (sp_medialib_playlist_upsert (ml, "p", ids, 1, &id, note, sizeof note),
                  SP_MEDIALIB_ERR_UNSUPPORTED);
    cr_expect_eq (sp_medialib_caps (ml) & SP_MEDIALIB_CAN_PLAYLIST, 0);
    sp_medialib_destroy (&ml);
    cr_expect_null (ml);
    sp_medialib_destroy (&ml);

    opts.kind = SP_MEDIALIB_PLEX;
    cr_expect_null (sp_medialib_new (&opts, &err, note, sizeof note));
    cr_expect_eq (err, SP_MEDIALIB_ERR_CONFIG);
    cr_expect (strstr (note, "PLEX_URL"), "%s", note);
    opts.kind = SP_MEDIALIB_JELLYFIN;
    opts.jellyfin_url = "http://127.0.0.1:1";
    cr_expect_null (sp_medialib_new (&opts, &err, note, sizeof note));
    cr_expect (strstr (note, "JELLYFIN_API_KEY"), "%s", note);
    opts.jellyfin_api_key = "k";
    opts.jellyfin_user_id = "not/an/id";
    cr_expect_null (sp_medialib_new (&opts, &err, note, sizeof note));
    cr_expect (strstr (note, "JELLYFIN_USER_ID"), "%s", note);
}
