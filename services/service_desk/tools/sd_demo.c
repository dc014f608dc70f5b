/*
 * shelfline-service-desk-demo: loads the service desk's demo data into a
 * running service-desk (and through it, inventory) over gRPC, on top of
 * the inventory demo network (shelfline-inventory-demo runs first).
 *
 * What it loads (deterministic: a fixed seed, the same data every run):
 *   - 300 orders demo-o-0001.. from 60 customers demo-c-00..59 across the
 *     three regions, 1-3 lines each over the first 400 demo SKUs, split
 *     and backorder allowed -- so lines come from several warehouses and
 *     SKUs that are out of stock wait on their purchase orders (PO-<sku>);
 *     orders that cannot be reserved at all are skipped;
 *   - about half of them paid, a third of those shipped, some delivered;
 *   - two back-in-stock subscriptions per customer;
 *   - 300 tickets demo-t-0001.. in English, French, Russian and Chinese
 *     (the texts of the classifier's training set), about a third about
 *     one of the customer's orders.
 *
 * Idempotent: every call carries a fixed key (order, ticket, subscription
 * are idempotent by key; payment and shipment steps repeat as no-ops).
 *
 * usage: shelfline-service-desk-demo  (addresses from
 *        SHELFLINE_SERVICE_DESK_ADDR [127.0.0.1:50054] and
 *        SHELFLINE_INVENTORY_ADDR [127.0.0.1:50051])
 * Exit status 0 when everything loaded, 1 otherwise (first error on
 * stderr).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_client.h"

extern const char sd_classify_train_tsv[];
extern const size_t sd_classify_train_tsv_len;

#define ORDERS 300
#define CUSTOMERS 60
#define TICKETS 300
#define DEMO_SKUS 400

static const char *const regions[3] = {"NA-EAST", "NA-WEST", "EU-CENTRAL"};
static const char *const cat_codes[10] = {"ELEC",  "HOME",   "KITCH", "TOYS", "BOOK",
                                          "SPORT", "BEAUTY", "GROC",  "PET",  "APPAR"};

typedef struct demo {
    sl_channel *sd, *inv;
    sl_arena *a;
    uint64_t rng;
    int failures;
} demo;

static uint32_t next(demo *d)
{
    d->rng = d->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(d->rng >> 33);
}

/* The inventory demo's i-th SKU (see inventory_demo.c). */
static void sku_name(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%04d", cat_codes[i % 10], i / 10 + 1);
}

static sl_status call(demo *d, sl_channel *ch, const char *service, const char *method,
                      const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd, void *out,
                      sl_err *err)
{
    char full[128];
    snprintf(full, sizeof full, "/shelfline.v1.%s/%s", service, method);
    sl_call_options o = {.timeout_ms = 30000, .idempotent = true, .wait_for_ready = true};
    ProtobufCMessage *m = NULL;
    sl_status st = sl_client_unary(ch, full, req, rd, d->a, &m, &o, err);
    if (out != NULL)
        *(ProtobufCMessage **)out = m;
    return st;
}

static sl_status sd_call(demo *d, const char *method, const ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *rd, void *out, sl_err *err)
{
    return call(d, d->sd, "ServiceDeskService", method, req, rd, out, err);
}

static void fail(demo *d, const char *what, sl_status st, const sl_err *err)
{
    if (d->failures++ == 0)
        fprintf(stderr, "shelfline-service-desk-demo: %s: %s: %s\n", what, sl_status_name(st),
                err->msg);
}

static int orders(demo *d)
{
    int placed = 0, short_ = 0;
    d->rng = 20261123;
    for (int i = 1; i <= ORDERS; i++) {
        char id[32], cust[32], skus[3][32];
        snprintf(id, sizeof id, "demo-o-%04d", i);
        int c = (int)(next(d) % CUSTOMERS);
        snprintf(cust, sizeof cust, "demo-c-%02d", c);
        int n = 1 + (int)(next(d) % 3);
        Shelfline__V1__OrderLineRequest lines[3], *lp[3];
        for (int k = 0; k < n; k++) {
            shelfline__v1__order_line_request__init(&lines[k]);
            sku_name((int)(next(d) % DEMO_SKUS), skus[k], sizeof skus[k]);
            lines[k].sku = skus[k];
            lines[k].qty = 1 + (int)(next(d) % 3);
            lp[k] = &lines[k];
        }
        /* distinct SKUs per order */
        if (n > 1 && strcmp(skus[0], skus[1]) == 0)
            n = 1;
        if (n > 2 && (strcmp(skus[2], skus[0]) == 0 || strcmp(skus[2], skus[1]) == 0))
            n = 2;
        Shelfline__V1__PlaceOrderRequest r = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
        r.order_id = id;
        r.customer_id = cust;
        r.region = (char *)regions[c % 3];
        r.lines = lp;
        r.n_lines = (size_t)n;
        r.allow_split = true;
        r.allow_backorder = true;
        sl_err err;
        uint32_t fate = next(d) % 100;
        sl_status st = sd_call(d, "PlaceOrder", &r.base,
                               &shelfline__v1__place_order_response__descriptor, NULL, &err);
        sl_arena_reset(d->a);
        if (st == SL_FAILED_PRECONDITION || st == SL_RESOURCE_EXHAUSTED) {
            short_++;
            continue;
        }
        if (st != SL_OK) {
            fail(d, id, st, &err);
            continue;
        }
        placed++;
        if (fate >= 50)
            continue;
        Shelfline__V1__ConfirmPaymentRequest cp = SHELFLINE__V1__CONFIRM_PAYMENT_REQUEST__INIT;
        cp.order_id = id;
        if ((st = sd_call(d, "ConfirmPayment", &cp.base, &shelfline__v1__order__descriptor, NULL,
                          &err)) != SL_OK) {
            if (st != SL_FAILED_PRECONDITION) /* a hold that expired since */
                fail(d, "ConfirmPayment", st, &err);
            continue;
        }
        static const Shelfline__V1__ShipmentStep steps[3] = {
            SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_PICKED,
            SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED,
            SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_DELIVERED};
        int upto = fate < 10 ? 3 : fate < 20 ? 2 : fate < 30 ? 1 : 0;
        for (int s = 0; s < upto; s++) {
            Shelfline__V1__UpdateShipmentRequest us = SHELFLINE__V1__UPDATE_SHIPMENT_REQUEST__INIT;
            char tracking[32];
            snprintf(tracking, sizeof tracking, "1ZDEMO%04d", i);
            us.order_id = id;
            us.step = steps[s];
            us.carrier = "UPS";
            us.tracking = tracking;
            if ((st = sd_call(d, "UpdateShipment", &us.base, &shelfline__v1__order__descriptor,
                              NULL, &err)) != SL_OK &&
                st != SL_FAILED_PRECONDITION)
                fail(d, "UpdateShipment", st, &err);
        }
        sl_arena_reset(d->a);
    }
    printf("  orders: %d placed (or already there), %d could not be reserved\n", placed, short_);
    return 0;
}

/* Two subscriptions per customer (chosen without looking at stock, so a
 * re-run makes the same ones). */
static int subscriptions(demo *d)
{
    int made = 0;
    d->rng = 20261124;
    for (int c = 0; c < CUSTOMERS; c++) {
        char cust[32];
        snprintf(cust, sizeof cust, "demo-c-%02d", c);
        for (int k = 0; k < 2; k++) {
            char sku[32];
            sku_name((int)(next(d) % DEMO_SKUS), sku, sizeof sku);
            Shelfline__V1__SubscribeBackInStockRequest sr =
                SHELFLINE__V1__SUBSCRIBE_BACK_IN_STOCK_REQUEST__INIT;
            sr.customer_id = cust;
            sr.sku = sku;
            sr.region = (char *)regions[c % 3];
            sl_err err;
            sl_status st = sd_call(d, "SubscribeBackInStock", &sr.base,
                                   &shelfline__v1__subscription__descriptor, NULL, &err);
            if (st != SL_OK)
                fail(d, "SubscribeBackInStock", st, &err);
            else
                made++;
            sl_arena_reset(d->a);
        }
    }
    printf("  back-in-stock subscriptions: %d\n", made);
    return 0;
}

/* Tickets from the classifier's training texts (language, category,
 * subject, body per line). */
static int tickets(demo *d)
{
    char *tsv = malloc(sd_classify_train_tsv_len + 1);
    if (tsv == NULL)
        return -1;
    memcpy(tsv, sd_classify_train_tsv, sd_classify_train_tsv_len);
    tsv[sd_classify_train_tsv_len] = '\0';
    int made = 0, lines = 0;
    int by_lang[4] = {0};
    d->rng = 20261125;
    char *nextline = NULL;
    for (char *line = tsv; line != NULL && made < TICKETS; line = nextline) {
        char *nl = strchr(line, '\n');
        nextline = nl != NULL ? nl + 1 : NULL;
        if (nl != NULL)
            *nl = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *f[4] = {line, NULL, NULL, NULL};
        for (int k = 1; k < 4; k++) {
            char *tab = strchr(f[k - 1], '\t');
            if (tab == NULL)
                break;
            *tab = '\0';
            f[k] = tab + 1;
        }
        if (f[3] == NULL || lines++ % 3 == 2) /* every third text is left out */
            continue;
        char id[32], cust[32], order[32];
        made++;
        snprintf(id, sizeof id, "demo-t-%04d", made);
        int c = (int)(next(d) % CUSTOMERS);
        snprintf(cust, sizeof cust, "demo-c-%02d", c);
        snprintf(order, sizeof order, "demo-o-%04d", 1 + (int)(next(d) % ORDERS));
        Shelfline__V1__OpenTicketRequest r = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
        r.ticket_id = id;
        r.customer_id = cust;
        r.channel = (Shelfline__V1__TicketChannel)(1 + next(d) % 4);
        r.subject = f[2][0] != '\0' ? f[2] : "(no subject)";
        r.body = f[3];
        r.language = f[0];
        const char *lang = f[0];
        by_lang[strcmp(lang, "en") == 0   ? 0
                : strcmp(lang, "fr") == 0 ? 1
                : strcmp(lang, "ru") == 0 ? 2
                                          : 3]++;
        bool about_order = made % 3 == 0;
        r.order_id = about_order ? order : "";
        sl_err err;
        sl_status st =
            sd_call(d, "OpenTicket", &r.base, &shelfline__v1__ticket__descriptor, NULL, &err);
        /* that order could not be placed (or, on a re-run, was not when the
         * ticket was first opened): the ticket is about no order */
        if ((st == SL_NOT_FOUND || st == SL_ALREADY_EXISTS) && about_order) {
            r.order_id = "";
            st = sd_call(d, "OpenTicket", &r.base, &shelfline__v1__ticket__descriptor, NULL, &err);
        }
        if (st != SL_OK)
            fail(d, id, st, &err);
        sl_arena_reset(d->a);
    }
    free(tsv);
    printf("  tickets: %d (en %d, fr %d, ru %d, zh %d)\n", made, by_lang[0], by_lang[1], by_lang[2],
           by_lang[3]);
    return 0;
}

int main(void)
{
    const char *sd_addr = getenv("SHELFLINE_SERVICE_DESK_ADDR");
    const char *inv_addr = getenv("SHELFLINE_INVENTORY_ADDR");
    demo d = {.rng = 20261123};
    sl_err err;
    sl_channel_options co;
    /* The services authenticate: the token make run issued the loaders. */
    if (sl_channel_options_from_env(&co, &err) != SL_OK) {
        fprintf(stderr, "shelfline-service-desk-demo: %s\n", err.msg);
        return 1;
    }
    if (sl_channel_create(sd_addr && *sd_addr ? sd_addr : "127.0.0.1:50054", &co, &d.sd, &err) !=
            SL_OK ||
        sl_channel_create(inv_addr && *inv_addr ? inv_addr : "127.0.0.1:50051", &co, &d.inv,
                          &err) != SL_OK ||
        (d.a = sl_arena_create(64 * 1024)) == NULL) {
        fprintf(stderr, "shelfline-service-desk-demo: %s\n", err.msg);
        return 1;
    }
    int rc = orders(&d) | subscriptions(&d) | tickets(&d);
    sl_arena_destroy(d.a);
    sl_channel_destroy(d.sd);
    sl_channel_destroy(d.inv);
    if (rc != 0 || d.failures > 0) {
        fprintf(stderr, "shelfline-service-desk-demo: %d calls failed\n", d.failures);
        return 1;
    }
    return 0;
}
