/*  Unit tests for the text module (normalization, query words, feat split,
    similarity). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "soulpipe/text.h"

static void
s_norm_is (const char *in, const char *want)
{
    char *got = sp_text_normalize (in);
    cr_assert_not_null (got, "normalize(%s) returned NULL", in);
    cr_expect_str_eq (got, want, "normalize(\"%s\")", in);
    free (got);
}

Test (text, normalize_latin)
{
    s_norm_is ("Hello World", "hello world");
    s_norm_is ("  Hello,   World!  ", "hello world");
    s_norm_is ("Don't Stop Me Now", "dont stop me now");
    s_norm_is ("Don\xe2\x80\x99t Stop", "dont stop");  //  U+2019
    s_norm_is ("Guns N' Roses", "guns n roses");
    s_norm_is ("AC/DC", "ac dc");
    s_norm_is ("Simon & Garfunkel", "simon and garfunkel");
    s_norm_is ("Simon&Garfunkel", "simon and garfunkel");
    s_norm_is ("Florence + The Machine", "florence and the machine");
    s_norm_is ("+44", "44");
    s_norm_is ("C++ Song", "c song");
    s_norm_is ("Ke$ha", "kesha");
    s_norm_is ("A$AP Rocky", "asap rocky");
    s_norm_is ("P!nk", "pink");
    s_norm_is ("Panic! At The Disco", "panic at the disco");
    s_norm_is ("Straße", "strasse");
    s_norm_is ("\xef\xac\x81re", "fire");                       //  ﬁ ligature
    s_norm_is ("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", "abc");  //  full width
    s_norm_is ("Song\t(Live)\n", "song live");
    s_norm_is ("Jay-Z", "jay z");
    s_norm_is ("Hello \xe2\x80\x94 World", "hello world");  //  em dash
}

Test (text, normalize_feat)
{
    s_norm_is ("Song (feat. Drake)", "song feat drake");
    s_norm_is ("Song ft. Drake", "song feat drake");
    s_norm_is ("Song Featuring Drake", "song feat drake");
    s_norm_is ("Song (Ft Drake)", "song feat drake");
    s_norm_is ("Lift Off", "lift off");  //  not a token
}

Test (text, normalize_accents)
{
    s_norm_is ("Beyonc\xc3\xa9", "beyonce");
    s_norm_is ("M\xc3\xb6tley Cr\xc3\xbc"
               "e",
               "motley crue");
    s_norm_is ("Sigur R\xc3\xb3s", "sigur ros");
    s_norm_is ("M\xc3\x98", "mo");  //  MØ
    s_norm_is ("Bj\xc3\xb6rk", "bjork");
    s_norm_is ("\xc5\x81\x6f\x64\xc5\xba", "lodz");  //  Łódź
    s_norm_is ("Ma\xc3\xb1"
               "ana",
               "manana");
    s_norm_is ("\xc3\x86on Flux", "aeon flux");
}

Test (text, normalize_nfd_equals_nfc)
{
    //  "Beyoncé" with e + U+0301
    s_norm_is ("Beyonce\xcc\x81", "beyonce");
    char *nfc = sp_text_normalize ("Mo\xcc\x88tley Cru\xcc\x88"
                                   "e");
    char *nfd = sp_text_normalize ("M\xc3\xb6tley Cr\xc3\xbc"
                                   "e");
    cr_assert_not_null (nfc);
    cr_assert_not_null (nfd);
    cr_expect_str_eq (nfc, nfd);
    free (nfc);
    free (nfd);
    //  keep-marks variant: NFD and NFC both come out NFC
    char *k1 = sp_text_normalize_keep_marks ("Beyonce\xcc\x81 & Jay-Z");
    char *k2 = sp_text_normalize_keep_marks ("Beyonc\xc3\xa9 & Jay-Z");
    cr_assert_not_null (k1);
    cr_assert_not_null (k2);
    cr_expect_str_eq (k1, "beyonc\xc3\xa9 and jay z");
    cr_expect_str_eq (k2, "beyonc\xc3\xa9 and jay z");
    free (k1);
    free (k2);
}

Test (text, normalize_non_latin)
{
    //  Cyrillic: lower-cased, й keeps its breve
    s_norm_is ("\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe", "\xd0\xba\xd0\xb8\xd0\xbd\xd0\xbe");  //  Кино
    s_norm_is ("\xd0\x9c\xd0\xbe\xd0\xb9", "\xd0\xbc\xd0\xbe\xd0\xb9");                  //  Мой
    //  Greek with tonos: lower-cased, accent kept
    s_norm_is ("\xce\x86\xce\xbb\xcf\x86\xce\xb1", "\xce\xac\xce\xbb\xcf\x86\xce\xb1");  //  Άλφα
    //  CJK unchanged
    s_norm_is ("\xe6\x9d\xb1\xe4\xba\xac", "\xe6\x9d\xb1\xe4\xba\xac");  //  東京
    //  kana with dakuten survive (が, ぱ)
    s_norm_is ("\xe3\x81\x8c\xe3\x81\xb1", "\xe3\x81\x8c\xe3\x81\xb1");
    //  half-width katakana -> full width (NFKC), dakuten recomposed: ｶﾞ -> ガ
    s_norm_is ("\xef\xbd\xb6\xef\xbe\x9e", "\xe3\x82\xac");
    //  Hangul syllables recomposed
    s_norm_is ("\xea\xb0\x95\xeb\x82\xa8", "\xea\xb0\x95\xeb\x82\xa8");  //  강남
    //  mixed scripts with punctuation
    s_norm_is ("\xe3\x80\x8c\xe6\x9d\xb1\xe4\xba\xac\xe3\x80\x8d Tokyo!",
               "\xe6\x9d\xb1\xe4\xba\xac tokyo");
}

Test (text, normalize_emoji_and_empty)
{
    s_norm_is ("", "");
    s_norm_is ("   ", "");
    s_norm_is ("!!!", "");
    //  emoji between words fold to spaces
    s_norm_is ("Love \xe2\x9d\xa4 You", "love you");
    //  emoji-only title keeps its symbols
    s_norm_is ("\xf0\x9f\x94\xa5\xf0\x9f\x94\xa5", "\xf0\x9f\x94\xa5\xf0\x9f\x94\xa5");
}

Test (text, normalize_invalid)
{
    cr_expect_null (sp_text_normalize (NULL));
    cr_expect_null (sp_text_normalize ("abc\xff"));
    cr_expect_null (sp_text_normalize ("\xc3"));          //  truncated
    cr_expect_null (sp_text_normalize ("\xc0\xaf"));      //  overlong '/'
    cr_expect_null (sp_text_normalize ("\xed\xa0\x80"));  //  surrogate
    cr_expect_null (sp_text_normalize_keep_marks ("\x80"));
    cr_expect_null (sp_text_query_words ("ok \xfe"));
    cr_expect_float_eq (sp_text_similarity ("abc\xff", "abc\xff"), 0.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity_norm ("ab\xff", "ab"), 0.0, 1e-9);
}

static void
s_query_is (const char *in, const char *want)
{
    char *got = sp_text_query_words (in);
    cr_assert_not_null (got, "query_words(%s) returned NULL", in);
    cr_expect_str_eq (got, want, "query_words(\"%s\")", in);
    free (got);
}

Test (text, query_words)
{
    s_query_is ("Beyonc\xc3\xa9 - Halo", "Beyonc\xc3\xa9 Halo");
    s_query_is ("Beyonce\xcc\x81 - Halo", "Beyonc\xc3\xa9 Halo");  //  NFD in, NFC out
    s_query_is ("Don't Stop Me Now", "Stop Me Now");
    s_query_is ("Don't", "Dont");
    s_query_is ("AC/DC - Back In Black", "AC DC Back In Black");
    s_query_is ("-Negative (Remix)", "Negative Remix");
    s_query_is ("Simon & Garfunkel", "Simon Garfunkel");
    s_query_is ("Ke$ha Tik Tok", "Tik Tok");
    s_query_is ("\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe", "\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe");
    s_query_is ("", "");
}

static void
s_feat_is (const char *in, int rc, const char *main_want, const char *feat_want)
{
    char *m = NULL, *f = NULL;
    cr_assert_eq (sp_text_split_feat (in, &m, &f), rc, "split_feat(%s)", in);
    cr_assert_not_null (m);
    cr_expect_str_eq (m, main_want, "main of \"%s\"", in);
    if (feat_want) {
        cr_assert_not_null (f, "feat of \"%s\"", in);
        cr_expect_str_eq (f, feat_want, "feat of \"%s\"", in);
    } else
        cr_expect_null (f);
    free (m);
    free (f);
}

Test (text, split_feat)
{
    s_feat_is ("Song (feat. A & B)", 1, "Song", "A & B");
    s_feat_is ("Song [ft. A]", 1, "Song", "A");
    s_feat_is ("Artist ft. B", 1, "Artist", "B");
    s_feat_is ("Artist Featuring B", 1, "Artist", "B");
    s_feat_is ("Artist feat B", 1, "Artist", "B");
    s_feat_is ("Song (with A) - Live", 1, "Song - Live", "A");
    s_feat_is ("Song (feat. A) [Remix]", 1, "Song [Remix]", "A");
    s_feat_is ("Song ft. A - Radio Edit", 1, "Song - Radio Edit", "A");
    s_feat_is ("With or Without You", 0, "With or Without You", NULL);
    s_feat_is ("Feather", 0, "Feather", NULL);
    s_feat_is ("Lift Off", 0, "Lift Off", NULL);
    s_feat_is ("Defeated", 0, "Defeated", NULL);
    char *m = (char *) 1, *f = (char *) 1;
    cr_expect_eq (sp_text_split_feat (NULL, &m, &f), -1);
    cr_expect_null (m);
    cr_expect_null (f);
}

Test (text, similarity_basics)
{
    cr_expect_float_eq (sp_text_similarity ("Hello", "Hello"), 1.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity ("Beyonc\xc3\xa9", "BEYONCE"), 1.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity_norm ("", ""), 1.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity_norm ("abc", ""), 0.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity (NULL, "x"), 0.0, 1e-9);
    cr_expect_geq (sp_text_similarity ("Simon & Garfunkel", "Garfunkel and Simon"), 0.95);
    cr_expect_geq (sp_text_similarity ("Guns N' Roses", "Guns N Roses"), 0.9);
    cr_expect_geq (sp_text_similarity ("Guns N' Roses", "Guns and Roses"), 0.75);
    cr_expect_geq (sp_text_similarity ("The Beatles", "Beatles"), 0.95);
    cr_expect_geq (sp_text_similarity ("Smells Like Teen Spirit", "Smells Like Teen Sprit"), 0.9);
    cr_expect_geq (sp_text_similarity ("Bohemian Rhapsody", "Bohemian Rapsody"), 0.9);
    cr_expect_leq (sp_text_similarity ("Bohemian Rhapsody", "Stairway to Heaven"), 0.15);
    cr_expect_leq (sp_text_similarity ("Metallica", "Madonna"), 0.2);
    cr_expect_leq (sp_text_similarity ("Hello", "World"), 0.2);
    //  Partial overlap is in between
    double p = sp_text_similarity ("Love Me Do", "P.S. I Love You");
    cr_expect_gt (p, 0.0);
    cr_expect_lt (p, 0.5);
    //  Symmetric
    cr_expect_float_eq (sp_text_similarity ("abc def", "abd"),
                        sp_text_similarity ("abd", "abc def"), 1e-9);
}

Test (text, similarity_scripts)
{
    //  Cyrillic: Кино vs кино; vs Алиса (unrelated)
    cr_expect_float_eq (
        sp_text_similarity ("\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe", "\xd0\xba\xd0\xb8\xd0\xbd\xd0\xbe"),
        1.0, 1e-9);
    cr_expect_leq (sp_text_similarity ("\xd0\x9a\xd0\xb8\xd0\xbd\xd0\xbe",
                                       "\xd0\x90\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0"),
                   0.2);
    //  CJK: one character different out of four -> 0.75 by edit distance
    double s = sp_text_similarity_norm ("\xe6\x9d\xb1\xe4\xba\xac\xe5\xa4\x9c\xe6\x9b\xb2",
                                        "\xe6\x9d\xb1\xe4\xba\xac\xe5\xa4\x9c\xe6\xad\x8c");
    cr_expect_float_eq (s, 0.75, 1e-9);
}

Test (text, similarity_long_strings)
{
    //  Longer than the stack buffers: heap path must agree with itself
    char a[2000], b[2000];
    memset (a, 'a', sizeof a - 1);
    a[sizeof a - 1] = 0;
    memcpy (b, a, sizeof a);
    b[1000] = 'b';
    double s = sp_text_similarity_norm (a, b);
    cr_expect_float_eq (s, 1.0 - 1.0 / 1999.0, 1e-9);
    //  many words: more than 64 tokens must not overflow
    char w[4000] = "";
    for (int i = 0; i < 300; i++)
        strcat (w, i % 2 ? "x " : "yy ");
    w[strlen (w) - 1] = 0;
    cr_expect_float_eq (sp_text_similarity_norm (w, w), 1.0, 1e-9);
    cr_expect_gt (sp_text_similarity_norm (w, "x yy"), 0.0);
}

Test (text, similarity_edit_distance_values)
{
    //  Known Levenshtein distances through the public API (bit-parallel
    //  path for <= 64 code points, DP above)
    cr_expect_float_eq (sp_text_similarity_norm ("kitten", "sitting"), 4.0 / 7.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity_norm ("flaw", "lawn"), 0.5, 1e-9);
    cr_expect_float_eq (sp_text_similarity_norm ("\xd1\x91\xd0\xbb\xd0\xba\xd0\xb0",
                                                 "\xd0\xb5\xd0\xbb\xd0\xba\xd0\xb0"),
                        0.75, 1e-9);
    char a[71], b[41], c[131];
    memset (a, 'a', 70);
    a[70] = 0;
    memset (b, 'a', 40);
    b[40] = 0;
    memset (c, 'a', 130);
    c[130] = 0;
    c[0] = 'b';
    cr_expect_float_eq (sp_text_similarity_norm (a, b), 1.0 - 30.0 / 70.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity_norm (b, a), 1.0 - 30.0 / 70.0, 1e-9);
    cr_expect_float_eq (sp_text_similarity_norm (a, c), 1.0 - 60.0 / 130.0, 1e-9);
    //  exactly 64 and 65 code points
    char d[66], e[66];
    memset (d, 'x', 65);
    d[65] = 0;
    memset (e, 'x', 65);
    e[65] = 0;
    e[64] = 'y';
    cr_expect_float_eq (sp_text_similarity_norm (d, e), 1.0 - 1.0 / 65.0, 1e-9);
    d[64] = 0;
    cr_expect_float_eq (sp_text_similarity_norm (d, e), 1.0 - 1.0 / 65.0, 1e-9);
}

// ------------------------------------------------------------ output and repair (issue 21)

//  A name with ESC, BEL, CR, a C1 CSI, a bidi override and an invalid byte
//  prints with every one of them escaped, the rest unchanged.
Test (text, printable_escapes_controls)
{
    char *s = sp_text_printable ("A\x1b[2JB\x07"
                                 "C\rD\xc2\x9b"
                                 "E\xe2\x80\xae"
                                 "F\xff"
                                 "G\\é\tH\n",
                                 0);
    cr_assert_not_null (s);
    cr_expect_str_eq (s, "A\\x1b[2JB\\x07C\\rD\\u009bE\\u202eF\\xffG\\é\\tH\\n");
    for (const char *c = s; *c; c++)
        cr_expect ((unsigned char) *c >= 0x20 && (unsigned char) *c != 0x7f, "raw byte %02x",
                   (unsigned char) *c);
    free (s);
    s = sp_text_printable ("one\r\nline\tx\x1b", SP_TEXT_WS_SPACE);
    cr_expect_str_eq (s, "one  line x\\x1b");
    free (s);
    s = sp_text_printable (NULL, 0);
    cr_expect_str_eq (s, "");
    free (s);
    s = sp_text_printable ("Beyoncé – 東京 🎵", 0);
    cr_expect_str_eq (s, "Beyoncé – 東京 🎵");
    free (s);
}

Test (text, repair_replaces_nul_and_invalid_utf8)
{
    size_t fixed = 99;
    char *s = sp_text_repair_n ("Dan\0cing\xff", 9, &fixed);
    cr_assert_not_null (s);
    cr_expect_str_eq (s, "Dan\xef\xbf\xbd"
                         "cing\xef\xbf\xbd");
    cr_expect_eq (fixed, 2);
    free (s);
    s = sp_text_repair_n ("fine", 4, &fixed);
    cr_expect_str_eq (s, "fine");
    cr_expect_eq (fixed, 0);
    free (s);
    cr_expect_null (sp_text_repair_n (NULL, 3, NULL));
}

Test (text, json_mark_invalid)
{
    const char body[] = "[{\"f\":\"a\xff"
                        "b\"},{\"f\":\"ok é\"}]";
    size_t n = 0, marked = 0;
    char *s = sp_text_json_mark_invalid (body, sizeof body - 1, &n, &marked);
    cr_assert_not_null (s);
    cr_expect_str_eq (s, "[{\"f\":\"a\\u0000b\"},{\"f\":\"ok é\"}]");
    cr_expect_eq (n, strlen (s));
    cr_expect_eq (marked, 1);
    free (s);
}
