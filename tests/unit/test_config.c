/*  Unit tests for the config module. */
#include "soulpipe/config.h"
#include "soulpipe/log.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void
s_clear_env (void)
{
    for (const sp_config_var_t *v = sp_config_vars (); v->name; v++)
        unsetenv (v->name);
}

TestSuite (config, .init = s_clear_env);

Test (config, defaults_are_valid)
{
    sp_config_t cfg;
    char err[512] = "";
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_ALL, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq (cfg.redis.host, "127.0.0.1");
    cr_assert_eq (cfg.redis.port, 6379);
    cr_assert_eq (cfg.max_attempts, 3);
    cr_assert_eq (cfg.search_budget_count, 34);
    cr_assert_eq (cfg.search_budget_window_s, 220);
    cr_assert_eq (cfg.downloader_slots, 4);
    cr_assert_str_eq (cfg.plex_url, "");
    cr_assert_float_eq (cfg.match_threshold, 0.8, 1e-9);
    cr_assert (cfg.allow_lossy);
    sp_config_destroy (&cfg);
    cr_assert_null (cfg.redis_url);
}

Test (config, every_variable_has_help_and_a_reader)
{
    size_t n = 0;
    for (const sp_config_var_t *v = sp_config_vars (); v->name; v++, n++) {
        cr_assert (v->help && strlen (v->help) > 10, "%s lacks help", v->name);
        cr_assert_neq (v->services, 0u, "%s is read by nobody", v->name);
        cr_assert_not_null (v->default_value);
    }
    //  the variables DESIGN.md names
    const char *design[] = {"SOULPIPE_REDIS_URL",
                            "SOULPIPE_CLIENT_ENDPOINT",
                            "SOULPIPE_BROKER_ENDPOINT",
                            "SOULPIPE_EVENTS_ENDPOINT",
                            "SPOTIFY_CLIENT_ID",
                            "SPOTIFY_CLIENT_SECRET",
                            "SPOTIFY_ACCOUNTS_URL",
                            "SPOTIFY_API_URL",
                            "PLEX_URL",
                            "PLEX_TOKEN",
                            "SLSKD_URL",
                            "SLSKD_API_KEY",
                            "SLSKD_DOWNLOADS_DIR",
                            "SOULPIPE_STAGING_DIR",
                            "SOULPIPE_TRANSFER_DIR",
                            "SOULPIPE_SEARCH_BUDGET",
                            "SOULPIPE_QUEUE_TIMEOUT_S",
                            "SOULPIPE_STALL_TIMEOUT_S",
                            "SOULPIPE_MAX_ATTEMPTS",
                            "SOULPIPE_DOWNLOADER_SLOTS"};
    for (size_t i = 0; i < sizeof design / sizeof design[0]; i++) {
        bool found = false;
        for (const sp_config_var_t *v = sp_config_vars (); v->name; v++)
            if (strcmp (v->name, design[i]) == 0)
                found = true;
        cr_assert (found, "%s missing from the table", design[i]);
    }
    cr_assert_gt (n, 20);
}

Test (config, malformed_redis_url_names_the_variable)
{
    setenv ("SOULPIPE_REDIS_URL", "nonsense", 1);
    sp_config_t cfg;
    char err[512] = "";
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), -1);
    cr_assert (strstr (err, "SOULPIPE_REDIS_URL"), "%s", err);
    cr_assert_null (strchr (err, '\n'));
}

Test (config, redis_password_is_not_echoed)
{
    setenv ("SOULPIPE_REDIS_URL", "redis://:hunter2@127.0.0.1:99999/0", 1);
    sp_config_t cfg;
    char err[512] = "";
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), -1);
    cr_assert (strstr (err, "SOULPIPE_REDIS_URL"));
    cr_assert_null (strstr (err, "hunter2"), "%s", err);
}

Test (config, redis_urls)
{
    sp_redis_url_t u;
    char err[128];
    cr_assert_eq (sp_config_parse_redis_url ("redis://:pw@redis:6380/2", &u, err, sizeof err), 0,
                  "%s", err);
    cr_assert_str_eq (u.host, "redis");
    cr_assert_eq (u.port, 6380);
    cr_assert_str_eq (u.password, "pw");
    cr_assert_str_eq (u.user, "");
    cr_assert_eq (u.db, 2);
    sp_config_redis_url_free (&u);

    cr_assert_eq (sp_config_parse_redis_url ("redis://alice:s3cret@10.0.0.1", &u, err, sizeof err),
                  0);
    cr_assert_str_eq (u.user, "alice");
    cr_assert_str_eq (u.password, "s3cret");
    cr_assert_eq (u.port, 6379);
    sp_config_redis_url_free (&u);

    //  a password may carry '@' and ':' percent-encoded
    cr_assert_eq (
        sp_config_parse_redis_url ("redis://bob:p%40ss%3Aw0rd@host/1", &u, err, sizeof err), 0,
        "%s", err);
    cr_assert_str_eq (u.user, "bob");
    cr_assert_str_eq (u.password, "p@ss:w0rd");
    sp_config_redis_url_free (&u);
    cr_assert_eq (sp_config_parse_redis_url ("redis://:%zz@host", &u, err, sizeof err), -1);
    cr_assert_eq (sp_config_parse_redis_url ("redis://:ab%4@host", &u, err, sizeof err), -1);
    cr_assert_eq (sp_config_parse_redis_url ("redis://:a%00b@host", &u, err, sizeof err), -1);

    cr_assert_eq (sp_config_parse_redis_url ("unix:///run/redis.sock?db=3", &u, err, sizeof err),
                  0);
    cr_assert_str_eq (u.unix_path, "/run/redis.sock");
    cr_assert_eq (u.db, 3);
    sp_config_redis_url_free (&u);

    const char *bad[] = {"",
                         "redis://",
                         "redis://host:0",
                         "redis://host:70000",
                         "redis://host/99",
                         "redis://ho st",
                         "http://host",
                         "unix://relative",
                         "redis://host:12ab"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq (sp_config_parse_redis_url (bad[i], &u, err, sizeof err), -1, "accepted %s",
                      bad[i]);
}

Test (config, integers_are_range_checked)
{
    sp_config_t cfg;
    char err[512];
    setenv ("SOULPIPE_DOWNLOADER_SLOTS", "0", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_DOWNLOADER, err, sizeof err), -1);
    cr_assert (strstr (err, "SOULPIPE_DOWNLOADER_SLOTS"));
    setenv ("SOULPIPE_DOWNLOADER_SLOTS", "4x", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_DOWNLOADER, err, sizeof err), -1);
    setenv ("SOULPIPE_DOWNLOADER_SLOTS", "8", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_DOWNLOADER, err, sizeof err), 0, "%s", err);
    cr_assert_eq (cfg.downloader_slots, 8);
    sp_config_destroy (&cfg);
    //  a variable the binary does not read is not validated
    setenv ("SOULPIPE_DOWNLOADER_SLOTS", "banana", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_TAGGER, err, sizeof err), 0, "%s", err);
    cr_assert_eq (cfg.downloader_slots, 4);
    sp_config_destroy (&cfg);
}

Test (config, slskd_file_wait_default_and_range)
{
    sp_config_t cfg;
    char err[512];
    unsetenv ("SOULPIPE_SLSKD_FILE_WAIT_S");
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_DOWNLOADER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.slskd_file_wait_s, 45);
    sp_config_destroy (&cfg);
    setenv ("SOULPIPE_SLSKD_FILE_WAIT_S", "0", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_DOWNLOADER, err, sizeof err), -1);
    cr_expect (strstr (err, "SOULPIPE_SLSKD_FILE_WAIT_S") != NULL, "%s", err);
    setenv ("SOULPIPE_SLSKD_FILE_WAIT_S", "7", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_DOWNLOADER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.slskd_file_wait_s, 7);
    sp_config_destroy (&cfg);
    unsetenv ("SOULPIPE_SLSKD_FILE_WAIT_S");
}

Test (config, budget_and_upstreams)
{
    sp_config_t cfg;
    char err[512];
    setenv ("SOULPIPE_SEARCH_BUDGET", "10/60", 1);
    setenv ("SLSKD_URL", "http://slskd:5030/", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_SEARCHER, err, sizeof err), 0, "%s", err);
    cr_assert_eq (cfg.search_budget_count, 10);
    cr_assert_eq (cfg.search_budget_window_s, 60);
    cr_assert_str_eq (cfg.slskd_url, "http://slskd:5030");
    sp_config_destroy (&cfg);

    const char *bad_budget[] = {"34", "0/220", "34/0", "a/b", "34/220/1", ""};
    for (size_t i = 0; i < sizeof bad_budget / sizeof bad_budget[0]; i++) {
        setenv ("SOULPIPE_SEARCH_BUDGET", bad_budget[i], 1);
        cr_assert_eq (sp_config_load (&cfg, SP_SVC_SEARCHER, err, sizeof err), -1, "accepted %s",
                      bad_budget[i]);
        cr_assert (strstr (err, "SOULPIPE_SEARCH_BUDGET"));
    }
    unsetenv ("SOULPIPE_SEARCH_BUDGET");
    const char *bad_url[] = {"slskd:5030", "http://slskd:5030/api/v0", "ftp://x", "http://:80",
                             "http://h:0"};
    for (size_t i = 0; i < sizeof bad_url / sizeof bad_url[0]; i++) {
        setenv ("SLSKD_URL", bad_url[i], 1);
        cr_assert_eq (sp_config_load (&cfg, SP_SVC_SEARCHER, err, sizeof err), -1, "accepted %s",
                      bad_url[i]);
        cr_assert (strstr (err, "SLSKD_URL"));
    }
}

Test (config, endpoints)
{
    cr_assert_eq (sp_config_check_endpoint ("tcp://*:5555"), 0);
    cr_assert_eq (sp_config_check_endpoint ("tcp://analyzer:5556"), 0);
    cr_assert_eq (sp_config_check_endpoint ("ipc:///tmp/x"), 0);
    cr_assert_eq (sp_config_check_endpoint ("tcp://host"), -1);
    cr_assert_eq (sp_config_check_endpoint ("tcp://host:99999"), -1);
    cr_assert_eq (sp_config_check_endpoint ("udp://host:1"), -1);
    char out[64];
    sp_config_connect_endpoint ("tcp://*:5555", out, sizeof out);
    cr_assert_str_eq (out, "tcp://127.0.0.1:5555");
    sp_config_connect_endpoint ("tcp://analyzer:5555", out, sizeof out);
    cr_assert_str_eq (out, "tcp://analyzer:5555");
}

Test (config, bools_levels_formats)
{
    sp_config_t cfg;
    char err[512];
    setenv ("SOULPIPE_ALLOW_LOSSY", "no", 1);
    setenv ("SOULPIPE_LOG_LEVEL", "DEBUG", 1);
    setenv ("SOULPIPE_FORMATS", "flac, mp3", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_SEARCHER, err, sizeof err), 0, "%s", err);
    cr_assert_not (cfg.allow_lossy);
    cr_assert_eq (cfg.log_level, SP_LOG_DEBUG);
    sp_config_destroy (&cfg);
    setenv ("SOULPIPE_FORMATS", "flac,exe", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_SEARCHER, err, sizeof err), -1);
    setenv ("SOULPIPE_FORMATS", "flac", 1);
    setenv ("SOULPIPE_LOG_LEVEL", "loud", 1);
    cr_assert_eq (sp_config_load (&cfg, SP_SVC_SEARCHER, err, sizeof err), -1);
    cr_assert (strstr (err, "SOULPIPE_LOG_LEVEL"));
}
