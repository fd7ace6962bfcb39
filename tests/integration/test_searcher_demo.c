/*  test_searcher_demo.c: the searcher (real soulpipe-searcher processes,
    the analyzer as broker, Redis) against soulpipe-fake's slskd on the demo
    fixture (tests/fixtures/demo). Every playlist track that is not in the
    library is queued for search, the way the analyzer queues it; when all
    have left the search stage each track's download payload is checked
    against EXPECTED.md (encoded below):

    - the first candidate is a good copy, or the right recording from a peer
      the searcher cannot know misbehaves (stall, error, offline, ...: the
      downloader falls back from those);
    - the first candidate from a well-behaved peer is a good copy, so the
      fallback lands on a right file;
    - no wrong version or low-quality file (live, remix, karaoke, cover,
      128 kbps, other song, ...) is among the candidates at all;
    - the average number of searches per track is printed
      (`searches_per_track <avg>`) and must stay under 1.5. */
#include "harness.h"
#include "test_fake_util.h"

#include "soulpipe/match.h"
#include "soulpipe/msg.h"

#include <criterion/criterion.h>
#include <hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEARCHED           32
#define PLAYLIST               "tests/fixtures/demo/spotify/playlists/3cEYpjA9oz9GiPac4AsH4n.json"
#define SEARCHES_PER_TRACK_MAX 1.5

typedef struct {
    int pos;                  //  1-based playlist position (EXPECTED.md)
    const char *what;         //  its heading
    const char *good[4];      //  "user|remote path": right file, working peer
    const char *bad_peer[4];  //  right file, misbehaving peer
    const char *wrong[8];     //  must never be a candidate
} s_expect_t;

//  Generated from tests/fixtures/demo/EXPECTED.md (sections not skipped).
static const s_expect_t s_expect[] = {
    {2,
     "Fleetwood Mac - Go Your Own Way - 2004 Remaster (224 s)",
     {"vinylvault|@@vvlt\\Music\\Fleetwood Mac\\1977 - Rumours [FLAC]\\05 - Go Your Own Way.flac",
      "lossless_lara|@@lara\\Fleetwood Mac - Rumours (1977)\\05. Go Your Own Way.flac", NULL},
     {"stall_steve|@@stev\\Music\\Fleetwood Mac\\1977 - Rumours (2004 Remaster) [FLAC]\\05 - Go "
      "Your Own Way.flac",
      NULL},
     {"karaoke_kings|@@kara\\Karaoke\\Fleetwood Mac - Go Your Own Way (Karaoke Version).mp3",
      NULL}},
    {4,
     "Sigur Rós - Hoppípolla (268 s)",
     {"hires_hannah|@@hhan\\Hi-Res\\Sigur Rós\\2005 - Takk... [24-96 FLAC]\\03 - Hoppípolla.flac",
      "nordic_sounds|@@nord\\Music\\Sigur Ros\\2005 - Takk\\03 - Hoppipolla.flac", NULL},
     {"bitrot_bob|@@brot\\Hi-Res\\Sigur Rós\\2005 - Takk... [24-96]\\03 - Hoppípolla.flac", NULL},
     {"lofi_larry|@@lofi\\mp3\\Sigur Ros - Hoppipolla.mp3", NULL}},
    {6,
     "Daft Punk, Pharrell Williams, Nile Rodgers - Get Lucky (feat. Pharrell Williams and Nile "
     "Rodgers) - Radio Edit (248 s)",
     {"mp3master320|@@m320\\MP3\\Daft Punk - Get Lucky (Radio Edit) (2013)\\01. Get Lucky (Radio "
      "Edit) [feat. Pharrell Williams & Nile Rodgers].mp3",
      "v0_victor|@@vict\\Singles\\Daft Punk feat. Pharrell Williams - Get Lucky (Radio Edit).mp3",
      NULL},
     {"glitch_gary|@@gary\\Music\\Daft Punk\\Get Lucky (Radio Edit) [FLAC]\\01 - Get Lucky (Radio "
      "Edit).flac",
      NULL},
     {"vinylvault|@@vvlt\\Music\\Daft Punk\\2013 - Random Access Memories [FLAC]\\08 - Get "
      "Lucky.flac",
      "remix_ronny|@@ronn\\Remixes\\Daft Punk - Get Lucky (Daft Punk Remix).mp3", NULL}},
    {7,
     "坂本九 - 上を向いて歩こう (185 s)",
     {"tokyo_crate|@@tkyo\\音楽\\坂本九\\坂本九 ベスト・セレクション\\01 上を向いて歩こう.flac",
      "roadie_rick|@@rick\\Music\\Kyu Sakamoto - 上を向いて歩こう (Sukiyaki).mp3",
      "v0_victor|@@vict\\World\\坂本九 - 上を向いて歩こう.mp3", NULL},
     {NULL},
     {"cover_band_carla|@@carl\\Covers\\A Taste of Honey - Sukiyaki.mp3", NULL}},
    {8,
     "Кино - Группа крови (288 s)",
     {"kino_fan_1988|@@kino\\Музыка\\Кино\\1988 - Группа крови\\01 - Группа крови.flac",
      "v0_victor|@@vict\\Russian\\Kino - Gruppa Krovi (1988)\\01. Кино - Группа крови.mp3", NULL},
     {NULL},
     {"live_lover|@@live\\Live\\Кино - Группа крови (Live, Лужники 1990).mp3", NULL}},
    {9,
     "Eagles - Hotel California - 2013 Remaster (391 s)",
     {"lossless_lara|@@lara\\Eagles - Hotel California (1976)\\01. Hotel California.flac",
      "vinylvault|@@vvlt\\Music\\Eagles\\1976 - Hotel California [FLAC]\\01 - Hotel "
      "California.flac",
      NULL},
     {"nope_nora|@@nora\\Music\\Eagles\\1976 - Hotel California (2013 Remaster) [FLAC]\\01 - Hotel "
      "California.flac",
      NULL},
     {"live_lover|@@live\\Live\\Eagles - Hell Freezes Over (1994)\\06. Hotel California "
      "(Live).flac",
      "cover_band_carla|@@carl\\Covers\\Gipsy Kings - Hotel California (Spanish Mix).mp3", NULL}},
    {11,
     "TOTO - Africa (296 s)",
     {"roadie_rick|@@rick\\Music\\Toto - Africa.mp3",
      "vinylvault|@@vvlt\\Music\\Toto\\1982 - Toto IV [FLAC]\\10 - Africa.flac", NULL},
     {NULL},
     {"cover_band_carla|@@carl\\Covers\\Weezer - Africa.mp3",
      "karaoke_kings|@@kara\\Karaoke\\Toto - Africa (Instrumental).mp3", NULL}},
    {14,
     "The Killers - Mr. Brightside (223 s)",
     {"mp3master320|@@m320\\MP3\\The Killers - Hot Fuss (2004)\\02. Mr. Brightside.mp3",
      "hires_hannah|@@hhan\\Hi-Res\\The Killers\\2004 - Hot Fuss [24-96 FLAC]\\02 - Mr. "
      "Brightside.flac",
      NULL},
     {NULL},
     {"remix_ronny|@@ronn\\Remixes\\The Killers - Mr. Brightside (Jacques Lu Cont's Thin White "
      "Duke Mix).mp3",
      "nightcore_nina|@@nina\\Sped Up\\The Killers - Mr. Brightside (Sped Up).mp3", NULL}},
    {15,
     "Tom Petty - Free Fallin' (256 s)",
     {"roadie_rick|@@rick\\Music\\Tom Petty - Full Moon Fever (1989)\\01. Free Fallin'.mp3",
      "lossless_lara|@@lara\\Tom Petty - Full Moon Fever (1989)\\01. Free Fallin'.flac", NULL},
     {"queue_quentin|@@quen\\Music\\Tom Petty\\1989 - Full Moon Fever [FLAC]\\01 - Free "
      "Fallin'.flac",
      NULL},
     {"cover_band_carla|@@carl\\Covers\\John Mayer - Free Fallin' (Live at the Nokia Theatre).mp3",
      NULL}},
    {17,
     "Eagles - Take It Easy - 2013 Remaster (211 s)",
     {"vinylvault|@@vvlt\\Music\\Eagles\\1972 - Eagles [FLAC]\\01 - Take It Easy.flac",
      "v0_victor|@@vict\\Rock\\Eagles - Eagles (1972)\\01. Take It Easy.mp3", NULL},
     {NULL},
     {"vinylvault|@@vvlt\\Music\\Eagles\\1975 - One of These Nights [FLAC]\\07 - Take It to the "
      "Limit.flac",
      NULL}},
    {18,
     "Dua Lipa, DaBaby - Levitating (feat. DaBaby) (203 s)",
     {"v0_victor|@@vict\\Pop\\Dua Lipa - Levitating (feat. DaBaby) (2020)\\01. Levitating (feat. "
      "DaBaby).mp3",
      "mp3master320|@@m320\\MP3\\Dua Lipa feat. DaBaby - Levitating.mp3", NULL},
     {"ghost_gus|@@gust\\Music\\Dua Lipa\\Levitating (feat. DaBaby) [FLAC]\\01 - Levitating (feat. "
      "DaBaby).flac",
      NULL},
     {"remix_ronny|@@ronn\\Remixes\\Dua Lipa - Levitating (The Blessed Madonna Remix).mp3",
      "lofi_larry|@@lofi\\mp3\\Dua Lipa - Levitating.mp3", NULL}},
    {19,
     "The Weeknd - Blinding Lights (200 s)",
     {"hires_hannah|@@hhan\\Hi-Res\\The Weeknd\\2019 - Blinding Lights [FLAC]\\01 - Blinding "
      "Lights.flac",
      "busy_betty|@@bett\\Pop\\The Weeknd - Blinding Lights.m4a", NULL},
     {NULL},
     {"nightcore_nina|@@nina\\Sped Up\\The Weeknd - Blinding Lights (Sped Up).mp3",
      "remix_ronny|@@ronn\\Remixes\\The Weeknd - Blinding Lights (Chromatics Remix).mp3",
      "karaoke_kings|@@kara\\Karaoke\\The Weeknd - Blinding Lights (Karaoke Version).mp3",
      "cover_band_carla|@@carl\\Covers\\Blinding Lights - Tribute to The Weeknd.mp3",
      "live_lover|@@live\\Live\\The Weeknd - Blinding Lights (Live at SoFi Stadium).flac", NULL}},
    {21,
     "Bon Jovi - Livin' On A Prayer (249 s)",
     {"slowpoke_sam|@@slow\\Music\\Bon Jovi - Slippery When Wet (1986)\\03. Livin' On A "
      "Prayer.flac",
      "roadie_rick|@@rick\\Music\\Bon Jovi - Livin' On A Prayer.mp3", NULL},
     {NULL},
     {"lofi_larry|@@lofi\\mp3\\Bon Jovi - Livin on a Prayer.mp3", NULL}},
    {22,
     "Whitney Houston - I Wanna Dance with Somebody (Who Loves Me) (291 s)",
     {"vinylvault|@@vvlt\\Music\\Whitney Houston\\1987 - Whitney [FLAC]\\01 - I Wanna Dance With "
      "Somebody (Who Loves Me).flac",
      "mp3master320|@@m320\\MP3\\Whitney Houston - Whitney (1987)\\01. I Wanna Dance with "
      "Somebody.mp3",
      NULL},
     {NULL},
     {"karaoke_kings|@@kara\\Karaoke\\Whitney Houston - I Wanna Dance With Somebody (Karaoke "
      "Version).mp3",
      NULL}},
    {23,
     "Lynyrd Skynyrd - Free Bird - Live (864 s)",
     {"vinylvault|@@vvlt\\Music\\Lynyrd Skynyrd\\1976 - One More From The Road (Deluxe Edition) "
      "[FLAC]\\CD2\\11 - Free Bird (Live).flac",
      "live_lover|@@live\\Live\\Lynyrd Skynyrd - One More From The Road (1976)\\CD2\\11. Free Bird "
      "(Live At The Fox Theatre).flac",
      NULL},
     {NULL},
     {"lossless_lara|@@lara\\Lynyrd Skynyrd - Pronounced Leh-nerd Skin-nerd (1973)\\08. Free "
      "Bird.flac",
      NULL}},
    {24,
     "Steppenwolf - Born To Be Wild (210 s)",
     {"vinylvault|@@vvlt\\Music\\VA\\1969 - Easy Rider (Original Soundtrack) [FLAC]\\02 - "
      "Steppenwolf - Born To Be Wild.flac",
      "roadie_rick|@@rick\\Music\\Steppenwolf - Born To Be Wild.mp3", NULL},
     {NULL},
     {"cover_band_carla|@@carl\\Covers\\Blue Oyster Cult - Born To Be Wild.mp3", NULL}},
    {26,
     "Creedence Clearwater Revival - Fortunate Son (141 s)",
     {NULL},
     {"ghost_gus|@@gust\\Music\\Creedence Clearwater Revival\\1969 - Willy And The Poor Boys "
      "[FLAC]\\03 - Fortunate Son.flac",
      NULL},
     {"live_lover|@@live\\Live\\Creedence Clearwater Revival - Fortunate Son (Live at "
      "Woodstock).flac",
      "karaoke_kings|@@kara\\Karaoke\\Creedence Clearwater Revival - Fortunate Son (Karaoke "
      "Version).mp3",
      "cover_band_carla|@@carl\\Covers\\Fortunate Son - A Tribute to Creedence Clearwater "
      "Revival.mp3",
      "lofi_larry|@@lofi\\mp3\\CCR - Fortunate Son.mp3", NULL}},
    {27,
     "ROSALÍA - DESPECHÁ (157 s)",
     {NULL},
     {"queue_quentin|@@quen\\Music\\ROSALÍA\\DESPECHÁ [FLAC]\\01 - DESPECHÁ.flac", NULL},
     {"nightcore_nina|@@nina\\Sped Up\\ROSALÍA - DESPECHÁ (Sped Up).mp3",
      "lofi_larry|@@lofi\\mp3\\Rosalia - Despecha.mp3",
      "lofi_larry|@@lofi\\mp3\\ROSALIA - DESPECHA (rip).mp3",
      "karaoke_kings|@@kara\\Karaoke\\ROSALÍA - DESPECHÁ (Instrumental).mp3", NULL}},
    {28,
     "Björk - Jóga (305 s)",
     {"nordic_sounds|@@nord\\Music\\Björk\\1997 - Homogenic\\02 - Jóga.flac",
      "hires_hannah|@@hhan\\Hi-Res\\Björk\\1997 - Homogenic [24-96 FLAC]\\02 - Jóga.flac",
      "busy_betty|@@bett\\Music\\Bjork - Joga.ogg", NULL},
     {"glitch_gary|@@gary\\Music\\Björk\\1997 - Homogenic [FLAC]\\02 - Jóga.flac", NULL},
     {"remix_ronny|@@ronn\\Remixes\\Björk - Jóga (Alec Empire Remix).mp3", NULL}},

};
#define N_EXPECT (sizeof s_expect / sizeof s_expect[0])

static sp_test_t s_t;
static fk_t s_fk;
static char s_job[SP_STORE_ID_MAX];

static void
s_teardown (void)
{
    sp_test_fini (&s_t);
    fk_stop (&s_fk);
}

static const char *
s_src_dir (void)
{
    const char *d = getenv ("SOULPIPE_SRC_DIR");
    return d && *d ? d : ".";
}

static char *
s_read_file (const char *path)
{
    FILE *f = fopen (path, "rb");
    cr_assert_not_null (f, "cannot open %s", path);
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim (&buf, &cap, '\0', f);
    fclose (f);
    cr_assert_gt (n, 0, "%s is empty", path);
    size_t len = strcspn (buf, "\r\n");
    buf[len] = 0;
    return buf;
}

//  Queue one search task per expected track, with the search payload the
//  analyzer would build from the Spotify track object.
static void
s_make_job (void)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/" PLAYLIST, s_src_dir ());
    json_error_t e;
    json_t *pl = json_load_file (path, 0, &e);
    cr_assert_not_null (pl, "%s: %s", path, e.text);
    json_t *items = json_object_get (json_object_get (pl, "tracks"), "items");
    cr_assert (json_is_array (items));
    sp_store_track_spec_t specs[MAX_SEARCHED];
    uint8_t *data[MAX_SEARCHED] = {0};
    sp_track_t tracks[MAX_SEARCHED];
    memset (specs, 0, sizeof specs);
    memset (tracks, 0, sizeof tracks);
    for (size_t i = 0; i < N_EXPECT; i++) {
        json_t *obj =
            json_object_get (json_array_get (items, (size_t) s_expect[i].pos - 1), "track");
        cr_assert_eq (sp_match_track_from_spotify (obj, &tracks[i]), 0, "track %d",
                      s_expect[i].pos);
        sp_payload_t p;
        memset (&p, 0, sizeof p);
        static char empty[] = "";
        p.job = empty;
        p.track_key = empty;
        p.track = tracks[i];
        size_t size = 0;
        char why[256];
        cr_assert_eq (sp_payload_encode (&p, &data[i], &size, why, sizeof why), SP_MSG_OK, "%s",
                      why);
        specs[i].spotify_id = tracks[i].spotify_id;
        specs[i].title = tracks[i].title;
        specs[i].artists = tracks[i].artists[0];
        specs[i].payload = data[i];
        specs[i].payload_len = size;
    }
    sp_store_job_spec_t spec = {.source = "spotify:playlist:3cEYpjA9oz9GiPac4AsH4n",
                                .name = "Road Trip Classics"};
    cr_assert_eq (sp_store_job_create (s_t.store, &spec, specs, N_EXPECT, s_job), SP_STORE_OK);
    for (size_t i = 0; i < N_EXPECT; i++) {
        free (data[i]);
        sp_track_clear (&tracks[i]);
    }
    json_decref (pl);
}

static char *
s_track_field (size_t i, const char *field, size_t *len)
{
    char key[256];
    snprintf (key, sizeof key, "soulpipe:track:%s:%zu", s_job, i);
    const char *argv[] = {"HGET", key, field};
    redisReply *r = NULL;
    if (sp_store_command (s_t.store, 3, argv, NULL, &r) != SP_STORE_OK)
        return NULL;
    char *v = NULL;
    if (r->type == REDIS_REPLY_STRING) {
        v = malloc (r->len + 1);
        memcpy (v, r->str, r->len);
        v[r->len] = 0;
        if (len)
            *len = r->len;
    }
    freeReplyObject (r);
    return v;
}

//  True when every track has left the search stage (queued for download,
//  or failed).
static bool
s_all_searched (void *arg)
{
    (void) arg;
    for (size_t i = 0; i < N_EXPECT; i++) {
        char *stage = s_track_field (i, "stage", NULL);
        char *state = s_track_field (i, "state", NULL);
        bool ok =
            state && (strcmp (state, "failed") == 0 ||
                      (stage && strcmp (stage, "download") == 0 && strcmp (state, "queued") == 0));
        free (stage);
        free (state);
        if (!ok)
            return false;
    }
    return true;
}

static bool
s_in (const char *const *list, const char *user, const char *file)
{
    char key[1024];
    snprintf (key, sizeof key, "%s|%s", user, file);
    for (size_t i = 0; list[i]; i++)
        if (strcmp (list[i], key) == 0)
            return true;
    return false;
}

//  The demo's fake-FLAC peer: its file looks like any good FLAC until it is
//  decoded, so the searcher may rank it first; the downloader's audio check
//  rejects it (test_e2e_demo). Counted like a peer that fails at transfer.
#define FAKE_FLAC_PEER "fakeflac_fred"

static bool
s_bad_user (const s_expect_t *x, const char *user)
{
    if (strcmp (user, FAKE_FLAC_PEER) == 0)
        return true;
    size_t ul = strlen (user);
    for (size_t i = 0; x->bad_peer[i]; i++)
        if (strncmp (x->bad_peer[i], user, ul) == 0 && x->bad_peer[i][ul] == '|')
            return true;
    return false;
}

Test (searcher_demo, right_copy_first_few_searches, .fini = s_teardown, .timeout = 240)
{
    sp_test_init (&s_t, false);
    fk_init (&s_fk);
    snprintf (s_fk.fixtures, sizeof s_fk.fixtures, "%s/tests/fixtures/demo", s_src_dir ());
    cr_assert_eq (fk_start (&s_fk, NULL), 0, "the fake did not start");
    char key_path[600];
    snprintf (key_path, sizeof key_path, "%s/slskd/api-key", s_fk.fixtures);
    char *api_key = s_read_file (key_path);
    sp_test_setenv (&s_t, "SLSKD_URL", s_fk.base);
    sp_test_setenv (&s_t, "SLSKD_API_KEY", api_key);
    free (api_key);
    //  as `make demo`: the fake answers in ~2 s and cannot ban anyone
    sp_test_setenv (&s_t, "SOULPIPE_SEARCH_BUDGET", "120/60");
    sp_test_setenv (&s_t, "SOULPIPE_SEARCH_TIMEOUT_MS", "1500");
    s_make_job ();
    sp_test_start_analyzer (&s_t);
    const char *argv[] = {sp_test_bin ("soulpipe-searcher"), NULL};
    sp_test_spawn (&s_t, "searcher-a", argv);
    sp_test_spawn (&s_t, "searcher-b", argv);
    bool done = sp_test_wait (s_all_searched, NULL, 180000);
    if (!done)
        sp_test_dump_logs (&s_t);
    cr_assert (done, "every track left the search stage");

    uint64_t searches = 0;
    int problems = 0;
    for (size_t i = 0; i < N_EXPECT; i++) {
        const s_expect_t *x = &s_expect[i];
        char *state = s_track_field (i, "state", NULL);
        if (strcmp (state, "failed") == 0) {
            char *reason = s_track_field (i, "reason", NULL);
            fprintf (stderr, "searcher_demo: #%d %s: FAILED: %s\n", x->pos, x->what, reason);
            free (reason);
            free (state);
            problems++;
            continue;
        }
        free (state);
        size_t len = 0;
        char *raw = s_track_field (i, "payload", &len);
        cr_assert_not_null (raw);
        sp_payload_t *p = NULL;
        char reason[256];
        cr_assert_eq (sp_payload_decode ((const uint8_t *) raw, len, &p, reason, sizeof reason),
                      SP_MSG_OK, "%s", reason);
        free (raw);
        cr_assert (p->has_searches_used, "#%d: searches_used recorded", x->pos);
        searches += p->searches_used;
        cr_assert_gt (p->candidates_count, 0, "#%d: candidates", x->pos);
        const sp_candidate_t *top = &p->candidates[0];
        fprintf (
            stderr,
            "searcher_demo: #%d %s: searches %llu, query \"%s\", first %s %s (%zu candidates)\n",
            x->pos, x->what, (unsigned long long) p->searches_used, p->query ? p->query : "",
            top->username, top->filename, p->candidates_count);
        bool first_ok = s_in (x->good, top->username, top->filename) ||
                        s_in (x->bad_peer, top->username, top->filename) ||
                        strcmp (top->username, FAKE_FLAC_PEER) == 0;
        if (!first_ok) {
            fprintf (stderr, "searcher_demo: #%d: first candidate is not an acceptable file\n",
                     x->pos);
            problems++;
        }
        //  the first candidate from a well-behaved peer is a good copy
        bool seen_working = false;
        for (size_t k = 0; k < p->candidates_count; k++) {
            const sp_candidate_t *c = &p->candidates[k];
            if (s_in (x->wrong, c->username, c->filename)) {
                fprintf (stderr,
                         "searcher_demo: #%d: wrong file among the candidates (rank %zu): %s %s\n",
                         x->pos, k + 1, c->username, c->filename);
                problems++;
            }
            if (!seen_working && !s_bad_user (x, c->username)) {
                seen_working = true;
                if (x->good[0] && !s_in (x->good, c->username, c->filename)) {
                    fprintf (stderr,
                             "searcher_demo: #%d: first working-peer candidate is not a good copy: "
                             "%s %s\n",
                             x->pos, c->username, c->filename);
                    problems++;
                }
            }
        }
        if (x->good[0] && !seen_working) {
            fprintf (stderr, "searcher_demo: #%d: no candidate from a working peer\n", x->pos);
            problems++;
        }
        sp_payload_destroy (&p);
    }
    double avg = (double) searches / (double) N_EXPECT;
    printf ("searches_per_track %.2f\n", avg);
    fprintf (stderr, "searcher_demo: searches_per_track %.2f (%llu searches, %zu tracks)\n", avg,
             (unsigned long long) searches, N_EXPECT);
    json_t *st = fk_stats (&s_fk);
    long long started = (long long) json_integer_value (
        json_object_get (json_object_get (st, "slskd"), "searches_started"));
    json_decref (st);
    cr_assert_eq (problems, 0, "%d problem(s), see above", problems);
    cr_assert_eq ((long long) searches, started, "searches_used adds up to the searches slskd saw");
    cr_assert_lt (avg, SEARCHES_PER_TRACK_MAX, "searches per track %.2f", avg);
}
