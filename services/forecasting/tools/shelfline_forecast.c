/*
 * shelfline-forecast: the forecasting engine on the command line, for
 * planners working on exported data and for the benchmark.
 *
 *   shelfline-forecast --period P --horizon H [--levels 80,95]
 *       [--method auto|mean|naive|snaive|ses|holt|damped|ets|theta|croston|tsb|arima|combo]
 *       [--select backtest|aicc] [--long-period D] [--backtest-origins K]
 *       [--paths N] [--seed S] [--info] [--batch [--threads T]]
 *
 * Standard input: one series, one value per line or "index,value" lines
 * (the index is not interpreted; dates are fine); "NA" or an empty value is
 * a missing day.  Standard output: CSV "step,point,lo80,hi80,lo95,hi95",
 * the interval columns following --levels.  --info adds the model, the
 * reason it was chosen and its backtest errors on standard error.
 *
 * --batch: many series, as "id,value" lines grouped by id; output rows start
 * with the id.  --threads runs that many series at once.
 *
 * Exit status: 0, 1 when the input or a forecast failed, 2 on bad usage.
 * Every error names the problem (and the line, for input).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_csv.h"
#include "fc_engine.h"

#define PROG "shelfline-forecast"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " --period P --horizon H [--levels 80,95] [--method M]\n"
            "       [--select backtest|aicc] [--long-period D] [--backtest-origins K]\n"
            "       [--paths N] [--seed S] [--info] [--batch [--threads T]]\n"
            "  reads one series from standard input (one value per line, or index,value;\n"
            "  NA or an empty value for a missing day) and writes\n"
            "  step,point,lo80,hi80,lo95,hi95 as CSV to standard output\n"
            "  methods: auto mean naive snaive ses holt damped ets theta croston tsb arima combo\n"
            "  --batch: id,value lines, several series grouped by id; output rows start with id\n");
}

/* ---- parsing ----------------------------------------------------------- */

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, PROG ": %s must be an integer from %ld to %ld, got \"%s\"\n", opt, lo, hi,
                s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_levels(const char *s, fc_config *cfg)
{
    char buf[256];
    if (strlen(s) >= sizeof buf) {
        fprintf(stderr, PROG ": --levels is too long\n");
        return -1;
    }
    memcpy(buf, s, strlen(s) + 1);
    cfg->n_levels = 0;
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (errno != 0 || end == p || *end != '\0' || !(v > 0 && v < 100)) {
            fprintf(stderr,
                    PROG ": --levels must be percentages strictly between 0 and 100 separated "
                         "by commas, got \"%s\"\n",
                    s);
            return -1;
        }
        if (cfg->n_levels == FC_MAX_LEVELS) {
            fprintf(stderr, PROG ": --levels takes at most %d levels\n", FC_MAX_LEVELS);
            return -1;
        }
        cfg->levels[cfg->n_levels++] = v;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

/* One series' forecast, beside the series of the input it is for. */
typedef struct result {
    fc_forecast *fc;
    sl_err err;
    sl_status st;
} result;

/* ---- forecasting ------------------------------------------------------- */

typedef struct job {
    const fc_csv_input *in;
    result *res;
    const fc_config *cfg;
    size_t next;
    pthread_mutex_t mu;
} job;

static void *worker(void *arg)
{
    job *jb = arg;
    for (;;) {
        pthread_mutex_lock(&jb->mu);
        size_t i = jb->next++;
        pthread_mutex_unlock(&jb->mu);
        if (i >= jb->in->n)
            return NULL;
        const fc_csv_series *s = &jb->in->s[i];
        result *r = &jb->res[i];
        fc_series fs = {s->v, s->n, NULL, NULL};
        r->st = fc_forecast_run(&fs, jb->cfg, &r->fc, &r->err);
    }
}

static void print_num(double v)
{
    printf(",%.10g", v);
}

static void print_forecast(const fc_csv_series *s, const result *r, int info)
{
    const fc_forecast *f = r->fc;
    size_t h = fc_forecast_horizon(f), nl = fc_forecast_n_levels(f);
    const double *pt = fc_forecast_points(f);
    for (size_t j = 0; j < h; j++) {
        if (s->id != NULL)
            printf("%s,", s->id);
        printf("%zu", j + 1);
        print_num(pt[j]);
        for (size_t l = 0; l < nl; l++) {
            print_num(fc_forecast_lower(f, l)[j]);
            print_num(fc_forecast_upper(f, l)[j]);
        }
        putchar('\n');
    }
    if (info) {
        fc_info in;
        fc_forecast_info(f, &in);
        fprintf(stderr,
                "%s%smethod=%s model=\"%s\" alpha=%.4g beta=%.4g gamma=%.4g phi=%.4g aicc=%.6g "
                "sigma=%.6g backtest_mase=%.4g backtest_smape=%.4g observed=%zu long_season=%d "
                "reason=\"%s\"\n",
                s->id ? s->id : "", s->id ? ": " : "", fc_method_name(in.method), in.model,
                in.alpha, in.beta, in.gamma, in.phi, in.aicc, in.sigma, in.backtest_mase,
                in.backtest_smape, in.n_obs, in.long_season, in.reason);
    }
}

int main(int argc, char **argv)
{
    fc_config cfg;
    fc_config_init(&cfg);
    int have_period = 0, have_horizon = 0, info = 0, batch = 0;
    long threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--info") == 0) {
            info = 1;
            continue;
        }
        if (strcmp(a, "--batch") == 0) {
            batch = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, PROG ": %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        long n;
        if (strcmp(a, "--period") == 0) {
            if (parse_long(a, v, 1, 100000, &n) != 0)
                return 2;
            cfg.period = (int)n;
            have_period = 1;
        } else if (strcmp(a, "--horizon") == 0) {
            if (parse_long(a, v, 1, 3660, &n) != 0)
                return 2;
            cfg.horizon = (int)n;
            have_horizon = 1;
        } else if (strcmp(a, "--levels") == 0) {
            if (parse_levels(v, &cfg) != 0)
                return 2;
        } else if (strcmp(a, "--method") == 0) {
            sl_err err;
            if (fc_method_parse(v, &cfg.method, &err) != SL_OK) {
                fprintf(stderr, PROG ": --method: %s\n", err.msg);
                return 2;
            }
        } else if (strcmp(a, "--select") == 0) {
            if (strcmp(v, "backtest") == 0) {
                cfg.select = FC_SELECT_BACKTEST;
            } else if (strcmp(v, "aicc") == 0) {
                cfg.select = FC_SELECT_AICC;
            } else {
                fprintf(stderr, PROG ": --select must be backtest or aicc, got \"%s\"\n", v);
                return 2;
            }
        } else if (strcmp(a, "--long-period") == 0) {
            char *end;
            errno = 0;
            double d = strtod(v, &end);
            if (errno != 0 || end == v || *end != '\0' || !(d >= 0) || !isfinite(d)) {
                fprintf(stderr, PROG ": --long-period must be a non-negative number, got \"%s\"\n",
                        v);
                return 2;
            }
            cfg.long_period = d;
        } else if (strcmp(a, "--backtest-origins") == 0) {
            if (parse_long(a, v, 0, 16, &n) != 0)
                return 2;
            cfg.backtest_origins = (int)n;
        } else if (strcmp(a, "--paths") == 0) {
            if (parse_long(a, v, 0, 100000, &n) != 0)
                return 2;
            cfg.sim_paths = (int)n;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_long(a, v, 0, 2147483647L, &n) != 0)
                return 2;
            cfg.seed = (uint64_t)n;
        } else if (strcmp(a, "--threads") == 0) {
            if (parse_long(a, v, 1, 256, &threads) != 0)
                return 2;
        } else {
            fprintf(stderr, PROG ": unknown option \"%s\"\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!have_period || !have_horizon) {
        fprintf(stderr, PROG ": %s is required\n", have_period ? "--horizon" : "--period");
        usage(stderr);
        return 2;
    }

    fc_csv_input in = {0};
    result *res = NULL;
    int rc = 0;
    sl_err err;
    if (fc_csv_read(stdin, "standard input", batch, &in, &err) != SL_OK) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        rc = 1;
        goto done;
    }
    if ((res = calloc(in.n, sizeof *res)) == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        rc = 1;
        goto done;
    }
    job jb = {&in, res, &cfg, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t tid[256];
    long started = 0;
    if (threads > (long)in.n)
        threads = (long)in.n;
    for (long t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, worker, &jb) != 0)
            break;
        started = t;
    }
    worker(&jb);
    for (long t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);

    fputs(batch ? "id,step,point" : "step,point", stdout);
    for (size_t l = 0; l < cfg.n_levels; l++)
        printf(",lo%g,hi%g", cfg.levels[l], cfg.levels[l]);
    putchar('\n');
    for (size_t i = 0; i < in.n; i++) {
        const fc_csv_series *s = &in.s[i];
        if (res[i].st != SL_OK) {
            if (s->id != NULL)
                fprintf(stderr, PROG ": series \"%s\": %s\n", s->id, res[i].err.msg);
            else
                fprintf(stderr, PROG ": %s\n", res[i].err.msg);
            rc = 1;
            continue;
        }
        print_forecast(s, &res[i], info);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, PROG ": could not write standard output: %s\n", strerror(errno));
        rc = 1;
    }
done:
    for (size_t i = 0; res != NULL && i < in.n; i++)
        fc_forecast_free(res[i].fc);
    free(res);
    fc_csv_input_free(&in);
    return rc;
}
