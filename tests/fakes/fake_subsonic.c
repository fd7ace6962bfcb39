/*  fake_subsonic.c: a fake Subsonic API server in Navidrome's flavour,
    under /rest/<method> and /rest/<method>.view, parameters in the query
    string and/or an application/x-www-form-urlencoded POST body (as
    Navidrome merges them). Methods: ping, search3, getScanStatus,
    startScan, getPlaylists, getPlaylist, createPlaylist, updatePlaylist,
    deletePlaylist; anything else under /rest/ is 404 as on Navidrome.

    Answers are {"subsonic-response": {"status", "version", "type":
    "navidrome", "serverVersion", "openSubsonic": true, ...}} with HTTP 200
    also for errors (status "failed", error {code, message}), exactly the
    field names Navidrome uses. Authentication: u plus either t/s (md5 of
    password + salt) or p (plain or "enc:" hex); a wrong one is error 40 in
    a 200 answer. The songs come from DIR/subsonic/songs.json, the Plex
    fixture (DIR/plex/tracks.json, the same library the fake Plex serves)
    and/or generated ones; a scan adds the audio files found in music_dir.
    Fixture format: README.md, "Subsonic".
*/
#include "fake_subsonic.h"

#include "soulpipe/log.h"
#include "soulpipe/tags.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SUB_API_VERSION "1.16.1"
#define SUB_MAX_FAIL_AT 64  //  fail_at entries
#define SUB_MAX_DEPTH   32  //  music_dir levels walked by a scan
#define SUB_DEF_COUNT   20  //  search3 songCount default

typedef struct {
    bool enabled;                      //  DIR/subsonic/server.json exists
    char *user;                        //  the one user
    char *password;                    //  its password
    char *type;                        //  "type" of every answer ("navidrome")
    char *server_version;              //  "serverVersion"
    bool admin;                        //  the user may startScan
    bool ldap;                         //  token auth refused with error 41
    bool real_path;                    //  paths as on disk (else Navidrome's fake paths)
    int64_t max_song_count;            //  cap on search3 songCount (0 = none)
    int64_t scan_ms;                   //  how long a scan reports scanning=true
    char *music_dir;                   //  scanned by startScan (NULL = none)
    unsigned fail_status;              //  status of the failing answers
    int64_t fail_at[SUB_MAX_FAIL_AT];  //  /rest requests (1-based) that fail
    size_t n_fail_at;
    int64_t fail_from;      //  every /rest request from this one on fails (0 = never)
    json_t *songs;          //  Child[] in natural order
    json_t *by_id;          //  id -> Child (borrowed references)
    json_t *paths;          //  disk path -> id (music_dir files already added)
    json_t *playlists;      //  Playlist[] with "entry" ids (private "_ids")
    json_t *pending;        //  songs the next finished scan adds
    int64_t next_playlist;  //  id counter
    bool scanning;          //  a scan is running
    int64_t scan_end_ms;    //  when it ends (monotonic)
    int64_t last_scan_ms;   //  wall clock of the last finished scan
    //  stats
    int64_t requests;        //  /rest requests
    int64_t auth_failures;   //  error 40/41 answers
    int64_t token_requests;  //  requests with t/s
    json_t *salts;           //  distinct salts seen (object used as a set)
    int64_t plain_password;  //  requests with p=
    int64_t in_query;        //  requests that had t or p in the URL query
    int64_t scans;           //  startScan calls that started a scan
    int64_t failed_5xx;      //  answers made to fail by fail_at/fail_from
    json_t *methods;         //  method -> count
} s_sub_t;

static s_sub_t *s_sub;

// ------------------------------------------------------------ helpers

static void
s_md5_hex (const char *s, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest (s, strlen (s), md, &len, EVP_md5 (), NULL);
    for (unsigned i = 0; i < 16 && i < len; i++)
        snprintf (out + 2 * i, 3, "%02x", md[i]);
    out[32] = '\0';
}

//  A stable Navidrome-looking id (22 characters) from a seed.
static json_t *
s_id (const char *kind, const char *seed)
{
    char buf[1024], hex[33];
    snprintf (buf, sizeof buf, "%s:%s", kind, seed);
    s_md5_hex (buf, hex);
    hex[22] = '\0';
    return json_string (hex);
}

static void
s_param_add (json_t *params, const char *k, const char *v)
{
    json_t *a = json_object_get (params, k);
    if (!a) {
        a = json_array ();
        json_object_set_new (params, k, a);
    }
    json_array_append_new (a, json_string (v ? v : ""));
}

static enum MHD_Result
s_query_it (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void) kind;
    if (key)
        s_param_add (cls, key, value);
    return MHD_YES;
}

//  Every parameter: query string and form body, name -> [values].
static json_t *
s_params (const sp_fake_req_t *req)
{
    json_t *params = json_object ();
    MHD_get_connection_values (req->conn, MHD_GET_ARGUMENT_KIND, s_query_it, params);
    const char *p = req->body;
    while (p && *p) {
        const char *end = strchr (p, '&');
        size_t plen = end ? (size_t) (end - p) : strlen (p);
        const char *eq = memchr (p, '=', plen);
        size_t klen = eq ? (size_t) (eq - p) : plen;
        char *k = sp_fake_form_decode (p, klen);
        char *v = eq ? sp_fake_form_decode (eq + 1, plen - klen - 1) : strdup ("");
        if (k && v && *k)
            s_param_add (params, k, v);
        free (k);
        free (v);
        p = end ? end + 1 : NULL;
    }
    return params;
}

static const char *
s_p1 (json_t *params, const char *k)
{
    return json_string_value (json_array_get (json_object_get (params, k), 0));
}

static json_t *
s_envelope (const char *status)
{
    json_t *r =
        json_pack ("{s:s, s:s, s:s, s:s, s:b}", "status", status, "version", SUB_API_VERSION,
                   "type", s_sub->type, "serverVersion", s_sub->server_version, "openSubsonic", 1);
    return r;
}

//  Answer sr (taken) as f asks: JSON, or a minimal XML rendering.
static void
s_send (json_t *params, sp_fake_resp_t *resp, json_t *sr)
{
    const char *f = s_p1 (params, "f");
    if (f && strcmp (f, "json") == 0) {
        sp_fake_resp_json (resp, 200, json_pack ("{s:o}", "subsonic-response", sr));
        return;
    }
    //  XML: the envelope and the error only (soulpipe asks for JSON)
    sp_fake_buf_t b = {0};
    json_t *err = json_object_get (sr, "error");
    sp_fake_buf_printf (&b,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<subsonic-response "
                        "xmlns=\"http://subsonic.org/restapi\" status=\"%s\" version=\"%s\" "
                        "type=\"%s\" serverVersion=\"%s\" openSubsonic=\"true\">",
                        json_string_value (json_object_get (sr, "status")), SUB_API_VERSION,
                        s_sub->type, s_sub->server_version);
    if (err)
        sp_fake_buf_printf (&b, "<error code=\"%lld\"></error>",
                            (long long) json_integer_value (json_object_get (err, "code")));
    sp_fake_buf_puts (&b, "</subsonic-response>");
    json_decref (sr);
    resp->status = 200;
    resp->body = b.data;
    resp->body_len = b.len;
    resp->content_type = "application/xml";
}

static void
s_error (json_t *params, sp_fake_resp_t *resp, int code, const char *message)
{
    json_t *sr = s_envelope ("failed");
    json_object_set_new (sr, "error", json_pack ("{s:i, s:s}", "code", code, "message", message));
    s_send (params, resp, sr);
}

// ------------------------------------------------------------ songs

static const char *
s_js (json_t *o, const char *k)
{
    return json_string_value (json_object_get (o, k));
}

static const char *
s_suffix (const char *path)
{
    const char *slash = strrchr (path, '/');
    const char *dot = strrchr (path, '.');
    return dot && (!slash || dot > slash) ? dot + 1 : "mp3";
}

static const char *
s_content_type (const char *suffix)
{
    if (strcasecmp (suffix, "flac") == 0)
        return "audio/flac";
    if (strcasecmp (suffix, "ogg") == 0 || strcasecmp (suffix, "opus") == 0)
        return "audio/ogg";
    if (strcasecmp (suffix, "m4a") == 0 || strcasecmp (suffix, "mp4") == 0)
        return "audio/mp4";
    return "audio/mpeg";
}

//  Navidrome's fake path: "Album Artist/Album/[DD-]NN - Title.suffix".
static char *
s_fake_path (const char *album_artist, const char *album, int disc, int track, const char *title,
             const char *suffix)
{
    sp_fake_buf_t b = {0};
    const char *parts[2] = {album_artist, album};
    for (int i = 0; i < 2; i++) {
        for (const char *c = parts[i]; *c; c++)
            sp_fake_buf_append (&b, *c == '/' ? "_" : c, 1);
        sp_fake_buf_puts (&b, "/");
    }
    if (disc)
        sp_fake_buf_printf (&b, "%02d-", disc);
    if (track)
        sp_fake_buf_printf (&b, "%02d - ", track);
    for (const char *c = title; *c; c++)
        sp_fake_buf_append (&b, *c == '/' ? "_" : c, 1);
    sp_fake_buf_printf (&b, ".%s", suffix);
    return b.data;
}

/*  Add one song (a Child object in Navidrome's shape) from its parts; seed
    makes the id. disk_path is where the file "is" (NULL: none). Returns the
    song (borrowed) or NULL (no title, duplicate). */
static json_t *
s_song_add (const char *seed, const char *title, const char *artist, const char *album_artist,
            const char *album, int track, int disc, int64_t duration_s, int64_t size,
            const char *disk_path)
{
    if (!title || !*title)
        return NULL;
    artist = artist && *artist ? artist : "[Unknown Artist]";
    album_artist = album_artist && *album_artist ? album_artist : artist;
    album = album && *album ? album : "[Unknown Album]";
    const char *suffix = disk_path ? s_suffix (disk_path) : "mp3";
    json_t *id = s_id ("song", seed);
    json_t *album_id = s_id ("album", album);
    json_t *artist_id = s_id ("artist", artist);
    json_t *aa_id = s_id ("artist", album_artist);
    char *fp = s_fake_path (album_artist, album, disc, track, title, suffix);
    json_t *c = json_pack (
        "{s:O, s:O, s:b, s:s, s:s, s:s, s:i, s:i, s:I, s:s, s:s, s:I, s:s, s:O, s:O, s:s, "
        "s:[{s:O, s:s}], s:s, s:[{s:O, s:s}], s:s, s:s}",
        "id", id, "parent", album_id, "isDir", 0, "title", title, "album", album, "artist", artist,
        "track", track, "discNumber", disc, "duration", (json_int_t) duration_s, "suffix", suffix,
        "contentType", s_content_type (suffix), "size", (json_int_t) size, "path",
        s_sub->real_path && disk_path ? disk_path : fp, "albumId", album_id, "artistId", artist_id,
        "type", "music", "artists", "id", artist_id, "name", artist, "displayArtist", artist,
        "albumArtists", "id", aa_id, "name", album_artist, "displayAlbumArtist", album_artist,
        "mediaType", "song");
    free (fp);
    if (!track)
        json_object_del (c, "track");
    if (!disc)
        json_object_del (c, "discNumber");
    json_t *added = NULL;
    if (json_object_get (s_sub->by_id, json_string_value (id))) {
        json_decref (c);  //  a duplicate seed: keep the first
    } else {
        added = c;
        json_array_append (s_sub->songs, c);
        json_object_set (s_sub->by_id, json_string_value (id), c);
        if (disk_path)
            json_object_set (s_sub->paths, disk_path, id);
        json_decref (c);
    }
    json_decref (id);
    json_decref (album_id);
    json_decref (artist_id);
    json_decref (aa_id);
    return added;
}

//  The Plex fixture's tracks as songs (the same library the fake Plex has).
static int
s_load_plex (const char *fixtures_dir, char *err, size_t err_size)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/plex/tracks.json", fixtures_dir);
    bool missing;
    json_t *t = sp_fake_load_json (path, &missing, err, err_size);
    if (!t)
        return missing ? 0 : -1;
    if (json_is_object (t)) {
        json_t *mc = json_object_get (t, "MediaContainer");
        json_t *md = json_incref (json_object_get (mc ? mc : t, "Metadata"));
        json_decref (t);
        t = md;
    }
    size_t i;
    json_t *m;
    json_array_foreach (t, i, m)
    {
        json_t *rk = json_object_get (m, "ratingKey");
        char seed[64];
        if (json_is_integer (rk))
            snprintf (seed, sizeof seed, "plex:%lld", (long long) json_integer_value (rk));
        else
            snprintf (seed, sizeof seed, "plex:%s",
                      json_is_string (rk) ? json_string_value (rk) : "");
        if (!rk)
            snprintf (seed, sizeof seed, "plex:#%zu", i);
        json_t *part = json_array_get (
            json_object_get (json_array_get (json_object_get (m, "Media"), 0), "Part"), 0);
        const char *aa = s_js (m, "grandparentTitle");
        const char *artist = s_js (m, "originalTitle");
        json_t *d = json_object_get (m, "duration");
        json_t *sz = json_object_get (part, "size");
        s_song_add (seed, s_js (m, "title"), artist ? artist : aa, aa, s_js (m, "parentTitle"),
                    (int) json_integer_value (json_object_get (m, "index")),
                    (int) json_integer_value (json_object_get (m, "parentIndex")),
                    json_is_integer (d) ? json_integer_value (d) / 1000 : 0,
                    json_is_integer (sz) ? json_integer_value (sz) : 0, s_js (part, "file"));
    }
    json_decref (t);
    return 0;
}

//  songs.json: Child objects as a Subsonic server returns them.
static int
s_load_songs (const char *fixtures_dir, char *err, size_t err_size)
{
    char path[4096];
    snprintf (path, sizeof path, "%s/subsonic/songs.json", fixtures_dir);
    bool missing;
    json_t *t = sp_fake_load_json (path, &missing, err, err_size);
    if (!t)
        return missing ? 0 : -1;
    if (!json_is_array (t)) {
        snprintf (err, err_size, "%s: want an array of song (Child) objects", path);
        json_decref (t);
        return -1;
    }
    size_t i;
    json_t *c;
    json_array_foreach (t, i, c)
    {
        if (!json_is_object (c) || !s_js (c, "title")) {
            snprintf (err, err_size, "%s: song %zu has no title", path, i);
            json_decref (t);
            return -1;
        }
        if (!s_js (c, "id")) {
            char seed[32];
            snprintf (seed, sizeof seed, "songs.json:%zu", i);
            json_object_set_new (c, "id", s_id ("song", seed));
        }
        if (!json_object_get (c, "isDir"))
            json_object_set_new (c, "isDir", json_false ());
        if (!json_object_get (c, "type"))
            json_object_set_new (c, "type", json_string ("music"));
        json_array_append (s_sub->songs, c);
        json_object_set (s_sub->by_id, s_js (c, "id"), c);
    }
    json_decref (t);
    return 0;
}

//  n synthetic songs: artist k/50, album k/10, title k.
static void
s_generate (int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        char seed[32], title[64], artist[64], album[64];
        snprintf (seed, sizeof seed, "gen:%lld", (long long) k);
        snprintf (title, sizeof title, "Generated Song %lld", (long long) k);
        snprintf (artist, sizeof artist, "Generated Artist %lld", (long long) (k / 50));
        snprintf (album, sizeof album, "Generated Album %lld", (long long) (k / 10));
        s_song_add (seed, title, artist, artist, album, (int) (k % 10) + 1, 0, 120 + (k * 7) % 300,
                    4000000, NULL);
    }
}

// ------------------------------------------------------------ scans

static void
s_scan_dir (const char *dir, int depth)
{
    DIR *d = opendir (dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir (d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat (path, &st) != 0)
            continue;
        if (S_ISDIR (st.st_mode) && depth < SUB_MAX_DEPTH) {
            s_scan_dir (path, depth + 1);
            continue;
        }
        if (!S_ISREG (st.st_mode) || sp_tags_format (path) == SP_TAGS_FMT_NONE ||
            json_object_get (s_sub->paths, path))
            continue;
        sp_tags_info_t info;
        if (sp_tags_probe (path, &info, NULL, 0) != SP_TAGS_OK)
            continue;
        char *title = sp_tags_get1 (path, "TITLE");
        char *artist = sp_tags_get1 (path, "ARTIST");
        char *aa = sp_tags_get1 (path, "ALBUMARTIST");
        char *album = sp_tags_get1 (path, "ALBUM");
        char *track = sp_tags_get1 (path, "TRACKNUMBER");
        char stem[256];
        snprintf (stem, sizeof stem, "%s", de->d_name);
        char *dot = strrchr (stem, '.');
        if (dot)
            *dot = '\0';
        char seed[4200];
        snprintf (seed, sizeof seed, "file:%s", path);
        s_song_add (seed, title && *title ? title : stem, artist, aa, album,
                    track ? atoi (track) : 0, 0, info.length_s, (int64_t) st.st_size, path);
        free (title);
        free (artist);
        free (aa);
        free (album);
        free (track);
    }
    closedir (d);
}

//  Finish a scan whose time is up: the music_dir files appear now.
static void
s_scan_update (void)
{
    if (!s_sub->scanning || sp_fake_now_ms () < s_sub->scan_end_ms)
        return;
    if (s_sub->music_dir)
        s_scan_dir (s_sub->music_dir, 0);
    size_t i;
    json_t *pe;
    json_array_foreach (s_sub->pending, i, pe)
    {
        const char *path = s_js (pe, "path");
        char seed[4200];
        snprintf (seed, sizeof seed, "pending:%zu:%s", i, path ? path : "");
        json_t *c = s_song_add (seed, s_js (pe, "title"), s_js (pe, "artist"),
                                s_js (pe, "albumArtist"), s_js (pe, "album"),
                                (int) json_integer_value (json_object_get (pe, "track")), 0,
                                json_integer_value (json_object_get (pe, "duration")), 0, path);
        if (c && path)
            json_object_set_new (c, "path", json_string (path));  //  as given, always
    }
    json_array_clear (s_sub->pending);
    s_sub->scanning = false;
    s_sub->last_scan_ms = sp_fake_wall_ms ();
    sp_log_info ("event=subsonic_scan_done songs=%zu", json_array_size (s_sub->songs));
}

static json_t *
s_scan_status (void)
{
    char iso[48];
    sp_fake_iso_time (s_sub->last_scan_ms, true, iso, sizeof iso);
    return json_pack ("{s:b, s:I, s:I, s:s, s:s}", "scanning", s_sub->scanning, "count",
                      (json_int_t) json_array_size (s_sub->songs), "folderCount", (json_int_t) 1,
                      "lastScan", iso, "scanType", "quick");
}

// ------------------------------------------------------------ playlists

static json_t *
s_playlist (const char *id)
{
    size_t i;
    json_t *p;
    json_array_foreach (s_sub->playlists, i, p)
    {
        if (strcmp (s_js (p, "id"), id) == 0)
            return p;
    }
    return NULL;
}

//  The playlist as Navidrome lists it (with entries when with_entries).
static json_t *
s_playlist_view (json_t *p, bool with_entries)
{
    json_t *ids = json_object_get (p, "_ids");
    json_int_t dur = 0;
    json_t *entries = json_array ();
    size_t i;
    json_t *id;
    json_array_foreach (ids, i, id)
    {
        json_t *c = json_object_get (s_sub->by_id, json_string_value (id));
        dur += json_integer_value (json_object_get (c, "duration"));
        if (c)
            json_array_append (entries, c);
    }
    json_t *v = json_pack (
        "{s:O, s:O, s:I, s:I, s:b, s:s, s:O, s:O, s:b}", "id", json_object_get (p, "id"), "name",
        json_object_get (p, "name"), "songCount", (json_int_t) json_array_size (ids), "duration",
        dur, "public", 0, "owner", s_sub->user, "created", json_object_get (p, "created"),
        "changed", json_object_get (p, "changed"), "readonly", 0);
    if (with_entries && json_array_size (entries))
        json_object_set (v, "entry", entries);
    json_decref (entries);
    return v;
}

static void
s_touch (json_t *p)
{
    char iso[48];
    sp_fake_iso_time (sp_fake_wall_ms (), true, iso, sizeof iso);
    json_object_set_new (p, "changed", json_string (iso));
}

//  The song ids of param k, all known. Returns NULL (after answering 70).
static json_t *
s_song_ids (json_t *params, const char *k, sp_fake_resp_t *resp)
{
    json_t *out = json_array ();
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get (params, k), i, v)
    {
        if (!json_object_get (s_sub->by_id, json_string_value (v))) {
            json_decref (out);
            s_error (params, resp, 70, "data not found");
            return NULL;
        }
        json_array_append (out, v);
    }
    return out;
}

static void
s_get_playlist_answer (json_t *params, sp_fake_resp_t *resp, json_t *p)
{
    json_t *sr = s_envelope ("ok");
    json_object_set_new (sr, "playlist", s_playlist_view (p, true));
    s_send (params, resp, sr);
}

// ------------------------------------------------------------ methods

static void
s_search3 (json_t *params, sp_fake_resp_t *resp)
{
    const char *q = s_p1 (params, "query");
    int64_t count = SUB_DEF_COUNT, offset = 0;
    const char *cv = s_p1 (params, "songCount");
    const char *ov = s_p1 (params, "songOffset");
    if ((cv && sp_fake_parse_i64 (cv, 0, 1000000000, &count) != 0) ||
        (ov && sp_fake_parse_i64 (ov, 0, 1000000000, &offset) != 0)) {
        s_error (params, resp, 0, "invalid parameter");
        return;
    }
    if (s_sub->max_song_count > 0 && count > s_sub->max_song_count)
        count = s_sub->max_song_count;
    //  Navidrome: "" and `""` are "everything, natural order"
    bool all = !q || !*q || strcmp (q, "\"\"") == 0;
    json_t *page = json_array ();
    int64_t seen = 0;
    size_t i;
    json_t *c;
    json_array_foreach (s_sub->songs, i, c)
    {
        if (!all) {
            const char *t = s_js (c, "title"), *a = s_js (c, "artist"), *al = s_js (c, "album");
            if (!((t && strcasestr (t, q)) || (a && strcasestr (a, q)) ||
                  (al && strcasestr (al, q))))
                continue;
        }
        if (seen++ < offset)
            continue;
        if ((int64_t) json_array_size (page) >= count)
            break;
        json_array_append (page, c);
    }
    json_t *sr = s_envelope ("ok");
    json_t *res = json_object ();
    if (json_array_size (page))
        json_object_set (res, "song", page);
    json_decref (page);
    json_object_set_new (sr, "searchResult3", res);
    s_send (params, resp, sr);
}

static void
s_method (const char *m, json_t *params, sp_fake_resp_t *resp)
{
    if (strcmp (m, "ping") == 0) {
        s_send (params, resp, s_envelope ("ok"));
    } else if (strcmp (m, "search3") == 0) {
        s_search3 (params, resp);
    } else if (strcmp (m, "getScanStatus") == 0) {
        json_t *sr = s_envelope ("ok");
        json_object_set_new (sr, "scanStatus", s_scan_status ());
        s_send (params, resp, sr);
    } else if (strcmp (m, "startScan") == 0) {
        if (!s_sub->admin) {
            s_error (params, resp, 50, "User is not authorized for the given operation");
            return;
        }
        if (!s_sub->scanning) {
            s_sub->scanning = true;
            s_sub->scan_end_ms = sp_fake_now_ms () + s_sub->scan_ms;
            s_sub->scans++;
        }
        s_scan_update ();  //  a zero-length scan is over before the answer
        json_t *sr = s_envelope ("ok");
        json_object_set_new (sr, "scanStatus", s_scan_status ());
        s_send (params, resp, sr);
    } else if (strcmp (m, "getPlaylists") == 0) {
        json_t *list = json_array ();
        size_t i;
        json_t *p;
        json_array_foreach (s_sub->playlists, i, p)
        {
            json_array_append_new (list, s_playlist_view (p, false));
        }
        json_t *pls = json_object ();
        if (json_array_size (list))
            json_object_set (pls, "playlist", list);
        json_decref (list);
        json_t *sr = s_envelope ("ok");
        json_object_set_new (sr, "playlists", pls);
        s_send (params, resp, sr);
    } else if (strcmp (m, "getPlaylist") == 0) {
        const char *id = s_p1 (params, "id");
        json_t *p = id ? s_playlist (id) : NULL;
        if (!id)
            s_error (params, resp, 10, "required 'id' parameter is missing");
        else if (!p)
            s_error (params, resp, 70, "playlist not found");
        else
            s_get_playlist_answer (params, resp, p);
    } else if (strcmp (m, "createPlaylist") == 0) {
        const char *pid = s_p1 (params, "playlistId");
        const char *name = s_p1 (params, "name");
        if ((!pid || !*pid) && (!name || !*name)) {
            s_error (params, resp, 0, "required parameter name is missing");
            return;
        }
        json_t *p = NULL;
        if (pid && *pid && !(p = s_playlist (pid))) {
            s_error (params, resp, 70, "data not found");
            return;
        }
        json_t *ids = s_song_ids (params, "songId", resp);
        if (!ids)
            return;
        if (!p) {
            char idbuf[64], iso[48];
            snprintf (idbuf, sizeof idbuf, "pl%020lld", (long long) ++s_sub->next_playlist);
            sp_fake_iso_time (sp_fake_wall_ms (), true, iso, sizeof iso);
            p = json_pack ("{s:s, s:s, s:s, s:s, s:[]}", "id", idbuf, "name", name, "created", iso,
                           "changed", iso, "_ids");
            json_array_append_new (s_sub->playlists, p);
        }
        //  with playlistId the songs are replaced (Navidrome's behaviour)
        json_object_set_new (p, "_ids", ids);
        s_touch (p);
        s_get_playlist_answer (params, resp, p);
    } else if (strcmp (m, "updatePlaylist") == 0) {
        const char *pid = s_p1 (params, "playlistId");
        if (!pid) {
            s_error (params, resp, 10, "required 'playlistId' parameter is missing");
            return;
        }
        json_t *p = s_playlist (pid);
        if (!p) {
            s_error (params, resp, 70, "data not found");
            return;
        }
        json_t *add = s_song_ids (params, "songIdToAdd", resp);
        if (!add)
            return;
        json_t *old = json_object_get (p, "_ids");
        size_t n = json_array_size (old);
        char *drop = calloc (n ? n : 1, 1);
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get (params, "songIndexToRemove"), i, v)
        {
            int64_t idx;
            if (sp_fake_parse_i64 (json_string_value (v), 0, 1000000000, &idx) == 0 &&
                (size_t) idx < n)
                drop[idx] = 1;
        }
        json_t *ids = json_array ();
        json_array_foreach (old, i, v)
        {
            if (!drop[i])
                json_array_append (ids, v);
        }
        free (drop);
        json_array_extend (ids, add);
        json_decref (add);
        json_object_set_new (p, "_ids", ids);
        const char *name = s_p1 (params, "name");
        if (name)
            json_object_set_new (p, "name", json_string (name));
        s_touch (p);
        s_send (params, resp, s_envelope ("ok"));
    } else if (strcmp (m, "deletePlaylist") == 0) {
        const char *id = s_p1 (params, "id");
        size_t i;
        json_t *p;
        json_array_foreach (s_sub->playlists, i, p)
        {
            if (id && strcmp (s_js (p, "id"), id) == 0) {
                json_array_remove (s_sub->playlists, i);
                s_send (params, resp, s_envelope ("ok"));
                return;
            }
        }
        s_error (params, resp, 70, "data not found");
    } else
        sp_fake_resp_text (resp, 404, "404 page not found\n", "text/plain; charset=utf-8");
}

//  0 when the request authenticates, else answered with the error.
static int
s_auth (const sp_fake_req_t *req, json_t *params, sp_fake_resp_t *resp)
{
    const char *miss = !s_p1 (params, "u")   ? "u"
                       : !s_p1 (params, "v") ? "v"
                       : !s_p1 (params, "c") ? "c"
                                             : NULL;
    if (miss) {
        char msg[96];
        snprintf (msg, sizeof msg, "required '%s' parameter is missing", miss);
        s_error (params, resp, 10, msg);
        return -1;
    }
    if (sp_fake_req_arg (req, "t") || sp_fake_req_arg (req, "p"))
        s_sub->in_query++;
    const char *u = s_p1 (params, "u"), *t = s_p1 (params, "t"), *s = s_p1 (params, "s");
    const char *p = s_p1 (params, "p");
    bool ok = false;
    if (t) {
        s_sub->token_requests++;
        if (s)
            json_object_set_new (s_sub->salts, s, json_true ());
        if (s_sub->ldap) {
            s_sub->auth_failures++;
            s_error (params, resp, 41, "Token authentication not supported for LDAP users");
            return -1;
        }
        sp_fake_buf_t b = {0};
        sp_fake_buf_printf (&b, "%s%s", s_sub->password, s ? s : "");
        char hex[33];
        s_md5_hex (b.data, hex);
        free (b.data);
        ok = strcasecmp (hex, t) == 0;
    } else if (p) {
        s_sub->plain_password++;
        char dec[512] = "";
        if (strncmp (p, "enc:", 4) == 0) {
            size_t k = 0;
            for (const char *h = p + 4; h[0] && h[1] && k + 1 < sizeof dec; h += 2)
                dec[k++] = (char) (sp_fake_hexval (h[0]) * 16 + sp_fake_hexval (h[1]));
            dec[k] = '\0';
            p = dec;
        }
        ok = strcmp (p, s_sub->password) == 0;
    }
    if (!ok || strcmp (u, s_sub->user) != 0) {
        s_sub->auth_failures++;
        s_error (params, resp, 40, "Wrong username or password");
        return -1;
    }
    return 0;
}

bool
sp_fake_subsonic_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    (void) fake;
    if (strncmp (req->path, "/rest/", 6) != 0)
        return false;
    if (!s_sub || !s_sub->enabled) {
        sp_fake_resp_text (resp, 404, "Subsonic is not configured in this fixture", "text/plain");
        return true;
    }
    int64_t nth = ++s_sub->requests;
    bool fail = s_sub->fail_from > 0 && nth >= s_sub->fail_from;
    for (size_t i = 0; i < s_sub->n_fail_at; i++)
        if (s_sub->fail_at[i] == nth)
            fail = true;
    if (fail) {
        s_sub->failed_5xx++;
        sp_fake_resp_text (resp, s_sub->fail_status, "<html><body>Bad Gateway</body></html>",
                           "text/html");
        return true;
    }
    char method[96];
    snprintf (method, sizeof method, "%s", req->path + 6);
    char *dot = strstr (method, ".view");
    if (dot && dot[5] == '\0')
        *dot = '\0';
    json_t *c = json_object_get (s_sub->methods, method);
    json_object_set_new (s_sub->methods, method, json_integer (c ? json_integer_value (c) + 1 : 1));
    json_t *params = s_params (req);
    s_scan_update ();
    if (s_auth (req, params, resp) == 0)
        s_method (method, params, resp);
    json_decref (params);
    return true;
}

void
sp_fake_subsonic_stats (sp_fake_t *fake, json_t *stats)
{
    (void) fake;
    if (!s_sub)
        return;
    json_object_set_new (
        stats, "subsonic",
        json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:b}", "requests",
                   (json_int_t) s_sub->requests, "auth_failures", (json_int_t) s_sub->auth_failures,
                   "token_requests", (json_int_t) s_sub->token_requests, "distinct_salts",
                   (json_int_t) json_object_size (s_sub->salts), "plain_password",
                   (json_int_t) s_sub->plain_password, "secrets_in_query",
                   (json_int_t) s_sub->in_query, "scans", (json_int_t) s_sub->scans, "failed_5xx",
                   (json_int_t) s_sub->failed_5xx, "songs",
                   (json_int_t) json_array_size (s_sub->songs), "methods", s_sub->methods,
                   "scanning", s_sub->scanning));
}

// ------------------------------------------------------------ lifecycle

void
sp_fake_subsonic_fini (void)
{
    if (!s_sub)
        return;
    free (s_sub->user);
    free (s_sub->password);
    free (s_sub->type);
    free (s_sub->server_version);
    free (s_sub->music_dir);
    json_decref (s_sub->songs);
    json_decref (s_sub->by_id);
    json_decref (s_sub->paths);
    json_decref (s_sub->playlists);
    json_decref (s_sub->pending);
    json_decref (s_sub->salts);
    json_decref (s_sub->methods);
    free (s_sub);
    s_sub = NULL;
}

static char *
s_str_or (json_t *cfg, const char *k, const char *def)
{
    const char *v = json_string_value (json_object_get (cfg, k));
    return strdup (v ? v : def);
}

int
sp_fake_subsonic_init (const char *fixtures_dir, char *err, size_t err_size)
{
    sp_fake_subsonic_fini ();
    s_sub = calloc (1, sizeof *s_sub);
    if (!s_sub) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    s_sub->songs = json_array ();
    s_sub->by_id = json_object ();
    s_sub->paths = json_object ();
    s_sub->playlists = json_array ();
    s_sub->pending = json_array ();
    s_sub->salts = json_object ();
    s_sub->methods = json_object ();
    s_sub->type = strdup ("navidrome");
    s_sub->server_version = strdup ("0.58.0 (fake)");
    char path[4096];
    snprintf (path, sizeof path, "%s/subsonic/server.json", fixtures_dir);
    bool missing;
    json_t *cfg = sp_fake_load_json (path, &missing, err, err_size);
    if (!cfg)
        return missing ? 0 : (sp_fake_subsonic_fini (), -1);
    if (!json_is_object (cfg)) {
        snprintf (err, err_size, "%s: want an object", path);
        json_decref (cfg);
        sp_fake_subsonic_fini ();
        return -1;
    }
    s_sub->enabled = true;
    s_sub->user = s_str_or (cfg, "user", "admin");
    s_sub->password = s_str_or (cfg, "password", "");
    free (s_sub->type);
    free (s_sub->server_version);
    s_sub->type = s_str_or (cfg, "type", "navidrome");
    s_sub->server_version = s_str_or (cfg, "server_version", "0.58.0 (fake)");
    json_t *v = json_object_get (cfg, "admin");
    s_sub->admin = v ? json_is_true (v) : true;
    s_sub->ldap = json_is_true (json_object_get (cfg, "ldap"));
    s_sub->real_path = json_is_true (json_object_get (cfg, "report_real_path"));
    s_sub->max_song_count = json_integer_value (json_object_get (cfg, "max_song_count"));
    s_sub->scan_ms = json_integer_value (json_object_get (cfg, "scan_ms"));
    s_sub->fail_from = json_integer_value (json_object_get (cfg, "fail_from"));
    v = json_object_get (cfg, "fail_status");
    s_sub->fail_status = v ? (unsigned) json_integer_value (v) : 503;
    v = json_object_get (cfg, "fail_at");
    if (json_is_integer (v))
        s_sub->fail_at[s_sub->n_fail_at++] = json_integer_value (v);
    size_t i;
    json_t *e;
    json_array_foreach (v, i, e)
    {
        if (s_sub->n_fail_at < SUB_MAX_FAIL_AT)
            s_sub->fail_at[s_sub->n_fail_at++] = json_integer_value (e);
    }
    json_t *pend = json_object_get (cfg, "pending");
    if (json_is_array (pend))
        json_array_extend (s_sub->pending, pend);
    const char *md = json_string_value (json_object_get (cfg, "music_dir"));
    if (md && *md) {
        if (md[0] == '/')
            s_sub->music_dir = strdup (md);
        else {
            sp_fake_buf_t b = {0};
            sp_fake_buf_printf (&b, "%s/%s", fixtures_dir, md);
            s_sub->music_dir = b.data;
        }
    }
    //  the library: songs.json, the Plex fixture ("library": "plex", the
    //  default when there is no songs.json), generated songs
    const char *lib = json_string_value (json_object_get (cfg, "library"));
    int rc = 0;
    if (!lib || strcmp (lib, "songs") == 0)
        rc = s_load_songs (fixtures_dir, err, err_size);
    if (rc == 0 && (lib ? strcmp (lib, "plex") == 0 : json_array_size (s_sub->songs) == 0))
        rc = s_load_plex (fixtures_dir, err, err_size);
    if (rc == 0)
        s_generate (json_integer_value (json_object_get (cfg, "generate")));
    json_decref (cfg);
    if (rc != 0) {
        sp_fake_subsonic_fini ();
        return -1;
    }
    s_sub->last_scan_ms = sp_fake_wall_ms ();
    return 0;
}
