/*
 * valid_bench: what the dispatcher's generic request check (sl_valid)
 * costs per call, beside protobuf-c's own decoding of the same bytes, for
 * a typical order (PlaceOrderRequest, five lines).  Built with the tests
 * (build/bin/valid_bench), not run by ctest; figures in docs/BENCHMARKS.md.
 *
 * usage: valid_bench [N]   (N calls of each, default 2,000,000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_valid.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    if (n <= 0) {
        fprintf(stderr, "usage: valid_bench [N]\n");
        return 2;
    }
    const ProtobufCMessageDescriptor *d = &shelfline__v1__place_order_request__descriptor;
    Shelfline__V1__PlaceOrderRequest r = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    Shelfline__V1__OrderLineRequest l[5], *lp[5];
    for (int i = 0; i < 5; i++) {
        shelfline__v1__order_line_request__init(&l[i]);
        l[i].sku = "SKU-000123";
        l[i].qty = 2;
        lp[i] = &l[i];
    }
    r.order_id = "order-2026-12-06-000001";
    r.customer_id = "cust-000042";
    r.region = "EAST";
    r.lines = lp;
    r.n_lines = 5;
    r.placed_at_ms = 1795014000000LL;
    uint8_t buf[1024];
    size_t len = shelfline__v1__place_order_request__pack(&r, buf);
    sl_arena *a = sl_arena_create(0);
    sl_err err;
    double t0 = now_s();
    for (long i = 0; i < n; i++)
        if (sl_valid_request(d, buf, len, &err) != SL_OK) {
            fprintf(stderr, "refused: %s\n", err.msg);
            return 1;
        }
    double t1 = now_s();
    for (long i = 0; i < n; i++) {
        if (protobuf_c_message_unpack(d, sl_arena_pb_allocator(a), len, buf) == NULL)
            return 1;
        sl_arena_reset(a);
    }
    double t2 = now_s();
    printf("%zu-byte PlaceOrderRequest (5 lines), %ld calls: check %.0f ns, "
           "protobuf-c unpack %.0f ns per call\n",
           len, n, (t1 - t0) / (double)n * 1e9, (t2 - t1) / (double)n * 1e9);
    sl_arena_destroy(a);
    return 0;
}
