/*  downloader.c: the download stage (see downloader.h): candidates tried
    one at a time through slskd, transfers followed by polling with stall
    and queue limits, finished files verified with TagLib and moved into
    staging, peer memory updated with every outcome.

    Handles `job` messages of stage "download"; answers done(tag),
    done(search) or fail. */
#include "downloader.h"
#include "slskd_transfer.h"

#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/io.h"
#include "soulpipe/log.h"
#include "soulpipe/path.h"
#include "soulpipe/peers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <taglib/tag_c.h>
#include <time.h>
#include <unistd.h>

#define DL_POLL_MS         500    //  transfer poll interval (ms)
#define DL_POLL_MIN_MS     10     //  first poll interval of a new transfer (ms)
#define DL_PROGRESS_MS     1000   //  progress report interval (ms)
#define DL_QUEUE_PLACE_MAX 100    //  a remote queue longer than this is not worth waiting for
#define DL_ZERO_CHECK      65536  //  bytes checked for an all-zero file
#define DL_LENGTH_TOL_MS   5000   //  duration tolerance: at least 5 s ...
#define DL_LENGTH_TOL_PCT  3      //  ... or 3 %
#define DL_MAX_ROUNDS      2      //  search rounds before a track fails
#define DL_HTTP_TIMEOUT_MS 15000  //  one slskd request (ms)
#define DL_TRIED_MAX       1000   //  bytes of one "tried" entry

//  TagLib's C binding keeps global state; one file at a time per process.
static pthread_mutex_t s_taglib_lock = PTHREAD_MUTEX_INITIALIZER;

struct _sp_dl_t {
    sp_dl_config_t cfg;  //  settings (strings borrowed)
    sp_http_t *http;     //  slskd client, this thread's
    sp_store_t *store;   //  Redis (NULL when not configured)
};

/* ---------------------------------------------------------------- setup */

void
sp_dl_config_from (const sp_config_t *cfg, sp_dl_config_t *out)
{
    memset (out, 0, sizeof *out);
    out->slskd_url = cfg->slskd_url;
    out->slskd_api_key = cfg->slskd_api_key;
    out->downloads_dir = cfg->slskd_downloads_dir;
    out->staging_dir = cfg->staging_dir;
    out->redis_url = cfg->redis_url;
    out->queue_timeout_s = cfg->queue_timeout_s;
    out->stall_timeout_s = cfg->stall_timeout_s;
    out->transfer_timeout_s = cfg->transfer_timeout_s;
}

sp_dl_t *
sp_dl_new (const sp_dl_config_t *config, char *err, size_t err_size)
{
    if (!config || !config->slskd_url || !config->downloads_dir || !config->staging_dir) {
        snprintf (err, err_size, "downloader: missing settings");
        return NULL;
    }
    sp_dl_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return NULL;
    }
    self->cfg = *config;
    if (self->cfg.poll_ms <= 0)
        self->cfg.poll_ms = DL_POLL_MS;
    if (self->cfg.queue_timeout_s <= 0)
        self->cfg.queue_timeout_s = 120;
    if (self->cfg.stall_timeout_s <= 0)
        self->cfg.stall_timeout_s = 60;
    if (self->cfg.transfer_timeout_s <= 0)
        self->cfg.transfer_timeout_s = 1800;
    self->http = sp_http_new (config->slskd_url);
    if (!self->http) {
        snprintf (err, err_size, "SLSKD_URL: cannot make an HTTP client for %s", config->slskd_url);
        goto fail;
    }
    if (config->slskd_api_key && *config->slskd_api_key &&
        sp_http_set_header (self->http, "X-API-Key", config->slskd_api_key) != SP_HTTP_OK) {
        snprintf (err, err_size, "SLSKD_API_KEY: not usable as a header value");
        goto fail;
    }
    sp_http_set_timeouts (self->http, 5000, DL_HTTP_TIMEOUT_MS);
    sp_http_set_retries (self->http, 2, 300, 2000);
    sp_http_set_return_429 (self->http, true);
    if (config->redis_url && *config->redis_url) {
        self->store = sp_store_new (config->redis_url, err, err_size);
        if (!self->store)
            goto fail;
    }
    return self;
fail:
    sp_dl_destroy (&self);
    return NULL;
}

void
sp_dl_destroy (sp_dl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_dl_t *self = *self_p;
    sp_http_destroy (&self->http);
    sp_store_destroy (&self->store);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- helpers */

//  The wait before the next poll of a transfer that started elapsed_ms ago:
//  a quarter of that (at least DL_POLL_MIN_MS), at most poll_ms. A small file
//  from a fast peer is done in tens of ms, and a fixed poll_ms would hold
//  each slot that long (a downloader then finishes at most slots/poll_ms
//  files a second); a long transfer is still polled every poll_ms, and a
//  finished one is noticed at most 25% late.
static int
s_poll_delay (int poll_ms, int64_t elapsed_ms)
{
    int64_t d = elapsed_ms / 4;
    if (d < DL_POLL_MIN_MS)
        d = DL_POLL_MIN_MS;
    return d > poll_ms ? poll_ms : (int) d;
}

//  The file name of a remote path (after the last backslash). Borrowed.
static const char *
s_remote_file (const char *remote)
{
    const char *b = strrchr (remote, '\\');
    return b ? b + 1 : remote;
}

static bool
s_strv_has (char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] && strcmp (v[i], s) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------- job ops */

typedef struct {
    const sp_dl_ops_t *ops;
    int64_t last_ms;  //  last progress report (monotonic)
} s_report_t;

static void
s_progress (s_report_t *r, bool force, const char *state, int64_t bytes, int64_t size,
            double percent, const char *message)
{
    int64_t now = sp_clock_mono_ms ();
    if (!force && now - r->last_ms < DL_PROGRESS_MS)
        return;
    r->last_ms = now;
    if (r->ops && r->ops->progress)
        r->ops->progress (r->ops->arg, state, bytes, size, percent, message);
}

static bool
s_stopping (const s_report_t *r)
{
    return r->ops && r->ops->stopping && r->ops->stopping (r->ops->arg);
}

//  sp_xfer_enqueue's tick: keep the lease while waiting out 429s.
static bool
s_enqueue_tick (void *arg)
{
    s_report_t *r = arg;
    s_progress (r, false, "queued", -1, -1, -1, "waiting for slskd to accept the download");
    return s_stopping (r);
}

/* ---------------------------------------------------------------- track record */

typedef struct {
    char *transfer_id, *source_user, *source_file;
} s_record_t;

static void
s_record_free (s_record_t *r)
{
    free (r->transfer_id);
    free (r->source_user);
    free (r->source_file);
    memset (r, 0, sizeof *r);
}

//  Read what an earlier run recorded. Returns 0 (fields may be NULL) or -1.
static int
s_record_read (sp_dl_t *self, const char *track_key, s_record_t *out)
{
    memset (out, 0, sizeof *out);
    if (!self->store)
        return 0;
    const char *fields[] = {"transfer_id", "source_user", "source_file"};
    char *values[3];
    if (sp_store_track_get_fields (self->store, track_key, fields, 3, values) != SP_STORE_OK)
        return -1;
    out->transfer_id = values[0];
    out->source_user = values[1];
    out->source_file = values[2];
    return 0;
}

static void
s_record_set (sp_dl_t *self, const char *track_key, const char *id, const char *user,
              const char *file)
{
    if (!self->store)
        return;
    //  one script call for the three fields (was one each)
    const char *fields[3] = {"transfer_id", NULL, NULL};
    const char *values[3] = {id, NULL, NULL};
    size_t n = 1;
    if (user) {
        fields[n] = "source_user";
        values[n++] = user;
    }
    if (file) {
        fields[n] = "source_file";
        values[n++] = file;
    }
    int rc = sp_store_track_set_fields (self->store, track_key, fields, values, n);
    if (rc != SP_STORE_OK)
        sp_log_warn ("event=track_field_not_set field=transfer_id error=%s",
                     sp_log_q (sp_store_strerror (rc)));
}

static void
s_peer_record (sp_dl_t *self, const char *user, sp_peer_outcome_t outcome, int64_t speed)
{
    if (!self->store)
        return;
    int rc = sp_peers_record (self->store, user, outcome, speed);
    if (rc != SP_STORE_OK)
        sp_log_warn ("event=peer_not_recorded user=%s error=%s", sp_log_q (user),
                     sp_log_q (sp_store_strerror (rc)));
}

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
    int secs = -1;
    pthread_mutex_lock (&s_taglib_lock);
    TagLib_File *tf = taglib_file_new (path);
    if (tf && taglib_file_is_valid (tf)) {
        const TagLib_AudioProperties *ap = taglib_file_audioproperties (tf);
        if (ap)
            secs = taglib_audioproperties_length (ap);
    }
    if (tf)
        taglib_file_free (tf);
    pthread_mutex_unlock (&s_taglib_lock);
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
    final = sp_path_sanitize_ext (pos, ext, 0);
    jobc = sp_path_sanitize (job);
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

/* ---------------------------------------------------------------- one attempt */

typedef enum {
    A_STAGED,   //  the file is in staging
    A_FAILED,   //  this candidate failed: try the next
    A_DOWN,     //  slskd unreachable: retry the job later
    A_STOPPING  //  the worker is stopping: hand the job back
} s_attempt_t;

typedef struct {
    sp_dl_t *self;
    sp_payload_t *payload;
    const char *pos;  //  position part of the track key
    s_report_t report;
    char tried_now[SP_MSG_MAX_LIST][DL_TRIED_MAX];  //  entries of this run
    size_t n_tried;
    char *failed_users[SP_MSG_MAX_LIST];  //  borrowed from candidates
    size_t n_failed;
    char down[512];  //  why slskd counts as down
} s_run_t;

static void s_tried (s_run_t *run, const char *user, const char *remote, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_tried (s_run_t *run, const char *user, const char *remote, const char *fmt, ...)
{
    if (run->n_tried >= SP_MSG_MAX_LIST)
        return;
    char what[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (what, sizeof what, fmt, ap);
    va_end (ap);
    snprintf (run->tried_now[run->n_tried++], DL_TRIED_MAX, "%.200s/%.280s: %.490s", user,
              s_remote_file (remote), what);
    sp_log_info ("event=candidate_failed user=%s file=%s outcome=%s", sp_log_q (user),
                 sp_log_q (remote), sp_log_q (what));
}

static void
s_user_failed (s_run_t *run, char *user)
{
    if (run->n_failed < SP_MSG_MAX_LIST && !s_strv_has (run->failed_users, run->n_failed, user))
        run->failed_users[run->n_failed++] = user;
}

//  Give a failed transfer up in slskd and forget it on the track.
static void
s_drop (s_run_t *run, const char *user, const char *id)
{
    char err[512];
    if (sp_xfer_remove (run->self->http, user, id, err, sizeof err) != SP_XFER_OK)
        sp_log_warn ("event=transfer_not_removed id=%s error=%s", id, sp_log_q (err));
    s_record_set (run->self, run->payload->track_key, "", NULL, NULL);
}

static int64_t
s_expected_ms (const sp_payload_t *p, const sp_candidate_t *c)
{
    if (p->track.has_duration_ms && p->track.duration_ms > 0)
        return (int64_t) p->track.duration_ms;
    if (c->has_length && c->length > 0)
        return (int64_t) c->length * 1000;
    return -1;
}

//  The transfer finished: find, verify and stage the file.
static s_attempt_t
s_finish (s_run_t *run, sp_candidate_t *c, const char *id, int64_t speed)
{
    sp_dl_t *self = run->self;
    sp_payload_t *p = run->payload;
    char *local = NULL;
    int rc = sp_xfer_local_path (self->cfg.downloads_dir, c->filename, c->size, &local);
    if (rc != SP_XFER_OK) {
        //  not the peer's fault: slskd's folder is not where we look
        s_tried (run, c->username, c->filename,
                 "finished, but the file is not in SLSKD_DOWNLOADS_DIR (%s)",
                 self->cfg.downloads_dir);
        s_drop (run, c->username, id);
        return A_FAILED;
    }
    char why[512];
    int length_s = 0;
    int v = sp_dl_verify_file (local, c->size, s_expected_ms (p, c), &length_s, why, sizeof why);
    if (v != SP_DL_VERIFY_OK) {
        if (v == SP_DL_VERIFY_CORRUPT)
            s_peer_record (self, c->username, SP_PEER_FAILED, 0);
        if (v != SP_DL_VERIFY_IO && unlink (local) == 0)
            sp_log_info ("event=bad_file_removed path=%s", sp_log_q (local));
        s_tried (run, c->username, c->filename, "%s", why);
        free (local);
        s_drop (run, c->username, id);
        return A_FAILED;
    }
    const char *ext = sp_path_ext (s_remote_file (c->filename));
    char *lext = strdup (*ext ? ext : (c->ext ? c->ext : ""));
    for (char *q = lext; q && *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char) (*q - 'A' + 'a');
    char *staged = NULL;
    rc = sp_dl_stage (self->cfg.staging_dir, p->job, run->pos, local, lext ? lext : "",
                      self->cfg.force_copy, &staged, why, sizeof why);
    free (lext);
    if (rc == 1) {
        //  an earlier run staged this track already: pass that file on
        sp_dl_find_staged (self->cfg.staging_dir, p->job, run->pos, &staged);
        unlink (local);
    }
    free (local);
    if (!staged) {
        //  our side (staging folder) is broken: retry the job, keep the transfer
        snprintf (run->down, sizeof run->down, "cannot stage the file: %.450s", why);
        return A_DOWN;
    }
    s_peer_record (self, c->username, SP_PEER_OK, speed);
    free (p->staged_path);
    p->staged_path = staged;
    p->has_source = true;
    free (p->source.username);
    free (p->source.filename);
    p->source.username = strdup (c->username);
    p->source.filename = strdup (c->filename);
    p->source.size = c->size;
    free (p->transfer_id);
    p->transfer_id = strdup (id);
    char err[512];
    if (sp_xfer_remove (self->http, c->username, id, err, sizeof err) != SP_XFER_OK)
        sp_log_warn ("event=transfer_not_removed id=%s error=%s", id, sp_log_q (err));
    sp_log_info ("event=staged user=%s file=%s path=%s length_s=%d speed=%lld",
                 sp_log_q (c->username), sp_log_q (c->filename), sp_log_q (staged), length_s,
                 (long long) speed);
    return A_STAGED;
}

//  Try candidate c: enqueue (unless id is given: follow a running transfer),
//  follow, finish.
static s_attempt_t
s_attempt (s_run_t *run, sp_candidate_t *c, const char *existing_id)
{
    sp_dl_t *self = run->self;
    const sp_dl_config_t *cfg = &self->cfg;
    char id[SP_XFER_ID_MAX];
    char err[1024];
    char msg[600];
    snprintf (msg, sizeof msg, "%.200s/%.300s", c->username, s_remote_file (c->filename));
    if (existing_id) {
        snprintf (id, sizeof id, "%s", existing_id);
        sp_log_info ("event=transfer_resumed user=%s file=%s id=%s", sp_log_q (c->username),
                     sp_log_q (c->filename), id);
    } else {
        s_progress (&run->report, true, "queued", 0, (int64_t) c->size, 0, msg);
        int rc = sp_xfer_enqueue (self->http, c->username, c->filename, c->size, 0, s_enqueue_tick,
                                  &run->report, id, err, sizeof err);
        if (rc == SP_XFER_ERR_OFFLINE) {
            s_peer_record (self, c->username, SP_PEER_OFFLINE, 0);
            s_tried (run, c->username, c->filename, "user offline");
            return A_FAILED;
        }
        if (rc == SP_XFER_ERR_REFUSED) {
            s_tried (run, c->username, c->filename, "refused by slskd (%.300s)", err);
            return A_FAILED;
        }
        if (rc != SP_XFER_OK) {
            if (s_stopping (&run->report))
                return A_STOPPING;
            snprintf (run->down, sizeof run->down, "%.500s", err);
            return A_DOWN;
        }
        s_record_set (self, run->payload->track_key, id, c->username, c->filename);
        sp_log_info ("event=transfer_enqueued user=%s file=%s id=%s size=%llu",
                     sp_log_q (c->username), sp_log_q (c->filename), id,
                     (unsigned long long) c->size);
    }

    int64_t start = sp_clock_mono_ms ();
    int64_t last_change = start;  //  last state or byte change
    int64_t queued_since = -1;    //  entered a queue state
    int64_t first_bytes_at = -1;  //  first InProgress sighting
    int64_t last_bytes = -1;
    sp_xfer_state_t last_state = SP_XFER_UNKNOWN;
    int down_count = 0;
    while (true) {
        if (s_stopping (&run->report))
            return A_STOPPING;
        sp_xfer_t x;
        int rc = sp_xfer_get (self->http, c->username, id, &x, err, sizeof err);
        int64_t now = sp_clock_mono_ms ();
        if (rc == SP_XFER_ERR_NOT_FOUND || rc == SP_XFER_ERR_INVALID) {
            s_tried (run, c->username, c->filename, "the transfer vanished from slskd");
            s_record_set (self, run->payload->track_key, "", NULL, NULL);
            return A_FAILED;
        }
        if (rc != SP_XFER_OK) {
            //  the HTTP client retried already; a second failed round = down
            if (++down_count >= 2) {
                snprintf (run->down, sizeof run->down, "%.500s", err);
                return A_DOWN;
            }
            sp_clock_sleep_ms (cfg->poll_ms);
            continue;
        }
        down_count = 0;
        if (x.state != last_state || x.bytes > last_bytes)
            last_change = now;
        bool queued = x.state == SP_XFER_QUEUED_REMOTELY || x.state == SP_XFER_QUEUED_LOCALLY;
        if (queued && queued_since < 0)
            queued_since = now;
        if (!queued)
            queued_since = -1;
        if (x.state == SP_XFER_IN_PROGRESS && first_bytes_at < 0)
            first_bytes_at = now;
        last_state = x.state;
        if (x.bytes > last_bytes)
            last_bytes = x.bytes;

        if (x.state == SP_XFER_SUCCEEDED) {
            int64_t speed = (int64_t) x.speed;
            if (speed <= 0 && first_bytes_at >= 0 && now > first_bytes_at)
                speed = (int64_t) c->size * 1000 / (now - first_bytes_at);
            s_progress (&run->report, true, "transferring", (int64_t) c->size, (int64_t) c->size,
                        100, msg);
            return s_finish (run, c, id, speed);
        }
        if (sp_xfer_state_final (x.state)) {
            sp_peer_outcome_t po = x.state == SP_XFER_TIMED_OUT ? SP_PEER_STALLED : SP_PEER_FAILED;
            s_peer_record (self, c->username, po, 0);
            if (x.exception[0])
                s_tried (run, c->username, c->filename, "%s (%.200s)", sp_xfer_state_name (x.state),
                         x.exception);
            else
                s_tried (run, c->username, c->filename, "%s", sp_xfer_state_name (x.state));
            s_drop (run, c->username, id);
            return A_FAILED;
        }
        const char *give_up = NULL;
        char give_up_buf[128];
        if (queued && x.place > DL_QUEUE_PLACE_MAX) {
            snprintf (give_up_buf, sizeof give_up_buf, "remote queue too long (place %lld)",
                      (long long) x.place);
            give_up = give_up_buf;
        } else if (queued && now - queued_since > (int64_t) cfg->queue_timeout_s * 1000) {
            snprintf (give_up_buf, sizeof give_up_buf, "queued for more than %d s",
                      cfg->queue_timeout_s);
            give_up = give_up_buf;
        } else if (!queued && now - last_change > (int64_t) cfg->stall_timeout_s * 1000) {
            snprintf (give_up_buf, sizeof give_up_buf,
                      "stalled (no progress for %d s at %lld bytes)", cfg->stall_timeout_s,
                      (long long) (x.bytes > 0 ? x.bytes : 0));
            give_up = give_up_buf;
        } else if (now - start > (int64_t) cfg->transfer_timeout_s * 1000) {
            snprintf (give_up_buf, sizeof give_up_buf, "took longer than %d s",
                      cfg->transfer_timeout_s);
            give_up = give_up_buf;
        }
        if (give_up) {
            s_peer_record (self, c->username, SP_PEER_STALLED, 0);
            s_tried (run, c->username, c->filename, "%s", give_up);
            s_drop (run, c->username, id);
            return A_FAILED;
        }
        int64_t size = x.size >= 0 ? x.size : (int64_t) c->size;
        double pct = x.percent >= 0 ? x.percent : -1;
        s_progress (&run->report, false, queued || x.bytes <= 0 ? "queued" : "transferring",
                    x.bytes >= 0 ? x.bytes : 0, size, pct, msg);
        sp_clock_sleep_ms (s_poll_delay (cfg->poll_ms, now - start));
    }
}

/* ---------------------------------------------------------------- the run */

//  Free the candidates of p (a track going back to search gets new ones).
static void
s_clear_candidates (sp_payload_t *p)
{
    for (size_t i = 0; i < p->candidates_count; i++) {
        free (p->candidates[i].username);
        free (p->candidates[i].filename);
        free (p->candidates[i].ext);
    }
    free (p->candidates);
    p->candidates = NULL;
    p->candidates_count = 0;
}

//  The track's reason, listing everything tried (earlier rounds first).
static void
s_reason_tried (const sp_payload_t *p, const s_run_t *run, const char *lead, char *reason, size_t n)
{
    size_t used = (size_t) snprintf (reason, n, "%s", lead);
    const char *sep = ": ";
    for (size_t i = 0; i < p->tried_count + run->n_tried && used < n; i++) {
        const char *t = i < p->tried_count ? p->tried[i] : run->tried_now[i - p->tried_count];
        used += (size_t) snprintf (reason + used, n - used, "%s%s", sep, t);
        sep = "; ";
    }
    if (used >= n && n > 4)
        memcpy (reason + n - 4, "...", 4);
}

//  Read the position out of "<job>:<pos>" (digits). Borrowed, or NULL.
static const char *
s_position (const char *track_key)
{
    const char *c = track_key ? strrchr (track_key, ':') : NULL;
    if (!c || !c[1] || strlen (c + 1) > 20)
        return NULL;
    for (const char *d = c + 1; *d; d++)
        if (*d < '0' || *d > '9')
            return NULL;
    return c + 1;
}

//  The track was staged by an earlier run: fill the payload from the record.
static void
s_fill_from_record (sp_dl_t *self, sp_payload_t *p, const s_record_t *rec, char *staged)
{
    free (p->staged_path);
    p->staged_path = staged;
    if (rec->source_user && rec->source_file) {
        uint64_t size = 0;
        for (size_t i = 0; i < p->candidates_count; i++)
            if (strcmp (p->candidates[i].username, rec->source_user) == 0 &&
                strcmp (p->candidates[i].filename, rec->source_file) == 0)
                size = p->candidates[i].size;
        struct stat st;
        if (size == 0 && stat (staged, &st) == 0)
            size = (uint64_t) st.st_size;
        free (p->source.username);
        free (p->source.filename);
        p->source.username = strdup (rec->source_user);
        p->source.filename = strdup (rec->source_file);
        p->source.size = size;
        p->has_source = p->source.username && p->source.filename;
    }
    if (rec->transfer_id) {
        free (p->transfer_id);
        p->transfer_id = strdup (rec->transfer_id);
        if (rec->source_user) {
            char err[256];
            sp_xfer_remove (self->http, rec->source_user, rec->transfer_id, err, sizeof err);
        }
    }
}

sp_dl_result_t
sp_dl_run (sp_dl_t *self, sp_payload_t *p, const sp_dl_ops_t *ops, char *reason, size_t reason_size)
{
    snprintf (reason, reason_size, "ok");
    const char *pos = s_position (p ? p->track_key : NULL);
    if (!self || !p || !p->job || !pos) {
        snprintf (reason, reason_size, "internal error: the download job has no track key");
        return SP_DL_FAILED;
    }
    s_run_t *run = calloc (1, sizeof *run);
    if (!run) {
        snprintf (reason, reason_size, "out of memory");
        return SP_DL_RETRY;
    }
    run->self = self;
    run->payload = p;
    run->pos = pos;
    run->report.ops = ops;
    run->report.last_ms = sp_clock_mono_ms ();
    sp_dl_result_t result = SP_DL_FAILED;
    s_record_t rec;
    memset (&rec, 0, sizeof rec);

    //  no partial copy of an earlier run survives
    sp_dl_clean_work (self->cfg.staging_dir, p->job, pos);
    if (s_record_read (self, p->track_key, &rec) != 0) {
        snprintf (reason, reason_size, "Redis unreachable while reading the track record");
        result = SP_DL_RETRY;
        goto done;
    }
    //  (1) already staged by an earlier run
    char *staged = NULL;
    if (sp_dl_find_staged (self->cfg.staging_dir, p->job, pos, &staged) == 0) {
        sp_log_info ("event=already_staged path=%s", sp_log_q (staged));
        s_fill_from_record (self, p, &rec, staged);
        result = SP_DL_TAG;
        goto done;
    }
    //  (2) a transfer an earlier run started
    sp_candidate_t *resumed = NULL;
    sp_candidate_t synth;
    memset (&synth, 0, sizeof synth);
    if (rec.transfer_id && rec.source_user && rec.source_file) {
        sp_xfer_t x;
        char err[512];
        int rc = sp_xfer_get (self->http, rec.source_user, rec.transfer_id, &x, err, sizeof err);
        if (rc == SP_XFER_OK && x.removed)
            rc = SP_XFER_ERR_NOT_FOUND;  //  finished and handed on earlier: start over
        if (rc == SP_XFER_OK) {
            for (size_t i = 0; i < p->candidates_count && !resumed; i++)
                if (strcmp (p->candidates[i].username, rec.source_user) == 0 &&
                    strcmp (p->candidates[i].filename, rec.source_file) == 0)
                    resumed = &p->candidates[i];
            if (!resumed) {
                synth.username = rec.source_user;
                synth.filename = rec.source_file;
                synth.size = x.size > 0 ? (uint64_t) x.size : 0;
                resumed = &synth;
            }
            s_attempt_t a = s_attempt (run, resumed, rec.transfer_id);
            if (a == A_STAGED) {
                result = SP_DL_TAG;
                goto done;
            }
            if (a == A_DOWN || a == A_STOPPING) {
                snprintf (reason, reason_size, a == A_DOWN ? "slskd unreachable: %s" : "%s",
                          a == A_DOWN ? run->down : "the downloader is stopping");
                result = SP_DL_RETRY;
                goto done;
            }
            s_user_failed (run, resumed->username);
        } else if (rc == SP_XFER_ERR_DOWN || rc == SP_XFER_ERR_AUTH) {
            snprintf (reason, reason_size, "slskd unreachable: %s", err);
            result = SP_DL_RETRY;
            goto done;
        } else
            s_record_set (self, p->track_key, "", NULL, NULL);
    }

    //  (3) the candidates, best first, one per user
    int64_t now_wall = sp_clock_wall_ms ();
    size_t skipped_blocked = 0, skipped_excluded = 0;
    for (size_t i = 0; i < p->candidates_count; i++) {
        sp_candidate_t *c = &p->candidates[i];
        if (c == resumed || !c->username || !c->filename)
            continue;
        if (s_strv_has (p->excluded_users, p->excluded_users_count, c->username)) {
            skipped_excluded++;
            continue;
        }
        if (s_strv_has (run->failed_users, run->n_failed, c->username))
            continue;
        if (self->store) {
            sp_peer_t peer;
            if (sp_peers_get (self->store, c->username, &peer) == SP_STORE_OK &&
                sp_peers_blocked (&peer, now_wall)) {
                skipped_blocked++;
                s_tried (run, c->username, c->filename, "skipped (failed %lld times in a row)",
                         (long long) peer.streak);
                s_user_failed (run, c->username);
                continue;
            }
        }
        s_attempt_t a = s_attempt (run, c, NULL);
        if (a == A_STAGED) {
            result = SP_DL_TAG;
            goto done;
        }
        if (a == A_DOWN || a == A_STOPPING) {
            snprintf (reason, reason_size, a == A_DOWN ? "slskd unreachable: %s" : "%s",
                      a == A_DOWN ? run->down : "the downloader is stopping");
            result = SP_DL_RETRY;
            goto done;
        }
        s_user_failed (run, c->username);
    }

    //  (4) every candidate failed
    uint64_t rounds = p->has_search_rounds && p->search_rounds > 0 ? p->search_rounds : 1;
    if (run->n_tried == 0 && p->tried_count == 0)
        snprintf (reason, reason_size, "no usable candidate (%zu offered, %zu from excluded users)",
                  p->candidates_count, skipped_excluded);
    else
        s_reason_tried (p, run, "no candidate could be downloaded", reason, reason_size);
    if (rounds < DL_MAX_ROUNDS) {
        for (size_t i = 0; i < run->n_failed; i++)
            if (p->excluded_users_count < SP_MSG_MAX_LIST &&
                !s_strv_has (p->excluded_users, p->excluded_users_count, run->failed_users[i]))
                sp_msg_strv_add (&p->excluded_users, &p->excluded_users_count,
                                 run->failed_users[i]);
        for (size_t i = 0; i < run->n_tried && p->tried_count < SP_MSG_MAX_LIST; i++)
            sp_msg_strv_add (&p->tried, &p->tried_count, run->tried_now[i]);
        s_clear_candidates (p);
        p->has_search_rounds = true;
        p->search_rounds = rounds + 1;
        free (p->staged_path);
        p->staged_path = NULL;
        free (p->transfer_id);
        p->transfer_id = NULL;
        p->has_source = false;
        sp_log_info ("event=search_again round=%llu excluded=%zu blocked=%zu",
                     (unsigned long long) p->search_rounds, p->excluded_users_count,
                     skipped_blocked);
        result = SP_DL_SEARCH_AGAIN;
    } else
        result = SP_DL_FAILED;
done:
    s_record_free (&rec);
    free (run);
    return result;
}

/* ---------------------------------------------------------------- handler */

static void
s_job_progress (void *arg, const char *state, int64_t bytes, int64_t size, double percent,
                const char *message)
{
    sp_task_progress (arg, state, bytes, size, percent, message);
}

static bool
s_job_stopping (void *arg)
{
    return sp_task_stopping (arg);
}

void
sp_dl_handle (void *ctx, sp_task_t *task)
{
    sp_dl_t *self = ctx;
    sp_payload_t *p = sp_task_payload (task);
    sp_dl_ops_t ops = {.progress = s_job_progress, .stopping = s_job_stopping, .arg = task};
    char reason[SP_MSG_MAX_STR];
    sp_dl_result_t r = sp_dl_run (self, p, &ops, reason, sizeof reason);
    switch (r) {
        case SP_DL_TAG:
            sp_task_done (task, "tag", NULL);
            break;
        case SP_DL_SEARCH_AGAIN:
            sp_log_info ("event=back_to_search reason=%s", sp_log_q (reason));
            sp_task_done (task, "search", NULL);
            break;
        case SP_DL_RETRY:
            sp_log_warn ("event=download_retry reason=%s", sp_log_q (reason));
            sp_task_fail (task, true, "%s", reason);
            break;
        case SP_DL_FAILED:
        default:
            sp_log_warn ("event=download_failed reason=%s", sp_log_q (reason));
            sp_task_fail (task, false, "%s", reason);
            break;
    }
}
