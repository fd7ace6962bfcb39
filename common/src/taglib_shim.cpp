/*  taglib_shim.cpp: the few TagLib features the 1.13 C binding lacks, as C
    functions (declared in soulpipe/tags.h, "shim" section): any tag by its
    PropertyMap key (album artist, disc, ISRC, full dates, track/disc totals,
    multi-value fields, custom fields) and the front cover picture.

    Formats: FLAC, MP3 (saved as ID3v2.4 only), Ogg Vorbis, Ogg Opus, MP4/M4A.
    Custom keys on MP4 (which PropertyMap does not map) are stored as
    iTunes freeform atoms "----:com.apple.iTunes:<KEY>", the convention
    Picard and Mutagen use. Every C++ exception is caught: the functions
    return -1 with a message instead.
*/
#include "soulpipe/tags.h"

#include <taglib/attachedpictureframe.h>
#include <taglib/fileref.h>
#include <taglib/flacfile.h>
#include <taglib/flacpicture.h>
#include <taglib/id3v2tag.h>
#include <taglib/mp4coverart.h>
#include <taglib/mp4file.h>
#include <taglib/mp4tag.h>
#include <taglib/mpegfile.h>
#include <taglib/opusfile.h>
#include <taglib/tpropertymap.h>
#include <taglib/vorbisfile.h>
#include <taglib/xiphcomment.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

using namespace TagLib;

namespace
{

void
s_err (char *err, size_t n, const char *msg)
{
    if (err && n)
        std::snprintf (err, n, "%s", msg);
}

//  The Xiph comment of a FLAC/Vorbis/Opus file (NULL for other formats).
Ogg::XiphComment *
s_xiph (File *file, bool create)
{
    if (auto *flac = dynamic_cast<FLAC::File *> (file))
        return flac->xiphComment (create);
    if (auto *vorbis = dynamic_cast<Ogg::Vorbis::File *> (file))
        return vorbis->tag ();
    if (auto *opus = dynamic_cast<Ogg::Opus::File *> (file))
        return opus->tag ();
    return nullptr;
}

String
s_freeform (const String &key)
{
    return String ("----:com.apple.iTunes:") + key;
}

//  MP4: PropertyMap keys TagLib maps itself; anything else is freeform.
bool
s_mp4_known (const String &key)
{
    static const char *known[] = {"TITLE",
                                  "ARTIST",
                                  "ALBUM",
                                  "ALBUMARTIST",
                                  "GENRE",
                                  "DATE",
                                  "COMMENT",
                                  "TRACKNUMBER",
                                  "DISCNUMBER",
                                  "COMPOSER",
                                  "COPYRIGHT",
                                  "ISRC",
                                  "ARTISTS",
                                  "BPM",
                                  "COMPILATION",
                                  "MUSICBRAINZ_TRACKID",
                                  "MUSICBRAINZ_ALBUMID",
                                  "LYRICS",
                                  "ENCODEDBY",
                                  "LABEL",
                                  nullptr};
    for (int i = 0; known[i]; i++)
        if (key == known[i])
            return true;
    return false;
}

int
s_set_picture (File *file, const unsigned char *data, size_t len, const char *mime)
{
    ByteVector bytes (reinterpret_cast<const char *> (data), static_cast<unsigned int> (len));
    String m (mime ? mime : "image/jpeg");
    if (auto *flac = dynamic_cast<FLAC::File *> (file)) {
        flac->removePictures ();
        if (len) {
            auto *pic = new FLAC::Picture ();
            pic->setType (FLAC::Picture::FrontCover);
            pic->setMimeType (m);
            pic->setDescription ("Front Cover");
            pic->setData (bytes);
            flac->addPicture (pic);
        }
        return 0;
    }
    if (auto *xiph = s_xiph (file, true)) {
        xiph->removeAllPictures ();
        if (len) {
            auto *pic = new FLAC::Picture ();
            pic->setType (FLAC::Picture::FrontCover);
            pic->setMimeType (m);
            pic->setDescription ("Front Cover");
            pic->setData (bytes);
            xiph->addPicture (pic);
        }
        return 0;
    }
    if (auto *mpeg = dynamic_cast<MPEG::File *> (file)) {
        ID3v2::Tag *tag = mpeg->ID3v2Tag (true);
        tag->removeFrames ("APIC");
        if (len) {
            auto *frame = new ID3v2::AttachedPictureFrame ();
            frame->setTextEncoding (String::UTF8);
            frame->setMimeType (m);
            frame->setType (ID3v2::AttachedPictureFrame::FrontCover);
            frame->setDescription ("Front Cover");
            frame->setPicture (bytes);
            tag->addFrame (frame);
        }
        return 0;
    }
    if (auto *mp4 = dynamic_cast<MP4::File *> (file)) {
        MP4::Tag *tag = mp4->tag ();
        if (!len) {
            tag->removeItem ("covr");
            return 0;
        }
        MP4::CoverArt::Format fmt = m == "image/png" ? MP4::CoverArt::PNG : MP4::CoverArt::JPEG;
        MP4::CoverArtList list;
        list.append (MP4::CoverArt (fmt, bytes));
        tag->setItem ("covr", MP4::Item (list));
        return 0;
    }
    return -1;
}

bool
s_save (File *file)
{
    if (auto *mpeg = dynamic_cast<MPEG::File *> (file))
        return mpeg->save (MPEG::File::ID3v2, File::StripOthers, ID3v2::v4, File::DoNotDuplicate);
    return file->save ();
}

char *
s_strdup (const String &s)
{
    std::string u = s.to8Bit (true);
    char *out = static_cast<char *> (std::malloc (u.size () + 1));
    if (out)
        std::memcpy (out, u.c_str (), u.size () + 1);
    return out;
}

}  // namespace

extern "C" int
sp_tags_shim_write (const char *path, const sp_tags_prop_t *props, size_t n, bool clear_others,
                    const char *const *keep_keys, const unsigned char *picture, size_t picture_len,
                    const char *picture_mime, bool set_picture, char *err, size_t err_size)
{
    if (!path || (n && !props)) {
        s_err (err, err_size, "bad arguments");
        return -1;
    }
    try {
        FileRef ref (path, false);
        File *file = ref.file ();
        if (ref.isNull () || !file || !file->isValid ()) {
            s_err (err, err_size, "not a readable audio file");
            return -1;
        }
        if (file->readOnly ()) {
            s_err (err, err_size, "file is read-only");
            return -1;
        }
        auto *mp4 = dynamic_cast<MP4::File *> (file);
        PropertyMap map = file->properties ();
        if (clear_others) {
            PropertyMap kept;
            for (size_t i = 0; keep_keys && keep_keys[i]; i++) {
                String k = String (keep_keys[i], String::UTF8).upper ();
                if (map.contains (k))
                    kept.insert (k, map[k]);
            }
            map = kept;
        }
        for (size_t i = 0; i < n; i++) {
            if (!props[i].key || !*props[i].key)
                continue;
            String key (props[i].key, String::UTF8);
            key = key.upper ();
            StringList values;
            for (size_t j = 0; j < props[i].count; j++)
                if (props[i].values[j])
                    values.append (String (props[i].values[j], String::UTF8));
            if (mp4 && !s_mp4_known (key)) {
                if (values.isEmpty ())
                    mp4->tag ()->removeItem (s_freeform (key));
                else
                    mp4->tag ()->setItem (s_freeform (key), MP4::Item (values));
                continue;
            }
            if (values.isEmpty ())
                map.erase (key);
            else
                map.replace (key, values);
        }
        PropertyMap rejected = file->setProperties (map);
        if (!rejected.isEmpty ()) {
            std::string msg = "format refused the field " + rejected.begin ()->first.to8Bit (true);
            s_err (err, err_size, msg.c_str ());
            return -1;
        }
        if (set_picture && s_set_picture (file, picture, picture_len, picture_mime) != 0) {
            s_err (err, err_size, "format has no picture support");
            return -1;
        }
        if (!s_save (file)) {
            s_err (err, err_size, "TagLib could not save the file");
            return -1;
        }
        return 0;
    } catch (const std::exception &e) {
        s_err (err, err_size, e.what ());
    } catch (...) {
        s_err (err, err_size, "TagLib failed");
    }
    return -1;
}

extern "C" int
sp_tags_shim_get (const char *path, const char *key, char ***values_out, size_t *count_out)
{
    if (!path || !key || !values_out || !count_out)
        return -1;
    *values_out = nullptr;
    *count_out = 0;
    try {
        FileRef ref (path, false);
        File *file = ref.file ();
        if (ref.isNull () || !file || !file->isValid ())
            return -1;
        String k = String (key, String::UTF8).upper ();
        StringList values;
        auto *mp4 = dynamic_cast<MP4::File *> (file);
        if (mp4 && !s_mp4_known (k)) {
            if (mp4->tag ()->contains (s_freeform (k)))
                values = mp4->tag ()->item (s_freeform (k)).toStringList ();
        } else {
            PropertyMap map = file->properties ();
            if (map.contains (k))
                values = map[k];
        }
        if (values.isEmpty ())
            return 0;
        char **out = static_cast<char **> (std::calloc (values.size (), sizeof (char *)));
        if (!out)
            return -1;
        size_t i = 0;
        for (const auto &v : values) {
            out[i] = s_strdup (v);
            if (!out[i]) {
                for (size_t j = 0; j < i; j++)
                    std::free (out[j]);
                std::free (out);
                return -1;
            }
            i++;
        }
        *values_out = out;
        *count_out = i;
        return 0;
    } catch (...) {
        return -1;
    }
}

extern "C" int
sp_tags_shim_get_picture (const char *path, unsigned char **data_out, size_t *len_out,
                          char **mime_out)
{
    if (!path || !data_out || !len_out)
        return -1;
    *data_out = nullptr;
    *len_out = 0;
    if (mime_out)
        *mime_out = nullptr;
    try {
        FileRef ref (path, false);
        File *file = ref.file ();
        if (ref.isNull () || !file || !file->isValid ())
            return -1;
        ByteVector bytes;
        String mime;
        if (auto *flac = dynamic_cast<FLAC::File *> (file)) {
            for (auto *pic : flac->pictureList ())
                if (bytes.isEmpty () || pic->type () == FLAC::Picture::FrontCover) {
                    bytes = pic->data ();
                    mime = pic->mimeType ();
                }
        } else if (auto *xiph = s_xiph (file, false)) {
            for (auto *pic : xiph->pictureList ())
                if (bytes.isEmpty () || pic->type () == FLAC::Picture::FrontCover) {
                    bytes = pic->data ();
                    mime = pic->mimeType ();
                }
        } else if (auto *mpeg = dynamic_cast<MPEG::File *> (file)) {
            if (mpeg->hasID3v2Tag ())
                for (auto *f : mpeg->ID3v2Tag ()->frameList ("APIC")) {
                    auto *apic = dynamic_cast<ID3v2::AttachedPictureFrame *> (f);
                    if (apic && (bytes.isEmpty () ||
                                 apic->type () == ID3v2::AttachedPictureFrame::FrontCover)) {
                        bytes = apic->picture ();
                        mime = apic->mimeType ();
                    }
                }
        } else if (auto *mp4 = dynamic_cast<MP4::File *> (file)) {
            if (mp4->tag ()->contains ("covr")) {
                MP4::CoverArtList list = mp4->tag ()->item ("covr").toCoverArtList ();
                if (!list.isEmpty ()) {
                    bytes = list.front ().data ();
                    mime =
                        list.front ().format () == MP4::CoverArt::PNG ? "image/png" : "image/jpeg";
                }
            }
        }
        if (bytes.isEmpty ())
            return 0;
        unsigned char *out = static_cast<unsigned char *> (std::malloc (bytes.size ()));
        if (!out)
            return -1;
        std::memcpy (out, bytes.data (), bytes.size ());
        if (mime_out) {
            *mime_out = s_strdup (mime);
            if (!*mime_out) {
                std::free (out);
                return -1;
            }
        }
        *data_out = out;
        *len_out = bytes.size ();
        return 0;
    } catch (...) {
        return -1;
    }
}
