/*
 * fc_select: one interface over the model families, the rolling-origin
 * backtest, and the choice of a model for a series (fallbacks for
 * degenerate and short series included, each with its reason).  Internal
 * to the engine.
 */
#ifndef FC_SELECT_H
#define FC_SELECT_H

#include "fc_engine_int.h"

/* Dispatch over fc__model.kind.  work is scratch of d->n doubles. */
void fc__model_fitted(const fc__model *md, const fc__data *d, double *work, double *fitted);
void fc__model_points(const fc__model *md, const fc__data *d, const size_t *origins, size_t k,
                      size_t h, double *work, double *out);
void fc__model_predict(const fc__model *md, const fc__data *d, const fc__opts *o, double *work,
                       fc__pred *p);
void fc__model_name(const fc__model *md, char *buf, size_t cap);

/* How backtest forecasts are put on the scale of the data before they are
 * judged: the long (yearly) seasonal term, which the models do not see
 * (model data is y adjusted by it; ls covers the data, NULL when none), and
 * the clamp at zero of non-negative series. */
typedef struct fc__judge {
    const double *ls;
    int ls_mul;
    int nonneg;
} fc__judge;

#define FC__MAX_COMB 3

typedef struct fc__choice {
    fc__model model; /* the model; for a combination, its best member */
    /* A combination: n_comb > 0 members combined by their median (see
     * fc__choice_predict); weight[i] ranks them by backtest skill (1 /
     * MAE, summing to 1), 0 leaving out a member that broke down. */
    int n_comb;
    fc__model comb[FC__MAX_COMB];
    double weight[FC__MAX_COMB];
    /* The auto method's choice within the combination: -1 the median;
     * otherwise the member used alone (ETS, 0) because its backtest error
     * was clearly below the median's (see choose_combination).  model is
     * then that member; its backtest is the choice's. */
    int pick;
    /* A combination's interval scale: how much wider (or narrower) its
     * backtest errors were than its members' stated spread, shrunk
     * towards 1 (1: as stated). */
    double iscale;
    double bt_mase, bt_smape; /* NAN without backtest */
    int bt_origins;
    char reason[320];
} fc__choice;

/* The chosen model's or combination's one-step predictions (work: scratch
 * of 2 d->n doubles). */
void fc__choice_fitted(const fc__choice *ch, const fc__data *d, double *work, double *fitted);

/* The chosen model's or combination's forecast.  A combination's point is
 * the median of its members'; its quantiles are the median of theirs at
 * the same level (sample paths ranked by the simulated member's when one
 * is simulated; otherwise the median spread around the median point),
 * widened by the members' disagreement (variance + the mean square of
 * the members' points around the median), then widened by iscale.  A picked member (pick >= 0)
 * gives its own forecast, its intervals widened or narrowed by iscale.  Falls back to the best
 * member alone when out of memory. */
void fc__choice_predict(const fc__choice *ch, const fc__data *d, const fc__opts *o, double *work,
                        fc__pred *p);

/* "Median of ETS(A,N,A), ARIMA(...), Theta", "ETS(A,N,A) (backtest:
 * better than the median of ETS, ARIMA and Theta)" or the model's name. */
void fc__choice_name(const fc__choice *ch, char *buf, size_t cap);

/* Chooses and fits the model for d according to cfg (method, selection,
 * backtest), falling back to simpler models where the data call for it.
 * work is scratch of fc__select_work(d->n, cfg) doubles.
 * Fails with FAILED_PRECONDITION when no day is observed. */
sl_status fc__choose(const fc__data *d, const fc__judge *jd, const fc_config *cfg,
                     const fc__opts *o, double *work, fc__choice *out, sl_err *err);

/* The interval scale that puts 95% of the standardised absolute backtest
 * errors z (nz of them; sorted in place) inside the normal's 95% band,
 * shrunk towards 1 as if 5 more errors had fitted (the combination's
 * tail check, fc_select.c); 1 with fewer than 5 errors. */
double fc__tail_scale(double *z, size_t nz);

/* Scratch doubles fc__choose needs for a series of n days under cfg. */
size_t fc__select_work(size_t n, const fc_config *cfg);

/* MASE scale: mean absolute lag-m difference of y[0 .. n) over observed
 * pairs (lag 1 when m < 2 or the series is shorter than m + 1); 0 when no
 * pair exists. */
double fc__mase_scale(const double *y, size_t n, int m);

#endif
