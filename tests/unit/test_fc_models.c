/* fc_theta, fc_croston and fc_simple: the Theta method against
 * forecast::thetaf, Croston against forecast::croston and a hand
 * computation, TSB by hand, and the benchmark methods' closed forms. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fc_croston.h"
#include "fc_simple.h"
#include "fc_theta.h"

static const double nile90[90] = {
    1120, 1160, 963, 1210, 1160, 1160, 813,  1230, 1370, 1140, 995,  935,  1110, 994,  1020,
    960,  1180, 799, 958,  1140, 1100, 1210, 1150, 1250, 1260, 1220, 1030, 1100, 774,  840,
    874,  694,  940, 833,  701,  916,  692,  1020, 1050, 969,  831,  726,  456,  824,  702,
    1120, 1100, 832, 764,  821,  768,  845,  864,  862,  698,  845,  744,  796,  1040, 759,
    781,  865,  845, 944,  984,  897,  822,  1010, 771,  676,  649,  846,  812,  742,  801,
    1040, 860,  874, 848,  890,  744,  749,  838,  1050, 918,  986,  797,  923,  975,  815};

static const double air132[132] = {
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170,
    170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180,
    193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237,
    211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229, 242, 233, 267, 269,
    270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271,
    306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318, 362, 348, 363, 435,
    491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405};

static fc__opts opts(fc__rng *rng)
{
    fc__rng_seed(rng, 1);
    fc__opts o = {2, 40, 1e-5, rng};
    return o;
}

static void test_theta_against_thetaf(void **state)
{
    (void)state;
    /* forecast::thetaf(Nile[1:90], h = 10)$mean: no seasonality */
    static const double r_nile[] = {881.1592, 879.5051, 877.8510, 876.1969, 874.5429,
                                    872.8888, 871.2347, 869.5806, 867.9266, 866.2725};
    /* forecast::thetaf(ts(AirPassengers[1:132], frequency = 12), h = 12)$mean:
     * multiplicative classical decomposition */
    static const double r_air[] = {411.3257, 402.2312, 462.8330, 444.6272, 447.8844, 509.5407,
                                   561.7794, 559.3987, 490.3769, 427.2362, 371.9182, 418.9618};
    fc__rng rng;
    fc__opts o = opts(&rng);
    double work[132], out[12];
    fc__model md;
    fc__data d = {nile90, NULL, 90, 1};
    assert_int_equal(fc__theta_fit(&d, &o, work, &md), 0);
    assert_int_equal(md.idx_mul, -1);
    size_t origin = 90;
    fc__theta_points(&md, &d, &origin, 1, 10, work, out);
    for (int j = 0; j < 10; j++)
        assert_true(fabs(out[j] - r_nile[j]) < 0.003 * r_nile[j]);
    /* the drift: consecutive steps differ by half the regression slope */
    assert_true(fabs((out[9] - out[0]) / 9 - (r_nile[9] - r_nile[0]) / 9) < 1e-3);

    fc__data a = {air132, NULL, 132, 12};
    assert_int_equal(fc__theta_fit(&a, &o, work, &md), 0);
    assert_int_equal(md.idx_mul, 1);
    origin = 132;
    fc__theta_points(&md, &a, &origin, 1, 12, work, out);
    for (int j = 0; j < 12; j++)
        assert_true(fabs(out[j] - r_air[j]) < 0.01 * r_air[j]);
}

static void test_croston(void **state)
{
    (void)state;
    /* Demands 5, 3, 4 at days 3, 7, 9: z = 5 -> 4.8 -> 4.72, x = 3 -> 3.1 ->
     * 2.99, forecast 4.72 / 2.99 = 1.578595 (= forecast::croston(y,
     * alpha = 0.1)) */
    double y[] = {0, 0, 5, 0, 0, 0, 3, 0, 4, 0};
    fc__data d = {y, NULL, 10, 1};
    fc__model md;
    assert_int_equal(fc__croston_fit(FC__K_CROSTON, &d, 0.1, -1, &md), 0);
    size_t origin = 10;
    double out[3];
    fc__croston_points(&md, &d, &origin, 1, 3, out);
    for (int j = 0; j < 3; j++)
        assert_true(fabs(out[j] - 4.72 / 2.99) < 1e-12 && fabs(out[j] - 1.578595) < 1e-6);
    /* missing days are skipped: the same demands with gaps give the same */
    double g[] = {0, NAN, 0, 5, 0, 0, 0, NAN, 3, 0, 4, 0};
    fc__data dg = {g, NULL, 12, 1};
    assert_int_equal(fc__croston_fit(FC__K_CROSTON, &dg, 0.1, -1, &md), 0);
    origin = 12;
    fc__croston_points(&md, &dg, &origin, 1, 1, out);
    assert_true(fabs(out[0] - 4.72 / 2.99) < 1e-12);
    double zeros[] = {0, 0, 0};
    fc__data dz = {zeros, NULL, 3, 1};
    assert_int_equal(fc__croston_fit(FC__K_CROSTON, &dz, 0.1, -1, &md), -1);
}

static void test_tsb_by_hand(void **state)
{
    (void)state;
    /* p0 = 2/5, z0 = 2.5; alpha 0.1, beta 0.2:
     * p: .32 .456 .3648 .29184 .433472, z: 2.55 after day 2, 2.495 after
     * day 5; forecast .433472 * 2.495 */
    double y[] = {0, 3, 0, 0, 2};
    fc__data d = {y, NULL, 5, 1};
    fc__model md;
    assert_int_equal(fc__croston_fit(FC__K_TSB, &d, 0.1, 0.2, &md), 0);
    size_t origin = 5;
    double out[1];
    fc__croston_points(&md, &d, &origin, 1, 1, out);
    assert_true(fabs(out[0] - 0.433472 * 2.495) < 1e-12);
}

static void test_tsb_decays_croston_does_not(void **state)
{
    (void)state;
    /* An item that sold every other day and then stopped for 60 days:
     * Croston's forecast stays where the last demand left it, TSB's fades. */
    double y[160];
    for (int t = 0; t < 160; t++)
        y[t] = t < 100 && t % 2 == 0 ? 4 : 0;
    fc__data d = {y, NULL, 160, 1};
    fc__model cr, tsb;
    assert_int_equal(fc__croston_fit(FC__K_CROSTON, &d, 0.1, -1, &cr), 0);
    assert_int_equal(fc__croston_fit(FC__K_TSB, &d, 0.1, 0.1, &tsb), 0);
    size_t origin = 160;
    double fc_cr, fc_tsb;
    fc__croston_points(&cr, &d, &origin, 1, 1, &fc_cr);
    fc__croston_points(&tsb, &d, &origin, 1, 1, &fc_tsb);
    assert_true(fabs(fc_cr - 2.0) < 0.05);
    assert_true(fc_tsb < 0.01);
}

static void test_intermittent_paths(void **state)
{
    (void)state;
    double y[120];
    for (int t = 0; t < 120; t++)
        y[t] = t % 4 == 0 ? 1 + t % 3 : 0;
    fc__data d = {y, NULL, 120, 1};
    fc__model md;
    assert_int_equal(fc__croston_fit(FC__K_TSB, &d, -1, -1, &md), 0);
    enum { H = 10, P = 4000 };
    static double paths[P * H];
    double buf[3 * H], work[120];
    fc__rng rng;
    fc__opts o = opts(&rng);
    fc__pred p = {H, buf, buf + H, buf + 2 * H, 0, paths, P, 0};
    fc__croston_predict(&md, &d, &o, work, &p);
    assert_true(p.simulated);
    for (int j = 0; j < H; j++) {
        double s = 0;
        int zeros = 0;
        for (int i = 0; i < P; i++) {
            s += paths[i * H + j];
            zeros += paths[i * H + j] == 0;
            assert_true(paths[i * H + j] >= 0);
        }
        /* the paths' mean is the point forecast; a day without demand is
         * about as likely as in the history (3 in 4) */
        assert_true(fabs(s / P - p.mean[j]) < 0.1 * p.mean[j]);
        assert_true(fabs((double)zeros / P - 0.75) < 0.06);
    }
}

static void test_simple_methods(void **state)
{
    (void)state;
    double y[] = {10, 20, 30, 14, 22, NAN, 18, 25, 29};
    fc__data d = {y, NULL, 9, 3};
    fc__model md;
    double buf[3 * 7];
    fc__pred p = {7, buf, buf + 7, buf + 14, 0, NULL, 0, 0};

    assert_int_equal(fc__simple_fit(FC__K_SNAIVE, &d, &md), 0);
    fc__simple_predict(&md, &d, &p);
    /* last season 18 25 29, repeated; sigma^2 from the observed lag-3
     * differences (4, 2, 4, 3): 45 / 4 */
    static const double want[] = {18, 25, 29, 18, 25, 29, 18};
    for (int j = 0; j < 7; j++) {
        assert_true(p.mean[j] == want[j]);
        double sd = sqrt(45.0 / 4) * sqrt(floor(j / 3.0) + 1);
        assert_true(fabs(fc__pred_sd(&p, (size_t)j) - sd) < 1e-12);
    }

    assert_int_equal(fc__simple_fit(FC__K_NAIVE, &d, &md), 0);
    fc__simple_predict(&md, &d, &p);
    for (int j = 0; j < 7; j++) {
        assert_true(p.mean[j] == 29);
        assert_true(fabs(fc__pred_sd(&p, (size_t)j) - sqrt(md.sigma2 * (j + 1))) < 1e-12);
    }

    assert_int_equal(fc__simple_fit(FC__K_MEAN, &d, &md), 0);
    fc__simple_predict(&md, &d, &p);
    assert_true(fabs(p.mean[0] - 168.0 / 8) < 1e-12);
    assert_true(fabs(fc__pred_sd(&p, 3) - fc__pred_sd(&p, 0)) < 1e-12);

    /* seasonal naive looks further back past a missing day */
    double z[] = {1, 2, 3, 4, NAN, 6};
    fc__data dz = {z, NULL, 6, 3};
    assert_int_equal(fc__simple_fit(FC__K_SNAIVE, &dz, &md), 0);
    size_t origin = 6;
    double out[3];
    fc__simple_points(&md, &dz, &origin, 1, 3, out);
    assert_true(out[0] == 4 && out[1] == 2 && out[2] == 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_theta_against_thetaf),
        cmocka_unit_test(test_croston),
        cmocka_unit_test(test_tsb_by_hand),
        cmocka_unit_test(test_tsb_decays_croston_does_not),
        cmocka_unit_test(test_intermittent_paths),
        cmocka_unit_test(test_simple_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
