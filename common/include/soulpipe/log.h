/*  log.h: leveled, one-line-per-event logging to stderr.

    Every line has the shape
        2026-11-26T07:35:00.123Z INFO analyzer event=submit job=J1 track=T3 ...
    i.e. a UTC timestamp, the level, the service name, then key=value fields.
    The job and track ids set with sp_log_context() for the current thread are
    appended to every line logged from that thread while they are set.

    The sp_log_* macros test the level before evaluating their arguments, so
    expensive arguments cost nothing when the level is filtered out.

    Strings that come from outside (peer file names, upstream messages) must
    be passed through sp_log_q(), which returns a quoted, escaped copy that
    stays valid until the same thread has made 8 more calls to sp_log_q().
    Secrets (tokens, API keys, passwords) are never logged; use
    sp_log_redact_url() for URLs that may carry a password.
*/
#ifndef SOULPIPE_LOG_H
#define SOULPIPE_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SP_LOG_DEBUG = 0,
    SP_LOG_INFO = 1,
    SP_LOG_WARN = 2,
    SP_LOG_ERROR = 3,
    SP_LOG_OFF = 4
} sp_log_level_t;

/*  Set the service name shown on each line (borrowed: must outlive logging)
    and the minimum level. Safe to call again. */
void sp_log_init (const char *service, sp_log_level_t level);

/*  Parse "debug", "info", "warn"/"warning", "error", "off" (any case).
    Returns 0 and sets *level, or -1 when the name is unknown. */
int sp_log_level_parse (const char *name, sp_log_level_t *level);

/*  True when a line at this level would be written. */
bool sp_log_enabled (sp_log_level_t level);

/*  Set (or with NULL clear) the job and track ids appended to every line this
    thread logs. The strings are copied (truncated to 63 bytes). */
void sp_log_context (const char *job, const char *track);

/*  Write one line. fmt is the key=value part, e.g. "event=submit total=%d".
    Prefer the macros below. Rate-limited per call site (fmt's address):
    past the limit (see sp_log_set_rate) a site's lines are counted instead
    of written, and one line "event=log_suppressed count=K what=\"suppressed
    K similar lines\" like=\"<fmt>\"" follows once its window has passed. */
void sp_log_write (sp_log_level_t level, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

/*  At most per_second lines per call site and second (default 20); 0 or
    less turns the limit off. Thread-safe. */
void sp_log_set_rate (int per_second);

/*  A quoted, escaped rendering of s ("..." with \", \\, \n, \xNN for control
    bytes and invalid UTF-8, at most ~400 bytes, "..." marked when cut). NULL
    gives "null". Thread-local rotating storage: valid for 8 further calls. */
const char *sp_log_q (const char *s);

/*  Copy url into buf with any password (and any "X-Plex-Token=" / "token="
    query value) replaced by "***". Returns buf. */
char *sp_log_redact_url (const char *url, char *buf, size_t size);

#define sp_log_debug(...)                                                                          \
    do {                                                                                           \
        if (sp_log_enabled (SP_LOG_DEBUG))                                                         \
            sp_log_write (SP_LOG_DEBUG, __VA_ARGS__);                                              \
    } while (0)
#define sp_log_info(...)                                                                           \
    do {                                                                                           \
        if (sp_log_enabled (SP_LOG_INFO))                                                          \
            sp_log_write (SP_LOG_INFO, __VA_ARGS__);                                               \
    } while (0)
#define sp_log_warn(...)                                                                           \
    do {                                                                                           \
        if (sp_log_enabled (SP_LOG_WARN))                                                          \
            sp_log_write (SP_LOG_WARN, __VA_ARGS__);                                               \
    } while (0)
#define sp_log_error(...)                                                                          \
    do {                                                                                           \
        if (sp_log_enabled (SP_LOG_ERROR))                                                         \
            sp_log_write (SP_LOG_ERROR, __VA_ARGS__);                                              \
    } while (0)

#endif
