/*  match_internal.h: what the files of the match module share (match.c:
    prefs, track, scoring, sets, candidates; match_json.c: the upstream
    JSON adapters; match_reason.c: the English reasons and summaries).
    Internal to common/: not for services, which see match.h only.
*/
#ifndef SOULPIPE_MATCH_INTERNAL_H
#define SOULPIPE_MATCH_INTERNAL_H

#include "soulpipe/match.h"
#include "soulpipe/remote_path.h"
#include "soulpipe/title.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SP_MATCH__MAX_ARTISTS 8  //  credited artists compared with the path

struct _sp_match_track_t {
    sp_title_t title;                                        //  the wanted title
    uint32_t kinds;                                          //  title kinds + album hints
    char artists[SP_MATCH__MAX_ARTISTS][SP_MATCH_FIELD];     //  matching form
    char artists_sq[SP_MATCH__MAX_ARTISTS][SP_MATCH_FIELD];  //  same without spaces
    size_t n_artists;                                        //  entries used in artists[]
    char album[SP_MATCH_FIELD];                              //  album base, matching form
    int duration_s;                                          //  0 = unknown
    int track_no;                                            //  0 = unknown
    int disc_no;                                             //  0 = unknown
};

//  Why the slskd adapter left a result out (match_json.c).
enum {
    SP_MATCH__DROP_USER_BAD,   //  user name with a NUL or invalid UTF-8
    SP_MATCH__DROP_USER_LONG,  //  user name over SP_MSG_MAX_NAME bytes
    SP_MATCH__DROP_FILE_BAD,   //  file name with a NUL or invalid UTF-8
    SP_MATCH__DROP_FILE_LONG,  //  file name over SP_MSG_MAX_STR bytes
    SP_MATCH__DROP_KINDS
};

struct _sp_match_set_t {
    sp_match_result_t *items;              //  results in insertion order
    size_t count;                          //  used
    size_t cap;                            //  allocated
    size_t *order;                         //  rank order (indexes into items)
    size_t accepted;                       //  accepted in the last rank
    sp_remote_path_memo_t *memo;           //  parsed folders and file names (owned)
    size_t dropped[SP_MATCH__DROP_KINDS];  //  results left out by the slskd adapter, per kind
};

/*  The index of ext in prefs->formats, -1 when not there. */
int sp_match__format_index (const sp_match_prefs_t *prefs, const char *ext);

/*  The bitrate of r in kbps, reported or estimated from size and length
    (r's, else duration_s); -1 unknown. */
int sp_match__kbps (const sp_match_result_t *r, int duration_s);

#endif
