/*
 * sl_valid: the generic request check (see sl_valid.h), a walk over the
 * protobuf wire format guided by the message descriptors.
 *
 * The walk reads every tag of the message and of every known nested
 * message; unknown fields are skipped whole (only their tag is checked).
 * It allocates nothing: the path of the field being read lives in a fixed
 * buffer, and repeated-field indexes are counted per nesting level in a
 * small array on the stack.
 */
#include "sl_valid.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sl_utf8.h"

/* Deeper nesting is refused: no Shelfline message nests anywhere near it,
 * and it bounds the recursion and the stack. */
#define MAX_DEPTH 24
/* Fields per message whose repeated index is tracked; messages here have
 * far fewer, and a field past it is still checked, named without index. */
#define MAX_COUNTED 128

typedef struct walk {
    const char *root; /* the request type's full name, for decode errors */
    /* The field being read, outermost first.  Kept as pointers and indexes
     * and printed only when a request is refused: formatting it for every
     * field cost four times protobuf-c's own decoding. */
    struct {
        const char *name;
        bool repeated;
        uint32_t index;
    } seg[MAX_DEPTH + 2];
    int nseg;
    char path[256]; /* the printed path, for messages */
    sl_err *err;
} walk;

static bool read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return false;
        uint8_t b = p[(*pos)++];
        v |= (uint64_t)(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false; /* more than 10 bytes */
}

/* A little-endian fixed-width value of width (4 or 8) bytes. */
static bool read_fixed(const uint8_t *p, size_t len, size_t *pos, size_t width, uint64_t *out)
{
    if (len - *pos < width)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v |= (uint64_t)p[*pos + i] << (8 * i);
    *pos += width;
    *out = v;
    return true;
}

static sl_status malformed(walk *w)
{
    return sl_err_set(w->err, SL_INVALID_ARGUMENT, "could not decode request as %s", w->root);
}

/* Enters a field; returns the depth to go back to with path_pop. */
static int path_push(walk *w, const char *name, bool repeated, uint32_t index)
{
    int old = w->nseg;
    if (w->nseg < (int)(sizeof w->seg / sizeof w->seg[0])) {
        w->seg[w->nseg].name = name;
        w->seg[w->nseg].repeated = repeated;
        w->seg[w->nseg].index = index;
        w->nseg++;
    }
    return old;
}

static void path_pop(walk *w, int old)
{
    w->nseg = old;
}

/* The path of the field being read, "lines[2].sku" ("" at the top). */
static const char *path(walk *w)
{
    size_t len = 0;
    w->path[0] = '\0';
    for (int i = 0; i < w->nseg && len < sizeof w->path; i++) {
        int n;
        if (w->seg[i].repeated)
            n = snprintf(w->path + len, sizeof w->path - len, "%s%s[%" PRIu32 "]", i > 0 ? "." : "",
                         w->seg[i].name, w->seg[i].index);
        else
            n = snprintf(w->path + len, sizeof w->path - len, "%s%s", i > 0 ? "." : "",
                         w->seg[i].name);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return w->path;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static sl_status check_string(walk *w, const uint8_t *p, size_t len)
{
    if (len > SL_VALID_MAX_STRING)
        return sl_err_field(w->err, path(w),
                            "%s: %zu bytes, more than the limit of %d for a string field", path(w),
                            len, SL_VALID_MAX_STRING);
    const void *nul = memchr(p, '\0', len);
    if (nul != NULL)
        return sl_err_field(w->err, path(w),
                            "%s must not contain a NUL character (found at byte %zu)", path(w),
                            (size_t)((const uint8_t *)nul - p));
    size_t bad;
    if (!sl_utf8_valid(p, len, &bad))
        return sl_err_field(w->err, path(w),
                            "%s must be valid UTF-8 (invalid byte 0x%02x at byte %zu)", path(w),
                            p[bad], bad);
    return SL_OK;
}

/* A time field: an integer field named "*_ms".  Durations are "*_ttl_ms";
 * every other one is an instant in milliseconds since the epoch. */
static bool is_time_field(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return ends_with(fd->name, "_ms");
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return false;
    }
    return false;
}

/* The value of a time field as a signed 64-bit number, from its raw wire
 * value (varint or fixed-width bits), following the field's type. */
static int64_t time_value(const ProtobufCFieldDescriptor *fd, uint64_t raw, bool *too_big)
{
    *too_big = false;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SINT64:
        return (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return (int32_t)(uint32_t)raw;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return (int64_t)(uint32_t)raw;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *too_big = raw > (uint64_t)INT64_MAX;
        return (int64_t)(raw & (uint64_t)INT64_MAX);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        break;
    }
    return (int64_t)raw;
}

static sl_status check_time(walk *w, const ProtobufCFieldDescriptor *fd, uint64_t raw)
{
    bool too_big;
    int64_t v = time_value(fd, raw, &too_big);
    if (ends_with(fd->name, "_ttl_ms")) {
        if (too_big || v < 0 || v > SL_VALID_MAX_DURATION_MS)
            return sl_err_set(w->err, SL_INVALID_ARGUMENT,
                              "%s must be a duration between 0 and %" PRId64
                              " milliseconds (got %s%" PRId64 ")",
                              path(w), SL_VALID_MAX_DURATION_MS, too_big ? "more than " : "", v);
        return SL_OK;
    }
    if (too_big || v < 0 || v > SL_VALID_MAX_INSTANT_MS)
        return sl_err_set(w->err, SL_INVALID_ARGUMENT,
                          "%s must be an instant in milliseconds since 1970-01-01T00:00:00Z no "
                          "later than 9999-12-31T23:59:59.999Z (got %s%" PRId64 ")",
                          path(w), too_big ? "more than " : "", v);
    return SL_OK;
}

static sl_status walk_message(walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                              size_t len, int depth);

/* One length-delimited field's payload p[0..n), for a known field fd. */
static sl_status check_delimited(walk *w, const ProtobufCFieldDescriptor *fd, const uint8_t *p,
                                 size_t n, int depth)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        return check_string(w, p, n);
    case PROTOBUF_C_TYPE_MESSAGE:
        return walk_message(w, fd->descriptor, p, n, depth + 1);
    case PROTOBUF_C_TYPE_BYTES:
        return SL_OK;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_BOOL:
    case PROTOBUF_C_TYPE_ENUM:
        break;
    }
    /* A packed repeated scalar: only time fields have values to check. */
    if (fd->label != PROTOBUF_C_LABEL_REPEATED)
        return malformed(w);
    if (!is_time_field(fd))
        return SL_OK;
    size_t pos = 0;
    while (pos < n) {
        uint64_t raw = 0;
        if (fd->type == PROTOBUF_C_TYPE_SFIXED64 || fd->type == PROTOBUF_C_TYPE_FIXED64 ||
            fd->type == PROTOBUF_C_TYPE_SFIXED32 || fd->type == PROTOBUF_C_TYPE_FIXED32) {
            size_t width =
                fd->type == PROTOBUF_C_TYPE_SFIXED64 || fd->type == PROTOBUF_C_TYPE_FIXED64 ? 8 : 4;
            if (!read_fixed(p, n, &pos, width, &raw))
                return malformed(w);
        } else if (!read_varint(p, n, &pos, &raw)) {
            return malformed(w);
        }
        sl_status st = check_time(w, fd, raw);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

static sl_status walk_message(walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                              size_t len, int depth)
{
    if (depth > MAX_DEPTH)
        return sl_err_set(w->err, SL_INVALID_ARGUMENT, "%s: messages nested more than %d deep",
                          w->nseg > 0 ? path(w) : w->root, MAX_DEPTH);
    uint32_t counts[MAX_COUNTED];
    /* Only the message's own fields are counted: zero just those. */
    memset(counts, 0, (d->n_fields < MAX_COUNTED ? d->n_fields : MAX_COUNTED) * sizeof counts[0]);
    size_t pos = 0;
    while (pos < len) {
        uint64_t tag;
        if (!read_varint(p, len, &pos, &tag))
            return malformed(w);
        uint64_t number = tag >> 3;
        unsigned wire = (unsigned)(tag & 7);
        if (number == 0 || number > 536870911u)
            return sl_err_set(w->err, SL_INVALID_ARGUMENT,
                              "%s%sinvalid field number %" PRIu64 " in %s", path(w),
                              w->nseg > 0 ? ": " : "", number, d->name);
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field(d, (unsigned)number);
        int old = 0;
        if (fd != NULL) {
            size_t idx = (size_t)(fd - d->fields);
            bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
            uint32_t i = 0;
            if (repeated && idx < MAX_COUNTED && wire == 2 &&
                (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE ||
                 fd->type == PROTOBUF_C_TYPE_BYTES))
                i = counts[idx]++;
            old = path_push(w, fd->name, repeated && idx < MAX_COUNTED, i);
        }
        sl_status st = SL_OK;
        uint64_t v;
        switch (wire) {
        case 0: /* varint */
            if (!read_varint(p, len, &pos, &v))
                st = malformed(w);
            else if (fd != NULL && is_time_field(fd))
                st = check_time(w, fd, v);
            break;
        case 1: /* 64-bit */
        case 5: /* 32-bit */ {
            if (!read_fixed(p, len, &pos, wire == 1 ? 8 : 4, &v)) {
                st = malformed(w);
                break;
            }
            if (fd != NULL && is_time_field(fd))
                st = check_time(w, fd, v);
            break;
        }
        case 2: /* length-delimited */
            if (!read_varint(p, len, &pos, &v) || v > len - pos) {
                st = malformed(w);
                break;
            }
            if (fd != NULL)
                st = check_delimited(w, fd, p + pos, (size_t)v, depth);
            pos += (size_t)v;
            break;
        default: /* groups (3, 4) do not exist in proto3; 6 and 7 nowhere */
            st = sl_err_set(w->err, SL_INVALID_ARGUMENT,
                            "%s%sunsupported wire type %u for field %" PRIu64 " in %s", path(w),
                            w->nseg > 0 ? ": " : "", wire, number, d->name);
            break;
        }
        if (st != SL_OK)
            return st;
        if (fd != NULL)
            path_pop(w, old);
    }
    return SL_OK;
}

sl_status sl_valid_request(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
                           sl_err *err)
{
    walk w;
    w.root = desc->name;
    w.nseg = 0;
    w.err = err;
    return walk_message(&w, desc, data, len, 0);
}
