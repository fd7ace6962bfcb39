/*  fake_slskd_search.c: the fake slskd's searches: who answers a search
    text, when each response arrives, how the search ends (timeout, response
    or file limit, cancel), and the JSON of /api/v0/searches.
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
fsk_search_free (s_search_t *s)
{
    if (!s)
        return;
    free (s->text);
    json_decref (s->responses);
    free (s->at);
    free (s);
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

//  How long after it completes the search's responses stay unreadable:
//  slskd (src/slskd/Search/SearchService.cs) sets isComplete and the final
//  responseCount first and persists the responses afterwards in a
//  background task. Picked in [responses_lag_min_ms, responses_lag_max_ms]
//  from the search token, so the same search always lags the same.
static int64_t
s_responses_lag (sp_fake_slskd_t *self, s_search_t *s)
{
    int64_t lo = self->responses_lag_min_ms, hi = self->responses_lag_max_ms;
    if (hi <= lo)
        return lo;
    unsigned seed = (unsigned) s->token * 2654435761u + 1;
    return lo + (int64_t) (rand_r (&seed) % (hi - lo + 1));
}

//  True once a complete search's responses can be read.
static bool
s_responses_stored (sp_fake_slskd_t *self, s_search_t *s, int64_t rel, int64_t end)
{
    return rel >= end + s_responses_lag (self, s);
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
                   "startedAt", fsk_time_json (s->wall0, true), "state", state, "token", s->token);
    if (complete)
        json_object_set_new (out, "endedAt", fsk_time_json (s->wall0 + end, true));
    if (with_responses && complete && s_responses_stored (self, s, now - s->t0, end)) {
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
        !fsk_is_guid (id)) {
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
    int64_t timeout = fsk_get_int (body, "searchTimeout", DEFAULT_SEARCH_TIMEOUT_MS);
    int64_t resp_limit = fsk_get_int (body, "responseLimit", DEFAULT_RESPONSE_LIMIT);
    int64_t file_limit = fsk_get_int (body, "fileLimit", DEFAULT_FILE_LIMIT);
    json_t *fr = json_object_get (body, "filterResponses");
    bool filter = fr ? json_is_true (fr) : true;
    int64_t min_files = fsk_get_int (body, "minimumResponseFileCount", 1);
    int64_t min_speed = fsk_get_int (body, "minimumPeerUploadSpeed", 0);
    int64_t max_queue = fsk_get_int (body, "maximumPeerQueueLength", INT32_MAX);
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
        fsk_lower (s->id);
    } else
        sp_fake_uuid (s->id);
    s->text = strdup (text);
    s->token = self->next_token++;
    s->t0 = sp_fake_now_ms ();
    s->wall0 = sp_fake_wall_ms ();
    s->responses = json_array ();

    //  who answers: every user with at least one matching file
    folded = fsk_fold (text);
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
        fsk_search_free (s);
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

void
fsk_searches (sp_fake_t *fake, sp_fake_slskd_t *self, const sp_fake_req_t *req, char **seg, int ns,
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
        //  slskd only stores responses once the search has finished, and
        //  (responses_lag_ms) a while after it says so
        bool stored = complete && s_responses_stored (self, s, now - s->t0, end);
        for (size_t i = 0; stored && i < visible; i++)
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
        fsk_search_free (s);
        memmove (&self->searches[index], &self->searches[index + 1],
                 (self->nsearches - index - 1) * sizeof *self->searches);
        self->nsearches--;
        sp_fake_resp_text (resp, 204, NULL, NULL);
    } else
        sp_fake_resp_text (resp, 405, NULL, NULL);
}
