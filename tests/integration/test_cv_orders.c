/*
 * Integration test of the customer-value service's consumer of
 * service-desk's order events: real shelfline-inventory,
 * shelfline-service-desk and shelfline-customer-value processes on one
 * fresh database.  An order placed and paid through service-desk becomes a
 * purchase here (customer created on first sight, category from the
 * catalogue, amount from the unit prices), exactly once; a received return
 * is netted out; an order also recorded through the API is not counted
 * twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inv_test.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_client.h"
#include "sl_test.h"

typedef struct fixture {
    invt_svc inv;
    pid_t sd_pid, cv_pid;
    int sd_port, cv_port;
    sl_channel *sd, *cv;
    sl_arena *a;
} fixture;

static fixture F;

static pid_t spawn(const char *bin_name, int port, const char *extra1, const char *extra2)
{
    char e[6][640];
    snprintf(e[0], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", F.inv.conninfo);
    snprintf(e[1], sizeof e[1], "SHELFLINE_LISTEN=127.0.0.1:%d", port);
    snprintf(e[2], sizeof e[2], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", F.inv.port[0]);
    snprintf(e[3], sizeof e[3], "SHELFLINE_LOG_LEVEL=error");
    snprintf(e[4], sizeof e[4], "%s", extra1);
    snprintf(e[5], sizeof e[5], "%s", extra2);
    char *envp[] = {e[0], e[1], e[2], e[3], e[4], e[5], NULL};
    char *bin = sl_test_bin(bin_name);
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, envp);
    free(bin);
    return pid;
}

static sl_channel *channel(int port)
{
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_channel *ch = NULL;
    sl_err err;
    return sl_channel_create(target, NULL, &ch, &err) == SL_OK ? ch : NULL;
}

static int setup(void **state)
{
    (void)state;
    F.a = sl_arena_create(0);
    if (invt_start(&F.inv, "cvorders", 1, NULL) != 0 || invt_seed(F.inv.ch[0], NULL, 0) != 0)
        return -1;
    Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
    m.minor_units = 1500;
    m.currency = "USD";
    Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
    p.sku = "COF-9";
    p.name = "coffee";
    p.category = "coffee";
    p.price = &m;
    p.repeat_purchase_days = 30;
    Shelfline__V1__CreateProductRequest r = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
    r.product = &p;
    sl_err err;
    if (invt_call(F.inv.ch[0], "CreateProduct", &r.base, &shelfline__v1__product__descriptor, F.a,
                  NULL, &err) != SL_OK ||
        invt_stock(F.inv.ch[0], "COF-9", "W-NEAR", 100) != 0)
        return -1;
    F.sd_port = sl_test_free_port();
    F.sd_pid = spawn("shelfline-service-desk", F.sd_port, "SHELFLINE_SD_BIS_INTERVAL=10s",
                     "SHELFLINE_DRAIN_GRACE=5s");
    if (F.sd_pid <= 0 || !sl_test_wait_child_port(F.sd_pid, F.sd_port, 30000))
        return -1;
    char sd_addr[64];
    snprintf(sd_addr, sizeof sd_addr, "SHELFLINE_SERVICE_DESK_ADDR=127.0.0.1:%d", F.sd_port);
    F.cv_port = sl_test_free_port();
    F.cv_pid = spawn("shelfline-customer-value", F.cv_port, sd_addr, "SHELFLINE_DRAIN_GRACE=5s");
    if (F.cv_pid <= 0 || !sl_test_wait_child_port(F.cv_pid, F.cv_port, 30000))
        return -1;
    F.sd = channel(F.sd_port);
    F.cv = channel(F.cv_port);
    return F.sd != NULL && F.cv != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int bad = 0;
    pid_t pids[2] = {F.cv_pid, F.sd_pid};
    for (int i = 0; i < 2; i++)
        if (pids[i] > 0) {
            int status = sl_test_stop(pids[i], SIGTERM, 30000);
            bad += status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
    sl_channel_destroy(F.cv);
    sl_channel_destroy(F.sd);
    invt_stop(&F.inv);
    sl_arena_destroy(F.a);
    sl_test_kill_all();
    return bad ? -1 : 0;
}

static sl_status sd_call(const char *method, const ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *rd, sl_err *err)
{
    return sl_test_call(F.sd, "ServiceDeskService", method, req, rd, F.a, NULL, 0, err);
}

/* GetCustomerValue, polled until it shows `orders` orders and `spend`
 * (or 20 s pass). */
static Shelfline__V1__CustomerValue *wait_value(const char *id, int64_t orders, int64_t spend)
{
    Shelfline__V1__CustomerValue *v = NULL;
    for (int i = 0; i < 200; i++) {
        Shelfline__V1__GetCustomerValueRequest g = SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
        g.customer_id = (char *)id;
        sl_call_options o = {.timeout_ms = 10000};
        ProtobufCMessage *m;
        sl_err err;
        if (sl_client_unary(F.cv, "/shelfline.v1.CustomerValueService/GetCustomerValue", &g.base,
                            &shelfline__v1__customer_value__descriptor, F.a, &m, &o,
                            &err) == SL_OK) {
            v = (Shelfline__V1__CustomerValue *)m;
            if (v->orders == orders && v->total_spend->minor_units == spend)
                return v;
        }
        invt_sleep_ms(100);
    }
    if (v != NULL)
        fail_msg("%s: %lld orders, spend %lld; want %lld, %lld", id, (long long)v->orders,
                 (long long)v->total_spend->minor_units, (long long)orders, (long long)spend);
    fail_msg("%s never appeared", id);
    return NULL;
}

static void test_paid_orders_and_returns_arrive(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__OrderLineRequest l = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT, *lp = &l;
    l.sku = "COF-9";
    l.qty = 2;
    Shelfline__V1__PlaceOrderRequest po = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    po.order_id = "sd-o-1";
    po.customer_id = "sd-cust";
    po.region = "EAST";
    po.lines = &lp;
    po.n_lines = 1;
    sl_status st =
        sd_call("PlaceOrder", &po.base, &shelfline__v1__place_order_response__descriptor, &err);
    if (st != SL_OK)
        fail_msg("PlaceOrder: %s %s", sl_status_name(st), err.msg);
    /* Placed but not paid: not a purchase yet. */
    invt_sleep_ms(500);
    assert_int_equal(invt_sql_int(F.inv.conninfo, "SELECT count(*) FROM customer_value.purchase"),
                     0);
    Shelfline__V1__ConfirmPaymentRequest cp = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
    cp.order_id = "sd-o-1";
    st = sd_call("ConfirmPayment", &cp.base, &shelfline__v1__order__descriptor, &err);
    if (st != SL_OK)
        fail_msg("ConfirmPayment: %s %s", sl_status_name(st), err.msg);

    Shelfline__V1__CustomerValue *v = wait_value("sd-cust", 1, 3000);
    assert_string_equal(v->region, "EAST");
    assert_int_equal(v->n_top_categories, 1);
    assert_string_equal(v->top_categories[0]->category, "coffee");
    assert_int_equal(invt_sql_int(F.inv.conninfo, "SELECT count(*) FROM customer_value.purchase "
                                                  "WHERE order_id = 'sd-o-1'"),
                     1);

    /* Delivered, then partly returned: the return received at
     * service-desk is netted out. */
    const Shelfline__V1__ShipmentStep steps[] = {SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_PICKED,
                                                 SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED,
                                                 SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_DELIVERED};
    for (size_t i = 0; i < 3; i++) {
        Shelfline__V1__UpdateShipmentRequest us = SHELFLINE__V1__UPDATE_SHIPMENT_REQUEST__INIT;
        us.order_id = "sd-o-1";
        us.step = steps[i];
        us.carrier = "ACME";
        us.tracking = "T-1";
        st = sd_call("UpdateShipment", &us.base, &shelfline__v1__order__descriptor, &err);
        if (st != SL_OK)
            fail_msg("UpdateShipment %zu: %s %s", i, sl_status_name(st), err.msg);
    }
    Shelfline__V1__ReturnLine rl = SHELFLINE__V1__RETURN_LINE__INIT, *rlp = &rl;
    rl.sku = "COF-9";
    rl.qty = 1;
    Shelfline__V1__CreateReturnRequest cr = SHELFLINE__V1__CREATE_RETURN_REQUEST__INIT;
    cr.rma_id = "rma-1";
    cr.order_id = "sd-o-1";
    cr.lines = &rlp;
    cr.n_lines = 1;
    cr.reason = "too strong";
    st = sd_call("CreateReturn", &cr.base, &shelfline__v1__return__descriptor, &err);
    if (st != SL_OK)
        fail_msg("CreateReturn: %s %s", sl_status_name(st), err.msg);
    Shelfline__V1__ReceiveReturnRequest rr = SHELFLINE__V1__RECEIVE_RETURN_REQUEST__INIT;
    rr.rma_id = "rma-1";
    rr.condition = SHELFLINE__V1__RETURN_CONDITION__RETURN_RESELLABLE;
    st = sd_call("ReceiveReturn", &rr.base, &shelfline__v1__return__descriptor, &err);
    if (st != SL_OK)
        fail_msg("ReceiveReturn: %s %s", sl_status_name(st), err.msg);
    wait_value("sd-cust", 1, 1500);
    assert_int_equal(
        invt_sql_int(F.inv.conninfo, "SELECT count(*) FROM customer_value.purchase_return"), 1);

    /* An order first recorded through the API is not counted again when
     * its event arrives (sd-o-3 after it shows the event was applied). */
    Shelfline__V1__Money am = SHELFLINE__V1__MONEY__INIT;
    am.minor_units = 1500;
    am.currency = "USD";
    Shelfline__V1__PurchaseLine pl = SHELFLINE__V1__PURCHASE_LINE__INIT, *plp = &pl;
    pl.sku = "COF-9";
    pl.category = "coffee";
    pl.qty = 1;
    pl.amount = &am;
    Shelfline__V1__RecordPurchaseRequest rp = SHELFLINE__V1__RECORD_PURCHASE_REQUEST__INIT;
    rp.order_id = "sd-o-2";
    rp.customer_id = "sd-cust";
    rp.at_ms = (int64_t)time(NULL) * 1000;
    rp.amount = &am;
    rp.lines = &plp;
    rp.n_lines = 1;
    sl_call_options o = {.timeout_ms = 10000};
    ProtobufCMessage *m;
    assert_int_equal(sl_client_unary(F.cv, "/shelfline.v1.CustomerValueService/RecordPurchase",
                                     &rp.base, &shelfline__v1__record_purchase_response__descriptor,
                                     F.a, &m, &o, &err),
                     SL_OK);
    const char *more[] = {"sd-o-2", "sd-o-3"};
    for (size_t i = 0; i < 2; i++) {
        po.order_id = (char *)more[i];
        l.qty = 1;
        st =
            sd_call("PlaceOrder", &po.base, &shelfline__v1__place_order_response__descriptor, &err);
        if (st != SL_OK)
            fail_msg("PlaceOrder %s: %s %s", more[i], sl_status_name(st), err.msg);
        cp.order_id = (char *)more[i];
        st = sd_call("ConfirmPayment", &cp.base, &shelfline__v1__order__descriptor, &err);
        if (st != SL_OK)
            fail_msg("ConfirmPayment %s: %s %s", more[i], sl_status_name(st), err.msg);
    }
    wait_value("sd-cust", 3, 4500);

    /* Exactly once: the consumer's cursor moved past every event. */
    assert_int_equal(invt_sql_int(F.inv.conninfo,
                                  "SELECT count(*) FROM customer_value.outbox "
                                  "WHERE topic IN ('PURCHASE_RECORDED', 'RETURN_RECORDED')"),
                     4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paid_orders_and_returns_arrive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
