/*  test_hostile_zmq.c: hostile frames sent to the live analyzer's client
    (ROUTER) and broker (ROUTER) sockets from a raw ZeroMQ DEALER:
    truncated msgpack, a container-count bomb, trailing junk, the wrong
    msgpack type, wrong field types, an unknown message type, a message of
    the other API, extra frames, and a frame above ZMQ_MAXMSGSIZE. Each
    time the analyzer must log a reason, answer an `error` where it can
    (every case but the oversized frame, which libzmq drops together with
    the connection) and keep serving: a following normal request works and
    the process is still running. */
#include "../fakes/audio.h"
#include "harness.h"
#include "soulpipe/msg.h"
#include "soulpipe/payload.h"

#include <criterion/criterion.h>
#include <czmq.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static sp_test_t t;
static pid_t analyzer_pid;

static void
s_fini (void)
{
    sp_test_fini (&t);
}

static zsock_t *
s_dealer (const char *endpoint)
{
    zsock_t *s = zsock_new (ZMQ_DEALER);
    cr_assert_not_null (s);
    zsock_set_rcvtimeo (s, 5000);
    zsock_set_sndtimeo (s, 5000);
    zsock_set_linger (s, 0);
    cr_assert_eq (zsock_connect (s, "%s", endpoint), 0, "connect %s", endpoint);
    return s;
}

//  Send one frame of raw bytes (more: another frame follows).
static void
s_send_raw (zsock_t *s, const void *data, size_t size, bool more)
{
    int rc = zmq_send (zsock_resolve (s), data, size, more ? ZMQ_SNDMORE : 0);
    cr_assert_eq ((size_t) rc, size, "send %zu bytes: %s", size, zmq_strerror (zmq_errno ()));
}

static void
s_send_msg (zsock_t *s, const sp_msg_t *m)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    cr_assert_eq (sp_msg_encode (m, &buf, &n), SP_MSG_OK);
    s_send_raw (s, buf, n, false);
    free (buf);
}

//  The next reply (last frame decoded), or NULL after timeout_ms.
static sp_msg_t *
s_reply (zsock_t *s, int timeout_ms)
{
    zsock_set_rcvtimeo (s, timeout_ms);
    zmsg_t *z = zmsg_recv (s);
    if (!z)
        return NULL;
    zframe_t *f = zmsg_last (z);
    sp_msg_t *m = NULL;
    char reason[256] = "";
    int rc = sp_msg_decode (zframe_data (f), zframe_size (f), 0, &m, reason, sizeof reason);
    zmsg_destroy (&z);
    cr_assert_eq (rc, SP_MSG_OK, "reply does not decode: %s", reason);
    return m;
}

static void
s_alive (void)
{
    int status;
    cr_assert_eq (waitpid (analyzer_pid, &status, WNOHANG), 0, "the analyzer exited");
}

//  `list` on the client socket answers list_ok.
static void
s_list_works (zsock_t *s)
{
    sp_msg_t req = {.type = SP_MSG_LIST};
    s_send_msg (s, &req);
    sp_msg_t *m = s_reply (s, 10000);
    cr_assert_not_null (m, "no answer to list");
    cr_assert_eq (m->type, SP_MSG_LIST_OK, "list answered %s", sp_msg_type_name (m->type));
    sp_msg_destroy (&m);
}

static char *
s_log (void)
{
    char path[512];
    snprintf (path, sizeof path, "%s/analyzer.log", t.dir);
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "%s", path);
    char *buf = calloc (1, 8 << 20);
    size_t n = fread (buf, 1, (8 << 20) - 1, f);
    buf[n] = '\0';
    fclose (f);
    return buf;
}

static size_t
s_count (const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr (hay, needle); p; p = strstr (p + 1, needle))
        n++;
    return n;
}

//  The hostile frames, each a single frame (except the extra-frames case).
typedef struct {
    const char *name;
    uint8_t data[64];
    size_t size;
} s_case_t;

static const s_case_t s_cases[] = {
    //  array32 of 0xff000000 elements: msgpack-c would allocate ~96 GiB
    {"array32 bomb", {0xdd, 0xff, 0x00, 0x00, 0x00}, 5},
    //  map32 of 0x7fffffff pairs, nothing behind
    {"map32 bomb", {0xdf, 0x7f, 0xff, 0xff, 0xff}, 5},
    //  str32 claiming 4 GiB
    {"str32 bomb", {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, 6},
    //  {"v":1,"type":"list"} cut in the middle of "type"
    {"truncated map", {0x82, 0xa1, 'v', 0x01, 0xa4, 't', 'y'}, 7},
    //  a whole list message followed by junk
    {"trailing junk",
     {0x82, 0xa1, 'v', 0x01, 0xa4, 't', 'y', 'p', 'e', 0xa4, 'l', 'i', 's', 't', 0xc1},
     15},
    //  a positive fixint, not a map
    {"integer", {0x05}, 1},
    //  an array, not a map
    {"array", {0x92, 0x01, 0x02}, 3},
    //  nil
    {"nil", {0xc0}, 1},
    //  the reserved byte 0xc1
    {"reserved byte", {0xc1}, 1},
    //  {"v":1,"type":7}: type of the wrong msgpack type
    {"type not a string", {0x82, 0xa1, 'v', 0x01, 0xa4, 't', 'y', 'p', 'e', 0x07}, 10},
    //  {"v":2,"type":"list"}: unknown version
    {"version 2", {0x82, 0xa1, 'v', 0x02, 0xa4, 't', 'y', 'p', 'e', 0xa4, 'l', 'i', 's', 't'}, 14},
    //  {"v":1,"type":"frobnicate"}: unknown message type
    {"unknown type",
     {0x82, 0xa1, 'v', 0x01, 0xa4, 't', 'y', 'p', 'e', 0xaa,
      'f',  'r',  'o', 'b',  'n',  'i', 'c', 'a', 't', 'e'},
     20},
    //  {"v":1,"type":"status","job":5}: a field of the wrong type
    {"job not a string",
     {0x83, 0xa1, 'v', 0x01, 0xa4, 't',  'y', 'p', 'e', 0xa6, 's',
      't',  'a',  't', 'u',  's',  0xa3, 'j', 'o', 'b', 0x05},
     21},
    //  nesting 20 levels deep
    {"deep nesting",
     {0x81, 0xa1, 'x',  0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
      0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01},
     23},
    //  empty frame
    {"empty", {0}, 0},
};
#define S_NCASES (sizeof s_cases / sizeof s_cases[0])

//  Every case: an error reply (bad_message), then the check still works.
static void
s_hostile_round (zsock_t *s, void (*still_works) (zsock_t *), bool expect_error)
{
    for (size_t i = 0; i < S_NCASES; i++) {
        s_send_raw (s, s_cases[i].data, s_cases[i].size, false);
        sp_msg_t *m = s_reply (s, 5000);
        if (expect_error) {
            cr_assert_not_null (m, "%s: no error reply", s_cases[i].name);
            cr_assert_eq (m->type, SP_MSG_ERROR, "%s: answered %s", s_cases[i].name,
                          sp_msg_type_name (m->type));
            cr_assert (m->message && *m->message, "%s: error without a message", s_cases[i].name);
        }
        sp_msg_destroy (&m);
        s_alive ();
        if (still_works)
            still_works (s);
    }
    //  Three frames where one is expected.
    s_send_raw (s, "a", 1, true);
    s_send_raw (s, "b", 1, true);
    s_send_raw (s, "c", 1, false);
    sp_msg_t *m = s_reply (s, 5000);
    cr_assert_not_null (m, "extra frames: no error reply");
    cr_assert_eq (m->type, SP_MSG_ERROR);
    sp_msg_destroy (&m);
    s_alive ();
}

//  A frame of size bytes (a valid msgpack str header and filler), above
//  the socket's ZMQ_MAXMSGSIZE: libzmq drops the peer's connection.
static void
s_send_oversized (zsock_t *s, size_t size)
{
    uint8_t *big = malloc (size);
    cr_assert_not_null (big);
    memset (big, 'x', size);
    big[0] = 0xdb;
    uint32_t n = (uint32_t) (size - 5);
    big[1] = (uint8_t) (n >> 24);
    big[2] = (uint8_t) (n >> 16);
    big[3] = (uint8_t) (n >> 8);
    big[4] = (uint8_t) n;
    s_send_raw (s, big, size, false);
    free (big);
}

TestSuite (hostile_zmq, .fini = s_fini, .timeout = 180);

Test (hostile_zmq, client_socket)
{
    sp_test_init (&t, false);
    analyzer_pid = sp_test_start_analyzer (&t);
    zsock_t *s = s_dealer (t.client_ep);
    s_list_works (s);
    s_hostile_round (s, s_list_works, true);

    //  A broker message on the client socket is refused with an error.
    sp_msg_t ready = {
        .type = SP_MSG_READY, .role = "search", .worker = "w1", .has_credit = true, .credit = 1};
    s_send_msg (s, &ready);
    sp_msg_t *m = s_reply (s, 5000);
    cr_assert_not_null (m, "ready on the client socket: no reply");
    cr_assert_eq (m->type, SP_MSG_ERROR);
    sp_msg_destroy (&m);

    //  Oversized (client limit SP_MSG_MAX_FRAME): no reply, the connection
    //  is dropped; a new client is served.
    s_send_oversized (s, SP_MSG_MAX_FRAME + 4096);
    m = s_reply (s, 2000);
    cr_assert_null (m, "an oversized frame was answered");
    zsock_destroy (&s);
    s_alive ();
    s = s_dealer (t.client_ep);
    s_list_works (s);
    zsock_destroy (&s);
    s_alive ();

    char *log = s_log ();
    //  Every answered case left a reason in the log.
    cr_assert_geq (s_count (log, "event=bad_request"), S_NCASES + 1, "%s", log);
    free (log);
}

//  The broker: a raw worker gets errors for hostile frames, and afterwards
//  a normal `ready` still gets a job the client queued.
Test (hostile_zmq, broker_socket)
{
    sp_test_init (&t, false);
    analyzer_pid = sp_test_start_analyzer (&t);
    zsock_t *w = s_dealer (t.broker_ep);
    s_hostile_round (w, NULL, true);

    s_send_oversized (w, SP_MSG_MAX_BROKER_FRAME + 4096);
    sp_msg_t *m = s_reply (w, 2000);
    cr_assert_null (m, "an oversized frame was answered");
    zsock_destroy (&w);
    s_alive ();

    //  Queue one search job through the client API (no Plex: queued).
    zsock_t *c = s_dealer (t.client_ep);
    sp_msg_t sub = {
        .type = SP_MSG_SUBMIT, .source = "text", .name = "Hostile", .content = "Artist - Song\n"};
    s_send_msg (c, &sub);
    m = s_reply (c, 20000);
    cr_assert_not_null (m, "no answer to submit");
    cr_assert_eq (m->type, SP_MSG_SUBMIT_OK, "submit: %s %s", sp_msg_type_name (m->type),
                  m->message ? m->message : "");
    cr_assert_eq (m->queued, 1);
    sp_msg_destroy (&m);
    zsock_destroy (&c);

    //  A fresh worker that says ready gets the job.
    w = s_dealer (t.broker_ep);
    sp_msg_t ready = {.type = SP_MSG_READY,
                      .role = "search",
                      .worker = "hostile-w",
                      .has_credit = true,
                      .credit = 1};
    s_send_msg (w, &ready);
    m = NULL;
    long long deadline = sp_test_now_ms () + 15000;
    while (sp_test_now_ms () < deadline) {
        m = s_reply (w, 1000);
        if (m && m->type == SP_MSG_TASK)
            break;
        sp_msg_destroy (&m);
        sp_msg_t hb = {.type = SP_MSG_HEARTBEAT, .has_credit = true, .credit = 1};
        s_send_msg (w, &hb);
    }
    cr_assert_not_null (m, "no job after the hostile frames");
    cr_assert_eq (m->type, SP_MSG_TASK);
    cr_assert_str_eq (m->stage, "search");
    sp_msg_destroy (&m);
    zsock_destroy (&w);
    s_alive ();

    char *log = s_log ();
    cr_assert_geq (s_count (log, "event=bad_message"), S_NCASES + 1, "%s", log);
    free (log);
}

/* ------------------------------------------- forged answers (issue 21 item 2) */

//  Queue a one-track text job through the client API; returns its id (static).
static const char *
s_submit_one (void)
{
    static char job[80];
    zsock_t *c = s_dealer (t.client_ep);
    sp_msg_t sub = {
        .type = SP_MSG_SUBMIT, .source = "text", .name = "Forged", .content = "Artist - Song\n"};
    s_send_msg (c, &sub);
    sp_msg_t *m = s_reply (c, 20000);
    cr_assert_not_null (m, "no answer to submit");
    cr_assert_eq (m->type, SP_MSG_SUBMIT_OK, "submit: %s", sp_msg_type_name (m->type));
    snprintf (job, sizeof job, "%s", m->job);
    sp_msg_destroy (&m);
    zsock_destroy (&c);
    return job;
}

//  Say ready as a search worker and wait for a task (caller owns it).
static sp_msg_t *
s_ready_and_take (zsock_t *w, const char *name)
{
    sp_msg_t ready = {.type = SP_MSG_READY,
                      .role = "search",
                      .worker = (char *) name,
                      .has_credit = true,
                      .credit = 1};
    s_send_msg (w, &ready);
    long long deadline = sp_test_now_ms () + 15000;
    while (sp_test_now_ms () < deadline) {
        sp_msg_t *m = s_reply (w, 1000);
        if (m && m->type == SP_MSG_TASK)
            return m;
        sp_msg_destroy (&m);
    }
    cr_assert_fail ("%s got no task", name);
    return NULL;
}

static void
s_job_counts (const char *job, long long *done, long long *failed)
{
    sp_store_job_t *j = NULL;
    cr_assert_eq (sp_store_job_get (t.store, job, &j), SP_STORE_OK);
    *done = j->done;
    *failed = j->failed;
    sp_store_job_destroy (&j);
}

//  Forged answers for a task held by a real worker: from a socket that
//  never said ready, from one that did (also under the victim's own worker
//  name), with the guessable fence, with a guessed token and even with the
//  right token from the wrong socket. None may change the track; the
//  holder's own done still counts.
Test (hostile_zmq, forged_answers_are_refused)
{
    sp_test_init (&t, false);
    sp_test_setenv (&t, "SOULPIPE_LEASE_S", "60");
    analyzer_pid = sp_test_start_analyzer (&t);
    const char *job = s_submit_one ();
    zsock_t *holder = s_dealer (t.broker_ep);
    sp_msg_t *task = s_ready_and_take (holder, "holder");
    long long done, failed;

    //  1. A socket that never said ready: done with the fence guessed as 1.
    zsock_t *rogue = s_dealer (t.broker_ep);
    sp_msg_t forged = {.type = SP_MSG_DONE, .id = task->id, .fence = 1};
    s_send_msg (rogue, &forged);
    sp_msg_t *m = s_reply (rogue, 5000);  //  unknown_worker: the answer has been handled
    sp_msg_destroy (&m);
    sp_msg_t forged_fail = {
        .type = SP_MSG_FAIL, .id = task->id, .fence = 1, .reason = "forged", .retry = false};
    s_send_msg (rogue, &forged_fail);
    m = s_reply (rogue, 5000);
    sp_msg_destroy (&m);
    s_job_counts (job, &done, &failed);
    cr_assert_eq (done, 0, "a forged done from a stranger completed the track");
    cr_assert_eq (failed, 0, "a forged fail from a stranger failed the track");

    //  2. A rogue that said ready (another name, then the holder's own),
    //     with the current fence and a guessed token.
    sp_msg_t ready = {
        .type = SP_MSG_READY, .role = "tag", .worker = "rogue", .has_credit = true, .credit = 1};
    s_send_msg (rogue, &ready);
    ready.worker = "holder";
    s_send_msg (rogue, &ready);
    forged.fence = task->fence;
    forged.has_token = true;
    forged.token = 1;
    s_send_msg (rogue, &forged);
    forged_fail.fence = task->fence;
    forged_fail.has_token = true;
    forged_fail.token = 1;
    s_send_msg (rogue, &forged_fail);

    //  3. The right token, from the wrong socket.
    zsock_t *thief = s_dealer (t.broker_ep);
    forged.token = task->token;
    s_send_msg (thief, &forged);
    m = s_reply (thief, 5000);
    sp_msg_destroy (&m);
    usleep (300 * 1000);
    s_job_counts (job, &done, &failed);
    cr_assert_eq (done, 0, "a forged done completed the track");
    cr_assert_eq (failed, 0, "a forged fail failed the track");

    //  The holder's own answer is taken.
    sp_msg_t real = {.type = SP_MSG_DONE,
                     .id = task->id,
                     .fence = task->fence,
                     .has_token = true,
                     .token = task->token};
    s_send_msg (holder, &real);
    long long deadline = sp_test_now_ms () + 5000;
    do {
        usleep (50 * 1000);
        s_job_counts (job, &done, &failed);
    } while (done == 0 && sp_test_now_ms () < deadline);
    cr_assert_eq (done, 1, "the holder's done was not taken");
    cr_assert_eq (failed, 0);
    s_alive ();
    char *log = s_log ();
    cr_assert_geq (s_count (log, "event=answer_refused"), 4, "%s", log);
    cr_assert (strstr (log, "forged"), "%s", log);
    free (log);
    sp_msg_destroy (&task);
    zsock_destroy (&thief);
    zsock_destroy (&rogue);
    zsock_destroy (&holder);
}

/* ------------------------------------------- bogus floods (issue 21 item 6) */

//  20,000 bogus frames and heartbeats from one socket that never says
//  ready: a bounded number of answers and log lines, and the broker keeps
//  serving (a fresh worker still gets its task).
Test (hostile_zmq, flood_from_a_peer_that_never_said_ready)
{
    sp_test_init (&t, false);
    analyzer_pid = sp_test_start_analyzer (&t);
    zsock_t *f = s_dealer (t.broker_ep);
    static const uint8_t junk[] = {0xc1};
    sp_msg_t hb = {.type = SP_MSG_HEARTBEAT};
    for (int i = 0; i < 20000; i++) {
        if (i % 2)
            s_send_raw (f, junk, sizeof junk, false);
        else
            s_send_msg (f, &hb);
    }
    //  Whatever the broker still answers arrives within a few seconds.
    int answers = 0;
    sp_msg_t *m;
    while ((m = s_reply (f, 3000))) {
        answers++;
        sp_msg_destroy (&m);
    }
    cr_assert_leq (answers, 64, "%d answers to a peer that never said ready", answers);
    s_alive ();
    const char *job = s_submit_one ();
    (void) job;
    zsock_t *w = s_dealer (t.broker_ep);
    sp_msg_t *task = s_ready_and_take (w, "after-flood");
    sp_msg_destroy (&task);
    char *log = s_log ();
    size_t bad = s_count (log, "event=bad_message");
    cr_assert_leq (bad, 64, "%zu bad_message lines for one flood", bad);
    cr_assert_lt (strlen (log), 256u * 1024, "the flood wrote %zu bytes of log", strlen (log));
    free (log);
    zsock_destroy (&w);
    zsock_destroy (&f);
}

/* --------------------------------- another task's staged file (issue 21 item 3) */

//  Say ready for role with credit n and collect n tasks (caller frees).
static void
s_take_n (zsock_t *w, const char *role, const char *name, int n, sp_msg_t **tasks)
{
    sp_msg_t ready = {.type = SP_MSG_READY,
                      .role = (char *) role,
                      .worker = (char *) name,
                      .has_credit = true,
                      .credit = (uint64_t) n};
    s_send_msg (w, &ready);
    int got = 0;
    long long deadline = sp_test_now_ms () + 20000;
    while (got < n && sp_test_now_ms () < deadline) {
        sp_msg_t *m = s_reply (w, 1000);
        if (m && m->type == SP_MSG_TASK)
            tasks[got++] = m;
        else
            sp_msg_destroy (&m);
    }
    cr_assert_eq (got, n, "%s got %d of %d tasks", name, got, n);
}

//  done for task with its own token, next stage and payload bytes.
static void
s_answer_done (zsock_t *w, const sp_msg_t *task, const char *next, uint8_t *payload, size_t size)
{
    sp_msg_t done = {.type = SP_MSG_DONE,
                     .id = task->id,
                     .fence = task->fence,
                     .has_token = task->has_token,
                     .token = task->token,
                     .next = (char *) next,
                     .payload = payload,
                     .payload_size = size};
    s_send_msg (w, &done);
}

//  A download worker (with its own, real task) names another job's staged
//  file as its staged_path: the tagger must refuse it (the rogue's track
//  fails with the reason) and leave the other file alone.
Test (hostile_zmq, staged_path_of_another_task_is_refused)
{
    sp_test_init (&t, false);
    char staging[300], transfer[300];
    snprintf (staging, sizeof staging, "%s/staging", t.dir);
    snprintf (transfer, sizeof transfer, "%s/transfer", t.dir);
    cr_assert_eq (mkdir (staging, 0755), 0);
    cr_assert_eq (mkdir (transfer, 0755), 0);
    sp_test_setenv (&t, "SOULPIPE_STAGING_DIR", staging);
    sp_test_setenv (&t, "SOULPIPE_TRANSFER_DIR", transfer);
    sp_test_setenv (&t, "SOULPIPE_LEASE_S", "60");
    analyzer_pid = sp_test_start_analyzer (&t);
    char victim[80], rogue_job[80];
    snprintf (victim, sizeof victim, "%s", s_submit_one ());
    snprintf (rogue_job, sizeof rogue_job, "%s", s_submit_one ());

    //  search: both tracks go on to download with their payload
    zsock_t *searcher = s_dealer (t.broker_ep);
    sp_msg_t *st[2] = {0};
    s_take_n (searcher, "search", "searcher", 2, st);
    for (int i = 0; i < 2; i++) {
        s_answer_done (searcher, st[i], "download", st[i]->payload, st[i]->payload_size);
        sp_msg_destroy (&st[i]);
    }
    //  download: the victim's file is staged (its answer still to come);
    //  the rogue answers for its own task with the victim's file
    zsock_t *rogue = s_dealer (t.broker_ep);
    sp_msg_t *dt[2] = {0};
    s_take_n (rogue, "download", "rogue", 2, dt);
    sp_msg_t *mine = strncmp (dt[0]->id, rogue_job, strlen (rogue_job)) == 0 ? dt[0] : dt[1];
    char dir[400], victim_file[460];
    snprintf (dir, sizeof dir, "%s/%s", staging, victim);
    cr_assert_eq (mkdir (dir, 0755), 0);
    snprintf (victim_file, sizeof victim_file, "%s/0.flac", dir);
    cr_assert_eq (sp_fake_audio_write (victim_file, "flac", 30, 0, false, NULL), 0);
    sp_payload_t *p = NULL;
    cr_assert_eq (sp_payload_decode (mine->payload, mine->payload_size, &p, NULL, 0), SP_MSG_OK);
    free (p->staged_path);
    p->staged_path = strdup (victim_file);
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
    s_answer_done (rogue, mine, "tag", bytes, len);
    free (bytes);
    sp_payload_destroy (&p);

    //  the real tagger takes the rogue's tag task
    const char *argv[] = {sp_test_bin ("soulpipe-tagger"), NULL};
    sp_test_spawn (&t, "tagger", argv);
    long long done = 0, failed = 0;
    long long deadline = sp_test_now_ms () + 30000;
    while (done + failed == 0 && sp_test_now_ms () < deadline) {
        usleep (100 * 1000);
        s_job_counts (rogue_job, &done, &failed);
    }
    if (failed != 1)
        sp_test_dump_logs (&t);
    cr_assert_eq (done, 0, "the tagger filed another track's staged file");
    cr_assert_eq (failed, 1, "the rogue's track did not fail (done=%lld)", done);
    struct stat sb;
    cr_assert_eq (stat (victim_file, &sb), 0, "the victim's staged file is gone");
    char task_key[160];
    snprintf (task_key, sizeof task_key, "%s:0", rogue_job);
    const char *fields[] = {"reason"};
    char *values[1] = {0};
    cr_assert_eq (sp_store_track_get_fields (t.store, task_key, fields, 1, values), SP_STORE_OK);
    cr_assert (values[0] && strstr (values[0], "not this track's"), "reason: %s",
               values[0] ? values[0] : "(none)");
    free (values[0]);
    for (int i = 0; i < 2; i++)
        sp_msg_destroy (&dt[i]);
    zsock_destroy (&rogue);
    zsock_destroy (&searcher);
}
