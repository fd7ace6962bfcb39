/*  fake_jellyfin.c: the fake Jellyfin server (see fake_jellyfin.h) in
    Jellyfin 10.9's JSON shapes (PascalCase BaseItemDto, TaskInfo, the
    QueryResult {Items, TotalRecordCount, StartIndex}).

    Fixture DIR/jellyfin/server.json (documented in README.md):
      api_key     required; the key (Authorization: MediaBrowser ...
                  Token="..." or X-Emby-Authorization, X-Emby-Token, or
                  ?api_key=); anything else answers 401
      items       "plex" (default): the library of DIR/plex/tracks.json
                  converted (title -> Name, grandparentTitle ->
                  AlbumArtist, originalTitle or grandparentTitle ->
                  Artists[0], parentTitle -> Album, duration ms ->
                  RunTimeTicks, Media[0].Part[0].file -> Path), or an
                  array of BaseItemDto objects (Id made up when absent)
      generate    N more tracks made up ("Generated Song 00001" by
                  "Generated Artist 001"...), for the big library tests
      pending     BaseItemDto[] that the next finished scan adds
      scan_ms     how long POST /Library/Refresh keeps the RefreshLibrary
                  task Running (default 0: done at once)
      fail_5xx    the first N authenticated requests answer 503
      max_limit   largest page /Items hands out whatever Limit asks
      users       [{Name, Id, Policy: {IsAdministrator}}] (default: one
                  administrator "admin")
*/
#include "fake_jellyfin.h"

#include "soulpipe/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JF_SERVER_ID "f4ce0000000000000000000000001e11"
#define JF_ADMIN_ID  "a0a00000000000000000000000000001"
#define JF_VERSION   "10.9.11"

typedef struct {
    bool enabled;         //  server.json exists
    char *api_key;        //  the accepted key
    json_t *items;        //  Audio BaseItemDto[] in DateCreated order
    json_t *pending;      //  added by the next finished scan
    json_t *users;        //  UserDto[]
    json_t *playlists;    //  [{Id, Name, UserId, "_entries": [{Id, PlaylistItemId}]}]
    int64_t scan_ms;      //  scan duration
    int64_t scan_end;     //  monotonic ms when the running scan ends, 0 = idle
    int64_t scan_start;   //  wall ms it started
    char last_start[40];  //  LastExecutionResult, "" = never ran
    char last_end[40];
    unsigned fail_5xx;      //  requests still to fail
    unsigned max_limit;     //  page cap, 0 = none
    unsigned next_id;       //  made-up ids
    unsigned refreshes;     //  POST /Library/Refresh count
    unsigned unauthorized;  //  401s sent
    unsigned pages;         //  GET /Items of Audio answered
} s_jf_t;

static s_jf_t s_jf;

static void
s_new_id (char *buf, size_t size, unsigned tag)
{
    snprintf (buf, size, "%08x%024x", tag, ++s_jf.next_id);
}

static void
s_wall_iso (char *buf, size_t size)
{
    sp_fake_iso_time (sp_fake_wall_ms (), true, buf, size);
}

//  A BaseItemDto for an Audio item.
static json_t *
s_item (const char *name, const char *artist, const char *album_artist, const char *album,
        int64_t duration_ms, const char *path, const char *id)
{
    char iso[40], made[40];
    s_wall_iso (iso, sizeof iso);
    if (!id) {
        s_new_id (made, sizeof made, 0xa0d10000);
        id = made;
    }
    json_t *it = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:I}", "Name", name, "Id", id,
                            "ServerId", JF_SERVER_ID, "Type", "Audio", "MediaType", "Audio",
                            "DateCreated", iso, "IsFolder", 0, "LocationType", "FileSystem",
                            "RunTimeTicks", (json_int_t) duration_ms * 10000);
    if (path)
        json_object_set_new (it, "Path", json_string (path));
    if (album)
        json_object_set_new (it, "Album", json_string (album));
    if (album_artist)
        json_object_set_new (it, "AlbumArtist", json_string (album_artist));
    json_t *arts = json_array ();
    if (artist)
        json_array_append_new (arts, json_string (artist));
    else if (album_artist)
        json_array_append_new (arts, json_string (album_artist));
    json_object_set_new (it, "Artists", arts);
    return it;
}

//  Fill defaults of a fixture BaseItemDto.
static void
s_fix_item (json_t *it)
{
    char id[40], iso[40];
    if (!json_is_string (json_object_get (it, "Id"))) {
        s_new_id (id, sizeof id, 0xa0d10000);
        json_object_set_new (it, "Id", json_string (id));
    }
    if (!json_object_get (it, "Type"))
        json_object_set_new (it, "Type", json_string ("Audio"));
    if (!json_object_get (it, "DateCreated")) {
        s_wall_iso (iso, sizeof iso);
        json_object_set_new (it, "DateCreated", json_string (iso));
    }
    if (!json_object_get (it, "ServerId"))
        json_object_set_new (it, "ServerId", json_string (JF_SERVER_ID));
}

static int
s_from_plex (const char *fixtures_dir, char *err, size_t err_size)
{
    char path[4096];
    bool missing;
    snprintf (path, sizeof path, "%s/plex/tracks.json", fixtures_dir);
    json_t *t = sp_fake_load_json (path, &missing, err, err_size);
    if (!t)
        return missing ? 0 : -1;
    json_t *arr = json_is_object (t)
                      ? json_object_get (json_object_get (t, "MediaContainer"), "Metadata")
                      : t;
    size_t i;
    json_t *d;
    json_array_foreach (arr, i, d)
    {
        const char *title = json_string_value (json_object_get (d, "title"));
        if (!title)
            continue;
        json_t *media = json_array_get (json_object_get (d, "Media"), 0);
        const char *file = json_string_value (
            json_object_get (json_array_get (json_object_get (media, "Part"), 0), "file"));
        json_t *dur = json_object_get (d, "duration");
        json_array_append_new (
            s_jf.items, s_item (title, json_string_value (json_object_get (d, "originalTitle")),
                                json_string_value (json_object_get (d, "grandparentTitle")),
                                json_string_value (json_object_get (d, "parentTitle")),
                                json_is_integer (dur) ? json_integer_value (dur) : 0, file, NULL));
    }
    json_decref (t);
    return 0;
}

int
sp_fake_jellyfin_init (const char *fixtures_dir, char *err, size_t err_size)
{
    memset (&s_jf, 0, sizeof s_jf);
    s_jf.items = json_array ();
    s_jf.pending = json_array ();
    s_jf.playlists = json_array ();
    char path[4096];
    bool missing;
    snprintf (path, sizeof path, "%s/jellyfin/server.json", fixtures_dir);
    json_t *cfg = sp_fake_load_json (path, &missing, err, err_size);
    if (!cfg)
        return missing ? 0 : -1;
    int rc = -1;
    const char *key = json_string_value (json_object_get (cfg, "api_key"));
    if (!json_is_object (cfg) || !key || !*key) {
        snprintf (err, err_size, "%s: want an object with a non-empty \"api_key\"", path);
        goto done;
    }
    s_jf.api_key = strdup (key);
    json_t *items = json_object_get (cfg, "items");
    if (!items || (json_is_string (items) && strcmp (json_string_value (items), "plex") == 0)) {
        if (s_from_plex (fixtures_dir, err, err_size) != 0)
            goto done;
    } else if (json_is_array (items)) {
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it) if (json_is_object (it))
        {
            json_t *c = json_deep_copy (it);
            s_fix_item (c);
            json_array_append_new (s_jf.items, c);
        }
    } else {
        snprintf (err, err_size, "%s: \"items\" must be \"plex\" or an array", path);
        goto done;
    }
    json_int_t gen = json_integer_value (json_object_get (cfg, "generate"));
    for (json_int_t i = 1; i <= gen && i <= 1000000; i++) {
        char name[64], artist[64], album[64], file[160];
        snprintf (name, sizeof name, "Generated Song %05lld", (long long) i);
        snprintf (artist, sizeof artist, "Generated Artist %03lld", (long long) (i % 997));
        snprintf (album, sizeof album, "Generated Album %04lld", (long long) (i / 12));
        snprintf (file, sizeof file, "/music/Generated/%03lld/%05lld.flac", (long long) (i % 997),
                  (long long) i);
        json_array_append_new (s_jf.items,
                               s_item (name, artist, artist, album, 180000 + i, file, NULL));
    }
    json_t *pend = json_object_get (cfg, "pending");
    size_t i;
    json_t *it;
    json_array_foreach (pend, i, it) if (json_is_object (it))
    {
        json_t *c = json_deep_copy (it);
        s_fix_item (c);
        json_array_append_new (s_jf.pending, c);
    }
    json_int_t v = json_integer_value (json_object_get (cfg, "scan_ms"));
    s_jf.scan_ms = v > 0 ? v : 0;
    v = json_integer_value (json_object_get (cfg, "fail_5xx"));
    s_jf.fail_5xx = v > 0 ? (unsigned) v : 0;
    v = json_integer_value (json_object_get (cfg, "max_limit"));
    s_jf.max_limit = v > 0 ? (unsigned) v : 0;
    json_t *users = json_object_get (cfg, "users");
    s_jf.users = json_is_array (users)
                     ? json_deep_copy (users)
                     : json_pack ("[{s:s, s:s, s:s, s:b, s:{s:b, s:b}}]", "Name", "admin", "Id",
                                  JF_ADMIN_ID, "ServerId", JF_SERVER_ID, "HasPassword", 1, "Policy",
                                  "IsAdministrator", 1, "IsDisabled", 0);
    s_jf.enabled = true;
    rc = 0;
done:
    json_decref (cfg);
    return rc;
}

void
sp_fake_jellyfin_fini (void)
{
    free (s_jf.api_key);
    json_decref (s_jf.items);
    json_decref (s_jf.pending);
    json_decref (s_jf.users);
    json_decref (s_jf.playlists);
    memset (&s_jf, 0, sizeof s_jf);
}

// ------------------------------------------------------------ helpers

//  The Token="..." of a MediaBrowser authorization header, into buf.
static bool
s_mediabrowser_token (const char *h, char *buf, size_t size)
{
    if (!h || strncasecmp (h, "MediaBrowser ", 13) != 0)
        return false;
    const char *t = strstr (h, "Token=\"");
    if (!t)
        return false;
    t += 7;
    const char *e = strchr (t, '"');
    if (!e || (size_t) (e - t) >= size)
        return false;
    memcpy (buf, t, (size_t) (e - t));
    buf[e - t] = '\0';
    return true;
}

static bool
s_authorized (const sp_fake_req_t *req)
{
    char tok[300];
    if (s_mediabrowser_token (sp_fake_req_header (req, "Authorization"), tok, sizeof tok) ||
        s_mediabrowser_token (sp_fake_req_header (req, "X-Emby-Authorization"), tok, sizeof tok))
        return strcmp (tok, s_jf.api_key) == 0;
    const char *k = sp_fake_req_header (req, "X-Emby-Token");
    if (!k)
        k = sp_fake_req_arg (req, "api_key");
    if (!k)
        k = sp_fake_req_arg (req, "ApiKey");
    return k && strcmp (k, s_jf.api_key) == 0;
}

//  A query argument in either spelling Jellyfin accepts (StartIndex, startIndex).
static const char *
s_arg (const sp_fake_req_t *req, const char *name)
{
    const char *v = sp_fake_req_arg (req, name);
    if (v)
        return v;
    char alt[64];
    snprintf (alt, sizeof alt, "%s", name);
    alt[0] = (char) (alt[0] >= 'a' && alt[0] <= 'z' ? alt[0] - 32 : alt[0] + 32);
    return sp_fake_req_arg (req, alt);
}

static json_t *
s_find (json_t *arr, const char *id)
{
    size_t i;
    json_t *it;
    json_array_foreach (arr, i, it)
    {
        const char *k = json_string_value (json_object_get (it, "Id"));
        if (k && id && strcmp (k, id) == 0)
            return it;
    }
    return NULL;
}

//  Finish a scan whose time is up.
static void
s_tick (void)
{
    if (!s_jf.scan_end || sp_fake_now_ms () < s_jf.scan_end)
        return;
    s_jf.scan_end = 0;
    size_t i;
    json_t *it;
    char iso[40];
    s_wall_iso (iso, sizeof iso);
    json_array_foreach (s_jf.pending, i, it)
    {
        json_object_set_new (it, "DateCreated", json_string (iso));
        json_array_append (s_jf.items, it);
        sp_log_info ("event=jellyfin_scanned_in path=%s",
                     sp_log_q (json_string_value (json_object_get (it, "Path"))));
    }
    json_array_clear (s_jf.pending);
    sp_fake_iso_time (s_jf.scan_start, true, s_jf.last_start, sizeof s_jf.last_start);
    s_wall_iso (s_jf.last_end, sizeof s_jf.last_end);
}

static json_t *
s_tasks (void)
{
    json_t *refresh = json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:[]}", "Name", "Scan Media Library", "State",
        s_jf.scan_end ? "Running" : "Idle", "Id", "7738148ffcd07979c7ceb148e06b3aed", "Description",
        "Scans your media library for new files and refreshes metadata.", "Category", "Library",
        "IsHidden", 0, "Key", "RefreshLibrary", "Triggers");
    if (s_jf.scan_end) {
        int64_t left = s_jf.scan_end - sp_fake_now_ms ();
        double pct =
            s_jf.scan_ms ? 100.0 * (double) (s_jf.scan_ms - left) / (double) s_jf.scan_ms : 0;
        json_object_set_new (refresh, "CurrentProgressPercentage", json_real (pct < 0 ? 0 : pct));
    }
    if (s_jf.last_end[0])
        json_object_set_new (refresh, "LastExecutionResult",
                             json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s}", "StartTimeUtc",
                                        s_jf.last_start, "EndTimeUtc", s_jf.last_end, "Status",
                                        "Completed", "Name", "Scan Media Library", "Key",
                                        "RefreshLibrary", "Id",
                                        "7738148ffcd07979c7ceb148e06b3aed"));
    json_t *other =
        json_pack ("{s:s, s:s, s:s, s:s, s:b, s:s, s:[]}", "Name", "Clean Cache Directory", "State",
                   "Idle", "Id", "1b2d0000000000000000000000000c1e", "Category", "Maintenance",
                   "IsHidden", 0, "Key", "DeleteCacheFiles", "Triggers");
    return json_pack ("[o, o]", other, refresh);
}

//  Comma list of ids into an array of strings.
static json_t *
s_split_ids (const char *list)
{
    json_t *out = json_array ();
    const char *p = list ? list : "";
    while (*p) {
        const char *e = strchr (p, ',');
        size_t len = e ? (size_t) (e - p) : strlen (p);
        if (len)
            json_array_append_new (out, json_stringn (p, len));
        p += len + (e ? 1 : 0);
    }
    return out;
}

// ------------------------------------------------------------ handlers

static void
s_items (const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    const char *types = s_arg (req, "IncludeItemTypes");
    int64_t start = 0, limit = -1;
    const char *v = s_arg (req, "StartIndex");
    if (v && sp_fake_parse_i64 (v, 0, 1000000000, &start) != 0) {
        sp_fake_resp_text (resp, 400, "StartIndex must be a number", "text/plain");
        return;
    }
    v = s_arg (req, "Limit");
    if (v && sp_fake_parse_i64 (v, 0, 1000000000, &limit) != 0) {
        sp_fake_resp_text (resp, 400, "Limit must be a number", "text/plain");
        return;
    }
    if (s_jf.max_limit && (limit < 0 || limit > (int64_t) s_jf.max_limit))
        limit = s_jf.max_limit;
    json_t *source;
    if (types && strcasecmp (types, "Playlist") == 0) {
        const char *uid = s_arg (req, "userId");
        source = json_array ();
        size_t i;
        json_t *p;
        json_array_foreach (s_jf.playlists, i, p)
        {
            const char *owner = json_string_value (json_object_get (p, "UserId"));
            if (uid && owner && strcasecmp (uid, owner) != 0)
                continue;
            json_array_append_new (
                source, json_pack ("{s:O, s:O, s:s, s:s, s:s, s:b, s:I}", "Name",
                                   json_object_get (p, "Name"), "Id", json_object_get (p, "Id"),
                                   "ServerId", JF_SERVER_ID, "Type", "Playlist", "MediaType",
                                   "Audio", "IsFolder", 1, "ChildCount",
                                   (json_int_t) json_array_size (json_object_get (p, "_entries"))));
        }
    } else if (!types || strcasecmp (types, "Audio") == 0) {
        s_jf.pages++;
        source = json_incref (s_jf.items);
    } else
        source = json_array ();
    const char *order = s_arg (req, "SortOrder");
    bool desc = order && strcasecmp (order, "Descending") == 0;
    size_t total = json_array_size (source);
    json_t *page = json_array ();
    for (size_t k = (size_t) start; k < total && (limit < 0 || k < (size_t) (start + limit)); k++)
        json_array_append (page, json_array_get (source, desc ? total - 1 - k : k));
    json_decref (source);
    sp_fake_resp_json (resp, 200,
                       json_pack ("{s:o, s:I, s:I}", "Items", page, "TotalRecordCount",
                                  (json_int_t) total, "StartIndex", (json_int_t) start));
}

static void
s_playlist_create (const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    json_error_t jerr;
    json_t *body = json_loads (req->body, 0, &jerr);
    const char *name = json_string_value (json_object_get (body, "Name"));
    if (!name) {
        sp_fake_resp_text (resp, 400, "Name is required", "text/plain");
        json_decref (body);
        return;
    }
    const char *uid = json_string_value (json_object_get (body, "UserId"));
    json_t *entries = json_array ();
    size_t i;
    json_t *id;
    json_array_foreach (json_object_get (body, "Ids"), i, id)
    {
        if (!s_find (s_jf.items, json_string_value (id))) {
            sp_fake_resp_text (resp, 400, "an item in Ids does not exist", "text/plain");
            json_decref (entries);
            json_decref (body);
            return;
        }
        char eid[40];
        s_new_id (eid, sizeof eid, 0xe0e00000);
        json_array_append_new (entries, json_pack ("{s:O, s:s}", "Id", id, "PlaylistItemId", eid));
    }
    char pid[40];
    s_new_id (pid, sizeof pid, 0x91a10000);
    json_array_append_new (s_jf.playlists,
                           json_pack ("{s:s, s:s, s:s, s:o}", "Id", pid, "Name", name, "UserId",
                                      uid ? uid : JF_ADMIN_ID, "_entries", entries));
    sp_log_info ("event=jellyfin_playlist_created id=%s name=%s", pid, sp_log_q (name));
    json_decref (body);
    sp_fake_resp_json (resp, 200, json_pack ("{s:s}", "Id", pid));
}

static void
s_playlist_items (json_t *pl, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    json_t *entries = json_object_get (pl, "_entries");
    if (strcmp (req->method, "GET") == 0) {
        json_t *items = json_array ();
        size_t i;
        json_t *e;
        json_array_foreach (entries, i, e)
        {
            json_t *it = s_find (s_jf.items, json_string_value (json_object_get (e, "Id")));
            if (!it)
                continue;
            json_t *c = json_deep_copy (it);
            json_object_set (c, "PlaylistItemId", json_object_get (e, "PlaylistItemId"));
            json_array_append_new (items, c);
        }
        json_int_t n = (json_int_t) json_array_size (items);
        sp_fake_resp_json (
            resp, 200,
            json_pack ("{s:o, s:I, s:i}", "Items", items, "TotalRecordCount", n, "StartIndex", 0));
        return;
    }
    if (strcmp (req->method, "POST") == 0) {
        json_t *ids = s_split_ids (s_arg (req, "ids"));
        size_t i;
        json_t *id;
        json_array_foreach (ids, i, id) if (!s_find (s_jf.items, json_string_value (id)))
        {
            sp_fake_resp_text (resp, 400, "an item in ids does not exist", "text/plain");
            json_decref (ids);
            return;
        }
        json_array_foreach (ids, i, id)
        {
            char eid[40];
            s_new_id (eid, sizeof eid, 0xe0e00000);
            json_array_append_new (entries,
                                   json_pack ("{s:O, s:s}", "Id", id, "PlaylistItemId", eid));
        }
        json_decref (ids);
        sp_fake_resp_text (resp, 204, NULL, NULL);
        return;
    }
    if (strcmp (req->method, "DELETE") == 0) {
        json_t *ids = s_split_ids (s_arg (req, "entryIds"));
        size_t i;
        json_t *id;
        json_array_foreach (ids, i, id)
        {
            for (size_t k = 0; k < json_array_size (entries); k++) {
                const char *e = json_string_value (
                    json_object_get (json_array_get (entries, k), "PlaylistItemId"));
                if (e && strcmp (e, json_string_value (id)) == 0) {
                    json_array_remove (entries, k);
                    break;
                }
            }
        }
        json_decref (ids);
        sp_fake_resp_text (resp, 204, NULL, NULL);
        return;
    }
    sp_fake_resp_text (resp, 405, "Method Not Allowed", "text/plain");
}

static bool
s_mine (const char *path)
{
    static const char *const prefixes[] = {"/Items",          "/Users",     "/Library/",
                                           "/ScheduledTasks", "/Playlists", "/System/"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t l = strlen (prefixes[i]);
        if (strncmp (path, prefixes[i], l) == 0 &&
            (path[l] == '\0' || path[l] == '/' || prefixes[i][l - 1] == '/'))
            return true;
    }
    return false;
}

bool
sp_fake_jellyfin_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    (void) fake;
    if (!s_mine (req->path))
        return false;
    if (!s_jf.enabled) {
        sp_fake_resp_text (resp, 404, "Jellyfin is not configured in this fixture", "text/plain");
        return true;
    }
    bool get = strcmp (req->method, "GET") == 0;
    bool post = strcmp (req->method, "POST") == 0;
    if (strcmp (req->path, "/System/Info/Public") == 0 && get) {
        sp_fake_resp_json (resp, 200,
                           json_pack ("{s:s, s:s, s:s, s:s, s:b}", "ServerName", "soulpipe-fake",
                                      "Version", JF_VERSION, "ProductName", "Jellyfin Server", "Id",
                                      JF_SERVER_ID, "StartupWizardCompleted", 1));
        return true;
    }
    if (!s_authorized (req)) {
        s_jf.unauthorized++;
        sp_fake_resp_text (resp, 401, NULL, NULL);
        return true;
    }
    if (s_jf.fail_5xx > 0) {
        s_jf.fail_5xx--;
        sp_fake_resp_text (resp, 503, "Service Unavailable", "text/plain");
        return true;
    }
    s_tick ();
    char copy[1024];
    char *seg[8];
    int ns = sp_fake_split_path (req->path, copy, sizeof copy, seg, 8);
    if (ns == 1 && strcmp (seg[0], "Items") == 0 && get) {
        s_items (req, resp);
        return true;
    }
    if (ns == 1 && strcmp (seg[0], "Users") == 0 && get) {
        sp_fake_resp_json (resp, 200, json_incref (s_jf.users));
        return true;
    }
    if (ns == 2 && strcmp (seg[0], "Library") == 0 && strcmp (seg[1], "Refresh") == 0 && post) {
        s_jf.refreshes++;
        if (!s_jf.scan_end) {
            s_jf.scan_start = sp_fake_wall_ms ();
            s_jf.scan_end = sp_fake_now_ms () + s_jf.scan_ms + 1;
        }
        if (s_jf.scan_ms == 0) {
            s_jf.scan_end = sp_fake_now_ms ();
            s_tick ();
        }
        sp_log_info ("event=jellyfin_refresh");
        sp_fake_resp_text (resp, 204, NULL, NULL);
        return true;
    }
    if (ns == 1 && strcmp (seg[0], "ScheduledTasks") == 0 && get) {
        sp_fake_resp_json (resp, 200, s_tasks ());
        return true;
    }
    if (ns == 1 && strcmp (seg[0], "Playlists") == 0 && post) {
        s_playlist_create (req, resp);
        return true;
    }
    if (ns == 3 && strcmp (seg[0], "Playlists") == 0 && strcmp (seg[2], "Items") == 0) {
        json_t *pl = s_find (s_jf.playlists, seg[1]);
        if (!pl)
            sp_fake_resp_text (resp, 404, "Playlist not found", "text/plain");
        else
            s_playlist_items (pl, req, resp);
        return true;
    }
    sp_fake_resp_text (resp, 404, "Not Found", "text/plain");
    return true;
}

void
sp_fake_jellyfin_stats (sp_fake_t *fake, json_t *stats)
{
    (void) fake;
    json_t *pls = json_array ();
    size_t i;
    json_t *p;
    json_array_foreach (s_jf.playlists, i, p)
    {
        json_t *ids = json_array ();
        size_t k;
        json_t *e;
        json_array_foreach (json_object_get (p, "_entries"), k, e)
            json_array_append (ids, json_object_get (e, "Id"));
        json_array_append_new (pls, json_pack ("{s:O, s:O, s:o}", "Id", json_object_get (p, "Id"),
                                               "Name", json_object_get (p, "Name"), "Ids", ids));
    }
    json_object_set_new (
        stats, "jellyfin",
        json_pack ("{s:I, s:I, s:I, s:I, s:I, s:o}", "refresh", (json_int_t) s_jf.refreshes,
                   "unauthorized", (json_int_t) s_jf.unauthorized, "item_pages",
                   (json_int_t) s_jf.pages, "items", (json_int_t) json_array_size (s_jf.items),
                   "pending", (json_int_t) json_array_size (s_jf.pending), "playlists", pls));
}
