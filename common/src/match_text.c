/*  match_text.c: the matching-form text helpers shared by the remote-path
    parser (remote_path.c) and the scorer (match.c): bounded copies cut on
    UTF-8 boundaries, normalization with an ASCII fast path, whole-word and
    space-insensitive search, similarity of prepared strings. Internal to
    common/ (match_text.h); no I/O, no global state.
*/
#include "match_text.h"
#include "soulpipe/text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool
sp_match__in_list (const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp (list[i], s) == 0)
            return true;
    return false;
}

//  Copy at most n-1 bytes of s (len bytes) into dst, cut on a UTF-8 boundary.
void
sp_match__copy (char *dst, size_t n, const char *s, size_t len)
{
    if (n == 0)
        return;
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char) s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy (dst, s, len);
    dst[len] = 0;
}

static bool
s_ascii_alpha (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

//  sp_text_normalize() for printable ASCII (0x20..0x7E) without utf8proc
//  or allocation for short strings: the same rules (apostrophes dropped,
//  "&" and a standalone "+" -> "and", "$"/"!" inside words -> s/i, other
//  punctuation and symbols -> space, case folded, "ft"/"featuring" ->
//  "feat", spaces collapsed and trimmed), cut like s_copy. Returns false
//  when s holds anything else (the caller takes the Unicode path). The
//  unit tests compare it with sp_text_normalize on random strings.
static bool
s_norm_ascii (char *dst, size_t n, const char *s)
{
    size_t len = 0;
    for (const char *p = s; *p; p++, len++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7E)
            return false;
    char stack[1024];
    size_t need = len * 5 + 2;
    char *buf = need <= sizeof stack ? stack : malloc (need);
    if (!buf)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        char prev = i ? s[i - 1] : 0;
        char next = s[i + 1];
        if (c == '\'' || c == '`')
            continue;
        if (c == '&' || (c == '+' && i > 0 && prev == ' ' && next == ' ')) {
            if (o && buf[o - 1] != ' ')
                buf[o++] = ' ';
            memcpy (buf + o, "and ", 4);
            o += 4;
            continue;
        }
        if (c == '$' && (s_ascii_alpha (prev) || s_ascii_alpha (next)))
            buf[o++] = 's';
        else if (c == '!' && s_ascii_alpha (prev) && s_ascii_alpha (next))
            buf[o++] = 'i';
        else if (isalnum ((unsigned char) c))
            buf[o++] = (char) tolower ((unsigned char) c);
        else if (o && buf[o - 1] != ' ')
            buf[o++] = ' ';
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = 0;
    //  word pass, written into dst cut at n - 1 bytes
    size_t d = 0;
    for (size_t i = 0; i < o && d + 1 < n;) {
        size_t e = i;
        while (e < o && buf[e] != ' ')
            e++;
        const char *w = buf + i;
        size_t wl = e - i;
        if ((wl == 2 && memcmp (w, "ft", 2) == 0) || (wl == 9 && memcmp (w, "featuring", 9) == 0)) {
            w = "feat";
            wl = 4;
        }
        if (d && d + 1 < n)
            dst[d++] = ' ';
        for (size_t k = 0; k < wl && d + 1 < n; k++)
            dst[d++] = w[k];
        i = e + 1;
    }
    if (n)
        dst[d < n ? d : n - 1] = 0;
    if (buf != stack)
        free (buf);
    return true;
}

//  Normalize s into dst (matching form). Returns 0 or -1 (invalid UTF-8).
int
sp_match__norm (char *dst, size_t n, const char *s)
{
    if (s_norm_ascii (dst, n, s))
        return 0;
    char *t = sp_text_normalize (s);
    if (!t) {
        dst[0] = 0;
        return -1;
    }
    sp_match__copy (dst, n, t, strlen (t));
    free (t);
    return 0;
}

void
sp_match__trim (char *s)
{
    size_t len = strlen (s);
    while (len > 0 && (isspace ((unsigned char) s[len - 1]) || s[len - 1] == '_' ||
                       s[len - 1] == '-' || s[len - 1] == '.'))
        s[--len] = 0;
    size_t k = 0;
    while (s[k] && (isspace ((unsigned char) s[k]) || s[k] == '_'))
        k++;
    if (k)
        memmove (s, s + k, len - k + 1);
}

bool
sp_match__is_digits (const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit ((unsigned char) s[i]))
            return false;
    return true;
}

bool
sp_match__is_year (const char *s, size_t len)
{
    if (len != 4 || !sp_match__is_digits (s, 4))
        return false;
    int y = atoi (s);
    return y >= 1900 && y <= 2099;
}

//  Find needle in hay as whole words (bounded by start/end or a space).
bool
sp_match__word_find (const char *hay, const char *needle)
{
    size_t nl = strlen (needle);
    if (nl == 0)
        return false;
    const char *p = hay;
    while ((p = strstr (p, needle)) != NULL) {
        bool left = p == hay || p[-1] == ' ';
        bool right = p[nl] == 0 || p[nl] == ' ';
        if (left && right)
            return true;
        p++;
    }
    return false;
}

//  Find sq (a string without spaces) in hay ignoring hay's spaces, starting
//  at a word start ("acdc" in "ac dc back in black").
bool
sp_match__squashed_find (const char *hay, const char *sq)
{
    if (!sq[0])
        return false;
    for (const char *p = hay; *p; p++) {
        if (p != hay && p[-1] != ' ')
            continue;
        const char *h = p, *q = sq;
        while (*h && *q) {
            if (*h == ' ') {
                h++;
                continue;
            }
            if (*h != *q)
                break;
            h++;
            q++;
        }
        if (!*q && (*h == 0 || *h == ' '))
            return true;
    }
    return false;
}

void
sp_match__squash (char *dst, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        if (*s != ' ')
            dst[k++] = *s;
    dst[k] = 0;
}

double
sp_match__sim (const char *a, const char *b)
{
    if (!a[0] || !b[0])
        return 0.0;
    if (strcmp (a, b) == 0)
        return 1.0;
    return sp_text_similarity_norm (a, b);
}
