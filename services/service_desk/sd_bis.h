/*
 * sd_bis: back in stock -- subscribing (behind sd_api_bis.c), the restock recorded
 * from inventory's BACK_IN_STOCK event, and the scheduler that notifies
 * subscribers batch by batch.
 *
 * Fairness and exactly-once: a BACK_IN_STOCK event becomes one restock row
 * (unique by inventory's event id, in the consumer's transaction).  Every
 * replica runs a scheduler that claims a due restock with FOR UPDATE SKIP
 * LOCKED, asks inventory how many units are available now (the event's
 * own figure for the first batch), and in one transaction marks that many
 * of the oldest ACTIVE subscriptions NOTIFIED with a notification each
 * (keyed "bis:<subscription>:<restock>") and sets the restock's next time
 * (now + interval) or closes it when no subscriber is left or the stock is
 * gone.  A subscription leaves ACTIVE in the same transaction as its
 * notification, so nobody is notified twice for a restock, whatever the
 * number of replicas; OUT_OF_STOCK closes running restocks.
 */
#ifndef SD_BIS_H
#define SD_BIS_H

#include "sd_app.h"
#include "shelfline/v1/common.pb-c.h"

typedef struct sd_bis sd_bis;

/* Starts the scheduler thread.  The caller owns *out (sd_bis_stop). */
sl_status sd_bis_start(sd_app *app, sd_bis **out, sl_err *err);

/* Stops the thread (within the poll interval) and frees it.  NULL is a
 * no-op. */
void sd_bis_stop(sd_bis *b);

/* SubscribeBackInStock after validation: the SKU must exist in inventory;
 * then the active subscription of (customer, SKU, region), new or as it
 * was. */
sl_status sd_bis_subscribe(sl_call *call, const Shelfline__V1__SubscribeBackInStockRequest *r,
                           Shelfline__V1__Subscription *out, sl_err *err);

/* Consumer effects, inside the cursor's transaction: BACK_IN_STOCK records
 * a restock, OUT_OF_STOCK closes the running ones. */
sl_status sd_bis_on_event(sd_app *app, sl_db_conn *conn, const Shelfline__V1__Event *ev,
                          sl_err *err);

#endif
