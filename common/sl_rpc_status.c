/*
 * sl_rpc_status: sl_err <-> google.rpc.Status, with protoc-c's generated
 * code (see sl_rpc_status.h for the mapping).
 */
#include "sl_rpc_status.h"

#include <stdio.h>
#include <string.h>

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"

/* The handler's details plus at most the three standard ones. */
#define STANDARD_DETAILS 3

static const char *type_url(sl_arena *a, const ProtobufCMessageDescriptor *d)
{
    size_t n = strlen(SL_RPC_TYPE_URL_PREFIX) + strlen(d->name) + 1;
    char *s = sl_arena_alloc(a, n);
    if (s != NULL)
        snprintf(s, n, "%s%s", SL_RPC_TYPE_URL_PREFIX, d->name);
    return s;
}

static bool is_type(const char *url, const ProtobufCMessageDescriptor *d)
{
    size_t pl = strlen(SL_RPC_TYPE_URL_PREFIX);
    return url != NULL && strncmp(url, SL_RPC_TYPE_URL_PREFIX, pl) == 0 &&
           strcmp(url + pl, d->name) == 0;
}

static bool has_type(const sl_rpc_detail *extra, size_t n, const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < n; i++)
        if (is_type(extra[i].type_url, d))
            return true;
    return false;
}

/* Packs m into a new Any of the list (arena memory); false when out of
 * memory. */
static bool add_any(sl_arena *a, Google__Protobuf__Any *any, const ProtobufCMessage *m)
{
    google__protobuf__any__init(any);
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_arena_alloc(a, n + 1);
    any->type_url = (char *)type_url(a, m->descriptor);
    if (buf == NULL || any->type_url == NULL)
        return false;
    protobuf_c_message_pack(m, buf);
    any->value.data = buf;
    any->value.len = n;
    return true;
}

static bool add_bad_request(sl_arena *a, Google__Protobuf__Any *any, const sl_err *err,
                            const ProtobufCMessageDescriptor *request)
{
    Google__Rpc__BadRequest__FieldViolation v = GOOGLE__RPC__BAD_REQUEST__FIELD_VIOLATION__INIT;
    Google__Rpc__BadRequest__FieldViolation *vs[1] = {&v};
    char path[SL_ERR_FIELD_MAX] = "";
    v.field = path;
    v.description = "";
    if (err != NULL) {
        if (err->field[0] != '\0')
            v.field = (char *)err->field;
        else
            sl_rpc_field_path(err->msg, request, path, sizeof path);
        v.description = (char *)err->msg;
    }
    Google__Rpc__BadRequest br = GOOGLE__RPC__BAD_REQUEST__INIT;
    br.n_field_violations = 1;
    br.field_violations = vs;
    return add_any(a, any, &br.base);
}

static bool add_retry_info(sl_arena *a, Google__Protobuf__Any *any, sl_status st)
{
    int64_t ms = st == SL_UNAVAILABLE ? SL_RPC_RETRY_UNAVAILABLE_MS : SL_RPC_RETRY_EXHAUSTED_MS;
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    d.seconds = ms / 1000;
    d.nanos = (int32_t)(ms % 1000 * 1000000);
    Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
    ri.retry_delay = &d;
    return add_any(a, any, &ri.base);
}

static bool add_error_info(sl_arena *a, Google__Protobuf__Any *any, const sl_err *err)
{
    Google__Rpc__ErrorInfo__MetadataEntry e[SL_ERR_META_MAX], *ep[SL_ERR_META_MAX];
    size_t n = err->n_meta < SL_ERR_META_MAX ? err->n_meta : SL_ERR_META_MAX;
    for (size_t i = 0; i < n; i++) {
        google__rpc__error_info__metadata_entry__init(&e[i]);
        e[i].key = (char *)err->meta[i].key;
        e[i].value = (char *)err->meta[i].value;
        ep[i] = &e[i];
    }
    Google__Rpc__ErrorInfo ei = GOOGLE__RPC__ERROR_INFO__INIT;
    ei.reason = (char *)err->reason;
    ei.domain = SL_ERR_DOMAIN;
    ei.n_metadata = n;
    ei.metadata = ep;
    return add_any(a, any, &ei.base);
}

bool sl_rpc_status_pack(sl_status st, const sl_err *err, const ProtobufCMessageDescriptor *request,
                        const sl_rpc_detail *extra, size_t n_extra, sl_arena *a, uint8_t **out,
                        size_t *len)
{
    size_t cap = n_extra + STANDARD_DETAILS;
    Google__Protobuf__Any *anys = sl_arena_alloc(a, cap * sizeof *anys);
    Google__Protobuf__Any **list = sl_arena_alloc(a, cap * sizeof *list);
    if (anys == NULL || list == NULL)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < n_extra; i++, n++) {
        google__protobuf__any__init(&anys[n]);
        anys[n].type_url = (char *)extra[i].type_url;
        anys[n].value.data = (uint8_t *)extra[i].value;
        anys[n].value.len = extra[i].len;
    }
    bool ok = true;
    if (st == SL_INVALID_ARGUMENT &&
        !has_type(extra, n_extra, &google__rpc__bad_request__descriptor))
        ok = add_bad_request(a, &anys[n++], err, request);
    if (ok && (st == SL_UNAVAILABLE || st == SL_RESOURCE_EXHAUSTED) &&
        !has_type(extra, n_extra, &google__rpc__retry_info__descriptor))
        ok = add_retry_info(a, &anys[n++], st);
    if (ok && err != NULL && err->reason[0] != '\0' &&
        !has_type(extra, n_extra, &google__rpc__error_info__descriptor))
        ok = add_error_info(a, &anys[n++], err);
    if (!ok)
        return false;
    *out = NULL;
    *len = 0;
    if (n == 0)
        return true; /* nothing a client could not read from the status itself */
    for (size_t i = 0; i < n; i++)
        list[i] = &anys[i];
    Google__Rpc__Status s = GOOGLE__RPC__STATUS__INIT;
    s.code = sl_status_grpc_code(st);
    s.message = err != NULL ? (char *)err->msg : "";
    s.n_details = n;
    s.details = list;
    *len = protobuf_c_message_get_packed_size(&s.base);
    *out = sl_arena_alloc(a, *len + 1);
    if (*out == NULL)
        return false;
    protobuf_c_message_pack(&s.base, *out);
    return true;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

size_t sl_rpc_field_path(const char *msg, const ProtobufCMessageDescriptor *request, char *out,
                         size_t cap)
{
    if (msg == NULL || request == NULL || cap == 0)
        return 0;
    const ProtobufCMessageDescriptor *d = request;
    size_t i = 0;
    for (;;) {
        /* One step: a field name, an optional [index], then "." or the end. */
        size_t start = i;
        while (name_char(msg[i]))
            i++;
        char name[64];
        if (i == start || i - start >= sizeof name)
            return 0;
        memcpy(name, msg + start, i - start);
        name[i - start] = '\0';
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(d, name);
        if (f == NULL)
            return 0;
        if (msg[i] == '[') {
            if (f->label != PROTOBUF_C_LABEL_REPEATED)
                return 0;
            size_t digits = ++i;
            while (msg[i] >= '0' && msg[i] <= '9')
                i++;
            if (i == digits || msg[i] != ']')
                return 0;
            i++;
        }
        if (msg[i] != '.')
            break;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            return 0;
        d = f->descriptor;
        i++;
    }
    if (msg[i] != '\0' && msg[i] != ' ' && msg[i] != ':')
        return 0;
    if (i >= cap)
        return 0;
    memcpy(out, msg, i);
    out[i] = '\0';
    return i;
}

bool sl_rpc_status_details(const void *status, size_t len, sl_arena *a, sl_rpc_detail **out,
                           size_t *n)
{
    *out = NULL;
    *n = 0;
    Google__Rpc__Status *s =
        google__rpc__status__unpack(sl_arena_pb_allocator(a), len, (const uint8_t *)status);
    if (s == NULL)
        return false;
    if (s->n_details == 0)
        return true;
    sl_rpc_detail *d = sl_arena_alloc(a, s->n_details * sizeof *d);
    if (d == NULL)
        return false;
    for (size_t i = 0; i < s->n_details; i++)
        d[i] = (sl_rpc_detail){s->details[i]->type_url, s->details[i]->value.data,
                               s->details[i]->value.len};
    *out = d;
    *n = s->n_details;
    return true;
}

bool sl_rpc_status_read_reason(const void *status, size_t len, sl_arena *a, sl_err *err)
{
    sl_rpc_detail *d;
    size_t n;
    if (err == NULL || !sl_rpc_status_details(status, len, a, &d, &n))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_type(d[i].type_url, &google__rpc__error_info__descriptor))
            continue;
        Google__Rpc__ErrorInfo *ei =
            google__rpc__error_info__unpack(sl_arena_pb_allocator(a), d[i].len, d[i].value);
        if (ei == NULL || strcmp(ei->domain, SL_ERR_DOMAIN) != 0)
            continue;
        sl_err_set_reason(err, ei->reason);
        err->n_meta = 0;
        for (size_t k = 0; k < ei->n_metadata; k++)
            sl_err_meta(err, ei->metadata[k]->key, "%s", ei->metadata[k]->value);
        return true;
    }
    return false;
}
