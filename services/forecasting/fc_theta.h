/*
 * fc_theta: the Theta method (Assimakopoulos & Nikolopoulos 2000) in the
 * form of Hyndman & Billah (2003) and forecast::thetaf: simple exponential
 * smoothing with drift equal to half the slope of a straight line through
 * the (seasonally adjusted) series.  Seasonality, when the lag-m
 * autocorrelation test finds it, is removed by classical decomposition
 * (multiplicative on positive data, additive otherwise) and put back.
 * Internal to the engine.  work is caller scratch of d->n doubles.
 */
#ifndef FC_THETA_H
#define FC_THETA_H

#include "fc_engine_int.h"

/* Returns 0, or -1 when the data cannot be fitted (too few observations). */
int fc__theta_fit(const fc__data *d, const fc__opts *o, double *work, fc__model *out);
void fc__theta_fitted(const fc__model *md, const fc__data *d, double *work, double *fitted);
void fc__theta_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                      size_t h, double *work, double *out);
/* Intervals as thetaf's: those of SES, sigma sqrt(1 + (j - 1) alpha^2). */
void fc__theta_predict(const fc__model *md, const fc__data *d, double *work, fc__pred *p);

#endif
