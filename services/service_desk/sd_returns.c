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

#include <libpq-fe.h>

#include "sd_api.h"
#include "sd_app.h"
#include "sd_store.h"
#include "sd_valid.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"

typedef struct rma_line_rec {
    int line_no;
    const char *sku, *warehouse_id, *currency;
    int64_t qty, price_minor;
} rma_line_rec;

typedef struct rma_rec {
    Shelfline__V1__Return *msg;
    const char *fingerprint;
    rma_line_rec *lines;
    size_t n_lines;
} rma_rec;

static sl_status load_rma(sl_db_conn *conn, sl_arena *a, const char *id, rma_rec *out, sl_err *err)
{
    const char *p[1] = {id};
    PGresult *r = NULL, *rl = NULL;
    sl_status st = sl_db_exec(conn, "sd_rma_get", 1, p, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    if (PQntuples(r) == 0) {
        st = sl_err_set(err, SL_NOT_FOUND, "rma_id \"%s\" not found", id);
        goto done;
    }
    if ((st = sl_db_exec(conn, "sd_rma_lines", 1, p, NULL, NULL, &rl, err)) != SL_OK)
        goto done;
    Shelfline__V1__Return *m = sl_arena_alloc(a, sizeof *m);
    Shelfline__V1__Money *money = sl_arena_alloc(a, sizeof *money);
    int n = PQntuples(rl);
    out->lines = sl_arena_zalloc(a, (size_t)(n + 1) * sizeof *out->lines);
    Shelfline__V1__ReturnLine **ls = sl_arena_zalloc(a, (size_t)(n + 1) * sizeof *ls);
    if (m == NULL || money == NULL || out->lines == NULL || ls == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    shelfline__v1__return__init(m);
    shelfline__v1__money__init(money);
#define S(res, i, c) sl_arena_strdup(a, PQgetvalue(res, i, c))
#define N(res, i, c) strtoll(PQgetvalue(res, i, c), NULL, 10)
    m->rma_id = S(r, 0, 0);
    out->fingerprint = S(r, 0, 1);
    m->order_id = S(r, 0, 2);
    m->customer_id = S(r, 0, 3);
    m->reason = S(r, 0, 4);
    m->status = strcmp(PQgetvalue(r, 0, 5), "RECEIVED") == 0
                    ? SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED
                    : SHELFLINE__V1__RETURN_STATUS__RETURN_REQUESTED;
    m->condition = (Shelfline__V1__ReturnCondition)N(r, 0, 6);
    money->minor_units = N(r, 0, 7);
    money->currency = S(r, 0, 8);
    if (m->status == SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED)
        m->refund = money;
    m->restocked = PQgetvalue(r, 0, 9)[0] == 't';
    m->created_at_ms = N(r, 0, 10);
    m->received_at_ms = N(r, 0, 11);
    for (int i = 0; i < n; i++) {
        rma_line_rec *l = &out->lines[i];
        l->line_no = (int)N(rl, i, 0);
        l->sku = S(rl, i, 1);
        l->qty = N(rl, i, 2);
        l->warehouse_id = S(rl, i, 3);
        l->price_minor = N(rl, i, 4);
        l->currency = S(rl, i, 5);
        ls[i] = sl_arena_alloc(a, sizeof *ls[i]);
        if (ls[i] == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        shelfline__v1__return_line__init(ls[i]);
        ls[i]->sku = (char *)l->sku;
        ls[i]->qty = l->qty;
    }
#undef S
#undef N
    m->lines = ls;
    m->n_lines = (size_t)n;
    out->n_lines = (size_t)n;
    out->msg = m;
done:
    PQclear(r);
    PQclear(rl);
    return st;
}

static sl_status get_rma(sd_app *app, sl_arena *a, const char *id, rma_rec *out, sl_err *err)
{
    sl_db_conn *conn;
    sl_status st = sl_db_acquire(app->db, -1, &conn, err);
    if (st != SL_OK)
        return st;
    st = load_rma(conn, a, id, out, err);
    sl_db_release(app->db, conn);
    return st;
}

/* ---- CreateReturn ---- */

typedef struct create_ctx {
    sd_app *app;
    const Shelfline__V1__CreateReturnRequest *req;
    const char *fp;
    bool existed;
} create_ctx;

static sl_status create_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    create_ctx *c = vctx;
    const Shelfline__V1__CreateReturnRequest *r = c->req;
    c->existed = false;
    PGresult *res = NULL;
    const char *p[7];
    char b[4][24];
    p[0] = r->order_id;
    sl_status st = sl_db_exec(conn, "sd_rma_order", 1, p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return sl_err_set(err, SL_NOT_FOUND, "order_id \"%s\" not found", r->order_id);
    }
    bool delivered = strcmp(PQgetvalue(res, 0, 0), "DELIVERED") == 0;
    int64_t delivered_at = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    /* an RMA already recorded (the order row lock serialises attempts) */
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    rma_rec old;
    sl_err e2;
    st = load_rma(conn, a, r->rma_id, &old, &e2);
    if (st == SL_OK) {
        c->existed = true;
        st = strcmp(old.fingerprint, c->fp) == 0
                 ? SL_OK
                 : sl_err_set(err, SL_ALREADY_EXISTS,
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
        return sl_err_set(err, SL_FAILED_PRECONDITION,
                          "order \"%s\" is not delivered; only delivered goods can be returned",
                          r->order_id);
    if (now - delivered_at > c->app->cfg.return_window_ms)
        return sl_err_set(err, SL_FAILED_PRECONDITION,
                          "order \"%s\" was delivered more than %" PRId64
                          " days ago: the return window has passed",
                          r->order_id, c->app->cfg.return_window_ms / 86400000);
    p[0] = r->rma_id;
    p[1] = c->fp;
    p[2] = r->order_id;
    p[3] = r->reason;
    p[4] = sd_i64(b[0], now);
    if ((st = sl_db_exec(conn, "sd_rma_insert", 5, p, NULL, NULL, NULL, err)) != SL_OK)
        return st;
    for (size_t i = 0; i < r->n_lines; i++) {
        const char *q[2] = {r->order_id, r->lines[i]->sku};
        if ((st = sl_db_exec(conn, "sd_rma_sku", 2, q, NULL, NULL, &res, err)) != SL_OK)
            return st;
        int64_t bought = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        int64_t returned = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        char wh[72], price[24], cur[8];
        snprintf(wh, sizeof wh, "%s", PQgetvalue(res, 0, 1));
        snprintf(price, sizeof price, "%s", PQgetvalue(res, 0, 2));
        snprintf(cur, sizeof cur, "%s", PQgetvalue(res, 0, 3));
        PQclear(res);
        if (bought == 0)
            return sl_err_set(err, SL_FAILED_PRECONDITION,
                              "lines[%zu].sku \"%s\" is not in order \"%s\"", i, r->lines[i]->sku,
                              r->order_id);
        if (returned + r->lines[i]->qty > bought)
            return sl_err_set(err, SL_FAILED_PRECONDITION,
                              "lines[%zu].qty %" PRId64 " is more than the %" PRId64
                              " units of \"%s\" left to return",
                              i, r->lines[i]->qty, bought - returned, r->lines[i]->sku);
        const char *pl[7] = {r->rma_id,
                             sd_i64(b[1], (int64_t)i),
                             r->lines[i]->sku,
                             sd_i64(b[2], r->lines[i]->qty),
                             wh,
                             price,
                             cur};
        if ((st = sl_db_exec(conn, "sd_rma_line_insert", 7, pl, NULL, NULL, NULL, err)) != SL_OK)
            return st;
    }
    return SL_OK;
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

SD_API(create_return)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__CreateReturnRequest *r = (const void *)req;
    sl_arena *a = sl_call_arena(call);
    sl_status st = sd_valid_create_return(r, err);
    if (st != SL_OK)
        return st;
    create_ctx c = {.app = app, .req = r, .fp = return_fingerprint(a, r)};
    if (c.fp == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(app->db, &o, create_tx, &c, err);
    rma_rec rec;
    if (st != SL_OK || (st = get_rma(app, a, r->rma_id, &rec, err)) != SL_OK)
        return st;
    *(Shelfline__V1__Return *)resp = *rec.msg;
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
    char b[3][24];
    const char *p[6] = {c->rma_id,   sd_i64(b[0], c->condition),    sd_i64(b[1], c->refund),
                        c->currency, c->restock ? "true" : "false", sd_i64(b[2], sl_db_now_ms())};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_rma_receive", 6, p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    bool changed = PQntuples(res) == 1;
    PQclear(res);
    if (!changed)
        return SL_OK; /* a concurrent attempt received it */
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    rma_rec rec;
    if ((st = load_rma(conn, a, c->rma_id, &rec, err)) == SL_OK) {
        Shelfline__V1__ReturnEvent ev = SHELFLINE__V1__RETURN_EVENT__INIT;
        ev.return_ = rec.msg;
        st = sl_events_publish(c->app->events, conn, "RETURN_RECEIVED", c->order_id, &ev.base, err);
    }
    sl_arena_destroy(a);
    return st;
}

SD_API(receive_return)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__ReceiveReturnRequest *r = (const void *)req;
    sl_arena *a = sl_call_arena(call);
    sl_status st = sd_valid_receive_return(r, err);
    if (st != SL_OK)
        return st;
    rma_rec rec;
    st = get_rma(app, a, r->rma_id, &rec, err);
    if (st != SL_OK)
        return st;
    if (rec.msg->status == SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED) {
        *(Shelfline__V1__Return *)resp = *rec.msg;
        return SL_OK;
    }
    bool restock = r->condition == SHELFLINE__V1__RETURN_CONDITION__RETURN_RESELLABLE;
    int64_t refund = 0;
    const char *currency = "";
    for (size_t i = 0; i < rec.n_lines; i++) {
        const rma_line_rec *l = &rec.lines[i];
        refund += l->price_minor * l->qty;
        currency = l->currency;
        if (!restock)
            continue;
        char rid[96], ref[96];
        snprintf(rid, sizeof rid, "rma:%s:%d", r->rma_id, l->line_no);
        snprintf(ref, sizeof ref, "return:%s", r->rma_id);
        Shelfline__V1__AdjustStockRequest ar = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
        ar.request_id = rid;
        ar.sku = (char *)l->sku;
        ar.warehouse_id = (char *)l->warehouse_id;
        ar.delta = l->qty;
        ar.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
        ar.reference = ref;
        ProtobufCMessage *m;
        int64_t left = sl_call_remaining_ms(call);
        sl_call_options o = {.timeout_ms = left < app->cfg.inventory_timeout_ms
                                               ? (left > 20 ? left - 20 : 1)
                                               : app->cfg.inventory_timeout_ms,
                             .request_id = sl_call_request_id(call),
                             .idempotent = true};
        st = sl_client_unary(app->inventory, "/shelfline.v1.InventoryService/AdjustStock", &ar.base,
                             &shelfline__v1__adjust_stock_response__descriptor, a, &m, &o, err);
        if (st != SL_OK) {
            sl_err_wrap(err, "could not restock lines[%d] of return \"%s\"", l->line_no, r->rma_id);
            return st;
        }
    }
    receive_ctx c = {app,      r->rma_id, rec.msg->order_id, (int)r->condition, refund,
                     currency, restock};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, receive_tx, &c, err)) != SL_OK ||
        (st = get_rma(app, a, r->rma_id, &rec, err)) != SL_OK)
        return st;
    *(Shelfline__V1__Return *)resp = *rec.msg;
    return SL_OK;
}
