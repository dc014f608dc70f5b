/*
 * cv_special: the special functions behind the customer-value models, in
 * log space where values overflow.
 *
 * BG/NBD and Gamma-Gamma likelihoods are ratios of gamma and beta functions
 * whose arguments grow with a customer's purchase count, and BG/NBD's
 * conditional expectation needs the Gaussian hypergeometric function 2F1.
 * Everything here is pure, thread-safe (lgamma_r, never the signgam global)
 * and allocation-free.
 */
#ifndef CV_SPECIAL_H
#define CV_SPECIAL_H

#include "sl_status.h"

/* ln Gamma(x) for x > 0, thread-safe. */
double cv_lgamma(double x);

/* ln B(a, b) = ln Gamma(a) + ln Gamma(b) - ln Gamma(a + b), for a, b > 0. */
double cv_lbeta(double a, double b);

/* ln of the Pochhammer symbol (a)_n = Gamma(a + n) / Gamma(a), for a > 0 and
 * n >= 0.  For integer n up to 16 it is a sum of logs, which keeps full
 * precision where the difference of two large lgamma values would not. */
double cv_lpoch(double a, double n);

/* The digamma function psi(x) for x > 0 (recurrence up to x >= 10, then the
 * asymptotic series; absolute error below 1e-14). */
double cv_digamma(double x);

/* ln(exp(u) + exp(v)) without overflow; -inf when both are -inf. */
double cv_logaddexp(double u, double v);

/* ln(1 + exp(u)) without overflow. */
double cv_log1pexp(double u);

/*
 * ln |2F1(a, b; c; z)| and its sign, for 0 <= z < 1, by the power series.
 *
 * The series is summed with a running scale, so results far beyond the
 * double range (2F1(r + x, b + x; ...) for customers with hundreds of
 * purchases) come out as finite logs.  When z is close to 1 the direct series
 * converges slowly and its terms grow with a and b; the function then sums
 * Euler's transformation 2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a,
 * c - b; c; z) instead whenever that has the smaller terms, as lifetimes
 * does when the direct value overflows.
 *
 * Fails with SL_INVALID_ARGUMENT when z is outside [0, 1) or c is zero or a
 * negative integer, and with SL_OUT_OF_RANGE when the series has not
 * converged after 2,000,000 terms (z within about 1e-5 of 1).  *sign is +1,
 * -1, or 0 when the value is exactly zero (then *log_abs is -inf).
 */
sl_status cv_log_hyp2f1(double a, double b, double c, double z, double *log_abs, int *sign,
                        sl_err *err);

#endif
