/*  dl_verify_cli.c: `soulpipe-downloader --verify FILE [--expect-ms N]
    [--claimed flac|mp3:320] [--json]`: the audio verifier
    (common/src/audio_verify.c) on one file, offline (no Redis, no slskd),
    so a user can check a file by hand and anyone can run the verifier on
    files it has never seen. Exit 0 when the file would be kept, 1 when
    not, 2 on a usage error. */
#include "downloader.h"

#include "soulpipe/audio_verify.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_usage (const char *why)
{
    fprintf (stderr,
             "soulpipe-downloader: %s\n"
             "usage: soulpipe-downloader --verify FILE [--expect-ms N] [--claimed flac|mp3:320] "
             "[--json]\n",
             why);
    return 2;
}

static void
s_print_json (const sp_audio_verify_result_t *r)
{
    json_t *reasons = json_array ();
    for (size_t i = 0; i < r->n_reasons; i++)
        json_array_append_new (reasons, json_string (r->reasons[i]));
    json_t *o = json_pack ("{s:b, s:s, s:I, s:i, s:f, s:o}", "ok", r->ok, "verdict",
                           sp_audio_verify_verdict_name (r->verdict), "decoded_ms",
                           (json_int_t) r->decoded_ms, "cutoff_hz", r->cutoff_hz, "confidence",
                           r->confidence, "reasons", reasons);
    if (o) {
        json_object_set_new (o, "codec", json_string (r->codec));
        json_object_set_new (o, "sample_rate", json_integer (r->sample_rate));
        json_object_set_new (o, "bitrate_kbps", json_integer (r->bitrate_kbps));
        json_object_set_new (o, "lossless", json_boolean (r->lossless));
        json_object_set_new (o, "rms_db", json_real (r->rms_db));
        json_object_set_new (o, "errors", json_integer (r->errors));
        char *text = json_dumps (o, JSON_COMPACT);
        if (text)
            printf ("%s\n", text);
        free (text);
        json_decref (o);
    }
}

static void
s_print_text (const char *path, const sp_audio_verify_result_t *r)
{
    printf ("%s: %s (%s, confidence %.2f)\n", path, sp_audio_verify_verdict_name (r->verdict),
            r->ok ? "kept" : "rejected", r->confidence);
    printf ("  %s, %d Hz, %d kbps, decoded %.1f s, cutoff %d Hz, RMS %.1f dBFS, %d errors\n",
            r->codec[0] ? r->codec : "unknown codec", r->sample_rate, r->bitrate_kbps,
            (double) r->decoded_ms / 1000.0, r->cutoff_hz, r->rms_db, r->errors);
    for (size_t i = 0; i < r->n_reasons; i++)
        printf ("  - %s\n", r->reasons[i]);
}

int
sp_dl_verify_main (int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return s_usage ("--verify needs a FILE");
    const char *path = argv[1];
    sp_audio_verify_opts_t opts;
    sp_audio_verify_opts_default (&opts);
    bool json = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            json = true;
        else if (strcmp (argv[i], "--expect-ms") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            long long v = strtoll (argv[++i], &end, 10);
            if (errno || !end || *end || v <= 0)
                return s_usage ("--expect-ms needs a positive number of milliseconds");
            opts.expect_ms = v;
        } else if (strcmp (argv[i], "--claimed") == 0 && i + 1 < argc) {
            if (sp_audio_verify_parse_claim (argv[++i], &opts) != 0)
                return s_usage ("--claimed takes flac (or lossless) or mp3:KBPS (e.g. mp3:320)");
        } else
            return s_usage ("unknown option (see --help)");
    }
    sp_audio_verify_result_t r;
    int rc = sp_audio_verify_file (path, &opts, &r);
    if (rc == SP_AUDIO_VERIFY_EINVAL)
        return s_usage ("bad arguments");
    if (json)
        s_print_json (&r);
    else
        s_print_text (path, &r);
    return r.ok ? 0 : 1;
}
