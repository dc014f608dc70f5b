/*
 * sl_connect: every unary RPC of a server on its HTTP face (sl_http), in
 * the Connect protocol's unary form (connectrpc.com/docs/protocol), so a
 * client with nothing but curl or fetch() can call the suite:
 *
 *   POST /shelfline.v1.InventoryService/GetAvailability
 *   Content-Type: application/json          (or application/proto)
 *   Authorization: Bearer <jwt>
 *   {"sku": "SKU-1"}
 *
 * The call runs in-process through the gRPC dispatcher
 * (sl_server_call_local_ex): the same decoding checks, interceptor
 * (authentication), roles, validation, handler, metrics and access log as
 * a gRPC call.  JSON is the proto3 mapping (sl_json).  Request headers
 * passed on: Authorization, X-Request-Id, traceparent, tracestate;
 * Connect-Timeout-Ms becomes the call's deadline.
 *
 * Answers: 200 with the reply in the request's content type; an error as
 * Connect's JSON error body {"code": "invalid_argument", "message": ...,
 * "details": [{"type": "google.rpc.BadRequest", "value": <base64>}]} (the
 * details are those a gRPC client finds in grpc-status-details-bin) with
 * the HTTP status of the code (sl_connect_http_status).  A path that names
 * no method of the server: 404, code unimplemented.  Another content type:
 * 415.  Streaming methods are not served over HTTP yet: 501
 * (unimplemented) -- gRPC serves them.
 */
#ifndef SL_CONNECT_H
#define SL_CONNECT_H

#include "sl_http.h"
#include "sl_server.h"
#include "sl_status.h"

/* Routes POST /<service>/<method> of every service added to s so far
 * (sl_server_services: call it after the last one is added), and answers
 * 404 for any other path under their packages ("/shelfline.v1.").  Before
 * sl_http_start; s must outlive h.  RESOURCE_EXHAUSTED past sl_http's
 * route limit. */
sl_status sl_connect_route(sl_http *h, sl_server *s, sl_err *err);

/* Connect's name of a status ("invalid_argument", "canceled"). */
const char *sl_connect_code(sl_status st);

/* The HTTP status of a Connect error code (the protocol's table:
 * invalid_argument 400, unauthenticated 401, not_found 404, ...). */
int sl_connect_http_status(sl_status st);

#endif
