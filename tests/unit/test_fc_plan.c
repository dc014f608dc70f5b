/* fc_plan and fc_valid: the replenishment arithmetic and the calendar
 * helpers of the forecasting service against hand-computed values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fc_plan.h"
#include "fc_valid.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) < (tol))

static void test_z(void **state)
{
    (void)state;
    /* R: qnorm(c(0.95, 0.975, 0.99, 0.5, 0.9999)) */
    NEAR(fc_plan_z(0.95), 1.6448536269514722, 1e-9);
    NEAR(fc_plan_z(0.975), 1.959963984540054, 1e-9);
    NEAR(fc_plan_z(0.99), 2.3263478740408408, 1e-9);
    NEAR(fc_plan_z(0.5), 0.0, 1e-12);
    NEAR(fc_plan_z(0.9999), 3.7190164854556804, 1e-8);
    assert_true(isnan(fc_plan_z(0.0)));
    assert_true(isnan(fc_plan_z(1.0)));
}

static void test_round(void **state)
{
    (void)state;
    assert_int_equal(fc_plan_round(0, 10, 6), 0);
    assert_int_equal(fc_plan_round(-3, 10, 6), 0);
    assert_int_equal(fc_plan_round(1.2, 0, 0), 2);
    assert_int_equal(fc_plan_round(7, 10, 0), 10);  /* raised to the MOQ */
    assert_int_equal(fc_plan_round(11, 10, 6), 12); /* then whole packs */
    assert_int_equal(fc_plan_round(7, 10, 6), 12);  /* MOQ 10 -> 2 packs of 6 */
    assert_int_equal(fc_plan_round(13, 0, 5), 15);
    assert_int_equal(fc_plan_round(15, 0, 5), 15);
    assert_int_equal(fc_plan_round(10.0000000001, 0, 0), 10); /* float noise */
    assert_int_equal(fc_plan_round(0.01, 0, 1), 1);
}

static void test_plan_continuous(void **state)
{
    (void)state;
    /* d 10/day, sd 3, L 4 days, no lead-time spread, 95%:
     * SS = 1.64485 * sqrt(4 * 9) = 9.8691; ROP = 40 + SS = 49.8691;
     * S = ROP (R = 0); position 20 + 10 = 30 <= ROP: order S - 30 = 19.87
     * -> 20, raised to MOQ 50 -> 50, packs of 12 -> 60. */
    fc_plan_in in = {.mean_demand = 10,
                     .demand_sd = 3,
                     .service_level = 0.95,
                     .lead_time = 4,
                     .moq = 50,
                     .pack = 12,
                     .available = 20,
                     .open_inbound = 10};
    fc_plan_out p;
    assert_int_equal(fc_plan_compute(&in, &p, NULL), SL_OK);
    NEAR(p.safety_stock, 9.869121762, 1e-6);
    NEAR(p.reorder_point, 49.869121762, 1e-6);
    NEAR(p.order_up_to, 49.869121762, 1e-6);
    assert_int_equal(p.position, 30);
    assert_int_equal(p.order_qty, 60);
    /* Without MOQ and pack: ceil(19.869) = 20. */
    in.moq = 0, in.pack = 0;
    assert_int_equal(fc_plan_compute(&in, &p, NULL), SL_OK);
    assert_int_equal(p.order_qty, 20);
    /* Above the reorder point: no order under continuous review. */
    in.available = 45;
    assert_int_equal(fc_plan_compute(&in, &p, NULL), SL_OK);
    assert_int_equal(p.order_qty, 0);
}

static void test_plan_lead_time_spread(void **state)
{
    (void)state;
    /* d 10, sd 0, L 4, sL 1: SS = z * sqrt(100 * 1) = 16.4485;
     * R 7: S = 10 * 11 + z * sqrt(0 + 100) = 126.4485; periodic review
     * always orders: 126.45 - 100 -> 27. */
    fc_plan_in in = {.mean_demand = 10,
                     .service_level = 0.95,
                     .lead_time = 4,
                     .lead_time_sd = 1,
                     .review_period = 7,
                     .available = 100};
    fc_plan_out p;
    assert_int_equal(fc_plan_compute(&in, &p, NULL), SL_OK);
    NEAR(p.safety_stock, 16.448536270, 1e-6);
    NEAR(p.reorder_point, 56.448536270, 1e-6);
    NEAR(p.order_up_to, 126.448536270, 1e-6);
    assert_int_equal(p.order_qty, 27);
    /* Both spreads: S = 110 + z * sqrt(11 * 9 + 100) = 110 + 1.64485 * 14.1067 */
    in.demand_sd = 3;
    assert_int_equal(fc_plan_compute(&in, &p, NULL), SL_OK);
    NEAR(p.order_up_to, 110 + 1.6448536269514722 * sqrt(199.0), 1e-6);
    NEAR(p.safety_stock, 1.6448536269514722 * sqrt(136.0), 1e-6);
}

static void test_plan_zero_demand(void **state)
{
    (void)state;
    fc_plan_in in = {
        .service_level = 0.99, .lead_time = 10, .lead_time_sd = 2, .moq = 100, .pack = 10};
    fc_plan_out p;
    assert_int_equal(fc_plan_compute(&in, &p, NULL), SL_OK);
    NEAR(p.safety_stock, 0, 1e-12);
    NEAR(p.reorder_point, 0, 1e-12);
    NEAR(p.order_up_to, 0, 1e-12);
    assert_int_equal(p.order_qty, 0); /* nothing needed: MOQ does not apply */
    assert_false(isnan(p.z));
}

static void test_plan_bad_input(void **state)
{
    (void)state;
    sl_err err;
    fc_plan_out p;
    fc_plan_in in = {.mean_demand = 1, .service_level = 1.0, .lead_time = 1};
    assert_int_equal(fc_plan_compute(&in, &p, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "service_level"));
    in.service_level = 0.9, in.lead_time = 0;
    assert_int_equal(fc_plan_compute(&in, &p, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "lead_time_days"));
    in.lead_time = 1, in.mean_demand = NAN;
    assert_int_equal(fc_plan_compute(&in, &p, &err), SL_INVALID_ARGUMENT);
    in.mean_demand = 1, in.pack = -1;
    assert_int_equal(fc_plan_compute(&in, &p, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "pack_size"));
}

static void test_stockout_cover(void **state)
{
    (void)state;
    double d[] = {5, 5, 5, 5};
    double arr[] = {0, 0, 10, 0};
    assert_int_equal(fc_plan_stockout_day(d, NULL, 4, 12), 2);
    assert_int_equal(fc_plan_stockout_day(d, arr, 4, 12), -1);
    assert_int_equal(fc_plan_stockout_day(d, NULL, 4, 20), -1);
    assert_int_equal(fc_plan_stockout_day(d, NULL, 4, 0), 0);
    double z[] = {0, 0, 0};
    assert_int_equal(fc_plan_stockout_day(z, NULL, 3, 0), -1);
    NEAR(fc_plan_cover(30, 10), 3, 1e-12);
    NEAR(fc_plan_cover(30, 0), -1, 1e-12);
}

static void test_benchmark_turnover(void **state)
{
    (void)state;
    int k;
    double lo, hi;
    fc_plan_benchmark("grocery", &k, &lo, &hi);
    assert_int_equal(k, 2);
    NEAR(lo, 6, 1e-12), NEAR(hi, 8, 1e-12);
    fc_plan_benchmark("Jewelry", &k, &lo, &hi);
    assert_int_equal(k, 3);
    NEAR(lo, 1, 1e-12), NEAR(hi, 3, 1e-12);
    fc_plan_benchmark("electronics", &k, &lo, &hi);
    assert_int_equal(k, 1);
    NEAR(lo, 3, 1e-12), NEAR(hi, 5, 1e-12);
    NEAR(fc_plan_turnover(400, 100, 365), 4.0, 1e-12);
    NEAR(fc_plan_turnover(80, 100, 73), 4.0, 1e-12);
    NEAR(fc_plan_turnover(0, 0, 30), 0.0, 1e-12);
    NEAR(fc_plan_turnover(5, 0, 30), -1.0, 1e-12);
}

static void test_days(void **state)
{
    (void)state;
    assert_int_equal(fc_day_from_civil(1970, 1, 1), 0);
    assert_int_equal(fc_day_from_civil(2024, 1, 1), 19723);
    char b[16];
    fc_day_format(19723 + 59, b, sizeof b);
    assert_string_equal(b, "2024-02-29");
    int32_t d;
    assert_int_equal(fc_day_parse("day", "2024-02-29", &d, NULL), SL_OK);
    assert_int_equal(d, 19723 + 59);
    sl_err err;
    assert_int_equal(fc_day_parse("rows[0].day", "2023-02-29", &d, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "rows[0].day"));
    assert_int_equal(fc_day_parse("day", "2024-1-01", &d, NULL), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_day_parse("day", "", &d, NULL), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_day_weekday(0), 3); /* a Thursday */
    assert_int_equal(fc_valid_id("sku", "ELEC-0001", false, NULL), SL_OK);
    assert_int_equal(fc_valid_id("sku", "", false, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "sku"));
    assert_int_equal(fc_valid_id("sku", "a b", false, NULL), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_valid_region("region", "NA-EAST", false, NULL), SL_OK);
    assert_int_equal(fc_valid_region("region", "na-east", false, NULL), SL_INVALID_ARGUMENT);
}

/* An hour named by its start in Unix ms or by day + hour, never both. */
static void test_hours(void **state)
{
    (void)state;
    sl_err err;
    int64_t h = 0;
    int64_t jan1 = (int64_t)fc_day_from_civil(2025, 1, 1) * 86400000LL;
    assert_int_equal(fc_hour_parse("rows[0]", 0, "2025-01-01", 5, &h, &err), SL_OK);
    assert_true(h == jan1 + 5 * 3600000LL);
    assert_int_equal(fc_hour_parse("rows[0]", jan1 + 23 * 3600000LL, "", 0, &h, &err), SL_OK);
    assert_true(h == jan1 + 23 * 3600000LL);
    assert_int_equal(fc_hour_parse("rows[2]", 0, "2025-01-01", 24, &h, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "rows[2].hour"));
    assert_int_equal(fc_hour_parse("rows[2]", 0, "2025-01-01", -1, &h, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_hour_parse("rows[2]", jan1 + 60000, "", 0, &h, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "rows[2].hour_start_ms"));
    assert_int_equal(fc_hour_parse("rows[2]", -3600000LL, "", 0, &h, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(fc_hour_parse("rows[2]", jan1, "", 3, &h, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "rows[2].hour must be 0"));
    assert_int_equal(fc_hour_parse("rows[2]", jan1, "2025-01-01", 0, &h, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "exclusive"));
    assert_int_equal(fc_hour_parse("rows[2]", 0, "", 0, &h, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "is required"));
    assert_int_equal(fc_hour_parse("rows[2]", 0, "2025-02-30", 1, &h, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "rows[2].day"));
}

static void test_learned_lead_time_needs_three_receipts(void **state)
{
    (void)state;
    fc_lead_stats sw = {4, 13, 2.5}, s = {5, 14.4, 3.6}, few = {2, 30, 9}, instant = {6, 0, 0};
    double m = -1, sd = -1;
    assert_int_equal(fc_plan_lead_time(&sw, &s, 7, 1, &m, &sd), FC_LEAD_SUPPLIER_WAREHOUSE);
    NEAR(m, 13, 1e-12);
    NEAR(sd, 2.5, 1e-12);
    /* Too few at the warehouse: the supplier's over every warehouse. */
    assert_int_equal(fc_plan_lead_time(&few, &s, 7, 1, &m, &sd), FC_LEAD_SUPPLIER);
    NEAR(m, 14.4, 1e-12);
    /* Too few anywhere, or receipts that teach nothing: the request's. */
    assert_int_equal(fc_plan_lead_time(&few, &few, 7, 1, &m, &sd), FC_LEAD_REQUEST);
    NEAR(m, 7, 1e-12);
    NEAR(sd, 1, 1e-12);
    assert_int_equal(fc_plan_lead_time(&instant, NULL, 7, 0, &m, &sd), FC_LEAD_REQUEST);
    assert_int_equal(fc_plan_lead_time(NULL, NULL, 5, 0, &m, &sd), FC_LEAD_REQUEST);
    /* Nothing learned and no request value: nothing. */
    m = sd = -1;
    assert_int_equal(fc_plan_lead_time(&few, NULL, 0, 0, &m, &sd), FC_LEAD_NONE);
    NEAR(m, -1, 1e-12);
    /* The learned spread enters safety stock as the formula says. */
    fc_plan_in in = {.mean_demand = 10,
                     .demand_sd = 3,
                     .service_level = 0.95,
                     .lead_time = 13,
                     .lead_time_sd = 2.5};
    fc_plan_out out;
    sl_err err;
    assert_int_equal(fc_plan_compute(&in, &out, &err), SL_OK);
    NEAR(out.safety_stock, fc_plan_z(0.95) * sqrt(13 * 9 + 100 * 6.25), 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_z),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_plan_continuous),
        cmocka_unit_test(test_plan_lead_time_spread),
        cmocka_unit_test(test_plan_zero_demand),
        cmocka_unit_test(test_plan_bad_input),
        cmocka_unit_test(test_stockout_cover),
        cmocka_unit_test(test_benchmark_turnover),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_hours),
        cmocka_unit_test(test_learned_lead_time_needs_three_receipts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
