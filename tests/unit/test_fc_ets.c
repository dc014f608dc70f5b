/* fc_ets: exponential smoothing against hand-computed recursions, closed
 * forms (SES with alpha = 1 is the naive method, Holt follows a straight
 * line, the damped trend's phi sums, class-1 variances) and R's
 * forecast::ets on AirPassengers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fc_engine.h"
#include "fc_ets.h"

static const double air[144] = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149,
    170, 170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243,
    264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374,
    413, 405, 355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472,
    548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432};

static fc__model form(fc__comp e, fc__comp t, fc__comp s, int m)
{
    fc__model md;
    memset(&md, 0, sizeof md);
    md.kind = FC__K_ETS;
    md.method = FC_METHOD_ETS;
    md.error = e;
    md.trend = t;
    md.season = s;
    md.m = m;
    md.phi = 1;
    return md;
}

static void pred_alloc(fc__pred *p, size_t h, double *buf)
{
    memset(p, 0, sizeof *p);
    p->h = h;
    p->mean = buf;
    p->psi = buf + h;
    p->scale = buf + 2 * h;
}

static void test_ses_by_hand(void **state)
{
    (void)state;
    fc__model md = form(FC__C_ADD, FC__C_NONE, FC__C_NONE, 1);
    md.alpha = 0.5;
    md.l0 = 10;
    md.sigma2 = 4;
    double y[] = {12, 8, 11}, fitted[3], buf[9];
    fc__data d = {y, NULL, 3, 1};
    fc__ets_fitted(&md, &d, fitted);
    assert_true(fitted[0] == 10 && fitted[1] == 11 && fitted[2] == 9.5);
    fc__pred p;
    pred_alloc(&p, 3, buf);
    fc__ets_predict(&md, &d, NULL, &p);
    for (size_t j = 0; j < 3; j++) {
        assert_true(fabs(p.mean[j] - 10.25) < 1e-12);
        /* SES: sigma^2 (1 + (h - 1) alpha^2) */
        assert_true(fabs(fc__pred_sd(&p, j) - 2 * sqrt(1 + j * 0.25)) < 1e-12);
    }
    assert_false(p.simulated);
}

static void test_ses_alpha_one_is_naive(void **state)
{
    (void)state;
    fc__model md = form(FC__C_ADD, FC__C_NONE, FC__C_NONE, 1);
    md.alpha = 1;
    md.l0 = 123; /* forgotten after the first step */
    double y[] = {5, 9, NAN, 4, 7}, out[4];
    fc__data d = {y, NULL, 5, 1};
    size_t origins[] = {2, 5};
    fc__ets_points(&md, &d, origins, 2, 2, out);
    assert_true(out[0] == 9 && out[1] == 9 && out[2] == 7 && out[3] == 7);

    /* Through the API, against forecast::ses on the same series (a walk
     * whose steps are slightly anti-correlated): alpha 0.876, forecast
     * 85.7039. */
    double rw[200];
    double v = 100;
    unsigned s = 7;
    for (int t = 0; t < 200; t++) {
        s = s * 1103515245u + 12345u;
        v += ((double)((s >> 16) % 2001) - 1000.0) / 100.0;
        rw[t] = v;
    }
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.method = FC_METHOD_SES;
    cfg.horizon = 5;
    fc_series ser = {rw, 200, NULL, NULL};
    fc_forecast *f;
    assert_int_equal(fc_forecast_run(&ser, &cfg, &f, NULL), SL_OK);
    fc_info in;
    fc_forecast_info(f, &in);
    assert_true(fabs(in.alpha - 0.876) < 0.01);
    assert_true(fabs(fc_forecast_points(f)[4] - 85.703861) < 0.05);
    fc_forecast_free(f);
}

static void test_holt_on_a_line(void **state)
{
    (void)state;
    double y[30];
    for (int t = 0; t < 30; t++)
        y[t] = 3 + 2 * t;
    fc_config cfg;
    fc_config_init(&cfg);
    cfg.method = FC_METHOD_HOLT;
    cfg.horizon = 6;
    fc_series ser = {y, 30, NULL, NULL};
    fc_forecast *f;
    sl_err err;
    assert_int_equal(fc_forecast_run(&ser, &cfg, &f, &err), SL_OK);
    const double *pt = fc_forecast_points(f);
    for (int h = 1; h <= 6; h++)
        assert_true(fabs(pt[h - 1] - (3 + 2 * (29 + h))) < 1e-3);
    fc_info in;
    fc_forecast_info(f, &in);
    assert_int_equal(in.method, FC_METHOD_HOLT);
    assert_string_equal(in.model, "ETS(A,A,N)");
    fc_forecast_free(f);
}

static void test_damped_trend_weights(void **state)
{
    (void)state;
    fc__model md = form(FC__C_ADD, FC__C_DAMPED, FC__C_NONE, 1);
    md.l0 = 10;
    md.b0 = 2;
    md.phi = 0.9;
    fc__data d = {NULL, NULL, 0, 1};
    size_t origin = 0;
    double out[3];
    fc__ets_points(&md, &d, &origin, 1, 3, out);
    assert_true(fabs(out[0] - 11.8) < 1e-12);
    assert_true(fabs(out[1] - 13.42) < 1e-12);
    assert_true(fabs(out[2] - 14.878) < 1e-12);
}

static void test_additive_season_by_hand(void **state)
{
    (void)state;
    fc__model md = form(FC__C_ADD, FC__C_NONE, FC__C_ADD, 2);
    md.alpha = 0.5;
    md.gamma = 0.2;
    md.l0 = 10;
    md.s0[0] = -1;
    md.s0[1] = 1;
    double y[] = {9.5, 12}, fitted[2];
    fc__data d = {y, NULL, 2, 2};
    fc__ets_fitted(&md, &d, fitted);
    assert_true(fabs(fitted[0] - 9) < 1e-12 && fabs(fitted[1] - 11.25) < 1e-12);
    size_t origin = 2;
    double out[2];
    fc__ets_points(&md, &d, &origin, 1, 2, out);
    /* l = 10.625, s = (-0.9, 1.15) after the two updates */
    assert_true(fabs(out[0] - 9.725) < 1e-12);
    assert_true(fabs(out[1] - 11.775) < 1e-12);
}

static void test_missing_and_censored_days(void **state)
{
    (void)state;
    fc__model md = form(FC__C_ADD, FC__C_NONE, FC__C_NONE, 1);
    md.alpha = 0.5;
    md.l0 = 10;
    /* a missing day leaves the level on its prediction; a censored day
     * below the prediction too, one above it counts */
    double y[] = {NAN, 4, 20};
    uint8_t cens[] = {0, 1, 1};
    fc__data d = {y, cens, 3, 1};
    size_t origin = 3;
    double out[1];
    fc__ets_points(&md, &d, &origin, 1, 1, out);
    assert_true(fabs(out[0] - 15) < 1e-12);
}

static void test_class1_variance(void **state)
{
    (void)state;
    fc__model md = form(FC__C_ADD, FC__C_DAMPED, FC__C_ADD, 4);
    md.alpha = 0.3;
    md.beta = 0.1;
    md.gamma = 0.2;
    md.phi = 0.9;
    md.l0 = 50;
    md.b0 = 1;
    md.sigma2 = 9;
    double y[8] = {48, 55, 60, 47, 50, 58, 61, 49}, buf[30];
    fc__data d = {y, NULL, 8, 4};
    fc__pred p;
    pred_alloc(&p, 10, buf);
    fc__ets_predict(&md, &d, NULL, &p);
    for (size_t h = 1; h <= 10; h++) {
        /* Hyndman et al. (2008) table 6.1: sigma^2 (1 + sum c_j^2) with
         * c_j = alpha + beta (phi + .. + phi^j) + gamma [j mod m = 0] */
        double v = 1;
        for (size_t j = 1; j < h; j++) {
            double ph = 0;
            for (size_t i = 1; i <= j; i++)
                ph += pow(0.9, (double)i);
            double c = 0.3 + 0.1 * ph + (j % 4 == 0 ? 0.2 : 0);
            v += c * c;
        }
        assert_true(fabs(fc__pred_sd(&p, h - 1) - 3 * sqrt(v)) < 1e-10);
        if (h > 1)
            assert_true(fc__pred_sd(&p, h - 1) > fc__pred_sd(&p, h - 2));
    }
}

/* R's forecast::ets(ts(AirPassengers[1:132], frequency = 12), model =
 * "MAM", damped = FALSE) and model = "AAA", damped = TRUE: parameters and
 * initial states (alpha, beta, gamma, [phi,] l, b, s0 .. s10), fitted
 * values at t = 1, 2, 13, 60, 132 and forecasts 1 to 3 steps ahead. */
static const double r_mam_par[] = {
    0.44146082999821928, 0.00038899009909349489, 0.46959055281720252, 120.06949416894987,
    2.0158921521348709,  0.89536230210589296,    0.77420638764255612, 0.89270827841725453,
    1.0471205980854696,  1.1583276593282286,     1.1665767987603597,  1.082811641622373,
    0.97163122708025429, 1.0498580145195013,     1.1006870076611739,  0.94663508410606467};
static const double r_mam_fitted[] = {111.5951996, 117.6638563, 124.977316, 207.1872447,
                                      392.2141814};
static const double r_mam_fc[] = {418.7052495, 396.8716659, 466.174887};
static const double r_mam_loglik = -611.7865198;
static const double r_aada_par[] = {
    0.99949764639265359, 0.0020031743064868146, 0.00038080347951972865, 0.97985953238122858,
    120.49603172718852,  1.8583327503835778,    -27.810326117876933,    -51.676383775858071,
    -19.209888291154648, 15.545072191592698,    59.363419413476798,     58.703249065898575,
    32.573437402680383,  -5.9635192905483869,   -8.0061467717569439,    3.1488489425840811,
    -32.722409936853424};
static const double r_aada_fitted[] = {98.37158395, 105.027078, 123.3162826, 204.4542018,
                                       386.1456405};
static const double r_aada_fc[] = {409.1709058, 400.695526, 436.847428};

/* R keeps the seasonal states newest first (s0 is the state of the last
 * period before the data); ours are indexed by t mod m from the first
 * observation, so ours[j] = R's s_{m-1-j}, the last being m (or 0) minus
 * the sum of the others. */
static void r_seasons(fc__model *md, const double *rs, int mul)
{
    double sum = 0;
    for (int k = 0; k < 11; k++)
        sum += rs[k];
    for (int j = 0; j < 12; j++) {
        int k = 11 - j;
        md->s0[j] = k < 11 ? rs[k] : (mul ? 12.0 - sum : -sum);
    }
}

static void check_against_r(const fc__model *md, const double *fitted_r, const double *fc_r)
{
    static const size_t at[] = {0, 1, 12, 59, 131};
    double fitted[132], out[3];
    fc__data d = {air, NULL, 132, 12};
    fc__ets_fitted(md, &d, fitted);
    for (size_t i = 0; i < 5; i++)
        assert_true(fabs(fitted[at[i]] - fitted_r[i]) < 1e-6 * fitted_r[i]);
    size_t origin = 132;
    fc__ets_points(md, &d, &origin, 1, 3, out);
    for (size_t j = 0; j < 3; j++)
        assert_true(fabs(out[j] - fc_r[j]) < 1e-6 * fc_r[j]);
}

static void test_filter_matches_r(void **state)
{
    (void)state;
    fc__model md = form(FC__C_MUL, FC__C_ADD, FC__C_MUL, 12);
    md.alpha = r_mam_par[0];
    md.beta = r_mam_par[1];
    md.gamma = r_mam_par[2];
    md.l0 = r_mam_par[3];
    md.b0 = r_mam_par[4];
    r_seasons(&md, r_mam_par + 5, 1);
    check_against_r(&md, r_mam_fitted, r_mam_fc);

    md = form(FC__C_ADD, FC__C_DAMPED, FC__C_ADD, 12);
    md.alpha = r_aada_par[0];
    md.beta = r_aada_par[1];
    md.gamma = r_aada_par[2];
    md.phi = r_aada_par[3];
    md.l0 = r_aada_par[4];
    md.b0 = r_aada_par[5];
    r_seasons(&md, r_aada_par + 6, 0);
    check_against_r(&md, r_aada_fitted, r_aada_fc);
}

static void test_likelihood_at_least_rs(void **state)
{
    (void)state;
    /* Maximum likelihood: our optimum of ETS(M,A,M) must be no worse than
     * the one forecast::ets reports (-2 log L = -2 * loglik; both drop the
     * same constant). */
    fc__rng rng;
    fc__rng_seed(&rng, 1);
    fc__opts o = {2, 40, 1e-5, &rng};
    fc__data d = {air, NULL, 132, 12};
    fc__model md;
    assert_int_equal(fc__ets_fit(&d, FC__C_MUL, FC__C_ADD, FC__C_MUL, &o, NULL, &md), 0);
    assert_true(md.lik <= -2 * r_mam_loglik + 0.01);
    assert_true(md.alpha >= 1e-4 && md.beta <= md.alpha && md.gamma <= 1 - md.alpha);
    /* forecast::ets's automatic choice here has a multiplicative season */
    assert_int_equal(fc__ets_auto(&d, &o, 1, &md), 0);
    assert_int_equal(md.season, FC__C_MUL);
    assert_true(isfinite(md.aicc));
}

static void test_multiplicative_needs_positive_data(void **state)
{
    (void)state;
    double y[40];
    for (int t = 0; t < 40; t++)
        y[t] = t % 5 == 0 ? 0 : 10 + t % 3;
    fc__rng rng;
    fc__rng_seed(&rng, 1);
    fc__opts o = {2, 40, 1e-5, &rng};
    fc__data d = {y, NULL, 40, 4};
    fc__model md;
    assert_int_equal(fc__ets_fit(&d, FC__C_MUL, FC__C_NONE, FC__C_NONE, &o, NULL, &md), -1);
    assert_int_equal(fc__ets_fit(&d, FC__C_ADD, FC__C_NONE, FC__C_MUL, &o, NULL, &md), -1);
    assert_int_equal(fc__ets_auto(&d, &o, 1, &md), 0);
    assert_int_equal(md.error, FC__C_ADD);
    /* too few observations for the seasonal forms' parameters */
    fc__data shortd = {y, NULL, 9, 4};
    assert_int_equal(fc__ets_fit(&shortd, FC__C_ADD, FC__C_ADD, FC__C_ADD, &o, NULL, &md), -1);
}

static void test_simulated_intervals_widen(void **state)
{
    (void)state;
    fc__rng rng;
    fc__rng_seed(&rng, 3);
    fc__opts o = {2, 40, 1e-5, &rng};
    fc__data d = {air, NULL, 144, 12};
    fc__model md;
    assert_int_equal(fc__ets_fit(&d, FC__C_MUL, FC__C_NONE, FC__C_MUL, &o, NULL, &md), 0);
    enum { H = 24, P = 2000 };
    static double paths[P * H];
    double buf[3 * H];
    fc__pred p;
    pred_alloc(&p, H, buf);
    p.paths = paths;
    p.n_paths = P;
    fc__ets_predict(&md, &d, &o, &p);
    assert_true(p.simulated);
    /* relative spread (sd / mean) of the paths grows with the horizon */
    double prev = 0;
    for (int j = 0; j < H; j += 6) {
        double s = 0, ss = 0;
        for (int i = 0; i < P; i++) {
            s += paths[i * H + j];
            ss += paths[i * H + j] * paths[i * H + j];
        }
        double mean = s / P, sd = sqrt(ss / P - mean * mean);
        assert_true(fabs(mean - p.mean[j]) / p.mean[j] < 0.02);
        assert_true(sd / mean > prev);
        prev = sd / mean;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ses_by_hand),
        cmocka_unit_test(test_ses_alpha_one_is_naive),
        cmocka_unit_test(test_holt_on_a_line),
        cmocka_unit_test(test_damped_trend_weights),
        cmocka_unit_test(test_additive_season_by_hand),
        cmocka_unit_test(test_missing_and_censored_days),
        cmocka_unit_test(test_class1_variance),
        cmocka_unit_test(test_filter_matches_r),
        cmocka_unit_test(test_likelihood_at_least_rs),
        cmocka_unit_test(test_multiplicative_needs_positive_data),
        cmocka_unit_test(test_simulated_intervals_widen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
