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
#include "fake.h"
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

#define NEVER                     INT64_MAX
#define DEFAULT_SEARCH_DELAY_MS   200    //  when users answer a search
#define DEFAULT_SEARCH_TIMEOUT_MS 15000  //  slskd's default searchTimeout
#define DEFAULT_RESPONSE_LIMIT    250
#define DEFAULT_FILE_LIMIT        25000
#define DEFAULT_REQUESTED_MS      100                   //  transfer "Requested" phase
#define DEFAULT_QUEUE_MS          500                   //  "Queued, Remotely" for busy peers
#define DEFAULT_INIT_MS           100                   //  "Initializing"
#define DEFAULT_SLOW_FACTOR       10                    //  "slow" peers take this much longer
#define DEFAULT_STALL_FRACTION    0.5                   //  where "stall" transfers stop
#define DEFAULT_ERROR_FRACTION    0.3                   //  where "error" transfers fail
#define DEFAULT_MAX_ENQUEUES      2                     //  concurrent enqueue POSTs before 429
#define DEFAULT_LENGTH_S          200                   //  audio length when a file gives none
#define DEFAULT_SPEED             1048576               //  bytes/s when a user gives none
#define NET_TICKS_AT_EPOCH        621355968000000000LL  //  .NET ticks at 1970-01-01

#define BUSY_TEXT                                                                                  \
    "Only one concurrent operation is permitted. Wait for the existing operation to complete and " \
    "try again."

typedef enum {
    BEHAVE_OK,
    BEHAVE_SLOW,
    BEHAVE_STALL,
    BEHAVE_QUEUED,
    BEHAVE_REJECT,
    BEHAVE_ERROR,
    BEHAVE_OFFLINE,
    BEHAVE_CORRUPT
} s_behavior_t;

static const char *s_behavior_names[] = {"ok",     "slow",  "stall",   "queued",
                                         "reject", "error", "offline", "corrupt"};

//  One shared file of a simulated user.
typedef struct {
    char *filename;   //  full remote path (backslashes)
    char *folded;     //  case-folded filename, for matching
    char *ext;        //  lower-case extension used to write the file
    unsigned length;  //  audio length in seconds
    uint64_t size;    //  the size reported and written
    json_t *json;     //  the File object as search responses carry it
} s_file_t;

//  One simulated Soulseek user.
typedef struct {
    char *username;
    int64_t upload_speed;       //  bytes/s
    bool free_slot;             //  hasFreeUploadSlot
    int64_t queue_length;       //  queueLength
    s_behavior_t behavior;      //  see README
    int64_t response_delay_ms;  //  when this user answers a search
    int64_t transfer_ms;        //  InProgress duration override (-1: size/speed)
    int64_t queue_ms;           //  queue phase for busy peers
    int64_t stall_timeout_ms;   //  stall -> TimedOut after this (-1: never)
    s_file_t *files;
    size_t nfiles;
} s_user_t;

//  One search.
typedef struct {
    char id[40];            //  GUID
    char *text;             //  searchText
    int token;              //  search token
    int64_t t0;             //  monotonic start
    int64_t wall0;          //  wall-clock start
    json_t *responses;      //  accepted Response objects in arrival order
    int64_t *at;            //  arrival times (ms after t0) of responses
    int64_t t_end;          //  ms after t0 when it completes by itself
    const char *end_state;  //  state it then takes
    bool cancelled;         //  PUT seen
    int64_t cancel_at;      //  ms after t0 of the cancel
} s_search_t;

//  One download.
typedef struct {
    char id[40];  //  GUID
    char *username;
    char *filename;         //  remote path as enqueued
    long file;              //  index in the user's files, -1 when not shared
    long user;              //  index in users
    uint64_t size;          //  bytes
    int64_t t0, wall0;      //  enqueue time (monotonic, wall)
    int64_t t_enq;          //  end of "Requested" (ms after t0)
    int64_t t_queue;        //  end of "Queued, Remotely"
    int64_t t_start;        //  start of "InProgress"
    int64_t dur;            //  ms the whole file would take
    double cap;             //  fraction of bytes where progress stops
    int64_t t_end;          //  terminal time (NEVER: stays)
    const char *end_state;  //  terminal state
    const char *exception;  //  text for failures
    int64_t place;          //  placeInQueue while queued
    bool final;             //  terminal state reached and frozen
    const char *state;      //  frozen state
    uint64_t bytes;         //  frozen bytes
    int64_t ended;          //  frozen end time (ms after t0)
    bool removed;           //  DELETE ?remove=true
    char *local_path;       //  file written, when any
} s_xfer_t;

struct sp_fake_slskd_t {
    bool enabled;    //  DIR/slskd/api-key exists
    char *api_key;   //  X-API-Key
    bool logged_in;  //  network.json logged_in
    int64_t search_delay_ms, search_requested_ms, search_post_ms;
    int64_t search_timeout_ms;  //  (fake) overrides the request's searchTimeout when >= 0
    int64_t requested_ms, queue_ms, init_ms, transfer_ms, slow_factor;
    int64_t stall_timeout_ms, enqueue_ms, max_enqueues;
    double stall_fraction, error_fraction;
    s_user_t *users;
    size_t nusers;
    s_search_t **searches;
    size_t nsearches;
    s_xfer_t **xfers;
    size_t nxfers;
    int next_token;         //  search tokens
    int search_posts_busy;  //  POST /searches being handled
    int enqueues_busy;      //  POST /transfers/downloads/{u} being handled
    //  stats
    int64_t searches_started, searches_busy_429, enqueues, enqueue_busy_429;
    json_t *search_texts;   //  every searchText, in order
    json_t *files_written;  //  local paths written
};

// ------------------------------------------------------------ loading

//  Case-folded (not diacritic-folded) copy of s. Caller owns.
static char *
s_fold (const char *s)
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

static int64_t
s_get_int (json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get (obj, key);
    if (json_is_integer (v))
        return json_integer_value (v);
    if (json_is_real (v))
        return (int64_t) json_real_value (v);
    return dflt;
}

static double
s_get_real (json_t *obj, const char *key, double dflt)
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
    f->folded = s_fold (name);
    //  the format comes from the file name (as clients do), else "extension"
    const char *base = strrchr (name, '\\');
    base = base ? base + 1 : name;
    const char *dot = strrchr (base, '.');
    const char *ext = dot ? dot + 1 : json_string_value (json_object_get (jf, "extension"));
    f->ext = strdup (ext ? ext : "");
    for (char *c = f->ext; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char) (*c - 'A' + 'a');
    int64_t length = s_get_int (jf, "length", -1);
    int64_t bitrate = s_get_int (jf, "bitRate", -1);
    int64_t size = s_get_int (jf, "size", 0);
    if (length <= 0 && bitrate > 0 && size > 0)
        length = size * 8 / (bitrate * 1000);
    if (length <= 0)
        length = DEFAULT_LENGTH_S;
    if (length > SP_FAKE_AUDIO_MAX_LENGTH)
        length = SP_FAKE_AUDIO_MAX_LENGTH;
    f->length = (unsigned) length;
    uint64_t real = 0;
    if (sp_fake_audio_supported (f->ext)) {
        if (sp_fake_audio_size (f->ext, f->length, size > 0 ? (uint64_t) size : 0, &real) != 0 &&
            sp_fake_audio_size (f->ext, f->length, 0, &real) != 0) {
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
    self->search_delay_ms = s_get_int (net, "search_delay_ms", DEFAULT_SEARCH_DELAY_MS);
    self->search_requested_ms = s_get_int (net, "search_requested_ms", 0);
    self->search_post_ms = s_get_int (net, "search_post_ms", 0);
    self->search_timeout_ms = s_get_int (net, "search_timeout_ms", -1);
    self->requested_ms = s_get_int (net, "requested_ms", DEFAULT_REQUESTED_MS);
    self->queue_ms = s_get_int (net, "queue_ms", DEFAULT_QUEUE_MS);
    self->init_ms = s_get_int (net, "init_ms", DEFAULT_INIT_MS);
    self->transfer_ms = s_get_int (net, "transfer_ms", -1);
    self->slow_factor = s_get_int (net, "slow_factor", DEFAULT_SLOW_FACTOR);
    self->stall_timeout_ms = s_get_int (net, "stall_timeout_ms", -1);
    self->enqueue_ms = s_get_int (net, "enqueue_ms", 0);
    self->max_enqueues = s_get_int (net, "max_concurrent_enqueues", DEFAULT_MAX_ENQUEUES);
    self->stall_fraction = s_get_real (net, "stall_fraction", DEFAULT_STALL_FRACTION);
    self->error_fraction = s_get_real (net, "error_fraction", DEFAULT_ERROR_FRACTION);

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
        u->upload_speed = s_get_int (ju, "uploadSpeed", DEFAULT_SPEED);
        json_t *fs = json_object_get (ju, "hasFreeUploadSlot");
        u->free_slot = fs ? json_is_true (fs) : true;
        u->queue_length = s_get_int (ju, "queueLength", 0);
        u->response_delay_ms = s_get_int (ju, "response_delay_ms", self->search_delay_ms);
        u->transfer_ms = s_get_int (ju, "transfer_ms", self->transfer_ms);
        u->queue_ms = s_get_int (ju, "queue_ms", self->queue_ms);
        u->stall_timeout_ms = s_get_int (ju, "stall_timeout_ms", self->stall_timeout_ms);
        const char *b = json_string_value (json_object_get (ju, "behavior"));
        if (!b)
            b = json_string_value (json_object_get (ju, "behaviour"));
        u->behavior = BEHAVE_OK;
        if (b) {
            size_t k;
            for (k = 0; k < sizeof s_behavior_names / sizeof s_behavior_names[0]; k++)
                if (strcasecmp (b, s_behavior_names[k]) == 0)
                    break;
            if (k == sizeof s_behavior_names / sizeof s_behavior_names[0]) {
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

static void
s_search_free (s_search_t *s)
{
    if (!s)
        return;
    free (s->text);
    json_decref (s->responses);
    free (s->at);
    free (s);
}

static void
s_xfer_free (s_xfer_t *x)
{
    if (!x)
        return;
    free (x->username);
    free (x->filename);
    free (x->local_path);
    free (x);
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
        s_search_free (self->searches[i]);
    free (self->searches);
    for (size_t i = 0; i < self->nxfers; i++)
        s_xfer_free (self->xfers[i]);
    free (self->xfers);
    free (self->api_key);
    json_decref (self->search_texts);
    json_decref (self->files_written);
    free (self);
    *self_p = NULL;
}

// ------------------------------------------------------------ helpers

static bool
s_is_guid (const char *s)
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

static void
s_lower (char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'F')
            *s = (char) (*s - 'A' + 'a');
}

static s_user_t *
s_user (sp_fake_slskd_t *self, const char *name, long *index)
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
static void
s_timespan (int64_t ms, char *buf, size_t size)
{
    if (ms < 0)
        ms = 0;
    snprintf (buf, size, "%02lld:%02lld:%02lld.%03lld0000", (long long) (ms / 3600000),
              (long long) (ms / 60000 % 60), (long long) (ms / 1000 % 60), (long long) (ms % 1000));
}

static json_t *
s_time_json (int64_t wall_ms, bool zulu)
{
    char buf[64];
    sp_fake_iso_time (wall_ms, zulu, buf, sizeof buf);
    return json_string (buf);
}

// ------------------------------------------------------------ searches

//  True when every word of the (folded) query occurs in the folded path,
//  and no "-word" does.
static bool
s_matches (const char *folded_query, const char *folded_path)
{
    char *copy = strdup (folded_query);
    bool ok = copy != NULL, any = false;
    char *save = NULL;
    for (char *w = strtok_r (copy, " \t\r\n", &save); ok && w;
         w = strtok_r (NULL, " \t\r\n", &save)) {
        if (w[0] == '-' && w[1]) {
            if (strstr (folded_path, w + 1))
                ok = false;
        } else {
            any = true;
            if (!strstr (folded_path, w))
                ok = false;
        }
    }
    free (copy);
    return ok && any;
}

typedef struct {
    int64_t at;    //  arrival time
    size_t order;  //  tie-breaker: user order
    json_t *resp;  //  Response object
    size_t files;  //  its file count
} s_cand_t;

static int
s_cand_cmp (const void *a, const void *b)
{
    const s_cand_t *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

static void
s_search_state (sp_fake_slskd_t *self, s_search_t *s, int64_t rel, const char **state,
                bool *complete, int64_t *end_out, size_t *visible)
{
    int64_t end = s->t_end;
    const char *end_state = s->end_state;
    if (s->cancelled && s->cancel_at < end) {
        end = s->cancel_at;
        end_state = "Completed, Cancelled";
    }
    *complete = rel >= end;
    *end_out = end;
    if (*complete)
        *state = end_state;
    else if (rel < self->search_requested_ms)
        *state = "Requested";
    else
        *state = "InProgress";
    int64_t upto = rel < end ? rel : end;
    size_t n = 0;
    while (n < json_array_size (s->responses) && s->at[n] <= upto)
        n++;
    *visible = n;
}

static json_t *
s_search_json (sp_fake_slskd_t *self, s_search_t *s, int64_t now, bool with_responses)
{
    const char *state;
    bool complete;
    int64_t end;
    size_t visible;
    s_search_state (self, s, now - s->t0, &state, &complete, &end, &visible);
    int64_t files = 0;
    for (size_t i = 0; i < visible; i++)
        files +=
            json_integer_value (json_object_get (json_array_get (s->responses, i), "fileCount"));
    json_t *out =
        json_pack ("{s:I, s:s, s:b, s:i, s:I, s:[], s:s, s:o, s:s, s:i}", "fileCount",
                   (json_int_t) files, "id", s->id, "isComplete", complete, "lockedFileCount", 0,
                   "responseCount", (json_int_t) visible, "responses", "searchText", s->text,
                   "startedAt", s_time_json (s->wall0, true), "state", state, "token", s->token);
    if (complete)
        json_object_set_new (out, "endedAt", s_time_json (s->wall0 + end, true));
    if (with_responses && complete) {
        json_t *arr = json_object_get (out, "responses");
        for (size_t i = 0; i < visible; i++)
            json_array_append (arr, json_array_get (s->responses, i));
    }
    return out;
}

static s_search_t *
s_find_search (sp_fake_slskd_t *self, const char *id, size_t *index)
{
    for (size_t i = 0; i < self->nsearches; i++)
        if (strcasecmp (self->searches[i]->id, id) == 0) {
            if (index)
                *index = i;
            return self->searches[i];
        }
    return NULL;
}

static void
s_search_post (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req,
               sp_fake_resp_t *resp)
{
    if (self->search_posts_busy > 0) {
        self->searches_busy_429++;
        sp_fake_resp_text (resp, 429, BUSY_TEXT, "text/plain; charset=utf-8");
        return;
    }
    self->search_posts_busy++;
    sp_fake_sleep_unlocked (fake, self->search_post_ms);
    json_error_t jerr;
    json_t *body = json_loads (req->body, 0, &jerr);
    const char *text = json_string_value (json_object_get (body, "searchText"));
    const char *id = json_string_value (json_object_get (body, "id"));
    char *folded = NULL;
    s_cand_t *cands = NULL;
    if (!json_is_object (body)) {
        sp_fake_resp_text (resp, 400, "The request body is not a valid Search request.",
                           "text/plain; charset=utf-8");
        goto done;
    }
    bool blank = true;
    for (const char *c = text; c && *c; c++)
        if (*c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
            blank = false;
    if (blank) {
        sp_fake_resp_text (resp, 400, "SearchText must not be null or empty.",
                           "text/plain; charset=utf-8");
        goto done;
    }
    if (json_object_get (body, "id") && !json_is_null (json_object_get (body, "id")) &&
        !s_is_guid (id)) {
        sp_fake_resp_text (resp, 400, "The value of id is not a valid GUID.",
                           "text/plain; charset=utf-8");
        goto done;
    }
    if (id && s_find_search (self, id, NULL)) {
        sp_fake_resp_text (resp, 400, "A search with the same id already exists.",
                           "text/plain; charset=utf-8");
        goto done;
    }
    if (!self->logged_in) {
        sp_fake_resp_text (resp, 409,
                           "The server connection must be connected and logged in to perform a "
                           "search (currently: Disconnected)",
                           "text/plain; charset=utf-8");
        goto done;
    }
    int64_t timeout = s_get_int (body, "searchTimeout", DEFAULT_SEARCH_TIMEOUT_MS);
    int64_t resp_limit = s_get_int (body, "responseLimit", DEFAULT_RESPONSE_LIMIT);
    int64_t file_limit = s_get_int (body, "fileLimit", DEFAULT_FILE_LIMIT);
    json_t *fr = json_object_get (body, "filterResponses");
    bool filter = fr ? json_is_true (fr) : true;
    int64_t min_files = s_get_int (body, "minimumResponseFileCount", 1);
    int64_t min_speed = s_get_int (body, "minimumPeerUploadSpeed", 0);
    int64_t max_queue = s_get_int (body, "maximumPeerQueueLength", INT32_MAX);
    if (timeout < 0)
        timeout = DEFAULT_SEARCH_TIMEOUT_MS;
    if (self->search_timeout_ms >= 0)
        timeout = self->search_timeout_ms;
    if (resp_limit <= 0)
        resp_limit = DEFAULT_RESPONSE_LIMIT;
    if (file_limit <= 0)
        file_limit = DEFAULT_FILE_LIMIT;

    s_search_t *s = calloc (1, sizeof *s);
    if (id) {
        snprintf (s->id, sizeof s->id, "%s", id);
        s_lower (s->id);
    } else
        sp_fake_uuid (s->id);
    s->text = strdup (text);
    s->token = self->next_token++;
    s->t0 = sp_fake_now_ms ();
    s->wall0 = sp_fake_wall_ms ();
    s->responses = json_array ();

    //  who answers: every user with at least one matching file
    folded = s_fold (text);
    cands = calloc (self->nusers + 1, sizeof *cands);
    size_t nc = 0;
    for (size_t i = 0; i < self->nusers; i++) {
        s_user_t *u = &self->users[i];
        json_t *files = json_array ();
        for (size_t k = 0; k < u->nfiles; k++)
            if (s_matches (folded, u->files[k].folded))
                json_array_append (files, u->files[k].json);
        size_t nf = json_array_size (files);
        if (nf == 0 || (filter && ((int64_t) nf < min_files || u->upload_speed < min_speed ||
                                   u->queue_length > max_queue))) {
            json_decref (files);
            continue;
        }
        cands[nc].at = u->response_delay_ms;
        cands[nc].order = i;
        cands[nc].files = nf;
        cands[nc].resp = json_pack ("{s:s, s:i, s:I, s:i, s:b, s:I, s:I, s:[], s:o}", "username",
                                    u->username, "token", s->token, "fileCount", (json_int_t) nf,
                                    "lockedFileCount", 0, "hasFreeUploadSlot", u->free_slot,
                                    "uploadSpeed", (json_int_t) u->upload_speed, "queueLength",
                                    (json_int_t) u->queue_length, "lockedFiles", "files", files);
        nc++;
    }
    qsort (cands, nc, sizeof *cands, s_cand_cmp);
    //  the timer restarts on every response; limits end the search early
    s->at = calloc (nc + 1, sizeof (int64_t));
    s->t_end = timeout;
    s->end_state = "Completed, TimedOut";
    int64_t count = 0, files_seen = 0;
    size_t k;
    for (k = 0; k < nc; k++) {
        if (cands[k].at >= s->t_end)
            break;
        s->at[json_array_size (s->responses)] = cands[k].at;
        json_array_append (s->responses, cands[k].resp);
        count++;
        files_seen += (int64_t) cands[k].files;
        if (count >= resp_limit) {
            s->t_end = cands[k].at;
            s->end_state = "Completed, ResponseLimitReached";
            break;
        }
        if (files_seen >= file_limit) {
            s->t_end = cands[k].at;
            s->end_state = "Completed, FileLimitReached";
            break;
        }
        s->t_end = cands[k].at + timeout;
    }
    for (size_t j = 0; j < nc; j++)
        json_decref (cands[j].resp);

    s_search_t **grown = realloc (self->searches, (self->nsearches + 1) * sizeof *grown);
    if (!grown) {
        s_search_free (s);
        sp_fake_resp_text (resp, 500, "out of memory", "text/plain");
        goto done;
    }
    self->searches = grown;
    self->searches[self->nsearches++] = s;
    self->searches_started++;
    json_array_append_new (self->search_texts, json_string (text));
    sp_log_info ("event=slskd_search id=%s text=%s responses=%zu", s->id, sp_log_q (text),
                 json_array_size (s->responses));
    json_t *out = s_search_json (self, s, s->t0, false);
    json_object_set_new (out, "state", json_string ("Requested"));
    sp_fake_resp_json (resp, 200, out);
done:
    free (folded);
    free (cands);
    json_decref (body);
    self->search_posts_busy--;
}

static void
s_searches (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req, char **seg, int ns,
            sp_fake_resp_t *resp)
{
    const char *m = req->method;
    int64_t now = sp_fake_now_ms ();
    if (ns == 3) {
        if (strcmp (m, "POST") == 0)
            s_search_post (fake, self, req, resp);
        else if (strcmp (m, "GET") == 0) {
            json_t *arr = json_array ();
            for (size_t i = 0; i < self->nsearches; i++)
                json_array_append_new (arr, s_search_json (self, self->searches[i], now, false));
            sp_fake_resp_json (resp, 200, arr);
        } else
            sp_fake_resp_text (resp, 405, NULL, NULL);
        return;
    }
    size_t index = 0;
    s_search_t *s = s_find_search (self, seg[3], &index);
    if (!s) {
        sp_fake_resp_text (resp, 404, NULL, NULL);
        return;
    }
    if (ns == 5 && strcmp (seg[4], "responses") == 0 && strcmp (m, "GET") == 0) {
        const char *state;
        bool complete;
        int64_t end;
        size_t visible;
        s_search_state (self, s, now - s->t0, &state, &complete, &end, &visible);
        json_t *arr = json_array ();
        //  slskd only stores responses once the search has finished
        for (size_t i = 0; complete && i < visible; i++)
            json_array_append (arr, json_array_get (s->responses, i));
        sp_fake_resp_json (resp, 200, arr);
        return;
    }
    if (ns != 4) {
        sp_fake_resp_text (resp, 404, NULL, NULL);
        return;
    }
    if (strcmp (m, "GET") == 0) {
        const char *inc = sp_fake_req_arg (req, "includeResponses");
        sp_fake_resp_json (resp, 200,
                           s_search_json (self, s, now, inc && strcasecmp (inc, "true") == 0));
    } else if (strcmp (m, "PUT") == 0) {
        if (!s->cancelled && now - s->t0 < s->t_end) {
            s->cancelled = true;
            s->cancel_at = now - s->t0;
        }
        sp_fake_resp_text (resp, 200, NULL, NULL);
    } else if (strcmp (m, "DELETE") == 0) {
        s_search_free (s);
        memmove (&self->searches[index], &self->searches[index + 1],
                 (self->nsearches - index - 1) * sizeof *self->searches);
        self->nsearches--;
        sp_fake_resp_text (resp, 204, NULL, NULL);
    } else
        sp_fake_resp_text (resp, 405, NULL, NULL);
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
    bool corrupt = u->behavior == BEHAVE_CORRUPT;
    char path[8192];
    snprintf (path, sizeof path, "%s/%s", folder, fname);
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc;
        if (sp_fake_audio_supported (f->ext))
            rc = sp_fake_audio_write (path, f->ext, f->length, f->size, corrupt, NULL);
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
        }
    }
}

//  Bring x up to date with the clock.
static void
s_tick (sp_fake_t *fake, sp_fake_slskd_t *self, s_xfer_t *x, int64_t now)
{
    if (!x->final && x->t_end != NEVER && now - x->t0 >= x->t_end)
        s_finalize (fake, self, x, x->t_end, x->end_state, x->exception);
}

static void
s_tick_all (sp_fake_t *fake, sp_fake_slskd_t *self)
{
    int64_t now = sp_fake_now_ms ();
    for (size_t i = 0; i < self->nxfers; i++)
        s_tick (fake, self, self->xfers[i], now);
}

static json_t *
s_xfer_json (s_xfer_t *x, int64_t now)
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
    json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:I, s:i, s:s, s:o, s:I, s:b, s:I, s:f}", "id",
                           x->id, "username", x->username, "direction", "Download", "filename",
                           x->filename, "size", (json_int_t) x->size, "startOffset", 0, "state",
                           state, "requestedAt", s_time_json (x->wall0, false), "bytesTransferred",
                           (json_int_t) bytes, "removed", x->removed, "bytesRemaining",
                           (json_int_t) (x->size - bytes), "percentComplete", pct);
    if (rel >= x->t_enq && x->t_enq <= x->t_end && !(x->final && x->ended < x->t_enq))
        json_object_set_new (o, "enqueuedAt", s_time_json (x->wall0 + x->t_enq, false));
    bool started = rel >= x->t_start;
    double speed = 0.0;
    if (started) {
        int64_t el = rel - x->t_start;
        json_object_set_new (o, "startedAt", s_time_json (x->wall0 + x->t_start, false));
        char ts[48];
        s_timespan (el, ts, sizeof ts);
        json_object_set_new (o, "elapsedTime", json_string (ts));
        if (el > 0)
            speed = (double) bytes * 1000.0 / (double) el;
        if (!x->final && speed > 0) {
            s_timespan ((int64_t) ((double) (x->size - bytes) * 1000.0 / speed), ts, sizeof ts);
            json_object_set_new (o, "remainingTime", json_string (ts));
        }
    }
    json_object_set_new (o, "averageSpeed", json_real (speed));
    if (strcmp (state, "Queued, Remotely") == 0)
        json_object_set_new (o, "placeInQueue", json_integer ((json_int_t) x->place));
    if (x->final) {
        json_object_set_new (o, "endedAt", s_time_json (x->wall0 + x->ended, false));
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
    s_user_t *u = s_user (self, username, &ui);
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
            s_xfer_free (x);
            json_array_append_new (failed, json_object ());
            continue;
        }
        self->xfers = grown;
        self->xfers[self->nxfers++] = x;
        self->enqueues++;
        json_array_append_new (enq, s_xfer_json (x, now));
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
        json_array_append_new (files, s_xfer_json (x, now));
        json_object_set_new (d, "fileCount", json_integer ((json_int_t) json_array_size (files)));
    }
    json_decref (index);
    if (json_array_size (dirs) == 0) {
        json_decref (dirs);
        return NULL;
    }
    return json_pack ("{s:s, s:o}", "username", username, "directories", dirs);
}

static void
s_transfers (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req, char **seg, int ns,
             sp_fake_resp_t *resp)
{
    const char *m = req->method;
    s_tick_all (fake, self);
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
        if (!s_is_guid (seg[5])) {
            sp_fake_resp_text (resp, 400, "The value is not a valid GUID.", "text/plain");
            return;
        }
        s_xfer_t *x = s_find_xfer (self, seg[5]);
        if (!x || (x->removed && strcmp (m, "GET") != 0)) {
            sp_fake_resp_text (resp, 404, NULL, NULL);
            return;
        }
        if (strcmp (m, "GET") == 0)
            sp_fake_resp_json (resp, 200, s_xfer_json (x, now));
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
        s_searches (fake, self, req, seg, ns, resp);
        return true;
    }
    if (ns >= 4 && ns <= 6 && strcasecmp (seg[2], "transfers") == 0 &&
        strcasecmp (seg[3], "downloads") == 0) {
        s_transfers (fake, self, req, seg, ns, resp);
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
    s_tick_all (fake, self);
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
        json_t *o = s_xfer_json (x, now);
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
