/*
 * sd_api_returns: CreateReturn and ReceiveReturn -- validate (sd_valid),
 * call the domain (sd_returns), reply.
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

sl_status sd_api_receive_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__ReceiveReturnRequest *r = (const void *)req;
    sl_status st = sd_valid_receive_return(r, err);
    return st != SL_OK ? st : sd_returns_receive(call, r, (void *)resp, err);
}
