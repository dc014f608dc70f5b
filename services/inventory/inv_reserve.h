/*
 * inv_reserve: Reserve, with concurrent reservations of a process combined
 * into one transaction.
 *
 * Why: every reservation of a hot SKU must serialize on that SKU (no
 * oversell), so one transaction per reservation caps a flash sale at one
 * commit per lock hand-over.  Here each process runs a few combiner
 * threads; a Reserve handler queues its job and waits, and a combiner
 * takes every queued job (up to SHELFLINE_INVENTORY_BATCH_MAX) into one
 * transaction:
 *   lock all SKUs and reservation ids (inv_tx) -> look the ids up
 *   (idempotent retries) -> load products, stock rows, network, promotions,
 *   fences, usage and open inbound shipments of the whole batch -> decide
 *   each job in queue order against the in-memory state (inv_decide:
 *   all-or-nothing per job, with an undo log) -> write every accepted
 *   reservation, allocation and counter change with one statement per
 *   table -> region events -> COMMIT.
 * One job's failure (shortfall, bad input) is its own answer and does not
 * affect the others.  If the batch transaction itself fails (an error not
 * retried by sl_db_tx), each job is run again alone, so one poisoned
 * request cannot fail its neighbours.
 *
 * The queues and threads are inv_batch's; a job goes to the queue of its
 * smallest SKU (by hash): a hot SKU's reservations meet in one queue and
 * one transaction instead of queueing for its lock in several.
 *
 * Replicas combine independently; their batches meet on the advisory
 * locks like single transactions would.
 */
#ifndef INV_RESERVE_H
#define INV_RESERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inv_app.h"
#include "inv_batch.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_auth.h"
#include "sl_status.h"

typedef struct inv_reserve_job {
    inv_batch_job base; /* private to the combiner */
    /* In: a validated request (inv_valid_reserve), its canonical bytes
     * (the packed request with hold_ttl_ms 0: what idempotent retries are
     * compared on), the call's deadline and the arena the answer goes to
     * (used only by the combiner while the caller waits). */
    const Shelfline__V1__ReserveRequest *req;
    sl_audit audit; /* the caller's, recorded on the reservation */
    const uint8_t *canon;
    size_t canon_len;
    sl_arena *arena;
    /* Out: st/err; on OK the packed Reservation and whether it is a
     * replay; on FAILED_PRECONDITION a packed ReserveShortfall. */
    sl_status st;
    sl_err err;
    const uint8_t *result;
    size_t result_len;
    bool replayed;
    const uint8_t *shortfall;
    size_t shortfall_len;
} inv_reserve_job;

/* Starts app->cfg.combiners threads.  The caller owns *out
 * (inv_combiner_stop).  RESOURCE_EXHAUSTED when a thread cannot start. */
sl_status inv_combiner_start(inv_app *app, inv_combiner **out, sl_err *err);

/* Stops and joins the threads (jobs still queued are answered
 * UNAVAILABLE) and frees the combiner.  NULL is a no-op. */
void inv_combiner_stop(inv_combiner *c);

/* Queues job and blocks until a combiner answered it (job->st). */
void inv_reserve_run(inv_combiner *c, inv_reserve_job *job);

#endif
