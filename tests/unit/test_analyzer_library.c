/*  test_analyzer_library.c: the library matcher: near-miss spellings must
    match, other songs and other versions must not. */
#include <criterion/criterion.h>

#include "../../services/analyzer/library.h"
#include "../../services/analyzer/source.h"

static sp_library_t *
s_lib (void)
{
    sp_library_t *l = sp_library_new ();
    cr_assert_not_null (l);
    cr_assert_eq (sp_library_add (l, "Halo", "Beyoncé", NULL, "I Am", 261000, "/m/halo.flac"), 0);
    cr_assert_eq (sp_library_add (l, "The Boxer", "Simon and Garfunkel", NULL, "BOTW", 308000,
                                  "/m/boxer.flac"),
                  0);
    cr_assert_eq (sp_library_add (l, "Get Lucky (feat. Pharrell Williams)", "Daft Punk",
                                  "Daft Punk feat. Pharrell Williams", "RAM", 369000,
                                  "/m/lucky.flac"),
                  0);
    cr_assert_eq (
        sp_library_add (l, "Bohemian Rhapsody", "Queen", NULL, "ANATO", 355000, "/m/bohemian.flac"),
        0);
    cr_assert_eq (
        sp_library_add (l, "Hurt", "Nine Inch Nails", NULL, "TDS", 373000, "/m/hurt.flac"), 0);
    cr_assert_eq (
        sp_library_add (l, "Creep", "Radiohead", NULL, "Pablo Honey", 238000, "/m/creep.flac"), 0);
    cr_assert_eq (
        sp_library_add (l, "Yellow", "Coldplay", NULL, "Parachutes", 269000, "/m/yellow.flac"), 0);
    cr_assert_eq (sp_library_size (l), 7);
    return l;
}

static int
s_match (sp_library_t *l, const char *title, const char *artist, uint64_t dur,
         sp_library_match_t *m)
{
    const char *a[] = {artist};
    return sp_library_match (l, title, a, 1, dur, 0.8, m);
}

Test (analyzer_library, near_misses_match)
{
    sp_library_t *l = s_lib ();
    sp_library_match_t m;
    cr_expect_eq (s_match (l, "Halo", "Beyonce", 261000, &m), 1, "accents");
    cr_expect_str_eq (m.path, "/m/halo.flac");
    cr_expect_eq (s_match (l, "The Boxer", "Simon & Garfunkel", 309000, &m), 1, "& vs and");
    cr_expect_eq (
        s_match (l, "Get Lucky (feat. Pharrell Williams & Nile Rodgers)", "Daft Punk", 369000, &m),
        1, "feat.");
    cr_expect_eq (s_match (l, "Bohemian Rhapsody - Remastered 2011", "Queen", 354000, &m), 1,
                  "remaster suffix");
    cr_expect_gt (m.confidence, 0.9);
    cr_expect_eq (s_match (l, "Yellow", "Coldplay", 266000, &m), 1, "3 s shorter");
    cr_expect_eq (s_match (l, "Creep", "Radiohead", 0, &m), 1, "no duration");
    sp_library_destroy (&l);
}

Test (analyzer_library, other_songs_and_versions_do_not_match)
{
    sp_library_t *l = s_lib ();
    sp_library_match_t m;
    cr_expect_eq (s_match (l, "Hurt", "Johnny Cash", 218000, &m), 0, "same title, other song");
    cr_expect_lt (m.confidence, 0.8);
    cr_expect_eq (s_match (l, "Creep", "Stone Temple Pilots", 333000, &m), 0);
    cr_expect_eq (s_match (l, "Bohemian Rhapsody - Live Aid", "Queen", 355000, &m), 0,
                  "live version");
    cr_expect_eq (s_match (l, "Halo - Acoustic", "Beyoncé", 261000, &m), 0, "acoustic");
    cr_expect_eq (s_match (l, "Yellow", "Coldplay", 420000, &m), 0, "far longer: other recording");
    cr_expect_eq (s_match (l, "Not In Library", "Coldplay", 200000, &m), 0);
    cr_expect_eq (m.confidence, 0.0);
    sp_library_destroy (&l);
}

Test (analyzer_source, forms)
{
    sp_source_ref_t s;
    char err[512];
    cr_assert_eq (
        sp_source_parse ("https://open.spotify.com/intl-de/playlist/37i9dQZF1DXcBWIGoYBM5M?si=x",
                         &s, err, sizeof err),
        0, "%s", err);
    cr_expect_eq (s.kind, SP_SOURCE_PLAYLIST);
    cr_expect_str_eq (s.id, "37i9dQZF1DXcBWIGoYBM5M");
    cr_expect_str_eq (s.uri, "spotify:playlist:37i9dQZF1DXcBWIGoYBM5M");
    cr_assert_eq (
        sp_source_parse ("open.spotify.com/album/2noRn2Aes5aoNVsU6iWThc/", &s, err, sizeof err), 0,
        "%s", err);
    cr_expect_eq (s.kind, SP_SOURCE_ALBUM);
    cr_assert_eq (sp_source_parse ("spotify:user:bob:playlist:4iV5W9uYEdYUVa79Axb7Rh", &s, NULL, 0),
                  0);
    cr_expect_eq (s.kind, SP_SOURCE_PLAYLIST);
    cr_assert_eq (sp_source_parse (" 4iV5W9uYEdYUVa79Axb7Rh ", &s, NULL, 0), 0);
    cr_expect_str_eq (s.id, "4iV5W9uYEdYUVa79Axb7Rh");
    cr_assert_eq (sp_source_parse ("Liked", &s, NULL, 0), 0);
    cr_expect_eq (s.kind, SP_SOURCE_LIKED);
    cr_assert_eq (sp_source_parse ("https://open.spotify.com/collection/tracks", &s, NULL, 0), 0);
    cr_expect_eq (s.kind, SP_SOURCE_LIKED);
    cr_assert_eq (sp_source_parse ("text", &s, NULL, 0), 0);
    cr_expect_eq (s.kind, SP_SOURCE_TEXT);
    const char *bad[] = {"",
                         "hello",
                         "https://example.com/playlist/x",
                         "spotify:track:4iV5W9uYEdYUVa79Axb7Rh",
                         "https://open.spotify.com/playlist/../../etc",
                         "spotify:playlist:",
                         "https://open.spotify.com/artist/4iV5W9uYEdYUVa79Axb7Rh"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq (sp_source_parse (bad[i], &s, err, sizeof err), -1, "%s", bad[i]);
        cr_expect (strstr (err, "accepted sources") != NULL, "%s", err);
        cr_expect_eq (s.kind, SP_SOURCE_INVALID);
    }
}
