/*  match_json.c: the upstream JSON adapters of the match module (see
    match.h): a Spotify track object into a playlist track
    (sp_match_track_from_spotify), and an slskd search's responses array
    into a result set (sp_match_set_add_responses). Only the public match
    API is used, so the scorer does not know either upstream's JSON.
*/
#include "soulpipe/match.h"
#include "match_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
s_jstrdup (const json_t *obj, const char *key)
{
    const char *s = json_string_value (json_object_get (obj, key));
    return s ? strdup (s) : NULL;
}

int
sp_match_track_from_spotify (const json_t *obj, sp_track_t *track)
{
    if (!obj || !track)
        return -1;
    memset (track, 0, sizeof *track);
    if (json_is_object (json_object_get (obj, "track")))
        obj = json_object_get (obj, "track");  //  a playlist item
    track->title = s_jstrdup (obj, "name");
    const json_t *artists = json_object_get (obj, "artists");
    size_t na = json_array_size (artists);
    if (!track->title || na == 0)
        goto fail;
    track->artists = calloc (na, sizeof (char *));
    if (!track->artists)
        goto fail;
    for (size_t i = 0; i < na; i++) {
        const json_t *a = json_array_get (artists, i);
        const char *name = json_is_string (a) ? json_string_value (a)
                                              : json_string_value (json_object_get (a, "name"));
        if (name && (track->artists[track->artists_count] = strdup (name)))
            track->artists_count++;
    }
    if (!track->artists_count)
        goto fail;
    track->spotify_id = s_jstrdup (obj, "id");
    const json_t *album = json_object_get (obj, "album");
    if (json_is_object (album)) {
        track->album = s_jstrdup (album, "name");
        track->album_id = s_jstrdup (album, "id");
        track->album_type = s_jstrdup (album, "album_type");
        track->release_date = s_jstrdup (album, "release_date");
    } else if (json_is_string (album))
        track->album = strdup (json_string_value (album));
    const json_t *v = json_object_get (obj, "duration_ms");
    if (json_is_integer (v) && json_integer_value (v) > 0) {
        track->has_duration_ms = true;
        track->duration_ms = (uint64_t) json_integer_value (v);
    }
    v = json_object_get (obj, "track_number");
    if (json_is_integer (v) && json_integer_value (v) > 0 && json_integer_value (v) <= 10000) {
        track->has_track_number = true;
        track->track_number = (uint64_t) json_integer_value (v);
    }
    v = json_object_get (obj, "disc_number");
    if (json_is_integer (v) && json_integer_value (v) > 0 && json_integer_value (v) <= 10000) {
        track->has_disc_number = true;
        track->disc_number = (uint64_t) json_integer_value (v);
    }
    const json_t *ids = json_object_get (obj, "external_ids");
    if (json_is_object (ids))
        track->isrc = s_jstrdup (ids, "isrc");
    track->playlist = strdup ("");
    if (!track->playlist)
        goto fail;
    return 0;
fail:
    sp_track_clear (track);
    return -1;
}


static int
s_jint (const json_t *obj, const char *key, int dflt)
{
    const json_t *v = json_object_get (obj, key);
    if (!json_is_integer (v))
        return dflt;
    json_int_t i = json_integer_value (v);
    return i < 0 || i > 0x7fffffff ? dflt : (int) i;
}

int
sp_match_set_add_responses (sp_match_set_t *self, const json_t *responses)
{
    if (!self || !json_is_array (responses))
        return -1;
    int added = 0;
    size_t i;
    const json_t *resp;
    json_array_foreach (responses, i, resp)
    {
        const json_t *uj = json_object_get (resp, "username");
        const char *user = json_string_value (uj);
        const json_t *files = json_object_get (resp, "files");
        if (!user || !json_is_array (files))
            continue;
        //  a name that cannot reach slskd intact, or cannot be carried in a
        //  task, costs only this peer's files
        int bad_user = -1;
        if (strlen (user) != json_string_length (uj))
            bad_user = SP_MATCH__DROP_USER_BAD;
        else if (strlen (user) > SP_MSG_MAX_NAME)
            bad_user = SP_MATCH__DROP_USER_LONG;
        if (bad_user >= 0) {
            self->dropped[bad_user] += json_array_size (files);
            continue;
        }
        sp_match_result_t r;
        memset (&r, 0, sizeof r);
        r.username = (char *) user;
        const json_t *v = json_object_get (resp, "hasFreeUploadSlot");
        r.free_slot = json_is_boolean (v) ? json_is_true (v) : -1;
        v = json_object_get (resp, "queueLength");
        r.queue = json_is_integer (v) && json_integer_value (v) >= 0 ? json_integer_value (v) : -1;
        v = json_object_get (resp, "uploadSpeed");
        r.speed = json_is_integer (v) && json_integer_value (v) >= 0 ? json_integer_value (v) : -1;
        size_t k;
        const json_t *f;
        json_array_foreach (files, k, f)
        {
            const json_t *fj = json_object_get (f, "filename");
            const char *name = json_string_value (fj);
            if (!name)
                continue;
            if (json_is_true (json_object_get (f, "isLocked")))
                continue;
            if (strlen (name) != json_string_length (fj)) {
                self->dropped[SP_MATCH__DROP_FILE_BAD]++;
                continue;
            }
            if (strlen (name) > SP_MSG_MAX_STR) {
                self->dropped[SP_MATCH__DROP_FILE_LONG]++;
                continue;
            }
            r.filename = (char *) name;
            v = json_object_get (f, "size");
            r.size = json_is_integer (v) && json_integer_value (v) > 0
                         ? (uint64_t) json_integer_value (v)
                         : 0;
            r.bitrate = s_jint (f, "bitRate", -1);
            r.bitdepth = s_jint (f, "bitDepth", -1);
            r.samplerate = s_jint (f, "sampleRate", -1);
            r.length = s_jint (f, "length", -1);
            v = json_object_get (f, "isVariableBitRate");
            r.vbr = json_is_boolean (v) ? json_is_true (v) : -1;
            if (sp_match_set_add (self, &r) == 0)
                added++;
        }
    }
    return added;
}

size_t
sp_match_set_dropped (const sp_match_set_t *self, char *why, size_t n)
{
    if (why && n)
        why[0] = '\0';
    if (!self)
        return 0;
    static const char *what[SP_MATCH__DROP_KINDS] = {
        "user name not valid UTF-8 (or with a NUL)",
        "user name over 255 bytes",
        "file name not valid UTF-8 (or with a NUL)",
        "file name over 4096 bytes",
    };
    size_t total = 0;
    for (int k = 0; k < SP_MATCH__DROP_KINDS; k++)
        total += self->dropped[k];
    if (!total || !why || !n)
        return total;
    int used = snprintf (why, n, "%zu result%s dropped:", total, total == 1 ? "" : "s");
    const char *sep = " ";
    for (int k = 0; k < SP_MATCH__DROP_KINDS && used >= 0 && (size_t) used < n; k++) {
        if (!self->dropped[k])
            continue;
        int m = snprintf (why + used, n - (size_t) used, "%s%zu with a %s", sep, self->dropped[k],
                          what[k]);
        if (m < 0)
            break;
        used += m;
        sep = ", ";
    }
    return total;
}
