/*  test_playlist_folders.c: distinct playlists get distinct folders and
    m3u8 files under Transfer (issue 21 item 5), through the real tagger
    with Redis: two Spotify playlists both called "Chill", and playlists
    called ".." and "..." (which all used to become Transfer/untitled/ and
    overwrite each other's untitled.m3u8); the same playlist submitted
    again goes back to its own folder. */
#include "../../services/tagger/tagger.h"
#include "../fakes/audio.h"
#include "soulpipe/payload.h"
#include "soulpipe/store.h"

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char s_root[64], s_staging[128], s_transfer[128];

static void
s_setup (void)
{
    strcpy (s_root, "/tmp/sp-folders-it-XXXXXX");
    cr_assert_not_null (mkdtemp (s_root));
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_root);
    snprintf (s_transfer, sizeof s_transfer, "%s/Transfer", s_root);
    cr_assert_eq (mkdir (s_staging, 0755), 0);
    cr_assert_eq (mkdir (s_transfer, 0755), 0);
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_root);
    cr_assert_eq (system (cmd), 0);
}

TestSuite (playlist_folders, .init = s_setup, .fini = s_teardown, .timeout = 60);

static char *s_artists[] = {"Bonnie Tyler"};

//  A one-track job of playlist (source, name), driven through search and
//  download to the tagger, filed, and ended (final m3u8). Returns the
//  playlist folder the track was filed in (caller frees).
static char *
s_one_job (sp_tagger_t *tg, sp_store_t *st, const char *source, const char *name, int n)
{
    sp_payload_t *p = sp_payload_new ();
    cr_assert_not_null (p);
    sp_track_t t = {.title = "Holding Out for a Hero",
                    .artists = s_artists,
                    .artists_count = 1,
                    .album = "Secret Dreams",
                    .album_type = "album",
                    .playlist = (char *) name};
    cr_assert_eq (sp_track_copy (&p->track, &t), SP_MSG_OK);
    p->job = strdup ("");
    p->track_key = strdup ("");
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
    sp_payload_destroy (&p);
    sp_store_track_spec_t spec = {
        .title = t.title, .artists = "[\"Bonnie Tyler\"]", .payload = bytes, .payload_len = len};
    sp_store_job_spec_t js = {.source = source, .name = name};
    char job[SP_STORE_ID_MAX];
    cr_assert_eq (sp_store_job_create (st, &js, &spec, 1, job), SP_STORE_OK);
    free (bytes);

    sp_store_task_t *task = NULL;
    cr_assert_eq (sp_store_take (st, SP_STORE_SEARCH, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_DOWNLOAD, task->payload,
                                     task->payload_len, NULL),
                  SP_STORE_OK);
    sp_store_task_destroy (&task);
    cr_assert_eq (sp_store_take (st, SP_STORE_DOWNLOAD, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, NULL, 0), SP_MSG_OK);
    char staged[512];
    snprintf (staged, sizeof staged, "%s/s%d.flac", s_staging, n);
    cr_assert_eq (sp_fake_audio_write (staged, "flac", 30, 0, false, NULL), 0);
    p->staged_path = strdup (staged);
    cr_assert_eq (sp_payload_encode (p, &bytes, &len, NULL, 0), SP_MSG_OK);
    cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_TAG, bytes, len, NULL),
                  SP_STORE_OK);
    free (bytes);
    sp_payload_destroy (&p);
    sp_store_task_destroy (&task);
    cr_assert_eq (sp_store_take (st, SP_STORE_TAG, "w", 30000, &task), SP_STORE_OK);
    cr_assert_eq (sp_payload_decode (task->payload, task->payload_len, &p, NULL, 0), SP_MSG_OK);
    //  as the worker does: the job and track come from the task id
    free (p->job);
    p->job = strdup (task->job_id);
    char reason[256];
    bool retry;
    cr_assert_eq (sp_tagger_process (tg, p, reason, sizeof reason, &retry), 0, "%s", reason);
    sp_store_result_t res = {.path = p->staged_path};
    cr_assert_eq (sp_store_complete (st, task->id, task->fence, SP_STORE_NONE, NULL, 0, &res),
                  SP_STORE_OK);
    size_t tl = strlen (s_transfer);
    cr_assert_eq (strncmp (p->staged_path, s_transfer, tl), 0, "%s", p->staged_path);
    const char *rel = p->staged_path + tl + 1;
    char *folder = strndup (rel, (size_t) (strchr (rel, '/') - rel));
    sp_payload_destroy (&p);
    sp_store_task_destroy (&task);
    while (sp_tagger_finish_next (tg, 0) > 0)
        ;
    return folder;
}

static bool
s_m3u8_lists_one_track (const char *folder)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s/%s.m3u8", s_transfer, folder, folder);
    FILE *fp = fopen (path, "r");
    if (!fp)
        return false;
    char buf[4096];
    size_t n = fread (buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose (fp);
    int entries = 0;
    for (const char *c = buf; (c = strstr (c, "#EXTINF:")); c++)
        entries++;
    return entries == 1;
}

Test (playlist_folders, distinct_playlists_distinct_folders_and_m3u8s)
{
    const char *url = getenv ("SOULPIPE_TEST_REDIS_URL");
    if (!url || !*url)
        cr_skip_test ("SOULPIPE_TEST_REDIS_URL not set");
    sp_tagger_opts_t o = {.transfer_dir = s_transfer, .staging_dir = s_staging, .redis_url = url};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    sp_store_t *st = sp_tagger_store (tg);
    const char *argv[] = {"FLUSHDB"};
    size_t lens[] = {7};
    struct redisReply *r = NULL;
    cr_assert_eq (sp_store_command (st, 1, argv, lens, &r), SP_STORE_OK);
    freeReplyObject (r);

    char *chill1 = s_one_job (tg, st, "spotify:playlist:AAAA", "Chill", 1);
    char *chill2 = s_one_job (tg, st, "spotify:playlist:BBBB", "Chill", 2);
    char *dots2 = s_one_job (tg, st, "spotify:playlist:CCCC", "..", 3);
    char *dots3 = s_one_job (tg, st, "spotify:playlist:DDDD", "...", 4);
    char *again = s_one_job (tg, st, "spotify:playlist:AAAA", "Chill", 5);
    cr_expect_str_eq (chill1, "Chill", "the first playlist keeps its plain name");
    cr_expect_str_eq (chill2, "Chill [BBBB]");
    cr_expect_str_eq (dots2, "untitled [CCCC]");
    cr_expect_str_eq (dots3, "untitled [DDDD]");
    cr_expect_str_eq (again, "Chill", "a playlist submitted again goes to its own folder");
    //  each playlist file lists its own track only, none was overwritten
    cr_expect (s_m3u8_lists_one_track ("Chill [BBBB]"));
    cr_expect (s_m3u8_lists_one_track ("untitled [CCCC]"));
    cr_expect (s_m3u8_lists_one_track ("untitled [DDDD]"));
    char path[512];
    snprintf (path, sizeof path, "%s/untitled", s_transfer);
    struct stat sb;
    cr_expect_neq (stat (path, &sb), 0, "Transfer/untitled exists");
    free (chill1);
    free (chill2);
    free (dots2);
    free (dots3);
    free (again);
    sp_tagger_destroy (&tg);
}
