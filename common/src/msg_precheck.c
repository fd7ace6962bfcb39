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
#include "soulpipe/msg.h"

#include <stdarg.h>
#include <stdio.h>

static int s_reason (char *reason, size_t reason_size, int code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
s_reason (char *reason, size_t reason_size, int code, const char *fmt, ...)
{
    if (reason && reason_size > 0) {
        va_list ap;
        va_start (ap, fmt);
        vsnprintf (reason, reason_size, fmt, ap);
        va_end (ap);
    }
    return code;
}

/*  Big-endian unsigned of n (1, 2, 4 or 8) bytes at p. */
static uint64_t
s_read_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

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

    //  left[d] = items still to read in the open container at level d+1
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
        size_t len_bytes = 0;  //  size of the length/count field after b
        uint64_t extra = 0;    //  fixed body bytes (or added to the length)
        bool has_len = false;  //  body length is read from the length field
        bool container = false;
        bool is_map = false;
        uint64_t count = 0;

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            ;  //  fixint, nil, bool: no body
        else if (b <= 0x8f) {
            container = is_map = true;
            count = b & 0x0f;
        } else if (b <= 0x9f) {
            container = true;
            count = b & 0x0f;
        } else if (b <= 0xbf)
            extra = b & 0x1f;  //  fixstr
        else {
            switch (b) {
                case 0xc4:
                case 0xd9:
                    has_len = true;
                    len_bytes = 1;
                    break;  //  bin8, str8
                case 0xc5:
                case 0xda:
                    has_len = true;
                    len_bytes = 2;
                    break;
                case 0xc6:
                case 0xdb:
                    has_len = true;
                    len_bytes = 4;
                    break;
                case 0xc7:
                    has_len = true;
                    len_bytes = 1;
                    extra = 1;
                    break;  //  ext8 + type byte
                case 0xc8:
                    has_len = true;
                    len_bytes = 2;
                    extra = 1;
                    break;
                case 0xc9:
                    has_len = true;
                    len_bytes = 4;
                    extra = 1;
                    break;
                case 0xca:
                    extra = 4;
                    break;  //  float32
                case 0xcb:
                    extra = 8;
                    break;  //  float64
                case 0xcc:
                case 0xd0:
                    extra = 1;
                    break;
                case 0xcd:
                case 0xd1:
                    extra = 2;
                    break;
                case 0xce:
                case 0xd2:
                    extra = 4;
                    break;
                case 0xcf:
                case 0xd3:
                    extra = 8;
                    break;
                case 0xd4:
                    extra = 2;
                    break;  //  fixext1: type + 1
                case 0xd5:
                    extra = 3;
                    break;
                case 0xd6:
                    extra = 5;
                    break;
                case 0xd7:
                    extra = 9;
                    break;
                case 0xd8:
                    extra = 17;
                    break;
                case 0xdc:
                    container = true;
                    len_bytes = 2;
                    break;
                case 0xdd:
                    container = true;
                    len_bytes = 4;
                    break;
                case 0xde:
                    container = is_map = true;
                    len_bytes = 2;
                    break;
                case 0xdf:
                    container = is_map = true;
                    len_bytes = 4;
                    break;
                default:  //  0xc1, never used
                    return s_reason (reason, reason_size, SP_MSG_ERR_MALFORMED,
                                     "reserved byte 0x%02x at %zu", b, pos - 1);
            }
        }
        if (len_bytes > 0) {
            if (len_bytes > size - pos)
                return s_reason (reason, reason_size, SP_MSG_ERR_TRUNCATED,
                                 "frame ends inside a header at byte %zu", pos);
            uint64_t v = s_read_be (data + pos, len_bytes);
            pos += len_bytes;
            if (container)
                count = v;
            else if (has_len)
                extra += v;
        }
        if (container) {
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
