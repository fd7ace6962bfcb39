/*  spotify.c: the analyzer's Spotify Web API client (see spotify.h).

    Token rules: a user token is used when a login exists (refresh token in
    Redis), else a client-credentials token when SPOTIFY_CLIENT_SECRET is
    set. Both are cached in memory; refreshing happens under the mutex so
    that a rotated refresh token is used and stored by exactly one thread.
    `next` links are followed only when they point at SPOTIFY_API_URL (the
    bearer token never goes to another host).
*/
#include "spotify.h"

#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"
#include "soulpipe/spotify_auth.h"
#include "soulpipe/text.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_EARLY_MS           60000       /* refresh this long before expiry */
#define S_PAGE_LIMIT         50          /* /items, /me/tracks, /albums/{id}/tracks */
#define S_MAX_PAGES          4000        /* 200,000 entries */
#define S_RETRY_AFTER_CAP_MS 120000      /* sleep on 429 up to this long */
#define S_OWNED_PREFIX       "37i9dQZF1" /* Spotify-owned editorial/algorithmic ids */

struct _sp_spotify_t {
    const sp_config_t *cfg; /* borrowed */
    pthread_mutex_t lock;   /* guards the token cache, serializes refreshes */
    char *user_token;       /* cached user access token, or NULL */
    int64_t user_exp_ms;    /* its expiry, wall clock ms */
    char *app_token;        /* cached client-credentials token, or NULL */
    int64_t app_exp_ms;
};

static void s_fail (sp_spotify_err_t *err, const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_fail (sp_spotify_err_t *err, const char *code, const char *fmt, ...)
{
    snprintf (err->code, sizeof err->code, "%s", code);
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (err->message, sizeof err->message, fmt, ap);
    va_end (ap);
}

sp_spotify_t *
sp_spotify_new (const sp_config_t *cfg)
{
    sp_spotify_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = cfg;
    pthread_mutex_init (&self->lock, NULL);
    return self;
}

void
sp_spotify_destroy (sp_spotify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_spotify_t *self = *self_p;
    free (self->user_token);
    free (self->app_token);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

// ------------------------------------------------------------ tokens

#define S_TOK_OK      0
#define S_TOK_NOLOGIN 1  /* no user login / no client secret */
#define S_TOK_ERR     -1 /* err filled */

//  A user access token (caller frees *out). bad: a token that just got a
//  401 (refresh unless another thread already did).
static int
s_user_token (sp_spotify_t *self, sp_store_t *store, const char *bad, char **out,
              sp_spotify_err_t *err)
{
    *out = NULL;
    int ret = S_TOK_ERR;
    sp_store_spotify_auth_t a = {0};
    pthread_mutex_lock (&self->lock);
    int64_t now = sp_clock_wall_ms ();
    if (self->user_token && self->user_exp_ms - S_EARLY_MS > now &&
        (!bad || strcmp (bad, self->user_token) != 0)) {
        *out = strdup (self->user_token);
        ret = *out ? S_TOK_OK : S_TOK_ERR;
        goto done;
    }
    int rc = sp_store_spotify_auth_get (store, &a);
    if (rc != SP_STORE_OK) {
        s_fail (err, "store", "Redis is unreachable (reading the Spotify login): try again");
        goto done;
    }
    if (!a.refresh_token) {
        ret = S_TOK_NOLOGIN;
        goto done;
    }
    //  another analyzer run (or a login) may have left a good access token
    if (a.access_token && a.expires_at_ms - S_EARLY_MS > now &&
        (!bad || strcmp (bad, a.access_token) != 0)) {
        free (self->user_token);
        self->user_token = a.access_token;
        self->user_exp_ms = a.expires_at_ms;
        a.access_token = NULL;
        *out = strdup (self->user_token);
        ret = *out ? S_TOK_OK : S_TOK_ERR;
        goto done;
    }
    sp_spotify_tokens_t t;
    char why[512];
    int arc = sp_spotify_refresh (self->cfg->spotify_accounts_url, self->cfg->spotify_client_id,
                                  a.refresh_token, &t, why, sizeof why);
    if (arc == SP_SPOTIFY_AUTH_BAD_GRANT) {
        s_fail (err, "spotify_login_required",
                "the Spotify login has expired or was revoked: run `soulpipe login spotify`");
        goto done;
    }
    if (arc != SP_SPOTIFY_AUTH_OK) {
        s_fail (err, arc == SP_SPOTIFY_AUTH_NET ? "spotify_unavailable" : "spotify_auth",
                "could not refresh the Spotify login: %s", why);
        goto done;
    }
    int64_t exp = sp_clock_wall_ms () + t.expires_in * 1000;
    //  a rotated refresh token must be stored before anything else: the old
    //  one may already be dead
    rc = sp_store_spotify_auth_put (store, t.refresh_token, t.access_token, exp, NULL);
    if (rc != SP_STORE_OK)
        sp_log_error ("event=spotify_token_store_failed rotated=%s rc=%d",
                      t.refresh_token ? "true" : "false", rc);
    sp_log_info ("event=spotify_token_refreshed rotated=%s expires_in=%lld",
                 t.refresh_token ? "true" : "false", (long long) t.expires_in);
    free (self->user_token);
    self->user_token = t.access_token;
    self->user_exp_ms = exp;
    t.access_token = NULL;
    sp_spotify_tokens_clear (&t);
    *out = strdup (self->user_token);
    ret = *out ? S_TOK_OK : S_TOK_ERR;
done:
    pthread_mutex_unlock (&self->lock);
    sp_store_spotify_auth_clear (&a);
    if (ret == S_TOK_ERR && !err->code[0])
        s_fail (err, "internal", "out of memory");
    return ret;
}

static int
s_app_token (sp_spotify_t *self, const char *bad, char **out, sp_spotify_err_t *err)
{
    *out = NULL;
    const sp_config_t *cfg = self->cfg;
    if (!cfg->spotify_client_secret || !*cfg->spotify_client_secret || !cfg->spotify_client_id ||
        !*cfg->spotify_client_id)
        return S_TOK_NOLOGIN;
    int ret = S_TOK_ERR;
    pthread_mutex_lock (&self->lock);
    if (self->app_token && self->app_exp_ms - S_EARLY_MS > sp_clock_wall_ms () &&
        (!bad || strcmp (bad, self->app_token) != 0)) {
        *out = strdup (self->app_token);
        ret = *out ? S_TOK_OK : S_TOK_ERR;
        goto done;
    }
    sp_spotify_tokens_t t;
    char why[512];
    int arc = sp_spotify_client_credentials (cfg->spotify_accounts_url, cfg->spotify_client_id,
                                             cfg->spotify_client_secret, &t, why, sizeof why);
    if (arc != SP_SPOTIFY_AUTH_OK) {
        s_fail (err, arc == SP_SPOTIFY_AUTH_NET ? "spotify_unavailable" : "spotify_auth", "%s",
                why);
        goto done;
    }
    free (self->app_token);
    self->app_token = t.access_token;
    self->app_exp_ms = sp_clock_wall_ms () + t.expires_in * 1000;
    t.access_token = NULL;
    sp_spotify_tokens_clear (&t);
    *out = strdup (self->app_token);
    ret = *out ? S_TOK_OK : S_TOK_ERR;
done:
    pthread_mutex_unlock (&self->lock);
    if (ret == S_TOK_ERR && !err->code[0])
        s_fail (err, "internal", "out of memory");
    return ret;
}

int
sp_spotify_login (sp_spotify_t *self, sp_store_t *store, const char *access_token,
                  const char *refresh_token, uint64_t expires_in, const char *scope,
                  sp_spotify_err_t *err)
{
    if (!self || !store || !refresh_token || !*refresh_token || !access_token) {
        s_fail (err, "bad_request",
                "the login carries no refresh token: run `soulpipe login "
                "spotify` again");
        return -1;
    }
    if (expires_in > 86400 * 365)
        expires_in = 3600;
    int64_t exp = sp_clock_wall_ms () + (int64_t) expires_in * 1000;
    pthread_mutex_lock (&self->lock);
    int rc =
        sp_store_spotify_auth_put (store, refresh_token, access_token, exp, scope ? scope : "");
    if (rc == SP_STORE_OK) {
        free (self->user_token);
        self->user_token = *access_token ? strdup (access_token) : NULL;
        self->user_exp_ms = exp;
    }
    pthread_mutex_unlock (&self->lock);
    if (rc != SP_STORE_OK) {
        s_fail (err, "store", "Redis is unreachable: the login was not stored; try again");
        return -1;
    }
    sp_log_info ("event=spotify_login_stored expires_in=%llu", (unsigned long long) expires_in);
    return 0;
}

// ------------------------------------------------------------ API calls

typedef struct {
    sp_spotify_t *self;
    sp_store_t *store;
    sp_http_t *http;
    bool user;   /* token kind */
    char *token; /* current access token */
    const sp_source_ref_t *src;
    sp_spotify_err_t *err;
    size_t repaired; /* strings with a NUL or invalid UTF-8, repaired */
} s_ctx_t;

#define S_REPAIR_DEPTH 64  //  deepest nesting walked by s_repair (Spotify's is < 10)

//  Repair every string in j that holds a NUL byte (sp_http reads invalid
//  UTF-8 as NULs too): each bad byte becomes U+FFFD, so a name keeps its
//  text and the playlist its track, instead of the name being cut at the
//  NUL. Returns the number of strings repaired.
static size_t
s_repair (json_t *j, int depth)
{
    size_t n = 0;
    if (depth > S_REPAIR_DEPTH)
        return 0;
    if (json_is_string (j)) {
        const char *v = json_string_value (j);
        size_t len = json_string_length (j);
        if (strlen (v) == len)
            return 0;
        char *fixed = sp_text_repair_n (v, len, NULL);
        if (fixed && json_string_set (j, fixed) == 0)
            n = 1;
        free (fixed);
        return n;
    }
    if (json_is_array (j)) {
        size_t i;
        json_t *v;
        json_array_foreach (j, i, v) n += s_repair (v, depth + 1);
    } else if (json_is_object (j)) {
        const char *k;
        json_t *v;
        json_object_foreach (j, k, v) n += s_repair (v, depth + 1);
    }
    return n;
}

static int
s_set_token (s_ctx_t *c)
{
    char hdr[4200];
    snprintf (hdr, sizeof hdr, "Bearer %s", c->token);
    return sp_http_set_header (c->http, "Authorization", hdr) == SP_HTTP_OK ? 0 : -1;
}

//  GET path (relative or an absolute `next` link); on success *json is a new
//  reference. Returns 0, or the HTTP status (>0) of a 4xx for the caller to
//  explain, or -1 with err filled.
static int
s_get (s_ctx_t *c, const char *path, json_t **json)
{
    *json = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        sp_http_resp_t *resp = NULL;
        int rc = sp_http_get (c->http, path, &resp);
        if (rc == SP_HTTP_OK) {
            *json = json_incref (resp->json);
            sp_http_resp_destroy (&resp);
            if (!json_is_object (*json)) {
                json_decref (*json);
                *json = NULL;
                s_fail (c->err, "spotify_unavailable", "Spotify sent an unexpected answer");
                return -1;
            }
            c->repaired += s_repair (*json, 0);
            return 0;
        }
        long status = resp ? resp->status : 0;
        long retry_after = resp ? resp->retry_after_ms : -1;
        sp_http_resp_destroy (&resp);
        if (rc == SP_HTTP_ERR_CLIENT && status == 401 && attempt == 0) {
            //  expired or revoked: refresh once and try again
            char *fresh = NULL;
            int tr = c->user ? s_user_token (c->self, c->store, c->token, &fresh, c->err)
                             : s_app_token (c->self, c->token, &fresh, c->err);
            if (tr != S_TOK_OK) {
                if (tr == S_TOK_NOLOGIN)
                    s_fail (c->err, "spotify_login_required",
                            "Spotify needs a login for this: run `soulpipe login spotify`");
                return -1;
            }
            free (c->token);
            c->token = fresh;
            if (s_set_token (c) != 0) {
                s_fail (c->err, "internal", "could not set the Authorization header");
                return -1;
            }
            continue;
        }
        if (rc == SP_HTTP_ERR_CLIENT)
            return (int) status;
        if (rc == SP_HTTP_ERR_RATE_LIMITED) {
            s_fail (c->err, "spotify_rate_limited",
                    "Spotify's rate limit asks to wait %ld s: submit again later",
                    retry_after > 0 ? retry_after / 1000 : 0);
            return -1;
        }
        char code[32] = "";
        if (status)
            snprintf (code, sizeof code, ", HTTP %ld", status);
        s_fail (c->err, "spotify_unavailable", "Spotify is unavailable (%s%s): try again later",
                sp_http_err_name (rc), code);
        return -1;
    }
    s_fail (c->err, "spotify_login_required",
            "Spotify keeps refusing the token (401): run `soulpipe login spotify`");
    return -1;
}

//  A `next` link is followed only on the configured API host.
static bool
s_next_ok (const sp_config_t *cfg, const char *next)
{
    const char *base = cfg->spotify_api_url;
    size_t bl = strlen (base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    return strncmp (next, base, bl) == 0 && next[bl] == '/';
}

// ------------------------------------------------------------ entries

static char *
s_cut_dup (const char *s, size_t max)
{
    if (!s)
        return NULL;
    //  sized to the text, not to max: 1,000 tracks held 2 MB of slack
    size_t n = strnlen (s, max + 1);
    if (n > max)
        n = max;
    char *buf = malloc (n + 1);
    if (buf)
        sp_playlist_cut_utf8 (buf, n + 1, s);
    return buf;
}

static const char *
s_jstr (json_t *o, const char *k)
{
    return json_string_value (json_object_get (o, k));
}

//  The widest image's URL.
static const char *
s_cover (json_t *images)
{
    const char *best = NULL;
    json_int_t bw = -2;
    size_t i;
    json_t *im;
    json_array_foreach (images, i, im)
    {
        const char *u = s_jstr (im, "url");
        json_t *w = json_object_get (im, "width");
        json_int_t wv = json_is_integer (w) ? json_integer_value (w) : -1;
        if (u && wv > bw) {
            best = u;
            bw = wv;
        }
    }
    return best && strlen (best) <= 4096 ? best : NULL;
}

static int
s_names (json_t *artists, char ***vec, size_t *count)
{
    size_t i;
    json_t *a;
    json_array_foreach (artists, i, a)
    {
        const char *nm = s_jstr (a, "name");
        if (!nm || !*nm || *count >= SP_MSG_MAX_ARTISTS)
            continue;
        char buf[SP_MSG_MAX_TEXT + 1];
        sp_playlist_cut_utf8 (buf, sizeof buf, nm);
        if (sp_msg_strv_add (vec, count, buf) != SP_MSG_OK)
            return -1;
    }
    return 0;
}

static void
s_num (json_t *o, const char *k, bool *has, uint64_t *v)
{
    json_t *j = json_object_get (o, k);
    if (json_is_integer (j) && json_integer_value (j) > 0 &&
        json_integer_value (j) <= SP_MSG_MAX_NUMBER) {
        *has = true;
        *v = (uint64_t) json_integer_value (j);
    }
}

//  Fill a track from a TrackObject (t) and its album (album: t.album, or the
//  album object for SimplifiedTracks). Returns 0 / -1 (out of memory).
static int
s_fill_track (sp_track_t *tr, json_t *t, json_t *album)
{
    const char *id = s_jstr (t, "id");
    if (id && *id && strlen (id) <= SP_MSG_MAX_ID && !(tr->spotify_id = strdup (id)))
        return -1;
    const char *name = s_jstr (t, "name");
    if (!(tr->title = s_cut_dup (name ? name : "", SP_MSG_MAX_TEXT)))
        return -1;
    if (s_names (json_object_get (t, "artists"), &tr->artists, &tr->artists_count) != 0)
        return -1;
    if (json_is_object (album)) {
        const char *an = s_jstr (album, "name");
        const char *aid = s_jstr (album, "id");
        const char *at = s_jstr (album, "album_type");
        const char *rd = s_jstr (album, "release_date");
        const char *rp = s_jstr (album, "release_date_precision");
        if (an && *an && !(tr->album = s_cut_dup (an, SP_MSG_MAX_TEXT)))
            return -1;
        if (aid && *aid && strlen (aid) <= SP_MSG_MAX_ID && !(tr->album_id = strdup (aid)))
            return -1;
        if (at &&
            (strcmp (at, "album") == 0 || strcmp (at, "single") == 0 ||
             strcmp (at, "compilation") == 0) &&
            !(tr->album_type = strdup (at)))
            return -1;
        if (rd && *rd && strlen (rd) <= 16 && !(tr->release_date = strdup (rd)))
            return -1;
        if (rp && *rp && strlen (rp) <= 16 && !(tr->date_precision = strdup (rp)))
            return -1;
        if (s_names (json_object_get (album, "artists"), &tr->album_artists,
                     &tr->album_artists_count) != 0)
            return -1;
        s_num (album, "total_tracks", &tr->has_track_total, &tr->track_total);
        const char *cover = s_cover (json_object_get (album, "images"));
        if (cover && !(tr->cover_url = strdup (cover)))
            return -1;
    }
    s_num (t, "track_number", &tr->has_track_number, &tr->track_number);
    s_num (t, "disc_number", &tr->has_disc_number, &tr->disc_number);
    json_t *d = json_object_get (t, "duration_ms");
    if (json_is_integer (d) && json_integer_value (d) > 0) {
        tr->has_duration_ms = true;
        tr->duration_ms = (uint64_t) json_integer_value (d);
    }
    const char *isrc = s_jstr (json_object_get (t, "external_ids"), "isrc");
    if (isrc && *isrc && strlen (isrc) <= 32 && !(tr->isrc = strdup (isrc)))
        return -1;
    return 0;
}

//  One playlist or Liked Songs entry ({item|track, is_local}).
static int
s_add_entry (sp_playlist_t *pl, json_t *e)
{
    sp_playlist_entry_t *pe = sp_playlist_add (pl);
    if (!pe)
        return -1;
    json_t *t = json_object_get (e, "item");
    if (!t)
        t = json_object_get (e, "track");
    const char *why = NULL;
    const char *type = s_jstr (t, "type");
    if (!json_is_object (t))
        why = "unavailable on Spotify (null item)";
    else if (json_is_true (json_object_get (e, "is_local")) ||
             json_is_true (json_object_get (t, "is_local")))
        why = "local file";
    else if (type && strcmp (type, "episode") == 0)
        why = "podcast episode";
    else if (type && strcmp (type, "track") != 0)
        why = "not a track";
    if (why) {
        if (!(pe->unusable = strdup (why)))
            return -1;
        //  keep what is known for the notes (title, artists)
        const char *name = s_jstr (t, "name");
        if (name && !(pe->track.title = s_cut_dup (name, SP_MSG_MAX_TEXT)))
            return -1;
        if (json_is_object (t) && s_names (json_object_get (t, "artists"), &pe->track.artists,
                                           &pe->track.artists_count) != 0)
            return -1;
        return 0;
    }
    return s_fill_track (&pe->track, t, json_object_get (t, "album"));
}

typedef int (s_entry_fn) (sp_playlist_t *pl, json_t *e, json_t *arg);

static int
s_album_entry (sp_playlist_t *pl, json_t *e, json_t *album)
{
    sp_playlist_entry_t *pe = sp_playlist_add (pl);
    if (!pe)
        return -1;
    return s_fill_track (&pe->track, e, album);
}

static int
s_playlist_entry (sp_playlist_t *pl, json_t *e, json_t *arg)
{
    (void) arg;
    return s_add_entry (pl, e);
}

static void s_market (const sp_config_t *cfg, char *buf, size_t n);

//  The next page of a playlist as a link to /items. The first page embedded
//  in GET /playlists/{id} may link its next page to the old
//  /playlists/{id}/tracks, which answers 403 to a Development Mode app since
//  February 2026 (and takes a larger limit than /items): the same offset is
//  asked of /items instead. Other links are kept. Caller frees; NULL on OOM.
static char *
s_items_link (s_ctx_t *c, const char *next)
{
    const char *p = strstr (next, "/v1/playlists/");
    const char *q = p ? strstr (p + 14, "/tracks") : NULL;
    if (!q || (q[7] != '?' && q[7] != '\0'))
        return strdup (next);
    long long offset = 0;
    const char *o = strstr (q, "offset=");
    if (o && (o[-1] == '?' || o[-1] == '&'))
        offset = strtoll (o + 7, NULL, 10);
    if (offset < 0)
        offset = 0;
    char market[48];
    s_market (c->self->cfg, market, sizeof market);
    char *out = NULL;
    if (asprintf (&out, "%.*s/items?offset=%lld&limit=%d&additional_types=track,episode%s",
                  (int) (q - next), next, offset, S_PAGE_LIMIT, market) < 0)
        return NULL;
    return out;
}

//  Walk a paging object and every `next` page. Returns 0 / -1 (err filled).
static int
s_pages (s_ctx_t *c, sp_playlist_t *pl, json_t *page, s_entry_fn *fn, json_t *arg)
{
    json_t *cur = json_incref (page);
    for (int pages = 0; cur; pages++) {
        size_t i;
        json_t *e;
        //  Every Spotify paging object has an items array: without one the
        //  reply is not a page (a proxy's or a changed API's answer), not
        //  an empty list.
        if (!json_is_array (json_object_get (cur, "items"))) {
            json_decref (cur);
            s_fail (c->err, "spotify_unavailable",
                    "Spotify sent a page without items (unexpected reply): try again later");
            return -1;
        }
        json_array_foreach (json_object_get (cur, "items"), i, e)
        {
            if (pl->count >= SP_PLAYLIST_MAX_ENTRIES)
                break;
            if (fn (pl, e, arg) != 0) {
                json_decref (cur);
                s_fail (c->err, "internal", "out of memory");
                return -1;
            }
        }
        const char *next = s_jstr (cur, "next");
        if (!next || !*next || pl->count >= SP_PLAYLIST_MAX_ENTRIES || pages + 1 >= S_MAX_PAGES)
            break;
        if (!s_next_ok (c->self->cfg, next)) {
            json_decref (cur);
            s_fail (c->err, "spotify_unavailable",
                    "Spotify sent a next-page link to another host; refusing to follow it");
            return -1;
        }
        char *nx = fn == s_playlist_entry ? s_items_link (c, next) : strdup (next);
        json_decref (cur);
        cur = NULL;
        if (!nx) {
            s_fail (c->err, "internal", "out of memory");
            return -1;
        }
        int rc = s_get (c, nx, &cur);
        free (nx);
        if (rc > 0)
            s_fail (c->err, "spotify_unavailable", "Spotify refused a page of the list (HTTP %d)",
                    rc);
        if (rc != 0)
            return -1;
    }
    json_decref (cur);
    return 0;
}

// ------------------------------------------------------------ sources

static void
s_explain (s_ctx_t *c, int status, const char *what)
{
    const char *id = c->src->id;
    if (status == 404 && c->src->kind == SP_SOURCE_PLAYLIST)
        s_fail (c->err, "spotify_not_found",
                "Spotify says this playlist does not exist (404)%s. Spotify-owned editorial and "
                "algorithmic playlists (Discover Weekly, Release Radar, Today's Top Hits...) are "
                "hidden from self-hosted (Development Mode) apps: check the link, or copy the "
                "tracks into a playlist of your own (Select all > Add to playlist) and submit "
                "that one",
                strncmp (id, S_OWNED_PREFIX, strlen (S_OWNED_PREFIX)) == 0
                    ? ": it looks like a Spotify-owned playlist"
                    : "");
    else if (status == 404)
        s_fail (c->err, "spotify_not_found",
                "Spotify says this %s does not exist (404): check "
                "the link",
                what);
    else if (status == 403 && !c->user)
        s_fail (c->err, "spotify_login_required",
                "Spotify only shows this %s's tracks to a logged-in user: run `soulpipe login "
                "spotify`, then submit again",
                what);
    else if (status == 403)
        s_fail (c->err, "spotify_forbidden",
                "Spotify refuses to list this %s's tracks (403): a self-hosted (Development "
                "Mode) app can only read playlists you own or collaborate on. Copy the tracks "
                "into a playlist of your own (Select all > Add to playlist) and submit that one; "
                "also check that your Spotify account is on the app's user list in the Spotify "
                "developer dashboard",
                what);
    else if (status == 401)
        s_fail (c->err, "spotify_login_required",
                "Spotify needs a user login for this %s: run `soulpipe login spotify`", what);
    else
        s_fail (c->err, "spotify_unavailable", "Spotify refused the %s request (HTTP %d)", what,
                status);
}

static void
s_market (const sp_config_t *cfg, char *buf, size_t n)
{
    buf[0] = '\0';
    if (cfg->spotify_market && *cfg->spotify_market &&
        strspn (cfg->spotify_market, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_") ==
            strlen (cfg->spotify_market) &&
        strlen (cfg->spotify_market) < 32)
        snprintf (buf, n, "&market=%s", cfg->spotify_market);
}

static int
s_fetch_playlist (s_ctx_t *c, sp_playlist_t *pl)
{
    char path[512], market[48];
    s_market (c->self->cfg, market, sizeof market);
    snprintf (path, sizeof path, "/v1/playlists/%s?additional_types=track,episode%s", c->src->id,
              market);
    json_t *obj = NULL;
    int rc = s_get (c, path, &obj);
    if (rc > 0)
        s_explain (c, rc, "playlist");
    if (rc != 0)
        return -1;
    const char *name = s_jstr (obj, "name");
    free (pl->name);
    pl->name = s_cut_dup (name && *name ? name : c->src->id, SP_MSG_MAX_TEXT);
    json_t *page = json_object_get (obj, "items");
    if (!json_is_array (json_object_get (page, "items")))
        page = json_object_get (obj, "tracks");
    int ret = -1;
    if (!pl->name) {
        s_fail (c->err, "internal", "out of memory");
        goto done;
    }
    if (json_is_array (json_object_get (page, "items"))) {
        ret = s_pages (c, pl, page, s_playlist_entry, NULL);
        goto done;
    }
    //  metadata only: ask /items, then the old /tracks where /items is unknown
    json_t *first = NULL;
    snprintf (path, sizeof path, "/v1/playlists/%s/items?limit=%d&additional_types=track,episode%s",
              c->src->id, S_PAGE_LIMIT, market);
    rc = s_get (c, path, &first);
    if (rc == 404) {
        snprintf (path, sizeof path,
                  "/v1/playlists/%s/tracks?limit=%d&additional_types=track,episode%s", c->src->id,
                  S_PAGE_LIMIT, market);
        rc = s_get (c, path, &first);
    }
    if (rc > 0)
        s_explain (c, rc, "playlist");
    if (rc == 0) {
        ret = s_pages (c, pl, first, s_playlist_entry, NULL);
        json_decref (first);
    }
done:
    json_decref (obj);
    return ret;
}

static int
s_fetch_album (s_ctx_t *c, sp_playlist_t *pl)
{
    char path[512], market[48];
    s_market (c->self->cfg, market, sizeof market);
    snprintf (path, sizeof path, "/v1/albums/%s%s%s", c->src->id, market[0] ? "?" : "",
              market[0] ? market + 1 : "");
    json_t *al = NULL;
    int rc = s_get (c, path, &al);
    if (rc > 0)
        s_explain (c, rc, "album");
    if (rc != 0)
        return -1;
    const char *name = s_jstr (al, "name");
    free (pl->name);
    pl->name = s_cut_dup (name && *name ? name : c->src->id, SP_MSG_MAX_TEXT);
    int ret = -1;
    if (!pl->name)
        s_fail (c->err, "internal", "out of memory");
    else
        ret = s_pages (c, pl, json_object_get (al, "tracks"), s_album_entry, al);
    //  disc_total: the highest disc number on the album
    uint64_t discs = 0;
    for (size_t i = 0; ret == 0 && i < pl->count; i++)
        if (pl->entries[i].track.has_disc_number && pl->entries[i].track.disc_number > discs)
            discs = pl->entries[i].track.disc_number;
    for (size_t i = 0; ret == 0 && discs && i < pl->count; i++) {
        pl->entries[i].track.has_disc_total = true;
        pl->entries[i].track.disc_total = discs;
    }
    json_decref (al);
    return ret;
}

static int
s_fetch_liked (s_ctx_t *c, sp_playlist_t *pl)
{
    char path[256], market[48];
    s_market (c->self->cfg, market, sizeof market);
    snprintf (path, sizeof path, "/v1/me/tracks?limit=%d%s", S_PAGE_LIMIT, market);
    free (pl->name);
    pl->name = strdup ("Liked Songs");
    if (!pl->name) {
        s_fail (c->err, "internal", "out of memory");
        return -1;
    }
    json_t *first = NULL;
    int rc = s_get (c, path, &first);
    if (rc > 0)
        s_explain (c, rc, "Liked Songs");
    if (rc != 0)
        return -1;
    rc = s_pages (c, pl, first, s_playlist_entry, NULL);
    json_decref (first);
    return rc;
}

int
sp_spotify_fetch (sp_spotify_t *self, sp_store_t *store, const sp_source_ref_t *src,
                  sp_playlist_t **out, sp_spotify_err_t *err)
{
    *out = NULL;
    memset (err, 0, sizeof *err);
    if (!self || !store || !src ||
        (src->kind != SP_SOURCE_PLAYLIST && src->kind != SP_SOURCE_ALBUM &&
         src->kind != SP_SOURCE_LIKED)) {
        s_fail (err, "bad_source", "not a Spotify source");
        return -1;
    }
    const sp_config_t *cfg = self->cfg;
    if (!cfg->spotify_client_id || !*cfg->spotify_client_id) {
        s_fail (err, "spotify_login_required",
                "SPOTIFY_CLIENT_ID is not set: create an app in the Spotify developer dashboard, "
                "set SPOTIFY_CLIENT_ID for the analyzer, then run `soulpipe login spotify`");
        return -1;
    }
    s_ctx_t c = {.self = self, .store = store, .src = src, .err = err};
    int tr = s_user_token (self, store, NULL, &c.token, err);
    c.user = tr == S_TOK_OK;
    if (tr == S_TOK_NOLOGIN && src->kind != SP_SOURCE_LIKED)
        tr = s_app_token (self, NULL, &c.token, err);
    if (tr == S_TOK_NOLOGIN) {
        s_fail (err, "spotify_login_required",
                "%s needs a Spotify login: run `soulpipe login spotify`, then submit again",
                src->kind == SP_SOURCE_LIKED ? "Liked Songs" : "this source");
        return -1;
    }
    if (tr != S_TOK_OK)
        return -1;
    int ret = -1;
    sp_playlist_t *pl = sp_playlist_new ();
    c.http = sp_http_new (cfg->spotify_api_url);
    if (!pl || !c.http || s_set_token (&c) != 0) {
        s_fail (err, "internal", "out of memory");
        goto done;
    }
    sp_http_set_retry_after_cap (c.http, S_RETRY_AFTER_CAP_MS);
    free (pl->source);
    pl->source = strdup (src->uri);
    if (!pl->source) {
        s_fail (err, "internal", "out of memory");
        goto done;
    }
    if (src->kind == SP_SOURCE_PLAYLIST)
        ret = s_fetch_playlist (&c, pl);
    else if (src->kind == SP_SOURCE_ALBUM)
        ret = s_fetch_album (&c, pl);
    else
        ret = s_fetch_liked (&c, pl);
    if (ret == 0) {
        for (size_t i = 0; i < pl->count; i++) {
            sp_track_t *t = &pl->entries[i].track;
            t->position = i;
            free (t->playlist);
            if (!(t->playlist = strdup (pl->name))) {
                s_fail (err, "internal", "out of memory");
                ret = -1;
                break;
            }
        }
    }
    if (ret == 0 && c.repaired) {
        sp_log_warn ("event=spotify_strings_repaired source=%s strings=%zu", src->uri, c.repaired);
        if (sp_playlist_note (pl,
                              "%zu name%s from Spotify had a NUL byte or invalid UTF-8: "
                              "shown with \xEF\xBF\xBD in their place",
                              c.repaired, c.repaired == 1 ? "" : "s") != 0) {
            s_fail (err, "internal", "out of memory");
            ret = -1;
        }
    }
    if (ret == 0) {
        sp_log_info ("event=spotify_fetched source=%s entries=%zu user=%s", src->uri, pl->count,
                     c.user ? "true" : "false");
        *out = pl;
        pl = NULL;
    }
done:
    sp_playlist_destroy (&pl);
    sp_http_destroy (&c.http);
    free (c.token);
    return ret;
}
