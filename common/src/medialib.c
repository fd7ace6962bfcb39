/*  medialib.c: the library dispatcher (see medialib.h): picks the backend
    for a kind, checks arguments and capabilities, and keeps the error
    wording of all backends the same. The backends live in
    medialib_<kind>.c; the "none" backend is here.
*/
#include "soulpipe/medialib.h"

#include "soulpipe/http.h"
#include "soulpipe/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _sp_medialib_t {
    sp_medialib_kind_t kind;               //  which backend
    const sp_medialib_backend_t *backend;  //  its functions (static)
    void *state;                           //  the backend's object, owned
};

// ------------------------------------------------------------ "none"

static int s_none_token;  //  a non-NULL state for the none backend

static void *
s_none_create (const sp_medialib_opts_t *opts, char *note, size_t n)
{
    (void) opts;
    (void) note;
    (void) n;
    return &s_none_token;
}

static void
s_none_destroy (void **state_p)
{
    *state_p = NULL;
}

static int
s_none_load (void *state, sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
    (void) state;
    (void) fn;
    (void) arg;
    (void) note;
    (void) n;
    return SP_MEDIALIB_OK;
}

static int
s_none_rescan (void *state, const char *path, int timeout_ms, char *note, size_t n)
{
    (void) state;
    (void) path;
    (void) timeout_ms;
    (void) note;
    (void) n;
    return SP_MEDIALIB_OK;
}

static int
s_none_find (void *state, const char *path, char **item_id, char *note, size_t n)
{
    (void) state;
    (void) path;
    (void) item_id;
    snprintf (note, n, "no library is configured (SOULPIPE_LIBRARY=none)");
    return SP_MEDIALIB_ERR_NOTFOUND;
}

static const sp_medialib_backend_t s_none_backend = {
    .name = "no library",
    .caps = SP_MEDIALIB_CAN_LOAD | SP_MEDIALIB_CAN_RESCAN,
    .create = s_none_create,
    .destroy = s_none_destroy,
    .load = s_none_load,
    .rescan = s_none_rescan,
    .find_item = s_none_find,
};

static const sp_medialib_backend_t *
s_backend (sp_medialib_kind_t kind)
{
    switch (kind) {
        case SP_MEDIALIB_NONE:
            return &s_none_backend;
        case SP_MEDIALIB_PLEX:
            return &sp_medialib_plex_backend;
        case SP_MEDIALIB_JELLYFIN:
            return &sp_medialib_jellyfin_backend;
        case SP_MEDIALIB_SUBSONIC:
            return &sp_medialib_subsonic_backend;
        case SP_MEDIALIB_FOLDER:
            return &sp_medialib_folder_backend;
        default:
            return NULL;
    }
}

// ------------------------------------------------------------ choosing

static const char *const s_kind_names[SP_MEDIALIB_KIND_COUNT] = {"none", "plex", "jellyfin",
                                                                 "subsonic", "folder"};

const char *
sp_medialib_kind_name (sp_medialib_kind_t kind)
{
    return (unsigned) kind < SP_MEDIALIB_KIND_COUNT ? s_kind_names[kind] : "unknown";
}

static bool
s_set (const char *s)
{
    return s && *s;
}

int
sp_medialib_kind_choose (const char *value, const char *plex_url, const char *jellyfin_url,
                         const char *subsonic_url, const char *library_dir,
                         sp_medialib_kind_t *kind, char *note, size_t n)
{
    if (n)
        note[0] = '\0';
    if (s_set (value)) {
        static const struct {
            const char *name;
            sp_medialib_kind_t kind;
        } names[] = {{"none", SP_MEDIALIB_NONE},         {"plex", SP_MEDIALIB_PLEX},
                     {"jellyfin", SP_MEDIALIB_JELLYFIN}, {"navidrome", SP_MEDIALIB_SUBSONIC},
                     {"subsonic", SP_MEDIALIB_SUBSONIC}, {"folder", SP_MEDIALIB_FOLDER}};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcasecmp (value, names[i].name) == 0) {
                *kind = names[i].kind;
                return 0;
            }
        snprintf (note, n,
                  "SOULPIPE_LIBRARY=%.64s is not one of plex, jellyfin, navidrome, subsonic, "
                  "folder, none",
                  value);
        return -1;
    }
    const char *set[4] = {plex_url, jellyfin_url, subsonic_url, library_dir};
    const sp_medialib_kind_t kinds[4] = {SP_MEDIALIB_PLEX, SP_MEDIALIB_JELLYFIN,
                                         SP_MEDIALIB_SUBSONIC, SP_MEDIALIB_FOLDER};
    static const char *const vars[4] = {"PLEX_URL", "JELLYFIN_URL", "SUBSONIC_URL",
                                        "SOULPIPE_LIBRARY_DIR"};
    *kind = SP_MEDIALIB_NONE;
    int first = -1;
    size_t used = 0;
    for (int i = 0; i < 4; i++) {
        if (!s_set (set[i]))
            continue;
        if (first < 0) {
            first = i;
            *kind = kinds[i];
            continue;
        }
        if (used == 0 && n)
            used = (size_t) snprintf (note, n, "%s is set, so %s is used and", vars[first],
                                      sp_medialib_kind_name (kinds[first]));
        if (used < n)
            used += (size_t) snprintf (note + used, n - used, " %s", vars[i]);
    }
    if (used && used < n)
        snprintf (note + used, n - used, " is ignored (set SOULPIPE_LIBRARY to choose)");
    return 0;
}

// ------------------------------------------------------------ the library

sp_medialib_t *
sp_medialib_new (const sp_medialib_opts_t *opts, int *err, char *note, size_t n)
{
    int dummy;
    if (!err)
        err = &dummy;
    *err = SP_MEDIALIB_OK;
    if (n)
        note[0] = '\0';
    const sp_medialib_backend_t *b = opts ? s_backend (opts->kind) : NULL;
    if (!b || !b->create || !b->destroy) {
        snprintf (note, n, "the %s library is not built into this program",
                  opts ? sp_medialib_kind_name (opts->kind) : "(none)");
        *err = SP_MEDIALIB_ERR_CONFIG;
        return NULL;
    }
    sp_medialib_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (note, n, "out of memory");
        *err = SP_MEDIALIB_ERR_NOMEM;
        return NULL;
    }
    self->kind = opts->kind;
    self->backend = b;
    self->state = b->create (opts, note, n);
    if (!self->state) {
        if (n && !note[0])
            snprintf (note, n, "%s: could not be set up", b->name);
        *err = SP_MEDIALIB_ERR_CONFIG;
        free (self);
        return NULL;
    }
    return self;
}

void
sp_medialib_destroy (sp_medialib_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_medialib_t *self = *self_p;
    self->backend->destroy (&self->state);
    free (self);
    *self_p = NULL;
}

sp_medialib_kind_t
sp_medialib_kind (const sp_medialib_t *self)
{
    return self ? self->kind : SP_MEDIALIB_NONE;
}

const char *
sp_medialib_name (const sp_medialib_t *self)
{
    return self ? self->backend->name : "no library";
}

unsigned
sp_medialib_caps (const sp_medialib_t *self)
{
    return self ? self->backend->caps : 0;
}

static int
s_unsupported (const sp_medialib_t *self, const char *what, char *note, size_t n)
{
    snprintf (note, n, "%s cannot %s", self->backend->name, what);
    return SP_MEDIALIB_ERR_UNSUPPORTED;
}

int
sp_medialib_load (sp_medialib_t *self, sp_medialib_track_fn *fn, void *arg, char *note, size_t n)
{
    if (n)
        note[0] = '\0';
    if (!self || !fn) {
        snprintf (note, n, "bad arguments");
        return SP_MEDIALIB_ERR;
    }
    if (!(self->backend->caps & SP_MEDIALIB_CAN_LOAD) || !self->backend->load)
        return s_unsupported (self, "list its tracks", note, n);
    return self->backend->load (self->state, fn, arg, note, n);
}

int
sp_medialib_rescan (sp_medialib_t *self, const char *path, int timeout_ms, char *note, size_t n)
{
    if (n)
        note[0] = '\0';
    if (!self || !path || !*path || timeout_ms <= 0) {
        snprintf (note, n, "bad arguments");
        return SP_MEDIALIB_ERR;
    }
    if (!(self->backend->caps & SP_MEDIALIB_CAN_RESCAN) || !self->backend->rescan)
        return s_unsupported (self, "rescan", note, n);
    return self->backend->rescan (self->state, path, timeout_ms, note, n);
}

int
sp_medialib_find_item (sp_medialib_t *self, const char *path, char **item_id, char *note, size_t n)
{
    if (n)
        note[0] = '\0';
    if (item_id)
        *item_id = NULL;
    if (!self || !path || !*path || !item_id) {
        snprintf (note, n, "bad arguments");
        return SP_MEDIALIB_ERR;
    }
    if (!self->backend->find_item)
        return s_unsupported (self, "find an item by its file", note, n);
    return self->backend->find_item (self->state, path, item_id, note, n);
}

int
sp_medialib_playlist_upsert (sp_medialib_t *self, const char *name, const char *const *item_ids,
                             size_t count, char **playlist_id, char *note, size_t n)
{
    if (n)
        note[0] = '\0';
    if (playlist_id)
        *playlist_id = NULL;
    if (!self || !name || !*name || (count && !item_ids)) {
        snprintf (note, n, "bad arguments");
        return SP_MEDIALIB_ERR;
    }
    for (size_t i = 0; i < count; i++)
        if (!item_ids[i] || !*item_ids[i]) {
            snprintf (note, n, "bad arguments (item %zu has no id)", i);
            return SP_MEDIALIB_ERR;
        }
    if (!(self->backend->caps & SP_MEDIALIB_CAN_PLAYLIST) || !self->backend->playlist_upsert)
        return s_unsupported (self, "make playlists", note, n);
    char *id = NULL;
    int rc = self->backend->playlist_upsert (self->state, name, item_ids, count, &id, note, n);
    if (rc == SP_MEDIALIB_OK && playlist_id)
        *playlist_id = id;
    else
        free (id);
    return rc;
}

const char *
sp_medialib_err_name (int err)
{
    switch (err) {
        case SP_MEDIALIB_OK:
            return "ok";
        case SP_MEDIALIB_ERR_UNREACHABLE:
            return "unreachable";
        case SP_MEDIALIB_ERR_REFUSED:
            return "refused";
        case SP_MEDIALIB_ERR_TIMEOUT:
            return "timeout";
        case SP_MEDIALIB_ERR_NOTFOUND:
            return "not-found";
        case SP_MEDIALIB_ERR_UNSUPPORTED:
            return "unsupported";
        case SP_MEDIALIB_ERR_CONFIG:
            return "config";
        case SP_MEDIALIB_ERR_NOMEM:
            return "nomem";
        default:
            return "error";
    }
}

// ------------------------------------------------------------ for backends

int
sp_medialib_http_note (const char *name, const char *base_url, const char *url_var,
                       const char *credential, const char *key_var, int rc, long status,
                       const char *what, char *note, size_t n)
{
    char url[512];
    sp_log_redact_url (base_url ? base_url : "", url, sizeof url);
    if (rc == SP_HTTP_ERR_CLIENT && (status == 401 || status == 403)) {
        snprintf (note, n, "%s refused the %s (HTTP %ld) while %s: check %s", name, credential,
                  status, what, key_var);
        return SP_MEDIALIB_ERR_REFUSED;
    }
    if (rc == SP_HTTP_ERR_TRANSPORT || rc == SP_HTTP_ERR_TIMEOUT) {
        snprintf (note, n, "%s is unreachable at %s (%s) while %s: check %s", name, url,
                  sp_http_err_name (rc), what, url_var);
        return SP_MEDIALIB_ERR_UNREACHABLE;
    }
    if (rc == SP_HTTP_ERR_NOMEM) {
        snprintf (note, n, "out of memory while %s", what);
        return SP_MEDIALIB_ERR_NOMEM;
    }
    if (status) {
        snprintf (note, n, "%s answered HTTP %ld while %s", name, status, what);
        return sp_http_err_retryable (rc) ? SP_MEDIALIB_ERR_UNREACHABLE : SP_MEDIALIB_ERR;
    }
    snprintf (note, n, "%s request failed (%s) while %s", name, sp_http_err_name (rc), what);
    return sp_http_err_retryable (rc) ? SP_MEDIALIB_ERR_UNREACHABLE : SP_MEDIALIB_ERR;
}
