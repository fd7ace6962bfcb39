/*  test_match_parse.c: the remote-path parser's fast paths give the same
    answers as the plain ones:
    - the ASCII normalizer (path_norm of a one-component path) equals
      sp_text_normalize on random printable ASCII, including the characters
      with rules of their own (& + $ ! ' ` and "ft"/"featuring");
    - a path parsed through a set (folder and file-name memos, hit on the
      second add) equals sp_remote_path_parse, field by field;
    - hostile paths (fuzz regressions and the corpus' kinds) parse or are
      refused without crashing. */
#include "soulpipe/match.h"
#include "soulpipe/remote_path.h"
#include "soulpipe/text.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned s_seed = 12345;

static unsigned
s_rand (void)
{
    s_seed = s_seed * 1103515245u + 12345u;
    return (s_seed >> 16) & 0x7fff;
}

Test (match_parse, ascii_normalizer_equals_text_normalize)
{
    static const char *const pieces[] = {
        "ft",   "featuring", "Feat.", "&",  "+",  " + ", "$",   "!",  "'",         "`",    "Ke$ha",
        "P!nk", "A$AP",      "Don't", "AC", "dc", "  ",  "-",   "_",  ".",         "(",    ")",
        "[",    "]",         "{",     "}",  "~",  "^",   "|",   "\"", "#",         "%",    "*",
        ",",    ":",         ";",     "<",  "=",  ">",   "?",   "@",  "Rock",      "ROLL", "07",
        "x",    "$$",        "!!",    "+x", "x+", "&&",  "ft.", "FT", "Featuring", NULL};
    size_t np = 0;
    while (pieces[np])
        np++;
    sp_remote_path_t *p = malloc (sizeof *p);
    int compared = 0;
    for (int round = 0; round < 4000; round++) {
        char s[256] = "";
        size_t len = 0;
        int k = 1 + (int) (s_rand () % 8);
        for (int i = 0; i < k; i++) {
            const char *w = pieces[s_rand () % np];
            if (s_rand () % 4 == 0) {
                //  a random printable character
                char c[2] = {(char) (0x20 + s_rand () % 95), 0};
                if (c[0] == '/' || c[0] == '\\')
                    c[0] = 'q';
                w = c;
                if (len + 2 < sizeof s) {
                    s[len++] = c[0];
                    s[len] = 0;
                }
                continue;
            }
            if (len + strlen (w) + 2 < sizeof s) {
                if (s_rand () % 2 && len)
                    s[len++] = ' ';
                memcpy (s + len, w, strlen (w) + 1);
                len += strlen (w);
            }
        }
        if (sp_remote_path_parse (s, p) != 0)
            continue;
        char *want = sp_text_normalize (s);
        cr_assert_not_null (want);
        cr_assert_str_eq (p->path_norm, want, "input [%s]", s);
        free (want);
        compared++;
    }
    cr_assert_gt (compared, 3000, "most inputs parse (%d)", compared);
    free (p);
}

static void
s_same (const char *path, const sp_remote_path_t *a, const sp_remote_path_t *b)
{
    cr_assert_str_eq (a->ext, b->ext, "%s", path);
    cr_assert_str_eq (a->artist, b->artist, "%s", path);
    cr_assert_str_eq (a->artist_norm, b->artist_norm, "%s", path);
    cr_assert_str_eq (a->album, b->album, "%s", path);
    cr_assert_str_eq (a->album_norm, b->album_norm, "%s", path);
    cr_assert_str_eq (a->title, b->title, "%s", path);
    for (int i = 0; i < 3; i++)
        cr_assert_str_eq (a->title_norm[i], b->title_norm[i], "%s", path);
    cr_assert_str_eq (a->stem_norm, b->stem_norm, "%s", path);
    cr_assert_str_eq (a->path_norm, b->path_norm, "%s", path);
    cr_assert_str_eq (a->remixer, b->remixer, "%s", path);
    cr_assert_str_eq (a->version, b->version, "%s", path);
    cr_assert_eq (a->disc, b->disc, "%s", path);
    cr_assert_eq (a->track, b->track, "%s", path);
    cr_assert_eq (a->year, b->year, "%s", path);
    cr_assert_eq (a->kinds, b->kinds, "%s", path);
    cr_assert_eq (a->folder_kinds, b->folder_kinds, "%s", path);
    cr_assert_eq (a->part, b->part, "%s", path);
}

Test (match_parse, memo_gives_the_same_fields)
{
    //  Same folders or file names under other users and depths: the memos
    //  are hit, and must not leak one path's fields into another.
    static const char *const paths[] = {
        "@@a\\Music\\Queen\\1975 - A Night at the Opera [FLAC]\\11 - Bohemian Rhapsody.flac",
        "@@b\\Music\\Queen\\1975 - A Night at the Opera [FLAC]\\11 - Bohemian Rhapsody.flac",
        "@@c\\Queen\\1975 - A Night at the Opera [FLAC]\\11 - Bohemian Rhapsody.flac",
        "@@d\\1975 - A Night at the Opera [FLAC]\\11 - Bohemian Rhapsody.flac",
        "@@e\\11 - Bohemian Rhapsody.flac",
        "@@f\\mp3\\11 - Bohemian Rhapsody.mp3",
        "@@g\\mp3\\Queen - Bohemian Rhapsody.mp3",
        "@@h\\Music\\Queen - Bohemian Rhapsody.mp3",
        "@@i\\Queen\\Live at Wembley '86\\CD2\\04 - Bohemian Rhapsody.flac",
        "@@j\\Queen\\Live at Wembley '86\\CD1\\04 - Bohemian Rhapsody.flac",
        "@@k\\Other\\Queen\\Live at Wembley '86\\CD2\\1-04 - Bohemian Rhapsody.flac",
        "@@l\\Sigur Ros\\Takk\\03 - Hoppipolla.flac",
        "@@m\\Sigur Rós\\Takk\\03 - Hoppípolla.flac",
        "@@n\\Music\\Sigur Rós\\Takk\\03 - Hoppípolla.flac",
        "@@o/Music/Sigur Rós/Takk/03 - Hoppípolla.flac",
        "@@p\\Music\\VA\\Easy Rider\\02 - Steppenwolf - Born To Be Wild.flac",
        "@@q\\Music\\VA\\Other Album\\02 - Steppenwolf - Born To Be Wild.flac",
        "@@r\\99 Luftballons.mp3",
        "@@s\\Nena\\99 Luftballons.mp3",
        NULL};
    sp_match_set_t *set = sp_match_set_new ();
    sp_remote_path_t *want = malloc (sizeof *want);
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; paths[i]; i++) {
            cr_assert_eq (sp_remote_path_parse (paths[i], want), 0, "%s", paths[i]);
            sp_match_result_t r;
            memset (&r, 0, sizeof r);
            r.username = "u";
            r.filename = (char *) paths[i];
            cr_assert_eq (sp_match_set_add (set, &r), 0);
            sp_match_result_t *got = sp_match_set_get (set, sp_match_set_count (set) - 1);
            s_same (paths[i], want, &got->path);
        }
    //  the fields differ where the paths differ (the test can fail)
    sp_remote_path_t *b = malloc (sizeof *b);
    sp_remote_path_parse (paths[8], want);
    sp_remote_path_parse (paths[9], b);
    cr_assert_eq (want->disc, 2);
    cr_assert_eq (b->disc, 1);
    sp_remote_path_parse (paths[16], b);
    cr_assert_str_neq (b->album, sp_match_set_get (set, 15)->path.album);
    free (b);
    free (want);
    sp_match_set_destroy (&set);
}

Test (match_parse, hostile_paths)
{
    sp_remote_path_t *p = malloc (sizeof *p);
    //  refused: empty, separators only, invalid UTF-8
    cr_assert_eq (sp_remote_path_parse ("", p), -1);
    cr_assert_eq (sp_remote_path_parse ("\\\\//\\", p), -1);
    cr_assert_eq (sp_remote_path_parse ("@@u\\bad\xff\xfe.mp3", p), -1);
    cr_assert_eq (sp_remote_path_parse ("@@u\\\xc3(.flac", p), -1);
    cr_assert_eq (sp_remote_path_parse ("@@u\\ok\\\xed\xa0\x80.flac", p), -1);  //  surrogate
    //  accepted: dot segments, drive letters, reserved names, control chars
    cr_assert_eq (sp_remote_path_parse ("@@u\\..\\..\\CON.flac", p), 0);
    cr_assert_str_eq (p->ext, "flac");
    cr_assert_eq (sp_remote_path_parse ("C:\\Users\\x\\Music\\AUX\\NUL.mp3", p), 0);
    cr_assert_eq (sp_remote_path_parse ("/etc/passwd", p), 0);
    cr_assert_str_eq (p->ext, "");
    cr_assert_eq (sp_remote_path_parse ("@@u\\a\tb\x01\x7f\\c\x1b[31m.mp3", p), 0);
    //  a 4 KB name: cut on a UTF-8 boundary; 4097 bytes: refused
    char *big = malloc (5000);
    size_t n = 0;
    n += (size_t) snprintf (big, 5000, "@@u\\");
    while (n + 2 < 4092) {
        big[n++] = (char) 0xc3;
        big[n++] = (char) 0xa9;  //  é
    }
    memcpy (big + n, ".mp3", 5);
    cr_assert_eq (sp_remote_path_parse (big, p), 0);
    cr_assert (strlen (p->title) < SP_REMOTE_PATH_FIELD);
    cr_assert_neq ((unsigned char) p->title[strlen (p->title) - 1], 0xc3, "cut inside a character");
    memset (big, 'a', 4097);
    big[4097] = 0;
    cr_assert_eq (sp_remote_path_parse (big, p), -1);
    //  many components: the last ones count
    n = 0;
    for (int i = 0; i < 200 && n < 3900; i++)
        n += (size_t) snprintf (big + n, 5000 - n, "d%d\\", i);
    snprintf (big + n, 5000 - n, "Artist\\Album\\01 - Title.flac");
    cr_assert_eq (sp_remote_path_parse (big, p), 0);
    cr_assert_str_eq (p->title, "Title");
    cr_assert_str_eq (p->album, "Album");
    cr_assert_str_eq (p->artist, "Artist");
    free (big);
    free (p);
}

//  fuzz_json findings (build/fuzz/crashes-json): ranking an empty set
//  passed a NULL array to qsort_r (UBSan), and a response with an empty
//  username was added as a result nobody can download from.
Test (match_parse, fuzz_regressions_empty_set_and_empty_user)
{
    sp_track_t t;
    memset (&t, 0, sizeof t);
    char *artists[] = {"Artist"};
    t.title = "Song";
    t.artists = artists;
    t.artists_count = 1;
    sp_match_track_t *mt = sp_match_track_new (&t);
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    sp_match_set_t *set = sp_match_set_new ();
    cr_assert_eq (sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0), 0);
    json_error_t e;
    json_t *j = json_loads (
        "[{\"username\": \"\", \"files\": [{\"filename\": \"..\\\\..\\\\etc\\\\passwd.f,ac\","
        " \"size\": 1}]}, {\"username\": \"ok\", \"files\": [{\"filename\": \"\"},"
        " {\"filename\": \"@@x\\\\Artist\\\\01 - Song.flac\"}]}]",
        0, &e);
    cr_assert_not_null (j, "%s", e.text);
    cr_assert_eq (sp_match_set_add_responses (set, j), 1, "only the file with a user and a name");
    cr_assert_str_eq (sp_match_set_get (set, 0)->username, "ok");
    cr_assert_eq (sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0), 1);
    sp_match_result_t r;
    memset (&r, 0, sizeof r);
    r.username = "";
    r.filename = "@@x\\a.flac";
    cr_assert_eq (sp_match_set_add (set, &r), -1);
    json_decref (j);
    sp_match_set_destroy (&set);
    sp_match_track_destroy (&mt);
}
