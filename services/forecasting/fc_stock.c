/*
 * fc_stock: a SKU's stock from inventory (see fc_stock.h).
 */
#include "fc_stock.h"

#include <string.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_page.h"

/* Adds the open inbound of sku (to warehouse, or to any of the n_wh
 * warehouses in whs) into v over horizon days from today. */
static sl_status add_inbound(fc_app *app, sl_call *call, const char *sku, const char *warehouse,
                             char **whs, size_t n_wh, int32_t today, int horizon, sl_arena *a,
                             fc_stock_view *v, sl_err *err)
{
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pg.page_size = 1000;
    Shelfline__V1__ListInboundRequest lr = SHELFLINE__V1__LIST_INBOUND_REQUEST__INIT;
    lr.page = &pg;
    lr.sku = (char *)sku;
    lr.warehouse_id = (char *)(warehouse != NULL ? warehouse : "");
    lr.open_only = true;
    Shelfline__V1__Inbound **inb;
    size_t n_inb;
    sl_status st = fc_inventory_list(app, call, "ListInbound", &lr.base, &pg,
                                     &shelfline__v1__list_inbound_response__descriptor, "inbounds",
                                     a, &inb, &n_inb, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < n_inb; i++) {
        const Shelfline__V1__Inbound *in = inb[i];
        if (in->closed || in->open_qty <= 0)
            continue;
        if (warehouse == NULL) {
            bool mine = false;
            for (size_t k = 0; k < n_wh && !mine; k++)
                mine = strcmp(whs[k], in->warehouse_id) == 0;
            if (!mine)
                continue;
        }
        v->open_inbound += in->open_qty;
        int32_t day = (int32_t)(in->expected_at_ms / 86400000LL);
        if (day < v->next_inbound)
            v->next_inbound = day;
        long idx = day - today;
        if (idx < 0)
            idx = 0;
        if (idx < horizon)
            v->arrivals[idx] += (double)in->open_qty;
    }
    return SL_OK;
}

sl_status fc_stock_load(fc_app *app, sl_call *call, const char *sku, const char *warehouse,
                        const char *region, int32_t today, int horizon, sl_arena *a,
                        fc_stock_view *v, sl_err *err)
{
    memset(v, 0, sizeof *v);
    v->next_inbound = INT32_MAX;
    v->arrivals = sl_arena_zalloc(a, (size_t)horizon * sizeof *v->arrivals);
    if (v->arrivals == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status st;
    if (warehouse != NULL) {
        Shelfline__V1__GetWarehouseRequest gw = SHELFLINE__V1__GET_WAREHOUSE_REQUEST__INIT;
        gw.warehouse_id = (char *)warehouse;
        Shelfline__V1__Warehouse *w;
        if ((st = fc_inventory_call(app, call, "GetWarehouse", &gw.base,
                                    &shelfline__v1__warehouse__descriptor, a, &w, err)) != SL_OK)
            return st;
        v->region = w->region;
        Shelfline__V1__GetStockRequest gs = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
        gs.sku = (char *)sku;
        gs.warehouse_id = (char *)warehouse;
        Shelfline__V1__GetStockResponse *s;
        if ((st = fc_inventory_call(app, call, "GetStock", &gs.base,
                                    &shelfline__v1__get_stock_response__descriptor, a, &s, err)) !=
            SL_OK)
            return st;
        for (size_t i = 0; i < s->n_levels; i++)
            v->available += s->levels[i]->available;
        return add_inbound(app, call, sku, warehouse, NULL, 0, today, horizon, a, v, err);
    }
    v->region = region;
    char *skus[] = {(char *)sku};
    Shelfline__V1__GetAvailabilityRequest ga = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    ga.skus = skus;
    ga.n_skus = 1;
    ga.region = (char *)region;
    Shelfline__V1__GetAvailabilityResponse *av;
    if ((st = fc_inventory_call(app, call, "GetAvailability", &ga.base,
                                &shelfline__v1__get_availability_response__descriptor, a, &av,
                                err)) != SL_OK)
        return st;
    if (av->n_items < 1)
        return sl_err_set(err, SL_INTERNAL, "inventory GetAvailability answered no item");
    const Shelfline__V1__Availability *it = av->items[0];
    v->available = it->available;
    char **whs = sl_arena_alloc(a, (it->n_warehouses > 0 ? it->n_warehouses : 1) * sizeof *whs);
    if (whs == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < it->n_warehouses; i++)
        whs[i] = it->warehouses[i]->warehouse_id;
    return add_inbound(app, call, sku, NULL, whs, it->n_warehouses, today, horizon, a, v, err);
}

/* The region of net named region, added when new (NULL when there are
 * already FC_TRANSFER_MAX_REGIONS). */
static fc_transfer_region *net_region(fc_stock_net *net, const char *region)
{
    for (size_t i = 0; i < net->n; i++)
        if (strcmp(net->regions[i].region, region) == 0)
            return &net->regions[i];
    if (net->n >= FC_TRANSFER_MAX_REGIONS)
        return NULL;
    fc_transfer_region *x = &net->regions[net->n];
    memset(x, 0, sizeof *x);
    x->region = region;
    net->source_avail[net->n] = 0;
    net->next_inbound[net->n++] = INT32_MAX;
    return x;
}

sl_status fc_stock_network(fc_app *app, sl_call *call, const char *sku, sl_arena *a,
                           fc_stock_net *net, sl_err *err)
{
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pg.page_size = 1000;
    Shelfline__V1__ListWarehousesRequest lw = SHELFLINE__V1__LIST_WAREHOUSES_REQUEST__INIT;
    lw.page = &pg;
    Shelfline__V1__Warehouse **whs;
    size_t n_whs;
    sl_status st = fc_inventory_list(app, call, "ListWarehouses", &lw.base, &pg,
                                     &shelfline__v1__list_warehouses_response__descriptor,
                                     "warehouses", a, &whs, &n_whs, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__GetStockRequest gs = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
    gs.sku = (char *)sku;
    Shelfline__V1__GetStockResponse *stock;
    if ((st = fc_inventory_call(app, call, "GetStock", &gs.base,
                                &shelfline__v1__get_stock_response__descriptor, a, &stock, err)) !=
        SL_OK)
        return st;
    net->regions = sl_arena_zalloc(a, FC_TRANSFER_MAX_REGIONS * sizeof *net->regions);
    net->next_inbound = sl_arena_zalloc(a, FC_TRANSFER_MAX_REGIONS * sizeof *net->next_inbound);
    net->source_avail = sl_arena_zalloc(a, FC_TRANSFER_MAX_REGIONS * sizeof *net->source_avail);
    if (net->regions == NULL || net->next_inbound == NULL || net->source_avail == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n_whs; i++) {
        const Shelfline__V1__Warehouse *w = whs[i];
        if (!w->active)
            continue;
        fc_transfer_region *x = net_region(net, w->region);
        if (x == NULL)
            break;
        if (x->dest_wh == NULL)
            x->dest_wh = w->warehouse_id;
        int64_t *best = &net->source_avail[x - net->regions];
        for (size_t k = 0; k < stock->n_levels; k++) {
            const Shelfline__V1__StockLevel *l = stock->levels[k];
            if (strcmp(l->warehouse_id, w->warehouse_id) != 0)
                continue;
            x->available += l->available;
            if (x->source_wh == NULL || l->available > *best)
                x->source_wh = w->warehouse_id, *best = l->available;
        }
    }
    Shelfline__V1__ListInboundRequest li = SHELFLINE__V1__LIST_INBOUND_REQUEST__INIT;
    li.page = &pg;
    li.sku = (char *)sku;
    li.open_only = true;
    Shelfline__V1__Inbound **inb;
    size_t n_inb;
    if ((st = fc_inventory_list(app, call, "ListInbound", &li.base, &pg,
                                &shelfline__v1__list_inbound_response__descriptor, "inbounds", a,
                                &inb, &n_inb, err)) != SL_OK)
        return st;
    for (size_t i = 0; i < n_inb; i++)
        for (size_t k = 0; k < n_whs; k++) {
            if (strcmp(whs[k]->warehouse_id, inb[i]->warehouse_id) != 0)
                continue;
            fc_transfer_region *x = net_region(net, whs[k]->region);
            int32_t day = (int32_t)(inb[i]->expected_at_ms / 86400000LL);
            if (x != NULL && inb[i]->open_qty > 0 && day < net->next_inbound[x - net->regions])
                net->next_inbound[x - net->regions] = day;
        }
    Shelfline__V1__ListTransitTimesRequest lt = SHELFLINE__V1__LIST_TRANSIT_TIMES_REQUEST__INIT;
    lt.page = &pg;
    Shelfline__V1__TransitTime **tts;
    if ((st = fc_inventory_list(app, call, "ListTransitTimes", &lt.base, &pg,
                                &shelfline__v1__list_transit_times_response__descriptor,
                                "transit_times", a, &tts, &net->n_routes, err)) != SL_OK)
        return st;
    net->routes = sl_arena_alloc(a, (net->n_routes + 1) * sizeof *net->routes);
    if (net->routes == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < net->n_routes; i++)
        net->routes[i] =
            (fc_transfer_route){tts[i]->warehouse_id, tts[i]->region, tts[i]->p50_days};
    return SL_OK;
}

/* One ListProducts page of category after token pg->page_token. */
static sl_status products_page(fc_app *app, sl_call *call, const char *category,
                               Shelfline__V1__PageRequest *pg, sl_arena *a,
                               Shelfline__V1__ListProductsResponse **out, sl_err *err)
{
    Shelfline__V1__ListProductsRequest lp = SHELFLINE__V1__LIST_PRODUCTS_REQUEST__INIT;
    lp.page = pg;
    lp.category = (char *)category;
    return fc_inventory_call(app, call, "ListProducts", &lp.base,
                             &shelfline__v1__list_products_response__descriptor, a, out, err);
}

/* ListProducts' key is the SKU, its token sl_page's hex of it: the page
 * after a SKU starts from that SKU's token, whoever saw it last. */
sl_status fc_stock_products(fc_app *app, sl_call *call, const char *category, const char *after,
                            size_t max, sl_arena *a, fc_stock_product **out, size_t *n, bool *more,
                            sl_err *err)
{
    sl_status st;
    fc_stock_product *prod = sl_arena_alloc(a, (max > 0 ? max : 1) * sizeof *prod);
    Shelfline__V1__PageRequest pg = SHELFLINE__V1__PAGE_REQUEST__INIT;
    pg.page_token = sl_page_token_encode(a, after);
    if (prod == NULL || pg.page_token == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t np = 0;
    Shelfline__V1__ListProductsResponse *pr;
    do {
        pg.page_size = max - np < SL_PAGE_MAX ? (int)(max - np) : SL_PAGE_MAX;
        if ((st = products_page(app, call, category, &pg, a, &pr, err)) != SL_OK)
            return st;
        for (size_t i = 0; i < pr->n_products && np < max; i++) {
            const Shelfline__V1__Product *p = pr->products[i];
            prod[np++] = (fc_stock_product){p->sku, p->price != NULL ? p->price->minor_units : 0};
        }
        pg.page_token = pr->next_page_token;
    } while (pg.page_token[0] != '\0' && np < max);
    *out = prod;
    *n = np;
    if (more == NULL)
        return SL_OK;
    /* A full last page has a token even when nothing follows: look. */
    *more = false;
    if (pg.page_token[0] == '\0')
        return SL_OK;
    pg.page_size = 1;
    if ((st = products_page(app, call, category, &pg, a, &pr, err)) != SL_OK)
        return st;
    *more = pr->n_products > 0;
    return SL_OK;
}
