/*  fake.h: shared plumbing of soulpipe-fake, the fake Spotify/Plex/slskd
    upstream server used by the tests and the demo.

    One libmicrohttpd daemon (thread per connection) serves the three APIs on
    one port. fake.c owns main, the option parsing, routing, the request and
    response helpers below and the /_fake/stats control endpoint; each API is
    a module (fake_spotify.c, fake_plex.c, fake_slskd.c) with the same four
    entry points. Every handler runs with sp_fake_t.lock held; a handler that
    has to wait calls sp_fake_sleep_unlocked().
*/
#ifndef SP_FAKE_H
#define SP_FAKE_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sp_fake_spotify_t sp_fake_spotify_t;
typedef struct sp_fake_plex_t sp_fake_plex_t;
typedef struct sp_fake_slskd_t sp_fake_slskd_t;

//  The server. Everything below lock is protected by it.
typedef struct {
    pthread_mutex_t lock;        //  held by every handler
    char *fixtures_dir;          //  --fixtures
    char *downloads_dir;         //  --downloads
    unsigned latency_ms;         //  --latency-ms: added before every answer
    char listen_host[64];        //  host part of --listen
    unsigned port;               //  bound port
    json_t *req_counts;          //  "METHOD /path" -> count
    uint64_t requests_total;     //  every request, /_fake included
    sp_fake_spotify_t *spotify;  //  Spotify accounts + Web API state
    sp_fake_plex_t *plex;        //  Plex state
    sp_fake_slskd_t *slskd;      //  slskd state (searches, transfers)
} sp_fake_t;

//  One request, borrowed from libmicrohttpd for the duration of a handler.
typedef struct {
    struct MHD_Connection *conn;  //  for header and query lookups
    const char *method;           //  "GET", "POST", ...
    const char *path;             //  decoded path without the query
    const char *body;             //  request body (NUL-terminated), "" if none
    size_t body_len;              //  its length
} sp_fake_req_t;

#define SP_FAKE_MAX_HEADERS 8

//  One answer being built by a handler; fake.c sends and frees it.
typedef struct {
    unsigned status;                          //  HTTP status (0 = not set)
    char *body;                               //  owned, may be NULL (empty)
    size_t body_len;                          //  its length
    const char *content_type;                 //  static string or NULL
    int header_count;                         //  extra headers used
    char *header_name[SP_FAKE_MAX_HEADERS];   //  owned
    char *header_value[SP_FAKE_MAX_HEADERS];  //  owned
} sp_fake_resp_t;

//  A growable string (always NUL-terminated once anything was appended).
typedef struct {
    char *data;  //  owned
    size_t len;  //  bytes used, without the NUL
    size_t cap;  //  bytes allocated
} sp_fake_buf_t;

// ------------------------------------------------------------ responses
//  Answer with a JSON document; takes ownership of json (may be NULL: "null").
void sp_fake_resp_json (sp_fake_resp_t *resp, unsigned status, json_t *json);
//  Answer with a copy of text (NULL: empty body) and a content type.
void sp_fake_resp_text (sp_fake_resp_t *resp, unsigned status, const char *text,
                        const char *content_type);
//  Add a response header (copied). Extra headers past the limit are dropped.
void sp_fake_resp_header (sp_fake_resp_t *resp, const char *name, const char *value);

//  Answer with a copy of len bytes of binary data and a content type.
void sp_fake_resp_bytes (sp_fake_resp_t *resp, unsigned status, const void *data, size_t len,
                         const char *content_type);

// ------------------------------------------------------------ requests
//  Header value or NULL (borrowed from libmicrohttpd).
const char *sp_fake_req_header (const sp_fake_req_t *req, const char *name);
//  Query argument value (decoded) or NULL; an argument without '=' gives "".
const char *sp_fake_req_arg (const sp_fake_req_t *req, const char *name);
//  Decoded value of name in an application/x-www-form-urlencoded body, or
//  NULL. Caller owns the returned string.
char *sp_fake_form_get (const char *body, const char *name);
//  "http://<Host header>" (or the listen address) into buf. Returns buf.
char *sp_fake_base_url (const sp_fake_t *fake, const sp_fake_req_t *req, char *buf, size_t size);
//  Split a path on '/' into at most max segments (empty ones skipped).
//  The segments point into copy, a caller-provided buffer of size copy_size.
//  Returns the number of segments, or -1 when the path is too long/deep.
int sp_fake_split_path (const char *path, char *copy, size_t copy_size, char **segs, int max);
//  Strict decimal parse of s into *out within [min, max]. 0 or -1.
int sp_fake_parse_i64 (const char *s, int64_t min, int64_t max, int64_t *out);
//  The value of one hex digit, or -1.
int sp_fake_hexval (char c);
//  Decode a form-urlencoded value of len bytes ('+' is a space, %XX a byte;
//  a malformed escape is kept as it is). Caller owns the result; NULL on OOM.
char *sp_fake_form_decode (const char *s, size_t len);

// ------------------------------------------------------------ time, ids
//  Monotonic milliseconds (for state machines).
int64_t sp_fake_now_ms (void);
//  Wall-clock milliseconds since the epoch (for timestamps).
int64_t sp_fake_wall_ms (void);
//  ISO-8601 UTC with 7 fraction digits, with or without a trailing 'Z'.
void sp_fake_iso_time (int64_t wall_ms, bool zulu, char *buf, size_t size);
//  Release the lock, sleep ms, take the lock again (only inside handlers).
void sp_fake_sleep_unlocked (sp_fake_t *fake, int64_t ms);
//  2*nbytes lower-case hex characters of randomness into buf (+NUL).
void sp_fake_random_hex (char *buf, size_t nbytes);
//  A random version-4 GUID string into buf (at least 37 bytes).
void sp_fake_uuid (char *buf);

// ------------------------------------------------------------ strings
void sp_fake_buf_append (sp_fake_buf_t *buf, const char *s, size_t len);
void sp_fake_buf_puts (sp_fake_buf_t *buf, const char *s);
void sp_fake_buf_printf (sp_fake_buf_t *buf, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Whole file as a NUL-terminated string, or NULL (errno set). Caller owns.
char *sp_fake_read_file (const char *path, size_t *len_out);
//  Parse a JSON file. Returns NULL when it does not exist (*missing = true)
//  or does not parse (*missing = false, message in err). Caller owns.
json_t *sp_fake_load_json (const char *path, bool *missing, char *err, size_t err_size);
//  Create dir and its parents (mode 0755). 0 or -1.
int sp_fake_mkdir_p (const char *dir);

// ------------------------------------------------------------ images
//  A small real picture for a cover URL: a 64x64 baseline JPEG (JFIF,
//  YCbCr 4:4:4, one flat colour per 8x8 block: a record on a sleeve) whose
//  colours come from a hash of seed, so every album gets its own, always the
//  same bytes. Any JPEG decoder reads it. Caller owns *out; returns the
//  length, 0 when out of memory.
size_t sp_fake_jpeg (const char *seed, unsigned char **out);

// ------------------------------------------------------------ modules
//  Each module: _new loads its fixtures from fixtures_dir (NULL with a
//  message in err on a bad fixture; a missing part just disables it),
//  _handle answers the request when the path belongs to the module (returns
//  true) and fills resp, _stats adds its counters to the stats object.

sp_fake_spotify_t *sp_fake_spotify_new (const char *fixtures_dir, char *err, size_t err_size);
void sp_fake_spotify_destroy (sp_fake_spotify_t **self_p);
bool sp_fake_spotify_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp);
void sp_fake_spotify_stats (sp_fake_t *fake, json_t *stats);

sp_fake_plex_t *sp_fake_plex_new (const char *fixtures_dir, char *err, size_t err_size);
void sp_fake_plex_destroy (sp_fake_plex_t **self_p);
bool sp_fake_plex_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp);
void sp_fake_plex_stats (sp_fake_t *fake, json_t *stats);

sp_fake_slskd_t *sp_fake_slskd_new (const char *fixtures_dir, char *err, size_t err_size);
void sp_fake_slskd_destroy (sp_fake_slskd_t **self_p);
bool sp_fake_slskd_handle (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp);
void sp_fake_slskd_stats (sp_fake_t *fake, json_t *stats);

#endif
