/*  match.c: remote-path parsing, hard filters and ranking of Soulseek search
    results against one playlist track (see match.h).

    The expensive work (Unicode normalization, title analysis) happens once
    per track (sp_match_track_new) and once per result (sp_match_set_add);
    sp_match_score() only compares prepared strings and never allocates, so
    one track can be scored against many thousands of results quickly.
*/
#include "soulpipe/match.h"
#include "soulpipe/text.h"
#include "soulpipe/title.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#define MAX_ARTISTS 8     //  credited artists compared with the path
#define MAX_PARTS   64    //  path components looked at
#define FOLDER_SCAN 3     //  last folders scanned for descriptors
#define TIER_STEPS  20.0  //  match quality quantized to 1/20
#define W_MATCH     1000.0
#define W_QUALITY   100.0
#define W_PEER      10.0
#define SPEED_GOOD  (4.0 * 1024 * 1024)  //  bytes/s that scores full

struct _sp_match_track_t {
    sp_title_t title;                              //  the wanted title
    uint32_t kinds;                                //  title kinds + album hints
    char artists[MAX_ARTISTS][SP_MATCH_FIELD];     //  matching form
    char artists_sq[MAX_ARTISTS][SP_MATCH_FIELD];  //  same without spaces
    size_t n_artists;
    char album[SP_MATCH_FIELD];  //  album base, matching form
    int duration_s;              //  0 = unknown
    int track_no;                //  0 = unknown
    int disc_no;                 //  0 = unknown
};

//  A small string-keyed memo (open addressing, FNV-1a). Search results
//  repeat themselves: an album folder is shared by its dozen files, and the
//  same file name ("01 - Song.flac") comes from many users. Parsing each
//  distinct folder and file name once is most of the parse time saved.
typedef struct {
    char *key;  //  owned
    void *val;  //  owned (plain struct, free())
    uint64_t hash;
} s_slot_t;

typedef struct {
    s_slot_t *slots;  //  cap slots, key NULL = empty
    size_t cap;       //  power of two, 0 before first use
    size_t used;
} s_memo_t;

#define MEMO_MAX 4096  //  entries kept per memo (then: no caching)

struct _sp_match_set_t {
    sp_match_result_t *items;  //  results in insertion order
    size_t count;              //  used
    size_t cap;                //  allocated
    size_t *order;             //  rank order (indexes into items)
    size_t accepted;           //  accepted in the last rank
    s_memo_t dirs;             //  folder part of a path -> s_dir_t
    s_memo_t files;            //  file stem -> s_file_t
};

static const char *s_audio[] = {"flac", "mp3",  "ogg", "opus", "m4a", "aac", "wav", "aiff",
                                "aif",  "alac", "ape", "wv",   "wma", "mpc", NULL};
static const char *s_lossless_exts[] = {"flac", "wav", "aiff", "aif", "alac", "ape", "wv", NULL};

// ---------------------------------------------------------------- small helpers

static bool
s_in_list (const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp (list[i], s) == 0)
            return true;
    return false;
}

bool
sp_match_is_audio_ext (const char *ext)
{
    return ext && s_in_list (s_audio, ext);
}

bool
sp_match_is_lossless_ext (const char *ext)
{
    return ext && s_in_list (s_lossless_exts, ext);
}

//  Copy at most n-1 bytes of s (len bytes) into dst, cut on a UTF-8 boundary.
static void
s_copy (char *dst, size_t n, const char *s, size_t len)
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
static int
s_norm_into (char *dst, size_t n, const char *s)
{
    if (s_norm_ascii (dst, n, s))
        return 0;
    char *t = sp_text_normalize (s);
    if (!t) {
        dst[0] = 0;
        return -1;
    }
    s_copy (dst, n, t, strlen (t));
    free (t);
    return 0;
}

static void
s_trim (char *s)
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

static bool
s_is_digits (const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit ((unsigned char) s[i]))
            return false;
    return true;
}

static bool
s_is_year (const char *s, size_t len)
{
    if (len != 4 || !s_is_digits (s, 4))
        return false;
    int y = atoi (s);
    return y >= 1900 && y <= 2099;
}

//  Find needle in hay as whole words (bounded by start/end or a space).
static bool
s_word_find (const char *hay, const char *needle)
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
static bool
s_squashed_find (const char *hay, const char *sq)
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

static void
s_squash (char *dst, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        if (*s != ' ')
            dst[k++] = *s;
    dst[k] = 0;
}

static double
s_sim (const char *a, const char *b)
{
    if (!a[0] || !b[0])
        return 0.0;
    if (strcmp (a, b) == 0)
        return 1.0;
    return sp_text_similarity_norm (a, b);
}

// ---------------------------------------------------------------- prefs

void
sp_match_prefs_default (sp_match_prefs_t *prefs)
{
    memset (prefs, 0, sizeof *prefs);
    prefs->length_tolerance_s = 3;
    prefs->min_bitrate = 256;
    prefs->allow_lossy = true;
    prefs->max_candidates = 10;
    prefs->max_per_user = 2;
    sp_match_prefs_set_formats (prefs, "flac,mp3,ogg,m4a");
}

int
sp_match_prefs_set_formats (sp_match_prefs_t *prefs, const char *csv)
{
    if (!prefs)
        return -1;
    char out[SP_MATCH_MAX_FORMATS][8];
    int count = 0;
    const char *p = csv ? csv : "";
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '.')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t len = (size_t) (p - start);
        while (len > 0 && start[len - 1] == ' ')
            len--;
        if (len == 0 || len >= sizeof out[0] || count >= SP_MATCH_MAX_FORMATS)
            return -1;
        for (size_t i = 0; i < len; i++)
            out[count][i] = (char) tolower ((unsigned char) start[i]);
        out[count][len] = 0;
        if (!sp_match_is_audio_ext (out[count]))
            return -1;
        count++;
    }
    memcpy (prefs->formats, out, sizeof out);
    prefs->formats_count = count;
    return 0;
}

// ---------------------------------------------------------------- path parsing

//  Leading track number: "01 - ", "01. ", "1-03 ", "A1 ", "(01) ", "[01] ",
//  "103_". Returns the rest of s and sets *disc / *track when found. A bare
//  number followed by a plain space counts only with 2 digits ("07 Song"),
//  so "7 Rings" keeps its 7.
static const char *
s_strip_number (const char *s, int *disc, int *track)
{
    const char *p = s;
    while (*p == ' ' || *p == '_')
        p++;
    bool bracket = false;
    if (*p == '(' || *p == '[') {
        bracket = true;
        p++;
    }
    //  vinyl side: A1 .. H19
    if (!bracket && *p >= 'A' && *p <= 'H' && isdigit ((unsigned char) p[1])) {
        const char *q = p + 1;
        int n = 0;
        while (isdigit ((unsigned char) *q) && n < 3) {
            q++;
            n++;
        }
        if (n <= 2 &&
            (*q == '.' || *q == '-' || *q == '_' || (*q == ' ' && (q[1] == '-' || q[1] == '.')))) {
            *track = atoi (p + 1);
            p = q;
            goto skip;
        }
        return s;
    }
    const char *q = p;
    int n = 0;
    while (isdigit ((unsigned char) *q)) {
        q++;
        n++;
    }
    if (n == 0 || n > 3)
        return s;
    int value = atoi (p);
    //  disc-track "1-03" / "1.03"
    if (n == 1 && (*q == '-' || *q == '.') && isdigit ((unsigned char) q[1]) &&
        isdigit ((unsigned char) q[2]) && !isdigit ((unsigned char) q[3]) &&
        (q[3] == ' ' || q[3] == '.' || q[3] == '-' || q[3] == '_')) {
        *disc = value;
        *track = atoi (q + 1);
        p = q + 3;
        goto skip;
    }
    if (bracket) {
        if (*q != ')' && *q != ']')
            return s;
        *track = value;
        p = q + 1;
        goto skip;
    }
    bool strong_sep = *q == '.' || *q == '-' || *q == '_' || *q == ')' ||
                      (*q == ' ' && (q[1] == '-' || q[1] == '.' || q[1] == '_')) ||
                      (*q == ' ' && (unsigned char) q[1] == 0xE2);  //  " – "
    bool weak_sep = *q == ' ' && n == 2;
    if (!strong_sep && !weak_sep)
        return s;
    if (*q == '.' && isdigit ((unsigned char) q[1]))
        return s;  //  "2.0" is not a number prefix
    if (n == 3 && value >= 101 && value % 100 != 0 && value < 1000) {
        *disc = value / 100;
        *track = value % 100;
    } else
        *track = value;
    p = q;
skip:
    for (;;) {
        if (*p == ' ' || *p == '.' || *p == '-' || *p == '_' || *p == ')' || *p == ']')
            p++;
        else if ((unsigned char) p[0] == 0xE2 && (unsigned char) p[1] == 0x80 &&
                 ((unsigned char) p[2] == 0x93 || (unsigned char) p[2] == 0x94))
            p += 3;  //  en/em dash
        else
            break;
    }
    return *p ? p : s;
}

//  Split s at " - " style separators (a dash with spaces or underscores on
//  both sides; also en/em dashes). Writes segment starts/lengths.
static size_t
s_split_segments (const char *s, const char **seg, size_t *len, size_t max)
{
    size_t n = 0;
    const char *start = s;
    const char *p = s;
    while (*p && n + 1 < max) {
        size_t dash = 0;
        if (*p == '-')
            dash = 1;
        else if ((unsigned char) p[0] == 0xE2 && (unsigned char) p[1] == 0x80 &&
                 ((unsigned char) p[2] == 0x93 || (unsigned char) p[2] == 0x94))
            dash = 3;
        if (dash && p > s && (p[-1] == ' ' || p[-1] == '_') && (p[dash] == ' ' || p[dash] == '_')) {
            const char *end = p - 1;
            while (end > start && (end[-1] == ' ' || end[-1] == '_'))
                end--;
            if (end > start) {
                seg[n] = start;
                len[n] = (size_t) (end - start);
                n++;
            }
            p += dash;
            while (*p == ' ' || *p == '_')
                p++;
            start = p;
            continue;
        }
        p++;
    }
    size_t rest = strlen (start);
    while (rest > 0 && (start[rest - 1] == ' ' || start[rest - 1] == '_'))
        rest--;
    if (rest > 0) {
        seg[n] = start;
        len[n] = rest;
        n++;
    }
    return n;
}

static bool
s_word_in (const char *lower, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strstr (lower, words[i]))
            return true;
    return false;
}

//  True when a bracket group's content is only tags: a year, a format, a
//  bitrate, a catalogue-ish tag ("FLAC", "24-96", "320", "WEB", "2019").
static bool
s_is_tag_group (const char *s, size_t len, int *year)
{
    static const char *const tags[] = {
        "flac",  "mp3",    "320",   "256",    "v0",     "v2",     "16bit",    "24bit",
        "16-44", "24-96",  "24-48", "24-192", "16 bit", "24 bit", "lossless", "web",
        "cd",    "vinyl",  "khz",   "kbps",   "aac",    "ogg",    "alac",     "hi-res",
        "hires", "hi res", "vbr",   "cbr",    "m4a",    "wav",    "ape",      NULL};
    char lower[64];
    if (len == 0 || len >= sizeof lower)
        return false;
    for (size_t i = 0; i < len; i++)
        lower[i] = (char) tolower ((unsigned char) s[i]);
    lower[len] = 0;
    if (s_is_year (lower, len)) {
        *year = atoi (lower);
        return true;
    }
    //  "2019, flac" / "1994 remaster" → year, but only drop pure tag groups
    for (size_t i = 0; i + 4 <= len; i++)
        if (s_is_year (lower + i, 4) && (i == 0 || !isdigit ((unsigned char) lower[i - 1])) &&
            !isdigit ((unsigned char) lower[i + 4]))
            *year = atoi (lower + i);
    return s_word_in (lower, tags);
}

//  Remove bracket groups holding only tags ("[FLAC]", "(2019)") and a
//  leading or trailing year from a folder name, in place.
static void
s_strip_tags (char *s, int *year)
{
    for (;;) {
        bool changed = false;
        for (char *p = s; *p; p++) {
            char close = *p == '(' ? ')' : *p == '[' ? ']' : *p == '{' ? '}' : 0;
            if (!close)
                continue;
            char *e = strchr (p + 1, close);
            if (!e)
                break;
            if (s_is_tag_group (p + 1, (size_t) (e - p - 1), year)) {
                memmove (p, e + 1, strlen (e + 1) + 1);
                changed = true;
                break;
            }
            p = e;
        }
        if (!changed)
            break;
    }
    s_trim (s);
    //  leading "2019 - " / "(2019) " already gone; "2019 Album" / "2019 - Album"
    size_t len = strlen (s);
    if (len > 5 && s_is_year (s, 4) && !isalnum ((unsigned char) s[4])) {
        *year = atoi (s);
        memmove (s, s + 4, len - 4 + 1);
        while (*s == ' ' || *s == '-' || *s == '.' || *s == '_')
            memmove (s, s + 1, strlen (s));
    }
    s_trim (s);
}

static bool
s_is_generic_folder (const char *name)
{
    static const char *const generic[] = {
        "music",    "mp3",        "mp3s",      "flac",         "downloads",
        "download", "shared",     "share",     "shares",       "soulseek",
        "slsk",     "complete",   "completed", "albums",       "media",
        "audio",    "my music",   "lossless",  "various",      "various artists",
        "va",       "singles",    "misc",      "new",          "incoming",
        "library",  "collection", "itunes",    "itunes media", "music library",
        NULL};
    if (name[0] == '@' || (isalpha ((unsigned char) name[0]) && name[1] == ':' && !name[2]))
        return true;
    char lower[64];
    size_t len = strlen (name);
    if (len >= sizeof lower)
        return false;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char) tolower ((unsigned char) name[i]);
    return s_in_list (generic, lower);
}

static bool
s_disc_folder (const char *name, int *disc)
{
    const char *p = name;
    size_t skip = 0;
    if (strncasecmp (p, "cd", 2) == 0)
        skip = 2;
    else if (strncasecmp (p, "disc", 4) == 0 || strncasecmp (p, "disk", 4) == 0)
        skip = 4;
    else
        return false;
    p += skip;
    while (*p == ' ' || *p == '_' || *p == '-' || *p == '.')
        p++;
    if (!isdigit ((unsigned char) *p))
        return false;
    int d = atoi (p);
    while (isdigit ((unsigned char) *p))
        p++;
    if (*p && *p != ' ' && *p != '-' && *p != '_' && *p != '(' && *p != '[')
        return false;
    if (d <= 0 || d > 99)
        return false;
    *disc = d;
    return true;
}

//  Album folder: "Artist - Album (2019) [FLAC]", "2019 - Album",
//  "Artist - 2019 - Album".
static void
s_parse_album_dir (const char *dir, sp_match_path_t *out)
{
    char buf[SP_MATCH_FIELD * 2];
    s_copy (buf, sizeof buf, dir, strlen (dir));
    s_strip_tags (buf, &out->year);
    const char *seg[8];
    size_t len[8];
    size_t n = s_split_segments (buf, seg, len, 8);
    const char *keep[8];
    size_t keep_len[8];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s_is_year (seg[i], len[i])) {
            out->year = atoi (seg[i]);
            continue;
        }
        keep[k] = seg[i];
        keep_len[k] = len[i];
        k++;
    }
    if (k == 0)
        return;
    if (k >= 2) {
        s_copy (out->artist, sizeof out->artist, keep[0], keep_len[0]);
        //  the album is everything after the artist
        const char *start = keep[1];
        size_t total = (size_t) (keep[k - 1] + keep_len[k - 1] - start);
        s_copy (out->album, sizeof out->album, start, total);
    } else
        s_copy (out->album, sizeof out->album, keep[0], keep_len[0]);
    s_trim (out->album);
    s_trim (out->artist);
    //  "2019 Album" inside the album part
    int y = 0;
    s_strip_tags (out->album, &y);
    if (y)
        out->year = y;
}

// ---------------------------------------------------------------- memo

static uint64_t
s_hash (const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ull;
    return h;
}

static void *
s_memo_get (const s_memo_t *m, const char *key)
{
    if (!m || !m->cap)
        return NULL;
    uint64_t h = s_hash (key);
    for (size_t i = h & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1))
        if (m->slots[i].hash == h && strcmp (m->slots[i].key, key) == 0)
            return m->slots[i].val;
    return NULL;
}

//  Keep a copy of val (size bytes) under key. Best effort: a full memo or
//  no memory just means no caching.
static void
s_memo_put (s_memo_t *m, const char *key, const void *val, size_t size)
{
    if (!m || m->used >= MEMO_MAX)
        return;
    if (m->used * 2 >= m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        s_slot_t *slots = calloc (cap, sizeof *slots);
        if (!slots)
            return;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].key) {
                size_t k = m->slots[i].hash & (cap - 1);
                while (slots[k].key)
                    k = (k + 1) & (cap - 1);
                slots[k] = m->slots[i];
            }
        free (m->slots);
        m->slots = slots;
        m->cap = cap;
    }
    char *k = strdup (key);
    void *v = malloc (size);
    if (!k || !v) {
        free (k);
        free (v);
        return;
    }
    memcpy (v, val, size);
    uint64_t h = s_hash (key);
    size_t i = h & (m->cap - 1);
    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = (s_slot_t){.key = k, .val = v, .hash = h};
    m->used++;
}

static void
s_memo_clear (s_memo_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free (m->slots[i].key);
        free (m->slots[i].val);
    }
    free (m->slots);
    memset (m, 0, sizeof *m);
}

// ---------------------------------------------------------------- path parsing (parts)

//  What the folders of a path say (the last FOLDER_SCAN folders at most).
typedef struct {
    int disc, year;
    uint32_t folder_kinds;
    char artist[SP_MATCH_FIELD];
    char artist_norm[SP_MATCH_FIELD];
    char album[SP_MATCH_FIELD];
    char album_norm[SP_MATCH_FIELD];
} s_dir_t;

//  What the file stem (name without extension) says.
typedef struct {
    int disc, track;
    uint32_t kinds;
    int part;
    char remixer[64];
    char version[64];
    char title[SP_MATCH_FIELD];
    char title_norm[3][SP_MATCH_FIELD];
    char stem_norm[SP_MATCH_FIELD];
    char artist[SP_MATCH_FIELD];  //  "Artist - Title": the first segment
    char artist_norm[SP_MATCH_FIELD];
} s_file_t;

static void
s_parse_dirs (char *const *dirs, size_t ndirs, s_dir_t *d)
{
    sp_match_path_t tmp;  //  s_parse_album_dir fills one
    memset (&tmp, 0, sizeof tmp);
    ssize_t album_i = (ssize_t) ndirs - 1;
    if (album_i >= 0 && s_disc_folder (dirs[album_i], &tmp.disc))
        album_i--;
    if (album_i >= 0 && !s_is_generic_folder (dirs[album_i]))
        s_parse_album_dir (dirs[album_i], &tmp);
    if (!tmp.artist[0] && album_i >= 1 && !s_is_generic_folder (dirs[album_i - 1])) {
        s_copy (tmp.artist, sizeof tmp.artist, dirs[album_i - 1], strlen (dirs[album_i - 1]));
        int y = 0;
        s_strip_tags (tmp.artist, &y);
    }
    memset (d, 0, sizeof *d);
    for (size_t i = ndirs > FOLDER_SCAN ? ndirs - FOLDER_SCAN : 0; i < ndirs; i++)
        if (!s_is_generic_folder (dirs[i]))
            d->folder_kinds |= sp_title_scan_descriptors (dirs[i]);
    d->disc = tmp.disc;
    d->year = tmp.year;
    memcpy (d->artist, tmp.artist, sizeof d->artist);
    memcpy (d->album, tmp.album, sizeof d->album);
    if (d->artist[0])
        s_norm_into (d->artist_norm, sizeof d->artist_norm, d->artist);
    if (d->album[0]) {
        sp_title_t *at = malloc (sizeof *at);
        if (at && sp_title_parse (d->album, at) == 0)
            s_copy (d->album_norm, sizeof d->album_norm, at->base, strlen (at->base));
        free (at);
    }
}

//  Returns 0, or -1 (the title does not parse: invalid UTF-8 or OOM).
static int
s_parse_file (const char *stem, s_file_t *f)
{
    memset (f, 0, sizeof *f);
    //  number, " - " segments, descriptors
    int disc = 0, track = 0;
    const char *rest = s_strip_number (stem, &disc, &track);
    f->track = track;
    f->disc = track ? disc : 0;
    char body[SP_MATCH_FIELD * 2];
    s_copy (body, sizeof body, rest, strlen (rest));
    //  "Artist - 03 - Title": a number segment inside
    const char *seg[8];
    size_t len[8];
    size_t ns = s_split_segments (body, seg, len, 8);
    char clean[SP_MATCH_FIELD * 2];
    size_t cl = 0;
    for (size_t i = 0; i < ns; i++) {
        if (ns > 1 && len[i] <= 3 && s_is_digits (seg[i], len[i])) {
            if (!f->track)
                f->track = atoi (seg[i]);
            continue;
        }
        if (cl && cl + 3 < sizeof clean) {
            memcpy (clean + cl, " - ", 3);
            cl += 3;
        }
        size_t l = len[i];
        if (cl + l >= sizeof clean)
            l = sizeof clean - cl - 1;
        memcpy (clean + cl, seg[i], l);
        cl += l;
    }
    clean[cl] = 0;

    sp_title_t *t = malloc (sizeof *t);
    if (!t || sp_title_parse (clean, t) != 0) {
        free (t);
        return -1;
    }
    f->kinds = t->kinds;
    f->part = t->part;
    s_copy (f->remixer, sizeof f->remixer, t->remixer, strlen (t->remixer));
    s_copy (f->version, sizeof f->version, t->version, strlen (t->version));
    s_norm_into (f->stem_norm, sizeof f->stem_norm, clean);

    //  title variants from the base: whole, without the first segment
    //  ("Artist - Title"), the last segment only
    ns = s_split_segments (t->base_raw, seg, len, 8);
    size_t v = 0;
    if (ns >= 2) {
        const char *start = seg[1];
        size_t total = (size_t) (seg[ns - 1] + len[ns - 1] - start);
        char tmp[SP_MATCH_FIELD];
        s_copy (tmp, sizeof tmp, start, total);
        s_copy (f->title, sizeof f->title, tmp, strlen (tmp));
        s_norm_into (f->title_norm[v++], SP_MATCH_FIELD, tmp);
        s_copy (f->artist, sizeof f->artist, seg[0], len[0]);
    } else
        s_copy (f->title, sizeof f->title, t->base_raw, strlen (t->base_raw));
    s_copy (f->title_norm[v++], SP_MATCH_FIELD, t->base, strlen (t->base));
    if (ns >= 3) {
        char tmp[SP_MATCH_FIELD];
        s_copy (tmp, sizeof tmp, seg[ns - 1], len[ns - 1]);
        s_norm_into (f->title_norm[v++], SP_MATCH_FIELD, tmp);
    }
    //  the stem before number stripping ("7 Rings"), when it differs
    if (rest != stem && v < 3) {
        if (sp_title_parse (stem, t) == 0 && strcmp (t->base, f->title_norm[v - 1]) != 0)
            s_copy (f->title_norm[v++], SP_MATCH_FIELD, t->base, strlen (t->base));
    }
    free (t);
    s_trim (f->title);
    if (f->artist[0])
        s_norm_into (f->artist_norm, sizeof f->artist_norm, f->artist);
    return 0;
}

//  Parse with the set's memos (NULL: none).
static int
s_parse_path (const char *remote, sp_match_path_t *out, sp_match_set_t *set)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    if (!remote || !remote[0] || strlen (remote) > 4096)
        return -1;
    char buf[4097];
    strcpy (buf, remote);
    char *parts[MAX_PARTS];
    size_t n = 0;
    char *p = buf;
    while (*p) {
        while (*p == '\\' || *p == '/')
            *p++ = 0;
        if (!*p)
            break;
        if (n == MAX_PARTS) {
            //  keep the last components: shift left
            memmove (parts, parts + 1, (MAX_PARTS - 1) * sizeof parts[0]);
            n--;
        }
        parts[n++] = p;
        while (*p && *p != '\\' && *p != '/')
            p++;
    }
    if (n == 0)
        return -1;

    //  the whole path in matching form (also checks UTF-8): the one
    //  normalization every result pays for
    char joined[4200];
    size_t jl = 0;
    for (size_t i = 0; i < n && jl + 4 < sizeof joined; i++) {
        size_t l = strlen (parts[i]);
        if (jl + l + 4 >= sizeof joined)
            l = sizeof joined - jl - 4;
        if (i) {
            memcpy (joined + jl, " / ", 3);
            jl += 3;
        }
        memcpy (joined + jl, parts[i], l);
        jl += l;
    }
    joined[jl] = 0;
    if (s_norm_into (out->path_norm, sizeof out->path_norm, joined) != 0) {
        memset (out, 0, sizeof *out);
        return -1;
    }

    //  file name and extension
    const char *file = parts[n - 1];
    char stem[SP_MATCH_FIELD * 2];
    s_copy (stem, sizeof stem, file, strlen (file));
    char *dot = strrchr (stem, '.');
    if (dot && dot != stem) {
        size_t el = strlen (dot + 1);
        bool ok = el >= 1 && el < sizeof out->ext;
        for (size_t i = 0; ok && i < el; i++)
            ok = isalnum ((unsigned char) dot[1 + i]);
        if (ok) {
            for (size_t i = 0; i <= el; i++)
                out->ext[i] = (char) tolower ((unsigned char) dot[1 + i]);
            *dot = 0;
        }
    }

    //  folders: what is read depends only on the last FOLDER_SCAN of them
    size_t ndirs = n - 1;
    size_t first = ndirs > FOLDER_SCAN ? ndirs - FOLDER_SCAN : 0;
    char key[sizeof joined + 4];
    size_t kl = (size_t) snprintf (key, sizeof key, "%zu", ndirs - first);
    for (size_t i = first; i < ndirs && kl + 2 < sizeof key; i++) {
        key[kl++] = '\\';
        //  a generic folder ("Music", "@@user") only counts as generic
        if (s_is_generic_folder (parts[i])) {
            key[kl++] = '\x01';
            continue;
        }
        size_t l = strlen (parts[i]);
        if (kl + l + 1 >= sizeof key)
            l = sizeof key - kl - 1;
        memcpy (key + kl, parts[i], l);
        kl += l;
    }
    key[kl] = 0;
    s_dir_t dir_local;
    const s_dir_t *d = set ? s_memo_get (&set->dirs, key) : NULL;
    if (!d) {
        s_parse_dirs (parts + first, ndirs - first, &dir_local);
        if (set)
            s_memo_put (&set->dirs, key, &dir_local, sizeof dir_local);
        d = &dir_local;
    }
    s_file_t *file_local = NULL;
    const s_file_t *f = set ? s_memo_get (&set->files, stem) : NULL;
    if (!f) {
        file_local = malloc (sizeof *file_local);
        if (!file_local || s_parse_file (stem, file_local) != 0) {
            free (file_local);
            memset (out, 0, sizeof *out);
            return -1;
        }
        if (set)
            s_memo_put (&set->files, stem, file_local, sizeof *file_local);
        f = file_local;
    }

    //  put together: the file's numbers win, folders name the artist first
    out->disc = f->disc ? f->disc : d->disc;
    out->track = f->track;
    out->year = d->year;
    out->folder_kinds = d->folder_kinds;
    memcpy (out->album, d->album, sizeof out->album);
    memcpy (out->album_norm, d->album_norm, sizeof out->album_norm);
    if (d->artist[0]) {
        memcpy (out->artist, d->artist, sizeof out->artist);
        memcpy (out->artist_norm, d->artist_norm, sizeof out->artist_norm);
    } else {
        memcpy (out->artist, f->artist, sizeof out->artist);
        memcpy (out->artist_norm, f->artist_norm, sizeof out->artist_norm);
    }
    out->kinds = f->kinds;
    out->part = f->part;
    memcpy (out->remixer, f->remixer, sizeof out->remixer);
    memcpy (out->version, f->version, sizeof out->version);
    memcpy (out->title, f->title, sizeof out->title);
    memcpy (out->title_norm, f->title_norm, sizeof out->title_norm);
    memcpy (out->stem_norm, f->stem_norm, sizeof out->stem_norm);
    free (file_local);
    return 0;
}

int
sp_match_parse_path (const char *remote, sp_match_path_t *out)
{
    return s_parse_path (remote, out, NULL);
}

// ---------------------------------------------------------------- track

sp_match_track_t *
sp_match_track_new (const sp_track_t *track)
{
    if (!track || !track->title || !track->artists_count || !track->artists)
        return NULL;
    sp_match_track_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (sp_title_parse (track->title, &self->title) != 0)
        goto fail;
    self->kinds = self->title.kinds;
    for (size_t i = 0; i < track->artists_count && self->n_artists < MAX_ARTISTS; i++) {
        if (!track->artists[i])
            continue;
        char *a = self->artists[self->n_artists];
        if (s_norm_into (a, SP_MATCH_FIELD, track->artists[i]) != 0)
            goto fail;
        if (!a[0])
            continue;
        s_squash (self->artists_sq[self->n_artists], SP_MATCH_FIELD, a);
        self->n_artists++;
    }
    if (self->n_artists == 0)
        goto fail;
    //  featured artists in the title count as credited too
    if (self->title.feat[0] && self->n_artists < MAX_ARTISTS) {
        char *a = self->artists[self->n_artists];
        if (s_norm_into (a, SP_MATCH_FIELD, self->title.feat) == 0 && a[0]) {
            s_squash (self->artists_sq[self->n_artists], SP_MATCH_FIELD, a);
            self->n_artists++;
        }
    }
    if (track->album) {
        sp_title_t *at = malloc (sizeof *at);
        if (!at)
            goto fail;
        if (sp_title_parse (track->album, at) == 0) {
            s_copy (self->album, sizeof self->album, at->base, strlen (at->base));
            //  "MTV Unplugged in New York", "Live at Wembley": the album
            //  says which recording the track is
            self->kinds |= at->kinds & SP_TITLE_HARD_MASK;
        }
        free (at);
        self->kinds |= sp_title_scan_descriptors (track->album) & SP_TITLE_HARD_MASK;
    }
    if (track->has_duration_ms)
        self->duration_s = (int) ((track->duration_ms + 500) / 1000);
    if (track->has_track_number)
        self->track_no = (int) track->track_number;
    if (track->has_disc_number)
        self->disc_no = (int) track->disc_number;
    return self;
fail:
    free (self);
    return NULL;
}

void
sp_match_track_destroy (sp_match_track_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

uint32_t
sp_match_track_kinds (const sp_match_track_t *self)
{
    return self ? self->kinds : 0;
}

int
sp_match_track_duration (const sp_match_track_t *self)
{
    return self ? self->duration_s : 0;
}

const char *
sp_match_track_base (const sp_match_track_t *self)
{
    return self ? self->title.base : "";
}

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

// ---------------------------------------------------------------- scoring

static int
s_format_index (const sp_match_prefs_t *prefs, const char *ext)
{
    for (int i = 0; i < prefs->formats_count; i++)
        if (strcmp (prefs->formats[i], ext) == 0)
            return i;
    return -1;
}

static bool
s_lossless (const sp_match_result_t *r)
{
    const char *ext = r->path.ext;
    if (sp_match_is_lossless_ext (ext))
        return true;
    //  m4a holds ALAC or AAC: a bit depth without a bitrate means ALAC
    return strcmp (ext, "m4a") == 0 && r->bitdepth > 0 && r->bitrate < 0;
}

//  The bitrate, reported or estimated from size and length; -1 unknown.
static int
s_kbps (const sp_match_result_t *r, int duration_s)
{
    if (r->bitrate > 0)
        return r->bitrate;
    int len = r->length > 0 ? r->length : duration_s;
    if (r->size > 0 && len > 0)
        return (int) ((double) r->size * 8.0 / 1000.0 / len);
    return -1;
}

//  Title similarity: best over the file's title variants, also with a
//  credited artist's name removed from the front ("Queen Bohemian Rhapsody").
static double
s_title_sim (const sp_match_track_t *t, const sp_match_path_t *p)
{
    const char *want = t->title.base;
    double best = 0.0;
    for (size_t v = 0; v < 3 && p->title_norm[v][0]; v++) {
        const char *cand = p->title_norm[v];
        if (strcmp (cand, want) == 0)
            return 1.0;
        for (size_t a = 0; a < t->n_artists; a++) {
            size_t al = strlen (t->artists[a]);
            if (strncmp (cand, t->artists[a], al) == 0 && cand[al] == ' ' &&
                strcmp (cand + al + 1, want) == 0)
                return 1.0;
        }
    }
    for (size_t v = 0; v < 3 && p->title_norm[v][0]; v++) {
        double s = s_sim (want, p->title_norm[v]);
        if (s > best)
            best = s;
    }
    if (best < SP_MATCH_TITLE_MIN) {
        for (size_t v = 0; v < 3 && p->title_norm[v][0]; v++)
            for (size_t a = 0; a < t->n_artists; a++) {
                const char *cand = p->title_norm[v];
                size_t al = strlen (t->artists[a]);
                if (strncmp (cand, t->artists[a], al) == 0 && cand[al] == ' ') {
                    double s = s_sim (want, cand + al + 1);
                    if (s > best)
                        best = s;
                }
            }
    }
    return best;
}

static bool
s_artist_in (const char *hay, const sp_match_track_t *t, size_t a)
{
    if (s_word_find (hay, t->artists[a]))
        return true;
    if (strncmp (t->artists[a], "the ", 4) == 0 && s_word_find (hay, t->artists[a] + 4))
        return true;
    return strlen (t->artists_sq[a]) >= 4 && s_squashed_find (hay, t->artists_sq[a]);
}

static sp_match_reject_t
s_reject (sp_match_result_t *r, sp_match_reject_t why)
{
    r->reject = why;
    r->score = 0.0;
    return why;
}

sp_match_reject_t
sp_match_score (const sp_match_track_t *t, const sp_match_prefs_t *prefs, sp_match_result_t *r,
                const sp_peer_t *peer, int64_t now_ms)
{
    r->reject = SP_MATCH_OK;
    r->reject_kinds = 0;
    r->reject_detail[0] = 0;
    r->title_sim = r->match = r->quality = r->peer = r->score = 0.0;
    if (peer)
        r->peer_rec = *peer;
    else
        memset (&r->peer_rec, 0, sizeof r->peer_rec);
    if (peer && sp_peers_blocked (peer, now_ms))
        return s_reject (r, SP_MATCH_REJ_PEER);

    const sp_match_path_t *p = &r->path;
    if (!sp_match_is_audio_ext (p->ext))
        return s_reject (r, SP_MATCH_REJ_NOT_AUDIO);
    int fmt = s_format_index (prefs, p->ext);
    if (prefs->formats_count > 0 && fmt < 0)
        return s_reject (r, SP_MATCH_REJ_FORMAT);
    bool lossless = s_lossless (r);
    if (!lossless && !prefs->allow_lossy)
        return s_reject (r, SP_MATCH_REJ_FORMAT);

    //  title
    double sim = s_title_sim (t, p);
    r->title_sim = sim;
    if (sim < SP_MATCH_TITLE_MIN)
        return s_reject (r, SP_MATCH_REJ_TITLE);

    //  version: the file's own descriptors; folder names ("Live at
    //  Budokan", "Unplugged") count unless the file says which version it is
    uint32_t found = p->kinds;
    if (!(found & (SP_TITLE_HARD_MASK | SP_TITLE_ALBUM_VERSION)))
        found |= p->folder_kinds & SP_TITLE_HARD_MASK;
    if (sp_title_compatible_kinds (t->kinds, found, NULL, 0) != 1) {
        sp_title_compatible_kinds (t->kinds, found, r->reject_detail, sizeof r->reject_detail);
        uint32_t diff = (found ^ t->kinds) & SP_TITLE_HARD_MASK;
        r->reject_kinds = diff & (~diff + 1);
        return s_reject (r, SP_MATCH_REJ_VERSION);
    }
    if (t->title.part && p->part && t->title.part != p->part) {
        snprintf (r->reject_detail, sizeof r->reject_detail, "part %d, not part %d", p->part,
                  t->title.part);
        return s_reject (r, SP_MATCH_REJ_VERSION);
    }
    if ((t->kinds & found & SP_TITLE_REMIX) && t->title.remixer[0] && p->remixer[0] &&
        s_sim (t->title.remixer, p->remixer) < 0.8) {
        snprintf (r->reject_detail, sizeof r->reject_detail, "different remix (%.40s)", p->remixer);
        return s_reject (r, SP_MATCH_REJ_VERSION);
    }
    if ((t->kinds & found & SP_TITLE_OTHER_VERSION) && t->title.version[0] && p->version[0] &&
        s_sim (t->title.version, p->version) < 0.8) {
        snprintf (r->reject_detail, sizeof r->reject_detail, "different version (%.40s)",
                  p->version);
        return s_reject (r, SP_MATCH_REJ_VERSION);
    }

    //  artist somewhere in the path
    double artist_q = 0.0;
    for (size_t a = 0; a < t->n_artists && artist_q < 1.0; a++) {
        if (p->artist_norm[0] && s_sim (t->artists[a], p->artist_norm) >= 0.9)
            artist_q = 1.0;
        else if (s_artist_in (p->stem_norm, t, a) || s_artist_in (p->artist_norm, t, a))
            artist_q = 1.0;
        else if (artist_q < 0.6 && s_artist_in (p->path_norm, t, a))
            artist_q = 0.6;
    }
    if (artist_q == 0.0)
        return s_reject (r, SP_MATCH_REJ_ARTIST);

    //  length
    double length_q = 0.4;
    if (r->length >= 0 && t->duration_s > 0) {
        int d = abs (r->length - t->duration_s);
        if (d > prefs->length_tolerance_s)
            return s_reject (r, SP_MATCH_REJ_LENGTH);
        length_q = 1.0 - (double) d / (prefs->length_tolerance_s + 1);
    }

    //  lossy bitrate bounds
    int kbps = s_kbps (r, t->duration_s);
    if (!lossless && kbps >= 0 && kbps < prefs->min_bitrate &&
        !(r->vbr == 1 && kbps >= SP_MATCH_V0_KBPS))
        return s_reject (r, SP_MATCH_REJ_BITRATE);

    //  match quality
    double album_q = 0.5;
    if (t->album[0] && p->album_norm[0])
        album_q = s_sim (t->album, p->album_norm) >= 0.8 ? 1.0 : 0.2;
    double number_q = 0.5;
    if (t->track_no && p->track)
        number_q = t->track_no == p->track ? 1.0 : 0.2;
    double m = 0.55 * sim + 0.15 * artist_q + 0.10 * album_q + 0.12 * length_q + 0.08 * number_q;
    if ((t->kinds ^ found) & SP_TITLE_SOFT_MASK)
        m -= 0.10;  //  a radio edit for the album cut (or back)
    if (m < 0)
        m = 0;
    r->match = m;

    //  format and quality
    double fmt_q = prefs->formats_count > 0 ? 1.0 - (double) fmt / prefs->formats_count
                                            : (lossless ? 1.0 : 0.5);
    double qual = 1.0;
    if (!lossless)
        qual = kbps > 0 ? (kbps >= 320 ? 1.0 : kbps / 320.0) : 0.6;
    r->quality = 0.7 * fmt_q + 0.3 * qual;

    //  peer
    double pq = r->free_slot == 1 ? 0.35 : r->free_slot < 0 ? 0.15 : 0.0;
    pq += r->queue >= 0 ? 0.2 / (1.0 + (double) r->queue / 10.0) : 0.1;
    double speed =
        r->speed > 0 ? (double) r->speed : (peer && peer->speed > 0 ? (double) peer->speed : 0.0);
    if (speed > 0)
        pq += 0.2 * fmin (1.0, log1p (speed / 1024.0) / log1p (SPEED_GOOD / 1024.0));
    if (peer && peer->known)
        pq += 0.25 * (double) (peer->ok + 1) / (double) (peer->ok + peer->fail + 2);
    else
        pq += 0.125;
    r->peer = pq;

    double tier = floor (m * TIER_STEPS + 0.5) / TIER_STEPS;
    r->score = tier * W_MATCH + r->quality * W_QUALITY + pq * W_PEER;
    return SP_MATCH_OK;
}

// ---------------------------------------------------------------- sets

sp_match_set_t *
sp_match_set_new (void)
{
    return calloc (1, sizeof (sp_match_set_t));
}

void
sp_match_set_destroy (sp_match_set_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_match_set_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->items[i].username);
        free (self->items[i].filename);
    }
    free (self->items);
    free (self->order);
    s_memo_clear (&self->dirs);
    s_memo_clear (&self->files);
    free (self);
    *self_p = NULL;
}

int
sp_match_set_add (sp_match_set_t *self, const sp_match_result_t *r)
{
    if (!self || !r || !r->username || !r->filename || !r->username[0] || !r->filename[0])
        return -1;
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        sp_match_result_t *items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        size_t *order = realloc (self->order, cap * sizeof *order);
        if (!order)
            return -1;
        self->order = order;
        self->cap = cap;
    }
    sp_match_result_t *dst = &self->items[self->count];
    *dst = *r;
    if (s_parse_path (r->filename, &dst->path, self) != 0)
        return -1;
    dst->username = strdup (r->username);
    dst->filename = strdup (r->filename);
    if (!dst->username || !dst->filename) {
        free (dst->username);
        free (dst->filename);
        return -1;
    }
    dst->reject = SP_MATCH_OK;
    dst->score = 0.0;
    self->order[self->count] = self->count;
    self->count++;
    return 0;
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
        const char *user = json_string_value (json_object_get (resp, "username"));
        const json_t *files = json_object_get (resp, "files");
        if (!user || !json_is_array (files))
            continue;
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
            const char *name = json_string_value (json_object_get (f, "filename"));
            if (!name)
                continue;
            if (json_is_true (json_object_get (f, "isLocked")))
                continue;
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
sp_match_set_count (const sp_match_set_t *self)
{
    return self ? self->count : 0;
}

sp_match_result_t *
sp_match_set_get (sp_match_set_t *self, size_t i)
{
    if (!self || i >= self->count)
        return NULL;
    return &self->items[self->order[i]];
}

size_t
sp_match_set_accepted (const sp_match_set_t *self)
{
    return self ? self->accepted : 0;
}

static int
s_cmp_r (const void *a, const void *b, void *arg)
{
    const sp_match_result_t *items = arg;
    const sp_match_result_t *x = &items[*(const size_t *) a];
    const sp_match_result_t *y = &items[*(const size_t *) b];
    bool xa = x->reject == SP_MATCH_OK, ya = y->reject == SP_MATCH_OK;
    if (xa != ya)
        return xa ? -1 : 1;
    if (xa) {
        if (x->score != y->score)
            return x->score > y->score ? -1 : 1;
    } else if (x->reject != y->reject)
        return x->reject < y->reject ? -1 : 1;
    int c = strcmp (x->username, y->username);
    if (c)
        return c;
    c = strcmp (x->filename, y->filename);
    if (c)
        return c;
    return *(const size_t *) a < *(const size_t *) b ? -1 : 1;
}

size_t
sp_match_set_rank (sp_match_set_t *self, const sp_match_track_t *track,
                   const sp_match_prefs_t *prefs, const char *const *excluded, size_t n_excluded,
                   sp_match_peer_fn *peer_fn, void *peer_arg, int64_t now_ms)
{
    if (!self || !track || !prefs)
        return 0;
    size_t accepted = 0;
    for (size_t i = 0; i < self->count; i++) {
        sp_match_result_t *r = &self->items[i];
        bool skip = false;
        for (size_t e = 0; e < n_excluded && !skip; e++)
            skip = excluded[e] && strcmp (excluded[e], r->username) == 0;
        if (skip) {
            r->title_sim = r->match = r->quality = r->peer = 0.0;
            r->reject_detail[0] = 0;
            s_reject (r, SP_MATCH_REJ_EXCLUDED);
            continue;
        }
        const sp_peer_t *peer = peer_fn ? peer_fn (peer_arg, r->username) : NULL;
        if (sp_match_score (track, prefs, r, peer, now_ms) == SP_MATCH_OK)
            accepted++;
        self->order[i] = i;
    }
    for (size_t i = 0; i < self->count; i++)
        self->order[i] = i;
    //  an empty set has no order array yet (qsort_r wants a pointer anyway)
    if (self->count > 1)
        qsort_r (self->order, self->count, sizeof self->order[0], s_cmp_r, self->items);
    self->accepted = accepted;
    return accepted;
}

// ---------------------------------------------------------------- reasons

static void
s_mmss (int s, char *buf, size_t n)
{
    snprintf (buf, n, "%d:%02d", s / 60, s % 60);
}

char *
sp_match_reason (const sp_match_result_t *r, const sp_match_prefs_t *prefs,
                 const sp_match_track_t *track, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    buf[0] = 0;
    if (!r)
        return buf;
    char a[16], b[16];
    switch (r->reject) {
        case SP_MATCH_OK:
            snprintf (buf, n, "accepted");
            break;
        case SP_MATCH_REJ_EXCLUDED:
            snprintf (buf, n, "user excluded (failed before for this track)");
            break;
        case SP_MATCH_REJ_PEER:
            snprintf (buf, n, "peer failed %lld transfers in a row, skipped for now",
                      (long long) r->peer_rec.streak);
            break;
        case SP_MATCH_REJ_NOT_AUDIO:
            snprintf (buf, n, "not an audio file (%s%s)", r->path.ext[0] ? "." : "no extension",
                      r->path.ext);
            break;
        case SP_MATCH_REJ_FORMAT:
            if (prefs && !prefs->allow_lossy && !sp_match_is_lossless_ext (r->path.ext) &&
                (prefs->formats_count == 0 || s_format_index (prefs, r->path.ext) >= 0))
                snprintf (buf, n, "lossy %s not allowed", r->path.ext);
            else
                snprintf (buf, n, "format %s not accepted", r->path.ext);
            break;
        case SP_MATCH_REJ_BITRATE: {
            int kbps = s_kbps (r, track ? track->duration_s : 0);
            snprintf (buf, n, "%s at %d kbps%s, below %d kbps", r->path.ext, kbps,
                      r->bitrate > 0 ? "" : " (estimated)", prefs ? prefs->min_bitrate : 0);
            break;
        }
        case SP_MATCH_REJ_LENGTH:
            s_mmss (r->length, a, sizeof a);
            s_mmss (track ? track->duration_s : 0, b, sizeof b);
            snprintf (buf, n, "length %s, wanted %s (±%d s)", a, b,
                      prefs ? prefs->length_tolerance_s : 0);
            break;
        case SP_MATCH_REJ_TITLE:
            snprintf (buf, n, "title \"%.80s\" is not \"%.80s\" (%.2f)", r->path.title_norm[0],
                      track ? track->title.base : "", r->title_sim);
            break;
        case SP_MATCH_REJ_VERSION:
            snprintf (buf, n, "%s", r->reject_detail[0] ? r->reject_detail : "other version");
            break;
        case SP_MATCH_REJ_ARTIST:
            snprintf (buf, n, "no credited artist (%.80s) in the path",
                      track && track->n_artists ? track->artists[0] : "");
            break;
        default:
            snprintf (buf, n, "rejected");
    }
    return buf;
}

char *
sp_match_category (const sp_match_result_t *r, const sp_match_prefs_t *prefs, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    buf[0] = 0;
    if (!r)
        return buf;
    switch (r->reject) {
        case SP_MATCH_OK:
            snprintf (buf, n, "accepted");
            break;
        case SP_MATCH_REJ_EXCLUDED:
            snprintf (buf, n, "excluded user");
            break;
        case SP_MATCH_REJ_PEER:
            snprintf (buf, n, "failing peer");
            break;
        case SP_MATCH_REJ_NOT_AUDIO:
            snprintf (buf, n, "not audio");
            break;
        case SP_MATCH_REJ_FORMAT:
            snprintf (buf, n, "unaccepted format");
            break;
        case SP_MATCH_REJ_BITRATE:
            snprintf (buf, n, "below %d kbps", prefs ? prefs->min_bitrate : 0);
            break;
        case SP_MATCH_REJ_LENGTH:
            snprintf (buf, n, "wrong length");
            break;
        case SP_MATCH_REJ_TITLE:
            snprintf (buf, n, "other title");
            break;
        case SP_MATCH_REJ_VERSION:
            if (r->reject_detail[0] && strncmp (r->reject_detail, "not the ", 8) != 0 &&
                strncmp (r->reject_detail, "different", 9) != 0 &&
                strncmp (r->reject_detail, "part ", 5) != 0)
                snprintf (buf, n, "%s", r->reject_detail);
            else if (strncmp (r->reject_detail, "not the ", 8) == 0)
                snprintf (buf, n, "without the version asked for");
            else if (strncmp (r->reject_detail, "different remix", 15) == 0)
                snprintf (buf, n, "other remix");
            else
                snprintf (buf, n, "other version");
            break;
        case SP_MATCH_REJ_ARTIST:
            snprintf (buf, n, "artist missing");
            break;
        default:
            snprintf (buf, n, "rejected");
    }
    return buf;
}

//  English plural of a category made of a count noun ("live version" →
//  "live versions", "remix" → "remixes"); phrases are left alone.
static void
s_plural (char *dst, size_t n, const char *cat, size_t count)
{
    static const char *const nouns[] = {
        "excluded user", "failing peer",      "other title", "other remix",
        "other version", "unaccepted format", NULL};
    size_t len = strlen (cat);
    bool noun = s_in_list (nouns, cat) || strstr (cat, "version") || strstr (cat, "remix") ||
                strstr (cat, "cover") || strstr (cat, "demo") || strstr (cat, "edit") ||
                strstr (cat, "recording");
    if (strncmp (cat, "below", 5) == 0 || strncmp (cat, "wrong", 5) == 0 ||
        strncmp (cat, "without", 7) == 0 || strncmp (cat, "not ", 4) == 0 || strchr (cat, '(') ||
        strstr (cat, "asked"))
        noun = false;
    if (count == 1 || !noun || len == 0)
        snprintf (dst, n, "%s", cat);
    else if (cat[len - 1] == 'x' || cat[len - 1] == 's')
        snprintf (dst, n, "%ses", cat);
    else
        snprintf (dst, n, "%ss", cat);
}

char *
sp_match_set_summary (const sp_match_set_t *self, const sp_match_prefs_t *prefs, char *buf,
                      size_t n)
{
    if (!buf || n == 0)
        return buf;
    buf[0] = 0;
    if (!self)
        return buf;
    enum { MAX_CATS = 24 };
    char cats[MAX_CATS][96];
    size_t counts[MAX_CATS];
    size_t ncats = 0, other = 0;
    for (size_t i = 0; i < self->count; i++) {
        const sp_match_result_t *r = &self->items[i];
        if (r->reject == SP_MATCH_OK)
            continue;
        char cat[96];
        sp_match_category (r, prefs, cat, sizeof cat);
        size_t k;
        for (k = 0; k < ncats; k++)
            if (strcmp (cats[k], cat) == 0)
                break;
        if (k == ncats) {
            if (ncats == MAX_CATS) {
                other++;
                continue;
            }
            snprintf (cats[k], sizeof cats[k], "%s", cat);
            counts[k] = 0;
            ncats++;
        }
        counts[k]++;
    }
    //  most frequent first, then by name (deterministic)
    for (size_t i = 1; i < ncats; i++)
        for (size_t j = i;
             j > 0 && (counts[j] > counts[j - 1] ||
                       (counts[j] == counts[j - 1] && strcmp (cats[j], cats[j - 1]) < 0));
             j--) {
            char tmp[96];
            memcpy (tmp, cats[j], sizeof tmp);
            memcpy (cats[j], cats[j - 1], sizeof tmp);
            memcpy (cats[j - 1], tmp, sizeof tmp);
            size_t c = counts[j];
            counts[j] = counts[j - 1];
            counts[j - 1] = c;
        }
    size_t off =
        (size_t) snprintf (buf, n, "%zu result%s", self->count, self->count == 1 ? "" : "s");
    for (size_t i = 0; i < ncats && off < n; i++) {
        char word[128];
        s_plural (word, sizeof word, cats[i], counts[i]);
        off += (size_t) snprintf (buf + off, n - off, "%s%zu %s", i ? ", " : ": ", counts[i], word);
    }
    if (other && off < n)
        snprintf (buf + off, n - off, ", %zu other", other);
    return buf;
}

int
sp_match_set_to_payload (const sp_match_set_t *self, const sp_match_prefs_t *prefs,
                         sp_payload_t *payload)
{
    if (!self || !prefs || !payload)
        return -1;
    int max = prefs->max_candidates > 0 ? prefs->max_candidates : 10;
    if (max > SP_MSG_MAX_CANDIDATES)
        max = SP_MSG_MAX_CANDIDATES;
    int per_user = prefs->max_per_user > 0 ? prefs->max_per_user : 2;
    int added = 0;
    size_t base = payload->candidates_count;
    for (size_t i = 0; i < self->count && added < max; i++) {
        const sp_match_result_t *r = &self->items[self->order[i]];
        if (r->reject != SP_MATCH_OK)
            break;
        int same = 0;
        for (size_t k = base; k < payload->candidates_count; k++)
            if (strcmp (payload->candidates[k].username, r->username) == 0)
                same++;
        if (same >= per_user)
            continue;
        sp_candidate_t c;
        memset (&c, 0, sizeof c);
        c.username = r->username;
        c.filename = r->filename;
        c.size = r->size;
        c.ext = (char *) r->path.ext;
        if (r->bitrate >= 0) {
            c.has_bitrate = true;
            c.bitrate = (uint64_t) r->bitrate;
        }
        if (r->bitdepth >= 0) {
            c.has_bitdepth = true;
            c.bitdepth = (uint64_t) r->bitdepth;
        }
        if (r->samplerate >= 0) {
            c.has_samplerate = true;
            c.samplerate = (uint64_t) r->samplerate;
        }
        if (r->length >= 0) {
            c.has_length = true;
            c.length = (uint64_t) r->length;
        }
        if (r->vbr >= 0) {
            c.has_vbr = true;
            c.vbr = r->vbr == 1;
        }
        if (r->free_slot >= 0) {
            c.has_free_slot = true;
            c.free_slot = r->free_slot == 1;
        }
        if (r->queue >= 0) {
            c.has_queue = true;
            c.queue = (uint64_t) r->queue;
        }
        if (r->speed >= 0) {
            c.has_speed = true;
            c.speed = (uint64_t) r->speed;
        }
        c.score = r->score;
        if (sp_payload_add_candidate (payload, &c) != SP_MSG_OK)
            return -1;
        added++;
    }
    return added;
}
