/*  login.c: `soulpipe login spotify`, the authorization-code + PKCE flow.

    Prints the authorize URL (and opens a browser when one is available),
    listens on http://127.0.0.1:PORT/callback for Spotify's redirect,
    exchanges the code with the PKCE verifier, and hands the tokens to the
    analyzer in a `login` message; the analyzer keeps the refresh token in
    Redis and refreshes access tokens from then on. */
#include "cli.h"
#include "login.h"

#include "soulpipe/clock.h"
#include "soulpipe/curve.h"
#include "soulpipe/msg.h"
#include "soulpipe/spotify_auth.h"
#include "soulpipe/wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#define LOGIN_DEFAULT_PORT 8888  //  register http://127.0.0.1:8888/callback in the dashboard
#define LOGIN_WAIT_MS      (5 * 60 * 1000)  //  how long to wait for the browser
#define LOGIN_REQUEST_MAX  8192             //  bytes of the redirect request we read

static int
s_listen (int port, int *bound_port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons ((uint16_t) port),
                               .sin_addr.s_addr = htonl (INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0 || listen (fd, 4) != 0 ||
        getsockname (fd, (struct sockaddr *) &addr, &len) != 0) {
        close (fd);
        return -1;
    }
    *bound_port = ntohs (addr.sin_port);
    return fd;
}

static void
s_reply (int fd, int status, const char *text)
{
    char buf[1024];
    int n = snprintf (
        buf, sizeof buf,
        "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
        "Content-Length: %zu\r\n\r\n%s",
        status, status == 200 ? "OK" : "Bad Request", strlen (text), text);
    if (n > 0 && write (fd, buf, (size_t) n) < 0)
        return;
}

/*  Wait for GET /callback?...; returns its query (caller frees) or NULL. */
static char *
s_wait_callback (int listen_fd)
{
    int64_t deadline = sp_clock_mono_ms () + LOGIN_WAIT_MS;
    while (sp_clock_mono_ms () < deadline) {
        struct pollfd p = {listen_fd, POLLIN, 0};
        int r = poll (&p, 1, 1000);
        if (r <= 0)
            continue;
        int fd = accept (listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        char req[LOGIN_REQUEST_MAX + 1];
        size_t used = 0;
        while (used < LOGIN_REQUEST_MAX && !memmem (req, used, "\r\n", 2)) {
            struct pollfd q = {fd, POLLIN, 0};
            if (poll (&q, 1, 5000) <= 0)
                break;
            ssize_t n = read (fd, req + used, LOGIN_REQUEST_MAX - used);
            if (n <= 0)
                break;
            used += (size_t) n;
        }
        req[used] = '\0';
        //  "GET /callback?code=...&state=... HTTP/1.1"
        if (strncmp (req, "GET /callback", 13) != 0) {
            s_reply (fd, 400, "<p>Not the soulpipe callback.</p>");
            close (fd);
            continue;
        }
        const char *q = req + 13;
        size_t qlen = strcspn (q, " \r\n");
        //  req holds the 13 bytes strncmp compared and a NUL after them
        // NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult)
        char *query = strndup (*q == '?' ? q + 1 : q, *q == '?' ? qlen - 1 : qlen);
        s_reply (
            fd, 200,
            "<html><body><h2>soulpipe</h2><p>Spotify answered; you can close this tab and return "
            "to the terminal.</p></body></html>");
        close (fd);
        return query;
    }
    return NULL;
}

static void
s_open_browser (const char *url)
{
    if (!getenv ("DISPLAY") && !getenv ("WAYLAND_DISPLAY"))
        return;
    pid_t pid = fork ();
    if (pid == 0) {
        int null_fd = open ("/dev/null", 0);
        if (null_fd >= 0) {
            dup2 (null_fd, STDOUT_FILENO);
            dup2 (null_fd, STDERR_FILENO);
        }
        execlp ("xdg-open", "xdg-open", url, (char *) NULL);
        _exit (127);
    }
}

static int
s_usage (void)
{
    fprintf (
        stderr,
        "usage: soulpipe login spotify [--port N] [--no-browser]\n"
        "  Register http://127.0.0.1:%d/callback as a redirect URI of your Spotify app\n"
        "  (or the port you pass with --port; Spotify accepts only loopback IPs, not localhost).\n",
        LOGIN_DEFAULT_PORT);
    return 2;
}

//  ARGS after "spotify": --port N, --no-browser. Returns 0, or -1 for a
//  usage error.
static int
s_parse_args (int argc, char **argv, int *port, bool *browser)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--port") == 0 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol (argv[++i], &end, 10);
            if (!end || *end || v < 0 || v > 65535)
                return -1;
            *port = (int) v;
        } else if (strcmp (argv[i], "--no-browser") == 0)
            *browser = false;
        else
            return -1;
    }
    return 0;
}

//  The browser round: the authorize URL with a fresh PKCE verifier, the
//  redirect to listen_fd, the code exchanged for tokens. Returns 0 with
//  *tokens filled, or the exit code (1, 2) after printing why.
static int
s_get_tokens (const sp_config_t *cfg, int listen_fd, const char *redirect, bool browser,
              sp_spotify_tokens_t *tokens)
{
    char verifier[SP_SPOTIFY_VERIFIER_LEN + 1], state[SP_SPOTIFY_VERIFIER_LEN + 1];
    char challenge[SP_SPOTIFY_CHALLENGE_LEN + 1];
    char err[512];
    int rc = 2;
    char *url = NULL, *query = NULL, *code = NULL;
    if (sp_spotify_pkce_verifier (verifier, sizeof verifier) ||
        sp_spotify_pkce_verifier (state, sizeof state) ||
        sp_spotify_pkce_challenge (verifier, challenge, sizeof challenge)) {
        sp_cli_error ("login", "cannot make a PKCE verifier");
        goto done;
    }
    url = sp_spotify_authorize_url (cfg->spotify_accounts_url, cfg->spotify_client_id, redirect,
                                    NULL, state, challenge);
    if (!url)
        goto done;
    printf ("Open this URL in your browser and approve soulpipe:\n%s\n", url);
    printf ("Waiting for Spotify to redirect to %s ...\n", redirect);
    fflush (stdout);
    if (browser)
        s_open_browser (url);
    query = s_wait_callback (listen_fd);
    if (!query) {
        sp_cli_error ("login", "no answer from the browser within %d minutes",
                      LOGIN_WAIT_MS / 60000);
        goto done;
    }
    int r = sp_spotify_parse_callback (query, state, &code, err, sizeof err);
    if (r == SP_SPOTIFY_AUTH_DENIED) {
        sp_cli_error ("login", "access was denied in the browser; run the login again to approve");
        rc = 1;
        goto done;
    }
    if (r != SP_SPOTIFY_AUTH_OK) {
        sp_cli_error ("login", "%s", err);
        goto done;
    }
    r = sp_spotify_exchange_code (cfg->spotify_accounts_url, cfg->spotify_client_id, code, redirect,
                                  verifier, tokens, err, sizeof err);
    if (r != SP_SPOTIFY_AUTH_OK) {
        sp_cli_error ("login", "the code exchange failed: %s", err);
        rc = r == SP_SPOTIFY_AUTH_NET ? 2 : 1;
        goto done;
    }
    rc = 0;
done:
    free (code);
    free (query);
    free (url);
    return rc;
}

//  Hand the tokens to the analyzer, which keeps and refreshes them.
//  Returns the exit code.
static int
s_hand_over (const sp_config_t *cfg, const sp_curve_t *curve, const sp_spotify_tokens_t *tokens)
{
    char err[512];
    char endpoint[512];
    sp_config_connect_endpoint (cfg->client_endpoint, endpoint, sizeof endpoint);
    zsock_t *dealer = sp_wire_client_socket (endpoint, SP_MSG_MAX_FRAME, cfg->client_timeout_ms,
                                             sp_curve_wire (curve), err, sizeof err);
    sp_msg_t req;
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_LOGIN;
    req.provider = "spotify";
    req.access_token = tokens->access_token;
    req.refresh_token = tokens->refresh_token ? tokens->refresh_token : "";
    req.expires_in = (uint64_t) (tokens->expires_in > 0 ? tokens->expires_in : 3600);
    req.scope = tokens->scope;
    int rc = 2;
    if (!dealer || sp_wire_send (dealer, NULL, NULL, &req, false) != SP_WIRE_OK) {
        sp_cli_error ("login",
                      "cannot reach the analyzer at %s; start soulpipe-analyzer and log in again",
                      endpoint);
        goto done;
    }
    sp_msg_t *reply = NULL;
    char reason[256];
    if (sp_wire_recv (dealer, false, false, cfg->client_timeout_ms * 2, NULL, &reply, reason,
                      sizeof reason) != SP_WIRE_OK) {
        sp_cli_error ("login", "the analyzer did not confirm the login");
        goto done;
    }
    if (reply->type == SP_MSG_ERROR) {
        sp_cli_error ("login", "%s", reply->message);
        rc = 1;
    } else {
        printf ("Logged in to Spotify. The analyzer keeps the refresh token; you will not need to "
                "log in again.\n");
        rc = 0;
    }
    sp_msg_destroy (&reply);
done:
    zsock_destroy (&dealer);
    return rc;
}

int
sp_cli_login (const sp_config_t *cfg, int argc, char **argv)
{
    if (argc < 1 || strcmp (argv[0], "spotify") != 0)
        return s_usage ();
    int port = LOGIN_DEFAULT_PORT;
    bool browser = true;
    if (s_parse_args (argc, argv, &port, &browser) != 0)
        return s_usage ();
    if (!cfg->spotify_client_id || !*cfg->spotify_client_id) {
        sp_cli_error ("login", "SPOTIFY_CLIENT_ID is not set: use your app's client id from "
                               "the Spotify developer dashboard");
        return 2;
    }
    int bound = 0;
    int listen_fd = s_listen (port, &bound);
    if (listen_fd < 0) {
        sp_cli_error ("login", "cannot listen on 127.0.0.1:%d: %s (try --port)", port,
                      strerror (errno));
        return 2;
    }
    char redirect[64];
    snprintf (redirect, sizeof redirect, "http://127.0.0.1:%d/callback", bound);
    int rc = 2;
    sp_spotify_tokens_t tokens = {0};
    char err[512];
    //  the keys first: a missing one should not cost the user a browser round
    sp_curve_t *curve = NULL;
    if (sp_curve_load (cfg->curve_dir, SP_CURVE_CLIENT, &curve, err, sizeof err) != 0) {
        sp_cli_error ("login", "%s", err);
        goto done;
    }
    rc = s_get_tokens (cfg, listen_fd, redirect, browser, &tokens);
    if (rc == 0)
        rc = s_hand_over (cfg, curve, &tokens);
done:
    sp_curve_destroy (&curve);
    sp_spotify_tokens_clear (&tokens);
    close (listen_fd);
    return rc;
}
