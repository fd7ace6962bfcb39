/*  staging.c: a task's staged file name, and the check that a staged path
    is the task's own (see soulpipe/staging.h). */
#include "soulpipe/staging.h"
#include "soulpipe/path.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGING_POS_MAX 20  //  digits of a position at most

const char *
sp_staging_pos (const char *track_key)
{
    const char *c = track_key ? strrchr (track_key, ':') : NULL;
    if (!c || !c[1] || strlen (c + 1) > STAGING_POS_MAX)
        return NULL;
    for (const char *d = c + 1; *d; d++)
        if (*d < '0' || *d > '9')
            return NULL;
    return c + 1;
}

int
sp_staging_names (const char *job, const char *pos, const char *ext, char **job_dir_out,
                  char **file_out)
{
    *job_dir_out = NULL;
    *file_out = NULL;
    if (!job || !pos || !*pos)
        return -1;
    char *jobc = sp_path_sanitize (job);
    char *file = sp_path_sanitize_ext (pos, ext ? ext : "", 0);
    if (!jobc || !file || !*jobc || !*file) {
        free (jobc);
        free (file);
        return -1;
    }
    *job_dir_out = jobc;
    *file_out = file;
    return 0;
}

int
sp_staging_check (const char *staging_dir, const char *job, const char *track_key,
                  const char *staged_path, char *why, size_t why_size)
{
    const char *pos = sp_staging_pos (track_key);
    if (!staging_dir || !*staging_dir || !job || !pos || !staged_path || !*staged_path) {
        snprintf (why, why_size, "the tag job names no staged file of its own");
        return -1;
    }
    const char *slash = strrchr (staged_path, '/');
    const char *base = slash ? slash + 1 : staged_path;
    const char *ext = sp_path_ext (base);
    char *jobc = NULL, *file = NULL;
    if (sp_staging_names (job, pos, ext ? ext : "", &jobc, &file) != 0) {
        snprintf (why, why_size, "out of memory");
        return -1;
    }
    int rc = -1;
    //  the names first: <job folder>/<pos>.<ext>
    size_t jl = strlen (jobc);
    const char *dir_end = slash;
    const char *dir_start = NULL;
    if (dir_end) {
        dir_start = dir_end;
        while (dir_start > staged_path && dir_start[-1] != '/')
            dir_start--;
    }
    if (strcmp (base, file) != 0 || !dir_start || (size_t) (dir_end - dir_start) != jl ||
        strncmp (dir_start, jobc, jl) != 0) {
        snprintf (why, why_size, "the staged file is not this track's (another task's file?)");
        goto done;
    }
    //  then where it really is: exactly <staging>/<job folder>/<file>
    char real[PATH_MAX], root[PATH_MAX];
    if (!realpath (staged_path, real)) {
        rc = 0;  //  missing: a re-run after the move, or gone (the tagger says which)
        goto done;
    }
    if (!realpath (staging_dir, root)) {
        snprintf (why, why_size, "SOULPIPE_STAGING_DIR cannot be resolved");
        goto done;
    }
    char want[PATH_MAX];
    int n =
        snprintf (want, sizeof want, "%s/%s/%s", strcmp (root, "/") == 0 ? "" : root, jobc, file);
    if (n < 0 || (size_t) n >= sizeof want || strcmp (real, want) != 0) {
        snprintf (why, why_size, "the staged file is not this track's (it leads elsewhere)");
        goto done;
    }
    rc = 0;
done:
    free (jobc);
    free (file);
    return rc;
}
