/*
 * Bad input, refused in one place before any side effect: every RPC of
 * every service, enumerated from the protoc-c service descriptors (a new RPC
 * or field is covered without editing this file), gets requests carrying in
 * each of its string fields (nested and repeated ones too) invalid UTF-8, an
 * embedded NUL and a 1 MiB string, and in each of its instant fields values
 * out of range.  Each must answer INVALID_ARGUMENT naming the field's path
 * (lines[1].sku), and the database must read the same before and after the
 * whole sweep.
 *
 * The four services run as real processes on one fresh database, wired to
 * each other as in production, with a little data (a network, stock, a
 * placed order), so a handler that ran would have something to change.
 *
 * Also here: CancelOrder with a bad reason leaves the order and its stock
 * hold untouched (it used to release the hold and then fail to record the
 * cancel), and WatchNotifications answers OUT_OF_RANGE for a cursor past
 * the newest notification, as WatchEvents does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "grpc/health/v1/health.pb-c.h"
#include "inv_test.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_health.h"
#include "sl_log.h"
#include "sl_test.h"
#include "sl_valid.h"
#include "suite_test.h"

#define DESC(x) &shelfline__v1__##x##__descriptor

static suitet S;
static sl_arena *A;

/* The services under test and the channel that serves each. */
typedef struct served {
    const ProtobufCServiceDescriptor *svc;
    sl_channel **ch;
} served;
static sl_channel *inv_ch;
static const served services[] = {
    {&shelfline__v1__inventory_service__descriptor, &inv_ch},
    {&shelfline__v1__forecasting_service__descriptor, &S.ch[SUITET_FC]},
    {&shelfline__v1__customer_value_service__descriptor, &S.ch[SUITET_CV]},
    {&shelfline__v1__service_desk_service__descriptor, &S.ch[SUITET_SD]},
    {&grpc__health__v1__health__descriptor, &S.ch[SUITET_SD]},
};

static Shelfline__V1__PlaceOrderRequest *order_req(const char *id, const char *sku, int64_t qty)
{
    Shelfline__V1__PlaceOrderRequest *r = sl_arena_alloc(A, sizeof *r);
    Shelfline__V1__OrderLineRequest *l = sl_arena_alloc(A, sizeof *l);
    Shelfline__V1__OrderLineRequest **lp = sl_arena_alloc(A, sizeof *lp);
    shelfline__v1__place_order_request__init(r);
    shelfline__v1__order_line_request__init(l);
    l->sku = (char *)sku;
    l->qty = qty;
    *lp = l;
    r->order_id = (char *)id;
    r->customer_id = "cust-1";
    r->region = "EAST";
    r->lines = lp;
    r->n_lines = 1;
    return r;
}

static int group_setup(void **state)
{
    (void)state;
    A = sl_arena_create(0);
    if (suitet_start(&S, "bad_input") != 0)
        return -1;
    inv_ch = S.inv.ch[0];
    const char *skus[] = {"SKU-A", "SKU-B"};
    if (invt_seed(inv_ch, skus, 2) != 0 || invt_stock(inv_ch, "SKU-A", "W-NEAR", 50) != 0)
        return -1;
    if (suitet_place_order(&S, "o-1", "SKU-A", 2) != 0)
        return -1;
    sl_arena_reset(A);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = suitet_stop(&S);
    sl_arena_destroy(A);
    sl_test_kill_all();
    return bad == 0 ? 0 : -1;
}

/* ------------------------------------------------- requests from descriptors -- */

/* Nested messages are followed this deep: deeper than any request of the
 * suite nests a string. */
#define MAX_DEPTH 4

typedef enum target_kind { T_STRING, T_INSTANT } target_kind;

typedef struct target {
    char path[256];
    target_kind kind;
} target;

typedef struct targets {
    target *v;
    size_t n, cap;
} targets;

static bool is_time(const ProtobufCFieldDescriptor *f)
{
    size_t n = strlen(f->name);
    return f->type == PROTOBUF_C_TYPE_INT64 && n > 3 && strcmp(f->name + n - 3, "_ms") == 0 &&
           !(n > 7 && strcmp(f->name + n - 7, "_ttl_ms") == 0);
}

/* The path of element e of field f under prefix: repeated fields get two
 * elements, and the targets are in the second, so indexes are checked. */
static void elem_path(char *out, size_t cap, const char *prefix, const ProtobufCFieldDescriptor *f,
                      int e)
{
    const char *dot = prefix[0] != '\0' ? "." : "";
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        snprintf(out, cap, "%s%s%s[%d]", prefix, dot, f->name, e);
    else
        snprintf(out, cap, "%s%s%s", prefix, dot, f->name);
}

static void collect(const ProtobufCMessageDescriptor *d, const char *prefix, int depth,
                    targets *out)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char path[256];
        elem_path(path, sizeof path, prefix, f, 1);
        target_kind kind;
        if (f->type == PROTOBUF_C_TYPE_STRING)
            kind = T_STRING;
        else if (is_time(f))
            kind = T_INSTANT;
        else {
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < MAX_DEPTH)
                collect(f->descriptor, path, depth + 1, out);
            continue;
        }
        if (out->n == out->cap) {
            out->cap = out->cap ? 2 * out->cap : 64;
            out->v = realloc(out->v, out->cap * sizeof *out->v);
            assert_non_null(out->v);
        }
        snprintf(out->v[out->n].path, sizeof out->v[0].path, "%s", path);
        out->v[out->n++].kind = kind;
    }
}

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap)
            b->cap = b->cap ? 2 * b->cap : 256;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_varint(buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v != 0)
            t[n] |= 0x80;
        n++;
    } while (v != 0);
    put(b, t, n);
}

/* Encodes a request of type d in which every string is "x" and every
 * message present (two elements of each repeated field), except the field
 * at target->path, which carries bad (a string) or bad_ms (an instant). */
static void encode(const ProtobufCMessageDescriptor *d, const char *prefix, int depth,
                   const target *tg, const uint8_t *bad, size_t bad_len, int64_t bad_ms, buf *out)
{
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        int count = f->label == PROTOBUF_C_LABEL_REPEATED ? 2 : 1;
        for (int e = 0; e < count; e++) {
            char path[256];
            elem_path(path, sizeof path, prefix, f, e);
            bool hit = strcmp(path, tg->path) == 0;
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                put_varint(out, (uint64_t)f->id << 3 | 2);
                const uint8_t *v = hit ? bad : (const uint8_t *)"x";
                size_t n = hit ? bad_len : 1;
                put_varint(out, n);
                put(out, v, n);
            } else if (is_time(f) && hit) {
                put_varint(out, (uint64_t)f->id << 3 | 0);
                put_varint(out, (uint64_t)bad_ms);
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < MAX_DEPTH) {
                buf sub = {0};
                encode(f->descriptor, path, depth + 1, tg, bad, bad_len, bad_ms, &sub);
                put_varint(out, (uint64_t)f->id << 3 | 2);
                put_varint(out, sub.n);
                if (sub.n > 0)
                    put(out, sub.p, sub.n);
                free(sub.p);
            }
        }
    }
}

/* --------------------------------------------------------------- sweep -- */

static int checked, failures;

static void expect_refused(sl_channel *c, const char *method, const ProtobufCMessageDescriptor *in,
                           const target *tg, const char *what, const uint8_t *bad, size_t bad_len,
                           int64_t bad_ms)
{
    buf b = {0};
    encode(in, "", 0, tg, bad, bad_len, bad_ms, &b);
    void *resp;
    size_t resp_len;
    sl_err err;
    sl_err_clear(&err);
    sl_call_options o = {.timeout_ms = 10000};
    sl_status st = sl_client_unary_raw(c, method, b.p, b.n, A, &resp, &resp_len, &o, &err);
    free(b.p);
    checked++;
    /* The path must be named, followed by what is wrong with it. */
    char want[300];
    snprintf(want, sizeof want, "%s ", tg->path);
    char want_colon[300];
    snprintf(want_colon, sizeof want_colon, "%s:", tg->path);
    if (st != SL_INVALID_ARGUMENT ||
        (strstr(err.msg, want) != err.msg && strstr(err.msg, want_colon) != err.msg)) {
        failures++;
        fprintf(stderr, "%s %s (%s): got %s \"%s\"\n", method, tg->path, what, sl_status_name(st),
                err.msg);
    }
    sl_arena_reset(A);
}

static void test_every_rpc_refuses_bad_fields(void **state)
{
    (void)state;
    char *before = suitet_settled_fingerprint(S.inv.conninfo);

    size_t big_len = 1u << 20;
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    memset(big, 'a', big_len);
    static const uint8_t not_utf8[] = {'o', 'k', 0xc3, 0x28, 0xff};
    static const uint8_t with_nul[] = "ORDER-7\0shop-a";
    static const int64_t bad_instants[] = {INT64_MAX, -1, SL_VALID_MAX_INSTANT_MS + 1};

    int methods = 0, fields = 0;
    for (size_t s = 0; s < sizeof services / sizeof services[0]; s++) {
        const ProtobufCServiceDescriptor *sd = services[s].svc;
        for (unsigned m = 0; m < sd->n_methods; m++) {
            char method[200];
            snprintf(method, sizeof method, "/%s/%s", sd->name, sd->methods[m].name);
            const ProtobufCMessageDescriptor *in = sd->methods[m].input;
            targets ts = {0};
            collect(in, "", 0, &ts);
            methods++;
            fields += (int)ts.n;
            for (size_t t = 0; t < ts.n; t++) {
                sl_channel *c = *services[s].ch;
                if (ts.v[t].kind == T_STRING) {
                    expect_refused(c, method, in, &ts.v[t], "invalid UTF-8", not_utf8,
                                   sizeof not_utf8, 0);
                    expect_refused(c, method, in, &ts.v[t], "embedded NUL", with_nul,
                                   sizeof with_nul - 1, 0);
                    expect_refused(c, method, in, &ts.v[t], "1 MiB", big, big_len, 0);
                } else {
                    for (size_t k = 0; k < sizeof bad_instants / sizeof bad_instants[0]; k++)
                        expect_refused(c, method, in, &ts.v[t], "instant out of range", NULL, 0,
                                       bad_instants[k]);
                }
            }
            free(ts.v);
        }
    }
    free(big);
    fprintf(stderr, "bad input: %d methods, %d fields, %d requests, %d not refused as expected\n",
            methods, fields, checked, failures);
    char *after = suitet_fingerprint(S.inv.conninfo);
    bool same = strcmp(before, after) == 0;
    if (!same)
        fprintf(stderr, "the database changed during the sweep:\nbefore %s\nafter  %s\n", before,
                after);
    free(before);
    free(after);
    /* Every RPC of the suite is here (75 of the four services, Health's 2). */
    assert_true(methods >= 77);
    assert_int_equal(failures, 0);
    assert_true(same);
}

/* The partial write this check exists for: CancelOrder used to release the
 * stock hold in inventory, then fail to record the cancel on the reason's
 * bytes, leaving a PLACED order without stock that could not be paid. */
static void test_cancel_with_bad_reason_changes_nothing(void **state)
{
    (void)state;
    sl_err err;
    ProtobufCMessage *r;
    assert_int_equal(sl_test_call(S.ch[SUITET_SD], "ServiceDeskService", "PlaceOrder",
                                  &order_req("o-cancel-bad", "SKU-A", 1)->base,
                                  DESC(place_order_response), A, &r, 0, &err),
                     SL_OK);
    Shelfline__V1__CancelOrderRequest cr = SHELFLINE__V1__CANCEL_ORDER_REQUEST__INIT;
    cr.order_id = "o-cancel-bad";
    uint8_t raw[64];
    size_t n = shelfline__v1__cancel_order_request__pack(&cr, raw);
    /* reason (field 2) = "c3 28 ff", appended on the wire: protobuf-c cannot
     * hold the bytes in a C string for us. */
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(DESC(cancel_order_request), "reason");
    assert_non_null(f);
    raw[n++] = (uint8_t)(f->id << 3 | 2);
    raw[n++] = 3;
    raw[n++] = 0xc3;
    raw[n++] = 0x28;
    raw[n++] = 0xff;
    void *resp;
    size_t resp_len;
    sl_call_options o = {.timeout_ms = 10000};
    EXPECT(sl_client_unary_raw(S.ch[SUITET_SD], "/shelfline.v1.ServiceDeskService/CancelOrder", raw,
                               n, A, &resp, &resp_len, &o, &err),
           SL_INVALID_ARGUMENT, err, "reason must be valid UTF-8");
    /* The message quotes no raw bytes: it is UTF-8 itself. */
    assert_null(strchr(err.msg, '\xff'));
    assert_int_equal(invt_sql_int(S.inv.conninfo, "SELECT count(*) FROM inventory.reservation"
                                                  " WHERE id = 'o-cancel-bad' AND status = 'HELD'"),
                     1);
    assert_int_equal(invt_sql_int(S.inv.conninfo, "SELECT count(*) FROM service_desk.orders"
                                                  " WHERE order_id = 'o-cancel-bad'"
                                                  " AND status = 'PLACED'"),
                     1);
    Shelfline__V1__ConfirmPaymentRequest pay = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
    pay.order_id = "o-cancel-bad";
    Shelfline__V1__Order *paid;
    assert_int_equal(sl_test_call(S.ch[SUITET_SD], "ServiceDeskService", "ConfirmPayment",
                                  &pay.base, DESC(order), A, &paid, 0, &err),
                     SL_OK);
    assert_int_equal(paid->status, SHELFLINE__V1__ORDER_STATUS__ORDER_PAID);
    sl_arena_reset(A);
}

/* Two reservation ids that differ only after a NUL are two ids, not one
 * that protobuf-c would cut short: both are refused, neither is stored. */
static void test_nul_in_a_key_is_refused_not_truncated(void **state)
{
    (void)state;
    static const char id[] = "ORDER-7\0shop-a";
    Shelfline__V1__ReserveRequest rq = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    uint8_t raw[128];
    size_t n = shelfline__v1__reserve_request__pack(&rq, raw);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(DESC(reserve_request), "reservation_id");
    assert_non_null(f);
    raw[n++] = (uint8_t)(f->id << 3 | 2);
    raw[n++] = (uint8_t)(sizeof id - 1);
    memcpy(raw + n, id, sizeof id - 1);
    n += sizeof id - 1;
    void *resp;
    size_t resp_len;
    sl_err err;
    sl_call_options o = {.timeout_ms = 10000};
    EXPECT(sl_client_unary_raw(inv_ch, "/shelfline.v1.InventoryService/Reserve", raw, n, A, &resp,
                               &resp_len, &o, &err),
           SL_INVALID_ARGUMENT, err, "reservation_id must not contain a NUL character");
    assert_int_equal(invt_sql_int(S.inv.conninfo,
                                  "SELECT count(*) FROM inventory.reservation WHERE id LIKE"
                                  " 'ORDER-7%'"),
                     0);
    sl_arena_reset(A);
}

/* A cursor past the newest notification is OUT_OF_RANGE, as WatchEvents
 * answers for events; a cursor at the newest follows live ones. */
static void test_watch_notifications_cursor_beyond_newest(void **state)
{
    (void)state;
    long long newest = invt_sql_int(
        S.inv.conninfo, "SELECT coalesce(max(notification_id), 0) FROM service_desk.notification");
    assert_true(newest >= 0);
    Shelfline__V1__WatchNotificationsRequest w = SHELFLINE__V1__WATCH_NOTIFICATIONS_REQUEST__INIT;
    w.after_id = newest + 1000;
    sl_client_stream *st;
    sl_err err;
    sl_call_options o = {.timeout_ms = 10000};
    assert_int_equal(sl_client_stream_open(S.ch[SUITET_SD],
                                           "/shelfline.v1.ServiceDeskService/WatchNotifications",
                                           &w.base, DESC(notification), &o, &st, &err),
                     SL_OK);
    ProtobufCMessage *m = NULL;
    bool timed_out = false;
    EXPECT(sl_client_stream_next(st, A, &m, 5000, &timed_out, &err), SL_OUT_OF_RANGE, err,
           "beyond the newest notification");
    sl_client_stream_close(st);

    Shelfline__V1__WatchEventsRequest we = SHELFLINE__V1__WATCH_EVENTS_REQUEST__INIT;
    we.after_id = 1000000;
    assert_int_equal(sl_client_stream_open(S.ch[SUITET_SD],
                                           "/shelfline.v1.ServiceDeskService/WatchEvents", &we.base,
                                           DESC(event), &o, &st, &err),
                     SL_OK);
    EXPECT(sl_client_stream_next(st, A, &m, 5000, &timed_out, &err), SL_OUT_OF_RANGE, err,
           "beyond the newest event");
    sl_client_stream_close(st);

    /* At the newest: the stream stays open, nothing to send yet. */
    w.after_id = newest;
    assert_int_equal(sl_client_stream_open(S.ch[SUITET_SD],
                                           "/shelfline.v1.ServiceDeskService/WatchNotifications",
                                           &w.base, DESC(notification), &o, &st, &err),
                     SL_OK);
    assert_int_equal(sl_client_stream_next(st, A, &m, 500, &timed_out, &err), SL_OK);
    assert_true(timed_out);
    sl_client_stream_close(st);
    sl_arena_reset(A);
}

int main(void)
{
    sl_log_init("test_bad_input", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rpc_refuses_bad_fields),
        cmocka_unit_test(test_cancel_with_bad_reason_changes_nothing),
        cmocka_unit_test(test_nul_in_a_key_is_refused_not_truncated),
        cmocka_unit_test(test_watch_notifications_cursor_beyond_newest),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
