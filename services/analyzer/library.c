/*  library.c: the in-memory library index and matcher (see library.h).

    Layout: one text arena (all strings, NUL-separated, addressed by 32-bit
    offsets), an item array, and an open hash table of chain heads keyed by
    the FNV-1a hash of the base title key. 200,000 tracks take about 40 MB.
*/
#include "library.h"

#include "soulpipe/text.h"
#include "soulpipe/title.h"

#include <math.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_NONE               UINT32_MAX
#define S_ARENA_MAX          ((size_t) 1 << 31) /* bytes of text at most */
#define S_MAX_ARTISTS        8                  /* wanted artists compared */
#define S_SOFT_FACTOR        0.95               /* radio edit vs full length */
#define S_UNKNOWN_DUR_FACTOR 0.95               /* one side has no duration */

typedef struct {
    uint32_t key;                                            /* offset of the base title key */
    uint32_t title, album_artist, track_artist, album, path; /* offsets, S_NONE = absent */
    uint32_t duration_ms;                                    /* 0 = unknown */
    uint32_t hash;                                           /* of the key */
    uint32_t next;                                           /* next item in the bucket chain */
} s_item_t;

struct _sp_library_t {
    char *arena; /* all strings */
    size_t arena_len, arena_cap;
    s_item_t *items;
    size_t count, cap;
    uint32_t *heads; /* bucket -> first item, S_NONE = empty */
    size_t nbuckets; /* power of two */
};

sp_library_t *
sp_library_new (void)
{
    sp_library_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->nbuckets = 1024;
    self->heads = malloc (self->nbuckets * sizeof *self->heads);
    if (!self->heads) {
        free (self);
        return NULL;
    }
    memset (self->heads, 0xFF, self->nbuckets * sizeof *self->heads);
    return self;
}

void
sp_library_destroy (sp_library_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_library_t *self = *self_p;
    free (self->arena);
    free (self->items);
    free (self->heads);
    free (self);
    *self_p = NULL;
}

size_t
sp_library_size (const sp_library_t *self)
{
    return self ? self->count : 0;
}

size_t
sp_library_bytes (const sp_library_t *self)
{
    return self ? self->arena_cap + self->cap * sizeof (s_item_t) +
                      self->nbuckets * sizeof (uint32_t)
                : 0;
}

static uint32_t
s_hash (const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= 16777619u;
    }
    return h;
}

//  Copy s into the arena; returns its offset, S_NONE for NULL/"", or
//  S_NONE - 1 on failure.
static uint32_t
s_put (sp_library_t *self, const char *s)
{
    if (!s || !*s)
        return S_NONE;
    size_t n = strlen (s) + 1;
    if (self->arena_len + n > S_ARENA_MAX)
        return S_NONE - 1;
    if (self->arena_len + n > self->arena_cap) {
        size_t cap = self->arena_cap ? self->arena_cap : 1 << 16;
        while (cap < self->arena_len + n)
            cap *= 2;
        char *a = realloc (self->arena, cap);
        if (!a)
            return S_NONE - 1;
        self->arena = a;
        self->arena_cap = cap;
    }
    memcpy (self->arena + self->arena_len, s, n);
    uint32_t off = (uint32_t) self->arena_len;
    self->arena_len += n;
    return off;
}

static const char *
s_str (const sp_library_t *self, uint32_t off)
{
    return off == S_NONE ? NULL : self->arena + off;
}

//  The base title key of a parsed title: its base with spaces removed, so
//  "Night Call" and "Nightcall" meet. Writes into key (n bytes).
static void
s_make_key (const sp_title_t *t, char *key, size_t n)
{
    size_t j = 0;
    for (const char *c = t->base; *c && j + 1 < n; c++)
        if (*c != ' ')
            key[j++] = *c;
    key[j] = '\0';
}

//  The key of a raw title. Titles without any marker (brackets, dash
//  separators) and without part or feat words have no descriptors, so their
//  base is their matching form: skip the (costlier) full parse for them.
//  Returns 0, or -1 when the title is not valid UTF-8.
static int
s_title_key (const char *title, char *key, size_t n)
{
    if (!strpbrk (title, "([{-") && !strstr (title, "\xe2\x80\x93") &&
        !strstr (title, "\xe2\x80\x94")) {
        char *norm = sp_text_normalize (title);
        if (!norm)
            return -1;
        bool plain = true;
        for (char *w = norm; *w && plain;) {
            size_t len = strcspn (w, " ");
            if ((len == 2 && strncmp (w, "pt", 2) == 0) ||
                (len == 3 && strncmp (w, "pts", 3) == 0) ||
                (len == 4 && (strncmp (w, "part", 4) == 0 || strncmp (w, "feat", 4) == 0)) ||
                (len == 5 && strncmp (w, "parts", 5) == 0))
                plain = false;
            w += len;
            while (*w == ' ')
                w++;
        }
        if (plain && strlen (norm) < SP_TITLE_TEXT_MAX - 1) {
            size_t j = 0;
            for (const char *c = norm; *c && j + 1 < n; c++)
                if (*c != ' ')
                    key[j++] = *c;
            key[j] = '\0';
            free (norm);
            return 0;
        }
        free (norm);
    }
    sp_title_t t;
    if (sp_title_parse (title, &t) != 0)
        return -1;
    s_make_key (&t, key, n);
    return 0;
}

static int
s_grow (sp_library_t *self)
{
    size_t nb = self->nbuckets * 2;
    uint32_t *heads = malloc (nb * sizeof *heads);
    if (!heads)
        return -1;
    memset (heads, 0xFF, nb * sizeof *heads);
    for (size_t i = 0; i < self->count; i++) {
        size_t b = self->items[i].hash & (nb - 1);
        self->items[i].next = heads[b];
        heads[b] = (uint32_t) i;
    }
    free (self->heads);
    self->heads = heads;
    self->nbuckets = nb;
    return 0;
}

int
sp_library_add (sp_library_t *self, const char *title, const char *album_artist,
                const char *track_artist, const char *album, uint64_t duration_ms, const char *path)
{
    if (!self)
        return -1;
    if (!title || !*title)
        return 1;
    char key[SP_TITLE_TEXT_MAX];
    if (s_title_key (title, key, sizeof key) != 0 || !*key)
        return 1;
    if (self->count >= S_NONE - 2)
        return -1;
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 1024;
        s_item_t *items = realloc (self->items, cap * sizeof *items);
        if (!items)
            return -1;
        self->items = items;
        self->cap = cap;
    }
    if (self->count + 1 > self->nbuckets / 4 * 3 && s_grow (self) != 0)
        return -1;
    s_item_t it;
    it.key = s_put (self, key);
    it.title = s_put (self, title);
    it.album_artist = s_put (self, album_artist);
    //  Plex sends originalTitle only when it differs; keep it only then
    it.track_artist = track_artist && album_artist && strcmp (track_artist, album_artist) == 0
                          ? S_NONE
                          : s_put (self, track_artist);
    it.album = s_put (self, album);
    it.path = s_put (self, path);
    if (it.key == S_NONE - 1 || it.title == S_NONE - 1 || it.album_artist == S_NONE - 1 ||
        it.track_artist == S_NONE - 1 || it.album == S_NONE - 1 || it.path == S_NONE - 1)
        return -1;
    it.duration_ms = duration_ms > UINT32_MAX ? UINT32_MAX : (uint32_t) duration_ms;
    it.hash = s_hash (key);
    size_t b = it.hash & (self->nbuckets - 1);
    it.next = self->heads[b];
    self->heads[b] = (uint32_t) self->count;
    self->items[self->count++] = it;
    return 0;
}

// ------------------------------------------------------------ matching

//  Matching forms of a name and of its part before any "feat."; up to 2.
static size_t
s_forms (const char *name, char *out[2])
{
    out[0] = out[1] = NULL;
    if (!name || !*name)
        return 0;
    size_t n = 0;
    out[n] = sp_text_normalize (name);
    if (out[n])
        n++;
    char *main_part = NULL, *feat = NULL;
    if (sp_text_split_feat (name, &main_part, &feat) == 1 && main_part && *main_part) {
        out[n] = sp_text_normalize (main_part);
        if (out[n])
            n++;
    }
    free (main_part);
    free (feat);
    return n;
}

static double
s_duration_factor (uint64_t want_ms, uint32_t have_ms)
{
    if (want_ms == 0 || have_ms == 0)
        return S_UNKNOWN_DUR_FACTOR;
    double d = fabs ((double) want_ms - (double) have_ms) / 1000.0;
    if (d <= 3.0)
        return 1.0;
    if (d <= 10.0)
        return 1.0 - (d - 3.0) / 7.0 * 0.1;
    if (d <= 30.0)
        return 0.9 - (d - 10.0) / 20.0 * 0.2;
    return 0.5;
}

int
sp_library_match (const sp_library_t *self, const char *title, const char *const *artists,
                  size_t n_artists, uint64_t duration_ms, double threshold, sp_library_match_t *out)
{
    if (!out)
        return -1;
    memset (out, 0, sizeof *out);
    if (!self || !title || !artists || n_artists == 0)
        return -1;
    sp_title_t want;
    if (sp_title_parse (title, &want) != 0)
        return -1;
    char key[SP_TITLE_TEXT_MAX];
    if (s_title_key (title, key, sizeof key) != 0 || !*key)
        return 0;
    uint32_t h = s_hash (key);
    uint32_t i = self->heads[h & (self->nbuckets - 1)];
    //  find the first same-key item before preparing the artists
    while (i != S_NONE &&
           (self->items[i].hash != h || strcmp (s_str (self, self->items[i].key), key) != 0))
        i = self->items[i].next;
    if (i == S_NONE)
        return 0;

    //  wanted artist forms: each artist (and its main part), and all joined
    char *wforms[2 * S_MAX_ARTISTS + 2];
    size_t nw = 0;
    size_t na = n_artists < S_MAX_ARTISTS ? n_artists : S_MAX_ARTISTS;
    size_t joined_len = 0;
    for (size_t a = 0; a < na; a++) {
        nw += s_forms (artists[a], wforms + nw);
        joined_len += artists[a] ? strlen (artists[a]) + 2 : 0;
    }
    if (na > 1) {
        char *joined = malloc (joined_len + 1);
        if (joined) {
            joined[0] = '\0';
            for (size_t a = 0; a < na; a++) {
                if (!artists[a])
                    continue;
                if (joined[0])
                    strcat (joined, ", ");
                strcat (joined, artists[a]);
            }
            wforms[nw] = sp_text_normalize (joined);
            if (wforms[nw])
                nw++;
            free (joined);
        }
    }

    int best = -1;
    for (; i != S_NONE; i = self->items[i].next) {
        const s_item_t *it = &self->items[i];
        if (it->hash != h || strcmp (s_str (self, it->key), key) != 0)
            continue;
        sp_title_t found;
        if (sp_title_parse (s_str (self, it->title), &found) != 0)
            continue;
        char reason[128];
        int comp = sp_title_compatible (&want, &found, reason, sizeof reason);
        if (comp != 1) {
            if (best < 0 && !out->why_not[0])
                snprintf (out->why_not, sizeof out->why_not, "%s: %s", s_str (self, it->title),
                          reason);
            continue;
        }
        double title_f = reason[0] ? S_SOFT_FACTOR : 1.0;
        char *lforms[4];
        size_t nl = s_forms (s_str (self, it->album_artist), lforms);
        nl += s_forms (s_str (self, it->track_artist), lforms + nl);
        double artist = 0.0;
        for (size_t w = 0; w < nw; w++)
            for (size_t l = 0; l < nl; l++) {
                double s = sp_text_similarity_norm (wforms[w], lforms[l]);
                if (s > artist)
                    artist = s;
            }
        for (size_t l = 0; l < nl; l++)
            free (lforms[l]);
        double conf = artist * title_f * s_duration_factor (duration_ms, it->duration_ms);
        if (conf > out->confidence || best < 0) {
            best = (int) i;
            out->confidence = conf;
        }
    }
    for (size_t w = 0; w < nw; w++)
        free (wforms[w]);
    if (best < 0)
        return 0;
    const s_item_t *it = &self->items[best];
    out->why_not[0] = '\0';
    out->title = s_str (self, it->title);
    out->artist = it->track_artist != S_NONE ? s_str (self, it->track_artist)
                                             : s_str (self, it->album_artist);
    out->album = s_str (self, it->album);
    out->path = s_str (self, it->path);
    return out->confidence >= threshold ? 1 : 0;
}

// ------------------------------------------------------------ loading

static int
s_load_add (const sp_medialib_track_t *t, void *arg, char *note, size_t n)
{
    if (sp_library_add (arg, t->title, t->album_artist, t->artist, t->album, t->duration_ms,
                        t->path) < 0) {
        snprintf (note, n, "out of memory while indexing the library");
        return -1;
    }
    return 0;
}

int
sp_library_load (const sp_medialib_opts_t *opts, sp_library_t **lib_out, char *note, size_t n)
{
    *lib_out = NULL;
    int err = SP_MEDIALIB_OK;
    sp_medialib_t *ml = sp_medialib_new (opts, &err, note, n);
    if (!ml)
        return err ? err : SP_MEDIALIB_ERR;
    sp_library_t *lib = sp_library_new ();
    int rc = lib ? sp_medialib_load (ml, s_load_add, lib, note, n) : SP_MEDIALIB_ERR_NOMEM;
    if (!lib)
        snprintf (note, n, "out of memory");
    sp_medialib_destroy (&ml);
    if (rc != SP_MEDIALIB_OK) {
        sp_library_destroy (&lib);
        return rc;
    }
    *lib_out = lib;
    return 0;
}
