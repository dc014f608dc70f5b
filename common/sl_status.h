/*
 * sl_status: the one status vocabulary of the whole suite.
 *
 * Every fallible function in Shelfline returns an sl_status and, when the
 * caller passes one, fills an sl_err with a human-readable message.  The list
 * below is the single source of the codes, their names and their gRPC status
 * codes; sl_status_grpc_code() is the only place statuses become gRPC codes.
 * Codes only ever grow.
 */
#ifndef SL_STATUS_H
#define SL_STATUS_H

#include <stddef.h>

/* X(name, grpc code number) -- gRPC numbers from grpc/status.h, repeated here
 * so that services never include gRPC headers. */
#define SL_STATUS_LIST(X)                                                                          \
    X(OK, 0)                                                                                       \
    X(CANCELLED, 1)                                                                                \
    X(UNKNOWN, 2)                                                                                  \
    X(INVALID_ARGUMENT, 3)                                                                         \
    X(DEADLINE_EXCEEDED, 4)                                                                        \
    X(NOT_FOUND, 5)                                                                                \
    X(ALREADY_EXISTS, 6)                                                                           \
    X(PERMISSION_DENIED, 7)                                                                        \
    X(RESOURCE_EXHAUSTED, 8)                                                                       \
    X(FAILED_PRECONDITION, 9)                                                                      \
    X(ABORTED, 10)                                                                                 \
    X(OUT_OF_RANGE, 11)                                                                            \
    X(UNIMPLEMENTED, 12)                                                                           \
    X(INTERNAL, 13)                                                                                \
    X(UNAVAILABLE, 14)                                                                             \
    X(DATA_LOSS, 15)                                                                               \
    X(UNAUTHENTICATED, 16)

typedef enum sl_status {
#define SL__STATUS_ENUM(name, code) SL_##name,
    SL_STATUS_LIST(SL__STATUS_ENUM)
#undef SL__STATUS_ENUM
} sl_status;

#define SL_ERR_MSG_MAX 512
#define SL_ERR_FIELD_MAX 128
#define SL_ERR_REASON_MAX 48
#define SL_ERR_META_MAX 4
#define SL_ERR_META_KEY_MAX 32
#define SL_ERR_META_VALUE_MAX 96

/* The domain of every ErrorInfo the suite sends (docs/OPERATIONS.md, "Error
 * model"). */
#define SL_ERR_DOMAIN "shelfline.v1"

/* Error detail travelling beside a status.  Callers may pass NULL wherever
 * an sl_err * is taken when they only care about the status.
 *
 * Besides the message an error may carry the structured details a gRPC
 * client reads from the call's google.rpc.Status (sl_server sends them in
 * grpc-status-details-bin; the mapping is in sl_rpc_status.h):
 *   field   INVALID_ARGUMENT: the request field at fault, as the message
 *           names it ("lines[2].qty"), sent as a google.rpc.BadRequest
 *           field violation (sl_err_field);
 *   reason  a business refusal's stable SCREAMING_SNAKE reason
 *           ("OUT_OF_STOCK"), sent as a google.rpc.ErrorInfo of domain
 *           SL_ERR_DOMAIN with meta as its metadata (sl_err_reason,
 *           sl_err_meta).  Reasons are a public contract: never renamed.
 * sl_err_set clears both, so a new error never inherits an old one's. */
typedef struct sl_err {
    sl_status status;
    char msg[SL_ERR_MSG_MAX];
    char field[SL_ERR_FIELD_MAX];
    char reason[SL_ERR_REASON_MAX];
    size_t n_meta;
    struct {
        char key[SL_ERR_META_KEY_MAX];
        char value[SL_ERR_META_VALUE_MAX];
    } meta[SL_ERR_META_MAX];
} sl_err;

/* Name of a status, e.g. "INVALID_ARGUMENT"; "UNKNOWN_STATUS" for values
 * outside the list.  Static storage. */
const char *sl_status_name(sl_status st);

/* The gRPC status code number for st. */
int sl_status_grpc_code(sl_status st);

/* The status for a gRPC status code number (UNKNOWN for unknown numbers). */
sl_status sl_status_from_grpc_code(int code);

/* Records st and a printf-style message into err (if err is not NULL) and
 * returns st, so that "return sl_err_set(err, SL_NOT_FOUND, ...)" reads as one
 * step.  Messages follow PostgreSQL style: lower case, no final period. */
sl_status sl_err_set(sl_err *err, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* INVALID_ARGUMENT naming the request field at fault: records field (the
 * path the message names, "lines[%zu].qty" already formatted) beside the
 * message, so the client gets a BadRequest field violation.  Returns
 * INVALID_ARGUMENT. */
sl_status sl_err_field(sl_err *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A business refusal (sold out, not found, already used...) with its
 * stable reason: as sl_err_set, and the client gets a google.rpc.ErrorInfo
 * {reason, domain "shelfline.v1"}.  Returns st. */
sl_status sl_err_reason(sl_err *err, sl_status st, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Sets err's reason, keeping its status and message (for errors built by
 * other means, e.g. a message assembled piece by piece). */
void sl_err_set_reason(sl_err *err, const char *reason);

/* Adds key = printf-style value to the ErrorInfo metadata (sku, available,
 * ...); ignored past SL_ERR_META_MAX entries or when err is NULL. */
void sl_err_meta(sl_err *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes err's message with "context: " keeping its status and details
 * (no-op when err is NULL).  Used when an error crosses a module boundary. */
void sl_err_wrap(sl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Places err inside entry i of the request's repeated field list (a batch
 * RPC's entries): the message gets the prefix "list[i]: " and the field
 * path, when set, "list[i]."; status, reason and metadata are kept.  No-op
 * when err is NULL. */
void sl_err_in_entry(sl_err *err, const char *list, size_t i);

/* Resets err to OK with an empty message. */
void sl_err_clear(sl_err *err);

#endif
