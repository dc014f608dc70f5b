/*
 * sd_returns: returns (RMAs) -- CreateReturn within the return window,
 * ReceiveReturn putting resellable goods back into inventory's stock.
 *
 * ReceiveReturn calls inventory before recording the receipt: AdjustStock
 * is idempotent by its request id ("rma:<rma_id>:<line>"), so when
 * recording fails afterwards the retry adjusts nothing twice and records;
 * the return is never marked RECEIVED without its stock.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_returns.h"
#include "sd_app.h"
#include "sd_store.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_page.h"

/* ---- CreateReturn ---- */

typedef struct create_ctx {
    sd_app *app;
    const Shelfline__V1__CreateReturnRequest *req;
    const char *fp;
    bool existed;
} create_ctx;

/* The return's lines, each checked against what the order holds of its
 * SKU (bought, minus what earlier returns took). */
static sl_status create_lines(sl_db_conn *conn, const Shelfline__V1__CreateReturnRequest *r,
                              sl_err *err)
{
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status st = SL_OK;
    for (size_t i = 0; i < r->n_lines && st == SL_OK; i++) {
        const Shelfline__V1__ReturnLine *l = r->lines[i];
        sd_rma_sku held;
        if ((st = sd_store_rma_sku(conn, r->order_id, l->sku, a, &held, err)) != SL_OK)
            break;
        if (held.bought == 0)
            st = sl_err_reason(err, SL_FAILED_PRECONDITION, "RETURN_LINE_NOT_IN_ORDER",
                               "lines[%zu].sku \"%s\" is not in order \"%s\"", i, l->sku,
                               r->order_id);
        else if (held.returned + l->qty > held.bought)
            st = sl_err_reason(err, SL_FAILED_PRECONDITION, "RETURN_QTY_EXCEEDED",
                               "lines[%zu].qty %" PRId64 " is more than the %" PRId64
                               " units of \"%s\" left to return",
                               i, l->qty, held.bought - held.returned, l->sku);
        else
            st = sd_store_rma_line_insert(conn, r->rma_id, (int)i, l->sku, l->qty, &held, err);
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return st;
}

/* CreateReturn's transaction:
 *  1. lock the order (attempts on one order serialise);
 *  2. an RMA recorded under the id answers the retry (ALREADY_EXISTS if
 *     for another return);
 *  3. only delivered goods within the return window;
 *  4. the RMA and its lines, each within what is left to return. */
static sl_status create_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    create_ctx *c = vctx;
    const Shelfline__V1__CreateReturnRequest *r = c->req;
    c->existed = false;
    bool delivered;
    int64_t delivered_at;
    sl_status st = sd_store_rma_order(conn, r->order_id, &delivered, &delivered_at, err);
    if (st != SL_OK)
        return st;
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_rma old;
    sl_err e2;
    st = sd_store_rma_load(conn, r->rma_id, a, &old, &e2);
    if (st == SL_OK) {
        c->existed = true;
        st =
            strcmp(old.fingerprint, c->fp) == 0
                ? SL_OK
                : sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                                "rma_id \"%s\" was already used for a different return", r->rma_id);
        sl_arena_destroy(a);
        return st;
    }
    sl_arena_destroy(a);
    if (st != SL_NOT_FOUND) {
        if (err != NULL)
            *err = e2;
        return st;
    }
    int64_t now = sl_db_now_ms();
    if (!delivered)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "ORDER_NOT_DELIVERED",
                             "order \"%s\" is not delivered; only delivered goods can be returned",
                             r->order_id);
    if (now - delivered_at > c->app->cfg.return_window_ms)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "RETURN_WINDOW_PASSED",
                             "order \"%s\" was delivered more than %" PRId64
                             " days ago: the return window has passed",
                             r->order_id, c->app->cfg.return_window_ms / 86400000);
    if ((st = sd_store_rma_insert(conn, r->rma_id, c->fp, r->order_id, r->reason, now, err)) !=
        SL_OK)
        return st;
    return create_lines(conn, r, err);
}

/* The request as a canonical string: a retry must give the same one. */
static char *return_fingerprint(sl_arena *a, const Shelfline__V1__CreateReturnRequest *r)
{
    size_t cap = 64 + strlen(r->order_id) + strlen(r->reason);
    for (size_t i = 0; i < r->n_lines; i++)
        cap += strlen(r->lines[i]->sku) + 24;
    char *fp = sl_arena_alloc(a, cap);
    if (fp == NULL)
        return NULL;
    size_t n = (size_t)snprintf(fp, cap, "%s|%s", r->order_id, r->reason);
    for (size_t i = 0; i < r->n_lines && n < cap; i++)
        n += (size_t)snprintf(fp + n, cap - n, "|%s:%" PRId64, r->lines[i]->sku, r->lines[i]->qty);
    return fp;
}

sl_status sd_returns_create(sd_app *app, int64_t deadline_ms, sl_arena *a,
                            const Shelfline__V1__CreateReturnRequest *r, Shelfline__V1__Return *out,
                            sl_err *err)
{
    create_ctx c = {.app = app, .req = r, .fp = return_fingerprint(a, r)};
    if (c.fp == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, false);
    sl_status st = sl_db_tx(app->db, &o, create_tx, &c, err);
    sd_rma rec;
    if (st != SL_OK ||
        (st = sd_store_rma_read(app->db, deadline_ms, r->rma_id, a, &rec, err)) != SL_OK)
        return st;
    *out = *rec.msg;
    return SL_OK;
}

/* ---- GetReturn, ListReturns ---- */

sl_status sd_returns_get(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *rma_id,
                         Shelfline__V1__Return *out, sl_err *err)
{
    sd_rma rec;
    sl_status st = sd_store_rma_read(app->db, deadline_ms, rma_id, a, &rec, err);
    if (st == SL_OK)
        *out = *rec.msg;
    return st;
}

/* A full page has a token (the key of its last return): the next page may
 * be empty, as with the suite's other lists that read no row ahead. */
sl_status sd_returns_list(sd_app *app, int64_t deadline_ms, sl_arena *a,
                          const Shelfline__V1__ListReturnsRequest *r, int limit, int64_t before_ms,
                          const char *before_id, Shelfline__V1__ListReturnsResponse *out,
                          sl_err *err)
{
    sd_rma *rows;
    size_t n;
    sl_status st = sd_store_rma_list(app->db, deadline_ms, r->customer_id ? r->customer_id : "",
                                     r->order_id ? r->order_id : "", before_ms, before_id, limit, a,
                                     &rows, &n, err);
    if (st != SL_OK)
        return st;
    out->returns = sl_arena_zalloc(a, (n + 1) * sizeof *out->returns);
    if (out->returns == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++)
        out->returns[i] = rows[i].msg;
    out->n_returns = n;
    if (n == (size_t)limit) {
        const Shelfline__V1__Return *last = rows[n - 1].msg;
        char key[160];
        snprintf(key, sizeof key, "%" PRId64 ":%s", last->created_at_ms, last->rma_id);
        if ((out->next_page_token = sl_page_token_encode(a, key)) == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return SL_OK;
}

/* ---- ReceiveReturn ---- */

typedef struct receive_ctx {
    sd_app *app;
    const char *rma_id;
    const char *order_id;
    int condition;
    int64_t refund;
    const char *currency;
    bool restock;
} receive_ctx;

static sl_status receive_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    receive_ctx *c = vctx;
    bool changed;
    sl_status st = sd_store_rma_receive(conn, c->rma_id, c->condition, c->refund, c->currency,
                                        c->restock, sl_db_now_ms(), &changed, err);
    if (st != SL_OK || !changed)
        return st; /* unchanged: a concurrent attempt received it */
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sd_rma rec;
    if ((st = sd_store_rma_load(conn, c->rma_id, a, &rec, err)) == SL_OK) {
        Shelfline__V1__ReturnEvent ev = SHELFLINE__V1__RETURN_EVENT__INIT;
        ev.return_ = rec.msg;
        st = sl_events_publish(c->app->events, conn, "RETURN_RECEIVED", c->order_id, &ev.base, err);
    }
    sl_arena_destroy(a);
    return st;
}

/* Puts resellable units back into the warehouses they shipped from
 * (AdjustStock, idempotent by "rma:<rma>:<line>"), and sums the refund. */
static sl_status restock_lines(sd_app *app, sl_call *call, const sd_rma *rec, bool restock,
                               int64_t *refund, const char **currency, sl_err *err)
{
    const char *rma_id = rec->msg->rma_id;
    *refund = 0;
    *currency = "";
    for (size_t i = 0; i < rec->n_lines; i++) {
        const sd_rma_line *l = &rec->lines[i];
        *refund += l->price_minor * l->qty;
        *currency = l->currency;
        if (!restock)
            continue;
        char rid[96], ref[96];
        snprintf(rid, sizeof rid, "rma:%s:%d", rma_id, l->line_no);
        snprintf(ref, sizeof ref, "return:%s", rma_id);
        Shelfline__V1__AdjustStockRequest ar = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
        ar.request_id = rid;
        ar.sku = (char *)l->sku;
        ar.warehouse_id = (char *)l->warehouse_id;
        ar.delta = l->qty;
        ar.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
        ar.reference = ref;
        ProtobufCMessage *m;
        sl_call_options policy = {.timeout_ms = app->cfg.inventory_timeout_ms, .idempotent = true};
        sl_status st =
            sl_client_call_from(call, app->inventory, "/shelfline.v1.InventoryService/AdjustStock",
                                &ar.base, &shelfline__v1__adjust_stock_response__descriptor,
                                sl_call_arena(call), &m, &policy, err);
        if (st != SL_OK) {
            sl_err_wrap(err, "could not restock lines[%d] of return \"%s\"", l->line_no, rma_id);
            return st;
        }
    }
    return SL_OK;
}

sl_status sd_returns_receive(sl_call *call, const Shelfline__V1__ReceiveReturnRequest *r,
                             Shelfline__V1__Return *out, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    sl_arena *a = sl_call_arena(call);
    sd_rma rec;
    sl_status st = sd_store_rma_read(app->db, sl_call_deadline_ms(call), r->rma_id, a, &rec, err);
    if (st != SL_OK)
        return st;
    if (rec.msg->status == SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED) {
        *out = *rec.msg;
        return SL_OK;
    }
    bool restock = r->condition == SHELFLINE__V1__RETURN_CONDITION__RETURN_RESELLABLE;
    int64_t refund;
    const char *currency;
    if ((st = restock_lines(app, call, &rec, restock, &refund, &currency, err)) != SL_OK)
        return st;
    receive_ctx c = {app,      r->rma_id, rec.msg->order_id, (int)r->condition, refund,
                     currency, restock};
    sl_db_tx_options o = sd_store_tx_options(sl_call_deadline_ms(call), false);
    if ((st = sl_db_tx(app->db, &o, receive_tx, &c, err)) != SL_OK ||
        (st = sd_store_rma_read(app->db, sl_call_deadline_ms(call), r->rma_id, a, &rec, err)) !=
            SL_OK)
        return st;
    *out = *rec.msg;
    return SL_OK;
}
