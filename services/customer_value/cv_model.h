/*
 * cv_model: the probabilistic customer-value models -- BG/NBD for repeat
 * purchases (Fader, Hardie & Lee, "Counting Your Customers the Easy Way",
 * Marketing Science 24(2), 2005), Gamma-Gamma for spend per transaction
 * (Fader, Hardie & Lee, "RFM and CLV", JMR 42(4), 2005; Hardie's note 025),
 * and the discounted CLV per customer built on both.
 *
 * Everything works on per-customer summaries in one time unit of the
 * caller's choosing (weeks in the papers, days in the service): x repeat
 * transactions after the first, the last one t_x after the first, and T from
 * the first to the end of the calibration period.  Horizons t are in the same
 * unit.  All functions are pure and thread-safe; none keeps state between
 * calls, so a service can fit in one thread and predict in many.
 *
 * Fitting is maximum likelihood by BFGS with analytic gradients on
 * log-parameters.  Customers with identical summaries are grouped first and
 * the likelihood terms that depend only on x, only on T or only on t_x are
 * computed once per distinct value, so the per-customer cost of one
 * evaluation is one exp and one log1p; large data sets are split across
 * threads.
 */
#ifndef CV_MODEL_H
#define CV_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* One customer's calibration-period summary. */
typedef struct cv_summary {
    uint32_t x;      /* repeat transactions (after the first purchase) */
    double t_x;      /* time of the last repeat transaction after the first; 0 when x = 0 */
    double T;        /* time from the first purchase to the end of calibration */
    double monetary; /* mean value of the x repeat transactions; 0 when x = 0 */
} cv_summary;

/* BG/NBD: purchase rate ~ Gamma(shape r, rate alpha); after each purchase
 * the customer drops out with probability p ~ Beta(a, b). */
typedef struct cv_bgnbd_params {
    double r, alpha, a, b;
} cv_bgnbd_params;

/* Gamma-Gamma: a transaction's value ~ Gamma(p, nu), nu ~ Gamma(q, gamma)
 * across customers. */
typedef struct cv_gg_params {
    double p, q, gamma;
} cv_gg_params;

/* Fitting knobs; all-zero means the defaults. */
typedef struct cv_fit_options {
    int threads;        /* worker threads; 0: one per online CPU, at most 8 */
    int max_iterations; /* per BFGS run; 0: 500 */
    double gtol;        /* gradient tolerance on the mean log-likelihood; 0: 1e-8 */
    bool naive;         /* evaluate every customer on one thread, ungrouped, with
                           lgamma/digamma per customer: the benchmark's reference */
} cv_fit_options;

/* What a fit did, for the caller's logs and the FitModels reply. */
typedef struct cv_fit_report {
    double log_likelihood; /* total, at the returned parameters */
    size_t customers;      /* customers the fit used */
    size_t distinct;       /* distinct summaries after grouping */
    int threads;           /* threads used per evaluation */
    int runs;              /* BFGS runs (restarts included) */
    int iterations;        /* BFGS iterations over all runs */
    int evaluations;       /* likelihood evaluations over all runs */
    bool converged;        /* the final gradient met the tolerance */
    double grad_norm;      /* max |d mean-LL / d log-parameter| at the end */
    double seconds;        /* wall time of the fit, grouping included */
} cv_fit_report;

/* Checks one summary: x >= 0, 0 <= t_x <= T, finite values, t_x = 0 and
 * monetary = 0 when x = 0, monetary >= 0.  SL_INVALID_ARGUMENT names the
 * offending field. */
sl_status cv_summary_check(const cv_summary *s, sl_err *err);

/* ---- BG/NBD ------------------------------------------------------------- */

/* One customer's log-likelihood, the paper's equation (6) in log space. */
double cv_bgnbd_loglik_one(const cv_bgnbd_params *m, uint32_t x, double t_x, double T);

/* Total log-likelihood of n customers into *ll.  Fails with
 * SL_INVALID_ARGUMENT on a bad summary (naming its index) or parameter. */
sl_status cv_bgnbd_loglik(const cv_bgnbd_params *m, const cv_summary *rows, size_t n, double *ll,
                          sl_err *err);

/*
 * Maximum-likelihood fit of r, alpha, a, b on n customers (monetary is
 * ignored).  opt may be NULL.  Writes the parameters to *out and, when rep
 * is not NULL, what the fit did.  Allocates only while it runs.  Fails with
 * SL_INVALID_ARGUMENT on a bad summary, SL_FAILED_PRECONDITION when n is 0,
 * SL_RESOURCE_EXHAUSTED when out of memory.  A fit that stops without
 * meeting the tolerance still returns SL_OK with rep->converged false and
 * the best point found.
 */
sl_status cv_bgnbd_fit(const cv_summary *rows, size_t n, const cv_fit_options *opt,
                       cv_bgnbd_params *out, cv_fit_report *rep, sl_err *err);

/* P(alive at T | x, t_x, T): 1 when x = 0 (BG/NBD customers can only drop
 * out right after a purchase). */
double cv_bgnbd_p_alive(const cv_bgnbd_params *m, uint32_t x, double t_x, double T);

/* E[X(t)]: expected purchases of a customer in the first t after their first
 * purchase (the paper's equation 7), into *out. */
sl_status cv_bgnbd_expected(const cv_bgnbd_params *m, double t, double *out, sl_err *err);

/*
 * E[Y(t) | x, t_x, T]: expected purchases in the next t after T (equation
 * 10), into *out.  The hypergeometric term is summed in the form
 *   (1 - (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)) / (a - 1)
 *     = -expm1((a-1) ln(1-z)) / (a-1) - (1-z)^(a-1) S,
 * with S the n >= 1 part of the Euler-transformed series, which has no
 * cancellation and no singularity at a = 1 (CDNOW's a is 0.79).  Fails with
 * SL_INVALID_ARGUMENT on bad arguments and SL_OUT_OF_RANGE when t is so long
 * against alpha + T that the series does not converge.
 */
sl_status cv_bgnbd_conditional_expected(const cv_bgnbd_params *m, uint32_t x, double t_x, double T,
                                        double t, double *out, sl_err *err);

/* ---- Gamma-Gamma --------------------------------------------------------- */

/* One repeat customer's log-likelihood of their mean transaction value
 * (x >= 1, mean_value > 0): the density of z-bar given p, q, gamma. */
double cv_gg_loglik_one(const cv_gg_params *m, uint32_t x, double mean_value);

/* Total log-likelihood over the rows with x >= 1 and monetary > 0 (others
 * are skipped, as in the fit), and how many were used. */
sl_status cv_gg_loglik(const cv_gg_params *m, const cv_summary *rows, size_t n, double *ll,
                       size_t *used, sl_err *err);

/* Maximum-likelihood fit of p, q, gamma on the rows with x >= 1 and
 * monetary > 0; the others are skipped (the model describes repeat
 * spend).  Same options, report and failures as cv_bgnbd_fit, with
 * SL_FAILED_PRECONDITION when fewer than two rows qualify. */
sl_status cv_gg_fit(const cv_summary *rows, size_t n, const cv_fit_options *opt, cv_gg_params *out,
                    cv_fit_report *rep, sl_err *err);

/* E[Z | x, z-bar]: a customer's expected value per transaction, a weighted
 * mean of the population mean p gamma / (q - 1) and their own z-bar.  With
 * x = 0 (or mean_value <= 0) it is the population mean.  Fails with
 * SL_FAILED_PRECONDITION when q <= 1 (the population mean does not exist). */
sl_status cv_gg_expected_value(const cv_gg_params *m, uint32_t x, double mean_value, double *out,
                               sl_err *err);

/* ---- CLV ------------------------------------------------------------------ */

/* The horizon and discounting of a model CLV. */
typedef struct cv_clv_horizon {
    double step;          /* length of one discounting period, in the summary's unit */
    int periods;          /* number of periods (e.g. 12 monthly steps) */
    double discount_rate; /* per period, > -1 (e.g. 0.01 a month) */
} cv_clv_horizon;

/*
 * Discounted expected revenue over the horizon, into *out:
 *   value * sum_{k=1..periods} (E[Y(k step)] - E[Y((k-1) step)]) / (1 + d)^k
 * with E[Y] the conditional expectation above and value the expected value
 * per transaction (from cv_gg_expected_value, or a margin of it) -- the
 * discrete form of the papers' discounted expected residual transactions.
 * Fails like cv_bgnbd_conditional_expected, and with SL_INVALID_ARGUMENT on
 * a bad horizon.
 */
sl_status cv_clv_discounted(const cv_bgnbd_params *m, const cv_summary *s, double value,
                            const cv_clv_horizon *h, double *out, sl_err *err);

#endif
