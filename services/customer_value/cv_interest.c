/*
 * cv_interest: category interest by recency-weighted spend share (see
 * cv_interest.h).
 */
#include "cv_interest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

typedef struct acc {
    const char *category;
    double weighted, spend;
} acc;

static int cmp_category(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static int cmp_rank(const void *pa, const void *pb)
{
    const acc *a = pa, *b = pb;
    if (a->weighted != b->weighted)
        return a->weighted > b->weighted ? -1 : 1;
    return strcmp(a->category, b->category);
}

sl_status cv_interest_rank(const cv_purchase_line *lines, size_t n, int32_t as_of,
                           double half_life_days, cv_interest *out, size_t max_out, size_t *n_out,
                           sl_err *err)
{
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        if (lines[i].category == NULL)
            return sl_err_set(err, SL_INVALID_ARGUMENT, "line %zu: category is missing", i);
        if (!isfinite(lines[i].amount) || lines[i].amount < 0.0)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "line %zu: amount must be a finite number >= 0, got %g", i,
                              lines[i].amount);
    }
    if (n == 0)
        return SL_OK;
    /* Sorting the category pointers groups equal names; a customer has few
     * lines, so this beats a hash table. */
    const char **names = sl_malloc(n * sizeof *names);
    acc *a = sl_malloc(n * sizeof *a);
    sl_status st = SL_OK;
    if (names == NULL || a == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory ranking %zu lines", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        names[i] = lines[i].category;
    qsort(names, n, sizeof *names, cmp_category);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(a[k - 1].category, names[i]) != 0)
            a[k++] = (acc){names[i], 0.0, 0.0};

    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (lines[i].day > as_of)
            continue;
        double age = (double)(as_of - lines[i].day);
        double w = lines[i].amount * (half_life_days > 0.0 ? exp2(-age / half_life_days) : 1.0);
        /* acc starts with its category pointer, so the comparator reads both
         * the key and the elements as "pointer to const char *". */
        const char *key = lines[i].category;
        acc *hit = bsearch(&key, a, k, sizeof *a, cmp_category);
        hit->weighted += w;
        hit->spend += lines[i].amount;
        total += w;
    }
    if (total > 0.0) {
        qsort(a, k, sizeof *a, cmp_rank);
        for (size_t i = 0; i < k && *n_out < max_out && a[i].weighted > 0.0; i++)
            out[(*n_out)++] = (cv_interest){a[i].category, a[i].weighted / total, a[i].spend};
    }
done:
    free(names);
    free(a);
    return st;
}
