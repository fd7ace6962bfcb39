/*  remote_path.h: a Soulseek remote path taken apart.

    A search result names its file by the path the peer shares it under,
    `@@user\Music\Artist\Album (2019) [FLAC]\CD2\03 - Title.flac`: the
    folders and the file name say artist, album, year, disc, track number,
    title and version descriptors ("Live at Budokan", "(Radio Edit)"). This
    module reads them out, both as written and in matching form
    (sp_text_normalize), for the scorer in match.h. It does not judge
    whether the file is the wanted one.

    Pure code: no I/O, no global state; thread-safe (a memo is not: one per
    thread, or one per sp_match_set_t as match.c does).

    Search results repeat themselves (an album folder is shared by its dozen
    files; the same "01 - Song.flac" comes from many users): with a memo,
    each distinct folder part and file name is parsed once.
*/
#ifndef SOULPIPE_REMOTE_PATH_H
#define SOULPIPE_REMOTE_PATH_H

#include <stdint.h>

#define SP_REMOTE_PATH_FIELD 192 /* bytes per parsed text field */
#define SP_REMOTE_PATH_NORM  768 /* bytes of the normalized path kept */

/*  A remote path taken apart. Raw fields are as written (trimmed, format
    tags and years removed); *_norm fields are in matching form
    (sp_text_normalize). Empty string = not found. */
typedef struct {
    char ext[16];                      /* from the file name, lower case */
    char artist[SP_REMOTE_PATH_FIELD]; /* raw */
    char album[SP_REMOTE_PATH_FIELD];  /* raw */
    char title[SP_REMOTE_PATH_FIELD];  /* raw title part of the file name */
    int disc;                          /* 0 = unknown */
    int track;                         /* 0 = unknown */
    int year;                          /* 0 = unknown */
    /* matching form */
    char artist_norm[SP_REMOTE_PATH_FIELD];
    char album_norm[SP_REMOTE_PATH_FIELD];    /* album base (descriptors removed) */
    char title_norm[3][SP_REMOTE_PATH_FIELD]; /* title base variants (best first; "" unused) */
    char stem_norm[SP_REMOTE_PATH_FIELD];     /* whole file stem without the number */
    char path_norm[SP_REMOTE_PATH_NORM];      /* every component, " / " joined */
    char remixer[64];                         /* from the title descriptors */
    char version[64];
    uint32_t kinds;        /* descriptors of the file title (SP_TITLE_* bits) */
    uint32_t folder_kinds; /* descriptors found in folder names */
    int part;              /* part number in the title, 0 none */
} sp_remote_path_t;

/*  Parse remote (backslash or slash separated) into *out (overwritten,
    nothing to free). Returns 0, or -1 when remote is NULL, empty, longer
    than 4096 bytes, not UTF-8 or has no file name (out is then zeroed). */
int sp_remote_path_parse (const char *remote, sp_remote_path_t *out);

/*  A memo of parsed folder parts and file names (at most 4096 of each; past
    that, parsing is simply not cached). */
typedef struct _sp_remote_path_memo_t sp_remote_path_memo_t;

/*  An empty memo. Caller owns it (sp_remote_path_memo_destroy). NULL on OOM. */
sp_remote_path_memo_t *sp_remote_path_memo_new (void);

/*  Free a memo. Accepts NULL; nulls *self_p. */
void sp_remote_path_memo_destroy (sp_remote_path_memo_t **self_p);

/*  sp_remote_path_parse through memo (NULL: none). The same result as
    without it; a memo that cannot grow (OOM) only caches less. */
int sp_remote_path_parse_memo (const char *remote, sp_remote_path_t *out,
                               sp_remote_path_memo_t *memo);

#endif
