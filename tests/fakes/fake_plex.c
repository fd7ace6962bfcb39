/*  fake_plex.c: the fake Plex Media Server: GET /identity,
    GET /library/sections, GET /library/sections/{key}/all?type=10 (paged by
    X-Plex-Container-Start/-Size as headers or query), GET|POST
    /library/sections/{key}/refresh (counted for the tests).

    JSON only with "Accept: application/json"; XML otherwise (the JSON tree
    rendered the way Plex does: scalars as attributes, arrays as children).
    Every path but /identity needs the X-Plex-Token (header or query).
*/
#include "fake.h"
#include "soulpipe/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PLEX_MACHINE_ID "fa4e0000soulpipe0fake0plex00000000000001"
#define PLEX_VERSION    "1.41.3.9314-fake"
#define PLEX_UNAUTHORIZED                                                                          \
    "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"

struct sp_fake_plex_t {
    bool enabled;       //  DIR/plex/token exists
    char *token;        //  the X-Plex-Token
    json_t *sections;   //  Directory[] entries
    json_t *tracks;     //  track Metadata[]
    json_t *refreshes;  //  section key -> refresh count
};

sp_fake_plex_t *
sp_fake_plex_new (const char *fixtures_dir, char *err, size_t err_size)
{
    sp_fake_plex_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->refreshes = json_object ();
    char path[4096];
    snprintf (path, sizeof path, "%s/plex/token", fixtures_dir);
    char *token = sp_fake_read_file (path, NULL);
    if (!token) {
        self->sections = json_array ();
        self->tracks = json_array ();
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

bool
sp_fake_plex_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    sp_fake_plex_t *self = fake->plex;
    bool identity = strcmp (req->path, "/identity") == 0;
    if (!identity && strncmp (req->path, "/library/", 9) != 0)
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
    char copy[1024];
    char *seg[8];
    int ns = sp_fake_split_path (req->path, copy, sizeof copy, seg, 8);
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
        if (get || strcmp (req->method, "POST") == 0) {
            json_t *c = json_object_get (self->refreshes, seg[2]);
            json_object_set_new (self->refreshes, seg[2],
                                 json_integer (c ? json_integer_value (c) + 1 : 1));
            sp_log_info ("event=plex_refresh section=%s", sp_log_q (seg[2]));
            sp_fake_resp_text (resp, 200, NULL, NULL);
        } else if (strcmp (req->method, "DELETE") == 0)
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
    json_object_set_new (stats, "plex", json_pack ("{s:O}", "refresh", fake->plex->refreshes));
}
