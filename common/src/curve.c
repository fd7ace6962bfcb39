/*  curve.c: CURVE certificates and the zauth actor (see soulpipe/curve.h).

    Loading checks every file before a socket is made, so a missing or
    unreadable key is one clear error at start-up naming SOULPIPE_CURVE_DIR,
    not a process that silently never connects. */
#include "soulpipe/curve.h"
#include "soulpipe/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CURVE_ZERO_KEY "0000000000000000000000000000000000000000"  //  Z85 of 32 zero bytes
#define CURVE_MAX_NAME 64                                          //  bytes in a client name
#define CURVE_MAX_DIR  800                                         //  bytes in a key folder path

struct _sp_curve_t {
    sp_wire_curve_t wire;  //  what sockets get: own cert + server public key
    zcert_t *cert;         //  this process's certificate (owned; wire.cert points here)
    char *server_public;   //  Z85 server public key (owned; clients only)
    zactor_t *auth;        //  zauth actor (server role), NULL otherwise
    size_t clients;        //  allowed client keys found at load (server role)
};

/* ---------------------------------------------------------------- helpers */

/*  DIR/name into out. Folder names are limited (CURVE_MAX_DIR) before any
    join, so the result always fits; returns false if it would not. */
static bool
s_join (char *out, size_t size, const char *dir, const char *name)
{
    size_t len = strlen (dir);
    bool slash = len > 0 && dir[len - 1] == '/';
    int n = snprintf (out, size, "%s%s%s", dir, slash ? "" : "/", name);
    return n >= 0 && (size_t) n < size;
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0;
}

/*  Load the certificate at path (path_secret holds the secret) and require
    its secret part. NULL with a reason on failure. */
static zcert_t *
s_load_secret (const char *path, const char *what, char *err, size_t err_size)
{
    char secret[1024];
    snprintf (secret, sizeof secret, "%s_secret", path);
    if (access (secret, R_OK) != 0) {
        snprintf (err, err_size,
                  "SOULPIPE_CURVE_DIR: cannot read the %s secret key %s (%s); make keys with "
                  "`soulpipe keygen --dir DIR`",
                  what, secret, strerror (errno));
        return NULL;
    }
    struct stat st;
    if (stat (secret, &st) == 0 && (st.st_mode & 077))
        sp_log_warn ("event=curve_secret_readable file=%s mode=%04o hint=\"chmod 600 it\"",
                     sp_log_q (secret), (unsigned) (st.st_mode & 07777));
    zcert_t *cert = zcert_load (path);
    if (!cert || strcmp (zcert_secret_txt (cert), CURVE_ZERO_KEY) == 0) {
        snprintf (err, err_size, "SOULPIPE_CURVE_DIR: %s is not a CURVE secret certificate",
                  secret);
        zcert_destroy (&cert);
        return NULL;
    }
    return cert;
}

/*  Count the certificates in the clients folder the way CZMQ's certificate
    store reads it (every regular file below it, not *_secret), refusing
    duplicates: zcertstore asserts on a second file with the same key. */
static int
s_check_clients (const char *clients_dir, size_t *count, char *err, size_t err_size)
{
    *count = 0;
    zdir_t *dir = zdir_new (clients_dir, NULL);
    if (!dir) {
        snprintf (err, err_size,
                  "SOULPIPE_CURVE_DIR: no folder %s of allowed client keys; make keys with "
                  "`soulpipe keygen --dir DIR`",
                  clients_dir);
        return -1;
    }
    zhash_t *seen = zhash_new ();
    zfile_t **files = zdir_flatten (dir);
    int rc = 0;
    for (size_t i = 0; files && files[i] && rc == 0; i++) {
        const char *name = zfile_filename (files[i], NULL);
        size_t len = strlen (name);
        if (!zfile_is_regular (files[i]) || (len >= 7 && strcmp (name + len - 7, "_secret") == 0))
            continue;
        zcert_t *cert = zcert_load (name);
        if (!cert) {
            sp_log_warn ("event=curve_not_a_cert file=%s", sp_log_q (name));
            continue;
        }
        const char *key = zcert_public_txt (cert);
        const char *first = zhash_lookup (seen, key);
        if (first) {
            snprintf (err, err_size,
                      "SOULPIPE_CURVE_DIR: %s and %s hold the same public key; remove one", first,
                      name);
            rc = -1;
        } else {
            zhash_insert (seen, key, (void *) name);
            (*count)++;
        }
        zcert_destroy (&cert);
    }
    if (rc == 0 && *count == 0) {
        snprintf (
            err, err_size,
            "SOULPIPE_CURVE_DIR: no client keys in %s, so nobody could connect; make one with "
            "`soulpipe keygen --dir DIR`",
            clients_dir);
        rc = -1;
    }
    zdir_flatten_free (&files);
    zhash_destroy (&seen);
    zdir_destroy (&dir);
    return rc;
}

/* ---------------------------------------------------------------- loading */

int
sp_curve_load (const char *dir, sp_curve_role_t role, sp_curve_t **curve_p, char *err,
               size_t err_size)
{
    *curve_p = NULL;
    if (!dir || !*dir)
        return 0;
    if (strlen (dir) > CURVE_MAX_DIR) {
        snprintf (err, err_size, "SOULPIPE_CURVE_DIR: longer than %d bytes", CURVE_MAX_DIR);
        return -1;
    }
    struct stat st;
    errno = 0;
    if (stat (dir, &st) != 0 || !S_ISDIR (st.st_mode)) {
        snprintf (err, err_size,
                  "SOULPIPE_CURVE_DIR: %s is not a folder (%s); make keys with "
                  "`soulpipe keygen --dir %s`",
                  dir, errno ? strerror (errno) : "not a directory", dir);
        return -1;
    }
    sp_curve_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_size, "out of memory");
        return -1;
    }
    char path[1024];
    if (role == SP_CURVE_SERVER) {
        s_join (path, sizeof path, dir, SP_CURVE_SERVER_CERT);
        self->cert = s_load_secret (path, "server", err, err_size);
        if (!self->cert)
            goto fail;
        s_join (path, sizeof path, dir, SP_CURVE_CLIENTS_DIR);
        if (s_check_clients (path, &self->clients, err, err_size) != 0)
            goto fail;
        //  zauth answers the ZAP requests of every CURVE server socket of the
        //  process; it re-reads the folder when it changes
        self->auth = zactor_new (zauth, NULL);
        if (!self->auth) {
            snprintf (err, err_size, "cannot start the CURVE authenticator (zauth)");
            goto fail;
        }
        zstr_sendx (self->auth, "CURVE", path, NULL);
        zsock_wait (self->auth);
    } else {
        s_join (path, sizeof path, dir, SP_CURVE_CLIENT_CERT);
        self->cert = s_load_secret (path, "client", err, err_size);
        if (!self->cert)
            goto fail;
        s_join (path, sizeof path, dir, SP_CURVE_SERVER_CERT);
        zcert_t *server = access (path, R_OK) == 0 ? zcert_load (path) : NULL;
        if (!server) {
            snprintf (
                err, err_size,
                "SOULPIPE_CURVE_DIR: cannot read the server's public key %s; copy it from the "
                "analyzer's key folder",
                path);
            goto fail;
        }
        self->server_public = strdup (zcert_public_txt (server));
        zcert_destroy (&server);
        if (!self->server_public) {
            snprintf (err, err_size, "out of memory");
            goto fail;
        }
    }
    self->wire.cert = self->cert;
    self->wire.server_public = self->server_public;
    *curve_p = self;
    return 0;
fail:
    sp_curve_destroy (&self);
    return -1;
}

const sp_wire_curve_t *
sp_curve_wire (const sp_curve_t *self)
{
    return self ? &self->wire : NULL;
}

size_t
sp_curve_clients (const sp_curve_t *self)
{
    return self ? self->clients : 0;
}

void
sp_curve_destroy (sp_curve_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sp_curve_t *self = *self_p;
    zactor_destroy (&self->auth);
    zcert_destroy (&self->cert);
    free (self->server_public);
    free (self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- keygen */

static int
s_mkdir (const char *path, mode_t mode, char *err, size_t err_size)
{
    if (mkdir (path, mode) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    snprintf (err, err_size, "cannot create the folder %s: %s", path, strerror (errno));
    return -1;
}

/*  Save cert as path (public) and path_secret (mode 0600). */
static int
s_save (zcert_t *cert, const char *path, bool with_secret, char *err, size_t err_size)
{
    //  the secret file must never exist with looser permissions, not even
    //  for a moment: create it under a strict umask
    mode_t old = umask (077);
    int rc = with_secret ? zcert_save (cert, path) : zcert_save_public (cert, path);
    umask (old);
    if (rc == 0 && !with_secret)
        rc = chmod (path, 0644);
    if (rc == 0 && with_secret) {
        char secret[1024];
        snprintf (secret, sizeof secret, "%s_secret", path);
        rc = chmod (secret, 0600);
        if (rc == 0)
            rc = chmod (path, 0644);
    }
    if (rc != 0) {
        snprintf (err, err_size, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

/*  Load the certificate at path with its secret, or make and save a new one
    named name. *made tells which. */
static zcert_t *
s_load_or_make (const char *path, const char *name, bool *made, char *err, size_t err_size)
{
    char secret[1024];
    snprintf (secret, sizeof secret, "%s_secret", path);
    *made = false;
    if (s_exists (secret))
        return s_load_secret (path, name, err, err_size);
    zcert_t *cert = zcert_new ();
    if (!cert) {
        snprintf (err, err_size, "cannot make a CURVE key pair");
        return NULL;
    }
    zcert_set_meta (cert, "name", "%s", name);
    if (s_save (cert, path, true, err, err_size) != 0) {
        zcert_destroy (&cert);
        return NULL;
    }
    *made = true;
    return cert;
}

static bool
s_valid_name (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > CURVE_MAX_NAME || name[0] == '.' ||
        strcmp (name, SP_CURVE_CLIENTS_DIR) == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int
sp_curve_keygen (const char *dir, const char *client_name, FILE *out, char *err, size_t err_size)
{
    if (!dir || !*dir) {
        snprintf (err, err_size, "no key folder given (--dir DIR or SOULPIPE_CURVE_DIR)");
        return -1;
    }
    if (strlen (dir) > CURVE_MAX_DIR) {
        snprintf (err, err_size, "the key folder name is longer than %d bytes", CURVE_MAX_DIR);
        return -1;
    }
    if (client_name && !s_valid_name (client_name)) {
        snprintf (
            err, err_size,
            "bad client name \"%s\": use up to %d letters, digits, '.', '_' or '-' (not \"%s\")",
            client_name, CURVE_MAX_NAME, SP_CURVE_CLIENTS_DIR);
        return -1;
    }
    char path[1024], clients[1024], pub[1024];
    s_join (clients, sizeof clients, dir, SP_CURVE_CLIENTS_DIR);
    if (s_mkdir (dir, 0700, err, err_size) != 0 || s_mkdir (clients, 0755, err, err_size) != 0)
        return -1;
    int rc = -1;
    zcert_t *server = NULL, *client = NULL;
    bool made = false;
    s_join (path, sizeof path, dir, SP_CURVE_SERVER_CERT);
    if (client_name && !s_exists (path)) {
        snprintf (err, err_size, "no server key in %s yet: run `soulpipe keygen --dir %s` first",
                  dir, dir);
        return -1;
    }
    server = s_load_or_make (path, "soulpipe-server", &made, err, err_size);
    if (!server)
        goto done;
    if (out)
        fprintf (out, "%s server key %s (secret: %s_secret, analyzer only)\n",
                 made ? "made" : "kept", path, path);

    if (!client_name) {
        s_join (path, sizeof path, dir, SP_CURVE_CLIENT_CERT);
        client = s_load_or_make (path, "soulpipe-client", &made, err, err_size);
        if (!client)
            goto done;
        s_join (pub, sizeof pub, clients, SP_CURVE_CLIENT_CERT);
        if (s_save (client, pub, false, err, err_size) != 0)
            goto done;
        if (out)
            fprintf (out, "%s client key %s (secret: %s_secret), allowed as %s\n",
                     made ? "made" : "kept", path, path, pub);
    } else {
        char name[CURVE_MAX_NAME + 8], folder[1024];
        snprintf (name, sizeof name, "%s.key", client_name);
        s_join (pub, sizeof pub, clients, name);
        s_join (folder, sizeof folder, dir, client_name);
        if (s_exists (pub) || s_exists (folder)) {
            snprintf (err, err_size, "client \"%s\" exists already (%s or %s); pick another name",
                      client_name, pub, folder);
            goto done;
        }
        if (mkdir (folder, 0700) != 0) {
            snprintf (err, err_size, "cannot create the folder %s: %s", folder, strerror (errno));
            goto done;
        }
        s_join (path, sizeof path, folder, SP_CURVE_CLIENT_CERT);
        client = s_load_or_make (path, client_name, &made, err, err_size);
        if (!client)
            goto done;
        s_join (path, sizeof path, folder, SP_CURVE_SERVER_CERT);
        if (s_save (server, path, false, err, err_size) != 0 ||
            s_save (client, pub, false, err, err_size) != 0)
            goto done;
        if (out)
            fprintf (out,
                     "made client \"%s\": allowed as %s; copy the folder %s to its host and set "
                     "SOULPIPE_CURVE_DIR to it there\n",
                     client_name, pub, folder);
    }
    rc = 0;
done:
    zcert_destroy (&server);
    zcert_destroy (&client);
    return rc;
}
