/*
 * cv_repurchase: due dates for consumables (see cv_repurchase.h).
 */
#include "cv_repurchase.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

static int cmp_event(const void *pa, const void *pb)
{
    const cv_repurchase_event *a = pa, *b = pb;
    return (a->day > b->day) - (a->day < b->day);
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

sl_status cv_repurchase_schedule(const cv_repurchase_event *events, size_t n,
                                 double product_cycle_days, cv_repurchase_due *out, sl_err *err)
{
    if (n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "no purchases to schedule from");
    if (!isfinite(product_cycle_days) || !(product_cycle_days > 0.0))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "product cycle must be > 0 days, got %g",
                          product_cycle_days);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(events[i].quantity) || !(events[i].quantity > 0.0))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "purchase %zu: quantity must be > 0, got %g", i, events[i].quantity);

    sl_status st = SL_OK;
    cv_repurchase_event *ev = sl_malloc(n * sizeof *ev);
    double *pace = sl_malloc(n * sizeof *pace);
    if (ev == NULL || pace == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory scheduling %zu purchases", n);
        goto done;
    }
    memcpy(ev, events, n * sizeof *ev);
    qsort(ev, n, sizeof *ev, cmp_event);
    size_t days = 0;
    for (size_t i = 0; i < n; i++) {
        if (days > 0 && ev[days - 1].day == ev[i].day)
            ev[days - 1].quantity += ev[i].quantity;
        else
            ev[days++] = ev[i];
    }

    double cycle = product_cycle_days;
    out->basis = CV_CYCLE_PRODUCT;
    if (days >= CV_REPURCHASE_MIN_DAYS) {
        for (size_t i = 0; i + 1 < days; i++)
            pace[i] = (double)(ev[i + 1].day - ev[i].day) / ev[i].quantity;
        size_t m = days - 1;
        qsort(pace, m, sizeof *pace, cmp_double);
        double med = m % 2 ? pace[m / 2] : 0.5 * (pace[m / 2 - 1] + pace[m / 2]);
        cycle = fmin(fmax(med, 0.5 * product_cycle_days), 2.0 * product_cycle_days);
        out->basis = CV_CYCLE_CUSTOMER;
    }
    const cv_repurchase_event *last = &ev[days - 1];
    double ahead = cycle * last->quantity;
    /* A due date decades out means "not a consumable for this customer";
     * clamp rather than overflow the day counter. */
    if (ahead > 36500.0)
        ahead = 36500.0;
    out->last_day = last->day;
    out->due_day = last->day + (int32_t)lround(ahead);
    out->days_per_unit = cycle;
done:
    free(ev);
    free(pace);
    return st;
}

bool cv_repurchase_in_window(const cv_repurchase_due *d, int32_t as_of, int32_t horizon_days,
                             int32_t grace_days)
{
    return (int64_t)d->due_day >= (int64_t)as_of - grace_days &&
           (int64_t)d->due_day <= (int64_t)as_of + horizon_days;
}
