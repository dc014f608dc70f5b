/*
 * fc_ets: ETS models -- filtering, maximum-likelihood fitting, selection by
 * AICc, forecasts and intervals (see fc_ets.h).
 *
 * The recursions are forecast::ets's (Hyndman et al. 2008, ch. 2): with
 * q = l + phi b the level-and-trend prediction and s the season's state,
 *   p = y - s | y / s | y                 (deseasonalised observation)
 *   l' = q + alpha (p - q),  b' = phi b + beta (p - q)
 *   s' = s + gamma ((y - q | y / q) - s)
 * the same for both error types; the error type changes only the
 * likelihood: n log(sum e^2) for additive error, n log(sum (e/yhat)^2) +
 * 2 sum log yhat for multiplicative error (-2 log L up to a constant).
 */
#include "fc_ets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc_optim.h"

#define PAR_LO 1e-4
#define PAR_HI 0.9999
#define PHI_LO 0.8
#define PHI_HI 0.98

typedef struct ets_state {
    double l, b;
    double s[FC_MAX_SEASON];
} ets_state;

typedef struct ets_acc {
    double sse, sumlog;
    size_t nobs;
} ets_acc;

/* One pass over t in [from, to).  Written once and instantiated for every
 * form with constant tr/se/mulerr, so the branches fold away: this loop is
 * where the engine spends its time. */
static inline __attribute__((always_inline)) int pass_t(const fc__model *md, const double *y,
                                                        const uint8_t *cens, size_t from, size_t to,
                                                        ets_state *st, ets_acc *acc, double *fitted,
                                                        const fc__comp tr, const fc__comp se,
                                                        const int mulerr)
{
    const double al = md->alpha, be = md->beta, ga = md->gamma;
    const double ph = tr == FC__C_DAMPED ? md->phi : 1.0;
    const size_t m = (size_t)md->m;
    double l = st->l, b = st->b;
    double sse = acc->sse, sumlog = acc->sumlog;
    /* sum log yhat as the log of a running product, renormalised before it
     * can overflow: one log() per hundred steps instead of one per step. */
    double prod = 1.0;
    size_t nobs = acc->nobs;
    size_t pos = from % m;
    for (size_t t = from; t < to; t++) {
        double q = tr == FC__C_NONE ? l : l + ph * b;
        double si = se == FC__C_NONE ? 0.0 : st->s[pos];
        double yhat = se == FC__C_ADD ? q + si : se == FC__C_MUL ? q * si : q;
        if (se == FC__C_MUL && !(q > 1e-10 && si > 1e-10))
            return -1;
        if (mulerr && !(yhat > 1e-10))
            return -1;
        if (fitted != NULL)
            fitted[t] = yhat;
        double yt = y[t], yy;
        if (isnan(yt) || (cens != NULL && cens[t] && yt < yhat)) {
            yy = yhat;
        } else {
            yy = yt;
            double e = yt - yhat;
            if (mulerr) {
                e /= yhat;
                prod *= yhat;
                if (prod > 1e100 || prod < 1e-100) {
                    sumlog += log(prod);
                    prod = 1.0;
                }
            }
            sse += e * e;
            nobs++;
        }
        double p = se == FC__C_ADD ? yy - si : se == FC__C_MUL ? yy / si : yy;
        double dl = p - q;
        l = q + al * dl;
        if (tr != FC__C_NONE)
            b = ph * b + be * dl;
        if (se == FC__C_ADD)
            st->s[pos] = si + ga * (yy - q - si);
        else if (se == FC__C_MUL)
            st->s[pos] = si + ga * (yy / q - si);
        if (++pos == m)
            pos = 0;
    }
    st->l = l;
    st->b = b;
    acc->sse = sse;
    acc->sumlog = mulerr ? sumlog + log(prod) : sumlog;
    acc->nobs = nobs;
    return 0;
}

#define PASS_SE(TR, SE)                                                                            \
    (mul ? pass_t(md, d->y, d->cens, from, to, st, acc, fitted, TR, SE, 1)                         \
         : pass_t(md, d->y, d->cens, from, to, st, acc, fitted, TR, SE, 0))
#define PASS_TR(TR)                                                                                \
    (md->season == FC__C_NONE  ? PASS_SE(TR, FC__C_NONE)                                           \
     : md->season == FC__C_ADD ? PASS_SE(TR, FC__C_ADD)                                            \
                               : PASS_SE(TR, FC__C_MUL))

static int pass(const fc__model *md, const fc__data *d, size_t from, size_t to, ets_state *st,
                ets_acc *acc, double *fitted)
{
    int mul = md->error == FC__C_MUL;
    if (md->trend == FC__C_NONE)
        return PASS_TR(FC__C_NONE);
    if (md->trend == FC__C_ADD)
        return PASS_TR(FC__C_ADD);
    return PASS_TR(FC__C_DAMPED);
}

static void state_init(const fc__model *md, ets_state *st)
{
    st->l = md->l0;
    st->b = md->trend == FC__C_NONE ? 0.0 : md->b0;
    if (md->season != FC__C_NONE)
        memcpy(st->s, md->s0, (size_t)md->m * sizeof st->s[0]);
}

/* Sum of phi^1 .. phi^j (the trend's weight j steps ahead). */
static double trend_weight(const fc__model *md, size_t j)
{
    if (md->trend == FC__C_NONE)
        return 0.0;
    if (md->trend == FC__C_ADD)
        return (double)j;
    double w = 0, p = 1;
    for (size_t i = 0; i < j; i++) {
        p *= md->phi;
        w += p;
    }
    return w;
}

/* Point forecast j >= 1 steps after the state st at time t0. */
static double point_at(const fc__model *md, const ets_state *st, size_t t0, size_t j, double tw)
{
    double q = st->l + tw * st->b;
    if (md->season == FC__C_NONE)
        return q;
    double s = st->s[(t0 + j - 1) % (size_t)md->m];
    return md->season == FC__C_ADD ? q + s : q * s;
}

/* ---- initial states ---------------------------------------------------- */

/* Observations whose decomposition gives the seasonal states when they are
 * not optimised: twenty weeks of days. */
#define FIXED_INIT_OBS 140

/* Heuristic initial states in the manner of forecast::ets's initstate:
 * seasonal indices from a classical decomposition of the first seasons,
 * then level (and trend) from a regression on the first max(10, 2m)
 * seasonally adjusted values.  forecast::ets decomposes three seasons and
 * then optimises the states, and so do we on short series.  Where the
 * states stay fixed (long series) the decomposition takes FIXED_INIT_OBS
 * observations instead: with a small gamma the noise of three weeks of
 * daily sales would stay in the weekly states for months (measured: 1%
 * MASE on the synthetic daily benchmark, neutral on the real series).
 * Returns -1 when the form cannot start (no observation early enough, a
 * multiplicative decomposition of non-positive values). */
static int init_states(const fc__data *d, int optimised, fc__model *md)
{
    double buf[FIXED_INIT_OBS > 3 * FC_MAX_SEASON ? FIXED_INIT_OBS : 3 * FC_MAX_SEASON];
    size_t m = (size_t)md->m;
    size_t k = 2 * m > 10 ? 2 * m : 10;
    if (md->season != FC__C_NONE)
        k = optimised || 3 * m >= FIXED_INIT_OBS ? 3 * m : FIXED_INIT_OBS;
    if (k > d->n)
        k = d->n;
    if (fc__fill(d->y, k, buf) != 0)
        return -1;
    if (md->season != FC__C_NONE) {
        int mul = md->season == FC__C_MUL;
        if (fc__decompose(buf, k, md->m, mul, md->s0) != 0)
            return -1;
        if (mul) {
            double sum = 0;
            for (size_t j = 0; j < m; j++) {
                if (md->s0[j] < 1e-2)
                    md->s0[j] = 1e-2;
                sum += md->s0[j];
            }
            for (size_t j = 0; j < m; j++)
                md->s0[j] *= (double)m / sum;
        }
        for (size_t t = 0; t < k; t++)
            buf[t] = mul ? buf[t] / md->s0[t % m] : buf[t] - md->s0[t % m];
    }
    size_t maxn = 2 * m > 10 ? 2 * m : 10;
    if (maxn > k)
        maxn = k;
    double a, b;
    fc__line(buf, maxn, &a, &b);
    if (md->trend == FC__C_NONE) {
        md->l0 = a + b * (double)(maxn - 1) / 2.0; /* the mean */
        md->b0 = 0;
    } else {
        md->l0 = a - b; /* the regression line one step before t = 0 */
        md->b0 = b;
    }
    int needs_pos = md->error == FC__C_MUL || md->season == FC__C_MUL;
    if (needs_pos && !(md->l0 + md->b0 > 0 && md->l0 > 0)) {
        md->l0 = a + b * (double)(maxn - 1) / 2.0;
        md->b0 = 0;
        if (!(md->l0 > 0))
            return -1;
    }
    return 0;
}

/* ---- fitting ----------------------------------------------------------- */

typedef struct fit_ctx {
    const fc__data *d;
    fc__model md; /* the form and the initial states; parameters set per evaluation */
    int free_level, free_trend, free_season;
    double sc, sc_b, sc_s;
    double s_init[FC_MAX_SEASON];
} fit_ctx;

static double logistic(double u)
{
    return 1.0 / (1.0 + exp(-u));
}

static double logit(double f)
{
    if (f < 1e-6)
        f = 1e-6;
    if (f > 1 - 1e-6)
        f = 1 - 1e-6;
    return log(f / (1 - f));
}

static int n_smoothing(const fc__model *md)
{
    return 1 + (md->trend != FC__C_NONE) + (md->season != FC__C_NONE) + (md->trend == FC__C_DAMPED);
}

/* Parameters as forecast::ets counts them: smoothing parameters, initial
 * level, trend and m - 1 seasonal states, and the variance. */
static int count_params(const fc__model *md)
{
    return n_smoothing(md) + 1 + (md->trend != FC__C_NONE) +
           (md->season != FC__C_NONE ? md->m - 1 : 0) + 1;
}

/* Maps the optimiser's unconstrained u onto md.  Returns -1 when the free
 * seasonal states leave the admissible region. */
static int decode(const fit_ctx *c, const double *u, fc__model *md)
{
    int i = 0;
    md->alpha = PAR_LO + (PAR_HI - PAR_LO) * logistic(u[i++]);
    if (md->trend != FC__C_NONE)
        md->beta = PAR_LO + (md->alpha - PAR_LO) * logistic(u[i++]);
    if (md->season != FC__C_NONE)
        md->gamma = PAR_LO + (1.0 - md->alpha - PAR_LO) * logistic(u[i++]);
    if (md->trend == FC__C_DAMPED)
        md->phi = PHI_LO + (PHI_HI - PHI_LO) * logistic(u[i++]);
    if (c->free_level)
        md->l0 = c->sc * u[i++];
    if (c->free_trend)
        md->b0 = c->sc_b * u[i++];
    if (c->free_season) {
        int m = md->m;
        double sum = 0;
        for (int j = 0; j < m - 1; j++) {
            md->s0[j] = c->s_init[j] + c->sc_s * u[i++];
            sum += md->s0[j];
        }
        if (md->season == FC__C_MUL) {
            md->s0[m - 1] = (double)m - sum;
            for (int j = 0; j < m; j++)
                if (!(md->s0[j] > 1e-3))
                    return -1;
        } else {
            md->s0[m - 1] = -sum;
        }
    }
    return 0;
}

static double lik_of(const ets_acc *acc)
{
    if (acc->nobs == 0)
        return INFINITY;
    /* A perfect fit (a straight line for Holt) has SSE 0: floor it so the
     * likelihood stays finite and such fits simply win. */
    double sse = acc->sse > 1e-300 ? acc->sse : 1e-300;
    return (double)acc->nobs * log(sse) + 2.0 * acc->sumlog;
}

static double objective(const double *u, void *vctx)
{
    fit_ctx *c = vctx;
    fc__model md = c->md;
    if (decode(c, u, &md) != 0)
        return INFINITY;
    ets_state st;
    state_init(&md, &st);
    ets_acc acc = {0, 0, 0};
    if (pass(&md, c->d, 0, c->d->n, &st, &acc, NULL) != 0)
        return INFINITY;
    double v = lik_of(&acc);
    return isfinite(v) ? v : INFINITY;
}

static int all_positive(const fc__data *d)
{
    size_t k = 0;
    for (size_t t = 0; t < d->n; t++) {
        if (isnan(d->y[t]))
            continue;
        if (!(d->y[t] > 0))
            return 0;
        k++;
    }
    return k > 0;
}

static size_t count_obs(const fc__data *d)
{
    size_t k = 0;
    for (size_t t = 0; t < d->n; t++)
        k += !isnan(d->y[t]);
    return k;
}

int fc__ets_fit(const fc__data *d, fc__comp error, fc__comp trend, fc__comp season,
                const fc__opts *o, const fc__model *start, fc__model *out)
{
    fit_ctx c;
    memset(&c, 0, sizeof c);
    c.d = d;
    fc__model *md = &c.md;
    md->kind = FC__K_ETS;
    md->method = FC_METHOD_ETS;
    md->error = error;
    md->trend = trend;
    md->season = season;
    md->m = season != FC__C_NONE ? d->m : 1;
    md->phi = 1.0;
    md->level = NAN;
    if (season != FC__C_NONE && (d->m < 2 || d->m > FC_MAX_SEASON))
        return -1;
    if ((error == FC__C_MUL || season == FC__C_MUL) && !all_positive(d))
        return -1;
    size_t nobs = count_obs(d);
    int np = count_params(md);
    /* forecast::ets's rule: more than four observations beyond the
     * parameters; seasonal forms also need two full seasons to start. */
    if (nobs <= (size_t)(np - 1) + 4)
        return -1;
    if (season != FC__C_NONE && d->n < 2 * (size_t)d->m)
        return -1;
    if (init_states(d, o->opt_init >= 2, md) != 0)
        return -1;

    int opt_init = o->opt_init;
    c.free_level = opt_init >= 1;
    c.free_trend = opt_init >= 1 && trend != FC__C_NONE;
    c.free_season = opt_init >= 2 && season != FC__C_NONE;
    memcpy(c.s_init, md->s0, sizeof c.s_init);
    double sc = fabs(md->l0);
    if (!(sc > 1e-8))
        sc = 1.0;
    c.sc = sc;
    c.sc_b = 0.1 * sc;
    c.sc_s = season == FC__C_MUL ? 1.0 : sc;

    double u[FC__OPT_MAX_DIM], step[FC__OPT_MAX_DIM];
    int dim = 0;
    double mm = season != FC__C_NONE ? (double)md->m : 1.0;
    double a0 = PAR_LO + 0.2 * (PAR_HI - PAR_LO) / mm;
    double b0f = 0.1, g0f = 0.05, p0f = 0.99;
    if (start != NULL) {
        a0 = start->alpha;
        if (trend != FC__C_NONE)
            b0f = (start->beta - PAR_LO) / (start->alpha - PAR_LO);
        if (season != FC__C_NONE)
            g0f = (start->gamma - PAR_LO) / (1.0 - start->alpha - PAR_LO);
        if (trend == FC__C_DAMPED)
            p0f = (start->phi - PHI_LO) / (PHI_HI - PHI_LO);
    }
    u[dim] = logit((a0 - PAR_LO) / (PAR_HI - PAR_LO));
    step[dim++] = 1.0;
    if (trend != FC__C_NONE) {
        u[dim] = logit(b0f);
        step[dim++] = 1.0;
    }
    if (season != FC__C_NONE) {
        u[dim] = logit(g0f);
        step[dim++] = 1.0;
    }
    if (trend == FC__C_DAMPED) {
        u[dim] = logit(p0f);
        step[dim++] = 1.0;
    }
    if (c.free_level) {
        u[dim] = (start ? start->l0 : md->l0) / c.sc;
        step[dim++] = 0.05;
    }
    if (c.free_trend) {
        u[dim] = (start ? start->b0 : md->b0) / c.sc_b;
        step[dim++] = 0.05;
    }
    if (c.free_season) {
        for (int j = 0; j < md->m - 1; j++) {
            u[dim] = start ? (start->s0[j] - c.s_init[j]) / c.sc_s : 0.0;
            step[dim++] = 0.02;
        }
    }
    int max_eval = (o->evals_per_dim > 0 ? o->evals_per_dim : 60) * (dim + 1);
    if (start != NULL)
        max_eval /= 2; /* a refit near a known optimum converges quickly */
    int evals;
    double best = fc__nelder_mead(objective, &c, u, step, dim, max_eval, o->tol, &evals);
    if (start == NULL && trend != FC__C_NONE) {
        /* Trend likelihoods are often bimodal in beta (a trend that is
         * fixed versus one that follows the data): a second search from
         * the middle of the region, keeping the better optimum. */
        double u2[FC__OPT_MAX_DIM];
        memcpy(u2, u, sizeof u2);
        for (int i = 0; i < n_smoothing(md); i++)
            u2[i] = i == 0 ? u[0] : 0.0;
        double b2 = fc__nelder_mead(objective, &c, u2, step, dim, max_eval, o->tol, &evals);
        if (b2 < best) {
            best = b2;
            memcpy(u, u2, sizeof u2);
        }
    }
    if (!isfinite(best))
        return -1;

    *out = c.md;
    if (decode(&c, u, out) != 0)
        return -1;
    ets_state st;
    state_init(out, &st);
    ets_acc acc = {0, 0, 0};
    if (pass(out, d, 0, d->n, &st, &acc, NULL) != 0)
        return -1;
    out->lik = lik_of(&acc);
    out->np = np;
    out->nobs = acc.nobs;
    double aic = out->lik + 2.0 * np;
    double den = (double)acc.nobs - np - 1;
    out->aicc = den > 0 ? aic + 2.0 * np * (np + 1) / den : INFINITY;
    double dof = (double)acc.nobs - (np - 1);
    out->sigma2 = acc.sse / (dof >= 1 ? dof : 1.0);
    if (!isfinite(out->lik) || !isfinite(out->sigma2))
        return -1;
    return 0;
}

/* Series up to this length get the whole search in fc__ets_auto. */
#define ETS_FULL_SEARCH 300

int fc__ets_auto(const fc__data *d, const fc__opts *o, int seasonal, fc__model *out)
{
    static const fc__comp seasons[] = {FC__C_NONE, FC__C_ADD, FC__C_MUL};
    static const fc__comp errors[] = {FC__C_ADD, FC__C_MUL};
    static const fc__comp trends[] = {FC__C_NONE, FC__C_ADD, FC__C_DAMPED};
    int found = 0;
    int pos = all_positive(d);
    /* Short series (at most ETS_FULL_SEARCH values: months, quarters) get
     * forecast::ets's whole search, every error, trend and season (15
     * forms); on the benchmark's quarterly series the stepwise search
     * below missed the trend R's search finds (docs/BENCHMARKS.md).  Long
     * ones -- days, the volume case -- a stepwise search: every error and
     * season without trend, then the additive and damped trends on the
     * best of those, 7 fits.  The fewest-parameter form fails only when
     * every form would. */
    size_t n_tr = d->n <= ETS_FULL_SEARCH ? 3 : 1;
    for (size_t ie = 0; ie < 2; ie++) {
        if (errors[ie] == FC__C_MUL && !pos)
            continue;
        for (size_t it = 0; it < n_tr; it++) {
            for (size_t is = 0; is < 3; is++) {
                if (seasons[is] != FC__C_NONE && !seasonal)
                    continue;
                if (seasons[is] == FC__C_MUL && (!pos || errors[ie] == FC__C_ADD))
                    continue;
                fc__model cand;
                if (fc__ets_fit(d, errors[ie], trends[it], seasons[is], o, NULL, &cand) != 0)
                    continue;
                if (!found || cand.aicc < out->aicc) {
                    *out = cand;
                    found = 1;
                }
            }
        }
    }
    if (!found)
        return -1;
    if (n_tr > 1)
        return 0;
    fc__model base = *out;
    for (size_t it = 1; it < 3; it++) {
        fc__model cand;
        if (fc__ets_fit(d, base.error, trends[it], base.season, o, NULL, &cand) == 0 &&
            cand.aicc < out->aicc)
            *out = cand;
    }
    return 0;
}

void fc__ets_fitted(const fc__model *md, const fc__data *d, double *fitted)
{
    ets_state st;
    state_init(md, &st);
    ets_acc acc = {0, 0, 0};
    if (pass(md, d, 0, d->n, &st, &acc, fitted) != 0) {
        /* A multiplicative model whose fitted parameters break down on this
         * data (only possible on data it was not fitted to): no prediction. */
        for (size_t t = 0; t < d->n; t++)
            fitted[t] = NAN;
    }
}

void fc__ets_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                    size_t h, double *out)
{
    ets_state st;
    state_init(md, &st);
    ets_acc acc = {0, 0, 0};
    size_t t = 0;
    int ok = 1;
    for (size_t i = 0; i < k; i++) {
        if (ok && pass(md, d, t, origins[i], &st, &acc, NULL) != 0)
            ok = 0;
        t = origins[i];
        for (size_t j = 1; j <= h; j++)
            out[i * h + j - 1] = ok ? point_at(md, &st, t, j, trend_weight(md, j)) : NAN;
    }
}

/* One simulated step from state st at time t: returns the draw and moves the
 * state on with it. */
static double sim_step(const fc__model *md, ets_state *st, size_t t, double eps)
{
    double ph = md->trend == FC__C_DAMPED ? md->phi : 1.0;
    double q = md->trend == FC__C_NONE ? st->l : st->l + ph * st->b;
    size_t pos = t % (size_t)md->m;
    double si = md->season == FC__C_NONE ? 0.0 : st->s[pos];
    double yhat = md->season == FC__C_ADD ? q + si : md->season == FC__C_MUL ? q * si : q;
    double y;
    if (md->error == FC__C_MUL) {
        /* A relative error below -100% would make the multiplicative states
         * negative; the draw is kept just above it instead. */
        double f = 1.0 + eps;
        y = yhat * (f > 1e-3 ? f : 1e-3);
    } else {
        y = yhat + eps;
    }
    double p = md->season == FC__C_ADD ? y - si : md->season == FC__C_MUL ? y / si : y;
    double dl = p - q;
    st->l = q + md->alpha * dl;
    if (md->trend != FC__C_NONE)
        st->b = ph * st->b + md->beta * dl;
    if (md->season == FC__C_ADD)
        st->s[pos] = si + md->gamma * (y - q - si);
    else if (md->season == FC__C_MUL)
        st->s[pos] = q > 1e-10 ? si + md->gamma * (y / q - si) : si;
    if (md->season == FC__C_MUL && !(st->l > 1e-10))
        st->l = 1e-10;
    return y;
}

void fc__ets_predict(const fc__model *md, const fc__data *d, const fc__opts *o, fc__pred *p)
{
    ets_state st;
    state_init(md, &st);
    ets_acc acc = {0, 0, 0};
    int ok = pass(md, d, 0, d->n, &st, &acc, NULL) == 0;
    size_t n = d->n;
    p->sigma2 = md->sigma2;
    p->simulated = 0;
    for (size_t j = 1; j <= p->h; j++) {
        double tw = trend_weight(md, j);
        p->mean[j - 1] = ok ? point_at(md, &st, n, j, tw) : NAN;
        /* Class 1 (Hyndman et al. 2008, table 6.1): c_j = alpha + beta
         * phi_j + gamma [j mod m = 0]. */
        double c = 1.0;
        if (j > 1) {
            size_t k = j - 1;
            c = md->alpha + md->beta * trend_weight(md, k);
            if (md->season != FC__C_NONE && k % (size_t)md->m == 0)
                c += md->gamma;
        }
        p->psi[j - 1] = c;
        p->scale[j - 1] = md->error == FC__C_MUL ? (ok ? p->mean[j - 1] : 0.0) : 1.0;
    }
    int class1 = md->error == FC__C_ADD && md->season != FC__C_MUL;
    if (class1 || !ok || p->paths == NULL || p->n_paths <= 0)
        return;
    double sd = sqrt(md->sigma2);
    for (int i = 0; i < p->n_paths; i++) {
        ets_state s = st;
        for (size_t j = 0; j < p->h; j++)
            p->paths[(size_t)i * p->h + j] = sim_step(md, &s, n + j, sd * fc__rng_norm(o->rng));
    }
    p->simulated = 1;
}

void fc__ets_name(const fc__model *md, char *buf, size_t cap)
{
    static const char *names[] = {"N", "A", "Ad", "M"};
    snprintf(buf, cap, "ETS(%s,%s,%s)", names[md->error], names[md->trend], names[md->season]);
}
