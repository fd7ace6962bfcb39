/*  finisher.c: job end (see tagger.h, "Job end"): for every ending the
    store announces, the final m3u8 and, when a library that needs rescans
    is configured and the job filed a track, one rescan per ending (claimed
    in the store, so several finishers never rescan twice); then, for a done
    job, the playlist in the library and the notification (jobend.c).
*/
#include "tagger_int.h"

#include "soulpipe/clock.h"
#include "soulpipe/log.h"
#include "soulpipe/medialib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Ask the library to rescan the Transfer folder and wait for it (the
//  backend scopes it where it can: Plex to the sections holding the folder).
static void
s_library_rescan (sp_tagger_t *self, const char *job)
{
    char note[512] = "";
    int64_t t0 = sp_clock_mono_ms ();
    int rc = sp_medialib_rescan (self->library, self->transfer_dir, self->scan_timeout_ms, note,
                                 sizeof note);
    long long ms = (long long) (sp_clock_mono_ms () - t0);
    if (rc == SP_MEDIALIB_OK)
        sp_log_info ("event=library_rescan job=%s library=%s path=%s ms=%lld", sp_log_q (job),
                     sp_log_q (sp_medialib_name (self->library)), sp_log_q (self->transfer_dir),
                     ms);
    else
        sp_log_warn ("event=library_rescan_failed job=%s library=%s error=%s reason=%s ms=%lld",
                     sp_log_q (job), sp_log_q (sp_medialib_name (self->library)),
                     sp_medialib_err_name (rc), sp_log_q (note), ms);
}

// ------------------------------------------------------------ job end

int
sp_tagger_finish_job (sp_tagger_t *self, const char *job_id, long ending)
{
    if (!self || !self->store || !job_id || !*job_id || ending < 1)
        return -1;
    sp_store_job_t *job = NULL;
    int rc = sp_store_job_get (self->store, job_id, &job);
    if (rc == SP_STORE_ENOENT) {
        sp_log_warn ("event=finish_unknown_job job=%s", sp_log_q (job_id));
        return 0;
    }
    if (rc != SP_STORE_OK)
        return -1;
    int result = 0;
    //  Retried meanwhile: it is running again and will end again.
    if (strcmp (job->state, "done") != 0 && strcmp (job->state, "cancelled") != 0) {
        sp_log_info ("event=finish_skipped job=%s state=%s", sp_log_q (job_id),
                     sp_log_q (job->state));
        goto done;
    }
    if (sp_tagger__m3u8_write (self, job_id, job->name, NULL, NULL, -1, job->done > 0) != 0)
        result = -1;
    if (!self->library || !self->library_rescan || job->done == 0)
        goto playlist;
    //  Once per ending: a retried job that ends again rescans again.
    rc = sp_store_job_claim_rescan (self->store, job_id, ending);
    if (rc == SP_STORE_OK)
        s_library_rescan (self, job_id);
    else if (rc == SP_STORE_EMPTY)
        sp_log_info ("event=rescan_already_requested job=%s ending=%ld", sp_log_q (job_id), ending);
    else
        sp_log_warn ("event=rescan_claim_failed job=%s ending=%ld error=%s", sp_log_q (job_id),
                     ending, sp_log_q (sp_store_strerror (rc)));
playlist:;
    bool playlist = self->library && self->library_playlists && strcmp (job->state, "done") == 0;
    if (playlist || self->notify) {
        sp_tagger__summary_t sum;
        bool have = sp_tagger__summary_load (self, job_id, &sum) == 0;
        if (playlist && have)
            sp_tagger__library_playlist (self, job_id, job->name, &sum);
        //  without the tracks (Redis trouble) the counts still go out
        sp_tagger__notify_job (self, job, have ? &sum : NULL);
        if (have)
            sp_tagger__summary_clear (&sum);
    }
done:
    sp_log_info ("event=job_finished job=%s state=%s done=%lld failed=%lld ending=%ld",
                 sp_log_q (job_id), sp_log_q (job->state), (long long) job->done,
                 (long long) job->failed, ending);
    sp_store_job_destroy (&job);
    return result;
}

int
sp_tagger_finish_next (sp_tagger_t *self, int wait_ms)
{
    if (!self || !self->store)
        return -1;
    sp_store_ending_t e;
    int rc = sp_store_finished_pop (self->store, wait_ms, &e);
    if (rc == SP_STORE_EMPTY)
        return 0;
    if (rc == SP_STORE_ENOENT)
        return 1;  //  a malformed entry, dropped by the store
    if (rc != SP_STORE_OK)
        return -1;
    if (sp_tagger_finish_job (self, e.job_id, e.ending) != 0)
        sp_log_warn ("event=finish_incomplete job=%s", sp_log_q (e.job_id));
    //  Done with it (also when it failed: the m3u8 is rewritten by the next
    //  filing or retry, and a rescan must not repeat forever).
    return sp_store_finished_ack (self->store, &e) == SP_STORE_OK ? 1 : -1;
}

int
sp_tagger_finish_recover (sp_tagger_t *self)
{
    int n = 0;
    if (!self || !self->store || sp_store_finished_recover (self->store, &n) != SP_STORE_OK)
        return -1;
    return n;
}
