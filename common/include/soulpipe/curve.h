/*  curve.h: CURVE keys for every soulpipe socket (SOULPIPE_CURVE_DIR).

    With SOULPIPE_CURVE_DIR set, the analyzer's three bound sockets (client
    ROUTER, broker ROUTER, events PUB) are CURVE servers, and a zauth actor
    lets in only the client public keys found in DIR/clients/. Workers and
    the soulpipe client connect with their own certificate and the server's
    public key. Layout of DIR (made by `soulpipe keygen --dir DIR`):

        DIR/server.key           server public certificate (everybody needs it)
        DIR/server.key_secret    server secret (only the analyzer; mode 0600)
        DIR/client.key           this host's client certificate, public part
        DIR/client.key_secret    ... and its secret (workers, soulpipe; 0600)
        DIR/clients/NAME.key     public certificates the analyzer lets in (any name)

    `soulpipe keygen --dir DIR --client NAME` adds another client: it writes
    DIR/clients/NAME.key (allowed from then on, no restart needed) and a
    folder DIR/NAME/ holding client.key, client.key_secret and the server's
    public server.key: copy that folder to the other host and point its
    SOULPIPE_CURVE_DIR at it. Removing DIR/clients/NAME.key revokes it (new
    connections only). Never put two files with the same public key in
    DIR/clients/ (CZMQ's certificate store aborts on a duplicate); the
    analyzer checks this at start.

    Ownership: sp_curve_t owns its certificates and the zauth actor; the
    sp_wire_curve_t it hands out is borrowed and valid until
    sp_curve_destroy().
*/
#ifndef SOULPIPE_CURVE_H
#define SOULPIPE_CURVE_H

#include "soulpipe/wire.h"

#include <stddef.h>
#include <stdio.h>

#define SP_CURVE_SERVER_CERT "server.key"  //  file name of the server certificate in DIR
#define SP_CURVE_CLIENT_CERT "client.key"  //  file name of this host's client certificate
#define SP_CURVE_CLIENTS_DIR "clients"     //  folder of allowed client public keys in DIR

typedef enum {
    SP_CURVE_SERVER,  //  the analyzer: server secret + zauth over DIR/clients/
    SP_CURVE_CLIENT,  //  workers and soulpipe: client secret + server public key
} sp_curve_role_t;

typedef struct _sp_curve_t sp_curve_t;

/*  Load the CURVE settings of `role` from dir (the value of
    SOULPIPE_CURVE_DIR). An empty or NULL dir means CURVE is off: returns 0
    with *curve_p = NULL. Otherwise returns 0 with a caller-owned *curve_p,
    or -1 with a one-line reason naming SOULPIPE_CURVE_DIR and the missing or
    bad file in err. The server role also starts the zauth actor (one per
    process: it serves every socket of the process). */
int sp_curve_load (const char *dir, sp_curve_role_t role, sp_curve_t **curve_p, char *err,
                   size_t err_size);

/*  The settings for sp_wire_socket (borrowed). NULL when self is NULL, so
    callers can pass the result on whether CURVE is on or off. */
const sp_wire_curve_t *sp_curve_wire (const sp_curve_t *self);

/*  Number of allowed client keys found at load time (server role), else 0. */
size_t sp_curve_clients (const sp_curve_t *self);

/*  Stop the zauth actor and free. Accepts NULL; nulls *self_p. */
void sp_curve_destroy (sp_curve_t **self_p);

/*  Make keys in dir (created with mode 0700 when missing). With client_name
    NULL: the server certificate and this host's client certificate (each
    kept when it already exists), and the client's public key in
    DIR/clients/client.key. With client_name: a new client NAME (letters,
    digits, '.', '_' and '-'; not "clients"), see the layout above; fails if
    it exists. Secret files are mode 0600. What was made is described on out
    (may be NULL). Returns 0, or -1 with a reason in err. */
int sp_curve_keygen (const char *dir, const char *client_name, FILE *out, char *err,
                     size_t err_size);

#endif
