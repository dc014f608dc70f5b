/*
 * fc_api_leadtime: suppliers' lead times learned from inventory's receipts
 * -- GetLeadTimes, and the distributions a replenishment plan uses.
 *
 * Inventory knows when each purchase order was created, first promised and
 * received; forecasting follows its INBOUND_RECEIVED events
 * (fc_api_sales.c) and keeps each order's first receipt
 * (supplier_receipt).  A supplier's lead time is then a distribution, not
 * the one number a buyer typed once: its spread goes into safety stock
 * (fc_plan's sqrt(L sigma_d^2 + d^2 sigma_L^2)), so a supplier who
 * delivers anywhere between one and three weeks is covered, and one who
 * is always on time is not over-stocked for.  The last 365 days only:
 * suppliers change, and a lead time from two years ago says little.
 */
#include <string.h>

#include "fc_app.h"
#include "fc_valid.h"

#define LEARN_DAYS 365
#define DAY_MS 86400000LL

static int64_t since_ms(void)
{
    return fc_now_ms() - LEARN_DAYS * DAY_MS;
}

sl_status fc_lead_time_learned(sl_db_conn *conn, const char *supplier, const char *warehouse_id,
                               sl_arena *a, fc_lead_stats *sw, fc_lead_stats *s, sl_err *err)
{
    memset(sw, 0, sizeof *sw);
    memset(s, 0, sizeof *s);
    fc_lead_row *rows;
    size_t n;
    sl_status st = fc_store_lead_stats(conn, supplier, NULL, since_ms(), a, &rows, &n, err);
    for (size_t i = 0; st == SL_OK && i < n; i++) {
        fc_lead_stats x = {rows[i].receipts, rows[i].mean, rows[i].sd};
        if (rows[i].every_warehouse)
            *s = x;
        else if (warehouse_id != NULL && strcmp(rows[i].warehouse_id, warehouse_id) == 0)
            *sw = x;
    }
    return st;
}

typedef struct lead_ctx {
    const char *supplier, *warehouse_id;
    sl_arena *a;
    fc_lead_row *rows;
    size_t n;
} lead_ctx;

static sl_status lead_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    lead_ctx *c = p;
    return fc_store_lead_stats(conn, c->supplier, c->warehouse_id, since_ms(), c->a, &c->rows,
                               &c->n, err);
}

sl_status fc_api_lead_times(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__GetLeadTimesRequest *r = (const Shelfline__V1__GetLeadTimesRequest *)req;
    Shelfline__V1__GetLeadTimesResponse *out = (Shelfline__V1__GetLeadTimesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st;
    if (strlen(r->supplier) > 200)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "supplier must be at most 200 bytes");
    if ((st = fc_valid_id("warehouse_id", r->warehouse_id, true, err)) != SL_OK)
        return st;
    lead_ctx c = {r->supplier[0] != '\0' ? r->supplier : NULL,
                  r->warehouse_id[0] != '\0' ? r->warehouse_id : NULL, a, NULL, 0};
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, lead_tx, &c, err)) != SL_OK)
        return st;
    out->lead_times = sl_arena_alloc(a, (c.n > 0 ? c.n : 1) * sizeof *out->lead_times);
    Shelfline__V1__LeadTimeStats *m = sl_arena_alloc(a, (c.n > 0 ? c.n : 1) * sizeof *m);
    if (out->lead_times == NULL || m == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < c.n; i++) {
        const fc_lead_row *x = &c.rows[i];
        shelfline__v1__lead_time_stats__init(&m[i]);
        m[i].supplier = (char *)x->supplier;
        m[i].warehouse_id = (char *)x->warehouse_id;
        m[i].receipts = (int32_t)x->receipts;
        m[i].mean_days = x->mean;
        m[i].stddev_days = x->sd;
        m[i].p50_days = x->p50;
        m[i].p90_days = x->p90;
        m[i].mean_delay_days = x->delay;
        m[i].on_time_share = x->on_time;
        out->lead_times[i] = &m[i];
    }
    out->n_lead_times = c.n;
    return SL_OK;
}
