/*  audio_verify.c: decode a file to the end with FFmpeg and judge it (see
    audio_verify.h): stream errors, decoded duration, RMS, and the
    high-frequency cutoff of the spectrum averaged over the frames with
    energy. */
#include "soulpipe/audio_verify.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>
#include <libavutil/tx.h>

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_FFT_N           2048  //  FFT size (samples; 21.5 Hz bins at 44.1 kHz)
#define S_FFT_BINS        (S_FFT_N / 2 + 1)
#define S_FFT_EVERY       2       //  frames per analysed frame
#define S_LOUD_DB         -45.0   //  frames quieter than this (dBFS RMS) are not in the spectrum
#define S_SILENT_DB       -60.0   //  whole-file RMS below this = silent
#define S_BAND_HZ         1000    //  width of the bands compared at a candidate cutoff
#define S_GAP_HZ          100     //  gap between the two bands (the filter's slope)
#define S_STEP_DB         25.0    //  a brick wall: the band above this much quieter
#define S_FLOOR_DB        -150.0  //  log floor of an empty bin
#define S_LOSSLESS_MIN_HZ 21000   //  a lossless file's cutoff at or above this is genuine
#define S_MIN_LOUD_FRAMES 20      //  fewer frames with energy: the cutoff is not judged
#define S_TOL_MIN_MS      5000    //  default duration tolerance: at least 5 s ...
#define S_TOL_PCT         3       //  ... or 3 %
#define S_ERRORS_MAX      1000    //  stop counting (and decoding) after this many errors

/* ---------------------------------------------------------------- helpers */

static pthread_once_t s_log_once = PTHREAD_ONCE_INIT;

static void
s_log_quiet (void)
{
    //  FFmpeg would print every damaged frame on stderr; errors are counted
    av_log_set_level (AV_LOG_QUIET);
}

static void s_reason (sp_audio_verify_result_t *r, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
s_reason (sp_audio_verify_result_t *r, const char *fmt, ...)
{
    if (r->n_reasons >= SP_AUDIO_VERIFY_REASONS)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (r->reasons[r->n_reasons++], SP_AUDIO_VERIFY_REASON_MAX, fmt, ap);
    va_end (ap);
}

void
sp_audio_verify_opts_default (sp_audio_verify_opts_t *opts)
{
    if (!opts)
        return;
    memset (opts, 0, sizeof *opts);
    opts->expect_ms = -1;
    opts->tolerance_ms = -1;
    opts->claim = SP_AUDIO_CLAIM_AUTO;
}

const char *
sp_audio_verify_verdict_name (sp_audio_verdict_t v)
{
    switch (v) {
        case SP_AUDIO_GENUINE:
            return "genuine";
        case SP_AUDIO_LOSSY_SOURCE:
            return "lossy-source";
        case SP_AUDIO_UPSAMPLED:
            return "upsampled";
        case SP_AUDIO_CORRUPT:
            return "corrupt";
        case SP_AUDIO_TRUNCATED:
            return "truncated";
        case SP_AUDIO_SILENT:
            return "silent";
        case SP_AUDIO_WRONG_LENGTH:
            return "wrong-length";
    }
    return "unknown";
}

int
sp_audio_verify_parse_claim (const char *s, sp_audio_verify_opts_t *opts)
{
    if (!s || !opts)
        return -1;
    static const char *const lossless[] = {"flac", "lossless", "wav", "alac", "ape", "wv"};
    for (size_t i = 0; i < sizeof lossless / sizeof lossless[0]; i++)
        if (strcasecmp (s, lossless[i]) == 0) {
            opts->claim = SP_AUDIO_CLAIM_LOSSLESS;
            opts->claimed_kbps = 0;
            return 0;
        }
    const char *colon = strchr (s, ':');
    size_t nl = colon ? (size_t) (colon - s) : strlen (s);
    static const char *const lossy[] = {"mp3", "aac", "m4a", "ogg", "opus", "lossy"};
    bool known = false;
    for (size_t i = 0; i < sizeof lossy / sizeof lossy[0]; i++)
        if (strlen (lossy[i]) == nl && strncasecmp (s, lossy[i], nl) == 0)
            known = true;
    if (!known)
        return -1;
    long kbps = 0;
    if (colon) {
        char *end = NULL;
        kbps = strtol (colon + 1, &end, 10);
        if (end == colon + 1 || *end || kbps < 8 || kbps > 2000)
            return -1;
    }
    opts->claim = SP_AUDIO_CLAIM_LOSSY;
    opts->claimed_kbps = (int) kbps;
    return 0;
}

/* ---------------------------------------------------------------- analysis */

//  The running state of one file's analysis.
typedef struct {
    AVTXContext *tx;           //  real FFT of S_FFT_N points
    av_tx_fn tx_fn;            //  its transform
    float *in;                 //  S_FFT_N mono samples (windowed before the FFT)
    AVComplexFloat *out;       //  S_FFT_BINS bins
    float window[S_FFT_N];     //  Hann window
    double power[S_FFT_BINS];  //  power summed over the loud frames
    size_t fill;               //  samples in in[]
    int64_t loud_frames;       //  frames in power[]
    int64_t frames;            //  frames of S_FFT_N samples seen
    int64_t samples;           //  decoded samples per channel
    double sum_sq;             //  sum of squared mono samples (for the RMS)
} s_spec_t;

static void
s_spec_frame (s_spec_t *s)
{
    double e = 0;
    for (size_t i = 0; i < S_FFT_N; i++)
        e += (double) s->in[i] * s->in[i];
    double rms_db = 10 * log10 (e / S_FFT_N + 1e-30);
    if (rms_db < S_LOUD_DB)
        return;
    for (size_t i = 0; i < S_FFT_N; i++)
        s->in[i] *= s->window[i];
    s->tx_fn (s->tx, s->out, s->in, sizeof (float));
    //  normalised by the frame's energy: a loud chorus does not outweigh
    //  every verse, the spectrum's shape is what counts
    double norm = 0;
    for (size_t b = 0; b < S_FFT_BINS; b++)
        norm += (double) s->out[b].re * s->out[b].re + (double) s->out[b].im * s->out[b].im;
    if (norm <= 0)
        return;
    for (size_t b = 0; b < S_FFT_BINS; b++)
        s->power[b] +=
            ((double) s->out[b].re * s->out[b].re + (double) s->out[b].im * s->out[b].im) / norm;
    s->loud_frames++;
}

//  Sample i of channel ch of frame f as a float in [-1, 1]; pk is the
//  frame's format in its packed form (looked up once per frame).
static inline float
s_sample (const AVFrame *f, enum AVSampleFormat pk, bool planar, int ch, int nch, int i)
{
    const uint8_t *p = planar ? f->extended_data[ch] : f->extended_data[0];
    int idx = planar ? i : i * nch + ch;
    switch (pk) {
        case AV_SAMPLE_FMT_U8:
            return ((float) p[idx] - 128.0f) / 128.0f;
        case AV_SAMPLE_FMT_S16:
            return (float) ((const int16_t *) (const void *) p)[idx] / 32768.0f;
        case AV_SAMPLE_FMT_S32:
            return (float) ((double) ((const int32_t *) (const void *) p)[idx] / 2147483648.0);
        case AV_SAMPLE_FMT_S64:
            return (float) ((double) ((const int64_t *) (const void *) p)[idx] /
                            9223372036854775808.0);
        case AV_SAMPLE_FMT_FLT:
            return ((const float *) (const void *) p)[idx];
        case AV_SAMPLE_FMT_DBL:
            return (float) ((const double *) (const void *) p)[idx];
        default:
            return 0;
    }
}

static void
s_spec_feed (s_spec_t *s, const AVFrame *f, int nch)
{
    if (nch <= 0)
        return;
    enum AVSampleFormat fmt = f->format;
    bool planar = av_sample_fmt_is_planar (fmt);
    enum AVSampleFormat pk = av_get_packed_sample_fmt (fmt);
    float inv = 1.0f / (float) nch;
    for (int i = 0; i < f->nb_samples; i++) {
        float m = 0;
        for (int ch = 0; ch < nch; ch++)
            m += s_sample (f, pk, planar, ch, nch, i);
        m *= inv;
        s->sum_sq += (double) m * m;
        s->in[s->fill++] = m;
        if (s->fill == S_FFT_N) {
            //  the spectrum of one frame in S_FFT_EVERY: a 5-minute file still
            //  gives thousands of frames, at a fraction of the cost
            if (s->frames++ % S_FFT_EVERY == 0)
                s_spec_frame (s);
            s->fill = 0;
        }
    }
    s->samples += f->nb_samples;
}

//  The cutoff of the averaged spectrum: the bin with the largest drop from
//  the band below it to the band above it. Returns the cutoff in Hz (0 when
//  there is no brick wall) and the drop in *drop_db; *top_hz gets the
//  highest frequency with content (for music without a wall).
static int
s_cutoff (const s_spec_t *s, int rate, double *drop_db, int *top_hz)
{
    double db[S_FFT_BINS];
    double n = (double) s->loud_frames;
    for (size_t b = 0; b < S_FFT_BINS; b++) {
        double v = s->power[b] / n;
        db[b] = v > 0 ? 10 * log10 (v) : S_FLOOR_DB;
        if (db[b] < S_FLOOR_DB)
            db[b] = S_FLOOR_DB;
    }
    double hz_per_bin = (double) rate / S_FFT_N;
    int band = (int) (S_BAND_HZ / hz_per_bin + 0.5);
    int gap = (int) (S_GAP_HZ / hz_per_bin + 0.5);
    if (band < 4)
        band = 4;
    int lo = (int) (5000 / hz_per_bin);
    int hi = S_FFT_BINS - 1 - gap - band;
    double best = 0;
    int best_bin = 0;
    for (int c = lo; c <= hi; c++) {
        double below = 0, above = 0, above_max = S_FLOOR_DB;
        for (int k = c - band; k < c; k++)
            below += db[k];
        below /= band;
        for (int k = c + gap; k < c + gap + band; k++)
            above += db[k];
        above /= band;
        //  the whole rest above stays low too (not a notch in the music)
        for (int k = c + gap; k < S_FFT_BINS - 1; k++)
            if (db[k] > above_max)
                above_max = db[k];
        double drop = below - above;
        if (drop > best && above_max < below - S_STEP_DB / 2) {
            best = drop;
            best_bin = c;
        }
    }
    *drop_db = best;
    //  highest bin within 40 dB of the loudest band
    double peak = S_FLOOR_DB;
    for (size_t b = 1; b < S_FFT_BINS; b++)
        if (db[b] > peak)
            peak = db[b];
    *top_hz = 0;
    for (int b = S_FFT_BINS - 1; b > 0; b--)
        if (db[b] > peak - 60) {
            *top_hz = (int) (b * hz_per_bin);
            break;
        }
    if (best < S_STEP_DB)
        return 0;
    return (int) (best_bin * hz_per_bin + 0.5);
}

//  The lowpass LAME uses at a CBR bitrate (Hz), roughly; other encoders are
//  close. 0 = no judgement at that bitrate.
static int
s_expected_lowpass (int kbps)
{
    if (kbps >= 256)
        return 19500;
    if (kbps >= 192)
        return 18500;
    if (kbps >= 160)
        return 17000;
    return 0;
}

/* ---------------------------------------------------------------- decoding */

static bool
s_codec_lossless (enum AVCodecID id)
{
    switch (id) {
        case AV_CODEC_ID_FLAC:
        case AV_CODEC_ID_ALAC:
        case AV_CODEC_ID_APE:
        case AV_CODEC_ID_WAVPACK:
        case AV_CODEC_ID_TTA:
        case AV_CODEC_ID_TAK:
        case AV_CODEC_ID_MLP:
        case AV_CODEC_ID_TRUEHD:
            return true;
        default:
            break;
    }
    const AVCodecDescriptor *d = avcodec_descriptor_get (id);
    return d && d->type == AVMEDIA_TYPE_AUDIO && strncmp (d->name, "pcm_", 4) == 0;
}

static int
s_drain (AVCodecContext *dec, AVFrame *frame, s_spec_t *spec, int nch, int *errors)
{
    while (true) {
        int rc = avcodec_receive_frame (dec, frame);
        if (rc == AVERROR (EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0) {
            (*errors)++;
            return rc;
        }
        if (frame->decode_error_flags)
            (*errors)++;
        s_spec_feed (spec, frame, nch);
        av_frame_unref (frame);
    }
}

//  The verdict from what the decoding measured (r filled so far).
static void
s_judge (sp_audio_verify_result_t *r, const sp_audio_verify_opts_t *o, const s_spec_t *spec,
         bool claim_lossless, int claim_kbps)
{
    r->lossless = claim_lossless;
    r->verdict = SP_AUDIO_GENUINE;
    r->confidence = 0.9;
    double mean_sq = spec->samples > 0 ? spec->sum_sq / (double) spec->samples : 0;
    r->rms_db = 10 * log10 (mean_sq + 1e-30);
    if (r->rms_db < -300)
        r->rms_db = -300;

    //  1. duration: decoded from the samples, against the header and the
    //  expected length; a file cut short ends in one broken frame, which
    //  makes it truncated rather than corrupt
    int64_t expect = o->expect_ms > 0 ? o->expect_ms : -1;
    int64_t base = expect > 0 ? expect : r->header_ms;
    int64_t tol = o->tolerance_ms;
    if (tol < 0) {
        tol = base > 0 ? base * S_TOL_PCT / 100 : 0;
        if (tol < S_TOL_MIN_MS)
            tol = S_TOL_MIN_MS;
    }
    if (r->header_ms > 0 && r->decoded_ms + tol < r->header_ms && r->errors <= 2) {
        r->verdict = SP_AUDIO_TRUNCATED;
        r->confidence = 0.95;
        s_reason (r, "decodes to %lld ms, the header says %lld ms", (long long) r->decoded_ms,
                  (long long) r->header_ms);
        return;
    }
    //  2. damaged stream
    if (r->errors > 0) {
        r->verdict = SP_AUDIO_CORRUPT;
        r->confidence = r->errors > 2 ? 0.99 : 0.9;
        s_reason (r, "%d stream or decode error%s", r->errors, r->errors == 1 ? "" : "s");
        return;
    }
    if (r->decoded_ms <= 0) {
        r->verdict = SP_AUDIO_CORRUPT;
        r->confidence = 0.99;
        s_reason (r, "no audio could be decoded");
        return;
    }
    if (expect > 0 && llabs (r->decoded_ms - expect) > tol) {
        bool shorter = r->decoded_ms < expect;
        r->verdict = shorter && r->header_ms > 0 && r->header_ms > r->decoded_ms + tol
                         ? SP_AUDIO_TRUNCATED
                         : SP_AUDIO_WRONG_LENGTH;
        r->confidence = 0.9;
        s_reason (r, "decodes to %lld ms, %lld ms expected (tolerance %lld ms)",
                  (long long) r->decoded_ms, (long long) expect, (long long) tol);
        return;
    }
    //  3. silence
    if (r->rms_db < S_SILENT_DB || spec->loud_frames == 0) {
        r->verdict = SP_AUDIO_SILENT;
        r->confidence = 0.95;
        s_reason (r, "silence or near-silence (RMS %.1f dBFS)", r->rms_db);
        return;
    }
    //  4. spectrum
    if (spec->loud_frames < S_MIN_LOUD_FRAMES) {
        r->confidence = 0.5;
        s_reason (r, "too little audio with energy to judge the spectrum (%lld frames)",
                  (long long) spec->loud_frames);
        return;
    }
    int top_hz = 0;
    r->cutoff_hz = s_cutoff (spec, r->sample_rate, &r->cutoff_drop_db, &top_hz);
    if (r->cutoff_hz == 0) {
        //  no brick wall: content fades out naturally (or reaches Nyquist)
        r->cutoff_hz = top_hz;
        r->confidence = top_hz >= S_LOSSLESS_MIN_HZ ? 0.95 : 0.7;
        s_reason (r, "no brick-wall lowpass; content up to %d Hz", top_hz);
        return;
    }
    if (claim_lossless) {
        if (r->cutoff_hz >= S_LOSSLESS_MIN_HZ) {
            r->confidence = 0.95;
            s_reason (r, "lowpass at %d Hz (%.0f dB), as a lossless master", r->cutoff_hz,
                      r->cutoff_drop_db);
            return;
        }
        r->verdict = SP_AUDIO_LOSSY_SOURCE;
        //  a wall at 20 kHz is what a 320 kbps MP3 makes, and also what some
        //  old masters have: said with less certainty
        r->confidence = r->cutoff_hz < 19800 ? 0.95 : 0.7;
        if (r->cutoff_drop_db < 35)
            r->confidence -= 0.1;
        s_reason (r,
                  "brick-wall lowpass at %d Hz (%.0f dB drop): the lowpass of a lossy encoder, "
                  "not of a lossless master",
                  r->cutoff_hz, r->cutoff_drop_db);
        return;
    }
    int want = s_expected_lowpass (claim_kbps);
    if (want > 0 && r->cutoff_hz < want - 1000) {
        r->verdict = SP_AUDIO_UPSAMPLED;
        r->confidence = r->cutoff_hz < want - 2000 ? 0.9 : 0.7;
        s_reason (r,
                  "lowpass at %d Hz, %d kbps files are cut near %d Hz: re-encoded from a lower "
                  "bitrate",
                  r->cutoff_hz, claim_kbps, want);
        return;
    }
    r->confidence = want > 0 ? 0.9 : 0.6;
    s_reason (r, "lowpass at %d Hz, as expected for %d kbps", r->cutoff_hz, claim_kbps);
}

int
sp_audio_verify_file (const char *path, const sp_audio_verify_opts_t *opts,
                      sp_audio_verify_result_t *out)
{
    if (!out)
        return SP_AUDIO_VERIFY_EINVAL;
    memset (out, 0, sizeof *out);
    out->verdict = SP_AUDIO_CORRUPT;
    out->header_ms = -1;
    out->confidence = 0.99;
    if (!path) {
        s_reason (out, "no file");
        return SP_AUDIO_VERIFY_EINVAL;
    }
    sp_audio_verify_opts_t defaults;
    sp_audio_verify_opts_default (&defaults);
    const sp_audio_verify_opts_t *o = opts ? opts : &defaults;
    pthread_once (&s_log_once, s_log_quiet);

    int rc = SP_AUDIO_VERIFY_OK;
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = NULL;
    AVFrame *frame = NULL;
    s_spec_t *spec = calloc (1, sizeof *spec);
    if (!spec) {
        s_reason (out, "out of memory");
        return SP_AUDIO_VERIFY_ENOMEM;
    }
    float scale = 1.0f;
    if (av_tx_init (&spec->tx, &spec->tx_fn, AV_TX_FLOAT_RDFT, 0, S_FFT_N, &scale, 0) < 0 ||
        !(spec->in = av_malloc (sizeof (float) * S_FFT_N)) ||
        //  zeroed: FFmpeg 5.1's real FFT does not write the last (Nyquist) bin,
        //  which then held whatever the heap had (a genuine-looking 22 kHz)
        !(spec->out = av_mallocz (sizeof (AVComplexFloat) * (S_FFT_BINS + 1))) ||
        !(pkt = av_packet_alloc ()) || !(frame = av_frame_alloc ())) {
        s_reason (out, "out of memory");
        rc = SP_AUDIO_VERIFY_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < S_FFT_N; i++)
        spec->window[i] = (float) (0.5 - 0.5 * cos (2 * M_PI * (double) i / (S_FFT_N - 1)));

    char err[128];
    int e = avformat_open_input (&fmt, path, NULL, NULL);
    if (e < 0) {
        av_strerror (e, err, sizeof err);
        s_reason (out, "cannot open as audio: %s", err);
        goto done;
    }
    if (avformat_find_stream_info (fmt, NULL) < 0) {
        s_reason (out, "no stream information");
        goto done;
    }
    const AVCodec *codec = NULL;
    int si = av_find_best_stream (fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (si < 0 || !codec) {
        s_reason (out, "no audio stream that can be decoded");
        goto done;
    }
    AVStream *st = fmt->streams[si];
    if (!(dec = avcodec_alloc_context3 (codec)) ||
        avcodec_parameters_to_context (dec, st->codecpar) < 0) {
        s_reason (out, "out of memory");
        rc = SP_AUDIO_VERIFY_ENOMEM;
        goto done;
    }
    //  check FLAC's frame CRCs and the bitstream: a damaged middle counts
    dec->err_recognition = AV_EF_CRCCHECK | AV_EF_BITSTREAM | AV_EF_BUFFER;
    dec->thread_count = 1;
    if (avcodec_open2 (dec, codec, NULL) < 0) {
        s_reason (out, "the %s decoder refuses the stream", codec->name);
        goto done;
    }
    snprintf (out->codec, sizeof out->codec, "%s", codec->name);
    out->sample_rate = dec->sample_rate;
    out->channels = dec->ch_layout.nb_channels;
    int64_t br = st->codecpar->bit_rate > 0 ? st->codecpar->bit_rate : fmt->bit_rate;
    out->bitrate_kbps = br > 0 ? (int) ((br + 500) / 1000) : 0;
    if (st->duration > 0 && st->time_base.den > 0)
        out->header_ms = av_rescale_q (st->duration, st->time_base, (AVRational){1, 1000});
    else if (fmt->duration > 0)
        out->header_ms = fmt->duration / (AV_TIME_BASE / 1000);
    if (out->sample_rate <= 0 || out->channels <= 0) {
        s_reason (out, "no sample rate or channels");
        goto done;
    }

    int nch = out->channels;
    while (out->errors < S_ERRORS_MAX) {
        e = av_read_frame (fmt, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            out->errors++;
            if (e == AVERROR (EIO) || (fmt->pb && fmt->pb->eof_reached))
                break;
            continue;
        }
        if (pkt->stream_index == si) {
            if (pkt->flags & AV_PKT_FLAG_CORRUPT)
                out->errors++;
            if (avcodec_send_packet (dec, pkt) < 0)
                out->errors++;
            s_drain (dec, frame, spec, nch, &out->errors);
        }
        av_packet_unref (pkt);
    }
    avcodec_send_packet (dec, NULL);
    s_drain (dec, frame, spec, nch, &out->errors);
    out->decoded_ms = spec->samples * 1000 / out->sample_rate;

    bool lossless = o->claim == SP_AUDIO_CLAIM_LOSSLESS ||
                    (o->claim == SP_AUDIO_CLAIM_AUTO && s_codec_lossless (codec->id));
    int kbps = o->claim == SP_AUDIO_CLAIM_LOSSY && o->claimed_kbps > 0 ? o->claimed_kbps
                                                                       : out->bitrate_kbps;
    out->n_reasons = 0;
    s_judge (out, o, spec, lossless, kbps);
    out->ok = out->verdict == SP_AUDIO_GENUINE;
    goto cleanup;

done:
    //  could not be opened or decoded at all
    out->verdict = SP_AUDIO_CORRUPT;
    out->ok = false;
cleanup:
    av_frame_free (&frame);
    av_packet_free (&pkt);
    avcodec_free_context (&dec);
    avformat_close_input (&fmt);
    av_tx_uninit (&spec->tx);
    av_free (spec->in);
    av_free (spec->out);
    free (spec);
    return rc;
}
