/*  bench_verify: the audio verifier (common/src/audio_verify.c) on a
    5-minute 16-bit/44.1 kHz stereo FLAC and a 5-minute 320 kbps MP3 of
    broadband noise and a tone, made with sox, flac and lame in the bench's
    temporary folder. Decode + spectrum, one core, best of 3.
    Prints `name value unit` lines (issue 19 target: verify_flac_5min_ms
    under 300 ms). */
#include "bench_util.h"

#include "soulpipe/audio_verify.h"

static int
s_make (const char *dir)
{
    char cmd[1024];
    snprintf (cmd, sizeof cmd,
              "cd '%s' && sox -q -n -r 44100 -b 16 -c 2 n.wav synth 300 pinknoise vol 0.3 "
              "tremolo 3 40 && sox -q -n -r 44100 -b 16 -c 2 t.wav synth 300 sine 220 vol 0.1 "
              "&& sox -q -m n.wav t.wav src.wav && flac -s -f src.wav -o v.flac "
              "&& lame --quiet -b 320 src.wav v.mp3",
              dir);
    return system (cmd);
}

static double
s_best_ms (const char *path, int64_t expect_ms, const char **verdict)
{
    double best = -1;
    for (int i = 0; i < 3; i++) {
        sp_audio_verify_opts_t opts;
        sp_audio_verify_opts_default (&opts);
        opts.expect_ms = expect_ms;
        sp_audio_verify_result_t r;
        double t0 = sp_bench_now ();
        if (sp_audio_verify_file (path, &opts, &r) != SP_AUDIO_VERIFY_OK)
            return -1;
        double ms = (sp_bench_now () - t0) * 1000.0;
        *verdict = sp_audio_verify_verdict_name (r.verdict);
        if (best < 0 || ms < best)
            best = ms;
    }
    return best;
}

int
main (void)
{
    const char *tmp = getenv ("SOULPIPE_BENCH_TMP");
    char dir[256];
    snprintf (dir, sizeof dir, "%s/verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp (dir) || s_make (dir) != 0) {
        fprintf (stderr, "bench_verify: cannot make the test audio (sox, flac, lame installed?)\n");
        return 1;
    }
    char path[512];
    const char *verdict = "";
    snprintf (path, sizeof path, "%s/v.flac", dir);
    double flac_ms = s_best_ms (path, 300000, &verdict);
    printf ("verify_flac_5min_ms %.1f ms (%s)\n", flac_ms, verdict);
    snprintf (path, sizeof path, "%s/v.mp3", dir);
    double mp3_ms = s_best_ms (path, 300000, &verdict);
    printf ("verify_mp3_5min_ms %.1f ms (%s)\n", mp3_ms, verdict);
    char cmd[600];
    snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system (cmd) != 0)
        fprintf (stderr, "bench_verify: could not remove %s\n", dir);
    return flac_ms < 0 || mp3_ms < 0;
}
