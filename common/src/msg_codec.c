/*  msg_codec.c: the generic walker of the table-driven msgpack codec (see
    msg_schema.h): free, null and deep-copy any schema's struct; decode a
    frame (sp_msg_precheck on the raw bytes, msgpack_unpack_next, whole frame
    consumed, envelope "v" and "type", then the table; every string, array
    and bin copied out of the frame); encode a struct with its envelope.
    The schemas themselves live with their types: msg.c (messages) and
    payload.c (the stage payload).
*/
#include "msg_schema.h"
#include "soulpipe/msg.h"

#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ helpers */

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

void
sp_msg__free_strv (char **v, size_t n)
{
    if (v) {
        for (size_t i = 0; i < n; i++)
            free (v[i]);
        free (v);
    }
}

//  Free every pointer the schema describes in base (does not zero base).
void
sp_msg__free_fields (const sp_msg__schema_t *sc, void *base)
{
    for (size_t i = 0; i < sc->nfields; i++) {
        const sp_msg__field_t *f = &sc->fields[i];
        void *p = s_at (base, f->off);
        switch (f->kind) {
            case K_STR:
            case K_BIN:
                free (*(void **) p);
                break;
            case K_STRV:
                sp_msg__free_strv (*(char ***) p, *(size_t *) s_at (base, f->aux));
                break;
            case K_MAP:
                sp_msg__free_fields (f->sub, p);
                break;
            case K_MAPV: {
                char *arr = *(char **) p;
                size_t n = *(size_t *) s_at (base, f->aux);
                if (arr) {
                    for (size_t j = 0; j < n; j++)
                        sp_msg__free_fields (f->sub, arr + j * f->sub->size);
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
s_null_fields (const sp_msg__schema_t *sc, void *base)
{
    for (size_t i = 0; i < sc->nfields; i++) {
        const sp_msg__field_t *f = &sc->fields[i];
        void *p = s_at (base, f->off);
        switch (f->kind) {
            case K_STR:
            case K_BIN:
            case K_STRV:
            case K_MAPV:
                *(void **) p = NULL;
                if (f->aux != SP_MSG__NO_AUX)
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
int
sp_msg__copy_fields (const sp_msg__schema_t *sc, void *dst, const void *src)
{
    memcpy (dst, src, sc->size);
    s_null_fields (sc, dst);
    for (size_t i = 0; i < sc->nfields; i++) {
        const sp_msg__field_t *f = &sc->fields[i];
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
                int rc = sp_msg__copy_fields (f->sub, d, s);
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
                        int rc = sp_msg__copy_fields (f->sub, copy + j * f->sub->size,
                                                      arr + j * f->sub->size);
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

//  Validate a string object against bounds; on success copy it into *out.
static int
s_decode_str (const msgpack_object *v, uint64_t max, const char *const *allowed, const char *path,
              char **out, sp_msg__reason_t *r)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a string", path);
    size_t n = v->via.str.size;
    if (n > max)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': string of %zu bytes above %llu",
                             path, n, (unsigned long long) max);
    if (n > 0 && memchr (v->via.str.ptr, '\0', n))
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': string contains a NUL byte",
                             path);
    if (allowed && !s_allowed (allowed, v->via.str.ptr, n))
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': value not allowed", path);
    if (!(*out = s_strndup (v->via.str.ptr, n)))
        return sp_msg__fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
    return SP_MSG_OK;
}

static int
s_decode_float (const msgpack_object *v, const sp_msg__field_t *f, double *out, const char *path,
                sp_msg__reason_t *r)
{
    double d;
    if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64)
        d = v->via.f64;
    else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        d = (double) v->via.u64;
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        d = (double) v->via.i64;
    else
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a number", path);
    if (!isfinite (d) || d < f->fmin || d > f->fmax)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': number out of range", path);
    *out = d;
    return SP_MSG_OK;
}

static int
s_decode_bin (const msgpack_object *v, const sp_msg__field_t *f, void *base, const char *path,
              sp_msg__reason_t *r)
{
    if (v->type != MSGPACK_OBJECT_BIN)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a bin", path);
    size_t n = v->via.bin.size;
    if (n > f->max)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': bin of %zu bytes above %llu",
                             path, n, (unsigned long long) f->max);
    uint8_t *copy = malloc (n ? n : 1);
    if (!copy)
        return sp_msg__fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
    if (n > 0)
        memcpy (copy, v->via.bin.ptr, n);
    *(uint8_t **) s_at (base, f->off) = copy;
    *(size_t *) s_at (base, f->aux) = n;
    return SP_MSG_OK;
}

static int
s_decode_strv (const msgpack_object *v, const sp_msg__field_t *f, void *base, const char *path,
               sp_msg__reason_t *r)
{
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not an array", path);
    size_t n = v->via.array.size;
    if (n < f->min || n > f->max)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD,
                             "field '%s': %zu entries, not within %llu..%llu", path, n,
                             (unsigned long long) f->min, (unsigned long long) f->max);
    if (n == 0)
        return SP_MSG_OK;
    char **vec = calloc (n, sizeof (char *));
    if (!vec)
        return sp_msg__fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
    *(char ***) s_at (base, f->off) = vec;
    *(size_t *) s_at (base, f->aux) = n;
    for (size_t i = 0; i < n; i++) {
        char sub[S_PATH_MAX];
        int rc = s_decode_str (&v->via.array.ptr[i], f->elem_max, NULL,
                               s_path_index (sub, sizeof sub, path, i), &vec[i], r);
        if (rc)
            return rc;
    }
    return SP_MSG_OK;
}

static int
s_decode_mapv (const msgpack_object *v, const sp_msg__field_t *f, void *base, const char *path,
               sp_msg__reason_t *r)
{
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not an array", path);
    size_t n = v->via.array.size;
    if (n > f->max)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %zu entries above %llu", path, n,
                             (unsigned long long) f->max);
    if (n == 0)
        return SP_MSG_OK;
    char *arr = calloc (n, f->sub->size);
    if (!arr)
        return sp_msg__fail (r, SP_MSG_ERR_NOMEM, "field '%s': out of memory", path);
    *(char **) s_at (base, f->off) = arr;
    *(size_t *) s_at (base, f->aux) = n;
    for (size_t i = 0; i < n; i++) {
        char sub[S_PATH_MAX];
        int rc = sp_msg__decode_map (&v->via.array.ptr[i], f->sub, arr + i * f->sub->size,
                                     s_path_index (sub, sizeof sub, path, i), false, r);
        if (rc)
            return rc;
    }
    return SP_MSG_OK;
}

//  Decode one field's value v into base (the kinds' checks are above).
static int
s_decode_field (const msgpack_object *v, const sp_msg__field_t *f, void *base, const char *path,
                sp_msg__reason_t *r)
{
    void *p = s_at (base, f->off);
    if (v->type == MSGPACK_OBJECT_NIL) {
        //  Some encoders write nil for "absent": accept it for optional fields.
        if (f->required)
            return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': null", path);
        return SP_MSG_OK;
    }
    int rc = SP_MSG_OK;
    switch (f->kind) {
        case K_STR:
            return s_decode_str (v, f->max, f->allowed, path, (char **) p, r);
        case K_UINT:
            if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not an unsigned integer",
                                     path);
            if (v->via.u64 > f->max)
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %llu above %llu", path,
                                     (unsigned long long) v->via.u64, (unsigned long long) f->max);
            *(uint64_t *) p = v->via.u64;
            break;
        case K_BOOL:
            if (v->type != MSGPACK_OBJECT_BOOLEAN)
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a boolean", path);
            *(bool *) p = v->via.boolean;
            break;
        case K_FLOAT:
            rc = s_decode_float (v, f, (double *) p, path, r);
            break;
        case K_BIN:
            return s_decode_bin (v, f, base, path, r);
        case K_STRV:
            return s_decode_strv (v, f, base, path, r);
        case K_MAP:
            rc = sp_msg__decode_map (v, f->sub, p, path, false, r);
            if (rc == SP_MSG_OK && f->aux != SP_MSG__NO_AUX)
                *(bool *) s_at (base, f->aux) = true;
            return rc;
        case K_MAPV:
            return s_decode_mapv (v, f, base, path, r);
    }
    //  Scalars with a has_ flag: mark present (for required ones too).
    if (rc == SP_MSG_OK && f->aux != SP_MSG__NO_AUX)
        *(bool *) s_at (base, f->aux) = true;
    return rc;
}

//  Decode the map obj into base with schema sc. Unknown keys are ignored;
//  a known key twice, a non-string key or a missing required field fail.
//  At the top level, "v" and "type" are the envelope (checked by the caller).
int
sp_msg__decode_map (const msgpack_object *obj, const sp_msg__schema_t *sc, void *base,
                    const char *path, bool top, sp_msg__reason_t *r)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': not a map", path);
    uint64_t seen = 0;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "map '%s': key %u is not a string",
                                 *path ? path : sc->name, i);
        for (size_t j = 0; j < sc->nfields; j++) {
            const sp_msg__field_t *f = &sc->fields[j];
            if (!s_key_is_n (&kv->key, f->name, f->nlen))
                continue;
            char sub[S_PATH_MAX];
            s_path (sub, sizeof sub, path, f->name);
            if (seen & (UINT64_C (1) << j))
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': duplicate key", sub);
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
            return sp_msg__fail (r, SP_MSG_ERR_MISSING_FIELD, "%s: missing field '%s'",
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
int
sp_msg__open_frame (const uint8_t *data, size_t size, size_t max_size, msgpack_unpacked *up,
                    const char **type_name, size_t *type_len, sp_msg__reason_t *r)
{
    if (!data && size > 0)
        return sp_msg__fail (r, SP_MSG_ERR_INVAL, "no data");
    if (size > max_size)
        return sp_msg__fail (r, SP_MSG_ERR_TOO_BIG, "frame of %zu bytes above the limit of %zu",
                             size, max_size);
    int rc = sp_msg_precheck (data, size, r->buf, r->size);
    if (rc)
        return rc;

    msgpack_unpacked_init (up);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next (up, (const char *) data, size, &off);
    if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
        rc = sp_msg__fail (r, SP_MSG_ERR_NOMEM, "out of memory unpacking");
    else if (ur == MSGPACK_UNPACK_CONTINUE)
        rc = sp_msg__fail (r, SP_MSG_ERR_TRUNCATED, "frame ends early");
    else if (ur != MSGPACK_UNPACK_SUCCESS && ur != MSGPACK_UNPACK_EXTRA_BYTES)
        rc = sp_msg__fail (r, SP_MSG_ERR_MALFORMED, "invalid msgpack");
    else if (off != size)
        rc = sp_msg__fail (r, SP_MSG_ERR_TRAILING, "%zu bytes after the message", size - off);
    if (rc) {
        msgpack_unpacked_destroy (up);
        return rc;
    }

    const msgpack_object *obj = &up->data;
    const msgpack_object *v = NULL, *t = NULL;
    int nv = 0, nt = 0;
    if (obj->type != MSGPACK_OBJECT_MAP)
        rc = sp_msg__fail (r, SP_MSG_ERR_NOT_MAP, "message is not a map");
    else if ((nv = s_find (obj, "v", &v)) == 0)
        rc = sp_msg__fail (r, SP_MSG_ERR_MISSING_FIELD, "missing field 'v'");
    else if (nv > 1)
        rc = sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field 'v': duplicate key");
    else if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != SP_MSG_VERSION)
        rc = sp_msg__fail (r, SP_MSG_ERR_BAD_VERSION, "field 'v': not version %d", SP_MSG_VERSION);
    else if ((nt = s_find (obj, "type", &t)) == 0)
        rc = sp_msg__fail (r, SP_MSG_ERR_UNKNOWN_TYPE, "missing field 'type'");
    else if (nt > 1)
        rc = sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field 'type': duplicate key");
    else if (t->type != MSGPACK_OBJECT_STR)
        rc = sp_msg__fail (r, SP_MSG_ERR_UNKNOWN_TYPE, "field 'type': not a string");
    if (rc) {
        msgpack_unpacked_destroy (up);
        return rc;
    }
    *type_name = t->via.str.ptr;
    *type_len = t->via.str.size;
    return SP_MSG_OK;
}

//  A printable, bounded copy of a peer-supplied type name for the reason.
void
sp_msg__sanitize (const char *s, size_t n, char *out, size_t out_size)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < out_size && i < 32; i++) {
        unsigned char c = (unsigned char) s[i];
        out[j++] = (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') ? (char) c : '?';
    }
    out[j] = '\0';
}

/* ================================================================ encode */

static int s_encode_map (msgpack_packer *pk, const sp_msg__schema_t *sc, const void *base,
                         const char *path, const char *type_name, sp_msg__reason_t *r);

//  Whether field f is written for this struct.
static bool
s_present (const sp_msg__field_t *f, const void *base)
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
            return f->required ||
                   (f->aux != SP_MSG__NO_AUX && *(const bool *) s_cat (base, f->aux));
    }
}

#define S_PACK(expr)                                                                               \
    do {                                                                                           \
        if ((expr) != 0)                                                                           \
            return sp_msg__fail (r, SP_MSG_ERR_NOMEM, "out of memory encoding");                   \
    } while (0)

static int
s_encode_str (msgpack_packer *pk, const char *s, uint64_t max, const char *const *allowed,
              const char *path, sp_msg__reason_t *r)
{
    if (!s)
        return sp_msg__fail (r, SP_MSG_ERR_MISSING_FIELD, "field '%s': NULL string", path);
    size_t n = strlen (s);
    if (n > max)
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': string of %zu bytes above %llu",
                             path, n, (unsigned long long) max);
    if (allowed && !s_allowed (allowed, s, n))
        return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': value not allowed", path);
    S_PACK (msgpack_pack_str (pk, n));
    S_PACK (msgpack_pack_str_body (pk, s, n));
    return SP_MSG_OK;
}

static int
s_encode_field (msgpack_packer *pk, const sp_msg__field_t *f, const void *base, const char *path,
                sp_msg__reason_t *r)
{
    const void *p = s_cat (base, f->off);
    switch (f->kind) {
        case K_STR:
            return s_encode_str (pk, *(char *const *) p, f->max, f->allowed, path, r);

        case K_UINT: {
            uint64_t u = *(const uint64_t *) p;
            if (u > f->max)
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %llu above %llu", path,
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
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': number out of range",
                                     path);
            S_PACK (msgpack_pack_double (pk, d));
            return SP_MSG_OK;
        }

        case K_BIN: {
            const uint8_t *bin = *(uint8_t *const *) p;
            size_t n = *(const size_t *) s_cat (base, f->aux);
            if (!bin && n > 0)
                return sp_msg__fail (r, SP_MSG_ERR_INVAL, "field '%s': NULL bin of %zu bytes", path,
                                     n);
            if (n > f->max)
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD,
                                     "field '%s': bin of %zu bytes above %llu", path, n,
                                     (unsigned long long) f->max);
            S_PACK (msgpack_pack_bin (pk, n));
            if (n > 0)
                S_PACK (msgpack_pack_bin_body (pk, bin, n));
            return SP_MSG_OK;
        }

        case K_STRV: {
            char *const *v = *(char **const *) p;
            size_t n = *(const size_t *) s_cat (base, f->aux);
            if (n < f->min || n > f->max)
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD,
                                     "field '%s': %zu entries, not within %llu..%llu", path, n,
                                     (unsigned long long) f->min, (unsigned long long) f->max);
            if (!v && n > 0)
                return sp_msg__fail (r, SP_MSG_ERR_INVAL, "field '%s': NULL array", path);
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
                return sp_msg__fail (r, SP_MSG_ERR_BAD_FIELD, "field '%s': %zu entries above %llu",
                                     path, n, (unsigned long long) f->max);
            if (!arr && n > 0)
                return sp_msg__fail (r, SP_MSG_ERR_INVAL, "field '%s': NULL array", path);
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
    return sp_msg__fail (r, SP_MSG_ERR_INVAL, "field '%s': unknown kind", path);
}

//  Pack base as a map; with type_name, the envelope "v" and "type" first.
static int
s_encode_map (msgpack_packer *pk, const sp_msg__schema_t *sc, const void *base, const char *path,
              const char *type_name, sp_msg__reason_t *r)
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
        const sp_msg__field_t *f = &sc->fields[i];
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
int
sp_msg__encode (const sp_msg__schema_t *sc, const void *base, size_t max_frame, uint8_t **data,
                size_t *size, sp_msg__reason_t *r)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    int rc = s_encode_map (&pk, sc, base, "", sc->name, r);
    if (rc == SP_MSG_OK && sbuf.size > max_frame)
        rc = sp_msg__fail (r, SP_MSG_ERR_TOO_BIG, "encoded %s of %zu bytes above the limit of %zu",
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
