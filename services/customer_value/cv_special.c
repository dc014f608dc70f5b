/*
 * cv_special: gamma-family functions and the Gaussian hypergeometric series
 * (see cv_special.h).
 */
#include "cv_special.h"

#include <math.h>

/* Past this many terms the hypergeometric series is declared not converged;
 * at z = 1 - 1e-5 the terms shrink by e^-1 every 100,000 steps. */
#define HYP2F1_MAX_TERMS 2000000L

/* The running scale of the series: sums beyond 1e200 are divided by 1e200
 * and the logarithm of the factor remembered, so no partial sum overflows. */
#define HYP2F1_RESCALE 1e200

double cv_lgamma(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

double cv_lbeta(double a, double b)
{
    return cv_lgamma(a) + cv_lgamma(b) - cv_lgamma(a + b);
}

double cv_lpoch(double a, double n)
{
    if (n == 0.0)
        return 0.0;
    if (n <= 16.0 && n == floor(n)) {
        /* A product of at most 16 factors cannot overflow for the arguments
         * the models use, and one log of it is exact to rounding. */
        double prod = 1.0;
        for (int k = 0; k < (int)n; k++)
            prod *= a + k;
        if (isfinite(prod) && prod > 0.0)
            return log(prod);
    }
    return cv_lgamma(a + n) - cv_lgamma(a);
}

double cv_digamma(double x)
{
    double acc = 0.0;
    /* psi(x) = psi(x + 1) - 1/x moves the argument into the range where the
     * asymptotic series is accurate to double precision. */
    while (x < 10.0) {
        acc -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    /* Bernoulli-number coefficients B_2k / (2k) of the asymptotic expansion. */
    double t =
        f * (-1.0 / 12 +
             f * (1.0 / 120 +
                  f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760))))));
    return acc + log(x) - 0.5 / x + t;
}

double cv_logaddexp(double u, double v)
{
    if (u == -INFINITY)
        return v;
    if (v == -INFINITY)
        return u;
    return u > v ? u + log1p(exp(v - u)) : v + log1p(exp(u - v));
}

double cv_log1pexp(double u)
{
    return u > 0.0 ? u + log1p(exp(-u)) : log1p(exp(u));
}

/* Sums the plain series of 2F1(a, b; c; z) into sum * exp(*scale).  Returns
 * 0 when converged, -1 when HYP2F1_MAX_TERMS ran out. */
static int hyp2f1_series(double a, double b, double c, double z, double *sum_out, double *scale_out)
{
    double sum = 1.0, term = 1.0, scale = 0.0;
    for (long n = 0; n < HYP2F1_MAX_TERMS; n++) {
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z;
        if (term == 0.0)
            break; /* a or b is a non-positive integer: a polynomial */
        sum += term;
        if (fabs(sum) > HYP2F1_RESCALE || fabs(term) > HYP2F1_RESCALE) {
            sum /= HYP2F1_RESCALE;
            term /= HYP2F1_RESCALE;
            scale += log(HYP2F1_RESCALE);
        }
        /* The ratio of successive terms tends to z; once it is below 1 the
         * tail is bounded by a geometric series at the larger of the next
         * ratio and z. */
        double next = fabs((a + n + 1) * (b + n + 1) / ((c + n + 1) * (n + 2)) * z);
        double rho = next > z ? next : z;
        if (rho < 1.0 && fabs(term) * rho / (1.0 - rho) <= 1e-17 * fabs(sum)) {
            *sum_out = sum;
            *scale_out = scale;
            return 0;
        }
    }
    if (term == 0.0) {
        *sum_out = sum;
        *scale_out = scale;
        return 0;
    }
    return -1;
}

static int is_nonpositive_integer(double v)
{
    return v <= 0.0 && v == floor(v);
}

sl_status cv_log_hyp2f1(double a, double b, double c, double z, double *log_abs, int *sign,
                        sl_err *err)
{
    if (!(z >= 0.0 && z < 1.0))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "2F1 argument z = %g is outside [0, 1)", z);
    if (is_nonpositive_integer(c))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "2F1 parameter c = %g is a pole", c);
    if (!isfinite(a) || !isfinite(b) || !isfinite(c))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "2F1 parameters must be finite");

    /* Euler's transformation has terms (c-a)_n (c-b)_n / (c)_n n! z^n: use it
     * when those start smaller, or when it terminates and the direct one
     * does not.  BG/NBD's 2F1(r + x, b + x; a + b + x - 1; z) is the case
     * that matters: there c - a and c - b stay small as x grows. */
    int direct_ends = is_nonpositive_integer(a) || is_nonpositive_integer(b);
    int euler_ends = is_nonpositive_integer(c - a) || is_nonpositive_integer(c - b);
    int euler = !direct_ends && (euler_ends || fabs((c - a) * (c - b)) < fabs(a * b));

    double sum, scale;
    int rc = euler ? hyp2f1_series(c - a, c - b, c, z, &sum, &scale)
                   : hyp2f1_series(a, b, c, z, &sum, &scale);
    if (rc != 0)
        return sl_err_set(err, SL_OUT_OF_RANGE,
                          "2F1(%g, %g; %g; %g) did not converge: z is too close to 1", a, b, c, z);
    if (sum == 0.0) {
        *sign = 0;
        *log_abs = -INFINITY;
        return SL_OK;
    }
    *sign = sum > 0.0 ? 1 : -1;
    *log_abs = log(fabs(sum)) + scale + (euler ? (c - a - b) * log1p(-z) : 0.0);
    return SL_OK;
}
