/*  tags.c: audio tags through TagLib's C binding, plus the C++ shim
    (taglib_shim.cpp) for what the binding lacks. See tags.h for the field
    mapping per format.
*/
#include "soulpipe/tags.h"

#include "soulpipe/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tag_c.h>

#define S_NUM_MAX 24  //  buffer for "N/TOTAL"

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

//  TagLib's process-global settings, written once here and only read after
//  (tags.h, "Threads").
static void
s_init (void)
{
    taglib_set_strings_unicode (true);
    taglib_set_string_management_enabled (false);
    taglib_id3v2_set_default_text_encoding (TagLib_ID3v2_UTF8);
}

void
sp_tags_init (void)
{
    pthread_once (&s_once, s_init);
}

sp_tags_format_t
sp_tags_format (const char *name)
{
    if (!name)
        return SP_TAGS_FMT_NONE;
    const char *dot = strrchr (name, '.');
    const char *slash = strrchr (name, '/');
    const char *ext = dot && (!slash || dot > slash) ? dot + 1 : name;
    static const struct {
        const char *ext;
        sp_tags_format_t fmt;
    } map[] = {{"flac", SP_TAGS_FMT_FLAC},  {"mp3", SP_TAGS_FMT_MP3},   {"ogg", SP_TAGS_FMT_VORBIS},
               {"oga", SP_TAGS_FMT_VORBIS}, {"opus", SP_TAGS_FMT_OPUS}, {"m4a", SP_TAGS_FMT_MP4},
               {"mp4", SP_TAGS_FMT_MP4},    {"m4b", SP_TAGS_FMT_MP4}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp (ext, map[i].ext) == 0)
            return map[i].fmt;
    return SP_TAGS_FMT_NONE;
}

//  Join strings with ", ". Caller owns the result; NULL when n == 0 or OOM.
static char *
s_join (const char *const *v, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += (v[i] ? strlen (v[i]) : 0) + 2;
    if (n == 0)
        return NULL;
    char *out = malloc (len);
    if (!out)
        return NULL;
    out[0] = '\0';
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i] || !*v[i])
            continue;
        int w = snprintf (out + at, len - at, "%s%s", at ? ", " : "", v[i]);
        if (w > 0)
            at += (size_t) w;
    }
    return out;
}

static TagLib_File *s_open_any (const char *path, sp_tags_format_t fmt);

//  Open and check that TagLib found real audio: a file of zeros is "valid"
//  to TagLib's MPEG reader (it just finds no frame), so also require a
//  sample rate. NULL when the file is not usable audio.
static TagLib_File *
s_open (const char *path, sp_tags_format_t fmt)
{
    TagLib_File *file = s_open_any (path, fmt);
    if (!file)
        return NULL;
    const TagLib_AudioProperties *ap =
        taglib_file_is_valid (file) ? taglib_file_audioproperties (file) : NULL;
    if (!ap || taglib_audioproperties_samplerate (ap) <= 0) {
        taglib_file_free (file);
        return NULL;
    }
    return file;
}

static TagLib_File *
s_open_any (const char *path, sp_tags_format_t fmt)
{
    //  Opening by type avoids TagLib guessing from content for odd names.
    switch (fmt) {
        case SP_TAGS_FMT_FLAC:
            return taglib_file_new_type (path, TagLib_File_FLAC);
        case SP_TAGS_FMT_MP3:
            return taglib_file_new_type (path, TagLib_File_MPEG);
        case SP_TAGS_FMT_VORBIS:
            return taglib_file_new_type (path, TagLib_File_OggVorbis);
        case SP_TAGS_FMT_OPUS:
            return taglib_file_new (path);  //  no Opus type in the 1.13 binding: by extension
        case SP_TAGS_FMT_MP4:
            return taglib_file_new_type (path, TagLib_File_MP4);
        default:
            return NULL;
    }
}

//  Step 1, C binding: title, artist (joined), album, genre, year, track.
static int
s_write_basic (const char *path, sp_tags_format_t fmt, const sp_tags_t *t, char *err, size_t n)
{
    TagLib_File *file = s_open (path, fmt);
    if (!file || !taglib_file_is_valid (file)) {
        if (file)
            taglib_file_free (file);
        sp_err_set (err, n, "not a readable %s file (corrupt or wrong format)",
                    fmt == SP_TAGS_FMT_FLAC     ? "FLAC"
                    : fmt == SP_TAGS_FMT_MP3    ? "MP3"
                    : fmt == SP_TAGS_FMT_VORBIS ? "Ogg Vorbis"
                    : fmt == SP_TAGS_FMT_OPUS   ? "Opus"
                                                : "MP4");
        return SP_TAGS_ERR_UNREADABLE;
    }
    TagLib_Tag *tag = taglib_file_tag (file);
    if (!tag) {
        taglib_file_free (file);
        sp_err_set (err, n, "file has no tag container");
        return SP_TAGS_ERR_WRITE;
    }
    char *artist = s_join (t->artists, t->artists_count);
    if (t->artists_count && !artist) {
        taglib_file_free (file);
        return SP_TAGS_ERR_NOMEM;
    }
    if (t->title)
        taglib_tag_set_title (tag, t->title);
    if (artist)
        taglib_tag_set_artist (tag, artist);
    if (t->album)
        taglib_tag_set_album (tag, t->album);
    if (t->genre && *t->genre)
        taglib_tag_set_genre (tag, t->genre);
    taglib_tag_set_comment (tag, "");
    if (t->date && strlen (t->date) >= 4) {
        unsigned year = (unsigned) strtoul (t->date, NULL, 10);
        if (year > 0 && year < 10000)
            taglib_tag_set_year (tag, year);
    }
    if (t->track_number)
        taglib_tag_set_track (tag, t->track_number);
    bool ok = taglib_file_save (file);
    taglib_file_free (file);
    free (artist);
    if (!ok) {
        sp_err_set (err, n, "TagLib could not save the tags");
        return SP_TAGS_ERR_WRITE;
    }
    return SP_TAGS_OK;
}

int
sp_tags_write (const char *path, const sp_tags_t *t, char *err, size_t n)
{
    if (err && n)
        err[0] = '\0';
    if (!path || !t) {
        sp_err_set (err, n, "bad arguments");
        return SP_TAGS_ERR_INVALID;
    }
    sp_tags_init ();
    sp_tags_format_t fmt = sp_tags_format (path);
    if (fmt == SP_TAGS_FMT_NONE) {
        const char *dot = strrchr (path, '.');
        sp_err_set (err, n, "unsupported audio format \"%s\"", dot ? dot + 1 : "");
        return SP_TAGS_ERR_UNSUPPORTED;
    }
    int rc = s_write_basic (path, fmt, t, err, n);
    if (rc != SP_TAGS_OK)
        return rc;

    //  Step 2, the shim: everything the C binding cannot express.
    bool xiph = fmt == SP_TAGS_FMT_FLAC || fmt == SP_TAGS_FMT_VORBIS || fmt == SP_TAGS_FMT_OPUS;
    char *album_artist = s_join (t->album_artists, t->album_artists_count);
    char track[S_NUM_MAX] = "", track_total[S_NUM_MAX] = "";
    char disc[S_NUM_MAX] = "", disc_total[S_NUM_MAX] = "";
    if (t->track_number) {
        if (t->track_total && !xiph)
            snprintf (track, sizeof track, "%u/%u", t->track_number, t->track_total);
        else
            snprintf (track, sizeof track, "%u", t->track_number);
        if (t->track_total && xiph)
            snprintf (track_total, sizeof track_total, "%u", t->track_total);
    }
    if (t->disc_number) {
        if (t->disc_total && !xiph)
            snprintf (disc, sizeof disc, "%u/%u", t->disc_number, t->disc_total);
        else
            snprintf (disc, sizeof disc, "%u", t->disc_number);
        if (t->disc_total && xiph)
            snprintf (disc_total, sizeof disc_total, "%u", t->disc_total);
    }
    const char *v_aa[] = {album_artist};
    const char *v_date[] = {t->date};
    const char *v_track[] = {track}, *v_ttot[] = {track_total};
    const char *v_disc[] = {disc}, *v_dtot[] = {disc_total};
    const char *v_isrc[] = {t->isrc};
    const char *v_tid[] = {t->spotify_track_id}, *v_aid[] = {t->spotify_album_id};
    sp_tags_prop_t props[12];
    size_t np = 0;
#define S_PROP(k, v, present)                                                                      \
    do {                                                                                           \
        if (present)                                                                               \
            props[np++] = (sp_tags_prop_t){k, v, 1};                                               \
    } while (0)
    if (t->artists_count)
        props[np++] = (sp_tags_prop_t){"ARTISTS", t->artists, t->artists_count};
    S_PROP ("ALBUMARTIST", v_aa, album_artist && *album_artist);
    S_PROP ("DATE", v_date, t->date && *t->date);
    S_PROP ("TRACKNUMBER", v_track, *track);
    S_PROP ("TRACKTOTAL", v_ttot, *track_total);
    S_PROP ("DISCNUMBER", v_disc, *disc);
    S_PROP ("DISCTOTAL", v_dtot, *disc_total);
    S_PROP ("ISRC", v_isrc, t->isrc && *t->isrc);
    S_PROP ("SPOTIFY_TRACK_ID", v_tid, t->spotify_track_id && *t->spotify_track_id);
    S_PROP ("SPOTIFY_ALBUM_ID", v_aid, t->spotify_album_id && *t->spotify_album_id);
#undef S_PROP
    //  Keep what step 1 wrote; drop every other text tag the file came with.
    static const char *const keep[] = {"TITLE", "ARTIST", "ALBUM", "GENRE", NULL};
    char shim_err[256] = "";
    int src =
        sp_tags_shim_write (path, props, np, true, keep, t->cover, t->cover_len, t->cover_mime,
                            t->cover && t->cover_len, shim_err, sizeof shim_err);
    free (album_artist);
    if (src != 0) {
        sp_err_set (err, n, "writing tags failed: %s", shim_err);
        return SP_TAGS_ERR_WRITE;
    }
    return SP_TAGS_OK;
}

int
sp_tags_probe (const char *path, sp_tags_info_t *info, char *err, size_t n)
{
    if (!path || !info)
        return SP_TAGS_ERR_INVALID;
    memset (info, 0, sizeof *info);
    sp_tags_init ();
    info->format = sp_tags_format (path);
    if (info->format == SP_TAGS_FMT_NONE) {
        const char *dot = strrchr (path, '.');
        sp_err_set (err, n, "unsupported audio format \"%s\"", dot ? dot + 1 : "");
        return SP_TAGS_ERR_UNSUPPORTED;
    }
    TagLib_File *file = s_open (path, info->format);
    const TagLib_AudioProperties *ap =
        file && taglib_file_is_valid (file) ? taglib_file_audioproperties (file) : NULL;
    if (!ap) {
        if (file)
            taglib_file_free (file);
        sp_err_set (err, n, "not a readable audio file (corrupt or wrong format)");
        return SP_TAGS_ERR_UNREADABLE;
    }
    info->length_s = taglib_audioproperties_length (ap);
    info->bitrate = taglib_audioproperties_bitrate (ap);
    info->samplerate = taglib_audioproperties_samplerate (ap);
    info->channels = taglib_audioproperties_channels (ap);
    taglib_file_free (file);
    return SP_TAGS_OK;
}

int
sp_tags_audio_length (const char *path, int *length_s)
{
    if (length_s)
        *length_s = 0;
    if (!path || !length_s)
        return SP_TAGS_ERR_INVALID;
    sp_tags_init ();
    TagLib_File *file = taglib_file_new (path);
    const TagLib_AudioProperties *ap =
        file && taglib_file_is_valid (file) ? taglib_file_audioproperties (file) : NULL;
    if (ap)
        *length_s = taglib_audioproperties_length (ap);
    if (file)
        taglib_file_free (file);
    return ap ? SP_TAGS_OK : SP_TAGS_ERR_UNREADABLE;
}

int
sp_tags_get (const char *path, const char *key, char ***values, size_t *count)
{
    if (!path || !key || !values || !count)
        return SP_TAGS_ERR_INVALID;
    sp_tags_init ();
    return sp_tags_shim_get (path, key, values, count) == 0 ? SP_TAGS_OK : SP_TAGS_ERR_UNREADABLE;
}

char *
sp_tags_get1 (const char *path, const char *key)
{
    char **v = NULL;
    size_t c = 0;
    if (sp_tags_get (path, key, &v, &c) != SP_TAGS_OK || c == 0)
        return NULL;
    char *out = v[0];
    v[0] = NULL;
    sp_tags_values_free (v, c);
    return out;
}

void
sp_tags_values_free (char **values, size_t count)
{
    if (!values)
        return;
    for (size_t i = 0; i < count; i++)
        free (values[i]);
    free (values);
}

int
sp_tags_get_picture (const char *path, unsigned char **data, size_t *len, char **mime)
{
    if (!path || !data || !len)
        return SP_TAGS_ERR_INVALID;
    sp_tags_init ();
    return sp_tags_shim_get_picture (path, data, len, mime) == 0 ? SP_TAGS_OK
                                                                 : SP_TAGS_ERR_UNREADABLE;
}
