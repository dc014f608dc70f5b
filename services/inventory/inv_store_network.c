/*
 * inv_store_network: the inventory store's SQL for the network: warehouses, transit times and the
 * routes they make (see inv_store.h for the functions, inv_store_int.h for the kit they share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

/* Holidays as "YYYY-MM-DD,..." whatever the session's DateStyle. */
#define WH_COLS                                                                                    \
    "warehouse_id, name, region, kind, location, time_zone, cutoff_minutes, active, " MS(          \
        "created_at") " AS created_ms, " MS("updated_at") " AS updated_ms, ship_weekdays, "        \
                                                          "array_to_string(ARRAY(SELECT "          \
                                                          "to_char(h, 'YYYY-MM-DD') FROM "         \
                                                          "unnest(holidays) h ORDER BY h), ',') "  \
                                                          "AS holiday_list"
#define TR_COLS "warehouse_id, region, p50_days, p90_days, " MS("updated_at") " AS updated_ms"

const sl_db_stmt inv__network_stmts[] = {
    {"inv_network",
     "SELECT t.warehouse_id, t.region, t.p50_days, t.p90_days FROM transit t "
     "JOIN warehouse w ON w.warehouse_id = t.warehouse_id WHERE w.active "
     "ORDER BY t.region, t.p50_days, t.p90_days, t.warehouse_id",
     0},

    {"inv_tz_valid",
     "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names WHERE name = $1) AS ok", 1},
    {"inv_wh_insert",
     "INSERT INTO warehouse (warehouse_id, name, region, kind, location, time_zone, "
     "cutoff_minutes, active) VALUES ($1, $2, $3, $4, $5, $6, $7::int4, $8::bool) "
     "ON CONFLICT (warehouse_id) DO NOTHING RETURNING " WH_COLS,
     8},
    {"inv_wh_update",
     "UPDATE warehouse SET name = $2, region = $3, kind = $4, location = $5, time_zone = $6, "
     "cutoff_minutes = $7::int4, active = $8::bool, updated_at = now() WHERE warehouse_id = $1 "
     "RETURNING " WH_COLS,
     8},
    /* The calendar; updated_at moves only when it changes (idempotent). */
    {"inv_wh_calendar",
     "WITH n AS (SELECT $2::int2 AS wd, ARRAY(SELECT DISTINCT d FROM unnest($3::date[]) d "
     "ORDER BY d) AS hd) "
     "UPDATE warehouse SET ship_weekdays = n.wd, holidays = n.hd, updated_at = CASE WHEN "
     "ship_weekdays = n.wd AND holidays = n.hd THEN updated_at ELSE now() END "
     "FROM n WHERE warehouse_id = $1 RETURNING " WH_COLS,
     3},
    {"inv_wh_get", "SELECT " WH_COLS " FROM warehouse WHERE warehouse_id = $1", 1},
    {"inv_wh_list",
     "SELECT " WH_COLS " FROM warehouse WHERE ($1 = '' OR region = $1) AND warehouse_id > $2 "
     "ORDER BY warehouse_id LIMIT $3::int4",
     3},
    {"inv_wh_rows",
     "SELECT warehouse_id, region, active FROM warehouse WHERE warehouse_id = ANY ($1::text[])", 1},
    {"inv_tr_insert",
     "INSERT INTO transit (warehouse_id, region, p50_days, p90_days) "
     "VALUES ($1, $2, $3::int4, $4::int4) ON CONFLICT (warehouse_id, region) DO NOTHING "
     "RETURNING " TR_COLS,
     4},
    {"inv_tr_update",
     "UPDATE transit SET p50_days = $3::int4, p90_days = $4::int4, updated_at = now() "
     "WHERE warehouse_id = $1 AND region = $2 RETURNING " TR_COLS,
     4},
    {"inv_tr_get", "SELECT " TR_COLS " FROM transit WHERE warehouse_id = $1 AND region = $2", 2},
    {"inv_tr_list",
     "SELECT " TR_COLS " FROM transit WHERE ($1 = '' OR warehouse_id = $1) "
     "AND ($2 = '' OR region = $2) AND (warehouse_id, region) > ($3, $4) "
     "ORDER BY warehouse_id, region LIMIT $5::int4",
     5},

    {NULL, NULL, 0},
};

sl_status inv_store_network(sl_db_conn *c, sl_arena *a, inv_route **out, size_t *n, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_network", 0, NULL, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    void *rows = NULL;
    st = inv__read_rows(a, r, sizeof **out, inv__route_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_tz_valid(sl_db_conn *c, const char *tz, bool *valid, sl_err *err)
{
    const char *v[1] = {tz};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "inv_tz_valid", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    *valid = sl_db_bool(&rd, 0, "ok");
    st = sl_db_reader_status(&rd, err);
    PQclear(r);
    return st;
}

static const char *kind_name(Shelfline__V1__Warehouse__Kind k)
{
    switch (k) {
    case SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER:
        return "DISTRIBUTION_CENTER";
    case SHELFLINE__V1__WAREHOUSE__KIND__STORE:
        return "STORE";
    case SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT:
        return "MICRO_FULFILLMENT";
    case SHELFLINE__V1__WAREHOUSE__KIND__THIRD_PARTY_LOGISTICS:
        return "THIRD_PARTY_LOGISTICS";
    case SHELFLINE__V1__WAREHOUSE__KIND__KIND_UNSPECIFIED:
    case _SHELFLINE__V1__WAREHOUSE__KIND_IS_INT_SIZE:
        break;
    }
    return "";
}

static Shelfline__V1__Warehouse__Kind kind_of(const char *s)
{
    if (strcmp(s, "DISTRIBUTION_CENTER") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER;
    if (strcmp(s, "STORE") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__STORE;
    if (strcmp(s, "MICRO_FULFILLMENT") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT;
    if (strcmp(s, "THIRD_PARTY_LOGISTICS") == 0)
        return SHELFLINE__V1__WAREHOUSE__KIND__THIRD_PARTY_LOGISTICS;
    return SHELFLINE__V1__WAREHOUSE__KIND__KIND_UNSPECIFIED;
}

static Shelfline__V1__Warehouse *wh_from(sl_arena *a, sl_db_reader *rd, int i)
{
    Shelfline__V1__Warehouse *w = sl_arena_alloc(a, sizeof *w);
    char *cut = sl_arena_alloc(a, 8);
    if (w == NULL || cut == NULL)
        return NULL;
    shelfline__v1__warehouse__init(w);
    w->warehouse_id = (char *)sl_db_text_or(rd, i, "warehouse_id", "");
    w->name = (char *)sl_db_text_or(rd, i, "name", "");
    w->region = (char *)sl_db_text_or(rd, i, "region", "");
    w->kind = kind_of(sl_db_text_or(rd, i, "kind", ""));
    w->location = (char *)sl_db_text_or(rd, i, "location", "");
    w->time_zone = (char *)sl_db_text_or(rd, i, "time_zone", "");
    int m = (int)sl_db_int64_or(rd, i, "cutoff_minutes", 0);
    snprintf(cut, 8, "%02d:%02d", m / 60 % 24, m % 60);
    w->ship_cutoff = cut;
    w->active = sl_db_bool_or(rd, i, "active", false);
    w->created_at_ms = sl_db_int64_or(rd, i, "created_ms", 0);
    w->updated_at_ms = sl_db_int64_or(rd, i, "updated_ms", 0);
    unsigned mask = (unsigned)sl_db_int64_or(rd, i, "ship_weekdays", 0);
    if ((w->ship_weekdays = sl_arena_alloc(a, 7 * sizeof *w->ship_weekdays)) == NULL)
        return NULL;
    for (unsigned d = 0; d < 7; d++)
        if (mask & (1u << d))
            w->ship_weekdays[w->n_ship_weekdays++] = (Shelfline__V1__Weekday)(d + 1);
    /* "YYYY-MM-DD,YYYY-MM-DD,...": eleven bytes a date */
    const char *list = sl_db_text_or(rd, i, "holiday_list", "");
    size_t len = strlen(list), n = len == 0 ? 0 : (len + 1) / 11;
    if (n > 0) {
        if ((w->holidays = sl_arena_alloc(a, n * sizeof *w->holidays)) == NULL)
            return NULL;
        for (size_t k = 0; k < n; k++) {
            if ((w->holidays[k] = sl_arena_alloc(a, 11)) == NULL)
                return NULL;
            memcpy(w->holidays[k], list + k * 11, 10);
            w->holidays[k][10] = '\0';
        }
        w->n_holidays = n;
    }
    return w;
}

static bool wh_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    Shelfline__V1__Warehouse **ws = rows;
    return (ws[i] = wh_from(a, rd, i)) != NULL;
}

static bool wh_row_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    (void)a;
    inv_wh_row *w = rows;
    w[i].warehouse_id = sl_db_text_or(rd, i, "warehouse_id", "");
    w[i].region = sl_db_text_or(rd, i, "region", "");
    w[i].active = sl_db_bool_or(rd, i, "active", false);
    return true;
}

static sl_status one_wh(sl_db_conn *c, sl_arena *a, const char *stmt, int n, const char *const *v,
                        Shelfline__V1__Warehouse **out, sl_err *err)
{
    *out = NULL;
    return inv__query_one(c, a, stmt, n, v, wh_at, out, err);
}

static void wh_params(sl_arena *a, const Shelfline__V1__Warehouse *w, int cutoff, const char **v)
{
    v[0] = w->warehouse_id;
    v[1] = w->name;
    v[2] = w->region;
    v[3] = kind_name(w->kind);
    v[4] = w->location;
    v[5] = w->time_zone;
    v[6] = inv__i64s(a, cutoff);
    v[7] = w->active ? "true" : "false";
}

sl_status inv_store_warehouse_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Warehouse *w,
                                     int cutoff_minutes, bool *created,
                                     Shelfline__V1__Warehouse **out, sl_err *err)
{
    const char *v[8];
    wh_params(a, w, cutoff_minutes, v);
    sl_status st = one_wh(c, a, "inv_wh_insert", 8, v, out, err);
    if (st != SL_OK)
        return st;
    *created = *out != NULL;
    if (*out != NULL)
        return SL_OK;
    return inv_store_warehouse_get(c, a, w->warehouse_id, out, err);
}

sl_status inv_store_warehouse_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Warehouse *w,
                                     int cutoff_minutes, Shelfline__V1__Warehouse **out,
                                     sl_err *err)
{
    const char *v[8];
    wh_params(a, w, cutoff_minutes, v);
    return one_wh(c, a, "inv_wh_update", 8, v, out, err);
}

sl_status inv_store_warehouse_calendar(sl_db_conn *c, sl_arena *a, const char *id,
                                       unsigned ship_weekdays, const char *const *holidays,
                                       size_t n_holidays, Shelfline__V1__Warehouse **out,
                                       sl_err *err)
{
    const char *v[3] = {id, inv__i64s(a, ship_weekdays), inv__text_array(a, holidays, n_holidays)};
    return one_wh(c, a, "inv_wh_calendar", 3, v, out, err);
}

sl_status inv_store_warehouse_get(sl_db_conn *c, sl_arena *a, const char *id,
                                  Shelfline__V1__Warehouse **out, sl_err *err)
{
    const char *v[1] = {id};
    return one_wh(c, a, "inv_wh_get", 1, v, out, err);
}

sl_status inv_store_warehouse_list(sl_db_conn *c, sl_arena *a, const char *region,
                                   const char *after, int limit, Shelfline__V1__Warehouse ***out,
                                   size_t *n, sl_err *err)
{
    const char *v[3] = {region, after, inv__i64s(a, limit)};
    void *rows = NULL;
    sl_status st = inv__query_rows(c, a, "inv_wh_list", 3, v, sizeof **out, wh_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_warehouses(sl_db_conn *c, sl_arena *a, const char *const *ids, size_t n,
                               inv_wh_row **out, size_t *nout, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, ids, n)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_wh_rows", 1, v, sizeof **out, wh_row_at, &rows, nout, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

static Shelfline__V1__TransitTime *tr_from(sl_arena *a, sl_db_reader *rd, int i)
{
    Shelfline__V1__TransitTime *t = sl_arena_alloc(a, sizeof *t);
    if (t == NULL)
        return NULL;
    shelfline__v1__transit_time__init(t);
    t->warehouse_id = (char *)sl_db_text_or(rd, i, "warehouse_id", "");
    t->region = (char *)sl_db_text_or(rd, i, "region", "");
    t->p50_days = (int32_t)sl_db_int64_or(rd, i, "p50_days", 0);
    t->p90_days = (int32_t)sl_db_int64_or(rd, i, "p90_days", 0);
    t->updated_at_ms = sl_db_int64_or(rd, i, "updated_ms", 0);
    return t;
}

static bool tr_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    Shelfline__V1__TransitTime **ts = rows;
    return (ts[i] = tr_from(a, rd, i)) != NULL;
}

static sl_status one_tr(sl_db_conn *c, sl_arena *a, const char *stmt, int n, const char *const *v,
                        Shelfline__V1__TransitTime **out, sl_err *err)
{
    *out = NULL;
    return inv__query_one(c, a, stmt, n, v, tr_at, out, err);
}

sl_status inv_store_transit_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__TransitTime *t,
                                   bool *created, Shelfline__V1__TransitTime **out, sl_err *err)
{
    const char *v[4] = {t->warehouse_id, t->region, inv__i64s(a, t->p50_days),
                        inv__i64s(a, t->p90_days)};
    sl_status st = one_tr(c, a, "inv_tr_insert", 4, v, out, err);
    if (st != SL_OK)
        return st;
    *created = *out != NULL;
    if (*out != NULL)
        return SL_OK;
    return inv_store_transit_get(c, a, t->warehouse_id, t->region, out, err);
}

sl_status inv_store_transit_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__TransitTime *t,
                                   Shelfline__V1__TransitTime **out, sl_err *err)
{
    const char *v[4] = {t->warehouse_id, t->region, inv__i64s(a, t->p50_days),
                        inv__i64s(a, t->p90_days)};
    return one_tr(c, a, "inv_tr_update", 4, v, out, err);
}

sl_status inv_store_transit_get(sl_db_conn *c, sl_arena *a, const char *wh, const char *region,
                                Shelfline__V1__TransitTime **out, sl_err *err)
{
    const char *v[2] = {wh, region};
    return one_tr(c, a, "inv_tr_get", 2, v, out, err);
}

sl_status inv_store_transit_list(sl_db_conn *c, sl_arena *a, const char *wh, const char *region,
                                 const char *after_wh, const char *after_region, int limit,
                                 Shelfline__V1__TransitTime ***out, size_t *n, sl_err *err)
{
    const char *v[5] = {wh, region, after_wh, after_region, inv__i64s(a, limit)};
    void *rows = NULL;
    sl_status st = inv__query_rows(c, a, "inv_tr_list", 5, v, sizeof **out, tr_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}
