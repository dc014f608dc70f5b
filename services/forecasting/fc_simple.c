/*
 * fc_simple: mean, naive and seasonal naive forecasts (see fc_simple.h).
 */
#include "fc_simple.h"

#include <math.h>
#include <string.h>

/* The last observed value before time end at the season position of time t
 * (t - m, t - 2m, ...; lag 1 for the naive method); NAN when there is none. */
static double seasonal_value(const double *y, size_t end, size_t t, size_t lag)
{
    size_t s = t;
    for (;;) {
        if (s < lag)
            return NAN;
        s -= lag;
        if (s < end && !isnan(y[s]))
            return y[s];
    }
}

/* The last observed value before end (NAN when none). */
static double last_value(const double *y, size_t end)
{
    while (end > 0) {
        end--;
        if (!isnan(y[end]))
            return y[end];
    }
    return NAN;
}

static size_t lag_of(const fc__model *md)
{
    return md->kind == FC__K_SNAIVE ? (size_t)md->m : 1;
}

int fc__simple_fit(fc__kind kind, const fc__data *d, fc__model *out)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->m = kind == FC__K_SNAIVE ? d->m : 1;
    out->alpha = out->beta = out->gamma = out->phi = NAN;
    out->lik = out->aicc = NAN;
    double sum = 0;
    size_t k = 0;
    for (size_t t = 0; t < d->n; t++) {
        if (!isnan(d->y[t])) {
            sum += d->y[t];
            k++;
        }
    }
    if (k == 0)
        return -1;
    out->nobs = k;
    if (kind == FC__K_MEAN) {
        out->method = FC_METHOD_MEAN;
        out->level = sum / (double)k;
        double ss = 0;
        for (size_t t = 0; t < d->n; t++)
            if (!isnan(d->y[t]))
                ss += (d->y[t] - out->level) * (d->y[t] - out->level);
        out->sigma2 = k > 1 ? ss / (double)(k - 1) : 0.0;
        out->np = 1;
        return 0;
    }
    if (kind == FC__K_SNAIVE) {
        if (d->m < 2)
            return -1;
        out->method = FC_METHOD_SNAIVE;
    } else {
        out->method = FC_METHOD_NAIVE;
    }
    size_t lag = lag_of(out);
    /* Residual variance from pairs one lag apart that are both observed,
     * as forecast's naive and snaive (no mean correction). */
    double ss = 0;
    size_t np = 0;
    for (size_t t = lag; t < d->n; t++) {
        if (isnan(d->y[t]) || isnan(d->y[t - lag]))
            continue;
        double e = d->y[t] - d->y[t - lag];
        ss += e * e;
        np++;
    }
    if (kind == FC__K_SNAIVE && isnan(seasonal_value(d->y, d->n, d->n, lag)))
        return -1;
    out->sigma2 = np > 0 ? ss / (double)np : 0.0;
    out->level = last_value(d->y, d->n);
    out->np = 0;
    return 0;
}

void fc__simple_fitted(const fc__model *md, const fc__data *d, double *fitted)
{
    size_t lag = lag_of(md);
    for (size_t t = 0; t < d->n; t++) {
        if (md->kind == FC__K_MEAN)
            fitted[t] = md->level;
        else if (md->kind == FC__K_NAIVE)
            fitted[t] = last_value(d->y, t);
        else
            fitted[t] = seasonal_value(d->y, t, t, lag);
    }
}

static double point_from(const fc__model *md, const fc__data *d, size_t origin, size_t j)
{
    if (md->kind == FC__K_MEAN)
        return md->level;
    double last = last_value(d->y, origin);
    if (md->kind == FC__K_NAIVE)
        return last;
    double v = seasonal_value(d->y, origin, origin + j - 1, lag_of(md));
    return isnan(v) ? last : v;
}

void fc__simple_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                       size_t h, double *out)
{
    for (size_t i = 0; i < k; i++)
        for (size_t j = 1; j <= h; j++)
            out[i * h + j - 1] = point_from(md, d, origins[i], j);
}

void fc__simple_predict(const fc__model *md, const fc__data *d, fc__pred *p)
{
    size_t lag = lag_of(md);
    p->sigma2 = md->sigma2;
    p->simulated = 0;
    for (size_t j = 1; j <= p->h; j++) {
        p->mean[j - 1] = point_from(md, d, d->n, j);
        /* Innovations form: the mean has independent errors (with meanf's
         * parameter-uncertainty factor sqrt(1 + 1/n)), the naive methods
         * carry every shock forward at their lag. */
        if (md->kind == FC__K_MEAN) {
            p->psi[j - 1] = j == 1 ? 1.0 : 0.0;
            p->scale[j - 1] = sqrt(1.0 + 1.0 / (double)md->nobs);
        } else {
            p->psi[j - 1] = (j - 1) % lag == 0 ? 1.0 : 0.0;
            p->scale[j - 1] = 1.0;
        }
    }
}
