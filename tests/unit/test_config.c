/* sl_config: parsers and environment getters, including the messages that
 * name the bad variable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sl_config.h"
#include "sl_service.h"

static void test_parse_int(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(sl_parse_int64("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(sl_parse_int64("-7", &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(sl_parse_int64("", &v), -1);
    assert_int_equal(sl_parse_int64("12x", &v), -1);
    assert_int_equal(sl_parse_int64("99999999999999999999", &v), -1);
}

static void test_parse_duration(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(sl_parse_duration_ms("250", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(sl_parse_duration_ms("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(sl_parse_duration_ms("30s", &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(sl_parse_duration_ms("5m", &v), 0);
    assert_int_equal(v, 300000);
    assert_int_equal(sl_parse_duration_ms("2h", &v), 0);
    assert_int_equal(v, 7200000);
    assert_int_equal(sl_parse_duration_ms("-1s", &v), -1);
    assert_int_equal(sl_parse_duration_ms("5d", &v), -1);
    assert_int_equal(sl_parse_duration_ms("s", &v), -1);
}

static void test_parse_bool_and_hostport(void **state)
{
    (void)state;
    bool b;
    assert_int_equal(sl_parse_bool("TRUE", &b), 0);
    assert_true(b);
    assert_int_equal(sl_parse_bool("off", &b), 0);
    assert_false(b);
    assert_int_equal(sl_parse_bool("maybe", &b), -1);
    assert_int_equal(sl_parse_hostport("127.0.0.1:50051"), 0);
    assert_int_equal(sl_parse_hostport("[::1]:50051"), 0);
    assert_int_equal(sl_parse_hostport("inventory:1"), 0);
    assert_int_equal(sl_parse_hostport("127.0.0.1"), -1);
    assert_int_equal(sl_parse_hostport(":50051"), -1);
    assert_int_equal(sl_parse_hostport("host:0"), -1);
    assert_int_equal(sl_parse_hostport("host:65536"), -1);
    assert_int_equal(sl_parse_hostport("::1:50051"), -1);
}

static void test_env_getters_name_the_variable(void **state)
{
    (void)state;
    sl_err err;
    int64_t v;
    unsetenv("SL_TEST_INT");
    assert_int_equal(sl_config_int("SL_TEST_INT", 5, 1, 10, &v, &err), SL_OK);
    assert_int_equal(v, 5);
    setenv("SL_TEST_INT", "11", 1);
    assert_int_equal(sl_config_int("SL_TEST_INT", 5, 1, 10, &v, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SL_TEST_INT"));
    assert_non_null(strstr(err.msg, "\"11\""));
    setenv("SL_TEST_INT", "", 1);
    assert_int_equal(sl_config_int("SL_TEST_INT", 5, 1, 10, &v, &err), SL_OK);
    assert_int_equal(v, 5);
    setenv("SL_TEST_DUR", "forever", 1);
    assert_int_equal(sl_config_duration_ms("SL_TEST_DUR", 1, 0, 10, &v, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SL_TEST_DUR"));
    const char *s;
    setenv("SL_TEST_ADDR", "nope", 1);
    assert_int_equal(sl_config_hostport("SL_TEST_ADDR", "a:1", &s, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SL_TEST_ADDR"));
}

/* Found by fuzz_config: strtoll skips leading blanks and takes a '+', so
 * " 42", "\t0" and "+42" were accepted as numbers (and "host: 80" as an
 * address) while a trailing blank was refused. */
static void test_numbers_refuse_blanks_and_plus(void **state)
{
    (void)state;
    int64_t v = 7;
    assert_int_equal(sl_parse_int64(" 42", &v), -1);
    assert_int_equal(sl_parse_int64("\t0", &v), -1);
    assert_int_equal(sl_parse_int64("+42", &v), -1);
    assert_int_equal(sl_parse_int64("-", &v), -1);
    assert_int_equal(sl_parse_int64("- 1", &v), -1);
    assert_int_equal(v, 7);
    assert_int_equal(sl_parse_int64("-0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(sl_parse_duration_ms(" 5s", &v), -1);
    assert_int_equal(sl_parse_duration_ms("+5s", &v), -1);
    assert_int_equal(sl_parse_hostport("host: 80"), -1);
    assert_int_equal(sl_parse_hostport("host:+80"), -1);
}

static void test_pure_parsers_match_the_getters(void **state)
{
    (void)state;
    sl_err err;
    int64_t v = 3;
    bool b = false;
    assert_int_equal(sl_config_parse_int("N", "12", 1, 20, &v, &err), SL_OK);
    assert_int_equal(v, 12);
    assert_int_equal(sl_config_parse_int("N", "21", 1, 20, &v, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "invalid N \"21\": expected an integer between 1 and 20");
    assert_int_equal(v, 12);
    assert_int_equal(sl_config_parse_int("N", "", 1, 20, &v, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_config_parse_duration_ms("D", "2s", 0, 5000, &v, &err), SL_OK);
    assert_int_equal(v, 2000);
    assert_int_equal(sl_config_parse_duration_ms("D", "6s", 0, 5000, &v, &err),
                     SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "invalid D \"6s\""));
    assert_int_equal(sl_config_parse_bool("B", "On", &b, &err), SL_OK);
    assert_true(b);
    assert_int_equal(sl_config_parse_bool("B", "2", &b, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "invalid B \"2\": expected true or false");
    assert_int_equal(sl_config_parse_hostport("A", "[::1]:1", &err), SL_OK);
    assert_int_equal(sl_config_parse_hostport("A", "[]:1", &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "invalid A \"[]:1\""));
}

static void test_service_config(void **state)
{
    (void)state;
    sl_service_config cfg;
    sl_err err;
    unsetenv("SHELFLINE_LISTEN");
    unsetenv("SHELFLINE_WORKERS");
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_OK);
    assert_string_equal(cfg.listen, "127.0.0.1:50051");
    /* Peers are the service's (its spec's sl_peer_spec list). */
    static const sl_peer_spec peers[] = {{"SHELFLINE_SERVICE_DESK_ADDR", "127.0.0.1:50054"}};
    const char *target[1];
    unsetenv("SHELFLINE_SERVICE_DESK_ADDR");
    assert_int_equal(sl_service_peers_load(peers, 1, target, &err), SL_OK);
    assert_string_equal(target[0], "127.0.0.1:50054");
    assert_true(cfg.workers >= 4);
    assert_int_equal(cfg.db_pool, cfg.workers + 4);
    assert_null(cfg.jwt_public_key_file);
    assert_false(cfg.auth_none);
    assert_int_equal(cfg.max_call_ms, 30000);
    setenv("SHELFLINE_MAX_CALL_TIME", "2s", 1);
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_OK);
    assert_int_equal(cfg.max_call_ms, 2000);
    setenv("SHELFLINE_MAX_CALL_TIME", "50ms", 1); /* below 100ms */
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SHELFLINE_MAX_CALL_TIME"));
    unsetenv("SHELFLINE_MAX_CALL_TIME");
    setenv("SHELFLINE_WORKERS", "0", 1);
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SHELFLINE_WORKERS"));
    unsetenv("SHELFLINE_WORKERS");
    setenv("SHELFLINE_LOG_LEVEL", "loud", 1);
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SHELFLINE_LOG_LEVEL"));
    unsetenv("SHELFLINE_LOG_LEVEL");
}

/* The shared token is gone: a deployment still setting it is refused
 * rather than left believing it is protected; SHELFLINE_AUTH takes "none"
 * alone, and never together with a JWT key; with neither, the service
 * fails closed (sl_service_auth_check). */
static void test_auth_settings(void **state)
{
    (void)state;
    sl_service_config cfg;
    sl_err err;
    setenv("SHELFLINE_AUTH_TOKEN", "s3cret", 1);
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SHELFLINE_AUTH_TOKEN is no longer supported"));
    unsetenv("SHELFLINE_AUTH_TOKEN");
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_OK);
    assert_int_equal(sl_service_auth_check(&cfg, &err), SL_FAILED_PRECONDITION);
    assert_non_null(strstr(err.msg, "SHELFLINE_JWT_PUBLIC_KEY_FILE"));
    setenv("SHELFLINE_AUTH", "off", 1);
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "invalid SHELFLINE_AUTH \"off\": expected none (or unset)");
    setenv("SHELFLINE_AUTH", "none", 1);
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_OK);
    assert_true(cfg.auth_none);
    assert_int_equal(sl_service_auth_check(&cfg, &err), SL_OK);
    setenv("SHELFLINE_JWT_PUBLIC_KEY_FILE", "/keys/jwt.pub", 1);
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_INVALID_ARGUMENT);
    unsetenv("SHELFLINE_AUTH");
    assert_int_equal(sl_service_config_load(&cfg, "127.0.0.1:50051", &err), SL_OK);
    assert_string_equal(cfg.jwt_public_key_file, "/keys/jwt.pub");
    assert_int_equal(sl_service_auth_check(&cfg, &err), SL_OK);
    unsetenv("SHELFLINE_JWT_PUBLIC_KEY_FILE");
}

static void test_peer_targets(void **state)
{
    (void)state;
    assert_int_equal(sl_parse_target("127.0.0.1:50051"), 0);
    assert_int_equal(sl_parse_target("ipv4:127.0.0.1:50051,127.0.0.1:50151"), 0);
    assert_int_equal(sl_parse_target("ipv6:[::1]:50051,[::1]:50151"), 0);
    assert_int_equal(sl_parse_target("dns:///inventory-headless.shelfline:50051"), 0);
    assert_int_equal(sl_parse_target("dns://127.0.0.53:53/inventory:50051"), 0);
    assert_int_equal(sl_parse_target("dns:inventory:50051"), 0);
    assert_int_equal(sl_parse_target("unix:/run/inventory.sock"), 0);
    assert_int_equal(sl_parse_target(""), -1);
    assert_int_equal(sl_parse_target("ipv4:"), -1);
    assert_int_equal(sl_parse_target("ipv4:127.0.0.1:50051,"), -1);
    assert_int_equal(sl_parse_target("ipv4:127.0.0.1"), -1);
    assert_int_equal(sl_parse_target("dns:///inventory"), -1);
    assert_int_equal(sl_parse_target("dns://resolver"), -1);
    assert_int_equal(sl_parse_target("unix:"), -1);
    setenv("SL_TEST_PEER", "ipv4:127.0.0.1:1,127.0.0.1:0", 1);
    const char *v;
    sl_err err;
    assert_int_equal(sl_config_target("SL_TEST_PEER", "a:1", &v, &err), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(err.msg, "SL_TEST_PEER"));
    setenv("SL_TEST_PEER", "dns:///x:1", 1);
    assert_int_equal(sl_config_target("SL_TEST_PEER", "a:1", &v, &err), SL_OK);
    assert_string_equal(v, "dns:///x:1");
    unsetenv("SL_TEST_PEER");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_targets),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_bool_and_hostport),
        cmocka_unit_test(test_env_getters_name_the_variable),
        cmocka_unit_test(test_numbers_refuse_blanks_and_plus),
        cmocka_unit_test(test_pure_parsers_match_the_getters),
        cmocka_unit_test(test_service_config),
        cmocka_unit_test(test_auth_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
