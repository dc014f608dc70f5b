/*
 * cv_fit: the machinery common to the model fits -- threads, restarts,
 * timing (see cv_model_int.h).
 */
#include "cv_model_int.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define THREADS_MAX 8
#define ROWS_PER_THREAD 16384
#define DEFAULT_MAX_ITER 500
/* On the mean log-likelihood per customer and log-parameters: about 1e-6
 * relative error in the estimates, well inside the published precision, and
 * above the rounding noise of sums over a million customers. */
#define DEFAULT_GTOL 1e-8
#define RESTARTS_PER_START 3

typedef struct slice {
    cv__range_fn fn;
    const void *ctx;
    size_t begin, end, k;
    double acc[CV__SUM_MAX];
} slice;

static void *run_slice(void *arg)
{
    slice *s = arg;
    memset(s->acc, 0, sizeof s->acc);
    s->fn(s->ctx, s->begin, s->end, s->acc);
    return NULL;
}

int cv__threads_for(const cv_fit_options *opt, size_t n)
{
    if (opt != NULL && opt->naive)
        return 1;
    long want = opt != NULL && opt->threads > 0 ? opt->threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (want < 1)
        want = 1;
    if (want > THREADS_MAX)
        want = THREADS_MAX;
    long useful = (long)(n / ROWS_PER_THREAD) + 1;
    return (int)(want < useful ? want : useful);
}

void cv__parallel_sum(cv__range_fn fn, const void *ctx, size_t n, int threads, size_t k,
                      double *out)
{
    slice sl[THREADS_MAX];
    pthread_t tid[THREADS_MAX];
    bool started[THREADS_MAX] = {false};
    if (threads < 1)
        threads = 1;
    if (threads > THREADS_MAX)
        threads = THREADS_MAX;
    for (int i = 0; i < threads; i++) {
        sl[i] =
            (slice){fn, ctx, n * (size_t)i / (size_t)threads, n * (size_t)(i + 1) / (size_t)threads,
                    k,  {0}};
    }
    for (int i = 1; i < threads; i++)
        started[i] = pthread_create(&tid[i], NULL, run_slice, &sl[i]) == 0;
    run_slice(&sl[0]);
    for (int i = 1; i < threads; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            run_slice(&sl[i]);
    }
    memset(out, 0, k * sizeof *out);
    for (int i = 0; i < threads; i++)
        for (size_t j = 0; j < k; j++)
            out[j] += sl[i].acc[j];
}

sl_status cv__fit_runs(cv_objective fn, void *ctx, size_t dim, const double *starts, int n_starts,
                       const cv_fit_options *opt, double *theta, double *best_f, cv_fit_report *rep,
                       sl_err *err)
{
    int max_iter = opt != NULL && opt->max_iterations > 0 ? opt->max_iterations : DEFAULT_MAX_ITER;
    double gtol = opt != NULL && opt->gtol > 0.0 ? opt->gtol : DEFAULT_GTOL;
    double best[CV_OPTIM_MAX_DIM];
    bool have_best = false, best_converged = false;
    double best_gn = INFINITY;
    *best_f = INFINITY;

    for (int s = 0; s < n_starts && !best_converged; s++) {
        double cur[CV_OPTIM_MAX_DIM];
        memcpy(cur, starts + (size_t)s * dim, dim * sizeof *cur);
        /* A run that stops short usually stalled on a poor inverse-Hessian
         * estimate; restarting from its end point with a fresh one is
         * cheaper than trying another start. */
        for (int rerun = 0; rerun < RESTARTS_PER_START; rerun++) {
            cv_optim_result res;
            sl_err local;
            if (cv_optim_bfgs(fn, ctx, dim, cur, max_iter, gtol, &res, &local) != SL_OK)
                break; /* undefined at this start: try the next one */
            rep->runs++;
            rep->iterations += res.iterations;
            rep->evaluations += res.evaluations;
            /* Runs that end within rounding of each other found the same
             * optimum; then the one with the smaller gradient is the better
             * estimate of it. */
            double tie = 1e-12 * fmax(1.0, fabs(res.f));
            if (res.f < *best_f - tie || (res.f <= *best_f + tie && res.grad_norm < best_gn)) {
                *best_f = res.f;
                memcpy(best, cur, dim * sizeof *cur);
                best_converged = res.converged;
                best_gn = res.grad_norm;
                have_best = true;
            }
            if (res.converged)
                break;
        }
    }
    if (!have_best)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "the likelihood is not finite at any starting point");
    memcpy(theta, best, dim * sizeof *best);
    rep->converged = best_converged;
    rep->grad_norm = best_gn;
    return SL_OK;
}

double cv__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
