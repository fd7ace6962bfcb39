/*  test_analyzer_text.c: text list submissions end to end (analyzer ->
    Redis job), with Plex unset. */
#include "test_analyzer_common.h"

TestSuite (analyzer_text, .fini = ta_fini);

Test (analyzer_text, queues_every_line_without_plex)
{
    sp_store_t *store = ta_store ();
    sp_config_t cfg;
    ta_config (&cfg, NULL);
    char err[256];
    sp_analyzer_t *an = sp_analyzer_new (&cfg, NULL, err, sizeof err);
    cr_assert_not_null (an, "%s", err);

    sp_msg_t reply;
    ta_submit (an, store, "text", NULL,
               "# my list\n"
               "Daft Punk - Get Lucky\n"
               "\n"
               "Beyoncé - Halo\r\n"
               "no separator here\n"
               "Daft Punk - Get Lucky\n"
               "Queen - Bohemian Rhapsody - Remastered 2011\n",
               &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_str_eq (reply.name, "Text list");
    cr_expect_eq (reply.total, 4);
    cr_expect_eq (reply.skipped, 1);
    cr_expect_eq (reply.queued, 3);
    cr_expect (!reply.library_checked);
    cr_assert_not_null (reply.library_note);
    cr_expect_str_eq (reply.library_note, "PLEX_URL is not set: every track is queued");
    //  one note for the bad line, one for the duplicate
    cr_assert_eq (reply.notes_count, 2);
    cr_expect (strstr (reply.notes[0], "line 5") != NULL, "%s", reply.notes[0]);
    cr_expect (strstr (reply.notes[1], "duplicate of position 1") != NULL, "%s", reply.notes[1]);

    sp_store_job_t *job = NULL;
    cr_assert_eq (sp_store_job_get (store, reply.job, &job), SP_STORE_OK);
    cr_expect_eq (job->total, 4);
    cr_expect_eq (job->queued, 3);
    cr_expect_eq (job->skipped, 1);
    cr_expect (!job->library_checked);
    cr_expect_str_eq (job->source, "text");
    sp_store_job_destroy (&job);

    ta_tracks_t t;
    ta_tracks (store, reply.job, &t);
    cr_assert_eq (t.n, 4);
    cr_expect_str_eq (t.state[0], "queued");
    cr_expect_str_eq (t.title[1], "Halo");
    cr_expect_str_eq (t.artists[1], "[\"Beyoncé\"]");
    cr_expect_str_eq (t.state[2], "skipped");
    cr_expect_str_eq (t.reason[2], "duplicate of position 1");
    cr_expect_str_eq (t.title[3], "Bohemian Rhapsody - Remastered 2011");
    cr_assert_not_null (t.payload[3]);
    cr_expect_str_eq (t.payload[3]->track.title, "Bohemian Rhapsody - Remastered 2011");
    cr_expect_str_eq (t.payload[3]->track.artists[0], "Queen");
    cr_expect_str_eq (t.payload[3]->track.playlist, "Text list");
    cr_expect_str_eq (t.payload[3]->job, "");
    ta_tracks_free (&t);

    char report[256];
    cr_expect_eq (sp_store_check_counters (store, reply.job, report, sizeof report), SP_STORE_OK,
                  "%s", report);
    sp_msg_clear (&reply);
    sp_analyzer_destroy (&an);
    sp_config_destroy (&cfg);
    ta_fini ();
}

Test (analyzer_text, csv_with_name_album_duration)
{
    sp_store_t *store = ta_store ();
    sp_config_t cfg;
    ta_config (&cfg, NULL);
    sp_analyzer_t *an = sp_analyzer_new (&cfg, NULL, NULL, 0);
    cr_assert_not_null (an);
    sp_msg_t reply;
    ta_submit (an, store, "text", "Road trip",
               "Title,Artist,Album,Duration\n"
               "\"Hello, Goodbye\",The Beatles,Magical Mystery Tour,3:28\n"
               "Song 2,Blur,Blur,122\n"
               "Bad,Someone,,ten minutes\n",
               &reply);
    cr_assert_eq (reply.type, SP_MSG_SUBMIT_OK, "%s: %s", reply.code, reply.message);
    cr_expect_str_eq (reply.name, "Road trip");
    cr_expect_eq (reply.total, 3);
    cr_expect_eq (reply.queued, 3);
    cr_assert_eq (reply.notes_count, 1);
    cr_expect (strstr (reply.notes[0], "line 4: duration") != NULL, "%s", reply.notes[0]);
    ta_tracks_t t;
    ta_tracks (store, reply.job, &t);
    cr_assert_eq (t.n, 3);
    cr_assert_not_null (t.payload[0]);
    cr_expect_str_eq (t.payload[0]->track.title, "Hello, Goodbye");
    cr_expect_str_eq (t.payload[0]->track.album, "Magical Mystery Tour");
    cr_expect (t.payload[0]->track.has_duration_ms);
    cr_expect_eq (t.payload[0]->track.duration_ms, 208000);
    cr_expect_eq (t.payload[1]->track.duration_ms, 122000);
    cr_expect (!t.payload[2]->track.has_duration_ms);
    cr_expect_str_eq (t.payload[2]->track.playlist, "Road trip");
    ta_tracks_free (&t);
    sp_msg_clear (&reply);
    sp_analyzer_destroy (&an);
    sp_config_destroy (&cfg);
    ta_fini ();
}

Test (analyzer_text, errors_are_replies)
{
    sp_store_t *store = ta_store ();
    sp_config_t cfg;
    ta_config (&cfg, NULL);
    sp_analyzer_t *an = sp_analyzer_new (&cfg, NULL, NULL, 0);
    sp_msg_t reply;
    ta_submit (an, store, "text", NULL, "# nothing\n\n", &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "empty_list");
    sp_msg_clear (&reply);
    ta_submit (an, store, "text", NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "bad_request");
    sp_msg_clear (&reply);
    ta_submit (an, store, "https://example.com/list", NULL, NULL, &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "bad_source");
    cr_expect (strstr (reply.message, "accepted sources") != NULL, "%s", reply.message);
    sp_msg_clear (&reply);
    ta_submit (an, store, "text", NULL, "A - \xff\xfe\n", &reply);
    cr_assert_eq (reply.type, SP_MSG_ERROR);
    cr_expect_str_eq (reply.code, "bad_source");
    sp_msg_clear (&reply);
    sp_analyzer_destroy (&an);
    sp_config_destroy (&cfg);
    ta_fini ();
}
