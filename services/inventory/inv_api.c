/*
 * inv_api: helpers shared by the handlers (see inv_api.h).
 */
#include "inv_api.h"

#include <stdio.h>
#include <string.h>

#include "inv_store.h"
#include "sl_page.h"

sl_status inv_api_tx(sl_call *call, bool read_only, sl_db_tx_fn tx, void *ctx, sl_err *err)
{
    sl_db_tx_options o = sl_service_tx_options(call, read_only);
    return sl_db_tx(((inv_app *)sl_call_ctx(call))->db, &o, tx, ctx, err);
}

sl_status inv_api_page_after(const Shelfline__V1__PageRequest *page, char *after, size_t cap,
                             sl_err *err)
{
    return sl_page_token_decode(page != NULL ? page->page_token : "", after, cap, err);
}

sl_status inv_api_split_key(char *key, const char **x, const char **y, sl_err *err)
{
    *x = key;
    *y = "";
    if (key[0] == '\0')
        return SL_OK;
    char *sep = strchr(key, '\x1f');
    if (sep == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "page.page_token is not a token this RPC issued");
    *sep = '\0';
    *y = sep + 1;
    return SL_OK;
}

char *inv_api_two_part_key(sl_arena *a, const char *x, const char *y)
{
    size_t n = strlen(x) + strlen(y) + 2;
    char *k = sl_arena_alloc(a, n);
    if (k != NULL)
        snprintf(k, n, "%s\x1f%s", x, y);
    return k;
}

const uint8_t *inv_api_pack(sl_call *call, const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_arena_alloc(sl_call_arena(call), n + 1);
    if (buf == NULL)
        return NULL;
    protobuf_c_message_pack(m, buf);
    *len = n;
    return buf;
}

bool inv_api_same(sl_call *call, const ProtobufCMessage *x, const ProtobufCMessage *y)
{
    size_t nx = 0, ny = 0;
    const uint8_t *px = inv_api_pack(call, x, &nx), *py = inv_api_pack(call, y, &ny);
    return px != NULL && py != NULL && nx == ny && memcmp(px, py, nx) == 0;
}

sl_status inv_api_need_warehouse(sl_db_conn *conn, sl_arena *a, const char *field, const char *id,
                                 sl_err *err)
{
    inv_wh_row *w;
    size_t n;
    const char *ids[1] = {id};
    sl_status st = inv_store_warehouses(conn, a, ids, 1, &w, &n, err);
    if (st != SL_OK)
        return st;
    if (n == 0)
        return sl_err_reason(err, SL_NOT_FOUND, "WAREHOUSE_NOT_FOUND",
                             "%s: unknown warehouse \"%s\"", field, id);
    return SL_OK;
}

sl_status inv_api_need_sku_wh(sl_db_conn *conn, sl_arena *a, const char *sku, const char *wh,
                              sl_err *err)
{
    long missing;
    const char *skus[1] = {sku};
    sl_status st = inv_store_skus_missing(conn, a, skus, 1, &missing, err);
    if (st != SL_OK)
        return st;
    if (missing >= 0)
        return sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku: unknown SKU \"%s\"", sku);
    if (wh[0] != '\0')
        return inv_api_need_warehouse(conn, a, "warehouse_id", wh, err);
    return SL_OK;
}
