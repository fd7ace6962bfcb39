/*  msg.c: the message envelope codec (see msg.h): the schema of every
    message type of the client API (submit, submit_ok, status, list,
    cancel, retry, status_ok, list_ok, ok, error, login), the broker (ready,
    heartbeat, task, done, fail, progress, bye) and events (event), and the
    sp_msg_* API over the generic walker (msg_codec.c, msg_schema.h). The
    stage payload has its own schema in payload.c.
*/
#include "soulpipe/msg.h"
#include "msg_schema.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ schemas */

static const char *const s_providers[] = {"spotify", NULL};
static const char *const s_roles[] = {"search", "download", "tag", NULL};
static const char *const s_kinds[] = {"track", "counts", "progress", "notice", NULL};

/* ---------------------------------------------------------------- sub-maps */

static const sp_msg__field_t s_held_fields[] = {
    FS (sp_msg_held_t, id, REQ, SP_MSG_MAX_ID),
    FU (sp_msg_held_t, fence, U64),
};
static const sp_msg__schema_t s_held = SCHEMA ("held", sp_msg_held_t, s_held_fields);

static const sp_msg__field_t s_counts_fields[] = {
    FU (sp_msg_counts_t, total, U64),  FU (sp_msg_counts_t, skipped, U64),
    FU (sp_msg_counts_t, queued, U64), FU (sp_msg_counts_t, done, U64),
    FU (sp_msg_counts_t, failed, U64),
};
static const sp_msg__schema_t s_counts = SCHEMA ("counts", sp_msg_counts_t, s_counts_fields);

/* ---------------------------------------------------------------- messages */

#define T sp_msg_t

static const sp_msg__field_t s_submit_f[] = {
    FS (T, source, REQ, SP_MSG_MAX_STR),
    FS (T, name, OPT, SP_MSG_MAX_NAME),
    FS (T, content, OPT, SP_MSG_MAX_CONTENT),
    FBO (T, wait),
};
static const sp_msg__field_t s_submit_ok_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
    FS (T, name, REQ, SP_MSG_MAX_STR),
    FU (T, total, U64),
    FU (T, skipped, U64),
    FU (T, queued, U64),
    FB (T, library_checked),
    FS (T, library_note, OPT, SP_MSG_MAX_TEXT),
    FV (T, notes, 0, SP_MSG_MAX_NOTES, SP_MSG_MAX_TEXT),
};
static const sp_msg__field_t s_job_only_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
};
static const sp_msg__field_t s_status_ok_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
    FS (T, json, REQ, SP_MSG_MAX_JSON),
};
static const sp_msg__field_t s_list_ok_f[] = {
    FS (T, json, REQ, SP_MSG_MAX_JSON),
};
static const sp_msg__field_t s_ok_f[] = {
    FS (T, message, OPT, SP_MSG_MAX_STR),
    FUH (T, count, OPT, U64),
};
static const sp_msg__field_t s_error_f[] = {
    FS (T, code, REQ, SP_MSG_MAX_ID),
    FS (T, message, REQ, SP_MSG_MAX_STR),
};
static const sp_msg__field_t s_login_f[] = {
    FE (T, provider, REQ, s_providers),         FS (T, access_token, REQ, SP_MSG_MAX_STR),
    FS (T, refresh_token, REQ, SP_MSG_MAX_STR), FU (T, expires_in, U64),
    FS (T, scope, OPT, SP_MSG_MAX_STR),
};
static const sp_msg__field_t s_ready_f[] = {
    FE (T, role, REQ, s_roles),
    FS (T, worker, REQ, SP_MSG_MAX_ID),
    FUH (T, credit, REQ, SP_MSG_MAX_CREDIT),
};
static const sp_msg__field_t s_heartbeat_f[] = {
    FUH (T, credit, OPT, SP_MSG_MAX_CREDIT),
    FMV (T, held, SP_MSG_MAX_HELD, s_held),
};
static const sp_msg__field_t s_task_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID),
    FS (T, stage, REQ, SP_MSG_MAX_ID),
    FU (T, fence, U64),
    FUH (T, token, OPT, U64),
    FU (T, attempt, U64),
    FBIN (T, payload, REQ, SP_MSG_MAX_PAYLOAD),
};
static const sp_msg__field_t s_done_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID),
    FU (T, fence, U64),
    FUH (T, token, OPT, U64),
    FS (T, next, OPT, SP_MSG_MAX_ID),
    FBIN (T, payload, OPT, SP_MSG_MAX_PAYLOAD),
};
static const sp_msg__field_t s_fail_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID),
    FU (T, fence, U64),
    FUH (T, token, OPT, U64),
    FS (T, reason, REQ, SP_MSG_MAX_STR),
    FB (T, retry),
    FBIN (T, payload, OPT, SP_MSG_MAX_PAYLOAD),
};
static const sp_msg__field_t s_progress_f[] = {
    FS (T, id, REQ, SP_MSG_MAX_ID), FU (T, fence, U64),
    FUH (T, token, OPT, U64),       FS (T, state, REQ, SP_MSG_MAX_STATE),
    FUH (T, bytes, OPT, U64),       FUH (T, size, OPT, U64),
    FFO (T, percent, 0.0, 100.0),   FS (T, message, OPT, SP_MSG_MAX_TEXT),
};
static const sp_msg__field_t s_bye_f[] = {
    FS (T, worker, REQ, SP_MSG_MAX_ID),
};
static const sp_msg__field_t s_event_f[] = {
    FS (T, job, REQ, SP_MSG_MAX_ID),
    FE (T, kind, REQ, s_kinds),
    FS (T, track, OPT, SP_MSG_MAX_TRACK_KEY),
    FUH (T, position, OPT, U64),
    FS (T, title, OPT, SP_MSG_MAX_TEXT),
    FS (T, state, OPT, SP_MSG_MAX_STATE),
    FS (T, message, OPT, SP_MSG_MAX_STR),
    FMO (T, counts, s_counts),
    FUH (T, bytes, OPT, U64),
    FUH (T, size, OPT, U64),
    FFO (T, percent, 0.0, 100.0),
};

#undef T

//  Indexed by sp_msg_type_t.
static const sp_msg__schema_t s_msg_schemas[SP_MSG_TYPE_COUNT] = {
    [SP_MSG_NONE] = {NULL, 0, NULL, 0},
    [SP_MSG_SUBMIT] = SCHEMA ("submit", sp_msg_t, s_submit_f),
    [SP_MSG_SUBMIT_OK] = SCHEMA ("submit_ok", sp_msg_t, s_submit_ok_f),
    [SP_MSG_STATUS] = SCHEMA ("status", sp_msg_t, s_job_only_f),
    [SP_MSG_LIST] = {"list", sizeof (sp_msg_t), NULL, 0},
    [SP_MSG_CANCEL] = SCHEMA ("cancel", sp_msg_t, s_job_only_f),
    [SP_MSG_RETRY] = SCHEMA ("retry", sp_msg_t, s_job_only_f),
    [SP_MSG_STATUS_OK] = SCHEMA ("status_ok", sp_msg_t, s_status_ok_f),
    [SP_MSG_LIST_OK] = SCHEMA ("list_ok", sp_msg_t, s_list_ok_f),
    [SP_MSG_OK_REPLY] = SCHEMA ("ok", sp_msg_t, s_ok_f),
    [SP_MSG_ERROR] = SCHEMA ("error", sp_msg_t, s_error_f),
    [SP_MSG_LOGIN] = SCHEMA ("login", sp_msg_t, s_login_f),
    [SP_MSG_READY] = SCHEMA ("ready", sp_msg_t, s_ready_f),
    [SP_MSG_HEARTBEAT] = SCHEMA ("heartbeat", sp_msg_t, s_heartbeat_f),
    [SP_MSG_TASK] = SCHEMA ("task", sp_msg_t, s_task_f),
    [SP_MSG_DONE] = SCHEMA ("done", sp_msg_t, s_done_f),
    [SP_MSG_FAIL] = SCHEMA ("fail", sp_msg_t, s_fail_f),
    [SP_MSG_PROGRESS] = SCHEMA ("progress", sp_msg_t, s_progress_f),
    [SP_MSG_BYE] = SCHEMA ("bye", sp_msg_t, s_bye_f),
    [SP_MSG_EVENT] = SCHEMA ("event", sp_msg_t, s_event_f),
};


/* ================================================================ types */

//  The old wire name of a type (a peer from before the rename may send it).
#define S_TASK_OLD_NAME "job"

//  The type named by the tlen bytes at tname, SP_MSG_NONE when unknown.
static sp_msg_type_t
s_type_from_name (const char *tname, size_t tlen)
{
    for (int i = 1; i < SP_MSG_TYPE_COUNT; i++) {
        const char *name = s_msg_schemas[i].name;
        if (strlen (name) == tlen && memcmp (name, tname, tlen) == 0)
            return (sp_msg_type_t) i;
    }
    if (tlen == strlen (S_TASK_OLD_NAME) && memcmp (tname, S_TASK_OLD_NAME, tlen) == 0)
        return SP_MSG_TASK;
    return SP_MSG_NONE;
}

/* ================================================================ decode, encode */

int
sp_msg_decode (const uint8_t *data, size_t size, size_t max_size, sp_msg_t **msg, char *reason,
               size_t reason_size)
{
    sp_msg__reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!msg)
        return sp_msg__fail (&r, SP_MSG_ERR_INVAL, "no output");
    *msg = NULL;
    if (max_size == 0 || max_size > SP_MSG_MAX_FRAME)
        max_size = SP_MSG_MAX_FRAME;

    msgpack_unpacked up;
    const char *tname;
    size_t tlen;
    int rc = sp_msg__open_frame (data, size, max_size, &up, &tname, &tlen, &r);
    if (rc)
        return rc;

    sp_msg_type_t type = s_type_from_name (tname, tlen);
    if (type == SP_MSG_NONE) {
        char clean[40];
        sp_msg__sanitize (tname, tlen, clean, sizeof clean);
        msgpack_unpacked_destroy (&up);
        return sp_msg__fail (&r, SP_MSG_ERR_UNKNOWN_TYPE, "unknown type '%s'", clean);
    }
    sp_msg_t *self = sp_msg_new (type);
    if (!self) {
        msgpack_unpacked_destroy (&up);
        return sp_msg__fail (&r, SP_MSG_ERR_NOMEM, "out of memory");
    }
    rc = sp_msg__decode_map (&up.data, &s_msg_schemas[type], self, "", true, &r);
    msgpack_unpacked_destroy (&up);
    if (rc) {
        sp_msg_destroy (&self);
        return rc;
    }
    *msg = self;
    return SP_MSG_OK;
}

int
sp_msg_encode_r (const sp_msg_t *msg, uint8_t **data, size_t *size, char *reason,
                 size_t reason_size)
{
    sp_msg__reason_t r = {reason, reason_size};
    if (reason && reason_size > 0)
        reason[0] = '\0';
    if (!msg || !data || !size)
        return sp_msg__fail (&r, SP_MSG_ERR_INVAL, "NULL argument");
    *data = NULL;
    *size = 0;
    if (msg->type <= SP_MSG_NONE || msg->type >= SP_MSG_TYPE_COUNT)
        return sp_msg__fail (&r, SP_MSG_ERR_INVAL, "unknown message type %d", (int) msg->type);
    return sp_msg__encode (&s_msg_schemas[msg->type], msg, SP_MSG_MAX_FRAME, data, size, &r);
}

int
sp_msg_encode (const sp_msg_t *msg, uint8_t **data, size_t *size)
{
    return sp_msg_encode_r (msg, data, size, NULL, 0);
}

/* ================================================================ API */

const char *
sp_msg_strerror (int rc)
{
    switch (rc) {
        case SP_MSG_OK:
            return "ok";
        case SP_MSG_ERR_TRUNCATED:
            return "truncated";
        case SP_MSG_ERR_TOO_BIG:
            return "too big";
        case SP_MSG_ERR_TOO_DEEP:
            return "too deep";
        case SP_MSG_ERR_TRAILING:
            return "trailing bytes";
        case SP_MSG_ERR_NOT_MAP:
            return "not a map";
        case SP_MSG_ERR_BAD_VERSION:
            return "bad version";
        case SP_MSG_ERR_UNKNOWN_TYPE:
            return "unknown type";
        case SP_MSG_ERR_MISSING_FIELD:
            return "missing field";
        case SP_MSG_ERR_BAD_FIELD:
            return "bad field";
        case SP_MSG_ERR_MALFORMED:
            return "malformed";
        case SP_MSG_ERR_NOMEM:
            return "out of memory";
        case SP_MSG_ERR_INVAL:
            return "invalid argument";
        default:
            return "unknown error";
    }
}

const char *
sp_msg_type_name (sp_msg_type_t type)
{
    if (type <= SP_MSG_NONE || type >= SP_MSG_TYPE_COUNT)
        return NULL;
    return s_msg_schemas[type].name;
}

sp_msg_type_t
sp_msg_type_from_name (const char *name)
{
    return name ? s_type_from_name (name, strlen (name)) : SP_MSG_NONE;
}

sp_msg_t *
sp_msg_new (sp_msg_type_t type)
{
    sp_msg_t *self = calloc (1, sizeof (sp_msg_t));
    if (self)
        self->type = type;
    return self;
}

void
sp_msg_clear (sp_msg_t *msg)
{
    if (!msg)
        return;
    free (msg->source);
    free (msg->name);
    free (msg->content);
    free (msg->job);
    free (msg->library_note);
    sp_msg__free_strv (msg->notes, msg->notes_count);
    free (msg->json);
    free (msg->message);
    free (msg->code);
    free (msg->provider);
    free (msg->access_token);
    free (msg->refresh_token);
    free (msg->scope);
    free (msg->role);
    free (msg->worker);
    if (msg->held) {
        for (size_t i = 0; i < msg->held_count; i++)
            free (msg->held[i].id);
        free (msg->held);
    }
    free (msg->id);
    free (msg->stage);
    free (msg->payload);
    free (msg->next);
    free (msg->reason);
    free (msg->state);
    free (msg->kind);
    free (msg->track);
    free (msg->title);
    memset (msg, 0, sizeof *msg);
}

void
sp_msg_destroy (sp_msg_t **self_p)
{
    if (self_p && *self_p) {
        sp_msg_clear (*self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

int
sp_msg_strset (char **field, const char *value)
{
    if (!field)
        return SP_MSG_ERR_INVAL;
    char *copy = NULL;
    if (value && !(copy = strdup (value)))
        return SP_MSG_ERR_NOMEM;
    free (*field);
    *field = copy;
    return SP_MSG_OK;
}

int
sp_msg_strv_add (char ***vec, size_t *count, const char *s)
{
    if (!vec || !count || !s || *count >= SIZE_MAX / sizeof (char *) - 1)
        return SP_MSG_ERR_INVAL;
    char *copy = strdup (s);
    if (!copy)
        return SP_MSG_ERR_NOMEM;
    char **grown = realloc (*vec, (*count + 1) * sizeof (char *));
    if (!grown) {
        free (copy);
        return SP_MSG_ERR_NOMEM;
    }
    grown[(*count)++] = copy;
    *vec = grown;
    return SP_MSG_OK;
}
