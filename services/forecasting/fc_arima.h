/*
 * fc_arima: seasonal ARIMA(p,d,q)(P,D,Q)[m] models and their automatic
 * choice as forecast::auto.arima makes it (Hyndman & Khandakar 2008):
 * D from the seasonal strength of a decomposition (> 0.64, auto.arima's
 * default "seas" test), d from repeated KPSS tests at 5% (ndiffs), then
 * the stepwise search over p, q, P, Q and the constant by AICc.  A model
 * whose AR or MA polynomial has a root within 1.01 of the unit circle is
 * rejected as auto.arima rejects it.  Internal to the engine.
 *
 * Models are fitted as auto.arima fits them: by exact maximum likelihood
 * (Kalman filter, stationary initial state) from conditional-sum-of-squares
 * estimates on short series, by CSS during the search and exactly at the
 * end on long ones.
 *
 * Differences from R, all on purpose:
 * - forecasts run the CSS recursion with the fitted coefficients, not the
 *   Kalman filter's final state (the same once the start has washed out);
 * - the seasonal strength comes from a moving-average trend and a
 *   seasonal component smoothed across cycles as STL's (window of 11
 *   cycles, tricube weights, locally constant), not from STL itself
 *   (forecast::mstl); it agrees with nsdiffs on the 30 benchmark series;
 * - missing and censored days are filled with the model's one-step
 *   prediction inside the recursion (R's CSS would let a missing value
 *   spoil every later residual of a model with an MA part).
 *
 * The constant follows auto.arima: a mean when d + D = 0, a drift when
 * d + D = 1 (y_t - c t with t = 1, 2, ... is differenced), none beyond.
 */
#ifndef FC_ARIMA_H
#define FC_ARIMA_H

#include "fc_engine_int.h"

/* Flags of fc__arima_fit and fc__arima_auto. */
#define FC__ARIMA_EXACT 1u /* exact likelihood (see below) */
#define FC__ARIMA_QUICK 2u /* a cheaper optimiser and search (see below) */

/* Fits the orders in spec (p, d, q, P, D, Q, constant; seasonal parts
 * with period d->m) to d: by conditional sum of squares, then with
 * FC__ARIMA_EXACT by the exact Gaussian likelihood from those estimates
 * (stats::arima's "CSS-ML"; the CSS AR parts must be stationary, as
 * there).  FC__ARIMA_QUICK (without EXACT): estimated on the last 168
 * values, one simplex run with a fifth of the evaluations (a forecast in a
 * combination, not a reference fit).
 * Returns 0, or -1 when the data are too few for the model's parameters,
 * the fit is not finite or a root lies within 1.01 of the unit circle. */
int fc__arima_fit(const fc__data *d, const fc__arima *spec, unsigned flags, const fc__opts *o,
                  fc__model *out);

/* auto.arima's choice: differencing by the tests above, then the stepwise
 * search (at most 94 models), by exact likelihood on series of at most 150
 * values with a period of at most 12, else by CSS followed -- with
 * FC__ARIMA_EXACT -- by the exact refit of the best models in turn until
 * one passes the root check.  FC__ARIMA_QUICK: CSS only, quick fits, on
 * the last 168 values, at most 12 models -- about a hundredth of the cost
 * on two years of days.  seasonal: consider period d->m.  Returns 0, or -1
 * when no model could be fitted. */
int fc__arima_auto(const fc__data *d, const fc__opts *o, int seasonal, unsigned flags,
                   fc__model *out);

/* One-step predictions for t = 0 .. d->n - 1 (the data themselves before
 * the recursion has enough history). */
void fc__arima_fitted(const fc__model *md, const fc__data *d, double *fitted);

/* Point forecasts h steps ahead from each of the k increasing origins into
 * out[i * h ...], filtering the data with the model's coefficients. */
void fc__arima_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                      size_t h, double *out);

/* Forecast at the end of the data in innovations form: the psi weights of
 * the model with its differences, sigma2 as auto.arima reports it. */
void fc__arima_predict(const fc__model *md, const fc__data *d, fc__pred *p);

/* "ARIMA(2,1,1)(0,1,1)[12] with drift" etc. */
void fc__arima_name(const fc__model *md, char *buf, size_t cap);

/* KPSS level-stationarity statistic of x (n values, no NAN) with lags
 * autocovariance lags in the Bartlett-weighted long-run variance
 * (urca::ur.kpss, type "mu").  NAN when n < 2 or the variance is zero. */
double fc__kpss_stat(const double *x, size_t n, int lags);

/* Differences ndiffs would take: KPSS at 5% (statistic above 0.463) with
 * trunc(3 sqrt(n) / 13) lags, repeated up to max_d times. */
int fc__arima_ndiffs(const double *x, size_t n, int max_d);

/* Seasonal strength max(0, 1 - var(remainder) / var(remainder + season))
 * of x (n >= 2m values, no NAN) with period m: trend by a centred moving
 * average, season by STL-like smoothing of each season across cycles.
 * NAN when it cannot be computed. */
double fc__seasonal_strength(const double *x, size_t n, int m);

#endif
