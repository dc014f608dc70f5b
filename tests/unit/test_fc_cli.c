/* shelfline-forecast: the command line on good and bad input.  Runs the
 * built binary from SHELFLINE_BIN_DIR (set by ctest) with files as standard
 * input and checks exit status, CSV output and error messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char bin[1024];

static int setup(void **state)
{
    (void)state;
    const char *bd = getenv("SHELFLINE_BIN_DIR");
    if (bd == NULL) {
        fprintf(stderr, "SHELFLINE_BIN_DIR is not set (ctest sets it)\n");
        return -1;
    }
    snprintf(bin, sizeof bin, "%s/shelfline-forecast", bd);
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "%s is not built\n", bin);
        return -1;
    }
    snprintf(dir, sizeof dir, "/tmp/fc_cli_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct result {
    int status;
    char out[16384];
    char err[4096];
} result;

static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs the binary with args and input as standard input. */
static void run(const char *args, const char *input, result *r)
{
    char in[128], out[128], err[128], cmd[2048];
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    fputs(input, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' %s <'%s' >'%s' 2>'%s'", bin, args, in, out, err);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    r->status = WEXITSTATUS(st);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static char *series(int n, int with_index)
{
    static char buf[8192];
    size_t k = 0;
    for (int t = 0; t < n; t++) {
        int v = 20 + (t % 7) * 3 + (t * 7919) % 5;
        if (with_index)
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%d,%d\n", t + 1, v);
        else
            k += (size_t)snprintf(buf + k, sizeof buf - k, "%d\n", v);
    }
    return buf;
}

static void test_good_input(void **state)
{
    (void)state;
    static result r;
    run("--period 7 --horizon 5", series(60, 0), &r);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "step,point,lo80,hi80,lo95,hi95\n", 31) == 0);
    assert_int_equal(count_lines(r.out), 6);
    /* step 1 has six numeric columns in order lo95 <= lo80 <= point <= hi80 <= hi95 */
    int step;
    double p, l80, h80, l95, h95;
    assert_int_equal(sscanf(strchr(r.out, '\n') + 1, "%d,%lf,%lf,%lf,%lf,%lf", &step, &p, &l80,
                            &h80, &l95, &h95),
                     6);
    assert_int_equal(step, 1);
    assert_true(l95 <= l80 && l80 <= p && p <= h80 && h80 <= h95);

    run("--period 7 --horizon 3 --levels 90 --method theta --info", series(60, 1), &r);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "step,point,lo90,hi90\n", 21) == 0);
    assert_int_equal(count_lines(r.out), 4);
    assert_non_null(strstr(r.err, "method=theta"));

    /* missing values and a header-less index,value file with dates */
    run("--period 1 --horizon 2 --method ses",
        "2024-01-01,5\n2024-01-02,NA\n2024-01-03,7\n"
        "2024-01-04,\n2024-01-05,6\n2024-01-06,8\n",
        &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out), 3);
}

static void test_batch(void **state)
{
    (void)state;
    static result r;
    char in[4096];
    size_t k = 0;
    for (int s = 0; s < 3; s++)
        for (int t = 0; t < 40; t++)
            k += (size_t)snprintf(in + k, sizeof in - k, "sku%d,%d\n", s, 10 * (s + 1) + t % 7);
    run("--period 7 --horizon 4 --batch --threads 2", in, &r);
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "id,step,point,", 14) == 0);
    assert_int_equal(count_lines(r.out), 1 + 3 * 4);
    assert_non_null(strstr(r.out, "\nsku2,4,"));
    run("--period 7 --horizon 4 --batch", "a,1\nb,2\na,3\n", &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "line 3"));
}

static void test_bad_input(void **state)
{
    (void)state;
    static result r;
    run("--period 7 --horizon 5", "1\n2\nabc\n4\n", &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "line 3"));
    assert_non_null(strstr(r.err, "\"abc\" is not a number"));
    assert_int_equal(r.out[0], '\0');

    run("--period 7 --horizon 5", "", &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "empty"));

    run("--period 7 --horizon 5", "NA\nNA\n", &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no observed day"));

    run("--period -3 --horizon 5", "1\n2\n", &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--period"));
    assert_non_null(strstr(r.err, "\"-3\""));

    run("--period 7 --horizon 0", "1\n2\n", &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--horizon"));

    run("--period 7", "1\n2\n", &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--horizon is required"));

    run("--period 7 --horizon 3 --method sarima", "1\n2\n", &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown method \"sarima\""));

    run("--period 7 --horizon 3 --levels 80,100", "1\n2\n", &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--levels"));

    run("--period 7 --horizon 3 --frobnicate 1", "1\n2\n", &r);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown option \"--frobnicate\""));

    run("--period 7 --horizon 3", "1\ninf\n", &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "line 2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_input),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
