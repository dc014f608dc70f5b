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

#include <stdbool.h>
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

/* ---- the suite's identifier grammar and field checks ----
 *
 * One grammar for every service, so an id one service accepts is one every
 * other service accepts too (an order id of service-desk is a reservation
 * id of inventory).  Service validation modules call these with the field
 * named the way the client wrote it ("lines[2].sku"); every refusal is
 * INVALID_ARGUMENT with a message starting with that name. */

/* What an identifier must be:
 *   SL_ID         1..64 of A-Z a-z 0-9 . _ -      ids, SKUs, customer ids
 *   SL_ID_SHORT   1..32 of A-Z a-z 0-9 . _ -      warehouse ids
 *   SL_ID_REGION  1..32 of A-Z 0-9 _ -, starting with a letter
 *   SL_ID_KEY     1..64 of A-Z a-z 0-9 . _ - : /  idempotency keys */
typedef enum sl_id_kind {
    SL_ID,
    SL_ID_SHORT,
    SL_ID_REGION,
    SL_ID_KEY,
} sl_id_kind;

/* True when s (NULL reads as "") is a well-formed identifier of kind. */
bool sl_id_ok(const char *s, sl_id_kind kind);

/* OK when value is a well-formed identifier of kind, else INVALID_ARGUMENT:
 * "<field> is required (must not be empty)" or "<field> "<value>" is
 * malformed: expected <the rule>". */
sl_status sl_valid_id(const char *field, const char *value, sl_id_kind kind, sl_err *err);

/* As sl_valid_id, but "" (or NULL) is accepted: an optional id or filter. */
sl_status sl_valid_opt_id(const char *field, const char *value, sl_id_kind kind, sl_err *err);

/* Free text of min..max bytes, valid UTF-8, without control characters
 * (tab and newline included): names, reasons, notes.  NULL reads as "". */
sl_status sl_valid_text(const char *field, const char *value, size_t min, size_t max, sl_err *err);

/* An instant in Unix milliseconds within [min_ms, max_ms]: "<field> must
 * be between <min> and <max> (got <ms>)", the bounds as UTC times. */
sl_status sl_valid_instant(const char *field, int64_t ms, int64_t min_ms, int64_t max_ms,
                           sl_err *err);

/* A calendar date written exactly "YYYY-MM-DD" (a real date, years
 * 0001..9999): "<field> "<value>" is malformed: expected a date
 * YYYY-MM-DD".  NULL reads as "". */
sl_status sl_valid_date(const char *field, const char *value, sl_err *err);

/* 2000-01-01T00:00:00Z: the earliest instant the services take for an
 * order or a ticket (older ones are a client's clock or unit gone wrong). */
#define SL_VALID_MIN_RECENT_MS INT64_C(946684800000)

#endif
