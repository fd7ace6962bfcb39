/*  fake_slskd.c: the fake slskd (HTTP API v0) and the simulated Soulseek
    network behind it.

    Routes: GET /health; GET /api/v0/server; GET|POST /api/v0/searches;
    GET|PUT|DELETE /api/v0/searches/{id}; GET /api/v0/searches/{id}/responses;
    GET /api/v0/transfers/downloads; POST|GET
    /api/v0/transfers/downloads/{username}; GET|DELETE
    /api/v0/transfers/downloads/{username}/{id}; DELETE
    /api/v0/transfers/downloads/all/completed.

    Time drives every state: a search or transfer stores its start time and a
    plan (when each phase ends); each request evaluates the plan against the
    clock, so no background thread is needed. A transfer that reaches
    "Completed, Succeeded" writes its audio file into --downloads (slskd's
    layout: last remote directory / file name, name_<ticks>.ext on a clash)
    at the moment the first request observes it.
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

const char *fsk_behavior_names[] = {"ok",     "slow",  "stall",   "queued",
                                    "reject", "error", "offline", "corrupt"};

// ------------------------------------------------------------ loading

//  Case-folded (not diacritic-folded) copy of s. Caller owns.
char *
fsk_fold (const char *s)
{
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n =
        utf8proc_map ((const utf8proc_uint8_t *) s, 0, &out,
                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    if (n >= 0)
        return (char *) out;
    //  invalid UTF-8: ASCII lower-casing only
    char *copy = strdup (s);
    for (char *c = copy; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char) (*c - 'A' + 'a');
    return copy;
}

int64_t
fsk_get_int (json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get (obj, key);
    if (json_is_integer (v))
        return json_integer_value (v);
    if (json_is_real (v))
        return (int64_t) json_real_value (v);
    return dflt;
}

void
fsk_get_range (json_t *obj, const char *key, int64_t dmin, int64_t dmax, int64_t *min, int64_t *max)
{
    json_t *v = json_object_get (obj, key);
    *min = dmin;
    *max = dmax;
    if (json_is_number (v))
        *min = *max = (int64_t) json_number_value (v);
    else if (json_is_array (v) && json_array_size (v) == 2) {
        json_t *a = json_array_get (v, 0), *b = json_array_get (v, 1);
        if (json_is_number (a) && json_is_number (b)) {
            *min = (int64_t) json_number_value (a);
            *max = (int64_t) json_number_value (b);
        }
    }
    if (*min < 0)
        *min = 0;
    if (*max < *min)
        *max = *min;
}

double
fsk_get_real (json_t *obj, const char *key, double dflt)
{
    json_t *v = json_object_get (obj, key);
    return json_is_number (v) ? json_number_value (v) : dflt;
}

static int
s_load_file (s_file_t *f, json_t *jf, char *err, size_t err_size)
{
    const char *name = json_string_value (json_object_get (jf, "filename"));
    if (!name || !*name) {
        snprintf (err, err_size, "network.json: a file without \"filename\"");
        return -1;
    }
    f->filename = strdup (name);
    f->folded = fsk_fold (name);
    //  the format comes from the file name (as clients do), else "extension"
    const char *base = strrchr (name, '\\');
    base = base ? base + 1 : name;
    const char *dot = strrchr (base, '.');
    const char *ext = dot ? dot + 1 : json_string_value (json_object_get (jf, "extension"));
    f->ext = strdup (ext ? ext : "");
    for (char *c = f->ext; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char) (*c - 'A' + 'a');
    int64_t length = fsk_get_int (jf, "length", -1);
    int64_t bitrate = fsk_get_int (jf, "bitRate", -1);
    int64_t size = fsk_get_int (jf, "size", 0);
    if (length <= 0 && bitrate > 0 && size > 0)
        length = size * 8 / (bitrate * 1000);
    if (length <= 0)
        length = DEFAULT_LENGTH_S;
    if (length > SP_FAKE_AUDIO_MAX_LENGTH)
        length = SP_FAKE_AUDIO_MAX_LENGTH;
    f->length = (unsigned) length;
    //  "content": "lossy" (fake only, never in a response): a FLAC made from
    //  a lossy file, or an MP3 upsampled from a lower bitrate
    const char *content = json_string_value (json_object_get (jf, "content"));
    if (content && strcmp (content, "lossy") != 0 && strcmp (content, "good") != 0) {
        snprintf (err, err_size, "network.json: %s: content must be \"good\" or \"lossy\"", name);
        return -1;
    }
    f->audio.kind =
        content && strcmp (content, "lossy") == 0 ? SP_FAKE_AUDIO_LOSSY : SP_FAKE_AUDIO_GOOD;
    f->audio.bitrate_kbps = bitrate > 0 ? (unsigned) bitrate : 0;
    f->audio.vbr = json_is_true (json_object_get (jf, "isVariableBitRate"));
    uint64_t real = 0;
    if (sp_fake_audio_supported (f->ext)) {
        if (sp_fake_audio_size_spec (f->ext, f->length, size > 0 ? (uint64_t) size : 0, &f->audio,
                                     &real) != 0 &&
            sp_fake_audio_size_spec (f->ext, f->length, 0, &f->audio, &real) != 0) {
            snprintf (err, err_size, "network.json: cannot size %s: %s", name, strerror (errno));
            return -1;
        }
    } else  //  not a format we generate: zero bytes of the fixture's size
        real = size > 0 ? (uint64_t) size : 1024;
    if (real > SP_FAKE_AUDIO_MAX_SIZE)
        real = SP_FAKE_AUDIO_MAX_SIZE;
    f->size = real;

    const char *given_ext = json_string_value (json_object_get (jf, "extension"));
    f->json = json_pack ("{s:s, s:I, s:i, s:s}", "filename", name, "size", (json_int_t) real,
                         "code", 1, "extension", given_ext ? given_ext : "");
    static const char *opt[] = {"bitRate", "bitDepth", "sampleRate", "length", "isVariableBitRate"};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        json_t *v = json_object_get (jf, opt[i]);
        if (v && !json_is_null (v))
            json_object_set (f->json, opt[i], v);
    }
    json_object_set_new (f->json, "isLocked", json_false ());
    return 0;
}

sp_fake_slskd_t *
sp_fake_slskd_new (const char *fixtures_dir, char *err, size_t err_size)
{
    sp_fake_slskd_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->search_texts = json_array ();
    self->files_written = json_array ();
    self->next_token = 1000 + (int) (sp_fake_now_ms () % 100000);
    char path[4096];
    snprintf (path, sizeof path, "%s/slskd/api-key", fixtures_dir);
    char *key = sp_fake_read_file (path, NULL);
    if (!key)
        return self;  //  slskd disabled
    size_t n = strlen (key);
    while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' '))
        key[--n] = '\0';
    self->api_key = key;
    self->enabled = true;

    snprintf (path, sizeof path, "%s/slskd/network.json", fixtures_dir);
    bool missing;
    json_t *net = sp_fake_load_json (path, &missing, err, err_size);
    if (!net && !missing)
        goto fail;
    if (net && !json_is_object (net)) {
        snprintf (err, err_size, "%s: not a JSON object", path);
        json_decref (net);
        goto fail;
    }
    json_t *lg = json_object_get (net, "logged_in");
    self->logged_in = lg ? json_is_true (lg) : true;
    self->search_delay_ms = fsk_get_int (net, "search_delay_ms", DEFAULT_SEARCH_DELAY_MS);
    self->search_requested_ms = fsk_get_int (net, "search_requested_ms", 0);
    self->search_post_ms = fsk_get_int (net, "search_post_ms", 0);
    self->search_timeout_ms = fsk_get_int (net, "search_timeout_ms", -1);
    self->requested_ms = fsk_get_int (net, "requested_ms", DEFAULT_REQUESTED_MS);
    self->queue_ms = fsk_get_int (net, "queue_ms", DEFAULT_QUEUE_MS);
    self->init_ms = fsk_get_int (net, "init_ms", DEFAULT_INIT_MS);
    self->transfer_ms = fsk_get_int (net, "transfer_ms", -1);
    self->slow_factor = fsk_get_int (net, "slow_factor", DEFAULT_SLOW_FACTOR);
    self->stall_timeout_ms = fsk_get_int (net, "stall_timeout_ms", -1);
    self->enqueue_ms = fsk_get_int (net, "enqueue_ms", 0);
    self->max_enqueues = fsk_get_int (net, "max_concurrent_enqueues", DEFAULT_MAX_ENQUEUES);
    //  realistic timing (issue 15): slskd announces states before the data
    //  behind them is ready; "realistic": true turns the lags on with
    //  slskd-like ranges, each *_ms pair overrides one
    self->realistic = json_is_true (json_object_get (net, "realistic"));
    fsk_get_range (net, "responses_lag_ms", self->realistic ? 200 : 0, self->realistic ? 3000 : 0,
                   &self->responses_lag_min_ms, &self->responses_lag_max_ms);
    fsk_get_range (net, "file_lag_ms", self->realistic ? 500 : 0, self->realistic ? 5000 : 0,
                   &self->file_lag_min_ms, &self->file_lag_max_ms);
    self->stall_fraction = fsk_get_real (net, "stall_fraction", DEFAULT_STALL_FRACTION);
    self->error_fraction = fsk_get_real (net, "error_fraction", DEFAULT_ERROR_FRACTION);

    json_t *users = json_object_get (net, "users");
    self->nusers = json_array_size (users);
    self->users = calloc (self->nusers + 1, sizeof (s_user_t));
    for (size_t i = 0; i < self->nusers; i++) {
        json_t *ju = json_array_get (users, i);
        s_user_t *u = &self->users[i];
        const char *name = json_string_value (json_object_get (ju, "username"));
        if (!name || !*name) {
            snprintf (err, err_size, "%s: users[%zu] has no username", path, i);
            json_decref (net);
            goto fail;
        }
        u->username = strdup (name);
        u->upload_speed = fsk_get_int (ju, "uploadSpeed", DEFAULT_SPEED);
        json_t *fs = json_object_get (ju, "hasFreeUploadSlot");
        u->free_slot = fs ? json_is_true (fs) : true;
        u->queue_length = fsk_get_int (ju, "queueLength", 0);
        u->response_delay_ms = fsk_get_int (ju, "response_delay_ms", self->search_delay_ms);
        u->transfer_ms = fsk_get_int (ju, "transfer_ms", self->transfer_ms);
        u->queue_ms = fsk_get_int (ju, "queue_ms", self->queue_ms);
        u->stall_timeout_ms = fsk_get_int (ju, "stall_timeout_ms", self->stall_timeout_ms);
        const char *b = json_string_value (json_object_get (ju, "behavior"));
        if (!b)
            b = json_string_value (json_object_get (ju, "behaviour"));
        u->behavior = BEHAVE_OK;
        if (b) {
            size_t k;
            for (k = 0; k < sizeof fsk_behavior_names / sizeof fsk_behavior_names[0]; k++)
                if (strcasecmp (b, fsk_behavior_names[k]) == 0)
                    break;
            if (k == sizeof fsk_behavior_names / sizeof fsk_behavior_names[0]) {
                snprintf (err, err_size, "%s: user %s: unknown behavior \"%s\"", path, name, b);
                json_decref (net);
                goto fail;
            }
            u->behavior = (s_behavior_t) k;
        }
        json_t *files = json_object_get (ju, "files");
        u->nfiles = json_array_size (files);
        u->files = calloc (u->nfiles + 1, sizeof (s_file_t));
        for (size_t k = 0; k < u->nfiles; k++)
            if (s_load_file (&u->files[k], json_array_get (files, k), err, err_size) != 0) {
                json_decref (net);
                goto fail;
            }
    }
    json_decref (net);
    return self;
fail:
    sp_fake_slskd_destroy (&self);
    return NULL;
}


void
sp_fake_slskd_destroy (sp_fake_slskd_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_fake_slskd_t *self = *self_p;
    for (size_t i = 0; i < self->nusers; i++) {
        s_user_t *u = &self->users[i];
        for (size_t k = 0; k < u->nfiles; k++) {
            free (u->files[k].filename);
            free (u->files[k].folded);
            free (u->files[k].ext);
            json_decref (u->files[k].json);
        }
        free (u->files);
        free (u->username);
    }
    free (self->users);
    for (size_t i = 0; i < self->nsearches; i++)
        fsk_search_free (self->searches[i]);
    free (self->searches);
    for (size_t i = 0; i < self->nxfers; i++)
        fsk_xfer_free (self->xfers[i]);
    free (self->xfers);
    free (self->api_key);
    json_decref (self->search_texts);
    json_decref (self->files_written);
    free (self);
    *self_p = NULL;
}

// ------------------------------------------------------------ helpers

bool
fsk_is_guid (const char *s)
{
    if (!s || strlen (s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

void
fsk_lower (char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            *s = (char) (*s - 'A' + 'a');
}

s_user_t *
fsk_user (sp_fake_slskd_t *self, const char *name, long *index)
{
    for (size_t i = 0; i < self->nusers; i++)
        if (strcmp (self->users[i].username, name) == 0) {
            if (index)
                *index = (long) i;
            return &self->users[i];
        }
    return NULL;
}

//  "hh:mm:ss.fffffff" for a duration in ms.
void
fsk_timespan (int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        ms = 0;
    snprintf (buf, size, "%02lld:%02lld:%02lld.%03lld0000", (long long) (ms / 3600000),
              (long long) (ms / 60000 % 60), (long long) (ms / 1000 % 60), (long long) (ms % 1000));
}

json_t *
fsk_time_json (int64_t wall_ms, bool zulu)
{
    char buf[64];
    sp_fake_iso_time (wall_ms, zulu, buf, sizeof buf);
    return json_string (buf);
}

// ------------------------------------------------------------ entry points

bool
sp_fake_slskd_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    sp_fake_slskd_t *self = fake->slskd;
    bool health = strcmp (req->path, "/health") == 0;
    if (!health && strncasecmp (req->path, "/api/v0/", 8) != 0)
        return false;
    if (!self->enabled) {
        sp_fake_resp_text (resp, 404, "slskd is not configured in this fixture", "text/plain");
        return true;
    }
    if (health) {
        sp_fake_resp_text (resp, 200, "Healthy", "text/plain");
        return true;
    }
    const char *key = sp_fake_req_header (req, "X-API-Key");
    if (!key || strcmp (key, self->api_key) != 0) {
        sp_fake_resp_text (resp, 401, NULL, NULL);
        return true;
    }
    char copy[4096];
    char *seg[8];
    int ns = sp_fake_split_path (req->path, copy, sizeof copy, seg, 8);
    if (ns >= 3 && strcasecmp (seg[2], "server") == 0 && ns == 3 &&
        strcmp (req->method, "GET") == 0) {
        if (self->logged_in)
            sp_fake_resp_json (resp, 200,
                               json_pack ("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b}", "address",
                                          "vps.slsknet.org", "ipEndPoint", "208.76.170.59:2271",
                                          "state", "Connected, LoggedIn", "isConnected", 1,
                                          "isConnecting", 0, "isLoggedIn", 1, "isLoggingIn", 0,
                                          "isTransitioning", 0));
        else
            sp_fake_resp_json (resp, 200,
                               json_pack ("{s:s, s:b, s:b, s:b, s:b, s:b}", "state", "Disconnected",
                                          "isConnected", 0, "isConnecting", 0, "isLoggedIn", 0,
                                          "isLoggingIn", 0, "isTransitioning", 0));
        return true;
    }
    if (ns >= 3 && ns <= 5 && strcasecmp (seg[2], "searches") == 0) {
        fsk_searches (fake, self, req, seg, ns, resp);
        return true;
    }
    if (ns >= 4 && ns <= 6 && strcasecmp (seg[2], "transfers") == 0 &&
        strcasecmp (seg[3], "downloads") == 0) {
        fsk_transfers (fake, self, req, seg, ns, resp);
        return true;
    }
    sp_fake_resp_text (resp, 404, NULL, NULL);
    return true;
}

typedef struct {
    int64_t t;
    int d;
} s_event_t;

static int
s_event_cmp (const void *a, const void *b)
{
    const s_event_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->d - y->d;  //  ends (-1) before starts (+1) at the same instant
}

//  Largest number of overlapping [start, end) intervals.
static int64_t
s_max_overlap (s_event_t *ev, size_t n)
{
    qsort (ev, n, sizeof *ev, s_event_cmp);
    int64_t cur = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        cur += ev[i].d;
        if (cur > max)
            max = cur;
    }
    return max;
}

void
sp_fake_slskd_stats (sp_fake_t *fake, json_t *stats)
{
    sp_fake_slskd_t *self = fake->slskd;
    fsk_tick_all (fake, self);
    int64_t now = sp_fake_now_ms ();
    s_event_t *active = calloc (2 * self->nxfers + 1, sizeof *active);
    s_event_t *running = calloc (2 * self->nxfers + 1, sizeof *running);
    size_t na = 0, nr = 0;
    json_t *states = json_object ();
    for (size_t i = 0; i < self->nxfers; i++) {
        s_xfer_t *x = self->xfers[i];
        int64_t end = x->final ? x->t0 + x->ended : now;
        active[na++] = (s_event_t){x->t0, 1};
        active[na++] = (s_event_t){end, -1};
        if (x->t_start != NEVER && x->t0 + x->t_start < end) {
            running[nr++] = (s_event_t){x->t0 + x->t_start, 1};
            running[nr++] = (s_event_t){end, -1};
        }
        json_t *o = fsk_xfer_json (x, now);
        const char *st = json_string_value (json_object_get (o, "state"));
        json_t *c = json_object_get (states, st);
        json_object_set_new (states, st, json_integer (c ? json_integer_value (c) + 1 : 1));
        json_decref (o);
    }
    json_object_set_new (
        stats, "slskd",
        json_pack ("{s:I, s:I, s:O, s:I, s:I, s:I, s:I, s:I, s:o, s:O}", "searches_started",
                   (json_int_t) self->searches_started, "searches_rejected_busy",
                   (json_int_t) self->searches_busy_429, "search_texts", self->search_texts,
                   "enqueued", (json_int_t) self->enqueues, "enqueues_rejected_busy",
                   (json_int_t) self->enqueue_busy_429, "transfers", (json_int_t) self->nxfers,
                   "max_concurrent_transfers", (json_int_t) s_max_overlap (active, na),
                   "max_concurrent_in_progress", (json_int_t) s_max_overlap (running, nr),
                   "transfer_states", states, "files_written", self->files_written));
    free (active);
    free (running);
}
