/*  test_hostile_names.c: hostile peer file names through the searcher's
    ranking (sp_match_set_add_responses + sp_match_set_rank) and the
    downloader's local-path lookup (sp_xfer_local_path) and staging
    (sp_dl_stage): "..", absolute paths, drive letters, control
    characters, reserved names, 4 KB names, invalid UTF-8, '/' inside a
    Soulseek component. Nothing may be read from or written outside the
    configured folders: every test ends with a scan of its temp root. */
#include "../../services/downloader/downloader.h"
#include "../../services/downloader/slskd_transfer.h"
#include "soulpipe/match.h"

#include <criterion/criterion.h>
#include <jansson.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_root[256];
static char s_downloads[300];
static char s_staging[300];

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    cr_assert_not_null (f, "%s", path);
    fputs (text, f);
    fclose (f);
}

//  root/ (a bait file and a bait folder beside the two configured ones)
//    secret.flac, etc/passwd.flac, downloads/, staging/
static void
s_setup (void)
{
    snprintf (s_root, sizeof s_root, "/tmp/sp-hostile-names-XXXXXX");
    cr_assert_not_null (mkdtemp (s_root));
    snprintf (s_downloads, sizeof s_downloads, "%s/downloads", s_root);
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_root);
    cr_assert_eq (mkdir (s_downloads, 0700), 0);
    cr_assert_eq (mkdir (s_staging, 0700), 0);
    char p[512];
    snprintf (p, sizeof p, "%s/secret.flac", s_root);
    s_write (p, "secret");
    snprintf (p, sizeof p, "%s/etc", s_root);
    mkdir (p, 0700);
    snprintf (p, sizeof p, "%s/etc/passwd.flac", s_root);
    s_write (p, "secret");
}

//  Every entry under the root must be one of the bait files or under
//  downloads/ or staging/.
static int
s_scan_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    const char *rel = path + strlen (s_root);
    if (!*rel || strcmp (rel, "/secret.flac") == 0 || strcmp (rel, "/etc") == 0 ||
        strcmp (rel, "/etc/passwd.flac") == 0 || strcmp (rel, "/downloads") == 0 ||
        strcmp (rel, "/staging") == 0 || strncmp (rel, "/downloads/", 11) == 0 ||
        strncmp (rel, "/staging/", 9) == 0)
        return 0;
    cr_log_error ("written outside the configured folders: %s", path);
    return 1;
}

static int
s_rm_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static void
s_teardown (void)
{
    if (!s_root[0])
        return;
    int bad = nftw (s_root, s_scan_one, 16, FTW_PHYS);
    nftw (s_root, s_rm_one, 16, FTW_PHYS | FTW_DEPTH);
    s_root[0] = '\0';
    cr_assert_eq (bad, 0, "a file appeared outside the configured folders");
}

//  The hostile remote paths (as a peer sends them).
static const char *const s_names[] = {
    "..\\..\\etc\\passwd.flac",
    "@@peer\\..\\secret.flac",
    "@@peer\\Music\\..\\..\\..\\secret.flac",
    "@@peer\\Music\\..",
    "/etc/passwd.flac",
    "@@peer\\Music\\/..\\secret.flac",
    "@@peer\\Music\\../../secret.flac",
    "C:\\Windows\\System32\\drivers\\etc\\hosts.flac",
    "C:secret.flac",
    "\\\\server\\share\\secret.flac",
    "@@peer\\Music\\a\x01\x1b[31mred\x7f.flac",
    "@@peer\\Music\\CON.flac",
    "@@peer\\Music\\LPT1\\aux.flac",
    "@@peer\\Music\\trailing. \\name. .flac",
    "@@peer\\Music\\bad \xff\xfe utf8 \xc3.flac",
    "@@peer\\Music\\\xed\xa0\x80surrogate.flac",
    "@@peer\\Music\\ .flac",
    "@@peer\\Music\\.flac",
    "@@peer\\Music\\...",
    "@@peer\\\\\\\\",
    "",
    "\\",
    ".",
};
#define S_NNAMES (sizeof s_names / sizeof s_names[0])

//  A 4 KB file name (and a 4 KB folder).
static char *
s_long_name (void)
{
    char *s = malloc (8300);
    cr_assert_not_null (s);
    strcpy (s, "@@peer\\");
    size_t n = strlen (s);
    memset (s + n, 'F', 4096);
    n += 4096;
    s[n++] = '\\';
    memset (s + n, 'n', 4096);
    n += 4096;
    strcpy (s + n, ".flac");
    return s;
}

TestSuite (hostile_names, .init = s_setup, .fini = s_teardown);

//  The searcher's ranking: hostile names are either skipped or ranked
//  without a crash; the reasons stay printable; a real match still wins.
Test (hostile_names, search_ranking)
{
    json_t *files = json_array ();
    char *lng = s_long_name ();
    for (size_t i = 0; i <= S_NNAMES; i++) {
        const char *name = i < S_NNAMES ? s_names[i] : lng;
        //  jansson refuses invalid UTF-8 in json_string: use the _nocheck form
        json_array_append_new (files,
                               json_pack ("{s:o s:I s:i s:i}", "filename",
                                          json_stringn_nocheck (name, strlen (name)), "size",
                                          (json_int_t) 30000000, "bitRate", 1000, "length", 200));
    }
    json_array_append_new (files,
                           json_pack ("{s:s s:I s:i s:i}", "filename",
                                      "@@peer\\Music\\Artist\\Album\\01 - Song.flac", "size",
                                      (json_int_t) 30000000, "bitRate", 1000, "length", 200));
    json_t *responses = json_pack ("[{s:s s:b s:i s:i s:o}, {s:s s:o}]", "username", "peer",
                                   "hasFreeUploadSlot", 1, "uploadSpeed", 1000000, "queueLength", 0,
                                   "files", files, "username", "", "files", json_deep_copy (files));
    cr_assert_not_null (responses);
    sp_match_set_t *set = sp_match_set_new ();
    int added = sp_match_set_add_responses (set, responses);
    cr_assert_geq (added, 1);
    cr_assert_leq (added, (int) S_NNAMES + 2, "the empty username's files were added");

    char *artists[] = {"Artist"};
    sp_track_t track = {.title = "Song",
                        .artists = artists,
                        .artists_count = 1,
                        .album = "Album",
                        .has_duration_ms = true,
                        .duration_ms = 200000};
    sp_match_track_t *mt = sp_match_track_new (&track);
    cr_assert_not_null (mt);
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);
    size_t acc = sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0);
    cr_assert_geq (acc, 1);
    sp_match_result_t *best = sp_match_set_get (set, 0);
    cr_assert_str_eq (best->filename, "@@peer\\Music\\Artist\\Album\\01 - Song.flac");
    char buf[512];
    for (size_t i = 0; i < sp_match_set_count (set); i++) {
        sp_match_result_t *r = sp_match_set_get (set, i);
        cr_assert (r->username && *r->username);
        sp_match_reason (r, &prefs, mt, buf, sizeof buf);
        cr_assert_lt (strlen (buf), sizeof buf);
        //  Parsed fields never carry a path separator; the matching forms
        //  no control byte either.
        const char *fields[] = {r->path.artist,      r->path.album,      r->path.title,
                                r->path.artist_norm, r->path.album_norm, r->path.title_norm[0]};
        for (size_t f = 0; f < 6; f++)
            for (const unsigned char *p = (const unsigned char *) fields[f]; *p; p++)
                cr_assert (*p != '\\' && (f < 3 || *p >= 0x20), "%s: field %zu has byte 0x%02x",
                           r->filename, f, *p);
    }
    sp_match_track_destroy (&mt);
    sp_match_set_destroy (&set);
    json_decref (responses);
    free (lng);
}

//  The fuzz_json finding (fixed in match.c): a response with an empty
//  username added its files.
Test (hostile_names, empty_username_regression)
{
    const char *crash =
        "[{\"username\": \"\", \"files\": [{\"filename\": \"..\\\\..\\\\etc\\\\passwd.f,"
        "ac\", \"size\": 1}]}]";
    json_t *j = json_loads (crash, 0, NULL);
    cr_assert_not_null (j);
    sp_match_set_t *set = sp_match_set_new ();
    cr_assert_eq (sp_match_set_add_responses (set, j), 0);
    cr_assert_eq (sp_match_set_count (set), 0);
    sp_match_set_destroy (&set);
    json_decref (j);
}

//  The downloader's lookup of a finished file: only inside downloads/.
Test (hostile_names, local_path_stays_inside)
{
    //  What slskd would have written for a sane name, plus bait.
    char p[600];
    snprintf (p, sizeof p, "%s/Music", s_downloads);
    mkdir (p, 0700);
    snprintf (p, sizeof p, "%s/Music/ok.flac", s_downloads);
    s_write (p, "0123456789");
    char *lng = s_long_name ();
    size_t prefix = strlen (s_downloads);
    for (size_t i = 0; i <= S_NNAMES; i++) {
        const char *name = i < S_NNAMES ? s_names[i] : lng;
        char *path = NULL;
        int rc = sp_xfer_local_path (s_downloads, name, 6, &path);
        if (rc == SP_XFER_OK) {
            cr_assert_not_null (path);
            cr_assert (strncmp (path, s_downloads, prefix) == 0 && path[prefix] == '/', "%s -> %s",
                       name, path);
            cr_assert_null (strstr (path + prefix, "/../"), "%s -> %s", name, path);
            char real[4096];
            cr_assert_not_null (realpath (path, real), "%s -> %s", name, path);
            char rdl[4096];
            cr_assert_not_null (realpath (s_downloads, rdl));
            cr_assert (strncmp (real, rdl, strlen (rdl)) == 0, "%s -> %s", name, real);
        } else
            cr_assert_null (path);
        free (path);
    }
    free (lng);
    //  The sane one is found.
    char *path = NULL;
    cr_assert_eq (sp_xfer_local_path (s_downloads, "@@peer\\Music\\ok.flac", 10, &path),
                  SP_XFER_OK);
    free (path);
}

//  Staging with a hostile extension (taken from the peer's file name) and
//  hostile job/position strings: the file lands in staging/<job>/ or the
//  stage is refused.
Test (hostile_names, staging_stays_inside)
{
    const char *exts[] = {"flac",
                          "../../../x",
                          "..",
                          "/etc/passwd",
                          "fl\x01"
                          "ac",
                          "CON",
                          "\xff\xfe",
                          "a/b\\c",
                          "",
                          "flac. ",
                          NULL};
    const char *jobs[] = {"job1", "../escape", "/abs", "..", "a/b"};
    char *lng = malloc (4200);
    memset (lng, 'e', 4199);
    lng[4199] = '\0';
    size_t n = 0, staged_ok = 0;
    for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++)
        for (size_t e = 0; e <= sizeof exts / sizeof exts[0]; e++) {
            const char *ext = e < sizeof exts / sizeof exts[0] ? exts[e] : lng;
            if (!ext && e < sizeof exts / sizeof exts[0] - 1)
                continue;
            char src[600];
            snprintf (src, sizeof src, "%s/file%zu.flac", s_downloads, n);
            s_write (src, "audio");
            char pos[32];
            snprintf (pos, sizeof pos, "%zu", n++);
            char *staged = NULL;
            char why[256] = "";
            int rc = sp_dl_stage (s_staging, jobs[j], pos, src, ext ? ext : "", e % 2 == 1, &staged,
                                  why, sizeof why);
            if (rc == 0) {
                staged_ok++;
                cr_assert_not_null (staged);
                char real[4096], rst[4096];
                cr_assert_not_null (realpath (staged, real), "%s", staged);
                cr_assert_not_null (realpath (s_staging, rst));
                cr_assert (strncmp (real, rst, strlen (rst)) == 0 && real[strlen (rst)] == '/',
                           "job %s ext %s -> %s", jobs[j], ext ? ext : "(null)", real);
                //  one folder (the job) then the file: no deeper
                cr_assert_null (strchr (strchr (real + strlen (rst) + 1, '/') + 1, '/'),
                                "job %s -> %s", jobs[j], real);
            }
            free (staged);
        }
    free (lng);
    cr_log_info ("staged %zu of %zu", staged_ok, n);
    cr_assert_geq (staged_ok, 10, "the stage refused nearly everything (%zu)", staged_ok);
}
