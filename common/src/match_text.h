/*  match_text.h: matching-form text helpers shared by the remote-path parser
    (remote_path.c) and the scorer (match.c, match_reason.c). Internal to
    common/: not installed, not for services. Pure code, thread-safe.

    "Matching form" is sp_text_normalize's output (case folded, punctuation
    to spaces, "&" -> "and", "ft" -> "feat", spaces collapsed). Every dst
    buffer of n bytes is always NUL-terminated and cut on a UTF-8 boundary.
*/
#ifndef SOULPIPE_MATCH_TEXT_H
#define SOULPIPE_MATCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*  True when s is one of the NULL-terminated list's strings. */
bool sp_match__in_list (const char *const *list, const char *s);

/*  Copy at most n-1 bytes of s (len bytes) into dst, cut on a UTF-8
    boundary. */
void sp_match__copy (char *dst, size_t n, const char *s, size_t len);

/*  Normalize s into dst (matching form; printable ASCII takes a fast path
    without utf8proc or allocation). Returns 0, or -1 on invalid UTF-8 (dst
    is then ""). */
int sp_match__norm (char *dst, size_t n, const char *s);

/*  Trim spaces and '_' at both ends and '-', '.' at the end, in place. */
void sp_match__trim (char *s);

/*  True when s[0..len) is all ASCII digits (len > 0). */
bool sp_match__is_digits (const char *s, size_t len);

/*  True when s[0..len) is a year 1900..2099. */
bool sp_match__is_year (const char *s, size_t len);

/*  True when needle occurs in hay as whole words. */
bool sp_match__word_find (const char *hay, const char *needle);

/*  True when sq (no spaces) occurs in hay at a word start, ignoring hay's
    spaces ("acdc" in "ac dc back in black"). */
bool sp_match__squashed_find (const char *hay, const char *sq);

/*  s without its spaces into dst. */
void sp_match__squash (char *dst, size_t n, const char *s);

/*  Similarity 0..1 of two strings in matching form (1 when equal, 0 when
    one is empty). */
double sp_match__sim (const char *a, const char *b);

#endif
