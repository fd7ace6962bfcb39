/*  test_analyzer_demo.c: the analyzer on the demo fixture (tests/fixtures/
    demo, a Development Mode app) against the fake Spotify and Plex.

    1. Without a login the playlist is refused with "run soulpipe login
       spotify"; after the PKCE login the 9 tracks that the fake Plex
       library holds are skipped with the right reasons (the Plex track and
       its file, confidence >= 0.8), and all the others are queued,
       including the 8 near misses of EXPECTED.md that must NOT count.
       The expectations are read from EXPECTED.md, so the test follows the
       fixture when it is regenerated.
    2. Re-submitting downloads only what is new: after the queued tracks
       went through the stages (done, file delivered, songs index written as
       the tagger does) and two failed, the same playlist queues only the
       two failed tracks; a delivered file that was deleted is queued again.
*/
#include "test_analyzer_common.h"

#include "soulpipe/songs.h"

#include <jansson.h>

#define DEMO_PLAYLIST "3cEYpjA9oz9GiPac4AsH4n"
#define DEMO_URL      "https://open.spotify.com/playlist/" DEMO_PLAYLIST "?si=demo"
#define DEMO_NAME     "Road Trip Classics"
#define DEMO_TRACKS   28
#define MAX_POS       64

TestSuite (analyzer_demo, .fini = ta_fini, .timeout = 120);

//  What EXPECTED.md says per 1-based position.
typedef struct {
    bool in_library[MAX_POS];
    char plex_path[MAX_POS][256];  /* the matched Plex file */
    char plex_track[MAX_POS][256]; /* "Artist - Title" of the Plex track */
    bool near_miss[MAX_POS];       /* a library near miss that must not count */
    bool failed[MAX_POS];          /* no acceptable copy: the run fails it */
    int n_tracks, n_in_library, n_near_misses, n_failed;
} s_expected_t;

//  Copy the text between the first pair of c in line into out.
static bool
s_between (const char *line, char c, char *out, size_t n)
{
    const char *a = strchr (line, c);
    const char *b = a ? strchr (a + 1, c) : NULL;
    if (!b || (size_t) (b - a - 1) >= n)
        return false;
    memcpy (out, a + 1, (size_t) (b - a - 1));
    out[b - a - 1] = '\0';
    return true;
}

static void
s_read_expected (const char *path, s_expected_t *x)
{
    memset (x, 0, sizeof *x);
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f, "cannot read %s", path);
    char line[2048];
    int pos = 0;
    while (fgets (line, sizeof line, f)) {
        int p;
        if (sscanf (line, "## %d. ", &p) == 1) {
            cr_assert (p > 0 && p < MAX_POS, "%s", line);
            pos = p;
            if (p > x->n_tracks)
                x->n_tracks = p;
            continue;
        }
        if (pos == 0)
            continue;
        if (strncmp (line, "- **skipped (in library)**", 26) == 0) {
            x->in_library[pos] = true;
            x->n_in_library++;
            cr_assert (s_between (line, '`', x->plex_path[pos], sizeof x->plex_path[pos]), "%s",
                       line);
            cr_assert (s_between (line, '"', x->plex_track[pos], sizeof x->plex_track[pos]), "%s",
                       line);
        } else if (strncmp (line, "- library near miss, must NOT count", 35) == 0) {
            x->near_miss[pos] = true;
            x->n_near_misses++;
        } else if (strncmp (line, "- **failed**", 12) == 0) {
            x->failed[pos] = true;
            x->n_failed++;
        }
    }
    fclose (f);
    //  the fixture's own totals; a parse that finds less is a broken test
    cr_assert_eq (x->n_tracks, DEMO_TRACKS);
    cr_assert_eq (x->n_in_library, 9);
    cr_assert_eq (x->n_near_misses, 8);
    cr_assert_eq (x->n_failed, 2);
}

typedef struct {
    char fixtures[400];
    char transfer[400];
    char url[64];
    pid_t fake;
    int port;
    sp_store_t *store;
    sp_config_t cfg;
    sp_analyzer_t *an;
    s_expected_t x;
} s_demo_t;

static void
s_demo_start (s_demo_t *d)
{
    memset (d, 0, sizeof *d);
    d->store = ta_store ();
    const char *src = getenv ("SOULPIPE_SRC_DIR");
    char demo[512], expected[600];
    snprintf (demo, sizeof demo, "%s/tests/fixtures/demo", src && *src ? src : ".");
    snprintf (expected, sizeof expected, "%s/EXPECTED.md", demo);
    if (access (expected, R_OK) != 0)
        cr_skip_test ("no demo fixture at %s (set SOULPIPE_SRC_DIR)", demo);
    s_read_expected (expected, &d->x);

    snprintf (d->fixtures, sizeof d->fixtures, "%s/fixtures", ta_t.dir);
    snprintf (d->transfer, sizeof d->transfer, "%s/Transfer", ta_t.dir);
    const char *cp[] = {"/bin/cp", "-r", demo, d->fixtures, NULL};
    cr_assert_eq (sp_test_run (&ta_t, cp, 30000, NULL, NULL), 0, "cp -r %s", demo);
    char downloads[420];
    snprintf (downloads, sizeof downloads, "%s/downloads", ta_t.dir);
    cr_assert_eq (mkdir (downloads, 0700), 0);
    cr_assert_eq (mkdir (d->transfer, 0700), 0);
    d->fake = ta_fake_start (&ta_t, d->fixtures, downloads, &d->port);
    snprintf (d->url, sizeof d->url, "http://127.0.0.1:%d", d->port);

    //  the secrets as the user configures them: the fixture's client id and
    //  secret (client credentials cannot read a Development Mode playlist's
    //  items: the login is what makes it work) and the Plex token
    const char *vars[] = {"SPOTIFY_CLIENT_ID",
                          "demo-client-id-7f3a9c",
                          "SPOTIFY_CLIENT_SECRET",
                          "demo-client-secret-1b8e44d0",
                          "SPOTIFY_ACCOUNTS_URL",
                          d->url,
                          "SPOTIFY_API_URL",
                          d->url,
                          "PLEX_URL",
                          d->url,
                          "PLEX_TOKEN",
                          "demo-plex-token-Zx81q",
                          "SOULPIPE_LIBRARY_CACHE_S",
                          "0",
                          NULL};
    ta_config (&d->cfg, vars);
    char err[256];
    d->an = sp_analyzer_new (&d->cfg, NULL, err, sizeof err);
    cr_assert_not_null (d->an, "%s", err);
}

static void
s_demo_stop (s_demo_t *d)
{
    sp_analyzer_destroy (&d->an);
    sp_config_destroy (&d->cfg);
    ta_fake_stop (&ta_t, d->fake);
    d->store = NULL;
    ta_fini ();
}

//  The confidence at the end of an "in library: ..." reason, or -1.
static double
s_confidence (const char *reason)
{
    const char *c = strstr (reason, ", confidence ");
    return c ? strtod (c + strlen (", confidence "), NULL) : -1;
}

//  Submit the demo playlist; asserts submit_ok with the expected counts.
static void
s_submit (s_demo_t *d, sp_msg_t *reply, uint64_t skipped)
{
    ta_submit (d->an, d->store, DEMO_URL, NULL, NULL, reply);
    cr_assert_eq (reply->type, SP_MSG_SUBMIT_OK, "%s: %s", reply->code, reply->message);
    for (size_t k = 0; k < reply->notes_count; k++)
        cr_log_info ("note: %s", reply->notes[k]);
    cr_expect_str_eq (reply->name, DEMO_NAME);
    cr_expect (reply->library_checked, "%s", reply->library_note ? reply->library_note : "");
    cr_expect_null (reply->library_note);
    cr_assert_eq (reply->total, DEMO_TRACKS);
    //  expect, not assert: the per-track checks after it say which track
    cr_expect_eq (reply->skipped, skipped);
    cr_expect_eq (reply->queued, DEMO_TRACKS - skipped);
    char report[256];
    cr_expect_eq (sp_store_check_counters (d->store, reply->job, report, sizeof report),
                  SP_STORE_OK, "%s", report);
}

Test (analyzer_demo, library_tracks_skipped_with_reasons_others_queued)
{
    s_demo_t d;
    s_demo_start (&d);

    //  Development Mode: client credentials are not enough for the items
    sp_msg_t reply;
    ta_submit (d.an, d.store, DEMO_URL, NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "spotify_login_required", "%s", reply.message);
    cr_expect (strstr (reply.message, "soulpipe login spotify") != NULL, "%s", reply.message);
    sp_msg_clear (&reply);

    ta_login (d.an, d.store, d.url, "demo-client-id-7f3a9c");
    s_submit (&d, &reply, (uint64_t) d.x.n_in_library);

    ta_tracks_t t;
    ta_tracks (d.store, reply.job, &t);
    cr_assert_eq (t.n, DEMO_TRACKS);
    int skipped = 0, queued = 0;
    for (int i = 0; i < t.n; i++) {
        int pos = i + 1;
        if (d.x.in_library[pos]) {
            skipped++;
            cr_expect_str_eq (t.state[i], "skipped", "#%d %s", pos, t.title[i]);
            //  "in library: <Plex artist> - <Plex title> (<file>), confidence C"
            char want[700];
            snprintf (want, sizeof want, "in library: %s (%s), confidence ", d.x.plex_track[pos],
                      d.x.plex_path[pos]);
            cr_expect (strncmp (t.reason[i], want, strlen (want)) == 0,
                       "#%d %s: reason %s, want %s", pos, t.title[i], t.reason[i], want);
            double c = s_confidence (t.reason[i]);
            cr_expect (c >= 0.8 && c <= 1.0, "#%d %s: confidence %.2f", pos, t.title[i], c);
            cr_expect_str_eq (t.path[i], d.x.plex_path[pos], "#%d", pos);
            cr_expect_null (t.payload[i], "#%d: a skipped track has no search payload", pos);
        } else {
            queued++;
            cr_expect_str_eq (t.state[i], "queued", "#%d %s: %s (%s)%s", pos, t.title[i],
                              t.state[i], t.reason[i],
                              d.x.near_miss[pos] ? " -- a near miss that must NOT count" : "");
            cr_expect_str_eq (t.reason[i], "", "#%d", pos);
            cr_assert_not_null (t.payload[i], "#%d", pos);
            cr_expect_str_eq (t.payload[i]->track.title, t.title[i]);
            cr_expect_str_eq (t.payload[i]->track.playlist, DEMO_NAME);
            cr_expect_eq (t.payload[i]->track.position, (uint64_t) i);
            cr_expect_not_null (t.payload[i]->track.spotify_id);
        }
    }
    cr_expect_eq (skipped, 9);
    cr_expect_eq (queued, DEMO_TRACKS - 9);
    //  every skip is also a note of the reply, naming its position
    cr_expect_eq (reply.notes_count, (size_t) d.x.n_in_library);
    for (size_t k = 0; k < reply.notes_count; k++)
        cr_expect (strstr (reply.notes[k], ": in library: ") != NULL, "%s", reply.notes[k]);

    sp_store_job_t *job = NULL;
    cr_assert_eq (sp_store_job_get (d.store, reply.job, &job), SP_STORE_OK);
    cr_expect (job->library_checked);
    cr_expect_eq (job->skipped, 9);
    cr_expect_eq (job->queued, DEMO_TRACKS - 9);
    cr_expect_str_eq (job->source, "spotify:playlist:" DEMO_PLAYLIST);
    sp_store_job_destroy (&job);
    ta_tracks_free (&t);
    sp_msg_clear (&reply);
    s_demo_stop (&d);
}

// ------------------------------------------------------------ re-submit

//  Play the workers for one job: every search task goes through download
//  and tag; the tag stage writes a file under transfer and the songs index
//  (as the tagger does), except for the positions EXPECTED.md says fail,
//  which fail for good at the search stage. Returns the number done.
static int
s_run_stages (s_demo_t *d, const char *job_id, char files[][512])
{
    int done = 0;
    for (int guard = 0; guard < 3 * DEMO_TRACKS + 3; guard++) {
        sp_store_task_t *task = NULL;
        int rc = SP_STORE_EMPTY;
        sp_store_stage_t stage;
        for (stage = SP_STORE_SEARCH; stage <= SP_STORE_TAG; stage++) {
            rc = sp_store_take (d->store, stage, "test-worker", 30000, &task);
            if (rc != SP_STORE_EMPTY)
                break;
        }
        if (rc == SP_STORE_EMPTY)
            break;
        cr_assert_eq (rc, SP_STORE_OK, "take: %s", sp_store_strerror (rc));
        cr_assert_str_eq (task->job_id, job_id);
        sp_payload_t *p = NULL;
        char why[256];
        cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, why, sizeof why),
                      SP_MSG_OK, "%s", why);
        int pos = (int) p->track.position + 1;
        cr_assert (pos > 0 && pos <= DEMO_TRACKS);
        if (stage == SP_STORE_SEARCH && d->x.failed[pos])
            rc = sp_store_fail (d->store, task->id, task->fence, "no acceptable copy", false, 3, 0);
        else if (stage != SP_STORE_TAG)
            rc = sp_store_complete (d->store, task->id, task->fence, stage + 1, task->payload,
                                    task->payload_len, NULL);
        else {
            snprintf (files[pos], 512, "%s/%02d.flac", d->transfer, pos);
            ta_write (d->transfer, files[pos] + strlen (d->transfer) + 1, "fLaC");
            sp_store_result_t res = {.path = files[pos]};
            rc = sp_store_complete (d->store, task->id, task->fence, SP_STORE_NONE, NULL, 0, &res);
            cr_assert_eq (sp_songs_put (d->store, p->track.spotify_id, files[pos], task->job_id,
                                        task->track_key),
                          SP_STORE_OK);
            done++;
        }
        cr_assert_eq (rc, SP_STORE_OK, "%s: %s", task->id, sp_store_strerror (rc));
        sp_payload_destroy (&p);
        sp_store_task_destroy (&task);
    }
    return done;
}

Test (analyzer_demo, resubmit_downloads_only_what_is_new)
{
    s_demo_t d;
    s_demo_start (&d);
    ta_login (d.an, d.store, d.url, "demo-client-id-7f3a9c");
    sp_msg_t first;
    s_submit (&d, &first, 9);
    static char files[MAX_POS][512];
    memset (files, 0, sizeof files);
    int done = s_run_stages (&d, first.job, files);
    cr_assert_eq (done, DEMO_TRACKS - 9 - d.x.n_failed);
    sp_store_job_t *job = NULL;
    cr_assert_eq (sp_store_job_get (d.store, first.job, &job), SP_STORE_OK);
    cr_expect_eq (job->done, done);
    cr_expect_eq (job->failed, d.x.n_failed);
    sp_store_job_destroy (&job);

    //  the same playlist again: only the two failed tracks are queued
    sp_msg_t again;
    s_submit (&d, &again, (uint64_t) (DEMO_TRACKS - d.x.n_failed));
    cr_expect_str_neq (again.job, first.job);
    ta_tracks_t t;
    ta_tracks (d.store, again.job, &t);
    cr_assert_eq (t.n, DEMO_TRACKS);
    for (int i = 0; i < t.n; i++) {
        int pos = i + 1;
        if (d.x.in_library[pos])
            cr_expect (strncmp (t.reason[i], "in library: ", 12) == 0, "#%d: %s", pos, t.reason[i]);
        else if (d.x.failed[pos])
            cr_expect_str_eq (t.state[i], "queued", "#%d %s", pos, t.title[i]);
        else {
            char want[800];
            snprintf (want, sizeof want, "already downloaded by job %s (%s)", first.job,
                      files[pos]);
            cr_expect_str_eq (t.state[i], "skipped", "#%d %s", pos, t.title[i]);
            cr_expect_str_eq (t.reason[i], want, "#%d", pos);
            cr_expect_str_eq (t.path[i], files[pos], "#%d", pos);
        }
    }
    ta_tracks_free (&t);

    //  a delivered file the user deleted is downloaded again
    int gone = 0;
    for (int pos = 1; pos <= DEMO_TRACKS && !gone; pos++)
        if (files[pos][0])
            gone = pos;
    cr_assert_gt (gone, 0);
    cr_assert_eq (unlink (files[gone]), 0);
    sp_msg_t third;
    s_submit (&d, &third, (uint64_t) (DEMO_TRACKS - d.x.n_failed - 1));
    ta_tracks (d.store, third.job, &t);
    cr_expect_str_eq (t.state[gone - 1], "queued", "#%d: %s", gone, t.reason[gone - 1]);
    ta_tracks_free (&t);

    sp_msg_clear (&first);
    sp_msg_clear (&again);
    sp_msg_clear (&third);
    s_demo_stop (&d);
}
