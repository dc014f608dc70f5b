/*
 * fc_simple: the benchmark methods -- mean, naive (random walk) and seasonal
 * naive -- with forecast's intervals (meanf, naive, snaive).  Internal to
 * the engine; also the fallbacks for series too short or too degenerate for
 * anything else.
 */
#ifndef FC_SIMPLE_H
#define FC_SIMPLE_H

#include "fc_engine_int.h"

/* Fits kind (FC__K_MEAN, FC__K_NAIVE or FC__K_SNAIVE with period d->m >= 2)
 * to d.  Returns -1 when d has no observation (or, for seasonal naive, no
 * observed value one season back from the end). */
int fc__simple_fit(fc__kind kind, const fc__data *d, fc__model *out);

void fc__simple_fitted(const fc__model *md, const fc__data *d, double *fitted);
void fc__simple_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                       size_t h, double *out);
void fc__simple_predict(const fc__model *md, const fc__data *d, fc__pred *p);

#endif
