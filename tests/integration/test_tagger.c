/*  test_tagger.c: the tag stage against a real redis-server (job and track
    records through the store, as the broker runs them) and an in-test HTTP
    server standing in for the Spotify image host and Plex: the m3u8 lists
    every playlist track in order (skipped ones as comments with the library
    path), covers are fetched once per album, the songs index is written,
    and the library (Plex here, through medialib) is asked to rescan the
    Transfer folder exactly once, when the job ends: also when
    its last track fails in the search stage (the finisher, sp_tagger_finish_*),
    once more when a retried job ends again, never twice for one ending; a
    Subsonic library gets one startScan per job (waited on), a folder
    library none.
*/
#include "../../services/tagger/tagger.h"
//  The integration binary does not link the fake's sources: the audio
//  generator is compiled in here (once per binary: other integration tests
//  that need it declare it through ../fakes/audio.h).
#include "../fakes/audio.c"
#include "soulpipe/songs.h"
#include "soulpipe/store.h"
#include "soulpipe/tags.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const unsigned char s_jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0,    0x10, 'J', 'F',
                                       'I',  'F',  0,    1,    0x42, 0xFF, 0xD9};

static struct {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock;
    int images, refreshes, sections;
    int scans, scan_polls;  //  Subsonic startScan / getScanStatus
    char last_token[64];
    char last_path[256];  //  the refresh's ?path= (the rescan's scope)
} s_srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *data, size_t *size, void **ctx)
{
    (void) cls, (void) method, (void) version, (void) data, (void) size, (void) ctx;
    struct MHD_Response *r;
    int status = 200;
    pthread_mutex_lock (&s_srv.lock);
    if (strncmp (url, "/images/", 8) == 0) {
        s_srv.images++;
        r = MHD_create_response_from_buffer (sizeof s_jpeg, (void *) s_jpeg,
                                             MHD_RESPMEM_PERSISTENT);
    } else if (strcmp (url, "/library/sections") == 0) {
        s_srv.sections++;
        static const char body[] =
            "{\"MediaContainer\":{\"Directory\":[{\"key\":\"3\",\"type\":\"movie\"},"
            "{\"key\":\"7\",\"type\":\"artist\"}]}}";
        r = MHD_create_response_from_buffer (sizeof body - 1, (void *) body,
                                             MHD_RESPMEM_PERSISTENT);
    } else if (strcmp (url, "/library/sections/7/refresh") == 0) {
        s_srv.refreshes++;
        const char *tok = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "X-Plex-Token");
        snprintf (s_srv.last_token, sizeof s_srv.last_token, "%s", tok ? tok : "");
        const char *path = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "path");
        snprintf (s_srv.last_path, sizeof s_srv.last_path, "%s", path ? path : "");
        r = MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
    } else if (strncmp (url, "/rest/startScan", 15) == 0 ||
               strncmp (url, "/rest/getScanStatus", 19) == 0) {
        //  a Subsonic server: startScan says the scan runs, the first
        //  status poll says it is over
        bool start = url[6] == 's';
        if (start)
            s_srv.scans++;
        else
            s_srv.scan_polls++;
        static const char running[] =
            "{\"subsonic-response\":{\"status\":\"ok\",\"version\":\"1.16.1\","
            "\"type\":\"navidrome\",\"scanStatus\":{\"scanning\":true,\"count\":1}}}";
        static const char over[] =
            "{\"subsonic-response\":{\"status\":\"ok\",\"version\":\"1.16.1\","
            "\"type\":\"navidrome\",\"scanStatus\":{\"scanning\":false,\"count\":2}}}";
        r = start ? MHD_create_response_from_buffer (sizeof running - 1, (void *) running,
                                                     MHD_RESPMEM_PERSISTENT)
                  : MHD_create_response_from_buffer (sizeof over - 1, (void *) over,
                                                     MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header (r, "Content-Type", "application/json");
    } else {
        status = 404;
        r = MHD_create_response_from_buffer (0, (void *) "", MHD_RESPMEM_PERSISTENT);
    }
    pthread_mutex_unlock (&s_srv.lock);
    enum MHD_Result ret = MHD_queue_response (c, (unsigned) status, r);
    MHD_destroy_response (r);
    return ret;
}

static char s_root[64], s_staging[128], s_transfer[128];

static void
s_setup (void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    s_srv.daemon =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, s_handler, NULL,
                          MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr, MHD_OPTION_END);
    cr_assert_not_null (s_srv.daemon);
    s_srv.port = MHD_get_daemon_info (s_srv.daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    strcpy (s_root, "/tmp/sp-tagger-it-XXXXXX");
    cr_assert_not_null (mkdtemp (s_root));
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_root);
    snprintf (s_transfer, sizeof s_transfer, "%s/Transfer", s_root);
    cr_assert_eq (mkdir (s_staging, 0755), 0);
    cr_assert_eq (mkdir (s_transfer, 0755), 0);
}

static void
s_teardown (void)
{
    MHD_stop_daemon (s_srv.daemon);
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_root);
    cr_assert_eq (system (cmd), 0);
}

TestSuite (tagger_it, .init = s_setup, .fini = s_teardown);

static const char *
s_url (void)
{
    const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
    if (!url || !*url)
        cr_skip_test ("SOULPIPE_TEST_REDIS_URL not set");
    return url;
}

static void
s_flushdb (sp_store_t *st)
{
    const char *argv[] = {"FLUSHDB"};
    size_t lens[] = {7};
    struct redisReply *r = NULL;
    cr_assert_eq (sp_store_command (st, 1, argv, lens, &r), SP_STORE_OK);
    freeReplyObject (r);
}

static char *s_a1[] = {"Bonnie Tyler"};
static char *s_a2[] = {"Queen", "David Bowie"};

//  Track i of the playlist (1..3 queued; 0 is skipped).
static void
s_track (sp_track_t *t, int i)
{
    memset (t, 0, sizeof *t);
    t->playlist = "Road Trip «Classics»";
    t->position = (uint64_t) i;
    t->has_duration_ms = true;
    t->duration_ms = 30000 + (uint64_t) i * 1000;
    if (i == 1 || i == 2) {
        t->spotify_id = i == 1 ? "trk0000000000000000001" : "trk0000000000000000002";
        t->title = i == 1 ? "Holding Out for a Hero" : "Total Eclipse of the Heart";
        t->artists = s_a1;
        t->artists_count = 1;
        t->album = "Faster Than the Speed of Night";
        t->album_id = "alb0000000000000000001";
        t->album_type = "album";
        t->album_artists = s_a1;
        t->album_artists_count = 1;
        t->has_track_number = true;
        t->track_number = (uint64_t) i;
        t->cover_url = "/images/alb0000000000000000001.jpg";
    } else {
        t->spotify_id = "trk0000000000000000003";
        t->title = "Under Pressure";
        t->artists = s_a2;
        t->artists_count = 2;
        t->album = "Under Pressure";
        t->album_id = "alb0000000000000000003";
        t->album_type = "single";
        t->album_artists = s_a2;
        t->album_artists_count = 1;
        t->cover_url = "/images/alb0000000000000000003.jpg";
    }
}

//  Drive one track through search and download in the store, as the
//  broker would, up to a taken tag task. Caller owns the task.
static sp_store_task_t *
s_to_tag (sp_store_t *st, int i, const char *ext)
{
    sp_store_task_t *task = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_DOWNLOAD, task->payload,
                                     task->payload_len, NULL),
                  SP_STORE_OK);
    sp_store_task_destroy (&task);
    cr_assert_eq (sp_store_take (st, SP_STORE_DOWNLOAD, "w", 30000, &task), SP_STORE_OK);
    sp_payload_t *p = NULL;
    cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, NULL, 0), SP_MSG_OK);
    char staged[512];
    snprintf (staged, sizeof staged, "%s/t%d.%s", s_staging, i, ext);
    cr_assert_eq (sp_fake_audio_write (staged, ext, 30, 0, false, NULL), 0);
    p->staged_path = strdup (staged);
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
    cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_TAG, bytes, len, NULL),
                  SP_STORE_OK);
    free (bytes);
    sp_payload_destroy (&p);
    sp_store_task_destroy (&task);
    cr_assert_eq (sp_store_take (st, SP_STORE_TAG, "w", 30000, &task), SP_STORE_OK);
    return task;
}

static char *
s_read (const char *path)
{
    FILE *fp = fopen (path, "rb");
    if (!fp)
        return NULL;
    char *buf = calloc (1, 65536);
    size_t n = fread (buf, 1, 65535, fp);
    buf[n] = '\0';
    fclose (fp);
    return buf;
}

static void
s_tag_one (sp_tagger_t *tg, sp_store_t *st, sp_store_task_t *task)
{
    sp_payload_t *p = NULL;
    cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, NULL, 0), SP_MSG_OK);
    char reason[256];
    bool retry;
    cr_assert_eq (sp_tagger_process (tg, p, reason, sizeof reason, &retry), 0, "%s", reason);
    sp_store_result_t res = {.path = p->staged_path};
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
    cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_NONE, NULL, 0, &res),
                  SP_STORE_OK);
    free (bytes);
    sp_payload_destroy (&p);
}

Test (tagger_it, playlist_m3u8_covers_songs_and_one_rescan, .timeout = 60)
{
    const char *url = s_url ();
    char base[64];
    snprintf (base, sizeof base, "http://127.0.0.1:%d", s_srv.port);
    sp_tagger_opts_t o = {.transfer_dir = s_transfer,
                          .staging_dir = s_staging,
                          .redis_url = url,
                          .spotify_api_url = base,
                          .library = {.kind = SP_MEDIALIB_PLEX,
                                      .plex_url = base,
                                      .plex_token = "plex-secret",
                                      .plex_sections = "",
                                      .poll_ms = 50},
                          .embed_cover = true};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    sp_store_t *st = sp_tagger_store (tg);
    s_flushdb (st);

    //  The job: track 0 is in the library, 1..3 are to be downloaded.
    sp_store_track_spec_t specs[4];
    uint8_t *payloads[4] = {NULL};
    memset (specs, 0, sizeof specs);
    specs[0] = (sp_store_track_spec_t){.spotify_id = "trk0000000000000000000",
                                       .title = "Africa",
                                       .artists = "[\"Toto\"]",
                                       .skipped = true,
                                       .reason = "in library",
                                       .path = "/music/Toto/Africa.flac"};
    sp_track_t tracks[4];
    for (int i = 1; i < 4; i++) {
        s_track (&tracks[i], i);
        sp_payload_t p = {.job = "pending", .track_key = "pending", .track = tracks[i]};
        size_t len = 0;
        cr_assert_eq (sp_payload_encode (&p, &payloads[i], &len, err, sizeof err), SP_MSG_OK, "%s",
                      err);
        specs[i] = (sp_store_track_spec_t){.spotify_id = tracks[i].spotify_id,
                                           .title = tracks[i].title,
                                           .artists = i == 3 ? "[\"Queen\",\"David Bowie\"]"
                                                             : "[\"Bonnie Tyler\"]",
                                           .payload = payloads[i],
                                           .payload_len = len};
    }
    sp_store_job_spec_t js = {
        .source = "spotify:playlist:x", .name = "Road Trip «Classics»", .library_checked = true};
    char job[SP_STORE_ID_MAX];
    cr_assert_eq (sp_store_job_create (st, &js, specs, 4, job), SP_STORE_OK);
    for (int i = 1; i < 4; i++)
        free (payloads[i]);

    //  Payloads carry the job's id and track keys as the analyzer's would.
    //  (They were encoded before the id existed; patch them per task.)
    const char *exts[] = {NULL, "flac", "mp3", "m4a"};
    char m3u8[600];
    snprintf (m3u8, sizeof m3u8, "%s/Road Trip «Classics»/Road Trip «Classics».m3u8", s_transfer);
    for (int i = 1; i < 4; i++) {
        sp_store_task_t *task = s_to_tag (st, i, exts[i]);
        sp_payload_t *p = NULL;
        cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, NULL, 0), SP_MSG_OK);
        free (p->job);
        free (p->track_key);
        p->job = strdup (job);
        p->track_key = strdup (task->track_key);
        uint8_t *bytes = NULL;
        size_t len = 0;
        cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
        free (task->payload);
        task->payload = bytes;
        task->payload_len = len;
        sp_payload_destroy (&p);
        cr_expect_eq (s_srv.refreshes, 0, "rescan before the last track (%d)", i);
        s_tag_one (tg, st, task);
        sp_store_task_destroy (&task);
        char *text = s_read (m3u8);
        cr_assert_not_null (text, "no m3u8 after track %d", i);
        cr_expect_not_null (
            strstr (text, "# 1. Toto - Africa (in library: /music/Toto/Africa.flac)"), "%s", text);
        free (text);
    }
    char *text = s_read (m3u8);
    cr_assert_not_null (text);
    cr_expect_str_eq (text, "#EXTM3U\n#PLAYLIST:Road Trip «Classics»\n"
                            "# 1. Toto - Africa (in library: /music/Toto/Africa.flac)\n"
                            "#EXTINF:31,Bonnie Tyler - Holding Out for a Hero\n"
                            "Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of Night/01 - "
                            "Holding Out for a Hero.flac\n"
                            "#EXTINF:32,Bonnie Tyler - Total Eclipse of the Heart\n"
                            "Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of Night/02 - Total "
                            "Eclipse of the Heart.mp3\n"
                            "#EXTINF:33,Queen, David Bowie - Under Pressure\n"
                            "Queen/Queen - Under Pressure/Under Pressure.m4a\n");
    free (text);
    //  The rescan is the finisher's, once the store says the job ended.
    cr_expect_eq (s_srv.refreshes, 0, "rescan before the job ended");
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 0, "one ending, one entry");
    cr_expect_eq (s_srv.refreshes, 1, "one rescan per job, got %d", s_srv.refreshes);
    cr_expect_str_eq (s_srv.last_token, "plex-secret");
    cr_expect_eq (s_srv.images, 2, "one cover fetch per album, got %d", s_srv.images);

    //  cover.jpg beside the tracks and embedded
    char path[700];
    snprintf (path, sizeof path,
              "%s/Road Trip «Classics»/Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of "
              "Night/cover.jpg",
              s_transfer);
    struct stat sb;
    cr_expect_eq (stat (path, &sb), 0);
    cr_expect_eq (sb.st_size, (off_t) sizeof s_jpeg);
    snprintf (path, sizeof path,
              "%s/Road Trip «Classics»/Queen/Queen - Under Pressure/Under Pressure.m4a",
              s_transfer);
    unsigned char *pic = NULL;
    size_t plen = 0;
    cr_assert_eq (sp_tags_get_picture (path, &pic, &plen, NULL), SP_TAGS_OK);
    cr_expect_eq (plen, sizeof s_jpeg);
    free (pic);

    //  songs index and job state
    sp_songs_entry_t e;
    cr_assert_eq (sp_songs_get (st, "trk0000000000000000003", &e), SP_STORE_OK);
    cr_expect_str_eq (e.path, path);
    cr_expect_str_eq (e.job, job);
    sp_songs_entry_clear (&e);
    sp_store_job_t *j = NULL;
    cr_assert_eq (sp_store_job_get (st, job, &j), SP_STORE_OK);
    cr_expect_eq (j->done, 3);
    cr_expect_str_eq (j->state, "done");
    sp_store_job_destroy (&j);

    //  A re-run of the last tag (lost done) neither writes twice nor rescans again.
    s_track (&tracks[3], 3);
    sp_payload_t again = {.job = job, .track_key = "x", .track = tracks[3]};
    char staged[512];
    snprintf (staged, sizeof staged, "%s/t3-again.m4a", s_staging);
    cr_assert_eq (sp_fake_audio_write (staged, "m4a", 30, 0, false, NULL), 0);
    again.staged_path = strdup (staged);
    char reason[256];
    bool retry;
    cr_assert_eq (sp_tagger_process (tg, &again, reason, sizeof reason, &retry), 0, "%s", reason);
    cr_expect_str_eq (again.staged_path, path);
    free (again.staged_path);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 0);
    cr_expect_eq (s_srv.refreshes, 1);
    sp_tagger_destroy (&tg);
}

//  Patch a tag/search payload with the job id and track key (the specs were
//  encoded before the job id existed).
static void
s_patch (sp_store_task_t *task, const char *job)
{
    sp_payload_t *p = NULL;
    cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, NULL, 0), SP_MSG_OK);
    free (p->job);
    free (p->track_key);
    p->job = strdup (job);
    p->track_key = strdup (task->track_key);
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
    free (task->payload);
    task->payload = bytes;
    task->payload_len = len;
    sp_payload_destroy (&p);
}

static void
s_fail_search (sp_store_t *st, const char *reason)
{
    sp_store_task_t *task = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task), SP_STORE_OK);
    cr_assert_str_eq (task->track_key + strlen (task->track_key) - 2, ":2", "%s", task->track_key);
    cr_assert_eq (sp_store_fail (st, task->id, task->fence, reason, false, 3, 0), SP_STORE_OK);
    sp_store_task_destroy (&task);
}

static long long
s_llen (sp_store_t *st, const char *key)
{
    const char *argv[] = {"LLEN", key};
    size_t lens[] = {4, strlen (key)};
    struct redisReply *r = NULL;
    cr_assert_eq (sp_store_command (st, 2, argv, lens, &r), SP_STORE_OK);
    cr_assert_eq (r->type, REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject (r);
    return n;
}

//  The last track of the job fails in the search stage after the others were
//  tagged: no tagger runs after it, yet the m3u8 ends up listing it as failed
//  and Plex gets exactly one refresh. A retry that ends again gets its own
//  final m3u8 and one more refresh; a finisher that died midway is recovered
//  without a second refresh.
Test (tagger_it, last_track_fails_in_search_m3u8_final_one_rescan, .timeout = 60)
{
    const char *url = s_url ();
    char base[64];
    snprintf (base, sizeof base, "http://127.0.0.1:%d", s_srv.port);
    sp_tagger_opts_t o = {.transfer_dir = s_transfer,
                          .staging_dir = s_staging,
                          .redis_url = url,
                          .spotify_api_url = base,
                          .library = {.kind = SP_MEDIALIB_PLEX,
                                      .plex_url = base,
                                      .plex_token = "plex-secret",
                                      .plex_sections = "7",
                                      .poll_ms = 50},
                          .embed_cover = false};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    sp_store_t *st = sp_tagger_store (tg);
    s_flushdb (st);

    //  Three queued tracks (positions 0..2 = s_track 1..3).
    sp_store_track_spec_t specs[3];
    uint8_t *payloads[3] = {NULL};
    sp_track_t tracks[3];
    for (int i = 0; i < 3; i++) {
        s_track (&tracks[i], i + 1);
        sp_payload_t p = {.job = "pending", .track_key = "pending", .track = tracks[i]};
        size_t len = 0;
        cr_assert_eq (sp_payload_encode (&p, &payloads[i], &len, err, sizeof err), SP_MSG_OK, "%s",
                      err);
        specs[i] = (sp_store_track_spec_t){.spotify_id = tracks[i].spotify_id,
                                           .title = tracks[i].title,
                                           .artists = i == 2 ? "[\"Queen\",\"David Bowie\"]"
                                                             : "[\"Bonnie Tyler\"]",
                                           .payload = payloads[i],
                                           .payload_len = len};
    }
    sp_store_job_spec_t js = {
        .source = "spotify:playlist:y", .name = "Road Trip «Classics»", .library_checked = true};
    char job[SP_STORE_ID_MAX];
    cr_assert_eq (sp_store_job_create (st, &js, specs, 3, job), SP_STORE_OK);
    for (int i = 0; i < 3; i++)
        free (payloads[i]);

    //  Tracks 0 and 1: search, download, tag, done. s_to_tag takes the search
    //  queue's head, which is track 0 then 1; track 2 stays queued behind.
    const char *exts[] = {"flac", "mp3"};
    for (int i = 0; i < 2; i++) {
        sp_store_task_t *task = s_to_tag (st, i + 1, exts[i]);
        s_patch (task, job);
        s_tag_one (tg, st, task);
        sp_store_task_destroy (&task);
    }
    char m3u8[600];
    snprintf (m3u8, sizeof m3u8, "%s/Road Trip «Classics»/Road Trip «Classics».m3u8", s_transfer);
    char *text = s_read (m3u8);
    cr_assert_not_null (text);
    cr_expect_not_null (strstr (text, "# 3. Queen, David Bowie - Under Pressure (queued)"), "%s",
                        text);
    free (text);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 0, "the job has not ended");

    //  Track 2 fails in the search stage: the job ends with no tagger running.
    s_fail_search (st, "no results for \"Queen Under Pressure\"");
    sp_store_job_t *j = NULL;
    cr_assert_eq (sp_store_job_get (st, job, &j), SP_STORE_OK);
    cr_expect_str_eq (j->state, "done");
    cr_expect_eq (j->failed, 1);
    sp_store_job_destroy (&j);
    cr_expect_eq (s_srv.refreshes, 0);
    cr_expect_eq (s_llen (st, "soulpipe:finished"), 1);

    //  The finisher (waiting as the thread does) finalizes it once.
    cr_expect_eq (sp_tagger_finish_next (tg, 500), 1);
    cr_expect_eq (s_llen (st, "soulpipe:finishing"), 0, "entry dropped after finishing");
    const char *final1 = "#EXTM3U\n#PLAYLIST:Road Trip «Classics»\n"
                         "#EXTINF:31,Bonnie Tyler - Holding Out for a Hero\n"
                         "Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of Night/01 - Holding "
                         "Out for a Hero.flac\n"
                         "#EXTINF:32,Bonnie Tyler - Total Eclipse of the Heart\n"
                         "Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of Night/02 - Total "
                         "Eclipse of the Heart.mp3\n"
                         "# 3. Queen, David Bowie - Under Pressure (failed: no results for \"Queen "
                         "Under Pressure\")\n";
    text = s_read (m3u8);
    cr_assert_not_null (text);
    cr_expect_str_eq (text, final1);
    free (text);
    cr_expect_eq (s_srv.refreshes, 1, "one refresh, got %d", s_srv.refreshes);
    //  the configured section only, scoped to the Transfer folder (the
    //  section list is read to see the scan finish)
    cr_expect_str_eq (s_srv.last_path, s_transfer, "the rescan's scope");
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 0);
    //  Finishing the same ending again (a second tagger, a replay) does not
    //  ask Plex again.
    cr_expect_eq (sp_tagger_finish_job (tg, job, 1), 0);
    cr_expect_eq (s_srv.refreshes, 1);

    //  soulpipe retry: the job runs again and ends again (fails again, with
    //  another reason): a new ending, a new final m3u8, one more refresh.
    int count = 0;
    cr_assert_eq (sp_store_retry_job (st, job, &count), SP_STORE_OK);
    cr_expect_eq (count, 1);
    //  While it runs, an old entry of it is skipped (no rescan mid-run).
    cr_expect_eq (sp_tagger_finish_job (tg, job, 1), 0);
    s_fail_search (st, "no results again");
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    cr_expect_eq (s_srv.refreshes, 2, "a second ending rescans once more, got %d", s_srv.refreshes);
    text = s_read (m3u8);
    cr_assert_not_null (text);
    cr_expect_not_null (
        strstr (text, "# 3. Queen, David Bowie - Under Pressure (failed: no results again)\n"),
        "%s", text);
    free (text);

    //  A finisher that died after taking the entry: the next start puts it
    //  back; finishing it again rewrites the m3u8 but does not rescan again.
    char entry[SP_STORE_ID_MAX + 8];
    snprintf (entry, sizeof entry, "%s 2", job);
    const char *push[] = {"RPUSH", "soulpipe:finishing", entry};
    size_t lens[] = {5, 18, strlen (entry)};
    struct redisReply *r = NULL;
    cr_assert_eq (sp_store_command (st, 3, push, lens, &r), SP_STORE_OK);
    freeReplyObject (r);
    cr_expect_eq (sp_tagger_finish_recover (tg), 1);
    cr_expect_eq (s_llen (st, "soulpipe:finishing"), 0);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    cr_expect_eq (s_srv.refreshes, 2);

    //  A malformed entry is dropped, not retried forever.
    const char *bad[] = {"RPUSH", "soulpipe:finished", "garbage"};
    size_t blens[] = {5, 17, 7};
    cr_assert_eq (sp_store_command (st, 3, bad, blens, &r), SP_STORE_OK);
    freeReplyObject (r);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    cr_expect_eq (s_llen (st, "soulpipe:finished") + s_llen (st, "soulpipe:finishing"), 0);
    char report[256];
    cr_expect_eq (sp_store_check_counters (st, job, report, sizeof report), SP_STORE_OK, "%s",
                  report);

    //  The playlist submitted again: the two delivered tracks are skipped
    //  (songs index, their path in this folder), the third fails again. The
    //  final m3u8 still lists the two files (not as comments), no rescan
    //  since nothing new was filed.
    char paths[2][700];
    sp_store_track_spec_t again[3];
    memset (again, 0, sizeof again);
    for (int i = 0; i < 2; i++) {
        snprintf (paths[i], sizeof paths[i],
                  "%s/Road Trip «Classics»/Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of "
                  "Night/0%d - %s.%s",
                  s_transfer, i + 1, tracks[i].title, exts[i]);
        again[i] = (sp_store_track_spec_t){.spotify_id = tracks[i].spotify_id,
                                           .title = tracks[i].title,
                                           .artists = "[\"Bonnie Tyler\"]",
                                           .skipped = true,
                                           .reason = "already downloaded",
                                           .path = paths[i]};
    }
    again[2] = (sp_store_track_spec_t){.spotify_id = tracks[2].spotify_id,
                                       .title = tracks[2].title,
                                       .artists = "[\"Queen\",\"David Bowie\"]",
                                       .payload = "p",
                                       .payload_len = 1};
    char job2[SP_STORE_ID_MAX];
    cr_assert_eq (sp_store_job_create (st, &js, again, 3, job2), SP_STORE_OK);
    s_fail_search (st, "still nothing");
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    cr_expect_eq (s_srv.refreshes, 2);
    text = s_read (m3u8);
    cr_assert_not_null (text);
    cr_expect_str_eq (text, "#EXTM3U\n#PLAYLIST:Road Trip «Classics»\n"
                            "#EXTINF:30,Bonnie Tyler - Holding Out for a Hero\n"
                            "Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of Night/01 - "
                            "Holding Out for a Hero.flac\n"
                            "#EXTINF:30,Bonnie Tyler - Total Eclipse of the Heart\n"
                            "Bonnie Tyler/Bonnie Tyler - Faster Than the Speed of Night/02 - Total "
                            "Eclipse of the Heart.mp3\n"
                            "# 3. Queen, David Bowie - Under Pressure (failed: still nothing)\n");
    free (text);
    sp_tagger_destroy (&tg);
}

//  A job where nothing was filed (every track failed) gets no rescan and no
//  playlist folder of its own; a cancelled running job is finalized too.
Test (tagger_it, finish_without_files_and_cancel, .timeout = 60)
{
    const char *url = s_url ();
    char base[64];
    snprintf (base, sizeof base, "http://127.0.0.1:%d", s_srv.port);
    sp_tagger_opts_t o = {.transfer_dir = s_transfer,
                          .staging_dir = s_staging,
                          .redis_url = url,
                          .library = {.kind = SP_MEDIALIB_PLEX,
                                      .plex_url = base,
                                      .plex_token = "plex-secret",
                                      .plex_sections = "7",
                                      .poll_ms = 50}};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    sp_store_t *st = sp_tagger_store (tg);
    s_flushdb (st);
    sp_store_track_spec_t spec = {.spotify_id = "x",
                                  .title = "Nothing",
                                  .artists = "[\"Nobody\"]",
                                  .payload = "p",
                                  .payload_len = 1};
    sp_store_job_spec_t js = {.source = "s", .name = "Empty Handed"};
    char job[SP_STORE_ID_MAX], job2[SP_STORE_ID_MAX];
    cr_assert_eq (sp_store_job_create (st, &js, &spec, 1, job), SP_STORE_OK);
    sp_store_task_t *task = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_store_fail (st, task->id, task->fence, "nothing found", false, 3, 0),
                  SP_STORE_OK);
    sp_store_task_destroy (&task);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    cr_expect_eq (s_srv.refreshes, 0, "nothing filed: no rescan");
    char dir[300];
    snprintf (dir, sizeof dir, "%s/Empty Handed", s_transfer);
    struct stat sb;
    cr_expect_neq (stat (dir, &sb), 0, "no folder for a job that filed nothing");

    //  Cancel a running job: it ends (entry pushed once, even if cancelled twice).
    js.name = "Cancelled One";
    cr_assert_eq (sp_store_job_create (st, &js, &spec, 1, job2), SP_STORE_OK);
    cr_assert_eq (sp_store_cancel_job (st, job2, NULL), SP_STORE_OK);
    cr_assert_eq (sp_store_cancel_job (st, job2, NULL), SP_STORE_OK);
    cr_expect_eq (s_llen (st, "soulpipe:finished"), 1);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 0);
    cr_expect_eq (s_srv.refreshes, 0);
    sp_tagger_destroy (&tg);
}

//  The m3u8 writer takes the store's per-playlist lock: while another
//  process holds it, the final m3u8 waits for the lock (here until that
//  holder's lease runs out), then is written, and the lock is released.
Test (tagger_it, m3u8_waits_for_the_playlist_lock, .timeout = 60)
{
    const char *url = s_url ();
    sp_tagger_opts_t o = {.transfer_dir = s_transfer, .staging_dir = s_staging, .redis_url = url};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    sp_store_t *st = sp_tagger_store (tg);
    s_flushdb (st);
    sp_store_t *other = sp_store_new (url, err, sizeof err);
    cr_assert_not_null (other, "%s", err);

    //  A job whose only track fails, in a playlist folder that exists (an
    //  earlier job filed into it): the finisher rewrites its m3u8.
    char dir[300], m3u8[700];
    snprintf (dir, sizeof dir, "%s/Waiting List", s_transfer);
    snprintf (m3u8, sizeof m3u8, "%s/Waiting List.m3u8", dir);
    cr_assert_eq (mkdir (dir, 0755), 0);
    sp_store_track_spec_t spec = {.spotify_id = "x",
                                  .title = "Late",
                                  .artists = "[\"Nobody\"]",
                                  .payload = "p",
                                  .payload_len = 1};
    sp_store_job_spec_t js = {.source = "s", .name = "Waiting List"};
    char job[SP_STORE_ID_MAX];
    cr_assert_eq (sp_store_job_create (st, &js, &spec, 1, job), SP_STORE_OK);
    sp_store_task_t *task = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_store_fail (st, task->id, task->fence, "nothing found", false, 3, 0),
                  SP_STORE_OK);
    sp_store_task_destroy (&task);

    sp_store_lock_t held;
    cr_assert_eq (sp_store_lock_acquire (other, "playlist:Waiting List", 1500, 0, &held),
                  SP_STORE_OK);
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    cr_expect_eq (sp_tagger_finish_next (tg, 0), 1);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    cr_expect_geq (ms, 1200, "the m3u8 did not wait for the lock (%ld ms)", ms);
    char *text = s_read (m3u8);
    cr_assert_not_null (text, "no m3u8 written after the lock was free");
    cr_expect_not_null (strstr (text, "# 1. Nobody - Late (failed: nothing found)"), "%s", text);
    free (text);
    //  The old holder lost it; the writer released its own.
    cr_expect_eq (sp_store_lock_release (other, &held), SP_STORE_ESTALE);
    sp_store_lock_t again;
    cr_expect_eq (sp_store_lock_acquire (other, "playlist:Waiting List", 1000, 0, &again),
                  SP_STORE_OK, "the writer did not release the lock");
    cr_expect_gt (again.fence, held.fence + 1, "the writer's acquisition is counted");
    sp_store_lock_release (other, &again);
    sp_store_destroy (&other);
    sp_tagger_destroy (&tg);
}

//  The finisher rescans whatever library is configured, not only Plex: a
//  Subsonic (Navidrome) library gets one startScan when the job ends, then
//  the status is polled until the scan is over; a folder library needs none.
Test (tagger_it, subsonic_library_one_scan_per_job_folder_none, .timeout = 60)
{
    const char *url = s_url ();
    char base[64];
    snprintf (base, sizeof base, "http://127.0.0.1:%d", s_srv.port);
    for (int round = 0; round < 2; round++) {
        bool folder = round == 1;
        sp_tagger_opts_t o = {
            .transfer_dir = s_transfer,
            .staging_dir = s_staging,
            .redis_url = url,
            .spotify_api_url = base,
            .library = {.kind = folder ? SP_MEDIALIB_FOLDER : SP_MEDIALIB_SUBSONIC,
                        .subsonic_url = base,
                        .subsonic_user = "demo",
                        .subsonic_password = "pw",
                        .library_dir = s_transfer,
                        .poll_ms = 50},
            .scan_timeout_ms = 5000,
            .embed_cover = false};
        char err[256] = "";
        sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
        cr_assert_not_null (tg, "%s", err);
        sp_store_t *st = sp_tagger_store (tg);
        s_flushdb (st);
        sp_track_t track;
        s_track (&track, 1);
        sp_payload_t p = {.job = "pending", .track_key = "pending", .track = track};
        uint8_t *payload = NULL;
        size_t len = 0;
        cr_assert_eq (sp_payload_encode (&p, &payload, &len, err, sizeof err), SP_MSG_OK, "%s",
                      err);
        sp_store_track_spec_t spec = {.spotify_id = track.spotify_id,
                                      .title = track.title,
                                      .artists = "[\"Bonnie Tyler\"]",
                                      .payload = payload,
                                      .payload_len = len};
        sp_store_job_spec_t js = {.source = "spotify:playlist:z",
                                  .name = folder ? "Folder Run" : "Subsonic Run",
                                  .library_checked = true};
        char job[SP_STORE_ID_MAX];
        cr_assert_eq (sp_store_job_create (st, &js, &spec, 1, job), SP_STORE_OK);
        free (payload);
        sp_store_task_t *task = s_to_tag (st, 1, "flac");
        s_patch (task, job);
        s_tag_one (tg, st, task);
        sp_store_task_destroy (&task);
        int before = s_srv.scans;
        cr_expect_eq (sp_tagger_finish_next (tg, 1000), 1);
        cr_expect_eq (sp_tagger_finish_next (tg, 0), 0);
        if (!folder) {
            cr_expect_eq (s_srv.scans, before + 1, "one startScan per job, got %d",
                          s_srv.scans - before);
            cr_expect_geq (s_srv.scan_polls, 1, "the scan's end was waited for");
            //  the same ending again: no second scan
            cr_expect_eq (sp_tagger_finish_job (tg, job, 1), 0);
            cr_expect_eq (s_srv.scans, before + 1);
        } else
            cr_expect_eq (s_srv.scans, before, "a folder library needs no rescan");
        sp_tagger_destroy (&tg);
    }
}
