/*
 * The SQLSTATE -> sl_status mapping: the exact codes of the house list, the
 * class prefixes, and that everything else (including junk) is INTERNAL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sl_db.h"

static void test_exact_codes(void **state)
{
    (void)state;
    assert_int_equal(sl_db_status_from_sqlstate("23505"), SL_ALREADY_EXISTS);
    assert_int_equal(sl_db_status_from_sqlstate("23514"), SL_FAILED_PRECONDITION);
    assert_int_equal(sl_db_status_from_sqlstate("23503"), SL_FAILED_PRECONDITION);
    assert_int_equal(sl_db_status_from_sqlstate("40001"), SL_ABORTED);
    assert_int_equal(sl_db_status_from_sqlstate("40P01"), SL_ABORTED);
    assert_int_equal(sl_db_status_from_sqlstate("57014"), SL_DEADLINE_EXCEEDED);
}

static void test_class_prefixes(void **state)
{
    (void)state;
    /* class 08: connection exceptions */
    assert_int_equal(sl_db_status_from_sqlstate("08000"), SL_UNAVAILABLE);
    assert_int_equal(sl_db_status_from_sqlstate("08006"), SL_UNAVAILABLE);
    assert_int_equal(sl_db_status_from_sqlstate("08P01"), SL_UNAVAILABLE);
    /* class 22: data exceptions */
    assert_int_equal(sl_db_status_from_sqlstate("22000"), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_db_status_from_sqlstate("22P02"), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_db_status_from_sqlstate("22003"), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_db_status_from_sqlstate("22012"), SL_INVALID_ARGUMENT);
    /* server going away or starting */
    assert_int_equal(sl_db_status_from_sqlstate("57P01"), SL_UNAVAILABLE);
    assert_int_equal(sl_db_status_from_sqlstate("57P02"), SL_UNAVAILABLE);
    assert_int_equal(sl_db_status_from_sqlstate("57P03"), SL_UNAVAILABLE);
}

static void test_others_internal(void **state)
{
    (void)state;
    /* Same class, other codes: not the listed ones. */
    assert_int_equal(sl_db_status_from_sqlstate("23502"), SL_INTERNAL); /* not null */
    assert_int_equal(sl_db_status_from_sqlstate("23P01"), SL_INTERNAL); /* exclusion */
    assert_int_equal(sl_db_status_from_sqlstate("40002"), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("40003"), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("57000"), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("42601"), SL_INTERNAL); /* syntax */
    assert_int_equal(sl_db_status_from_sqlstate("42P01"), SL_INTERNAL); /* no table */
    assert_int_equal(sl_db_status_from_sqlstate("XX000"), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("00000"), SL_INTERNAL);
    /* Malformed: never a prefix match on a short or long string. */
    assert_int_equal(sl_db_status_from_sqlstate(NULL), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate(""), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("08"), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("2250"), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("235050"), SL_INTERNAL);
    assert_int_equal(sl_db_status_from_sqlstate("40001 "), SL_INTERNAL);
}

static void test_grpc_codes(void **state)
{
    (void)state;
    /* The statuses reach clients as these gRPC codes. */
    assert_int_equal(sl_status_grpc_code(sl_db_status_from_sqlstate("23505")), 6);
    assert_int_equal(sl_status_grpc_code(sl_db_status_from_sqlstate("23503")), 9);
    assert_int_equal(sl_status_grpc_code(sl_db_status_from_sqlstate("40P01")), 10);
    assert_int_equal(sl_status_grpc_code(sl_db_status_from_sqlstate("08006")), 14);
    assert_int_equal(sl_status_grpc_code(sl_db_status_from_sqlstate("57014")), 4);
    assert_int_equal(sl_status_grpc_code(sl_db_status_from_sqlstate("22P02")), 3);
    assert_int_equal(sl_status_grpc_code(sl_db_status_from_sqlstate("42P01")), 13);
}

static void test_open_validates(void **state)
{
    (void)state;
    sl_db *db = NULL;
    sl_err e;
    sl_db_options o = {.conninfo = "host=127.0.0.1 port=1 dbname=x"};
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);
    sl_db_close(db);

    o.conninfo = "host=127.0.0.1 bogus";
    assert_int_equal(sl_db_open(&o, &db, &e), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(e.msg, "invalid database connection string"));
    assert_null(db);

    o.conninfo = "postgresql://u@h/db";
    o.schema = "Inventory";
    assert_int_equal(sl_db_open(&o, &db, &e), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(e.msg, "\"Inventory\""));
    o.schema = "pg_temp";
    assert_int_equal(sl_db_open(&o, &db, &e), SL_INVALID_ARGUMENT);
    o.schema = "inv\"; drop";
    assert_int_equal(sl_db_open(&o, &db, &e), SL_INVALID_ARGUMENT);
    o.schema = "inventory";
    o.pool_size = 1000;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_INVALID_ARGUMENT);
    assert_non_null(strstr(e.msg, "pool size 1000"));
    o.pool_size = 2;
    o.acquire_timeout_ms = -5;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_INVALID_ARGUMENT);
    o.acquire_timeout_ms = 0;
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);
    assert_string_equal(sl_db_schema(db), "inventory");
    assert_int_equal(sl_db_pool_size(db), 2);
    sl_db_close(db);
}

static void test_register(void **state)
{
    (void)state;
    static const sl_db_stmt a[] = {{"t_one", "SELECT 1", 0}, {"t_two", "SELECT $1", 1}, {0}};
    static const sl_db_stmt same[] = {{"t_one", "SELECT 1", 0}, {0}};
    static const sl_db_stmt clash[] = {{"t_three", "SELECT 3", 0}, {"t_one", "SELECT 2", 0}, {0}};
    static const sl_db_stmt bad[] = {{"t_bad", NULL, 0}, {0}};
    static const sl_db_stmt dup_in_table[] = {{"t_d", "SELECT 1", 0}, {"t_d", "SELECT 2", 0}, {0}};
    sl_db *db = NULL;
    sl_err e;
    sl_db_options o = {.conninfo = "host=127.0.0.1 port=1 dbname=x"};
    assert_int_equal(sl_db_open(&o, &db, &e), SL_OK);
    assert_int_equal(sl_db_register(db, a, &e), SL_OK);
    assert_int_equal(sl_db_register(db, a, &e), SL_OK);
    assert_int_equal(sl_db_register(db, same, &e), SL_OK);
    assert_int_equal(sl_db_register(db, clash, &e), SL_ALREADY_EXISTS);
    assert_non_null(strstr(e.msg, "\"t_one\""));
    assert_int_equal(sl_db_register(db, bad, &e), SL_INVALID_ARGUMENT);
    assert_int_equal(sl_db_register(db, dup_in_table, &e), SL_ALREADY_EXISTS);
    /* A rejected table adds nothing: t_three is still free. */
    static const sl_db_stmt three[] = {{"t_three", "SELECT 33", 0}, {0}};
    assert_int_equal(sl_db_register(db, three, &e), SL_OK);
    sl_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_codes),     cmocka_unit_test(test_class_prefixes),
        cmocka_unit_test(test_others_internal), cmocka_unit_test(test_grpc_codes),
        cmocka_unit_test(test_open_validates),  cmocka_unit_test(test_register),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
