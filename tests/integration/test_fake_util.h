/*  test_fake_util.h: helpers for the soulpipe-fake integration tests: a
    temp fixture tree, starting/stopping the fake binary on a free port, and
    requests through the project's http module that keep status, headers
    and body.

    The binary is $SOULPIPE_BIN_DIR/soulpipe-fake (default ./bin). The child
    gets PR_SET_PDEATHSIG so a crashed test never leaves it running.
*/
#ifndef TEST_FAKE_UTIL_H
#define TEST_FAKE_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;            //  the fake, 0 when not running
    int port;             //  its port
    char dir[256];        //  temp root (removed by fk_stop)
    char fixtures[300];   //  dir/fx
    char downloads[300];  //  dir/dl
    char base[64];        //  "http://127.0.0.1:PORT"
} fk_t;

typedef struct {
    long status;     //  HTTP status, 0 on transport failure
    char *body;      //  NUL-terminated, never NULL after fk_http
    char *headers;   //  raw response headers
    json_t *json;    //  parsed body or NULL
    double seconds;  //  total time
    void *resp;      //  the sp_http_resp_t behind it (private)
} fk_resp_t;

//  Make the temp tree. Aborts the test on failure.
void fk_init (fk_t *f);
//  Write fixtures/rel (parents created).
void fk_write (fk_t *f, const char *rel, const char *content);
//  Start the fake (extra args NULL-terminated, may be NULL). 0 or -1.
int fk_start (fk_t *f, const char *const *extra);
//  SIGTERM the fake, wait, remove the temp tree. Returns the exit status
//  (-1 if it did not exit cleanly). Safe to call twice.
int fk_stop (fk_t *f);
//  One request; headers NULL-terminated "Name: value" (may be NULL), body
//  may be NULL. Returns the status. Caller frees out with fk_resp_free.
long fk_http (fk_t *f, const char *method, const char *path, const char *const *headers,
              const char *body, fk_resp_t *out);
//  Same with an absolute URL.
long fk_http_url (const char *method, const char *url, const char *const *headers, const char *body,
                  fk_resp_t *out);
void fk_resp_free (fk_resp_t *r);
//  Value of a response header (case-insensitive name). Caller frees; NULL.
char *fk_header (const fk_resp_t *r, const char *name);
//  GET /_fake/stats parsed. Caller owns.
json_t *fk_stats (fk_t *f);
void fk_sleep_ms (int ms);
double fk_now_s (void);

#endif
