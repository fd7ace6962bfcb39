/*  bench_medialib.c: loading the media library through sp_medialib.

    Plex, Jellyfin, Subsonic: the fake server ($SOULPIPE_BIN_DIR/soulpipe-fake,
    zero latency) with 10,000 generated tracks, loaded page by page as each
    backend does (Plex X-Plex-Container-Size, Jellyfin StartIndex/Limit,
    Subsonic search3 500 songs at a time). Folder: 50,000 files (500 folders of 100 hard links of
    one tagged MP3) scanned with an empty cache, then again with nothing
    changed (the cache in the bench's redis-server, SOULPIPE_BENCH_REDIS_URL).
    Prints
        library_load_10k_s.plex|jellyfin|subsonic <seconds> s
        folder_scan_50k_s <seconds> s      (first scan: every file read by TagLib)
        folder_rescan_50k_s <seconds> s    (nothing changed: stats + the cache)
        medialib_peak_mb <MB> MB           (peak RSS of this process)
*/
#include "../tests/fakes/audio.c"
#include "bench_util.h"
#include "soulpipe/medialib.h"
#include "soulpipe/store.h"
#include "soulpipe/tags.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SONGS      10000
#define FOLDERS    500
#define PER_FOLDER 100
#define RUNS       3  //  best of

//  Strong references: medialib.c names the backends weakly, which alone
//  does not pull them out of the archive.
static const sp_medialib_backend_t *const s_backends[] = {&sp_medialib_subsonic_backend,
                                                          &sp_medialib_folder_backend};

static void
s_die (const char *what)
{
    fprintf (stderr, "bench_medialib: %s\n", what);
    exit (1);
}

static int
s_count (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    (void) t;
    (void) note;
    (void) n;
    (*(size_t *) arg)++;
    return 0;
}

static void
s_write (const char *path, const char *text)
{
    FILE *f = fopen (path, "w");
    if (!f || fputs (text, f) < 0 || fclose (f) != 0)
        s_die (path);
}

//  Start the fake on fixtures; returns its pid, the port in *port.
static pid_t
s_fake (const char *fixtures, const char *downloads, int *port)
{
    const char *bindir = getenv ("SOULPIPE_BIN_DIR");
    char bin[1024];
    snprintf (bin, sizeof bin, "%s/soulpipe-fake", bindir && *bindir ? bindir : "bin");
    int pfd[2];
    if (pipe (pfd) != 0)
        s_die ("pipe");
    pid_t pid = fork ();
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGTERM);
        dup2 (pfd[1], 1);
        close (pfd[0]);
        int devnull = open ("/dev/null", O_WRONLY);
        dup2 (devnull, 2);
        execl (bin, bin, "--listen", "127.0.0.1:0", "--fixtures", fixtures, "--downloads",
               downloads, (char *) NULL);
        _exit (127);
    }
    close (pfd[1]);
    char line[256] = "";
    size_t len = 0;
    while (len + 1 < sizeof line) {
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (poll (&p, 1, 10000) <= 0 || read (pfd[0], line + len, 1) != 1)
            break;
        if (line[len++] == '\n')
            break;
    }
    line[len] = '\0';
    close (pfd[0]);
    const char *colon = strrchr (line, ':');
    *port = colon ? atoi (colon + 1) : 0;
    if (*port <= 0)
        s_die ("the fake did not start");
    return pid;
}

//  The fake's fixture for one server backend: SONGS generated tracks.
static void
s_fixture (sp_medialib_kind_t kind, const char *fixtures)
{
    char path[700];
    const char *dir = kind == SP_MEDIALIB_PLEX       ? "plex"
                      : kind == SP_MEDIALIB_JELLYFIN ? "jellyfin"
                                                     : "subsonic";
    snprintf (path, sizeof path, "%s/%s", fixtures, dir);
    mkdir (fixtures, 0755);
    mkdir (path, 0755);
    if (kind == SP_MEDIALIB_SUBSONIC) {
        char cfg[256];
        snprintf (cfg, sizeof cfg,
                  "{\"user\":\"bench\",\"password\":\"bench-pass\",\"library\":\"none\","
                  "\"generate\":%d}",
                  SONGS);
        snprintf (path, sizeof path, "%s/subsonic/server.json", fixtures);
        s_write (path, cfg);
    } else if (kind == SP_MEDIALIB_JELLYFIN) {
        char cfg[256];
        snprintf (cfg, sizeof cfg, "{\"api_key\":\"bench-key\",\"items\":[],\"generate\":%d}",
                  SONGS);
        snprintf (path, sizeof path, "%s/jellyfin/server.json", fixtures);
        s_write (path, cfg);
    } else {
        snprintf (path, sizeof path, "%s/plex/token", fixtures);
        s_write (path, "bench-token\n");
        snprintf (path, sizeof path, "%s/plex/sections.json", fixtures);
        s_write (path, "[{\"key\":\"1\",\"type\":\"artist\",\"title\":\"Music\","
                       "\"Location\":[{\"id\":1,\"path\":\"/music\"}]}]");
        size_t cap = (size_t) SONGS * 200 + 16, len = 0;
        char *text = malloc (cap);
        if (!text)
            s_die ("out of memory");
        len += (size_t) snprintf (text + len, cap - len, "[");
        for (int i = 0; i < SONGS; i++)
            len += (size_t) snprintf (
                text + len, cap - len,
                "%s{\"ratingKey\":\"%d\",\"title\":\"Song %05d\",\"grandparentTitle\":"
                "\"Artist %03d\",\"parentTitle\":\"Album %04d\",\"duration\":%d,"
                "\"Media\":[{\"Part\":[{\"file\":\"/music/Gen/%05d.flac\"}]}]}",
                i ? "," : "", 200000 + i, i, i % 500, i % 1000, 180000 + i, i);
        snprintf (text + len, cap - len, "]");
        snprintf (path, sizeof path, "%s/plex/tracks.json", fixtures);
        s_write (path, text);
        free (text);
    }
}

//  library_load_10k_s.<backend>: best of RUNS full loads at zero latency.
static void
s_server (const char *tmp, sp_medialib_kind_t kind)
{
    char fixtures[600], dl[600];
    const char *name = sp_medialib_kind_name (kind);
    snprintf (fixtures, sizeof fixtures, "%s/fx-%s", tmp, name);
    snprintf (dl, sizeof dl, "%s/dl-%s", tmp, name);
    s_fixture (kind, fixtures);
    int port = 0;
    pid_t fake = s_fake (fixtures, dl, &port);
    char url[64];
    snprintf (url, sizeof url, "http://127.0.0.1:%d", port);
    sp_medialib_opts_t o = {.kind = kind,
                            .plex_url = url,
                            .plex_token = "bench-token",
                            .jellyfin_url = url,
                            .jellyfin_api_key = "bench-key",
                            .subsonic_url = url,
                            .subsonic_user = "bench",
                            .subsonic_password = "bench-pass"};
    char note[512] = "";
    sp_medialib_t *ml = sp_medialib_new (&o, NULL, note, sizeof note);
    if (!ml)
        s_die (note);
    double best = 1e9;
    for (int r = 0; r < RUNS; r++) {
        size_t n = 0;
        double t0 = sp_bench_now ();
        if (sp_medialib_load (ml, s_count, &n, note, sizeof note) != SP_MEDIALIB_OK)
            s_die (note);
        double t = sp_bench_now () - t0;
        if (n != SONGS) {
            fprintf (stderr, "bench_medialib: %s loaded %zu of %d tracks\n", name, n, SONGS);
            exit (1);
        }
        if (t < best)
            best = t;
    }
    printf ("library_load_10k_s.%s %.3f s\n", name, best);
    fflush (stdout);
    sp_medialib_destroy (&ml);
    kill (fake, SIGTERM);
    waitpid (fake, NULL, 0);
}

static void
s_folder (const char *tmp)
{
    const char *redis = sp_bench_redis_url ();
    if (!redis) {
        fprintf (stderr, "bench_medialib: no Redis (SOULPIPE_BENCH_REDIS_URL): folder skipped\n");
        return;
    }
    char err[256] = "";
    sp_store_t *store = sp_store_new (redis, err, sizeof err);
    if (!store)
        s_die (err);
    char root[600], seed[700];
    snprintf (root, sizeof root, "%s/big", tmp);
    snprintf (seed, sizeof seed, "%s/seed.mp3", tmp);
    mkdir (root, 0755);
    if (sp_fake_audio_write (seed, "mp3", 200, 0, false, NULL) != 0)
        s_die ("seed file");
    const char *artists[] = {"Bench Artist"};
    sp_tags_t t = {.title = "Bench Song",
                   .artists = artists,
                   .artists_count = 1,
                   .album = "Bench Album",
                   .album_artists = artists,
                   .album_artists_count = 1};
    if (sp_tags_write (seed, &t, err, sizeof err) != SP_TAGS_OK)
        s_die (err);
    for (int d = 0; d < FOLDERS; d++) {
        char dir[700];
        snprintf (dir, sizeof dir, "%s/Artist %03d", root, d);
        mkdir (dir, 0755);
        for (int k = 0; k < PER_FOLDER; k++) {
            char p[800];
            snprintf (p, sizeof p, "%s/%02d - Song %d.mp3", dir, k, k);
            if (link (seed, p) != 0)
                s_die (strerror (errno));
        }
    }
    char key[700];
    snprintf (key, sizeof key, "soulpipe:folderlib:v1:%s", root);
    sp_medialib_opts_t o = {.kind = SP_MEDIALIB_FOLDER, .library_dir = root, .store = store};
    char note[512] = "";
    sp_medialib_t *ml = sp_medialib_new (&o, NULL, note, sizeof note);
    if (!ml)
        s_die (note);
    size_t n = 0;
    double t0 = sp_bench_now ();
    if (sp_medialib_load (ml, s_count, &n, note, sizeof note) != SP_MEDIALIB_OK)
        s_die (note);
    double scan = sp_bench_now () - t0;
    if (n != FOLDERS * PER_FOLDER)
        s_die ("the first scan did not report every file");
    double best = 1e9;
    for (int r = 0; r < RUNS; r++) {
        n = 0;
        t0 = sp_bench_now ();
        if (sp_medialib_load (ml, s_count, &n, note, sizeof note) != SP_MEDIALIB_OK)
            s_die (note);
        double rs = sp_bench_now () - t0;
        if (n != FOLDERS * PER_FOLDER)
            s_die ("a rescan did not report every file");
        if (rs < best)
            best = rs;
    }
    printf ("folder_scan_50k_s %.3f s\n", scan);
    printf ("folder_rescan_50k_s %.3f s\n", best);
    sp_medialib_destroy (&ml);
    const char *del[] = {"DEL", key};
    size_t lens[] = {3, strlen (key)};
    redisReply *r = NULL;
    if (sp_store_command (store, 2, del, lens, &r) == SP_STORE_OK && r)
        freeReplyObject (r);
    sp_store_destroy (&store);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    if (!s_backends[0]->name || !s_backends[1]->name)
        s_die ("backends missing");
    const char *base = getenv ("SOULPIPE_BENCH_TMP");
    char tmp[512];
    snprintf (tmp, sizeof tmp, "%s/medialib-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp (tmp))
        s_die ("mkdtemp");
    s_server (tmp, SP_MEDIALIB_PLEX);
    s_server (tmp, SP_MEDIALIB_JELLYFIN);
    s_server (tmp, SP_MEDIALIB_SUBSONIC);
    s_folder (tmp);
    printf ("medialib_peak_mb %.1f MB\n", (double) sp_bench_hwm_kb (0) / 1024.0);
    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_medialib: could not remove %s\n", tmp);
    return 0;
}
