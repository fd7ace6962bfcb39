/*  audio_verify.h: audio truth: decode a file to the end and say whether it
    is what it claims to be (issue 19).

    sp_audio_verify_file decodes every frame with FFmpeg (libavformat +
    libavcodec) and measures, in one pass and bounded memory (one FFT frame
    and one averaged spectrum, whatever the file's length):
      - stream errors (demuxer and decoder errors, frames flagged damaged;
        FLAC frame CRCs are checked),
      - the decoded duration, counted from the samples (not the header),
        compared with the header's duration and with an expected one,
      - the RMS level of the whole file (silence and near-silence),
      - the high-frequency cutoff: the power spectrum (FFmpeg's av_tx real
        FFT, 2048 points, Hann window) averaged over the frames with energy
        only, then the frequency where the band just below a candidate
        cutoff is much louder than the band above it (a brick wall).
    Verdicts: genuine, lossy-source (a lossless file with the lowpass of a
    lossy encoder: about 16, 17, 19, 20 kHz), upsampled (a lossy file whose
    cutoff belongs to a much lower bitrate than it claims), corrupt,
    truncated, silent, wrong-length. ok is false for every verdict but
    genuine.

    Why FFmpeg: one well-kept library from Debian decodes every format the
    downloader accepts (FLAC, MP3, Ogg, M4A/AAC, ALAC) and ships its own FFT
    (libavutil/tx.h), so no second dependency is needed for the spectrum.

    Threads: every call has its own FFmpeg contexts; FFmpeg's logging is
    silenced process-wide once (pthread_once). No call aborts on bad input.
*/
#ifndef SOULPIPE_AUDIO_VERIFY_H
#define SOULPIPE_AUDIO_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_AUDIO_VERIFY_OK     0
#define SP_AUDIO_VERIFY_EINVAL -1  //  bad arguments
#define SP_AUDIO_VERIFY_ENOMEM -2  //  out of memory

#define SP_AUDIO_VERIFY_REASONS    8    //  reasons kept in a result
#define SP_AUDIO_VERIFY_REASON_MAX 160  //  bytes of one reason

typedef enum {
    SP_AUDIO_GENUINE = 0,
    SP_AUDIO_LOSSY_SOURCE,  //  claims lossless, sounds like a lossy encoder
    SP_AUDIO_UPSAMPLED,     //  claims a high bitrate, cut like a low one
    SP_AUDIO_CORRUPT,       //  cannot be opened or decoded cleanly
    SP_AUDIO_TRUNCATED,     //  decodes to less than its header says
    SP_AUDIO_SILENT,        //  silence or near-silence
    SP_AUDIO_WRONG_LENGTH   //  decodes fine but not to the expected length
} sp_audio_verdict_t;

//  What the file claims to be.
typedef enum {
    SP_AUDIO_CLAIM_AUTO = 0,  //  from the codec (FLAC/ALAC/WAV = lossless)
    SP_AUDIO_CLAIM_LOSSLESS,
    SP_AUDIO_CLAIM_LOSSY  //  with claimed_kbps (0 = the header's bitrate)
} sp_audio_claim_t;

typedef struct {
    int64_t expect_ms;       //  expected duration (<= 0 = unknown)
    int64_t tolerance_ms;    //  accepted difference (< 0 = max (5 s, 3 %))
    sp_audio_claim_t claim;  //  what the file claims to be
    int claimed_kbps;        //  for SP_AUDIO_CLAIM_LOSSY (0 = header's)
} sp_audio_verify_opts_t;

typedef struct {
    bool ok;                     //  the downloader would keep the file
    sp_audio_verdict_t verdict;  //  what it is
    double confidence;           //  0..1
    int64_t decoded_ms;          //  counted from the decoded samples
    int64_t header_ms;           //  what the container says (-1 = unknown)
    int cutoff_hz;               //  measured cutoff (0 = not measured)
    double cutoff_drop_db;       //  how much quieter the band above it is
    double rms_db;               //  RMS of the whole file (dBFS)
    int sample_rate;             //  Hz
    int channels;                //  channel count
    int bitrate_kbps;            //  header's bitrate (0 = unknown)
    bool lossless;               //  judged as a lossless file
    int errors;                  //  stream and decode errors seen
    char codec[32];              //  FFmpeg's codec name
    char reasons[SP_AUDIO_VERIFY_REASONS][SP_AUDIO_VERIFY_REASON_MAX];
    size_t n_reasons;  //  entries in reasons
} sp_audio_verify_result_t;

/*  Fill *opts with the defaults (nothing expected, auto claim). */
void sp_audio_verify_opts_default (sp_audio_verify_opts_t *opts);

/*  Decode path to the end and judge it into *out (always filled: a file
    that cannot be opened is verdict corrupt with the reason). opts may be
    NULL (defaults). Returns SP_AUDIO_VERIFY_OK, or EINVAL / ENOMEM (then
    *out says why in reasons). */
int sp_audio_verify_file (const char *path, const sp_audio_verify_opts_t *opts,
                          sp_audio_verify_result_t *out);

/*  "genuine", "lossy-source", "upsampled", "corrupt", "truncated",
    "silent", "wrong-length" (static strings). */
const char *sp_audio_verify_verdict_name (sp_audio_verdict_t v);

/*  Parse a --claimed value: "flac" / "lossless" / "wav" / "alac", or
    "mp3:320" / "aac:256" / "lossy:N". Returns 0, or -1 when malformed. */
int sp_audio_verify_parse_claim (const char *s, sp_audio_verify_opts_t *opts);

#endif
