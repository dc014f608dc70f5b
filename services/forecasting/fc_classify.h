/*
 * fc_classify: ClassifySkus' domain, and the class lookup of plans.
 *
 * Classification needs revenue, so prices: the catalogue comes from
 * inventory (ListProducts, the list price as in GetInventoryKpis) and a
 * SKU with sales but no product is left out (nothing to price it with).
 * It is stored (sku_class) rather than recomputed by every plan: it ranks
 * the whole catalogue, which is a batch job, not a per-plan query, and a
 * class that moves between two plans of one morning would be noise.  The
 * ranking itself is fc_class's (pure, unit-tested).
 */
#ifndef FC_CLASSIFY_H
#define FC_CLASSIFY_H

#include <stddef.h>

#include "fc_app.h"
#include "fc_class.h"

#define FC_CLASSIFY_MAX_SKUS 5000

/* Classifies the catalogue (at most FC_CLASSIFY_MAX_SKUS products) by its
 * sales in region ("" : the network) over the whole weeks of period_days
 * ending yesterday, under opts (defaults filled), and replaces the
 * region's classification with it in one transaction.  *rows (arena, *n
 * of them, in rank order) and targets (the region's service level
 * targets, NaN where none is set) receive what was stored.  Fails with
 * inventory's status when the catalogue cannot be read. */
sl_status fc_classify_region(fc_app *app, sl_call *call, const char *region, int period_days,
                             fc_class_opts *opts, fc_class_row **rows, size_t *n, double targets[9],
                             sl_err *err);

#endif
