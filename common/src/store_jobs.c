/*  store_jobs.c: the store's jobs and track records (see store.h, "jobs"):
    creating a job in atomic chunks, reading jobs and their tracks in
    pages, cancel and retry, the small track fields workers set, and the
    counter check. The connection, retries and script calls are store.c's.
*/
#include "store_int.h"

#include "soulpipe/clock.h"
#include "soulpipe/log.h"
#include "soulpipe/rand.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CHUNK_TRACKS 256 /* tracks per job_add script call */
#define S_PAGE         256 /* tracks per page when iterating */

int
sp_store_job_create (sp_store_t *self, const sp_store_job_spec_t *spec,
                     const sp_store_track_spec_t *tracks, size_t n,
                     char job_id_out[SP_STORE_ID_MAX])
{
    if (!self || !spec || (n && !tracks) || !job_id_out)
        return SP_STORE_EINVAL;
    job_id_out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!tracks[i].skipped && !tracks[i].payload && tracks[i].payload_len)
            return SP_STORE_EINVAL;

    char t36[16], r36[16], id[SP_STORE_ID_MAX];
    sp_store__base36 ((uint64_t) sp_clock_wall_ms (), t36, sizeof t36);
    sp_store__base36 (sp_rand_u64 (), r36, sizeof r36);
    snprintf (id, sizeof id, "j-%s-%s", t36, r36);

    sp_store__args_t a;
    sp_store__args_init (&a, 5);
    sp_store__arg (&a, id);
    sp_store__arg (&a, spec->source);
    sp_store__arg (&a, spec->name);
    sp_store__arg (&a, spec->library_checked ? "1" : "0");
    sp_store__arg (&a, spec->library_note);
    int rc = sp_store__run (self, SP_STORE__LUA_JOB_INIT, &a, NULL);
    if (rc != SP_STORE_OK)
        return rc;

    for (size_t first = 0; first < n; first += S_CHUNK_TRACKS) {
        size_t cnt = n - first < S_CHUNK_TRACKS ? n - first : S_CHUNK_TRACKS;
        sp_store__args_init (&a, 3 + 7 * (int) cnt);
        sp_store__arg (&a, id);
        sp_store__argi (&a, (int64_t) first);
        sp_store__argi (&a, (int64_t) cnt);
        for (size_t i = first; i < first + cnt; i++) {
            const sp_store_track_spec_t *t = &tracks[i];
            sp_store__arg (&a, t->spotify_id);
            sp_store__arg (&a, t->title);
            sp_store__arg (&a, t->artists);
            sp_store__arg (&a, t->skipped ? "1" : "0");
            sp_store__arg (&a, t->reason);
            sp_store__arg (&a, t->path);
            if (t->skipped)
                sp_store__arg (&a, "");
            else
                sp_store__argb (&a, t->payload, t->payload_len);
        }
        rc = sp_store__run (self, SP_STORE__LUA_JOB_ADD, &a, NULL);
        if (rc != SP_STORE_OK) {
            sp_log_error ("event=job_create_failed job=%s at=%zu rc=%d", id, first, rc);
            return rc;
        }
    }
    sp_store__args_init (&a, 1);
    sp_store__arg (&a, id);
    rc = sp_store__run (self, SP_STORE__LUA_JOB_SEAL, &a, NULL);
    if (rc != SP_STORE_OK)
        return rc;
    snprintf (job_id_out, SP_STORE_ID_MAX, "%s", id);
    sp_log_debug ("event=job_created job=%s tracks=%zu", id, n);
    return SP_STORE_OK;
}

/*  Fill a job struct from a flat HGETALL array. */
static sp_store_job_t *
s_job_from_hash (const char *id, const redisReply *h)
{
    sp_store_job_t *j = calloc (1, sizeof *j);
    if (!j)
        return NULL;
    j->id = strdup (id);
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        char b[32];
        size_t len;
        const char *f = sp_store__elem_str (h, i, NULL, b);
        const char *v = sp_store__elem_str (h, i + 1, &len, b);
        if (strcmp (f, "source") == 0)
            j->source = sp_store__strndup (v, len);
        else if (strcmp (f, "name") == 0)
            j->name = sp_store__strndup (v, len);
        else if (strcmp (f, "state") == 0)
            j->state = sp_store__strndup (v, len);
        else if (strcmp (f, "library_note") == 0)
            j->library_note = sp_store__strndup (v, len);
        else if (strcmp (f, "library_checked") == 0)
            j->library_checked = strcmp (v, "1") == 0;
        else if (strcmp (f, "sealed") == 0)
            j->sealed = strcmp (v, "1") == 0;
        else if (strcmp (f, "total") == 0)
            j->total = sp_store__parse_i64 (v);
        else if (strcmp (f, "skipped") == 0)
            j->skipped = sp_store__parse_i64 (v);
        else if (strcmp (f, "queued") == 0)
            j->queued = sp_store__parse_i64 (v);
        else if (strcmp (f, "done") == 0)
            j->done = sp_store__parse_i64 (v);
        else if (strcmp (f, "failed") == 0)
            j->failed = sp_store__parse_i64 (v);
        else if (strcmp (f, "cancelled") == 0)
            j->cancelled = sp_store__parse_i64 (v);
        else if (strcmp (f, "created") == 0)
            j->created_ms = sp_store__parse_i64 (v);
        else if (strcmp (f, "updated") == 0)
            j->updated_ms = sp_store__parse_i64 (v);
    }
    /* never hand out NULL strings */
    char **strs[] = {&j->id, &j->source, &j->name, &j->state, &j->library_note};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!*strs[i])
            *strs[i] = strdup ("");
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!*strs[i]) {
            sp_store_job_destroy (&j);
            return NULL;
        }
    return j;
}

void
sp_store_job_destroy (sp_store_job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_store_job_t *j = *self_p;
    free (j->id);
    free (j->source);
    free (j->name);
    free (j->state);
    free (j->library_note);
    free (j);
    *self_p = NULL;
}

int
sp_store_job_get (sp_store_t *self, const char *job_id, sp_store_job_t **job_p)
{
    if (!self || !job_p || !sp_store__valid_id (job_id))
        return SP_STORE_EINVAL;
    *job_p = NULL;
    char key[SP_STORE__ID_LEN_MAX + 32];
    snprintf (key, sizeof key, "soulpipe:job:%s", job_id);
    const char *argv[2] = {"HGETALL", key};
    redisReply *r = NULL;
    int rc = sp_store__exec (self, 2, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    if (r->elements == 0) {
        freeReplyObject (r);
        return SP_STORE_ENOENT;
    }
    *job_p = s_job_from_hash (job_id, r);
    freeReplyObject (r);
    return *job_p ? SP_STORE_OK : SP_STORE_ENOMEM;
}

int
sp_store_job_tracks (sp_store_t *self, const char *job_id, sp_store_track_fn *fn, void *arg)
{
    if (!self || !fn || !sp_store__valid_id (job_id))
        return SP_STORE_EINVAL;
    for (int64_t start = 0;; start += S_PAGE) {
        sp_store__args_t a;
        sp_store__args_init (&a, 3);
        sp_store__arg (&a, job_id);
        sp_store__argi (&a, start);
        sp_store__argi (&a, S_PAGE);
        redisReply *r = NULL;
        int rc = sp_store__run (self, SP_STORE__LUA_TRACKS_PAGE, &a, &r);
        if (rc != SP_STORE_OK)
            return rc;
        const redisReply *d = r->element[1];
        size_t got = d->type == REDIS_REPLY_ARRAY ? d->elements / 2 : 0;
        for (size_t k = 0; k < got; k++) {
            const redisReply *h = d->element[2 * k + 1];
            char kb[32];
            sp_store_track_t t = {.key = sp_store__elem_str (d, 2 * k, NULL, kb)};
            const char **strs[] = {
                &t.job_id,      &t.spotify_id,    &t.title,           &t.artists,     &t.state,
                &t.stage,       &t.reason,        &t.source_user,     &t.source_file, &t.path,
                &t.transfer_id, &t.audio_verdict, &t.audio_cutoff_hz, &t.audio_note};
            static const char *const names[] = {
                "job",         "spotify_id",    "title",           "artists",     "state",
                "stage",       "reason",        "source_user",     "source_file", "path",
                "transfer_id", "audio_verdict", "audio_cutoff_hz", "audio_note"};
            for (size_t s = 0; s < sizeof strs / sizeof strs[0]; s++)
                *strs[s] = "";
            t.payload = "";
            for (size_t i = 0; h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2) {
                char b1[32], b2[32];
                size_t len;
                const char *f = sp_store__elem_str (h, i, NULL, b1);
                const char *v = sp_store__elem_str (h, i + 1, &len, b2);
                if (strcmp (f, "payload") == 0) {
                    t.payload = v;
                    t.payload_len = len;
                } else if (strcmp (f, "position") == 0)
                    t.position = (int) sp_store__parse_i64 (v);
                else if (strcmp (f, "attempts") == 0)
                    t.attempts = (int) sp_store__parse_i64 (v);
                else if (strcmp (f, "updated") == 0)
                    t.updated_ms = sp_store__parse_i64 (v);
                else {
                    for (size_t s = 0; s < sizeof names / sizeof names[0]; s++)
                        if (strcmp (f, names[s]) == 0) {
                            /* hash values are strings: they stay valid */
                            *strs[s] = h->element[i + 1]->type == REDIS_REPLY_STRING
                                           ? h->element[i + 1]->str
                                           : "";
                            break;
                        }
                }
            }
            if (fn (&t, arg) != 0) {
                freeReplyObject (r);
                return SP_STORE_OK;
            }
        }
        freeReplyObject (r);
        if (got < S_PAGE)
            return SP_STORE_OK;
    }
}

int
sp_store_list_jobs (sp_store_t *self, size_t offset, size_t limit, sp_store_job_fn *fn, void *arg)
{
    if (!self || !fn)
        return SP_STORE_EINVAL;
    if (limit == 0)
        return SP_STORE_OK;
    sp_store__args_t a;
    sp_store__args_init (&a, 2);
    sp_store__argi (&a, (int64_t) offset);
    sp_store__argi (&a, (int64_t) (limit > 100000 ? 100000 : limit));
    redisReply *r = NULL;
    int rc = sp_store__run (self, SP_STORE__LUA_JOBS_PAGE, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    const redisReply *d = r->element[1];
    for (size_t k = 0; d->type == REDIS_REPLY_ARRAY && k + 1 < d->elements; k += 2) {
        char b[32];
        sp_store_job_t *j = s_job_from_hash (sp_store__elem_str (d, k, NULL, b), d->element[k + 1]);
        if (!j) {
            rc = SP_STORE_ENOMEM;
            break;
        }
        int stop = fn (j, arg);
        sp_store_job_destroy (&j);
        if (stop)
            break;
    }
    freeReplyObject (r);
    return rc;
}

static int
s_job_script (sp_store_t *self, int script, const char *job_id, int *count)
{
    if (count)
        *count = 0;
    if (!self || !sp_store__valid_id (job_id))
        return SP_STORE_EINVAL;
    sp_store__args_t a;
    sp_store__args_init (&a, 1);
    sp_store__arg (&a, job_id);
    redisReply *r = NULL;
    int rc = sp_store__run (self, script, &a, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (count)
        *count = (int) sp_store__elem_i64 (r->element[1], 0);
    freeReplyObject (r);
    return SP_STORE_OK;
}

int
sp_store_cancel_job (sp_store_t *self, const char *job_id, int *count)
{
    int rc = s_job_script (self, SP_STORE__LUA_CANCEL, job_id, count);
    if (rc == SP_STORE_OK)
        sp_log_info ("event=job_cancelled job=%s tracks=%d", job_id, count ? *count : -1);
    return rc;
}

int
sp_store_retry_job (sp_store_t *self, const char *job_id, int *count)
{
    int rc = s_job_script (self, SP_STORE__LUA_RETRY, job_id, count);
    if (rc == SP_STORE_OK)
        sp_log_info ("event=job_retried job=%s tracks=%d", job_id, count ? *count : -1);
    return rc;
}

int
sp_store_track_set_fields (sp_store_t *self, const char *track_key, const char *const *fields,
                           const char *const *values, size_t n)
{
    static const char *const allowed[] = {
        "transfer_id", "source_user",   "source_file",     "path",
        "reason",      "audio_verdict", "audio_cutoff_hz", "audio_note"};
    const size_t n_allowed = sizeof allowed / sizeof allowed[0];
    if (!self || !sp_store__valid_id (track_key) || !fields || !values || n == 0 || n > n_allowed)
        return SP_STORE_EINVAL;
    for (size_t f = 0; f < n; f++) {
        bool ok = false;
        for (size_t i = 0; fields[f] && values[f] && i < n_allowed; i++)
            if (strcmp (fields[f], allowed[i]) == 0)
                ok = true;
        if (!ok)
            return SP_STORE_EINVAL;
    }
    sp_store__args_t a;
    sp_store__args_init (&a, 1 + 2 * (int) n);
    sp_store__arg (&a, track_key);
    for (size_t f = 0; f < n; f++) {
        sp_store__arg (&a, fields[f]);
        sp_store__arg (&a, values[f]);
    }
    return sp_store__run (self, SP_STORE__LUA_SET_FIELD, &a, NULL);
}

int
sp_store_track_get_fields (sp_store_t *self, const char *track_key, const char *const *fields,
                           size_t n, char **values)
{
    if (!values || n == 0 || n > 8)
        return SP_STORE_EINVAL;
    for (size_t i = 0; i < n; i++)
        values[i] = NULL;
    if (!self || !sp_store__valid_id (track_key) || !fields)
        return SP_STORE_EINVAL;
    char key[SP_STORE__ID_LEN_MAX + 32];
    snprintf (key, sizeof key, "soulpipe:track:%s", track_key);
    const char *argv[2 + 8] = {"HMGET", key};
    for (size_t i = 0; i < n; i++) {
        if (!fields[i])
            return SP_STORE_EINVAL;
        argv[2 + i] = fields[i];
    }
    redisReply *r = NULL;
    int rc = sp_store__exec (self, 2 + (int) n, argv, NULL, &r);
    if (rc != SP_STORE_OK)
        return rc;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        freeReplyObject (r);
        return SP_STORE_EPROTO;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len == 0)
            continue;
        values[i] = strndup (e->str, e->len);
        if (!values[i]) {
            for (size_t j = 0; j < i; j++) {
                free (values[j]);
                values[j] = NULL;
            }
            freeReplyObject (r);
            return SP_STORE_ENOMEM;
        }
    }
    freeReplyObject (r);
    return SP_STORE_OK;
}

int
sp_store_track_set_field (sp_store_t *self, const char *track_key, const char *field,
                          const char *value)
{
    return sp_store_track_set_fields (self, track_key, &field, &value, 1);
}

int
sp_store_check_counters (sp_store_t *self, const char *job_id, char *report, size_t n)
{
    if (report && n)
        report[0] = '\0';
    if (!self || !sp_store__valid_id (job_id))
        return SP_STORE_EINVAL;
    sp_store__args_t a;
    sp_store__args_init (&a, 1);
    sp_store__arg (&a, job_id);
    redisReply *r = NULL;
    int rc = sp_store__run (self, SP_STORE__LUA_CHECK, &a, &r);
    if (rc != SP_STORE_OK) {
        if (report && n)
            snprintf (report, n, "%s", sp_store_strerror (rc));
        return rc;
    }
    char b[32];
    bool ok = sp_store__elem_i64 (r->element[1], 0) == 1;
    if (report && n)
        snprintf (report, n, "%s", sp_store__elem_str (r->element[1], 1, NULL, b));
    freeReplyObject (r);
    return ok ? SP_STORE_OK : SP_STORE_EINCONSISTENT;
}
