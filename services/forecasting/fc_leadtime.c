/*
 * fc_leadtime: suppliers' lead times learned from inventory's receipts
 * (see fc_app.h) -- the distributions a replenishment plan uses and the
 * listing GetLeadTimes answers.
 *
 * Inventory knows when each purchase order was created, first promised and
 * received; forecasting follows its INBOUND_RECEIVED events
 * (fc_consume.c) and keeps each order's first receipt
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

sl_status fc_lead_time_list(sl_db *db, int64_t deadline_ms, const char *supplier,
                            const char *warehouse_id, sl_arena *a, fc_lead_row **rows, size_t *n,
                            sl_err *err)
{
    lead_ctx c = {supplier, warehouse_id, a, NULL, 0};
    sl_db_tx_options o = {.read_only = true, .deadline_ms = deadline_ms};
    sl_status st = sl_db_tx(db, &o, lead_tx, &c, err);
    *rows = c.rows;
    *n = c.n;
    return st;
}
