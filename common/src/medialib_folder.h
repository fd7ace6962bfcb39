/*  medialib_folder.h: private to the folder backend (medialib_folder.c):
    reading what the library index needs from one audio file with a single
    TagLib open (medialib_folder_tags.cpp).
*/
#ifndef SOULPIPE_MEDIALIB_FOLDER_H
#define SOULPIPE_MEDIALIB_FOLDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*  What the index keeps of a file. Strings are malloc'd UTF-8 or NULL when
    the file has no such tag; artists holds the ARTISTS values joined with
    the unit separator '\x1f' (NULL when the tag is absent). */
typedef struct {
    char *title;
    char *artist;       /* ARTIST (display string) */
    char *artists;      /* ARTISTS, '\x1f'-separated */
    char *album_artist; /* ALBUMARTIST */
    char *album;
    uint64_t duration_ms; /* 0 = unknown */
} sp_medialib_folder_tags_t;

/*  Read the tags of the file at path, whose format is fmt (an
    sp_tags_format_t: the reader does not look at the name, so path may be
    /proc/self/fd/N). Returns 0, or -1 when TagLib cannot read the file
    (out is then zeroed). Free out with sp_medialib_folder_tags_clear. */
int sp_medialib_folder_read_tags (const char *path, int fmt, sp_medialib_folder_tags_t *out);

/*  Free the strings of t and zero it. Accepts NULL. */
void sp_medialib_folder_tags_clear (sp_medialib_folder_tags_t *t);

#ifdef __cplusplus
}
#endif

#endif
