/*  fake.c: soulpipe-fake main: options, the libmicrohttpd daemon, routing to
    the Spotify / Plex / slskd modules, the shared request/response helpers
    and the test control endpoint GET /_fake/stats.

    soulpipe-fake --listen 127.0.0.1:PORT --fixtures DIR --downloads DIR
                  [--latency-ms N]

    Prints "listening on HOST:PORT" on stdout once it accepts connections
    (PORT 0 picks a free port, the line gives the real one) and exits 0 on
    SIGTERM / SIGINT. Fixture format: tests/fakes/README.md.
*/
#include "fake.h"
#include "fake_subsonic.h"
#include "fake_jellyfin.h"
#include "fake_folderlib.h"
#include "soulpipe/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY_BYTES       (4 * 1024 * 1024)  //  bytes; larger bodies get 413
#define CONNECTION_TIMEOUT_S 60                 //  idle keep-alive connections
#define MAX_LATENCY_MS       600000             //  --latency-ms upper bound

//  Per-request context kept by libmicrohttpd between callback calls.
typedef struct {
    sp_fake_buf_t body;  //  request body collected so far
    bool too_big;        //  body exceeded MAX_BODY_BYTES
} s_conn_ctx_t;

// ------------------------------------------------------------ strings

void
sp_fake_buf_append (sp_fake_buf_t *buf, const char *s, size_t len)
{
    if (buf->len + len + 1 > buf->cap) {
        size_t ncap = buf->cap ? buf->cap : 256;
        while (ncap < buf->len + len + 1)
            ncap *= 2;
        char *n = realloc (buf->data, ncap);
        if (!n) {
            fprintf (stderr, "soulpipe-fake: out of memory\n");
            exit (1);
        }
        buf->data = n;
        buf->cap = ncap;
    }
    memcpy (buf->data + buf->len, s, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void
sp_fake_buf_puts (sp_fake_buf_t *buf, const char *s)
{
    sp_fake_buf_append (buf, s, strlen (s));
}

void
sp_fake_buf_printf (sp_fake_buf_t *buf, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (small, sizeof small, fmt, ap);
    va_end (ap);
    if (n < 0)
        return;
    if ((size_t) n < sizeof small) {
        sp_fake_buf_append (buf, small, (size_t) n);
        return;
    }
    char *big = malloc ((size_t) n + 1);
    if (!big)
        return;
    va_start (ap, fmt);
    vsnprintf (big, (size_t) n + 1, fmt, ap);
    va_end (ap);
    sp_fake_buf_append (buf, big, (size_t) n);
    free (big);
}

// ------------------------------------------------------------ responses

void
sp_fake_resp_json (sp_fake_resp_t *resp, unsigned status, json_t *json)
{
    free (resp->body);
    resp->body = json ? json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY) : strdup ("null");
    resp->body_len = resp->body ? strlen (resp->body) : 0;
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
    json_decref (json);
}

void
sp_fake_resp_text (sp_fake_resp_t *resp, unsigned status, const char *text,
                   const char *content_type)
{
    free (resp->body);
    resp->body = text ? strdup (text) : NULL;
    resp->body_len = resp->body ? strlen (resp->body) : 0;
    resp->status = status;
    resp->content_type = content_type;
}

void
sp_fake_resp_bytes (sp_fake_resp_t *resp, unsigned status, const void *data, size_t len,
                    const char *content_type)
{
    free (resp->body);
    resp->body = malloc (len + 1);
    resp->body_len = 0;
    if (resp->body) {
        memcpy (resp->body, data, len);
        resp->body[len] = '\0';
        resp->body_len = len;
    }
    resp->status = status;
    resp->content_type = content_type;
}

void
sp_fake_resp_header (sp_fake_resp_t *resp, const char *name, const char *value)
{
    if (resp->header_count >= SP_FAKE_MAX_HEADERS)
        return;
    resp->header_name[resp->header_count] = strdup (name);
    resp->header_value[resp->header_count] = strdup (value);
    resp->header_count++;
}

static void
s_resp_free (sp_fake_resp_t *resp)
{
    free (resp->body);
    for (int i = 0; i < resp->header_count; i++) {
        free (resp->header_name[i]);
        free (resp->header_value[i]);
    }
    memset (resp, 0, sizeof *resp);
}

// ------------------------------------------------------------ requests

const char *
sp_fake_req_header (const sp_fake_req_t *req, const char *name)
{
    return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

const char *
sp_fake_req_arg (const sp_fake_req_t *req, const char *name)
{
    const char *v = MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, name);
    if (v)
        return v;
    //  "?flag" without '=' is reported with a NULL value: tell it apart
    const char *key = NULL;
    if (MHD_lookup_connection_value_n (req->conn, MHD_GET_ARGUMENT_KIND, name, strlen (name), &key,
                                       NULL) == MHD_YES)
        return "";
    return NULL;
}

int
sp_fake_hexval (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *
sp_fake_form_decode (const char *s, size_t len)
{
    char *out = malloc (len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+')
            out[o++] = ' ';
        else if (s[i] == '%' && i + 2 < len && sp_fake_hexval (s[i + 1]) >= 0 &&
                 sp_fake_hexval (s[i + 2]) >= 0) {
            out[o++] = (char) (sp_fake_hexval (s[i + 1]) * 16 + sp_fake_hexval (s[i + 2]));
            i += 2;
        } else
            out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

char *
sp_fake_form_get (const char *body, const char *name)
{
    size_t nlen = strlen (name);
    const char *p = body;
    while (p && *p) {
        const char *end = strchr (p, '&');
        size_t plen = end ? (size_t) (end - p) : strlen (p);
        const char *eq = memchr (p, '=', plen);
        size_t klen = eq ? (size_t) (eq - p) : plen;
        char *key = sp_fake_form_decode (p, klen);
        bool match = key && strlen (key) == nlen && memcmp (key, name, nlen) == 0;
        free (key);
        if (match)
            return eq ? sp_fake_form_decode (eq + 1, plen - klen - 1) : strdup ("");
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

char *
sp_fake_base_url (const sp_fake_t *fake, const sp_fake_req_t *req, char *buf, size_t size)
{
    const char *host = sp_fake_req_header (req, "Host");
    //  only trust a plain host[:port]; anything odd falls back to our address
    bool ok = host && *host && strlen (host) < 200;
    for (const char *c = host; ok && *c; c++)
        if (!(*c == '.' || *c == ':' || *c == '-' || *c == '[' || *c == ']' ||
              (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            ok = false;
    if (ok)
        snprintf (buf, size, "http://%s", host);
    else
        snprintf (buf, size, "http://%s:%u", fake->listen_host, fake->port);
    return buf;
}

int
sp_fake_split_path (const char *path, char *copy, size_t copy_size, char **segs, int max)
{
    size_t len = strlen (path);
    if (len >= copy_size)
        return -1;
    memcpy (copy, path, len + 1);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r (copy, "/", &save); tok; tok = strtok_r (NULL, "/", &save)) {
        if (n == max)
            return -1;
        segs[n++] = tok;
    }
    return n;
}

int
sp_fake_parse_i64 (const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll (s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

// ------------------------------------------------------------ time, ids

int64_t
sp_fake_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
sp_fake_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sp_fake_iso_time (int64_t wall_ms, bool zulu, char *buf, size_t size)
{
    time_t secs = (time_t) (wall_ms / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    snprintf (buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d0000%s", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (wall_ms % 1000),
              zulu ? "Z" : "");
}

void
sp_fake_sleep_unlocked (sp_fake_t *fake, int64_t ms)
{
    if (ms <= 0)
        return;
    pthread_mutex_unlock (&fake->lock);
    struct timespec ts = {(time_t) (ms / 1000), (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
        ;
    pthread_mutex_lock (&fake->lock);
}

void
sp_fake_random_hex (char *buf, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    if (RAND_bytes (raw, (int) nbytes) != 1) {
        //  never expected; fall back to something unique enough for a fake
        for (size_t i = 0; i < nbytes; i++)
            raw[i] = (unsigned char) (rand () & 0xff);
    }
    for (size_t i = 0; i < nbytes; i++)
        snprintf (buf + 2 * i, 3, "%02x", raw[i]);
    buf[2 * nbytes] = '\0';
}

void
sp_fake_uuid (char *buf)
{
    char hex[33];
    sp_fake_random_hex (hex, 16);
    hex[12] = '4';
    hex[16] = "89ab"[sp_fake_hexval (hex[16]) & 3];
    snprintf (buf, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

// ------------------------------------------------------------ control endpoint

//  GET /_fake/stats: counters for tests (documented in README.md).
static void
s_stats (sp_fake_t *fake, sp_fake_resp_t *resp)
{
    json_t *stats = json_object ();
    json_object_set_new (stats, "requests_total", json_integer ((json_int_t) fake->requests_total));
    json_object_set (stats, "requests", fake->req_counts);
    sp_fake_spotify_stats (fake, stats);
    sp_fake_plex_stats (fake, stats);
    sp_fake_subsonic_stats (fake, stats);
    sp_fake_jellyfin_stats (fake, stats);
    sp_fake_slskd_stats (fake, stats);
    sp_fake_resp_json (resp, 200, stats);
}

// ------------------------------------------------------------ JPEG covers
//  A baseline JPEG written by hand (ITU T.81): every 8x8 block is one flat
//  colour, so each block is only its DC coefficient followed by end-of-block
//  and no DCT is needed. With every quantizer step S_JPEG_Q, the quantized DC
//  of a block of value v is v - 128 (the DCT's DC is 8 * (v - 128)).

#define S_JPEG_BLOCKS 8     //  blocks per side: 64x64 pixels
#define S_JPEG_Q      8     //  every quantization table entry
#define S_JPEG_CAP    4096  //  bytes: headers ~180, scan at most ~1,100 with stuffing

typedef struct {
    unsigned char *data;  //  S_JPEG_CAP bytes
    size_t len;           //  bytes written
    unsigned acc;         //  bits not yet written, at most 7
    int nacc;             //  how many
} s_jpeg_t;

static void
s_jpeg_byte (s_jpeg_t *j, unsigned b)
{
    if (j->len < S_JPEG_CAP)
        j->data[j->len++] = (unsigned char) b;
}

static void
s_jpeg_word (s_jpeg_t *j, unsigned w)
{
    s_jpeg_byte (j, w >> 8);
    s_jpeg_byte (j, w & 0xFF);
}

//  The n low bits of bits into the entropy-coded scan, most significant
//  first; a 0xFF byte there is followed by a stuffed 0x00.
static void
s_jpeg_bits (s_jpeg_t *j, unsigned bits, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        j->acc = (j->acc << 1) | ((bits >> i) & 1);
        if (++j->nacc == 8) {
            s_jpeg_byte (j, j->acc);
            if (j->acc == 0xFF)
                s_jpeg_byte (j, 0);
            j->acc = 0;
            j->nacc = 0;
        }
    }
}

//  The standard luminance DC table (T.81 Annex K.3): code lengths per
//  category 0..11. The AC table has one symbol, end-of-block (0x00), code "0".
static const unsigned char s_dc_bits[16] = {0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};

static uint32_t
s_fnv1a (const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 16777619u;
    return h;
}

static int
s_clamp255 (double v)
{
    return v < 0 ? 0 : v > 255 ? 255 : (int) (v + 0.5);
}

size_t
sp_fake_jpeg (const char *seed, unsigned char **out)
{
    *out = NULL;
    s_jpeg_t j = {.data = malloc (S_JPEG_CAP)};
    if (!j.data)
        return 0;
    //  DC Huffman codes from the code lengths (T.81 Annex C)
    unsigned dc_code[12];
    int dc_len[12];
    unsigned code = 0;
    int k = 0;
    for (int len = 1; len <= 16; len++) {
        for (int i = 0; i < s_dc_bits[len - 1]; i++, k++) {
            dc_code[k] = code++;
            dc_len[k] = len;
        }
        code <<= 1;
    }
    //  Three colours from the seed: sleeve, record (its complement), label.
    uint32_t h = s_fnv1a (seed ? seed : "");
    int rgb[3][3];
    for (int c = 0; c < 3; c++) {
        rgb[0][c] = 40 + (int) ((h >> (8 * c)) & 0xFF) * 175 / 255;
        rgb[1][c] = 255 - rgb[0][c];
        rgb[2][c] = 60 + (int) ((h >> (8 * c + 4)) & 0xFF) * 190 / 255;
    }
    int ycc[3][3];
    for (int i = 0; i < 3; i++) {
        double r = rgb[i][0], g = rgb[i][1], b = rgb[i][2];
        ycc[i][0] = s_clamp255 (0.299 * r + 0.587 * g + 0.114 * b);
        ycc[i][1] = s_clamp255 (128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        ycc[i][2] = s_clamp255 (128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
    }

    const unsigned side = S_JPEG_BLOCKS * 8;
    s_jpeg_word (&j, 0xFFD8);  //  SOI
    s_jpeg_word (&j, 0xFFE0);  //  APP0 JFIF 1.1, no density, no thumbnail
    s_jpeg_word (&j, 16);
    const char jfif[] = "JFIF";
    for (size_t i = 0; i < sizeof jfif; i++)
        s_jpeg_byte (&j, (unsigned char) jfif[i]);
    const unsigned char app0[] = {1, 1, 0, 0, 1, 0, 1, 0, 0};
    for (size_t i = 0; i < sizeof app0; i++)
        s_jpeg_byte (&j, app0[i]);
    s_jpeg_word (&j, 0xFFDB);  //  DQT: table 0, 8-bit entries
    s_jpeg_word (&j, 67);
    s_jpeg_byte (&j, 0);
    for (int i = 0; i < 64; i++)
        s_jpeg_byte (&j, S_JPEG_Q);
    s_jpeg_word (&j, 0xFFC0);  //  SOF0: 8-bit, side x side, Y Cb Cr 1x1 on table 0
    s_jpeg_word (&j, 17);
    s_jpeg_byte (&j, 8);
    s_jpeg_word (&j, side);
    s_jpeg_word (&j, side);
    s_jpeg_byte (&j, 3);
    for (unsigned c = 1; c <= 3; c++) {
        s_jpeg_byte (&j, c);
        s_jpeg_byte (&j, 0x11);
        s_jpeg_byte (&j, 0);
    }
    s_jpeg_word (&j, 0xFFC4);  //  DHT: DC table 0 and AC table 0
    s_jpeg_word (&j, 2 + 17 + 12 + 17 + 1);
    s_jpeg_byte (&j, 0x00);
    for (int i = 0; i < 16; i++)
        s_jpeg_byte (&j, s_dc_bits[i]);
    for (int i = 0; i < 12; i++)
        s_jpeg_byte (&j, (unsigned) i);
    s_jpeg_byte (&j, 0x10);
    for (int i = 0; i < 16; i++)
        s_jpeg_byte (&j, i == 0 ? 1 : 0);
    s_jpeg_byte (&j, 0x00);
    s_jpeg_word (&j, 0xFFDA);  //  SOS: the three components, full spectrum
    s_jpeg_word (&j, 12);
    s_jpeg_byte (&j, 3);
    for (unsigned c = 1; c <= 3; c++) {
        s_jpeg_byte (&j, c);
        s_jpeg_byte (&j, 0x00);
    }
    s_jpeg_byte (&j, 0);
    s_jpeg_byte (&j, 63);
    s_jpeg_byte (&j, 0);

    //  One MCU per block (Y, Cb, Cr), raster order; DC coded as the
    //  difference from the component's previous block.
    int pred[3] = {0, 0, 0};
    for (int by = 0; by < S_JPEG_BLOCKS; by++)
        for (int bx = 0; bx < S_JPEG_BLOCKS; bx++) {
            double dx = bx - 3.5, dy = by - 3.5, d2 = dx * dx + dy * dy;
            int which = d2 <= 1.0 ? 2 : d2 <= 12.5 ? 1 : 0;
            for (int c = 0; c < 3; c++) {
                int q = ycc[which][c] - 128;
                int diff = q - pred[c];
                pred[c] = q;
                int cat = 0;
                for (int a = diff < 0 ? -diff : diff; a; a >>= 1)
                    cat++;
                s_jpeg_bits (&j, dc_code[cat], dc_len[cat]);
                if (cat)
                    s_jpeg_bits (&j, (unsigned) (diff >= 0 ? diff : diff + (1 << cat) - 1), cat);
                s_jpeg_bits (&j, 0, 1);  //  end of block
            }
        }
    while (j.nacc)  //  pad the last byte with 1 bits
        s_jpeg_bits (&j, 1, 1);
    s_jpeg_word (&j, 0xFFD9);  //  EOI
    *out = j.data;
    return j.len;
}

// ------------------------------------------------------------ routing

static void
s_route (sp_fake_t *fake, const sp_fake_req_t *req, sp_fake_resp_t *resp)
{
    char key[600];
    snprintf (key, sizeof key, "%s %s", req->method, req->path);
    json_t *count = json_object_get (fake->req_counts, key);
    json_object_set_new (fake->req_counts, key,
                         json_integer (count ? json_integer_value (count) + 1 : 1));
    fake->requests_total++;

    if (strcmp (req->path, "/_fake/stats") == 0) {
        s_stats (fake, resp);
        return;
    }
    if (sp_fake_slskd_handle (fake, req, resp))
        return;
    if (sp_fake_plex_handle (fake, req, resp))
        return;
    if (sp_fake_subsonic_handle (fake, req, resp))
        return;
    if (sp_fake_jellyfin_handle (fake, req, resp))
        return;
    if (sp_fake_spotify_handle (fake, req, resp))
        return;
    sp_fake_resp_text (resp, 404, "Not Found", "text/plain");
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) version;
    sp_fake_t *fake = cls;
    s_conn_ctx_t *ctx = *con_cls;
    if (!ctx) {
        ctx = calloc (1, sizeof *ctx);
        if (!ctx)
            return MHD_NO;
        *con_cls = ctx;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (ctx->body.len + *upload_data_size > MAX_BODY_BYTES)
            ctx->too_big = true;
        else
            sp_fake_buf_append (&ctx->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }

    sp_fake_req_t req = {conn, method, url, ctx->body.data ? ctx->body.data : "", ctx->body.len};
    sp_fake_resp_t resp;
    memset (&resp, 0, sizeof resp);
    if (ctx->too_big)
        sp_fake_resp_text (&resp, 413, "Payload Too Large", "text/plain");
    else {
        pthread_mutex_lock (&fake->lock);
        s_route (fake, &req, &resp);
        pthread_mutex_unlock (&fake->lock);
    }
    if (fake->latency_ms) {
        struct timespec ts = {(time_t) (fake->latency_ms / 1000),
                              (long) (fake->latency_ms % 1000) * 1000000L};
        while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    if (resp.status == 0)
        resp.status = 500;
    struct MHD_Response *r = MHD_create_response_from_buffer (
        resp.body_len, resp.body ? resp.body : (void *) "",
        resp.body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        s_resp_free (&resp);
        return MHD_NO;
    }
    resp.body = NULL;  //  now owned by r
    if (resp.content_type)
        MHD_add_response_header (r, "Content-Type", resp.content_type);
    for (int i = 0; i < resp.header_count; i++)
        MHD_add_response_header (r, resp.header_name[i], resp.header_value[i]);
    enum MHD_Result rc = MHD_queue_response (conn, resp.status, r);
    MHD_destroy_response (r);
    s_resp_free (&resp);
    return rc;
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void) cls;
    (void) conn;
    (void) toe;
    s_conn_ctx_t *ctx = *con_cls;
    if (ctx) {
        free (ctx->body.data);
        free (ctx);
        *con_cls = NULL;
    }
}

// ------------------------------------------------------------ main

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: soulpipe-fake --listen HOST:PORT --fixtures DIR --downloads DIR "
                  "[--latency-ms N]\n"
                  "  Fake Spotify (accounts + Web API), Plex and slskd servers on one port.\n"
                  "  --listen HOST:PORT  IPv4 address to bind (PORT 0 picks a free port)\n"
                  "  --fixtures DIR      fixture tree (see tests/fakes/README.md)\n"
                  "  --downloads DIR     where completed slskd downloads are written\n"
                  "  --latency-ms N      delay every answer by N ms (default 0)\n"
                  "  --write-library OUT write the fixture's Plex library as tagged files under\n"
                  "                      OUT (for SOULPIPE_LIBRARY=folder), then exit\n"
                  "  Prints 'listening on HOST:PORT' when ready; stops on SIGTERM/SIGINT.\n"
                  "  GET /_fake/stats returns request and behaviour counters as JSON.\n");
}

int
main (int argc, char **argv)
{
    const char *listen = NULL, *fixtures = NULL, *downloads = NULL, *write_library = NULL;
    int64_t latency = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
            s_usage (stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf (stderr, "soulpipe-fake: %s needs a value\n", a);
            s_usage (stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp (a, "--listen") == 0)
            listen = v;
        else if (strcmp (a, "--fixtures") == 0)
            fixtures = v;
        else if (strcmp (a, "--downloads") == 0)
            downloads = v;
        else if (strcmp (a, "--write-library") == 0)
            write_library = v;
        else if (strcmp (a, "--latency-ms") == 0) {
            if (sp_fake_parse_i64 (v, 0, MAX_LATENCY_MS, &latency) != 0) {
                fprintf (stderr, "soulpipe-fake: bad --latency-ms %s\n", v);
                return 2;
            }
        } else {
            fprintf (stderr, "soulpipe-fake: unknown option %s\n", a);
            s_usage (stderr);
            return 2;
        }
    }
    if (write_library && fixtures) {
        char err[512];
        int n = sp_fake_write_folder_library (fixtures, write_library, err, sizeof err);
        if (n < 0) {
            fprintf (stderr, "soulpipe-fake: %s\n", err);
            return 1;
        }
        printf ("wrote %d library files under %s\n", n, write_library);
        return 0;
    }
    if (!listen || !fixtures || !downloads) {
        s_usage (stderr);
        return 2;
    }

    sp_log_level_t level = SP_LOG_INFO;
    const char *lv = getenv ("SOULPIPE_LOG_LEVEL");
    if (lv && sp_log_level_parse (lv, &level) != 0)
        level = SP_LOG_INFO;
    sp_log_init ("fake", level);

    sp_fake_t fake;
    memset (&fake, 0, sizeof fake);
    pthread_mutex_init (&fake.lock, NULL);
    fake.latency_ms = (unsigned) latency;

    //  --listen HOST:PORT (IPv4 literal)
    const char *colon = strrchr (listen, ':');
    int64_t port = -1;
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    if (!colon || (size_t) (colon - listen) >= sizeof fake.listen_host ||
        sp_fake_parse_i64 (colon + 1, 0, 65535, &port) != 0) {
        fprintf (stderr, "soulpipe-fake: bad --listen %s (want HOST:PORT)\n", listen);
        return 2;
    }
    memcpy (fake.listen_host, listen, (size_t) (colon - listen));
    if (strcmp (fake.listen_host, "localhost") == 0)
        snprintf (fake.listen_host, sizeof fake.listen_host, "127.0.0.1");
    if (inet_pton (AF_INET, fake.listen_host, &addr.sin_addr) != 1) {
        fprintf (stderr, "soulpipe-fake: bad --listen host %s (want an IPv4 address)\n",
                 fake.listen_host);
        return 2;
    }
    addr.sin_port = htons ((uint16_t) port);

    int rc = 0;
    struct MHD_Daemon *daemon = NULL;
    fake.fixtures_dir = strdup (fixtures);
    fake.downloads_dir = strdup (downloads);
    fake.req_counts = json_object ();
    if (sp_fake_mkdir_p (downloads) != 0) {
        fprintf (stderr, "soulpipe-fake: cannot create --downloads %s: %s\n", downloads,
                 strerror (errno));
        rc = 2;
        goto cleanup;
    }
    char err[1024] = "";
    fake.spotify = sp_fake_spotify_new (fixtures, err, sizeof err);
    if (fake.spotify)
        fake.plex = sp_fake_plex_new (fixtures, err, sizeof err);
    if (fake.plex && sp_fake_subsonic_init (fixtures, err, sizeof err) != 0)
        sp_fake_plex_destroy (&fake.plex);  //  reported as a bad fixture below
    if (fake.plex && sp_fake_jellyfin_init (fixtures, err, sizeof err) != 0)
        sp_fake_plex_destroy (&fake.plex);  //  reported as a bad fixture below
    if (fake.plex)
        fake.slskd = sp_fake_slskd_new (fixtures, err, sizeof err);
    if (!fake.slskd) {
        fprintf (stderr, "soulpipe-fake: bad fixtures: %s\n", err);
        rc = 2;
        goto cleanup;
    }

    //  Block the stop signals in every thread; main waits for them below.
    sigset_t sigs;
    sigemptyset (&sigs);
    sigaddset (&sigs, SIGTERM);
    sigaddset (&sigs, SIGINT);
    pthread_sigmask (SIG_BLOCK, &sigs, NULL);
    signal (SIGPIPE, SIG_IGN);

    daemon = MHD_start_daemon (
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, s_access, &fake, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned) CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!daemon) {
        fprintf (stderr, "soulpipe-fake: cannot listen on %s: %s\n", listen, strerror (errno));
        rc = 1;
        goto cleanup;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
    fake.port = info ? info->port : (unsigned) port;
    printf ("listening on %s:%u\n", fake.listen_host, fake.port);
    fflush (stdout);
    sp_log_info ("event=listening host=%s port=%u fixtures=%s downloads=%s latency_ms=%u",
                 fake.listen_host, fake.port, sp_log_q (fixtures), sp_log_q (downloads),
                 fake.latency_ms);

    int sig = 0;
    sigwait (&sigs, &sig);
    sp_log_info ("event=stopping signal=%d", sig);
    MHD_stop_daemon (daemon);
cleanup:
    sp_fake_spotify_destroy (&fake.spotify);
    sp_fake_plex_destroy (&fake.plex);
    sp_fake_subsonic_fini ();
    sp_fake_jellyfin_fini ();
    sp_fake_slskd_destroy (&fake.slskd);
    json_decref (fake.req_counts);
    free (fake.fixtures_dir);
    free (fake.downloads_dir);
    pthread_mutex_destroy (&fake.lock);
    return rc;
}
