/* shelfline-clv: the command line on CDNOW (exact JSON keys, published
 * values, the per-customer file) and on bad input (a message naming the
 * line, non-zero exit).  The binary is $SHELFLINE_BIN_DIR/shelfline-clv. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char out_buf[1 << 16], err_buf[1 << 16];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cv_cli_XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *cdnow(const char *file)
{
    static char path[4096];
    const char *src = getenv("SHELFLINE_SOURCE_DIR");
    if (src == NULL)
        fail_msg("SHELFLINE_SOURCE_DIR is not set (ctest sets it)");
    snprintf(path, sizeof path, "%s/../shared/data/cdnow/%s", src, file);
    return path;
}

static void slurp(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t k = f ? fread(buf, 1, n - 1, f) : 0;
    buf[k] = '\0';
    if (f)
        fclose(f);
}

/* Runs shelfline-clv with args (a shell fragment); returns its exit status
 * and leaves stdout and stderr in out_buf and err_buf. */
static int run(const char *fmt, ...)
{
    const char *bin = getenv("SHELFLINE_BIN_DIR");
    if (bin == NULL)
        fail_msg("SHELFLINE_BIN_DIR is not set (ctest sets it)");
    char args[8192], cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s/shelfline-clv' %s >'%s/out' 2>'%s/err'", bin, args, dir, dir);
    int rc = system(cmd);
    char path[256];
    snprintf(path, sizeof path, "%s/out", dir);
    slurp(path, out_buf, sizeof out_buf);
    snprintf(path, sizeof path, "%s/err", dir);
    slurp(path, err_buf, sizeof err_buf);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void check_cdnow_json(const char *json)
{
    unsigned long n;
    double r, alpha, a, b, ll, p, q, g, ll2, secs;
    /* The exact shape: these keys, in this order, nothing else. */
    int k = sscanf(json,
                   "{\"customers\": %lu, \"bgnbd\": {\"r\": %lf, \"alpha\": %lf, \"a\": %lf, "
                   "\"b\": %lf, \"log_likelihood\": %lf}, \"gamma_gamma\": {\"p\": %lf, \"q\": "
                   "%lf, \"gamma\": %lf, \"log_likelihood\": %lf}, \"seconds\": %lf}",
                   &n, &r, &alpha, &a, &b, &ll, &p, &q, &g, &ll2, &secs);
    if (k != 11)
        fail_msg("unexpected JSON (%d fields parsed): %s", k, json);
    const char *end = strrchr(json, '}');
    assert_non_null(end);
    assert_string_equal(end, "}\n");
    assert_int_equal(n, 2357);
    assert_float_equal(round(r * 1e3) / 1e3, 0.243, 1e-12);
    assert_float_equal(round(alpha * 1e3) / 1e3, 4.414, 1e-12);
    assert_float_equal(round(a * 1e3) / 1e3, 0.793, 1e-12);
    assert_float_equal(round(b * 1e3) / 1e3, 2.426, 1e-12);
    assert_float_equal(round(ll * 10) / 10, -9582.4, 1e-9);
    assert_float_equal(round(p * 100) / 100, 6.25, 1e-12);
    assert_float_equal(round(q * 100) / 100, 3.74, 1e-12);
    assert_float_equal(round(g * 100) / 100, 15.44, 1e-12);
    assert_true(ll2 < 0.0);
    assert_true(secs >= 0.0 && secs < 5.0);
}

static void test_fit_cdnow(void **state)
{
    (void)state;
    int rc = run("fit --transactions '%s' --calibration-end 1997-09-30 --holdout-end 1998-06-30 "
                 "--per-customer '%s/pc.csv'",
                 cdnow("CDNOW_sample.txt"), dir);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err_buf);
    check_cdnow_json(out_buf);
    assert_string_equal(err_buf, "");

    char path[256];
    snprintf(path, sizeof path, "%s/pc.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line,
                        "customer_id,x,t_x,T,p_alive,expected_purchases,expected_spend,clv\n");
    /* The paper's customer 1 (master id 00004): x = 2, t_x = 30.43, T = 38.86,
     * 1.226 expected purchases in the 39-week holdout. */
    assert_non_null(fgets(line, sizeof line, f));
    char id[32];
    unsigned x;
    double tx, T, pa, e, v, clv, total = e = 0;
    assert_int_equal(
        sscanf(line, "%31[^,],%u,%lf,%lf,%lf,%lf,%lf,%lf", id, &x, &tx, &T, &pa, &e, &v, &clv), 8);
    assert_string_equal(id, "00004");
    assert_int_equal(x, 2);
    assert_float_equal(tx, 30.43, 0.005);
    assert_float_equal(T, 38.86, 0.005);
    assert_float_equal(e, 1.226, 0.0005);
    assert_true(pa > 0.0 && pa < 1.0 && v > 0.0 && clv > 0.0 && clv < e * v);
    size_t rows = 1;
    total = e;
    while (fgets(line, sizeof line, f) != NULL) {
        assert_int_equal(
            sscanf(line, "%31[^,],%u,%lf,%lf,%lf,%lf,%lf,%lf", id, &x, &tx, &T, &pa, &e, &v, &clv),
            8);
        total += e;
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 2357);
    assert_float_equal(total, 1653.4, 0.5); /* against 1,882 actual, see test_cv_cdnow */

    /* BTYD's CSV of the same log gives the same fit. */
    rc = run("fit --transactions '%s' --calibration-end 1997-09-30", cdnow("cdnowElog.csv"));
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err_buf);
    check_cdnow_json(out_buf);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text, *want;
    } cases[] = {
        {"date.csv", "customer_id,date,amount\n1,2020-01-01,5\n2,2020-02-30,3\n",
         "date.csv:3: invalid date \"2020-02-30\""},
        {"amount.csv", "customer_id,date,amount\n1,2020-01-01,5\n1,2020-01-02,five\n",
         "amount.csv:3: invalid amount \"five\""},
        {"fields.csv", "customer_id,date,amount\n1,2020-01-01,5,9\n",
         "fields.csv:2: expected 3 fields, got 4"},
        {"header.csv", "who,when,howmuch\n1,2020-01-01,5\n", "header.csv:1: the header must name"},
        {"empty.csv", "customer_id,date,amount\n", "holds no transactions"},
        {"late.csv", "customer_id,date,amount\n1,2021-01-01,5\n",
         "no customer made a first purchase by the calibration end"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(cases[i].name, cases[i].text);
        int rc = run("fit --transactions '%s/%s' --calibration-end 2020-06-30", dir, cases[i].name);
        assert_int_equal(rc, 1);
        if (strstr(err_buf, cases[i].want) == NULL)
            fail_msg("%s: stderr \"%s\" lacks \"%s\"", cases[i].name, err_buf, cases[i].want);
        assert_string_equal(out_buf, "");
    }
    assert_int_equal(run("fit --transactions '%s/nope.csv' --calibration-end 2020-06-30", dir), 1);
    assert_non_null(strstr(err_buf, "could not open"));
    /* Usage errors: exit 2 and a message naming the option. */
    assert_int_equal(run("fit --transactions x.csv"), 2);
    assert_non_null(strstr(err_buf, "--calibration-end"));
    assert_int_equal(run("fit --transactions x.csv --calibration-end 2020-13-01"), 2);
    assert_non_null(strstr(err_buf, "invalid --calibration-end \"2020-13-01\""));
    assert_int_equal(run("fit --transactions x.csv --calibration-end 2020-01-01 --unit month"), 2);
    assert_int_equal(run("fit --transactions x.csv --calibration-end 2020-01-01 --holdout-end "
                         "2019-01-01"),
                     2);
    assert_int_equal(run("fit --transactions x.csv --calibration-end 2020-01-01 --per-customer "
                         "o.csv"),
                     2);
    assert_int_equal(run("frobnicate"), 2);
    assert_int_equal(run("--help"), 0);
    assert_non_null(strstr(out_buf, "usage: shelfline-clv fit"));
}

static void test_simulate_round_trip(void **state)
{
    (void)state;
    /* A small simulated cohort fits without complaint, in days as well. */
    char cmd_args[512];
    snprintf(cmd_args, sizeof cmd_args, "simulate --customers 3000 --seed 11 --out '%s/sim.csv'",
             dir);
    assert_int_equal(run("%s", cmd_args), 0);
    int rc = run("fit --transactions '%s/sim.csv' --calibration-end 1997-09-30 --unit day "
                 "--holdout-end 1998-06-30 --per-customer '%s/sim_pc.csv'",
                 dir, dir);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err_buf);
    unsigned long n;
    double r, alpha;
    assert_int_equal(sscanf(out_buf, "{\"customers\": %lu, \"bgnbd\": {\"r\": %lf, \"alpha\": %lf",
                            &n, &r, &alpha),
                     3);
    assert_int_equal(n, 3000);
    /* Daily alpha is about 7 x the weekly 4.414; 3,000 customers pin it to
     * within a few tens of percent. */
    assert_true(r > 0.15 && r < 0.35);
    assert_true(alpha > 15.0 && alpha < 50.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_cdnow),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_simulate_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
