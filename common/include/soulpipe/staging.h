/*  staging.h: where a task's downloaded file lives in the staging folder,
    shared by the downloader (which writes it) and the tagger (which files
    and then deletes it).

    A staged file belongs to its task: it is
        <SOULPIPE_STAGING_DIR>/<job folder>/<pos>.<ext>
    with the job folder the sanitized job id and pos the track's position
    (the digits after the last ':' of the track key "<job>:<pos>"). Both come
    from the task id the broker assigned, never from a worker's message, so
    a worker that names another task's file in its payload (`staged_path`)
    is refused instead of having the tagger file and delete that file.
*/
#ifndef SOULPIPE_STAGING_H
#define SOULPIPE_STAGING_H

#include <stddef.h>

/*  The position of a track key "<job>:<pos>" (1..20 digits): a pointer into
    track_key (borrowed), or NULL when it has none. */
const char *sp_staging_pos (const char *track_key);

/*  The two names of a task's staged file: the job folder and the file name
    "<pos>.<ext>" (ext without the dot; "" gives no extension). Caller owns
    both (free). Returns 0, or -1 (out of memory or nothing left after
    sanitizing) with both NULL. */
int sp_staging_names (const char *job, const char *pos, const char *ext, char **job_dir_out,
                      char **file_out);

/*  0 when staged_path is the task's own staged file: its name is
    "<pos>.<ext>", its folder the job folder, and (when it exists) it
    resolves, symlinks followed, to exactly that file below staging_dir.
    -1 otherwise, with the reason in why (words for the track record).
    A path that does not exist passes on its names alone (the tagger then
    treats it as a re-run or a missing file). All arguments borrowed. */
int sp_staging_check (const char *staging_dir, const char *job, const char *track_key,
                      const char *staged_path, char *why, size_t why_size);

#endif
