/*  wire.h: ZeroMQ sockets that carry soulpipe messages.

    One place sets what every socket needs: ZMQ_MAXMSGSIZE on receivers (an
    oversized frame drops that peer, never the process), ZMQ heartbeats so a
    dead TCP peer is noticed, a short linger, and CURVE when configured
    (see sp_wire_curve_*). Frames carry one encoded sp_msg_t; a ROUTER side
    also gets the peer's routing id.

    Ownership: sockets are CZMQ zsock_t, destroyed by the caller with
    zsock_destroy(). Received messages and routing ids are owned by the caller.
*/
#ifndef SOULPIPE_WIRE_H
#define SOULPIPE_WIRE_H

#include "soulpipe/msg.h"

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#define SP_WIRE_OK      0
#define SP_WIRE_ERR     -1  //  socket error (errno-style reason filled in)
#define SP_WIRE_TIMEOUT -2  //  nothing arrived in time
#define SP_WIRE_BAD_MSG -3  //  a frame arrived but did not decode (reason says why)

/*  Optional CURVE settings shared by every socket of a process. */
typedef struct {
    zcert_t *cert;        //  this process's certificate (owned by the caller)
    char *server_public;  //  Z85 public key of the server (clients), owned by the caller
} sp_wire_curve_t;

/*  Create a socket of `type` (ZMQ_ROUTER, ZMQ_DEALER, ZMQ_PUB, ZMQ_SUB, ...),
    with max_msg as ZMQ_MAXMSGSIZE (0 = none), heartbeats every heartbeat_ms
    (0 = off) and then bind (bind=true) or connect to endpoint. A connect to
    "tcp://ANYHOST:port" where ANYHOST is '*' or 0.0.0.0 goes to 127.0.0.1.
    curve may be NULL. Returns NULL with a reason in err on failure. */
zsock_t *sp_wire_socket (int type, const char *endpoint, bool bind, size_t max_msg,
                         int heartbeat_ms, const sp_wire_curve_t *curve, char *err,
                         size_t err_size);

/*  A worker's DEALER to the broker: like sp_wire_socket (ZMQ_DEALER, ...,
    bind=false) with ZMQ_ROUTING_ID set to routing_id (id_size 1..255 bytes,
    first byte not 0; borrowed). A worker keeps one random id for its life,
    so the broker can check that an answer comes from the socket its task
    was sent to, also after a reconnect. NULL with a reason on failure. */
zsock_t *sp_wire_worker_socket (const char *endpoint, size_t max_msg, const void *routing_id,
                                size_t id_size, const sp_wire_curve_t *curve, char *err,
                                size_t err_size);

/*  A DEALER for a request/reply client: connects to endpoint with
    ZMQ_IMMEDIATE (messages queue only on a finished connection) and a send
    timeout of timeout_ms, so a missing server shows up as a send that fails
    in time instead of a silent wait. NULL with a reason on failure. */
zsock_t *sp_wire_client_socket (const char *endpoint, size_t max_msg, int timeout_ms,
                                const sp_wire_curve_t *curve, char *err, size_t err_size);

/*  Encode and send msg. routing_id (borrowed, may be NULL) is sent first as
    its own frame (ROUTER sockets); topic (may be NULL) likewise (PUB sockets).
    Sends without blocking when nonblocking is set (a full or missing peer
    gives SP_WIRE_ERR). */
int sp_wire_send (zsock_t *sock, zframe_t *routing_id, const char *topic, const sp_msg_t *msg,
                  bool nonblocking);

/*  Receive one message. With router=true the first frame is the routing id
    (returned in *routing_id, caller destroys; NULL allowed to drop it);
    empty delimiter frames (from REQ peers) are skipped; with topic=true the
    first frame is a topic and is skipped. Waits at most timeout_ms
    (-1 = forever). On SP_WIRE_OK *msg is caller-owned. On SP_WIRE_BAD_MSG the
    routing id is still returned so the caller can answer with an error. */
int sp_wire_recv (zsock_t *sock, bool router, bool topic, int timeout_ms, zframe_t **routing_id,
                  sp_msg_t **msg, char *reason, size_t reason_size);

/*  Send an `error` reply {code, message} to routing_id (may be NULL). */
int sp_wire_send_error (zsock_t *sock, zframe_t *routing_id, const char *code, const char *message);

#endif
