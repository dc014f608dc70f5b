/*
 * sl_reflection: server reflection from an embedded descriptor set.
 *
 * The index.  The set's bytes are split into its files (field 1 of
 * FileDescriptorSet, read straight off the wire so a file is sent to
 * clients exactly as protoc wrote it); each file is decoded once with
 * descriptor.proto's protobuf-c code to collect its dependencies and
 * symbols, and then freed: what stays is names (in the index's arena), the
 * files' byte ranges (in the set) and sorted arrays searched by bsearch.
 * The index never changes after creation, so streams share it without a
 * lock.
 *
 * One handler serves both versions.  v1alpha's messages are v1's under
 * another package, byte for byte, so a v1alpha request is re-decoded as v1,
 * answered, and the answer re-decoded as v1alpha before it is sent: one
 * copy of the logic, a copy of a small message per request.
 */
#include "sl_reflection.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "sl_arena.h"
#include "sl_log.h"

/* The descriptor set compiled in by CMake (shelfline_embed_file). */
extern const unsigned char sl__descriptor_set[];
extern const size_t sl__descriptor_set_len;

typedef struct refl_file {
    const char *name;
    const uint8_t *bytes; /* the serialized FileDescriptorProto (packed at start-up) */
    size_t len;
    size_t *deps; /* indices of its direct dependencies */
    size_t n_deps;
} refl_file;

typedef struct refl_symbol {
    const char *name; /* full name, no leading dot */
    size_t file;
} refl_symbol;

typedef struct refl_ext {
    const char *extendee; /* full name, no leading dot */
    int32_t number;
    size_t file;
} refl_ext;

struct sl_reflection {
    sl_arena *arena; /* names and dependency lists */
    refl_file *files;
    size_t n_files;
    refl_symbol *symbols;
    size_t n_symbols, cap_symbols;
    refl_ext *exts;
    size_t n_exts, cap_exts;
    sl_server *server; /* for list_services; set by sl_reflection_add */
    sl_service_def defs[2];
};

const void *sl_reflection_suite_set(size_t *len)
{
    *len = sl__descriptor_set_len;
    return sl__descriptor_set;
}

/* ------------------------------------------------------------ indexing -- */

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 64;
    void *p = sl_realloc(*v, c * size);
    if (p == NULL)
        return false;
    *v = p;
    *cap = c;
    return true;
}

/* "scope.name" in the arena ("name" when scope is empty). */
static const char *join(sl_arena *a, const char *scope, const char *name)
{
    if (name == NULL)
        name = "";
    if (scope == NULL || scope[0] == '\0')
        return sl_arena_strdup(a, name);
    size_t sl = strlen(scope), nl = strlen(name);
    char *s = sl_arena_alloc(a, sl + nl + 2);
    if (s == NULL)
        return NULL;
    memcpy(s, scope, sl);
    s[sl] = '.';
    memcpy(s + sl + 1, name, nl + 1);
    return s;
}

static bool add_symbol(sl_reflection *r, const char *name, size_t file)
{
    if (name == NULL ||
        !grow((void **)&r->symbols, &r->cap_symbols, r->n_symbols, sizeof *r->symbols))
        return false;
    r->symbols[r->n_symbols++] = (refl_symbol){name, file};
    return true;
}

/* An extension field declared in scope: a symbol, and an entry by its
 * extendee and number. */
static bool add_extension(sl_reflection *r, const char *scope,
                          const Google__Protobuf__FieldDescriptorProto *f, size_t file)
{
    const char *extendee = f->extendee != NULL ? f->extendee : "";
    if (extendee[0] == '.')
        extendee++;
    if (!add_symbol(r, join(r->arena, scope, f->name), file) ||
        !grow((void **)&r->exts, &r->cap_exts, r->n_exts, sizeof *r->exts))
        return false;
    const char *e = sl_arena_strdup(r->arena, extendee);
    if (e == NULL)
        return false;
    r->exts[r->n_exts++] = (refl_ext){e, f->number, file};
    return true;
}

/* An enum and its values; as in protobuf's scoping, the values are
 * siblings of the enum (scope.VALUE), not its children. */
static bool add_enum(sl_reflection *r, const char *scope,
                     const Google__Protobuf__EnumDescriptorProto *e, size_t file)
{
    if (!add_symbol(r, join(r->arena, scope, e->name), file))
        return false;
    for (size_t i = 0; i < e->n_value; i++)
        if (!add_symbol(r, join(r->arena, scope, e->value[i]->name), file))
            return false;
    return true;
}

static bool add_message(sl_reflection *r, const char *scope,
                        const Google__Protobuf__DescriptorProto *m, size_t file)
{
    const char *full = join(r->arena, scope, m->name);
    if (!add_symbol(r, full, file))
        return false;
    for (size_t i = 0; i < m->n_field; i++)
        if (!add_symbol(r, join(r->arena, full, m->field[i]->name), file))
            return false;
    for (size_t i = 0; i < m->n_oneof_decl; i++)
        if (!add_symbol(r, join(r->arena, full, m->oneof_decl[i]->name), file))
            return false;
    for (size_t i = 0; i < m->n_nested_type; i++)
        if (!add_message(r, full, m->nested_type[i], file))
            return false;
    for (size_t i = 0; i < m->n_enum_type; i++)
        if (!add_enum(r, full, m->enum_type[i], file))
            return false;
    for (size_t i = 0; i < m->n_extension; i++)
        if (!add_extension(r, full, m->extension[i], file))
            return false;
    return true;
}

static bool add_file_symbols(sl_reflection *r, const Google__Protobuf__FileDescriptorProto *fd,
                             size_t file)
{
    const char *pkg = fd->package;
    for (size_t i = 0; i < fd->n_message_type; i++)
        if (!add_message(r, pkg, fd->message_type[i], file))
            return false;
    for (size_t i = 0; i < fd->n_enum_type; i++)
        if (!add_enum(r, pkg, fd->enum_type[i], file))
            return false;
    for (size_t i = 0; i < fd->n_extension; i++)
        if (!add_extension(r, pkg, fd->extension[i], file))
            return false;
    for (size_t i = 0; i < fd->n_service; i++) {
        const Google__Protobuf__ServiceDescriptorProto *s = fd->service[i];
        const char *full = join(r->arena, pkg, s->name);
        if (!add_symbol(r, full, file))
            return false;
        for (size_t j = 0; j < s->n_method; j++)
            if (!add_symbol(r, join(r->arena, full, s->method[j]->name), file))
                return false;
    }
    return true;
}

/* File i of the set: its serialized form, as answers carry it, packed
 * once here; its name, its dependencies' names (resolved once every name is
 * known) and its symbols. */
static sl_status index_file(sl_reflection *r, size_t i,
                            const Google__Protobuf__FileDescriptorProto *fd,
                            const char ***dep_names, sl_err *err)
{
    refl_file *f = &r->files[i];
    f->len = google__protobuf__file_descriptor_proto__get_packed_size(fd);
    uint8_t *bytes = sl_arena_alloc(r->arena, f->len + 1);
    f->name = sl_arena_strdup(r->arena, fd->name != NULL ? fd->name : "");
    f->n_deps = fd->n_dependency;
    f->deps = sl_arena_alloc(r->arena, (fd->n_dependency + 1) * sizeof *f->deps);
    *dep_names = sl_arena_alloc(r->arena, (fd->n_dependency + 1) * sizeof **dep_names);
    if (bytes == NULL || f->name == NULL || f->deps == NULL || *dep_names == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    google__protobuf__file_descriptor_proto__pack(fd, bytes);
    f->bytes = bytes;
    for (size_t d = 0; d < fd->n_dependency; d++) {
        (*dep_names)[d] = sl_arena_strdup(r->arena, fd->dependency[d]);
        if ((*dep_names)[d] == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    if (!add_file_symbols(r, fd, i))
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    return SL_OK;
}

static bool file_index(const sl_reflection *r, const char *name, size_t *out)
{
    /* Linear: a set holds a few dozen files and this runs at start-up and
     * once per file request. */
    for (size_t i = 0; i < r->n_files; i++) {
        if (strcmp(r->files[i].name, name) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

static int symbol_cmp(const void *a, const void *b)
{
    return strcmp(((const refl_symbol *)a)->name, ((const refl_symbol *)b)->name);
}

sl_status sl_reflection_create(const void *set, size_t len, sl_reflection **out, sl_err *err)
{
    *out = NULL;
    sl_reflection *r = sl_calloc(1, sizeof *r);
    if (r == NULL || (r->arena = sl_arena_create(0)) == NULL) {
        free(r);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    const char ***dep_names = NULL;
    sl_status st = SL_OK;
    Google__Protobuf__FileDescriptorSet *fds =
        google__protobuf__file_descriptor_set__unpack(NULL, len, set);
    if (fds == NULL)
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "descriptor set does not decode");
    if (st == SL_OK) {
        r->n_files = fds->n_file;
        r->files = sl_arena_zalloc(r->arena, (fds->n_file + 1) * sizeof *r->files);
        dep_names = sl_calloc(fds->n_file + 1, sizeof *dep_names);
        if (r->files == NULL || dep_names == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (size_t i = 0; st == SL_OK && i < r->n_files; i++)
        st = index_file(r, i, fds->file[i], &dep_names[i], err);
    if (fds != NULL)
        google__protobuf__file_descriptor_set__free_unpacked(fds, NULL);
    for (size_t i = 0; st == SL_OK && i < r->n_files; i++) {
        for (size_t d = 0; d < r->files[i].n_deps && st == SL_OK; d++)
            if (!file_index(r, dep_names[i][d], &r->files[i].deps[d]))
                st = sl_err_set(err, SL_INVALID_ARGUMENT,
                                "descriptor set: \"%s\" imports \"%s\", which it lacks",
                                r->files[i].name, dep_names[i][d]);
    }
    free(dep_names);
    if (st != SL_OK) {
        sl_reflection_destroy(r);
        return st;
    }
    if (r->n_symbols > 0)
        qsort(r->symbols, r->n_symbols, sizeof *r->symbols, symbol_cmp);
    *out = r;
    return SL_OK;
}

void sl_reflection_destroy(sl_reflection *r)
{
    if (r == NULL)
        return;
    sl_arena_destroy(r->arena); /* files too */
    free(r->symbols);
    free(r->exts);
    free(r);
}

static bool find_symbol(const sl_reflection *r, const char *name, size_t *file)
{
    if (r->n_symbols == 0)
        return false;
    refl_symbol key = {name, 0};
    const refl_symbol *s = bsearch(&key, r->symbols, r->n_symbols, sizeof *r->symbols, symbol_cmp);
    if (s == NULL)
        return false;
    *file = s->file;
    return true;
}

/* ------------------------------------------------------------- answers -- */

typedef Grpc__Reflection__V1__ServerReflectionRequest refl_request;
typedef Grpc__Reflection__V1__ServerReflectionResponse refl_response;

/* Per stream: which files the client has been sent already. */
typedef struct refl_stream {
    sl_reflection *r;
    bool *sent;
    size_t *queue;
} refl_stream;

static void answer_error(refl_response *resp, sl_arena *a, sl_status code, const char *what,
                         const char *name)
{
    Grpc__Reflection__V1__ErrorResponse *e = sl_arena_alloc(a, sizeof *e);
    size_t n = strlen(what) + strlen(name) + 32;
    char *msg = sl_arena_alloc(a, n);
    if (e == NULL || msg == NULL)
        return; /* the empty response tells the client as much */
    grpc__reflection__v1__error_response__init(e);
    e->error_code = sl_status_grpc_code(code);
    snprintf(msg, n, "%s \"%s\" not found", what, name);
    e->error_message = msg;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    resp->error_response = e;
}

/* File `root` first (always, as the client asked for it), then its
 * transitive dependencies breadth first, leaving out those this stream
 * has been sent before. */
static void answer_files(refl_stream *rs, size_t root, refl_response *resp, sl_arena *a)
{
    sl_reflection *r = rs->r;
    Grpc__Reflection__V1__FileDescriptorResponse *fr = sl_arena_alloc(a, sizeof *fr);
    ProtobufCBinaryData *out = sl_arena_alloc(a, r->n_files * sizeof *out);
    if (fr == NULL || out == NULL)
        return;
    grpc__reflection__v1__file_descriptor_response__init(fr);
    size_t head = 0, tail = 0, n = 0;
    rs->queue[tail++] = root;
    rs->sent[root] = true;
    out[n++] = (ProtobufCBinaryData){r->files[root].len, (uint8_t *)r->files[root].bytes};
    while (head < tail) {
        const refl_file *f = &r->files[rs->queue[head++]];
        for (size_t d = 0; d < f->n_deps; d++) {
            size_t dep = f->deps[d];
            if (rs->sent[dep])
                continue;
            rs->sent[dep] = true;
            rs->queue[tail++] = dep;
            out[n++] = (ProtobufCBinaryData){r->files[dep].len, (uint8_t *)r->files[dep].bytes};
        }
    }
    fr->n_file_descriptor_proto = n;
    fr->file_descriptor_proto = out;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
    resp->file_descriptor_response = fr;
}

static void answer_list(refl_stream *rs, refl_response *resp, sl_arena *a)
{
    size_t n = sl_server_services(rs->r->server, NULL, 0);
    const char **names = sl_arena_alloc(a, (n + 1) * sizeof *names);
    Grpc__Reflection__V1__ListServiceResponse *lr = sl_arena_alloc(a, sizeof *lr);
    Grpc__Reflection__V1__ServiceResponse **v = sl_arena_alloc(a, (n + 1) * sizeof *v);
    Grpc__Reflection__V1__ServiceResponse *items = sl_arena_alloc(a, (n + 1) * sizeof *items);
    if (names == NULL || lr == NULL || v == NULL || items == NULL)
        return;
    sl_server_services(rs->r->server, names, n);
    grpc__reflection__v1__list_service_response__init(lr);
    for (size_t i = 0; i < n; i++) {
        grpc__reflection__v1__service_response__init(&items[i]);
        items[i].name = (char *)names[i];
        v[i] = &items[i];
    }
    lr->n_service = n;
    lr->service = v;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
    resp->list_services_response = lr;
}

static void answer_extension_numbers(refl_stream *rs, const char *type, refl_response *resp,
                                     sl_arena *a)
{
    const sl_reflection *r = rs->r;
    size_t file;
    if (!find_symbol(r, type, &file)) {
        answer_error(resp, a, SL_NOT_FOUND, "type", type);
        return;
    }
    Grpc__Reflection__V1__ExtensionNumberResponse *er = sl_arena_alloc(a, sizeof *er);
    int32_t *numbers = sl_arena_alloc(a, (r->n_exts + 1) * sizeof *numbers);
    if (er == NULL || numbers == NULL)
        return;
    grpc__reflection__v1__extension_number_response__init(er);
    size_t n = 0;
    for (size_t i = 0; i < r->n_exts; i++)
        if (strcmp(r->exts[i].extendee, type) == 0)
            numbers[n++] = r->exts[i].number;
    er->base_type_name = (char *)type;
    er->n_extension_number = n;
    er->extension_number = numbers;
    resp->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
    resp->all_extension_numbers_response = er;
}

/* The answer to one request, in a (arena memory).  INVALID_ARGUMENT (which
 * ends the stream) for a request that asks nothing. */
static sl_status answer(refl_stream *rs, const refl_request *req, refl_response *resp, sl_arena *a,
                        sl_err *err)
{
    const sl_reflection *r = rs->r;
    resp->valid_host = req->host;
    resp->original_request = (refl_request *)req;
    size_t file;
    switch (req->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        if (file_index(r, req->file_by_filename, &file))
            answer_files(rs, file, resp, a);
        else
            answer_error(resp, a, SL_NOT_FOUND, "file", req->file_by_filename);
        return SL_OK;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
        if (find_symbol(r, req->file_containing_symbol, &file))
            answer_files(rs, file, resp, a);
        else
            answer_error(resp, a, SL_NOT_FOUND, "symbol", req->file_containing_symbol);
        return SL_OK;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION: {
        const Grpc__Reflection__V1__ExtensionRequest *x = req->file_containing_extension;
        const char *type = x->containing_type != NULL ? x->containing_type : "";
        for (size_t i = 0; i < r->n_exts; i++) {
            if (r->exts[i].number == x->extension_number &&
                strcmp(r->exts[i].extendee, type) == 0) {
                answer_files(rs, r->exts[i].file, resp, a);
                return SL_OK;
            }
        }
        char what[48];
        snprintf(what, sizeof what, "extension %d of", (int)x->extension_number);
        answer_error(resp, a, SL_NOT_FOUND, what, type);
        return SL_OK;
    }
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE:
        answer_extension_numbers(rs, req->all_extension_numbers_of_type, resp, a);
        return SL_OK;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        answer_list(rs, resp, a);
        return SL_OK;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST__NOT_SET:
    case _GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST__CASE_IS_INT_SIZE:
        break;
    }
    return sl_err_set(err, SL_INVALID_ARGUMENT,
                      "reflection request asks nothing: no message_request");
}

/* The same message under another descriptor of the same wire format (v1
 * and v1alpha), in arena memory; NULL when out of memory. */
static ProtobufCMessage *convert(const ProtobufCMessage *m, const ProtobufCMessageDescriptor *to,
                                 sl_arena *a)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_arena_alloc(a, n + 1);
    if (buf == NULL)
        return NULL;
    protobuf_c_message_pack(m, buf);
    return protobuf_c_message_unpack(to, sl_arena_pb_allocator(a), n, buf);
}

/* The stream: one answer per request, in order, until the client
 * half-closes.  alpha: the call is v1alpha's. */
static sl_status serve(sl_call *call, bool alpha, sl_err *err)
{
    refl_stream rs = {.r = sl_call_ctx(call)};
    sl_arena *a = sl_arena_create(0);
    rs.sent = sl_calloc(rs.r->n_files + 1, sizeof *rs.sent);
    rs.queue = sl_calloc(rs.r->n_files + 1, sizeof *rs.queue);
    sl_status st = SL_OK;
    if (a == NULL || rs.sent == NULL || rs.queue == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    for (;;) {
        sl_arena_reset(a);
        ProtobufCMessage *m;
        st = sl_call_recv(call, a, &m, err);
        if (st != SL_OK || m == NULL)
            break;
        if (alpha)
            m = convert(m, &grpc__reflection__v1__server_reflection_request__descriptor, a);
        refl_response resp = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
        if (m == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            break;
        }
        st = answer(&rs, (const refl_request *)m, &resp, a, err);
        if (st != SL_OK)
            break;
        const ProtobufCMessage *reply = &resp.base;
        if (alpha)
            reply = convert(reply,
                            &grpc__reflection__v1alpha__server_reflection_response__descriptor, a);
        if (reply == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            break;
        }
        st = sl_call_send(call, reply, err);
        if (st != SL_OK)
            break;
    }
out:
    free(rs.queue);
    free(rs.sent);
    sl_arena_destroy(a);
    return st;
}

static sl_status reflection_info_v1(sl_call *call, const ProtobufCMessage *unused, sl_err *err)
{
    (void)unused;
    return serve(call, false, err);
}

static sl_status reflection_info_v1alpha(sl_call *call, const ProtobufCMessage *unused, sl_err *err)
{
    (void)unused;
    return serve(call, true, err);
}

static const sl_method v1_methods[] = {
    SL_BIDI_STREAM("ServerReflectionInfo", reflection_info_v1,
                   SL_METHOD_READ_ONLY | SL_METHOD_IDEMPOTENT, SL_ROLES_ANY),
};

static const sl_method v1alpha_methods[] = {
    SL_BIDI_STREAM("ServerReflectionInfo", reflection_info_v1alpha,
                   SL_METHOD_READ_ONLY | SL_METHOD_IDEMPOTENT, SL_ROLES_ANY),
};

sl_status sl_reflection_add(sl_server *s, sl_reflection *r, sl_err *err)
{
    size_t n = sl_server_services(s, NULL, 0);
    const char **names = sl_calloc(n + 1, sizeof *names);
    if (names == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_server_services(s, names, n);
    for (size_t i = 0; i < n; i++) {
        size_t file;
        if (!find_symbol(r, names[i], &file))
            SL_LOG(SL_LOG_WARN, "reflection", NULL,
                   "service \"%s\" is not in the descriptor set: clients can list it but not "
                   "describe it",
                   names[i]);
    }
    free(names);
    r->server = s;
    r->defs[0] =
        (sl_service_def){&grpc__reflection__v1__server_reflection__descriptor, v1_methods, 1, r};
    r->defs[1] = (sl_service_def){&grpc__reflection__v1alpha__server_reflection__descriptor,
                                  v1alpha_methods, 1, r};
    sl_status st = sl_server_add_service(s, &r->defs[0], err);
    if (st == SL_OK)
        st = sl_server_add_service(s, &r->defs[1], err);
    return st;
}
