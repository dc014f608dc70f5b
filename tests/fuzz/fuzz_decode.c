/*
 * Fuzz target: the request decode path of every RPC of every Shelfline
 * service (found through the protoc-c service descriptors, so new RPCs are
 * covered without touching this file), plus the full in-process dispatch of
 * grpc.health.v1.Health/Check (decode, checks, handler, encode), and the
 * client's reader of rich-error trailers (sl_client_status_detail).
 *
 * Input: byte 0 picks the request type, the rest is the message bytes.
 * Properties checked: the request check (sl_valid) and decoding never crash
 * or leak; whatever passes the check and decodes re-encodes into bytes that
 * pass and decode again, unknown fields included; dispatch answers OK,
 * INVALID_ARGUMENT or NOT_FOUND, never anything else.  (Byte-for-byte
 * stability is not asserted: protobuf-c keeps unknown fields with their
 * tags as read, e.g. a non-canonical varint tag, and that is allowed by the
 * protobuf spec.)
 *
 * Built two ways: with clang -fsanitize=fuzzer for `make fuzz`, and with
 * fuzz_driver.c as a deterministic ctest that replays seeds and mutations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_client.h"
#include "sl_log.h"
#include "sl_rpc_status.h"
#include "sl_server.h"
#include "sl_valid.h"

static const ProtobufCServiceDescriptor *const services[] = {
    &shelfline__v1__inventory_service__descriptor,
    &shelfline__v1__forecasting_service__descriptor,
    &shelfline__v1__customer_value_service__descriptor,
    &shelfline__v1__service_desk_service__descriptor,
};

#define MAX_TYPES 512
static const ProtobufCMessageDescriptor *types[MAX_TYPES];
static size_t n_types;
static sl_server *server;
static sl_arena *arena;

static void init_once(void)
{
    if (arena != NULL)
        return;
    sl_log_init("fuzz", SL_LOG_ERROR);
    for (size_t s = 0; s < sizeof services / sizeof services[0]; s++)
        for (unsigned m = 0; m < services[s]->n_methods && n_types < MAX_TYPES; m++)
            types[n_types++] = services[s]->methods[m].input;
    types[n_types++] = &grpc__health__v1__health_check_request__descriptor;
    sl_server_options o = {.listen = "127.0.0.1:0", .workers = 1};
    if (sl_server_create(&o, &server, NULL) != SL_OK)
        abort();
    arena = sl_arena_create(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size == 0)
        return 0;
    const ProtobufCMessageDescriptor *d = types[data[0] % n_types];
    const uint8_t *msg = data + 1;
    size_t len = size - 1;

    /* The dispatcher's request check runs first, as in sl_server: what it
     * refuses (field number 0, a NUL or invalid UTF-8 in a string, an
     * instant out of range, ...) never reaches protobuf-c's decoder.  What
     * it accepts and protobuf-c decodes must re-encode into bytes that both
     * accept again, unknown fields at any depth included: protobuf-c 1.4
     * accepts a field number 0 in a nested message and then refuses its own
     * re-encoding, which is why the check refuses field number 0. */
    sl_err verr;
    sl_status vst = sl_valid_request(d, msg, len, &verr);
    if (vst != SL_OK && vst != SL_INVALID_ARGUMENT)
        abort();
    ProtobufCMessage *m =
        vst == SL_OK ? protobuf_c_message_unpack(d, sl_arena_pb_allocator(arena), len, msg) : NULL;
    if (m != NULL) {
        size_t n1 = protobuf_c_message_get_packed_size(m);
        uint8_t *b1 = sl_arena_alloc(arena, n1 + 1);
        protobuf_c_message_pack(m, b1);
        if (sl_valid_request(d, b1, n1, &verr) != SL_OK)
            abort();
        ProtobufCMessage *m2 = protobuf_c_message_unpack(d, sl_arena_pb_allocator(arena), n1, b1);
        if (m2 == NULL)
            abort();
    }

    void *out;
    size_t out_len;
    sl_status st = sl_server_call_local(server, "/grpc.health.v1.Health/Check", msg, len, arena,
                                        &out, &out_len, NULL);
    /* NOT_FOUND: a decodable request naming a service nobody registered. */
    if (st != SL_OK && st != SL_INVALID_ARGUMENT && st != SL_NOT_FOUND)
        abort();
    /* The rich-error trailer a client reads from a server: whatever the
     * bytes, decoding stays inside them, a found value is whole, and a
     * reason read from them is a string that fits. */
    const uint8_t *v = NULL;
    size_t v_len = 0;
    if (sl_client_status_detail(msg, len, "type.googleapis.com/shelfline.v1.ReserveShortfall",
                                arena, &v, &v_len) &&
        v_len > 0 && v == NULL)
        abort();
    sl_err rerr;
    sl_err_clear(&rerr);
    if (sl_rpc_status_read_reason(msg, len, arena, &rerr) &&
        strnlen(rerr.reason, sizeof rerr.reason) == sizeof rerr.reason)
        abort();
    sl_arena_reset(arena);
    return 0;
}
