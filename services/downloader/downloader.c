/*  downloader.c: the download stage (see downloader.h): setup, the run over
    a track's candidates (an earlier run's staged file or transfer first,
    then the candidates best first, one per user, skipping blocked peers;
    back to search or failed when none worked) and the worker handler. One
    attempt on a candidate is dl_attempt.c; file checks and staging are
    dl_files.c.

    Handles `task` messages of stage "download"; answers done(tag),
    done(search) or fail. */
#include "dl_int.h"
#include "slskd_transfer.h"

#include "soulpipe/clock.h"
#include "soulpipe/http.h"
#include "soulpipe/log.h"
#include "soulpipe/peers.h"
#include "soulpipe/staging.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DL_POLL_MS         500    //  transfer poll interval (ms)
#define DL_FILE_WAIT_S     45     //  wait for the whole file after Succeeded (s)
#define DL_MAX_ROUNDS      2      //  search rounds before a track fails
#define DL_HTTP_TIMEOUT_MS 15000  //  one slskd request (ms)

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
    out->file_wait_s = cfg->slskd_file_wait_s;
    out->lossy_source = cfg->lossy_source;
    out->allow_lossy = cfg->allow_lossy;
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
    if (self->cfg.file_wait_s <= 0)
        self->cfg.file_wait_s = DL_FILE_WAIT_S;
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

const char *
sp_dl__remote_file (const char *remote)
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

/* ---------------------------------------------------------------- track record */

//  What an earlier run recorded on the track.
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

void
sp_dl__record_set (sp_dl_t *self, const char *track_key, const char *id, const char *user,
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

void
sp_dl__tried (sp_dl_run_t *run, const char *user, const char *remote, const char *fmt, ...)
{
    if (run->n_tried >= SP_MSG_MAX_LIST)
        return;
    char what[512];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (what, sizeof what, fmt, ap);
    va_end (ap);
    snprintf (run->tried_now[run->n_tried++], DL_TRIED_MAX, "%.200s/%.280s: %.490s", user,
              sp_dl__remote_file (remote), what);
    sp_log_info ("event=candidate_failed user=%s file=%s outcome=%s", sp_log_q (user),
                 sp_log_q (remote), sp_log_q (what));
}

static void
s_user_failed (sp_dl_run_t *run, char *user)
{
    if (run->n_failed < SP_MSG_MAX_LIST && !s_strv_has (run->failed_users, run->n_failed, user))
        run->failed_users[run->n_failed++] = user;
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
s_reason_tried (const sp_payload_t *p, const sp_dl_run_t *run, const char *lead, char *reason,
                size_t n)
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

//  What an attempt means for the run: true when it decides the run (staged,
//  or slskd down / stopping: retry), with *result and reason set.
static bool
s_decided (const sp_dl_run_t *run, sp_dl_attempt_t a, sp_dl_result_t *result, char *reason,
           size_t reason_size)
{
    if (a == SP_DL_A_STAGED) {
        *result = SP_DL_TAG;
        return true;
    }
    if (a == SP_DL_A_DOWN || a == SP_DL_A_STOPPING) {
        snprintf (reason, reason_size, a == SP_DL_A_DOWN ? "slskd unreachable: %s" : "%s",
                  a == SP_DL_A_DOWN ? run->down : "the downloader is stopping");
        *result = SP_DL_RETRY;
        return true;
    }
    return false;
}

//  (2) Follow the transfer an earlier run recorded, when slskd still has it.
//  The candidate it was for goes into *resumed (synth when it is no longer
//  among the candidates). Returns true when that decides the run.
static bool
s_resume (sp_dl_run_t *run, const s_record_t *rec, sp_candidate_t *synth, sp_candidate_t **resumed,
          sp_dl_result_t *result, char *reason, size_t reason_size)
{
    sp_dl_t *self = run->self;
    sp_payload_t *p = run->payload;
    *resumed = NULL;
    if (!rec->transfer_id || !rec->source_user || !rec->source_file)
        return false;
    sp_xfer_t x;
    char err[512];
    int rc = sp_xfer_get (self->http, rec->source_user, rec->transfer_id, &x, err, sizeof err);
    if (rc == SP_XFER_OK && x.removed)
        rc = SP_XFER_ERR_NOT_FOUND;  //  finished and handed on earlier: start over
    if (rc == SP_XFER_ERR_DOWN || rc == SP_XFER_ERR_AUTH) {
        snprintf (reason, reason_size, "slskd unreachable: %s", err);
        *result = SP_DL_RETRY;
        return true;
    }
    if (rc != SP_XFER_OK) {
        sp_dl__record_set (self, p->track_key, "", NULL, NULL);
        return false;
    }
    for (size_t i = 0; i < p->candidates_count && !*resumed; i++)
        if (strcmp (p->candidates[i].username, rec->source_user) == 0 &&
            strcmp (p->candidates[i].filename, rec->source_file) == 0)
            *resumed = &p->candidates[i];
    if (!*resumed) {
        synth->username = rec->source_user;
        synth->filename = rec->source_file;
        synth->size = x.size > 0 ? (uint64_t) x.size : 0;
        *resumed = synth;
    }
    sp_dl_attempt_t a = sp_dl__attempt (run, *resumed, rec->transfer_id);
    if (s_decided (run, a, result, reason, reason_size))
        return true;
    s_user_failed (run, (*resumed)->username);
    return false;
}

//  Counts the candidate walk reports for the final reason and log line.
typedef struct {
    size_t blocked;   //  skipped: the peer is blocked after repeated failures
    size_t excluded;  //  skipped: the user is in excluded_users
} s_skipped_t;

//  (3) The candidates, best first, one per user (skip resumed). Returns true
//  when one decides the run.
static bool
s_walk (sp_dl_run_t *run, const sp_candidate_t *resumed, s_skipped_t *skipped,
        sp_dl_result_t *result, char *reason, size_t reason_size)
{
    sp_dl_t *self = run->self;
    sp_payload_t *p = run->payload;
    int64_t now_wall = sp_clock_wall_ms ();
    for (size_t i = 0; i < p->candidates_count; i++) {
        sp_candidate_t *c = &p->candidates[i];
        if (c == resumed || !c->username || !c->filename)
            continue;
        if (s_strv_has (p->excluded_users, p->excluded_users_count, c->username)) {
            skipped->excluded++;
            continue;
        }
        if (s_strv_has (run->failed_users, run->n_failed, c->username))
            continue;
        if (self->store) {
            sp_peer_t peer;
            if (sp_peers_get (self->store, c->username, &peer) == SP_STORE_OK &&
                sp_peers_blocked (&peer, now_wall)) {
                skipped->blocked++;
                sp_dl__tried (run, c->username, c->filename, "skipped (failed %lld times in a row)",
                              (long long) peer.streak);
                s_user_failed (run, c->username);
                continue;
            }
        }
        sp_dl_attempt_t a = sp_dl__attempt (run, c, NULL);
        if (s_decided (run, a, result, reason, reason_size))
            return true;
        s_user_failed (run, c->username);
    }
    return false;
}

//  (4) Every candidate failed: back to search with the failed users
//  excluded (first round), or failed for good.
static sp_dl_result_t
s_exhausted (sp_dl_run_t *run, const s_skipped_t *skipped, char *reason, size_t reason_size)
{
    sp_payload_t *p = run->payload;
    uint64_t rounds = p->has_search_rounds && p->search_rounds > 0 ? p->search_rounds : 1;
    if (run->n_tried == 0 && p->tried_count == 0)
        snprintf (reason, reason_size, "no usable candidate (%zu offered, %zu from excluded users)",
                  p->candidates_count, skipped->excluded);
    else
        s_reason_tried (p, run, "no candidate could be downloaded", reason, reason_size);
    if (rounds >= DL_MAX_ROUNDS)
        return SP_DL_FAILED;
    for (size_t i = 0; i < run->n_failed; i++)
        if (p->excluded_users_count < SP_MSG_MAX_LIST &&
            !s_strv_has (p->excluded_users, p->excluded_users_count, run->failed_users[i]))
            sp_msg_strv_add (&p->excluded_users, &p->excluded_users_count, run->failed_users[i]);
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
                 (unsigned long long) p->search_rounds, p->excluded_users_count, skipped->blocked);
    return SP_DL_SEARCH_AGAIN;
}

sp_dl_result_t
sp_dl_run (sp_dl_t *self, sp_payload_t *p, const sp_dl_ops_t *ops, char *reason, size_t reason_size)
{
    snprintf (reason, reason_size, "ok");
    //  the position names the staged file (soulpipe/staging.h)
    const char *pos = sp_staging_pos (p ? p->track_key : NULL);
    if (!self || !p || !p->job || !pos) {
        snprintf (reason, reason_size, "internal error: the download task has no track key");
        return SP_DL_FAILED;
    }
    sp_dl_run_t *run = calloc (1, sizeof *run);
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
    sp_candidate_t synth;
    memset (&synth, 0, sizeof synth);
    sp_candidate_t *resumed = NULL;
    s_skipped_t skipped = {0, 0};
    char *staged = NULL;

    //  no partial copy of an earlier run survives
    sp_dl_clean_work (self->cfg.staging_dir, p->job, pos);
    if (s_record_read (self, p->track_key, &rec) != 0) {
        snprintf (reason, reason_size, "Redis unreachable while reading the track record");
        result = SP_DL_RETRY;
    } else if (sp_dl_find_staged (self->cfg.staging_dir, p->job, pos, &staged) == 0) {
        //  (1) already staged by an earlier run
        sp_log_info ("event=already_staged path=%s", sp_log_q (staged));
        s_fill_from_record (self, p, &rec, staged);
        result = SP_DL_TAG;
    } else if (!s_resume (run, &rec, &synth, &resumed, &result, reason, reason_size) &&
               !s_walk (run, resumed, &skipped, &result, reason, reason_size))
        result = s_exhausted (run, &skipped, reason, reason_size);
    //  nothing better than the fake kept aside: file it, saying what it is
    if (result == SP_DL_FAILED && sp_dl__fallback_promote (run, reason, reason_size))
        result = SP_DL_TAG;
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
