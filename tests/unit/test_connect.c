/* sl_connect: the Connect protocol's names and HTTP statuses of the
 * suite's statuses (connectrpc.com/docs/protocol, "Error codes").  The
 * face itself is called with curl in interop_curl_connect. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sl_connect.h"

static void test_codes_and_http_statuses_follow_the_protocol_table(void **state)
{
    (void)state;
    static const struct {
        sl_status st;
        const char *code;
        int http;
    } table[] = {
        {SL_CANCELLED, "canceled", 499},
        {SL_UNKNOWN, "unknown", 500},
        {SL_INVALID_ARGUMENT, "invalid_argument", 400},
        {SL_DEADLINE_EXCEEDED, "deadline_exceeded", 504},
        {SL_NOT_FOUND, "not_found", 404},
        {SL_ALREADY_EXISTS, "already_exists", 409},
        {SL_PERMISSION_DENIED, "permission_denied", 403},
        {SL_RESOURCE_EXHAUSTED, "resource_exhausted", 429},
        {SL_FAILED_PRECONDITION, "failed_precondition", 400},
        {SL_ABORTED, "aborted", 409},
        {SL_OUT_OF_RANGE, "out_of_range", 400},
        {SL_UNIMPLEMENTED, "unimplemented", 501},
        {SL_INTERNAL, "internal", 500},
        {SL_UNAVAILABLE, "unavailable", 503},
        {SL_DATA_LOSS, "data_loss", 500},
        {SL_UNAUTHENTICATED, "unauthenticated", 401},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        assert_string_equal(sl_connect_code(table[i].st), table[i].code);
        assert_int_equal(sl_connect_http_status(table[i].st), table[i].http);
    }
    assert_int_equal(sl_connect_http_status(SL_OK), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_and_http_statuses_follow_the_protocol_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
