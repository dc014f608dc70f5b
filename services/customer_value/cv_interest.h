/*
 * cv_interest: a customer's interest in product categories, from their
 * purchase lines.
 *
 * Interest in a category is its share of the customer's recency-weighted
 * spend: each line counts amount x 2^(-age / half_life), age being the days
 * from the line's purchase to as_of.  A half-life lets last month's purchases
 * outweigh last year's without forgetting them; scores sum to 1 over the
 * customer's categories.
 */
#ifndef CV_INTEREST_H
#define CV_INTEREST_H

#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* One purchase line as the engine needs it (borrowed strings). */
typedef struct cv_purchase_line {
    const char *category;
    int32_t day;   /* purchase day, days since 1970-01-01 */
    double amount; /* line value, >= 0 (returns are netted out by the caller) */
} cv_purchase_line;

typedef struct cv_interest {
    const char *category; /* points into the caller's lines */
    double score;         /* share of weighted spend, 0..1 */
    double spend;         /* unweighted spend in the category */
} cv_interest;

/*
 * Ranks the categories of lines[0..n-1] as of as_of, highest score first
 * (ties by category name), writing at most max_out to out and the count
 * written to *n_out.  Lines after as_of are ignored; half_life_days <= 0
 * means no decay.  out[].category borrows from lines.  Allocates a temporary
 * table while it runs.  SL_INVALID_ARGUMENT for a NULL category or a
 * negative or non-finite amount (naming the line index),
 * SL_RESOURCE_EXHAUSTED when out of memory.  A customer whose lines sum to
 * zero gets no categories.
 */
sl_status cv_interest_rank(const cv_purchase_line *lines, size_t n, int32_t as_of,
                           double half_life_days, cv_interest *out, size_t max_out, size_t *n_out,
                           sl_err *err);

#endif
