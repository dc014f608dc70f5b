/*
 * fc_stock: what inventory holds of a SKU, as forecasting's plans see it
 * -- a plan's stock view (one warehouse, or a region's serving
 * warehouses, with the open inbound spread over the horizon),
 * SuggestTransfers' network (every region's stock, next inbound and
 * warehouses, and the transit times) and the priced catalogue KPIs and
 * classification read.
 *
 * Everything is read from inventory over gRPC (fc_inventory.c), every
 * list to its last page, with the service's inventory timeout bounded by
 * the call's deadline: when inventory cannot answer, the caller fails
 * (UNAVAILABLE / DEADLINE_EXCEEDED) rather than plan on stock it does not
 * know.  Memory is the call's arena.
 */
#ifndef FC_STOCK_H
#define FC_STOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_app.h"
#include "fc_transfer.h"

typedef struct fc_stock_view {
    const char *region;
    int64_t available, open_inbound;
    double *arrivals;     /* per forecast day */
    int32_t next_inbound; /* day number, INT32_MAX: none */
} fc_stock_view;

/* Stock of sku in one warehouse (warehouse set; v->region becomes its
 * region) or over region's serving warehouses (warehouse NULL), with the
 * open inbound arriving in the horizon days from today in v->arrivals.
 * Fails with inventory's status. */
sl_status fc_stock_load(fc_app *app, sl_call *call, const char *sku, const char *warehouse,
                        const char *region, int32_t today, int horizon, sl_arena *a,
                        fc_stock_view *v, sl_err *err);

/* The SKU's network as SuggestTransfers sees it: regions with their
 * available units, next inbound and warehouses, and every transit time. */
typedef struct fc_stock_net {
    fc_transfer_region *regions;
    int32_t *next_inbound; /* per region: day number, INT32_MAX: none */
    int64_t *source_avail; /* per region: what its source warehouse holds */
    size_t n;
    fc_transfer_route *routes;
    size_t n_routes;
} fc_stock_net;

/* Reads sku's network from inventory, every list to its last page: the
 * warehouses (active ones hold stock; a region's source is its warehouse
 * with the most available, its destination its first), the stock levels,
 * the open inbound (a region's earliest), and the transit times -- one
 * call for all regions, not one per short region.  At most
 * FC_TRANSFER_MAX_REGIONS regions. */
sl_status fc_stock_network(fc_app *app, sl_call *call, const char *sku, sl_arena *a,
                           fc_stock_net *net, sl_err *err);

/* A product and its list price (minor units; 0 without one). */
typedef struct fc_stock_product {
    const char *sku;
    int64_t price;
} fc_stock_product;

/* The products of category ("": every product) from inventory's
 * ListProducts, in its order after the SKU after ("": from the first),
 * page by page until the last or until max of them, into *out (arena, *n
 * of them).  *more (may be NULL) says whether products are left after
 * them; without it they are left out unseen. */
sl_status fc_stock_products(fc_app *app, sl_call *call, const char *category, const char *after,
                            size_t max, sl_arena *a, fc_stock_product **out, size_t *n, bool *more,
                            sl_err *err);

#endif
