/*  slskd_transfer.c: the slskd download-transfer client (see
    slskd_transfer.h): enqueue, get, remove, and finding the finished file
    in slskd's downloads folder. */
#include "slskd_transfer.h"

#include "soulpipe/clock.h"
#include "soulpipe/err.h"
#include "soulpipe/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XFER_ENQUEUE_WAIT_MS 30000  //  default time spent retrying 429s (ms)
#define XFER_BACKOFF_MIN_MS  100    //  first wait after a 429 (ms)
#define XFER_BACKOFF_MAX_MS  2000   //  longest wait between enqueue tries (ms)

//  One enqueue POST at a time per process: slskd answers 429 when two
//  already run, and several slots of one worker would only collide.
static pthread_mutex_t s_enqueue_lock = PTHREAD_MUTEX_INITIALIZER;

const char *
sp_xfer_strerror (int rc)
{
    switch (rc) {
        case SP_XFER_OK:
            return "ok";
        case SP_XFER_ERR_DOWN:
            return "slskd unreachable or failing";
        case SP_XFER_ERR_OFFLINE:
            return "user offline";
        case SP_XFER_ERR_REFUSED:
            return "refused by slskd";
        case SP_XFER_ERR_NOT_FOUND:
            return "no such transfer";
        case SP_XFER_ERR_BAD_REPLY:
            return "unreadable reply from slskd";
        case SP_XFER_ERR_INVALID:
            return "invalid argument";
        case SP_XFER_ERR_AUTH:
            return "slskd refused the API key";
        default:
            return "unknown error";
    }
}

/* ---------------------------------------------------------------- states */

//  Flag words of slskd's TransferStates enum.
#define F_REQUESTED  0x001u
#define F_QUEUED     0x002u
#define F_LOCALLY    0x004u
#define F_REMOTELY   0x008u
#define F_INIT       0x010u
#define F_INPROGRESS 0x020u
#define F_COMPLETED  0x040u
#define F_SUCCEEDED  0x080u
#define F_CANCELLED  0x100u
#define F_TIMEDOUT   0x200u
#define F_ERRORED    0x400u
#define F_REJECTED   0x800u
#define F_ABORTED    0x1000u
#define F_OTHER      0x8000u

static const struct {
    const char *word;
    unsigned flag;
} s_flags[] = {
    {"Requested", F_REQUESTED}, {"Queued", F_QUEUED},       {"Locally", F_LOCALLY},
    {"Remotely", F_REMOTELY},   {"Initializing", F_INIT},   {"InProgress", F_INPROGRESS},
    {"Completed", F_COMPLETED}, {"Succeeded", F_SUCCEEDED}, {"Cancelled", F_CANCELLED},
    {"TimedOut", F_TIMEDOUT},   {"Errored", F_ERRORED},     {"Rejected", F_REJECTED},
    {"Aborted", F_ABORTED},
};

sp_xfer_state_t
sp_xfer_state_parse (const char *s)
{
    if (!s)
        return SP_XFER_UNKNOWN;
    unsigned flags = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn (p, ", ");
        if (len == 0)
            break;
        bool known = false;
        for (size_t i = 0; i < sizeof s_flags / sizeof s_flags[0]; i++)
            if (strlen (s_flags[i].word) == len && strncasecmp (p, s_flags[i].word, len) == 0) {
                flags |= s_flags[i].flag;
                known = true;
            }
        if (!known)
            flags |= F_OTHER;
        p += len;
    }
    if (flags & F_COMPLETED) {
        //  a success must say so and nothing else bad
        if ((flags & F_SUCCEEDED) &&
            !(flags & (F_CANCELLED | F_TIMEDOUT | F_ERRORED | F_REJECTED | F_ABORTED)))
            return SP_XFER_SUCCEEDED;
        if (flags & F_REJECTED)
            return SP_XFER_REJECTED;
        if (flags & F_ERRORED)
            return SP_XFER_ERRORED;
        if (flags & F_TIMEDOUT)
            return SP_XFER_TIMED_OUT;
        if (flags & F_ABORTED)
            return SP_XFER_ABORTED;
        if (flags & F_CANCELLED)
            return SP_XFER_CANCELLED;
        return SP_XFER_COMPLETED_OTHER;
    }
    if (flags & F_INPROGRESS)
        return SP_XFER_IN_PROGRESS;
    if (flags & F_INIT)
        return SP_XFER_INITIALIZING;
    if ((flags & F_QUEUED) && (flags & F_REMOTELY))
        return SP_XFER_QUEUED_REMOTELY;
    if (flags & F_QUEUED)
        return SP_XFER_QUEUED_LOCALLY;
    if (flags & F_REQUESTED)
        return SP_XFER_REQUESTED;
    return SP_XFER_UNKNOWN;
}

bool
sp_xfer_state_final (sp_xfer_state_t st)
{
    return st >= SP_XFER_SUCCEEDED;
}

const char *
sp_xfer_state_name (sp_xfer_state_t st)
{
    static const char *names[] = {
        "unknown",     "requested", "queued-locally", "queued-remotely", "initializing",
        "in-progress", "succeeded", "cancelled",      "timed-out",       "errored",
        "rejected",    "aborted",   "completed"};
    if ((int) st < 0 || (size_t) st >= sizeof names / sizeof names[0])
        return "unknown";
    return names[st];
}

/* ---------------------------------------------------------------- parsing */

static int64_t
s_int (const json_t *obj, const char *key)
{
    json_t *v = json_object_get (obj, key);
    if (json_is_integer (v))
        return (int64_t) json_integer_value (v);
    if (json_is_real (v) && json_real_value (v) >= 0 && json_real_value (v) < 9.0e18)
        return (int64_t) json_real_value (v);
    return -1;
}

static double
s_real (const json_t *obj, const char *key, double dflt)
{
    json_t *v = json_object_get (obj, key);
    return json_is_number (v) ? json_number_value (v) : dflt;
}

int
sp_xfer_parse (const json_t *json, sp_xfer_t *out)
{
    if (!out)
        return SP_XFER_ERR_INVALID;
    memset (out, 0, sizeof *out);
    if (!json_is_object (json))
        return SP_XFER_ERR_BAD_REPLY;
    const char *id = json_string_value (json_object_get (json, "id"));
    const char *state = json_string_value (json_object_get (json, "state"));
    if (!id || !*id || strlen (id) >= SP_XFER_ID_MAX || !state)
        return SP_XFER_ERR_BAD_REPLY;
    snprintf (out->id, sizeof out->id, "%s", id);
    out->state = sp_xfer_state_parse (state);
    out->size = s_int (json, "size");
    out->bytes = s_int (json, "bytesTransferred");
    out->percent = s_real (json, "percentComplete", -1);
    if (out->percent > 100)
        out->percent = 100;
    out->speed = s_real (json, "averageSpeed", 0);
    if (!(out->speed > 0))
        out->speed = 0;
    out->place = s_int (json, "placeInQueue");
    out->removed = json_is_true (json_object_get (json, "removed"));
    const char *ex = json_string_value (json_object_get (json, "exception"));
    if (ex)
        snprintf (out->exception, sizeof out->exception, "%s", ex);
    return SP_XFER_OK;
}

int
sp_xfer_find_in_user (const json_t *user_json, const char *filename, bool any_state, sp_xfer_t *out)
{
    if (!filename || !out)
        return SP_XFER_ERR_INVALID;
    json_t *dirs = json_object_get (user_json, "directories");
    size_t i, k;
    json_t *d, *f;
    const char *best_at = NULL;
    bool found = false;
    json_array_foreach (dirs, i, d)
    {
        json_array_foreach (json_object_get (d, "files"), k, f)
        {
            const char *fn = json_string_value (json_object_get (f, "filename"));
            if (!fn || strcmp (fn, filename) != 0)
                continue;
            sp_xfer_t x;
            if (sp_xfer_parse (f, &x) != SP_XFER_OK)
                continue;
            if (!any_state && sp_xfer_state_final (x.state))
                continue;
            //  ISO-8601 times of one format compare as strings
            const char *at = json_string_value (json_object_get (f, "requestedAt"));
            if (!found || (at && (!best_at || strcmp (at, best_at) > 0))) {
                *out = x;
                best_at = at;
                found = true;
            }
        }
    }
    return found ? SP_XFER_OK : SP_XFER_ERR_NOT_FOUND;
}

/* ---------------------------------------------------------------- requests */

static bool
s_valid_id (const char *id)
{
    if (!id || !*id || strlen (id) >= SP_XFER_ID_MAX)
        return false;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F') ||
              *c == '-'))
            return false;
    return true;
}

//  The class of a failed response.
static int
s_classify (int rc, const sp_http_resp_t *resp)
{
    if (rc == SP_HTTP_OK)
        return SP_XFER_OK;
    long st = resp ? resp->status : 0;
    if (st == 401 || st == 403)
        return SP_XFER_ERR_AUTH;
    if (st == 404)
        return SP_XFER_ERR_NOT_FOUND;
    if (rc == SP_HTTP_ERR_CLIENT)
        return SP_XFER_ERR_REFUSED;
    if (rc == SP_HTTP_ERR_BAD_JSON || rc == SP_HTTP_ERR_TOO_LARGE)
        return SP_XFER_ERR_BAD_REPLY;
    return SP_XFER_ERR_DOWN;
}

//  "what: error (body)" into err, from an HTTP answer (resp may be NULL).
static void
s_http_err (char *err, size_t n, const char *what, const sp_http_resp_t *resp)
{
    const char *e = resp && resp->error ? resp->error : "no response";
    const char *body = resp && resp->body ? resp->body : "";
    if (*body)
        sp_err_set (err, n, "%s: %s (%.200s)", what, e, body);
    else
        sp_err_set (err, n, "%s: %s", what, e);
}

//  Look the transfer of filename up in the user's list (older slskd, lost
//  replies, duplicates).
static int
s_lookup (sp_http_t *http, const char *user_enc, const char *filename, sp_xfer_t *out)
{
    char path[1024];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/%s", user_enc);
    sp_http_resp_t *resp = NULL;
    int rc = s_classify (sp_http_get (http, path, &resp), resp);
    if (rc == SP_XFER_OK)
        rc = sp_xfer_find_in_user (resp->json, filename, false, out);
    sp_http_resp_destroy (&resp);
    return rc;
}

int
sp_xfer_enqueue (sp_http_t *http, const char *username, const char *filename, uint64_t size,
                 int wait_ms, bool (*tick) (void *arg), void *arg, char id_out[SP_XFER_ID_MAX],
                 char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!http || !username || !*username || !filename || !*filename || !id_out)
        return SP_XFER_ERR_INVALID;
    id_out[0] = '\0';
    if (wait_ms <= 0)
        wait_ms = XFER_ENQUEUE_WAIT_MS;
    char *user_enc = sp_http_urlencode (username);
    json_t *body = json_pack ("[{s:s, s:I}]", "filename", filename, "size", (json_int_t) size);
    if (!user_enc || !body) {
        free (user_enc);
        json_decref (body);
        return SP_XFER_ERR_INVALID;
    }
    char path[1024];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/%s", user_enc);
    long delay = XFER_BACKOFF_MIN_MS;
    long waited = 0;
    int rc = SP_XFER_ERR_DOWN;
    sp_http_resp_t *resp = NULL;
    while (true) {
        pthread_mutex_lock (&s_enqueue_lock);
        sp_http_resp_destroy (&resp);
        int hrc = sp_http_post_json (http, path, body, &resp);
        pthread_mutex_unlock (&s_enqueue_lock);
        if (hrc == SP_HTTP_ERR_RATE_LIMITED || (resp && resp->status == 429)) {
            if (waited >= wait_ms || (tick && tick (arg))) {
                s_http_err (err, err_size, "enqueue kept getting 429 (busy)", resp);
                rc = SP_XFER_ERR_DOWN;
                goto done;
            }
            long d = delay / 2 + (long) (rand () % (int) (delay / 2 + 1));
            sp_clock_sleep_ms (d);
            waited += d;
            delay = delay * 2 > XFER_BACKOFF_MAX_MS ? XFER_BACKOFF_MAX_MS : delay * 2;
            continue;
        }
        rc = s_classify (hrc, resp);
        break;
    }
    if (rc == SP_XFER_OK) {
        json_t *enq = json_object_get (resp ? resp->json : NULL, "enqueued");
        sp_xfer_t x;
        if (json_array_size (enq) > 0 && sp_xfer_parse (json_array_get (enq, 0), &x) == SP_XFER_OK)
            snprintf (id_out, SP_XFER_ID_MAX, "%s", x.id);
        //  older slskd (201, empty body) or a duplicate the server refused:
        //  the running transfer is in the user's list
        else if (s_lookup (http, user_enc, filename, &x) == SP_XFER_OK)
            snprintf (id_out, SP_XFER_ID_MAX, "%s", x.id);
        else {
            s_http_err (err, err_size, "enqueue gave no transfer id", resp);
            rc = SP_XFER_ERR_REFUSED;
        }
    } else if (rc == SP_XFER_ERR_NOT_FOUND) {
        s_http_err (err, err_size, "enqueue", resp);
        rc = SP_XFER_ERR_OFFLINE;  //  0.26 batches: 404 when the user is offline
    } else if (rc == SP_XFER_ERR_DOWN && resp && resp->status == 500 && resp->body_len > 0) {
        //  slskd explains per-file failures as a 500 with a text body; a
        //  502/503/504 comes from a proxy in front of a down slskd: retry
        s_http_err (err, err_size, "enqueue", resp);
        rc = strstr (resp->body, "offline") || strstr (resp->body, "Offline") ? SP_XFER_ERR_OFFLINE
                                                                              : SP_XFER_ERR_REFUSED;
    } else if (rc == SP_XFER_ERR_DOWN && resp && resp->status == 0) {
        //  the POST may have been processed: reuse what slskd has
        sp_xfer_t x;
        if (s_lookup (http, user_enc, filename, &x) == SP_XFER_OK) {
            snprintf (id_out, SP_XFER_ID_MAX, "%s", x.id);
            rc = SP_XFER_OK;
        } else
            s_http_err (err, err_size, "enqueue", resp);
    } else
        s_http_err (err, err_size, "enqueue", resp);
done:
    sp_http_resp_destroy (&resp);
    json_decref (body);
    free (user_enc);
    return rc;
}

int
sp_xfer_get (sp_http_t *http, const char *username, const char *id, sp_xfer_t *out, char *err,
             size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!http || !username || !s_valid_id (id) || !out)
        return SP_XFER_ERR_INVALID;
    char *user_enc = sp_http_urlencode (username);
    if (!user_enc)
        return SP_XFER_ERR_INVALID;
    char path[1024];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/%s/%s", user_enc, id);
    free (user_enc);
    sp_http_resp_t *resp = NULL;
    int rc = s_classify (sp_http_get (http, path, &resp), resp);
    if (rc == SP_XFER_OK)
        rc = sp_xfer_parse (resp->json, out);
    if (rc != SP_XFER_OK)
        s_http_err (err, err_size, "get transfer", resp);
    sp_http_resp_destroy (&resp);
    return rc;
}

int
sp_xfer_remove (sp_http_t *http, const char *username, const char *id, char *err, size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!http || !username || !s_valid_id (id))
        return SP_XFER_ERR_INVALID;
    char *user_enc = sp_http_urlencode (username);
    if (!user_enc)
        return SP_XFER_ERR_INVALID;
    char path[1024];
    snprintf (path, sizeof path, "/api/v0/transfers/downloads/%s/%s?remove=true", user_enc, id);
    free (user_enc);
    sp_http_resp_t *resp = NULL;
    sp_http_req_t req = {.allow_text = true};
    int rc = s_classify (sp_http_request (http, SP_HTTP_DELETE, path, &req, &resp), resp);
    if (rc == SP_XFER_ERR_NOT_FOUND)
        rc = SP_XFER_OK;
    if (rc != SP_XFER_OK)
        s_http_err (err, err_size, "remove transfer", resp);
    sp_http_resp_destroy (&resp);
    return rc;
}

/* ---------------------------------------------------------------- local file */

//  slskd's local form of a remote component: '/' (and NUL) become '_'.
static char *
s_local_component (const char *s)
{
    char *c = strdup (s);
    if (!c)
        return NULL;
    for (char *p = c; *p; p++)
        if (*p == '/')
            *p = '_';
    if (!*c || strcmp (c, ".") == 0 || strcmp (c, "..") == 0) {
        free (c);
        return NULL;
    }
    return c;
}

//  Split a remote path on backslashes, keeping the last directory and
//  the file name. Returns 0 or -1.
static int
s_remote_tail (const char *remote, char **dir, char **file)
{
    *dir = *file = NULL;
    const char *end = remote + strlen (remote);
    const char *f = end;
    while (f > remote && f[-1] != '\\')
        f--;
    if (f == end)
        return -1;
    *file = strndup (f, (size_t) (end - f));
    if (f > remote) {
        const char *dend = f - 1;
        const char *d = dend;
        while (d > remote && d[-1] != '\\')
            d--;
        if (d < dend)
            *dir = strndup (d, (size_t) (dend - d));
    }
    return *file ? 0 : -1;
}

int
sp_xfer_local_path (const char *downloads_dir, const char *remote, uint64_t size, char **path_out)
{
    if (!downloads_dir || !*downloads_dir || !remote || !path_out)
        return SP_XFER_ERR_INVALID;
    *path_out = NULL;
    char *rdir = NULL, *rfile = NULL;
    if (s_remote_tail (remote, &rdir, &rfile) != 0) {
        free (rdir);
        free (rfile);
        return SP_XFER_ERR_INVALID;
    }
    char *dir = rdir ? s_local_component (rdir) : NULL;
    char *file = s_local_component (rfile);
    int rc = SP_XFER_ERR_NOT_FOUND;
    char *folder = NULL;
    DIR *dh = NULL;
    if (!file || (rdir && !dir)) {
        rc = SP_XFER_ERR_INVALID;
        goto done;
    }
    if (asprintf (&folder, "%s%s%s", downloads_dir, dir ? "/" : "", dir ? dir : "") < 0) {
        folder = NULL;
        rc = SP_XFER_ERR_INVALID;
        goto done;
    }
    int dfd = open (folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        goto done;
    dh = fdopendir (dfd);
    if (!dh) {
        close (dfd);
        goto done;
    }
    //  the stem and extension of the clash variant <stem>_<ticks><ext>
    const char *dot = strrchr (file, '.');
    size_t stem_len = dot && dot != file ? (size_t) (dot - file) : strlen (file);
    const char *ext = file + stem_len;
    char *best = NULL;
    struct timespec best_mtime = {0, 0};
    bool exact_ok = false, exact_exists = false;
    struct dirent *e;
    while ((e = readdir (dh)) != NULL) {
        const char *n = e->d_name;
        bool exact = strcmp (n, file) == 0;
        if (!exact) {
            size_t nl = strlen (n), el = strlen (ext);
            if (nl < stem_len + 2 + el || strncmp (n, file, stem_len) != 0 || n[stem_len] != '_' ||
                strcmp (n + nl - el, ext) != 0)
                continue;
            bool digits = true;
            for (size_t i = stem_len + 1; i < nl - el; i++)
                if (n[i] < '0' || n[i] > '9')
                    digits = false;
            if (!digits)
                continue;
        }
        struct stat st;
        if (fstatat (dirfd (dh), n, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode))
            continue;
        if (exact)
            exact_exists = true;
        if ((uint64_t) st.st_size != size)
            continue;
        //  an exact name of the right size wins; else the newest variant
        bool newer =
            st.st_mtim.tv_sec > best_mtime.tv_sec ||
            (st.st_mtim.tv_sec == best_mtime.tv_sec && st.st_mtim.tv_nsec > best_mtime.tv_nsec);
        if (exact_ok || (!exact && best && !newer))
            continue;
        free (best);
        best = strdup (n);
        best_mtime = st.st_mtim;
        exact_ok = exact;
    }
    if (!best && exact_exists)
        best = strdup (file);
    if (best) {
        if (asprintf (path_out, "%s/%s", folder, best) < 0)
            *path_out = NULL;
        else
            rc = SP_XFER_OK;
        free (best);
    }
done:
    if (dh)
        closedir (dh);
    free (folder);
    free (dir);
    free (file);
    free (rdir);
    free (rfile);
    return rc;
}
