/*  test_analyzer_spotify.c: the analyzer against the fake Spotify and Plex:
    every input form, PKCE login (good, wrong verifier, denied consent),
    token refresh with rotation, /items paging, 429, 403/404 messages,
    null/local/episode entries, Plex down, library matches and near misses. */
#include "test_analyzer_common.h"

#include "soulpipe/http.h"
#include "soulpipe/songs.h"
#include "soulpipe/spotify_auth.h"

#include <jansson.h>

#define OWNER        "me"
#define PL_ID        "4iV5W9uYEdYUVa79Axb7Rh" /* owned, 120 entries */
#define PL_OTHER     "1A2B3C4D5E6F7G8H9I0J1K" /* someone else's */
#define PL_EDITORIAL "37i9dQZF1DXcBWIGoYBM5M"
#define AL_ID        "2noRn2Aes5aoNVsU6iWThc"

//  A TrackObject for the fixtures.
static json_t *
s_track (const char *id, const char *title, const char *artist, int dur_s)
{
    return json_pack ("{s:s, s:s, s:s, s:[{s:s}], s:i, s:i, s:i, s:{s:s}, s:b,"
                      " s:{s:s, s:s, s:s, s:s, s:s, s:i, s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}],"
                      " s:[{s:s}]}}",
                      "id", id, "type", "track", "name", title, "artists", "name", artist,
                      "duration_ms", dur_s * 1000, "track_number", 3, "disc_number", 1,
                      "external_ids", "isrc", "USRC17607839", "is_local", 0, "album", "id",
                      "alb00000000000000000001", "name", "Some Album", "album_type", "album",
                      "release_date", "2013-05-17", "release_date_precision", "day", "total_tracks",
                      13, "images", "url", "http://img/small", "width", 64, "height", 64, "url",
                      "http://img/big", "width", 640, "height", 640, "artists", "name", artist);
}

static json_t *
s_entry (json_t *track)
{
    return json_pack ("{s:s, s:b, s:o}", "added_at", "2024-01-02T03:04:05Z", "is_local", 0, "item",
                      track ? track : json_null ());
}

static void
s_dump (const char *dir, const char *rel, json_t *j)
{
    char *s = json_dumps (j, JSON_COMPACT);
    ta_write (dir, rel, s);
    free (s);
    json_decref (j);
}

TestSuite (analyzer_spotify, .fini = ta_fini);

typedef struct {
    char *dir, *fixtures, *downloads;
    pid_t fake;
    int port;
    char url[64];
    sp_store_t *store;
    sp_config_t cfg;
    sp_analyzer_t *an;
} s_env_t;

//  Fixtures: credentials (extra JSON fields merged), playlists, album,
//  liked, and a Plex library when plex is true.
static void
s_fixtures (const char *fx, const char *cred_extra, bool plex)
{
    json_t *cred = json_pack ("{s:s, s:s, s:s, s:s}", "client_id", "cid", "client_secret", "csec",
                              "user_id", OWNER, "mode", "development");
    if (cred_extra) {
        json_t *x = json_loads (cred_extra, 0, NULL);
        cr_assert_not_null (x, "bad cred_extra");
        json_object_update (cred, x);
        json_decref (x);
    }
    s_dump (fx, "spotify/credentials.json", cred);

    //  owned playlist: 120 entries (3 pages of 50), with a null item, a local
    //  file, an episode and a repeat
    json_t *items = json_array ();
    for (int i = 0; i < 116; i++) {
        char id[32], title[64];
        snprintf (id, sizeof id, "trk%019d", i);
        snprintf (title, sizeof title, "Song Number %d", i);
        json_array_append_new (items, s_entry (s_track (id, title, "Band", 200 + i)));
    }
    json_array_append_new (items, s_entry (NULL));
    json_t *local = s_track ("x", "My Demo", "Me", 100);
    json_object_set_new (local, "id", json_null ());
    json_object_set_new (local, "is_local", json_true ());
    json_t *le = s_entry (local);
    json_object_set_new (le, "is_local", json_true ());
    json_array_append_new (items, le);
    json_t *ep = json_pack ("{s:s, s:s, s:s, s:i}", "id", "ep00000000000000000001", "type",
                            "episode", "name", "A Podcast", "duration_ms", 3600000);
    json_array_append_new (items, s_entry (ep));
    json_array_append_new (
        items, s_entry (s_track ("trk0000000000000000005", "Song Number 5", "Band", 205)));
    s_dump (fx, "spotify/playlists/" PL_ID ".json",
            json_pack ("{s:s, s:s, s:{s:s}, s:b, s:o}", "id", PL_ID, "name", "Road Trip", "owner",
                       "id", OWNER, "collaborative", 0, "tracks", items));
    s_dump (fx, "spotify/playlists/" PL_OTHER ".json",
            json_pack ("{s:s, s:s, s:{s:s}, s:b, s:[o]}", "id", PL_OTHER, "name", "Not Mine",
                       "owner", "id", "someone", "collaborative", 0, "tracks",
                       s_entry (s_track ("t1", "X", "Y", 100))));
    //  album: SimplifiedTracks, two discs
    json_t *atr = json_array ();
    for (int i = 1; i <= 4; i++) {
        char id[32], title[32];
        snprintf (id, sizeof id, "alt%019d", i);
        snprintf (title, sizeof title, "Album Song %d", i);
        json_array_append_new (
            atr, json_pack ("{s:s, s:s, s:s, s:[{s:s}], s:i, s:i, s:i}", "id", id, "type", "track",
                            "name", title, "artists", "name", "Album Band", "duration_ms", 180000,
                            "track_number", (i - 1) % 2 + 1, "disc_number", (i + 1) / 2));
    }
    s_dump (fx, "spotify/albums/" AL_ID ".json",
            json_pack ("{s:s, s:s, s:s, s:s, s:s, s:i, s:[{s:s, s:i, s:i}], s:[{s:s}], s:o}", "id",
                       AL_ID, "name", "Double Album", "album_type", "album", "release_date", "1999",
                       "release_date_precision", "year", "total_tracks", 4, "images", "url",
                       "http://img/a", "width", 300, "height", 300, "artists", "name", "Album Band",
                       "tracks", atr));
    json_t *liked = json_array ();
    json_array_append_new (
        liked, json_pack ("{s:s, s:o}", "added_at", "2024-01-01T00:00:00Z", "track",
                          s_track ("lik0000000000000000000001", "Liked One", "Fav", 150)));
    s_dump (fx, "spotify/liked.json", liked);

    if (plex) {
        ta_write (fx, "plex/token", "plextoken\n");
        json_t *t = json_array ();
#define LIB(title, gp, orig, dur, file)                                                            \
    json_array_append_new (t, json_pack ("{s:s, s:s, s:s?, s:s, s:i, s:[{s:[{s:s}]}]}", "title",   \
                                         title, "grandparentTitle", gp, "originalTitle", orig,     \
                                         "parentTitle", "Some Album", "duration", dur, "Media",    \
                                         "Part", "file", file))
        LIB ("Song Number 0", "Band", NULL, 200000, "/music/Band/00.flac");
        LIB ("Song Number 1", "Band", NULL, 201000, "/music/Band/01.flac");
        t = t;
        s_dump (fx, "plex/tracks.json", t);
    }
}

//  Fixtures, the fake and an analyzer; extra: more NAME, value pairs for
//  the configuration (NULL-terminated, may be NULL), applied last.
static void
s_env_start_with (s_env_t *e, const char *cred_extra, bool plex, bool plex_down,
                  const char *const *extra)
{
    memset (e, 0, sizeof *e);
    e->store = ta_store ();
    e->dir = strdup (ta_t.dir);
    char buf[1024];
    snprintf (buf, sizeof buf, "%s/fixtures", e->dir);
    e->fixtures = strdup (buf);
    snprintf (buf, sizeof buf, "%s/downloads", e->dir);
    e->downloads = strdup (buf);
    mkdir (e->fixtures, 0700);
    s_fixtures (e->fixtures, cred_extra, plex);
    e->fake = ta_fake_start (&ta_t, e->fixtures, e->downloads, &e->port);
    snprintf (e->url, sizeof e->url, "http://127.0.0.1:%d", e->port);
    const char *vars[] = {"SPOTIFY_CLIENT_ID",
                          "cid",
                          "SPOTIFY_ACCOUNTS_URL",
                          e->url,
                          "SPOTIFY_API_URL",
                          e->url,
                          "PLEX_URL",
                          plex_down ? "http://127.0.0.1:1"
                          : plex    ? e->url
                                    : NULL,
                          "PLEX_TOKEN",
                          plex || plex_down ? "plextoken" : NULL,
                          "SOULPIPE_LIBRARY_CACHE_S",
                          "0"};
    const char *all[32];
    size_t n = sizeof vars / sizeof vars[0];
    memcpy (all, vars, sizeof vars);
    for (size_t i = 0; extra && extra[i] && n + 2 < sizeof all / sizeof all[0]; i += 2) {
        all[n++] = extra[i];
        all[n++] = extra[i + 1];
    }
    all[n] = NULL;
    ta_config (&e->cfg, all);
    char err[256];
    e->an = sp_analyzer_new (&e->cfg, NULL, err, sizeof err);
    cr_assert_not_null (e->an, "%s", err);
}

static void
s_env_start (s_env_t *e, const char *cred_extra, bool plex, bool plex_down)
{
    s_env_start_with (e, cred_extra, plex, plex_down, NULL);
}

static void
s_env_stop (s_env_t *e)
{
    sp_analyzer_destroy (&e->an);
    sp_config_destroy (&e->cfg);
    ta_fake_stop (&ta_t, e->fake);
    e->store = NULL;
    ta_fini (); /* the store, redis-server, the temp dir */
    free (e->dir);
    free (e->fixtures);
    free (e->downloads);
}

static int
s_pkce (s_env_t *e, bool wrong_verifier, sp_spotify_tokens_t *tok, char *err, size_t n)
{
    return ta_pkce (e->url, "cid", wrong_verifier, tok, err, n);
}

static void
s_login (s_env_t *e)
{
    ta_login (e->an, e->store, e->url, "cid");
}

static char *
s_redis_refresh_token (sp_store_t *store)
{
    const char *argv[] = {"HGET", "soulpipe:spotify:auth", "refresh_token"};
    size_t lens[] = {4, strlen (argv[1]), strlen (argv[2])};
    redisReply *r = NULL;
    cr_assert_eq (sp_store_command (store, 3, argv, lens, &r), SP_STORE_OK);
    char *s = r->type == REDIS_REPLY_STRING ? strdup (r->str) : NULL;
    freeReplyObject (r);
    return s;
}

// ------------------------------------------------------------ login

Test (analyzer_spotify, pkce_login_wrong_verifier_and_denied)
{
    s_env_t e;
    s_env_start (&e, NULL, false, false);
    sp_spotify_tokens_t tok;
    char err[512];
    cr_expect_eq (s_pkce (&e, true, &tok, err, sizeof err), SP_SPOTIFY_AUTH_BAD_GRANT, "%s", err);
    cr_expect (strstr (err, "soulpipe login spotify") != NULL, "%s", err);
    cr_assert_eq (s_pkce (&e, false, &tok, err, sizeof err), 0, "%s", err);
    cr_expect_not_null (tok.refresh_token);
    cr_expect_gt (tok.expires_in, 0);
    sp_spotify_tokens_clear (&tok);
    s_env_stop (&e);

    s_env_start (&e, "{\"deny_authorize\": true}", false, false);
    cr_expect_eq (s_pkce (&e, false, &tok, err, sizeof err), SP_SPOTIFY_AUTH_DENIED, "%s", err);
    cr_expect (strstr (err, "denied") != NULL, "%s", err);
    s_env_stop (&e);
}

Test (analyzer_spotify, no_login_says_run_login)
{
    s_env_t e;
    s_env_start (&e, NULL, false, false);
    sp_msg_t reply;
    ta_submit (e.an, e.store, "liked", NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "spotify_login_required");
    cr_expect (strstr (reply.message, "soulpipe login spotify") != NULL, "%s", reply.message);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}

// ------------------------------------------------------------ playlist

Test (analyzer_spotify, playlist_paging_unusable_duplicates_plex_down)
{
    s_env_t e;
    s_env_start (&e, NULL, false, true);
    s_login (&e);
    sp_msg_t reply;
    ta_submit (e.an, e.store, "https://open.spotify.com/intl-de/playlist/" PL_ID "?si=abc", NULL,
               NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_str_eq (reply.name, "Road Trip");
    cr_expect_eq (reply.total, 120);
    cr_expect_eq (reply.skipped, 4);
    cr_expect_eq (reply.queued, 116);
    cr_expect (!reply.library_checked);
    cr_assert_not_null (reply.library_note);
    cr_expect (strstr (reply.library_note, "Plex is unreachable") != NULL, "%s",
               reply.library_note);
    ta_tracks_t t;
    memset (&t, 0, sizeof t);
    //  first 64 records only: check the first one's payload
    ta_tracks (e.store, reply.job, &t);
    cr_assert_not_null (t.payload[0]);
    sp_track_t *tr = &t.payload[0]->track;
    cr_expect_str_eq (tr->spotify_id, "trk0000000000000000000");
    cr_expect_str_eq (tr->title, "Song Number 0");
    cr_expect_str_eq (tr->album, "Some Album");
    cr_expect_str_eq (tr->album_type, "album");
    cr_expect_str_eq (tr->release_date, "2013-05-17");
    cr_expect_str_eq (tr->isrc, "USRC17607839");
    cr_expect_str_eq (tr->cover_url, "http://img/big");
    cr_expect_str_eq (tr->playlist, "Road Trip");
    cr_expect_eq (tr->track_total, 13);
    cr_expect_eq (tr->duration_ms, 200000);
    ta_tracks_free (&t);
    //  the unusable ones and the repeat, from the notes
    for (size_t k = 0; k < reply.notes_count; k++)
        fprintf (stderr, "note: %s\n", reply.notes[k]);
    cr_assert_eq (reply.notes_count, 4);
    cr_expect (strstr (reply.notes[0], "unavailable on Spotify (null item)") != NULL, "%s",
               reply.notes[0]);
    cr_expect (strstr (reply.notes[1], "local file") != NULL, "%s", reply.notes[1]);
    cr_expect (strstr (reply.notes[2], "podcast episode") != NULL, "%s", reply.notes[2]);
    cr_expect (strstr (reply.notes[3], "duplicate of position 6") != NULL, "%s", reply.notes[3]);
    char report[256];
    cr_expect_eq (sp_store_check_counters (e.store, reply.job, report, sizeof report), SP_STORE_OK,
                  "%s", report);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}

Test (analyzer_spotify, forms_album_liked_uri_bare)
{
    s_env_t e;
    s_env_start (&e, NULL, false, false);
    s_login (&e);
    sp_msg_t reply;
    ta_submit (e.an, e.store, "spotify:album:" AL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_str_eq (reply.name, "Double Album");
    cr_expect_eq (reply.total, 4);
    ta_tracks_t t;
    ta_tracks (e.store, reply.job, &t);
    cr_assert_eq (t.n, 4);
    cr_expect_str_eq (t.payload[3]->track.album, "Double Album");
    cr_expect_eq (t.payload[3]->track.disc_number, 2);
    cr_expect_eq (t.payload[3]->track.disc_total, 2);
    cr_expect_str_eq (t.payload[3]->track.release_date, "1999");
    ta_tracks_free (&t);
    sp_msg_clear (&reply);

    ta_submit (e.an, e.store, "liked", NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_str_eq (reply.name, "Liked Songs");
    cr_expect_eq (reply.total, 1);
    sp_msg_clear (&reply);

    ta_submit (e.an, e.store, PL_ID, "My Name", NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_str_eq (reply.name, "My Name");
    cr_expect_eq (reply.total, 120);
    sp_msg_clear (&reply);

    ta_submit (e.an, e.store, "spotify:playlist:" PL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}

Test (analyzer_spotify, forbidden_and_not_found_messages)
{
    s_env_t e;
    s_env_start (&e, NULL, false, false);
    s_login (&e);
    sp_msg_t reply;
    ta_submit (e.an, e.store, "spotify:playlist:" PL_OTHER, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "spotify_forbidden");
    cr_expect (strstr (reply.message, "own or collaborate on") != NULL, "%s", reply.message);
    sp_msg_clear (&reply);
    ta_submit (e.an, e.store, "https://open.spotify.com/playlist/" PL_EDITORIAL, NULL, NULL,
               &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "spotify_not_found");
    cr_expect (strstr (reply.message, "Spotify-owned") != NULL, "%s", reply.message);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}

Test (analyzer_spotify, refresh_rotation_and_429)
{
    s_env_t e;
    //  tokens live 30 s (< the 60 s early margin): every fetch refreshes;
    //  the 3rd Web API request answers 429 Retry-After 1
    s_env_start (&e,
                 "{\"token_lifetime_s\": 30, \"rotate_refresh_token\": true,"
                 " \"rate_limit_at\": [3], \"rate_limit_retry_after_s\": 1}",
                 false, false);
    s_login (&e);
    char *rt0 = s_redis_refresh_token (e.store);
    cr_assert_not_null (rt0);
    sp_msg_t reply;
    long long t0 = sp_test_now_ms ();
    ta_submit (e.an, e.store, PL_ID, NULL, NULL, &reply);
    long long took = sp_test_now_ms () - t0;
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_eq (reply.total, 120);
    sp_msg_clear (&reply);
    //  the 429 was honoured: one sent, Retry-After (1 s) waited, no page lost
    json_t *stats = sp_test_fake_stats (e.port);
    cr_assert_not_null (stats);
    json_t *sp = json_object_get (stats, "spotify");
    cr_expect_eq (json_integer_value (json_object_get (sp ? sp : stats, "rate_limited")), 1,
                  "the fake sent no 429 (or more than one)");
    json_decref (stats);
    cr_expect_geq (took, 900, "the submit took %lld ms: Retry-After 1 s not waited", took);
    char *rt1 = s_redis_refresh_token (e.store);
    cr_assert_not_null (rt1);
    cr_expect_str_neq (rt0, rt1, "the rotated refresh token was not stored");
    //  the old refresh token is dead at the fake; a second submit must use the new one
    ta_submit (e.an, e.store, "liked", NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    sp_msg_clear (&reply);
    char *rt2 = s_redis_refresh_token (e.store);
    cr_expect_str_neq (rt1, rt2);
    free (rt0);
    free (rt1);
    free (rt2);
    s_env_stop (&e);
}

Test (analyzer_spotify, plex_library_skips_with_reason)
{
    s_env_t e;
    s_env_start (&e, NULL, true, false);
    s_login (&e);
    sp_msg_t reply;
    ta_submit (e.an, e.store, PL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect (reply.library_checked);
    cr_expect_null (reply.library_note);
    cr_expect_eq (reply.total, 120);
    cr_expect_eq (reply.skipped, 6);
    cr_expect_eq (reply.queued, 114);
    ta_tracks_t t;
    ta_tracks (e.store, reply.job, &t);
    cr_expect_str_eq (t.state[0], "skipped");
    cr_expect_str_eq (t.reason[0],
                      "in library: Band - Song Number 0 (/music/Band/00.flac), confidence 1.00");
    cr_expect_str_eq (t.path[0], "/music/Band/00.flac");
    cr_expect_str_eq (t.state[1], "skipped");
    cr_expect_str_eq (t.state[2], "queued");
    ta_tracks_free (&t);
    sp_msg_clear (&reply);

    //  a song delivered by an earlier run whose file still exists is skipped
    char file[1024];
    snprintf (file, sizeof file, "%s/delivered.flac", e.dir);
    ta_write (e.dir, "delivered.flac", "x");
    cr_assert_eq (sp_songs_put (e.store, "trk0000000000000000002", file, "j-old", "j-old:2"),
                  SP_STORE_OK);
    ta_submit (e.an, e.store, PL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_eq (reply.skipped, 7);
    ta_tracks (e.store, reply.job, &t);
    char want[1200];
    snprintf (want, sizeof want, "already downloaded by job j-old (%s)", file);
    cr_expect_str_eq (t.reason[2], want);
    ta_tracks_free (&t);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}

Test (analyzer_spotify, rate_limit_beyond_cap_says_when_to_retry)
{
    s_env_t e;
    //  the 3rd Web API request asks for 10 minutes: more than the analyzer
    //  sleeps (2 min), so the submit fails at once and says how long
    s_env_start (&e, "{\"rate_limit_at\": [3], \"rate_limit_retry_after_s\": 600}", false, false);
    s_login (&e);
    sp_msg_t reply;
    long long t0 = sp_test_now_ms ();
    ta_submit (e.an, e.store, PL_ID, NULL, NULL, &reply);
    long long took = sp_test_now_ms () - t0;
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "spotify_rate_limited", "%s", reply.message);
    cr_expect (strstr (reply.message, "600 s") != NULL, "%s", reply.message);
    cr_expect_lt (took, 5000, "%lld ms", took);
    sp_msg_clear (&reply);
    //  nothing half-made: no job exists
    const char *argv[] = {"KEYS", "soulpipe:job:*"};
    size_t lens[] = {4, strlen (argv[1])};
    redisReply *r = NULL;
    cr_assert_eq (sp_store_command (e.store, 2, argv, lens, &r), SP_STORE_OK);
    cr_expect_eq (r->elements, 0);
    freeReplyObject (r);
    s_env_stop (&e);
}

Test (analyzer_spotify, client_credentials_album_without_login)
{
    s_env_t e;
    const char *extra[] = {"SPOTIFY_CLIENT_SECRET", "csec", NULL};
    s_env_start_with (&e, NULL, false, false, extra);
    sp_msg_t reply;
    //  albums are readable with an app token
    ta_submit (e.an, e.store, "https://open.spotify.com/album/" AL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_eq (reply.total, 4);
    cr_expect_eq (reply.queued, 4);
    sp_msg_clear (&reply);
    //  a Development Mode playlist's items are not: the error says to log in
    ta_submit (e.an, e.store, "spotify:playlist:" PL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "spotify_login_required", "%s", reply.message);
    cr_expect (strstr (reply.message, "soulpipe login spotify") != NULL, "%s", reply.message);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}

Test (analyzer_spotify, plex_bad_token_queues_everything_and_says_why)
{
    s_env_t e;
    const char *extra[] = {"PLEX_TOKEN", "not-the-token", NULL};
    s_env_start_with (&e, NULL, true, false, extra);
    s_login (&e);
    sp_msg_t reply;
    ta_submit (e.an, e.store, PL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect (!reply.library_checked);
    cr_expect_eq (reply.skipped, 4);
    cr_expect_eq (reply.queued, 116);
    cr_assert_not_null (reply.library_note);
    cr_expect (strstr (reply.library_note, "check PLEX_TOKEN") != NULL, "%s", reply.library_note);
    sp_store_job_t *job = NULL;
    cr_assert_eq (sp_store_job_get (e.store, reply.job, &job), SP_STORE_OK);
    cr_expect (!job->library_checked);
    cr_expect_str_eq (job->library_note, reply.library_note);
    sp_store_job_destroy (&job);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}

Test (analyzer_spotify, plex_paged_library_every_music_section)
{
    s_env_t e;
    s_env_start (&e, NULL, true, false);
    //  replace the small library: two music sections of 2,500 and 2,000
    //  tracks (more than one 2,000-track page each) and a TV section; the
    //  playlist's "Song Number 0" is on the 2nd page of section 1, "Song
    //  Number 1" the last track of section 2, "Song Number 2" only in the TV
    //  section (not music: must not count)
    ta_fake_stop (&ta_t, e.fake);
    s_dump (e.fixtures, "plex/sections.json",
            json_pack ("[{s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}]", "key", "1", "type",
                       "artist", "title", "Music", "key", "2", "type", "artist", "title",
                       "Vinyl rips", "key", "3", "type", "show", "title", "TV"));
    json_t *tracks = json_array ();
    for (int i = 0; i < 4501; i++) {
        char title[64], file[96];
        const char *sec = i < 2500 ? "1" : i < 4500 ? "2" : "3";
        int dur = 300000;
        if (i == 2400 || i == 4499 || i == 4500) {
            snprintf (title, sizeof title, "Song Number %d", i == 2400 ? 0 : i == 4499 ? 1 : 2);
            dur = i == 2400 ? 200000 : i == 4499 ? 201000 : 202000;
        } else
            snprintf (title, sizeof title, "Filler %d", i);
        snprintf (file, sizeof file, "/music/%s/%05d.flac", sec, i);
        json_array_append_new (tracks, json_pack ("{s:s, s:s, s:s, s:s, s:i, s:[{s:[{s:s}]}]}",
                                                  "title", title, "grandparentTitle", "Band",
                                                  "librarySectionID", sec, "parentTitle", "Album",
                                                  "duration", dur, "Media", "Part", "file", file));
    }
    s_dump (e.fixtures, "plex/tracks.json", tracks);
    e.fake = ta_fake_start (&ta_t, e.fixtures, e.downloads, &e.port);
    //  the analyzer was configured with the old port: make a new one
    snprintf (e.url, sizeof e.url, "http://127.0.0.1:%d", e.port);
    sp_analyzer_destroy (&e.an);
    sp_config_destroy (&e.cfg);
    const char *vars[] = {"SPOTIFY_CLIENT_ID",
                          "cid",
                          "SPOTIFY_ACCOUNTS_URL",
                          e.url,
                          "SPOTIFY_API_URL",
                          e.url,
                          "PLEX_URL",
                          e.url,
                          "PLEX_TOKEN",
                          "plextoken",
                          "SOULPIPE_LIBRARY_CACHE_S",
                          "0",
                          NULL};
    ta_config (&e.cfg, vars);
    e.an = sp_analyzer_new (&e.cfg, NULL, NULL, 0);
    cr_assert_not_null (e.an);
    s_login (&e);
    sp_msg_t reply;
    ta_submit (e.an, e.store, PL_ID, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect (reply.library_checked, "%s", reply.library_note ? reply.library_note : "");
    cr_expect_eq (reply.skipped, 6);
    ta_tracks_t t;
    ta_tracks (e.store, reply.job, &t);
    cr_expect_str_eq (t.state[0], "skipped");
    cr_expect_str_eq (t.path[0], "/music/1/02400.flac", "%s", t.reason[0]);
    cr_expect_str_eq (t.state[1], "skipped");
    cr_expect_str_eq (t.path[1], "/music/2/04499.flac", "%s", t.reason[1]);
    cr_expect_str_eq (t.state[2], "queued", "%s", t.reason[2]);
    ta_tracks_free (&t);
    sp_msg_clear (&reply);
    s_env_stop (&e);
}
