/*  fuzz_path.c: libFuzzer harness for the path sanitizer.

    Build and run by hand (from the repo root):
      clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon/include \
          -D_GNU_SOURCE fuzz/fuzz_path.c common/src/path.c -o build/fuzz_path
      build/fuzz_path -max_total_time=60 fuzz/corpus/path

    Every output of sp_path_sanitize_n / _max / _ext must be one safe path
    component: non-empty, no '/', '\\', NUL or control byte, not "." or "..",
    no leading dot/space, no trailing dot/space, at most the byte limit,
    valid UTF-8, not a Windows-reserved device name, and sanitizing it again
    must not change it (idempotence). A broken invariant calls abort().
*/
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soulpipe/path.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static bool
s_valid_utf8 (const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t v;
        if ((p[i] & 0xE0) == 0xC0) {
            n = 2;
            v = p[i] & 0x1F;
        } else if ((p[i] & 0xF0) == 0xE0) {
            n = 3;
            v = p[i] & 0x0F;
        } else if ((p[i] & 0xF8) == 0xF0) {
            n = 4;
            v = p[i] & 0x07;
        } else
            return false;
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            v = (v << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && v < 0x80) || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) ||
            v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

//  Reserved device names, checked independently of path.c's own code.
static bool
s_reserved (const char *s)
{
    char base[16];
    size_t b = 0;
    while (s[b] && s[b] != '.' && b < sizeof base - 1) {
        char c = s[b];
        base[b++] = (c >= 'a' && c <= 'z') ? (char) (c - 32) : c;
    }
    if (s[b] && s[b] != '.')
        return false;  //  longer than any reserved name
    while (b > 0 && base[b - 1] == ' ')
        b--;
    base[b] = '\0';
    static const char *const names[] = {
        "CON",         "PRN",         "AUX",         "NUL",         "CONIN$",      "CONOUT$",
        "COM0",        "COM1",        "COM2",        "COM3",        "COM4",        "COM5",
        "COM6",        "COM7",        "COM8",        "COM9",        "LPT0",        "LPT1",
        "LPT2",        "LPT3",        "LPT4",        "LPT5",        "LPT6",        "LPT7",
        "LPT8",        "LPT9",        "COM\xc2\xb9", "COM\xc2\xb2", "COM\xc2\xb3", "LPT\xc2\xb9",
        "LPT\xc2\xb2", "LPT\xc2\xb3",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp (base, names[i]) == 0)
            return true;
    return false;
}

static void
s_check (const char *out, size_t max)
{
    if (!out)
        abort ();  //  only on out of memory
    size_t len = strlen (out);
    if (len == 0 || len > max)
        abort ();
    if (strcmp (out, ".") == 0 || strcmp (out, "..") == 0)
        abort ();
    if (out[0] == '.' || out[0] == ' ' || out[len - 1] == '.' || out[len - 1] == ' ')
        abort ();
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) out[i];
        if (c < 0x20 || c == 0x7F || c == '/' || c == '\\' || strchr ("<>:\"|?*", c))
            abort ();
    }
    if (!s_valid_utf8 ((const unsigned char *) out, len))
        abort ();
    if (s_reserved (out))
        abort ();
    //  Idempotent: a safe name comes back unchanged.
    char *again = sp_path_sanitize_max (out, max);
    if (!again || strcmp (again, out) != 0)
        abort ();
    free (again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  The first byte picks the byte limit (so small limits get fuzzed too).
    size_t max = 255;
    if (size > 0) {
        max = data[0] == 0 ? 255 : data[0];
        data++;
        size--;
    }
    char *out = sp_path_sanitize_n ((const char *) data, size, max);
    s_check (out, max);
    free (out);

    //  As a C string, with the default limit.
    char *str = malloc (size + 1);
    if (!str)
        return 0;
    memcpy (str, data, size);
    str[size] = '\0';
    out = sp_path_sanitize (str);
    s_check (out, 255);
    free (out);

    //  Split at the first '|' into name and extension for the _ext variant.
    char *bar = strchr (str, '|');
    const char *ext = NULL;
    if (bar) {
        *bar = '\0';
        ext = bar + 1;
    }
    out = sp_path_sanitize_ext (str, ext, max);
    s_check (out, max);
    free (out);

    //  The remote splitter must not crash, and its parts are non-empty with
    //  no separators.
    sp_path_remote_t *r = sp_path_remote_new (str);
    if (r) {
        for (size_t i = 0; i < sp_path_remote_count (r); i++) {
            const char *p = sp_path_remote_part (r, i);
            if (!p || !*p || strchr (p, '\\') || strchr (p, '/'))
                abort ();
        }
        sp_path_remote_destroy (&r);
    }
    free (str);
    return 0;
}
