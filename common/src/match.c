/*  match.c: hard filters and ranking of Soulseek search results against one
    playlist track (see match.h): the user's preferences, the wanted track
    analyzed once, the score of one result, result sets and their rank, and
    the candidates handed to the download stage.

    The expensive work (Unicode normalization, title analysis) happens once
    per track (sp_match_track_new) and once per result (sp_match_set_add,
    through remote_path.h with the set's memo); sp_match_score() only
    compares prepared strings and never allocates, so one track can be
    scored against many thousands of results quickly.

    Elsewhere: the remote-path parser (remote_path.c), the Spotify and slskd
    JSON adapters (match_json.c), the English reasons (match_reason.c).
*/
#include "soulpipe/match.h"
#include "match_internal.h"
#include "match_text.h"
#include "soulpipe/remote_path.h"
#include "soulpipe/title.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARTISTS            SP_MATCH__MAX_ARTISTS
#define TIER_STEPS             20.0  //  match quality quantized to 1/20
#define W_MATCH                1000.0
#define W_QUALITY              100.0
#define W_PEER                 10.0
#define SP_MATCH_FAKER_QUALITY 0.4  //  lossless quality kept for a peer that served fakes
#define SPEED_GOOD             (4.0 * 1024 * 1024)  //  bytes/s that scores full

static const char *s_audio[] = {"flac", "mp3",  "ogg", "opus", "m4a", "aac", "wav", "aiff",
                                "aif",  "alac", "ape", "wv",   "wma", "mpc", NULL};
static const char *s_lossless_exts[] = {"flac", "wav", "aiff", "aif", "alac", "ape", "wv", NULL};

// ---------------------------------------------------------------- extensions


bool
sp_match_is_audio_ext (const char *ext)
{
    return ext && sp_match__in_list (s_audio, ext);
}

bool
sp_match_is_lossless_ext (const char *ext)
{
    return ext && sp_match__in_list (s_lossless_exts, ext);
}

// ---------------------------------------------------------------- prefs

void
sp_match_prefs_default (sp_match_prefs_t *prefs)
{
    memset (prefs, 0, sizeof *prefs);
    prefs->length_tolerance_s = 3;
    prefs->min_bitrate = 256;
    prefs->allow_lossy = true;
    prefs->max_candidates = 10;
    prefs->max_per_user = 2;
    sp_match_prefs_set_formats (prefs, "flac,mp3,ogg,m4a");
}

int
sp_match_prefs_set_formats (sp_match_prefs_t *prefs, const char *csv)
{
    if (!prefs)
        return -1;
    char out[SP_MATCH_MAX_FORMATS][8];
    int count = 0;
    const char *p = csv ? csv : "";
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '.')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        size_t len = (size_t) (p - start);
        while (len > 0 && start[len - 1] == ' ')
            len--;
        if (len == 0 || len >= sizeof out[0] || count >= SP_MATCH_MAX_FORMATS)
            return -1;
        for (size_t i = 0; i < len; i++)
            out[count][i] = (char) tolower ((unsigned char) start[i]);
        out[count][len] = 0;
        if (!sp_match_is_audio_ext (out[count]))
            return -1;
        count++;
    }
    memcpy (prefs->formats, out, sizeof out);
    prefs->formats_count = count;
    return 0;
}


// ---------------------------------------------------------------- track

sp_match_track_t *
sp_match_track_new (const sp_track_t *track)
{
    if (!track || !track->title || !track->artists_count || !track->artists)
        return NULL;
    sp_match_track_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (sp_title_parse (track->title, &self->title) != 0)
        goto fail;
    self->kinds = self->title.kinds;
    for (size_t i = 0; i < track->artists_count && self->n_artists < MAX_ARTISTS; i++) {
        if (!track->artists[i])
            continue;
        char *a = self->artists[self->n_artists];
        if (sp_match__norm (a, SP_MATCH_FIELD, track->artists[i]) != 0)
            goto fail;
        if (!a[0])
            continue;
        sp_match__squash (self->artists_sq[self->n_artists], SP_MATCH_FIELD, a);
        self->n_artists++;
    }
    if (self->n_artists == 0)
        goto fail;
    //  featured artists in the title count as credited too
    if (self->title.feat[0] && self->n_artists < MAX_ARTISTS) {
        char *a = self->artists[self->n_artists];
        if (sp_match__norm (a, SP_MATCH_FIELD, self->title.feat) == 0 && a[0]) {
            sp_match__squash (self->artists_sq[self->n_artists], SP_MATCH_FIELD, a);
            self->n_artists++;
        }
    }
    if (track->album) {
        sp_title_t *at = malloc (sizeof *at);
        if (!at)
            goto fail;
        if (sp_title_parse (track->album, at) == 0) {
            sp_match__copy (self->album, sizeof self->album, at->base, strlen (at->base));
            //  "MTV Unplugged in New York", "Live at Wembley": the album
            //  says which recording the track is
            self->kinds |= at->kinds & SP_TITLE_HARD_MASK;
        }
        free (at);
        self->kinds |= sp_title_scan_descriptors (track->album) & SP_TITLE_HARD_MASK;
    }
    if (track->has_duration_ms)
        self->duration_s = (int) ((track->duration_ms + 500) / 1000);
    if (track->has_track_number)
        self->track_no = (int) track->track_number;
    if (track->has_disc_number)
        self->disc_no = (int) track->disc_number;
    return self;
fail:
    free (self);
    return NULL;
}

void
sp_match_track_destroy (sp_match_track_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

uint32_t
sp_match_track_kinds (const sp_match_track_t *self)
{
    return self ? self->kinds : 0;
}

int
sp_match_track_duration (const sp_match_track_t *self)
{
    return self ? self->duration_s : 0;
}

const char *
sp_match_track_base (const sp_match_track_t *self)
{
    return self ? self->title.base : "";
}


// ---------------------------------------------------------------- scoring

int
sp_match__format_index (const sp_match_prefs_t *prefs, const char *ext)
{
    for (int i = 0; i < prefs->formats_count; i++)
        if (strcmp (prefs->formats[i], ext) == 0)
            return i;
    return -1;
}

static bool
s_lossless (const sp_match_result_t *r)
{
    const char *ext = r->path.ext;
    if (sp_match_is_lossless_ext (ext))
        return true;
    //  m4a holds ALAC or AAC: a bit depth without a bitrate means ALAC
    return strcmp (ext, "m4a") == 0 && r->bitdepth > 0 && r->bitrate < 0;
}

int
sp_match__kbps (const sp_match_result_t *r, int duration_s)
{
    if (r->bitrate > 0)
        return r->bitrate;
    int len = r->length > 0 ? r->length : duration_s;
    if (r->size > 0 && len > 0)
        return (int) ((double) r->size * 8.0 / 1000.0 / len);
    return -1;
}

//  Title similarity: best over the file's title variants, also with a
//  credited artist's name removed from the front ("Queen Bohemian Rhapsody").
static double
s_title_sim (const sp_match_track_t *t, const sp_remote_path_t *p)
{
    const char *want = t->title.base;
    double best = 0.0;
    for (size_t v = 0; v < 3 && p->title_norm[v][0]; v++) {
        const char *cand = p->title_norm[v];
        if (strcmp (cand, want) == 0)
            return 1.0;
        for (size_t a = 0; a < t->n_artists; a++) {
            size_t al = strlen (t->artists[a]);
            if (strncmp (cand, t->artists[a], al) == 0 && cand[al] == ' ' &&
                strcmp (cand + al + 1, want) == 0)
                return 1.0;
        }
    }
    for (size_t v = 0; v < 3 && p->title_norm[v][0]; v++) {
        double s = sp_match__sim (want, p->title_norm[v]);
        if (s > best)
            best = s;
    }
    if (best < SP_MATCH_TITLE_MIN) {
        for (size_t v = 0; v < 3 && p->title_norm[v][0]; v++)
            for (size_t a = 0; a < t->n_artists; a++) {
                const char *cand = p->title_norm[v];
                size_t al = strlen (t->artists[a]);
                if (strncmp (cand, t->artists[a], al) == 0 && cand[al] == ' ') {
                    double s = sp_match__sim (want, cand + al + 1);
                    if (s > best)
                        best = s;
                }
            }
    }
    return best;
}

static bool
s_artist_in (const char *hay, const sp_match_track_t *t, size_t a)
{
    if (sp_match__word_find (hay, t->artists[a]))
        return true;
    if (strncmp (t->artists[a], "the ", 4) == 0 && sp_match__word_find (hay, t->artists[a] + 4))
        return true;
    return strlen (t->artists_sq[a]) >= 4 && sp_match__squashed_find (hay, t->artists_sq[a]);
}

static sp_match_reject_t
s_reject (sp_match_result_t *r, sp_match_reject_t why)
{
    r->reject = why;
    r->score = 0.0;
    return why;
}

//  Clear the output fields of r and keep the peer's record.
static void
s_score_reset (sp_match_result_t *r, const sp_peer_t *peer)
{
    r->reject = SP_MATCH_OK;
    r->reject_kinds = 0;
    r->reject_detail[0] = 0;
    r->title_sim = r->match = r->quality = r->peer = r->score = 0.0;
    if (peer)
        r->peer_rec = *peer;
    else
        memset (&r->peer_rec, 0, sizeof r->peer_rec);
}

//  Filters on the file type: audio, an accepted format, lossy allowed.
//  Sets *fmt (index in prefs->formats, -1) and *lossless.
static sp_match_reject_t
s_check_format (const sp_match_prefs_t *prefs, const sp_match_result_t *r, int *fmt, bool *lossless)
{
    const char *ext = r->path.ext;
    if (!sp_match_is_audio_ext (ext))
        return SP_MATCH_REJ_NOT_AUDIO;
    *fmt = sp_match__format_index (prefs, ext);
    if (prefs->formats_count > 0 && *fmt < 0)
        return SP_MATCH_REJ_FORMAT;
    *lossless = s_lossless (r);
    if (!*lossless && !prefs->allow_lossy)
        return SP_MATCH_REJ_FORMAT;
    return SP_MATCH_OK;
}

//  The version filter: the file's own descriptors; folder names ("Live at
//  Budokan", "Unplugged") count unless the file says which version it is.
//  Sets *found (the descriptors that count) and, on a reject, r's detail.
static sp_match_reject_t
s_check_version (const sp_match_track_t *t, sp_match_result_t *r, uint32_t *found)
{
    const sp_remote_path_t *p = &r->path;
    *found = p->kinds;
    if (!(*found & (SP_TITLE_HARD_MASK | SP_TITLE_ALBUM_VERSION)))
        *found |= p->folder_kinds & SP_TITLE_HARD_MASK;
    if (sp_title_compatible_kinds (t->kinds, *found, NULL, 0) != 1) {
        sp_title_compatible_kinds (t->kinds, *found, r->reject_detail, sizeof r->reject_detail);
        uint32_t diff = (*found ^ t->kinds) & SP_TITLE_HARD_MASK;
        r->reject_kinds = diff & (~diff + 1);
        return SP_MATCH_REJ_VERSION;
    }
    if (t->title.part && p->part && t->title.part != p->part) {
        snprintf (r->reject_detail, sizeof r->reject_detail, "part %d, not part %d", p->part,
                  t->title.part);
        return SP_MATCH_REJ_VERSION;
    }
    if ((t->kinds & *found & SP_TITLE_REMIX) && t->title.remixer[0] && p->remixer[0] &&
        sp_match__sim (t->title.remixer, p->remixer) < 0.8) {
        snprintf (r->reject_detail, sizeof r->reject_detail, "different remix (%.40s)", p->remixer);
        return SP_MATCH_REJ_VERSION;
    }
    if ((t->kinds & *found & SP_TITLE_OTHER_VERSION) && t->title.version[0] && p->version[0] &&
        sp_match__sim (t->title.version, p->version) < 0.8) {
        snprintf (r->reject_detail, sizeof r->reject_detail, "different version (%.40s)",
                  p->version);
        return SP_MATCH_REJ_VERSION;
    }
    return SP_MATCH_OK;
}

//  Where a credited artist appears: 1 as the path's artist, in the file
//  name or the artist folder; 0.6 elsewhere in the path; 0 nowhere.
static double
s_artist_quality (const sp_match_track_t *t, const sp_remote_path_t *p)
{
    double artist_q = 0.0;
    for (size_t a = 0; a < t->n_artists && artist_q < 1.0; a++) {
        if (p->artist_norm[0] && sp_match__sim (t->artists[a], p->artist_norm) >= 0.9)
            artist_q = 1.0;
        else if (s_artist_in (p->stem_norm, t, a) || s_artist_in (p->artist_norm, t, a))
            artist_q = 1.0;
        else if (artist_q < 0.6 && s_artist_in (p->path_norm, t, a))
            artist_q = 0.6;
    }
    return artist_q;
}

//  Match quality 0..1 from the title similarity, the artist placement, the
//  album, the length and the track number.
static double
s_match_quality (const sp_match_track_t *t, const sp_remote_path_t *p, double sim, double artist_q,
                 double length_q, uint32_t found)
{
    double album_q = 0.5;
    if (t->album[0] && p->album_norm[0])
        album_q = sp_match__sim (t->album, p->album_norm) >= 0.8 ? 1.0 : 0.2;
    double number_q = 0.5;
    if (t->track_no && p->track)
        number_q = t->track_no == p->track ? 1.0 : 0.2;
    double m = 0.55 * sim + 0.15 * artist_q + 0.10 * album_q + 0.12 * length_q + 0.08 * number_q;
    if ((t->kinds ^ found) & SP_TITLE_SOFT_MASK)
        m -= 0.10;  //  a radio edit for the album cut (or back)
    return m < 0 ? 0 : m;
}

//  Format and quality 0..1: the preferred format order, then the bitrate.
static double
s_format_quality (const sp_match_prefs_t *prefs, int fmt, bool lossless, int kbps)
{
    double fmt_q = prefs->formats_count > 0 ? 1.0 - (double) fmt / prefs->formats_count
                                            : (lossless ? 1.0 : 0.5);
    double qual = 1.0;
    if (!lossless)
        qual = kbps > 0 ? (kbps >= 320 ? 1.0 : kbps / 320.0) : 0.6;
    return 0.7 * fmt_q + 0.3 * qual;
}

//  Peer 0..1: a free slot, a short queue, speed, earlier transfers.
static double
s_peer_quality (const sp_match_result_t *r, const sp_peer_t *peer)
{
    double pq = r->free_slot == 1 ? 0.35 : r->free_slot < 0 ? 0.15 : 0.0;
    pq += r->queue >= 0 ? 0.2 / (1.0 + (double) r->queue / 10.0) : 0.1;
    double speed =
        r->speed > 0 ? (double) r->speed : (peer && peer->speed > 0 ? (double) peer->speed : 0.0);
    if (speed > 0)
        pq += 0.2 * fmin (1.0, log1p (speed / 1024.0) / log1p (SPEED_GOOD / 1024.0));
    if (peer && peer->known)
        pq += 0.25 * (double) (peer->ok + 1) / (double) (peer->ok + peer->fail + 2);
    else
        pq += 0.125;
    return pq;
}

sp_match_reject_t
sp_match_score (const sp_match_track_t *t, const sp_match_prefs_t *prefs, sp_match_result_t *r,
                const sp_peer_t *peer, int64_t now_ms)
{
    s_score_reset (r, peer);
    if (peer && sp_peers_blocked (peer, now_ms))
        return s_reject (r, SP_MATCH_REJ_PEER);
    const sp_remote_path_t *p = &r->path;
    int fmt = -1;
    bool lossless = false;
    sp_match_reject_t why = s_check_format (prefs, r, &fmt, &lossless);
    if (why != SP_MATCH_OK)
        return s_reject (r, why);

    double sim = s_title_sim (t, p);
    r->title_sim = sim;
    if (sim < SP_MATCH_TITLE_MIN)
        return s_reject (r, SP_MATCH_REJ_TITLE);
    uint32_t found = 0;
    if ((why = s_check_version (t, r, &found)) != SP_MATCH_OK)
        return s_reject (r, why);
    double artist_q = s_artist_quality (t, p);
    if (artist_q == 0.0)
        return s_reject (r, SP_MATCH_REJ_ARTIST);

    double length_q = 0.4;  //  unknown length
    if (r->length >= 0 && t->duration_s > 0) {
        int d = abs (r->length - t->duration_s);
        if (d > prefs->length_tolerance_s)
            return s_reject (r, SP_MATCH_REJ_LENGTH);
        length_q = 1.0 - (double) d / (prefs->length_tolerance_s + 1);
    }
    //  lossy bitrate bounds
    int kbps = sp_match__kbps (r, t->duration_s);
    if (!lossless && kbps >= 0 && kbps < prefs->min_bitrate &&
        !(r->vbr == 1 && kbps >= SP_MATCH_V0_KBPS))
        return s_reject (r, SP_MATCH_REJ_BITRATE);

    r->match = s_match_quality (t, p, sim, artist_q, length_q, found);
    r->quality = s_format_quality (prefs, fmt, lossless, kbps);
    //  a "lossless" file from a peer that served a fake before is likely
    //  another one: below a good lossy copy from anyone else
    if (lossless && peer && peer->fakes > 0)
        r->quality *= SP_MATCH_FAKER_QUALITY;
    r->peer = s_peer_quality (r, peer);
    double tier = floor (r->match * TIER_STEPS + 0.5) / TIER_STEPS;
    r->score = tier * W_MATCH + r->quality * W_QUALITY + r->peer * W_PEER;
    return SP_MATCH_OK;
}

// ---------------------------------------------------------------- sets

sp_match_set_t *
sp_match_set_new (void)
{
    sp_match_set_t *self = calloc (1, sizeof (sp_match_set_t));
    if (self && !(self->memo = sp_remote_path_memo_new ()))
        sp_match_set_destroy (&self);
    return self;
}

void
sp_match_set_destroy (sp_match_set_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_match_set_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free (self->items[i].username);
        free (self->items[i].filename);
    }
    free (self->items);
    free (self->order);
    sp_remote_path_memo_destroy (&self->memo);
    free (self);
    *self_p = NULL;
}

int
sp_match_set_add (sp_match_set_t *self, const sp_match_result_t *r)
{
    if (!self || !r || !r->username || !r->filename || !r->username[0] || !r->filename[0])
        return -1;
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        sp_match_result_t *items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        size_t *order = realloc (self->order, cap * sizeof *order);
        if (!order)
            return -1;
        self->order = order;
        self->cap = cap;
    }
    sp_match_result_t *dst = &self->items[self->count];
    *dst = *r;
    if (sp_remote_path_parse_memo (r->filename, &dst->path, self->memo) != 0)
        return -1;
    dst->username = strdup (r->username);
    dst->filename = strdup (r->filename);
    if (!dst->username || !dst->filename) {
        free (dst->username);
        free (dst->filename);
        return -1;
    }
    dst->reject = SP_MATCH_OK;
    dst->score = 0.0;
    self->order[self->count] = self->count;
    self->count++;
    return 0;
}

size_t
sp_match_set_count (const sp_match_set_t *self)
{
    return self ? self->count : 0;
}

sp_match_result_t *
sp_match_set_get (sp_match_set_t *self, size_t i)
{
    if (!self || i >= self->count)
        return NULL;
    return &self->items[self->order[i]];
}

size_t
sp_match_set_accepted (const sp_match_set_t *self)
{
    return self ? self->accepted : 0;
}

static int
s_cmp_r (const void *a, const void *b, void *arg)
{
    const sp_match_result_t *items = arg;
    const sp_match_result_t *x = &items[*(const size_t *) a];
    const sp_match_result_t *y = &items[*(const size_t *) b];
    bool xa = x->reject == SP_MATCH_OK, ya = y->reject == SP_MATCH_OK;
    if (xa != ya)
        return xa ? -1 : 1;
    if (xa) {
        if (x->score != y->score)
            return x->score > y->score ? -1 : 1;
    } else if (x->reject != y->reject)
        return x->reject < y->reject ? -1 : 1;
    int c = strcmp (x->username, y->username);
    if (c)
        return c;
    c = strcmp (x->filename, y->filename);
    if (c)
        return c;
    return *(const size_t *) a < *(const size_t *) b ? -1 : 1;
}

size_t
sp_match_set_rank (sp_match_set_t *self, const sp_match_track_t *track,
                   const sp_match_prefs_t *prefs, const char *const *excluded, size_t n_excluded,
                   sp_match_peer_fn *peer_fn, void *peer_arg, int64_t now_ms)
{
    if (!self || !track || !prefs)
        return 0;
    size_t accepted = 0;
    for (size_t i = 0; i < self->count; i++) {
        sp_match_result_t *r = &self->items[i];
        bool skip = false;
        for (size_t e = 0; e < n_excluded && !skip; e++)
            skip = excluded[e] && strcmp (excluded[e], r->username) == 0;
        if (skip) {
            r->title_sim = r->match = r->quality = r->peer = 0.0;
            r->reject_detail[0] = 0;
            s_reject (r, SP_MATCH_REJ_EXCLUDED);
            continue;
        }
        const sp_peer_t *peer = peer_fn ? peer_fn (peer_arg, r->username) : NULL;
        if (sp_match_score (track, prefs, r, peer, now_ms) == SP_MATCH_OK)
            accepted++;
        self->order[i] = i;
    }
    for (size_t i = 0; i < self->count; i++)
        self->order[i] = i;
    //  an empty set has no order array yet (qsort_r wants a pointer anyway)
    if (self->count > 1)
        qsort_r (self->order, self->count, sizeof self->order[0], s_cmp_r, self->items);
    self->accepted = accepted;
    return accepted;
}


// ---------------------------------------------------------------- candidates

//  Append r to payload->candidates (the payload owns copies).
static int
s_add_candidate (sp_payload_t *payload, const sp_match_result_t *r)
{
    sp_candidate_t c;
    memset (&c, 0, sizeof c);
    c.username = r->username;
    c.filename = r->filename;
    c.size = r->size;
    c.ext = (char *) r->path.ext;
    if (r->bitrate >= 0) {
        c.has_bitrate = true;
        c.bitrate = (uint64_t) r->bitrate;
    }
    if (r->bitdepth >= 0) {
        c.has_bitdepth = true;
        c.bitdepth = (uint64_t) r->bitdepth;
    }
    if (r->samplerate >= 0) {
        c.has_samplerate = true;
        c.samplerate = (uint64_t) r->samplerate;
    }
    if (r->length >= 0) {
        c.has_length = true;
        c.length = (uint64_t) r->length;
    }
    if (r->vbr >= 0) {
        c.has_vbr = true;
        c.vbr = r->vbr == 1;
    }
    if (r->free_slot >= 0) {
        c.has_free_slot = true;
        c.free_slot = r->free_slot == 1;
    }
    if (r->queue >= 0) {
        c.has_queue = true;
        c.queue = (uint64_t) r->queue;
    }
    if (r->speed >= 0) {
        c.has_speed = true;
        c.speed = (uint64_t) r->speed;
    }
    c.score = r->score;
    return sp_payload_add_candidate (payload, &c) == SP_MSG_OK ? 0 : -1;
}

//  How many of payload's candidates from index base on come from user.
static int
s_user_count (const sp_payload_t *payload, size_t base, const char *user)
{
    int same = 0;
    for (size_t k = base; k < payload->candidates_count; k++)
        if (strcmp (payload->candidates[k].username, user) == 0)
            same++;
    return same;
}

//  Two passes over the accepted results in rank order: the first takes the
//  best file of each user (so the downloader, which moves on to another
//  user when a transfer fails, finds as many users as possible within
//  max_candidates), the second fills up with the users' further files,
//  max_per_user per user.
int
sp_match_set_to_payload (const sp_match_set_t *self, const sp_match_prefs_t *prefs,
                         sp_payload_t *payload)
{
    if (!self || !prefs || !payload)
        return -1;
    int max = prefs->max_candidates > 0 ? prefs->max_candidates : 10;
    if (max > SP_MSG_MAX_CANDIDATES)
        max = SP_MSG_MAX_CANDIDATES;
    int per_user = prefs->max_per_user > 0 ? prefs->max_per_user : 2;
    size_t accepted = 0;
    while (accepted < self->count && self->items[self->order[accepted]].reject == SP_MATCH_OK)
        accepted++;
    bool *taken = calloc (accepted ? accepted : 1, sizeof *taken);
    if (!taken)
        return -1;
    int added = 0;
    size_t base = payload->candidates_count;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < accepted && added < max; i++) {
            const sp_match_result_t *r = &self->items[self->order[i]];
            int same = taken[i] ? per_user : s_user_count (payload, base, r->username);
            if (same >= (pass == 0 ? 1 : per_user))
                continue;
            if (s_add_candidate (payload, r) != 0) {
                free (taken);
                return -1;
            }
            taken[i] = true;
            added++;
        }
    free (taken);
    return added;
}
