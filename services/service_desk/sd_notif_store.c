/*
 * sd_notif_store: the customer-notification outbox's reads and writes
 * (see sd_store.h).  The statements are in sd_store.c's table.
 */
#include <inttypes.h>
#include <string.h>

#include "sd_store.h"
#include "sl_db_row.h"

sl_db_tx_options sd_store_tx_options(int64_t deadline_ms, bool read_only)
{
    sl_db_tx_options o = {.isolation = read_only ? SL_DB_REPEATABLE_READ : SL_DB_READ_COMMITTED,
                          .read_only = read_only,
                          .deadline_ms = deadline_ms == INT64_MAX ? 0 : deadline_ms};
    return o;
}

sl_status sd_store_notify(sl_db_conn *conn, sl_events *ev, const sd_notice *n, sl_err *err)
{
    char v[SL_DB_INT64_TEXT];
    const char *p[8] = {n->key,
                        n->kind,
                        n->customer_id,
                        n->order_id,
                        n->body,
                        n->coupon,
                        sl_db_param_int64(v, n->value_minor),
                        n->currency};
    PGresult *res = NULL;
    sl_status st = sd_store_notif_begin(conn, ev, err);
    if (st == SL_OK)
        st = sl_db_exec(conn, "sd_notif_insert", 8, p, NULL, NULL, &res, err);
    PQclear(res);
    return st;
}

static Shelfline__V1__NotificationKind kind_of(const char *kind)
{
    return strcmp(kind, "DELAY") == 0 ? SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_DELAY
           : strcmp(kind, "COMPENSATION") == 0
               ? SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_COMPENSATION
           : strcmp(kind, "CAMPAIGN") == 0 ? SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_CAMPAIGN
           : strcmp(kind, "REPURCHASE") == 0
               ? SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_REPURCHASE
               : SHELFLINE__V1__NOTIFICATION_KIND__NOTIFICATION_BACK_IN_STOCK;
}

/* The rows of res as messages (arena memory). */
static sl_status notif_rows(sl_arena *a, PGresult *res, Shelfline__V1__Notification ***out,
                            size_t *n, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int rows = sl_db_reader_rows(&rd);
    Shelfline__V1__Notification **v = sl_arena_zalloc(a, (size_t)(rows + 1) * sizeof *v);
    if (v == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < rows; i++) {
        Shelfline__V1__Notification *m = sl_arena_alloc(a, sizeof *m);
        Shelfline__V1__Money *value = sl_arena_alloc(a, sizeof *value);
        if (m == NULL || value == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__notification__init(m);
        shelfline__v1__money__init(value);
        m->notification_id = sl_db_int64(&rd, i, "notification_id");
        m->idempotency_key = (char *)sl_db_text(&rd, i, "idempotency_key");
        m->kind = kind_of(sl_db_text(&rd, i, "kind"));
        m->customer_id = (char *)sl_db_text(&rd, i, "customer_id");
        m->order_id = (char *)sl_db_text(&rd, i, "order_id");
        m->body = (char *)sl_db_text(&rd, i, "body");
        m->coupon_code = (char *)sl_db_text(&rd, i, "coupon_code");
        value->minor_units = sl_db_int64(&rd, i, "value_minor");
        value->currency = (char *)sl_db_text(&rd, i, "currency");
        if (value->minor_units > 0)
            m->value = value;
        m->created_at_ms = sl_db_int64(&rd, i, "created_ms");
        m->acked_at_ms = sl_db_int64(&rd, i, "acked_ms");
        v[i] = m;
    }
    *out = v;
    *n = (size_t)rows;
    return sl_db_reader_status(&rd, err);
}

typedef struct notif_list_ctx {
    int64_t after_id;
    const char *customer;
    bool unacked_only;
    int limit;
    sl_arena *arena;
    Shelfline__V1__Notification ***out;
    size_t *n;
} notif_list_ctx;

static sl_status notif_list_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    notif_list_ctx *c = vctx;
    char b[2][SL_DB_INT64_TEXT];
    const char *p[4] = {sl_db_param_int64(b[0], c->after_id), c->customer,
                        sl_db_param_bool(c->unacked_only), sl_db_param_int64(b[1], c->limit)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_notif_list", 4, p, NULL, NULL, &res, err);
    if (st == SL_OK)
        st = notif_rows(c->arena, res, c->out, c->n, err);
    PQclear(res);
    return st;
}

sl_status sd_store_notif_list(sl_db *db, int64_t deadline_ms, int64_t after_id,
                              const char *customer, bool unacked_only, int limit, sl_arena *a,
                              Shelfline__V1__Notification ***out, size_t *n, sl_err *err)
{
    notif_list_ctx c = {after_id, customer, unacked_only, limit, a, out, n};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    return sl_db_tx(db, &o, notif_list_tx, &c, err);
}

static sl_status notif_newest_tx(sl_db_conn *conn, void *ctx, sl_err *err)
{
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_notif_newest", 0, NULL, NULL, NULL, &res, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, res, NULL);
        *(int64_t *)ctx = sl_db_int64(&rd, 0, "newest");
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(res);
    return st;
}

sl_status sd_store_notif_newest(sl_db *db, int64_t deadline_ms, int64_t *newest, sl_err *err)
{
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    return sl_db_tx(db, &o, notif_newest_tx, newest, err);
}

typedef struct notif_pending_ctx {
    int64_t limit, pending;
} notif_pending_ctx;

static sl_status notif_pending_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    notif_pending_ctx *c = vctx;
    char b[SL_DB_INT64_TEXT];
    const char *p[1] = {sl_db_param_int64(b, c->limit)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_notif_pending", 1, p, NULL, NULL, &res, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, res, NULL);
        c->pending = sl_db_int64(&rd, 0, "pending");
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(res);
    return st;
}

sl_status sd_store_notif_pending(sl_db *db, int64_t deadline_ms, int64_t limit, int64_t *pending,
                                 sl_err *err)
{
    notif_pending_ctx c = {limit, 0};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    o.max_retries = -1;
    sl_status st = sl_db_tx(db, &o, notif_pending_tx, &c, err);
    *pending = c.pending;
    return st;
}

typedef struct notif_ack_ctx {
    int64_t id;
    sl_arena *arena;
    Shelfline__V1__Notification *out;
} notif_ack_ctx;

static sl_status notif_ack_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    notif_ack_ctx *c = vctx;
    char b[SL_DB_INT64_TEXT];
    const char *p[1] = {sl_db_param_int64(b, c->id)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_notif_ack", 1, p, NULL, NULL, &res, err);
    Shelfline__V1__Notification **rows;
    size_t n = 0;
    if (st == SL_OK && (st = notif_rows(c->arena, res, &rows, &n, err)) == SL_OK) {
        if (n == 0)
            st = sl_err_reason(err, SL_NOT_FOUND, "NOTIFICATION_NOT_FOUND",
                               "notification_id %" PRId64 " not found", c->id);
        else
            c->out = rows[0];
    }
    PQclear(res);
    return st;
}

sl_status sd_store_notif_ack(sl_db *db, int64_t deadline_ms, int64_t id, sl_arena *a,
                             Shelfline__V1__Notification **out, sl_err *err)
{
    notif_ack_ctx c = {id, a, NULL};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, false);
    sl_status st = sl_db_tx(db, &o, notif_ack_tx, &c, err);
    if (st == SL_OK)
        *out = c.out;
    return st;
}
