/*  fuzz_msg.c: libFuzzer harness for the msg codec (messages and payloads).

    Build and run by hand (from the repo root):
      clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon/include \
          $(pkg-config --cflags msgpack) fuzz/fuzz_msg.c common/src/msg*.c \
          $(pkg-config --libs msgpack) -lm -o build/fuzz_msg
      build/fuzz_msg -max_total_time=60 -rss_limit_mb=2048 fuzz/corpus/msg

    Seed corpus: fuzz/corpus/msg/ (every type, full and minimal, plus
    payloads), regenerated with
      SOULPIPE_WRITE_CORPUS=fuzz/corpus/msg build/rel/tests/unit-tests --filter 'msg/corpus'

    Invariants (a broken one calls abort()):
      - sp_msg_precheck agrees with msgpack-c: a frame that passes unpacks
        with SUCCESS and consumes every byte;
      - whatever decodes (as a message, or as a payload) passed the precheck,
        re-encodes, decodes again, and re-encodes to the same bytes;
      - a decoded task/done/fail payload bin is itself tried as a payload.
*/
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "soulpipe/msg.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
s_check (int cond, const char *what)
{
    if (!cond) {
        fprintf (stderr, "fuzz_msg: invariant broken: %s\n", what);
        abort ();
    }
}

static void
s_payload (const uint8_t *data, size_t size)
{
    sp_payload_t *p = NULL;
    if (sp_payload_decode (data, size, &p, NULL, 0) != SP_MSG_OK) {
        s_check (p == NULL, "failed payload decode left an object");
        return;
    }
    s_check (sp_msg_precheck (data, size, NULL, 0) == SP_MSG_OK, "payload decoded past precheck");
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    char reason[256];
    s_check (sp_payload_encode (p, &a, &na, reason, sizeof reason) == SP_MSG_OK,
             "decoded payload does not re-encode");
    sp_payload_t *again = NULL;
    s_check (sp_payload_decode (a, na, &again, NULL, 0) == SP_MSG_OK,
             "re-encoded payload does not decode");
    s_check (sp_payload_encode (again, &b, &nb, NULL, 0) == SP_MSG_OK,
             "payload does not encode twice");
    s_check (na == nb && memcmp (a, b, na) == 0, "payload encoding not stable");
    sp_payload_destroy (&again);
    sp_payload_destroy (&p);
    free (a);
    free (b);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  The precheck and msgpack-c must agree on what a whole object is.
    if (sp_msg_precheck (data, size, NULL, 0) == SP_MSG_OK) {
        msgpack_unpacked up;
        msgpack_unpacked_init (&up);
        size_t off = 0;
        msgpack_unpack_return rc = msgpack_unpack_next (&up, (const char *) data, size, &off);
        s_check (rc == MSGPACK_UNPACK_SUCCESS && off == size,
                 "precheck passed a frame msgpack-c does not unpack whole");
        msgpack_unpacked_destroy (&up);
    }

    sp_msg_t *m = NULL;
    char reason[256];
    if (sp_msg_decode (data, size, 0, &m, reason, sizeof reason) == SP_MSG_OK) {
        s_check (sp_msg_precheck (data, size, NULL, 0) == SP_MSG_OK, "decoded past precheck");
        uint8_t *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        s_check (sp_msg_encode_r (m, &a, &na, reason, sizeof reason) == SP_MSG_OK,
                 "decoded message does not re-encode");
        sp_msg_t *again = NULL;
        s_check (sp_msg_decode (a, na, 0, &again, NULL, 0) == SP_MSG_OK,
                 "re-encoded message does not decode");
        s_check (again->type == m->type, "type changed");
        s_check (sp_msg_encode (again, &b, &nb) == SP_MSG_OK, "message does not encode twice");
        s_check (na == nb && memcmp (a, b, na) == 0, "message encoding not stable");
        if (m->payload)
            s_payload (m->payload, m->payload_size);
        sp_msg_destroy (&again);
        free (a);
        free (b);
    } else
        s_check (m == NULL, "failed decode left an object");
    sp_msg_destroy (&m);

    s_payload (data, size);
    return 0;
}
