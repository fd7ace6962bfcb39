/*  soulpipe: the command line client. Talks to the analyzer's client API
    (a DEALER to SOULPIPE_CLIENT_ENDPOINT) and follows progress on its event
    socket (a SUB to SOULPIPE_EVENTS_ENDPOINT).

    Commands: submit, status, list, watch, cancel, retry (and login, keygen).
    Exit codes: 0 done (or request accepted), 1 some tracks failed or the
    analyzer refused the request, 2 usage or connection error. */
#include "soulpipe/clock.h"
#include "soulpipe/app.h"
#include "soulpipe/config.h"
#include "soulpipe/curve.h"
#include "soulpipe/log.h"
#include "soulpipe/msg.h"
#include "soulpipe/wire.h"

#include "cli.h"
#include "login.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_DONE         0
#define EXIT_FAILED       1
#define EXIT_USAGE        2
#define SUBMIT_WAIT_MS    (10 * 60 * 1000)  //  a submission may analyse a huge playlist
#define WATCH_POLL_MS     2000              //  status poll while watching (events can be missed)
#define WATCH_PATIENCE_MS 120000            //  how long watch waits for a silent analyzer
#define MAX_TEXT_LIST     (SP_MSG_MAX_CONTENT)

static const sp_app_info_t s_info = {
    .name = "soulpipe",
    .service = "cli",
    .services = SP_SVC_CLI,
    .summary = "submit playlists to soulpipe and follow their progress",
    .usage = "COMMAND [ARGS]",
    .details =
        "Commands:\n"
        "  submit SOURCE [--name NAME] [--wait]   queue a playlist; prints the job id alone on the "
        "first line\n"
        "         SOURCE: a Spotify playlist/album URL or URI, a bare playlist id, `liked`,\n"
        "         or a text file (`Artist - Title` lines, or CSV with "
        "artist,title[,album][,duration])\n"
        "         given as a path or `-` for standard input\n"
        "  status JOB [--json]                    a job's state and its tracks\n"
        "  list                                   every job, newest first\n"
        "  watch JOB                              live progress until the job ends\n"
        "  cancel JOB                             stop a job's unfinished tracks\n"
        "  retry JOB                              re-queue a job's failed tracks\n"
        "  login spotify [--port N] [--no-browser]  authorize soulpipe with your Spotify account "
        "(PKCE)\n"
        "  keygen [--dir DIR] [--client NAME]     make CURVE keys (DIR defaults to "
        "SOULPIPE_CURVE_DIR): the\n"
        "         server's and this host's client key; --client NAME adds a key folder DIR/NAME "
        "for\n"
        "         another host (allowed at once). Set SOULPIPE_CURVE_DIR=DIR everywhere to turn "
        "CURVE on.\n"
        "Exit codes: 0 done, 1 some tracks failed (or the request was refused), 2 usage or "
        "connection error.",
};

/* ---------------------------------------------------------------- connection */

typedef struct {
    const sp_config_t *cfg;
    zsock_t *dealer;
    sp_curve_t *curve;  //  CURVE keys from SOULPIPE_CURVE_DIR (NULL = off)
    char endpoint[512];
} client_t;

static int
s_connect (client_t *c, const sp_config_t *cfg)
{
    char err[512];
    c->cfg = cfg;
    if (!c->curve &&
        sp_curve_load (cfg->curve_dir, SP_CURVE_CLIENT, &c->curve, err, sizeof err) != 0) {
        sp_cli_error (NULL, "%s", err);
        return -1;
    }
    sp_config_connect_endpoint (cfg->client_endpoint, c->endpoint, sizeof c->endpoint);
    c->dealer = sp_wire_client_socket (c->endpoint, SP_MSG_MAX_FRAME, cfg->client_timeout_ms,
                                       sp_curve_wire (c->curve), err, sizeof err);
    if (!c->dealer) {
        sp_cli_error (NULL, "SOULPIPE_CLIENT_ENDPOINT: %s", err);
        return -1;
    }
    return 0;
}

/*  Drop the connection (and any late answer on it) and connect again. */
static int
s_reconnect (client_t *c)
{
    zsock_destroy (&c->dealer);
    return s_connect (c, c->cfg);
}

/*  Send request and wait for the reply (caller owns *reply). Returns 0, or
    EXIT_USAGE after printing why. */
static int
s_call (client_t *c, const sp_msg_t *request, int wait_ms, sp_msg_t **reply)
{
    *reply = NULL;
    if (sp_wire_send (c->dealer, NULL, NULL, request, false) != SP_WIRE_OK) {
        sp_cli_error (
            NULL,
            "cannot reach the analyzer at %s within %d ms. Is soulpipe-analyzer running? "
            "(set SOULPIPE_CLIENT_ENDPOINT if it listens elsewhere; %s)",
            c->endpoint, c->cfg->client_timeout_ms,
            c->curve ? "CURVE is on: is this host's key in the analyzer's clients/ folder, and is "
                       "server.key the analyzer's?"
                     : "if the analyzer uses CURVE keys, set SOULPIPE_CURVE_DIR");
        return EXIT_USAGE;
    }
    char reason[256];
    int rc = sp_wire_recv (c->dealer, false, false, wait_ms, NULL, reply, reason, sizeof reason);
    if (rc == SP_WIRE_TIMEOUT) {
        sp_cli_error (NULL, "the analyzer at %s did not answer within %d s", c->endpoint,
                      wait_ms / 1000);
        return EXIT_USAGE;
    }
    if (rc != SP_WIRE_OK) {
        sp_cli_error (NULL, "bad answer from the analyzer: %s", reason);
        return EXIT_USAGE;
    }
    if ((*reply)->type == SP_MSG_ERROR) {
        sp_cli_error (NULL, "%s", (*reply)->message);
        sp_msg_destroy (reply);
        return EXIT_FAILED;
    }
    return 0;
}

/* ---------------------------------------------------------------- status */

static json_t *
s_fetch_status (client_t *c, const char *job, int *exit_code)
{
    sp_msg_t req;
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_STATUS;
    req.job = (char *) job;
    sp_msg_t *reply = NULL;
    *exit_code = s_call (c, &req, c->cfg->client_timeout_ms, &reply);
    if (*exit_code)
        return NULL;
    json_error_t jerr;
    json_t *doc = reply->type == SP_MSG_STATUS_OK ? json_loads (reply->json, 0, &jerr) : NULL;
    sp_msg_destroy (&reply);
    if (!doc) {
        sp_cli_error (NULL, "the analyzer sent an unreadable status");
        *exit_code = EXIT_USAGE;
    }
    return doc;
}

static json_int_t
s_count (json_t *doc, const char *name)
{
    return json_integer_value (json_object_get (json_object_get (doc, "counts"), name));
}

static void
s_artists_text (json_t *artists, char *out, size_t size)
{
    out[0] = '\0';
    size_t used = 0;
    size_t i;
    json_t *a;
    json_array_foreach (artists, i, a)
    {
        int n = snprintf (out + used, size - used, "%s%s", i ? ", " : "", json_string_value (a));
        if (n < 0 || (size_t) n >= size - used)
            break;
        used += (size_t) n;
    }
}

/*  Exit code for a finished or running job: 1 when any track failed. */
static int
s_job_exit (json_t *doc)
{
    return s_count (doc, "failed") > 0 ? EXIT_FAILED : EXIT_DONE;
}

static void
s_print_status (json_t *doc, FILE *out)
{
    fprintf (out, "%s  %s  [%s]\n", sp_cli_safe (json_string_value (json_object_get (doc, "job"))),
             sp_cli_safe (json_string_value (json_object_get (doc, "name"))),
             sp_cli_safe (json_string_value (json_object_get (doc, "state"))));
    fprintf (out, "  %lld tracks: %lld done, %lld skipped, %lld queued, %lld failed\n",
             (long long) s_count (doc, "total"), (long long) s_count (doc, "done"),
             (long long) s_count (doc, "skipped"), (long long) s_count (doc, "queued"),
             (long long) s_count (doc, "failed"));
    if (!json_is_true (json_object_get (doc, "library_checked"))) {
        const char *note = json_string_value (json_object_get (doc, "library_note"));
        fprintf (out, "  library not checked%s%s\n", note ? ": " : "", sp_cli_safe (note));
    }
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get (doc, "tracks"), i, t)
    {
        char artists[512];
        s_artists_text (json_object_get (t, "artists"), artists, sizeof artists);
        const char *state = json_string_value (json_object_get (t, "state"));
        const char *reason = json_string_value (json_object_get (t, "reason"));
        const char *path = json_string_value (json_object_get (t, "path"));
        fprintf (out, "  %3lld  %-11s %s - %s",
                 (long long) json_integer_value (json_object_get (t, "position")) + 1,
                 sp_cli_safe (state), sp_cli_safe (artists),
                 sp_cli_safe (json_string_value (json_object_get (t, "title"))));
        if (path && state && strcmp (state, "done") == 0)
            fprintf (out, "\n       -> %s", sp_cli_safe (path));
        else if (reason)
            fprintf (out, "\n       %s", sp_cli_safe (reason));
        //  the audio check, when it found more than a genuine file
        json_t *audio = json_object_get (t, "audio");
        const char *verdict = json_string_value (json_object_get (audio, "verdict"));
        if (verdict && strcmp (verdict, "genuine") != 0)
            fprintf (out, "\n       audio: %s (%s)", sp_cli_safe (verdict),
                     sp_cli_safe (json_string_value (json_object_get (audio, "note"))));
        fputc ('\n', out);
    }
}

static int
s_cmd_status (client_t *c, int argc, char **argv)
{
    const char *job = NULL;
    bool as_json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv[i], "--json") == 0)
            as_json = true;
        else if (!job && argv[i][0] != '-')
            job = argv[i];
        else {
            sp_cli_error ("status", "unexpected argument \"%s\"", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!job) {
        fprintf (stderr, "usage: soulpipe status JOB [--json]\n");
        return EXIT_USAGE;
    }
    int code;
    json_t *doc = s_fetch_status (c, job, &code);
    if (!doc)
        return code;
    if (as_json) {
        //  the documented shape, nothing more: scripts rely on it
        json_t *out = json_object ();
        json_object_set (out, "job", json_object_get (doc, "job"));
        json_object_set (out, "name", json_object_get (doc, "name"));
        json_object_set (out, "state", json_object_get (doc, "state"));
        json_t *counts =
            json_pack ("{s:I s:I s:I s:I s:I}", "total", s_count (doc, "total"), "skipped",
                       s_count (doc, "skipped"), "queued", s_count (doc, "queued"), "done",
                       s_count (doc, "done"), "failed", s_count (doc, "failed"));
        json_object_set_new (out, "counts", counts);
        json_object_set (out, "library_checked", json_object_get (doc, "library_checked"));
        json_t *tracks = json_array ();
        size_t i;
        json_t *t;
        json_array_foreach (json_object_get (doc, "tracks"), i, t)
        {
            json_t *o = json_object ();
            const char *keys[] = {"id",    "position", "title",  "artists",
                                  "state", "reason",   "source", "path"};
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
                json_t *v = json_object_get (t, keys[k]);
                json_object_set (o, keys[k], v ? v : json_null ());
            }
            //  the downloader's audio check (verdict, cutoff_hz, note), when made
            json_t *audio = json_object_get (t, "audio");
            if (audio)
                json_object_set (o, "audio", audio);
            json_array_append_new (tracks, o);
        }
        json_object_set_new (out, "tracks", tracks);
        char *text = json_dumps (out, JSON_INDENT (2));
        puts (text ? text : "{}");
        free (text);
        json_decref (out);
    } else
        s_print_status (doc, stdout);
    int rc = s_job_exit (doc);
    json_decref (doc);
    return rc;
}

/* ---------------------------------------------------------------- watch */

static void
s_bar (FILE *out, json_int_t total, json_int_t finished, json_int_t failed, const char *name,
       bool tty)
{
    //  plain lines (not a terminal): one line per change, not per redraw
    static json_int_t last_total = -1, last_finished = -1, last_failed = -1;
    if (!tty && total == last_total && finished == last_finished && failed == last_failed)
        return;
    last_total = total;
    last_finished = finished;
    last_failed = failed;
    int width = 30;
    int filled = total > 0 ? (int) (finished * width / total) : 0;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[width] = '\0';
    fprintf (out, "%s%s [%s] %lld/%lld finished, %lld failed%s", tty ? "\r\033[K" : "",
             sp_cli_safe (name), bar, (long long) finished, (long long) total, (long long) failed,
             tty ? "" : "\n");
    fflush (out);
}

/*  Follow a job until it ends. Returns its exit code. */
static int
s_watch (client_t *c, const char *job)
{
    bool tty = isatty (STDOUT_FILENO);
    char err[256], endpoint[512];
    sp_config_connect_endpoint (c->cfg->events_endpoint, endpoint, sizeof endpoint);
    zsock_t *sub = sp_wire_socket (ZMQ_SUB, endpoint, false, SP_MSG_MAX_FRAME, 0,
                                   sp_curve_wire (c->curve), err, sizeof err);
    if (!sub) {
        sp_cli_error (NULL, "SOULPIPE_EVENTS_ENDPOINT: %s", err);
        return EXIT_USAGE;
    }
    zsock_set_subscribe (sub, job);
    int code;
    json_t *doc = s_fetch_status (c, job, &code);
    if (!doc) {
        zsock_destroy (&sub);
        return code;
    }
    char name[256];
    snprintf (name, sizeof name, "%s", json_string_value (json_object_get (doc, "name")));
    int64_t next_poll = sp_clock_mono_ms () + WATCH_POLL_MS;
    int64_t last_answer = sp_clock_mono_ms ();
    int result = EXIT_DONE;
    while (true) {
        const char *state = json_string_value (json_object_get (doc, "state"));
        json_int_t total = s_count (doc, "total");
        json_int_t finished = s_count (doc, "done") + s_count (doc, "skipped") +
                              s_count (doc, "failed") + s_count (doc, "cancelled");
        s_bar (stdout, total, finished, s_count (doc, "failed"), name, tty);
        if (state && strcmp (state, "running") != 0) {
            result = s_job_exit (doc);
            break;
        }
        if (sp_app_stopping ()) {
            result = EXIT_USAGE;
            break;
        }
        sp_msg_t *ev = NULL;
        char reason[256];
        int rc = sp_wire_recv (sub, false, true, 250, NULL, &ev, reason, sizeof reason);
        if (rc == SP_WIRE_OK && ev->type == SP_MSG_EVENT) {
            if (strcmp (ev->kind, "track") == 0 && ev->state) {
                fprintf (stdout, "%s  #%-4llu %-11s %s%s%s\n", tty ? "\r\033[K" : "",
                         (unsigned long long) ev->position + 1, sp_cli_safe (ev->state),
                         sp_cli_safe (ev->track), ev->message ? "  " : "",
                         sp_cli_safe (ev->message));
            } else if (strcmp (ev->kind, "progress") == 0 && tty && ev->has_percent) {
                fprintf (stdout, "\r\033[K  %s %s %.0f%%", sp_cli_safe (ev->track),
                         sp_cli_safe (ev->state), ev->percent);
                fflush (stdout);
            } else if (strcmp (ev->kind, "notice") == 0 && ev->message) {
                fprintf (stdout, "%s  note: %s\n", tty ? "\r\033[K" : "",
                         sp_cli_safe (ev->message));
            } else if (strcmp (ev->kind, "counts") == 0 && ev->has_counts) {
                json_object_set_new (json_object_get (doc, "counts"), "done",
                                     json_integer ((json_int_t) ev->counts.done));
                json_object_set_new (json_object_get (doc, "counts"), "failed",
                                     json_integer ((json_int_t) ev->counts.failed));
                json_object_set_new (json_object_get (doc, "counts"), "skipped",
                                     json_integer ((json_int_t) ev->counts.skipped));
                if (ev->state)
                    json_object_set_new (doc, "state", json_string (ev->state));
            }
        }
        sp_msg_destroy (&ev);
        if (sp_clock_mono_ms () >= next_poll) {
            json_t *fresh = s_fetch_status (c, job, &code);
            if (!fresh && code == EXIT_USAGE &&
                sp_clock_mono_ms () - last_answer < WATCH_PATIENCE_MS) {
                //  A busy or restarting analyzer is not the end of the job:
                //  start a fresh connection (a late answer must not be taken
                //  for the next one) and keep watching.
                sp_cli_error (NULL, "the analyzer is not answering; still watching");
                if (s_reconnect (c) == 0) {
                    next_poll = sp_clock_mono_ms () + WATCH_POLL_MS;
                    continue;
                }
            }
            if (!fresh) {
                result = code;
                break;
            }
            json_decref (doc);
            doc = fresh;
            last_answer = sp_clock_mono_ms ();
            next_poll = sp_clock_mono_ms () + WATCH_POLL_MS;
        }
    }
    if (tty)
        fputc ('\n', stdout);
    //  the summary: what happened to each failed track
    if (doc && s_count (doc, "failed") > 0) {
        size_t i;
        json_t *t;
        json_array_foreach (json_object_get (doc, "tracks"), i, t)
        {
            if (strcmp (json_string_value (json_object_get (t, "state")), "failed") == 0)
                printf ("failed: %s: %s\n",
                        sp_cli_safe (json_string_value (json_object_get (t, "title"))),
                        sp_cli_safe (json_string_value (json_object_get (t, "reason"))));
        }
    }
    json_decref (doc);
    zsock_destroy (&sub);
    return result;
}

static int
s_cmd_watch (client_t *c, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf (stderr, "usage: soulpipe watch JOB\n");
        return EXIT_USAGE;
    }
    return s_watch (c, argv[0]);
}

/* ---------------------------------------------------------------- submit */

static char *
s_read_file (const char *path, size_t max)
{
    FILE *f = strcmp (path, "-") == 0 ? stdin : fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc (max + 1);
    size_t n = buf ? fread (buf, 1, max + 1, f) : 0;
    if (f != stdin)
        fclose (f);
    if (!buf || n > max) {
        free (buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int
s_cmd_submit (client_t *c, int argc, char **argv)
{
    const char *source = NULL, *name = NULL;
    bool wait = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv[i], "--wait") == 0)
            wait = true;
        else if (strcmp (argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (!source && (argv[i][0] != '-' || strcmp (argv[i], "-") == 0))
            source = argv[i];
        else {
            sp_cli_error ("submit", "unexpected argument \"%s\"", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!source) {
        fprintf (stderr, "usage: soulpipe submit SOURCE [--name NAME] [--wait]\n");
        return EXIT_USAGE;
    }
    sp_msg_t req;
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_SUBMIT;
    req.source = (char *) source;
    req.name = (char *) name;
    req.has_wait = true;
    req.wait = wait;
    char *content = NULL;
    //  A file (or stdin) is a plain text track list for users without Spotify.
    if (strcmp (source, "-") == 0 || access (source, R_OK) == 0) {
        content = s_read_file (source, MAX_TEXT_LIST);
        if (!content) {
            sp_cli_error ("submit", "cannot read %s: %s", source, strerror (errno));
            return EXIT_USAGE;
        }
        req.source = "text";
        req.content = content;
        if (!name && strcmp (source, "-") != 0) {
            const char *base = strrchr (source, '/');
            req.name = (char *) (base ? base + 1 : source);
        }
    }
    sp_msg_t *reply = NULL;
    int rc = s_call (c, &req, SUBMIT_WAIT_MS, &reply);
    free (content);
    if (rc)
        return rc;
    if (reply->type != SP_MSG_SUBMIT_OK) {
        sp_cli_error (NULL, "unexpected answer \"%s\"", sp_msg_type_name (reply->type));
        sp_msg_destroy (&reply);
        return EXIT_USAGE;
    }
    printf ("%s\n", sp_cli_safe (reply->job));
    printf ("%s: %llu tracks, %llu already in the library or skipped, %llu queued\n",
            sp_cli_safe (reply->name), (unsigned long long) reply->total,
            (unsigned long long) reply->skipped, (unsigned long long) reply->queued);
    if (!reply->library_checked)
        printf ("library not checked: %s\n",
                reply->library_note ? sp_cli_safe (reply->library_note) : "no reason given");
    for (size_t i = 0; i < reply->notes_count; i++)
        printf ("  %s\n", sp_cli_safe (reply->notes[i]));
    fflush (stdout);
    char job[SP_MSG_MAX_ID + 1];
    snprintf (job, sizeof job, "%s", reply->job);
    sp_msg_destroy (&reply);
    return wait ? s_watch (c, job) : EXIT_DONE;
}

/* ---------------------------------------------------------------- list, cancel, retry */

static int
s_cmd_list (client_t *c, int argc, char **argv)
{
    (void) argv;
    if (argc != 0) {
        fprintf (stderr, "usage: soulpipe list\n");
        return EXIT_USAGE;
    }
    sp_msg_t req;
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_LIST;
    sp_msg_t *reply = NULL;
    int rc = s_call (c, &req, c->cfg->client_timeout_ms, &reply);
    if (rc)
        return rc;
    json_t *doc = reply->type == SP_MSG_LIST_OK ? json_loads (reply->json, 0, NULL) : NULL;
    sp_msg_destroy (&reply);
    size_t i;
    json_t *j;
    json_array_foreach (json_object_get (doc, "jobs"), i, j)
    {
        printf ("%-28s %-10s %4lld/%-4lld done  %4lld skipped  %4lld failed  %s\n",
                sp_cli_safe (json_string_value (json_object_get (j, "job"))),
                sp_cli_safe (json_string_value (json_object_get (j, "state"))),
                (long long) s_count (j, "done"), (long long) s_count (j, "total"),
                (long long) s_count (j, "skipped"), (long long) s_count (j, "failed"),
                sp_cli_safe (json_string_value (json_object_get (j, "name"))));
    }
    if (!doc || json_array_size (json_object_get (doc, "jobs")) == 0)
        printf ("no jobs yet (soulpipe submit SOURCE)\n");
    json_decref (doc);
    return EXIT_DONE;
}

static int
s_cmd_simple (client_t *c, sp_msg_type_t type, const char *cmd, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf (stderr, "usage: soulpipe %s JOB\n", cmd);
        return EXIT_USAGE;
    }
    sp_msg_t req;
    memset (&req, 0, sizeof req);
    req.type = type;
    req.job = argv[0];
    sp_msg_t *reply = NULL;
    int rc = s_call (c, &req, c->cfg->client_timeout_ms, &reply);
    if (rc)
        return rc;
    printf ("%s\n", reply->message ? sp_cli_safe (reply->message) : "ok");
    sp_msg_destroy (&reply);
    return EXIT_DONE;
}

/* ---------------------------------------------------------------- keygen */

static int
s_cmd_keygen (const sp_config_t *cfg, int argc, char **argv)
{
    const char *dir = cfg->curve_dir;
    const char *client = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp (argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp (argv[i], "--client") == 0 && i + 1 < argc)
            client = argv[++i];
        else {
            fprintf (stderr, "usage: soulpipe keygen [--dir DIR] [--client NAME]\n");
            return EXIT_USAGE;
        }
    }
    if (!dir || !*dir) {
        sp_cli_error ("keygen", "give the key folder with --dir DIR (or set SOULPIPE_CURVE_DIR)");
        return EXIT_USAGE;
    }
    char err[1024];
    if (sp_curve_keygen (dir, client, stdout, err, sizeof err) != 0) {
        sp_cli_error ("keygen", "%s", err);
        return EXIT_FAILED;
    }
    printf ("CURVE keys are in %s: set SOULPIPE_CURVE_DIR=%s for the analyzer, the workers and "
            "soulpipe "
            "(a host of its own gets a folder from `soulpipe keygen --dir %s --client NAME`)\n",
            dir, dir, dir);
    return EXIT_DONE;
}

int
main (int argc, char **argv)
{
    sp_config_t cfg;
    int rc = sp_app_start (&s_info, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    if (argc < 2) {
        sp_app_print_help (&s_info, stderr);
        sp_config_destroy (&cfg);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int sub_argc = argc - 2;
    char **sub_argv = argv + 2;
    if (strcmp (cmd, "login") == 0) {
        rc = sp_cli_login (&cfg, sub_argc, sub_argv);
        sp_config_destroy (&cfg);
        return rc;
    }
    if (strcmp (cmd, "keygen") == 0) {
        rc = s_cmd_keygen (&cfg, sub_argc, sub_argv);
        sp_config_destroy (&cfg);
        return rc;
    }
    client_t c;
    memset (&c, 0, sizeof c);
    if (s_connect (&c, &cfg)) {
        sp_curve_destroy (&c.curve);
        sp_config_destroy (&cfg);
        return EXIT_USAGE;
    }
    if (strcmp (cmd, "submit") == 0)
        rc = s_cmd_submit (&c, sub_argc, sub_argv);
    else if (strcmp (cmd, "status") == 0)
        rc = s_cmd_status (&c, sub_argc, sub_argv);
    else if (strcmp (cmd, "watch") == 0)
        rc = s_cmd_watch (&c, sub_argc, sub_argv);
    else if (strcmp (cmd, "list") == 0)
        rc = s_cmd_list (&c, sub_argc, sub_argv);
    else if (strcmp (cmd, "cancel") == 0)
        rc = s_cmd_simple (&c, SP_MSG_CANCEL, "cancel", sub_argc, sub_argv);
    else if (strcmp (cmd, "retry") == 0)
        rc = s_cmd_simple (&c, SP_MSG_RETRY, "retry", sub_argc, sub_argv);
    else {
        sp_cli_error (NULL, "unknown command \"%s\" (try soulpipe --help)", cmd);
        rc = EXIT_USAGE;
    }
    zsock_destroy (&c.dealer);
    sp_curve_destroy (&c.curve);
    sp_config_destroy (&cfg);
    return rc;
}
