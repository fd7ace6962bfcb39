/*  test_fake_spotify.c: soulpipe-fake's Spotify accounts service and Web
    API: client credentials, PKCE (right and wrong verifier), refresh token
    rotation, token expiry, paging /items across pages, null / local /
    episode entries, 429 + Retry-After, Development Mode 403s, the
    Spotify-owned 404, albums and liked songs.
*/
#include "test_fake_util.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fk_t s_fk;

static void
s_teardown (void)
{
    fk_stop (&s_fk);
}

#define CRED_EXT                                                                                   \
    "{\"client_id\":\"cid\",\"client_secret\":\"csecret\",\"user_id\":\"alice\",\"mode\":"         \
    "\"extended\""

//  A playlist fixture with n track entries plus a null, a local file and an
//  episode entry at the end.
static char *
s_playlist (const char *id, const char *owner, bool collaborative, int n)
{
    json_t *items = json_array ();
    for (int i = 0; i < n; i++) {
        char tid[32], name[32];
        snprintf (tid, sizeof tid, "trk%04d", i);
        snprintf (name, sizeof name, "Song %d", i);
        json_array_append_new (items, json_pack ("{s:s, s:b, s:{s:s, s:s, s:s, s:i}}", "added_at",
                                                 "2024-01-02T03:04:05Z", "is_local", 0, "track",
                                                 "id", tid, "name", name, "type", "track",
                                                 "duration_ms", 200000 + i));
    }
    json_array_append_new (items, json_pack ("{s:b, s:n}", "is_local", 0, "track"));
    json_array_append_new (items, json_pack ("{s:b, s:{s:n, s:s, s:s, s:s}}", "is_local", 1,
                                             "track", "id", "name", "Local", "type", "track", "uri",
                                             "spotify:local:A:B:Local:100"));
    json_array_append_new (items, json_pack ("{s:b, s:{s:s, s:s, s:s}}", "is_local", 0, "track",
                                             "id", "ep1", "name", "Episode", "type", "episode"));
    json_t *pl = json_pack ("{s:s, s:s, s:{s:s}, s:b, s:{s:o}}", "id", id, "name", "List", "owner",
                            "id", owner, "collaborative", collaborative, "tracks", "items", items);
    char *text = json_dumps (pl, 0);
    json_decref (pl);
    return text;
}

static void
s_write_playlist (const char *id, const char *owner, bool collab, int n)
{
    char rel[256];
    snprintf (rel, sizeof rel, "spotify/playlists/%s.json", id);
    char *text = s_playlist (id, owner, collab, n);
    fk_write (&s_fk, rel, text);
    free (text);
}

static void
s_start (const char *cred_extra)
{
    fk_init (&s_fk);
    char cred[1024];
    snprintf (cred, sizeof cred, "%s%s}", CRED_EXT, cred_extra ? cred_extra : "");
    fk_write (&s_fk, "spotify/credentials.json", cred);
    s_write_playlist ("mine", "alice", false, 120);
    s_write_playlist ("theirs", "bob", false, 3);
    s_write_playlist ("shared", "bob", true, 3);
    s_write_playlist ("37i9dQZF1DXcBWIGoYBM5M", "spotify", false, 3);
    fk_write (&s_fk, "spotify/albums/alb1.json",
              "{\"id\":\"alb1\",\"name\":\"Album\",\"album_type\":\"album\",\"total_tracks\":60,"
              "\"tracks\":{\"items\":["
              "{\"id\":\"a1\",\"name\":\"One\",\"track_number\":1},"
              "{\"id\":\"a2\",\"name\":\"Two\",\"track_number\":2}]}}");
    fk_write (
        &s_fk, "spotify/liked.json",
        "[{\"added_at\":\"2024-01-01T00:00:00Z\",\"track\":{\"id\":\"l1\",\"name\":\"Liked\"}}]");
    cr_assert_eq (fk_start (&s_fk, NULL), 0, "fake did not start");
}

static char *
s_cc_token (void)
{
    fk_resp_t r;
    const char *h[] = {"Authorization: Basic Y2lkOmNzZWNyZXQ=", NULL};  //  cid:csecret
    fk_http (&s_fk, "POST", "/api/token", h, "grant_type=client_credentials", &r);
    cr_assert_eq (r.status, 200, "token: %ld %s", r.status, r.body);
    char *t = strdup (json_string_value (json_object_get (r.json, "access_token")));
    fk_resp_free (&r);
    return t;
}

static long
s_get (const char *token, const char *path, fk_resp_t *r)
{
    char auth[256];
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", token);
    const char *h[] = {auth, NULL};
    return fk_http (&s_fk, "GET", path, h, NULL, r);
}

static void
s_s256 (const char *verifier, char *out)
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest (verifier, strlen (verifier), md, &n, EVP_sha256 (), NULL);
    unsigned char b64[64];
    int len = EVP_EncodeBlock (b64, md, (int) n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        char c = (char) b64[i];
        if (c == '=')
            break;
        out[o++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[o] = '\0';
}

//  Runs /authorize and returns the code from the redirect (caller frees).
static char *
s_authorize (const char *challenge, const char *redirect)
{
    char path[1024];
    snprintf (path, sizeof path,
              "/authorize?response_type=code&client_id=cid&redirect_uri=%s&state=xyz"
              "&scope=playlist-read-private&code_challenge_method=S256&code_challenge=%s",
              redirect, challenge);
    fk_resp_t r;
    fk_http (&s_fk, "GET", path, NULL, NULL, &r);
    cr_assert_eq (r.status, 302, "authorize: %ld %s", r.status, r.body);
    char *loc = fk_header (&r, "Location");
    cr_assert_not_null (loc);
    cr_assert (strncmp (loc, "http://127.0.0.1:8888/cb?code=", 30) == 0, "location %s", loc);
    cr_assert (strstr (loc, "&state=xyz"), "state missing: %s", loc);
    char *code = strndup (loc + 30, (size_t) (strchr (loc + 30, '&') - (loc + 30)));
    free (loc);
    fk_resp_free (&r);
    return code;
}

#define VERIFIER     "abcdefghijklmnopqrstuvwxyz0123456789-._~ABCDEFG"
#define REDIRECT_ENC "http%3A%2F%2F127.0.0.1%3A8888%2Fcb"

//  Full PKCE login; returns the token response (caller owns).
static json_t *
s_pkce_login (void)
{
    char challenge[64];
    s_s256 (VERIFIER, challenge);
    char *code = s_authorize (challenge, REDIRECT_ENC);
    char body[1024];
    snprintf (
        body, sizeof body,
        "grant_type=authorization_code&code=%s&redirect_uri=%s&client_id=cid&code_verifier=%s",
        code, REDIRECT_ENC, VERIFIER);
    fk_resp_t r;
    fk_http (&s_fk, "POST", "/api/token", NULL, body, &r);
    cr_assert_eq (r.status, 200, "exchange: %ld %s", r.status, r.body);
    json_t *j = json_incref (r.json);
    fk_resp_free (&r);
    free (code);
    return j;
}

Test (fake_spotify, client_credentials, .fini = s_teardown)
{
    s_start (NULL);
    char *t = s_cc_token ();
    cr_assert_gt (strlen (t), 20);
    free (t);

    fk_resp_t r;
    const char *bad[] = {"Authorization: Basic Y2lkOndyb25n", NULL};  //  cid:wrong
    fk_http (&s_fk, "POST", "/api/token", bad, "grant_type=client_credentials", &r);
    cr_assert_eq (r.status, 400);
    cr_assert_str_eq (json_string_value (json_object_get (r.json, "error")), "invalid_client");
    cr_assert_not_null (json_object_get (r.json, "error_description"));
    fk_resp_free (&r);

    //  secret in the form body works too
    fk_http (&s_fk, "POST", "/api/token", NULL,
             "grant_type=client_credentials&client_id=cid&client_secret=csecret", &r);
    cr_assert_eq (r.status, 200);
    cr_assert_eq (json_integer_value (json_object_get (r.json, "expires_in")), 3600);
    fk_resp_free (&r);

    fk_http (&s_fk, "POST", "/api/token", NULL, "grant_type=password", &r);
    cr_assert_eq (r.status, 400);
    cr_assert_str_eq (json_string_value (json_object_get (r.json, "error")),
                      "unsupported_grant_type");
    fk_resp_free (&r);
    cr_assert_eq (fk_stop (&s_fk), 0, "fake did not exit 0 on SIGTERM");
}

Test (fake_spotify, pkce_and_refresh, .fini = s_teardown)
{
    s_start (NULL);
    char challenge[64];
    s_s256 (VERIFIER, challenge);

    //  wrong verifier
    char *code = s_authorize (challenge, REDIRECT_ENC);
    char body[1024];
    snprintf (
        body, sizeof body,
        "grant_type=authorization_code&code=%s&redirect_uri=%s&client_id=cid&code_verifier=%s",
        code, REDIRECT_ENC, "WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONG");
    fk_resp_t r;
    fk_http (&s_fk, "POST", "/api/token", NULL, body, &r);
    cr_assert_eq (r.status, 400);
    cr_assert_str_eq (json_string_value (json_object_get (r.json, "error")), "invalid_grant");
    fk_resp_free (&r);
    free (code);

    //  right verifier; the code is single use
    code = s_authorize (challenge, REDIRECT_ENC);
    snprintf (
        body, sizeof body,
        "grant_type=authorization_code&code=%s&redirect_uri=%s&client_id=cid&code_verifier=%s",
        code, REDIRECT_ENC, VERIFIER);
    fk_http (&s_fk, "POST", "/api/token", NULL, body, &r);
    cr_assert_eq (r.status, 200, "%s", r.body);
    cr_assert_str_eq (json_string_value (json_object_get (r.json, "token_type")), "Bearer");
    char *rt = strdup (json_string_value (json_object_get (r.json, "refresh_token")));
    char *at = strdup (json_string_value (json_object_get (r.json, "access_token")));
    fk_resp_free (&r);
    fk_http (&s_fk, "POST", "/api/token", NULL, body, &r);
    cr_assert_eq (r.status, 400, "code reuse must fail");
    fk_resp_free (&r);
    free (code);

    //  the user token reads /me
    cr_assert_eq (s_get (at, "/v1/me", &r), 200);
    cr_assert_str_eq (json_string_value (json_object_get (r.json, "id")), "alice");
    fk_resp_free (&r);

    //  refresh: a new refresh token; the old one stops working
    snprintf (body, sizeof body, "grant_type=refresh_token&refresh_token=%s&client_id=cid", rt);
    fk_http (&s_fk, "POST", "/api/token", NULL, body, &r);
    cr_assert_eq (r.status, 200, "%s", r.body);
    const char *rt2 = json_string_value (json_object_get (r.json, "refresh_token"));
    cr_assert_not_null (rt2);
    cr_assert_str_neq (rt2, rt);
    fk_resp_free (&r);
    fk_http (&s_fk, "POST", "/api/token", NULL, body, &r);
    cr_assert_eq (r.status, 400);
    cr_assert_str_eq (json_string_value (json_object_get (r.json, "error")), "invalid_grant");
    fk_resp_free (&r);
    free (rt);
    free (at);

    //  redirect URIs: localhost and remote hosts are refused
    fk_http (&s_fk, "GET",
             "/authorize?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2Flocalhost%"
             "3A8888%2Fcb"
             "&code_challenge_method=S256&code_challenge=abc",
             NULL, NULL, &r);
    cr_assert_eq (r.status, 400);
    fk_resp_free (&r);
    fk_http (&s_fk, "GET",
             "/authorize?response_type=code&client_id=nope&redirect_uri=" REDIRECT_ENC, NULL, NULL,
             &r);
    cr_assert_eq (r.status, 400);
    fk_resp_free (&r);
}

Test (fake_spotify, items_paging_and_entries, .fini = s_teardown)
{
    s_start (NULL);
    char *t = s_cc_token ();
    fk_resp_t r;
    //  follow next across pages
    char url[1024];
    snprintf (url, sizeof url, "%s/v1/playlists/mine/items?limit=50", s_fk.base);
    int pages = 0, entries = 0, nulls = 0, locals = 0;
    char auth[256];
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", t);
    const char *h[] = {auth, NULL};
    for (;;) {
        fk_http_url ("GET", url, h, NULL, &r);
        cr_assert_eq (r.status, 200, "%s: %s", url, r.body);
        pages++;
        cr_assert_eq (json_integer_value (json_object_get (r.json, "total")), 123);
        size_t i;
        json_t *e;
        json_array_foreach (json_object_get (r.json, "items"), i, e)
        {
            entries++;
            json_t *item = json_object_get (e, "item");
            json_t *track = json_object_get (e, "track");
            cr_assert (item != NULL && track != NULL, "item and track alias both present");
            cr_assert (json_equal (item, track));
            if (json_is_null (item))
                nulls++;
            if (json_is_true (json_object_get (e, "is_local")))
                locals++;
        }
        json_t *next = json_object_get (r.json, "next");
        if (json_is_null (next)) {
            fk_resp_free (&r);
            break;
        }
        cr_assert (strncmp (json_string_value (next), s_fk.base, strlen (s_fk.base)) == 0,
                   "next %s does not point at the fake", json_string_value (next));
        snprintf (url, sizeof url, "%s", json_string_value (next));
        fk_resp_free (&r);
    }
    cr_assert_eq (pages, 3);
    cr_assert_eq (entries, 123);
    cr_assert_eq (nulls, 2, "the null entry and the episode (no additional_types)");
    cr_assert_eq (locals, 1);

    //  limit above 50 on /items is refused; episodes with additional_types
    cr_assert_eq (s_get (t, "/v1/playlists/mine/items?limit=51", &r), 400);
    fk_resp_free (&r);
    cr_assert_eq (
        s_get (t, "/v1/playlists/mine/items?offset=122&limit=1&additional_types=track,episode", &r),
        200);
    json_t *last = json_object_get (json_array_get (json_object_get (r.json, "items"), 0), "item");
    cr_assert_str_eq (json_string_value (json_object_get (last, "type")), "episode");
    fk_resp_free (&r);
    //  next keeps additional_types (and market), as Spotify's does
    cr_assert_eq (s_get (t,
                         "/v1/playlists/mine/"
                         "items?offset=100&limit=20&market=US&additional_types=track%2Cepisode",
                         &r),
                  200);
    snprintf (url, sizeof url, "%s", json_string_value (json_object_get (r.json, "next")));
    fk_resp_free (&r);
    cr_assert (strstr (url, "additional_types=track%2Cepisode") && strstr (url, "market=US"), "%s",
               url);
    fk_http_url ("GET", url, h, NULL, &r);
    cr_assert_eq (r.status, 200);
    json_t *ep = json_object_get (json_array_get (json_object_get (r.json, "items"), 2), "item");
    cr_assert_str_eq (json_string_value (json_object_get (ep, "type")), "episode");
    fk_resp_free (&r);

    //  the playlist object embeds the first page under items and tracks
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 200);
    cr_assert_eq (json_array_size (json_object_get (json_object_get (r.json, "items"), "items")),
                  50);
    cr_assert_eq (
        json_integer_value (json_object_get (json_object_get (r.json, "tracks"), "total")), 123);
    fk_resp_free (&r);

    //  old /tracks still works outside development mode (limit up to 100)
    cr_assert_eq (s_get (t, "/v1/playlists/mine/tracks?limit=100", &r), 200);
    cr_assert_eq (json_array_size (json_object_get (r.json, "items")), 100);
    fk_resp_free (&r);

    //  Spotify-owned ids and unknown ids: 404; no token: 401
    cr_assert_eq (s_get (t, "/v1/playlists/37i9dQZF1DXcBWIGoYBM5M", &r), 404);
    fk_resp_free (&r);
    cr_assert_eq (s_get (t, "/v1/playlists/nope", &r), 404);
    fk_resp_free (&r);
    cr_assert_eq (fk_http (&s_fk, "GET", "/v1/playlists/mine", NULL, NULL, &r), 401);
    cr_assert_eq (
        json_integer_value (json_object_get (json_object_get (r.json, "error"), "status")), 401);
    fk_resp_free (&r);
    cr_assert_eq (s_get ("bogus", "/v1/playlists/mine", &r), 401);
    fk_resp_free (&r);

    //  albums (+ tracks paging) and liked songs (user token only)
    cr_assert_eq (s_get (t, "/v1/albums/alb1", &r), 200);
    cr_assert_eq (
        json_integer_value (json_object_get (json_object_get (r.json, "tracks"), "total")), 2);
    fk_resp_free (&r);
    cr_assert_eq (s_get (t, "/v1/albums/alb1/tracks?offset=1&limit=1", &r), 200);
    cr_assert_str_eq (json_string_value (json_object_get (
                          json_array_get (json_object_get (r.json, "items"), 0), "id")),
                      "a2");
    fk_resp_free (&r);
    cr_assert_eq (s_get (t, "/v1/me/tracks", &r), 401);
    fk_resp_free (&r);
    json_t *login = s_pkce_login ();
    cr_assert_eq (
        s_get (json_string_value (json_object_get (login, "access_token")), "/v1/me/tracks", &r),
        200);
    cr_assert_eq (json_integer_value (json_object_get (r.json, "total")), 1);
    fk_resp_free (&r);
    json_decref (login);
    free (t);
}

Test (fake_spotify, token_expiry, .fini = s_teardown)
{
    s_start (",\"token_lifetime_s\":1");
    char *t = s_cc_token ();
    fk_resp_t r;
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 200);
    fk_resp_free (&r);
    fk_sleep_ms (1200);
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 401);
    cr_assert (strstr (r.body, "expired"), "%s", r.body);
    fk_resp_free (&r);
    free (t);
    t = s_cc_token ();
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 200);
    fk_resp_free (&r);
    free (t);
    json_t *st = fk_stats (&s_fk);
    cr_assert_eq (json_integer_value (json_object_get (json_object_get (st, "spotify"),
                                                       "expired_token_rejections")),
                  1);
    json_decref (st);
}

Test (fake_spotify, rate_limit, .fini = s_teardown)
{
    s_start (",\"rate_limit_at\":[2,3],\"rate_limit_retry_after_s\":7");
    char *t = s_cc_token ();
    fk_resp_t r;
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 200);
    fk_resp_free (&r);
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 429);
    char *ra = fk_header (&r, "Retry-After");
    cr_assert_not_null (ra);
    cr_assert_str_eq (ra, "7");
    free (ra);
    fk_resp_free (&r);
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 429);
    fk_resp_free (&r);
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 200);
    fk_resp_free (&r);
    free (t);
}

Test (fake_spotify, development_mode, .fini = s_teardown)
{
    s_start (",\"mode\":\"development\"");
    char *t = s_cc_token ();
    fk_resp_t r;
    //  client credentials: metadata only, no items
    cr_assert_eq (s_get (t, "/v1/playlists/mine", &r), 200);
    cr_assert_null (json_object_get (r.json, "items"));
    cr_assert_null (json_object_get (r.json, "tracks"));
    cr_assert_str_eq (json_string_value (json_object_get (r.json, "name")), "List");
    fk_resp_free (&r);
    cr_assert_eq (s_get (t, "/v1/playlists/mine/items", &r), 403);
    fk_resp_free (&r);
    free (t);

    json_t *login = s_pkce_login ();
    const char *ut = json_string_value (json_object_get (login, "access_token"));
    cr_assert_eq (s_get (ut, "/v1/playlists/mine/items", &r), 200);
    fk_resp_free (&r);
    cr_assert_eq (s_get (ut, "/v1/playlists/mine/tracks", &r), 403, "old path is 403");
    fk_resp_free (&r);
    cr_assert_eq (s_get (ut, "/v1/playlists/theirs/items", &r), 403);
    fk_resp_free (&r);
    cr_assert_eq (s_get (ut, "/v1/playlists/theirs", &r), 200);
    cr_assert_null (json_object_get (r.json, "items"));
    fk_resp_free (&r);
    cr_assert_eq (s_get (ut, "/v1/playlists/shared/items", &r), 200, "collaborative is readable");
    fk_resp_free (&r);
    cr_assert_eq (s_get (ut, "/v1/playlists/37i9dQZF1DXcBWIGoYBM5M", &r), 404);
    fk_resp_free (&r);
    json_decref (login);
    cr_assert_eq (fk_stop (&s_fk), 0, "the fake must exit 0 (and leak-free under SAN)");
}
