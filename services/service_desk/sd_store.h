/*
 * sd_store: every SQL statement of the service-desk service (named,
 * prepared, parameterized) and the loaders that turn rows into messages.
 */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sd_eta.h"
#include "sd_sla.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_db.h"
#include "sl_events.h"

/* Registers the statement table on db. */
sl_status sd_store_register(sl_db *db, sl_err *err);

/* One allocation of an order line as stored. */
typedef struct sd_part {
    int line_no, part_no;
    const char *warehouse_id;
    int64_t qty;
    const char *inbound_id; /* "" for stock */
    int64_t promised_expected_ms, expected_ms;
    int slips;
    int transit_p50, transit_p90;
    const char *delay_reason;
    sd_date promised_ship, promised_p50, promised_p90;
    sd_confidence promised_conf;
    int64_t received_ms; /* when its inbound was received (Unix ms); 0: not yet */
} sd_part;

/* An order with everything the handlers need. */
typedef struct sd_order_rec {
    Shelfline__V1__Order *order; /* the message, arena memory */
    const char *status;          /* "PLACED" ... */
    const char *fingerprint;
    int slips;
    int64_t granted_minor;
    sd_date promised_p50;
    bool has_carrier_promise; /* UpdateShipment gave a promised date */
    sd_date carrier_promised; /* the carrier's latest promised delivery date */
    int64_t delivered_at_ms;  /* when it was delivered (Unix ms); 0: not yet */
    sd_part *parts;
    size_t n_parts;
} sd_order_rec;

/* Loads order_id on conn into *out (arena memory): the order, its lines
 * and parts in one round trip; for_update locks the order row (inside a
 * transaction).  NOT_FOUND naming the id; INTERNAL naming a column the
 * rows lack. */
sl_status sd_store_load_order(sl_db_conn *conn, const char *order_id, bool for_update, sl_arena *a,
                              sd_order_rec *out, sl_err *err);

/* Reads order_id as sd_store_load_order does, in a read-only REPEATABLE
 * READ transaction of its own (one snapshot, one round trip for the
 * reads), within deadline_ms (as sl_call_deadline_ms; 0 or INT64_MAX:
 * none).  A pooled connection found broken is replaced and the read
 * retried (sl_db_tx).  NOT_FOUND naming the id. */
sl_status sd_store_read_order(sl_db *db, int64_t deadline_ms, const char *order_id, sl_arena *a,
                              sd_order_rec *out, sl_err *err);

/* The notification table as the feed's sequencer numbers it (see
 * common/sl_outbox.h, "tables of a service's own"): rows are written
 * without an id, and get notification_id after they commit, in an order a
 * cursor "id > after_id" follows without ever passing one that commits
 * later -- no writers' lock.  Added to the service's sl_events at start. */
extern const sl_outbox_table sd_store_notif_table;

/* Starts writing notifications in conn's transaction: ev's sequencer gives
 * them their ids once it commits, and every replica's WatchNotifications
 * streams wake (sl_events_written).  Nothing is locked. */
sl_status sd_store_notif_begin(sl_db_conn *conn, sl_events *ev, sl_err *err);

/* ---- an order's life (inside the caller's transaction) ---- */

/* A new order as PlaceOrder records it. */
typedef struct sd_new_order {
    const Shelfline__V1__PlaceOrderRequest *req;
    const Shelfline__V1__Reservation *resv; /* inventory's allocation */
    const char *fingerprint;
    int64_t placed_at;
    sd_order_eta promise;
    const sd_line_eta *part_etas; /* per allocation, in reservation order */
} sd_new_order;

/* Records the order, its lines and parts; *inserted is false (and nothing
 * is written) when the order id is recorded already. */
sl_status sd_store_insert_order(sl_db_conn *conn, const sd_new_order *o, bool *inserted,
                                sl_err *err);

/* Moves order_id from status `from` to `to`; *changed is false when it
 * was not in `from`. */
sl_status sd_store_order_set_status(sl_db_conn *conn, const char *order_id, const char *from,
                                    const char *to, bool *changed, sl_err *err);

/* Cancels order_id if it is PLACED (*changed says whether it was). */
/* Records the call this thread serves as the author of order_id's move to
 * status when a consumer (actor "system") applied it first; the reason
 * replaces the consumer's for a cancellation.  No-op otherwise. */
sl_status sd_store_order_claim(sl_db_conn *conn, const char *order_id, const char *status,
                               const char *reason, sl_err *err);
sl_status sd_store_order_cancel(sl_db_conn *conn, const char *order_id, const char *reason,
                                bool *changed, sl_err *err);

/* Sets a shipment step's status, carrier and tracking (DELIVERED also
 * stamps the delivery time); carrier_promised, unless NULL, replaces the
 * carrier's promised delivery date. */
sl_status sd_store_order_ship(sl_db_conn *conn, const char *order_id, const char *status,
                              const char *carrier, const char *tracking,
                              const sd_date *carrier_promised, sl_err *err);

/* An order of a customer's list. */
typedef struct sd_order_key {
    const char *order_id;
    int64_t placed_at_ms;
} sd_order_key;

/* At most limit orders of customer_id, newest first, after the page
 * position (after_ms, after_id) (both NULL for the first page). */
sl_status sd_store_orders_by_customer(sl_db_conn *conn, const char *customer_id,
                                      const char *after_ms, const char *after_id, int64_t limit,
                                      sl_arena *a, sd_order_key **out, size_t *n, sl_err *err);

/* ---- delays (inside the consumer's transactions) ---- */

/* At most limit live orders after after_order (in id order) with a part
 * still expecting inbound_id before before_ms. */
sl_status sd_store_orders_on_inbound(sl_db_conn *conn, const char *inbound_id, int64_t before_ms,
                                     const char *after_order, int64_t limit, sl_arena *a,
                                     const char ***ids, size_t *n, sl_err *err);

/* Moves the order's parts on inbound_id expected before new_ms to new_ms
 * (slips + 1, with the reason). */
sl_status sd_store_parts_delay(sl_db_conn *conn, const char *order_id, const char *inbound_id,
                               int64_t new_ms, const char *reason, sl_err *err);

/* Stamps received_ms on every part still waiting for inbound_id
 * (INBOUND_RECEIVED; the first receipt counts). */
sl_status sd_store_parts_received(sl_db_conn *conn, const char *inbound_id, int64_t received_ms,
                                  sl_err *err);

/* Counts a slip on the order and adds grant_minor to what was granted. */
sl_status sd_store_order_slip(sl_db_conn *conn, const char *order_id, int64_t grant_minor,
                              sl_err *err);

/* One slip of an order's ETA, as recorded in eta_change. */
typedef struct sd_eta_change {
    const char *order_id;
    int slip_no;
    const char *inbound_id;
    int64_t new_expected_ms;
    sd_date old_p50, old_p90, new_p50, new_p90;
    const char *reason;
} sd_eta_change;

/* Records c once (a replay changes nothing). */
sl_status sd_store_eta_change(sl_db_conn *conn, const sd_eta_change *c, sl_err *err);

/* One page of order_id's ETA history (ListEtaChanges), oldest first: the
 * slips after after_slip, at most limit (*more says whether others
 * follow), in a read-only transaction within deadline_ms, arena memory.
 * NOT_FOUND naming an unknown order; an order that never moved has none. */
sl_status sd_store_eta_changes(sl_db *db, int64_t deadline_ms, const char *order_id, int after_slip,
                               int limit, sl_arena *a, Shelfline__V1__EtaChange ***out, size_t *n,
                               bool *more, sl_err *err);

/* Records the coupon of (order_id, slip_no) once. */
sl_status sd_store_compensation(sl_db_conn *conn, const char *order_id, int slip_no,
                                const char *coupon, int64_t value_minor, const char *currency,
                                sl_err *err);

/* ---- tickets ---- */

/* A ticket as stored: the message's stored fields (its two SLA clocks are
 * left for the caller to compute), and what the clocks need. */
typedef struct sd_ticket_rec {
    Shelfline__V1__Ticket *msg;
    const char *fingerprint;
    int64_t first_response_ms, resolved_ms; /* 0: not yet */
    sd_sla_event *events;                   /* PAUSE / RESUME in order */
    size_t n_events;
} sd_ticket_rec;

/* Reads ticket_id in a read-only transaction within deadline_ms (arena
 * memory); NOT_FOUND naming the id. */
sl_status sd_store_ticket_read(sl_db *db, int64_t deadline_ms, const char *ticket_id, sl_arena *a,
                               sd_ticket_rec *out, sl_err *err);

/* The thread of ticket_id after its opening message, oldest first (arena
 * memory), in a read-only transaction within deadline_ms; none for an
 * unknown ticket. */
sl_status sd_store_ticket_messages(sl_db *db, int64_t deadline_ms, const char *ticket_id,
                                   sl_arena *a, Shelfline__V1__TicketMessage ***out, size_t *n,
                                   sl_err *err);

/* A result of many tickets, read one at a time (a report reads up to
 * 100,001 of them and needs only one in memory). */
typedef struct sd_ticket_rows sd_ticket_rows;

/* One page of ListTickets' rows, oldest first: status "" for every
 * unresolved ticket, category / priority / customer "" for any; the rows
 * after (after_ms, after_id) in (opened_at_ms, ticket_id) order, at most
 * limit of them.  With breaching set, only tickets with a running clock
 * whose deadline cannot be later than the cut-off of its priority and
 * kind: fr_cutoff_ms[p] (first response, priority P(p+1)) or
 * rs_cutoff_ms[p] (resolution) must be at least opened_at_ms.  That is
 * what SQL can say without the business-hours calendar (a deadline is
 * never earlier than opened_at_ms + target); the caller reads the exact
 * clocks.  The caller owns *out (sd_ticket_rows_free). */
typedef struct sd_ticket_query {
    const char *status, *category, *priority, *customer;
    int64_t after_ms;
    const char *after_id;
    int limit;
    bool breaching;
    int64_t fr_cutoff_ms[SD_PRIORITY_COUNT], rs_cutoff_ms[SD_PRIORITY_COUNT];
} sd_ticket_query;
sl_status sd_store_tickets_list(sl_db *db, int64_t deadline_ms, const sd_ticket_query *q,
                                sd_ticket_rows **out, sl_err *err);

/* The tickets opened in [from_ms, to_ms), at most 100,001. */
sl_status sd_store_tickets_period(sl_db *db, int64_t deadline_ms, int64_t from_ms, int64_t to_ms,
                                  sd_ticket_rows **out, sl_err *err);
int sd_ticket_rows_count(const sd_ticket_rows *rows);
/* Row i into *out (arena memory); INTERNAL naming a bad column. */
sl_status sd_ticket_rows_get(const sd_ticket_rows *rows, int i, sl_arena *a, sd_ticket_rec *out,
                             sl_err *err);
void sd_ticket_rows_free(sd_ticket_rows *rows);

/* Whether order_id exists. */
sl_status sd_store_order_exists(sl_db *db, int64_t deadline_ms, const char *order_id, bool *found,
                                sl_err *err);

#define SD_REGION_MAX 40

/* The region of the customer's latest order into buf ("" when none). */
sl_status sd_store_customer_region(sl_db *db, int64_t deadline_ms, const char *customer_id,
                                   char *buf, size_t cap, sl_err *err);

/* A stored SLA policy version (sd_sla_store.c): the packed
 * shelfline.v1.SlaPolicy as validated. */
typedef struct sd_sla_row {
    int64_t version;
    const uint8_t *policy;
    size_t len;
    int64_t created_ms;
} sd_sla_row;

/* Stores the packed policy as the next version unless it is byte for byte
 * the one in force, in one transaction under an advisory lock; *out (arena
 * a) is the version in force afterwards.  Records the caller's audit. */
sl_status sd_store_sla_set(sl_db *db, int64_t deadline_ms, const uint8_t *policy, size_t len,
                           sl_arena *a, sd_sla_row *out, sl_err *err);

/* The stored versions above after_version, ascending (arena a). */
sl_status sd_store_sla_since(sl_db *db, int64_t deadline_ms, int64_t after_version, sl_arena *a,
                             sd_sla_row **out, size_t *n, sl_err *err);

/* A new ticket as OpenTicket records it. */
typedef struct sd_new_ticket {
    const char *ticket_id, *fingerprint, *customer_id, *order_id;
    int channel;
    const char *subject, *body, *language, *category;
    double confidence;
    const char *priority, *tier;
    int64_t opened_at_ms;
    const char *suggested, *mentions;
} sd_new_ticket;

/* Records t unless its id exists (*inserted says which).  When region is
 * not NULL and the ticket is new, it receives the region of the
 * customer's latest order ("" when none), read in the same transaction. */
sl_status sd_store_ticket_insert(sl_db_conn *conn, const sd_new_ticket *t, bool *inserted,
                                 char region[SD_REGION_MAX], sl_err *err);

/* Locks ticket_id and reads its status (OPEN, WAITING, RESOLVED) and
 * whether its first response is recorded; NOT_FOUND naming the id. */
sl_status sd_store_ticket_lock(sl_db_conn *conn, const char *ticket_id, char status[16],
                               bool *responded, sl_err *err);

/* Appends a CUSTOMER / RESPONSE / PAUSE / RESUME event. */
sl_status sd_store_ticket_event(sl_db_conn *conn, const char *ticket_id, const char *kind,
                                int64_t at_ms, const char *body, sl_err *err);

/* Sets the status, and the first response time (once) when
 * first_response. */
sl_status sd_store_ticket_set(sl_db_conn *conn, const char *ticket_id, const char *status,
                              bool first_response, int64_t at_ms, sl_err *err);

/* Resolves an unresolved ticket at at_ms. */
sl_status sd_store_ticket_resolve(sl_db_conn *conn, const char *ticket_id, int64_t at_ms,
                                  const char *resolution, sl_err *err);

/* ---- back in stock ---- */

/* A restock being notified in batches. */
typedef struct sd_restock {
    const char *restock_id, *sku, *region;
    int64_t available; /* as inventory's event said */
    int batches;       /* batches notified so far */
} sd_restock;

/* Records inventory's BACK_IN_STOCK event_id once (first batch due at
 * next_at_ms); stops the running restocks of a SKU x region. */
sl_status sd_store_restock_record(sl_db_conn *conn, int64_t event_id, const char *sku,
                                  const char *region, int64_t available, int64_t next_at_ms,
                                  sl_err *err);
sl_status sd_store_restock_stop(sl_db_conn *conn, const char *sku, const char *region, sl_err *err);

/* Claims one due restock (FOR UPDATE SKIP LOCKED): *claimed says whether
 * there was one, then *out holds it (arena memory). */
sl_status sd_store_restock_claim(sl_db_conn *conn, int64_t now_ms, sl_arena *a, sd_restock *out,
                                 bool *claimed, sl_err *err);

/* Notifies the n oldest active subscribers of r (one BACK_IN_STOCK
 * notification each, with body; sd_store_notif_begin on ev), in one round
 * trip with the count of those still waiting: *notified, *pending. */
sl_status sd_store_restock_batch(sl_db_conn *conn, sl_events *ev, const sd_restock *r, int64_t n,
                                 const char *body, int *notified, int64_t *pending, sl_err *err);

/* Sets the restock's batch count, next batch time and whether it is
 * done. */
sl_status sd_store_restock_update(sl_db_conn *conn, const char *restock_id, int batches,
                                  int64_t next_at_ms, bool done, sl_err *err);

/* An active subscription of (customer, SKU, region): a new one, or the
 * one there is; *out is NULL when it was notified in between (subscribe
 * again). */
sl_status sd_store_subscribe(sl_db *db, int64_t deadline_ms, const char *customer_id,
                             const char *sku, const char *region, sl_arena *a,
                             Shelfline__V1__Subscription **out, sl_err *err);

/* Cancels an active subscription (others are returned as they are);
 * NOT_FOUND naming the id. */
sl_status sd_store_unsubscribe(sl_db *db, int64_t deadline_ms, int64_t subscription_id, sl_arena *a,
                               Shelfline__V1__Subscription **out, sl_err *err);

/* One page of the customer's subscriptions, newest first: those with ids
 * below before_id, at most limit; *more says whether others follow. */
sl_status sd_store_subscriptions(sl_db *db, int64_t deadline_ms, const char *customer_id,
                                 int64_t before_id, int limit, sl_arena *a,
                                 Shelfline__V1__Subscription ***out, size_t *n, bool *more,
                                 sl_err *err);

/* GetBackInStockQueue: the active subscriptions of sku per region (only
 * region unless it is ""), by region name, into out (arena memory), in a
 * read-only transaction within deadline_ms. */
sl_status sd_store_bis_queue(sl_db *db, int64_t deadline_ms, const char *sku, const char *region,
                             sl_arena *a, Shelfline__V1__BackInStockQueue *out, sl_err *err);

/* ---- returns ---- */

typedef struct sd_rma_line {
    int line_no;
    const char *sku, *warehouse_id, *currency;
    int64_t qty, price_minor;
} sd_rma_line;

/* A return as stored: its message and what receiving it needs. */
typedef struct sd_rma {
    Shelfline__V1__Return *msg;
    const char *fingerprint;
    sd_rma_line *lines;
    size_t n_lines;
} sd_rma;

/* Loads rma_id on conn (its two reads in one round trip), arena memory;
 * NOT_FOUND naming the id. */
sl_status sd_store_rma_load(sl_db_conn *conn, const char *rma_id, sl_arena *a, sd_rma *out,
                            sl_err *err);

/* One page of returns, newest first (by created_at_ms, then rma_id): of
 * customer_id and of order_id ("" for any), those before (before_ms,
 * before_id), at most limit, each with its lines, in a read-only
 * transaction (arena memory). */
sl_status sd_store_rma_list(sl_db *db, int64_t deadline_ms, const char *customer_id,
                            const char *order_id, int64_t before_ms, const char *before_id,
                            int limit, sl_arena *a, sd_rma **out, size_t *n, sl_err *err);

/* As sd_store_rma_load, in a read-only transaction of its own. */
sl_status sd_store_rma_read(sl_db *db, int64_t deadline_ms, const char *rma_id, sl_arena *a,
                            sd_rma *out, sl_err *err);

/* Locks order_id and reads whether (and when) it was delivered; NOT_FOUND
 * naming the id. */
sl_status sd_store_rma_order(sl_db_conn *conn, const char *order_id, bool *delivered,
                             int64_t *delivered_at_ms, sl_err *err);

sl_status sd_store_rma_insert(sl_db_conn *conn, const char *rma_id, const char *fingerprint,
                              const char *order_id, const char *reason, int64_t created_at_ms,
                              sl_err *err);

/* What an order holds of a SKU: units bought (0: not in the order), the
 * warehouse they first shipped from, the price paid, and units already
 * in returns. */
typedef struct sd_rma_sku {
    int64_t bought, returned, price_minor;
    const char *warehouse_id, *currency;
} sd_rma_sku;
sl_status sd_store_rma_sku(sl_db_conn *conn, const char *order_id, const char *sku, sl_arena *a,
                           sd_rma_sku *out, sl_err *err);

/* A line of the return, priced and placed as bought. */
sl_status sd_store_rma_line_insert(sl_db_conn *conn, const char *rma_id, int line_no,
                                   const char *sku, int64_t qty, const sd_rma_sku *bought,
                                   sl_err *err);

/* Marks a REQUESTED return received; *changed is false when it was not
 * (a concurrent attempt received it). */
sl_status sd_store_rma_receive(sl_db_conn *conn, const char *rma_id, int condition,
                               int64_t refund_minor, const char *currency, bool restocked,
                               int64_t received_at_ms, bool *changed, sl_err *err);

/* Options of a store transaction bounded by deadline_ms (as
 * sl_call_deadline_ms; 0 or INT64_MAX: none): a read runs READ ONLY in
 * REPEATABLE READ (one snapshot for all its statements), a write in READ
 * COMMITTED. */
sl_db_tx_options sd_store_tx_options(int64_t deadline_ms, bool read_only);

/* ---- notifications ---- */

/* One customer notification, keyed for idempotency. */
typedef struct sd_notice {
    const char *key;  /* "delay:<order>:<inbound>:<ms>", "comp:<order>:<slip>", ... */
    const char *kind; /* DELAY, COMPENSATION, BACK_IN_STOCK, CAMPAIGN, REPURCHASE */
    const char *customer_id, *order_id, *body, *coupon;
    int64_t value_minor;
    const char *currency;
} sd_notice;

/* Writes n in conn's transaction (sd_store_notif_begin included, ev the
 * service's feed); a key written before is left alone. */
sl_status sd_store_notify(sl_db_conn *conn, sl_events *ev, const sd_notice *n, sl_err *err);

/* At most limit notifications after after_id in id order, of customer
 * ("" for all), only the unacknowledged ones when unacked_only; *out
 * (arena memory) holds *n of them. */
sl_status sd_store_notif_list(sl_db *db, int64_t deadline_ms, int64_t after_id,
                              const char *customer, bool unacked_only, int limit, sl_arena *a,
                              Shelfline__V1__Notification ***out, size_t *n, sl_err *err);

/* The id of the newest committed notification (0 when none). */
sl_status sd_store_notif_newest(sl_db *db, int64_t deadline_ms, int64_t *newest, sl_err *err);

/* The notifications not acknowledged yet, counted up to limit (a bound
 * on the scrape that asks: the count stops there). */
sl_status sd_store_notif_pending(sl_db *db, int64_t deadline_ms, int64_t limit, int64_t *pending,
                                 sl_err *err);

/* Marks notification id acknowledged (the first time only) and returns it;
 * NOT_FOUND naming the id. */
sl_status sd_store_notif_ack(sl_db *db, int64_t deadline_ms, int64_t id, sl_arena *a,
                             Shelfline__V1__Notification **out, sl_err *err);

/* Fills an EtaRange message (arena memory). */
Shelfline__V1__EtaRange *sd_store_eta_range(sl_arena *a, sd_date ship, sd_date p50, sd_date p90,
                                            sd_confidence c);

/* Status names <-> enum. */
Shelfline__V1__OrderStatus sd_store_status_enum(const char *name);

#endif
