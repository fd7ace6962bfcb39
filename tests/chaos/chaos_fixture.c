/*  chaos_fixture.c: writes the chaos test's fixture (see chaos_fixture.h):
    a Spotify playlist of n tracks (60 artists with 5-track albums, every
    name made of invented words so that no search matches another track), a
    Plex library holding every fifth track, and a mixed Soulseek network. */
#include "chaos_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CHAOS_PLAYLIST_ID "5cHa0sTestPlaylist0001x"
#define CHAOS_USER        "chaosuser"

static const char *s_syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "du",
                              "fa", "gi", "ho", "ja", "pe", "qu", "ro", "su", "wi", "ya"};
#define N_SYL (sizeof s_syl / sizeof s_syl[0])

//  A word unique to (salt, n): three syllables from n, a tail from salt.
static void
s_word (char *out, size_t size, int n, const char *tail)
{
    snprintf (out, size, "%s%s%s%s", s_syl[n % N_SYL], s_syl[(n / N_SYL) % N_SYL],
              s_syl[(n / (N_SYL * N_SYL)) % N_SYL], tail);
    out[0] = (char) (out[0] - 'a' + 'A');
}

void
sp_chaos_track (int n, sp_chaos_track_t *tr)
{
    char w1[32], w2[32];
    int a = n / 5;
    s_word (w1, sizeof w1, a, "rin");
    s_word (w2, sizeof w2, a + 7, "dor");
    snprintf (tr->artist, sizeof tr->artist, "%s %s", w1, w2);
    s_word (w1, sizeof w1, a + 3, "lune");
    snprintf (tr->album, sizeof tr->album, "%s Sessions", w1);
    s_word (w1, sizeof w1, n, "vex");
    s_word (w2, sizeof w2, n + 101, "tam");
    snprintf (tr->title, sizeof tr->title, "%s %s", w1, w2);
    tr->track_number = n % 5 + 1;
    tr->duration_s = 150 + (n * 7) % 90;
    tr->in_library = n % 5 == 0;
    if (tr->in_library)
        tr->kind = SP_CHAOS_LIBRARY;
    else if (n % 50 == 49)
        tr->kind = SP_CHAOS_NOWHERE;
    else if (n % 25 == 23)
        tr->kind = SP_CHAOS_BAD_ONLY;
    else
        tr->kind = SP_CHAOS_GOOD;
    snprintf (tr->id, sizeof tr->id, "cht%019d", n);
    snprintf (tr->album_id, sizeof tr->album_id, "cha%019d", a);
}

static json_t *
s_artist (const char *name, int a)
{
    char id[32];
    snprintf (id, sizeof id, "chr%019d", a);
    return json_pack ("{s:s s:s s:s}", "id", id, "name", name, "type", "artist");
}

static json_t *
s_spotify_track (int n, const sp_chaos_track_t *tr)
{
    char isrc[16];
    snprintf (isrc, sizeof isrc, "XXCHA%07d", n);
    json_t *album =
        json_pack ("{s:s s:s s:s s:s s:s s:i s:[] s:[o]}", "id", tr->album_id, "name", tr->album,
                   "album_type", "album", "release_date", "2020-05-01", "release_date_precision",
                   "day", "total_tracks", 5, "images", "artists", s_artist (tr->artist, n / 5));
    json_t *track = json_pack ("{s:s s:s s:[o] s:o s:i s:i s:i s:b s:{s:s} s:b s:s}", "id", tr->id,
                               "name", tr->title, "artists", s_artist (tr->artist, n / 5), "album",
                               album, "duration_ms", tr->duration_s * 1000 + 400, "track_number",
                               tr->track_number, "disc_number", 1, "explicit", 0, "external_ids",
                               "isrc", isrc, "is_local", 0, "type", "track");
    return json_pack ("{s:s s:b s:o}", "added_at", "2026-01-01T00:00:00Z", "is_local", 0, "track",
                      track);
}

static json_t *
s_plex_track (int n, const sp_chaos_track_t *tr)
{
    char key[16], file[512];
    snprintf (key, sizeof key, "%d", 20000 + n);
    snprintf (file, sizeof file, "/music/%s/%s/%02d - %s.flac", tr->artist, tr->album,
              tr->track_number, tr->title);
    return json_pack ("{s:s s:s s:s s:s s:s s:i s:i s:i s:[{s:i s:[{s:s s:i}]}]}", "ratingKey", key,
                      "type", "track", "title", tr->title, "grandparentTitle", tr->artist,
                      "parentTitle", tr->album, "index", tr->track_number, "parentIndex", 1,
                      "duration", tr->duration_s * 1000 + 400, "Media", "duration",
                      tr->duration_s * 1000 + 400, "Part", "file", file, "duration",
                      tr->duration_s * 1000 + 400);
}

static void
s_add_file (json_t *user, const char *share, const sp_chaos_track_t *tr)
{
    char name[600];
    snprintf (name, sizeof name, "@@%s\\Music\\%s\\2020 - %s\\%02d - %s.flac", share, tr->artist,
              tr->album, tr->track_number, tr->title);
    json_array_append_new (json_object_get (user, "files"),
                           json_pack ("{s:s s:i s:i s:i s:i s:s}", "filename", name, "size", 0,
                                      "bitDepth", 16, "sampleRate", 44100, "length", tr->duration_s,
                                      "extension", "flac"));
}

/*  The network: three good peers; bad peers that rank above them (faster,
    free slot) so the downloaders meet every failure before falling back:
    a slow one, one that stalls, one that rejects, one whose transfers
    error, one that keeps us queued, one that is offline. */
typedef struct {
    const char *name, *behavior;
    int speed;
} s_peer_t;

static const s_peer_t s_peers[] = {
    {"goodpeer1", "ok", 2000000},        {"goodpeer2", "ok", 1800000},
    {"goodpeer3", "ok", 1600000},        {"slowpeer", "slow", 9000000},
    {"stallpeer", "stall", 9500000},     {"rejectpeer", "reject", 9800000},
    {"errorpeer", "error", 9700000},     {"queuedpeer", "queued", 9600000},
    {"offlinepeer", "offline", 9900000},
};
#define N_PEERS   (sizeof s_peers / sizeof s_peers[0])
#define P_SLOW    3
#define P_STALL   4
#define P_REJECT  5
#define P_ERROR   6
#define P_QUEUED  7
#define P_OFFLINE 8

static int
s_write (json_t *doc, const char *dir, const char *name)
{
    char path[700];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return json_dump_file (doc, path, JSON_COMPACT);
}

static int
s_write_text (const char *dir, const char *name, const char *text)
{
    char path[700];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen (path, "w");
    if (!f)
        return -1;
    fputs (text, f);
    return fclose (f);
}

int
sp_chaos_fixture_write (const char *dir, int n_tracks, int transfer_ms, sp_chaos_expect_t *expect)
{
    char sub[600];
    const char *subs[] = {"", "/spotify", "/spotify/playlists", "/plex", "/slskd"};
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf (sub, sizeof sub, "%s%s", dir, subs[i]);
        mkdir (sub, 0700);
    }
    memset (expect, 0, sizeof *expect);
    json_t *items = json_array ();
    json_t *plex = json_array ();
    json_t *users = json_array ();
    for (size_t p = 0; p < N_PEERS; p++)
        json_array_append_new (users, json_pack ("{s:s s:i s:b s:i s:s s:[]}", "username",
                                                 s_peers[p].name, "uploadSpeed", s_peers[p].speed,
                                                 "hasFreeUploadSlot", 1, "queueLength", 0,
                                                 "behavior", s_peers[p].behavior, "files"));
    for (int n = 0; n < n_tracks; n++) {
        sp_chaos_track_t tr;
        sp_chaos_track (n, &tr);
        json_array_append_new (items, s_spotify_track (n, &tr));
        switch (tr.kind) {
            case SP_CHAOS_LIBRARY:
                json_array_append_new (plex, s_plex_track (n, &tr));
                expect->library++;
                break;
            case SP_CHAOS_NOWHERE:
                expect->nowhere++;
                break;
            case SP_CHAOS_BAD_ONLY:
                s_add_file (json_array_get (users, P_STALL), "stl", &tr);
                s_add_file (json_array_get (users, P_REJECT), "rej", &tr);
                expect->bad_only++;
                break;
            case SP_CHAOS_GOOD:
                s_add_file (json_array_get (users, (size_t) (n % 3)), "good", &tr);
                //  most tracks also sit on one or two bad peers that rank first
                if (n % 7 != 0)
                    s_add_file (json_array_get (users, (size_t) (P_SLOW + n % 6)), "bad", &tr);
                if (n % 4 == 1)
                    s_add_file (json_array_get (users, (size_t) (P_SLOW + (n / 3) % 6)), "bad2",
                                &tr);
                expect->good++;
                break;
        }
    }
    char name[64];
    snprintf (name, sizeof name, "Chaos %d", n_tracks);
    json_t *playlist =
        json_pack ("{s:s s:s s:b s:b s:{s:s s:s s:s} s:s s:[] s:{s:o s:i}}", "id",
                   CHAOS_PLAYLIST_ID, "name", name, "collaborative", 0, "public", 0, "owner", "id",
                   CHAOS_USER, "type", "user", "display_name", "Chaos", "type", "playlist",
                   "images", "tracks", "items", items, "total", n_tracks);
    json_t *creds = json_pack ("{s:s s:s s:s s:s}", "client_id", "chaos-client-id", "client_secret",
                               "chaos-client-secret", "user_id", CHAOS_USER, "mode", "extended");
    //  short transfers (transfer_ms in progress); stalls end TimedOut after 3 s
    //  unless the downloader gives up first (SOULPIPE_STALL_TIMEOUT_S).
    //  Realistic slskd timing, shortened: responses stored 50-600 ms after a
    //  search completes, files in place 100-1000 ms after Succeeded.
    json_t *network = json_pack (
        "{s:b s:b s:[i,i] s:[i,i] s:i s:i s:i s:i s:i s:i s:f s:i s:o}", "logged_in", 1,
        "realistic", 1, "responses_lag_ms", 50, 600, "file_lag_ms", 100, 1000, "search_delay_ms",
        100, "requested_ms", 50, "queue_ms", 200, "init_ms", 50, "transfer_ms", transfer_ms,
        "slow_factor", 6, "stall_fraction", 0.4, "stall_timeout_ms", 3000, "users", users);
    snprintf (sub, sizeof sub, "spotify/playlists/%s.json", CHAOS_PLAYLIST_ID);
    int rc = 0;
    rc |= s_write (playlist, dir, sub);
    rc |= s_write (creds, dir, "spotify/credentials.json");
    rc |= s_write (plex, dir, "plex/tracks.json");
    rc |= s_write (network, dir, "slskd/network.json");
    rc |= s_write_text (dir, "plex/token", "chaos-plex-token\n");
    rc |= s_write_text (dir, "slskd/api-key", "chaos-slskd-key\n");
    json_decref (playlist);
    json_decref (creds);
    json_decref (plex);
    json_decref (network);
    snprintf (expect->playlist_name, sizeof expect->playlist_name, "%s", name);
    snprintf (expect->url, sizeof expect->url, "https://open.spotify.com/playlist/%s",
              CHAOS_PLAYLIST_ID);
    return rc ? -1 : 0;
}
