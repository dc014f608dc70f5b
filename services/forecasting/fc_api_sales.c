/*
 * fc_api_sales: writing demand history and the calendar -- RecordSales,
 * RecordHourlySales, SetEvent, ListEvents -- and applying inventory's events (sales from
 * RESERVATION_COMMITTED, stock-out days from OUT_OF_STOCK).
 *
 * Every request is validated whole before the first write, and each write
 * RPC is one transaction: bad input changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_app.h"
#include "fc_valid.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_log.h"

#define MAX_ROWS 10000
#define MAX_UNITS 100000000LL
/* Ten years of history is plenty for daily models and bounds a series. */
#define MAX_AGE_DAYS 3660

/* ---- checks shared by RecordSales and RecordHourlySales ---- */

/* A row's series and time: at is the day (RecordSales) or the start of the
 * hour in Unix milliseconds (RecordHourlySales); idx is the row's index. */
typedef struct row_key {
    const char *sku, *region;
    int64_t at;
    size_t idx;
} row_key;

static int cmp_key(const void *pa, const void *pb)
{
    const row_key *a = pa, *b = pb;
    int c = strcmp(a->sku, b->sku);
    if (c == 0)
        c = strcmp(a->region, b->region);
    if (c == 0)
        c = (a->at > b->at) - (a->at < b->at);
    if (c == 0)
        c = (a->idx > b->idx) - (a->idx < b->idx);
    return c;
}

static sl_status valid_row_count(size_t n, sl_err *err)
{
    if (n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "rows must hold at least one row");
    if (n > MAX_ROWS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "rows holds %zu rows, at most %d allowed", n,
                          MAX_ROWS);
    return SL_OK;
}

static sl_status valid_row_series(size_t i, const char *sku, const char *region, sl_err *err)
{
    char f[48];
    snprintf(f, sizeof f, "rows[%zu].sku", i);
    sl_status st = fc_valid_id(f, sku, false, err);
    if (st != SL_OK)
        return st;
    snprintf(f, sizeof f, "rows[%zu].region", i);
    return fc_valid_region(f, region, false, err);
}

static sl_status valid_row_units(size_t i, int64_t units, sl_err *err)
{
    if (units < 0 || units > MAX_UNITS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "rows[%zu].units must be in 0..%lld, got %lld",
                          i, MAX_UNITS, (long long)units);
    return SL_OK;
}

/* Sorts keys and refuses two rows of one series at the same time; unit
 * ("day", "hour") names that time in the message. */
static sl_status sort_unique(row_key *keys, size_t n, const char *unit, sl_err *err)
{
    qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i].sku, keys[i - 1].sku) == 0 &&
            strcmp(keys[i].region, keys[i - 1].region) == 0 && keys[i].at == keys[i - 1].at)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "rows[%zu] repeats the sku, region and %s of rows[%zu]", keys[i].idx,
                              unit, keys[i - 1].idx);
    return SL_OK;
}

typedef struct check_ctx {
    fc_app *app;
    const char *sku, *region;
    sl_arena *a;
    int raised;
} check_ctx;

static sl_status check_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    check_ctx *c = p;
    return fc_alert_check_sales(c->app, conn, c->sku, c->region, c->a, &c->raised, err);
}

/* Checks the sales of k's series against the forecast in a transaction of
 * its own, after the sales are committed; returns the alerts raised.  A
 * failed check is logged, not returned, so that a retry is not needed for
 * the sales. */
static int check_alerts(sl_call *call, fc_app *app, const sl_db_tx_options *o, const row_key *k,
                        sl_arena *a)
{
    check_ctx cc = {app, k->sku, k->region, a, 0};
    sl_err e2;
    sl_status cs = sl_db_tx(app->db, o, check_tx, &cc, &e2);
    if (cs != SL_OK)
        SL_LOG(SL_LOG_WARN, "alert_check_failed", sl_call_request_id(call),
               "could not check sales of \"%s\" in \"%s\" against the forecast: %s", k->sku,
               k->region, e2.msg);
    return cc.raised;
}

/* ---- RecordSales ---- */

typedef struct sales_ctx {
    const Shelfline__V1__RecordSalesRequest *req;
    const int32_t *days;
    int written, unchanged;
} sales_ctx;

static sl_status sales_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    sales_ctx *c = p;
    c->written = c->unchanged = 0;
    for (size_t i = 0; i < c->req->n_rows; i++) {
        const Shelfline__V1__SalesRow *r = c->req->rows[i];
        bool changed = false;
        sl_status st = fc_store_sales_api(conn, r->sku, r->region, c->days[i], r->units,
                                          r->on_promotion, &changed, err);
        if (st == SL_OK && r->stocked_out)
            st = fc_store_stockout(conn, r->sku, r->region, c->days[i], "api", err);
        if (st != SL_OK)
            return st;
        if (changed)
            c->written++;
        else
            c->unchanged++;
    }
    return SL_OK;
}

sl_status fc_api_record_sales(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__RecordSalesRequest *r = (const Shelfline__V1__RecordSalesRequest *)req;
    Shelfline__V1__RecordSalesResponse *out = (Shelfline__V1__RecordSalesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st = valid_row_count(r->n_rows, err);
    if (st != SL_OK)
        return st;
    int32_t today = fc_day_today();
    int32_t *days = sl_arena_alloc(a, r->n_rows * sizeof *days);
    row_key *keys = sl_arena_alloc(a, r->n_rows * sizeof *keys);
    if (days == NULL || keys == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < r->n_rows; i++) {
        const Shelfline__V1__SalesRow *row = r->rows[i];
        char f[48];
        if ((st = valid_row_series(i, row->sku, row->region, err)) != SL_OK)
            return st;
        snprintf(f, sizeof f, "rows[%zu].day", i);
        if ((st = fc_day_parse(f, row->day, &days[i], err)) != SL_OK)
            return st;
        if (days[i] > today)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "%s \"%s\" is in the future", f, row->day);
        if (days[i] < today - MAX_AGE_DAYS)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "%s \"%s\" is more than %d days in the past", f, row->day,
                              MAX_AGE_DAYS);
        if ((st = valid_row_units(i, row->units, err)) != SL_OK)
            return st;
        keys[i] = (row_key){row->sku, row->region, days[i], i};
    }
    if ((st = sort_unique(keys, r->n_rows, "day", err)) != SL_OK)
        return st;
    fc_app *app = FC_APP(call);
    sales_ctx c = {.req = r, .days = days};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(app->db, &o, sales_tx, &c, err);
    if (st != SL_OK)
        return st;
    out->written = c.written;
    out->unchanged = c.unchanged;
    /* Alerts for today's rows, once per SKU x region: a series has at most
     * one row a day (sort_unique).  The sales are committed whatever
     * happens here. */
    for (size_t i = 0; i < r->n_rows; i++)
        if (keys[i].at == today)
            out->alerts_raised += check_alerts(call, app, &o, &keys[i], a);
    return SL_OK;
}

/* ---- RecordHourlySales ---- */

typedef struct hourly_ctx {
    const Shelfline__V1__RecordHourlySalesRequest *req;
    const int64_t *hours;
    int written, unchanged;
} hourly_ctx;

static sl_status hourly_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    hourly_ctx *c = p;
    c->written = c->unchanged = 0;
    for (size_t i = 0; i < c->req->n_rows; i++) {
        const Shelfline__V1__HourlySalesRow *r = c->req->rows[i];
        bool changed = false;
        sl_status st =
            fc_store_hourly_set(conn, r->sku, r->region, c->hours[i], r->units, &changed, err);
        if (st != SL_OK)
            return st;
        if (changed)
            c->written++;
        else
            c->unchanged++;
    }
    return SL_OK;
}

sl_status fc_api_record_hourly_sales(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__RecordHourlySalesRequest *r =
        (const Shelfline__V1__RecordHourlySalesRequest *)req;
    Shelfline__V1__RecordHourlySalesResponse *out =
        (Shelfline__V1__RecordHourlySalesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st = valid_row_count(r->n_rows, err);
    if (st != SL_OK)
        return st;
    int32_t today = fc_day_today();
    int64_t now_ms = fc_now_ms();
    int64_t *hours = sl_arena_alloc(a, r->n_rows * sizeof *hours);
    row_key *keys = sl_arena_alloc(a, r->n_rows * sizeof *keys);
    if (hours == NULL || keys == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < r->n_rows; i++) {
        const Shelfline__V1__HourlySalesRow *row = r->rows[i];
        char f[48];
        if ((st = valid_row_series(i, row->sku, row->region, err)) != SL_OK)
            return st;
        snprintf(f, sizeof f, "rows[%zu]", i);
        if ((st = fc_hour_parse(f, row->hour_start_ms, row->day, row->hour, &hours[i], err)) !=
            SL_OK)
            return st;
        if (hours[i] > now_ms)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "rows[%zu] names an hour in the future", i);
        if (hours[i] < (int64_t)(today - MAX_AGE_DAYS) * 86400000LL)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "rows[%zu] names an hour more than %d days in the past", i,
                              MAX_AGE_DAYS);
        if ((st = valid_row_units(i, row->units, err)) != SL_OK)
            return st;
        keys[i] = (row_key){row->sku, row->region, hours[i], i};
    }
    if ((st = sort_unique(keys, r->n_rows, "hour", err)) != SL_OK)
        return st;
    fc_app *app = FC_APP(call);
    hourly_ctx c = {.req = r, .hours = hours};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(app->db, &o, hourly_tx, &c, err);
    if (st != SL_OK)
        return st;
    out->written = c.written;
    out->unchanged = c.unchanged;
    /* Alerts for SKU x regions with rows of today, once each (keys are
     * sorted); as in RecordSales a failed check is logged, not returned. */
    for (size_t i = 0; i < r->n_rows; i++) {
        const row_key *k = &keys[i];
        if (k->at / 86400000LL != today)
            continue;
        if (i > 0 && keys[i - 1].at / 86400000LL == today && strcmp(k->sku, keys[i - 1].sku) == 0 &&
            strcmp(k->region, keys[i - 1].region) == 0)
            continue;
        out->alerts_raised += check_alerts(call, app, &o, k, a);
    }
    return SL_OK;
}

/* ---- calendar ---- */

static sl_status event_row(const Shelfline__V1__CalendarEvent *e, fc_event_row *row, sl_err *err)
{
    if (e == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "event is required");
    sl_status st = fc_valid_id("event.event_id", e->event_id, false, err);
    if (st != SL_OK)
        return st;
    size_t nl = strlen(e->name);
    if (nl == 0 || nl > 200)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "event.name must be 1..200 characters");
    if (e->kind < SHELFLINE__V1__EVENT_KIND__BLACK_FRIDAY ||
        e->kind > SHELFLINE__V1__EVENT_KIND__OTHER)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "event.kind must be set (1..7), got %d",
                          (int)e->kind);
    if ((st = fc_day_parse("event.start_day", e->start_day, &row->start_day, err)) != SL_OK ||
        (st = fc_day_parse("event.end_day", e->end_day, &row->end_day, err)) != SL_OK)
        return st;
    if (row->end_day < row->start_day || row->end_day - row->start_day > 92)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "event.end_day must be 0..92 days after event.start_day");
    if ((st = fc_valid_id("event.sku", e->sku, true, err)) != SL_OK ||
        (st = fc_valid_region("event.region", e->region, true, err)) != SL_OK ||
        (st = fc_valid_id("event.promotion_id", e->promotion_id, true, err)) != SL_OK)
        return st;
    /* A quota caps one SKU's promotion: on any other event it would cap
     * demand it does not fence. */
    if (e->promotion_id[0] != '\0' &&
        (e->kind != SHELFLINE__V1__EVENT_KIND__PROMOTION || e->sku[0] == '\0'))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "event.promotion_id is allowed only on a PROMOTION event with a sku");
    row->event_id = e->event_id;
    row->name = e->name;
    row->kind = (int)e->kind;
    row->sku = e->sku;
    row->region = e->region;
    row->promotion_id = e->promotion_id;
    return SL_OK;
}

static sl_status event_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    return fc_store_event_set(conn, p, err);
}

static Shelfline__V1__CalendarEvent *event_msg(sl_arena *a, const fc_event_row *r)
{
    Shelfline__V1__CalendarEvent *e = sl_arena_alloc(a, sizeof *e);
    char *s = sl_arena_alloc(a, 16), *en = sl_arena_alloc(a, 16);
    if (e == NULL || s == NULL || en == NULL)
        return NULL;
    shelfline__v1__calendar_event__init(e);
    fc_day_format(r->start_day, s, 16);
    fc_day_format(r->end_day, en, 16);
    e->event_id = (char *)r->event_id;
    e->name = (char *)r->name;
    e->kind = (Shelfline__V1__EventKind)r->kind;
    e->start_day = s;
    e->end_day = en;
    e->sku = (char *)r->sku;
    e->region = (char *)r->region;
    e->promotion_id = (char *)(r->promotion_id != NULL ? r->promotion_id : "");
    return e;
}

sl_status fc_api_set_event(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err)
{
    const Shelfline__V1__SetEventRequest *r = (const Shelfline__V1__SetEventRequest *)req;
    Shelfline__V1__CalendarEvent *out = (Shelfline__V1__CalendarEvent *)resp;
    fc_event_row row;
    sl_status st = event_row(r->event, &row, err);
    if (st != SL_OK)
        return st;
    /* The reply before the write: nothing may fail after the commit. */
    Shelfline__V1__CalendarEvent *e = event_msg(sl_call_arena(call), &row);
    if (e == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(FC_APP(call)->db, &o, event_tx, &row, err);
    if (st != SL_OK)
        return st;
    *out = *e;
    return SL_OK;
}

typedef struct list_ctx {
    int32_t from, to;
    const char *sku;
    sl_arena *a;
    fc_event_row *rows;
    size_t n;
} list_ctx;

static sl_status list_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return fc_store_event_list(conn, c->from, c->to, c->sku, NULL, c->a, &c->rows, &c->n, err);
}

sl_status fc_api_list_events(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err)
{
    const Shelfline__V1__ListEventsRequest *r = (const Shelfline__V1__ListEventsRequest *)req;
    Shelfline__V1__ListEventsResponse *out = (Shelfline__V1__ListEventsResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    list_ctx c = {.from = INT32_MIN, .to = INT32_MAX, .a = a};
    sl_status st;
    if (r->from_day[0] != '\0' &&
        (st = fc_day_parse("from_day", r->from_day, &c.from, err)) != SL_OK)
        return st;
    if (r->to_day[0] != '\0' && (st = fc_day_parse("to_day", r->to_day, &c.to, err)) != SL_OK)
        return st;
    if (c.from != INT32_MIN && c.to != INT32_MAX && c.to < c.from)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "to_day must not be before from_day");
    if ((st = fc_valid_id("sku", r->sku, true, err)) != SL_OK)
        return st;
    c.sku = r->sku[0] != '\0' ? r->sku : NULL;
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, list_tx, &c, err)) != SL_OK)
        return st;
    out->events = sl_arena_alloc(a, (c.n > 0 ? c.n : 1) * sizeof *out->events);
    if (out->events == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < c.n; i++) {
        out->events[i] = event_msg(a, &c.rows[i]);
        if (out->events[i] == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    out->n_events = c.n;
    return SL_OK;
}

/* ---- inventory's events ---- */

static sl_status apply_committed(fc_app *app, sl_db_conn *conn, const Shelfline__V1__Event *ev,
                                 sl_err *err)
{
    Shelfline__V1__ReservationEvent *re =
        shelfline__v1__reservation_event__unpack(NULL, ev->payload.len, ev->payload.data);
    if (re == NULL || re->reservation == NULL) {
        /* Retrying cannot fix a payload that does not decode: skip it,
         * loudly, rather than stall the subscription for ever. */
        SL_LOG(SL_LOG_ERROR, "event_skipped", NULL,
               "could not decode RESERVATION_COMMITTED event %lld: skipped", (long long)ev->id);
        if (re != NULL)
            shelfline__v1__reservation_event__free_unpacked(re, NULL);
        return SL_OK;
    }
    const Shelfline__V1__Reservation *res = re->reservation;
    int64_t at = res->closed_at_ms > 0 ? res->closed_at_ms : ev->created_at_ms;
    int32_t day = (int32_t)(at / 86400000LL);
    sl_status st = SL_OK;
    for (size_t i = 0; i < res->n_lines && st == SL_OK; i++)
        if (res->lines[i]->qty > 0)
            st = fc_store_sales_add(conn, res->lines[i]->sku, res->region, day, res->lines[i]->qty,
                                    err);
    if (st == SL_OK && day == fc_day_today()) {
        sl_arena *a = sl_arena_create(0);
        if (a == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        for (size_t i = 0; i < res->n_lines && st == SL_OK; i++) {
            sl_err e2;
            sl_status cs =
                fc_alert_check_sales(app, conn, res->lines[i]->sku, res->region, a, NULL, &e2);
            sl_arena_reset(a);
            if (cs == SL_OK)
                continue;
            /* A database failure aborted the transaction: retry the event.
             * Anything else (the engine refusing a series) must not stall
             * the sales feed: the sale is recorded, the check is skipped. */
            if (cs == SL_UNAVAILABLE || sl_db_conn_sqlstate(conn)[0] != '\0') {
                if (err != NULL)
                    *err = e2;
                st = cs;
            } else {
                SL_LOG(SL_LOG_WARN, "alert_check_failed", NULL,
                       "could not check sales of \"%s\" in \"%s\" against the forecast: %s",
                       res->lines[i]->sku, res->region, e2.msg);
            }
        }
        sl_arena_destroy(a);
    }
    shelfline__v1__reservation_event__free_unpacked(re, NULL);
    return st;
}

static sl_status apply_out_of_stock(sl_db_conn *conn, const Shelfline__V1__Event *ev, sl_err *err)
{
    Shelfline__V1__RegionStockAlert *ra =
        shelfline__v1__region_stock_alert__unpack(NULL, ev->payload.len, ev->payload.data);
    if (ra == NULL) {
        SL_LOG(SL_LOG_ERROR, "event_skipped", NULL,
               "could not decode OUT_OF_STOCK event %lld: skipped", (long long)ev->id);
        return SL_OK;
    }
    sl_status st = fc_store_stockout(conn, ra->sku, ra->region,
                                     (int32_t)(ev->created_at_ms / 86400000LL), "inventory", err);
    shelfline__v1__region_stock_alert__free_unpacked(ra, NULL);
    return st;
}

/* A purchase order's receipt: its lead time, learned for plans
 * (fc_api_leadtime.c).  Transfers are not a supplier's lead time (their
 * transit is inventory's transit times). */
static sl_status apply_inbound_received(sl_db_conn *conn, const Shelfline__V1__Event *ev,
                                        sl_err *err)
{
    Shelfline__V1__InboundReceived *ir =
        shelfline__v1__inbound_received__unpack(NULL, ev->payload.len, ev->payload.data);
    if (ir == NULL || ir->inbound == NULL) {
        SL_LOG(SL_LOG_ERROR, "event_skipped", NULL,
               "could not decode INBOUND_RECEIVED event %lld: skipped", (long long)ev->id);
        if (ir != NULL)
            shelfline__v1__inbound_received__free_unpacked(ir, NULL);
        return SL_OK;
    }
    const Shelfline__V1__Inbound *in = ir->inbound;
    sl_status st = SL_OK;
    if (in->kind == SHELFLINE__V1__INBOUND__KIND__PURCHASE_ORDER && in->supplier[0] != '\0' &&
        in->created_at_ms > 0)
        st = fc_store_receipt(
            conn, in->inbound_id, in->supplier, in->warehouse_id, in->sku, in->created_at_ms,
            in->original_expected_at_ms > 0 ? in->original_expected_at_ms : in->expected_at_ms,
            ev->created_at_ms, ir->qty, err);
    shelfline__v1__inbound_received__free_unpacked(ir, NULL);
    return st;
}

sl_status fc_apply_inventory_event(sl_db_conn *conn, const Shelfline__V1__Event *ev, void *ctx,
                                   sl_err *err)
{
    if (strcmp(ev->topic, "INBOUND_RECEIVED") == 0)
        return apply_inbound_received(conn, ev, err);
    if (strcmp(ev->topic, "RESERVATION_COMMITTED") == 0)
        return apply_committed(ctx, conn, ev, err);
    if (strcmp(ev->topic, "OUT_OF_STOCK") == 0)
        return apply_out_of_stock(conn, ev, err);
    return SL_OK;
}
