/*  harness.h: what the integration and end-to-end tests share: temp dirs,
    free ports, starting and stopping real processes (the services, the
    client, the test worker), Redis access, and waiting for a condition.

    Processes get PR_SET_PDEATHSIG(SIGKILL), so a crashed test never leaves
    one running; their stdout and stderr go to a log file in the test's temp
    dir (printed when a test fails through sp_test_dump_logs).
*/
#ifndef SP_TEST_HARNESS_H
#define SP_TEST_HARNESS_H

#include "soulpipe/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SP_TEST_MAX_ENV 48

typedef struct {
    char dir[256];        //  temp root for this test (removed at the end)
    char redis_url[128];  //  SOULPIPE_TEST_REDIS_URL, or an own server's
    char client_ep[64], broker_ep[64], events_ep[64];  //  fresh tcp endpoints
    char *env[SP_TEST_MAX_ENV];  //  "NAME=value" strings for spawned processes
    int n_env;
    pid_t own_redis;  //  pid of a redis-server this test started (0 = none)
    int own_redis_port;
    sp_store_t *store;  //  a store connection for assertions
} sp_test_t;

/*  Make the temp dir, pick free ports, connect to Redis and FLUSHDB, and
    set the base environment (endpoints, Redis, heartbeat 200 ms, lease 5 s,
    log level info). own_redis: start a redis-server of the test's own (AOF,
    appendfsync always) so the test may kill and restart it. */
void sp_test_init (sp_test_t *t, bool own_redis);

/*  Stop every process started with sp_test_spawn, stop an own redis-server,
    remove the temp dir. */
void sp_test_fini (sp_test_t *t);

/*  Add or replace NAME=value in the environment given to spawned processes. */
void sp_test_setenv (sp_test_t *t, const char *name, const char *value);

/*  Path of a built binary: bin/NAME (SOULPIPE_BIN_DIR) or a test tool
    (SOULPIPE_TEST_TOOLS_DIR) when NAME starts with "sp_test_". Static buffer
    per call slot (4 slots). */
const char *sp_test_bin (const char *name);

/*  Start argv (argv[0] = path) with the test's environment, output to
    DIR/<log_name>.log. Returns the pid (the harness remembers it). */
pid_t sp_test_spawn (sp_test_t *t, const char *log_name, const char *const argv[]);

/*  Send sig and wait up to timeout_ms for the process to end (then SIGKILL).
    Returns its exit status (128+signal when killed), -1 if unknown. */
int sp_test_stop (sp_test_t *t, pid_t pid, int sig, int timeout_ms);

/*  Run argv to completion (at most timeout_ms) with the test's environment;
    *out (may be NULL) gets its stdout, *err_out its stderr (caller frees).
    Returns the exit status, or -1 on timeout. */
int sp_test_run (sp_test_t *t, const char *const argv[], int timeout_ms, char **out,
                 char **err_out);

/*  Start soulpipe-analyzer and wait until it answers (`soulpipe list`).
    Returns its pid. */
pid_t sp_test_start_analyzer (sp_test_t *t);

/*  Start soulpipe-fake on 127.0.0.1:port (0 = any) with the fixture dir and
    downloads dir; waits until it listens and returns its port in *port_out
    (may be NULL). Returns the pid. */
pid_t sp_test_start_fake (sp_test_t *t, const char *fixtures, const char *downloads, int port,
                          int *port_out);

/*  Point every upstream URL and secret of the environment at a fake on
    port, reading the secrets from the fixture dir (credentials.json, the
    Plex token, the slskd API key). */
void sp_test_env_fake (sp_test_t *t, const char *fixtures, int port);

/*  `soulpipe login spotify` against the fake: runs the login, follows the
    authorize URL it prints (the fake approves at once) and waits for it.
    Asserts success. */
void sp_test_login_spotify (sp_test_t *t);

/*  The fake's GET /_fake/stats as a jansson object (caller decrefs). */
struct json_t;
struct json_t *sp_test_fake_stats (int port);

/*  Restart the test's own redis-server (after a kill -9): same port, dir. */
void sp_test_restart_redis (sp_test_t *t);
void sp_test_kill_redis (sp_test_t *t);

/*  Poll cond(arg) every 50 ms until it is true or timeout_ms passes. */
bool sp_test_wait (bool (*cond) (void *arg), void *arg, int timeout_ms);

/*  Write content to DIR/name; returns the full path (static, 4 slots). */
const char *sp_test_write (sp_test_t *t, const char *name, const char *content);

/*  HGET/HLEN-style helpers on the test's store. */
long long sp_test_hget_int (sp_test_t *t, const char *key, const char *field);
long long sp_test_hlen (sp_test_t *t, const char *key);
/*  All fields of a hash with their integer values: calls fn for each. */
void sp_test_hforeach (sp_test_t *t, const char *key,
                       void (*fn) (const char *field, long long value, void *arg), void *arg);

/*  Print the logs of every process this test started to stderr. */
void sp_test_dump_logs (sp_test_t *t);

/*  Milliseconds since an arbitrary start. */
long long sp_test_now_ms (void);

#endif
