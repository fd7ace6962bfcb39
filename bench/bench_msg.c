/*  bench_msg: the message codec. A download task as the broker sends it (a
    `task` envelope whose payload bin is an encoded track payload with 10
    ranked candidates) is encoded and decoded again, payload included.
    Prints:  msg_roundtrip_per_s <n> msg/s    (encode + decode, envelope and payload)
             msg_job_bytes <n> B              (size of that frame)
*/
#include "bench_util.h"
#include "soulpipe/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CANDIDATES 10

static void
s_fill (sp_payload_t *p, sp_candidate_t *cands, char names[][64], char files[][160])
{
    static char *artists[] = {"Queen"};
    memset (p, 0, sizeof *p);
    p->job = "j-lx2k9a-4f3c";
    p->track_key = "j-lx2k9a-4f3c:17";
    p->track.spotify_id = "4u7EnebtmKWzUH433cf5Qv";
    p->track.title = "Bohemian Rhapsody - Remastered 2011";
    p->track.artists = artists;
    p->track.artists_count = 1;
    p->track.album = "A Night At The Opera (2011 Remaster)";
    p->track.album_id = "1GbtB4zTqAsyfZEsm1RZfx";
    p->track.album_type = "album";
    p->track.release_date = "1975-11-21";
    p->track.has_track_number = true;
    p->track.track_number = 11;
    p->track.has_duration_ms = true;
    p->track.duration_ms = 354320;
    p->track.isrc = "GBUM71029604";
    p->track.cover_url = "https://i.scdn.co/image/ab67616d0000b273ce4f1737bc8a646c8c4bd25a";
    p->track.playlist = "Road Trip";
    p->track.position = 17;
    p->query = "queen bohemian rhapsody";
    for (int i = 0; i < N_CANDIDATES; i++) {
        snprintf (names[i], 64, "peer%02d", i);
        snprintf (
            files[i], 160,
            "@@p%d\\Music\\Queen\\1975 - A Night at the Opera [FLAC]\\11 - Bohemian Rhapsody.flac",
            i);
        memset (&cands[i], 0, sizeof cands[i]);
        cands[i].username = names[i];
        cands[i].filename = files[i];
        cands[i].size = 31457280 + (uint64_t) i;
        cands[i].ext = "flac";
        cands[i].has_bitdepth = true;
        cands[i].bitdepth = 16;
        cands[i].has_samplerate = true;
        cands[i].samplerate = 44100;
        cands[i].has_length = true;
        cands[i].length = 354;
        cands[i].score = 0.97 - i * 0.01;
        cands[i].has_free_slot = true;
        cands[i].free_slot = i % 2;
        cands[i].has_queue = true;
        cands[i].queue = (uint64_t) i;
        cands[i].has_speed = true;
        cands[i].speed = 1048576;
    }
    p->candidates = cands;
    p->candidates_count = N_CANDIDATES;
}

int
main (void)
{
    sp_payload_t p;
    sp_candidate_t cands[N_CANDIDATES];
    char names[N_CANDIDATES][64], files[N_CANDIDATES][160];
    s_fill (&p, cands, names, files);

    long n = 0;
    size_t frame_size = 0;
    double best = 0;
    for (int round = 0; round < 3; round++) {
        double t0 = sp_bench_now (), dt;
        long k = 0;
        do {
            for (int r = 0; r < 1000; r++) {
                uint8_t *pl = NULL, *frame = NULL;
                size_t pl_size = 0;
                char why[128];
                if (sp_payload_encode (&p, &pl, &pl_size, why, sizeof why) != SP_MSG_OK) {
                    fprintf (stderr, "bench_msg: payload encode: %s\n", why);
                    return 1;
                }
                sp_msg_t task;
                memset (&task, 0, sizeof task);
                task.type = SP_MSG_TASK;
                task.id = "j-lx2k9a-4f3c:17:download";
                task.stage = "download";
                task.fence = 3;
                task.attempt = 1;
                task.payload = pl;
                task.payload_size = pl_size;
                if (sp_msg_encode (&task, &frame, &frame_size) != SP_MSG_OK) {
                    fprintf (stderr, "bench_msg: task encode failed\n");
                    return 1;
                }
                free (pl);
                sp_msg_t *got = NULL;
                sp_payload_t *gp = NULL;
                if (sp_msg_decode (frame, frame_size, 0, &got, why, sizeof why) != SP_MSG_OK ||
                    sp_payload_decode (got->payload, got->payload_size, &gp, why, sizeof why) !=
                        SP_MSG_OK ||
                    gp->candidates_count != N_CANDIDATES) {
                    fprintf (stderr, "bench_msg: decode: %s\n", why);
                    return 1;
                }
                sp_payload_destroy (&gp);
                sp_msg_destroy (&got);
                free (frame);
                k++;
            }
            dt = sp_bench_now () - t0;
        } while (dt < 0.7);
        n += k;
        if (k / dt > best)
            best = (double) k / dt;
    }
    printf ("msg_roundtrip_per_s %.0f msg/s\n", best);
    printf ("msg_job_bytes %zu B\n", frame_size);
    return n > 0 ? 0 : 1;
}
