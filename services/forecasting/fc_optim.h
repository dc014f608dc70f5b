/*
 * fc_optim: a small Nelder-Mead minimiser for the engine's likelihoods.
 *
 * The engine fits thousands of series per request, so the optimiser is
 * deliberately modest: few parameters (unconstrained -- models map them into
 * their admissible region themselves), an evaluation cap and a relative
 * tolerance on the objective, with no allocation.
 */
#ifndef FC_OPTIM_H
#define FC_OPTIM_H

#define FC__OPT_MAX_DIM 32

/* The objective: returns f(x) for dim values, INFINITY where undefined
 * (never NaN). */
typedef double (*fc__objective)(const double *x, void *ctx);

/* Minimises f from x (dim <= FC__OPT_MAX_DIM values, overwritten with the
 * best point found) with initial simplex steps step[i].  Stops when the
 * simplex's spread of values falls below tol * (|f_best| + tol) or after
 * max_eval evaluations.  Returns the best value (INFINITY when every point
 * tried was undefined). */
double fc__nelder_mead(fc__objective f, void *ctx, double *x, const double *step, int dim,
                       int max_eval, double tol, int *n_eval);

#endif
