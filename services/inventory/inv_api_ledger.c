/*
 * inv_api_ledger: ListLedger, the audit trail of a SKU's stock -- every
 * change with its reason, reference, actor, request id, trace id and time,
 * newest first.
 */
#include <stdio.h>
#include <string.h>

#include "inv_api.h"
#include "inv_store.h"
#include "inv_tx.h"
#include "sl_page.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

typedef struct ledger_ctx {
    sl_call *call;
    const Shelfline__V1__ListLedgerRequest *r;
    const char *before;
    int limit;
    inv_ledger_row *rows;
    size_t n;
} ledger_ctx;

/* An unknown SKU or warehouse is NOT_FOUND rather than an empty page, so a
 * typo is not read as "nothing ever happened". */
static sl_status ledger_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    ledger_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    sl_status st = inv_api_need_sku_wh(conn, a, c->r->sku, c->r->warehouse_id, err);
    if (st != SL_OK)
        return st;
    return inv_store_ledger_list(conn, a, c->r->sku, c->r->warehouse_id, c->before, c->limit,
                                 &c->rows, &c->n, err);
}

/* The request was checked by inv_valid_ledger_request. */
sl_status inv_api_list_ledger(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__ListLedgerRequest *r = (const Shelfline__V1__ListLedgerRequest *)req;
    Shelfline__V1__ListLedgerResponse *out = (Shelfline__V1__ListLedgerResponse *)resp;
    ledger_ctx c = {.call = call, .r = r};
    char before[32];
    sl_status st = sl_page_read(r->page, &c.limit, before, sizeof before, err);
    if (st != SL_OK)
        return st;
    c.before = before;
    st = inv_api_tx(call, true, ledger_tx, &c, err);
    if (st != SL_OK)
        return st;
    sl_arena *a = sl_call_arena(call);
    out->entries = sl_arena_alloc(a, (c.n + 1) * sizeof *out->entries);
    if (out->entries == NULL)
        return OOM(err);
    for (size_t i = 0; i < c.n; i++) {
        const inv_ledger_row *x = &c.rows[i];
        Shelfline__V1__LedgerEntry *e = sl_arena_alloc(a, sizeof *e);
        if (e == NULL)
            return OOM(err);
        shelfline__v1__ledger_entry__init(e);
        e->ledger_id = x->id;
        e->sku = (char *)x->sku;
        e->warehouse_id = (char *)x->warehouse_id;
        e->delta = x->delta;
        e->reason = inv_reason_of(x->reason);
        e->reference = (char *)x->reference;
        e->actor = (char *)x->actor;
        e->request_id = (char *)x->request_id;
        e->trace_id = (char *)x->trace_id;
        e->created_at_ms = x->created_ms;
        out->entries[i] = e;
    }
    out->n_entries = c.n;
    if (c.n == (size_t)c.limit) {
        char last[24];
        snprintf(last, sizeof last, "%lld", (long long)c.rows[c.n - 1].id);
        if ((out->next_page_token = sl_page_token_encode(a, last)) == NULL)
            return OOM(err);
    }
    return SL_OK;
}
