/*  config_url.c: the config module's URL and endpoint checks (see config.h):
    Redis URLs parsed into sp_redis_url_t (user and password
    percent-decoded), upstream base URLs and ZeroMQ endpoints validated, bind
    endpoints turned into connectable ones. I/O-free. */
#include "config_int.h"
#include "soulpipe/err.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ------------------------------------------------------------ upstreams and endpoints

/*  "http(s)://host[:port]" with an optional trailing "/" and nothing else. */
int
sp_config__check_upstream (const char *s)
{
    const char *p;
    if (strncmp (s, "http://", 7) == 0)
        p = s + 7;
    else if (strncmp (s, "https://", 8) == 0)
        p = s + 8;
    else
        return -1;
    const char *host = p;
    if (*p == '[') {  //  IPv6 literal
        p = strchr (p, ']');
        if (!p)
            return -1;
        p++;
    } else {
        while (*p && (isalnum ((unsigned char) *p) || *p == '.' || *p == '-' || *p == '_'))
            p++;
    }
    if (p == host)
        return -1;
    if (*p == ':') {
        p++;
        long port = 0;
        const char *digits = p;
        while (isdigit ((unsigned char) *p))
            port = port * 10 + (*p++ - '0');
        if (p == digits || p - digits > 5 || port < 1 || port > 65535)
            return -1;
    }
    if (*p == '/')
        p++;
    return *p ? -1 : 0;
}

int
sp_config_check_endpoint (const char *e)
{
    if (!e)
        return -1;
    if (strncmp (e, "ipc://", 6) == 0)
        return e[6] ? 0 : -1;
    if (strncmp (e, "inproc://", 9) == 0)
        return e[9] ? 0 : -1;
    if (strncmp (e, "tcp://", 6) != 0)
        return -1;
    const char *host = e + 6;
    const char *colon = strrchr (host, ':');
    if (!colon || colon == host)
        return -1;
    for (const char *p = host; p < colon; p++) {
        unsigned char c = (unsigned char) *p;
        if (!(isalnum (c) || c == '.' || c == '-' || c == '_' || c == '*' || c == '[' || c == ']' ||
              c == ':'))
            return -1;
    }
    long port;
    if (sp_config__parse_long (colon + 1, &port) || port < 1 || port > 65535)
        return -1;
    return 0;
}

void
sp_config_connect_endpoint (const char *endpoint, char *out, size_t size)
{
    if (!out || size == 0)
        return;
    if (!endpoint) {
        out[0] = '\0';
        return;
    }
    if (strncmp (endpoint, "tcp://*:", 8) == 0)
        snprintf (out, size, "tcp://127.0.0.1:%s", endpoint + 8);
    else if (strncmp (endpoint, "tcp://0.0.0.0:", 14) == 0)
        snprintf (out, size, "tcp://127.0.0.1:%s", endpoint + 14);
    else
        snprintf (out, size, "%s", endpoint);
}

void
sp_config_redis_url_free (sp_redis_url_t *u)
{
    if (!u)
        return;
    free (u->host);
    free (u->unix_path);
    free (u->user);
    free (u->password);
    memset (u, 0, sizeof *u);
}

static char *
s_strndup_or_empty (const char *s, size_t n)
{
    char *r = malloc (n + 1);
    if (r) {
        memcpy (r, s, n);
        r[n] = '\0';
    }
    return r;
}

static int
s_hexval (char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*  Copy [s, s+len) percent-decoded (a password may hold '@' or ':' as %40,
    %3A). NULL on a bad escape, a decoded NUL, or out of memory. */
static char *
s_pct_decode (const char *s, size_t len)
{
    char *out = malloc (len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        int a = i + 1 < len ? s_hexval (s[i + 1]) : -1;
        int b = i + 2 < len ? s_hexval (s[i + 2]) : -1;
        if (a < 0 || b < 0 || (a == 0 && b == 0)) {
            free (out);
            return NULL;
        }
        out[o++] = (char) (a * 16 + b);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

// ------------------------------------------------------------ Redis URLs

/*  The rest of unix:///path.sock[?db=N] after "unix://". Returns 0, or -1
    with *why. */
static int
s_parse_unix (const char *path, sp_redis_url_t *out, const char **why)
{
    size_t plen = strcspn (path, "?");
    if (plen == 0 || path[0] != '/') {
        *why = "unix:// needs an absolute socket path";
        return -1;
    }
    out->unix_path = s_strndup_or_empty (path, plen);
    if (path[plen] == '?') {
        long db;
        if (strncmp (path + plen, "?db=", 4) != 0 || sp_config__parse_long (path + plen + 4, &db) ||
            db < 0 || db > 15) {
            *why = "only ?db=0..15 is understood after a unix socket path";
            return -1;
        }
        out->db = (int) db;
    }
    out->host = s_strndup_or_empty ("", 0);
    out->user = s_strndup_or_empty ("", 0);
    out->password = s_strndup_or_empty ("", 0);
    if (!out->unix_path || !out->host || !out->user || !out->password) {
        *why = "out of memory";
        return -1;
    }
    return 0;
}

/*  The optional [[user]:password@] at the start of [p, auth_end): sets
    out->user and out->password (decoded; "" when absent, NULL when out of
    memory). Returns where the host starts, or NULL with *why on a bad
    escape. */
static const char *
s_parse_userinfo (const char *p, const char *auth_end, sp_redis_url_t *out, const char **why)
{
    const char *at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (!at) {
        out->user = s_strndup_or_empty ("", 0);
        out->password = s_strndup_or_empty ("", 0);
        return p;
    }
    const char *colon = memchr (p, ':', (size_t) (at - p));
    if (colon) {
        out->user = s_pct_decode (p, (size_t) (colon - p));
        out->password = s_pct_decode (colon + 1, (size_t) (at - colon - 1));
    } else {
        //  redis://password@host is a common shorthand
        out->user = s_strndup_or_empty ("", 0);
        out->password = s_pct_decode (p, (size_t) (at - p));
    }
    if (!out->user || !out->password) {
        *why = "bad %-escape in the user or password";
        return NULL;
    }
    return at + 1;
}

/*  host[:port] filling all of [p, auth_end); the host may be an [IPv6]
    literal. Sets out->host (NULL when out of memory) and out->port.
    Returns 0, or -1 with *why. */
static int
s_parse_host_port (const char *p, const char *auth_end, sp_redis_url_t *out, const char **why)
{
    const char *host_end;
    const char *host = p;
    if (*p == '[') {
        host = p + 1;
        host_end = memchr (p, ']', (size_t) (auth_end - p));
        if (!host_end) {
            *why = "unclosed [ in IPv6 host";
            return -1;
        }
        p = host_end + 1;
    } else {
        host_end = p;
        while (host_end < auth_end && *host_end != ':')
            host_end++;
        p = host_end;
    }
    if (host_end == host) {
        *why = "missing host";
        return -1;
    }
    for (const char *q = host; q < host_end; q++) {
        unsigned char c = (unsigned char) *q;
        if (!(isalnum (c) || c == '.' || c == '-' || c == '_' || c == ':')) {
            *why = "invalid character in host";
            return -1;
        }
    }
    out->host = s_strndup_or_empty (host, (size_t) (host_end - host));
    if (*p == ':') {
        p++;
        long port = 0;
        const char *digits = p;
        while (p < auth_end && isdigit ((unsigned char) *p))
            port = port * 10 + (*p++ - '0');
        if (p == digits || p != auth_end || p - digits > 5 || port < 1 || port > 65535) {
            *why = "port must be 1..65535";
            return -1;
        }
        out->port = (int) port;
    } else if (p != auth_end) {
        *why = "unexpected text after host";
        return -1;
    }
    return 0;
}

/*  The rest of redis://[[user]:password@]host[:port][/db] after
    "redis://". Returns 0, or -1 with *why. */
static int
s_parse_tcp (const char *p, sp_redis_url_t *out, const char **why)
{
    const char *auth_end = p + strcspn (p, "/");
    p = s_parse_userinfo (p, auth_end, out, why);
    if (!p || s_parse_host_port (p, auth_end, out, why) != 0)
        return -1;
    p = auth_end;
    if (*p == '/' && p[1]) {
        long db;
        if (sp_config__parse_long (p + 1, &db) || db < 0 || db > 15) {
            *why = "database must be 0..15";
            return -1;
        }
        out->db = (int) db;
    }
    if (!out->host || !out->user || !out->password) {
        *why = "out of memory";
        return -1;
    }
    out->unix_path = s_strndup_or_empty ("", 0);
    if (!out->unix_path) {
        *why = "out of memory";
        return -1;
    }
    return 0;
}

int
sp_config_parse_redis_url (const char *url, sp_redis_url_t *out, char *err, size_t err_size)
{
    memset (out, 0, sizeof *out);
    out->port = 6379;
    const char *why = NULL;
    if (!url || !*url)
        why = "empty";
    else if (strncmp (url, "unix://", 7) == 0) {
        if (s_parse_unix (url + 7, out, &why) == 0)
            return 0;
    } else if (strncmp (url, "redis://", 8) != 0)
        why = "must start with redis:// or unix://";
    else if (s_parse_tcp (url + 8, out, &why) == 0)
        return 0;
    sp_config_redis_url_free (out);
    sp_err_set (err, err_size, "%s", why);
    return -1;
}
