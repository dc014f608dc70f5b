/*
 * cv_simple: the simple CLV formula and retention (see cv_simple.h).
 */
#include "cv_simple.h"

#include <math.h>

static sl_status check_count(const char *name, double v, sl_err *err)
{
    if (!isfinite(v) || v < 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be a finite number >= 0, got %g", name,
                          v);
    return SL_OK;
}

sl_status cv_retention_rate(double customers_at_start, double customers_at_end,
                            double new_customers, double *out, sl_err *err)
{
    sl_status st;
    if ((st = check_count("customers_at_start", customers_at_start, err)) != SL_OK ||
        (st = check_count("customers_at_end", customers_at_end, err)) != SL_OK ||
        (st = check_count("new_customers", new_customers, err)) != SL_OK)
        return st;
    if (customers_at_start == 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "customers_at_start must be > 0 for a retention rate");
    double kept = customers_at_end - new_customers;
    if (kept < 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "new_customers (%g) exceeds customers_at_end (%g)", new_customers,
                          customers_at_end);
    if (kept > customers_at_start)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "customers_at_end - new_customers (%g) exceeds customers_at_start (%g)",
                          kept, customers_at_start);
    *out = kept / customers_at_start;
    return SL_OK;
}

sl_status cv_churn_rate(double customers_at_start, double customers_at_end, double new_customers,
                        double *out, sl_err *err)
{
    /* Initialised although cv_retention_rate sets it whenever it returns
     * OK: gcc 12 at -O2 cannot see that through the early returns and
     * warns (-Werror=maybe-uninitialized in the Release image build). */
    double ret = NAN;
    sl_status st =
        cv_retention_rate(customers_at_start, customers_at_end, new_customers, &ret, err);
    if (st != SL_OK)
        return st;
    *out = 1.0 - ret;
    return SL_OK;
}

sl_status cv_simple_clv(const cv_simple_input *in, cv_simple_variant variant, cv_simple_result *out,
                        sl_err *err)
{
    sl_status st;
    if ((st = check_count("total_sales", in->total_sales, err)) != SL_OK ||
        (st = check_count("purchases", in->purchases, err)) != SL_OK ||
        (st = check_count("customers", in->customers, err)) != SL_OK ||
        (st = check_count("lifetime", in->lifetime, err)) != SL_OK ||
        (st = check_count("referral_value", in->referral_value, err)) != SL_OK)
        return st;
    if (in->customers == 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "customers must be > 0");
    if (!isfinite(in->discount_rate) || !(in->discount_rate > -1.0))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "discount_rate must be > -1, got %g",
                          in->discount_rate);
    double retention;
    st = cv_retention_rate(in->customers_at_start, in->customers_at_end, in->new_customers,
                           &retention, err);
    if (st != SL_OK)
        return st;

    double avg = NAN;
    switch (variant) {
    case CV_SIMPLE_AOV:
        if (in->purchases == 0.0)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "purchases must be > 0 for the average order value");
        avg = in->total_sales / in->purchases;
        break;
    case CV_SIMPLE_LITERAL:
        avg = in->total_sales / in->customers;
        break;
    }
    if (isnan(avg))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "unknown simple CLV variant %d", (int)variant);
    out->average_purchase = avg;
    out->purchase_count = in->purchases / in->customers;
    out->retention = retention;
    out->clv_without_referral =
        avg * out->purchase_count * retention / pow(1.0 + in->discount_rate, in->lifetime);
    out->clv = out->clv_without_referral + in->referral_value;
    return SL_OK;
}

const char *cv_simple_variant_name(cv_simple_variant v)
{
    switch (v) {
    case CV_SIMPLE_AOV:
        return "aov";
    case CV_SIMPLE_LITERAL:
        return "literal";
    }
    return "unknown";
}
