/*
 * fc_engine: the demand-forecasting engine -- a pure C library (no gRPC, no
 * database) shared by the ForecastingService and the shelfline-forecast
 * command line.
 *
 * A series goes in (daily units, with optional missing days, stock-out flags
 * and event days); a forecast comes out: point forecasts with prediction
 * intervals at the requested levels, the model that made them and why, its
 * rolling-origin backtest error (MASE, sMAPE) and the event uplifts it
 * applied.  Models: mean, naive, seasonal naive, exponential smoothing (SES,
 * Holt, damped, and the ETS family with additive or multiplicative error and
 * seasonality, fitted by maximum likelihood), Theta, seasonal ARIMA chosen
 * as forecast::auto.arima chooses it, and Croston and TSB for intermittent
 * demand.  With method "auto" the engine chooses per series: intermittent
 * series go to Croston, TSB or ETS by a rolling-origin backtest, the others
 * to the median of ETS, ARIMA and Theta (method "combo").
 *
 * Beside the forecast itself: sums over forecast steps with their intervals
 * (lead-time demand, weekly and monthly buckets), an intraday refresh of the
 * current day from partial hourly sales, calendar aggregation of daily
 * history, hierarchy reconciliation, and the error measures.
 *
 * Everything here is reentrant: no global state, so one engine call per
 * thread runs in parallel.  Results are deterministic for a given input and
 * seed.
 */
#ifndef FC_ENGINE_H
#define FC_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* ---- methods ----------------------------------------------------------- */

/* X(enum suffix, name used by the CLI and the API) */
#define FC_METHOD_LIST(X)                                                                          \
    X(AUTO, "auto")                                                                                \
    X(MEAN, "mean")                                                                                \
    X(NAIVE, "naive")                                                                              \
    X(SNAIVE, "snaive")                                                                            \
    X(SES, "ses")                                                                                  \
    X(HOLT, "holt")                                                                                \
    X(DAMPED, "damped")                                                                            \
    X(ETS, "ets")                                                                                  \
    X(THETA, "theta")                                                                              \
    X(CROSTON, "croston")                                                                          \
    X(TSB, "tsb")                                                                                  \
    X(ARIMA, "arima")                                                                              \
    X(COMBO, "combo")

typedef enum fc_method {
#define FC__METHOD_ENUM(name, str) FC_METHOD_##name,
    FC_METHOD_LIST(FC__METHOD_ENUM)
#undef FC__METHOD_ENUM
} fc_method;

/* The method's name, e.g. "damped"; "unknown" outside the list.  Static. */
const char *fc_method_name(fc_method m);

/* Parses a method name (exact, lower case).  Fails with INVALID_ARGUMENT
 * naming the value and the accepted names. */
sl_status fc_method_parse(const char *name, fc_method *out, sl_err *err);

/* How "auto" (and "ets") choose between candidate models. */
typedef enum fc_select {
    /* Regular series: the median of ETS (lowest AICc), ARIMA (auto.arima's
     * choice) and Theta, leaving out a member that breaks down in a
     * rolling-origin backtest on the end of the series (each fitted once
     * on the data before the first origin), with intervals scaled by that
     * backtest's errors.
     * Intermittent series: Croston, TSB or ETS, whichever backtests
     * better.  Falls back to FC_SELECT_AICC when the series is too short
     * for a backtest. */
    FC_SELECT_BACKTEST,
    /* AICc within the ETS family only (Theta and ARIMA have no comparable
     * likelihood); intermittent series still go to Croston/TSB. */
    FC_SELECT_AICC,
} fc_select;

/* ---- input ------------------------------------------------------------- */

/* Day flags (fc_series.flags).  A stock-out day with zero sales is a day of
 * unknown demand, not of zero demand: it is treated as missing.  A stock-out
 * day with some sales is censored: demand was at least the sales, so the
 * models see max(sales, their one-step prediction). */
#define FC_DAY_STOCKOUT 0x01u

/* One series.  Only values and n are required.  The engine copies what it
 * needs: the arrays may be released once fc_forecast_run returns. */
typedef struct fc_series {
    const double *values; /* n observations, oldest first; NAN = missing day */
    size_t n;
    const uint8_t *flags; /* NULL or n FC_DAY_* bit sets */
    /* NULL or n event ids (0 = no event).  Event days are left out of the
     * model's fit; their ratio to the model's baseline is the event's
     * uplift (see fc_config.future_events). */
    const int32_t *events;
} fc_series;

/* A promotion's quota: at most units sold at the promotion's terms over the
 * forecast horizon.  Once the uplifted forecast has used the quota up,
 * demand returns to the baseline. */
typedef struct fc_quota {
    int32_t event;
    double units;
} fc_quota;

#define FC_MAX_LEVELS 8
/* Longest seasonal period the seasonal models (ETS, Theta) take; longer
 * cycles (a year of days) go through fc_config.long_period. */
#define FC_MAX_SEASON 24

typedef struct fc_config {
    fc_method method; /* FC_METHOD_AUTO */
    fc_select select; /* FC_SELECT_BACKTEST */
    int period;       /* main seasonal period: 7 daily, 12 monthly, 4 quarterly, 1 none [1] */
    /* A long second cycle, e.g. 365.25 for yearly seasonality of daily data
     * (0: none [0]).  Estimated as a smooth Fourier profile and used only
     * when the series covers two cycles and the profile is significant. */
    double long_period;
    int horizon;                  /* steps to forecast, >= 1 [14] */
    double levels[FC_MAX_LEVELS]; /* interval coverage in percent, in (0, 100) [80, 95] */
    size_t n_levels;
    int backtest_origins; /* origins of the rolling-origin backtest, 0 = no backtest [3] */
    int backtest_horizon; /* steps ahead judged at each origin, 0 = horizon [0] */
    /* Future event ids, one per forecast step (NULL: none); an event seen in
     * fc_series.events gets the uplift estimated from its past days. */
    const int32_t *future_events;
    const fc_quota *quotas; /* NULL or n_quotas caps on uplifted demand */
    size_t n_quotas;
    int sim_paths; /* sample paths for simulated intervals [500] */
    uint64_t seed; /* seed of those paths [1] */
} fc_config;

/* Fills cfg with the defaults shown in brackets above. */
void fc_config_init(fc_config *cfg);

/* ---- the forecast ------------------------------------------------------ */

typedef struct fc_forecast fc_forecast;

/* Forecasts series s under cfg.  On success *out is a new forecast the
 * caller owns (fc_forecast_free).  Fails, leaving *out NULL, with
 * INVALID_ARGUMENT naming the bad input or config field (an empty series, an
 * infinite value, horizon outside 1..3660, period < 1, a level outside
 * (0, 100), a negative quota), FAILED_PRECONDITION when no day is observed
 * (all missing, stocked out or event days), RESOURCE_EXHAUSTED when out of
 * memory.  A method the data cannot support (a seasonal model on a short
 * series, multiplicative ETS on data with zeros) is not an error: a simpler
 * one is used and fc_info.reason says why.  Never produces NaN or infinite
 * figures. */
sl_status fc_forecast_run(const fc_series *s, const fc_config *cfg, fc_forecast **out, sl_err *err);

void fc_forecast_free(fc_forecast *f);

/* Facts about a forecast.  Strings live as long as the forecast. */
typedef struct fc_info {
    fc_method method;  /* the method that made the forecast (never AUTO) */
    const char *model; /* e.g. "ETS(M,Ad,M)", "Theta", "TSB" */
    /* Why this model: the selection rule, or the fallback taken and its
     * cause, e.g. "series is constant: mean" */
    const char *reason;
    double alpha, beta, gamma, phi; /* smoothing parameters (NAN when not used) */
    double aicc;                    /* AICc of ETS models, NAN otherwise */
    double sigma;          /* residual standard deviation (relative for multiplicative error) */
    double backtest_mase;  /* rolling-origin backtest errors of the chosen model, */
    double backtest_smape; /* NAN when no backtest was run */
    int backtest_origins;  /* origins actually used (0: none) */
    int long_season;       /* 1 when the long (yearly) profile was applied */
    int simulated;         /* 1 when intervals come from simulated sample paths */
    size_t n_obs;          /* observed days used (not missing, not event days) */
    size_t n_censored;     /* stock-out days treated as missing or censored */
} fc_info;

void fc_forecast_info(const fc_forecast *f, fc_info *out);

size_t fc_forecast_horizon(const fc_forecast *f);
size_t fc_forecast_n_levels(const fc_forecast *f);
/* The coverage (percent) of interval level index i. */
double fc_forecast_level(const fc_forecast *f, size_t i);
/* Arrays of fc_forecast_horizon() values owned by the forecast: point
 * forecasts, and the lower and upper bound of level index i. */
const double *fc_forecast_points(const fc_forecast *f);
const double *fc_forecast_lower(const fc_forecast *f, size_t i);
const double *fc_forecast_upper(const fc_forecast *f, size_t i);

/* Uplift applied for one event id. */
typedef struct fc_uplift {
    int32_t event;
    double factor;     /* multiplies the baseline on the event's days (1: no evidence) */
    size_t past_days;  /* observed past days of the event behind the factor */
    double quota_left; /* units of the quota left after the horizon, NAN without quota */
} fc_uplift;

size_t fc_forecast_n_uplifts(const fc_forecast *f);
void fc_forecast_uplift(const fc_forecast *f, size_t i, fc_uplift *out);

/* Total over steps [from, to) (0-based) with its interval at level percent:
 * lead-time demand, or a week or month of the forecast.  The interval
 * accounts for the correlation of errors across steps (analytically for
 * linear models, from the sample paths for simulated ones).  Fails with
 * INVALID_ARGUMENT for an empty or out-of-range span or a bad level. */
sl_status fc_forecast_sum(const fc_forecast *f, size_t from, size_t to, double level, double *point,
                          double *lo, double *hi, sl_err *err);

/* ---- intraday refresh -------------------------------------------------- */

/* The share of a day's sales in each hour, from n_days complete days of
 * hourly sales (n_days * hours values, day by day); missing (NAN) hours are
 * skipped.  Writes hours shares summing to 1 into profile (uniform when the
 * history sums to zero).  Fails with INVALID_ARGUMENT for hours < 1. */
sl_status fc_intraday_profile(const double *hourly, size_t n_days, size_t hours, double *profile,
                              sl_err *err);

/* Refreshes step 0 (today) of forecast f from today's sales so far: sales[0
 * .. hours_done) against profile (hours shares).  Demand is taken as a
 * Poisson stream whose daily rate has a gamma prior matching the forecast's
 * point and spread; the partial day updates the rate, today's point and
 * intervals become sales so far plus the expected rest of the day, and the
 * rate's ratio to the prior (returned in *ratio when not NULL) also scales
 * steps 1 .. carry_steps (e.g. the rest of a running promotion).  Fails with
 * INVALID_ARGUMENT for hours_done > hours or carry_steps beyond the horizon. */
sl_status fc_forecast_intraday(fc_forecast *f, const double *profile, size_t hours,
                               const double *sales, size_t hours_done, size_t carry_steps,
                               double *ratio, sl_err *err);

/* ---- planner overrides ------------------------------------------------- */

/* Replaces the point of step (0-based) by point (units, >= 0), a
 * planner's figure.  The step's intervals, its term in sums over steps and
 * its sample paths follow: scaled by point / old point when the model's
 * point is positive (the relative uncertainty is kept), shifted by the
 * difference (lower bounds clamped at zero) when it is zero.  Fails with
 * INVALID_ARGUMENT for a step beyond the horizon or a negative or
 * non-finite point, leaving f unchanged. */
sl_status fc_forecast_override(fc_forecast *f, size_t step, double point, sl_err *err);

/* ---- calendar aggregation ---------------------------------------------- */

typedef struct fc_date {
    int year, month, day; /* proleptic Gregorian, month 1-12 */
} fc_date;

typedef enum fc_bucket {
    FC_BUCKET_WEEK,  /* ISO weeks, Monday to Sunday */
    FC_BUCKET_MONTH, /* calendar months */
} fc_bucket;

/* A bucket: days [first, first + len) of a daily series starting at some
 * date, and the date its bucket starts on (which may precede the series). */
typedef struct fc_span {
    size_t first, len;
    fc_date start;
} fc_span;

/* Splits n_days consecutive days starting on start into buckets (the first
 * and last may be partial).  Writes at most cap spans; *n_spans gets the
 * number needed, so a call with cap 0 sizes the array.  Fails with
 * INVALID_ARGUMENT for an invalid date. */
sl_status fc_buckets(fc_date start, size_t n_days, fc_bucket kind, fc_span *spans, size_t cap,
                     size_t *n_spans, sl_err *err);

/* Sums daily values over spans: sums[i] is the total of the observed (not
 * NAN) days of spans[i], and days[i] (when days is not NULL) how many were
 * observed, so a report can tell a partial bucket.  Spans must lie inside
 * the n values (INVALID_ARGUMENT otherwise). */
sl_status fc_aggregate(const double *daily, size_t n, const fc_span *spans, size_t n_spans,
                       double *sums, size_t *days, sl_err *err);

/* ---- hierarchies ------------------------------------------------------- */

typedef enum fc_recon {
    /* Every total is the sum of its leaves' forecasts; forecasts of inner
     * nodes are ignored. */
    FC_RECON_BOTTOM_UP,
    /* Weighted least squares (the MinT estimator with a diagonal covariance):
     * each node's own forecast and the sum of its children's are combined
     * by inverse variance going up the tree, and the difference is shared
     * among children in proportion to their variance going down.  Exact for
     * trees, O(nodes). */
    FC_RECON_WLS,
} fc_recon;

/* Makes one step's forecasts of a hierarchy coherent (every node equals the
 * sum of its children).  Node i has parent parent[i] (-1 for the root; one
 * root), base forecast base[i] and forecast variance var[i] (> 0; ignored
 * for bottom-up).  Writes the coherent values into out and, when out_var is
 * not NULL, their variances (children taken as independent).  Fails with
 * INVALID_ARGUMENT for a bad parent index, a cycle, several roots or a
 * non-positive variance. */
sl_status fc_reconcile(fc_recon method, size_t n_nodes, const int32_t *parent, const double *base,
                       const double *var, double *out, double *out_var, sl_err *err);

/* ---- error measures ---------------------------------------------------- */

/* Mean absolute scaled error of forecast fc against actual (h values),
 * scaled by the in-sample mean absolute error of the seasonal naive method
 * with period m on insample (n values; NAN pairs skipped).  Fails with
 * FAILED_PRECONDITION when that scale is zero or cannot be computed. */
sl_status fc_mase(const double *actual, const double *fc, size_t h, const double *insample,
                  size_t n, int m, double *out, sl_err *err);

/* Symmetric MAPE in percent (0 to 200): mean of 200 |a - f| / (|a| + |f|),
 * a term with a = f = 0 counting as 0.  NAN actuals are skipped; fails with
 * FAILED_PRECONDITION when none is left. */
sl_status fc_smape(const double *actual, const double *fc, size_t h, double *out, sl_err *err);

#endif
