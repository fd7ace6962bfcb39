/*  text.c: Unicode normalization and fuzzy comparison of names.

    Normalization decomposes with utf8proc (NFKD + case folding), walks the
    code points once applying the matching rules (drop Latin diacritics,
    fold punctuation, "&" -> "and", ...), then recomposes (NFC) so that the
    marks we keep (kana dakuten, Cyrillic breve, Greek tonos) end up in
    their composed form again. A final pass works on whole words ("ft" ->
    "feat", query-word filtering).

    Similarity works on code points decoded into stack buffers, so the hot
    path used by the ranking does not allocate for ordinary names.
*/
#include "soulpipe/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

//  Inputs above this size are refused (names are short; this bounds the
//  work and the 5x expansion buffer).
#define S_MAX_INPUT (1u << 20)

//  Normalization modes (bit set)
#define M_FOLD    0x01u  //  Unicode case folding
#define M_STRIP   0x02u  //  strip Latin diacritics, fold ø/ł/æ...
#define M_AND     0x04u  //  & and standalone + -> "and", $/! inside words
#define M_FEAT    0x08u  //  ft/featuring -> feat
#define M_QUERY   0x10u  //  keep apostrophes for the query-word filter
#define M_KEEPSYM 0x20u  //  keep non-ASCII symbols (emoji-only strings)

#define M_MATCH (M_FOLD | M_STRIP | M_AND | M_FEAT)

//  ---------------------------------------------------------------------
//  Character classes

static bool
s_is_latin (int32_t c)
{
    //  Latin-1, Latin Extended-A/B, IPA and spacing modifiers, Latin
    //  Extended Additional, -C, -D, -E.
    return c < 0x0370 || (c >= 0x1E00 && c <= 0x1EFF) || (c >= 0x2C60 && c <= 0x2C7F) ||
           (c >= 0xA720 && c <= 0xA7FF) || (c >= 0xAB30 && c <= 0xAB6F);
}

static bool
s_is_apostrophe (int32_t c)
{
    return c == 0x27 || c == 0x60 || c == 0xB4 || c == 0x2018 || c == 0x2019 || c == 0x201B ||
           c == 0x2032 || c == 0x02BC || c == 0xFF07;
}

static bool
s_is_ascii_alpha (int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
s_is_space_cp (int32_t c)
{
    return c == ' ' || utf8proc_category (c) == UTF8PROC_CATEGORY_ZS;
}

//  Latin letters without a canonical decomposition that users nevertheless
//  type without their stroke/ligature. Writes 1 or 2 code points into out
//  and returns how many; 0 when c is not one of them.
static int
s_fold_latin (int32_t c, int32_t *out)
{
    switch (c) {
        case 0x00F8:
            out[0] = 'o';
            return 1;  //  ø
        case 0x0111:
        case 0x00F0:
            out[0] = 'd';
            return 1;  //  đ ð
        case 0x0127:
            out[0] = 'h';
            return 1;  //  ħ
        case 0x0131:
            out[0] = 'i';
            return 1;  //  ı
        case 0x0142:
            out[0] = 'l';
            return 1;  //  ł
        case 0x0167:
            out[0] = 't';
            return 1;  //  ŧ
        case 0x00E6:
            out[0] = 'a';
            out[1] = 'e';
            return 2;  //  æ
        case 0x0153:
            out[0] = 'o';
            out[1] = 'e';
            return 2;  //  œ
        case 0x00FE:
            out[0] = 't';
            out[1] = 'h';
            return 2;  //  þ
        default:
            return 0;
    }
}

//  ---------------------------------------------------------------------
//  Word pass: rewrites tokens of a space-separated UTF-8 string.

static bool
s_tok_eq (const char *t, size_t n, const char *lit)
{
    return strlen (lit) == n && memcmp (t, lit, n) == 0;
}

//  Returns a new string (or NULL on allocation failure); frees nothing.
static char *
s_word_pass (const char *in, unsigned mode, bool query_strip_all)
{
    size_t len = strlen (in);
    char *out = malloc (2 * len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ')
            p++;
        size_t n = (size_t) (p - start);
        const char *w = start;
        size_t wn = n;
        if ((mode & M_FEAT) && (s_tok_eq (start, n, "ft") || s_tok_eq (start, n, "featuring"))) {
            w = "feat";
            wn = 4;
        }
        bool has_apos = memchr (start, '\'', n) != NULL;
        if ((mode & M_QUERY) && has_apos && !query_strip_all)
            continue;  //  drop the whole word
        if (o > 0)
            out[o++] = ' ';
        for (size_t i = 0; i < wn; i++)
            if (w[i] != '\'')
                out[o++] = w[i];
        //  A word made only of apostrophes leaves a stray space
        if (o > 0 && out[o - 1] == ' ')
            o--;
    }
    out[o] = 0;
    return out;
}

//  ---------------------------------------------------------------------
//  The normalizer

static void
s_emit_space (int32_t *out, size_t *o)
{
    if (*o > 0 && out[*o - 1] != ' ')
        out[(*o)++] = ' ';
}

//  The mapping pass: its output and what it has seen so far.
typedef struct {
    int32_t *out;     //  code points written (room for 5 per input one)
    size_t o;         //  how many
    bool last_latin;  //  the base letter of the marks that follow is Latin
    bool had_symbol;  //  a non-ASCII symbol was seen
} s_map_t;

//  The rules for apostrophes, "&", a spaced "+", "$" and "!" (which look at
//  the neighbours). Returns true when c was handled.
static bool
s_map_punct (s_map_t *m, int32_t c, int32_t prev, int32_t next, bool first, unsigned mode)
{
    if (s_is_apostrophe (c)) {
        if (mode & M_QUERY)
            m->out[m->o++] = '\'';
        return true;
    }
    //  A word with "$" or "!" inside is spelled too many ways to be a
    //  query word: mark it like an apostrophe so the word is dropped
    if ((mode & M_QUERY) && (c == '$' || c == '!') &&
        (s_is_ascii_alpha (prev) && s_is_ascii_alpha (next))) {
        m->out[m->o++] = '\'';
        return true;
    }
    if (!(mode & M_AND))
        return false;
    if (c == '&' || (c == '+' && !first && s_is_space_cp (prev) && s_is_space_cp (next))) {
        s_emit_space (m->out, &m->o);
        m->out[m->o++] = 'a';
        m->out[m->o++] = 'n';
        m->out[m->o++] = 'd';
        m->out[m->o++] = ' ';
        return true;
    }
    //  Ke$ha, A$AP, $uicideboy$, P!nk
    if (c == '$' && (s_is_ascii_alpha (prev) || s_is_ascii_alpha (next))) {
        m->out[m->o++] = 's';
        return true;
    }
    if (c == '!' && s_is_ascii_alpha (prev) && s_is_ascii_alpha (next)) {
        m->out[m->o++] = 'i';
        return true;
    }
    return false;
}

//  Every other code point, by its Unicode category: symbols and
//  punctuation become spaces, format controls go, letters stay (folded).
static void
s_map_category (s_map_t *m, int32_t c, utf8proc_category_t cat, unsigned mode)
{
    switch (cat) {
        case UTF8PROC_CATEGORY_SM:
        case UTF8PROC_CATEGORY_SC:
        case UTF8PROC_CATEGORY_SK:
        case UTF8PROC_CATEGORY_SO:
            if (c >= 0x80)
                m->had_symbol = true;
            if ((mode & M_KEEPSYM) && c >= 0x80)
                m->out[m->o++] = c;
            else
                s_emit_space (m->out, &m->o);
            break;
        case UTF8PROC_CATEGORY_PC:
        case UTF8PROC_CATEGORY_PD:
        case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE:
        case UTF8PROC_CATEGORY_PI:
        case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO:
        case UTF8PROC_CATEGORY_ZS:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
        case UTF8PROC_CATEGORY_CC:
        case UTF8PROC_CATEGORY_CO:
        case UTF8PROC_CATEGORY_CS:
            s_emit_space (m->out, &m->o);
            break;
        case UTF8PROC_CATEGORY_CF:
            break;  //  format controls: drop
        default: {
            int32_t f[2];
            int k = (mode & M_STRIP) ? s_fold_latin (c, f) : 0;
            if (k == 0)
                m->out[m->o++] = c;
            else
                for (int j = 0; j < k; j++)
                    m->out[m->o++] = f[j];
            break;
        }
    }
}

//  Apply the matching rules to the n decomposed code points of in.
static void
s_map (s_map_t *m, const int32_t *in, utf8proc_ssize_t n, unsigned mode)
{
    m->o = 0;
    m->last_latin = true;
    m->had_symbol = false;
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        int32_t c = in[i];
        int32_t prev = i > 0 ? in[i - 1] : 0;
        int32_t next = i + 1 < n ? in[i + 1] : 0;
        utf8proc_category_t cat = utf8proc_category (c);

        if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME) {
            if ((mode & M_STRIP) && m->last_latin)
                continue;
            m->out[m->o++] = c;
            continue;
        }
        m->last_latin = s_is_latin (c);
        if (!s_map_punct (m, c, prev, next, i == 0, mode))
            s_map_category (m, c, cat, mode);
    }
    while (m->o > 0 && m->out[m->o - 1] == ' ')
        m->o--;
}

//  s decomposed (NFKD, case folded with M_FOLD) into *in_p (caller frees).
//  Returns the number of code points, or -1.
static utf8proc_ssize_t
s_decompose (const char *s, size_t len, unsigned mode, int32_t **in_p)
{
    *in_p = NULL;
    utf8proc_option_t opt =
        UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPCC | UTF8PROC_IGNORE;
    if (mode & M_FOLD)
        opt |= UTF8PROC_CASEFOLD;
    utf8proc_ssize_t n =
        utf8proc_decompose ((const utf8proc_uint8_t *) s, (utf8proc_ssize_t) len, NULL, 0, opt);
    if (n < 0)
        return -1;
    int32_t *in = malloc (((size_t) n + 1) * sizeof (int32_t));
    if (!in)
        return -1;
    if (utf8proc_decompose ((const utf8proc_uint8_t *) s, (utf8proc_ssize_t) len, in, n, opt) !=
        n) {
        free (in);
        return -1;
    }
    *in_p = in;
    return n;
}

//  Recompose the mapped code points (NFC) in place into UTF-8 and run the
//  word pass. Returns a new string, or NULL.
static char *
s_compose (s_map_t *m, unsigned mode)
{
    utf8proc_ssize_t bytes =
        utf8proc_reencode (m->out, (utf8proc_ssize_t) m->o, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    if (bytes < 0)
        return NULL;
    char *utf8 = (char *) m->out;
    utf8[bytes] = 0;

    char *result = s_word_pass (utf8, mode, false);
    if (result && (mode & M_QUERY) && *result == 0 && bytes > 0) {
        free (result);
        result = s_word_pass (utf8, mode, true);
    }
    return result;
}

static char *
s_normalize (const char *s, unsigned mode)
{
    if (!s)
        return NULL;
    size_t len = strlen (s);
    if (len > S_MAX_INPUT)
        return NULL;

    int32_t *in = NULL;
    s_map_t m = {0};
    char *result = NULL;
    utf8proc_ssize_t n = s_decompose (s, len, mode, &in);
    if (n < 0)
        goto cleanup;
    //  Worst case 5 code points out per code point in (" and ")
    m.out = malloc (((size_t) n * 5 + 2) * sizeof (int32_t));
    if (!m.out)
        goto cleanup;
    s_map (&m, in, n, mode);

    if (m.o == 0 && m.had_symbol && !(mode & M_KEEPSYM)) {
        free (in);
        free (m.out);
        return s_normalize (s, mode | M_KEEPSYM);
    }
    result = s_compose (&m, mode);
cleanup:
    free (in);
    free (m.out);
    return result;
}

char *
sp_text_normalize (const char *s)
{
    return s_normalize (s, M_MATCH);
}

char *
sp_text_normalize_keep_marks (const char *s)
{
    return s_normalize (s, M_FOLD | M_AND | M_FEAT);
}

char *
sp_text_query_words (const char *s)
{
    return s_normalize (s, M_QUERY);
}

//  ---------------------------------------------------------------------
//  Featured artists

static bool
s_word_char (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char) c >= 0x80;
}

//  Case-insensitive match of an ASCII keyword at p
static bool
s_match_ci (const char *p, const char *kw)
{
    for (; *kw; p++, kw++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char) (c - 'A' + 'a');
        if (c != *kw)
            return false;
    }
    return true;
}

static char *
s_trim_dup (const char *start, size_t n)
{
    //  Trim spaces and dangling separators at both ends
    while (n > 0 && (*start == ' ' || *start == '\t'))
        start++, n--;
    while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t' || start[n - 1] == '-' ||
                     start[n - 1] == ','))
        n--;
    char *r = malloc (n + 1);
    if (r) {
        memcpy (r, start, n);
        r[n] = 0;
    }
    return r;
}

int
sp_text_split_feat (const char *s, char **main_out, char **feat_out)
{
    if (main_out)
        *main_out = NULL;
    if (feat_out)
        *feat_out = NULL;
    if (!s || !main_out || !feat_out)
        return -1;

    static const char *const kws[] = {"featuring", "feat.", "feat", "ft.", "ft", "with"};
    size_t len = strlen (s);
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && s_word_char (s[i - 1]))
            continue;  //  not at a word start
        char open = 0;
        size_t j = i;
        for (; j > 0 && s[j - 1] == ' '; j--)
            ;
        if (j > 0 && (s[j - 1] == '(' || s[j - 1] == '['))
            open = s[j - 1];
        for (size_t k = 0; k < sizeof kws / sizeof kws[0]; k++) {
            size_t kl = strlen (kws[k]);
            if (!s_match_ci (s + i, kws[k]))
                continue;
            //  "feat"/"ft"/"with" must end the word; "feat." ends with a dot
            if (kws[k][kl - 1] != '.' && s_word_char (s[i + kl]))
                continue;
            if (k == 5 && !open)
                continue;  //  "with" only as "(with X)"
            const char *fs = s + i + kl;
            const char *fe;
            const char *rest;
            if (open) {
                char close = open == '(' ? ')' : ']';
                fe = strchr (fs, close);
                if (!fe)
                    fe = s + len;
                rest = *fe ? fe + 1 : fe;
            } else {
                //  Unbracketed: up to an opening bracket or " - "
                fe = fs;
                while (*fe && *fe != '(' && *fe != '[' &&
                       !(fe[0] == ' ' && fe[1] == '-' && fe[2] == ' '))
                    fe++;
                rest = fe;
            }
            size_t main_end = open ? j - 1 : i;
            //  main = s[0, main_end) + " " + rest
            size_t rl = strlen (rest);
            char *m = malloc (main_end + rl + 2);
            char *f = s_trim_dup (fs, (size_t) (fe - fs));
            if (!m || !f) {
                free (m);
                free (f);
                return -1;
            }
            memcpy (m, s, main_end);
            size_t ml = main_end;
            while (ml > 0 && m[ml - 1] == ' ')
                ml--;
            if (rl > 0) {
                while (*rest == ' ')
                    rest++, rl--;
                if (rl > 0 && ml > 0)
                    m[ml++] = ' ';
                memcpy (m + ml, rest, rl);
                ml += rl;
            }
            m[ml] = 0;
            *main_out = s_trim_dup (m, ml);
            free (m);
            if (!*main_out) {
                free (f);
                return -1;
            }
            *feat_out = f;
            return 1;
        }
    }
    *main_out = strdup (s);
    return *main_out ? 0 : -1;
}

//  ---------------------------------------------------------------------
//  Similarity

#define S_STACK_CP   256  //  code points per side without heap
#define S_MAX_TOKENS 64   //  words per side in the token score
#define S_TOKEN_CP   64   //  longer words only match exactly

//  Decodes s into cp (capacity cap). Returns the count, or -1 on invalid
//  UTF-8, or -2 when the capacity is too small.
static long
s_decode (const char *s, int32_t *cp, size_t cap)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *) s;
    size_t n = 0;
    while (*p) {
        if (*p < 0x80) {  //  ASCII fast path
            if (n == cap)
                return -2;
            cp[n++] = *p++;
            continue;
        }
        int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate (p, -1, &c);
        if (k <= 0 || c < 0)
            return -1;
        if (n == cap)
            return -2;
        cp[n++] = c;
        p += k;
    }
    return (long) n;
}

//  Levenshtein distance by dynamic programming; row has room for m + 1
//  entries.
static size_t
s_lev_dp (const int32_t *a, size_t n, const int32_t *b, size_t m, size_t *row)
{
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        int32_t ca = a[i - 1];
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t best = diag + (ca != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

//  Levenshtein distance, bit-parallel (Myers 1999, in Hyyrö's form for
//  the global distance) for a pattern b of 1..64 code points: one pass
//  over a with a few word operations per code point.
static size_t
s_lev_bits (const int32_t *a, size_t n, const int32_t *b, size_t m)
{
    //  Match masks of the pattern: a table for ASCII, a short list of the
    //  other distinct code points
    uint64_t ascii[128];
    memset (ascii, 0, sizeof ascii);
    int32_t other_cp[64];
    uint64_t other_mask[64];
    size_t others = 0;
    for (size_t i = 0; i < m; i++) {
        int32_t c = b[i];
        uint64_t bit = (uint64_t) 1 << i;
        if (c >= 0 && c < 128) {
            ascii[c] |= bit;
            continue;
        }
        size_t k = 0;
        while (k < others && other_cp[k] != c)
            k++;
        if (k == others) {
            other_cp[others] = c;
            other_mask[others++] = 0;
        }
        other_mask[k] |= bit;
    }
    uint64_t pv = ~(uint64_t) 0, mv = 0;
    uint64_t last = (uint64_t) 1 << (m - 1);
    size_t score = m;
    for (size_t j = 0; j < n; j++) {
        int32_t c = a[j];
        uint64_t eq = 0;
        if (c >= 0 && c < 128)
            eq = ascii[c];
        else
            for (size_t k = 0; k < others; k++)
                if (other_cp[k] == c) {
                    eq = other_mask[k];
                    break;
                }
        uint64_t xv = eq | mv;
        uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
        uint64_t ph = mv | ~(xh | pv);
        uint64_t mh = pv & xh;
        if (ph & last)
            score++;
        else if (mh & last)
            score--;
        ph = (ph << 1) | 1;
        mh <<= 1;
        pv = mh | ~(xv | ph);
        mv = ph & xv;
    }
    return score;
}

//  Levenshtein distance; row has room for m + 1 entries (unused when b has
//  at most 64 code points).
static size_t
s_lev (const int32_t *a, size_t n, const int32_t *b, size_t m, size_t *row)
{
    if (m == 0)
        return n;
    if (n == 0)
        return m;
    if (m <= 64)
        return s_lev_bits (a, n, b, m);
    if (n <= 64)
        return s_lev_bits (b, m, a, n);
    return s_lev_dp (a, n, b, m, row);
}

typedef struct {
    size_t start;  //  first code point
    size_t len;    //  code points
} s_tok_t;

static size_t
s_tokenize (const int32_t *cp, size_t n, s_tok_t *tok)
{
    size_t nt = 0;
    size_t i = 0;
    while (i < n && nt < S_MAX_TOKENS) {
        while (i < n && cp[i] == ' ')
            i++;
        if (i == n)
            break;
        size_t st = i;
        while (i < n && cp[i] != ' ')
            i++;
        tok[nt].start = st;
        tok[nt].len = i - st;
        nt++;
    }
    return nt;
}

static double
s_token_score (const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    s_tok_t ta[S_MAX_TOKENS], tb[S_MAX_TOKENS];
    size_t nta = s_tokenize (a, na, ta);
    size_t ntb = s_tokenize (b, nb, tb);
    if (nta == 0 || ntb == 0)
        return 0.0;
    uint64_t used_a = 0, used_b = 0;
    double w = 0.0;
    //  Exact matches first, so a fuzzy match cannot steal an exact partner
    for (size_t i = 0; i < nta; i++)
        for (size_t j = 0; j < ntb; j++) {
            if ((used_b >> j) & 1u || ta[i].len != tb[j].len)
                continue;
            if (memcmp (a + ta[i].start, b + tb[j].start, ta[i].len * sizeof (int32_t)) == 0) {
                used_a |= (uint64_t) 1 << i;
                used_b |= (uint64_t) 1 << j;
                w += 1.0;
                break;
            }
        }
    size_t row[S_TOKEN_CP + 1];
    for (size_t i = 0; i < nta; i++) {
        if ((used_a >> i) & 1u || ta[i].len > S_TOKEN_CP)
            continue;
        double best = 0.0;
        size_t best_j = 0;
        for (size_t j = 0; j < ntb; j++) {
            if ((used_b >> j) & 1u || tb[j].len > S_TOKEN_CP)
                continue;
            size_t la = ta[i].len, lb = tb[j].len;
            size_t mx = la > lb ? la : lb;
            size_t mn = la > lb ? lb : la;
            //  Cheap bound: the length difference alone is too large
            if ((double) (mx - mn) / (double) mx > 0.2)
                continue;
            size_t d = s_lev (a + ta[i].start, la, b + tb[j].start, lb, row);
            double sim = 1.0 - (double) d / (double) mx;
            if (sim > best) {
                best = sim;
                best_j = j;
            }
        }
        if (best >= 0.8) {
            used_b |= (uint64_t) 1 << best_j;
            w += best;
        }
    }
    return 2.0 * w / (double) (nta + ntb);
}

static double
s_similarity_cp (const int32_t *a, size_t na, const int32_t *b, size_t nb, size_t *row)
{
    if (na == 0 && nb == 0)
        return 1.0;
    if (na == 0 || nb == 0)
        return 0.0;
    //  A single leading "the " on one side only is ignored
    static const int32_t the[4] = {'t', 'h', 'e', ' '};
    bool ta = na > 4 && memcmp (a, the, sizeof the) == 0;
    bool tb = nb > 4 && memcmp (b, the, sizeof the) == 0;
    if (ta && !tb) {
        a += 4;
        na -= 4;
    } else if (tb && !ta) {
        b += 4;
        nb -= 4;
    }
    //  row is sized for the shorter side
    if (nb > na) {
        const int32_t *t = a;
        a = b;
        b = t;
        size_t tn = na;
        na = nb;
        nb = tn;
    }
    size_t d = s_lev (a, na, b, nb, row);
    double edit = 1.0 - (double) d / (double) na;
    double tok = s_token_score (a, na, b, nb);
    double score = edit > tok ? edit : tok;
    if (score < 0.5)
        score = 4.0 * score * score * score;
    if (score > 1.0)
        score = 1.0;
    return score;
}

double
sp_text_similarity_norm (const char *a, const char *b)
{
    if (!a || !b)
        return 0.0;
    if (strcmp (a, b) == 0)
        return 1.0;

    int32_t sa[S_STACK_CP], sb[S_STACK_CP];
    size_t srow[S_STACK_CP + 1];
    int32_t *ha = NULL, *hb = NULL;
    size_t *hrow = NULL;
    int32_t *ca = sa, *cb = sb;
    size_t *row = srow;
    double score = 0.0;

    long na = s_decode (a, sa, S_STACK_CP);
    if (na == -2) {
        size_t cap = strlen (a);
        ha = malloc (cap * sizeof (int32_t));
        if (!ha)
            goto cleanup;
        ca = ha;
        na = s_decode (a, ha, cap);
    }
    long nb = s_decode (b, sb, S_STACK_CP);
    if (nb == -2) {
        size_t cap = strlen (b);
        hb = malloc (cap * sizeof (int32_t));
        if (!hb)
            goto cleanup;
        cb = hb;
        nb = s_decode (b, hb, cap);
    }
    if (na < 0 || nb < 0)
        goto cleanup;
    size_t shorter = (size_t) (na < nb ? na : nb);
    if (shorter + 1 > S_STACK_CP + 1) {
        hrow = malloc ((shorter + 1) * sizeof (size_t));
        if (!hrow)
            goto cleanup;
        row = hrow;
    }
    score = s_similarity_cp (ca, (size_t) na, cb, (size_t) nb, row);
cleanup:
    free (ha);
    free (hb);
    free (hrow);
    return score;
}

double
sp_text_similarity (const char *a, const char *b)
{
    char *na = sp_text_normalize (a);
    char *nb = sp_text_normalize (b);
    double score = (na && nb) ? sp_text_similarity_norm (na, nb) : 0.0;
    free (na);
    free (nb);
    return score;
}

//  ---------------------------------------------------------------------
//  Output and repair (no utf8proc: these must accept any bytes)

//  Length of the valid UTF-8 sequence at p (at most left bytes), with its
//  code point in *cp; 0 when the byte at p does not start one (a bad lead
//  or continuation byte, an overlong form, a surrogate, above U+10FFFF, or
//  cut short).
static size_t
s_utf8_seq (const unsigned char *p, size_t left, int32_t *cp)
{
    unsigned char c = p[0];
    size_t n;
    int32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else
        return 0;
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

char *
sp_text_printable (const char *s, unsigned flags)
{
    if (!s)
        s = "";
    size_t len = strlen (s);
    //  the longest escape ("\u202e", 6 bytes) replaces at least 1 byte
    if (len > (SIZE_MAX - 1) / 6)
        return NULL;
    char *out = malloc (len * 6 + 1);
    if (!out)
        return NULL;
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *) s;
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        int32_t cp = 0;
        size_t n = s_utf8_seq (p + i, len - i, &cp);
        if (n == 0) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[p[i] >> 4];
            out[o++] = hex[p[i] & 0xF];
            i++;
            continue;
        }
        bool ws = cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r';
        if (ws && (flags & SP_TEXT_WS_SPACE))
            out[o++] = ' ';
        else if (cp == '\n' || cp == '\r' || cp == '\t') {
            out[o++] = '\\';
            out[o++] = cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't';
        } else if (cp < 0x20 || cp == 0x7F) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[(cp >> 4) & 0xF];
            out[o++] = hex[cp & 0xF];
        } else if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
                   (cp >= 0x2066 && cp <= 0x2069)) {
            out[o++] = '\\';
            out[o++] = 'u';
            for (int shift = 12; shift >= 0; shift -= 4)
                out[o++] = hex[(cp >> shift) & 0xF];
        } else {
            memcpy (out + o, p + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = '\0';
    return out;
}

char *
sp_text_repair_n (const char *s, size_t len, size_t *fixed)
{
    if (fixed)
        *fixed = 0;
    if (!s && len > 0)
        return NULL;
    //  U+FFFD is 3 bytes and replaces at least 1
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc (len * 3 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *) s;
    size_t o = 0, i = 0, count = 0;
    while (i < len) {
        int32_t cp = 0;
        size_t n = s_utf8_seq (p + i, len - i, &cp);
        if (n == 0 || cp == 0) {
            memcpy (out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            count++;
            continue;
        }
        memcpy (out + o, p + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    if (fixed)
        *fixed = count;
    return out;
}

char *
sp_text_json_mark_invalid (const char *json, size_t len, size_t *out_len, size_t *marked)
{
    if (marked)
        *marked = 0;
    if (!json || !out_len)
        return NULL;
    //  "\u0000" is 6 bytes and replaces 1
    if (len > (SIZE_MAX - 1) / 6)
        return NULL;
    char *out = malloc (len * 6 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *) json;
    size_t o = 0, i = 0, count = 0;
    while (i < len) {
        int32_t cp = 0;
        size_t n = s_utf8_seq (p + i, len - i, &cp);
        if (n == 0) {
            memcpy (out + o, "\\u0000", 6);
            o += 6;
            i++;
            count++;
            continue;
        }
        memcpy (out + o, p + i, n);
        o += n;
        i += n;
    }
    out[o] = '\0';
    *out_len = o;
    if (marked)
        *marked = count;
    return out;
}
