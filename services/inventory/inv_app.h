/*
 * inv_app: the inventory service's one context (configuration, pool, event
 * feed, the Reserve combiner, the Commit/Release closer and the reaper),
 * created by inv_service's init
 * and handed to every handler through sl_call_ctx.
 */
#ifndef INV_APP_H
#define INV_APP_H

#include <stdint.h>

#include "sl_db.h"
#include "sl_events.h"
#include "sl_status.h"

/* The service's own settings, from the environment (defaults in brackets):
 *   SHELFLINE_INVENTORY_COMBINERS     combiner threads for Reserve, and for
 *                                     each of Commit and Release [1]
 *   SHELFLINE_INVENTORY_BATCH_MAX     calls per combined transaction [64]
 *   SHELFLINE_INVENTORY_REAP_INTERVAL reaper period (expired holds, ended
 *                                     promotions) [1s]
 *   SHELFLINE_INVENTORY_REAP_BATCH    holds expired per reaper transaction [50] */
typedef struct inv_config {
    int64_t combiners;
    int64_t batch_max;
    int64_t reap_interval_ms;
    int64_t reap_batch;
} inv_config;

/* Reads and validates the settings; INVALID_ARGUMENT naming the first bad
 * variable. */
sl_status inv_config_load(inv_config *cfg, sl_err *err);

typedef struct inv_combiner inv_combiner;
typedef struct inv_closer inv_closer;
typedef struct inv_reaper inv_reaper;
typedef struct inv_metrics inv_metrics;

typedef struct inv_app {
    sl_db *db;
    sl_events *events;
    inv_config cfg;
    inv_combiner *combiner;
    inv_closer *closer;
    inv_reaper *reaper;
    inv_metrics *metrics;
} inv_app;

#endif
