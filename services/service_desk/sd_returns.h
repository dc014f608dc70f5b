/*
 * sd_returns: returns (RMAs), the domain behind sd_api_returns.c.
 * CreateReturn accepts units of a delivered order within the return window,
 * at most what was bought minus earlier returns (checked under the order's
 * row lock); ReceiveReturn restocks resellable units through inventory's
 * AdjustStock, then records the receipt, the refund and RETURN_RECEIVED in
 * one transaction.  Requests are checked by sd_valid.h first.
 */
#ifndef SD_RETURNS_H
#define SD_RETURNS_H

#include <stdint.h>

#include "sd_app.h"

/* Records the return (or answers the retry of the same request; another
 * return under the same id is ALREADY_EXISTS). */
sl_status sd_returns_create(sd_app *app, int64_t deadline_ms, sl_arena *a,
                            const Shelfline__V1__CreateReturnRequest *r, Shelfline__V1__Return *out,
                            sl_err *err);

/* One return; NOT_FOUND naming the id. */
sl_status sd_returns_get(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *rma_id,
                         Shelfline__V1__Return *out, sl_err *err);

/* One page of ListReturns (r checked by sd_valid_list_returns, which gave
 * limit and the key the page starts below). */
sl_status sd_returns_list(sd_app *app, int64_t deadline_ms, sl_arena *a,
                          const Shelfline__V1__ListReturnsRequest *r, int limit, int64_t before_ms,
                          const char *before_id, Shelfline__V1__ListReturnsResponse *out,
                          sl_err *err);

/* Receives the return (a received one is answered unchanged). */
sl_status sd_returns_receive(sl_call *call, const Shelfline__V1__ReceiveReturnRequest *r,
                             Shelfline__V1__Return *out, sl_err *err);

#endif
