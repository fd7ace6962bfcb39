/*  bench_text: throughput of the text and title modules.
    Prints `name value unit` lines. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "soulpipe/text.h"
#include "soulpipe/title.h"

static const char *s_titles[] = {
    "Bohemian Rhapsody - Remastered 2011",
    "Silence (Tiësto Remix) [feat. Sarah McLachlan]",
    "Another Brick in the Wall, Pt. 2",
    "Smells Like Teen Spirit",
    "Mötley Crüe - Kickstart My Heart",
    "Группа крови (Live)",
    "夜に駆ける - Acoustic Ver.",
    "Come as You Are (MTV Unplugged)",
    "Simon & Garfunkel - The Sound of Silence",
    "Love Story (Taylor's Version)",
    "Don't Stop Me Now - Remastered 2011",
    "Hotel California - Live Version",
    "Levels - Radio Edit",
    "Titanium (feat. Sia)",
    "Beyoncé - Crazy in Love (feat. Jay-Z)",
    "Despacito - Spanish Version",
};
#define S_NTITLES (sizeof s_titles / sizeof s_titles[0])

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
main (void)
{
    char *norm[S_NTITLES];
    for (size_t i = 0; i < S_NTITLES; i++) {
        norm[i] = sp_text_normalize (s_titles[i]);
        if (!norm[i]) {
            fprintf (stderr, "normalize failed: %s\n", s_titles[i]);
            return 1;
        }
    }
    volatile double sink = 0.0;

    //  Similarity on pre-normalized strings (the ranking hot path)
    long n = 0;
    double t0 = s_now ();
    do {
        for (int r = 0; r < 1000; r++)
            for (size_t i = 0; i < S_NTITLES; i++) {
                sink += sp_text_similarity_norm (norm[i], norm[(i + (size_t) r + 1) % S_NTITLES]);
                n++;
            }
    } while (s_now () - t0 < 1.0);
    double dt = s_now () - t0;
    printf ("text_similarity_norm_per_s %.0f ops/s\n", (double) n / dt);

    //  Similarity including normalization of both sides
    n = 0;
    t0 = s_now ();
    do {
        for (int r = 0; r < 100; r++)
            for (size_t i = 0; i < S_NTITLES; i++) {
                sink +=
                    sp_text_similarity (s_titles[i], s_titles[(i + (size_t) r + 1) % S_NTITLES]);
                n++;
            }
    } while (s_now () - t0 < 1.0);
    dt = s_now () - t0;
    printf ("text_similarity_per_s %.0f ops/s\n", (double) n / dt);

    //  Normalization alone
    n = 0;
    t0 = s_now ();
    do {
        for (int r = 0; r < 100; r++)
            for (size_t i = 0; i < S_NTITLES; i++) {
                char *s = sp_text_normalize (s_titles[i]);
                sink += s ? (double) s[0] : 0.0;
                free (s);
                n++;
            }
    } while (s_now () - t0 < 1.0);
    dt = s_now () - t0;
    printf ("text_normalize_per_s %.0f ops/s\n", (double) n / dt);

    //  Title parsing
    n = 0;
    t0 = s_now ();
    sp_title_t t;
    do {
        for (int r = 0; r < 100; r++)
            for (size_t i = 0; i < S_NTITLES; i++) {
                if (sp_title_parse (s_titles[i], &t) == 0)
                    sink += (double) t.kinds;
                n++;
            }
    } while (s_now () - t0 < 1.0);
    dt = s_now () - t0;
    printf ("title_parse_per_s %.0f ops/s\n", (double) n / dt);

    for (size_t i = 0; i < S_NTITLES; i++)
        free (norm[i]);
    return sink < 0 ? 1 : 0;
}
