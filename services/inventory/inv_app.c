/*
 * inv_app: the inventory service's own configuration (see inv_app.h).
 */
#include "inv_app.h"

#include "sl_config.h"

sl_status inv_config_load(inv_config *cfg, sl_err *err)
{
    sl_status st;
    if ((st = sl_config_int("SHELFLINE_INVENTORY_COMBINERS", 1, 1, 64, &cfg->combiners, err)) !=
            SL_OK ||
        (st = sl_config_int("SHELFLINE_INVENTORY_BATCH_MAX", 64, 1, 1024, &cfg->batch_max, err)) !=
            SL_OK ||
        (st = sl_config_duration_ms("SHELFLINE_INVENTORY_REAP_INTERVAL", 1000, 10, 3600 * 1000,
                                    &cfg->reap_interval_ms, err)) != SL_OK ||
        (st = sl_config_int("SHELFLINE_INVENTORY_REAP_BATCH", 50, 1, 1000, &cfg->reap_batch,
                            err)) != SL_OK)
        return st;
    return SL_OK;
}
