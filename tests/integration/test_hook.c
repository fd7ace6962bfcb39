/*  test_hook.c: see test_hook.h. */
#include "test_hook.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TH_MAX_POSTS 256
#define TH_MAX_BODY  (1u << 20)

typedef struct {
    char *path, *type, *title, *body;
} th_post_t;

struct _th_hook_t {
    struct MHD_Daemon *daemon;
    int port;
    pthread_mutex_t lock;
    th_post_t posts[TH_MAX_POSTS];
    size_t n;
};

typedef struct {
    char *buf;
    size_t len;
    bool too_big;
} th_upload_t;

static char *
th_dup (const char *s)
{
    return s ? strdup (s) : NULL;
}

static enum MHD_Result
th_handler (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
            const char *version, const char *data, size_t *size, void **con_cls)
{
    (void) version;
    th_hook_t *self = cls;
    if (!*con_cls) {
        *con_cls = calloc (1, sizeof (th_upload_t));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    th_upload_t *up = *con_cls;
    if (*size) {
        if (up->len + *size > TH_MAX_BODY)
            up->too_big = true;
        else {
            char *b = realloc (up->buf, up->len + *size + 1);
            if (!b)
                return MHD_NO;
            memcpy (b + up->len, data, *size);
            up->buf = b;
            up->len += *size;
            b[up->len] = '\0';
        }
        *size = 0;
        return MHD_YES;
    }
    unsigned status = 200;
    if (strcmp (method, "POST") != 0 || up->too_big)
        status = 400;
    else {
        pthread_mutex_lock (&self->lock);
        if (self->n < TH_MAX_POSTS) {
            th_post_t *p = &self->posts[self->n++];
            p->path = th_dup (url);
            p->type = th_dup (MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Content-Type"));
            p->title = th_dup (MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Title"));
            p->body = th_dup (up->buf ? up->buf : "");
        }
        pthread_mutex_unlock (&self->lock);
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer (2, (void *) "ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response (conn, status, r);
    MHD_destroy_response (r);
    return ret;
}

static void
th_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
    (void) cls, (void) conn, (void) toe;
    th_upload_t *up = *con_cls;
    if (up) {
        free (up->buf);
        free (up);
        *con_cls = NULL;
    }
}

th_hook_t *
th_hook_start (void)
{
    th_hook_t *self = calloc (1, sizeof *self);
    cr_assert_not_null (self);
    pthread_mutex_init (&self->lock, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    self->daemon =
        MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                          NULL, th_handler, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                          MHD_OPTION_NOTIFY_COMPLETED, th_completed, NULL, MHD_OPTION_END);
    cr_assert_not_null (self->daemon, "MHD_start_daemon failed");
    self->port = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    return self;
}

void
th_hook_stop (th_hook_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    th_hook_t *self = *self_p;
    MHD_stop_daemon (self->daemon);
    for (size_t i = 0; i < self->n; i++) {
        free (self->posts[i].path);
        free (self->posts[i].type);
        free (self->posts[i].title);
        free (self->posts[i].body);
    }
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

int
th_hook_port (th_hook_t *self)
{
    return self->port;
}

size_t
th_hook_count (th_hook_t *self, const char *path)
{
    size_t n = 0;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0; i < self->n; i++)
        if (strcmp (self->posts[i].path, path) == 0)
            n++;
    pthread_mutex_unlock (&self->lock);
    return n;
}

char *
th_hook_get (th_hook_t *self, const char *path, size_t index, const char *field)
{
    char *out = NULL;
    pthread_mutex_lock (&self->lock);
    for (size_t i = 0, k = 0; i < self->n; i++) {
        if (strcmp (self->posts[i].path, path) != 0 || k++ != index)
            continue;
        const th_post_t *p = &self->posts[i];
        out = th_dup (strcmp (field, "body") == 0    ? p->body
                      : strcmp (field, "type") == 0  ? p->type
                      : strcmp (field, "title") == 0 ? p->title
                                                     : NULL);
        break;
    }
    pthread_mutex_unlock (&self->lock);
    return out;
}

int
th_hang_start (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    cr_assert_eq (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    cr_assert_eq (listen (fd, 64), 0);
    socklen_t al = sizeof a;
    getsockname (fd, (struct sockaddr *) &a, &al);
    *port = ntohs (a.sin_port);
    return fd;
}

int
th_refused_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    cr_assert_eq (bind (fd, (struct sockaddr *) &a, sizeof a), 0);
    socklen_t al = sizeof a;
    getsockname (fd, (struct sockaddr *) &a, &al);
    int port = ntohs (a.sin_port);
    close (fd);
    return port;
}
