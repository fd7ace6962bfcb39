/*  test_fake_audio.c: the fake slskd's generated audio files (tests/fakes/
    audio.c) open in TagLib with the right length, take tags, have exactly
    the announced size, and corrupt ones are zeros TagLib cannot read.

    The unit-test binary does not link the fake server sources, so the module is
    included here directly.
*/
#include "../fakes/audio.c"
#include <soulpipe/audio_verify.h>
#include <stdlib.h>

#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/stat.h>
#include <jansson.h>
#include <tag_c.h>

static const char *s_exts[] = {"flac", "mp3", "ogg", "m4a"};
#define S_NEXT (sizeof s_exts / sizeof s_exts[0])
static const unsigned s_lengths[] = {1, 30, 215, 600};
#define S_NLEN (sizeof s_lengths / sizeof s_lengths[0])

static char s_dir[64];

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/sp-fake-audio-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
    taglib_set_strings_unicode (true);
    taglib_set_string_management_enabled (false);
}

static void
s_teardown (void)
{
    char cmd[128];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    cr_assert_eq (system (cmd), 0);
}

static void
s_path (char *buf, size_t size, const char *name, const char *ext)
{
    snprintf (buf, size, "%s/%s.%s", s_dir, name, ext);
}

static uint64_t
s_file_size (const char *path)
{
    struct stat st;
    cr_assert_eq (stat (path, &st), 0, "stat %s", path);
    return (uint64_t) st.st_size;
}

//  TagLib's length in seconds, or -1 when TagLib finds the file invalid.
static int
s_taglib_length (const char *path)
{
    TagLib_File *f = taglib_file_new (path);
    if (!f)
        return -1;
    int length = -1;
    if (taglib_file_is_valid (f)) {
        const TagLib_AudioProperties *ap = taglib_file_audioproperties (f);
        length = ap ? taglib_audioproperties_length (ap) : 0;
    }
    taglib_file_free (f);
    return length;
}

static void
s_assert_length (const char *ext, const char *path, unsigned length_s)
{
    int got = s_taglib_length (path);
    if (strcmp (ext, "mp3") == 0)
        cr_assert (got >= (int) length_s - 1 && got <= (int) length_s + 1,
                   "%s: TagLib length %d, want %u +-1", path, got, length_s);
    else
        cr_assert_eq (got, (int) length_s, "%s: TagLib length %d, want %u", path, got, length_s);
}

//  Write title/artist with TagLib, reopen, read them back.
static void
s_assert_tag_roundtrip (const char *path, unsigned length_s, const char *ext)
{
    const char *title = "Jóga — 喜び (Remastered 2011)";
    const char *artist = "Sigur Rós";
    TagLib_File *f = taglib_file_new (path);
    cr_assert_not_null (f, "%s", path);
    cr_assert (taglib_file_is_valid (f), "%s", path);
    TagLib_Tag *tag = taglib_file_tag (f);
    cr_assert_not_null (tag);
    taglib_tag_set_title (tag, title);
    taglib_tag_set_artist (tag, artist);
    taglib_tag_set_track (tag, 7);
    cr_assert (taglib_file_save (f), "save %s", path);
    taglib_file_free (f);

    f = taglib_file_new (path);
    cr_assert_not_null (f);
    cr_assert (taglib_file_is_valid (f), "reopen %s", path);
    tag = taglib_file_tag (f);
    char *t = taglib_tag_title (tag);
    char *a = taglib_tag_artist (tag);
    cr_assert_str_eq (t, title, "%s", path);
    cr_assert_str_eq (a, artist, "%s", path);
    cr_assert_eq (taglib_tag_track (tag), 7u);
    taglib_free (t);
    taglib_free (a);
    taglib_file_free (f);
    s_assert_length (ext, path, length_s);  // still the same audio
}

TestSuite (fake_audio, .init = s_setup, .fini = s_teardown);

Test (fake_audio, natural_files_open_with_right_length_and_take_tags)
{
    for (size_t e = 0; e < S_NEXT; e++)
        for (size_t l = 0; l < S_NLEN; l++) {
            char path[128], name[32];
            snprintf (name, sizeof name, "n%u", s_lengths[l]);
            s_path (path, sizeof path, name, s_exts[e]);
            uint64_t want = 0, got = 0;
            cr_assert_eq (sp_fake_audio_size (s_exts[e], s_lengths[l], 0, &want), 0);
            cr_assert_eq (sp_fake_audio_write (path, s_exts[e], s_lengths[l], 0, false, &got), 0,
                          "%s: %s", path, strerror (errno));
            cr_assert_eq (got, want, "%s", path);
            cr_assert_eq (s_file_size (path), want, "%s", path);
            //  FLAC and MP3 hold real audio (about 2.7 KB/s and the bitrate);
            //  Ogg and M4A are still tiny silent stand-ins
            uint64_t cap = strcmp (s_exts[e], "flac") == 0  ? 4000ull * s_lengths[l] + 8192
                           : strcmp (s_exts[e], "mp3") == 0 ? 40000ull * s_lengths[l] + 8192
                                                            : 128 * 1024;
            cr_assert_lt (want, cap, "%s is %llu bytes", path, (unsigned long long) want);
            s_assert_length (s_exts[e], path, s_lengths[l]);
            s_assert_tag_roundtrip (path, s_lengths[l], s_exts[e]);
        }
}

Test (fake_audio, target_size_is_honoured_exactly)
{
    static const uint64_t targets[] = {1500000, 2345677, 31457281};
    for (size_t e = 0; e < S_NEXT; e++)
        for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
            unsigned length_s = s_lengths[i % S_NLEN + (i == 2 ? 1 : 0)];
            char path[128], name[32];
            snprintf (name, sizeof name, "t%zu", i);
            s_path (path, sizeof path, name, s_exts[e]);
            uint64_t size = 0, got = 0;
            cr_assert_eq (sp_fake_audio_size (s_exts[e], length_s, targets[i], &size), 0);
            cr_assert_eq (size, targets[i], "%s", path);
            cr_assert_eq (sp_fake_audio_write (path, s_exts[e], length_s, targets[i], false, &got),
                          0, "%s: %s", path, strerror (errno));
            cr_assert_eq (got, targets[i]);
            cr_assert_eq (s_file_size (path), targets[i], "%s", path);
            s_assert_length (s_exts[e], path, length_s);
            s_assert_tag_roundtrip (path, length_s, s_exts[e]);
        }
}

//  Every size from the natural one up is reachable: Ogg's paging (a lacing
//  byte per 255 bytes, a page header per 255 segments) is the tricky one.
Test (fake_audio, every_size_above_natural_is_reachable)
{
    for (size_t e = 0; e < S_NEXT; e++) {
        uint64_t natural = 0, size = 0;
        cr_assert_eq (sp_fake_audio_size (s_exts[e], 30, 0, &natural), 0);
        for (uint64_t t = natural; t < natural + 1200; t++) {
            cr_assert_eq (sp_fake_audio_size (s_exts[e], 30, t, &size), 0);
            cr_assert_eq (size, t, "%s target %llu", s_exts[e], (unsigned long long) t);
        }
        for (uint64_t t = natural + 60000; t < natural + 140000; t += 97) {
            cr_assert_eq (sp_fake_audio_size (s_exts[e], 30, t, &size), 0);
            cr_assert_eq (size, t, "%s target %llu", s_exts[e], (unsigned long long) t);
        }
        cr_assert_eq (sp_fake_audio_size (s_exts[e], 30, SP_FAKE_AUDIO_MAX_SIZE, &size), 0);
        cr_assert_eq (size, SP_FAKE_AUDIO_MAX_SIZE, "%s", s_exts[e]);
    }
}

Test (fake_audio, ogg_padding_across_many_pages_decodes)
{
    // Over 65 KB of comment padding spans several pages; a size just past a
    // page boundary needs an extra, smaller page.
    static const uint64_t targets[] = {70000, 131100, 200001};
    for (size_t i = 0; i < 3; i++) {
        char path[128], name[32];
        snprintf (name, sizeof name, "o%zu", i);
        s_path (path, sizeof path, name, "ogg");
        uint64_t got = 0;
        cr_assert_eq (sp_fake_audio_write (path, "ogg", 215, targets[i], false, &got), 0);
        cr_assert_eq (s_file_size (path), targets[i]);
        s_assert_length ("ogg", path, 215);
        s_assert_tag_roundtrip (path, 215, "ogg");
    }
}

Test (fake_audio, small_target_gives_natural_size)
{
    for (size_t e = 0; e < S_NEXT; e++) {
        uint64_t natural = 0, size = 0;
        cr_assert_eq (sp_fake_audio_size (s_exts[e], 215, 0, &natural), 0);
        cr_assert_gt (natural, 1000);
        cr_assert_eq (sp_fake_audio_size (s_exts[e], 215, natural - 1, &size), 0);
        cr_assert_eq (size, natural);
        cr_assert_eq (sp_fake_audio_size (s_exts[e], 215, 100, &size), 0);
        cr_assert_eq (size, natural);
        cr_assert_eq (sp_fake_audio_size (s_exts[e], 215, natural + 1, &size), 0);
        cr_assert_eq (size, natural + 1);
    }
}

Test (fake_audio, corrupt_is_zeros_of_the_right_size)
{
    for (size_t e = 0; e < S_NEXT; e++) {
        for (int padded = 0; padded < 2; padded++) {
            uint64_t target = padded ? 777777 : 0;
            char path[128];
            s_path (path, sizeof path, padded ? "cp" : "c", s_exts[e]);
            uint64_t want = 0, got = 0;
            cr_assert_eq (sp_fake_audio_size (s_exts[e], 215, target, &want), 0);
            cr_assert_eq (sp_fake_audio_write (path, s_exts[e], 215, target, true, &got), 0);
            cr_assert_eq (got, want);
            cr_assert_eq (s_file_size (path), want);
            FILE *fp = fopen (path, "rb");
            cr_assert_not_null (fp);
            int c;
            uint64_t n = 0;
            while ((c = fgetc (fp)) != EOF) {
                cr_assert_eq (c, 0, "%s byte %llu", path, (unsigned long long) n);
                n++;
            }
            fclose (fp);
            cr_assert_eq (n, want);
            cr_assert_leq (s_taglib_length (path), 0, "%s: TagLib reads a length", path);
        }
    }
}

Test (fake_audio, extension_is_case_insensitive)
{
    char path[128];
    s_path (path, sizeof path, "upper", "FLAC");
    cr_assert (sp_fake_audio_supported ("FLAC"));
    cr_assert (sp_fake_audio_supported (".m4a"));
    cr_assert_eq (sp_fake_audio_write (path, "FLAC", 30, 0, false, NULL), 0);
    s_assert_length ("flac", path, 30);
    s_path (path, sizeof path, "upper", "Mp3");
    cr_assert_eq (sp_fake_audio_write (path, "Mp3", 30, 0, false, NULL), 0);
    s_assert_length ("mp3", path, 30);
}

Test (fake_audio, errors)
{
    char path[128];
    uint64_t size = 0;
    s_path (path, sizeof path, "e", "wav");
    cr_assert (!sp_fake_audio_supported ("wav"));
    cr_assert (!sp_fake_audio_supported (NULL));
    errno = 0;
    cr_assert_eq (sp_fake_audio_write (path, "wav", 30, 0, false, &size), -1);
    cr_assert_eq (errno, EINVAL);
    cr_assert_eq (access (path, F_OK), -1, "nothing written for an unknown format");
    errno = 0;
    cr_assert_eq (sp_fake_audio_size ("flac", 0, 0, &size), -1);
    cr_assert_eq (errno, EINVAL);
    cr_assert_eq (sp_fake_audio_size ("flac", SP_FAKE_AUDIO_MAX_LENGTH + 1, 0, &size), -1);
    cr_assert_eq (sp_fake_audio_size ("flac", 30, 0, NULL), -1);
    cr_assert_eq (sp_fake_audio_size (NULL, 30, 0, &size), -1);
    errno = 0;
    cr_assert_eq (sp_fake_audio_size ("ogg", 30, SP_FAKE_AUDIO_MAX_SIZE + 1, &size), -1);
    cr_assert_eq (errno, EFBIG);
    cr_assert_eq (sp_fake_audio_write (NULL, "ogg", 30, 0, false, &size), -1);

    s_path (path, sizeof path, "exists", "ogg");
    cr_assert_eq (sp_fake_audio_write (path, "ogg", 30, 0, false, &size), 0);
    errno = 0;
    cr_assert_eq (sp_fake_audio_write (path, "ogg", 30, 0, false, &size), -1);
    cr_assert_eq (errno, EEXIST);
    cr_assert_eq (s_file_size (path), size, "the existing file is left alone");

    snprintf (path, sizeof path, "%s/no/such/dir.flac", s_dir);
    cr_assert_eq (sp_fake_audio_write (path, "flac", 30, 0, false, &size), -1);
    cr_assert_eq (errno, ENOENT);
}

Test (fake_audio, max_length_fits_the_size_limit)
{
    for (size_t e = 0; e < S_NEXT; e++) {
        uint64_t size = 0;
        unsigned length = strcmp (s_exts[e], "mp3") == 0 ? 6000 : SP_FAKE_AUDIO_MAX_LENGTH;
        cr_assert_eq (sp_fake_audio_size (s_exts[e], length, 0, &size), 0);
        cr_assert_lt (size, SP_FAKE_AUDIO_MAX_SIZE, "%s: %llu", s_exts[e],
                      (unsigned long long) size);
    }
}

//  The decoder's verdict on what the fake serves: a genuine FLAC and MP3
//  of each bitrate class are kept, the lossy kinds are caught, and the
//  decoded length is the whole length (not just the header's).
static void
s_assert_verdict (const char *ext, unsigned length, sp_fake_audio_spec_t spec,
                  sp_audio_verdict_t want)
{
    static int n;
    char path[128], name[32];
    snprintf (name, sizeof name, "v%d", n++);
    s_path (path, sizeof path, name, ext);
    cr_assert_eq (sp_fake_audio_write_spec (path, ext, length, 0, &spec, NULL), 0, "%s", path);
    sp_audio_verify_opts_t opts;
    sp_audio_verify_opts_default (&opts);
    opts.expect_ms = (int64_t) length * 1000;
    if (spec.bitrate_kbps) {
        opts.claim = SP_AUDIO_CLAIM_LOSSY;
        opts.claimed_kbps = (int) spec.bitrate_kbps;
    }
    sp_audio_verify_result_t r;
    cr_assert_eq (sp_audio_verify_file (path, &opts, &r), 0);
    cr_assert_eq (r.verdict, want, "%s kind %d %u kbps: %s (%s)", ext, (int) spec.kind,
                  spec.bitrate_kbps, sp_audio_verify_verdict_name (r.verdict),
                  r.n_reasons ? r.reasons[0] : "");
    cr_assert_lt (llabs (r.decoded_ms - opts.expect_ms), 1000, "%s decodes to %lld ms", path,
                  (long long) r.decoded_ms);
}

Test (fake_audio, decoder_verdicts_on_the_fake_content)
{
    s_assert_verdict ("flac", 215, (sp_fake_audio_spec_t){SP_FAKE_AUDIO_GOOD, 0, false},
                      SP_AUDIO_GENUINE);
    s_assert_verdict ("flac", 215, (sp_fake_audio_spec_t){SP_FAKE_AUDIO_LOSSY, 0, false},
                      SP_AUDIO_LOSSY_SOURCE);
    static const unsigned kbps[] = {128, 192, 256, 320};
    for (size_t i = 0; i < 4; i++)
        s_assert_verdict ("mp3", 60, (sp_fake_audio_spec_t){SP_FAKE_AUDIO_GOOD, kbps[i], false},
                          SP_AUDIO_GENUINE);
    s_assert_verdict ("mp3", 60, (sp_fake_audio_spec_t){SP_FAKE_AUDIO_GOOD, 251, true},
                      SP_AUDIO_GENUINE);
    s_assert_verdict ("mp3", 60, (sp_fake_audio_spec_t){SP_FAKE_AUDIO_LOSSY, 320, false},
                      SP_AUDIO_UPSAMPLED);
}

//  Every audio file in the demo network gets exactly its advertised size
//  (the fake pads to it), so search and transfer sizes match the disk.
Test (fake_audio, demo_network_sizes_are_honoured)
{
    const char *src = getenv ("SOULPIPE_SRC_DIR");
    char path[512];
    snprintf (path, sizeof path, "%s/tests/fixtures/demo/slskd/network.json", src ? src : ".");
    json_error_t jerr;
    json_t *net = json_load_file (path, 0, &jerr);
    cr_assert_not_null (net, "%s: %s (run from the repo root or set SOULPIPE_SRC_DIR)", path,
                        jerr.text);
    size_t i, j, checked = 0;
    json_t *user, *file;
    json_array_foreach (json_object_get (net, "users"), i, user)
    {
        json_array_foreach (json_object_get (user, "files"), j, file)
        {
            const char *name = json_string_value (json_object_get (file, "filename"));
            cr_assert_not_null (name);
            const char *dot = strrchr (name, '.');
            cr_assert_not_null (dot, "%s", name);
            cr_assert (sp_fake_audio_supported (dot + 1), "%s", name);
            json_int_t size = json_integer_value (json_object_get (file, "size"));
            json_int_t length = json_integer_value (json_object_get (file, "length"));
            uint64_t got = 0;
            sp_fake_audio_spec_t spec = {
                .kind = SP_FAKE_AUDIO_GOOD,
                .bitrate_kbps = (unsigned) json_integer_value (json_object_get (file, "bitRate")),
                .vbr = json_is_true (json_object_get (file, "isVariableBitRate"))};
            const char *content = json_string_value (json_object_get (file, "content"));
            if (content && strcmp (content, "lossy") == 0)
                spec.kind = SP_FAKE_AUDIO_LOSSY;
            cr_assert_eq (
                sp_fake_audio_size_spec (dot + 1, (unsigned) length, (uint64_t) size, &spec, &got),
                0, "%s", name);
            cr_assert_eq (got, (uint64_t) size, "%s", name);
            checked++;
        }
    }
    json_decref (net);
    cr_assert_gt (checked, 100);
}
