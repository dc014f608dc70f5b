/*
 * inv_api_inbound: CreateInbound, DelayInbound, ReceiveInbound, Transfer,
 * GetInbound and ListInbound.
 */
#include <string.h>

#include "inv_api.h"
#include "inv_inbound.h"
#include "inv_store.h"
#include "inv_valid.h"

#define APP(call) ((inv_app *)sl_call_ctx(call))
#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

typedef struct inb_ctx {
    sl_call *call;
    const ProtobufCMessage *req;
    const uint8_t *canon;
    size_t canon_len;
    ProtobufCMessage *resp;
    Shelfline__V1__Inbound *out;
} inb_ctx;

static sl_status create_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    inb_ctx *c = p;
    sl_audit audit = sl_call_audit(c->call);
    return inv_inbound_create(conn, APP(c->call)->events, sl_call_arena(c->call), &audit,
                              (const Shelfline__V1__CreateInboundRequest *)c->req, c->canon,
                              c->canon_len, &c->out, err);
}

static sl_status delay_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    inb_ctx *c = p;
    sl_audit audit = sl_call_audit(c->call);
    return inv_inbound_delay(conn, APP(c->call)->events, sl_call_arena(c->call), &audit,
                             (const Shelfline__V1__DelayInboundRequest *)c->req, &c->out, err);
}

static sl_status receive_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    inb_ctx *c = p;
    /* A retried attempt starts from a clean reply. */
    shelfline__v1__receive_inbound_response__init((Shelfline__V1__ReceiveInboundResponse *)c->resp);
    sl_audit audit = sl_call_audit(c->call);
    return inv_inbound_receive(conn, APP(c->call)->events, sl_call_arena(c->call), &audit,
                               (const Shelfline__V1__ReceiveInboundRequest *)c->req, c->canon,
                               c->canon_len, (Shelfline__V1__ReceiveInboundResponse *)c->resp, err);
}

static sl_status transfer_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    inb_ctx *c = p;
    shelfline__v1__transfer_response__init((Shelfline__V1__TransferResponse *)c->resp);
    sl_audit audit = sl_call_audit(c->call);
    return inv_inbound_transfer(conn, APP(c->call)->events, sl_call_arena(c->call), &audit,
                                (const Shelfline__V1__TransferRequest *)c->req, c->canon,
                                c->canon_len, (Shelfline__V1__TransferResponse *)c->resp, err);
}

static sl_status run(sl_call *call, sl_db_tx_fn fn, inb_ctx *c, sl_err *err)
{
    c->canon = inv_api_pack(call, c->req, &c->canon_len);
    if (c->canon == NULL)
        return OOM(err);
    return inv_api_tx(call, false, fn, c, err);
}

sl_status inv_api_create_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    inb_ctx c = {call, req, NULL, 0, resp, NULL};
    sl_status st = run(call, create_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__Inbound *)resp = *c.out;
    return st;
}

sl_status inv_api_delay_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    inb_ctx c = {call, req, NULL, 0, resp, NULL};
    sl_status st = run(call, delay_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__Inbound *)resp = *c.out;
    return st;
}

sl_status inv_api_receive_inbound(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    inb_ctx c = {call, req, NULL, 0, resp, NULL};
    return run(call, receive_tx, &c, err);
}

sl_status inv_api_transfer(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err)
{
    inb_ctx c = {call, req, NULL, 0, resp, NULL};
    return run(call, transfer_tx, &c, err);
}

typedef struct get_ctx {
    sl_call *call;
    const char *id;
    Shelfline__V1__Inbound *out;
} get_ctx;

static sl_status get_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return inv_inbound_get(conn, sl_call_arena(c->call), c->id, &c->out, err);
}

sl_status inv_api_get_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const char *id = ((const Shelfline__V1__GetInboundRequest *)req)->inbound_id;
    sl_status st = inv_valid_id("inbound_id", id, INV_ID_KEY, err);
    if (st != SL_OK)
        return st;
    get_ctx c = {call, id, NULL};
    st = inv_api_tx(call, true, get_tx, &c, err);
    if (st != SL_OK)
        return st;
    if (c.out == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "INBOUND_NOT_FOUND",
                             "inbound_id: unknown inbound shipment \"%s\"", id);
    *(Shelfline__V1__Inbound *)resp = *c.out;
    return SL_OK;
}

typedef struct list_ctx {
    sl_call *call;
    const Shelfline__V1__ListInboundRequest *r;
    const char *after;
    int limit;
    inv_inbound_row *rows;
    size_t n;
} list_ctx;

static sl_status list_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    return inv_store_inbound_list(conn, sl_call_arena(c->call), c->r->sku, c->r->warehouse_id,
                                  c->r->open_only, c->after, c->limit, &c->rows, &c->n, err);
}

sl_status inv_api_list_inbound(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err)
{
    const Shelfline__V1__ListInboundRequest *r = (const Shelfline__V1__ListInboundRequest *)req;
    Shelfline__V1__ListInboundResponse *out = (Shelfline__V1__ListInboundResponse *)resp;
    list_ctx c = {.call = call, .r = r};
    char after[256];
    sl_status st = sl_page_size(r->page, &c.limit, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("sku", r->sku, INV_ID_SKU, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err);
    if (st == SL_OK)
        st = inv_api_page_after(r->page, after, sizeof after, err);
    if (st != SL_OK)
        return st;
    c.after = after;
    st = inv_api_tx(call, true, list_tx, &c, err);
    if (st != SL_OK)
        return st;
    sl_arena *a = sl_call_arena(call);
    out->inbounds = sl_arena_alloc(a, (c.n + 1) * sizeof *out->inbounds);
    if (out->inbounds == NULL)
        return OOM(err);
    for (size_t i = 0; i < c.n; i++)
        if ((out->inbounds[i] = inv_inbound_proto(a, &c.rows[i], NULL, 0)) == NULL)
            return OOM(err);
    out->n_inbounds = c.n;
    if (c.n == (size_t)c.limit)
        out->next_page_token = sl_page_token_encode(a, c.rows[c.n - 1].id);
    return SL_OK;
}
