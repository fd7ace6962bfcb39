/*  analyzer.c: the submission pipeline (see analyzer.h).

    submit: source -> sp_playlist_t (spotify.c / textlist.c) -> per entry:
    unusable? duplicate? delivered before (songs index)? in the library
    (library.c, loaded from the configured library, cached)? -> sp_store_job_create ->
    submit_ok. login: tokens -> spotify.c.
*/
#include "analyzer.h"

#include "library.h"
#include "playlist.h"
#include "source.h"
#include "spotify.h"
#include "textlist.h"

#include "soulpipe/clock.h"
#include "soulpipe/err.h"
#include "soulpipe/log.h"
#include "soulpipe/songs.h"
#include "soulpipe/text.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_NOTES  2000 /* notes in one reply (then "... and N more") */
#define S_REASON_MAX 1024 /* bytes of a skip reason */

//  A loaded library shared by submissions; freed when the last user lets go.
typedef struct {
    sp_library_t *lib;
    int refs;          /* guarded by lib_lock */
    int64_t loaded_ms; /* monotonic */
} s_libref_t;

struct _sp_analyzer_t {
    const sp_config_t *cfg;    /* borrowed */
    sp_events_t *events;       /* borrowed, may be NULL */
    sp_spotify_t *spotify;     /* Spotify client and token state */
    pthread_mutex_t lib_lock;  /* guards cached */
    pthread_mutex_t load_lock; /* one Plex load at a time */
    s_libref_t *cached;        /* the cached library, or NULL */
};

sp_analyzer_t *
sp_analyzer_new (const sp_config_t *cfg, sp_events_t *events, char *err, size_t n)
{
    if (!cfg) {
        sp_err_set (err, n, "no configuration");
        return NULL;
    }
    sp_analyzer_t *self = calloc (1, sizeof *self);
    if (!self || !(self->spotify = sp_spotify_new (cfg))) {
        free (self);
        sp_err_set (err, n, "out of memory");
        return NULL;
    }
    self->cfg = cfg;
    self->events = events;
    pthread_mutex_init (&self->lib_lock, NULL);
    pthread_mutex_init (&self->load_lock, NULL);
    return self;
}

static void
s_libref_release (sp_analyzer_t *self, s_libref_t **ref_p)
{
    if (!*ref_p)
        return;
    pthread_mutex_lock (&self->lib_lock);
    s_libref_t *ref = *ref_p;
    bool last = --ref->refs == 0;
    pthread_mutex_unlock (&self->lib_lock);
    if (last) {
        sp_library_destroy (&ref->lib);
        free (ref);
    }
    *ref_p = NULL;
}

void
sp_analyzer_destroy (sp_analyzer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_analyzer_t *self = *self_p;
    s_libref_release (self, &self->cached);
    sp_spotify_destroy (&self->spotify);
    pthread_mutex_destroy (&self->lib_lock);
    pthread_mutex_destroy (&self->load_lock);
    free (self);
    *self_p = NULL;
}

// ------------------------------------------------------------ library cache

//  A fresh enough cached library (ref taken), or NULL.
static s_libref_t *
s_cache_get (sp_analyzer_t *self)
{
    s_libref_t *ref = NULL;
    pthread_mutex_lock (&self->lib_lock);
    if (self->cached && self->cfg->library_cache_s > 0 &&
        sp_clock_mono_ms () - self->cached->loaded_ms <
            (int64_t) self->cfg->library_cache_s * 1000) {
        ref = self->cached;
        ref->refs++;
    }
    pthread_mutex_unlock (&self->lib_lock);
    return ref;
}

//  The library for one submission (ref taken), or NULL with a note saying
//  why the check is skipped.
static s_libref_t *
s_library_acquire (sp_analyzer_t *self, char *note, size_t n)
{
    if (self->cfg->library_kind == SP_MEDIALIB_NONE) {
        if (self->cfg->library && *self->cfg->library)
            snprintf (note, n, "SOULPIPE_LIBRARY is none: every track is queued");
        else
            snprintf (note, n, "PLEX_URL is not set: every track is queued");
        return NULL;
    }
    s_libref_t *ref = s_cache_get (self);
    if (ref)
        return ref;
    //  one loader at a time; the others wait and then reuse its result
    pthread_mutex_lock (&self->load_lock);
    ref = s_cache_get (self);
    if (!ref) {
        sp_library_t *lib = NULL;
        char why[512];
        int64_t t0 = sp_clock_mono_ms ();
        sp_medialib_opts_t opts;
        sp_config_library_opts (self->cfg, &opts);
        if (sp_library_load (&opts, &lib, why, sizeof why) != 0) {
            sp_log_warn ("event=library_skipped reason=%s", sp_log_q (why));
            snprintf (note, n, "library check skipped: %s; every track is queued", why);
        } else if ((ref = calloc (1, sizeof *ref))) {
            ref->lib = lib;
            ref->loaded_ms = sp_clock_mono_ms ();
            ref->refs = 2; /* the cache's and ours */
            sp_log_info ("event=library_loaded library=%s tracks=%zu ms=%lld",
                         sp_medialib_kind_name (opts.kind), sp_library_size (lib),
                         (long long) (ref->loaded_ms - t0));
            pthread_mutex_lock (&self->lib_lock);
            s_libref_t *old = self->cached;
            self->cached = ref;
            pthread_mutex_unlock (&self->lib_lock);
            s_libref_release (self, &old);
        } else {
            sp_library_destroy (&lib);
            snprintf (note, n, "library check skipped: out of memory; every track is queued");
        }
    }
    pthread_mutex_unlock (&self->load_lock);
    return ref;
}

// ------------------------------------------------------------ replies

static int
s_error (sp_msg_t *reply, const char *code, const char *message)
{
    sp_msg_clear (reply);
    reply->type = SP_MSG_ERROR;
    char msg[SP_MSG_MAX_STR];
    sp_playlist_cut_utf8 (msg, sizeof msg, message);
    if (sp_msg_strset (&reply->code, code) != SP_MSG_OK ||
        sp_msg_strset (&reply->message, msg) != SP_MSG_OK)
        return -1;
    return 0;
}

// ------------------------------------------------------------ dedupe

//  A small string set for "seen before": key -> first 0-based position.
typedef struct {
    char **keys;
    size_t *pos;
    size_t cap; /* power of two */
} s_seen_t;

static uint64_t
s_fnv (const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 1099511628211ull;
    }
    return h;
}

static int
s_seen_init (s_seen_t *s, size_t n)
{
    s->cap = 16;
    while (s->cap < n * 2)
        s->cap *= 2;
    s->keys = calloc (s->cap, sizeof *s->keys);
    s->pos = calloc (s->cap, sizeof *s->pos);
    return s->keys && s->pos ? 0 : -1;
}

static void
s_seen_free (s_seen_t *s)
{
    for (size_t i = 0; s->keys && i < s->cap; i++)
        free (s->keys[i]);
    free (s->keys);
    free (s->pos);
}

//  Returns the earlier position of key (>= 0), or -1 after inserting it
//  (key ownership taken), or -2 on failure (key freed).
static long
s_seen_check (s_seen_t *s, char *key, size_t pos)
{
    size_t i = s_fnv (key) & (s->cap - 1);
    while (s->keys[i]) {
        if (strcmp (s->keys[i], key) == 0) {
            free (key);
            return (long) s->pos[i];
        }
        i = (i + 1) & (s->cap - 1);
    }
    s->keys[i] = key;
    s->pos[i] = pos;
    return -1;
}

//  The identity of an entry: its Spotify id, else its normalized
//  "artist / title". NULL when it has neither (or out of memory).
static char *
s_entry_key (const sp_track_t *t)
{
    if (t->spotify_id && *t->spotify_id) {
        size_t n = strlen (t->spotify_id) + 4;
        char *k = malloc (n);
        if (k)
            snprintf (k, n, "id:%s", t->spotify_id);
        return k;
    }
    if (!t->title || t->artists_count == 0)
        return NULL;
    char *a = sp_text_normalize (t->artists[0]);
    char *ti = sp_text_normalize (t->title);
    char *k = NULL;
    if (a && ti) {
        size_t n = strlen (a) + strlen (ti) + 8;
        k = malloc (n);
        if (k)
            snprintf (k, n, "t:%s\x1f%s", a, ti);
    }
    free (a);
    free (ti);
    return k;
}

// ------------------------------------------------------------ submit

//  "A, B" of a track's artists (for notes), into buf.
static void
s_artists_line (const sp_track_t *t, char *buf, size_t n)
{
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < t->artists_count && used + 1 < n; i++) {
        int w = snprintf (buf + used, n - used, "%s%s", i ? ", " : "", t->artists[i]);
        if (w < 0)
            break;
        used += (size_t) w;
    }
    if (used >= n)
        sp_playlist_cut_utf8 (buf, n, buf);
}

//  JSON array text of the artists. Caller frees.
static char *
s_artists_json (const sp_track_t *t)
{
    json_t *arr = json_array ();
    for (size_t i = 0; arr && i < t->artists_count; i++)
        json_array_append_new (arr, json_string (t->artists[i]));
    char *s = arr ? json_dumps (arr, JSON_COMPACT) : NULL;
    json_decref (arr);
    return s;
}

typedef struct {
    sp_store_track_spec_t *specs;
    char **reasons;     /* per entry, heap or NULL */
    char **artists;     /* per entry JSON, heap */
    uint8_t **payloads; /* per entry, heap or NULL */
    char **paths;       /* per entry, heap or NULL */
    size_t n;
} s_specs_t;

static void
s_specs_free (s_specs_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free (s->reasons[i]);
        free (s->artists[i]);
        free (s->payloads[i]);
        free (s->paths[i]);
    }
    free (s->specs);
    free (s->reasons);
    free (s->artists);
    free (s->payloads);
    free (s->paths);
}

static int
s_specs_init (s_specs_t *s, size_t n)
{
    memset (s, 0, sizeof *s);
    s->specs = calloc (n ? n : 1, sizeof *s->specs);
    s->reasons = calloc (n ? n : 1, sizeof (char *));
    s->artists = calloc (n ? n : 1, sizeof (char *));
    s->payloads = calloc (n ? n : 1, sizeof (uint8_t *));
    s->paths = calloc (n ? n : 1, sizeof (char *));
    s->n = n;
    return s->specs && s->reasons && s->artists && s->payloads && s->paths ? 0 : -1;
}

//  Add a note to the reply (bounded count).
static int s_reply_note (sp_msg_t *reply, size_t *dropped, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_reply_note (sp_msg_t *reply, size_t *dropped, const char *fmt, ...)
{
    if (reply->notes_count >= S_MAX_NOTES) {
        (*dropped)++;
        return 0;
    }
    char tmp[2048], buf[SP_MSG_MAX_TEXT + 1];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (tmp, sizeof tmp, fmt, ap);
    va_end (ap);
    sp_playlist_cut_utf8 (buf, sizeof buf, tmp);
    return sp_msg_strv_add (&reply->notes, &reply->notes_count, buf) == SP_MSG_OK ? 0 : -1;
}

//  Why entry i is not queued (reason stays "" when it is): unusable, a
//  duplicate, delivered before (the songs index; its file must still
//  exist) or already in the library. *path is the file that reason names,
//  borrowed from *song or the library (NULL for none). Returns 0, -1 on out
//  of memory, -2 when Redis failed (songs index).
static int
s_skip_reason (sp_analyzer_t *self, sp_store_t *store, s_seen_t *seen, const sp_library_t *lib,
               size_t i, const sp_playlist_entry_t *e, char *reason, size_t size, const char **path,
               sp_songs_entry_t *song)
{
    const sp_track_t *t = &e->track;
    if (e->unusable)
        snprintf (reason, size, "%s", e->unusable);
    if (!reason[0]) {
        char *key = s_entry_key (t);
        if (key) {
            long first = s_seen_check (seen, key, i);
            if (first == -2)
                return -1;
            if (first >= 0)
                snprintf (reason, size, "duplicate of position %ld", first + 1);
        }
    }
    if (!reason[0] && t->spotify_id && *t->spotify_id) {
        int rc = sp_songs_get (store, t->spotify_id, song);
        if (rc == SP_STORE_EIO)
            return -2;
        if (rc == SP_STORE_OK) {
            if (access (song->path, F_OK) == 0) {
                snprintf (reason, size, "already downloaded by job %s (%s)", song->job, song->path);
                *path = song->path;
            } else
                sp_log_info ("event=song_file_gone spotify_id=%s path=%s", sp_log_q (t->spotify_id),
                             sp_log_q (song->path));
        }
    }
    if (!reason[0] && lib && t->title && t->artists_count > 0) {
        sp_library_match_t m;
        int mr = sp_library_match (lib, t->title, (const char *const *) t->artists,
                                   t->artists_count, t->has_duration_ms ? t->duration_ms : 0,
                                   self->cfg->match_threshold, &m);
        if (mr == 1) {
            snprintf (reason, size, "in library: %s - %s (%s), confidence %.2f",
                      m.artist ? m.artist : "?", m.title, m.path ? m.path : "no file",
                      m.confidence);
            *path = m.path;
        }
    }
    return 0;
}

//  Mark spec i skipped for reason (copied into sp; path may be NULL) and
//  say so in the reply. Returns 0 or -1 on out of memory.
static int
s_mark_skipped (s_specs_t *sp, size_t i, const char *reason, const char *path, const char *artists,
                const sp_track_t *t, uint64_t *skipped, sp_msg_t *reply, size_t *dropped)
{
    sp_store_track_spec_t *spec = &sp->specs[i];
    sp->reasons[i] = strdup (reason);
    sp->paths[i] = path ? strdup (path) : NULL;
    if (!sp->reasons[i] || (path && !sp->paths[i]))
        return -1;
    spec->skipped = true;
    spec->reason = sp->reasons[i];
    spec->path = sp->paths[i];
    (*skipped)++;
    return s_reply_note (reply, dropped, "#%zu %s - %s: %s", i + 1, artists[0] ? artists : "?",
                         t->title ? t->title : "?", reason);
}

//  Encode the search payload of a queued entry into spec i. Returns 0, 1
//  when the schema refuses the track (why says why), -1 on out of memory.
static int
s_queue_payload (s_specs_t *sp, size_t i, const sp_track_t *t, char *why, size_t why_size)
{
    static char empty[] = "";
    sp_payload_t p;
    memset (&p, 0, sizeof p);
    p.job = empty;
    p.track_key = empty;
    p.track = *t; /* borrowed, not freed */
    uint8_t *data = NULL;
    size_t size = 0;
    if (sp_payload_encode (&p, &data, &size, why, why_size) != SP_MSG_OK)
        return 1;
    sp->payloads[i] = data;
    sp->specs[i].payload = data;
    sp->specs[i].payload_len = size;
    return 0;
}

//  Decide entry i and fill its spec. Returns 0, -1 on out of memory, -2
//  when Redis failed (songs index).
static int
s_decide_one (sp_analyzer_t *self, sp_store_t *store, s_seen_t *seen, sp_playlist_t *pl,
              const sp_library_t *lib, size_t i, s_specs_t *sp, uint64_t *skipped, sp_msg_t *reply,
              size_t *dropped)
{
    sp_playlist_entry_t *e = &pl->entries[i];
    sp_track_t *t = &e->track;
    sp_store_track_spec_t *spec = &sp->specs[i];
    t->position = i;
    char artists[512];
    s_artists_line (t, artists, sizeof artists);
    char reason[S_REASON_MAX];
    reason[0] = '\0';
    const char *path = NULL;
    sp_songs_entry_t song = {0};
    int rc = s_skip_reason (self, store, seen, lib, i, e, reason, sizeof reason, &path, &song);
    if (rc != 0) {
        sp_songs_entry_clear (&song);
        return rc;
    }

    char *aj = s_artists_json (t);
    if (!aj) {
        sp_songs_entry_clear (&song);
        return -1;
    }
    sp->artists[i] = aj;
    spec->spotify_id = t->spotify_id ? t->spotify_id : "";
    spec->title = t->title ? t->title : "";
    spec->artists = aj;
    if (reason[0]) {
        char cut[S_REASON_MAX];
        sp_playlist_cut_utf8 (cut, sizeof cut, reason);
        rc = s_mark_skipped (sp, i, cut, path, artists, t, skipped, reply, dropped);
        sp_songs_entry_clear (&song);
        return rc;
    }
    sp_songs_entry_clear (&song);
    //  queued: the search payload
    char why[256];
    rc = s_queue_payload (sp, i, t, why, sizeof why);
    if (rc != 1)
        return rc;
    //  a track the schema refuses (e.g. too many artists): skip it, say why
    sp_log_warn ("event=payload_refused position=%zu reason=%s", i, sp_log_q (why));
    char r2[S_REASON_MAX];
    snprintf (r2, sizeof r2, "cannot be queued: %s", why);
    return s_mark_skipped (sp, i, r2, NULL, artists, t, skipped, reply, dropped);
}

//  Decide every entry and fill specs. Returns 0, -1 on out of memory,
//  -2 when Redis failed (songs index).
static int
s_decide (sp_analyzer_t *self, sp_store_t *store, sp_playlist_t *pl, const sp_library_t *lib,
          s_specs_t *sp, uint64_t *skipped, sp_msg_t *reply, size_t *dropped)
{
    s_seen_t seen;
    int ret = -1;
    if (s_seen_init (&seen, pl->count) != 0)
        goto done;
    for (size_t i = 0; i < pl->count; i++) {
        ret = s_decide_one (self, store, &seen, pl, lib, i, sp, skipped, reply, dropped);
        if (ret != 0)
            goto done;
    }
    ret = 0;
done:
    s_seen_free (&seen);
    return ret;
}

//  The playlist a submit request names (parsed from its text, or fetched
//  from Spotify), every track carrying its name. Returns it (caller owns
//  it), or NULL with *ret the value sp_analyzer_submit returns (an error
//  reply written, or -1 out of memory).
static sp_playlist_t *
s_fetch_playlist (sp_analyzer_t *self, sp_store_t *store, const sp_msg_t *request,
                  const sp_source_ref_t *src, sp_msg_t *reply, int *ret)
{
    sp_playlist_t *pl = NULL;
    char err[1024];
    if (src->kind == SP_SOURCE_TEXT) {
        if (!request->content) {
            *ret =
                s_error (reply, "bad_request",
                         "a text source needs the list itself: soulpipe submit FILE.txt sends it");
            return NULL;
        }
        if (sp_textlist_parse (request->content, request->name, &pl, err, sizeof err) != 0) {
            *ret = s_error (reply, "bad_source", err);
            return NULL;
        }
    } else {
        sp_spotify_err_t serr;
        memset (&serr, 0, sizeof serr);
        if (sp_spotify_fetch (self->spotify, store, src, &pl, &serr) != 0) {
            *ret = s_error (reply, serr.code, serr.message);
            return NULL;
        }
        if (request->name && *request->name) {
            char *nm = strdup (request->name);
            if (!nm)
                goto oom;
            free (pl->name);
            pl->name = nm;
        }
    }
    //  every track carries the playlist name
    for (size_t i = 0; i < pl->count; i++) {
        sp_track_t *t = &pl->entries[i].track;
        if (!t->playlist || strcmp (t->playlist, pl->name) != 0) {
            char *nm = strdup (pl->name);
            if (!nm)
                goto oom;
            free (t->playlist);
            t->playlist = nm;
        }
    }
    return pl;
oom:
    sp_playlist_destroy (&pl);
    *ret = -1;
    return NULL;
}

//  Fill the submit_ok reply for a created job and log it. Returns 0, -1 on
//  out of memory.
static int
s_reply_submitted (sp_analyzer_t *self, const sp_store_job_spec_t *job, const char *job_id,
                   const sp_playlist_t *pl, const s_libref_t *ref, const char *note,
                   uint64_t skipped, int64_t t0, sp_msg_t *reply)
{
    reply->type = SP_MSG_SUBMIT_OK;
    reply->total = pl->count;
    reply->skipped = skipped;
    reply->queued = pl->count - skipped;
    reply->library_checked = ref != NULL;
    if (sp_msg_strset (&reply->job, job_id) != SP_MSG_OK ||
        sp_msg_strset (&reply->name, pl->name) != SP_MSG_OK ||
        (!ref && sp_msg_strset (&reply->library_note, note) != SP_MSG_OK))
        return -1;
    sp_log_info ("event=submitted job=%s source=%s name=%s total=%zu skipped=%llu queued=%llu "
                 "library_checked=%s ms=%lld",
                 job_id, sp_log_q (job->source), sp_log_q (pl->name), pl->count,
                 (unsigned long long) skipped, (unsigned long long) (pl->count - skipped),
                 ref ? "true" : "false", (long long) (sp_clock_mono_ms () - t0));
    if (!ref)
        sp_events_notice (self->events, job_id, NULL, note);
    return 0;
}

int
sp_analyzer_submit (sp_analyzer_t *self, sp_store_t *store, const sp_msg_t *request,
                    sp_msg_t *reply)
{
    if (!self || !store || !request || !reply)
        return reply ? s_error (reply, "internal", "analyzer called without state") : -1;
    if (request->type != SP_MSG_SUBMIT || !request->source)
        return s_error (reply, "bad_request", "expected a submit request with a source");

    int64_t t0 = sp_clock_mono_ms ();
    sp_source_ref_t src;
    char err[1024];
    if (sp_source_parse (request->source, &src, err, sizeof err) != 0)
        return s_error (reply, "bad_source", err);

    int ret = 0;
    sp_playlist_t *pl = s_fetch_playlist (self, store, request, &src, reply, &ret);
    if (!pl)
        return ret;

    s_libref_t *ref = NULL;
    s_specs_t specs;
    memset (&specs, 0, sizeof specs);
    sp_msg_clear (reply);
    size_t dropped = 0;
    for (size_t i = 0; i < pl->notes_count; i++)
        if (s_reply_note (reply, &dropped, "%s", pl->notes[i]) != 0)
            goto oom;
    if (pl->count == 0) {
        char msg[2048];
        snprintf (msg, sizeof msg, "\"%s\" has no tracks to fetch%s%s", pl->name,
                  pl->notes_count ? ": " : "", pl->notes_count ? pl->notes[0] : "");
        ret = s_error (reply, "empty_list", msg);
        goto done;
    }

    char note[SP_MSG_MAX_TEXT];
    note[0] = '\0';
    ref = s_library_acquire (self, note, sizeof note);
    if (s_specs_init (&specs, pl->count) != 0)
        goto oom;
    uint64_t skipped = 0;
    int rc = s_decide (self, store, pl, ref ? ref->lib : NULL, &specs, &skipped, reply, &dropped);
    if (rc == -2) {
        ret = s_error (reply, "store",
                       "Redis is unreachable: the job was not created; try again "
                       "when Redis is back");
        goto done;
    }
    if (rc != 0)
        goto oom;
    if (dropped && s_reply_note (reply, &dropped, "... and %zu more", dropped) != 0)
        goto oom;

    sp_store_job_spec_t job = {
        .source = src.kind == SP_SOURCE_TEXT ? "text" : src.uri,
        .name = pl->name,
        .library_checked = ref != NULL,
        .library_note = ref ? NULL : note,
    };
    char job_id[SP_STORE_ID_MAX];
    rc = sp_store_job_create (store, &job, specs.specs, pl->count, job_id);
    if (rc != SP_STORE_OK) {
        sp_log_error ("event=job_create_failed rc=%d reason=%s", rc, sp_store_strerror (rc));
        ret = s_error (reply, "store",
                       rc == SP_STORE_EIO ? "Redis is unreachable: the job was not created; try "
                                            "again when Redis is back"
                                          : "the job could not be created");
        goto done;
    }
    if (s_reply_submitted (self, &job, job_id, pl, ref, note, skipped, t0, reply) != 0)
        goto oom;
    goto done;
oom:
    ret = s_error (reply, "internal", "out of memory");
done:
    s_specs_free (&specs);
    s_libref_release (self, &ref);
    sp_playlist_destroy (&pl);
    return ret;
}

// ------------------------------------------------------------ login

int
sp_analyzer_login (sp_analyzer_t *self, sp_store_t *store, const sp_msg_t *request, sp_msg_t *reply)
{
    if (!self || !store || !request || !reply)
        return reply ? s_error (reply, "internal", "analyzer called without state") : -1;
    if (request->type != SP_MSG_LOGIN || !request->provider ||
        strcmp (request->provider, "spotify") != 0)
        return s_error (reply, "bad_request", "only `soulpipe login spotify` is supported");
    sp_spotify_err_t err;
    memset (&err, 0, sizeof err);
    if (sp_spotify_login (self->spotify, store, request->access_token, request->refresh_token,
                          request->expires_in, request->scope, &err) != 0)
        return s_error (reply, err.code, err.message);
    sp_msg_clear (reply);
    reply->type = SP_MSG_OK_REPLY;
    if (sp_msg_strset (&reply->message,
                       "Spotify login stored: playlists you own or "
                       "collaborate on and your Liked Songs can now be submitted") != SP_MSG_OK)
        return s_error (reply, "internal", "out of memory");
    return 0;
}
