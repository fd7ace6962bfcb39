/*  medialib_folder.c: the folder backend of the media library (see
    medialib.h): no server, the music files themselves.

    SOULPIPE_LIBRARY_DIR is one or more folders separated by ':' (a folder
    inside another listed one is dropped: its files are already counted).
    The Transfer folder may be one of them; then what soulpipe files is in
    the library at once, and no rescan is needed.

      load             walks every folder, following no symlink below it:
                       directories are opened with openat(O_DIRECTORY |
                       O_NOFOLLOW), entries looked at with fstatat
                       (AT_SYMLINK_NOFOLLOW), and a file whose tags must be
                       read is opened with O_NOFOLLOW and handed to TagLib
                       as /proc/self/fd/N, so what is read is the file that
                       was checked. Names starting with '.' are skipped
                       (hidden files, soulpipe's temporaries). Files: the
                       extensions soulpipe/tags.h knows (flac, mp3, ogg,
                       oga, opus, m4a, mp4, m4b).
                       Tags (one TagLib open per file, medialib_folder_
                       tags.cpp): TITLE (else the file name without its
                       extension), ARTIST, ARTISTS, ALBUMARTIST, ALBUM and
                       the duration. A file TagLib cannot read is left out.
      the cache        one Redis hash per folder, key
                       "soulpipe:folderlib:v1:<folder>", field = the path
                       below the folder, value = mtime (ns), size, duration
                       and the tags, NUL-separated. A file whose mtime and
                       size match its entry is not opened at all; entries of
                       files that are gone are deleted. Without a store
                       (no Redis URL) every load reads every file.
      rescan           nothing to do: OK at once (caps without
                       RESCAN_NEEDED).
      find_item        the item id is the path itself, once checked to be a
                       regular file inside one of the folders (no symlink on
                       the way).
      playlist_upsert  <SOULPIPE_LIBRARY_PLAYLIST_DIR>/<name>.m3u8 (default:
                       the first library folder), "#EXTM3U", "#PLAYLIST:"
                       and one line per file: the path RELATIVE to the
                       playlist's folder when the file lies below it, else
                       ABSOLUTE (what media players and servers importing
                       m3u8 accept). Written to a temporary file in the same
                       folder, fsync'ed and renamed over the old one, so a
                       reader never sees half a playlist. The playlist id is
                       the .m3u8 file's path (the same on every update).
*/
#include "medialib_folder.h"

#include "soulpipe/log.h"
#include "soulpipe/medialib.h"
#include "soulpipe/path.h"
#include "soulpipe/store.h"
#include "soulpipe/tags.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_KEY_PREFIX  "soulpipe:folderlib:v1:"  //  + folder: the cache hash
#define S_MAX_DEPTH   64                        //  directory levels below a folder
#define S_MAX_ROOTS   16                        //  folders in SOULPIPE_LIBRARY_DIR
#define S_BATCH       512                       //  fields per HSET / HDEL
#define S_MAX_ARTISTS 16                        //  ARTISTS values passed on
#define S_REC_FIELDS  8                         //  fields of a cache value

typedef struct {
    char *roots[S_MAX_ROOTS];  //  the folders, no trailing '/'
    size_t n_roots;            //  how many
    char *playlist_dir;        //  where .m3u8 files go
    sp_store_t *store;         //  the cache (NULL: none)
    bool own_store;            //  store was opened here
} s_folder_t;

// ------------------------------------------------------------ lifecycle

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_folder_t *self = *state_p;
    for (size_t i = 0; i < self->n_roots; i++)
        free (self->roots[i]);
    free (self->playlist_dir);
    if (self->own_store)
        sp_store_destroy (&self->store);
    free (self);
    *state_p = NULL;
}

//  True when a lies inside b (or is b).
static bool
s_inside (const char *a, const char *b)
{
    size_t bl = strlen (b);
    return strncmp (a, b, bl) == 0 && (a[bl] == '\0' || a[bl] == '/' || bl == 1);
}

static void *
s_create (const sp_medialib_opts_t *opts, char *note, size_t n)
{
    const char *dirs = opts->library_dir;
    if (!dirs || !*dirs) {
        snprintf (note, n,
                  "SOULPIPE_LIBRARY_DIR is not set (the music folder, or several "
                  "separated by ':')");
        return NULL;
    }
    s_folder_t *self = calloc (1, sizeof *self);
    if (!self)
        goto oom;
    for (const char *p = dirs; *p;) {
        const char *e = strchr (p, ':');
        size_t len = e ? (size_t) (e - p) : strlen (p);
        while (len > 1 && p[len - 1] == '/')
            len--;
        if (len > 0) {
            if (p[0] != '/') {
                snprintf (note, n, "SOULPIPE_LIBRARY_DIR: \"%.*s\" is not an absolute path",
                          (int) (len > 200 ? 200 : len), p);
                goto fail;
            }
            if (self->n_roots == S_MAX_ROOTS) {
                snprintf (note, n, "SOULPIPE_LIBRARY_DIR lists more than %d folders", S_MAX_ROOTS);
                goto fail;
            }
            char *r = strndup (p, len);
            if (!r)
                goto oom;
            self->roots[self->n_roots++] = r;
        }
        p += len;
        while (*p == '/')
            p++;  //  trailing slashes cut above
        if (*p == ':')
            p++;
    }
    if (self->n_roots == 0) {
        snprintf (note, n, "SOULPIPE_LIBRARY_DIR names no folder");
        goto fail;
    }
    //  a folder inside another listed one would report its files twice
    for (size_t i = 0; i < self->n_roots; i++)
        for (size_t j = 0; j < self->n_roots; j++)
            if (i != j && self->roots[i] && self->roots[j] &&
                s_inside (self->roots[i], self->roots[j])) {
                sp_log_info ("event=folderlib_nested folder=%s inside=%s",
                             sp_log_q (self->roots[i]), sp_log_q (self->roots[j]));
                free (self->roots[i]);
                self->roots[i] = NULL;
                break;
            }
    size_t k = 0;
    for (size_t i = 0; i < self->n_roots; i++)
        if (self->roots[i])
            self->roots[k++] = self->roots[i];
    self->n_roots = k;
    const char *pl =
        opts->playlist_dir && *opts->playlist_dir ? opts->playlist_dir : self->roots[0];
    if (pl[0] != '/') {
        snprintf (note, n, "SOULPIPE_LIBRARY_PLAYLIST_DIR must be an absolute path");
        goto fail;
    }
    self->playlist_dir = strdup (pl);
    if (!self->playlist_dir)
        goto oom;
    size_t pll = strlen (self->playlist_dir);
    while (pll > 1 && self->playlist_dir[pll - 1] == '/')
        self->playlist_dir[--pll] = '\0';
    if (opts->store)
        self->store = opts->store;
    else if (opts->redis_url && *opts->redis_url) {
        char err[256] = "";
        self->store = sp_store_new (opts->redis_url, err, sizeof err);
        if (!self->store) {
            snprintf (note, n, "the folder library's cache (Redis) is unreachable: %s", err);
            goto fail;
        }
        self->own_store = true;
    }
    return self;
oom:
    snprintf (note, n, "out of memory");
fail:
    if (self) {
        void *p = self;
        s_destroy (&p);
    }
    return NULL;
}

// ------------------------------------------------------------ the cache

//  One pending HSET or HDEL.
typedef struct {
    const char *cmd;               //  "HSET" or "HDEL"
    const char *key;               //  borrowed
    int per;                       //  argv entries per item (2 or 1)
    int argc;                      //  used
    char *argv[2 + 2 * S_BATCH];   //  [0], [1] borrowed, the rest owned
    size_t lens[2 + 2 * S_BATCH];  //  lengths
} s_batch_t;

static void
s_batch_flush (sp_store_t *store, s_batch_t *b)
{
    if (b->argc > 2 && store) {
        b->argv[0] = (char *) b->cmd;
        b->lens[0] = strlen (b->cmd);
        b->argv[1] = (char *) b->key;
        b->lens[1] = strlen (b->key);
        redisReply *r = NULL;
        int rc = sp_store_command (store, b->argc, (const char **) b->argv, b->lens, &r);
        if (rc != SP_STORE_OK || !r || r->type == REDIS_REPLY_ERROR)
            sp_log_warn (
                "event=folderlib_cache_write_failed cmd=%s error=%s", b->cmd,
                sp_log_q (r && r->type == REDIS_REPLY_ERROR ? r->str : sp_store_strerror (rc)));
        if (r)
            freeReplyObject (r);
    }
    for (int i = 2; i < b->argc; i++)
        free (b->argv[i]);
    b->argc = 2;
}

//  Add an item (a field, and its value for HSET; both copied).
static void
s_batch_add (sp_store_t *store, s_batch_t *b, const char *field, size_t flen, const char *value,
             size_t vlen)
{
    if (!store)
        return;
    char *f = malloc (flen + 1);
    char *v = b->per == 2 ? malloc (vlen + 1) : NULL;
    if (!f || (b->per == 2 && !v)) {
        free (f);
        free (v);
        return;  //  the cache is best effort
    }
    memcpy (f, field, flen);
    f[flen] = '\0';
    b->argv[b->argc] = f;
    b->lens[b->argc++] = flen;
    if (v) {
        if (vlen)
            memcpy (v, value, vlen);
        v[vlen] = '\0';
        b->argv[b->argc] = v;
        b->lens[b->argc++] = vlen;
    }
    if (b->argc + b->per > 2 + 2 * S_BATCH)
        s_batch_flush (store, b);
}

//  A decoded cache value: pointers into the reply's string.
typedef struct {
    int64_t mtime_ns;
    int64_t size;
    uint64_t duration_ms;
    const char *title, *artist, *artists, *album_artist, *album;  //  "" = none
} s_rec_t;

static bool
s_rec_decode (const char *v, size_t len, s_rec_t *r)
{
    const char *f[S_REC_FIELDS];
    size_t k = 0;
    const char *p = v, *end = v + len;
    while (k < S_REC_FIELDS && p <= end) {
        f[k++] = p;
        const char *z = memchr (p, '\0', (size_t) (end - p));
        if (!z)
            break;
        p = z + 1;
    }
    if (k != S_REC_FIELDS || v[len] != '\0')
        return false;
    char *e;
    r->mtime_ns = strtoll (f[0], &e, 10);
    if (*e)
        return false;
    r->size = strtoll (f[1], &e, 10);
    if (*e)
        return false;
    r->duration_ms = strtoull (f[2], &e, 10);
    if (*e)
        return false;
    r->title = f[3];
    r->artist = f[4];
    r->artists = f[5];
    r->album_artist = f[6];
    r->album = f[7];
    return true;
}

//  Encode into a malloc'd buffer; *len_out its length (without the final NUL).
static char *
s_rec_encode (int64_t mtime_ns, int64_t size, const sp_medialib_folder_tags_t *t, const char *title,
              size_t *len_out)
{
    char head[80];
    int hl = snprintf (head, sizeof head, "%" PRId64 "%c%" PRId64 "%c%" PRIu64, mtime_ns, '\0',
                       size, '\0', t->duration_ms);
    const char *parts[5] = {title, t->artist, t->artists, t->album_artist, t->album};
    size_t len = (size_t) hl;
    for (int i = 0; i < 5; i++)
        len += 1 + (parts[i] ? strlen (parts[i]) : 0);
    char *out = malloc (len + 1);
    if (!out)
        return NULL;
    memcpy (out, head, (size_t) hl);
    size_t o = (size_t) hl;
    for (int i = 0; i < 5; i++) {
        out[o++] = '\0';
        size_t pl = parts[i] ? strlen (parts[i]) : 0;
        memcpy (out + o, parts[i] ? parts[i] : "", pl);
        o += pl;
    }
    out[o] = '\0';
    *len_out = o;
    return out;
}

// ------------------------------------------------------------ the scan

typedef struct {
    s_folder_t *self;
    const char *root;          //  the folder being walked
    char *key;                 //  its cache key
    redisReply *cache;         //  HGETALL reply or NULL
    size_t *slots;             //  open addressing: field element index + 1
    size_t nslots;             //  a power of two
    unsigned char *seen;       //  per cache entry
    s_batch_t *set, *del;      //  pending writes
    sp_medialib_track_fn *fn;  //  the caller's callback
    void *arg;
    char *note;
    size_t n;
    char rel[4096];              //  path below root being built
    size_t files, read, cached;  //  counters
    int rc;                      //  first error
} s_scan_t;

static uint64_t
s_hash (const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void
s_cache_index (s_scan_t *sc)
{
    redisReply *r = sc->cache;
    size_t entries = r->elements / 2;
    size_t ns = 16;
    while (ns < entries * 2)
        ns *= 2;
    sc->slots = calloc (ns, sizeof *sc->slots);
    sc->seen = calloc (entries ? entries : 1, 1);
    if (!sc->slots || !sc->seen) {
        free (sc->slots);
        free (sc->seen);
        sc->slots = NULL;
        sc->seen = NULL;
        return;  //  no index: every file is read
    }
    sc->nslots = ns;
    for (size_t e = 0; e < entries; e++) {
        redisReply *f = r->element[2 * e];
        if (f->type != REDIS_REPLY_STRING)
            continue;
        size_t h = (size_t) s_hash (f->str, f->len) & (ns - 1);
        while (sc->slots[h])
            h = (h + 1) & (ns - 1);
        sc->slots[h] = 2 * e + 1;
    }
}

//  The cache entry index (0-based) of rel, or -1.
static long
s_cache_find (s_scan_t *sc, const char *rel, size_t len)
{
    if (!sc->slots)
        return -1;
    size_t h = (size_t) s_hash (rel, len) & (sc->nslots - 1);
    while (sc->slots[h]) {
        redisReply *f = sc->cache->element[sc->slots[h] - 1];
        if (f->len == len && memcmp (f->str, rel, len) == 0)
            return (long) ((sc->slots[h] - 1) / 2);
        h = (h + 1) & (sc->nslots - 1);
    }
    return -1;
}

static const char *
s_nz (const char *s)
{
    return s && *s ? s : NULL;
}

//  Hand one track to the callback. Returns 0 or -1 (stop).
static int
s_emit (s_scan_t *sc, const s_rec_t *r)
{
    if (!*r->title)
        return 0;  //  unreadable file, remembered so it is not read again
    char path[8192];
    int pl = snprintf (path, sizeof path, "%s/%s", sc->root, sc->rel);
    if (pl < 0 || (size_t) pl >= sizeof path)
        return 0;
    const char *artists[S_MAX_ARTISTS];
    char abuf[2048];
    size_t na = 0;
    if (*r->artists && strlen (r->artists) < sizeof abuf) {
        strcpy (abuf, r->artists);
        for (char *p = abuf; p && *p && na < S_MAX_ARTISTS;) {
            artists[na++] = p;
            p = strchr (p, '\x1f');
            if (p)
                *p++ = '\0';
        }
    }
    sp_medialib_track_t t = {.title = r->title,
                             .artist = s_nz (r->artist),
                             .artists = na ? artists : NULL,
                             .n_artists = na,
                             .album_artist = s_nz (r->album_artist),
                             .album = s_nz (r->album),
                             .duration_ms = r->duration_ms,
                             .path = path,
                             .item_id = path};
    if (!sc->fn)
        return 0;
    sc->note[0] = '\0';
    if (sc->fn (&t, sc->arg, sc->note, sc->n) != 0) {
        if (!sc->note[0])
            snprintf (sc->note, sc->n, "stopped by the caller");
        sc->rc = SP_MEDIALIB_ERR;
        return -1;
    }
    return 0;
}

//  One regular file (name in dfd, its rel path in sc->rel).
static int
s_file (s_scan_t *sc, int dfd, const char *name, const struct stat *st, size_t rel_len)
{
    sp_tags_format_t fmt = sp_tags_format (name);
    if (fmt == SP_TAGS_FMT_NONE)
        return 0;
    sc->files++;
    int64_t mtime = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    long e = s_cache_find (sc, sc->rel, rel_len);
    if (e >= 0) {
        sc->seen[e] = 1;
        redisReply *v = sc->cache->element[2 * e + 1];
        s_rec_t r;
        if (v->type == REDIS_REPLY_STRING && s_rec_decode (v->str, v->len, &r) &&
            r.mtime_ns == mtime && r.size == (int64_t) st->st_size) {
            sc->cached++;
            return s_emit (sc, &r);
        }
    }
    //  new or changed: open without following a symlink, check what was
    //  opened, and let TagLib read that very file
    int fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat fst;
    if (fstat (fd, &fst) != 0 || !S_ISREG (fst.st_mode)) {
        close (fd);
        return 0;
    }
    mtime = (int64_t) fst.st_mtim.tv_sec * 1000000000 + fst.st_mtim.tv_nsec;
    char proc[64];
    snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
    sp_medialib_folder_tags_t t;
    int rd = sp_medialib_folder_read_tags (proc, (int) fmt, &t);
    close (fd);
    sc->read++;
    char stem[512] = "";
    if (rd == 0 && !s_nz (t.title)) {
        //  no TITLE: the file name without its extension, as servers do
        snprintf (stem, sizeof stem, "%s", name);
        char *dot = strrchr (stem, '.');
        if (dot && dot != stem)
            *dot = '\0';
    }
    const char *title = rd == 0 ? (s_nz (t.title) ? t.title : stem) : "";
    size_t vlen = 0;
    char *val = s_rec_encode (mtime, (int64_t) fst.st_size, &t, title, &vlen);
    int ret = 0;
    if (val) {
        s_rec_t r;
        if (s_rec_decode (val, vlen, &r))
            ret = s_emit (sc, &r);
        s_batch_add (sc->self->store, sc->set, sc->rel, rel_len, val, vlen);
        free (val);
    }
    sp_medialib_folder_tags_clear (&t);
    return ret;
}

//  Walk the open directory dfd (taken over: closed here) at sc->rel.
static int
s_dir (s_scan_t *sc, int dfd, size_t rel_len, int depth)
{
    DIR *d = fdopendir (dfd);
    if (!d) {
        close (dfd);
        return 0;
    }
    struct dirent *de;
    int ret = 0;
    while (ret == 0 && (de = readdir (d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.')
            continue;  //  ".", "..", hidden files, soulpipe's temporaries
        if (de->d_type == DT_LNK)
            continue;
        if (de->d_type == DT_REG && sp_tags_format (name) == SP_TAGS_FMT_NONE)
            continue;  //  cover.jpg, .m3u8, ...: not even a stat
        size_t nl = strlen (name);
        if (rel_len + (rel_len ? 1 : 0) + nl + 1 > sizeof sc->rel)
            continue;
        size_t nlen = rel_len;
        if (rel_len)
            sc->rel[nlen++] = '/';
        memcpy (sc->rel + nlen, name, nl + 1);
        nlen += nl;
        struct stat st;
        if (fstatat (dirfd (d), name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            if (S_ISDIR (st.st_mode) && depth < S_MAX_DEPTH) {
                int sub = openat (dirfd (d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                    ret = s_dir (sc, sub, nlen, depth + 1);
            } else if (S_ISREG (st.st_mode))
                ret = s_file (sc, dirfd (d), name, &st, nlen);
        }
        sc->rel[rel_len] = '\0';
    }
    closedir (d);
    return ret;
}

static int
s_scan_root (s_folder_t *self, const char *root, sp_medialib_track_fn *fn, void *arg, char *note,
             size_t n, size_t *files, size_t *read)
{
    s_scan_t *sc = calloc (1, sizeof *sc);
    s_batch_t *set = calloc (1, sizeof *set), *del = calloc (1, sizeof *del);
    int rc = SP_MEDIALIB_OK;
    if (!sc || !set || !del) {
        snprintf (note, n, "out of memory while scanning %s", sp_log_q (root));
        rc = SP_MEDIALIB_ERR_NOMEM;
        goto done;
    }
    sc->self = self;
    sc->root = root;
    sc->fn = fn;
    sc->arg = arg;
    sc->note = note;
    sc->n = n;
    size_t kl = strlen (S_KEY_PREFIX) + strlen (root) + 1;
    sc->key = malloc (kl);
    if (!sc->key) {
        rc = SP_MEDIALIB_ERR_NOMEM;
        snprintf (note, n, "out of memory");
        goto done;
    }
    snprintf (sc->key, kl, "%s%s", S_KEY_PREFIX, root);
    *set = (s_batch_t){.cmd = "HSET", .key = sc->key, .per = 2, .argc = 2};
    *del = (s_batch_t){.cmd = "HDEL", .key = sc->key, .per = 1, .argc = 2};
    sc->set = set;
    sc->del = del;
    int dfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        snprintf (note, n, "the music folder %s cannot be read (%s): check SOULPIPE_LIBRARY_DIR",
                  sp_log_q (root), strerror (errno));
        rc = errno == ENOENT || errno == ENOTDIR ? SP_MEDIALIB_ERR_CONFIG
                                                 : SP_MEDIALIB_ERR_UNREACHABLE;
        goto done;
    }
    if (self->store) {
        const char *argv[] = {"HGETALL", sc->key};
        size_t lens[] = {7, strlen (sc->key)};
        redisReply *r = NULL;
        int src = sp_store_command (self->store, 2, argv, lens, &r);
        if (src == SP_STORE_OK && r && r->type == REDIS_REPLY_ARRAY && r->elements % 2 == 0) {
            sc->cache = r;
            s_cache_index (sc);
        } else {
            sp_log_warn (
                "event=folderlib_cache_read_failed folder=%s error=%s", sp_log_q (root),
                sp_log_q (r && r->type == REDIS_REPLY_ERROR ? r->str : sp_store_strerror (src)));
            if (r)
                freeReplyObject (r);
        }
    }
    if (s_dir (sc, dfd, 0, 0) != 0)
        rc = sc->rc ? sc->rc : SP_MEDIALIB_ERR;
    //  entries of files that are gone (only after a complete walk)
    if (rc == SP_MEDIALIB_OK && sc->cache && sc->seen)
        for (size_t e = 0; e < sc->cache->elements / 2; e++)
            if (!sc->seen[e]) {
                redisReply *f = sc->cache->element[2 * e];
                s_batch_add (self->store, del, f->str, f->len, NULL, 0);
            }
    s_batch_flush (self->store, set);
    s_batch_flush (self->store, del);
    *files += sc->files;
    *read += sc->read;
done:
    if (sc) {
        if (sc->cache)
            freeReplyObject (sc->cache);
        free (sc->slots);
        free (sc->seen);
        free (sc->key);
    }
    free (sc);
    free (set);
    free (del);
    return rc;
}

static int
s_load (void *state, sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
    s_folder_t *self = state;
    size_t files = 0, read = 0;
    for (size_t i = 0; i < self->n_roots; i++) {
        int rc = s_scan_root (self, self->roots[i], fn, arg, note, n, &files, &read);
        if (rc != SP_MEDIALIB_OK)
            return rc;
    }
    sp_log_info ("event=folderlib_loaded folders=%zu files=%zu read=%zu cached=%zu", self->n_roots,
                 files, read, files - read);
    return SP_MEDIALIB_OK;
}

static int
s_rescan (void *state, const char *path, int timeout_ms, char *note, size_t n)
{
    (void) state;
    (void) path;
    (void) timeout_ms;
    (void) note;
    (void) n;
    return SP_MEDIALIB_OK;  //  the next load sees what changed
}

// ------------------------------------------------------------ find_item

//  0 when rel (below the open directory rootfd) is a regular file reached
//  through real directories only.
static int
s_check_under (int rootfd, const char *rel)
{
    char buf[4096];
    if (strlen (rel) >= sizeof buf)
        return -1;
    strcpy (buf, rel);
    int fd = dup (rootfd);
    if (fd < 0)
        return -1;
    char *p = buf;
    for (;;) {
        char *slash = strchr (p, '/');
        if (slash)
            *slash = '\0';
        if (!*p || strcmp (p, ".") == 0 || strcmp (p, "..") == 0) {
            close (fd);
            return -1;
        }
        if (!slash) {
            struct stat st;
            int ok = fstatat (fd, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
            close (fd);
            return ok ? 0 : -1;
        }
        int next = openat (fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close (fd);
        if (next < 0)
            return -1;
        fd = next;
        p = slash + 1;
    }
}

static int
s_find_item (void *state, const char *path, char **item_id, char *note, size_t n)
{
    s_folder_t *self = state;
    *item_id = NULL;
    for (size_t i = 0; i < self->n_roots; i++) {
        const char *root = self->roots[i];
        size_t rl = strlen (root);
        if (strncmp (path, root, rl) != 0 || path[rl] != '/')
            continue;
        int rfd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
            continue;
        int ok = s_check_under (rfd, path + rl + 1);
        close (rfd);
        if (ok != 0) {
            snprintf (note, n,
                      "no music file at %s in the folder library (missing, not a regular file, "
                      "or reached through a symlink)",
                      sp_log_q (path));
            return SP_MEDIALIB_ERR_NOTFOUND;
        }
        *item_id = strdup (path);
        if (!*item_id) {
            snprintf (note, n, "out of memory");
            return SP_MEDIALIB_ERR_NOMEM;
        }
        return SP_MEDIALIB_OK;
    }
    snprintf (note, n, "%s is not inside SOULPIPE_LIBRARY_DIR", sp_log_q (path));
    return SP_MEDIALIB_ERR_NOTFOUND;
}

// ------------------------------------------------------------ playlists

static int
s_write_all (int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t w = write (fd, s, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += w;
        len -= (size_t) w;
    }
    return 0;
}

static int
s_playlist_upsert (void *state, const char *name, const char *const *item_ids, size_t count,
                   char **playlist_id, char *note, size_t n)
{
    s_folder_t *self = state;
    char *file = sp_path_sanitize_ext (name, "m3u8", SP_PATH_NAME_MAX);
    char *text = NULL;
    size_t len = 0, cap = 0;
    int dfd = -1, fd = -1, rc = SP_MEDIALIB_ERR;
    char tmp[SP_PATH_TMPNAME_SIZE] = "";
    if (!file)
        goto oom;
    size_t pl = strlen (self->playlist_dir);
    //  the text: header, then one path per line
    for (size_t i = 0; i <= count; i++) {
        char head[600];
        const char *line = head;
        if (i == 0) {
            char clean[512];
            snprintf (clean, sizeof clean, "%s", name);
            for (char *c = clean; *c; c++)
                if (*c == '\n' || *c == '\r')
                    *c = ' ';
            snprintf (head, sizeof head, "#EXTM3U\n#PLAYLIST:%s\n", clean);
        } else {
            const char *p = item_ids[i - 1];
            if (!p || !*p || strpbrk (p, "\r\n")) {
                sp_log_warn ("event=folderlib_playlist_skip playlist=%s path=%s", sp_log_q (name),
                             sp_log_q (p));
                continue;
            }
            if (strncmp (p, self->playlist_dir, pl) == 0 && p[pl] == '/')
                p += pl + 1;
            line = p;
        }
        size_t ll = strlen (line) + 1;
        if (len + ll + 1 > cap) {
            size_t nc = cap ? cap * 2 : 4096;
            while (nc < len + ll + 1)
                nc *= 2;
            char *t = realloc (text, nc);
            if (!t)
                goto oom;
            text = t;
            cap = nc;
        }
        memcpy (text + len, line, ll - 1);
        len += ll - 1;
        if (i > 0)
            text[len++] = '\n';
        text[len] = '\0';
    }
    if (mkdir (self->playlist_dir, 0777) != 0 && errno != EEXIST) {
        snprintf (note, n,
                  "cannot create the playlist folder %s (%s): check "
                  "SOULPIPE_LIBRARY_PLAYLIST_DIR",
                  sp_log_q (self->playlist_dir), strerror (errno));
        goto done;
    }
    int prc = sp_path_mkdirs_at (self->playlist_dir, NULL, 0, &dfd);
    if (prc == SP_PATH_OK)
        prc = sp_path_open_tmp_at (dfd, file, tmp, sizeof tmp, &fd);
    if (prc == SP_PATH_OK && s_write_all (fd, text, len) != 0)
        prc = SP_PATH_ERR_IO;
    if (fd >= 0) {
        close (fd);
        fd = -1;
    }
    if (prc == SP_PATH_OK)
        prc = sp_path_commit_at (dfd, tmp, file, true);
    if (prc != SP_PATH_OK) {
        snprintf (note, n,
                  "cannot write the playlist %s in %s (%s): check "
                  "SOULPIPE_LIBRARY_PLAYLIST_DIR",
                  sp_log_q (file), sp_log_q (self->playlist_dir), sp_path_strerror (prc));
        if (dfd >= 0 && tmp[0])
            sp_path_discard_at (dfd, tmp);
        goto done;
    }
    sp_log_info ("event=folderlib_playlist_written dir=%s file=%s entries=%zu",
                 sp_log_q (self->playlist_dir), sp_log_q (file), count);
    if (playlist_id) {
        size_t il = pl + 1 + strlen (file) + 1;
        *playlist_id = malloc (il);
        if (!*playlist_id)
            goto oom;
        snprintf (*playlist_id, il, "%s/%s", self->playlist_dir, file);
    }
    rc = SP_MEDIALIB_OK;
    goto done;
oom:
    snprintf (note, n, "out of memory");
    rc = SP_MEDIALIB_ERR_NOMEM;
done:
    if (dfd >= 0)
        close (dfd);
    free (text);
    free (file);
    return rc;
}

const sp_medialib_backend_t sp_medialib_folder_backend = {
    .name = "folder",
    .caps = SP_MEDIALIB_CAN_LOAD | SP_MEDIALIB_CAN_RESCAN | SP_MEDIALIB_CAN_RESCAN_PATH |
            SP_MEDIALIB_CAN_RESCAN_WAIT | SP_MEDIALIB_CAN_FIND_ITEM | SP_MEDIALIB_CAN_PLAYLIST |
            SP_MEDIALIB_CAN_PLAYLIST_KEEP,
    .create = s_create,
    .destroy = s_destroy,
    .load = s_load,
    .rescan = s_rescan,
    .find_item = s_find_item,
    .playlist_upsert = s_playlist_upsert,
};
