/*
 * fc_engine_int.h: types shared by the engine's files (the models, the
 * selection, events and the forecast object).  Not part of the public API;
 * the service and the CLI include fc_engine.h only.
 */
#ifndef FC_ENGINE_INT_H
#define FC_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fc_engine.h"
#include "fc_stats.h"

/* A series as the models see it: values with NAN for days without a usable
 * observation (missing, stock-out without sales, event days) and censored
 * days (stock-out with sales: demand was at least the value). */
typedef struct fc__data {
    const double *y;
    const uint8_t *cens; /* NULL or n flags, 1 = censored */
    size_t n;
    int m; /* seasonal period, 1 = none */
} fc__data;

/* Model families. */
typedef enum fc__kind {
    FC__K_MEAN,
    FC__K_NAIVE,
    FC__K_SNAIVE,
    FC__K_ETS,
    FC__K_THETA,
    FC__K_CROSTON,
    FC__K_TSB,
    FC__K_ARIMA,
} fc__kind;

/* ETS components. */
typedef enum fc__comp {
    FC__C_NONE,
    FC__C_ADD,
    FC__C_DAMPED, /* trend only */
    FC__C_MUL,
} fc__comp;

/* ARIMA orders and coefficients (fc_arima.h); seasonal parts have the
 * model's period m. */
#define FC__ARIMA_MAX_P 5
#define FC__ARIMA_MAX_SP 2
typedef struct fc__arima {
    int p, d, q, P, D, Q;
    int constant; /* 0 none, 1 mean (d + D = 0), 2 drift (d + D = 1) */
    int exact;    /* 1 fitted by exact likelihood, 0 by CSS */
    double ar[FC__ARIMA_MAX_P], ma[FC__ARIMA_MAX_P];
    double sar[FC__ARIMA_MAX_SP], sma[FC__ARIMA_MAX_SP];
    double c; /* the mean, or the drift per step */
} fc__arima;

/* A fitted model: its family, parameters and initial states.  Plain data
 * (no pointers), so candidates are copied freely. */
typedef struct fc__model {
    fc__kind kind;
    fc_method method; /* reported to the caller */
    int m;            /* seasonal period the model uses (1 = none) */
    fc__comp error, trend, season;
    double alpha, beta, gamma, phi;
    double l0, b0, s0[FC_MAX_SEASON]; /* initial states; s0[j] for t mod m == j */
    double idx[FC_MAX_SEASON];        /* Theta: seasonal indices (multiplicative or additive) */
    int idx_mul;                      /* Theta: 1 multiplicative, 0 additive, -1 none */
    double lik;                       /* -2 log likelihood up to a constant (ETS), NAN otherwise */
    double aicc;
    double sigma2; /* residual variance (relative for multiplicative error) */
    int np;        /* parameters counted by the AICc */
    size_t nobs;   /* observations used by the fit */
    double level;  /* mean/naive: the forecast level */
    fc__arima ar;  /* ARIMA only */
} fc__model;

/* A model's forecast at the end of its data (before events, the long season
 * and clamping).  Step j's error is scale[j] * sum_{k<=j} psi[j-k] eps_k
 * with eps ~ N(0, sigma2) independent -- the linear innovations form that
 * gives analytic intervals and sums -- unless the model filled paths
 * (n_paths sample paths, path-major: paths[p * h + j]). */
typedef struct fc__pred {
    size_t h;
    double *mean;
    double *psi;
    double *scale;
    double sigma2;
    double *paths; /* provided by the caller: n_paths * h values */
    int n_paths;
    int simulated; /* set by the model when it filled paths */
} fc__pred;

/* Fitting options shared by the families. */
typedef struct fc__opts {
    int opt_init; /* ETS: 0 heuristic initial states, 1 optimise level/trend, 2 also seasonal */
    int evals_per_dim; /* Nelder-Mead evaluation cap per model: this times (parameters + 1) */
    double tol;        /* Nelder-Mead relative tolerance */
    fc__rng *rng;      /* for simulated intervals */
} fc__opts;

/* The forecast object behind the public handle. */
struct fc_forecast {
    size_t h;
    size_t n_levels;
    double levels[FC_MAX_LEVELS];
    double *point;
    double *lo[FC_MAX_LEVELS];
    double *hi[FC_MAX_LEVELS];
    /* for sums over steps: the innovations form or the sample paths, with
     * events, the long season and intraday refreshes folded in */
    double *psi, *scale;
    double sigma2;
    double *paths;
    int n_paths;
    int simulated;
    int nonneg; /* clamp figures at zero (the history has no negative value) */
    fc_info info;
    char model[160];
    char reason[384];
    fc_uplift *uplifts;
    size_t n_uplifts;
};

/* Standard deviation of step j of a prediction in innovations form. */
double fc__pred_sd(const fc__pred *p, size_t j);

#endif
