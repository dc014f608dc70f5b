/*
 * cv_repurchase: when a customer will need a consumable again.
 *
 * A product with a consumption cycle (coffee beans, printer ink, pet food)
 * lasts about cycle_days per unit bought.  A customer's next purchase is due
 * at their last purchase day + cycle x quantity bought then.  Once a
 * customer has bought the product on three or more days, their own pace is
 * used instead: the median of (days to the next purchase / units bought),
 * kept within half to twice the product's cycle so that one stock-up or one
 * gift does not move the reminder by months.
 */
#ifndef CV_REPURCHASE_H
#define CV_REPURCHASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* One purchase of the product by the customer. */
typedef struct cv_repurchase_event {
    int32_t day;     /* days since 1970-01-01 */
    double quantity; /* units, > 0 */
} cv_repurchase_event;

typedef enum cv_cycle_basis {
    CV_CYCLE_PRODUCT,  /* the product's nominal cycle */
    CV_CYCLE_CUSTOMER, /* the customer's own observed pace */
} cv_cycle_basis;

typedef struct cv_repurchase_due {
    int32_t last_day;     /* last purchase day */
    int32_t due_day;      /* when the supply is expected to run out */
    double days_per_unit; /* the cycle used */
    cv_cycle_basis basis;
} cv_repurchase_due;

/* Purchases on at least this many distinct days switch to the customer's
 * own pace. */
#define CV_REPURCHASE_MIN_DAYS 3

/*
 * The due date of the next purchase from events[0..n-1] (any order; the same
 * day may appear twice and counts once, quantities summed) and the product's
 * cycle in days per unit.  Allocates a temporary copy while it runs.
 * SL_INVALID_ARGUMENT for n = 0, a cycle that is not > 0 or a quantity that
 * is not > 0 (naming the event index), SL_RESOURCE_EXHAUSTED when out of
 * memory.
 */
sl_status cv_repurchase_schedule(const cv_repurchase_event *events, size_t n,
                                 double product_cycle_days, cv_repurchase_due *out, sl_err *err);

/* Whether a reminder is due as of as_of: the due day lies within
 * [as_of - grace_days, as_of + horizon_days]. */
bool cv_repurchase_in_window(const cv_repurchase_due *d, int32_t as_of, int32_t horizon_days,
                             int32_t grace_days);

#endif
