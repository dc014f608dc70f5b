/*
 * fc_store: the forecasting service's SQL (see fc_store.h).  Dates travel
 * as "YYYY-MM-DD" text parameters made from day numbers.
 */
#include "fc_store.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_valid.h"

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
    {"fc_history",
     "SELECT (day - $3::date)::int AS off, sum(units)::float8 AS units, "
     "bool_or(on_promotion) AS promo FROM daily_sales "
     "WHERE sku = $1 AND region = $2 AND day < $3::date GROUP BY day ORDER BY day",
     3},
    {"fc_history_stockouts",
     "SELECT (day - $3::date)::int AS off FROM stockout_days "
     "WHERE sku = $1 AND region = $2 AND day < $3::date",
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

sl_status fc_store_sales_api(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t units, bool promo, bool *changed, sl_err *err)
{
    char d[16], u[24];
    fc_day_format(day, d, sizeof d);
    snprintf(u, sizeof u, "%" PRId64, units);
    const char *v[] = {sku, region, d, u, promo ? "true" : "false"};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "fc_sales_api", 5, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        *changed = PQntuples(r) > 0;
    PQclear(r);
    return st;
}

sl_status fc_store_sales_add(sl_db_conn *c, const char *sku, const char *region, int32_t day,
                             int64_t units, sl_err *err)
{
    char d[16], u[24];
    fc_day_format(day, d, sizeof d);
    snprintf(u, sizeof u, "%" PRId64, units);
    const char *v[] = {sku, region, d, u};
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
    int rows = PQntuples(r);
    if (rows == 0)
        goto done;
    int c_off = PQfnumber(r, "off"), c_units = PQfnumber(r, "units"),
        c_promo = PQfnumber(r, "promo");
    long first = strtol(PQgetvalue(r, 0, c_off), NULL, 10); /* negative */
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
        long off = strtol(PQgetvalue(r, i, c_off), NULL, 10);
        size_t k = (size_t)(off - first);
        out->units[k] = strtod(PQgetvalue(r, i, c_units), NULL);
        out->promo[k] = PQgetvalue(r, i, c_promo)[0] == 't';
    }
    st = sl_db_exec(c, "fc_history_stockouts", 3, v, NULL, NULL, &s, err);
    if (st != SL_OK)
        goto done;
    for (int i = 0; i < PQntuples(s); i++) {
        long off = strtol(PQgetvalue(s, i, 0), NULL, 10);
        if (off >= first && off < 0)
            out->stockout[off - first] = 1;
    }
done:
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
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "fc_day_units", 3, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        *units = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return st;
}

sl_status fc_store_event_set(sl_db_conn *c, const fc_event_row *e, sl_err *err)
{
    char s[16], en[16], k[8];
    fc_day_format(e->start_day, s, sizeof s);
    fc_day_format(e->end_day, en, sizeof en);
    snprintf(k, sizeof k, "%d", e->kind);
    const char *v[] = {
        e->event_id, e->name, k,         s,
        en,          e->sku,  e->region, e->promotion_id != NULL ? e->promotion_id : ""};
    return sl_db_exec(c, "fc_event_set", 8, v, NULL, NULL, NULL, err);
}

sl_status fc_store_event_list(sl_db_conn *c, int32_t from, int32_t to, const char *sku,
                              const char *region, sl_arena *a, fc_event_row **out, size_t *n,
                              sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from == INT32_MIN ? fc_day_min() : from, f, sizeof f);
    fc_day_format(to == INT32_MAX ? fc_day_max() : to, t, sizeof t);
    const char *v[] = {f, t, sku, region};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "fc_event_list", 4, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    fc_event_row *e = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *e);
    if (e == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int ci = PQfnumber(r, "event_id"), cn = PQfnumber(r, "name"), ck = PQfnumber(r, "kind"),
        cs = PQfnumber(r, "s"), ce = PQfnumber(r, "e"), csku = PQfnumber(r, "sku"),
        creg = PQfnumber(r, "region"), cpro = PQfnumber(r, "promotion_id");
    for (int i = 0; i < rows; i++) {
        e[i].event_id = sl_arena_strdup(a, PQgetvalue(r, i, ci));
        e[i].name = sl_arena_strdup(a, PQgetvalue(r, i, cn));
        e[i].kind = (int)strtol(PQgetvalue(r, i, ck), NULL, 10);
        e[i].start_day = (int32_t)strtol(PQgetvalue(r, i, cs), NULL, 10);
        e[i].end_day = (int32_t)strtol(PQgetvalue(r, i, ce), NULL, 10);
        e[i].sku = sl_arena_strdup(a, PQgetvalue(r, i, csku));
        e[i].region = sl_arena_strdup(a, PQgetvalue(r, i, creg));
        e[i].promotion_id = sl_arena_strdup(a, PQgetvalue(r, i, cpro));
        if (e[i].event_id == NULL || e[i].name == NULL || e[i].sku == NULL || e[i].region == NULL ||
            e[i].promotion_id == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
    }
    *out = e;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}

sl_status fc_store_alert(sl_db_conn *c, const char *alert_id, int kind, const char *sku,
                         const char *region, int32_t day, bool *fresh, sl_err *err)
{
    char d[16], k[8];
    fc_day_format(day, d, sizeof d);
    snprintf(k, sizeof k, "%d", kind);
    const char *v[] = {alert_id, k, sku, region, d};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "fc_alert", 5, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        *fresh = PQntuples(r) > 0;
    PQclear(r);
    return st;
}

sl_status fc_store_period(sl_db_conn *c, const char *sku, int32_t from, int32_t to, int64_t *units,
                          int64_t *stockout_days, sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {sku, f, t};
    PGresult *r = NULL, *s = NULL;
    sl_status st = sl_db_exec(c, "fc_period_units", 3, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        st = sl_db_exec(c, "fc_period_stockouts", 3, v, NULL, NULL, &s, err);
    if (st == SL_OK) {
        *units = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        *stockout_days = strtoll(PQgetvalue(s, 0, 0), NULL, 10);
    }
    PQclear(s);
    PQclear(r);
    return st;
}

sl_status fc_store_hourly_set(sl_db_conn *c, const char *sku, const char *region, int64_t hour_ms,
                              int64_t units, bool *changed, sl_err *err)
{
    char h[24], u[24];
    snprintf(h, sizeof h, "%" PRId64, hour_ms);
    snprintf(u, sizeof u, "%" PRId64, units);
    const char *v[] = {sku, region, h, u};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "fc_hourly_set", 4, v, NULL, NULL, &r, err);
    if (st == SL_OK)
        *changed = PQntuples(r) > 0;
    PQclear(r);
    return st;
}

sl_status fc_store_hourly_by_hour(sl_db_conn *c, const char *sku, const char *region,
                                  int64_t from_ms, int64_t to_ms, double units[24], int *last_hour,
                                  sl_err *err)
{
    char f[24], t[24];
    snprintf(f, sizeof f, "%" PRId64, from_ms);
    snprintf(t, sizeof t, "%" PRId64, to_ms);
    const char *v[] = {sku, region, f, t};
    PGresult *r = NULL;
    for (int i = 0; i < 24; i++)
        units[i] = 0;
    *last_hour = -1;
    sl_status st = sl_db_exec(c, "fc_hourly_by_hour", 4, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int ch = PQfnumber(r, "h"), cu = PQfnumber(r, "units");
    for (int i = 0; i < PQntuples(r); i++) {
        long h = strtol(PQgetvalue(r, i, ch), NULL, 10);
        if (h < 0 || h > 23)
            continue;
        units[h] = strtod(PQgetvalue(r, i, cu), NULL);
        if (h > *last_hour)
            *last_hour = (int)h;
    }
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
    PGresult *r = NULL;
    sl_status st = sl_db_exec(c, "fc_override_set", 7, p, NULL, NULL, &r, err);
    if (st == SL_OK)
        *changed = PQntuples(r) > 0;
    PQclear(r);
    return st;
}

sl_status fc_store_override_list(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                                 int32_t to, sl_arena *a, fc_override_row **out, size_t *n,
                                 sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {sku, region, f, t};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "fc_override_list", 4, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    fc_override_row *o = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *o);
    if (o == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int cd = PQfnumber(r, "d"), ck = PQfnumber(r, "kind"), cv = PQfnumber(r, "value");
    for (int i = 0; i < rows; i++) {
        o[i].day = (int32_t)strtol(PQgetvalue(r, i, cd), NULL, 10);
        o[i].uplift = strcmp(PQgetvalue(r, i, ck), "uplift") == 0;
        o[i].value = strtod(PQgetvalue(r, i, cv), NULL);
    }
    *out = o;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
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
        *removed = PQntuples(r);
    PQclear(r);
    return st;
}

sl_status fc_store_override_entries(sl_db_conn *c, const char *sku, const char *region,
                                    int32_t from, int32_t to, int max, sl_arena *a,
                                    fc_override_entry **out, size_t *n, sl_err *err)
{
    char f[16], t[16], l[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    snprintf(l, sizeof l, "%d", max);
    const char *v[] = {sku, region, f, t, l};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "fc_override_entries", 5, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    fc_override_entry *x = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *x);
    if (x == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int cs = PQfnumber(r, "sku"), cr = PQfnumber(r, "region"), cd = PQfnumber(r, "d"),
        ck = PQfnumber(r, "kind"), cv = PQfnumber(r, "value"), cw = PQfnumber(r, "reason"),
        ca = PQfnumber(r, "author"), ct = PQfnumber(r, "set_at_ms");
    for (int i = 0; i < rows; i++) {
        bool same = i > 0 && strcmp(PQgetvalue(r, i, cs), x[i - 1].sku) == 0 &&
                    strcmp(PQgetvalue(r, i, cr), x[i - 1].region) == 0;
        x[i].sku = same ? x[i - 1].sku : sl_arena_strdup(a, PQgetvalue(r, i, cs));
        x[i].region = same ? x[i - 1].region : sl_arena_strdup(a, PQgetvalue(r, i, cr));
        x[i].reason = sl_arena_strdup(a, PQgetvalue(r, i, cw));
        x[i].author = sl_arena_strdup(a, PQgetvalue(r, i, ca));
        if (x[i].sku == NULL || x[i].region == NULL || x[i].reason == NULL || x[i].author == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        x[i].day = (int32_t)strtol(PQgetvalue(r, i, cd), NULL, 10);
        x[i].uplift = strcmp(PQgetvalue(r, i, ck), "uplift") == 0;
        x[i].value = strtod(PQgetvalue(r, i, cv), NULL);
        x[i].set_at_ms = strtoll(PQgetvalue(r, i, ct), NULL, 10);
    }
    *out = x;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
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

sl_status fc_store_scored(sl_db_conn *c, const char *sku, const char *region, int32_t from,
                          int32_t to, size_t limit, sl_arena *a, fc_scored_row **out, size_t *n,
                          sl_err *err)
{
    char f[16], t[16], l[24];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    snprintf(l, sizeof l, "%zu", limit);
    const char *v[] = {sku, region, f, t, l};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "fc_scored", 5, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    fc_scored_row *x = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *x);
    if (x == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int cs = PQfnumber(r, "sku"), cr = PQfnumber(r, "region"), cd = PQfnumber(r, "d"),
        cst = PQfnumber(r, "statistical"), cf = PQfnumber(r, "final"),
        co = PQfnumber(r, "overridden"), ca = PQfnumber(r, "actual");
    for (int i = 0; i < rows; i++) {
        /* Consecutive rows of one pair share its strings. */
        bool same = i > 0 && strcmp(PQgetvalue(r, i, cs), x[i - 1].sku) == 0 &&
                    strcmp(PQgetvalue(r, i, cr), x[i - 1].region) == 0;
        x[i].sku = same ? x[i - 1].sku : sl_arena_strdup(a, PQgetvalue(r, i, cs));
        x[i].region = same ? x[i - 1].region : sl_arena_strdup(a, PQgetvalue(r, i, cr));
        if (x[i].sku == NULL || x[i].region == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        x[i].day = (int32_t)strtol(PQgetvalue(r, i, cd), NULL, 10);
        x[i].statistical = strtod(PQgetvalue(r, i, cst), NULL);
        x[i].final = strtod(PQgetvalue(r, i, cf), NULL);
        x[i].overridden = PQgetvalue(r, i, co)[0] == 't';
        x[i].actual = strtod(PQgetvalue(r, i, ca), NULL);
    }
    *out = x;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}

sl_status fc_store_weekly_units(sl_db_conn *c, const char *region, int32_t from, int32_t to,
                                sl_arena *a, fc_weekly_row **out, size_t *n, sl_err *err)
{
    char f[16], t[16];
    fc_day_format(from, f, sizeof f);
    fc_day_format(to, t, sizeof t);
    const char *v[] = {region, f, t};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "fc_weekly_units", 3, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    fc_weekly_row *x = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *x);
    if (x == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int cs = PQfnumber(r, "sku"), cw = PQfnumber(r, "w"), cu = PQfnumber(r, "units");
    for (int i = 0; i < rows; i++) {
        bool same = i > 0 && strcmp(PQgetvalue(r, i, cs), x[i - 1].sku) == 0;
        x[i].sku = same ? x[i - 1].sku : sl_arena_strdup(a, PQgetvalue(r, i, cs));
        if (x[i].sku == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        x[i].week = (int)strtol(PQgetvalue(r, i, cw), NULL, 10);
        x[i].units = strtod(PQgetvalue(r, i, cu), NULL);
    }
    *out = x;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}

sl_status fc_store_class_replace(sl_db_conn *c, const char *region, const fc_class_row *rows,
                                 size_t n, sl_err *err)
{
    const char *v0[] = {region};
    sl_status st = sl_db_exec(c, "fc_class_clear", 1, v0, NULL, NULL, NULL, err);
    for (size_t i = 0; st == SL_OK && i < n; i++) {
        const fc_class_row *x = &rows[i];
        char abc[2] = {x->abc, 0}, xyz[2] = {x->xyz, 0}, rev[24], sh[32], cum[32], cv[32], u[24],
             rk[24], d[16], pd[16];
        snprintf(rev, sizeof rev, "%" PRId64, x->revenue_minor);
        snprintf(sh, sizeof sh, "%.17g", x->share);
        snprintf(cum, sizeof cum, "%.17g", x->cumulative);
        snprintf(cv, sizeof cv, "%.17g", x->cv);
        snprintf(u, sizeof u, "%" PRId64, x->units);
        snprintf(rk, sizeof rk, "%zu", i);
        fc_day_format(x->classified_on, d, sizeof d);
        snprintf(pd, sizeof pd, "%d", x->period_days);
        const char *v[] = {region, x->sku, abc, xyz, rev, sh, cum, cv, u, rk, d, pd};
        st = sl_db_exec(c, "fc_class_put", 12, v, NULL, NULL, NULL, err);
    }
    return st;
}

sl_status fc_store_class_list(sl_db_conn *c, const char *region, const char *abc, const char *xyz,
                              sl_arena *a, fc_class_row **out, size_t *n, sl_err *err)
{
    const char *v[] = {region, abc, xyz};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "fc_class_list", 3, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    fc_class_row *x = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *x);
    if (x == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int cs = PQfnumber(r, "sku"), ca = PQfnumber(r, "abc"), cx = PQfnumber(r, "xyz"),
        crev = PQfnumber(r, "revenue_minor"), csh = PQfnumber(r, "revenue_share"),
        ccum = PQfnumber(r, "cumulative_share"), ccv = PQfnumber(r, "weekly_cv"),
        cu = PQfnumber(r, "units"), cd = PQfnumber(r, "d"), cp = PQfnumber(r, "period_days");
    for (int i = 0; i < rows; i++) {
        x[i].sku = sl_arena_strdup(a, PQgetvalue(r, i, cs));
        if (x[i].sku == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        x[i].abc = PQgetvalue(r, i, ca)[0];
        x[i].xyz = PQgetvalue(r, i, cx)[0];
        x[i].revenue_minor = strtoll(PQgetvalue(r, i, crev), NULL, 10);
        x[i].share = strtod(PQgetvalue(r, i, csh), NULL);
        x[i].cumulative = strtod(PQgetvalue(r, i, ccum), NULL);
        x[i].cv = strtod(PQgetvalue(r, i, ccv), NULL);
        x[i].units = strtoll(PQgetvalue(r, i, cu), NULL, 10);
        x[i].classified_on = (int32_t)strtol(PQgetvalue(r, i, cd), NULL, 10);
        x[i].period_days = (int)strtol(PQgetvalue(r, i, cp), NULL, 10);
    }
    *out = x;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}

sl_status fc_store_class_get(sl_db_conn *c, const char *sku, const char *region, char *abc,
                             char *xyz, bool *found, sl_err *err)
{
    const char *v[] = {sku, region};
    PGresult *r = NULL;
    *found = false;
    sl_status st = sl_db_exec(c, "fc_class_get", 2, v, NULL, NULL, &r, err);
    if (st == SL_OK && PQntuples(r) > 0) {
        *abc = PQgetvalue(r, 0, PQfnumber(r, "abc"))[0];
        *xyz = PQgetvalue(r, 0, PQfnumber(r, "xyz"))[0];
        *found = true;
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
    int cc = PQfnumber(r, "class_code"), cl = PQfnumber(r, "service_level");
    for (int i = 0; i < PQntuples(r); i++) {
        const char *code = PQgetvalue(r, i, cc);
        if (code[0] < 'A' || code[0] > 'C' || code[1] < 'X' || code[1] > 'Z')
            continue;
        targets[(code[0] - 'A') * 3 + (code[1] - 'X')] = strtod(PQgetvalue(r, i, cl), NULL);
    }
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
    char o[24], p[24], r[24], q[24];
    snprintf(o, sizeof o, "%" PRId64, ordered_ms);
    snprintf(p, sizeof p, "%" PRId64, promised_ms);
    snprintf(r, sizeof r, "%" PRId64, received_ms);
    snprintf(q, sizeof q, "%" PRId64, qty);
    const char *v[] = {inbound_id, supplier, warehouse_id, sku, o, p, r, q};
    return sl_db_exec(c, "fc_receipt", 8, v, NULL, NULL, NULL, err);
}

sl_status fc_store_lead_stats(sl_db_conn *c, const char *supplier, const char *warehouse_id,
                              int64_t since_ms, sl_arena *a, fc_lead_row **out, size_t *n,
                              sl_err *err)
{
    char since[24];
    snprintf(since, sizeof since, "%" PRId64, since_ms);
    const char *v[] = {supplier, warehouse_id, since};
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = sl_db_exec(c, "fc_lead_stats", 3, v, NULL, NULL, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    fc_lead_row *x = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *x);
    if (x == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    int cs = PQfnumber(r, "supplier"), cw = PQfnumber(r, "warehouse_id"),
        ce = PQfnumber(r, "every_wh"), cn = PQfnumber(r, "n"), cm = PQfnumber(r, "mean"),
        csd = PQfnumber(r, "sd"), c50 = PQfnumber(r, "p50"), c90 = PQfnumber(r, "p90"),
        cd = PQfnumber(r, "delay"), co = PQfnumber(r, "on_time");
    for (int i = 0; i < rows; i++) {
        x[i].supplier = sl_arena_strdup(a, PQgetvalue(r, i, cs));
        x[i].warehouse_id = sl_arena_strdup(a, PQgetvalue(r, i, cw));
        if (x[i].supplier == NULL || x[i].warehouse_id == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        x[i].every_warehouse = PQgetvalue(r, i, ce)[0] == 't';
        x[i].receipts = strtoll(PQgetvalue(r, i, cn), NULL, 10);
        x[i].mean = strtod(PQgetvalue(r, i, cm), NULL);
        x[i].sd = strtod(PQgetvalue(r, i, csd), NULL);
        x[i].p50 = strtod(PQgetvalue(r, i, c50), NULL);
        x[i].p90 = strtod(PQgetvalue(r, i, c90), NULL);
        x[i].delay = strtod(PQgetvalue(r, i, cd), NULL);
        x[i].on_time = strtod(PQgetvalue(r, i, co), NULL);
    }
    *out = x;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}
