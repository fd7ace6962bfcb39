/*  plex.c: the Plex library loader (see plex.h). */
#include "plex.h"

#include "soulpipe/http.h"
#include "soulpipe/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PAGE         2000         /* tracks per request */
#define S_CONNECT_MS   3000         /* Plex connect timeout */
#define S_TOTAL_MS     60000        /* per request */
#define S_RETRIES      1            /* a down Plex must not hold a submit long */
#define S_MAX_RESPONSE (256u << 20) /* a page of 2000 tracks is a few MB */

static bool
s_section_wanted (const char *list, const char *key)
{
    if (!list || !*list)
        return true;
    size_t kl = strlen (key);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *te = e;
        while (te > p && te[-1] == ' ')
            te--;
        if ((size_t) (te - p) == kl && strncmp (p, key, kl) == 0)
            return true;
        p = e;
    }
    return false;
}

static void
s_note_http (const sp_config_t *cfg, int rc, const sp_http_resp_t *resp, const char *what,
             char *note, size_t n)
{
    char url[512];
    sp_log_redact_url (cfg->plex_url, url, sizeof url);
    long status = resp ? resp->status : 0;
    if (rc == SP_HTTP_ERR_CLIENT && (status == 401 || status == 403))
        snprintf (note, n, "Plex refused the token (HTTP %ld) while %s: check PLEX_TOKEN", status,
                  what);
    else if (rc == SP_HTTP_ERR_TRANSPORT || rc == SP_HTTP_ERR_TIMEOUT)
        snprintf (note, n, "Plex is unreachable at %s (%s) while %s", url, sp_http_err_name (rc),
                  what);
    else if (status)
        snprintf (note, n, "Plex answered HTTP %ld while %s", status, what);
    else
        snprintf (note, n, "Plex request failed (%s) while %s", sp_http_err_name (rc), what);
}

static const char *
s_jstr (json_t *o, const char *k)
{
    return json_string_value (json_object_get (o, k));
}

//  The file of a track: Media[0].Part[0].file.
static const char *
s_file (json_t *md)
{
    json_t *media = json_array_get (json_object_get (md, "Media"), 0);
    json_t *part = json_array_get (json_object_get (media, "Part"), 0);
    return s_jstr (part, "file");
}

static int
s_load_section (sp_http_t *http, const sp_config_t *cfg, const char *key, sp_library_t *lib,
                char *note, size_t n)
{
    char path[256];
    snprintf (path, sizeof path, "/library/sections/%s/all?type=10", key);
    size_t start = 0;
    for (;;) {
        char h1[64], h2[64];
        snprintf (h1, sizeof h1, "X-Plex-Container-Start: %zu", start);
        snprintf (h2, sizeof h2, "X-Plex-Container-Size: %d", S_PAGE);
        const char *hdrs[] = {h1, h2, NULL};
        sp_http_req_t req = {.headers = hdrs};
        sp_http_resp_t *resp = NULL;
        int rc = sp_http_request (http, SP_HTTP_GET, path, &req, &resp);
        if (rc != SP_HTTP_OK) {
            s_note_http (cfg, rc, resp, "reading the tracks of a music section", note, n);
            sp_http_resp_destroy (&resp);
            return -1;
        }
        json_t *mc = json_object_get (resp->json, "MediaContainer");
        if (!json_is_object (mc)) {
            snprintf (note, n, "Plex sent an unexpected answer for section %s (no MediaContainer)",
                      key);
            sp_http_resp_destroy (&resp);
            return -1;
        }
        json_t *md = json_object_get (mc, "Metadata");
        size_t got = json_array_size (md);
        size_t i;
        json_t *t;
        json_array_foreach (md, i, t)
        {
            json_t *d = json_object_get (t, "duration");
            uint64_t dur = json_is_integer (d) && json_integer_value (d) > 0
                               ? (uint64_t) json_integer_value (d)
                               : 0;
            if (sp_library_add (lib, s_jstr (t, "title"), s_jstr (t, "grandparentTitle"),
                                s_jstr (t, "originalTitle"), s_jstr (t, "parentTitle"), dur,
                                s_file (t)) < 0) {
                snprintf (note, n, "out of memory while indexing the Plex library");
                sp_http_resp_destroy (&resp);
                return -1;
            }
        }
        json_t *ts = json_object_get (mc, "totalSize");
        bool has_total = json_is_integer (ts);
        size_t total = has_total ? (size_t) json_integer_value (ts) : 0;
        sp_http_resp_destroy (&resp); /* ts dies with it */
        start += got;
        if (got == 0 || !has_total || start >= total)
            break;
    }
    return 0;
}

int
sp_plex_load_library (const sp_config_t *cfg, sp_library_t **lib_out, char *note, size_t n)
{
    *lib_out = NULL;
    if (!cfg->plex_url || !*cfg->plex_url) {
        snprintf (note, n, "PLEX_URL is not set");
        return -1;
    }
    sp_http_t *http = sp_http_new (cfg->plex_url);
    sp_library_t *lib = sp_library_new ();
    sp_http_resp_t *resp = NULL;
    int ret = -1;
    if (!http || !lib) {
        snprintf (note, n, "out of memory");
        goto done;
    }
    sp_http_set_timeouts (http, S_CONNECT_MS, S_TOTAL_MS);
    sp_http_set_retries (http, S_RETRIES, 300, 2000);
    sp_http_set_max_response (http, S_MAX_RESPONSE);
    sp_http_set_header (http, "X-Plex-Token", cfg->plex_token);
    sp_http_set_header (http, "X-Plex-Product", "soulpipe");
    sp_http_set_header (http, "X-Plex-Client-Identifier", "soulpipe-analyzer");
    int rc = sp_http_get (http, "/library/sections", &resp);
    if (rc != SP_HTTP_OK) {
        s_note_http (cfg, rc, resp, "listing the library sections", note, n);
        goto done;
    }
    json_t *dirs = json_object_get (json_object_get (resp->json, "MediaContainer"), "Directory");
    size_t i, sections = 0;
    json_t *d;
    json_array_foreach (dirs, i, d)
    {
        const char *type = s_jstr (d, "type");
        const char *key = s_jstr (d, "key");
        if (!type || strcmp (type, "artist") != 0 || !key || strlen (key) > 64 ||
            strspn (key, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") !=
                strlen (key))
            continue;
        if (!s_section_wanted (cfg->plex_sections, key))
            continue;
        if (s_load_section (http, cfg, key, lib, note, n) != 0)
            goto done;
        sections++;
    }
    if (sections == 0) {
        if (cfg->plex_sections && *cfg->plex_sections)
            snprintf (note, n, "Plex has no music section with a key in PLEX_SECTIONS (%s)",
                      cfg->plex_sections);
        else
            snprintf (note, n, "Plex has no music library section");
        goto done;
    }
    sp_log_info ("event=plex_loaded sections=%zu tracks=%zu", sections, sp_library_size (lib));
    *lib_out = lib;
    lib = NULL;
    ret = 0;
done:
    sp_http_resp_destroy (&resp);
    sp_library_destroy (&lib);
    sp_http_destroy (&http);
    return ret;
}
