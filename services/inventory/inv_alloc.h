/*
 * inv_alloc: the pure stock logic of the inventory service -- where a
 * reserved line is taken from, and how a SKU stands in a customer region.
 *
 * No I/O and no allocation: callers pass their candidates and get indices
 * back, so every rule is unit-tested without a database (see
 * tests/unit/test_inv_alloc.c).
 *
 * Allocation of one line of qty units for a region, over the warehouses
 * that serve the region (each with its available units and transit time):
 *  1. One warehouse that can ship the whole line from stock, the nearest
 *     (p50, then p90, then warehouse id).
 *  2. With allow_split: several warehouses, nearest first; among equally
 *     near ones the one holding more first (fewer parts).
 *  3. With allow_backorder, when stock is short: the shortfall waits for
 *     open inbound shipments' unallocated units.  Without allow_split all
 *     parts of the line stay in one warehouse (its stock, then its inbound
 *     shipments, earliest first; the nearest warehouse that can cover the
 *     line); with it, any serving warehouse's inbound, earliest first.
 *  4. Otherwise the line cannot be had: the answer says how many units
 *     could and why.
 * A request is all-or-nothing: the caller applies a line's parts to its
 * candidates before allocating the next line, and undoes them all when a
 * line fails.
 */
#ifndef INV_ALLOC_H
#define INV_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A serving warehouse with units to take (stock, or a promotion's fence). */
typedef struct inv_source {
    const char *warehouse_id;
    int p50, p90;      /* transit to the region, days */
    int64_t available; /* units free now (may be 0) */
} inv_source;

/* An open inbound shipment to a serving warehouse. */
typedef struct inv_inbound_src {
    const char *inbound_id;
    const char *warehouse_id;
    int p50, p90;
    int64_t unallocated; /* units still expected and not promised */
    int64_t expected_at_ms;
} inv_inbound_src;

/* One part of an allocation: qty units from stock[source] (inbound < 0) or
 * awaited from inbound[inbound] (source < 0). */
typedef struct inv_part {
    int source;
    int inbound;
    int64_t qty;
} inv_part;

typedef struct inv_alloc_in {
    const inv_source *stock;
    size_t nstock;
    const inv_inbound_src *inbound;
    size_t ninbound;
    int64_t qty;
    bool allow_split;
    bool allow_backorder;
} inv_alloc_in;

typedef struct inv_alloc_out {
    inv_part *parts; /* caller's array of at least nstock + ninbound + 1 */
    size_t nparts;
    /* On failure: the units that could be had (stock, plus unallocated
     * inbound units when backorders are allowed) and a static reason. */
    int64_t could_have;
    const char *reason;
} inv_alloc_out;

/* Allocates one line (see the rules above).  Returns true with out->parts
 * filled (quantities summing to in->qty, stock parts before inbound parts),
 * or false with could_have and reason.  Does not modify the candidates. */
bool inv_alloc_line(const inv_alloc_in *in, inv_alloc_out *out);

/* ---- region status ---- */

typedef enum inv_region_status {
    INV_IN_STOCK,
    INV_LOW_STOCK,
    INV_OUT_OF_STOCK,
} inv_region_status;

/* A region's status from its available units and threshold: 0 is out of
 * stock, at most the threshold is low, else in stock. */
inv_region_status inv_region_status_of(int64_t available, int64_t threshold);

/* The event a change of a region's units and threshold calls for, or NULL:
 * "OUT_OF_STOCK" when it fell to 0, "BACK_IN_STOCK" when it rose from 0,
 * "LOW_STOCK" when it went from in stock to low. */
const char *inv_region_transition(int64_t before, int64_t before_threshold, int64_t after,
                                  int64_t after_threshold);

#endif
