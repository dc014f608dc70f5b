/*
 * inv_api: helpers shared by the handlers (see inv_api.h).
 */
#include "inv_api.h"

#include <stdio.h>
#include <string.h>

#include "inv_store.h"
#include "sl_page.h"

sl_db_tx_options inv_api_tx_opts(sl_call *call, bool read_only)
{
    int64_t d = sl_call_deadline_ms(call);
    sl_db_tx_options o = {
        .isolation = read_only ? SL_DB_REPEATABLE_READ : SL_DB_READ_COMMITTED,
        .read_only = read_only,
        .deadline_ms = d == INT64_MAX ? 0 : d,
    };
    return o;
}

sl_status inv_api_tx(sl_call *call, bool read_only, sl_db_tx_fn tx, void *ctx, sl_err *err)
{
    sl_db_tx_options o = inv_api_tx_opts(call, read_only);
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
        return sl_err_set(err, SL_NOT_FOUND, "%s: unknown warehouse \"%s\"", field, id);
    return SL_OK;
}

/* ---- protobuf wire format, just enough for google.rpc.Status ---- */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* A length-delimited field: tag, length, bytes. */
static size_t put_bytes(uint8_t *p, int field, const void *v, size_t len)
{
    size_t n = put_varint(p, (uint64_t)field << 3 | 2);
    n += put_varint(p + n, len);
    if (len > 0)
        memcpy(p + n, v, len);
    return n + len;
}

size_t inv_api_status_details(uint8_t *buf, size_t cap, int code, const char *message,
                              const char *type_url, const uint8_t *value, size_t value_len)
{
    size_t tl = strlen(type_url), ml = strlen(message);
    size_t any_len = 1 + varint_len(tl) + tl + 1 + varint_len(value_len) + value_len;
    size_t need = 1 + varint_len((uint64_t)code) + 1 + varint_len(ml) + ml + 1 +
                  varint_len(any_len) + any_len;
    if (need > cap)
        return 0;
    size_t n = put_varint(buf, 1 << 3 | 0);
    n += put_varint(buf + n, (uint64_t)code);
    n += put_bytes(buf + n, 2, message, ml);
    n += put_varint(buf + n, 3 << 3 | 2);
    n += put_varint(buf + n, any_len);
    n += put_bytes(buf + n, 1, type_url, tl);
    n += put_bytes(buf + n, 2, value, value_len);
    return n;
}
