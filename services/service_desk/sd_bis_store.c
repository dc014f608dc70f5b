/*
 * sd_bis_store: back-in-stock subscriptions and restocks (see sd_store.h).
 * The statements are in sd_store.c's table.
 */
#include <inttypes.h>
#include <string.h>

#include "sd_store.h"
#include "sl_db_row.h"

#define I64 SL_DB_INT64_TEXT

/* ---- restocks (inside the caller's transaction) ---- */

sl_status sd_store_restock_record(sl_db_conn *conn, int64_t event_id, const char *sku,
                                  const char *region, int64_t available, int64_t next_at_ms,
                                  sl_err *err)
{
    char b[3][I64];
    const char *p[5] = {sl_db_param_int64(b[0], event_id), sku, region,
                        sl_db_param_int64(b[1], available), sl_db_param_int64(b[2], next_at_ms)};
    return sl_db_exec(conn, "sd_restock_insert", 5, p, NULL, NULL, NULL, err);
}

sl_status sd_store_restock_stop(sl_db_conn *conn, const char *sku, const char *region, sl_err *err)
{
    const char *p[2] = {sku, region};
    return sl_db_exec(conn, "sd_restock_stop", 2, p, NULL, NULL, NULL, err);
}

sl_status sd_store_restock_claim(sl_db_conn *conn, int64_t now_ms, sl_arena *a, sd_restock *out,
                                 bool *claimed, sl_err *err)
{
    char b[I64];
    const char *p[1] = {sl_db_param_int64(b, now_ms)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_restock_claim", 1, p, NULL, NULL, &res, err);
    *claimed = st == SL_OK && PQntuples(res) == 1;
    if (*claimed) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, res, a);
        out->restock_id = sl_db_text(&rd, 0, "restock_id");
        out->sku = sl_db_text(&rd, 0, "sku");
        out->region = sl_db_text(&rd, 0, "region");
        out->available = sl_db_int64(&rd, 0, "available");
        out->batches = (int)sl_db_int64(&rd, 0, "batches");
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(res);
    return st;
}

sl_status sd_store_restock_batch(sl_db_conn *conn, sl_events *ev, const sd_restock *r, int64_t n,
                                 const char *body, int *notified, int64_t *pending, sl_err *err)
{
    char b[2][I64];
    const char *pb[6] = {r->sku,
                         r->region,
                         sl_db_param_int64(b[0], n),
                         r->restock_id,
                         sl_db_param_int64(b[1], r->batches + 1),
                         body};
    const char *pp[2] = {r->sku, r->region};
    sl_status st = sd_store_notif_begin(conn, ev, err);
    if (st != SL_OK)
        return st;
    sl_db_query q[2] = {{.stmt = "sd_restock_batch", .nparams = 6, .values = pb},
                        {.stmt = "sd_restock_pending", .nparams = 2, .values = pp}};
    if ((st = sl_db_exec_pipeline(conn, q, 2, err)) != SL_OK)
        return st;
    *notified = PQntuples(q[0].res);
    sl_db_reader rd;
    sl_db_reader_init(&rd, q[1].res, NULL);
    *pending = sl_db_int64(&rd, 0, "pending");
    st = sl_db_reader_status(&rd, err);
    PQclear(q[0].res);
    PQclear(q[1].res);
    return st;
}

sl_status sd_store_restock_update(sl_db_conn *conn, const char *restock_id, int batches,
                                  int64_t next_at_ms, bool done, sl_err *err)
{
    char b[2][I64];
    const char *p[4] = {restock_id, sl_db_param_int64(b[0], batches),
                        sl_db_param_int64(b[1], next_at_ms), sl_db_param_bool(done)};
    return sl_db_exec(conn, "sd_restock_update", 4, p, NULL, NULL, NULL, err);
}

/* ---- subscriptions ---- */

static Shelfline__V1__SubscriptionStatus sub_status(const char *s)
{
    return strcmp(s, "ACTIVE") == 0 ? SHELFLINE__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_ACTIVE
           : strcmp(s, "NOTIFIED") == 0
               ? SHELFLINE__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_NOTIFIED
               : SHELFLINE__V1__SUBSCRIPTION_STATUS__SUBSCRIPTION_CANCELLED;
}

/* The rows of res as messages (arena memory). */
static sl_status sub_rows(sl_arena *a, PGresult *res, Shelfline__V1__Subscription ***out, size_t *n,
                          sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int rows = sl_db_reader_rows(&rd);
    Shelfline__V1__Subscription **v = sl_arena_zalloc(a, (size_t)(rows + 1) * sizeof *v);
    if (v == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < rows; i++) {
        Shelfline__V1__Subscription *s = sl_arena_alloc(a, sizeof *s);
        if (s == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__subscription__init(s);
        s->subscription_id = sl_db_int64(&rd, i, "subscription_id");
        s->customer_id = (char *)sl_db_text(&rd, i, "customer_id");
        s->sku = (char *)sl_db_text(&rd, i, "sku");
        s->region = (char *)sl_db_text(&rd, i, "region");
        s->status = sub_status(sl_db_text(&rd, i, "status"));
        s->created_at_ms = sl_db_int64(&rd, i, "created_ms");
        s->notified_at_ms = sl_db_int64(&rd, i, "notified_ms");
        v[i] = s;
    }
    *out = v;
    *n = (size_t)rows;
    return sl_db_reader_status(&rd, err);
}

typedef struct sub_ctx {
    const char *customer_id, *sku, *region;
    int64_t id;
    int limit;
    sl_arena *arena;
    Shelfline__V1__Subscription **rows;
    size_t n;
} sub_ctx;

/* Runs stmt and keeps its rows in c. */
static sl_status sub_exec(sl_db_conn *conn, sub_ctx *c, const char *stmt, int n,
                          const char *const *p, sl_err *err)
{
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, stmt, n, p, NULL, NULL, &res, err);
    if (st == SL_OK)
        st = sub_rows(c->arena, res, &c->rows, &c->n, err);
    PQclear(res);
    return st;
}

/* A new active subscription, or the active one there is. */
static sl_status subscribe_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    sub_ctx *c = vctx;
    const char *p[3] = {c->customer_id, c->sku, c->region};
    sl_status st = sub_exec(conn, c, "sd_sub_insert", 3, p, err);
    if (st == SL_OK && c->n == 0) /* already active */
        st = sub_exec(conn, c, "sd_sub_find_active", 3, p, err);
    return st;
}

sl_status sd_store_subscribe(sl_db *db, int64_t deadline_ms, const char *customer_id,
                             const char *sku, const char *region, sl_arena *a,
                             Shelfline__V1__Subscription **out, sl_err *err)
{
    sub_ctx c = {.customer_id = customer_id, .sku = sku, .region = region, .arena = a};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, false);
    sl_status st = sl_db_tx(db, &o, subscribe_tx, &c, err);
    *out = st == SL_OK && c.n == 1 ? c.rows[0] : NULL;
    return st;
}

static sl_status cancel_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    sub_ctx *c = vctx;
    char b[I64];
    const char *p[1] = {sl_db_param_int64(b, c->id)};
    sl_status st = sub_exec(conn, c, "sd_sub_cancel", 1, p, err);
    if (st == SL_OK && c->n == 0)
        st = sl_err_reason(err, SL_NOT_FOUND, "SUBSCRIPTION_NOT_FOUND",
                           "subscription_id %" PRId64 " not found", c->id);
    return st;
}

sl_status sd_store_unsubscribe(sl_db *db, int64_t deadline_ms, int64_t subscription_id, sl_arena *a,
                               Shelfline__V1__Subscription **out, sl_err *err)
{
    sub_ctx c = {.id = subscription_id, .arena = a};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, false);
    sl_status st = sl_db_tx(db, &o, cancel_tx, &c, err);
    if (st == SL_OK)
        *out = c.rows[0];
    return st;
}

/* c->id is the id the page starts below, c->limit its size (one more row
 * is read to tell whether another page follows). */
static sl_status list_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    sub_ctx *c = vctx;
    char b[2][I64];
    const char *p[3] = {c->customer_id, sl_db_param_int64(b[0], c->id),
                        sl_db_param_int64(b[1], c->limit + 1)};
    return sub_exec(conn, c, "sd_sub_list", 3, p, err);
}

sl_status sd_store_subscriptions(sl_db *db, int64_t deadline_ms, const char *customer_id,
                                 int64_t before_id, int limit, sl_arena *a,
                                 Shelfline__V1__Subscription ***out, size_t *n, bool *more,
                                 sl_err *err)
{
    sub_ctx c = {.customer_id = customer_id, .id = before_id, .limit = limit, .arena = a};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    sl_status st = sl_db_tx(db, &o, list_tx, &c, err);
    if (st == SL_OK) {
        *more = c.n > (size_t)limit;
        *out = c.rows;
        *n = *more ? (size_t)limit : c.n;
    }
    return st;
}

/* ---- the queue ---- */

typedef struct queue_ctx {
    const char *sku, *region;
    PGresult *res; /* out */
} queue_ctx;

static sl_status queue_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    queue_ctx *c = vctx;
    const char *p[2] = {c->sku, c->region};
    PQclear(c->res); /* an earlier attempt's */
    c->res = NULL;
    return sl_db_exec(conn, "sd_sub_queue", 2, p, NULL, NULL, &c->res, err);
}

/* The rows of res into out: one per region, and their sum. */
static sl_status queue_rows(sl_arena *a, PGresult *res, Shelfline__V1__BackInStockQueue *out,
                            sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int rows = sl_db_reader_rows(&rd);
    Shelfline__V1__BackInStockRegionQueue **v = sl_arena_zalloc(a, (size_t)(rows + 1) * sizeof *v);
    if (v == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < rows; i++) {
        Shelfline__V1__BackInStockRegionQueue *r = sl_arena_alloc(a, sizeof *r);
        if (r == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__back_in_stock_region_queue__init(r);
        r->region = (char *)sl_db_text(&rd, i, "region");
        r->waiting = sl_db_int64(&rd, i, "waiting");
        r->oldest_since_ms = sl_db_int64(&rd, i, "oldest_ms");
        out->waiting += r->waiting;
        v[i] = r;
    }
    out->regions = v;
    out->n_regions = (size_t)rows;
    return sl_db_reader_status(&rd, err);
}

sl_status sd_store_bis_queue(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                             sl_arena *a, Shelfline__V1__BackInStockQueue *out, sl_err *err)
{
    queue_ctx c = {sku, region, NULL};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    sl_status st = sl_db_tx(db, &o, queue_tx, &c, err);
    if (st == SL_OK)
        st = queue_rows(a, c.res, out, err);
    PQclear(c.res);
    return st;
}
