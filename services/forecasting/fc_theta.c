/*
 * fc_theta: the Theta method (see fc_theta.h).
 */
#include "fc_theta.h"

#include <math.h>
#include <string.h>

#include "fc_ets.h"

/* The seasonally adjusted series into work. */
static void adjust(const fc__model *md, const fc__data *d, double *work)
{
    for (size_t t = 0; t < d->n; t++) {
        double y = d->y[t];
        if (md->idx_mul < 0 || isnan(y))
            work[t] = y;
        else if (md->idx_mul)
            work[t] = y / md->idx[t % (size_t)md->m];
        else
            work[t] = y - md->idx[t % (size_t)md->m];
    }
}

static double reseason(const fc__model *md, size_t t, double v)
{
    if (md->idx_mul < 0)
        return v;
    double s = md->idx[t % (size_t)md->m];
    return md->idx_mul ? v * s : v + s;
}

static fc__model ses_of(const fc__model *md)
{
    fc__model s;
    memset(&s, 0, sizeof s);
    s.kind = FC__K_ETS;
    s.error = FC__C_ADD;
    s.trend = FC__C_NONE;
    s.season = FC__C_NONE;
    s.m = 1;
    s.alpha = md->alpha;
    s.l0 = md->l0;
    s.sigma2 = md->sigma2;
    return s;
}

/* thetaf's drift term j steps ahead after n observations with slope b. */
static double drift(double alpha, double b, size_t n, size_t j)
{
    return b / 2.0 * ((double)(j - 1) + (1.0 - pow(1.0 - alpha, (double)n)) / alpha);
}

int fc__theta_fit(const fc__data *d, const fc__opts *o, double *work, fc__model *out)
{
    memset(out, 0, sizeof *out);
    out->kind = FC__K_THETA;
    out->method = FC_METHOD_THETA;
    out->m = d->m;
    out->idx_mul = -1;
    out->beta = out->gamma = out->phi = NAN;
    out->aicc = out->lik = NAN;
    out->level = NAN;
    if (fc__fill(d->y, d->n, work) != 0)
        return -1;
    if (d->m >= 2 && d->m <= FC_MAX_SEASON && fc__seasonal_test(work, d->n, d->m)) {
        int pos = 1;
        for (size_t t = 0; t < d->n; t++)
            if (!(work[t] > 0))
                pos = 0;
        if (pos && fc__decompose(work, d->n, d->m, 1, out->idx) == 0)
            out->idx_mul = 1;
        else if (fc__decompose(work, d->n, d->m, 0, out->idx) == 0)
            out->idx_mul = 0;
    }
    if (out->idx_mul < 0)
        out->m = 1;
    adjust(out, d, work);
    fc__data ds = {work, d->cens, d->n, 1};
    fc__opts so = *o;
    so.opt_init = 1; /* ses() optimises the initial level */
    fc__model ses;
    if (fc__ets_fit(&ds, FC__C_ADD, FC__C_NONE, FC__C_NONE, &so, NULL, &ses) != 0)
        return -1;
    out->alpha = ses.alpha;
    out->l0 = ses.l0;
    out->sigma2 = ses.sigma2;
    out->nobs = ses.nobs;
    out->np = ses.np + 1; /* the drift */
    return 0;
}

void fc__theta_fitted(const fc__model *md, const fc__data *d, double *work, double *fitted)
{
    adjust(md, d, work);
    fc__data ds = {work, d->cens, d->n, 1};
    fc__model ses = ses_of(md);
    fc__ets_fitted(&ses, &ds, fitted);
    for (size_t t = 0; t < d->n; t++)
        fitted[t] = reseason(md, t, fitted[t]);
}

void fc__theta_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                      size_t h, double *work, double *out)
{
    adjust(md, d, work);
    fc__data ds = {work, d->cens, d->n, 1};
    fc__model ses = ses_of(md);
    fc__ets_points(&ses, &ds, origins, k, h, out);
    for (size_t i = 0; i < k; i++) {
        double a, b;
        fc__line(work, origins[i], &a, &b);
        for (size_t j = 1; j <= h; j++) {
            double v = out[i * h + j - 1] + drift(md->alpha, b, origins[i], j);
            out[i * h + j - 1] = reseason(md, origins[i] + j - 1, v);
        }
    }
}

void fc__theta_predict(const fc__model *md, const fc__data *d, double *work, fc__pred *p)
{
    size_t origin = d->n;
    fc__theta_points(md, d, &origin, 1, p->h, work, p->mean);
    p->sigma2 = md->sigma2;
    p->simulated = 0;
    for (size_t j = 1; j <= p->h; j++) {
        p->psi[j - 1] = j == 1 ? 1.0 : md->alpha;
        p->scale[j - 1] = md->idx_mul == 1 ? md->idx[(d->n + j - 1) % (size_t)md->m] : 1.0;
    }
}
