/*  test_tagger_fs.c: the tagger names a full or read-only Transfer file
    system as the cause and keeps the track for a retry (issue 21 item 9).
    Transfer is a small tmpfs mounted by the test (needs root: skipped
    otherwise, with the reason), sized so that the staged file can be
    copied in but tagging (TagLib rewrites the file with its tags and the
    cover) runs out of space; then the same tmpfs remounted read-only. */
#include "../../services/tagger/tagger.h"
#include "../fakes/audio.h"
#include "soulpipe/payload.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_root[64], s_staging[128], s_transfer[128];
static bool s_mounted;

static void
s_setup (void)
{
    strcpy (s_root, "/tmp/sp-tagger-fs-XXXXXX");
    cr_assert_not_null (mkdtemp (s_root));
    snprintf (s_staging, sizeof s_staging, "%s/staging", s_root);
    snprintf (s_transfer, sizeof s_transfer, "%s/Transfer", s_root);
    cr_assert_eq (mkdir (s_staging, 0755), 0);
    cr_assert_eq (mkdir (s_transfer, 0755), 0);
}

static void
s_teardown (void)
{
    if (s_mounted)
        umount2 (s_transfer, MNT_DETACH);
    s_mounted = false;
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_root);
    cr_assert_eq (system (cmd), 0);
}

TestSuite (tagger_fs, .init = s_setup, .fini = s_teardown, .timeout = 60);

static char *s_artists[] = {"Bonnie Tyler"};

static void
s_payload (sp_payload_t *p, const char *staged)
{
    memset (p, 0, sizeof *p);
    sp_track_t t = {.title = "Holding Out for a Hero",
                    .artists = s_artists,
                    .artists_count = 1,
                    .album = "Secret Dreams and Forbidden Fire",
                    .album_type = "album",
                    .album_artists = s_artists,
                    .album_artists_count = 1,
                    .has_track_number = true,
                    .track_number = 3,
                    .isrc = "GBBBN8600001",
                    .playlist = "Road Trip"};
    cr_assert_eq (sp_track_copy (&p->track, &t), SP_MSG_OK);
    p->staged_path = strdup (staged);
}

static void
s_mount (const char *opts)
{
    if (geteuid () != 0)
        cr_skip_test ("needs root to mount a small tmpfs as Transfer");
    if (mount ("tmpfs", s_transfer, "tmpfs", 0, opts) != 0)
        cr_skip_test ("cannot mount a tmpfs here: %s", strerror (errno));
    s_mounted = true;
}

//  Transfer has room for the copy but not for the tagged file.
Test (tagger_fs, full_transfer_is_named_and_retried)
{
    char staged[256];
    snprintf (staged, sizeof staged, "%s/t.flac", s_staging);
    cr_assert_eq (sp_fake_audio_write (staged, "flac", 30, 0, false, NULL), 0);
    struct stat st;
    cr_assert_eq (stat (staged, &st), 0);
    //  room for the album's cover.jpg (256 KiB, already there from an
    //  earlier track) and the copy of the file, not for the tagged file
    //  with that cover embedded
    char opts[64];
    snprintf (opts, sizeof opts, "size=%lldk", (long long) (st.st_size / 1024 + 256 + 8));
    s_mount (opts);
    char album[512], cover[600];
    snprintf (
        album, sizeof album,
        "mkdir -p '%s/Road Trip/Bonnie Tyler/Bonnie Tyler - Secret Dreams and Forbidden Fire'",
        s_transfer);
    cr_assert_eq (system (album), 0);
    snprintf (cover, sizeof cover,
              "%s/Road Trip/Bonnie Tyler/Bonnie Tyler - Secret Dreams and Forbidden Fire/cover.jpg",
              s_transfer);
    FILE *fp = fopen (cover, "wb");
    cr_assert_not_null (fp);
    static unsigned char jpeg[256 * 1024] = {0xFF, 0xD8, 0xFF, 0xE0};
    cr_assert_eq (fwrite (jpeg, 1, sizeof jpeg, fp), sizeof jpeg);
    fclose (fp);
    sp_tagger_opts_t o = {
        .transfer_dir = s_transfer, .staging_dir = s_staging, .embed_cover = true};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    sp_payload_t p;
    s_payload (&p, staged);
    char reason[256] = "";
    bool retry = false;
    cr_assert_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), -1,
                  "filed on a full file system?");
    cr_log_info ("full Transfer: %s (retry %d)", reason, retry);
    cr_expect (retry, "a full file system must be retried: %s", reason);
    cr_expect_not_null (strstr (reason, "no space left"), "reason: %s", reason);
    cr_expect_null (strstr (reason, "not a readable audio file"), "reason: %s", reason);
    cr_expect_eq (access (staged, R_OK), 0, "the staged file must be kept for the retry");
    sp_track_clear (&p.track);
    free (p.staged_path);
    sp_tagger_destroy (&tg);
}

//  A read-only Transfer: named as such, retried.
Test (tagger_fs, read_only_transfer_is_named_and_retried)
{
    char staged[256];
    snprintf (staged, sizeof staged, "%s/t.flac", s_staging);
    cr_assert_eq (sp_fake_audio_write (staged, "flac", 30, 0, false, NULL), 0);
    s_mount ("size=4m");
    cr_assert_eq (mount ("tmpfs", s_transfer, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=4m"), 0, "%s",
                  strerror (errno));
    sp_tagger_opts_t o = {.transfer_dir = s_transfer, .staging_dir = s_staging};
    char err[256] = "";
    sp_tagger_t *tg = sp_tagger_new (&o, err, sizeof err);
    cr_assert_not_null (tg, "%s", err);
    sp_payload_t p;
    s_payload (&p, staged);
    char reason[256] = "";
    bool retry = false;
    cr_assert_eq (sp_tagger_process (tg, &p, reason, sizeof reason, &retry), -1);
    cr_log_info ("read-only Transfer: %s (retry %d)", reason, retry);
    cr_expect (retry, "a read-only file system must be retried: %s", reason);
    cr_expect_not_null (strstr (reason, "read-only"), "reason: %s", reason);
    cr_expect_eq (access (staged, R_OK), 0);
    sp_track_clear (&p.track);
    free (p.staged_path);
    sp_tagger_destroy (&tg);
}
