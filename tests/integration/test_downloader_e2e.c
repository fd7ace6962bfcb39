/*  test_downloader_e2e.c: soulpipe-downloader processes with the real
    broker (soulpipe-analyzer), Redis and soulpipe-fake's slskd.

    - 20 tracks on 2 downloaders with 4 slots each: never more than 8
      transfers at once in slskd (the fake's max_concurrent_transfers), all
      20 end staged and queued for tagging, with enqueue 429s retried.
    - A downloader killed with SIGKILL mid-transfer and a new one started:
      the track ends staged once, from the same transfer (one enqueue), with
      no orphaned file in staging. */
#include "harness.h"
#include "test_fake_util.h"

#include "soulpipe/msg.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_KEY "slskd-test-key-0123456789"
#define NFILES  4
#define SIZE    300000  //  above the fake's natural size of a 60 s FLAC (real audio, ~160 KB)
#define LENGTH  60

static sp_test_t s_t;
static fk_t s_fk;
static char s_staging[400];
static char s_job[SP_STORE_ID_MAX];

static void
s_remote (int file, char *buf, size_t n)
{
    snprintf (buf, n, "@@share\\Artist\\Album\\%02d - Track.flac", file + 1);
}

/*  A network of nusers "ok" users named uN, each sharing NFILES files. */
static void
s_start_fake (int nusers, const char *net_extra, const char *user_extra)
{
    fk_init (&s_fk);
    fk_write (&s_fk, "slskd/api-key", API_KEY "\n");
    size_t cap = 4096 + (size_t) nusers * 1024;
    char *net = malloc (cap);
    int n =
        snprintf (net, cap, "{\"logged_in\":true,\"requested_ms\":50,\"init_ms\":50%s,\"users\":[",
                  net_extra);
    for (int u = 0; u < nusers; u++) {
        n += snprintf (net + n, cap - (size_t) n,
                       "%s{\"username\":\"u%d\",\"behavior\":\"ok\"%s,\"files\":[", u ? "," : "", u,
                       user_extra);
        for (int f = 0; f < NFILES; f++) {
            char remote[128], esc[256];
            s_remote (f, remote, sizeof remote);
            size_t k = 0;
            for (const char *c = remote; *c; c++) {
                if (*c == '\\')
                    esc[k++] = '\\';
                esc[k++] = *c;
            }
            esc[k] = '\0';
            n += snprintf (net + n, cap - (size_t) n,
                           "%s{\"filename\":\"%s\",\"size\":%d,\"length\":%d}", f ? "," : "", esc,
                           SIZE, LENGTH);
        }
        n += snprintf (net + n, cap - (size_t) n, "]}");
    }
    snprintf (net + n, cap - (size_t) n, "]}");
    fk_write (&s_fk, "slskd/network.json", net);
    free (net);
    cr_assert_eq (fk_start (&s_fk, NULL), 0, "the fake did not start");
    cr_assert (mkdir (s_fk.downloads, 0755) == 0 || errno == EEXIST);
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_t.dir);
    cr_assert_eq (mkdir (s_staging, 0755), 0);
    sp_test_setenv (&s_t, "SLSKD_URL", s_fk.base);
    sp_test_setenv (&s_t, "SLSKD_API_KEY", API_KEY);
    sp_test_setenv (&s_t, "SLSKD_DOWNLOADS_DIR", s_fk.downloads);
    sp_test_setenv (&s_t, "SOULPIPE_STAGING_DIR", s_staging);
    sp_test_setenv (&s_t, "SOULPIPE_DOWNLOADER_SLOTS", "4");
    sp_test_setenv (&s_t, "SOULPIPE_LOG_LEVEL", "info");  //  the logs are checked
    sp_test_setenv (&s_t, "SOULPIPE_STALL_TIMEOUT_S", "3");
    sp_test_setenv (&s_t, "SOULPIPE_QUEUE_TIMEOUT_S", "3");
}

static void
s_setup (void)
{
    sp_test_init (&s_t, false);
}

static void
s_teardown (void)
{
    sp_test_fini (&s_t);
    fk_stop (&s_fk);
}

/*  A job of n tracks; track i has one candidate: user u<i / NFILES>, file
    i % NFILES. The test plays the searcher: each search task is completed
    with its download payload. */
static void
s_make_job (int n)
{
    sp_store_job_spec_t spec = {.source = "test", .name = "E2E"};
    sp_store_track_spec_t *tracks = calloc ((size_t) n, sizeof *tracks);
    for (int i = 0; i < n; i++) {
        tracks[i].title = "Track";
        tracks[i].artists = "Artist";
        tracks[i].payload = "x";
        tracks[i].payload_len = 1;
    }
    cr_assert_eq (sp_store_job_create (s_t.store, &spec, tracks, (size_t) n, s_job), SP_STORE_OK);
    free (tracks);
    for (int k = 0; k < n; k++) {
        sp_store_task_t *task = NULL;
        cr_assert_eq (sp_store_take (s_t.store, SP_STORE_SEARCH, "test-searcher", 30000, &task),
                      SP_STORE_OK);
        const char *c = strrchr (task->track_key, ':');
        int i = atoi (c + 1);
        sp_payload_t *p = sp_payload_new ();
        p->job = strdup (s_job);
        p->track_key = strdup (task->track_key);
        p->track.title = strdup ("Track");
        sp_msg_strv_add (&p->track.artists, &p->track.artists_count, "Artist");
        p->track.playlist = strdup ("E2E");
        p->track.position = (uint64_t) i;
        p->track.has_duration_ms = true;
        p->track.duration_ms = LENGTH * 1000;
        p->has_search_rounds = true;
        p->search_rounds = 1;
        char user[32], remote[128];
        snprintf (user, sizeof user, "u%d", i / NFILES);
        s_remote (i % NFILES, remote, sizeof remote);
        sp_candidate_t cand = {.username = user,
                               .filename = remote,
                               .size = SIZE,
                               .has_length = true,
                               .length = LENGTH,
                               .score = 1};
        cr_assert_eq (sp_payload_add_candidate (p, &cand), SP_MSG_OK);
        uint8_t *data = NULL;
        size_t size = 0;
        char reason[256];
        cr_assert_eq (sp_payload_encode (p, &data, &size, reason, sizeof reason), SP_MSG_OK, "%s",
                      reason);
        cr_assert_eq (sp_store_complete (s_t.store, task->id, task->fence, SP_STORE_DOWNLOAD, data,
                                         size, NULL),
                      SP_STORE_OK);
        free (data);
        sp_payload_destroy (&p);
        sp_store_task_destroy (&task);
    }
}

static char *
s_track_field (int pos, const char *field, size_t *len)
{
    char key[256];
    snprintf (key, sizeof key, "soulpipe:track:%s:%d", s_job, pos);
    const char *argv[] = {"HGET", key, field};
    redisReply *r = NULL;
    if (sp_store_command (s_t.store, 3, argv, NULL, &r) != SP_STORE_OK)
        return NULL;
    char *v = NULL;
    if (r->type == REDIS_REPLY_STRING) {
        v = malloc (r->len + 1);
        memcpy (v, r->str, r->len);
        v[r->len] = '\0';
        if (len)
            *len = r->len;
    }
    freeReplyObject (r);
    return v;
}

typedef struct {
    int n;
} wait_t;

static bool
s_all_tagging (void *arg)
{
    wait_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        char *stage = s_track_field (i, "stage", NULL);
        char *state = s_track_field (i, "state", NULL);
        bool ok = stage && state && strcmp (stage, "tag") == 0 && strcmp (state, "queued") == 0;
        free (stage);
        free (state);
        if (!ok)
            return false;
    }
    return true;
}

static pid_t
s_start_downloader (const char *name)
{
    const char *argv[] = {sp_test_bin ("soulpipe-downloader"), NULL};
    return sp_test_spawn (&s_t, name, argv);
}

/*  Every regular file under dir (recursively), hidden ones included. */
static int
s_count_files (const char *dir, int *hidden)
{
    DIR *d = opendir (dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir (d)) != NULL) {
        if (!strcmp (e->d_name, ".") || !strcmp (e->d_name, ".."))
            continue;
        if (e->d_name[0] == '.' && hidden)
            (*hidden)++;
        char sub[1024];
        snprintf (sub, sizeof sub, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat (sub, &st) == 0 && S_ISDIR (st.st_mode))
            n += s_count_files (sub, hidden);
        else
            n++;
    }
    closedir (d);
    return n;
}

/*  The payload of the tag task: staged from the expected source. */
static sp_payload_t *
s_tag_payload (int pos)
{
    size_t len = 0;
    char *raw = s_track_field (pos, "payload", &len);
    cr_assert_not_null (raw, "track %d has a payload", pos);
    sp_payload_t *p = NULL;
    char reason[256];
    cr_assert_eq (sp_payload_decode ((const uint8_t *) raw, len, &p, reason, sizeof reason),
                  SP_MSG_OK, "%s", reason);
    free (raw);
    cr_assert_not_null (p->staged_path, "track %d is staged", pos);
    char want[600];
    snprintf (want, sizeof want, "%s/%s/%d.flac", s_staging, s_job, pos);
    cr_assert_str_eq (p->staged_path, want);
    struct stat st;
    cr_assert_eq (stat (want, &st), 0);
    cr_assert_eq (st.st_size, SIZE);
    cr_assert (p->has_source);
    char user[32];
    snprintf (user, sizeof user, "u%d", pos / NFILES);
    cr_assert_str_eq (p->source.username, user);
    cr_assert_not_null (p->transfer_id);
    return p;
}

Test (downloader_e2e, twenty_on_two_workers, .init = s_setup, .fini = s_teardown, .timeout = 120)
{
    //  1.5 s per transfer; one enqueue at a time in slskd (429 otherwise)
    s_start_fake (5, ",\"transfer_ms\":1500,\"max_concurrent_enqueues\":1,\"enqueue_ms\":30", "");
    s_make_job (20);
    sp_test_start_analyzer (&s_t);
    s_start_downloader ("downloader-a");
    s_start_downloader ("downloader-b");
    wait_t w = {20};
    bool done = sp_test_wait (s_all_tagging, &w, 60000);
    if (!done)
        sp_test_dump_logs (&s_t);
    cr_assert (done, "all 20 tracks reach the tag stage");
    json_t *st = fk_stats (&s_fk);
    json_t *sl = json_object_get (st, "slskd");
    long long maxc =
        (long long) json_integer_value (json_object_get (sl, "max_concurrent_transfers"));
    long long enq = (long long) json_integer_value (json_object_get (sl, "enqueued"));
    long long busy =
        (long long) json_integer_value (json_object_get (sl, "enqueues_rejected_busy"));
    fprintf (stderr, "downloader_e2e: max_concurrent_transfers=%lld enqueued=%lld 429s=%lld\n",
             maxc, enq, busy);
    cr_assert_leq (maxc, 8, "at most 8 transfers at once (saw %lld)", maxc);
    cr_assert_geq (maxc, 5, "the two workers did run transfers side by side (saw %lld)", maxc);
    cr_assert_eq (enq, 20, "one enqueue per track");
    json_decref (st);
    for (int i = 0; i < 20; i++) {
        sp_payload_t *p = s_tag_payload (i);
        sp_payload_destroy (&p);
    }
    int hidden = 0;
    cr_assert_eq (s_count_files (s_staging, &hidden), 20);
    cr_assert_eq (hidden, 0, "nothing hidden left in staging");
    //  both workers did some of the work
    char path[600];
    snprintf (path, sizeof path, "%s/downloader-a.log", s_t.dir);
    char *log_a = NULL;
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f);
    size_t cap = 0;
    cr_assert_gt (getdelim (&log_a, &cap, '\0', f), 0);
    fclose (f);
    cr_assert (strstr (log_a, "event=staged"), "downloader-a staged something");
    free (log_a);
}

typedef struct {
    int pos;
} wait_id_t;

static bool
s_transfer_running (void *arg)
{
    wait_id_t *w = arg;
    char *id = s_track_field (w->pos, "transfer_id", NULL);
    bool ok = id && strlen (id) > 30;
    free (id);
    if (!ok)
        return false;
    json_t *st = fk_stats (&s_fk);
    json_t *states = json_object_get (json_object_get (st, "slskd"), "transfer_states");
    ok = json_integer_value (json_object_get (states, "InProgress")) == 1;
    json_decref (st);
    return ok;
}

Test (downloader_e2e, sigkill_mid_transfer, .init = s_setup, .fini = s_teardown, .timeout = 120)
{
    sp_test_setenv (&s_t, "SOULPIPE_LEASE_S", "2");
    s_start_fake (1, ",\"transfer_ms\":5000", "");
    s_make_job (1);
    sp_test_start_analyzer (&s_t);
    pid_t a = s_start_downloader ("downloader-a");
    wait_id_t wi = {0};
    bool running = sp_test_wait (s_transfer_running, &wi, 20000);
    if (!running)
        sp_test_dump_logs (&s_t);
    cr_assert (running, "the transfer started");
    char *id = s_track_field (0, "transfer_id", NULL);
    cr_assert_eq (sp_test_stop (&s_t, a, SIGKILL, 5000), 128 + SIGKILL);
    s_start_downloader ("downloader-b");
    wait_t w = {1};
    bool done = sp_test_wait (s_all_tagging, &w, 30000);
    if (!done)
        sp_test_dump_logs (&s_t);
    cr_assert (done, "the track reaches the tag stage");
    sp_payload_t *p = s_tag_payload (0);
    cr_assert_str_eq (p->transfer_id, id, "staged from the same transfer");
    sp_payload_destroy (&p);
    json_t *st = fk_stats (&s_fk);
    json_t *sl = json_object_get (st, "slskd");
    cr_assert_eq (json_integer_value (json_object_get (sl, "enqueued")), 1, "enqueued once");
    json_decref (st);
    int hidden = 0;
    cr_assert_eq (s_count_files (s_staging, &hidden), 1, "staged once");
    cr_assert_eq (hidden, 0, "no orphan in staging");
    cr_assert_eq (s_count_files (s_fk.downloads, NULL), 0, "nothing left in slskd's folder");
    //  the job came back through its expired lease, and the new holder
    //  followed the recorded transfer (it did not enqueue it again)
    char key[256];
    snprintf (key, sizeof key, "soulpipe:task:%s:0:download", s_job);
    long long attempt = sp_test_hget_int (&s_t, key, "attempt");
    cr_assert_eq (attempt, 2, "second attempt (got %lld)", attempt);
    char path[600];
    snprintf (path, sizeof path, "%s/downloader-b.log", s_t.dir);
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f);
    char *log_b = NULL;
    size_t cap = 0;
    cr_assert_gt (getdelim (&log_b, &cap, '\0', f), 0);
    fclose (f);
    cr_assert (strstr (log_b, "event=transfer_resumed"), "downloader-b resumed the transfer");
    cr_assert_null (strstr (log_b, "event=transfer_enqueued"), "downloader-b enqueued nothing");
    free (log_b);
    free (id);
}
