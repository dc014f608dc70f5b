/*
 * sl_json: proto3 JSON <-> protoc-c messages (see sl_json.h for the
 * mapping).
 *
 * Encoding walks the message's descriptor and writes text straight into a
 * growing buffer: no intermediate tree, and the number formats are ours
 * (64-bit integers as strings, shortest round-tripping floats).  Decoding
 * parses with jansson (the suite already links it to read JWT claims) and
 * then walks the tree against the descriptor, allocating the message from
 * the caller's arena as protobuf-c's unpack would.
 *
 * protoc-c's storage, which both directions rely on: a singular field
 * lives at field->offset; a repeated one is a pointer to its elements
 * there and a size_t count at quantifier_offset; a oneof member's case (a
 * uint32 holding the member's number) is at quantifier_offset; a proto2 or
 * proto3-optional scalar's has_ flag (protobuf_c_boolean) too.
 */
#include "sl_json.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- names -- */

char *sl_json_name(const char *field_name, char *out, size_t cap)
{
    size_t n = 0;
    bool upper = false;
    for (const char *p = field_name; *p != '\0' && n + 1 < cap; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        char c = *p;
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper = false;
        out[n++] = c;
    }
    if (cap > 0)
        out[n] = '\0';
    return out;
}

/* --------------------------------------------------------------- base64 -- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sl_base64_encode(const uint8_t *data, size_t len, bool pad, sl_arena *a)
{
    char *out = sl_arena_alloc(a, (len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = b64_std[v >> 18 & 63];
        out[o++] = b64_std[v >> 12 & 63];
        out[o++] = b64_std[v >> 6 & 63];
        out[o++] = b64_std[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
        out[o++] = b64_std[v >> 18 & 63];
        out[o++] = b64_std[v >> 12 & 63];
        if (i + 1 < len)
            out[o++] = b64_std[v >> 6 & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

bool sl_base64_decode(const char *text, size_t len, sl_arena *a, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    /* Padding only at the end, and only to a multiple of four. */
    size_t n = len;
    while (n > 0 && text[n - 1] == '=')
        n--;
    if (len - n > 2 || (len != n && len % 4 != 0) || n % 4 == 1)
        return false;
    uint8_t *buf = sl_arena_alloc(a, n / 4 * 3 + 3);
    if (buf == NULL)
        return false;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(text[i]);
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits of the last character must be zero (canonical). */
    if (acc != 0)
        return false;
    buf[o] = 0;
    *out = buf;
    *out_len = o;
    return true;
}

/* ------------------------------------------------------------- encoding -- */

typedef struct wbuf {
    char *p;
    size_t len, cap;
    bool oom;
} wbuf;

static void put(wbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap > 0 ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = sl_realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(wbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(wbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, backslashes and control characters escaped; other
 * bytes (UTF-8) as they are. */
static void put_string(wbuf *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            puts_(b, "\\\"");
            break;
        case '\\':
            puts_(b, "\\\\");
            break;
        case '\n':
            puts_(b, "\\n");
            break;
        case '\r':
            puts_(b, "\\r");
            break;
        case '\t':
            puts_(b, "\\t");
            break;
        case '\b':
            puts_(b, "\\b");
            break;
        case '\f':
            puts_(b, "\\f");
            break;
        default:
            putf(b, "\\u%04x", c);
        }
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

/* The shortest of %.Ng (from digits up to max_digits) that reads back as
 * v (as a float when is_float), so 0.1 is written 0.1. */
static void put_real(wbuf *b, double v, bool is_float)
{
    if (isnan(v)) {
        puts_(b, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        puts_(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    char tmp[40];
    for (int digits = is_float ? 6 : 15; digits <= 17; digits++) {
        snprintf(tmp, sizeof tmp, "%.*g", digits, v);
        double back = strtod(tmp, NULL);
        if (is_float ? (float)back == (float)v : back == v)
            break;
    }
    puts_(b, tmp);
}

static void encode_message(wbuf *b, const ProtobufCMessage *msg, sl_arena *scratch);

/* One value of field f stored at p (an element for repeated fields). */
static void encode_value(wbuf *b, const ProtobufCFieldDescriptor *f, const void *p,
                         sl_arena *scratch)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        putf(b, "%" PRId32, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        putf(b, "%" PRIu32, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        putf(b, "\"%" PRId64 "\"", *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        putf(b, "\"%" PRIu64 "\"", *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        put_real(b, *(const float *)p, true);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        put_real(b, *(const double *)p, false);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        puts_(b, *(const protobuf_c_boolean *)p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev =
            protobuf_c_enum_descriptor_get_value((const ProtobufCEnumDescriptor *)f->descriptor, v);
        if (ev != NULL)
            put_string(b, ev->name, strlen(ev->name));
        else
            putf(b, "%d", v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        put_string(b, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        char *text = sl_base64_encode(bd->data, bd->len, true, scratch);
        if (text == NULL)
            b->oom = true;
        else
            put_string(b, text, strlen(text));
        sl_arena_reset(scratch);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        if (m == NULL)
            puts_(b, "{}");
        else
            encode_message(b, m, scratch);
        break;
    }
    }
}

/* Whether a singular proto3 field without presence holds its default. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)p == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        /* -0.0 is not the default: its sign bit is set (as protobuf
         * compares the bits). */
        uint32_t bits;
        memcpy(&bits, p, sizeof bits);
        return bits == 0;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, p, sizeof bits);
        return bits == 0;
    }
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)p == 0;
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int *)p == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p == NULL;
    }
    return true;
}

static bool is_pointer_type(ProtobufCType t)
{
    return t == PROTOBUF_C_TYPE_STRING || t == PROTOBUF_C_TYPE_MESSAGE;
}

/* Whether field f of msg is written at all. */
static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)msg;
    const void *p = base + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + f->quantifier_offset) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (is_pointer_type(f->type))
            return *(void *const *)p != NULL;
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
    }
    return !is_default(f, p);
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static void encode_message(wbuf *b, const ProtobufCMessage *msg, sl_arena *scratch)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    bool first = true;
    put(b, "{", 1);
    for (unsigned i = 0; i < d->n_fields && !b->oom; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!field_present(msg, f))
            continue;
        char name[256];
        if (!first)
            put(b, ",", 1);
        first = false;
        sl_json_name(f->name, name, sizeof name);
        put_string(b, name, strlen(name));
        put(b, ":", 1);
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            encode_value(b, f, base + f->offset, scratch);
            continue;
        }
        size_t n = *(const size_t *)(base + f->quantifier_offset);
        const char *elems = *(char *const *)(base + f->offset);
        size_t sz = elem_size(f->type);
        put(b, "[", 1);
        for (size_t k = 0; k < n; k++) {
            if (k > 0)
                put(b, ",", 1);
            encode_value(b, f, elems + k * sz, scratch);
        }
        put(b, "]", 1);
    }
    put(b, "}", 1);
}

sl_status sl_json_encode(const ProtobufCMessage *msg, char **out, size_t *len, sl_err *err)
{
    *out = NULL;
    *len = 0;
    wbuf b = {0};
    sl_arena *scratch = sl_arena_create(0);
    if (scratch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    encode_message(&b, msg, scratch);
    sl_arena_destroy(scratch);
    if (b.oom) {
        free(b.p);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory writing %s as JSON",
                          msg->descriptor->name);
    }
    *out = b.p;
    *len = b.len;
    return SL_OK;
}

/* ------------------------------------------------------------- decoding -- */

/* The path of the field being read, "lines[2].qty", for error messages
 * and err->field. */
typedef struct path {
    char s[SL_ERR_FIELD_MAX];
    size_t len;
} path;

typedef struct dec {
    sl_arena *a;
    sl_err *err;
    path p;
    int depth;
} dec;

static size_t path_push(path *p, const char *name, long index)
{
    size_t mark = p->len;
    int n;
    if (index >= 0)
        n = snprintf(p->s + p->len, sizeof p->s - p->len, "[%ld]", index);
    else
        n = snprintf(p->s + p->len, sizeof p->s - p->len, "%s%s", p->len > 0 ? "." : "", name);
    if (n > 0)
        p->len = p->len + (size_t)n < sizeof p->s ? p->len + (size_t)n : sizeof p->s - 1;
    return mark;
}

static void path_pop(path *p, size_t mark)
{
    p->len = mark;
    p->s[mark] = '\0';
}

static sl_status bad(dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sl_status bad(dec *d, const char *fmt, ...)
{
    char what[SL_ERR_MSG_MAX - SL_ERR_FIELD_MAX - 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (d->p.len == 0)
        return sl_err_set(d->err, SL_INVALID_ARGUMENT, "%s", what);
    return sl_err_field(d->err, d->p.s, "%s: %s", d->p.s, what);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* An integer from a JSON number or string, within [min, max] (signed) or
 * [0, umax] (unsigned). */
static sl_status read_int(dec *d, const json_t *v, bool is_signed, int64_t min, int64_t max,
                          uint64_t umax, int64_t *s_out, uint64_t *u_out)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (is_signed ? (x < min || x > max) : (x < 0 || (uint64_t)x > umax))
            return bad(d, "%" JSON_INTEGER_FORMAT " is out of range", x);
        *s_out = (int64_t)x;
        *u_out = (uint64_t)x;
        return SL_OK;
    }
    if (json_is_real(v)) {
        /* 1.0 and 1e3 are integers; 1.5 is not.  Bounds checked as
         * doubles, which hold every limit exactly. */
        double x = json_real_value(v);
        if (x != floor(x))
            return bad(d, "%g is not an integer", x);
        if (is_signed ? (x < (double)min || x >= -(double)min) : (x < 0 || x >= (double)umax + 1.0))
            return bad(d, "%g is out of range", x);
        *s_out = (int64_t)x;
        *u_out = (uint64_t)x;
        return SL_OK;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n == 0 || n > 32 || strlen(s) != n)
            return bad(d, "\"%.40s\" is not an integer", s);
        /* Digits with an optional sign only: strtoll alone would take
         * leading space and a "0x" would not be caught as text. */
        for (size_t i = 0; i < n; i++)
            if (!(s[i] >= '0' && s[i] <= '9') && !(i == 0 && s[i] == '-' && n > 1))
                return bad(d, "\"%s\" is not an integer", s);
        errno = 0;
        char *end;
        if (is_signed) {
            long long x = strtoll(s, &end, 10);
            if (errno != 0 || x < min || x > max)
                return bad(d, "%s is out of range", s);
            *s_out = x;
            *u_out = (uint64_t)x;
        } else {
            if (s[0] == '-')
                return bad(d, "%s is out of range", s);
            unsigned long long x = strtoull(s, &end, 10);
            if (errno != 0 || x > umax)
                return bad(d, "%s is out of range", s);
            *s_out = (int64_t)x;
            *u_out = x;
        }
        return SL_OK;
    }
    return bad(d, "expected an integer, got %s", json_kind(v));
}

static sl_status read_real(dec *d, const json_t *v, bool is_float, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "NaN") == 0) {
            *out = NAN;
        } else if (strcmp(s, "Infinity") == 0) {
            *out = INFINITY;
        } else if (strcmp(s, "-Infinity") == 0) {
            *out = -INFINITY;
        } else {
            /* A number in a string: JSON's grammar, parsed as one. */
            json_error_t je;
            json_t *num = json_loads(s, JSON_DECODE_ANY, &je);
            bool ok = num != NULL && json_is_number(num);
            if (ok)
                *out = json_number_value(num);
            json_decref(num);
            if (!ok)
                return bad(d, "\"%.40s\" is not a number", s);
        }
    } else {
        return bad(d, "expected a number, got %s", json_kind(v));
    }
    if (isnan(*out) || isinf(*out))
        return SL_OK;
    /* A JSON number too large for a double reads as infinity in jansson:
     * refused there already; a float has its own, smaller range. */
    if (is_float && fabs(*out) > 3.4028234663852886e38)
        return bad(d, "%g is out of range for a float", *out);
    return SL_OK;
}

static sl_status decode_object(dec *d, const ProtobufCMessageDescriptor *desc, const json_t *obj,
                               ProtobufCMessage **out);

/* One value of field f from v into p (the field, or a repeated element). */
static sl_status decode_value(dec *d, const ProtobufCFieldDescriptor *f, const json_t *v, void *p)
{
    int64_t s = 0;
    uint64_t u = 0;
    sl_status st;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        st = read_int(d, v, true, INT32_MIN, INT32_MAX, 0, &s, &u);
        if (st == SL_OK)
            *(int32_t *)p = (int32_t)s;
        return st;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        st = read_int(d, v, false, 0, 0, UINT32_MAX, &s, &u);
        if (st == SL_OK)
            *(uint32_t *)p = (uint32_t)u;
        return st;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        st = read_int(d, v, true, INT64_MIN, INT64_MAX, 0, &s, &u);
        if (st == SL_OK)
            *(int64_t *)p = s;
        return st;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        st = read_int(d, v, false, 0, 0, UINT64_MAX, &s, &u);
        if (st == SL_OK)
            *(uint64_t *)p = u;
        return st;
    case PROTOBUF_C_TYPE_FLOAT: {
        double x;
        st = read_real(d, v, true, &x);
        if (st == SL_OK)
            *(float *)p = (float)x;
        return st;
    }
    case PROTOBUF_C_TYPE_DOUBLE:
        return read_real(d, v, false, (double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return bad(d, "expected true or false, got %s", json_kind(v));
        *(protobuf_c_boolean *)p = json_is_true(v);
        return SL_OK;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = f->descriptor;
        if (json_is_string(v)) {
            const ProtobufCEnumValue *ev =
                protobuf_c_enum_descriptor_get_value_by_name(ed, json_string_value(v));
            if (ev == NULL)
                return bad(d, "\"%.60s\" is not a value of %s", json_string_value(v), ed->name);
            *(int *)p = ev->value;
            return SL_OK;
        }
        st = read_int(d, v, true, INT32_MIN, INT32_MAX, 0, &s, &u);
        if (st == SL_OK)
            *(int *)p = (int)s;
        return st;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v))
            return bad(d, "expected a string, got %s", json_kind(v));
        /* jansson refuses \u0000 (no JSON_ALLOW_NUL), so the text is
         * whole. */
        char *copy = sl_arena_strdup(d->a, json_string_value(v));
        if (copy == NULL)
            return sl_err_set(d->err, SL_RESOURCE_EXHAUSTED, "out of memory");
        *(char **)p = copy;
        return SL_OK;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        if (!json_is_string(v))
            return bad(d, "expected base64 in a string, got %s", json_kind(v));
        ProtobufCBinaryData *bd = p;
        uint8_t *data;
        size_t n;
        if (!sl_base64_decode(json_string_value(v), json_string_length(v), d->a, &data, &n))
            return bad(d, "not base64");
        bd->data = data;
        bd->len = n;
        return SL_OK;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        if (!json_is_object(v))
            return bad(d, "expected an object, got %s", json_kind(v));
        return decode_object(d, f->descriptor, v, (ProtobufCMessage **)p);
    }
    return bad(d, "unsupported field type");
}

/* The field named key (JSON name or proto name), or NULL. */
static const ProtobufCFieldDescriptor *field_by_key(const ProtobufCMessageDescriptor *desc,
                                                    const char *key)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
    if (f != NULL)
        return f;
    char name[256];
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (strcmp(sl_json_name(desc->fields[i].name, name, sizeof name), key) == 0)
            return &desc->fields[i];
    return NULL;
}

static sl_status decode_repeated(dec *d, const ProtobufCFieldDescriptor *f, const json_t *v,
                                 char *base)
{
    if (!json_is_array(v))
        return bad(d, "expected an array, got %s", json_kind(v));
    size_t n = json_array_size(v), sz = elem_size(f->type);
    char *elems = n > 0 ? sl_arena_zalloc(d->a, n * sz) : NULL;
    if (n > 0 && elems == NULL)
        return sl_err_set(d->err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t k = 0; k < n; k++) {
        const json_t *e = json_array_get(v, k);
        size_t mark = path_push(&d->p, "", (long)k);
        sl_status st =
            json_is_null(e) ? bad(d, "null is no element") : decode_value(d, f, e, elems + k * sz);
        if (st != SL_OK)
            return st;
        path_pop(&d->p, mark);
    }
    *(size_t *)(base + f->quantifier_offset) = n;
    *(char **)(base + f->offset) = elems;
    return SL_OK;
}

/* A message of type desc from the JSON object obj. */
static sl_status decode_object(dec *d, const ProtobufCMessageDescriptor *desc, const json_t *obj,
                               ProtobufCMessage **out)
{
    if (++d->depth > SL_JSON_MAX_DEPTH)
        return bad(d, "nested deeper than %d", SL_JSON_MAX_DEPTH);
    ProtobufCMessage *m = sl_arena_alloc(d->a, desc->sizeof_message);
    bool *seen = sl_arena_zalloc(d->a, desc->n_fields + 1);
    if (m == NULL || seen == NULL)
        return sl_err_set(d->err, SL_RESOURCE_EXHAUSTED, "out of memory");
    desc->message_init(m);
    char *base = (char *)m;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const ProtobufCFieldDescriptor *f = field_by_key(desc, key);
        size_t mark = path_push(&d->p, f != NULL ? f->name : key, -1);
        if (f == NULL)
            return bad(d, "unknown field \"%s\" of %s", key, desc->name);
        unsigned idx = (unsigned)(f - desc->fields);
        if (seen[idx])
            return bad(d, "given twice");
        seen[idx] = true;
        if (json_is_null(v)) {
            /* null: the default, which message_init left there. */
            path_pop(&d->p, mark);
            continue;
        }
        sl_status st;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            st = decode_repeated(d, f, v, base);
        } else {
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                uint32_t *c = (uint32_t *)(base + f->quantifier_offset);
                if (*c != 0)
                    return bad(d, "another member of its oneof is already set");
                *c = f->id;
            } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_pointer_type(f->type)) {
                *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
            }
            st = decode_value(d, f, v, base + f->offset);
        }
        if (st != SL_OK)
            return st;
        path_pop(&d->p, mark);
    }
    d->depth--;
    *out = m;
    return SL_OK;
}

sl_status sl_json_decode(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                         sl_arena *a, ProtobufCMessage **out, sl_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *root = json_loadb(json != NULL ? json : "", len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "request is not JSON: %s (line %d, column %d)",
                          je.text, je.line, je.column);
    dec d = {.a = a, .err = err};
    sl_status st = json_is_object(root) ? decode_object(&d, desc, root, out)
                                        : sl_err_set(err, SL_INVALID_ARGUMENT,
                                                     "expected a JSON object for %s, got %s",
                                                     desc->name, json_kind(root));
    json_decref(root);
    if (st != SL_OK)
        *out = NULL;
    return st;
}
