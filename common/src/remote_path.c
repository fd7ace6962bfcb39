/*  remote_path.c: a Soulseek remote path taken apart (see remote_path.h).

    Steps: split the path into components (the last MAX_PARTS kept); the
    whole path in matching form (the one normalization every path pays for,
    which also checks UTF-8); the extension; the folders (album folder,
    "CD2" disc folder, the artist folder above, descriptors of the last
    FOLDER_SCAN folders); the file stem (track number, " - " segments,
    title descriptors, title variants); then the two put together. Folder
    and file parses go through the memo when there is one.
*/
#include "soulpipe/remote_path.h"
#include "match_text.h"
#include "soulpipe/title.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#define MAX_PARTS   64    //  path components looked at
#define FOLDER_SCAN 3     //  last folders scanned for descriptors
#define MAX_REMOTE  4096  //  bytes of a remote path parsed at most
#define MEMO_MAX    4096  //  entries kept per memo (then: no caching)

//  A small string-keyed memo (open addressing, FNV-1a).
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

struct _sp_remote_path_memo_t {
    s_memo_t dirs;   //  folder part of a path -> s_dir_t
    s_memo_t files;  //  file stem -> s_file_t
};

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
    if (sp_match__is_year (lower, len)) {
        *year = atoi (lower);
        return true;
    }
    //  "2019, flac" / "1994 remaster" → year, but only drop pure tag groups
    for (size_t i = 0; i + 4 <= len; i++)
        if (sp_match__is_year (lower + i, 4) &&
            (i == 0 || !isdigit ((unsigned char) lower[i - 1])) &&
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
    sp_match__trim (s);
    //  leading "2019 - " / "(2019) " already gone; "2019 Album" / "2019 - Album"
    size_t len = strlen (s);
    if (len > 5 && sp_match__is_year (s, 4) && !isalnum ((unsigned char) s[4])) {
        *year = atoi (s);
        memmove (s, s + 4, len - 4 + 1);
        while (*s == ' ' || *s == '-' || *s == '.' || *s == '_')
            memmove (s, s + 1, strlen (s));
    }
    sp_match__trim (s);
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
    return sp_match__in_list (generic, lower);
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
s_parse_album_dir (const char *dir, sp_remote_path_t *out)
{
    char buf[SP_REMOTE_PATH_FIELD * 2];
    sp_match__copy (buf, sizeof buf, dir, strlen (dir));
    s_strip_tags (buf, &out->year);
    const char *seg[8];
    size_t len[8];
    size_t n = s_split_segments (buf, seg, len, 8);
    const char *keep[8];
    size_t keep_len[8];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (sp_match__is_year (seg[i], len[i])) {
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
        sp_match__copy (out->artist, sizeof out->artist, keep[0], keep_len[0]);
        //  the album is everything after the artist
        const char *start = keep[1];
        size_t total = (size_t) (keep[k - 1] + keep_len[k - 1] - start);
        sp_match__copy (out->album, sizeof out->album, start, total);
    } else
        sp_match__copy (out->album, sizeof out->album, keep[0], keep_len[0]);
    sp_match__trim (out->album);
    sp_match__trim (out->artist);
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
    char artist[SP_REMOTE_PATH_FIELD];
    char artist_norm[SP_REMOTE_PATH_FIELD];
    char album[SP_REMOTE_PATH_FIELD];
    char album_norm[SP_REMOTE_PATH_FIELD];
} s_dir_t;

//  What the file stem (name without extension) says.
typedef struct {
    int disc, track;
    uint32_t kinds;
    int part;
    char remixer[64];
    char version[64];
    char title[SP_REMOTE_PATH_FIELD];
    char title_norm[3][SP_REMOTE_PATH_FIELD];
    char stem_norm[SP_REMOTE_PATH_FIELD];
    char artist[SP_REMOTE_PATH_FIELD];  //  "Artist - Title": the first segment
    char artist_norm[SP_REMOTE_PATH_FIELD];
} s_file_t;

static void
s_parse_dirs (char *const *dirs, size_t ndirs, s_dir_t *d)
{
    sp_remote_path_t tmp;  //  s_parse_album_dir fills one
    memset (&tmp, 0, sizeof tmp);
    ssize_t album_i = (ssize_t) ndirs - 1;
    if (album_i >= 0 && s_disc_folder (dirs[album_i], &tmp.disc))
        album_i--;
    if (album_i >= 0 && !s_is_generic_folder (dirs[album_i]))
        s_parse_album_dir (dirs[album_i], &tmp);
    if (!tmp.artist[0] && album_i >= 1 && !s_is_generic_folder (dirs[album_i - 1])) {
        sp_match__copy (tmp.artist, sizeof tmp.artist, dirs[album_i - 1],
                        strlen (dirs[album_i - 1]));
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
        sp_match__norm (d->artist_norm, sizeof d->artist_norm, d->artist);
    if (d->album[0]) {
        sp_title_t *at = malloc (sizeof *at);
        if (at && sp_title_parse (d->album, at) == 0)
            sp_match__copy (d->album_norm, sizeof d->album_norm, at->base, strlen (at->base));
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
    char body[SP_REMOTE_PATH_FIELD * 2];
    sp_match__copy (body, sizeof body, rest, strlen (rest));
    //  "Artist - 03 - Title": a number segment inside
    const char *seg[8];
    size_t len[8];
    size_t ns = s_split_segments (body, seg, len, 8);
    char clean[SP_REMOTE_PATH_FIELD * 2];
    size_t cl = 0;
    for (size_t i = 0; i < ns; i++) {
        if (ns > 1 && len[i] <= 3 && sp_match__is_digits (seg[i], len[i])) {
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
    sp_match__copy (f->remixer, sizeof f->remixer, t->remixer, strlen (t->remixer));
    sp_match__copy (f->version, sizeof f->version, t->version, strlen (t->version));
    sp_match__norm (f->stem_norm, sizeof f->stem_norm, clean);

    //  title variants from the base: whole, without the first segment
    //  ("Artist - Title"), the last segment only
    ns = s_split_segments (t->base_raw, seg, len, 8);
    size_t v = 0;
    if (ns >= 2) {
        const char *start = seg[1];
        size_t total = (size_t) (seg[ns - 1] + len[ns - 1] - start);
        char tmp[SP_REMOTE_PATH_FIELD];
        sp_match__copy (tmp, sizeof tmp, start, total);
        sp_match__copy (f->title, sizeof f->title, tmp, strlen (tmp));
        sp_match__norm (f->title_norm[v++], SP_REMOTE_PATH_FIELD, tmp);
        sp_match__copy (f->artist, sizeof f->artist, seg[0], len[0]);
    } else
        sp_match__copy (f->title, sizeof f->title, t->base_raw, strlen (t->base_raw));
    sp_match__copy (f->title_norm[v++], SP_REMOTE_PATH_FIELD, t->base, strlen (t->base));
    if (ns >= 3) {
        char tmp[SP_REMOTE_PATH_FIELD];
        sp_match__copy (tmp, sizeof tmp, seg[ns - 1], len[ns - 1]);
        sp_match__norm (f->title_norm[v++], SP_REMOTE_PATH_FIELD, tmp);
    }
    //  the stem before number stripping ("7 Rings"), when it differs
    if (rest != stem && v < 3) {
        if (sp_title_parse (stem, t) == 0 && strcmp (t->base, f->title_norm[v - 1]) != 0)
            sp_match__copy (f->title_norm[v++], SP_REMOTE_PATH_FIELD, t->base, strlen (t->base));
    }
    free (t);
    sp_match__trim (f->title);
    if (f->artist[0])
        sp_match__norm (f->artist_norm, sizeof f->artist_norm, f->artist);
    return 0;
}

// ---------------------------------------------------------------- path parsing (steps)

#define JOINED_MAX (MAX_REMOTE + 104)  //  the components " / " joined, bytes

//  Split buf (a writable copy of the path) at '\' and '/' in place into
//  parts; only the last MAX_PARTS components are kept. Returns the count.
static size_t
s_split_parts (char *buf, char **parts)
{
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
    return n;
}

//  The whole path in matching form into out->path_norm (also checks
//  UTF-8): the one normalization every result pays for. Returns 0 or -1.
static int
s_norm_joined (char *const *parts, size_t n, sp_remote_path_t *out)
{
    char joined[JOINED_MAX];
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
    return sp_match__norm (out->path_norm, sizeof out->path_norm, joined);
}

//  The file name without its extension into stem; a plausible extension
//  (1..15 letters or digits) goes to ext in lower case.
static void
s_split_ext (const char *file, char *stem, size_t stem_size, char *ext, size_t ext_size)
{
    sp_match__copy (stem, stem_size, file, strlen (file));
    char *dot = strrchr (stem, '.');
    if (!dot || dot == stem)
        return;
    size_t el = strlen (dot + 1);
    bool ok = el >= 1 && el < ext_size;
    for (size_t i = 0; ok && i < el; i++)
        ok = isalnum ((unsigned char) dot[1 + i]);
    if (!ok)
        return;
    for (size_t i = 0; i <= el; i++)
        ext[i] = (char) tolower ((unsigned char) dot[1 + i]);
    *dot = 0;
}

//  The memo key of the folders dirs[0..ndirs): what s_parse_dirs reads
//  depends only on them, and a generic folder ("Music", "@@user") only
//  counts as generic.
static void
s_dir_key (char *const *dirs, size_t ndirs, char *key, size_t key_size)
{
    size_t kl = (size_t) snprintf (key, key_size, "%zu", ndirs);
    for (size_t i = 0; i < ndirs && kl + 2 < key_size; i++) {
        key[kl++] = '\\';
        if (s_is_generic_folder (dirs[i])) {
            key[kl++] = '\x01';
            continue;
        }
        size_t l = strlen (dirs[i]);
        if (kl + l + 1 >= key_size)
            l = key_size - kl - 1;
        memcpy (key + kl, dirs[i], l);
        kl += l;
    }
    key[kl] = 0;
}

//  What the folders say, from the memo or parsed into *local (and kept).
static const s_dir_t *
s_dirs_get (sp_remote_path_memo_t *memo, char *const *dirs, size_t ndirs, s_dir_t *local)
{
    char key[JOINED_MAX + 4];
    s_dir_key (dirs, ndirs, key, sizeof key);
    const s_dir_t *d = memo ? s_memo_get (&memo->dirs, key) : NULL;
    if (d)
        return d;
    s_parse_dirs (dirs, ndirs, local);
    if (memo)
        s_memo_put (&memo->dirs, key, local, sizeof *local);
    return local;
}

//  What the file stem says, from the memo or parsed into a new *local
//  (caller frees; kept in the memo as a copy). NULL when it does not parse.
static const s_file_t *
s_file_get (sp_remote_path_memo_t *memo, const char *stem, s_file_t **local)
{
    const s_file_t *f = memo ? s_memo_get (&memo->files, stem) : NULL;
    if (f)
        return f;
    *local = malloc (sizeof **local);
    if (!*local || s_parse_file (stem, *local) != 0) {
        free (*local);
        *local = NULL;
        return NULL;
    }
    if (memo)
        s_memo_put (&memo->files, stem, *local, sizeof **local);
    return *local;
}

//  Put together: the file's numbers win, folders name the artist first.
static void
s_assemble (sp_remote_path_t *out, const s_dir_t *d, const s_file_t *f)
{
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
}

// ---------------------------------------------------------------- API

int
sp_remote_path_parse_memo (const char *remote, sp_remote_path_t *out, sp_remote_path_memo_t *memo)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    if (!remote || !remote[0] || strlen (remote) > MAX_REMOTE)
        return -1;
    char buf[MAX_REMOTE + 1];
    strcpy (buf, remote);
    char *parts[MAX_PARTS];
    size_t n = s_split_parts (buf, parts);
    if (n == 0 || s_norm_joined (parts, n, out) != 0)
        goto fail;
    char stem[SP_REMOTE_PATH_FIELD * 2];
    s_split_ext (parts[n - 1], stem, sizeof stem, out->ext, sizeof out->ext);
    //  folders: what is read depends only on the last FOLDER_SCAN of them
    size_t ndirs = n - 1;
    size_t first = ndirs > FOLDER_SCAN ? ndirs - FOLDER_SCAN : 0;
    s_dir_t dir_local;
    const s_dir_t *d = s_dirs_get (memo, parts + first, ndirs - first, &dir_local);
    s_file_t *file_local = NULL;
    const s_file_t *f = s_file_get (memo, stem, &file_local);
    if (!f)
        goto fail;
    s_assemble (out, d, f);
    free (file_local);
    return 0;
fail:
    memset (out, 0, sizeof *out);
    return -1;
}

int
sp_remote_path_parse (const char *remote, sp_remote_path_t *out)
{
    return sp_remote_path_parse_memo (remote, out, NULL);
}

sp_remote_path_memo_t *
sp_remote_path_memo_new (void)
{
    return calloc (1, sizeof (sp_remote_path_memo_t));
}

void
sp_remote_path_memo_destroy (sp_remote_path_memo_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_memo_clear (&(*self_p)->dirs);
    s_memo_clear (&(*self_p)->files);
    free (*self_p);
    *self_p = NULL;
}
