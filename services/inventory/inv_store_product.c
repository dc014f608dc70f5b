/*
 * inv_store_product: the inventory store's SQL for products (the catalogue)
 * (see inv_store.h for the functions, inv_store_int.h for the kit they
 * share).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_store_int.h"

#define PRODUCT_COLS                                                                               \
    "sku, name, category, brand, price_minor, currency, repeat_days, "                             \
    "array_to_string(seasonal_tags, chr(31)) AS tags, " MS("created_at") " AS created_ms, " MS(    \
        "updated_at") " AS updated_ms"

const sl_db_stmt inv__product_stmts[] = {
    {"inv_product_insert",
     "INSERT INTO product (sku, name, category, brand, price_minor, currency, repeat_days, "
     "seasonal_tags) VALUES ($1, $2, $3, $4, $5::int8, $6, $7::int4, $8::text[]) "
     "ON CONFLICT (sku) DO NOTHING RETURNING " PRODUCT_COLS,
     8},
    {"inv_product_update",
     "UPDATE product SET name = $2, category = $3, brand = $4, price_minor = $5::int8, "
     "currency = $6, repeat_days = $7::int4, seasonal_tags = $8::text[], updated_at = now() "
     "WHERE sku = $1 RETURNING " PRODUCT_COLS,
     8},
    {"inv_product_get", "SELECT " PRODUCT_COLS " FROM product WHERE sku = $1", 1},
    {"inv_product_list",
     "SELECT " PRODUCT_COLS " FROM product WHERE ($1 = '' OR category = $1) AND sku > $2 "
     "ORDER BY sku LIMIT $3::int4",
     3},
    {"inv_skus_missing",
     "SELECT q.i - 1 AS idx FROM unnest($1::text[]) WITH ORDINALITY AS q(sku, i) "
     "LEFT JOIN product p ON p.sku = q.sku WHERE p.sku IS NULL ORDER BY q.i LIMIT 1",
     1},
    {NULL, NULL, 0},
};

static Shelfline__V1__Product *product_from(sl_arena *a, sl_db_reader *rd, int i)
{
    Shelfline__V1__Product *p = sl_arena_alloc(a, sizeof *p);
    Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
    if (p == NULL || m == NULL)
        return NULL;
    shelfline__v1__product__init(p);
    shelfline__v1__money__init(m);
    p->sku = (char *)sl_db_text_or(rd, i, "sku", "");
    p->name = (char *)sl_db_text_or(rd, i, "name", "");
    p->category = (char *)sl_db_text_or(rd, i, "category", "");
    p->brand = (char *)sl_db_text_or(rd, i, "brand", "");
    m->minor_units = sl_db_int64_or(rd, i, "price_minor", 0);
    m->currency = (char *)sl_db_text_or(rd, i, "currency", "");
    p->price = m;
    p->repeat_purchase_days = (int32_t)sl_db_int64_or(rd, i, "repeat_days", 0);
    p->created_at_ms = sl_db_int64_or(rd, i, "created_ms", 0);
    p->updated_at_ms = sl_db_int64_or(rd, i, "updated_ms", 0);
    /* Tags come joined by chr(31), which validated tags never contain. */
    char *tags = (char *)sl_db_text_or(rd, i, "tags", "");
    size_t nt = 0;
    if (tags[0] != '\0') {
        nt = 1;
        for (char *s = tags; *s != '\0'; s++)
            nt += *s == '\x1f';
    }
    p->seasonal_tags = nt > 0 ? sl_arena_alloc(a, nt * sizeof(char *)) : NULL;
    if (nt > 0 && p->seasonal_tags == NULL)
        return NULL;
    p->n_seasonal_tags = nt;
    for (size_t k = 0; k < nt; k++) {
        p->seasonal_tags[k] = tags;
        char *sep = strchr(tags, '\x1f');
        if (sep != NULL) {
            *sep = '\0';
            tags = sep + 1;
        }
    }
    return p;
}

static sl_status product_params(sl_arena *a, const Shelfline__V1__Product *p, const char **v)
{
    v[0] = p->sku;
    v[1] = p->name;
    v[2] = p->category;
    v[3] = p->brand;
    v[4] = inv__i64s(a, p->price->minor_units);
    v[5] = p->price->currency;
    v[6] = inv__i64s(a, p->repeat_purchase_days);
    v[7] = inv__text_array(a, (const char *const *)p->seasonal_tags, p->n_seasonal_tags);
    return SL_OK;
}

static bool product_at(sl_arena *a, sl_db_reader *rd, int i, void *rows)
{
    Shelfline__V1__Product **ps = rows;
    return (ps[i] = product_from(a, rd, i)) != NULL;
}

static sl_status one_product(sl_db_conn *c, sl_arena *a, const char *stmt, int n,
                             const char *const *v, Shelfline__V1__Product **out, sl_err *err)
{
    *out = NULL;
    return inv__query_one(c, a, stmt, n, v, product_at, out, err);
}

sl_status inv_store_product_create(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Product *p,
                                   bool *created, Shelfline__V1__Product **out, sl_err *err)
{
    const char *v[8];
    product_params(a, p, v);
    sl_status st = one_product(c, a, "inv_product_insert", 8, v, out, err);
    if (st != SL_OK)
        return st;
    *created = *out != NULL;
    if (*out != NULL)
        return SL_OK;
    return inv_store_product_get(c, a, p->sku, out, err);
}

sl_status inv_store_product_update(sl_db_conn *c, sl_arena *a, const Shelfline__V1__Product *p,
                                   Shelfline__V1__Product **out, sl_err *err)
{
    const char *v[8];
    product_params(a, p, v);
    return one_product(c, a, "inv_product_update", 8, v, out, err);
}

sl_status inv_store_product_get(sl_db_conn *c, sl_arena *a, const char *sku,
                                Shelfline__V1__Product **out, sl_err *err)
{
    const char *v[1] = {sku};
    return one_product(c, a, "inv_product_get", 1, v, out, err);
}

sl_status inv_store_product_list(sl_db_conn *c, sl_arena *a, const char *category,
                                 const char *after, int limit, Shelfline__V1__Product ***out,
                                 size_t *n, sl_err *err)
{
    const char *v[3] = {category, after, inv__i64s(a, limit)};
    void *rows = NULL;
    sl_status st =
        inv__query_rows(c, a, "inv_product_list", 3, v, sizeof **out, product_at, &rows, n, err);
    if (st == SL_OK)
        *out = rows;
    return st;
}

sl_status inv_store_skus_missing(sl_db_conn *c, sl_arena *a, const char *const *skus, size_t n,
                                 long *missing, sl_err *err)
{
    const char *v[1] = {inv__text_array(a, skus, n)};
    PGresult *r = NULL;
    sl_status st = inv__run(c, "inv_skus_missing", 1, v, &r, err);
    if (st != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, r, NULL);
    *missing = sl_db_reader_rows(&rd) > 0 ? (long)sl_db_int64(&rd, 0, "idx") : -1;
    st = sl_db_reader_status(&rd, err);
    PQclear(r);
    return st;
}
