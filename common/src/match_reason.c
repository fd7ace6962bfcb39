/*  match_reason.c: the English words of the match module (see match.h):
    why one result was rejected (sp_match_reason), a short category for
    summaries (sp_match_category), and the summary of a ranked set
    ("12 results: 7 live versions, 3 wrong length").
*/
#include "soulpipe/match.h"
#include "match_internal.h"
#include "match_text.h"

#include <stdio.h>
#include <string.h>

static void
s_mmss (int s, char *buf, size_t n)
{
    snprintf (buf, n, "%d:%02d", s / 60, s % 60);
}

char *
sp_match_reason (const sp_match_result_t *r, const sp_match_prefs_t *prefs,
                 const sp_match_track_t *track, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    buf[0] = 0;
    if (!r)
        return buf;
    char a[16], b[16];
    switch (r->reject) {
        case SP_MATCH_OK:
            snprintf (buf, n, "accepted");
            break;
        case SP_MATCH_REJ_EXCLUDED:
            snprintf (buf, n, "user excluded (failed before for this track)");
            break;
        case SP_MATCH_REJ_PEER:
            snprintf (buf, n, "peer failed %lld transfers in a row, skipped for now",
                      (long long) r->peer_rec.streak);
            break;
        case SP_MATCH_REJ_NOT_AUDIO:
            snprintf (buf, n, "not an audio file (%s%s)", r->path.ext[0] ? "." : "no extension",
                      r->path.ext);
            break;
        case SP_MATCH_REJ_FORMAT:
            if (prefs && !prefs->allow_lossy && !sp_match_is_lossless_ext (r->path.ext) &&
                (prefs->formats_count == 0 || sp_match__format_index (prefs, r->path.ext) >= 0))
                snprintf (buf, n, "lossy %s not allowed", r->path.ext);
            else
                snprintf (buf, n, "format %s not accepted", r->path.ext);
            break;
        case SP_MATCH_REJ_BITRATE: {
            int kbps = sp_match__kbps (r, track ? track->duration_s : 0);
            snprintf (buf, n, "%s at %d kbps%s, below %d kbps", r->path.ext, kbps,
                      r->bitrate > 0 ? "" : " (estimated)", prefs ? prefs->min_bitrate : 0);
            break;
        }
        case SP_MATCH_REJ_LENGTH:
            s_mmss (r->length, a, sizeof a);
            s_mmss (track ? track->duration_s : 0, b, sizeof b);
            snprintf (buf, n, "length %s, wanted %s (±%d s)", a, b,
                      prefs ? prefs->length_tolerance_s : 0);
            break;
        case SP_MATCH_REJ_TITLE:
            snprintf (buf, n, "title \"%.80s\" is not \"%.80s\" (%.2f)", r->path.title_norm[0],
                      track ? track->title.base : "", r->title_sim);
            break;
        case SP_MATCH_REJ_VERSION:
            snprintf (buf, n, "%s", r->reject_detail[0] ? r->reject_detail : "other version");
            break;
        case SP_MATCH_REJ_ARTIST:
            snprintf (buf, n, "no credited artist (%.80s) in the path",
                      track && track->n_artists ? track->artists[0] : "");
            break;
        default:
            snprintf (buf, n, "rejected");
    }
    return buf;
}

char *
sp_match_category (const sp_match_result_t *r, const sp_match_prefs_t *prefs, char *buf, size_t n)
{
    if (!buf || n == 0)
        return buf;
    buf[0] = 0;
    if (!r)
        return buf;
    switch (r->reject) {
        case SP_MATCH_OK:
            snprintf (buf, n, "accepted");
            break;
        case SP_MATCH_REJ_EXCLUDED:
            snprintf (buf, n, "excluded user");
            break;
        case SP_MATCH_REJ_PEER:
            snprintf (buf, n, "failing peer");
            break;
        case SP_MATCH_REJ_NOT_AUDIO:
            snprintf (buf, n, "not audio");
            break;
        case SP_MATCH_REJ_FORMAT:
            snprintf (buf, n, "unaccepted format");
            break;
        case SP_MATCH_REJ_BITRATE:
            snprintf (buf, n, "below %d kbps", prefs ? prefs->min_bitrate : 0);
            break;
        case SP_MATCH_REJ_LENGTH:
            snprintf (buf, n, "wrong length");
            break;
        case SP_MATCH_REJ_TITLE:
            snprintf (buf, n, "other title");
            break;
        case SP_MATCH_REJ_VERSION:
            if (r->reject_detail[0] && strncmp (r->reject_detail, "not the ", 8) != 0 &&
                strncmp (r->reject_detail, "different", 9) != 0 &&
                strncmp (r->reject_detail, "part ", 5) != 0)
                snprintf (buf, n, "%s", r->reject_detail);
            else if (strncmp (r->reject_detail, "not the ", 8) == 0)
                snprintf (buf, n, "without the version asked for");
            else if (strncmp (r->reject_detail, "different remix", 15) == 0)
                snprintf (buf, n, "other remix");
            else
                snprintf (buf, n, "other version");
            break;
        case SP_MATCH_REJ_ARTIST:
            snprintf (buf, n, "artist missing");
            break;
        default:
            snprintf (buf, n, "rejected");
    }
    return buf;
}

//  English plural of a category made of a count noun ("live version" →
//  "live versions", "remix" → "remixes"); phrases are left alone.
static void
s_plural (char *dst, size_t n, const char *cat, size_t count)
{
    static const char *const nouns[] = {
        "excluded user", "failing peer",      "other title", "other remix",
        "other version", "unaccepted format", NULL};
    size_t len = strlen (cat);
    bool noun = sp_match__in_list (nouns, cat) || strstr (cat, "version") ||
                strstr (cat, "remix") || strstr (cat, "cover") || strstr (cat, "demo") ||
                strstr (cat, "edit") || strstr (cat, "recording");
    if (strncmp (cat, "below", 5) == 0 || strncmp (cat, "wrong", 5) == 0 ||
        strncmp (cat, "without", 7) == 0 || strncmp (cat, "not ", 4) == 0 || strchr (cat, '(') ||
        strstr (cat, "asked"))
        noun = false;
    if (count == 1 || !noun || len == 0)
        snprintf (dst, n, "%s", cat);
    else if (cat[len - 1] == 'x' || cat[len - 1] == 's')
        snprintf (dst, n, "%ses", cat);
    else
        snprintf (dst, n, "%ss", cat);
}

char *
sp_match_set_summary (const sp_match_set_t *self, const sp_match_prefs_t *prefs, char *buf,
                      size_t n)
{
    if (!buf || n == 0)
        return buf;
    buf[0] = 0;
    if (!self)
        return buf;
    enum { MAX_CATS = 24 };
    char cats[MAX_CATS][96];
    size_t counts[MAX_CATS];
    size_t ncats = 0, other = 0;
    for (size_t i = 0; i < self->count; i++) {
        const sp_match_result_t *r = &self->items[i];
        if (r->reject == SP_MATCH_OK)
            continue;
        char cat[96];
        sp_match_category (r, prefs, cat, sizeof cat);
        size_t k;
        for (k = 0; k < ncats; k++)
            if (strcmp (cats[k], cat) == 0)
                break;
        if (k == ncats) {
            if (ncats == MAX_CATS) {
                other++;
                continue;
            }
            snprintf (cats[k], sizeof cats[k], "%s", cat);
            counts[k] = 0;
            ncats++;
        }
        counts[k]++;
    }
    //  most frequent first, then by name (deterministic)
    for (size_t i = 1; i < ncats; i++)
        for (size_t j = i;
             j > 0 && (counts[j] > counts[j - 1] ||
                       (counts[j] == counts[j - 1] && strcmp (cats[j], cats[j - 1]) < 0));
             j--) {
            char tmp[96];
            memcpy (tmp, cats[j], sizeof tmp);
            memcpy (cats[j], cats[j - 1], sizeof tmp);
            memcpy (cats[j - 1], tmp, sizeof tmp);
            size_t c = counts[j];
            counts[j] = counts[j - 1];
            counts[j - 1] = c;
        }
    size_t off =
        (size_t) snprintf (buf, n, "%zu result%s", self->count, self->count == 1 ? "" : "s");
    for (size_t i = 0; i < ncats && off < n; i++) {
        char word[128];
        s_plural (word, sizeof word, cats[i], counts[i]);
        off += (size_t) snprintf (buf + off, n - off, "%s%zu %s", i ? ", " : ": ", counts[i], word);
    }
    if (other && off < n)
        snprintf (buf + off, n - off, ", %zu other", other);
    return buf;
}
