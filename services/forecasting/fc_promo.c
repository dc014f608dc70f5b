/*
 * fc_promo: the promotion quota of a forecast (see fc_promo.h).
 */
#include "fc_promo.h"

#include <stdio.h>
#include <string.h>

#include "shelfline/v1/inventory.pb-c.h"

typedef struct promo_ctx {
    const char *sku, *region;
    int32_t from, to;
    sl_arena *a;
    fc_event_row *rows;
    size_t n;
} promo_ctx;

static sl_status promo_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    promo_ctx *c = p;
    return fc_store_event_list(conn, c->from, c->to, c->sku, c->region, c->a, &c->rows, &c->n, err);
}

sl_status fc_promo_quota(fc_app *app, sl_call *call, const char *sku, const char *region,
                         int32_t today, int horizon, sl_arena *a, fc_quota *q, size_t *n_quotas,
                         const char **why, sl_err *err)
{
    *n_quotas = 0;
    *why = NULL;
    promo_ctx c = {sku, region, today, today + horizon - 1, a, NULL, 0};
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    sl_status st = sl_db_tx(app->db, &o, promo_tx, &c, err);
    if (st != SL_OK)
        return st;
    double units = 0;
    bool any = false;
    for (size_t i = 0; i < c.n; i++) {
        const fc_event_row *e = &c.rows[i];
        if (e->kind != SHELFLINE__V1__EVENT_KIND__PROMOTION || e->promotion_id[0] == '\0')
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(c.rows[k].promotion_id, e->promotion_id) == 0;
        if (seen)
            continue;
        Shelfline__V1__GetPromotionRequest gp = SHELFLINE__V1__GET_PROMOTION_REQUEST__INIT;
        gp.promotion_id = (char *)e->promotion_id;
        Shelfline__V1__Promotion *p;
        sl_err e2;
        char *msg = NULL;
        if (fc_inventory_call(app, call, "GetPromotion", &gp.base,
                              &shelfline__v1__promotion__descriptor, a, &p, &e2) != SL_OK) {
            size_t len = strlen(e->promotion_id) + strlen(e2.msg) + 16;
            msg = sl_arena_alloc(a, len);
            if (msg != NULL)
                snprintf(msg, len, "promotion \"%s\": %s", e->promotion_id, e2.msg);
        } else if (strcmp(p->sku, sku) != 0) {
            size_t len = strlen(e->promotion_id) + strlen(p->sku) + 32;
            msg = sl_arena_alloc(a, len);
            if (msg != NULL)
                snprintf(msg, len, "promotion \"%s\" is on sku \"%s\"", e->promotion_id, p->sku);
        } else {
            units += p->remaining > 0 ? (double)p->remaining : 0.0;
            any = true;
            continue;
        }
        if (*why == NULL)
            *why = msg != NULL ? msg : "a linked promotion could not be read";
    }
    if (any) {
        q->event = SHELFLINE__V1__EVENT_KIND__PROMOTION;
        q->units = units;
        *n_quotas = 1;
    }
    return SL_OK;
}
