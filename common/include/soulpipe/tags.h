/*  tags.h: writing and reading audio file tags with TagLib (1.13).

    Formats: FLAC, MP3 (ID3v2.4, UTF-8 frames; ID3v1 is stripped), Ogg
    Vorbis, Ogg Opus and MP4/M4A, chosen by the file's extension
    (sp_tags_format). Title, artist, album, genre, year and track number go
    through TagLib's C binding (tags.c); what that binding lacks (album
    artist, disc, ISRC, full dates and totals, multi-value and custom
    fields, pictures) goes through a small C++ shim over TagLib's
    PropertyMap and picture API (taglib_shim.cpp, the sp_tags_shim_*
    functions below).

    What sp_tags_write stores (PropertyMap key: ID3v2.4 / Vorbis comment / MP4):
      TITLE          TIT2 / TITLE / ©nam
      ARTIST         all credited artists joined with ", " (one display
                     string): TPE1 / ARTIST / ©ART
      ARTISTS        the same artists as a multi-value field (Picard's
                     convention): TXXX:ARTISTS (values NUL-separated) /
                     one ARTISTS comment per artist / ----:com.apple.iTunes:ARTISTS
      ALBUM          TALB / ALBUM / ©alb
      ALBUMARTIST    album artists joined with ", ": TPE2 / ALBUMARTIST / aART
      DATE           the release date at Spotify's precision ("1981",
                     "1981-12", "1981-12-15"): TDRC / DATE / ©day
      TRACKNUMBER    ID3 and MP4 "N/TOTAL" (TRCK, trkn); Vorbis TRACKNUMBER=N
                     and TRACKTOTAL=TOTAL
      DISCNUMBER     likewise (TPOS, disk; DISCNUMBER + DISCTOTAL)
      GENRE          when known
      ISRC           TSRC / ISRC / ----:com.apple.iTunes:ISRC
      SPOTIFY_TRACK_ID, SPOTIFY_ALBUM_ID
                     custom fields: TXXX:<KEY> / <KEY> / ----:com.apple.iTunes:<KEY>
      front cover    APIC (type 3, front cover) / METADATA_BLOCK_PICTURE
                     (FLAC picture block for FLAC) / covr
    Text tags the file already had (e.g. a peer's comment) are removed;
    custom MP4 freeform atoms other than ours are left as they are.

    Threads: every function here may be called from any number of threads
    at once without a lock, as long as no two calls work on the same file
    at the same time (a file being tagged belongs to one caller: the tagger
    tags its own temporary copy). Why that holds for TagLib 1.13:
      - each call opens, uses and frees its own TagLib file objects; what
        they share inside TagLib (String/ByteVector data) is reference
        counted with atomic operations (lock add/sub in libtag.so.1);
      - the C binding's settings are process-global plain variables
        (taglib_set_strings_unicode, taglib_set_string_management_enabled,
        and the ID3v2 default text encoding in TagLib's FrameFactory
        singleton): sp_tags_init sets them once, under pthread_once, and
        every sp_tags_* function calls it before its first TagLib call, so
        after that they are only read;
      - with string management on, the binding's string getters append to
        one global list (taglib_tag_free_strings empties it): it is off, and
        this module does not call those getters.
    The rule for the rest of the tree: no other code changes those settings
    or turns string management on; code that uses TagLib directly (tests,
    the folder library's reader) uses per-call objects only and calls
    sp_tags_init first. The downloader's duration check goes through
    sp_tags_audio_length, without a lock of its own. Tested by
    tags/threads_tag_and_probe_at_once (8 threads x 50 files, ASan/TSan).

    Error returns: SP_TAGS_OK (0) or a negative SP_TAGS_ERR_*; a message in
    words a user understands is written into err (err may be NULL).
*/
#ifndef SOULPIPE_TAGS_H
#define SOULPIPE_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SP_TAGS_OK              0
#define SP_TAGS_ERR_UNSUPPORTED -1 /* extension is not a supported format */
#define SP_TAGS_ERR_UNREADABLE  -2 /* TagLib cannot parse the file (corrupt, wrong format) */
#define SP_TAGS_ERR_WRITE       -3 /* saving the tags failed */
#define SP_TAGS_ERR_INVALID     -4 /* bad arguments */
#define SP_TAGS_ERR_NOMEM       -5

typedef enum {
    SP_TAGS_FMT_NONE = 0,
    SP_TAGS_FMT_FLAC,
    SP_TAGS_FMT_MP3,
    SP_TAGS_FMT_VORBIS, /* .ogg .oga */
    SP_TAGS_FMT_OPUS,   /* .opus */
    SP_TAGS_FMT_MP4     /* .m4a .mp4 .m4b */
} sp_tags_format_t;

/*  The format for a file name or bare extension (case-insensitive; "flac",
    ".flac" and "a/b.FLAC" all work); SP_TAGS_FMT_NONE when unsupported. */
sp_tags_format_t sp_tags_format (const char *name_or_ext);

/*  What to write. Every pointer is borrowed; NULL strings, empty arrays and
    zero numbers are left out. */
typedef struct {
    const char *title;
    const char *const *artists; /* credited order */
    size_t artists_count;
    const char *album;
    const char *const *album_artists;
    size_t album_artists_count;
    const char *date;                   /* "1981" | "1981-12" | "1981-12-15" */
    unsigned track_number, track_total; /* 0 = unknown */
    unsigned disc_number, disc_total;
    const char *genre;
    const char *isrc;
    const char *spotify_track_id;
    const char *spotify_album_id;
    const unsigned char *cover; /* front cover image bytes (NULL = keep what is there) */
    size_t cover_len;
    const char *cover_mime; /* "image/jpeg" (default) or "image/png" */
} sp_tags_t;

/*  Write tags into the file at path, in place (TagLib rewrites the file;
    callers that must keep the original intact tag a copy). Returns
    SP_TAGS_OK, SP_TAGS_ERR_UNSUPPORTED, SP_TAGS_ERR_UNREADABLE,
    SP_TAGS_ERR_WRITE or SP_TAGS_ERR_INVALID, with a reason in err. */
int sp_tags_write (const char *path, const sp_tags_t *tags, char *err, size_t err_size);

/*  Audio properties TagLib reads from a file. */
typedef struct {
    sp_tags_format_t format;
    int length_s;   /* seconds */
    int bitrate;    /* kbit/s */
    int samplerate; /* Hz */
    int channels;
} sp_tags_info_t;

/*  Open path with TagLib and read its audio properties (the downloader's
    "is this a real audio file" check). Returns SP_TAGS_OK,
    SP_TAGS_ERR_UNSUPPORTED, SP_TAGS_ERR_UNREADABLE or SP_TAGS_ERR_INVALID. */
int sp_tags_probe (const char *path, sp_tags_info_t *info, char *err, size_t err_size);

/*  The length in seconds of any audio file TagLib can read, by TagLib's
    own detection (by extension): besides the formats above also WAV,
    AIFF, WavPack, APE and others that sp_tags_write does not tag (the
    downloader's duration check). *length_s gets TagLib's length (0 when it
    could not work one out). Returns SP_TAGS_OK, SP_TAGS_ERR_UNREADABLE (not
    audio TagLib knows, no audio properties) or SP_TAGS_ERR_INVALID. */
int sp_tags_audio_length (const char *path, int *length_s);

/*  Set TagLib's process-global settings (see "Threads" above) once; later
    calls return at once. Thread-safe. The sp_tags_* functions call it
    themselves; other code calls it before using TagLib directly. */
void sp_tags_init (void);

/*  The values of one tag by PropertyMap key ("TITLE", "ARTISTS", "ISRC",
    "SPOTIFY_TRACK_ID", ...; case-insensitive). On SP_TAGS_OK *values is a
    malloc'd array of *count malloc'd UTF-8 strings (NULL and 0 when the tag
    is absent); the caller frees it with sp_tags_values_free. Returns
    SP_TAGS_OK, SP_TAGS_ERR_UNREADABLE or SP_TAGS_ERR_INVALID. */
int sp_tags_get (const char *path, const char *key, char ***values, size_t *count);

/*  The first value of a tag, or NULL when absent or unreadable. Caller owns
    the returned string (free()). */
char *sp_tags_get1 (const char *path, const char *key);

/*  Free an array from sp_tags_get. Accepts NULL. */
void sp_tags_values_free (char **values, size_t count);

/*  The embedded front cover (the first picture when none is marked front).
    On SP_TAGS_OK *data (malloc'd, caller frees) and *len are set, NULL/0
    when the file has no picture; *mime (may be NULL) gets a malloc'd MIME
    type. Returns SP_TAGS_OK, SP_TAGS_ERR_UNREADABLE or SP_TAGS_ERR_INVALID. */
int sp_tags_get_picture (const char *path, unsigned char **data, size_t *len, char **mime);

/* ------------------------------------------------------------ the C++ shim
   (taglib_shim.cpp). Use the functions above; these are the raw layer.  */

/*  One PropertyMap entry: key and its values (count 0 = remove the key). */
typedef struct {
    const char *key;
    const char *const *values;
    size_t count;
} sp_tags_prop_t;

/*  Open path, apply props over its PropertyMap (with clear_others, every
    key not in keep_keys[]/props is removed first; keep_keys is a
    NULL-terminated list, may be NULL), set the front cover when set_picture
    (picture_len 0 removes all pictures), save (MP3: ID3v2.4 only).
    Returns 0 or -1 with a message in err. */
int sp_tags_shim_write (const char *path, const sp_tags_prop_t *props, size_t n, bool clear_others,
                        const char *const *keep_keys, const unsigned char *picture,
                        size_t picture_len, const char *picture_mime, bool set_picture, char *err,
                        size_t err_size);

/*  Values of key (see sp_tags_get). Returns 0 or -1 (unreadable file, no memory). */
int sp_tags_shim_get (const char *path, const char *key, char ***values_out, size_t *count_out);

/*  The front cover (see sp_tags_get_picture). Returns 0 or -1. */
int sp_tags_shim_get_picture (const char *path, unsigned char **data_out, size_t *len_out,
                              char **mime_out);

#ifdef __cplusplus
}
#endif

#endif
