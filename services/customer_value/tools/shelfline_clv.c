/*
 * shelfline-clv: the customer-value engine on the command line.
 *
 *   shelfline-clv fit --transactions FILE --calibration-end DATE
 *                     [--holdout-end DATE] [--unit week|day] [--per-customer OUT.csv]
 *   shelfline-clv simulate --customers N [--seed S] ... > log.csv
 *
 * `fit` builds the papers' x, t_x, T summaries from a transaction log, fits
 * BG/NBD and Gamma-Gamma with the same engine as the service and prints one
 * JSON object; `simulate` writes a transaction log drawn from known
 * parameters (the benchmark's synthetic data, and a check that a fit
 * recovers them).  Run with --help for the options.
 *
 * Exit status: 0 success, 1 bad input or failure, 2 usage, 3 a fit did not
 * converge (the JSON is printed all the same).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_csv.h"
#include "cv_model.h"
#include "cv_txlog.h"

#define EXIT_USAGE 2
#define EXIT_NOT_CONVERGED 3

static const char usage_text[] =
    "usage: shelfline-clv fit --transactions FILE --calibration-end DATE [options]\n"
    "       shelfline-clv simulate --customers N [options] [--out log.csv]\n"
    "\n"
    "fit: BG/NBD + Gamma-Gamma maximum-likelihood fit; prints\n"
    "  {\"customers\": N, \"bgnbd\": {\"r\", \"alpha\", \"a\", \"b\", \"log_likelihood\"},\n"
    "   \"gamma_gamma\": {\"p\", \"q\", \"gamma\", \"log_likelihood\"}, \"seconds\": S}\n"
    "  (seconds: the two fits, reading the file excluded)\n"
    "  --transactions FILE     CSV with a header customer_id,date,amount (YYYY-MM-DD or\n"
    "                          YYYYMMDD), or CDNOW's whitespace format; - for stdin\n"
    "  --calibration-end DATE  last day of the calibration period (inclusive)\n"
    "  --holdout-end DATE      last day of the holdout period (inclusive)\n"
    "  --unit week|day         time unit of x, t_x, T and the parameters [week]\n"
    "  --per-customer OUT.csv  write customer_id,x,t_x,T,p_alive,expected_purchases,\n"
    "                          expected_spend,clv: purchases expected over the horizon,\n"
    "                          Gamma-Gamma expected spend per transaction, and the\n"
    "                          discounted expected revenue over the horizon\n"
    "  --horizon N             horizon in units [the holdout length]\n"
    "  --summaries FILE        fit precomputed summaries instead of a log: CSV with a\n"
    "                          header naming x, t_x, T [, monetary] [, customer_id]\n"
    "                          (frequency/recency/zbar/id accepted too); no dates\n"
    "  --annual-discount R     discount rate per year for clv, applied per unit [0.10]\n"
    "  --threads N             fitting threads [one per CPU]\n"
    "  --naive                 ungrouped single-thread evaluation (benchmark reference)\n"
    "\n"
    "simulate: a transaction log (customer_id,date,amount) from BG/NBD + Gamma-Gamma\n"
    "  --customers N           cohort size\n"
    "  --seed S                random seed [1]\n"
    "  --start DATE            first day of the cohort's first purchases [1997-01-01]\n"
    "  --cohort-days D         first purchases spread over D days [84]\n"
    "  --end DATE              last day simulated [1998-06-30]\n"
    "  --r --alpha --a --b     BG/NBD parameters, weekly [0.243 4.414 0.793 2.426]\n"
    "  --p --q --gamma         Gamma-Gamma parameters [6.25 3.74 15.44]\n"
    "  --out FILE              write there instead of standard output\n"
    "  --summaries             write x,t_x,T,monetary (weeks, continuous time, up to\n"
    "                          --calibration-end [1997-09-30]) instead of a log\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "shelfline-clv: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(try shelfline-clv --help)\n");
    return EXIT_USAGE;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_date(const char *s, int32_t *day)
{
    return cv_date_parse(s, strlen(s), day, NULL) == SL_OK ? 0 : -1;
}

/* ---- fit ------------------------------------------------------------------ */

typedef struct fit_args {
    const char *transactions, *summaries, *per_customer;
    int32_t cal_end, hold_end;
    int have_cal, have_hold;
    double unit_days, horizon, annual_discount;
    cv_fit_options opt;
} fit_args;

/* The customers being fitted, from a cohort or from a summary file. */
typedef struct customers {
    size_t n;
    const cv_summary *s;
    const cv_cohort *cohort; /* ids come from here when set */
    cv_summary_rows file;    /* a summary file's rows and ids (NULL ids: row number) */
} customers;

static void customer_id(const customers *c, size_t i, char *buf, size_t n)
{
    if (c->cohort != NULL)
        snprintf(buf, n, "%s", cv_cohort_id(c->cohort, i));
    else if (c->file.ids != NULL && c->file.ids[i] != NULL)
        snprintf(buf, n, "%s", c->file.ids[i]);
    else
        snprintf(buf, n, "%zu", i + 1);
}

static void customers_free(customers *c)
{
    cv_summary_rows_free(&c->file);
}

/* Reads a summary CSV (cv_csv_read_summaries) from path, "-" for standard
 * input. */
static sl_status read_summaries(const char *path, customers *c, sl_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL)
        return sl_err_set(err, SL_NOT_FOUND, "could not open \"%s\": %s", path, strerror(errno));
    sl_status st = cv_csv_read_summaries(f, path, &c->file, err);
    if (f != stdin)
        fclose(f);
    c->n = c->file.n;
    c->s = c->file.rows;
    return st;
}

static int write_per_customer(const fit_args *a, const customers *c, const cv_bgnbd_params *bg,
                              const cv_gg_params *gg, double horizon)
{
    FILE *out = fopen(a->per_customer, "w");
    if (out == NULL) {
        fprintf(stderr, "shelfline-clv: could not open \"%s\": %s\n", a->per_customer,
                strerror(errno));
        return 1;
    }
    /* One discounting period per unit, at the annual rate compounded to it;
     * a horizon that is not a whole number of units is split evenly. */
    int periods = (int)ceil(horizon - 1e-9);
    if (periods < 1)
        periods = 1;
    double step = horizon / periods;
    cv_clv_horizon h = {step, periods,
                        pow(1.0 + a->annual_discount, step * a->unit_days / 365.25) - 1.0};
    int rc = 0;
    fprintf(out, "customer_id,x,t_x,T,p_alive,expected_purchases,expected_spend,clv\n");
    const cv_summary *s = c->s;
    char id[CV_CUSTOMER_ID_MAX + 1];
    for (size_t i = 0; i < c->n; i++) {
        sl_err err;
        double e, v, clv;
        customer_id(c, i, id, sizeof id);
        if (cv_bgnbd_conditional_expected(bg, s[i].x, s[i].t_x, s[i].T, horizon, &e, &err) !=
                SL_OK ||
            cv_gg_expected_value(gg, s[i].x, s[i].monetary, &v, &err) != SL_OK ||
            cv_clv_discounted(bg, &s[i], v, &h, &clv, &err) != SL_OK) {
            fprintf(stderr, "shelfline-clv: customer \"%s\": %s\n", id, err.msg);
            rc = 1;
            break;
        }
        fprintf(out, "%s,%" PRIu32 ",%.6g,%.6g,%.6f,%.6f,%.4f,%.4f\n", id, s[i].x, s[i].t_x, s[i].T,
                cv_bgnbd_p_alive(bg, s[i].x, s[i].t_x, s[i].T), e, v, clv);
    }
    if (fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "shelfline-clv: could not write \"%s\": %s\n", a->per_customer,
                strerror(errno));
        rc = 1;
    }
    return rc;
}

/* Reads the transaction log and builds the cohort into *cohort. */
static sl_status load_transactions(const fit_args *a, cv_cohort **cohort, sl_err *err)
{
    cv_txlog *log = NULL;
    int from_stdin = strcmp(a->transactions, "-") == 0;
    FILE *in = NULL;
    sl_status st = cv_txlog_create(&log, err);
    if (st != SL_OK)
        goto done;
    in = from_stdin ? stdin : fopen(a->transactions, "r");
    if (in == NULL) {
        st = sl_err_set(err, SL_NOT_FOUND, "could not open \"%s\": %s", a->transactions,
                        strerror(errno));
        goto done;
    }
    st = cv_txlog_read(log, in, from_stdin ? "stdin" : a->transactions, err);
    if (st != SL_OK)
        goto done;
    if (cv_txlog_size(log) == 0) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "\"%s\" holds no transactions", a->transactions);
        goto done;
    }
    cv_period period = {a->cal_end, a->have_hold ? a->hold_end : a->cal_end, a->unit_days};
    st = cv_cohort_build(log, &period, cohort, err);
done:
    if (in != NULL && !from_stdin)
        fclose(in);
    cv_txlog_destroy(log);
    return st;
}

static int run_fit(const fit_args *a)
{
    int rc = 1;
    sl_err err;
    cv_cohort *cohort = NULL;
    customers c = {0};

    if (a->summaries != NULL) {
        if (read_summaries(a->summaries, &c, &err) != SL_OK)
            goto fail;
    } else {
        if (load_transactions(a, &cohort, &err) != SL_OK)
            goto fail;
        c.n = cv_cohort_size(cohort);
        c.s = cv_cohort_summaries(cohort);
        c.cohort = cohort;
    }

    cv_bgnbd_params bg;
    cv_gg_params gg;
    cv_fit_report rbg, rgg;
    if (cv_bgnbd_fit(c.s, c.n, &a->opt, &bg, &rbg, &err) != SL_OK) {
        sl_err_wrap(&err, "could not fit BG/NBD");
        goto fail;
    }
    if (cv_gg_fit(c.s, c.n, &a->opt, &gg, &rgg, &err) != SL_OK) {
        sl_err_wrap(&err, "could not fit Gamma-Gamma");
        goto fail;
    }
    printf("{\"customers\": %zu, \"bgnbd\": {\"r\": %.9g, \"alpha\": %.9g, \"a\": %.9g, "
           "\"b\": %.9g, \"log_likelihood\": %.9g}, \"gamma_gamma\": {\"p\": %.9g, \"q\": %.9g, "
           "\"gamma\": %.9g, \"log_likelihood\": %.9g}, \"seconds\": %.6f}\n",
           c.n, bg.r, bg.alpha, bg.a, bg.b, rbg.log_likelihood, gg.p, gg.q, gg.gamma,
           rgg.log_likelihood, rbg.seconds + rgg.seconds);
    if (fflush(stdout) != 0) {
        sl_err_set(&err, SL_UNAVAILABLE, "could not write the result: %s", strerror(errno));
        goto fail;
    }

    rc = 0;
    if (a->per_customer != NULL) {
        double horizon = a->horizon > 0.0 ? a->horizon : cv_cohort_holdout_length(cohort);
        rc = write_per_customer(a, &c, &bg, &gg, horizon);
    }
    if (rc == 0 && (!rbg.converged || !rgg.converged)) {
        fprintf(stderr,
                "shelfline-clv: warning: %s did not converge (max gradient %.3g after %d "
                "iterations)\n",
                !rbg.converged ? "BG/NBD" : "Gamma-Gamma",
                !rbg.converged ? rbg.grad_norm : rgg.grad_norm,
                !rbg.converged ? rbg.iterations : rgg.iterations);
        rc = EXIT_NOT_CONVERGED;
    }
    goto done;
fail:
    fprintf(stderr, "shelfline-clv: %s\n", err.msg);
done:
    customers_free(&c);
    cv_cohort_destroy(cohort);
    return rc;
}

static int cmd_fit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"transactions", required_argument, NULL, 't'},
        {"summaries", required_argument, NULL, 's'},
        {"calibration-end", required_argument, NULL, 'c'},
        {"holdout-end", required_argument, NULL, 'h'},
        {"unit", required_argument, NULL, 'u'},
        {"per-customer", required_argument, NULL, 'o'},
        {"horizon", required_argument, NULL, 'H'},
        {"annual-discount", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 'j'},
        {"naive", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    fit_args a = {0};
    a.unit_days = 7.0;
    a.annual_discount = 0.10;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            a.transactions = optarg;
            break;
        case 's':
            a.summaries = optarg;
            break;
        case 'c':
            if (parse_date(optarg, &a.cal_end) != 0)
                return usage_error("invalid --calibration-end \"%s\" (want YYYY-MM-DD)", optarg);
            a.have_cal = 1;
            break;
        case 'h':
            if (parse_date(optarg, &a.hold_end) != 0)
                return usage_error("invalid --holdout-end \"%s\" (want YYYY-MM-DD)", optarg);
            a.have_hold = 1;
            break;
        case 'u':
            if (strcmp(optarg, "week") == 0)
                a.unit_days = 7.0;
            else if (strcmp(optarg, "day") == 0)
                a.unit_days = 1.0;
            else
                return usage_error("invalid --unit \"%s\" (want week or day)", optarg);
            break;
        case 'o':
            a.per_customer = optarg;
            break;
        case 'H':
            if (parse_double(optarg, &a.horizon) != 0 || !(a.horizon > 0.0))
                return usage_error("invalid --horizon \"%s\" (want a number > 0)", optarg);
            break;
        case 'd':
            if (parse_double(optarg, &a.annual_discount) != 0 || !(a.annual_discount > -1.0))
                return usage_error("invalid --annual-discount \"%s\" (want a rate > -1)", optarg);
            break;
        case 'j': {
            double v;
            if (parse_double(optarg, &v) != 0 || v < 1 || v > 64 || v != floor(v))
                return usage_error("invalid --threads \"%s\" (want 1..64)", optarg);
            a.opt.threads = (int)v;
            break;
        }
        case 'n':
            a.opt.naive = true;
            break;
        default:
            return usage_error("%s", "unknown option");
        }
    }
    if (optind != argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    if ((a.transactions == NULL) == (a.summaries == NULL))
        return usage_error("%s", "fit needs --transactions FILE (or --summaries FILE)");
    if (a.summaries != NULL) {
        if (a.have_cal || a.have_hold)
            return usage_error("%s", "--summaries takes no dates (use --horizon)");
        if (a.per_customer != NULL && !(a.horizon > 0.0))
            return usage_error("%s", "--per-customer with --summaries needs --horizon");
        return run_fit(&a);
    }
    if (!a.have_cal)
        return usage_error("%s", "fit needs --calibration-end DATE");
    if (a.have_hold && a.hold_end <= a.cal_end)
        return usage_error("%s", "--holdout-end must be after --calibration-end");
    if (a.per_customer != NULL && !a.have_hold && !(a.horizon > 0.0))
        return usage_error("%s", "--per-customer needs --holdout-end or --horizon (the horizon "
                                 "of expected_purchases and clv)");
    return run_fit(&a);
}

/* ---- simulate ------------------------------------------------------------- */

/* xoshiro256** (Blackman & Vigna), seeded by splitmix64: fast, and the same
 * stream on every platform, so a seed names a data set. */
typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(rng *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void seed_rng(rng *g, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        g->s[i] = z ^ (z >> 31);
    }
}

/* Uniform on (0, 1). */
static double uniform(rng *g)
{
    return ((double)(next_u64(g) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double normal(rng *g)
{
    return sqrt(-2.0 * log(uniform(g))) * cos(2.0 * M_PI * uniform(g));
}

/* Gamma(shape k, scale 1): Marsaglia & Tsang, with the k < 1 boost. */
static double gamma_variate(rng *g, double k)
{
    if (k < 1.0)
        return gamma_variate(g, k + 1.0) * pow(uniform(g), 1.0 / k);
    double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = normal(g), v = 1.0 + c * x;
        if (v <= 0.0)
            continue;
        v = v * v * v;
        double u = uniform(g);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"customers", required_argument, NULL, 'N'},
        {"seed", required_argument, NULL, 'S'},
        {"start", required_argument, NULL, 's'},
        {"cohort-days", required_argument, NULL, 'C'},
        {"end", required_argument, NULL, 'e'},
        {"r", required_argument, NULL, 'r'},
        {"alpha", required_argument, NULL, 'A'},
        {"a", required_argument, NULL, 'a'},
        {"b", required_argument, NULL, 'b'},
        {"p", required_argument, NULL, 'p'},
        {"q", required_argument, NULL, 'q'},
        {"gamma", required_argument, NULL, 'g'},
        {"out", required_argument, NULL, 'o'},
        {"summaries", no_argument, NULL, 'Y'},
        {"calibration-end", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    double customers = 0, seed = 1, cohort_days = 84;
    double r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, p = 6.25, q = 3.74, gm = 15.44;
    int32_t start, end, cal;
    const char *out_path = NULL;
    int summaries = 0;
    parse_date("1997-09-30", &cal);
    parse_date("1997-01-01", &start);
    parse_date("1998-06-30", &end);
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        double *target = NULL;
        switch (ch) {
        case 's':
            if (parse_date(optarg, &start) != 0)
                return usage_error("invalid --start \"%s\" (want YYYY-MM-DD)", optarg);
            continue;
        case 'e':
            if (parse_date(optarg, &end) != 0)
                return usage_error("invalid --end \"%s\" (want YYYY-MM-DD)", optarg);
            continue;
        case 'o':
            out_path = optarg;
            continue;
        case 'Y':
            summaries = 1;
            continue;
        case 'c':
            if (parse_date(optarg, &cal) != 0)
                return usage_error("invalid --calibration-end \"%s\" (want YYYY-MM-DD)", optarg);
            continue;
        case 'N':
            target = &customers;
            break;
        case 'S':
            target = &seed;
            break;
        case 'C':
            target = &cohort_days;
            break;
        case 'r':
            target = &r;
            break;
        case 'A':
            target = &alpha;
            break;
        case 'a':
            target = &a;
            break;
        case 'b':
            target = &b;
            break;
        case 'p':
            target = &p;
            break;
        case 'q':
            target = &q;
            break;
        case 'g':
            target = &gm;
            break;
        default:
            return usage_error("%s", "unknown option");
        }
        if (parse_double(optarg, target) != 0 || *target < 0)
            return usage_error("invalid number \"%s\"", optarg);
    }
    if (optind != argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    if (customers < 1 || customers > 1e8 || customers != floor(customers))
        return usage_error("%s", "simulate needs --customers N (1..100000000)");
    if (!(r > 0 && alpha > 0 && a > 0 && b > 0 && p > 0 && q > 0 && gm > 0))
        return usage_error("%s", "model parameters must be > 0");
    if (cohort_days < 1 || end < start)
        return usage_error("%s", "need --cohort-days >= 1 and --end on or after --start");

    FILE *out = out_path != NULL ? fopen(out_path, "w") : stdout;
    if (out == NULL) {
        fprintf(stderr, "shelfline-clv: could not open \"%s\": %s\n", out_path, strerror(errno));
        return 1;
    }
    rng g;
    seed_rng(&g, (uint64_t)seed);
    char date[11];
    fprintf(out, summaries ? "customer_id,x,t_x,T,monetary\n" : "customer_id,date,amount\n");
    /* Time runs in days; the weekly rate parameter alpha becomes 7 alpha.
     * The first purchase falls at a uniform moment of its day, so that day
     * differences are unbiased measures of the continuous gaps.  Summaries
     * are taken in continuous time up to the end of the calibration day, in
     * weeks: what the model assumes, without the day rounding and same-day
     * merging of a log. */
    double cal_t = (double)cal + 1.0;
    for (long i = 0; i < (long)customers; i++) {
        double lambda = gamma_variate(&g, r) / (7.0 * alpha);
        double ga = gamma_variate(&g, a), gb = gamma_variate(&g, b);
        double drop = ga / (ga + gb);
        double nu = gamma_variate(&g, q) / gm;
        int32_t d0 = start + (int32_t)floor(uniform(&g) * cohort_days);
        double t0 = d0 + uniform(&g), tnow = t0, last = t0, spend = 0.0;
        uint32_t x = 0;
        for (int first = 1;; first = 0) {
            /* Compared as a double first: a customer with a tiny rate jumps
             * past any int32 day. */
            if (tnow >= (summaries ? cal_t : (double)end + 1.0))
                break;
            double value = gamma_variate(&g, p) / nu;
            if (summaries) {
                if (!first) {
                    x++;
                    last = tnow;
                    spend += value;
                }
            } else {
                cv_date_format((int32_t)floor(tnow), date);
                fprintf(out, "c%ld,%s,%.2f\n", i + 1, date, value);
            }
            if (!first && uniform(&g) < drop)
                break;
            tnow += -log(uniform(&g)) / lambda;
        }
        if (summaries && t0 < cal_t)
            fprintf(out, "c%ld,%" PRIu32 ",%.17g,%.17g,%.17g\n", i + 1, x, (last - t0) / 7.0,
                    (cal_t - t0) / 7.0, x ? spend / x : 0.0);
    }
    int failed = ferror(out) != 0;
    if ((out == stdout ? fflush(out) : fclose(out)) != 0 || failed) {
        fprintf(stderr, "shelfline-clv: could not write: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "missing command (fit or simulate)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    /* getopt_long sees the command's own options only. */
    if (strcmp(argv[1], "fit") == 0)
        return cmd_fit(argc - 1, argv + 1);
    if (strcmp(argv[1], "simulate") == 0)
        return cmd_simulate(argc - 1, argv + 1);
    return usage_error("unknown command \"%s\" (fit or simulate)", argv[1]);
}
