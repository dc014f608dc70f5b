/*
 * fc_arima: seasonal ARIMA by conditional sum of squares and the stepwise
 * auto.arima search (see fc_arima.h).
 *
 * Everything runs on the series x_t = y_t - trend_t (the mean or the drift
 * term) with the model's polynomials multiplied out: the full AR operator
 * Phi(B) = phi(B) Phi_s(B^m) (1 - B)^d (1 - B^m)^D and the full MA operator
 * theta(B) Theta_s(B^m).  The residual
 *   e_t = x_t - sum_k Phi_k x_{t-k} - sum_j theta_j e_{t-j},  t >= ncond,
 * is exactly stats::arima's CSS residual of the differenced series (with
 * ncond = d + D m + p + P m and e = 0 before it), and the same recursion
 * with future residuals at zero gives the point forecasts, so fitting,
 * backtests and forecasts share one loop.
 */
#include "fc_arima.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "fc_optim.h"
#include "fc_stats.h"

/* Longest multiplied-out operators: p + P m + d + D m and q + Q m. */
#define MAX_PHI (FC__ARIMA_MAX_P + FC__ARIMA_MAX_SP * FC_MAX_SEASON + 2 + FC_MAX_SEASON)
#define MAX_THETA (FC__ARIMA_MAX_P + FC__ARIMA_MAX_SP * FC_MAX_SEASON)
/* auto.arima's limits (max.p, max.q, max.P, max.Q, max.d, max.D, nmodels). */
#define AUTO_MAX_P 5
#define AUTO_MAX_Q 5
#define AUTO_MAX_SP 2
#define AUTO_MAX_D 2
#define AUTO_NMODELS 94
/* nsdiffs' "seas" threshold and the 5% KPSS critical value (urca, "mu"). */
#define SEAS_STRENGTH_MIN 0.64
/* Cycles either side in the seasonal smoother (STL's s.window 11). */
#define SEAS_HALF_WINDOW 5
#define KPSS_CRIT_5PCT 0.463
/* auto.arima rejects roots within 1.01 of the unit circle. */
#define ROOT_MARGIN 1.01
/* auto.arima searches by CSS beyond 150 observations or period 12. */
#define APPROX_MIN_N 150
#define APPROX_MIN_M 12
#define LOG_2PI 1.8378770664093453
/* The quick search (FC__ARIMA_QUICK): the last QUICK_MAX_N values, at most
 * QUICK_NMODELS models. */
#define QUICK_MAX_N 168
#define QUICK_NMODELS 12
/* Models refitted exactly after a CSS search at most (see refit_exact). */
#define REFIT_MAX 8

/* The multiplied-out operators, as sparse lists for the inner loop. */
typedef struct ops {
    int nphi, ntheta;
    double phi[MAX_PHI + 1], theta[MAX_THETA + 1]; /* [k] for lag k, [0] unused */
    int phi_lag[MAX_PHI], theta_lag[MAX_THETA];    /* nonzero lags */
    double phi_nz[MAX_PHI], theta_nz[MAX_THETA];
    int n_phi_nz, n_theta_nz;
    size_t ncond;
} ops;

static void expand(const fc__model *md, ops *op)
{
    const fc__arima *a = &md->ar;
    int m = a->P + a->Q + a->D > 0 ? md->m : 1;
    /* phi(B) Phi_s(B^m), as 1 - sum phi_k B^k */
    double arp[MAX_PHI + 1] = {0}, tmp[MAX_PHI + 1];
    int np = a->p + a->P * m;
    arp[0] = 1;
    for (int i = 1; i <= a->p; i++)
        arp[i] = -a->ar[i - 1];
    if (a->P > 0) {
        memcpy(tmp, arp, sizeof tmp);
        for (int j = 1; j <= a->P; j++)
            for (int i = 0; i <= a->p; i++)
                arp[i + j * m] += tmp[i] * -a->sar[j - 1];
    }
    /* times (1 - B)^d (1 - B^m)^D */
    int len = np;
    for (int k = 0; k < a->d + a->D; k++) {
        int lag = k < a->d ? 1 : m;
        memcpy(tmp, arp, sizeof tmp);
        for (int i = 0; i <= len; i++)
            arp[i + lag] -= tmp[i];
        len += lag;
    }
    op->nphi = len;
    op->n_phi_nz = 0;
    op->phi[0] = 0;
    for (int k = 1; k <= len; k++) {
        op->phi[k] = -arp[k];
        if (op->phi[k] != 0) {
            op->phi_lag[op->n_phi_nz] = k;
            op->phi_nz[op->n_phi_nz++] = op->phi[k];
        }
    }
    /* theta(B) Theta_s(B^m), as 1 + sum theta_k B^k */
    double map[MAX_THETA + 1] = {0}, nsma[FC__ARIMA_MAX_P + 1];
    int nq = a->q + a->Q * m;
    map[0] = nsma[0] = 1;
    for (int i = 1; i <= a->q; i++)
        map[i] = nsma[i] = a->ma[i - 1];
    for (int j = 1; j <= a->Q; j++)
        for (int i = 0; i <= a->q; i++)
            map[i + j * m] += nsma[i] * a->sma[j - 1];
    op->ntheta = nq;
    op->n_theta_nz = 0;
    op->theta[0] = 0;
    for (int k = 1; k <= nq; k++) {
        op->theta[k] = map[k];
        if (map[k] != 0) {
            op->theta_lag[op->n_theta_nz] = k;
            op->theta_nz[op->n_theta_nz++] = map[k];
        }
    }
    op->ncond = (size_t)(a->d + a->D * m + a->p + a->P * m);
}

static double trend_at(const fc__arima *a, size_t t)
{
    return a->constant == 1 ? a->c : a->constant == 2 ? a->c * (double)(t + 1) : 0.0;
}

/* The recursion over t in [0, end): x (the working series, missing and
 * censored-below-prediction days replaced by their prediction; before
 * ncond, gaps interpolated) and e (residuals).  Returns the sum of squared
 * residuals; *nu counts them. */
static double filter(const fc__model *md, const ops *op, const fc__data *d, size_t end, double *x,
                     double *e, size_t *nu)
{
    const fc__arima *a = &md->ar;
    size_t nc = op->ncond < end ? op->ncond : end;
    if (fc__fill(d->y, nc, x) != 0)
        for (size_t t = 0; t < nc; t++)
            x[t] = trend_at(a, t);
    for (size_t t = 0; t < nc; t++) {
        x[t] -= trend_at(a, t);
        e[t] = 0;
    }
    double ssq = 0;
    size_t cnt = 0;
    for (size_t t = nc; t < end; t++) {
        double pred = 0;
        for (int i = 0; i < op->n_phi_nz; i++)
            pred += op->phi_nz[i] * x[t - (size_t)op->phi_lag[i]];
        for (int i = 0; i < op->n_theta_nz; i++) {
            size_t lag = (size_t)op->theta_lag[i];
            if (lag > t)
                break;
            pred += op->theta_nz[i] * e[t - lag];
        }
        double y = d->y[t];
        double v = isnan(y) ? NAN : y - trend_at(a, t);
        if (isnan(v) || (d->cens != NULL && d->cens[t] && v < pred)) {
            x[t] = pred;
            e[t] = 0;
            continue;
        }
        x[t] = v;
        e[t] = v - pred;
        ssq += e[t] * e[t];
        cnt++;
    }
    *nu = cnt;
    return ssq;
}

/* Forecasts h steps from origin o given x and e up to o (exclusive). */
static void forecast_from(const fc__model *md, const ops *op, const double *x, const double *e,
                          size_t o, size_t h, double *out)
{
    double xf[MAX_PHI + 1], eb[MAX_THETA + 1];
    size_t np = (size_t)op->nphi, nq = (size_t)op->ntheta;
    /* xf[j] holds x_{s - np + j} for the step s being forecast, eb[j] the
     * residual e_{o - nq + j} (later ones are zero). */
    for (size_t j = 0; j < np; j++)
        xf[j] = o >= np - j ? x[o - np + j] : 0.0;
    for (size_t j = 0; j < nq; j++)
        eb[j] = o >= nq - j ? e[o - nq + j] : 0.0;
    for (size_t s = 0; s < h; s++) {
        double pred = 0;
        for (int i = 0; i < op->n_phi_nz; i++)
            pred += op->phi_nz[i] * xf[np - (size_t)op->phi_lag[i]];
        for (int i = 0; i < op->n_theta_nz; i++) {
            size_t lag = (size_t)op->theta_lag[i];
            if (lag > s && lag - s <= nq)
                pred += op->theta_nz[i] * eb[nq - (lag - s)];
        }
        out[s] = pred + trend_at(&md->ar, o + s);
        /* shift: drop the oldest x */
        if (np > 0) {
            memmove(xf, xf + 1, (np - 1) * sizeof *xf);
            xf[np - 1] = pred;
        }
    }
}

/* ---- roots ------------------------------------------------------------- */

/* 1 when 1 - sum_{k=1..n} a_k z^k has every root outside radius r (the
 * Schur-Cohn step-down recursion on the polynomial in z / r). */
static int roots_outside(const double *a, int n, double r)
{
    double c[MAX_PHI + 1], nx[MAX_PHI + 1];
    while (n > 0 && fabs(a[n]) <= 1e-8)
        n--;
    double rk = 1;
    for (int k = 1; k <= n; k++) {
        rk *= r;
        c[k] = a[k] * rk;
    }
    for (int k = n; k >= 1; k--) {
        double kk = c[k];
        if (!(fabs(kk) < 1.0))
            return 0;
        double den = 1.0 - kk * kk;
        for (int j = 1; j < k; j++)
            nx[j] = (c[j] + kk * c[k - j]) / den;
        for (int j = 1; j < k; j++)
            c[j] = nx[j];
    }
    return 1;
}

/* auto.arima's check of the AR part (without differences) and MA part. */
static int roots_ok(const fc__model *md)
{
    fc__model st = *md;
    st.ar.d = st.ar.D = 0;
    ops op;
    expand(&st, &op);
    double mneg[MAX_THETA + 1];
    for (int k = 1; k <= op.ntheta; k++)
        mneg[k] = -op.theta[k];
    return roots_outside(op.phi, op.nphi, ROOT_MARGIN) &&
           roots_outside(mneg, op.ntheta, ROOT_MARGIN);
}

/* ---- exact likelihood ------------------------------------------------- */

/* Largest ARMA state: max(p + P m, q + Q m + 1). */
#define MAX_STATE (MAX_THETA + 1)

/* -2 log L of the model's ARMA part on the differenced, de-trended series,
 * with sigma2 concentrated out and the constants n (1 + log 2 pi) left
 * out: the Kalman filter on Harvey's state-space form started from the
 * stationary state covariance (stats::arima's likelihood of the
 * differenced series).  w is scratch of d->n doubles; *ssq gets the sum of
 * squared standardised innovations and *nu their count.  INFINITY when
 * the AR part is not stationary. */
static double ml_value(const fc__model *md, const fc__data *d, double *w, double *ssq_out,
                       size_t *nu_out)
{
    const fc__arima *a = &md->ar;
    int m = md->m;
    /* 1. w = the differenced x_t = y_t - trend_t */
    size_t len = d->n;
    for (size_t t = 0; t < len; t++)
        w[t] = d->y[t] - trend_at(a, t);
    for (int k = 0; k < a->d + a->D; k++) {
        size_t lag = k < a->d ? 1 : (size_t)m;
        if (len <= lag)
            return INFINITY;
        for (size_t t = 0; t + lag < len; t++)
            w[t] = w[t + lag] - w[t];
        len -= lag;
    }
    /* 2. the ARMA operators without the differences */
    fc__model st = *md;
    st.ar.d = st.ar.D = 0;
    ops op;
    expand(&st, &op);
    /* Outside stationarity the likelihood is undefined; outside
     * invertibility (which auto.arima rejects anyway) the filter never
     * settles and the optimiser only wastes evaluations there. */
    double mneg[MAX_THETA + 1];
    for (int k = 1; k <= op.ntheta; k++)
        mneg[k] = -op.theta[k];
    if (!roots_outside(op.phi, op.nphi, 1.0) || !roots_outside(mneg, op.ntheta, 1.0))
        return INFINITY;
    int r = op.nphi > op.ntheta + 1 ? op.nphi : op.ntheta + 1;
    static const size_t RR = MAX_STATE;
    double phi[MAX_STATE] = {0}, rv[MAX_STATE] = {0};
    for (int i = 0; i < op.nphi; i++)
        phi[i] = op.phi[i + 1];
    rv[0] = 1;
    for (int i = 1; i <= op.ntheta; i++)
        rv[i] = op.theta[i];
    /* 3. P0 = sum_k T^k R R' T'^k by doubling: P += A P A', A = A A */
    double *mem = sl_malloc(3 * RR * RR * sizeof *mem);
    if (mem == NULL)
        return INFINITY;
    double *P = mem, *A = mem + RR * RR, *B = mem + 2 * RR * RR;
#define AT(M, i, j) (M)[(size_t)(i)*RR + (size_t)(j)]
    for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++) {
            AT(P, i, j) = rv[i] * rv[j];
            AT(A, i, j) = (j == 0 ? phi[i] : 0.0) + (j == i + 1 ? 1.0 : 0.0);
        }
    for (int it = 0; it < 40; it++) {
        /* B = A P, C = B A' */
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) {
                double s = 0;
                for (int k = 0; k < r; k++)
                    s += AT(A, i, k) * AT(P, k, j);
                AT(B, i, j) = s;
            }
        double add = 0, tot = 0;
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) {
                double s = 0;
                for (int k = 0; k < r; k++)
                    s += AT(B, i, k) * AT(A, j, k);
                AT(P, i, j) += s;
                add += fabs(s);
                tot += fabs(AT(P, i, j));
            }
        if (!isfinite(tot)) {
            free(mem);
            return INFINITY;
        }
        if (add <= 1e-13 * tot)
            break;
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++) {
                double s = 0;
                for (int k = 0; k < r; k++)
                    s += AT(A, i, k) * AT(A, k, j);
                AT(B, i, j) = s;
            }
        memcpy(A, B, RR * RR * sizeof *A);
    }
    /* 4. the filter: a = 0, P = P0 (in units of sigma2) */
    double av[MAX_STATE] = {0}, K[MAX_STATE];
    double ssq = 0, sumlog = 0;
    size_t nu = 0;
    int steady = 0;
    for (size_t t = 0; t < len; t++) {
        if (steady && isnan(w[t])) {
            /* a gap: the state is uncertain again */
            steady = 0;
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++)
                    AT(P, i, j) = rv[i] * rv[j];
        }
        if (steady) {
            /* The covariance has reached its steady state (the state is
             * known given the past: P = R R', F = 1, K = R), where the
             * filter is the innovations recursion. */
            double v = w[t] - av[0];
            ssq += v * v;
            nu++;
            double a0 = av[0] + v;
            for (int i = 0; i < r; i++)
                av[i] = phi[i] * a0 + (i + 1 < r ? av[i + 1] + rv[i + 1] * v : 0.0);
            continue;
        }
        if (!isnan(w[t])) {
            double F = AT(P, 0, 0);
            if (!(F > 0)) {
                free(mem);
                return INFINITY;
            }
            double v = w[t] - av[0];
            for (int i = 0; i < r; i++)
                K[i] = AT(P, i, 0) / F;
            for (int i = 0; i < r; i++)
                av[i] += K[i] * v;
            double row0[MAX_STATE];
            for (int j = 0; j < r; j++)
                row0[j] = AT(P, 0, j);
            for (int i = 0; i < r; i++)
                for (int j = 0; j < r; j++)
                    AT(P, i, j) -= K[i] * row0[j];
            ssq += v * v / F;
            sumlog += log(F);
            nu++;
            if (fabs(F - 1.0) < 1e-8) {
                steady = 1;
                double a0 = av[0];
                for (int i = 0; i < r; i++)
                    av[i] = phi[i] * a0 + (i + 1 < r ? av[i + 1] : 0.0);
                continue;
            }
        }
        /* predict: a = T a, P = T P T' + R R' (T: phi in column 0, ones
         * above the diagonal) */
        double a0 = av[0];
        for (int i = 0; i < r; i++)
            av[i] = phi[i] * a0 + (i + 1 < r ? av[i + 1] : 0.0);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
                AT(B, i, j) = phi[i] * AT(P, 0, j) + (i + 1 < r ? AT(P, i + 1, j) : 0.0);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < r; j++)
                AT(P, i, j) =
                    AT(B, i, 0) * phi[j] + (j + 1 < r ? AT(B, i, j + 1) : 0.0) + rv[i] * rv[j];
    }
#undef AT
    free(mem);
    *ssq_out = ssq;
    *nu_out = nu;
    if (nu == 0 || !(ssq > 0) || !isfinite(ssq + sumlog))
        return INFINITY;
    return (double)nu * log(ssq / (double)nu) + sumlog;
}

/* ---- fitting ----------------------------------------------------------- */

typedef struct fit_ctx {
    const fc__data *d;
    fc__model *md;
    double *x, *e;
    double c_scale; /* the constant's unit in optimiser coordinates */
} fit_ctx;

static int n_coef(const fc__arima *a)
{
    return a->p + a->q + a->P + a->Q + (a->constant != 0);
}

static void unpack(fc__arima *a, const double *v, double c_scale)
{
    int k = 0;
    for (int i = 0; i < a->p; i++)
        a->ar[i] = v[k++];
    for (int i = 0; i < a->q; i++)
        a->ma[i] = v[k++];
    for (int i = 0; i < a->P; i++)
        a->sar[i] = v[k++];
    for (int i = 0; i < a->Q; i++)
        a->sma[i] = v[k++];
    if (a->constant)
        a->c = v[k] * c_scale;
}

static double css_objective(const double *v, void *vctx)
{
    fit_ctx *c = vctx;
    unpack(&c->md->ar, v, c->c_scale);
    ops op;
    expand(c->md, &op);
    size_t nu;
    double ssq = filter(c->md, &op, c->d, c->d->n, c->x, c->e, &nu);
    if (nu == 0 || !isfinite(ssq))
        return INFINITY;
    return ssq / (double)nu;
}

static double ml_objective(const double *v, void *vctx)
{
    fit_ctx *c = vctx;
    unpack(&c->md->ar, v, c->c_scale);
    double ssq;
    size_t nu;
    return ml_value(c->md, c->d, c->x, &ssq, &nu);
}

/* Minimises f from v by a simplex of at most per_dim times the options'
 * evaluations per dimension and relative tolerance tol, restarted from its
 * own optimum (at most restarts runs) until a restart no longer improves
 * it: stats::arima's BFGS stops tight, and this gets as close at this
 * size.  Returns the minimum. */
static double minimise(fc__objective f, fit_ctx *c, double *v, double *step, int k,
                       const fc__opts *o, int per_dim, int restarts, double tol)
{
    if (k == 0)
        return f(v, c);
    int ev, cap = (o->evals_per_dim > 0 ? o->evals_per_dim : 40) * per_dim * (k + 1);
    double best = INFINITY;
    for (int r = 0; r < restarts; r++) {
        double got = fc__nelder_mead(f, c, v, step, k, cap, tol, &ev);
        int done = isfinite(best) && got >= best - 1e-12 * fabs(best);
        best = got < best ? got : best;
        if (done)
            break;
        for (int i = 0; i < k; i++)
            step[i] *= 0.5;
    }
    return best;
}

/* Sample standard deviation of the observed values (0 with fewer than 2). */
static double sd_of(const double *y, size_t n)
{
    double s = 0, s2 = 0;
    size_t k = 0;
    for (size_t t = 0; t < n; t++)
        if (!isnan(y[t])) {
            s += y[t];
            k++;
        }
    if (k < 2)
        return 0;
    double mu = s / (double)k;
    for (size_t t = 0; t < n; t++)
        if (!isnan(y[t]))
            s2 += (y[t] - mu) * (y[t] - mu);
    return sqrt(s2 / (double)(k - 1));
}

/* Mean of the differenced data, for the constant's starting value, and
 * their standard deviation in *sd. */
static double diff_mean(const fc__data *d, int dd, int D, int m, double *buf, double *sd)
{
    *sd = 0;
    memcpy(buf, d->y, d->n * sizeof *buf);
    size_t len = d->n;
    for (int k = 0; k < dd + D; k++) {
        size_t lag = k < dd ? 1 : (size_t)m;
        if (len <= lag)
            return 0;
        for (size_t t = 0; t + lag < len; t++)
            buf[t] = buf[t + lag] - buf[t];
        len -= lag;
    }
    double s = 0;
    size_t k = 0;
    for (size_t t = 0; t < len; t++)
        if (!isnan(buf[t])) {
            s += buf[t];
            k++;
        }
    *sd = sd_of(buf, len);
    return k ? s / (double)k : 0.0;
}

static size_t observed(const fc__data *d)
{
    size_t k = 0;
    for (size_t t = 0; t < d->n; t++)
        k += !isnan(d->y[t]);
    return k;
}

/* 1 when the AR parts (regular and seasonal, each on its own as
 * stats::arima checks them) are stationary. */
static int ar_parts_stationary(const fc__arima *a)
{
    double c[FC__ARIMA_MAX_P + 1];
    for (int i = 0; i < a->p; i++)
        c[i + 1] = a->ar[i];
    if (!roots_outside(c, a->p, 1.0))
        return 0;
    for (int i = 0; i < a->P; i++)
        c[i + 1] = a->sar[i];
    return roots_outside(c, a->P, 1.0);
}

int fc__arima_fit(const fc__data *d, const fc__arima *spec, unsigned flags, const fc__opts *o,
                  fc__model *out)
{
    int ml = (flags & FC__ARIMA_EXACT) != 0, quick = (flags & FC__ARIMA_QUICK) != 0;
    fc__data dq = *d;
    if (quick && !ml && d->n > QUICK_MAX_N) {
        /* estimated on the most recent stretch only */
        size_t off = d->n - QUICK_MAX_N;
        dq.y = d->y + off;
        dq.cens = d->cens != NULL ? d->cens + off : NULL;
        dq.n = QUICK_MAX_N;
        d = &dq;
    }
    memset(out, 0, sizeof *out);
    out->kind = FC__K_ARIMA;
    out->method = FC_METHOD_ARIMA;
    out->ar = *spec;
    fc__arima *a = &out->ar;
    int m = d->m >= 2 && d->m <= FC_MAX_SEASON ? d->m : 1;
    if (m == 1 && (a->P || a->Q || a->D))
        return -1;
    if (a->p > FC__ARIMA_MAX_P || a->q > FC__ARIMA_MAX_P || a->P > FC__ARIMA_MAX_SP ||
        a->Q > FC__ARIMA_MAX_SP || a->d < 0 || a->d > 2 || a->D < 0 || a->D > 1)
        return -1;
    out->m = m;
    out->alpha = out->beta = out->gamma = out->phi = NAN;
    out->level = NAN;
    size_t nobs = observed(d);
    int ncoef = n_coef(a);
    int npar = ncoef + 1;
    double nstar = (double)nobs - a->d - a->D * m;
    if (nstar - npar - 1 <= 0)
        return -1;
    double *buf = sl_malloc(2 * d->n * sizeof *buf);
    if (buf == NULL)
        return -1;
    fit_ctx c = {d, out, buf, buf + d->n, 1.0};
    double v[FC__OPT_MAX_DIM] = {0}, step[FC__OPT_MAX_DIM];
    for (int i = 0; i < ncoef; i++)
        step[i] = 0.1;
    if (a->constant) {
        double sd;
        double mu = diff_mean(d, a->d, a->D, m, buf, &sd);
        if (a->constant == 2 && a->D) {
            mu /= m;
            sd /= m;
        }
        /* The constant moves in units of its standard error, so one
         * simplex step means about as much as 0.1 of a coefficient. */
        c.c_scale = sd > 0 ? sd / sqrt((double)nobs) : 1.0;
        v[ncoef - 1] = mu / c.c_scale;
        step[ncoef - 1] = 1.0;
    }
    /* 1. conditional sum of squares (also the start of the exact fit) */
    double best = minimise(css_objective, &c, v, step, ncoef, o, quick ? 1 : 5, quick ? 1 : 3,
                           quick ? 1e-6 : 1e-10);
    unpack(a, v, c.c_scale);
    int rc = -1;
    double value = NAN;
    if (ml) {
        /* 2. exact likelihood from the CSS estimates, which (as
         * stats::arima's CSS-ML) must have stationary AR parts */
        if (!isfinite(best) || !ar_parts_stationary(a))
            goto done;
        for (int i = 0; i < ncoef; i++)
            step[i] = a->constant && i == ncoef - 1 ? 0.5 : 0.05;
        best = minimise(ml_objective, &c, v, step, ncoef, o, 2, 2, 1e-10);
        unpack(a, v, c.c_scale);
        double ssq;
        size_t nu;
        value = ml_value(out, d, c.x, &ssq, &nu);
        if (!isfinite(value))
            goto done;
        /* -2 log L with its constants, as stats::arima reports it */
        out->lik = value + (double)nu * (1.0 + LOG_2PI);
        out->sigma2 = ssq / (nstar - npar + 1);
        out->nobs = nu;
    } else {
        ops op;
        expand(out, &op);
        size_t nu;
        double ssq = filter(out, &op, d, d->n, c.x, c.e, &nu);
        if (!isfinite(best) || nu == 0 || !isfinite(ssq) || !(ssq > 0))
            goto done;
        /* auto.arima's CSS criterion (up to a constant per d and D) */
        out->lik = nstar * log(ssq / (double)nu);
        /* auto.arima reports sum e^2 / (nstar - npar + 1) */
        out->sigma2 = ssq / (nstar - npar + 1);
        out->nobs = nu;
    }
    if (!roots_ok(out))
        goto done;
    a->exact = ml != 0;
    double aic = out->lik + 2.0 * npar;
    out->aicc = aic + 2.0 * npar * (npar + 1) / (nstar - npar - 1);
    out->np = npar;
    rc = 0;
done:
    free(buf);
    return rc;
}

/* ---- unit-root tests --------------------------------------------------- */

double fc__kpss_stat(const double *x, size_t n, int lags)
{
    if (n < 2)
        return NAN;
    double mu = 0;
    for (size_t t = 0; t < n; t++)
        mu += x[t];
    mu /= (double)n;
    double s = 0, num = 0, s2 = 0;
    for (size_t t = 0; t < n; t++) {
        double r = x[t] - mu;
        s += r;
        num += s * s;
        s2 += r * r;
    }
    num /= (double)n * (double)n;
    double den = s2 / (double)n;
    for (int l = 1; l <= lags && (size_t)l < n; l++) {
        double cov = 0;
        for (size_t t = (size_t)l; t < n; t++)
            cov += (x[t] - mu) * (x[t - (size_t)l] - mu);
        den += 2.0 / (double)n * (1.0 - (double)l / (lags + 1.0)) * cov;
    }
    return den > 0 ? num / den : NAN;
}

static int is_constant(const double *x, size_t n)
{
    for (size_t t = 1; t < n; t++)
        if (x[t] != x[0])
            return 0;
    return 1;
}

int fc__arima_ndiffs(const double *x, size_t n, int max_d)
{
    double *w = sl_malloc((n ? n : 1) * sizeof *w);
    if (w == NULL)
        return 0;
    memcpy(w, x, n * sizeof *w);
    int dd = 0;
    size_t len = n;
    if (is_constant(w, len)) {
        free(w);
        return 0;
    }
    for (;;) {
        double st = fc__kpss_stat(w, len, (int)(3.0 * sqrt((double)len) / 13.0));
        if (isnan(st) || st <= KPSS_CRIT_5PCT || dd >= max_d)
            break;
        dd++;
        for (size_t t = 0; t + 1 < len; t++)
            w[t] = w[t + 1] - w[t];
        len--;
        if (len < 2 || is_constant(w, len))
            break;
    }
    free(w);
    return dd;
}

static double var_of(const double *x, size_t n)
{
    if (n < 2)
        return NAN;
    double mu = 0, s = 0;
    for (size_t t = 0; t < n; t++)
        mu += x[t];
    mu /= (double)n;
    for (size_t t = 0; t < n; t++)
        s += (x[t] - mu) * (x[t] - mu);
    return s / (double)(n - 1);
}

double fc__seasonal_strength(const double *x, size_t n, int m)
{
    if (m < 2 || n < 2 * (size_t)m)
        return NAN;
    double *trend = sl_malloc(3 * n * sizeof *trend);
    if (trend == NULL)
        return NAN;
    double *rem = trend + n, *rs = trend + 2 * n;
    /* centred moving average of order m (2 x m for even m) */
    size_t half = (size_t)m / 2;
    for (size_t t = 0; t < n; t++) {
        trend[t] = NAN;
        if (t < half || t + half >= n)
            continue;
        double s = 0;
        if (m % 2) {
            for (size_t k = t - half; k <= t + half; k++)
                s += x[k];
            trend[t] = s / m;
        } else {
            for (size_t k = t - half + 1; k < t + half; k++)
                s += x[k];
            s += 0.5 * (x[t - half] + x[t + half]);
            trend[t] = s / m;
        }
    }
    /* The seasonal component as STL's (s.window 11, degree 0) makes it: a
     * tricube-weighted mean of the detrended values of the same season in
     * up to 5 cycles either side, so a season that grows or drifts stays
     * in the seasonal part rather than in the remainder; then centred on
     * zero over each cycle. */
    double *seas = sl_malloc(n * sizeof *seas);
    if (seas == NULL) {
        free(trend);
        return NAN;
    }
    for (size_t t = 0; t < n; t++) {
        seas[t] = NAN;
        if (isnan(trend[t]))
            continue;
        double sw = 0, sv = 0;
        for (long k = -SEAS_HALF_WINDOW; k <= SEAS_HALF_WINDOW; k++) {
            long u = (long)t + k * m;
            if (u < 0 || u >= (long)n || isnan(trend[u]))
                continue;
            double r = fabs((double)k) / (SEAS_HALF_WINDOW + 1.0);
            double w = (1 - r * r * r) * (1 - r * r * r) * (1 - r * r * r);
            sw += w;
            sv += w * (x[u] - trend[u]);
        }
        seas[t] = sv / sw;
    }
    size_t k = 0;
    for (size_t t = 0; t < n; t++) {
        if (isnan(seas[t]))
            continue;
        /* centre: minus the mean of the m seasonal values around t */
        double c = 0;
        size_t lo = t >= half ? t - half : 0, cnt = 0;
        for (size_t u = lo; u < lo + (size_t)m && u < n; u++)
            if (!isnan(seas[u])) {
                c += seas[u];
                cnt++;
            }
        double sv = seas[t] - (cnt ? c / (double)cnt : 0.0);
        rem[k] = x[t] - trend[t] - sv;
        rs[k] = rem[k] + sv;
        k++;
    }
    free(seas);
    double ve = var_of(rem, k), vs = var_of(rs, k);
    free(trend);
    if (!(vs > 0))
        return NAN;
    double f = 1.0 - ve / vs;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* ---- the stepwise search ----------------------------------------------- */

typedef struct search {
    const fc__data *d;
    const fc__opts *o;
    unsigned flags; /* for fc__arima_fit */
    int nmodels;    /* at most this many models */
    fc__arima tried[AUTO_NMODELS + 8];
    double ic[AUTO_NMODELS + 8];
    int n_tried;
    fc__model best;
    double best_ic;
} search;

static int same_orders(const fc__arima *a, const fc__arima *b)
{
    return a->p == b->p && a->q == b->q && a->P == b->P && a->Q == b->Q &&
           a->constant == b->constant;
}

static int is_new(const search *s, const fc__arima *a)
{
    for (int i = 0; i < s->n_tried; i++)
        if (same_orders(&s->tried[i], a))
            return 0;
    return 1;
}

/* Fits a, records it, and returns 1 when it beats the best so far. */
static int try_model(search *s, const fc__arima *a)
{
    fc__model md;
    int ok = fc__arima_fit(s->d, a, s->flags, s->o, &md) == 0;
    if (s->n_tried < (int)(sizeof s->tried / sizeof s->tried[0])) {
        s->tried[s->n_tried] = *a;
        s->ic[s->n_tried++] = ok ? md.aicc : INFINITY;
    }
    if (!ok || !(md.aicc < s->best_ic))
        return 0;
    s->best = md;
    s->best_ic = md.aicc;
    return 1;
}

/* auto.arima's last step after a CSS search: the models in order of their
 * criterion are refitted by exact likelihood, and the first that passes
 * the root check wins.  R goes down the whole list; here the best
 * REFIT_MAX are tried, and when none passes the CSS winner stays (R gives
 * up when the list runs out).  Each failed refit of a seasonal model
 * costs as much as a whole CSS search. */
static void refit_exact(search *s)
{
    int order[AUTO_NMODELS + 8];
    int n = s->n_tried;
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && s->ic[order[j]] < s->ic[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < n && i < REFIT_MAX && isfinite(s->ic[order[i]]); i++) {
        fc__model md;
        if (fc__arima_fit(s->d, &s->tried[order[i]], FC__ARIMA_EXACT, s->o, &md) == 0) {
            s->best = md;
            return;
        }
    }
}

/* Gathers the observed values into x; returns their count. */
static size_t gather(const fc__data *d, double *x)
{
    size_t k = 0;
    for (size_t t = 0; t < d->n; t++)
        if (!isnan(d->y[t]))
            x[k++] = d->y[t];
    return k;
}

static int min_i(int a, int b)
{
    return a < b ? a : b;
}

int fc__arima_auto(const fc__data *d, const fc__opts *o, int seasonal, unsigned flags,
                   fc__model *out)
{
    int quick = (flags & FC__ARIMA_QUICK) != 0;
    fc__data dq = *d;
    if (quick && d->n > QUICK_MAX_N) {
        /* the most recent stretch only (auto.arima's truncate) */
        size_t off = d->n - QUICK_MAX_N;
        dq.y = d->y + off;
        dq.cens = d->cens != NULL ? d->cens + off : NULL;
        dq.n = QUICK_MAX_N;
        d = &dq;
    }
    double *x = sl_malloc((d->n ? d->n : 1) * sizeof *x);
    if (x == NULL)
        return -1;
    size_t n = gather(d, x);
    int m = seasonal && d->m >= 2 && d->m <= FC_MAX_SEASON ? d->m : 1;
    int D = 0;
    /* 1. Seasonal differences: nsdiffs' strength test on the series. */
    if (m > 1 && n > 2 * (size_t)m && !is_constant(x, n)) {
        double fs = fc__seasonal_strength(x, n, m);
        D = fs > SEAS_STRENGTH_MIN;
    }
    /* 2. Differences: KPSS on the seasonally differenced series. */
    size_t nd = n;
    if (D) {
        for (size_t t = 0; t + (size_t)m < n; t++)
            x[t] = x[t + (size_t)m] - x[t];
        nd = n - (size_t)m;
    }
    int dd = fc__arima_ndiffs(x, nd, AUTO_MAX_D);
    free(x);

    /* 3. Orders' limits and the constant, as auto.arima sets them. */
    int max_p = min_i(AUTO_MAX_P, (int)(n / 3)), max_q = min_i(AUTO_MAX_Q, (int)(n / 3));
    int max_P = m > 1 ? min_i(AUTO_MAX_SP, (int)(n / 3 / (size_t)m)) : 0;
    int max_Q = max_P;
    if (m > 1 && max_P > 0)
        max_p = min_i(max_p, m - 1);
    if (m > 1 && max_Q > 0)
        max_q = min_i(max_q, m - 1);
    int allow = dd + D <= 1;
    int cst = allow ? (dd + D == 0 ? 1 : 2) : 0;
    fc__data dm = *d;
    dm.m = m;

    /* 4. Start: (2,d,2)(1,D,1), then the null, AR and MA models. */
    search *s = sl_malloc(sizeof *s);
    if (s == NULL)
        return -1;
    s->d = &dm;
    s->o = o;
    /* auto.arima's approximation: CSS when the series is long or the
     * period large, the exact likelihood (CSS-ML) otherwise */
    int approx = quick || d->n > APPROX_MIN_N || m > APPROX_MIN_M;
    s->flags = approx ? (quick ? FC__ARIMA_QUICK : 0u) : FC__ARIMA_EXACT;
    s->nmodels = quick ? QUICK_NMODELS : AUTO_NMODELS;
    s->n_tried = 0;
    s->best_ic = INFINITY;
    int sp = n < 10 ? 1 : 2, sP = n < 10 ? 0 : 1;
    fc__arima cur;
    memset(&cur, 0, sizeof cur);
    cur.p = min_i(sp, max_p);
    cur.d = dd;
    cur.q = min_i(sp, max_q);
    cur.P = min_i(sP, max_P);
    cur.D = D;
    cur.Q = min_i(sP, max_Q);
    cur.constant = cst;
    try_model(s, &cur);
    fc__arima t = cur;
    t.p = t.q = t.P = t.Q = 0;
    if (try_model(s, &t))
        cur = t;
    if (max_p > 0 || max_P > 0) {
        t.p = max_p > 0;
        t.q = 0;
        t.P = m > 1 && max_P > 0;
        t.Q = 0;
        if (try_model(s, &t))
            cur = t;
    }
    if (max_q > 0 || max_Q > 0) {
        t.p = t.P = 0;
        t.q = max_q > 0;
        t.Q = m > 1 && max_Q > 0;
        if (try_model(s, &t))
            cur = t;
    }
    if (cst) {
        t.p = t.q = t.P = t.Q = 0;
        t.constant = 0;
        if (try_model(s, &t))
            cur = t;
    }

    /* 5. Neighbours of the best, in auto.arima's order, until none is
     * better or 94 models were tried. */
    static const int moves[][4] = {
        /* dP, dQ, dp, dq */
        {-1, 0, 0, 0},  {0, -1, 0, 0}, {1, 0, 0, 0},  {0, 1, 0, 0},  {-1, -1, 0, 0}, {-1, 1, 0, 0},
        {1, -1, 0, 0},  {1, 1, 0, 0},  {0, 0, -1, 0}, {0, 0, 0, -1}, {0, 0, 1, 0},   {0, 0, 0, 1},
        {0, 0, -1, -1}, {0, 0, -1, 1}, {0, 0, 1, -1}, {0, 0, 1, 1},
    };
    int improved = 1;
    while (improved && s->n_tried < s->nmodels) {
        improved = 0;
        for (size_t i = 0; i <= sizeof moves / sizeof moves[0] && s->n_tried < s->nmodels; i++) {
            t = cur;
            if (i == sizeof moves / sizeof moves[0]) {
                /* the constant in or out */
                if (!allow)
                    break;
                t.constant = t.constant ? 0 : (dd + D == 0 ? 1 : 2);
            } else {
                t.P += moves[i][0];
                t.Q += moves[i][1];
                t.p += moves[i][2];
                t.q += moves[i][3];
            }
            if (t.P < 0 || t.Q < 0 || t.p < 0 || t.q < 0 || t.P > max_P || t.Q > max_Q ||
                t.p > max_p || t.q > max_q || !is_new(s, &t))
                continue;
            if (try_model(s, &t)) {
                cur = t;
                improved = 1;
                break;
            }
        }
    }
    int found = isfinite(s->best_ic);
    if (found && approx && !quick && (flags & FC__ARIMA_EXACT))
        refit_exact(s);
    if (found)
        *out = s->best;
    free(s);
    return found ? 0 : -1;
}

/* ---- forecasts --------------------------------------------------------- */

void fc__arima_fitted(const fc__model *md, const fc__data *d, double *fitted)
{
    ops op;
    expand(md, &op);
    double *buf = sl_malloc(2 * (d->n ? d->n : 1) * sizeof *buf);
    if (buf == NULL) {
        for (size_t t = 0; t < d->n; t++)
            fitted[t] = NAN;
        return;
    }
    double *x = buf, *e = buf + d->n;
    size_t nu;
    filter(md, &op, d, d->n, x, e, &nu);
    for (size_t t = 0; t < d->n; t++) {
        double y = d->y[t];
        if (t < op.ncond)
            fitted[t] = x[t] + trend_at(&md->ar, t);
        else
            fitted[t] = isnan(y) ? x[t] + trend_at(&md->ar, t) : y - e[t];
    }
    free(buf);
}

void fc__arima_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                      size_t h, double *out)
{
    ops op;
    expand(md, &op);
    size_t end = 0;
    for (size_t i = 0; i < k; i++)
        if (origins[i] > end)
            end = origins[i];
    if (end > d->n)
        end = d->n;
    double *buf = sl_malloc(2 * (end ? end : 1) * sizeof *buf);
    if (buf == NULL) {
        for (size_t i = 0; i < k * h; i++)
            out[i] = NAN;
        return;
    }
    double *x = buf, *e = buf + end;
    size_t nu;
    filter(md, &op, d, end, x, e, &nu);
    for (size_t i = 0; i < k; i++) {
        size_t o = origins[i] < end ? origins[i] : end;
        forecast_from(md, &op, x, e, o, h, out + i * h);
    }
    free(buf);
}

void fc__arima_predict(const fc__model *md, const fc__data *d, fc__pred *p)
{
    size_t origin = d->n;
    fc__arima_points(md, d, &origin, 1, p->h, p->mean);
    ops op;
    expand(md, &op);
    /* psi_j = theta_j + sum_k Phi_k psi_{j-k} */
    for (size_t j = 0; j < p->h; j++) {
        double v = j == 0 ? 1.0 : (j <= (size_t)op.ntheta ? op.theta[j] : 0.0);
        for (int i = 0; j > 0 && i < op.n_phi_nz; i++) {
            size_t lag = (size_t)op.phi_lag[i];
            if (lag <= j)
                v += op.phi_nz[i] * p->psi[j - lag];
        }
        p->psi[j] = v;
        p->scale[j] = 1.0;
    }
    p->sigma2 = md->sigma2;
    p->simulated = 0;
}

void fc__arima_name(const fc__model *md, char *buf, size_t cap)
{
    const fc__arima *a = &md->ar;
    int len = snprintf(buf, cap, "ARIMA(%d,%d,%d)", a->p, a->d, a->q);
    if (len > 0 && (size_t)len < cap && (a->P || a->D || a->Q))
        len += snprintf(buf + len, cap - (size_t)len, "(%d,%d,%d)[%d]", a->P, a->D, a->Q, md->m);
    if (len > 0 && (size_t)len < cap && a->constant)
        snprintf(buf + len, cap - (size_t)len, "%s",
                 a->constant == 1 ? " with non-zero mean" : " with drift");
}
