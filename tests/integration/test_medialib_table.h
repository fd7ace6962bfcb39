/*  test_medialib_table.h: the one test table every medialib backend passes
    (tests/integration/test_medialib_table.c).

    A backend joins by defining its row function (tm_row_plex,
    tm_row_jellyfin here; tm_row_subsonic, tm_row_folder in the test file of
    that backend): it fills a tm_backend_t whose start() brings up a server
    (the fake, or a folder of generated files) holding THE DEMO FIXTURE'S
    LIBRARY (tests/fixtures/demo/plex/tracks.json, converted as needed) plus
    one new file that only a rescan reveals (tm_new_file()), and sets the
    options of sp_medialib_new. The table then checks, per backend:
      - demo_diff: sp_medialib_load into an sp_library_t, then
        sp_library_match of the 28 demo playlist tracks at 0.8 gives exactly
        the 9 positions EXPECTED.md marks "in library" (0 false owned, the 8
        near misses not counted);
      - refused: wrong credentials give SP_MEDIALIB_ERR_REFUSED and a note
        naming the variable to check (skipped when the backend has none);
      - unreachable: a closed port gives SP_MEDIALIB_ERR_UNREACHABLE and a
        note with "unreachable" and the URL variable;
      - rescan_playlist: rescan of the new file's folder, find_item of it,
        playlist_upsert of the library items plus the new one in playlist
        order: the server holds that list in that order; run twice: still one
        playlist of that name, same id.
    Row functions are weak so the table links before every backend exists;
    a missing row makes its tests skip (visible as skipped, never passed).
*/
#ifndef TEST_MEDIALIB_TABLE_H
#define TEST_MEDIALIB_TABLE_H

#include "test_fake_util.h"

#include "soulpipe/medialib.h"

#include <jansson.h>
#include <stdbool.h>

//  One backend under test. env is the row's own state (started by start).
typedef struct tm_backend_t tm_backend_t;
struct tm_backend_t {
    const char *name;          //  "plex", ... (for messages)
    sp_medialib_kind_t kind;   //  opts.kind
    bool paths_as_plex;        //  the server reports the demo's Plex file paths
    const char *refused_hint;  //  in the note on bad credentials ("check PLEX_TOKEN"); NULL: none
    const char *url_var;       //  in the note when unreachable ("PLEX_URL"); NULL: no server
    void *env;                 //  the row's state
    const char *new_path;      //  the new file for find_item (NULL: TM_NEW_PATH); a folder
    const char *new_dir;       //  library cannot hold /music, so its row sets these in start

    //  Bring the library up and fill opts (its strings stay valid until
    //  stop). 0 or -1.
    int (*start) (tm_backend_t *self, sp_medialib_opts_t *opts);
    //  Make opts carry wrong credentials (NULL when the backend has none).
    void (*bad_credentials) (tm_backend_t *self, sp_medialib_opts_t *opts);
    //  Point opts at a closed port (NULL when there is no server).
    void (*unreachable) (tm_backend_t *self, sp_medialib_opts_t *opts);
    //  The item ids the server's playlist id holds, in order (caller owns
    //  the array of strings), and how many playlists are called name.
    json_t *(*server_playlist) (tm_backend_t *self, const char *id, const char *name,
                                int *same_name);
    //  Stop everything start made. Safe to call twice.
    void (*stop) (tm_backend_t *self);
};

//  The rows. Each fills *row; defined in the backend's test file.
void tm_row_plex (tm_backend_t *row) __attribute__ ((weak));
void tm_row_jellyfin (tm_backend_t *row) __attribute__ ((weak));
void tm_row_subsonic (tm_backend_t *row) __attribute__ ((weak));
void tm_row_folder (tm_backend_t *row) __attribute__ ((weak));

//  The demo fixture directory ($SOULPIPE_SRC_DIR/tests/fixtures/demo).
const char *tm_demo_dir (void);
//  Copy demo file rel (e.g. "plex/tracks.json") into the fake's fixtures.
void tm_copy_demo (fk_t *f, const char *rel);
//  The new download the rescan must reveal: the path the server reports
//  for it, its title, artist, album and duration (a Transfer folder file).
#define TM_NEW_DIR    "/music/Transfer"
#define TM_NEW_PATH   TM_NEW_DIR "/Nobody Knows/Brand New Day/01 - Brand New Song.flac"
#define TM_NEW_TITLE  "Brand New Song"
#define TM_NEW_ARTIST "Nobody Knows"
#define TM_NEW_ALBUM  "Brand New Day"
#define TM_NEW_MS     201000
//  Rows may set new_path/new_dir (the folder row needs it).
#define TM_HAS_NEW_PATH 1
//  The playlist name used by the table.
#define TM_PLAYLIST "soulpipe: Road Trip Classics"

#endif
