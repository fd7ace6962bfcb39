/*  fake_folderlib.h: writes the fixture's Plex library as a folder of real,
    tagged audio files, so the folder library backend (SOULPIPE_LIBRARY=
    folder) can be tried on the same library the fake Plex, Jellyfin and
    Subsonic servers serve: `soulpipe-fake --fixtures DIR --write-library
    OUT` (used by `SOULPIPE_LIBRARY=folder make demo`).
*/
#ifndef SP_FAKE_FOLDERLIB_H
#define SP_FAKE_FOLDERLIB_H

#include <stddef.h>

/*  Read DIR/plex/tracks.json and write each track under out_dir at its Plex
    file path with the "/music" root replaced by out_dir (folders created),
    as a real audio file of the track's length (tests/fakes/audio.h) tagged
    with its title, artist, album and album artist. An existing file is
    kept. Returns the number of files written (>= 0), or -1 with a one-line
    reason in err. */
int sp_fake_write_folder_library (const char *fixtures_dir, const char *out_dir, char *err,
                                  size_t err_size);

#endif
