/*  chaos_fixture.h: the generated fixture of the chaos test: a Spotify
    playlist of n tracks owned by the fixture's user (extended mode, so the
    client-credentials token reads it), a Plex library holding every fifth
    track, and a mixed Soulseek network (good peers, plus slow, stalling,
    rejecting, erroring, queueing and offline peers that rank above them).
    Deterministic: track n always gets the same names and placement. */
#ifndef SP_CHAOS_FIXTURE_H
#define SP_CHAOS_FIXTURE_H

typedef enum {
    SP_CHAOS_LIBRARY,   //  in the Plex library: skipped
    SP_CHAOS_GOOD,      //  a good copy on a good peer (maybe bad peers first)
    SP_CHAOS_BAD_ONLY,  //  only on a stalling and a rejecting peer: failed
    SP_CHAOS_NOWHERE    //  on no peer: failed (nothing found)
} sp_chaos_kind_t;

typedef struct {
    char id[32], album_id[32];
    char artist[64], album[64], title[64];
    int track_number, duration_s;
    int in_library;
    sp_chaos_kind_t kind;
} sp_chaos_track_t;

typedef struct {
    int library, good, bad_only, nowhere;  //  tracks of each kind
    char playlist_name[64];
    char url[128];  //  the playlist's open.spotify.com URL
} sp_chaos_expect_t;

/*  Track n of the fixture. */
void sp_chaos_track (int n, sp_chaos_track_t *tr);

/*  Write the fixture tree (spotify/, plex/, slskd/) under dir (created);
    every transfer is InProgress for transfer_ms (slow peers 6 times longer).
    Returns 0, or -1 when a file cannot be written. */
int sp_chaos_fixture_write (const char *dir, int n_tracks, int transfer_ms,
                            sp_chaos_expect_t *expect);

#endif
