/*
 * sd_store: every SQL statement of the service-desk service (named,
 * prepared, parameterized) and the loaders that turn rows into messages.
 */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sd_eta.h"
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

/* Fills an EtaRange message (arena memory). */
Shelfline__V1__EtaRange *sd_store_eta_range(sl_arena *a, sd_date ship, sd_date p50, sd_date p90,
                                            sd_confidence c);

/* Status names <-> enum. */
Shelfline__V1__OrderStatus sd_store_status_enum(const char *name);

/* Formats an int64 into buf (decimal); returns buf. */
const char *sd_i64(char buf[24], int64_t v);

#endif
