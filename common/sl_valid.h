/*
 * sl_valid: the checks every request passes before any handler sees it,
 * driven by the protoc-c descriptors so a new RPC or field is covered
 * without code of its own.
 *
 * The dispatcher (sl_server) runs sl_valid_request on the request's wire
 * bytes, not on the decoded struct, because decoding loses what must be
 * refused: protobuf-c keeps a string only up to its first NUL (so
 * "ORDER-7\0shop-a" and "ORDER-7\0shop-b" would become one key), and it
 * accepts field number 0, which protobuf forbids.  Refused here, for every
 * field at any depth, with the field's path in the message
 * ("lines[2].sku: ..."):
 *   - a tag with field number 0, or a group (proto3 has none);
 *   - a string field that is not UTF-8, holds a NUL, or is longer than
 *     SL_VALID_MAX_STRING bytes;
 *   - an integer field whose name ends in "_ms" outside its range: instants
 *     (every such field except durations) within [0, 9999-12-31T23:59:59.999Z],
 *     durations (names ending in "_ttl_ms") within [0, SL_VALID_MAX_DURATION_MS].
 *     Zero keeps its proto3 meaning of "unset"; the service decides what
 *     unset means.
 * Service-specific rules (id grammars, tighter ranges) stay in each
 * service's validation module and run after this.
 */
#ifndef SL_VALID_H
#define SL_VALID_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "sl_status.h"

/* Longest string field accepted, in bytes.  Free text (ticket bodies) is
 * the longest legitimate content; 64 KiB is far above any e-mail body a
 * service desk keeps, and bounds what one field can make a service store. */
#define SL_VALID_MAX_STRING 65536

/* The last millisecond of 9999-12-31 UTC: instants beyond it have no
 * four-digit year, and PostgreSQL's timestamp range is wider. */
#define SL_VALID_MAX_INSTANT_MS INT64_C(253402300799999)

/* Ten years: longer than any hold or timeout the suite uses, short enough
 * that now + duration is a valid instant. */
#define SL_VALID_MAX_DURATION_MS (INT64_C(3660) * 86400 * 1000)

/* Checks the encoded message data[0..len) of type desc as described above.
 * Returns OK, or INVALID_ARGUMENT with the field path and the reason in
 * err.  The input need not be well-formed protobuf: a malformed encoding is
 * INVALID_ARGUMENT too ("could not decode ...").  Allocates nothing. */
sl_status sl_valid_request(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                           sl_err *err);

#endif
