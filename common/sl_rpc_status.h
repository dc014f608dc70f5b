/*
 * sl_rpc_status: the one mapping between an sl_err and the google.rpc.Status
 * a gRPC call's grpc-status-details-bin trailer carries (gRPC's "richer
 * error model"), both ways, with protoc-c's code for google/rpc/status.proto
 * and error_details.proto.
 *
 * Encoding (sl_server, for every call that ends with an error): Status
 * {code, message} equal to the call's status, and in details, after the
 * handler's own (e.g. inventory's ReserveShortfall):
 *   - INVALID_ARGUMENT: a google.rpc.BadRequest with one field violation,
 *     the field being err->field or, when the error names none, the path
 *     the message starts with if it is a field of the request
 *     ("lines[2].qty: ..." in a ReserveRequest), else "";
 *   - UNAVAILABLE and RESOURCE_EXHAUSTED: a google.rpc.RetryInfo;
 *   - an error with a reason: a google.rpc.ErrorInfo {reason, domain
 *     "shelfline.v1", metadata}.
 * A standard detail the handler already gave (a peer's, forwarded) is not
 * added twice.  docs/OPERATIONS.md ("Error model") is the contract.
 *
 * Decoding (sl_client): the details of a peer's Status, and its ErrorInfo
 * reason and metadata back into an sl_err, so a refusal passed on keeps
 * its reason.
 *
 * Everything is allocated from the arena given; nothing here touches gRPC.
 */
#ifndef SL_RPC_STATUS_H
#define SL_RPC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "sl_arena.h"
#include "sl_status.h"

#define SL_RPC_TYPE_URL_PREFIX "type.googleapis.com/"

/* RetryInfo.retry_delay: an UNAVAILABLE answer is a replica going away or
 * the database reconnecting (sl_client's own backoff tops out at 1 s); a
 * RESOURCE_EXHAUSTED one a full server or quota, which frees up as holds
 * and calls end. */
#define SL_RPC_RETRY_UNAVAILABLE_MS 500
#define SL_RPC_RETRY_EXHAUSTED_MS 1000

/* One detail: an Any's type URL ("type.googleapis.com/<full name>") and
 * packed message. */
typedef struct sl_rpc_detail {
    const char *type_url;
    const uint8_t *value;
    size_t len;
} sl_rpc_detail;

/* The serialized google.rpc.Status for a call ending with st (not OK) and
 * err (NULL: no message, no field, no reason), with extra[0..n_extra) first
 * in its details.  request (NULL: unknown) is the request's type, to find
 * the field of an INVALID_ARGUMENT whose err names none.  *out is arena
 * memory; NULL and *len 0 when there is no detail to send (the status and
 * message say it all).  False when out of memory. */
bool sl_rpc_status_pack(sl_status st, const sl_err *err, const ProtobufCMessageDescriptor *request,
                        const sl_rpc_detail *extra, size_t n_extra, sl_arena *a, uint8_t **out,
                        size_t *len);

/* The field path msg starts with ("lines[2].qty" of "lines[2].qty: must be
 * positive"), when every step of it is a field of request (a message field
 * for all but the last, an index only on a repeated one), copied into
 * out[cap]; its length, 0 when msg names no such field. */
size_t sl_rpc_field_path(const char *msg, const ProtobufCMessageDescriptor *request, char *out,
                         size_t cap);

/* The details of a serialized google.rpc.Status: *out (n entries) and
 * their values are arena memory.  False when status does not decode or out
 * of memory. */
bool sl_rpc_status_details(const void *status, size_t len, sl_arena *a, sl_rpc_detail **out,
                           size_t *n);

/* When status holds an ErrorInfo of domain "shelfline.v1", copies its
 * reason and metadata into err (keeping err's status and message); false
 * when there is none. */
bool sl_rpc_status_read_reason(const void *status, size_t len, sl_arena *a, sl_err *err);

#endif
