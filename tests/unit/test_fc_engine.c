/* fc_engine: the public forecasting API end to end -- degenerate and short
 * series fall back with a reason and never give NaN, intervals widen with
 * the horizon and nest by level, stock-outs censor demand, events lift it
 * within quotas, intraday sales refresh today, sums over steps, config
 * validation and the error measures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fc_engine.h"

/* A daily series with weekly pattern and noise from a fixed LCG. */
static void weekly(double *y, size_t n, double level, double noise, unsigned seed)
{
    static const double w[7] = {0.8, 0.9, 1.0, 1.0, 1.1, 1.4, 0.8};
    unsigned s = seed;
    for (size_t t = 0; t < n; t++) {
        s = s * 1103515245u + 12345u;
        double u = ((double)((s >> 8) & 0xffff) / 65535.0 - 0.5) * 2 * noise;
        y[t] = level * w[t % 7] + u;
    }
}

static fc_forecast *run(const fc_series *s, const fc_config *cfg)
{
    fc_forecast *f = NULL;
    sl_err err;
    sl_status st = fc_forecast_run(s, cfg, &f, &err);
    if (st != SL_OK)
        fail_msg("fc_forecast_run: %s", err.msg);
    return f;
}

/* Finite figures, point inside every band, the 95% band around the 80%. */
static void check_sane(const fc_forecast *f, int nonneg)
{
    size_t h = fc_forecast_horizon(f);
    const double *pt = fc_forecast_points(f);
    for (size_t j = 0; j < h; j++) {
        assert_true(isfinite(pt[j]));
        if (nonneg)
            assert_true(pt[j] >= 0);
        for (size_t l = 0; l < fc_forecast_n_levels(f); l++) {
            double lo = fc_forecast_lower(f, l)[j], hi = fc_forecast_upper(f, l)[j];
            assert_true(isfinite(lo) && isfinite(hi));
            assert_true(lo <= pt[j] && pt[j] <= hi);
        }
        assert_true(fc_forecast_lower(f, 1)[j] <= fc_forecast_lower(f, 0)[j]);
        assert_true(fc_forecast_upper(f, 1)[j] >= fc_forecast_upper(f, 0)[j]);
    }
    fc_info in;
    fc_forecast_info(f, &in);
    assert_true(in.method != FC_METHOD_AUTO);
    assert_non_null(in.model);
    assert_non_null(in.reason);
    assert_true(isfinite(in.sigma));
}

static void test_all_zero(void **state)
{
    (void)state;
    double y[60] = {0};
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    fc_series s = {y, 60, NULL, NULL};
    fc_forecast *f = run(&s, &cfg);
    check_sane(f, 1);
    for (size_t j = 0; j < 14; j++) {
        assert_true(fc_forecast_points(f)[j] == 0);
        assert_true(fc_forecast_upper(f, 1)[j] == 0);
    }
    fc_info in;
    fc_forecast_info(f, &in);
    assert_int_equal(in.method, FC_METHOD_MEAN);
    assert_non_null(strstr(in.reason, "zero"));
    fc_forecast_free(f);
}

static void test_constant(void **state)
{
    (void)state;
    double y[50];
    for (int t = 0; t < 50; t++)
        y[t] = 7.5;
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    for (int method = FC_METHOD_AUTO; method <= FC_METHOD_ARIMA; method++) {
        cfg.method = (fc_method)method;
        fc_series s = {y, 50, NULL, NULL};
        fc_forecast *f = run(&s, &cfg);
        check_sane(f, 1);
        for (size_t j = 0; j < 14; j++)
            assert_true(fabs(fc_forecast_points(f)[j] - 7.5) < 1e-9);
        fc_info in;
        fc_forecast_info(f, &in);
        assert_non_null(strstr(in.reason, "constant"));
        fc_forecast_free(f);
    }
}

static void test_single_nonzero(void **state)
{
    (void)state;
    double y[40] = {0};
    y[17] = 5;
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    for (int method = FC_METHOD_AUTO; method <= FC_METHOD_ARIMA; method++) {
        cfg.method = (fc_method)method;
        fc_series s = {y, 40, NULL, NULL};
        fc_forecast *f = run(&s, &cfg);
        check_sane(f, 1);
        if (method == FC_METHOD_AUTO) {
            fc_info in;
            fc_forecast_info(f, &in);
            /* intermittent: Croston, TSB and ETS compete in the backtest */
            assert_true(in.method == FC_METHOD_CROSTON || in.method == FC_METHOD_TSB ||
                        in.method == FC_METHOD_ETS);
            assert_non_null(strstr(in.reason, "intermittent"));
        }
        fc_forecast_free(f);
    }
}

static void test_very_short(void **state)
{
    (void)state;
    double y[] = {4, 6, 5};
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    for (size_t n = 1; n <= 3; n++) {
        for (int method = FC_METHOD_AUTO; method <= FC_METHOD_ARIMA; method++) {
            cfg.method = (fc_method)method;
            fc_series s = {y, n, NULL, NULL};
            fc_forecast *f = run(&s, &cfg);
            check_sane(f, 1);
            fc_info in;
            fc_forecast_info(f, &in);
            assert_true(strlen(in.reason) > 0);
            fc_forecast_free(f);
        }
    }
    /* 10 days ask for a seasonal model of period 7: simpler ones instead */
    double z[10] = {3, 5, 4, 6, 5, 7, 6, 8, 7, 9};
    cfg.method = FC_METHOD_ETS;
    fc_series s = {z, 10, NULL, NULL};
    fc_forecast *f = run(&s, &cfg);
    check_sane(f, 1);
    fc_forecast_free(f);
}

static void test_missing_days(void **state)
{
    (void)state;
    double y[140];
    weekly(y, 140, 50, 5, 11);
    for (int t = 3; t < 140; t += 9)
        y[t] = NAN;
    y[139] = NAN;
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    for (int method = FC_METHOD_AUTO; method <= FC_METHOD_ARIMA; method++) {
        cfg.method = (fc_method)method;
        fc_series s = {y, 140, NULL, NULL};
        fc_forecast *f = run(&s, &cfg);
        check_sane(f, 1);
        fc_info in;
        fc_forecast_info(f, &in);
        assert_true(in.n_obs < 140);
        fc_forecast_free(f);
    }
    double none[5] = {NAN, NAN, NAN, NAN, NAN};
    fc_series s = {none, 5, NULL, NULL};
    fc_forecast *f = NULL;
    sl_err err;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_FAILED_PRECONDITION);
    assert_null(f);
}

static void test_intervals_widen_and_nest(void **state)
{
    (void)state;
    double y[200];
    weekly(y, 200, 100, 20, 5);
    static const fc_method analytic[] = {FC_METHOD_NAIVE, FC_METHOD_SES, FC_METHOD_HOLT,
                                         FC_METHOD_DAMPED, FC_METHOD_THETA};
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.horizon = 21;
    for (size_t i = 0; i < sizeof analytic / sizeof analytic[0]; i++) {
        cfg.method = analytic[i];
        fc_series s = {y, 200, NULL, NULL};
        fc_forecast *f = run(&s, &cfg);
        check_sane(f, 1);
        /* Wider every step; for seasonal Theta, whose band scales with the
         * weekday's index, wider than the same weekday a week before. */
        size_t lag = analytic[i] == FC_METHOD_THETA ? 7 : 1;
        for (size_t l = 0; l < 2; l++) {
            const double *hi = fc_forecast_upper(f, l), *pt = fc_forecast_points(f);
            for (size_t j = lag; j < 21; j++)
                assert_true(hi[j] - pt[j] > hi[j - lag] - pt[j - lag]);
        }
        /* 95% over 80%: the ratio of normal quantiles */
        double r = (fc_forecast_upper(f, 1)[0] - fc_forecast_points(f)[0]) /
                   (fc_forecast_upper(f, 0)[0] - fc_forecast_points(f)[0]);
        assert_true(fabs(r - 1.959963984540054 / 1.2815515655446004) < 1e-9);
        fc_forecast_free(f);
    }
    /* seasonal naive: the band steps up once per season */
    cfg.method = FC_METHOD_SNAIVE;
    fc_series s = {y, 200, NULL, NULL};
    fc_forecast *f = run(&s, &cfg);
    const double *pt = fc_forecast_points(f), *hi = fc_forecast_upper(f, 0);
    assert_true(fabs((hi[7] - pt[7]) / (hi[0] - pt[0]) - sqrt(2)) < 1e-9);
    assert_true(fabs((hi[6] - pt[6]) - (hi[0] - pt[0])) < 1e-9);
    assert_true(pt[0] == y[193] && pt[8] == y[194]);
    fc_forecast_free(f);
}

static void test_auto_picks_seasonal_and_backtests(void **state)
{
    (void)state;
    double y[364];
    weekly(y, 364, 200, 10, 3);
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.horizon = 28;
    fc_series s = {y, 364, NULL, NULL};
    fc_forecast *f = run(&s, &cfg);
    check_sane(f, 1);
    fc_info in;
    fc_forecast_info(f, &in);
    /* uniform noise of +-10: a model's MAE near 5, the seasonal naive
     * scale near 20/3 */
    assert_true(isfinite(in.backtest_mase) && in.backtest_mase < 1.0);
    assert_true(isfinite(in.backtest_smape) && in.backtest_smape < 10);
    assert_int_equal(in.backtest_origins, 3);
    /* the weekly shape is forecast: 364 days is whole weeks, so step j is
     * weekday j, and day 5 (factor 1.4) tops day 6 (0.8) */
    const double *pt = fc_forecast_points(f);
    assert_true(pt[5] > 1.5 * pt[6]);
    /* determinism */
    fc_forecast *g = run(&s, &cfg);
    assert_memory_equal(fc_forecast_points(f), fc_forecast_points(g), 28 * sizeof(double));
    assert_memory_equal(fc_forecast_upper(f, 1), fc_forecast_upper(g, 1), 28 * sizeof(double));
    fc_forecast_free(g);
    fc_forecast_free(f);
    cfg.select = FC_SELECT_AICC;
    f = run(&s, &cfg);
    fc_forecast_info(f, &in);
    assert_true(in.method == FC_METHOD_ETS && isfinite(in.aicc));
    assert_non_null(strstr(in.reason, "AICc"));
    fc_forecast_free(f);
}

static void test_stockout_censoring(void **state)
{
    (void)state;
    /* Steady demand of about 20 a day; the last 10 days were stocked out
     * (zero or a few units sold).  Without the flags the model learns to
     * expect little; with them it keeps the demand it saw. */
    double y[120];
    uint8_t flags[120] = {0};
    weekly(y, 120, 20, 2, 9);
    for (int t = 110; t < 120; t++) {
        y[t] = t == 112 ? 3 : 0;
        flags[t] = FC_DAY_STOCKOUT;
    }
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.method = FC_METHOD_SES;
    fc_series plain = {y, 120, NULL, NULL};
    fc_series cens = {y, 120, flags, NULL};
    fc_forecast *a = run(&plain, &cfg), *b = run(&cens, &cfg);
    assert_true(fc_forecast_points(a)[0] < 10);
    assert_true(fc_forecast_points(b)[0] > 17);
    fc_info in;
    fc_forecast_info(b, &in);
    assert_int_equal(in.n_censored, 10);
    assert_int_equal(in.n_obs, 111); /* the day with 3 units stays, censored */
    fc_forecast_free(a);
    fc_forecast_free(b);
}

static void test_event_uplift_and_quota(void **state)
{
    (void)state;
    /* 2 years of daily sales around 10; event 42 (Black Friday) last year
     * sold 3x on its 2 days.  This year it is 3 and 4 days ahead. */
    double y[730];
    int32_t ev[730] = {0};
    weekly(y, 730, 10, 1, 21);
    for (int t = 700; t < 702; t++) {
        y[t] *= 3;
        ev[t] = 42;
    }
    int32_t future[14] = {0};
    future[3] = future[4] = 42;
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.method = FC_METHOD_ETS;
    cfg.future_events = future;
    fc_series s = {y, 730, NULL, ev};
    fc_forecast *f = run(&s, &cfg);
    check_sane(f, 1);
    assert_int_equal(fc_forecast_n_uplifts(f), 1);
    fc_uplift u;
    fc_forecast_uplift(f, 0, &u);
    assert_int_equal(u.event, 42);
    assert_int_equal(u.past_days, 2);
    assert_true(fabs(u.factor - 3) < 0.3);
    assert_true(isnan(u.quota_left));
    double with[14];
    memcpy(with, fc_forecast_points(f), sizeof with);
    assert_true(with[3] > 2.5 * with[2] / 1.4);
    fc_forecast_free(f);

    /* A quota of 60 units: day 3 takes its uplifted demand (about 42), day
     * 4 what is left of the quota plus the baseline for the rest of the
     * day. */
    fc_quota q = {42, 60};
    cfg.quotas = &q;
    cfg.n_quotas = 1;
    f = run(&s, &cfg);
    const double *pt = fc_forecast_points(f);
    assert_true(fabs(pt[3] - with[3]) < 1e-9);
    double base4 = with[4] / u.factor, left = 60 - with[3];
    assert_true(left > 0 && left < with[4]);
    double want = left + (1 - left / with[4]) * base4;
    assert_true(fabs(pt[4] - want) < 1e-6 * want);
    fc_forecast_uplift(f, 0, &u);
    assert_true(u.quota_left == 0);
    fc_forecast_free(f);
}

static void test_intraday_refresh(void **state)
{
    (void)state;
    double y[200];
    weekly(y, 200, 100, 8, 4);
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.method = FC_METHOD_SES;
    fc_series s = {y, 200, NULL, NULL};
    double hourly[2 * 24], profile[24], sales[24];
    for (int i = 0; i < 48; i++)
        hourly[i] = 1;
    assert_int_equal(fc_intraday_profile(hourly, 2, 24, profile, NULL), SL_OK);
    assert_true(fabs(profile[5] - 1.0 / 24) < 1e-12);

    /* On plan: half the day gone, half the forecast sold. */
    fc_forecast *f = run(&s, &cfg);
    double p0 = fc_forecast_points(f)[0], p1 = fc_forecast_points(f)[1], ratio;
    for (int i = 0; i < 12; i++)
        sales[i] = p0 / 24;
    assert_int_equal(fc_forecast_intraday(f, profile, 24, sales, 12, 1, &ratio, NULL), SL_OK);
    assert_true(fabs(ratio - 1) < 1e-9);
    assert_true(fabs(fc_forecast_points(f)[0] - p0) < 1e-6 * p0);
    fc_forecast_free(f);

    /* A promotion selling 5x the plan by noon: today and the carried day
     * move up, today's lower bound is at least what has sold. */
    f = run(&s, &cfg);
    for (int i = 0; i < 12; i++)
        sales[i] = 5 * p0 / 24;
    assert_int_equal(fc_forecast_intraday(f, profile, 24, sales, 12, 1, &ratio, NULL), SL_OK);
    assert_true(ratio > 3);
    const double *pt = fc_forecast_points(f);
    assert_true(pt[0] > 2.5 * p0 + 2.5 * p0 * 0.6);
    assert_true(fabs(pt[1] - ratio * p1) < 1e-9 * pt[1]);
    assert_true(fc_forecast_lower(f, 1)[0] >= 2.5 * p0 - 1e-9);
    assert_true(fc_forecast_upper(f, 1)[0] > pt[0]);
    check_sane(f, 1);
    sl_err err;
    assert_int_equal(fc_forecast_intraday(f, profile, 24, sales, 25, 0, NULL, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(fc_forecast_intraday(f, profile, 24, sales, 3, 14, NULL, &err),
                     SL_INVALID_ARGUMENT);
    fc_forecast_free(f);
}

static void test_sum_over_steps(void **state)
{
    (void)state;
    double y[100];
    weekly(y, 100, 30, 6, 8);
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.method = FC_METHOD_NAIVE;
    cfg.horizon = 10;
    fc_series s = {y, 100, NULL, NULL};
    fc_forecast *f = run(&s, &cfg);
    double pt, lo, hi;
    assert_int_equal(fc_forecast_sum(f, 0, 5, 95, &pt, &lo, &hi, NULL), SL_OK);
    assert_true(fabs(pt - 5 * y[99]) < 1e-9);
    /* naive: the error of the 5-day total is sum_k (6 - k) eps_k, variance
     * sigma^2 (1 + 4 + 9 + 16 + 25) */
    fc_info in;
    fc_forecast_info(f, &in);
    double sd = in.sigma * sqrt(55.0);
    assert_true(fabs((hi - pt) - 1.959963984540054 * sd) < 1e-6 * sd);
    /* one step summed is that step's interval */
    assert_int_equal(fc_forecast_sum(f, 3, 4, 80, &pt, &lo, &hi, NULL), SL_OK);
    assert_true(fabs(hi - fc_forecast_upper(f, 0)[3]) < 1e-9);
    sl_err err;
    assert_int_equal(fc_forecast_sum(f, 4, 4, 80, &pt, &lo, &hi, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_forecast_sum(f, 0, 11, 80, &pt, &lo, &hi, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_forecast_sum(f, 0, 2, 100, &pt, &lo, &hi, &err), SL_INVALID_ARGUMENT);
    fc_forecast_free(f);

    /* simulated paths (TSB): the total's band lies inside the sum of the
     * daily bands and holds its point */
    double z[120];
    for (int t = 0; t < 120; t++)
        z[t] = t % 3 == 0 ? 2 + t % 2 : 0;
    cfg.method = FC_METHOD_TSB;
    fc_series zs = {z, 120, NULL, NULL};
    f = run(&zs, &cfg);
    fc_forecast_info(f, &in);
    assert_true(in.simulated);
    assert_int_equal(fc_forecast_sum(f, 0, 10, 95, &pt, &lo, &hi, NULL), SL_OK);
    double shi = 0;
    for (int j = 0; j < 10; j++)
        shi += fc_forecast_upper(f, 1)[j];
    assert_true(lo <= pt && pt <= hi && hi <= shi && lo >= 0);
    fc_forecast_free(f);
}

static void test_long_season(void **state)
{
    (void)state;
    /* two years of days with a strong yearly swing and a weekly pattern */
    double y[730];
    weekly(y, 730, 50, 4, 2);
    for (int t = 0; t < 730; t++)
        y[t] *= 1 + 0.5 * sin(2 * M_PI * t / 365.25);
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 7;
    cfg.long_period = 365.25;
    cfg.horizon = 60;
    fc_series s = {y, 730, NULL, NULL};
    fc_forecast *f = run(&s, &cfg);
    check_sane(f, 1);
    fc_info in;
    fc_forecast_info(f, &in);
    assert_int_equal(in.long_season, 1);
    /* the swing carries on: 60 days on, the yearly factor has moved from
     * 1 + 0.5 sin(2 pi 730 / 365.25) to ... sin(2 pi 789 / 365.25) */
    double w0 = 0, w1 = 0;
    for (int j = 0; j < 7; j++) {
        w0 += fc_forecast_points(f)[j];
        w1 += fc_forecast_points(f)[53 + j];
    }
    double f0 = 1 + 0.5 * sin(2 * M_PI * 733 / 365.25), f1 = 1 + 0.5 * sin(2 * M_PI * 786 / 365.25);
    assert_true(fabs(w1 / w0 - f1 / f0) < 0.1);
    fc_forecast_free(f);
    /* noise alone: no yearly profile */
    weekly(y, 730, 50, 4, 2);
    f = run(&s, &cfg);
    fc_forecast_info(f, &in);
    assert_int_equal(in.long_season, 0);
    fc_forecast_free(f);
}

static void test_validation(void **state)
{
    (void)state;
    double y[] = {1, 2, 3};
    fc_config cfg;
    fc_series s = {y, 3, NULL, NULL};
    fc_forecast *f = NULL;
    sl_err err;
    fc_config_init(&cfg);
    cfg.horizon = 0;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "horizon"));
    fc_config_init(&cfg);
    cfg.period = -3;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "period"));
    fc_config_init(&cfg);
    cfg.levels[1] = 100;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "level 100"));
    fc_config_init(&cfg);
    fc_series empty = {y, 0, NULL, NULL};
    assert_int_equal(fc_forecast_run(&empty, &cfg, &f, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "empty"));
    double inf[] = {1, INFINITY};
    fc_series bad = {inf, 2, NULL, NULL};
    assert_int_equal(fc_forecast_run(&bad, &cfg, &f, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "value 2"));
    fc_quota q = {1, -5};
    cfg.quotas = &q;
    cfg.n_quotas = 1;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "quota"));
    assert_null(f);

    fc_method m;
    assert_int_equal(fc_method_parse("tsb", &m, &err), SL_OK);
    assert_int_equal(m, FC_METHOD_TSB);
    assert_string_equal(fc_method_name(FC_METHOD_DAMPED), "damped");
    assert_int_equal(fc_method_parse("arima", &m, &err), SL_OK);
    assert_int_equal(m, FC_METHOD_ARIMA);
    assert_int_equal(fc_method_parse("sarima", &m, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "\"sarima\""));
    assert_non_null(strstr(err.msg, "arima"));
}

static void test_error_measures(void **state)
{
    (void)state;
    double ins[] = {1, 3, 2, 5, 4}; /* lag-1 differences 2 1 3 1: scale 7/4 */
    double act[] = {4, 6, NAN}, fc[] = {5, 3, 1}, v;
    assert_int_equal(fc_mase(act, fc, 3, ins, 5, 1, &v, NULL), SL_OK);
    assert_true(fabs(v - (4.0 / 2) / (7.0 / 4)) < 1e-12);
    /* period 2 needs n > 2: differences 1 2 2 -> 5/3 */
    assert_int_equal(fc_mase(act, fc, 3, ins, 5, 2, &v, NULL), SL_OK);
    assert_true(fabs(v - 2.0 / (5.0 / 3)) < 1e-12);
    assert_int_equal(fc_smape(act, fc, 3, &v, NULL), SL_OK);
    assert_true(fabs(v - (200.0 / 9 + 200.0 * 3 / 9) / 2) < 1e-12);
    double zero[] = {0, 0}, z2[] = {0, 0};
    assert_int_equal(fc_smape(zero, z2, 2, &v, NULL), SL_OK);
    assert_true(v == 0);
    double flat[] = {2, 2, 2};
    sl_err err;
    assert_int_equal(fc_mase(act, fc, 3, flat, 3, 1, &v, &err), SL_FAILED_PRECONDITION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_zero),
        cmocka_unit_test(test_constant),
        cmocka_unit_test(test_single_nonzero),
        cmocka_unit_test(test_very_short),
        cmocka_unit_test(test_missing_days),
        cmocka_unit_test(test_intervals_widen_and_nest),
        cmocka_unit_test(test_auto_picks_seasonal_and_backtests),
        cmocka_unit_test(test_stockout_censoring),
        cmocka_unit_test(test_event_uplift_and_quota),
        cmocka_unit_test(test_intraday_refresh),
        cmocka_unit_test(test_sum_over_steps),
        cmocka_unit_test(test_long_season),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_error_measures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
