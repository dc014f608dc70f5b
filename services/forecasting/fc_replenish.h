/*
 * fc_replenish: GetReplenishmentPlan's domain -- from a SKU's stock, its
 * class's service level, a lead time (the supplier's learned one or the
 * request's) and the demand forecast to a reorder point, an order
 * quantity and the alerts the plan raises.
 *
 * The arithmetic is fc_plan's (pure, unit-tested); this module gathers
 * its inputs -- stock and inbound from inventory (fc_stock), the class
 * and learned lead times in one read-only transaction, the forecast
 * (fc_demand) -- and raises the plan's alerts (fc_alert) in one
 * transaction of their own.
 */
#ifndef FC_REPLENISH_H
#define FC_REPLENISH_H

#include <stddef.h>
#include <stdint.h>

#include "fc_app.h"
#include "fc_plan.h"
#include "fc_stock.h"

#define FC_PLAN_HORIZON 365 /* days of demand a plan reads */
#define FC_PLAN_COVER_DAYS 28

/* A plan, with what went into it (arena memory). */
typedef struct fc_replenish {
    int32_t today;
    fc_stock_view stock;     /* its region is the plan's */
    double service_level;    /* the request's, else the class's target */
    char class_code[3];      /* "AX".."CZ", "" when unclassified */
    double lead, lead_sd;    /* days */
    fc_lead_source lead_src; /* never FC_LEAD_NONE */
    int64_t lead_receipts;   /* behind a learned lead time, else 0 */
    double *demand;          /* FC_PLAN_HORIZON days from today */
    double demand_sd;
    const char *model;
    fc_plan_in in;
    fc_plan_out out;
    long stockout;        /* days from today until stock runs out, -1: not in the horizon */
    double days_of_cover; /* of the inventory position at the next 28 days' mean demand */
    Shelfline__V1__Alert *alerts[2];
    size_t n_alerts;
} fc_replenish;

/* Plans r (validated: fc_valid_plan) as of today and raises the plan's
 * alerts: running out before the next inbound arrives, and cover beyond
 * three times the order-up-to level (stored and published once each).
 * FAILED_PRECONDITION when r leaves service_level 0 and the SKU has no
 * class, or lead_time_days 0 and the supplier too few receipts to learn
 * from; inventory's status when it cannot answer; fc_plan's otherwise. */
sl_status fc_replenish_run(fc_app *app, sl_call *call,
                           const Shelfline__V1__GetReplenishmentPlanRequest *r, fc_replenish *p,
                           sl_err *err);

#endif
