/*  config.h: the environment variables every soulpipe binary reads.

    All configuration comes from the environment (docker-friendly), read once
    at start-up. Each variable has a documented default, a validator, and a
    mask of the binaries that read it, so `--help` lists exactly what a binary
    reads. Invalid values are reported with a one-line error naming the
    variable; secrets are masked when the effective config is logged.

    Ownership: sp_config_t owns every string in it; free with
    sp_config_destroy(). Strings are never NULL after a successful load (an
    unset optional value is "").
*/
#ifndef SOULPIPE_CONFIG_H
#define SOULPIPE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "soulpipe/medialib.h"

/*  Which binary reads a variable (bit mask). */
#define SP_SVC_ANALYZER   0x01u
#define SP_SVC_SEARCHER   0x02u
#define SP_SVC_DOWNLOADER 0x04u
#define SP_SVC_TAGGER     0x08u
#define SP_SVC_CLI        0x10u
#define SP_SVC_WORKERS    (SP_SVC_SEARCHER | SP_SVC_DOWNLOADER | SP_SVC_TAGGER)
#define SP_SVC_SERVICES   (SP_SVC_ANALYZER | SP_SVC_WORKERS)
#define SP_SVC_ALL        (SP_SVC_SERVICES | SP_SVC_CLI)

/*  Redis connection settings parsed from SOULPIPE_REDIS_URL:
    redis://[[user]:password@]host[:port][/db] or unix:///path/to.sock[?db=N] */
typedef struct {
    char *host;       //  host name or IP ("" for unix sockets)
    int port;         //  TCP port (6379 by default)
    char *unix_path;  //  socket path, "" for TCP
    char *user;       //  ACL user, "" when none
    char *password;   //  password, "" when none (secret)
    int db;           //  database number 0..15
} sp_redis_url_t;

typedef struct {
    //  core
    char *redis_url;         //  SOULPIPE_REDIS_URL
    sp_redis_url_t redis;    //  parsed form of redis_url
    char *client_endpoint;   //  SOULPIPE_CLIENT_ENDPOINT (analyzer binds, client connects)
    char *broker_endpoint;   //  SOULPIPE_BROKER_ENDPOINT (analyzer binds, workers connect)
    char *events_endpoint;   //  SOULPIPE_EVENTS_ENDPOINT (analyzer binds PUB, watch connects)
    char *curve_dir;         //  SOULPIPE_CURVE_DIR ("" = CURVE off)
    int log_level;           //  SOULPIPE_LOG_LEVEL (sp_log_level_t)
    int heartbeat_ms;        //  SOULPIPE_HEARTBEAT_MS
    int heartbeat_liveness;  //  SOULPIPE_HEARTBEAT_LIVENESS
    int lease_s;             //  SOULPIPE_LEASE_S
    int max_attempts;        //  SOULPIPE_MAX_ATTEMPTS
    int client_timeout_ms;   //  SOULPIPE_CLIENT_TIMEOUT_MS
    //  upstreams
    char *spotify_client_id;      //  SPOTIFY_CLIENT_ID
    char *spotify_client_secret;  //  SPOTIFY_CLIENT_SECRET (secret)
    char *spotify_accounts_url;   //  SPOTIFY_ACCOUNTS_URL
    char *spotify_api_url;        //  SPOTIFY_API_URL
    char *spotify_market;         //  SPOTIFY_MARKET
    char *plex_url;               //  PLEX_URL ("" = no library check)
    char *plex_token;             //  PLEX_TOKEN (secret)
    char *plex_sections;          //  PLEX_SECTIONS ("" = every music section)
    //  the media library (see medialib.h)
    char *library;               //  SOULPIPE_LIBRARY as given ("" = choose by what is set)
    int library_kind;            //  sp_medialib_kind_t chosen from it (sp_config_load)
    char *library_note;          //  why others were ignored when several are set ("" = none)
    char *jellyfin_url;          //  JELLYFIN_URL
    char *jellyfin_api_key;      //  JELLYFIN_API_KEY (secret)
    char *jellyfin_user_id;      //  JELLYFIN_USER_ID ("" = the first administrator)
    char *subsonic_url;          //  SUBSONIC_URL, or NAVIDROME_URL when that is unset
    char *navidrome_url;         //  NAVIDROME_URL (alias, as given)
    char *subsonic_user;         //  SUBSONIC_USER
    char *subsonic_password;     //  SUBSONIC_PASSWORD (secret)
    char *library_dir;           //  SOULPIPE_LIBRARY_DIR, absolute folders ':'-separated
    char *library_playlist_dir;  //  SOULPIPE_LIBRARY_PLAYLIST_DIR ("" = first library folder)
    int library_scan_timeout_s;  //  SOULPIPE_LIBRARY_SCAN_TIMEOUT_S
    int library_cache_s;         //  SOULPIPE_LIBRARY_CACHE_S
    bool library_playlists;      //  SOULPIPE_LIBRARY_PLAYLISTS: the playlist in the library
    char *notify_url;            //  SOULPIPE_NOTIFY_URL: endpoints, comma-separated (secret)
    int notify_timeout_s;        //  SOULPIPE_NOTIFY_TIMEOUT_S: per try
    double match_threshold;      //  SOULPIPE_MATCH_THRESHOLD
    char *slskd_url;             //  SLSKD_URL
    char *slskd_api_key;         //  SLSKD_API_KEY (secret)
    char *slskd_downloads_dir;   //  SLSKD_DOWNLOADS_DIR
    //  folders
    char *staging_dir;   //  SOULPIPE_STAGING_DIR
    char *transfer_dir;  //  SOULPIPE_TRANSFER_DIR
    //  searching
    int search_budget_count;     //  SOULPIPE_SEARCH_BUDGET "N/S": N searches ...
    int search_budget_window_s;  //  ... per S seconds
    int search_timeout_ms;       //  SOULPIPE_SEARCH_TIMEOUT_MS
    int length_tolerance_s;      //  SOULPIPE_LENGTH_TOLERANCE_S
    char *formats;               //  SOULPIPE_FORMATS preferred order, e.g. "flac,mp3,ogg,m4a"
    int min_bitrate;             //  SOULPIPE_MIN_BITRATE kbps for lossy files
    bool allow_lossy;            //  SOULPIPE_ALLOW_LOSSY
    char *lossy_source;          //  SOULPIPE_LOSSY_SOURCE: "reject", "flag" or "accept"
    int max_candidates;          //  SOULPIPE_MAX_CANDIDATES kept per track
    //  downloading
    int downloader_slots;    //  SOULPIPE_DOWNLOADER_SLOTS
    int queue_timeout_s;     //  SOULPIPE_QUEUE_TIMEOUT_S
    int stall_timeout_s;     //  SOULPIPE_STALL_TIMEOUT_S
    int transfer_timeout_s;  //  SOULPIPE_TRANSFER_TIMEOUT_S
    int slskd_file_wait_s;   //  SOULPIPE_SLSKD_FILE_WAIT_S
    //  tagging
    bool embed_cover;  //  SOULPIPE_EMBED_COVER
    int tagger_slots;  //  SOULPIPE_TAGGER_SLOTS
} sp_config_t;

/*  One documented variable (for --help and README generation). */
typedef struct {
    const char *name;           //  environment variable
    const char *default_value;  //  shown in --help ("" = empty)
    const char *help;           //  one-line description
    unsigned services;          //  SP_SVC_* mask of binaries that read it
    bool secret;                //  masked in logs
} sp_config_var_t;

/*  The table of every variable, terminated by an entry with name NULL.
    Static storage; do not free. */
const sp_config_var_t *sp_config_vars (void);

/*  Read and validate every variable used by the binaries in `services` from
    the environment into *cfg (which is zeroed first). Variables for other
    binaries are still given their defaults but not validated.
    Returns 0, or -1 with a one-line message naming the variable in err
    (e.g. "SOULPIPE_REDIS_URL: expected redis://[:password@]host[:port][/db], got \"nonsense\"").
    On failure *cfg holds nothing that needs freeing. */
int sp_config_load (sp_config_t *cfg, unsigned services, char *err, size_t err_size);

/*  The library: after the table is read, sp_config_load (for a binary that
    reads SOULPIPE_LIBRARY: analyzer, tagger) takes NAVIDROME_URL as
    SUBSONIC_URL when that is unset, chooses library_kind with
    sp_medialib_kind_choose (SOULPIPE_LIBRARY, else the one whose URL or
    folder is set, else none) and checks that the chosen library has what it
    needs (plex: PLEX_URL; jellyfin: JELLYFIN_URL and JELLYFIN_API_KEY;
    subsonic: SUBSONIC_URL, SUBSONIC_USER and SUBSONIC_PASSWORD; folder:
    SOULPIPE_LIBRARY_DIR). A bad name or a missing variable fails the load
    (the binary exits 2). */

/*  The medialib options for cfg's library (kind, every backend's strings,
    redis_url for the folder index cache). Strings are borrowed from cfg. */
void sp_config_library_opts (const sp_config_t *cfg, sp_medialib_opts_t *opts);

/*  Free every string in cfg and zero it. Safe on a zeroed struct. */
void sp_config_destroy (sp_config_t *cfg);

/*  Parse a Redis URL (see sp_redis_url_t). Returns 0 or -1 with a reason. The
    caller frees with sp_config_redis_url_free(). */
int sp_config_parse_redis_url (const char *url, sp_redis_url_t *out, char *err, size_t err_size);
void sp_config_redis_url_free (sp_redis_url_t *u);

/*  Check a ZeroMQ endpoint "tcp://HOST:PORT" (a star allowed as host),
    "ipc://PATH" or "inproc://NAME". Returns 0 or -1. */
int sp_config_check_endpoint (const char *endpoint);

/*  Copy a bind endpoint into a connectable one: "tcp://ANY:5555" (ANY = '*') and
    "tcp://0.0.0.0:5555" become "tcp://127.0.0.1:5555". Writes at most size
    bytes to out (always terminated). */
void sp_config_connect_endpoint (const char *endpoint, char *out, size_t size);

/*  Print the variables read by `services` as an aligned table: name, default,
    description. */
void sp_config_print_help (FILE *out, unsigned services);

/*  Log the effective configuration at INFO (secrets masked). */
void sp_config_log (const sp_config_t *cfg, unsigned services);

#endif
