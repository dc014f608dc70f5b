/*
 * inv_decide: the decision on one Reserve request inside a combined batch
 * (inv_reserve) -- pure logic over the batch's in-memory state.
 *
 * Why a module of its own: the decision is where every reservation rule
 * lives (idempotent replays, the checks against the catalogue and the
 * promotions, per-customer limits and quotas, where the units come from,
 * all-or-nothing per request), and it does no I/O.  inv_reserve loads the
 * batch's state from the database into an inv_decide_state, calls
 * inv_decide for each job in queue order, and writes what the decisions
 * changed; tests/unit/test_inv_decide.c drives the rules without a
 * database.
 *
 * Steps of one decision (inv_decide):
 *  1. Replay: a reservation id already stored, or accepted earlier in the
 *     same batch, answers with its first result (replayed) -- or
 *     ALREADY_EXISTS when the request is not the same (canonical bytes).
 *  2. Checks before anything changes: the region is served by an active
 *     warehouse (INVALID_ARGUMENT), every SKU exists (NOT_FOUND), every
 *     promotion named exists (NOT_FOUND), is for the line's SKU
 *     (INVALID_ARGUMENT), has started and has not ended
 *     (FAILED_PRECONDITION).
 *  3. Line by line against the working state: a promotion line is held
 *     to the customer's limit and the promotion's remaining quota
 *     (RESOURCE_EXHAUSTED, the job's earlier lines undone) and takes units
 *     from the promotion's fences in serving warehouses; any other line
 *     from the serving warehouses' stock and, with allow_backorder, from
 *     open inbound shipments (inv_alloc_line).  When the customer is a
 *     member of running stock fences of the line's SKU in serving
 *     warehouses (elig), the line takes fenced units first: the whole
 *     line from fenced units if their warehouses allow it, else from
 *     fenced and free units together, the fenced ones first in each
 *     warehouse (fence_line).  Nobody else ever sees fenced units: they
 *     are in the rows' reserved.  A line's parts are applied
 *     at once, with an undo log, so the next line (and the next job) sees
 *     them.  A line that cannot be had is noted and the next one tried.
 *  4. Any line short: every change of the job is undone and it fails
 *     FAILED_PRECONDITION with a message naming each short line and a
 *     packed ReserveShortfall.
 *  5. Accepted: the Reservation (HELD, expiring after hold_ttl_ms or
 *     INV_DEFAULT_HOLD_MS) is packed as the answer, its reservation and
 *     allocation rows are added to the batch's writes, and the id is noted
 *     so a duplicate later in the batch replays it.
 *
 * Not thread-safe: one state per batch attempt; all memory comes from the
 * state's arena.
 */
#ifndef INV_DECIDE_H
#define INV_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inv_store.h"
#include "inv_tx.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_status.h"

/* The answer to one job.  st OK: result is the packed Reservation
 * (replayed when it is an earlier answer); FAILED_PRECONDITION for a
 * shortfall: shortfall is the packed ReserveShortfall (length 0 when it
 * could not be packed); any other status: err says why. */
typedef struct inv_decision {
    sl_status st;
    sl_err err;
    const uint8_t *result;
    size_t result_len;
    bool replayed;
    const uint8_t *shortfall;
    size_t shortfall_len;
} inv_decision;

/* A promotion of the batch: row.remaining and row.held are current, the
 * *0 fields as loaded (the writes are the differences). */
typedef struct inv_promo_st {
    inv_promo_row row;
    int64_t remaining0, held0;
} inv_promo_st;

/* A promotion's fence in one warehouse: row.remaining is current. */
typedef struct inv_fence_st {
    inv_fence_row row;
    int64_t remaining0;
} inv_fence_st;

/* A customer's units of a promotion (held or bought) and the limit. */
typedef struct inv_usage_st {
    const char *promotion_id, *customer_id;
    int64_t qty, qty0, limit;
} inv_usage_st;

/* An open inbound shipment: row.unallocated is current. */
typedef struct inv_inbound_st {
    inv_open_inbound row;
    int64_t unallocated0;
} inv_inbound_st;

/* One change of the working state, undone in reverse order when a job
 * fails after some of its lines were applied. */
typedef enum inv_undo_kind {
    INV_UNDO_ROW,   /* inv_row: reserved += q */
    INV_UNDO_INB,   /* inv_inbound_st: unallocated -= q */
    INV_UNDO_FENCE, /* inv_fence_st: remaining -= q (a promotion's or a stock fence's part) */
    INV_UNDO_PROMO, /* inv_promo_st: remaining -= q, held += q */
    INV_UNDO_USAGE, /* inv_usage_st: qty += q */
} inv_undo_kind;

typedef struct inv_undo {
    inv_undo_kind kind;
    void *p;
    int64_t q;
} inv_undo;

/* A reservation accepted earlier in this batch (a duplicate job answers
 * from it). */
typedef struct inv_accepted {
    const char *id;
    const uint8_t *canon, *result;
    size_t canon_len, result_len;
} inv_accepted;

/* What the decisions of one batch attempt read and change.  The caller
 * fills the inputs and sizes acc and resv for one entry per job; the
 * decisions append to acc, resv, allocs and usage (grown in the arena)
 * and change the current counters of tx's stock rows, promos, fences,
 * usage and inb. */
typedef struct inv_decide_state {
    sl_arena *arena;
    /* In: the network, products, stock rows and now_ms (only looked up,
     * never created here). */
    inv_tx *tx;
    const inv_resv_row *existing; /* stored reservations of the batch's ids */
    size_t nexisting;
    inv_promo_st *promos;
    size_t npromos;
    inv_fence_st *fences;
    size_t nfences;
    inv_usage_st *usage; /* a customer's usage appears when first needed */
    size_t nusage, capusage;
    inv_inbound_st *inb; /* loaded only when a job allows backorders */
    size_t ninb;
    /* (stock fence, customer) pairs: the customer is a member of the
     * fence, which is live for one of the batch's SKUs; the fences are
     * among promos (is_fence) and their parts among fences. */
    const inv_usage_row *elig;
    size_t nelig;
    /* Out: accepted ids, the rows to write, the undo log. */
    inv_accepted *acc;
    size_t nacc;
    inv_resv_row *resv;
    size_t nresv;
    inv_alloc_row *allocs;
    size_t nallocs, capallocs;
    inv_undo *undo;
    size_t nundo, capundo;
} inv_decide_state;

/* Decides one validated request (inv_valid_reserve) whose canonical bytes
 * (what replays are compared on) are canon: the steps above.  *out is the
 * job's answer, in the state's arena.  Returns OK whenever the job was
 * decided, whatever the answer; RESOURCE_EXHAUSTED (in err) when the
 * arena ran out, which fails the whole batch attempt. */
sl_status inv_decide(inv_decide_state *d, const Shelfline__V1__ReserveRequest *req,
                     const uint8_t *canon, size_t canon_len, inv_decision *out, sl_err *err);

#endif
