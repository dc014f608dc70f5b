/* sl_status: names and gRPC codes come from one list and round-trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sl_status.h"

static void test_codes_round_trip(void **state)
{
    (void)state;
    for (int code = 0; code <= 16; code++) {
        sl_status st = sl_status_from_grpc_code(code);
        assert_int_equal(sl_status_grpc_code(st), code);
    }
    assert_int_equal(sl_status_from_grpc_code(99), SL_UNKNOWN);
    assert_int_equal(sl_status_grpc_code(SL_FAILED_PRECONDITION), 9);
    assert_int_equal(sl_status_grpc_code(SL_UNAVAILABLE), 14);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sl_status_name(SL_OK), "OK");
    assert_string_equal(sl_status_name(SL_INVALID_ARGUMENT), "INVALID_ARGUMENT");
    assert_string_equal(sl_status_name(SL_UNAUTHENTICATED), "UNAUTHENTICATED");
    assert_string_equal(sl_status_name((sl_status)1000), "UNKNOWN_STATUS");
}

static void test_err_set_and_wrap(void **state)
{
    (void)state;
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl_err_set(&err, SL_NOT_FOUND, "sku \"%s\" not found", "A-1"), SL_NOT_FOUND);
    assert_int_equal(err.status, SL_NOT_FOUND);
    assert_string_equal(err.msg, "sku \"A-1\" not found");
    sl_err_wrap(&err, "could not reserve line %d", 2);
    assert_string_equal(err.msg, "could not reserve line 2: sku \"A-1\" not found");
    assert_int_equal(err.status, SL_NOT_FOUND);
    /* NULL err is allowed everywhere. */
    assert_int_equal(sl_err_set(NULL, SL_INTERNAL, "x"), SL_INTERNAL);
    sl_err_wrap(NULL, "y");
}

static void test_wrap_truncates_safely(void **state)
{
    (void)state;
    sl_err err;
    char longmsg[2 * SL_ERR_MSG_MAX];
    memset(longmsg, 'a', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    sl_err_set(&err, SL_INTERNAL, "%s", longmsg);
    assert_int_equal(strlen(err.msg), SL_ERR_MSG_MAX - 1);
    sl_err_wrap(&err, "%s", longmsg);
    assert_true(strlen(err.msg) < SL_ERR_MSG_MAX);
}

static void test_in_entry_names_the_entry(void **state)
{
    (void)state;
    sl_err err;
    sl_err_clear(&err);
    sl_err_field(&err, "lines[0].qty", "lines[0].qty must be positive");
    sl_err_in_entry(&err, "purchases", 7);
    assert_int_equal(err.status, SL_INVALID_ARGUMENT);
    assert_string_equal(err.field, "purchases[7].lines[0].qty");
    assert_string_equal(err.msg, "purchases[7]: lines[0].qty must be positive");
    /* A refusal without a field keeps its reason and gets only the prefix. */
    sl_err_reason(&err, SL_NOT_FOUND, "CUSTOMER_NOT_FOUND", "unknown customer");
    sl_err_in_entry(&err, "purchases", 2);
    assert_string_equal(err.field, "");
    assert_string_equal(err.reason, "CUSTOMER_NOT_FOUND");
    assert_string_equal(err.msg, "purchases[2]: unknown customer");
    /* A path too long to prefix names the entry alone. */
    char longf[SL_ERR_FIELD_MAX];
    memset(longf, 'f', sizeof longf - 1);
    longf[sizeof longf - 1] = '\0';
    sl_err_field(&err, longf, "bad");
    sl_err_in_entry(&err, "customers", 12);
    assert_string_equal(err.field, "customers[12]");
    sl_err_in_entry(NULL, "x", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_round_trip),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_err_set_and_wrap),
        cmocka_unit_test(test_wrap_truncates_safely),
        cmocka_unit_test(test_in_entry_names_the_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
