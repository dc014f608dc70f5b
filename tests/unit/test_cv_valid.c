/*
 * Unit tests of the customer-value service's pure helpers: request
 * validation (cv_valid.c: ids, regions, money, cohorts, page tokens, days)
 * and the seasonal calendar of the recommender (cv_catalog.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cv_app.h"
#include "cv_catalog.h"

static void test_day(void **state)
{
    (void)state;
    assert_int_equal(cv_day(0), 0);
    assert_int_equal(cv_day(CV_DAY_MS - 1), 0);
    assert_int_equal(cv_day(CV_DAY_MS), 1);
    assert_int_equal(cv_day(-1), -1);
    assert_int_equal(cv_day(-CV_DAY_MS), -1);
}

static void test_ids_and_regions(void **state)
{
    (void)state;
    sl_err err;
    assert_int_equal(cv_valid_id("customer_id", "c-00001", &err), SL_OK);
    assert_int_equal(cv_valid_id("customer_id", "", &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "customer_id is required"));
    assert_int_equal(cv_valid_id("order_id", "a b", &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "order_id"));
    char long_id[70];
    memset(long_id, 'x', 65);
    long_id[65] = '\0';
    assert_int_equal(cv_valid_id("sku", long_id, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_valid_region("region", "NA-EAST", &err), SL_OK);
    assert_int_equal(cv_valid_region("region", "na-east", &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_valid_region("region", "1EAST", &err), SL_INVALID_ARGUMENT);
    assert_int_equal(cv_valid_text("category", "coffee", 1, 64, &err), SL_OK);
    assert_int_equal(cv_valid_text("category", "a\tb", 1, 64, &err), SL_INVALID_ARGUMENT);
}

static void test_money(void **state)
{
    (void)state;
    sl_err err;
    Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
    m.minor_units = 5;
    m.currency = "USD";
    assert_int_equal(cv_valid_money("amount", &m, 1, &err), SL_OK);
    assert_int_equal(cv_valid_money("amount", NULL, 1, &err), SL_INVALID_ARGUMENT);
    m.minor_units = 0;
    assert_int_equal(cv_valid_money("amount", &m, 1, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "amount.minor_units"));
    m.minor_units = 5;
    m.currency = "US";
    assert_int_equal(cv_valid_money("amount", &m, 1, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "amount.currency"));
}

static void test_cohort(void **state)
{
    (void)state;
    sl_err err;
    bool set;
    int32_t lo, hi;
    assert_int_equal(cv_valid_cohort("cohort", "", &set, &lo, &hi, &err), SL_OK);
    assert_false(set);
    assert_int_equal(cv_valid_cohort("cohort", "1970-01", &set, &lo, &hi, &err), SL_OK);
    assert_true(set);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 30);
    assert_int_equal(cv_valid_cohort("cohort", "2024-02", &set, &lo, &hi, &err), SL_OK);
    assert_int_equal(hi - lo + 1, 29); /* leap year */
    assert_int_equal(cv_valid_cohort("cohort", "2023-12", &set, &lo, &hi, &err), SL_OK);
    assert_int_equal(hi - lo + 1, 31);
    assert_int_equal(cv_valid_cohort("cohort", "2024-13", &set, &lo, &hi, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(cv_valid_cohort("cohort", "2024-1", &set, &lo, &hi, &err),
                     SL_INVALID_ARGUMENT);
    assert_int_equal(cv_valid_cohort("cohort", "2024-01x", &set, &lo, &hi, &err),
                     SL_INVALID_ARGUMENT);
}

static void test_page_tokens(void **state)
{
    (void)state;
    sl_err err;
    sl_arena *a = sl_arena_create(0);
    char after[80];
    int limit;
    assert_int_equal(sl_page_read(NULL, &limit, after, sizeof after, &err), SL_OK);
    assert_int_equal(limit, 100);
    assert_string_equal(after, "");
    Shelfline__V1__PageRequest p = SHELFLINE__V1__PAGE_REQUEST__INIT;
    p.page_size = 7;
    p.page_token = sl_page_token_encode(a, "c-00042");
    assert_int_equal(sl_page_read(&p, &limit, after, sizeof after, &err), SL_OK);
    assert_int_equal(limit, 7);
    assert_string_equal(after, "c-00042");
    p.page_token = "0g";
    assert_int_equal(sl_page_read(&p, &limit, after, sizeof after, &err), SL_INVALID_ARGUMENT);
    p.page_token = "abc";
    assert_int_equal(sl_page_read(&p, &limit, after, sizeof after, &err), SL_INVALID_ARGUMENT);
    p.page_token = "";
    p.page_size = 1001;
    assert_int_equal(sl_page_read(&p, &limit, after, sizeof after, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "page.page_size"));
    sl_arena_destroy(a);
}

/* Days since 1970-01-01 of a date in 2025. */
static int32_t d2025(int month, int day)
{
    static const int before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return 20089 + before[month - 1] + day - 1; /* 2025-01-01 is day 20089 */
}

static void test_seasons(void **state)
{
    (void)state;
    const uint32_t bf = 1u << 0, xmas = 1u << 1, school = 1u << 2, summer = 1u << 3,
                   winter = 1u << 4;
    assert_true(cv_tags_in_season(bf, d2025(11, 28)));
    assert_false(cv_tags_in_season(bf, d2025(12, 1)));
    assert_true(cv_tags_in_season(xmas, d2025(12, 24)));
    assert_false(cv_tags_in_season(xmas, d2025(12, 25)));
    assert_true(cv_tags_in_season(school, d2025(8, 1)));
    assert_true(cv_tags_in_season(school, d2025(9, 15)));
    assert_false(cv_tags_in_season(school, d2025(9, 16)));
    assert_true(cv_tags_in_season(summer, d2025(7, 4)));
    assert_false(cv_tags_in_season(summer, d2025(9, 1)));
    assert_true(cv_tags_in_season(winter, d2025(1, 15)));
    assert_true(cv_tags_in_season(winter, d2025(12, 31)));
    assert_false(cv_tags_in_season(winter, d2025(3, 1)));
    assert_false(cv_tags_in_season(0, d2025(12, 20)));
    assert_true(cv_tags_in_season(summer | winter, d2025(2, 1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day),         cmocka_unit_test(test_ids_and_regions),
        cmocka_unit_test(test_money),       cmocka_unit_test(test_cohort),
        cmocka_unit_test(test_page_tokens), cmocka_unit_test(test_seasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
