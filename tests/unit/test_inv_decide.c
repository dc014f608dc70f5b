/*
 * Unit tests of the decision on one Reserve request (inv_decide), each
 * step of inv_decide.h against a small in-memory world, no database:
 *
 *   region "eu"    served by w-near (1/2 days) and w-far (3/5 days)
 *   region "north" served by w-far only
 *   sku-a          1000 EUR; w-near 3 on hand, 1 reserved; w-far 10
 *   sku-b          500 EUR;  w-near 5 on hand
 *   promo-a        sku-a at 800 EUR, running, 4 units fenced in w-near,
 *                  3 per customer
 *   promo-later    sku-a, starts after now; promo-over sku-a, ended
 *   in-1           6 units of sku-a expected at w-near
 * and, for the stock fence tests (with_fence):
 *   fence-a        a stock fence of sku-a, 2 units in w-far (so w-far's
 *                  reserved is 2), running, c-1 a member
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "inv_decide.h"
#include "inv_valid.h"

#define NOW_MS 1000000
#define NEAR_A 1 /* index of (sku-a, w-near) in the rows */
#define FAR_A 0  /* (sku-a, w-far) */
#define NEAR_B 2 /* (sku-b, w-near) */

typedef struct world {
    sl_arena *arena;
    inv_tx tx;
    inv_route routes[3];
    inv_product_row products[2];
    inv_row rows[3];
    inv_row *rowp[3];
    inv_promo_st promos[4];
    inv_fence_st fences[2];
    inv_usage_row elig[1];
    inv_inbound_st inb[1];
    inv_resv_row existing[1];
    inv_accepted acc[4];
    inv_resv_row resv[4];
    inv_decide_state d;
    Shelfline__V1__ReserveLine line[3];
    Shelfline__V1__ReserveLine *lines[3];
    Shelfline__V1__ReserveRequest req;
    inv_decision out;
    sl_err err;
} world;

static inv_promo_st promo(const char *id, int64_t starts, int64_t ends, bool ended)
{
    inv_promo_row r = {.id = id,
                       .sku = "sku-a",
                       .region = "eu",
                       .currency = "EUR",
                       .quota = 4,
                       .per_customer_limit = 3,
                       .starts_ms = starts,
                       .ends_ms = ends,
                       .price_minor = 800,
                       .remaining = 4,
                       .ended = ended};
    return (inv_promo_st){r, r.remaining, r.held};
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->arena = sl_arena_create(0);
    assert_non_null(w->arena);
    /* Ordered as inv_tx keeps them: routes by region then nearest first,
     * products by SKU, rows by (SKU, warehouse). */
    w->routes[0] = (inv_route){"w-near", "eu", 1, 2};
    w->routes[1] = (inv_route){"w-far", "eu", 3, 5};
    w->routes[2] = (inv_route){"w-far", "north", 2, 3};
    w->products[0] = (inv_product_row){"sku-a", 1000, "EUR"};
    w->products[1] = (inv_product_row){"sku-b", 500, "EUR"};
    w->rows[FAR_A] = (inv_row){.sku = "sku-a", .warehouse_id = "w-far", .on_hand = 10};
    w->rows[NEAR_A] =
        (inv_row){.sku = "sku-a", .warehouse_id = "w-near", .on_hand = 3, .reserved = 1};
    w->rows[NEAR_B] = (inv_row){.sku = "sku-b", .warehouse_id = "w-near", .on_hand = 5};
    for (size_t i = 0; i < 3; i++) {
        w->rows[i].exists = true;
        w->rowp[i] = &w->rows[i];
    }
    inv_tx_init(&w->tx, NULL, NULL, w->arena);
    w->tx.now_ms = NOW_MS;
    w->tx.routes = w->routes;
    w->tx.nroutes = 3;
    w->tx.products = w->products;
    w->tx.nproducts = 2;
    w->tx.rows = w->rowp;
    w->tx.nrows = w->tx.caprows = 3;

    w->promos[0] = promo("promo-a", 0, 2 * NOW_MS, false);
    w->promos[1] = promo("promo-later", 5 * NOW_MS, 6 * NOW_MS, false);
    w->promos[2] = promo("promo-over", 0, 2 * NOW_MS, true);
    w->fences[0] = (inv_fence_st){{"promo-a", "w-near", 4, 4}, 4};
    w->inb[0] = (inv_inbound_st){{"in-1", "sku-a", "w-near", 6, 3 * NOW_MS}, 6};
    w->d = (inv_decide_state){.arena = w->arena,
                              .tx = &w->tx,
                              .existing = w->existing,
                              .promos = w->promos,
                              .npromos = 3,
                              .fences = w->fences,
                              .nfences = 1,
                              .inb = w->inb,
                              .ninb = 1,
                              .acc = w->acc,
                              .resv = w->resv};
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    sl_arena_destroy(w->arena);
    free(w);
    return 0;
}

/* Sets line i of the request. */
static void line(world *w, size_t i, const char *sku, int64_t qty, const char *promotion)
{
    Shelfline__V1__ReserveLine *l = &w->line[i];
    shelfline__v1__reserve_line__init(l);
    l->sku = (char *)sku;
    l->qty = qty;
    l->promotion_id = (char *)promotion;
    w->lines[i] = l;
}

/* A request of customer c-1 with the first n lines set by line(). */
static Shelfline__V1__ReserveRequest *request(world *w, const char *id, const char *region,
                                              size_t n)
{
    Shelfline__V1__ReserveRequest *r = &w->req;
    shelfline__v1__reserve_request__init(r);
    r->reservation_id = (char *)id;
    r->customer_id = "c-1";
    r->region = (char *)region;
    r->lines = w->lines;
    r->n_lines = n;
    return r;
}

/* Decides the request with canonical bytes canon; the decision is in
 * w->out.  Deciding never fails the batch here (no arena exhaustion). */
static void decide(world *w, const char *canon)
{
    sl_err_clear(&w->err);
    assert_int_equal(
        inv_decide(&w->d, &w->req, (const uint8_t *)canon, strlen(canon), &w->out, &w->err), SL_OK);
}

static Shelfline__V1__Reservation *answer_of(const world *w)
{
    Shelfline__V1__Reservation *r =
        shelfline__v1__reservation__unpack(NULL, w->out.result_len, w->out.result);
    assert_non_null(r);
    return r;
}

static void assert_failed(const world *w, sl_status st, const char *words)
{
    assert_int_equal(w->out.st, st);
    assert_int_equal(w->out.err.status, st);
    if (strstr(w->out.err.msg, words) == NULL)
        fail_msg("message \"%s\" does not say \"%s\"", w->out.err.msg, words);
    assert_int_equal(w->d.nresv, 0);
    assert_int_equal(w->d.nallocs, 0);
}

/* Nothing of the world's counters moved. */
static void assert_untouched(const world *w)
{
    assert_int_equal(w->rows[NEAR_A].reserved, 1);
    assert_int_equal(w->rows[FAR_A].reserved, 0);
    assert_int_equal(w->rows[NEAR_B].reserved, 0);
    assert_int_equal(w->promos[0].row.remaining, 4);
    assert_int_equal(w->promos[0].row.held, 0);
    assert_int_equal(w->fences[0].row.remaining, 4);
    assert_int_equal(w->inb[0].row.unallocated, 6);
    for (size_t i = 0; i < w->d.nusage; i++)
        assert_int_equal(w->d.usage[i].qty, w->d.usage[i].qty0);
    assert_int_equal(w->d.nundo, 0);
}

/* A one-line request of qty 1 in region is refused with st, saying
 * words, and nothing moved. */
static void assert_one_line_refused(world *w, const char *region, const char *sku,
                                    const char *promotion, sl_status st, const char *words)
{
    line(w, 0, sku, 1, promotion);
    request(w, "r-1", region, 1);
    decide(w, "canon-1");
    assert_failed(w, st, words);
    assert_untouched(w);
}

/* Reservation r-old is stored, with request canon-1. */
static void store_earlier(world *w)
{
    w->existing[0] = (inv_resv_row){.id = "r-old",
                                    .request = (const uint8_t *)"canon-1",
                                    .request_len = 7,
                                    .result = (const uint8_t *)"first answer",
                                    .result_len = 12};
    w->d.nexisting = 1;
}

static void test_accepted_line_is_held_in_the_nearest_warehouse_with_enough(void **state)
{
    world *w = *state;
    line(w, 0, "sku-a", 2, "");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    assert_false(w->out.replayed);
    assert_int_equal(w->rows[NEAR_A].reserved, 3);
    assert_int_equal(w->rows[FAR_A].reserved, 0);
    /* The rows to write. */
    assert_int_equal(w->d.nresv, 1);
    assert_string_equal(w->resv[0].id, "r-1");
    assert_memory_equal(w->resv[0].request, "canon-1", 7);
    assert_int_equal(w->resv[0].expires_ms, NOW_MS + INV_DEFAULT_HOLD_MS);
    assert_int_equal(w->d.nallocs, 1);
    assert_string_equal(w->d.allocs[0].warehouse_id, "w-near");
    assert_string_equal(w->d.allocs[0].inbound_id, "");
    assert_int_equal(w->d.allocs[0].qty, 2);
    /* The answer. */
    Shelfline__V1__Reservation *r = answer_of(w);
    assert_int_equal(r->status, SHELFLINE__V1__RESERVATION__STATUS__HELD);
    assert_int_equal(r->created_at_ms, NOW_MS);
    assert_int_equal(r->expires_at_ms, NOW_MS + INV_DEFAULT_HOLD_MS);
    assert_int_equal(r->n_lines, 1);
    assert_int_equal(r->lines[0]->unit_price->minor_units, 1000);
    assert_int_equal(r->lines[0]->n_allocations, 1);
    assert_string_equal(r->lines[0]->allocations[0]->warehouse_id, "w-near");
    assert_int_equal(r->lines[0]->allocations[0]->transit_p50_days, 1);
    assert_int_equal(r->lines[0]->allocations[0]->awaiting_qty, 0);
    shelfline__v1__reservation__free_unpacked(r, NULL);
}

static void test_hold_expires_after_the_requested_ttl_when_given(void **state)
{
    world *w = *state;
    line(w, 0, "sku-b", 1, "");
    request(w, "r-1", "eu", 1)->hold_ttl_ms = 60000;
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    assert_int_equal(w->resv[0].expires_ms, NOW_MS + 60000);
    Shelfline__V1__Reservation *r = answer_of(w);
    assert_int_equal(r->expires_at_ms, NOW_MS + 60000);
    shelfline__v1__reservation__free_unpacked(r, NULL);
}

static void test_stored_id_with_the_same_request_replays_its_first_answer(void **state)
{
    world *w = *state;
    store_earlier(w);
    line(w, 0, "sku-a", 2, "");
    request(w, "r-old", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    assert_true(w->out.replayed);
    assert_int_equal(w->out.result_len, 12);
    assert_memory_equal(w->out.result, "first answer", 12);
    assert_int_equal(w->d.nresv, 0);
    assert_untouched(w);
}

static void test_stored_id_with_another_request_is_already_exists(void **state)
{
    world *w = *state;
    store_earlier(w);
    line(w, 0, "sku-a", 2, "");
    request(w, "r-old", "eu", 1);
    decide(w, "canon-2");
    assert_failed(w, SL_ALREADY_EXISTS, "reservation_id \"r-old\" is already used");
    assert_false(w->out.replayed);
    assert_untouched(w);
}

static void test_duplicate_in_the_same_batch_replays_the_first_answer(void **state)
{
    world *w = *state;
    line(w, 0, "sku-a", 2, "");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    const uint8_t *first = w->out.result;
    size_t first_len = w->out.result_len;
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    assert_true(w->out.replayed);
    assert_ptr_equal(w->out.result, first);
    assert_int_equal(w->out.result_len, first_len);
    /* Held once, written once. */
    assert_int_equal(w->rows[NEAR_A].reserved, 3);
    assert_int_equal(w->d.nresv, 1);
    /* The same id with another request in the same batch is refused. */
    decide(w, "canon-2");
    assert_int_equal(w->out.st, SL_ALREADY_EXISTS);
}

static void test_region_without_an_active_warehouse_is_invalid_argument(void **state)
{
    assert_one_line_refused(*state, "mars", "sku-a", "", SL_INVALID_ARGUMENT,
                            "region \"mars\" is not served");
}

static void test_unknown_sku_is_not_found_naming_its_line(void **state)
{
    world *w = *state;
    line(w, 0, "sku-a", 1, "");
    line(w, 1, "sku-zz", 1, "");
    request(w, "r-1", "eu", 2);
    decide(w, "canon-1");
    assert_failed(w, SL_NOT_FOUND, "lines[1].sku: unknown SKU \"sku-zz\"");
    assert_untouched(w);
}

static void test_unknown_promotion_is_not_found(void **state)
{
    assert_one_line_refused(*state, "eu", "sku-a", "promo-zz", SL_NOT_FOUND,
                            "lines[0].promotion_id: unknown promotion \"promo-zz\"");
}

static void test_promotion_of_another_sku_is_invalid_argument(void **state)
{
    assert_one_line_refused(*state, "eu", "sku-b", "promo-a", SL_INVALID_ARGUMENT,
                            "is for SKU \"sku-a\", not \"sku-b\"");
}

static void test_promotion_not_started_is_failed_precondition(void **state)
{
    assert_one_line_refused(*state, "eu", "sku-a", "promo-later", SL_FAILED_PRECONDITION,
                            "promotion \"promo-later\" has not started");
}

static void test_promotion_ended_or_past_its_end_is_failed_precondition(void **state)
{
    world *w = *state;
    assert_one_line_refused(w, "eu", "sku-a", "promo-over", SL_FAILED_PRECONDITION,
                            "promotion \"promo-over\" has ended");
    /* Not marked ended yet, but its end time has come. */
    w->promos[0].row.ends_ms = NOW_MS;
    assert_one_line_refused(w, "eu", "sku-a", "promo-a", SL_FAILED_PRECONDITION,
                            "promotion \"promo-a\" has ended");
}

static void test_promotion_line_takes_the_fence_at_the_promotion_price(void **state)
{
    world *w = *state;
    line(w, 0, "sku-a", 2, "promo-a");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    assert_int_equal(w->fences[0].row.remaining, 2);
    assert_int_equal(w->promos[0].row.remaining, 2);
    assert_int_equal(w->promos[0].row.held, 2);
    assert_int_equal(w->d.nusage, 1);
    assert_string_equal(w->d.usage[0].customer_id, "c-1");
    assert_int_equal(w->d.usage[0].qty, 2);
    assert_int_equal(w->d.usage[0].qty0, 0);
    /* Fenced units are reserved already: the stock row does not move. */
    assert_int_equal(w->rows[NEAR_A].reserved, 1);
    assert_string_equal(w->d.allocs[0].promotion_id, "promo-a");
    Shelfline__V1__Reservation *r = answer_of(w);
    assert_int_equal(r->lines[0]->unit_price->minor_units, 800);
    assert_string_equal(r->lines[0]->allocations[0]->warehouse_id, "w-near");
    shelfline__v1__reservation__free_unpacked(r, NULL);
}

static void
test_customer_over_the_promotion_limit_is_exhausted_and_earlier_lines_undone(void **state)
{
    world *w = *state;
    line(w, 0, "sku-b", 2, "");
    line(w, 1, "sku-a", 2, "promo-a");
    line(w, 2, "sku-a", 2, "promo-a");
    request(w, "r-1", "eu", 3);
    decide(w, "canon-1");
    assert_failed(w, SL_RESOURCE_EXHAUSTED,
                  "lines[2]: customer \"c-1\" may have at most 3 units of promotion \"promo-a\"");
    assert_untouched(w);
}

static void test_sold_out_promotion_is_exhausted(void **state)
{
    world *w = *state;
    w->promos[0].row.remaining = w->promos[0].remaining0 = 0;
    line(w, 0, "sku-a", 1, "promo-a");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(w->out.err.msg, "promotion \"promo-a\" is sold out"));
    assert_int_equal(w->d.nresv, 0);
}

static void test_promotion_with_fewer_units_left_than_asked_is_exhausted(void **state)
{
    world *w = *state;
    w->promos[0].row.remaining = w->promos[0].remaining0 = 2;
    line(w, 0, "sku-a", 3, "promo-a");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(w->out.err.msg, "has only 2 units left (asked 3)"));
    assert_int_equal(w->d.nresv, 0);
}

static void test_short_line_fails_the_request_with_a_shortfall_and_undoes_it(void **state)
{
    world *w = *state;
    line(w, 0, "sku-b", 1, "");
    line(w, 1, "sku-a", 50, "");
    request(w, "r-1", "eu", 2)->allow_split = true;
    decide(w, "canon-1");
    assert_failed(w, SL_FAILED_PRECONDITION, "insufficient stock for 1 of 2 lines");
    assert_non_null(strstr(w->out.err.msg, "lines[1] (sku \"sku-a\"): requested 50, can have 12"));
    assert_untouched(w);
    Shelfline__V1__ReserveShortfall *sf =
        shelfline__v1__reserve_shortfall__unpack(NULL, w->out.shortfall_len, w->out.shortfall);
    assert_non_null(sf);
    assert_int_equal(sf->n_lines, 1);
    assert_int_equal(sf->lines[0]->line, 1);
    assert_string_equal(sf->lines[0]->sku, "sku-a");
    assert_int_equal(sf->lines[0]->requested, 50);
    assert_int_equal(sf->lines[0]->available, 12);
    assert_int_equal(sf->lines[0]->short_by, 38);
    shelfline__v1__reserve_shortfall__free_unpacked(sf, NULL);
}

static void test_promotion_line_outside_its_fences_region_is_short(void **state)
{
    assert_one_line_refused(*state, "north", "sku-a", "promo-a", SL_FAILED_PRECONDITION,
                            "the promotion's units are not in warehouses");
}

static void test_backorder_waits_for_the_inbound_when_allowed(void **state)
{
    world *w = *state;
    w->rows[FAR_A].on_hand = 0;
    line(w, 0, "sku-a", 5, "");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_FAILED_PRECONDITION);
    w->req.allow_backorder = true;
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    assert_int_equal(w->rows[NEAR_A].reserved, 3);
    assert_int_equal(w->inb[0].row.unallocated, 3);
    assert_int_equal(w->d.nallocs, 2);
    assert_string_equal(w->d.allocs[1].inbound_id, "in-1");
    assert_int_equal(w->d.allocs[1].awaiting, 3);
    Shelfline__V1__Reservation *r = answer_of(w);
    assert_int_equal(r->lines[0]->n_allocations, 2);
    assert_string_equal(r->lines[0]->allocations[1]->inbound_id, "in-1");
    assert_int_equal(r->lines[0]->allocations[1]->awaiting_qty, 3);
    assert_int_equal(r->lines[0]->allocations[1]->expected_at_ms, 3 * NOW_MS);
    shelfline__v1__reservation__free_unpacked(r, NULL);
}

static void test_a_job_sees_what_earlier_jobs_of_the_batch_took(void **state)
{
    world *w = *state;
    line(w, 0, "sku-a", 2, "");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    request(w, "r-2", "eu", 1);
    decide(w, "canon-2");
    assert_int_equal(w->out.st, SL_OK);
    /* w-near has nothing left: the second job ships from w-far. */
    assert_int_equal(w->d.nallocs, 2);
    assert_string_equal(w->d.allocs[1].warehouse_id, "w-far");
    assert_int_equal(w->rows[FAR_A].reserved, 2);
    assert_int_equal(w->d.nresv, 2);
}

/* ---- stock fences ---- */

/* Adds fence-a (see the top) from starts to ends; c-1 is a member when
 * member. */
static void with_fence(world *w, int64_t starts, int64_t ends, bool member)
{
    inv_promo_st f = promo("fence-a", starts, ends, false);
    f.row.kind = "STOCK_FENCE";
    f.row.is_fence = true;
    f.row.segment = "champions";
    f.row.quota = f.row.per_customer_limit = f.row.remaining = f.remaining0 = 2;
    f.row.price_minor = 0;
    w->promos[3] = f;
    w->fences[1] = (inv_fence_st){{"fence-a", "w-far", 2, 2}, 2};
    w->rows[FAR_A].reserved = 2;
    w->d.npromos = 4;
    w->d.nfences = 2;
    w->elig[0] = (inv_usage_row){"fence-a", "c-1", 0, 0};
    w->d.elig = w->elig;
    w->d.nelig = member ? 1 : 0;
}

static int64_t units_from(const Shelfline__V1__Reservation *r, const char *fence)
{
    int64_t n = 0;
    for (size_t i = 0; i < r->n_lines; i++)
        for (size_t k = 0; k < r->lines[i]->n_allocations; k++)
            if (strcmp(r->lines[i]->allocations[k]->stock_fence_id, fence) == 0)
                n += r->lines[i]->allocations[k]->qty;
    return n;
}

static void test_a_member_takes_fenced_units_before_nearer_free_ones(void **state)
{
    world *w = *state;
    with_fence(w, 0, 2 * NOW_MS, true);
    line(w, 0, "sku-a", 2, "");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    Shelfline__V1__Reservation *r = answer_of(w);
    assert_int_equal(units_from(r, "fence-a"), 2);
    assert_string_equal(r->lines[0]->allocations[0]->warehouse_id, "w-far");
    assert_int_equal(r->lines[0]->unit_price->minor_units, 1000); /* the list price */
    shelfline__v1__reservation__free_unpacked(r, NULL);
    assert_int_equal(w->fences[1].row.remaining, 0);
    assert_int_equal(w->promos[3].row.held, 2);
    /* Fenced units were reserved already; free stock is untouched. */
    assert_int_equal(w->rows[FAR_A].reserved, 2);
    assert_int_equal(w->rows[NEAR_A].reserved, 1);
    assert_string_equal(w->d.allocs[0].promotion_id, "fence-a");
    assert_int_equal(w->d.nusage, 1);
    assert_int_equal(w->d.usage[0].qty, 2);
}

static void test_a_non_member_never_takes_fenced_units(void **state)
{
    world *w = *state;
    with_fence(w, 0, 2 * NOW_MS, false);
    /* 2 free in w-near, 8 free in w-far: the fenced 2 are not there. */
    line(w, 0, "sku-a", 11, "");
    request(w, "r-1", "eu", 1);
    w->req.allow_split = true;
    decide(w, "canon-1");
    assert_failed(w, SL_FAILED_PRECONDITION, "can have 10");
    line(w, 0, "sku-a", 10, "");
    decide(w, "canon-2");
    assert_int_equal(w->out.st, SL_OK);
    Shelfline__V1__Reservation *r = answer_of(w);
    assert_int_equal(units_from(r, ""), 10);
    shelfline__v1__reservation__free_unpacked(r, NULL);
    assert_int_equal(w->fences[1].row.remaining, 2);
    assert_int_equal(w->promos[3].row.held, 0);
    assert_int_equal(w->rows[FAR_A].reserved, 10);
    assert_int_equal(w->rows[NEAR_A].reserved, 3);
}

static void test_a_members_line_over_the_fence_takes_fenced_then_free_units(void **state)
{
    world *w = *state;
    with_fence(w, 0, 2 * NOW_MS, true);
    line(w, 0, "sku-a", 5, "");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    Shelfline__V1__Reservation *r = answer_of(w);
    /* One warehouse (no split): w-far, its 2 fenced units then 3 free. */
    assert_int_equal(r->lines[0]->n_allocations, 2);
    assert_string_equal(r->lines[0]->allocations[0]->stock_fence_id, "fence-a");
    assert_int_equal(r->lines[0]->allocations[0]->qty, 2);
    assert_string_equal(r->lines[0]->allocations[1]->stock_fence_id, "");
    assert_int_equal(r->lines[0]->allocations[1]->qty, 3);
    assert_string_equal(r->lines[0]->allocations[1]->warehouse_id, "w-far");
    shelfline__v1__reservation__free_unpacked(r, NULL);
    assert_int_equal(w->fences[1].row.remaining, 0);
    assert_int_equal(w->rows[FAR_A].reserved, 5);
    assert_int_equal(w->d.nallocs, 2);
    assert_int_equal(w->d.allocs[1].part_no, 1);
}

static void test_a_fence_outside_its_window_gives_its_units_to_nobody(void **state)
{
    world *w = *state;
    with_fence(w, 5 * NOW_MS, 6 * NOW_MS, true);
    line(w, 0, "sku-a", 2, "");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_OK);
    Shelfline__V1__Reservation *r = answer_of(w);
    assert_int_equal(units_from(r, ""), 2);
    assert_string_equal(r->lines[0]->allocations[0]->warehouse_id, "w-near");
    shelfline__v1__reservation__free_unpacked(r, NULL);
    assert_int_equal(w->fences[1].row.remaining, 2);
    w->promos[3].row.ends_ms = NOW_MS; /* past its end, not yet reaped */
    w->promos[3].row.starts_ms = 0;
    line(w, 0, "sku-a", 9, "");
    request(w, "r-2", "eu", 1);
    w->req.allow_split = true;
    decide(w, "canon-2");
    assert_int_equal(w->out.st, SL_FAILED_PRECONDITION);
    assert_non_null(strstr(w->out.err.msg, "can have 8"));
    assert_int_equal(w->fences[1].row.remaining, 2);
}

static void test_a_members_failed_request_gives_the_fenced_units_back(void **state)
{
    world *w = *state;
    with_fence(w, 0, 2 * NOW_MS, true);
    line(w, 0, "sku-a", 2, "");
    line(w, 1, "sku-b", 99, "");
    request(w, "r-1", "eu", 2);
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_FAILED_PRECONDITION);
    assert_int_equal(w->fences[1].row.remaining, 2);
    assert_int_equal(w->promos[3].row.remaining, 2);
    assert_int_equal(w->promos[3].row.held, 0);
    assert_int_equal(w->rows[FAR_A].reserved, 2);
    assert_int_equal(w->d.nallocs, 0);
    assert_int_equal(w->d.nundo, 0);
    for (size_t i = 0; i < w->d.nusage; i++)
        assert_int_equal(w->d.usage[i].qty, 0);
}

static void test_a_regions_fence_is_only_for_orders_in_that_region(void **state)
{
    world *w = *state;
    with_fence(w, 0, 2 * NOW_MS, true); /* fence-a is for region "eu" */
    line(w, 0, "sku-a", 9, "");
    request(w, "r-1", "north", 1); /* w-far serves "north" too */
    decide(w, "canon-1");
    assert_int_equal(w->out.st, SL_FAILED_PRECONDITION);
    assert_non_null(strstr(w->out.err.msg, "can have 8"));
    assert_int_equal(w->fences[1].row.remaining, 2);
    /* A warehouse's fence is for any region the warehouse serves. */
    w->promos[3].row.region = "";
    w->promos[3].row.warehouse_id = "w-far";
    request(w, "r-2", "north", 1);
    decide(w, "canon-2");
    assert_int_equal(w->out.st, SL_OK);
    assert_int_equal(w->fences[1].row.remaining, 0);
    assert_int_equal(w->rows[FAR_A].reserved, 9);
}

static void test_a_stock_fence_named_as_a_promotion_is_not_found(void **state)
{
    world *w = *state;
    with_fence(w, 0, 2 * NOW_MS, true);
    line(w, 0, "sku-a", 1, "fence-a");
    request(w, "r-1", "eu", 1);
    decide(w, "canon-1");
    assert_failed(w, SL_NOT_FOUND, "lines[0].promotion_id: unknown promotion \"fence-a\"");
    assert_int_equal(w->fences[1].row.remaining, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_accepted_line_is_held_in_the_nearest_warehouse_with_enough),
        T(test_hold_expires_after_the_requested_ttl_when_given),
        T(test_stored_id_with_the_same_request_replays_its_first_answer),
        T(test_stored_id_with_another_request_is_already_exists),
        T(test_duplicate_in_the_same_batch_replays_the_first_answer),
        T(test_region_without_an_active_warehouse_is_invalid_argument),
        T(test_unknown_sku_is_not_found_naming_its_line),
        T(test_unknown_promotion_is_not_found),
        T(test_promotion_of_another_sku_is_invalid_argument),
        T(test_promotion_not_started_is_failed_precondition),
        T(test_promotion_ended_or_past_its_end_is_failed_precondition),
        T(test_promotion_line_takes_the_fence_at_the_promotion_price),
        T(test_customer_over_the_promotion_limit_is_exhausted_and_earlier_lines_undone),
        T(test_sold_out_promotion_is_exhausted),
        T(test_promotion_with_fewer_units_left_than_asked_is_exhausted),
        T(test_short_line_fails_the_request_with_a_shortfall_and_undoes_it),
        T(test_promotion_line_outside_its_fences_region_is_short),
        T(test_backorder_waits_for_the_inbound_when_allowed),
        T(test_a_job_sees_what_earlier_jobs_of_the_batch_took),
        T(test_a_member_takes_fenced_units_before_nearer_free_ones),
        T(test_a_non_member_never_takes_fenced_units),
        T(test_a_members_line_over_the_fence_takes_fenced_then_free_units),
        T(test_a_fence_outside_its_window_gives_its_units_to_nobody),
        T(test_a_members_failed_request_gives_the_fenced_units_back),
        T(test_a_regions_fence_is_only_for_orders_in_that_region),
        T(test_a_stock_fence_named_as_a_promotion_is_not_found),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
