/*  dl_files.c: the download stage's file work (see downloader.h): a
    finished file checked (size, not zeros, decodable audio of the expected
    length) and moved into staging without following symlinks or replacing
    a file, through a per-track work folder when it must be copied. */
#include "dl_int.h"

#include "soulpipe/io.h"
#include "soulpipe/log.h"
#include "soulpipe/path.h"
#include "soulpipe/staging.h"
#include "soulpipe/tags.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DL_ZERO_CHECK     65536  //  bytes checked for an all-zero file
#define DL_LENGTH_TOL_MS  5000   //  duration tolerance: at least 5 s ...
#define DL_LENGTH_TOL_PCT 3      //  ... or 3 %

/* ---------------------------------------------------------------- file checks */

bool
sp_dl_length_ok (int64_t expected_ms, int64_t actual_ms)
{
    if (expected_ms <= 0)
        return true;
    int64_t tol = expected_ms * DL_LENGTH_TOL_PCT / 100;
    if (tol < DL_LENGTH_TOL_MS)
        tol = DL_LENGTH_TOL_MS;
    int64_t diff = actual_ms > expected_ms ? actual_ms - expected_ms : expected_ms - actual_ms;
    return diff <= tol;
}

int
sp_dl_verify_file (const char *path, uint64_t size, int64_t expected_ms, int *length_s, char *why,
                   size_t why_size)
{
    if (length_s)
        *length_s = 0;
    snprintf (why, why_size, "ok");
    int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf (why, why_size, "cannot open the file: %s", strerror (errno));
        return SP_DL_VERIFY_IO;
    }
    struct stat st;
    if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
        close (fd);
        snprintf (why, why_size, "not a regular file");
        return SP_DL_VERIFY_IO;
    }
    if (size > 0 && (uint64_t) st.st_size != size) {
        close (fd);
        snprintf (why, why_size, "corrupt: %lld bytes instead of %llu", (long long) st.st_size,
                  (unsigned long long) size);
        return SP_DL_VERIFY_CORRUPT;
    }
    static const size_t chunk = DL_ZERO_CHECK;
    unsigned char *buf = malloc (chunk);
    ssize_t got = buf ? read (fd, buf, chunk) : -1;
    close (fd);
    bool zeros = got >= 0;
    for (ssize_t i = 0; i < got && zeros; i++)
        if (buf[i])
            zeros = false;
    free (buf);
    if (got < 0) {
        snprintf (why, why_size, "cannot read the file");
        return SP_DL_VERIFY_IO;
    }
    if (zeros) {
        snprintf (why, why_size, "corrupt: the file is all zeros");
        return SP_DL_VERIFY_CORRUPT;
    }
    //  No lock: TagLib calls from several threads at once are safe through
    //  tags.h (see "Threads" there).
    int secs = 0;
    if (sp_tags_audio_length (path, &secs) != SP_TAGS_OK)
        secs = -1;
    if (secs <= 0) {
        snprintf (why, why_size, "corrupt: not decodable audio");
        return SP_DL_VERIFY_CORRUPT;
    }
    if (length_s)
        *length_s = secs;
    if (!sp_dl_length_ok (expected_ms, (int64_t) secs * 1000)) {
        snprintf (why, why_size, "wrong length: %d s instead of %lld s", secs,
                  (long long) ((expected_ms + 500) / 1000));
        return SP_DL_VERIFY_LENGTH;
    }
    return SP_DL_VERIFY_OK;
}

/* ---------------------------------------------------------------- staging */

//  Open staging_dir/<job> (created), without following symlinks below the
//  root. Returns an fd or -1.
static int
s_job_dir (const char *staging_dir, const char *job, bool create)
{
    char *jobc = sp_path_sanitize (job);
    if (!jobc)
        return -1;
    int fd = -1;
    if (create) {
        const char *comps[] = {jobc};
        if (sp_path_mkdirs_at (staging_dir, comps, 1, &fd) != SP_PATH_OK)
            fd = -1;
    } else {
        int root = open (staging_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root >= 0) {
            fd = openat (root, jobc, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            close (root);
        }
    }
    free (jobc);
    return fd;
}

int
sp_dl_find_staged (const char *staging_dir, const char *job, const char *pos, char **path_out)
{
    *path_out = NULL;
    int fd = s_job_dir (staging_dir, job, false);
    if (fd < 0)
        return -1;
    DIR *dh = fdopendir (fd);
    if (!dh) {
        close (fd);
        return -1;
    }
    size_t pl = strlen (pos);
    int rc = -1;
    struct dirent *e;
    while (rc != 0 && (e = readdir (dh)) != NULL) {
        if (strncmp (e->d_name, pos, pl) != 0 || e->d_name[pl] != '.' || !e->d_name[pl + 1])
            continue;
        struct stat st;
        if (fstatat (dirfd (dh), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode))
            continue;
        char *jobc = sp_path_sanitize (job);
        const char *comps[] = {jobc, e->d_name};
        if (jobc && sp_path_join (staging_dir, comps, 2, path_out) == SP_PATH_OK)
            rc = 0;
        free (jobc);
    }
    closedir (dh);
    return rc;
}

static void
s_work_name (const char *pos, char *buf, size_t size)
{
    snprintf (buf, size, ".work-%s", pos);
}

void
sp_dl_clean_work (const char *staging_dir, const char *job, const char *pos)
{
    int jfd = s_job_dir (staging_dir, job, false);
    if (jfd < 0)
        return;
    char work[64];
    s_work_name (pos, work, sizeof work);
    int wfd = openat (jfd, work, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (wfd >= 0) {
        DIR *dh = fdopendir (wfd);
        if (dh) {
            struct dirent *e;
            while ((e = readdir (dh)) != NULL)
                if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0) {
                    if (unlinkat (dirfd (dh), e->d_name, 0) == 0)
                        sp_log_info ("event=staging_orphan_removed file=%s", sp_log_q (e->d_name));
                }
            closedir (dh);
        } else
            close (wfd);
        unlinkat (jfd, work, AT_REMOVEDIR);
    }
    close (jfd);
}

int
sp_dl_stage (const char *staging_dir, const char *job, const char *pos, const char *src_path,
             const char *ext, bool force_copy, char **staged_out, char *why, size_t why_size)
{
    *staged_out = NULL;
    int rc = -1;
    int jfd = -1, sdfd = -1, wfd = -1, src = -1, out = -1;
    char *final = NULL, *sdir = NULL, *jobc = NULL;
    char tmp[SP_PATH_TMPNAME_SIZE] = "";
    char work[64];
    s_work_name (pos, work, sizeof work);

    const char *slash = strrchr (src_path, '/');
    const char *base = slash ? slash + 1 : src_path;
    sdir = slash ? strndup (src_path, (size_t) (slash - src_path)) : strdup (".");
    //  the task's own names (the tagger checks a staged path against them)
    sp_staging_names (job, pos, ext, &jobc, &final);
    if (!sdir || !final || !jobc || !*base) {
        snprintf (why, why_size, "out of memory or bad path");
        goto done;
    }
    jfd = s_job_dir (staging_dir, job, true);
    if (jfd < 0) {
        snprintf (why, why_size, "SOULPIPE_STAGING_DIR: cannot create the job folder: %s",
                  strerror (errno));
        goto done;
    }
    sdfd = open (sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (sdfd < 0 || fstatat (sdfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode)) {
        snprintf (why, why_size, "the downloaded file is gone or not a regular file");
        goto done;
    }
    if (faccessat (jfd, final, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        rc = 1;
        goto done;
    }
    if (!force_copy) {
        if (renameat2 (sdfd, base, jfd, final, RENAME_NOREPLACE) == 0) {
            fsync (jfd);
            rc = 0;
            goto built;
        }
        if (errno == EEXIST) {
            rc = 1;
            goto done;
        }
        //  EXDEV (another file system) or no RENAME_NOREPLACE: copy
    }
    {
        const char *comps[] = {work};
        if (sp_path_mkdirs_fd (jfd, comps, 1, &wfd) != SP_PATH_OK) {
            snprintf (why, why_size, "cannot create the work folder in staging: %s",
                      strerror (errno));
            goto done;
        }
    }
    src = openat (sdfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0 || sp_path_open_tmp_at (wfd, final, tmp, sizeof tmp, &out) != SP_PATH_OK) {
        snprintf (why, why_size, "cannot copy into staging: %s", strerror (errno));
        goto done;
    }
    if (sp_io_copy_fd (src, out) != 0) {
        snprintf (why, why_size, "copy into staging failed: %s", strerror (errno));
        sp_path_discard_at (wfd, tmp);
        goto done;
    }
    close (out);
    out = -1;
    if (sp_path_commit_at (wfd, tmp, final, false) != SP_PATH_OK) {
        snprintf (why, why_size, "cannot commit the staged copy: %s", strerror (errno));
        sp_path_discard_at (wfd, tmp);
        goto done;
    }
    if (renameat2 (wfd, final, jfd, final, RENAME_NOREPLACE) != 0) {
        int e = errno;
        unlinkat (wfd, final, 0);
        if (e == EEXIST) {
            rc = 1;
            goto done;
        }
        snprintf (why, why_size, "cannot move the staged copy: %s", strerror (e));
        goto done;
    }
    fsync (jfd);
    unlinkat (sdfd, base, 0);
    rc = 0;
built : {
    const char *comps[] = {jobc, final};
    if (sp_path_join (staging_dir, comps, 2, staged_out) != SP_PATH_OK) {
        snprintf (why, why_size, "cannot build the staged path");
        rc = -1;
    }
}
done:
    if (out >= 0)
        close (out);
    if (src >= 0)
        close (src);
    if (wfd >= 0) {
        close (wfd);
        unlinkat (jfd, work, AT_REMOVEDIR);
    }
    if (sdfd >= 0)
        close (sdfd);
    if (jfd >= 0)
        close (jfd);
    free (final);
    free (sdir);
    free (jobc);
    return rc;
}

/* ---------------------------------------------------------------- last resort */

static void
s_fallback_name (const char *pos, char *buf, size_t size)
{
    snprintf (buf, size, "lossy-%s", pos);
}

void
sp_dl__fallback_drop (sp_dl_t *self, const char *job, const char *pos)
{
    char aside[64], *path = NULL;
    s_fallback_name (pos, aside, sizeof aside);
    if (sp_dl_find_staged (self->cfg.staging_dir, job, aside, &path) == 0) {
        if (unlink (path) == 0)
            sp_log_info ("event=lossy_fallback_removed path=%s", sp_log_q (path));
        free (path);
    }
}

bool
sp_dl__fallback_promote (sp_dl_run_t *run, char *reason, size_t reason_size)
{
    sp_dl_t *self = run->self;
    sp_payload_t *p = run->payload;
    char aside[64], *path = NULL, *staged = NULL, why[512];
    s_fallback_name (run->pos, aside, sizeof aside);
    if (sp_dl_find_staged (self->cfg.staging_dir, p->job, aside, &path) != 0)
        return false;
    const char *ext = sp_path_ext (path);
    int rc = sp_dl_stage (self->cfg.staging_dir, p->job, run->pos, path, ext, false, &staged, why,
                          sizeof why);
    if (rc == 1) {
        unlink (path);
        sp_dl_find_staged (self->cfg.staging_dir, p->job, run->pos, &staged);
    }
    free (path);
    if (!staged) {
        sp_log_warn ("event=lossy_fallback_not_promoted error=%s", sp_log_q (why));
        return false;
    }
    sp_log_warn ("event=lossy_fallback_kept path=%s reason=%s", sp_log_q (staged),
                 sp_log_q (reason));
    free (p->staged_path);
    p->staged_path = staged;
    p->has_source = false;
    free (p->transfer_id);
    p->transfer_id = NULL;
    snprintf (reason, reason_size,
              "ok: only a lossy-sourced or upsampled copy was found (kept "
              "because SOULPIPE_ALLOW_LOSSY=true)");
    return true;
}
