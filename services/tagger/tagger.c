/*  tagger.c: the tag stage (see tagger.h): layout, cover cache, tagging a
    copy in the destination folder, atomic rename, m3u8, songs index, Plex
    rescan. Handles the `tag` job of the broker through sp_tagger_process.
*/
#include "tagger.h"

#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"
#include "soulpipe/path.h"
#include "soulpipe/songs.h"
#include "soulpipe/tags.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_COVER_MAX         (10u * 1024 * 1024)  //  largest cover image, bytes
#define S_LOCK_TTL_MS       30000                //  per-playlist m3u8 lock lease, ms
#define S_LOCK_WAIT_MS      30000                //  longest wait for the lock, ms
#define S_LOCK_POLL_MS      25                   //  lock poll interval, ms
#define S_RESCAN_FLAG_TTL_S 2592000              //  keep the "rescanned" flag 30 days
#define S_MAX_SUFFIX        99                   //  "(2)".."(99)" collision names
#define S_COPY_BUF          65536
#define S_M3U8_PROGRESS_MS  1000  //  progress m3u8 rewritten at most this often per job, ms
#define TAGGER_TMP_SWEEP_S  2     //  temporary files this old and unlocked are a dead writer's
#define S_FINISHED_KEY      "soulpipe:finished"   //  jobs that ended (the store pushes)
#define S_FINISHING_KEY     "soulpipe:finishing"  //  popped, being finished

struct _sp_tagger_t {
    char *transfer_dir;     //  root of every file we write
    char *staging_real;     //  realpath of the staging dir ("" = unknown)
    char *plex_sections;    //  configured section keys ("" = all music)
    bool embed_cover;       //  embed the cover in the file
    sp_store_t *store;      //  Redis (NULL = none)
    sp_http_t *cover_http;  //  base = SPOTIFY_API_URL (relative cover URLs)
    sp_http_t *plex_http;   //  NULL = no Plex
    bool proc_fd;           //  /proc/self/fd usable for dirfd-relative paths
    int fail_point;         //  tests: 1 after copy, 2 after tag
    char token[40];         //  owner token of this tagger (pid + random)
    unsigned long serial;   //  makes every SET NX value unique
    char m3u8_job[72];      //  job of the last progress m3u8 written
    int64_t m3u8_at;        //  when (monotonic ms)
};

// ------------------------------------------------------------ helpers

static void s_reason (char *r, size_t n, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_reason (char *r, size_t n, const char *fmt, ...)
{
    if (!r || !n)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (r, n, fmt, ap);
    va_end (ap);
}

static char *
s_strdup (const char *s)
{
    return strdup (s ? s : "");
}

static char *
s_join_artists (char *const *v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen (v[i] ? v[i] : "") + 2;
    char *out = malloc (len);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || !*v[i])
            continue;
        if (*out)
            strcat (out, ", ");
        strcat (out, v[i]);
    }
    return out;
}

// ------------------------------------------------------------ layout

static bool
s_is_compilation (const sp_track_t *t)
{
    if (t->album_type && strcasecmp (t->album_type, "compilation") == 0)
        return true;
    return t->album_artists_count > 0 && t->album_artists[0] &&
           strcasecmp (t->album_artists[0], "Various Artists") == 0;
}

static bool
s_is_single (const sp_track_t *t)
{
    return !t->album || !*t->album || (t->album_type && strcasecmp (t->album_type, "single") == 0);
}

//  "<a> - <b>" sanitized as one component.
static char *
s_dash (const char *a, const char *b)
{
    size_t len = strlen (a) + strlen (b) + 4;
    char *raw = malloc (len);
    if (!raw)
        return NULL;
    snprintf (raw, len, "%s - %s", a, b);
    char *out = sp_path_sanitize (raw);
    free (raw);
    return out;
}

int
sp_tagger_layout (const sp_track_t *t, const char *ext_in, const char *suffix,
                  sp_tagger_layout_t *out)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    if (!t || !t->playlist || !*t->playlist || !t->title || !ext_in)
        return -1;
    char ext[SP_PATH_EXT_MAX + 1];
    size_t el = 0;
    for (const char *c = ext_in; *c && el < SP_PATH_EXT_MAX; c++)
        if (isalnum ((unsigned char) *c))
            ext[el++] = (char) tolower ((unsigned char) *c);
    ext[el] = '\0';
    if (el == 0)
        return -1;
    if (!suffix)
        suffix = "";

    const char *artist = NULL;
    if (!s_is_compilation (t) && t->album_artists_count > 0 && t->album_artists[0] &&
        *t->album_artists[0])
        artist = t->album_artists[0];
    else if (t->artists_count > 0 && t->artists[0] && *t->artists[0])
        artist = t->artists[0];
    else
        artist = "Unknown Artist";
    out->single = s_is_single (t);
    out->playlist = sp_path_sanitize (t->playlist);
    out->artist = sp_path_sanitize (artist);
    if (!out->playlist || !out->artist)
        goto fail;
    //  The album folder repeats the sanitized artist, so it matches the parent.
    out->album = s_dash (out->artist, out->single ? t->title : t->album);

    char stem[1100];
    if (!out->single && t->has_track_number)
        snprintf (stem, sizeof stem, "%02u - %s", (unsigned) t->track_number, t->title);
    else
        snprintf (stem, sizeof stem, "%s", t->title);
    size_t room = SP_PATH_NAME_MAX - el - 1 - strlen (suffix);
    if (strlen (suffix) > 64)
        goto fail;
    char *s = sp_path_sanitize_max (stem, room);
    if (!s || !out->album)
        goto fail;
    size_t len = strlen (s) + strlen (suffix) + el + 2;
    out->file = malloc (len);
    if (!out->file) {
        free (s);
        goto fail;
    }
    snprintf (out->file, len, "%s%s.%s", s, suffix, ext);
    free (s);
    if (!sp_path_is_safe (out->file)) {
        //  e.g. a suffix that is not itself safe: fall back to the sanitizer
        char *safe = sp_path_sanitize (out->file);
        free (out->file);
        out->file = safe;
        if (!safe)
            goto fail;
    }
    return 0;
fail:
    sp_tagger_layout_clear (out);
    return -1;
}

void
sp_tagger_layout_clear (sp_tagger_layout_t *l)
{
    if (!l)
        return;
    free (l->playlist);
    free (l->artist);
    free (l->album);
    free (l->file);
    memset (l, 0, sizeof *l);
}

// ------------------------------------------------------------ m3u8

typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
} s_buf_t;

static void
s_buf_add (s_buf_t *b, const char *s, bool oneline)
{
    size_t n = strlen (s);
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc (b->data, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    for (size_t i = 0; i < n; i++)
        b->data[b->len++] = oneline && (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    b->data[b->len] = '\0';
}

char *
sp_tagger_m3u8_render (const char *name, const char *playlist_dir, const sp_tagger_m3u8_entry_t *e,
                       size_t n)
{
    s_buf_t b = {0};
    s_buf_add (&b, "#EXTM3U\n#PLAYLIST:", false);
    s_buf_add (&b, name ? name : "", true);
    s_buf_add (&b, "\n", false);
    size_t plen = playlist_dir ? strlen (playlist_dir) : 0;
    for (size_t i = 0; i < n; i++) {
        char num[48];
        const char *artists = e[i].artists && *e[i].artists ? e[i].artists : "Unknown Artist";
        const char *title = e[i].title ? e[i].title : "";
        if (e[i].filed && e[i].path) {
            snprintf (num, sizeof num, "#EXTINF:%ld,", e[i].duration_s >= 0 ? e[i].duration_s : -1);
            s_buf_add (&b, num, false);
            s_buf_add (&b, artists, true);
            s_buf_add (&b, " - ", false);
            s_buf_add (&b, title, true);
            s_buf_add (&b, "\n", false);
            const char *p = e[i].path;
            if (plen && strncmp (p, playlist_dir, plen) == 0 && p[plen] == '/')
                p += plen + 1;
            s_buf_add (&b, p, true);
            s_buf_add (&b, "\n", false);
            continue;
        }
        snprintf (num, sizeof num, "# %zu. ", i + 1);
        s_buf_add (&b, num, false);
        s_buf_add (&b, artists, true);
        s_buf_add (&b, " - ", false);
        s_buf_add (&b, title, true);
        const char *state = e[i].state && *e[i].state ? e[i].state : "pending";
        bool skipped = strcmp (state, "skipped") == 0;
        s_buf_add (&b, " (", false);
        s_buf_add (&b, skipped ? "in library" : state, true);
        const char *extra =
            skipped ? e[i].path : (strcmp (state, "failed") == 0 ? e[i].reason : NULL);
        if (extra && *extra) {
            s_buf_add (&b, ": ", false);
            s_buf_add (&b, extra, true);
        }
        s_buf_add (&b, ")\n", false);
    }
    if (b.oom || !b.data) {
        free (b.data);
        return NULL;
    }
    return b.data;
}

// ------------------------------------------------------------ lifecycle

sp_tagger_t *
sp_tagger_new (const sp_tagger_opts_t *o, char *err, size_t n)
{
    if (!o || !o->transfer_dir || !*o->transfer_dir) {
        s_reason (err, n, "no transfer folder configured");
        return NULL;
    }
    sp_tagger_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->transfer_dir = s_strdup (o->transfer_dir);
    size_t tl = strlen (self->transfer_dir);
    while (tl > 1 && self->transfer_dir[tl - 1] == '/')
        self->transfer_dir[--tl] = '\0';
    char real[PATH_MAX];
    self->staging_real =
        s_strdup (o->staging_dir && *o->staging_dir && realpath (o->staging_dir, real) ? real : "");
    self->plex_sections = s_strdup (o->plex_sections);
    self->embed_cover = o->embed_cover;
    self->proc_fd = access ("/proc/self/fd", X_OK) == 0;
    uint64_t rnd = 0;
    if (getrandom (&rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
        rnd = (uint64_t) time (NULL) ^ (uint64_t) (uintptr_t) self;
    snprintf (self->token, sizeof self->token, "%ld-%016llx", (long) getpid (),
              (unsigned long long) rnd);
    if (!self->transfer_dir || !self->staging_real || !self->plex_sections)
        goto fail;
    if (o->redis_url && *o->redis_url) {
        self->store = sp_store_new (o->redis_url, err, n);
        if (!self->store)
            goto fail;
    }
    self->cover_http =
        sp_http_new (o->spotify_api_url && *o->spotify_api_url ? o->spotify_api_url : NULL);
    if (!self->cover_http)
        goto fail;
    sp_http_set_max_response (self->cover_http, S_COVER_MAX);
    sp_http_set_header (self->cover_http, "Accept", "image/*");
    sp_http_set_retries (self->cover_http, 2, 300, 3000);
    sp_http_set_timeouts (self->cover_http, 5000, 30000);
    if (o->plex_url && *o->plex_url) {
        self->plex_http = sp_http_new (o->plex_url);
        if (!self->plex_http)
            goto fail;
        if (o->plex_token && *o->plex_token)
            sp_http_set_header (self->plex_http, "X-Plex-Token", o->plex_token);
        sp_http_set_header (self->plex_http, "X-Plex-Product", "soulpipe");
        sp_http_set_retries (self->plex_http, 2, 500, 3000);
    }
    return self;
fail:
    if (err && n && !*err)
        s_reason (err, n, "out of memory");
    sp_tagger_destroy (&self);
    return NULL;
}

void
sp_tagger_destroy (sp_tagger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_tagger_t *self = *self_p;
    sp_store_destroy (&self->store);
    sp_http_destroy (&self->cover_http);
    sp_http_destroy (&self->plex_http);
    free (self->transfer_dir);
    free (self->staging_real);
    free (self->plex_sections);
    free (self);
    *self_p = NULL;
}

sp_store_t *
sp_tagger_store (sp_tagger_t *self)
{
    return self ? self->store : NULL;
}

void
sp_tagger_set_fail_point (sp_tagger_t *self, int point)
{
    if (self)
        self->fail_point = point;
}

// ------------------------------------------------------------ file helpers

//  A path TagLib can open for name in dirfd: through /proc/self/fd when
//  available (no path walk, so no symlink can redirect it), else joined.
static void
s_fd_path (sp_tagger_t *self, int dirfd, const char *dir_path, const char *name, char *out,
           size_t n)
{
    if (self->proc_fd)
        snprintf (out, n, "/proc/self/fd/%d/%s", dirfd, name);
    else
        snprintf (out, n, "%s/%s", dir_path, name);
}

//  Copy the open file src into dst. Returns 0 or -1 (errno set).
static int
s_copy_fd (int src, int dst)
{
    char *buf = malloc (S_COPY_BUF);
    if (!buf)
        return -1;
    int rc = 0;
    for (;;) {
        ssize_t r = read (src, buf, S_COPY_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        for (ssize_t off = 0; off < r;) {
            ssize_t w = write (dst, buf + off, (size_t) (r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -1;
                goto done;
            }
            off += w;
        }
    }
done:
    free (buf);
    return rc;
}

//  Is the existing file `path` this track? By SPOTIFY_TRACK_ID, or without
//  an id by its title and artist tags.
static bool
s_same_track (const char *path, const sp_track_t *t, const char *artist_joined)
{
    if (t->spotify_id && *t->spotify_id) {
        char *id = sp_tags_get1 (path, "SPOTIFY_TRACK_ID");
        bool same = id && strcmp (id, t->spotify_id) == 0;
        free (id);
        return same;
    }
    char *title = sp_tags_get1 (path, "TITLE");
    char *artist = sp_tags_get1 (path, "ARTIST");
    bool same = title && artist && strcmp (title, t->title) == 0 &&
                strcmp (artist, artist_joined ? artist_joined : "") == 0;
    free (title);
    free (artist);
    return same;
}

//  Read a whole small file under dirfd (no symlinks). Caller owns *data.
static int
s_read_at (int dirfd, const char *name, unsigned char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size <= 0 ||
        (uint64_t) st.st_size > S_COVER_MAX) {
        close (fd);
        return -1;
    }
    unsigned char *buf = malloc ((size_t) st.st_size);
    size_t got = 0;
    while (buf && got < (size_t) st.st_size) {
        ssize_t r = read (fd, buf + got, (size_t) st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t) r;
    }
    close (fd);
    if (!buf || got != (size_t) st.st_size) {
        free (buf);
        return -1;
    }
    *data = buf;
    *len = got;
    return 0;
}

//  Write data to name in dirfd atomically; an existing file wins.
static void
s_write_at (int dirfd, const char *name, const unsigned char *data, size_t len)
{
    char tmp[SP_PATH_TMPNAME_SIZE];
    int fd;
    if (sp_path_open_tmp_at (dirfd, name, tmp, sizeof tmp, &fd) != SP_PATH_OK)
        return;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write (fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t) w;
    }
    close (fd);
    if (off != len || sp_path_commit_at (dirfd, tmp, name, false) != SP_PATH_OK)
        sp_path_discard_at (dirfd, tmp);
}

// ------------------------------------------------------------ cover

static const char *
s_image_mime (const unsigned char *d, size_t n)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return "image/jpeg";
    if (n >= 8 && memcmp (d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    return NULL;
}

//  The album cover: cover.jpg / cover.png in the album folder, else
//  fetched from cover_url and saved there. Never fails the job.
static void
s_cover (sp_tagger_t *self, int albumfd, const sp_track_t *t, unsigned char **data, size_t *len,
         const char **mime)
{
    *data = NULL;
    *len = 0;
    *mime = NULL;
    static const char *const names[] = {"cover.jpg", "cover.png"};
    for (int i = 0; i < 2; i++)
        if (s_read_at (albumfd, names[i], data, len) == 0) {
            *mime = s_image_mime (*data, *len);
            if (*mime)
                return;
            free (*data);
            *data = NULL;
            *len = 0;
        }
    const char *url = t->cover_url;
    if (!url || !*url)
        return;
    bool absolute = strncmp (url, "http://", 7) == 0 || strncmp (url, "https://", 8) == 0;
    if (!absolute && url[0] != '/') {
        sp_log_warn ("event=cover_skip reason=\"unusable cover URL\" url=%s", sp_log_q (url));
        return;
    }
    sp_http_req_t req = {.allow_text = true};
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_request (self->cover_http, SP_HTTP_GET, url, &req, &resp);
    if (rc != SP_HTTP_OK || !resp) {
        sp_log_warn ("event=cover_fetch_failed album=%s error=%s", sp_log_q (t->album_id),
                     sp_log_q (resp && resp->error ? resp->error : sp_http_err_name (rc)));
        sp_http_resp_destroy (&resp);
        return;
    }
    const unsigned char *body = (const unsigned char *) resp->body;
    const char *m = s_image_mime (body, resp->body_len);
    if (!m) {
        sp_log_warn ("event=cover_fetch_failed album=%s error=\"not a JPEG or PNG image\"",
                     sp_log_q (t->album_id));
        sp_http_resp_destroy (&resp);
        return;
    }
    *data = malloc (resp->body_len);
    if (*data) {
        memcpy (*data, body, resp->body_len);
        *len = resp->body_len;
        *mime = m;
        s_write_at (albumfd, strcmp (m, "image/png") == 0 ? "cover.png" : "cover.jpg", *data, *len);
        sp_log_info ("event=cover_saved album=%s bytes=%zu", sp_log_q (t->album_id), *len);
    }
    sp_http_resp_destroy (&resp);
}

// ------------------------------------------------------------ Redis helpers

static redisReply *
s_cmd (sp_tagger_t *self, int argc, const char **argv)
{
    size_t lens[8];
    for (int i = 0; i < argc && i < 8; i++)
        lens[i] = strlen (argv[i]);
    redisReply *r = NULL;
    if (sp_store_command (self->store, argc, argv, lens, &r) != SP_STORE_OK)
        return NULL;
    return r;
}

//  A fresh value for one SET NX: "<token>-<serial>".
static void
s_value (sp_tagger_t *self, char *out, size_t n)
{
    snprintf (out, n, "%s-%lu", self->token, ++self->serial);
}

//  SET key value NX (PX|EX ttl). Resend-safe: a nil reply (the key exists)
//  is checked with GET, since a lost reply makes the store resend the SET.
static bool
s_set_nx (sp_tagger_t *self, const char *key, const char *value, const char *unit, const char *ttl)
{
    const char *argv[] = {"SET", key, value, "NX", unit, ttl};
    redisReply *r = s_cmd (self, 6, argv);
    if (!r)
        return false;
    bool ok = r->type == REDIS_REPLY_STATUS;
    freeReplyObject (r);
    if (ok)
        return true;
    const char *get[] = {"GET", key};
    r = s_cmd (self, 2, get);
    ok = r && r->type == REDIS_REPLY_STRING && strcmp (r->str, value) == 0;
    if (r)
        freeReplyObject (r);
    return ok;
}

static bool
s_lock (sp_tagger_t *self, const char *key, const char *value)
{
    char ttl[16];
    snprintf (ttl, sizeof ttl, "%d", S_LOCK_TTL_MS);
    for (int waited = 0; waited < S_LOCK_WAIT_MS; waited += S_LOCK_POLL_MS) {
        if (s_set_nx (self, key, value, "PX", ttl))
            return true;
        sp_clock_sleep_ms (S_LOCK_POLL_MS);
    }
    return false;
}

static void
s_unlock (sp_tagger_t *self, const char *key, const char *value)
{
    const char *argv[] = {"EVAL",
                          "if redis.call('get', KEYS[1]) == ARGV[1] then "
                          "return redis.call('del', KEYS[1]) else return 0 end",
                          "1", key, value};
    redisReply *r = s_cmd (self, 5, argv);
    if (r)
        freeReplyObject (r);
}

// ------------------------------------------------------------ m3u8 + rescan

typedef struct {
    sp_tagger_m3u8_entry_t *e;
    char **owned;  //  strings to free (artists text, copies)
    size_t n, cap, n_owned, cap_owned;
    const char *playlist_dir;  //  "<transfer>/<playlist>"
    const char *self_key;      //  this track: path and duration known here
    const char *self_path;
    long self_duration;
    bool oom;
} s_list_t;

static const char *
s_keep (s_list_t *l, char *s)
{
    if (!s) {
        l->oom = true;
        return "";
    }
    if (l->n_owned == l->cap_owned) {
        size_t cap = l->cap_owned ? l->cap_owned * 2 : 64;
        char **o = realloc (l->owned, cap * sizeof *o);
        if (!o) {
            free (s);
            l->oom = true;
            return "";
        }
        l->owned = o;
        l->cap_owned = cap;
    }
    l->owned[l->n_owned++] = s;
    return s;
}

//  The artists field of a track record: a JSON array or already joined text.
static char *
s_artists_text (const char *a)
{
    if (!a || a[0] != '[')
        return s_strdup (a);
    json_t *arr = json_loads (a, 0, NULL);
    if (!json_is_array (arr)) {
        json_decref (arr);
        return s_strdup (a);
    }
    size_t n = json_array_size (arr);
    char **v = calloc (n ? n : 1, sizeof *v);
    char *out = NULL;
    if (v) {
        for (size_t i = 0; i < n; i++)
            v[i] = (char *) json_string_value (json_array_get (arr, i));
        out = s_join_artists (v, n);
        free (v);
    }
    json_decref (arr);
    return out;
}

static int
s_collect (const sp_store_track_t *t, void *arg)
{
    s_list_t *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        sp_tagger_m3u8_entry_t *e = realloc (l->e, cap * sizeof *e);
        if (!e) {
            l->oom = true;
            return 1;
        }
        l->e = e;
        l->cap = cap;
    }
    sp_tagger_m3u8_entry_t *e = &l->e[l->n++];
    memset (e, 0, sizeof *e);
    e->state = s_keep (l, s_strdup (t->state));
    e->title = s_keep (l, s_strdup (t->title));
    e->artists = s_keep (l, s_artists_text (t->artists));
    e->reason = s_keep (l, s_strdup (t->reason));
    e->duration_s = -1;
    const char *path = t->path;
    bool mine = l->self_key && t->key && strcmp (t->key, l->self_key) == 0;
    if (mine)
        path = l->self_path;
    e->path = s_keep (l, s_strdup (path));
    size_t pl = strlen (l->playlist_dir);
    bool in_folder = path && strncmp (path, l->playlist_dir, pl) == 0 && path[pl] == '/';
    bool skipped = strcmp (e->state, "skipped") == 0;
    //  A track skipped because an earlier job of this playlist delivered it
    //  (songs index) has its file in this folder: list it as a file, or a
    //  resubmitted playlist's m3u8 would lose every track it already had.
    e->filed = in_folder && (mine || skipped || strcmp (e->state, "done") == 0 ||
                             strcmp (e->state, "tagging") == 0);
    if (e->filed) {
        if (mine)
            e->duration_s = l->self_duration;
        else if (skipped) {
            sp_tags_info_t info;
            if (sp_tags_probe (path, &info, NULL, 0) == SP_TAGS_OK && info.length_s > 0)
                e->duration_s = info.length_s;
        } else if (t->payload && t->payload_len) {
            sp_payload_t *p = NULL;
            if (sp_payload_decode (t->payload, t->payload_len, &p, NULL, 0) == SP_MSG_OK &&
                p->track.has_duration_ms)
                e->duration_s = (long) ((p->track.duration_ms + 500) / 1000);
            sp_payload_destroy (&p);
        }
    }
    return 0;
}

static void
s_list_free (s_list_t *l)
{
    for (size_t i = 0; i < l->n_owned; i++)
        free (l->owned[i]);
    free (l->owned);
    free (l->e);
}

//  Ask Plex to rescan the configured (or every music) section.
static void
s_plex_rescan (sp_tagger_t *self, const char *job)
{
    char keys[1024];
    snprintf (keys, sizeof keys, "%s", self->plex_sections);
    if (!*keys) {
        sp_http_resp_t *resp = NULL;
        const char *hdr[] = {"Accept: application/json", NULL};
        sp_http_req_t req = {.headers = hdr};
        int rc = sp_http_request (self->plex_http, SP_HTTP_GET, "/library/sections", &req, &resp);
        json_t *dirs =
            rc == SP_HTTP_OK && resp
                ? json_object_get (json_object_get (resp->json, "MediaContainer"), "Directory")
                : NULL;
        size_t i;
        json_t *d;
        json_array_foreach (dirs, i, d)
        {
            const char *type = json_string_value (json_object_get (d, "type"));
            const char *key = json_string_value (json_object_get (d, "key"));
            if (type && key && strcmp (type, "artist") == 0 &&
                strlen (keys) + strlen (key) + 2 < sizeof keys) {
                if (*keys)
                    strcat (keys, ",");
                strcat (keys, key);
            }
        }
        if (rc != SP_HTTP_OK)
            sp_log_warn ("event=plex_rescan_failed job=%s error=%s", sp_log_q (job),
                         sp_log_q (resp && resp->error ? resp->error : sp_http_err_name (rc)));
        sp_http_resp_destroy (&resp);
    }
    char *save = NULL;
    for (char *k = strtok_r (keys, ", ", &save); k; k = strtok_r (NULL, ", ", &save)) {
        char *enc = sp_http_urlencode (k);
        if (!enc)
            continue;
        char path[1200];
        snprintf (path, sizeof path, "/library/sections/%s/refresh", enc);
        free (enc);
        sp_http_req_t req = {.allow_text = true};
        sp_http_resp_t *resp = NULL;
        int rc = sp_http_request (self->plex_http, SP_HTTP_GET, path, &req, &resp);
        if (rc == SP_HTTP_OK)
            sp_log_info ("event=plex_rescan job=%s section=%s", sp_log_q (job), sp_log_q (k));
        else
            sp_log_warn ("event=plex_rescan_failed job=%s section=%s error=%s", sp_log_q (job),
                         sp_log_q (k),
                         sp_log_q (resp && resp->error ? resp->error : sp_http_err_name (rc)));
        sp_http_resp_destroy (&resp);
    }
}

//  Rewrite Transfer/<playlist>/<playlist>.m3u8 of job from its track records
//  (under the per-playlist lock). name is the playlist name (unsanitized);
//  self_key/self_path (may be NULL) name a track being filed right now,
//  whose record does not say so yet. create: make the playlist folder if it
//  is missing (else a missing folder means nothing to write). Problems are
//  warnings: the tracks themselves are filed. Returns 0 when written (or
//  nothing to write), -1 otherwise.
static int
s_m3u8_write (sp_tagger_t *self, const char *job_id, const char *name, const char *self_key,
              const char *self_path, long self_duration, bool create)
{
    char *folder = sp_path_sanitize (name);
    char *file = sp_path_sanitize_ext (name, "m3u8", SP_PATH_NAME_MAX);
    if (!folder || !file) {
        free (folder);
        free (file);
        sp_log_warn ("event=m3u8_failed job=%s error=\"bad playlist name\"", sp_log_q (job_id));
        return -1;
    }
    char playlist_dir[PATH_MAX];
    snprintf (playlist_dir, sizeof playlist_dir, "%s/%s", self->transfer_dir, folder);
    struct stat st;
    if (!create && stat (playlist_dir, &st) != 0) {
        free (folder);
        free (file);
        return 0;
    }
    char lock_key[600];
    snprintf (lock_key, sizeof lock_key, "soulpipe:lock:playlist:%s", folder);
    char lock_value[64];
    s_value (self, lock_value, sizeof lock_value);
    bool locked = s_lock (self, lock_key, lock_value);
    if (!locked)
        sp_log_warn ("event=m3u8_lock_timeout playlist=%s", sp_log_q (folder));

    int result = -1;
    s_list_t l = {.playlist_dir = playlist_dir,
                  .self_key = self_key,
                  .self_path = self_path,
                  .self_duration = self_duration};
    int rc = sp_store_job_tracks (self->store, job_id, s_collect, &l);
    if (rc == SP_STORE_OK && !l.oom) {
        char *text = sp_tagger_m3u8_render (name, playlist_dir, l.e, l.n);
        int dirfd = -1;
        const char *comp[] = {folder};
        if (text && sp_path_mkdirs_at (self->transfer_dir, comp, 1, &dirfd) == SP_PATH_OK) {
            char tmp[SP_PATH_TMPNAME_SIZE];
            int fd;
            bool ok = false;
            //  a tagger killed while writing here left its temporary file
            sp_path_sweep_tmp_at (dirfd, TAGGER_TMP_SWEEP_S);
            if (sp_path_open_tmp_at (dirfd, file, tmp, sizeof tmp, &fd) == SP_PATH_OK) {
                size_t len = strlen (text), off = 0;
                while (off < len) {
                    ssize_t w = write (fd, text + off, len - off);
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0)
                        break;
                    off += (size_t) w;
                }
                close (fd);
                ok = off == len && sp_path_commit_at (dirfd, tmp, file, true) == SP_PATH_OK;
                if (!ok)
                    sp_path_discard_at (dirfd, tmp);
            }
            if (ok) {
                sp_log_info ("event=m3u8_written job=%s playlist=%s entries=%zu", sp_log_q (job_id),
                             sp_log_q (folder), l.n);
                result = 0;
            } else
                sp_log_warn ("event=m3u8_failed playlist=%s errno=%d", sp_log_q (folder), errno);
            close (dirfd);
        } else
            sp_log_warn ("event=m3u8_failed playlist=%s error=%s", sp_log_q (folder),
                         text ? "cannot create the playlist folder" : "out of memory");
        free (text);
    } else
        sp_log_warn ("event=m3u8_failed playlist=%s error=%s", sp_log_q (folder),
                     l.oom ? "out of memory" : sp_store_strerror (rc));
    if (locked)
        s_unlock (self, lock_key, lock_value);
    s_list_free (&l);
    free (folder);
    free (file);
    return result;
}

//  After filing one track: rewrite the playlist's m3u8 so it shows progress.
//  The job-end work (final m3u8, Plex rescan) is the finisher's
//  (sp_tagger_finish_job), which runs once the store says the job ended,
//  whichever stage finished its last track.
static void
s_playlist_update (sp_tagger_t *self, const sp_payload_t *p, const char *final_path)
{
    if (!self->store || !p->job || !*p->job)
        return;
    //  A rewrite reads every track record of the job: after each track that
    //  is quadratic over a playlist (1,000 tracks: a million record reads).
    //  A progress copy at most every S_M3U8_PROGRESS_MS is enough, and
    //  always one when this is the job's last track still to deliver; the
    //  finisher writes the final one when the job ends.
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (strcmp (self->m3u8_job, p->job) == 0 && now - self->m3u8_at < S_M3U8_PROGRESS_MS) {
        sp_store_job_t *job = NULL;
        bool last = sp_store_job_get (self->store, p->job, &job) != SP_STORE_OK || job->queued <= 1;
        sp_store_job_destroy (&job);
        if (!last)
            return;
    }
    snprintf (self->m3u8_job, sizeof self->m3u8_job, "%s", p->job);
    self->m3u8_at = now;
    long duration = p->track.has_duration_ms ? (long) ((p->track.duration_ms + 500) / 1000) : -1;
    s_m3u8_write (self, p->job, p->track.playlist, p->track_key, final_path, duration, true);
}

// ------------------------------------------------------------ job end

int
sp_tagger_finish_job (sp_tagger_t *self, const char *job_id, long ending)
{
    if (!self || !self->store || !job_id || !*job_id || ending < 1)
        return -1;
    sp_store_job_t *job = NULL;
    int rc = sp_store_job_get (self->store, job_id, &job);
    if (rc == SP_STORE_ENOENT) {
        sp_log_warn ("event=finish_unknown_job job=%s", sp_log_q (job_id));
        return 0;
    }
    if (rc != SP_STORE_OK)
        return -1;
    int result = 0;
    //  Retried meanwhile: it is running again and will end again.
    if (strcmp (job->state, "done") != 0 && strcmp (job->state, "cancelled") != 0) {
        sp_log_info ("event=finish_skipped job=%s state=%s", sp_log_q (job_id),
                     sp_log_q (job->state));
        goto done;
    }
    if (s_m3u8_write (self, job_id, job->name, NULL, NULL, -1, job->done > 0) != 0)
        result = -1;
    if (!self->plex_http || job->done == 0)
        goto done;
    //  Once per ending: a retried job that ends again rescans again.
    char flag[160];
    snprintf (flag, sizeof flag, "soulpipe:job:%s:rescanned:%ld", job_id, ending);
    char ttl[16];
    snprintf (ttl, sizeof ttl, "%d", S_RESCAN_FLAG_TTL_S);
    char value[64];
    s_value (self, value, sizeof value);
    if (s_set_nx (self, flag, value, "EX", ttl))
        s_plex_rescan (self, job_id);
    else
        sp_log_info ("event=rescan_already_requested job=%s ending=%ld", sp_log_q (job_id), ending);
done:
    sp_log_info ("event=job_finished job=%s state=%s done=%lld failed=%lld ending=%ld",
                 sp_log_q (job_id), sp_log_q (job->state), (long long) job->done,
                 (long long) job->failed, ending);
    sp_store_job_destroy (&job);
    return result;
}

//  Parse "<job> <n>" of the finished list.
static bool
s_parse_finished (const char *s, size_t len, char *job, size_t job_size, long *ending)
{
    const char *sp = memchr (s, ' ', len);
    if (!sp || sp == s || (size_t) (sp - s) >= job_size)
        return false;
    memcpy (job, s, (size_t) (sp - s));
    job[sp - s] = '\0';
    char num[24];
    size_t nl = len - (size_t) (sp - s) - 1;
    if (nl == 0 || nl >= sizeof num)
        return false;
    memcpy (num, sp + 1, nl);
    num[nl] = '\0';
    char *end = NULL;
    errno = 0;
    long v = strtol (num, &end, 10);
    if (errno || *end || v < 1)
        return false;
    *ending = v;
    return true;
}

int
sp_tagger_finish_next (sp_tagger_t *self, int wait_ms)
{
    if (!self || !self->store)
        return -1;
    char secs[32];
    snprintf (secs, sizeof secs, "%d.%03d", wait_ms / 1000, wait_ms % 1000);
    const char *argv[] = {"BLMOVE", S_FINISHED_KEY, S_FINISHING_KEY, "LEFT", "RIGHT", secs};
    const char *lmove[] = {"LMOVE", S_FINISHED_KEY, S_FINISHING_KEY, "LEFT", "RIGHT"};
    redisReply *r = wait_ms > 0 ? s_cmd (self, 6, argv) : s_cmd (self, 5, lmove);
    if (!r)
        return -1;
    if (r->type == REDIS_REPLY_NIL) {
        freeReplyObject (r);
        return 0;
    }
    if (r->type != REDIS_REPLY_STRING) {
        sp_log_warn ("event=finish_pop_failed error=%s",
                     sp_log_q (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply"));
        freeReplyObject (r);
        return -1;
    }
    char job[SP_STORE_ID_MAX + 64];
    long ending = 0;
    int result = 1;
    if (!s_parse_finished (r->str, r->len, job, sizeof job, &ending))
        sp_log_warn ("event=finish_bad_entry entry=%s", sp_log_q (r->str));
    else if (sp_tagger_finish_job (self, job, ending) != 0)
        sp_log_warn ("event=finish_incomplete job=%s", sp_log_q (job));
    //  Done with it (also when it failed: the m3u8 is rewritten by the next
    //  filing or retry, and a rescan must not repeat forever).
    const char *lrem[] = {"LREM", S_FINISHING_KEY, "1", r->str};
    size_t lens[] = {4, strlen (S_FINISHING_KEY), 1, r->len};
    redisReply *r2 = NULL;
    if (sp_store_command (self->store, 4, lrem, lens, &r2) == SP_STORE_OK)
        freeReplyObject (r2);
    else
        result = -1;
    freeReplyObject (r);
    return result;
}

int
sp_tagger_finish_recover (sp_tagger_t *self)
{
    if (!self || !self->store)
        return -1;
    int n = 0;
    for (;;) {
        const char *argv[] = {"LMOVE", S_FINISHING_KEY, S_FINISHED_KEY, "RIGHT", "LEFT"};
        redisReply *r = s_cmd (self, 5, argv);
        if (!r)
            return -1;
        bool more = r->type == REDIS_REPLY_STRING;
        freeReplyObject (r);
        if (!more)
            break;
        n++;
    }
    if (n > 0)
        sp_log_info ("event=finish_recovered jobs=%d", n);
    return n;
}

// ------------------------------------------------------------ the stage

static void
s_to_tags (const sp_track_t *t, sp_tags_t *out)
{
    memset (out, 0, sizeof *out);
    out->title = t->title;
    out->artists = (const char *const *) t->artists;
    out->artists_count = t->artists_count;
    out->album = t->album;
    out->album_artists = (const char *const *) t->album_artists;
    out->album_artists_count = t->album_artists_count;
    out->date = t->release_date;
    out->track_number = t->has_track_number ? (unsigned) t->track_number : 0;
    out->track_total = t->has_track_total ? (unsigned) t->track_total : 0;
    out->disc_number = t->has_disc_number ? (unsigned) t->disc_number : 0;
    out->disc_total = t->has_disc_total ? (unsigned) t->disc_total : 0;
    out->genre = t->genre;
    out->isrc = t->isrc;
    out->spotify_track_id = t->spotify_id;
    out->spotify_album_id = t->album_id;
}

//  Remove the folders this call created (deepest first) when they are empty.
static void
s_rmdirs (const char *root, const char *const *comp, const bool *created, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (!created[i])
            continue;
        char *path = NULL;
        if (sp_path_join (root, comp, i + 1, &path) == SP_PATH_OK)
            rmdir (path);
        free (path);
    }
}

int
sp_tagger_process (sp_tagger_t *self, sp_payload_t *p, char *reason, size_t rn, bool *retry)
{
    bool dummy;
    if (!retry)
        retry = &dummy;
    *retry = false;
    if (reason && rn)
        reason[0] = '\0';
    if (!self || !p || !p->staged_path || !*p->staged_path || !p->track.title ||
        !p->track.playlist) {
        s_reason (reason, rn, "the tag job has no staged file, title or playlist");
        return -1;
    }
    const sp_track_t *t = &p->track;
    const char *staged = p->staged_path;
    int result = -1;
    int dirfd = -1, srcfd = -1;
    char tmp[SP_PATH_TMPNAME_SIZE] = "";
    char *dir_path = NULL, *final_path = NULL, *artist_joined = NULL;
    unsigned char *cover = NULL;
    size_t cover_len = 0;
    const char *cover_mime = NULL;
    sp_tagger_layout_t lay = {0};
    bool created[3] = {false, false, false};
    const char *comp[3];

    const char *ext = sp_path_ext (staged);
    if (sp_tags_format (staged) == SP_TAGS_FMT_NONE) {
        s_reason (reason, rn, "unsupported audio format \"%s\" (can tag flac, mp3, ogg, opus, m4a)",
                  ext);
        goto done;
    }
    if (sp_tagger_layout (t, ext, NULL, &lay) != 0) {
        s_reason (reason, rn, "cannot build a file name for this track");
        goto done;
    }
    artist_joined = s_join_artists (t->artists, t->artists_count);
    comp[0] = lay.playlist;
    comp[1] = lay.artist;
    comp[2] = lay.album;
    if (!artist_joined || sp_path_join (self->transfer_dir, comp, 3, &dir_path) != SP_PATH_OK) {
        s_reason (reason, rn, "cannot build the destination folder name");
        goto done;
    }

    //  1. The staged file: inside staging, readable audio. A missing file
    //  may be a re-run after the rename: look for the delivered file.
    char real[PATH_MAX];
    bool staged_exists = realpath (staged, real) != NULL;
    if (staged_exists && *self->staging_real) {
        size_t sl = strlen (self->staging_real);
        if (strncmp (real, self->staging_real, sl) != 0 || real[sl] != '/') {
            s_reason (reason, rn, "staged file is outside the staging folder");
            goto done;
        }
    }
    if (staged_exists) {
        sp_tags_info_t info;
        char err[256];
        if (sp_tags_probe (real, &info, err, sizeof err) != SP_TAGS_OK) {
            s_reason (reason, rn, "cannot tag the downloaded file: %s", err);
            goto done;
        }
        srcfd = open (real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (srcfd < 0) {
            s_reason (reason, rn, "cannot open the downloaded file: %s", strerror (errno));
            *retry = true;
            goto done;
        }
    }

    //  2. The destination folder (remember which levels are new).
    for (size_t i = 0; i < 3; i++) {
        char *pth = NULL;
        struct stat st;
        if (sp_path_join (self->transfer_dir, comp, i + 1, &pth) == SP_PATH_OK)
            created[i] = lstat (pth, &st) != 0 && errno == ENOENT;
        free (pth);
    }
    if (!staged_exists) {
        //  Nothing to create: only look for an earlier delivery.
        if (created[2]) {
            s_reason (reason, rn, "the downloaded file is missing from staging");
            goto done;
        }
    }
    int prc = sp_path_mkdirs_at (self->transfer_dir, comp, 3, &dirfd);
    if (prc != SP_PATH_OK) {
        s_reason (reason, rn, "cannot create the destination folder: %s", sp_path_strerror (prc));
        *retry = prc == SP_PATH_ERR_IO;
        goto done;
    }

    //  3. The name: the plain one, then " [id]", then " (2)".." (99)".
    char file_name[SP_PATH_NAME_MAX + 1] = "";
    bool already = false;
    int attempt = 0;
    for (;; attempt++) {
        char suffix[80] = "";
        if (attempt == 1 && t->spotify_id && *t->spotify_id)
            snprintf (suffix, sizeof suffix, " [%.64s]", t->spotify_id);
        else if (attempt >= 1)
            snprintf (suffix, sizeof suffix, " (%d)",
                      attempt + (t->spotify_id && *t->spotify_id ? 0 : 1));
        if (attempt > S_MAX_SUFFIX) {
            s_reason (reason, rn, "too many different files with the name %s", lay.file);
            goto fail_clean;
        }
        sp_tagger_layout_t l2 = {0};
        if (sp_tagger_layout (t, ext, suffix, &l2) != 0) {
            s_reason (reason, rn, "out of memory");
            *retry = true;
            goto fail_clean;
        }
        snprintf (file_name, sizeof file_name, "%s", l2.file);
        sp_tagger_layout_clear (&l2);
        struct stat st;
        if (fstatat (dirfd, file_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                break;
            continue;
        }
        char fp[PATH_MAX];
        s_fd_path (self, dirfd, dir_path, file_name, fp, sizeof fp);
        if (S_ISREG (st.st_mode) && s_same_track (fp, t, artist_joined)) {
            already = true;
            break;
        }
    }
    if (!already && !staged_exists) {
        s_reason (reason, rn, "the downloaded file is missing from staging");
        goto fail_clean;
    }

    if (!already) {
        //  4. Cover, 5. copy + tag + rename.
        s_cover (self, dirfd, t, &cover, &cover_len, &cover_mime);
        int fd;
        sp_path_sweep_tmp_at (dirfd, TAGGER_TMP_SWEEP_S);
        prc = sp_path_open_tmp_at (dirfd, file_name, tmp, sizeof tmp, &fd);
        if (prc != SP_PATH_OK) {
            s_reason (reason, rn, "cannot create a file in the destination folder: %s",
                      sp_path_strerror (prc));
            *retry = true;
            goto fail_clean;
        }
        int crc = s_copy_fd (srcfd, fd);
        int cerr = errno;
        if (close (fd) != 0 && crc == 0) {
            crc = -1;
            cerr = errno;
        }
        if (crc != 0 || self->fail_point == 1) {
            s_reason (reason, rn, "copying the downloaded file failed: %s",
                      self->fail_point == 1 ? "injected failure" : strerror (cerr));
            *retry = self->fail_point != 1;
            goto fail_clean;
        }
        //  TagLib picks the format by extension: give the temp a name that ends
        //  like the final one.
        char tmp2[SP_PATH_TMPNAME_SIZE + SP_PATH_EXT_MAX + 2];
        snprintf (tmp2, sizeof tmp2, "%s.%.*s", tmp, SP_PATH_EXT_MAX, sp_path_ext (file_name));
        if (renameat (dirfd, tmp, dirfd, tmp2) != 0) {
            s_reason (reason, rn, "cannot prepare the file for tagging: %s", strerror (errno));
            *retry = true;
            goto fail_clean;
        }
        tmp[0] = '\0';
        char tp[PATH_MAX];
        s_fd_path (self, dirfd, dir_path, tmp2, tp, sizeof tp);
        sp_tags_t tags;
        s_to_tags (t, &tags);
        if (self->embed_cover && cover) {
            tags.cover = cover;
            tags.cover_len = cover_len;
            tags.cover_mime = cover_mime;
        }
        char err[300];
        int trc = sp_tags_write (tp, &tags, err, sizeof err);
        if (trc != SP_TAGS_OK || self->fail_point == 2) {
            unlinkat (dirfd, tmp2, 0);
            s_reason (reason, rn, "tagging failed: %s",
                      self->fail_point == 2 ? "injected failure" : err);
            *retry = trc == SP_TAGS_ERR_NOMEM;
            goto fail_clean;
        }
        prc = sp_path_commit_at (dirfd, tmp2, file_name, false);
        if (prc == SP_PATH_ERR_EXISTS) {
            //  Someone filed the same name meanwhile: a retry sorts it out.
            unlinkat (dirfd, tmp2, 0);
            s_reason (reason, rn, "the file name was taken while tagging");
            *retry = true;
            goto fail_clean;
        }
        if (prc != SP_PATH_OK) {
            unlinkat (dirfd, tmp2, 0);
            s_reason (reason, rn, "cannot move the file into place: %s", sp_path_strerror (prc));
            *retry = true;
            goto fail_clean;
        }
    }
    if (srcfd >= 0) {
        close (srcfd);
        srcfd = -1;
        if (unlink (real) != 0 && errno != ENOENT)
            sp_log_warn ("event=staged_unlink_failed path=%s errno=%d", sp_log_q (real), errno);
    }
    size_t fl = strlen (dir_path) + strlen (file_name) + 2;
    final_path = malloc (fl);
    if (!final_path) {
        s_reason (reason, rn, "out of memory");
        *retry = true;
        goto done;
    }
    snprintf (final_path, fl, "%s/%s", dir_path, file_name);
    sp_log_info ("event=filed path=%s redelivery=%s cover=%s", sp_log_q (final_path),
                 already ? "yes" : "no", cover ? "yes" : "no");

    //  6. Records, playlist file, rescan.
    if (self->store) {
        if (p->track_key && *p->track_key)
            sp_store_track_set_field (self->store, p->track_key, "path", final_path);
        if (t->spotify_id && *t->spotify_id)
            sp_songs_put (self->store, t->spotify_id, final_path, p->job, p->track_key);
    }
    s_playlist_update (self, p, final_path);
    free (p->staged_path);
    p->staged_path = final_path;
    final_path = NULL;
    result = 0;
    goto done;

fail_clean:
    if (*tmp && dirfd >= 0)
        sp_path_discard_at (dirfd, tmp);
    if (dirfd >= 0 && created[2]) {
        //  The album folder is new, so a cover in it is ours: take it back.
        unlinkat (dirfd, "cover.jpg", 0);
        unlinkat (dirfd, "cover.png", 0);
    }
    if (dirfd >= 0) {
        close (dirfd);
        dirfd = -1;
    }
    s_rmdirs (self->transfer_dir, comp, created, 3);
done:
    if (dirfd >= 0)
        close (dirfd);
    if (srcfd >= 0)
        close (srcfd);
    free (cover);
    free (dir_path);
    free (final_path);
    free (artist_joined);
    sp_tagger_layout_clear (&lay);
    return result;
}
