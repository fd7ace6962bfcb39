/*  msg_precheck.c: structural check of a raw msgpack frame, done before
    msgpack-c ever sees it.

    msgpack-c 4.0 allocates count * sizeof (msgpack_object) as soon as it
    reads an array or map header, whatever the frame length, so a 5-byte
    frame can ask for ~96 GiB. This walker reads every header itself, with no
    allocation and no recursion, and rejects counts or lengths that cannot
    fit in the bytes left, nesting deeper than SP_MSG_MAX_DEPTH, more than
    SP_MSG_MAX_OBJECTS objects, the reserved byte 0xc1, and any byte after
    the top-level object. A frame that passes can be unpacked with bounded
    memory (about 24 bytes per object plus the zone's chunk).
*/
#include "soulpipe/err.h"
#include "soulpipe/msg_codes.h"

#include <stdbool.h>

//  A reason through the shared setter; the value is code.
#define s_reason(reason, reason_size, code, ...)                                                   \
    (sp_err_set (reason, reason_size, __VA_ARGS__), (code))

/*  Big-endian unsigned of n (1, 2, 4 or 8) bytes at p. */
static uint64_t
s_read_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/*  What a header byte says about the object it starts. */
enum {
    H_LEN = 1,        //  the body length is read from the length field
    H_CONTAINER = 2,  //  an array or map: the field is the item count
    H_MAP = 4,        //  a map (two items per entry)
    H_BAD = 8         //  never used (0xc1)
};

typedef struct {
    uint8_t len_bytes;  //  size of the length/count field after the byte
    uint8_t extra;      //  fixed body bytes (added to the length with H_LEN)
    uint8_t flags;      //  H_*
} s_header_t;

//  The headers 0xc0..0xdf, one row per byte (the msgpack spec's table).
static const s_header_t s_headers[32] = {
    {0, 0, 0},                    //  c0 nil
    {0, 0, H_BAD},                //  c1 never used
    {0, 0, 0},                    //  c2 false
    {0, 0, 0},                    //  c3 true
    {1, 0, H_LEN},                //  c4 bin8
    {2, 0, H_LEN},                //  c5 bin16
    {4, 0, H_LEN},                //  c6 bin32
    {1, 1, H_LEN},                //  c7 ext8 (+ type byte)
    {2, 1, H_LEN},                //  c8 ext16
    {4, 1, H_LEN},                //  c9 ext32
    {0, 4, 0},                    //  ca float32
    {0, 8, 0},                    //  cb float64
    {0, 1, 0},                    //  cc uint8
    {0, 2, 0},                    //  cd uint16
    {0, 4, 0},                    //  ce uint32
    {0, 8, 0},                    //  cf uint64
    {0, 1, 0},                    //  d0 int8
    {0, 2, 0},                    //  d1 int16
    {0, 4, 0},                    //  d2 int32
    {0, 8, 0},                    //  d3 int64
    {0, 2, 0},                    //  d4 fixext1 (type + 1)
    {0, 3, 0},                    //  d5 fixext2
    {0, 5, 0},                    //  d6 fixext4
    {0, 9, 0},                    //  d7 fixext8
    {0, 17, 0},                   //  d8 fixext16
    {1, 0, H_LEN},                //  d9 str8
    {2, 0, H_LEN},                //  da str16
    {4, 0, H_LEN},                //  db str32
    {2, 0, H_CONTAINER},          //  dc array16
    {4, 0, H_CONTAINER},          //  dd array32
    {2, 0, H_CONTAINER | H_MAP},  //  de map16
    {4, 0, H_CONTAINER | H_MAP},  //  df map32
};

//  The header of byte b; fix types carry their count or length in b.
static s_header_t
s_header (uint8_t b, uint64_t *count)
{
    *count = 0;
    if (b <= 0x7f || b >= 0xe0)
        return (s_header_t){0, 0, 0};  //  positive / negative fixint
    if (b <= 0x8f) {
        *count = b & 0x0f;
        return (s_header_t){0, 0, H_CONTAINER | H_MAP};  //  fixmap
    }
    if (b <= 0x9f) {
        *count = b & 0x0f;
        return (s_header_t){0, 0, H_CONTAINER};  //  fixarray
    }
    if (b <= 0xbf)
        return (s_header_t){0, (uint8_t) (b & 0x1f), 0};  //  fixstr
    return s_headers[b - 0xc0];
}

//  A flat walk over the frame (no recursion): left[d] counts the items
//  still to read in the open container at level d+1.
int
sp_msg_precheck (const uint8_t *data, size_t size, char *reason, size_t reason_size)
{
    if (!data && size > 0)
        return s_reason (reason, reason_size, SP_MSG_ERR_INVAL, "no data");
    if (size == 0)
        return s_reason (reason, reason_size, SP_MSG_ERR_TRUNCATED, "empty frame");
    if (size > SP_MSG_MAX_FRAME)
        return s_reason (reason, reason_size, SP_MSG_ERR_TOO_BIG,
                         "frame of %zu bytes above the limit of %u", size,
                         (unsigned) SP_MSG_MAX_FRAME);

    uint64_t left[SP_MSG_MAX_DEPTH];
    size_t depth = 0;  //  open containers with items left
    size_t pos = 0;    //  invariant: pos <= size
    uint64_t objects = 0;

    do {
        if (pos >= size)
            return s_reason (reason, reason_size, SP_MSG_ERR_TRUNCATED,
                             "frame ends at byte %zu inside a container", pos);
        if (++objects > SP_MSG_MAX_OBJECTS)
            return s_reason (reason, reason_size, SP_MSG_ERR_TOO_BIG, "more than %u objects",
                             (unsigned) SP_MSG_MAX_OBJECTS);
        uint8_t b = data[pos++];
        uint64_t count;
        s_header_t h = s_header (b, &count);
        uint64_t extra = h.extra;
        if (h.flags & H_BAD)
            return s_reason (reason, reason_size, SP_MSG_ERR_MALFORMED,
                             "reserved byte 0x%02x at %zu", b, pos - 1);
        if (h.len_bytes > 0) {
            if (h.len_bytes > size - pos)
                return s_reason (reason, reason_size, SP_MSG_ERR_TRUNCATED,
                                 "frame ends inside a header at byte %zu", pos);
            uint64_t v = s_read_be (data + pos, h.len_bytes);
            pos += h.len_bytes;
            if (h.flags & H_CONTAINER)
                count = v;
            else if (h.flags & H_LEN)
                extra += v;
        }
        if (h.flags & H_CONTAINER) {
            bool is_map = h.flags & H_MAP;
            if (depth + 1 > SP_MSG_MAX_DEPTH)
                return s_reason (reason, reason_size, SP_MSG_ERR_TOO_DEEP,
                                 "nesting deeper than %d at byte %zu", SP_MSG_MAX_DEPTH, pos);
            uint64_t items = is_map ? count * 2 : count;
            //  every item takes at least one byte
            if (items > size - pos)
                return s_reason (reason, reason_size, SP_MSG_ERR_TRUNCATED,
                                 "%s of %llu entries with %zu bytes left", is_map ? "map" : "array",
                                 (unsigned long long) count, size - pos);
            if (items > SP_MSG_MAX_OBJECTS - objects)
                return s_reason (reason, reason_size, SP_MSG_ERR_TOO_BIG, "more than %u objects",
                                 (unsigned) SP_MSG_MAX_OBJECTS);
            if (items > 0) {
                left[depth++] = items;
                continue;  //  its items come next
            }
        } else {
            if (extra > size - pos)
                return s_reason (reason, reason_size, SP_MSG_ERR_TRUNCATED,
                                 "value of %llu bytes at %zu with %zu bytes left",
                                 (unsigned long long) extra, pos, size - pos);
            pos += (size_t) extra;
        }
        //  one object complete: close every container it completes
        while (depth > 0 && --left[depth - 1] == 0)
            depth--;
    } while (depth > 0);

    if (pos != size)
        return s_reason (reason, reason_size, SP_MSG_ERR_TRAILING, "%zu bytes after the message",
                         size - pos);
    return SP_MSG_OK;
}
