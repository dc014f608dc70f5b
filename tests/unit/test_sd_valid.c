/*
 * Unit tests of service-desk's request checks (sd_valid.c): each refusal
 * is INVALID_ARGUMENT with a message that starts with the field as the
 * client wrote it, on the suite's one id / region grammar (sl_valid).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "sd_valid.h"

#define NOW INT64_C(1767225600000) /* 2026-01-01 */

/* st must be INVALID_ARGUMENT and err must start with field. */
static void refused(sl_status st, const sl_err *err, const char *field)
{
    if (st != SL_INVALID_ARGUMENT || strncmp(err->msg, field, strlen(field)) != 0)
        fprintf(stderr, "want INVALID_ARGUMENT starting with \"%s\", got %d \"%s\"\n", field,
                (int)st, err->msg);
    assert_int_equal(st, SL_INVALID_ARGUMENT);
    assert_memory_equal(err->msg, field, strlen(field));
}

static Shelfline__V1__PlaceOrderRequest *order(Shelfline__V1__PlaceOrderRequest *r,
                                               Shelfline__V1__OrderLineRequest *l,
                                               Shelfline__V1__OrderLineRequest **lp)
{
    shelfline__v1__place_order_request__init(r);
    shelfline__v1__order_line_request__init(l);
    r->order_id = "o-1";
    r->customer_id = "c-1";
    r->region = "EU-WEST";
    l->sku = "SKU-1";
    l->qty = 2;
    lp[0] = l;
    r->lines = lp;
    r->n_lines = 1;
    return r;
}

static void test_place_order_names_each_field(void **state)
{
    (void)state;
    Shelfline__V1__PlaceOrderRequest r;
    Shelfline__V1__OrderLineRequest l, *lp[1];
    sl_err err;
    assert_int_equal(sd_valid_place_order(order(&r, &l, lp), NOW, &err), SL_OK);
    order(&r, &l, lp)->order_id = "bad id!";
    refused(sd_valid_place_order(&r, NOW, &err), &err, "order_id");
    order(&r, &l, lp)->customer_id = "";
    refused(sd_valid_place_order(&r, NOW, &err), &err, "customer_id");
    assert_non_null(strstr(err.msg, "must not be empty"));
    order(&r, &l, lp)->region = "east";
    refused(sd_valid_place_order(&r, NOW, &err), &err, "region");
    order(&r, &l, lp);
    l.sku = "SKU A";
    refused(sd_valid_place_order(&r, NOW, &err), &err, "lines[0].sku");
    order(&r, &l, lp);
    l.qty = 0;
    refused(sd_valid_place_order(&r, NOW, &err), &err, "lines[0].qty");
    order(&r, &l, lp);
    l.promotion_id = "promo 1";
    refused(sd_valid_place_order(&r, NOW, &err), &err, "lines[0].promotion_id");
    order(&r, &l, lp)->n_lines = 0;
    refused(sd_valid_place_order(&r, NOW, &err), &err, "lines");
    order(&r, &l, lp)->placed_at_ms = NOW + 2 * SD_DAY_MS;
    refused(sd_valid_place_order(&r, NOW, &err), &err, "placed_at_ms");
    order(&r, &l, lp)->placed_at_ms = NOW - 1000;
    assert_int_equal(sd_valid_place_order(&r, NOW, &err), SL_OK);
}

static void test_ids_follow_the_suite_grammar(void **state)
{
    (void)state;
    sl_err err;
    assert_int_equal(sd_valid_id("order_id", "ORD-1_a.b", &err), SL_OK);
    refused(sd_valid_id("order_id", "a/b", &err), &err, "order_id");
    char longid[70];
    memset(longid, 'x', 65);
    longid[65] = '\0';
    refused(sd_valid_id("ticket_id", longid, &err), &err, "ticket_id");
    longid[64] = '\0';
    assert_int_equal(sd_valid_id("ticket_id", longid, &err), SL_OK);
}

static void test_list_orders_page_token(void **state)
{
    (void)state;
    Shelfline__V1__ListOrdersRequest r = SHELFLINE__V1__LIST_ORDERS_REQUEST__INIT;
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    r.customer_id = "c-1";
    int64_t size;
    char ms[24];
    const char *after_ms, *after_id;
    sl_err err;
    assert_int_equal(sd_valid_list_orders(&r, &size, ms, &after_ms, &after_id, &err), SL_OK);
    assert_int_equal(size, 100);
    assert_null(after_ms);
    r.page = &page;
    page.page_size = 5;
    page.page_token = "1767225600000:o-7";
    assert_int_equal(sd_valid_list_orders(&r, &size, ms, &after_ms, &after_id, &err), SL_OK);
    assert_int_equal(size, 5);
    assert_string_equal(after_ms, "1767225600000");
    assert_string_equal(after_id, "o-7");
    page.page_token = "17x:o-7";
    refused(sd_valid_list_orders(&r, &size, ms, &after_ms, &after_id, &err), &err,
            "page.page_token");
    page.page_token = "o-7";
    refused(sd_valid_list_orders(&r, &size, ms, &after_ms, &after_id, &err), &err,
            "page.page_token");
    page.page_token = "";
    page.page_size = 1001;
    refused(sd_valid_list_orders(&r, &size, ms, &after_ms, &after_id, &err), &err,
            "page.page_size");
}

static void test_tickets(void **state)
{
    (void)state;
    Shelfline__V1__OpenTicketRequest r = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    r.ticket_id = "t-1";
    r.customer_id = "c-1";
    r.channel = SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL;
    r.subject = "where is my order";
    r.body = "it has not arrived";
    sd_lang lang;
    sl_err err;
    assert_int_equal(sd_valid_open_ticket(&r, NOW, &lang, &err), SL_OK);
    r.order_id = "bad id";
    refused(sd_valid_open_ticket(&r, NOW, &lang, &err), &err, "order_id");
    r.order_id = "";
    r.subject = "";
    refused(sd_valid_open_ticket(&r, NOW, &lang, &err), &err, "subject");
    r.subject = "s";
    r.opened_at_ms = NOW + 3600000;
    refused(sd_valid_open_ticket(&r, NOW, &lang, &err), &err, "opened_at_ms");

    Shelfline__V1__ListTicketsRequest l = SHELFLINE__V1__LIST_TICKETS_REQUEST__INIT;
    sd_ticket_filter f;
    assert_int_equal(sd_valid_list_tickets(&l, &f, &err), SL_OK);
    assert_string_equal(f.status, "");
    l.customer_id = "c 1";
    refused(sd_valid_list_tickets(&l, &f, &err), &err, "customer_id");
    l.customer_id = "";
    l.breaching_within_minutes = -1;
    refused(sd_valid_list_tickets(&l, &f, &err), &err, "breaching_within_minutes");

    Shelfline__V1__RespondTicketRequest rr = SHELFLINE__V1__RESPOND_TICKET_REQUEST__INIT;
    rr.ticket_id = "t-1";
    rr.body = "";
    refused(sd_valid_respond_ticket(&rr, &err), &err, "body");
}

static void test_returns_and_subscriptions(void **state)
{
    (void)state;
    Shelfline__V1__CreateReturnRequest r = SHELFLINE__V1__CREATE_RETURN_REQUEST__INIT;
    Shelfline__V1__ReturnLine a = SHELFLINE__V1__RETURN_LINE__INIT, b = a, *lines[2] = {&a, &b};
    r.rma_id = "rma-1";
    r.order_id = "o-1";
    r.reason = "too small";
    a.sku = "SKU-1";
    a.qty = 1;
    b.sku = "SKU-1";
    b.qty = 1;
    r.lines = lines;
    r.n_lines = 1;
    sl_err err;
    assert_int_equal(sd_valid_create_return(&r, &err), SL_OK);
    r.n_lines = 2;
    refused(sd_valid_create_return(&r, &err), &err, "lines[1].sku");
    r.n_lines = 1;
    r.rma_id = "";
    refused(sd_valid_create_return(&r, &err), &err, "rma_id");

    Shelfline__V1__SubscribeBackInStockRequest s =
        SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
    s.customer_id = "c-1";
    s.sku = "SKU-1";
    s.region = "1EAST";
    refused(sd_valid_subscribe(&s, &err), &err, "region");
    s.region = "EAST";
    assert_int_equal(sd_valid_subscribe(&s, &err), SL_OK);
    refused(sd_valid_positive("subscription_id", 0, &err), &err, "subscription_id");

    Shelfline__V1__ListNotificationsRequest n = SHELFLINE__V1__LIST_NOTIFICATIONS_REQUEST__INIT;
    n.after_id = -1;
    refused(sd_valid_list_notifications(&n, &err), &err, "after_id");
    n.after_id = 0;
    n.limit = 1001;
    refused(sd_valid_list_notifications(&n, &err), &err, "limit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_place_order_names_each_field),
        cmocka_unit_test(test_ids_follow_the_suite_grammar),
        cmocka_unit_test(test_list_orders_page_token),
        cmocka_unit_test(test_tickets),
        cmocka_unit_test(test_returns_and_subscriptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
