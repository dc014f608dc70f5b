/*
 * sd_app: the service-desk service's context (one per process, passed to
 * every handler through sl_call_ctx) and its configuration.  Private to
 * the service-desk library.
 */
#ifndef SD_APP_H
#define SD_APP_H

#include <stdint.h>

#include "sd_comp.h"
#include "sd_net.h"
#include "sd_classify.h"
#include "sd_sla.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sd_time.h"
#include "sl_client.h"
#include "sl_consumer.h"
#include "sl_db.h"
#include "sl_events.h"

/* Settings from the environment (sd_config_load):
 *   SHELFLINE_SD_HOLD_TTL          hold of an unpaid order's stock [1h]
 *   SHELFLINE_SD_INVENTORY_TIMEOUT deadline of each call to inventory [5s]
 *   SHELFLINE_SD_HANDLING_DAYS     shipping days to put an inbound away [1]
 *   SHELFLINE_SD_NETWORK_TTL       warehouse cache lifetime [60s]
 *   SHELFLINE_SD_COMP_TIERS        compensation tiers "2:500,5:1500" [2:500,5:1500]
 *   SHELFLINE_SD_COMP_CURRENCY     their currency [EUR]
 *   SHELFLINE_SD_COUPON_KEY        32 hex digits keying coupon codes
 *                                  [a fixed development key]
 *   SHELFLINE_SD_CONSUMER          follow inventory's events [true]
 *   SHELFLINE_SD_BIS_INTERVAL      between back-in-stock batches [10s]
 *   SHELFLINE_SD_BIS_MAX_BATCH     largest back-in-stock batch [1000]
 *   SHELFLINE_SD_SLA_ZONE          the desk's IANA time zone [UTC]
 *   SHELFLINE_SD_SLA_HOURS         its business hours [Mon-Fri 09:00-18:00]
 *   SHELFLINE_SD_TIER_TIMEOUT      deadline of the customer-value tier call [300ms]
 *   SHELFLINE_SD_RETURN_WINDOW     returns accepted this long after delivery [720h]
 *   SHELFLINE_SD_BIS_POLL          how often replicas look for due batches [500ms]
 *   SHELFLINE_SD_DELAY_BATCH       orders moved per transaction when an
 *                                  inbound is delayed [200]
 *   SHELFLINE_SD_CV_CONSUMER       follow customer-value's campaign messages
 *                                  and repurchase reminders [true]
 */
typedef struct sd_config {
    int64_t hold_ttl_ms;
    int64_t inventory_timeout_ms;
    int64_t handling_days;
    int64_t network_ttl_ms;
    sd_comp_policy comp;
    uint8_t coupon_key[SD_COUPON_KEY_LEN];
    bool consumer;
    bool cv_consumer;
    int64_t bis_interval_ms;
    int64_t bis_max_batch;
    int64_t bis_poll_ms;
    const char *sla_zone;
    const char *sla_hours;
    int64_t tier_timeout_ms;
    int64_t return_window_ms;
    int64_t delay_batch;
} sd_config;

/* Reads and validates the settings; INVALID_ARGUMENT naming the first bad
 * variable. */
sl_status sd_config_load(sd_config *cfg, sl_err *err);

typedef struct sd_app {
    sd_config cfg;
    sl_db *db;
    sl_events *events;
    sl_channel *inventory; /* shared peer channel, owned by sl_service */
    sd_tzdb *tz;
    sd_net *net;
    sl_consumer *consumer;       /* NULL when disabled */
    sl_consumer *order_consumer; /* reservation events closing orders; NULL when disabled */
    sl_consumer *cv_consumer;    /* customer-value's messages (sd_cv_sync.c); NULL when off */
    struct sd_bis *bis;          /* the back-in-stock scheduler */
    sl_channel *customer_value;  /* shared peer channel, for tiers */
    sd_classifier *classifier;
    struct sd_slabook *slas;    /* SLA policy versions (sd_slapol.h) */
    struct sd_metrics *metrics; /* the scrape's gauges */
    /* Delay notices and compensations written by the consumer's apply
     * transaction in progress (sd_sync.c; its thread only), counted in
     * the metrics when it commits. */
    struct sd_delay_counts {
        int notices, compensations;
    } delays_applying;
} sd_app;

/* One slip of an order's ETA: an inbound shipment it waits on is later
 * (sd_sync.c), or the carrier of a shipped order promises a later date
 * (UpdateShipment). */
typedef struct sd_slip {
    const char *source; /* the inbound id, or "carrier:<slip number>" */
    int64_t new_ms;     /* the new expected date (Unix ms): eta_change's key */
    sd_date old_p50, old_p90, new_p50, new_p90;
    const char *text;   /* the move in words: the notice's body */
    const char *key;    /* the DELAY notice's idempotency key */
    const char *reason; /* why, as given (NULL: none): the other languages' notices */
} sd_slip;

struct sd_order_rec;

/* Records slip s of rec (locked by the caller's transaction on conn): the
 * order's slip count, one eta_change row, one DELAY notice keyed s->key
 * and, when the compensation policy grants more than earlier slips did,
 * one coupon with its COMPENSATION notice.  counted counts the notices
 * and coupons written (sd_sync_count_delays once they commit). */
sl_status sd_sync_slip(sd_app *app, sl_db_conn *conn, const struct sd_order_rec *rec,
                       const sd_slip *s, struct sd_delay_counts *counted, sl_err *err);

/* Adds committed notices and coupons to the service's metrics. */
void sd_sync_count_delays(const struct sd_delay_counts *n);

/* Publishes an order event (ORDER_PLACED ...) for order_id inside the
 * caller's transaction, with the order as stored on conn. */
sl_status sd_publish_order(sd_app *app, sl_db_conn *conn, const char *topic, const char *order_id,
                           sl_err *err);

#endif
