/*  test_downloader.c: the download handler (sp_dl_run) driven directly,
    against soulpipe-fake's slskd and a real Redis (track records, peer
    memory): every peer behaviour (ok, slow, stall, queued, reject, error,
    offline, corrupt) ends staged from a good peer when there is one;
    exhausted candidates go back to search once, then fail with a reason
    listing what was tried; excluded and blocked peers are skipped; slskd
    down is a retry; a re-run follows the recorded transfer (running or
    finished) instead of enqueuing again, and a staged track is passed on. */
#include "../../services/downloader/downloader.h"
#include "harness.h"
#include "soulpipe/peers.h"
#include "test_fake_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_KEY     "slskd-test-key-0123456789"
#define SONG_JSON   "@@music\\\\Artist\\\\2001 - Album\\\\01 - Song.flac"
#define SONG        "@@music\\Artist\\2001 - Album\\01 - Song.flac"
#define SONG_SIZE   300000  //  above the fake's natural size of a 60 s FLAC (~160 KB of real audio)
#define SONG_LENGTH 60

static fk_t s_fk;
static sp_test_t s_t;
static char s_staging[400];
static char s_job[SP_STORE_ID_MAX];
static sp_dl_t *s_dl;

/*  Users of the simulated network: name, behaviour, extra JSON, extra JSON
    of their file (NULL = none). */
typedef struct {
    const char *name, *behavior, *extra, *file_extra;
} user_t;

static const user_t s_users[] = {
    {"good", "ok", "", NULL},
    {"good2", "ok", "", NULL},
    {"slowpoke", "slow", "", NULL},
    {"staller", "stall", "", NULL},
    {"waiter", "queued", "", NULL},
    {"refuser", "reject", "", NULL},
    {"broken", "error", "", NULL},
    {"ghost", "offline", "", NULL},
    {"zero", "corrupt", "", NULL},
    {"busy", "ok", ",\"hasFreeUploadSlot\":false,\"queueLength\":500", NULL},
    {"long", "ok", ",\"transfer_ms\":2500", NULL},
    {"faker", "ok", "", ",\"content\":\"lossy\""},
};
#define NUSERS (sizeof s_users / sizeof s_users[0])

/*  Extra network.json settings and the downloader's file wait (0 = default)
    of the next s_start. */
static const char *s_net_extra = "";
static int s_file_wait_s = 0;
static const char *s_lossy_source = NULL;  //  SOULPIPE_LOSSY_SOURCE of the next s_start
static bool s_allow_lossy = false;         //  SOULPIPE_ALLOW_LOSSY of the next s_start

static void
s_start (void)
{
    sp_test_init (&s_t, false);
    fk_init (&s_fk);
    fk_write (&s_fk, "slskd/api-key", API_KEY "\n");
    char net[16384];
    int n = snprintf (net, sizeof net,
                      "{\"logged_in\":true,\"transfer_ms\":400,\"requested_ms\":50,"
                      "\"init_ms\":50,\"queue_ms\":300,\"slow_factor\":4%s,\"users\":[",
                      s_net_extra);
    for (size_t i = 0; i < NUSERS; i++)
        n += snprintf (net + n, sizeof net - (size_t) n,
                       "%s{\"username\":\"%s\",\"behavior\":\"%s\"%s,\"files\":["
                       "{\"filename\":\"" SONG_JSON "\",\"size\":%d,\"length\":%d%s}]}",
                       i ? "," : "", s_users[i].name, s_users[i].behavior, s_users[i].extra,
                       SONG_SIZE, SONG_LENGTH, s_users[i].file_extra ? s_users[i].file_extra : "");
    snprintf (net + n, sizeof net - (size_t) n, "]}");
    fk_write (&s_fk, "slskd/network.json", net);
    cr_assert_eq (fk_start (&s_fk, NULL), 0, "the fake did not start");
    cr_assert (mkdir (s_fk.downloads, 0755) == 0 || errno == EEXIST);
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_fk.dir);
    cr_assert_eq (mkdir (s_staging, 0755), 0);

    //  a job of 4 tracks so the track records exist
    sp_store_job_spec_t spec = {.source = "test", .name = "Downloads"};
    sp_store_track_spec_t tracks[4];
    memset (tracks, 0, sizeof tracks);
    for (int i = 0; i < 4; i++) {
        tracks[i].title = "Song";
        tracks[i].artists = "Artist";
        tracks[i].payload = "x";
        tracks[i].payload_len = 1;
    }
    cr_assert_eq (sp_store_job_create (s_t.store, &spec, tracks, 4, s_job), SP_STORE_OK);

    sp_dl_config_t cfg = {
        .slskd_url = s_fk.base,
        .slskd_api_key = API_KEY,
        .downloads_dir = s_fk.downloads,
        .staging_dir = s_staging,
        .redis_url = s_t.redis_url,
        .queue_timeout_s = 1,
        .stall_timeout_s = 1,
        .transfer_timeout_s = 30,
        .poll_ms = 100,
        .file_wait_s = s_file_wait_s,
        .lossy_source = s_lossy_source,
        .allow_lossy = s_allow_lossy,
    };
    char err[256];
    s_dl = sp_dl_new (&cfg, err, sizeof err);
    cr_assert_not_null (s_dl, "%s", err);
}

static void
s_stop (void)
{
    sp_dl_destroy (&s_dl);
    fk_stop (&s_fk);
    sp_test_fini (&s_t);
}

/*  A download payload for track pos with candidates from users (best first). */
static sp_payload_t *
s_payload (int pos, const char *const *users, size_t n)
{
    sp_payload_t *p = sp_payload_new ();
    cr_assert_not_null (p);
    p->job = strdup (s_job);
    char key[128];
    snprintf (key, sizeof key, "%s:%d", s_job, pos);
    p->track_key = strdup (key);
    p->track.title = strdup ("Song");
    sp_msg_strv_add (&p->track.artists, &p->track.artists_count, "Artist");
    p->track.playlist = strdup ("Downloads");
    p->track.position = (uint64_t) pos;
    p->track.has_duration_ms = true;
    p->track.duration_ms = SONG_LENGTH * 1000 + 1500;
    for (size_t i = 0; i < n; i++) {
        sp_candidate_t c;
        memset (&c, 0, sizeof c);
        c.username = (char *) users[i];
        c.filename = (char *) SONG;
        c.size = SONG_SIZE;
        c.ext = (char *) "flac";
        c.has_length = true;
        c.length = SONG_LENGTH;
        c.score = 1.0 - 0.01 * (double) i;
        cr_assert_eq (sp_payload_add_candidate (p, &c), SP_MSG_OK);
    }
    return p;
}

typedef struct {
    int calls;
    int transferring;  //  progress calls with bytes > 0
    int64_t max_bytes;
    int stop_after_bytes;  //  > 0: stopping() true once this many bytes were seen
    bool stop;
} ops_state_t;

static void
s_ops_progress (void *arg, const char *state, int64_t bytes, int64_t size, double percent,
                const char *message)
{
    (void) size;
    (void) percent;
    (void) message;
    ops_state_t *o = arg;
    o->calls++;
    cr_assert_not_null (state);
    if (bytes > 0)
        o->transferring++;
    if (bytes > o->max_bytes)
        o->max_bytes = bytes;
    if (o->stop_after_bytes > 0 && bytes >= o->stop_after_bytes)
        o->stop = true;
}

static bool
s_ops_stopping (void *arg)
{
    return ((ops_state_t *) arg)->stop;
}

static sp_dl_result_t
s_run (sp_payload_t *p, ops_state_t *o, char *reason, size_t n)
{
    sp_dl_ops_t ops = {.progress = s_ops_progress, .stopping = s_ops_stopping, .arg = o};
    return sp_dl_run (s_dl, p, &ops, reason, n);
}

static json_t *
s_stats (void)
{
    json_t *st = fk_stats (&s_fk);
    cr_assert_not_null (st);
    return st;
}

static long long
s_stat_int (const char *key)
{
    json_t *st = s_stats ();
    long long v =
        (long long) json_integer_value (json_object_get (json_object_get (st, "slskd"), key));
    json_decref (st);
    return v;
}

static sp_peer_t
s_peer (const char *user)
{
    sp_peer_t peer;
    cr_assert_eq (sp_peers_get (s_t.store, user, &peer), SP_STORE_OK);
    return peer;
}

static char *
s_track_field (int pos, const char *field)
{
    char key[256];
    snprintf (key, sizeof key, "soulpipe:track:%s:%d", s_job, pos);
    const char *argv[] = {"HGET", key, field};
    redisReply *r = NULL;
    cr_assert_eq (sp_store_command (s_t.store, 3, argv, NULL, &r), SP_STORE_OK);
    char *v = r->type == REDIS_REPLY_STRING ? strdup (r->str) : strdup ("");
    freeReplyObject (r);
    return v;
}

static int
s_count_files (const char *dir)
{
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
            continue;
        char sub[1024];
        snprintf (sub, sizeof sub, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat (sub, &st) == 0 && S_ISDIR (st.st_mode))
            n += s_count_files (sub);
        else
            n++;
    }
    closedir (d);
    return n;
}

/*  The track ended staged from want_user, verified, with the transfer gone. */
static void
s_assert_staged (sp_payload_t *p, int pos, const char *want_user)
{
    char want[600];
    snprintf (want, sizeof want, "%s/%s/%d.flac", s_staging, s_job, pos);
    cr_assert_not_null (p->staged_path);
    cr_assert_str_eq (p->staged_path, want);
    cr_assert (p->has_source);
    cr_assert_str_eq (p->source.username, want_user);
    cr_assert_str_eq (p->source.filename, SONG);
    cr_assert_eq (p->source.size, SONG_SIZE);
    cr_assert_not_null (p->transfer_id);
    char why[256];
    cr_assert_eq (sp_dl_verify_file (want, SONG_SIZE, SONG_LENGTH * 1000, NULL, why, sizeof why),
                  SP_DL_VERIFY_OK, "%s", why);
    //  the finished transfer was removed from slskd
    fk_resp_t r;
    const char *hdrs[] = {"X-API-Key: " API_KEY, NULL};
    char path[256];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/%s", want_user);
    cr_assert_eq (fk_http (&s_fk, "GET", path, hdrs, NULL, &r), 404, "%s", r.body);
    fk_resp_free (&r);
    char *tid = s_track_field (pos, "transfer_id");
    cr_assert_str_eq (tid, p->transfer_id, "the track records the transfer");
    free (tid);
    sp_peer_t peer = s_peer (want_user);
    cr_assert (peer.known && peer.ok >= 1 && peer.streak == 0);
    cr_assert_gt (peer.speed, 0);
    //  decoded to the end and judged genuine, on the track for `status`
    char *verdict = s_track_field (pos, "audio_verdict");
    cr_assert_str_eq (verdict, "genuine");
    free (verdict);
}

/* ---------------------------------------------------------------- behaviours */

Test (downloader, ok, .init = s_start, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"good"};
    sp_payload_t *p = s_payload (0, users, 1);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 0, "good");
    cr_assert_gt (o.calls, 0, "progress was reported");
    cr_assert_eq (o.max_bytes, SONG_SIZE);
    cr_assert_eq (s_count_files (s_fk.downloads), 0, "the file left slskd's folder");
    cr_assert_eq (s_count_files (s_staging), 1);
    sp_payload_destroy (&p);
}

Test (downloader, slow, .init = s_start, .fini = s_stop, .timeout = 60)
{
    //  slow (1.6 s for the file) but moving: not a stall at 1 s
    const char *users[] = {"slowpoke", "good"};
    sp_payload_t *p = s_payload (0, users, 2);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 0, "slowpoke");
    cr_assert_gt (o.transferring, 0);
    cr_assert_eq (s_stat_int ("enqueued"), 1);
    sp_payload_destroy (&p);
}

/*  slskd reports "Completed, Succeeded" before it has moved the file into
    downloads (a copy across file systems): the fake shows the file 1.5 s
    later, half-written in between. The downloader waits for the whole file:
    staged, the peer not blamed, nothing deleted. */
static void
s_start_lag (void)
{
    s_net_extra = ",\"file_lag_ms\":1500";
    s_file_wait_s = 0;
    s_start ();
}

Test (downloader, file_lag, .init = s_start_lag, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"good"};
    sp_payload_t *p = s_payload (0, users, 1);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 0, "good");
    sp_peer_t peer = s_peer ("good");
    cr_assert_eq (peer.fail, 0, "the peer was not blamed");
    cr_assert_eq (s_stat_int ("enqueued"), 1, "one transfer only");
    cr_assert_eq (s_count_files (s_staging), 1);
    sp_payload_destroy (&p);
}

/*  The file takes longer than the downloader's file_wait_s: the attempt fails
    with a clear reason, without blaming the peer. */
static void
s_start_lag_long (void)
{
    s_net_extra = ",\"file_lag_ms\":4000";
    s_file_wait_s = 1;
    s_start ();
}

Test (downloader, file_lag_too_long, .init = s_start_lag_long, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"good"};
    sp_payload_t *p = s_payload (0, users, 1);
    ops_state_t o = {0};
    char reason[4096];
    sp_dl_result_t r = s_run (p, &o, reason, sizeof reason);
    cr_assert_neq (r, SP_DL_TAG, "%s", reason);
    cr_assert_null (p->staged_path);
    cr_assert (strstr (reason, "slskd reported the download finished but the file did not "
                               "appear in full within 1 s in "),
               "%s", reason);
    sp_peer_t peer = s_peer ("good");
    cr_assert_eq (peer.fail, 0, "the peer was not blamed");
    sp_payload_destroy (&p);
}

/*  bad_user first, then good: staged from good; the bad peer is recorded. */
static void
s_fallback (const char *bad_user)
{
    const char *users[] = {bad_user, "good"};
    sp_payload_t *p = s_payload (1, users, 2);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 1, "good");
    sp_peer_t bad = s_peer (bad_user);
    cr_assert (bad.known, "%s has a record", bad_user);
    cr_assert_eq (bad.fail, 1, "%s: one failure recorded", bad_user);
    cr_assert_eq (bad.ok, 0);
    cr_assert_eq (s_count_files (s_staging), 1, "only the good file is staged");
    //  the bad transfer was cancelled and removed in slskd too
    fk_resp_t r;
    const char *hdrs[] = {"X-API-Key: " API_KEY, NULL};
    cr_assert_eq (fk_http (&s_fk, "GET", "/api/v0/transfers/downloads", hdrs, NULL, &r), 200);
    cr_assert_eq (json_array_size (r.json), 0, "%s", r.body);
    fk_resp_free (&r);
    sp_payload_destroy (&p);
}

Test (downloader, stall, .init = s_start, .fini = s_stop, .timeout = 60)
{
    double t0 = fk_now_s ();
    s_fallback ("staller");
    cr_assert_lt (fk_now_s () - t0, 8.0, "the stall was noticed within the limit");
}

Test (downloader, queued, .init = s_start, .fini = s_stop, .timeout = 60)
{
    s_fallback ("waiter");
}

Test (downloader, long_queue, .init = s_start, .fini = s_stop, .timeout = 60)
{
    //  place 501 in the remote queue: not worth waiting for
    s_fallback ("busy");
}

Test (downloader, reject, .init = s_start, .fini = s_stop, .timeout = 60)
{
    s_fallback ("refuser");
}

Test (downloader, error, .init = s_start, .fini = s_stop, .timeout = 60)
{
    s_fallback ("broken");
}

Test (downloader, offline, .init = s_start, .fini = s_stop, .timeout = 60)
{
    s_fallback ("ghost");
}

Test (downloader, corrupt, .init = s_start, .fini = s_stop, .timeout = 60)
{
    s_fallback ("zero");
    //  the zero-filled file was deleted, not staged
    cr_assert_eq (s_count_files (s_fk.downloads), 0);
}

/* ---------------------------------------------------------------- exhausted */

Test (downloader, exhausted_then_failed, .init = s_start, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"staller", "refuser", "ghost", "refuser"};
    sp_payload_t *p = s_payload (2, users, 4);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_SEARCH_AGAIN, "%s", reason);
    cr_assert (p->has_search_rounds);
    cr_assert_eq (p->search_rounds, 2);
    cr_assert_eq (p->candidates_count, 0);
    cr_assert_eq (p->excluded_users_count, 3);
    cr_assert_str_eq (p->excluded_users[0], "staller");
    cr_assert_str_eq (p->excluded_users[1], "refuser");
    cr_assert_str_eq (p->excluded_users[2], "ghost");
    cr_assert_eq (p->tried_count, 3, "one try per user");
    cr_assert (strstr (p->tried[0], "staller/01 - Song.flac: stalled"), "%s", p->tried[0]);
    cr_assert (strstr (p->tried[1], "refuser/01 - Song.flac: rejected"), "%s", p->tried[1]);
    cr_assert (strstr (p->tried[2], "ghost/01 - Song.flac: user offline"), "%s", p->tried[2]);
    cr_assert_null (p->staged_path);
    //  the payload still encodes for the search stage
    uint8_t *data = NULL;
    size_t size = 0;
    cr_assert_eq (sp_payload_encode (p, &data, &size, reason, sizeof reason), SP_MSG_OK, "%s",
                  reason);
    free (data);
    cr_assert_eq (s_stat_int ("enqueued"), 2, "refuser once, ghost never accepted, staller once");

    //  the second round: new candidates, some excluded; then the end
    const char *again[] = {"refuser", "waiter", "broken"};
    for (size_t i = 0; i < 3; i++) {
        sp_candidate_t c = {
            .username = (char *) again[i], .filename = (char *) SONG, .size = SONG_SIZE};
        sp_payload_add_candidate (p, &c);
    }
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_FAILED, "%s", reason);
    cr_assert (strstr (reason, "no candidate could be downloaded: "), "%s", reason);
    const char *want[] = {"staller/01 - Song.flac: stalled", "refuser/01 - Song.flac: rejected",
                          "ghost/01 - Song.flac: user offline",
                          "waiter/01 - Song.flac: queued for more than 1 s",
                          "broken/01 - Song.flac: errored (Remote connection closed)"};
    for (size_t i = 0; i < 5; i++)
        cr_assert (strstr (reason, want[i]), "missing \"%s\" in: %s", want[i], reason);
    cr_assert_eq (s_stat_int ("enqueued"), 4, "the excluded refuser was not tried again");
    cr_assert_eq (s_count_files (s_staging), 0);
    sp_payload_destroy (&p);
}

Test (downloader, no_candidates, .init = s_start, .fini = s_stop, .timeout = 30)
{
    sp_payload_t *p = s_payload (0, NULL, 0);
    p->has_search_rounds = true;
    p->search_rounds = 2;
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_FAILED);
    cr_assert (strstr (reason, "no usable candidate"), "%s", reason);
    sp_payload_destroy (&p);
}

Test (downloader, excluded_and_blocked, .init = s_start, .fini = s_stop, .timeout = 60)
{
    //  broken failed 3 times in a row just now: skipped for a while
    for (int i = 0; i < SP_PEERS_SKIP_STREAK; i++)
        cr_assert_eq (sp_peers_record (s_t.store, "broken", SP_PEER_FAILED, 0), SP_STORE_OK);
    const char *users[] = {"refuser", "broken", "good"};
    sp_payload_t *p = s_payload (3, users, 3);
    sp_msg_strv_add (&p->excluded_users, &p->excluded_users_count, "refuser");
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 3, "good");
    cr_assert_eq (s_stat_int ("enqueued"), 1, "only good was enqueued");
    sp_payload_destroy (&p);
}

/* ---------------------------------------------------------------- failures of slskd */

Test (downloader, slskd_down, .init = s_start, .fini = s_stop, .timeout = 60)
{
    //  a port nobody listens on
    sp_dl_config_t cfg = {.slskd_url = "http://127.0.0.1:1",
                          .slskd_api_key = API_KEY,
                          .downloads_dir = s_fk.downloads,
                          .staging_dir = s_staging,
                          .redis_url = s_t.redis_url,
                          .poll_ms = 100};
    char err[256];
    sp_dl_t *down = sp_dl_new (&cfg, err, sizeof err);
    cr_assert_not_null (down, "%s", err);
    const char *users[] = {"good", "good2"};
    sp_payload_t *p = s_payload (0, users, 2);
    char reason[4096];
    cr_assert_eq (sp_dl_run (down, p, NULL, reason, sizeof reason), SP_DL_RETRY);
    cr_assert (strstr (reason, "slskd unreachable"), "%s", reason);
    sp_peer_t peer = s_peer ("good");
    cr_assert_not (peer.known, "slskd being down is not the peer's fault");
    sp_payload_destroy (&p);
    sp_dl_destroy (&down);

    //  a wrong API key is a retry too (configuration), never a peer failure
    cfg.slskd_url = s_fk.base;
    cfg.slskd_api_key = "wrong-key";
    down = sp_dl_new (&cfg, err, sizeof err);
    p = s_payload (0, users, 2);
    cr_assert_eq (sp_dl_run (down, p, NULL, reason, sizeof reason), SP_DL_RETRY, "%s", reason);
    sp_payload_destroy (&p);
    sp_dl_destroy (&down);
}

/* ---------------------------------------------------------------- re-runs */

Test (downloader, rerun_follows_running_transfer, .init = s_start, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"long", "good"};
    sp_payload_t *p = s_payload (0, users, 2);
    ops_state_t o = {.stop_after_bytes = 1};
    char reason[4096];
    //  the worker stops mid-transfer: the job is handed back, the transfer runs on
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_RETRY, "%s", reason);
    char *tid = s_track_field (0, "transfer_id");
    cr_assert_gt (strlen (tid), 30, "the transfer id was recorded: %s", tid);
    sp_payload_destroy (&p);

    //  the next holder follows that transfer rather than enqueue again
    p = s_payload (0, users, 2);
    ops_state_t o2 = {0};
    cr_assert_eq (s_run (p, &o2, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 0, "long");
    cr_assert_str_eq (p->transfer_id, tid, "the same transfer");
    cr_assert_eq (s_stat_int ("enqueued"), 1, "enqueued once");
    sp_payload_destroy (&p);

    //  and once more: the staged file is passed on as it is
    p = s_payload (0, users, 2);
    cr_assert_eq (s_run (p, &o2, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    cr_assert_str_eq (p->source.username, "long");
    cr_assert_str_eq (p->transfer_id, tid);
    cr_assert_eq (s_stat_int ("enqueued"), 1);
    cr_assert_eq (s_count_files (s_staging), 1);
    free (tid);
    sp_payload_destroy (&p);
}

Test (downloader, rerun_uses_finished_transfer, .init = s_start, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"long"};
    sp_payload_t *p = s_payload (1, users, 1);
    ops_state_t o = {.stop_after_bytes = 1};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_RETRY, "%s", reason);
    sp_payload_destroy (&p);
    //  the transfer completes while nobody follows it
    fk_sleep_ms (3000);
    json_t *st = s_stats ();
    json_t *states = json_object_get (json_object_get (st, "slskd"), "transfer_states");
    cr_assert_eq (json_integer_value (json_object_get (states, "Completed, Succeeded")), 1);
    json_decref (st);
    p = s_payload (1, users, 1);
    ops_state_t o2 = {0};
    cr_assert_eq (s_run (p, &o2, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 1, "long");
    cr_assert_eq (s_stat_int ("enqueued"), 1, "enqueued once");
    sp_payload_destroy (&p);
}

Test (downloader, rerun_after_handoff_starts_over, .init = s_start, .fini = s_stop, .timeout = 60)
{
    //  staged, then the tagger took the file away; the track comes back to
    //  the download stage later (a retry): the old, removed transfer is not
    //  followed, a new one is made
    const char *users[] = {"good"};
    sp_payload_t *p = s_payload (2, users, 1);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    char *first = strdup (p->transfer_id);
    cr_assert_eq (unlink (p->staged_path), 0);
    sp_payload_destroy (&p);
    p = s_payload (2, users, 1);
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 2, "good");
    cr_assert_str_neq (p->transfer_id, first, "a new transfer");
    cr_assert_eq (s_stat_int ("enqueued"), 2);
    free (first);
    sp_payload_destroy (&p);
}

/* ---------------------------------------------------------------- audio check */

//  A FLAC made from a lossy file (the fake's "content": "lossy": a 16 kHz
//  brick wall) is decoded, judged lossy-source, deleted, and the next
//  candidate is staged; the peer is remembered as having served a fake.
Test (downloader, fake_flac_rejected_next_staged, .init = s_start, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"faker", "good"};
    sp_payload_t *p = s_payload (0, users, 2);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 0, "good");
    cr_assert_eq (s_count_files (s_staging), 1, "the fake was not kept (SOULPIPE_ALLOW_LOSSY off)");
    cr_assert_eq (s_count_files (s_fk.downloads), 0, "the fake was deleted");
    sp_peer_t peer = s_peer ("faker");
    cr_assert (peer.known);
    cr_assert_eq (peer.fakes, 1);
    cr_assert_eq (peer.fail, 1);
    cr_assert_eq (peer.ok, 0);
    sp_payload_destroy (&p);
}

//  Under "reject" with SOULPIPE_ALLOW_LOSSY, the fake is kept aside; when no
//  other candidate can be had (and no search round is left) it is filed,
//  with its verdict and why on the track.
static void
s_start_allow_lossy (void)
{
    s_allow_lossy = true;
    s_start ();
    s_allow_lossy = false;
}

Test (downloader, fake_flac_kept_as_last_resort, .init = s_start_allow_lossy, .fini = s_stop,
      .timeout = 60)
{
    const char *users[] = {"faker", "refuser"};
    sp_payload_t *p = s_payload (1, users, 2);
    p->has_search_rounds = true;
    p->search_rounds = 2;  //  the last round: nothing more to search for
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    char want[600];
    snprintf (want, sizeof want, "%s/%s/1.flac", s_staging, s_job);
    cr_assert_not_null (p->staged_path);
    cr_assert_str_eq (p->staged_path, want);
    cr_assert (strstr (reason, "lossy-sourced"), "%s", reason);
    cr_assert_eq (s_count_files (s_staging), 1, "only the promoted file is left");
    char *verdict = s_track_field (1, "audio_verdict");
    char *note = s_track_field (1, "audio_note");
    char *cut = s_track_field (1, "audio_cutoff_hz");
    cr_assert_str_eq (verdict, "lossy-source");
    cr_assert (strstr (note, "last resort") && strstr (note, "faker"), "%s", note);
    cr_assert (atoi (cut) > 15000 && atoi (cut) < 17500, "cutoff %s", cut);
    free (verdict);
    free (note);
    free (cut);
    sp_payload_destroy (&p);
}

//  A good copy after the kept fake wins, and the fake kept aside is removed.
Test (downloader, fake_flac_aside_then_good_copy, .init = s_start_allow_lossy, .fini = s_stop,
      .timeout = 60)
{
    const char *users[] = {"faker", "good"};
    sp_payload_t *p = s_payload (2, users, 2);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    s_assert_staged (p, 2, "good");
    cr_assert_eq (s_count_files (s_staging), 1, "the fake kept aside was removed");
    sp_payload_destroy (&p);
}

//  SOULPIPE_LOSSY_SOURCE=flag keeps the fake (first candidate) and says so.
static void
s_start_flag (void)
{
    s_lossy_source = "flag";
    s_start ();
    s_lossy_source = NULL;
}

Test (downloader, fake_flac_flagged, .init = s_start_flag, .fini = s_stop, .timeout = 60)
{
    const char *users[] = {"faker", "good"};
    sp_payload_t *p = s_payload (3, users, 2);
    ops_state_t o = {0};
    char reason[4096];
    cr_assert_eq (s_run (p, &o, reason, sizeof reason), SP_DL_TAG, "%s", reason);
    cr_assert (p->has_source);
    cr_assert_str_eq (p->source.username, "faker");
    char *verdict = s_track_field (3, "audio_verdict");
    char *note = s_track_field (3, "audio_note");
    cr_assert_str_eq (verdict, "lossy-source");
    cr_assert (strstr (note, "flagged"), "%s", note);
    free (verdict);
    free (note);
    cr_assert_eq (s_peer ("faker").fakes, 1, "still remembered as a fake");
    sp_payload_destroy (&p);
}
