/*  audio.h: small, real, decodable and taggable audio files for the fake
    slskd server (generated in plain C, no codec library at run time).

    Formats (ext, case-insensitive, an optional leading '.' is accepted):
      flac  FLAC, 44.1 kHz 16-bit mono, CONSTANT (silent) subframes in
            16384-sample blocks (a valid, non-subset stream: `flac -t` passes);
            STREAMINFO carries total samples = length * 44100 and the real
            min/max block and frame sizes (MD5 unset). Padding: PADDING block(s).
            About 13 bytes per 0.37 s: 600 s is ~21 KB.
      mp3   MPEG-1 Layer III, 44.1 kHz mono, 32 kbps CBR. An "Info" (Xing)
            frame gives the frame count for the full length; only the first
            second of silent frames is actually present (so a 600 s file is
            ~4.2 KB). TagLib, ffprobe and decoders take the duration from the
            Info frame. Padding: an ID3v2.4 tag (one TSSE frame) with padding.
      ogg   Ogg Vorbis, 44.1 kHz mono (libvorbis headers embedded), one 1-byte
            silent packet per 2048 samples over the full length, last page
            granule = length * 44100 exactly. Padding: zero bytes after the
            framing bit of the comment header (invisible to tag readers;
            TagLib drops them when it rewrites the comment). 600 s is ~30 KB.
      m4a   AAC-LC in MP4 (ftyp, moov, free, mdat), 44.1 kHz mono, one
            4-byte silent AAC frame per 1024 samples over the full length
            (constant-size stsz, so the tables stay O(1)); mvhd/tkhd/mdhd
            durations = length. Padding: the top-level `free` atom.
            600 s is ~104 KB.
    Anything else ("wav", "aiff", "wma", ...) is refused: -1 with EINVAL.

    Sizes: the file has exactly target_size bytes when target_size is at
    least the format's natural (minimal) size for that length; when
    target_size is 0 or smaller than that, the file has its natural size.
    sp_fake_audio_size() returns that exact size without writing anything,
    and sp_fake_audio_write() writes exactly that many bytes.

    Limits: length_s in 1..SP_FAKE_AUDIO_MAX_LENGTH (else EINVAL);
    target_size above SP_FAKE_AUDIO_MAX_SIZE gives -1 with EFBIG.

    Thread-safe (the one shared state, a cache of natural sizes, is locked).
*/
#ifndef SOULPIPE_FAKE_AUDIO_H
#define SOULPIPE_FAKE_AUDIO_H

#include <stdbool.h>
#include <stdint.h>

#define SP_FAKE_AUDIO_MAX_LENGTH 86400u                  // seconds (24 h)
#define SP_FAKE_AUDIO_MAX_SIZE   (256ull * 1024 * 1024)  // bytes

/*  What a file holds: the format's real content, the same number of zero
    bytes (a corrupt download), or content that went through a lossy
    encoder first (FLAC: a 16 kHz brick-wall low-pass, as a decoded MP3
    leaves; MP3: a 320 kbps file of 128 kbps material; Ogg and M4A: as
    GOOD). */
typedef enum {
    SP_FAKE_AUDIO_GOOD,
    SP_FAKE_AUDIO_ZEROS,
    SP_FAKE_AUDIO_LOSSY,
} sp_fake_audio_kind_t;

/*  What to write: the kind, and for MP3 the bitrate class of the frames
    (0: 320 kbps; CBR 96/128/192/256/320 by nearest class below, vbr: lame -V0). */
typedef struct {
    sp_fake_audio_kind_t kind;
    unsigned bitrate_kbps;
    bool vbr;
} sp_fake_audio_spec_t;

/*  True when ext names a format this module writes (flac, mp3, ogg, m4a). */
bool sp_fake_audio_supported (const char *ext);

/*  The exact size in bytes of the file sp_fake_audio_write() would write for
    these arguments (GOOD and ZEROS: the same size). Stores it in *size_out.
    Returns 0, or -1 with errno EINVAL (NULL ext/size_out, unknown ext, bad
    length) or EFBIG (target_size above SP_FAKE_AUDIO_MAX_SIZE). */
int sp_fake_audio_size (const char *ext, unsigned length_s, uint64_t target_size,
                        uint64_t *size_out);

/*  Create path (O_CREAT|O_EXCL, mode 0644: an existing file is an error,
    EEXIST) and write the audio file described above; with corrupt, write the
    same number of zero bytes instead. size_out (may be NULL) gets the number
    of bytes written. Returns 0, or -1 with errno set (argument errors as for
    sp_fake_audio_size, or the open/write error); on a write error the
    partial file is removed. */
int sp_fake_audio_write (const char *path, const char *ext, unsigned length_s, uint64_t target_size,
                         bool corrupt, uint64_t *size_out);

/*  The same two for a file of the given spec (sp_fake_audio_size is
    sp_fake_audio_size_spec with {GOOD}; sp_fake_audio_write with corrupt is
    sp_fake_audio_write_spec with {ZEROS}, else {GOOD}). spec is borrowed. */
int sp_fake_audio_size_spec (const char *ext, unsigned length_s, uint64_t target_size,
                             const sp_fake_audio_spec_t *spec, uint64_t *size_out);
int sp_fake_audio_write_spec (const char *path, const char *ext, unsigned length_s,
                              uint64_t target_size, const sp_fake_audio_spec_t *spec,
                              uint64_t *size_out);

#endif
