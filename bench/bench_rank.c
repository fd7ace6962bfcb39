/*  bench_rank: ranking throughput. One track scored against 10,000
    realistic results (right copies, other versions, other titles, other
    formats and bitrates).
    Prints:  rank_candidates_per_s <n> cand/s   (sp_match_score only)
             rank_10k_results_ms <ms> ms        (parse + filter + rank of 10,000)
             rank_10k_parse_ms, rank_10k_filter_sort_ms: its two halves
             parse_uncached_us <us> us/path     (sp_remote_path_parse, no memo:
                                                 a folder and file name never seen) */
#include "soulpipe/match.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_RESULTS 10000
#define ROUNDS    50

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *s_templates[] = {
    "\\Music\\Queen\\1975 - A Night at the Opera [FLAC]\\11 - Bohemian Rhapsody.flac",
    "\\Music\\Queen\\A Night at the Opera (2011 Remaster)\\11 Bohemian Rhapsody (Remastered "
    "2011).mp3",
    "\\mp3\\Queen - Bohemian Rhapsody.mp3",
    "\\Queen\\Live at Wembley '86\\CD2\\04 - Bohemian Rhapsody.flac",
    "\\Queen\\Greatest Hits\\01 Bohemian Rhapsody (Live).mp3",
    "\\Karaoke\\Queen - Bohemian Rhapsody (Karaoke Version).mp3",
    "\\Queen\\A Night at the Opera\\12 - God Save the Queen.flac",
    "\\Queen\\A Night at the Opera\\cover.jpg",
    "\\Panic! At The Disco\\Bohemian Rhapsody.mp3",
    "\\Queen\\Bohemian Rhapsody (Original Soundtrack)\\05 - Bohemian Rhapsody.flac",
};

int
main (void)
{
    sp_track_t track;
    memset (&track, 0, sizeof track);
    char *artists[] = {"Queen"};
    track.title = "Bohemian Rhapsody - Remastered 2011";
    track.artists = artists;
    track.artists_count = 1;
    track.album = "A Night At The Opera (2011 Remaster)";
    track.has_duration_ms = true;
    track.duration_ms = 354320;
    track.has_track_number = true;
    track.track_number = 11;
    sp_match_prefs_t prefs;
    sp_match_prefs_default (&prefs);

    double t0 = s_now ();
    sp_match_track_t *mt = sp_match_track_new (&track);
    sp_match_set_t *set = sp_match_set_new ();
    char path[512], user[32];
    for (int i = 0; i < N_RESULTS; i++) {
        int k = i % (int) (sizeof s_templates / sizeof s_templates[0]);
        snprintf (path, sizeof path, "@@u%d%s", i, s_templates[k]);
        snprintf (user, sizeof user, "user%05d", i);
        sp_match_result_t r;
        memset (&r, 0, sizeof r);
        r.username = user;
        r.filename = path;
        r.size = 30000000 + (uint64_t) i;
        r.length = 354 + (i % 7) - 3;
        bool mp3 = strstr (path, ".mp3") != NULL;
        r.bitrate = mp3 ? (i % 3 == 0 ? 192 : 320) : -1;
        r.bitdepth = mp3 ? -1 : 16;
        r.samplerate = 44100;
        r.vbr = mp3 ? 0 : -1;
        r.free_slot = i % 2;
        r.queue = i % 13;
        r.speed = 100000 + (i % 50) * 100000;
        if (sp_match_set_add (set, &r) != 0) {
            fprintf (stderr, "bench_rank: add failed\n");
            return 1;
        }
    }
    double tp = s_now ();
    size_t accepted = sp_match_set_rank (set, mt, &prefs, NULL, 0, NULL, NULL, 0);
    double t1 = s_now ();
    printf ("rank_10k_results_ms %.1f ms\n", (t1 - t0) * 1000.0);
    printf ("rank_10k_parse_ms %.1f ms\n", (tp - t0) * 1000.0);
    printf ("rank_10k_filter_sort_ms %.1f ms\n", (t1 - tp) * 1000.0);

    //  the scoring path alone
    size_t n = sp_match_set_count (set);
    double best = 0;
    volatile double sink = 0;
    for (int round = 0; round < 5; round++) {
        double s0 = s_now ();
        for (int k = 0; k < ROUNDS; k++)
            for (size_t i = 0; i < n; i++) {
                sp_match_result_t *r = sp_match_set_get (set, i);
                sp_match_score (mt, &prefs, r, NULL, 0);
                sink += r->score;
            }
        double rate = (double) n * ROUNDS / (s_now () - s0);
        if (rate > best)
            best = rate;
    }
    printf ("rank_candidates_per_s %.0f cand/s\n", best);

    //  the parser without the set's memo (every path new to it)
    sp_remote_path_t *pp = malloc (sizeof *pp);
    double u0 = s_now ();
    int parsed = 0;
    for (int i = 0; i < 2000; i++) {
        int k = i % (int) (sizeof s_templates / sizeof s_templates[0]);
        snprintf (path, sizeof path, "@@u%d%s", i, s_templates[k]);
        parsed += pp && sp_remote_path_parse (path, pp) == 0;
    }
    printf ("parse_uncached_us %.1f us/path\n", (s_now () - u0) * 1e6 / 2000);
    free (pp);
    if (parsed != 2000)
        return 1;
    printf ("rank_accepted_of_10k %zu results\n", accepted);
    sp_match_set_destroy (&set);
    sp_match_track_destroy (&mt);
    return sink < 0;
}
