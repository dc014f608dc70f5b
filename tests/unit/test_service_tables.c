/*
 * The method tables are the index of the services: every RPC of each of
 * the four protos has exactly one row (sl_service adds WatchEvents), every
 * row is a method of its proto, and each row has the handler of its kind.
 * Also that the check behind it (sl_server_check_table) refuses a table
 * that breaks any of these rules, naming the method.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cv_service.h"
#include "fc_service.h"
#include "inv_service.h"
#include "sd_service.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_service.h"

static const sl_service_spec *const specs[] = {&inv_service_spec, &fc_service_spec,
                                               &cv_service_spec, &sd_service_spec};
#define N_SPECS (sizeof specs / sizeof specs[0])

/* How many rows of def name the proto method md, by short or full name
 * (counted here independently of sl_server_check_table). */
static size_t rows_naming(const sl_service_def *def, const ProtobufCMethodDescriptor *md)
{
    char full[256];
    snprintf(full, sizeof full, "/%s/%s", def->descriptor->name, md->name);
    size_t n = 0;
    for (size_t j = 0; j < def->n_methods; j++)
        if (strcmp(def->methods[j].name, md->name) == 0 || strcmp(def->methods[j].name, full) == 0)
            n++;
    return n;
}

static void test_every_rpc_of_every_proto_has_exactly_one_row(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SPECS; i++) {
        sl_service_def def;
        sl_err err;
        sl_err_clear(&err);
        sl_status st = sl_service_method_table(specs[i], NULL, &def, &err);
        if (st != SL_OK)
            fail_msg("%s: %s", specs[i]->name, err.msg);
        const ProtobufCServiceDescriptor *d = specs[i]->descriptor;
        for (unsigned k = 0; k < d->n_methods; k++)
            if (rows_naming(&def, &d->methods[k]) != 1)
                fail_msg("%s: %s has %zu rows", specs[i]->name, d->methods[k].name,
                         rows_naming(&def, &d->methods[k]));
        /* ... so with as many rows as methods, every row is a method. */
        assert_int_equal(def.n_methods, d->n_methods);
        free((sl_method *)def.methods);
    }
}

static void test_every_row_has_the_handler_of_its_kind(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SPECS; i++)
        for (size_t j = 0; j < specs[i]->n_methods; j++) {
            const sl_method *m = &specs[i]->methods[j];
            if (m->kind == SL_RPC_UNARY)
                assert_true(m->unary != NULL && m->stream == NULL);
            else
                assert_true(m->unary == NULL && m->stream != NULL);
            /* Types come from the descriptor, never spelled again. */
            assert_null(m->request);
            assert_null(m->response);
        }
}

static void test_watch_events_is_added_by_sl_service_not_the_service(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_SPECS; i++)
        for (size_t j = 0; j < specs[i]->n_methods; j++)
            assert_string_not_equal(specs[i]->methods[j].name, "WatchEvents");
}

static sl_status handler(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                         sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    (void)err;
    return SL_OK;
}

/* A copy of inventory's table (with WatchEvents) for the tests to break. */
static sl_method *inventory_rows(size_t *n)
{
    sl_service_def def;
    sl_err err;
    assert_int_equal(sl_service_method_table(&inv_service_spec, NULL, &def, &err), SL_OK);
    sl_method *rows = calloc(def.n_methods + 1, sizeof *rows);
    assert_non_null(rows);
    memcpy(rows, def.methods, def.n_methods * sizeof *rows);
    free((sl_method *)def.methods);
    *n = def.n_methods;
    return rows;
}

static void expect_refused(sl_method *rows, size_t n, const char *needle)
{
    sl_service_def def = {&shelfline__v1__inventory_service__descriptor, rows, n, NULL};
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl_server_check_table(&def, &err), SL_INVALID_ARGUMENT);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("\"%s\" does not name %s", err.msg, needle);
}

static void test_a_missing_row_is_refused_naming_the_rpc(void **state)
{
    (void)state;
    size_t n;
    sl_method *rows = inventory_rows(&n);
    for (size_t j = 0; j < n; j++)
        if (strcmp(rows[j].name, "Reserve") == 0)
            rows[j] = rows[--n];
    expect_refused(rows, n, "/shelfline.v1.InventoryService/Reserve");
    free(rows);
}

static void test_a_second_row_for_an_rpc_is_refused(void **state)
{
    (void)state;
    size_t n;
    sl_method *rows = inventory_rows(&n);
    rows[n] = rows[0];
    rows[n].name = "/shelfline.v1.InventoryService/CreateProduct";
    expect_refused(rows, n + 1, "CreateProduct has 2 rows");
    free(rows);
}

static void test_a_row_that_is_no_proto_method_is_refused(void **state)
{
    (void)state;
    size_t n;
    sl_method *rows = inventory_rows(&n);
    rows[n] = (sl_method)SL_UNARY("ReserveEverything", handler, NULL, 0, SL_ROLES_ANY);
    expect_refused(rows, n + 1, "\"ReserveEverything\" is not a method of the proto");
    rows[n].name = "/shelfline.v1.ForecastingService/GetProduct";
    expect_refused(rows, n + 1, "is not a method of the proto");
    free(rows);
}

static void test_a_row_with_the_wrong_handler_kind_is_refused(void **state)
{
    (void)state;
    size_t n;
    sl_method *rows = inventory_rows(&n);
    for (size_t j = 0; j < n; j++)
        if (strcmp(rows[j].name, "GetStock") == 0)
            rows[j].kind = SL_RPC_SERVER_STREAMING;
    expect_refused(rows, n, "GetStock needs exactly the handler of its kind");
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rpc_of_every_proto_has_exactly_one_row),
        cmocka_unit_test(test_every_row_has_the_handler_of_its_kind),
        cmocka_unit_test(test_watch_events_is_added_by_sl_service_not_the_service),
        cmocka_unit_test(test_a_missing_row_is_refused_naming_the_rpc),
        cmocka_unit_test(test_a_second_row_for_an_rpc_is_refused),
        cmocka_unit_test(test_a_row_that_is_no_proto_method_is_refused),
        cmocka_unit_test(test_a_row_with_the_wrong_handler_kind_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
