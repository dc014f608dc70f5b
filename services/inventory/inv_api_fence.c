/*
 * inv_api_fence: CreateStockFence, GetStockFence, ListStockFences and
 * SetStockFenceEligibility (the domain is inv_fence).
 */
#include <string.h>

#include "inv_api.h"
#include "inv_fence.h"
#include "inv_valid.h"
#include "sl_page.h"

#define APP(call) ((inv_app *)sl_call_ctx(call))
#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

typedef struct create_ctx {
    sl_call *call;
    const Shelfline__V1__StockFence *f;
    const uint8_t *canon;
    size_t canon_len;
    Shelfline__V1__StockFence *out;
} create_ctx;

static sl_status create_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    create_ctx *c = p;
    sl_audit audit = sl_call_audit(c->call);
    return inv_fence_create(conn, APP(c->call)->events, sl_call_arena(c->call), &audit, c->f,
                            c->canon, c->canon_len, &c->out, err);
}

sl_status inv_api_create_stock_fence(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__StockFence *f =
        ((const Shelfline__V1__CreateStockFenceRequest *)req)->fence;
    sl_status st = inv_valid_stock_fence(f, err);
    if (st != SL_OK)
        return st;
    /* Output-only fields are not part of the request. */
    Shelfline__V1__StockFence canon = *f;
    canon.status = SHELFLINE__V1__STOCK_FENCE__STATUS__STATUS_UNSPECIFIED;
    canon.sold = canon.held = canon.remaining = canon.returned = canon.members = 0;
    canon.fences = NULL;
    canon.n_fences = 0;
    create_ctx c = {call, &canon, NULL, 0, NULL};
    c.canon = inv_api_pack(call, &canon.base, &c.canon_len);
    if (c.canon == NULL)
        return OOM(err);
    st = inv_api_tx(call, false, create_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__StockFence *)resp = *c.out;
    return st;
}

typedef struct get_ctx {
    sl_call *call;
    const char *id;
    Shelfline__V1__StockFence *out;
} get_ctx;

static sl_status get_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return inv_fence_get(conn, sl_call_arena(c->call), c->id, sl_db_now_ms(), &c->out, err);
}

sl_status inv_api_get_stock_fence(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    const char *id = ((const Shelfline__V1__GetStockFenceRequest *)req)->fence_id;
    sl_status st = inv_valid_id("fence_id", id, INV_ID_KEY, err);
    if (st != SL_OK)
        return st;
    get_ctx c = {call, id, NULL};
    if ((st = inv_api_tx(call, true, get_tx, &c, err)) != SL_OK)
        return st;
    if (c.out == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "STOCK_FENCE_NOT_FOUND",
                             "fence_id: unknown stock fence \"%s\"", id);
    *(Shelfline__V1__StockFence *)resp = *c.out;
    return SL_OK;
}

typedef struct list_ctx {
    sl_call *call;
    const Shelfline__V1__ListStockFencesRequest *r;
    const char *after;
    int limit;
    Shelfline__V1__StockFence **out;
    size_t n;
} list_ctx;

static sl_status list_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return inv_fence_list(conn, sl_call_arena(c->call), c->r->sku, c->r->live_only, c->after,
                          c->limit, sl_db_now_ms(), &c->out, &c->n, err);
}

sl_status inv_api_list_stock_fences(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__ListStockFencesRequest *r =
        (const Shelfline__V1__ListStockFencesRequest *)req;
    Shelfline__V1__ListStockFencesResponse *out = (Shelfline__V1__ListStockFencesResponse *)resp;
    list_ctx c = {.call = call, .r = r};
    char after[256];
    sl_status st = sl_page_size(r->page, &c.limit, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("sku", r->sku, INV_ID_SKU, err);
    if (st == SL_OK)
        st = inv_api_page_after(r->page, after, sizeof after, err);
    if (st != SL_OK)
        return st;
    c.after = after;
    if ((st = inv_api_tx(call, true, list_tx, &c, err)) != SL_OK)
        return st;
    out->fences = c.out;
    out->n_fences = c.n;
    if (c.n == (size_t)c.limit)
        out->next_page_token = sl_page_token_encode(sl_call_arena(call), c.out[c.n - 1]->fence_id);
    return SL_OK;
}

typedef struct members_ctx {
    sl_call *call;
    const Shelfline__V1__SetStockFenceEligibilityRequest *r;
    Shelfline__V1__SetStockFenceEligibilityResponse *out;
} members_ctx;

static sl_status members_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    members_ctx *c = p;
    return inv_fence_set_members(conn, sl_call_arena(c->call), c->r, c->out, err);
}

sl_status inv_api_set_stock_fence_eligibility(sl_call *call, const ProtobufCMessage *req,
                                              ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__SetStockFenceEligibilityRequest *r =
        (const Shelfline__V1__SetStockFenceEligibilityRequest *)req;
    sl_status st = inv_valid_fence_eligibility(r, err);
    if (st != SL_OK)
        return st;
    members_ctx c = {call, r, (Shelfline__V1__SetStockFenceEligibilityResponse *)resp};
    return inv_api_tx(call, false, members_tx, &c, err);
}
