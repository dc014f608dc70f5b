/*
 * fc_season: the long seasonal profile (see fc_season.h).
 */
#include "fc_season.h"

#include <math.h>

#define K 4
#define P (2 + 2 * K)
/* F(2K, large) at 1%: the harmonics must explain clearly more than noise,
 * because two years of data leave a yearly pattern barely identified. */
#define F_CRIT 2.51

static void regressors(size_t t, size_t n, double period, double *x)
{
    x[0] = 1.0;
    x[1] = (double)t / (double)n; /* scaled for a well-conditioned system */
    for (int k = 1; k <= K; k++) {
        double w = 2.0 * M_PI * k * (double)t / period;
        x[2 * k] = sin(w);
        x[2 * k + 1] = cos(w);
    }
}

/* Solves the p x p symmetric positive system a x = b by Cholesky (a and b
 * are overwritten).  Returns -1 when a is not positive definite. */
static int solve(double a[P][P], double *b, int p)
{
    for (int j = 0; j < p; j++) {
        double s = a[j][j];
        for (int k = 0; k < j; k++)
            s -= a[j][k] * a[j][k];
        if (!(s > 1e-12))
            return -1;
        a[j][j] = sqrt(s);
        for (int i = j + 1; i < p; i++) {
            double v = a[i][j];
            for (int k = 0; k < j; k++)
                v -= a[i][k] * a[j][k];
            a[i][j] = v / a[j][j];
        }
    }
    for (int i = 0; i < p; i++) {
        double v = b[i];
        for (int k = 0; k < i; k++)
            v -= a[i][k] * b[k];
        b[i] = v / a[i][i];
    }
    for (int i = p - 1; i >= 0; i--) {
        double v = b[i];
        for (int k = i + 1; k < p; k++)
            v -= a[k][i] * b[k];
        b[i] = v / a[i][i];
    }
    return 0;
}

/* Least squares on the first p regressors; returns the residual sum of
 * squares (INFINITY when singular) and the coefficients in beta. */
static double fit(const double *y, size_t n, double period, int p, double *beta)
{
    double a[P][P] = {{0}}, b[P] = {0}, x[P];
    for (size_t t = 0; t < n; t++) {
        if (isnan(y[t]))
            continue;
        regressors(t, n, period, x);
        for (int i = 0; i < p; i++) {
            b[i] += x[i] * y[t];
            for (int j = 0; j <= i; j++)
                a[i][j] += x[i] * x[j];
        }
    }
    for (int i = 0; i < p; i++)
        for (int j = i + 1; j < p; j++)
            a[i][j] = a[j][i];
    if (solve(a, b, p) != 0)
        return INFINITY;
    double rss = 0;
    for (size_t t = 0; t < n; t++) {
        if (isnan(y[t]))
            continue;
        regressors(t, n, period, x);
        double f = 0;
        for (int i = 0; i < p; i++)
            f += x[i] * b[i];
        rss += (y[t] - f) * (y[t] - f);
    }
    for (int i = 0; i < p; i++)
        beta[i] = b[i];
    return rss;
}

int fc__long_season(const double *y, size_t n, size_t h, double period, double *ls, int *mul)
{
    if (!(period > 1) || (double)n + 1.0 < 2.0 * period)
        return 0;
    size_t nobs = 0;
    int nonneg = 1;
    for (size_t t = 0; t < n; t++) {
        if (isnan(y[t]))
            continue;
        nobs++;
        if (y[t] < 0)
            nonneg = 0;
    }
    if (nobs < (size_t)P + 10)
        return 0;
    double b0[P], b1[P];
    double rss0 = fit(y, n, period, 2, b0);
    double rss1 = fit(y, n, period, P, b1);
    if (!isfinite(rss0) || !isfinite(rss1))
        return 0;
    double f = rss1 > 0 ? ((rss0 - rss1) / (2 * K)) / (rss1 / (double)(nobs - P)) : INFINITY;
    if (!(f > F_CRIT))
        return 0;
    *mul = nonneg;
    double x[P];
    for (size_t t = 0; t < n + h && *mul; t++) {
        regressors(t, n, period, x);
        if (!(b1[0] + b1[1] * x[1] > 0))
            *mul = 0;
    }
    for (size_t t = 0; t < n + h; t++) {
        regressors(t, n, period, x);
        double line = b1[0] + b1[1] * x[1], s = 0;
        for (int i = 2; i < P; i++)
            s += x[i] * b1[i];
        if (*mul) {
            double r = 1.0 + s / line;
            ls[t] = r < 0.05 ? 0.05 : r > 20 ? 20 : r;
        } else {
            ls[t] = s;
        }
    }
    return 1;
}
