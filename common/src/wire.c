/*  wire.c: ZeroMQ sockets carrying soulpipe messages (see soulpipe/wire.h). */
#include "soulpipe/wire.h"
#include "soulpipe/config.h"
#include "soulpipe/log.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define WIRE_LINGER_MS 200  //  how long close() may wait to flush (ms)

/*  Create and set up a socket; the caller binds or connects it. */
static zsock_t *
s_socket_new (int type, size_t max_msg, int heartbeat_ms, char *err, size_t err_size)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        snprintf (err, err_size, "cannot create a ZeroMQ socket: %s", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_linger (sock, WIRE_LINGER_MS);
    if (max_msg)
        zsock_set_maxmsgsize (sock, max_msg > (size_t) INT32_MAX ? INT32_MAX : (int) max_msg);
    if (heartbeat_ms > 0) {
        zsock_set_heartbeat_ivl (sock, heartbeat_ms);
        zsock_set_heartbeat_timeout (sock, heartbeat_ms * 3);
        zsock_set_heartbeat_ttl (sock, heartbeat_ms * 3);
    }
    if (type == ZMQ_ROUTER)
        zsock_set_router_mandatory (sock, 1);
    return sock;
}

/*  Apply CURVE, then bind or connect. Destroys the socket on failure. */
static zsock_t *
s_socket_attach (zsock_t *sock, const char *endpoint, bool bind, const sp_wire_curve_t *curve,
                 char *err, size_t err_size)
{
    if (curve && curve->cert) {
        zcert_apply (curve->cert, sock);
        if (bind)
            zsock_set_curve_server (sock, 1);
        else if (curve->server_public)
            zsock_set_curve_serverkey (sock, curve->server_public);
    }
    int rc;
    if (bind)
        rc = zsock_bind (sock, "%s", endpoint);
    else {
        char target[512];
        sp_config_connect_endpoint (endpoint, target, sizeof target);
        rc = zsock_connect (sock, "%s", target);
    }
    if (rc < 0) {
        snprintf (err, err_size, "cannot %s %s: %s", bind ? "bind" : "connect to", endpoint,
                  zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
        return NULL;
    }
    return sock;
}

zsock_t *
sp_wire_socket (int type, const char *endpoint, bool bind, size_t max_msg, int heartbeat_ms,
                const sp_wire_curve_t *curve, char *err, size_t err_size)
{
    zsock_t *sock = s_socket_new (type, max_msg, heartbeat_ms, err, err_size);
    return sock ? s_socket_attach (sock, endpoint, bind, curve, err, err_size) : NULL;
}

zsock_t *
sp_wire_worker_socket (const char *endpoint, size_t max_msg, const void *routing_id, size_t id_size,
                       const sp_wire_curve_t *curve, char *err, size_t err_size)
{
    zsock_t *sock = s_socket_new (ZMQ_DEALER, max_msg, 0, err, err_size);
    if (!sock)
        return NULL;
    //  before connect, so every connection (and reconnection) carries it
    if (routing_id && id_size)
        zmq_setsockopt (zsock_resolve (sock), ZMQ_ROUTING_ID, routing_id, id_size);
    return s_socket_attach (sock, endpoint, false, curve, err, err_size);
}

zsock_t *
sp_wire_client_socket (const char *endpoint, size_t max_msg, int timeout_ms,
                       const sp_wire_curve_t *curve, char *err, size_t err_size)
{
    zsock_t *sock = s_socket_new (ZMQ_DEALER, max_msg, 0, err, err_size);
    if (!sock)
        return NULL;
    //  both must be set before connect to apply to the connection
    zsock_set_immediate (sock, 1);
    zsock_set_sndtimeo (sock, timeout_ms);
    return s_socket_attach (sock, endpoint, false, curve, err, err_size);
}

int
sp_wire_send (zsock_t *sock, zframe_t *routing_id, const char *topic, const sp_msg_t *msg,
              bool nonblocking)
{
    uint8_t *data = NULL;
    size_t size = 0;
    char reason[256];
    int rc = sp_msg_encode_r (msg, &data, &size, reason, sizeof reason);
    if (rc != SP_MSG_OK) {
        sp_log_error ("event=encode_failed type=%s reason=%s", sp_msg_type_name (msg->type),
                      sp_log_q (reason));
        return SP_WIRE_ERR;
    }
    void *handle = zsock_resolve (sock);
    int flags = nonblocking ? ZMQ_DONTWAIT : 0;
    rc = 0;
    if (routing_id)
        rc = zmq_send (handle, zframe_data (routing_id), zframe_size (routing_id),
                       ZMQ_SNDMORE | flags);
    if (rc >= 0 && topic)
        rc = zmq_send (handle, topic, strlen (topic), ZMQ_SNDMORE | flags);
    if (rc >= 0)
        rc = zmq_send (handle, data, size, flags);
    free (data);
    return rc < 0 ? SP_WIRE_ERR : SP_WIRE_OK;
}

/*  Drop the rest of a multipart message. */
static void
s_drain (void *handle)
{
    int more = 0;
    size_t len = sizeof more;
    while (zmq_getsockopt (handle, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t part;
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handle, 0) < 0) {
            zmq_msg_close (&part);
            return;
        }
        zmq_msg_close (&part);
        len = sizeof more;
    }
}

static bool
s_more (void *handle)
{
    int more = 0;
    size_t len = sizeof more;
    return zmq_getsockopt (handle, ZMQ_RCVMORE, &more, &len) == 0 && more;
}

int
sp_wire_recv (zsock_t *sock, bool router, bool topic, int timeout_ms, zframe_t **routing_id,
              sp_msg_t **msg, char *reason, size_t reason_size)
{
    *msg = NULL;
    if (routing_id)
        *routing_id = NULL;
    void *handle = zsock_resolve (sock);
    if (timeout_ms >= 0) {
        zmq_pollitem_t item = {handle, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll (&item, 1, timeout_ms);
        if (n == 0)
            return SP_WIRE_TIMEOUT;
        if (n < 0) {
            snprintf (reason, reason_size, "poll: %s", zmq_strerror (zmq_errno ()));
            return SP_WIRE_ERR;
        }
    }
    zmq_msg_t part;
    zmq_msg_init (&part);
    if (zmq_msg_recv (&part, handle, 0) < 0) {
        snprintf (reason, reason_size, "recv: %s", zmq_strerror (zmq_errno ()));
        zmq_msg_close (&part);
        return errno == EAGAIN ? SP_WIRE_TIMEOUT : SP_WIRE_ERR;
    }
    zframe_t *id = NULL;
    if (router) {
        id = zframe_new (zmq_msg_data (&part), zmq_msg_size (&part));
        if (!s_more (handle)) {
            zmq_msg_close (&part);
            zframe_destroy (&id);
            snprintf (reason, reason_size, "message without a body");
            return SP_WIRE_BAD_MSG;
        }
        zmq_msg_close (&part);
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handle, 0) < 0)
            goto io_error;
        //  REQ peers put an empty delimiter before the body
        while (zmq_msg_size (&part) == 0 && s_more (handle)) {
            zmq_msg_close (&part);
            zmq_msg_init (&part);
            if (zmq_msg_recv (&part, handle, 0) < 0)
                goto io_error;
        }
    }
    if (topic) {
        if (!s_more (handle)) {
            zmq_msg_close (&part);
            zframe_destroy (&id);
            snprintf (reason, reason_size, "event without a body");
            return SP_WIRE_BAD_MSG;
        }
        zmq_msg_close (&part);
        zmq_msg_init (&part);
        if (zmq_msg_recv (&part, handle, 0) < 0)
            goto io_error;
    }
    if (s_more (handle)) {
        s_drain (handle);
        zmq_msg_close (&part);
        if (routing_id)
            *routing_id = id;
        else
            zframe_destroy (&id);
        snprintf (reason, reason_size, "unexpected extra frames");
        return SP_WIRE_BAD_MSG;
    }
    int rc =
        sp_msg_decode (zmq_msg_data (&part), zmq_msg_size (&part), 0, msg, reason, reason_size);
    zmq_msg_close (&part);
    if (routing_id)
        *routing_id = id;
    else
        zframe_destroy (&id);
    return rc == SP_MSG_OK ? SP_WIRE_OK : SP_WIRE_BAD_MSG;

io_error:
    snprintf (reason, reason_size, "recv: %s", zmq_strerror (zmq_errno ()));
    zmq_msg_close (&part);
    zframe_destroy (&id);
    return SP_WIRE_ERR;
}

int
sp_wire_send_error (zsock_t *sock, zframe_t *routing_id, const char *code, const char *message)
{
    sp_msg_t reply;
    memset (&reply, 0, sizeof reply);
    reply.type = SP_MSG_ERROR;
    reply.code = (char *) code;
    reply.message = (char *) message;
    return sp_wire_send (sock, routing_id, NULL, &reply, true);
}
