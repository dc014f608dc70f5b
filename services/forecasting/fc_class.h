/*
 * fc_class: ABC/XYZ classification and the service-level targets of the
 * classes (pure; unit-tested in tests/unit/test_fc_class.c).
 *
 * ABC ranks SKUs by revenue: the SKUs that make the first a_share of it
 * (the SKU crossing the line included) are A, those up to b_share B, the
 * rest C -- the Pareto split that puts planners' attention where the money
 * is.  XYZ says how forecastable demand is: the coefficient of variation
 * of weekly units (weekly rather than daily, so the day-of-week pattern a
 * forecast handles anyway does not count as variability) up to x_cv is X,
 * up to y_cv Y, beyond (or no demand at all) Z.  A SKU that sold nothing
 * is CZ.
 */
#ifndef FC_CLASS_H
#define FC_CLASS_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_status.h"

typedef struct fc_class_opts {
    double a_share, b_share; /* cumulative revenue shares; 0: 0.8, 0.95 */
    double x_cv, y_cv;       /* weekly coefficients of variation; 0: 0.5, 1.0 */
} fc_class_opts;

/* Fills the defaults of o's zero fields and checks them: 0 < a_share <
 * b_share < 1, 0 < x_cv < y_cv <= 100.  INVALID_ARGUMENT naming the field
 * otherwise. */
sl_status fc_class_opts_check(fc_class_opts *o, sl_err *err);

typedef struct fc_class_in {
    double revenue;       /* over the period, minor units */
    const double *weekly; /* units per week */
    size_t n_weeks;
} fc_class_in;

typedef struct fc_class_out {
    size_t index; /* into the input */
    char abc, xyz;
    double share, cumulative; /* of total revenue, 0..1 */
    double cv;                /* -1: no demand */
} fc_class_out;

/* Coefficient of variation (population standard deviation over mean) of
 * n weekly values; -1 when their mean is zero. */
double fc_class_cv(const double *weekly, size_t n);

/* Classifies n SKUs under o (checked); out (n entries) gets them by
 * revenue, largest first (ties: input order).  RESOURCE_EXHAUSTED when
 * the sort's scratch cannot be allocated. */
sl_status fc_classify(const fc_class_in *in, size_t n, const fc_class_opts *o, fc_class_out *out,
                      sl_err *err);

/* Parses a class code "AX" .. "CZ"; false otherwise. */
bool fc_class_parse(const char *code, char *abc, char *xyz);

/* The index 0..8 of class abc x xyz (A..C, X..Z) in a targets table. */
int fc_class_index(char abc, char xyz);

/* The default target cycle service level of class abc x xyz: 0.99 for AX
 * down to 0.85 for CZ. */
double fc_class_default_target(char abc, char xyz);

#endif
