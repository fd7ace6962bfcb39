/*  payload.c: the stage payload codec (see payload.h): the schemas of the
    track, a candidate, the source and the payload, and the sp_payload_* and
    sp_track_* API over the generic walker (msg_codec.c, msg_schema.h).
*/
#include "soulpipe/payload.h"
#include "msg_schema.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ schemas */
static const char *const s_album_types[] = {"album", "single", "compilation", NULL};

static const sp_msg__field_t s_track_fields[] = {
    FS (sp_track_t, spotify_id, OPT, SP_MSG_MAX_ID),
    FS (sp_track_t, title, REQ, SP_MSG_MAX_TEXT),
    FV (sp_track_t, artists, 1, SP_MSG_MAX_ARTISTS, SP_MSG_MAX_TEXT),
    FS (sp_track_t, album, OPT, SP_MSG_MAX_TEXT),
    FS (sp_track_t, album_id, OPT, SP_MSG_MAX_ID),
    FE (sp_track_t, album_type, OPT, s_album_types),
    FV (sp_track_t, album_artists, 0, SP_MSG_MAX_ARTISTS, SP_MSG_MAX_TEXT),
    FS (sp_track_t, release_date, OPT, 16),
    FS (sp_track_t, date_precision, OPT, 16),
    FUH (sp_track_t, track_number, OPT, SP_MSG_MAX_NUMBER),
    FUH (sp_track_t, track_total, OPT, SP_MSG_MAX_NUMBER),
    FUH (sp_track_t, disc_number, OPT, SP_MSG_MAX_NUMBER),
    FUH (sp_track_t, disc_total, OPT, SP_MSG_MAX_NUMBER),
    FUH (sp_track_t, duration_ms, OPT, U64),
    FS (sp_track_t, isrc, OPT, 32),
    FS (sp_track_t, cover_url, OPT, SP_MSG_MAX_STR),
    FS (sp_track_t, playlist, REQ, SP_MSG_MAX_TEXT),
    FU (sp_track_t, position, U64),
    FS (sp_track_t, genre, OPT, SP_MSG_MAX_TEXT),
};
static const sp_msg__schema_t s_track = SCHEMA ("track", sp_track_t, s_track_fields);

static const sp_msg__field_t s_candidate_fields[] = {
    FS (sp_candidate_t, username, REQ, SP_MSG_MAX_NAME),
    FS (sp_candidate_t, filename, REQ, SP_MSG_MAX_STR),
    FU (sp_candidate_t, size, U64),
    FS (sp_candidate_t, ext, OPT, 16),
    FUH (sp_candidate_t, bitrate, OPT, U64),
    FUH (sp_candidate_t, bitdepth, OPT, U64),
    FUH (sp_candidate_t, samplerate, OPT, U64),
    FUH (sp_candidate_t, length, OPT, U64),
    FBO (sp_candidate_t, vbr),
    FF (sp_candidate_t, score, -1e300, 1e300),
    FBO (sp_candidate_t, free_slot),
    FUH (sp_candidate_t, queue, OPT, U64),
    FUH (sp_candidate_t, speed, OPT, U64),
};
static const sp_msg__schema_t s_candidate =
    SCHEMA ("candidate", sp_candidate_t, s_candidate_fields);

static const sp_msg__field_t s_source_fields[] = {
    FS (sp_source_t, username, REQ, SP_MSG_MAX_NAME),
    FS (sp_source_t, filename, REQ, SP_MSG_MAX_STR),
    FU (sp_source_t, size, U64),
};
static const sp_msg__schema_t s_source = SCHEMA ("source", sp_source_t, s_source_fields);

static const sp_msg__field_t s_payload_fields[] = {
    FS (sp_payload_t, job, REQ, SP_MSG_MAX_ID),
    FS (sp_payload_t, track_key, REQ, SP_MSG_MAX_TRACK_KEY),
    FM (sp_payload_t, track, s_track),
    FMV (sp_payload_t, candidates, SP_MSG_MAX_CANDIDATES, s_candidate),
    FV (sp_payload_t, excluded_users, 0, SP_MSG_MAX_LIST, SP_MSG_MAX_NAME),
    FUH (sp_payload_t, search_rounds, OPT, U64),
    FUH (sp_payload_t, searches_used, OPT, U64),
    FS (sp_payload_t, query, OPT, SP_MSG_MAX_STR),
    FS (sp_payload_t, staged_path, OPT, SP_MSG_MAX_STR),
    FMO (sp_payload_t, source, s_source),
    FS (sp_payload_t, transfer_id, OPT, SP_MSG_MAX_ID),
    FV (sp_payload_t, tried, 0, SP_MSG_MAX_LIST, SP_MSG_MAX_TEXT),
};
static const sp_msg__schema_t s_payload = SCHEMA ("payload", sp_payload_t, s_payload_fields);

/* ================================================================ decode, encode */

int
sp_payload_decode (const uint8_t *data, size_t size, sp_payload_t **payload, char *reason,
                   size_t reason_size)
{
    sp_msg__reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!payload)
        return sp_msg__fail (&r, SP_MSG_ERR_INVAL, "no output");
    *payload = NULL;

    msgpack_unpacked up;
    const char *tname;
    size_t tlen;
    int rc = sp_msg__open_frame (data, size, SP_PAYLOAD_MAX_FRAME, &up, &tname, &tlen, &r);
    if (rc)
        return rc;
    if (tlen != strlen ("payload") || memcmp (tname, "payload", tlen) != 0) {
        char clean[40];
        sp_msg__sanitize (tname, tlen, clean, sizeof clean);
        msgpack_unpacked_destroy (&up);
        return sp_msg__fail (&r, SP_MSG_ERR_UNKNOWN_TYPE, "type '%s' is not 'payload'", clean);
    }
    sp_payload_t *self = sp_payload_new ();
    if (!self) {
        msgpack_unpacked_destroy (&up);
        return sp_msg__fail (&r, SP_MSG_ERR_NOMEM, "out of memory");
    }
    rc = sp_msg__decode_map (&up.data, &s_payload, self, "", true, &r);
    msgpack_unpacked_destroy (&up);
    if (rc) {
        sp_payload_destroy (&self);
        return rc;
    }
    *payload = self;
    return SP_MSG_OK;
}

int
sp_payload_encode (const sp_payload_t *payload, uint8_t **data, size_t *size, char *reason,
                   size_t reason_size)
{
    sp_msg__reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!payload || !data || !size)
        return sp_msg__fail (&r, SP_MSG_ERR_INVAL, "NULL argument");
    *data = NULL;
    *size = 0;
    return sp_msg__encode (&s_payload, payload, SP_PAYLOAD_MAX_FRAME, data, size, &r);
}

/* ================================================================ API */

sp_payload_t *
sp_payload_new (void)
{
    return calloc (1, sizeof (sp_payload_t));
}

void
sp_payload_destroy (sp_payload_t **self_p)
{
    if (self_p && *self_p) {
        sp_msg__free_fields (&s_payload, *self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

void
sp_track_clear (sp_track_t *track)
{
    if (track) {
        sp_msg__free_fields (&s_track, track);
        memset (track, 0, sizeof *track);
    }
}

int
sp_track_copy (sp_track_t *dst, const sp_track_t *src)
{
    if (!dst || !src)
        return SP_MSG_ERR_INVAL;
    int rc = sp_msg__copy_fields (&s_track, dst, src);
    if (rc)
        sp_track_clear (dst);
    return rc;
}

int
sp_payload_add_candidate (sp_payload_t *payload, const sp_candidate_t *candidate)
{
    if (!payload || !candidate ||
        payload->candidates_count >= SIZE_MAX / sizeof (sp_candidate_t) - 1)
        return SP_MSG_ERR_INVAL;
    sp_candidate_t copy;
    int rc = sp_msg__copy_fields (&s_candidate, &copy, candidate);
    if (rc) {
        sp_msg__free_fields (&s_candidate, &copy);
        return rc;
    }
    sp_candidate_t *grown =
        realloc (payload->candidates, (payload->candidates_count + 1) * sizeof (sp_candidate_t));
    if (!grown) {
        sp_msg__free_fields (&s_candidate, &copy);
        return SP_MSG_ERR_NOMEM;
    }
    grown[payload->candidates_count++] = copy;
    payload->candidates = grown;
    return SP_MSG_OK;
}
