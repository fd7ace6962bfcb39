/*  medialib_folder_tags.cpp: the folder library's tag reader (see
    medialib_folder.h): title, artist, ARTISTS, album artist, album and the
    duration of one file with ONE TagLib open, where going through
    soulpipe/tags.h would open the file once per tag (sp_tags_get) plus once
    for the duration (sp_tags_probe): the first scan of a 50,000-file folder
    is bound by this. The file type comes from the caller (the extension of
    the real name), so the reader works on /proc/self/fd/N paths of files
    opened without following symlinks. Every C++ exception is caught.
*/
#include "medialib_folder.h"
#include "soulpipe/tags.h"

#include <taglib/flacfile.h>
#include <taglib/mp4file.h>
#include <taglib/mpegfile.h>
#include <taglib/opusfile.h>
#include <taglib/tpropertymap.h>
#include <taglib/vorbisfile.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

using namespace TagLib;

namespace
{

char *
s_dup (const std::string &s)
{
    if (s.empty ())
        return nullptr;
    return strdup (s.c_str ());
}

char *
s_first (const PropertyMap &pm, const char *key)
{
    PropertyMap::ConstIterator it = pm.find (key);
    if (it == pm.end () || it->second.isEmpty ())
        return nullptr;
    return s_dup (it->second.front ().to8Bit (true));
}

char *
s_joined (const PropertyMap &pm, const char *key)
{
    PropertyMap::ConstIterator it = pm.find (key);
    if (it == pm.end () || it->second.isEmpty ())
        return nullptr;
    std::string out;
    for (StringList::ConstIterator v = it->second.begin (); v != it->second.end (); ++v) {
        std::string s = v->to8Bit (true);
        if (s.empty ())
            continue;
        if (!out.empty ())
            out += '\x1f';
        out += s;
    }
    return s_dup (out);
}

std::unique_ptr<File>
s_open (const char *path, int fmt)
{
    switch (fmt) {
        case SP_TAGS_FMT_FLAC:
            return std::unique_ptr<File> (new FLAC::File (path));
        case SP_TAGS_FMT_MP3:
            return std::unique_ptr<File> (new MPEG::File (path));
        case SP_TAGS_FMT_VORBIS:
            return std::unique_ptr<File> (new Ogg::Vorbis::File (path));
        case SP_TAGS_FMT_OPUS:
            return std::unique_ptr<File> (new Ogg::Opus::File (path));
        case SP_TAGS_FMT_MP4:
            return std::unique_ptr<File> (new MP4::File (path));
        default:
            return nullptr;
    }
}

}  // namespace

extern "C" void
sp_medialib_folder_tags_clear (sp_medialib_folder_tags_t *t)
{
    if (!t)
        return;
    free (t->title);
    free (t->artist);
    free (t->artists);
    free (t->album_artist);
    free (t->album);
    memset (t, 0, sizeof *t);
}

extern "C" int
sp_medialib_folder_read_tags (const char *path, int fmt, sp_medialib_folder_tags_t *out)
{
    memset (out, 0, sizeof *out);
    try {
        std::unique_ptr<File> f = s_open (path, fmt);
        if (!f || !f->isValid ())
            return -1;
        PropertyMap pm = f->properties ();
        out->title = s_first (pm, "TITLE");
        out->artist = s_first (pm, "ARTIST");
        out->artists = s_joined (pm, "ARTISTS");
        out->album_artist = s_first (pm, "ALBUMARTIST");
        out->album = s_first (pm, "ALBUM");
        AudioProperties *ap = f->audioProperties ();
        if (ap && ap->lengthInMilliseconds () > 0)
            out->duration_ms = (uint64_t) ap->lengthInMilliseconds ();
        return 0;
    } catch (const std::exception &) {
        sp_medialib_folder_tags_clear (out);
        return -1;
    } catch (...) {
        sp_medialib_folder_tags_clear (out);
        return -1;
    }
}
