/*
 * fc_hier: calendar buckets, aggregation of daily history and hierarchy
 * reconciliation (see fc_engine.h).
 *
 * Reconciliation by WLS on a tree is done as Gaussian belief propagation:
 * going up, each node's estimate combines its own forecast with the sum of
 * its children's estimates by inverse variance; going down, each parent's
 * final value is shared among its children by conditioning their
 * independent estimates on their sum.  For a tree this is exactly the GLS
 * projection S (S' W^-1 S)^-1 S' W^-1 y of the MinT papers with W diagonal,
 * without forming S.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_date.h"
#include "fc_engine.h"

#include "sl_arena.h"

static fc_date civil_from_days(long z)
{
    fc_date r;
    sl_civil_from_days(z, &r.year, &r.month, &r.day);
    return r;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

sl_status fc_buckets(fc_date start, size_t n_days, fc_bucket kind, fc_span *spans, size_t cap,
                     size_t *n_spans, sl_err *err)
{
    if (start.month < 1 || start.month > 12 || start.day < 1 || start.year < -100000 ||
        start.year > 100000 || start.day > days_in_month(start.year, start.month))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "\"%04d-%02d-%02d\" is not a date", start.year,
                          start.month, start.day);
    if (kind != FC_BUCKET_WEEK && kind != FC_BUCKET_MONTH)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "bucket %d is not a bucket kind", (int)kind);
    long day0 = sl_days_from_civil(start.year, start.month, start.day);
    size_t k = 0, first = 0;
    while (first < n_days) {
        long d = day0 + (long)first;
        fc_date bstart;
        size_t len;
        if (kind == FC_BUCKET_WEEK) {
            long wd = ((d + 3) % 7 + 7) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
            bstart = civil_from_days(d - wd);
            len = (size_t)(7 - wd);
        } else {
            fc_date c = civil_from_days(d);
            bstart = c;
            bstart.day = 1;
            len = (size_t)(days_in_month(c.year, c.month) - c.day + 1);
        }
        if (len > n_days - first)
            len = n_days - first;
        if (k < cap) {
            spans[k].first = first;
            spans[k].len = len;
            spans[k].start = bstart;
        }
        k++;
        first += len;
    }
    *n_spans = k;
    return SL_OK;
}

sl_status fc_aggregate(const double *daily, size_t n, const fc_span *spans, size_t n_spans,
                       double *sums, size_t *days, sl_err *err)
{
    for (size_t i = 0; i < n_spans; i++) {
        if (spans[i].first > n || spans[i].len > n - spans[i].first)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "span %zu (days %zu to %zu) lies outside the %zu days", i,
                              spans[i].first, spans[i].first + spans[i].len, n);
        double s = 0;
        size_t k = 0;
        for (size_t t = spans[i].first; t < spans[i].first + spans[i].len; t++) {
            if (isnan(daily[t]))
                continue;
            s += daily[t];
            k++;
        }
        sums[i] = s;
        if (days != NULL)
            days[i] = k;
    }
    return SL_OK;
}

/* Nodes in breadth-first order from the root, with children lists (CSR). */
typedef struct tree {
    size_t *order, *child_off, *child;
} tree;

static sl_status build_tree(size_t n, const int32_t *parent, tree *tr, sl_err *err)
{
    size_t root = n;
    for (size_t i = 0; i < n; i++) {
        if (parent[i] == -1) {
            if (root != n)
                return sl_err_set(err, SL_INVALID_ARGUMENT,
                                  "nodes %zu and %zu are both roots (parent -1)", root, i);
            root = i;
        } else if (parent[i] < 0 || (size_t)parent[i] >= n || (size_t)parent[i] == i) {
            return sl_err_set(err, SL_INVALID_ARGUMENT, "node %zu has bad parent %d", i,
                              (int)parent[i]);
        }
    }
    if (root == n)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "no root (a node with parent -1)");
    for (size_t i = 0; i <= n; i++)
        tr->child_off[i] = 0;
    for (size_t i = 0; i < n; i++)
        if (i != root)
            tr->child_off[(size_t)parent[i] + 1]++;
    for (size_t i = 0; i < n; i++)
        tr->child_off[i + 1] += tr->child_off[i];
    /* fill using order[] as a cursor per node */
    for (size_t i = 0; i < n; i++)
        tr->order[i] = tr->child_off[i];
    for (size_t i = 0; i < n; i++)
        if (i != root)
            tr->child[tr->order[parent[i]]++] = i;
    size_t head = 0, tail = 0;
    tr->order[tail++] = root;
    while (head < tail) {
        size_t v = tr->order[head++];
        for (size_t c = tr->child_off[v]; c < tr->child_off[v + 1]; c++)
            tr->order[tail++] = tr->child[c];
    }
    if (tail != n)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%zu nodes are not connected to the root (a cycle)", n - tail);
    return SL_OK;
}

sl_status fc_reconcile(fc_recon method, size_t n, const int32_t *parent, const double *base,
                       const double *var, double *out, double *out_var, sl_err *err)
{
    if (method != FC_RECON_BOTTOM_UP && method != FC_RECON_WLS)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "reconciliation %d is not a method",
                          (int)method);
    if (n == 0)
        return SL_OK;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(base[i]))
            return sl_err_set(err, SL_INVALID_ARGUMENT, "forecast of node %zu is not finite", i);
        if (!(var[i] >= 0) || !isfinite(var[i]))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "variance of node %zu must be a non-negative number", i);
    }
    size_t *mem = sl_malloc((3 * n + 1) * sizeof *mem);
    double *mu = sl_malloc(2 * n * sizeof *mu);
    sl_status st = SL_OK;
    if (mem == NULL || mu == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory reconciling %zu nodes", n);
        goto cleanup;
    }
    tree tr = {mem, mem + n, mem + 2 * n + 1};
    st = build_tree(n, parent, &tr, err);
    if (st != SL_OK)
        goto cleanup;
    double *s2 = mu + n;
    /* Up: leaves first. */
    for (size_t q = n; q-- > 0;) {
        size_t v = tr.order[q];
        size_t c0 = tr.child_off[v], c1 = tr.child_off[v + 1];
        if (c0 == c1) {
            mu[v] = base[v];
            s2[v] = var[v];
            continue;
        }
        double S = 0, V = 0;
        for (size_t c = c0; c < c1; c++) {
            S += mu[tr.child[c]];
            V += s2[tr.child[c]];
        }
        /* A zero variance marks a forecast taken as exact; the children's
         * sum wins a tie. */
        if (method == FC_RECON_BOTTOM_UP || V == 0) {
            mu[v] = S;
            s2[v] = V;
        } else if (var[v] == 0) {
            mu[v] = base[v];
            s2[v] = 0;
        } else {
            double w = 1.0 / var[v] + 1.0 / V;
            mu[v] = (base[v] / var[v] + S / V) / w;
            s2[v] = 1.0 / w;
        }
    }
    /* Down: the root first. */
    out[tr.order[0]] = mu[tr.order[0]];
    if (out_var != NULL)
        out_var[tr.order[0]] = s2[tr.order[0]];
    for (size_t q = 0; q < n; q++) {
        size_t v = tr.order[q];
        size_t c0 = tr.child_off[v], c1 = tr.child_off[v + 1];
        double S = 0, V = 0;
        for (size_t c = c0; c < c1; c++) {
            S += mu[tr.child[c]];
            V += s2[tr.child[c]];
        }
        double vt = out_var != NULL ? out_var[v] : 0.0;
        for (size_t c = c0; c < c1; c++) {
            size_t k = tr.child[c];
            double share = V > 0 ? s2[k] / V : 1.0 / (double)(c1 - c0);
            out[k] = mu[k] + share * (out[v] - S);
            if (out_var != NULL)
                out_var[k] = V > 0 ? s2[k] * (1.0 - share) + share * share * vt : 0.0;
        }
    }
cleanup:
    free(mem);
    free(mu);
    return st;
}
