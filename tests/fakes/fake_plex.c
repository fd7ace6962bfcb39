/*  fake_plex.c: the fake Plex Media Server: GET /identity,
    GET /library/sections, GET /library/sections/{key}/all?type=10 (paged by
    X-Plex-Container-Start/-Size as headers or query; sort=addedAt:desc),
    GET|POST /library/sections/{key}/refresh[?path=] (counted; the section's
    "refreshing" is true for plex/scan.json's scan_ms, then scannedAt moves
    and the plex/pending.json tracks under the path join the library; with
    scan.json "discover": true also the audio files on disk below the path,
    inside the section's Locations, that it does not have yet), and
    the playlist API: GET|POST /playlists, GET|DELETE /playlists/{id},
    GET|PUT /playlists/{id}/items (uri=server://<machineIdentifier>/
    com.plexapp.plugins.library/library/metadata/<ids>),
    DELETE /playlists/{id}/items/{playlistItemID}.

    JSON only with "Accept: application/json"; XML otherwise (the JSON tree
    rendered the way Plex does: scalars as attributes, arrays as children).
    Every path but /identity needs the X-Plex-Token (header or query).
*/
#include "fake.h"
#include "soulpipe/log.h"

#include "audio.h"
#include "soulpipe/path.h"
#include "soulpipe/tags.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PLEX_MACHINE_ID "fa4e0000soulpipe0fake0plex00000000000001"
#define PLEX_VERSION    "1.41.3.9314-fake"
#define PLEX_UNAUTHORIZED                                                                          \
    "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"

struct sp_fake_plex_t {
    bool enabled;                //  DIR/plex/token exists
    char *token;                 //  the X-Plex-Token
    json_t *sections;            //  Directory[] entries
    json_t *tracks;              //  track Metadata[]
    json_t *refreshes;           //  section key -> refresh count
    json_t *pending;             //  track Metadata[] that a refresh of their folder adds
    int64_t scan_ms;             //  how long a refresh keeps "refreshing" true
    json_t *scans;               //  running scans: [{key, path, end_ms}]
    json_t *playlists;           //  [{ratingKey, title, ..., "_items": [{track, id}]}]
    int64_t next_playlist;       //  next playlist ratingKey
    int64_t next_playlist_item;  //  next playlistItemID
    int64_t scanned_at;          //  last scannedAt handed out (seconds)
    unsigned playlist_writes;    //  POST/PUT/DELETE on /playlists (stats)
    bool omit_total_size;        //  scan.json "total_size": false
    bool discover;               //  scan.json "discover": true: a scan reads the disk
    int64_t next_discovered;     //  next ratingKey of a discovered file
};

//  plex/scan.json {"scan_ms": N} and plex/pending.json (track Metadata[]
//  like tracks.json, added by a refresh whose path holds their file).
static int
s_load_scan (sp_fake_plex_t *self, const char *fixtures_dir, char *err, size_t err_size)
{
    char path[4096];
    bool missing;
    snprintf (path, sizeof path, "%s/plex/scan.json", fixtures_dir);
    json_t *cfg = sp_fake_load_json (path, &missing, err, err_size);
    if (!cfg && !missing)
        return -1;
    json_t *ms = json_object_get (cfg, "scan_ms");
    self->scan_ms =
        json_is_integer (ms) && json_integer_value (ms) > 0 ? json_integer_value (ms) : 0;
    //  {"total_size": false}: paged answers without totalSize
    json_t *tsz = json_object_get (cfg, "total_size");
    self->omit_total_size = json_is_false (tsz);
    self->discover = json_is_true (json_object_get (cfg, "discover"));
    json_decref (cfg);
    snprintf (path, sizeof path, "%s/plex/pending.json", fixtures_dir);
    json_t *p = sp_fake_load_json (path, &missing, err, err_size);
    if (!p && !missing)
        return -1;
    if (p && !json_is_array (p)) {
        snprintf (err, err_size, "%s: want an array of track Metadata objects", path);
        json_decref (p);
        return -1;
    }
    self->pending = p ? p : json_array ();
    size_t i;
    json_t *d;
    json_array_foreach (self->pending, i, d)
    {
        if (!json_is_object (d))
            continue;
        json_t *rk = json_object_get (d, "ratingKey");
        if (json_is_integer (rk))
            json_object_set_new (d, "ratingKey",
                                 json_sprintf ("%lld", (long long) json_integer_value (rk)));
        else if (!rk)
            json_object_set_new (d, "ratingKey", json_sprintf ("%zu", 80000 + i));
        if (!json_object_get (d, "type"))
            json_object_set_new (d, "type", json_string ("track"));
    }
    return 0;
}

sp_fake_plex_t *
sp_fake_plex_new (const char *fixtures_dir, char *err, size_t err_size)
{
    sp_fake_plex_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->refreshes = json_object ();
    self->scans = json_array ();
    self->playlists = json_array ();
    self->next_playlist = 90001;
    self->next_playlist_item = 50001;
    self->next_discovered = 70001;
    char path[4096];
    snprintf (path, sizeof path, "%s/plex/token", fixtures_dir);
    char *token = sp_fake_read_file (path, NULL);
    if (!token) {
        self->sections = json_array ();
        self->tracks = json_array ();
        self->pending = json_array ();
        return self;  //  Plex disabled
    }
    //  trim trailing whitespace / newline
    size_t n = strlen (token);
    while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' ' ||
                     token[n - 1] == '\t'))
        token[--n] = '\0';
    self->token = token;
    self->enabled = true;

    bool missing;
    snprintf (path, sizeof path, "%s/plex/sections.json", fixtures_dir);
    json_t *s = sp_fake_load_json (path, &missing, err, err_size);
    if (!s && !missing)
        goto fail;
    if (s && json_is_object (s)) {
        //  accept a whole {"MediaContainer":{"Directory":[...]}} too
        json_t *mc = json_object_get (s, "MediaContainer");
        json_t *dir = json_incref (json_object_get (mc ? mc : s, "Directory"));
        json_decref (s);
        s = dir;
    }
    if (s && !json_is_array (s)) {
        snprintf (err, err_size, "%s: want an array of Directory objects", path);
        json_decref (s);
        goto fail;
    }
    if (!s)
        s = json_pack ("[{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:i, s:i, s:[{s:i, s:s}]}]",
                       "key", "1", "type", "artist", "title", "Music", "agent",
                       "tv.plex.agents.music", "scanner", "Plex Music", "language", "en-US", "uuid",
                       "6f1c0000-fake-4000-8000-000000000001", "refreshing", 0, "updatedAt",
                       1700000000, "scannedAt", 1700000000, "Location", "id", 1, "path", "/music");
    //  keys are strings in Plex JSON
    size_t i;
    json_t *d;
    json_array_foreach (s, i, d)
    {
        json_t *k = json_object_get (d, "key");
        if (json_is_integer (k))
            json_object_set_new (d, "key",
                                 json_sprintf ("%lld", (long long) json_integer_value (k)));
    }
    self->sections = s;

    snprintf (path, sizeof path, "%s/plex/tracks.json", fixtures_dir);
    json_t *t = sp_fake_load_json (path, &missing, err, err_size);
    if (!t && !missing)
        goto fail;
    if (t && json_is_object (t)) {
        json_t *mc = json_object_get (t, "MediaContainer");
        json_t *md = json_incref (json_object_get (mc ? mc : t, "Metadata"));
        json_decref (t);
        t = md;
    }
    if (t && !json_is_array (t)) {
        snprintf (err, err_size, "%s: want an array of track Metadata objects", path);
        json_decref (t);
        goto fail;
    }
    self->tracks = t ? t : json_array ();
    json_array_foreach (self->tracks, i, d)
    {
        if (!json_is_object (d))
            continue;
        json_t *rk = json_object_get (d, "ratingKey");
        if (json_is_integer (rk))
            json_object_set_new (d, "ratingKey",
                                 json_sprintf ("%lld", (long long) json_integer_value (rk)));
        else if (!rk)
            json_object_set_new (d, "ratingKey", json_sprintf ("%zu", 1000 + i));
        if (!json_object_get (d, "type"))
            json_object_set_new (d, "type", json_string ("track"));
        if (!json_object_get (d, "key"))
            json_object_set_new (
                d, "key",
                json_sprintf ("/library/metadata/%s",
                              json_string_value (json_object_get (d, "ratingKey"))));
    }
    if (s_load_scan (self, fixtures_dir, err, err_size) != 0)
        goto fail;
    return self;
fail:
    sp_fake_plex_destroy (&self);
    return NULL;
}

void
sp_fake_plex_destroy (sp_fake_plex_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_fake_plex_t *self = *self_p;
    free (self->token);
    json_decref (self->sections);
    json_decref (self->tracks);
    json_decref (self->refreshes);
    json_decref (self->pending);
    json_decref (self->scans);
    json_decref (self->playlists);
    free (self);
    *self_p = NULL;
}

// ------------------------------------------------------------ XML rendering

static void
s_xml_escape (sp_fake_buf_t *buf, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
            case '&':
                sp_fake_buf_puts (buf, "&amp;");
                break;
            case '<':
                sp_fake_buf_puts (buf, "&lt;");
                break;
            case '>':
                sp_fake_buf_puts (buf, "&gt;");
                break;
            case '"':
                sp_fake_buf_puts (buf, "&quot;");
                break;
            case '\n':
                sp_fake_buf_puts (buf, "&#10;");
                break;
            default:
                sp_fake_buf_append (buf, s, 1);
        }
    }
}

static void
s_xml_element (sp_fake_buf_t *buf, const char *name, json_t *obj)
{
    sp_fake_buf_printf (buf, "<%s", name);
    const char *key;
    json_t *v;
    bool children = false;
    json_object_foreach (obj, key, v)
    {
        char num[64];
        const char *text = NULL;
        if (json_is_string (v))
            text = json_string_value (v);
        else if (json_is_integer (v)) {
            snprintf (num, sizeof num, "%lld", (long long) json_integer_value (v));
            text = num;
        } else if (json_is_real (v)) {
            snprintf (num, sizeof num, "%g", json_real_value (v));
            text = num;
        } else if (json_is_boolean (v))
            text = json_is_true (v) ? "1" : "0";
        else if (json_is_array (v) || json_is_object (v))
            children = true;
        if (text) {
            sp_fake_buf_printf (buf, " %s=\"", key);
            s_xml_escape (buf, text);
            sp_fake_buf_puts (buf, "\"");
        }
    }
    if (!children) {
        sp_fake_buf_puts (buf, "/>\n");
        return;
    }
    sp_fake_buf_puts (buf, ">\n");
    json_object_foreach (obj, key, v)
    {
        if (json_is_object (v))
            s_xml_element (buf, key, v);
        else if (json_is_array (v)) {
            size_t i;
            json_t *e;
            json_array_foreach (v, i, e) if (json_is_object (e)) s_xml_element (buf, key, e);
        }
    }
    sp_fake_buf_printf (buf, "</%s>\n", name);
}

//  Answer {"MediaContainer": mc} as JSON or XML, per the Accept header.
static void
s_reply (const sp_fake_req_t *req, sp_fake_resp_t *resp, json_t *mc)
{
    const char *accept = sp_fake_req_header (req, "Accept");
    if (accept && strstr (accept, "application/json")) {
        sp_fake_resp_json (resp, 200, json_pack ("{s:o}", "MediaContainer", mc));
        return;
    }
    sp_fake_buf_t buf = {0};
    sp_fake_buf_puts (&buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s_xml_element (&buf, "MediaContainer", mc);
    json_decref (mc);
    resp->status = 200;
    resp->body = buf.data;
    resp->body_len = buf.len;
    resp->content_type = "text/xml;charset=utf-8";
}

// ------------------------------------------------------------ handlers

static json_t *
s_section (sp_fake_plex_t *self, const char *key)
{
    size_t i;
    json_t *d;
    json_array_foreach (self->sections, i, d)
    {
        const char *k = json_string_value (json_object_get (d, "key"));
        if (k && strcmp (k, key) == 0)
            return d;
    }
    return NULL;
}

//  Tracks without librarySectionID belong to the first music section.
static bool
s_track_in_section (sp_fake_plex_t *self, json_t *track, const char *key)
{
    json_t *sid = json_object_get (track, "librarySectionID");
    char buf[32];
    const char *s = json_string_value (sid);
    if (json_is_integer (sid)) {
        snprintf (buf, sizeof buf, "%lld", (long long) json_integer_value (sid));
        s = buf;
    }
    if (s)
        return strcmp (s, key) == 0;
    size_t i;
    json_t *d;
    json_array_foreach (self->sections, i, d)
    {
        const char *type = json_string_value (json_object_get (d, "type"));
        if (type && strcmp (type, "artist") == 0) {
            const char *k = json_string_value (json_object_get (d, "key"));
            return k && strcmp (k, key) == 0;
        }
    }
    return false;
}

//  Paging value from the query or a header; -1 when absent, -2 when bad.
static int64_t
s_container_arg (const sp_fake_req_t *req, const char *name)
{
    const char *v = sp_fake_req_arg (req, name);
    if (!v)
        v = sp_fake_req_header (req, name);
    if (!v)
        return -1;
    int64_t out;
    return sp_fake_parse_i64 (v, 0, 1000000000, &out) == 0 ? out : -2;
}

static void s_sort_added_desc (json_t *arr);

static void
s_all (sp_fake_plex_t *self, const sp_fake_req_t *req, const char *key, sp_fake_resp_t *resp)
{
    const char *type = sp_fake_req_arg (req, "type");
    const char *title = sp_fake_req_arg (req, "title");
    int64_t start = s_container_arg (req, "X-Plex-Container-Start");
    int64_t size = s_container_arg (req, "X-Plex-Container-Size");
    if (start == -2 || size == -2) {
        sp_fake_resp_text (resp, 400, "Bad Request", "text/html");
        return;
    }
    if (start < 0)
        start = 0;
    json_t *matching = json_array ();
    if (type && strcmp (type, "10") == 0) {
        size_t i;
        json_t *t;
        json_array_foreach (self->tracks, i, t)
        {
            if (!s_track_in_section (self, t, key))
                continue;
            const char *tt = json_string_value (json_object_get (t, "title"));
            if (title && (!tt || !strcasestr (tt, title)))
                continue;
            json_array_append (matching, t);
        }
    }
    const char *sort = sp_fake_req_arg (req, "sort");
    if (sort && strncmp (sort, "addedAt:desc", 12) == 0)
        s_sort_added_desc (matching);
    size_t total = json_array_size (matching);
    json_t *page = json_array ();
    for (size_t i = (size_t) start; i < total && (size < 0 || i < (size_t) (start + size)); i++)
        json_array_append (page, json_array_get (matching, i));
    json_decref (matching);
    json_t *sec = s_section (self, key);
    json_t *mc =
        json_pack ("{s:I, s:I, s:I, s:s, s:s, s:s}", "size", (json_int_t) json_array_size (page),
                   "totalSize", (json_int_t) total, "offset", (json_int_t) start,
                   "librarySectionID", key, "librarySectionTitle",
                   json_string_value (json_object_get (sec, "title"))
                       ? json_string_value (json_object_get (sec, "title"))
                       : "Music",
                   "viewGroup", "track");
    if (self->omit_total_size)
        json_object_del (mc, "totalSize");
    if (json_array_size (page) > 0)
        json_object_set_new (mc, "Metadata", page);
    else
        json_decref (page);
    char num[32];
    snprintf (num, sizeof num, "%lld", (long long) start);
    sp_fake_resp_header (resp, "X-Plex-Container-Start", num);
    snprintf (num, sizeof num, "%zu", total);
    sp_fake_resp_header (resp, "X-Plex-Container-Total-Size", num);
    s_reply (req, resp, mc);
}

//  Newest first by addedAt (stable: equal ones keep listing order, reversed
//  so that the later added of two equal stamps comes first).
static void
s_sort_added_desc (json_t *arr)
{
    size_t n = json_array_size (arr);
    for (size_t i = 1; i < n; i++) {
        json_t *cur = json_incref (json_array_get (arr, i));
        json_int_t a = json_integer_value (json_object_get (cur, "addedAt"));
        size_t j = i;
        while (j > 0 &&
               json_integer_value (json_object_get (json_array_get (arr, j - 1), "addedAt")) <= a) {
            json_array_set (arr, j, json_array_get (arr, j - 1));
            j--;
        }
        json_array_set_new (arr, j, cur);
    }
}

static bool
s_under (const char *dir, const char *file)
{
    size_t dl = strlen (dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    return strncmp (dir, file, dl) == 0 && (file[dl] == '\0' || file[dl] == '/');
}

static const char *
s_track_file (json_t *t)
{
    json_t *media = json_array_get (json_object_get (t, "Media"), 0);
    return json_string_value (
        json_object_get (json_array_get (json_object_get (media, "Part"), 0), "file"));
}

// ------------------------------------------------------------ discovery

#define S_DISCOVER_DEPTH 8  //  folders below a Location a scan walks into

static bool
s_has_track_file (sp_fake_plex_t *self, const char *file)
{
    size_t i;
    json_t *t;
    json_array_foreach (self->tracks, i, t)
    {
        const char *f = s_track_file (t);
        if (f && strcmp (f, file) == 0)
            return true;
    }
    return false;
}

//  One audio file found on disk as a track of section key: the tags say
//  title (else the file name), artists, album artist and album.
static void
s_discover_file (sp_fake_plex_t *self, const char *key, const char *file)
{
    if (s_has_track_file (self, file))
        return;
    sp_tags_info_t info;
    if (sp_tags_probe (file, &info, NULL, 0) != SP_TAGS_OK)
        return;
    char *title = sp_tags_get1 (file, "TITLE");
    char *artist = sp_tags_get1 (file, "ARTIST");
    char *aa = sp_tags_get1 (file, "ALBUMARTIST");
    char *album = sp_tags_get1 (file, "ALBUM");
    const char *base = strrchr (file, '/') ? strrchr (file, '/') + 1 : file;
    char rk[32];
    snprintf (rk, sizeof rk, "%lld", (long long) self->next_discovered++);
    json_t *t = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:[{s:[{s:s}]}]}", "ratingKey", rk,
                           "type", "track", "title", title ? title : base, "grandparentTitle",
                           aa ? aa : (artist ? artist : ""), "parentTitle", album ? album : "",
                           "duration", (json_int_t) info.length_s * 1000, "addedAt",
                           (json_int_t) (sp_fake_wall_ms () / 1000), "Media", "Part", "file", file);
    if (t && artist)
        json_object_set_new (t, "originalTitle", json_string (artist));
    if (t) {
        json_object_set_new (t, "librarySectionID", json_string (key));
        json_array_append_new (self->tracks, t);
        sp_log_info ("event=plex_discovered file=%s ratingKey=%s", sp_log_q (file), rk);
    }
    free (title);
    free (artist);
    free (aa);
    free (album);
}

static void
s_discover_dir (sp_fake_plex_t *self, const char *key, const char *dir, int depth)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir (d))) {
        if (e->d_name[0] == '.')
            continue;  //  ".", "..", hidden files and temporaries
        char path[4096];
        if ((size_t) snprintf (path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            continue;
        struct stat st;
        if (lstat (path, &st) != 0)
            continue;
        if (S_ISDIR (st.st_mode) && depth < S_DISCOVER_DEPTH)
            s_discover_dir (self, key, path, depth + 1);
        else if (S_ISREG (st.st_mode) && sp_fake_audio_supported (sp_path_ext (path)))
            s_discover_file (self, key, path);
    }
    closedir (d);
}

//  scan.json "discover": the files below path (every Location without one)
//  that lie inside a Location of section key join it, as a real scan finds
//  new files in a folder mapped into the library.
static void
s_discover (sp_fake_plex_t *self, const char *key, const char *path)
{
    size_t i;
    json_t *loc;
    json_array_foreach (json_object_get (s_section (self, key), "Location"), i, loc)
    {
        const char *lp = json_string_value (json_object_get (loc, "path"));
        if (!lp || !*lp)
            continue;
        if (!path || !*path)
            s_discover_dir (self, key, lp, 0);
        else if (s_under (lp, path))
            s_discover_dir (self, key, path, 0);
    }
}

//  Finish the scans whose time is up: the section stops refreshing, its
//  scannedAt moves on, and the pending tracks under the scanned path (all of
//  them without a path) join the library in that section.
static void
s_tick (sp_fake_plex_t *self)
{
    int64_t now = sp_fake_now_ms ();
    for (size_t i = 0; i < json_array_size (self->scans);) {
        json_t *sc = json_array_get (self->scans, i);
        if (json_integer_value (json_object_get (sc, "end_ms")) > now) {
            i++;
            continue;
        }
        const char *key = json_string_value (json_object_get (sc, "key"));
        const char *path = json_string_value (json_object_get (sc, "path"));
        for (size_t j = 0; j < json_array_size (self->pending);) {
            json_t *t = json_array_get (self->pending, j);
            const char *f = s_track_file (t);
            if (f && (!path || !*path || s_under (path, f))) {
                json_object_set_new (t, "librarySectionID", json_string (key));
                json_object_set_new (t, "addedAt", json_integer (sp_fake_wall_ms () / 1000));
                json_array_append (self->tracks, t);
                json_array_remove (self->pending, j);
                sp_log_info ("event=plex_scanned_in file=%s", sp_log_q (f));
            } else
                j++;
        }
        if (self->discover)
            s_discover (self, key, path);
        bool other = false;
        for (size_t j = 0; j < json_array_size (self->scans); j++) {
            const char *k =
                json_string_value (json_object_get (json_array_get (self->scans, j), "key"));
            if (j != i && k && strcmp (k, key) == 0 &&
                json_integer_value (json_object_get (json_array_get (self->scans, j), "end_ms")) >
                    now)
                other = true;
        }
        json_t *sec = s_section (self, key);
        if (sec && !other) {
            int64_t at = sp_fake_wall_ms () / 1000;
            if (at <= self->scanned_at)
                at = self->scanned_at + 1;
            self->scanned_at = at;
            json_object_set_new (sec, "refreshing", json_false ());
            json_object_set_new (sec, "scannedAt", json_integer (at));
        }
        json_array_remove (self->scans, i);
    }
}

static void
s_refresh (sp_fake_plex_t *self, const sp_fake_req_t *req, const char *key, sp_fake_resp_t *resp)
{
    json_t *c = json_object_get (self->refreshes, key);
    json_object_set_new (self->refreshes, key, json_integer (c ? json_integer_value (c) + 1 : 1));
    const char *path = sp_fake_req_arg (req, "path");
    sp_log_info ("event=plex_refresh section=%s path=%s", sp_log_q (key), sp_log_q (path));
    json_array_append_new (self->scans,
                           json_pack ("{s:s, s:s, s:I}", "key", key, "path", path ? path : "",
                                      "end_ms", (json_int_t) (sp_fake_now_ms () + self->scan_ms)));
    json_t *sec = s_section (self, key);
    if (self->scan_ms > 0)
        json_object_set_new (sec, "refreshing", json_true ());
    else
        s_tick (self);
    sp_fake_resp_text (resp, 200, NULL, NULL);
}

// ------------------------------------------------------------ playlists

static json_t *
s_track_by_key (sp_fake_plex_t *self, const char *rk)
{
    size_t i;
    json_t *t;
    json_array_foreach (self->tracks, i, t)
    {
        const char *k = json_string_value (json_object_get (t, "ratingKey"));
        if (k && strcmp (k, rk) == 0)
            return t;
    }
    return NULL;
}

static json_t *
s_playlist (sp_fake_plex_t *self, const char *id)
{
    size_t i;
    json_t *p;
    json_array_foreach (self->playlists, i, p)
    {
        const char *k = json_string_value (json_object_get (p, "ratingKey"));
        if (k && strcmp (k, id) == 0)
            return p;
    }
    return NULL;
}

//  The playlist as Plex lists it: without the private "_items", with
//  leafCount and duration.
static json_t *
s_playlist_view (json_t *p)
{
    json_t *v = json_deep_copy (p);
    json_t *items = json_object_get (p, "_items");
    json_int_t dur = 0;
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) dur +=
        json_integer_value (json_object_get (json_object_get (it, "track"), "duration"));
    json_object_del (v, "_items");
    json_object_set_new (v, "leafCount", json_integer ((json_int_t) json_array_size (items)));
    json_object_set_new (v, "duration", json_integer (dur));
    return v;
}

//  Parse uri=server://<mid>/com.plexapp.plugins.library/library/metadata/a,b
//  into an array of tracks (new reference), or NULL with a reason.
static json_t *
s_uri_tracks (sp_fake_plex_t *self, const char *uri, const char **why)
{
    static const char tail[] = "/com.plexapp.plugins.library/library/metadata/";
    if (!uri || strncmp (uri, "server://", 9) != 0) {
        *why = "uri must start with server://";
        return NULL;
    }
    const char *mid = uri + 9;
    size_t ml = strlen (PLEX_MACHINE_ID);
    if (strncmp (mid, PLEX_MACHINE_ID, ml) != 0 || strncmp (mid + ml, tail, sizeof tail - 1) != 0) {
        *why = "uri names another server or is not a library/metadata uri";
        return NULL;
    }
    const char *p = mid + ml + sizeof tail - 1;
    json_t *out = json_array ();
    while (*p) {
        const char *e = strchr (p, ',');
        size_t len = e ? (size_t) (e - p) : strlen (p);
        char key[64];
        if (len == 0 || len >= sizeof key) {
            *why = "bad item id in uri";
            json_decref (out);
            return NULL;
        }
        memcpy (key, p, len);
        key[len] = '\0';
        json_t *t = s_track_by_key (self, key);
        if (!t) {
            *why = "uri names an item that does not exist";
            json_decref (out);
            return NULL;
        }
        json_array_append (out, t);
        p += len + (e ? 1 : 0);
    }
    return out;
}

static void
s_playlist_append (sp_fake_plex_t *self, json_t *pl, json_t *tracks)
{
    json_t *items = json_object_get (pl, "_items");
    size_t i;
    json_t *t;
    json_array_foreach (tracks, i, t) json_array_append_new (
        items, json_pack ("{s:O, s:I}", "track", t, "id", (json_int_t) self->next_playlist_item++));
    json_object_set_new (pl, "updatedAt", json_integer (sp_fake_wall_ms () / 1000));
}

static void
s_playlists (sp_fake_plex_t *self, const sp_fake_req_t *req, char **seg, int ns,
             sp_fake_resp_t *resp)
{
    bool get = strcmp (req->method, "GET") == 0;
    bool post = strcmp (req->method, "POST") == 0;
    bool put = strcmp (req->method, "PUT") == 0;
    bool del = strcmp (req->method, "DELETE") == 0;
    if (!get)
        self->playlist_writes++;
    if (ns == 1 && get) {
        json_t *md = json_array ();
        size_t i;
        json_t *p;
        const char *type = sp_fake_req_arg (req, "playlistType");
        json_array_foreach (self->playlists, i, p)
        {
            const char *pt = json_string_value (json_object_get (p, "playlistType"));
            if (!type || (pt && strcmp (pt, type) == 0))
                json_array_append_new (md, s_playlist_view (p));
        }
        s_reply (
            req, resp,
            json_pack ("{s:I, s:o}", "size", (json_int_t) json_array_size (md), "Metadata", md));
        return;
    }
    if (ns == 1 && post) {
        const char *type = sp_fake_req_arg (req, "type");
        const char *title = sp_fake_req_arg (req, "title");
        const char *smart = sp_fake_req_arg (req, "smart");
        const char *uri = sp_fake_req_arg (req, "uri");
        if (!type || strcmp (type, "audio") != 0 || !title || !*title || !smart ||
            strcmp (smart, "0") != 0) {
            sp_fake_resp_text (resp, 400, "type=audio, title and smart=0 are required",
                               "text/plain");
            return;
        }
        const char *why = NULL;
        json_t *tracks = uri && *uri ? s_uri_tracks (self, uri, &why) : json_array ();
        if (!tracks) {
            sp_fake_resp_text (resp, 400, why, "text/plain");
            return;
        }
        int64_t wall = sp_fake_wall_ms () / 1000;
        json_t *pl =
            json_pack ("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:[]}", "ratingKey", "", "key", "",
                       "type", "playlist", "title", title, "playlistType", "audio", "smart", 0,
                       "addedAt", (json_int_t) wall, "updatedAt", (json_int_t) wall, "_items");
        char id[32];
        snprintf (id, sizeof id, "%lld", (long long) self->next_playlist++);
        json_object_set_new (pl, "ratingKey", json_string (id));
        json_object_set_new (pl, "key", json_sprintf ("/playlists/%s/items", id));
        s_playlist_append (self, pl, tracks);
        json_decref (tracks);
        json_array_append_new (self->playlists, pl);
        sp_log_info ("event=plex_playlist_created id=%s title=%s", id, sp_log_q (title));
        s_reply (req, resp,
                 json_pack ("{s:i, s:[o]}", "size", 1, "Metadata", s_playlist_view (pl)));
        return;
    }
    json_t *pl = ns >= 2 ? s_playlist (self, seg[1]) : NULL;
    if (!pl) {
        sp_fake_resp_text (resp, 404, "Not Found", "text/html");
        return;
    }
    if (ns == 2 && get) {
        s_reply (req, resp,
                 json_pack ("{s:i, s:[o]}", "size", 1, "Metadata", s_playlist_view (pl)));
        return;
    }
    if (ns == 2 && del) {
        size_t i;
        json_t *p;
        json_array_foreach (self->playlists, i, p) if (p == pl)
        {
            json_array_remove (self->playlists, i);
            break;
        }
        sp_fake_resp_text (resp, 200, NULL, NULL);
        return;
    }
    if (ns < 3 || strcmp (seg[2], "items") != 0) {
        sp_fake_resp_text (resp, 404, "Not Found", "text/html");
        return;
    }
    json_t *items = json_object_get (pl, "_items");
    if (ns == 3 && get) {
        json_t *md = json_array ();
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it)
        {
            json_t *t = json_deep_copy (json_object_get (it, "track"));
            json_object_set (t, "playlistItemID", json_object_get (it, "id"));
            json_array_append_new (md, t);
        }
        json_t *mc = json_pack ("{s:I, s:I, s:s, s:o}", "size", (json_int_t) json_array_size (md),
                                "leafCount", (json_int_t) json_array_size (md), "title",
                                json_string_value (json_object_get (pl, "title")), "Metadata", md);
        s_reply (req, resp, mc);
        return;
    }
    if (ns == 3 && put) {
        const char *why = NULL;
        json_t *tracks = s_uri_tracks (self, sp_fake_req_arg (req, "uri"), &why);
        if (!tracks) {
            sp_fake_resp_text (resp, 400, why, "text/plain");
            return;
        }
        s_playlist_append (self, pl, tracks);
        json_decref (tracks);
        s_reply (req, resp,
                 json_pack ("{s:i, s:[o]}", "size", 1, "Metadata", s_playlist_view (pl)));
        return;
    }
    if (ns == 4 && del) {
        int64_t item;
        if (sp_fake_parse_i64 (seg[3], 1, INT64_MAX, &item) == 0) {
            size_t i;
            json_t *it;
            json_array_foreach (items, i, it)
            {
                if (json_integer_value (json_object_get (it, "id")) == item) {
                    json_array_remove (items, i);
                    s_reply (
                        req, resp,
                        json_pack ("{s:i, s:[o]}", "size", 1, "Metadata", s_playlist_view (pl)));
                    return;
                }
            }
        }
        sp_fake_resp_text (resp, 404, "Not Found", "text/html");
        return;
    }
    sp_fake_resp_text (resp, 405, "Method Not Allowed", "text/html");
}

bool
sp_fake_plex_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    sp_fake_plex_t *self = fake->plex;
    bool identity = strcmp (req->path, "/identity") == 0;
    bool playlists =
        strcmp (req->path, "/playlists") == 0 || strncmp (req->path, "/playlists/", 11) == 0;
    if (!identity && !playlists && strncmp (req->path, "/library/", 9) != 0)
        return false;
    if (!self->enabled) {
        sp_fake_resp_text (resp, 404, "Plex is not configured in this fixture", "text/plain");
        return true;
    }
    if (identity) {
        s_reply (req, resp,
                 json_pack ("{s:i, s:b, s:s, s:s}", "size", 0, "claimed", 1, "machineIdentifier",
                            PLEX_MACHINE_ID, "version", PLEX_VERSION));
        return true;
    }
    const char *token = sp_fake_req_header (req, "X-Plex-Token");
    if (!token)
        token = sp_fake_req_arg (req, "X-Plex-Token");
    if (!token || strcmp (token, self->token) != 0) {
        sp_fake_resp_text (resp, 401, PLEX_UNAUTHORIZED, "text/html");
        return true;
    }
    s_tick (self);
    char copy[1024];
    char *seg[8];
    int ns = sp_fake_split_path (req->path, copy, sizeof copy, seg, 8);
    if (playlists) {
        if (ns < 1 || ns > 4)
            sp_fake_resp_text (resp, 404, "Not Found", "text/html");
        else
            s_playlists (self, req, seg, ns, resp);
        return true;
    }
    bool get = strcmp (req->method, "GET") == 0;
    if (ns == 2 && strcmp (seg[1], "sections") == 0 && get) {
        s_reply (req, resp,
                 json_pack ("{s:I, s:b, s:s, s:O}", "size",
                            (json_int_t) json_array_size (self->sections), "allowSync", 0, "title1",
                            "Plex Library", "Directory", self->sections));
        return true;
    }
    if (ns == 4 && strcmp (seg[1], "sections") == 0 && !s_section (self, seg[2])) {
        sp_fake_resp_text (resp, 404, "Not Found", "text/html");
        return true;
    }
    if (ns == 4 && strcmp (seg[1], "sections") == 0 && strcmp (seg[3], "all") == 0 && get) {
        s_all (self, req, seg[2], resp);
        return true;
    }
    if (ns == 4 && strcmp (seg[1], "sections") == 0 && strcmp (seg[3], "refresh") == 0) {
        if (get || strcmp (req->method, "POST") == 0)
            s_refresh (self, req, seg[2], resp);
        else if (strcmp (req->method, "DELETE") == 0)
            sp_fake_resp_text (resp, 200, NULL, NULL);
        else
            sp_fake_resp_text (resp, 405, "Method Not Allowed", "text/html");
        return true;
    }
    sp_fake_resp_text (resp, 404, "Not Found", "text/html");
    return true;
}

void
sp_fake_plex_stats (sp_fake_t *fake, json_t *stats)
{
    json_object_set_new (stats, "plex",
                         json_pack ("{s:O, s:I, s:I, s:I}", "refresh", fake->plex->refreshes,
                                    "playlists",
                                    (json_int_t) json_array_size (fake->plex->playlists),
                                    "playlist_writes", (json_int_t) fake->plex->playlist_writes,
                                    "pending", (json_int_t) json_array_size (fake->plex->pending)));
}
