/* fc_csv: shelfline-forecast's input reader -- one series or --batch,
 * missing days, and errors that name the line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fc_csv.h"

static sl_status read_bytes(const char *text, size_t len, bool batch, fc_csv_input *in, sl_err *err)
{
    FILE *f = fmemopen((void *)text, len, "r");
    assert_non_null(f);
    sl_status st = fc_csv_read(f, "standard input", batch, in, err);
    fclose(f);
    return st;
}

static sl_status read_text(const char *text, bool batch, fc_csv_input *in, sl_err *err)
{
    return read_bytes(text, strlen(text), batch, in, err);
}

static void test_one_series_with_missing_days(void **state)
{
    (void)state;
    fc_csv_input in;
    sl_err err;
    assert_int_equal(read_text("12\n\n2024-01-02,NA\n 2024-01-03 , \n17.5\r\n", false, &in, &err),
                     SL_OK);
    assert_int_equal(in.n, 1);
    assert_null(in.s[0].id);
    assert_int_equal(in.s[0].n, 4);
    assert_float_equal(in.s[0].v[0], 12.0, 0.0);
    assert_true(isnan(in.s[0].v[1]));
    assert_true(isnan(in.s[0].v[2]));
    assert_float_equal(in.s[0].v[3], 17.5, 0.0);
    fc_csv_input_free(&in);
    assert_null(in.s);
}

static void test_batch_groups_by_id(void **state)
{
    (void)state;
    fc_csv_input in;
    sl_err err;
    assert_int_equal(read_text("sku1,5\nsku1,6\n sku2 ,1\n", true, &in, &err), SL_OK);
    assert_int_equal(in.n, 2);
    assert_string_equal(in.s[0].id, "sku1");
    assert_int_equal(in.s[0].n, 2);
    assert_string_equal(in.s[1].id, "sku2");
    fc_csv_input_free(&in);
}

static void test_errors_name_the_line(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool batch;
        const char *want;
    } cases[] = {
        {"1\n2\nabc\n", false, "line 3: \"abc\" is not a number"},
        {"1\ninf\n", false, "line 2: \"inf\" is not a number"},
        {"a,1\n2\n", true, "line 2: expected \"id,value\" in batch mode, got \"2\""},
        {"a,1\nb,2\na,3\n", true, "line 3: series \"a\" continues after another series"},
        {"\n \n", false, "the series is empty: no values on standard input"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fc_csv_input in;
        sl_err err;
        assert_int_equal(read_text(cases[i].text, cases[i].batch, &in, &err), SL_INVALID_ARGUMENT);
        if (strstr(err.msg, cases[i].want) == NULL)
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        assert_null(in.s);
    }
}

/* Found by fuzz_csv: a NUL byte ended the line for strlen, so "2\0junk"
 * was read as 2 (and "\0abc" as a blank line) without a word. */
static void test_nul_byte_is_not_text(void **state)
{
    (void)state;
    static const char text[] = "1\n2\0junk\n3\n";
    fc_csv_input in;
    sl_err err;
    assert_int_equal(read_bytes(text, sizeof text - 1, false, &in, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "line 2: NUL byte in a text line");
    assert_null(in.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_series_with_missing_days),
        cmocka_unit_test(test_batch_groups_by_id),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_nul_byte_is_not_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
