/*
 * cv_orders: purchases and returns from service-desk's order events.
 *
 * An sl_consumer follows ServiceDeskService/WatchEvents (subscription
 * "customer-value/service-desk"): ORDER_PAID becomes a recorded purchase
 * and RETURN_RECEIVED a recorded return, each in the consumer's transaction
 * together with its cursor, so every event takes effect exactly once.  The
 * keys are the order id and the return's RMA id, the same keys as
 * RecordPurchase and RecordReturn: an order also recorded through the API
 * is not counted twice.
 *
 * Mapping:
 *  - the customer is created on first sight (region from the order,
 *    sign-up = the order's placement time) when this service does not know
 *    them yet;
 *  - line amount = unit price x units, in the unit price's currency; the
 *    category comes from inventory's catalogue ("uncategorised" when the
 *    SKU is not there); lines of the same SKU are merged;
 *  - a return's lines are refunded at the unit value paid (SD's refund rule).
 * An event that cannot apply (an order in another currency than the
 * customer's earlier orders, a return of an order this service never saw,
 * a free order) is logged and skipped: a poison event must not stall the
 * subscription, and nothing else would ever make it apply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_app.h"
#include "cv_service.h"
#include "cv_store.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"

static const char *const topics[] = {"ORDER_PAID", "RETURN_RECEIVED"};

static sl_status oom(sl_err *err)
{
    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
}

/* A paid order's lines merged by SKU (*n of them, in *currency, *total
 * minor units); *n is 0 when nothing is to be recorded (lines in several
 * currencies, nothing paid), which is logged. */
static sl_status paid_lines(const Shelfline__V1__Order *o, sl_arena *a, cv_line_in **out,
                            const char ***out_skus, size_t *out_n, const char **out_currency,
                            int64_t *out_total, sl_err *err)
{
    *out_n = 0;
    const char **skus = sl_arena_alloc(a, o->n_lines * sizeof *skus);
    cv_line_in *lines = sl_arena_zalloc(a, o->n_lines * sizeof *lines);
    if (skus == NULL || lines == NULL)
        return oom(err);
    const char *currency = NULL;
    size_t n = 0;
    int64_t total = 0;
    for (size_t i = 0; i < o->n_lines; i++) {
        const Shelfline__V1__OrderLine *l = o->lines[i];
        if (l->unit_price == NULL || l->qty <= 0)
            continue;
        if (currency == NULL)
            currency = l->unit_price->currency;
        else if (strcmp(currency, l->unit_price->currency) != 0) {
            SL_LOG(SL_LOG_WARN, "order_event", NULL,
                   "skipping order \"%s\": lines in several currencies", o->order_id);
            return SL_OK;
        }
        size_t k = 0;
        while (k < n && strcmp(lines[k].sku, l->sku) != 0)
            k++;
        if (k == n) {
            lines[n].sku = l->sku;
            skus[n++] = l->sku;
        }
        lines[k].qty += l->qty;
        lines[k].amount_minor += l->unit_price->minor_units * l->qty;
        total += l->unit_price->minor_units * l->qty;
    }
    if (n == 0 || total <= 0) {
        SL_LOG(SL_LOG_INFO, "order_event", NULL, "skipping order \"%s\": nothing paid",
               o->order_id);
        return SL_OK;
    }
    *out = lines;
    *out_skus = skus;
    *out_n = n;
    *out_currency = currency;
    *out_total = total;
    return SL_OK;
}

/* Each line's category from the catalogue ("uncategorised" for a SKU it
 * does not know); UNAVAILABLE (so the event is retried) when the
 * catalogue cannot be read: without categories the purchase would be
 * wrong for good. */
static sl_status paid_categories(cv_app *app, sl_arena *a, const char *order_id, cv_line_in *lines,
                                 const char **skus, size_t n, sl_err *err)
{
    cv_snapshot *snap = NULL;
    sl_err cerr;
    if (cv_catalog_acquire(app->catalog, NULL, skus, n, &snap, &cerr) != SL_OK)
        return sl_err_set(err, SL_UNAVAILABLE, "order \"%s\": %s", order_id, cerr.msg);
    sl_status st = SL_OK;
    for (size_t k = 0; k < n && st == SL_OK; k++) {
        const cv_product *p = cv_snapshot_find(snap, lines[k].sku);
        lines[k].category = sl_arena_strdup(a, p != NULL ? p->category : "uncategorised");
        if (lines[k].category == NULL)
            st = oom(err);
    }
    cv_catalog_release(app->catalog, snap);
    return st;
}

/* The order's customer, created (and CUSTOMER_UPSERTED published) on
 * first sight; *skip when the customer already pays in another currency
 * (logged). */
static sl_status paid_customer(cv_app *app, sl_db_conn *conn, sl_arena *a,
                               const Shelfline__V1__Order *o, const char *currency, bool *skip,
                               sl_err *err)
{
    *skip = false;
    cv_customer_row *cust;
    sl_status st = cv_store_customer_get(conn, a, o->customer_id, true, &cust, err);
    if (st != SL_OK)
        return st;
    if (cust == NULL) {
        cv_customer_row in = {o->customer_id, o->region, "",
                              o->placed_at_ms > 0 ? o->placed_at_ms : sl_db_now_ms(), 0};
        bool created, changed;
        if ((st = cv_store_customer_upsert(conn, a, &in, &created, &changed, &cust, err)) != SL_OK)
            return st;
        Shelfline__V1__Customer m = SHELFLINE__V1__CUSTOMER__INIT;
        m.customer_id = (char *)cust->customer_id;
        m.region = (char *)cust->region;
        m.signed_up_at_ms = cust->signed_up_ms;
        m.referred_by = "";
        m.updated_at_ms = cust->updated_ms;
        if ((st = sl_events_publish(app->events, conn, "CUSTOMER_UPSERTED", cust->customer_id,
                                    &m.base, err)) != SL_OK)
            return st;
    }
    const char *cur;
    if ((st = cv_store_customer_currency(conn, a, o->customer_id, &cur, err)) != SL_OK)
        return st;
    if (cur != NULL && strcmp(cur, currency) != 0) {
        SL_LOG(SL_LOG_WARN, "order_event", NULL,
               "skipping order \"%s\": currency \"%s\" differs from the customer's \"%s\"",
               o->order_id, currency, cur);
        *skip = true;
    }
    return SL_OK;
}

/* Records the purchase as RecordPurchase would have (the request's bytes
 * are the idempotency record), refreshes the customer's summary and
 * publishes PURCHASE_RECORDED. */
static sl_status paid_record(cv_app *app, sl_db_conn *conn, sl_arena *a,
                             const Shelfline__V1__Order *o, const cv_line_in *lines, size_t n,
                             const char *currency, int64_t total, sl_err *err)
{
    Shelfline__V1__Money tm = SHELFLINE__V1__MONEY__INIT;
    tm.minor_units = total;
    tm.currency = (char *)currency;
    Shelfline__V1__PurchaseLine *pl = sl_arena_alloc(a, n * sizeof *pl);
    Shelfline__V1__PurchaseLine **pp = sl_arena_alloc(a, n * sizeof *pp);
    Shelfline__V1__Money *lm = sl_arena_alloc(a, n * sizeof *lm);
    if (pl == NULL || pp == NULL || lm == NULL)
        return oom(err);
    for (size_t k = 0; k < n; k++) {
        shelfline__v1__purchase_line__init(&pl[k]);
        shelfline__v1__money__init(&lm[k]);
        lm[k].minor_units = lines[k].amount_minor;
        lm[k].currency = (char *)currency;
        pl[k].sku = (char *)lines[k].sku;
        pl[k].category = (char *)lines[k].category;
        pl[k].qty = lines[k].qty;
        pl[k].amount = &lm[k];
        pp[k] = &pl[k];
    }
    Shelfline__V1__RecordPurchaseRequest req = SHELFLINE__V1__RECORD_PURCHASE_REQUEST__INIT;
    req.order_id = o->order_id;
    req.customer_id = o->customer_id;
    req.at_ms = o->placed_at_ms > 0 ? o->placed_at_ms : sl_db_now_ms();
    req.amount = &tm;
    req.lines = pp;
    req.n_lines = n;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *bytes = sl_arena_alloc(a, len + 1);
    if (bytes == NULL)
        return oom(err);
    protobuf_c_message_pack(&req.base, bytes);
    int64_t recorded;
    sl_status st = cv_store_purchase_insert(conn, a, o->order_id, o->customer_id, req.at_ms, total,
                                            currency, bytes, len, lines, n, &recorded, err);
    if (st == SL_OK)
        st = cv_store_summary_refresh(conn, o->customer_id, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__PurchaseRecorded ev = SHELFLINE__V1__PURCHASE_RECORDED__INIT;
    ev.order_id = o->order_id;
    ev.customer_id = o->customer_id;
    ev.at_ms = req.at_ms;
    ev.amount = &tm;
    ev.line_count = (int32_t)n;
    return sl_events_publish(app->events, conn, "PURCHASE_RECORDED", o->customer_id, &ev.base, err);
}

/* A paid order becomes a purchase of its customer, once: its lines
 * (paid_lines), their categories (paid_categories), the customer
 * (paid_customer) and the record (paid_record). */
static sl_status apply_paid(cv_app *app, sl_db_conn *conn, sl_arena *a,
                            const Shelfline__V1__Order *o, sl_err *err)
{
    if (o == NULL || o->n_lines == 0)
        return SL_OK;
    cv_keyed_row *prev;
    sl_status st = cv_store_purchase_get(conn, a, o->order_id, false, &prev, err);
    if (st != SL_OK || prev != NULL)
        return st; /* already recorded (API or a replayed event) */
    cv_line_in *lines;
    const char **skus;
    size_t n;
    const char *currency;
    int64_t total;
    bool skip;
    if ((st = paid_lines(o, a, &lines, &skus, &n, &currency, &total, err)) != SL_OK || n == 0 ||
        (st = paid_categories(app, a, o->order_id, lines, skus, n, err)) != SL_OK ||
        (st = paid_customer(app, conn, a, o, currency, &skip, err)) != SL_OK || skip)
        return st;
    return paid_record(app, conn, a, o, lines, n, currency, total, err);
}

static sl_status apply_return(cv_app *app, sl_db_conn *conn, sl_arena *a,
                              const Shelfline__V1__Return *r, sl_err *err)
{
    if (r == NULL || r->n_lines == 0)
        return SL_OK;
    cv_keyed_row *prev, *order;
    sl_status st = cv_store_return_get(conn, a, r->rma_id, &prev, err);
    if (st != SL_OK || prev != NULL)
        return st;
    if ((st = cv_store_purchase_get(conn, a, r->order_id, true, &order, err)) != SL_OK)
        return st;
    if (order == NULL) {
        SL_LOG(SL_LOG_WARN, "order_event", NULL,
               "skipping return \"%s\": order \"%s\" was never recorded here", r->rma_id,
               r->order_id);
        return SL_OK;
    }
    /* Check every line first: a return that cannot apply is skipped
     * whole, before anything is written. */
    int64_t *refund = sl_arena_alloc(a, r->n_lines * sizeof *refund);
    if (refund == NULL)
        return oom(err);
    int64_t total = 0;
    for (size_t i = 0; i < r->n_lines; i++) {
        int64_t qty = 0, amount = 0, returned = 0;
        if ((st = cv_store_order_line(conn, r->order_id, r->lines[i]->sku, &qty, &amount, &returned,
                                      err)) != SL_OK)
            return st;
        if (qty <= 0 || r->lines[i]->qty <= 0 || returned + r->lines[i]->qty > qty) {
            SL_LOG(SL_LOG_WARN, "order_event", NULL,
                   "skipping return \"%s\": \"%s\" was not bought that often on order \"%s\"",
                   r->rma_id, r->lines[i]->sku, r->order_id);
            return SL_OK;
        }
        refund[i] = amount / qty * r->lines[i]->qty;
        total += refund[i];
    }
    for (size_t i = 0; i < r->n_lines; i++) {
        bool found;
        st = cv_store_return_line(conn, r->order_id, r->lines[i]->sku, r->lines[i]->qty, refund[i],
                                  &found, err);
        if (st != SL_OK)
            return st;
    }
    Shelfline__V1__RecordReturnRequest req = SHELFLINE__V1__RECORD_RETURN_REQUEST__INIT;
    req.order_id = r->order_id;
    req.return_id = r->rma_id;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *bytes = sl_arena_alloc(a, len + 1);
    if (bytes == NULL)
        return oom(err);
    protobuf_c_message_pack(&req.base, bytes);
    int64_t recorded;
    int64_t at = r->received_at_ms > 0 ? r->received_at_ms : sl_db_now_ms();
    st =
        cv_store_return_insert(conn, r->rma_id, r->order_id, at, total, bytes, len, &recorded, err);
    if (st == SL_OK)
        st = cv_store_summary_refresh(conn, order->customer_id, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
    m.minor_units = total;
    m.currency = (char *)order->currency;
    Shelfline__V1__ReturnRecorded ev = SHELFLINE__V1__RETURN_RECORDED__INIT;
    ev.return_id = r->rma_id;
    ev.order_id = r->order_id;
    ev.customer_id = (char *)order->customer_id;
    ev.amount = &m;
    return sl_events_publish(app->events, conn, "RETURN_RECORDED", order->customer_id, &ev.base,
                             err);
}

static sl_status apply(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx, sl_err *err)
{
    cv_app *app = ctx;
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return oom(err);
    sl_status st = SL_OK;
    if (strcmp(ev->topic, "ORDER_PAID") == 0) {
        Shelfline__V1__OrderEvent *m = shelfline__v1__order_event__unpack(
            sl_arena_pb_allocator(a), ev->payload.len, ev->payload.data);
        if (m == NULL)
            SL_LOG(SL_LOG_WARN, "order_event", NULL, "skipping event %lld: bad payload",
                   (long long)ev->id);
        else
            st = apply_paid(app, conn, a, m->order, err);
    } else if (strcmp(ev->topic, "RETURN_RECEIVED") == 0) {
        Shelfline__V1__ReturnEvent *m = shelfline__v1__return_event__unpack(
            sl_arena_pb_allocator(a), ev->payload.len, ev->payload.data);
        if (m == NULL)
            SL_LOG(SL_LOG_WARN, "order_event", NULL, "skipping event %lld: bad payload",
                   (long long)ev->id);
        else
            st = apply_return(app, conn, a, m->return_, err);
    }
    sl_arena_destroy(a);
    return st;
}

sl_status cv_orders_start(cv_app *app, sl_consumer **out, sl_err *err)
{
    sl_channel *ch = sl_service_peer(app->svc, CV_PEER_SERVICE_DESK);
    if (ch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory opening a channel");
    sl_consumer_options o = {
        .subscription = "customer-value/service-desk",
        .db = app->db,
        .channel = ch,
        .method = "/shelfline.v1.ServiceDeskService/WatchEvents",
        .topics = topics,
        .n_topics = sizeof topics / sizeof topics[0],
        .fn = apply,
        .ctx = app,
        .lock_retry_ms = 1000,
    };
    return sl_consumer_start(&o, out, err);
}
