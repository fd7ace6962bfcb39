/*  test_medialib_util.h: what the per-backend library tests share (static
    helpers, included by test_medialib_subsonic.c and test_medialib_folder.c):
    the demo fixture's expectations (EXPECTED.md), its Spotify playlist, and
    the check that a library loaded through sp_medialib gives the diff the
    same answers as Plex: the 9 library tracks found (confidence >= 0.8),
    none of the 8 near misses, nothing else.
*/
#ifndef TEST_MEDIALIB_UTIL_H
#define TEST_MEDIALIB_UTIL_H

#include "../../services/analyzer/library.h"
#include "soulpipe/medialib.h"

#include <criterion/criterion.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TU_DEMO_PLAYLIST  "3cEYpjA9oz9GiPac4AsH4n"
#define TU_DEMO_TRACKS    28
#define TU_MAX_POS        64
#define TU_THRESHOLD      0.8
#define TU_DEMO_PLEX_ROOT "/music" /* where the Plex fixture's files live */

typedef struct {
    bool in_library[TU_MAX_POS];
    char plex_path[TU_MAX_POS][256];
    bool near_miss[TU_MAX_POS];
    int n_tracks, n_in_library, n_near_misses;
} tu_expected_t;

//  The demo fixture folder (SOULPIPE_SRC_DIR/tests/fixtures/demo) into buf.
static __attribute__ ((unused)) const char *
tu_demo_dir (char *buf, size_t n)
{
    const char *src = getenv ("SOULPIPE_SRC_DIR");
    snprintf (buf, n, "%s/tests/fixtures/demo", src && *src ? src : ".");
    char probe[600];
    snprintf (probe, sizeof probe, "%s/EXPECTED.md", buf);
    if (access (probe, R_OK) != 0)
        cr_skip_test ("no demo fixture at %s (set SOULPIPE_SRC_DIR)", buf);
    return buf;
}

static __attribute__ ((unused)) void
tu_read_expected (tu_expected_t *x)
{
    char dir[512], path[600];
    tu_demo_dir (dir, sizeof dir);
    snprintf (path, sizeof path, "%s/EXPECTED.md", dir);
    memset (x, 0, sizeof *x);
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "cannot read %s", path);
    char line[2048];
    int pos = 0;
    while (fgets (line, sizeof line, f)) {
        int p;
        if (sscanf (line, "## %d. ", &p) == 1) {
            cr_assert (p > 0 && p < TU_MAX_POS, "%s", line);
            pos = p;
            if (p > x->n_tracks)
                x->n_tracks = p;
            continue;
        }
        if (pos == 0)
            continue;
        if (strncmp (line, "- **skipped (in library)**", 26) == 0) {
            x->in_library[pos] = true;
            x->n_in_library++;
            const char *a = strchr (line, '`');
            const char *b = a ? strchr (a + 1, '`') : NULL;
            cr_assert (b && (size_t) (b - a - 1) < sizeof x->plex_path[pos], "%s", line);
            memcpy (x->plex_path[pos], a + 1, (size_t) (b - a - 1));
            x->plex_path[pos][b - a - 1] = '\0';
        } else if (strncmp (line, "- library near miss, must NOT count", 35) == 0) {
            x->near_miss[pos] = true;
            x->n_near_misses++;
        }
    }
    fclose (f);
    cr_assert_eq (x->n_tracks, TU_DEMO_TRACKS);
    cr_assert_eq (x->n_in_library, 9);
    cr_assert_eq (x->n_near_misses, 8);
}

//  The demo's Plex tracks (tests/fixtures/demo/plex/tracks.json). Caller owns.
static __attribute__ ((unused)) json_t *
tu_demo_plex_tracks (void)
{
    char dir[512], path[600];
    tu_demo_dir (dir, sizeof dir);
    snprintf (path, sizeof path, "%s/plex/tracks.json", dir);
    json_error_t e;
    json_t *t = json_load_file (path, 0, &e);
    cr_assert (json_is_array (t), "%s: %s", path, e.text);
    return t;
}

//  Counting callback + the index the analyzer builds (same mapping as the
//  Plex loader: album artist, track artist).
typedef struct {
    sp_library_t *lib;
    size_t tracks;
    size_t with_id;
} tu_load_t;

static __attribute__ ((unused)) int
tu_add_track (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    tu_load_t *l = arg;
    l->tracks++;
    if (t->item_id && *t->item_id)
        l->with_id++;
    if (l->lib && sp_library_add (l->lib, t->title, t->album_artist, t->artist, t->album,
                                  t->duration_ms, t->path) < 0) {
        snprintf (note, n, "sp_library_add failed");
        return -1;
    }
    return 0;
}

/*  Load ml into a library index and run every track of the demo playlist
    through the diff: exactly the EXPECTED.md library tracks are found, at
    the expected file (its TU_DEMO_PLEX_ROOT prefix replaced by root when
    root is not NULL), and no near miss or other track counts. */
static __attribute__ ((unused)) void
tu_check_demo_diff (sp_medialib_t *ml, const char *root)
{
    tu_expected_t x;
    tu_read_expected (&x);
    tu_load_t l = {.lib = sp_library_new ()};
    cr_assert_not_null (l.lib);
    char note[512] = "";
    int rc = sp_medialib_load (ml, tu_add_track, &l, note, sizeof note);
    cr_assert_eq (rc, SP_MEDIALIB_OK, "%s", note);
    json_t *plex = tu_demo_plex_tracks ();
    cr_expect_eq (l.tracks, json_array_size (plex), "every library track is reported");
    cr_expect_eq (l.with_id, l.tracks, "every track has an item id");
    json_decref (plex);

    char dir[512], path[700];
    tu_demo_dir (dir, sizeof dir);
    snprintf (path, sizeof path, "%s/spotify/playlists/%s.json", dir, TU_DEMO_PLAYLIST);
    json_error_t e;
    json_t *pl = json_load_file (path, 0, &e);
    cr_assert_not_null (pl, "%s: %s", path, e.text);
    json_t *items = json_object_get (json_object_get (pl, "tracks"), "items");
    cr_assert_eq (json_array_size (items), TU_DEMO_TRACKS);
    int found = 0, false_owned = 0;
    for (size_t i = 0; i < json_array_size (items); i++) {
        int pos = (int) i + 1;
        json_t *t = json_object_get (json_array_get (items, i), "track");
        const char *title = json_string_value (json_object_get (t, "name"));
        const char *artists[8];
        size_t na = 0;
        json_t *a;
        size_t k;
        json_array_foreach (json_object_get (t, "artists"), k, a)
        {
            if (na < 8)
                artists[na++] = json_string_value (json_object_get (a, "name"));
        }
        uint64_t dur = (uint64_t) json_integer_value (json_object_get (t, "duration_ms"));
        sp_library_match_t m;
        int hit = sp_library_match (l.lib, title, artists, na, dur, TU_THRESHOLD, &m);
        cr_assert_geq (hit, 0);
        if (x.in_library[pos]) {
            cr_expect_eq (hit, 1, "#%d %s: not found in the library (best %.2f %s)", pos, title,
                          m.confidence, m.why_not);
            if (hit == 1) {
                found++;
                char want[600];
                if (root &&
                    strncmp (x.plex_path[pos], TU_DEMO_PLEX_ROOT, strlen (TU_DEMO_PLEX_ROOT)) == 0)
                    snprintf (want, sizeof want, "%s%s", root,
                              x.plex_path[pos] + strlen (TU_DEMO_PLEX_ROOT));
                else
                    snprintf (want, sizeof want, "%s", x.plex_path[pos]);
                cr_expect_str_eq (m.path, want, "#%d %s", pos, title);
                cr_expect (m.confidence >= TU_THRESHOLD && m.confidence <= 1.0, "#%d: %.2f", pos,
                           m.confidence);
            }
        } else if (hit == 1) {
            false_owned++;
            cr_expect_fail ("#%d %s counted as owned (%s, %.2f)%s", pos, title, m.path,
                            m.confidence, x.near_miss[pos] ? " -- a near miss" : "");
        }
    }
    cr_expect_eq (found, 9);
    cr_expect_eq (false_owned, 0);
    json_decref (pl);
    sp_library_destroy (&l.lib);
}

#endif
