/*  soulpipe-analyzer: the front door. Serves the client API (submit, status,
    list, cancel, retry, login) on a ROUTER, runs submissions on threads of
    their own, hosts the job broker thread and publishes progress events.

    Threads: main (client ROUTER + replies from submit threads through an
    inproc PULL), the broker (broker.c), one per running submission. */
#include "analyzer.h"
#include "api.h"

#include "soulpipe/app.h"
#include "soulpipe/broker.h"
#include "soulpipe/config.h"
#include "soulpipe/curve.h"
#include "soulpipe/events.h"
#include "soulpipe/log.h"
#include "soulpipe/store.h"
#include "soulpipe/wire.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUBMISSIONS      8  //  submissions analysed at once
#define REPLIES_ENDPOINT     "inproc://sp-analyzer-replies"
#define API_REDIS_TIMEOUT_MS 2000  //  the client API's Redis read timeout and retry budget (ms)

static const sp_app_info_t s_info = {
    .name = "soulpipe-analyzer",
    .service = "analyzer",
    .services = SP_SVC_ANALYZER,
    .summary = "fetches playlists from Spotify, diffs them against the Plex library, queues the "
               "missing tracks, serves the client API and hosts the job broker",
    .usage = "",
    .details =
        "Run exactly one analyzer. Workers (soulpipe-searcher, -downloader, -tagger) connect to\n"
        "its broker endpoint; clients (soulpipe) to its client endpoint.",
};

typedef struct {
    const sp_config_t *cfg;   //  configuration (borrowed)
    sp_analyzer_t *analyzer;  //  submission logic (borrowed)
    zframe_t *routing_id;     //  the client to answer (owned)
    sp_msg_t *request;        //  submit or login (owned)
    atomic_int *active;       //  running submissions (borrowed)
    pthread_t thread;
} submission_t;

static void *
s_submission_thread (void *arg)
{
    submission_t *sub = arg;
    char err[256];
    sp_msg_t reply;
    memset (&reply, 0, sizeof reply);
    zsock_t *push = sp_wire_socket (ZMQ_PUSH, REPLIES_ENDPOINT, false, 0, 0, NULL, err, sizeof err);
    sp_store_t *store = sp_store_new (sub->cfg->redis_url, err, sizeof err);
    if (!store)
        sp_api_error (&reply, "unavailable", "Redis is unreachable (%s); try again when it is back",
                      err);
    else if (sub->request->type == SP_MSG_LOGIN)
        sp_analyzer_login (sub->analyzer, store, sub->request, &reply);
    else
        sp_analyzer_submit (sub->analyzer, store, sub->request, &reply);
    if (reply.type == SP_MSG_NONE)
        sp_api_error (&reply, "internal", "the submission produced no answer");
    if (push)
        sp_wire_send (push, sub->routing_id, NULL, &reply, false);
    sp_msg_clear (&reply);
    sp_store_destroy (&store);
    zsock_destroy (&push);
    zframe_destroy (&sub->routing_id);
    sp_msg_destroy (&sub->request);
    atomic_fetch_sub (sub->active, 1);
    free (sub);
    return NULL;
}

/*  Answer one client request; submit/login start a thread and answer later. */
static void
s_handle_request (const sp_config_t *cfg, sp_analyzer_t *analyzer, sp_store_t *store,
                  zsock_t *router, zframe_t **routing_id_p, sp_msg_t **request_p,
                  atomic_int *active)
{
    sp_msg_t *request = *request_p;
    sp_msg_t reply;
    memset (&reply, 0, sizeof reply);
    switch (request->type) {
        case SP_MSG_SUBMIT:
        case SP_MSG_LOGIN: {
            if (atomic_load (active) >= MAX_SUBMISSIONS) {
                sp_api_error (&reply, "busy",
                              "%d submissions are being analysed; try again shortly",
                              MAX_SUBMISSIONS);
                break;
            }
            submission_t *sub = calloc (1, sizeof *sub);
            if (!sub) {
                sp_api_error (&reply, "internal", "out of memory");
                break;
            }
            sub->cfg = cfg;
            sub->analyzer = analyzer;
            sub->routing_id = *routing_id_p;
            sub->request = request;
            sub->active = active;
            atomic_fetch_add (active, 1);
            if (pthread_create (&sub->thread, NULL, s_submission_thread, sub) != 0) {
                atomic_fetch_sub (active, 1);
                free (sub);
                sp_api_error (&reply, "internal", "cannot start a thread for the submission");
                break;
            }
            pthread_detach (sub->thread);
            *routing_id_p = NULL;
            *request_p = NULL;
            return;
        }
        case SP_MSG_STATUS:
            sp_api_status (store, request->job, &reply);
            break;
        case SP_MSG_LIST:
            sp_api_list (store, &reply);
            break;
        case SP_MSG_CANCEL:
            sp_api_cancel (store, request->job, &reply);
            break;
        case SP_MSG_RETRY:
            sp_api_retry (store, request->job, &reply);
            break;
        default:
            sp_api_error (&reply, "bad_request", "the client API does not take \"%s\" messages",
                          sp_msg_type_name (request->type));
            break;
    }
    sp_wire_send (router, *routing_id_p, NULL, &reply, true);
    sp_msg_clear (&reply);
}

//  What the main thread runs: the analyzer's sockets and shared objects.
typedef struct {
    sp_events_t *events;      //  progress PUB
    sp_broker_t *broker;      //  the job broker thread
    sp_analyzer_t *analyzer;  //  submission logic
    sp_store_t *store;        //  the main thread's Redis connection
    sp_curve_t *curve;        //  CURVE keys, NULL when off
    zsock_t *router;          //  client API
    zsock_t *replies;         //  finished submissions' replies (inproc PULL)
    atomic_int active;        //  submissions running
} s_server_t;

//  Connect to Redis, load the keys, bind every socket and start the broker.
//  Returns 0, or the exit status after printing why.
static int
s_server_open (s_server_t *srv, const sp_config_t *cfg)
{
    char err[512];
    srv->store = sp_store_new (cfg->redis_url, err, sizeof err);
    if (!srv->store) {
        fprintf (stderr, "soulpipe-analyzer: cannot reach Redis at SOULPIPE_REDIS_URL: %s\n", err);
        return 1;
    }
    //  The client API answers from this thread: a paused or stuck Redis must
    //  give a prompt "not responding" instead of a client timeout (other
    //  clients' requests wait behind each such call for at most this long).
    sp_store_set_timeout (srv->store, API_REDIS_TIMEOUT_MS);
    sp_store_set_retry (srv->store, API_REDIS_TIMEOUT_MS);
    //  CURVE: the three bound sockets are servers; zauth lets in DIR/clients/
    if (sp_curve_load (cfg->curve_dir, SP_CURVE_SERVER, &srv->curve, err, sizeof err) != 0) {
        fprintf (stderr, "soulpipe-analyzer: %s\n", err);
        return 2;
    }
    if (srv->curve)
        sp_log_info ("event=curve_on dir=%s allowed_clients=%zu", sp_log_q (cfg->curve_dir),
                     sp_curve_clients (srv->curve));
    else
        sp_log_info ("event=curve_off hint=\"set SOULPIPE_CURVE_DIR before exposing the ports "
                     "beyond this host\"");
    srv->events = sp_events_new (cfg->events_endpoint, sp_curve_wire (srv->curve), err, sizeof err);
    if (!srv->events) {
        fprintf (stderr, "soulpipe-analyzer: SOULPIPE_EVENTS_ENDPOINT: %s\n", err);
        return 1;
    }
    sp_store_set_change_handler (srv->store, sp_events_store_change, srv->events);
    srv->analyzer = sp_analyzer_new (cfg, srv->events, err, sizeof err);
    if (!srv->analyzer) {
        fprintf (stderr, "soulpipe-analyzer: %s\n", err);
        return 1;
    }
    sp_broker_config_t bcfg = {
        .endpoint = cfg->broker_endpoint,
        .redis_url = cfg->redis_url,
        .heartbeat_ms = cfg->heartbeat_ms,
        .liveness = cfg->heartbeat_liveness,
        .lease_ms = cfg->lease_s * 1000,
        .max_attempts = cfg->max_attempts,
        .events = srv->events,
        .curve = sp_curve_wire (srv->curve),
    };
    srv->broker = sp_broker_new (&bcfg, err, sizeof err);
    if (!srv->broker) {
        fprintf (stderr, "soulpipe-analyzer: SOULPIPE_BROKER_ENDPOINT: %s\n", err);
        return 1;
    }
    srv->router = sp_wire_socket (ZMQ_ROUTER, cfg->client_endpoint, true, SP_MSG_MAX_FRAME, 0,
                                  sp_curve_wire (srv->curve), err, sizeof err);
    srv->replies = sp_wire_socket (ZMQ_PULL, REPLIES_ENDPOINT, true, 0, 0, NULL, err, sizeof err);
    if (!srv->router || !srv->replies) {
        fprintf (stderr, "soulpipe-analyzer: SOULPIPE_CLIENT_ENDPOINT: %s\n", err);
        return 1;
    }
    return 0;
}

//  Answer client requests and pass finished submissions' replies on until
//  asked to stop.
static void
s_serve (s_server_t *srv, const sp_config_t *cfg)
{
    zpoller_t *poller = zpoller_new (srv->router, srv->replies, NULL);
    while (!sp_app_stopping ()) {
        void *which = zpoller_wait (poller, 200);
        if (which == srv->router) {
            zframe_t *routing_id = NULL;
            sp_msg_t *request = NULL;
            char reason[256];
            int r = sp_wire_recv (srv->router, true, false, 0, &routing_id, &request, reason,
                                  sizeof reason);
            if (r == SP_WIRE_OK)
                s_handle_request (cfg, srv->analyzer, srv->store, srv->router, &routing_id,
                                  &request, &srv->active);
            else if (r == SP_WIRE_BAD_MSG) {
                sp_log_warn ("event=bad_request reason=%s", sp_log_q (reason));
                if (routing_id)
                    sp_wire_send_error (srv->router, routing_id, "bad_message", reason);
            }
            zframe_destroy (&routing_id);
            sp_msg_destroy (&request);
        } else if (which == srv->replies) {
            //  a finished submission: pass its reply to the client
            zframe_t *routing_id = NULL;
            sp_msg_t *reply = NULL;
            char reason[256];
            if (sp_wire_recv (srv->replies, true, false, 0, &routing_id, &reply, reason,
                              sizeof reason) == SP_WIRE_OK)
                sp_wire_send (srv->router, routing_id, NULL, reply, true);
            zframe_destroy (&routing_id);
            sp_msg_destroy (&reply);
        }
    }
    zpoller_destroy (&poller);
}

static void
s_server_close (s_server_t *srv)
{
    sp_broker_destroy (&srv->broker);
    zsock_destroy (&srv->router);
    zsock_destroy (&srv->replies);
    sp_analyzer_destroy (&srv->analyzer);
    sp_store_destroy (&srv->store);
    sp_events_destroy (&srv->events);
    sp_curve_destroy (&srv->curve);
}

int
main (int argc, char **argv)
{
    sp_config_t cfg;
    int rc = sp_app_start (&s_info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    sp_config_log (&cfg, s_info.services);
    s_server_t srv = {0};
    atomic_init (&srv.active, 0);
    int status = s_server_open (&srv, &cfg);
    if (status == 0) {
        sp_log_info ("event=started client=%s broker=%s events=%s", cfg.client_endpoint,
                     cfg.broker_endpoint, cfg.events_endpoint);
        printf ("soulpipe-analyzer ready on %s\n", cfg.client_endpoint);
        fflush (stdout);
        s_serve (&srv, &cfg);
        sp_log_info ("event=stopping submissions_running=%d", atomic_load (&srv.active));
        //  let running submissions finish: their work is a few Redis writes away
        for (int i = 0; i < 100 && atomic_load (&srv.active) > 0; i++)
            zclock_sleep (100);
    }
    s_server_close (&srv);
    sp_config_destroy (&cfg);
    return status;
}
