/*  medialib_plex.c: the Plex Media Server backend of medialib.h.

    JSON (Accept: application/json), token in the X-Plex-Token header (never
    logged). Music sections are the /library/sections Directory entries of
    type "artist" (PLEX_SECTIONS limits them to the listed keys).

      load       GET /library/sections/{key}/all?type=10 paged with
                 X-Plex-Container-Start/-Size until totalSize
      rescan     GET /library/sections/{key}/refresh?path=<dir> on the music
                 sections whose Location holds the path (every music section
                 when none does), then polls /library/sections: a section is
                 done when its "refreshing" attribute is false and either it
                 was seen true, or its scannedAt moved past the value before
                 the trigger, or S_START_GRACE_MS passed without it starting
      find_item  the section listing sorted addedAt:desc (newest first),
                 matched on Media[].Part[].file
      playlist   GET /playlists?playlistType=audio (a non-smart one with the
                 title), POST /playlists?type=audio&title=&smart=0&uri=
                 server://<machineIdentifier>/com.plexapp.plugins.library/
                 library/metadata/<id,id,...> (machineIdentifier from
                 GET /identity); an existing one is edited in place: the
                 items past the longest common prefix are removed with
                 DELETE /playlists/{id}/items/{playlistItemID}, the rest
                 appended with PUT /playlists/{id}/items?uri=...
*/
#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"
#include "soulpipe/medialib.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PAGE           2000          //  tracks per request
#define S_FIND_PAGE      200           //  find_item: newest first, this many per request
#define S_CONNECT_MS     3000          //  default connect timeout
#define S_TOTAL_MS       60000         //  default per request
#define S_RETRIES        1             //  a down Plex must not hold a submit long
#define S_MAX_RESPONSE   (256u << 20)  //  a page of 2000 tracks is a few MB
#define S_POLL_MS        500           //  rescan status poll
#define S_START_GRACE_MS 2000          //  a scan not seen starting by then was quicker than a poll
#define S_ADD_CHUNK      100           //  item ids per playlist URI
#define S_MAX_SECTIONS   32

typedef struct {
    sp_http_t *http;   //  one client, keep-alive
    char *url;         //  PLEX_URL (for notes, redacted there)
    char *sections;    //  PLEX_SECTIONS or NULL
    char *machine_id;  //  from /identity, NULL until needed
    int poll_ms;       //  rescan poll interval
} s_plex_t;

static char *
s_dup (const char *s)
{
    return s && *s ? strdup (s) : NULL;
}

static const char *
s_jstr (json_t *o, const char *k)
{
    return json_string_value (json_object_get (o, k));
}

static int
s_note (s_plex_t *self, int rc, const sp_http_resp_t *resp, const char *what, char *note, size_t n)
{
    return sp_medialib_http_note ("Plex", self->url, "PLEX_URL", "token", "PLEX_TOKEN", rc,
                                  resp ? resp->status : 0, what, note, n);
}

// ------------------------------------------------------------ life cycle

static void
s_destroy (void **state_p)
{
    s_plex_t *self = *state_p;
    if (self) {
        sp_http_destroy (&self->http);
        free (self->url);
        free (self->sections);
        free (self->machine_id);
        free (self);
    }
    *state_p = NULL;
}

static void *
s_create (const sp_medialib_opts_t *opts, char *note, size_t n)
{
    if (!opts->plex_url || !*opts->plex_url) {
        snprintf (note, n, "PLEX_URL is not set");
        return NULL;
    }
    s_plex_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (opts->plex_url);
    self->sections = s_dup (opts->plex_sections);
    self->http = sp_http_new (opts->plex_url);
    self->poll_ms = opts->poll_ms > 0 ? opts->poll_ms : S_POLL_MS;
    if (!self->url || !self->http) {
        snprintf (note, n, "PLEX_URL is not a usable URL, or out of memory");
        void *p = self;
        s_destroy (&p);
        return NULL;
    }
    sp_http_set_timeouts (self->http,
                          opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : S_CONNECT_MS,
                          opts->request_timeout_ms > 0 ? opts->request_timeout_ms : S_TOTAL_MS);
    sp_http_set_retries (self->http, opts->retries > 0 ? opts->retries : S_RETRIES, 300, 2000);
    sp_http_set_max_response (self->http, S_MAX_RESPONSE);
    if (opts->plex_token && *opts->plex_token)
        sp_http_set_header (self->http, "X-Plex-Token", opts->plex_token);
    sp_http_set_header (self->http, "X-Plex-Product", "soulpipe");
    sp_http_set_header (self->http, "X-Plex-Client-Identifier", "soulpipe-analyzer");
    return self;
}

// ------------------------------------------------------------ sections

static bool
s_section_wanted (const char *list, const char *key)
{
    if (!list || !*list)
        return true;
    size_t kl = strlen (key);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *te = e;
        while (te > p && te[-1] == ' ')
            te--;
        if ((size_t) (te - p) == kl && strncmp (p, key, kl) == 0)
            return true;
        p = e;
    }
    return false;
}

static bool
s_key_ok (const char *key)
{
    return key && *key && strlen (key) <= 64 &&
           strspn (key, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") ==
               strlen (key);
}

//  GET /library/sections. Returns OK and *resp (caller owns) or an error.
static int
s_get_sections (s_plex_t *self, sp_http_resp_t **resp, const char *what, char *note, size_t n)
{
    int rc = sp_http_get (self->http, "/library/sections", resp);
    if (rc != SP_HTTP_OK)
        return s_note (self, rc, *resp, what, note, n);
    return SP_MEDIALIB_OK;
}

//  The wanted music sections of a /library/sections answer, borrowed from
//  it, up to max. Writes a note when there is none.
static size_t
s_music_sections (s_plex_t *self, const sp_http_resp_t *resp, json_t **out, size_t max, char *note,
                  size_t n)
{
    json_t *dirs = json_object_get (json_object_get (resp->json, "MediaContainer"), "Directory");
    size_t i, count = 0;
    json_t *d;
    json_array_foreach (dirs, i, d)
    {
        const char *type = s_jstr (d, "type");
        const char *key = s_jstr (d, "key");
        if (!type || strcmp (type, "artist") != 0 || !s_key_ok (key))
            continue;
        if (!s_section_wanted (self->sections, key) || count == max)
            continue;
        out[count++] = d;
    }
    if (count == 0) {
        if (self->sections)
            snprintf (note, n, "Plex has no music section with a key in PLEX_SECTIONS (%s)",
                      self->sections);
        else
            snprintf (note, n, "Plex has no music library section");
    }
    return count;
}

// ------------------------------------------------------------ load

//  The file of a track: Media[0].Part[0].file.
static const char *
s_file (json_t *md)
{
    json_t *media = json_array_get (json_object_get (md, "Media"), 0);
    json_t *part = json_array_get (json_object_get (media, "Part"), 0);
    return s_jstr (part, "file");
}

//  One page of a section listing. query is appended after type=10.
static int
s_page (s_plex_t *self, const char *key, const char *query, size_t start, size_t size,
        sp_http_resp_t **resp, json_t **mc, const char *what, char *note, size_t n)
{
    char path[512];
    snprintf (path, sizeof path, "/library/sections/%s/all?type=10%s", key, query);
    char h1[64], h2[64];
    snprintf (h1, sizeof h1, "X-Plex-Container-Start: %zu", start);
    snprintf (h2, sizeof h2, "X-Plex-Container-Size: %zu", size);
    const char *hdrs[] = {h1, h2, NULL};
    sp_http_req_t req = {.headers = hdrs};
    int rc = sp_http_request (self->http, SP_HTTP_GET, path, &req, resp);
    if (rc != SP_HTTP_OK)
        return s_note (self, rc, *resp, what, note, n);
    *mc = json_object_get ((*resp)->json, "MediaContainer");
    if (!json_is_object (*mc)) {
        snprintf (note, n, "Plex sent an unexpected answer for section %s (no MediaContainer)",
                  key);
        return SP_MEDIALIB_ERR;
    }
    return SP_MEDIALIB_OK;
}

//  True when another page may follow one that ended at `next` with got of
//  want items. Plex sends totalSize on paged requests; when it is absent
//  (some versions, some proxies) python-plexapi falls back to size and then
//  to the item count: a full page means ask again, a short or empty one is
//  the last.
static bool
s_more_pages (json_t *mc, size_t next, size_t got, size_t want)
{
    if (got == 0)
        return false;
    json_t *ts = json_object_get (mc, "totalSize");
    if (json_is_integer (ts))
        return next < (size_t) json_integer_value (ts);
    return got >= want;
}

static int
s_load_section (s_plex_t *self, const char *key, sp_medialib_track_fn *fn, void *arg, char *note,
                size_t n)
{
    size_t start = 0;
    for (;;) {
        sp_http_resp_t *resp = NULL;
        json_t *mc = NULL;
        int rc = s_page (self, key, "", start, S_PAGE, &resp, &mc,
                         "reading the tracks of a music section", note, n);
        if (rc != SP_MEDIALIB_OK) {
            sp_http_resp_destroy (&resp);
            return rc;
        }
        json_t *md = json_object_get (mc, "Metadata");
        size_t got = json_array_size (md);
        size_t i;
        json_t *t;
        json_array_foreach (md, i, t)
        {
            const char *title = s_jstr (t, "title");
            if (!title)
                continue;
            json_t *d = json_object_get (t, "duration");
            sp_medialib_track_t track = {
                .title = title,
                .artist = s_jstr (t, "originalTitle"),
                .album_artist = s_jstr (t, "grandparentTitle"),
                .album = s_jstr (t, "parentTitle"),
                .duration_ms = json_is_integer (d) && json_integer_value (d) > 0
                                   ? (uint64_t) json_integer_value (d)
                                   : 0,
                .path = s_file (t),
                .item_id = s_jstr (t, "ratingKey"),
            };
            if (fn (&track, arg, note, n) != 0) {
                if (n && !note[0])
                    snprintf (note, n, "stopped by the caller");
                sp_http_resp_destroy (&resp);
                return SP_MEDIALIB_ERR;
            }
        }
        start += got;
        bool more = s_more_pages (mc, start, got, S_PAGE);
        sp_http_resp_destroy (&resp); /* mc dies with it */
        if (!more)
            break;
    }
    return SP_MEDIALIB_OK;
}

static int
s_load (void *state, sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
    s_plex_t *self = state;
    sp_http_resp_t *resp = NULL;
    int rc = s_get_sections (self, &resp, "listing the library sections", note, n);
    if (rc != SP_MEDIALIB_OK)
        goto done;
    json_t *secs[S_MAX_SECTIONS];
    size_t count = s_music_sections (self, resp, secs, S_MAX_SECTIONS, note, n);
    if (count == 0) {
        rc = SP_MEDIALIB_ERR;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        rc = s_load_section (self, s_jstr (secs[i], "key"), fn, arg, note, n);
        if (rc != SP_MEDIALIB_OK)
            goto done;
    }
    sp_log_info ("event=plex_loaded sections=%zu", count);
done:
    sp_http_resp_destroy (&resp);
    return rc;
}

// ------------------------------------------------------------ rescan

//  True when dir (a Location path) holds path, on path components.
static bool
s_under (const char *dir, const char *path)
{
    size_t dl = strlen (dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    return dl > 0 && strncmp (dir, path, dl) == 0 && (path[dl] == '\0' || path[dl] == '/');
}

static bool
s_section_holds (json_t *sec, const char *path)
{
    size_t i;
    json_t *loc;
    json_array_foreach (json_object_get (sec, "Location"), i, loc)
    {
        const char *p = s_jstr (loc, "path");
        if (p && s_under (p, path))
            return true;
    }
    return false;
}

static bool
s_truthy (json_t *v)
{
    return json_is_true (v) || (json_is_integer (v) && json_integer_value (v) != 0) ||
           (json_is_string (v) && strcmp (json_string_value (v), "1") == 0);
}

static json_int_t
s_int (json_t *v)
{
    if (json_is_integer (v))
        return json_integer_value (v);
    if (json_is_string (v))
        return strtoll (json_string_value (v), NULL, 10);
    return 0;
}

typedef struct {
    char key[65];           //  section key
    json_int_t scanned_at;  //  scannedAt before the trigger
    bool seen_running;      //  refreshing was seen true
    bool done;
} s_scan_t;

static int
s_rescan (void *state, const char *path, int timeout_ms, char *note, size_t n)
{
    s_plex_t *self = state;
    sp_http_resp_t *resp = NULL;
    s_scan_t scans[S_MAX_SECTIONS];
    size_t count = 0;
    char *enc = sp_http_urlencode (path);
    int rc = enc ? SP_MEDIALIB_OK : SP_MEDIALIB_ERR_NOMEM;
    if (rc == SP_MEDIALIB_OK)
        rc = s_get_sections (self, &resp, "listing the library sections for a rescan", note, n);
    if (rc != SP_MEDIALIB_OK)
        goto done;
    json_t *secs[S_MAX_SECTIONS];
    size_t all = s_music_sections (self, resp, secs, S_MAX_SECTIONS, note, n);
    if (all == 0) {
        rc = SP_MEDIALIB_ERR;
        goto done;
    }
    for (size_t i = 0; i < all; i++)
        if (s_section_holds (secs[i], path)) {
            snprintf (scans[count].key, sizeof scans[count].key, "%s", s_jstr (secs[i], "key"));
            scans[count].scanned_at = s_int (json_object_get (secs[i], "scannedAt"));
            scans[count].seen_running = s_truthy (json_object_get (secs[i], "refreshing"));
            scans[count++].done = false;
        }
    if (count == 0)  //  the path is not under a Location Plex reports: ask them all
        for (size_t i = 0; i < all; i++) {
            snprintf (scans[count].key, sizeof scans[count].key, "%s", s_jstr (secs[i], "key"));
            scans[count].scanned_at = s_int (json_object_get (secs[i], "scannedAt"));
            scans[count].seen_running = false;
            scans[count++].done = false;
        }
    sp_http_resp_destroy (&resp);
    int64_t t0 = sp_clock_mono_ms ();
    for (size_t i = 0; i < count; i++) {
        char req_path[4200];
        snprintf (req_path, sizeof req_path, "/library/sections/%s/refresh?path=%s", scans[i].key,
                  enc);
        sp_http_req_t req = {.allow_text = true};
        rc = sp_http_request (self->http, SP_HTTP_GET, req_path, &req, &resp);
        if (rc != SP_HTTP_OK) {
            rc = s_note (self, rc, resp, "asking for a rescan", note, n);
            goto done;
        }
        sp_http_resp_destroy (&resp);
        scans[i].seen_running = false;
    }
    for (;;) {
        sp_clock_sleep_ms (self->poll_ms);
        int64_t elapsed = sp_clock_mono_ms () - t0;
        rc = s_get_sections (self, &resp, "waiting for a rescan", note, n);
        if (rc != SP_MEDIALIB_OK)
            goto done;
        json_t *dirs =
            json_object_get (json_object_get (resp->json, "MediaContainer"), "Directory");
        size_t pending = 0;
        for (size_t i = 0; i < count; i++) {
            if (scans[i].done)
                continue;
            size_t j;
            json_t *d;
            json_array_foreach (dirs, j, d)
            {
                const char *k = s_jstr (d, "key");
                if (!k || strcmp (k, scans[i].key) != 0)
                    continue;
                bool running = s_truthy (json_object_get (d, "refreshing"));
                json_int_t at = s_int (json_object_get (d, "scannedAt"));
                if (running)
                    scans[i].seen_running = true;
                else if (scans[i].seen_running || at > scans[i].scanned_at ||
                         elapsed >= S_START_GRACE_MS)
                    scans[i].done = true;
            }
            if (!scans[i].done)
                pending++;
        }
        sp_http_resp_destroy (&resp);
        if (pending == 0)
            break;
        if (elapsed >= timeout_ms) {
            snprintf (note, n, "Plex was still scanning after %d s (section %s)",
                      (timeout_ms + 999) / 1000, scans[0].key);
            rc = SP_MEDIALIB_ERR_TIMEOUT;
            goto done;
        }
    }
    sp_log_info ("event=plex_rescanned sections=%zu ms=%lld", count,
                 (long long) (sp_clock_mono_ms () - t0));
done:
    sp_http_resp_destroy (&resp);
    free (enc);
    return rc;
}

// ------------------------------------------------------------ find_item

static bool
s_has_file (json_t *md, const char *path)
{
    size_t i, j;
    json_t *m, *p;
    json_array_foreach (json_object_get (md, "Media"), i, m)
    {
        json_array_foreach (json_object_get (m, "Part"), j, p)
        {
            const char *f = s_jstr (p, "file");
            if (f && strcmp (f, path) == 0)
                return true;
        }
    }
    return false;
}

static int
s_find_item (void *state, const char *path, char **item_id, char *note, size_t n)
{
    s_plex_t *self = state;
    sp_http_resp_t *resp = NULL;
    int rc = s_get_sections (self, &resp, "listing the library sections", note, n);
    if (rc != SP_MEDIALIB_OK)
        goto done;
    json_t *secs[S_MAX_SECTIONS];
    size_t count = s_music_sections (self, resp, secs, S_MAX_SECTIONS, note, n);
    if (count == 0) {
        rc = SP_MEDIALIB_ERR;
        goto done;
    }
    //  the sections holding the path first; the rest after
    size_t order[S_MAX_SECTIONS], no = 0;
    for (size_t i = 0; i < count; i++)
        if (s_section_holds (secs[i], path))
            order[no++] = i;
    for (size_t i = 0; i < count; i++)
        if (!s_section_holds (secs[i], path))
            order[no++] = i;
    for (size_t k = 0; k < no; k++) {
        const char *key = s_jstr (secs[order[k]], "key");
        size_t start = 0;
        for (;;) {
            sp_http_resp_t *page = NULL;
            json_t *mc = NULL;
            rc = s_page (self, key, "&sort=addedAt:desc", start, S_FIND_PAGE, &page, &mc,
                         "looking for a file in the library", note, n);
            if (rc != SP_MEDIALIB_OK) {
                sp_http_resp_destroy (&page);
                goto done;
            }
            json_t *md = json_object_get (mc, "Metadata");
            size_t got = json_array_size (md), i;
            json_t *t;
            json_array_foreach (md, i, t)
            {
                const char *rk = s_jstr (t, "ratingKey");
                if (rk && s_has_file (t, path)) {
                    *item_id = strdup (rk);
                    sp_http_resp_destroy (&page);
                    rc = *item_id ? SP_MEDIALIB_OK : SP_MEDIALIB_ERR_NOMEM;
                    goto done;
                }
            }
            start += got;
            bool more = s_more_pages (mc, start, got, S_FIND_PAGE);
            sp_http_resp_destroy (&page);
            if (!more)
                break;
        }
    }
    snprintf (note, n, "Plex has no track for %s (not scanned yet?)", path);
    rc = SP_MEDIALIB_ERR_NOTFOUND;
done:
    sp_http_resp_destroy (&resp);
    return rc;
}

// ------------------------------------------------------------ playlists

static int
s_machine_id (s_plex_t *self, char *note, size_t n)
{
    if (self->machine_id)
        return SP_MEDIALIB_OK;
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_get (self->http, "/identity", &resp);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "reading the server identity", note, n);
        sp_http_resp_destroy (&resp);
        return rc;
    }
    const char *mid = s_jstr (json_object_get (resp->json, "MediaContainer"), "machineIdentifier");
    if (!mid || !s_key_ok (mid)) {
        snprintf (note, n, "Plex sent no machineIdentifier in /identity");
        sp_http_resp_destroy (&resp);
        return SP_MEDIALIB_ERR;
    }
    self->machine_id = strdup (mid);
    sp_http_resp_destroy (&resp);
    return self->machine_id ? SP_MEDIALIB_OK : SP_MEDIALIB_ERR_NOMEM;
}

//  "uri=<encoded server://.../metadata/a,b,c>" for ids[0..count-1], into a
//  malloc'd string (NULL on out of memory).
static char *
s_uri_arg (s_plex_t *self, const char *const *ids, size_t count)
{
    size_t len = 128 + strlen (self->machine_id);
    for (size_t i = 0; i < count; i++)
        len += strlen (ids[i]) + 1;
    char *uri = malloc (len);
    if (!uri)
        return NULL;
    size_t used = (size_t) snprintf (
        uri, len, "server://%s/com.plexapp.plugins.library/library/metadata/", self->machine_id);
    for (size_t i = 0; i < count; i++)
        used += (size_t) snprintf (uri + used, len - used, "%s%s", i ? "," : "", ids[i]);
    char *enc = sp_http_urlencode (uri);
    free (uri);
    if (!enc)
        return NULL;
    char *arg = malloc (strlen (enc) + 8);
    if (arg)
        sprintf (arg, "uri=%s", enc);
    free (enc);
    return arg;
}

//  Append ids to playlist pid, S_ADD_CHUNK per request.
static int
s_playlist_add (s_plex_t *self, const char *pid, const char *const *ids, size_t count, char *note,
                size_t n)
{
    for (size_t off = 0; off < count; off += S_ADD_CHUNK) {
        size_t k = count - off < S_ADD_CHUNK ? count - off : S_ADD_CHUNK;
        char *arg = s_uri_arg (self, ids + off, k);
        if (!arg)
            return SP_MEDIALIB_ERR_NOMEM;
        size_t len = strlen (arg) + 64 + strlen (pid);
        char *path = malloc (len);
        if (!path) {
            free (arg);
            return SP_MEDIALIB_ERR_NOMEM;
        }
        snprintf (path, len, "/playlists/%s/items?%s", pid, arg);
        free (arg);
        sp_http_resp_t *resp = NULL;
        sp_http_req_t req = {.allow_text = true};
        int rc = sp_http_request (self->http, SP_HTTP_PUT, path, &req, &resp);
        free (path);
        if (rc != SP_HTTP_OK) {
            rc = s_note (self, rc, resp, "adding tracks to a playlist", note, n);
            sp_http_resp_destroy (&resp);
            return rc;
        }
        sp_http_resp_destroy (&resp);
    }
    return SP_MEDIALIB_OK;
}

static int
s_playlist_find (s_plex_t *self, const char *name, char **pid, char *note, size_t n)
{
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_get (self->http, "/playlists?playlistType=audio", &resp);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "listing the playlists", note, n);
        sp_http_resp_destroy (&resp);
        return rc;
    }
    json_t *md = json_object_get (json_object_get (resp->json, "MediaContainer"), "Metadata");
    size_t i;
    json_t *p;
    json_array_foreach (md, i, p)
    {
        const char *title = s_jstr (p, "title");
        const char *rk = s_jstr (p, "ratingKey");
        const char *type = s_jstr (p, "playlistType");
        if (title && rk && strcmp (title, name) == 0 && s_key_ok (rk) &&
            (!type || strcmp (type, "audio") == 0) && !s_truthy (json_object_get (p, "smart"))) {
            *pid = strdup (rk);
            break;
        }
    }
    sp_http_resp_destroy (&resp);
    return SP_MEDIALIB_OK;
}

static int
s_playlist_create (s_plex_t *self, const char *name, const char *const *ids, size_t count,
                   char **pid, char *note, size_t n)
{
    size_t first = count < S_ADD_CHUNK ? count : S_ADD_CHUNK;
    char *arg = first ? s_uri_arg (self, ids, first) : strdup ("uri=");
    char *title = sp_http_urlencode (name);
    int rc = SP_MEDIALIB_ERR_NOMEM;
    char *path = NULL;
    sp_http_resp_t *resp = NULL;
    if (!arg || !title)
        goto done;
    size_t len = strlen (arg) + strlen (title) + 64;
    path = malloc (len);
    if (!path)
        goto done;
    snprintf (path, len, "/playlists?type=audio&title=%s&smart=0&%s", title, arg);
    rc = sp_http_request (self->http, SP_HTTP_POST, path, NULL, &resp);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "creating a playlist", note, n);
        goto done;
    }
    const char *rk = s_jstr (
        json_array_get (
            json_object_get (json_object_get (resp->json, "MediaContainer"), "Metadata"), 0),
        "ratingKey");
    if (!rk || !s_key_ok (rk)) {
        snprintf (note, n, "Plex created the playlist but sent no ratingKey back");
        rc = SP_MEDIALIB_ERR;
        goto done;
    }
    *pid = strdup (rk);
    rc = *pid ? s_playlist_add (self, *pid, ids + first, count - first, note, n)
              : SP_MEDIALIB_ERR_NOMEM;
done:
    sp_http_resp_destroy (&resp);
    free (path);
    free (arg);
    free (title);
    return rc;
}

//  Make the existing playlist pid hold ids: keep the longest common prefix,
//  remove the items after it, append the rest.
static int
s_playlist_sync (s_plex_t *self, const char *pid, const char *const *ids, size_t count, char *note,
                 size_t n)
{
    char path[256];
    snprintf (path, sizeof path, "/playlists/%s/items", pid);
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_get (self->http, path, &resp);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "reading a playlist", note, n);
        sp_http_resp_destroy (&resp);
        return rc;
    }
    json_t *md = json_object_get (json_object_get (resp->json, "MediaContainer"), "Metadata");
    size_t have = json_array_size (md), keep = 0;
    while (keep < have && keep < count) {
        const char *rk = s_jstr (json_array_get (md, keep), "ratingKey");
        if (!rk || strcmp (rk, ids[keep]) != 0)
            break;
        keep++;
    }
    rc = SP_MEDIALIB_OK;
    for (size_t i = keep; i < have && rc == SP_MEDIALIB_OK; i++) {
        json_int_t item = s_int (json_object_get (json_array_get (md, i), "playlistItemID"));
        if (item <= 0) {
            snprintf (note, n, "Plex sent a playlist item without playlistItemID");
            rc = SP_MEDIALIB_ERR;
            break;
        }
        snprintf (path, sizeof path, "/playlists/%s/items/%lld", pid, (long long) item);
        sp_http_resp_t *del = NULL;
        sp_http_req_t req = {.allow_text = true};
        int hrc = sp_http_request (self->http, SP_HTTP_DELETE, path, &req, &del);
        if (hrc != SP_HTTP_OK)
            rc = s_note (self, hrc, del, "removing a playlist item", note, n);
        sp_http_resp_destroy (&del);
    }
    sp_http_resp_destroy (&resp);
    if (rc == SP_MEDIALIB_OK)
        rc = s_playlist_add (self, pid, ids + keep, count - keep, note, n);
    return rc;
}

static int
s_playlist_upsert (void *state, const char *name, const char *const *ids, size_t count,
                   char **playlist_id, char *note, size_t n)
{
    s_plex_t *self = state;
    char *pid = NULL;
    int rc = s_machine_id (self, note, n);
    if (rc == SP_MEDIALIB_OK)
        rc = s_playlist_find (self, name, &pid, note, n);
    if (rc == SP_MEDIALIB_OK && pid)
        rc = s_playlist_sync (self, pid, ids, count, note, n);
    else if (rc == SP_MEDIALIB_OK)
        rc = s_playlist_create (self, name, ids, count, &pid, note, n);
    if (rc == SP_MEDIALIB_OK) {
        sp_log_info ("event=plex_playlist id=%s items=%zu", sp_log_q (pid), count);
        *playlist_id = pid;
    } else
        free (pid);
    return rc;
}

const sp_medialib_backend_t sp_medialib_plex_backend = {
    .name = "Plex",
    .caps = SP_MEDIALIB_CAN_LOAD | SP_MEDIALIB_CAN_RESCAN | SP_MEDIALIB_CAN_RESCAN_PATH |
            SP_MEDIALIB_CAN_RESCAN_WAIT | SP_MEDIALIB_CAN_FIND_ITEM | SP_MEDIALIB_CAN_PLAYLIST |
            SP_MEDIALIB_RESCAN_NEEDED | SP_MEDIALIB_CAN_PLAYLIST_KEEP,
    .create = s_create,
    .destroy = s_destroy,
    .load = s_load,
    .rescan = s_rescan,
    .find_item = s_find_item,
    .playlist_upsert = s_playlist_upsert,
};
