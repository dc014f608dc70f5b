/*
 * sl_json: the proto3 canonical JSON mapping of any protoc-c message,
 * driven by its descriptors (ProtobufCMessageDescriptor), both ways.  What
 * the Connect face (sl_connect) speaks for application/json.
 *
 * Output (sl_json_encode):
 *  - field names in lowerCamelCase (protoc's json_name: "sku_region" ->
 *    "skuRegion"; protoc-c 1.4 keeps no json_name, and proto/ sets none);
 *  - fields at their default value are left out (proto3 singular scalars
 *    equal to zero, "", empty bytes, enum 0, unset messages, empty
 *    repeated fields); a set oneof member and a set proto3 optional are
 *    always written, zero or not;
 *  - int64, uint64 (and their fixed/sint kinds) as decimal strings, 32-bit
 *    integers as numbers; float and double as the shortest number that
 *    reads back to the same value, "NaN", "Infinity", "-Infinity";
 *  - enums by value name (a number the enum does not name: the number);
 *  - bytes as standard base64 with padding;
 *  - repeated fields as arrays, messages as objects.
 * Input (sl_json_decode) accepts what the specification allows: the
 * lowerCamelCase name or the proto field name; integers as numbers or
 * strings (a number with a zero fraction, "1.0", is taken; a fraction is
 * not); enums by name or number; bytes in standard or URL-safe base64,
 * padded or not; null for the field's default.  Refused, with
 * INVALID_ARGUMENT naming the field path ("lines[2].qty") in err->field: an
 * unknown field, a value of the wrong JSON type, an integer out of its
 * type's range, an unknown enum name, bad base64, a field given twice (by
 * both its names), two members of one oneof, text that is not JSON or
 * whose top level is not an object, duplicate keys, nesting deeper than
 * SL_JSON_MAX_DEPTH.
 *
 * Not covered: map fields and the google.protobuf well-known types (their
 * special JSON forms): proto/ uses neither, and a WKT would be written as
 * an ordinary message.  uint64 values above 2^63-1 are read from strings
 * only (the JSON parser, jansson, holds numbers as long long or double).
 *
 * Memory: decoded messages and their fields are arena memory (free them
 * by resetting the arena, never with protobuf_c_message_free_unpacked);
 * encoded text is malloc'd.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "sl_arena.h"
#include "sl_status.h"

/* Deepest nesting of objects and arrays sl_json_decode reads. */
#define SL_JSON_MAX_DEPTH 64

/* msg as JSON text: *out is malloc'd and NUL-terminated (the caller frees
 * it), *len its length.  RESOURCE_EXHAUSTED when out of memory; INTERNAL
 * when a field holds what its type cannot (a string that is not UTF-8 is
 * written as is: protobuf-c checked it when it decoded the message). */
sl_status sl_json_encode(const ProtobufCMessage *msg, char **out, size_t *len, sl_err *err);

/* Reads the JSON text json (len bytes) as a message of type desc, into
 * arena memory (*out).  INVALID_ARGUMENT as above, RESOURCE_EXHAUSTED when
 * out of memory. */
sl_status sl_json_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                         sl_arena *a, ProtobufCMessage **out, sl_err *err);

/* The lowerCamelCase JSON name of a proto field name, into out[cap]
 * (truncated, always terminated).  Returns out. */
char *sl_json_name(const char *field_name, char *out, size_t cap);

/* Standard base64 of data[0..len) (with "=" padding when pad), NUL-
 * terminated, into arena memory; NULL when out of memory. */
char *sl_base64_encode(const uint8_t *data, size_t len, bool pad, sl_arena *a);

/* Decodes standard or URL-safe base64, padded or not (text[0..len)), into
 * arena memory: *out (NUL-terminated beyond *out_len).  False when text is
 * not base64 or out of memory (*out NULL then). */
bool sl_base64_decode(const char *text, size_t len, sl_arena *a, uint8_t **out, size_t *out_len);

#endif
