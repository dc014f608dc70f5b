/*
 * fc_select: model dispatch, the rolling-origin backtest and the choice of
 * a model per series (see fc_select.h).
 *
 * Rolling origin: candidates are fitted once on the data before the first
 * origin; their forecasts from each origin come from filtering on with the
 * fitted parameters (no refit per origin), which keeps a backtest at about
 * the price of one extra fit per candidate.  Origins are half a horizon
 * apart.  The winner is refitted on the whole series, starting from its
 * backtest parameters.
 */
#include "fc_select.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "fc_arima.h"
#include "fc_croston.h"
#include "fc_ets.h"
#include "fc_simple.h"
#include "fc_theta.h"

/* Fewer observations than this: naive, whatever was asked. */
#define MIN_OBS 4
/* Syntetos & Boylan's cut-off: an average of more than 1.32 days per
 * demand makes a series intermittent. */
#define ADI_INTERMITTENT 1.32
#define MAX_CANDIDATES 3
/* The combination's interval scale (interval_scale): prior weight in
 * errors, and bounds.  Never below 1: a backtest of three windows that
 * happened to be calm is weaker evidence than the models' own spread,
 * and a band too narrow (stock-outs) costs more than one too wide; on
 * the benchmark a floor of 0.8 left the 95% bands covering 85% of the
 * holdouts, 1 covers 88% (docs/BENCHMARKS.md, run 4).  A prior of 5
 * errors rather than 20 lets a backtest of 24-42 errors speak (run 5:
 * the 95% bands of quarterly series 88.9% -> 90.3%, decided on one half
 * of the series and confirmed on the other). */
#define ISCALE_PRIOR 5.0
#define ISCALE_MIN 1.0
#define ISCALE_MAX 2.0
/* The tail the interval scale also matches: the share of backtest errors
 * inside +-z sd, z the normal quantile of this central level. */
#define ISCALE_TAIL_LEVEL 0.95
/* The auto method uses ETS alone when its backtest error is below this
 * share of the median's (choose_combination). */
#define PICK_MARGIN 0.9
/* The member that may stand alone: ETS (comb_members[0]). */
#define PICK_MEMBER 0

void fc__model_fitted(const fc__model *md, const fc__data *d, double *work, double *fitted)
{
    switch (md->kind) {
    case FC__K_MEAN:
    case FC__K_NAIVE:
    case FC__K_SNAIVE:
        fc__simple_fitted(md, d, fitted);
        return;
    case FC__K_ETS:
        fc__ets_fitted(md, d, fitted);
        return;
    case FC__K_THETA:
        fc__theta_fitted(md, d, work, fitted);
        return;
    case FC__K_CROSTON:
    case FC__K_TSB:
        fc__croston_fitted(md, d, fitted);
        return;
    case FC__K_ARIMA:
        fc__arima_fitted(md, d, fitted);
        return;
    }
}

void fc__model_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                      size_t h, double *work, double *out)
{
    switch (md->kind) {
    case FC__K_MEAN:
    case FC__K_NAIVE:
    case FC__K_SNAIVE:
        fc__simple_points(md, d, origins, k, h, out);
        return;
    case FC__K_ETS:
        fc__ets_points(md, d, origins, k, h, out);
        return;
    case FC__K_THETA:
        fc__theta_points(md, d, origins, k, h, work, out);
        return;
    case FC__K_CROSTON:
    case FC__K_TSB:
        fc__croston_points(md, d, origins, k, h, out);
        return;
    case FC__K_ARIMA:
        fc__arima_points(md, d, origins, k, h, out);
        return;
    }
}

void fc__model_predict(const fc__model *md, const fc__data *d, const fc__opts *o, double *work,
                       fc__pred *p)
{
    switch (md->kind) {
    case FC__K_MEAN:
    case FC__K_NAIVE:
    case FC__K_SNAIVE:
        fc__simple_predict(md, d, p);
        return;
    case FC__K_ETS:
        fc__ets_predict(md, d, o, p);
        return;
    case FC__K_THETA:
        fc__theta_predict(md, d, work, p);
        return;
    case FC__K_CROSTON:
    case FC__K_TSB:
        fc__croston_predict(md, d, o, work, p);
        return;
    case FC__K_ARIMA:
        fc__arima_predict(md, d, p);
        return;
    }
}

void fc__model_name(const fc__model *md, char *buf, size_t cap)
{
    switch (md->kind) {
    case FC__K_MEAN:
        snprintf(buf, cap, "Mean");
        return;
    case FC__K_NAIVE:
        snprintf(buf, cap, "Naive");
        return;
    case FC__K_SNAIVE:
        snprintf(buf, cap, "Seasonal naive (period %d)", md->m);
        return;
    case FC__K_ETS:
        fc__ets_name(md, buf, cap);
        return;
    case FC__K_THETA:
        snprintf(buf, cap, "Theta%s",
                 md->idx_mul == 1   ? " (multiplicative season)"
                 : md->idx_mul == 0 ? " (additive season)"
                                    : "");
        return;
    case FC__K_CROSTON:
        snprintf(buf, cap, "Croston");
        return;
    case FC__K_TSB:
        snprintf(buf, cap, "TSB");
        return;
    case FC__K_ARIMA:
        fc__arima_name(md, buf, cap);
        return;
    }
    snprintf(buf, cap, "?");
}

double fc__mase_scale(const double *y, size_t n, int m)
{
    size_t lag = m >= 2 && n > (size_t)m ? (size_t)m : 1;
    double s = 0;
    size_t k = 0;
    for (size_t t = lag; t < n; t++) {
        if (isnan(y[t]) || isnan(y[t - lag]))
            continue;
        s += fabs(y[t] - y[t - lag]);
        k++;
    }
    return k ? s / (double)k : 0.0;
}

/* ---- fitting a method, with its fallbacks ------------------------------ */

static int fit_ets_form(const fc__data *d, const fc__opts *o, fc__comp tr, fc_method method,
                        fc__model *out)
{
    if (fc__ets_fit(d, FC__C_ADD, tr, FC__C_NONE, o, NULL, out) != 0)
        return -1;
    out->method = method;
    return 0;
}

static void fallback(fc__model *out, const fc__data *d, fc__kind kind, char *reason, size_t cap,
                     const char *why)
{
    fc__simple_fit(kind, d, out);
    snprintf(reason, cap, "%s", why);
}

/* Fits method (not AUTO) to d; when the data do not support it, the next
 * simpler method, with the cause in reason (left empty otherwise).  Needs d
 * to have at least one observation. */
static void fit_as(fc_method method, const fc__data *d, const fc__opts *o, double *work,
                   fc__model *out, char *reason, size_t cap)
{
    reason[0] = '\0';
    int seasonal = d->m >= 2 && d->m <= FC_MAX_SEASON;
    switch (method) {
    case FC_METHOD_AUTO:
    case FC_METHOD_COMBO:
    case FC_METHOD_ETS:
        if (fc__ets_auto(d, o, seasonal, out) == 0)
            return;
        if (fit_ets_form(d, o, FC__C_NONE, FC_METHOD_SES, out) == 0) {
            snprintf(reason, cap, "too few observations for ETS model selection: ses");
            return;
        }
        fallback(out, d, FC__K_NAIVE, reason, cap, "too few observations for ETS: naive");
        return;
    case FC_METHOD_DAMPED:
        if (fit_ets_form(d, o, FC__C_DAMPED, FC_METHOD_DAMPED, out) == 0)
            return;
        if (fit_ets_form(d, o, FC__C_NONE, FC_METHOD_SES, out) == 0) {
            snprintf(reason, cap, "too few observations for a damped trend: ses");
            return;
        }
        fallback(out, d, FC__K_NAIVE, reason, cap,
                 "too few observations for a damped trend: naive");
        return;
    case FC_METHOD_HOLT:
        if (fit_ets_form(d, o, FC__C_ADD, FC_METHOD_HOLT, out) == 0)
            return;
        if (fit_ets_form(d, o, FC__C_NONE, FC_METHOD_SES, out) == 0) {
            snprintf(reason, cap, "too few observations for a trend: ses");
            return;
        }
        fallback(out, d, FC__K_NAIVE, reason, cap, "too few observations for Holt: naive");
        return;
    case FC_METHOD_SES:
        if (fit_ets_form(d, o, FC__C_NONE, FC_METHOD_SES, out) == 0)
            return;
        fallback(out, d, FC__K_NAIVE, reason, cap, "too few observations for ses: naive");
        return;
    case FC_METHOD_ARIMA:
        if (fc__arima_auto(d, o, seasonal, FC__ARIMA_EXACT, out) == 0)
            return;
        fallback(out, d, FC__K_NAIVE, reason, cap, "no ARIMA model could be fitted: naive");
        return;
    case FC_METHOD_THETA:
        if (fc__theta_fit(d, o, work, out) == 0)
            return;
        fallback(out, d, FC__K_NAIVE, reason, cap, "too few observations for theta: naive");
        return;
    case FC_METHOD_SNAIVE:
        if (d->m < 2) {
            fallback(out, d, FC__K_NAIVE, reason, cap, "no seasonal period (period 1): naive");
            return;
        }
        if (fc__simple_fit(FC__K_SNAIVE, d, out) == 0)
            return;
        fallback(out, d, FC__K_NAIVE, reason, cap,
                 "no observation one season before the end: naive");
        return;
    case FC_METHOD_CROSTON:
    case FC_METHOD_TSB:
        if (fc__croston_fit(method == FC_METHOD_CROSTON ? FC__K_CROSTON : FC__K_TSB, d, -1, -1,
                            out) == 0)
            return;
        fallback(out, d, FC__K_MEAN, reason, cap, "no positive demand: mean");
        return;
    case FC_METHOD_MEAN:
        fc__simple_fit(FC__K_MEAN, d, out);
        return;
    case FC_METHOD_NAIVE:
        fc__simple_fit(FC__K_NAIVE, d, out);
        return;
    }
}

/* ---- the backtest ------------------------------------------------------ */

typedef struct bt_plan {
    size_t n0; /* training data: [0, n0) */
    size_t k;  /* origins */
    size_t h;  /* steps judged per origin */
    size_t origins[16];
} bt_plan;

/* Fits a backtest inside the series, shrinking it (one origin, then a
 * shorter horizon) when the series is short.  Returns -1 when even that
 * leaves too little data to train on. */
static int plan_backtest(const fc__data *d, const fc_config *cfg, bt_plan *pl)
{
    size_t n = d->n;
    size_t h = (size_t)(cfg->backtest_horizon > 0 ? cfg->backtest_horizon : cfg->horizon);
    size_t k = (size_t)cfg->backtest_origins;
    if (k == 0)
        return -1;
    if (k > sizeof pl->origins / sizeof pl->origins[0])
        k = sizeof pl->origins / sizeof pl->origins[0];
    size_t m = d->m >= 2 ? (size_t)d->m : 1;
    size_t min_train = m >= 2 && m <= FC_MAX_SEASON ? 2 * m + 6 : m >= 2 ? m + 6 : 10;
    for (;;) {
        size_t step = h >= 2 ? h / 2 : 1;
        size_t w = h + (k - 1) * step;
        if (n >= w + min_train) {
            pl->n0 = n - w;
            pl->k = k;
            pl->h = h;
            for (size_t i = 0; i < k; i++)
                pl->origins[i] = pl->n0 + i * step;
            return 0;
        }
        if (k > 1) {
            k = 1;
            continue;
        }
        if (n > min_train && h > n - min_train) {
            h = n - min_train;
            continue;
        }
        return -1;
    }
}

static double judged(const fc__judge *jd, size_t t, double v)
{
    if (jd->ls != NULL)
        v = jd->ls_mul ? v * jd->ls[t] : v + jd->ls[t];
    return v;
}

/* Backtest errors of md (fitted on the plan's training data) on d. */
typedef struct bt_err {
    double mae;   /* mean absolute error over every origin and step */
    double scale; /* the MASE scale of the training data (0: flat) */
    double smape;
} bt_err;

/* Scores backtest forecasts pts (k * h values, as fc__model_points writes
 * them) against d. */
static void score(const double *pts, const fc__data *d, const fc__judge *jd, const bt_plan *pl,
                  bt_err *out)
{
    /* The MASE scale on the data's own scale, from the training data. */
    double sc = 0;
    size_t lag = d->m >= 2 && pl->n0 > (size_t)d->m ? (size_t)d->m : 1, nsc = 0;
    for (size_t t = lag; t < pl->n0; t++) {
        if (isnan(d->y[t]) || isnan(d->y[t - lag]))
            continue;
        sc += fabs(judged(jd, t, d->y[t]) - judged(jd, t - lag, d->y[t - lag]));
        nsc++;
    }
    out->scale = nsc ? sc / (double)nsc : 0.0;
    out->mae = out->smape = NAN;
    double sae = 0, ssm = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < pl->k; i++) {
        for (size_t j = 0; j < pl->h; j++) {
            size_t t = pl->origins[i] + j;
            if (t >= d->n || isnan(d->y[t]))
                continue;
            double f = pts[i * pl->h + j];
            if (isnan(f)) {
                /* a model that broke down away from its training data */
                out->mae = out->smape = INFINITY;
                return;
            }
            if (jd->nonneg && f < 0)
                f = 0;
            f = judged(jd, t, f);
            double a = judged(jd, t, d->y[t]);
            double e = fabs(a - f);
            sae += e;
            double den = fabs(a) + fabs(f);
            ssm += den > 0 ? 200.0 * e / den : 0.0;
            cnt++;
        }
    }
    if (cnt > 0) {
        out->mae = sae / (double)cnt;
        out->smape = ssm / (double)cnt;
    }
}

static void backtest(const fc__model *md, const fc__data *d, const fc__judge *jd, const bt_plan *pl,
                     double *work, double *pts, bt_err *out)
{
    fc__model_points(md, d, pl->origins, pl->k, pl->h, work, pts);
    score(pts, d, jd, pl, out);
}

/* The MASE, NAN when the training data were flat (no scale). */
static double mase_of(const bt_err *e)
{
    return e->scale > 0 ? e->mae / e->scale : NAN;
}

/* An error to compare backtests of the same training data by: the mean
 * absolute error (every candidate shares the MASE scale), infinite when
 * none could be computed. */
static double scaled_err(const bt_err *e)
{
    return isnan(e->mae) ? INFINITY : e->mae;
}

size_t fc__select_work(size_t n, const fc_config *cfg)
{
    size_t h = (size_t)(cfg->backtest_horizon > 0 ? cfg->backtest_horizon : cfg->horizon);
    /* the data's scratch, then backtest points: 16 origins x h for each
     * combination member and the combination */
    return 2 * n + (FC__MAX_COMB + 1) * 16 * h + 1;
}

/* ---- combinations ------------------------------------------------------ */

/* The members of a combination, in the order they are reported. */
static const fc_method comb_members[FC__MAX_COMB] = {FC_METHOD_ETS, FC_METHOD_ARIMA,
                                                     FC_METHOD_THETA};

/* The combination of the members' values v[i] (one per member): their
 * median, over the members that did not break down in the backtest
 * (weight > 0); the mean of two when one did.  The median rather than a
 * mean: one member far off (an ARIMA that over-differences, a Theta drift
 * on a turning series) moves a mean by a third of its error and a median
 * not at all, and on the benchmark the median beat both the plain and the
 * backtest-weighted mean in every group. */
static double combine(const fc__choice *ch, const double *v)
{
    if (ch->pick >= 0)
        return v[ch->pick];
    double u[FC__MAX_COMB];
    size_t k = 0;
    for (int i = 0; i < ch->n_comb; i++)
        if (ch->weight[i] > 0)
            u[k++] = v[i];
    if (k == 0)
        return NAN;
    fc__sort(u, k);
    return k % 2 ? u[k / 2] : 0.5 * (u[k / 2 - 1] + u[k / 2]);
}

/* The spread of the members' points v around the combination's point
 * center: the mean square of their differences over the members that did
 * not break down, 0 for a picked member.  Added to the combination's
 * variance (the members' median spread is the spread *within* a model;
 * how far the models disagree is uncertainty too, as in model averaging's
 * total variance). */
static double between_var(const fc__choice *ch, const double *v, double center)
{
    if (ch->pick >= 0)
        return 0.0;
    double s = 0;
    int k = 0;
    for (int i = 0; i < ch->n_comb; i++)
        if (ch->weight[i] > 0) {
            s += (v[i] - center) * (v[i] - center);
            k++;
        }
    return k > 0 ? s / k : 0.0;
}

/* Fits a member to the whole series.  ARIMA is auto.arima's choice on
 * short series (at most 150 values); on longer ones its search by CSS
 * without the exact refit, which costs seconds on a long seasonal series
 * for nearly the same forecast; on long series of period 7 or less
 * (days, trading days: the volume case, thousands of SKUs x regions per
 * run) its quick search, which keeps a forecast within milliseconds. */
static void fit_member(fc_method method, const fc__data *d, const fc__opts *o, double *work,
                       fc__model *out, char *why, size_t cap)
{
    int seasonal = d->m >= 2 && d->m <= FC_MAX_SEASON;
    unsigned flags = d->n <= 150 ? FC__ARIMA_EXACT : d->m <= 7 ? FC__ARIMA_QUICK : 0u;
    if (method == FC_METHOD_ARIMA && fc__arima_auto(d, o, seasonal, flags, out) == 0) {
        why[0] = '\0';
        return;
    }
    fit_as(method, d, o, work, out, why, cap);
}

/* The same form refitted to the backtest's training data. */
static void refit_member(const fc__model *full, fc_method method, const fc__data *pre,
                         const fc__opts *o, double *work, fc__model *out)
{
    char why[160];
    if (full->kind == FC__K_ETS &&
        fc__ets_fit(pre, full->error, full->trend, full->season, o, full, out) == 0) {
        out->method = full->method;
        return;
    }
    /* as fit_member fitted it */
    unsigned flags = full->ar.exact ? FC__ARIMA_EXACT : pre->m <= 7 ? FC__ARIMA_QUICK : 0u;
    if (full->kind == FC__K_ARIMA && fc__arima_fit(pre, &full->ar, flags, o, out) == 0)
        return;
    /* the form does not fit the shorter data: its own choice there */
    fit_member(method, pre, o, work, out, why, sizeof why);
}

/* The combination's interval scale (see fc__choice.iscale): the root mean
 * squared backtest error (cpts against d, on the models' scale) over the
 * spread the members fitted to the training data pre state for the same
 * steps, combined as the intervals are (median of the standard
 * deviations).  Errors with heavier tails than the normal's (a level
 * shift in one window) leave that ratio near 1 while the outer band
 * misses: the scale is also at least tail_scale's, the ISCALE_TAIL_LEVEL
 * quantile of the standardised errors over the normal's.  A few origins
 * give noisy ratios: each is shrunk towards 1 as if ISCALE_PRIOR errors
 * had matched the stated spread, and the scale kept within [ISCALE_MIN,
 * ISCALE_MAX]. */
/* A squared ratio r2 estimated from n errors, as a ratio of spreads
 * shrunk towards 1 as if ISCALE_PRIOR more errors had matched. */
static double shrunk_ratio(double r2, size_t n)
{
    return sqrt(((double)n * r2 + ISCALE_PRIOR) / ((double)n + ISCALE_PRIOR));
}

/* The scale that puts ISCALE_TAIL_LEVEL of the standardised absolute
 * errors z (nz of them; sorted here) inside the normal band of that
 * level, shrunk as the variance ratio is; 1 with fewer than 5 errors. */
double fc__tail_scale(double *z, size_t nz)
{
    if (nz < 5)
        return 1.0;
    fc__sort(z, nz);
    double q =
        fc__quantile_sorted(z, nz, ISCALE_TAIL_LEVEL) / fc__qnorm(0.5 + ISCALE_TAIL_LEVEL / 2);
    return shrunk_ratio(q * q, nz);
}

static double interval_scale(const fc__choice *ch, const fc__model *pms, const fc__data *d,
                             const fc__data *pre, const bt_plan *pl, const double *cpts,
                             const fc__opts *o, double *work)
{
    double sd[64] = {0}, msd[FC__MAX_COMB][64] = {{0}}, mmean[FC__MAX_COMB][64] = {{0}};
    size_t h = pl->h < 64 ? pl->h : 64;
    double psi[64], scale[64];
    for (int i = 0; i < ch->n_comb; i++) {
        if (ch->weight[i] == 0)
            continue;
        fc__pred q = {h, mmean[i], psi, scale, 0, NULL, 0, 0};
        fc__model_predict(&pms[i], pre, o, work, &q);
        for (size_t j = 0; j < h; j++) {
            msd[i][j] = fc__pred_sd(&q, j);
            if (!isfinite(msd[i][j]))
                return 1.0;
        }
    }
    for (size_t j = 0; j < h; j++) {
        double v[FC__MAX_COMB], m[FC__MAX_COMB];
        for (int i = 0; i < ch->n_comb; i++) {
            v[i] = msd[i][j];
            m[i] = mmean[i][j];
        }
        double w = combine(ch, v);
        sd[j] = sqrt(w * w + between_var(ch, m, combine(ch, m)));
    }
    double se = 0, ss = 0;
    double z[16 * 64]; /* standardised absolute errors */
    size_t n = 0, nz = 0;
    for (size_t i = 0; i < pl->k; i++)
        for (size_t j = 0; j < h; j++) {
            size_t t = pl->origins[i] + j;
            if (t >= d->n || isnan(d->y[t]) || !isfinite(cpts[i * pl->h + j]))
                continue;
            double e = d->y[t] - cpts[i * pl->h + j];
            se += e * e;
            ss += sd[j] * sd[j];
            n++;
            if (sd[j] > 0)
                z[nz++] = fabs(e) / sd[j];
        }
    if (n == 0 || !(ss > 0))
        return 1.0;
    double k = shrunk_ratio(se / ss, n);
    double kt = fc__tail_scale(z, nz);
    if (kt > k)
        k = kt;
    return k < ISCALE_MIN ? ISCALE_MIN : k > ISCALE_MAX ? ISCALE_MAX : k;
}

/* Chooses the combination of ETS, ARIMA and Theta for d: each member is
 * fitted to the whole series and its form refitted to the training data of
 * the backtest plan pl (NULL: no backtest); members that broke down in the
 * backtest are left out, the others ranked by the inverse of their
 * backtest error, and the combination's own backtest error is recorded.
 *
 * With may_pick (the auto method), ETS is used alone when its backtest
 * error was below PICK_MARGIN times the median's: selection with
 * shrinkage towards the combination.  The median is the safe default --
 * rarely far off when the members' errors are alike -- but where ETS
 * clearly beats it, the median, pulled towards two members that miss
 * what ETS follows (a level shift, a changing season), gives that away.
 * Only ETS may stand alone, the most accurate member on its own: with
 * any member eligible (run 4, the best one when it also won from every
 * origin), the picks of ARIMA and Theta were the unstable ones (an
 * ARIMA that lost on UKNonDurables, the quick-search ARIMA on
 * business-day indices), and one candidate instead of three makes the
 * backtest's noise (three origins, errors correlated across steps)
 * choose less often by luck.  Decided on one half of the benchmark's
 * series and confirmed on the other (docs/BENCHMARKS.md, run 5: mean
 * MASE 1.134 -> 1.104 and 1.160 -> 1.153). */
static void choose_combination(const fc__data *d, const fc__judge *jd, const bt_plan *pl,
                               int may_pick, const fc__opts *o, double *work, fc__choice *out)
{
    size_t h16 = pl != NULL ? 16 * pl->h : 0;
    double *pts = work + d->n;
    double *cpts = pts + FC__MAX_COMB * h16;
    bt_err be[FC__MAX_COMB];
    char why[160];
    fc__data pre = *d;
    if (pl != NULL)
        pre.n = pl->n0;
    double wsum = 0;
    fc__model pms[FC__MAX_COMB]; /* fitted on the training data */
    out->iscale = 1.0;
    out->pick = -1;
    for (int i = 0; i < FC__MAX_COMB; i++) {
        fit_member(comb_members[i], d, o, work, &out->comb[i], why, sizeof why);
        out->weight[i] = 1.0;
        if (pl != NULL) {
            fc__model *pm = &pms[i];
            refit_member(&out->comb[i], comb_members[i], &pre, o, work, pm);
            backtest(pm, d, jd, pl, work, pts + (size_t)i * h16, &be[i]);
            /* 1 / MAE ranks the members (the best lends the combination
             * its correlation across steps); 0 leaves out a member that
             * broke down */
            out->weight[i] = !isfinite(be[i].mae) ? 0.0 : be[i].mae > 0 ? 1.0 / be[i].mae : 1e300;
        }
        wsum += out->weight[i];
    }
    if (!(wsum > 0)) {
        /* every member broke down in the backtest: all of them */
        for (int i = 0; i < FC__MAX_COMB; i++)
            out->weight[i] = 1.0;
        wsum = FC__MAX_COMB;
    }
    size_t best = 0;
    for (int i = 0; i < FC__MAX_COMB; i++) {
        out->weight[i] /= wsum;
        if (out->weight[i] > out->weight[best])
            best = (size_t)i;
    }
    out->n_comb = FC__MAX_COMB;
    out->model = out->comb[best];
    if (pl == NULL)
        out->iscale = 1.0;
    size_t cap = sizeof out->reason;
    int len;
    if (pl == NULL) {
        snprintf(out->reason, cap,
                 "median of ETS, ARIMA and Theta (series too short for a backtest)");
        return;
    }
    bt_err ce;
    for (size_t j = 0; j < pl->k * pl->h; j++) {
        double v[FC__MAX_COMB];
        for (int i = 0; i < FC__MAX_COMB; i++)
            v[i] = pts[(size_t)i * h16 + j];
        cpts[j] = combine(out, v);
    }
    score(cpts, d, jd, pl, &ce);
    const bt_err *pe = &be[PICK_MEMBER];
    if (may_pick && isfinite(pe->mae) && scaled_err(pe) < PICK_MARGIN * scaled_err(&ce)) {
        out->pick = PICK_MEMBER;
        memcpy(cpts, pts + PICK_MEMBER * h16, pl->k * pl->h * sizeof *cpts);
    }
    out->iscale = interval_scale(out, pms, d, &pre, pl, cpts, o, work);
    int scaled = ce.scale > 0;
    len = snprintf(out->reason, cap,
                   "median of ETS, ARIMA and Theta; rolling-origin backtest (%zu origins x %zu "
                   "steps), %s: ",
                   pl->k, pl->h, scaled ? "MASE" : "mean abs. error");
    for (int i = 0; i < FC__MAX_COMB && len > 0 && (size_t)len < cap; i++) {
        char nm[64];
        fc__model_name(&out->comb[i], nm, sizeof nm);
        len += snprintf(out->reason + len, cap - (size_t)len, "%s %.3f, ", nm,
                        scaled ? mase_of(&be[i]) : be[i].mae);
    }
    if (len > 0 && (size_t)len < cap)
        len += snprintf(out->reason + len, cap - (size_t)len, "median %.3f; ",
                        scaled ? mase_of(&ce) : ce.mae);
    if (out->pick >= 0 && len > 0 && (size_t)len < cap)
        len += snprintf(out->reason + len, cap - (size_t)len,
                        "ETS, the member that may stand alone, the best alone (< %.1f x "
                        "median); ",
                        PICK_MARGIN);
    if (len > 0 && (size_t)len < cap)
        snprintf(out->reason + len, cap - (size_t)len,
                 "intervals x %.2f from the backtest's errors", out->iscale);
    const bt_err *ue = out->pick >= 0 ? &be[out->pick] : &ce;
    out->bt_mase = mase_of(ue);
    out->bt_smape = ue->smape;
    out->bt_origins = (int)pl->k;
}

void fc__choice_fitted(const fc__choice *ch, const fc__data *d, double *work, double *fitted)
{
    if (ch->n_comb == 0 || ch->pick >= 0) {
        fc__model_fitted(ch->n_comb == 0 ? &ch->model : &ch->comb[ch->pick], d, work, fitted);
        return;
    }
    double *all = sl_malloc((size_t)ch->n_comb * (d->n ? d->n : 1) * sizeof *all);
    if (all == NULL) {
        fc__model_fitted(&ch->model, d, work, fitted);
        return;
    }
    for (int i = 0; i < ch->n_comb; i++)
        fc__model_fitted(&ch->comb[i], d, work, all + (size_t)i * d->n);
    for (size_t t = 0; t < d->n; t++) {
        double v[FC__MAX_COMB];
        for (int i = 0; i < ch->n_comb; i++)
            v[i] = all[(size_t)i * d->n + t];
        fitted[t] = combine(ch, v);
    }
    free(all);
}

typedef struct ranked {
    double v;
    int i;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    return x < y ? -1 : x > y;
}

void fc__choice_predict(const fc__choice *ch, const fc__data *d, const fc__opts *o, double *work,
                        fc__pred *p)
{
    if (ch->n_comb == 0) {
        fc__model_predict(&ch->model, d, o, work, p);
        return;
    }
    if (ch->pick >= 0) {
        /* one member: its own forecast, the spread scaled as the
         * backtest found it (paths around the point) */
        fc__model_predict(&ch->comb[ch->pick], d, o, work, p);
        for (size_t j = 0; j < p->h; j++) {
            p->scale[j] *= ch->iscale;
            for (int r = 0; p->simulated && r < p->n_paths; r++) {
                double *x = &p->paths[(size_t)r * p->h + j];
                *x = p->mean[j] + ch->iscale * (*x - p->mean[j]);
            }
        }
        return;
    }
    size_t h = p->h, np = p->paths != NULL && p->n_paths > 0 ? (size_t)p->n_paths : 0;
    /* per member: mean, psi, scale, sd (h each) and paths */
    size_t per = 4 * h + np * h;
    double *mem = sl_malloc((size_t)ch->n_comb * per * sizeof *mem);
    ranked *rk = np > 0 ? sl_malloc(np * sizeof *rk) : NULL;
    double *sorted = np > 0 ? sl_malloc(((size_t)ch->n_comb + 1) * np * sizeof *sorted) : NULL;
    if (mem == NULL || (np > 0 && (rk == NULL || sorted == NULL))) {
        free(mem);
        free(rk);
        free(sorted);
        fc__model_predict(&ch->model, d, o, work, p);
        return;
    }
    fc__pred mp[FC__MAX_COMB];
    memset(mp, 0, sizeof mp);
    int ref = -1; /* the simulated member whose paths order the others */
    size_t heavy = 0;
    for (int i = 0; i < ch->n_comb; i++) {
        double *b = mem + (size_t)i * per;
        fc__pred q = {h, b, b + h, b + 2 * h, 0, np > 0 ? b + 4 * h : NULL, (int)np, 0};
        fc__model_predict(&ch->comb[i], d, o, work, &q);
        for (size_t j = 0; j < h; j++)
            b[3 * h + j] = q.simulated ? 0.0 : fc__pred_sd(&q, j);
        mp[i] = q;
        if (q.simulated && ref < 0)
            ref = i;
        if (ch->weight[i] > ch->weight[heavy])
            heavy = (size_t)i;
    }
    for (size_t j = 0; j < h; j++) {
        double v[FC__MAX_COMB];
        for (int i = 0; i < ch->n_comb; i++)
            v[i] = mp[i].mean[j];
        p->mean[j] = combine(ch, v);
    }
    if (ref < 0) {
        /* Every member analytic: the median point with the median of the
         * members' standard deviations (exactly the median of their
         * quantiles when the members agree on either, close otherwise).
         * Sums over steps keep the best member's correlation across steps
         * (its psi weights), rescaled to the combined sd. */
        const fc__pred *hv = &mp[heavy];
        double cum = 0;
        for (size_t j = 0; j < h; j++) {
            double v[FC__MAX_COMB], m[FC__MAX_COMB];
            for (int i = 0; i < ch->n_comb; i++) {
                v[i] = mem[(size_t)i * per + 3 * h + j];
                m[i] = mp[i].mean[j];
            }
            double sd = combine(ch, v);
            sd = sqrt(sd * sd + between_var(ch, m, p->mean[j]));
            cum += hv->psi[j] * hv->psi[j];
            double base = sqrt(hv->sigma2 * cum);
            p->psi[j] = hv->psi[j];
            p->scale[j] = base > 0 ? ch->iscale * sd / base : 0.0;
        }
        p->sigma2 = hv->sigma2;
        p->simulated = 0;
    } else {
        /* Paths: the reference member's paths, ranked step by step; at
         * rank r every member gives its own quantile (r + 1/2) / n (a
         * simulated one its r-th smallest path, an analytic one its normal
         * quantile) and the path takes their median, so the combination's
         * quantiles are the median of the members' and, path by path, it
         * follows the reference's dependence across steps. */
        double *z = sorted + (size_t)ch->n_comb * np; /* normal quantiles of the ranks */
        for (size_t r = 0; r < np; r++)
            z[r] = fc__qnorm(((double)r + 0.5) / (double)np);
        for (size_t j = 0; j < h; j++) {
            for (size_t r = 0; r < np; r++) {
                rk[r].v = mp[ref].paths[r * h + j];
                rk[r].i = (int)r;
            }
            qsort(rk, np, sizeof *rk, ranked_cmp);
            for (int i = 0; i < ch->n_comb; i++) {
                if (!mp[i].simulated || i == ref)
                    continue;
                double *srt = sorted + (size_t)i * np;
                for (size_t r = 0; r < np; r++)
                    srt[r] = mp[i].paths[r * h + j];
                fc__sort(srt, np);
            }
            double ss = 0;
            for (size_t r = 0; r < np; r++) {
                double x[FC__MAX_COMB];
                for (int i = 0; i < ch->n_comb; i++)
                    x[i] = i == ref ? rk[r].v
                           : mp[i].simulated
                               ? sorted[(size_t)i * np + r]
                               : mp[i].mean[j] + z[r] * mem[(size_t)i * per + 3 * h + j];
                double v = combine(ch, x);
                p->paths[(size_t)rk[r].i * h + j] = v;
                ss += (v - p->mean[j]) * (v - p->mean[j]);
            }
            /* the members' disagreement widens the paths around the point
             * as it widens an analytic spread */
            double m[FC__MAX_COMB];
            for (int i = 0; i < ch->n_comb; i++)
                m[i] = mp[i].mean[j];
            double var = ss / (double)np, bv = between_var(ch, m, p->mean[j]);
            double f = ch->iscale * (var > 0 ? sqrt(1.0 + bv / var) : 1.0);
            for (size_t r = 0; r < np; r++) {
                double *x = &p->paths[r * h + j];
                *x = p->mean[j] + f * (*x - p->mean[j]);
            }
            p->psi[j] = j == 0 ? 1.0 : 0.0;
            p->scale[j] = 0;
        }
        p->sigma2 = 0;
        p->simulated = 1;
    }
    free(mem);
    free(rk);
    free(sorted);
}

void fc__choice_name(const fc__choice *ch, char *buf, size_t cap)
{
    if (ch->n_comb == 0) {
        fc__model_name(&ch->model, buf, cap);
        return;
    }
    if (ch->pick >= 0) {
        char nm[64];
        fc__model_name(&ch->comb[ch->pick], nm, sizeof nm);
        snprintf(buf, cap, "%s (backtest: better than the median of ETS, ARIMA and Theta)", nm);
        return;
    }
    int len = snprintf(buf, cap, "Median of");
    for (int i = 0; i < ch->n_comb && len > 0 && (size_t)len < cap; i++) {
        char nm[64];
        fc__model_name(&ch->comb[i], nm, sizeof nm);
        len += snprintf(buf + len, cap - (size_t)len, "%s %s%s", i ? "," : "", nm,
                        ch->weight[i] > 0 ? "" : " (left out)");
    }
}

/* ---- the choice -------------------------------------------------------- */

static void refit_full(const fc__model *pre, fc_method method, const fc__data *d, const fc__opts *o,
                       double *work, fc__model *out, char *reason, size_t cap)
{
    if (pre->kind == FC__K_ETS &&
        fc__ets_fit(d, pre->error, pre->trend, pre->season, o, pre, out) == 0) {
        out->method = pre->method;
        reason[0] = '\0';
        return;
    }
    fit_as(method, d, o, work, out, reason, cap);
}

sl_status fc__choose(const fc__data *d, const fc__judge *jd, const fc_config *cfg,
                     const fc__opts *o, double *work, fc__choice *out, sl_err *err)
{
    size_t nobs = 0, npos = 0;
    double first = NAN;
    int constant = 1, nonneg = 1;
    for (size_t t = 0; t < d->n; t++) {
        double y = d->y[t];
        if (isnan(y))
            continue;
        if (nobs == 0)
            first = y;
        else if (fabs(y - first) > 1e-12 * (fabs(first) + 1.0))
            constant = 0;
        nobs++;
        npos += y > 0;
        nonneg &= y >= 0;
    }
    out->bt_mase = out->bt_smape = NAN;
    out->bt_origins = 0;
    out->n_comb = 0;
    out->pick = -1;
    out->iscale = 1.0;
    out->reason[0] = '\0';
    if (nobs == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                             "no observed day to forecast from (every day is missing, stocked out "
                             "or an event)");
    char why[160];
    const size_t cap = sizeof out->reason;
    if (constant) {
        fc__simple_fit(FC__K_MEAN, d, &out->model);
        snprintf(out->reason, cap, "%s: mean",
                 first == 0 ? "every observed day is zero" : "series is constant");
        return SL_OK;
    }
    if (nobs < MIN_OBS) {
        fc__simple_fit(FC__K_NAIVE, d, &out->model);
        snprintf(out->reason, cap, "only %zu observations: naive", nobs);
        return SL_OK;
    }
    /* Intermittent: counts (never negative) with many zero days. */
    int intermittent = nonneg && (double)nobs / (double)(npos ? npos : 1) > ADI_INTERMITTENT;
    bt_plan pl;
    int can_bt = plan_backtest(d, cfg, &pl) == 0;
    double *pts = work + d->n;
    fc__data pre = *d;
    if (can_bt)
        pre.n = pl.n0;

    /* Regular demand: the combination (also when asked for one on a
     * series too short for a backtest). */
    if ((cfg->method == FC_METHOD_AUTO && cfg->select == FC_SELECT_BACKTEST && can_bt &&
         !intermittent) ||
        cfg->method == FC_METHOD_COMBO) {
        choose_combination(d, jd, can_bt ? &pl : NULL, cfg->method == FC_METHOD_AUTO, o, work, out);
        return SL_OK;
    }
    if (cfg->method == FC_METHOD_AUTO && cfg->select == FC_SELECT_BACKTEST && can_bt) {
        /* Intermittent demand: Croston, TSB and exponential smoothing of
         * the daily figures (with a demand every two or three days it
         * often tracks the level better than smoothing sizes and
         * intervals apart) compete in the backtest. */
        static const fc_method cands[MAX_CANDIDATES] = {FC_METHOD_CROSTON, FC_METHOD_TSB,
                                                        FC_METHOD_ETS};
        fc__model models[MAX_CANDIDATES]; /* fitted on the training data */
        bt_err be[MAX_CANDIDATES];
        const size_t nc = MAX_CANDIDATES;
        /* Every candidate shares the training data and so the MASE scale:
         * ranking by mean absolute error is ranking by MASE, and still works
         * when a flat training period leaves no scale.  A NAN error (no
         * observed day in the test windows) ranks last. */
        for (size_t i = 0; i < nc; i++) {
            fit_as(cands[i], &pre, o, work, &models[i], why, sizeof why);
            backtest(&models[i], d, jd, &pl, work, pts, &be[i]);
        }
        size_t best = 0;
        for (size_t i = 1; i < nc; i++)
            if (be[i].mae < be[best].mae || isnan(be[best].mae))
                best = i;
        char names[MAX_CANDIDATES][48];
        for (size_t i = 0; i < nc; i++)
            fc__model_name(&models[i], names[i], sizeof names[i]);
        int scaled = be[0].scale > 0;
        int len =
            snprintf(out->reason, cap,
                     "intermittent demand (%.2f days per demand); a rolling-origin backtest "
                     "(%zu origins x %zu steps), %s: ",
                     (double)nobs / (double)npos, pl.k, pl.h, scaled ? "MASE" : "mean abs. error");
        for (size_t i = 0; i < nc && len > 0 && (size_t)len < cap; i++)
            len += snprintf(out->reason + len, cap - (size_t)len, "%s%s %.3f", i ? ", " : "",
                            names[i], scaled ? mase_of(&be[i]) : be[i].mae);
        refit_full(&models[best], models[best].method, d, o, work, &out->model, why, sizeof why);
        if (why[0] != '\0' && len > 0 && (size_t)len < cap)
            snprintf(out->reason + len, cap - (size_t)len, "; %s", why);
        out->bt_mase = mase_of(&be[best]);
        out->bt_smape = be[best].smape;
        out->bt_origins = (int)pl.k;
        return SL_OK;
    }

    fc_method method = cfg->method;
    if (method == FC_METHOD_AUTO)
        method = intermittent ? FC_METHOD_TSB : FC_METHOD_ETS;
    fit_as(method, d, o, work, &out->model, why, sizeof why);
    if (why[0] != '\0')
        snprintf(out->reason, cap, "%s", why);
    else if (cfg->method == FC_METHOD_AUTO)
        snprintf(out->reason, cap, "%s%s",
                 intermittent ? "intermittent demand: TSB" : "lowest AICc among ETS models",
                 cfg->select == FC_SELECT_BACKTEST && cfg->backtest_origins > 0
                     ? " (series too short for a backtest)"
                     : "");
    else if (method == FC_METHOD_ETS)
        snprintf(out->reason, cap, "lowest AICc among ETS models");
    else if (method == FC_METHOD_ARIMA)
        snprintf(out->reason, cap, "lowest AICc in auto.arima's stepwise search");
    else
        snprintf(out->reason, cap, "requested");
    if (can_bt) {
        /* The chosen method's own backtest, for the record. */
        fc__model pm;
        fc_method bm = out->model.method;
        if (out->model.kind == FC__K_ETS && method == FC_METHOD_ETS) {
            if (fc__ets_fit(&pre, out->model.error, out->model.trend, out->model.season, o, NULL,
                            &pm) != 0)
                fit_as(bm, &pre, o, work, &pm, why, sizeof why);
        } else if (out->model.kind == FC__K_ARIMA) {
            /* the same orders, not a second search */
            if (fc__arima_fit(&pre, &out->model.ar, out->model.ar.exact ? FC__ARIMA_EXACT : 0u, o,
                              &pm) != 0)
                fit_as(FC_METHOD_NAIVE, &pre, o, work, &pm, why, sizeof why);
        } else {
            fit_as(bm, &pre, o, work, &pm, why, sizeof why);
        }
        bt_err e;
        backtest(&pm, d, jd, &pl, work, pts, &e);
        out->bt_mase = mase_of(&e);
        out->bt_smape = e.smape;
        out->bt_origins = (int)pl.k;
    }
    return SL_OK;
}
