/*
 * sd_api_bis: SubscribeBackInStock, Unsubscribe, ListSubscriptions,
 * GetBackInStockQueue --
 * validate (sd_valid), call the domain (sd_bis) or the store, reply.
 */
#include <inttypes.h>
#include <stdio.h>

#include "sd_api.h"
#include "sd_bis.h"
#include "sd_store.h"
#include "sd_valid.h"
#include "sl_page.h"

sl_status sd_api_subscribe_back_in_stock(sl_call *call, const ProtobufCMessage *req,
                                         ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__SubscribeBackInStockRequest *r = (const void *)req;
    if (sd_valid_subscribe(r, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    return sd_bis_subscribe(call, r, (void *)resp, err);
}

sl_status sd_api_unsubscribe(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__UnsubscribeRequest *r = (const void *)req;
    if (sd_valid_positive("subscription_id", r->subscription_id, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    Shelfline__V1__Subscription *s;
    sl_status st = sd_store_unsubscribe(app->db, sl_call_deadline_ms(call), r->subscription_id,
                                        sl_call_arena(call), &s, err);
    if (st == SL_OK)
        *(Shelfline__V1__Subscription *)resp = *s;
    return st;
}

sl_status sd_api_list_subscriptions(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__ListSubscriptionsRequest *r = (const void *)req;
    Shelfline__V1__ListSubscriptionsResponse *out = (void *)resp;
    sl_arena *a = sl_call_arena(call);
    int limit;
    int64_t before_id;
    sl_status st = sd_valid_list_subscriptions(r, &limit, &before_id, err);
    if (st != SL_OK)
        return st;
    bool more;
    st = sd_store_subscriptions(app->db, sl_call_deadline_ms(call), r->customer_id, before_id,
                                limit, a, &out->subscriptions, &out->n_subscriptions, &more, err);
    if (st == SL_OK && more) {
        char key[24];
        snprintf(key, sizeof key, "%" PRId64,
                 out->subscriptions[out->n_subscriptions - 1]->subscription_id);
        if ((out->next_page_token = sl_page_token_encode(a, key)) == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return st;
}

sl_status sd_api_get_back_in_stock_queue(sl_call *call, const ProtobufCMessage *req,
                                         ProtobufCMessage *resp, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__GetBackInStockQueueRequest *r = (const void *)req;
    Shelfline__V1__BackInStockQueue *out = (void *)resp;
    sl_arena *a = sl_call_arena(call);
    const char *region = r->region != NULL ? r->region : "";
    sl_status st = sd_valid_bis_queue(r, err);
    if (st != SL_OK || (st = sd_store_bis_queue(app->db, sl_call_deadline_ms(call), r->sku, region,
                                                a, out, err)) != SL_OK)
        return st;
    out->sku = r->sku;
    /* A region asked for is answered even when nobody waits there. */
    if (region[0] != '\0' && out->n_regions == 0) {
        Shelfline__V1__BackInStockRegionQueue *q = sl_arena_alloc(a, sizeof *q);
        Shelfline__V1__BackInStockRegionQueue **v = sl_arena_alloc(a, sizeof *v);
        if (q == NULL || v == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__back_in_stock_region_queue__init(q);
        q->region = (char *)region;
        *v = q;
        out->regions = v;
        out->n_regions = 1;
    }
    return SL_OK;
}
