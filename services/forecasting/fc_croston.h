/*
 * fc_croston: intermittent demand -- Croston's method (1972) and TSB
 * (Teunter, Syntetos & Babai 2011).  Internal to the engine.
 *
 * Croston smooths the non-zero demand sizes z and the intervals x between
 * them (both with alpha) and forecasts z / x, starting as forecast::croston
 * does from the first demand and the first interval.  TSB smooths the size
 * with alpha on demand days and the probability of demand p with beta on
 * every day, and forecasts p z; unlike Croston its forecast decays while no
 * demand comes, so an item that stopped selling stops being stocked.
 *
 * Neither method has a likelihood: parameters come from a small grid by
 * in-sample mean squared error, and intervals from sample paths in which
 * demand occurs with the model's probability and sizes are drawn from the
 * past sizes scaled to the current size level, the states updating as the
 * path unfolds.  Missing days are skipped (they count in no interval).
 */
#ifndef FC_CROSTON_H
#define FC_CROSTON_H

#include "fc_engine_int.h"

/* Fits kind (FC__K_CROSTON or FC__K_TSB).  alpha (and beta for TSB) in
 * (0, 1] fix the parameters; a negative value picks it from the grid.
 * Returns -1 when the data have no positive observation. */
int fc__croston_fit(fc__kind kind, const fc__data *d, double alpha, double beta, fc__model *out);

void fc__croston_fitted(const fc__model *md, const fc__data *d, double *fitted);
void fc__croston_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                        size_t h, double *out);
/* Simulated intervals (p->paths); work is scratch of d->n doubles. */
void fc__croston_predict(const fc__model *md, const fc__data *d, const fc__opts *o, double *work,
                         fc__pred *p);

#endif
