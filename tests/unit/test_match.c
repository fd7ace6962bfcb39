/*  Unit tests of match.c: remote-path parsing, every hard filter and the
    ranking rules, with realistic Soulseek paths. */
#include "soulpipe/match.h"
#include "soulpipe/title.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static sp_track_t *
s_track (const char *title, const char *artists, const char *album, int duration_s)
{
    sp_track_t *t = calloc (1, sizeof *t);
    t->title = strdup (title);
    char *copy = strdup (artists);
    t->artists = calloc (8, sizeof (char *));
    for (char *tok = strtok (copy, "|"); tok && t->artists_count < 8; tok = strtok (NULL, "|"))
        t->artists[t->artists_count++] = strdup (tok);
    free (copy);
    if (album)
        t->album = strdup (album);
    if (duration_s > 0) {
        t->has_duration_ms = true;
        t->duration_ms = (uint64_t) duration_s * 1000;
    }
    t->playlist = strdup ("p");
    return t;
}

static void
s_track_free (sp_track_t *t)
{
    sp_track_clear (t);
    free (t);
}

static void
s_add (sp_match_set_t *set, const char *user, const char *path, int length, int bitrate, int vbr)
{
    sp_match_result_t r;
    memset (&r, 0, sizeof r);
    r.username = (char *) user;
    r.filename = (char *) path;
    r.size = 30000000;
    r.length = length;
    r.bitrate = bitrate;
    r.bitdepth = bitrate < 0 ? 16 : -1;
    r.samplerate = 44100;
    r.vbr = vbr;
    r.free_slot = 1;
    r.queue = 0;
    r.speed = 1000000;
    cr_assert_eq (sp_match_set_add (set, &r), 0, "add %s", path);
}

//  Rank results for a track; returns the set (caller destroys).
static sp_match_set_t *
s_rank (sp_track_t *t, sp_match_set_t *set)
{
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    sp_match_track_t *mt = sp_match_track_new (t);
    cr_assert_not_null (mt);
    sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0);
    sp_match_track_destroy (&mt);
    return set;
}

// ---------------------------------------------------------------- paths

Test (match, path_windows_disc_year_format)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse (
                      "@@user\\Music\\Artist\\Album (2019) [FLAC]\\CD2\\03 - Title.flac", &p),
                  0);
    cr_assert_str_eq (p.ext, "flac");
    cr_assert_str_eq (p.artist, "Artist");
    cr_assert_str_eq (p.album, "Album");
    cr_assert_str_eq (p.title, "Title");
    cr_assert_eq (p.disc, 2);
    cr_assert_eq (p.track, 3);
    cr_assert_eq (p.year, 2019);
}

Test (match, path_unix_year_album)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse (
                      "music/Queen/1975 - A Night at the Opera/11 Bohemian Rhapsody.mp3", &p),
                  0);
    cr_assert_str_eq (p.artist, "Queen");
    cr_assert_str_eq (p.album, "A Night at the Opera");
    cr_assert_str_eq (p.title, "Bohemian Rhapsody");
    cr_assert_eq (p.track, 11);
    cr_assert_eq (p.year, 1975);
}

Test (match, path_artist_dash_title_unnumbered)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse ("@@x\\Downloads\\Queen - Bohemian Rhapsody.MP3", &p), 0);
    cr_assert_str_eq (p.ext, "mp3");
    cr_assert_str_eq (p.artist, "Queen");
    cr_assert_str_eq (p.title, "Bohemian Rhapsody");
    cr_assert_eq (p.track, 0);
}

Test (match, path_dot_number_and_remaster)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse ("@@x\\The Beatles - Abbey Road (Remastered 2009)\\07. Here "
                                        "Comes The Sun (Remastered 2009).flac",
                                        &p),
                  0);
    cr_assert_str_eq (p.artist, "The Beatles");
    cr_assert_str_eq (p.album_norm, "abbey road");
    cr_assert_str_eq (p.title_norm[0], "here comes the sun");
    cr_assert_eq (p.track, 7);
    cr_assert (p.kinds & SP_TITLE_REMASTER);
}

Test (match, path_disc_track_and_number_segment)
{
    sp_remote_path_t p;
    cr_assert_eq (
        sp_remote_path_parse ("@@x\\VA\\Now 90\\1-03 Artist - Title (Radio Edit).mp3", &p), 0);
    cr_assert_eq (p.disc, 1);
    cr_assert_eq (p.track, 3);
    cr_assert_str_eq (p.artist, "Artist");
    cr_assert_str_eq (p.title, "Title");
    cr_assert (p.kinds & SP_TITLE_EDIT);
    cr_assert_eq (sp_remote_path_parse ("@@x\\Artist - Album - 03 - Title.mp3", &p), 0);
    cr_assert_eq (p.track, 3);
    cr_assert_str_eq (p.title_norm[2], "title");
}

Test (match, path_keeps_leading_number_of_title)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse ("@@x\\Ariana Grande\\thank u, next\\7 Rings.mp3", &p), 0);
    cr_assert_str_eq (p.title_norm[0], "7 rings");
    cr_assert_eq (p.track, 0);
    cr_assert_eq (sp_remote_path_parse ("@@x\\Ariana Grande\\thank u, next\\10 - 7 Rings.mp3", &p),
                  0);
    cr_assert_eq (p.track, 10);
    cr_assert_str_eq (p.title_norm[0], "7 rings");
}

Test (match, path_accented_nfd_nonlatin)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse ("@@x\\Bj\xc3\xb6rk\\Homogenic\\02 J\xc3\xb3ga.flac", &p),
                  0);
    cr_assert_str_eq (p.artist_norm, "bjork");
    cr_assert_str_eq (p.title_norm[0], "joga");
    //  NFD: o + combining diaeresis
    cr_assert_eq (sp_remote_path_parse ("@@x\\Bjo\xcc\x88rk\\Homogenic\\02 Jo\xcc\x81ga.flac", &p),
                  0);
    cr_assert_str_eq (p.artist_norm, "bjork");
    cr_assert_str_eq (p.title_norm[0], "joga");
    cr_assert_eq (sp_remote_path_parse ("C:"
                                        "\\Music\\\xe5\xae\x87\xe5\xa4\x9a\xe7\x94\xb0\xe3\x83\x92"
                                        "\xe3\x82\xab\xe3\x83\xab\\First Love\\01 Automatic.flac",
                                        &p),
                  0);
    cr_assert_str_eq (p.artist,
                      "\xe5\xae\x87\xe5\xa4\x9a\xe7\x94\xb0\xe3\x83\x92\xe3\x82\xab\xe3\x83\xab");
    cr_assert_eq (p.track, 1);
}

Test (match, path_vinyl_and_brackets)
{
    sp_remote_path_t p;
    cr_assert_eq (
        sp_remote_path_parse ("@@x\\Pink Floyd\\Animals [Vinyl 24-96]\\B2. Dogs.flac", &p), 0);
    cr_assert_str_eq (p.album, "Animals");
    cr_assert_eq (p.track, 2);
    cr_assert_str_eq (p.title, "Dogs");
    cr_assert_eq (sp_remote_path_parse (
                      "@@x\\Pink Floyd\\Animals\\[03] Pigs (Three Different Ones).flac", &p),
                  0);
    cr_assert_eq (p.track, 3);
}

Test (match, path_folder_descriptors)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse (
                      "@@x\\Nirvana\\MTV Unplugged in New York\\01 - About a Girl.flac", &p),
                  0);
    cr_assert (p.folder_kinds & SP_TITLE_UNPLUGGED);
    cr_assert_eq (p.kinds & SP_TITLE_HARD_MASK, 0);
}

Test (match, path_bad_input)
{
    sp_remote_path_t p;
    cr_assert_eq (sp_remote_path_parse (NULL, &p), -1);
    cr_assert_eq (sp_remote_path_parse ("", &p), -1);
    cr_assert_eq (sp_remote_path_parse ("\\\\\\", &p), -1);
    cr_assert_eq (sp_remote_path_parse ("@@x\\bad \xff\xfe.mp3", &p), -1);
}

// ---------------------------------------------------------------- filters

static sp_match_reject_t
s_one (const char *title, const char *artists, const char *album, int dur, const char *path,
       int length, int bitrate, int vbr)
{
    sp_track_t *t = s_track (title, artists, album, dur);
    sp_match_set_t *set = sp_match_set_new ();
    s_add (set, "u", path, length, bitrate, vbr);
    s_rank (t, set);
    sp_match_reject_t why = sp_match_set_get (set, 0)->reject;
    sp_match_set_destroy (&set);
    s_track_free (t);
    return why;
}

Test (match, filter_audio_extension)
{
    cr_assert_eq (s_one ("Help!", "The Beatles", "Help!", 140,
                         "@@x\\The Beatles\\Help!\\01 Help!.flac", 140, -1, -1),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Help!", "The Beatles", "Help!", 140,
                         "@@x\\The Beatles\\Help!\\01 Help!.jpg", 140, -1, -1),
                  SP_MATCH_REJ_NOT_AUDIO);
    cr_assert_eq (s_one ("Help!", "The Beatles", "Help!", 140, "@@x\\The Beatles\\Help!\\01 Help!",
                         140, -1, -1),
                  SP_MATCH_REJ_NOT_AUDIO);
    cr_assert_eq (s_one ("Help!", "The Beatles", "Help!", 140,
                         "@@x\\The Beatles\\Help!\\01 Help!.wma", 140, 320, 0),
                  SP_MATCH_REJ_FORMAT);
}

Test (match, filter_length_tolerance)
{
    const char *p = "@@x\\Queen\\A Night at the Opera\\11 Bohemian Rhapsody.flac";
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", "A Night at the Opera", 355, p, 358, -1, -1),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", "A Night at the Opera", 355, p, 352, -1, -1),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", "A Night at the Opera", 355, p, 359, -1, -1),
                  SP_MATCH_REJ_LENGTH);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", "A Night at the Opera", 355, p, 300, -1, -1),
                  SP_MATCH_REJ_LENGTH);
    //  unknown length on either side: not a reason to reject
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", "A Night at the Opera", 355, p, -1, -1, -1),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", "A Night at the Opera", 0, p, 300, -1, -1),
                  SP_MATCH_OK);
}

Test (match, filter_bitrate)
{
    const char *p = "@@x\\Queen\\A Night at the Opera\\11 Bohemian Rhapsody.mp3";
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", NULL, 355, p, 355, 320, 0), SP_MATCH_OK);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", NULL, 355, p, 355, 256, 0), SP_MATCH_OK);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", NULL, 355, p, 355, 192, 0),
                  SP_MATCH_REJ_BITRATE);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", NULL, 355, p, 355, 128, -1),
                  SP_MATCH_REJ_BITRATE);
    //  V0-class VBR
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", NULL, 355, p, 355, 245, 1), SP_MATCH_OK);
    cr_assert_eq (s_one ("Bohemian Rhapsody", "Queen", NULL, 355, p, 355, 190, 1),
                  SP_MATCH_REJ_BITRATE);
}

Test (match, filter_title)
{
    cr_assert_eq (s_one ("Yesterday", "The Beatles", NULL, 125,
                         "@@x\\The Beatles\\Help!\\13 - Yesterday.flac", 125, -1, -1),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Yesterday", "The Beatles", NULL, 125,
                         "@@x\\The Beatles\\Help!\\13 - Yesterday Once More.flac", 125, -1, -1),
                  SP_MATCH_REJ_TITLE);
    //  "Here Comes The Sun - Remastered 2009" matches an unremastered file
    cr_assert_eq (s_one ("Here Comes The Sun - Remastered 2009", "The Beatles",
                         "Abbey Road (Remastered)", 185,
                         "@@x\\Beatles\\Abbey Road\\07 Here Comes The Sun.mp3", 186, 320, 0),
                  SP_MATCH_OK);
}

Test (match, filter_version)
{
    cr_assert_eq (s_one ("Numb", "Linkin Park", "Meteora", 187,
                         "@@x\\Linkin Park\\Meteora\\13 Numb (Live).flac", 187, -1, -1),
                  SP_MATCH_REJ_VERSION);
    cr_assert_eq (s_one ("Numb", "Linkin Park", "Meteora", 187,
                         "@@x\\Linkin Park\\Live at Milton Keynes\\05 Numb.flac", 187, -1, -1),
                  SP_MATCH_REJ_VERSION);
    cr_assert_eq (s_one ("Numb - Live", "Linkin Park", NULL, 187,
                         "@@x\\Linkin Park\\Meteora\\13 Numb.flac", 187, -1, -1),
                  SP_MATCH_REJ_VERSION);
    cr_assert_eq (s_one ("Numb - Live", "Linkin Park", NULL, 187,
                         "@@x\\Linkin Park\\Live in Texas\\05 Numb.flac", 187, -1, -1),
                  SP_MATCH_OK);
    //  the Spotify album says it is the unplugged set
    cr_assert_eq (s_one ("About a Girl", "Nirvana", "MTV Unplugged In New York", 217,
                         "@@x\\Nirvana\\MTV Unplugged in New York\\01 - About a Girl.flac", 217, -1,
                         -1),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("About a Girl", "Nirvana", "MTV Unplugged In New York", 217,
                         "@@x\\Nirvana\\Bleach\\03 - About a Girl.flac", 217, -1, -1),
                  SP_MATCH_REJ_VERSION);
    cr_assert_eq (s_one ("Levels", "Avicii", NULL, 200, "@@x\\Avicii\\Levels (Skrillex Remix).mp3",
                         200, 320, 0),
                  SP_MATCH_REJ_VERSION);
    cr_assert_eq (s_one ("Levels - Skrillex Remix", "Avicii", NULL, 200,
                         "@@x\\Avicii\\Levels (Skrillex Remix).mp3", 200, 320, 0),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Levels - Skrillex Remix", "Avicii", NULL, 200,
                         "@@x\\Avicii\\Levels (Tiesto Remix).mp3", 200, 320, 0),
                  SP_MATCH_REJ_VERSION);
    cr_assert_eq (
        s_one (
            "Shake It Off", "Taylor Swift", NULL, 219,
            "@@x\\Taylor Swift\\1989 (Taylor's Version)\\06 Shake It Off (Taylor's Version).flac",
            219, -1, -1),
        SP_MATCH_REJ_VERSION);
    cr_assert_eq (s_one ("Hello", "Adele", NULL, 295,
                         "@@x\\Karaoke Hits\\Hello (Karaoke Version).mp3", 295, 320, 0),
                  SP_MATCH_REJ_VERSION);
    cr_assert_eq (s_one ("Comfortably Numb - Pt. 2", "Pink Floyd", NULL, 380,
                         "@@x\\Pink Floyd\\Comfortably Numb Part 1.flac", 380, -1, -1),
                  SP_MATCH_REJ_VERSION);
}

Test (match, filter_artist)
{
    cr_assert_eq (s_one ("Hurt", "Johnny Cash", NULL, 218,
                         "@@x\\Nine Inch Nails\\The Downward Spiral\\14 Hurt.flac", 218, -1, -1),
                  SP_MATCH_REJ_ARTIST);
    cr_assert_eq (s_one ("Hurt", "Johnny Cash", NULL, 218,
                         "@@x\\Johnny Cash\\American IV\\02 Hurt.flac", 218, -1, -1),
                  SP_MATCH_OK);
    //  second credited artist, "AC/DC" spelled ACDC, "The" left out
    cr_assert_eq (s_one ("Under Pressure", "Queen|David Bowie", NULL, 248,
                         "@@x\\David Bowie\\Best of\\Under Pressure.mp3", 248, 320, 0),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Back In Black", "AC/DC", NULL, 255,
                         "@@x\\ACDC\\Back in Black\\06 Back in Black.mp3", 255, 320, 0),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("Come Together", "The Beatles", NULL, 259,
                         "@@x\\Beatles\\Abbey Road\\01 Come Together.mp3", 259, 320, 0),
                  SP_MATCH_OK);
    cr_assert_eq (s_one ("J\xc3\xb3ga", "Bj\xc3\xb6rk", NULL, 305,
                         "@@x\\Bjork\\Homogenic\\02 Joga.flac", 305, -1, -1),
                  SP_MATCH_OK);
}

Test (match, filter_excluded_and_peer)
{
    sp_track_t *t = s_track ("Help!", "The Beatles", NULL, 140);
    sp_match_track_t *mt = sp_match_track_new (t);
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    sp_match_set_t *set = sp_match_set_new ();
    s_add (set, "bad", "@@x\\The Beatles\\Help!\\01 Help!.flac", 140, -1, -1);
    s_add (set, "good", "@@y\\The Beatles\\Help!\\01 Help!.flac", 140, -1, -1);
    const char *ex[] = {"bad"};
    cr_assert_eq (sp_match_set_rank (set, mt, &prefs, ex, 1, NULL, NULL, 0), 1);
    cr_assert_str_eq (sp_match_set_get (set, 0)->username, "good");
    cr_assert_eq (sp_match_set_get (set, 1)->reject, SP_MATCH_REJ_EXCLUDED);
    //  a peer with 3 failures in a row, the last one a minute ago
    sp_peer_t blocked = {.known = true, .fail = 3, .streak = 3, .last_fail_ms = 1000000};
    sp_match_result_t *r = sp_match_set_get (set, 0);
    cr_assert_eq (sp_match_score (mt, &prefs, r, &blocked, 1060000), SP_MATCH_REJ_PEER);
    //  two hours later it gets another chance
    cr_assert_eq (sp_match_score (mt, &prefs, r, &blocked, 1000000 + 2 * 3600 * 1000), SP_MATCH_OK);
    sp_match_set_destroy (&set);
    sp_match_track_destroy (&mt);
    s_track_free (t);
}

Test (match, filter_lossy_not_allowed)
{
    sp_track_t *t = s_track ("Help!", "The Beatles", NULL, 140);
    sp_match_track_t *mt = sp_match_track_new (t);
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    prefs.allow_lossy = false;
    sp_match_set_t *set = sp_match_set_new ();
    s_add (set, "a", "@@x\\The Beatles\\Help!\\01 Help!.mp3", 140, 320, 0);
    cr_assert_eq (sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0), 0);
    cr_assert_eq (sp_match_set_get (set, 0)->reject, SP_MATCH_REJ_FORMAT);
    char buf[128];
    cr_assert_str_eq (sp_match_reason (sp_match_set_get (set, 0), &prefs, mt, buf, sizeof buf),
                      "lossy mp3 not allowed");
    sp_match_set_destroy (&set);
    sp_match_track_destroy (&mt);
    s_track_free (t);
}

// ---------------------------------------------------------------- ranking

Test (match, rank_prefers_lossless_then_bitrate_then_peer)
{
    sp_track_t *t = s_track ("Help!", "The Beatles", "Help!", 140);
    sp_match_set_t *set = sp_match_set_new ();
    s_add (set, "mp3_320", "@@a\\The Beatles\\Help!\\01 Help!.mp3", 140, 320, 0);
    s_add (set, "mp3_256", "@@b\\The Beatles\\Help!\\01 Help!.mp3", 140, 256, 0);
    s_add (set, "flac", "@@c\\The Beatles\\Help!\\01 Help!.flac", 140, -1, -1);
    s_rank (t, set);
    cr_assert_str_eq (sp_match_set_get (set, 0)->username, "flac");
    cr_assert_str_eq (sp_match_set_get (set, 1)->username, "mp3_320");
    cr_assert_str_eq (sp_match_set_get (set, 2)->username, "mp3_256");
    sp_match_set_destroy (&set);

    //  same file: free slot and short queue win
    set = sp_match_set_new ();
    sp_match_result_t r;
    memset (&r, 0, sizeof r);
    r.filename = "@@a\\The Beatles\\Help!\\01 Help!.flac";
    r.length = 140;
    r.bitrate = -1;
    r.bitdepth = 16;
    r.samplerate = 44100;
    r.vbr = -1;
    r.username = "busy";
    r.free_slot = 0;
    r.queue = 50;
    r.speed = 100000;
    sp_match_set_add (set, &r);
    r.username = "free";
    r.free_slot = 1;
    r.queue = 0;
    r.speed = 5000000;
    sp_match_set_add (set, &r);
    s_rank (t, set);
    cr_assert_str_eq (sp_match_set_get (set, 0)->username, "free");
    sp_match_set_destroy (&set);
    s_track_free (t);
}

Test (match, rank_match_quality_beats_format)
{
    //  the album copy with the right length beats a compilation mp3 and a
    //  flac that is 3 s off
    sp_track_t *t = s_track ("Help!", "The Beatles", "Help!", 140);
    t->has_track_number = true;
    t->track_number = 1;
    sp_match_set_t *set = sp_match_set_new ();
    s_add (set, "album", "@@a\\The Beatles\\1965 - Help!\\01 - Help!.mp3", 140, 320, 0);
    s_add (set, "comp", "@@b\\VA\\Sixties Hits\\14 - The Beatles - Help!.mp3", 138, 320, 0);
    s_rank (t, set);
    cr_assert_str_eq (sp_match_set_get (set, 0)->username, "album");
    cr_assert_gt (sp_match_set_get (set, 0)->score, sp_match_set_get (set, 1)->score);
    sp_match_set_destroy (&set);
    s_track_free (t);
}

Test (match, rank_peer_record)
{
    sp_track_t *t = s_track ("Help!", "The Beatles", "Help!", 140);
    sp_match_track_t *mt = sp_match_track_new (t);
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    sp_match_set_t *set = sp_match_set_new ();
    s_add (set, "a", "@@a\\The Beatles\\Help!\\01 Help!.flac", 140, -1, -1);
    sp_match_result_t *r = sp_match_set_get (set, 0);
    sp_peer_t good = {.known = true, .ok = 10};
    sp_peer_t bad = {.known = true, .ok = 1, .fail = 5, .streak = 1, .last_fail_ms = 5};
    sp_match_score (mt, &prefs, r, &good, 10);
    double s_good = r->score;
    sp_match_score (mt, &prefs, r, NULL, 10);
    double s_none = r->score;
    sp_match_score (mt, &prefs, r, &bad, 10);
    double s_bad = r->score;
    cr_assert_gt (s_good, s_none);
    cr_assert_gt (s_none, s_bad);
    sp_match_set_destroy (&set);
    sp_match_track_destroy (&mt);
    s_track_free (t);
}

Test (match, rank_deterministic_ties_and_payload)
{
    sp_track_t *t = s_track ("Help!", "The Beatles", "Help!", 140);
    sp_match_set_t *set = sp_match_set_new ();
    const char *users[] = {"zed", "amy", "kim", "amy", "bob", "amy"};
    char path[128];
    for (size_t i = 0; i < 6; i++) {
        snprintf (path, sizeof path, "@@%zu\\The Beatles\\Help!\\01 Help!.flac", i);
        s_add (set, users[i], path, 140, -1, -1);
    }
    s_rank (t, set);
    cr_assert_str_eq (sp_match_set_get (set, 0)->username, "amy");
    cr_assert_str_eq (sp_match_set_get (set, 1)->username, "amy");
    cr_assert_str_eq (sp_match_set_get (set, 3)->username, "bob");
    cr_assert_str_eq (sp_match_set_get (set, 5)->username, "zed");
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    sp_payload_t *pl = sp_payload_new ();
    cr_assert_eq (sp_match_set_to_payload (set, &prefs, pl), 5);  //  amy only twice
    //  the best file of each user first (distinct users), then amy's second
    const char *want[] = {"amy", "bob", "kim", "zed", "amy"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq (pl->candidates[i].username, want[i], "candidate %zu", i);
    cr_assert_str_eq (pl->candidates[0].filename, sp_match_set_get (set, 0)->filename);
    cr_assert_str_eq (pl->candidates[4].filename, sp_match_set_get (set, 1)->filename);
    cr_assert (pl->candidates[0].score > 0);
    sp_payload_destroy (&pl);
    sp_match_set_destroy (&set);
    s_track_free (t);
}

//  match.h: the first candidates come from distinct users, even when one
//  user has the best several files (the downloader moves on to another user
//  after a failed transfer, so a user's second file in the first places
//  would cost a fallback).
Test (match, payload_distinct_users_first)
{
    sp_track_t *t = s_track ("Help!", "The Beatles", "Help!", 140);
    sp_match_set_t *set = sp_match_set_new ();
    //  amy's three FLACs rank above bob's and cal's MP3s
    s_add (set, "amy", "@@a\\The Beatles\\Help!\\01 Help!.flac", 140, -1, -1);
    s_add (set, "amy", "@@a\\The Beatles\\Help! (2009)\\01 Help!.flac", 140, -1, -1);
    s_add (set, "amy", "@@a\\Beatles\\Help!\\01 - Help!.flac", 140, -1, -1);
    s_add (set, "bob", "@@b\\The Beatles\\Help!\\01 Help!.mp3", 140, 320, 0);
    s_add (set, "bob", "@@b\\The Beatles\\Help! [2]\\01 Help!.mp3", 140, 320, 0);
    s_add (set, "cal", "@@c\\The Beatles\\Help!\\01 Help!.mp3", 140, 256, 0);
    s_rank (t, set);
    cr_assert_eq (sp_match_set_accepted (set), 6);
    for (size_t i = 0; i < 3; i++)
        cr_assert_str_eq (sp_match_set_get (set, i)->username, "amy", "rank %zu", i);

    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    prefs.max_candidates = 3;
    sp_payload_t *pl = sp_payload_new ();
    cr_assert_eq (sp_match_set_to_payload (set, &prefs, pl), 3);
    cr_assert_str_eq (pl->candidates[0].username, "amy");
    cr_assert_str_eq (pl->candidates[0].filename, sp_match_set_get (set, 0)->filename);
    cr_assert_str_eq (pl->candidates[1].username, "bob");
    cr_assert_str_eq (pl->candidates[2].username, "cal");
    sp_payload_destroy (&pl);

    //  room for more: then the further files in rank order, per-user cap 3
    prefs.max_candidates = 10;
    prefs.max_per_user = 3;
    pl = sp_payload_new ();
    cr_assert_eq (sp_match_set_to_payload (set, &prefs, pl), 6);
    const char *want[] = {"amy", "bob", "cal", "amy", "amy", "bob"};
    for (size_t i = 0; i < 6; i++)
        cr_assert_str_eq (pl->candidates[i].username, want[i], "candidate %zu", i);
    cr_assert_str_eq (pl->candidates[3].filename, sp_match_set_get (set, 1)->filename);
    cr_assert_str_eq (pl->candidates[4].filename, sp_match_set_get (set, 2)->filename);
    //  and each file at most once
    for (size_t i = 0; i < 6; i++)
        for (size_t j = i + 1; j < 6; j++)
            cr_assert (strcmp (pl->candidates[i].filename, pl->candidates[j].filename) != 0 ||
                       strcmp (pl->candidates[i].username, pl->candidates[j].username) != 0);
    sp_payload_destroy (&pl);
    sp_match_set_destroy (&set);
    s_track_free (t);
}

Test (match, summary_counts_reasons)
{
    sp_track_t *t = s_track ("Numb", "Linkin Park", "Meteora", 187);
    sp_match_set_t *set = sp_match_set_new ();
    s_add (set, "a", "@@a\\Linkin Park\\Live\\Numb (Live).flac", 187, -1, -1);
    s_add (set, "b", "@@b\\Linkin Park\\Numb (Live at Rock am Ring).flac", 187, -1, -1);
    s_add (set, "c", "@@c\\Linkin Park\\Meteora\\13 Numb.mp3", 187, 128, 0);
    s_add (set, "d", "@@d\\Linkin Park\\Meteora\\13 Numb.flac", 230, -1, -1);
    s_rank (t, set);
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    char buf[256];
    sp_match_set_summary (set, &prefs, buf, sizeof buf);
    cr_assert_str_eq (buf, "4 results: 2 live versions, 1 below 256 kbps, 1 wrong length");
    sp_match_set_destroy (&set);
    s_track_free (t);
}

Test (match, responses_json)
{
    json_error_t err;
    json_t *j = json_loads (
        "[{\"username\":\"peer1\",\"hasFreeUploadSlot\":true,\"uploadSpeed\":1048576,"
        "\"queueLength\":0,\"files\":[{\"filename\":\"@@music\\\\Queen\\\\1975 - A Night at the "
        "Opera [FLAC]\\\\11 - Bohemian Rhapsody.flac\","
        "\"size\":31457280,\"extension\":\"\",\"bitDepth\":16,\"sampleRate\":44100,\"length\":355}]"
        ","
        "\"lockedFiles\":[{\"filename\":\"@@m\\\\x.flac\"}]},{\"files\":[]},{\"username\":\"p2\"}]",
        0, &err);
    cr_assert_not_null (j, "%s", err.text);
    sp_match_set_t *set = sp_match_set_new ();
    cr_assert_eq (sp_match_set_add_responses (set, j), 1);
    sp_match_result_t *r = sp_match_set_get (set, 0);
    cr_assert_str_eq (r->path.ext, "flac");
    cr_assert_eq (r->bitrate, -1);
    cr_assert_eq (r->length, 355);
    cr_assert_eq (r->free_slot, 1);
    json_t *obj = json_object ();
    cr_assert_eq (sp_match_set_add_responses (set, obj), -1);
    json_decref (obj);
    json_decref (j);
    sp_match_set_destroy (&set);
}

Test (match, prefs_formats)
{
    sp_match_prefs_t p;
    sp_match_prefs_default (&p);
    cr_assert_eq (p.formats_count, 4);
    cr_assert_eq (sp_match_prefs_set_formats (&p, " .FLAC, opus"), 0);
    cr_assert_eq (p.formats_count, 2);
    cr_assert_str_eq (p.formats[1], "opus");
    cr_assert_eq (sp_match_prefs_set_formats (&p, "flac,exe"), -1);
    cr_assert_eq (p.formats_count, 2);
}
