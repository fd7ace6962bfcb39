/*  test_path.c: the path module: sanitizer against hostile names, join
    refusals, mkdirs_at refusing planted symlinks, temp file + commit without
    overwrite, and the Soulseek remote path splitter. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "soulpipe/path.h"

// ------------------------------------------------------------ helpers

//  Strict UTF-8 validity (independent of the module's decoder).
static bool
s_valid_utf8 (const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    while (*p) {
        if (p[0] < 0x80) {
            p++;
            continue;
        }
        int n;
        uint32_t v;
        if ((p[0] & 0xE0) == 0xC0) {
            n = 2;
            v = p[0] & 0x1F;
        } else if ((p[0] & 0xF0) == 0xE0) {
            n = 3;
            v = p[0] & 0x0F;
        } else if ((p[0] & 0xF8) == 0xF0) {
            n = 4;
            v = p[0] & 0x07;
        } else
            return false;
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            v = (v << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
            v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return false;
        p += n;
    }
    return true;
}

//  Every sanitizer output must satisfy these, whatever the input.
static void
s_check_invariants (const char *out, size_t max)
{
    cr_assert_not_null (out);
    size_t len = strlen (out);
    cr_assert_gt (len, 0, "empty output");
    cr_assert_leq (len, max, "too long: %zu > %zu", len, max);
    cr_assert_null (strchr (out, '/'), "slash in %s", out);
    cr_assert_null (strchr (out, '\\'), "backslash in %s", out);
    cr_assert_neq (out[0], '.', "leading dot in %s", out);
    cr_assert_neq (out[0], ' ', "leading space in %s", out);
    cr_assert_neq (out[len - 1], '.', "trailing dot in %s", out);
    cr_assert_neq (out[len - 1], ' ', "trailing space in %s", out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) out[i];
        cr_assert (c >= 0x20 && c != 0x7F, "control byte 0x%02x in output", c);
        cr_assert_null (strchr ("<>:\"|?*", c), "reserved char %c", c);
    }
    cr_assert (s_valid_utf8 (out), "invalid UTF-8 output");
}

static void
s_expect (const char *in, const char *want)
{
    char *out = sp_path_sanitize (in);
    s_check_invariants (out, SP_PATH_NAME_MAX);
    cr_expect_str_eq (out, want, "sanitize(%s)", in ? in : "NULL");
    free (out);
}

static char *
s_tempdir (void)
{
    char tmpl[] = "/tmp/sp-test-path-XXXXXX";
    char *d = mkdtemp (tmpl);
    cr_assert_not_null (d, "mkdtemp: %s", strerror (errno));
    return strdup (d);
}

static void
s_rmtree (const char *dir)
{
    char cmd[512];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq (system (cmd), 0);
}

// ------------------------------------------------------------ sanitize

Test (path, hostile_names)
{
    s_expect ("../../etc", "_.._etc");
    s_expect ("..", "untitled");
    s_expect (".", "untitled");
    s_expect ("...", "untitled");
    s_expect ("/etc/passwd", "_etc_passwd");
    s_expect ("C:\\Windows", "C__Windows");
    s_expect ("AC/DC", "AC_DC");
    s_expect ("AC\\DC", "AC_DC");
    s_expect ("", "untitled");
    s_expect (NULL, "untitled");
    s_expect ("    ", "untitled");
    s_expect (" . . ", "untitled");
    s_expect (".hidden", "hidden");
    s_expect ("a<b>c:d\"e|f?g*h", "a_b_c_d_e_f_g_h");
    s_expect ("Song.", "Song");
    s_expect ("Song. . .", "Song");
    s_expect ("  Song  ", "Song");
    s_expect ("Song\nTitle\t", "Song Title");
    s_expect ("a\x01"
              "b\x1f"
              "c\x7f",
              "a_b_c_");
    s_expect ("Björk – Jóga", "Björk – Jóga");
    s_expect ("v1.0 (Remix)", "v1.0 (Remix)");
}

Test (path, reserved_names)
{
    s_expect ("CON", "_CON");
    s_expect ("con", "_con");
    s_expect ("con.txt", "_con.txt");
    s_expect ("NUL ", "_NUL");
    s_expect ("AUX.flac", "_AUX.flac");
    s_expect ("prn.tar.gz", "_prn.tar.gz");
    s_expect ("COM1", "_COM1");
    s_expect ("lpt9.mp3", "_lpt9.mp3");
    s_expect ("CON .txt", "_CON .txt");
    s_expect ("COM\xc2\xb9", "_COM\xc2\xb9");
    s_expect ("CONOUT$", "_CONOUT$");
    //  Not reserved: longer or different names.
    s_expect ("CONSOLE", "CONSOLE");
    s_expect ("COM10", "COM10");
    s_expect ("NULL.flac", "NULL.flac");
    s_expect ("a.CON", "a.CON");
}

Test (path, invalid_utf8)
{
    s_expect ("a\xff"
              "b",
              "a_b");
    s_expect ("\xc0\xaf", "__");            //  overlong '/'
    s_expect ("\xe0\x80\xaf", "___");       //  overlong '/'
    s_expect ("\xed\xa0\x80", "___");       //  surrogate
    s_expect ("\xf4\x90\x80\x80", "____");  //  above U+10FFFF
    s_expect ("ok\xe2\x82", "ok__");        //  truncated sequence
    s_expect ("\xc2\x85x", "_x");           //  C1 control NEL
    s_expect ("a\xe2\x80\xae"
              "b",
              "a_b");  //  RIGHT-TO-LEFT OVERRIDE
}

Test (path, nul_inside_length_given)
{
    const char in[] = "ab\0cd";
    char *out = sp_path_sanitize_n (in, 5, 0);
    s_check_invariants (out, SP_PATH_NAME_MAX);
    cr_expect_str_eq (out, "ab_cd");
    free (out);
    out = sp_path_sanitize_n ("\0\0", 2, 0);
    cr_expect_str_eq (out, "__");
    free (out);
    out = sp_path_sanitize_n (NULL, 0, 0);
    cr_expect_str_eq (out, "untitled");
    free (out);
}

Test (path, long_names_cut_on_boundary)
{
    //  300 ASCII bytes.
    char in[301];
    memset (in, 'a', 300);
    in[300] = '\0';
    char *out = sp_path_sanitize (in);
    s_check_invariants (out, 255);
    cr_expect_eq (strlen (out), 255);
    free (out);

    //  4 KB of 3-byte characters (U+20AC): 255 is a multiple of 3, so use a
    //  leading 'x' to force the cut into the middle of a character.
    size_t n = 4096;
    char *big = malloc (n + 2);
    big[0] = 'x';
    size_t o = 1;
    while (o + 3 <= n) {
        memcpy (big + o, "\xe2\x82\xac", 3);
        o += 3;
    }
    big[o] = '\0';
    out = sp_path_sanitize (big);
    s_check_invariants (out, 255);
    cr_expect_eq (strlen (out), 253, "cut to last whole char: %zu", strlen (out));
    free (out);

    //  4-byte characters at the cut.
    o = 0;
    while (o + 4 <= n) {
        memcpy (big + o, "\xf0\x9f\x8e\xb5", 4);  //  U+1F3B5
        o += 4;
    }
    big[o] = '\0';
    out = sp_path_sanitize (big);
    s_check_invariants (out, 255);
    cr_expect_eq (strlen (out), 252);
    free (out);

    //  A cut that exposes trailing spaces/dots removes them.
    memset (big, 'b', 250);
    memcpy (big + 250, " . . . . . . zzz", 17);
    out = sp_path_sanitize (big);
    s_check_invariants (out, 255);
    cr_expect_eq (strlen (out), 250);
    free (out);
    free (big);
}

Test (path, custom_max)
{
    char *out = sp_path_sanitize_max ("abcdefghij", 4);
    cr_expect_str_eq (out, "abcd");
    free (out);
    out = sp_path_sanitize_max ("", 4);
    cr_expect_str_eq (out, "_");
    free (out);
    out = sp_path_sanitize_max ("CON", 3);
    s_check_invariants (out, 3);
    cr_expect_str_eq (out, "_CO");
    free (out);
    out = sp_path_sanitize_max ("\xc3\xa9\xc3\xa9", 3);  //  "éé"
    cr_expect_str_eq (out, "\xc3\xa9");
    free (out);
    out = sp_path_sanitize_max ("abc", 1000);  //  clamped to 255
    cr_expect_str_eq (out, "abc");
    free (out);
}

Test (path, sanitize_ext)
{
    char *out = sp_path_sanitize_ext ("01 - Song", "flac", 0);
    cr_expect_str_eq (out, "01 - Song.flac");
    free (out);
    out = sp_path_sanitize_ext ("CON", "flac", 0);
    cr_expect_str_eq (out, "_CON.flac");
    free (out);
    out = sp_path_sanitize_ext ("..", ".mp3", 0);
    cr_expect_str_eq (out, "untitled.mp3");
    free (out);
    out = sp_path_sanitize_ext ("Song", "../x", 0);
    cr_expect_str_eq (out, "Song._x");
    free (out);
    out = sp_path_sanitize_ext ("Song", "", 0);
    cr_expect_str_eq (out, "Song");
    free (out);
    out = sp_path_sanitize_ext ("Song", NULL, 0);
    cr_expect_str_eq (out, "Song");
    free (out);
    out = sp_path_sanitize_ext ("Song. ", "flac", 0);
    cr_expect_str_eq (out, "Song.flac");
    free (out);

    //  Long stem with multibyte at the cut: "<stem>.flac" fits in 255.
    char big[1200];
    size_t o = 0;
    while (o + 2 <= 1000) {
        memcpy (big + o, "\xc3\xa9", 2);
        o += 2;
    }
    big[o] = '\0';
    out = sp_path_sanitize_ext (big, "flac", 0);
    s_check_invariants (out, 255);
    cr_expect_eq (strlen (out), 250 + 5);
    cr_expect_str_eq (out + 250, ".flac");
    free (out);
    out = sp_path_sanitize_ext (big, "flac", 100);
    s_check_invariants (out, 100);
    cr_expect_str_eq (out + strlen (out) - 5, ".flac");
    free (out);

    //  A huge extension is cut to SP_PATH_EXT_MAX.
    memset (big, 'e', 1000);
    big[1000] = '\0';
    out = sp_path_sanitize_ext ("Song", big, 0);
    s_check_invariants (out, 255);
    cr_expect_eq (strlen (out), 4 + 1 + SP_PATH_EXT_MAX);
    free (out);
}

Test (path, is_safe_and_ext)
{
    cr_expect (sp_path_is_safe ("01 - Song.flac"));
    cr_expect_not (sp_path_is_safe (".."));
    cr_expect_not (sp_path_is_safe ("a/b"));
    cr_expect_not (sp_path_is_safe ("CON"));
    cr_expect_not (sp_path_is_safe ("x "));
    cr_expect_not (sp_path_is_safe (NULL));
    cr_expect_str_eq (sp_path_ext ("a.b.flac"), "flac");
    cr_expect_str_eq (sp_path_ext ("noext"), "");
    cr_expect_str_eq (sp_path_ext (".hidden"), "");
    cr_expect_str_eq (sp_path_ext ("trail."), "");
}

// ------------------------------------------------------------ join

Test (path, join)
{
    char *out = NULL;
    const char *ok[] = {"Playlist", "AC_DC", "01 - Song.flac"};
    cr_assert_eq (sp_path_join ("/srv/Transfer", ok, 3, &out), SP_PATH_OK);
    cr_expect_str_eq (out, "/srv/Transfer/Playlist/AC_DC/01 - Song.flac");
    free (out);
    cr_assert_eq (sp_path_join ("/srv/Transfer/", ok, 1, &out), SP_PATH_OK);
    cr_expect_str_eq (out, "/srv/Transfer/Playlist");
    free (out);
    cr_assert_eq (sp_path_join ("/", ok, 1, &out), SP_PATH_OK);
    cr_expect_str_eq (out, "/Playlist");
    free (out);
    cr_assert_eq (sp_path_join ("rel", ok, 0, &out), SP_PATH_OK);
    cr_expect_str_eq (out, "rel");
    free (out);
}

Test (path, join_refusals)
{
    const char *bad[][2] = {
        {"a", ".."},  {"a", "."},    {"a", ""},          {"../x", "b"},
        {"a/b", "c"}, {"/etc", "d"}, {"a", "x/../../y"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *) 0x1;
        int rc = sp_path_join ("/srv/T", bad[i], 2, &out);
        cr_expect_eq (rc, SP_PATH_ERR_INVALID, "case %zu rc %d", i, rc);
        cr_expect_null (out, "case %zu", i);
    }
    const char *null_c[] = {"a", NULL};
    char *out = NULL;
    cr_expect_eq (sp_path_join ("/srv", null_c, 2, &out), SP_PATH_ERR_INVALID);
    cr_expect_eq (sp_path_join ("", null_c, 1, &out), SP_PATH_ERR_INVALID);
    cr_expect_eq (sp_path_join (NULL, null_c, 1, &out), SP_PATH_ERR_INVALID);
    char longc[300];
    memset (longc, 'x', 299);
    longc[299] = '\0';
    const char *lc[] = {longc};
    cr_expect_eq (sp_path_join ("/srv", lc, 1, &out), SP_PATH_ERR_INVALID);
    cr_expect_eq (sp_path_join ("/srv", lc, 1, NULL), SP_PATH_ERR_INVALID);
}

// ------------------------------------------------------------ mkdirs

Test (path, mkdirs_creates_and_reuses)
{
    char *root = s_tempdir ();
    const char *c[] = {"Playlist", "Artist", "Artist - Album"};
    int fd = -1;
    cr_assert_eq (sp_path_mkdirs_at (root, c, 3, &fd), SP_PATH_OK);
    cr_assert_geq (fd, 0);
    //  The fd really is the innermost directory.
    int f = openat (fd, "probe", O_WRONLY | O_CREAT | O_EXCL, 0644);
    cr_assert_geq (f, 0);
    close (f);
    close (fd);
    char probe[512];
    snprintf (probe, sizeof probe, "%s/Playlist/Artist/Artist - Album/probe", root);
    cr_expect_eq (access (probe, F_OK), 0);
    //  Again: existing directories are fine.
    cr_assert_eq (sp_path_mkdirs_at (root, c, 3, &fd), SP_PATH_OK);
    close (fd);
    //  n == 0 gives the root.
    cr_assert_eq (sp_path_mkdirs_at (root, c, 0, &fd), SP_PATH_OK);
    close (fd);
    s_rmtree (root);
    free (root);
}

Test (path, mkdirs_refuses_symlink)
{
    char *root = s_tempdir ();
    char *outside = s_tempdir ();
    char link[512];
    snprintf (link, sizeof link, "%s/Playlist", root);
    cr_assert_eq (mkdir (link, 0755), 0);
    //  Plant Playlist/Artist -> outside (a directory elsewhere).
    snprintf (link, sizeof link, "%s/Playlist/Artist", root);
    cr_assert_eq (symlink (outside, link), 0);
    const char *c[] = {"Playlist", "Artist", "Album"};
    int fd = 12345;
    int rc = sp_path_mkdirs_at (root, c, 3, &fd);
    cr_expect_eq (rc, SP_PATH_ERR_SYMLINK, "rc %d", rc);
    cr_expect_eq (fd, -1);
    //  Nothing was created through the link.
    char check[512];
    snprintf (check, sizeof check, "%s/Album", outside);
    cr_expect_neq (access (check, F_OK), 0, "followed the symlink");

    //  A regular file in the way.
    snprintf (link, sizeof link, "%s/Playlist/File", root);
    int f = open (link, O_WRONLY | O_CREAT, 0644);
    cr_assert_geq (f, 0);
    close (f);
    const char *c2[] = {"Playlist", "File", "x"};
    cr_expect_eq (sp_path_mkdirs_at (root, c2, 3, &fd), SP_PATH_ERR_NOTDIR);

    //  Unsafe components are refused before touching the disk.
    const char *c3[] = {"Playlist", "..", "x"};
    cr_expect_eq (sp_path_mkdirs_at (root, c3, 3, &fd), SP_PATH_ERR_INVALID);
    const char *c4[] = {"a/b"};
    cr_expect_eq (sp_path_mkdirs_at (root, c4, 1, &fd), SP_PATH_ERR_INVALID);
    cr_expect_eq (sp_path_mkdirs_at ("/nonexistent/sp-xyz", c4, 0, &fd), SP_PATH_ERR_IO);
    s_rmtree (root);
    s_rmtree (outside);
    free (root);
    free (outside);
}

// ------------------------------------------------------------ tmp + commit

static char *
s_read_file (int dirfd, const char *name)
{
    int fd = openat (dirfd, name, O_RDONLY);
    if (fd < 0)
        return NULL;
    static char buf[256];
    ssize_t n = read (fd, buf, sizeof buf - 1);
    close (fd);
    buf[n < 0 ? 0 : n] = '\0';
    return buf;
}

Test (path, tmp_commit_no_overwrite)
{
    char *root = s_tempdir ();
    int dfd = -1;
    cr_assert_eq (sp_path_mkdirs_at (root, NULL, 0, &dfd), SP_PATH_OK);

    char tmp[SP_PATH_TMPNAME_SIZE];
    int fd = -1;
    cr_assert_eq (sp_path_open_tmp_at (dfd, "song.flac", tmp, sizeof tmp, &fd), SP_PATH_OK);
    cr_expect_eq (tmp[0], '.');
    cr_assert_eq (write (fd, "first", 5), 5);
    close (fd);
    cr_assert_eq (sp_path_commit_at (dfd, tmp, "song.flac", false), SP_PATH_OK);
    cr_expect_str_eq (s_read_file (dfd, "song.flac"), "first");
    cr_expect_null (s_read_file (dfd, tmp), "temp name still there");

    //  Second write, no overwrite: refused, original kept, temp left.
    char tmp2[SP_PATH_TMPNAME_SIZE];
    cr_assert_eq (sp_path_open_tmp_at (dfd, "song.flac", tmp2, sizeof tmp2, &fd), SP_PATH_OK);
    cr_expect_str_neq (tmp, tmp2);
    cr_assert_eq (write (fd, "second", 6), 6);
    close (fd);
    cr_expect_eq (sp_path_commit_at (dfd, tmp2, "song.flac", false), SP_PATH_ERR_EXISTS);
    cr_expect_str_eq (s_read_file (dfd, "song.flac"), "first");
    cr_expect_str_eq (s_read_file (dfd, tmp2), "second");

    //  With overwrite it replaces.
    cr_expect_eq (sp_path_commit_at (dfd, tmp2, "song.flac", true), SP_PATH_OK);
    cr_expect_str_eq (s_read_file (dfd, "song.flac"), "second");

    //  Discard.
    cr_assert_eq (sp_path_open_tmp_at (dfd, "x", tmp, sizeof tmp, &fd), SP_PATH_OK);
    close (fd);
    cr_expect_eq (sp_path_discard_at (dfd, tmp), SP_PATH_OK);
    cr_expect_null (s_read_file (dfd, tmp));
    cr_expect_eq (sp_path_discard_at (dfd, tmp), SP_PATH_OK);

    //  Refusals.
    cr_expect_eq (sp_path_open_tmp_at (dfd, "..", tmp, sizeof tmp, &fd), SP_PATH_ERR_INVALID);
    cr_expect_eq (sp_path_open_tmp_at (dfd, "x", tmp, 8, &fd), SP_PATH_ERR_INVALID);
    cr_expect_eq (sp_path_commit_at (dfd, tmp, "../escape", false), SP_PATH_ERR_INVALID);
    //  A symlinked temp name is not followed.
    cr_assert_eq (symlinkat ("/etc/hostname", dfd, ".sp-evil.tmp"), 0);
    cr_expect_eq (sp_path_commit_at (dfd, ".sp-evil.tmp", "evil", false), SP_PATH_ERR_SYMLINK);
    close (dfd);
    s_rmtree (root);
    free (root);
}

// ------------------------------------------------------------ remote paths

Test (path, remote_split)
{
    sp_path_remote_t *r = sp_path_remote_new ("@@music\\Artist\\2001 - Album\\01 - Song.flac");
    cr_assert_not_null (r);
    cr_expect_eq (sp_path_remote_count (r), 4);
    cr_expect_str_eq (sp_path_remote_part (r, 0), "@@music");
    cr_expect_str_eq (sp_path_remote_dir (r), "2001 - Album");
    cr_expect_str_eq (sp_path_remote_file (r), "01 - Song.flac");
    cr_expect_null (sp_path_remote_part (r, 4));
    sp_path_remote_destroy (&r);
    cr_expect_null (r);
    sp_path_remote_destroy (&r);
    sp_path_remote_destroy (NULL);

    //  Empty components ignored, slashes too, raw ".." kept (callers sanitize).
    r = sp_path_remote_new ("\\\\share//a\\\\..\\x.mp3\\");
    cr_assert_not_null (r);
    cr_expect_eq (sp_path_remote_count (r), 4);
    cr_expect_str_eq (sp_path_remote_dir (r), "..");
    cr_expect_str_eq (sp_path_remote_file (r), "x.mp3");
    sp_path_remote_destroy (&r);

    cr_expect_null (sp_path_remote_new ("\\\\//"));
    cr_expect_null (sp_path_remote_new (""));
    cr_expect_null (sp_path_remote_new (NULL));
    char *huge = malloc (SP_PATH_REMOTE_MAX + 2);
    memset (huge, 'a', SP_PATH_REMOTE_MAX + 1);
    huge[SP_PATH_REMOTE_MAX + 1] = '\0';
    cr_expect_null (sp_path_remote_new (huge));
    free (huge);

    char *dir = NULL, *file = NULL;
    cr_assert_eq (sp_path_remote_split ("a\\b\\c.flac", &dir, &file), SP_PATH_OK);
    cr_expect_str_eq (dir, "b");
    cr_expect_str_eq (file, "c.flac");
    free (dir);
    free (file);
    cr_assert_eq (sp_path_remote_split ("only.flac", &dir, &file), SP_PATH_OK);
    cr_expect_null (dir);
    cr_expect_str_eq (file, "only.flac");
    free (file);
    cr_expect_eq (sp_path_remote_split ("\\", &dir, &file), SP_PATH_ERR_INVALID);
    cr_expect_null (file);
}

// ------------------------------------------------------------ playlist folders (issue 21)

Test (path, degenerate_names)
{
    const char *deg[] = {".", "..", "...", "   ", "", "///", "???", " . _ ", "\x1b\x07", NULL};
    for (size_t i = 0; i < sizeof deg / sizeof deg[0]; i++)
        cr_expect (sp_path_is_degenerate (deg[i]), "%zu", i);
    const char *fine[] = {"untitled", "Chill", ".hidden", "AC/DC", "_a", "東京"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        cr_expect_not (sp_path_is_degenerate (fine[i]), "%s", fine[i]);
}

//  ".", ".." and "..." used to be one folder "untitled": with their ids
//  they are three, and none is "untitled" (a playlist really named so).
Test (path, playlist_folder)
{
    const char *names[] = {".", "..", "..."};
    const char *ids[] = {"pl1", "pl2", "pl3"};
    char *f[3];
    for (int i = 0; i < 3; i++) {
        f[i] = sp_path_playlist_folder (names[i], ids[i], false);
        cr_assert_not_null (f[i]);
        cr_expect (sp_path_is_safe (f[i]), "%s", f[i]);
        cr_expect_str_neq (f[i], "untitled");
    }
    cr_expect_str_eq (f[0], "untitled [pl1]");
    cr_expect_str_neq (f[0], f[1]);
    cr_expect_str_neq (f[1], f[2]);
    for (int i = 0; i < 3; i++)
        free (f[i]);
    char *s = sp_path_playlist_folder ("Chill", "37i9dQ", false);
    cr_expect_str_eq (s, "Chill");
    free (s);
    s = sp_path_playlist_folder ("AC/DC", "37i9dQ", true);
    cr_expect_str_eq (s, "AC_DC [37i9dQ]");
    free (s);
    s = sp_path_playlist_folder ("..", NULL, false);
    cr_expect_str_eq (s, "untitled");
    free (s);
    //  a long name is cut so that the suffix still fits
    char longname[600];
    memset (longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    s = sp_path_playlist_folder (longname, "a/b", true);
    cr_assert_not_null (s);
    cr_expect_leq (strlen (s), SP_PATH_NAME_MAX);
    cr_expect (sp_path_is_safe (s), "%s", s);
    cr_expect_str_eq (s + strlen (s) - 6, " [a_b]");
    free (s);
}
