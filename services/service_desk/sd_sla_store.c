/*
 * sd_sla_store: the stored SLA policy versions (table sla_policy; the
 * statements are sd_store.c's).  See sd_store.h.
 */
#include <string.h>

#include "sd_store.h"
#include "sl_db_row.h"
#include "sl_server.h"

static sl_status rows_from(PGresult *res, sl_arena *a, sd_sla_row **out, size_t *n, sl_err *err)
{
    int rows = PQntuples(res);
    *n = 0;
    *out = rows > 0 ? sl_arena_zalloc(a, (size_t)rows * sizeof **out) : NULL;
    if (rows > 0 && *out == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, a);
    for (int i = 0; i < rows; i++) {
        sd_sla_row *r = &(*out)[i];
        r->version = sl_db_int64(&rd, i, "version");
        r->created_ms = sl_db_int64(&rd, i, "created_ms");
        r->policy = sl_db_bytes(&rd, i, "policy", &r->len);
    }
    sl_status st = sl_db_reader_status(&rd, err);
    if (st == SL_OK)
        *n = (size_t)rows;
    return st;
}

typedef struct set_ctx {
    const uint8_t *policy;
    size_t len;
    sl_arena *a;
    sd_sla_row *out;
} set_ctx;

/* 1. one writer at a time; 2. the policy in force, if any: the same bytes
 * answer it (nothing written); 3. else insert it as max + 1. */
static sl_status set_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    set_ctx *c = p;
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_sla_lock", 0, NULL, NULL, NULL, &res, err);
    PQclear(res);
    if (st != SL_OK)
        return st;
    sd_sla_row *rows;
    size_t n;
    if ((st = sl_db_exec(conn, "sd_sla_latest", 0, NULL, NULL, NULL, &res, err)) != SL_OK)
        return st;
    st = rows_from(res, c->a, &rows, &n, err);
    PQclear(res);
    if (st != SL_OK)
        return st;
    if (n == 1 && rows[0].len == c->len && memcmp(rows[0].policy, c->policy, c->len) == 0) {
        c->out = &rows[0];
        return SL_OK;
    }
    sl_audit who = sl_call_audit_current();
    const char *v[4] = {(const char *)c->policy, who.actor, who.request_id, who.trace_id};
    int lengths[4] = {(int)c->len, 0, 0, 0}, formats[4] = {1, 0, 0, 0};
    if ((st = sl_db_exec(conn, "sd_sla_insert", 4, v, lengths, formats, &res, err)) != SL_OK)
        return st;
    st = rows_from(res, c->a, &rows, &n, err);
    PQclear(res);
    if (st == SL_OK && n != 1)
        st = sl_err_set(err, SL_INTERNAL, "could not store the SLA policy: no row returned");
    if (st == SL_OK)
        c->out = &rows[0];
    return st;
}

sl_status sd_store_sla_set(sl_db *db, int64_t deadline_ms, const uint8_t *policy, size_t len,
                           sl_arena *a, sd_sla_row *out, sl_err *err)
{
    set_ctx c = {policy, len, a, NULL};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, false);
    sl_status st = sl_db_tx(db, &o, set_tx, &c, err);
    if (st == SL_OK)
        *out = *c.out;
    return st;
}

typedef struct since_ctx {
    int64_t after;
    sl_arena *a;
    sd_sla_row *rows;
    size_t n;
} since_ctx;

static sl_status since_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    since_ctx *c = p;
    char b[SL_DB_INT64_TEXT];
    const char *v[1] = {sl_db_param_int64(b, c->after)};
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_sla_since", 1, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    st = rows_from(res, c->a, &c->rows, &c->n, err);
    PQclear(res);
    return st;
}

sl_status sd_store_sla_since(sl_db *db, int64_t deadline_ms, int64_t after_version, sl_arena *a,
                             sd_sla_row **out, size_t *n, sl_err *err)
{
    since_ctx c = {after_version, a, NULL, 0};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, true);
    sl_status st = sl_db_tx(db, &o, since_tx, &c, err);
    if (st == SL_OK) {
        *out = c.rows;
        *n = c.n;
    }
    return st;
}
