/*
 * fc_api_override: planner overrides and their tracked accuracy --
 * SetForecastOverride, ListForecastOverrides, RemoveForecastOverride and
 * GetForecastAccuracy.  The work is fc_adjust's (the overrides, the
 * forecasts issued with them, the accuracy of what was issued); here are
 * the replies.
 */
#include <string.h>

#include "fc_adjust.h"
#include "fc_api.h"
#include "fc_app.h"
#include "fc_valid.h"

/* The days of a changed period as both Set and Remove answer them: each
 * day's statistical forecast and the forecast as now issued (if_none for
 * a pair without history). */
static sl_status override_days(sl_arena *a, const fc_adjusted *x, double if_none,
                               Shelfline__V1__OverrideDay ***out, size_t *n_out, sl_err *err)
{
    size_t n = (size_t)(x->to - x->from + 1);
    Shelfline__V1__OverrideDay **v = sl_arena_alloc(a, n * sizeof *v);
    Shelfline__V1__OverrideDay *days = sl_arena_alloc(a, n * sizeof *days);
    if (v == NULL || days == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        shelfline__v1__override_day__init(&days[i]);
        days[i].day = fc_day_dup(a, x->from + (int32_t)i);
        if (days[i].day == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        fc_adjust_day(x, i, if_none, &days[i].statistical, &days[i].overridden);
        v[i] = &days[i];
    }
    *out = v;
    *n_out = n;
    return SL_OK;
}

sl_status fc_api_set_override(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__SetForecastOverrideRequest *r =
        (const Shelfline__V1__SetForecastOverrideRequest *)req;
    Shelfline__V1__ForecastOverride *out = (Shelfline__V1__ForecastOverride *)resp;
    sl_arena *a = sl_call_arena(call);
    int32_t from, to;
    sl_status st = fc_valid_set_override(r, fc_day_today(), &from, &to, err);
    if (st != SL_OK)
        return st;
    bool uplift =
        r->adjustment_case == SHELFLINE__V1__SET_FORECAST_OVERRIDE_REQUEST__ADJUSTMENT_UPLIFT;
    double value = uplift ? r->uplift : r->quantity;
    fc_adjusted x;
    st = fc_adjust_set(FC_APP(call)->db, sl_call_deadline_ms(call), r->sku, r->region, from, to,
                       uplift ? "uplift" : "quantity", value, r->reason, r->author, a, &x, err);
    if (st != SL_OK)
        return st;
    out->sku = r->sku;
    out->region = r->region;
    out->period = r->period;
    out->quantity = uplift ? 0 : r->quantity;
    out->uplift = uplift ? r->uplift : 0;
    out->reason = r->reason;
    out->author = r->author;
    out->changed_days = x.changed;
    st = override_days(a, &x, uplift ? 0 : value, &out->days, &out->n_days, err);
    fc_adjust_free(&x);
    return st;
}

sl_status fc_api_remove_override(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__RemoveForecastOverrideRequest *r =
        (const Shelfline__V1__RemoveForecastOverrideRequest *)req;
    Shelfline__V1__RemoveForecastOverrideResponse *out =
        (Shelfline__V1__RemoveForecastOverrideResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    int32_t from, to;
    sl_status st = fc_valid_remove_override(r, fc_day_today(), &from, &to, err);
    if (st != SL_OK)
        return st;
    fc_adjusted x;
    st = fc_adjust_remove(FC_APP(call)->db, sl_call_deadline_ms(call), r->sku, r->region, from, to,
                          a, &x, err);
    if (st != SL_OK)
        return st;
    out->removed_days = x.changed;
    st = override_days(a, &x, 0, &out->days, &out->n_days, err);
    fc_adjust_free(&x);
    return st;
}

/* ---- ListForecastOverrides ---- */

/* Fills one listed override from a run of stored days. */
static sl_status list_entry(sl_arena *a, const fc_adjust_run *run,
                            Shelfline__V1__ForecastOverride **out, sl_err *err)
{
    const fc_override_entry *first = run->first;
    Shelfline__V1__ForecastOverride *o = sl_arena_alloc(a, sizeof *o);
    Shelfline__V1__DayPeriod *p = sl_arena_alloc(a, sizeof *p);
    char *d1 = fc_day_dup(a, first->day), *d2 = fc_day_dup(a, run->last->day);
    if (o == NULL || p == NULL || d1 == NULL || d2 == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__forecast_override__init(o);
    shelfline__v1__day_period__init(p);
    p->start_day = d1;
    p->end_day = d2;
    o->sku = (char *)first->sku;
    o->region = (char *)first->region;
    o->period = p;
    o->quantity = first->uplift ? 0 : first->value;
    o->uplift = first->uplift ? first->value : 0;
    o->reason = (char *)first->reason;
    o->author = (char *)first->author;
    o->set_at_ms = first->set_at_ms;
    *out = o;
    return SL_OK;
}

sl_status fc_api_list_overrides(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__ListForecastOverridesRequest *r =
        (const Shelfline__V1__ListForecastOverridesRequest *)req;
    Shelfline__V1__ListForecastOverridesResponse *out =
        (Shelfline__V1__ListForecastOverridesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    int32_t from, to;
    sl_status st = fc_valid_list_overrides(r, fc_day_today(), &from, &to, err);
    if (st != SL_OK)
        return st;
    fc_adjust_run *runs;
    size_t n;
    bool truncated;
    if ((st = fc_adjust_list(FC_APP(call)->db, sl_call_deadline_ms(call),
                             r->sku[0] != '\0' ? r->sku : NULL,
                             r->region[0] != '\0' ? r->region : NULL, from, to, a, &runs, &n,
                             &truncated, err)) != SL_OK)
        return st;
    out->overrides = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *out->overrides);
    if (out->overrides == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++)
        if ((st = list_entry(a, &runs[i], &out->overrides[i], err)) != SL_OK)
            return st;
    out->n_overrides = n;
    out->truncated = truncated;
    return SL_OK;
}

/* ---- GetForecastAccuracy ---- */

static void measures(sl_arena *a, const fc_acc_measure *m, Shelfline__V1__AccuracyMeasures **out)
{
    Shelfline__V1__AccuracyMeasures *x = sl_arena_alloc(a, sizeof *x);
    *out = x;
    if (x == NULL)
        return;
    shelfline__v1__accuracy_measures__init(x);
    x->days = (int32_t)m->days;
    x->mae = m->mae;
    x->mase = m->mase;
    x->bias = m->bias;
}

sl_status fc_api_accuracy(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    const Shelfline__V1__GetForecastAccuracyRequest *r =
        (const Shelfline__V1__GetForecastAccuracyRequest *)req;
    Shelfline__V1__ForecastAccuracy *out = (Shelfline__V1__ForecastAccuracy *)resp;
    sl_arena *a = sl_call_arena(call);
    size_t pairs;
    fc_acc_report rep;
    sl_status st = fc_adjust_accuracy(
        FC_APP(call)->db, sl_call_deadline_ms(call), r->sku[0] != '\0' ? r->sku : NULL,
        r->region[0] != '\0' ? r->region : NULL, r->window, a, &pairs, &rep, err);
    if (st != SL_OK)
        return st;
    out->sku = r->sku;
    out->region = r->region;
    out->window = r->window;
    out->pairs = (int32_t)pairs;
    measures(a, &rep.statistical, &out->statistical);
    measures(a, &rep.statistical_ovr, &out->statistical_overridden_days);
    measures(a, &rep.overridden, &out->overridden);
    if (out->statistical == NULL || out->statistical_overridden_days == NULL ||
        out->overridden == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    out->forecast_value_added = rep.fva;
    out->overrides_helped = (int32_t)rep.helped;
    out->overrides_hurt = (int32_t)rep.hurt;
    return SL_OK;
}
