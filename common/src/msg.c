/*  msg.c: encode and decode soulpipe messages (sp_msg_t) and stage payloads
    (sp_payload_t) as msgpack maps.

    Handles every message type of the client API (submit, submit_ok, status,
    list, cancel, retry, status_ok, list_ok, ok, error, login), the broker
    (ready, heartbeat, job, done, fail, progress, bye), events (event) and the
    stage payload (payload).

    The schema of each type is a table of field descriptors (wire name =
    struct member name, kind, bound, offsets of the value and of its
    has_/count/size companion); one generic walker decodes, encodes, copies
    and frees any table. Decoding is: sp_msg_precheck on the raw bytes,
    msgpack_unpack_next, whole frame consumed, envelope (v, type), then the
    table. Every decoded string, array and bin is copied out of the frame.
*/
#include "soulpipe/msg.h"

#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ schema */

typedef enum {
    K_STR,   /* char *                                   */
    K_UINT,  /* uint64_t                                 */
    K_BOOL,  /* bool                                     */
    K_FLOAT, /* double                                   */
    K_BIN,   /* uint8_t * + size_t (aux)                 */
    K_STRV,  /* char ** + size_t count (aux)             */
    K_MAP,   /* embedded struct (sub), has flag in aux   */
    K_MAPV   /* struct array (sub) + size_t count (aux)  */
} s_kind_t;

typedef struct s_schema_s s_schema_t;

typedef struct {
    const char *name; /* wire key = struct member name */
    size_t nlen;      /* strlen (name) */
    s_kind_t kind;
    bool required;
    size_t off;                 /* offset of the value */
    size_t aux;                 /* offset of has_ flag / count / size, or S_NO_AUX */
    uint64_t max;               /* max string bytes / uint value / count / bin bytes */
    uint64_t min;               /* min count (K_STRV) */
    uint64_t elem_max;          /* K_STRV: max bytes of one string */
    double fmin, fmax;          /* K_FLOAT bounds */
    const char *const *allowed; /* K_STR: NULL-terminated allowed values, or NULL */
    const s_schema_t *sub;      /* K_MAP / K_MAPV */
} s_field_t;

struct s_schema_s {
    const char *name; /* "submit", "track", ... */
    size_t size;      /* sizeof the struct it describes */
    const s_field_t *fields;
    size_t nfields; /* ≤ 64 (a bitmask tracks duplicates) */
};

#define S_NO_AUX SIZE_MAX

#define FS(T, n, req, mx)                                                                          \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_STR, .required = req,                       \
        .off = offsetof (T, n), .aux = S_NO_AUX, .max = (mx)                                       \
    }
#define FE(T, n, req, vals)                                                                        \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_STR, .required = req,                       \
        .off = offsetof (T, n), .aux = S_NO_AUX, .max = SP_MSG_MAX_STR, .allowed = vals            \
    }
#define FU(T, n, mx)                                                                               \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_UINT, .required = true,                     \
        .off = offsetof (T, n), .aux = S_NO_AUX, .max = (mx)                                       \
    }
#define FUH(T, n, req, mx)                                                                         \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_UINT, .required = req,                      \
        .off = offsetof (T, n), .aux = offsetof (T, has_##n), .max = (mx)                          \
    }
#define FB(T, n)                                                                                   \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_BOOL, .required = true,                     \
        .off = offsetof (T, n), .aux = S_NO_AUX                                                    \
    }
#define FBO(T, n)                                                                                  \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_BOOL, .required = false,                    \
        .off = offsetof (T, n), .aux = offsetof (T, has_##n)                                       \
    }
#define FF(T, n, lo, hi)                                                                           \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_FLOAT, .required = true,                    \
        .off = offsetof (T, n), .aux = S_NO_AUX, .fmin = (lo), .fmax = (hi)                        \
    }
#define FFO(T, n, lo, hi)                                                                          \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_FLOAT, .required = false,                   \
        .off = offsetof (T, n), .aux = offsetof (T, has_##n), .fmin = (lo), .fmax = (hi)           \
    }
#define FBIN(T, n, req, mx)                                                                        \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_BIN, .required = req,                       \
        .off = offsetof (T, n), .aux = offsetof (T, n##_size), .max = (mx)                         \
    }
#define FV(T, n, mn, mx, emx)                                                                      \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_STRV, .required = (mn) > 0,                 \
        .off = offsetof (T, n), .aux = offsetof (T, n##_count), .min = (mn), .max = (mx),          \
        .elem_max = (emx)                                                                          \
    }
#define FM(T, n, sc)                                                                               \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_MAP, .required = true,                      \
        .off = offsetof (T, n), .aux = S_NO_AUX, .sub = &(sc)                                      \
    }
#define FMO(T, n, sc)                                                                              \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_MAP, .required = false,                     \
        .off = offsetof (T, n), .aux = offsetof (T, has_##n), .sub = &(sc)                         \
    }
#define FMV(T, n, mx, sc)                                                                          \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_MAPV, .required = false,                    \
        .off = offsetof (T, n), .aux = offsetof (T, n##_count), .max = (mx), .sub = &(sc)          \
    }
#define SCHEMA(nm, T, f)                                                                           \
    {                                                                                              \
        .name = nm, .size = sizeof (T), .fields = f, .nfields = sizeof (f) / sizeof ((f)[0])       \
    }

#define REQ true
#define OPT false
#define U64 UINT64_MAX

static const char *const s_providers[] = {"spotify", NULL};
static const char *const s_roles[] = {"search", "download", "tag", NULL};
static const char *const s_kinds[] = {"track", "counts", "progress", "notice", NULL};
static const char *const s_album_types[] = {"album", "single", "compilation", NULL};

/* ---------------------------------------------------------------- sub-maps */

static const s_field_t s_held_fields[] = {
    FS (sp_msg_held_t, id, REQ, SP_MSG_MAX_ID),
    FU (sp_msg_held_t, fence, U64),
};
static const s_schema_t s_held = SCHEMA ("held", sp_msg_held_t, s_held_fields);

static const s_field_t s_counts_fields[] = {
    FU (sp_msg_counts_t, total, U64),  FU (sp_msg_counts_t, skipped, U64),
    FU (sp_msg_counts_t, queued, U64), FU (sp_msg_counts_t, done, U64),
    FU (sp_msg_counts_t, failed, U64),
};
static const s_schema_t s_counts = SCHEMA ("counts", sp_msg_counts_t, s_counts_fields);

static const s_field_t s_track_fields[] = {
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
static const s_schema_t s_track = SCHEMA ("track", sp_track_t, s_track_fields);

static const s_field_t s_candidate_fields[] = {
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
static const s_schema_t s_candidate = SCHEMA ("candidate", sp_candidate_t, s_candidate_fields);

static const s_field_t s_source_fields[] = {
    FS (sp_source_t, username, REQ, SP_MSG_MAX_NAME),
    FS (sp_source_t, filename, REQ, SP_MSG_MAX_STR),
    FU (sp_source_t, size, U64),
};
static const s_schema_t s_source = SCHEMA ("source", sp_source_t, s_source_fields);

static const s_field_t s_payload_fields[] = {
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
static const s_schema_t s_payload = SCHEMA ("payload", sp_payload_t, s_payload_fields);

/* ---------------------------------------------------------------- messages */

#define T sp_msg_t

static const s_field_t s_submit_f[] = {
    FS (T, source, REQ, SP_MSG_MAX_STR),
    FS (T, name, OPT, SP_MSG_MAX_NAME),
    FS (T, content, OPT, SP_MSG_MAX_CONTENT),
    FBO (T, wait),
};
static const s_field_t s_submit_ok_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
    FS (T, name, REQ, SP_MSG_MAX_STR),
    FU (T, total, U64),
    FU (T, skipped, U64),
    FU (T, queued, U64),
    FB (T, library_checked),
    FS (T, library_note, OPT, SP_MSG_MAX_TEXT),
    FV (T, notes, 0, SP_MSG_MAX_NOTES, SP_MSG_MAX_TEXT),
};
static const s_field_t s_job_only_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
};
static const s_field_t s_status_ok_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
    FS (T, json, REQ, SP_MSG_MAX_JSON),
};
static const s_field_t s_list_ok_f[] = {
    FS (T, json, REQ, SP_MSG_MAX_JSON),
};
static const s_field_t s_ok_f[] = {
    FS (T, message, OPT, SP_MSG_MAX_STR),
    FUH (T, count, OPT, U64),
};
static const s_field_t s_error_f[] = {
    FS (T, code, REQ, SP_MSG_MAX_ID),
    FS (T, message, REQ, SP_MSG_MAX_STR),
};
static const s_field_t s_login_f[] = {
    FE (T, provider, REQ, s_providers),         FS (T, access_token, REQ, SP_MSG_MAX_STR),
    FS (T, refresh_token, REQ, SP_MSG_MAX_STR), FU (T, expires_in, U64),
    FS (T, scope, OPT, SP_MSG_MAX_STR),
};
static const s_field_t s_ready_f[] = {
    FE (T, role, REQ, s_roles),
    FS (T, worker, REQ, SP_MSG_MAX_ID),
    FUH (T, credit, REQ, SP_MSG_MAX_CREDIT),
};
static const s_field_t s_heartbeat_f[] = {
    FUH (T, credit, OPT, SP_MSG_MAX_CREDIT),
    FMV (T, held, SP_MSG_MAX_HELD, s_held),
};
static const s_field_t s_job_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID), FS (T, stage, REQ, SP_MSG_MAX_ID),          FU (T, fence, U64),
    FU (T, attempt, U64),           FBIN (T, payload, REQ, SP_MSG_MAX_PAYLOAD),
};
static const s_field_t s_done_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID),
    FU (T, fence, U64),
    FS (T, next, OPT, SP_MSG_MAX_ID),
    FBIN (T, payload, OPT, SP_MSG_MAX_PAYLOAD),
};
static const s_field_t s_fail_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID),
    FU (T, fence, U64),
    FS (T, reason, REQ, SP_MSG_MAX_STR),
    FB (T, retry),
    FBIN (T, payload, OPT, SP_MSG_MAX_PAYLOAD),
};
static const s_field_t s_progress_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID),
    FU (T, fence, U64),
    FS (T, state, REQ, SP_MSG_MAX_STATE),
    FUH (T, bytes, OPT, U64),
    FUH (T, size, OPT, U64),
    FFO (T, percent, 0.0, 100.0),
    FS (T, message, OPT, SP_MSG_MAX_TEXT),
};
static const s_field_t s_bye_f[] = {
    FS (T, worker, REQ, SP_MSG_MAX_ID),
};
static const s_field_t s_event_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
    FE (T, kind, REQ, s_kinds),
    FS (T, track, OPT, SP_MSG_MAX_TRACK_KEY),
    FUH (T, position, OPT, U64),
    FS (T, title, OPT, SP_MSG_MAX_TEXT),
    FS (T, state, OPT, SP_MSG_MAX_STATE),
    FS (T, message, OPT, SP_MSG_MAX_STR),
    FMO (T, counts, s_counts),
    FUH (T, bytes, OPT, U64),
    FUH (T, size, OPT, U64),
    FFO (T, percent, 0.0, 100.0),
};

#undef T

//  Indexed by sp_msg_type_t.
static const s_schema_t s_msg_schemas[SP_MSG_TYPE_COUNT] = {
    [SP_MSG_NONE] = {NULL, 0, NULL, 0},
    [SP_MSG_SUBMIT] = SCHEMA ("submit", sp_msg_t, s_submit_f),
    [SP_MSG_SUBMIT_OK] = SCHEMA ("submit_ok", sp_msg_t, s_submit_ok_f),
    [SP_MSG_STATUS] = SCHEMA ("status", sp_msg_t, s_job_only_f),
    [SP_MSG_LIST] = {"list", sizeof (sp_msg_t), NULL, 0},
    [SP_MSG_CANCEL] = SCHEMA ("cancel", sp_msg_t, s_job_only_f),
    [SP_MSG_RETRY] = SCHEMA ("retry", sp_msg_t, s_job_only_f),
    [SP_MSG_STATUS_OK] = SCHEMA ("status_ok", sp_msg_t, s_status_ok_f),
    [SP_MSG_LIST_OK] = SCHEMA ("list_ok", sp_msg_t, s_list_ok_f),
    [SP_MSG_OK_REPLY] = SCHEMA ("ok", sp_msg_t, s_ok_f),
    [SP_MSG_ERROR] = SCHEMA ("error", sp_msg_t, s_error_f),
    [SP_MSG_LOGIN] = SCHEMA ("login", sp_msg_t, s_login_f),
    [SP_MSG_READY] = SCHEMA ("ready", sp_msg_t, s_ready_f),
    [SP_MSG_HEARTBEAT] = SCHEMA ("heartbeat", sp_msg_t, s_heartbeat_f),
    [SP_MSG_JOB] = SCHEMA ("job", sp_msg_t, s_job_f),
    [SP_MSG_DONE] = SCHEMA ("done", sp_msg_t, s_done_f),
    [SP_MSG_FAIL] = SCHEMA ("fail", sp_msg_t, s_fail_f),
    [SP_MSG_PROGRESS] = SCHEMA ("progress", sp_msg_t, s_progress_f),
    [SP_MSG_BYE] = SCHEMA ("bye", sp_msg_t, s_bye_f),
    [SP_MSG_EVENT] = SCHEMA ("event", sp_msg_t, s_event_f),
};

/* ================================================================ helpers */

typedef struct {
    char *buf; /* caller's reason buffer, may be NULL */
    size_t size;
} s_reason_t;

static int s_fail (s_reason_t *r, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail (s_reason_t *r, int code, const char *fmt, ...)
{
    if (r && r->buf && r->size > 0) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (r->buf, r->size, fmt, ap);
        va_end (ap);
    }
    return code;
}

//  A child path "parent.name" (or "name" at the top) into buf.
//  Paths are built for every field on the hot path, so without snprintf.
//  A cut path only shortens a reason.
static size_t
s_put (char *buf, size_t size, size_t at, const char *s, size_t n)
{
    if (at + 1 >= size)
        return at;
    if (n > size - 1 - at)
        n = size - 1 - at;
    memcpy (buf + at, s, n);
    buf[at + n] = '\0';
    return at + n;
}

static const char *
s_path (char *buf, size_t size, const char *parent, const char *name)
{
    size_t at = s_put (buf, size, 0, parent, strlen (parent));
    if (*parent)
        at = s_put (buf, size, at, ".", 1);
    s_put (buf, size, at, name, strlen (name));
    return buf;
}

static const char *
s_path_index (char *buf, size_t size, const char *parent, size_t index)
{
    char digits[24];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char) ('0' + index % 10);
        index /= 10;
    } while (index > 0 && n > 1);
    digits[--n] = '[';
    size_t at = s_put (buf, size, 0, parent, strlen (parent));
    at = s_put (buf, size, at, digits + n, sizeof digits - n);
    s_put (buf, size, at, "]", 1);
    return buf;
}

#define S_PATH_MAX 160

static char *
s_strndup (const char *s, size_t n)
{
    char *copy = malloc (n + 1);
    if (copy) {
        memcpy (copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

static char *
s_strdup (const char *s)
{
    return s_strndup (s, strlen (s));
}

static void *
s_at (void *base, size_t off)
{
    return (char *) base + off;
}

static const void *
s_cat (const void *base, size_t off)
{
    return (const char *) base + off;
}

static bool
s_key_is_n (const msgpack_object *key, const char *name, size_t n)
{
    return key->type == MSGPACK_OBJECT_STR && key->via.str.size == n &&
           memcmp (key->via.str.ptr, name, n) == 0;
}

static bool
s_allowed (const char *const *allowed, const char *s, size_t n)
{
    for (; *allowed; allowed++)
        if (strlen (*allowed) == n && memcmp (*allowed, s, n) == 0)
            return true;
    return false;
}

/* ================================================================ free, copy */

static void s_free_fields (const s_schema_t *sc, void *base);

static void
s_free_strv (char **v, size_t n)
{
    if (v) {
        for (size_t i = 0; i < n; i++)
            free (v[i]);
        free (v);
    }
}

//  Free every pointer the schema describes in base (does not zero base).
static void
s_free_fields (const s_schema_t *sc, void *base)
{
    for (size_t i = 0; i < sc->nfields; i++) {
        const s_field_t *f = &sc->fields[i];
        void *p = s_at (base, f->off);
        switch (f->kind) {
            case K_STR:
            case K_BIN:
                free (*(void **) p);
                break;
            case K_STRV:
                s_free_strv (*(char ***) p, *(size_t *) s_at (base, f->aux));
                break;
            case K_MAP:
                s_free_fields (f->sub, p);
                break;
            case K_MAPV: {
                char *arr = *(char **) p;
                size_t n = *(size_t *) s_at (base, f->aux);
                if (arr) {
                    for (size_t j = 0; j < n; j++)
                        s_free_fields (f->sub, arr + j * f->sub->size);
                    free (arr);
                }
                break;
            }
            default:
                break;
        }
    }
}

//  Set every pointer (and its count/size) the schema describes to NULL/0.
static void
s_null_fields (const s_schema_t *sc, void *base)
{
    for (size_t i = 0; i < sc->nfields; i++) {
        const s_field_t *f = &sc->fields[i];
        void *p = s_at (base, f->off);
        switch (f->kind) {
            case K_STR:
            case K_BIN:
            case K_STRV:
            case K_MAPV:
                *(void **) p = NULL;
                if (f->aux != S_NO_AUX)
                    *(size_t *) s_at (base, f->aux) = 0;
                break;
            case K_MAP:
                s_null_fields (f->sub, p);
                break;
            default:
                break;
        }
    }
}

//  Deep copy src into dst (dst's old contents are overwritten, not freed).
//  On error dst holds what was copied so far and is safe to free.
static int
s_copy_fields (const s_schema_t *sc, void *dst, const void *src)
{
    memcpy (dst, src, sc->size);
    s_null_fields (sc, dst);
    for (size_t i = 0; i < sc->nfields; i++) {
        const s_field_t *f = &sc->fields[i];
        void *d = s_at (dst, f->off);
        const void *s = s_cat (src, f->off);
        switch (f->kind) {
            case K_STR: {
                const char *str = *(char *const *) s;
                if (str && !(*(char **) d = s_strdup (str)))
                    return SP_MSG_ERR_NOMEM;
                break;
            }
            case K_BIN: {
                const uint8_t *bin = *(uint8_t *const *) s;
                size_t n = *(const size_t *) s_cat (src, f->aux);
                if (bin) {
                    uint8_t *copy = malloc (n ? n : 1);
                    if (!copy)
                        return SP_MSG_ERR_NOMEM;
                    memcpy (copy, bin, n);
                    *(uint8_t **) d = copy;
                    *(size_t *) s_at (dst, f->aux) = n;
                }
                break;
            }
            case K_STRV: {
                char *const *v = *(char **const *) s;
                size_t n = *(const size_t *) s_cat (src, f->aux);
                if (v && n > 0) {
                    char **copy = calloc (n, sizeof (char *));
                    if (!copy)
                        return SP_MSG_ERR_NOMEM;
                    *(char ***) d = copy;
                    *(size_t *) s_at (dst, f->aux) = n;
                    for (size_t j = 0; j < n; j++)
                        if (v[j] && !(copy[j] = s_strdup (v[j])))
                            return SP_MSG_ERR_NOMEM;
                }
                break;
            }
            case K_MAP: {
                int rc = s_copy_fields (f->sub, d, s);
                if (rc)
                    return rc;
                break;
            }
            case K_MAPV: {
                const char *arr = *(char *const *) s;
                size_t n = *(const size_t *) s_cat (src, f->aux);
                if (arr && n > 0) {
                    char *copy = calloc (n, f->sub->size);
                    if (!copy)
                        return SP_MSG_ERR_NOMEM;
                    *(char **) d = copy;
                    *(size_t *) s_at (dst, f->aux) = n;
                    for (size_t j = 0; j < n; j++) {
                        int rc =
                            s_copy_fields (f->sub, copy + j * f->sub->size, arr + j * f->sub->size);
                        if (rc)
                            return rc;
                    }
                }
                break;
            }
            default:
                break;
        }
    }
    return SP_MSG_OK;
}

/* ================================================================ decode */

static int s_decode_map (const msgpack_object *obj, const s_schema_t *sc, void *base,
                         const char *path, bool top, s_reason_t *r);

//  Validate a string object against bounds; on success copy it into *out.
static int
s_decode_str (const msgpack_object *v, uint64_t max, const char *const *allowed, const char *path,
              char **out, s_reason_t *r)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a string", path);
    size_t n = v->via.str.size;
    if (n > max)
        return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': string of %zu bytes above %llu", path,
                       n, (unsigned long long) max);
    if (n > 0 && memchr (v->via.str.ptr, '\0', n))
        return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': string contains a NUL byte", path);
    if (allowed && !s_allowed (allowed, v->via.str.ptr, n))
        return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': value not allowed", path);
    if (!(*out = s_strndup (v->via.str.ptr, n)))
        return s_fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
    return SP_MSG_OK;
}

static int
s_decode_field (const msgpack_object *v, const s_field_t *f, void *base, const char *path,
                s_reason_t *r)
{
    void *p = s_at (base, f->off);
    if (v->type == MSGPACK_OBJECT_NIL) {
        //  Some encoders write nil for "absent": accept it for optional fields.
        if (f->required)
            return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': null", path);
        return SP_MSG_OK;
    }
    switch (f->kind) {
        case K_STR:
            return s_decode_str (v, f->max, f->allowed, path, (char **) p, r);

        case K_UINT:
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not an unsigned integer",
                               path);
            if (v->via.u64 > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %llu above %llu", path,
                               (unsigned long long) v->via.u64, (unsigned long long) f->max);
            *(uint64_t *) p = v->via.u64;
            break;

        case K_BOOL:
            if (v->type != MSGPACK_OBJECT_BOOLEAN)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a boolean", path);
            *(bool *) p = v->via.boolean;
            break;

        case K_FLOAT: {
            double d;
            if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
                d = v->via.f64;
            else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                d = (double) v->via.u64;
            else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
                d = (double) v->via.i64;
            else
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a number", path);
            if (!isfinite (d) || d < f->fmin || d > f->fmax)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': number out of range", path);
            *(double *) p = d;
            break;
        }

        case K_BIN: {
            if (v->type != MSGPACK_OBJECT_BIN)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a bin", path);
            size_t n = v->via.bin.size;
            if (n > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': bin of %zu bytes above %llu",
                               path, n, (unsigned long long) f->max);
            uint8_t *copy = malloc (n ? n : 1);
            if (!copy)
                return s_fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
            if (n > 0)
                memcpy (copy, v->via.bin.ptr, n);
            *(uint8_t **) p = copy;
            *(size_t *) s_at (base, f->aux) = n;
            break;
        }

        case K_STRV: {
            if (v->type != MSGPACK_OBJECT_ARRAY)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not an array", path);
            size_t n = v->via.array.size;
            if (n < f->min || n > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD,
                               "field '%s': %zu entries, not within %llu..%llu", path, n,
                               (unsigned long long) f->min, (unsigned long long) f->max);
            if (n == 0)
                break;
            char **vec = calloc (n, sizeof (char *));
            if (!vec)
                return s_fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
            *(char ***) p = vec;
            *(size_t *) s_at (base, f->aux) = n;
            for (size_t i = 0; i < n; i++) {
                char sub[S_PATH_MAX];
                int rc = s_decode_str (&v->via.array.ptr[i], f->elem_max, NULL,
                                       s_path_index (sub, sizeof sub, path, i), &vec[i], r);
                if (rc)
                    return rc;
            }
            break;
        }

        case K_MAP: {
            int rc = s_decode_map (v, f->sub, p, path, false, r);
            if (rc)
                return rc;
            if (f->aux != S_NO_AUX)
                *(bool *) s_at (base, f->aux) = true;
            return SP_MSG_OK;  //  has flag handled here
        }

        case K_MAPV: {
            if (v->type != MSGPACK_OBJECT_ARRAY)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not an array", path);
            size_t n = v->via.array.size;
            if (n > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %zu entries above %llu", path,
                               n, (unsigned long long) f->max);
            if (n == 0)
                break;
            char *arr = calloc (n, f->sub->size);
            if (!arr)
                return s_fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
            *(char **) p = arr;
            *(size_t *) s_at (base, f->aux) = n;
            for (size_t i = 0; i < n; i++) {
                char sub[S_PATH_MAX];
                int rc = s_decode_map (&v->via.array.ptr[i], f->sub, arr + i * f->sub->size,
                                       s_path_index (sub, sizeof sub, path, i), false, r);
                if (rc)
                    return rc;
            }
            break;
        }
    }
    //  Scalars with a has_ flag: mark present (for required ones too).
    if ((f->kind == K_UINT || f->kind == K_BOOL || f->kind == K_FLOAT) && f->aux != S_NO_AUX)
        *(bool *) s_at (base, f->aux) = true;
    return SP_MSG_OK;
}

//  Decode the map obj into base with schema sc. Unknown keys are ignored;
//  a known key twice, a non-string key or a missing required field fail.
//  At the top level, "v" and "type" are the envelope (checked by the caller).
static int
s_decode_map (const msgpack_object *obj, const s_schema_t *sc, void *base, const char *path,
              bool top, s_reason_t *r)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a map", path);
    uint64_t seen = 0;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return s_fail (r, SP_MSG_ERR_BAD_FIELD, "map '%s': key %u is not a string",
                           *path ? path : sc->name, i);
        for (size_t j = 0; j < sc->nfields; j++) {
            const s_field_t *f = &sc->fields[j];
            if (!s_key_is_n (&kv->key, f->name, f->nlen))
                continue;
            char sub[S_PATH_MAX];
            s_path (sub, sizeof sub, path, f->name);
            if (seen & (UINT64_C (1) << j))
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': duplicate key", sub);
            seen |= UINT64_C (1) << j;
            int rc = s_decode_field (&kv->val, f, base, sub, r);
            if (rc)
                return rc;
            break;
        }
    }
    for (size_t j = 0; j < sc->nfields; j++) {
        if (sc->fields[j].required && !(seen & (UINT64_C (1) << j))) {
            char sub[S_PATH_MAX];
            return s_fail (r, SP_MSG_ERR_MISSING_FIELD, "%s: missing field '%s'",
                           top ? sc->name : path,
                           s_path (sub, sizeof sub, path, sc->fields[j].name));
        }
    }
    return SP_MSG_OK;
}

//  Find key name in map obj. Returns the number of matches (0, 1 or more)
//  and the first value in *val.
static int
s_find (const msgpack_object *obj, const char *name, const msgpack_object **val)
{
    int found = 0;
    *val = NULL;
    for (uint32_t i = 0; i < obj->via.map.size; i++)
        if (s_key_is_n (&obj->via.map.ptr[i].key, name, strlen (name))) {
            if (!found)
                *val = &obj->via.map.ptr[i].val;
            found++;
        }
    return found;
}

//  Precheck, unpack and check the envelope. On SP_MSG_OK *type_name points
//  to the (not NUL-terminated) type string of *type_len bytes in the frame,
//  and the caller must msgpack_unpacked_destroy (up).
static int
s_open_frame (const uint8_t *data, size_t size, size_t max_size, msgpack_unpacked *up,
              const char **type_name, size_t *type_len, s_reason_t *r)
{
    if (!data && size > 0)
        return s_fail (r, SP_MSG_ERR_INVAL, "no data");
    if (size > max_size)
        return s_fail (r, SP_MSG_ERR_TOO_BIG, "frame of %zu bytes above the limit of %zu", size,
                       max_size);
    int rc = sp_msg_precheck (data, size, r->buf, r->size);
    if (rc)
        return rc;

    msgpack_unpacked_init (up);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next (up, (const char *) data, size, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
        rc = s_fail (r, SP_MSG_ERR_NOMEM, "out of memory unpacking");
    else if (ur == MSGPACK_UNPACK_CONTINUE)
        rc = s_fail (r, SP_MSG_ERR_TRUNCATED, "frame ends early");
    else if (ur != MSGPACK_UNPACK_SUCCESS && ur != MSGPACK_UNPACK_EXTRA_BYTES)
        rc = s_fail (r, SP_MSG_ERR_MALFORMED, "invalid msgpack");
    else if (off != size)
        rc = s_fail (r, SP_MSG_ERR_TRAILING, "%zu bytes after the message", size - off);
    if (rc) {
        msgpack_unpacked_destroy (up);
        return rc;
    }

    const msgpack_object *obj = &up->data;
    const msgpack_object *v = NULL, *t = NULL;
    int nv = 0, nt = 0;
    if (obj->type != MSGPACK_OBJECT_MAP)
        rc = s_fail (r, SP_MSG_ERR_NOT_MAP, "message is not a map");
    else if ((nv = s_find (obj, "v", &v)) == 0)
        rc = s_fail (r, SP_MSG_ERR_MISSING_FIELD, "missing field 'v'");
    else if (nv > 1)
        rc = s_fail (r, SP_MSG_ERR_BAD_FIELD, "field 'v': duplicate key");
    else if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != SP_MSG_VERSION)
        rc = s_fail (r, SP_MSG_ERR_BAD_VERSION, "field 'v': not version %d", SP_MSG_VERSION);
    else if ((nt = s_find (obj, "type", &t)) == 0)
        rc = s_fail (r, SP_MSG_ERR_UNKNOWN_TYPE, "missing field 'type'");
    else if (nt > 1)
        rc = s_fail (r, SP_MSG_ERR_BAD_FIELD, "field 'type': duplicate key");
    else if (t->type != MSGPACK_OBJECT_STR)
        rc = s_fail (r, SP_MSG_ERR_UNKNOWN_TYPE, "field 'type': not a string");
    if (rc) {
        msgpack_unpacked_destroy (up);
        return rc;
    }
    *type_name = t->via.str.ptr;
    *type_len = t->via.str.size;
    return SP_MSG_OK;
}

//  A printable, bounded copy of a peer-supplied type name for the reason.
static void
s_sanitize (const char *s, size_t n, char *out, size_t out_size)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < out_size && i < 32; i++) {
        unsigned char c = (unsigned char) s[i];
        out[j++] = (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') ? (char) c : '?';
    }
    out[j] = '\0';
}

int
sp_msg_decode (const uint8_t *data, size_t size, size_t max_size, sp_msg_t **msg, char *reason,
               size_t reason_size)
{
    s_reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!msg)
        return s_fail (&r, SP_MSG_ERR_INVAL, "no output");
    *msg = NULL;
    if (max_size == 0 || max_size > SP_MSG_MAX_FRAME)
        max_size = SP_MSG_MAX_FRAME;

    msgpack_unpacked up;
    const char *tname;
    size_t tlen;
    int rc = s_open_frame (data, size, max_size, &up, &tname, &tlen, &r);
    if (rc)
        return rc;

    sp_msg_type_t type = SP_MSG_NONE;
    for (int i = 1; i < SP_MSG_TYPE_COUNT; i++) {
        const char *name = s_msg_schemas[i].name;
        if (strlen (name) == tlen && memcmp (name, tname, tlen) == 0) {
            type = (sp_msg_type_t) i;
            break;
        }
    }
    if (type == SP_MSG_NONE) {
        char clean[40];
        s_sanitize (tname, tlen, clean, sizeof clean);
        msgpack_unpacked_destroy (&up);
        return s_fail (&r, SP_MSG_ERR_UNKNOWN_TYPE, "unknown type '%s'", clean);
    }
    sp_msg_t *self = sp_msg_new (type);
    if (!self) {
        msgpack_unpacked_destroy (&up);
        return s_fail (&r, SP_MSG_ERR_NOMEM, "out of memory");
    }
    rc = s_decode_map (&up.data, &s_msg_schemas[type], self, "", true, &r);
    msgpack_unpacked_destroy (&up);
    if (rc) {
        sp_msg_destroy (&self);
        return rc;
    }
    *msg = self;
    return SP_MSG_OK;
}

int
sp_payload_decode (const uint8_t *data, size_t size, sp_payload_t **payload, char *reason,
                   size_t reason_size)
{
    s_reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!payload)
        return s_fail (&r, SP_MSG_ERR_INVAL, "no output");
    *payload = NULL;

    msgpack_unpacked up;
    const char *tname;
    size_t tlen;
    int rc = s_open_frame (data, size, SP_PAYLOAD_MAX_FRAME, &up, &tname, &tlen, &r);
    if (rc)
        return rc;
    if (tlen != strlen ("payload") || memcmp (tname, "payload", tlen) != 0) {
        char clean[40];
        s_sanitize (tname, tlen, clean, sizeof clean);
        msgpack_unpacked_destroy (&up);
        return s_fail (&r, SP_MSG_ERR_UNKNOWN_TYPE, "type '%s' is not 'payload'", clean);
    }
    sp_payload_t *self = sp_payload_new ();
    if (!self) {
        msgpack_unpacked_destroy (&up);
        return s_fail (&r, SP_MSG_ERR_NOMEM, "out of memory");
    }
    rc = s_decode_map (&up.data, &s_payload, self, "", true, &r);
    msgpack_unpacked_destroy (&up);
    if (rc) {
        sp_payload_destroy (&self);
        return rc;
    }
    *payload = self;
    return SP_MSG_OK;
}

/* ================================================================ encode */

static int s_encode_map (msgpack_packer *pk, const s_schema_t *sc, const void *base,
                         const char *path, const char *type_name, s_reason_t *r);

//  Whether field f is written for this struct.
static bool
s_present (const s_field_t *f, const void *base)
{
    const void *p = s_cat (base, f->off);
    switch (f->kind) {
        case K_STR:  //  a required NULL string is reported by s_encode_str
        case K_BIN:
            return f->required || *(void *const *) p != NULL;
        case K_STRV:
        case K_MAPV:
            return f->required || *(const size_t *) s_cat (base, f->aux) > 0;
        default:  //  scalars and maps: required, or flagged
            return f->required || (f->aux != S_NO_AUX && *(const bool *) s_cat (base, f->aux));
    }
}

#define S_PACK(expr)                                                                               \
    do {                                                                                           \
        if ((expr) != 0)                                                                           \
            return s_fail (r, SP_MSG_ERR_NOMEM, "out of memory encoding");                         \
    } while (0)

static int
s_encode_str (msgpack_packer *pk, const char *s, uint64_t max, const char *const *allowed,
              const char *path, s_reason_t *r)
{
    if (!s)
        return s_fail (r, SP_MSG_ERR_MISSING_FIELD, "field '%s': NULL string", path);
    size_t n = strlen (s);
    if (n > max)
        return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': string of %zu bytes above %llu", path,
                       n, (unsigned long long) max);
    if (allowed && !s_allowed (allowed, s, n))
        return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': value not allowed", path);
    S_PACK (msgpack_pack_str (pk, n));
    S_PACK (msgpack_pack_str_body (pk, s, n));
    return SP_MSG_OK;
}

static int
s_encode_field (msgpack_packer *pk, const s_field_t *f, const void *base, const char *path,
                s_reason_t *r)
{
    const void *p = s_cat (base, f->off);
    switch (f->kind) {
        case K_STR:
            return s_encode_str (pk, *(char *const *) p, f->max, f->allowed, path, r);

        case K_UINT: {
            uint64_t u = *(const uint64_t *) p;
            if (u > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %llu above %llu", path,
                               (unsigned long long) u, (unsigned long long) f->max);
            S_PACK (msgpack_pack_uint64 (pk, u));
            return SP_MSG_OK;
        }

        case K_BOOL:
            S_PACK (*(const bool *) p ? msgpack_pack_true (pk) : msgpack_pack_false (pk));
            return SP_MSG_OK;

        case K_FLOAT: {
            double d = *(const double *) p;
            if (!isfinite (d) || d < f->fmin || d > f->fmax)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': number out of range", path);
            S_PACK (msgpack_pack_double (pk, d));
            return SP_MSG_OK;
        }

        case K_BIN: {
            const uint8_t *bin = *(uint8_t *const *) p;
            size_t n = *(const size_t *) s_cat (base, f->aux);
            if (!bin && n > 0)
                return s_fail (r, SP_MSG_ERR_INVAL, "field '%s': NULL bin of %zu bytes", path, n);
            if (n > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': bin of %zu bytes above %llu",
                               path, n, (unsigned long long) f->max);
            S_PACK (msgpack_pack_bin (pk, n));
            if (n > 0)
                S_PACK (msgpack_pack_bin_body (pk, bin, n));
            return SP_MSG_OK;
        }

        case K_STRV: {
            char *const *v = *(char **const *) p;
            size_t n = *(const size_t *) s_cat (base, f->aux);
            if (n < f->min || n > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD,
                               "field '%s': %zu entries, not within %llu..%llu", path, n,
                               (unsigned long long) f->min, (unsigned long long) f->max);
            if (!v && n > 0)
                return s_fail (r, SP_MSG_ERR_INVAL, "field '%s': NULL array", path);
            S_PACK (msgpack_pack_array (pk, n));
            for (size_t i = 0; i < n; i++) {
                char sub[S_PATH_MAX];
                int rc = s_encode_str (pk, v[i], f->elem_max, NULL,
                                       s_path_index (sub, sizeof sub, path, i), r);
                if (rc)
                    return rc;
            }
            return SP_MSG_OK;
        }

        case K_MAP:
            return s_encode_map (pk, f->sub, p, path, NULL, r);

        case K_MAPV: {
            const char *arr = *(char *const *) p;
            size_t n = *(const size_t *) s_cat (base, f->aux);
            if (n > f->max)
                return s_fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %zu entries above %llu", path,
                               n, (unsigned long long) f->max);
            if (!arr && n > 0)
                return s_fail (r, SP_MSG_ERR_INVAL, "field '%s': NULL array", path);
            S_PACK (msgpack_pack_array (pk, n));
            for (size_t i = 0; i < n; i++) {
                char sub[S_PATH_MAX];
                int rc = s_encode_map (pk, f->sub, arr + i * f->sub->size,
                                       s_path_index (sub, sizeof sub, path, i), NULL, r);
                if (rc)
                    return rc;
            }
            return SP_MSG_OK;
        }
    }
    return s_fail (r, SP_MSG_ERR_INVAL, "field '%s': unknown kind", path);
}

//  Pack base as a map; with type_name, the envelope "v" and "type" first.
static int
s_encode_map (msgpack_packer *pk, const s_schema_t *sc, const void *base, const char *path,
              const char *type_name, s_reason_t *r)
{
    size_t n = type_name ? 2 : 0;
    for (size_t i = 0; i < sc->nfields; i++)
        if (s_present (&sc->fields[i], base))
            n++;
    S_PACK (msgpack_pack_map (pk, n));
    if (type_name) {
        S_PACK (msgpack_pack_str_with_body (pk, "v", 1));
        S_PACK (msgpack_pack_uint8 (pk, SP_MSG_VERSION));
        S_PACK (msgpack_pack_str_with_body (pk, "type", 4));
        S_PACK (msgpack_pack_str_with_body (pk, type_name, strlen (type_name)));
    }
    for (size_t i = 0; i < sc->nfields; i++) {
        const s_field_t *f = &sc->fields[i];
        if (!s_present (f, base))
            continue;
        char sub[S_PATH_MAX];
        s_path (sub, sizeof sub, path, f->name);
        S_PACK (msgpack_pack_str_with_body (pk, f->name, f->nlen));
        int rc = s_encode_field (pk, f, base, sub, r);
        if (rc)
            return rc;
    }
    return SP_MSG_OK;
}

//  Encode base with schema sc and check the result would pass the precheck
//  and fit max_frame.
static int
s_encode (const s_schema_t *sc, const void *base, size_t max_frame, uint8_t **data, size_t *size,
          s_reason_t *r)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    int rc = s_encode_map (&pk, sc, base, "", sc->name, r);
    if (rc == SP_MSG_OK && sbuf.size > max_frame)
        rc = s_fail (r, SP_MSG_ERR_TOO_BIG, "encoded %s of %zu bytes above the limit of %zu",
                     sc->name, sbuf.size, max_frame);
    if (rc == SP_MSG_OK)
        rc = sp_msg_precheck ((const uint8_t *) sbuf.data, sbuf.size, r->buf, r->size);
    if (rc) {
        msgpack_sbuffer_destroy (&sbuf);
        return rc;
    }
    //  The buffer starts at MSGPACK_SBUFFER_INIT_SIZE (8 KiB) and grows by
    //  doubling: hand back only what is used (a payload is ~300 bytes, and
    //  the analyzer holds one per track of a playlist while it creates the
    //  job: 1,000 tracks held 8 MB instead of 0.3 MB).
    *size = sbuf.size;
    size_t used = sbuf.size ? sbuf.size : 1;
    if (sbuf.alloc > used) {
        char *fit = realloc (sbuf.data, used);
        if (fit) {
            sbuf.data = fit;
            sbuf.alloc = used;
        }
    }
    *data = (uint8_t *) msgpack_sbuffer_release (&sbuf);
    return SP_MSG_OK;
}

int
sp_msg_encode_r (const sp_msg_t *msg, uint8_t **data, size_t *size, char *reason,
                 size_t reason_size)
{
    s_reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!msg || !data || !size)
        return s_fail (&r, SP_MSG_ERR_INVAL, "NULL argument");
    *data = NULL;
    *size = 0;
    if (msg->type <= SP_MSG_NONE || msg->type >= SP_MSG_TYPE_COUNT)
        return s_fail (&r, SP_MSG_ERR_INVAL, "unknown message type %d", (int) msg->type);
    return s_encode (&s_msg_schemas[msg->type], msg, SP_MSG_MAX_FRAME, data, size, &r);
}

int
sp_msg_encode (const sp_msg_t *msg, uint8_t **data, size_t *size)
{
    return sp_msg_encode_r (msg, data, size, NULL, 0);
}

int
sp_payload_encode (const sp_payload_t *payload, uint8_t **data, size_t *size, char *reason,
                   size_t reason_size)
{
    s_reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!payload || !data || !size)
        return s_fail (&r, SP_MSG_ERR_INVAL, "NULL argument");
    *data = NULL;
    *size = 0;
    return s_encode (&s_payload, payload, SP_PAYLOAD_MAX_FRAME, data, size, &r);
}

/* ================================================================ API */

const char *
sp_msg_strerror (int rc)
{
    switch (rc) {
        case SP_MSG_OK:
            return "ok";
        case SP_MSG_ERR_TRUNCATED:
            return "truncated";
        case SP_MSG_ERR_TOO_BIG:
            return "too big";
        case SP_MSG_ERR_TOO_DEEP:
            return "too deep";
        case SP_MSG_ERR_TRAILING:
            return "trailing bytes";
        case SP_MSG_ERR_NOT_MAP:
            return "not a map";
        case SP_MSG_ERR_BAD_VERSION:
            return "bad version";
        case SP_MSG_ERR_UNKNOWN_TYPE:
            return "unknown type";
        case SP_MSG_ERR_MISSING_FIELD:
            return "missing field";
        case SP_MSG_ERR_BAD_FIELD:
            return "bad field";
        case SP_MSG_ERR_MALFORMED:
            return "malformed";
        case SP_MSG_ERR_NOMEM:
            return "out of memory";
        case SP_MSG_ERR_INVAL:
            return "invalid argument";
        default:
            return "unknown error";
    }
}

const char *
sp_msg_type_name (sp_msg_type_t type)
{
    if (type <= SP_MSG_NONE || type >= SP_MSG_TYPE_COUNT)
        return NULL;
    return s_msg_schemas[type].name;
}

sp_msg_type_t
sp_msg_type_from_name (const char *name)
{
    if (name)
        for (int i = 1; i < SP_MSG_TYPE_COUNT; i++)
            if (strcmp (s_msg_schemas[i].name, name) == 0)
                return (sp_msg_type_t) i;
    return SP_MSG_NONE;
}

sp_msg_t *
sp_msg_new (sp_msg_type_t type)
{
    sp_msg_t *self = calloc (1, sizeof (sp_msg_t));
    if (self)
        self->type = type;
    return self;
}

void
sp_msg_clear (sp_msg_t *msg)
{
    if (!msg)
        return;
    free (msg->source);
    free (msg->name);
    free (msg->content);
    free (msg->job);
    free (msg->library_note);
    s_free_strv (msg->notes, msg->notes_count);
    free (msg->json);
    free (msg->message);
    free (msg->code);
    free (msg->provider);
    free (msg->access_token);
    free (msg->refresh_token);
    free (msg->scope);
    free (msg->role);
    free (msg->worker);
    if (msg->held) {
        for (size_t i = 0; i < msg->held_count; i++)
            free (msg->held[i].id);
        free (msg->held);
    }
    free (msg->id);
    free (msg->stage);
    free (msg->payload);
    free (msg->next);
    free (msg->reason);
    free (msg->state);
    free (msg->kind);
    free (msg->track);
    free (msg->title);
    memset (msg, 0, sizeof *msg);
}

void
sp_msg_destroy (sp_msg_t **self_p)
{
    if (self_p && *self_p) {
        sp_msg_clear (*self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

int
sp_msg_strset (char **field, const char *value)
{
    if (!field)
        return SP_MSG_ERR_INVAL;
    char *copy = NULL;
    if (value && !(copy = s_strdup (value)))
        return SP_MSG_ERR_NOMEM;
    free (*field);
    *field = copy;
    return SP_MSG_OK;
}

int
sp_msg_strv_add (char ***vec, size_t *count, const char *s)
{
    if (!vec || !count || !s || *count >= SIZE_MAX / sizeof (char *) - 1)
        return SP_MSG_ERR_INVAL;
    char *copy = s_strdup (s);
    if (!copy)
        return SP_MSG_ERR_NOMEM;
    char **grown = realloc (*vec, (*count + 1) * sizeof (char *));
    if (!grown) {
        free (copy);
        return SP_MSG_ERR_NOMEM;
    }
    grown[(*count)++] = copy;
    *vec = grown;
    return SP_MSG_OK;
}

sp_payload_t *
sp_payload_new (void)
{
    return calloc (1, sizeof (sp_payload_t));
}

void
sp_payload_destroy (sp_payload_t **self_p)
{
    if (self_p && *self_p) {
        s_free_fields (&s_payload, *self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

void
sp_track_clear (sp_track_t *track)
{
    if (track) {
        s_free_fields (&s_track, track);
        memset (track, 0, sizeof *track);
    }
}

int
sp_track_copy (sp_track_t *dst, const sp_track_t *src)
{
    if (!dst || !src)
        return SP_MSG_ERR_INVAL;
    int rc = s_copy_fields (&s_track, dst, src);
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
    int rc = s_copy_fields (&s_candidate, &copy, candidate);
    if (rc) {
        s_free_fields (&s_candidate, &copy);
        return rc;
    }
    sp_candidate_t *grown =
        realloc (payload->candidates, (payload->candidates_count + 1) * sizeof (sp_candidate_t));
    if (!grown) {
        s_free_fields (&s_candidate, &copy);
        return SP_MSG_ERR_NOMEM;
    }
    grown[payload->candidates_count++] = copy;
    payload->candidates = grown;
    return SP_MSG_OK;
}
