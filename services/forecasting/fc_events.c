/*
 * fc_events: uplift estimation and quota caps (see fc_events.h).
 */
#include "fc_events.h"

#include <math.h>

size_t fc__events_future_ids(const int32_t *future, size_t h, int32_t *ids)
{
    size_t n = 0;
    for (size_t j = 0; j < h; j++) {
        if (future[j] == 0)
            continue;
        size_t i = 0;
        while (i < n && ids[i] != future[j])
            i++;
        if (i == n)
            ids[n++] = future[j];
    }
    return n;
}

void fc__events_estimate(const double *actual, const double *baseline, const int32_t *events,
                         size_t n, const int32_t *ids, size_t n_ids, fc_uplift *ups)
{
    for (size_t i = 0; i < n_ids; i++) {
        double sa = 0, sb = 0;
        size_t days = 0;
        for (size_t t = 0; t < n; t++) {
            if (events == NULL || events[t] != ids[i])
                continue;
            if (isnan(actual[t]) || !isfinite(baseline[t]) || !(baseline[t] > 0))
                continue;
            sa += actual[t];
            sb += baseline[t];
            days++;
        }
        ups[i].event = ids[i];
        /* A ratio of sums rather than a mean of daily ratios: a day with a
         * tiny baseline cannot blow the estimate up. */
        ups[i].factor = days > 0 && sb > 0 && sa >= 0 ? sa / sb : 1.0;
        ups[i].past_days = days;
        ups[i].quota_left = NAN;
    }
}

void fc__events_apply(const double *base, const int32_t *future, size_t h, fc_uplift *ups,
                      size_t n_ups, const fc_quota *quotas, size_t n_quotas, double *mult)
{
    for (size_t i = 0; i < n_ups; i++) {
        for (size_t q = 0; q < n_quotas; q++) {
            if (quotas[q].event == ups[i].event) {
                ups[i].quota_left = quotas[q].units;
                break;
            }
        }
    }
    for (size_t j = 0; j < h; j++) {
        mult[j] = 1.0;
        if (future == NULL || future[j] == 0)
            continue;
        fc_uplift *u = NULL;
        for (size_t i = 0; i < n_ups; i++)
            if (ups[i].event == future[j])
                u = &ups[i];
        if (u == NULL)
            continue;
        double b = base[j] > 0 ? base[j] : 0.0;
        double up = b * u->factor;
        if (isnan(u->quota_left) || up <= u->quota_left) {
            mult[j] = u->factor;
            if (!isnan(u->quota_left))
                u->quota_left -= up;
            continue;
        }
        /* The quota runs out today: the share of the day until then sells
         * at the uplifted rate, the rest at the baseline. */
        double frac = u->quota_left / up;
        double v = u->quota_left + (1.0 - frac) * b;
        u->quota_left = 0;
        mult[j] = b > 0 ? v / b : 1.0;
    }
}
