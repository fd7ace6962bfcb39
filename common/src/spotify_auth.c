/*  spotify_auth.c: Spotify OAuth (PKCE, token requests); see spotify_auth.h. */
#include "soulpipe/spotify_auth.h"

#include "soulpipe/err.h"
#include "soulpipe/http.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TOKEN_TIMEOUT_MS 15000 /* per token request */
#define S_TOKEN_RETRIES    2

static const char s_unreserved[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

const char *
sp_spotify_auth_strerror (int rc)
{
    switch (rc) {
        case SP_SPOTIFY_AUTH_OK:
            return "ok";
        case SP_SPOTIFY_AUTH_DENIED:
            return "access denied";
        case SP_SPOTIFY_AUTH_BAD_GRANT:
            return "invalid grant";
        case SP_SPOTIFY_AUTH_BAD_CLIENT:
            return "invalid client";
        case SP_SPOTIFY_AUTH_NET:
            return "accounts service unavailable";
        case SP_SPOTIFY_AUTH_PROTO:
            return "unexpected answer";
        case SP_SPOTIFY_AUTH_INVAL:
            return "invalid argument";
        default:
            return "unknown";
    }
}

int
sp_spotify_pkce_verifier (char *out, size_t n)
{
    if (!out || n <= SP_SPOTIFY_VERIFIER_LEN)
        return SP_SPOTIFY_AUTH_INVAL;
    unsigned char rnd[SP_SPOTIFY_VERIFIER_LEN];
    if (RAND_bytes (rnd, sizeof rnd) != 1)
        return SP_SPOTIFY_AUTH_PROTO;
    //  64 characters: 256 is a multiple of 64, so rnd % 64 is unbiased
    for (size_t i = 0; i < SP_SPOTIFY_VERIFIER_LEN; i++)
        out[i] = s_unreserved[rnd[i] % 64];
    out[SP_SPOTIFY_VERIFIER_LEN] = '\0';
    return SP_SPOTIFY_AUTH_OK;
}

int
sp_spotify_pkce_challenge (const char *verifier, char *out, size_t n)
{
    if (!verifier || !out || n <= SP_SPOTIFY_CHALLENGE_LEN)
        return SP_SPOTIFY_AUTH_INVAL;
    size_t len = strlen (verifier);
    if (len < 43 || len > 128 || strspn (verifier, s_unreserved) != len)
        return SP_SPOTIFY_AUTH_INVAL;
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256 ((const unsigned char *) verifier, len, md);
    unsigned char b64[64];
    int w = EVP_EncodeBlock (b64, md, sizeof md); /* 44 chars with one '=' */
    size_t j = 0;
    for (int i = 0; i < w && b64[i] != '='; i++) {
        char c = (char) b64[i];
        out[j++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[j] = '\0';
    return SP_SPOTIFY_AUTH_OK;
}

//  Append "&key=value" (value percent-encoded) to a heap buffer.
static bool
s_append (char **buf, size_t *len, const char *key, const char *value)
{
    char *enc = sp_http_urlencode (value);
    if (!enc)
        return false;
    size_t add = strlen (key) + strlen (enc) + 2;
    char *b = realloc (*buf, *len + add + 1);
    if (!b) {
        free (enc);
        return false;
    }
    *buf = b;
    *len += (size_t) snprintf (b + *len, add + 1, "%s%s=%s", *len ? "&" : "", key, enc);
    free (enc);
    return true;
}

char *
sp_spotify_authorize_url (const char *accounts_url, const char *client_id, const char *redirect_uri,
                          const char *scope, const char *state, const char *challenge)
{
    if (!accounts_url || !client_id || !*client_id || !redirect_uri || !state || !challenge)
        return NULL;
    char *q = NULL;
    size_t ql = 0;
    if (!s_append (&q, &ql, "response_type", "code") ||
        !s_append (&q, &ql, "client_id", client_id) ||
        !s_append (&q, &ql, "redirect_uri", redirect_uri) ||
        !s_append (&q, &ql, "scope", scope ? scope : SP_SPOTIFY_SCOPES) ||
        !s_append (&q, &ql, "state", state) ||
        !s_append (&q, &ql, "code_challenge_method", "S256") ||
        !s_append (&q, &ql, "code_challenge", challenge)) {
        free (q);
        return NULL;
    }
    size_t bl = strlen (accounts_url);
    while (bl > 0 && accounts_url[bl - 1] == '/')
        bl--;
    size_t n = bl + ql + 16;
    char *url = malloc (n);
    if (url)
        snprintf (url, n, "%.*s/authorize?%s", (int) bl, accounts_url, q);
    free (q);
    return url;
}

static int
s_hex (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

//  Decoded value of key in a query string, or NULL (caller frees).
static char *
s_query_get (const char *q, const char *key)
{
    size_t kl = strlen (key);
    const char *p = q;
    while (p && *p) {
        const char *amp = strchr (p, '&');
        size_t seg = amp ? (size_t) (amp - p) : strlen (p);
        if (seg > kl && strncmp (p, key, kl) == 0 && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t vl = seg - kl - 1;
            char *out = malloc (vl + 1);
            if (!out)
                return NULL;
            size_t j = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] == '%' && i + 2 < vl + 1 && s_hex (v[i + 1]) >= 0 &&
                    s_hex (v[i + 2]) >= 0) {
                    out[j++] = (char) (s_hex (v[i + 1]) * 16 + s_hex (v[i + 2]));
                    i += 2;
                } else
                    out[j++] = v[i] == '+' ? ' ' : v[i];
            }
            out[j] = '\0';
            return out;
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int
sp_spotify_parse_callback (const char *query, const char *expected_state, char **code_out,
                           char *err, size_t n)
{
    if (code_out)
        *code_out = NULL;
    if (!query || !expected_state || !code_out)
        return SP_SPOTIFY_AUTH_INVAL;
    const char *q = strchr (query, '?');
    q = q ? q + 1 : query;
    char *state = s_query_get (q, "state");
    char *error = s_query_get (q, "error");
    char *code = s_query_get (q, "code");
    int rc;
    if (!state || strcmp (state, expected_state) != 0) {
        sp_err_set (err, n,
                    "the answer does not belong to this login (state mismatch): run "
                    "`soulpipe login spotify` again");
        rc = SP_SPOTIFY_AUTH_PROTO;
    } else if (error && strcmp (error, "access_denied") == 0) {
        sp_err_set (err, n,
                    "Spotify access was denied in the browser: run `soulpipe login "
                    "spotify` again and choose Agree");
        rc = SP_SPOTIFY_AUTH_DENIED;
    } else if (error) {
        //  the error code is a short token; keep it printable
        for (char *c = error; *c; c++)
            if ((unsigned char) *c < 0x20 || (unsigned char) *c > 0x7e)
                *c = '?';
        sp_err_set (err, n, "Spotify answered the login with error \"%.64s\"", error);
        rc = SP_SPOTIFY_AUTH_PROTO;
    } else if (!code || !*code) {
        sp_err_set (err, n, "the redirect carried no authorization code");
        rc = SP_SPOTIFY_AUTH_PROTO;
    } else {
        *code_out = code;
        code = NULL;
        rc = SP_SPOTIFY_AUTH_OK;
    }
    free (state);
    free (error);
    free (code);
    return rc;
}

void
sp_spotify_tokens_clear (sp_spotify_tokens_t *t)
{
    if (!t)
        return;
    free (t->access_token);
    free (t->refresh_token);
    free (t->scope);
    memset (t, 0, sizeof *t);
}

//  POST form to ACCOUNTS/api/token and read the tokens.
static int
s_token_request (const char *accounts_url, const char *form, const char *basic,
                 sp_spotify_tokens_t *out, char *err, size_t n)
{
    memset (out, 0, sizeof *out);
    sp_http_t *http = sp_http_new (accounts_url);
    if (!http) {
        sp_err_set (err, n, "out of memory");
        return SP_SPOTIFY_AUTH_PROTO;
    }
    sp_http_set_timeouts (http, 5000, S_TOKEN_TIMEOUT_MS);
    sp_http_set_retries (http, S_TOKEN_RETRIES, 500, 4000);
    char auth[1024];
    const char *hdrs[2] = {NULL, NULL};
    if (basic) {
        snprintf (auth, sizeof auth, "Authorization: Basic %s", basic);
        hdrs[0] = auth;
    }
    sp_http_req_t req = {.form = form, .headers = hdrs};
    sp_http_resp_t *resp = NULL;
    int hrc = sp_http_request (http, SP_HTTP_POST, "/api/token", &req, &resp);
    int rc = SP_SPOTIFY_AUTH_OK;
    if (hrc == SP_HTTP_OK) {
        json_t *body = resp ? resp->json : NULL;
        const char *at = json_string_value (json_object_get (body, "access_token"));
        json_t *exp = json_object_get (body, "expires_in");
        if (!at || !*at) {
            sp_err_set (err, n, "the token answer has no access_token");
            rc = SP_SPOTIFY_AUTH_PROTO;
        } else {
            const char *rt = json_string_value (json_object_get (body, "refresh_token"));
            const char *sc = json_string_value (json_object_get (body, "scope"));
            out->access_token = strdup (at);
            out->refresh_token = rt && *rt ? strdup (rt) : NULL;
            out->scope = sc ? strdup (sc) : NULL;
            out->expires_in = json_is_integer (exp) ? json_integer_value (exp) : 3600;
            if (!out->access_token) {
                sp_spotify_tokens_clear (out);
                rc = SP_SPOTIFY_AUTH_PROTO;
            }
        }
    } else if (hrc == SP_HTTP_ERR_CLIENT) {
        const char *e = json_string_value (json_object_get (resp ? resp->json : NULL, "error"));
        const char *d =
            json_string_value (json_object_get (resp ? resp->json : NULL, "error_description"));
        char what[256];
        snprintf (what, sizeof what, "%.64s%s%.128s", e ? e : "HTTP error", d ? ": " : "",
                  d ? d : "");
        if (e && strcmp (e, "invalid_grant") == 0) {
            sp_err_set (err, n,
                        "Spotify refused the grant (%s): run `soulpipe login spotify` again", what);
            rc = SP_SPOTIFY_AUTH_BAD_GRANT;
        } else if (e && strcmp (e, "invalid_client") == 0) {
            sp_err_set (err, n,
                        "Spotify refused the app (%s): check SPOTIFY_CLIENT_ID and "
                        "SPOTIFY_CLIENT_SECRET",
                        what);
            rc = SP_SPOTIFY_AUTH_BAD_CLIENT;
        } else {
            sp_err_set (err, n, "Spotify's token service refused the request (%s)", what);
            rc = SP_SPOTIFY_AUTH_PROTO;
        }
    } else {
        sp_err_set (err, n, "Spotify's token service is unavailable (%s): try again later",
                    sp_http_err_name (hrc));
        rc = sp_http_err_retryable (hrc) ? SP_SPOTIFY_AUTH_NET : SP_SPOTIFY_AUTH_PROTO;
    }
    sp_http_resp_destroy (&resp);
    sp_http_destroy (&http);
    return rc;
}

int
sp_spotify_exchange_code (const char *accounts_url, const char *client_id, const char *code,
                          const char *redirect_uri, const char *verifier, sp_spotify_tokens_t *out,
                          char *err, size_t n)
{
    if (!accounts_url || !client_id || !code || !redirect_uri || !verifier || !out)
        return SP_SPOTIFY_AUTH_INVAL;
    char *f = NULL;
    size_t fl = 0;
    int rc = SP_SPOTIFY_AUTH_PROTO;
    if (s_append (&f, &fl, "grant_type", "authorization_code") &&
        s_append (&f, &fl, "code", code) && s_append (&f, &fl, "redirect_uri", redirect_uri) &&
        s_append (&f, &fl, "client_id", client_id) && s_append (&f, &fl, "code_verifier", verifier))
        rc = s_token_request (accounts_url, f, NULL, out, err, n);
    free (f);
    return rc;
}

int
sp_spotify_refresh (const char *accounts_url, const char *client_id, const char *refresh_token,
                    sp_spotify_tokens_t *out, char *err, size_t n)
{
    if (!accounts_url || !client_id || !refresh_token || !*refresh_token || !out)
        return SP_SPOTIFY_AUTH_INVAL;
    char *f = NULL;
    size_t fl = 0;
    int rc = SP_SPOTIFY_AUTH_PROTO;
    if (s_append (&f, &fl, "grant_type", "refresh_token") &&
        s_append (&f, &fl, "refresh_token", refresh_token) &&
        s_append (&f, &fl, "client_id", client_id))
        rc = s_token_request (accounts_url, f, NULL, out, err, n);
    free (f);
    return rc;
}

int
sp_spotify_client_credentials (const char *accounts_url, const char *client_id,
                               const char *client_secret, sp_spotify_tokens_t *out, char *err,
                               size_t n)
{
    if (!accounts_url || !client_id || !client_secret || !*client_secret || !out)
        return SP_SPOTIFY_AUTH_INVAL;
    size_t cl = strlen (client_id) + strlen (client_secret) + 2;
    if (cl > 600)
        return SP_SPOTIFY_AUTH_INVAL;
    char cred[640];
    strcpy (cred, client_id);
    strcat (cred, ":");
    strcat (cred, client_secret);
    unsigned char b64[900];
    EVP_EncodeBlock (b64, (const unsigned char *) cred, (int) strlen (cred));
    return s_token_request (accounts_url, "grant_type=client_credentials", (const char *) b64, out,
                            err, n);
}
