/*
 * fc_kpi: GetInventoryKpis' domain -- turnover, days of inventory and
 * stock-out days of one SKU or a category, overall and per ABC class.
 *
 * Units sold and stock-out days are this service's (daily_sales,
 * stockout_days); prices, the category's products and the time-weighted
 * average stock are inventory's (ListProducts / GetProduct,
 * GetAverageStock from its ledger).  The arithmetic (turnover, the
 * benchmarks) is fc_plan's.
 */
#ifndef FC_KPI_H
#define FC_KPI_H

#include <stddef.h>
#include <stdint.h>

#include "fc_app.h"
#include "fc_stock.h"

/* A category's SKUs per answer without a page (the cap of before paging). */
#define FC_KPI_MAX_SKUS 5000

/* The figures of a KPI request over its period (arena memory). */
typedef struct fc_kpi {
    fc_stock_product *skus; /* the SKU, or the category's products */
    size_t n;
    bool more;            /* the category has SKUs after these (next page) */
    const char *category; /* the request's, or the SKU's */
    int32_t from, to;     /* the period's days, to excluded */
    /* per SKU */
    int64_t *units;
    int64_t *stockouts;
    char *abc;   /* its network ABC class, 0 when unclassified */
    double *avg; /* average units on hand */
    /* totals */
    int64_t units_sold, stockout_days;
    double cogs;                 /* minor units */
    double inv_units, inv_value; /* average inventory, units and minor units */
} fc_kpi;

/* Gathers the figures of r (validated: fc_valid_kpis): the SKUs from
 * inventory (NOT_FOUND for an empty category; a category's page of them,
 * FC_KPI_MAX_SKUS without a page),
 * their sales, stock-outs and classes in one read-only transaction, their
 * average stock from inventory. */
sl_status fc_kpi_run(fc_app *app, sl_call *call, const Shelfline__V1__GetInventoryKpisRequest *r,
                     fc_kpi *k, sl_err *err);

/* The totals of the SKUs of ABC class abc ('A'..'C'). */
typedef struct fc_kpi_class {
    int32_t skus, stockout_days;
    int64_t units_sold;
    double cogs, value, units_avg;
} fc_kpi_class;
void fc_kpi_class_sum(const fc_kpi *k, char abc, fc_kpi_class *out);

#endif
