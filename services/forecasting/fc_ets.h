/*
 * fc_ets: exponential smoothing in state-space form (Hyndman, Koehler, Ord
 * & Snyder 2008): error additive or multiplicative, trend none, additive or
 * damped, seasonality none, additive or multiplicative, fitted by maximum
 * likelihood.  SES, Holt and damped trend are ETS(A,N,N), (A,A,N) and
 * (A,Ad,N).  Internal to the engine.
 *
 * Parameters are kept in the "usual" region (1e-4 <= beta <= alpha <= 0.9999,
 * gamma <= 1 - alpha, 0.8 <= phi <= 0.98) by construction: the optimiser
 * works on unconstrained values mapped through nested logistic functions,
 * so no evaluation is wasted on a penalty.  Initial states come from a
 * classical decomposition of the first three seasons (as forecast::ets
 * starts); on short series they are optimised too.
 *
 * Missing values (NAN) leave the states on their prediction; censored days
 * below the prediction count as missing (demand was at least the sales, which
 * the prediction already is).
 */
#ifndef FC_ETS_H
#define FC_ETS_H

#include "fc_engine_int.h"

/* Fits ETS(error, trend, season) to the first d->n values.  start, when not
 * NULL, is a fitted model of the same form whose parameters start the
 * search.  Returns 0, or -1 when the form does not apply (multiplicative
 * parts on data that are not all positive, too few observations for its
 * parameters, no finite likelihood). */
int fc__ets_fit(const fc__data *d, fc__comp error, fc__comp trend, fc__comp season,
                const fc__opts *o, const fc__model *start, fc__model *out);

/* The form with the smallest AICc found by a stepwise search of errors A
 * and M, seasons N, A and M when seasonal, trends N, A and Ad
 * (multiplicative parts only on positive data; additive error never with
 * multiplicative season, as in forecast::ets).  Returns 0, or -1 when no
 * form applies. */
int fc__ets_auto(const fc__data *d, const fc__opts *o, int seasonal, fc__model *out);

/* One-step predictions for t = 0 .. d->n - 1 with the model's parameters. */
void fc__ets_fitted(const fc__model *md, const fc__data *d, double *fitted);

/* Point forecasts h steps ahead from each of the k increasing origins
 * (forecasts for origins[i] .. origins[i] + h - 1 into out[i * h ...]),
 * filtering the data with the model's fixed parameters. */
void fc__ets_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                    size_t h, double *out);

/* Forecast at the end of the data: analytic (class 1: additive error, no
 * multiplicative part) or by simulating sample paths. */
void fc__ets_predict(const fc__model *md, const fc__data *d, const fc__opts *o, fc__pred *p);

/* "ETS(M,Ad,M)" etc. */
void fc__ets_name(const fc__model *md, char *buf, size_t cap);

#endif
