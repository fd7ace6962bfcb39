/*  test_audio_verify.c: the audio verifier (common/src/audio_verify.c) on
    files made here with sox, lame and flac (Debian packages listed in
    scripts/deb-packages.txt): a genuine FLAC of broadband music-like
    content, FLACs decoded from 128 and 320 kbps MP3s (fake lossless), a
    320 kbps MP3 re-encoded from a 128 kbps one (upsampled), genuine MP3s,
    a truncated FLAC, a FLAC corrupted in the middle, silence, and a file
    of the wrong length.
*/
#include "soulpipe/audio_verify.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[64];

static void
s_run (const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (cmd, sizeof cmd, fmt, ap);
    va_end (ap);
    cr_assert_eq (system (cmd), 0, "command failed: %s", cmd);
}

static void
s_setup (void)
{
    strcpy (s_dir, "/tmp/sp-verify-XXXXXX");
    cr_assert_not_null (mkdtemp (s_dir));
    //  Music-like: pink noise (energy up to 22 kHz) under a tone and its
    //  harmonics, with a tremolo so that levels move like music.
    s_run ("cd '%s' && sox -q -n -r 44100 -b 16 -c 2 noise.wav synth 12 pinknoise vol 0.3 "
           "tremolo 3 40 && sox -q -n -r 44100 -b 16 -c 2 tone.wav synth 12 sine 220 vol 0.1 "
           "&& sox -q -m noise.wav tone.wav src.wav",
           s_dir);
    s_run ("cd '%s' && flac -s -f src.wav -o genuine.flac", s_dir);
    s_run ("cd '%s' && lame --quiet -b 128 src.wav l128.mp3 && lame --quiet --decode l128.mp3 "
           "d128.wav && flac -s -f d128.wav -o fake128.flac",
           s_dir);
    s_run ("cd '%s' && lame --quiet -b 320 src.wav l320.mp3 && lame --quiet --decode l320.mp3 "
           "d320.wav && flac -s -f d320.wav -o fake320.flac",
           s_dir);
    s_run ("cd '%s' && lame --quiet -b 320 d128.wav up320.mp3", s_dir);
    s_run ("cd '%s' && sox -q -n -r 44100 -b 16 -c 2 silent.wav trim 0 8 && flac -s -f silent.wav "
           "-o silent.flac",
           s_dir);
}

static void
s_teardown (void)
{
    s_run ("rm -rf '%s'", s_dir);
}

static sp_audio_verify_result_t
s_verify (const char *name, int64_t expect_ms)
{
    char path[128];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    sp_audio_verify_opts_t opts;
    sp_audio_verify_opts_default (&opts);
    opts.expect_ms = expect_ms;
    sp_audio_verify_result_t r;
    cr_assert_eq (sp_audio_verify_file (path, &opts, &r), SP_AUDIO_VERIFY_OK, "%s", name);
    return r;
}

TestSuite (audio_verify, .init = s_setup, .fini = s_teardown, .timeout = 120);

Test (audio_verify, genuine_flac_is_kept)
{
    sp_audio_verify_result_t r = s_verify ("genuine.flac", 12000);
    cr_expect (r.ok, "%s", r.reasons[0]);
    cr_expect_eq (r.verdict, SP_AUDIO_GENUINE);
    cr_expect (r.lossless);
    cr_expect (r.decoded_ms > 11900 && r.decoded_ms < 12100, "%lld", (long long) r.decoded_ms);
    cr_expect (r.cutoff_hz > 20500, "%d", r.cutoff_hz);
}

Test (audio_verify, flac_from_mp3_is_lossy_source)
{
    sp_audio_verify_result_t a = s_verify ("fake128.flac", 12000);
    cr_expect (!a.ok);
    cr_expect_eq (a.verdict, SP_AUDIO_LOSSY_SOURCE, "%s", sp_audio_verify_verdict_name (a.verdict));
    cr_expect (a.cutoff_hz > 15000 && a.cutoff_hz < 18000, "%d", a.cutoff_hz);
    sp_audio_verify_result_t b = s_verify ("fake320.flac", 12000);
    cr_expect (!b.ok);
    cr_expect_eq (b.verdict, SP_AUDIO_LOSSY_SOURCE, "%s", sp_audio_verify_verdict_name (b.verdict));
}

Test (audio_verify, genuine_mp3s_are_kept)
{
    sp_audio_verify_result_t a = s_verify ("l320.mp3", 12000);
    cr_expect (a.ok, "%s", a.reasons[0]);
    cr_expect (!a.lossless);
    sp_audio_verify_result_t b = s_verify ("l128.mp3", 12000);
    cr_expect (b.ok, "%s", b.reasons[0]);
}

Test (audio_verify, mp3_from_128_is_upsampled)
{
    sp_audio_verify_result_t r = s_verify ("up320.mp3", 12000);
    cr_expect (!r.ok);
    cr_expect_eq (r.verdict, SP_AUDIO_UPSAMPLED, "%s", sp_audio_verify_verdict_name (r.verdict));
}

Test (audio_verify, truncated_and_damaged_files_fail)
{
    s_run ("cd '%s' && head -c 300000 genuine.flac > trunc.flac", s_dir);
    sp_audio_verify_result_t t = s_verify ("trunc.flac", 12000);
    cr_expect (!t.ok);
    cr_expect (t.decoded_ms < 11000, "%lld", (long long) t.decoded_ms);
    //  cut short: one broken last frame, but the verdict says what happened
    cr_expect_eq (t.verdict, SP_AUDIO_TRUNCATED, "%s", sp_audio_verify_verdict_name (t.verdict));
    //  A block of garbage in the middle; the header stays valid.
    s_run ("cd '%s' && cp genuine.flac mid.flac && dd if=/dev/urandom of=mid.flac bs=1 "
           "seek=400000 count=20000 conv=notrunc status=none",
           s_dir);
    sp_audio_verify_result_t m = s_verify ("mid.flac", 12000);
    cr_expect (!m.ok);
    cr_expect (m.errors > 0);
    //  Not audio at all.
    s_run ("cd '%s' && head -c 100000 /dev/zero > zero.flac", s_dir);
    sp_audio_verify_result_t z = s_verify ("zero.flac", 12000);
    cr_expect (!z.ok);
    cr_expect_eq (z.verdict, SP_AUDIO_CORRUPT);
}

Test (audio_verify, silence_and_wrong_length_fail)
{
    sp_audio_verify_result_t s = s_verify ("silent.flac", 8000);
    cr_expect (!s.ok);
    cr_expect_eq (s.verdict, SP_AUDIO_SILENT, "%s", sp_audio_verify_verdict_name (s.verdict));
    sp_audio_verify_result_t w = s_verify ("genuine.flac", 200000);
    cr_expect (!w.ok);
    cr_expect_eq (w.verdict, SP_AUDIO_WRONG_LENGTH, "%s", sp_audio_verify_verdict_name (w.verdict));
}

Test (audio_verify, claims_parse_and_bad_input_is_refused)
{
    sp_audio_verify_opts_t o;
    sp_audio_verify_opts_default (&o);
    cr_expect_eq (sp_audio_verify_parse_claim ("mp3:320", &o), 0);
    cr_expect_eq (o.claim, SP_AUDIO_CLAIM_LOSSY);
    cr_expect_eq (o.claimed_kbps, 320);
    cr_expect_eq (sp_audio_verify_parse_claim ("flac", &o), 0);
    cr_expect_eq (o.claim, SP_AUDIO_CLAIM_LOSSLESS);
    cr_expect_eq (sp_audio_verify_parse_claim ("mp3:abc", &o), -1);
    sp_audio_verify_result_t r;
    cr_expect_eq (sp_audio_verify_file (NULL, NULL, &r), SP_AUDIO_VERIFY_EINVAL);
    cr_expect_eq (sp_audio_verify_file ("/nonexistent/x.flac", NULL, &r), SP_AUDIO_VERIFY_OK);
    cr_expect (!r.ok);
    cr_expect_eq (r.verdict, SP_AUDIO_CORRUPT);
}
