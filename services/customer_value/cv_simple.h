/*
 * cv_simple: the simple CLV formula and the retention rate it uses.
 *
 *   CLV = average purchase x purchase count x retention / (1 + d)^lifetime
 *         (+ referral value)
 *   retention = (customers at end - new customers) / customers at start
 *
 * The formula as usually quoted takes average purchase = total sales /
 * customers and purchase count = purchases / customers.  Their product is
 * total sales x purchases / customers^2: purchase frequency is counted
 * twice, once inside "sales per customer" and again as "purchases per
 * customer".  The default variant (CV_SIMPLE_AOV) therefore uses the
 * average order value, total sales / purchases, so that average purchase x
 * purchase count = total sales / customers, the revenue of an average
 * customer.  The literal reading is kept as CV_SIMPLE_LITERAL for callers
 * who must reproduce it; docs/CUSTOMER_VALUE.md shows both on one example.
 */
#ifndef CV_SIMPLE_H
#define CV_SIMPLE_H

#include "sl_status.h"

typedef enum cv_simple_variant {
    CV_SIMPLE_AOV,     /* average purchase = total sales / purchases (default) */
    CV_SIMPLE_LITERAL, /* average purchase = total sales / customers */
} cv_simple_variant;

/* Totals over one period for a group of customers. */
typedef struct cv_simple_input {
    double total_sales;        /* revenue in the period */
    double purchases;          /* orders in the period */
    double customers;          /* distinct customers who bought */
    double customers_at_start; /* customers at the start of the period */
    double customers_at_end;   /* customers at its end */
    double new_customers;      /* customers acquired during it */
    double discount_rate;      /* per period, > -1 */
    double lifetime;           /* expected lifetime in periods, >= 0 */
    double referral_value;     /* revenue brought by customers they referred; 0 for none */
} cv_simple_input;

typedef struct cv_simple_result {
    double average_purchase; /* by the variant's definition */
    double purchase_count;   /* purchases / customers */
    double retention;        /* (end - new) / start */
    double clv;              /* the formula, referral value included */
    double clv_without_referral;
} cv_simple_result;

/* Retention rate (end - new) / start into *out.  SL_INVALID_ARGUMENT when a
 * count is negative or not finite, start is 0, or the counts are
 * inconsistent (more new customers than customers at the end, or more
 * retained customers than there were at the start). */
sl_status cv_retention_rate(double customers_at_start, double customers_at_end,
                            double new_customers, double *out, sl_err *err);

/* Churn rate, 1 - retention; same failures. */
sl_status cv_churn_rate(double customers_at_start, double customers_at_end, double new_customers,
                        double *out, sl_err *err);

/* The simple CLV of in under the given variant into *out.
 * SL_INVALID_ARGUMENT names the first bad field. */
sl_status cv_simple_clv(const cv_simple_input *in, cv_simple_variant variant, cv_simple_result *out,
                        sl_err *err);

/* "aov" or "literal". */
const char *cv_simple_variant_name(cv_simple_variant v);

#endif
