/*  fuzz_json.c: libFuzzer harness for the upstream JSON readers.

    Input: arbitrary bytes, parsed with jansson (as slskd/Spotify bodies
    are); whatever parses goes through
      - sp_match_set_add_responses + sp_match_set_rank + the reasons
        (an slskd GET /searches/{id}/responses body),
      - sp_match_track_from_spotify (a Spotify track object), and, when it
        gives a track, ranking the same responses against it,
      - sp_xfer_parse and sp_xfer_find_in_user (slskd transfer bodies).
    Raw bytes also go to sp_xfer_state_parse and sp_remote_path_parse.

    Run: make fuzz (all targets), or by hand
      make build/fuzz/fuzz_json && build/fuzz/fuzz_json fuzz/corpus/json

    Invariants (a broken one calls abort()): a failed parser leaves no
    state behind; every added result has a non-empty username and
    filename; ranking returns at most the count; the rank order puts the
    accepted results first; strings the parsers fill are NUL-terminated.
*/
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../services/downloader/slskd_transfer.h"
#include "soulpipe/match.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (int cond, const char *what)
{
    if (!cond) {
        fprintf (stderr, "fuzz_json: invariant broken: %s\n", what);
        abort ();
    }
}

static void
s_rank (const json_t *responses, const sp_track_t *track)
{
    sp_match_set_t *set = sp_match_set_new ();
    s_check (set != NULL, "set_new");
    int added = sp_match_set_add_responses (set, responses);
    if (!json_is_array (responses))
        s_check (added == -1, "non-array responses accepted");
    else
        s_check (added >= 0 && (size_t) added == sp_match_set_count (set), "count mismatch");
    for (size_t i = 0; i < sp_match_set_count (set); i++) {
        const sp_match_result_t *r = sp_match_set_get (set, i);
        s_check (r && r->username && *r->username && r->filename && *r->filename,
                 "result without user or file");
    }
    sp_match_track_t *mt = sp_match_track_new (track);
    if (mt) {
        sp_match_prefs_t prefs;
        sp_match_prefs_default (&prefs);
        const char *excluded[] = {"baduser"};
        size_t acc = sp_match_set_rank (set, mt, &prefs, excluded, 1, NULL, NULL, 0);
        s_check (acc <= sp_match_set_count (set), "more accepted than results");
        char buf[512];
        for (size_t i = 0; i < sp_match_set_count (set); i++) {
            sp_match_result_t *r = sp_match_set_get (set, i);
            s_check ((i < acc) == (r->reject == SP_MATCH_OK), "rank order");
            sp_match_reason (r, &prefs, mt, buf, sizeof buf);
            s_check (memchr (buf, '\0', sizeof buf) != NULL, "reason not terminated");
            sp_match_category (r, &prefs, buf, sizeof buf);
        }
        sp_match_track_destroy (&mt);
    }
    sp_match_set_destroy (&set);
}

static void
s_xfer (const json_t *json)
{
    sp_xfer_t x;
    memset (&x, 0xA5, sizeof x);
    if (sp_xfer_parse (json, &x) == SP_XFER_OK) {
        s_check (memchr (x.id, '\0', sizeof x.id) != NULL, "id not terminated");
        s_check (memchr (x.exception, '\0', sizeof x.exception) != NULL,
                 "exception not terminated");
        (void) sp_xfer_state_name (x.state);
    }
    const char *name = "@@u\\Music\\a.flac";
    json_t *files = json_is_object (json) ? json_object_get (json, "filename") : NULL;
    if (json_is_string (files))
        name = json_string_value (files);
    for (int any = 0; any < 2; any++) {
        memset (&x, 0x5A, sizeof x);
        if (sp_xfer_find_in_user (json, name, any != 0, &x) == SP_XFER_OK)
            s_check (memchr (x.id, '\0', sizeof x.id) != NULL, "found id not terminated");
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  Raw strings first: the state parser and the path parser.
    char *str = malloc (size + 1);
    if (!str)
        return 0;
    memcpy (str, data, size);
    str[size] = '\0';
    (void) sp_xfer_state_final (sp_xfer_state_parse (str));
    sp_remote_path_t path;
    (void) sp_remote_path_parse (str, &path);
    free (str);

    json_error_t jerr;
    json_t *json = json_loadb ((const char *) data, size, JSON_DECODE_ANY, &jerr);
    if (!json)
        return 0;

    //  A fixed track, then (when the input is a Spotify track object, or
    //  an object holding one under "track") the input's own track.
    sp_track_t fixed;
    memset (&fixed, 0, sizeof fixed);
    fixed.title = (char *) "Song";
    char *artists[] = {(char *) "Artist"};
    fixed.artists = artists;
    fixed.artists_count = 1;
    fixed.album = (char *) "Album";
    fixed.has_duration_ms = true;
    fixed.duration_ms = 200000;
    s_rank (json, &fixed);

    sp_track_t t;
    memset (&t, 0, sizeof t);
    const json_t *obj = json_is_object (json) && json_object_get (json, "track")
                            ? json_object_get (json, "track")
                            : json;
    if (sp_match_track_from_spotify (obj, &t) == 0) {
        s_check (t.title != NULL, "track without title");
        const json_t *resp = json_is_object (json) ? json_object_get (json, "responses") : NULL;
        s_rank (resp ? resp : json, &t);
        sp_track_clear (&t);
    }
    s_xfer (json);
    json_decref (json);
    return 0;
}
