/*
 * sd_store: every SQL statement of the service-desk service (named,
 * prepared, parameterized) and the loaders that turn rows into messages.
 */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sd_eta.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_db.h"

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
} sd_part;

/* An order with everything the handlers need. */
typedef struct sd_order_rec {
    Shelfline__V1__Order *order; /* the message, arena memory */
    const char *status;          /* "PLACED" ... */
    const char *fingerprint;
    int slips;
    int64_t granted_minor;
    sd_date promised_p50;
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

/* Starts writing notifications in conn's transaction: takes the writers'
 * lock (so that notification ids, taken after it, are in commit order and
 * a reader's cursor never passes an id that commits later) and wakes every
 * replica's WatchNotifications streams when the transaction commits. */
sl_status sd_store_notif_begin(sl_db_conn *conn, sl_err *err);

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
sl_status sd_store_order_cancel(sl_db_conn *conn, const char *order_id, const char *reason,
                                bool *changed, sl_err *err);

/* Sets a shipment step's status, carrier and tracking (DELIVERED also
 * stamps the delivery time). */
sl_status sd_store_order_ship(sl_db_conn *conn, const char *order_id, const char *status,
                              const char *carrier, const char *tracking, sl_err *err);

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

/* Counts a slip on the order and adds grant_minor to what was granted. */
sl_status sd_store_order_slip(sl_db_conn *conn, const char *order_id, int64_t grant_minor,
                              sl_err *err);

/* One slip of an order's ETA, as recorded in eta_change. */
typedef struct sd_eta_change {
    const char *order_id;
    int slip_no;
    const char *inbound_id;
    int64_t new_expected_ms;
    sd_date old_p50, new_p50, new_p90;
    const char *reason;
} sd_eta_change;

/* Records c once (a replay changes nothing). */
sl_status sd_store_eta_change(sl_db_conn *conn, const sd_eta_change *c, sl_err *err);

/* Records the coupon of (order_id, slip_no) once. */
sl_status sd_store_compensation(sl_db_conn *conn, const char *order_id, int slip_no,
                                const char *coupon, int64_t value_minor, const char *currency,
                                sl_err *err);

/* Options of a store transaction bounded by deadline_ms (as
 * sl_call_deadline_ms; 0 or INT64_MAX: none): a read runs READ ONLY in
 * REPEATABLE READ (one snapshot for all its statements), a write in READ
 * COMMITTED. */
sl_db_tx_options sd_store_tx_options(int64_t deadline_ms, bool read_only);

/* ---- notifications ---- */

/* One customer notification, keyed for idempotency. */
typedef struct sd_notice {
    const char *key;  /* "delay:<order>:<inbound>:<ms>", "comp:<order>:<slip>", ... */
    const char *kind; /* DELAY, COMPENSATION, BACK_IN_STOCK */
    const char *customer_id, *order_id, *body, *coupon;
    int64_t value_minor;
    const char *currency;
} sd_notice;

/* Writes n in conn's transaction (after sd_store_notif_begin's lock); a
 * key written before is left alone. */
sl_status sd_store_notify(sl_db_conn *conn, const sd_notice *n, sl_err *err);

/* At most limit notifications after after_id in id order, of customer
 * ("" for all), only the unacknowledged ones when unacked_only; *out
 * (arena memory) holds *n of them. */
sl_status sd_store_notif_list(sl_db *db, int64_t deadline_ms, int64_t after_id,
                              const char *customer, bool unacked_only, int limit, sl_arena *a,
                              Shelfline__V1__Notification ***out, size_t *n, sl_err *err);

/* The id of the newest committed notification (0 when none). */
sl_status sd_store_notif_newest(sl_db *db, int64_t deadline_ms, int64_t *newest, sl_err *err);

/* Marks notification id acknowledged (the first time only) and returns it;
 * NOT_FOUND naming the id. */
sl_status sd_store_notif_ack(sl_db *db, int64_t deadline_ms, int64_t id, sl_arena *a,
                             Shelfline__V1__Notification **out, sl_err *err);

/* Fills an EtaRange message (arena memory). */
Shelfline__V1__EtaRange *sd_store_eta_range(sl_arena *a, sd_date ship, sd_date p50, sd_date p90,
                                            sd_confidence c);

/* Status names <-> enum. */
Shelfline__V1__OrderStatus sd_store_status_enum(const char *name);

/* Formats an int64 into buf (decimal); returns buf. */
const char *sd_i64(char buf[24], int64_t v);

#endif
