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
#include "medialib_subsonic_int.h"
#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"
#include "soulpipe/medialib.h"
#include "soulpipe/tags.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>


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

//  Keep one song's id, path and tags for find_item. -1 on out of memory.
static int
s_song_keep (s_subsonic_t *self, json_t *s, const char *id, const char *title, const char *path)
{
    if (self->n_songs == self->cap_songs) {
        size_t cap = self->cap_songs ? self->cap_songs * 2 : 1024;
        s_song_t *ns = realloc (self->songs, cap * sizeof *ns);
        if (!ns)
            return -1;
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
        return -1;
    }
    self->n_songs++;
    return 0;
}

//  Hand one song to the caller's fn. Returns fn's answer (0 = go on).
static int
s_song_emit (json_t *s, const char *id, const char *title, const char *path,
             sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
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
    int rc = fn (&t, arg, note, n);
    if (rc != 0 && !note[0])
        snprintf (note, n, "stopped by the caller");
    return rc;
}

//  One page of songs: keep and/or emit each music song. SP_MEDIALIB_OK or
//  an error with note.
static int
s_walk_page (s_subsonic_t *self, json_t *songs, sp_medialib_track_fn *fn, void *arg,
             bool keep_index, char *note, size_t n)
{
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
        if (json_is_true (json_object_get (s, "isVideo")))
            continue;
        const char *path = s_jstr (s, "path");
        if (keep_index && s_song_keep (self, s, id, title, path) != 0) {
            snprintf (note, n, "out of memory while indexing the %s library", self->server);
            return SP_MEDIALIB_ERR_NOMEM;
        }
        if (fn && s_song_emit (s, id, title, path, fn, arg, note, n) != 0)
            return SP_MEDIALIB_ERR;
    }
    return SP_MEDIALIB_OK;
}

//  Ask search3 for the page at offset. *sr (caller decrefs) and *songs
//  (borrowed from it, may be NULL = none) on SP_MEDIALIB_OK.
static int
s_walk_fetch (s_subsonic_t *self, size_t offset, json_t **sr, json_t **songs, char *note, size_t n)
{
    s_form_t p = {0};
    sp_subsonic__form_add (&p, "query", "\"\"");
    sp_subsonic__form_addf (&p, "artistCount", 0);
    sp_subsonic__form_addf (&p, "albumCount", 0);
    sp_subsonic__form_addf (&p, "songCount", S_PAGE);
    sp_subsonic__form_addf (&p, "songOffset", (long long) offset);
    *sr = NULL;
    int rc = sp_subsonic__call (self, "search3", &p, true, "reading the songs", sr, note, n);
    sp_subsonic__form_free (&p);
    if (rc != SP_MEDIALIB_OK)
        return rc;
    json_t *res = json_object_get (*sr, "searchResult3");
    *songs = json_object_get (res, "song");
    if (!json_is_object (res) || (*songs && !json_is_array (*songs))) {
        snprintf (note, n, "%s sent an unexpected answer for search3 (no searchResult3)",
                  self->server);
        json_decref (*sr);
        *sr = NULL;
        return SP_MEDIALIB_ERR;
    }
    return SP_MEDIALIB_OK;
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
        json_t *sr = NULL, *songs = NULL;
        int rc = s_walk_fetch (self, offset, &sr, &songs, note, n);
        if (rc != SP_MEDIALIB_OK)
            return rc;
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
        rc = s_walk_page (self, songs, fn, arg, keep_index, note, n);
        json_decref (sr);
        if (rc != SP_MEDIALIB_OK)
            return rc;
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
}

static int
s_load (void *state, sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
    return s_walk (state, fn, arg, true, note, n);
}

// ------------------------------------------------------------ rescan

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
    int64_t deadline = sp_clock_mono_ms () + timeout_ms;
    json_t *sr = NULL;
    int rc =
        sp_subsonic__call (self, "startScan", NULL, false, "starting a library scan", &sr, note, n);
    if (rc != SP_MEDIALIB_OK)
        return rc;
    int scanning = s_scanning (sr);
    json_decref (sr);
    sp_log_info ("event=subsonic_scan_started server=%s scanning=%d", self->server, scanning);
    //  startScan answers with the scan status; a scan that was over before
    //  the answer (a small library) says scanning=false at once
    while (scanning != 0) {
        int64_t left = deadline - sp_clock_mono_ms ();
        if (left <= 0) {
            snprintf (note, n, "%s was still scanning after %d s", self->server,
                      (timeout_ms + 999) / 1000);
            return SP_MEDIALIB_ERR_TIMEOUT;
        }
        sp_clock_sleep_ms (left < self->poll_ms ? left : self->poll_ms);
        rc = sp_subsonic__call (self, "getScanStatus", NULL, true, "waiting for the library scan",
                                &sr, note, n);
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
    int rc =
        sp_subsonic__call (self, "getPlaylists", NULL, true, "listing the playlists", &sr, note, n);
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
        sp_subsonic__form_add (&p, "name", name);
        for (size_t i = 0; i < count; i++)
            sp_subsonic__form_add (&p, "songId", item_ids[i]);
        rc = sp_subsonic__call (self, "createPlaylist", &p, false, "creating the playlist", &sr,
                                note, n);
        sp_subsonic__form_free (&p);
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
        sp_subsonic__form_add (&p, "playlistId", id);
        for (size_t i = 0; i < count; i++)
            sp_subsonic__form_add (&p, "songId", item_ids[i]);
        rc = sp_subsonic__call (self, "createPlaylist", &p, false, "replacing the playlist's songs",
                                &sr, note, n);
        sp_subsonic__form_free (&p);
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
            sp_subsonic__form_add (&p, "playlistId", id);
            if (first)
                for (long i = 0; i < have; i++)
                    sp_subsonic__form_addf (&p, "songIndexToRemove", i);
            size_t end = done + S_UPDATE_BATCH < count ? done + S_UPDATE_BATCH : count;
            for (size_t i = done; i < end; i++)
                sp_subsonic__form_add (&p, "songIdToAdd", item_ids[i]);
            rc = sp_subsonic__call (self, "updatePlaylist", &p, false, "updating the playlist", &sr,
                                    note, n);
            sp_subsonic__form_free (&p);
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
