/*
 * inv_api_catalog: products, warehouses and transit times -- create
 * (idempotent), update, get and paged lists.
 */
#include <stdio.h>
#include <string.h>

#include "inv_api.h"
#include "inv_store.h"
#include "inv_valid.h"

/* ---- products ---- */

typedef struct product_ctx {
    sl_call *call;
    const Shelfline__V1__Product *in;
    bool update;
    Shelfline__V1__Product *out;
} product_ctx;

/* The product without its output-only fields (for idempotent compares). */
static Shelfline__V1__Product bare_product(const Shelfline__V1__Product *p)
{
    Shelfline__V1__Product b = *p;
    b.created_at_ms = 0;
    b.updated_at_ms = 0;
    return b;
}

static sl_status product_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    product_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    if (c->update) {
        sl_status st = inv_store_product_update(conn, a, c->in, &c->out, err);
        if (st == SL_OK && c->out == NULL)
            st = sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND",
                               "product.sku: unknown SKU \"%s\"", c->in->sku);
        return st;
    }
    bool created;
    sl_status st = inv_store_product_create(conn, a, c->in, &created, &c->out, err);
    if (st != SL_OK || created)
        return st;
    Shelfline__V1__Product x = bare_product(c->out), y = bare_product(c->in);
    if (c->out == NULL || !inv_api_same(c->call, &x.base, &y.base))
        return sl_err_reason(err, SL_ALREADY_EXISTS, "RESOURCE_CONFLICT",
                             "product.sku \"%s\" already exists with other values", c->in->sku);
    return SL_OK;
}

static sl_status product_write(sl_call *call, const Shelfline__V1__Product *in, bool update,
                               ProtobufCMessage *resp, sl_err *err)
{
    sl_status st = inv_valid_product(in, err);
    if (st != SL_OK)
        return st;
    product_ctx c = {call, in, update, NULL};
    st = inv_api_tx(call, false, product_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__Product *)resp = *c.out;
    return st;
}

sl_status inv_api_create_product(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    return product_write(call, ((const Shelfline__V1__CreateProductRequest *)req)->product, false,
                         resp, err);
}

sl_status inv_api_update_product(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    return product_write(call, ((const Shelfline__V1__UpdateProductRequest *)req)->product, true,
                         resp, err);
}

typedef struct get_ctx {
    sl_call *call;
    const char *a, *b;
    void *out;
} get_ctx;

static sl_status get_product_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return inv_store_product_get(conn, sl_call_arena(c->call), c->a,
                                 (Shelfline__V1__Product **)&c->out, err);
}

sl_status inv_api_get_product(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__GetProductRequest *r = (const Shelfline__V1__GetProductRequest *)req;
    sl_status st = inv_valid_id("sku", r->sku, INV_ID_SKU, err);
    if (st != SL_OK)
        return st;
    get_ctx c = {call, r->sku, NULL, NULL};
    st = inv_api_tx(call, true, get_product_tx, &c, err);
    if (st != SL_OK)
        return st;
    if (c.out == NULL) {
        sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku: unknown SKU \"%s\"", r->sku);
        sl_err_meta(err, "sku", "%s", r->sku);
        return SL_NOT_FOUND;
    }
    *(Shelfline__V1__Product *)resp = *(Shelfline__V1__Product *)c.out;
    return SL_OK;
}

typedef struct list_ctx {
    sl_call *call;
    const char *f1, *f2; /* filters */
    const char *after1, *after2;
    int limit;
    void *items;
    size_t n;
} list_ctx;

static sl_status list_products_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return inv_store_product_list(conn, sl_call_arena(c->call), c->f1, c->after1, c->limit,
                                  (Shelfline__V1__Product ***)&c->items, &c->n, err);
}

static char *two_part_token(sl_arena *a, const char *x, const char *y)
{
    char *k = inv_api_two_part_key(a, x, y);
    return k != NULL ? sl_page_token_encode(a, k) : NULL;
}

sl_status inv_api_list_products(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__ListProductsRequest *r = (const Shelfline__V1__ListProductsRequest *)req;
    Shelfline__V1__ListProductsResponse *out = (Shelfline__V1__ListProductsResponse *)resp;
    list_ctx c = {.call = call, .f1 = r->category, .f2 = ""};
    char after[256];
    sl_status st = sl_page_size(r->page, &c.limit, err);
    if (st == SL_OK)
        st = inv_valid_text("category", r->category, 0, 64, err);
    if (st == SL_OK)
        st = inv_api_page_after(r->page, after, sizeof after, err);
    if (st != SL_OK)
        return st;
    c.after1 = after;
    st = inv_api_tx(call, true, list_products_tx, &c, err);
    if (st != SL_OK)
        return st;
    out->products = c.items;
    out->n_products = c.n;
    if (c.n == (size_t)c.limit)
        out->next_page_token =
            sl_page_token_encode(sl_call_arena(call), out->products[c.n - 1]->sku);
    return SL_OK;
}

/* ---- warehouses ---- */

typedef struct wh_ctx {
    sl_call *call;
    const Shelfline__V1__Warehouse *in;
    int cutoff;
    bool update;
    Shelfline__V1__Warehouse *out;
} wh_ctx;

/* The warehouse without its output-only fields (for idempotent compares):
 * the timestamps and the calendar, which CreateWarehouse does not set. */
static Shelfline__V1__Warehouse bare_wh(const Shelfline__V1__Warehouse *w)
{
    Shelfline__V1__Warehouse b = *w;
    b.created_at_ms = 0;
    b.updated_at_ms = 0;
    b.n_ship_weekdays = 0;
    b.ship_weekdays = NULL;
    b.n_holidays = 0;
    b.holidays = NULL;
    return b;
}

static sl_status wh_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    wh_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    bool valid;
    sl_status st = inv_store_tz_valid(conn, c->in->time_zone, &valid, err);
    if (st != SL_OK)
        return st;
    if (!valid)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "warehouse.time_zone \"%s\" is not a known IANA time zone",
                          c->in->time_zone);
    if (c->update) {
        st = inv_store_warehouse_update(conn, a, c->in, c->cutoff, &c->out, err);
        if (st == SL_OK && c->out == NULL)
            st = sl_err_reason(err, SL_NOT_FOUND, "WAREHOUSE_NOT_FOUND",
                               "warehouse.warehouse_id: unknown warehouse \"%s\"",
                               c->in->warehouse_id);
        return st;
    }
    bool created;
    st = inv_store_warehouse_create(conn, a, c->in, c->cutoff, &created, &c->out, err);
    if (st != SL_OK || created)
        return st;
    /* Validated cut-offs are already in the stored HH:MM form. */
    Shelfline__V1__Warehouse x = bare_wh(c->out), y = bare_wh(c->in);
    if (c->out == NULL || !inv_api_same(c->call, &x.base, &y.base))
        return sl_err_reason(err, SL_ALREADY_EXISTS, "RESOURCE_CONFLICT",
                             "warehouse.warehouse_id \"%s\" already exists with other values",
                             c->in->warehouse_id);
    return SL_OK;
}

static sl_status wh_write(sl_call *call, const Shelfline__V1__Warehouse *in, bool update,
                          ProtobufCMessage *resp, sl_err *err)
{
    int cutoff;
    sl_status st = inv_valid_warehouse(in, &cutoff, err);
    if (st != SL_OK)
        return st;
    wh_ctx c = {call, in, cutoff, update, NULL};
    st = inv_api_tx(call, false, wh_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__Warehouse *)resp = *c.out;
    return st;
}

sl_status inv_api_create_warehouse(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    return wh_write(call, ((const Shelfline__V1__CreateWarehouseRequest *)req)->warehouse, false,
                    resp, err);
}

sl_status inv_api_update_warehouse(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    return wh_write(call, ((const Shelfline__V1__UpdateWarehouseRequest *)req)->warehouse, true,
                    resp, err);
}

typedef struct calendar_ctx {
    sl_call *call;
    const Shelfline__V1__SetWarehouseCalendarRequest *in;
    unsigned mask;
    Shelfline__V1__Warehouse *out;
} calendar_ctx;

static sl_status calendar_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    calendar_ctx *c = p;
    sl_status st = inv_store_warehouse_calendar(conn, sl_call_arena(c->call), c->in->warehouse_id,
                                                c->mask, (const char *const *)c->in->holidays,
                                                c->in->n_holidays, &c->out, err);
    if (st == SL_OK && c->out == NULL)
        st = sl_err_reason(err, SL_NOT_FOUND, "WAREHOUSE_NOT_FOUND",
                           "warehouse_id: unknown warehouse \"%s\"", c->in->warehouse_id);
    return st;
}

/* SetWarehouseCalendar: validate (every field before any write), then one
 * UPDATE that replaces the calendar. */
sl_status inv_api_set_warehouse_calendar(sl_call *call, const ProtobufCMessage *req,
                                         ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__SetWarehouseCalendarRequest *r =
        (const Shelfline__V1__SetWarehouseCalendarRequest *)req;
    calendar_ctx c = {call, r, 0, NULL};
    sl_status st = inv_valid_calendar(r, &c.mask, err);
    if (st == SL_OK)
        st = inv_api_tx(call, false, calendar_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__Warehouse *)resp = *c.out;
    return st;
}

static sl_status get_wh_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return inv_store_warehouse_get(conn, sl_call_arena(c->call), c->a,
                                   (Shelfline__V1__Warehouse **)&c->out, err);
}

sl_status inv_api_get_warehouse(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__GetWarehouseRequest *r = (const Shelfline__V1__GetWarehouseRequest *)req;
    sl_status st = inv_valid_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err);
    if (st != SL_OK)
        return st;
    get_ctx c = {call, r->warehouse_id, NULL, NULL};
    st = inv_api_tx(call, true, get_wh_tx, &c, err);
    if (st != SL_OK)
        return st;
    if (c.out == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "WAREHOUSE_NOT_FOUND",
                             "warehouse_id: unknown warehouse \"%s\"", r->warehouse_id);
    *(Shelfline__V1__Warehouse *)resp = *(Shelfline__V1__Warehouse *)c.out;
    return SL_OK;
}

static sl_status list_wh_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return inv_store_warehouse_list(conn, sl_call_arena(c->call), c->f1, c->after1, c->limit,
                                    (Shelfline__V1__Warehouse ***)&c->items, &c->n, err);
}

sl_status inv_api_list_warehouses(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__ListWarehousesRequest *r =
        (const Shelfline__V1__ListWarehousesRequest *)req;
    Shelfline__V1__ListWarehousesResponse *out = (Shelfline__V1__ListWarehousesResponse *)resp;
    list_ctx c = {.call = call, .f1 = r->region, .f2 = ""};
    char after[256];
    sl_status st = sl_page_size(r->page, &c.limit, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("region", r->region, INV_ID_REGION, err);
    if (st == SL_OK)
        st = inv_api_page_after(r->page, after, sizeof after, err);
    if (st != SL_OK)
        return st;
    c.after1 = after;
    st = inv_api_tx(call, true, list_wh_tx, &c, err);
    if (st != SL_OK)
        return st;
    out->warehouses = c.items;
    out->n_warehouses = c.n;
    if (c.n == (size_t)c.limit)
        out->next_page_token =
            sl_page_token_encode(sl_call_arena(call), out->warehouses[c.n - 1]->warehouse_id);
    return SL_OK;
}

/* ---- transit times ---- */

typedef struct tr_ctx {
    sl_call *call;
    const Shelfline__V1__TransitTime *in;
    bool update;
    Shelfline__V1__TransitTime *out;
} tr_ctx;

static sl_status tr_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    tr_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    sl_status st =
        inv_api_need_warehouse(conn, a, "transit_time.warehouse_id", c->in->warehouse_id, err);
    if (st != SL_OK)
        return st;
    if (c->update) {
        st = inv_store_transit_update(conn, a, c->in, &c->out, err);
        if (st == SL_OK && c->out == NULL)
            st =
                sl_err_reason(err, SL_NOT_FOUND, "TRANSIT_TIME_NOT_FOUND",
                              "transit_time: warehouse \"%s\" has no transit time to region \"%s\"",
                              c->in->warehouse_id, c->in->region);
        return st;
    }
    bool created;
    st = inv_store_transit_create(conn, a, c->in, &created, &c->out, err);
    if (st != SL_OK || created)
        return st;
    Shelfline__V1__TransitTime x = *c->out, y = *c->in;
    x.updated_at_ms = y.updated_at_ms = 0;
    if (!inv_api_same(c->call, &x.base, &y.base))
        return sl_err_reason(err, SL_ALREADY_EXISTS, "RESOURCE_CONFLICT",
                             "transit_time from \"%s\" to \"%s\" already exists with other values",
                             c->in->warehouse_id, c->in->region);
    return SL_OK;
}

static sl_status tr_write(sl_call *call, const Shelfline__V1__TransitTime *in, bool update,
                          ProtobufCMessage *resp, sl_err *err)
{
    sl_status st = inv_valid_transit(in, err);
    if (st != SL_OK)
        return st;
    tr_ctx c = {call, in, update, NULL};
    st = inv_api_tx(call, false, tr_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__TransitTime *)resp = *c.out;
    return st;
}

sl_status inv_api_create_transit_time(sl_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage *resp, sl_err *err)
{
    return tr_write(call, ((const Shelfline__V1__CreateTransitTimeRequest *)req)->transit_time,
                    false, resp, err);
}

sl_status inv_api_update_transit_time(sl_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage *resp, sl_err *err)
{
    return tr_write(call, ((const Shelfline__V1__UpdateTransitTimeRequest *)req)->transit_time,
                    true, resp, err);
}

static sl_status get_tr_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return inv_store_transit_get(conn, sl_call_arena(c->call), c->a, c->b,
                                 (Shelfline__V1__TransitTime **)&c->out, err);
}

sl_status inv_api_get_transit_time(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__GetTransitTimeRequest *r =
        (const Shelfline__V1__GetTransitTimeRequest *)req;
    sl_status st = inv_valid_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err);
    if (st == SL_OK)
        st = inv_valid_id("region", r->region, INV_ID_REGION, err);
    if (st != SL_OK)
        return st;
    get_ctx c = {call, r->warehouse_id, r->region, NULL};
    st = inv_api_tx(call, true, get_tr_tx, &c, err);
    if (st != SL_OK)
        return st;
    if (c.out == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "TRANSIT_TIME_NOT_FOUND",
                             "warehouse \"%s\" has no transit time to region \"%s\"",
                             r->warehouse_id, r->region);
    *(Shelfline__V1__TransitTime *)resp = *(Shelfline__V1__TransitTime *)c.out;
    return SL_OK;
}

static sl_status list_tr_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return inv_store_transit_list(conn, sl_call_arena(c->call), c->f1, c->f2, c->after1, c->after2,
                                  c->limit, (Shelfline__V1__TransitTime ***)&c->items, &c->n, err);
}

sl_status inv_api_list_transit_times(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__ListTransitTimesRequest *r =
        (const Shelfline__V1__ListTransitTimesRequest *)req;
    Shelfline__V1__ListTransitTimesResponse *out = (Shelfline__V1__ListTransitTimesResponse *)resp;
    list_ctx c = {.call = call, .f1 = r->warehouse_id, .f2 = r->region};
    char after[256];
    sl_status st = sl_page_size(r->page, &c.limit, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("region", r->region, INV_ID_REGION, err);
    if (st == SL_OK)
        st = inv_api_page_after(r->page, after, sizeof after, err);
    if (st == SL_OK)
        st = inv_api_split_key(after, &c.after1, &c.after2, err);
    if (st != SL_OK)
        return st;
    st = inv_api_tx(call, true, list_tr_tx, &c, err);
    if (st != SL_OK)
        return st;
    out->transit_times = c.items;
    out->n_transit_times = c.n;
    if (c.n == (size_t)c.limit) {
        const Shelfline__V1__TransitTime *last = out->transit_times[c.n - 1];
        out->next_page_token =
            two_part_token(sl_call_arena(call), last->warehouse_id, last->region);
    }
    return SL_OK;
}
