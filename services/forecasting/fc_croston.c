/*
 * fc_croston: Croston and TSB (see fc_croston.h).
 */
#include "fc_croston.h"

#include <math.h>
#include <string.h>

typedef struct ic_state {
    double z; /* demand size level */
    double x; /* Croston: interval level; TSB: probability of demand */
    double q; /* Croston: observed days since the last demand */
} ic_state;

static double forecast_of(const fc__model *md, const ic_state *s)
{
    if (md->kind == FC__K_CROSTON)
        return s->x > 0 ? s->z / s->x : 0.0;
    return s->x * s->z;
}

static void update(const fc__model *md, ic_state *s, double y)
{
    if (md->kind == FC__K_CROSTON) {
        s->q += 1.0;
        if (y > 0) {
            s->z += md->alpha * (y - s->z);
            s->x += md->alpha * (s->q - s->x);
            s->q = 0;
        }
    } else if (y > 0) {
        s->x += md->beta * (1.0 - s->x);
        s->z += md->alpha * (y - s->z);
    } else {
        s->x -= md->beta * s->x;
    }
}

static void start_state(const fc__model *md, ic_state *s)
{
    s->z = md->l0;
    s->x = md->b0;
    s->q = 0;
}

/* Filters [from, to) from state s; adds squared one-step errors to *sse
 * (Croston: only from its first demand on, where its forecast starts). */
static void run(const fc__model *md, const fc__data *d, size_t from, size_t to, ic_state *s,
                double *fitted, double *sse, size_t first)
{
    for (size_t t = from; t < to; t++) {
        double f = forecast_of(md, s);
        if (fitted != NULL)
            fitted[t] = f;
        double y = d->y[t];
        if (isnan(y))
            continue;
        if (sse != NULL && t > first)
            *sse += (y - f) * (y - f);
        update(md, s, y);
    }
}

int fc__croston_fit(fc__kind kind, const fc__data *d, double alpha, double beta, fc__model *out)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    out->method = kind == FC__K_CROSTON ? FC_METHOD_CROSTON : FC_METHOD_TSB;
    out->m = 1;
    out->gamma = out->phi = NAN;
    out->lik = out->aicc = NAN;
    out->level = NAN;
    size_t nobs = 0, npos = 0, first = d->n;
    double first_size = 0, sum_pos = 0;
    for (size_t t = 0; t < d->n; t++) {
        double y = d->y[t];
        if (isnan(y))
            continue;
        nobs++;
        if (y > 0) {
            if (first == d->n) {
                first = t;
                first_size = y;
                out->b0 = (double)nobs; /* Croston: the first interval */
            }
            npos++;
            sum_pos += y;
        }
    }
    if (npos == 0)
        return -1;
    out->nobs = nobs;
    out->l0 = kind == FC__K_CROSTON ? first_size : sum_pos / (double)npos;
    if (kind == FC__K_TSB)
        out->b0 = (double)npos / (double)nobs;
    else
        out->beta = NAN;
    static const double alphas[] = {0.05, 0.1, 0.15, 0.2, 0.3};
    static const double betas[] = {0.01, 0.02, 0.05, 0.1, 0.2};
    size_t na = alpha > 0 ? 1 : sizeof alphas / sizeof alphas[0];
    size_t nb = kind == FC__K_CROSTON || beta > 0 ? 1 : sizeof betas / sizeof betas[0];
    double best = INFINITY;
    fc__model cand = *out;
    for (size_t ia = 0; ia < na; ia++) {
        for (size_t ib = 0; ib < nb; ib++) {
            cand.alpha = alpha > 0 ? alpha : alphas[ia];
            if (kind == FC__K_TSB)
                cand.beta = beta > 0 ? beta : betas[ib];
            ic_state s;
            start_state(&cand, &s);
            double sse = 0;
            run(&cand, d, 0, d->n, &s, NULL, &sse, first);
            if (sse < best || ia + ib == 0) {
                best = sse;
                *out = cand;
            }
        }
    }
    out->np = kind == FC__K_CROSTON ? 3 : 4;
    size_t dof = nobs > 1 ? nobs - 1 : 1;
    out->sigma2 = best / (double)dof;
    return 0;
}

void fc__croston_fitted(const fc__model *md, const fc__data *d, double *fitted)
{
    ic_state s;
    start_state(md, &s);
    run(md, d, 0, d->n, &s, fitted, NULL, 0);
}

void fc__croston_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                        size_t h, double *out)
{
    ic_state s;
    start_state(md, &s);
    size_t t = 0;
    for (size_t i = 0; i < k; i++) {
        run(md, d, t, origins[i], &s, NULL, NULL, 0);
        t = origins[i];
        double f = forecast_of(md, &s);
        for (size_t j = 0; j < h; j++)
            out[i * h + j] = f;
    }
}

void fc__croston_predict(const fc__model *md, const fc__data *d, const fc__opts *o, double *work,
                         fc__pred *p)
{
    ic_state s;
    start_state(md, &s);
    run(md, d, 0, d->n, &s, NULL, NULL, 0);
    double f = forecast_of(md, &s);
    p->sigma2 = md->sigma2;
    p->simulated = 0;
    for (size_t j = 0; j < p->h; j++) {
        p->mean[j] = f;
        p->psi[j] = j == 0 ? 1.0 : md->alpha;
        p->scale[j] = 1.0;
    }
    size_t ns = 0;
    double mean_size = 0;
    for (size_t t = 0; t < d->n; t++) {
        if (d->y[t] > 0) {
            work[ns++] = d->y[t];
            mean_size += d->y[t];
        }
    }
    if (ns == 0 || p->paths == NULL || p->n_paths <= 0)
        return;
    mean_size /= (double)ns;
    for (int i = 0; i < p->n_paths; i++) {
        ic_state ps = s;
        for (size_t j = 0; j < p->h; j++) {
            double prob = md->kind == FC__K_CROSTON ? (ps.x > 0 ? 1.0 / ps.x : 1.0) : ps.x;
            double y = 0;
            if (fc__rng_unif(o->rng) < prob) {
                size_t pick = (size_t)(fc__rng_unif(o->rng) * (double)ns);
                if (pick >= ns)
                    pick = ns - 1;
                y = ps.z * work[pick] / mean_size;
            }
            p->paths[(size_t)i * p->h + j] = y;
            update(md, &ps, y);
        }
    }
    p->simulated = 1;
}
