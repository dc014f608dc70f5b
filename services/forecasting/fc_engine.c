/*
 * fc_engine: the forecast of one series from end to end (see fc_engine.h):
 * validate, turn stock-outs and event days into missing or censored days,
 * take out the long season, choose and fit a model (fc_select), forecast,
 * put the long season back, apply event uplifts and quotas, clamp at zero,
 * and derive the intervals.  Also the accessors, sums over steps and the
 * error measures.
 */
#include "fc_engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "fc_engine_int.h"
#include "fc_events.h"
#include "fc_season.h"
#include "fc_select.h"

/* Longest horizon accepted: ten years of days. */
#define MAX_HORIZON 3660
#define MAX_SIM_PATHS 100000

const char *fc_method_name(fc_method m)
{
    switch (m) {
#define FC__METHOD_NAME(name, str)                                                                 \
    case FC_METHOD_##name:                                                                         \
        return str;
        FC_METHOD_LIST(FC__METHOD_NAME)
#undef FC__METHOD_NAME
    }
    return "unknown";
}

sl_status fc_method_parse(const char *name, fc_method *out, sl_err *err)
{
#define FC__METHOD_PARSE(id, str)                                                                  \
    if (name != NULL && strcmp(name, str) == 0) {                                                  \
        *out = FC_METHOD_##id;                                                                     \
        return SL_OK;                                                                              \
    }
    FC_METHOD_LIST(FC__METHOD_PARSE)
#undef FC__METHOD_PARSE
#define FC__METHOD_ALL(id, str) " " str
    return sl_err_set(err, SL_INVALID_ARGUMENT, "unknown method \"%s\" (one of:%s)",
                      name ? name : "", FC_METHOD_LIST(FC__METHOD_ALL));
#undef FC__METHOD_ALL
}

void fc_config_init(fc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->method = FC_METHOD_AUTO;
    cfg->select = FC_SELECT_BACKTEST;
    cfg->period = 1;
    cfg->long_period = 0;
    cfg->horizon = 14;
    cfg->levels[0] = 80;
    cfg->levels[1] = 95;
    cfg->n_levels = 2;
    cfg->backtest_origins = 3;
    cfg->backtest_horizon = 0;
    cfg->sim_paths = 500;
    cfg->seed = 1;
}

static sl_status validate(const fc_series *s, const fc_config *cfg, sl_err *err)
{
    if (s == NULL || cfg == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "series and config are required");
    if (s->n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "series is empty");
    if (s->values == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "series values are missing");
    for (size_t t = 0; t < s->n; t++)
        if (isinf(s->values[t]))
            return sl_err_set(err, SL_INVALID_ARGUMENT, "value %zu is infinite", t + 1);
    if ((unsigned)cfg->method > FC_METHOD_COMBO)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "method %d is not a method", (int)cfg->method);
    if (cfg->select != FC_SELECT_BACKTEST && cfg->select != FC_SELECT_AICC)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "select %d is not a selection rule",
                          (int)cfg->select);
    if (cfg->period < 1)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "period must be at least 1, got %d",
                          cfg->period);
    if (!isfinite(cfg->long_period) || cfg->long_period < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "long_period must be 0 or positive, got %g",
                          cfg->long_period);
    if (cfg->horizon < 1 || cfg->horizon > MAX_HORIZON)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "horizon must be between 1 and %d, got %d",
                          MAX_HORIZON, cfg->horizon);
    if (cfg->n_levels > FC_MAX_LEVELS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "at most %d levels, got %zu", FC_MAX_LEVELS,
                          cfg->n_levels);
    for (size_t i = 0; i < cfg->n_levels; i++)
        if (!(cfg->levels[i] > 0 && cfg->levels[i] < 100))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "level %g is not a percentage strictly between 0 and 100",
                              cfg->levels[i]);
    if (cfg->backtest_origins < 0 || cfg->backtest_origins > 16)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "backtest_origins must be 0 to 16, got %d",
                          cfg->backtest_origins);
    if (cfg->backtest_horizon < 0 || cfg->backtest_horizon > MAX_HORIZON)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "backtest_horizon must be 0 to %d, got %d",
                          MAX_HORIZON, cfg->backtest_horizon);
    if (cfg->sim_paths < 0 || cfg->sim_paths > MAX_SIM_PATHS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "sim_paths must be 0 to %d, got %d",
                          MAX_SIM_PATHS, cfg->sim_paths);
    if (cfg->n_quotas > 0 && cfg->quotas == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "quotas are missing");
    for (size_t i = 0; i < cfg->n_quotas; i++)
        if (!(cfg->quotas[i].units >= 0) || !isfinite(cfg->quotas[i].units))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "quota of event %d must be a non-negative number of units",
                              (int)cfg->quotas[i].event);
    return SL_OK;
}

double fc__pred_sd(const fc__pred *p, size_t j)
{
    double s = 0;
    for (size_t i = 0; i <= j; i++)
        s += p->psi[i] * p->psi[i];
    return sqrt(p->sigma2 * s) * fabs(p->scale[j]);
}

void fc_forecast_free(fc_forecast *f)
{
    if (f == NULL)
        return;
    free(f->point);
    free(f->psi);
    free(f->paths);
    free(f->uplifts);
    free(f);
}

/* Everything one run allocates besides the result, released together. */
typedef struct run_ws {
    double *y; /* model data */
    uint8_t *cens;
    double *ls;   /* long season, n + h */
    double *work; /* model and selection scratch */
    double *fitted;
    double *raw;  /* original values with stock-out zeros as missing */
    double *mult; /* event multipliers */
    int32_t *ids;
} run_ws;

static void ws_free(run_ws *w)
{
    free(w->y);
    free(w->cens);
    free(w->ls);
    free(w->work);
    free(w->fitted);
    free(w->raw);
    free(w->mult);
    free(w->ids);
}

/* The intervals of step j from the innovations form or the paths. */
static void intervals(fc_forecast *f, size_t j, double *tmp)
{
    if (f->simulated) {
        for (int i = 0; i < f->n_paths; i++)
            tmp[i] = f->paths[(size_t)i * f->h + j];
        fc__sort(tmp, (size_t)f->n_paths);
    }
    fc__pred p = {f->h, f->point, f->psi, f->scale, f->sigma2, NULL, 0, 0};
    double sd = f->simulated ? 0 : fc__pred_sd(&p, j);
    for (size_t l = 0; l < f->n_levels; l++) {
        double a = (1.0 - f->levels[l] / 100.0) / 2.0;
        if (f->simulated) {
            f->lo[l][j] = fc__quantile_sorted(tmp, (size_t)f->n_paths, a);
            f->hi[l][j] = fc__quantile_sorted(tmp, (size_t)f->n_paths, 1.0 - a);
        } else {
            double z = fc__qnorm(1.0 - a);
            f->lo[l][j] = f->point[j] - z * sd;
            f->hi[l][j] = f->point[j] + z * sd;
        }
        /* Sampling noise must not put the point outside its own band. */
        if (f->lo[l][j] > f->point[j])
            f->lo[l][j] = f->point[j];
        if (f->hi[l][j] < f->point[j])
            f->hi[l][j] = f->point[j];
        if (f->nonneg) {
            if (f->lo[l][j] < 0)
                f->lo[l][j] = 0;
            if (f->hi[l][j] < 0)
                f->hi[l][j] = 0;
        }
    }
}

static fc_forecast *forecast_alloc(size_t h, size_t n_levels, int n_paths)
{
    fc_forecast *f = sl_calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->h = h;
    f->n_levels = n_levels;
    f->n_paths = n_paths;
    /* point, 2 bounds per level in one block; psi and scale in another */
    f->point = sl_malloc((1 + 2 * n_levels) * h * sizeof(double));
    f->psi = sl_malloc(2 * h * sizeof(double));
    f->paths = n_paths > 0 ? sl_malloc((size_t)n_paths * h * sizeof(double)) : NULL;
    if (f->point == NULL || f->psi == NULL || (n_paths > 0 && f->paths == NULL)) {
        fc_forecast_free(f);
        return NULL;
    }
    f->scale = f->psi + h;
    for (size_t l = 0; l < n_levels; l++) {
        f->lo[l] = f->point + (1 + 2 * l) * h;
        f->hi[l] = f->point + (2 + 2 * l) * h;
    }
    return f;
}

/* The state of one run between its phases: the workspace, the model data
 * and what the phases decided. */
typedef struct run_state {
    run_ws w;
    size_t n, h;
    size_t n_cens; /* stock-out days */
    int any_cens;  /* some of them with sales: censored demand */
    int has_ls;    /* a long season was taken out ... */
    int ls_mul;    /* ... multiplicatively */
    fc__data d;
    fc__rng rng;
    fc__opts o;
    fc__judge jd;
    fc__choice ch;
} run_state;

/* Phase 1: the workspace of a run and its result, sized for n days of
 * history and h of horizon. */
static sl_status run_alloc(run_state *r, const fc_config *cfg, fc_forecast **f, sl_err *err)
{
    size_t n = r->n, h = r->h;
    run_ws *w = &r->w;
    size_t nwork = fc__select_work(n, cfg);
    if (nwork < (size_t)cfg->sim_paths)
        nwork = (size_t)cfg->sim_paths;
    w->y = sl_malloc(n * sizeof *w->y);
    w->cens = sl_calloc(n, 1);
    w->ls = sl_malloc((n + h) * sizeof *w->ls);
    w->work = sl_malloc(nwork * sizeof *w->work);
    w->fitted = sl_malloc(n * sizeof *w->fitted);
    w->raw = sl_malloc(n * sizeof *w->raw);
    w->mult = sl_malloc(h * sizeof *w->mult);
    w->ids = sl_malloc(h * sizeof *w->ids);
    *f = forecast_alloc(h, cfg->n_levels, cfg->sim_paths);
    if (!w->y || !w->cens || !w->ls || !w->work || !w->fitted || !w->raw || !w->mult || !w->ids ||
        !*f)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory forecasting %zu days", n);
    memcpy((*f)->levels, cfg->levels, cfg->n_levels * sizeof cfg->levels[0]);
    return SL_OK;
}

/* Phase 2: the model data.  Stock-outs without sales are unknown demand,
 * with sales censored demand; event days are the uplift's business, not
 * the baseline's; the long season (when configured and found) is taken
 * out. */
static void run_model_data(run_state *r, const fc_series *s, const fc_config *cfg, fc_forecast *f)
{
    run_ws *w = &r->w;
    size_t n = r->n;
    f->nonneg = 1;
    for (size_t t = 0; t < n; t++) {
        double v = s->values[t];
        int so = s->flags != NULL && (s->flags[t] & FC_DAY_STOCKOUT);
        w->raw[t] = v;
        if (so) {
            r->n_cens++;
            if (isnan(v) || v <= 0) {
                w->raw[t] = v = NAN;
            } else {
                w->cens[t] = 1;
                r->any_cens = 1;
            }
        }
        if (!isnan(v) && v < 0)
            f->nonneg = 0;
        if (s->events != NULL && s->events[t] != 0)
            v = NAN;
        w->y[t] = v;
    }
    r->has_ls =
        cfg->long_period > 0 && fc__long_season(w->y, n, r->h, cfg->long_period, w->ls, &r->ls_mul);
    if (r->has_ls) {
        for (size_t t = 0; t < n; t++)
            if (!isnan(w->y[t]))
                w->y[t] = r->ls_mul ? w->y[t] / w->ls[t] : w->y[t] - w->ls[t];
    }
    r->d = (fc__data){w->y, r->any_cens ? w->cens : NULL, n, cfg->period};
}

/* Phase 3: choose a model (fc_select) and forecast with it.  Short series
 * get their initial states optimised too (as forecast::ets always does);
 * on long ones the states wash out and the heuristic start saves most of
 * the cost.  A relative tolerance of 1e-5 on -2 log L stops well below any
 * AICc difference that matters.  A model whose forecast broke down
 * (non-finite) gives way to the naive method rather than a NaN. */
static sl_status run_choose(run_state *r, const fc_config *cfg, fc_forecast *f, sl_err *err)
{
    size_t h = r->h;
    fc__rng_seed(&r->rng, cfg->seed);
    r->o = (fc__opts){r->n <= 300 ? 2 : 0, 40, 1e-5, &r->rng};
    r->jd = (fc__judge){r->has_ls ? r->w.ls : NULL, r->ls_mul, f->nonneg};
    sl_status st = fc__choose(&r->d, &r->jd, cfg, &r->o, r->w.work, &r->ch, err);
    if (st != SL_OK)
        return st;
    fc__pred p = {h, f->point, f->psi, f->scale, 0, f->paths, f->n_paths, 0};
    fc__choice_predict(&r->ch, &r->d, &r->o, r->w.work, &p);
    int finite = 1;
    for (size_t j = 0; j < h; j++)
        finite &= isfinite(p.mean[j]) && isfinite(p.scale[j]);
    if (!finite) {
        fc__choice nv = r->ch;
        fc_config c2 = *cfg;
        c2.method = FC_METHOD_NAIVE;
        c2.backtest_origins = 0;
        st = fc__choose(&r->d, &r->jd, &c2, &r->o, r->w.work, &nv, err);
        if (st != SL_OK)
            return st;
        snprintf(nv.reason, sizeof nv.reason, "%s model gave non-finite forecasts: naive",
                 fc_method_name(r->ch.model.method));
        r->ch = nv;
        fc__choice_predict(&r->ch, &r->d, &r->o, r->w.work, &p);
    }
    f->sigma2 = isfinite(p.sigma2) && p.sigma2 > 0 ? p.sigma2 : 0.0;
    f->simulated = p.simulated;
    return SL_OK;
}

/* Phase 4: the long season put back into the points, scales and paths. */
static void run_long_season(const run_state *r, fc_forecast *f)
{
    if (!r->has_ls)
        return;
    size_t h = r->h;
    for (size_t j = 0; j < h; j++) {
        double v = r->w.ls[r->n + j];
        f->point[j] = r->ls_mul ? f->point[j] * v : f->point[j] + v;
        if (r->ls_mul)
            f->scale[j] *= v;
        for (int i = 0; f->simulated && i < f->n_paths; i++) {
            double *x = &f->paths[(size_t)i * h + j];
            *x = r->ls_mul ? *x * v : *x + v;
        }
    }
}

/* Phase 5: event uplifts, estimated on past event days against the
 * model's prediction of them (the baseline), applied to the future event
 * days under the quotas. */
static sl_status run_events(run_state *r, const fc_series *s, const fc_config *cfg, fc_forecast *f,
                            sl_err *err)
{
    run_ws *w = &r->w;
    size_t n = r->n, h = r->h;
    size_t n_ids = cfg->future_events ? fc__events_future_ids(cfg->future_events, h, w->ids) : 0;
    if (n_ids == 0)
        return SL_OK;
    f->uplifts = sl_calloc(n_ids, sizeof *f->uplifts);
    if (f->uplifts == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory forecasting %zu days", n);
    f->n_uplifts = n_ids;
    fc__choice_fitted(&r->ch, &r->d, w->work, w->fitted);
    for (size_t t = 0; r->has_ls && t < n; t++)
        w->fitted[t] = r->ls_mul ? w->fitted[t] * w->ls[t] : w->fitted[t] + w->ls[t];
    fc__events_estimate(w->raw, w->fitted, s->events, n, w->ids, n_ids, f->uplifts);
    fc__events_apply(f->point, cfg->future_events, h, f->uplifts, n_ids, cfg->quotas, cfg->n_quotas,
                     w->mult);
    for (size_t j = 0; j < h; j++) {
        f->point[j] *= w->mult[j];
        f->scale[j] *= w->mult[j];
        for (int i = 0; f->simulated && i < f->n_paths; i++)
            f->paths[(size_t)i * h + j] *= w->mult[j];
    }
    return SL_OK;
}

/* Phase 6: non-negative series clamped at zero, then every step's
 * intervals. */
static void run_intervals(run_state *r, fc_forecast *f)
{
    size_t h = r->h;
    for (size_t j = 0; j < h; j++) {
        if (f->nonneg && f->point[j] < 0)
            f->point[j] = 0;
        for (int i = 0; f->nonneg && f->simulated && i < f->n_paths; i++)
            if (f->paths[(size_t)i * h + j] < 0)
                f->paths[(size_t)i * h + j] = 0;
        intervals(f, j, r->w.work);
    }
}

/* Phase 7: what the forecast reports about itself.  A member the auto
 * method picked out of the combination reports as itself (method and
 * parameters); a combination reports no single model's parameters. */
static void run_info(const run_state *r, fc_forecast *f)
{
    const fc__choice *ch = &r->ch;
    const fc__model *md = &ch->model;
    fc__choice_name(ch, f->model, sizeof f->model);
    snprintf(f->reason, sizeof f->reason, "%s", ch->reason);
    fc_info *in = &f->info;
    int single = ch->n_comb == 0 || ch->pick >= 0;
    in->method = single ? md->method : FC_METHOD_COMBO;
    in->model = f->model;
    in->reason = f->reason;
    int ets = md->kind == FC__K_ETS && single;
    in->alpha = ets || (single && (md->kind == FC__K_THETA || md->kind == FC__K_CROSTON ||
                                   md->kind == FC__K_TSB))
                    ? md->alpha
                    : NAN;
    in->beta =
        (ets && md->trend != FC__C_NONE) || (single && md->kind == FC__K_TSB) ? md->beta : NAN;
    in->gamma = ets && md->season != FC__C_NONE ? md->gamma : NAN;
    in->phi = ets && md->trend == FC__C_DAMPED ? md->phi : NAN;
    in->aicc = ets ? md->aicc : NAN;
    in->sigma = sqrt(f->sigma2);
    in->backtest_mase = ch->bt_mase;
    in->backtest_smape = ch->bt_smape;
    in->backtest_origins = ch->bt_origins;
    in->long_season = r->has_ls;
    in->simulated = f->simulated;
    in->n_obs = 0;
    for (size_t t = 0; t < r->n; t++)
        in->n_obs += !isnan(r->w.y[t]);
    in->n_censored = r->n_cens;
}

/*
 * fc_forecast_run -- one series from end to end, in seven phases:
 *
 *   1. Validate the series and the configuration; allocate the workspace
 *      and the result (run_alloc).  Nothing below allocates but phase 5.
 *   2. Model data (run_model_data): stock-out days become missing or
 *      censored, event days missing, the long season is taken out.
 *   3. Choose a model and forecast (run_choose), falling back to the
 *      naive method when the forecast is not finite.
 *   4. Put the long season back (run_long_season).
 *   5. Event uplifts and quotas (run_events).
 *   6. Clamp at zero and derive the intervals (run_intervals).
 *   7. Report the model (run_info).
 *
 * The result is the caller's only on OK; on any failure the workspace and
 * the partial result are freed in one place.
 */
sl_status fc_forecast_run(const fc_series *s, const fc_config *cfg, fc_forecast **out, sl_err *err)
{
    *out = NULL;
    sl_status st = validate(s, cfg, err);
    if (st != SL_OK)
        return st;
    run_state r;
    memset(&r, 0, sizeof r);
    r.n = s->n;
    r.h = (size_t)cfg->horizon;
    fc_forecast *f = NULL;
    if ((st = run_alloc(&r, cfg, &f, err)) != SL_OK)
        goto cleanup;
    run_model_data(&r, s, cfg, f);
    if ((st = run_choose(&r, cfg, f, err)) != SL_OK)
        goto cleanup;
    run_long_season(&r, f);
    if ((st = run_events(&r, s, cfg, f, err)) != SL_OK)
        goto cleanup;
    run_intervals(&r, f);
    run_info(&r, f);
    *out = f;
    f = NULL;
cleanup:
    fc_forecast_free(f);
    ws_free(&r.w);
    return st;
}

void fc_forecast_info(const fc_forecast *f, fc_info *out)
{
    *out = f->info;
}

size_t fc_forecast_horizon(const fc_forecast *f)
{
    return f->h;
}

size_t fc_forecast_n_levels(const fc_forecast *f)
{
    return f->n_levels;
}

double fc_forecast_level(const fc_forecast *f, size_t i)
{
    return i < f->n_levels ? f->levels[i] : NAN;
}

const double *fc_forecast_points(const fc_forecast *f)
{
    return f->point;
}

const double *fc_forecast_lower(const fc_forecast *f, size_t i)
{
    return i < f->n_levels ? f->lo[i] : NULL;
}

const double *fc_forecast_upper(const fc_forecast *f, size_t i)
{
    return i < f->n_levels ? f->hi[i] : NULL;
}

size_t fc_forecast_n_uplifts(const fc_forecast *f)
{
    return f->n_uplifts;
}

void fc_forecast_uplift(const fc_forecast *f, size_t i, fc_uplift *out)
{
    *out = f->uplifts[i];
}

sl_status fc_forecast_sum(const fc_forecast *f, size_t from, size_t to, double level, double *point,
                          double *lo, double *hi, sl_err *err)
{
    if (from >= to || to > f->h)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "steps [%zu, %zu) are not a non-empty span of the %zu-step horizon", from,
                          to, f->h);
    if (!(level > 0 && level < 100))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "level %g is not a percentage strictly between 0 and 100", level);
    double sum = 0;
    for (size_t j = from; j < to; j++)
        sum += f->point[j];
    double a = (1.0 - level / 100.0) / 2.0;
    if (f->simulated) {
        double *tot = sl_malloc((size_t)f->n_paths * sizeof *tot);
        if (tot == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory summing a forecast");
        for (int i = 0; i < f->n_paths; i++) {
            double v = 0;
            for (size_t j = from; j < to; j++)
                v += f->paths[(size_t)i * f->h + j];
            tot[i] = v;
        }
        fc__sort(tot, (size_t)f->n_paths);
        *lo = fc__quantile_sorted(tot, (size_t)f->n_paths, a);
        *hi = fc__quantile_sorted(tot, (size_t)f->n_paths, 1.0 - a);
        free(tot);
    } else {
        /* The total's error is sum_k eps_k sum_{j >= k} scale_j psi_{j-k}. */
        double var = 0;
        for (size_t k = 0; k < to; k++) {
            double c = 0;
            for (size_t j = k > from ? k : from; j < to; j++)
                c += f->scale[j] * f->psi[j - k];
            var += c * c;
        }
        double sd = sqrt(f->sigma2 * var), z = fc__qnorm(1.0 - a);
        *lo = sum - z * sd;
        *hi = sum + z * sd;
    }
    if (*lo > sum)
        *lo = sum;
    if (*hi < sum)
        *hi = sum;
    if (f->nonneg && *lo < 0)
        *lo = 0;
    *point = sum;
    return SL_OK;
}

sl_status fc_mase(const double *actual, const double *fc, size_t h, const double *insample,
                  size_t n, int m, double *out, sl_err *err)
{
    double sc = fc__mase_scale(insample, n, m);
    if (!(sc > 0))
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                             "no MASE scale: the in-sample seasonal differences are all zero or "
                             "missing");
    double s = 0;
    size_t k = 0;
    for (size_t j = 0; j < h; j++) {
        if (isnan(actual[j]) || isnan(fc[j]))
            continue;
        s += fabs(actual[j] - fc[j]);
        k++;
    }
    if (k == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                             "no observed actual to score");
    *out = s / (double)k / sc;
    return SL_OK;
}

sl_status fc_smape(const double *actual, const double *fc, size_t h, double *out, sl_err *err)
{
    double s = 0;
    size_t k = 0;
    for (size_t j = 0; j < h; j++) {
        if (isnan(actual[j]) || isnan(fc[j]))
            continue;
        double den = fabs(actual[j]) + fabs(fc[j]);
        s += den > 0 ? 200.0 * fabs(actual[j] - fc[j]) / den : 0.0;
        k++;
    }
    if (k == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                             "no observed actual to score");
    *out = s / (double)k;
    return SL_OK;
}
