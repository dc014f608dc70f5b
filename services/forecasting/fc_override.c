/*
 * fc_override: a planner's figure in place of the model's for one step
 * (see fc_engine.h).
 *
 * A planner who knows of a promotion, a listing or a lost customer sets a
 * day's demand; the model's uncertainty does not go away because someone
 * wrote a number down, so the day keeps a spread.  When the model's point
 * is positive, everything about the day (intervals, its term in sums over
 * steps, its sample paths) is scaled by new / old: a figure three times the
 * model's gets bands three times as wide, as an uplift would.  When the
 * model said zero, scaling is undefined and the day is shifted instead.
 */
#include <math.h>

#include "fc_engine_int.h"

sl_status fc_forecast_override(fc_forecast *f, size_t step, double point, sl_err *err)
{
    if (step >= f->h)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "step %zu is beyond the %zu-step horizon", step,
                          f->h);
    if (!isfinite(point) || point < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "override %g is not a number of units", point);
    double old = f->point[step];
    if (old > 1e-9) {
        double r = point / old;
        f->scale[step] *= r;
        for (size_t l = 0; l < f->n_levels; l++) {
            f->lo[l][step] *= r;
            f->hi[l][step] *= r;
        }
        for (int i = 0; f->simulated && i < f->n_paths; i++)
            f->paths[(size_t)i * f->h + step] *= r;
    } else {
        double s = point - (old > 0 ? old : 0);
        for (size_t l = 0; l < f->n_levels; l++) {
            f->lo[l][step] += s;
            f->hi[l][step] += s;
            if (f->lo[l][step] < 0)
                f->lo[l][step] = 0;
        }
        for (int i = 0; f->simulated && i < f->n_paths; i++) {
            double *x = &f->paths[(size_t)i * f->h + step];
            *x = *x + s > 0 ? *x + s : 0;
        }
    }
    f->point[step] = point;
    return SL_OK;
}
