/*  medialib_subsonic_call.c: the Subsonic backend's requests: every call
    is a POST to <SUBSONIC_URL>/rest/<method>.view with a form body that
    carries the parameters and the token authentication (see
    medialib_subsonic.c for the whole protocol), and errors inside
    subsonic-response mapped to notes that say what to check.
*/
#include "medialib_subsonic_int.h"
#include "soulpipe/log.h"
#include "soulpipe/medialib.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// ------------------------------------------------------------ requests

//  hex md5 of a + b into out (33 bytes), digested in two parts so the
//  password is never copied.
static int
s_md5_hex (const char *a, const char *b, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    int ok = ctx && EVP_DigestInit_ex (ctx, EVP_md5 (), NULL) == 1 &&
             EVP_DigestUpdate (ctx, a, strlen (a)) == 1 &&
             EVP_DigestUpdate (ctx, b, strlen (b)) == 1 &&
             EVP_DigestFinal_ex (ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free (ctx);
    if (!ok || mdlen != 16)
        return -1;
    for (unsigned i = 0; i < 16; i++)
        snprintf (out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

void
sp_subsonic__form_raw (s_form_t *f, const char *s)
{
    size_t n = strlen (s);
    if (f->oom)
        return;
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 512;
        while (cap < f->len + n + 1)
            cap *= 2;
        char *d = realloc (f->data, cap);
        if (!d) {
            f->oom = true;
            return;
        }
        f->data = d;
        f->cap = cap;
    }
    memcpy (f->data + f->len, s, n + 1);
    f->len += n;
}

//  Append "&name=<encoded value>".
void
sp_subsonic__form_add (s_form_t *f, const char *name, const char *value)
{
    char *enc = sp_http_urlencode (value ? value : "");
    if (!enc) {
        f->oom = true;
        return;
    }
    if (f->len)
        sp_subsonic__form_raw (f, "&");
    sp_subsonic__form_raw (f, name);
    sp_subsonic__form_raw (f, "=");
    sp_subsonic__form_raw (f, enc);
    free (enc);
}

void
sp_subsonic__form_addf (s_form_t *f, const char *name, long long value)
{
    char num[32];
    snprintf (num, sizeof num, "%lld", value);
    sp_subsonic__form_add (f, name, num);
}

void
sp_subsonic__form_free (s_form_t *f)
{
    if (f->data)
        OPENSSL_cleanse (f->data, f->len);
    free (f->data);
    memset (f, 0, sizeof *f);
}

//  The note for an error inside subsonic-response. Returns the medialib error.
static int
s_note_failed (s_subsonic_t *self, json_t *err, const char *what, char *note, size_t n)
{
    json_t *c = json_object_get (err, "code");
    long code = json_is_integer (c) ? (long) json_integer_value (c) : -1;
    const char *msg = json_string_value (json_object_get (err, "message"));
    const char *m = sp_log_q (msg ? msg : "");
    switch (code) {
        case 40:
            snprintf (note, n,
                      "%s refused the login (error 40: %s) while %s: check SUBSONIC_USER and "
                      "SUBSONIC_PASSWORD",
                      self->server, m, what);
            return SP_MEDIALIB_ERR_REFUSED;
        case 41:
        case 42:
            snprintf (note, n,
                      "%s does not accept token authentication for this user (error %ld: %s) "
                      "while %s: use a local (non-LDAP) user in SUBSONIC_USER",
                      self->server, code, m, what);
            return SP_MEDIALIB_ERR_REFUSED;
        case 44:
            snprintf (note, n,
                      "%s refused the credentials (error 44: %s) while %s: check SUBSONIC_USER and "
                      "SUBSONIC_PASSWORD",
                      self->server, m, what);
            return SP_MEDIALIB_ERR_REFUSED;
        case 50:
            snprintf (note, n, "%s says SUBSONIC_USER may not do this (error 50: %s) while %s: %s",
                      self->server, m, what,
                      strstr (what, "scan") ? "starting a scan needs an administrator account"
                                            : "check the user's permissions on the server");
            return SP_MEDIALIB_ERR_REFUSED;
        case 70:
            snprintf (note, n, "%s has no such item (error 70: %s) while %s", self->server, m,
                      what);
            return SP_MEDIALIB_ERR_NOTFOUND;
        case 10:
            snprintf (note, n, "%s says a parameter is missing (error 10: %s) while %s",
                      self->server, m, what);
            return SP_MEDIALIB_ERR;
        case 20:
        case 30:
            snprintf (note, n,
                      "%s does not speak Subsonic API %s (error %ld: %s) while %s: the server "
                      "is too old or too new for soulpipe",
                      self->server, S_API_VERSION, code, m, what);
            return SP_MEDIALIB_ERR;
        default:
            snprintf (note, n, "%s answered error %ld (%s) while %s", self->server, code, m, what);
            return SP_MEDIALIB_ERR;
    }
}

/*  Call method with the form parameters params (already built, may be
    empty). On OK *out (caller owns, json_decref) is the subsonic-response
    object. idempotent: the request may be sent again on a transport error
    or 5xx (reads). */
int
sp_subsonic__call (s_subsonic_t *self, const char *method, s_form_t *params, bool idempotent,
                   const char *what, json_t **out, char *note, size_t n)
{
    *out = NULL;
    unsigned char raw[8];
    char salt[17], token[33];
    if (RAND_bytes (raw, sizeof raw) != 1) {
        snprintf (note, n, "no random salt for the %s login while %s", self->server, what);
        return SP_MEDIALIB_ERR;
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf (salt + 2 * i, 3, "%02x", raw[i]);
    if (s_md5_hex (self->password, salt, token) != 0) {
        snprintf (note, n, "no md5 for the %s login while %s", self->server, what);
        return SP_MEDIALIB_ERR;
    }
    s_form_t f = {0};
    sp_subsonic__form_add (&f, "u", self->user);
    sp_subsonic__form_add (&f, "t", token);
    sp_subsonic__form_add (&f, "s", salt);
    sp_subsonic__form_add (&f, "v", S_API_VERSION);
    sp_subsonic__form_add (&f, "c", S_CLIENT);
    sp_subsonic__form_add (&f, "f", "json");
    OPENSSL_cleanse (token, sizeof token);
    if (params && params->len) {
        sp_subsonic__form_raw (&f, "&");
        sp_subsonic__form_raw (&f, params->data);
    }
    if (f.oom || (params && params->oom)) {
        sp_subsonic__form_free (&f);
        snprintf (note, n, "out of memory while %s", what);
        return SP_MEDIALIB_ERR_NOMEM;
    }
    char path[96];
    snprintf (path, sizeof path, "/rest/%s.view", method);
    sp_http_req_t req = {.form = f.data, .retry_post = idempotent};
    sp_http_resp_t *resp = NULL;
    int rc = sp_http_request (self->http, SP_HTTP_POST, path, &req, &resp);
    sp_subsonic__form_free (&f);
    if (rc != SP_HTTP_OK) {
        int e = sp_medialib_http_note (self->server, self->url, "SUBSONIC_URL", "login",
                                       "SUBSONIC_USER and SUBSONIC_PASSWORD", rc,
                                       resp ? resp->status : 0, what, note, n);
        if (rc == SP_HTTP_ERR_TRANSPORT || rc == SP_HTTP_ERR_TIMEOUT)
            ;  //  the note says "check SUBSONIC_URL"
        else if (rc == SP_HTTP_ERR_CLIENT && resp && resp->status == 404)
            snprintf (note, n,
                      "%s answered HTTP 404 for /rest/%s while %s: check that SUBSONIC_URL is "
                      "the server's address (without /rest)",
                      self->server, method, what);
        sp_http_resp_destroy (&resp);
        return e;
    }
    json_t *sr = json_object_get (resp->json, "subsonic-response");
    if (!json_is_object (sr)) {
        snprintf (note, n,
                  "%s sent an unexpected answer for %s while %s (no subsonic-response): check "
                  "that SUBSONIC_URL points at a Subsonic API server",
                  self->server, method, what);
        sp_http_resp_destroy (&resp);
        return SP_MEDIALIB_ERR;
    }
    const char *type = json_string_value (json_object_get (sr, "type"));
    if (type && strcasecmp (type, "navidrome") == 0)
        snprintf (self->server, sizeof self->server, "Navidrome");
    const char *status = json_string_value (json_object_get (sr, "status"));
    if (!status || strcmp (status, "ok") != 0) {
        int e = s_note_failed (self, json_object_get (sr, "error"), what, note, n);
        sp_http_resp_destroy (&resp);
        return e;
    }
    *out = json_incref (sr);
    sp_http_resp_destroy (&resp);
    return SP_MEDIALIB_OK;
}
