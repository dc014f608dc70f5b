/*
 * cv_model_int: what cv_bgnbd.c and cv_gg.c share -- the threaded sum over
 * grouped rows and the restart loop around BFGS.  Not part of the engine's
 * surface.
 */
#ifndef CV_MODEL_INT_H
#define CV_MODEL_INT_H

#include "cv_model.h"
#include "cv_optim.h"

/* Accumulators per partial sum (log-likelihood plus its gradient). */
#define CV__SUM_MAX 8

/* Adds the contributions of rows [begin, end) into acc[0..k-1]. */
typedef void (*cv__range_fn)(const void *ctx, size_t begin, size_t end, double *acc);

/* Threads worth using for n rows under opt: none beyond one per 16,384
 * rows, since a thread start costs about what that many rows do. */
int cv__threads_for(const cv_fit_options *opt, size_t n);

/* Sums fn over [0, n) in `threads` contiguous slices and adds the slices in
 * order, so a given thread count always gives the same bits.  A thread that
 * cannot be started has its slice run by the caller. */
void cv__parallel_sum(cv__range_fn fn, const void *ctx, size_t n, int threads, size_t k,
                      double *out);

/* Runs BFGS from each start in turn (each start restarted from where it
 * stopped, up to three times, while it has not converged), keeps the best
 * point in theta and adds iterations, evaluations, runs, convergence and the
 * gradient norm into rep. */
sl_status cv__fit_runs(cv_objective fn, void *ctx, size_t dim, const double *starts, int n_starts,
                       const cv_fit_options *opt, double *theta, double *best_f, cv_fit_report *rep,
                       sl_err *err);

/* Monotonic wall-clock seconds. */
double cv__now(void);

/* log-parameters stay within +-CV__LOG_PARAM_MAX: beyond, the objective is
 * reported as undefined, so the line search steps back instead of letting a
 * parameter run off to 0 or infinity. */
#define CV__LOG_PARAM_MAX 30.0

#endif
