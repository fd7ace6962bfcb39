/*  test_medialib_folder.c: the folder library backend
    (common/src/medialib_folder.c) on real tagged files the test writes
    (tests/fakes/audio.h makes them, soulpipe/tags.h tags them), with the
    index cached in a redis-server of the test's own.

    - the demo fixture's Plex library written as files gives the diff the
      same 9 library tracks and no near miss;
    - the cache: a second load opens no file whose mtime and size did not
      change (a doctored cache entry shows through), a changed file is read
      again, a deleted one leaves the cache;
    - no symlink is followed (a linked folder or file inside the library is
      not part of it), find_item only gives real files inside the folders;
    - playlists: <name>.m3u8, written atomically, the whole list in order,
      relative paths below the playlist folder and absolute ones elsewhere,
      the same id when run twice;
    - a missing folder gives the documented note;
    - a 50,000-file folder (hard links of one tagged file), loaded twice.
*/
#include "../fakes/audio.h"
#include "harness.h"
#include "soulpipe/path.h"
#include "soulpipe/store.h"
#include "soulpipe/tags.h"
#include "test_medialib_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <sys/stat.h>

#define KEY_PREFIX "soulpipe:folderlib:v1:"

static sp_test_t s_t;

static void
s_fini (void)
{
    sp_test_fini (&s_t);
}

TestSuite (medialib_folder, .fini = s_fini, .timeout = 300);

static void
s_mkdirs (const char *path)
{
    char buf[1024];
    snprintf (buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir (buf, 0755);
            *p = '/';
        }
    mkdir (buf, 0755);
}

//  A tagged audio file at path (parents made); format from the extension.
static void
s_audio (const char *path, const char *title, const char *artist, const char *album_artist,
         const char *album, unsigned length_s)
{
    char dir[1024];
    snprintf (dir, sizeof dir, "%s", path);
    *strrchr (dir, '/') = '\0';
    s_mkdirs (dir);
    const char *ext = sp_path_ext (path);
    cr_assert_eq (sp_fake_audio_write (path, ext, length_s, 0, false, NULL), 0, "%s: %s", path,
                  strerror (errno));
    const char *artists[] = {artist};
    const char *aas[] = {album_artist};
    sp_tags_t t = {.title = title,
                   .artists = artists,
                   .artists_count = artist ? 1 : 0,
                   .album = album,
                   .album_artists = aas,
                   .album_artists_count = album_artist ? 1 : 0};
    char err[256];
    cr_assert_eq (sp_tags_write (path, &t, err, sizeof err), SP_TAGS_OK, "%s: %s", path, err);
}

//  A strong reference: medialib.c refers to the backends weakly (so the
//  tree linked before they existed), which alone does not pull them out of
//  the archive.
static const sp_medialib_backend_t *const s_backend_ref = &sp_medialib_folder_backend;

static sp_medialib_t *
s_open (const char *dirs, const char *playlists)
{
    sp_medialib_opts_t o = {.kind = SP_MEDIALIB_FOLDER,
                            .library_dir = dirs,
                            .playlist_dir = playlists,
                            .store = s_t.store};
    cr_assert_str_eq (s_backend_ref->name, "folder");
    char note[512] = "";
    int err = 0;
    sp_medialib_t *ml = sp_medialib_new (&o, &err, note, sizeof note);
    cr_assert_not_null (ml, "%d %s", err, note);
    return ml;
}

//  Collects the tracks of a load: path -> title.
static int
s_collect (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    (void) note;
    (void) n;
    json_t *o = arg;
    cr_assert_str_eq (t->item_id, t->path, "the item id of a folder track is its path");
    json_object_set_new (o, t->path, json_string (t->title));
    return 0;
}

static json_t *
s_load (sp_medialib_t *ml)
{
    json_t *o = json_object ();
    char note[512] = "";
    cr_assert_eq (sp_medialib_load (ml, s_collect, o, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    return o;
}

static long long
s_hlen (const char *root)
{
    char key[600];
    snprintf (key, sizeof key, "%s%s", KEY_PREFIX, root);
    return sp_test_hlen (&s_t, key);
}

Test (medialib_folder, demo_library_gives_the_same_skips_as_plex)
{
    sp_test_init (&s_t, true);
    char root[400];
    snprintf (root, sizeof root, "%s/music", s_t.dir);
    //  every Plex track of the demo as a real file at the same place below root
    json_t *plex = tu_demo_plex_tracks ();
    size_t i;
    json_t *m;
    json_array_foreach (plex, i, m)
    {
        json_t *part = json_array_get (
            json_object_get (json_array_get (json_object_get (m, "Media"), 0), "Part"), 0);
        const char *file = json_string_value (json_object_get (part, "file"));
        cr_assert (file && strncmp (file, TU_DEMO_PLEX_ROOT "/", 7) == 0, "%s", file);
        char path[1024];
        snprintf (path, sizeof path, "%s%s", root, file + strlen (TU_DEMO_PLEX_ROOT));
        if (!sp_fake_audio_supported (sp_path_ext (path)))
            cr_assert_fail ("the generator cannot write %s", path);
        const char *aa = json_string_value (json_object_get (m, "grandparentTitle"));
        const char *ta = json_string_value (json_object_get (m, "originalTitle"));
        json_int_t dur = json_integer_value (json_object_get (m, "duration"));
        s_audio (path, json_string_value (json_object_get (m, "title")), ta ? ta : aa, aa,
                 json_string_value (json_object_get (m, "parentTitle")),
                 (unsigned) ((dur + 500) / 1000));
    }
    json_decref (plex);
    sp_medialib_t *ml = s_open (root, NULL);
    cr_expect_str_eq (sp_medialib_name (ml), "folder");
    cr_expect_eq (sp_medialib_caps (ml) & SP_MEDIALIB_RESCAN_NEEDED, 0);
    tu_check_demo_diff (ml, root);
    //  and once more from the cache: the same answers
    tu_check_demo_diff (ml, root);
    char note[256] = "";
    cr_expect_eq (sp_medialib_rescan (ml, root, 1000, note, sizeof note), SP_MEDIALIB_OK);
    sp_medialib_destroy (&ml);
}

Test (medialib_folder, cache_reads_only_what_changed)
{
    sp_test_init (&s_t, true);
    char root[400], a[600], b[600], c[600];
    snprintf (root, sizeof root, "%s/lib", s_t.dir);
    snprintf (a, sizeof a, "%s/Band/Album/01 - One.flac", root);
    snprintf (b, sizeof b, "%s/Band/Album/02 - Two.mp3", root);
    snprintf (c, sizeof c, "%s/Other/03 - Three.m4a", root);
    s_audio (a, "One", "Band", "Band", "Album", 100);
    s_audio (b, "Two", "Band", "Band", "Album", 101);
    s_audio (c, NULL, "Other", NULL, NULL, 102);  //  no title: the file name
    sp_medialib_t *ml = s_open (root, NULL);
    json_t *o = s_load (ml);
    cr_expect_eq (json_object_size (o), 3);
    cr_expect_str_eq (json_string_value (json_object_get (o, a)), "One");
    cr_expect_str_eq (json_string_value (json_object_get (o, c)), "03 - Three");
    json_decref (o);
    cr_expect_eq (s_hlen (root), 3);

    //  doctor the cache entry of an unchanged file: the next load believes
    //  it, so it did not open the file
    char key[600];
    snprintf (key, sizeof key, "%s%s", KEY_PREFIX, root);
    redisReply *r = NULL;
    const char *get[] = {"HGET", key, "Band/Album/01 - One.flac"};
    size_t gl[] = {4, strlen (key), strlen (get[2])};
    cr_assert_eq (sp_store_command (s_t.store, 3, get, gl, &r), SP_STORE_OK);
    cr_assert_eq (r->type, REDIS_REPLY_STRING);
    //  fields: mtime, size, duration, title, ...: replace the title
    size_t off = 0;
    for (int k = 0; k < 3; k++)
        off += strlen (r->str + off) + 1;
    size_t tl = strlen (r->str + off);
    char val[4096];
    cr_assert_lt (r->len + 16, sizeof val);
    memcpy (val, r->str, off);
    memcpy (val + off, "Cached One", 10);
    memcpy (val + off + 10, r->str + off + tl, r->len - off - tl);
    size_t vl = r->len - tl + 10;
    freeReplyObject (r);
    const char *set[] = {"HSET", key, "Band/Album/01 - One.flac", val};
    size_t sl[] = {4, strlen (key), strlen (set[2]), vl};
    cr_assert_eq (sp_store_command (s_t.store, 4, set, sl, &r), SP_STORE_OK);
    freeReplyObject (r);

    //  change one file (new tags, so a new size or mtime) and delete another
    const char *other[] = {"Other"};
    sp_tags_t retag = {.title = "Three Retitled", .artists = other, .artists_count = 1};
    char terr[256];
    cr_assert_eq (sp_tags_write (c, &retag, terr, sizeof terr), SP_TAGS_OK, "%s", terr);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1700000000, 0}};
    cr_assert_eq (utimensat (AT_FDCWD, c, ts, 0), 0);
    cr_assert_eq (unlink (b), 0);
    o = s_load (ml);
    cr_expect_eq (json_object_size (o), 2);
    cr_expect_str_eq (json_string_value (json_object_get (o, a)), "Cached One",
                      "an unchanged file was read again instead of taken from the cache");
    cr_expect_str_eq (json_string_value (json_object_get (o, c)), "Three Retitled",
                      "a changed file was not read again");
    cr_expect_null (json_object_get (o, b));
    json_decref (o);
    cr_expect_eq (s_hlen (root), 2, "the deleted file left its cache entry");
    sp_medialib_destroy (&ml);

    //  without a cache every load reads the files (the real title again)
    sp_medialib_opts_t nocache = {.kind = SP_MEDIALIB_FOLDER, .library_dir = root};
    char note[256];
    ml = sp_medialib_new (&nocache, NULL, note, sizeof note);
    cr_assert_not_null (ml, "%s", note);
    o = s_load (ml);
    cr_expect_str_eq (json_string_value (json_object_get (o, a)), "One");
    json_decref (o);
    sp_medialib_destroy (&ml);
}

Test (medialib_folder, follows_no_symlink_and_finds_only_real_files)
{
    sp_test_init (&s_t, true);
    char root[400], outside[400], real[600], p[800], q[800];
    snprintf (root, sizeof root, "%s/lib", s_t.dir);
    snprintf (outside, sizeof outside, "%s/outside", s_t.dir);
    snprintf (real, sizeof real, "%s/Band/01 - Real.flac", root);
    s_audio (real, "Real", "Band", "Band", "A", 60);
    snprintf (p, sizeof p, "%s/Secret/01 - Outside.flac", outside);
    s_audio (p, "Outside", "Secret", "Secret", "B", 60);
    //  a linked folder and a linked file inside the library
    snprintf (q, sizeof q, "%s/LinkedDir", root);
    cr_assert_eq (symlink (outside, q), 0);
    snprintf (q, sizeof q, "%s/Band/02 - Linked.flac", root);
    cr_assert_eq (symlink (p, q), 0);
    //  and a file TagLib cannot read: left out, remembered as unreadable
    snprintf (q, sizeof q, "%s/Band/03 - Broken.flac", root);
    FILE *bf = fopen (q, "w");
    cr_assert_not_null (bf);
    fputs ("not audio at all", bf);
    fclose (bf);
    snprintf (q, sizeof q, "%s/Band/02 - Linked.flac", root);
    sp_medialib_t *ml = s_open (root, NULL);
    json_t *o = s_load (ml);
    cr_expect_eq (json_object_size (o), 1, "a symlink was followed, or a broken file reported");
    cr_expect_not_null (json_object_get (o, real));
    json_decref (o);
    cr_expect_eq (s_hlen (root), 2, "the real file and the unreadable one are cached");
    o = s_load (ml);
    cr_expect_eq (json_object_size (o), 1);
    json_decref (o);

    char *id = NULL, note[512] = "";
    cr_assert_eq (sp_medialib_find_item (ml, real, &id, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    cr_expect_str_eq (id, real);
    free (id);
    id = NULL;
    cr_expect_eq (sp_medialib_find_item (ml, q, &id, note, sizeof note), SP_MEDIALIB_ERR_NOTFOUND);
    snprintf (q, sizeof q, "%s/LinkedDir/Secret/01 - Outside.flac", root);
    cr_expect_eq (sp_medialib_find_item (ml, q, &id, note, sizeof note), SP_MEDIALIB_ERR_NOTFOUND);
    cr_expect_eq (sp_medialib_find_item (ml, p, &id, note, sizeof note), SP_MEDIALIB_ERR_NOTFOUND);
    cr_expect (strstr (note, "not inside SOULPIPE_LIBRARY_DIR") != NULL, "%s", note);
    snprintf (q, sizeof q, "%s/Band/../Band/01 - Real.flac", root);
    cr_expect_eq (sp_medialib_find_item (ml, q, &id, note, sizeof note), SP_MEDIALIB_ERR_NOTFOUND);
    cr_expect_null (id);
    sp_medialib_destroy (&ml);
}

static char *
s_read (const char *path)
{
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "%s", path);
    char *s = NULL;
    size_t n = 0;
    cr_assert (getdelim (&s, &n, '\0', f) > 0);
    fclose (f);
    return s;
}

Test (medialib_folder, playlist_m3u8_in_order_same_id_twice_and_several_folders)
{
    sp_test_init (&s_t, true);
    char lib[400], transfer[400], pls[400], dirs[1300];
    snprintf (lib, sizeof lib, "%s/lib", s_t.dir);
    snprintf (transfer, sizeof transfer, "%s/Transfer", s_t.dir);
    snprintf (pls, sizeof pls, "%s/lib/Playlists", s_t.dir);
    snprintf (dirs, sizeof dirs, "%s:%s/:%s/Sub", lib, transfer, lib);  //  Sub: inside lib
    char f1[600], f2[600], f3[600];
    snprintf (f1, sizeof f1, "%s/Playlists/Mix/01 - A.flac", lib);
    snprintf (f2, sizeof f2, "%s/Band/02 - B.ogg", lib);
    snprintf (f3, sizeof f3, "%s/Road Trip/03 - C.mp3", transfer);
    s_audio (f1, "A", "X", "X", "M", 60);
    s_audio (f2, "B", "X", "X", "M", 61);
    s_audio (f3, "C", "Y", "Y", "N", 62);
    char sub[600];
    snprintf (sub, sizeof sub, "%s/Sub/04 - D.flac", lib);
    s_audio (sub, "D", "Z", "Z", "O", 63);
    sp_medialib_t *ml = s_open (dirs, pls);
    json_t *o = s_load (ml);
    cr_expect_eq (json_object_size (o), 4, "the nested folder was counted twice");
    json_decref (o);

    //  the new download is found at once: no rescan needed
    char *i3 = NULL, note[512] = "";
    cr_assert_eq (sp_medialib_find_item (ml, f3, &i3, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    const char *list[] = {f2, i3, f1};
    char *id = NULL, *id2 = NULL;
    cr_assert_eq (
        sp_medialib_playlist_upsert (ml, "Road Trip: Classics", list, 3, &id, note, sizeof note),
        SP_MEDIALIB_OK, "%s", note);
    char want_id[700];
    snprintf (want_id, sizeof want_id, "%s/Road Trip_ Classics.m3u8", pls);
    cr_expect_str_eq (id, want_id);
    char *text = s_read (id);
    char want[3000];
    snprintf (want, sizeof want,
              "#EXTM3U\n#PLAYLIST:Road Trip: Classics\n%s\n%s\nMix/01 - A.flac\n", f2, f3);
    cr_expect_str_eq (text, want);
    free (text);
    cr_assert_eq (
        sp_medialib_playlist_upsert (ml, "Road Trip: Classics", list, 3, &id2, note, sizeof note),
        SP_MEDIALIB_OK, "%s", note);
    cr_expect_str_eq (id2, id);
    //  one playlist file, no temporary left
    DIR *d = opendir (pls);
    cr_assert_not_null (d);
    int files = 0;
    struct dirent *de;
    while ((de = readdir (d)))
        if (de->d_type == DT_REG) {
            files++;
            cr_expect_str_eq (de->d_name, "Road Trip_ Classics.m3u8");
        }
    closedir (d);
    cr_expect_eq (files, 1);
    free (id);
    free (id2);
    free (i3);
    sp_medialib_destroy (&ml);
}

Test (medialib_folder, missing_folder_says_what_to_check)
{
    sp_test_init (&s_t, true);
    char root[400];
    snprintf (root, sizeof root, "%s/not-there", s_t.dir);
    sp_medialib_t *ml = s_open (root, NULL);
    tu_load_t l = {0};
    char note[512] = "";
    int rc = sp_medialib_load (ml, tu_add_track, &l, note, sizeof note);
    cr_expect_neq (rc, SP_MEDIALIB_OK);
    cr_expect (strstr (note, "cannot be read") != NULL &&
                   strstr (note, "check SOULPIPE_LIBRARY_DIR") != NULL,
               "%s", note);
    sp_medialib_destroy (&ml);
    sp_medialib_opts_t rel = {.kind = SP_MEDIALIB_FOLDER, .library_dir = "music/here"};
    cr_expect_null (sp_medialib_new (&rel, NULL, note, sizeof note));
    cr_expect (strstr (note, "absolute") != NULL, "%s", note);
}

Test (medialib_folder, fifty_thousand_files)
{
    sp_test_init (&s_t, true);
    char root[400], seed[600];
    snprintf (root, sizeof root, "%s/big", s_t.dir);
    snprintf (seed, sizeof seed, "%s/seed.mp3", s_t.dir);
    s_audio (seed, "Same Song", "Many", "Many", "Copies", 30);
    //  500 folders of 100 hard links each
    for (int dnum = 0; dnum < 500; dnum++) {
        char dir[600];
        snprintf (dir, sizeof dir, "%s/d%03d", root, dnum);
        s_mkdirs (dir);
        for (int k = 0; k < 100; k++) {
            char p[700];
            snprintf (p, sizeof p, "%s/%02d.mp3", dir, k);
            cr_assert_eq (link (seed, p), 0, "%s: %s", p, strerror (errno));
        }
    }
    sp_medialib_t *ml = s_open (root, NULL);
    tu_load_t l = {0};
    char note[512] = "";
    double t0 = sp_test_now_ms ();
    cr_assert_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    double t1 = sp_test_now_ms ();
    cr_expect_eq (l.tracks, 50000);
    cr_expect_eq (s_hlen (root), 50000);
    l.tracks = 0;
    cr_assert_eq (sp_medialib_load (ml, tu_add_track, &l, note, sizeof note), SP_MEDIALIB_OK, "%s",
                  note);
    double t2 = sp_test_now_ms ();
    cr_expect_eq (l.tracks, 50000);
    cr_log_info ("50,000 files: first load %.2f s, second %.2f s", (t1 - t0) / 1000,
                 (t2 - t1) / 1000);
    sp_medialib_destroy (&ml);
}

// ------------------------------------------------------------ the table row
//  The folder row of tests/integration/test_medialib_table.c: the demo's
//  Plex library written as tagged files under a temp folder, plus the new
//  download in its Transfer folder (part of the library: no rescan needed).
//  The table's new file is at a fixed /music path, which a folder library
//  cannot hold; the row therefore needs the table to take the new file's
//  path from the row (TM_HAS_NEW_PATH: tm_backend_t.new_path/new_dir).
#if __has_include("test_medialib_table.h")
#include "test_medialib_table.h"
#endif
#if defined(TM_HAS_NEW_PATH)
typedef struct {
    char root[400];
    char playlists[500];
    char new_path[900];
    char new_dir[700];
} s_row_env_t;

static s_row_env_t s_row_env;

static int
s_row_start (tm_backend_t *self, sp_medialib_opts_t *opts)
{
    s_row_env_t *e = self->env;
    sp_test_init (&s_t, true);
    snprintf (e->root, sizeof e->root, "%s/music", s_t.dir);
    snprintf (e->playlists, sizeof e->playlists, "%s/Playlists", e->root);
    json_t *plex = tu_demo_plex_tracks ();
    size_t i;
    json_t *m;
    json_array_foreach (plex, i, m)
    {
        json_t *part = json_array_get (
            json_object_get (json_array_get (json_object_get (m, "Media"), 0), "Part"), 0);
        const char *file = json_string_value (json_object_get (part, "file"));
        char path[1024];
        snprintf (path, sizeof path, "%s%s", e->root, file + strlen (TU_DEMO_PLEX_ROOT));
        const char *aa = json_string_value (json_object_get (m, "grandparentTitle"));
        const char *ta = json_string_value (json_object_get (m, "originalTitle"));
        json_int_t dur = json_integer_value (json_object_get (m, "duration"));
        s_audio (path, json_string_value (json_object_get (m, "title")), ta ? ta : aa, aa,
                 json_string_value (json_object_get (m, "parentTitle")),
                 (unsigned) ((dur + 500) / 1000));
    }
    json_decref (plex);
    snprintf (e->new_dir, sizeof e->new_dir, "%s%s", e->root,
              TM_NEW_DIR + strlen (TU_DEMO_PLEX_ROOT));
    snprintf (e->new_path, sizeof e->new_path, "%s%s", e->root,
              TM_NEW_PATH + strlen (TU_DEMO_PLEX_ROOT));
    s_audio (e->new_path, TM_NEW_TITLE, TM_NEW_ARTIST, TM_NEW_ARTIST, TM_NEW_ALBUM,
             TM_NEW_MS / 1000);
    self->new_path = e->new_path;
    self->new_dir = e->new_dir;
    opts->library_dir = e->root;
    opts->playlist_dir = e->playlists;
    opts->store = s_t.store;
    return 0;
}

//  The m3u8's entries as absolute paths (the item ids), and how many
//  playlist files of that name exist.
static json_t *
s_row_server_playlist (tm_backend_t *self, const char *id, const char *name, int *same_name)
{
    s_row_env_t *e = self->env;
    char *file = sp_path_sanitize_ext (name, "m3u8", SP_PATH_NAME_MAX);
    cr_assert_not_null (file);
    char want[900];
    snprintf (want, sizeof want, "%s/%s", e->playlists, file);
    free (file);
    cr_expect_str_eq (id, want);
    *same_name = access (want, R_OK) == 0 ? 1 : 0;
    json_t *ids = json_array ();
    char *text = s_read (want);
    for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char abs[1200];
        if (line[0] == '/')
            snprintf (abs, sizeof abs, "%s", line);
        else
            snprintf (abs, sizeof abs, "%s/%s", e->playlists, line);
        json_array_append_new (ids, json_string (abs));
    }
    free (text);
    return ids;
}

static void
s_row_stop (tm_backend_t *self)
{
    (void) self;
    sp_test_fini (&s_t);
}

void
tm_row_folder (tm_backend_t *row)
{
    memset (&s_row_env, 0, sizeof s_row_env);
    *row = (tm_backend_t){.name = "folder",
                          .kind = SP_MEDIALIB_FOLDER,
                          .paths_as_plex = false,
                          .env = &s_row_env,
                          .start = s_row_start,
                          .server_playlist = s_row_server_playlist,
                          .stop = s_row_stop};
}
#endif
