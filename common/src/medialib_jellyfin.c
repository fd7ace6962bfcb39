/*  medialib_jellyfin.c: the Jellyfin backend of medialib.h.

    Auth: the API key in "Authorization: MediaBrowser Client=..., Token=..."
    (Jellyfin 10.7+; the older X-Emby-Token header is accepted by the server
    too, the fake tests both). JSON both ways.

      load       GET /Items?IncludeItemTypes=Audio&Recursive=true&Fields=Path
                 &SortBy=DateCreated,SortName&StartIndex=&Limit= paged until
                 TotalRecordCount; Name, Artists[], AlbumArtist, Album,
                 RunTimeTicks (100 ns ticks), Path, Id
      rescan     POST /Library/Refresh (the whole library: Jellyfin has no
                 completion signal for a path-scoped scan), then
                 GET /ScheduledTasks polled: the task with Key
                 "RefreshLibrary" is done when its State is "Idle" and it
                 was seen "Running", or its LastExecutionResult.EndTimeUtc
                 changed from before the trigger, or S_START_GRACE_MS passed
      find_item  the Items listing newest first (SortBy=DateCreated,
                 SortOrder=Descending), matched on Path
      playlist   needs a user: JELLYFIN_USER_ID, else the first administrator
                 of GET /Users. Found by Name in GET /Items?IncludeItemTypes=
                 Playlist&Recursive=true&userId=; created with POST /Playlists
                 {Name, Ids, UserId, MediaType:"Audio"} -> {Id}; an existing
                 one is edited in place from GET /Playlists/{id}/Items: the
                 entries past the longest common prefix removed with DELETE
                 /Playlists/{id}/Items?entryIds=, the rest added with POST
                 /Playlists/{id}/Items?ids=&userId=
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

#define S_PAGE           2000          //  items per request
#define S_FIND_PAGE      200           //  find_item page (newest first)
#define S_CONNECT_MS     3000          //  default connect timeout
#define S_TOTAL_MS       60000         //  default per request
#define S_RETRIES        1             //  default extra attempts
#define S_MAX_RESPONSE   (256u << 20)  //  a page of 2000 items is a few MB
#define S_POLL_MS        500           //  rescan status poll
#define S_START_GRACE_MS 2000          //  a scan not seen starting by then was quicker than a poll
#define S_CHUNK          100           //  ids per add/remove request
#define S_TICKS_PER_MS   10000         //  RunTimeTicks are 100 ns
#define S_ITEMS_QUERY    "/Items?IncludeItemTypes=Audio&Recursive=true&Fields=Path"

typedef struct {
    sp_http_t *http;  //  one client, keep-alive
    char *url;        //  JELLYFIN_URL (for notes, redacted there)
    char *user_id;    //  JELLYFIN_USER_ID or the one found, NULL until needed
    int poll_ms;      //  rescan poll interval
} s_jf_t;

static const char *
s_jstr (json_t *o, const char *k)
{
    return json_string_value (json_object_get (o, k));
}

static int
s_note (s_jf_t *self, int rc, const sp_http_resp_t *resp, const char *what, char *note, size_t n)
{
    return sp_medialib_http_note ("Jellyfin", self->url, "JELLYFIN_URL", "API key",
                                  "JELLYFIN_API_KEY", rc, resp ? resp->status : 0, what, note, n);
}

//  Ids are GUIDs (hex, maybe with dashes); anything else is not put in a URL.
static bool
s_id_ok (const char *id)
{
    return id && *id && strlen (id) <= 64 && strspn (id, "0123456789abcdefABCDEF-") == strlen (id);
}

// ------------------------------------------------------------ life cycle

static void
s_destroy (void **state_p)
{
    s_jf_t *self = *state_p;
    if (self) {
        sp_http_destroy (&self->http);
        free (self->url);
        free (self->user_id);
        free (self);
    }
    *state_p = NULL;
}

static void *
s_create (const sp_medialib_opts_t *opts, char *note, size_t n)
{
    if (!opts->jellyfin_url || !*opts->jellyfin_url) {
        snprintf (note, n, "JELLYFIN_URL is not set");
        return NULL;
    }
    if (!opts->jellyfin_api_key || !*opts->jellyfin_api_key) {
        snprintf (note, n, "JELLYFIN_API_KEY is not set (Jellyfin: Dashboard, API Keys)");
        return NULL;
    }
    const char *key = opts->jellyfin_api_key;
    if (strpbrk (key, "\"\r\n") || strlen (key) > 256) {
        snprintf (note, n, "JELLYFIN_API_KEY has characters an API key cannot have");
        return NULL;
    }
    if (opts->jellyfin_user_id && *opts->jellyfin_user_id && !s_id_ok (opts->jellyfin_user_id)) {
        snprintf (note, n, "JELLYFIN_USER_ID is not a Jellyfin id (32 hex digits)");
        return NULL;
    }
    s_jf_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->url = strdup (opts->jellyfin_url);
    self->http = sp_http_new (opts->jellyfin_url);
    self->poll_ms = opts->poll_ms > 0 ? opts->poll_ms : S_POLL_MS;
    if (opts->jellyfin_user_id && *opts->jellyfin_user_id)
        self->user_id = strdup (opts->jellyfin_user_id);
    char auth[400];
    snprintf (auth, sizeof auth,
              "MediaBrowser Client=\"soulpipe\", Device=\"soulpipe\", "
              "DeviceId=\"soulpipe-analyzer\", Version=\"1\", Token=\"%s\"",
              key);
    if (!self->url || !self->http ||
        sp_http_set_header (self->http, "Authorization", auth) != SP_HTTP_OK) {
        snprintf (note, n, "JELLYFIN_URL is not a usable URL, or out of memory");
        void *p = self;
        s_destroy (&p);
        return NULL;
    }
    sp_http_set_timeouts (self->http,
                          opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : S_CONNECT_MS,
                          opts->request_timeout_ms > 0 ? opts->request_timeout_ms : S_TOTAL_MS);
    sp_http_set_retries (self->http, opts->retries > 0 ? opts->retries : S_RETRIES, 300, 2000);
    sp_http_set_max_response (self->http, S_MAX_RESPONSE);
    return self;
}

// ------------------------------------------------------------ load

//  One page of the Audio items. Returns OK with *resp (caller owns).
static int
s_page (s_jf_t *self, const char *order, size_t start, size_t limit, sp_http_resp_t **resp,
        const char *what, char *note, size_t n)
{
    char path[512];
    snprintf (path, sizeof path,
              S_ITEMS_QUERY "&EnableImages=false&EnableUserData=false&%s&StartIndex=%zu&Limit=%zu",
              order, start, limit);
    int rc = sp_http_get (self->http, path, resp);
    if (rc != SP_HTTP_OK)
        return s_note (self, rc, *resp, what, note, n);
    if (!json_is_array (json_object_get ((*resp)->json, "Items"))) {
        snprintf (note, n, "Jellyfin sent an unexpected answer for /Items (no Items array)");
        return SP_MEDIALIB_ERR;
    }
    return SP_MEDIALIB_OK;
}

#define S_MAX_ARTISTS 16

static int
s_load (void *state, sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
    s_jf_t *self = state;
    size_t start = 0, tracks = 0;
    for (;;) {
        sp_http_resp_t *resp = NULL;
        int rc = s_page (self, "SortBy=DateCreated,SortName&SortOrder=Ascending", start, S_PAGE,
                         &resp, "reading the tracks", note, n);
        if (rc != SP_MEDIALIB_OK) {
            sp_http_resp_destroy (&resp);
            return rc;
        }
        json_t *items = json_object_get (resp->json, "Items");
        size_t got = json_array_size (items), i;
        json_t *t;
        json_array_foreach (items, i, t)
        {
            const char *title = s_jstr (t, "Name");
            if (!title)
                continue;
            const char *artists[S_MAX_ARTISTS];
            size_t na = 0, j, len = 0;
            json_t *a;
            json_array_foreach (json_object_get (t, "Artists"), j, a)
            {
                if (json_is_string (a) && na < S_MAX_ARTISTS) {
                    artists[na++] = json_string_value (a);
                    len += strlen (json_string_value (a)) + 2;
                }
            }
            //  the artists joined, the way Plex's originalTitle reads
            char small[512], *joined = NULL;
            if (na > 1) {
                joined = len < sizeof small ? small : malloc (len);
                if (!joined) {
                    snprintf (note, n, "out of memory while reading the Jellyfin tracks");
                    sp_http_resp_destroy (&resp);
                    return SP_MEDIALIB_ERR_NOMEM;
                }
                size_t used = 0;
                for (j = 0; j < na; j++)
                    used += (size_t) snprintf (joined + used, len - used, "%s%s", j ? ", " : "",
                                               artists[j]);
            }
            json_t *ticks = json_object_get (t, "RunTimeTicks");
            json_int_t tk = json_is_integer (ticks) ? json_integer_value (ticks) : 0;
            sp_medialib_track_t track = {
                .title = title,
                .artist = na > 1    ? joined
                          : na == 1 ? artists[0]
                                    : NULL,
                .artists = artists,
                .n_artists = na,
                .album_artist = s_jstr (t, "AlbumArtist"),
                .album = s_jstr (t, "Album"),
                .duration_ms = tk > 0 ? (uint64_t) (tk / S_TICKS_PER_MS) : 0,
                .path = s_jstr (t, "Path"),
                .item_id = s_jstr (t, "Id"),
            };
            int stop = fn (&track, arg, note, n);
            if (joined && joined != small)
                free (joined);
            if (stop) {
                if (n && !note[0])
                    snprintf (note, n, "stopped by the caller");
                sp_http_resp_destroy (&resp);
                return SP_MEDIALIB_ERR;
            }
            tracks++;
        }
        json_t *tr = json_object_get (resp->json, "TotalRecordCount");
        bool has_total = json_is_integer (tr);
        size_t total = has_total ? (size_t) json_integer_value (tr) : 0;
        sp_http_resp_destroy (&resp);
        start += got;
        if (got == 0 || !has_total || start >= total)
            break;
    }
    sp_log_info ("event=jellyfin_loaded tracks=%zu", tracks);
    return SP_MEDIALIB_OK;
}

// ------------------------------------------------------------ rescan

//  The RefreshLibrary task of a /ScheduledTasks answer (borrowed) or NULL.
static json_t *
s_refresh_task (json_t *tasks)
{
    size_t i;
    json_t *t;
    json_array_foreach (tasks, i, t)
    {
        const char *key = s_jstr (t, "Key");
        if (key && strcmp (key, "RefreshLibrary") == 0)
            return t;
    }
    return NULL;
}

static int
s_task (s_jf_t *self, sp_http_resp_t **resp, json_t **task, const char *what, char *note, size_t n)
{
    int rc = sp_http_get (self->http, "/ScheduledTasks?isHidden=false", resp);
    if (rc != SP_HTTP_OK)
        return s_note (self, rc, *resp, what, note, n);
    *task = s_refresh_task ((*resp)->json);
    if (!*task) {
        snprintf (note, n, "Jellyfin has no RefreshLibrary scheduled task to wait on");
        return SP_MEDIALIB_ERR;
    }
    return SP_MEDIALIB_OK;
}

static const char *
s_task_end (json_t *task)
{
    return s_jstr (json_object_get (task, "LastExecutionResult"), "EndTimeUtc");
}

static int
s_rescan (void *state, const char *path, int timeout_ms, char *note, size_t n)
{
    (void) path;  //  Jellyfin scans the whole library (see the top of the file)
    s_jf_t *self = state;
    sp_http_resp_t *resp = NULL;
    json_t *task = NULL;
    char before[64] = "";
    int rc = s_task (self, &resp, &task, "reading the scan status", note, n);
    if (rc != SP_MEDIALIB_OK)
        goto done;
    if (s_task_end (task))
        snprintf (before, sizeof before, "%s", s_task_end (task));
    sp_http_resp_destroy (&resp);
    int64_t t0 = sp_clock_mono_ms ();
    sp_http_req_t req = {.allow_text = true};
    int hrc = sp_http_request (self->http, SP_HTTP_POST, "/Library/Refresh", &req, &resp);
    if (hrc != SP_HTTP_OK) {
        rc = s_note (self, hrc, resp, "asking for a library scan", note, n);
        goto done;
    }
    sp_http_resp_destroy (&resp);
    bool seen_running = false;
    for (;;) {
        sp_clock_sleep_ms (self->poll_ms);
        int64_t elapsed = sp_clock_mono_ms () - t0;
        rc = s_task (self, &resp, &task, "waiting for a library scan", note, n);
        if (rc != SP_MEDIALIB_OK)
            goto done;
        const char *st = s_jstr (task, "State");
        bool idle = st && strcmp (st, "Idle") == 0;
        const char *end = s_task_end (task);
        bool ended = end && strcmp (end, before) != 0;
        if (!idle)
            seen_running = true;
        else if (seen_running || ended || elapsed >= S_START_GRACE_MS)
            break;
        sp_http_resp_destroy (&resp);
        if (elapsed >= timeout_ms) {
            snprintf (note, n, "Jellyfin was still scanning after %d s", (timeout_ms + 999) / 1000);
            rc = SP_MEDIALIB_ERR_TIMEOUT;
            goto done;
        }
    }
    sp_log_info ("event=jellyfin_rescanned ms=%lld", (long long) (sp_clock_mono_ms () - t0));
    rc = SP_MEDIALIB_OK;
done:
    sp_http_resp_destroy (&resp);
    return rc;
}

// ------------------------------------------------------------ find_item

static int
s_find_item (void *state, const char *path, char **item_id, char *note, size_t n)
{
    s_jf_t *self = state;
    size_t start = 0;
    for (;;) {
        sp_http_resp_t *resp = NULL;
        int rc = s_page (self, "SortBy=DateCreated&SortOrder=Descending", start, S_FIND_PAGE, &resp,
                         "looking for a file in the library", note, n);
        if (rc != SP_MEDIALIB_OK) {
            sp_http_resp_destroy (&resp);
            return rc;
        }
        json_t *items = json_object_get (resp->json, "Items");
        size_t got = json_array_size (items), i;
        json_t *t;
        json_array_foreach (items, i, t)
        {
            const char *p = s_jstr (t, "Path");
            const char *id = s_jstr (t, "Id");
            if (p && id && strcmp (p, path) == 0) {
                *item_id = strdup (id);
                sp_http_resp_destroy (&resp);
                return *item_id ? SP_MEDIALIB_OK : SP_MEDIALIB_ERR_NOMEM;
            }
        }
        json_t *tr = json_object_get (resp->json, "TotalRecordCount");
        size_t total = json_is_integer (tr) ? (size_t) json_integer_value (tr) : 0;
        sp_http_resp_destroy (&resp);
        start += got;
        if (got == 0 || start >= total)
            break;
    }
    snprintf (note, n, "Jellyfin has no track for %s (not scanned yet?)", path);
    return SP_MEDIALIB_ERR_NOTFOUND;
}

// ------------------------------------------------------------ playlists

static int
s_user (s_jf_t *self, char *note, size_t n)
{
    if (self->user_id)
        return SP_MEDIALIB_OK;
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_get (self->http, "/Users", &resp);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "listing the users (set JELLYFIN_USER_ID to skip this)", note,
                     n);
        sp_http_resp_destroy (&resp);
        return rc;
    }
    const char *first = NULL, *admin = NULL;
    size_t i;
    json_t *u;
    json_array_foreach (resp->json, i, u)
    {
        const char *id = s_jstr (u, "Id");
        if (!s_id_ok (id))
            continue;
        if (!first)
            first = id;
        if (!admin &&
            json_is_true (json_object_get (json_object_get (u, "Policy"), "IsAdministrator")))
            admin = id;
    }
    if (admin || first)
        self->user_id = strdup (admin ? admin : first);
    sp_http_resp_destroy (&resp);
    if (!admin && !first) {
        snprintf (note, n, "Jellyfin has no user to own the playlist: set JELLYFIN_USER_ID");
        return SP_MEDIALIB_ERR;
    }
    return self->user_id ? SP_MEDIALIB_OK : SP_MEDIALIB_ERR_NOMEM;
}

static int
s_playlist_find (s_jf_t *self, const char *name, char **pid, char *note, size_t n)
{
    char path[256];
    snprintf (path, sizeof path,
              "/Items?IncludeItemTypes=Playlist&Recursive=true&EnableImages=false&userId=%s",
              self->user_id);
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_get (self->http, path, &resp);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "listing the playlists", note, n);
        sp_http_resp_destroy (&resp);
        return rc;
    }
    size_t i;
    json_t *p;
    json_array_foreach (json_object_get (resp->json, "Items"), i, p)
    {
        const char *nm = s_jstr (p, "Name");
        const char *id = s_jstr (p, "Id");
        if (nm && strcmp (nm, name) == 0 && s_id_ok (id)) {
            *pid = strdup (id);
            break;
        }
    }
    sp_http_resp_destroy (&resp);
    return SP_MEDIALIB_OK;
}

//  "a,b,c" of ids[0..count-1] (malloc'd, NULL on out of memory).
static char *
s_join (const char *const *ids, size_t count)
{
    size_t len = 1;
    for (size_t i = 0; i < count; i++)
        len += strlen (ids[i]) + 1;
    char *s = malloc (len);
    if (!s)
        return NULL;
    size_t used = 0;
    s[0] = '\0';
    for (size_t i = 0; i < count; i++)
        used += (size_t) snprintf (s + used, len - used, "%s%s", i ? "," : "", ids[i]);
    return s;
}

//  POST or DELETE /Playlists/{pid}/Items?<arg>=<ids joined>, S_CHUNK at a time.
static int
s_items_call (s_jf_t *self, sp_http_method_t method, const char *pid, const char *arg,
              const char *const *ids, size_t count, const char *what, char *note, size_t n)
{
    for (size_t off = 0; off < count; off += S_CHUNK) {
        size_t k = count - off < S_CHUNK ? count - off : S_CHUNK;
        char *list = s_join (ids + off, k);
        size_t len = (list ? strlen (list) : 0) + 256;
        char *path = list ? malloc (len) : NULL;
        if (!path) {
            free (list);
            return SP_MEDIALIB_ERR_NOMEM;
        }
        snprintf (path, len, "/Playlists/%s/Items?%s=%s&userId=%s", pid, arg, list, self->user_id);
        free (list);
        sp_http_resp_t *resp = NULL;
        sp_http_req_t req = {.allow_text = true};
        int rc = sp_http_request (self->http, method, path, &req, &resp);
        free (path);
        if (rc != SP_HTTP_OK) {
            rc = s_note (self, rc, resp, what, note, n);
            sp_http_resp_destroy (&resp);
            return rc;
        }
        sp_http_resp_destroy (&resp);
    }
    return SP_MEDIALIB_OK;
}

static int
s_playlist_create (s_jf_t *self, const char *name, const char *const *ids, size_t count, char **pid,
                   char *note, size_t n)
{
    json_t *body = json_pack ("{s:s, s:[], s:s, s:s}", "Name", name, "Ids", "UserId", self->user_id,
                              "MediaType", "Audio");
    if (!body)
        return SP_MEDIALIB_ERR_NOMEM;
    json_t *arr = json_object_get (body, "Ids");
    for (size_t i = 0; i < count; i++)
        json_array_append_new (arr, json_string (ids[i]));
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_post_json (self->http, "/Playlists", body, &resp);
    json_decref (body);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "creating a playlist", note, n);
        sp_http_resp_destroy (&resp);
        return rc;
    }
    const char *id = s_jstr (resp->json, "Id");
    if (!s_id_ok (id)) {
        snprintf (note, n, "Jellyfin created the playlist but sent no Id back");
        sp_http_resp_destroy (&resp);
        return SP_MEDIALIB_ERR;
    }
    *pid = strdup (id);
    sp_http_resp_destroy (&resp);
    return *pid ? SP_MEDIALIB_OK : SP_MEDIALIB_ERR_NOMEM;
}

static int
s_playlist_sync (s_jf_t *self, const char *pid, const char *const *ids, size_t count, char *note,
                 size_t n)
{
    char path[256];
    snprintf (path, sizeof path, "/Playlists/%s/Items?userId=%s&EnableImages=false", pid,
              self->user_id);
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_get (self->http, path, &resp);
    if (rc != SP_HTTP_OK) {
        rc = s_note (self, rc, resp, "reading a playlist", note, n);
        sp_http_resp_destroy (&resp);
        return rc;
    }
    json_t *items = json_object_get (resp->json, "Items");
    size_t have = json_array_size (items), keep = 0;
    while (keep < have && keep < count) {
        const char *id = s_jstr (json_array_get (items, keep), "Id");
        if (!id || strcmp (id, ids[keep]) != 0)
            break;
        keep++;
    }
    const char **entries = have > keep ? calloc (have - keep, sizeof *entries) : NULL;
    size_t ne = 0;
    rc = SP_MEDIALIB_OK;
    if (have > keep && !entries)
        rc = SP_MEDIALIB_ERR_NOMEM;
    for (size_t i = keep; i < have && rc == SP_MEDIALIB_OK; i++) {
        const char *e = s_jstr (json_array_get (items, i), "PlaylistItemId");
        if (!s_id_ok (e)) {
            snprintf (note, n, "Jellyfin sent a playlist entry without PlaylistItemId");
            rc = SP_MEDIALIB_ERR;
        } else
            entries[ne++] = e;
    }
    if (rc == SP_MEDIALIB_OK)
        rc = s_items_call (self, SP_HTTP_DELETE, pid, "entryIds", entries, ne,
                           "removing playlist entries", note, n);
    free (entries);
    sp_http_resp_destroy (&resp);
    if (rc == SP_MEDIALIB_OK)
        rc = s_items_call (self, SP_HTTP_POST, pid, "ids", ids + keep, count - keep,
                           "adding tracks to a playlist", note, n);
    return rc;
}

static int
s_playlist_upsert (void *state, const char *name, const char *const *ids, size_t count,
                   char **playlist_id, char *note, size_t n)
{
    s_jf_t *self = state;
    for (size_t i = 0; i < count; i++)
        if (!s_id_ok (ids[i])) {
            snprintf (note, n, "%.64s is not a Jellyfin item id", ids[i]);
            return SP_MEDIALIB_ERR;
        }
    char *pid = NULL;
    int rc = s_user (self, note, n);
    if (rc == SP_MEDIALIB_OK)
        rc = s_playlist_find (self, name, &pid, note, n);
    if (rc == SP_MEDIALIB_OK && pid)
        rc = s_playlist_sync (self, pid, ids, count, note, n);
    else if (rc == SP_MEDIALIB_OK)
        rc = s_playlist_create (self, name, ids, count, &pid, note, n);
    if (rc == SP_MEDIALIB_OK) {
        sp_log_info ("event=jellyfin_playlist id=%s items=%zu", sp_log_q (pid), count);
        *playlist_id = pid;
    } else
        free (pid);
    return rc;
}

const sp_medialib_backend_t sp_medialib_jellyfin_backend = {
    .name = "Jellyfin",
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
