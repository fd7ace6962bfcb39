/*  fake_folderlib.c: the fixture's Plex library as a folder of tagged files
    (see fake_folderlib.h).
*/
#include "fake_folderlib.h"
#include "audio.h"
#include "fake.h"
#include "soulpipe/err.h"
#include "soulpipe/path.h"
#include "soulpipe/tags.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define S_PLEX_ROOT "/music"  //  where the Plex fixture's files live

//  The first Part's file of a Plex track, or NULL.
static const char *
s_part_file (json_t *m)
{
    json_t *media = json_array_get (json_object_get (m, "Media"), 0);
    json_t *part = json_array_get (json_object_get (media, "Part"), 0);
    return json_string_value (json_object_get (part, "file"));
}

//  Write and tag one track at path. 0 written, 1 kept (exists), -1 error.
static int
s_write_one (json_t *m, const char *path, char *err, size_t n)
{
    if (access (path, F_OK) == 0)
        return 1;
    char dir[1024];
    snprintf (dir, sizeof dir, "%s", path);
    char *slash = strrchr (dir, '/');
    if (slash)
        *slash = '\0';
    if (sp_fake_mkdir_p (dir) != 0) {
        sp_err_set (err, n, "cannot create %s: %s", dir, strerror (errno));
        return -1;
    }
    const char *ext = sp_path_ext (path);
    json_int_t dur = json_integer_value (json_object_get (m, "duration"));
    unsigned length_s = dur > 0 ? (unsigned) ((dur + 500) / 1000) : 1;
    if (!ext || !sp_fake_audio_supported (ext) ||
        sp_fake_audio_write (path, ext, length_s, 0, false, NULL) != 0) {
        sp_err_set (err, n, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    const char *aa = json_string_value (json_object_get (m, "grandparentTitle"));
    const char *ta = json_string_value (json_object_get (m, "originalTitle"));
    const char *artists[] = {ta ? ta : aa};
    const char *aas[] = {aa};
    sp_tags_t t = {.title = json_string_value (json_object_get (m, "title")),
                   .artists = artists,
                   .artists_count = artists[0] ? 1 : 0,
                   .album = json_string_value (json_object_get (m, "parentTitle")),
                   .album_artists = aas,
                   .album_artists_count = aa ? 1 : 0};
    char why[256];
    if (sp_tags_write (path, &t, why, sizeof why) != SP_TAGS_OK) {
        sp_err_set (err, n, "cannot tag %s: %s", path, why);
        return -1;
    }
    return 0;
}

int
sp_fake_write_folder_library (const char *fixtures_dir, const char *out_dir, char *err,
                              size_t err_size)
{
    char file[1024];
    snprintf (file, sizeof file, "%s/plex/tracks.json", fixtures_dir);
    json_error_t jerr;
    json_t *tracks = json_load_file (file, 0, &jerr);
    if (!json_is_array (tracks)) {
        sp_err_set (err, err_size, "%s: %s", file, tracks ? "not a JSON array" : jerr.text);
        json_decref (tracks);
        return -1;
    }
    int written = 0;
    size_t i;
    json_t *m;
    json_array_foreach (tracks, i, m)
    {
        const char *f = s_part_file (m);
        if (!f || strncmp (f, S_PLEX_ROOT "/", strlen (S_PLEX_ROOT) + 1) != 0 ||
            strstr (f, "/../")) {
            continue;  //  outside the fixture's root: not written
        }
        char path[1024];
        snprintf (path, sizeof path, "%s%s", out_dir, f + strlen (S_PLEX_ROOT));
        int rc = s_write_one (m, path, err, err_size);
        if (rc < 0) {
            json_decref (tracks);
            return -1;
        }
        written += rc == 0;
    }
    json_decref (tracks);
    return written;
}
