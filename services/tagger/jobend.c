/*  jobend.c: what the finisher (finisher.c) does with an ended job besides
    the m3u8 and the rescan: the job's tracks read once in playlist order
    (sp_tagger__summary_load), and the playlist in the media library
    (sp_tagger__library_playlist, SOULPIPE_LIBRARY_PLAYLISTS), and the
    job_finished notification (sp_tagger__notify_job, SOULPIPE_NOTIFY_URL).

    The library playlist: same name as the source playlist, the tracks in
    source order that have a file the library knows: those it already had
    (skipped "in library", their library path), those an earlier job of the
    playlist delivered (skipped "already downloaded", their Transfer path)
    and this job's downloads (done, their final path). Failed, cancelled
    and unseen tracks are left out, each logged with its reason
    (event=library_playlist_left_out). The item ids come from one load of
    the library's index after the rescan (path -> id; one paged pass
    instead of a search per track), or, for a library that needs no rescan
    (a folder), from sp_medialib_find_item, which is a local check there.
    sp_medialib_playlist_upsert keeps one playlist per name and edits it in
    place. Writers of one name are serialized with a store lock, so two
    jobs of the same playlist ending together do not both create it.
*/
#include "tagger_int.h"

#include "soulpipe/clock.h"
#include "soulpipe/log.h"
#include "soulpipe/medialib.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LOCK_TTL_MS       120000  //  library playlist lock lease, ms
#define S_LOCK_WAIT_MS      60000   //  longest wait for it, ms
#define S_NOTIFY_FAILED_MAX 100     //  failed tracks listed in a notification

// ------------------------------------------------------------ summary

static char *
s_dup (const char *s)
{
    return strdup (s ? s : "");
}

char *
sp_tagger__artists_text (const char *a)
{
    if (!a || a[0] != '[')
        return s_dup (a);
    json_t *arr = json_loads (a, 0, NULL);
    if (!json_is_array (arr)) {
        json_decref (arr);
        return s_dup (a);
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

typedef struct {
    sp_tagger__summary_t *s;
    bool oom;
} s_collect_t;

static int
s_collect (const sp_store_track_t *t, void *arg)
{
    s_collect_t *c = arg;
    sp_tagger__summary_t *s = c->s;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sp_tagger__entry_t *v = realloc (s->v, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return 1;
        }
        s->v = v;
        s->cap = cap;
    }
    sp_tagger__entry_t *e = &s->v[s->n++];
    e->position = t->position;
    e->state = s_dup (t->state);
    e->title = s_dup (t->title);
    e->artists = sp_tagger__artists_text (t->artists);
    e->path = t->path && *t->path ? strdup (t->path) : NULL;
    e->reason = s_dup (t->reason);
    if (!e->state || !e->title || !e->artists || !e->reason || (t->path && *t->path && !e->path)) {
        c->oom = true;
        return 1;
    }
    return 0;
}

int
sp_tagger__summary_load (sp_tagger_t *self, const char *job_id, sp_tagger__summary_t *out)
{
    memset (out, 0, sizeof *out);
    s_collect_t c = {.s = out};
    int rc = sp_store_job_tracks (self->store, job_id, s_collect, &c);
    if (rc != SP_STORE_OK || c.oom) {
        sp_log_warn ("event=job_tracks_unreadable job=%s error=%s", sp_log_q (job_id),
                     c.oom ? "out of memory" : sp_log_q (sp_store_strerror (rc)));
        sp_tagger__summary_clear (out);
        return -1;
    }
    return 0;
}

void
sp_tagger__summary_clear (sp_tagger__summary_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free (s->v[i].state);
        free (s->v[i].title);
        free (s->v[i].artists);
        free (s->v[i].path);
        free (s->v[i].reason);
    }
    free (s->v);
    memset (s, 0, sizeof *s);
}

// ------------------------------------------------------------ item ids

//  A track that can be in the library playlist: filed or already owned.
static bool
s_wanted (const sp_tagger__entry_t *e)
{
    return e->path && (strcmp (e->state, "done") == 0 || strcmp (e->state, "skipped") == 0);
}

typedef struct {
    const char *path;  //  borrowed from the summary
    size_t entry;      //  index in the summary
} s_want_t;

typedef struct {
    s_want_t *want;  //  sorted by path
    size_t n;
    char **ids;  //  per summary entry, NULL = not (yet) known
    bool oom;
} s_index_t;

static int
s_want_cmp (const void *a, const void *b)
{
    return strcmp (((const s_want_t *) a)->path, ((const s_want_t *) b)->path);
}

//  sp_medialib_load callback: keep the id of every wanted path.
static int
s_index_track (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    (void) note, (void) n;
    s_index_t *x = arg;
    if (!t->path || !t->item_id)
        return 0;
    s_want_t key = {.path = t->path};
    s_want_t *hit = bsearch (&key, x->want, x->n, sizeof *x->want, s_want_cmp);
    if (!hit)
        return 0;
    //  the same file may stand at several positions of the playlist
    while (hit > x->want && strcmp (hit[-1].path, t->path) == 0)
        hit--;
    for (; hit < x->want + x->n && strcmp (hit->path, t->path) == 0; hit++) {
        if (x->ids[hit->entry])
            continue;
        x->ids[hit->entry] = strdup (t->item_id);
        if (!x->ids[hit->entry]) {
            x->oom = true;
            return 1;
        }
    }
    return 0;
}

//  ids[i] for every wanted entry the library knows. Returns 0, or -1 with
//  note when the library could not be read (nothing is written then).
static int
s_resolve (sp_tagger_t *self, const sp_tagger__summary_t *s, char **ids, char *note, size_t n)
{
    unsigned caps = sp_medialib_caps (self->library);
    if (!(caps & SP_MEDIALIB_RESCAN_NEEDED) || !(caps & SP_MEDIALIB_CAN_LOAD)) {
        //  a folder library: the id is the checked path itself
        for (size_t i = 0; i < s->n; i++) {
            if (!s_wanted (&s->v[i]))
                continue;
            char fnote[256] = "";
            int rc =
                sp_medialib_find_item (self->library, s->v[i].path, &ids[i], fnote, sizeof fnote);
            if (rc == SP_MEDIALIB_ERR_NOMEM) {
                snprintf (note, n, "out of memory");
                return -1;
            }
        }
        return 0;
    }
    s_index_t x = {.ids = ids};
    x.want = calloc (s->n ? s->n : 1, sizeof *x.want);
    if (!x.want) {
        snprintf (note, n, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s_wanted (&s->v[i]))
            x.want[x.n++] = (s_want_t){.path = s->v[i].path, .entry = i};
    int rc = SP_MEDIALIB_OK;
    if (x.n > 0) {
        qsort (x.want, x.n, sizeof *x.want, s_want_cmp);
        rc = sp_medialib_load (self->library, s_index_track, &x, note, n);
        if (x.oom)
            snprintf (note, n, "out of memory");
    }
    free (x.want);
    return rc == SP_MEDIALIB_OK && !x.oom ? 0 : -1;
}

// ------------------------------------------------------------ the playlist

//  Why entry e is not in the library playlist, in words for the log.
static const char *
s_left_out_reason (const sp_tagger__entry_t *e)
{
    if (strcmp (e->state, "failed") == 0 || strcmp (e->state, "cancelled") == 0)
        return *e->reason ? e->reason : e->state;
    if (!e->path)
        return strcmp (e->state, "skipped") == 0 ? "skipped without a file" : "no file";
    return "the library has no item for its file (not scanned in, or outside the library's "
           "folders)";
}

int
sp_tagger__library_playlist (sp_tagger_t *self, const char *job_id, const char *name,
                             const sp_tagger__summary_t *s)
{
    if (!self->library || !self->library_playlists || !name || !*name)
        return 0;
    if (!(sp_medialib_caps (self->library) & SP_MEDIALIB_CAN_PLAYLIST))
        return 0;
    int64_t t0 = sp_clock_mono_ms ();
    const char *lib = sp_medialib_name (self->library);
    char note[512] = "";
    int result = -1;
    char *pid = NULL;
    char **ids = calloc (s->n ? s->n : 1, sizeof *ids);
    const char **list = calloc (s->n ? s->n : 1, sizeof *list);
    if (!ids || !list) {
        snprintf (note, sizeof note, "out of memory");
        goto done;
    }
    //  One writer per playlist name: a second job of the same playlist
    //  would otherwise find no playlist either and create a duplicate. On
    //  a lock timeout it is written anyway (late rather than never).
    char lock_name[SP_STORE_LOCK_NAME_MAX];
    snprintf (lock_name, sizeof lock_name, "libplaylist:%s", name);
    sp_store_lock_t lock;
    int lrc = sp_store_lock_acquire (self->store, lock_name, S_LOCK_TTL_MS, S_LOCK_WAIT_MS, &lock);
    if (lrc != SP_STORE_OK)
        sp_log_warn ("event=library_playlist_lock_failed job=%s error=%s", sp_log_q (job_id),
                     sp_log_q (sp_store_strerror (lrc)));
    if (s_resolve (self, s, ids, note, sizeof note) != 0)
        goto unlock;
    size_t count = 0, left_out = 0;
    for (size_t i = 0; i < s->n; i++) {
        const sp_tagger__entry_t *e = &s->v[i];
        if (ids[i]) {
            list[count++] = ids[i];
            continue;
        }
        left_out++;
        sp_log_info ("event=library_playlist_left_out job=%s position=%d title=%s artists=%s "
                     "state=%s reason=%s",
                     sp_log_q (job_id), e->position + 1, sp_log_q (e->title), sp_log_q (e->artists),
                     sp_log_q (e->state), sp_log_q (s_left_out_reason (e)));
    }
    if (count == 0) {
        //  Nothing the library knows: an empty playlist helps nobody (and
        //  Plex cannot create one without items).
        sp_log_info ("event=library_playlist_empty job=%s library=%s playlist=%s left_out=%zu",
                     sp_log_q (job_id), sp_log_q (lib), sp_log_q (name), left_out);
        result = 0;
        goto unlock;
    }
    int rc =
        sp_medialib_playlist_upsert (self->library, name, list, count, &pid, note, sizeof note);
    if (rc != SP_MEDIALIB_OK)
        goto unlock;
    result = 0;
    sp_log_info ("event=library_playlist job=%s library=%s playlist=%s id=%s items=%zu "
                 "left_out=%zu ms=%lld",
                 sp_log_q (job_id), sp_log_q (lib), sp_log_q (name), sp_log_q (pid), count,
                 left_out, (long long) (sp_clock_mono_ms () - t0));
unlock:
    if (lrc == SP_STORE_OK)
        sp_store_lock_release (self->store, &lock);
done:
    if (result != 0)
        sp_log_warn ("event=library_playlist_failed job=%s library=%s playlist=%s reason=%s",
                     sp_log_q (job_id), sp_log_q (lib), sp_log_q (name), sp_log_q (note));
    if (ids)
        for (size_t i = 0; i < s->n; i++)
            free (ids[i]);
    free (ids);
    free (list);
    free (pid);
    return result;
}

// ------------------------------------------------------------ notification

void
sp_tagger__notify_job (sp_tagger_t *self, const sp_store_job_t *job, const sp_tagger__summary_t *s)
{
    if (!self->notify || !job)
        return;
    json_t *failed = json_array ();
    size_t more = 0;
    for (size_t i = 0; s && failed && i < s->n; i++) {
        const sp_tagger__entry_t *e = &s->v[i];
        if (strcmp (e->state, "failed") != 0)
            continue;
        if (json_array_size (failed) >= S_NOTIFY_FAILED_MAX) {
            more++;
            continue;
        }
        json_array_append_new (failed, json_pack ("{s:s, s:s, s:s}", "artist", e->artists, "title",
                                                  e->title, "reason", e->reason));
    }
    json_t *ev = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I}, s:o}", "event",
                            "job_finished", "job", job->id ? job->id : "", "source",
                            job->source ? job->source : "", "name", job->name ? job->name : "",
                            "state", job->state ? job->state : "", "counts", "total",
                            (json_int_t) job->total, "skipped", (json_int_t) job->skipped, "done",
                            (json_int_t) job->done, "failed", (json_int_t) job->failed, "cancelled",
                            (json_int_t) job->cancelled, "failed", failed ? failed : json_array ());
    if (ev && more)
        json_object_set_new (ev, "failed_more", json_integer ((json_int_t) more));
    if (!ev || sp_notify_send (self->notify, ev) != 0)
        sp_log_warn ("event=notify_not_queued job=%s error=\"out of memory\"", sp_log_q (job->id));
    json_decref (ev);
}
