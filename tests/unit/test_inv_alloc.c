/*
 * Unit tests of the inventory service's pure stock logic (inv_alloc):
 * where a line is taken from (nearest, split, backorder, nothing) and the
 * region status transitions behind LOW_STOCK / OUT_OF_STOCK /
 * BACK_IN_STOCK.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "inv_alloc.h"

/* near (1/2 days), mid (2/3), far (5/7) */
static inv_source net[3];

static void stock(int64_t near, int64_t mid, int64_t far)
{
    net[0] = (inv_source){"near", 1, 2, near};
    net[1] = (inv_source){"mid", 2, 3, mid};
    net[2] = (inv_source){"far", 5, 7, far};
}

static bool alloc(int64_t qty, bool split, bool backorder, const inv_inbound_src *ib, size_t nib,
                  inv_alloc_out *out, inv_part *parts)
{
    inv_alloc_in in = {net, 3, ib, nib, qty, split, backorder};
    out->parts = parts;
    return inv_alloc_line(&in, out);
}

static void test_nearest_with_enough_wins(void **state)
{
    (void)state;
    inv_part parts[8];
    inv_alloc_out out;
    stock(10, 10, 10);
    assert_true(alloc(5, false, false, NULL, 0, &out, parts));
    assert_int_equal(out.nparts, 1);
    assert_int_equal(parts[0].source, 0);
    assert_int_equal(parts[0].qty, 5);
    /* Nearest is short: the next nearest that holds it all, not a split. */
    stock(3, 10, 10);
    assert_true(alloc(5, true, false, NULL, 0, &out, parts));
    assert_int_equal(out.nparts, 1);
    assert_int_equal(parts[0].source, 1);
    /* Order of the input does not matter, transit does. */
    inv_source rev[3] = {{"far", 5, 7, 10}, {"mid", 2, 3, 10}, {"near", 1, 2, 10}};
    inv_alloc_in in = {rev, 3, NULL, 0, 4, false, false};
    out.parts = parts;
    assert_true(inv_alloc_line(&in, &out));
    assert_string_equal(rev[parts[0].source].warehouse_id, "near");
    /* Equal p50: p90 decides, then the id. */
    inv_source tie[3] = {{"b", 1, 3, 10}, {"c", 1, 2, 10}, {"a", 1, 2, 10}};
    in = (inv_alloc_in){tie, 3, NULL, 0, 4, false, false};
    assert_true(inv_alloc_line(&in, &out));
    assert_string_equal(tie[parts[0].source].warehouse_id, "a");
}

static void test_split_only_when_allowed(void **state)
{
    (void)state;
    inv_part parts[8];
    inv_alloc_out out;
    stock(3, 4, 5);
    assert_false(alloc(10, false, false, NULL, 0, &out, parts));
    assert_int_equal(out.could_have, 12);
    assert_non_null(strstr(out.reason, "split not allowed"));
    assert_true(alloc(10, true, false, NULL, 0, &out, parts));
    assert_int_equal(out.nparts, 3);
    assert_int_equal(parts[0].source, 0);
    assert_int_equal(parts[0].qty, 3);
    assert_int_equal(parts[1].source, 1);
    assert_int_equal(parts[1].qty, 4);
    assert_int_equal(parts[2].source, 2);
    assert_int_equal(parts[2].qty, 3);
    /* Equally near warehouses: the bigger first, so fewer parts. */
    inv_source eq[3] = {{"a", 1, 1, 2}, {"b", 1, 1, 9}, {"c", 3, 3, 9}};
    inv_alloc_in in = {eq, 3, NULL, 0, 10, true, false};
    out.parts = parts;
    assert_true(inv_alloc_line(&in, &out));
    assert_int_equal(out.nparts, 2);
    assert_string_equal(eq[parts[0].source].warehouse_id, "b");
    assert_int_equal(parts[0].qty, 9);
    assert_string_equal(eq[parts[1].source].warehouse_id, "a");
    assert_int_equal(parts[1].qty, 1);
    /* Not enough anywhere. */
    assert_false(alloc(13, true, false, NULL, 0, &out, parts));
    assert_int_equal(out.could_have, 12);
    assert_non_null(strstr(out.reason, "not enough stock"));
}

static void test_backorder_against_inbound(void **state)
{
    (void)state;
    inv_part parts[8];
    inv_alloc_out out;
    inv_inbound_src ib[2] = {
        {"po-late", "near", 1, 2, 50, 2000},
        {"po-soon", "far", 5, 7, 50, 1000},
    };
    stock(2, 0, 1);
    /* Without backorders: nothing. */
    assert_false(alloc(10, true, false, ib, 2, &out, parts));
    assert_int_equal(out.could_have, 3);
    /* No split: one warehouse, its stock then its own inbound: near. */
    assert_true(alloc(10, false, true, ib, 2, &out, parts));
    assert_int_equal(out.nparts, 2);
    assert_int_equal(parts[0].source, 0);
    assert_int_equal(parts[0].qty, 2);
    assert_int_equal(parts[1].source, -1);
    assert_int_equal(parts[1].inbound, 0);
    assert_int_equal(parts[1].qty, 8);
    /* Split: all stock, then the earliest inbound. */
    assert_true(alloc(10, true, true, ib, 2, &out, parts));
    assert_int_equal(out.nparts, 3);
    assert_int_equal(parts[0].qty + parts[1].qty, 3);
    assert_int_equal(parts[2].inbound, 1);
    assert_int_equal(parts[2].qty, 7);
    /* More than stock and inbound together. */
    assert_false(alloc(104, true, true, ib, 2, &out, parts));
    assert_int_equal(out.could_have, 103);
    /* Stock alone suffices: no backorder part even when allowed. */
    stock(20, 0, 0);
    assert_true(alloc(10, false, true, ib, 2, &out, parts));
    assert_int_equal(out.nparts, 1);
    assert_int_equal(parts[0].source, 0);
    /* Inbound with nothing unallocated is not a source. */
    inv_inbound_src none[1] = {{"po-full", "near", 1, 2, 0, 1000}};
    stock(0, 0, 0);
    assert_false(alloc(1, true, true, none, 1, &out, parts));
}

static void test_region_transitions(void **state)
{
    (void)state;
    assert_int_equal(inv_region_status_of(0, 5), INV_OUT_OF_STOCK);
    assert_int_equal(inv_region_status_of(5, 5), INV_LOW_STOCK);
    assert_int_equal(inv_region_status_of(6, 5), INV_IN_STOCK);
    assert_int_equal(inv_region_status_of(1, 0), INV_IN_STOCK);
    assert_string_equal(inv_region_transition(10, 5, 0, 5), "OUT_OF_STOCK");
    assert_string_equal(inv_region_transition(3, 5, 0, 5), "OUT_OF_STOCK");
    assert_string_equal(inv_region_transition(0, 5, 10, 5), "BACK_IN_STOCK");
    assert_string_equal(inv_region_transition(0, 5, 2, 5), "BACK_IN_STOCK");
    assert_string_equal(inv_region_transition(10, 5, 5, 5), "LOW_STOCK");
    /* A threshold raised over the units is a change too. */
    assert_string_equal(inv_region_transition(10, 5, 10, 10), "LOW_STOCK");
    assert_null(inv_region_transition(4, 5, 3, 5));
    assert_null(inv_region_transition(10, 5, 8, 5));
    assert_null(inv_region_transition(0, 5, 0, 5));
    assert_null(inv_region_transition(3, 5, 8, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest_with_enough_wins),
        cmocka_unit_test(test_split_only_when_allowed),
        cmocka_unit_test(test_backorder_against_inbound),
        cmocka_unit_test(test_region_transitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
