/*  m3u8.c: the playlist file Transfer/<folder>/<folder>.m3u8 (see
    tagger.h, step 6): rendered from the job's track records in playlist
    order (no I/O in sp_tagger_m3u8_render), written to a temporary file and
    renamed into place under the store's per-playlist lock, so writers in
    several tagger processes never interleave; a progress copy while the
    job runs, the final one from the finisher.
*/
#include "tagger_int.h"

#include "soulpipe/clock.h"
#include "soulpipe/io.h"
#include "soulpipe/log.h"
#include "soulpipe/path.h"
#include "soulpipe/tags.h"
#include "soulpipe/text.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_LOCK_TTL_MS      30000  //  per-playlist m3u8 lock lease, ms
#define S_LOCK_WAIT_MS     30000  //  longest wait for the lock, ms
#define S_M3U8_PROGRESS_MS 1000   //  progress m3u8 rewritten at most this often per job, ms

// ------------------------------------------------------------ render (no I/O)

typedef struct {
    char *data;
    size_t len, cap;
    bool oom;
} s_buf_t;

//  Append s; oneline: s came from outside (a name, a reason, a path) and
//  must stay on its line and not reach a player or terminal raw, so its
//  CR/LF/tab become spaces and other control characters are escaped.
static void
s_buf_add (s_buf_t *b, const char *s, bool oneline)
{
    if (b->oom)
        return;
    char *safe = NULL;
    if (oneline) {
        safe = sp_text_printable (s, SP_TEXT_WS_SPACE);
        if (!safe) {
            b->oom = true;
            return;
        }
        s = safe;
    }
    size_t n = strlen (s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc (b->data, cap);
        if (!d) {
            b->oom = true;
            free (safe);
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy (b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    free (safe);
}

char *
sp_tagger_m3u8_render (const char *name, const char *playlist_dir, const sp_tagger_m3u8_entry_t *e,
                       size_t n)
{
    s_buf_t b = {0};
    s_buf_add (&b, "#EXTM3U\n#PLAYLIST:", false);
    s_buf_add (&b, name ? name : "", true);
    s_buf_add (&b, "\n", false);
    size_t plen = playlist_dir ? strlen (playlist_dir) : 0;
    for (size_t i = 0; i < n; i++) {
        char num[48];
        const char *artists = e[i].artists && *e[i].artists ? e[i].artists : "Unknown Artist";
        const char *title = e[i].title ? e[i].title : "";
        if (e[i].filed && e[i].path) {
            snprintf (num, sizeof num, "#EXTINF:%ld,", e[i].duration_s >= 0 ? e[i].duration_s : -1);
            s_buf_add (&b, num, false);
            s_buf_add (&b, artists, true);
            s_buf_add (&b, " - ", false);
            s_buf_add (&b, title, true);
            s_buf_add (&b, "\n", false);
            const char *p = e[i].path;
            if (plen && strncmp (p, playlist_dir, plen) == 0 && p[plen] == '/')
                p += plen + 1;
            s_buf_add (&b, p, true);
            s_buf_add (&b, "\n", false);
            continue;
        }
        snprintf (num, sizeof num, "# %zu. ", i + 1);
        s_buf_add (&b, num, false);
        s_buf_add (&b, artists, true);
        s_buf_add (&b, " - ", false);
        s_buf_add (&b, title, true);
        const char *state = e[i].state && *e[i].state ? e[i].state : "pending";
        bool skipped = strcmp (state, "skipped") == 0;
        s_buf_add (&b, " (", false);
        s_buf_add (&b, skipped ? "in library" : state, true);
        const char *extra =
            skipped ? e[i].path : (strcmp (state, "failed") == 0 ? e[i].reason : NULL);
        if (extra && *extra) {
            s_buf_add (&b, ": ", false);
            s_buf_add (&b, extra, true);
        }
        s_buf_add (&b, ")\n", false);
    }
    if (b.oom || !b.data) {
        free (b.data);
        return NULL;
    }
    return b.data;
}

// ------------------------------------------------------------ from the track records

static char *
s_strdup (const char *s)
{
    return strdup (s ? s : "");
}


typedef struct {
    sp_tagger_m3u8_entry_t *e;
    char **owned;  //  strings to free (artists text, copies)
    size_t n, cap, n_owned, cap_owned;
    const char *playlist_dir;  //  "<transfer>/<playlist>"
    const char *self_key;      //  this track: path and duration known here
    const char *self_path;
    long self_duration;
    bool oom;
} s_list_t;

static const char *
s_keep (s_list_t *l, char *s)
{
    if (!s) {
        l->oom = true;
        return "";
    }
    if (l->n_owned == l->cap_owned) {
        size_t cap = l->cap_owned ? l->cap_owned * 2 : 64;
        char **o = realloc (l->owned, cap * sizeof *o);
        if (!o) {
            free (s);
            l->oom = true;
            return "";
        }
        l->owned = o;
        l->cap_owned = cap;
    }
    l->owned[l->n_owned++] = s;
    return s;
}

//  The artists field of a track record: a JSON array or already joined text.
static char *
s_artists_text (const char *a)
{
    if (!a || a[0] != '[')
        return s_strdup (a);
    json_t *arr = json_loads (a, 0, NULL);
    if (!json_is_array (arr)) {
        json_decref (arr);
        return s_strdup (a);
    }
    size_t n = json_array_size (arr);
    char **v = calloc (n ? n : 1, sizeof *v);
    char *out = NULL;
    if (v) {
        for (size_t i = 0; i < n; i++)
            v[i] = (char *) json_string_value (json_array_get (arr, i));
        out = sp_tagger__join_artists (v, n);
        free (v);
    }
    json_decref (arr);
    return out;
}

static int
s_collect (const sp_store_track_t *t, void *arg)
{
    s_list_t *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        sp_tagger_m3u8_entry_t *e = realloc (l->e, cap * sizeof *e);
        if (!e) {
            l->oom = true;
            return 1;
        }
        l->e = e;
        l->cap = cap;
    }
    sp_tagger_m3u8_entry_t *e = &l->e[l->n++];
    memset (e, 0, sizeof *e);
    e->state = s_keep (l, s_strdup (t->state));
    e->title = s_keep (l, s_strdup (t->title));
    e->artists = s_keep (l, s_artists_text (t->artists));
    e->reason = s_keep (l, s_strdup (t->reason));
    e->duration_s = -1;
    const char *path = t->path;
    bool mine = l->self_key && t->key && strcmp (t->key, l->self_key) == 0;
    if (mine)
        path = l->self_path;
    e->path = s_keep (l, s_strdup (path));
    size_t pl = strlen (l->playlist_dir);
    bool in_folder = path && strncmp (path, l->playlist_dir, pl) == 0 && path[pl] == '/';
    bool skipped = strcmp (e->state, "skipped") == 0;
    //  A track skipped because an earlier job of this playlist delivered it
    //  (songs index) has its file in this folder: list it as a file, or a
    //  resubmitted playlist's m3u8 would lose every track it already had.
    e->filed = in_folder && (mine || skipped || strcmp (e->state, "done") == 0 ||
                             strcmp (e->state, "tagging") == 0);
    if (e->filed) {
        if (mine)
            e->duration_s = l->self_duration;
        else if (skipped) {
            sp_tags_info_t info;
            if (sp_tags_probe (path, &info, NULL, 0) == SP_TAGS_OK && info.length_s > 0)
                e->duration_s = info.length_s;
        } else if (t->payload && t->payload_len) {
            sp_payload_t *p = NULL;
            if (sp_payload_decode (t->payload, t->payload_len, &p, NULL, 0) == SP_MSG_OK &&
                p->track.has_duration_ms)
                e->duration_s = (long) ((p->track.duration_ms + 500) / 1000);
            sp_payload_destroy (&p);
        }
    }
    return 0;
}

static void
s_list_free (s_list_t *l)
{
    for (size_t i = 0; i < l->n_owned; i++)
        free (l->owned[i]);
    free (l->owned);
    free (l->e);
}

// ------------------------------------------------------------ write

//  Write text to Transfer/<folder>/<file> through a temporary file and a
//  rename. When the lock was held for the rewrite, it is checked (and
//  renewed) before the rename: a writer whose lease ran out while it read
//  the records leaves the file to the writer that holds the lock now.
static int
s_m3u8_save (sp_tagger_t *self, const char *folder, const char *file, const char *text,
             const sp_store_lock_t *lock)
{
    int dirfd = -1;
    const char *comp[] = {folder};
    if (sp_path_mkdirs_at (self->transfer_dir, comp, 1, &dirfd) != SP_PATH_OK) {
        sp_log_warn ("event=m3u8_failed playlist=%s error=\"cannot create the playlist folder\"",
                     sp_log_q (folder));
        return -1;
    }
    char tmp[SP_PATH_TMPNAME_SIZE];
    int fd;
    int result = -1;
    //  a tagger killed while writing here left its temporary file
    sp_path_sweep_tmp_at (dirfd, SP_TAGGER__TMP_SWEEP_S);
    if (sp_path_open_tmp_at (dirfd, file, tmp, sizeof tmp, &fd) != SP_PATH_OK) {
        sp_log_warn ("event=m3u8_failed playlist=%s errno=%d", sp_log_q (folder), errno);
        close (dirfd);
        return -1;
    }
    int wrc = sp_io_write_all (fd, text, strlen (text));
    int werr = errno;
    close (fd);
    if (wrc != 0)
        sp_log_warn ("event=m3u8_failed playlist=%s errno=%d", sp_log_q (folder), werr);
    else if (lock && sp_store_lock_extend (self->store, lock, S_LOCK_TTL_MS) == SP_STORE_ESTALE)
        sp_log_warn ("event=m3u8_lock_lost playlist=%s fence=%llu", sp_log_q (folder),
                     (unsigned long long) lock->fence);
    else if (sp_path_commit_at (dirfd, tmp, file, true) != SP_PATH_OK)
        sp_log_warn ("event=m3u8_failed playlist=%s errno=%d", sp_log_q (folder), errno);
    else
        result = 0;
    if (result != 0)
        sp_path_discard_at (dirfd, tmp);
    close (dirfd);
    return result;
}

int
sp_tagger__m3u8_write (sp_tagger_t *self, const char *job_id, const char *name,
                       const char *self_key, const char *self_path, long self_duration, bool create)
{
    char *folder = NULL;
    char *file = NULL;
    char playlist_dir[PATH_MAX];
    struct stat st;
    int result = -1;
    int frc = sp_tagger__folder (self, job_id, name, &folder);
    if (frc == -2) {
        sp_log_warn ("event=m3u8_failed job=%s error=\"Redis is unreachable\"", sp_log_q (job_id));
        goto done;
    }
    //  named after its folder, so two playlists' files never collide
    file = folder ? sp_path_sanitize_ext (folder, "m3u8", SP_PATH_NAME_MAX) : NULL;
    if (!folder || !file) {
        sp_log_warn ("event=m3u8_failed job=%s error=\"bad playlist name\"", sp_log_q (job_id));
        goto done;
    }
    snprintf (playlist_dir, sizeof playlist_dir, "%s/%s", self->transfer_dir, folder);
    if (!create && stat (playlist_dir, &st) != 0) {
        result = 0;
        goto done;
    }
    //  One writer per playlist at a time, across tagger processes. Without
    //  the lock (Redis slow, a writer stuck) the file is written anyway:
    //  the rename keeps it whole, and the next rewrite corrects its content.
    char lock_name[SP_STORE_LOCK_NAME_MAX];
    snprintf (lock_name, sizeof lock_name, "playlist:%s", folder);
    sp_store_lock_t lock;
    int lrc = sp_store_lock_acquire (self->store, lock_name, S_LOCK_TTL_MS, S_LOCK_WAIT_MS, &lock);
    if (lrc != SP_STORE_OK)
        sp_log_warn ("event=m3u8_lock_timeout playlist=%s error=%s", sp_log_q (folder),
                     sp_log_q (sp_store_strerror (lrc)));
    s_list_t l = {.playlist_dir = playlist_dir,
                  .self_key = self_key,
                  .self_path = self_path,
                  .self_duration = self_duration};
    int rc = sp_store_job_tracks (self->store, job_id, s_collect, &l);
    char *text =
        rc == SP_STORE_OK && !l.oom ? sp_tagger_m3u8_render (name, playlist_dir, l.e, l.n) : NULL;
    if (!text)
        sp_log_warn ("event=m3u8_failed playlist=%s error=%s", sp_log_q (folder),
                     rc != SP_STORE_OK ? sp_store_strerror (rc) : "out of memory");
    else if (s_m3u8_save (self, folder, file, text, lrc == SP_STORE_OK ? &lock : NULL) == 0) {
        sp_log_info ("event=m3u8_written job=%s playlist=%s entries=%zu", sp_log_q (job_id),
                     sp_log_q (folder), l.n);
        result = 0;
    }
    free (text);
    if (lrc == SP_STORE_OK)
        sp_store_lock_release (self->store, &lock);
    s_list_free (&l);
done:
    free (folder);
    free (file);
    return result;
}

//  After filing one track: rewrite the playlist's m3u8 so it shows progress.
//  The job-end work (final m3u8, Plex rescan) is the finisher's
//  (sp_tagger_finish_job), which runs once the store says the job ended,
//  whichever stage finished its last track.
void
sp_tagger__playlist_update (sp_tagger_t *self, const sp_payload_t *p, const char *final_path)
{
    if (!self->store || !p->job || !*p->job)
        return;
    //  A rewrite reads every track record of the job: after each track that
    //  is quadratic over a playlist (1,000 tracks: a million record reads).
    //  A progress copy at most every S_M3U8_PROGRESS_MS is enough, and
    //  always one when this is the job's last track still to deliver; the
    //  finisher writes the final one when the job ends.
    int64_t now = sp_clock_mono_ms ();
    if (strcmp (self->m3u8_job, p->job) == 0 && now - self->m3u8_at < S_M3U8_PROGRESS_MS) {
        sp_store_job_t *job = NULL;
        bool last = sp_store_job_get (self->store, p->job, &job) != SP_STORE_OK || job->queued <= 1;
        sp_store_job_destroy (&job);
        if (!last)
            return;
    }
    snprintf (self->m3u8_job, sizeof self->m3u8_job, "%s", p->job);
    self->m3u8_at = now;
    long duration = p->track.has_duration_ms ? (long) ((p->track.duration_ms + 500) / 1000) : -1;
    sp_tagger__m3u8_write (self, p->job, p->track.playlist, p->track_key, final_path, duration,
                           true);
}
