/*  fake_slskd_transfer.c: the fake slskd's downloads: each transfer's plan
    through slskd's states, the JSON of /api/v0/transfers/downloads, and the
    file written into --downloads when a transfer succeeds.
*/
#include "fake_slskd_int.h"
#include "audio.h"
#include "soulpipe/log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <utf8proc.h>


void
fsk_xfer_free (s_xfer_t *x)
{
    if (!x)
        return;
    free (x->username);
    free (x->filename);
    free (x->local_path);
    free (x->pending_path);
    free (x);
}

// ------------------------------------------------------------ transfers

//  Bytes moved by ms after t0 while InProgress (before any freeze).
static uint64_t
s_bytes_at (const s_xfer_t *x, int64_t rel)
{
    if (rel <= x->t_start)
        return 0;
    double frac = (double) (rel - x->t_start) / (double) x->dur;
    if (frac > x->cap)
        frac = x->cap;
    if (frac > 1.0)
        frac = 1.0;
    return (uint64_t) floor (frac * (double) x->size);
}

//  Replace characters that cannot be in a local name component.
static void
s_local_component (char *s)
{
    for (; *s; s++)
        if (*s == '/')
            *s = '_';
}

//  Write the finished file; returns 0 or -1.
static int
s_write_file (sp_fake_t *fake, sp_fake_slskd_t *self, s_xfer_t *x)
{
    const char *name = strrchr (x->filename, '\\');
    name = name ? name + 1 : x->filename;
    char dir[1024] = "";
    const char *end = strrchr (x->filename, '\\');
    if (end) {
        const char *start = end;
        while (start > x->filename && start[-1] != '\\')
            start--;
        snprintf (dir, sizeof dir, "%.*s", (int) (end - start), start);
    }
    char fname[1024];
    snprintf (fname, sizeof fname, "%s", name);
    s_local_component (dir);
    s_local_component (fname);
    if (!*fname || strcmp (fname, ".") == 0 || strcmp (fname, "..") == 0)
        return -1;
    char folder[4096];
    if (*dir && strcmp (dir, ".") != 0 && strcmp (dir, "..") != 0)
        snprintf (folder, sizeof folder, "%s/%s", fake->downloads_dir, dir);
    else
        snprintf (folder, sizeof folder, "%s", fake->downloads_dir);
    if (sp_fake_mkdir_p (folder) != 0)
        return -1;

    s_user_t *u = &self->users[x->user];
    const s_file_t *f = &u->files[x->file];
    sp_fake_audio_spec_t audio = f->audio;
    if (u->behavior == BEHAVE_CORRUPT)
        audio.kind = SP_FAKE_AUDIO_ZEROS;
    char path[8192];
    snprintf (path, sizeof path, "%s/%s", folder, fname);
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc;
        if (sp_fake_audio_supported (f->ext))
            rc = sp_fake_audio_write_spec (path, f->ext, f->length, f->size, &audio, NULL);
        else {
            //  unknown format: zeros of the reported size
            int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0644);
            rc = fd < 0 ? -1 : ftruncate (fd, (off_t) f->size);
            if (fd >= 0)
                close (fd);
        }
        if (rc == 0) {
            x->local_path = strdup (path);
            json_array_append_new (self->files_written, json_string (path));
            sp_log_info ("event=slskd_file_written path=%s size=%llu", sp_log_q (path),
                         (unsigned long long) f->size);
            return 0;
        }
        if (errno != EEXIST || attempt == 1)
            break;
        //  slskd's "rename": name_<DateTime.UtcNow.Ticks>.ext
        long long ticks = (long long) sp_fake_wall_ms () * 10000 + NET_TICKS_AT_EPOCH +
                          (long long) (sp_fake_now_ms () % 10000);
        const char *dot = strrchr (fname, '.');
        if (dot && dot != fname)
            snprintf (path, sizeof path, "%s/%.*s_%lld%s", folder, (int) (dot - fname), fname,
                      ticks, dot);
        else
            snprintf (path, sizeof path, "%s/%s_%lld", folder, fname, ticks);
    }
    sp_log_error ("event=slskd_file_write_failed path=%s error=%s", sp_log_q (path),
                  sp_log_q (strerror (errno)));
    return -1;
}

//  file_lag: slskd stores "Completed, Succeeded" first and only then moves
//  the file from its incomplete folder into downloads, a copy across file
//  systems. The file written is moved to <downloads>/.incomplete/<id>; a
//  third of the lag later the final name appears with half the bytes, and
//  once the lag has passed the whole file is renamed over it.
static void
s_hide_file (sp_fake_t *fake, sp_fake_slskd_t *self, s_xfer_t *x)
{
    int64_t lo = self->file_lag_min_ms, hi = self->file_lag_max_ms;
    if (hi <= 0 || !x->local_path)
        return;
    unsigned h = 0;
    for (const char *q = x->id; *q; q++)
        h = h * 31u + (unsigned char) *q;
    x->file_lag = lo + (hi > lo ? (int64_t) (h % (unsigned) (hi - lo + 1)) : 0);
    if (x->file_lag <= 0)
        return;
    char dir[4096], hidden[8192];
    snprintf (dir, sizeof dir, "%s/.incomplete", fake->downloads_dir);
    snprintf (hidden, sizeof hidden, "%s/%s", dir, x->id);
    if (sp_fake_mkdir_p (dir) != 0 || rename (x->local_path, hidden) != 0) {
        x->file_lag = 0;
        return;
    }
    x->pending_path = strdup (hidden);
    sp_log_info ("event=slskd_file_lag path=%s lag_ms=%lld", sp_log_q (x->local_path),
                 (long long) x->file_lag);
}

//  file_lag: advance the hidden file of x to its final name (see s_hide_file).
static void
s_move_file (s_xfer_t *x, int64_t rel)
{
    if (!x->pending_path)
        return;
    if (rel >= x->ended + x->file_lag) {
        if (rename (x->pending_path, x->local_path) == 0) {
            free (x->pending_path);
            x->pending_path = NULL;
        }
        return;
    }
    if (x->partial || rel < x->ended + x->file_lag / 3)
        return;
    x->partial = true;
    int in = open (x->pending_path, O_RDONLY);
    int out = open (x->local_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint64_t left = x->size / 2;
    char buf[65536];
    while (in >= 0 && out >= 0 && left > 0) {
        ssize_t n = read (in, buf, left < sizeof buf ? (size_t) left : sizeof buf);
        if (n <= 0 || write (out, buf, (size_t) n) != n)
            break;
        left -= (uint64_t) n;
    }
    if (in >= 0)
        close (in);
    if (out >= 0)
        close (out);
}

//  Freeze x in its terminal state at rel (writing the file on success).
static void
s_finalize (sp_fake_t *fake, sp_fake_slskd_t *self, s_xfer_t *x, int64_t rel, const char *state,
            const char *exception)
{
    x->final = true;
    x->state = state;
    x->ended = rel;
    x->exception = exception;
    x->bytes = s_bytes_at (x, rel);
    if (strcmp (state, "Completed, Succeeded") == 0) {
        x->bytes = x->size;
        if (s_write_file (fake, self, x) != 0) {
            x->state = "Completed, Errored";
            x->exception = "Failed to write the downloaded file";
        } else
            s_hide_file (fake, self, x);
    }
}

//  Bring x up to date with the clock.
static void
s_tick (sp_fake_t *fake, sp_fake_slskd_t *self, s_xfer_t *x, int64_t now)
{
    if (!x->final && x->t_end != NEVER && now - x->t0 >= x->t_end)
        s_finalize (fake, self, x, x->t_end, x->end_state, x->exception);
    s_move_file (x, now - x->t0);
}

void
fsk_tick_all (sp_fake_t *fake, sp_fake_slskd_t *self)
{
    int64_t now = sp_fake_now_ms ();
    for (size_t i = 0; i < self->nxfers; i++)
        s_tick (fake, self, self->xfers[i], now);
}

json_t *
fsk_xfer_json (s_xfer_t *x, int64_t now)
{
    int64_t rel = x->final ? x->ended : now - x->t0;
    const char *state;
    uint64_t bytes;
    if (x->final) {
        state = x->state;
        bytes = x->bytes;
    } else if (rel < x->t_enq) {
        state = "Requested";
        bytes = 0;
    } else if (rel < x->t_queue) {
        state = "Queued, Remotely";
        bytes = 0;
    } else if (rel < x->t_start) {
        state = "Initializing";
        bytes = 0;
    } else {
        state = "InProgress";
        bytes = s_bytes_at (x, rel);
    }
    double pct = x->size ? 100.0 * (double) bytes / (double) x->size : 100.0;
    json_t *o = json_pack (
        "{s:s, s:s, s:s, s:s, s:I, s:i, s:s, s:o, s:I, s:b, s:I, s:f}", "id", x->id, "username",
        x->username, "direction", "Download", "filename", x->filename, "size", (json_int_t) x->size,
        "startOffset", 0, "state", state, "requestedAt", fsk_time_json (x->wall0, false),
        "bytesTransferred", (json_int_t) bytes, "removed", x->removed, "bytesRemaining",
        (json_int_t) (x->size - bytes), "percentComplete", pct);
    if (rel >= x->t_enq && x->t_enq <= x->t_end && !(x->final && x->ended < x->t_enq))
        json_object_set_new (o, "enqueuedAt", fsk_time_json (x->wall0 + x->t_enq, false));
    bool started = rel >= x->t_start;
    double speed = 0.0;
    if (started) {
        int64_t el = rel - x->t_start;
        json_object_set_new (o, "startedAt", fsk_time_json (x->wall0 + x->t_start, false));
        char ts[48];
        fsk_timespan (el, ts, sizeof ts);
        json_object_set_new (o, "elapsedTime", json_string (ts));
        if (el > 0)
            speed = (double) bytes * 1000.0 / (double) el;
        if (!x->final && speed > 0) {
            fsk_timespan ((int64_t) ((double) (x->size - bytes) * 1000.0 / speed), ts, sizeof ts);
            json_object_set_new (o, "remainingTime", json_string (ts));
        }
    }
    json_object_set_new (o, "averageSpeed", json_real (speed));
    if (strcmp (state, "Queued, Remotely") == 0)
        json_object_set_new (o, "placeInQueue", json_integer ((json_int_t) x->place));
    if (x->final) {
        json_object_set_new (o, "endedAt", fsk_time_json (x->wall0 + x->ended, false));
        if (x->exception)
            json_object_set_new (o, "exception", json_string (x->exception));
    }
    return o;
}

static s_xfer_t *
s_find_xfer (sp_fake_slskd_t *self, const char *id)
{
    for (size_t i = 0; i < self->nxfers; i++)
        if (strcasecmp (self->xfers[i]->id, id) == 0)
            return self->xfers[i];
    return NULL;
}

//  Plan a new transfer of filename from user u (index ui).
static s_xfer_t *
s_plan (sp_fake_slskd_t *self, s_user_t *u, long ui, const char *filename)
{
    s_xfer_t *x = calloc (1, sizeof *x);
    if (!x)
        return NULL;
    sp_fake_uuid (x->id);
    x->username = strdup (u->username);
    x->filename = strdup (filename);
    x->user = ui;
    x->file = -1;
    for (size_t k = 0; k < u->nfiles; k++)
        if (strcmp (u->files[k].filename, filename) == 0)
            x->file = (long) k;
    x->size = x->file >= 0 ? u->files[x->file].size : 0;
    x->t0 = sp_fake_now_ms ();
    x->wall0 = sp_fake_wall_ms ();
    x->cap = 1.0;
    x->t_enq = self->requested_ms;
    x->place = u->queue_length + 1;
    if (x->file < 0 || u->behavior == BEHAVE_REJECT) {
        x->t_queue = x->t_start = x->t_end = x->t_enq;
        x->dur = 1;
        x->end_state = "Completed, Rejected";
        x->exception = x->file < 0 ? "File not shared." : "Banned";
        return x;
    }
    bool busy = u->queue_length > 0 || !u->free_slot;
    if (u->behavior == BEHAVE_QUEUED) {
        x->t_queue = x->t_start = x->t_end = NEVER;
        x->dur = 1;
        x->end_state = "Completed, TimedOut";
        return x;
    }
    x->t_queue = x->t_enq + (busy ? u->queue_ms : 0);
    x->t_start = x->t_queue + self->init_ms;
    int64_t speed = u->upload_speed > 0 ? u->upload_speed : DEFAULT_SPEED;
    x->dur = u->transfer_ms >= 0 ? u->transfer_ms : (int64_t) (x->size * 1000 / (uint64_t) speed);
    if (u->behavior == BEHAVE_SLOW)
        x->dur *= self->slow_factor;
    if (x->dur < 1)
        x->dur = 1;
    x->end_state = "Completed, Succeeded";
    x->t_end = x->t_start + x->dur;
    if (u->behavior == BEHAVE_STALL) {
        x->cap = self->stall_fraction;
        x->end_state = "Completed, TimedOut";
        x->exception = "Transfer timed out after inactivity";
        x->t_end = u->stall_timeout_ms >= 0
                       ? x->t_start + (int64_t) ((double) x->dur * x->cap) + u->stall_timeout_ms
                       : NEVER;
    } else if (u->behavior == BEHAVE_ERROR) {
        x->cap = self->error_fraction;
        x->end_state = "Completed, Errored";
        x->exception = "Remote connection closed";
        x->t_end = x->t_start + (int64_t) ((double) x->dur * x->cap);
    }
    return x;
}

static bool
s_has_dotdot (const char *filename)
{
    const char *p = filename;
    while (p) {
        const char *end = strpbrk (p, "\\/");
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static void
s_enqueue (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req, const char *username,
           sp_fake_resp_t *resp)
{
    if (self->enqueues_busy >= self->max_enqueues) {
        self->enqueue_busy_429++;
        sp_fake_resp_text (resp, 429, BUSY_TEXT, "text/plain; charset=utf-8");
        return;
    }
    self->enqueues_busy++;
    sp_fake_sleep_unlocked (fake, self->enqueue_ms);
    json_error_t jerr;
    json_t *body = json_loads (req->body, 0, &jerr);
    size_t i;
    json_t *e;
    if (!json_is_array (body) || json_array_size (body) == 0) {
        sp_fake_resp_text (resp, 400, "At least one file is required", "text/plain; charset=utf-8");
        goto done;
    }
    json_array_foreach (body, i, e)
    {
        const char *fn = json_string_value (json_object_get (e, "filename"));
        if (!fn || !*fn) {
            sp_fake_resp_text (resp, 400, "Each file requires a filename",
                               "text/plain; charset=utf-8");
            goto done;
        }
        if (s_has_dotdot (fn)) {
            sp_fake_resp_text (resp, 400, "Filenames must not contain '..' segments",
                               "text/plain; charset=utf-8");
            goto done;
        }
    }
    long ui = -1;
    s_user_t *u = fsk_user (self, username, &ui);
    if (!u || u->behavior == BEHAVE_OFFLINE) {
        char msg[600];
        snprintf (msg, sizeof msg,
                  "Failed to enqueue download(s): user %.400s appears to be offline", username);
        sp_fake_resp_text (resp, 500, msg, "text/plain; charset=utf-8");
        goto done;
    }
    json_t *enq = json_array (), *failed = json_array ();
    int64_t now = sp_fake_now_ms ();
    json_array_foreach (body, i, e)
    {
        const char *fn = json_string_value (json_object_get (e, "filename"));
        bool dup = false;
        for (size_t k = 0; k < self->nxfers; k++) {
            s_xfer_t *o = self->xfers[k];
            s_tick (fake, self, o, now);
            if (!o->final && !o->removed && strcmp (o->username, username) == 0 &&
                strcmp (o->filename, fn) == 0)
                dup = true;
        }
        s_xfer_t *x = dup ? NULL : s_plan (self, u, ui, fn);
        s_xfer_t **grown = x ? realloc (self->xfers, (self->nxfers + 1) * sizeof *grown) : NULL;
        if (!grown) {
            fsk_xfer_free (x);
            json_array_append_new (failed, json_object ());
            continue;
        }
        self->xfers = grown;
        self->xfers[self->nxfers++] = x;
        self->enqueues++;
        json_array_append_new (enq, fsk_xfer_json (x, now));
        sp_log_info ("event=slskd_enqueue user=%s file=%s id=%s", sp_log_q (username),
                     sp_log_q (fn), x->id);
    }
    sp_fake_resp_json (resp, 201, json_pack ("{s:o, s:o}", "enqueued", enq, "failed", failed));
done:
    json_decref (body);
    self->enqueues_busy--;
}

//  {"username","directories":[{"directory","fileCount","files":[...]}]}
static json_t *
s_user_transfers (sp_fake_slskd_t *self, const char *username, int64_t now)
{
    json_t *dirs = json_array ();
    json_t *index = json_object ();  //  directory -> its entry
    for (size_t i = 0; i < self->nxfers; i++) {
        s_xfer_t *x = self->xfers[i];
        if (x->removed || strcmp (x->username, username) != 0)
            continue;
        const char *bs = strrchr (x->filename, '\\');
        char dir[2048];
        snprintf (dir, sizeof dir, "%.*s", bs ? (int) (bs - x->filename) : 0, x->filename);
        json_t *d = json_object_get (index, dir);
        if (!d) {
            d = json_pack ("{s:s, s:i, s:[]}", "directory", dir, "fileCount", 0, "files");
            json_array_append_new (dirs, d);
            json_object_set (index, dir, d);
        }
        json_t *files = json_object_get (d, "files");
        json_array_append_new (files, fsk_xfer_json (x, now));
        json_object_set_new (d, "fileCount", json_integer ((json_int_t) json_array_size (files)));
    }
    json_decref (index);
    if (json_array_size (dirs) == 0) {
        json_decref (dirs);
        return NULL;
    }
    return json_pack ("{s:s, s:o}", "username", username, "directories", dirs);
}

void
fsk_transfers (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req, char **seg, int ns,
               sp_fake_resp_t *resp)
{
    const char *m = req->method;
    fsk_tick_all (fake, self);
    int64_t now = sp_fake_now_ms ();
    if (ns == 4 && strcmp (m, "GET") == 0) {
        json_t *arr = json_array (), *seen = json_object ();
        for (size_t i = 0; i < self->nxfers; i++) {
            s_xfer_t *x = self->xfers[i];
            if (x->removed || json_object_get (seen, x->username))
                continue;
            json_object_set_new (seen, x->username, json_true ());
            json_t *u = s_user_transfers (self, x->username, now);
            if (u)
                json_array_append_new (arr, u);
        }
        json_decref (seen);
        sp_fake_resp_json (resp, 200, arr);
        return;
    }
    if (ns == 6 && strcmp (seg[4], "all") == 0 && strcmp (seg[5], "completed") == 0 &&
        strcmp (m, "DELETE") == 0) {
        for (size_t i = 0; i < self->nxfers; i++)
            if (self->xfers[i]->final)
                self->xfers[i]->removed = true;
        sp_fake_resp_text (resp, 204, NULL, NULL);
        return;
    }
    if (ns == 5) {
        if (strcmp (m, "POST") == 0)
            s_enqueue (fake, self, req, seg[4], resp);
        else if (strcmp (m, "GET") == 0) {
            json_t *u = s_user_transfers (self, seg[4], now);
            if (u)
                sp_fake_resp_json (resp, 200, u);
            else
                sp_fake_resp_text (resp, 404, NULL, NULL);
        } else
            sp_fake_resp_text (resp, 405, NULL, NULL);
        return;
    }
    if (ns == 6) {
        if (!fsk_is_guid (seg[5])) {
            sp_fake_resp_text (resp, 400, "The value is not a valid GUID.", "text/plain");
            return;
        }
        s_xfer_t *x = s_find_xfer (self, seg[5]);
        if (!x || (x->removed && strcmp (m, "GET") != 0)) {
            sp_fake_resp_text (resp, 404, NULL, NULL);
            return;
        }
        if (strcmp (m, "GET") == 0)
            sp_fake_resp_json (resp, 200, fsk_xfer_json (x, now));
        else if (strcmp (m, "DELETE") == 0) {
            if (!x->final)
                s_finalize (fake, self, x, now - x->t0, "Completed, Cancelled", NULL);
            const char *rm = sp_fake_req_arg (req, "remove");
            if (rm && strcasecmp (rm, "true") == 0)
                x->removed = true;
            sp_fake_resp_text (resp, 204, NULL, NULL);
        } else
            sp_fake_resp_text (resp, 405, NULL, NULL);
        return;
    }
    sp_fake_resp_text (resp, 404, NULL, NULL);
}
