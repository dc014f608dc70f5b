/*
 * sl_db_row against a real PostgreSQL: every typed read of a column by
 * name on real text-format results (integers, booleans, floats, text,
 * NULLs, timestamps in several session time zones checked against the
 * server's own epoch), and the loud failures -- a misspelt column, NULL
 * where a value is required, a value that does not parse, a row outside
 * the result -- each INTERNAL naming the column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sl_db.h"
#include "sl_db_row.h"
#include "sl_testpg.h"

typedef struct fixture {
    sl_db *db;
    sl_arena *arena;
} fixture;

static const sl_db_stmt stmts[] = {
    {"tr_values",
     "SELECT 42::int AS i, (-9223372036854775807 - 1)::bigint AS big, true AS yes, false AS no,"
     " 'héllo'::text AS t, NULL::text AS nt, NULL::bigint AS ni, NULL::boolean AS nb,"
     " 2.5::float8 AS d, NULL::float8 AS nd, 'abc'::text AS notint,"
     " '99999999999999999999'::text AS toobig, 'yes'::text AS notbool,"
     " '12x'::text AS notnum",
     0},
    {"tr_set_zone", "SELECT set_config('TimeZone', $1, true)", 1},
    /* Each instant with the server's own reading of it, floored to ms. */
    {"tr_instants",
     "SELECT x.ts AS ts, floor(extract(epoch FROM x.ts) * 1000)::bigint AS want"
     " FROM (VALUES ('2025-03-16 12:34:56.789Z'::timestamptz),"
     "  ('1970-01-01 00:00:00Z'), ('1969-12-31 23:59:59.9995Z'), ('1900-02-28 07:00:00.5Z'),"
     "  ('2024-02-29 23:59:59.999999Z'), ('9999-12-31 23:59:59.999Z'),"
     "  ('2025-10-26 01:30:00Z'), ('2025-03-09 07:30:00Z')) AS x (ts)",
     0},
    {"tr_local_ts",
     "SELECT '2025-07-01 10:00:00.25'::timestamp AS ts,"
     " 'infinity'::timestamptz AS inf, '0044-03-15 12:00:00 BC'::timestamptz AS bc,"
     " NULL::timestamptz AS nts",
     0},
    {"tr_bytes", "SELECT '\\x00ff41'::bytea AS b, ''::bytea AS empty, NULL::bytea AS nb", 0},
    {"tr_rows", "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, $1::int) AS g", 1},
    {"tr_echo", "SELECT $1::bigint AS i, $2::boolean AS b, $3::text IS NULL AS was_null", 3},
    {NULL, NULL, 0},
};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->db = sl_testpg_open("test_db_row", NULL, 2, NULL, 0);
    if (f->db == NULL)
        return -1;
    sl_err e;
    if (sl_db_register(f->db, stmts, &e) != SL_OK)
        return -1;
    f->arena = sl_arena_create(4096);
    *state = f;
    return f->arena != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_arena_destroy(f->arena);
    sl_db_close(f->db);
    sl_testpg_drop_db("test_db_row");
    free(f);
    return 0;
}

static PGresult *run(fixture *f, const char *stmt, int n, const char *const *v)
{
    sl_db_conn *conn;
    sl_err err;
    assert_int_equal(sl_db_acquire(f->db, -1, &conn, &err), SL_OK);
    PGresult *res = NULL;
    assert_int_equal(sl_db_exec(conn, stmt, n, v, NULL, NULL, &res, &err), SL_OK);
    sl_db_release(f->db, conn);
    return res;
}

static void test_typed_reads_by_name(void **state)
{
    fixture *f = *state;
    PGresult *res = run(f, "tr_values", 0, NULL);
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, f->arena);
    assert_int_equal(sl_db_reader_rows(&rd), 1);
    assert_int_equal(sl_db_int64(&rd, 0, "i"), 42);
    assert_true(sl_db_int64(&rd, 0, "big") == INT64_MIN);
    assert_true(sl_db_bool(&rd, 0, "yes"));
    assert_false(sl_db_bool(&rd, 0, "no"));
    const char *t = sl_db_text(&rd, 0, "t");
    assert_string_equal(t, "héllo");
    assert_true(t != PQgetvalue(res, 0, PQfnumber(res, "t"))); /* copied into the arena */
    assert_true(sl_db_double(&rd, 0, "d") == 2.5);
    /* NULLs through the _or variants */
    assert_string_equal(sl_db_text_or(&rd, 0, "nt", "none"), "none");
    assert_int_equal(sl_db_int64_or(&rd, 0, "ni", -7), -7);
    assert_true(sl_db_bool_or(&rd, 0, "nb", true));
    assert_true(sl_db_double_or(&rd, 0, "nd", 0.5) == 0.5);
    assert_true(sl_db_is_null(&rd, 0, "nt"));
    assert_false(sl_db_is_null(&rd, 0, "t"));
    /* the _or variants read values that are there */
    assert_int_equal(sl_db_int64_or(&rd, 0, "i", -7), 42);
    assert_string_equal(sl_db_text_or(&rd, 0, "t", "none"), "héllo");
    sl_err err;
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_OK);

    /* without an arena, text points into the result */
    sl_db_reader_init(&rd, res, NULL);
    assert_true(sl_db_text(&rd, 0, "t") == PQgetvalue(res, 0, PQfnumber(res, "t")));
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_OK);
    PQclear(res);
}

/* Reads col as kind and expects INTERNAL naming it, the zero value, and
 * that the first failure is the one reported. */
typedef enum kind { TEXT, INT64, BOOL, DOUBLE, INSTANT } kind;

static void expect_failure(PGresult *res, kind k, int row, const char *col, const char *why)
{
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, NULL);
    switch (k) {
    case TEXT:
        assert_string_equal(sl_db_text(&rd, row, col), "");
        break;
    case INT64:
        assert_int_equal(sl_db_int64(&rd, row, col), 0);
        break;
    case BOOL:
        assert_false(sl_db_bool(&rd, row, col));
        break;
    case DOUBLE:
        assert_true(sl_db_double(&rd, row, col) == 0);
        break;
    case INSTANT:
        assert_int_equal(sl_db_instant_ms(&rd, row, col), 0);
        break;
    }
    /* a later read, good or bad, neither clears nor replaces the failure */
    (void)sl_db_int64(&rd, 0, "i");
    (void)sl_db_text(&rd, 0, "no_such_column_either");
    sl_err err;
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_INTERNAL);
    char named[80];
    snprintf(named, sizeof named, "column \"%s\"", col);
    if (strstr(err.msg, named) == NULL || strstr(err.msg, why) == NULL)
        fprintf(stderr, "message \"%s\" lacks \"%s\" or \"%s\"\n", err.msg, named, why);
    assert_non_null(strstr(err.msg, named));
    assert_non_null(strstr(err.msg, why));
}

static void test_failures_name_the_column(void **state)
{
    fixture *f = *state;
    PGresult *res = run(f, "tr_values", 0, NULL);
    expect_failure(res, TEXT, 0, "txet", "no such column");
    expect_failure(res, INT64, 0, "ii", "no such column");
    expect_failure(res, TEXT, 0, "nt", "NULL");
    expect_failure(res, INT64, 0, "ni", "NULL");
    expect_failure(res, BOOL, 0, "nb", "NULL");
    expect_failure(res, DOUBLE, 0, "nd", "NULL");
    expect_failure(res, INT64, 0, "notint", "not a 64-bit integer");
    expect_failure(res, INT64, 0, "toobig", "not a 64-bit integer");
    expect_failure(res, INT64, 0, "d", "not a 64-bit integer"); /* 2.5 */
    expect_failure(res, BOOL, 0, "notbool", "not a boolean");
    expect_failure(res, DOUBLE, 0, "notnum", "not a number");
    expect_failure(res, INSTANT, 0, "t", "not an ISO timestamp");
    expect_failure(res, TEXT, 1, "t", "row 1 of a result of 1");
    expect_failure(res, INT64, -1, "i", "row -1");

    /* the _or variants still fail on what is not NULL-related */
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, NULL);
    assert_int_equal(sl_db_int64_or(&rd, 0, "notint", 5), 0);
    sl_err err;
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_INTERNAL);
    assert_non_null(strstr(err.msg, "\"notint\""));
    sl_db_reader_init(&rd, res, NULL);
    assert_string_equal(sl_db_text_or(&rd, 0, "nope", "x"), "");
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_INTERNAL);
    assert_non_null(strstr(err.msg, "\"nope\""));
    PQclear(res);
}

static sl_status instants_tx(sl_db_conn *conn, void *ctx, sl_err *err)
{
    const char *zone = ctx;
    const char *v[1] = {zone};
    sl_status st = sl_db_exec(conn, "tr_set_zone", 1, v, NULL, NULL, NULL, err);
    if (st != SL_OK)
        return st;
    PGresult *res = NULL;
    if ((st = sl_db_exec(conn, "tr_instants", 0, NULL, NULL, NULL, &res, err)) != SL_OK)
        return st;
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, NULL);
    int n = sl_db_reader_rows(&rd);
    assert_int_equal(n, 8);
    for (int i = 0; i < n; i++) {
        int64_t got = sl_db_instant_ms(&rd, i, "ts"), want = sl_db_int64(&rd, i, "want");
        if (got != want)
            fprintf(stderr, "%s: \"%s\" read as %lld, the server says %lld\n", zone,
                    PQgetvalue(res, i, 0), (long long)got, (long long)want);
        assert_true(got == want);
    }
    assert_int_equal(sl_db_reader_status(&rd, err), SL_OK);
    PQclear(res);
    return SL_OK;
}

static void test_instants_in_every_session_zone(void **state)
{
    fixture *f = *state;
    /* whole hours, half hours, 45 minutes, the far side of the date line,
     * and an offset with seconds (Amsterdam before 1937: +00:19:32) */
    const char *zones[] = {"UTC",          "Europe/Paris",     "America/New_York",
                           "Asia/Kolkata", "America/St_Johns", "Asia/Kathmandu",
                           "Pacific/Apia", "Europe/Amsterdam", "America/Los_Angeles"};
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        sl_err err;
        assert_int_equal(sl_db_tx(f->db, NULL, instants_tx, (void *)zones[i], &err), SL_OK);
    }
}

static void test_instant_edge_values(void **state)
{
    fixture *f = *state;
    PGresult *res = run(f, "tr_local_ts", 0, NULL);
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, NULL);
    /* timestamp without time zone reads as UTC */
    assert_true(sl_db_instant_ms(&rd, 0, "ts") == INT64_C(1751364000250));
    assert_int_equal(sl_db_instant_ms_or(&rd, 0, "nts", -1), -1);
    sl_err err;
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_OK);
    expect_failure(res, INSTANT, 0, "inf", "not an ISO timestamp");
    expect_failure(res, INSTANT, 0, "bc", "not an ISO timestamp");
    expect_failure(res, INSTANT, 0, "nts", "NULL");
    PQclear(res);
}

static void test_bytea_as_raw_bytes(void **state)
{
    fixture *f = *state;
    PGresult *res = run(f, "tr_bytes", 0, NULL);
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, f->arena);
    size_t len = 99;
    const uint8_t *b = sl_db_bytes(&rd, 0, "b", &len);
    assert_int_equal(len, 3);
    assert_memory_equal(b, "\x00\xff\x41", 3);
    b = sl_db_bytes(&rd, 0, "empty", &len);
    assert_int_equal(len, 0);
    assert_non_null(b);
    sl_err err;
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_OK);
    /* NULL, and a reader without an arena, are failures naming the column */
    b = sl_db_bytes(&rd, 0, "nb", &len);
    assert_int_equal(len, 0);
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_INTERNAL);
    assert_non_null(strstr(err.msg, "\"nb\""));
    sl_db_reader_init(&rd, res, NULL);
    (void)sl_db_bytes(&rd, 0, "b", &len);
    assert_int_equal(len, 0);
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_INTERNAL);
    assert_non_null(strstr(err.msg, "arena"));
    PQclear(res);
}

static void test_many_rows_and_parameters(void **state)
{
    fixture *f = *state;
    char buf[SL_DB_INT64_TEXT];
    const char *v[1] = {sl_db_param_int64(buf, 300)};
    PGresult *res = run(f, "tr_rows", 1, v);
    sl_db_reader rd;
    sl_db_reader_init(&rd, res, f->arena);
    assert_int_equal(sl_db_reader_rows(&rd), 300);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(sl_db_int64(&rd, i, "n"), i + 1);
        char want[32];
        snprintf(want, sizeof want, "row %d", i + 1);
        assert_string_equal(sl_db_text(&rd, i, "label"), want);
    }
    sl_err err;
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_OK);
    PQclear(res);

    /* parameters round trip through the server */
    const char *p[3] = {sl_db_param_int64_dup(f->arena, INT64_MIN), sl_db_param_bool(true),
                        sl_db_param_text_or_null("")};
    assert_string_equal(p[0], "-9223372036854775808");
    res = run(f, "tr_echo", 3, p);
    sl_db_reader_init(&rd, res, NULL);
    assert_true(sl_db_int64(&rd, 0, "i") == INT64_MIN);
    assert_true(sl_db_bool(&rd, 0, "b"));
    assert_true(sl_db_bool(&rd, 0, "was_null"));
    assert_int_equal(sl_db_reader_status(&rd, &err), SL_OK);
    PQclear(res);
    assert_string_equal(sl_db_param_int64(buf, INT64_MAX), "9223372036854775807");
    assert_string_equal(sl_db_param_bool(false), "false");
    assert_string_equal(sl_db_param_text_or_null("x"), "x");
    assert_null(sl_db_param_text_or_null(NULL));

    /* an empty result has no row 0 */
    sl_db_reader_init(&rd, NULL, NULL);
    assert_int_equal(sl_db_reader_rows(&rd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_reads_by_name),
        cmocka_unit_test(test_failures_name_the_column),
        cmocka_unit_test(test_instants_in_every_session_zone),
        cmocka_unit_test(test_instant_edge_values),
        cmocka_unit_test(test_bytea_as_raw_bytes),
        cmocka_unit_test(test_many_rows_and_parameters),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
