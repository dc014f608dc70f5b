/*
 * Server reflection (sl_reflection) on a real service process,
 * shelfline-inventory authenticating callers (JWT): both versions of
 * grpc.reflection ServerReflection, asked one question per stream through
 * sl_client (a request, half-close, the answer).  The Go client of
 * tests/interop/reflection asks several on one stream and calls a method
 * with what it learnt.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"
#include "sl_client.h"
#include "sl_log.h"
#include "sl_test.h"
#include "sl_test_auth.h"
#include "sl_testpg.h"

#define V1 "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
#define V1ALPHA "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
/* "Bearer <jwt>" of a caller with a role (any role may reflect), signed by
 * the fixture's throwaway key. */
static char *token;
static sl_test_keys keys;

typedef Grpc__Reflection__V1__ServerReflectionRequest request;
typedef Grpc__Reflection__V1__ServerReflectionResponse response;

typedef struct fixture {
    pid_t pid;
    sl_channel *ch;
    sl_arena *arena;
} fixture;

static int start(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char conninfo[512], env[3][600], target[64];
    if (sl_testpg_fresh_db("reflection", conninfo, sizeof conninfo) != 0)
        return -1;
    int port = sl_test_free_port();
    snprintf(env[0], sizeof env[0], "SHELFLINE_DATABASE_URL=%s", conninfo);
    snprintf(env[1], sizeof env[1], "SHELFLINE_LISTEN=127.0.0.1:%d", port);
    if (sl_test_keys_make(&keys) != 0 ||
        (token = sl_test_bearer(&keys, "reflection-test", "cs-agent")) == NULL)
        return -1;
    snprintf(env[2], sizeof env[2], "%s", keys.public_env);
    char *envp[] = {env[0], env[1], env[2], "SHELFLINE_HTTP_LISTEN=off", NULL};
    char *bin = sl_test_bin("shelfline-inventory");
    char *argv[] = {bin, NULL};
    f->pid = sl_test_spawn(argv, envp);
    free(bin);
    if (!sl_test_wait_child_port(f->pid, port, 30000))
        return -1;
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_err err;
    if (sl_channel_create(target, NULL, &f->ch, &err) != SL_OK ||
        !sl_test_wait_serving(f->ch, 10000))
        return -1;
    f->arena = sl_arena_create(0);
    *state = f;
    return 0;
}

static int stop(void **state)
{
    fixture *f = *state;
    int status = -1;
    if (f != NULL) {
        sl_channel_destroy(f->ch);
        sl_arena_destroy(f->arena);
        status = sl_test_stop(f->pid, SIGTERM, 30000);
        free(f);
    }
    sl_test_kill_all();
    sl_testpg_drop_db("reflection");
    sl_test_keys_remove(&keys);
    free(token);
    token = NULL;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One question on a v1 stream, with the token; the answer in *resp. */
static sl_status ask(fixture *f, const request *req, response **resp, sl_err *err)
{
    sl_call_options o = {.authorization = token};
    return sl_client_unary(f->ch, V1, &req->base,
                           &grpc__reflection__v1__server_reflection_response__descriptor, f->arena,
                           (ProtobufCMessage **)resp, &o, err);
}

static response *ask_symbol(fixture *f, const char *symbol)
{
    request req = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    req.file_containing_symbol = (char *)symbol;
    response *resp;
    sl_err err;
    assert_int_equal(ask(f, &req, &resp, &err), SL_OK);
    return resp;
}

/* The name of the i-th file of a file_descriptor_response. */
static const char *file_name(fixture *f, const response *resp, size_t i)
{
    assert_int_equal(
        resp->message_response_case,
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE);
    const Grpc__Reflection__V1__FileDescriptorResponse *fr = resp->file_descriptor_response;
    assert_true(i < fr->n_file_descriptor_proto);
    Google__Protobuf__FileDescriptorProto *fd = google__protobuf__file_descriptor_proto__unpack(
        sl_arena_pb_allocator(f->arena), fr->file_descriptor_proto[i].len,
        fr->file_descriptor_proto[i].data);
    assert_non_null(fd);
    return fd->name;
}

static bool has_file(fixture *f, const response *resp, const char *name)
{
    for (size_t i = 0; i < resp->file_descriptor_response->n_file_descriptor_proto; i++)
        if (strcmp(file_name(f, resp, i), name) == 0)
            return true;
    return false;
}

static void test_list_services_names_what_the_server_serves(void **state)
{
    fixture *f = *state;
    request req = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    req.list_services = "";
    req.host = "inventory.example";
    response *resp;
    sl_err err;
    assert_int_equal(ask(f, &req, &resp, &err), SL_OK);
    assert_string_equal(resp->valid_host, "inventory.example");
    assert_non_null(resp->original_request);
    assert_int_equal(
        resp->message_response_case,
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE);
    const char *want[] = {"grpc.health.v1.Health", "shelfline.v1.InventoryService",
                          "grpc.reflection.v1.ServerReflection",
                          "grpc.reflection.v1alpha.ServerReflection"};
    const Grpc__Reflection__V1__ListServiceResponse *l = resp->list_services_response;
    assert_int_equal(l->n_service, 4);
    for (size_t i = 0; i < 4; i++) {
        bool found = false;
        for (size_t j = 0; j < l->n_service; j++)
            found = found || strcmp(l->service[j]->name, want[i]) == 0;
        assert_true(found);
    }
}

static void test_symbol_gives_its_file_then_the_imports(void **state)
{
    fixture *f = *state;
    response *resp = ask_symbol(f, "shelfline.v1.InventoryService");
    assert_string_equal(file_name(f, resp, 0), "shelfline/v1/inventory.proto");
    assert_true(has_file(f, resp, "shelfline/v1/common.proto"));

    /* The file holds the service and its GetProduct method's types. */
    const ProtobufCBinaryData *b = &resp->file_descriptor_response->file_descriptor_proto[0];
    Google__Protobuf__FileDescriptorProto *fd = google__protobuf__file_descriptor_proto__unpack(
        sl_arena_pb_allocator(f->arena), b->len, b->data);
    assert_non_null(fd);
    assert_string_equal(fd->package, "shelfline.v1");
    bool found = false;
    for (size_t i = 0; i < fd->n_service; i++) {
        if (strcmp(fd->service[i]->name, "InventoryService") != 0)
            continue;
        for (size_t j = 0; j < fd->service[i]->n_method; j++) {
            const Google__Protobuf__MethodDescriptorProto *m = fd->service[i]->method[j];
            if (strcmp(m->name, "GetProduct") == 0) {
                assert_string_equal(m->input_type, ".shelfline.v1.GetProductRequest");
                assert_string_equal(m->output_type, ".shelfline.v1.Product");
                found = true;
            }
        }
    }
    assert_true(found);

    /* A method, a message, a field and an enum value are symbols too. */
    const char *symbols[] = {"shelfline.v1.InventoryService.GetProduct",
                             "shelfline.v1.GetProductRequest", "shelfline.v1.GetProductRequest.sku",
                             "grpc.health.v1.HealthCheckResponse.SERVING"};
    const char *files[] = {"shelfline/v1/inventory.proto", "shelfline/v1/inventory.proto",
                           "shelfline/v1/inventory.proto", "grpc/health/v1/health.proto"};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(file_name(f, ask_symbol(f, symbols[i]), 0), files[i]);
}

static void test_file_by_filename(void **state)
{
    fixture *f = *state;
    request req = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME;
    req.file_by_filename = "grpc/reflection/v1alpha/reflection.proto";
    response *resp;
    sl_err err;
    assert_int_equal(ask(f, &req, &resp, &err), SL_OK);
    assert_string_equal(file_name(f, resp, 0), "grpc/reflection/v1alpha/reflection.proto");
    assert_int_equal(resp->file_descriptor_response->n_file_descriptor_proto, 1);
}

static void assert_not_found(const response *resp, const char *name)
{
    assert_int_equal(
        resp->message_response_case,
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE);
    assert_int_equal(resp->error_response->error_code, 5); /* NOT_FOUND */
    assert_non_null(strstr(resp->error_response->error_message, name));
}

static void test_unknown_names_are_error_responses(void **state)
{
    fixture *f = *state;
    assert_not_found(ask_symbol(f, "shelfline.v1.NoSuchService"), "shelfline.v1.NoSuchService");
    /* A prefix of a symbol is not one. */
    assert_not_found(ask_symbol(f, "shelfline.v1.InventoryServ"), "shelfline.v1.InventoryServ");

    request req = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME;
    req.file_by_filename = "shelfline/v1/nothing.proto";
    response *resp;
    sl_err err;
    assert_int_equal(ask(f, &req, &resp, &err), SL_OK);
    assert_not_found(resp, "shelfline/v1/nothing.proto");

    Grpc__Reflection__V1__ExtensionRequest x = GRPC__REFLECTION__V1__EXTENSION_REQUEST__INIT;
    x.containing_type = "shelfline.v1.Product";
    x.extension_number = 1000;
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION;
    req.file_containing_extension = &x;
    assert_int_equal(ask(f, &req, &resp, &err), SL_OK);
    assert_not_found(resp, "shelfline.v1.Product");

    /* A known type without extensions: an empty list; an unknown one: not
     * found. */
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE;
    req.all_extension_numbers_of_type = "shelfline.v1.Product";
    assert_int_equal(ask(f, &req, &resp, &err), SL_OK);
    assert_int_equal(
        resp->message_response_case,
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE);
    assert_string_equal(resp->all_extension_numbers_response->base_type_name,
                        "shelfline.v1.Product");
    assert_int_equal(resp->all_extension_numbers_response->n_extension_number, 0);
    req.all_extension_numbers_of_type = "shelfline.v1.Nothing";
    assert_int_equal(ask(f, &req, &resp, &err), SL_OK);
    assert_not_found(resp, "shelfline.v1.Nothing");

    /* A request that asks nothing ends the stream. */
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST__NOT_SET;
    assert_int_equal(ask(f, &req, &resp, &err), SL_INVALID_ARGUMENT);
}

/* v1alpha, the version most tools still ask first, answers the same. */
static void test_v1alpha_answers_like_v1(void **state)
{
    fixture *f = *state;
    Grpc__Reflection__V1alpha__ServerReflectionRequest req =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__INIT;
    req.message_request_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    req.file_containing_symbol = "shelfline.v1.InventoryService";
    sl_call_options o = {.authorization = token};
    Grpc__Reflection__V1alpha__ServerReflectionResponse *resp;
    sl_err err;
    assert_int_equal(
        sl_client_unary(f->ch, V1ALPHA, &req.base,
                        &grpc__reflection__v1alpha__server_reflection_response__descriptor,
                        f->arena, (ProtobufCMessage **)&resp, &o, &err),
        SL_OK);
    assert_int_equal(
        resp->message_response_case,
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE);
    assert_true(resp->file_descriptor_response->n_file_descriptor_proto >= 2);
    assert_string_equal(resp->original_request->file_containing_symbol,
                        "shelfline.v1.InventoryService");

    req.message_request_case =
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL;
    req.file_containing_symbol = "no.Such";
    assert_int_equal(
        sl_client_unary(f->ch, V1ALPHA, &req.base,
                        &grpc__reflection__v1alpha__server_reflection_response__descriptor,
                        f->arena, (ProtobufCMessage **)&resp, &o, &err),
        SL_OK);
    assert_int_equal(
        resp->message_response_case,
        GRPC__REFLECTION__V1ALPHA__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE);
    assert_int_equal(resp->error_response->error_code, 5);
}

/* Reflection tells what the API is: with a token configured it needs the
 * token like every other method (only health is exempt). */
static void test_reflection_needs_the_token(void **state)
{
    fixture *f = *state;
    request req = GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__INIT;
    req.message_request_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES;
    req.list_services = "";
    const char *methods[] = {V1, V1ALPHA};
    for (size_t i = 0; i < 2; i++) {
        ProtobufCMessage *resp;
        sl_err err;
        sl_call_options o = {.authorization = "Bearer wrong"};
        assert_int_equal(
            sl_client_unary(f->ch, methods[i], &req.base,
                            &grpc__reflection__v1__server_reflection_response__descriptor, f->arena,
                            &resp, &o, &err),
            SL_UNAUTHENTICATED);
        assert_int_equal(
            sl_client_unary(f->ch, methods[i], &req.base,
                            &grpc__reflection__v1__server_reflection_response__descriptor, f->arena,
                            &resp, NULL, &err),
            SL_UNAUTHENTICATED);
    }
}

int main(void)
{
    sl_log_init("test-reflection", SL_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_services_names_what_the_server_serves),
        cmocka_unit_test(test_symbol_gives_its_file_then_the_imports),
        cmocka_unit_test(test_file_by_filename),
        cmocka_unit_test(test_unknown_names_are_error_responses),
        cmocka_unit_test(test_v1alpha_answers_like_v1),
        cmocka_unit_test(test_reflection_needs_the_token),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
