/*  title.c: version descriptors in track titles.

    A title is cut into segments: the contents of (), [] and {} groups, and
    the pieces after " - " separators. Each such "marked" segment is
    normalized (sp_text_normalize) and its words are matched against the
    descriptor rules below; a segment with a descriptor is removed from the
    base title, any other segment stays in it ("(I Can't Get No)
    Satisfaction"). Words outside marked segments are only looked at by
    sp_title_scan_descriptors(), with a stricter subset of the rules.
*/
#include "soulpipe/title.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soulpipe/err.h"
#include "soulpipe/text.h"

#define S_MAX_TOK 48  //  words per segment looked at
//  internal: segment holds a descriptor that has no kind bit (a bare year)
#define S_RECOG (1u << 31)

//  ---------------------------------------------------------------------
//  Small string helpers

//  Copy n bytes of src into dst (size bytes), cut on a UTF-8 boundary.
static void
s_copy (char *dst, size_t size, const char *src, size_t n)
{
    if (size == 0)
        return;
    if (n > size - 1) {
        n = size - 1;
        while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy (dst, src, n);
    dst[n] = 0;
}

static void
s_append (char *dst, size_t size, const char *sep, const char *src)
{
    size_t l = strlen (dst);
    if (l > 0 && sep) {
        s_copy (dst + l, size - l, sep, strlen (sep));
        l = strlen (dst);
    }
    s_copy (dst + l, size - l, src, strlen (src));
}

typedef struct {
    char buf[1024];            //  normalized segment, spaces -> NULs
    const char *t[S_MAX_TOK];  //  words
    int n;                     //  word count
} s_toks_t;

static void
s_tokenize (const char *norm, s_toks_t *tk)
{
    s_copy (tk->buf, sizeof tk->buf, norm, strlen (norm));
    tk->n = 0;
    char *p = tk->buf;
    while (*p && tk->n < S_MAX_TOK) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        tk->t[tk->n++] = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
    }
}

static const char *
s_tok (const s_toks_t *tk, int i)
{
    return i >= 0 && i < tk->n ? tk->t[i] : "";
}

static bool
s_is (const char *w, const char *lit)
{
    return strcmp (w, lit) == 0;
}

//  True when w equals one of the NULL-terminated list
static bool
s_in (const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp (w, *list) == 0)
            return true;
    return false;
}

static int
s_year (const char *w)
{
    if (strlen (w) != 4)
        return 0;
    for (int i = 0; i < 4; i++)
        if (w[i] < '0' || w[i] > '9')
            return 0;
    int y = atoi (w);
    return y >= 1900 && y <= 2099 ? y : 0;
}

//  Part numbers: 1..99, roman i..xx, english one..twelve
static int
s_number (const char *w)
{
    static const char *const roman[] = {"i",    "ii",  "iii",  "iv",    "v",   "vi",   "vii",
                                        "viii", "ix",  "x",    "xi",    "xii", "xiii", "xiv",
                                        "xv",   "xvi", "xvii", "xviii", "xix", "xx",   NULL};
    static const char *const words[] = {"one",    "two",    "three", "four", "five",
                                        "six",    "seven",  "eight", "nine", "ten",
                                        "eleven", "twelve", NULL};
    size_t l = strlen (w);
    if (l >= 1 && l <= 2 && w[0] >= '0' && w[0] <= '9' &&
        (l == 1 || (w[1] >= '0' && w[1] <= '9'))) {
        int v = atoi (w);
        return v > 0 ? v : 0;
    }
    for (int i = 0; roman[i]; i++)
        if (s_is (w, roman[i]))
            return i + 1;
    for (int i = 0; words[i]; i++)
        if (s_is (w, words[i]))
            return i + 1;
    return 0;
}

static bool
s_is_part_word (const char *w)
{
    return s_is (w, "pt") || s_is (w, "pts") || s_is (w, "part") || s_is (w, "parte") ||
           s_is (w, "partie") || s_is (w, "teil");
}

//  ---------------------------------------------------------------------
//  Descriptor rules

//  Words that qualify a remix/edit rather than name its author
static const char *const s_mix_words[] = {
    "extended",   "radio",        "club",    "original", "official", "vip",    "dub",
    "edit",       "remix",        "mix",     "version",  "12",       "inch",   "feat",
    "remixed",    "rmx",          "short",   "long",     "album",    "single", "clean",
    "explicit",   "instrumental", "bootleg", "rework",   "reworked", "flip",   "mixed",
    "remastered", "remaster",     "by",      NULL};

//  The author of a remix whose keyword is word k: the words before it
//  (without qualifiers and years), or the words after "by".
static void
s_remixer (const s_toks_t *tk, int k, sp_title_t *t)
{
    if (t->remixer[0])
        return;
    char name[SP_TITLE_TEXT_MAX] = "";
    if (s_is (s_tok (tk, k + 1), "by")) {
        for (int j = k + 2; j < tk->n; j++)
            s_append (name, sizeof name, " ", tk->t[j]);
    } else {
        for (int j = 0; j < k; j++)
            if (!s_in (tk->t[j], s_mix_words) && !s_year (tk->t[j]))
                s_append (name, sizeof name, " ", tk->t[j]);
    }
    s_copy (t->remixer, sizeof t->remixer, name, strlen (name));
}

//  Is word i a "live" descriptor? marked: inside ()/[] or after " - ".
static bool
s_live_at (const s_toks_t *tk, int i, bool marked)
{
    static const char *const after_unmarked[] = {"at", "in", "from", "on", NULL};
    static const char *const after_marked[] = {
        "at",         "in",          "from",    "on",       "version",  "recording",
        "recordings", "performance", "session", "sessions", "lounge",   "take",
        "acoustic",   "unplugged",   "edit",    "mix",      "remaster", "remastered",
        "and",        "with",        "bootleg", "vocal",    "track",    NULL};
    static const char *const before[] = {"recorded", "bbc", "mtv", NULL};
    const char *next = s_tok (tk, i + 1);
    if (!marked)
        return s_in (next, after_unmarked);
    return tk->n == 1 || i == tk->n - 1 || s_in (next, after_marked) || s_year (next) ||
           s_in (s_tok (tk, i - 1), before);
}

//  Word lists of the marked-segment rules
static const char *const s_remix_words[] = {"remix",   "rmx",  "remixed", "rework", "reworked",
                                            "bootleg", "flip", "vip",     "mixed",  NULL};
static const char *const s_edit_prev[] = {"",      "radio",    "single", "short",
                                          "clean", "explicit", "album",  "original",
                                          "video", "7",        "promo",  NULL};
static const char *const s_acappella[] = {"acappella",  "acapella",  "accapella", "acapela",
                                          "acappellas", "acapellas", NULL};
static const char *const s_edition[] = {"deluxe",   "edition",    "anniversary", "bonus",
                                        "expanded", "soundtrack", "ost",         NULL};

//  What the rules found in one segment so far.
typedef struct {
    uint32_t k;          //  kinds (and S_RECOG)
    int version_at;      //  the first "version" no rule explained, or -1
    int year;            //  the last year seen, 0 = none
    bool remaster_seen;  //  a "remaster..." word was seen
} s_found_t;

//  The rules for word i that also apply to unmarked text (scan mode).
static void
s_rules_any (const s_toks_t *tk, int i, bool marked, s_found_t *f)
{
    const char *w = tk->t[i];
    const char *next = s_tok (tk, i + 1);
    uint32_t k = 0;
    if (strncmp (w, "remaster", 8) == 0) {
        k |= SP_TITLE_REMASTER;
        f->remaster_seen = true;
    }
    if (s_is (w, "live") && s_live_at (tk, i, marked))
        k |= SP_TITLE_LIVE;
    if (s_is (w, "unplugged"))
        k |= SP_TITLE_UNPLUGGED;
    if (s_is (w, "karaoke"))
        k |= SP_TITLE_KARAOKE;
    if (s_is (w, "instrumentals"))
        k |= SP_TITLE_INSTRUMENTAL;
    if (s_is (w, "remixes") || s_is (w, "remixed"))
        k |= SP_TITLE_REMIX;
    if (s_is (w, "covers") || s_is (w, "tribute"))
        k |= SP_TITLE_COVER;
    if (s_is (w, "in") && s_is (next, "the") && s_is (s_tok (tk, i + 2), "style") &&
        s_is (s_tok (tk, i + 3), "of"))
        k |= SP_TITLE_KARAOKE;
    if ((s_is (w, "originally") && s_is (next, "performed")) ||
        (s_is (w, "made") && s_is (next, "famous") && s_is (s_tok (tk, i + 2), "by")))
        k |= SP_TITLE_COVER;
    if (((s_is (w, "sped") || s_is (w, "speed")) && s_is (next, "up")) || s_is (w, "spedup"))
        k |= SP_TITLE_SPED_UP;
    if (s_is (w, "slowed") || s_is (w, "daycore"))
        k |= SP_TITLE_SLOWED;
    if (s_is (w, "nightcore"))
        k |= SP_TITLE_NIGHTCORE;
    if (s_in (w, s_acappella) ||
        (s_is (w, "a") && (s_is (next, "cappella") || s_is (next, "capella"))))
        k |= SP_TITLE_ACAPPELLA;
    f->k |= k;
}

//  Marked-segment rules for the words that say how a recording was cut or
//  mixed: remix, mix, edit, extended, version.
static void
s_rules_mix (const s_toks_t *tk, int i, s_found_t *f, sp_title_t *t)
{
    const char *w = tk->t[i];
    const char *prev = s_tok (tk, i - 1);
    const char *next = s_tok (tk, i + 1);
    if (s_in (w, s_remix_words)) {
        f->k |= SP_TITLE_REMIX;
        if (!s_is (w, "mixed"))
            s_remixer (tk, i, t);
    }
    if (s_is (w, "mix")) {
        if (s_is (prev, "original") || s_is (prev, "album"))
            f->k |= SP_TITLE_ALBUM_VERSION;
        else if (s_is (prev, "radio"))
            f->k |= SP_TITLE_EDIT;
        else if (s_is (prev, "extended") || s_is (prev, "12"))
            f->k |= SP_TITLE_EXTENDED;
        else if (s_is (prev, "instrumental"))
            ;
        else {
            f->k |= SP_TITLE_REMIX;
            s_remixer (tk, i, t);
        }
    }
    if (s_is (w, "edit")) {
        if (s_is (prev, "extended"))
            f->k |= SP_TITLE_EXTENDED;
        else if (s_in (prev, s_edit_prev) || s_year (prev) || s_in (prev, s_remix_words))
            f->k |= SP_TITLE_EDIT;
        else {
            f->k |= SP_TITLE_REMIX;
            s_remixer (tk, i, t);
        }
    }
    if (s_is (w, "extended") || (s_is (w, "long") && s_is (next, "version")))
        f->k |= SP_TITLE_EXTENDED;
    if (s_is (w, "version")) {
        if (s_is (prev, "single") || s_is (prev, "radio") || s_is (prev, "short"))
            f->k |= SP_TITLE_EDIT;
        else if (s_is (prev, "album") || s_is (prev, "original") || s_is (prev, "lp"))
            f->k |= SP_TITLE_ALBUM_VERSION;
        else if (s_is (prev, "taylors") || s_is (prev, "new"))
            f->k |= SP_TITLE_REREC;
        else if (f->version_at < 0)
            f->version_at = i;
    }
}

//  The other rules for word i of a marked segment.
static void
s_rules_marked (const s_toks_t *tk, int i, s_found_t *f, sp_title_t *t)
{
    const char *w = tk->t[i];
    const char *next = s_tok (tk, i + 1);
    int y = s_year (w);
    uint32_t k = 0;
    if (y) {
        f->year = y;
        k |= S_RECOG;
    }
    if (s_is (w, "instrumental") || s_is (w, "inst") || (s_is (w, "off") && s_is (next, "vocal")))
        k |= SP_TITLE_INSTRUMENTAL;
    if (s_is (w, "single") && tk->n == 1)
        k |= SP_TITLE_EDIT;
    if (s_is (w, "original") && tk->n == 1)
        k |= SP_TITLE_ALBUM_VERSION;
    if (s_is (w, "acoustic") || s_is (w, "acustico") || s_is (w, "acoustique") ||
        s_is (w, "stripped"))
        k |= SP_TITLE_ACOUSTIC;
    if (s_is (w, "demo") || s_is (w, "demos"))
        k |= SP_TITLE_DEMO;
    if (s_is (w, "mono"))
        k |= SP_TITLE_MONO;
    if (s_is (w, "stereo"))
        k |= SP_TITLE_STEREO;
    if (s_is_part_word (w) && s_number (next)) {
        k |= SP_TITLE_PART;
        if (!t->part)
            t->part = s_number (next);
    }
    if (s_is (w, "rerecorded") || s_is (w, "rerecording") || s_is (w, "rerecord") ||
        (s_is (w, "re") &&
         (s_is (next, "recorded") || s_is (next, "record") || s_is (next, "recording"))))
        k |= SP_TITLE_REREC;
    if (s_is (w, "cover"))
        k |= SP_TITLE_COVER;
    if (s_is (w, "reverb"))
        k |= SP_TITLE_SLOWED;
    if (s_is (w, "clean") || s_is (w, "censored"))
        k |= SP_TITLE_CLEAN;
    if (s_is (w, "explicit") || s_is (w, "dirty") || s_is (w, "uncensored"))
        k |= SP_TITLE_EXPLICIT;
    if (s_in (w, s_edition) || (i == 0 && s_is (w, "from")) ||
        (s_is (w, "motion") && s_is (next, "picture")))
        k |= SP_TITLE_EDITION;
    if (i == 0 && s_is (w, "feat"))
        k |= SP_TITLE_FEAT;
    f->k |= k;
}

//  A "version" word that no rule explained, once the whole segment is seen.
static void
s_rules_version (const s_toks_t *tk, s_found_t *f, sp_title_t *t)
{
    //  "2023 Version" is a re-recording, "2009 Remastered Version" is not
    if (f->version_at >= 0 && s_year (s_tok (tk, f->version_at - 1)) && !f->remaster_seen) {
        f->k |= SP_TITLE_REREC;
        f->version_at = -1;
    }
    //  "Spanish Version", "Piano Version": any other version is a different
    //  recording, unless the segment already said what it is
    if (f->version_at >= 0 && (f->k & ~S_RECOG) == 0) {
        char name[SP_TITLE_TEXT_MAX] = "";
        for (int j = 0; j < f->version_at; j++)
            if (!s_year (tk->t[j]))
                s_append (name, sizeof name, " ", tk->t[j]);
        if (name[0]) {
            f->k |= SP_TITLE_OTHER_VERSION;
            if (!t->version[0])
                s_copy (t->version, sizeof t->version, name, strlen (name));
        }
    }
}

//  Classifies one segment. Returns the kinds found (plus S_RECOG when it
//  holds a descriptor without a kind bit, e.g. a bare year), 0 when the
//  segment is ordinary text. Fills year/part/remixer/version of t.
static uint32_t
s_classify (const char *seg, bool marked, sp_title_t *t)
{
    char *norm = sp_text_normalize (seg);
    if (!norm)
        return 0;
    s_toks_t *tk = malloc (sizeof *tk);
    if (!tk) {
        free (norm);
        return 0;
    }
    s_tokenize (norm, tk);
    free (norm);

    s_found_t f = {.k = 0, .version_at = -1, .year = 0, .remaster_seen = false};
    for (int i = 0; i < tk->n; i++) {
        s_rules_any (tk, i, marked, &f);
        if (!marked)
            continue;
        s_rules_marked (tk, i, &f, t);
        s_rules_mix (tk, i, &f, t);
    }
    s_rules_version (tk, &f, t);
    if (f.year && !t->year)
        t->year = f.year;
    free (tk);
    return f.k;
}

//  Classifies a marked segment, also split on "/" and ";" ("Live / 2011
//  Remaster"). Returns the kinds (with S_RECOG).
static uint32_t
s_classify_marked (const char *seg, size_t len, sp_title_t *t)
{
    char *copy = malloc (len + 1);
    if (!copy)
        return 0;
    memcpy (copy, seg, len);
    copy[len] = 0;
    uint32_t k = 0;
    char *p = copy;
    while (p) {
        char *sep = strpbrk (p, "/;");
        if (sep)
            *sep = 0;
        k |= s_classify (p, true, t);
        p = sep ? sep + 1 : NULL;
    }
    free (copy);
    return k;
}

//  ---------------------------------------------------------------------
//  Segmentation

//  Length of a dash separator at p (" - ", " – ", " — "), or 0
static size_t
s_dash_at (const char *p)
{
    if (p[0] != ' ')
        return 0;
    if (p[1] == '-' && p[2] == ' ')
        return 3;
    if ((unsigned char) p[1] == 0xE2 && (unsigned char) p[2] == 0x80 &&
        ((unsigned char) p[3] == 0x93 || (unsigned char) p[3] == 0x94) && p[4] == ' ')
        return 5;
    return 0;
}

//  Cuts text into base and marked segments. Fills t (kinds, details) and
//  writes the remaining base text into base (cap bytes, at least
//  strlen(text)+1). Returns 0, or -1 on allocation failure.
static int
s_segment (const char *text, sp_title_t *t, char *base, size_t cap)
{
    size_t len = strlen (text);
    char *outside = malloc (len + 1);
    if (!outside)
        return -1;
    size_t o = 0;
    //  1. bracket groups
    for (size_t i = 0; i < len;) {
        char c = text[i];
        char close = c == '(' ? ')' : c == '[' ? ']' : c == '{' ? '}' : 0;
        const char *end = close ? strchr (text + i + 1, close) : NULL;
        if (!end) {
            outside[o++] = text[i++];
            continue;
        }
        size_t cl = (size_t) (end - (text + i + 1));
        uint32_t k = s_classify_marked (text + i + 1, cl, t);
        bool keep = k == 0 || (k & ~S_RECOG) == SP_TITLE_PART;
        t->kinds |= k & ~S_RECOG;
        size_t gl = cl + 2;
        if (keep) {
            memcpy (outside + o, text + i, gl);
            o += gl;
        }
        i += gl;
    }
    outside[o] = 0;

    //  2. dash segments: the first piece is the base, later ones are marked
    size_t b = 0;
    const char *p = outside;
    bool first = true;
    while (*p) {
        const char *q = p;
        size_t dl = 0;
        while (*q && (dl = s_dash_at (q)) == 0)
            q++;
        size_t pl = (size_t) (q - p);
        bool keep = true;
        if (!first) {
            uint32_t k = s_classify_marked (p, pl, t);
            keep = k == 0 || (k & ~S_RECOG) == SP_TITLE_PART;
            t->kinds |= k & ~S_RECOG;
        }
        if (keep && b + pl + 3 < cap) {
            if (!first && b > 0) {
                memcpy (base + b, " - ", 3);
                b += 3;
            }
            memcpy (base + b, p, pl);
            b += pl;
        }
        first = false;
        p = *q ? q + dl : q;
    }
    base[b] = 0;
    //  Trim spaces and separators left where segments were cut out
    while (b > 0 && strchr (" -,:", base[b - 1]))
        base[--b] = 0;
    size_t s = 0;
    while (base[s] == ' ')
        s++;
    memmove (base, base + s, b - s + 1);
    free (outside);
    return 0;
}

//  Matching form with canonical part numbers: "pt ii" -> "part 2".
static void
s_canon_parts (const char *norm, char *dst, size_t size, int *part)
{
    s_toks_t *tk = malloc (sizeof *tk);
    dst[0] = 0;
    if (!tk) {
        s_copy (dst, size, norm, strlen (norm));
        return;
    }
    s_tokenize (norm, tk);
    if (tk->n == S_MAX_TOK) {
        //  Too many words to rewrite safely: keep the text as it is
        s_copy (dst, size, norm, strlen (norm));
        free (tk);
        return;
    }
    for (int i = 0; i < tk->n; i++) {
        int num = i + 1 < tk->n ? s_number (tk->t[i + 1]) : 0;
        if (s_is_part_word (tk->t[i]) && num) {
            char pbuf[16];
            snprintf (pbuf, sizeof pbuf, "part %d", num);
            s_append (dst, size, " ", pbuf);
            if (!*part)
                *part = num;
            i++;
        } else
            s_append (dst, size, " ", tk->t[i]);
    }
    free (tk);
}

//  ---------------------------------------------------------------------
//  API

int
sp_title_parse (const char *title, sp_title_t *out)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    if (!title)
        return -1;
    char *check = sp_text_normalize (title);
    if (!check)
        return -1;
    free (check);

    int rc = -1;
    char *cur = strdup (title);
    char *base = NULL, *norm = NULL;
    if (!cur)
        goto cleanup;
    //  Featured artists first: "(feat. X)", "(with X)", " ft. X"
    for (int round = 0; round < 4; round++) {
        char *m = NULL, *f = NULL;
        int r = sp_text_split_feat (cur, &m, &f);
        if (r < 0)
            goto cleanup;
        if (r == 0) {
            free (m);
            break;
        }
        out->kinds |= SP_TITLE_FEAT;
        if (f[0])
            s_append (out->feat, sizeof out->feat, ", ", f);
        free (f);
        free (cur);
        cur = m;
    }
    size_t cap = strlen (cur) + 64;
    base = malloc (cap);
    if (!base || s_segment (cur, out, base, cap) != 0)
        goto cleanup;
    //  A title that is only descriptors ("Intro - Live" keeps "Intro"; a
    //  bare "(Live)" keeps itself) must not end up with an empty base
    if (!base[0])
        s_copy (base, cap, cur, strlen (cur));
    s_copy (out->base_raw, sizeof out->base_raw, base, strlen (base));

    norm = sp_text_normalize (base);
    if (!norm)
        goto cleanup;
    int part_in_base = 0;
    s_canon_parts (norm, out->base, sizeof out->base, &part_in_base);
    if (part_in_base) {
        out->kinds |= SP_TITLE_PART;
        if (!out->part)
            out->part = part_in_base;
    } else if (out->part) {
        //  The part came from a segment cut out with other descriptors
        char pbuf[16];
        snprintf (pbuf, sizeof pbuf, "part %d", out->part);
        s_append (out->base, sizeof out->base, " ", pbuf);
        snprintf (pbuf, sizeof pbuf, "Part %d", out->part);
        s_append (out->base_raw, sizeof out->base_raw, " ", pbuf);
    }
    rc = 0;
cleanup:
    free (cur);
    free (base);
    free (norm);
    if (rc != 0)
        memset (out, 0, sizeof *out);
    return rc;
}

uint32_t
sp_title_scan_descriptors (const char *text)
{
    if (!text)
        return 0;
    char *check = sp_text_normalize (text);
    if (!check)
        return 0;
    free (check);
    sp_title_t *t = calloc (1, sizeof *t);
    size_t cap = strlen (text) + 64;
    char *base = malloc (cap);
    uint32_t kinds = 0;
    if (t && base && s_segment (text, t, base, cap) == 0)
        kinds = t->kinds | (s_classify (base, false, t) & ~S_RECOG);
    free (t);
    free (base);
    return kinds;
}

static const struct {
    uint32_t kind;
    const char *name;
} s_names[] = {
    {SP_TITLE_REMASTER, "remaster"},
    {SP_TITLE_LIVE, "live version"},
    {SP_TITLE_REMIX, "remix"},
    {SP_TITLE_EXTENDED, "extended version"},
    {SP_TITLE_EDIT, "radio edit"},
    {SP_TITLE_ALBUM_VERSION, "album version"},
    {SP_TITLE_ACOUSTIC, "acoustic version"},
    {SP_TITLE_INSTRUMENTAL, "instrumental"},
    {SP_TITLE_DEMO, "demo"},
    {SP_TITLE_MONO, "mono version"},
    {SP_TITLE_STEREO, "stereo version"},
    {SP_TITLE_PART, "part"},
    {SP_TITLE_FEAT, "featured artists"},
    {SP_TITLE_REREC, "re-recording"},
    {SP_TITLE_KARAOKE, "karaoke version"},
    {SP_TITLE_COVER, "cover"},
    {SP_TITLE_SPED_UP, "sped up version"},
    {SP_TITLE_SLOWED, "slowed/reverb version"},
    {SP_TITLE_NIGHTCORE, "nightcore version"},
    {SP_TITLE_UNPLUGGED, "unplugged version"},
    {SP_TITLE_ACAPPELLA, "a cappella version"},
    {SP_TITLE_CLEAN, "clean version"},
    {SP_TITLE_EXPLICIT, "explicit version"},
    {SP_TITLE_OTHER_VERSION, "other version"},
    {SP_TITLE_EDITION, "edition"},
};

const char *
sp_title_kind_name (uint32_t kind)
{
    for (size_t i = 0; i < sizeof s_names / sizeof s_names[0]; i++)
        if (s_names[i].kind == kind)
            return s_names[i].name;
    return "unknown";
}

//  Implied kinds: an unplugged set is live, karaoke is an instrumental
//  cover, nightcore is sped up.
static uint32_t
s_implied (uint32_t k)
{
    if (k & SP_TITLE_UNPLUGGED)
        k |= SP_TITLE_LIVE;
    if (k & SP_TITLE_KARAOKE)
        k |= SP_TITLE_INSTRUMENTAL | SP_TITLE_COVER;
    if (k & SP_TITLE_NIGHTCORE)
        k |= SP_TITLE_SPED_UP;
    return k;
}

int
sp_title_compatible_kinds (uint32_t wanted, uint32_t found, char *reason, size_t n)
{
    if (reason && n > 0)
        reason[0] = 0;
    uint32_t w = s_implied (wanted) & SP_TITLE_HARD_MASK;
    uint32_t f = s_implied (found) & SP_TITLE_HARD_MASK;
    //  Report the most specific kind first (karaoke before its implied
    //  instrumental), so scan the explicit bits before the implied ones
    uint32_t extra = f & ~w;
    uint32_t missing = w & ~f;
    uint32_t extra_explicit = extra & found;
    uint32_t missing_explicit = missing & wanted;
    uint32_t pick = extra_explicit ? extra_explicit : extra;
    if (pick) {
        uint32_t bit = pick & (~pick + 1);
        sp_err_set (reason, n, "%s%s", sp_title_kind_name (bit), "");
        return 0;
    }
    pick = missing_explicit ? missing_explicit : missing;
    if (pick) {
        uint32_t bit = pick & (~pick + 1);
        sp_err_set (reason, n, "not the %s asked for%s", sp_title_kind_name (bit), "");
        return 0;
    }
    if ((wanted ^ found) & SP_TITLE_SOFT_MASK)
        sp_err_set (reason, n, "%s%s",
                    wanted & SP_TITLE_EDIT ? "radio edit asked, found another cut"
                                           : "radio edit found, full length asked",
                    ": left to the length filter");
    return 1;
}

int
sp_title_compatible (const sp_title_t *wanted, const sp_title_t *found, char *reason, size_t n)
{
    if (reason && n > 0)
        reason[0] = 0;
    if (!wanted || !found)
        return -1;
    int rc = sp_title_compatible_kinds (wanted->kinds, found->kinds, reason, n);
    if (rc != 1)
        return rc;
    if (wanted->part && found->part && wanted->part != found->part) {
        char a[16], b[16];
        snprintf (a, sizeof a, "%d", found->part);
        snprintf (b, sizeof b, "%d", wanted->part);
        sp_err_set (reason, n, "part %s, not part %s", a, b);
        return 0;
    }
    if ((wanted->kinds & found->kinds & SP_TITLE_REMIX) && wanted->remixer[0] &&
        found->remixer[0] && sp_text_similarity_norm (wanted->remixer, found->remixer) < 0.8) {
        sp_err_set (reason, n, "different remix (%s, not %s)", found->remixer, wanted->remixer);
        return 0;
    }
    if ((wanted->kinds & found->kinds & SP_TITLE_OTHER_VERSION) && wanted->version[0] &&
        found->version[0] && sp_text_similarity_norm (wanted->version, found->version) < 0.8) {
        sp_err_set (reason, n, "different version (%s, not %s)", found->version, wanted->version);
        return 0;
    }
    return 1;
}
