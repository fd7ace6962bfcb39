/*  fake_spotify.c: the fake Spotify accounts service (POST /api/token,
    GET /authorize) and Web API (/v1/playlists, /v1/albums, /v1/me/tracks).

    Fixtures under DIR/spotify (see README.md). Tokens, authorization codes
    and refresh tokens live in memory. A fixture "mode" of "development"
    reproduces the 2026 Development Mode restrictions: /tracks answers 403, a
    client-credentials token reads no playlist items, playlists the user
    neither owns nor collaborates on give metadata only and 403 on /items.
*/
#include "fake.h"
#include "soulpipe/log.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_TOKEN_LIFETIME_S 3600    //  seconds, as Spotify
#define CODE_LIFETIME_MS         600000  //  authorization codes live 10 minutes
#define PLAYLIST_EMBED_LIMIT     50      //  entries embedded in GET /playlists/{id}
#define ITEMS_MAX_LIMIT          50      //  /items, /albums/{id}/tracks, /me/tracks
#define TRACKS_MAX_LIMIT         100     //  the old /tracks
#define DEFAULT_PAGE_LIMIT       20      //  documented default
#define SPOTIFY_OWNED_PREFIX     "37i9dQZF1"

struct sp_fake_spotify_t {
    bool enabled;              //  DIR/spotify/credentials.json exists
    char *client_id;           //  credentials
    char *client_secret;       //  credentials
    char *user_id;             //  the user a PKCE login logs in as
    bool development;          //  mode == "development"
    int64_t token_lifetime_s;  //  access token lifetime
    bool rotate_refresh;       //  refresh_token grant returns a new refresh token
    bool deny_authorize;       //  /authorize answers error=access_denied
    json_t *rate_limit_at;     //  array of 1-based /v1 request numbers answering 429
    int64_t retry_after_s;     //  Retry-After of those 429s
    json_t *playlists;         //  id -> playlist fixture
    json_t *albums;            //  id -> album fixture
    json_t *liked;             //  array of {added_at, track}
    json_t *tokens;            //  access token -> {"user": bool, "exp": mono ms}
    json_t *codes;             //  code -> {challenge, redirect_uri, scope, exp}
    json_t *refresh;           //  refresh token -> {"scope"}
    json_t *empty;             //  an empty array for fixtures without entries
    json_t *images;            //  relative image URL ("/images/x.jpg") -> true, from the fixtures
    int64_t images_served;     //  stats: cover images answered
    int64_t api_requests;      //  /v1 requests seen
    int64_t tokens_issued;     //  stats
    int64_t rate_limited;      //  stats: 429s sent
    int64_t expired_seen;      //  stats: 401s for expired tokens
};

// ------------------------------------------------------------ loading

static json_t *
s_load_dir (const char *dir, char *err, size_t err_size, bool *ok)
{
    json_t *map = json_object ();
    DIR *d = opendir (dir);
    if (!d)
        return map;
    struct dirent *de;
    while ((de = readdir (d))) {
        size_t n = strlen (de->d_name);
        if (n <= 5 || strcmp (de->d_name + n - 5, ".json") != 0)
            continue;
        char path[4096];
        snprintf (path, sizeof path, "%s/%s", dir, de->d_name);
        bool missing;
        json_t *j = sp_fake_load_json (path, &missing, err, err_size);
        if (!j || !json_is_object (j)) {
            if (j)
                snprintf (err, err_size, "%s: not a JSON object", path);
            json_decref (j);
            *ok = false;
            break;
        }
        char id[512];
        snprintf (id, sizeof id, "%.*s", (int) (n - 5), de->d_name);
        json_object_set_new (map, id, j);
    }
    closedir (d);
    return map;
}

static char *
s_strdup_field (json_t *obj, const char *key)
{
    const char *v = json_string_value (json_object_get (obj, key));
    return strdup (v ? v : "");
}

//  Every relative image URL ("/images/<id>.jpg") of an "images" array
//  anywhere in doc, into set: the cover URLs the fake answers with a JPEG.
static void
s_collect_images (json_t *set, json_t *doc)
{
    if (json_is_array (doc)) {
        size_t i;
        json_t *v;
        json_array_foreach (doc, i, v) s_collect_images (set, v);
        return;
    }
    if (!json_is_object (doc))
        return;
    const char *key;
    json_t *v;
    json_object_foreach (doc, key, v)
    {
        if (strcmp (key, "images") == 0 && json_is_array (v)) {
            size_t i;
            json_t *img;
            json_array_foreach (v, i, img)
            {
                const char *url = json_string_value (json_object_get (img, "url"));
                if (url && strncmp (url, "/images/", 8) == 0)
                    json_object_set_new (set, url, json_true ());
            }
        } else
            s_collect_images (set, v);
    }
}

sp_fake_spotify_t *
sp_fake_spotify_new (const char *fixtures_dir, char *err, size_t err_size)
{
    sp_fake_spotify_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->tokens = json_object ();
    self->codes = json_object ();
    self->refresh = json_object ();
    self->empty = json_array ();
    self->rate_limit_at = json_array ();
    self->images = json_object ();
    self->token_lifetime_s = DEFAULT_TOKEN_LIFETIME_S;
    self->rotate_refresh = true;
    self->retry_after_s = 1;

    char path[4096];
    snprintf (path, sizeof path, "%s/spotify/credentials.json", fixtures_dir);
    bool missing = false;
    json_t *cred = sp_fake_load_json (path, &missing, err, err_size);
    if (!cred) {
        if (missing) {
            self->playlists = json_object ();
            self->albums = json_object ();
            self->liked = json_array ();
            return self;  //  Spotify disabled
        }
        goto fail;
    }
    self->enabled = true;
    self->client_id = s_strdup_field (cred, "client_id");
    self->client_secret = s_strdup_field (cred, "client_secret");
    self->user_id = s_strdup_field (cred, "user_id");
    const char *mode = json_string_value (json_object_get (cred, "mode"));
    self->development = mode && strcmp (mode, "development") == 0;
    json_t *v;
    if ((v = json_object_get (cred, "token_lifetime_s")) && json_is_integer (v))
        self->token_lifetime_s = json_integer_value (v);
    if ((v = json_object_get (cred, "rotate_refresh_token")) && json_is_boolean (v))
        self->rotate_refresh = json_is_true (v);
    if ((v = json_object_get (cred, "deny_authorize")) && json_is_boolean (v))
        self->deny_authorize = json_is_true (v);
    if ((v = json_object_get (cred, "rate_limit_retry_after_s")) && json_is_integer (v))
        self->retry_after_s = json_integer_value (v);
    if ((v = json_object_get (cred, "rate_limit_at"))) {
        if (json_is_integer (v))
            json_array_append (self->rate_limit_at, v);
        else if (json_is_array (v))
            json_array_extend (self->rate_limit_at, v);
    }
    json_decref (cred);

    bool ok = true;
    snprintf (path, sizeof path, "%s/spotify/playlists", fixtures_dir);
    self->playlists = s_load_dir (path, err, err_size, &ok);
    snprintf (path, sizeof path, "%s/spotify/albums", fixtures_dir);
    if (ok)
        self->albums = s_load_dir (path, err, err_size, &ok);
    if (!ok)
        goto fail;
    snprintf (path, sizeof path, "%s/spotify/liked.json", fixtures_dir);
    json_t *liked = sp_fake_load_json (path, &missing, err, err_size);
    if (!liked && !missing)
        goto fail;
    if (liked && json_is_object (liked)) {
        //  a paging object: take its items
        json_t *items = json_incref (json_object_get (liked, "items"));
        json_decref (liked);
        liked = items;
    }
    self->liked = json_is_array (liked) ? liked : json_array ();
    if (liked && !json_is_array (liked))
        json_decref (liked);
    s_collect_images (self->images, self->playlists);
    s_collect_images (self->images, self->albums);
    s_collect_images (self->images, self->liked);
    return self;
fail:
    sp_fake_spotify_destroy (&self);
    return NULL;
}

void
sp_fake_spotify_destroy (sp_fake_spotify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_fake_spotify_t *self = *self_p;
    free (self->client_id);
    free (self->client_secret);
    free (self->user_id);
    json_decref (self->rate_limit_at);
    json_decref (self->playlists);
    json_decref (self->albums);
    json_decref (self->liked);
    json_decref (self->tokens);
    json_decref (self->codes);
    json_decref (self->refresh);
    json_decref (self->empty);
    json_decref (self->images);
    free (self);
    *self_p = NULL;
}

// ------------------------------------------------------------ helpers

static void
s_oauth_error (sp_fake_resp_t *resp, unsigned status, const char *error, const char *desc)
{
    sp_fake_resp_json (resp, status,
                       json_pack ("{s:s, s:s}", "error", error, "error_description", desc));
}

static void
s_api_error (sp_fake_resp_t *resp, unsigned status, const char *message)
{
    sp_fake_resp_json (
        resp, status,
        json_pack ("{s:{s:i, s:s}}", "error", "status", (int) status, "message", message));
}

//  Decode standard base64 (with or without padding). Caller owns; NULL if bad.
static char *
s_base64_decode (const char *in)
{
    size_t len = strlen (in);
    char *out = malloc (len + 1);
    if (!out)
        return NULL;
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == '=')
            break;
        else {
            free (out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned) v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char) ((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    return out;
}

//  base64url(SHA-256(verifier)) without padding into out (>= 44 bytes).
static void
s_s256 (const char *verifier, char *out)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest (verifier, strlen (verifier), md, &mdlen, EVP_sha256 (), NULL);
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (unsigned i = 0; i < mdlen; i++) {
        acc = (acc << 8) | md[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = tbl[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = tbl[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

//  Client authentication: Basic header, or client_id/client_secret in the
//  form. Returns true when they match the fixture.
static bool
s_client_auth (sp_fake_spotify_t *self, const sp_fake_req_t *req, bool *had_secret)
{
    *had_secret = false;
    const char *auth = sp_fake_req_header (req, "Authorization");
    bool ok = false;
    if (auth && strncasecmp (auth, "Basic ", 6) == 0) {
        *had_secret = true;
        char *dec = s_base64_decode (auth + 6);
        char *colon = dec ? strchr (dec, ':') : NULL;
        if (colon) {
            *colon = '\0';
            ok = strcmp (dec, self->client_id) == 0 && strcmp (colon + 1, self->client_secret) == 0;
        }
        free (dec);
        return ok;
    }
    char *id = sp_fake_form_get (req->body, "client_id");
    char *secret = sp_fake_form_get (req->body, "client_secret");
    if (secret) {
        *had_secret = true;
        ok = id && strcmp (id, self->client_id) == 0 && strcmp (secret, self->client_secret) == 0;
    }
    free (id);
    free (secret);
    return ok;
}

static json_t *
s_issue_token (sp_fake_spotify_t *self, bool user, const char *scope, bool with_refresh)
{
    char token[80];
    sp_fake_random_hex (token, 32);
    json_object_set_new (
        self->tokens, token,
        json_pack ("{s:b, s:I}", "user", user, "exp",
                   (json_int_t) (sp_fake_now_ms () + self->token_lifetime_s * 1000)));
    self->tokens_issued++;
    json_t *out =
        json_pack ("{s:s, s:s, s:I}", "access_token", token, "token_type",
                   user ? "Bearer" : "bearer", "expires_in", (json_int_t) self->token_lifetime_s);
    if (user) {
        json_object_set_new (out, "scope", json_string (scope ? scope : ""));
        if (with_refresh) {
            char rt[80];
            sp_fake_random_hex (rt, 32);
            json_object_set_new (self->refresh, rt,
                                 json_pack ("{s:s}", "scope", scope ? scope : ""));
            json_object_set_new (out, "refresh_token", json_string (rt));
        }
    }
    return out;
}

// ------------------------------------------------------------ accounts

static void
s_token (sp_fake_spotify_t *self, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    if (strcmp (req->method, "POST") != 0) {
        s_oauth_error (resp, 405, "invalid_request", "Method not allowed");
        return;
    }
    char *grant = sp_fake_form_get (req->body, "grant_type");
    char *code = NULL, *redirect = NULL, *verifier = NULL, *rt = NULL, *client_id = NULL;
    bool had_secret = false;
    bool client_ok = s_client_auth (self, req, &had_secret);
    if (!grant) {
        s_oauth_error (resp, 400, "unsupported_grant_type", "grant_type parameter is missing");
        goto done;
    }
    if (strcmp (grant, "client_credentials") == 0) {
        if (!client_ok) {
            s_oauth_error (resp, 400, "invalid_client", "Invalid client");
            goto done;
        }
        sp_fake_resp_json (resp, 200, s_issue_token (self, false, NULL, false));
        sp_log_info ("event=spotify_token grant=client_credentials");
    } else if (strcmp (grant, "authorization_code") == 0) {
        code = sp_fake_form_get (req->body, "code");
        redirect = sp_fake_form_get (req->body, "redirect_uri");
        verifier = sp_fake_form_get (req->body, "code_verifier");
        client_id = sp_fake_form_get (req->body, "client_id");
        json_t *c = code ? json_object_get (self->codes, code) : NULL;
        if (had_secret && !client_ok) {
            s_oauth_error (resp, 400, "invalid_client", "Invalid client");
            goto done;
        }
        if (!had_secret && (!client_id || strcmp (client_id, self->client_id) != 0)) {
            s_oauth_error (resp, 400, "invalid_client", "Invalid client");
            goto done;
        }
        if (!c || json_integer_value (json_object_get (c, "exp")) < sp_fake_now_ms ()) {
            s_oauth_error (resp, 400, "invalid_grant", "Invalid authorization code");
            goto done;
        }
        const char *want_redirect = json_string_value (json_object_get (c, "redirect_uri"));
        if (!redirect || strcmp (redirect, want_redirect) != 0) {
            s_oauth_error (resp, 400, "invalid_grant", "Invalid redirect URI");
            goto done;
        }
        const char *challenge = json_string_value (json_object_get (c, "challenge"));
        if (challenge && *challenge) {
            char got[64];
            size_t vlen = verifier ? strlen (verifier) : 0;
            if (vlen < 43 || vlen > 128) {
                s_oauth_error (resp, 400, "invalid_grant", "code_verifier was incorrect");
                goto done;
            }
            s_s256 (verifier, got);
            if (strcmp (got, challenge) != 0) {
                s_oauth_error (resp, 400, "invalid_grant", "code_verifier was incorrect");
                goto done;
            }
        } else if (!client_ok) {
            //  the plain authorization-code flow needs the client secret
            s_oauth_error (resp, 400, "invalid_client", "Invalid client");
            goto done;
        }
        const char *scope = json_string_value (json_object_get (c, "scope"));
        json_t *tok = s_issue_token (self, true, scope, true);
        json_object_del (self->codes, code);  //  codes are single use
        sp_fake_resp_json (resp, 200, tok);
        sp_log_info ("event=spotify_token grant=authorization_code");
    } else if (strcmp (grant, "refresh_token") == 0) {
        rt = sp_fake_form_get (req->body, "refresh_token");
        client_id = sp_fake_form_get (req->body, "client_id");
        if (had_secret ? !client_ok : (!client_id || strcmp (client_id, self->client_id) != 0)) {
            s_oauth_error (resp, 400, "invalid_client", "Invalid client");
            goto done;
        }
        json_t *r = rt ? json_object_get (self->refresh, rt) : NULL;
        if (!r) {
            s_oauth_error (resp, 400, "invalid_grant", "Invalid refresh token");
            goto done;
        }
        char *scope = strdup (json_string_value (json_object_get (r, "scope")));
        json_t *tok = s_issue_token (self, true, scope, self->rotate_refresh);
        if (self->rotate_refresh)
            json_object_del (self->refresh, rt);
        free (scope);
        sp_fake_resp_json (resp, 200, tok);
        sp_log_info ("event=spotify_token grant=refresh_token");
    } else
        s_oauth_error (
            resp, 400, "unsupported_grant_type",
            "grant_type must be client_credentials, authorization_code or refresh_token");
done:
    free (grant);
    free (code);
    free (redirect);
    free (verifier);
    free (rt);
    free (client_id);
}

//  Spotify accepts plain-http redirect URIs only for loopback IP literals.
static bool
s_redirect_ok (const char *uri)
{
    if (!uri)
        return false;
    const char *host;
    if (strncmp (uri, "http://127.", 11) == 0)
        host = uri + 7;
    else if (strncmp (uri, "http://[::1]", 12) == 0)
        return uri[12] == ':' || uri[12] == '/' || uri[12] == '\0';
    else
        return false;
    //  127.a.b.c then ':' '/' or end
    for (const char *c = host; *c && *c != ':' && *c != '/'; c++)
        if (!((*c >= '0' && *c <= '9') || *c == '.'))
            return false;
    return true;
}

//  Append "key=value" to a URL, percent-encoding the value.
static void
s_append_param (sp_fake_buf_t *buf, const char *key, const char *value)
{
    sp_fake_buf_puts (buf, strchr (buf->data, '?') ? "&" : "?");
    sp_fake_buf_puts (buf, key);
    sp_fake_buf_puts (buf, "=");
    for (const unsigned char *c = (const unsigned char *) value; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.' || *c == '~')
            sp_fake_buf_append (buf, (const char *) c, 1);
        else
            sp_fake_buf_printf (buf, "%%%02X", *c);
    }
}

static void
s_authorize (sp_fake_spotify_t *self, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    const char *client_id = sp_fake_req_arg (req, "client_id");
    const char *redirect = sp_fake_req_arg (req, "redirect_uri");
    const char *rtype = sp_fake_req_arg (req, "response_type");
    const char *state = sp_fake_req_arg (req, "state");
    const char *challenge = sp_fake_req_arg (req, "code_challenge");
    const char *method = sp_fake_req_arg (req, "code_challenge_method");
    const char *scope = sp_fake_req_arg (req, "scope");
    if (!client_id || strcmp (client_id, self->client_id) != 0) {
        sp_fake_resp_text (resp, 400, "INVALID_CLIENT: Invalid client", "text/plain");
        return;
    }
    if (!s_redirect_ok (redirect)) {
        sp_fake_resp_text (resp, 400, "INVALID_CLIENT: Invalid redirect URI", "text/plain");
        return;
    }
    sp_fake_buf_t loc = {0};
    sp_fake_buf_puts (&loc, redirect);
    if (!rtype || strcmp (rtype, "code") != 0)
        s_append_param (&loc, "error", "unsupported_response_type");
    else if (challenge && (!method || strcmp (method, "S256") != 0))
        s_append_param (&loc, "error", "invalid_request");
    else if (self->deny_authorize)
        s_append_param (&loc, "error", "access_denied");
    else {
        char code[80];
        sp_fake_random_hex (code, 24);
        json_object_set_new (self->codes, code,
                             json_pack ("{s:s, s:s, s:s, s:I}", "challenge",
                                        challenge ? challenge : "", "redirect_uri", redirect,
                                        "scope", scope ? scope : "", "exp",
                                        (json_int_t) (sp_fake_now_ms () + CODE_LIFETIME_MS)));
        s_append_param (&loc, "code", code);
    }
    if (state)
        s_append_param (&loc, "state", state);
    sp_fake_resp_header (resp, "Location", loc.data);
    sp_fake_resp_text (resp, 302, NULL, NULL);
    free (loc.data);
}

// ------------------------------------------------------------ Web API

//  Parse limit/offset. Returns false (and answers 400) when invalid.
static bool
s_paging_args (const sp_fake_req_t *req, int64_t max_limit, int64_t *limit, int64_t *offset,
               sp_fake_resp_t *resp)
{
    const char *l = sp_fake_req_arg (req, "limit");
    const char *o = sp_fake_req_arg (req, "offset");
    *limit = DEFAULT_PAGE_LIMIT;
    *offset = 0;
    if (l && sp_fake_parse_i64 (l, 1, max_limit, limit) != 0) {
        s_api_error (resp, 400, "Invalid limit");
        return false;
    }
    if (o && sp_fake_parse_i64 (o, 0, 100000000, offset) != 0) {
        s_api_error (resp, 400, "Invalid offset");
        return false;
    }
    return true;
}

typedef enum { ENTRY_ITEMS, ENTRY_TRACKS, ENTRY_PLAIN } s_entry_form_t;

//  A playlist entry as the endpoint returns it: "item" and/or "track".
static json_t *
s_entry (json_t *entry, s_entry_form_t form, bool episodes)
{
    if (form == ENTRY_PLAIN)
        return json_deep_copy (entry);
    json_t *out = json_deep_copy (entry);
    json_t *t = json_object_get (entry, "track");
    if (!t)
        t = json_object_get (entry, "item");
    json_t *type = json_object_get (t, "type");
    if (!episodes && json_is_string (type) && strcmp (json_string_value (type), "episode") == 0)
        t = NULL;  //  episodes come back as null without additional_types=episode
    json_object_set_new (out, "track", t ? json_deep_copy (t) : json_null ());
    if (form == ENTRY_ITEMS)
        json_object_set_new (out, "item", t ? json_deep_copy (t) : json_null ());
    else
        json_object_del (out, "item");
    return out;
}

//  A paging object over all (borrowed array) for [offset, offset+limit).
//  Query parameters that Spotify keeps in href/next/previous, as
//  "&name=value" pairs (percent-encoded) into buf.
static void
s_keep_params (const sp_fake_req_t *req, sp_fake_buf_t *buf)
{
    static const char *keep[] = {"market", "fields", "additional_types"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const char *v = sp_fake_req_arg (req, keep[i]);
        if (!v)
            continue;
        sp_fake_buf_printf (buf, "&%s=", keep[i]);
        for (const unsigned char *c = (const unsigned char *) v; *c; c++) {
            if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                *c == '-' || *c == '_' || *c == '.' || *c == '~')
                sp_fake_buf_append (buf, (const char *) c, 1);
            else
                sp_fake_buf_printf (buf, "%%%02X", *c);
        }
    }
}

static json_t *
s_page (const sp_fake_req_t *req, const char *base, const char *path, json_t *all, int64_t offset,
        int64_t limit, s_entry_form_t form, bool episodes)
{
    sp_fake_buf_t keep = {0};
    sp_fake_buf_puts (&keep, "");
    s_keep_params (req, &keep);
    size_t total = json_array_size (all);
    json_t *items = json_array ();
    for (size_t i = (size_t) offset; i < total && i < (size_t) (offset + limit); i++)
        json_array_append_new (items, s_entry (json_array_get (all, i), form, episodes));
    char href[4096], next[4096], prev[4096];
    snprintf (href, sizeof href, "%s%s?offset=%lld&limit=%lld%s", base, path, (long long) offset,
              (long long) limit, keep.data);
    snprintf (next, sizeof next, "%s%s?offset=%lld&limit=%lld%s", base, path,
              (long long) (offset + limit), (long long) limit, keep.data);
    int64_t poff = offset - limit < 0 ? 0 : offset - limit;
    snprintf (prev, sizeof prev, "%s%s?offset=%lld&limit=%lld%s", base, path, (long long) poff,
              (long long) limit, keep.data);
    free (keep.data);
    return json_pack ("{s:s, s:o, s:I, s:o, s:I, s:o, s:I}", "href", href, "items", items, "limit",
                      (json_int_t) limit, "next",
                      (size_t) (offset + limit) < total ? json_string (next) : json_null (),
                      "offset", (json_int_t) offset, "previous",
                      offset > 0 ? json_string (prev) : json_null (), "total", (json_int_t) total);
}

//  All entries of a fixture's playlist (borrowed): tracks.items, items.items
//  or a plain tracks array.
static json_t *
s_entries (sp_fake_spotify_t *self, json_t *obj)
{
    json_t *t = json_object_get (obj, "tracks");
    if (json_is_array (t))
        return t;
    if (json_is_array (json_object_get (t, "items")))
        return json_object_get (t, "items");
    t = json_object_get (obj, "items");
    if (json_is_array (t))
        return t;
    if (json_is_array (json_object_get (t, "items")))
        return json_object_get (t, "items");
    return self->empty;
}

static bool
s_episodes_wanted (const sp_fake_req_t *req)
{
    const char *types = sp_fake_req_arg (req, "additional_types");
    return types && strstr (types, "episode");
}

static void
s_playlist (sp_fake_spotify_t *self, const sp_fake_req_t *req, const char *base, const char *id,
            const char *sub, bool user_token, sp_fake_resp_t *resp)
{
    json_t *pl = json_object_get (self->playlists, id);
    if (strncmp (id, SPOTIFY_OWNED_PREFIX, strlen (SPOTIFY_OWNED_PREFIX)) == 0 || !pl) {
        s_api_error (resp, 404, "Resource not found");
        return;
    }
    const char *owner = json_string_value (json_object_get (json_object_get (pl, "owner"), "id"));
    if (self->development && owner && strcmp (owner, "spotify") == 0) {
        s_api_error (resp, 404, "Resource not found");
        return;
    }
    bool owned = (owner && strcmp (owner, self->user_id) == 0) ||
                 json_is_true (json_object_get (pl, "collaborative"));
    bool items_allowed = !self->development || (user_token && owned);
    json_t *all = s_entries (self, pl);
    bool episodes = s_episodes_wanted (req);
    char path[600];
    snprintf (path, sizeof path, "/v1/playlists/%s/items", id);

    if (!sub) {
        //  as the real one: the embedded first page links its next page to
        //  the old /tracks (403 in Development Mode), whichever key holds it
        snprintf (path, sizeof path, "/v1/playlists/%s/tracks", id);
        json_t *out = json_deep_copy (pl);
        json_object_del (out, "tracks");
        json_object_del (out, "items");
        if (items_allowed) {
            json_object_set_new (
                out, "items",
                s_page (req, base, path, all, 0, PLAYLIST_EMBED_LIMIT, ENTRY_ITEMS, episodes));
            json_object_set_new (
                out, "tracks",
                s_page (req, base, path, all, 0, PLAYLIST_EMBED_LIMIT, ENTRY_ITEMS, episodes));
        }
        sp_fake_resp_json (resp, 200, out);
        return;
    }
    bool old = strcmp (sub, "tracks") == 0;
    if (old && self->development) {
        s_api_error (resp, 403, "Forbidden");
        return;
    }
    if (!items_allowed) {
        s_api_error (resp, 403, "Forbidden");
        return;
    }
    int64_t limit, offset;
    if (!s_paging_args (req, old ? TRACKS_MAX_LIMIT : ITEMS_MAX_LIMIT, &limit, &offset, resp))
        return;
    if (old)
        snprintf (path, sizeof path, "/v1/playlists/%s/tracks", id);
    sp_fake_resp_json (
        resp, 200,
        s_page (req, base, path, all, offset, limit, old ? ENTRY_TRACKS : ENTRY_ITEMS, episodes));
}

static void
s_album (sp_fake_spotify_t *self, const sp_fake_req_t *req, const char *base, const char *id,
         const char *sub, sp_fake_resp_t *resp)
{
    json_t *al = json_object_get (self->albums, id);
    if (!al) {
        s_api_error (resp, 404, "Resource not found");
        return;
    }
    json_t *all = s_entries (self, al);
    char path[600];
    snprintf (path, sizeof path, "/v1/albums/%s/tracks", id);
    if (!sub) {
        json_t *out = json_deep_copy (al);
        json_object_set_new (out, "tracks",
                             s_page (req, base, path, all, 0, ITEMS_MAX_LIMIT, ENTRY_PLAIN, false));
        sp_fake_resp_json (resp, 200, out);
        return;
    }
    int64_t limit, offset;
    if (!s_paging_args (req, ITEMS_MAX_LIMIT, &limit, &offset, resp))
        return;
    sp_fake_resp_json (resp, 200, s_page (req, base, path, all, offset, limit, ENTRY_PLAIN, false));
}

static void
s_api (sp_fake_spotify_t *self, sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    self->api_requests++;
    size_t i;
    json_t *n;
    json_array_foreach (self->rate_limit_at, i, n)
    {
        if (json_integer_value (n) == self->api_requests) {
            char ra[32];
            snprintf (ra, sizeof ra, "%lld", (long long) self->retry_after_s);
            sp_fake_resp_header (resp, "Retry-After", ra);
            s_api_error (resp, 429, "API rate limit exceeded");
            self->rate_limited++;
            return;
        }
    }
    const char *auth = sp_fake_req_header (req, "Authorization");
    if (!auth || strncasecmp (auth, "Bearer ", 7) != 0) {
        s_api_error (resp, 401, "No token provided");
        return;
    }
    json_t *tok = json_object_get (self->tokens, auth + 7);
    if (!tok) {
        s_api_error (resp, 401, "Invalid access token");
        return;
    }
    if (json_integer_value (json_object_get (tok, "exp")) <= sp_fake_now_ms ()) {
        self->expired_seen++;
        s_api_error (resp, 401, "The access token expired");
        return;
    }
    bool user = json_is_true (json_object_get (tok, "user"));
    if (strcmp (req->method, "GET") != 0) {
        s_api_error (resp, 405, "Method not allowed");
        return;
    }
    char copy[1024];
    char *seg[8];
    int ns = sp_fake_split_path (req->path, copy, sizeof copy, seg, 8);
    char base[300];
    sp_fake_base_url (fake, req, base, sizeof base);
    if (ns == 3 && strcmp (seg[1], "playlists") == 0)
        s_playlist (self, req, base, seg[2], NULL, user, resp);
    else if (ns == 4 && strcmp (seg[1], "playlists") == 0 &&
             (strcmp (seg[3], "items") == 0 || strcmp (seg[3], "tracks") == 0))
        s_playlist (self, req, base, seg[2], seg[3], user, resp);
    else if (ns == 3 && strcmp (seg[1], "albums") == 0)
        s_album (self, req, base, seg[2], NULL, resp);
    else if (ns == 4 && strcmp (seg[1], "albums") == 0 && strcmp (seg[3], "tracks") == 0)
        s_album (self, req, base, seg[2], seg[3], resp);
    else if (ns == 2 && strcmp (seg[1], "me") == 0) {
        if (!user)
            s_api_error (resp, 401, "This request requires user authentication.");
        else
            sp_fake_resp_json (resp, 200,
                               json_pack ("{s:s, s:s, s:s}", "id", self->user_id, "display_name",
                                          self->user_id, "type", "user"));
    } else if (ns == 3 && strcmp (seg[1], "me") == 0 && strcmp (seg[2], "tracks") == 0) {
        if (!user) {
            s_api_error (resp, 401, "This request requires user authentication.");
            return;
        }
        int64_t limit, offset;
        if (!s_paging_args (req, ITEMS_MAX_LIMIT, &limit, &offset, resp))
            return;
        sp_fake_resp_json (
            resp, 200,
            s_page (req, base, "/v1/me/tracks", self->liked, offset, limit, ENTRY_TRACKS, false));
    } else
        s_api_error (resp, 404, "Service not found");
}

//  GET /images/<id>.jpg: the cover images the fixtures name (Spotify's CDN
//  needs no token), a JPEG of the fake's own per URL; 404 for any other.
static void
s_image (sp_fake_spotify_t *self, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    if (strcmp (req->method, "GET") != 0 && strcmp (req->method, "HEAD") != 0) {
        sp_fake_resp_text (resp, 405, "Method Not Allowed", "text/plain");
        return;
    }
    if (!json_object_get (self->images, req->path)) {
        sp_fake_resp_text (resp, 404, "Not Found", "text/plain");
        return;
    }
    unsigned char *jpeg = NULL;
    size_t len = sp_fake_jpeg (req->path, &jpeg);
    if (!len) {
        sp_fake_resp_text (resp, 500, "out of memory", "text/plain");
        return;
    }
    sp_fake_resp_bytes (resp, 200, jpeg, len, "image/jpeg");
    free (jpeg);
    self->images_served++;
}

bool
sp_fake_spotify_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    sp_fake_spotify_t *self = fake->spotify;
    bool token = strcmp (req->path, "/api/token") == 0;
    bool authorize = strcmp (req->path, "/authorize") == 0;
    bool api = strncmp (req->path, "/v1/", 4) == 0;
    bool image = strncmp (req->path, "/images/", 8) == 0;
    if (!token && !authorize && !api && !image)
        return false;
    if (!self->enabled) {
        s_api_error (resp, 404, "Spotify is not configured in this fixture");
        return true;
    }
    if (image)
        s_image (self, req, resp);
    else if (token)
        s_token (self, req, resp);
    else if (authorize)
        s_authorize (self, req, resp);
    else
        s_api (self, fake, req, resp);
    return true;
}

void
sp_fake_spotify_stats (sp_fake_t *fake, json_t *stats)
{
    sp_fake_spotify_t *self = fake->spotify;
    json_object_set_new (stats, "spotify",
                         json_pack ("{s:I, s:I, s:I, s:I, s:I}", "api_requests",
                                    (json_int_t) self->api_requests, "tokens_issued",
                                    (json_int_t) self->tokens_issued, "rate_limited",
                                    (json_int_t) self->rate_limited, "expired_token_rejections",
                                    (json_int_t) self->expired_seen, "images_served",
                                    (json_int_t) self->images_served));
}
