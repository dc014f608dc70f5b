/*
 * Integration tests of the service-desk service with real processes: one
 * shelfline-inventory and two shelfline-service-desk replicas on a fresh
 * database, over loopback gRPC.
 *
 *  - PlaceOrder: happy path, replay, conflicting reuse of an order id, an
 *    attempt whose reservation was made but never recorded (converges on
 *    retry), and a timeout between service-desk and inventory (inventory
 *    stopped with SIGSTOP under a short deadline, then a retry): exactly
 *    one reservation and one ORDER_PLACED event each time;
 *  - the ETA rules end to end (cut-off before/after in the warehouse's
 *    zone, a Friday evening order shipping on Monday, a backorder waiting
 *    for its inbound plus handling) and QuoteEta's three answers, with
 *    quantities too (one warehouse, split, backordered, not enough);
 *  - payment, cancellation and shipment steps with their events;
 *  - INBOUND_DELAYED with N waiting orders, twice, moved in batches of
 *    SHELFLINE_SD_DELAY_BATCH orders per transaction: both replicas are
 *    SIGKILLed between two batches of the first slip (whole batches
 *    committed, the cursor not moved) and restarted: N ETAs move per slip,
 *    N DELAY notifications per slip, compensations per policy
 *    (2:500,5:1500), nothing twice; the second slip's first and last
 *    notices are timed from DelayInbound's answer;
 *  - bad input for every RPC: the status, the field named, nothing written;
 *  - the ETA follows the order's life: shipped, the carrier's promised
 *    date; a later one is a carrier delay (one DELAY notice per slip,
 *    however often it is repeated); delivered, the delivery date; a
 *    backorder whose inbound came in (INBOUND_RECEIVED) ships after the
 *    receipt and no longer slides with the clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "grpc/health/v1/health.pb-c.h"
#include "inv_test.h"
#include "shelfline/v1/common.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_db.h"
#include "sl_health.h"
#include "sl_test.h"

/* Orders waiting on the delayed inbound, and orders per delay batch
 * (service-desk's SHELFLINE_SD_DELAY_BATCH); the environment variables
 * SDT_DELAY_ORDERS and SDT_DELAY_BATCH override them to measure. */
#ifndef SDT_DELAY_ORDERS
#define SDT_DELAY_ORDERS 500
#endif
#ifndef SDT_DELAY_BATCH
#define SDT_DELAY_BATCH 50
#endif

static invt_svc inv;
static sl_channel *ich;
static pid_t sd_pid[2];
static int sd_port[2];
static int sd_http[2]; /* the replicas' /metrics */
static sl_channel *sd_ch[2];
static sl_arena *A;
static int cv_port;

/* A positive integer from the environment, or def. */
static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    char *end;
    long n = v != NULL ? strtol(v, &end, 10) : 0;
    return v != NULL && *end == '\0' && n > 0 && n < 1000000 ? (int)n : def;
}

#define DESC(x) &shelfline__v1__##x##__descriptor
#define DAY INT64_C(86400000)

/* ---- processes ---- */

static pid_t sd_spawn(int i)
{
    char e[13][640];
    char *envp[14];
    int n = 0;
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", inv.conninfo);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LISTEN=127.0.0.1:%d", sd_port[i]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_HTTP_LISTEN=127.0.0.1:%d", sd_http[i]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", inv.port[0]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LOG_LEVEL=%s",
             getenv("SDT_LOG_LEVEL") ? getenv("SDT_LOG_LEVEL") : "error");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DRAIN_GRACE=5s");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_SD_COMP_TIERS=2:500,5:1500");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_SD_BIS_INTERVAL=300ms");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_SD_BIS_POLL=100ms");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_SD_DELAY_BATCH=%d",
             env_int("SDT_DELAY_BATCH", SDT_DELAY_BATCH));
    /* no customer-value here: a port nobody listens on, so tiers are
     * "unknown" whatever else runs on this machine */
    snprintf(e[n++], sizeof e[0], "SHELFLINE_CUSTOMER_VALUE_ADDR=127.0.0.1:%d", cv_port);
    for (int k = 0; k < n; k++)
        envp[k] = e[k];
    envp[n] = NULL;
    char *bin = sl_test_bin("shelfline-service-desk");
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, envp);
    free(bin);
    return pid;
}

static int sd_wait(int i)
{
    if (!sl_test_wait_child_port(sd_pid[i], sd_port[i], 30000))
        return -1;
    if (sd_ch[i] == NULL) {
        char t[64];
        snprintf(t, sizeof t, "127.0.0.1:%d", sd_port[i]);
        if (sl_channel_create(t, NULL, &sd_ch[i], NULL) != SL_OK)
            return -1;
    }
    for (int k = 0; k < 100; k++) {
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        req.service = "shelfline.v1.ServiceDeskService";
        ProtobufCMessage *resp;
        sl_call_options o = {.timeout_ms = 2000};
        if (sl_client_unary(sd_ch[i], "/grpc.health.v1.Health/Check", &req.base,
                            &grpc__health__v1__health_check_response__descriptor, A, &resp, &o,
                            NULL) == SL_OK &&
            (int)((Grpc__Health__V1__HealthCheckResponse *)resp)->status == (int)SL_HEALTH_SERVING)
            return 0;
        invt_sleep_ms(100);
    }
    return -1;
}

static sl_status sd(int i, const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                    void *out, int64_t timeout_ms, sl_err *err)
{
    return sl_test_call(sd_ch[i], "ServiceDeskService", method, req, d, A, out, timeout_ms, err);
}

static long long q(const char *sql)
{
    return invt_sql_int(inv.conninfo, sql);
}

static long long qf(const char *fmt, const char *a1)
{
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, a1, a1, a1);
    return q(sql);
}

static int group_setup(void **state)
{
    (void)state;
    A = sl_arena_create(0);
    const char *env[] = {"SHELFLINE_INVENTORY_REAP_INTERVAL=200ms", NULL};
    if (invt_start(&inv, "sd_orders", 1, env) != 0)
        return -1;
    ich = inv.ch[0];
    const char *skus[] = {"SKU-A",  "SKU-B", "SKU-C",    "SKU-D",    "SKU-T",  "SKU-P",
                          "SKU-E",  "SKU-S", "SKU-9001", "SKU-9002", "SKU-W0", "SKU-W1",
                          "SKU-W2", "SKU-M", "SKU-L",    "SKU-H",    "SKU-Q"};
    if (invt_seed(ich, skus, sizeof skus / sizeof skus[0]) != 0 ||
        invt_stock(ich, "SKU-A", "W-NEAR", 1000) != 0 ||
        invt_stock(ich, "SKU-T", "W-NEAR", 1000) != 0 ||
        invt_stock(ich, "SKU-P", "W-NEAR", 1000) != 0 ||
        invt_stock(ich, "SKU-E", "W-NEAR", 1000) != 0 ||
        invt_stock(ich, "SKU-9002", "W-NEAR", 50) != 0)
        return -1;
    cv_port = sl_test_free_port();
    for (int i = 0; i < 2; i++) {
        sd_port[i] = sl_test_free_port();
        sd_http[i] = sl_test_free_port();
        if ((sd_pid[i] = sd_spawn(i)) <= 0 || sd_wait(i) != 0)
            return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        if (sd_pid[i] > 0) {
            int s = sl_test_stop(sd_pid[i], SIGTERM, 30000);
            if (s < 0 || !WIFEXITED(s) || WEXITSTATUS(s) != 0)
                bad++;
        }
        sl_channel_destroy(sd_ch[i]);
    }
    bad += invt_stop(&inv);
    sl_arena_destroy(A);
    return bad == 0 ? 0 : -1;
}

/* ---- builders ---- */

static Shelfline__V1__PlaceOrderRequest *order_req(const char *id, const char *sku, int64_t qty,
                                                   int64_t placed_at, bool backorder)
{
    Shelfline__V1__PlaceOrderRequest *r = sl_arena_alloc(A, sizeof *r);
    Shelfline__V1__OrderLineRequest *l = sl_arena_alloc(A, sizeof *l);
    Shelfline__V1__OrderLineRequest **lp = sl_arena_alloc(A, sizeof *lp);
    shelfline__v1__place_order_request__init(r);
    shelfline__v1__order_line_request__init(l);
    l->sku = (char *)sku;
    l->qty = qty;
    *lp = l;
    r->order_id = sl_arena_strdup(A, id);
    r->customer_id = "cust-1";
    r->region = "EAST";
    r->lines = lp;
    r->n_lines = 1;
    r->placed_at_ms = placed_at;
    r->allow_backorder = backorder;
    return r;
}

static long long reservations(const char *id)
{
    return qf("SELECT count(*) FROM inventory.reservation WHERE id = '%s'", id);
}

static long long placed_events(const char *id)
{
    return qf(
        "SELECT count(*) FROM service_desk.outbox WHERE topic = 'ORDER_PLACED' AND key = '%s'", id);
}

/* ---- metrics ---- */

/* One series summed over both replicas' scrapes (an absent one is 0):
 * the counters count where the work was done, on either replica. */
static double sd_metric(const char *series)
{
    double sum = 0;
    for (int i = 0; i < 2; i++) {
        char *r = sl_test_http_get(sd_http[i], "/metrics");
        assert_non_null(r);
        double v = sl_test_metric(r, series);
        free(r);
        if (!isnan(v))
            sum += v;
    }
    return sum;
}

/* ---- orders ---- */

static void test_place_happy_and_replay(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__PlaceOrderResponse *r;
    Shelfline__V1__PlaceOrderRequest *req = order_req("o-happy", "SKU-A", 2, 0, false);
    assert_int_equal(sd(0, "PlaceOrder", req, DESC(place_order_response), &r, 0, &err), SL_OK);
    assert_false(r->replayed);
    assert_string_equal(r->order->order_id, "o-happy");
    assert_int_equal(r->order->status, SHELFLINE__V1__ORDER_STATUS__ORDER_PLACED);
    assert_int_equal(r->order->n_lines, 1);
    assert_int_equal(r->order->lines[0]->n_allocations, 1);
    assert_string_equal(r->order->lines[0]->allocations[0]->warehouse_id, "W-NEAR");
    assert_non_null(r->order->promised);
    assert_int_equal(r->order->promised->confidence,
                     SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_HIGH);
    /* the same request on the other replica: replayed, nothing new */
    assert_int_equal(sd(1, "PlaceOrder", req, DESC(place_order_response), &r, 0, &err), SL_OK);
    assert_true(r->replayed);
    assert_int_equal(reservations("o-happy"), 1);
    assert_int_equal(placed_events("o-happy"), 1);
    /* the same id with another request */
    req->lines[0]->qty = 3;
    assert_int_equal(sd(0, "PlaceOrder", req, DESC(place_order_response), &r, 0, &err),
                     SL_ALREADY_EXISTS);
    assert_non_null(strstr(err.msg, "order_id"));
    /* GetOrder and ListOrders */
    Shelfline__V1__GetOrderRequest g = SHELFLINE__V1__GET_ORDER_REQUEST__INIT;
    g.order_id = "o-happy";
    Shelfline__V1__Order *o;
    assert_int_equal(sd(1, "GetOrder", &g, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(o->lines[0]->qty, 2);
    Shelfline__V1__ListOrdersRequest lr = SHELFLINE__V1__LIST_ORDERS_REQUEST__INIT;
    lr.customer_id = "cust-1";
    Shelfline__V1__ListOrdersResponse *ls;
    assert_int_equal(sd(0, "ListOrders", &lr, DESC(list_orders_response), &ls, 0, &err), SL_OK);
    assert_true(ls->n_orders >= 1);
    sl_arena_reset(A);
}

/* An earlier attempt reserved and never recorded: the retry converges. */
static void test_place_converges_after_unrecorded_reserve(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__ReserveLine l = SHELFLINE__V1__RESERVE_LINE__INIT;
    l.sku = "SKU-A";
    l.qty = 4;
    Shelfline__V1__ReserveLine *lp = &l;
    Shelfline__V1__ReserveRequest rr = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    rr.reservation_id = "o-half";
    rr.customer_id = "cust-1";
    rr.region = "EAST";
    rr.lines = &lp;
    rr.n_lines = 1;
    rr.hold_ttl_ms = 3600 * 1000;
    assert_int_equal(invt_call(ich, "Reserve", &rr.base, DESC(reserve_response), A, NULL, &err),
                     SL_OK);
    Shelfline__V1__PlaceOrderResponse *r;
    Shelfline__V1__PlaceOrderRequest *req = order_req("o-half", "SKU-A", 4, 0, false);
    assert_int_equal(sd(0, "PlaceOrder", req, DESC(place_order_response), &r, 0, &err), SL_OK);
    assert_false(r->replayed);
    assert_int_equal(reservations("o-half"), 1);
    assert_int_equal(placed_events("o-half"), 1);
    sl_arena_reset(A);
}

/* ConfirmPayment or CancelOrder that changed inventory but never recorded
 * it here (deadline passed or the replica died in between, and the client
 * gave up): inventory's RESERVATION_COMMITTED / RESERVATION_RELEASED event
 * closes the order, exactly once.  Simulated by committing and releasing
 * two orders' reservations directly at inventory. */
static long long order_events(const char *topic, const char *id)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM service_desk.outbox WHERE topic = '%s' AND key = '%%s'", topic);
    return qf(q, id);
}

static bool wait_status(const char *id, const char *status, int64_t timeout_ms)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT count(*) FROM service_desk.orders WHERE order_id = '%%s' AND status = '%s'",
             status);
    for (int64_t waited = 0; waited <= timeout_ms; waited += 20) {
        if (qf(q, id) == 1)
            return true;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void test_unrecorded_commit_and_release_converge(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__PlaceOrderResponse *r;
    assert_int_equal(sd(0, "PlaceOrder", order_req("o-paid-behind", "SKU-A", 1, 0, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    assert_int_equal(sd(1, "PlaceOrder", order_req("o-rel-behind", "SKU-A", 1, 0, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    Shelfline__V1__CommitRequest c = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    c.reservation_id = "o-paid-behind";
    assert_int_equal(invt_call(ich, "Commit", &c.base, DESC(reservation), A, NULL, &err), SL_OK);
    Shelfline__V1__ReleaseRequest rl = SHELFLINE__V1__RELEASE_REQUEST__INIT;
    rl.reservation_id = "o-rel-behind";
    assert_int_equal(invt_call(ich, "Release", &rl.base, DESC(reservation), A, NULL, &err), SL_OK);
    assert_true(wait_status("o-paid-behind", "PAID", 10000));
    assert_true(wait_status("o-rel-behind", "CANCELLED", 10000));
    assert_int_equal(order_events("ORDER_PAID", "o-paid-behind"), 1);
    assert_int_equal(order_events("ORDER_CANCELLED", "o-rel-behind"), 1);
    /* The client's retry now finds them closed: answered, nothing twice. */
    Shelfline__V1__ConfirmPaymentRequest cp = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
    cp.order_id = "o-paid-behind";
    Shelfline__V1__Order *o;
    assert_int_equal(sd(1, "ConfirmPayment", &cp, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(o->status, SHELFLINE__V1__ORDER_STATUS__ORDER_PAID);
    Shelfline__V1__CancelOrderRequest cc = SHELFLINE__V1__CANCEL_ORDER_REQUEST__INIT;
    cc.order_id = "o-rel-behind";
    assert_int_equal(sd(0, "CancelOrder", &cc, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(o->status, SHELFLINE__V1__ORDER_STATUS__ORDER_CANCELLED);
    assert_int_equal(order_events("ORDER_PAID", "o-paid-behind"), 1);
    assert_int_equal(order_events("ORDER_CANCELLED", "o-rel-behind"), 1);
    /* And the usual path still publishes exactly once, whichever of the
     * handler and the event comes first. */
    assert_int_equal(sd(0, "PlaceOrder", order_req("o-paid-front", "SKU-A", 1, 0, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    cp.order_id = "o-paid-front";
    assert_int_equal(sd(0, "ConfirmPayment", &cp, DESC(order), &o, 0, &err), SL_OK);
    assert_true(wait_status("o-paid-front", "PAID", 1000));
    struct timespec ts = {0, 500 * 1000000};
    nanosleep(&ts, NULL); /* the event has been applied by now */
    assert_int_equal(order_events("ORDER_PAID", "o-paid-front"), 1);
    sl_arena_reset(A);
}

/* Not enough stock: PlaceOrder fails like inventory's Reserve, with its
 * per-line shortfall passed on in grpc-status-details-bin, and nothing is
 * recorded. */
static void test_place_short_with_details(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__PlaceOrderRequest *req = order_req("o-short", "SKU-A", 100000, 0, false);
    const uint8_t *det = NULL, *v = NULL;
    size_t det_len = 0, v_len = 0;
    sl_call_options o = {
        .timeout_ms = 30000, .status_details = &det, .status_details_len = &det_len};
    ProtobufCMessage *resp;
    assert_int_equal(sl_client_unary(sd_ch[0], "/shelfline.v1.ServiceDeskService/PlaceOrder",
                                     &req->base, DESC(place_order_response), A, &resp, &o, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "SKU-A"));
    assert_true(sl_client_status_detail(
        det, det_len, "type.googleapis.com/shelfline.v1.ReserveShortfall", A, &v, &v_len));
    Shelfline__V1__ReserveShortfall *sf = shelfline__v1__reserve_shortfall__unpack(NULL, v_len, v);
    assert_non_null(sf);
    assert_int_equal(sf->n_lines, 1);
    assert_string_equal(sf->lines[0]->sku, "SKU-A");
    assert_int_equal(sf->lines[0]->requested, 100000);
    assert_true(sf->lines[0]->available < 100000);
    shelfline__v1__reserve_shortfall__free_unpacked(sf, NULL);
    assert_int_equal(q("SELECT count(*) FROM service_desk.orders WHERE order_id = 'o-short'"), 0);
    sl_arena_reset(A);
}

/* Inventory stops answering under a short deadline; the retry makes
 * exactly one reservation. */
static void test_place_timeout_then_retry(void **state)
{
    (void)state;
    sl_err err;
    long long before = q("SELECT coalesce(sum(reserved), 0) FROM inventory.stock"
                         " WHERE sku = 'SKU-T'");
    Shelfline__V1__PlaceOrderRequest *req = order_req("o-timeout", "SKU-T", 5, 0, false);
    kill(inv.pid[0], SIGSTOP);
    sl_status st = sd(0, "PlaceOrder", req, DESC(place_order_response), NULL, 400, &err);
    kill(inv.pid[0], SIGCONT);
    /* Normally DEADLINE_EXCEEDED; what matters is that it did not succeed
     * and that the retry below reserves exactly once. */
    fprintf(stderr, "PlaceOrder with inventory stopped: %s \"%s\"\n", sl_status_name(st), err.msg);
    assert_int_not_equal(st, SL_OK);
    assert_int_equal(q("SELECT count(*) FROM service_desk.orders WHERE order_id = 'o-timeout'"), 0);
    Shelfline__V1__PlaceOrderResponse *r;
    for (int k = 0; k < 20; k++) {
        st = sd(1, "PlaceOrder", req, DESC(place_order_response), &r, 0, &err);
        if (st != SL_UNAVAILABLE)
            break;
        invt_sleep_ms(200);
    }
    assert_int_equal(st, SL_OK);
    assert_int_equal(reservations("o-timeout"), 1);
    assert_int_equal(placed_events("o-timeout"), 1);
    long long after = q("SELECT coalesce(sum(reserved), 0) FROM inventory.stock"
                        " WHERE sku = 'SKU-T'");
    assert_int_equal(after - before, 5);
    assert_int_equal(invt_violations(ich), 0);
    sl_arena_reset(A);
}

static void test_pay_ship_deliver_cancel(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__PlaceOrderResponse *r;
    assert_int_equal(sd(0, "PlaceOrder", order_req("o-life", "SKU-P", 1, 0, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    assert_int_equal(sd(0, "PlaceOrder", order_req("o-cancel", "SKU-P", 1, 0, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    Shelfline__V1__UpdateShipmentRequest us = SHELFLINE__V1__UPDATE_SHIPMENT_REQUEST__INIT;
    us.order_id = "o-life";
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_PICKED;
    Shelfline__V1__Order *o;
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err),
                     SL_FAILED_PRECONDITION); /* not paid */
    Shelfline__V1__ConfirmPaymentRequest cp = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
    cp.order_id = "o-life";
    assert_int_equal(sd(0, "ConfirmPayment", &cp, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(o->status, SHELFLINE__V1__ORDER_STATUS__ORDER_PAID);
    assert_int_equal(sd(1, "ConfirmPayment", &cp, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(qf("SELECT count(*) FROM service_desk.outbox WHERE topic = 'ORDER_PAID'"
                        " AND key = '%s'",
                        "o-life"),
                     1);
    assert_int_equal(qf("SELECT count(*) FROM inventory.reservation WHERE id = '%s'"
                        " AND status = 'COMMITTED'",
                        "o-life"),
                     1);
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_OK);
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED;
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "carrier"));
    us.carrier = "UPS";
    us.tracking = "1Z999";
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_OK);
    assert_string_equal(o->tracking, "1Z999");
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_DELIVERED;
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(sd(1, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(o->status, SHELFLINE__V1__ORDER_STATUS__ORDER_DELIVERED);
    assert_int_equal(qf("SELECT count(*) FROM service_desk.outbox WHERE topic = 'ORDER_DELIVERED'"
                        " AND key = '%s'",
                        "o-life"),
                     1);
    Shelfline__V1__CancelOrderRequest cr = SHELFLINE__V1__CANCEL_ORDER_REQUEST__INIT;
    cr.order_id = "o-life";
    assert_int_equal(sd(0, "CancelOrder", &cr, DESC(order), &o, 0, &err), SL_FAILED_PRECONDITION);
    cr.order_id = "o-cancel";
    assert_int_equal(sd(0, "CancelOrder", &cr, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(o->status, SHELFLINE__V1__ORDER_STATUS__ORDER_CANCELLED);
    assert_int_equal(sd(1, "CancelOrder", &cr, DESC(order), &o, 0, &err), SL_OK);
    assert_int_equal(qf("SELECT count(*) FROM inventory.reservation WHERE id = '%s'"
                        " AND status = 'RELEASED'",
                        "o-cancel"),
                     1);
    assert_int_equal(qf("SELECT count(*) FROM service_desk.outbox WHERE topic = 'ORDER_CANCELLED'"
                        " AND key = '%s'",
                        "o-cancel"),
                     1);
    cp.order_id = "o-cancel";
    assert_int_equal(sd(0, "ConfirmPayment", &cp, DESC(order), &o, 0, &err),
                     SL_FAILED_PRECONDITION);
    /* Audit: each order's last state change names who made it (these
     * services run with SHELFLINE_AUTH=none: "anonymous"), with the call's
     * request id and trace id. */
    assert_int_equal(qf("SELECT count(*) FROM service_desk.orders WHERE order_id IN ('%s', "
                        "'o-cancel') AND actor = 'anonymous' AND request_id <> '' AND "
                        "length(trace_id) = 32",
                        "o-life"),
                     2);
    sl_arena_reset(A);
}

/* ---- returns ---- */

static void test_returns(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__ReturnLine l = SHELFLINE__V1__RETURN_LINE__INIT;
    Shelfline__V1__ReturnLine *lp = &l;
    l.sku = "SKU-P";
    l.qty = 2;
    Shelfline__V1__CreateReturnRequest cr = SHELFLINE__V1__CREATE_RETURN_REQUEST__INIT;
    cr.rma_id = "rma-1";
    cr.order_id = "o-life";
    cr.lines = &lp;
    cr.n_lines = 1;
    cr.reason = "too small";
    Shelfline__V1__Return *rt;
    assert_int_equal(sd(0, "CreateReturn", &cr, DESC(return ), &rt, 0, &err),
                     SL_FAILED_PRECONDITION); /* only 1 bought */
    assert_non_null(strstr(err.msg, "lines[0].qty"));
    l.qty = 1;
    assert_int_equal(sd(0, "CreateReturn", &cr, DESC(return ), &rt, 0, &err), SL_OK);
    assert_int_equal(rt->status, SHELFLINE__V1__RETURN_STATUS__RETURN_REQUESTED);
    assert_int_equal(sd(1, "CreateReturn", &cr, DESC(return ), &rt, 0, &err), SL_OK);
    cr.reason = "changed my mind";
    assert_int_equal(sd(0, "CreateReturn", &cr, DESC(return ), &rt, 0, &err), SL_ALREADY_EXISTS);
    cr.rma_id = "rma-2"; /* nothing left to return */
    assert_int_equal(sd(0, "CreateReturn", &cr, DESC(return ), &rt, 0, &err),
                     SL_FAILED_PRECONDITION);
    cr.order_id = "o-happy"; /* not delivered */
    assert_int_equal(sd(0, "CreateReturn", &cr, DESC(return ), &rt, 0, &err),
                     SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "not delivered"));

    long long before = q("SELECT on_hand FROM inventory.stock WHERE sku = 'SKU-P'"
                         " AND warehouse_id = 'W-NEAR'");
    Shelfline__V1__ReceiveReturnRequest rr = SHELFLINE__V1__RECEIVE_RETURN_REQUEST__INIT;
    rr.rma_id = "rma-1";
    rr.condition = SHELFLINE__V1__RETURN_CONDITION__RETURN_RESELLABLE;
    assert_int_equal(sd(0, "ReceiveReturn", &rr, DESC(return ), &rt, 0, &err), SL_OK);
    assert_int_equal(rt->status, SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED);
    assert_true(rt->restocked);
    assert_int_equal(rt->refund->minor_units, 1000);
    assert_int_equal(sd(1, "ReceiveReturn", &rr, DESC(return ), &rt, 0, &err), SL_OK);
    assert_int_equal(q("SELECT on_hand FROM inventory.stock WHERE sku = 'SKU-P'"
                       " AND warehouse_id = 'W-NEAR'"),
                     before + 1);
    assert_int_equal(q("SELECT count(*) FROM inventory.ledger WHERE reference = 'return:rma-1'"),
                     1);
    assert_int_equal(q("SELECT count(*) FROM service_desk.outbox WHERE topic = 'RETURN_RECEIVED'"),
                     1);
    assert_int_equal(invt_violations(ich), 0);
    sl_arena_reset(A);
}

/* ---- ETAs ---- */

/* 2026-11-18 is a Wednesday; warehouses are on America/New_York (UTC-5 in
 * November) with a 16:00 cut-off; W-NEAR -> EAST is p50 1 / p90 2 days.
 * These instants only need to lie in the past of the run: PlaceOrder takes
 * placed_at_ms from 2000-01-01 to a day ahead and QuoteEta at_ms from 2000
 * to a year ahead, and an in-stock line's promise depends only on when the
 * order was placed (tests/timeshift/run.sh runs this a year later). */
#define WED_10_NY INT64_C(1795014000000) /* 2026-11-18T15:00:00Z */
#define WED_17_NY INT64_C(1795039200000) /* 2026-11-18T22:00:00Z */
#define FRI_17_NY INT64_C(1795212000000) /* 2026-11-20T22:00:00Z */

/* The backordered order's promised dates (test_eta_rules), which the
 * where-is-my-order answer quotes (test_tickets). */
static char back_ship[11], back_p50[11], back_p90[11];

/* Days since the epoch of the first Tuesday at least 14 days from now
 * (1970-01-01 was a Thursday). */
static int64_t backorder_tuesday(void)
{
    int64_t day = (int64_t)time(NULL) / 86400 + 14;
    while ((day + 4) % 7 != 2)
        day++;
    return day;
}

static void day_string(int64_t day, char out[11])
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static void expect_promise(const char *id, int64_t placed, const char *ship, const char *p50,
                           const char *p90)
{
    sl_err err;
    Shelfline__V1__PlaceOrderResponse *r;
    assert_int_equal(sd(0, "PlaceOrder", order_req(id, "SKU-E", 1, placed, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    assert_string_equal(r->order->promised->ship_date, ship);
    assert_string_equal(r->order->promised->p50_date, p50);
    assert_string_equal(r->order->promised->p90_date, p90);
    Shelfline__V1__GetOrderEtaRequest g = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
    g.order_id = (char *)id;
    Shelfline__V1__OrderEta *e;
    assert_int_equal(sd(1, "GetOrderEta", &g, DESC(order_eta), &e, 0, &err), SL_OK);
    assert_string_equal(e->current->p50_date, p50);
    assert_false(e->moved);
    assert_int_equal(e->n_lines, 1);
    assert_non_null(strstr(e->lines[0]->explanation, "W-NEAR"));
}

static void test_eta_rules(void **state)
{
    (void)state;
    expect_promise("o-eta-before", WED_10_NY, "2026-11-18", "2026-11-19", "2026-11-20");
    expect_promise("o-eta-after", WED_17_NY, "2026-11-19", "2026-11-20", "2026-11-21");
    expect_promise("o-eta-friday", FRI_17_NY, "2026-11-23", "2026-11-24", "2026-11-25");

    /* a backorder: inbound expected on a Tuesday at 12:00 UTC (07:00 or
     * 08:00 in New York) two to three weeks from now at W-NEAR, handling 1
     * shipping day -> ships Wednesday, p50 Thursday, p90 Friday.  Relative
     * to the clock, not a fixed date: a fixed one becomes overdue the day it
     * passes, and the ETA then rightly follows the overdue rule. */
    sl_err err;
    int64_t tuesday = backorder_tuesday();
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "IN-ETA";
    ci.sku = "SKU-B";
    ci.warehouse_id = "W-NEAR";
    ci.qty = 100;
    ci.expected_at_ms = tuesday * 86400000 + 12 * 3600000;
    day_string(tuesday + 1, back_ship);
    day_string(tuesday + 2, back_p50);
    day_string(tuesday + 3, back_p90);
    assert_int_equal(invt_call(ich, "CreateInbound", &ci.base, DESC(inbound), A, NULL, &err),
                     SL_OK);
    Shelfline__V1__PlaceOrderResponse *r;
    assert_int_equal(sd(0, "PlaceOrder", order_req("o-eta-back", "SKU-B", 2, 0, true),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    assert_string_equal(r->order->lines[0]->allocations[0]->inbound_id, "IN-ETA");
    assert_string_equal(r->order->promised->ship_date, back_ship);
    assert_string_equal(r->order->promised->p50_date, back_p50);
    assert_string_equal(r->order->promised->p90_date, back_p90);
    assert_int_equal(r->order->promised->confidence,
                     SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_MEDIUM);
    /* without backorder: short */
    assert_int_equal(sd(0, "PlaceOrder", order_req("o-eta-short", "SKU-B", 2, 0, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_FAILED_PRECONDITION);
    assert_int_equal(q("SELECT count(*) FROM service_desk.orders WHERE order_id = 'o-eta-short'"),
                     0);

    /* QuoteEta: in stock, backorder, out of stock */
    char *skus[] = {"SKU-A", "SKU-B", "SKU-C"};
    Shelfline__V1__QuoteEtaRequest qr = SHELFLINE__V1__QUOTE_ETA_REQUEST__INIT;
    qr.region = "EAST";
    qr.skus = skus;
    qr.n_skus = 3;
    qr.at_ms = WED_10_NY;
    Shelfline__V1__QuoteEtaResponse *qa;
    assert_int_equal(sd(1, "QuoteEta", &qr, DESC(quote_eta_response), &qa, 0, &err), SL_OK);
    assert_int_equal(qa->n_quotes, 3);
    assert_int_equal(qa->quotes[0]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK);
    assert_string_equal(qa->quotes[0]->eta->p50_date, "2026-11-19");
    assert_int_equal(qa->quotes[1]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_BACKORDER);
    assert_string_equal(qa->quotes[1]->eta->p50_date, back_p50);
    assert_int_equal(qa->quotes[2]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_OUT_OF_STOCK);
    assert_null(qa->quotes[2]->eta);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(qa->quotes[i]->qty, 1);

    /* QuoteEta with quantities, as an order line of that many units would
     * be had: SKU-C 3 at W-NEAR (EAST p50 1 day), 4 at W-FAR (5 days), 10
     * on an inbound to W-NEAR on the backorder Tuesday */
    assert_int_equal(invt_stock(ich, "SKU-C", "W-NEAR", 3), 0);
    assert_int_equal(invt_stock(ich, "SKU-C", "W-FAR", 4), 0);
    ci.inbound_id = "IN-QTY";
    ci.sku = "SKU-C";
    ci.qty = 10;
    assert_int_equal(invt_call(ich, "CreateInbound", &ci.base, DESC(inbound), A, NULL, &err),
                     SL_OK);
    char *c5[] = {"SKU-C", "SKU-C", "SKU-C", "SKU-C", "SKU-C"};
    int64_t qty[] = {0, 3, 5, 17, 18};
    qr.skus = c5;
    qr.n_skus = 5;
    qr.quantities = qty;
    qr.n_quantities = 5;
    assert_int_equal(sd(0, "QuoteEta", &qr, DESC(quote_eta_response), &qa, 0, &err), SL_OK);
    assert_int_equal(qa->n_quotes, 5);
    /* 0 is 1: the nearest warehouse with stock, as without quantities */
    assert_int_equal(qa->quotes[0]->qty, 1);
    assert_int_equal(qa->quotes[0]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK);
    assert_string_equal(qa->quotes[0]->warehouse_id, "W-NEAR");
    assert_string_equal(qa->quotes[0]->eta->p50_date, "2026-11-19");
    /* 3: still all from W-NEAR */
    assert_int_equal(qa->quotes[1]->qty, 3);
    assert_string_equal(qa->quotes[1]->warehouse_id, "W-NEAR");
    assert_string_equal(qa->quotes[1]->eta->p50_date, "2026-11-19");
    /* 5: 3 from W-NEAR and 2 from W-FAR; the line arrives with its later
     * part */
    assert_int_equal(qa->quotes[2]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK);
    assert_string_equal(qa->quotes[2]->warehouse_id, "W-FAR");
    assert_true(strcmp(qa->quotes[2]->eta->p50_date, "2026-11-19") > 0);
    assert_non_null(strstr(qa->quotes[2]->explanation, "W-FAR"));
    /* 17: the 7 in stock and 10 awaited: a backorder on IN-QTY */
    assert_int_equal(qa->quotes[3]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_BACKORDER);
    assert_string_equal(qa->quotes[3]->warehouse_id, "W-NEAR");
    assert_string_equal(qa->quotes[3]->eta->p50_date, back_p50);
    /* 18: more than the region can have */
    assert_int_equal(qa->quotes[4]->status, SHELFLINE__V1__QUOTE_STATUS__QUOTE_OUT_OF_STOCK);
    assert_null(qa->quotes[4]->eta);
    assert_int_equal(qa->quotes[4]->available, 7);
    assert_non_null(strstr(qa->quotes[4]->explanation, "not enough"));
    sl_arena_reset(A);
}

/* ---- INBOUND_DELAYED ---- */

static bool wait_count(const char *sql, long long want, int64_t timeout_ms)
{
    int64_t end = invt_now_ms() + timeout_ms;
    while (invt_now_ms() < end) {
        if (q(sql) >= want)
            return true;
        invt_sleep_ms(100);
    }
    return false;
}

static void delay_to(int64_t ms, const char *reason)
{
    sl_err err;
    Shelfline__V1__DelayInboundRequest d = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    d.inbound_id = "IN-D";
    d.new_expected_at_ms = ms;
    d.reason = (char *)reason;
    assert_int_equal(invt_call(ich, "DelayInbound", &d.base, DESC(inbound), A, NULL, &err), SL_OK);
}

/* A count(*) on an open connection (fast enough to time notices by). */
static long long pg_count(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                      ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
                      : -1;
    PQclear(r);
    return v;
}

static void test_inbound_delay_many_orders(void **state)
{
    (void)state;
    const int N = env_int("SDT_DELAY_ORDERS", SDT_DELAY_ORDERS);
    sl_err err;
    int64_t now = sl_db_now_ms();
    int64_t e0 = (now / DAY + 10) * DAY + 12 * 3600 * 1000;
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "IN-D";
    ci.sku = "SKU-D";
    ci.warehouse_id = "W-NEAR";
    ci.qty = N + 10;
    ci.expected_at_ms = e0;
    assert_int_equal(invt_call(ich, "CreateInbound", &ci.base, DESC(inbound), A, NULL, &err),
                     SL_OK);
    int64_t t0 = invt_now_ms();
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "o-d-%04d", i);
        Shelfline__V1__PlaceOrderRequest *r = order_req(id, "SKU-D", 1, 0, true);
        assert_int_equal(sd(i % 2, "PlaceOrder", r, DESC(place_order_response), NULL, 0, &err),
                         SL_OK);
        sl_arena_reset(A);
    }
    fprintf(stderr, "placed %d backordered orders in %lld ms\n", N,
            (long long)(invt_now_ms() - t0));

    /* slip 1: +3 days (tier "more than 2 days": 500).  The orders move in
     * batches of B, each its own transaction, before the consumer's cursor
     * moves.  As soon as some batches have committed and not all, both
     * replicas -- the holder of the subscription is one of them -- are
     * SIGKILLed: what is left are whole batches, and after the restart the
     * event comes again and the rest is applied, each order exactly once. */
    const int B = env_int("SDT_DELAY_BATCH", SDT_DELAY_BATCH);
    const char *delays = "SELECT count(*) FROM service_desk.notification WHERE kind = 'DELAY'";
    PGconn *pc = PQconnectdb(inv.conninfo);
    assert_int_equal(PQstatus(pc), CONNECTION_OK);
    t0 = invt_now_ms();
    delay_to(e0 + 3 * DAY, "supplier strike");
    long long seen = 0;
    bool partial = false;
    for (int64_t end = invt_now_ms() + 20000; !partial && invt_now_ms() < end;) {
        seen = pg_count(pc, delays);
        partial = seen > 0 && seen < N;
        if (!partial)
            invt_sleep_ms(1);
    }
    for (int k = 0; k < 2; k++)
        sl_test_stop(sd_pid[k], SIGKILL, 5000);
    long long after_kill = pg_count(pc, delays);
    fprintf(stderr,
            "slip 1: %d orders in batches of %d; DELAY notifications seen before the kill %lld, "
            "after it %lld\n",
            N, B, seen, after_kill);
    if (B < N) {
        assert_true(partial);
        assert_true(after_kill > 0 && after_kill < N);
        assert_int_equal(after_kill % B, 0); /* whole batches */
    }
    for (int k = 0; k < 2; k++) {
        /* Fresh channels: the old ones' reconnect backoff could outlast
         * sd_wait. */
        sl_channel_destroy(sd_ch[k]);
        sd_ch[k] = NULL;
        sd_pid[k] = sd_spawn(k);
        assert_int_equal(sd_wait(k), 0);
    }
    assert_true(wait_count(delays, N, 60000));
    fprintf(stderr, "slip 1: %d delay notifications %lld ms after DelayInbound\n", N,
            (long long)(invt_now_ms() - t0));

    /* slip 2: +10 days in all (tier "more than 5 days": 1500 in total),
     * timed: the first notice and the last, from DelayInbound's answer. */
    delay_to(e0 + 10 * DAY, "port congestion");
    t0 = invt_now_ms();
    int64_t first = -1, last = -1;
    for (int64_t end = t0 + 60000; last < 0 && invt_now_ms() < end;) {
        long long c = pg_count(pc, delays);
        if (c > N && first < 0)
            first = invt_now_ms() - t0;
        if (c >= 2LL * N)
            last = invt_now_ms() - t0;
        else
            invt_sleep_ms(1);
    }
    PQfinish(pc);
    fprintf(stderr,
            "slip 2: %d orders in batches of %d: first delay notification %lld ms, last %lld ms "
            "after DelayInbound answered\n",
            N, B, (long long)first, (long long)last);
    assert_true(last >= 0);
    invt_sleep_ms(1500); /* anything extra would show up now */
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification WHERE kind = 'DELAY'"),
                     2LL * N);
    assert_int_equal(q("SELECT count(*) FROM service_desk.eta_change"), 2LL * N);
    assert_int_equal(q("SELECT count(*) FROM service_desk.compensation"), 2LL * N);
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification WHERE kind = "
                       "'COMPENSATION'"),
                     2LL * N);
    assert_int_equal(q("SELECT count(*) FROM service_desk.orders WHERE order_id LIKE 'o-d-%'"
                       " AND slips = 2 AND granted_minor = 1500"),
                     N);
    assert_int_equal(q("SELECT count(DISTINCT order_id) FROM service_desk.order_part"
                       " WHERE inbound_id = 'IN-D' AND slips = 2"),
                     N);
    /* exactly one notice and one coupon per order per slip */
    assert_int_equal(q("SELECT count(*) FROM (SELECT order_id FROM service_desk.notification"
                       " WHERE order_id LIKE 'o-d-%' GROUP BY order_id, kind"
                       " HAVING count(*) <> 2) x"),
                     0);
    assert_int_equal(q("SELECT count(*) FROM (SELECT order_id FROM service_desk.eta_change"
                       " WHERE order_id LIKE 'o-d-%' GROUP BY order_id"
                       " HAVING count(*) <> 2 OR count(DISTINCT slip_no) <> 2) x"),
                     0);

    /* the order's ETA moved, with the reason in words */
    Shelfline__V1__GetOrderEtaRequest g = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
    g.order_id = "o-d-0007";
    Shelfline__V1__OrderEta *e;
    assert_int_equal(sd(1, "GetOrderEta", &g, DESC(order_eta), &e, 0, &err), SL_OK);
    assert_true(e->moved);
    assert_int_equal(e->slips, 2);
    assert_int_equal(e->current->confidence, SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_LOW);
    assert_non_null(strstr(e->reason, "port congestion"));
    assert_true(strcmp(e->current->p50_date, e->promised->p50_date) > 0);

    /* the outbox reads and acks */
    Shelfline__V1__ListNotificationsRequest ln = SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
    ln.limit = 10;
    Shelfline__V1__ListNotificationsResponse *nl;
    assert_int_equal(
        sd(0, "ListNotifications", &ln, DESC(list_notifications_response), &nl, 0, &err), SL_OK);
    assert_int_equal(nl->n_notifications, 10);
    Shelfline__V1__AckNotificationRequest ak = SHELFLINE__V1__ACK_NOTIFICATION_REQUEST__INIT;
    ak.notification_id = nl->notifications[0]->notification_id;
    Shelfline__V1__Notification *an;
    assert_int_equal(sd(0, "AckNotification", &ak, DESC(notification), &an, 0, &err), SL_OK);
    assert_true(an->acked_at_ms > 0);
    assert_int_equal(sd(1, "AckNotification", &ak, DESC(notification), &an, 0, &err), SL_OK);
    sl_arena_reset(A);
}

/* ---- tickets ---- */

/* A Monday at 10:00 UTC one to two weeks ago: old enough that its
 * deadlines have passed, recent enough for one SLA report (at most 366
 * days) to span it and now.  (A fixed date stops fitting in the report a
 * year after it is written; tests/timeshift/run.sh found that.) */
static int64_t monday_10_utc(void)
{
    static int64_t at; /* once: a run crossing midnight keeps one Monday */
    if (at == 0) {
        int64_t day = (int64_t)time(NULL) / 86400 - 7;
        while ((day + 4) % 7 != 1) /* 1970-01-01 was a Thursday */
            day--;
        at = day * 86400000 + 10 * 3600000;
    }
    return at;
}
#define MON_10_UTC monday_10_utc()

static Shelfline__V1__Ticket *open_ticket(const char *id, const char *order, const char *subject,
                                          const char *body, int64_t at, sl_status want)
{
    sl_err err;
    Shelfline__V1__OpenTicketRequest r = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    r.ticket_id = (char *)id;
    r.customer_id = "cust-t";
    r.order_id = (char *)order;
    r.channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL;
    r.subject = (char *)subject;
    r.body = (char *)body;
    r.opened_at_ms = at;
    Shelfline__V1__Ticket *t = NULL;
    sl_status st = sd(0, "OpenTicket", &r, DESC(ticket), &t, 0, &err);
    if (st != want)
        fail_msg("OpenTicket %s: %s %s", id, sl_status_name(st), err.msg);
    return t;
}

static void test_tickets(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__Ticket *t = open_ticket(
        "t-wismo", "o-eta-back", "Where is my order?",
        "Hello, when will my order o-eta-back arrive? I have no tracking yet.", 0, SL_OK);
    assert_string_equal(t->category, "where_is_my_order");
    assert_string_equal(t->language, "en");
    assert_string_equal(t->tier, "unknown"); /* no customer-value process here */
    assert_string_equal(t->priority, "P3");
    assert_non_null(strstr(t->suggested_answer, "o-eta-back"));
    assert_non_null(strstr(t->suggested_answer, back_p50));
    assert_true(t->first_response->due_at_ms > t->opened_at_ms || t->first_response->breached);
    /* replay and conflict */
    t = open_ticket("t-wismo", "o-eta-back", "Where is my order?",
                    "Hello, when will my order o-eta-back arrive? I have no tracking yet.", 0,
                    SL_OK);
    open_ticket("t-wismo", "o-eta-back", "Where is my order?", "something else", 0,
                SL_ALREADY_EXISTS);

    /* SLA deadlines on business hours (UTC, Mon-Fri 09:00-18:00): a P3
     * opened Monday 10:00 must get its first response by 14:00 (240
     * business minutes) and be resolved by Thursday 10:00 (1620) */
    t = open_ticket("t-old", "", "Où est ma commande ?",
                    "Bonjour, je n'ai toujours pas reçu ma commande, où en est la livraison ?",
                    MON_10_UTC, SL_OK);
    assert_string_equal(t->language, "fr");
    assert_string_equal(t->priority, "P3");
    assert_int_equal(t->first_response->due_at_ms, MON_10_UTC + 4 * 3600 * 1000);
    assert_true(t->first_response->breached);
    assert_int_equal(t->resolution->due_at_ms, MON_10_UTC + 3 * 86400000); /* Thu 10:00Z */

    t = open_ticket("t-ru", "", "Товар пришёл сломанный",
                    "Здравствуйте, коробка была повреждена, товар разбит.", 0, SL_OK);
    assert_string_equal(t->language, "ru");
    assert_string_equal(t->category, "damaged_item");
    t = open_ticket("t-zh", "", "我要退款", "你好，我想退货并申请退款。", 0, SL_OK);
    assert_string_equal(t->language, "zh");
    assert_string_equal(t->category, "return_refund");

    /* an out-of-stock question: an unmet-demand signal for the SKU in the
     * customer's region, once */
    Shelfline__V1__OpenTicketRequest oo = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    oo.ticket_id = "t-oos";
    oo.customer_id = "cust-1";
    oo.channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_WEB;
    oo.subject = "Back in stock?";
    oo.body = "When will SKU-44120 be back in stock? It has been sold out for weeks.";
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sd(k, "OpenTicket", &oo, DESC(ticket), &t, 0, &err), SL_OK);
        assert_string_equal(t->category, "out_of_stock");
    }
    assert_int_equal(q("SELECT count(*) FROM service_desk.outbox WHERE topic = 'UNMET_DEMAND'"
                       " AND key = 'SKU-44120'"),
                     1);

    /* an out-of-stock question answered from live availability in the
     * customer's region (cust-1 orders to EAST) */
    oo.ticket_id = "t-oos-2";
    oo.body = "Are SKU-9001 and SKU-9002 available again? Both were sold out last week.";
    assert_int_equal(sd(0, "OpenTicket", &oo, DESC(ticket), &t, 0, &err), SL_OK);
    assert_string_equal(t->category, "out_of_stock");
    assert_non_null(strstr(t->suggested_answer, "SKU-9001 is out of stock in EAST"));
    assert_non_null(strstr(t->suggested_answer, "SKU-9002 is in stock in EAST"));

    /* pause while waiting on the customer, resume on their answer */
    Shelfline__V1__RespondTicketRequest rr = SHELFLINE__V1__RESPOND_TICKET_REQUEST__INIT;
    rr.ticket_id = "t-ru";
    rr.body = "Could you send a photo?";
    rr.waiting_on_customer = true;
    assert_int_equal(sd(1, "RespondTicket", &rr, DESC(ticket), &t, 0, &err), SL_OK);
    assert_int_equal(t->status, SHELFLINE__V1__TICKET_STATUS__TICKET_WAITING_ON_CUSTOMER);
    assert_true(t->first_response->met);
    assert_true(t->resolution->paused);
    rr.waiting_on_customer = false;
    rr.from_customer = true;
    rr.body = "Here it is.";
    assert_int_equal(sd(0, "RespondTicket", &rr, DESC(ticket), &t, 0, &err), SL_OK);
    assert_int_equal(t->status, SHELFLINE__V1__TICKET_STATUS__TICKET_OPEN);
    assert_false(t->resolution->paused);
    Shelfline__V1__ResolveTicketRequest rs = SHELFLINE__V1__RESOLVE_TICKET_REQUEST__INIT;
    rs.ticket_id = "t-ru";
    rs.resolution = "replacement sent";
    assert_int_equal(sd(0, "ResolveTicket", &rs, DESC(ticket), &t, 0, &err), SL_OK);
    assert_int_equal(sd(1, "ResolveTicket", &rs, DESC(ticket), &t, 0, &err), SL_OK);
    assert_int_equal(t->status, SHELFLINE__V1__TICKET_STATUS__TICKET_RESOLVED);
    assert_true(t->resolution->met);
    /* Audit: who opened and resolved it, and who wrote each message and
     * paused the clock ("anonymous" under SHELFLINE_AUTH=none), with the
     * calls' request ids. */
    assert_int_equal(qf("SELECT count(*) FROM service_desk.ticket WHERE ticket_id = '%s' AND "
                        "actor = 'anonymous' AND resolved_by = 'anonymous' AND "
                        "resolved_request_id <> ''",
                        "t-ru"),
                     1);
    assert_int_equal(qf("SELECT count(*) FROM service_desk.ticket_event WHERE ticket_id = '%s' "
                        "AND (actor <> 'anonymous' OR request_id = '')",
                        "t-ru"),
                     0);
    assert_true(
        qf("SELECT count(*) FROM service_desk.ticket_event WHERE ticket_id = '%s'", "t-ru") >= 3);
    rr.from_customer = false;
    assert_int_equal(sd(0, "RespondTicket", &rr, DESC(ticket), &t, 0, &err),
                     SL_FAILED_PRECONDITION);

    /* GetTicket: the whole thread, oldest first, from either replica;
     * the refused response after the resolution is not in it */
    Shelfline__V1__GetTicketRequest gt = SHELFLINE__V1__GET_TICKET_REQUEST__INIT;
    gt.ticket_id = "t-ru";
    assert_int_equal(sd(1, "GetTicket", &gt, DESC(ticket), &t, 0, &err), SL_OK);
    assert_string_equal(t->body, "Здравствуйте, коробка была повреждена, товар разбит.");
    assert_int_equal(t->status, SHELFLINE__V1__TICKET_STATUS__TICKET_RESOLVED);
    assert_int_equal(t->n_messages, 2);
    assert_int_equal(t->messages[0]->author, SHELFLINE__V1__TICKET_MESSAGE__AUTHOR__AGENT);
    assert_string_equal(t->messages[0]->body, "Could you send a photo?");
    assert_int_equal(t->messages[1]->author, SHELFLINE__V1__TICKET_MESSAGE__AUTHOR__CUSTOMER);
    assert_string_equal(t->messages[1]->body, "Here it is.");
    assert_true(t->messages[0]->at_ms >= t->opened_at_ms);
    assert_true(t->messages[1]->at_ms >= t->messages[0]->at_ms);
    gt.ticket_id = "t-zh";
    assert_int_equal(sd(0, "GetTicket", &gt, DESC(ticket), &t, 0, &err), SL_OK);
    assert_int_equal(t->n_messages, 0);
    gt.ticket_id = "t-none";
    assert_int_equal(sd(0, "GetTicket", &gt, DESC(ticket), &t, 0, &err), SL_NOT_FOUND);
    gt.ticket_id = "";
    assert_int_equal(sd(0, "GetTicket", &gt, DESC(ticket), &t, 0, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "ticket_id"));

    /* breaching within 60 minutes: the old ticket, and only tickets that
     * breach within the window */
    Shelfline__V1__ListTicketsRequest lr = SHELFLINE__V1__LIST_TICKETS_REQUEST__INIT;
    lr.breaching_within_minutes = 60;
    Shelfline__V1__ListTicketsResponse *ls;
    assert_int_equal(sd(0, "ListTickets", &lr, DESC(list_tickets_response), &ls, 0, &err), SL_OK);
    bool old = false;
    int64_t now = sl_db_now_ms();
    for (size_t i = 0; i < ls->n_tickets; i++) {
        const Shelfline__V1__Ticket *x = ls->tickets[i];
        old = old || strcmp(x->ticket_id, "t-old") == 0;
        assert_true(
            x->first_response->breached || x->resolution->breached ||
            (x->first_response->due_at_ms > 0 &&
             x->first_response->due_at_ms <= now + 3600 * 1000 + 5000) ||
            (x->resolution->due_at_ms > 0 && x->resolution->due_at_ms <= now + 3600 * 1000 + 5000));
    }
    assert_true(old);
    lr.breaching_within_minutes = 0;
    lr.category = "return_refund";
    assert_int_equal(sd(0, "ListTickets", &lr, DESC(list_tickets_response), &ls, 0, &err), SL_OK);
    assert_int_equal(ls->n_tickets, 1);
    assert_string_equal(ls->tickets[0]->ticket_id, "t-zh");

    /* the SLA report over the period holding them all */
    Shelfline__V1__GetSlaReportRequest gr = SHELFLINE__V1__GET_SLA_REPORT_REQUEST__INIT;
    gr.from_ms = MON_10_UTC - 1000;
    gr.to_ms = sl_db_now_ms() + 1000;
    Shelfline__V1__SlaReport *rep;
    assert_int_equal(sd(1, "GetSlaReport", &gr, DESC(sla_report), &rep, 0, &err), SL_OK);
    assert_true(rep->n_rows >= 3);
    assert_string_equal(rep->rows[0]->priority, "");
    assert_string_equal(rep->rows[0]->category, "");
    assert_int_equal(rep->rows[0]->tickets, q("SELECT count(*) FROM service_desk.ticket"));
    assert_int_equal(rep->rows[0]->resolved, 1);
    assert_true(rep->rows[0]->first_response_breach_rate > 0); /* t-old */
    gr.to_ms = gr.from_ms;
    assert_int_equal(sd(1, "GetSlaReport", &gr, DESC(sla_report), &rep, 0, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "to_ms"));
    sl_arena_reset(A);
}

/* ---- back in stock ---- */

static void test_back_in_stock_batches(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__SubscribeBackInStockRequest sr =
        SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
    Shelfline__V1__Subscription *s;
    int64_t first = 0;
    sr.sku = "SKU-S";
    sr.region = "EAST";
    for (int i = 0; i < 7; i++) {
        char c[16];
        snprintf(c, sizeof c, "c-s-%d", i);
        sr.customer_id = c;
        assert_int_equal(sd(i % 2, "SubscribeBackInStock", &sr, DESC(subscription), &s, 0, &err),
                         SL_OK);
        if (i == 0)
            first = s->subscription_id;
    }
    sr.customer_id = "c-s-0"; /* again: the same subscription */
    assert_int_equal(sd(1, "SubscribeBackInStock", &sr, DESC(subscription), &s, 0, &err), SL_OK);
    assert_int_equal(s->subscription_id, first);
    sr.customer_id = "c-s-gone";
    assert_int_equal(sd(0, "SubscribeBackInStock", &sr, DESC(subscription), &s, 0, &err), SL_OK);
    Shelfline__V1__UnsubscribeRequest ur = SHELFLINE__V1__UNSUBSCRIBE_REQUEST__INIT;
    ur.subscription_id = s->subscription_id;
    assert_int_equal(sd(1, "Unsubscribe", &ur, DESC(subscription), &s, 0, &err), SL_OK);
    assert_int_equal(s->status, SHELFLINE__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_CANCELLED);
    Shelfline__V1__ListSubscriptionsRequest lr = SHELFLINE__V1__LIST_SUBSCRIPTIONS_REQUEST__INIT;
    lr.customer_id = "c-s-0";
    Shelfline__V1__ListSubscriptionsResponse *ls;
    assert_int_equal(
        sd(0, "ListSubscriptions", &lr, DESC(list_subscriptions_response), &ls, 0, &err), SL_OK);
    assert_int_equal(ls->n_subscriptions, 1);

    /* 3 units come back: batches of 3, 3 and 1, 300 ms apart, oldest first */
    const char *batches = "shelfline_service_desk_back_in_stock_batches_total";
    double batches0 = sd_metric(batches);
    int64_t t0 = invt_now_ms();
    assert_int_equal(invt_stock(ich, "SKU-S", "W-NEAR", 3), 0);
    assert_true(wait_count("SELECT count(*) FROM service_desk.notification"
                           " WHERE kind = 'BACK_IN_STOCK'",
                           7, 20000));
    fprintf(stderr, "back in stock: 7 subscribers notified in %lld ms\n",
            (long long)(invt_now_ms() - t0));
    invt_sleep_ms(1000);
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification WHERE kind = "
                       "'BACK_IN_STOCK'"),
                     7);
    assert_int_equal(q("SELECT count(*) FROM service_desk.subscription WHERE sku = 'SKU-S'"
                       " AND status = 'NOTIFIED'"),
                     7);
    /* Three batches notified someone, each counted once by the replica
     * that sent it (WEST's restock, with nobody subscribed, counts none). */
    assert_int_equal(q("SELECT count(DISTINCT batch_no) FROM service_desk.subscription"
                       " WHERE sku = 'SKU-S' AND status = 'NOTIFIED'"),
                     3);
    assert_true(sd_metric(batches) == batches0 + 3);
    assert_int_equal(q("SELECT count(*) FROM service_desk.subscription"
                       " WHERE customer_id = 'c-s-gone' AND status = 'CANCELLED'"),
                     1);
    /* batch k holds the k-th three subscriptions in arrival order */
    assert_int_equal(q("SELECT count(*) FROM (SELECT batch_no, row_number() OVER"
                       " (ORDER BY subscription_id) - 1 AS pos FROM service_desk.subscription"
                       " WHERE sku = 'SKU-S' AND status = 'NOTIFIED') t"
                       " WHERE batch_no = pos / 3 + 1"),
                     7);
    sl_arena_reset(A);
}

/* Every notification so far arrives on the stream once, in id order. */
static void test_watch_notifications(void **state)
{
    (void)state;
    sl_err err;
    long long total = q("SELECT count(*) FROM service_desk.notification");
    assert_true(total > 0);
    Shelfline__V1__WatchNotificationsRequest r = SHELFLINE__V1__WATCH_NOTIFICATIONS_REQUEST__INIT;
    sl_client_stream *st;
    sl_call_options o = {.timeout_ms = 30000};
    assert_int_equal(sl_client_stream_open(sd_ch[1],
                                           "/shelfline.v1.ServiceDeskService/"
                                           "WatchNotifications",
                                           &r.base, DESC(notification), &o, &st, &err),
                     SL_OK);
    long long got = 0;
    int64_t last = 0;
    while (got < total) {
        ProtobufCMessage *m;
        bool timed_out = false;
        assert_int_equal(sl_client_stream_next(st, A, &m, 5000, &timed_out, &err), SL_OK);
        assert_false(timed_out);
        assert_non_null(m);
        const Shelfline__V1__Notification *n = (const void *)m;
        assert_true(n->notification_id > last);
        assert_true(n->idempotency_key[0] != '\0');
        last = n->notification_id;
        got++;
        if (got % 200 == 0)
            sl_arena_reset(A);
    }
    sl_client_stream_close(st);
    sl_arena_reset(A);
}

/* A caught-up stream wakes when another replica commits a notification:
 * each arrives well within the stream's re-read guard (5 s), which a
 * stream that only polled would not do three times running. */
static void test_watch_notifications_live(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__WatchNotificationsRequest r = SHELFLINE__V1__WATCH_NOTIFICATIONS_REQUEST__INIT;
    r.after_id = q("SELECT coalesce(max(notification_id), 0) FROM service_desk.notification");
    sl_client_stream *st;
    sl_call_options o = {.timeout_ms = 60000};
    assert_int_equal(sl_client_stream_open(sd_ch[1],
                                           "/shelfline.v1.ServiceDeskService/"
                                           "WatchNotifications",
                                           &r.base, DESC(notification), &o, &st, &err),
                     SL_OK);
    invt_sleep_ms(300); /* the stream has read everything and sleeps */
    for (int k = 0; k < 3; k++) {
        char sku[16], cust[16];
        snprintf(sku, sizeof sku, "SKU-W%d", k);
        snprintf(cust, sizeof cust, "c-w-%d", k);
        Shelfline__V1__SubscribeBackInStockRequest sr =
            SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
        sr.sku = sku;
        sr.region = "EAST";
        sr.customer_id = cust;
        Shelfline__V1__Subscription *s;
        assert_int_equal(sd(0, "SubscribeBackInStock", &sr, DESC(subscription), &s, 0, &err),
                         SL_OK);
        assert_int_equal(invt_stock(ich, sku, "W-NEAR", 1), 0);
        ProtobufCMessage *m;
        bool timed_out = false;
        assert_int_equal(sl_client_stream_next(st, A, &m, 10000, &timed_out, &err), SL_OK);
        assert_false(timed_out);
        assert_non_null(m);
        const Shelfline__V1__Notification *n = (const void *)m;
        int64_t late = sl_db_now_ms() - n->created_at_ms;
        fprintf(stderr, "live notification %d (%s): on the stream %lld ms after it was written\n",
                k, n->customer_id, (long long)late);
        assert_string_equal(n->customer_id, cust);
        assert_true(late < 2000);
        sl_arena_reset(A);
    }
    sl_client_stream_close(st);
}

/* ---- metrics ---- */

#define FR_BREACHES "shelfline_service_desk_sla_breaches_total{clock=\"first_response\"}"
#define RS_BREACHES "shelfline_service_desk_sla_breaches_total{clock=\"resolution\"}"
#define NOTICES "shelfline_service_desk_delay_notices_total"
#define COMPENSATIONS "shelfline_service_desk_compensations_total"
#define PENDING "shelfline_service_desk_notifications_pending"

/* Waits up to timeout_ms for series (summed over the replicas) to reach
 * want: the counters move right after the commit the database shows. */
static double wait_metric(const char *series, double want, int64_t timeout_ms)
{
    int64_t end = invt_now_ms() + timeout_ms;
    double v = sd_metric(series);
    while (v < want && invt_now_ms() < end) {
        invt_sleep_ms(50);
        v = sd_metric(series);
    }
    return v;
}

static void respond_ticket(int i, const char *id)
{
    sl_err err;
    Shelfline__V1__RespondTicketRequest rr = SHELFLINE__V1__RESPOND_TICKET_REQUEST__INIT;
    rr.ticket_id = (char *)id;
    rr.body = "We are looking into it.";
    assert_int_equal(sd(i, "RespondTicket", &rr, DESC(ticket), NULL, 0, &err), SL_OK);
}

static void resolve_ticket(int i, const char *id)
{
    sl_err err;
    Shelfline__V1__ResolveTicketRequest rr = SHELFLINE__V1__RESOLVE_TICKET_REQUEST__INIT;
    rr.ticket_id = (char *)id;
    rr.resolution = "done";
    assert_int_equal(sd(i, "ResolveTicket", &rr, DESC(ticket), NULL, 0, &err), SL_OK);
}

/* Tickets: one per ticket recorded, in its category and priority's
 * series, none for a replay. */
static void metrics_tickets(void)
{
    const char *subject = "Товар пришёл сломанный";
    const char *body = "Здравствуйте, коробка была повреждена, товар разбит.";
    Shelfline__V1__Ticket *t = open_ticket("t-mx-1", "", subject, body, 0, SL_OK);
    char series[200];
    snprintf(series, sizeof series,
             "shelfline_service_desk_tickets_opened_total{category=\"%s\",priority=\"%s\"}",
             t->category, t->priority);
    double v1 = sd_metric(series);
    assert_true(v1 >= 1);
    t = open_ticket("t-mx-2", "", subject, body, 0, SL_OK);
    assert_true(sd_metric(series) == v1 + 1);
    open_ticket("t-mx-2", "", subject, body, 0, SL_OK); /* a replay */
    assert_true(sd_metric(series) == v1 + 1);
    sl_arena_reset(A);
}

/* SLA breaches: a clock counts when it stops breached, once; clocks that
 * stop in time count nothing. */
static void metrics_sla_breaches(void)
{
    double fr0 = sd_metric(FR_BREACHES), rs0 = sd_metric(RS_BREACHES);
    /* Opened Monday 10:00 a week or two ago: both deadlines long passed. */
    Shelfline__V1__Ticket *t = open_ticket("t-mx-late", "", "Where is my order?",
                                           "My order has not arrived yet.", MON_10_UTC, SL_OK);
    assert_true(t->first_response->breached);
    respond_ticket(1, "t-mx-late");
    assert_true(sd_metric(FR_BREACHES) == fr0 + 1);
    assert_true(sd_metric(RS_BREACHES) == rs0);
    respond_ticket(0, "t-mx-late"); /* the first response is recorded */
    resolve_ticket(0, "t-mx-late");
    resolve_ticket(1, "t-mx-late"); /* idempotent */
    assert_true(sd_metric(FR_BREACHES) == fr0 + 1);
    assert_true(sd_metric(RS_BREACHES) == rs0 + 1);
    /* Opened now and resolved at once: both clocks stop in time. */
    open_ticket("t-mx-quick", "", "Where is my order?", "My order has not arrived yet.", 0, SL_OK);
    resolve_ticket(1, "t-mx-quick");
    assert_true(sd_metric(FR_BREACHES) == fr0 + 1);
    assert_true(sd_metric(RS_BREACHES) == rs0 + 1);
    sl_arena_reset(A);
}

/* Delays: an inbound three orders wait on slips three days, so each gets
 * one notice and one coupon (tiers 2:500,5:1500), counted once. */
static void metrics_delays(void)
{
    const int n = 3;
    sl_err err;
    double notices0 = sd_metric(NOTICES), comps0 = sd_metric(COMPENSATIONS);
    int64_t e0 = (sl_db_now_ms() / DAY + 10) * DAY + 12 * 3600 * 1000;
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "IN-M";
    ci.sku = "SKU-M";
    ci.warehouse_id = "W-NEAR";
    ci.qty = 10;
    ci.expected_at_ms = e0;
    assert_int_equal(invt_call(ich, "CreateInbound", &ci.base, DESC(inbound), A, NULL, &err),
                     SL_OK);
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "o-m-%d", i);
        Shelfline__V1__PlaceOrderRequest *r = order_req(id, "SKU-M", 1, 0, true);
        assert_int_equal(sd(i % 2, "PlaceOrder", r, DESC(place_order_response), NULL, 0, &err),
                         SL_OK);
    }
    Shelfline__V1__DelayInboundRequest d = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    d.inbound_id = "IN-M";
    d.new_expected_at_ms = e0 + 3 * DAY;
    d.reason = "supplier strike";
    assert_int_equal(invt_call(ich, "DelayInbound", &d.base, DESC(inbound), A, NULL, &err), SL_OK);
    assert_true(wait_count("SELECT count(*) FROM service_desk.notification WHERE kind = "
                           "'COMPENSATION' AND order_id LIKE 'o-m-%'",
                           n, 20000));
    wait_metric(COMPENSATIONS, comps0 + n, 5000);
    invt_sleep_ms(500); /* anything extra would show up now */
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification WHERE kind = 'DELAY'"
                       " AND order_id LIKE 'o-m-%'"),
                     n);
    assert_true(sd_metric(NOTICES) == notices0 + n);
    assert_true(sd_metric(COMPENSATIONS) == comps0 + n);
    sl_arena_reset(A);
}

/* Pending notifications: every replica shows the table's count; an
 * acknowledgement takes one off. */
static void metrics_pending(void)
{
    const char *unacked = "SELECT count(*) FROM service_desk.notification WHERE acked_at IS NULL";
    long long n = q(unacked);
    assert_true(n > 0);
    for (int i = 0; i < 2; i++) {
        char *r = sl_test_http_get(sd_http[i], "/metrics");
        assert_non_null(r);
        assert_true(sl_test_metric(r, PENDING) == (double)n);
        free(r);
    }
    Shelfline__V1__AckNotificationRequest ak = SHELFLINE__V1__ACK_NOTIFICATION_REQUEST__INIT;
    ak.notification_id = q("SELECT min(notification_id) FROM service_desk.notification"
                           " WHERE acked_at IS NULL AND notification_id IS NOT NULL");
    sl_err err;
    assert_int_equal(sd(0, "AckNotification", &ak, DESC(notification), NULL, 0, &err), SL_OK);
    assert_int_equal(q(unacked), n - 1);
    assert_true(sd_metric(PENDING) == 2.0 * (double)(n - 1));
    sl_arena_reset(A);
}

/* The service desk's domain metrics follow real traffic on either
 * replica, and promtool accepts both scrapes. */
static void test_metrics_follow_tickets_delays_and_notifications(void **state)
{
    (void)state;
    metrics_tickets();
    metrics_sla_breaches();
    metrics_delays();
    metrics_pending();
    for (int i = 0; i < 2; i++) {
        char *r = sl_test_http_get(sd_http[i], "/metrics");
        assert_non_null(r);
        int rc = sl_test_promtool_check(r);
        free(r);
        assert_int_equal(rc, 0);
    }
}

/* ---- bad input ---- */

static void expect_bad(int st_want, const char *method, const void *req,
                       const ProtobufCMessageDescriptor *d, const char *field)
{
    sl_err err;
    sl_status st = sd(0, method, req, d, NULL, 0, &err);
    if ((int)st != st_want || strstr(err.msg, field) == NULL)
        fail_msg("%s: got %s \"%s\", want %s naming %s", method, sl_status_name(st), err.msg,
                 sl_status_name((sl_status)st_want), field);
}

static void test_bad_input(void **state)
{
    (void)state;
    long long orders = q("SELECT count(*) FROM service_desk.orders");
    long long events = q("SELECT count(*) FROM service_desk.outbox");
    Shelfline__V1__PlaceOrderRequest *r = order_req("bad id!", "SKU-A", 1, 0, false);
    expect_bad(SL_INVALID_ARGUMENT, "PlaceOrder", r, DESC(place_order_response), "order_id");
    r = order_req("o-bad", "SKU-A", 1, 0, false);
    r->customer_id = "";
    expect_bad(SL_INVALID_ARGUMENT, "PlaceOrder", r, DESC(place_order_response), "customer_id");
    r = order_req("o-bad", "SKU-A", 1, 0, false);
    r->region = "east";
    expect_bad(SL_INVALID_ARGUMENT, "PlaceOrder", r, DESC(place_order_response), "region");
    r = order_req("o-bad", "SKU-A", 0, 0, false);
    expect_bad(SL_INVALID_ARGUMENT, "PlaceOrder", r, DESC(place_order_response), "lines[0].qty");
    r = order_req("o-bad", "SKU A", 1, 0, false);
    expect_bad(SL_INVALID_ARGUMENT, "PlaceOrder", r, DESC(place_order_response), "lines[0].sku");
    r = order_req("o-bad", "SKU-A", 1, 0, false);
    r->n_lines = 0;
    expect_bad(SL_INVALID_ARGUMENT, "PlaceOrder", r, DESC(place_order_response), "lines");
    r = order_req("o-bad", "SKU-A", 1, 5, false);
    expect_bad(SL_INVALID_ARGUMENT, "PlaceOrder", r, DESC(place_order_response), "placed_at_ms");
    r = order_req("o-bad", "NO-SUCH-SKU", 1, 0, false);
    expect_bad(SL_NOT_FOUND, "PlaceOrder", r, DESC(place_order_response), "NO-SUCH-SKU");

    Shelfline__V1__GetOrderRequest g = SHELFLINE__V1__GET_ORDER_REQUEST__INIT;
    expect_bad(SL_INVALID_ARGUMENT, "GetOrder", &g, DESC(order), "order_id");
    g.order_id = "o-nope";
    expect_bad(SL_NOT_FOUND, "GetOrder", &g, DESC(order), "o-nope");
    Shelfline__V1__ConfirmPaymentRequest cp = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
    cp.order_id = "o-nope";
    expect_bad(SL_NOT_FOUND, "ConfirmPayment", &cp, DESC(order), "o-nope");
    Shelfline__V1__CancelOrderRequest cr = SHELFLINE__V1__CANCEL_ORDER_REQUEST__INIT;
    cr.order_id = "";
    expect_bad(SL_INVALID_ARGUMENT, "CancelOrder", &cr, DESC(order), "order_id");
    cr.order_id = "o-nope";
    expect_bad(SL_NOT_FOUND, "CancelOrder", &cr, DESC(order), "o-nope");
    Shelfline__V1__UpdateShipmentRequest us = SHELFLINE__V1__UPDATE_SHIPMENT_REQUEST__INIT;
    us.order_id = "o-happy";
    expect_bad(SL_INVALID_ARGUMENT, "UpdateShipment", &us, DESC(order), "step");
    us.order_id = "o-nope";
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_PICKED;
    expect_bad(SL_NOT_FOUND, "UpdateShipment", &us, DESC(order), "o-nope");
    Shelfline__V1__ListOrdersRequest lo = SHELFLINE__V1__LIST_ORDERS_REQUEST__INIT;
    expect_bad(SL_INVALID_ARGUMENT, "ListOrders", &lo, DESC(list_orders_response), "customer_id");
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    lo.customer_id = "cust-1";
    lo.page = &pg;
    pg.page_token = "garbage";
    expect_bad(SL_INVALID_ARGUMENT, "ListOrders", &lo, DESC(list_orders_response), "page_token");
    Shelfline__V1__GetOrderEtaRequest ge = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
    ge.order_id = "o-nope";
    expect_bad(SL_NOT_FOUND, "GetOrderEta", &ge, DESC(order_eta), "o-nope");
    Shelfline__V1__QuoteEtaRequest qr = SHELFLINE__V1__QUOTE_ETA_REQUEST__INIT;
    qr.region = "EAST";
    expect_bad(SL_INVALID_ARGUMENT, "QuoteEta", &qr, DESC(quote_eta_response), "skus");
    char *skus[] = {"SKU-A"};
    qr.skus = skus;
    qr.n_skus = 1;
    qr.region = "";
    expect_bad(SL_INVALID_ARGUMENT, "QuoteEta", &qr, DESC(quote_eta_response), "region");
    qr.region = "EAST";
    int64_t qtys[] = {1, 2};
    qr.quantities = qtys;
    qr.n_quantities = 2; /* one SKU */
    expect_bad(SL_INVALID_ARGUMENT, "QuoteEta", &qr, DESC(quote_eta_response), "quantities");
    qtys[0] = -1;
    qr.n_quantities = 1;
    expect_bad(SL_INVALID_ARGUMENT, "QuoteEta", &qr, DESC(quote_eta_response), "quantities[0]");
    Shelfline__V1__ListNotificationsRequest ln = SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
    ln.limit = 5000;
    expect_bad(SL_INVALID_ARGUMENT, "ListNotifications", &ln, DESC(list_notifications_response),
               "limit");
    Shelfline__V1__AckNotificationRequest ak = SHELFLINE__V1__ACK_NOTIFICATION_REQUEST__INIT;
    expect_bad(SL_INVALID_ARGUMENT, "AckNotification", &ak, DESC(notification), "notification_id");
    ak.notification_id = 99999999;
    expect_bad(SL_NOT_FOUND, "AckNotification", &ak, DESC(notification), "99999999");
    Shelfline__V1__SubscribeBackInStockRequest sr =
        SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
    sr.customer_id = "c-bad";
    sr.sku = "SKU-A";
    sr.region = "east";
    expect_bad(SL_INVALID_ARGUMENT, "SubscribeBackInStock", &sr, DESC(subscription), "region");
    sr.region = "EAST";
    sr.sku = "NO-SUCH";
    expect_bad(SL_NOT_FOUND, "SubscribeBackInStock", &sr, DESC(subscription), "NO-SUCH");
    sr.sku = "SKU-A";
    sr.customer_id = "";
    expect_bad(SL_INVALID_ARGUMENT, "SubscribeBackInStock", &sr, DESC(subscription), "customer_id");
    Shelfline__V1__UnsubscribeRequest ur = SHELFLINE__V1__UNSUBSCRIBE_REQUEST__INIT;
    expect_bad(SL_INVALID_ARGUMENT, "Unsubscribe", &ur, DESC(subscription), "subscription_id");
    ur.subscription_id = 99999999;
    expect_bad(SL_NOT_FOUND, "Unsubscribe", &ur, DESC(subscription), "99999999");
    Shelfline__V1__ListSubscriptionsRequest lsr = SHELFLINE__V1__LIST_SUBSCRIPTIONS_REQUEST__INIT;
    expect_bad(SL_INVALID_ARGUMENT, "ListSubscriptions", &lsr, DESC(list_subscriptions_response),
               "customer_id");
    assert_int_equal(q("SELECT count(*) FROM service_desk.subscription WHERE customer_id = "
                       "'c-bad'"),
                     0);
    long long tickets = q("SELECT count(*) FROM service_desk.ticket");
    Shelfline__V1__OpenTicketRequest ot = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    ot.ticket_id = "t-bad";
    ot.customer_id = "cust-t";
    ot.subject = "x";
    ot.body = "y";
    expect_bad(SL_INVALID_ARGUMENT, "OpenTicket", &ot, DESC(ticket), "channel");
    ot.channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_CHAT;
    ot.subject = "";
    expect_bad(SL_INVALID_ARGUMENT, "OpenTicket", &ot, DESC(ticket), "subject");
    ot.subject = "x";
    ot.language = "!!";
    expect_bad(SL_INVALID_ARGUMENT, "OpenTicket", &ot, DESC(ticket), "language");
    ot.language = "";
    ot.order_id = "o-nope";
    expect_bad(SL_NOT_FOUND, "OpenTicket", &ot, DESC(ticket), "o-nope");
    ot.order_id = "";
    ot.ticket_id = "";
    expect_bad(SL_INVALID_ARGUMENT, "OpenTicket", &ot, DESC(ticket), "ticket_id");
    Shelfline__V1__RespondTicketRequest rt = SHELFLINE__V1__RESPOND_TICKET_REQUEST__INIT;
    rt.ticket_id = "t-nope";
    rt.body = "hi";
    expect_bad(SL_NOT_FOUND, "RespondTicket", &rt, DESC(ticket), "t-nope");
    rt.body = "";
    expect_bad(SL_INVALID_ARGUMENT, "RespondTicket", &rt, DESC(ticket), "body");
    Shelfline__V1__ResolveTicketRequest rv = SHELFLINE__V1__RESOLVE_TICKET_REQUEST__INIT;
    rv.ticket_id = "t-nope";
    expect_bad(SL_NOT_FOUND, "ResolveTicket", &rv, DESC(ticket), "t-nope");
    Shelfline__V1__ListTicketsRequest lt = SHELFLINE__V1__LIST_TICKETS_REQUEST__INIT;
    lt.category = "nonsense";
    expect_bad(SL_INVALID_ARGUMENT, "ListTickets", &lt, DESC(list_tickets_response), "category");
    lt.category = "";
    lt.priority = "P9";
    expect_bad(SL_INVALID_ARGUMENT, "ListTickets", &lt, DESC(list_tickets_response), "priority");
    assert_int_equal(q("SELECT count(*) FROM service_desk.ticket"), tickets);
    long long rmas = q("SELECT count(*) FROM service_desk.rma");
    Shelfline__V1__CreateReturnRequest cb = SHELFLINE__V1__CREATE_RETURN_REQUEST__INIT;
    cb.rma_id = "rma-bad";
    cb.order_id = "o-life";
    cb.reason = "x";
    expect_bad(SL_INVALID_ARGUMENT, "CreateReturn", &cb, DESC(return ), "lines");
    Shelfline__V1__ReturnLine rl = SHELFLINE__V1__RETURN_LINE__INIT;
    Shelfline__V1__ReturnLine *rlp = &rl;
    rl.sku = "SKU-P";
    rl.qty = 1;
    cb.lines = &rlp;
    cb.n_lines = 1;
    cb.order_id = "o-nope";
    expect_bad(SL_NOT_FOUND, "CreateReturn", &cb, DESC(return ), "o-nope");
    cb.order_id = "o-life";
    rl.sku = "SKU-A";
    expect_bad(SL_FAILED_PRECONDITION, "CreateReturn", &cb, DESC(return ), "lines[0].sku");
    rl.qty = 0;
    expect_bad(SL_INVALID_ARGUMENT, "CreateReturn", &cb, DESC(return ), "lines[0].qty");
    Shelfline__V1__ReceiveReturnRequest rv2 = SHELFLINE__V1__RECEIVE_RETURN_REQUEST__INIT;
    rv2.rma_id = "rma-1";
    expect_bad(SL_INVALID_ARGUMENT, "ReceiveReturn", &rv2, DESC(return ), "condition");
    rv2.rma_id = "rma-nope";
    rv2.condition = SHELFLINE__V1__RETURN_CONDITION__RETURN_SCRAP;
    expect_bad(SL_NOT_FOUND, "ReceiveReturn", &rv2, DESC(return ), "rma-nope");
    assert_int_equal(q("SELECT count(*) FROM service_desk.rma"), rmas);
    assert_int_equal(q("SELECT count(*) FROM service_desk.orders"), orders);
    assert_int_equal(q("SELECT count(*) FROM service_desk.outbox"), events);
    assert_int_equal(reservations("o-bad"), 0);
    sl_arena_reset(A);
}

/* ---- paging ---- */

/* Every page of ListTickets for cust-pages (page_size 0: no page, the
 * 1,000 rows of before paging); ids[] receives the ticket ids in answer
 * order, *n their count, *pages the pages read. */
static void list_ticket_pages(int page_size, int breaching, char ids[][32], int cap, int *n,
                              int *pages)
{
    Shelfline__V1__ListTicketsRequest lr = SHELFLINE__V1__LIST_TICKETS_REQUEST__INIT;
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    lr.customer_id = "cust-pages";
    lr.breaching_within_minutes = breaching;
    if (page_size > 0) {
        pg.page_size = page_size;
        lr.page = &pg;
    }
    char token[512] = "";
    *n = *pages = 0;
    do {
        Shelfline__V1__ListTicketsResponse *ls;
        sl_err err;
        pg.page_token = token;
        lr.page = page_size > 0 || token[0] != '\0' ? &pg : NULL;
        if (lr.page != NULL && page_size == 0)
            pg.page_size = 1000;
        assert_int_equal(
            sd(*pages % 2, "ListTickets", &lr, DESC(list_tickets_response), &ls, 0, &err), SL_OK);
        assert_true(page_size == 0 || ls->n_tickets <= (size_t)page_size);
        for (size_t i = 0; i < ls->n_tickets; i++) {
            assert_true(*n < cap);
            snprintf(ids[(*n)++], 32, "%s", ls->tickets[i]->ticket_id);
        }
        snprintf(token, sizeof token, "%s", ls->next_page_token ? ls->next_page_token : "");
        (*pages)++;
        sl_arena_reset(A);
    } while (token[0] != '\0' && *pages < 100);
}

/* ListTickets and ListSubscriptions page: every row comes exactly once, in
 * order, over pages asked of either replica; breaching_within_minutes is
 * applied to every row, not to the first 1,000 (1,050 paused tickets of
 * cust-pages come before 150 breached ones: before paging, the filter ran
 * after a LIMIT 1000 and answered none of the 150). */
static void test_lists_page_every_row_once(void **state)
{
    (void)state;
    int64_t old = sl_db_now_ms() - 30 * DAY;
    char sql[1536];
    /* three tickets per millisecond, so ties are broken by ticket_id */
    snprintf(sql, sizeof sql,
             "WITH t AS (INSERT INTO service_desk.ticket (ticket_id, fingerprint, customer_id,"
             " channel, subject, body, language, category, confidence, priority, tier, status,"
             " opened_at_ms, first_response_ms)"
             " SELECT 'pg-wait-' || lpad(g::text, 4, '0'), '', 'cust-pages', 1, 's', 'b', 'en',"
             " 'other', 1, 'P1', 'unknown', 'WAITING', %lld + g / 3, %lld + g / 3 + 60000"
             " FROM generate_series(1, 1050) g RETURNING ticket_id, opened_at_ms),"
             " e AS (INSERT INTO service_desk.ticket_event (ticket_id, kind, at_ms)"
             " SELECT ticket_id, 'PAUSE', opened_at_ms + 60000 FROM t RETURNING 1)"
             " SELECT count(*) FROM e",
             (long long)old, (long long)old);
    assert_int_equal(q(sql), 1050);
    snprintf(sql, sizeof sql,
             "WITH t AS (INSERT INTO service_desk.ticket (ticket_id, fingerprint, customer_id,"
             " channel, subject, body, language, category, confidence, priority, tier, status,"
             " opened_at_ms)"
             " SELECT 'pg-late-' || lpad(g::text, 4, '0'), '', 'cust-pages', 1, 's', 'b', 'en',"
             " 'other', 1, 'P1', 'unknown', 'OPEN', %lld + 1000 + g / 3"
             " FROM generate_series(1, 150) g RETURNING 1) SELECT count(*) FROM t",
             (long long)old);
    assert_int_equal(q(sql), 150);

    static char ids[1300][32];
    int n, pages;
    /* unfiltered, 100 a page: all 1,200 in (opened_at, ticket_id) order */
    list_ticket_pages(100, 0, ids, 1300, &n, &pages);
    assert_int_equal(n, 1200);
    assert_int_equal(pages, 12);
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "pg-%s-%04d", i < 1050 ? "wait" : "late",
                 i < 1050 ? i + 1 : i - 1049);
        assert_string_equal(ids[i], want);
    }
    /* breaching within a minute, without a page and with small pages:
     * exactly the 150 breached tickets, each once */
    for (int size = 0; size <= 70; size += 70) {
        list_ticket_pages(size, 1, ids, 1300, &n, &pages);
        assert_int_equal(n, 150);
        for (int i = 0; i < n; i++) {
            char want[32];
            snprintf(want, sizeof want, "pg-late-%04d", i + 1);
            assert_string_equal(ids[i], want);
        }
    }
    /* a token this RPC did not issue */
    Shelfline__V1__ListTicketsRequest lr = SHELFLINE__V1__LIST_TICKETS_REQUEST__INIT;
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    lr.page = &pg;
    pg.page_token = "6e6f2d636f6c6f6e"; /* "no-colon" */
    expect_bad(SL_INVALID_ARGUMENT, "ListTickets", &lr, DESC(list_tickets_response),
               "page.page_token");
    pg.page_token = "zz";
    expect_bad(SL_INVALID_ARGUMENT, "ListTickets", &lr, DESC(list_tickets_response),
               "page.page_token");

    /* subscriptions: 1,050 of one customer, newest first */
    assert_int_equal(q("WITH s AS (INSERT INTO service_desk.subscription (customer_id, sku, region,"
                       " status) SELECT 'cust-pages', 'SKU-P' || g, 'EAST', 'NOTIFIED'"
                       " FROM generate_series(1, 1050) g RETURNING 1) SELECT count(*) FROM s"),
                     1050);
    long long top = q("SELECT max(subscription_id) FROM service_desk.subscription"
                      " WHERE customer_id = 'cust-pages'");
    for (int size = 0; size <= 400; size += 400) {
        Shelfline__V1__ListSubscriptionsRequest sr =
            SHELFLINE__V1__LIST_SUBSCRIPTIONS_REQUEST__INIT;
        Shelfline__V1__PageRequest sp = SHELFLINE__V1__PAGE_REQUEST__INIT;
        sr.customer_id = "cust-pages";
        sp.page_size = size;
        sr.page = size > 0 ? &sp : NULL;
        char token[128] = "";
        long long seen = 0;
        int spages = 0;
        do {
            Shelfline__V1__ListSubscriptionsResponse *ls;
            sl_err err;
            sp.page_token = token;
            if (token[0] != '\0')
                sr.page = &sp;
            assert_int_equal(sd(spages % 2, "ListSubscriptions", &sr,
                                DESC(list_subscriptions_response), &ls, 0, &err),
                             SL_OK);
            assert_true(ls->n_subscriptions <= (size_t)(size > 0 ? size : 1000));
            for (size_t i = 0; i < ls->n_subscriptions; i++)
                assert_int_equal(ls->subscriptions[i]->subscription_id, top - seen++);
            snprintf(token, sizeof token, "%s", ls->next_page_token ? ls->next_page_token : "");
            spages++;
            sl_arena_reset(A);
        } while (token[0] != '\0' && spages < 100);
        assert_int_equal(seen, 1050);
        assert_int_equal(spages, size > 0 ? 3 : 2);
    }
}

/* GetReturn answers one return with its lines; ListReturns pages an
 * order's (or a customer's) returns newest first, each exactly once with
 * its lines, over pages from either replica. */
static void test_get_and_list_returns(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__GetReturnRequest g = SHELFLINE__V1__GET_RETURN_REQUEST__INIT;
    Shelfline__V1__Return *rt;
    g.rma_id = "rma-1";
    assert_int_equal(sd(1, "GetReturn", &g, DESC(return ), &rt, 0, &err), SL_OK);
    assert_string_equal(rt->order_id, "o-life");
    assert_int_equal(rt->status, SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED);
    assert_int_equal(rt->refund->minor_units, 1000);
    assert_int_equal(rt->n_lines, 1);
    assert_string_equal(rt->lines[0]->sku, "SKU-P");
    assert_int_equal(rt->lines[0]->qty, 1);
    g.rma_id = "rma-none";
    assert_int_equal(sd(0, "GetReturn", &g, DESC(return ), &rt, 0, &err), SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "rma-none"));
    g.rma_id = "";
    expect_bad(SL_INVALID_ARGUMENT, "GetReturn", &g, DESC(return ), "rma_id");

    /* 250 more returns of o-life a day older than rma-1, two per
     * millisecond (ties broken by rma_id), the even ones with two lines */
    char sql[1024];
    int64_t base = sl_db_now_ms() - DAY;
    snprintf(sql, sizeof sql,
             "WITH r AS (INSERT INTO service_desk.rma (rma_id, fingerprint, order_id, reason,"
             " status, created_at_ms) SELECT 'rma-pg-' || lpad(g::text, 4, '0'), '', 'o-life',"
             " 'r', 'REQUESTED', %lld + g / 2 FROM generate_series(1, 250) g RETURNING rma_id),"
             " l AS (INSERT INTO service_desk.rma_line (rma_id, line_no, sku, qty, warehouse_id,"
             " price_minor, currency) SELECT rma_id, k, 'SKU-P', 1 + k, 'W-NEAR', 1000, 'EUR'"
             " FROM r, generate_series(0, 1) k"
             " WHERE k = 0 OR substr(rma_id, 8)::int %% 2 = 0 RETURNING 1)"
             " SELECT count(*) FROM l",
             (long long)base);
    assert_int_equal(q(sql), 375);
    Shelfline__V1__ListReturnsRequest lr = SHELFLINE__V1__LIST_RETURNS_REQUEST__INIT;
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    lr.order_id = "o-life";
    lr.page = &pg;
    pg.page_size = 40;
    char token[256] = "";
    int seen = 0, pages = 0;
    do {
        Shelfline__V1__ListReturnsResponse *ls;
        pg.page_token = token;
        assert_int_equal(
            sd(pages % 2, "ListReturns", &lr, DESC(list_returns_response), &ls, 0, &err), SL_OK);
        assert_true(ls->n_returns <= 40);
        for (size_t i = 0; i < ls->n_returns; i++, seen++) {
            const Shelfline__V1__Return *x = ls->returns[i];
            if (seen == 0) {
                assert_string_equal(x->rma_id, "rma-1");
                continue;
            }
            char want[32];
            int k = 251 - seen;
            snprintf(want, sizeof want, "rma-pg-%04d", k);
            assert_string_equal(x->rma_id, want);
            assert_int_equal(x->n_lines, k % 2 == 0 ? 2 : 1);
            assert_int_equal(x->lines[x->n_lines - 1]->qty, (int64_t)x->n_lines);
        }
        snprintf(token, sizeof token, "%s", ls->next_page_token);
        pages++;
        sl_arena_reset(A);
    } while (token[0] != '\0' && pages < 100);
    assert_int_equal(seen, 251);
    assert_int_equal(pages, 7);

    /* by the customer of o-life, one page */
    Shelfline__V1__GetOrderRequest go = SHELFLINE__V1__GET_ORDER_REQUEST__INIT;
    go.order_id = "o-life";
    Shelfline__V1__Order *o;
    assert_int_equal(sd(0, "GetOrder", &go, DESC(order), &o, 0, &err), SL_OK);
    lr.order_id = "";
    lr.customer_id = o->customer_id;
    pg.page_size = 1000;
    pg.page_token = "";
    Shelfline__V1__ListReturnsResponse *ls;
    assert_int_equal(sd(1, "ListReturns", &lr, DESC(list_returns_response), &ls, 0, &err), SL_OK);
    assert_true(ls->n_returns >= 251);
    assert_string_equal(ls->next_page_token, "");
    for (size_t i = 0; i < ls->n_returns; i++)
        assert_string_equal(ls->returns[i]->customer_id, o->customer_id);
    lr.customer_id = "cust-nobody";
    assert_int_equal(sd(1, "ListReturns", &lr, DESC(list_returns_response), &ls, 0, &err), SL_OK);
    assert_int_equal(ls->n_returns, 0);
    pg.page_token = "7a7a"; /* "zz": no "<ms>:<id>" */
    expect_bad(SL_INVALID_ARGUMENT, "ListReturns", &lr, DESC(list_returns_response),
               "page.page_token");
    pg.page_token = "";
    lr.order_id = "bad id!";
    expect_bad(SL_INVALID_ARGUMENT, "ListReturns", &lr, DESC(list_returns_response), "order_id");
    sl_arena_reset(A);
}

/* ---- an order's life ---- */

static Shelfline__V1__OrderEta *order_eta(const char *id)
{
    sl_err err;
    Shelfline__V1__GetOrderEtaRequest g = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
    g.order_id = (char *)id;
    Shelfline__V1__OrderEta *e;
    assert_int_equal(sd(1, "GetOrderEta", &g, DESC(order_eta), &e, 0, &err), SL_OK);
    return e;
}

static void ship(int replica, const char *id, const char *promised_date)
{
    sl_err err;
    Shelfline__V1__UpdateShipmentRequest us = SHELFLINE__V1__UPDATE_SHIPMENT_REQUEST__INIT;
    us.order_id = (char *)id;
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED;
    us.carrier = "DHL";
    us.tracking = "JD0001";
    us.promised_date = (char *)promised_date;
    Shelfline__V1__Order *o;
    assert_int_equal(sd(replica, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_OK);
}

static long long carrier_notices(const char *id)
{
    return qf("SELECT count(*) FROM service_desk.notification WHERE order_id = '%s'"
              " AND kind = 'DELAY'",
              id);
}

static void test_order_eta_follows_its_life(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__PlaceOrderResponse *r;
    Shelfline__V1__Order *o;
    const char *id = "o-life-eta";
    assert_int_equal(sd(0, "PlaceOrder", order_req(id, "SKU-P", 1, 0, false),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    Shelfline__V1__ConfirmPaymentRequest cp = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
    cp.order_id = (char *)id;
    assert_int_equal(sd(0, "ConfirmPayment", &cp, DESC(order), &o, 0, &err), SL_OK);

    /* promised_date is for SHIPPED only, and a date */
    Shelfline__V1__UpdateShipmentRequest us = SHELFLINE__V1__UPDATE_SHIPMENT_REQUEST__INIT;
    us.order_id = (char *)id;
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_PICKED;
    us.promised_date = "2030-01-01";
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "promised_date"));
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED;
    us.carrier = "DHL";
    us.tracking = "JD0001";
    us.promised_date = "2030-02-30";
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "promised_date"));
    assert_int_equal(qf("SELECT count(*) FROM service_desk.orders WHERE order_id = '%s'"
                        " AND status = 'PAID'",
                        id),
                     1);

    /* shipped: the carrier's date is the ETA, for the order and its line */
    int64_t today = sl_db_now_ms() / DAY;
    char d1[11], d2[11];
    day_string(today + 6, d1);
    day_string(today + 9, d2);
    ship(0, id, d1);
    Shelfline__V1__OrderEta *e = order_eta(id);
    assert_int_equal(e->status, SHELFLINE__V1__ORDER_STATUS__ORDER_SHIPPED);
    assert_string_equal(e->current->p50_date, d1);
    assert_string_equal(e->current->p90_date, d1);
    assert_int_equal(e->current->confidence, SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_HIGH);
    assert_string_equal(e->lines[0]->current->p50_date, d1);
    assert_non_null(strstr(e->lines[0]->explanation, "DHL"));
    assert_true(e->moved); /* the promise at placement was days earlier */
    assert_non_null(strstr(e->reason, d1));
    /* the first date, and the same date again, are no slip */
    ship(1, id, d1);
    assert_int_equal(carrier_notices(id), 0);
    assert_int_equal(order_eta(id)->slips, 0);

    /* a carrier delay: one DELAY notice, one slip, however often the
     * later date is repeated, on either replica */
    ship(0, id, d2);
    ship(1, id, d2);
    ship(0, id, d2);
    assert_int_equal(carrier_notices(id), 1);
    assert_int_equal(qf("SELECT count(*) FROM service_desk.notification WHERE order_id = '%s'"
                        " AND kind = 'DELAY' AND body LIKE '%%DHL%%'",
                        id),
                     1);
    assert_int_equal(qf("SELECT count(*) FROM service_desk.eta_change WHERE order_id = '%s'"
                        " AND inbound_id LIKE 'carrier:%%'",
                        id),
                     1);
    e = order_eta(id);
    assert_string_equal(e->current->p50_date, d2);
    assert_int_equal(e->slips, 1);
    /* an earlier date moves the ETA back without a notice */
    ship(1, id, d1);
    assert_int_equal(carrier_notices(id), 1);
    assert_string_equal(order_eta(id)->current->p50_date, d1);
    /* and a later one again is a second slip */
    ship(0, id, d2);
    assert_int_equal(carrier_notices(id), 2);
    assert_int_equal(order_eta(id)->slips, 2);
    /* both slips in the order's ETA history, carrier's, every line */
    Shelfline__V1__ListEtaChangesRequest lc = SHELFLINE__V1__LIST_ETA_CHANGES_REQUEST__INIT;
    lc.order_id = (char *)id;
    Shelfline__V1__ListEtaChangesResponse *hist;
    assert_int_equal(sd(1, "ListEtaChanges", &lc, DESC(list_eta_changes_response), &hist, 0, &err),
                     SL_OK);
    assert_int_equal(hist->n_changes, 2);
    for (size_t i = 0; i < 2; i++) {
        const Shelfline__V1__EtaChange *c = hist->changes[i];
        assert_int_equal(c->slip_no, (int)i + 1);
        assert_int_equal(c->cause, SHELFLINE__V1__ETA_CHANGE_CAUSE__ETA_CHANGE_CARRIER_DELAYED);
        assert_string_equal(c->inbound_id, "");
        assert_string_equal(c->from_p50_date, d1);
        assert_string_equal(c->from_p90_date, d1);
        assert_string_equal(c->to_p50_date, d2);
        assert_string_equal(c->to_p90_date, d2);
        assert_int_equal(c->n_line_nos, 1);
        assert_int_equal(c->line_nos[0], 0);
        assert_non_null(strstr(c->reason, "DHL"));
    }

    /* delivered: the delivery date (in the warehouse's zone), whatever
     * the carrier had promised */
    us.step = SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_DELIVERED;
    us.promised_date = "";
    assert_int_equal(sd(0, "UpdateShipment", &us, DESC(order), &o, 0, &err), SL_OK);
    e = order_eta(id);
    assert_int_equal(e->status, SHELFLINE__V1__ORDER_STATUS__ORDER_DELIVERED);
    assert_string_equal(e->current->p50_date, e->current->p90_date);
    assert_string_not_equal(e->current->p50_date, d2);
    assert_non_null(strstr(e->lines[0]->explanation, "delivered on"));
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM service_desk.orders WHERE order_id = '%s' AND to_char("
             "to_timestamp(delivered_at_ms / 1000.0) AT TIME ZONE 'America/New_York',"
             " 'YYYY-MM-DD') = '%s'",
             id, e->current->p50_date);
    assert_int_equal(q(sql), 1);

    /* a backorder whose inbound came in ships after the receipt */
    const char *bid = "o-life-back";
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "IN-LIFE";
    ci.sku = "SKU-L";
    ci.warehouse_id = "W-NEAR";
    ci.qty = 5;
    ci.expected_at_ms = (today + 20) * DAY + 12 * 3600 * 1000;
    assert_int_equal(invt_call(ich, "CreateInbound", &ci.base, DESC(inbound), A, NULL, &err),
                     SL_OK);
    /* placed six days ago: a receipt five days ago is after it */
    assert_int_equal(sd(0, "PlaceOrder", order_req(bid, "SKU-L", 2, sl_db_now_ms() - 6 * DAY, true),
                        DESC(place_order_response), &r, 0, &err),
                     SL_OK);
    char promised_ship[11];
    snprintf(promised_ship, sizeof promised_ship, "%s", r->order->promised->ship_date);
    Shelfline__V1__ReceiveInboundRequest ri = SHELFLINE__V1__RECEIVE_INBOUND_REQUEST__INIT;
    ri.inbound_id = "IN-LIFE";
    ri.receipt_id = "rcv-life";
    ri.qty = 5;
    assert_int_equal(
        invt_call(ich, "ReceiveInbound", &ri.base, DESC(receive_inbound_response), A, NULL, &err),
        SL_OK);
    assert_true(wait_count("SELECT count(*) FROM service_desk.order_part WHERE order_id ="
                           " 'o-life-back' AND received_ms IS NOT NULL",
                           1, 30000));
    e = order_eta(bid);
    assert_true(strcmp(e->current->ship_date, promised_ship) < 0);
    assert_int_equal(e->current->confidence, SHELFLINE__V1__ETA_CONFIDENCE__ETA_CONFIDENCE_HIGH);
    assert_true(e->moved);
    /* received five days ago: it shipped by then, it does not slide to
     * today as an overdue inbound would */
    assert_int_equal(q("UPDATE service_desk.order_part SET received_ms = received_ms - 5 * 86400000"
                       " WHERE order_id = 'o-life-back' RETURNING 1"),
                     1);
    char today_s[11];
    day_string(today, today_s);
    e = order_eta(bid);
    assert_true(strcmp(e->current->ship_date, today_s) < 0);
    sl_arena_reset(A);
}

/* ListEtaChanges: an order waiting on an inbound shipment delayed twice
 * has two changes, oldest first, each with its reason, the ETA before and
 * after (the second starts where the first ended), the line it moved;
 * paged one by one from either replica; an order that never moved has
 * none, an unknown one is NOT_FOUND, bad input names its field. */
static void test_eta_change_history(void **state)
{
    (void)state;
    sl_err err;
    int64_t e0 = (sl_db_now_ms() / DAY + 12) * DAY + 12 * 3600 * 1000;
    Shelfline__V1__CreateInboundRequest ci = SHELFLINE__V1__CREATE_INBOUND_REQUEST__INIT;
    ci.inbound_id = "IN-HIST";
    ci.sku = "SKU-H";
    ci.warehouse_id = "W-NEAR";
    ci.qty = 10;
    ci.expected_at_ms = e0;
    assert_int_equal(invt_call(ich, "CreateInbound", &ci.base, DESC(inbound), A, NULL, &err),
                     SL_OK);
    /* line 0 in stock, line 1 waiting on IN-HIST */
    Shelfline__V1__PlaceOrderRequest *r = order_req("o-hist", "SKU-A", 1, 0, true);
    Shelfline__V1__OrderLineRequest l1 = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT;
    Shelfline__V1__OrderLineRequest *lines[2] = {r->lines[0], &l1};
    l1.sku = "SKU-H";
    l1.qty = 2;
    r->lines = lines;
    r->n_lines = 2;
    r->allow_split = true;
    Shelfline__V1__PlaceOrderResponse *placed;
    assert_int_equal(sd(0, "PlaceOrder", r, DESC(place_order_response), &placed, 0, &err), SL_OK);
    assert_string_equal(placed->order->lines[1]->allocations[0]->inbound_id, "IN-HIST");
    char promised_p50[11], promised_p90[11];
    snprintf(promised_p50, sizeof promised_p50, "%s", placed->order->promised->p50_date);
    snprintf(promised_p90, sizeof promised_p90, "%s", placed->order->promised->p90_date);

    Shelfline__V1__ListEtaChangesRequest lc = SHELFLINE__V1__LIST_ETA_CHANGES_REQUEST__INIT;
    Shelfline__V1__ListEtaChangesResponse *h;
    lc.order_id = "o-hist";
    assert_int_equal(sd(0, "ListEtaChanges", &lc, DESC(list_eta_changes_response), &h, 0, &err),
                     SL_OK);
    assert_int_equal(h->n_changes, 0);
    assert_string_equal(h->next_page_token, "");

    const char *reasons[2] = {"customs inspection", "vessel rerouted"};
    Shelfline__V1__DelayInboundRequest d = SHELFLINE__V1__DELAY_INBOUND_REQUEST__INIT;
    d.inbound_id = "IN-HIST";
    for (int k = 0; k < 2; k++) {
        d.new_expected_at_ms = e0 + (k + 1) * 4 * DAY;
        d.reason = (char *)reasons[k];
        assert_int_equal(invt_call(ich, "DelayInbound", &d.base, DESC(inbound), A, NULL, &err),
                         SL_OK);
        assert_true(wait_count("SELECT count(*) FROM service_desk.eta_change"
                               " WHERE order_id = 'o-hist'",
                               k + 1, 30000));
    }
    assert_int_equal(sd(1, "ListEtaChanges", &lc, DESC(list_eta_changes_response), &h, 0, &err),
                     SL_OK);
    assert_int_equal(h->n_changes, 2);
    for (int k = 0; k < 2; k++) {
        const Shelfline__V1__EtaChange *c = h->changes[k];
        assert_int_equal(c->slip_no, k + 1);
        assert_int_equal(c->cause, SHELFLINE__V1__ETA_CHANGE_CAUSE__ETA_CHANGE_INBOUND_DELAYED);
        assert_string_equal(c->inbound_id, "IN-HIST");
        assert_int_equal(c->new_expected_at_ms, e0 + (k + 1) * 4 * DAY);
        assert_non_null(strstr(c->reason, reasons[k]));
        assert_int_equal(c->n_line_nos, 1);
        assert_int_equal(c->line_nos[0], 1);
        assert_true(strcmp(c->to_p50_date, c->from_p50_date) > 0);
        assert_true(strcmp(c->to_p90_date, c->from_p90_date) > 0);
        assert_true(strcmp(c->to_p90_date, c->to_p50_date) >= 0);
        assert_true(c->changed_at_ms > 0 && c->changed_at_ms <= sl_db_now_ms());
    }
    assert_string_equal(h->changes[0]->from_p50_date, promised_p50);
    assert_string_equal(h->changes[0]->from_p90_date, promised_p90);
    assert_string_equal(h->changes[1]->from_p50_date, h->changes[0]->to_p50_date);
    assert_string_equal(h->changes[1]->from_p90_date, h->changes[0]->to_p90_date);
    assert_true(h->changes[0]->changed_at_ms <= h->changes[1]->changed_at_ms);
    /* the latest is what GetOrderEta says now */
    Shelfline__V1__OrderEta *e = order_eta("o-hist");
    assert_string_equal(e->current->p50_date, h->changes[1]->to_p50_date);
    assert_string_equal(e->current->p90_date, h->changes[1]->to_p90_date);

    /* one per page, from alternating replicas */
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pg.page_size = 1;
    lc.page = &pg;
    char token[64] = "";
    int seen = 0, pages = 0;
    do {
        pg.page_token = token;
        assert_int_equal(
            sd(pages % 2, "ListEtaChanges", &lc, DESC(list_eta_changes_response), &h, 0, &err),
            SL_OK);
        for (size_t i = 0; i < h->n_changes; i++)
            assert_int_equal(h->changes[i]->slip_no, ++seen);
        snprintf(token, sizeof token, "%s", h->next_page_token);
        pages++;
    } while (token[0] != '\0' && pages < 10);
    assert_int_equal(seen, 2);
    assert_int_equal(pages, 2); /* the second is the last: it has no token */

    /* unknown order, bad input */
    lc.page = NULL;
    lc.order_id = "o-nowhere";
    assert_int_equal(sd(0, "ListEtaChanges", &lc, DESC(list_eta_changes_response), &h, 0, &err),
                     SL_NOT_FOUND);
    assert_non_null(strstr(err.msg, "o-nowhere"));
    lc.order_id = "bad id!";
    expect_bad(SL_INVALID_ARGUMENT, "ListEtaChanges", &lc, DESC(list_eta_changes_response),
               "order_id");
    lc.order_id = "o-hist";
    lc.page = &pg;
    pg.page_token = "7a7a"; /* "zz" */
    expect_bad(SL_INVALID_ARGUMENT, "ListEtaChanges", &lc, DESC(list_eta_changes_response),
               "page.page_token");
    pg.page_token = "";
    pg.page_size = 1001;
    expect_bad(SL_INVALID_ARGUMENT, "ListEtaChanges", &lc, DESC(list_eta_changes_response),
               "page.page_size");
    sl_arena_reset(A);
}

/* One region's line of a GetBackInStockQueue answer, or NULL. */
static const Shelfline__V1__BackInStockRegionQueue *
queue_region(const Shelfline__V1__BackInStockQueue *q, const char *region)
{
    for (size_t i = 0; i < q->n_regions; i++)
        if (strcmp(q->regions[i]->region, region) == 0)
            return q->regions[i];
    return NULL;
}

/* GetBackInStockQueue counts the customers waiting per region: 4 in
 * EAST and 3 in WEST subscribe, one of EAST's leaves; a restock notifies
 * them and the queue is empty. */
static void test_back_in_stock_queue(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__GetBackInStockQueueRequest qr =
        SHELFLINE__V1__GET_BACK_IN_STOCK_QUEUE_REQUEST__INIT;
    Shelfline__V1__BackInStockQueue *bq;
    qr.sku = "SKU-Q";
    assert_int_equal(sd(0, "GetBackInStockQueue", &qr, DESC(back_in_stock_queue), &bq, 0, &err),
                     SL_OK);
    assert_int_equal(bq->waiting, 0);
    assert_int_equal(bq->n_regions, 0);

    int64_t t0 = sl_db_now_ms();
    Shelfline__V1__SubscribeBackInStockRequest sr =
        SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
    Shelfline__V1__Subscription *s;
    int64_t leaving = 0;
    sr.sku = "SKU-Q";
    for (int i = 0; i < 7; i++) {
        char c[16];
        snprintf(c, sizeof c, "c-q-%d", i);
        sr.customer_id = c;
        sr.region = i < 4 ? "EAST" : "WEST";
        assert_int_equal(sd(i % 2, "SubscribeBackInStock", &sr, DESC(subscription), &s, 0, &err),
                         SL_OK);
        if (i == 0)
            leaving = s->subscription_id;
    }
    Shelfline__V1__UnsubscribeRequest ur = SHELFLINE__V1__UNSUBSCRIBE_REQUEST__INIT;
    ur.subscription_id = leaving;
    assert_int_equal(sd(1, "Unsubscribe", &ur, DESC(subscription), &s, 0, &err), SL_OK);

    assert_int_equal(sd(1, "GetBackInStockQueue", &qr, DESC(back_in_stock_queue), &bq, 0, &err),
                     SL_OK);
    assert_string_equal(bq->sku, "SKU-Q");
    assert_int_equal(bq->waiting, 6);
    assert_int_equal(bq->n_regions, 2);
    assert_string_equal(bq->regions[0]->region, "EAST"); /* by name */
    assert_int_equal(queue_region(bq, "EAST")->waiting, 3);
    assert_int_equal(queue_region(bq, "WEST")->waiting, 3);
    /* EAST's oldest waiting is c-q-1 (c-q-0 left), at the time its
     * subscription says */
    Shelfline__V1__ListSubscriptionsRequest lr = SHELFLINE__V1__LIST_SUBSCRIPTIONS_REQUEST__INIT;
    Shelfline__V1__ListSubscriptionsResponse *ls;
    lr.customer_id = "c-q-1";
    assert_int_equal(
        sd(0, "ListSubscriptions", &lr, DESC(list_subscriptions_response), &ls, 0, &err), SL_OK);
    assert_int_equal(ls->n_subscriptions, 1);
    assert_int_equal(ls->subscriptions[0]->created_at_ms,
                     queue_region(bq, "EAST")->oldest_since_ms);
    assert_true(queue_region(bq, "WEST")->oldest_since_ms >= t0 - 1000);
    assert_true(queue_region(bq, "WEST")->oldest_since_ms >=
                queue_region(bq, "EAST")->oldest_since_ms);

    /* one region asked for, even one where nobody waits */
    qr.region = "WEST";
    assert_int_equal(sd(0, "GetBackInStockQueue", &qr, DESC(back_in_stock_queue), &bq, 0, &err),
                     SL_OK);
    assert_int_equal(bq->waiting, 3);
    assert_int_equal(bq->n_regions, 1);
    assert_string_equal(bq->regions[0]->region, "WEST");
    qr.region = "NORTH";
    assert_int_equal(sd(0, "GetBackInStockQueue", &qr, DESC(back_in_stock_queue), &bq, 0, &err),
                     SL_OK);
    assert_int_equal(bq->waiting, 0);
    assert_int_equal(bq->n_regions, 1);
    assert_string_equal(bq->regions[0]->region, "NORTH");
    assert_int_equal(bq->regions[0]->waiting, 0);
    assert_int_equal(bq->regions[0]->oldest_since_ms, 0);

    /* bad input names its field */
    qr.region = "north";
    expect_bad(SL_INVALID_ARGUMENT, "GetBackInStockQueue", &qr, DESC(back_in_stock_queue),
               "region");
    qr.region = "";
    qr.sku = "";
    expect_bad(SL_INVALID_ARGUMENT, "GetBackInStockQueue", &qr, DESC(back_in_stock_queue), "sku");

    /* 10 units at W-NEAR (it serves both regions): every waiting customer
     * is notified, the queue drains; the one who left is not */
    assert_int_equal(invt_stock(ich, "SKU-Q", "W-NEAR", 10), 0);
    assert_true(wait_count("SELECT count(*) FROM service_desk.notification"
                           " WHERE kind = 'BACK_IN_STOCK' AND customer_id LIKE 'c-q-%'",
                           6, 20000));
    qr.sku = "SKU-Q";
    assert_int_equal(sd(1, "GetBackInStockQueue", &qr, DESC(back_in_stock_queue), &bq, 0, &err),
                     SL_OK);
    assert_int_equal(bq->waiting, 0);
    assert_int_equal(bq->n_regions, 0);
    assert_int_equal(q("SELECT count(*) FROM service_desk.notification"
                       " WHERE customer_id = 'c-q-0'"),
                     0);
    sl_arena_reset(A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_happy_and_replay),
        cmocka_unit_test(test_place_converges_after_unrecorded_reserve),
        cmocka_unit_test(test_unrecorded_commit_and_release_converge),
        cmocka_unit_test(test_place_short_with_details),
        cmocka_unit_test(test_place_timeout_then_retry),
        cmocka_unit_test(test_pay_ship_deliver_cancel),
        cmocka_unit_test(test_returns),
        cmocka_unit_test(test_get_and_list_returns),
        cmocka_unit_test(test_eta_rules),
        cmocka_unit_test(test_inbound_delay_many_orders),
        cmocka_unit_test(test_tickets),
        cmocka_unit_test(test_back_in_stock_batches),
        cmocka_unit_test(test_watch_notifications),
        cmocka_unit_test(test_watch_notifications_live),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_metrics_follow_tickets_delays_and_notifications),
        cmocka_unit_test(test_lists_page_every_row_once),
        cmocka_unit_test(test_order_eta_follows_its_life),
        cmocka_unit_test(test_eta_change_history),
        cmocka_unit_test(test_back_in_stock_queue),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
