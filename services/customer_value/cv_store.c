/*
 * cv_store: the customer-value service's SQL (see cv_store.h).
 */
#include "cv_store.h"
#include "sl_db_row.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS(col) "(extract(epoch FROM " col ") * 1000)::bigint"

/* Net value per order (recorded minus returned). */
#define NET_ORDERS                                                                                 \
    "SELECT p.order_id, p.customer_id, p.day, p.currency, "                                        \
    "p.amount_minor - coalesce((SELECT sum(r.amount_minor) FROM purchase_return r "                \
    "WHERE r.order_id = p.order_id), 0) AS net "                                                   \
    "FROM purchase p "

static const sl_db_stmt statements[] = {
    {"cv_customer_get",
     "SELECT customer_id, region, coalesce(referred_by, '') AS referred_by, " MS(
         "signed_up_at") " AS signed_ms, " MS("updated_at") " AS updated_ms "
                                                            "FROM customer WHERE customer_id = $1",
     1},
    {"cv_customer_get_lock",
     "SELECT customer_id, region, coalesce(referred_by, '') AS referred_by, " MS(
         "signed_up_at") " AS signed_ms, " MS("updated_at") " AS updated_ms "
                                                            "FROM customer WHERE customer_id = $1 "
                                                            "FOR UPDATE",
     1},
    {"cv_customer_upsert",
     "INSERT INTO customer (customer_id, region, signed_up_at, referred_by) "
     "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), NULLIF($4, '')) "
     "ON CONFLICT (customer_id) DO UPDATE SET region = EXCLUDED.region, "
     "signed_up_at = EXCLUDED.signed_up_at, referred_by = EXCLUDED.referred_by, updated_at = now() "
     "WHERE (customer.region, customer.signed_up_at, customer.referred_by) IS DISTINCT FROM "
     "(EXCLUDED.region, EXCLUDED.signed_up_at, EXCLUDED.referred_by) "
     "RETURNING customer_id, region, coalesce(referred_by, '') AS referred_by, " MS(
         "signed_up_at") " AS signed_ms, " MS("updated_at") " AS updated_ms, (xmax = 0) AS created",
     4},
    {"cv_purchase_get",
     "SELECT order_id, customer_id, currency, request, " MS(
         "recorded_at") " AS recorded_ms "
                        "FROM purchase WHERE order_id = $1",
     1},
    {"cv_purchase_get_lock",
     "SELECT order_id, customer_id, currency, request, " MS(
         "recorded_at") " AS recorded_ms "
                        "FROM purchase WHERE order_id = $1 FOR UPDATE",
     1},
    {"cv_customer_currency", "SELECT currency FROM purchase WHERE customer_id = $1 LIMIT 1", 1},
    {"cv_purchase_insert",
     "INSERT INTO purchase (order_id, customer_id, at, day, amount_minor, currency, request) "
     "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), floor($3::bigint / 86400000.0)::int, "
     "$4, $5, $6::bytea) RETURNING " MS("recorded_at") " AS recorded_ms",
     6},
    {"cv_lines_insert",
     "INSERT INTO purchase_line (order_id, sku, category, qty, amount_minor) "
     "SELECT $1, s, c, q, m FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) "
     "AS t(s, c, q, m)",
     5},
    {"cv_order_line",
     "SELECT qty, amount_minor, returned_qty FROM purchase_line WHERE order_id = $1 AND sku = $2",
     2},
    {"cv_return_get",
     "SELECT r.order_id, p.customer_id, p.currency, r.request, " MS(
         "r.recorded_at") " AS recorded_ms "
                          "FROM purchase_return r JOIN purchase p USING (order_id) "
                          "WHERE r.return_id = $1",
     1},
    {"cv_return_insert",
     "INSERT INTO purchase_return (return_id, order_id, at, amount_minor, request) "
     "VALUES ($1, $2, to_timestamp($3::bigint / 1000.0), $4, $5::bytea) "
     "RETURNING " MS("recorded_at") " AS recorded_ms",
     5},
    {"cv_return_line",
     "UPDATE purchase_line SET returned_qty = returned_qty + $3, "
     "returned_minor = returned_minor + $4 WHERE order_id = $1 AND sku = $2 RETURNING 1",
     4},
    /* $1 as_of_day, $2 customer, $3 region, $4 category, $5/$6 cohort days. */
    {"cv_summaries",
     "WITH o AS (" NET_ORDERS "WHERE p.day <= $1 AND ($2::text IS NULL OR p.customer_id = $2)), "
     "d AS (SELECT customer_id, day, min(currency) AS currency, sum(net) AS v, count(*) AS n "
     "      FROM o GROUP BY customer_id, day), "
     "s AS (SELECT customer_id, count(*) - 1 AS x, min(day) AS first_day, max(day) AS last_day, "
     "      sum(v) AS total, sum(n) AS orders, min(currency) AS currency, "
     "      sum(v) - (array_agg(v ORDER BY day))[1] AS repeat_total FROM d GROUP BY customer_id) "
     "SELECT s.customer_id, c.region, s.currency, s.x, s.last_day - s.first_day AS t_x, "
     "$1 - s.first_day AS t_cal, "
     "CASE WHEN s.x > 0 THEN greatest(s.repeat_total, 0)::float8 / s.x ELSE 0 END AS monetary, "
     "s.orders, s.total, s.first_day, s.last_day "
     "FROM s JOIN customer c USING (customer_id) "
     "WHERE ($3::text IS NULL OR c.region = $3) "
     "AND ($5::int IS NULL OR s.first_day BETWEEN $5 AND $6) "
     "AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM purchase p2 JOIN purchase_line l2 "
     "     USING (order_id) WHERE p2.customer_id = s.customer_id AND l2.category = $4)) "
     "ORDER BY s.customer_id COLLATE \"C\"",
     6},
    /* The same from customer_summary, as of $1 = today (or later). */
    {"cv_summaries_current",
     "SELECT s.customer_id, c.region, s.currency, s.x, s.last_day - s.first_day AS t_x, "
     "greatest($1::int, s.last_day) - s.first_day AS t_cal, "
     "CASE WHEN s.x > 0 THEN greatest(s.repeat_minor, 0)::float8 / s.x ELSE 0 END AS monetary, "
     "s.orders, s.net_minor AS total, s.first_day, s.last_day "
     "FROM customer_summary s JOIN customer c USING (customer_id) "
     "WHERE ($2::text IS NULL OR s.customer_id = $2) AND ($3::text IS NULL OR c.region = $3) "
     "AND ($5::int IS NULL OR s.first_day BETWEEN $5 AND $6) "
     "AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM purchase p2 JOIN purchase_line l2 "
     "     USING (order_id) WHERE p2.customer_id = s.customer_id AND l2.category = $4)) "
     "ORDER BY s.customer_id COLLATE \"C\"",
     6},
    /* One customer's row: a statement of its own, because a generic plan
     * of cv_summaries_current's "$2 IS NULL OR ..." filters scans every
     * customer. */
    {"cv_summary_one",
     "SELECT s.customer_id, c.region, s.currency, s.x, s.last_day - s.first_day AS t_x, "
     "greatest($1::int, s.last_day) - s.first_day AS t_cal, "
     "CASE WHEN s.x > 0 THEN greatest(s.repeat_minor, 0)::float8 / s.x ELSE 0 END AS monetary, "
     "s.orders, s.net_minor AS total, s.first_day, s.last_day "
     "FROM customer_summary s JOIN customer c USING (customer_id) WHERE s.customer_id = $2",
     2},
    {"cv_summary_refresh",
     "INSERT INTO customer_summary (customer_id, currency, orders, net_minor, first_day, "
     "last_day, x, repeat_minor) "
     "SELECT $1, min(currency), sum(n), sum(v), min(day), max(day), count(*) - 1, "
     "sum(v) - (array_agg(v ORDER BY day))[1] "
     "FROM (SELECT o.day, min(o.currency) AS currency, count(*) AS n, sum(o.net) AS v "
     "      FROM (" NET_ORDERS "WHERE p.customer_id = $1::text) o GROUP BY o.day) d "
     "HAVING count(*) > 0 "
     "ON CONFLICT (customer_id) DO UPDATE SET currency = EXCLUDED.currency, "
     "orders = EXCLUDED.orders, net_minor = EXCLUDED.net_minor, "
     "first_day = EXCLUDED.first_day, last_day = EXCLUDED.last_day, x = EXCLUDED.x, "
     "repeat_minor = EXCLUDED.repeat_minor",
     1},
    /* Mid-rank counts for one customer's RFM scores (see cv_rfm.h). */
    {"cv_rfm_rank",
     "SELECT count(*) AS n, "
     "count(*) FILTER (WHERE last_day < $1) AS r_worse, "
     "count(*) FILTER (WHERE last_day = $1) AS r_tied, "
     "count(*) FILTER (WHERE orders < $2) AS f_worse, "
     "count(*) FILTER (WHERE orders = $2) AS f_tied, "
     "count(*) FILTER (WHERE net_minor < $3) AS m_worse, "
     "count(*) FILTER (WHERE net_minor = $3) AS m_tied "
     "FROM customer_summary",
     3},
    {"cv_customer_lines",
     "SELECT l.sku, l.category, p.day, l.qty - l.returned_qty AS qty, "
     "l.amount_minor - l.returned_minor AS net "
     "FROM purchase p JOIN purchase_line l USING (order_id) WHERE p.customer_id = $1 "
     "ORDER BY p.day, l.sku",
     1},
    {"cv_referral_value",
     "SELECT coalesce(sum(s.net_minor), 0) AS v FROM customer c "
     "JOIN customer_summary s USING (customer_id) WHERE c.referred_by = $1",
     1},
    {"cv_fit_insert",
     "INSERT INTO model_fit (cohort, as_of, r, alpha, a, b, bgnbd_ll, bgnbd_ok, customers, "
     "gg_p, gg_q, gg_gamma, gg_ll, gg_customers, gg_ok, seconds, ret_start, ret_end, ret_new, "
     "ret_retained) "
     "VALUES ($1, to_timestamp($2::bigint / 1000.0), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
     "$13, $14, $15, $16, $17, $18, $19, $20) RETURNING fit_id, " MS("fitted_at") " AS fitted_ms",
     20},
    {"cv_fit_latest",
     "SELECT fit_id, cohort, " MS("as_of") " AS as_of_ms, " MS(
         "fitted_at") " AS fitted_ms, r, alpha, a, b, bgnbd_ll, bgnbd_ok, customers, "
                      "gg_p, gg_q, gg_gamma, gg_ll, gg_customers, gg_ok, seconds, "
                      "ret_start, ret_end, ret_new, ret_retained "
                      "FROM model_fit WHERE cohort = $1 ORDER BY fit_id DESC LIMIT 1",
     1},
    /* $1 as_of_day (exclusive), $2 period, $3/$4 cohort days. */
    {"cv_retention",
     "WITH f AS (SELECT customer_id, min(day) AS first_day FROM purchase GROUP BY customer_id), "
     "a AS (SELECT p.customer_id, bool_or(p.day < $1::int - $2::int) AS s, bool_or(p.day >= "
     "$1::int - $2::int) AS e, "
     "      min(f.first_day) AS first_day FROM purchase p JOIN f USING (customer_id) "
     "      WHERE p.day >= $1::int - 2 * $2::int AND p.day < $1::int "
     "      AND ($3::int IS NULL OR f.first_day BETWEEN $3::int AND $4::int) GROUP BY "
     "p.customer_id) "
     "SELECT count(*) FILTER (WHERE s) AS start_n, count(*) FILTER (WHERE e) AS end_n, "
     "count(*) FILTER (WHERE e AND first_day >= $1::int - $2::int) AS new_n, "
     "count(*) FILTER (WHERE s AND e) AS retained_n FROM a",
     4},
    /* $1 as_of_day (exclusive), $2 period, $3 cohorts, $4/$5 cohort days. */
    {"cv_cohorts",
     "WITH f AS (SELECT customer_id, min(day) AS first_day FROM purchase GROUP BY customer_id), "
     "c AS (SELECT customer_id, ($1::int - 1 - first_day) / $2::int AS cohort FROM f "
     "      WHERE first_day < $1::int AND first_day >= $1::int - $3::int * $2::int "
     "      AND ($4::int IS NULL OR first_day BETWEEN $4::int AND $5::int)) "
     "SELECT c.cohort, (p.day - ($1::int - (c.cohort + 1) * $2::int)) / $2::int AS k, "
     "count(DISTINCT p.customer_id) AS n "
     "FROM c JOIN purchase p USING (customer_id) WHERE p.day < $1::int "
     "GROUP BY 1, 2 ORDER BY 1, 2",
     5},
    {"cv_copurchase",
     "WITH mine AS (SELECT DISTINCT l.sku FROM purchase_line l JOIN purchase p USING (order_id) "
     "      WHERE p.customer_id = $1), "
     "o AS (SELECT DISTINCT l.order_id FROM purchase_line l JOIN mine USING (sku) "
     "      JOIN purchase p USING (order_id) WHERE p.customer_id <> $1) "
     "SELECT l.sku, min(l.category) AS category, count(*)::float8 AS score "
     "FROM purchase_line l JOIN o USING (order_id) "
     "WHERE NOT EXISTS (SELECT 1 FROM mine WHERE mine.sku = l.sku) "
     "GROUP BY l.sku ORDER BY count(*) DESC, l.sku LIMIT $2",
     2},
    {"cv_bestsellers",
     "SELECT l.sku, min(l.category) AS category, count(DISTINCT p.customer_id)::float8 AS score "
     "FROM purchase p JOIN purchase_line l USING (order_id) "
     "JOIN customer c USING (customer_id) "
     "WHERE p.day >= $3 AND ($1::text IS NULL OR c.region = $1) "
     "AND ($2::text IS NULL OR l.category = $2) AND l.qty > l.returned_qty "
     "GROUP BY l.sku ORDER BY 3 DESC, l.sku LIMIT $4",
     4},
    {"cv_repeat_lines",
     "SELECT p.customer_id, c.region, l.sku, p.day, l.qty - l.returned_qty AS qty "
     "FROM purchase_line l JOIN purchase p USING (order_id) JOIN customer c USING (customer_id) "
     "WHERE l.sku = ANY ($1::text[]) AND l.qty > l.returned_qty "
     "ORDER BY p.customer_id, l.sku, p.day",
     1},
    {"cv_data_version", "SELECT coalesce(sum(n), 0)::bigint AS v FROM data_version", 0},
    /* The version and the lines in one statement: one snapshot.  The LEFT
     * JOIN gives the version even without any line (order_id NULL). */
    {"cv_history",
     "WITH v AS (SELECT coalesce(sum(n), 0)::bigint AS version FROM data_version) "
     "SELECT v.version, h.order_id, h.customer_id, h.region, h.day, h.sku, h.category, h.qty, "
     "h.returned_qty FROM v LEFT JOIN (SELECT p.order_id, p.customer_id, c.region, p.day, l.sku, "
     "l.category, l.qty, l.returned_qty FROM purchase p JOIN purchase_line l USING (order_id) "
     "JOIN customer c USING (customer_id)) h ON true "
     "ORDER BY h.customer_id COLLATE \"C\", h.order_id COLLATE \"C\", h.sku COLLATE \"C\"",
     0},
    {"cv_reminder_mark",
     "INSERT INTO reminder_sent (customer_id, sku, due_day) VALUES ($1, $2, $3) "
     "ON CONFLICT DO NOTHING RETURNING 1",
     3},
    {NULL, NULL, 0},
};

extern const sl_db_stmt cv_campaign_statements[]; /* cv_campaign_store.c */

sl_status cv_store_register(sl_db *db, sl_err *err)
{
    sl_status st = sl_db_register(db, statements, err);
    return st == SL_OK ? sl_db_register(db, cv_campaign_statements, err) : st;
}

/* ---- helpers ---- */

static sl_status oom(sl_err *err)
{
    return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
}

/* Columns are read by name through sl_db_row (an unknown column or a
 * value that does not parse is INTERNAL naming the column); NULL reads as
 * the type's zero value, as this store has always read it. */

/* A bytea column as raw bytes (arena memory); NULL (and *len 0) reads as
 * "".  NULL when out of memory. */
static const uint8_t *gbytes(sl_db_reader *rd, sl_arena *a, int row, const char *name, size_t *len)
{
    *len = 0;
    const char *text = sl_db_text_or(rd, row, name, NULL);
    if (text == NULL || text[0] == '\0')
        return (const uint8_t *)"";
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)text, &n);
    if (raw == NULL)
        return NULL;
    uint8_t *out = sl_arena_alloc(a, n + 1);
    if (out != NULL) {
        if (n > 0)
            memcpy(out, raw, n);
        *len = n;
    }
    PQfreemem(raw);
    return out;
}

static char *num(sl_arena *a, int64_t v)
{
    char *s = sl_arena_alloc(a, 24);
    if (s != NULL)
        snprintf(s, 24, "%" PRId64, v);
    return s;
}

static char *dbl(sl_arena *a, double v)
{
    char *s = sl_arena_alloc(a, 32);
    if (s != NULL)
        snprintf(s, 32, "%.17g", v);
    return s;
}

/* Bytes as a bytea hex literal ("\x0a1b..."). */
static char *hex(sl_arena *a, const uint8_t *b, size_t n)
{
    char *s = sl_arena_alloc(a, 2 * n + 3);
    if (s == NULL)
        return NULL;
    static const char digits[] = "0123456789abcdef";
    s[0] = '\\';
    s[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        s[2 + 2 * i] = digits[b[i] >> 4];
        s[3 + 2 * i] = digits[b[i] & 15];
    }
    s[2 + 2 * n] = '\0';
    return s;
}

/* A growing string in the arena. */
typedef struct abuf {
    sl_arena *a;
    char *s;
    size_t len, cap;
    bool failed;
} abuf;

static void ab_put(abuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 256 : b->cap;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *ns = sl_arena_alloc(b->a, cap);
        if (ns == NULL) {
            b->failed = true;
            return;
        }
        if (b->len > 0)
            memcpy(ns, b->s, b->len);
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* A PostgreSQL array element, double-quoted with \ and " escaped. */
static void ab_elem(abuf *b, const char *s)
{
    if (b->len > 1)
        ab_put(b, ",", 1);
    ab_put(b, "\"", 1);
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            ab_put(b, "\\", 1);
        ab_put(b, p, 1);
    }
    ab_put(b, "\"", 1);
}

static const char *ab_done(abuf *b)
{
    ab_put(b, "}", 1);
    return b->failed ? NULL : b->s;
}

static sl_status run(sl_db_conn *c, const char *stmt, int n, const char *const *v, PGresult **res,
                     sl_err *err)
{
    return sl_db_exec(c, stmt, n, v, NULL, NULL, res, err);
}

/* Reads row i of rd's result into element i of rows, an array whose
 * element type only the reader knows (text into rd's arena); false when
 * arena memory ran out.  A column the result lacks, or a value that does
 * not parse, fails rd (sl_db_reader_status). */
typedef bool (*row_reader)(sl_db_reader *rd, int i, void *rows);

/* Runs stmt and copies each row into a new arena array of `size`-byte
 * elements with read.  *out and *n are NULL and 0 unless it succeeds; the
 * result is cleared on every path. */
static sl_status query_rows(sl_db_conn *c, sl_arena *a, const char *stmt, int np,
                            const char *const *v, size_t size, row_reader read, void **out,
                            size_t *n, sl_err *err)
{
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    sl_status st = run(c, stmt, np, v, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    void *o = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * size);
    if (o == NULL) {
        st = oom(err);
        goto done;
    }
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    for (int i = 0; i < rows; i++)
        if (!read(&rd, i, o)) {
            st = oom(err);
            goto done;
        }
    if ((st = sl_db_reader_status(&rd, err)) != SL_OK)
        goto done;
    *out = o;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}

/* One integer column of row 0 of r into *out. */
static sl_status read_i64(PGresult *r, const char *column, int64_t *out, sl_err *err)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    *out = sl_db_int64_or(&rd, 0, column, 0);
    return sl_db_reader_status(&rd, err);
}

/* ---- customers ---- */

/* Row 0 of r as a customer (arena memory). */
static sl_status customer_row(sl_arena *a, const PGresult *r, cv_customer_row **out, sl_err *err)
{
    cv_customer_row *o = sl_arena_zalloc(a, sizeof *o);
    if (o == NULL)
        return oom(err);
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    o->customer_id = sl_db_text_or(&rd, 0, "customer_id", "");
    o->region = sl_db_text_or(&rd, 0, "region", "");
    o->referred_by = sl_db_text_or(&rd, 0, "referred_by", "");
    o->signed_up_ms = sl_db_int64_or(&rd, 0, "signed_ms", 0);
    o->updated_ms = sl_db_int64_or(&rd, 0, "updated_ms", 0);
    *out = o;
    return sl_db_reader_status(&rd, err);
}

sl_status cv_store_customer_get(sl_db_conn *c, sl_arena *a, const char *id, bool lock,
                                cv_customer_row **out, sl_err *err)
{
    const char *v[1] = {id};
    PGresult *r = NULL;
    *out = NULL;
    sl_status st = run(c, lock ? "cv_customer_get_lock" : "cv_customer_get", 1, v, &r, err);
    if (st == SL_OK && PQntuples(r) == 1)
        st = customer_row(a, r, out, err);
    PQclear(r);
    return st;
}

sl_status cv_store_customer_upsert(sl_db_conn *c, sl_arena *a, const cv_customer_row *in,
                                   bool *created, bool *changed, cv_customer_row **out, sl_err *err)
{
    const char *v[4] = {in->customer_id, in->region, num(a, in->signed_up_ms), in->referred_by};
    if (v[2] == NULL)
        return oom(err);
    PGresult *r = NULL;
    sl_status st = run(c, "cv_customer_upsert", 4, v, &r, err);
    if (st != SL_OK)
        goto done;
    *created = false;
    *changed = PQntuples(r) == 1;
    if (*changed) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        *created = sl_db_bool_or(&rd, 0, "created", false);
        if ((st = sl_db_reader_status(&rd, err)) == SL_OK)
            st = customer_row(a, r, out, err);
    } else {
        st = cv_store_customer_get(c, a, in->customer_id, false, out, err);
    }
done:
    PQclear(r);
    return st;
}

/* ---- orders and returns ---- */

static sl_status keyed_get(sl_db_conn *c, sl_arena *a, const char *stmt, const char *key,
                           cv_keyed_row **out, sl_err *err)
{
    const char *v[1] = {key};
    PGresult *r = NULL;
    *out = NULL;
    sl_status st = run(c, stmt, 1, v, &r, err);
    if (st != SL_OK || PQntuples(r) != 1)
        goto done;
    cv_keyed_row *o = sl_arena_zalloc(a, sizeof *o);
    if (o == NULL) {
        st = oom(err);
        goto done;
    }
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    o->customer_id = sl_db_text_or(&rd, 0, "customer_id", "");
    o->order_id = sl_db_text_or(&rd, 0, "order_id", "");
    o->currency = sl_db_text_or(&rd, 0, "currency", "");
    o->recorded_ms = sl_db_int64_or(&rd, 0, "recorded_ms", 0);
    o->request = gbytes(&rd, a, 0, "request", &o->request_len);
    if (o->request == NULL) {
        st = oom(err);
        goto done;
    }
    if ((st = sl_db_reader_status(&rd, err)) != SL_OK)
        goto done;
    *out = o;
done:
    PQclear(r);
    return st;
}

sl_status cv_store_purchase_get(sl_db_conn *c, sl_arena *a, const char *order_id, bool lock,
                                cv_keyed_row **out, sl_err *err)
{
    return keyed_get(c, a, lock ? "cv_purchase_get_lock" : "cv_purchase_get", order_id, out, err);
}

sl_status cv_store_return_get(sl_db_conn *c, sl_arena *a, const char *return_id, cv_keyed_row **out,
                              sl_err *err)
{
    return keyed_get(c, a, "cv_return_get", return_id, out, err);
}

sl_status cv_store_customer_currency(sl_db_conn *c, sl_arena *a, const char *customer_id,
                                     const char **out, sl_err *err)
{
    const char *v[1] = {customer_id};
    PGresult *r = NULL;
    *out = NULL;
    sl_status st = run(c, "cv_customer_currency", 1, v, &r, err);
    if (st == SL_OK && PQntuples(r) == 1) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, a);
        *out = sl_db_text_or(&rd, 0, "currency", "");
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}

sl_status cv_store_purchase_insert(sl_db_conn *c, sl_arena *a, const char *order_id,
                                   const char *customer_id, int64_t at_ms, int64_t amount_minor,
                                   const char *currency, const uint8_t *request, size_t len,
                                   const cv_line_in *lines, size_t n, int64_t *recorded_ms,
                                   sl_err *err)
{
    const char *v[6] = {order_id, customer_id,         num(a, at_ms), num(a, amount_minor),
                        currency, hex(a, request, len)};
    if (v[2] == NULL || v[3] == NULL || v[5] == NULL)
        return oom(err);
    PGresult *r = NULL;
    sl_status st = run(c, "cv_purchase_insert", 6, v, &r, err);
    if (st != SL_OK)
        goto done;
    if ((st = read_i64(r, "recorded_ms", recorded_ms, err)) != SL_OK)
        goto done;
    abuf s = {.a = a}, k = {.a = a}, q = {.a = a}, m = {.a = a};
    ab_put(&s, "{", 1);
    ab_put(&k, "{", 1);
    ab_put(&q, "{", 1);
    ab_put(&m, "{", 1);
    for (size_t i = 0; i < n; i++) {
        char nb[24];
        ab_elem(&s, lines[i].sku);
        ab_elem(&k, lines[i].category);
        snprintf(nb, sizeof nb, "%" PRId64, lines[i].qty);
        ab_elem(&q, nb);
        snprintf(nb, sizeof nb, "%" PRId64, lines[i].amount_minor);
        ab_elem(&m, nb);
    }
    const char *lv[5] = {order_id, ab_done(&s), ab_done(&k), ab_done(&q), ab_done(&m)};
    if (lv[1] == NULL || lv[2] == NULL || lv[3] == NULL || lv[4] == NULL) {
        st = oom(err);
        goto done;
    }
    st = run(c, "cv_lines_insert", 5, lv, NULL, err);
done:
    PQclear(r);
    return st;
}

sl_status cv_store_return_insert(sl_db_conn *c, const char *return_id, const char *order_id,
                                 int64_t at_ms, int64_t amount_minor, const uint8_t *request,
                                 size_t len, int64_t *recorded_ms, sl_err *err)
{
    sl_arena *a = sl_arena_create(2 * len + 256);
    if (a == NULL)
        return oom(err);
    PGresult *r = NULL;
    sl_status st;
    const char *v[5] = {return_id, order_id, num(a, at_ms), num(a, amount_minor),
                        hex(a, request, len)};
    if (v[2] == NULL || v[3] == NULL || v[4] == NULL) {
        st = oom(err);
        goto done;
    }
    st = run(c, "cv_return_insert", 5, v, &r, err);
    if (st == SL_OK)
        st = read_i64(r, "recorded_ms", recorded_ms, err);
done:
    PQclear(r);
    sl_arena_destroy(a);
    return st;
}

sl_status cv_store_return_line(sl_db_conn *c, const char *order_id, const char *sku, int64_t qty,
                               int64_t amount_minor, bool *found, sl_err *err)
{
    char q[24], m[24];
    snprintf(q, sizeof q, "%" PRId64, qty);
    snprintf(m, sizeof m, "%" PRId64, amount_minor);
    const char *v[4] = {order_id, sku, q, m};
    PGresult *r = NULL;
    sl_status st = run(c, "cv_return_line", 4, v, &r, err);
    *found = st == SL_OK && PQntuples(r) == 1;
    PQclear(r);
    return st;
}

/* ---- summaries and lines ---- */

sl_status cv_store_summaries(sl_db_conn *c, sl_arena *a, int32_t as_of_day,
                             const cv_summary_filter *f, cv_summary_row **out, size_t *n,
                             sl_err *err)
{
    const char *v[6] = {num(a, as_of_day),
                        f->customer_id,
                        f->region,
                        f->category,
                        f->cohort ? num(a, f->cohort_lo) : NULL,
                        f->cohort ? num(a, f->cohort_hi) : NULL};
    if (v[0] == NULL || (f->cohort && (v[4] == NULL || v[5] == NULL)))
        return oom(err);
    PGresult *r = NULL;
    *out = NULL;
    *n = 0;
    bool one = !f->exact && f->customer_id != NULL && f->region == NULL && f->category == NULL &&
               !f->cohort;
    sl_status st = one ? run(c, "cv_summary_one", 2, v, &r, err)
                       : run(c, f->exact ? "cv_summaries" : "cv_summaries_current", 6, v, &r, err);
    if (st != SL_OK)
        goto done;
    int rows = PQntuples(r);
    cv_summary_row *o = sl_arena_zalloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof *o);
    if (o == NULL) {
        st = oom(err);
        goto done;
    }
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    for (int i = 0; i < rows; i++) {
        o[i].customer_id = sl_db_text_or(&rd, i, "customer_id", "");
        o[i].region = sl_db_text_or(&rd, i, "region", "");
        o[i].currency = sl_db_text_or(&rd, i, "currency", "");
        o[i].s.x = (uint32_t)sl_db_int64_or(&rd, i, "x", 0);
        o[i].s.t_x = sl_db_double_or(&rd, i, "t_x", 0);
        o[i].s.T = sl_db_double_or(&rd, i, "t_cal", 0);
        o[i].s.monetary = o[i].s.x > 0 ? sl_db_double_or(&rd, i, "monetary", 0) : 0;
        o[i].orders = sl_db_int64_or(&rd, i, "orders", 0);
        o[i].net_minor = sl_db_int64_or(&rd, i, "total", 0);
        o[i].first_day = (int32_t)sl_db_int64_or(&rd, i, "first_day", 0);
        o[i].last_day = (int32_t)sl_db_int64_or(&rd, i, "last_day", 0);
    }
    if ((st = sl_db_reader_status(&rd, err)) != SL_OK)
        goto done;
    *out = o;
    *n = (size_t)rows;
done:
    PQclear(r);
    return st;
}

static bool line_at(sl_db_reader *rd, int i, void *rows)
{
    cv_line_row *o = rows;
    o[i].sku = sl_db_text_or(rd, i, "sku", "");
    o[i].category = sl_db_text_or(rd, i, "category", "");
    o[i].day = (int32_t)sl_db_int64_or(rd, i, "day", 0);
    o[i].qty = sl_db_int64_or(rd, i, "qty", 0);
    o[i].net_minor = sl_db_int64_or(rd, i, "net", 0);
    return true;
}

sl_status cv_store_customer_lines(sl_db_conn *c, sl_arena *a, const char *customer_id,
                                  cv_line_row **out, size_t *n, sl_err *err)
{
    const char *v[1] = {customer_id};
    void *rows;
    sl_status st =
        query_rows(c, a, "cv_customer_lines", 1, v, sizeof **out, line_at, &rows, n, err);
    *out = rows;
    return st;
}

sl_status cv_store_referral_value(sl_db_conn *c, const char *customer_id, int64_t *out, sl_err *err)
{
    const char *v[1] = {customer_id};
    PGresult *r = NULL;
    sl_status st = run(c, "cv_referral_value", 1, v, &r, err);
    *out = 0;
    if (st == SL_OK)
        st = read_i64(r, "v", out, err);
    PQclear(r);
    return st;
}

/* ---- fits ---- */

sl_status cv_store_fit_insert(sl_db_conn *c, cv_fit_row *fit, sl_err *err)
{
    sl_arena *a = sl_arena_create(0);
    if (a == NULL)
        return oom(err);
    PGresult *r = NULL;
    sl_status st;
    const char *v[20] = {
        fit->cohort,
        num(a, fit->as_of_ms),
        dbl(a, fit->bg.r),
        dbl(a, fit->bg.alpha),
        dbl(a, fit->bg.a),
        dbl(a, fit->bg.b),
        dbl(a, fit->bg_ll),
        fit->bg_ok ? "true" : "false",
        num(a, fit->customers),
        fit->has_gg ? dbl(a, fit->gg.p) : NULL,
        fit->has_gg ? dbl(a, fit->gg.q) : NULL,
        fit->has_gg ? dbl(a, fit->gg.gamma) : NULL,
        fit->has_gg ? dbl(a, fit->gg_ll) : NULL,
        fit->has_gg ? num(a, fit->gg_customers) : NULL,
        fit->has_gg ? (fit->gg_ok ? "true" : "false") : NULL,
        dbl(a, fit->seconds),
        num(a, fit->ret.start),
        num(a, fit->ret.end),
        num(a, fit->ret.new_customers),
        num(a, fit->ret.retained),
    };
    for (int i = 1; i < 20; i++)
        if (v[i] == NULL && !(fit->has_gg == false && i >= 9 && i <= 14)) {
            st = oom(err);
            goto done;
        }
    st = run(c, "cv_fit_insert", 20, v, &r, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        fit->fit_id = sl_db_int64_or(&rd, 0, "fit_id", 0);
        fit->fitted_ms = sl_db_int64_or(&rd, 0, "fitted_ms", 0);
        st = sl_db_reader_status(&rd, err);
    }
done:
    PQclear(r);
    sl_arena_destroy(a);
    return st;
}

sl_status cv_store_fit_latest(sl_db_conn *c, sl_arena *a, const char *cohort, cv_fit_row **out,
                              sl_err *err)
{
    const char *v[1] = {cohort};
    PGresult *r = NULL;
    *out = NULL;
    sl_status st = run(c, "cv_fit_latest", 1, v, &r, err);
    if (st != SL_OK || PQntuples(r) != 1)
        goto done;
    cv_fit_row *f = sl_arena_zalloc(a, sizeof *f);
    if (f == NULL) {
        st = oom(err);
        goto done;
    }
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, a);
    f->fit_id = sl_db_int64_or(&rd, 0, "fit_id", 0);
    f->cohort = sl_db_text_or(&rd, 0, "cohort", "");
    f->as_of_ms = sl_db_int64_or(&rd, 0, "as_of_ms", 0);
    f->fitted_ms = sl_db_int64_or(&rd, 0, "fitted_ms", 0);
    f->bg = (cv_bgnbd_params){sl_db_double_or(&rd, 0, "r", 0), sl_db_double_or(&rd, 0, "alpha", 0),
                              sl_db_double_or(&rd, 0, "a", 0), sl_db_double_or(&rd, 0, "b", 0)};
    f->bg_ll = sl_db_double_or(&rd, 0, "bgnbd_ll", 0);
    f->bg_ok = sl_db_bool_or(&rd, 0, "bgnbd_ok", false);
    f->customers = sl_db_int64_or(&rd, 0, "customers", 0);
    f->has_gg = !sl_db_is_null(&rd, 0, "gg_p");
    f->gg = (cv_gg_params){sl_db_double_or(&rd, 0, "gg_p", 0), sl_db_double_or(&rd, 0, "gg_q", 0),
                           sl_db_double_or(&rd, 0, "gg_gamma", 0)};
    f->gg_ll = sl_db_double_or(&rd, 0, "gg_ll", 0);
    f->gg_customers = sl_db_int64_or(&rd, 0, "gg_customers", 0);
    f->gg_ok = sl_db_bool_or(&rd, 0, "gg_ok", false);
    f->seconds = sl_db_double_or(&rd, 0, "seconds", 0);
    f->ret.start = sl_db_int64_or(&rd, 0, "ret_start", 0);
    f->ret.end = sl_db_int64_or(&rd, 0, "ret_end", 0);
    f->ret.new_customers = sl_db_int64_or(&rd, 0, "ret_new", 0);
    f->ret.retained = sl_db_int64_or(&rd, 0, "ret_retained", 0);
    if ((st = sl_db_reader_status(&rd, err)) == SL_OK)
        *out = f;
done:
    PQclear(r);
    return st;
}

/* ---- retention and cohorts ---- */

sl_status cv_store_retention(sl_db_conn *c, int32_t as_of_day, int32_t period,
                             const cv_summary_filter *f, cv_retention_counts *out, sl_err *err)
{
    char d[24], p[24], lo[24], hi[24];
    snprintf(d, sizeof d, "%" PRId32, as_of_day);
    snprintf(p, sizeof p, "%" PRId32, period);
    snprintf(lo, sizeof lo, "%" PRId32, f->cohort_lo);
    snprintf(hi, sizeof hi, "%" PRId32, f->cohort_hi);
    const char *v[4] = {d, p, f->cohort ? lo : NULL, f->cohort ? hi : NULL};
    PGresult *r = NULL;
    sl_status st = run(c, "cv_retention", 4, v, &r, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        out->start = sl_db_int64_or(&rd, 0, "start_n", 0);
        out->end = sl_db_int64_or(&rd, 0, "end_n", 0);
        out->new_customers = sl_db_int64_or(&rd, 0, "new_n", 0);
        out->retained = sl_db_int64_or(&rd, 0, "retained_n", 0);
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}

static bool cohort_at(sl_db_reader *rd, int i, void *rows)
{
    cv_cohort_cell *o = rows;
    o[i].cohort = (int32_t)sl_db_int64_or(rd, i, "cohort", 0);
    o[i].offset = (int32_t)sl_db_int64_or(rd, i, "k", 0);
    o[i].customers = sl_db_int64_or(rd, i, "n", 0);
    return true;
}

sl_status cv_store_cohorts(sl_db_conn *c, sl_arena *a, int32_t as_of_day, int32_t period,
                           int32_t ncohorts, const cv_summary_filter *f, cv_cohort_cell **out,
                           size_t *n, sl_err *err)
{
    char d[24], p[24], k[24], lo[24], hi[24];
    snprintf(d, sizeof d, "%" PRId32, as_of_day);
    snprintf(p, sizeof p, "%" PRId32, period);
    snprintf(k, sizeof k, "%" PRId32, ncohorts);
    snprintf(lo, sizeof lo, "%" PRId32, f->cohort_lo);
    snprintf(hi, sizeof hi, "%" PRId32, f->cohort_hi);
    const char *v[5] = {d, p, k, f->cohort ? lo : NULL, f->cohort ? hi : NULL};
    void *rows;
    sl_status st = query_rows(c, a, "cv_cohorts", 5, v, sizeof **out, cohort_at, &rows, n, err);
    *out = rows;
    return st;
}

/* ---- recommendations and reminders ---- */

static bool score_at(sl_db_reader *rd, int i, void *rows)
{
    cv_sku_score *o = rows;
    o[i].sku = sl_db_text_or(rd, i, "sku", "");
    o[i].category = sl_db_text_or(rd, i, "category", "");
    o[i].score = sl_db_double_or(rd, i, "score", 0);
    return true;
}

static sl_status sku_scores(sl_db_conn *c, sl_arena *a, const char *stmt, int np,
                            const char *const *v, cv_sku_score **out, size_t *n, sl_err *err)
{
    void *rows;
    sl_status st = query_rows(c, a, stmt, np, v, sizeof **out, score_at, &rows, n, err);
    *out = rows;
    return st;
}

sl_status cv_store_copurchase(sl_db_conn *c, sl_arena *a, const char *customer_id, int limit,
                              cv_sku_score **out, size_t *n, sl_err *err)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[2] = {customer_id, l};
    return sku_scores(c, a, "cv_copurchase", 2, v, out, n, err);
}

sl_status cv_store_bestsellers(sl_db_conn *c, sl_arena *a, const char *region, const char *category,
                               int32_t since_day, int limit, cv_sku_score **out, size_t *n,
                               sl_err *err)
{
    char d[24], l[16];
    snprintf(d, sizeof d, "%" PRId32, since_day);
    snprintf(l, sizeof l, "%d", limit);
    const char *v[4] = {region, category, d, l};
    return sku_scores(c, a, "cv_bestsellers", 4, v, out, n, err);
}

static bool repeat_at(sl_db_reader *rd, int i, void *rows)
{
    cv_repeat_row *o = rows;
    o[i].customer_id = sl_db_text_or(rd, i, "customer_id", "");
    o[i].region = sl_db_text_or(rd, i, "region", "");
    o[i].sku = sl_db_text_or(rd, i, "sku", "");
    o[i].day = (int32_t)sl_db_int64_or(rd, i, "day", 0);
    o[i].qty = sl_db_int64_or(rd, i, "qty", 0);
    return true;
}

sl_status cv_store_repeat_lines(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t nskus,
                                cv_repeat_row **out, size_t *n, sl_err *err)
{
    abuf b = {.a = a};
    ab_put(&b, "{", 1);
    for (size_t i = 0; i < nskus; i++)
        ab_elem(&b, skus[i]);
    const char *v[1] = {ab_done(&b)};
    if (v[0] == NULL)
        return oom(err);
    void *rows;
    sl_status st =
        query_rows(c, a, "cv_repeat_lines", 1, v, sizeof **out, repeat_at, &rows, n, err);
    *out = rows;
    return st;
}

sl_status cv_store_data_version(sl_db_conn *c, int64_t *out, sl_err *err)
{
    PGresult *r = NULL;
    *out = 0;
    sl_status st = run(c, "cv_data_version", 0, NULL, &r, err);
    if (st == SL_OK)
        st = read_i64(r, "v", out, err);
    PQclear(r);
    return st;
}

static bool history_at(sl_db_reader *rd, int i, void *rows)
{
    cv_history_row *o = rows;
    o[i].order_id = sl_db_text_or(rd, i, "order_id", "");
    o[i].customer_id = sl_db_text_or(rd, i, "customer_id", "");
    o[i].region = sl_db_text_or(rd, i, "region", "");
    o[i].sku = sl_db_text_or(rd, i, "sku", "");
    o[i].category = sl_db_text_or(rd, i, "category", "");
    o[i].day = (int32_t)sl_db_int64_or(rd, i, "day", 0);
    o[i].qty = sl_db_int64_or(rd, i, "qty", 0);
    o[i].returned_qty = sl_db_int64_or(rd, i, "returned_qty", 0);
    o[i].version = sl_db_int64_or(rd, i, "version", 0);
    return true;
}

sl_status cv_store_history(sl_db_conn *c, sl_arena *a, int64_t *version, cv_history_row **out,
                           size_t *n, sl_err *err)
{
    void *rows;
    sl_status st = query_rows(c, a, "cv_history", 0, NULL, sizeof **out, history_at, &rows, n, err);
    *out = rows;
    *version = st == SL_OK && *n > 0 ? (*out)[0].version : 0;
    /* Without any line the one row has no order (NULL reads as ""; an
     * order id is never empty). */
    if (st == SL_OK && *n == 1 && (*out)[0].order_id[0] == '\0')
        *n = 0;
    return st;
}

sl_status cv_store_reminder_mark(sl_db_conn *c, const char *customer_id, const char *sku,
                                 int32_t due_day, bool *fresh, sl_err *err)
{
    char d[24];
    snprintf(d, sizeof d, "%" PRId32, due_day);
    const char *v[3] = {customer_id, sku, d};
    PGresult *r = NULL;
    sl_status st = run(c, "cv_reminder_mark", 3, v, &r, err);
    *fresh = st == SL_OK && PQntuples(r) == 1;
    PQclear(r);
    return st;
}

sl_status cv_store_summary_refresh(sl_db_conn *c, const char *customer_id, sl_err *err)
{
    const char *v[1] = {customer_id};
    return run(c, "cv_summary_refresh", 1, v, NULL, err);
}

sl_status cv_store_rfm_rank(sl_db_conn *c, int32_t last_day, int64_t orders, int64_t net_minor,
                            cv_rfm_counts *out, sl_err *err)
{
    char d[24], o[24], m[24];
    snprintf(d, sizeof d, "%" PRId32, last_day);
    snprintf(o, sizeof o, "%" PRId64, orders);
    snprintf(m, sizeof m, "%" PRId64, net_minor);
    const char *v[3] = {d, o, m};
    PGresult *r = NULL;
    sl_status st = run(c, "cv_rfm_rank", 3, v, &r, err);
    if (st == SL_OK) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        out->n = sl_db_int64_or(&rd, 0, "n", 0);
        out->worse[0] = sl_db_int64_or(&rd, 0, "r_worse", 0);
        out->tied[0] = sl_db_int64_or(&rd, 0, "r_tied", 0);
        out->worse[1] = sl_db_int64_or(&rd, 0, "f_worse", 0);
        out->tied[1] = sl_db_int64_or(&rd, 0, "f_tied", 0);
        out->worse[2] = sl_db_int64_or(&rd, 0, "m_worse", 0);
        out->tied[2] = sl_db_int64_or(&rd, 0, "m_tied", 0);
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}

sl_status cv_store_order_line(sl_db_conn *c, const char *order_id, const char *sku, int64_t *qty,
                              int64_t *amount_minor, int64_t *returned_qty, sl_err *err)
{
    const char *v[2] = {order_id, sku};
    PGresult *r = NULL;
    *qty = *amount_minor = *returned_qty = 0;
    sl_status st = run(c, "cv_order_line", 2, v, &r, err);
    if (st == SL_OK && PQntuples(r) == 1) {
        sl_db_reader rd;
        sl_db_reader_init(&rd, r, NULL);
        *qty = sl_db_int64_or(&rd, 0, "qty", 0);
        *amount_minor = sl_db_int64_or(&rd, 0, "amount_minor", 0);
        *returned_qty = sl_db_int64_or(&rd, 0, "returned_qty", 0);
        st = sl_db_reader_status(&rd, err);
    }
    PQclear(r);
    return st;
}
