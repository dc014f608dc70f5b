/*
 * Fuzz target: the JSON decoder of the Connect face (sl_json_decode), for
 * every message type of the Shelfline services (sl_test_types.h: the
 * requests and responses of every RPC, so new RPCs are covered without
 * touching this file, and the messages they nest).
 *
 * Input: byte 0 picks the type, the rest is the JSON text.
 * Properties checked: no crash, leak, hang or undefined behaviour; the
 * decoder answers OK or INVALID_ARGUMENT (never another status), and an
 * INVALID_ARGUMENT has a message; a message that decodes re-encodes
 * (sl_json_encode) into JSON that decodes again into the same message
 * (compared as packed protobuf bytes: both ways of the mapping agree);
 * the gRPC request check (sl_valid_request), which JSON passes through on
 * its way to the dispatcher, answers its packed bytes with OK or
 * INVALID_ARGUMENT (a string's length or an instant's range are its rules,
 * not JSON's, so either is fine).
 *
 * Built two ways: with clang -fsanitize=fuzzer for `make fuzz`, and with
 * fuzz_driver.c as a deterministic ctest that replays seeds and mutations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../support/sl_test_types.h"
#include "sl_arena.h"
#include "sl_json.h"
#include "sl_valid.h"

#define MAX_TYPES 1024
static const ProtobufCMessageDescriptor *types[MAX_TYPES];
static size_t n_types;
static sl_arena *arena;

static void init_once(void)
{
    if (arena != NULL)
        return;
    n_types = sl_test_suite_types(types, MAX_TYPES);
    arena = sl_arena_create(0);
    if (arena == NULL)
        abort();
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = sl_arena_alloc(arena, *len + 1);
    if (b == NULL)
        abort();
    protobuf_c_message_pack(m, b);
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size < 1)
        return 0;
    const ProtobufCMessageDescriptor *d = types[data[0] % n_types];
    const char *json = (const char *)data + 1;
    size_t len = size - 1;
    sl_err err;
    sl_err_clear(&err);
    ProtobufCMessage *m = NULL;
    sl_status st = sl_json_decode(d, json, len, arena, &m, &err);
    if (st != SL_OK) {
        if (st != SL_INVALID_ARGUMENT || err.msg[0] == '\0' || m != NULL)
            abort();
        sl_arena_reset(arena);
        return 0;
    }
    size_t n1;
    uint8_t *b1 = pack(m, &n1);
    st = sl_valid_request(d, b1, n1, &err);
    if (st != SL_OK && st != SL_INVALID_ARGUMENT)
        abort();
    char *text;
    size_t tlen;
    if (sl_json_encode(m, &text, &tlen, &err) != SL_OK)
        abort();
    ProtobufCMessage *again = NULL;
    if (sl_json_decode(d, text, tlen, arena, &again, &err) != SL_OK)
        abort();
    free(text);
    size_t n2;
    uint8_t *b2 = pack(again, &n2);
    if (n1 != n2 || memcmp(b1, b2, n1) != 0)
        abort();
    sl_arena_reset(arena);
    return 0;
}
