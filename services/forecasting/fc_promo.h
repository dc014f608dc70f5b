/*
 * fc_promo: the cap a promotion puts on a forecast.
 *
 * A calendar PROMOTION event of one SKU may name an inventory promotion
 * (SetEvent's promotion_id); the units that promotion has left cap the
 * uplifted demand of the event's days (fc_engine's quotas), so a forecast
 * does not promise a flash sale more than its quota can sell.
 */
#ifndef FC_PROMO_H
#define FC_PROMO_H

#include <stddef.h>
#include <stdint.h>

#include "fc_app.h"

/* The quota capping PROMOTION days of the horizon days from today: the
 * remaining units of every inventory promotion linked to a calendar event
 * in it (a SKU's PROMOTION events only, see SetEvent), read from inventory
 * (GetPromotion).  *n_quotas is 0 when none is linked or none could be
 * read; *why (arena, NULL when all went well) says why a linked promotion
 * was left out.  A promotion that cannot be read is not an error: the
 * forecast is made without its cap.  Fails only when the calendar cannot
 * be read. */
sl_status fc_promo_quota(fc_app *app, sl_call *call, const char *sku, const char *region,
                         int32_t today, int horizon, sl_arena *a, fc_quota *q, size_t *n_quotas,
                         const char **why, sl_err *err);

#endif
