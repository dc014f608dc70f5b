/* The auto method's combination of ETS, ARIMA and Theta (fc_select.c):
 * the members' ranking from the backtest, the point as the median of the
 * members', the spread as the median of theirs, the interval scale, and
 * the public API's report of it (the members' median spread widened by
 * their disagreement), the auto method's use of a member that
 * clearly beat the median in the backtest, ETS's whole search finding R's
 * forms on short series, the interval scale's check of the backtest's
 * tail (fc__tail_scale).  The members themselves are checked
 * against R in test_fc_arima.c (ARIMA), test_fc_models.c (Theta) and
 * test_fc_ets.c (ETS). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fc_arima_ref.h"
#include "fc_engine.h"
#include "fc_ets.h"
#include "fc_select.h"

static fc__opts opts(fc__rng *rng)
{
    fc__rng_seed(rng, 1);
    fc__opts o = {2, 40, 1e-5, rng};
    return o;
}

static double med3(double a, double b, double c)
{
    return fmax(fmin(a, b), fmin(fmax(a, b), c));
}

/* AirPassengers' training part (126 months). */
static const fc_arima_ref *air(void)
{
    const fc_arima_ref *r = &fc_arima_refs[0];
    assert_string_equal(r->name, "AirPassengers");
    return r;
}

static void test_weights_follow_the_backtest(void **state)
{
    (void)state;
    const fc_arima_ref *r = air();
    fc__rng rng;
    fc__opts o = opts(&rng);
    fc__data d = {r->y, NULL, (size_t)r->n, 12};
    fc__judge jd = {NULL, 0, 1};
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 12;
    cfg.horizon = 18;
    double *work = malloc(fc__select_work(d.n, &cfg) * sizeof *work);
    assert_non_null(work);
    fc__choice ch;
    sl_err err;
    assert_int_equal(fc__choose(&d, &jd, &cfg, &o, work, &ch, &err), SL_OK);
    assert_int_equal(ch.n_comb, 3);
    assert_int_equal(ch.comb[0].kind, FC__K_ETS);
    assert_int_equal(ch.comb[1].kind, FC__K_ARIMA);
    assert_int_equal(ch.comb[2].kind, FC__K_THETA);
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        assert_true(ch.weight[i] >= 0);
        sum += ch.weight[i];
    }
    assert_true(fabs(sum - 1) < 1e-12);
    assert_true(ch.bt_origins > 0 && ch.bt_mase > 0);
    assert_true(ch.iscale >= 0.8 && ch.iscale <= 2.0);
    assert_non_null(strstr(ch.reason, "median of ETS, ARIMA and Theta"));
    free(work);
}

static void test_point_and_spread_are_medians(void **state)
{
    (void)state;
    const fc_arima_ref *r = air();
    fc__rng rng;
    fc__opts o = opts(&rng);
    /* additive data (no simulated member): the log of the series */
    double ly[126];
    for (int t = 0; t < 126; t++)
        ly[t] = log(r->y[t]);
    fc__data d = {ly, NULL, 126, 12};
    fc__judge jd = {NULL, 0, 1};
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 12;
    cfg.horizon = 12;
    double *work = malloc(fc__select_work(d.n, &cfg) * sizeof *work);
    assert_non_null(work);
    fc__choice ch;
    sl_err err;
    assert_int_equal(fc__choose(&d, &jd, &cfg, &o, work, &ch, &err), SL_OK);
    assert_int_equal(ch.n_comb, 3);
    enum { H = 12 };
    double mean[H], psi[H], scale[H];
    fc__pred p = {H, mean, psi, scale, 0, NULL, 0, 0};
    fc__choice_predict(&ch, &d, &o, work, &p);
    assert_int_equal(p.simulated, 0);
    double m_mean[3][H], m_sd[3][H];
    for (int i = 0; i < 3; i++) {
        double mm[H], ps[H], sc[H];
        fc__pred q = {H, mm, ps, sc, 0, NULL, 0, 0};
        fc__model_predict(&ch.comb[i], &d, &o, work, &q);
        assert_int_equal(q.simulated, 0);
        for (int j = 0; j < H; j++) {
            m_mean[i][j] = mm[j];
            m_sd[i][j] = fc__pred_sd(&q, (size_t)j);
        }
    }
    for (int j = 0; j < H; j++) {
        double pt = med3(m_mean[0][j], m_mean[1][j], m_mean[2][j]);
        double sd = med3(m_sd[0][j], m_sd[1][j], m_sd[2][j]);
        /* plus the members' disagreement around the point */
        double bv = 0;
        for (int i = 0; i < 3; i++)
            bv += (m_mean[i][j] - pt) * (m_mean[i][j] - pt) / 3;
        double tot = sqrt(sd * sd + bv);
        assert_true(fabs(mean[j] - pt) < 1e-9 * (fabs(pt) + 1));
        assert_true(fabs(fc__pred_sd(&p, (size_t)j) - ch.iscale * tot) < 1e-9 * (tot + 1));
        assert_true(bv >= 0 && tot >= sd);
    }
    free(work);
}

static void test_the_api_reports_the_combination(void **state)
{
    (void)state;
    const fc_arima_ref *r = air();
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 12;
    cfg.horizon = 18;
    fc_series s = {r->y, (size_t)r->n, NULL, NULL};
    fc_forecast *f = NULL;
    sl_err err;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_OK);
    fc_info in;
    fc_forecast_info(f, &in);
    assert_int_equal(in.method, FC_METHOD_COMBO);
    assert_string_equal(fc_method_name(in.method), "combo");
    assert_non_null(strstr(in.model, "Median of ETS("));
    assert_non_null(strstr(in.model, "ARIMA("));
    assert_non_null(strstr(in.model, "Theta"));
    assert_true(isnan(in.alpha) && isnan(in.aicc));
    /* multiplicative ETS: simulated paths ordered by ETS's */
    assert_int_equal(in.simulated, 1);
    for (size_t j = 0; j < 18; j++) {
        const double *pt = fc_forecast_points(f);
        assert_true(fc_forecast_lower(f, 1)[j] <= fc_forecast_lower(f, 0)[j]);
        assert_true(fc_forecast_lower(f, 0)[j] <= pt[j]);
        assert_true(pt[j] <= fc_forecast_upper(f, 0)[j]);
        assert_true(fc_forecast_upper(f, 0)[j] <= fc_forecast_upper(f, 1)[j]);
    }
    /* a sum over steps has a band too */
    double tot, lo, hi;
    assert_int_equal(fc_forecast_sum(f, 0, 12, 95, &tot, &lo, &hi, &err), SL_OK);
    assert_true(lo < tot && tot < hi);
    fc_forecast_free(f);

    /* the combination asked for on a series too short for a backtest */
    cfg.method = FC_METHOD_COMBO;
    fc_series s2 = {r->y, 30, NULL, NULL};
    assert_int_equal(fc_forecast_run(&s2, &cfg, &f, &err), SL_OK);
    fc_forecast_info(f, &in);
    assert_int_equal(in.method, FC_METHOD_COMBO);
    assert_non_null(strstr(in.reason, "too short for a backtest"));
    fc_forecast_free(f);
}

/* USAccDeaths' training part (54 months, one backtest origin): ETS's
 * backtest MASE 0.54 against the median's 0.76 (R's ets scores 0.59 on
 * the holdout, the median 0.76).  The auto method uses ETS alone, with
 * ETS's own forecast and its spread scaled by the backtest; asked for
 * the combination (method combo), the median stays. */
static void test_a_clearly_better_member_is_used_alone(void **state)
{
    (void)state;
    const fc_arima_ref *r = &fc_arima_refs[3];
    assert_string_equal(r->name, "USAccDeaths");
    fc__rng rng;
    fc__opts o = opts(&rng);
    fc__data d = {r->y, NULL, (size_t)r->n, 12};
    fc__judge jd = {NULL, 0, 1};
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.period = 12;
    cfg.horizon = 18;
    double *work = malloc(fc__select_work(d.n, &cfg) * sizeof *work);
    assert_non_null(work);
    fc__choice ch;
    sl_err err;
    assert_int_equal(fc__choose(&d, &jd, &cfg, &o, work, &ch, &err), SL_OK);
    assert_int_equal(ch.n_comb, 3);
    assert_int_equal(ch.pick, 0);
    assert_int_equal(ch.model.kind, FC__K_ETS);
    assert_non_null(strstr(ch.reason, "the best alone"));
    assert_true(ch.bt_mase > 0.5 && ch.bt_mase < 0.6);
    assert_true(ch.iscale >= 1.0 && ch.iscale <= 2.0);
    enum { H = 18 };
    double mean[H], psi[H], scale[H], mm[H], ps[H], sc[H];
    fc__pred p = {H, mean, psi, scale, 0, NULL, 0, 0};
    fc__choice_predict(&ch, &d, &o, work, &p);
    fc__pred q = {H, mm, ps, sc, 0, NULL, 0, 0};
    fc__model_predict(&ch.comb[0], &d, &o, work, &q);
    assert_int_equal(p.simulated, 0);
    for (size_t j = 0; j < H; j++) {
        assert_true(mean[j] == mm[j]);
        double sd = fc__pred_sd(&q, j);
        assert_true(fabs(fc__pred_sd(&p, j) - ch.iscale * sd) < 1e-9 * (sd + 1));
    }

    /* through the API: reported as the member, with its parameters */
    fc_series s = {r->y, (size_t)r->n, NULL, NULL};
    fc_forecast *f = NULL;
    assert_int_equal(fc_forecast_run(&s, &cfg, &f, &err), SL_OK);
    fc_info in;
    fc_forecast_info(f, &in);
    assert_int_equal(in.method, FC_METHOD_ETS);
    assert_non_null(strstr(in.model, "ETS(A,N,A) (backtest: better than the median"));
    assert_true(in.alpha > 0 && in.alpha < 1 && isfinite(in.aicc));
    fc_forecast_free(f);

    /* the combination asked for by name is the median */
    cfg.method = FC_METHOD_COMBO;
    assert_int_equal(fc__choose(&d, &jd, &cfg, &o, work, &ch, &err), SL_OK);
    assert_int_equal(ch.pick, -1);
    assert_null(strstr(ch.reason, "the best alone"));
    free(work);
}

/* ETS's own choice on the short series (at most 300 values) of the
 * benchmark, whose whole search is forecast::ets's: the form R's ets()
 * chooses on the same training parts (forecast 8.20) on 14 of the 18
 * the fixtures hold.  AirPassengers, austres, woolyrnq and freeny.y get
 * another trend, error or season than R's (not investigated further: our
 * likelihood and R's agree on AirPassengers, test_fc_ets.c). */
static void test_ets_search_finds_rs_forms_on_short_series(void **state)
{
    (void)state;
    static const struct {
        const char *name, *form;
    } rs[] = {
        {"AirPassengers", "ETS(M,Ad,M)"}, {"nottem", "ETS(A,N,A)"},
        {"USAccDeaths", "ETS(A,N,A)"},    {"ldeaths", "ETS(M,N,M)"},
        {"mdeaths", "ETS(M,N,M)"},        {"fdeaths", "ETS(M,N,M)"},
        {"UKDriverDeaths", "ETS(M,N,A)"}, {"Seatbelts.front", "ETS(A,N,A)"},
        {"Seatbelts.rear", "ETS(M,N,M)"}, {"wineind", "ETS(M,Ad,M)"},
        {"UKgas", "ETS(M,A,M)"},          {"JohnsonJohnson", "ETS(M,A,A)"},
        {"austres", "ETS(M,Ad,A)"},       {"woolyrnq", "ETS(M,N,A)"},
        {"freeny.y", "ETS(M,A,N)"},       {"USeconomic.GNP", "ETS(M,A,N)"},
        {"USeconomic.M1", "ETS(A,Ad,N)"}, {"UKconinc.consumption", "ETS(M,A,A)"},
    };
    size_t n_ref = sizeof fc_arima_refs / sizeof fc_arima_refs[0];
    int tried = 0, same = 0;
    for (size_t k = 0; k < sizeof rs / sizeof rs[0]; k++) {
        const fc_arima_ref *r = NULL;
        for (size_t i = 0; i < n_ref; i++)
            if (strcmp(fc_arima_refs[i].name, rs[k].name) == 0)
                r = &fc_arima_refs[i];
        assert_non_null(r);
        assert_true(r->n <= 300);
        fc__rng rng;
        fc__opts o = opts(&rng);
        fc__data d = {r->y, NULL, (size_t)r->n, r->m};
        fc__model md;
        assert_int_equal(fc__ets_auto(&d, &o, 1, &md), 0);
        char nm[64];
        fc__model_name(&md, nm, sizeof nm);
        tried++;
        if (strcmp(nm, rs[k].form) == 0)
            same++;
        else
            print_message("%s: R %s, ours %s\n", rs[k].name, rs[k].form, nm);
    }
    assert_int_equal(tried, 18);
    assert_true(same >= 14);
}

/* Standardised backtest errors: 18 small ones (0 to 1.7), two at x (the
 * 95% quantile of 21 values falls between them) and one far out at 3. */
static void tail_errors(double x, double *z)
{
    for (int i = 0; i < 18; i++)
        z[i] = 0.1 * i;
    z[18] = z[19] = x;
    z[20] = 3.0;
}

static void test_tail_scale_is_one_when_the_normal_band_holds_its_share(void **state)
{
    (void)state;
    double z[21];
    tail_errors(1.959964, z); /* the normal's 97.5% quantile */
    assert_true(fabs(fc__tail_scale(z, 21) - 1.0) < 1e-5);
}

static void test_tail_scale_widens_by_the_tails_ratio_shrunk_by_five_errors(void **state)
{
    (void)state;
    double z[21];
    /* the 95% quantile twice the normal's: ratio 2, shrunk as if 5 more
     * errors had fitted: sqrt((21 x 4 + 5) / 26) = 1.850156 */
    tail_errors(2 * 1.959964, z);
    assert_true(fabs(fc__tail_scale(z, 21) - 1.850156) < 1e-5);
    /* whatever their order: the errors are sorted */
    double r[21];
    tail_errors(2 * 1.959964, r);
    for (int i = 0; i < 21; i++)
        z[i] = r[(i * 8) % 21];
    assert_true(fabs(fc__tail_scale(z, 21) - 1.850156) < 1e-5);
}

static void test_tail_scale_needs_five_errors(void **state)
{
    (void)state;
    double z[4] = {9, 9, 9, 9};
    assert_true(fc__tail_scale(z, 4) == 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_follow_the_backtest),
        cmocka_unit_test(test_point_and_spread_are_medians),
        cmocka_unit_test(test_the_api_reports_the_combination),
        cmocka_unit_test(test_a_clearly_better_member_is_used_alone),
        cmocka_unit_test(test_ets_search_finds_rs_forms_on_short_series),
        cmocka_unit_test(test_tail_scale_is_one_when_the_normal_band_holds_its_share),
        cmocka_unit_test(test_tail_scale_widens_by_the_tails_ratio_shrunk_by_five_errors),
        cmocka_unit_test(test_tail_scale_needs_five_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
