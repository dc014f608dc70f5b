/*
 * inv_resv: the end of a reservation's life -- commit, release and expiry
 * -- and reading one back.
 *
 * One function closes any number of reservations inside the caller's
 * transaction, so Commit, Release and the reaper share exactly the same
 * accounting:
 *   COMMIT   units in stock leave it: on_hand and reserved drop (a
 *            SHIPMENT ledger entry per SKU x warehouse), promotion units
 *            move from held to sold; units still awaited from an inbound
 *            stay promised and ship on receipt.
 *   RELEASE, EXPIRE
 *            units in stock are freed (reserved drops) -- or, for a
 *            promotion still running, go back to its fence; awaited units
 *            are given back to their inbound; the customer's promotion
 *            usage drops.
 * Only HELD reservations change (the status update is guarded by status =
 * 'HELD' and runs under the reservation's lock), so two replicas reaping
 * the same hold release it exactly once.  A COMMIT of a hold already past
 * its TTL expires it instead.
 */
#ifndef INV_RESV_H
#define INV_RESV_H

#include <stdbool.h>
#include <stddef.h>

#include "inv_app.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_status.h"

typedef enum inv_close_kind {
    INV_CLOSE_COMMIT,
    INV_CLOSE_RELEASE,
    INV_CLOSE_EXPIRE,
} inv_close_kind;

typedef struct inv_close_outcome {
    bool found;
    bool changed;                     /* this call moved it out of HELD */
    bool expired;                     /* a COMMIT found it past its TTL and expired it */
    Shelfline__V1__Reservation *resv; /* its state after the call (found only) */
} inv_close_outcome;

/* Closes ids[0..n) as kind, in the caller's transaction (conn), taking the
 * needed locks itself (call it first in the transaction).  out[i] tells
 * what happened to ids[i].  EXPIRE skips holds not yet past their TTL.
 * audits[i] (audits may be NULL: background work, "system") is who closes
 * ids[i], recorded on its ledger entries. */
sl_status inv_resv_close(sl_db_conn *conn, sl_events *events, sl_arena *a, const char *const *ids,
                         const sl_audit *audits, size_t n, inv_close_kind kind,
                         inv_close_outcome *out, sl_err *err);

/* Commit and Release calls of a process combined (inv_batch): one
 * transaction closes every queued reservation of one kind, sharing the
 * locks, the reads and COMMIT (SHELFLINE_INVENTORY_COMBINERS threads and
 * SHELFLINE_INVENTORY_BATCH_MAX per batch, as for Reserve).  If a batch's
 * transaction fails, each of its reservations is closed alone. */
typedef struct inv_closer inv_closer;

/* The caller owns *out (inv_closer_stop). */
sl_status inv_closer_start(inv_app *app, inv_closer **out, sl_err *err);

/* Stops the threads (queued calls answer UNAVAILABLE); NULL is a no-op. */
void inv_closer_stop(inv_closer *c);

/* Closes id as kind (COMMIT or RELEASE) for audit (the caller's, see
 * sl_call_audit) in the next batch, within deadline_ms
 * (sl_call_deadline_ms).  *out as from inv_resv_close, its reservation in
 * arena memory. */
sl_status inv_closer_run(inv_closer *c, const char *id, const sl_audit *audit, inv_close_kind kind,
                         int64_t deadline_ms, sl_arena *arena, inv_close_outcome *out, sl_err *err);

/* A reservation's current state (*out NULL when unknown). */
sl_status inv_resv_get(sl_db_conn *conn, sl_arena *a, const char *id,
                       Shelfline__V1__Reservation **out, sl_err *err);

#endif
