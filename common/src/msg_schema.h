/*  msg_schema.h: the table-driven msgpack codec behind msg.c (the envelope
    and its message types) and payload.c (the stage payload). Internal to
    common/: not for services.

    A schema is a table of field descriptors (wire name = struct member
    name, kind, bound, offsets of the value and of its has_/count/size
    companion); one generic walker (msg_codec.c) decodes, encodes, copies
    and frees any table. The rules it enforces are the ones msg.h states.
*/
#ifndef SOULPIPE_MSG_SCHEMA_H
#define SOULPIPE_MSG_SCHEMA_H

#include "soulpipe/err.h"
#include "soulpipe/msg_codes.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    K_STR,   /* char *                                   */
    K_UINT,  /* uint64_t                                 */
    K_BOOL,  /* bool                                     */
    K_FLOAT, /* double                                   */
    K_BIN,   /* uint8_t * + size_t (aux)                 */
    K_STRV,  /* char ** + size_t count (aux)             */
    K_MAP,   /* embedded struct (sub), has flag in aux   */
    K_MAPV   /* struct array (sub) + size_t count (aux)  */
} sp_msg__kind_t;

typedef struct sp_msg__schema_s sp_msg__schema_t;

typedef struct {
    const char *name; /* wire key = struct member name */
    size_t nlen;      /* strlen (name) */
    sp_msg__kind_t kind;
    bool required;
    size_t off;                  /* offset of the value */
    size_t aux;                  /* offset of has_ flag / count / size, or SP_MSG__NO_AUX */
    uint64_t max;                /* max string bytes / uint value / count / bin bytes */
    uint64_t min;                /* min count (K_STRV) */
    uint64_t elem_max;           /* K_STRV: max bytes of one string */
    double fmin, fmax;           /* K_FLOAT bounds */
    const char *const *allowed;  /* K_STR: NULL-terminated allowed values, or NULL */
    const sp_msg__schema_t *sub; /* K_MAP / K_MAPV */
} sp_msg__field_t;

struct sp_msg__schema_s {
    const char *name; /* "submit", "track", ... */
    size_t size;      /* sizeof the struct it describes */
    const sp_msg__field_t *fields;
    size_t nfields; /* ≤ 64 (a bitmask tracks duplicates) */
};

#define SP_MSG__NO_AUX SIZE_MAX

#define FS(T, n, req, mx)                                                                          \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_STR, .required = req,                       \
        .off = offsetof (T, n), .aux = SP_MSG__NO_AUX, .max = (mx)                                 \
    }
#define FE(T, n, req, vals)                                                                        \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_STR, .required = req,                       \
        .off = offsetof (T, n), .aux = SP_MSG__NO_AUX, .max = SP_MSG_MAX_STR, .allowed = vals      \
    }
#define FU(T, n, mx)                                                                               \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_UINT, .required = true,                     \
        .off = offsetof (T, n), .aux = SP_MSG__NO_AUX, .max = (mx)                                 \
    }
#define FUH(T, n, req, mx)                                                                         \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_UINT, .required = req,                      \
        .off = offsetof (T, n), .aux = offsetof (T, has_##n), .max = (mx)                          \
    }
#define FB(T, n)                                                                                   \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_BOOL, .required = true,                     \
        .off = offsetof (T, n), .aux = SP_MSG__NO_AUX                                              \
    }
#define FBO(T, n)                                                                                  \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_BOOL, .required = false,                    \
        .off = offsetof (T, n), .aux = offsetof (T, has_##n)                                       \
    }
#define FF(T, n, lo, hi)                                                                           \
    {                                                                                              \
        .name = #n, .nlen = sizeof (#n) - 1, .kind = K_FLOAT, .required = true,                    \
        .off = offsetof (T, n), .aux = SP_MSG__NO_AUX, .fmin = (lo), .fmax = (hi)                  \
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
        .off = offsetof (T, n), .aux = SP_MSG__NO_AUX, .sub = &(sc)                                \
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

/*  Where a reason goes: the caller's buffer (buf may be NULL). */
typedef struct {
    char *buf;
    size_t size;
} sp_msg__reason_t;

/*  Write a reason (printf-style, through the shared sp_err_set) into r's
    buffer when it has one; the value is code. r must not be NULL. */
#define sp_msg__fail(r, code, ...) (sp_err_set ((r)->buf, (r)->size, __VA_ARGS__), (code))

/*  Free the n strings of v and v. Accepts NULL. */
void sp_msg__free_strv (char **v, size_t n);

/*  Free every pointer the schema describes in base (does not zero base). */
void sp_msg__free_fields (const sp_msg__schema_t *sc, void *base);

/*  Deep copy src into dst (dst's old contents are overwritten, not freed).
    On error dst holds what was copied so far and is safe to free. */
int sp_msg__copy_fields (const sp_msg__schema_t *sc, void *dst, const void *src);

/*  Precheck, unpack and check the envelope ("v", "type") of a frame of at
    most max_size bytes. On SP_MSG_OK *type_name points to the (not
    NUL-terminated) type string of *type_len bytes in the frame, and the
    caller must msgpack_unpacked_destroy (up). */
int sp_msg__open_frame (const uint8_t *data, size_t size, size_t max_size, msgpack_unpacked *up,
                        const char **type_name, size_t *type_len, sp_msg__reason_t *r);

/*  Decode the map obj into base with schema sc. Unknown keys are ignored;
    a known key twice, a non-string key or a missing required field fail.
    At the top level (top), "v" and "type" are the envelope. */
int sp_msg__decode_map (const msgpack_object *obj, const sp_msg__schema_t *sc, void *base,
                        const char *path, bool top, sp_msg__reason_t *r);

/*  A printable, bounded copy of a peer-supplied type name for a reason. */
void sp_msg__sanitize (const char *s, size_t n, char *out, size_t out_size);

/*  Encode base with schema sc (the envelope with sc->name as its type),
    checked to pass the precheck and to fit max_frame. On SP_MSG_OK the
    caller owns *data (free). */
int sp_msg__encode (const sp_msg__schema_t *sc, const void *base, size_t max_frame, uint8_t **data,
                    size_t *size, sp_msg__reason_t *r);

#endif
