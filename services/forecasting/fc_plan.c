/*
 * fc_plan: replenishment arithmetic (see fc_plan.h).
 */
#include "fc_plan.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

double fc_plan_z(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return NAN;
    /* Acklam's coefficients. */
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    const double plow = 0.02425, phigh = 1 - plow;
    double x;
    if (p < plow) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= phigh) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        double q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    /* One Halley step against erfc refines to near machine precision. */
    double e = 0.5 * erfc(-x / sqrt(2)) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

int64_t fc_plan_round(double q, int64_t moq, int64_t pack)
{
    if (!(q > 0.0))
        return 0;
    /* A hair of tolerance so that 10.000000001 from floating-point noise is
     * not a whole extra unit. */
    int64_t n = (int64_t)ceil(q - 1e-9);
    if (n < 1)
        n = 1;
    if (moq > 0 && n < moq)
        n = moq;
    if (pack > 1)
        n = (n + pack - 1) / pack * pack;
    return n;
}

static int bad(double v)
{
    return !isfinite(v) || v < 0;
}

sl_status fc_plan_compute(const fc_plan_in *in, fc_plan_out *out, sl_err *err)
{
    if (bad(in->mean_demand))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "mean demand must be finite and >= 0");
    if (bad(in->demand_sd))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "demand stddev must be finite and >= 0");
    if (!(in->service_level > 0 && in->service_level < 1))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "service_level must be in (0, 1)");
    if (!(in->lead_time > 0) || !isfinite(in->lead_time))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lead_time_days must be > 0");
    if (bad(in->lead_time_sd))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lead_time_stddev_days must be >= 0");
    if (bad(in->review_period))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "review_period_days must be >= 0");
    if (in->moq < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "moq must be >= 0");
    if (in->pack < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "pack_size must be >= 0");
    double d = in->mean_demand, sd = in->demand_sd, L = in->lead_time, sL = in->lead_time_sd;
    double LR = L + in->review_period;
    out->z = fc_plan_z(in->service_level);
    out->safety_stock = out->z * sqrt(L * sd * sd + d * d * sL * sL);
    if (out->safety_stock < 0)
        out->safety_stock = 0; /* service level below 50%: no negative buffer */
    out->reorder_point = d * L + out->safety_stock;
    double ss_lr = out->z * sqrt(LR * sd * sd + d * d * sL * sL);
    out->order_up_to = d * LR + (ss_lr > 0 ? ss_lr : 0);
    out->position = in->available + in->open_inbound;
    out->order_qty = 0;
    bool due = in->review_period > 0 || (double)out->position <= out->reorder_point;
    if (due)
        out->order_qty = fc_plan_round(out->order_up_to - (double)out->position, in->moq, in->pack);
    return SL_OK;
}

long fc_plan_stockout_day(const double *demand, const double *arrivals, size_t n, double available)
{
    double stock = available;
    for (size_t i = 0; i < n; i++) {
        if (arrivals != NULL)
            stock += arrivals[i];
        /* Half a unit of slack: a fractional forecast does not "run out"
         * on rounding noise. */
        if (demand[i] > stock + 0.5)
            return (long)i;
        stock -= demand[i];
    }
    return -1;
}

double fc_plan_cover(double stock, double mean_demand)
{
    if (!(mean_demand > 0))
        return -1;
    return stock / mean_demand;
}

double fc_plan_span_mean(const double *v, size_t n, size_t k)
{
    if (k > n)
        k = n;
    if (k == 0)
        return 0;
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += v[i];
    return s / (double)k;
}

static int name_in(const char *s, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcasecmp(s, *list) == 0)
            return 1;
    return 0;
}

void fc_plan_benchmark(const char *category, int *kind, double *low, double *high)
{
    static const char *const fmcg[] = {"grocery", "beauty",    "pets",   "household",
                                       "food",    "beverages", "health", NULL};
    static const char *const luxury[] = {"luxury", "jewelry", "jewellery", "watches", NULL};
    const char *c = category != NULL ? category : "";
    if (name_in(c, fmcg)) {
        *kind = 2, *low = 6, *high = 8;
    } else if (name_in(c, luxury)) {
        *kind = 3, *low = 1, *high = 3;
    } else {
        *kind = 1, *low = 3, *high = 5;
    }
}

double fc_plan_turnover(double cogs, double inventory_value, int period_days)
{
    if (!(inventory_value > 0))
        return cogs > 0 ? -1 : 0;
    if (period_days <= 0)
        return 0;
    return cogs / inventory_value * 365.0 / (double)period_days;
}

fc_lead_source fc_plan_lead_time(const fc_lead_stats *sw, const fc_lead_stats *s, double req_mean,
                                 double req_sd, double *mean, double *sd)
{
    if (sw != NULL && sw->receipts >= FC_LEAD_MIN_RECEIPTS && sw->mean > 0) {
        *mean = sw->mean, *sd = sw->sd;
        return FC_LEAD_SUPPLIER_WAREHOUSE;
    }
    if (s != NULL && s->receipts >= FC_LEAD_MIN_RECEIPTS && s->mean > 0) {
        *mean = s->mean, *sd = s->sd;
        return FC_LEAD_SUPPLIER;
    }
    if (req_mean > 0) {
        *mean = req_mean, *sd = req_sd;
        return FC_LEAD_REQUEST;
    }
    return FC_LEAD_NONE;
}
