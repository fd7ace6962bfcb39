/*  Unit tests for the msg module: round trips of every type, the raw-frame
    precheck (truncation, huge counts, depth, trailing bytes), schema checks
    (missing and wrong-typed fields, bounds, version, type), random and
    mutated frames.

    With SOULPIPE_WRITE_CORPUS=DIR set, the msg_corpus test writes every full
    and minimal message (and payload) into DIR as the fuzzer's seed corpus.
*/
#include "soulpipe/msg.h"

#include <criterion/criterion.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ builders */

static char *s_notes[] = {"note one", "note two"};
static char *s_artists[] = {"Artist A", "Artist B"};
static char *s_album_artists[] = {"Artist A"};
static char *s_excluded[] = {"baduser"};
static char *s_tried[] = {"user1\\Music\\a.flac", "user2\\b.mp3"};

//  A payload with every field set (borrowed pointers: never destroy).
static sp_payload_t
s_full_payload (void)
{
    static sp_candidate_t cands[2];
    cands[0] = (sp_candidate_t){
        .username = "peer1",
        .filename = "@@music\\Artist\\Album\\01 - Song.flac",
        .size = 31234567,
        .ext = "flac",
        .has_bitrate = true,
        .bitrate = 1000,
        .has_bitdepth = true,
        .bitdepth = 16,
        .has_samplerate = true,
        .samplerate = 44100,
        .has_length = true,
        .length = 215,
        .has_vbr = true,
        .vbr = false,
        .score = 0.93,
        .has_free_slot = true,
        .free_slot = true,
        .has_queue = true,
        .queue = 3,
        .has_speed = true,
        .speed = 1500000,
    };
    cands[1] = (sp_candidate_t){
        .username = "peer2",
        .filename = "x\\Song.mp3",
        .size = 5000000,
        .score = -1.5,
    };
    sp_payload_t p = {
        .job = "J1",
        .track_key = "T0007",
        .track =
            {
                .spotify_id = "4iV5W9uYEdYUVa79Axb7Rh",
                .title = "Song",
                .artists = s_artists,
                .artists_count = 2,
                .album = "Album",
                .album_id = "1a2b",
                .album_type = "album",
                .album_artists = s_album_artists,
                .album_artists_count = 1,
                .release_date = "1981-12-15",
                .date_precision = "day",
                .has_track_number = true,
                .track_number = 1,
                .has_track_total = true,
                .track_total = 12,
                .has_disc_number = true,
                .disc_number = 1,
                .has_disc_total = true,
                .disc_total = 2,
                .has_duration_ms = true,
                .duration_ms = 215000,
                .isrc = "USABC8100001",
                .cover_url = "https://i.scdn.co/image/abc",
                .playlist = "My List",
                .position = 7,
                .genre = "Rock",
            },
        .candidates = cands,
        .candidates_count = 2,
        .excluded_users = s_excluded,
        .excluded_users_count = 1,
        .has_search_rounds = true,
        .search_rounds = 2,
        .has_searches_used = true,
        .searches_used = 5,
        .query = "Artist A Song",
        .staged_path = "/staging/T0007.flac",
        .has_source = true,
        .source = {.username = "peer1", .filename = "@@music\\a.flac", .size = 31234567},
        .transfer_id = "c0ffee",
        .tried = s_tried,
        .tried_count = 2,
    };
    return p;
}

static sp_payload_t
s_min_payload (void)
{
    sp_payload_t p = {
        .job = "J1",
        .track_key = "T1",
        .track = {.title = "Song",
                  .artists = s_artists,
                  .artists_count = 1,
                  .playlist = "P",
                  .position = 0},
    };
    return p;
}

static uint8_t s_payload_bin[8192];
static size_t s_payload_bin_size;

static void
s_make_payload_bin (void)
{
    sp_payload_t p = s_full_payload ();
    uint8_t *data;
    size_t size;
    cr_assert_eq (sp_payload_encode (&p, &data, &size, NULL, 0), SP_MSG_OK);
    cr_assert_leq (size, sizeof s_payload_bin);
    memcpy (s_payload_bin, data, size);
    s_payload_bin_size = size;
    free (data);
}

//  A message of this type with every optional field set (borrowed pointers).
static sp_msg_t
s_full_msg (sp_msg_type_t type)
{
    static sp_msg_held_t held[] = {{"task-1", 11}, {"task-2", 12}};
    s_make_payload_bin ();
    sp_msg_t m = {.type = type};
    switch (type) {
        case SP_MSG_SUBMIT:
            m.source = "https://open.spotify.com/playlist/abc";
            m.name = "My List";
            m.content = "Artist - Title\n";
            m.has_wait = true;
            m.wait = true;
            break;
        case SP_MSG_SUBMIT_OK:
            m.job = "J1";
            m.name = "My List";
            m.total = 10;
            m.skipped = 3;
            m.queued = 7;
            m.library_checked = true;
            m.library_note = "plex ok";
            m.notes = s_notes;
            m.notes_count = 2;
            break;
        case SP_MSG_STATUS:
        case SP_MSG_CANCEL:
        case SP_MSG_RETRY:
            m.job = "J1";
            break;
        case SP_MSG_LIST:
            break;
        case SP_MSG_STATUS_OK:
            m.job = "J1";
            m.json = "{\"job\":\"J1\"}";
            break;
        case SP_MSG_LIST_OK:
            m.json = "[]";
            break;
        case SP_MSG_OK_REPLY:
            m.message = "cancelled";
            m.has_count = true;
            m.count = 4;
            break;
        case SP_MSG_ERROR:
            m.code = "not_found";
            m.message = "no such job";
            break;
        case SP_MSG_LOGIN:
            m.provider = "spotify";
            m.access_token = "AT";
            m.refresh_token = "RT";
            m.expires_in = 3600;
            m.scope = "playlist-read-private";
            break;
        case SP_MSG_READY:
            m.role = "search";
            m.worker = "w-1";
            m.has_credit = true;
            m.credit = 4;
            break;
        case SP_MSG_HEARTBEAT:
            m.has_credit = true;
            m.credit = 2;
            m.held = held;
            m.held_count = 2;
            break;
        case SP_MSG_TASK:
            m.id = "task-1";
            m.stage = "search";
            m.fence = 11;
            m.attempt = 1;
            m.payload = s_payload_bin;
            m.payload_size = s_payload_bin_size;
            break;
        case SP_MSG_DONE:
            m.id = "task-1";
            m.fence = 11;
            m.next = "download";
            m.payload = s_payload_bin;
            m.payload_size = s_payload_bin_size;
            break;
        case SP_MSG_FAIL:
            m.id = "task-1";
            m.fence = 11;
            m.reason = "no results";
            m.retry = true;
            m.payload = s_payload_bin;
            m.payload_size = s_payload_bin_size;
            break;
        case SP_MSG_PROGRESS:
            m.id = "task-1";
            m.fence = 11;
            m.state = "InProgress";
            m.has_bytes = true;
            m.bytes = 1000;
            m.has_size = true;
            m.size = 4000;
            m.has_percent = true;
            m.percent = 25.0;
            m.message = "downloading";
            break;
        case SP_MSG_BYE:
            m.worker = "w-1";
            break;
        case SP_MSG_EVENT:
            m.job = "J1";
            m.kind = "track";
            m.track = "T0007";
            m.has_position = true;
            m.position = 7;
            m.title = "Song";
            m.state = "downloading";
            m.message = "hi";
            m.has_counts = true;
            m.counts = (sp_msg_counts_t){10, 3, 7, 1, 1};
            m.has_bytes = true;
            m.bytes = 5;
            m.has_size = true;
            m.size = 10;
            m.has_percent = true;
            m.percent = 50.0;
            break;
        default:
            break;
    }
    return m;
}

//  A message of this type with only its required fields.
static sp_msg_t
s_min_msg (sp_msg_type_t type)
{
    sp_msg_t m = {.type = type};
    switch (type) {
        case SP_MSG_SUBMIT:
            m.source = "liked";
            break;
        case SP_MSG_SUBMIT_OK:
            m.job = "J1";
            m.name = "n";
            m.total = 0;
            m.library_checked = false;
            break;
        case SP_MSG_STATUS:
        case SP_MSG_CANCEL:
        case SP_MSG_RETRY:
            m.job = "J1";
            break;
        case SP_MSG_STATUS_OK:
            m.job = "J1";
            m.json = "{}";
            break;
        case SP_MSG_LIST_OK:
            m.json = "[]";
            break;
        case SP_MSG_ERROR:
            m.code = "c";
            m.message = "m";
            break;
        case SP_MSG_LOGIN:
            m.provider = "spotify";
            m.access_token = "a";
            m.refresh_token = "r";
            m.expires_in = 1;
            break;
        case SP_MSG_READY:
            m.role = "tag";
            m.worker = "w";
            m.credit = 1;
            break;
        case SP_MSG_TASK:
            m.id = "t";
            m.stage = "tag";
            m.fence = 1;
            m.attempt = 0;
            break;
        case SP_MSG_DONE:
            m.id = "t";
            m.fence = 1;
            break;
        case SP_MSG_FAIL:
            m.id = "t";
            m.fence = 1;
            m.reason = "x";
            m.retry = false;
            break;
        case SP_MSG_PROGRESS:
            m.id = "t";
            m.fence = 1;
            m.state = "s";
            break;
        case SP_MSG_BYE:
            m.worker = "w";
            break;
        case SP_MSG_EVENT:
            m.job = "J1";
            m.kind = "notice";
            break;
        default:
            break;
    }
    return m;
}

static void
s_encode (const sp_msg_t *m, uint8_t **data, size_t *size)
{
    char reason[256] = "";
    int rc = sp_msg_encode_r (m, data, size, reason, sizeof reason);
    cr_assert_eq (rc, SP_MSG_OK, "encode %s: %d %s", sp_msg_type_name (m->type), rc, reason);
}

static int
s_decode_rc (const uint8_t *data, size_t size)
{
    sp_msg_t *m = NULL;
    char reason[256];
    int rc = sp_msg_decode (data, size, 0, &m, reason, sizeof reason);
    if (rc == SP_MSG_OK)
        cr_assert_not_null (m);
    else
        cr_assert_null (m);
    sp_msg_destroy (&m);
    return rc;
}

/* ================================================================ frame surgery */

//  Rewrite a top-level map frame: drop key `drop`, or give key `mutate` a
//  value of another type (a string becomes 7, anything else "x"), or add
//  (extra) key/values appended. Caller frees the result.
typedef enum { S_DROP, S_MUTATE, S_DUP, S_NIL } s_edit_t;

static uint8_t *
s_edit (const uint8_t *data, size_t size, const char *key, s_edit_t edit, size_t *out_size)
{
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    size_t off = 0;
    cr_assert_eq (msgpack_unpack_next (&up, (const char *) data, size, &off),
                  MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq (up.data.type, MSGPACK_OBJECT_MAP);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_object_map *map = &up.data.via.map;
    size_t n = map->size + (edit == S_DUP ? 1 : 0) - (edit == S_DROP ? 1 : 0);
    msgpack_pack_map (&pk, n);
    bool found = false;
    for (uint32_t i = 0; i < map->size; i++) {
        msgpack_object_kv *kv = &map->ptr[i];
        bool hit = kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen (key) &&
                   memcmp (kv->key.via.str.ptr, key, strlen (key)) == 0;
        found |= hit;
        if (hit && edit == S_DROP)
            continue;
        msgpack_pack_object (&pk, kv->key);
        if (hit && edit == S_MUTATE) {
            if (kv->val.type == MSGPACK_OBJECT_STR)
                msgpack_pack_int (&pk, 7);
            else
                msgpack_pack_str_with_body (&pk, "x", 1);
        } else if (hit && edit == S_NIL)
            msgpack_pack_nil (&pk);
        else
            msgpack_pack_object (&pk, kv->val);
        if (hit && edit == S_DUP) {
            msgpack_pack_object (&pk, kv->key);
            msgpack_pack_object (&pk, kv->val);
        }
    }
    cr_assert (found, "key %s not in frame", key);
    msgpack_unpacked_destroy (&up);
    *out_size = sb.size;
    return (uint8_t *) msgpack_sbuffer_release (&sb);
}

//  The top-level keys of a frame (strings owned by the returned zone-less copy).
static size_t
s_keys (const uint8_t *data, size_t size, char keys[][64], size_t max)
{
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    size_t off = 0;
    cr_assert_eq (msgpack_unpack_next (&up, (const char *) data, size, &off),
                  MSGPACK_UNPACK_SUCCESS);
    size_t n = 0;
    for (uint32_t i = 0; i < up.data.via.map.size && n < max; i++) {
        msgpack_object *k = &up.data.via.map.ptr[i].key;
        snprintf (keys[n++], 64, "%.*s", (int) k->via.str.size, k->via.str.ptr);
    }
    msgpack_unpacked_destroy (&up);
    return n;
}

//  Pack a map with the envelope plus the caller's fields via a callback.
static uint8_t *
s_pack (const char *type, void (*fields) (msgpack_packer *), size_t nfields, size_t *size)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2 + nfields);
    msgpack_pack_str_with_body (&pk, "v", 1);
    msgpack_pack_uint8 (&pk, 1);
    msgpack_pack_str_with_body (&pk, "type", 4);
    msgpack_pack_str_with_body (&pk, type, strlen (type));
    if (fields)
        fields (&pk);
    *size = sb.size;
    return (uint8_t *) msgpack_sbuffer_release (&sb);
}

static void
s_kstr (msgpack_packer *pk, const char *k, const char *v)
{
    msgpack_pack_str_with_body (pk, k, strlen (k));
    msgpack_pack_str_with_body (pk, v, strlen (v));
}

/* ================================================================ round trips */

Test (msg, type_names)
{
    for (int t = 1; t < SP_MSG_TYPE_COUNT; t++) {
        const char *name = sp_msg_type_name ((sp_msg_type_t) t);
        cr_assert_not_null (name);
        cr_assert_eq (sp_msg_type_from_name (name), (sp_msg_type_t) t);
    }
    cr_assert_str_eq (sp_msg_type_name (SP_MSG_OK_REPLY), "ok");
    cr_assert_null (sp_msg_type_name (SP_MSG_NONE));
    cr_assert_null (sp_msg_type_name (SP_MSG_TYPE_COUNT));
    cr_assert_eq (sp_msg_type_from_name ("payload"), SP_MSG_NONE);
    cr_assert_eq (sp_msg_type_from_name (NULL), SP_MSG_NONE);
    cr_assert_str_eq (sp_msg_strerror (SP_MSG_ERR_TOO_DEEP), "too deep");
}

//  encode → decode → encode must give the same bytes (so decode kept every
//  field), for every type, with all optional fields and with none.
static void
s_roundtrip (sp_msg_t m)
{
    uint8_t *a, *b;
    size_t na, nb;
    s_encode (&m, &a, &na);
    sp_msg_t *d = NULL;
    char reason[256] = "";
    int rc = sp_msg_decode (a, na, 0, &d, reason, sizeof reason);
    cr_assert_eq (rc, SP_MSG_OK, "decode %s: %s", sp_msg_type_name (m.type), reason);
    cr_assert_eq (d->type, m.type);
    s_encode (d, &b, &nb);
    cr_assert_eq (na, nb, "%s: re-encoded size differs", sp_msg_type_name (m.type));
    cr_assert_arr_eq (a, b, na, "%s: re-encoded bytes differ", sp_msg_type_name (m.type));
    sp_msg_destroy (&d);
    cr_assert_null (d);
    free (a);
    free (b);
}

Test (msg, roundtrip_full_every_type)
{
    for (int t = 1; t < SP_MSG_TYPE_COUNT; t++)
        s_roundtrip (s_full_msg ((sp_msg_type_t) t));
}

Test (msg, roundtrip_minimal_every_type)
{
    for (int t = 1; t < SP_MSG_TYPE_COUNT; t++)
        s_roundtrip (s_min_msg ((sp_msg_type_t) t));
}

Test (msg, decoded_values)
{
    sp_msg_t m = s_full_msg (SP_MSG_EVENT);
    uint8_t *data;
    size_t size;
    s_encode (&m, &data, &size);
    sp_msg_t *d = NULL;
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, NULL, 0), SP_MSG_OK);
    free (data);  //  the decoded message must not point into the frame
    cr_assert_str_eq (d->job, "J1");
    cr_assert_str_eq (d->kind, "track");
    cr_assert_str_eq (d->track, "T0007");
    cr_assert (d->has_position);
    cr_assert_eq (d->position, 7);
    cr_assert (d->has_counts);
    cr_assert_eq (d->counts.failed, 1);
    cr_assert_eq (d->counts.queued, 7);
    cr_assert (d->has_percent);
    cr_assert_float_eq (d->percent, 50.0, 1e-9);
    cr_assert_null (d->source);
    sp_msg_destroy (&d);

    m = s_min_msg (SP_MSG_EVENT);
    s_encode (&m, &data, &size);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, NULL, 0), SP_MSG_OK);
    cr_assert (!d->has_position && !d->has_counts && !d->has_percent && !d->has_bytes);
    cr_assert_null (d->track);
    sp_msg_destroy (&d);
    free (data);

    //  task payload bin round trip and the payload inside it
    m = s_full_msg (SP_MSG_TASK);
    s_encode (&m, &data, &size);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, NULL, 0), SP_MSG_OK);
    free (data);
    cr_assert_eq (d->payload_size, s_payload_bin_size);
    cr_assert_arr_eq (d->payload, s_payload_bin, s_payload_bin_size);
    sp_payload_t *p = NULL;
    char reason[256] = "";
    cr_assert_eq (sp_payload_decode (d->payload, d->payload_size, &p, reason, sizeof reason),
                  SP_MSG_OK, "%s", reason);
    cr_assert_str_eq (p->track.title, "Song");
    cr_assert_eq (p->track.artists_count, 2);
    cr_assert_str_eq (p->track.artists[1], "Artist B");
    cr_assert_eq (p->candidates_count, 2);
    cr_assert_float_eq (p->candidates[0].score, 0.93, 1e-12);
    cr_assert (p->candidates[0].has_free_slot && p->candidates[0].free_slot);
    cr_assert (!p->candidates[1].has_free_slot);
    cr_assert (p->has_source);
    cr_assert_eq (p->source.size, 31234567);
    cr_assert_str_eq (p->tried[0], "user1\\Music\\a.flac");
    sp_payload_destroy (&p);
    cr_assert_null (p);
    sp_msg_destroy (&d);

    //  a required bin may be empty; a decoded empty bin is not NULL
    m = s_min_msg (SP_MSG_TASK);
    s_encode (&m, &data, &size);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, NULL, 0), SP_MSG_OK);
    cr_assert_not_null (d->payload);
    cr_assert_eq (d->payload_size, 0);
    sp_msg_destroy (&d);
    free (data);
}

Test (msg, payload_roundtrip)
{
    sp_payload_t ps[2] = {s_full_payload (), s_min_payload ()};
    for (int i = 0; i < 2; i++) {
        uint8_t *a, *b;
        size_t na, nb;
        char reason[256] = "";
        cr_assert_eq (sp_payload_encode (&ps[i], &a, &na, reason, sizeof reason), SP_MSG_OK, "%s",
                      reason);
        sp_payload_t *d = NULL;
        cr_assert_eq (sp_payload_decode (a, na, &d, reason, sizeof reason), SP_MSG_OK, "%s",
                      reason);
        cr_assert_eq (sp_payload_encode (d, &b, &nb, NULL, 0), SP_MSG_OK);
        cr_assert_eq (na, nb);
        cr_assert_arr_eq (a, b, na);
        //  a payload is not a message, and a message is not a payload
        sp_msg_t *m = NULL;
        cr_assert_eq (sp_msg_decode (a, na, 0, &m, NULL, 0), SP_MSG_ERR_UNKNOWN_TYPE);
        sp_payload_destroy (&d);
        free (a);
        free (b);
    }
    sp_msg_t m = s_min_msg (SP_MSG_BYE);
    uint8_t *data;
    size_t size;
    s_encode (&m, &data, &size);
    sp_payload_t *p = NULL;
    cr_assert_eq (sp_payload_decode (data, size, &p, NULL, 0), SP_MSG_ERR_UNKNOWN_TYPE);
    cr_assert_null (p);
    free (data);
}

Test (msg, payload_helpers)
{
    sp_payload_t full = s_full_payload ();
    sp_payload_t *p = sp_payload_new ();
    cr_assert_not_null (p);
    cr_assert_eq (sp_msg_strset (&p->job, "J9"), SP_MSG_OK);
    cr_assert_eq (sp_msg_strset (&p->track_key, "K9"), SP_MSG_OK);
    cr_assert_eq (sp_track_copy (&p->track, &full.track), SP_MSG_OK);
    cr_assert_neq (p->track.title, full.track.title);  //  a copy, not a borrow
    cr_assert_neq (p->track.artists, full.track.artists);
    cr_assert_str_eq (p->track.artists[1], "Artist B");
    cr_assert_eq (p->track.track_total, 12);
    for (size_t i = 0; i < full.candidates_count; i++)
        cr_assert_eq (sp_payload_add_candidate (p, &full.candidates[i]), SP_MSG_OK);
    cr_assert_eq (p->candidates_count, 2);
    cr_assert_str_eq (p->candidates[1].filename, "x\\Song.mp3");
    cr_assert_eq (sp_msg_strv_add (&p->tried, &p->tried_count, "a"), SP_MSG_OK);
    cr_assert_eq (sp_msg_strv_add (&p->tried, &p->tried_count, "b"), SP_MSG_OK);
    cr_assert_eq (p->tried_count, 2);
    cr_assert_eq (sp_msg_strv_add (&p->tried, &p->tried_count, NULL), SP_MSG_ERR_INVAL);
    uint8_t *data;
    size_t size;
    cr_assert_eq (sp_payload_encode (p, &data, &size, NULL, 0), SP_MSG_OK);
    sp_payload_t *d = NULL;
    cr_assert_eq (sp_payload_decode (data, size, &d, NULL, 0), SP_MSG_OK);
    cr_assert_str_eq (d->tried[1], "b");
    cr_assert_str_eq (d->track.isrc, "USABC8100001");
    sp_payload_destroy (&d);
    free (data);
    cr_assert_eq (sp_msg_strset (&p->job, NULL), SP_MSG_OK);
    cr_assert_null (p->job);
    sp_track_clear (&p->track);
    cr_assert_null (p->track.title);
    cr_assert_eq (p->track.artists_count, 0);
    sp_payload_destroy (&p);
    sp_payload_destroy (&p);  //  NULL is fine
    sp_msg_destroy (NULL);
    sp_payload_destroy (NULL);

    //  a heap message built with the helpers
    sp_msg_t *m = sp_msg_new (SP_MSG_SUBMIT_OK);
    cr_assert_eq (sp_msg_strset (&m->job, "J1"), SP_MSG_OK);
    cr_assert_eq (sp_msg_strset (&m->name, "n"), SP_MSG_OK);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq (sp_msg_strv_add (&m->notes, &m->notes_count, "note"), SP_MSG_OK);
    cr_assert_eq (sp_msg_encode (m, &data, &size), SP_MSG_OK);
    sp_msg_t *dm = NULL;
    cr_assert_eq (sp_msg_decode (data, size, 0, &dm, NULL, 0), SP_MSG_OK);
    cr_assert_eq (dm->notes_count, 1000);
    sp_msg_destroy (&dm);
    sp_msg_destroy (&m);
    cr_assert_null (m);
    free (data);
}

/* ================================================================ precheck */

Test (msg, every_prefix_fails)
{
    for (int t = 1; t < SP_MSG_TYPE_COUNT; t++) {
        sp_msg_t m = s_full_msg ((sp_msg_type_t) t);
        uint8_t *data;
        size_t size;
        s_encode (&m, &data, &size);
        for (size_t n = 0; n < size; n++) {
            //  a fresh heap copy so ASan catches any read past n
            uint8_t *cut = malloc (n ? n : 1);
            memcpy (cut, data, n);
            cr_assert_eq (s_decode_rc (cut, n), SP_MSG_ERR_TRUNCATED, "%s prefix %zu of %zu",
                          sp_msg_type_name (m.type), n, size);
            free (cut);
        }
        cr_assert_eq (s_decode_rc (data, size), SP_MSG_OK);
        free (data);
    }
    sp_payload_t p = s_full_payload ();
    uint8_t *data;
    size_t size;
    cr_assert_eq (sp_payload_encode (&p, &data, &size, NULL, 0), SP_MSG_OK);
    for (size_t n = 0; n < size; n++) {
        sp_payload_t *d = NULL;
        cr_assert_eq (sp_payload_decode (data, n, &d, NULL, 0), SP_MSG_ERR_TRUNCATED);
        cr_assert_null (d);
    }
    free (data);
}

Test (msg, huge_counts)
{
    char reason[256];
    //  array32 of 0xff000000 elements: msgpack-c alone would ask for ~96 GiB
    const uint8_t a32[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    cr_assert_eq (sp_msg_precheck (a32, sizeof a32, reason, sizeof reason), SP_MSG_ERR_TRUNCATED);
    cr_assert (strstr (reason, "array"), "%s", reason);
    cr_assert_eq (s_decode_rc (a32, sizeof a32), SP_MSG_ERR_TRUNCATED);
    const uint8_t m32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    cr_assert_eq (s_decode_rc (m32, sizeof m32), SP_MSG_ERR_TRUNCATED);
    const uint8_t a16[] = {0xdc, 0xff, 0xff, 0xc0, 0xc0};
    cr_assert_eq (s_decode_rc (a16, sizeof a16), SP_MSG_ERR_TRUNCATED);
    //  inside a valid-looking map: {"v":1, "type": str32 4 GiB}
    const uint8_t s32[] = {0x82, 0xa1, 'v',  0x01, 0xa4, 't',  'y', 'p',
                           'e',  0xdb, 0xff, 0xff, 0xff, 0xff, 'x'};
    cr_assert_eq (s_decode_rc (s32, sizeof s32), SP_MSG_ERR_TRUNCATED);
    const uint8_t b32[] = {0x81, 0xa1, 'v', 0xc6, 0x7f, 0xff, 0xff, 0xff, 0x00};
    cr_assert_eq (s_decode_rc (b32, sizeof b32), SP_MSG_ERR_TRUNCATED);
    const uint8_t e32[] = {0x81, 0xa1, 'v', 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01};
    cr_assert_eq (s_decode_rc (e32, sizeof e32), SP_MSG_ERR_TRUNCATED);
    //  a map header that claims 3 entries with bytes for 2
    const uint8_t m3[] = {0x83, 0xa1, 'v', 0x01, 0xa1, 'x', 0x01};
    cr_assert_eq (s_decode_rc (m3, sizeof m3), SP_MSG_ERR_TRUNCATED);
    //  counts that fit the bytes but exceed the object limit
    size_t big = SP_MSG_MAX_OBJECTS + 10;
    uint8_t *many = malloc (big + 5);
    many[0] = 0xdd;
    many[1] = (uint8_t) (big >> 24);
    many[2] = (uint8_t) (big >> 16);
    many[3] = (uint8_t) (big >> 8);
    many[4] = (uint8_t) big;
    memset (many + 5, 0xc0, big);
    cr_assert_eq (sp_msg_precheck (many, big + 5, NULL, 0), SP_MSG_ERR_TOO_BIG);
    //  but an array within the limit passes the precheck (and is not a map)
    size_t ok = 1000;
    many[1] = 0;
    many[2] = 0;
    many[3] = (uint8_t) (ok >> 8);
    many[4] = (uint8_t) ok;
    cr_assert_eq (sp_msg_precheck (many, ok + 5, NULL, 0), SP_MSG_OK);
    cr_assert_eq (s_decode_rc (many, ok + 5), SP_MSG_ERR_NOT_MAP);
    free (many);
}

Test (msg, reserved_byte_and_empty)
{
    const uint8_t c1[] = {0x81, 0xa1, 'v', 0xc1};
    cr_assert_eq (s_decode_rc (c1, sizeof c1), SP_MSG_ERR_MALFORMED);
    cr_assert_eq (s_decode_rc (c1, 0), SP_MSG_ERR_TRUNCATED);
    cr_assert_eq (sp_msg_precheck (NULL, 0, NULL, 0), SP_MSG_ERR_TRUNCATED);
    cr_assert_eq (sp_msg_precheck (NULL, 5, NULL, 0), SP_MSG_ERR_INVAL);
    sp_msg_t *m = NULL;
    cr_assert_eq (sp_msg_decode (NULL, 3, 0, &m, NULL, 0), SP_MSG_ERR_INVAL);
    cr_assert_eq (sp_msg_decode (c1, sizeof c1, 0, NULL, NULL, 0), SP_MSG_ERR_INVAL);
}

Test (msg, depth)
{
    //  depth 8 is fine for the precheck, 9 is not
    uint8_t buf[16];
    memset (buf, 0x91, 7);
    buf[7] = 0x90;
    cr_assert_eq (sp_msg_precheck (buf, 8, NULL, 0), SP_MSG_OK);
    memset (buf, 0x91, 8);
    buf[8] = 0x90;
    char reason[128];
    cr_assert_eq (sp_msg_precheck (buf, 9, reason, sizeof reason), SP_MSG_ERR_TOO_DEEP);
    cr_assert_eq (s_decode_rc (buf, 9), SP_MSG_ERR_TOO_DEEP);

    //  10000 nested arrays, and 10000 nested maps {"a": {"a": ...}}
    size_t n = 10000;
    uint8_t *deep = malloc (n * 3 + 1);
    memset (deep, 0x91, n);
    deep[n] = 0xc0;
    cr_assert_eq (s_decode_rc (deep, n + 1), SP_MSG_ERR_TOO_DEEP);
    for (size_t i = 0; i < n; i++) {
        deep[i * 3] = 0x81;
        deep[i * 3 + 1] = 0xa1;
        deep[i * 3 + 2] = 'a';
    }
    deep[n * 3] = 0xc0;
    cr_assert_eq (s_decode_rc (deep, n * 3 + 1), SP_MSG_ERR_TOO_DEEP);
    free (deep);

    //  a message with a nested array 9 deep in an unknown key
    const uint8_t msg9[] = {0x83, 0xa1, 'v',  0x01, 0xa4, 't',  'y',  'p',  'e',  0xa4, 'l',  'i',
                            's',  't',  0xa1, 'x',  0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x90};
    cr_assert_eq (s_decode_rc (msg9, sizeof msg9), SP_MSG_ERR_TOO_DEEP);
    //  one level less is accepted (the unknown key is ignored)
    const uint8_t msg8[] = {0x83, 0xa1, 'v',  0x01, 0xa4, 't',  'y',  'p',  'e',  0xa4, 'l', 'i',
                            's',  't',  0xa1, 'x',  0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x90};
    cr_assert_eq (s_decode_rc (msg8, sizeof msg8), SP_MSG_OK);
}

Test (msg, trailing_and_size_limits)
{
    sp_msg_t m = s_full_msg (SP_MSG_READY);
    uint8_t *data;
    size_t size;
    s_encode (&m, &data, &size);
    uint8_t *junk = malloc (size + 1);
    memcpy (junk, data, size);
    junk[size] = 0xc0;
    cr_assert_eq (s_decode_rc (junk, size + 1), SP_MSG_ERR_TRAILING);
    cr_assert_eq (sp_msg_precheck (junk, size + 1, NULL, 0), SP_MSG_ERR_TRAILING);
    //  two messages back to back are not one message
    uint8_t *two = malloc (size * 2);
    memcpy (two, data, size);
    memcpy (two + size, data, size);
    cr_assert_eq (s_decode_rc (two, size * 2), SP_MSG_ERR_TRAILING);
    //  max_size
    sp_msg_t *d = NULL;
    cr_assert_eq (sp_msg_decode (data, size, size - 1, &d, NULL, 0), SP_MSG_ERR_TOO_BIG);
    cr_assert_eq (sp_msg_decode (data, size, size, &d, NULL, 0), SP_MSG_OK);
    sp_msg_destroy (&d);
    cr_assert_eq (sp_msg_precheck (data, (size_t) SP_MSG_MAX_FRAME + 1, NULL, 0),
                  SP_MSG_ERR_TOO_BIG);
    free (junk);
    free (two);
    free (data);
}

/* ================================================================ envelope */

static void
s_f_job (msgpack_packer *pk)
{
    s_kstr (pk, "job", "J1");
}

Test (msg, envelope)
{
    char reason[256];
    sp_msg_t *d = NULL;
    size_t size;
    uint8_t *data = s_pack ("status", s_f_job, 1, &size);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, reason, sizeof reason), SP_MSG_OK);
    cr_assert_eq (d->type, SP_MSG_STATUS);
    sp_msg_destroy (&d);
    free (data);

    data = s_pack ("staus", s_f_job, 1, &size);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, reason, sizeof reason),
                  SP_MSG_ERR_UNKNOWN_TYPE);
    cr_assert (strstr (reason, "staus"), "%s", reason);
    free (data);
    data = s_pack ("payload", NULL, 0, &size);
    cr_assert_eq (s_decode_rc (data, size), SP_MSG_ERR_UNKNOWN_TYPE);
    free (data);

    //  a hostile type name is sanitized in the reason
    data = s_pack ("x'\n\x01yz", NULL, 0, &size);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, reason, sizeof reason),
                  SP_MSG_ERR_UNKNOWN_TYPE);
    cr_assert (strstr (reason, "x???yz"), "%s", reason);
    free (data);

    //  v = 2, v = -1, v = "1", no v
    uint8_t v2[] = {0x82, 0xa1, 'v', 0x02, 0xa4, 't', 'y', 'p', 'e', 0xa4, 'l', 'i', 's', 't'};
    cr_assert_eq (s_decode_rc (v2, sizeof v2), SP_MSG_ERR_BAD_VERSION);
    v2[3] = 0xff;
    cr_assert_eq (s_decode_rc (v2, sizeof v2), SP_MSG_ERR_BAD_VERSION);
    v2[3] = 0x01;
    cr_assert_eq (s_decode_rc (v2, sizeof v2), SP_MSG_OK);
    const uint8_t vs[] = {0x82, 0xa1, 'v',  0xa1, '1', 0xa4, 't', 'y',
                          'p',  'e',  0xa4, 'l',  'i', 's',  't'};
    cr_assert_eq (s_decode_rc (vs, sizeof vs), SP_MSG_ERR_BAD_VERSION);
    const uint8_t nov[] = {0x81, 0xa4, 't', 'y', 'p', 'e', 0xa4, 'l', 'i', 's', 't'};
    cr_assert_eq (s_decode_rc (nov, sizeof nov), SP_MSG_ERR_MISSING_FIELD);
    //  type not a string; no type
    const uint8_t ti[] = {0x82, 0xa1, 'v', 0x01, 0xa4, 't', 'y', 'p', 'e', 0x05};
    cr_assert_eq (s_decode_rc (ti, sizeof ti), SP_MSG_ERR_UNKNOWN_TYPE);
    const uint8_t not [] = {0x81, 0xa1, 'v', 0x01};
    cr_assert_eq (s_decode_rc (not, sizeof not ), SP_MSG_ERR_UNKNOWN_TYPE);

    //  top level not a map
    const uint8_t arr[] = {0x92, 0x01, 0x02};
    cr_assert_eq (s_decode_rc (arr, sizeof arr), SP_MSG_ERR_NOT_MAP);
    const uint8_t num[] = {0x05};
    cr_assert_eq (s_decode_rc (num, sizeof num), SP_MSG_ERR_NOT_MAP);
    const uint8_t str[] = {0xa2, 'h', 'i'};
    cr_assert_eq (s_decode_rc (str, sizeof str), SP_MSG_ERR_NOT_MAP);
    const uint8_t nil[] = {0xc0};
    cr_assert_eq (s_decode_rc (nil, sizeof nil), SP_MSG_ERR_NOT_MAP);

    //  a non-string key
    const uint8_t ik[] = {0x83, 0xa1, 'v', 0x01, 0xa4, 't', 'y',  'p',
                          'e',  0xa4, 'l', 'i',  's',  't', 0x07, 0x07};
    cr_assert_eq (s_decode_rc (ik, sizeof ik), SP_MSG_ERR_BAD_FIELD);
}

/* ================================================================ schema */

//  For every type: dropping each required key gives MISSING_FIELD, and
//  giving any key (required or optional) a wrong type gives BAD_FIELD.
Test (msg, missing_and_wrong_typed_fields)
{
    char reason[256];
    for (int t = 1; t < SP_MSG_TYPE_COUNT; t++) {
        sp_msg_t m = s_min_msg ((sp_msg_type_t) t);
        uint8_t *data;
        size_t size;
        s_encode (&m, &data, &size);
        char keys[40][64];
        size_t nk = s_keys (data, size, keys, 40);
        for (size_t k = 0; k < nk; k++) {
            size_t esize;
            uint8_t *e = s_edit (data, size, keys[k], S_DROP, &esize);
            int want =
                strcmp (keys[k], "type") == 0 ? SP_MSG_ERR_UNKNOWN_TYPE : SP_MSG_ERR_MISSING_FIELD;
            sp_msg_t *d = NULL;
            int rc = sp_msg_decode (e, esize, 0, &d, reason, sizeof reason);
            cr_assert_eq (rc, want, "%s without %s: %d %s", sp_msg_type_name (m.type), keys[k], rc,
                          reason);
            if (strcmp (keys[k], "type") && strcmp (keys[k], "v"))
                cr_assert (strstr (reason, keys[k]), "reason '%s' names no %s", reason, keys[k]);
            free (e);
            //  nil for a required field is a bad field
            if (strcmp (keys[k], "type") && strcmp (keys[k], "v")) {
                e = s_edit (data, size, keys[k], S_NIL, &esize);
                cr_assert_eq (s_decode_rc (e, esize), SP_MSG_ERR_BAD_FIELD, "%s nil %s",
                              sp_msg_type_name (m.type), keys[k]);
                free (e);
            }
        }
        free (data);

        m = s_full_msg ((sp_msg_type_t) t);
        s_encode (&m, &data, &size);
        nk = s_keys (data, size, keys, 40);
        for (size_t k = 0; k < nk; k++) {
            size_t esize;
            uint8_t *e = s_edit (data, size, keys[k], S_MUTATE, &esize);
            int want = strcmp (keys[k], "type") == 0 ? SP_MSG_ERR_UNKNOWN_TYPE
                       : strcmp (keys[k], "v") == 0  ? SP_MSG_ERR_BAD_VERSION
                                                     : SP_MSG_ERR_BAD_FIELD;
            sp_msg_t *d = NULL;
            int rc = sp_msg_decode (e, esize, 0, &d, reason, sizeof reason);
            cr_assert_eq (rc, want, "%s with wrong-typed %s: %d %s", sp_msg_type_name (m.type),
                          keys[k], rc, reason);
            cr_assert_null (d);
            free (e);
            //  a known key twice is refused
            e = s_edit (data, size, keys[k], S_DUP, &esize);
            cr_assert_eq (s_decode_rc (e, esize), SP_MSG_ERR_BAD_FIELD, "%s dup %s",
                          sp_msg_type_name (m.type), keys[k]);
            free (e);
        }
        free (data);
    }
}

Test (msg, payload_missing_and_wrong_typed)
{
    sp_payload_t p = s_full_payload ();
    uint8_t *data;
    size_t size;
    cr_assert_eq (sp_payload_encode (&p, &data, &size, NULL, 0), SP_MSG_OK);
    char keys[40][64];
    size_t nk = s_keys (data, size, keys, 40);
    cr_assert_gt (nk, 10);
    for (size_t k = 0; k < nk; k++) {
        size_t esize;
        uint8_t *e = s_edit (data, size, keys[k], S_MUTATE, &esize);
        sp_payload_t *d = NULL;
        cr_assert_neq (sp_payload_decode (e, esize, &d, NULL, 0), SP_MSG_OK, "%s", keys[k]);
        cr_assert_null (d);
        free (e);
    }
    free (data);
    //  nested: a track without artists, with 33 artists, a bad album_type,
    //  a candidate without score
    sp_payload_t q = s_full_payload ();
    char reason[256];
    q.track.artists_count = 0;
    cr_assert_eq (sp_payload_encode (&q, &data, &size, reason, sizeof reason),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert (strstr (reason, "track.artists"), "%s", reason);
    char *many[33];
    for (int i = 0; i < 33; i++)
        many[i] = "a";
    q.track.artists = many;
    q.track.artists_count = 33;
    cr_assert_eq (sp_payload_encode (&q, &data, &size, NULL, 0), SP_MSG_ERR_BAD_FIELD);
    q.track.artists_count = 32;
    cr_assert_eq (sp_payload_encode (&q, &data, &size, NULL, 0), SP_MSG_OK);
    free (data);
    q.track.album_type = "ep";
    cr_assert_eq (sp_payload_encode (&q, &data, &size, NULL, 0), SP_MSG_ERR_BAD_FIELD);
    q.track.album_type = NULL;
    q.track.has_track_number = true;
    q.track.track_number = 10001;
    cr_assert_eq (sp_payload_encode (&q, &data, &size, reason, sizeof reason),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert (strstr (reason, "track.track_number"), "%s", reason);
    q.track.track_number = 10000;
    q.track.title = NULL;
    cr_assert_eq (sp_payload_encode (&q, &data, &size, reason, sizeof reason),
                  SP_MSG_ERR_MISSING_FIELD);
    q.track.title = "t";
    q.candidates[1].score = NAN;
    cr_assert_eq (sp_payload_encode (&q, &data, &size, reason, sizeof reason),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert (strstr (reason, "candidates[1].score"), "%s", reason);
    q.candidates[1].score = 1.0;
    q.candidates_count = 201;
    cr_assert_eq (sp_payload_encode (&q, &data, &size, NULL, 0), SP_MSG_ERR_BAD_FIELD);
}

//  Fields packed by hand, to reach decode paths the encoder refuses.
static void
s_f_ready_credit (msgpack_packer *pk)
{
    s_kstr (pk, "role", "search");
    s_kstr (pk, "worker", "w");
    msgpack_pack_str_with_body (pk, "credit", 6);
    msgpack_pack_uint32 (pk, 1025);
}
static void
s_f_ready_neg (msgpack_packer *pk)
{
    s_kstr (pk, "role", "search");
    s_kstr (pk, "worker", "w");
    msgpack_pack_str_with_body (pk, "credit", 6);
    msgpack_pack_int (pk, -1);
}
static void
s_f_ready_role (msgpack_packer *pk)
{
    s_kstr (pk, "role", "searcher");
    s_kstr (pk, "worker", "w");
    msgpack_pack_str_with_body (pk, "credit", 6);
    msgpack_pack_uint8 (pk, 1);
}
static void
s_f_job_long (msgpack_packer *pk)
{
    char s[66];
    memset (s, 'j', 65);
    s[65] = '\0';
    s_kstr (pk, "job", s);
}
static void
s_f_job_64 (msgpack_packer *pk)
{
    char s[65];
    memset (s, 'j', 64);
    s[64] = '\0';
    s_kstr (pk, "job", s);
}
static void
s_f_job_nul (msgpack_packer *pk)
{
    msgpack_pack_str_with_body (pk, "job", 3);
    msgpack_pack_str_with_body (pk, "J\0x", 3);
}
static void
s_f_job_unknown (msgpack_packer *pk)
{
    s_kstr (pk, "job", "J1");
    s_kstr (pk, "future_field", "ignored");
    msgpack_pack_str_with_body (pk, "more", 4);
    msgpack_pack_array (pk, 2);
    msgpack_pack_map (pk, 0);
    msgpack_pack_bin_with_body (pk, "zz", 2);
}
static void
s_f_progress (msgpack_packer *pk, int variant)
{
    s_kstr (pk, "id", "t");
    msgpack_pack_str_with_body (pk, "fence", 5);
    msgpack_pack_uint64 (pk, UINT64_MAX);
    s_kstr (pk, "state", "InProgress");
    msgpack_pack_str_with_body (pk, "percent", 7);
    switch (variant) {
        case 0:
            msgpack_pack_float (pk, 12.5f);
            break;  //  float32
        case 1:
            msgpack_pack_uint8 (pk, 100);
            break;  //  integer
        case 2:
            msgpack_pack_double (pk, 100.5);
            break;  //  > 100
        case 3:
            msgpack_pack_double (pk, NAN);
            break;
        case 4:
            msgpack_pack_int8 (pk, -1);
            break;
        case 5:
            msgpack_pack_nil (pk);
            break;  //  nil = absent
    }
}
static void
s_f_progress0 (msgpack_packer *pk)
{
    s_f_progress (pk, 0);
}
static void
s_f_progress1 (msgpack_packer *pk)
{
    s_f_progress (pk, 1);
}
static void
s_f_progress2 (msgpack_packer *pk)
{
    s_f_progress (pk, 2);
}
static void
s_f_progress3 (msgpack_packer *pk)
{
    s_f_progress (pk, 3);
}
static void
s_f_progress4 (msgpack_packer *pk)
{
    s_f_progress (pk, 4);
}
static void
s_f_progress5 (msgpack_packer *pk)
{
    s_f_progress (pk, 5);
}
static void
s_f_held_bad (msgpack_packer *pk)
{
    msgpack_pack_str_with_body (pk, "held", 4);
    msgpack_pack_array (pk, 2);
    msgpack_pack_map (pk, 2);
    s_kstr (pk, "id", "a");
    msgpack_pack_str_with_body (pk, "fence", 5);
    msgpack_pack_uint8 (pk, 1);
    msgpack_pack_map (pk, 1);
    s_kstr (pk, "id", "b");  //  no fence
}

static int
s_decode_packed (const char *type, void (*fields) (msgpack_packer *), size_t n, sp_msg_t **out,
                 char *reason, size_t reason_size)
{
    size_t size;
    uint8_t *data = s_pack (type, fields, n, &size);
    sp_msg_t *d = NULL;
    int rc = sp_msg_decode (data, size, 0, &d, reason, reason_size);
    free (data);
    if (out)
        *out = d;
    else
        sp_msg_destroy (&d);
    return rc;
}

Test (msg, bounds)
{
    char reason[256];
    sp_msg_t *d = NULL;
    cr_assert_eq (s_decode_packed ("ready", s_f_ready_credit, 3, NULL, reason, sizeof reason),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert (strstr (reason, "credit"), "%s", reason);
    cr_assert_eq (s_decode_packed ("ready", s_f_ready_neg, 3, NULL, NULL, 0), SP_MSG_ERR_BAD_FIELD);
    cr_assert_eq (s_decode_packed ("ready", s_f_ready_role, 3, NULL, NULL, 0),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert_eq (s_decode_packed ("status", s_f_job_long, 1, NULL, reason, sizeof reason),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert (strstr (reason, "job"), "%s", reason);
    cr_assert_eq (s_decode_packed ("status", s_f_job_64, 1, NULL, NULL, 0), SP_MSG_OK);
    cr_assert_eq (s_decode_packed ("status", s_f_job_nul, 1, NULL, NULL, 0), SP_MSG_ERR_BAD_FIELD);
    cr_assert_eq (s_decode_packed ("status", s_f_job_unknown, 3, &d, NULL, 0), SP_MSG_OK);
    cr_assert_str_eq (d->job, "J1");
    sp_msg_destroy (&d);

    cr_assert_eq (s_decode_packed ("progress", s_f_progress0, 4, &d, NULL, 0), SP_MSG_OK);
    cr_assert (d->has_percent);
    cr_assert_float_eq (d->percent, 12.5, 1e-9);
    cr_assert_eq (d->fence, UINT64_MAX);
    sp_msg_destroy (&d);
    cr_assert_eq (s_decode_packed ("progress", s_f_progress1, 4, &d, NULL, 0), SP_MSG_OK);
    cr_assert_float_eq (d->percent, 100.0, 1e-9);
    sp_msg_destroy (&d);
    cr_assert_eq (s_decode_packed ("progress", s_f_progress2, 4, NULL, NULL, 0),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert_eq (s_decode_packed ("progress", s_f_progress3, 4, NULL, NULL, 0),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert_eq (s_decode_packed ("progress", s_f_progress4, 4, NULL, NULL, 0),
                  SP_MSG_ERR_BAD_FIELD);
    cr_assert_eq (s_decode_packed ("progress", s_f_progress5, 4, &d, NULL, 0), SP_MSG_OK);
    cr_assert (!d->has_percent);
    sp_msg_destroy (&d);
    cr_assert_eq (s_decode_packed ("heartbeat", s_f_held_bad, 1, NULL, reason, sizeof reason),
                  SP_MSG_ERR_MISSING_FIELD);
    cr_assert (strstr (reason, "held[1].fence"), "%s", reason);

    //  encoder-side bounds: oversize strings and arrays never leave
    sp_msg_t m = s_min_msg (SP_MSG_SUBMIT_OK);
    char **notes = calloc (SP_MSG_MAX_NOTES + 1, sizeof (char *));
    for (size_t i = 0; i <= SP_MSG_MAX_NOTES; i++)
        notes[i] = "n";
    m.notes = notes;
    m.notes_count = SP_MSG_MAX_NOTES + 1;
    uint8_t *data;
    size_t size;
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_BAD_FIELD);
    m.notes_count = SP_MSG_MAX_NOTES;  //  the maximum fits in a frame
    cr_assert_eq (sp_msg_encode_r (&m, &data, &size, reason, sizeof reason), SP_MSG_OK, "%s",
                  reason);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, reason, sizeof reason), SP_MSG_OK, "%s",
                  reason);
    cr_assert_eq (d->notes_count, SP_MSG_MAX_NOTES);
    sp_msg_destroy (&d);
    free (data);
    free (notes);

    m = s_min_msg (SP_MSG_SUBMIT);
    char *name = malloc (SP_MSG_MAX_NAME + 2);
    memset (name, 'n', SP_MSG_MAX_NAME + 1);
    name[SP_MSG_MAX_NAME + 1] = '\0';
    m.name = name;
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_BAD_FIELD);
    name[SP_MSG_MAX_NAME] = '\0';
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_OK);
    free (data);
    free (name);
    m.source = NULL;
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_MISSING_FIELD);
    m = s_min_msg (SP_MSG_HEARTBEAT);
    m.has_credit = true;
    m.credit = SP_MSG_MAX_CREDIT + 1;
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_BAD_FIELD);
    m.type = SP_MSG_TYPE_COUNT;
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_INVAL);
    m.type = SP_MSG_NONE;
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_INVAL);
    m = s_min_msg (SP_MSG_TASK);
    m.payload_size = 3;  //  NULL bin with a size
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_INVAL);
    m = s_min_msg (SP_MSG_LOGIN);
    m.provider = "google";
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_BAD_FIELD);

    //  64 MiB of status_ok json fits; one byte more does not
    m = s_min_msg (SP_MSG_STATUS_OK);
    char *json = malloc (SP_MSG_MAX_JSON + 2);
    memset (json, ' ', SP_MSG_MAX_JSON + 1);
    json[SP_MSG_MAX_JSON + 1] = '\0';
    m.json = json;
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_ERR_BAD_FIELD);
    json[SP_MSG_MAX_JSON] = '\0';
    cr_assert_eq (sp_msg_encode (&m, &data, &size), SP_MSG_OK);
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, NULL, 0), SP_MSG_OK);
    cr_assert_eq (strlen (d->json), SP_MSG_MAX_JSON);
    sp_msg_destroy (&d);
    cr_assert_eq (sp_msg_decode (data, size, SP_MSG_MAX_BROKER_FRAME, &d, NULL, 0),
                  SP_MSG_ERR_TOO_BIG);
    free (data);
    free (json);
}

/* ================================================================ random */

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
s_rand (void)
{
    //  xorshift64*: fixed seed, reproducible
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 2685821657736338717ULL;
}

//  Decode as message and as payload; whatever decodes must re-encode and
//  decode again.
static int
s_try (const uint8_t *data, size_t size)
{
    int ok = 0;
    sp_msg_t *m = NULL;
    char reason[256];
    if (sp_msg_decode (data, size, 0, &m, reason, sizeof reason) == SP_MSG_OK) {
        uint8_t *out;
        size_t n;
        cr_assert_eq (sp_msg_encode_r (m, &out, &n, reason, sizeof reason), SP_MSG_OK, "%s",
                      reason);
        sp_msg_t *again = NULL;
        cr_assert_eq (sp_msg_decode (out, n, 0, &again, NULL, 0), SP_MSG_OK);
        sp_msg_destroy (&again);
        free (out);
        ok++;
    }
    sp_msg_destroy (&m);
    sp_payload_t *p = NULL;
    if (sp_payload_decode (data, size, &p, NULL, 0) == SP_MSG_OK) {
        uint8_t *out;
        size_t n;
        cr_assert_eq (sp_payload_encode (p, &out, &n, NULL, 0), SP_MSG_OK);
        free (out);
        ok++;
    }
    sp_payload_destroy (&p);
    return ok;
}

Test (msg, random_bytes, .timeout = 120)
{
    uint8_t *buf = malloc (512);
    for (int i = 0; i < 100000; i++) {
        size_t n = s_rand () % 512;
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t) s_rand ();
        //  bias half the buffers toward a map header so decode gets further
        if (n > 0 && (i & 1))
            buf[0] = 0x80 | (buf[0] & 0x0f);
        s_try (buf, n);
    }
    free (buf);
}

Test (msg, mutated_frames, .timeout = 120)
{
    uint8_t *frames[SP_MSG_TYPE_COUNT + 1];
    size_t sizes[SP_MSG_TYPE_COUNT + 1];
    size_t nf = 0;
    for (int t = 1; t < SP_MSG_TYPE_COUNT; t++) {
        sp_msg_t m = s_full_msg ((sp_msg_type_t) t);
        s_encode (&m, &frames[nf], &sizes[nf]);
        nf++;
    }
    sp_payload_t p = s_full_payload ();
    cr_assert_eq (sp_payload_encode (&p, &frames[nf], &sizes[nf], NULL, 0), SP_MSG_OK);
    nf++;
    int decoded = 0;
    for (int i = 0; i < 100000; i++) {
        size_t f = s_rand () % nf;
        size_t n = sizes[f];
        uint8_t *buf = malloc (n);
        memcpy (buf, frames[f], n);
        int edits = 1 + (int) (s_rand () % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = s_rand () % n;
            switch (s_rand () % 3) {
                case 0:
                    buf[at] = (uint8_t) s_rand ();
                    break;
                case 1:
                    buf[at] ^= (uint8_t) (1u << (s_rand () % 8));
                    break;
                case 2:
                    n = at + 1;
                    break;  //  cut
            }
        }
        decoded += s_try (buf, n);
        free (buf);
    }
    //  many single-byte edits keep a frame valid (inside strings): the
    //  decode-then-encode path must have been exercised
    cr_assert_gt (decoded, 1000);
    for (size_t f = 0; f < nf; f++)
        free (frames[f]);
}

//  The broker's task message was called "job" before the vocabulary was
//  made one (a job is a playlist, a task one stage's unit of work): the
//  encoder writes "task", the decoder still takes "job" for the same type.
static void
s_task_fields (msgpack_packer *pk)
{
    s_kstr (pk, "id", "J1:3:search");
    s_kstr (pk, "stage", "search");
    msgpack_pack_str_with_body (pk, "fence", 5);
    msgpack_pack_uint64 (pk, 7);
    msgpack_pack_str_with_body (pk, "attempt", 7);
    msgpack_pack_uint64 (pk, 2);
    msgpack_pack_str_with_body (pk, "payload", 7);
    msgpack_pack_bin (pk, 3);
    msgpack_pack_bin_body (pk, "abc", 3);
}

Test (msg, task_type_and_its_old_name)
{
    cr_assert_str_eq (sp_msg_type_name (SP_MSG_TASK), "task");
    cr_assert_eq (sp_msg_type_from_name ("task"), SP_MSG_TASK);
    cr_assert_eq (sp_msg_type_from_name ("job"), SP_MSG_TASK);
    cr_assert_eq (sp_msg_type_from_name ("jobs"), SP_MSG_NONE);
    cr_assert_eq (sp_msg_type_from_name ("tas"), SP_MSG_NONE);

    //  the encoder writes "task"
    sp_msg_t m = s_min_msg (SP_MSG_TASK);
    uint8_t *data;
    size_t size;
    s_encode (&m, &data, &size);
    cr_assert (memmem (data, size, "\xa4task", 5), "type \"task\" on the wire");
    cr_assert_null (memmem (data, size, "\xa3job", 4), "no \"job\" on the wire");
    free (data);

    //  both names decode to the same message
    const char *names[] = {"task", "job"};
    for (size_t i = 0; i < 2; i++) {
        data = s_pack (names[i], s_task_fields, 5, &size);
        sp_msg_t *d = NULL;
        char reason[256] = "";
        cr_assert_eq (sp_msg_decode (data, size, 0, &d, reason, sizeof reason), SP_MSG_OK, "%s: %s",
                      names[i], reason);
        cr_assert_eq (d->type, SP_MSG_TASK, "%s", names[i]);
        cr_assert_str_eq (d->id, "J1:3:search");
        cr_assert_eq (d->fence, 7);
        cr_assert_eq (d->attempt, 2);
        cr_assert_eq (d->payload_size, 3);
        sp_msg_destroy (&d);
        free (data);
    }
    //  the old name is held to the same schema
    data = s_pack ("job", NULL, 0, &size);
    sp_msg_t *d = NULL;
    cr_assert_eq (sp_msg_decode (data, size, 0, &d, NULL, 0), SP_MSG_ERR_MISSING_FIELD);
    cr_assert_null (d);
    free (data);
}

/* ================================================================ corpus */

//  With SOULPIPE_WRITE_CORPUS=DIR: write the seed corpus for fuzz/fuzz_msg.c.
Test (msg, corpus)
{
    const char *dir = getenv ("SOULPIPE_WRITE_CORPUS");
    if (!dir)
        return;
    for (int t = 1; t < SP_MSG_TYPE_COUNT; t++) {
        for (int full = 0; full < 2; full++) {
            sp_msg_t m = full ? s_full_msg ((sp_msg_type_t) t) : s_min_msg ((sp_msg_type_t) t);
            uint8_t *data;
            size_t size;
            s_encode (&m, &data, &size);
            char path[512];
            snprintf (path, sizeof path, "%s/%s-%s.bin", dir, sp_msg_type_name (m.type),
                      full ? "full" : "min");
            FILE *fp = fopen (path, "wb");
            cr_assert_not_null (fp, "%s", path);
            cr_assert_eq (fwrite (data, 1, size, fp), size);
            fclose (fp);
            free (data);
        }
    }
    sp_payload_t ps[2] = {s_full_payload (), s_min_payload ()};
    for (int i = 0; i < 2; i++) {
        uint8_t *data;
        size_t size;
        cr_assert_eq (sp_payload_encode (&ps[i], &data, &size, NULL, 0), SP_MSG_OK);
        char path[512];
        snprintf (path, sizeof path, "%s/payload-%s.bin", dir, i == 0 ? "full" : "min");
        FILE *fp = fopen (path, "wb");
        cr_assert_not_null (fp, "%s", path);
        cr_assert_eq (fwrite (data, 1, size, fp), size);
        fclose (fp);
        free (data);
    }
}
