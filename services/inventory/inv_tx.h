/*
 * inv_tx: the frame every stock-changing transaction of the inventory
 * service is built on.
 *
 *   inv_tx_init      -> inv_tx_lock(skus, ids)   advisory locks, sorted
 *                    -> inv_tx_load(skus)        network + stock rows
 *                       (or both as inv_tx_lock_load, one round trip)
 *                    -> change rows in memory (inv_tx_row, inv_tx_ledger)
 *                    -> inv_tx_flush             one stock upsert, the
 *                       STOCK_CHANGED events of the ledger entries and the
 *                       LOW_STOCK / OUT_OF_STOCK / BACK_IN_STOCK events of
 *                       every SKU x region whose status changed.
 *
 * Locking discipline (the reason this module exists):
 *  - Every transaction that changes a SKU's stock, its reservations, its
 *    promotions or its inbound shipments first takes the SKU's advisory
 *    lock, plus a lock on each idempotency key / reservation id it uses,
 *    all in one statement in one global order (sorted 64-bit hashes).  So
 *    no two transactions on one SKU overlap (stock rows and the region
 *    sums read under the lock are exact), lock waits never form a cycle,
 *    and one id is never inserted twice concurrently.
 *  - The locks are taken before the transaction's first write, so its
 *    transaction id (which orders the outbox) is assigned after every
 *    earlier holder committed: events of one SKU are served in commit
 *    order.
 *  - The stock table's CHECK (0 <= reserved <= on_hand) backs this up.
 *
 * Not thread-safe: one inv_tx per transaction attempt; memory comes from
 * the arena given to inv_tx_init.
 */
#ifndef INV_TX_H
#define INV_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inv_store.h"
#include "sl_arena.h"
#include "sl_auth.h"
#include "sl_db.h"
#include "sl_events.h"
#include "sl_status.h"

/* A stock row of a loaded SKU: current values and the values as loaded. */
typedef struct inv_row {
    const char *sku;
    const char *warehouse_id;
    int64_t on_hand, reserved, safety_stock, low_stock_threshold;
    int64_t on_hand0, reserved0, threshold0;
    int64_t updated_ms;
    bool exists; /* in the database (else created in memory) */
} inv_row;

typedef struct inv_ledger_note {
    inv_row *row;
    int64_t delta, id, created_ms, on_hand_after;
    const char *reason, *reference;
    sl_audit audit; /* the transaction's when noted */
} inv_ledger_note;

/* A region whose available stock of a SKU crossed zero in this
 * transaction: counted in shelfline_inventory_stockouts_total or
 * shelfline_inventory_back_in_stock_total once the transaction commits. */
typedef struct inv_tx_crossing {
    const char *region;
    bool out; /* OUT_OF_STOCK; else BACK_IN_STOCK */
    struct inv_tx_crossing *next;
} inv_tx_crossing;

typedef struct inv_tx {
    sl_db_conn *conn;
    sl_events *events;
    sl_arena *arena;
    int64_t now_ms; /* the transaction's now(), set by inv_tx_lock */
    inv_route *routes;
    size_t nroutes;
    inv_product_row *products; /* sorted by SKU */
    size_t nproducts;
    inv_row **rows; /* sorted by (sku, warehouse) */
    size_t nrows, caprows;
    inv_ledger_note *ledger;
    size_t nledger, capledger;
    size_t nledger_written; /* entries [nledger_written, nledger) not inserted yet */
    sl_event_pub *pub;      /* events queued for inv_tx_send_events */
    size_t npub, cappub;
    inv_tx_crossing *crossings; /* queued by inv_tx_publish, not counted yet */
    /* Who the changes noted from now on are made for (the ledger's actor,
     * request and trace ids): "system" until the caller sets it, usually
     * to sl_call_audit(call); a batch of several calls sets it before
     * each call's changes.  The strings must outlive the transaction. */
    sl_audit audit;
} inv_tx;

void inv_tx_init(inv_tx *tx, sl_db_conn *conn, sl_events *events, sl_arena *arena);

/* Locks the SKUs and the ids (reservation ids, idempotency keys; any
 * strings) in the global order and sets tx->now_ms.  Duplicates are fine.
 * Call once, before any write. */
sl_status inv_tx_lock(inv_tx *tx, const char *const *skus, size_t nskus, const char *const *ids,
                      size_t nids, sl_err *err);

/* Loads the network and the products and stock rows of skus (duplicates
 * fine).  Call once, after inv_tx_lock. */
sl_status inv_tx_load(inv_tx *tx, const char *const *skus, size_t n, sl_err *err);

/* inv_tx_lock then inv_tx_load in one round trip, and when resv is not
 * NULL the reservations named by ids, and when members is not NULL the
 * (stock fence, customer) pairs of the live fences of skus whose members
 * include one of customers (inv_locked_read.members; rows in the arena),
 * read after the locks were granted. */
sl_status inv_tx_lock_load(inv_tx *tx, const char *const *skus, size_t nskus,
                           const char *const *ids, size_t nids, inv_resv_row **resv, size_t *nresv,
                           const char *const *customers, size_t ncustomers, inv_usage_row **members,
                           size_t *nmembers, sl_err *err);

/* The loaded product, or NULL when the SKU does not exist. */
const inv_product_row *inv_tx_product(const inv_tx *tx, const char *sku);

/* The row of (sku, warehouse): NULL when absent and !create; created in
 * memory with zeros when create (sku must be loaded).  NULL when out of
 * memory. */
inv_row *inv_tx_row(inv_tx *tx, const char *sku, const char *warehouse_id, bool create);

/* The routes serving region, nearest first (p50, p90, id); *n may be 0. */
const inv_route *inv_tx_region(const inv_tx *tx, const char *region, size_t *n);

/* The route of warehouse to region, or NULL (inactive or not serving). */
const inv_route *inv_tx_route(const inv_tx *tx, const char *warehouse_id, const char *region);

/* Writes a ledger entry for row (on_hand += delta now, in memory and in
 * the ledger table); its STOCK_CHANGED event is published by flush.
 * *note (may be NULL) receives the entry. */
sl_status inv_tx_ledger(inv_tx *tx, inv_row *row, int64_t delta, const char *reason,
                        const char *reference, inv_ledger_note **note, sl_err *err);

/* Writes every row change, publishes the ledger entries' STOCK_CHANGED
 * events and the region transitions (each OUT_OF_STOCK and BACK_IN_STOCK
 * is counted by region after the transaction commits).  Call last, once. */
sl_status inv_tx_flush(inv_tx *tx, sl_err *err);

/* The two halves of inv_tx_flush, for callers that write the stock
 * changes themselves together with other rows (inv_reserve): the changed
 * rows as increments (arena memory), and the rest: the ledger entries
 * noted by inv_tx_ledger (inserted only now, in one round trip, which is
 * when their ids and times become known), their STOCK_CHANGED events and
 * the region transitions, sent with any queued by inv_tx_event in one
 * more round trip. */
sl_status inv_tx_deltas(inv_tx *tx, inv_stock_delta **out, size_t *n, sl_err *err);
sl_status inv_tx_publish(inv_tx *tx, sl_err *err);

/* Queues an event (payload in memory that lives as long as the
 * transaction's arena) for the next inv_tx_send_events. */
sl_status inv_tx_event(inv_tx *tx, const char *topic, const char *key,
                       const ProtobufCMessage *payload, sl_err *err);

/* Writes the queued events to the outbox, in order, in as few round trips
 * as the pipeline allows. */
sl_status inv_tx_send_events(inv_tx *tx, sl_err *err);

/* Fills a StockLevel (the transaction's arena) from a row, with its
 * incoming units read in the transaction (so after any receipt it made).
 * Returns SL_OK, SL_RESOURCE_EXHAUSTED on OOM, or the store's status. */
sl_status inv_tx_stock_level(inv_tx *tx, const inv_row *row, Shelfline__V1__StockLevel **out,
                             sl_err *err);

/* The LedgerEntry.Reason of a ledger reason name, and back. */
Shelfline__V1__LedgerEntry__Reason inv_reason_of(const char *name);
const char *inv_reason_name(Shelfline__V1__LedgerEntry__Reason r);

/* A LedgerEntry message (arena memory) of a note. */
Shelfline__V1__LedgerEntry *inv_tx_ledger_entry(sl_arena *a, const inv_ledger_note *n);

#endif
