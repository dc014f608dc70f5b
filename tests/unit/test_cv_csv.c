/* cv_csv: shelfline-clv's summary-file reader -- the header's names, rows
 * checked like the service's, and errors that name the line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cv_csv.h"

/* Reads bytes text[0..len) as the file "s.csv". */
static sl_status read_bytes(const char *text, size_t len, cv_summary_rows *out, sl_err *err)
{
    FILE *f = fmemopen((void *)text, len, "r");
    assert_non_null(f);
    sl_status st = cv_csv_read_summaries(f, "s.csv", out, err);
    fclose(f);
    return st;
}

static sl_status read_text(const char *text, cv_summary_rows *out, sl_err *err)
{
    return read_bytes(text, strlen(text), out, err);
}

static void test_header_names_and_optional_columns(void **state)
{
    (void)state;
    cv_summary_rows r;
    sl_err err;
    assert_int_equal(read_text("customer_id,x,t_x,T,monetary\r\nc1,2,30.5,38,22.5\r\n\r\n"
                               "c2,0,0,38,0\r\n",
                               &r, &err),
                     SL_OK);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.ids[0], "c1");
    assert_int_equal(r.rows[0].x, 2);
    assert_float_equal(r.rows[0].t_x, 30.5, 0.0);
    assert_float_equal(r.rows[0].T, 38.0, 0.0);
    assert_float_equal(r.rows[0].monetary, 22.5, 0.0);
    cv_summary_rows_free(&r);
    assert_null(r.rows);

    /* BTYD's names, no id and no monetary column. */
    assert_int_equal(read_text("frequency,recency,T\n3,5.5,7\n", &r, &err), SL_OK);
    assert_int_equal(r.n, 1);
    assert_null(r.ids[0]);
    assert_float_equal(r.rows[0].monetary, 0.0, 0.0);
    cv_summary_rows_free(&r);
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"x,t_x\n1,2\n", "s.csv:1: the header must name x, t_x and T"},
        {"x,t_x,T\n1,2\n", "s.csv:2: expected 3 fields, got 2"},
        {"x,t_x,T\n1.5,2,3\n", "s.csv:2: x, t_x, T and monetary must be numbers"},
        {"x,t_x,T\n1,4,3\n", "s.csv:2: t_x must be within"},
        {"x,t_x,T\n", "\"s.csv\" holds no customers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cv_summary_rows r;
        sl_err err;
        assert_int_equal(read_text(cases[i].text, &r, &err), SL_INVALID_ARGUMENT);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
    }
}

/* Found by fuzz_csv: getline keeps a NUL byte, the splitter stopped at it,
 * and "1\0junk" read as 1 -- the rest of the line dropped silently. */
static void test_nul_byte_is_not_text(void **state)
{
    (void)state;
    static const char text[] = "x,t_x,T\n1,2,3\0,junk\n";
    cv_summary_rows r;
    sl_err err;
    assert_int_equal(read_bytes(text, sizeof text - 1, &r, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "s.csv:2: NUL byte in a text line");
}

/* Found by fuzz_csv: the splitter stopped at 32 fields and dropped the
 * rest, so a row with more fields than a 32-column header passed the
 * field-count check (and a header's 33rd column was never seen). */
static void test_more_than_32_fields_is_an_error(void **state)
{
    (void)state;
    char text[512];
    size_t n = (size_t)snprintf(text, sizeof text, "x,t_x,T");
    for (int i = 3; i < 32; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ",pad");
    n += (size_t)snprintf(text + n, sizeof text - n, "\n1,2,3");
    for (int i = 3; i < 32; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ",0");
    snprintf(text + n, sizeof text - n, ",extra\n");
    cv_summary_rows r;
    sl_err err;
    assert_int_equal(read_text(text, &r, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "s.csv:2: more than 32 fields");

    char line[] = "a,b,c";
    char *cols[2];
    assert_int_equal(cv_csv_split(line, cols, 2), 3);
    assert_string_equal(cols[0], "a");
    assert_string_equal(cols[1], "b");
    char line2[] = "a,,c";
    char *cols2[3];
    assert_int_equal(cv_csv_split(line2, cols2, 3), 3);
    assert_string_equal(cols2[1], "");
    assert_string_equal(cols2[2], "c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_names_and_optional_columns),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_nul_byte_is_not_text),
        cmocka_unit_test(test_more_than_32_fields_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
