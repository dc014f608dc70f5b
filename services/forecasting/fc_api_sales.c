/*
 * fc_api_sales: writing demand history and the calendar -- RecordSales,
 * RecordHourlySales, SetEvent, ListEvents.  (Inventory's events feed the
 * same history through fc_consume.c.)
 *
 * Every request is validated whole before the first write (the method
 * table's fc_valid_* slots), and each write RPC is one transaction: bad
 * input changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_api.h"
#include "fc_app.h"
#include "fc_valid.h"
#include "sl_log.h"

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
static int check_alerts(sl_call *call, fc_app *app, const sl_db_tx_options *o, const fc_row_key *k,
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
    fc_app *app = FC_APP(call);
    sl_arena *a = sl_call_arena(call);
    int32_t today = fc_day_today();
    int32_t *days = sl_arena_alloc(a, r->n_rows * sizeof *days);
    fc_row_key *keys = sl_arena_alloc(a, r->n_rows * sizeof *keys);
    if (days == NULL || keys == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    /* The rows' days and sorted keys (the dispatcher checked the rules). */
    sl_status st = fc_valid_record_sales(r, today, days, keys, err);
    if (st != SL_OK)
        return st;
    sales_ctx c = {.req = r, .days = days};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, sales_tx, &c, err)) != SL_OK)
        return st;
    out->written = c.written;
    out->unchanged = c.unchanged;
    /* Alerts for today's rows, once per SKU x region: a series has at most
     * one row a day (the keys are unique).  The sales are committed
     * whatever happens here. */
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
    fc_app *app = FC_APP(call);
    sl_arena *a = sl_call_arena(call);
    int64_t now_ms = fc_now_ms();
    int32_t today = (int32_t)(now_ms / 86400000LL);
    int64_t *hours = sl_arena_alloc(a, r->n_rows * sizeof *hours);
    fc_row_key *keys = sl_arena_alloc(a, r->n_rows * sizeof *keys);
    if (hours == NULL || keys == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status st = fc_valid_record_hourly_sales(r, now_ms, hours, keys, err);
    if (st != SL_OK)
        return st;
    hourly_ctx c = {.req = r, .hours = hours};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, hourly_tx, &c, err)) != SL_OK)
        return st;
    out->written = c.written;
    out->unchanged = c.unchanged;
    /* Alerts for SKU x regions with rows of today, once each (keys are
     * sorted); as in RecordSales a failed check is logged, not returned. */
    for (size_t i = 0; i < r->n_rows; i++) {
        const fc_row_key *k = &keys[i];
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
    sl_status st = fc_valid_set_event(r, &row, err);
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
    list_ctx c = {.a = a};
    sl_status st = fc_valid_list_events(r, &c.from, &c.to, err);
    if (st != SL_OK)
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
