/*
 * sl_connect: every unary and server-streaming RPC of a server on its HTTP
 * face (sl_http), in the Connect protocol (connectrpc.com/docs/protocol),
 * so a client with nothing but curl or fetch() can call the suite:
 *
 *   POST /shelfline.v1.InventoryService/GetAvailability
 *   Content-Type: application/json          (or application/proto)
 *   Authorization: Bearer <jwt>
 *   {"sku": "SKU-1"}
 *
 * A call runs in-process through the gRPC dispatcher
 * (sl_server_call_local_ex, sl_server_stream_local): the same decoding
 * checks, interceptor (authentication), roles, validation, handler,
 * metrics and access log as a gRPC call.  JSON is the proto3 mapping
 * (sl_json).  Request headers passed on: Authorization, X-Request-Id,
 * traceparent, tracestate; Connect-Timeout-Ms becomes the call's deadline.
 *
 * Unary answers: 200 with the reply in the request's content type; an
 * error as Connect's JSON error body {"code": "invalid_argument",
 * "message": ..., "details": [{"type": "google.rpc.BadRequest", "value":
 * <base64>}]} (the details are those a gRPC client finds in
 * grpc-status-details-bin) with the HTTP status of the code
 * (sl_connect_http_status).  A path that names no method of the server:
 * 404, code unimplemented.  Another content type: 415.
 *
 * Server streams (WatchEvents, WatchNotifications, WatchAlerts) in the
 * streaming form: Content-Type application/connect+json or
 * application/connect+proto, the request one enveloped message (a flags
 * byte, 0; its length, 4 bytes big-endian; the message).  The answer is
 * 200 at once, then each message the handler sends in an envelope of its
 * own (flags 0), and last the end-stream message (flags 0x02): {} or
 * {"error": <the error body above>}.  Every error -- a refused token, a
 * bad envelope, the stream cap -- ends the stream that way; only a
 * content type outside the streaming form is answered otherwise (415; the
 * unary form of a stream, application/json: 501 unimplemented).  Each
 * stream runs on a thread of its own and holds one of the server's
 * max_streams places; the connection waits off libmicrohttpd's threads
 * between messages (sl_http_stream_open).  A client that disconnects ends
 * its stream (CANCELLED) within the dispatcher's poll interval.  Client
 * and bidirectional streams: 501 (gRPC serves them).
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
