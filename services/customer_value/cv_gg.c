/*
 * cv_gg: the Gamma-Gamma spend model -- likelihood, fit and the conditional
 * expected value per transaction (see cv_model.h).
 */
#include "cv_model_int.h"
#include "cv_special.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

static sl_status check_params(const cv_gg_params *m, sl_err *err)
{
    if (!(m->p > 0.0 && m->q > 0.0 && m->gamma > 0.0) || !isfinite(m->p) || !isfinite(m->q) ||
        !isfinite(m->gamma))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "Gamma-Gamma parameters must be finite and > 0, got p = %g, q = %g, "
                          "gamma = %g",
                          m->p, m->q, m->gamma);
    return SL_OK;
}

static bool qualifies(const cv_summary *s)
{
    return s->x > 0 && s->monetary > 0.0;
}

/* ln f(z-bar | x): Gamma(px+q) / (Gamma(px) Gamma(q)) gamma^q z-bar^(px-1)
 * x^(px) / (gamma + x z-bar)^(px+q), with its gradient in g[3] when g is
 * not NULL -- the reference for the grouped evaluation and the naive path. */
static double row_loglik_grad(const cv_gg_params *m, double x, double zb, double *g)
{
    double p = m->p, q = m->q, gm = m->gamma, px = p * x;
    double l = log(gm + x * zb);
    if (g != NULL) {
        g[0] = x * (cv_digamma(px + q) - cv_digamma(px) + log(zb) + log(x) - l);
        g[1] = cv_digamma(px + q) - cv_digamma(q) + log(gm) - l;
        g[2] = q / gm - (px + q) / (gm + x * zb);
    }
    return cv_lgamma(px + q) - cv_lgamma(px) - cv_lgamma(q) + q * log(gm) + (px - 1.0) * log(zb) +
           px * log(x) - (px + q) * l;
}

double cv_gg_loglik_one(const cv_gg_params *m, uint32_t x, double mean_value)
{
    return row_loglik_grad(m, (double)x, mean_value, NULL);
}

sl_status cv_gg_loglik(const cv_gg_params *m, const cv_summary *rows, size_t n, double *ll,
                       size_t *used, sl_err *err)
{
    sl_status st = check_params(m, err);
    if (st != SL_OK)
        return st;
    double sum = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        st = cv_summary_check(&rows[i], err);
        if (st != SL_OK) {
            sl_err_wrap(err, "customer %zu", i);
            return st;
        }
        if (!qualifies(&rows[i]))
            continue;
        sum += cv_gg_loglik_one(m, rows[i].x, rows[i].monetary);
        k++;
    }
    *ll = sum;
    if (used != NULL)
        *used = k;
    return SL_OK;
}

typedef struct grow {
    double x, zb, w;
    double xzb; /* x z-bar */
} grow;

typedef struct gdata {
    size_t n_rows;
    grow *rows;
    bool naive;
    int threads;
    double w_total;
    /* Sums over rows that do not depend on the parameters. */
    double s_wxlz, s_wlz, s_wxlx; /* sum w x ln z-bar, sum w ln z-bar, sum w x ln x */
    size_t n_x;
    double *xs, *wx; /* distinct x and their weights */
    cv_gg_params m;  /* the current point, for the row sums */
} gdata;

static int cmp_grow(const void *pa, const void *pb)
{
    const grow *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->zb != b->zb)
        return a->zb < b->zb ? -1 : 1;
    return 0;
}

/* acc: 0 sum w ln(gamma + x z-bar), 1 sum w x ln(gamma + x z-bar),
 * 2 sum w (px + q) / (gamma + x z-bar); the rest of the likelihood comes
 * from per-x terms and the fixed sums. */
static void rows_sum(const void *ctx, size_t begin, size_t end, double *acc)
{
    const gdata *d = ctx;
    double p = d->m.p, q = d->m.q, gm = d->m.gamma;
    double sl = 0.0, sxl = 0.0, sinv = 0.0;
    for (size_t i = begin; i < end; i++) {
        const grow *rw = &d->rows[i];
        double l = log(gm + rw->xzb);
        sl += rw->w * l;
        sxl += rw->w * rw->x * l;
        sinv += rw->w * (p * rw->x + q) / (gm + rw->xzb);
    }
    acc[0] += sl;
    acc[1] += sxl;
    acc[2] += sinv;
}

static void naive_sum(const void *ctx, size_t begin, size_t end, double *acc)
{
    const gdata *d = ctx;
    for (size_t i = begin; i < end; i++) {
        double g[3];
        acc[0] += row_loglik_grad(&d->m, d->rows[i].x, d->rows[i].zb, g);
        for (int j = 0; j < 3; j++)
            acc[1 + j] += g[j];
    }
}

static double total_loglik(gdata *d, const cv_gg_params *m, double *g)
{
    d->m = *m;
    double acc[4];
    if (d->naive) {
        cv__parallel_sum(naive_sum, d, d->n_rows, 1, 4, acc);
        memcpy(g, acc + 1, 3 * sizeof *g);
        return acc[0];
    }
    double p = m->p, q = m->q, gm = m->gamma, w = d->w_total;
    double lgq = cv_lgamma(q), psq = cv_digamma(q), lgm = log(gm);
    double ll = w * (q * lgm - lgq) + (p * d->s_wxlz - d->s_wlz) + p * d->s_wxlx;
    double gp = d->s_wxlz + d->s_wxlx, gq = w * (lgm - psq), gg = w * q / gm;
    for (size_t i = 0; i < d->n_x; i++) {
        double x = d->xs[i], px = p * x, wx = d->wx[i];
        double ps1 = cv_digamma(px + q);
        ll += wx * (cv_lgamma(px + q) - cv_lgamma(px));
        gp += wx * x * (ps1 - cv_digamma(px));
        gq += wx * ps1;
    }
    cv__parallel_sum(rows_sum, d, d->n_rows, d->threads, 3, acc);
    ll -= p * acc[1] + q * acc[0];
    g[0] = gp - acc[1];
    g[1] = gq - acc[0];
    g[2] = gg - acc[2];
    return ll;
}

static double objective(const double *theta, double *grad, void *ctx)
{
    gdata *d = ctx;
    for (int i = 0; i < 3; i++)
        if (fabs(theta[i]) > CV__LOG_PARAM_MAX)
            return INFINITY;
    cv_gg_params m = {exp(theta[0]), exp(theta[1]), exp(theta[2])};
    double g[3];
    double ll = total_loglik(d, &m, g);
    double pv[3] = {m.p, m.q, m.gamma};
    for (int i = 0; i < 3; i++)
        grad[i] = -pv[i] * g[i] / d->w_total;
    return -ll / d->w_total;
}

/* Copies the qualifying rows, groups identical (x, z-bar) unless naive, and
 * precomputes the parameter-free sums. */
static sl_status gdata_build(gdata *d, const cv_summary *in, size_t n, sl_err *err)
{
    d->rows = sl_malloc((n > 0 ? n : 1) * sizeof *d->rows);
    d->xs = sl_malloc((n > 0 ? n : 1) * sizeof *d->xs);
    d->wx = sl_malloc((n > 0 ? n : 1) * sizeof *d->wx);
    if (d->rows == NULL || d->xs == NULL || d->wx == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory grouping %zu customers", n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (qualifies(&in[i]))
            d->rows[k++] = (grow){(double)in[i].x, in[i].monetary, 1.0, 0.0};
    d->w_total = (double)k;
    if (!d->naive && k > 0) {
        qsort(d->rows, k, sizeof *d->rows, cmp_grow);
        size_t u = 0;
        for (size_t i = 0; i < k; i++) {
            if (u > 0 && cmp_grow(&d->rows[u - 1], &d->rows[i]) == 0)
                d->rows[u - 1].w += 1.0;
            else
                d->rows[u++] = d->rows[i];
        }
        k = u;
    }
    d->n_rows = k;
    d->n_x = 0;
    for (size_t i = 0; i < k; i++) {
        grow *rw = &d->rows[i];
        rw->xzb = rw->x * rw->zb;
        d->s_wxlz += rw->w * rw->x * log(rw->zb);
        d->s_wlz += rw->w * log(rw->zb);
        d->s_wxlx += rw->w * rw->x * log(rw->x);
        if (d->n_x == 0 || d->xs[d->n_x - 1] != rw->x) {
            d->xs[d->n_x] = rw->x;
            d->wx[d->n_x] = 0.0;
            d->n_x++;
        }
        d->wx[d->n_x - 1] += rw->w;
    }
    return SL_OK;
}

sl_status cv_gg_fit(const cv_summary *rows, size_t n, const cv_fit_options *opt, cv_gg_params *out,
                    cv_fit_report *rep, sl_err *err)
{
    double t0 = cv__now();
    cv_fit_report local;
    if (rep == NULL)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    double z_sum = 0.0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        sl_status st = cv_summary_check(&rows[i], err);
        if (st != SL_OK) {
            sl_err_wrap(err, "customer %zu", i);
            return st;
        }
        if (qualifies(&rows[i])) {
            z_sum += rows[i].monetary;
            used++;
        }
    }
    if (used < 2)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                             "Gamma-Gamma needs at least 2 repeat customers with spend, got %zu",
                             used);

    gdata d = {0};
    d.naive = opt != NULL && opt->naive;
    sl_status st = gdata_build(&d, rows, n, err);
    if (st != SL_OK)
        goto done;
    d.threads = cv__threads_for(opt, d.n_rows);

    /* Starts with the population mean p gamma / (q - 1) at the observed mean
     * spend (p = 1, q = 2), then spreads around it. */
    double zm = z_sum / (double)used;
    double starts[3][3] = {
        {0.0, log(2.0), log(zm)},
        {log(5.0), log(4.0), log(zm * 3.0 / 5.0)},
        {log(0.5), log(1.5), log(zm)},
    };
    double theta[3], f;
    st = cv__fit_runs(objective, &d, 3, &starts[0][0], 3, opt, theta, &f, rep, err);
    if (st != SL_OK)
        goto done;
    *out = (cv_gg_params){exp(theta[0]), exp(theta[1]), exp(theta[2])};
    rep->log_likelihood = -f * d.w_total;
    rep->customers = used;
    rep->distinct = d.n_rows;
    rep->threads = d.threads;
done:
    free(d.rows);
    free(d.xs);
    free(d.wx);
    rep->seconds = cv__now() - t0;
    return st;
}

sl_status cv_gg_expected_value(const cv_gg_params *m, uint32_t x, double mean_value, double *out,
                               sl_err *err)
{
    sl_status st = check_params(m, err);
    if (st != SL_OK)
        return st;
    if (!(m->q > 1.0))
        return sl_err_set(err, SL_FAILED_PRECONDITION,
                          "Gamma-Gamma q = %g <= 1: the mean spend per transaction is infinite",
                          m->q);
    double pop = m->p * m->gamma / (m->q - 1.0);
    if (x == 0 || !(mean_value > 0.0) || !isfinite(mean_value)) {
        *out = pop;
        return SL_OK;
    }
    /* (q - 1) / (px + q - 1) of the population mean plus px / (px + q - 1)
     * of the customer's own mean: the more purchases, the more their own
     * history counts. */
    double px = m->p * (double)x, den = px + m->q - 1.0;
    *out = (m->q - 1.0) / den * pop + px / den * mean_value;
    return SL_OK;
}
