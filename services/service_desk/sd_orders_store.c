/*
 * sd_orders_store: the writes of an order's life and the order lists
 * (see sd_store.h).  The statements are in sd_store.c's table.
 */
#include <stdlib.h>
#include <string.h>

#include "sd_classify.h"
#include "sd_store.h"
#include "sl_server.h"
#include "sl_db_row.h"

#define I64 SL_DB_INT64_TEXT

static sl_status exec_none(sl_db_conn *conn, const char *stmt, int n, const char *const *p,
                           sl_err *err)
{
    return sl_db_exec(conn, stmt, n, p, NULL, NULL, NULL, err);
}

/* Runs a statement that returns at most one row: *hit says whether it did. */
static sl_status exec_hit(sl_db_conn *conn, const char *stmt, int n, const char *const *p,
                          bool *hit, sl_err *err)
{
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, stmt, n, p, NULL, NULL, &res, err);
    if (hit != NULL)
        *hit = st == SL_OK && PQntuples(res) == 1;
    PQclear(res);
    return st;
}

static sl_status insert_parts(sl_db_conn *conn, const sd_new_order *o, size_t line,
                              const Shelfline__V1__ReservationLine *l, size_t *k, sl_err *err)
{
    char b[10][I64];
    for (size_t j = 0; j < l->n_allocations; j++, (*k)++) {
        const Shelfline__V1__Allocation *al = l->allocations[j];
        const sd_line_eta *e = &o->part_etas[*k];
        bool backorder = al->inbound_id != NULL && al->inbound_id[0] != '\0';
        const char *p[13] = {o->req->order_id,
                             sl_db_param_int64(b[0], (int64_t)line),
                             sl_db_param_int64(b[1], (int64_t)j),
                             al->warehouse_id,
                             sl_db_param_int64(b[2], al->qty),
                             backorder ? al->inbound_id : "",
                             sl_db_param_int64(b[3], backorder ? al->expected_at_ms : 0),
                             sl_db_param_int64(b[4], al->transit_p50_days),
                             sl_db_param_int64(b[5], al->transit_p90_days),
                             sl_db_param_int64(b[6], e->ship_date),
                             sl_db_param_int64(b[7], e->p50),
                             sl_db_param_int64(b[8], e->p90),
                             sl_db_param_int64(b[9], e->confidence)};
        sl_status st = exec_none(conn, "sd_part_insert", 13, p, err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

sl_status sd_store_insert_order(sl_db_conn *conn, const sd_new_order *o, bool *inserted,
                                sl_err *err)
{
    const Shelfline__V1__PlaceOrderRequest *r = o->req;
    char b[5][I64];
    sl_audit who = sl_call_audit_current(); /* who places it */
    /* the notices' language: one of sd_classify's, else English */
    sd_lang lang = SD_LANG_UNKNOWN;
    (void)sd_lang_parse(r->language, &lang, NULL);
    const char *p[15] = {r->order_id,
                         r->customer_id,
                         r->region,
                         sl_db_param_int64(b[0], o->placed_at),
                         sl_db_param_bool(r->allow_split),
                         sl_db_param_bool(r->allow_backorder),
                         o->fingerprint,
                         sl_db_param_int64(b[1], o->promise.ship_date),
                         sl_db_param_int64(b[2], o->promise.p50),
                         sl_db_param_int64(b[3], o->promise.p90),
                         sl_db_param_int64(b[4], o->promise.confidence),
                         who.actor,
                         who.request_id,
                         who.trace_id,
                         lang == SD_LANG_UNKNOWN ? "en" : sd_lang_name(lang)};
    sl_status st = exec_hit(conn, "sd_order_insert", 15, p, inserted, err);
    if (st != SL_OK || !*inserted)
        return st; /* a concurrent attempt recorded it */
    size_t k = 0;
    for (size_t i = 0; i < o->resv->n_lines; i++) {
        const Shelfline__V1__ReservationLine *l = o->resv->lines[i];
        const Shelfline__V1__Money *price = l->unit_price;
        const char *q[7] = {r->order_id,
                            sl_db_param_int64(b[0], (int64_t)i),
                            l->sku,
                            sl_db_param_int64(b[1], l->qty),
                            l->promotion_id ? l->promotion_id : "",
                            sl_db_param_int64(b[2], price ? price->minor_units : 0),
                            price && price->currency ? price->currency : ""};
        if ((st = exec_none(conn, "sd_line_insert", 7, q, err)) != SL_OK ||
            (st = insert_parts(conn, o, i, l, &k, err)) != SL_OK)
            return st;
    }
    return SL_OK;
}

sl_status sd_store_order_set_status(sl_db_conn *conn, const char *order_id, const char *from,
                                    const char *to, bool *changed, sl_err *err)
{
    /* Who changes it: the call this thread serves (or "system" for a
     * consumer applying inventory's events). */
    sl_audit who = sl_call_audit_current();
    const char *p[6] = {order_id, from, to, who.actor, who.request_id, who.trace_id};
    return exec_hit(conn, "sd_order_set_status", 6, p, changed, err);
}

sl_status sd_store_order_claim(sl_db_conn *conn, const char *order_id, const char *status,
                               const char *reason, sl_err *err)
{
    sl_audit who = sl_call_audit_current();
    const char *p[6] = {order_id,       status,       who.actor,
                        who.request_id, who.trace_id, reason != NULL ? reason : ""};
    return exec_none(conn, "sd_order_claim", 6, p, err);
}

sl_status sd_store_order_cancel(sl_db_conn *conn, const char *order_id, const char *reason,
                                bool *changed, sl_err *err)
{
    sl_audit who = sl_call_audit_current();
    const char *p[5] = {order_id, reason, who.actor, who.request_id, who.trace_id};
    return exec_hit(conn, "sd_order_cancel", 5, p, changed, err);
}

sl_status sd_store_order_ship(sl_db_conn *conn, const char *order_id, const char *status,
                              const char *carrier, const char *tracking,
                              const sd_date *carrier_promised, sl_err *err)
{
    sl_audit who = sl_call_audit_current();
    char b[I64];
    const char *p[8] = {
        order_id,     status,
        carrier,      tracking,
        who.actor,    who.request_id,
        who.trace_id, carrier_promised ? sl_db_param_int64(b, *carrier_promised) : NULL};
    return exec_none(conn, "sd_order_ship", 8, p, err);
}

sl_status sd_store_orders_by_customer(sl_db_conn *conn, const char *customer_id,
                                      const char *after_ms, const char *after_id, int64_t limit,
                                      sl_arena *a, sd_order_key **out, size_t *n, sl_err *err)
{
    char lim[I64];
    const char *p[4] = {customer_id, after_ms, after_id, sl_db_param_int64(lim, limit)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_orders_by_customer", 4, p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int rows = sl_db_reader_rows(&rd);
    sd_order_key *keys = sl_arena_zalloc(a, (size_t)(rows + 1) * sizeof *keys);
    if (keys == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; keys != NULL && i < rows; i++) {
        keys[i].order_id = sl_db_text(&rd, i, "order_id");
        keys[i].placed_at_ms = sl_db_int64(&rd, i, "placed_at_ms");
    }
    if (st == SL_OK && (st = sl_db_reader_status(&rd, err)) == SL_OK) {
        *out = keys;
        *n = (size_t)rows;
    }
    PQclear(res);
    return st;
}

sl_status sd_store_orders_on_inbound(sl_db_conn *conn, const char *inbound_id, int64_t before_ms,
                                     const char *after_order, int64_t limit, sl_arena *a,
                                     const char ***ids, size_t *n, sl_err *err)
{
    char b[2][I64];
    const char *p[4] = {inbound_id, sl_db_param_int64(b[0], before_ms), after_order,
                        sl_db_param_int64(b[1], limit)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_orders_on_inbound", 4, p, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int rows = sl_db_reader_rows(&rd);
    const char **v = sl_arena_zalloc(a, (size_t)(rows + 1) * sizeof *v);
    if (v == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; v != NULL && i < rows; i++)
        v[i] = sl_db_text(&rd, i, "order_id");
    if (st == SL_OK && (st = sl_db_reader_status(&rd, err)) == SL_OK) {
        *ids = v;
        *n = (size_t)rows;
    }
    PQclear(res);
    return st;
}

sl_status sd_store_parts_delay(sl_db_conn *conn, const char *order_id, const char *inbound_id,
                               int64_t new_ms, const char *reason, sl_err *err)
{
    char b[I64];
    const char *p[4] = {order_id, inbound_id, sl_db_param_int64(b, new_ms), reason};
    return exec_none(conn, "sd_parts_delay", 4, p, err);
}

sl_status sd_store_parts_received(sl_db_conn *conn, const char *inbound_id, int64_t received_ms,
                                  sl_err *err)
{
    char b[I64];
    const char *p[2] = {inbound_id, sl_db_param_int64(b, received_ms)};
    return exec_none(conn, "sd_parts_received", 2, p, err);
}

sl_status sd_store_order_slip(sl_db_conn *conn, const char *order_id, int64_t grant_minor,
                              sl_err *err)
{
    char b[I64];
    const char *p[2] = {order_id, sl_db_param_int64(b, grant_minor)};
    return exec_hit(conn, "sd_order_slip", 2, p, NULL, err);
}

sl_status sd_store_eta_change(sl_db_conn *conn, const sd_eta_change *c, sl_err *err)
{
    char b[6][I64];
    const char *p[9] = {c->order_id,
                        sl_db_param_int64(b[0], c->slip_no),
                        c->inbound_id,
                        sl_db_param_int64(b[1], c->new_expected_ms),
                        sl_db_param_int64(b[2], c->old_p50),
                        sl_db_param_int64(b[3], c->old_p90),
                        sl_db_param_int64(b[4], c->new_p50),
                        sl_db_param_int64(b[5], c->new_p90),
                        c->reason};
    return exec_hit(conn, "sd_eta_change_insert", 9, p, NULL, err);
}

/* ---- the ETA history ---- */

#define CARRIER_SOURCE "carrier:"

/* A date column ("" for NULL) as "YYYY-MM-DD" in arena memory. */
static char *date_col(sl_db_reader *rd, sl_arena *a, int row, const char *column)
{
    if (sl_db_is_null(rd, row, column))
        return "";
    char *s = sl_arena_alloc(a, SD_DATE_STR);
    if (s != NULL)
        sd_date_format((sd_date)sl_db_int64(rd, row, column), s);
    return s;
}

/* "0,2,5" into c's line_nos (arena memory); "" or NULL: none. */
static bool parse_lines(sl_arena *a, const char *s, Shelfline__V1__EtaChange *c)
{
    size_t n = s[0] != '\0' ? 1 : 0;
    for (const char *q = s; *q != '\0'; q++)
        n += *q == ',';
    c->line_nos = n > 0 ? sl_arena_alloc(a, n * sizeof *c->line_nos) : NULL;
    if (n > 0 && c->line_nos == NULL)
        return false;
    for (const char *q = s; *q != '\0' && c->n_line_nos < n;) {
        char *end;
        long v = strtol(q, &end, 10);
        if (end == q || v < 0 || v > INT32_MAX)
            return false;
        c->line_nos[c->n_line_nos++] = (int32_t)v;
        q = *end == ',' ? end + 1 : end;
    }
    return c->n_line_nos == n;
}

typedef struct eta_changes_ctx {
    const char *order_id;
    int after_slip, limit;
    PGresult *res; /* out */
} eta_changes_ctx;

static sl_status eta_changes_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    eta_changes_ctx *c = vctx;
    char b[2][I64];
    const char *p[3] = {c->order_id, sl_db_param_int64(b[0], c->after_slip),
                        sl_db_param_int64(b[1], c->limit + 1)};
    PQclear(c->res); /* an earlier attempt's */
    c->res = NULL;
    return sl_db_exec(conn, "sd_eta_changes", 3, p, NULL, NULL, &c->res, err);
}

/* The rows of res (the order's row, with or without slips) as messages. */
static sl_status eta_change_rows(sl_arena *a, PGresult *res, Shelfline__V1__EtaChange ***out,
                                 size_t *n, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    int rows = sl_db_reader_rows(&rd);
    if (rows == 1 && sl_db_is_null(&rd, 0, "slip_no"))
        rows = 0; /* the order never moved */
    Shelfline__V1__EtaChange **v = sl_arena_zalloc(a, (size_t)(rows + 1) * sizeof *v);
    if (v == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < rows; i++) {
        Shelfline__V1__EtaChange *c = sl_arena_alloc(a, sizeof *c);
        if (c == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__eta_change__init(c);
        c->slip_no = (int32_t)sl_db_int64(&rd, i, "slip_no");
        c->changed_at_ms = sl_db_int64(&rd, i, "created_ms");
        const char *source = sl_db_text(&rd, i, "inbound_id");
        bool carrier = strncmp(source, CARRIER_SOURCE, strlen(CARRIER_SOURCE)) == 0;
        c->cause = carrier ? SHELFLINE__V1__ETA_CHANGE_CAUSE__ETA_CHANGE_CARRIER_DELAYED
                           : SHELFLINE__V1__ETA_CHANGE_CAUSE__ETA_CHANGE_INBOUND_DELAYED;
        c->inbound_id = carrier ? "" : (char *)source;
        c->new_expected_at_ms = sl_db_int64(&rd, i, "new_expected_ms");
        c->from_p50_date = date_col(&rd, a, i, "old_p50");
        c->from_p90_date = date_col(&rd, a, i, "old_p90");
        c->to_p50_date = date_col(&rd, a, i, "new_p50");
        c->to_p90_date = date_col(&rd, a, i, "new_p90");
        c->reason = (char *)sl_db_text(&rd, i, "reason");
        if (c->from_p50_date == NULL || c->from_p90_date == NULL || c->to_p50_date == NULL ||
            c->to_p90_date == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        if (!parse_lines(a, sl_db_text_or(&rd, i, "line_nos", ""), c))
            return sl_err_set(err, SL_INTERNAL, "could not read the lines of slip %d of \"%s\"",
                              c->slip_no, sl_db_text(&rd, i, "inbound_id"));
        v[i] = c;
    }
    *out = v;
    *n = (size_t)rows;
    return sl_db_reader_status(&rd, err);
}

sl_status sd_store_eta_changes(sl_db *db, int64_t deadline_ms, const char *order_id, int after_slip,
                               int limit, sl_arena *a, Shelfline__V1__EtaChange ***out, size_t *n,
                               bool *more, sl_err *err)
{
    eta_changes_ctx c = {order_id, after_slip, limit, NULL};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    sl_status st = sl_db_tx(db, &o, eta_changes_tx, &c, err);
    if (st == SL_OK && PQntuples(c.res) == 0)
        st = sl_err_reason(err, SL_NOT_FOUND, "ORDER_NOT_FOUND", "order_id \"%s\" not found",
                           order_id);
    if (st == SL_OK)
        st = eta_change_rows(a, c.res, out, n, err);
    PQclear(c.res);
    if (st == SL_OK) {
        *more = *n > (size_t)limit;
        if (*more)
            *n = (size_t)limit;
    }
    return st;
}

sl_status sd_store_compensation(sl_db_conn *conn, const char *order_id, int slip_no,
                                const char *coupon, int64_t value_minor, const char *currency,
                                sl_err *err)
{
    char b[2][I64];
    const char *p[5] = {order_id, sl_db_param_int64(b[0], slip_no), coupon,
                        sl_db_param_int64(b[1], value_minor), currency};
    return exec_hit(conn, "sd_comp_insert", 5, p, NULL, err);
}
