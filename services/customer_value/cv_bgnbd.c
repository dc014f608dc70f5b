/*
 * cv_bgnbd: the BG/NBD model -- likelihood, fit, P(alive), expectations and
 * the discounted CLV built on them (see cv_model.h).
 */
#include "cv_model_int.h"
#include "cv_special.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

/* Same tail test as the 2F1 series: stop once the geometric bound on what
 * is left is below this fraction of the sum. */
#define SERIES_EPS 1e-17
#define SERIES_MAX_TERMS 2000000L

sl_status cv_summary_check(const cv_summary *s, sl_err *err)
{
    if (!isfinite(s->T) || s->T < 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "T must be a finite number >= 0, got %g", s->T);
    if (!isfinite(s->t_x) || s->t_x < 0.0 || s->t_x > s->T)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "t_x must be within [0, T = %g], got %g", s->T,
                          s->t_x);
    if (!isfinite(s->monetary) || s->monetary < 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "monetary must be a finite number >= 0, got %g",
                          s->monetary);
    if (s->x == 0 && (s->t_x != 0.0 || s->monetary != 0.0))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "t_x and monetary must be 0 when x = 0, got %g and %g", s->t_x,
                          s->monetary);
    return SL_OK;
}

static sl_status check_params(const cv_bgnbd_params *m, sl_err *err)
{
    if (!(m->r > 0.0 && m->alpha > 0.0 && m->a > 0.0 && m->b > 0.0) || !isfinite(m->r) ||
        !isfinite(m->alpha) || !isfinite(m->a) || !isfinite(m->b))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "BG/NBD parameters must be finite and > 0, got r = %g, alpha = %g, "
                          "a = %g, b = %g",
                          m->r, m->alpha, m->a, m->b);
    return SL_OK;
}

/* The paper's likelihood written term by term, with its gradient in g[4]
 * (d/dr, d/dalpha, d/da, d/db): the reference the grouped evaluation is
 * tested against, and the naive benchmark path. */
static double row_loglik_grad(const cv_bgnbd_params *m, double x, double t_x, double T, double *g)
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    double a1 = cv_lpoch(r, x) + r * log(al);
    double a2 = cv_lbeta(a, b + x) - cv_lbeta(a, b);
    double a3 = -(r + x) * log(al + T);
    double a4 = x > 0.0 ? log(a) - log(b + x - 1.0) - (r + x) * log(al + t_x) : -INFINITY;
    double l34 = cv_logaddexp(a3, a4);
    if (g != NULL) {
        double p = x > 0.0 ? exp(a4 - l34) : 0.0;
        g[0] = cv_digamma(r + x) - cv_digamma(r) + log(al) - (1.0 - p) * log(al + T) -
               p * log(al + t_x);
        g[1] = r / al - (r + x) * ((1.0 - p) / (al + T) + p / (al + t_x));
        g[2] = cv_digamma(a + b) - cv_digamma(a + b + x) + p / a;
        g[3] = cv_digamma(b + x) - cv_digamma(b) + cv_digamma(a + b) - cv_digamma(a + b + x) -
               (x > 0.0 ? p / (b + x - 1.0) : 0.0);
    }
    return a1 + a2 + l34;
}

double cv_bgnbd_loglik_one(const cv_bgnbd_params *m, uint32_t x, double t_x, double T)
{
    return row_loglik_grad(m, (double)x, t_x, T, NULL);
}

sl_status cv_bgnbd_loglik(const cv_bgnbd_params *m, const cv_summary *rows, size_t n, double *ll,
                          sl_err *err)
{
    sl_status st = check_params(m, err);
    if (st != SL_OK)
        return st;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        st = cv_summary_check(&rows[i], err);
        if (st != SL_OK) {
            sl_err_wrap(err, "customer %zu", i);
            return st;
        }
        sum += cv_bgnbd_loglik_one(m, rows[i].x, rows[i].t_x, rows[i].T);
    }
    *ll = sum;
    return SL_OK;
}

/* ---- grouped data and the fast objective ------------------------------- */

typedef struct key {
    double x, T, t_x;
} key;

typedef struct row {
    double w;
    uint32_t xi, ti, txi;
} row;

typedef struct data {
    size_t n_rows, n_x, n_t, n_tx;
    row *rows;        /* sorted by x: the x = 0 rows come first */
    double *xs, *wx;  /* distinct x and the customers with each */
    double *ts, *txs; /* distinct T and t_x */
    double w_total;
    const cv_summary *raw; /* the naive path: ungrouped input */
    size_t n_raw;
    int threads;
    /* Per-evaluation caches, filled before the rows are summed. */
    cv_bgnbd_params m;
    double *lt, *it, *ltx, *itx; /* ln(alpha + T), 1/(alpha + T), same for t_x */
    double *c4, *ib;             /* ln a - ln(b + x - 1), 1/(b + x - 1) per x */
} data;

static int cmp_key(const void *pa, const void *pb)
{
    const key *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->T != b->T)
        return a->T < b->T ? -1 : 1;
    if (a->t_x != b->t_x)
        return a->t_x < b->t_x ? -1 : 1;
    return 0;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b ? 1 : 0;
}

/* Sorts v[0..n) and drops repeats; returns the distinct count. */
static size_t sort_unique(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static uint32_t index_of(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

static void data_free(data *d)
{
    free(d->rows);
    free(d->xs);
    free(d->wx);
    free(d->ts);
    free(d->txs);
    free(d->lt);
    free(d->it);
    free(d->ltx);
    free(d->itx);
    free(d->c4);
    free(d->ib);
}

static sl_status data_build(data *d, const cv_summary *in, size_t n, sl_err *err)
{
    sl_status st = SL_OK;
    key *keys = sl_malloc(n * sizeof *keys);
    d->rows = sl_malloc(n * sizeof *d->rows);
    if (keys == NULL || d->rows == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory grouping %zu customers", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (key){(double)in[i].x, in[i].T, in[i].t_x};
    qsort(keys, n, sizeof *keys, cmp_key);

    /* Distinct (x, T, t_x) triples with their counts; keys is reused to
     * hold the distinct triples. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && cmp_key(&keys[k - 1], &keys[i]) == 0) {
            d->rows[k - 1].w += 1.0;
            continue;
        }
        keys[k] = keys[i];
        d->rows[k].w = 1.0;
        k++;
    }
    d->n_rows = k;
    d->w_total = (double)n;

    d->xs = sl_malloc(k * sizeof *d->xs);
    d->wx = sl_malloc(k * sizeof *d->wx);
    d->ts = sl_malloc(k * sizeof *d->ts);
    d->txs = sl_malloc(k * sizeof *d->txs);
    if (d->xs == NULL || d->wx == NULL || d->ts == NULL || d->txs == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory grouping %zu customers", n);
        goto done;
    }
    for (size_t i = 0; i < k; i++) {
        d->ts[i] = keys[i].T;
        d->txs[i] = keys[i].t_x;
    }
    d->n_t = sort_unique(d->ts, k);
    d->n_tx = sort_unique(d->txs, k);
    d->n_x = 0;
    for (size_t i = 0; i < k; i++) {
        if (d->n_x == 0 || d->xs[d->n_x - 1] != keys[i].x) {
            d->xs[d->n_x] = keys[i].x;
            d->wx[d->n_x] = 0.0;
            d->n_x++;
        }
        d->wx[d->n_x - 1] += d->rows[i].w;
        d->rows[i].xi = (uint32_t)(d->n_x - 1);
        d->rows[i].ti = index_of(d->ts, d->n_t, keys[i].T);
        d->rows[i].txi = index_of(d->txs, d->n_tx, keys[i].t_x);
    }
    d->lt = sl_malloc(d->n_t * sizeof *d->lt);
    d->it = sl_malloc(d->n_t * sizeof *d->it);
    d->ltx = sl_malloc(d->n_tx * sizeof *d->ltx);
    d->itx = sl_malloc(d->n_tx * sizeof *d->itx);
    d->c4 = sl_malloc(d->n_x * sizeof *d->c4);
    d->ib = sl_malloc(d->n_x * sizeof *d->ib);
    if (d->lt == NULL || d->it == NULL || d->ltx == NULL || d->itx == NULL || d->c4 == NULL ||
        d->ib == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory grouping %zu customers", n);
done:
    free(keys);
    return st;
}

/* acc: 0 log-likelihood, 1..4 d/dr, d/dalpha, d/da, d/db -- the parts that
 * depend on T and t_x; the x-only parts are added once per distinct x. */
static void rows_sum(const void *ctx, size_t begin, size_t end, double *acc)
{
    const data *d = ctx;
    double r = d->m.r, inv_a = 1.0 / d->m.a;
    double ll = 0.0, gr = 0.0, gal = 0.0, ga = 0.0, gb = 0.0;
    for (size_t i = begin; i < end; i++) {
        const row *rw = &d->rows[i];
        double x = d->xs[rw->xi], w = rw->w;
        double lt = d->lt[rw->ti], it = d->it[rw->ti];
        double rx = r + x;
        if (x == 0.0) {
            ll -= w * r * lt;
            gr -= w * lt;
            gal -= w * r * it;
            continue;
        }
        double ltx = d->ltx[rw->txi];
        /* ln(A3 + A4) = -(r+x) ln(alpha+T) + ln(1 + e^D), D = ln A4 - ln A3;
         * p = e^D / (1 + e^D) is the weight of the "dropped out at t_x"
         * branch in every derivative. */
        double dd = d->c4[rw->xi] + rx * (lt - ltx);
        double e = exp(-fabs(dd));
        double p = dd >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        ll += w * (-rx * lt + (dd > 0.0 ? dd : 0.0) + log1p(e));
        gr -= w * ((1.0 - p) * lt + p * ltx);
        gal -= w * rx * ((1.0 - p) * it + p * d->itx[rw->txi]);
        ga += w * p * inv_a;
        gb -= w * p * d->ib[rw->xi];
    }
    acc[0] += ll;
    acc[1] += gr;
    acc[2] += gal;
    acc[3] += ga;
    acc[4] += gb;
}

static void naive_sum(const void *ctx, size_t begin, size_t end, double *acc)
{
    const data *d = ctx;
    for (size_t i = begin; i < end; i++) {
        const cv_summary *s = &d->raw[i];
        double g[4];
        acc[0] += row_loglik_grad(&d->m, (double)s->x, s->t_x, s->T, g);
        for (int j = 0; j < 4; j++)
            acc[1 + j] += g[j];
    }
}

/* Total log-likelihood and gradient (d/dr, d/dalpha, d/da, d/db) at m. */
static double total_loglik(data *d, const cv_bgnbd_params *m, double *g)
{
    d->m = *m;
    double acc[5];
    if (d->raw != NULL) {
        cv__parallel_sum(naive_sum, d, d->n_raw, 1, 5, acc);
        memcpy(g, acc + 1, 4 * sizeof *g);
        return acc[0];
    }
    double r = m->r, al = m->alpha, a = m->a, b = m->b;
    for (size_t i = 0; i < d->n_t; i++) {
        d->lt[i] = log(al + d->ts[i]);
        d->it[i] = 1.0 / (al + d->ts[i]);
    }
    for (size_t i = 0; i < d->n_tx; i++) {
        d->ltx[i] = log(al + d->txs[i]);
        d->itx[i] = 1.0 / (al + d->txs[i]);
    }
    double ll = 0.0, gr = 0.0, gal = 0.0, ga = 0.0, gb = 0.0;
    double lbab = cv_lbeta(a, b), lal = log(al);
    double psr = cv_digamma(r), psab = cv_digamma(a + b), psb = cv_digamma(b);
    for (size_t i = 0; i < d->n_x; i++) {
        double x = d->xs[i], w = d->wx[i];
        double psabx = cv_digamma(a + b + x);
        ll += w * (cv_lpoch(r, x) + r * lal + cv_lbeta(a, b + x) - lbab);
        gr += w * (cv_digamma(r + x) - psr + lal);
        gal += w * r / al;
        ga += w * (psab - psabx);
        gb += w * (cv_digamma(b + x) - psb + psab - psabx);
        if (x > 0.0) {
            d->c4[i] = log(a) - log(b + x - 1.0);
            d->ib[i] = 1.0 / (b + x - 1.0);
        }
    }
    cv__parallel_sum(rows_sum, d, d->n_rows, d->threads, 5, acc);
    g[0] = gr + acc[1];
    g[1] = gal + acc[2];
    g[2] = ga + acc[3];
    g[3] = gb + acc[4];
    return ll + acc[0];
}

/* The minimised objective: minus the mean log-likelihood over
 * theta = log(r, alpha, a, b). */
static double objective(const double *theta, double *grad, void *ctx)
{
    data *d = ctx;
    for (int i = 0; i < 4; i++)
        if (fabs(theta[i]) > CV__LOG_PARAM_MAX)
            return INFINITY;
    cv_bgnbd_params m = {exp(theta[0]), exp(theta[1]), exp(theta[2]), exp(theta[3])};
    double g[4];
    double ll = total_loglik(d, &m, g);
    double pv[4] = {m.r, m.alpha, m.a, m.b};
    for (int i = 0; i < 4; i++)
        grad[i] = -pv[i] * g[i] / d->w_total;
    return -ll / d->w_total;
}

sl_status cv_bgnbd_fit(const cv_summary *rows, size_t n, const cv_fit_options *opt,
                       cv_bgnbd_params *out, cv_fit_report *rep, sl_err *err)
{
    double t0 = cv__now();
    cv_fit_report local;
    if (rep == NULL)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    if (n == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                             "no customers to fit BG/NBD on");
    double t_sum = 0.0, x_sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        sl_status st = cv_summary_check(&rows[i], err);
        if (st != SL_OK) {
            sl_err_wrap(err, "customer %zu", i);
            return st;
        }
        t_sum += rows[i].T;
        x_sum += rows[i].x;
    }

    data d = {0};
    sl_status st;
    if (opt != NULL && opt->naive) {
        d.raw = rows;
        d.n_raw = n;
        d.n_rows = n;
        d.w_total = (double)n;
    } else {
        st = data_build(&d, rows, n, err);
        if (st != SL_OK)
            goto done;
    }
    d.threads = cv__threads_for(opt, d.n_rows);

    /* Starts: a mean purchase rate r / alpha matching the observed repeat
     * rate, then two spreads around it for data the first does not suit. */
    double t_mean = t_sum / (double)n > 0.0 ? t_sum / (double)n : 1.0;
    double rate = (x_sum > 0.0 ? x_sum : 1.0) / (double)n / t_mean;
    double starts[3][4] = {
        {0.0, log(1.0 / rate), 0.0, 0.0},
        {log(0.3), log(0.3 / rate), log(0.5), log(3.0)},
        {log(3.0), log(3.0 / rate), log(2.0), log(10.0)},
    };
    double theta[4], f;
    st = cv__fit_runs(objective, &d, 4, &starts[0][0], 3, opt, theta, &f, rep, err);
    if (st != SL_OK)
        goto done;
    *out = (cv_bgnbd_params){exp(theta[0]), exp(theta[1]), exp(theta[2]), exp(theta[3])};
    rep->log_likelihood = -f * d.w_total;
    rep->customers = n;
    rep->distinct = d.n_rows;
    rep->threads = d.threads;
done:
    data_free(&d);
    rep->seconds = cv__now() - t0;
    return st;
}

/* ---- predictions ---------------------------------------------------------- */

/* ln of the odds that the customer dropped out right after their last
 * purchase, against being alive: ln(a / (b+x-1)) + (r+x) ln((alpha+T)/(alpha+t_x)). */
static double log_dropout_odds(const cv_bgnbd_params *m, double x, double t_x, double T)
{
    return log(m->a) - log(m->b + x - 1.0) + (m->r + x) * log1p((T - t_x) / (m->alpha + t_x));
}

double cv_bgnbd_p_alive(const cv_bgnbd_params *m, uint32_t x, double t_x, double T)
{
    if (x == 0)
        return 1.0;
    return exp(-cv_log1pexp(log_dropout_odds(m, (double)x, t_x, T)));
}

sl_status cv_bgnbd_expected(const cv_bgnbd_params *m, double t, double *out, sl_err *err)
{
    return cv_bgnbd_conditional_expected(m, 0, 0.0, 0.0, t, out, err);
}

sl_status cv_bgnbd_conditional_expected(const cv_bgnbd_params *m, uint32_t x, double t_x, double T,
                                        double t, double *out, sl_err *err)
{
    sl_status st = check_params(m, err);
    if (st != SL_OK)
        return st;
    cv_summary s = {x, t_x, T, 0.0};
    if (x == 0 && t_x != 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "t_x must be 0 when x = 0, got %g", t_x);
    st = cv_summary_check(&s, err);
    if (st != SL_OK)
        return st;
    if (!isfinite(t) || t < 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "horizon t must be a finite number >= 0, got %g", t);
    if (t == 0.0) {
        *out = 0.0;
        return SL_OK;
    }
    double a = m->a, xd = (double)x;
    double z = t / (m->alpha + T + t);
    double l1z = -log1p(t / (m->alpha + T)); /* ln(1 - z) */
    double cp = a + m->b + xd - 1.0;         /* c of the 2F1 */
    double ap = a + m->b - 1.0 - m->r;       /* c - a of the 2F1 */

    /* V = c * sum_{n>=1} (c-a)_n (a)_{n-1} / ((c)_n n!) z^n, the Euler-
     * transformed series without its leading 1 and with (a-1) divided out;
     * multiplying by c first keeps it finite when c -> 0 (x = 0, a + b = 1). */
    double term = ap * z, v = term;
    long k;
    for (k = 1; k < SERIES_MAX_TERMS && term != 0.0; k++) {
        term *= (ap + k) * (a + k - 1.0) * z / ((cp + k) * (k + 1));
        v += term;
        double next = fabs((ap + k + 1) * (a + k) * z / ((cp + k + 1) * (k + 2)));
        double rho = next > z ? next : z;
        if (rho < 1.0 && fabs(term) * rho / (1.0 - rho) <= SERIES_EPS * fabs(v))
            break;
    }
    if (k == SERIES_MAX_TERMS)
        return sl_err_set(err, SL_OUT_OF_RANGE,
                          "horizon %g is too long against alpha + T = %g for the series", t,
                          m->alpha + T);
    double e1 = a == 1.0 ? -l1z : -expm1((a - 1.0) * l1z) / (a - 1.0);
    double num = cp * e1 - exp((a - 1.0) * l1z) * v;
    double den_log = x > 0 ? cv_log1pexp(log_dropout_odds(m, xd, t_x, T)) : 0.0;
    *out = num * exp(-den_log);
    return SL_OK;
}

sl_status cv_clv_discounted(const cv_bgnbd_params *m, const cv_summary *s, double value,
                            const cv_clv_horizon *h, double *out, sl_err *err)
{
    if (!(h->step > 0.0) || !isfinite(h->step) || h->periods < 0 || !(h->discount_rate > -1.0) ||
        !isfinite(h->discount_rate))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "CLV horizon needs step > 0, periods >= 0 and discount rate > -1, got "
                          "%g, %d, %g",
                          h->step, h->periods, h->discount_rate);
    if (!isfinite(value))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "value per transaction must be finite");
    double sum = 0.0, prev = 0.0, disc = 1.0;
    for (int k = 1; k <= h->periods; k++) {
        double e;
        sl_status st = cv_bgnbd_conditional_expected(m, s->x, s->t_x, s->T, h->step * k, &e, err);
        if (st != SL_OK)
            return st;
        disc /= 1.0 + h->discount_rate;
        sum += (e - prev) * disc;
        prev = e;
    }
    *out = value * sum;
    return SL_OK;
}
