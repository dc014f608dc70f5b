/*
 * fc_intraday: refreshing today's forecast from partial hourly sales (see
 * fc_engine.h).
 *
 * Today's demand is a Poisson stream with daily rate L; the forecast gives L
 * a gamma prior with the forecast's mean and the part of its variance beyond
 * Poisson noise (floored, so that a confident forecast still moves when a
 * promotion sells at five times the plan).  By hour k the expected share F
 * of the day has gone by and S units sold: the posterior is gamma(a + S,
 * b + F), the rest of the day is negative binomial with mean (1 - F) E[L],
 * and today's total is S plus that.
 */
#include <math.h>
#include <stdlib.h>

#include "fc_engine_int.h"

sl_status fc_intraday_profile(const double *hourly, size_t n_days, size_t hours, double *profile,
                              sl_err *err)
{
    if (hours < 1)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "hours must be at least 1");
    double total = 0;
    for (size_t i = 0; i < hours; i++) {
        profile[i] = 0;
        for (size_t d = 0; d < n_days; d++) {
            double v = hourly[d * hours + i];
            if (!isnan(v) && v > 0)
                profile[i] += v;
        }
        total += profile[i];
    }
    for (size_t i = 0; i < hours; i++)
        profile[i] = total > 0 ? profile[i] / total : 1.0 / (double)hours;
    return SL_OK;
}

/* Standard deviation of step 0 of f as forecast. */
static double day_sd(const fc_forecast *f)
{
    if (!f->simulated)
        return sqrt(f->sigma2) * fabs(f->scale[0] * f->psi[0]);
    double m = 0, s = 0;
    for (int i = 0; i < f->n_paths; i++)
        m += f->paths[(size_t)i * f->h];
    m /= f->n_paths;
    for (int i = 0; i < f->n_paths; i++) {
        double d = f->paths[(size_t)i * f->h] - m;
        s += d * d;
    }
    return f->n_paths > 1 ? sqrt(s / (f->n_paths - 1)) : 0.0;
}

sl_status fc_forecast_intraday(fc_forecast *f, const double *profile, size_t hours,
                               const double *sales, size_t hours_done, size_t carry_steps,
                               double *ratio, sl_err *err)
{
    if (hours < 1)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "hours must be at least 1");
    if (hours_done > hours)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "hours_done %zu is beyond the %zu-hour day",
                          hours_done, hours);
    if (carry_steps >= f->h)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "carry_steps %zu reaches beyond the %zu-step horizon", carry_steps, f->h);
    double ptot = 0, F = 0, S = 0;
    for (size_t i = 0; i < hours; i++) {
        if (!(profile[i] >= 0) || !isfinite(profile[i]))
            return sl_err_set(err, SL_INVALID_ARGUMENT, "profile hour %zu is not a share", i);
        ptot += profile[i];
        if (i < hours_done)
            F += profile[i];
    }
    if (!(ptot > 0))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "profile sums to zero");
    F /= ptot;
    for (size_t i = 0; i < hours_done; i++) {
        if (!(sales[i] >= 0) || !isfinite(sales[i]))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "sales of hour %zu must be a non-negative number", i);
        S += sales[i];
    }
    double mu0 = f->point[0] > 1e-9 ? f->point[0] : 1e-9;
    double sd0 = day_sd(f);
    /* Prior variance of the rate: the forecast's beyond Poisson, at least
     * a 10% coefficient of variation and a quarter of a unit squared. */
    double v0 = sd0 * sd0 - mu0;
    double vfloor = 0.01 * mu0 * mu0 > 0.25 ? 0.01 * mu0 * mu0 : 0.25;
    if (v0 < vfloor)
        v0 = vfloor;
    double a = mu0 * mu0 / v0, b = mu0 / v0;
    double A = a + S, B = b + F;
    double rate = A / B;
    double rest = (1.0 - F) * rate;
    double rest_sd = sqrt(rest + (1.0 - F) * (1.0 - F) * A / (B * B));
    double total = S + rest;
    double r = f->point[0] > 1e-9 ? rate / f->point[0] : 1.0;

    for (size_t l = 0; l < f->n_levels; l++) {
        double z = fc__qnorm(0.5 + f->levels[l] / 200.0);
        double lo = total - z * rest_sd;
        f->lo[l][0] = lo > S ? lo : S;
        f->hi[l][0] = total + z * rest_sd;
    }
    /* Sums over steps see the refreshed day too: its spread in the
     * innovations form, or its paths moved and rescaled. */
    if (f->simulated) {
        double k = sd0 > 0 ? rest_sd / sd0 : 0.0;
        for (int i = 0; i < f->n_paths; i++) {
            double *x = &f->paths[(size_t)i * f->h];
            double v = total + (*x - f->point[0]) * k;
            *x = v > S ? v : S;
        }
    } else if (f->sigma2 > 0 && f->psi[0] != 0) {
        f->scale[0] = rest_sd / (sqrt(f->sigma2) * fabs(f->psi[0]));
    }
    f->point[0] = total;
    for (size_t j = 1; j <= carry_steps; j++) {
        f->point[j] *= r;
        f->scale[j] *= r;
        for (size_t l = 0; l < f->n_levels; l++) {
            f->lo[l][j] *= r;
            f->hi[l][j] *= r;
        }
        for (int i = 0; f->simulated && i < f->n_paths; i++)
            f->paths[(size_t)i * f->h + j] *= r;
    }
    if (ratio != NULL)
        *ratio = r;
    return SL_OK;
}
