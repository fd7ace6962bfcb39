/*  bench_diff.c: the analyzer's library diff: index a synthetic 200,000-track
    library, then match a 10,000-track playlist against it (half present with
    spelling variants, half missing). Prints
        diff_10k_vs_200k_s <seconds> s     (index build + all lookups)
        diff_peak_mb <MB> MB               (peak RSS, VmHWM)
*/
#include "../services/analyzer/library.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIB_TRACKS      200000
#define PLAYLIST_TRACKS 10000

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long
s_hwm_kb (void)
{
    FILE *f = fopen ("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, "VmHWM:", 6) == 0)
            kb = strtol (line + 6, NULL, 10);
    if (f)
        fclose (f);
    return kb;
}

static const char *s_words[] = {"love",   "night",  "fire",  "dream", "heart", "city",  "rain",
                                "summer", "blue",   "gold",  "river", "light", "dance", "wild",
                                "home",   "shadow", "storm", "sugar", "stone", "echo"};

static void
s_title (unsigned i, char *buf, size_t n)
{
    snprintf (buf, n, "%s %s %s %u", s_words[i % 20], s_words[(i / 20) % 20],
              s_words[(i / 400) % 20], i);
}

int
main (void)
{
    double t0 = s_now ();
    sp_library_t *lib = sp_library_new ();
    char title[128], artist[64], path[320];
    for (unsigned i = 0; i < LIB_TRACKS; i++) {
        s_title (i, title, sizeof title);
        snprintf (artist, sizeof artist, "Artist %u", i / 12);
        snprintf (path, sizeof path, "/music/Artist %u/Album/%02u %s.flac", i / 12, i % 12, title);
        if (sp_library_add (lib, title, artist, NULL, "Album", 180000 + (i % 120) * 1000, path) <
            0) {
            fprintf (stderr, "out of memory\n");
            return 1;
        }
    }
    unsigned found = 0;
    for (unsigned k = 0; k < PLAYLIST_TRACKS; k++) {
        unsigned i = (k * 7919u) % LIB_TRACKS;
        char want[200];
        s_title (i, title, sizeof title);
        //  even: present, spelled with a remaster suffix and lower-case
        //  artist; odd: a title the library does not have
        snprintf (want, sizeof want, "%s - Remastered 2011", title);
        snprintf (artist, sizeof artist, "artist %u", i / 12);
        const char *a[] = {artist};
        sp_library_match_t m;
        if (sp_library_match (lib, k % 2 ? "Nothing Like It" : want, a, 1,
                              180000 + (i % 120) * 1000 + 1500, 0.8, &m) == 1)
            found++;
    }
    double dt = s_now () - t0;
    if (found != PLAYLIST_TRACKS / 2) {
        fprintf (stderr, "bench_diff: expected %d matches, got %u\n", PLAYLIST_TRACKS / 2, found);
        return 1;
    }
    printf ("diff_10k_vs_200k_s %.3f s\n", dt);
    printf ("diff_peak_mb %.1f MB\n", (double) s_hwm_kb () / 1024.0);
    sp_library_destroy (&lib);
    return 0;
}
