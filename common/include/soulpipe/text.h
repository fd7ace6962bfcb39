/*  text.h: Unicode normalization and fuzzy comparison of names (utf8proc).

    Used to match playlist tracks against the media library and against
    Soulseek file names. All functions take UTF-8 and are pure (no I/O, no
    global state), so they are safe to call from any thread.

    sp_text_normalize() produces the "matching form" of a string:
      - NFKC compatibility folding ("ﬁ" -> "fi", full-width -> ASCII) and
        Unicode case folding ("Straße" -> "strasse");
      - diacritics stripped from Latin letters only ("Beyoncé" -> "beyonce",
        "Mötley Crüe" -> "motley crue"; NFD input gives the same result), plus
        a few letters that do not decompose ("ø" -> "o", "ł" -> "l", "æ" ->
        "ae", "œ" -> "oe", "đ"/"ð" -> "d", "þ" -> "th", "ı" -> "i"). Marks on
        other scripts are kept, because there they are part of the letter
        (Japanese dakuten, Cyrillic "й", Greek tonos): non-Latin text comes
        out intact, only lower-cased where the script has case (note that
        case folding maps Greek final "ς" to "σ");
      - apostrophes removed without a space ("Don't" -> "dont"), "&" -> "and",
        a "+" standing alone between words -> "and" ("Florence + The Machine"),
        "$" or "!" between ASCII letters -> "s" / "i" ("Ke$ha", "P!nk",
        "A$AP"); every other punctuation or symbol character becomes a space;
      - "ft", "featuring" tokens become "feat";
      - whitespace collapsed to one space and trimmed.
    A string made only of symbols (e.g. only emoji) would come out empty; in
    that case the symbols are kept (case-folded, NFKC) so that such titles
    can still be matched with each other.

    Errors: functions returning char * return NULL on NULL or invalid UTF-8
    input (overlong forms, surrogates, truncated sequences), on input longer
    than 1 MiB and on allocation failure. They never abort.
*/
#ifndef SOULPIPE_TEXT_H
#define SOULPIPE_TEXT_H

#include <stddef.h>

/*  Matching form of s (see above). Caller owns the returned string (free()).
    Returns NULL on NULL/invalid UTF-8/out of memory. "" gives "". */
char *sp_text_normalize (const char *s);

/*  Like sp_text_normalize() but keeps the diacritics (result is NFC):
    "Beyoncé & Jay-Z" -> "beyoncé and jay z". Caller owns the result. */
char *sp_text_normalize_keep_marks (const char *s);

/*  The words of s for a Soulseek query (Soulseek matches every word of the
    query and does not fold diacritics): NFKC, original case and diacritics
    kept, punctuation and symbols removed (so no word can start with the
    "-" exclusion operator), words joined by single spaces. Words that
    contain an apostrophe are dropped ("Don't Stop Me Now" -> "Stop Me Now"),
    because peers' file names spell them in too many ways; if that would
    leave nothing the apostrophes are simply removed instead.
    Caller owns the result. NULL on invalid input / out of memory. */
char *sp_text_query_words (const char *s);

/*  Split a featured-artist part off s: "Song (feat. A & B)" gives main
    "Song" and feat "A & B"; "Artist ft. B" gives "Artist" and "B";
    "Song (with A) - Live" gives "Song - Live" and "A". Recognized markers
    (any case, as whole words): "feat.", "feat", "ft.", "ft", "featuring",
    and "with" only right after "(" or "[". The strings are returned as
    written (not normalized), trimmed.
    Returns 1 when a featured part was found (*main_out and *feat_out set,
    caller owns both), 0 when not (*main_out is a copy of s, *feat_out is
    NULL), -1 on NULL input or out of memory (both set to NULL). */
int sp_text_split_feat (const char *s, char **main_out, char **feat_out);

/*  Similarity of two names in [0, 1]. Normalizes both (sp_text_normalize),
    then compares as sp_text_similarity_norm(). Returns 0.0 when either is
    NULL or invalid UTF-8. Allocates (two normalized copies). */
double sp_text_similarity (const char *a, const char *b);

/*  Similarity of two strings that are already in matching form (the output
    of sp_text_normalize). Identical strings give 1.0 (including two empty
    strings); one empty string gives 0.0. The score is the larger of
      - a token-set score: the Dice coefficient of the two word multisets,
        where a word that is not found exactly may match one word of the
        other side with edit similarity >= 0.8 (weighted by it), so word
        order does not matter ("simon and garfunkel" vs "garfunkel and
        simon" = 1.0); at most 64 words per side take part;
      - a normalized Levenshtein similarity on code points
        (1 - distance / longer length).
    A single leading "the " on only one side is ignored ("the beatles" =
    "beatles"). Scores below 0.5 are pushed towards 0 (s -> 4 s^3) so
    that unrelated names score near 0. Does not allocate for strings up to
    256 code points (heap above that); returns 0.0 on invalid UTF-8 or when
    a heap buffer cannot be allocated. */
double sp_text_similarity_norm (const char *a, const char *b);

// ------------------------------------------------------------ output and repair

/*  Flags of sp_text_printable. */
#define SP_TEXT_WS_SPACE 0x01u  //  \t \n \v \f \r become a space (one-line files)

/*  A copy of s that is safe to print on a terminal or to write as one line
    of a text file: every control character (U+0000-U+001F, U+007F,
    U+0080-U+009F) and every bidi override/isolate (U+202A-U+202E,
    U+2066-U+2069) is written as an escape ("\n", "\r", "\t", "\x1b",
    "\u009b", "\u202e"), each byte of invalid UTF-8 as "\xHH"; with
    SP_TEXT_WS_SPACE the whitespace controls become a space instead.
    Everything else (backslashes too) is copied unchanged, so ordinary names
    print as they are. NULL is treated as "". Caller owns the returned
    string (free()); NULL only when out of memory. */
char *sp_text_printable (const char *s, unsigned flags);

/*  A NUL-terminated copy of the len bytes at s in which every NUL byte and
    every byte of invalid UTF-8 is replaced by U+FFFD, so that a name with a
    stray byte is kept (repaired) instead of cut short or refused. *fixed
    (may be NULL) gets the number of replacements. Caller owns the returned
    string (free()); NULL on out of memory or s NULL with len > 0. */
char *sp_text_repair_n (const char *s, size_t len, size_t *fixed);

/*  For a JSON text that a strict parser would refuse whole because of
    invalid UTF-8: a copy of the len bytes at json in which each byte of
    invalid UTF-8 is replaced by the escape \u0000, so that parsed with
    JSON_ALLOW_NUL the document loads and the strings that held the bad
    bytes carry a NUL the reader can see (and drop or repair that one
    item). Bytes outside strings stay as invalid as before (the document is
    still refused). *out_len gets the new length, *marked (may be NULL) the
    number of bytes replaced. Caller owns the returned buffer (free(),
    NUL-terminated); NULL on out of memory or a NULL argument. */
char *sp_text_json_mark_invalid (const char *json, size_t len, size_t *out_len, size_t *marked);

#endif
