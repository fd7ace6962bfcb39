/*  test_tags.c: sp_tags_write on real (tiny) FLAC, MP3, Ogg Vorbis and M4A
    files from the fake audio generator, every field read back with TagLib
    (the C binding and the PropertyMap shim), non-Latin text, several
    artists, the embedded picture; corrupt and unsupported files; the
    length of formats the module does not tag (WAV); and the threads rule
    of tags.h: tagging and probing from 8 threads at once.

    The generator is compiled into this binary by test_fake_audio.c; only
    its header is included here.
*/
#include "../fakes/audio.h"
#include "soulpipe/tags.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tag_c.h>
#include <unistd.h>

static char s_dir[64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/sp-tags-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    cr_assert_eq (system (cmd), 0);
}

TestSuite (tags, .init = s_setup, .fini = s_teardown);

//  A small but structurally plausible JPEG (SOI, APP0, EOI) with a marker
//  byte pattern so a truncated copy would not compare equal.
static const unsigned char s_jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',  'F',
                                       0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
                                       0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0xFF, 0xD9};

static const char *s_artists[] = {"宇多田ヒカル", "Sting & The Police", "Björk"};
static const char *s_album_artists[] = {"宇多田ヒカル"};

static sp_tags_t
s_tags (void)
{
    sp_tags_t t = {
        .title = "Первый снег — 初雪 (Live)",
        .artists = s_artists,
        .artists_count = 3,
        .album = "Ålbum «Ünïcødé» 東京",
        .album_artists = s_album_artists,
        .album_artists_count = 1,
        .date = "1981-12-15",
        .track_number = 3,
        .track_total = 12,
        .disc_number = 2,
        .disc_total = 2,
        .genre = "J-Pop",
        .isrc = "JPTO09901234",
        .spotify_track_id = "4uLU6hMCjMI75M1A2tKUQC",
        .spotify_album_id = "6DEjYFkNZh67HP7R9PSZvv",
        .cover = s_jpeg,
        .cover_len = sizeof s_jpeg,
        .cover_mime = "image/jpeg",
    };
    return t;
}

static void
s_make (char *path, size_t size, const char *name, const char *ext)
{
    snprintf (path, size, "%s/%s.%s", s_dir, name, ext);
    cr_assert_eq (sp_fake_audio_write (path, ext, 30, 0, false, NULL), 0, "write %s", path);
}

static void
s_expect (const char *path, const char *key, const char *expected)
{
    char *v = sp_tags_get1 (path, key);
    cr_assert_not_null (v, "%s: %s missing", path, key);
    cr_expect_str_eq (v, expected, "%s: %s", path, key);
    free (v);
}

static void
s_check_all (const char *path, const char *ext)
{
    //  The C binding's view (what most players read).
    taglib_set_strings_unicode (true);
    TagLib_File *f = taglib_file_new (path);
    cr_assert_not_null (f);
    cr_assert (taglib_file_is_valid (f));
    TagLib_Tag *tag = taglib_file_tag (f);
    char *s = taglib_tag_title (tag);
    cr_expect_str_eq (s, "Первый снег — 初雪 (Live)");
    taglib_free (s);
    s = taglib_tag_artist (tag);
    cr_expect_str_eq (s, "宇多田ヒカル, Sting & The Police, Björk");
    taglib_free (s);
    s = taglib_tag_album (tag);
    cr_expect_str_eq (s, "Ålbum «Ünïcødé» 東京");
    taglib_free (s);
    s = taglib_tag_genre (tag);
    cr_expect_str_eq (s, "J-Pop");
    taglib_free (s);
    cr_expect_eq (taglib_tag_year (tag), 1981u);
    cr_expect_eq (taglib_tag_track (tag), 3u);
    const TagLib_AudioProperties *ap = taglib_file_audioproperties (f);
    cr_expect_eq (taglib_audioproperties_length (ap), 30, "%s: audio intact", ext);
    taglib_file_free (f);

    //  The PropertyMap view.
    char **v = NULL;
    size_t n = 0;
    cr_assert_eq (sp_tags_get (path, "ARTISTS", &v, &n), SP_TAGS_OK);
    cr_assert_eq (n, 3, "%s: ARTISTS has %zu values", ext, n);
    for (size_t i = 0; i < 3; i++)
        cr_expect_str_eq (v[i], s_artists[i]);
    sp_tags_values_free (v, n);
    s_expect (path, "ALBUMARTIST", "宇多田ヒカル");
    s_expect (path, "DATE", "1981-12-15");
    s_expect (path, "ISRC", "JPTO09901234");
    s_expect (path, "SPOTIFY_TRACK_ID", "4uLU6hMCjMI75M1A2tKUQC");
    s_expect (path, "SPOTIFY_ALBUM_ID", "6DEjYFkNZh67HP7R9PSZvv");
    if (strcmp (ext, "flac") == 0 || strcmp (ext, "ogg") == 0) {
        s_expect (path, "TRACKNUMBER", "3");
        s_expect (path, "TRACKTOTAL", "12");
        s_expect (path, "DISCNUMBER", "2");
        s_expect (path, "DISCTOTAL", "2");
    } else {
        s_expect (path, "TRACKNUMBER", "3/12");
        s_expect (path, "DISCNUMBER", "2/2");
    }

    unsigned char *pic = NULL;
    size_t plen = 0;
    char *mime = NULL;
    cr_assert_eq (sp_tags_get_picture (path, &pic, &plen, &mime), SP_TAGS_OK);
    cr_assert_eq (plen, sizeof s_jpeg, "%s: picture %zu bytes", ext, plen);
    cr_expect_eq (memcmp (pic, s_jpeg, plen), 0);
    cr_expect_str_eq (mime, "image/jpeg");
    free (pic);
    free (mime);
}

static void
s_roundtrip (const char *ext)
{
    char path[256];
    s_make (path, sizeof path, "song", ext);
    sp_tags_t t = s_tags ();
    char err[256];
    int rc = sp_tags_write (path, &t, err, sizeof err);
    cr_assert_eq (rc, SP_TAGS_OK, "%s: %s", ext, err);
    s_check_all (path, ext);
    //  Writing again (a retried job) gives the same result, one picture.
    rc = sp_tags_write (path, &t, err, sizeof err);
    cr_assert_eq (rc, SP_TAGS_OK, "%s: %s", ext, err);
    s_check_all (path, ext);
}

Test (tags, flac)
{
    s_roundtrip ("flac");
}
Test (tags, mp3)
{
    s_roundtrip ("mp3");
}
Test (tags, ogg)
{
    s_roundtrip ("ogg");
}
Test (tags, m4a)
{
    s_roundtrip ("m4a");
}

Test (tags, mp3_is_id3v24_without_id3v1)
{
    char path[256];
    s_make (path, sizeof path, "v24", "mp3");
    sp_tags_t t = s_tags ();
    cr_assert_eq (sp_tags_write (path, &t, NULL, 0), SP_TAGS_OK);
    FILE *fp = fopen (path, "rb");
    cr_assert_not_null (fp);
    unsigned char head[4];
    cr_assert_eq (fread (head, 1, 4, fp), 4u);
    cr_expect_eq (memcmp (head, "ID3\x04", 4), 0, "ID3v2 major version %u", head[3]);
    char tail[3];
    cr_assert_eq (fseek (fp, -128, SEEK_END), 0);
    cr_assert_eq (fread (tail, 1, 3, fp), 3u);
    cr_expect_neq (memcmp (tail, "TAG", 3), 0, "ID3v1 tag present");
    fclose (fp);
}

Test (tags, peer_tags_are_replaced)
{
    char path[256];
    s_make (path, sizeof path, "peer", "flac");
    const char *junk[] = {"ripped by somebody, visit example.com"};
    sp_tags_prop_t props[] = {{"COMMENT", junk, 1}, {"ALBUMARTIST", junk, 1}, {"LABEL", junk, 1}};
    char err[256];
    cr_assert_eq (
        sp_tags_shim_write (path, props, 3, false, NULL, NULL, 0, NULL, false, err, sizeof err), 0,
        "%s", err);
    char *v = sp_tags_get1 (path, "LABEL");
    cr_assert_not_null (v);
    free (v);
    sp_tags_t t = {.title = "T", .artists = s_artists, .artists_count = 1};
    cr_assert_eq (sp_tags_write (path, &t, err, sizeof err), SP_TAGS_OK, "%s", err);
    cr_expect_null (sp_tags_get1 (path, "LABEL"));
    cr_expect_null (sp_tags_get1 (path, "COMMENT"));
    cr_expect_null (sp_tags_get1 (path, "ALBUMARTIST"));
    s_expect (path, "TITLE", "T");
    s_expect (path, "ARTIST", "宇多田ヒカル");
}

Test (tags, corrupt_file_is_unreadable_and_untouched)
{
    const char *exts[] = {"flac", "mp3", "ogg", "m4a"};
    for (size_t i = 0; i < 4; i++) {
        char path[256];
        snprintf (path, sizeof path, "%s/bad.%s", s_dir, exts[i]);
        uint64_t size = 0;
        cr_assert_eq (sp_fake_audio_write (path, exts[i], 30, 0, true, &size), 0);
        sp_tags_t t = s_tags ();
        char err[256] = "";
        cr_expect_eq (sp_tags_write (path, &t, err, sizeof err), SP_TAGS_ERR_UNREADABLE, "%s",
                      exts[i]);
        cr_expect (strstr (err, "not a readable") != NULL, "reason: %s", err);
        //  still all zeros, same size
        FILE *fp = fopen (path, "rb");
        cr_assert_not_null (fp);
        uint64_t got = 0;
        int c;
        bool zeros = true;
        while ((c = fgetc (fp)) != EOF) {
            got++;
            zeros = zeros && c == 0;
        }
        fclose (fp);
        cr_expect_eq (got, size);
        cr_expect (zeros);
        sp_tags_info_t info;
        cr_expect_eq (sp_tags_probe (path, &info, NULL, 0), SP_TAGS_ERR_UNREADABLE);
    }
}

Test (tags, unsupported_and_bad_arguments)
{
    char path[256];
    snprintf (path, sizeof path, "%s/x.wav", s_dir);
    FILE *fp = fopen (path, "wb");
    cr_assert_not_null (fp);
    fputs ("RIFF", fp);
    fclose (fp);
    sp_tags_t t = s_tags ();
    char err[256];
    cr_expect_eq (sp_tags_write (path, &t, err, sizeof err), SP_TAGS_ERR_UNSUPPORTED);
    cr_expect (strstr (err, "wav") != NULL, "%s", err);
    cr_expect_eq (sp_tags_write (NULL, &t, err, sizeof err), SP_TAGS_ERR_INVALID);
    cr_expect_eq (sp_tags_write (path, NULL, err, sizeof err), SP_TAGS_ERR_INVALID);
    snprintf (path, sizeof path, "%s/missing.flac", s_dir);
    cr_expect_eq (sp_tags_write (path, &t, err, sizeof err), SP_TAGS_ERR_UNREADABLE);
}

Test (tags, format_and_probe)
{
    cr_expect_eq (sp_tags_format ("a/b.FLAC"), SP_TAGS_FMT_FLAC);
    cr_expect_eq (sp_tags_format (".mp3"), SP_TAGS_FMT_MP3);
    cr_expect_eq (sp_tags_format ("ogg"), SP_TAGS_FMT_VORBIS);
    cr_expect_eq (sp_tags_format ("x.opus"), SP_TAGS_FMT_OPUS);
    cr_expect_eq (sp_tags_format ("x.m4a"), SP_TAGS_FMT_MP4);
    cr_expect_eq (sp_tags_format ("x.wma"), SP_TAGS_FMT_NONE);
    cr_expect_eq (sp_tags_format ("flac.d/x"), SP_TAGS_FMT_NONE);
    cr_expect_eq (sp_tags_format (NULL), SP_TAGS_FMT_NONE);
    char path[256];
    s_make (path, sizeof path, "probe", "m4a");
    sp_tags_info_t info;
    cr_assert_eq (sp_tags_probe (path, &info, NULL, 0), SP_TAGS_OK);
    cr_expect_eq (info.format, SP_TAGS_FMT_MP4);
    cr_expect_eq (info.length_s, 30);
    cr_expect_eq (info.samplerate, 44100);
}

Test (tags, no_cover_keeps_existing_picture)
{
    char path[256];
    s_make (path, sizeof path, "keep", "mp3");
    sp_tags_t t = s_tags ();
    cr_assert_eq (sp_tags_write (path, &t, NULL, 0), SP_TAGS_OK);
    t.cover = NULL;
    t.cover_len = 0;
    t.title = "Second";
    cr_assert_eq (sp_tags_write (path, &t, NULL, 0), SP_TAGS_OK);
    unsigned char *pic = NULL;
    size_t plen = 0;
    cr_assert_eq (sp_tags_get_picture (path, &pic, &plen, NULL), SP_TAGS_OK);
    cr_expect_eq (plen, sizeof s_jpeg);
    free (pic);
    s_expect (path, "TITLE", "Second");
}

//  A PCM WAV file: 16-bit mono at 8 kHz, seconds of a quiet square wave.
static void
s_make_wav (const char *path, unsigned seconds)
{
    uint32_t rate = 8000, data = rate * 2 * seconds;
    unsigned char h[44] = "RIFF....WAVEfmt ";
    uint32_t riff = 36 + data, fmt_len = 16, byte_rate = rate * 2;
    uint16_t pcm = 1, mono = 1, align = 2, bits = 16;
    memcpy (h + 4, &riff, 4);
    memcpy (h + 16, &fmt_len, 4);
    memcpy (h + 20, &pcm, 2);
    memcpy (h + 22, &mono, 2);
    memcpy (h + 24, &rate, 4);
    memcpy (h + 28, &byte_rate, 4);
    memcpy (h + 32, &align, 2);
    memcpy (h + 34, &bits, 2);
    memcpy (h + 36, "data", 4);
    memcpy (h + 40, &data, 4);
    FILE *f = fopen (path, "wb");
    cr_assert_not_null (f);
    cr_assert_eq (fwrite (h, 1, sizeof h, f), sizeof h);
    for (uint32_t i = 0; i < data / 2; i++) {
        int16_t v = (i / 20) % 2 ? 300 : -300;
        cr_assert_eq (fwrite (&v, 2, 1, f), 1u);
    }
    cr_assert_eq (fclose (f), 0);
}

//  The downloader's check: any format TagLib reads, not only the tagged ones.
Test (tags, audio_length_of_any_taglib_format)
{
    char path[256];
    snprintf (path, sizeof path, "%s/pcm.wav", s_dir);
    s_make_wav (path, 3);
    int secs = -1;
    cr_assert_eq (sp_tags_audio_length (path, &secs), SP_TAGS_OK);
    cr_expect_eq (secs, 3);
    sp_tags_info_t info;
    cr_expect_eq (sp_tags_probe (path, &info, NULL, 0), SP_TAGS_ERR_UNSUPPORTED,
                  "WAV is not tagged");

    s_make (path, sizeof path, "len", "flac");
    cr_assert_eq (sp_tags_audio_length (path, &secs), SP_TAGS_OK);
    cr_expect_eq (secs, 30);

    snprintf (path, sizeof path, "%s/zeros.mp3", s_dir);
    cr_assert_eq (sp_fake_audio_write (path, "mp3", 30, 0, true, NULL), 0);
    secs = -1;
    int rc = sp_tags_audio_length (path, &secs);
    cr_expect (rc == SP_TAGS_ERR_UNREADABLE || secs <= 0, "zeros: rc %d, %d s", rc, secs);
    snprintf (path, sizeof path, "%s/missing.flac", s_dir);
    cr_expect_eq (sp_tags_audio_length (path, &secs), SP_TAGS_ERR_UNREADABLE);
    cr_expect_eq (secs, 0);
    cr_expect_eq (sp_tags_audio_length (NULL, &secs), SP_TAGS_ERR_INVALID);
    cr_expect_eq (sp_tags_audio_length (path, NULL), SP_TAGS_ERR_INVALID);
}

// ------------------------------------------------------------ threads

#define S_THREADS          8
#define S_FILES_PER_THREAD 50

static const char *s_thread_exts[] = {"flac", "mp3", "ogg", "m4a"};

typedef struct {
    int index;
    pthread_barrier_t *start;
    int failures;
    char first[256];  //  the first failure, for the assertion message
} s_worker_t;

static void s_fail (s_worker_t *w, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_fail (s_worker_t *w, const char *fmt, ...)
{
    if (w->failures++ == 0) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (w->first, sizeof w->first, fmt, ap);
        va_end (ap);
    }
}

//  One thread: make its own files, tag each (title, ids, cover), then read
//  back what the tagger and the downloader read (probe, length, a tag, the
//  picture) while the other threads do the same. Assertions are collected
//  and checked on the main thread (Criterion's asserts are not for other
//  threads).
static void *
s_tag_and_probe (void *arg)
{
    s_worker_t *w = arg;
    pthread_barrier_wait (w->start);
    for (int j = 0; j < S_FILES_PER_THREAD; j++) {
        const char *ext = s_thread_exts[(w->index + j) % 4];
        unsigned length = 20 + (unsigned) ((w->index * S_FILES_PER_THREAD + j) % 40);
        char path[256], title[64], id[32];
        snprintf (path, sizeof path, "%s/t%d-%d.%s", s_dir, w->index, j, ext);
        snprintf (title, sizeof title, "Thread %d — song %d", w->index, j);
        snprintf (id, sizeof id, "id%dx%d", w->index, j);
        if (sp_fake_audio_write (path, ext, length, 0, false, NULL) != 0) {
            s_fail (w, "%s: cannot write", path);
            continue;
        }
        sp_tags_t t = s_tags ();
        t.title = title;
        t.spotify_track_id = id;
        char err[256];
        int rc = sp_tags_write (path, &t, err, sizeof err);
        if (rc != SP_TAGS_OK) {
            s_fail (w, "%s: write: %s", path, err);
            continue;
        }
        sp_tags_info_t info;
        rc = sp_tags_probe (path, &info, err, sizeof err);
        if (rc != SP_TAGS_OK || info.length_s != (int) length || info.samplerate != 44100)
            s_fail (w, "%s: probe rc %d, %d s (want %u), %d Hz", path, rc, info.length_s, length,
                    info.samplerate);
        int secs = 0;
        rc = sp_tags_audio_length (path, &secs);
        if (rc != SP_TAGS_OK || secs != (int) length)
            s_fail (w, "%s: audio_length rc %d, %d s (want %u)", path, rc, secs, length);
        char *v = sp_tags_get1 (path, "TITLE");
        if (!v || strcmp (v, title) != 0)
            s_fail (w, "%s: TITLE %s", path, v ? v : "(none)");
        free (v);
        v = sp_tags_get1 (path, "SPOTIFY_TRACK_ID");
        if (!v || strcmp (v, id) != 0)
            s_fail (w, "%s: SPOTIFY_TRACK_ID %s", path, v ? v : "(none)");
        free (v);
        unsigned char *pic = NULL;
        size_t plen = 0;
        rc = sp_tags_get_picture (path, &pic, &plen, NULL);
        if (rc != SP_TAGS_OK || plen != sizeof s_jpeg || memcmp (pic, s_jpeg, plen) != 0)
            s_fail (w, "%s: picture rc %d, %zu bytes", path, rc, plen);
        free (pic);
    }
    return NULL;
}

//  tags.h's rule: no lock around TagLib, every call from any thread, each
//  on its own file. The first TagLib calls of this (fresh) test process are
//  the threads' own, started together, so sp_tags_init's once-only setup is
//  raced too. Meant for `make SAN=1` (ASan/UBSan) and a TSan build.
Test (tags, threads_tag_and_probe_at_once, .timeout = 300)
{
    pthread_barrier_t start;
    cr_assert_eq (pthread_barrier_init (&start, NULL, S_THREADS), 0);
    pthread_t th[S_THREADS];
    s_worker_t w[S_THREADS];
    for (int i = 0; i < S_THREADS; i++) {
        w[i] = (s_worker_t){.index = i, .start = &start};
        cr_assert_eq (pthread_create (&th[i], NULL, s_tag_and_probe, &w[i]), 0);
    }
    for (int i = 0; i < S_THREADS; i++)
        pthread_join (th[i], NULL);
    pthread_barrier_destroy (&start);
    int failures = 0;
    for (int i = 0; i < S_THREADS; i++) {
        if (w[i].failures)
            cr_log_error ("thread %d: %d failures, first: %s", i, w[i].failures, w[i].first);
        failures += w[i].failures;
    }
    cr_assert_eq (failures, 0, "%d of %d files failed", failures, S_THREADS * S_FILES_PER_THREAD);
}
