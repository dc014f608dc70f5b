/*
 * cv_api: what the customer-value handlers share besides validation --
 * days, packing, Money (see cv_app.h); their transactions take
 * sl_service_tx_options.  Like inventory's inv_api.c.
 */
#include "cv_app.h"

int32_t cv_day(int64_t ms)
{
    int64_t d = ms / CV_DAY_MS;
    if (ms < 0 && ms % CV_DAY_MS != 0)
        d--;
    return (int32_t)d;
}

const uint8_t *cv_pack(sl_call *call, const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_arena_alloc(sl_call_arena(call), n + 1);
    if (buf == NULL)
        return NULL;
    *len = protobuf_c_message_pack(m, buf);
    return buf;
}

Shelfline__V1__Money *cv_money(sl_arena *a, int64_t minor, const char *currency)
{
    Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
    if (m == NULL)
        return NULL;
    shelfline__v1__money__init(m);
    m->minor_units = minor;
    m->currency = (char *)(currency != NULL ? currency : "");
    return m;
}
