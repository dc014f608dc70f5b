/*
 * sd_rma_store: returns (RMAs) and the order facts a return is checked
 * against (see sd_store.h).  The statements are in sd_store.c's table.
 */
#include <string.h>

#include "sd_store.h"
#include "sl_db_row.h"

#define I64 SL_DB_INT64_TEXT

/* Row i of r (sd_rma_get's columns). */
static sl_status rma_from(sl_arena *a, PGresult *r, int i, sd_rma *out, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    Shelfline__V1__Return *m = sl_arena_alloc(a, sizeof *m);
    Shelfline__V1__Money *money = sl_arena_alloc(a, sizeof *money);
    if (m == NULL || money == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__return__init(m);
    shelfline__v1__money__init(money);
    m->rma_id = (char *)sl_db_text(&rd, i, "rma_id");
    out->fingerprint = sl_db_text(&rd, i, "fingerprint");
    m->order_id = (char *)sl_db_text(&rd, i, "order_id");
    m->customer_id = (char *)sl_db_text(&rd, i, "customer_id");
    m->reason = (char *)sl_db_text(&rd, i, "reason");
    m->status = strcmp(sl_db_text(&rd, i, "status"), "RECEIVED") == 0
                    ? SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED
                    : SHELFLINE__V1__RETURN_STATUS__RETURN_REQUESTED;
    m->condition = (Shelfline__V1__ReturnCondition)sl_db_int64(&rd, i, "condition");
    money->minor_units = sl_db_int64(&rd, i, "refund_minor");
    money->currency = (char *)sl_db_text(&rd, i, "currency");
    if (m->status == SHELFLINE__V1__RETURN_STATUS__RETURN_RECEIVED)
        m->refund = money;
    m->restocked = sl_db_bool(&rd, i, "restocked");
    m->created_at_ms = sl_db_int64(&rd, i, "created_at_ms");
    m->received_at_ms = sl_db_int64_or(&rd, i, "received_at_ms", 0);
    out->msg = m;
    return sl_db_reader_status(&rd, err);
}

static sl_status rma_lines_from(sl_arena *a, PGresult *r, sd_rma *out, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    int n = sl_db_reader_rows(&rd);
    out->lines = sl_arena_zalloc(a, (size_t)(n + 1) * sizeof *out->lines);
    Shelfline__V1__ReturnLine **ls = sl_arena_zalloc(a, (size_t)(n + 1) * sizeof *ls);
    if (out->lines == NULL || ls == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n; i++) {
        sd_rma_line *l = &out->lines[i];
        l->line_no = (int)sl_db_int64(&rd, i, "line_no");
        l->sku = sl_db_text(&rd, i, "sku");
        l->qty = sl_db_int64(&rd, i, "qty");
        l->warehouse_id = sl_db_text(&rd, i, "warehouse_id");
        l->price_minor = sl_db_int64(&rd, i, "price_minor");
        l->currency = sl_db_text(&rd, i, "currency");
        if ((ls[i] = sl_arena_alloc(a, sizeof *ls[i])) == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__return_line__init(ls[i]);
        ls[i]->sku = (char *)l->sku;
        ls[i]->qty = l->qty;
    }
    out->msg->lines = ls;
    out->msg->n_lines = (size_t)n;
    out->n_lines = (size_t)n;
    return sl_db_reader_status(&rd, err);
}

sl_status sd_store_rma_load(sl_db_conn *conn, const char *rma_id, sl_arena *a, sd_rma *out,
                            sl_err *err)
{
    const char *p[1] = {rma_id};
    sl_db_query q[2] = {{.stmt = "sd_rma_get", .nparams = 1, .values = p},
                        {.stmt = "sd_rma_lines", .nparams = 1, .values = p}};
    sl_status st = sl_db_exec_pipeline(conn, q, 2, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(q[0].res) == 0)
        st = sl_err_reason(err, SL_NOT_FOUND, "RMA_NOT_FOUND", "rma_id \"%s\" not found", rma_id);
    else if ((st = rma_from(a, q[0].res, 0, out, err)) == SL_OK)
        st = rma_lines_from(a, q[1].res, out, err);
    PQclear(q[0].res);
    PQclear(q[1].res);
    return st;
}

typedef struct rma_read_ctx {
    const char *rma_id;
    sl_arena *arena;
    sd_rma *out;
} rma_read_ctx;

static sl_status rma_read_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    rma_read_ctx *c = vctx;
    return sd_store_rma_load(conn, c->rma_id, c->arena, c->out, err);
}

sl_status sd_store_rma_read(sl_db *db, int64_t deadline_ms, const char *rma_id, sl_arena *a,
                            sd_rma *out, sl_err *err)
{
    rma_read_ctx c = {rma_id, a, out};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    return sl_db_tx(db, &o, rma_read_tx, &c, err);
}

typedef struct rma_list_ctx {
    const char *p[5];
    sl_arena *arena;
    sd_rma *out;
    size_t n;
} rma_list_ctx;

/* The lines of the return starting at row *i of res (rows of one return
 * are consecutive), into out; *i moves past them. */
static sl_status rma_list_lines(sl_arena *a, PGresult *res, int *i, sd_rma *out, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int rows = sl_db_reader_rows(&rd), k = *i;
    while (k < rows && strcmp(sl_db_text(&rd, k, "rma_id"), out->msg->rma_id) == 0)
        k++;
    size_t n = (size_t)(k - *i);
    out->lines = sl_arena_zalloc(a, (n + 1) * sizeof *out->lines);
    Shelfline__V1__ReturnLine *lm = sl_arena_zalloc(a, (n + 1) * sizeof *lm);
    out->msg->lines = sl_arena_zalloc(a, (n + 1) * sizeof *out->msg->lines);
    if (out->lines == NULL || lm == NULL || out->msg->lines == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t j = 0; j < n; j++) {
        int row = *i + (int)j;
        sd_rma_line *l = &out->lines[j];
        l->line_no = (int)sl_db_int64(&rd, row, "line_no");
        l->sku = sl_db_text(&rd, row, "sku");
        l->qty = sl_db_int64(&rd, row, "qty");
        l->warehouse_id = sl_db_text(&rd, row, "warehouse_id");
        l->price_minor = sl_db_int64(&rd, row, "price_minor");
        l->currency = sl_db_text(&rd, row, "line_currency");
        shelfline__v1__return_line__init(&lm[j]);
        lm[j].sku = (char *)l->sku;
        lm[j].qty = l->qty;
        out->msg->lines[j] = &lm[j];
    }
    out->msg->n_lines = out->n_lines = n;
    *i = k;
    return sl_db_reader_status(&rd, err);
}

static sl_status rma_list_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    rma_list_ctx *c = vctx;
    PGresult *res = NULL;
    c->n = 0;
    sl_status st = sl_db_exec(conn, "sd_rma_list", 5, c->p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    int rows = PQntuples(res);
    c->out = sl_arena_zalloc(c->arena, ((size_t)rows + 1) * sizeof *c->out);
    if (c->out == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < rows && st == SL_OK;) {
        sd_rma *x = &c->out[c->n++];
        if ((st = rma_from(c->arena, res, i, x, err)) == SL_OK)
            st = rma_list_lines(c->arena, res, &i, x, err);
    }
    PQclear(res);
    return st;
}

sl_status sd_store_rma_list(sl_db *db, int64_t deadline_ms, const char *customer_id,
                            const char *order_id, int64_t before_ms, const char *before_id,
                            int limit, sl_arena *a, sd_rma **out, size_t *n, sl_err *err)
{
    char b[2][I64];
    rma_list_ctx c = {{customer_id, order_id, sl_db_param_int64(b[0], before_ms), before_id,
                       sl_db_param_int64(b[1], limit)},
                      a,
                      NULL,
                      0};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    sl_status st = sl_db_tx(db, &o, rma_list_tx, &c, err);
    if (st == SL_OK) {
        *out = c.out;
        *n = c.n;
    }
    return st;
}

sl_status sd_store_rma_order(sl_db_conn *conn, const char *order_id, bool *delivered,
                             int64_t *delivered_at_ms, sl_err *err)
{
    const char *p[1] = {order_id};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_rma_order", 1, p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(res) == 0) {
        st = sl_err_reason(err, SL_NOT_FOUND, "ORDER_NOT_FOUND", "order_id \"%s\" not found",
                           order_id);
    } else {
        sl_db_reader rd;
        sl_db_reader_init(&rd, res, NULL);
        *delivered = strcmp(sl_db_text(&rd, 0, "status"), "DELIVERED") == 0;
        *delivered_at_ms = sl_db_int64_or(&rd, 0, "delivered_at_ms", 0);
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(res);
    return st;
}

sl_status sd_store_rma_insert(sl_db_conn *conn, const char *rma_id, const char *fingerprint,
                              const char *order_id, const char *reason, int64_t created_at_ms,
                              sl_err *err)
{
    char b[I64];
    const char *p[5] = {rma_id, fingerprint, order_id, reason, sl_db_param_int64(b, created_at_ms)};
    return sl_db_exec(conn, "sd_rma_insert", 5, p, NULL, NULL, NULL, err);
}

sl_status sd_store_rma_sku(sl_db_conn *conn, const char *order_id, const char *sku, sl_arena *a,
                           sd_rma_sku *out, sl_err *err)
{
    const char *p[2] = {order_id, sku};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_rma_sku", 2, p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    out->bought = sl_db_int64(&rd, 0, "bought");
    out->warehouse_id = sl_db_text_or(&rd, 0, "warehouse_id", "");
    out->price_minor = sl_db_int64(&rd, 0, "price_minor");
    out->currency = sl_db_text(&rd, 0, "currency");
    out->returned = sl_db_int64(&rd, 0, "returned");
    st = sl_db_reader_status(&rd, err);
    PQclear(res);
    return st;
}

sl_status sd_store_rma_line_insert(sl_db_conn *conn, const char *rma_id, int line_no,
                                   const char *sku, int64_t qty, const sd_rma_sku *bought,
                                   sl_err *err)
{
    char b[3][I64];
    const char *p[7] = {rma_id,
                        sl_db_param_int64(b[0], line_no),
                        sku,
                        sl_db_param_int64(b[1], qty),
                        bought->warehouse_id,
                        sl_db_param_int64(b[2], bought->price_minor),
                        bought->currency};
    return sl_db_exec(conn, "sd_rma_line_insert", 7, p, NULL, NULL, NULL, err);
}

sl_status sd_store_rma_receive(sl_db_conn *conn, const char *rma_id, int condition,
                               int64_t refund_minor, const char *currency, bool restocked,
                               int64_t received_at_ms, bool *changed, sl_err *err)
{
    char b[3][I64];
    const char *p[6] = {
        rma_id,   sl_db_param_int64(b[0], condition), sl_db_param_int64(b[1], refund_minor),
        currency, sl_db_param_bool(restocked),        sl_db_param_int64(b[2], received_at_ms)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_rma_receive", 6, p, NULL, NULL, &res, err);
    *changed = st == SL_OK && PQntuples(res) == 1;
    PQclear(res);
    return st;
}
