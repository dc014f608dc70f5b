/*
 * fc_stats: numerical helpers of the forecasting engine (see fc_stats.h).
 */
#include "fc_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Wichura (1988), Algorithm AS 241 PPND16: ratios of degree-7 polynomials
 * on three ranges of p, the algorithm R's qnorm uses.  Coefficients in
 * ascending order. */
static const double as241_a[8] = {
    3.387132872796366608,  133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
    45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727};
static const double as241_b[8] = {1.0,
                                  42.313330701600911252,
                                  687.1870074920579083,
                                  5394.1960214247511077,
                                  21213.794301586595867,
                                  39307.89580009271061,
                                  28729.085735721942674,
                                  5226.495278852545925};
static const double as241_c[8] = {1.42343711074968357734,   4.6303378461565452959,
                                  5.7694972214606914055,    3.64784832476320460504,
                                  1.27045825245236838258,   0.24178072517745061177,
                                  0.0227238449892691845833, 7.7454501427834140764e-4};
static const double as241_d[8] = {1.0,
                                  2.05319162663775882187,
                                  1.6763848301838038494,
                                  0.68976733498510000455,
                                  0.14810397642748007459,
                                  0.0151986665636164571966,
                                  5.475938084995344946e-4,
                                  1.05075007164441684324e-9};
static const double as241_e[8] = {6.6579046435011037772,     5.4637849111641143699,
                                  1.7848265399172913358,     0.29656057182850489123,
                                  0.026532189526576123093,   0.0012426609473880784386,
                                  2.71155556874348757815e-5, 2.01033439929228813265e-7};
static const double as241_f[8] = {1.0,
                                  0.59983220655588793769,
                                  0.13692988092273580531,
                                  0.0148753612908506148525,
                                  7.868691311456132591e-4,
                                  1.8463183175100546818e-5,
                                  1.4215117583164458887e-7,
                                  2.04426310338993978564e-15};

static double poly7(const double *c, double x)
{
    double v = c[7];
    for (int i = 6; i >= 0; i--)
        v = v * x + c[i];
    return v;
}

double fc__qnorm(double p)
{
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * poly7(as241_a, r) / poly7(as241_b, r);
    }
    double r = q < 0 ? p : 1.0 - p;
    if (r <= 0)
        return q < 0 ? -INFINITY : INFINITY;
    r = sqrt(-log(r));
    double val = r <= 5.0 ? poly7(as241_c, r - 1.6) / poly7(as241_d, r - 1.6)
                          : poly7(as241_e, r - 5.0) / poly7(as241_f, r - 5.0);
    return q < 0 ? -val : val;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void fc__rng_seed(fc__rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

double fc__rng_unif(fc__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return (double)(result >> 11) * 0x1.0p-53;
}

double fc__rng_norm(fc__rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = 2.0 * fc__rng_unif(r) - 1.0;
        v = 2.0 * fc__rng_unif(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

size_t fc__line(const double *y, size_t n, double *a, double *b)
{
    double st = 0, sy = 0;
    size_t k = 0;
    for (size_t t = 0; t < n; t++) {
        if (isnan(y[t]))
            continue;
        st += (double)t;
        sy += y[t];
        k++;
    }
    if (k < 2) {
        *a = k ? sy : 0.0;
        *b = 0.0;
        return k;
    }
    double mt = st / (double)k, my = sy / (double)k, sxx = 0, sxy = 0;
    for (size_t t = 0; t < n; t++) {
        if (isnan(y[t]))
            continue;
        double dt = (double)t - mt;
        sxx += dt * dt;
        sxy += dt * (y[t] - my);
    }
    *b = sxx > 0 ? sxy / sxx : 0.0;
    *a = my - *b * mt;
    return k;
}

int fc__fill(const double *y, size_t n, double *out)
{
    size_t prev = n; /* index of the last observed value, n = none yet */
    for (size_t t = 0; t < n; t++) {
        if (isnan(y[t]))
            continue;
        out[t] = y[t];
        if (prev == n) {
            for (size_t i = 0; i < t; i++)
                out[i] = y[t];
        } else {
            for (size_t i = prev + 1; i < t; i++)
                out[i] = y[prev] + (y[t] - y[prev]) * (double)(i - prev) / (double)(t - prev);
        }
        prev = t;
    }
    if (prev == n)
        return -1;
    for (size_t i = prev + 1; i < n; i++)
        out[i] = y[prev];
    return 0;
}

int fc__decompose(const double *x, size_t n, int m, int multiplicative, double *idx)
{
    if (m < 2 || n < 2 * (size_t)m)
        return -1;
    enum { MAX_M = 64 };
    if (m > MAX_M)
        return -1;
    size_t half = (size_t)m / 2;
    double sum[MAX_M] = {0};
    size_t cnt[MAX_M] = {0};
    for (size_t t = half; t + half < n; t++) {
        double tr;
        if (m % 2) {
            tr = 0;
            for (size_t i = t - half; i <= t + half; i++)
                tr += x[i];
            tr /= m;
        } else {
            tr = 0.5 * (x[t - half] + x[t + half]);
            for (size_t i = t - half + 1; i < t + half; i++)
                tr += x[i];
            tr /= m;
        }
        double d;
        if (multiplicative) {
            if (!(tr > 0))
                return -1;
            d = x[t] / tr;
        } else {
            d = x[t] - tr;
        }
        sum[t % (size_t)m] += d;
        cnt[t % (size_t)m]++;
    }
    double mean = 0;
    for (int j = 0; j < m; j++) {
        idx[j] = cnt[j] ? sum[j] / (double)cnt[j] : (multiplicative ? 1.0 : 0.0);
        mean += idx[j];
    }
    mean /= m;
    for (int j = 0; j < m; j++) {
        if (multiplicative)
            idx[j] = mean > 0 ? idx[j] / mean : 1.0;
        else
            idx[j] -= mean;
    }
    return 0;
}

int fc__seasonal_test(const double *x, size_t n, int m)
{
    if (m < 2 || n < 2 * (size_t)m)
        return 0;
    double mean = 0;
    for (size_t t = 0; t < n; t++)
        mean += x[t];
    mean /= (double)n;
    double c0 = 0;
    for (size_t t = 0; t < n; t++)
        c0 += (x[t] - mean) * (x[t] - mean);
    if (!(c0 > 0))
        return 0;
    double sumsq = 0, rm = 0;
    for (int k = 1; k <= m; k++) {
        double c = 0;
        for (size_t t = 0; t + (size_t)k < n; t++)
            c += (x[t] - mean) * (x[t + (size_t)k] - mean);
        double r = c / c0;
        if (k < m)
            sumsq += r * r;
        else
            rm = r;
    }
    double stat = sqrt((1.0 + 2.0 * sumsq) / (double)n);
    /* qnorm(0.95): the one-sided 90% test thetaf uses */
    return fabs(rm) / stat > 1.6448536269514722;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void fc__sort(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
}

double fc__quantile_sorted(const double *v, size_t n, double p)
{
    if (n == 1)
        return v[0];
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}
