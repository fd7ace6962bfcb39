/*  config.c: environment variables with defaults and validation.

    One table describes every variable: its default, its help line, which
    binaries read it, whether it is a secret, and how it is parsed into
    sp_config_t. --help, validation and the effective-config log line all come
    from that table, so they cannot disagree. The URL and endpoint checks
    the table's types use are in config_url.c. */
#include "config_int.h"
#include "soulpipe/err.h"
#include "soulpipe/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    T_STR,       //  any string
    T_UPSTREAM,  //  http(s)://host[:port] with no path ("" allowed when optional)
    T_REDIS,     //  redis URL
    T_ENDPOINT,  //  zmq endpoint
    T_INT,       //  integer in [min, max]
    T_DOUBLE,    //  real in [min, max]
    T_BOOL,      //  1/0, true/false, yes/no, on/off
    T_BUDGET,    //  "N/S"
    T_LEVEL,     //  log level
    T_FORMATS,   //  comma list of audio extensions
    T_DIR,       //  a folder path (non-empty)
    T_LIBRARY,   //  SOULPIPE_LIBRARY: plex, jellyfin, navidrome, subsonic, folder, none or ""
    T_ABSPATHS,  //  absolute folder paths separated by ':' ("" allowed when optional)
    T_VERIFYPOL  //  SOULPIPE_LOSSY_SOURCE: reject, flag or accept
} var_type_t;

typedef struct {
    sp_config_var_t pub;  //  documented part
    var_type_t type;      //  how to parse
    size_t offset;        //  field in sp_config_t (the first of two for T_BUDGET)
    double min, max;      //  bounds for T_INT/T_DOUBLE
    bool optional;        //  "" allowed for T_UPSTREAM/T_DIR
} var_def_t;

#define OFF(f) offsetof (sp_config_t, f)
//  One row of the table: the documented part (name, default, help, the
//  binaries that read it, secret), then how it is parsed (type, the field
//  of sp_config_t, min and max for numbers, "" allowed).
#define VAR(name, def, help, services, secret, type, field, min, max, optional)                    \
    {                                                                                              \
        {name, def, help, services, secret}, type, OFF (field), min, max, optional                 \
    }
#define A SP_SVC_ANALYZER
#define S SP_SVC_SEARCHER
#define D SP_SVC_DOWNLOADER
#define G SP_SVC_TAGGER
#define C SP_SVC_CLI

static const var_def_t s_defs[] = {
    VAR ("SOULPIPE_REDIS_URL", "redis://127.0.0.1:6379/0",
         "Redis holding all job state: redis://[:password@]host[:port][/db] or unix:///path.sock",
         A | S | D | G, false, T_REDIS, redis_url, 0, 0, false),
    VAR ("SOULPIPE_CLIENT_ENDPOINT", "tcp://127.0.0.1:5555",
         "client API: the analyzer binds it, `soulpipe` connects (tcp://*:PORT binds all "
         "interfaces)",
         A | C, false, T_ENDPOINT, client_endpoint, 0, 0, false),
    VAR ("SOULPIPE_BROKER_ENDPOINT", "tcp://127.0.0.1:5556",
         "job broker: the analyzer binds it, workers connect", A | S | D | G, false, T_ENDPOINT,
         broker_endpoint, 0, 0, false),
    VAR ("SOULPIPE_EVENTS_ENDPOINT", "tcp://127.0.0.1:5557",
         "progress events: the analyzer binds a PUB, `soulpipe watch` subscribes", A | C, false,
         T_ENDPOINT, events_endpoint, 0, 0, false),
    VAR ("SOULPIPE_CURVE_DIR", "",
         "folder of CURVE keys (`soulpipe keygen`); empty = sockets unauthenticated",
         A | S | D | G | C, false, T_STR, curve_dir, 0, 0, true),
    VAR ("SOULPIPE_LOG_LEVEL", "info", "debug, info, warn, error or off", A | S | D | G | C, false,
         T_LEVEL, log_level, 0, 0, false),
    VAR ("SOULPIPE_HEARTBEAT_MS", "1000", "broker/worker heartbeat interval (ms)", A | S | D | G,
         false, T_INT, heartbeat_ms, 50, 60000, false),
    VAR ("SOULPIPE_HEARTBEAT_LIVENESS", "3", "missed heartbeats before a peer counts as dead",
         A | S | D | G, false, T_INT, heartbeat_liveness, 2, 100, false),
    VAR ("SOULPIPE_LEASE_S", "60", "a job's lease; workers extend it while they work (s)",
         A | S | D | G, false, T_INT, lease_s, 2, 86400, false),
    VAR ("SOULPIPE_MAX_ATTEMPTS", "3", "attempts per stage before a track is failed", A | S | D | G,
         false, T_INT, max_attempts, 1, 100, false),
    VAR ("SOULPIPE_CLIENT_TIMEOUT_MS", "5000", "how long `soulpipe` waits for the analyzer (ms)", C,
         false, T_INT, client_timeout_ms, 100, 600000, false),
    VAR ("SPOTIFY_CLIENT_ID", "", "Spotify app client id (developer dashboard)", A | C, false,
         T_STR, spotify_client_id, 0, 0, true),
    VAR ("SPOTIFY_CLIENT_SECRET", "", "Spotify app client secret (client-credentials flow only)", A,
         true, T_STR, spotify_client_secret, 0, 0, true),
    VAR ("SPOTIFY_ACCOUNTS_URL", "https://accounts.spotify.com",
         "Spotify accounts service (scheme://host[:port])", A | C, false, T_UPSTREAM,
         spotify_accounts_url, 0, 0, false),
    VAR ("SPOTIFY_API_URL", "https://api.spotify.com",
         "Spotify Web API (scheme://host[:port]; /v1 is added)", A | G, false, T_UPSTREAM,
         spotify_api_url, 0, 0, false),
    VAR ("SPOTIFY_MARKET", "", "ISO country for track relinking (empty = none)", A, false, T_STR,
         spotify_market, 0, 0, true),
    VAR ("PLEX_URL", "", "Plex server, e.g. http://plex:32400", A | G, false, T_UPSTREAM, plex_url,
         0, 0, true),
    VAR ("PLEX_TOKEN", "", "X-Plex-Token", A | G, true, T_STR, plex_token, 0, 0, true),
    VAR ("PLEX_SECTIONS", "", "comma list of music section keys (empty = every music section)",
         A | G, false, T_STR, plex_sections, 0, 0, true),
    VAR (
        "SOULPIPE_LIBRARY", "",
        "the library to diff against and rescan: plex, jellyfin, navidrome (= subsonic), folder or "
        "none (empty = the one whose URL/folder is set, else none)",
        A | G, false, T_LIBRARY, library, 0, 0, true),
    VAR ("JELLYFIN_URL", "", "Jellyfin server, e.g. http://jellyfin:8096", A | G, false, T_UPSTREAM,
         jellyfin_url, 0, 0, true),
    VAR ("JELLYFIN_API_KEY", "", "Jellyfin API key (Dashboard > API Keys)", A | G, true, T_STR,
         jellyfin_api_key, 0, 0, true),
    VAR ("JELLYFIN_USER_ID", "",
         "Jellyfin user owning the playlists (empty = the first administrator)", A | G, false,
         T_STR, jellyfin_user_id, 0, 0, true),
    VAR ("SUBSONIC_URL", "", "Navidrome or any Subsonic API server, e.g. http://navidrome:4533",
         A | G, false, T_UPSTREAM, subsonic_url, 0, 0, true),
    VAR ("NAVIDROME_URL", "", "the same as SUBSONIC_URL (used when SUBSONIC_URL is empty)", A | G,
         false, T_UPSTREAM, navidrome_url, 0, 0, true),
    VAR ("SUBSONIC_USER", "", "Subsonic/Navidrome user name", A | G, false, T_STR, subsonic_user, 0,
         0, true),
    VAR ("SUBSONIC_PASSWORD", "", "Subsonic/Navidrome password (sent as a salted token)", A | G,
         true, T_STR, subsonic_password, 0, 0, true),
    VAR ("SOULPIPE_LIBRARY_DIR", "",
         "folder library: absolute music folders, ':'-separated, read with TagLib (Transfer may be "
         "one)",
         A | G, false, T_ABSPATHS, library_dir, 0, 0, true),
    VAR ("SOULPIPE_LIBRARY_PLAYLIST_DIR", "",
         "folder library: where .m3u8 playlists are written (empty = the first library folder)", G,
         false, T_ABSPATHS, library_playlist_dir, 0, 0, true),
    VAR ("SOULPIPE_LIBRARY_SCAN_TIMEOUT_S", "300",
         "how long the tagger waits for the library's rescan at a job's end (s)", G, false, T_INT,
         library_scan_timeout_s, 1, 86400, false),
    VAR ("SOULPIPE_LIBRARY_PLAYLISTS", "true",
         "at a job's end, create or update the playlist (same name, source order) in the library "
         "(no effect without a library)",
         G, false, T_BOOL, library_playlists, 0, 0, false),
    VAR ("SOULPIPE_NOTIFY_URL", "",
         "where to send a notification when a job ends: http(s):// URLs get a JSON POST, "
         "ntfy://host/topic (ntfy+http:// for plain http) a text message; comma-separated",
         G, true, T_STR, notify_url, 0, 0, true),
    VAR ("SOULPIPE_NOTIFY_TIMEOUT_S", "10", "how long one try of a notification may take (s)", G,
         false, T_INT, notify_timeout_s, 1, 300, false),
    VAR ("SOULPIPE_LIBRARY_CACHE_S", "300",
         "how long a loaded library index is reused (s; 0 = reload every submit)", A, false, T_INT,
         library_cache_s, 0, 86400 * 7, false),
    VAR ("SOULPIPE_MATCH_THRESHOLD", "0.8", "confidence at which a library track counts as present",
         A, false, T_DOUBLE, match_threshold, 0.0, 1.0, false),
    VAR ("SLSKD_URL", "http://127.0.0.1:5030",
         "slskd daemon (scheme://host[:port]; /api/v0 is added)", S | D, false, T_UPSTREAM,
         slskd_url, 0, 0, false),
    VAR ("SLSKD_API_KEY", "", "slskd API key (web.authentication.api_keys)", S | D, true, T_STR,
         slskd_api_key, 0, 0, true),
    VAR ("SLSKD_DOWNLOADS_DIR", "/var/lib/slskd/downloads",
         "slskd's downloads folder as this service sees it", D, false, T_DIR, slskd_downloads_dir,
         0, 0, false),
    VAR ("SOULPIPE_STAGING_DIR", "/var/lib/soulpipe/staging",
         "finished downloads wait here for tagging", D | G, false, T_DIR, staging_dir, 0, 0, false),
    VAR ("SOULPIPE_TRANSFER_DIR", "/var/lib/soulpipe/Transfer", "tagged files are filed under here",
         A | G, false, T_DIR, transfer_dir, 0, 0, false),
    VAR ("SOULPIPE_SEARCH_BUDGET", "34/220",
         "at most N searches per S seconds, shared by all searchers (N/S)", S, false, T_BUDGET,
         search_budget_count, 0, 0, false),
    VAR ("SOULPIPE_SEARCH_TIMEOUT_MS", "6000",
         "slskd searchTimeout: ends a search this long after its last response (ms)", S, false,
         T_INT, search_timeout_ms, 1000, 120000, false),
    VAR ("SOULPIPE_LENGTH_TOLERANCE_S", "3", "accepted difference from the Spotify duration (s)", S,
         false, T_INT, length_tolerance_s, 0, 120, false),
    VAR ("SOULPIPE_FORMATS", "flac,mp3,ogg,m4a", "accepted formats, most preferred first", S, false,
         T_FORMATS, formats, 0, 0, false),
    VAR ("SOULPIPE_MIN_BITRATE", "256",
         "lowest accepted bitrate for lossy files (kbps; VBR V0 is accepted)", S, false, T_INT,
         min_bitrate, 32, 2000, false),
    VAR ("SOULPIPE_ALLOW_LOSSY", "true",
         "accept lossy files when no lossless copy is good (and keep a file the audio check "
         "flagged as a last resort)",
         S | D, false, T_BOOL, allow_lossy, 0, 0, false),
    VAR ("SOULPIPE_LOSSY_SOURCE", "reject",
         "a download the audio check finds lossy-sourced (fake FLAC) or upsampled: reject (try "
         "the next candidate), flag (keep it, say so) or accept",
         D, false, T_VERIFYPOL, lossy_source, 0, 0, false),
    VAR ("SOULPIPE_MAX_CANDIDATES", "10", "ranked candidates passed to the downloader per track", S,
         false, T_INT, max_candidates, 1, 200, false),
    VAR ("SOULPIPE_DOWNLOADER_SLOTS", "4", "transfers one downloader follows at once", D, false,
         T_INT, downloader_slots, 1, 64, false),
    VAR ("SOULPIPE_QUEUE_TIMEOUT_S", "120",
         "give up on a peer whose remote queue holds us this long (s)", D, false, T_INT,
         queue_timeout_s, 1, 86400, false),
    VAR ("SOULPIPE_STALL_TIMEOUT_S", "60",
         "give up on a transfer with no progress for this long (s)", D, false, T_INT,
         stall_timeout_s, 1, 86400, false),
    VAR ("SOULPIPE_SLSKD_FILE_WAIT_S", "45",
         "after slskd says a download succeeded, wait this long for the whole file to appear in "
         "SLSKD_DOWNLOADS_DIR (slskd moves it there afterwards) (s)",
         D, false, T_INT, slskd_file_wait_s, 1, 3600, false),
    VAR ("SOULPIPE_TRANSFER_TIMEOUT_S", "1800",
         "give up on any single transfer after this long (s)", D, false, T_INT, transfer_timeout_s,
         10, 86400, false),
    VAR ("SOULPIPE_EMBED_COVER", "true",
         "embed the album cover in each file (cover.jpg is written either way)", G, false, T_BOOL,
         embed_cover, 0, 0, false),
    VAR ("SOULPIPE_TAGGER_SLOTS", "2",
         "tracks one tagger files at once (the m3u8 is serialized by a Redis lock)", G, false,
         T_INT, tagger_slots, 1, 16, false),
};

#undef VAR
#undef A
#undef S
#undef D
#undef G
#undef C

#define N_DEFS (sizeof s_defs / sizeof s_defs[0])

const sp_config_var_t *
sp_config_vars (void)
{
    static sp_config_var_t table[N_DEFS + 1];
    static bool ready = false;
    if (!ready) {
        for (size_t i = 0; i < N_DEFS; i++)
            table[i] = s_defs[i].pub;
        ready = true;
    }
    return table;
}

static char **
s_str_field (sp_config_t *cfg, size_t offset)
{
    return (char **) ((char *) cfg + offset);
}

int
sp_config__parse_long (const char *s, long *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol (s, &end, 10);
    if (errno || end == s)
        return -1;
    while (*end && isspace ((unsigned char) *end))
        end++;
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int
s_parse_bool (const char *s, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp (s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp (s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int
s_check_formats (const char *s)
{
    static const char *known[] = {"flac", "mp3",  "ogg",  "opus", "m4a", "aac",
                                  "wav",  "aiff", "alac", "wv",   "ape"};
    char buf[256];
    if (strlen (s) >= sizeof buf || !*s)
        return -1;
    snprintf (buf, sizeof buf, "%s", s);
    char *save = NULL;
    int count = 0;
    for (char *tok = strtok_r (buf, ", ", &save); tok; tok = strtok_r (NULL, ", ", &save)) {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strcasecmp (tok, known[i]) == 0)
                ok = true;
        if (!ok)
            return -1;
        count++;
    }
    return count > 0 ? 0 : -1;
}

//  ------------------------------------------------------------ loading
//  One loader per variable type. Each sets its field from value, or, when
//  the value is bad: with validate, returns -1 with a one-line message in
//  err naming the variable; without (a variable of another binary), falls
//  back to the default.

/*  "NAME: WHAT, got VALUE" into err; returns -1. The value is quoted through
    sp_log_q so that control characters cannot mangle the terminal; secrets
    are never echoed. */
static int
s_fail (const var_def_t *d, const char *value, const char *what, char *err, size_t err_size)
{
    sp_err_set (err, err_size, "%s: %s, got %s", d->pub.name, what,
                d->pub.secret ? "(hidden)" : sp_log_q (value));
    return -1;
}

/*  T_STR, T_UPSTREAM, T_ENDPOINT, T_FORMATS, T_DIR: a copy of the string. */
static int
s_load_string (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
               size_t err_size)
{
    if (validate) {
        if (d->type == T_UPSTREAM && !(d->optional && !*value) && sp_config__check_upstream (value))
            return s_fail (d, value,
                           "expected scheme://host[:port] with no path, e.g. http://127.0.0.1:5030",
                           err, err_size);
        if (d->type == T_ENDPOINT && sp_config_check_endpoint (value))
            return s_fail (d, value,
                           "expected a ZeroMQ endpoint such as tcp://*:5555 or tcp://analyzer:5555",
                           err, err_size);
        if (d->type == T_FORMATS && s_check_formats (value))
            return s_fail (d, value,
                           "expected a comma list of flac, mp3, ogg, opus, m4a, aac, wav, "
                           "aiff, alac, wv, ape",
                           err, err_size);
        if (d->type == T_DIR && !*value)
            return s_fail (d, value, "expected a folder path", err, err_size);
    }
    char *copy = strdup (value);
    if (!copy)
        return s_fail (d, value, "out of memory", err, err_size);
    //  trailing "/" on upstream URLs is dropped so clients can append paths
    size_t len = strlen (copy);
    if (d->type == T_UPSTREAM && len > 0 && copy[len - 1] == '/')
        copy[len - 1] = '\0';
    *s_str_field (cfg, d->offset) = copy;
    return 0;
}

/*  T_REDIS: the URL and its parsed form (the URL is redacted in errors). */
static int
s_load_redis (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
              size_t err_size)
{
    char why[160];
    sp_redis_url_t parsed;
    if (sp_config_parse_redis_url (value, &parsed, why, sizeof why)) {
        if (!validate) {
            memset (&cfg->redis, 0, sizeof cfg->redis);
            cfg->redis_url = strdup (value);
            return cfg->redis_url ? 0 : -1;
        }
        char redacted[512];
        sp_log_redact_url (value, redacted, sizeof redacted);
        sp_err_set (err, err_size,
                    "%s: expected redis://[:password@]host[:port][/db] or "
                    "unix:///path.sock (%s), got %s",
                    d->pub.name, why, sp_log_q (redacted));
        return -1;
    }
    cfg->redis = parsed;
    cfg->redis_url = strdup (value);
    return cfg->redis_url ? 0 : -1;
}

static int
s_load_int (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
            size_t err_size)
{
    long v = 0;  //  a default that does not parse (a table bug) reads as 0
    if (sp_config__parse_long (value, &v) || v < (long) d->min || v > (long) d->max) {
        if (!validate)
            sp_config__parse_long (d->pub.default_value, &v);
        else {
            sp_err_set (err, err_size, "%s: expected an integer from %ld to %ld, got %s",
                        d->pub.name, (long) d->min, (long) d->max, sp_log_q (value));
            return -1;
        }
    }
    *(int *) ((char *) cfg + d->offset) = (int) v;
    return 0;
}

static int
s_load_double (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
               size_t err_size)
{
    char *end = NULL;
    errno = 0;
    double v = strtod (value, &end);
    if (errno || end == value || *end || v < d->min || v > d->max) {
        if (validate) {
            sp_err_set (err, err_size, "%s: expected a number from %g to %g, got %s", d->pub.name,
                        d->min, d->max, sp_log_q (value));
            return -1;
        }
        v = strtod (d->pub.default_value, NULL);
    }
    *(double *) ((char *) cfg + d->offset) = v;
    return 0;
}

static int
s_load_bool (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
             size_t err_size)
{
    bool v;
    if (s_parse_bool (value, &v)) {
        if (validate)
            return s_fail (d, value, "expected true or false", err, err_size);
        s_parse_bool (d->pub.default_value, &v);
    }
    *(bool *) ((char *) cfg + d->offset) = v;
    return 0;
}

static int
s_load_level (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
              size_t err_size)
{
    sp_log_level_t level;
    if (sp_log_level_parse (value, &level)) {
        if (validate)
            return s_fail (d, value, "expected debug, info, warn, error or off", err, err_size);
        level = SP_LOG_INFO;
    }
    cfg->log_level = (int) level;
    return 0;
}

/*  T_BUDGET: "N/S" into search_budget_count and search_budget_window_s. */
static int
s_load_budget (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
               size_t err_size)
{
    long n = 0, secs = 0;
    const char *slash = strchr (value, '/');
    char head[32];
    bool ok = slash && (size_t) (slash - value) < sizeof head;
    if (ok) {
        memcpy (head, value, (size_t) (slash - value));
        head[slash - value] = '\0';
        ok = !sp_config__parse_long (head, &n) && !sp_config__parse_long (slash + 1, &secs) &&
             n >= 1 && n <= 100000 && secs >= 1 && secs <= 86400;
    }
    if (!ok) {
        if (validate)
            return s_fail (d, value, "expected SEARCHES/SECONDS such as 34/220", err, err_size);
        n = 34;
        secs = 220;
    }
    cfg->search_budget_count = (int) n;
    cfg->search_budget_window_s = (int) secs;
    return 0;
}

/*  T_ABSPATHS: every ':'-separated part absolute; a single folder (no ':')
    for SOULPIPE_LIBRARY_PLAYLIST_DIR. */
static int
s_check_abspaths (const char *value, bool many)
{
    if (!many && strchr (value, ':'))
        return -1;
    bool any = false;
    for (const char *p = value; *p;) {
        const char *e = strchr (p, ':');
        size_t len = e ? (size_t) (e - p) : strlen (p);
        if (len > 0) {
            if (p[0] != '/')
                return -1;
            any = true;
        }
        p += len;
        if (*p == ':')
            p++;
    }
    return any ? 0 : -1;
}

/*  T_LIBRARY, T_ABSPATHS and T_VERIFYPOL: checked, then a copy of the string. */
static int
s_load_checked (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
                size_t err_size)
{
    if (validate && *value) {
        char note[160];
        sp_medialib_kind_t kind;
        if (d->type == T_LIBRARY &&
            sp_medialib_kind_choose (value, NULL, NULL, NULL, NULL, &kind, note, sizeof note))
            return s_fail (d, value, "expected plex, jellyfin, navidrome, subsonic, folder or none",
                           err, err_size);
        if (d->type == T_VERIFYPOL && strcmp (value, "reject") != 0 &&
            strcmp (value, "flag") != 0 && strcmp (value, "accept") != 0)
            return s_fail (d, value, "expected reject, flag or accept", err, err_size);
        bool many = d->offset == OFF (library_dir);
        if (d->type == T_ABSPATHS && s_check_abspaths (value, many))
            return s_fail (d, value,
                           many ? "expected absolute folder paths separated by ':', e.g. "
                                  "/music:/var/lib/soulpipe/Transfer"
                                : "expected an absolute folder path",
                           err, err_size);
    }
    const var_def_t plain = {.pub = d->pub, .type = T_STR, .offset = d->offset};
    return s_load_string (cfg, &plain, value, false, err, err_size);
}

static int
s_load_one (sp_config_t *cfg, const var_def_t *d, const char *value, bool validate, char *err,
            size_t err_size)
{
    switch (d->type) {
        case T_STR:
        case T_UPSTREAM:
        case T_ENDPOINT:
        case T_FORMATS:
        case T_DIR:
            return s_load_string (cfg, d, value, validate, err, err_size);
        case T_REDIS:
            return s_load_redis (cfg, d, value, validate, err, err_size);
        case T_INT:
            return s_load_int (cfg, d, value, validate, err, err_size);
        case T_DOUBLE:
            return s_load_double (cfg, d, value, validate, err, err_size);
        case T_BOOL:
            return s_load_bool (cfg, d, value, validate, err, err_size);
        case T_LEVEL:
            return s_load_level (cfg, d, value, validate, err, err_size);
        case T_BUDGET:
            return s_load_budget (cfg, d, value, validate, err, err_size);
        case T_LIBRARY:
        case T_ABSPATHS:
        case T_VERIFYPOL:
            return s_load_checked (cfg, d, value, validate, err, err_size);
    }
    return -1;
}

//  ------------------------------------------------------------ the library

static bool
s_set (const char *s)
{
    return s && *s;
}

/*  The alias, the choice and what the chosen library needs (config.h, "The
    library"). Returns 0 or -1 with err. */
static int
s_library_choose (sp_config_t *cfg, bool validate, char *err, size_t err_size)
{
    cfg->library_kind = SP_MEDIALIB_NONE;
    if (!s_set (cfg->subsonic_url) && s_set (cfg->navidrome_url)) {
        char *copy = strdup (cfg->navidrome_url);
        if (!copy) {
            sp_err_set (err, err_size, "out of memory");
            return -1;
        }
        free (cfg->subsonic_url);
        cfg->subsonic_url = copy;
    }
    char note[512] = "";
    sp_medialib_kind_t kind = SP_MEDIALIB_NONE;
    if (validate &&
        sp_medialib_kind_choose (cfg->library, cfg->plex_url, cfg->jellyfin_url, cfg->subsonic_url,
                                 cfg->library_dir, &kind, note, sizeof note) != 0) {
        sp_err_set (err, err_size, "%s", note);
        return -1;
    }
    cfg->library_note = strdup (note);
    if (!cfg->library_note) {
        sp_err_set (err, err_size, "out of memory");
        return -1;
    }
    cfg->library_kind = (int) kind;
    //  what the chosen library cannot do without
    struct {
        sp_medialib_kind_t kind;
        const char *var;
        const char *value;
    } needs[] = {
        {SP_MEDIALIB_PLEX, "PLEX_URL", cfg->plex_url},
        {SP_MEDIALIB_JELLYFIN, "JELLYFIN_URL", cfg->jellyfin_url},
        {SP_MEDIALIB_JELLYFIN, "JELLYFIN_API_KEY", cfg->jellyfin_api_key},
        {SP_MEDIALIB_SUBSONIC, "SUBSONIC_URL (or NAVIDROME_URL)", cfg->subsonic_url},
        {SP_MEDIALIB_SUBSONIC, "SUBSONIC_USER", cfg->subsonic_user},
        {SP_MEDIALIB_SUBSONIC, "SUBSONIC_PASSWORD", cfg->subsonic_password},
        {SP_MEDIALIB_FOLDER, "SOULPIPE_LIBRARY_DIR", cfg->library_dir},
    };
    for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++)
        if (needs[i].kind == kind && !s_set (needs[i].value)) {
            sp_err_set (err, err_size, "SOULPIPE_LIBRARY: the %s library needs %s, which is empty",
                        sp_medialib_kind_name (kind), needs[i].var);
            return -1;
        }
    return 0;
}

int
sp_config_load (sp_config_t *cfg, unsigned services, char *err, size_t err_size)
{
    memset (cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_DEFS; i++) {
        const var_def_t *d = &s_defs[i];
        const char *env = getenv (d->pub.name);
        bool validate = (d->pub.services & services) != 0;
        const char *value = env ? env : d->pub.default_value;
        if (s_load_one (cfg, d, value, validate, err, err_size)) {
            sp_config_destroy (cfg);
            return -1;
        }
    }
    if (s_library_choose (cfg, (services & (SP_SVC_ANALYZER | SP_SVC_TAGGER)) != 0, err,
                          err_size)) {
        sp_config_destroy (cfg);
        return -1;
    }
    return 0;
}

void
sp_config_library_opts (const sp_config_t *cfg, sp_medialib_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->kind = (sp_medialib_kind_t) cfg->library_kind;
    opts->plex_url = cfg->plex_url;
    opts->plex_token = cfg->plex_token;
    opts->plex_sections = cfg->plex_sections;
    opts->jellyfin_url = cfg->jellyfin_url;
    opts->jellyfin_api_key = cfg->jellyfin_api_key;
    opts->jellyfin_user_id = cfg->jellyfin_user_id;
    opts->subsonic_url = cfg->subsonic_url;
    opts->subsonic_user = cfg->subsonic_user;
    opts->subsonic_password = cfg->subsonic_password;
    opts->library_dir = cfg->library_dir;
    opts->playlist_dir = cfg->library_playlist_dir;
    opts->redis_url = cfg->redis_url;
}

void
sp_config_destroy (sp_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < N_DEFS; i++) {
        switch (s_defs[i].type) {
            case T_STR:
            case T_UPSTREAM:
            case T_ENDPOINT:
            case T_FORMATS:
            case T_DIR:
            case T_LIBRARY:
            case T_ABSPATHS:
            case T_VERIFYPOL:
            case T_REDIS: {
                char **field = s_str_field (cfg, s_defs[i].offset);
                free (*field);
                *field = NULL;
                break;
            }
            default:
                break;
        }
    }
    free (cfg->library_note);
    sp_config_redis_url_free (&cfg->redis);
    memset (cfg, 0, sizeof *cfg);
}

void
sp_config_print_help (FILE *out, unsigned services)
{
    fprintf (out, "Environment variables (default in brackets):\n");
    for (size_t i = 0; i < N_DEFS; i++) {
        const sp_config_var_t *v = &s_defs[i].pub;
        if (!(v->services & services))
            continue;
        fprintf (out, "  %-32s %s\n  %-32s [%s]%s\n", v->name, v->help, "",
                 *v->default_value ? v->default_value : "empty",
                 v->secret ? " (secret, never logged)" : "");
    }
}

void
sp_config_log (const sp_config_t *cfg, unsigned services)
{
    if (!sp_log_enabled (SP_LOG_INFO))
        return;
    char line[3000];
    size_t used = 0;
    for (size_t i = 0; i < N_DEFS; i++) {
        const var_def_t *d = &s_defs[i];
        if (!(d->pub.services & services))
            continue;
        char value[600];
        switch (d->type) {
            case T_INT:
                snprintf (value, sizeof value, "%d",
                          *(const int *) ((const char *) cfg + d->offset));
                break;
            case T_DOUBLE:
                snprintf (value, sizeof value, "%g",
                          *(const double *) ((const char *) cfg + d->offset));
                break;
            case T_BOOL:
                snprintf (value, sizeof value, "%s",
                          *(const bool *) ((const char *) cfg + d->offset) ? "true" : "false");
                break;
            case T_LEVEL: {
                static const char *names[] = {"debug", "info", "warn", "error", "off"};
                int l = cfg->log_level >= 0 && cfg->log_level <= 4 ? cfg->log_level : 1;
                snprintf (value, sizeof value, "%s", names[l]);
                break;
            }
            case T_BUDGET:
                snprintf (value, sizeof value, "%d/%d", cfg->search_budget_count,
                          cfg->search_budget_window_s);
                break;
            case T_REDIS: {
                char redacted[512];
                sp_log_redact_url (cfg->redis_url, redacted, sizeof redacted);
                snprintf (value, sizeof value, "%s", redacted);
                break;
            }
            default: {
                const char *s = *(char *const *) ((const char *) cfg + d->offset);
                if (d->pub.secret)
                    s = (s && *s) ? "***" : "";
                snprintf (value, sizeof value, "%s", sp_log_q (s ? s : ""));
                break;
            }
        }
        int n = snprintf (line + used, sizeof line - used, "%s%s=%s", used ? " " : "", d->pub.name,
                          value);
        if (n < 0 || (size_t) n >= sizeof line - used)
            break;
        used += (size_t) n;
    }
    sp_log_info ("event=config %s", line);
    if (services & (SP_SVC_ANALYZER | SP_SVC_TAGGER)) {
        sp_log_info ("event=library kind=%s",
                     sp_medialib_kind_name ((sp_medialib_kind_t) cfg->library_kind));
        if (cfg->library_note && *cfg->library_note)
            sp_log_warn ("event=library_choice note=%s", sp_log_q (cfg->library_note));
    }
}
