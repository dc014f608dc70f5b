/*
 * cv_api_value: FitModels, GetCustomerValue, GetRetentionReport and
 * ListSegment -- the engine (cv_model, cv_rfm, cv_simple, cv_interest) over
 * summaries computed from the stored purchases.
 *
 * Time unit: days.  Summaries are computed as of today (UTC) for
 * predictions and as of the requested day for fits.  RFM scores rank a
 * customer among all customers with purchases, so reads that need them
 * (GetCustomerValue, ListSegment) score everyone in one pass; fine for the
 * tens of thousands of customers of a demo, and the first thing to
 * materialise for millions (see docs/CUSTOMER_VALUE.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_app.h"
#include "cv_interest.h"
#include "cv_model.h"
#include "cv_rfm.h"
#include "cv_simple.h"
#include "cv_store.h"
#include "sl_metrics.h"

/* Simple CLV: discount rate per year and expected lifetime in years. */
#define SIMPLE_DISCOUNT 0.10
#define SIMPLE_LIFETIME 3.0
/* Model CLV: 12 monthly periods at 1% a month. */
#define CLV_STEP_DAYS 30.0
#define CLV_PERIODS 12
#define CLV_MONTHLY_RATE 0.01
/* Category interest half-life. */
#define INTEREST_HALF_LIFE_DAYS 180.0
#define TOP_CATEGORIES 5

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

/* ---- shared scoring ---- */

typedef struct model_out {
    double p_alive, e30, e90, e365, order_value, clv;
} model_out;

static const cv_clv_horizon default_horizon = {CLV_STEP_DAYS, CLV_PERIODS, CLV_MONTHLY_RATE};

/* The model's view of one customer over the horizon h; all zeros without a
 * fit.  The expected order value falls back to the customer's own average
 * order. */
static void model_eval(const cv_fit_row *fit, const cv_summary_row *s, const cv_clv_horizon *h,
                       model_out *o)
{
    memset(o, 0, sizeof *o);
    o->order_value = s->orders > 0 ? (double)s->net_minor / (double)s->orders : 0;
    if (fit == NULL)
        return;
    if (fit->has_gg && fit->gg.q > 1) {
        double v;
        if (cv_gg_expected_value(&fit->gg, s->s.x, s->s.monetary, &v, NULL) == SL_OK)
            o->order_value = v;
    }
    o->p_alive = cv_bgnbd_p_alive(&fit->bg, s->s.x, s->s.t_x, s->s.T);
    if (cv_bgnbd_conditional_expected(&fit->bg, s->s.x, s->s.t_x, s->s.T, 30, &o->e30, NULL) !=
        SL_OK)
        o->e30 = 0;
    if (cv_bgnbd_conditional_expected(&fit->bg, s->s.x, s->s.t_x, s->s.T, 90, &o->e90, NULL) !=
        SL_OK)
        o->e90 = 0;
    if (cv_bgnbd_conditional_expected(&fit->bg, s->s.x, s->s.t_x, s->s.T, 365, &o->e365, NULL) !=
        SL_OK)
        o->e365 = 0;
    if (cv_clv_discounted(&fit->bg, &s->s, o->order_value, h, &o->clv, NULL) != SL_OK)
        o->clv = 0;
}

/* RFM scores of every row as of today. */
static sl_status score_all(sl_arena *a, const cv_summary_row *rows, size_t n, int32_t today,
                           cv_rfm_score **out, sl_err *err)
{
    cv_rfm_input *in = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *in);
    cv_rfm_score *sc = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *sc);
    if (in == NULL || sc == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        in[i] = (cv_rfm_input){(double)(today - rows[i].last_day), (double)rows[i].orders,
                               (double)rows[i].net_minor};
    *out = sc;
    return cv_rfm_score_all(in, n, sc, err);
}

static Shelfline__V1__CustomerTier tier_of(int64_t orders, const cv_rfm_score *s)
{
    if (orders < 2 || s == NULL)
        return SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_NEW;
    int total = s->r + s->f + s->m;
    if (total >= 13)
        return SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_PLATINUM;
    if (total >= 11)
        return SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_GOLD;
    if (total >= 8)
        return SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_SILVER;
    return SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_BRONZE;
}

static int32_t today(void)
{
    return cv_day(sl_db_now_ms());
}

/* ---- FitModels ---- */

typedef struct fit_read_ctx {
    sl_arena *a;
    int32_t as_of_day;
    cv_summary_filter f;
    cv_summary_row *rows;
    size_t n;
    cv_retention_counts ret;
} fit_read_ctx;

static sl_status fit_read_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    fit_read_ctx *c = p;
    cv_summary_filter all = {0};
    sl_status st = cv_store_summaries(conn, c->a, c->as_of_day, &c->f, &c->rows, &c->n, err);
    if (st == SL_OK)
        st = cv_store_retention(conn, c->as_of_day + 1, 365, &all, &c->ret, err);
    return st;
}

typedef struct fit_write_ctx {
    cv_app *app;
    cv_fit_row *fit;
    Shelfline__V1__ModelFit *msg;
} fit_write_ctx;

static sl_status fit_write_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    fit_write_ctx *c = p;
    sl_status st = cv_store_fit_insert(conn, c->fit, err);
    if (st != SL_OK)
        return st;
    c->msg->fit_id = c->fit->fit_id;
    c->msg->fitted_at_ms = c->fit->fitted_ms;
    return sl_events_publish(c->app->events, conn, "MODELS_FITTED", c->fit->cohort, &c->msg->base,
                             err);
}

/* BG/NBD and (when the data allow it) Gamma-Gamma over rc's summaries,
 * into fit. */
static sl_status fit_models(sl_arena *a, const fit_read_ctx *rc, cv_fit_row *fit, sl_err *err)
{
    cv_summary *rows = sl_arena_alloc(a, rc->n * sizeof *rows);
    if (rows == NULL)
        return OOM(err);
    for (size_t i = 0; i < rc->n; i++)
        rows[i] = rc->rows[i].s;
    cv_fit_report bg_rep, gg_rep;
    int64_t t0 = sl_db_now_ms();
    sl_status st = cv_bgnbd_fit(rows, rc->n, NULL, &fit->bg, &bg_rep, err);
    if (st != SL_OK) {
        sl_err_wrap(err, "could not fit BG/NBD");
        return st;
    }
    sl_err gerr;
    sl_status gst = cv_gg_fit(rows, rc->n, NULL, &fit->gg, &gg_rep, &gerr);
    if (gst != SL_OK && gst != SL_FAILED_PRECONDITION)
        return sl_err_set(err, gst, "could not fit Gamma-Gamma: %s", gerr.msg);
    fit->seconds = (double)(sl_db_now_ms() - t0) / 1000.0;
    if (bg_rep.seconds + (gst == SL_OK ? gg_rep.seconds : 0) > fit->seconds)
        fit->seconds = bg_rep.seconds + (gst == SL_OK ? gg_rep.seconds : 0);
    fit->bg_ll = bg_rep.log_likelihood;
    fit->bg_ok = bg_rep.converged;
    fit->customers = (int64_t)bg_rep.customers;
    fit->has_gg = gst == SL_OK;
    if (fit->has_gg) {
        fit->gg_ll = gg_rep.log_likelihood;
        fit->gg_customers = (int64_t)gg_rep.customers;
        fit->gg_ok = gg_rep.converged;
    }
    return SL_OK;
}

/* FitModels' answer from fit. */
static sl_status fit_reply(sl_arena *a, const cv_fit_row *f, Shelfline__V1__ModelFit *out,
                           sl_err *err)
{
    const cv_fit_row fit = *f;
    Shelfline__V1__BgNbdParams *bg = sl_arena_alloc(a, sizeof *bg);
    if (bg == NULL)
        return OOM(err);
    shelfline__v1__bg_nbd_params__init(bg);
    bg->r = fit.bg.r;
    bg->alpha = fit.bg.alpha;
    bg->a = fit.bg.a;
    bg->b = fit.bg.b;
    bg->log_likelihood = fit.bg_ll;
    bg->converged = fit.bg_ok;
    out->bgnbd = bg;
    if (fit.has_gg) {
        Shelfline__V1__GammaGammaParams *gg = sl_arena_alloc(a, sizeof *gg);
        if (gg == NULL)
            return OOM(err);
        shelfline__v1__gamma_gamma_params__init(gg);
        gg->p = fit.gg.p;
        gg->q = fit.gg.q;
        gg->gamma = fit.gg.gamma;
        gg->log_likelihood = fit.gg_ll;
        gg->customers = fit.gg_customers;
        gg->converged = fit.gg_ok;
        out->gamma_gamma = gg;
    }
    out->cohort = (char *)fit.cohort;
    out->as_of_ms = fit.as_of_ms;
    out->customers = fit.customers;
    out->seconds = fit.seconds;
    return SL_OK;
}

/* shelfline_customer_value_fits_total{result}: "converged", "not_converged"
 * (stored and flagged in the answer) or "failed" (nothing stored); and the
 * fits' durations. */
static void count_fit(const char *result, double seconds)
{
    static const char *const l[] = {"result", NULL};
    sl_metric_add(sl_metric_with(sl_metric_counter("shelfline_customer_value_fits_total",
                                                   "Model fits (FitModels) by result.", l),
                                 (const char *[]){result}),
                  1);
    if (seconds >= 0)
        sl_metric_observe(
            sl_metric_with(sl_metric_histogram("shelfline_customer_value_fit_seconds",
                                               "Time to fit the models of one FitModels call.",
                                               NULL, sl_metrics_latency_buckets,
                                               sl_metrics_latency_nbuckets),
                           NULL),
            seconds);
}

sl_status cv_api_fit_models(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__FitModelsRequest *r = (const Shelfline__V1__FitModelsRequest *)req;
    Shelfline__V1__ModelFit *out = (Shelfline__V1__ModelFit *)resp;
    sl_arena *a = sl_call_arena(call);
    fit_read_ctx rc = {.a = a};
    sl_status st =
        cv_valid_cohort("cohort", r->cohort, &rc.f.cohort, &rc.f.cohort_lo, &rc.f.cohort_hi, err);
    if (st == SL_OK && r->as_of_ms != 0)
        st = cv_valid_time("as_of_ms", r->as_of_ms, err);
    if (st != SL_OK)
        return st;
    int64_t as_of_ms = r->as_of_ms != 0 ? r->as_of_ms : sl_db_now_ms();
    /* Fits as of now read the maintained summaries; a past date needs the
     * purchases up to it. */
    rc.f.exact = r->as_of_ms != 0;
    rc.as_of_day = cv_day(as_of_ms);
    sl_db_tx_options o = sl_service_tx_options(call, true);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, fit_read_tx, &rc, err)) != SL_OK)
        return st;
    if (rc.n == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                             "no customer with purchases to fit%s%s%s",
                             rc.f.cohort ? " in cohort \"" : "", rc.f.cohort ? r->cohort : "",
                             rc.f.cohort ? "\"" : "");
    cv_fit_row fit = {.cohort = r->cohort, .as_of_ms = as_of_ms, .ret = rc.ret};
    if ((st = fit_models(a, &rc, &fit, err)) != SL_OK ||
        (st = fit_reply(a, &fit, out, err)) != SL_OK) {
        count_fit("failed", -1);
        return st;
    }
    fit_write_ctx wc = {CV_APP(call), &fit, out};
    o = sl_service_tx_options(call, false);
    st = sl_db_tx(CV_APP(call)->db, &o, fit_write_tx, &wc, err);
    count_fit(st != SL_OK ? "failed" : fit.bg_ok ? "converged" : "not_converged", fit.seconds);
    return st;
}

/* ---- GetCustomerValue ---- */

typedef struct value_ctx {
    sl_arena *a;
    const char *id;
    int32_t today;
    cv_customer_row *cust;
    cv_summary_row *me; /* NULL without purchases */
    cv_rfm_counts rank;
    cv_line_row *lines;
    size_t nlines;
    cv_fit_row *fit;
    int64_t referral;
} value_ctx;

static sl_status value_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    value_ctx *c = p;
    sl_status st = cv_store_customer_get(conn, c->a, c->id, false, &c->cust, err);
    if (st != SL_OK || c->cust == NULL)
        return st;
    cv_summary_filter f = {.customer_id = c->id};
    size_t n;
    if ((st = cv_store_summaries(conn, c->a, c->today, &f, &c->me, &n, err)) != SL_OK)
        return st;
    if (n == 0)
        c->me = NULL;
    if (c->me != NULL && (st = cv_store_rfm_rank(conn, c->me->last_day, c->me->orders,
                                                 c->me->net_minor, &c->rank, err)) != SL_OK)
        return st;
    if ((st = cv_store_customer_lines(conn, c->a, c->id, &c->lines, &c->nlines, err)) != SL_OK)
        return st;
    if ((st = cv_store_fit_latest(conn, c->a, "", &c->fit, err)) != SL_OK)
        return st;
    return cv_store_referral_value(conn, c->id, &c->referral, err);
}

/* One RFM score from mid-rank counts, exactly as cv_rfm_score_all. */
static int rank_score(int64_t worse, int64_t tied, int64_t n)
{
    double pos = ((double)worse + 0.5 * (double)tied) / (double)n;
    int s = 1 + (int)floor(5.0 * pos);
    return s > 5 ? 5 : s < 1 ? 1 : s;
}

/* What GetCustomerValue's CLVs assume: the request's, or the defaults. */
typedef struct clv_assumptions {
    double discount; /* the simple CLV's, per year */
    double lifetime; /* the simple CLV's, in years */
    cv_clv_horizon model;
} clv_assumptions;

static sl_status assumptions_of(const Shelfline__V1__ClvAssumptions *in, clv_assumptions *out,
                                sl_err *err)
{
    *out = (clv_assumptions){SIMPLE_DISCOUNT, SIMPLE_LIFETIME, default_horizon};
    if (in == NULL)
        return SL_OK;
    if (!isfinite(in->discount_rate) || !(in->discount_rate > -1.0) || in->discount_rate > 10.0)
        return sl_err_field(err, "assumptions.discount_rate",
                            "assumptions.discount_rate must be above -1 and at most 10 a year "
                            "(0.10 is 10 %%), got %g",
                            in->discount_rate);
    if (!isfinite(in->lifetime_years) || in->lifetime_years < 0.0 || in->lifetime_years > 50.0)
        return sl_err_field(err, "assumptions.lifetime_years",
                            "assumptions.lifetime_years must be 0 to 50, got %g",
                            in->lifetime_years);
    out->discount = in->discount_rate;
    out->lifetime = in->lifetime_years;
    /* Months of CLV_STEP_DAYS, at the monthly rate equivalent to the
     * yearly one. */
    out->model.periods = (int)lround(in->lifetime_years * 12.0);
    out->model.discount_rate = pow(1.0 + in->discount_rate, 1.0 / 12.0) - 1.0;
    return SL_OK;
}

/* The simple CLV of one customer under the variant: their yearly orders and
 * spend (over at least a year of tenure) through the formula, with the
 * population's yearly retention (1 while there is no year-old customer to
 * measure it). */
static double simple_clv(const cv_summary_row *s, const cv_retention_counts *ret, int64_t referral,
                         int32_t today, const clv_assumptions *as, cv_simple_variant variant)
{
    double tenure = (double)(today - s->first_day + 1);
    if (tenure < 365)
        tenure = 365;
    cv_simple_input in = {
        .total_sales = (double)s->net_minor * 365.0 / tenure,
        .purchases = (double)s->orders * 365.0 / tenure,
        .customers = 1,
        .customers_at_start = 1,
        .customers_at_end = 1,
        .new_customers = 0,
        .discount_rate = as->discount,
        .lifetime = as->lifetime,
        .referral_value = (double)referral,
    };
    if (ret->start > 0) {
        in.customers_at_start = (double)ret->start;
        in.customers_at_end = (double)(ret->retained + ret->new_customers);
        in.new_customers = (double)ret->new_customers;
    }
    cv_simple_result res;
    if (s->orders == 0 || cv_simple_clv(&in, variant, &res, NULL) != SL_OK)
        return (double)referral;
    return res.clv;
}

/* The customer's top categories by recency-weighted net spend. */
static sl_status value_top_categories(sl_arena *a, const value_ctx *cc,
                                      Shelfline__V1__CustomerValue *out, sl_err *err)
{
    const value_ctx c = *cc;
    sl_status st;
    /* Top categories by recency-weighted net spend. */
    cv_purchase_line *pl = sl_arena_alloc(a, (c.nlines > 0 ? c.nlines : 1) * sizeof *pl);
    cv_interest *ints = sl_arena_alloc(a, TOP_CATEGORIES * sizeof *ints);
    if (pl == NULL || ints == NULL)
        return OOM(err);
    for (size_t i = 0; i < c.nlines; i++)
        pl[i] =
            (cv_purchase_line){c.lines[i].category, c.lines[i].day, (double)c.lines[i].net_minor};
    size_t ni = 0;
    if ((st = cv_interest_rank(pl, c.nlines, c.today, INTEREST_HALF_LIFE_DAYS, ints, TOP_CATEGORIES,
                               &ni, err)) != SL_OK)
        return st;
    out->top_categories = sl_arena_alloc(a, (ni > 0 ? ni : 1) * sizeof *out->top_categories);
    if (out->top_categories == NULL)
        return OOM(err);
    for (size_t i = 0; i < ni; i++) {
        Shelfline__V1__CategoryInterest *ci = sl_arena_alloc(a, sizeof *ci);
        if (ci == NULL)
            return OOM(err);
        shelfline__v1__category_interest__init(ci);
        ci->category = (char *)ints[i].category;
        ci->score = ints[i].score;
        out->top_categories[i] = ci;
    }
    out->n_top_categories = ni;
    return SL_OK;
}

sl_status cv_api_get_customer_value(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__GetCustomerValueRequest *r =
        (const Shelfline__V1__GetCustomerValueRequest *)req;
    Shelfline__V1__CustomerValue *out = (Shelfline__V1__CustomerValue *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st = cv_valid_id("customer_id", r->customer_id, err);
    clv_assumptions as;
    if (st != SL_OK || (st = assumptions_of(r->assumptions, &as, err)) != SL_OK)
        return st;
    value_ctx c = {.a = a, .id = r->customer_id, .today = today()};
    sl_db_tx_options o = sl_service_tx_options(call, true);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, value_tx, &c, err)) != SL_OK)
        return st;
    if (c.cust == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "CUSTOMER_NOT_FOUND",
                             "customer_id: unknown customer \"%s\"", r->customer_id);
    const cv_summary_row *me = c.me;
    cv_rfm_score score, *ms = NULL;
    if (me != NULL && c.rank.n > 0) {
        score.r = (uint8_t)rank_score(c.rank.worse[0], c.rank.tied[0], c.rank.n);
        score.f = (uint8_t)rank_score(c.rank.worse[1], c.rank.tied[1], c.rank.n);
        score.m = (uint8_t)rank_score(c.rank.worse[2], c.rank.tied[2], c.rank.n);
        score.segment = cv_rfm_segment(score.r, score.f, score.m, (double)me->orders);
        ms = &score;
    }
    cv_retention_counts ret = {0};
    if (c.fit != NULL)
        ret = c.fit->ret;
    const char *cur = me != NULL ? me->currency : "";
    out->customer_id = r->customer_id;
    out->region = (char *)c.cust->region;
    Shelfline__V1__RfmScore *rfm = sl_arena_alloc(a, sizeof *rfm);
    if (rfm == NULL)
        return OOM(err);
    shelfline__v1__rfm_score__init(rfm);
    out->rfm = rfm;
    model_out m = {0};
    if (me != NULL && ms != NULL) {
        model_eval(c.fit, me, &as.model, &m);
        out->orders = me->orders;
        out->last_purchase_at_ms = (int64_t)me->last_day * CV_DAY_MS;
        rfm->recency = ms->r;
        rfm->frequency = ms->f;
        rfm->monetary = ms->m;
        rfm->segment = (char *)cv_segment_name(ms->segment);
    }
    out->total_spend = cv_money(a, me != NULL ? me->net_minor : 0, cur);
    out->simple_clv =
        cv_money(a,
                 me != NULL ? llround(simple_clv(me, &ret, c.referral, c.today, &as, CV_SIMPLE_AOV))
                            : c.referral,
                 cur);
    out->simple_clv_literal = cv_money(
        a,
        me != NULL ? llround(simple_clv(me, &ret, c.referral, c.today, &as, CV_SIMPLE_LITERAL))
                   : c.referral,
        cur);
    /* The referral value joins the model's discounted spend as the simple
     * formula adds it: as given. */
    out->model_clv = cv_money(a, llround(m.clv) + c.referral, cur);
    out->referral_value = cv_money(a, c.referral, cur);
    out->expected_order_value = cv_money(a, llround(m.order_value), cur);
    Shelfline__V1__ClvAssumptions *used = sl_arena_alloc(a, sizeof *used);
    if (out->total_spend == NULL || out->simple_clv == NULL || out->simple_clv_literal == NULL ||
        out->model_clv == NULL || out->referral_value == NULL ||
        out->expected_order_value == NULL || used == NULL)
        return OOM(err);
    shelfline__v1__clv_assumptions__init(used);
    used->discount_rate = as.discount;
    used->lifetime_years = as.lifetime;
    out->assumptions = used;
    out->p_alive = m.p_alive;
    out->expected_purchases_30d = m.e30;
    out->expected_purchases_90d = m.e90;
    out->expected_purchases_365d = m.e365;
    out->model_fitted = c.fit != NULL;
    out->fit_id = c.fit != NULL ? c.fit->fit_id : 0;
    out->tier = tier_of(me != NULL ? me->orders : 0, ms);

    return value_top_categories(a, &c, out, err);
}

/* ---- GetRetentionReport ---- */

typedef struct report_ctx {
    sl_arena *a;
    int32_t end_day; /* exclusive */
    int32_t period, ncohorts;
    cv_summary_filter f;
    cv_retention_counts ret;
    cv_cohort_cell *cells;
    size_t ncells;
    cv_summary_row *rows;
    size_t n;
    cv_fit_row *fit;
} report_ctx;

static sl_status report_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    report_ctx *c = p;
    sl_status st = cv_store_retention(conn, c->end_day, c->period, &c->f, &c->ret, err);
    if (st == SL_OK)
        st = cv_store_cohorts(conn, c->a, c->end_day, c->period, c->ncohorts, &c->f, &c->cells,
                              &c->ncells, err);
    if (st == SL_OK)
        st = cv_store_fit_latest(conn, c->a, "", &c->fit, err);
    if (st == SL_OK && c->fit != NULL)
        st = cv_store_summaries(conn, c->a, c->end_day - 1, &c->f, &c->rows, &c->n, err);
    return st;
}

static int dcmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)pos;
    if (i + 1 >= n)
        return v[n - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

/* The cohort table: per cohort its customers and the share of them
 * buying again in each later period. */
static sl_status retention_cohorts(sl_arena *a, const report_ctx *cc,
                                   Shelfline__V1__RetentionReport *out, sl_err *err)
{
    const report_ctx c = *cc;
    out->cohorts = sl_arena_zalloc(a, (size_t)c.ncohorts * sizeof *out->cohorts);
    if (out->cohorts == NULL)
        return OOM(err);
    for (int32_t k = 0; k < c.ncohorts; k++) {
        Shelfline__V1__CohortRow *row = sl_arena_alloc(a, sizeof *row);
        double *ret = sl_arena_zalloc(a, (size_t)(k > 0 ? k : 1) * sizeof *ret);
        if (row == NULL || ret == NULL)
            return OOM(err);
        shelfline__v1__cohort_row__init(row);
        row->start_ms = (int64_t)(c.end_day - (k + 1) * c.period) * CV_DAY_MS;
        row->retained = ret;
        row->n_retained = (size_t)k;
        out->cohorts[k] = row;
    }
    out->n_cohorts = (size_t)c.ncohorts;
    for (size_t i = 0; i < c.ncells; i++)
        if (c.cells[i].cohort >= 0 && c.cells[i].cohort < c.ncohorts && c.cells[i].offset == 0)
            out->cohorts[c.cells[i].cohort]->customers = c.cells[i].customers;
    for (size_t i = 0; i < c.ncells; i++) {
        const cv_cohort_cell *cell = &c.cells[i];
        if (cell->cohort < 0 || cell->cohort >= c.ncohorts || cell->offset < 1 ||
            cell->offset > cell->cohort)
            continue;
        Shelfline__V1__CohortRow *row = out->cohorts[cell->cohort];
        if (row->customers > 0)
            row->retained[cell->offset - 1] = (double)cell->customers / (double)row->customers;
    }
    return SL_OK;
}

/* The distribution of model CLV over the customers (empty without a fit). */
static sl_status retention_clv(sl_arena *a, const report_ctx *cc,
                               Shelfline__V1__RetentionReport *out, sl_err *err)
{
    const report_ctx c = *cc;
    Shelfline__V1__ClvDistribution *d = sl_arena_alloc(a, sizeof *d);
    if (d == NULL)
        return OOM(err);
    shelfline__v1__clv_distribution__init(d);
    out->clv = d;
    if (c.fit != NULL && c.n > 0) {
        double *v = sl_arena_alloc(a, c.n * sizeof *v);
        if (v == NULL)
            return OOM(err);
        double sum = 0;
        for (size_t i = 0; i < c.n; i++) {
            model_out m;
            model_eval(c.fit, &c.rows[i], &default_horizon, &m);
            v[i] = m.clv;
            sum += m.clv;
        }
        qsort(v, c.n, sizeof *v, dcmp);
        d->customers = (int64_t)c.n;
        d->mean = sum / (double)c.n;
        d->p10 = quantile(v, c.n, 0.10);
        d->p50 = quantile(v, c.n, 0.50);
        d->p90 = quantile(v, c.n, 0.90);
        d->p99 = quantile(v, c.n, 0.99);
    }
    return SL_OK;
}

sl_status cv_api_get_retention_report(sl_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__GetRetentionReportRequest *r =
        (const Shelfline__V1__GetRetentionReportRequest *)req;
    Shelfline__V1__RetentionReport *out = (Shelfline__V1__RetentionReport *)resp;
    sl_arena *a = sl_call_arena(call);
    report_ctx c = {.a = a};
    sl_status st = SL_OK;
    if (r->period_days < 7 || r->period_days > 366)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "period_days must be between 7 and 366 (got %d)", r->period_days);
    if (r->as_of_ms != 0 && (st = cv_valid_time("as_of_ms", r->as_of_ms, err)) != SL_OK)
        return st;
    if ((st = cv_valid_cohort("cohort", r->cohort, &c.f.cohort, &c.f.cohort_lo, &c.f.cohort_hi,
                              err)) != SL_OK)
        return st;
    if (r->cohorts < 0 || r->cohorts > 24)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "cohorts must be between 0 and 24 (got %d)",
                          r->cohorts);
    c.period = r->period_days;
    c.ncohorts = r->cohorts > 0 ? r->cohorts : 12;
    c.end_day = cv_day(r->as_of_ms != 0 ? r->as_of_ms : sl_db_now_ms()) + 1;
    sl_db_tx_options o = sl_service_tx_options(call, true);
    if ((st = sl_db_tx(CV_APP(call)->db, &o, report_tx, &c, err)) != SL_OK)
        return st;

    out->customers_at_start = c.ret.start;
    out->customers_at_end = c.ret.end;
    out->new_customers = c.ret.new_customers;
    double rate = 0;
    if (c.ret.start > 0 &&
        cv_retention_rate((double)c.ret.start, (double)(c.ret.retained + c.ret.new_customers),
                          (double)c.ret.new_customers, &rate, err) != SL_OK)
        return SL_INTERNAL;
    out->retention_rate = rate;
    out->churn_rate = c.ret.start > 0 ? 1 - rate : 0;

    if ((st = retention_cohorts(a, &c, out, err)) != SL_OK)
        return st;
    return retention_clv(a, &c, out, err);
}

/* ---- ListSegment ---- */

typedef struct segment_ctx {
    sl_arena *a;
    int32_t today;
    cv_summary_filter fcat;
    bool need_fit;
    cv_summary_row *rows, *cat_rows;
    size_t n, ncat;
    cv_fit_row *fit;
} segment_ctx;

static sl_status segment_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    segment_ctx *c = p;
    cv_summary_filter all = {0};
    sl_status st = cv_store_summaries(conn, c->a, c->today, &all, &c->rows, &c->n, err);
    if (st == SL_OK && c->fcat.category != NULL)
        st = cv_store_summaries(conn, c->a, c->today, &c->fcat, &c->cat_rows, &c->ncat, err);
    if (st == SL_OK && c->need_fit)
        st = cv_store_fit_latest(conn, c->a, "", &c->fit, err);
    return st;
}

/* Every rule of a ListSegment request; *seg is the segment asked for
 * (CV_SEGMENT_COUNT: any). */
static sl_status segment_request_check(const Shelfline__V1__ListSegmentRequest *r, cv_segment *seg,
                                       sl_err *err)
{
    sl_status st = SL_OK;
    if (r->segment[0] != '\0' && cv_segment_from_name(r->segment, seg, err) != SL_OK)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "segment \"%.32s\" is not one of champions, loyal, potential_loyalists, "
                          "new, at_risk, cant_lose, hibernating, lost",
                          r->segment);
    if (r->region[0] != '\0' && (st = cv_valid_region("region", r->region, err)) != SL_OK)
        return st;
    if (r->category[0] != '\0' &&
        (st = cv_valid_text("category", r->category, 1, 64, err)) != SL_OK)
        return st;
    if (r->min_clv_minor < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "min_clv_minor must not be negative (got %lld)",
                          (long long)r->min_clv_minor);
    if (r->max_clv_minor < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "max_clv_minor must not be negative (got %lld)",
                          (long long)r->max_clv_minor);
    if (r->max_clv_minor > 0 && r->max_clv_minor < r->min_clv_minor)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "max_clv_minor %lld is below min_clv_minor %lld",
                          (long long)r->max_clv_minor, (long long)r->min_clv_minor);
    if (!(r->min_p_alive >= 0 && r->min_p_alive <= 1))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "min_p_alive must be between 0 and 1 (got %g)",
                          r->min_p_alive);
    return SL_OK;
}

/* The customers of c matching r after `after`, in id order, at most
 * limit of them into rows (*n); *more says another match follows. */
static void segment_match(const Shelfline__V1__ListSegmentRequest *r, const segment_ctx *cc,
                          const cv_rfm_score *scores, cv_segment seg, size_t limit,
                          const char *after, const cv_summary_row **rows, size_t *n, bool *more)
{
    const segment_ctx c = *cc;
    size_t k = 0, ci = 0;
    *more = false;
    for (size_t i = 0; i < c.n; i++) {
        const cv_summary_row *s = &c.rows[i];
        if (strcmp(s->customer_id, after) <= 0)
            continue;
        if (r->region[0] != '\0' && strcmp(s->region, r->region) != 0)
            continue;
        if (c.fcat.category != NULL) {
            while (ci < c.ncat && strcmp(c.cat_rows[ci].customer_id, s->customer_id) < 0)
                ci++;
            if (ci >= c.ncat || strcmp(c.cat_rows[ci].customer_id, s->customer_id) != 0)
                continue;
        }
        if (scores != NULL && scores[i].segment != seg)
            continue;
        if (c.need_fit) {
            model_out m;
            model_eval(c.fit, s, &default_horizon, &m);
            if (m.clv < (double)r->min_clv_minor || m.p_alive < r->min_p_alive)
                continue;
            if (r->max_clv_minor > 0 && m.clv > (double)r->max_clv_minor)
                continue;
        }
        if (k == limit) {
            *more = true;
            break;
        }
        rows[k++] = s;
    }
    *n = k;
}

/* Reads what r's filters need and scores everyone when a segment is
 * asked: *c and *scores (NULL: no segment) for segment_match. */
static sl_status segment_load(sl_call *call, const Shelfline__V1__ListSegmentRequest *r,
                              cv_segment seg, segment_ctx *c, cv_rfm_score **scores, sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    *c = (segment_ctx){.a = a, .today = today()};
    c->fcat.category = r->category[0] != '\0' ? r->category : NULL;
    c->need_fit = r->min_clv_minor > 0 || r->max_clv_minor > 0 || r->min_p_alive > 0;
    sl_db_tx_options o = sl_service_tx_options(call, true);
    sl_status st = sl_db_tx(CV_APP(call)->db, &o, segment_tx, c, err);
    if (st != SL_OK)
        return st;
    if (c->need_fit && c->fit == NULL)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "MODEL_NOT_FITTED",
                             "min_clv_minor, max_clv_minor and min_p_alive need a model fit: call "
                             "FitModels first");
    *scores = NULL;
    if (seg != CV_SEGMENT_COUNT)
        return score_all(a, c->rows, c->n, c->today, scores, err);
    return SL_OK;
}

sl_status cv_segment_check(const Shelfline__V1__ListSegmentRequest *r, sl_err *err)
{
    cv_segment seg;
    return segment_request_check(r, &seg, err);
}

sl_status cv_segment_members(sl_call *call, const Shelfline__V1__ListSegmentRequest *r,
                             const cv_summary_row ***out, size_t *n, sl_err *err)
{
    cv_segment seg = CV_SEGMENT_COUNT;
    segment_ctx c;
    cv_rfm_score *scores = NULL;
    bool more;
    sl_status st = segment_request_check(r, &seg, err);
    if (st == SL_OK)
        st = segment_load(call, r, seg, &c, &scores, err);
    if (st != SL_OK)
        return st;
    *out = sl_arena_alloc(c.a, (c.n > 0 ? c.n : 1) * sizeof **out);
    if (*out == NULL)
        return OOM(err);
    segment_match(r, &c, scores, seg, c.n, "", *out, n, &more);
    return SL_OK;
}

sl_status cv_api_list_segment(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__ListSegmentRequest *r = (const Shelfline__V1__ListSegmentRequest *)req;
    Shelfline__V1__ListSegmentResponse *out = (Shelfline__V1__ListSegmentResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    cv_segment seg = CV_SEGMENT_COUNT;
    sl_status st = SL_OK;
    if ((st = segment_request_check(r, &seg, err)) != SL_OK)
        return st;
    int limit;
    char after[80];
    if ((st = sl_page_read(r->page, &limit, after, sizeof after, err)) != SL_OK)
        return st;
    segment_ctx c;
    cv_rfm_score *scores = NULL;
    if ((st = segment_load(call, r, seg, &c, &scores, err)) != SL_OK)
        return st;
    const cv_summary_row **rows = sl_arena_alloc(a, (size_t)limit * sizeof *rows);
    out->customer_ids = sl_arena_alloc(a, (size_t)limit * sizeof *out->customer_ids);
    if (rows == NULL || out->customer_ids == NULL)
        return OOM(err);
    size_t k;
    bool more;
    segment_match(r, &c, scores, seg, (size_t)limit, after, rows, &k, &more);
    for (size_t i = 0; i < k; i++)
        out->customer_ids[i] = (char *)rows[i]->customer_id;
    out->n_customer_ids = k;
    if (more && k > 0 &&
        (out->next_page_token = sl_page_token_encode(a, rows[k - 1]->customer_id)) == NULL)
        return OOM(err);
    return SL_OK;
}
