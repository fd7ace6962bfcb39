/*  log.c: leveled one-line logging (see soulpipe/log.h).

    Lines are assembled in a stack buffer and written with one write(2), so
    lines from several threads never interleave.

    Rate limit: a call site is known by its format string (the literal's
    address). Each site may write s_rate_per_s lines per one-second window;
    past that its lines are counted, not written, and the first line of the
    site in a later window (or a sweep, at most once a second, from any
    line) writes one "suppressed K similar lines" line in their place. A
    peer that sends 300k bogus messages then costs a few lines a second. */
#include "soulpipe/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX       4096  //  bytes per line, longer lines are cut
#define LOG_Q_SLOTS        8     //  rotating buffers for sp_log_q
#define LOG_Q_MAX          400   //  bytes of input rendered by sp_log_q
#define LOG_RATE_SLOTS     256   //  call sites tracked at once (direct-mapped)
#define LOG_RATE_WINDOW_MS 1000  //  the rate limit's window (ms)
#define LOG_RATE_DEFAULT   20    //  lines per call site per window, by default

static const char *s_service = "soulpipe";
static sp_log_level_t s_level = SP_LOG_INFO;
static bool s_initialized =
    false;  //  sp_log_init called (else the level comes from the environment)

static _Thread_local char s_ctx_job[64];
static _Thread_local char s_ctx_track[64];
static _Thread_local char s_q_buf[LOG_Q_SLOTS][LOG_Q_MAX * 4 + 16];
static _Thread_local unsigned s_q_next;

static const char *s_level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

typedef struct {
    const char *key;                //  the call site's format string (NULL = free slot)
    int64_t window_ms;              //  start of its current window (monotonic ms)
    unsigned count;                 //  lines written in this window
    unsigned long long suppressed;  //  lines not written since the last summary
    sp_log_level_t level;           //  highest level among the suppressed lines
} s_rate_t;

static pthread_mutex_t s_rate_lock = PTHREAD_MUTEX_INITIALIZER;  //  guards the three below
static s_rate_t s_rate[LOG_RATE_SLOTS];                          //  per call site counters
static int64_t s_rate_swept_ms;                     //  last sweep for silent suppressed sites
static atomic_int s_rate_per_s = LOG_RATE_DEFAULT;  //  lines per site per window, 0 = no limit

void
sp_log_init (const char *service, sp_log_level_t level)
{
    if (service)
        s_service = service;
    s_level = level;
    s_initialized = true;
}

int
sp_log_level_parse (const char *name, sp_log_level_t *level)
{
    static const struct {
        const char *name;
        sp_log_level_t level;
    } map[] = {
        {"debug", SP_LOG_DEBUG},  {"info", SP_LOG_INFO},   {"warn", SP_LOG_WARN},
        {"warning", SP_LOG_WARN}, {"error", SP_LOG_ERROR}, {"off", SP_LOG_OFF},
    };
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcasecmp (name, map[i].name) == 0) {
            *level = map[i].level;
            return 0;
        }
    }
    return -1;
}

bool
sp_log_enabled (sp_log_level_t level)
{
    //  Code that logs before (or without) sp_log_init, such as library code
    //  under test, follows SOULPIPE_LOG_LEVEL. A benign race: every thread
    //  computes the same value.
    if (!s_initialized) {
        sp_log_level_t env_level;
        if (sp_log_level_parse (getenv ("SOULPIPE_LOG_LEVEL"), &env_level) == 0)
            s_level = env_level;
        s_initialized = true;
    }
    return level >= s_level && level < SP_LOG_OFF;
}

static void
s_copy_id (char *dst, size_t size, const char *src)
{
    if (!src) {
        dst[0] = '\0';
        return;
    }
    size_t i = 0;
    //  ids are ours, but keep the line parseable whatever they hold
    for (; src[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char) src[i];
        dst[i] = (c <= ' ' || c == '"' || c == '=' || c >= 0x7f) ? '_' : (char) c;
    }
    dst[i] = '\0';
}

void
sp_log_context (const char *job, const char *track)
{
    s_copy_id (s_ctx_job, sizeof s_ctx_job, job);
    s_copy_id (s_ctx_track, sizeof s_ctx_track, track);
}

void
sp_log_set_rate (int per_second)
{
    atomic_store (&s_rate_per_s, per_second > 0 ? per_second : 0);
}

/*  Format and write one line; with_context appends this thread's job and
    track ids. */
static void s_emit (sp_log_level_t level, bool with_context, const char *fmt, va_list ap)
    __attribute__ ((format (printf, 3, 0)));

static void
s_emit (sp_log_level_t level, bool with_context, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r (&ts.tv_sec, &tm);
    int len = snprintf (line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec, ts.tv_nsec / 1000000, s_level_names[level], s_service);
    if (len < 0)
        return;
    size_t used = (size_t) len;

    int n = vsnprintf (line + used, sizeof line - used, fmt, ap);
    if (n > 0)
        used += (size_t) n;
    if (used >= sizeof line)
        used = sizeof line - 1;

    if (with_context && s_ctx_job[0] && used < sizeof line) {
        n = snprintf (line + used, sizeof line - used, " job=%s", s_ctx_job);
        if (n > 0)
            used += (size_t) n;
    }
    if (used >= sizeof line)
        used = sizeof line - 1;
    if (with_context && s_ctx_track[0] && used < sizeof line) {
        n = snprintf (line + used, sizeof line - used, " track=%s", s_ctx_track);
        if (n > 0)
            used += (size_t) n;
    }
    if (used >= sizeof line - 1)
        used = sizeof line - 2;
    line[used++] = '\n';
    ssize_t rc = write (STDERR_FILENO, line, used);
    (void) rc;
}

static void s_emit_f (sp_log_level_t level, bool with_context, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_emit_f (sp_log_level_t level, bool with_context, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    s_emit (level, with_context, fmt, ap);
    va_end (ap);
}

/*  The summary of a slot's suppressed lines, then the slot is reset to
    key at now. Called with s_rate_lock held. */
static void
s_rate_flush (s_rate_t *slot, const char *key, int64_t now)
{
    if (slot->key && slot->suppressed)
        s_emit_f (slot->level, false,
                  "event=log_suppressed count=%llu what=\"suppressed %llu similar lines\" like=%s",
                  slot->suppressed, slot->suppressed, sp_log_q (slot->key));
    slot->key = key;
    slot->window_ms = now;
    slot->count = 0;
    slot->suppressed = 0;
    slot->level = SP_LOG_DEBUG;
}

/*  True when the line of call site fmt may be written now; counts it as
    suppressed otherwise. */
static bool
s_rate_admit (sp_log_level_t level, const char *fmt)
{
    int limit = atomic_load (&s_rate_per_s);
    if (limit <= 0)
        return true;
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    uintptr_t h = (uintptr_t) fmt;
    h ^= h >> 17;
    h *= (uintptr_t) 0x9e3779b97f4a7c15ULL;
    s_rate_t *slot = &s_rate[(h >> 8) % LOG_RATE_SLOTS];
    bool admit = true;
    pthread_mutex_lock (&s_rate_lock);
    if (slot->key != fmt || now - slot->window_ms >= LOG_RATE_WINDOW_MS)
        s_rate_flush (slot, fmt, now);
    if (slot->count >= (unsigned) limit) {
        slot->suppressed++;
        if (level > slot->level)
            slot->level = level;
        admit = false;
    } else
        slot->count++;
    //  sites that went quiet while suppressed still get their summary
    if (now - s_rate_swept_ms >= LOG_RATE_WINDOW_MS) {
        s_rate_swept_ms = now;
        for (size_t i = 0; i < LOG_RATE_SLOTS; i++)
            if (s_rate[i].suppressed && now - s_rate[i].window_ms >= LOG_RATE_WINDOW_MS)
                s_rate_flush (&s_rate[i], s_rate[i].key, now);
    }
    pthread_mutex_unlock (&s_rate_lock);
    return admit;
}

void
sp_log_write (sp_log_level_t level, const char *fmt, ...)
{
    if (level < SP_LOG_DEBUG || level >= SP_LOG_OFF || !fmt)
        return;
    if (!s_rate_admit (level, fmt))
        return;
    va_list ap;
    va_start (ap, fmt);
    s_emit (level, true, fmt, ap);
    va_end (ap);
}

/*  Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t
s_utf8_len (const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07;
    } else
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

const char *
sp_log_q (const char *s)
{
    char *out = s_q_buf[s_q_next++ % LOG_Q_SLOTS];
    if (!s)
        return "null";
    size_t o = 0;
    const unsigned char *p = (const unsigned char *) s;
    out[o++] = '"';
    size_t taken = 0;
    while (*p && taken < LOG_Q_MAX) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char) c;
            p++;
            taken++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            p++;
            taken++;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t) snprintf (out + o, 5, "\\x%02x", c);
            p++;
            taken++;
        } else if (c < 0x80) {
            out[o++] = (char) c;
            p++;
            taken++;
        } else {
            size_t len = s_utf8_len (p);
            if (len == 0) {
                o += (size_t) snprintf (out + o, 5, "\\x%02x", c);
                p++;
                taken++;
            } else {
                memcpy (out + o, p, len);
                o += len;
                p += len;
                taken += len;
            }
        }
    }
    if (*p) {
        memcpy (out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

char *
sp_log_redact_url (const char *url, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    if (!url)
        return buf;
    size_t o = 0;
    const char *p = url;
    const char *scheme = strstr (url, "://");
    const char *authority = scheme ? scheme + 3 : url;
    //  userinfo: everything before '@' in the authority; keep the user, hide the password
    const char *auth_end = authority + strcspn (authority, "/?#");
    const char *at = memchr (authority, '@', (size_t) (auth_end - authority));
    while (*p && o + 1 < size) {
        if (at && p == authority) {
            const char *colon = memchr (authority, ':', (size_t) (at - authority));
            const char *user_end = colon ? colon : at;
            for (const char *q = authority; q < user_end && o + 1 < size; q++)
                buf[o++] = *q;
            if (colon) {
                const char *mask = ":***";
                for (; *mask && o + 1 < size; mask++)
                    buf[o++] = *mask;
            }
            p = at;
            continue;
        }
        //  query values of token-like parameters
        if ((*p == '?' || *p == '&') && p > url) {
            buf[o++] = *p++;
            static const char *secret_keys[] = {
                "X-Plex-Token=",  "token=",         "api_key=", "apikey=",       "access_token=",
                "client_secret=", "refresh_token=", "code=",    "code_verifier="};
            for (size_t k = 0; k < sizeof secret_keys / sizeof secret_keys[0]; k++) {
                size_t kl = strlen (secret_keys[k]);
                if (strncasecmp (p, secret_keys[k], kl) == 0) {
                    for (size_t i = 0; i < kl && o + 1 < size; i++)
                        buf[o++] = p[i];
                    const char *mask = "***";
                    for (; *mask && o + 1 < size; mask++)
                        buf[o++] = *mask;
                    p += kl;
                    p += strcspn (p, "&#");
                    break;
                }
            }
            continue;
        }
        buf[o++] = *p++;
    }
    buf[o] = '\0';
    return buf;
}
