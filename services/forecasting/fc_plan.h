/*
 * fc_plan: replenishment, transfer and KPI arithmetic -- pure functions of
 * numbers (no gRPC, no database), so every figure the service answers can
 * be checked by hand in unit tests.
 *
 * Safety stock follows the classic formula for demand and lead-time
 * variability (Silver, Pyke & Peterson):
 *   SS = z * sqrt(L * sd^2 + d^2 * sL^2)
 *   ROP = d * L + SS
 *   S   = d * (L + R) + z * sqrt((L + R) * sd^2 + d^2 * sL^2)
 * with d the mean daily demand, sd its daily standard deviation, L and sL
 * the lead time and its standard deviation (days), R the review period and
 * z the standard normal quantile of the cycle service level.
 */
#ifndef FC_PLAN_H
#define FC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* The standard normal quantile (inverse CDF) of p in (0, 1), accurate to
 * about 1e-9 (Acklam's rational approximation with one Newton step).
 * Returns NAN outside (0, 1). */
double fc_plan_z(double p);

/* The order quantity for a raw need q (units, may be fractional or <= 0):
 * 0 when q <= 0; else ceil(q) raised to moq (when moq > 0) and rounded up
 * to a multiple of pack (when pack > 1). */
int64_t fc_plan_round(double q, int64_t moq, int64_t pack);

typedef struct fc_plan_in {
    double mean_demand;   /* d, units/day, >= 0 */
    double demand_sd;     /* sd, units/day, >= 0 */
    double service_level; /* (0, 1) */
    double lead_time;     /* L, days, > 0 */
    double lead_time_sd;  /* sL, days, >= 0 */
    double review_period; /* R, days, >= 0 (0: continuous review) */
    int64_t moq, pack;
    int64_t available, open_inbound;
} fc_plan_in;

typedef struct fc_plan_out {
    double z, safety_stock, reorder_point, order_up_to;
    int64_t position;  /* available + open_inbound */
    int64_t order_qty; /* see fc_plan_compute */
} fc_plan_out;

/* Computes the plan.  An order is due when the position is at or below the
 * reorder point (continuous review) or at every review (R > 0); its raw
 * size is order_up_to - position, rounded by fc_plan_round.  Fails with
 * INVALID_ARGUMENT naming the first bad input (negative or non-finite
 * figures, a service level outside (0, 1), lead time <= 0). */
sl_status fc_plan_compute(const fc_plan_in *in, fc_plan_out *out, sl_err *err);

/* Walks daily demand forward from stock on hand: stock starts at
 * available, gains arrivals[i] at the start of day i (NULL: none) and
 * loses demand[i] during day i.  Returns the first day index whose demand
 * is not fully met, or -1 when stock lasts all n days. */
long fc_plan_stockout_day(const double *demand, const double *arrivals, size_t n, double available);

/* The mean of the first k of the n values of v (all n when k > n; 0 when
 * none). */
double fc_plan_span_mean(const double *v, size_t n, size_t k);

/* Days of cover: stock / mean daily demand; -1 when demand <= 0. */
double fc_plan_cover(double stock, double mean_demand);

/* Turnover benchmarks (turns a year) by category name: FMCG for grocery,
 * beauty, pets, household, food, beverages, health; luxury for luxury,
 * jewelry, jewellery, watches; general retail otherwise.  *kind gets the
 * KpiBenchmark number (1 general, 2 FMCG, 3 luxury). */
void fc_plan_benchmark(const char *category, int *kind, double *low, double *high);

/* Annualised turnover: cogs / inventory_value * 365 / period_days; 0 when
 * inventory_value <= 0 and cogs is 0, and -1 (infinite: sold with nothing
 * on hand) when inventory_value <= 0 and cogs > 0. */
double fc_plan_turnover(double cogs, double inventory_value, int period_days);

/* A learned lead time distribution: receipts behind it, mean and standard
 * deviation in days. */
typedef struct fc_lead_stats {
    int64_t receipts;
    double mean, sd;
} fc_lead_stats;

/* Where a plan's lead time comes from. */
typedef enum fc_lead_source {
    FC_LEAD_NONE,               /* nothing learned and no request value */
    FC_LEAD_REQUEST,            /* the request's lead_time_days / stddev */
    FC_LEAD_SUPPLIER_WAREHOUSE, /* the supplier's receipts at this warehouse */
    FC_LEAD_SUPPLIER,           /* the supplier's receipts anywhere */
} fc_lead_source;

/* Receipts needed before a learned distribution is trusted over the
 * request's figure: with fewer, a standard deviation means little. */
#define FC_LEAD_MIN_RECEIPTS 3

/* Chooses the plan's lead time: the supplier x warehouse distribution
 * (sw, may be NULL) when it has FC_LEAD_MIN_RECEIPTS and a positive mean
 * (receipts the instant they were ordered teach nothing), else the supplier's
 * (s, may be NULL), else the request's (req_mean > 0).  Sets *mean, *sd
 * and returns the source (FC_LEAD_NONE: nothing usable, *mean and *sd
 * untouched). */
fc_lead_source fc_plan_lead_time(const fc_lead_stats *sw, const fc_lead_stats *s, double req_mean,
                                 double req_sd, double *mean, double *sd);

#endif
