/*  textlist.c: plain text track lists ("Artist - Title" lines or CSV with a
    header row). See textlist.h for the accepted forms. */
#include "textlist.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_FIELDS   64   /* CSV fields per record kept */
#define S_MAX_FIELD    4096 /* bytes per CSV field kept */
#define S_DEFAULT_NAME "Text list"

// ------------------------------------------------------------ helpers

static bool
s_utf8_valid (const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else
            return false;
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += n + 1;
    }
    return true;
}

//  Trim ASCII whitespace in place; returns the start.
static char *
s_trim (char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen (s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int
sp_textlist_parse_duration (const char *s, uint64_t *ms)
{
    if (!s || !ms)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return -1;
    uint64_t parts[3];
    int np = 0;
    const char *p = s;
    uint64_t frac_ms = 0;
    for (;;) {
        if (!isdigit ((unsigned char) *p) || np == 3)
            return -1;
        uint64_t v = 0;
        int digits = 0;
        while (isdigit ((unsigned char) *p)) {
            v = v * 10 + (uint64_t) (*p - '0');
            if (++digits > 6)
                return -1;
            p++;
        }
        parts[np++] = v;
        if (*p == ':') {
            p++;
            continue;
        }
        if (*p == '.') {
            p++;
            uint64_t scale = 100;
            if (!isdigit ((unsigned char) *p))
                return -1;
            while (isdigit ((unsigned char) *p)) {
                frac_ms += (uint64_t) (*p - '0') * scale;
                scale /= 10;
                p++;
            }
        }
        break;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return -1;
    uint64_t sec;
    if (np == 1)
        sec = parts[0];
    else if (np == 2) {
        if (parts[1] >= 60)
            return -1;
        sec = parts[0] * 60 + parts[1];
    } else {
        if (parts[1] >= 60 || parts[2] >= 60)
            return -1;
        sec = parts[0] * 3600 + parts[1] * 60 + parts[2];
    }
    if (sec > 24 * 3600)
        return -1;
    *ms = sec * 1000 + frac_ms;
    return 0;
}

//  Fill an entry: title, one artist, album?, duration?. Returns 0 / -1 (OOM).
static int
s_add_track (sp_playlist_t *pl, const char *artist, const char *title, const char *album,
             bool has_dur, uint64_t dur_ms)
{
    sp_playlist_entry_t *e = sp_playlist_add (pl);
    if (!e)
        return -1;
    sp_track_t *t = &e->track;
    t->title = strdup (title);
    t->playlist = strdup (pl->name);
    t->position = pl->count - 1;
    if (album && *album)
        t->album = strdup (album);
    if (has_dur) {
        t->has_duration_ms = true;
        t->duration_ms = dur_ms;
    }
    if (!t->title || !t->playlist || (album && *album && !t->album) ||
        sp_msg_strv_add (&t->artists, &t->artists_count, artist) != SP_MSG_OK)
        return -1;
    return 0;
}

//  A short, printable excerpt of a bad line for a note.
static void
s_excerpt (char *dst, size_t n, const char *line)
{
    char tmp[120];
    sp_playlist_cut_utf8 (tmp, sizeof tmp, line);
    for (char *c = tmp; *c; c++)
        if ((unsigned char) *c < 0x20)
            *c = ' ';
    sp_playlist_cut_utf8 (dst, n, tmp);
}

// ------------------------------------------------------------ CSV

typedef struct {
    char *f[S_MAX_FIELDS]; /* fields (heap) */
    size_t n;              /* fields used */
} s_record_t;

static void
s_record_clear (s_record_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        free (r->f[i]);
    r->n = 0;
}

//  Read one CSV record from *p (quotes may span lines), advance *p past its
//  line end and add the newlines consumed to *line. Returns 0, -1 on OOM.
static int
s_csv_record (const char **p, char sep, s_record_t *r, int *line)
{
    const char *s = *p;
    r->n = 0;
    char *buf = malloc (S_MAX_FIELD + 1);
    if (!buf)
        return -1;
    for (;;) {
        size_t len = 0;
        bool quoted = false;
        while (*s == ' ' || *s == '\t') {
            if (*s == sep)
                break;
            s++;
        }
        if (*s == '"') {
            quoted = true;
            s++;
            while (*s) {
                if (*s == '"' && s[1] == '"') {
                    if (len < S_MAX_FIELD)
                        buf[len++] = '"';
                    s += 2;
                } else if (*s == '"') {
                    s++;
                    break;
                } else {
                    if (*s == '\n')
                        (*line)++;
                    if (len < S_MAX_FIELD)
                        buf[len++] = *s;
                    s++;
                }
            }
        }
        //  unquoted text (or junk after a closing quote, kept as text)
        while (*s && *s != sep && *s != '\n') {
            if (len < S_MAX_FIELD && !(quoted && (*s == ' ' || *s == '\t' || *s == '\r')))
                buf[len++] = *s;
            s++;
        }
        buf[len] = '\0';
        if (r->n < S_MAX_FIELDS) {
            char *f = strdup (buf);
            if (!f) {
                free (buf);
                s_record_clear (r);  //  no half record for the caller to leak
                return -1;
            }
            r->f[r->n++] = f;
        }
        if (*s == sep) {
            s++;
            continue;
        }
        if (*s == '\n') {
            s++;
            (*line)++;
        }
        break;
    }
    free (buf);
    *p = s;
    return 0;
}

typedef struct {
    char sep;
    int artist, title, album, duration; /* column index or -1 */
    size_t ncols;
} s_columns_t;

//  Is the line a CSV header naming artist and title? Tries ',', ';', tab.
static bool
s_csv_header (const char *line_start, s_columns_t *cols)
{
    static const char seps[] = {',', ';', '\t'};
    for (size_t k = 0; k < sizeof seps; k++) {
        const char *p = line_start;
        int dummy = 0;
        s_record_t r = {0};
        if (s_csv_record (&p, seps[k], &r, &dummy) != 0)
            return false;
        s_columns_t c = {seps[k], -1, -1, -1, -1, r.n};
        for (size_t i = 0; i < r.n; i++) {
            char *f = s_trim (r.f[i]);
            if (strcasecmp (f, "artist") == 0 || strcasecmp (f, "artists") == 0)
                c.artist = c.artist < 0 ? (int) i : c.artist;
            else if (strcasecmp (f, "title") == 0 || strcasecmp (f, "track") == 0 ||
                     strcasecmp (f, "name") == 0)
                c.title = c.title < 0 ? (int) i : c.title;
            else if (strcasecmp (f, "album") == 0)
                c.album = c.album < 0 ? (int) i : c.album;
            else if (strcasecmp (f, "duration") == 0 || strcasecmp (f, "length") == 0)
                c.duration = c.duration < 0 ? (int) i : c.duration;
        }
        s_record_clear (&r);
        if (c.artist >= 0 && c.title >= 0) {
            *cols = c;
            return true;
        }
    }
    return false;
}

static int
s_parse_csv (sp_playlist_t *pl, const char *p, int line, const s_columns_t *cols)
{
    s_record_t r = {0};
    //  skip the header record
    if (s_csv_record (&p, cols->sep, &r, &line) != 0)
        return -1;
    s_record_clear (&r);
    while (*p) {
        int at = line;
        //  blank lines and comments
        const char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r')
            q++;
        if (*q == '\n' || *q == '#') {
            const char *nl = strchr (q, '\n');
            p = nl ? nl + 1 : q + strlen (q);
            line++;
            continue;
        }
        if (!*q)
            break;
        if (s_csv_record (&p, cols->sep, &r, &line) != 0)
            return -1;
        char *artist = (size_t) cols->artist < r.n ? s_trim (r.f[cols->artist]) : "";
        char *title = (size_t) cols->title < r.n ? s_trim (r.f[cols->title]) : "";
        char *album =
            cols->album >= 0 && (size_t) cols->album < r.n ? s_trim (r.f[cols->album]) : NULL;
        const char *dur = cols->duration >= 0 && (size_t) cols->duration < r.n
                              ? s_trim (r.f[cols->duration])
                              : NULL;
        int rc = 0;
        if (!*artist || !*title)
            rc = sp_playlist_note (pl, "line %d: %s is empty; line ignored", at,
                                   !*artist ? "artist" : "title");
        else {
            uint64_t ms = 0;
            bool has_dur = false;
            if (dur && *dur) {
                if (sp_textlist_parse_duration (dur, &ms) == 0)
                    has_dur = true;
                else {
                    char ex[64];
                    s_excerpt (ex, sizeof ex, dur);
                    rc = sp_playlist_note (pl,
                                           "line %d: duration \"%s\" not understood "
                                           "(use m:ss or seconds); ignored",
                                           at, ex);
                }
            }
            if (rc == 0)
                rc = s_add_track (pl, artist, title, album, has_dur, ms);
            if (rc == 0 && pl->count >= SP_PLAYLIST_MAX_ENTRIES && *p)
                rc = sp_playlist_note (pl, "line %d: more than %d tracks; the rest is ignored",
                                       line, SP_PLAYLIST_MAX_ENTRIES);
        }
        s_record_clear (&r);
        if (rc != 0)
            return -1;
        if (pl->count >= SP_PLAYLIST_MAX_ENTRIES)
            break;
    }
    return 0;
}

// ------------------------------------------------------------ Artist - Title

//  Find the first " - " / " – " / " — " separator; returns its start and
//  sets *len to its length, or NULL.
static char *
s_find_sep (char *s, size_t *len)
{
    static const char *seps[] = {" - ", " \xe2\x80\x93 ", " \xe2\x80\x94 "};
    char *best = NULL;
    for (size_t i = 0; i < 3; i++) {
        char *f = strstr (s, seps[i]);
        if (f && (!best || f < best)) {
            best = f;
            *len = strlen (seps[i]);
        }
    }
    return best;
}

static int
s_parse_lines (sp_playlist_t *pl, char *text, int line)
{
    char *save = text;
    while (save && *save) {
        char *l = save;
        char *nl = strchr (l, '\n');
        if (nl) {
            *nl = '\0';
            save = nl + 1;
        } else
            save = NULL;
        int at = line++;
        char *t = s_trim (l);
        if (!*t || *t == '#')
            continue;
        if (pl->count >= SP_PLAYLIST_MAX_ENTRIES) {
            if (sp_playlist_note (pl, "line %d: more than %d tracks; the rest is ignored", at,
                                  SP_PLAYLIST_MAX_ENTRIES) != 0)
                return -1;
            break;
        }
        size_t seplen = 0;
        char *sep = s_find_sep (t, &seplen);
        int rc;
        if (!sep) {
            char ex[128];
            s_excerpt (ex, sizeof ex, t);
            rc = sp_playlist_note (pl,
                                   "line %d: expected \"Artist - Title\", got \"%s\"; "
                                   "line ignored",
                                   at, ex);
        } else {
            *sep = '\0';
            char *artist = s_trim (t);
            char *title = s_trim (sep + seplen);
            if (!*artist || !*title)
                rc = sp_playlist_note (pl, "line %d: %s is empty; line ignored", at,
                                       !*artist ? "artist" : "title");
            else
                rc = s_add_track (pl, artist, title, NULL, false, 0);
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

// ------------------------------------------------------------ entry point

int
sp_textlist_parse (const char *content, const char *name, sp_playlist_t **out, char *err,
                   size_t err_size)
{
    if (err && err_size)
        err[0] = '\0';
    if (!out)
        return -1;
    *out = NULL;
    if (!content) {
        sp_playlist_cut_utf8 (err, err_size, "no content: send the text of the list");
        return -1;
    }
    //  the client API refuses larger content already; a caller that reads a
    //  file itself must not get around the bound
    if (strnlen (content, SP_TEXTLIST_MAX_BYTES + 1) > SP_TEXTLIST_MAX_BYTES) {
        sp_playlist_cut_utf8 (err, err_size,
                              "the list is larger than 4 MiB: split it into smaller lists");
        return -1;
    }
    if (!s_utf8_valid ((const unsigned char *) content)) {
        sp_playlist_cut_utf8 (err, err_size,
                              "the list is not valid UTF-8 text: save it as UTF-8 and try again");
        return -1;
    }
    sp_playlist_t *pl = sp_playlist_new ();
    char *copy = NULL;
    if (!pl)
        goto oom;
    free (pl->name);
    free (pl->source);
    pl->name = strdup (name && *name ? name : S_DEFAULT_NAME);
    pl->source = strdup ("text");
    if (!pl->name || !pl->source)
        goto oom;

    const char *p = content;
    if ((unsigned char) p[0] == 0xEF && (unsigned char) p[1] == 0xBB &&
        (unsigned char) p[2] == 0xBF)
        p += 3;
    //  the first line that is not blank or a comment decides the form
    int line = 1;
    const char *first = p;
    while (*first) {
        const char *q = first;
        while (*q == ' ' || *q == '\t' || *q == '\r')
            q++;
        if (*q != '\n' && *q != '#' && *q)
            break;
        const char *nl = strchr (q, '\n');
        if (!nl) {
            first = q + strlen (q);
            break;
        }
        first = nl + 1;
        line++;
    }
    s_columns_t cols;
    if (*first && s_csv_header (first, &cols)) {
        if (s_parse_csv (pl, first, line, &cols) != 0)
            goto oom;
    } else {
        copy = strdup (p);
        if (!copy || s_parse_lines (pl, copy, 1) != 0)
            goto oom;
    }
    free (copy);
    copy = NULL;
    if (pl->count == 0 && pl->notes_count == 0 &&
        sp_playlist_note (pl, "the list holds no tracks (blank lines and # comments only)") != 0)
        goto oom;
    *out = pl;
    return 0;
oom:
    free (copy);
    sp_playlist_destroy (&pl);
    sp_playlist_cut_utf8 (err, err_size, "out of memory");
    return -1;
}
