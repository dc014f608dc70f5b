/*
 * fc_store: the forecasting service's SQL (see fc_store.h).  Dates travel
 * as "YYYY-MM-DD" text parameters made from day numbers; integers and
 * booleans as sl_db_row's parameter text.  Results are read with
 * sl_db_row, every column by its name: a column the SELECT lacks, a NULL
 * where none may be or a value that does not parse fails the call with
 * INTERNAL naming the column, rather than reading as "" or 0.
 */
#include "fc_store.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_valid.h"
#include "sl_db_row.h"

static const sl_db_stmt stmts[] = {
    {"fc_sales_api",
     "INSERT INTO daily_sales (sku, region, day, source, units, on_promotion) "
     "VALUES ($1, $2, $3::date, 'api', $4::bigint, $5::boolean) "
     "ON CONFLICT (sku, region, day, source) DO UPDATE "
     "SET units = EXCLUDED.units, on_promotion = EXCLUDED.on_promotion, updated_at = now() "
     "WHERE (daily_sales.units, daily_sales.on_promotion) IS DISTINCT FROM "
     "(EXCLUDED.units, EXCLUDED.on_promotion) RETURNING 1",
     5},
    {"fc_sales_add",
     "INSERT INTO daily_sales (sku, region, day, source, units) "
     "VALUES ($1, $2, $3::date, 'inventory', $4::bigint) "
     "ON CONFLICT (sku, region, day, source) DO UPDATE "
     "SET units = daily_sales.units + EXCLUDED.units, updated_at = now()",
     4},
    {"fc_stockout",
     "INSERT INTO stockout_days (sku, region, day, source) VALUES ($1, $2, $3::date, $4) "
     "ON CONFLICT DO NOTHING",
     4},
    /* OUT_OF_STOCK: a stock-out begins (the earliest day stays when the
     * event comes again). */
    {"fc_stockout_open",
     "INSERT INTO stockout_open (sku, region, since) VALUES ($1, $2, $3::date) "
     "ON CONFLICT DO NOTHING",
     3},
    /* BACK_IN_STOCK: the running stock-out ends; every day from its first
     * to this one was (at least partly) out of stock.  Nothing when none
     * runs (a replay, or stock that was never out). */
    {"fc_stockout_close",
     "WITH o AS (DELETE FROM stockout_open WHERE sku = $1 AND region = $2 RETURNING since) "
     "INSERT INTO stockout_days (sku, region, day, source) "
     "SELECT $1, $2, d::date, 'inventory' FROM o, "
     "generate_series(o.since, greatest(o.since, $3::date), interval '1 day') AS d "
     "ON CONFLICT DO NOTHING",
     3},
    {"fc_history",
     "SELECT (day - $3::date)::int AS off, sum(units)::float8 AS units, "
     "bool_or(on_promotion) AS promo FROM daily_sales "
     "WHERE sku = $1 AND region = $2 AND day < $3::date GROUP BY day ORDER BY day",
     3},
    /* Flagged days, and the days of a stock-out still running. */
    {"fc_history_stockouts",
     "SELECT (day - $3::date)::int AS off FROM stockout_days "
     "WHERE sku = $1 AND region = $2 AND day < $3::date "
     "UNION SELECT (d::date - $3::date)::int FROM stockout_open o, "
     "generate_series(o.since, $3::date - 1, interval '1 day') AS d "
     "WHERE o.sku = $1 AND o.region = $2",
     3},
    {"fc_day_units",
     "SELECT coalesce(sum(units), 0)::bigint AS units FROM daily_sales "
     "WHERE sku = $1 AND region = $2 AND day = $3::date",
     3},
    {"fc_event_set",
     "INSERT INTO calendar_event (event_id, name, kind, start_day, end_day, sku, region, "
     "promotion_id) VALUES ($1, $2, $3::int, $4::date, $5::date, $6, $7, $8) "
     "ON CONFLICT (event_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, "
     "start_day = EXCLUDED.start_day, end_day = EXCLUDED.end_day, sku = EXCLUDED.sku, "
     "region = EXCLUDED.region, promotion_id = EXCLUDED.promotion_id, updated_at = now()",
     8},
    {"fc_event_list",
     "SELECT event_id, name, kind, (start_day - DATE '1970-01-01')::int AS s, "
     "(end_day - DATE '1970-01-01')::int AS e, sku, region, promotion_id FROM calendar_event "
     "WHERE end_day >= $1::date AND start_day <= $2::date "
     "AND ($3::text IS NULL OR sku = '' OR sku = $3) "
     "AND ($4::text IS NULL OR region = '' OR region = $4) "
     "ORDER BY start_day, event_id LIMIT 1000",
     4},
    {"fc_alert",
     "INSERT INTO alert (alert_id, kind, sku, region, day) VALUES ($1, $2::int, $3, $4, $5::date) "
     "ON CONFLICT DO NOTHING RETURNING 1",
     5},
    {"fc_period_units",
     "SELECT coalesce(sum(units), 0)::bigint AS units FROM daily_sales "
     "WHERE sku = $1 AND day >= $2::date AND day < $3::date",
     3},
    {"fc_period_stockouts",
     "SELECT count(*)::bigint AS n FROM stockout_days "
     "WHERE sku = $1 AND day >= $2::date AND day < $3::date",
     3},
    {"fc_hourly_set",
     "INSERT INTO hourly_sales (sku, region, hour_ms, units) VALUES ($1, $2, $3::bigint, "
     "$4::bigint) ON CONFLICT (sku, region, hour_ms) DO UPDATE "
     "SET units = EXCLUDED.units, updated_at = now() "
     "WHERE hourly_sales.units IS DISTINCT FROM EXCLUDED.units RETURNING 1",
     4},
    {"fc_hourly_by_hour",
     "SELECT ((hour_ms % 86400000) / 3600000)::int AS h, sum(units)::float8 AS units "
     "FROM hourly_sales WHERE sku = $1 AND region = $2 AND hour_ms >= $3::bigint "
     "AND hour_ms < $4::bigint GROUP BY 1",
     4},
    {"fc_override_set",
     "INSERT INTO forecast_override (sku, region, day, kind, value, reason, author) "
     "VALUES ($1, $2, $3::date, $4, $5::float8, $6, $7) "
     "ON CONFLICT (sku, region, day) DO UPDATE SET kind = EXCLUDED.kind, value = EXCLUDED.value, "
     "reason = EXCLUDED.reason, author = EXCLUDED.author, set_at = now() "
     "WHERE (forecast_override.kind, forecast_override.value, forecast_override.reason, "
     "forecast_override.author) IS DISTINCT FROM "
     "(EXCLUDED.kind, EXCLUDED.value, EXCLUDED.reason, EXCLUDED.author) RETURNING 1",
     7},
    {"fc_override_list",
     "SELECT (day - DATE '1970-01-01')::int AS d, kind, value FROM forecast_override "
     "WHERE sku = $1 AND region = $2 AND day >= $3::date AND day <= $4::date ORDER BY day",
     4},
    {"fc_override_remove",
     "DELETE FROM forecast_override WHERE sku = $1 AND region = $2 AND day >= $3::date "
     "AND day <= $4::date RETURNING 1",
     4},
    {"fc_override_entries",
     "SELECT sku, region, (day - DATE '1970-01-01')::int AS d, kind, value, reason, author, "
     "(extract(epoch FROM set_at) * 1000)::bigint AS set_at_ms FROM forecast_override "
     "WHERE day >= $3::date AND day <= $4::date "
     "AND ($1::text IS NULL OR sku = $1) AND ($2::text IS NULL OR region = $2) "
     "ORDER BY sku, region, day LIMIT $5::int",
     5},
    {"fc_issue",
     "INSERT INTO issued_forecast (sku, region, day, issued_on, statistical, final, overridden) "
     "SELECT $1, $2, $3::date + (g.i - 1)::int, $4::date, g.s, g.f, g.o "
     "FROM unnest($5::float8[], $6::float8[], $7::boolean[]) WITH ORDINALITY AS g(s, f, o, i) "
     "ON CONFLICT (sku, region, day) DO UPDATE SET issued_on = EXCLUDED.issued_on, "
     "statistical = EXCLUDED.statistical, final = EXCLUDED.final, "
     "overridden = EXCLUDED.overridden WHERE issued_forecast.issued_on <= EXCLUDED.issued_on",
     7},
    {"fc_scored",
     "SELECT f.sku, f.region, (f.day - DATE '1970-01-01')::int AS d, f.statistical, f.final, "
     "f.overridden, (SELECT coalesce(sum(s.units), 0) FROM daily_sales s WHERE s.sku = f.sku "
     "AND s.region = f.region AND s.day = f.day)::float8 AS actual FROM issued_forecast f "
     "WHERE f.day >= $3::date AND f.day < $4::date "
     "AND ($1::text IS NULL OR f.sku = $1) AND ($2::text IS NULL OR f.region = $2) "
     "AND NOT EXISTS (SELECT 1 FROM stockout_days o WHERE o.sku = f.sku "
     "AND o.region = f.region AND o.day = f.day) "
     "ORDER BY f.sku, f.region, f.day LIMIT $5::int",
     5},
    {"fc_weekly_units",
     "SELECT sku, ((day - $2::date) / 7)::int AS w, sum(units)::float8 AS units "
     "FROM daily_sales WHERE ($1 = '' OR region = $1) AND day >= $2::date AND day < $3::date "
     "GROUP BY sku, w ORDER BY sku, w",
     3},
    {"fc_class_clear", "DELETE FROM sku_class WHERE region = $1", 1},
    {"fc_class_put",
     "INSERT INTO sku_class (region, sku, abc, xyz, revenue_minor, revenue_share, "
     "cumulative_share, weekly_cv, units, rank, classified_on, period_days) "
     "VALUES ($1, $2, $3, $4, $5::bigint, $6::float8, $7::float8, $8::float8, $9::bigint, "
     "$10::int, $11::date, $12::int)",
     12},
    {"fc_class_list",
     "SELECT sku, abc, xyz, revenue_minor, revenue_share, cumulative_share, weekly_cv, units, "
     "(classified_on - DATE '1970-01-01')::int AS d, period_days FROM sku_class "
     "WHERE region = $1 AND ($2::text IS NULL OR abc = $2) AND ($3::text IS NULL OR xyz = $3) "
     "ORDER BY rank",
     3},
    {"fc_class_get", "SELECT abc, xyz FROM sku_class WHERE sku = $1 AND region = $2", 2},
    {"fc_targets",
     "SELECT region, class_code, service_level FROM service_level_target "
     "WHERE region = $1 OR region = '' ORDER BY region",
     1},
    {"fc_target_set",
     "INSERT INTO service_level_target (region, class_code, service_level) "
     "VALUES ($1, $2, $3::float8) ON CONFLICT (region, class_code) DO UPDATE "
     "SET service_level = EXCLUDED.service_level, updated_at = now() "
     "WHERE service_level_target.service_level IS DISTINCT FROM EXCLUDED.service_level",
     3},
    {"fc_receipt",
     "INSERT INTO supplier_receipt (inbound_id, supplier, warehouse_id, sku, ordered_at_ms, "
     "promised_at_ms, received_at_ms, qty) VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, "
     "$7::bigint, $8::bigint) ON CONFLICT (inbound_id) DO NOTHING",
     8},
    {"fc_lead_stats",
     "SELECT supplier, coalesce(warehouse_id, '') AS warehouse_id, "
     "grouping(warehouse_id) = 1 AS every_wh, count(*) AS n, avg(lt) AS mean, "
     "coalesce(stddev_samp(lt), 0) AS sd, "
     "percentile_cont(0.5) WITHIN GROUP (ORDER BY lt) AS p50, "
     "percentile_cont(0.9) WITHIN GROUP (ORDER BY lt) AS p90, avg(delay) AS delay, "
     "avg(CASE WHEN delay <= 0 THEN 1.0 ELSE 0.0 END) AS on_time "
     "FROM (SELECT supplier, warehouse_id, (received_at_ms - ordered_at_ms) / 86400000.0 AS lt, "
     "(received_at_ms - promised_at_ms) / 86400000.0 AS delay FROM supplier_receipt "
     "WHERE received_at_ms >= $3::bigint AND ($1::text IS NULL OR supplier = $1) "
     "AND ($2::text IS NULL OR warehouse_id = $2)) x "
     "GROUP BY GROUPING SETS ((supplier, warehouse_id), (supplier)) "
     "ORDER BY supplier, every_wh, warehouse_id LIMIT 1000",
     3},
    {NULL, NULL, 0},
};

sl_status fc_store_register(sl_db *db, sl_err *err)
{
    return sl_db_register(db, stmts, err);
}

/* ---- reading results (sl_db_row: columns by name, failing loudly) ---- */

/* Text of column in row i copied into a (the reader points into the
 * result, which is cleared before the caller sees the rows).  Out of
 * memory fails rd like any other read, and reads "". */
static const char *copy_text(sl_db_reader *rd, sl_arena *a, int i, const char *column)
{
    const char *v = sl_db_text(rd, i, column);
    char *copy = sl_arena_strdup(a, v);
    if (copy != NULL)
        return copy;
    if (rd->status == SL_OK) {
        rd->status = SL_RESOURCE_EXHAUSTED;
        snprintf(rd->msg, sizeof rd->msg, "could not read column \"%s\": out of memory", column);
    }
    return "";
}

/* The sku and region of row i: the previous row's strings (prev_*, NULL
 * for the first row) when both are the same, else copies.  Consecutive
 * rows of one pair share its strings -- less memory, and callers may tell
 * pairs apart by pointer. */
static void shared_pair(sl_db_reader *rd, sl_arena *a, int i, const char *const *prev_sku,
                        const char *const *prev_region, const char **sku, const char **region)
{
    if (prev_sku != NULL && strcmp(sl_db_text(rd, i, "sku"), *prev_sku) == 0 &&
        strcmp(sl_db_text(rd, i, "region"), *prev_region) == 0) {
        *sku = *prev_sku;
        *region = *prev_region;
        return;
    }
    *sku = copy_text(rd, a, i, "sku");
    *region = copy_text(rd, a, i, "region");
}

/* Reads row i of rd's result into element i of rows, an array whose
 * element type only the reader knows (text copied into a). */
typedef void (*row_reader)(sl_db_reader *rd, sl_arena *a, int i, void *rows);

/* Runs stmt and reads each row into a new arena array of `size`-byte
 * elements with read.  *out and *n are NULL and 0 unless it succeeds; an
 * unknown column, a NULL or a value that does not parse is INTERNAL
 * naming the column.  The result is cleared on every path. */
static sl_status query_rows(sl_db_conn *c, sl_arena *a, const char *stmt, int np,
                            const char *const *v, size_t size, row_reader read, void **out,
                            size_t *n, sl_err *err)
{
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, stmt, np, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    int rows = sl_db_reader_rows(&rd);
    void *o = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * size);
    if (o == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int i = 0; i < rows; i++)
        read(&rd, a, i, o);
    if ((st = sl_db_reader_status(&rd, err)) != SL_OK)
        goto done;
    *out = o;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}

/* Runs stmt, a write with RETURNING: *changed says whether it returned a
 * row (the row was written, not already so). */
static sl_status run_changed(sl_db_conn *c, const char *stmt, int np, const char *const *v,
                             bool *changed, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, stmt, np, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        *changed = PQntuples(r) > 0;
    PQclear(r);
    return st;
}

/* Runs stmt, whose one row has the integer column, into *out. */
static sl_status run_int64(sl_db_conn *c, const char *stmt, int np, const char *const *v,
                           const char *column, int64_t *out, sl_err *err)
{
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, stmt, np, v, NULL, NULL, &r, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        *out = sl_db_int64(&rd, 0, column);
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}

sl_status fc_store_sales_api(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t units, bool promo, bool *changed, sl_err *err)
{
    char d[16], u[SL_DB_INT64_TEXT];
    fc_day_format(day, d, sizeof d);
    const char *v[] = {sku, region, d, sl_db_param_int64(u, units), sl_db_param_bool(promo)};
    return run_changed(c, "fc_sales_api", 5, v, changed, err);
}

sl_status fc_store_sales_add(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t units, sl_err *err)
{
    char d[16], u[SL_DB_INT64_TEXT];
    fc_day_format(day, d, sizeof d);
    const char *v[] = {sku, region, d, sl_db_param_int64(u, units)};
    return sl_db_exec(c, "fc_sales_add", 4, v, NULL, NULL, NULL, err);
}

sl_status fc_store_stockout(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                            const char *source, sl_err *err)
{
    char d[16];
    fc_day_format(day, d, sizeof d);
    const char *v[] = {sku, region, d, source};
    return sl_db_exec(c, "fc_stockout", 4, v, NULL, NULL, NULL, err);
}

/* Runs stmt with (sku, region, day). */
static sl_status exec_sku_region_day(sl_db_conn *c, const char *stmt, const char *sku,
                                     const char *region, int32_t day, sl_err *err)
{
    char d[16];
    fc_day_format(day, d, sizeof d);
    const char *v[] = {sku, region, d};
    return sl_db_exec(c, stmt, 3, v, NULL, NULL, NULL, err);
}

sl_status fc_store_stockout_open(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                                 sl_err *err)
{
    return exec_sku_region_day(c, "fc_stockout_open", sku, region, day, err);
}

sl_status fc_store_stockout_close(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                                  sl_err *err)
{
    return exec_sku_region_day(c, "fc_stockout_close", sku, region, day, err);
}

sl_status fc_store_history(sl_db_conn *c, const char *sku, const char *region, int32_t before,
                           sl_arena *a, fc_history *out, sl_err *err)
{
    char d[16];
    fc_day_format(before, d, sizeof d);
    const char *v[] = {sku, region, d};
    PGresult *r = NULL, *s = NULL;
    memset(out, 0, sizeof *out);
    sl_status st = sl_db_exec(c, "fc_history", 3, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    int rows = sl_db_reader_rows(&rd);
    if (rows == 0)
        goto done;
    int64_t first = sl_db_int64(&rd, 0, "off"); /* negative */
    if ((st = sl_db_reader_status(&rd, err)) != SL_OK)
        goto done;
    if (first >= 0) {
        st = sl_err_set(err, SL_INTERNAL, "history of \"%s\" in \"%s\" starts at offset %lld", sku,
                        region, (long long)first);
        goto done;
    }
    size_t n = (size_t)(-first);
    out->first_day = before + (int32_t)first;
    out->n = n;
    out->units = sl_arena_zalloc(a, n * sizeof *out->units);
    out->promo = sl_arena_zalloc(a, n);
    out->stockout = sl_arena_zalloc(a, n);
    if (out->units == NULL || out->promo == NULL || out->stockout == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int i = 0; i < rows; i++) {
        int64_t off = sl_db_int64(&rd, i, "off");
        if (off < first || off >= 0)
            continue; /* ordered by day, before `before`: never */
        size_t k = (size_t)(off - first);
        out->units[k] = sl_db_double(&rd, i, "units");
        out->promo[k] = sl_db_bool(&rd, i, "promo");
    }
    if ((st = sl_db_reader_status(&rd, err)) != SL_OK)
        goto done;
    if ((st = sl_db_exec(c, "fc_history_stockouts", 3, v, NULL, NULL, &s, err)) != SL_OK)
        goto done;
    sl_db_reader so;
    sl_db_reader_init(&so, s, NULL);
    for (int i = 0; i < sl_db_reader_rows(&so); i++) {
        int64_t off = sl_db_int64(&so, i, "off");
        if (off >= first && off < 0)
            out->stockout[off - first] = 1;
    }
    st = sl_db_reader_status(&so, err);
done:
    if (st != SL_OK)
        memset(out, 0, sizeof *out);
    PQclear(s);
    PQclear(r);
    return st;
}

sl_status fc_store_day_units(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t *units, sl_err *err)
{
    char d[16];
    fc_day_format(day, d, sizeof d);
    const char *v[] = {sku, region, d};
    return run_int64(c, "fc_day_units", 3, v, "units", units, err);
}

sl_status fc_store_event_set(sl_db_conn *c, const fc_event_row *e, sl_err *err)
{
    char s[16], en[16], k[SL_DB_INT64_TEXT];
    fc_day_format(e->start_day, s, sizeof s);
    fc_day_format(e->end_day, en, sizeof en);
    const char *v[] = {e->event_id,
                       e->name,
                       sl_db_param_int64(k, e->kind),
                       s,
                       en,
                       e->sku,
                       e->region,
                       e->promotion_id != NULL ? e->promotion_id : ""};
    return sl_db_exec(c, "fc_event_set", 8, v, NULL, NULL, NULL, err);
}

static void read_event(sl_db_reader *rd, sl_arena *a, int i, void *rows)
{
    fc_event_row *e = &((fc_event_row *)rows)[i];
    e->event_id = copy_text(rd, a, i, "event_id");
    e->name = copy_text(rd, a, i, "name");
    e->kind = (int)sl_db_int64(rd, i, "kind");
    e->start_day = (int32_t)sl_db_int64(rd, i, "s");
    e->end_day = (int32_t)sl_db_int64(rd, i, "e");
    e->sku = copy_text(rd, a, i, "sku");
    e->region = copy_text(rd, a, i, "region");
    e->promotion_id = copy_text(rd, a, i, "promotion_id");
}

sl_status fc_store_event_list(sl_db_conn *c, int32_t from, int32_t to, const char *sku,
                              const char *region, sl_arena *a, fc_event_row **out, size_t *n,
                              sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from == INT32_MIN ? fc_day_min() : from, f, sizeof f);
    fc_day_format(to == INT32_MAX ? fc_day_max() : to, t, sizeof t);
    const char *v[] = {f, t, sku, region};
    return query_rows(c, a, "fc_event_list", 4, v, sizeof **out, read_event, (void **)out, n, err);
}

sl_status fc_store_alert(sl_db_conn *c, const char *alert_id, int kind, const char *sku,
                         const char *region, int32_t day, bool *fresh, sl_err *err)
{
    char d[16], k[SL_DB_INT64_TEXT];
    fc_day_format(day, d, sizeof d);
    const char *v[] = {alert_id, sl_db_param_int64(k, kind), sku, region, d};
    return run_changed(c, "fc_alert", 5, v, fresh, err);
}

sl_status fc_store_period(sl_db_conn *c, const char *sku, int32_t from, int32_t to, int64_t *units,
                          int64_t *stockout_days, sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {sku, f, t};
    sl_status st = run_int64(c, "fc_period_units", 3, v, "units", units, err);
    return st == SL_OK ? run_int64(c, "fc_period_stockouts", 3, v, "n", stockout_days, err) : st;
}

sl_status fc_store_hourly_set(sl_db_conn *c, const char *sku, const char *region, int64_t hour_ms,
                              int64_t units, bool *changed, sl_err *err)
{
    char h[SL_DB_INT64_TEXT], u[SL_DB_INT64_TEXT];
    const char *v[] = {sku, region, sl_db_param_int64(h, hour_ms), sl_db_param_int64(u, units)};
    return run_changed(c, "fc_hourly_set", 4, v, changed, err);
}

sl_status fc_store_hourly_by_hour(sl_db_conn *c, const char *sku, const char *region,
                                  int64_t from_ms, int64_t to_ms, double units[24], int *last_hour,
                                  sl_err *err)
{
    char f[SL_DB_INT64_TEXT], t[SL_DB_INT64_TEXT];
    const char *v[] = {sku, region, sl_db_param_int64(f, from_ms), sl_db_param_int64(t, to_ms)};
    PGresult *r = NULL;
    for (int i = 0; i < 24; i++)
        units[i] = 0;
    *last_hour = -1;
    sl_status st = sl_db_exec(c, "fc_hourly_by_hour", 4, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    for (int i = 0; i < sl_db_reader_rows(&rd); i++) {
        int64_t h = sl_db_int64(&rd, i, "h");
        if (h < 0 || h > 23)
            continue;
        units[h] = sl_db_double(&rd, i, "units");
        if (h > *last_hour)
            *last_hour = (int)h;
    }
    st = sl_db_reader_status(&rd, err);
done:
    PQclear(r);
    return st;
}

sl_status fc_store_override_set(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                                const char *kind, double value, const char *reason,
                                const char *author, bool *changed, sl_err *err)
{
    char d[16], v[40];
    fc_day_format(day, d, sizeof d);
    snprintf(v, sizeof v, "%.17g", value);
    const char *p[] = {sku, region, d, kind, v, reason, author};
    return run_changed(c, "fc_override_set", 7, p, changed, err);
}

static void read_override(sl_db_reader *rd, sl_arena *a, int i, void *rows)
{
    fc_override_row *o = &((fc_override_row *)rows)[i];
    (void)a; /* no text kept */
    o->day = (int32_t)sl_db_int64(rd, i, "d");
    o->uplift = strcmp(sl_db_text(rd, i, "kind"), "uplift") == 0;
    o->value = sl_db_double(rd, i, "value");
}

sl_status fc_store_override_list(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                                 int32_t to, sl_arena *a, fc_override_row **out, size_t *n,
                                 sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {sku, region, f, t};
    return query_rows(c, a, "fc_override_list", 4, v, sizeof **out, read_override, (void **)out, n,
                      err);
}

sl_status fc_store_override_remove(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                                   int32_t to, int *removed, sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {sku, region, f, t};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "fc_override_remove", 4, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        *removed = PQntuples(r); /* RETURNING 1 per deleted day */
    PQclear(r);
    return st;
}

static void read_entry(sl_db_reader *rd, sl_arena *a, int i, void *rows)
{
    fc_override_entry *x = &((fc_override_entry *)rows)[i];
    shared_pair(rd, a, i, i > 0 ? &x[-1].sku : NULL, i > 0 ? &x[-1].region : NULL, &x->sku,
                &x->region);
    x->reason = copy_text(rd, a, i, "reason");
    x->author = copy_text(rd, a, i, "author");
    x->day = (int32_t)sl_db_int64(rd, i, "d");
    x->uplift = strcmp(sl_db_text(rd, i, "kind"), "uplift") == 0;
    x->value = sl_db_double(rd, i, "value");
    x->set_at_ms = sl_db_int64(rd, i, "set_at_ms");
}

sl_status fc_store_override_entries(sl_db_conn *c, const char *sku, const char *region,
                                    int32_t from, int32_t to, int max, sl_arena *a,
                                    fc_override_entry **out, size_t *n, sl_err *err)
{
    char f[16], t[16], l[SL_DB_INT64_TEXT];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {sku, region, f, t, sl_db_param_int64(l, max)};
    return query_rows(c, a, "fc_override_entries", 5, v, sizeof **out, read_entry, (void **)out, n,
                      err);
}

/* Appends a PostgreSQL array literal of n values to b (cap bytes). */
static void array_literal(char *b, size_t cap, const double *v, const uint8_t *flags, size_t n)
{
    size_t len = 0;
    b[len++] = '{';
    for (size_t i = 0; i < n && len + 32 < cap; i++) {
        int k = flags != NULL
                    ? snprintf(b + len, cap - len, "%s%s", i ? "," : "", flags[i] ? "t" : "f")
                    : snprintf(b + len, cap - len, "%s%.17g", i ? "," : "",
                               isfinite(v[i]) ? v[i] : 0.0);
        len += (size_t)k;
    }
    snprintf(b + len, cap - len, "}");
}

sl_status fc_store_issue(sl_db_conn *c, const char *sku, const char *region, int32_t issued_on,
                         int32_t first_day, size_t n, const double *statistical,
                         const double *final, const uint8_t *overridden, sl_arena *a, sl_err *err)
{
    if (n == 0)
        return SL_OK;
    size_t cap = n * 28 + 8;
    char *s = sl_arena_alloc(a, cap), *f = sl_arena_alloc(a, cap), *o = sl_arena_alloc(a, cap);
    if (s == NULL || f == NULL || o == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    array_literal(s, cap, statistical, NULL, n);
    array_literal(f, cap, final, NULL, n);
    array_literal(o, cap, NULL, overridden, n);
    char d0[16], io[16];
    fc_day_format(first_day, d0, sizeof d0);
    fc_day_format(issued_on, io, sizeof io);
    const char *v[] = {sku, region, d0, io, s, f, o};
    return sl_db_exec(c, "fc_issue", 7, v, NULL, NULL, NULL, err);
}

static void read_scored(sl_db_reader *rd, sl_arena *a, int i, void *rows)
{
    fc_scored_row *x = &((fc_scored_row *)rows)[i];
    /* Consecutive rows of one pair share its strings (the accuracy report
     * tells pairs apart by them). */
    shared_pair(rd, a, i, i > 0 ? &x[-1].sku : NULL, i > 0 ? &x[-1].region : NULL, &x->sku,
                &x->region);
    x->day = (int32_t)sl_db_int64(rd, i, "d");
    x->statistical = sl_db_double(rd, i, "statistical");
    x->final = sl_db_double(rd, i, "final");
    x->overridden = sl_db_bool(rd, i, "overridden");
    x->actual = sl_db_double(rd, i, "actual");
}

sl_status fc_store_scored(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                          int32_t to, size_t limit, sl_arena *a, fc_scored_row **out, size_t *n,
                          sl_err *err)
{
    char f[16], t[16], l[SL_DB_INT64_TEXT];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {sku, region, f, t, sl_db_param_int64(l, (int64_t)limit)};
    return query_rows(c, a, "fc_scored", 5, v, sizeof **out, read_scored, (void **)out, n, err);
}

static void read_weekly(sl_db_reader *rd, sl_arena *a, int i, void *rows)
{
    fc_weekly_row *x = &((fc_weekly_row *)rows)[i];
    const char *sku = sl_db_text(rd, i, "sku");
    x->sku = i > 0 && strcmp(sku, x[-1].sku) == 0 ? x[-1].sku : copy_text(rd, a, i, "sku");
    x->week = (int)sl_db_int64(rd, i, "w");
    x->units = sl_db_double(rd, i, "units");
}

sl_status fc_store_weekly_units(sl_db_conn *c, const char *region, int32_t from, int32_t to,
                                sl_arena *a, fc_weekly_row **out, size_t *n, sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {region, f, t};
    return query_rows(c, a, "fc_weekly_units", 3, v, sizeof **out, read_weekly, (void **)out, n,
                      err);
}

sl_status fc_store_class_replace(sl_db_conn *c, const char *region, const fc_class_row *rows,
                                 size_t n, sl_err *err)
{
    const char *v0[] = {region};
    sl_status st = sl_db_exec(c, "fc_class_clear", 1, v0, NULL, NULL, NULL, err);
    for (size_t i = 0; st == SL_OK && i < n; i++) {
        const fc_class_row *x = &rows[i];
        char abc[2] = {x->abc, 0}, xyz[2] = {x->xyz, 0}, rev[SL_DB_INT64_TEXT], sh[32], cum[32],
             cv[32], u[SL_DB_INT64_TEXT], rk[SL_DB_INT64_TEXT], d[16], pd[SL_DB_INT64_TEXT];
        snprintf(sh, sizeof sh, "%.17g", x->share);
        snprintf(cum, sizeof cum, "%.17g", x->cumulative);
        snprintf(cv, sizeof cv, "%.17g", x->cv);
        fc_day_format(x->classified_on, d, sizeof d);
        const char *v[] = {region,
                           x->sku,
                           abc,
                           xyz,
                           sl_db_param_int64(rev, x->revenue_minor),
                           sh,
                           cum,
                           cv,
                           sl_db_param_int64(u, x->units),
                           sl_db_param_int64(rk, (int64_t)i),
                           d,
                           sl_db_param_int64(pd, x->period_days)};
        st = sl_db_exec(c, "fc_class_put", 12, v, NULL, NULL, NULL, err);
    }
    return st;
}

static void read_class(sl_db_reader *rd, sl_arena *a, int i, void *rows)
{
    fc_class_row *x = &((fc_class_row *)rows)[i];
    x->sku = copy_text(rd, a, i, "sku");
    x->abc = sl_db_text(rd, i, "abc")[0];
    x->xyz = sl_db_text(rd, i, "xyz")[0];
    x->revenue_minor = sl_db_int64(rd, i, "revenue_minor");
    x->share = sl_db_double(rd, i, "revenue_share");
    x->cumulative = sl_db_double(rd, i, "cumulative_share");
    x->cv = sl_db_double(rd, i, "weekly_cv");
    x->units = sl_db_int64(rd, i, "units");
    x->classified_on = (int32_t)sl_db_int64(rd, i, "d");
    x->period_days = (int)sl_db_int64(rd, i, "period_days");
}

sl_status fc_store_class_list(sl_db_conn *c, const char *region, const char *abc, const char *xyz,
                              sl_arena *a, fc_class_row **out, size_t *n, sl_err *err)
{
    const char *v[] = {region, abc, xyz};
    return query_rows(c, a, "fc_class_list", 3, v, sizeof **out, read_class, (void **)out, n, err);
}

sl_status fc_store_class_get(sl_db_conn *c, const char *sku, const char *region, char *abc,
                             char *xyz, bool *found, sl_err *err)
{
    const char *v[] = {sku, region};
    PGresult *r = NULL;
    *found = false;
    sl_status st = sl_db_exec(c, "fc_class_get", 2, v, NULL, NULL, &r, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        if (sl_db_reader_rows(&rd) > 0) {
            *abc = sl_db_text(&rd, 0, "abc")[0];
            *xyz = sl_db_text(&rd, 0, "xyz")[0];
            *found = true;
        }
        if ((st = sl_db_reader_status(&rd, err)) != SL_OK)
            *found = false;
    }
    PQclear(r);
    return st;
}

sl_status fc_store_targets(sl_db_conn *c, const char *region, double targets[9], sl_err *err)
{
    const char *v[] = {region};
    PGresult *r = NULL;
    for (int i = 0; i < 9; i++)
        targets[i] = NAN;
    sl_status st = sl_db_exec(c, "fc_targets", 1, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    /* Ordered by region: the defaults ('') first, the region's own after,
     * so the region's own win. */
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    for (int i = 0; i < sl_db_reader_rows(&rd); i++) {
        const char *code = sl_db_text(&rd, i, "class_code");
        double level = sl_db_double(&rd, i, "service_level");
        if (code[0] < 'A' || code[0] > 'C' || code[1] < 'X' || code[1] > 'Z')
            continue;
        targets[(code[0] - 'A') * 3 + (code[1] - 'X')] = level;
    }
    st = sl_db_reader_status(&rd, err);
done:
    PQclear(r);
    return st;
}

sl_status fc_store_target_set(sl_db_conn *c, const char *region, const char *code, double level,
                              sl_err *err)
{
    char l[32];
    snprintf(l, sizeof l, "%.17g", level);
    const char *v[] = {region, code, l};
    return sl_db_exec(c, "fc_target_set", 3, v, NULL, NULL, NULL, err);
}

sl_status fc_store_receipt(sl_db_conn *c, const char *inbound_id, const char *supplier,
                           const char *warehouse_id, const char *sku, int64_t ordered_ms,
                           int64_t promised_ms, int64_t received_ms, int64_t qty, sl_err *err)
{
    char o[SL_DB_INT64_TEXT], p[SL_DB_INT64_TEXT], r[SL_DB_INT64_TEXT], q[SL_DB_INT64_TEXT];
    const char *v[] = {inbound_id,
                       supplier,
                       warehouse_id,
                       sku,
                       sl_db_param_int64(o, ordered_ms),
                       sl_db_param_int64(p, promised_ms),
                       sl_db_param_int64(r, received_ms),
                       sl_db_param_int64(q, qty)};
    return sl_db_exec(c, "fc_receipt", 8, v, NULL, NULL, NULL, err);
}

static void read_lead(sl_db_reader *rd, sl_arena *a, int i, void *rows)
{
    fc_lead_row *x = &((fc_lead_row *)rows)[i];
    x->supplier = copy_text(rd, a, i, "supplier");
    x->warehouse_id = copy_text(rd, a, i, "warehouse_id");
    x->every_warehouse = sl_db_bool(rd, i, "every_wh");
    x->receipts = sl_db_int64(rd, i, "n");
    x->mean = sl_db_double(rd, i, "mean");
    x->sd = sl_db_double(rd, i, "sd");
    x->p50 = sl_db_double(rd, i, "p50");
    x->p90 = sl_db_double(rd, i, "p90");
    x->delay = sl_db_double(rd, i, "delay");
    x->on_time = sl_db_double(rd, i, "on_time");
}

sl_status fc_store_lead_stats(sl_db_conn *c, const char *supplier, const char *warehouse_id,
                              int64_t since_ms, sl_arena *a, fc_lead_row **out, size_t *n,
                              sl_err *err)
{
    char since[SL_DB_INT64_TEXT];
    const char *v[] = {supplier, warehouse_id, sl_db_param_int64(since, since_ms)};
    return query_rows(c, a, "fc_lead_stats", 3, v, sizeof **out, read_lead, (void **)out, n, err);
}
