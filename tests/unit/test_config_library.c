/*  Unit tests for the library part of the config module: the choice of
    SOULPIPE_LIBRARY (explicit, else the one whose URL or folder is set,
    else none), the NAVIDROME_URL alias, a bad name and a chosen library
    missing what it needs (both configuration errors), the folder paths,
    --help per binary and the medialib options built from the config. */
#include "soulpipe/config.h"
#include "soulpipe/medialib.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_clear_env (void)
{
    for (const sp_config_var_t *v = sp_config_vars (); v->name; v++)
        unsetenv (v->name);
}

TestSuite (config_library, .init = s_clear_env);

//  Load for the analyzer; returns sp_config_load's result, err filled.
static int
s_load (sp_config_t *cfg, unsigned services, char *err, size_t n)
{
    err[0] = '\0';
    return sp_config_load (cfg, services, err, n);
}

Test (config_library, nothing_set_is_none)
{
    sp_config_t cfg;
    char err[512];
    cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.library_kind, SP_MEDIALIB_NONE);
    cr_expect_str_eq (cfg.library, "");
    cr_expect_str_eq (cfg.library_note, "");
    cr_expect_eq (cfg.library_scan_timeout_s, 300);
    sp_config_destroy (&cfg);
}

Test (config_library, the_one_whose_url_is_set)
{
    static const struct {
        const char *var, *value;
        sp_medialib_kind_t kind;
    } rows[] = {
        {"PLEX_URL", "http://plex:32400", SP_MEDIALIB_PLEX},
        {"JELLYFIN_URL", "http://jellyfin:8096", SP_MEDIALIB_JELLYFIN},
        {"SUBSONIC_URL", "http://navidrome:4533", SP_MEDIALIB_SUBSONIC},
        {"NAVIDROME_URL", "http://navidrome:4533", SP_MEDIALIB_SUBSONIC},
        {"SOULPIPE_LIBRARY_DIR", "/music:/srv/more", SP_MEDIALIB_FOLDER},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s_clear_env ();
        setenv (rows[i].var, rows[i].value, 1);
        //  what each library needs, so only the choice is tested here
        setenv ("JELLYFIN_API_KEY", "k", 1);
        setenv ("SUBSONIC_USER", "u", 1);
        setenv ("SUBSONIC_PASSWORD", "p", 1);
        sp_config_t cfg;
        char err[512];
        cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "%s: %s", rows[i].var,
                      err);
        cr_expect_eq (cfg.library_kind, rows[i].kind, "%s gave %s", rows[i].var,
                      sp_medialib_kind_name ((sp_medialib_kind_t) cfg.library_kind));
        cr_expect_str_eq (cfg.library_note, "");
        sp_config_destroy (&cfg);
    }
}

Test (config_library, several_set_first_wins_and_says_so)
{
    setenv ("PLEX_URL", "http://plex:32400", 1);
    setenv ("JELLYFIN_URL", "http://jellyfin:8096", 1);
    setenv ("JELLYFIN_API_KEY", "k", 1);
    sp_config_t cfg;
    char err[512];
    cr_assert_eq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.library_kind, SP_MEDIALIB_PLEX);
    cr_expect (strstr (cfg.library_note, "JELLYFIN_URL") != NULL, "%s", cfg.library_note);
    sp_config_destroy (&cfg);

    //  an explicit choice wins over the order
    setenv ("SOULPIPE_LIBRARY", "Jellyfin", 1);
    cr_assert_eq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.library_kind, SP_MEDIALIB_JELLYFIN);
    sp_config_destroy (&cfg);

    setenv ("SOULPIPE_LIBRARY", "none", 1);
    cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.library_kind, SP_MEDIALIB_NONE);
    sp_config_destroy (&cfg);
}

Test (config_library, navidrome_url_is_subsonic_url)
{
    setenv ("SOULPIPE_LIBRARY", "navidrome", 1);
    setenv ("NAVIDROME_URL", "http://navidrome:4533/", 1);
    setenv ("SUBSONIC_USER", "alice", 1);
    setenv ("SUBSONIC_PASSWORD", "sesame", 1);
    sp_config_t cfg;
    char err[512];
    cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.library_kind, SP_MEDIALIB_SUBSONIC);
    cr_expect_str_eq (cfg.subsonic_url, "http://navidrome:4533");
    sp_config_destroy (&cfg);

    //  SUBSONIC_URL wins when both are set
    setenv ("SUBSONIC_URL", "http://music:4040", 1);
    cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq (cfg.subsonic_url, "http://music:4040");
    sp_config_destroy (&cfg);
}

Test (config_library, bad_name_is_a_configuration_error)
{
    setenv ("SOULPIPE_LIBRARY", "itunes", 1);
    sp_config_t cfg;
    char err[512];
    cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), -1);
    cr_expect (strstr (err, "SOULPIPE_LIBRARY") && strstr (err, "itunes") &&
                   strstr (err, "jellyfin") && strstr (err, "navidrome"),
               "%s", err);
    cr_expect_null (cfg.library);
    //  binaries that do not read it do not fail on it
    cr_assert_eq (s_load (&cfg, SP_SVC_CLI | SP_SVC_SEARCHER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.library_kind, SP_MEDIALIB_NONE);
    sp_config_destroy (&cfg);
}

Test (config_library, chosen_library_missing_a_variable)
{
    static const struct {
        const char *library;
        const char *set[3][2];
        const char *missing;
    } rows[] = {
        {"plex", {{NULL, NULL}}, "PLEX_URL"},
        {"jellyfin", {{"JELLYFIN_URL", "http://j:8096"}, {NULL, NULL}}, "JELLYFIN_API_KEY"},
        {"jellyfin", {{"JELLYFIN_API_KEY", "k"}, {NULL, NULL}}, "JELLYFIN_URL"},
        {"subsonic", {{"SUBSONIC_USER", "u"}, {"SUBSONIC_PASSWORD", "p"}}, "SUBSONIC_URL"},
        {"navidrome",
         {{"NAVIDROME_URL", "http://n:4533"}, {"SUBSONIC_USER", "u"}},
         "SUBSONIC_PASSWORD"},
        {"folder", {{NULL, NULL}}, "SOULPIPE_LIBRARY_DIR"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        s_clear_env ();
        setenv ("SOULPIPE_LIBRARY", rows[i].library, 1);
        for (size_t j = 0; j < 3 && rows[i].set[j][0]; j++)
            setenv (rows[i].set[j][0], rows[i].set[j][1], 1);
        sp_config_t cfg;
        char err[512];
        cr_expect_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), -1, "%s", rows[i].library);
        cr_expect (strstr (err, rows[i].missing) != NULL, "%s: %s", rows[i].library, err);
    }
}

Test (config_library, folder_paths_must_be_absolute)
{
    sp_config_t cfg;
    char err[512];
    setenv ("SOULPIPE_LIBRARY_DIR", "music", 1);
    cr_expect_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), -1);
    cr_expect (strstr (err, "SOULPIPE_LIBRARY_DIR") != NULL, "%s", err);
    setenv ("SOULPIPE_LIBRARY_DIR", "/music:relative", 1);
    cr_expect_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), -1);
    setenv ("SOULPIPE_LIBRARY_DIR", "/music::/srv/more/", 1);
    cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "%s", err);
    cr_expect_eq (cfg.library_kind, SP_MEDIALIB_FOLDER);
    sp_config_destroy (&cfg);
    setenv ("SOULPIPE_LIBRARY_PLAYLIST_DIR", "playlists", 1);
    cr_expect_eq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), -1);
    cr_expect (strstr (err, "SOULPIPE_LIBRARY_PLAYLIST_DIR") != NULL, "%s", err);
    setenv ("SOULPIPE_LIBRARY_PLAYLIST_DIR", "/a:/b", 1);
    cr_expect_eq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), -1);
    setenv ("SOULPIPE_LIBRARY_PLAYLIST_DIR", "/srv/playlists", 1);
    cr_assert_eq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), 0, "%s", err);

    sp_medialib_opts_t opts;
    sp_config_library_opts (&cfg, &opts);
    cr_expect_eq (opts.kind, SP_MEDIALIB_FOLDER);
    cr_expect_str_eq (opts.library_dir, "/music::/srv/more/");
    cr_expect_str_eq (opts.playlist_dir, "/srv/playlists");
    cr_expect_str_eq (opts.redis_url, cfg.redis_url);
    sp_config_destroy (&cfg);
}

Test (config_library, opts_carry_every_backend)
{
    setenv ("SOULPIPE_LIBRARY", "jellyfin", 1);
    setenv ("JELLYFIN_URL", "http://jellyfin:8096", 1);
    setenv ("JELLYFIN_API_KEY", "key", 1);
    setenv ("JELLYFIN_USER_ID", "uid", 1);
    setenv ("SUBSONIC_URL", "http://nd:4533", 1);
    setenv ("SUBSONIC_USER", "u", 1);
    setenv ("SUBSONIC_PASSWORD", "p", 1);
    setenv ("PLEX_URL", "http://plex:32400", 1);
    setenv ("PLEX_TOKEN", "tok", 1);
    sp_config_t cfg;
    char err[512];
    cr_assert_eq (s_load (&cfg, SP_SVC_ANALYZER, err, sizeof err), 0, "%s", err);
    sp_medialib_opts_t o;
    sp_config_library_opts (&cfg, &o);
    cr_expect_eq (o.kind, SP_MEDIALIB_JELLYFIN);
    cr_expect_str_eq (o.jellyfin_url, "http://jellyfin:8096");
    cr_expect_str_eq (o.jellyfin_api_key, "key");
    cr_expect_str_eq (o.jellyfin_user_id, "uid");
    cr_expect_str_eq (o.subsonic_url, "http://nd:4533");
    cr_expect_str_eq (o.subsonic_user, "u");
    cr_expect_str_eq (o.subsonic_password, "p");
    cr_expect_str_eq (o.plex_url, "http://plex:32400");
    cr_expect_str_eq (o.plex_token, "tok");
    sp_config_destroy (&cfg);
}

//  --help comes from the table: the analyzer and tagger list the library
//  variables, the searcher and the CLI do not; the secrets say so.
static char *
s_help (unsigned services)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream (&buf, &len);
    cr_assert_not_null (f);
    sp_config_print_help (f, services);
    fclose (f);
    return buf;
}

Test (config_library, help_lists_what_each_binary_reads)
{
    const char *vars[] = {"SOULPIPE_LIBRARY ", "JELLYFIN_URL",      "JELLYFIN_API_KEY",
                          "JELLYFIN_USER_ID",  "SUBSONIC_URL",      "NAVIDROME_URL",
                          "SUBSONIC_USER",     "SUBSONIC_PASSWORD", "SOULPIPE_LIBRARY_DIR"};
    char *analyzer = s_help (SP_SVC_ANALYZER);
    char *tagger = s_help (SP_SVC_TAGGER);
    char *searcher = s_help (SP_SVC_SEARCHER | SP_SVC_DOWNLOADER | SP_SVC_CLI);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        cr_expect (strstr (analyzer, vars[i]) != NULL, "analyzer --help lacks %s", vars[i]);
        cr_expect (strstr (tagger, vars[i]) != NULL, "tagger --help lacks %s", vars[i]);
        cr_expect (strstr (searcher, vars[i]) == NULL, "searcher --help lists %s", vars[i]);
    }
    //  the rescan wait and the playlist folder are the tagger's only
    cr_expect (strstr (tagger, "SOULPIPE_LIBRARY_SCAN_TIMEOUT_S") != NULL);
    cr_expect (strstr (tagger, "SOULPIPE_LIBRARY_PLAYLIST_DIR") != NULL);
    cr_expect (strstr (analyzer, "SOULPIPE_LIBRARY_SCAN_TIMEOUT_S") == NULL);
    for (const sp_config_var_t *v = sp_config_vars (); v->name; v++)
        if (!strcmp (v->name, "JELLYFIN_API_KEY") || !strcmp (v->name, "SUBSONIC_PASSWORD"))
            cr_expect (v->secret, "%s must be secret", v->name);
        else if (!strcmp (v->name, "JELLYFIN_URL") || !strcmp (v->name, "SUBSONIC_USER"))
            cr_expect (!v->secret, "%s is not a secret", v->name);
    free (analyzer);
    free (tagger);
    free (searcher);
}

//  SOULPIPE_LIBRARY_PLAYLISTS: on by default, the tagger's only, a bad value
//  is a configuration error.
Test (config_library, library_playlists_default_on_tagger_only)
{
    sp_config_t cfg;
    char err[512];
    cr_assert_eq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), 0, "%s", err);
    cr_expect (cfg.library_playlists);
    sp_config_destroy (&cfg);
    setenv ("SOULPIPE_LIBRARY_PLAYLISTS", "false", 1);
    cr_assert_eq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), 0, "%s", err);
    cr_expect (!cfg.library_playlists);
    sp_config_destroy (&cfg);
    setenv ("SOULPIPE_LIBRARY_PLAYLISTS", "maybe", 1);
    cr_expect_neq (s_load (&cfg, SP_SVC_TAGGER, err, sizeof err), 0);
    cr_expect (strstr (err, "SOULPIPE_LIBRARY_PLAYLISTS") != NULL, "%s", err);
    unsetenv ("SOULPIPE_LIBRARY_PLAYLISTS");
    char *tagger = s_help (SP_SVC_TAGGER);
    char *analyzer = s_help (SP_SVC_ANALYZER);
    cr_expect (strstr (tagger, "SOULPIPE_LIBRARY_PLAYLISTS") != NULL);
    cr_expect (strstr (analyzer, "SOULPIPE_LIBRARY_PLAYLISTS") == NULL);
    //  the notification endpoints: the tagger's, and a secret (a webhook's
    //  path or an ntfy topic is the password)
    cr_expect (strstr (tagger, "SOULPIPE_NOTIFY_URL") != NULL);
    cr_expect (strstr (analyzer, "SOULPIPE_NOTIFY_URL") == NULL);
    bool secret = false;
    for (const sp_config_var_t *v = sp_config_vars (); v->name; v++)
        if (!strcmp (v->name, "SOULPIPE_NOTIFY_URL"))
            secret = v->secret;
    cr_expect (secret, "SOULPIPE_NOTIFY_URL must be a secret");
    free (tagger);
    free (analyzer);
}
