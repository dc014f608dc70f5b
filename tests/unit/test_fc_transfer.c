/*
 * Unit tests of SuggestTransfers' arithmetic (fc_transfer): each region's
 * surplus and shortage, and the greedy matching of short regions to the
 * surplus regions that ship to them fastest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "fc_transfer.h"

#define T 28

static double flat1[T], flat20[T], flat10[T], none[T];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < T; i++) {
        flat1[i] = 1;
        flat10[i] = 10;
        flat20[i] = 20;
        none[i] = 0;
    }
    return 0;
}

static fc_transfer_region region(const char *name, int64_t available, const double *demand,
                                 int32_t days_to_inbound, const char *wh)
{
    return (fc_transfer_region){name, available, demand, days_to_inbound, wh, wh, 0, 0};
}

static void test_surplus_keeps_target_days_of_demand(void **state)
{
    (void)state;
    fc_transfer_region r[] = {region("EAST", 500, flat1, INT32_MAX, "W-E")};
    fc_transfer_positions(r, 1, T);
    assert_int_equal(r[0].surplus, 500 - 28);
    assert_int_equal(r[0].shortage, 0);
}

static void test_shortage_counts_demand_until_the_next_inbound(void **state)
{
    (void)state;
    fc_transfer_region r[] = {region("WEST", 10, flat20, 5, "W-W"),
                              region("SOUTH", 10, flat20, INT32_MAX, "W-S"),
                              region("LATE", 10, flat20, -3, "W-L")};
    fc_transfer_positions(r, 3, T);
    assert_int_equal(r[0].shortage, 5 * 20 - 10);  /* until the inbound in 5 days */
    assert_int_equal(r[1].shortage, 28 * 20 - 10); /* none open: the whole target */
    assert_int_equal(r[2].shortage, 0);            /* a late inbound is due now */
    assert_int_equal(r[0].surplus, 0);
}

static void test_half_a_unit_short_is_not_short(void **state)
{
    (void)state;
    double d[T];
    memset(d, 0, sizeof d);
    d[0] = 10.4;
    fc_transfer_region r[] = {region("X", 10, d, INT32_MAX, "W")};
    fc_transfer_positions(r, 1, T);
    assert_int_equal(r[0].shortage, 0);
}

static void test_move_covers_demand_after_arrival_less_what_is_left(void **state)
{
    (void)state;
    fc_transfer_region r[] = {region("EAST", 500, flat1, INT32_MAX, "W-NEAR"),
                              region("WEST", 10, flat20, INT32_MAX, "W-FAR")};
    fc_transfer_route routes[] = {{"W-NEAR", "WEST", 4}, {"W-NEAR", "EAST", 1}};
    fc_transfer_move mv[2];
    fc_transfer_positions(r, 2, T);
    assert_int_equal(fc_transfer_match(r, 2, T, routes, 2, mv), 1);
    assert_int_equal(mv[0].from, 0);
    assert_int_equal(mv[0].to, 1);
    assert_int_equal(mv[0].transit_days, 4);
    /* 80 needed during transit: the 10 held are gone on arrival; then 24
     * days at 20 = 480, capped by EAST's surplus of 472. */
    assert_int_equal(mv[0].qty, 472);
    assert_int_equal(r[0].surplus, 0);
    assert_int_equal(r[1].shortage, 28 * 20 - 10); /* reported as computed */
}

static void test_largest_shortage_is_served_first(void **state)
{
    (void)state;
    fc_transfer_region r[] = {region("SMALL", 0, flat10, 10, "W-S"),
                              region("BIG", 0, flat20, 10, "W-B"),
                              region("RICH", 200, none, INT32_MAX, "W-R")};
    fc_transfer_route routes[] = {{"W-R", "SMALL", 0}, {"W-R", "BIG", 0}};
    fc_transfer_move mv[3];
    fc_transfer_positions(r, 3, T);
    assert_int_equal(fc_transfer_match(r, 3, T, routes, 2, mv), 1);
    assert_int_equal(mv[0].to, 1); /* BIG needs 200: it takes everything */
    assert_int_equal(mv[0].qty, 200);
}

static void test_fastest_source_wins_and_ties_go_to_the_first(void **state)
{
    (void)state;
    fc_transfer_region r[] = {
        region("A", 1000, none, INT32_MAX, "W-A"), region("B", 1000, none, INT32_MAX, "W-B"),
        region("C", 1000, none, INT32_MAX, "W-C"), region("SHORT", 0, flat10, INT32_MAX, "W-S")};
    fc_transfer_route routes[] = {{"W-A", "SHORT", 3}, {"W-B", "SHORT", 2}, {"W-C", "SHORT", 2}};
    fc_transfer_move mv[4];
    fc_transfer_positions(r, 4, T);
    assert_int_equal(fc_transfer_match(r, 4, T, routes, 3, mv), 1);
    assert_int_equal(mv[0].from, 1);
    assert_int_equal(mv[0].transit_days, 2);
    assert_int_equal(mv[0].qty, 26 * 10);
}

static void test_no_route_or_no_destination_no_move(void **state)
{
    (void)state;
    fc_transfer_region r[] = {region("RICH", 1000, none, INT32_MAX, "W-R"),
                              region("SHORT", 0, flat10, INT32_MAX, "W-S")};
    fc_transfer_route elsewhere[] = {{"W-R", "NORTH", 1}};
    fc_transfer_move mv[2];
    fc_transfer_positions(r, 2, T);
    assert_int_equal(fc_transfer_match(r, 2, T, elsewhere, 1, mv), 0);
    fc_transfer_route there[] = {{"W-R", "SHORT", 1}};
    r[1].dest_wh = NULL;
    assert_int_equal(fc_transfer_match(r, 2, T, there, 1, mv), 0);
    assert_int_equal(r[0].surplus, 1000);
}

static void test_surplus_is_shared_not_spent_twice(void **state)
{
    (void)state;
    fc_transfer_region r[] = {region("RICH", 300, none, INT32_MAX, "W-R"),
                              region("ONE", 0, flat10, INT32_MAX, "W-1"),
                              region("TWO", 0, flat10, INT32_MAX, "W-2")};
    fc_transfer_route routes[] = {{"W-R", "ONE", 0}, {"W-R", "TWO", 0}};
    fc_transfer_move mv[3];
    fc_transfer_positions(r, 3, T);
    assert_int_equal(fc_transfer_match(r, 3, T, routes, 2, mv), 2);
    assert_int_equal(mv[0].to, 1); /* equal shortages: the first */
    assert_int_equal(mv[0].qty, 280);
    assert_int_equal(mv[1].to, 2);
    assert_int_equal(mv[1].qty, 20);
    assert_int_equal(r[0].surplus, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_surplus_keeps_target_days_of_demand),
        cmocka_unit_test(test_shortage_counts_demand_until_the_next_inbound),
        cmocka_unit_test(test_half_a_unit_short_is_not_short),
        cmocka_unit_test(test_move_covers_demand_after_arrival_less_what_is_left),
        cmocka_unit_test(test_largest_shortage_is_served_first),
        cmocka_unit_test(test_fastest_source_wins_and_ties_go_to_the_first),
        cmocka_unit_test(test_no_route_or_no_destination_no_move),
        cmocka_unit_test(test_surplus_is_shared_not_spent_twice),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
