/*
 * fc_stats: numerical helpers of the forecasting engine -- the normal
 * quantile, a seeded random stream, least squares lines, gap filling,
 * classical decomposition, a seasonality test and sorting.  Internal to the
 * engine (prefix fc__); the public surface is fc_engine.h.
 */
#ifndef FC_STATS_H
#define FC_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Quantile of the standard normal distribution at p in (0, 1) (Wichura's
 * AS 241, about 1e-16 relative accuracy). */
double fc__qnorm(double p);

/* A small deterministic random stream (xoshiro256**, seeded by splitmix64),
 * one per forecast so that results do not depend on threads. */
typedef struct fc__rng {
    uint64_t s[4];
    double spare;
    int has_spare;
} fc__rng;

void fc__rng_seed(fc__rng *r, uint64_t seed);
/* Uniform on [0, 1). */
double fc__rng_unif(fc__rng *r);
/* Standard normal (polar Box-Muller). */
double fc__rng_norm(fc__rng *r);

/* Least-squares line y = a + b * t over t = 0 .. n-1, skipping NAN values.
 * Returns the number of points used; with fewer than two, b = 0 and a is
 * their mean (0 with none). */
size_t fc__line(const double *y, size_t n, double *a, double *b);

/* Copies y (n values, NAN = missing) into out with gaps filled by linear
 * interpolation and the ends by the nearest observed value.  Returns 0, or
 * -1 when no value is observed (out is then left unspecified). */
int fc__fill(const double *y, size_t n, double *out);

/* Classical decomposition of the gap-free x (n >= 2m values): seasonal
 * indices idx[j] for positions t mod m == j, from a centred moving average
 * of order m.  multiplicative: ratios normalised to mean 1 (x must be
 * positive); otherwise differences normalised to mean 0.  Returns -1 when n
 * < 2m or a multiplicative trend value is not positive. */
int fc__decompose(const double *x, size_t n, int m, int multiplicative, double *idx);

/* The seasonality test of forecast::thetaf: the lag-m autocorrelation of the
 * gap-free x against its 90% bound.  1 when seasonal. */
int fc__seasonal_test(const double *x, size_t n, int m);

/* Sorts n doubles ascending (no NAN). */
void fc__sort(double *v, size_t n);

/* Quantile p of sorted v (n >= 1) by linear interpolation (R's type 7). */
double fc__quantile_sorted(const double *v, size_t n, double p);

#endif
