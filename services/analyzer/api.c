/*  api.c: status, list, cancel and retry requests of the client API
    (see api.h). Handles: status, list, cancel, retry. */
#include "api.h"

#include "soulpipe/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sp_api_error (sp_msg_t *reply, const char *code, const char *fmt, ...)
{
    char message[SP_MSG_MAX_STR];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    sp_msg_clear (reply);
    reply->type = SP_MSG_ERROR;
    sp_msg_strset (&reply->code, code);
    sp_msg_strset (&reply->message, message);
    return -1;
}

static int
s_store_error (sp_store_t *store, sp_msg_t *reply, int rc, const char *job)
{
    if (rc == SP_STORE_ENOENT)
        return sp_api_error (reply, "not_found", "no job %s (see `soulpipe list`)", job);
    if (rc == SP_STORE_EINVAL)
        return sp_api_error (reply, "bad_request", "\"%s\" is not a job id (see `soulpipe list`)",
                             job);
    if (rc == SP_STORE_EIO && sp_store_not_responding (store))
        return sp_api_error (reply, "unavailable",
                             "Redis is not responding (it took the connection but did not "
                             "answer in time); try again when it is back");
    if (rc == SP_STORE_EIO)
        return sp_api_error (reply, "unavailable",
                             "Redis is unreachable; try again when it is back");
    return sp_api_error (reply, "internal", "the job store answered: %s", sp_store_strerror (rc));
}

static json_t *
s_counts (int64_t total, int64_t skipped, int64_t queued, int64_t done, int64_t failed,
          int64_t cancelled)
{
    return json_pack ("{sI sI sI sI sI sI}", "total", (json_int_t) total, "skipped",
                      (json_int_t) skipped, "queued", (json_int_t) queued, "done",
                      (json_int_t) done, "failed", (json_int_t) failed, "cancelled",
                      (json_int_t) cancelled);
}

/*  Track artists are stored as a JSON array text; anything else is shown as
    a single name. */
static json_t *
s_artists (const char *text)
{
    if (text && *text == '[') {
        json_t *arr = json_loads (text, 0, NULL);
        if (json_is_array (arr))
            return arr;
        json_decref (arr);
    }
    json_t *arr = json_array ();
    if (text && *text)
        json_array_append_new (arr, json_string (text));
    return arr;
}

static json_t *
s_str_or_null (const char *s)
{
    return s && *s ? json_string (s) : json_null ();
}

static int
s_add_track (const sp_store_track_t *t, void *arg)
{
    json_t *tracks = arg;
    json_t *source = json_null ();
    if (t->source_user && *t->source_user)
        source = json_pack ("{s:s s:s}", "username", t->source_user, "filename",
                            t->source_file ? t->source_file : "");
    json_t *o =
        json_pack ("{s:o s:s s:i s:s s:o s:s s:o s:i s:o s:o}", "id", s_str_or_null (t->spotify_id),
                   "key", t->key, "position", t->position, "title", t->title ? t->title : "",
                   "artists", s_artists (t->artists), "state", t->state ? t->state : "", "reason",
                   s_str_or_null (t->reason), "attempts", t->attempts, "source",
                   source ? source : json_null (), "path", s_str_or_null (t->path));
    //  the downloader's audio check of the file it kept (audio_verify.h)
    if (o && t->audio_verdict && *t->audio_verdict) {
        long long cut = t->audio_cutoff_hz ? strtoll (t->audio_cutoff_hz, NULL, 10) : 0;
        json_object_set_new (o, "audio",
                             json_pack ("{s:s s:I s:s}", "verdict", t->audio_verdict, "cutoff_hz",
                                        (json_int_t) cut, "note",
                                        t->audio_note ? t->audio_note : ""));
    }
    if (o)
        json_array_append_new (tracks, o);
    return 0;
}

json_t *
sp_api_status_json (sp_store_t *store, const char *job, int *rc_out)
{
    sp_store_job_t *j = NULL;
    int rc = sp_store_job_get (store, job, &j);
    if (rc != SP_STORE_OK) {
        *rc_out = rc;
        return NULL;
    }
    json_t *tracks = json_array ();
    rc = sp_store_job_tracks (store, job, s_add_track, tracks);
    if (rc != SP_STORE_OK) {
        json_decref (tracks);
        sp_store_job_destroy (&j);
        *rc_out = rc;
        return NULL;
    }
    json_t *doc = json_pack (
        "{s:s s:s s:s s:s s:o s:b s:o s:I s:I s:o}", "job", j->id, "name", j->name ? j->name : "",
        "source", j->source ? j->source : "", "state", j->state ? j->state : "", "counts",
        s_counts (j->total, j->skipped, j->queued, j->done, j->failed, j->cancelled),
        "library_checked", j->library_checked, "library_note", s_str_or_null (j->library_note),
        "created", (json_int_t) j->created_ms, "updated", (json_int_t) j->updated_ms, "tracks",
        tracks);
    sp_store_job_destroy (&j);
    *rc_out = doc ? SP_STORE_OK : SP_STORE_ENOMEM;
    return doc;
}

int
sp_api_status (sp_store_t *store, const char *job, sp_msg_t *reply)
{
    int rc;
    json_t *doc = sp_api_status_json (store, job, &rc);
    if (!doc)
        return s_store_error (store, reply, rc, job);
    char *text = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);
    if (!text)
        return sp_api_error (reply, "internal", "out of memory");
    sp_msg_clear (reply);
    reply->type = SP_MSG_STATUS_OK;
    sp_msg_strset (&reply->job, job);
    reply->json = text;
    return 0;
}

static int
s_add_job (const sp_store_job_t *j, void *arg)
{
    json_t *jobs = arg;
    json_t *o =
        json_pack ("{s:s s:s s:s s:o s:I}", "job", j->id, "name", j->name ? j->name : "", "state",
                   j->state ? j->state : "", "counts",
                   s_counts (j->total, j->skipped, j->queued, j->done, j->failed, j->cancelled),
                   "created", (json_int_t) j->created_ms);
    if (o)
        json_array_append_new (jobs, o);
    return 0;
}

int
sp_api_list (sp_store_t *store, sp_msg_t *reply)
{
    json_t *jobs = json_array ();
    int rc = sp_store_list_jobs (store, 0, 1000, s_add_job, jobs);
    if (rc != SP_STORE_OK) {
        json_decref (jobs);
        return s_store_error (store, reply, rc, "");
    }
    json_t *doc = json_pack ("{s:o}", "jobs", jobs);
    char *text = doc ? json_dumps (doc, JSON_COMPACT) : NULL;
    json_decref (doc);
    if (!text)
        return sp_api_error (reply, "internal", "out of memory");
    sp_msg_clear (reply);
    reply->type = SP_MSG_LIST_OK;
    reply->json = text;
    return 0;
}

static int
s_ok (sp_msg_t *reply, int count, const char *verb, const char *what, const char *job)
{
    char message[256];
    snprintf (message, sizeof message, "%s %d %s track(s) of %s", verb, count, what, job);
    sp_msg_clear (reply);
    reply->type = SP_MSG_OK_REPLY;
    sp_msg_strset (&reply->message, message);
    reply->has_count = true;
    reply->count = (uint64_t) (count > 0 ? count : 0);
    return 0;
}

int
sp_api_cancel (sp_store_t *store, const char *job, sp_msg_t *reply)
{
    int count = 0;
    int rc = sp_store_cancel_job (store, job, &count);
    if (rc != SP_STORE_OK)
        return s_store_error (store, reply, rc, job);
    sp_log_info ("event=cancel job=%s tracks=%d", job, count);
    return s_ok (reply, count, "cancelled", "unfinished", job);
}

int
sp_api_retry (sp_store_t *store, const char *job, sp_msg_t *reply)
{
    int count = 0;
    int rc = sp_store_retry_job (store, job, &count);
    if (rc != SP_STORE_OK)
        return s_store_error (store, reply, rc, job);
    sp_log_info ("event=retry job=%s tracks=%d", job, count);
    return s_ok (reply, count, "re-queued", "failed", job);
}
