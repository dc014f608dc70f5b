/*
 * fc_events: event and promotion uplift.  Internal to the engine.
 *
 * Event days are left out of the model's fit (a Black Friday spike is not
 * demand the model should chase), so the fitted model's one-step prediction
 * on a past event day is that day's baseline.  An event's uplift is the
 * ratio of actual to baseline summed over its past days (same event id:
 * the same event last year, or the same promotion type), 1 without
 * evidence.  On future event days the baseline is multiplied by it; a
 * quota then caps the units sold under the promotion: once the uplifted
 * forecast has used the quota up, demand goes back to the baseline (on the
 * day it runs out, pro rata).
 */
#ifndef FC_EVENTS_H
#define FC_EVENTS_H

#include "fc_engine_int.h"

/* Distinct non-zero ids of future (h values) into ids (capacity h); returns
 * how many. */
size_t fc__events_future_ids(const int32_t *future, size_t h, int32_t *ids);

/* Estimates the uplift of each of the n_ids events: actual holds the past
 * values (NAN where unknown), baseline the model's one-step predictions,
 * events the past event ids (n values each).  Fills ups[i] for ids[i]
 * (quota_left NAN). */
void fc__events_estimate(const double *actual, const double *baseline, const int32_t *events,
                         size_t n, const int32_t *ids, size_t n_ids, fc_uplift *ups);

/* Multipliers of the baseline forecast base (h steps) for the future events
 * with their uplifts and quotas: mult[j] = forecast / baseline (1 off event
 * days).  Sets ups[i].quota_left for events with a quota. */
void fc__events_apply(const double *base, const int32_t *future, size_t h, fc_uplift *ups,
                      size_t n_ups, const fc_quota *quotas, size_t n_quotas, double *mult);

#endif
