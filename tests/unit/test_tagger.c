/*  test_tagger.c: the tagger's folder layout (album tracks, singles,
    compilations, hostile names, collision suffixes), the m3u8 renderer, and
    sp_tagger_process without Redis: filing, re-delivery, collisions, the
    cover cache, and failures (corrupt, unsupported, injected midway) that
    must leave Transfer empty and the staged file intact.
*/
#include "../../services/tagger/tagger.h"
#include "../fakes/audio.h"
#include "soulpipe/path.h"
#include "soulpipe/tags.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_root[64], s_staging[128], s_transfer[128];

static void
s_setup (void)
{
    strcpy (s_root, "/tmp/sp-tagger-XXXXXX");
    cr_assert_not_null (mkdtemp (s_root));
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_root);
    snprintf (s_transfer, sizeof s_transfer, "%s/Transfer", s_root);
    cr_assert_eq (mkdir (s_staging, 0755), 0);
    cr_assert_eq (mkdir (s_transfer, 0755), 0);
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_root);
    cr_assert_eq (system (cmd), 0);
}

TestSuite (tagger, .init = s_setup, .fini = s_teardown);

static char *s_artists1[] = {"Bonnie Tyler"};
static char *s_artists2[] = {"Queen", "David Bowie"};
static char *s_acdc[] = {"AC/DC"};

static sp_track_t
s_track (void)
{
    sp_track_t t = {
        .spotify_id = "7lQqaqZu0vjxzpdATOIsDt",
        .title = "Holding Out for a Hero",
        .artists = s_artists1,
        .artists_count = 1,
        .album = "Secret Dreams and Forbidden Fire",
        .album_id = "1z0NjwTJEOvQ9Y3wkQcxKL",
        .album_type = "album",
        .album_artists = s_artists1,
        .album_artists_count = 1,
        .release_date = "1986",
        .date_precision = "year",
        .has_track_number = true,
        .track_number = 3,
        .has_track_total = true,
        .track_total = 8,
        .has_disc_number = true,
        .disc_number = 1,
        .has_duration_ms = true,
        .duration_ms = 30000,
        .isrc = "GBBBN8600001",
        .playlist = "Road Trip Classics",
    };
    return t;
}

// ------------------------------------------------------------ layout

Test (tagger, layout_album_track)
{
    sp_track_t t = s_track ();
    sp_tagger_layout_t l;
    cr_assert_eq (sp_tagger_layout (&t, "FLAC", NULL, &l), 0);
    cr_expect_str_eq (l.playlist, "Road Trip Classics");
    cr_expect_str_eq (l.artist, "Bonnie Tyler");
    cr_expect_str_eq (l.album, "Bonnie Tyler - Secret Dreams and Forbidden Fire");
    cr_expect_str_eq (l.file, "03 - Holding Out for a Hero.flac");
    cr_expect_not (l.single);
    sp_tagger_layout_clear (&l);
    cr_expect_null (l.file);
}

Test (tagger, layout_single_and_no_album)
{
    sp_track_t t = s_track ();
    t.album_type = "single";
    t.album = "Holding Out for a Hero";
    sp_tagger_layout_t l;
    cr_assert_eq (sp_tagger_layout (&t, "mp3", NULL, &l), 0);
    cr_expect (l.single);
    cr_expect_str_eq (l.album, "Bonnie Tyler - Holding Out for a Hero");
    cr_expect_str_eq (l.file, "Holding Out for a Hero.mp3");
    sp_tagger_layout_clear (&l);
    t.album_type = NULL;
    t.album = NULL;
    cr_assert_eq (sp_tagger_layout (&t, "mp3", NULL, &l), 0);
    cr_expect (l.single);
    sp_tagger_layout_clear (&l);
}

Test (tagger, layout_compilation_uses_track_artist)
{
    sp_track_t t = s_track ();
    char *va[] = {"Various Artists"};
    t.album_artists = va;
    t.artists = s_artists2;
    t.artists_count = 2;
    t.album = "Now 80s";
    sp_tagger_layout_t l;
    cr_assert_eq (sp_tagger_layout (&t, "ogg", NULL, &l), 0);
    cr_expect_str_eq (l.artist, "Queen");
    cr_expect_str_eq (l.album, "Queen - Now 80s");
    sp_tagger_layout_clear (&l);
    //  album type compilation with a named album artist: still the track's
    t.album_artists = s_artists1;
    t.album_type = "compilation";
    cr_assert_eq (sp_tagger_layout (&t, "ogg", NULL, &l), 0);
    cr_expect_str_eq (l.artist, "Queen");
    sp_tagger_layout_clear (&l);
    //  a normal album by several artists: the album's first artist
    t.album_type = "album";
    t.album_artists = s_artists2 + 1;
    t.album_artists_count = 1;
    cr_assert_eq (sp_tagger_layout (&t, "ogg", NULL, &l), 0);
    cr_expect_str_eq (l.artist, "David Bowie");
    sp_tagger_layout_clear (&l);
}

static void
s_expect_safe (const sp_tagger_layout_t *l)
{
    const char *parts[] = {l->playlist, l->artist, l->album, l->file};
    for (int i = 0; i < 4; i++) {
        cr_expect (sp_path_is_safe (parts[i]), "unsafe component \"%s\"", parts[i]);
        cr_expect_leq (strlen (parts[i]), 255u);
        cr_expect_null (strchr (parts[i], '/'));
        cr_expect_neq (parts[i][strlen (parts[i]) - 1], '.');
    }
    char *joined = NULL;
    cr_expect_eq (sp_path_join ("/T", parts, 4, &joined), SP_PATH_OK);
    free (joined);
}

Test (tagger, layout_hostile_names)
{
    sp_track_t t = s_track ();
    t.playlist = "../../etc";
    t.album_artists = s_acdc;
    t.artists = s_acdc;
    t.album = "Back in Black...";
    t.title = "CON";
    sp_tagger_layout_t l;
    cr_assert_eq (sp_tagger_layout (&t, "flac", NULL, &l), 0);
    s_expect_safe (&l);
    cr_expect_str_eq (l.playlist, "_.._etc");  //  one harmless component
    cr_expect_str_eq (l.artist, "AC_DC");
    cr_expect_str_eq (l.album, "AC_DC - Back in Black");
    cr_expect_str_eq (l.file, "03 - CON.flac");
    sp_tagger_layout_clear (&l);

    //  a reserved name alone (a single called CON by an artist called NUL.)
    char *nul[] = {"NUL."};
    t.artists = nul;
    t.album_artists = nul;
    t.album_type = "single";
    cr_assert_eq (sp_tagger_layout (&t, "flac", NULL, &l), 0);
    s_expect_safe (&l);
    cr_expect_str_eq (l.artist, "_NUL");
    cr_expect_str_eq (l.file, "_CON.flac");
    sp_tagger_layout_clear (&l);

    //  300-byte title (multi-byte), with and without a suffix
    char title[400] = "";
    for (int i = 0; i < 100; i++)
        strcat (title, "é");  //  2 bytes each
    for (int i = 0; i < 100; i++)
        strcat (title, "x");
    t.title = title;
    t.album_type = "album";
    cr_assert_eq (sp_tagger_layout (&t, "flac", NULL, &l), 0);
    s_expect_safe (&l);
    cr_expect_eq (strcmp (l.file + strlen (l.file) - 5, ".flac"), 0, "%s", l.file);
    sp_tagger_layout_clear (&l);
    cr_assert_eq (sp_tagger_layout (&t, "flac", " [7lQqaqZu0vjxzpdATOIsDt]", &l), 0);
    s_expect_safe (&l);
    cr_expect_not_null (strstr (l.file, " [7lQqaqZu0vjxzpdATOIsDt].flac"), "%s", l.file);
    cr_expect_leq (strlen (l.file), 255u);
    sp_tagger_layout_clear (&l);

    //  trailing dots and spaces, control characters, an evil extension
    t.title = "Trailing. . .";
    t.playlist = "Mix\n\t ";
    cr_assert_eq (sp_tagger_layout (&t, "../FL AC", NULL, &l), 0);
    s_expect_safe (&l);
    cr_expect_str_eq (l.file, "03 - Trailing.flac");
    cr_expect_str_eq (l.playlist, "Mix");
    sp_tagger_layout_clear (&l);
}

Test (tagger, layout_bad_input)
{
    sp_track_t t = s_track ();
    sp_tagger_layout_t l;
    cr_expect_eq (sp_tagger_layout (&t, "", NULL, &l), -1);
    cr_expect_eq (sp_tagger_layout (&t, "...", NULL, &l), -1);
    t.playlist = NULL;
    cr_expect_eq (sp_tagger_layout (&t, "flac", NULL, &l), -1);
    cr_expect_eq (sp_tagger_layout (NULL, "flac", NULL, &l), -1);
    cr_expect_eq (sp_tagger_layout (&t, "flac", NULL, NULL), -1);
}

// ------------------------------------------------------------ m3u8

Test (tagger, m3u8_render)
{
    sp_tagger_m3u8_entry_t e[] = {
        {"done", "Hero", "Bonnie Tyler", "/T/Road/Bonnie Tyler/B - S/03 - Hero.flac", NULL, 30,
         true},
        {"skipped", "Africa", "Toto", "/music/Toto/Africa.flac", NULL, -1, false},
        {"failed", "Evil\nLine", "X", NULL, "no source found", -1, false},
        {"searching", "Later", "Y, Z", NULL, NULL, -1, false},
    };
    char *text = sp_tagger_m3u8_render ("Road", "/T/Road", e, 4);
    cr_assert_not_null (text);
    cr_expect_str_eq (text, "#EXTM3U\n#PLAYLIST:Road\n"
                            "#EXTINF:30,Bonnie Tyler - Hero\n"
                            "Bonnie Tyler/B - S/03 - Hero.flac\n"
                            "# 2. Toto - Africa (in library: /music/Toto/Africa.flac)\n"
                            "# 3. X - Evil Line (failed: no source found)\n"
                            "# 4. Y, Z - Later (searching)\n");
    free (text);
}

// ------------------------------------------------------------ process

static sp_tagger_t *
s_tagger (void)
{
    sp_tagger_opts_t o = {
        .transfer_dir = s_transfer, .staging_dir = s_staging, .embed_cover = true};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    return tg;
}

static char *
s_stage (const char *name, const char *ext, bool corrupt)
{
    char path[512];
    snprintf (path, sizeof path, "%s/%s.%s", s_staging, name, ext);
    cr_assert_eq (sp_fake_audio_write (path, ext, 30, 0, corrupt, NULL), 0);
    return strdup (path);
}

static void
s_payload (sp_payload_t *p, const sp_track_t *t, char *staged)
{
    memset (p, 0, sizeof *p);
    cr_assert_eq (sp_track_copy (&p->track, t), SP_MSG_OK);
    p->staged_path = staged;
}

static void
s_payload_clear (sp_payload_t *p)
{
    sp_track_clear (&p->track);
    free (p->staged_path);
    memset (p, 0, sizeof *p);
}

static int
s_count_files (const char *dir)
{
    char cmd[300];
    snprintf (cmd, sizeof cmd, "find '%s' -mindepth 1 | wc -l", dir);
    FILE *fp = popen (cmd, "r");
    cr_assert_not_null (fp);
    int n = -1;
    cr_assert_eq (fscanf (fp, "%d", &n), 1);
    pclose (fp);
    return n;
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0;
}

Test (tagger, files_an_album_track)
{
    sp_tagger_t *tg = s_tagger ();
    sp_track_t t = s_track ();
    sp_payload_t p;
    char *staged = s_stage ("dl1", "flac", false);
    char staged_copy[512];
    snprintf (staged_copy, sizeof staged_copy, "%s", staged);
    s_payload (&p, &t, staged);
    char reason[256];
    bool retry = true;
    int rc = sp_tagger_process (tg, &p, reason, sizeof reason, &retry);
    cr_assert_eq (rc, 0, "%s", reason);
    char want[600];
    snprintf (want, sizeof want,
              "%s/Road Trip Classics/Bonnie Tyler/Bonnie Tyler - Secret Dreams and Forbidden "
              "Fire/03 - Holding Out for a Hero.flac",
              s_transfer);
    cr_expect_str_eq (p.staged_path, want);
    cr_expect (s_exists (want));
    cr_expect_not (s_exists (staged_copy), "staged file should be gone");
    char *v = sp_tags_get1 (want, "SPOTIFY_TRACK_ID");
    cr_expect_str_eq (v, "7lQqaqZu0vjxzpdATOIsDt");
    free (v);
    v = sp_tags_get1 (want, "ISRC");
    cr_expect_str_eq (v, "GBBBN8600001");
    free (v);
    v = sp_tags_get1 (want, "TITLE");
    cr_expect_str_eq (v, "Holding Out for a Hero");
    free (v);
    //  no temp files left
    cr_expect_eq (s_count_files (s_transfer), 4, "playlist, artist, album, file");
    s_payload_clear (&p);

    //  The same track delivered again: recognized, not written twice.
    s_payload (&p, &t, s_stage ("dl1-again", "flac", false));
    rc = sp_tagger_process (tg, &p, reason, sizeof reason, &retry);
    cr_assert_eq (rc, 0, "%s", reason);
    cr_expect_str_eq (p.staged_path, want);
    cr_expect_eq (s_count_files (s_transfer), 4);
    cr_expect_eq (s_count_files (s_staging), 0, "re-delivered staged file removed");
    s_payload_clear (&p);

    //  A re-run after the staged file was already moved (lost done): same path.
    char gone[512];
    snprintf (gone, sizeof gone, "%s/dl1.flac", s_staging);
    s_payload (&p, &t, strdup (gone));
    rc = sp_tagger_process (tg, &p, reason, sizeof reason, &retry);
    cr_assert_eq (rc, 0, "%s", reason);
    cr_expect_str_eq (p.staged_path, want);
    s_payload_clear (&p);

    //  A different track with the same number and title: a deterministic suffix.
    t.spotify_id = "0000000000000000000002";
    s_payload (&p, &t, s_stage ("dl2", "flac", false));
    rc = sp_tagger_process (tg, &p, reason, sizeof reason, &retry);
    cr_assert_eq (rc, 0, "%s", reason);
    cr_expect_not_null (
        strstr (p.staged_path, "03 - Holding Out for a Hero [0000000000000000000002].flac"), "%s",
        p.staged_path);
    s_payload_clear (&p);
    //  a third one gets its own id suffix; without ids: " (2)"
    t.spotify_id = "0000000000000000000003";
    s_payload (&p, &t, s_stage ("dl3", "flac", false));
    cr_assert_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), 0, "%s", reason);
    cr_expect_not_null (
        strstr (p.staged_path, "03 - Holding Out for a Hero [0000000000000000000003].flac"), "%s",
        p.staged_path);
    s_payload_clear (&p);
    t.spotify_id = NULL;
    t.artists = s_artists2;  //  same album folder and name, different track
    t.artists_count = 2;
    s_payload (&p, &t, s_stage ("dl4", "flac", false));
    cr_assert_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), 0, "%s", reason);
    cr_expect_not_null (strstr (p.staged_path, "03 - Holding Out for a Hero (2).flac"), "%s",
                        p.staged_path);
    s_payload_clear (&p);
    cr_expect_eq (s_count_files (s_transfer), 7);
    sp_tagger_destroy (&tg);
    cr_expect_null (tg);
}

static const unsigned char s_jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J',
                                       'F',  'I',  'F',  0,    1, 0xFF, 0xD9};

Test (tagger, cover_cache_in_album_folder)
{
    sp_tagger_t *tg = s_tagger ();
    sp_track_t t = s_track ();
    t.cover_url = "/images/never-fetched.jpg";  //  the cached cover wins: no fetch
    char dir[600];
    snprintf (dir, sizeof dir, "%s/Road Trip Classics", s_transfer);
    cr_assert_eq (mkdir (dir, 0755), 0);
    snprintf (dir, sizeof dir, "%s/Road Trip Classics/Bonnie Tyler", s_transfer);
    cr_assert_eq (mkdir (dir, 0755), 0);
    snprintf (dir, sizeof dir,
              "%s/Road Trip Classics/Bonnie Tyler/Bonnie Tyler - Secret Dreams and Forbidden Fire",
              s_transfer);
    cr_assert_eq (mkdir (dir, 0755), 0);
    char cover[700];
    snprintf (cover, sizeof cover, "%s/cover.jpg", dir);
    FILE *fp = fopen (cover, "wb");
    cr_assert_not_null (fp);
    fwrite (s_jpeg, 1, sizeof s_jpeg, fp);
    fclose (fp);
    const char *exts[] = {"mp3", "ogg", "m4a"};
    for (int i = 0; i < 3; i++) {
        sp_payload_t p;
        char name[16];
        snprintf (name, sizeof name, "c%d", i);
        s_payload (&p, &t, s_stage (name, exts[i], false));
        p.track.track_number = (uint64_t) i + 1;
        char reason[256];
        bool retry;
        cr_assert_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), 0, "%s", reason);
        unsigned char *pic = NULL;
        size_t len = 0;
        cr_assert_eq (sp_tags_get_picture (p.staged_path, &pic, &len, NULL), SP_TAGS_OK);
        cr_expect_eq (len, sizeof s_jpeg, "%s", exts[i]);
        cr_expect (pic && memcmp (pic, s_jpeg, len) == 0);
        free (pic);
        s_payload_clear (&p);
    }
    sp_tagger_destroy (&tg);
}

static void
s_expect_failure (sp_tagger_t *tg, const char *ext, bool corrupt, int fail_point,
                  const char *reason_part)
{
    sp_track_t t = s_track ();
    sp_payload_t p;
    char *staged = s_stage ("bad", ext, corrupt);
    char staged_copy[512];
    snprintf (staged_copy, sizeof staged_copy, "%s", staged);
    char before[512];
    snprintf (before, sizeof before, "%s/orig", s_root);
    char cmd[1200];
    snprintf (cmd, sizeof cmd, "cp '%s' '%s'", staged, before);
    cr_assert_eq (system (cmd), 0);
    s_payload (&p, &t, staged);
    sp_tagger_set_fail_point (tg, fail_point);
    char reason[256] = "";
    bool retry = true;
    cr_assert_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), -1);
    cr_expect_not (retry, "%s", reason);
    cr_expect_not_null (strstr (reason, reason_part), "reason: %s", reason);
    cr_expect_eq (s_count_files (s_transfer), 0, "Transfer must stay empty");
    snprintf (cmd, sizeof cmd, "cmp -s '%s' '%s'", staged_copy, before);
    cr_expect_eq (system (cmd), 0, "staged file changed or gone");
    s_payload_clear (&p);
    unlink (staged_copy);
    unlink (before);
    sp_tagger_set_fail_point (tg, 0);
}

Test (tagger, failures_leave_transfer_empty_and_staged_intact)
{
    sp_tagger_t *tg = s_tagger ();
    s_expect_failure (tg, "flac", true, 0, "cannot tag the downloaded file");
    s_expect_failure (tg, "mp3", true, 0, "cannot tag the downloaded file");
    s_expect_failure (tg, "m4a", false, 1, "injected failure");
    s_expect_failure (tg, "ogg", false, 2, "injected failure");
    s_expect_failure (tg, "flac", false, 2, "tagging failed");
    sp_tagger_destroy (&tg);
}

Test (tagger, refuses_unsupported_outside_and_missing)
{
    sp_tagger_t *tg = s_tagger ();
    sp_track_t t = s_track ();
    sp_payload_t p;
    char reason[256];
    bool retry = true;
    char path[512];
    snprintf (path, sizeof path, "%s/x.wav", s_staging);
    FILE *fp = fopen (path, "wb");
    fputs ("RIFF....WAVE", fp);
    fclose (fp);
    s_payload (&p, &t, strdup (path));
    cr_expect_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), -1);
    cr_expect_not_null (strstr (reason, "unsupported"), "%s", reason);
    cr_expect_not (retry);
    s_payload_clear (&p);

    snprintf (path, sizeof path, "%s/outside.flac", s_root);
    cr_assert_eq (sp_fake_audio_write (path, "flac", 30, 0, false, NULL), 0);
    s_payload (&p, &t, strdup (path));
    cr_expect_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), -1);
    cr_expect_not_null (strstr (reason, "outside the staging"), "%s", reason);
    cr_expect (s_exists (path));
    s_payload_clear (&p);

    snprintf (path, sizeof path, "%s/missing.flac", s_staging);
    s_payload (&p, &t, strdup (path));
    cr_expect_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), -1);
    cr_expect_not_null (strstr (reason, "missing"), "%s", reason);
    s_payload_clear (&p);
    cr_expect_eq (s_count_files (s_transfer), 0);
    sp_tagger_destroy (&tg);
}

// ------------------------------------------------------------ hostile names (issue 21)

//  A title or reason with ESC/BEL/CR must not reach a player or a terminal
//  raw from the m3u8: no control byte in the file, the escapes visible.
Test (tagger, m3u8_escapes_control_characters)
{
    sp_tagger_m3u8_entry_t e[] = {
        {"done", "Hero\x1b]0;pwned\x07", "Bonnie\rTyler", "/T/Road/a\x1b.flac", NULL, 30, true},
        {"failed", "Evil\x1b[2J", "X", NULL, "peer said \x1b[31mno\x9b", -1, false},
    };
    char *text = sp_tagger_m3u8_render ("Road\x1b[H", "/T/Road", e, 2);
    cr_assert_not_null (text);
    for (const char *c = text; *c; c++)
        cr_assert ((unsigned char) *c >= 0x20 || *c == '\n', "control byte %02x in\n%s",
                   (unsigned char) *c, text);
    cr_expect_str_eq (text, "#EXTM3U\n#PLAYLIST:Road\\x1b[H\n"
                            "#EXTINF:30,Bonnie Tyler - Hero\\x1b]0;pwned\\x07\n"
                            "a\\x1b.flac\n"
                            "# 2. X - Evil\\x1b[2J (failed: peer said \\x1b[31mno\\x9b)\n");
    free (text);
}

//  Playlists called ".", ".." and "..." (different jobs) used to share
//  Transfer/untitled/: each now has its own folder.
Test (tagger, degenerate_playlist_names_get_distinct_folders)
{
    sp_tagger_t *tg = s_tagger ();
    const char *names[] = {".", "..", "..."};
    const char *jobs[] = {"job-a", "job-b", "job-c"};
    char *dirs[3];
    for (int i = 0; i < 3; i++) {
        sp_track_t t = s_track ();
        t.playlist = (char *) names[i];
        char stem[16];
        snprintf (stem, sizeof stem, "dot%d", i);
        sp_payload_t p;
        s_payload (&p, &t, s_stage (stem, "flac", false));
        p.job = strdup (jobs[i]);
        char reason[256];
        bool retry = true;
        cr_assert_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), 0, "%s", reason);
        size_t tl = strlen (s_transfer);
        cr_assert_eq (strncmp (p.staged_path, s_transfer, tl), 0);
        const char *rel = p.staged_path + tl + 1;
        dirs[i] = strndup (rel, (size_t) (strchr (rel, '/') - rel));
        cr_expect_str_neq (dirs[i], "untitled", "%s went to untitled", names[i]);
        free (p.job);
        p.job = NULL;
        s_payload_clear (&p);
    }
    cr_expect_str_neq (dirs[0], dirs[1]);
    cr_expect_str_neq (dirs[1], dirs[2]);
    cr_expect_str_neq (dirs[0], dirs[2]);
    for (int i = 0; i < 3; i++)
        free (dirs[i]);
    sp_tagger_destroy (&tg);
}
