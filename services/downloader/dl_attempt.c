/*  dl_attempt.c: one candidate of a track (see dl_int.h): enqueue the file
    in slskd, follow the transfer by polling (progress reports that keep the
    lease, give-up on a long remote queue, a stall or the whole-transfer
    limit), then verify and stage the finished file. Every outcome goes into
    the peer's record and the run's tried list. */
#include "dl_int.h"
#include "slskd_transfer.h"

#include "soulpipe/audio_verify.h"
#include "soulpipe/clock.h"
#include "soulpipe/log.h"
#include "soulpipe/match.h"
#include "soulpipe/path.h"
#include "soulpipe/peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DL_FILE_POLL_MS    200   //  poll interval while the finished file is moved (ms)
#define DL_POLL_MIN_MS     10    //  first poll interval of a new transfer (ms)
#define DL_PROGRESS_MS     1000  //  progress report interval (ms)
#define DL_QUEUE_PLACE_MAX 100   //  a remote queue longer than this is not worth waiting for

/* ---------------------------------------------------------------- task ops */

static void
s_progress (sp_dl_report_t *r, bool force, const char *state, int64_t bytes, int64_t size,
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
s_stopping (const sp_dl_report_t *r)
{
    return r->ops && r->ops->stopping && r->ops->stopping (r->ops->arg);
}

//  sp_xfer_enqueue's tick: keep the lease while waiting out 429s.
static bool
s_enqueue_tick (void *arg)
{
    sp_dl_report_t *r = arg;
    s_progress (r, false, "queued", -1, -1, -1, "waiting for slskd to accept the download");
    return s_stopping (r);
}

/* ---------------------------------------------------------------- outcomes */

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

//  Give a failed transfer up in slskd and forget it on the track.
static void
s_drop (sp_dl_run_t *run, const char *user, const char *id)
{
    char err[512];
    if (sp_xfer_remove (run->self->http, user, id, err, sizeof err) != SP_XFER_OK)
        sp_log_warn ("event=transfer_not_removed id=%s error=%s", id, sp_log_q (err));
    sp_dl__record_set (run->self, run->payload->track_key, "", NULL, NULL);
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

/* ---------------------------------------------------------------- audio check */

//  What the audio check made of a finished file.
typedef enum {
    S_AUDIO_KEEP,     //  stage it (genuine, or flagged/accepted by the policy)
    S_AUDIO_REJECT,   //  deleted: try the next candidate
    S_AUDIO_FALLBACK  //  a fake kept aside as the last resort: try the next candidate
} s_audio_t;

//  Record the verdict on the track (status shows it).
static void
s_audio_record (sp_dl_t *self, const char *track_key, const sp_audio_verify_result_t *r,
                const char *note)
{
    if (!self->store)
        return;
    char cut[24];
    snprintf (cut, sizeof cut, "%d", r->cutoff_hz);
    const char *fields[] = {"audio_verdict", "audio_cutoff_hz", "audio_note"};
    const char *values[] = {sp_audio_verify_verdict_name (r->verdict), cut, note};
    int rc = sp_store_track_set_fields (self->store, track_key, fields, values, 3);
    if (rc != SP_STORE_OK)
        sp_log_warn ("event=audio_not_recorded track=%s error=%s", track_key,
                     sp_log_q (sp_store_strerror (rc)));
}

//  Decode local to the end and judge it against what c claims (lossless by
//  its format; a lossy file by its bitrate unless VBR). Applies the policy:
//  broken audio is rejected; a fake (lossy-sourced "lossless", upsampled
//  MP3) is rejected, flagged or accepted per SOULPIPE_LOSSY_SOURCE, and
//  under "reject" with SOULPIPE_ALLOW_LOSSY kept aside as the last resort.
static s_audio_t
s_audio_check (sp_dl_run_t *run, const sp_candidate_t *c, const char *local, int64_t expect_ms,
               const char *ext, char *why, size_t why_size)
{
    sp_dl_t *self = run->self;
    sp_audio_verify_opts_t o;
    sp_audio_verify_opts_default (&o);
    o.expect_ms = expect_ms;
    if (!sp_match_is_lossless_ext (ext) && c->has_bitrate && c->bitrate > 0 &&
        !(c->has_vbr && c->vbr) && c->bitrate < 2000) {
        o.claim = SP_AUDIO_CLAIM_LOSSY;
        o.claimed_kbps = (int) c->bitrate;
    }
    sp_audio_verify_result_t r;
    int64_t t0 = sp_clock_mono_ms ();
    int rc = sp_audio_verify_file (local, &o, &r);
    int64_t took = sp_clock_mono_ms () - t0;
    const char *first = r.n_reasons ? r.reasons[0] : "";
    sp_log_info ("event=audio_checked user=%s file=%s verdict=%s cutoff_hz=%d confidence=%.2f "
                 "decoded_ms=%lld took_ms=%lld reason=%s",
                 sp_log_q (c->username), sp_log_q (c->filename),
                 sp_audio_verify_verdict_name (r.verdict), r.cutoff_hz, r.confidence,
                 (long long) r.decoded_ms, (long long) took, sp_log_q (first));
    if (rc == SP_AUDIO_VERIFY_ENOMEM) {
        //  our side, not the file's: keep it unjudged
        snprintf (why, why_size, "audio check skipped: out of memory");
        return S_AUDIO_KEEP;
    }
    if (r.verdict == SP_AUDIO_GENUINE) {
        char note[200];
        snprintf (note, sizeof note, "%.190s", first);
        s_audio_record (self, run->payload->track_key, &r, note);
        return S_AUDIO_KEEP;
    }
    bool fake = r.verdict == SP_AUDIO_LOSSY_SOURCE || r.verdict == SP_AUDIO_UPSAMPLED;
    snprintf (why, why_size, "audio check: %s (%.300s)", sp_audio_verify_verdict_name (r.verdict),
              first);
    if (!fake) {
        s_peer_record (self, c->username, SP_PEER_FAILED, 0);
        return S_AUDIO_REJECT;
    }
    s_peer_record (self, c->username, SP_PEER_FAKE, 0);
    const char *policy = self->cfg.lossy_source ? self->cfg.lossy_source : "reject";
    if (strcmp (policy, "reject") != 0) {
        char note[400];
        snprintf (note, sizeof note, "%s by SOULPIPE_LOSSY_SOURCE=%s: %.300s",
                  strcmp (policy, "flag") == 0 ? "kept and flagged" : "accepted", policy, first);
        s_audio_record (self, run->payload->track_key, &r, note);
        return S_AUDIO_KEEP;
    }
    if (!self->cfg.allow_lossy)
        return S_AUDIO_REJECT;
    //  the last resort: staged aside as lossy-<pos>.<ext> (not the track's
    //  staged name, so nothing takes it for a good file); the first one stays
    char aside[64], *kept = NULL, err[512];
    snprintf (aside, sizeof aside, "lossy-%s", run->pos);
    int st = sp_dl_stage (self->cfg.staging_dir, run->payload->job, aside, local, ext,
                          self->cfg.force_copy, &kept, err, sizeof err);
    free (kept);
    if (st == 1)
        unlink (local);  //  an earlier fake is kept already
    if (st < 0) {
        sp_log_warn ("event=lossy_fallback_not_kept error=%s", sp_log_q (err));
        return S_AUDIO_REJECT;
    }
    if (st == 0) {
        char note[400];
        snprintf (note, sizeof note, "kept aside as the last resort (from %.100s): %.250s",
                  c->username, first);
        s_audio_record (self, run->payload->track_key, &r, note);
    }
    return S_AUDIO_FALLBACK;
}

//  slskd stores "Completed, Succeeded" first and only then moves the file
//  from its incomplete folder into downloads (a copy that takes seconds
//  across file systems): wait, at most file_wait_s, until the file is there
//  at its full size, polling the transfer meanwhile. Returns SP_DL_A_STAGED
//  with the path in *local, or SP_DL_A_FAILED (never there in full: not the
//  peer's fault, nothing deleted) or SP_DL_A_STOPPING.
static sp_dl_attempt_t
s_await_file (sp_dl_run_t *run, sp_candidate_t *c, const char *id, char **local)
{
    sp_dl_t *self = run->self;
    int64_t deadline = sp_clock_mono_ms () + (int64_t) self->cfg.file_wait_s * 1000;
    bool waited = false;
    while (true) {
        *local = NULL;
        int rc = sp_xfer_local_path (self->cfg.downloads_dir, c->filename, c->size, local);
        struct stat st;
        if (rc == SP_XFER_OK && stat (*local, &st) == 0 && (uint64_t) st.st_size == c->size) {
            if (waited)
                sp_log_info ("event=file_arrived path=%s", sp_log_q (*local));
            return SP_DL_A_STAGED;
        }
        free (*local);
        *local = NULL;
        if (sp_clock_mono_ms () >= deadline)
            break;
        if (s_stopping (&run->report))
            return SP_DL_A_STOPPING;
        waited = true;
        //  the transfer's GET keeps slskd (and the fake's clock) moving
        sp_xfer_t x;
        char err[512];
        sp_xfer_get (self->http, c->username, id, &x, err, sizeof err);
        sp_clock_sleep_ms (DL_FILE_POLL_MS);
    }
    sp_log_warn ("event=file_not_arrived user=%s file=%s wait_s=%d", sp_log_q (c->username),
                 sp_log_q (c->filename), self->cfg.file_wait_s);
    sp_dl__tried (run, c->username, c->filename,
                  "slskd reported the download finished but the file did not appear in full "
                  "within %d s in %s",
                  self->cfg.file_wait_s, self->cfg.downloads_dir);
    s_drop (run, c->username, id);
    return SP_DL_A_FAILED;
}

//  The transfer finished: find, verify and stage the file.
static sp_dl_attempt_t
s_finish (sp_dl_run_t *run, sp_candidate_t *c, const char *id, int64_t speed)
{
    sp_dl_t *self = run->self;
    sp_payload_t *p = run->payload;
    char *local = NULL;
    sp_dl_attempt_t a = s_await_file (run, c, id, &local);
    if (a != SP_DL_A_STAGED)
        return a;
    int rc;
    char why[512];
    int length_s = 0;
    int v = sp_dl_verify_file (local, c->size, s_expected_ms (p, c), &length_s, why, sizeof why);
    if (v != SP_DL_VERIFY_OK) {
        if (v == SP_DL_VERIFY_CORRUPT)
            s_peer_record (self, c->username, SP_PEER_FAILED, 0);
        if (v != SP_DL_VERIFY_IO && unlink (local) == 0)
            sp_log_info ("event=bad_file_removed path=%s", sp_log_q (local));
        sp_dl__tried (run, c->username, c->filename, "%s", why);
        free (local);
        s_drop (run, c->username, id);
        return SP_DL_A_FAILED;
    }
    const char *ext = sp_path_ext (sp_dl__remote_file (c->filename));
    char *lext = strdup (*ext ? ext : (c->ext ? c->ext : ""));
    for (char *q = lext; q && *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char) (*q - 'A' + 'a');
    //  decode it to the end: broken audio and fakes go no further
    s_audio_t audio =
        s_audio_check (run, c, local, s_expected_ms (p, c), lext ? lext : "", why, sizeof why);
    if (audio != S_AUDIO_KEEP) {
        if (audio == S_AUDIO_REJECT && unlink (local) == 0)
            sp_log_info ("event=bad_file_removed path=%s", sp_log_q (local));
        sp_dl__tried (run, c->username, c->filename, "%s", why);
        free (lext);
        free (local);
        s_drop (run, c->username, id);
        return SP_DL_A_FAILED;
    }
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
        //  our side (staging folder) is broken: retry the task, keep the transfer
        snprintf (run->down, sizeof run->down, "cannot stage the file: %.450s", why);
        return SP_DL_A_DOWN;
    }
    s_peer_record (self, c->username, SP_PEER_OK, speed);
    sp_dl__fallback_drop (self, p->job, run->pos);
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
    return SP_DL_A_STAGED;
}

/* ---------------------------------------------------------------- the transfer */

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

//  Ask slskd for c. Returns true with the transfer id in id (SP_XFER_ID_MAX
//  bytes), or false with what the attempt came to in *out.
static bool
s_enqueue (sp_dl_run_t *run, sp_candidate_t *c, const char *msg, char *id, sp_dl_attempt_t *out)
{
    sp_dl_t *self = run->self;
    char err[1024];
    s_progress (&run->report, true, "queued", 0, (int64_t) c->size, 0, msg);
    int rc = sp_xfer_enqueue (self->http, c->username, c->filename, c->size, 0, s_enqueue_tick,
                              &run->report, id, err, sizeof err);
    if (rc == SP_XFER_ERR_OFFLINE) {
        s_peer_record (self, c->username, SP_PEER_OFFLINE, 0);
        sp_dl__tried (run, c->username, c->filename, "user offline");
        *out = SP_DL_A_FAILED;
        return false;
    }
    if (rc == SP_XFER_ERR_REFUSED) {
        sp_dl__tried (run, c->username, c->filename, "refused by slskd (%.300s)", err);
        *out = SP_DL_A_FAILED;
        return false;
    }
    if (rc != SP_XFER_OK) {
        if (s_stopping (&run->report)) {
            *out = SP_DL_A_STOPPING;
            return false;
        }
        snprintf (run->down, sizeof run->down, "%.500s", err);
        *out = SP_DL_A_DOWN;
        return false;
    }
    sp_dl__record_set (self, run->payload->track_key, id, c->username, c->filename);
    sp_log_info ("event=transfer_enqueued user=%s file=%s id=%s size=%llu", sp_log_q (c->username),
                 sp_log_q (c->filename), id, (unsigned long long) c->size);
    return true;
}

//  What the polls of one transfer have seen so far.
typedef struct {
    int64_t start;           //  first poll (monotonic ms)
    int64_t last_change;     //  last state or byte change
    int64_t queued_since;    //  entered a queue state (-1 = not queued)
    int64_t first_bytes_at;  //  first InProgress sighting (-1 = none yet)
    int64_t last_bytes;      //  most bytes seen (-1 = none)
    sp_xfer_state_t last_state;
    bool queued;  //  the last poll saw a queue state
} s_watch_t;

static void
s_watch_update (s_watch_t *w, const sp_xfer_t *x, int64_t now)
{
    if (x->state != w->last_state || x->bytes > w->last_bytes)
        w->last_change = now;
    w->queued = x->state == SP_XFER_QUEUED_REMOTELY || x->state == SP_XFER_QUEUED_LOCALLY;
    if (w->queued && w->queued_since < 0)
        w->queued_since = now;
    if (!w->queued)
        w->queued_since = -1;
    if (x->state == SP_XFER_IN_PROGRESS && w->first_bytes_at < 0)
        w->first_bytes_at = now;
    w->last_state = x->state;
    if (x->bytes > w->last_bytes)
        w->last_bytes = x->bytes;
}

//  Is the transfer past one of its limits? Returns false, or true with the
//  reason in buf.
static bool
s_give_up (const sp_dl_config_t *cfg, const s_watch_t *w, const sp_xfer_t *x, int64_t now,
           char *buf, size_t size)
{
    if (w->queued && x->place > DL_QUEUE_PLACE_MAX)
        snprintf (buf, size, "remote queue too long (place %lld)", (long long) x->place);
    else if (w->queued && now - w->queued_since > (int64_t) cfg->queue_timeout_s * 1000)
        snprintf (buf, size, "queued for more than %d s", cfg->queue_timeout_s);
    else if (!w->queued && now - w->last_change > (int64_t) cfg->stall_timeout_s * 1000)
        snprintf (buf, size, "stalled (no progress for %d s at %lld bytes)", cfg->stall_timeout_s,
                  (long long) (x->bytes > 0 ? x->bytes : 0));
    else if (now - w->start > (int64_t) cfg->transfer_timeout_s * 1000)
        snprintf (buf, size, "took longer than %d s", cfg->transfer_timeout_s);
    else
        return false;
    return true;
}

//  Poll transfer id of c until it succeeds (then finish), ends, or passes a
//  limit.
static sp_dl_attempt_t
s_follow (sp_dl_run_t *run, sp_candidate_t *c, const char *id, const char *msg)
{
    sp_dl_t *self = run->self;
    const sp_dl_config_t *cfg = &self->cfg;
    char err[1024];
    s_watch_t w = {.start = sp_clock_mono_ms (),
                   .queued_since = -1,
                   .first_bytes_at = -1,
                   .last_bytes = -1,
                   .last_state = SP_XFER_UNKNOWN};
    w.last_change = w.start;
    int down_count = 0;
    while (true) {
        if (s_stopping (&run->report))
            return SP_DL_A_STOPPING;
        sp_xfer_t x;
        int rc = sp_xfer_get (self->http, c->username, id, &x, err, sizeof err);
        int64_t now = sp_clock_mono_ms ();
        if (rc == SP_XFER_ERR_NOT_FOUND || rc == SP_XFER_ERR_INVALID) {
            sp_dl__tried (run, c->username, c->filename, "the transfer vanished from slskd");
            sp_dl__record_set (self, run->payload->track_key, "", NULL, NULL);
            return SP_DL_A_FAILED;
        }
        if (rc != SP_XFER_OK) {
            //  the HTTP client retried already; a second failed round = down
            if (++down_count >= 2) {
                snprintf (run->down, sizeof run->down, "%.500s", err);
                return SP_DL_A_DOWN;
            }
            sp_clock_sleep_ms (cfg->poll_ms);
            continue;
        }
        down_count = 0;
        s_watch_update (&w, &x, now);

        if (x.state == SP_XFER_SUCCEEDED) {
            int64_t speed = (int64_t) x.speed;
            if (speed <= 0 && w.first_bytes_at >= 0 && now > w.first_bytes_at)
                speed = (int64_t) c->size * 1000 / (now - w.first_bytes_at);
            s_progress (&run->report, true, "transferring", (int64_t) c->size, (int64_t) c->size,
                        100, msg);
            return s_finish (run, c, id, speed);
        }
        if (sp_xfer_state_final (x.state)) {
            sp_peer_outcome_t po = x.state == SP_XFER_TIMED_OUT ? SP_PEER_STALLED : SP_PEER_FAILED;
            s_peer_record (self, c->username, po, 0);
            if (x.exception[0])
                sp_dl__tried (run, c->username, c->filename, "%s (%.200s)",
                              sp_xfer_state_name (x.state), x.exception);
            else
                sp_dl__tried (run, c->username, c->filename, "%s", sp_xfer_state_name (x.state));
            s_drop (run, c->username, id);
            return SP_DL_A_FAILED;
        }
        char give_up[128];
        if (s_give_up (cfg, &w, &x, now, give_up, sizeof give_up)) {
            s_peer_record (self, c->username, SP_PEER_STALLED, 0);
            sp_dl__tried (run, c->username, c->filename, "%s", give_up);
            s_drop (run, c->username, id);
            return SP_DL_A_FAILED;
        }
        int64_t size = x.size >= 0 ? x.size : (int64_t) c->size;
        double pct = x.percent >= 0 ? x.percent : -1;
        s_progress (&run->report, false, w.queued || x.bytes <= 0 ? "queued" : "transferring",
                    x.bytes >= 0 ? x.bytes : 0, size, pct, msg);
        sp_clock_sleep_ms (s_poll_delay (cfg->poll_ms, now - w.start));
    }
}

sp_dl_attempt_t
sp_dl__attempt (sp_dl_run_t *run, sp_candidate_t *c, const char *existing_id)
{
    char id[SP_XFER_ID_MAX];
    char msg[600];
    snprintf (msg, sizeof msg, "%.200s/%.300s", c->username, sp_dl__remote_file (c->filename));
    if (existing_id) {
        snprintf (id, sizeof id, "%s", existing_id);
        sp_log_info ("event=transfer_resumed user=%s file=%s id=%s", sp_log_q (c->username),
                     sp_log_q (c->filename), id);
    } else {
        sp_dl_attempt_t out;
        if (!s_enqueue (run, c, msg, id, &out))
            return out;
    }
    return s_follow (run, c, id, msg);
}
