/*  test_hook.h: a small webhook receiver for the notification tests
    (libmicrohttpd on a free loopback port): it answers every POST with 200
    and records its path, Content-Type, Title header and body; plus an
    endpoint that accepts connections and never answers (hanging) and a
    port nobody listens on (refusing). Used by tests/unit/test_notify.c
    (which includes test_hook.c) and the integration tests.
*/
#ifndef TEST_HOOK_H
#define TEST_HOOK_H

#include <stddef.h>

typedef struct _th_hook_t th_hook_t;

/*  Start a receiver; aborts the test on failure. */
th_hook_t *th_hook_start (void);
void th_hook_stop (th_hook_t **self_p);
int th_hook_port (th_hook_t *self);

/*  How many POSTs arrived on path (exact path, no query). */
size_t th_hook_count (th_hook_t *self, const char *path);

/*  Of the i-th POST on path: its body, Content-Type or Title header
    (field "body", "type", "title"). Caller frees; NULL when none. */
char *th_hook_get (th_hook_t *self, const char *path, size_t i, const char *field);

/*  A listening socket that never accepts or answers: *port gets its port.
    Returns the fd (close it at the end). */
int th_hang_start (int *port);

/*  A loopback port that was free a moment ago (connections are refused). */
int th_refused_port (void);

#endif
