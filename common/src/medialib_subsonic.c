/*  medialib_subsonic.c: the Subsonic API backend of the media library (see
    medialib.h): Navidrome, or any server that speaks the Subsonic REST API
    1.16.1.

    Every call is a POST to <SUBSONIC_URL>/rest/<method>.view with an
    application/x-www-form-urlencoded body that carries the parameters and
    the token authentication: u (SUBSONIC_USER), t = hex md5(password +
    salt), s (a fresh random salt per request), v=1.16.1, c=soulpipe,
    f=json. The body is never logged, and nothing secret is in the URL
    (the http module logs URLs at debug level): the password itself never
    leaves this process. Navidrome accepts form posts for every endpoint,
    as the Subsonic API allows.

    Every answer is {"subsonic-response": {"status": "ok" | "failed",
    "version", "type" ("navidrome" on Navidrome), ...}}, with HTTP 200 also
    for errors: status "failed" carries error {code, message} (10 missing
    parameter, 40 wrong username or password, 41 token authentication not
    supported for LDAP users, 50 not authorized, 70 not found), mapped to
    notes that say what to check.

      load             search3 with query "" (every song, natural order on
                       Navidrome), artistCount=0, albumCount=0, paged with
                       songCount/songOffset until a page comes back empty
                       (a server may cap songCount below what was asked)
      rescan           startScan, then getScanStatus every poll_ms until
                       scanning is false (startScan needs an admin on
                       Navidrome: error 50 says so)
      find_item        the song whose path is the given path, or ends with
                       its last components (the server may mount the music
                       elsewhere); the song index is read again with
                       search3 after a rescan. Navidrome reports real paths
                       only when the player "soulpipe" has "Report Real
                       Path" on; otherwise its paths are "Album Artist/
                       Album/NN - Title.ext", and the file (when soulpipe
                       can read it) is matched by its tags: title, album,
                       and artist or album artist.
      playlist_upsert  getPlaylists, the one with that name owned by
                       SUBSONIC_USER; none: createPlaylist name + songId...;
                       one: updatePlaylist removing every entry
                       (songIndexToRemove) and adding the new list
                       (songIdToAdd) in order, so the playlist keeps its id;
                       on Navidrome createPlaylist with playlistId, which
                       replaces the songs in one transaction.
*/
#include "medialib_folder.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"
#include "soulpipe/medialib.h"
#include "soulpipe/tags.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S_API_VERSION  "1.16.1"
#define S_CLIENT       "soulpipe"
#define S_PAGE         500          //  songs per search3 request
#define S_MAX_SONGS    10000000     //  a sanity bound on the index
#define S_MAX_RESPONSE (64u << 20)  //  a page of 500 songs is well under 1 MB
#define S_CONNECT_MS   3000         //  default connect timeout
#define S_TOTAL_MS     60000        //  default per request
#define S_POLL_MS      500          //  default getScanStatus interval
#define S_UPDATE_BATCH 200          //  songIdToAdd per updatePlaylist request

//  One song of the cached index (for find_item).
typedef struct {
    char *id;            //  the server's song id
    char *path;          //  as the server reports it
    char *title;         //  for the match by tags (servers without real paths)
    char *album;         //  may be NULL
    char *artist;        //  may be NULL
    char *album_artist;  //  may be NULL
} s_song_t;

typedef struct {
    char *url;         //  SUBSONIC_URL without trailing '/'
    char *user;        //  SUBSONIC_USER
    char *password;    //  SUBSONIC_PASSWORD (secret: never logged)
    char server[32];   //  "Navidrome" once an answer said so, else "Subsonic"
    int poll_ms;       //  scan status poll interval
    sp_http_t *http;   //  one client, keep-alive
    s_song_t *songs;   //  index for find_item
    size_t n_songs;    //  songs used
    size_t cap_songs;  //  songs allocated
    bool songs_valid;  //  the index reflects the last scan
} s_subsonic_t;

// ------------------------------------------------------------ requests

//  hex md5 of a + b into out (33 bytes).
static int
s_md5_hex (const char *a, const char *b, char out[33])
{
    size_t la = strlen (a), lb = strlen (b);
    char *buf = malloc (la + lb + 1);
    if (!buf)
        return -1;
    memcpy (buf, a, la);
    memcpy (buf + la, b, lb);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = EVP_Digest (buf, la + lb, md, &mdlen, EVP_md5 (), NULL);
    OPENSSL_cleanse (buf, la + lb);
    free (buf);
    if (ok != 1 || mdlen != 16)
        return -1;
    for (unsigned i = 0; i < 16; i++)
        snprintf (out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

//  A growable form body.
typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
} s_form_t;

static void
s_form_raw (s_form_t *f, const char *s)
{
    size_t n = strlen (s);
    if (f->oom)
        return;
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 512;
        while (cap < f->len + n + 1)
            cap *= 2;
        char *d = realloc (f->data, cap);
        if (!d) {
            f->oom = true;
            return;
        }
        f->data = d;
        f->cap = cap;
    }
    memcpy (f->data + f->len, s, n + 1);
    f->len += n;
}

//  Append "&name=<encoded value>".
static void
s_form_add (s_form_t *f, const char *name, const char *value)
{
    char *enc = sp_http_urlencode (value ? value : "");
    if (!enc) {
        f->oom = true;
        return;
    }
    if (f->len)
        s_form_raw (f, "&");
    s_form_raw (f, name);
    s_form_raw (f, "=");
    s_form_raw (f, enc);
    free (enc);
}

static void
s_form_addf (s_form_t *f, const char *name, long long value)
{
    char num[32];
    snprintf (num, sizeof num, "%lld", value);
    s_form_add (f, name, num);
}

static void
s_form_free (s_form_t *f)
{
    if (f->data)
        OPENSSL_cleanse (f->data, f->len);
    free (f->data);
    memset (f, 0, sizeof *f);
}

//  The note for an error inside subsonic-response. Returns the medialib error.
static int
s_note_failed (s_subsonic_t *self, json_t *err, const char *what, char *note, size_t n)
{
    json_t *c = json_object_get (err, "code");
    long code = json_is_integer (c) ? (long) json_integer_value (c) : -1;
    const char *msg = json_string_value (json_object_get (err, "message"));
    const char *m = sp_log_q (msg ? msg : "");
    switch (code) {
        case 40:
            snprintf (note, n,
                      "%s refused the login (error 40: %s) while %s: check SUBSONIC_USER and "
                      "SUBSONIC_PASSWORD",
                      self->server, m, what);
            return SP_MEDIALIB_ERR_REFUSED;
        case 41:
        case 42:
            snprintf (note, n,
                      "%s does not accept token authentication for this user (error %ld: %s) "
                      "while %s: use a local (non-LDAP) user in SUBSONIC_USER",
                      self->server, code, m, what);
            return SP_MEDIALIB_ERR_REFUSED;
        case 44:
            snprintf (note, n,
                      "%s refused the credentials (error 44: %s) while %s: check SUBSONIC_USER and "
                      "SUBSONIC_PASSWORD",
                      self->server, m, what);
            return SP_MEDIALIB_ERR_REFUSED;
        case 50:
            snprintf (note, n, "%s says SUBSONIC_USER may not do this (error 50: %s) while %s: %s",
                      self->server, m, what,
                      strstr (what, "scan") ? "starting a scan needs an administrator account"
                                            : "check the user's permissions on the server");
            return SP_MEDIALIB_ERR_REFUSED;
        case 70:
            snprintf (note, n, "%s has no such item (error 70: %s) while %s", self->server, m,
                      what);
            return SP_MEDIALIB_ERR_NOTFOUND;
        case 10:
            snprintf (note, n, "%s says a parameter is missing (error 10: %s) while %s",
                      self->server, m, what);
            return SP_MEDIALIB_ERR;
        case 20:
        case 30:
            snprintf (note, n,
                      "%s does not speak Subsonic API %s (error %ld: %s) while %s: the server "
                      "is too old or too new for soulpipe",
                      self->server, S_API_VERSION, code, m, what);
            return SP_MEDIALIB_ERR;
        default:
            snprintf (note, n, "%s answered error %ld (%s) while %s", self->server, code, m, what);
            return SP_MEDIALIB_ERR;
    }
}

/*  Call method with the form parameters params (already built, may be
    empty). On OK *out (caller owns, json_decref) is the subsonic-response
    object. idempotent: the request may be sent again on a transport error
    or 5xx (reads). */
static int
s_call (s_subsonic_t *self, const char *method, s_form_t *params, bool idempotent, const char *what,
        json_t **out, char *note, size_t n)
{
    *out = NULL;
    unsigned char raw[8];
    char salt[17], token[33];
    if (RAND_bytes (raw, sizeof raw) != 1) {
        snprintf (note, n, "no random salt for the %s login while %s", self->server, what);
        return SP_MEDIALIB_ERR;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (salt + 2 * i, 3, "%02x", raw[i]);
    if (s_md5_hex (self->password, salt, token) != 0) {
        snprintf (note, n, "no md5 for the %s login while %s", self->server, what);
        return SP_MEDIALIB_ERR;
    }
    s_form_t f = {0};
    s_form_add (&f, "u", self->user);
    s_form_add (&f, "t", token);
    s_form_add (&f, "s", salt);
    s_form_add (&f, "v", S_API_VERSION);
    s_form_add (&f, "c", S_CLIENT);
    s_form_add (&f, "f", "json");
    OPENSSL_cleanse (token, sizeof token);
    if (params && params->len) {
        s_form_raw (&f, "&");
        s_form_raw (&f, params->data);
    }
    if (f.oom || (params && params->oom)) {
        s_form_free (&f);
        snprintf (note, n, "out of memory while %s", what);
        return SP_MEDIALIB_ERR_NOMEM;
    }
    char path[96];
    snprintf (path, sizeof path, "/rest/%s.view", method);
    sp_http_req_t req = {.form = f.data, .retry_post = idempotent};
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_request (self->http, SP_HTTP_POST, path, &req, &resp);
    s_form_free (&f);
    if (rc != SP_HTTP_OK) {
        int e = sp_medialib_http_note (self->server, self->url, "SUBSONIC_URL", "login",
                                       "SUBSONIC_USER and SUBSONIC_PASSWORD", rc,
                                       resp ? resp->status : 0, what, note, n);
        if (rc == SP_HTTP_ERR_TRANSPORT || rc == SP_HTTP_ERR_TIMEOUT)
            ;  //  the note says "check SUBSONIC_URL"
        else if (rc == SP_HTTP_ERR_CLIENT && resp && resp->status == 404)
            snprintf (note, n,
                      "%s answered HTTP 404 for /rest/%s while %s: check that SUBSONIC_URL is "
                      "the server's address (without /rest)",
                      self->server, method, what);
        sp_http_resp_destroy (&resp);
        return e;
    }
    json_t *sr = json_object_get (resp->json, "subsonic-response");
    if (!json_is_object (sr)) {
        snprintf (note, n,
                  "%s sent an unexpected answer for %s while %s (no subsonic-response): check "
                  "that SUBSONIC_URL points at a Subsonic API server",
                  self->server, method, what);
        sp_http_resp_destroy (&resp);
        return SP_MEDIALIB_ERR;
    }
    const char *type = json_string_value (json_object_get (sr, "type"));
    if (type && strcasecmp (type, "navidrome") == 0)
        snprintf (self->server, sizeof self->server, "Navidrome");
    const char *status = json_string_value (json_object_get (sr, "status"));
    if (!status || strcmp (status, "ok") != 0) {
        int e = s_note_failed (self, json_object_get (sr, "error"), what, note, n);
        sp_http_resp_destroy (&resp);
        return e;
    }
    *out = json_incref (sr);
    sp_http_resp_destroy (&resp);
    return SP_MEDIALIB_OK;
}

// ------------------------------------------------------------ lifecycle

static void s_destroy (void **state_p);

static void *
s_create (const sp_medialib_opts_t *opts, char *note, size_t n)
{
    const char *url = opts->subsonic_url;
    if (!url || !*url) {
        snprintf (note, n, "SUBSONIC_URL (or NAVIDROME_URL) is not set");
        return NULL;
    }
    if (strncasecmp (url, "http://", 7) != 0 && strncasecmp (url, "https://", 8) != 0) {
        char r[512];
        snprintf (note, n, "SUBSONIC_URL must start with http:// or https:// (got %s)",
                  sp_log_q (sp_log_redact_url (url, r, sizeof r)));
        return NULL;
    }
    if (!opts->subsonic_user || !*opts->subsonic_user) {
        snprintf (note, n, "SUBSONIC_USER is not set (the Subsonic/Navidrome user name)");
        return NULL;
    }
    if (!opts->subsonic_password || !*opts->subsonic_password) {
        snprintf (note, n, "SUBSONIC_PASSWORD is not set");
        return NULL;
    }
    s_subsonic_t *self = calloc (1, sizeof *self);
    if (!self)
        goto oom;
    size_t len = strlen (url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    //  "http://host/rest" is a common mistake: the methods are under /rest
    if (len >= 5 && strncasecmp (url + len - 5, "/rest", 5) == 0)
        len -= 5;
    self->url = strndup (url, len);
    self->user = strdup (opts->subsonic_user);
    self->password = strdup (opts->subsonic_password);
    if (!self->url || !self->user || !self->password)
        goto oom;
    snprintf (self->server, sizeof self->server, "Subsonic");
    self->poll_ms = opts->poll_ms > 0 ? opts->poll_ms : S_POLL_MS;
    self->http = sp_http_new (self->url);
    if (!self->http)
        goto oom;
    sp_http_set_timeouts (self->http,
                          opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : S_CONNECT_MS,
                          opts->request_timeout_ms > 0 ? opts->request_timeout_ms : S_TOTAL_MS);
    sp_http_set_retries (self->http, opts->retries > 0 ? opts->retries : 1, 300, 2000);
    sp_http_set_max_response (self->http, S_MAX_RESPONSE);
    return self;
oom:
    snprintf (note, n, "out of memory");
    if (self) {
        void *p = self;
        s_destroy (&p);
    }
    return NULL;
}

static void
s_songs_clear (s_subsonic_t *self)
{
    for (size_t i = 0; i < self->n_songs; i++) {
        free (self->songs[i].id);
        free (self->songs[i].path);
        free (self->songs[i].title);
        free (self->songs[i].album);
        free (self->songs[i].artist);
        free (self->songs[i].album_artist);
    }
    self->n_songs = 0;
    self->songs_valid = false;
}

static void
s_destroy (void **state_p)
{
    if (!state_p || !*state_p)
        return;
    s_subsonic_t *self = *state_p;
    s_songs_clear (self);
    free (self->songs);
    sp_http_destroy (&self->http);
    if (self->password)
        OPENSSL_cleanse (self->password, strlen (self->password));
    free (self->password);
    free (self->user);
    free (self->url);
    free (self);
    *state_p = NULL;
}

// ------------------------------------------------------------ load

static const char *
s_jstr (json_t *o, const char *k)
{
    const char *s = json_string_value (json_object_get (o, k));
    return s && *s ? s : NULL;
}

//  Names of an OpenSubsonic [{id, name}] array into names (at most max).
static size_t
s_names (json_t *arr, const char **names, size_t max)
{
    size_t k = 0, i;
    json_t *a;
    json_array_foreach (arr, i, a)
    {
        const char *nm = s_jstr (a, "name");
        if (nm && k < max)
            names[k++] = nm;
    }
    return k;
}

/*  Page through search3 and call fn (when not NULL) per song; with
    keep_index the song ids and paths are kept for find_item. */
static int
s_walk (s_subsonic_t *self, sp_medialib_track_fn *fn, void *arg, bool keep_index, char *note,
        size_t n)
{
    if (keep_index)
        s_songs_clear (self);
    size_t offset = 0;
    char first_id[128] = "";
    for (;;) {
        s_form_t p = {0};
        s_form_add (&p, "query", "\"\"");
        s_form_addf (&p, "artistCount", 0);
        s_form_addf (&p, "albumCount", 0);
        s_form_addf (&p, "songCount", S_PAGE);
        s_form_addf (&p, "songOffset", (long long) offset);
        json_t *sr = NULL;
        int rc = s_call (self, "search3", &p, true, "reading the songs", &sr, note, n);
        s_form_free (&p);
        if (rc != SP_MEDIALIB_OK)
            return rc;
        json_t *res = json_object_get (sr, "searchResult3");
        json_t *songs = json_object_get (res, "song");
        if (!json_is_object (res) || (songs && !json_is_array (songs))) {
            snprintf (note, n, "%s sent an unexpected answer for search3 (no searchResult3)",
                      self->server);
            json_decref (sr);
            return SP_MEDIALIB_ERR;
        }
        size_t got = json_array_size (songs);
        if (got == 0) {
            json_decref (sr);
            break;
        }
        //  a server that ignores songOffset would send the first page forever
        const char *id0 = s_jstr (json_array_get (songs, 0), "id");
        if (offset == 0)
            snprintf (first_id, sizeof first_id, "%s", id0 ? id0 : "");
        else if (id0 && *first_id && strcmp (id0, first_id) == 0) {
            snprintf (note, n,
                      "%s sent the first page of songs again at offset %zu (search3 paging is not "
                      "supported by this server)",
                      self->server, offset);
            json_decref (sr);
            return SP_MEDIALIB_ERR;
        }
        size_t i;
        json_t *s;
        json_array_foreach (songs, i, s)
        {
            const char *title = s_jstr (s, "title");
            const char *id = s_jstr (s, "id");
            if (!title || !id)
                continue;
            const char *type = s_jstr (s, "type");
            if (type && strcmp (type, "music") != 0)
                continue;  //  podcasts, audiobooks, videos
            json_t *vid = json_object_get (s, "isVideo");
            if (json_is_true (vid))
                continue;
            const char *path = s_jstr (s, "path");
            if (keep_index) {
                if (self->n_songs == self->cap_songs) {
                    size_t cap = self->cap_songs ? self->cap_songs * 2 : 1024;
                    s_song_t *ns = realloc (self->songs, cap * sizeof *ns);
                    if (!ns)
                        goto oom;
                    self->songs = ns;
                    self->cap_songs = cap;
                }
                s_song_t *e = &self->songs[self->n_songs];
                memset (e, 0, sizeof *e);
                const char *al = s_jstr (s, "album"), *ar = s_jstr (s, "artist");
                const char *aa = s_jstr (s, "displayAlbumArtist");
                e->id = strdup (id);
                e->path = strdup (path ? path : "");
                e->title = strdup (title);
                e->album = al ? strdup (al) : NULL;
                e->artist = ar ? strdup (ar) : NULL;
                e->album_artist = aa ? strdup (aa) : NULL;
                if (!e->id || !e->path || !e->title || (al && !e->album) || (ar && !e->artist) ||
                    (aa && !e->album_artist)) {
                    free (e->id);
                    free (e->path);
                    free (e->title);
                    free (e->album);
                    free (e->artist);
                    free (e->album_artist);
                    goto oom;
                }
                self->n_songs++;
            }
            if (!fn)
                continue;
            const char *artists[16];
            size_t na = s_names (json_object_get (s, "artists"), artists, 16);
            const char *artist = s_jstr (s, "displayArtist");
            if (!artist)
                artist = s_jstr (s, "artist");
            const char *album_artist = s_jstr (s, "displayAlbumArtist");
            const char *aa[1];
            if (!album_artist && s_names (json_object_get (s, "albumArtists"), aa, 1) == 1)
                album_artist = aa[0];
            json_t *d = json_object_get (s, "duration");
            uint64_t dur = 0;
            if (json_is_integer (d) && json_integer_value (d) > 0)
                dur = (uint64_t) json_integer_value (d) * 1000;
            else if (json_is_real (d) && json_real_value (d) > 0)
                dur = (uint64_t) (json_real_value (d) * 1000.0);
            sp_medialib_track_t t = {.title = title,
                                     .artist = artist,
                                     .artists = na ? artists : NULL,
                                     .n_artists = na,
                                     .album_artist = album_artist,
                                     .album = s_jstr (s, "album"),
                                     .duration_ms = dur,
                                     .path = path,
                                     .item_id = id};
            note[0] = '\0';
            if (fn (&t, arg, note, n) != 0) {
                if (!note[0])
                    snprintf (note, n, "stopped by the caller");
                json_decref (sr);
                return SP_MEDIALIB_ERR;
            }
        }
        json_decref (sr);
        offset += got;
        if (offset > S_MAX_SONGS) {
            snprintf (note, n, "%s reports more than %d songs; giving up", self->server,
                      S_MAX_SONGS);
            return SP_MEDIALIB_ERR;
        }
    }
    if (keep_index)
        self->songs_valid = true;
    sp_log_info ("event=subsonic_loaded server=%s songs=%zu", self->server, offset);
    return SP_MEDIALIB_OK;
oom:
    snprintf (note, n, "out of memory while indexing the %s library", self->server);
    return SP_MEDIALIB_ERR_NOMEM;
}

static int
s_load (void *state, sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
    return s_walk (state, fn, arg, true, note, n);
}

// ------------------------------------------------------------ rescan

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_sleep_ms (int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t) (ms / 1000), (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0)
        ;
}

//  scanStatus.scanning of an answer: 1, 0, or -1 when absent.
static int
s_scanning (json_t *sr)
{
    json_t *st = json_object_get (sr, "scanStatus");
    json_t *sc = json_object_get (st, "scanning");
    if (!json_is_boolean (sc))
        return -1;
    return json_is_true (sc) ? 1 : 0;
}

static int
s_rescan (void *state, const char *path, int timeout_ms, char *note, size_t n)
{
    (void) path;  //  Subsonic scans the whole library
    s_subsonic_t *self = state;
    self->songs_valid = false;
    int64_t deadline = s_now_ms () + timeout_ms;
    json_t *sr = NULL;
    int rc = s_call (self, "startScan", NULL, false, "starting a library scan", &sr, note, n);
    if (rc != SP_MEDIALIB_OK)
        return rc;
    int scanning = s_scanning (sr);
    json_decref (sr);
    sp_log_info ("event=subsonic_scan_started server=%s scanning=%d", self->server, scanning);
    //  startScan answers with the scan status; a scan that was over before
    //  the answer (a small library) says scanning=false at once
    while (scanning != 0) {
        int64_t left = deadline - s_now_ms ();
        if (left <= 0) {
            snprintf (note, n, "%s was still scanning after %d s", self->server,
                      (timeout_ms + 999) / 1000);
            return SP_MEDIALIB_ERR_TIMEOUT;
        }
        s_sleep_ms (left < self->poll_ms ? left : self->poll_ms);
        rc = s_call (self, "getScanStatus", NULL, true, "waiting for the library scan", &sr, note,
                     n);
        if (rc != SP_MEDIALIB_OK)
            return rc;
        scanning = s_scanning (sr);
        json_decref (sr);
        if (scanning < 0) {
            snprintf (note, n, "%s sent a scan status without \"scanning\"", self->server);
            return SP_MEDIALIB_ERR;
        }
    }
    sp_log_info ("event=subsonic_scan_done server=%s", self->server);
    return SP_MEDIALIB_OK;
}

// ------------------------------------------------------------ find_item

//  True when the last k '/'-separated components of a and b are equal.
static bool
s_tail_equal (const char *a, const char *b, int k)
{
    const char *pa = a + strlen (a), *pb = b + strlen (b);
    for (int c = 0; c < k; c++) {
        const char *sa = pa, *sb = pb;
        while (sa > a && sa[-1] != '/')
            sa--;
        while (sb > b && sb[-1] != '/')
            sb--;
        if (pa - sa != pb - sb || pa == sa || memcmp (sa, sb, (size_t) (pa - sa)) != 0)
            return false;
        if (c + 1 < k && (sa == a || sb == b))
            return false;  //  one path has fewer components
        pa = sa > a ? sa - 1 : sa;
        pb = sb > b ? sb - 1 : sb;
    }
    return true;
}

//  The number of '/'-separated components of s.
static int
s_components (const char *s)
{
    int k = 0;
    for (const char *p = s; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        k++;
        while (*p && *p != '/')
            p++;
    }
    return k;
}

static bool
s_same (const char *a, const char *b)
{
    return a && b && strcasecmp (a, b) == 0;
}

/*  A server that does not report real paths (Navidrome's default: "Album
    Artist/Album/NN - Title.ext") is matched by the file's own tags: the
    song with the same title and album whose artist or album artist is the
    file's artist or album artist. NULL when the file cannot be read or no
    song (or more than one with a different file name) fits. */
static const s_song_t *
s_find_by_tags (s_subsonic_t *self, const char *path)
{
    sp_tags_format_t fmt = sp_tags_format (path);
    if (fmt == SP_TAGS_FMT_NONE)
        return NULL;
    sp_medialib_folder_tags_t t;
    if (sp_medialib_folder_read_tags (path, (int) fmt, &t) != 0)
        return NULL;
    const s_song_t *found = NULL;
    const char *base = strrchr (path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; t.title && i < self->n_songs; i++) {
        const s_song_t *s = &self->songs[i];
        if (!s_same (s->title, t.title))
            continue;
        if (t.album && s->album && !s_same (s->album, t.album))
            continue;
        if (!(s_same (s->artist, t.artist) || s_same (s->artist, t.album_artist) ||
              s_same (s->album_artist, t.artist) || s_same (s->album_artist, t.album_artist)))
            continue;
        const char *sb = strrchr (s->path, '/');
        sb = sb ? sb + 1 : s->path;
        if (!found || strcmp (sb, base) == 0)
            found = s;
    }
    sp_medialib_folder_tags_clear (&t);
    return found;
}

static int
s_find_item (void *state, const char *path, char **item_id, char *note, size_t n)
{
    s_subsonic_t *self = state;
    *item_id = NULL;
    if (!self->songs_valid) {
        int rc = s_walk (self, NULL, NULL, true, note, n);
        if (rc != SP_MEDIALIB_OK)
            return rc;
    }
    //  exact path first, then the longest shared tail of at least the file
    //  name and its folder (a server that mounts the music at /music while
    //  soulpipe sees /data/music)
    const s_song_t *best = NULL;
    int best_k = 1;
    int want_k = s_components (path);
    for (size_t i = 0; i < self->n_songs; i++) {
        const s_song_t *s = &self->songs[i];
        if (strcmp (s->path, path) == 0) {
            best = s;
            break;
        }
        int max_k = s_components (s->path);
        if (max_k > want_k)
            max_k = want_k;
        for (int k = max_k; k > best_k; k--)
            if (s_tail_equal (s->path, path, k)) {
                best = s;
                best_k = k;
                break;
            }
    }
    if (!best)
        best = s_find_by_tags (self, path);
    if (!best) {
        snprintf (note, n,
                  "%s has no song at %s (after %zu songs): is it inside a music folder of "
                  "the server, and does the server report real paths?",
                  self->server, sp_log_q (path), self->n_songs);
        return SP_MEDIALIB_ERR_NOTFOUND;
    }
    *item_id = strdup (best->id);
    if (!*item_id) {
        snprintf (note, n, "out of memory");
        return SP_MEDIALIB_ERR_NOMEM;
    }
    return SP_MEDIALIB_OK;
}

// ------------------------------------------------------------ playlists

//  Find the playlist called name owned by the user: *id (caller owns) and
//  *count, or *id NULL when there is none.
static int
s_playlist_find (s_subsonic_t *self, const char *name, char **id, long *count, char *note, size_t n)
{
    *id = NULL;
    *count = 0;
    json_t *sr = NULL;
    int rc = s_call (self, "getPlaylists", NULL, true, "listing the playlists", &sr, note, n);
    if (rc != SP_MEDIALIB_OK)
        return rc;
    json_t *list = json_object_get (json_object_get (sr, "playlists"), "playlist");
    size_t i;
    json_t *p;
    json_array_foreach (list, i, p)
    {
        const char *nm = json_string_value (json_object_get (p, "name"));
        const char *owner = json_string_value (json_object_get (p, "owner"));
        const char *pid = s_jstr (p, "id");
        if (!nm || !pid || strcmp (nm, name) != 0)
            continue;
        if (owner && strcmp (owner, self->user) != 0)
            continue;  //  someone else's public playlist of that name
        json_t *c = json_object_get (p, "songCount");
        *count = json_is_integer (c) ? (long) json_integer_value (c) : 0;
        *id = strdup (pid);
        break;
    }
    json_decref (sr);
    return SP_MEDIALIB_OK;
}

static int
s_playlist_upsert (void *state, const char *name, const char *const *item_ids, size_t count,
                   char **playlist_id, char *note, size_t n)
{
    s_subsonic_t *self = state;
    char *id = NULL;
    long have = 0;
    int rc = s_playlist_find (self, name, &id, &have, note, n);
    if (rc != SP_MEDIALIB_OK)
        return rc;
    json_t *sr = NULL;
    if (!id) {
        s_form_t p = {0};
        s_form_add (&p, "name", name);
        for (size_t i = 0; i < count; i++)
            s_form_add (&p, "songId", item_ids[i]);
        rc = s_call (self, "createPlaylist", &p, false, "creating the playlist", &sr, note, n);
        s_form_free (&p);
        if (rc != SP_MEDIALIB_OK)
            return rc;
        const char *nid = s_jstr (json_object_get (sr, "playlist"), "id");
        if (nid)
            id = strdup (nid);
        json_decref (sr);
        if (!id) {
            //  Subsonic before 1.14 answers createPlaylist with an empty body
            rc = s_playlist_find (self, name, &id, &have, note, n);
            if (rc != SP_MEDIALIB_OK)
                return rc;
            if (!id) {
                snprintf (note, n, "%s created the playlist %s but does not list it", self->server,
                          sp_log_q (name));
                return SP_MEDIALIB_ERR;
            }
        }
        sp_log_info ("event=subsonic_playlist_created server=%s id=%s songs=%zu", self->server,
                     sp_log_q (id), count);
    } else if (strcmp (self->server, "Navidrome") == 0) {
        //  Navidrome: createPlaylist with playlistId replaces the songs in
        //  one transaction and keeps the id
        s_form_t p = {0};
        s_form_add (&p, "playlistId", id);
        for (size_t i = 0; i < count; i++)
            s_form_add (&p, "songId", item_ids[i]);
        rc = s_call (self, "createPlaylist", &p, false, "replacing the playlist's songs", &sr, note,
                     n);
        s_form_free (&p);
        if (rc != SP_MEDIALIB_OK) {
            free (id);
            return rc;
        }
        json_decref (sr);
        sp_log_info ("event=subsonic_playlist_replaced server=%s id=%s songs=%zu", self->server,
                     sp_log_q (id), count);
    } else {
        //  in place: remove every entry, then add the list in order; the
        //  removals and the first additions go in one request so a
        //  playlist is never seen empty for long
        size_t done = 0;
        bool first = true;
        while (first || done < count) {
            s_form_t p = {0};
            s_form_add (&p, "playlistId", id);
            if (first)
                for (long i = 0; i < have; i++)
                    s_form_addf (&p, "songIndexToRemove", i);
            size_t end = done + S_UPDATE_BATCH < count ? done + S_UPDATE_BATCH : count;
            for (size_t i = done; i < end; i++)
                s_form_add (&p, "songIdToAdd", item_ids[i]);
            rc = s_call (self, "updatePlaylist", &p, false, "updating the playlist", &sr, note, n);
            s_form_free (&p);
            if (rc != SP_MEDIALIB_OK) {
                free (id);
                return rc;
            }
            json_decref (sr);
            done = end;
            first = false;
        }
        sp_log_info ("event=subsonic_playlist_updated server=%s id=%s removed=%ld songs=%zu",
                     self->server, sp_log_q (id), have, count);
    }
    if (playlist_id)
        *playlist_id = id;
    else
        free (id);
    return SP_MEDIALIB_OK;
}

const sp_medialib_backend_t sp_medialib_subsonic_backend = {
    .name = "Subsonic",
    .caps = SP_MEDIALIB_CAN_LOAD | SP_MEDIALIB_CAN_RESCAN | SP_MEDIALIB_CAN_RESCAN_WAIT |
            SP_MEDIALIB_CAN_FIND_ITEM | SP_MEDIALIB_CAN_PLAYLIST | SP_MEDIALIB_RESCAN_NEEDED |
            SP_MEDIALIB_CAN_PLAYLIST_KEEP,
    .create = s_create,
    .destroy = s_destroy,
    .load = s_load,
    .rescan = s_rescan,
    .find_item = s_find_item,
    .playlist_upsert = s_playlist_upsert,
};
