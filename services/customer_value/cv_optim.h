/*
 * cv_optim: unconstrained minimisation by BFGS with a strong-Wolfe line
 * search, for the engine's maximum-likelihood fits.
 *
 * The models are fitted on log-parameters (all of them are positive), with
 * analytic gradients: BFGS then needs a few dozen evaluations where
 * Nelder-Mead needs hundreds, which is what makes a million-customer fit
 * take seconds.  Dimensions are small (at most CV_OPTIM_MAX_DIM).
 */
#ifndef CV_OPTIM_H
#define CV_OPTIM_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_status.h"

#define CV_OPTIM_MAX_DIM 8

/* The function to minimise: returns f(theta) and writes its gradient into
 * grad[0..n-1].  It may return a non-finite value where f is undefined (the
 * line search then steps back). */
typedef double (*cv_objective)(const double *theta, double *grad, void *ctx);

typedef struct cv_optim_result {
    double f;         /* the objective at the returned point */
    double grad_norm; /* max |gradient component| there */
    int iterations;   /* BFGS iterations */
    int evaluations;  /* objective evaluations, line searches included */
    bool converged;   /* grad_norm <= gtol */
} cv_optim_result;

/*
 * Minimises f from theta (n components, updated in place to the best point
 * found).  Stops when every gradient component is at most gtol in absolute
 * value (converged), after max_iter iterations, or when the line search can
 * make no progress.  In that last case -- f too flat for its rounding to show
 * a decrease, as on Gamma-Gamma's q-gamma ridge -- up to 8 Newton steps on a
 * Hessian from differences of the gradient follow, kept only while they
 * shrink the gradient; converged then tells whether the gradient test holds.
 * Fails with SL_INVALID_ARGUMENT for n outside 1..CV_OPTIM_MAX_DIM or when f
 * is not finite at the start; allocates nothing.
 */
sl_status cv_optim_bfgs(cv_objective f, void *ctx, size_t n, double *theta, int max_iter,
                        double gtol, cv_optim_result *res, sl_err *err);

#endif
