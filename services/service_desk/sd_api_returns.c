/*
 * sd_api_returns: CreateReturn, ReceiveReturn, GetReturn, ListReturns --
 * validate (sd_valid), call the domain (sd_returns), reply.
 */
#include "sd_api.h"
#include "sd_returns.h"
#include "sd_valid.h"

sl_status sd_api_create_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err)
{
    const Shelfline__V1__CreateReturnRequest *r = (const void *)req;
    sl_status st = sd_valid_create_return(r, err);
    if (st != SL_OK)
        return st;
    return sd_returns_create(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call), r,
                             (void *)resp, err);
}

sl_status sd_api_get_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__GetReturnRequest *r = (const void *)req;
    sl_status st = sd_valid_id("rma_id", r->rma_id, err);
    if (st != SL_OK)
        return st;
    return sd_returns_get(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call),
                          r->rma_id, (void *)resp, err);
}

sl_status sd_api_list_returns(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__ListReturnsRequest *r = (const void *)req;
    int limit;
    char key[160];
    int64_t before_ms;
    const char *before_id;
    sl_status st = sd_valid_list_returns(r, &limit, key, &before_ms, &before_id, err);
    if (st != SL_OK)
        return st;
    return sd_returns_list(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call), r,
                           limit, before_ms, before_id, (void *)resp, err);
}

sl_status sd_api_receive_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__ReceiveReturnRequest *r = (const void *)req;
    sl_status st = sd_valid_receive_return(r, err);
    return st != SL_OK ? st : sd_returns_receive(call, r, (void *)resp, err);
}
