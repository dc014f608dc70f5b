/*
 * fc_class: ABC/XYZ classification (see fc_class.h).
 */
#include "fc_class.h"

#include <math.h>
#include <stdlib.h>

#include "sl_arena.h"

/* Targets by class, rows A..C, columns X..Z.  A items earn the highest
 * service because their stock-outs cost the most revenue; within a row,
 * erratic (Z) demand gets a little less, since each point of service
 * costs far more safety stock when demand varies a lot. */
static const double default_targets[3][3] = {
    {0.99, 0.98, 0.97},
    {0.97, 0.95, 0.93},
    {0.93, 0.90, 0.85},
};

sl_status fc_class_opts_check(fc_class_opts *o, sl_err *err)
{
    if (o->a_share == 0)
        o->a_share = 0.8;
    if (o->b_share == 0)
        o->b_share = 0.95;
    if (o->x_cv == 0)
        o->x_cv = 0.5;
    if (o->y_cv == 0)
        o->y_cv = 1.0;
    if (!(o->a_share > 0 && o->a_share < 1))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "a_share must be in (0, 1), got %g",
                          o->a_share);
    if (!(o->b_share > o->a_share && o->b_share < 1))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "b_share must be in (a_share, 1), got %g",
                          o->b_share);
    if (!(o->x_cv > 0 && o->x_cv <= 100))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "x_cv must be in (0, 100], got %g", o->x_cv);
    if (!(o->y_cv > o->x_cv && o->y_cv <= 100))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "y_cv must be in (x_cv, 100], got %g", o->y_cv);
    return SL_OK;
}

double fc_class_cv(const double *weekly, size_t n)
{
    if (n == 0)
        return -1;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += weekly[i];
    double mean = s / (double)n;
    if (!(mean > 0))
        return -1;
    double v = 0;
    for (size_t i = 0; i < n; i++)
        v += (weekly[i] - mean) * (weekly[i] - mean);
    return sqrt(v / (double)n) / mean;
}

typedef struct ranked {
    double revenue;
    size_t index;
} ranked;

static int by_revenue(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->revenue != b->revenue)
        return a->revenue > b->revenue ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

sl_status fc_classify(const fc_class_in *in, size_t n, const fc_class_opts *o, fc_class_out *out,
                      sl_err *err)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double r = in[i].revenue > 0 ? in[i].revenue : 0;
        total += r;
        out[i].index = i;
    }
    ranked *rk = sl_malloc((n > 0 ? n : 1) * sizeof *rk);
    if (rk == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++)
        rk[i] = (ranked){in[i].revenue > 0 ? in[i].revenue : 0, i};
    qsort(rk, n, sizeof *rk, by_revenue);
    for (size_t i = 0; i < n; i++)
        out[i].index = rk[i].index;
    free(rk);
    double cum = 0;
    for (size_t k = 0; k < n; k++) {
        const fc_class_in *x = &in[out[k].index];
        double r = x->revenue > 0 ? x->revenue : 0;
        double before = cum;
        out[k].share = total > 0 ? r / total : 0;
        cum += out[k].share;
        out[k].cumulative = cum;
        out[k].abc = r <= 0 ? 'C' : before < o->a_share ? 'A' : before < o->b_share ? 'B' : 'C';
        out[k].cv = fc_class_cv(x->weekly, x->n_weeks);
        out[k].xyz = out[k].cv < 0          ? 'Z'
                     : out[k].cv <= o->x_cv ? 'X'
                     : out[k].cv <= o->y_cv ? 'Y'
                                            : 'Z';
    }
    return SL_OK;
}

bool fc_class_parse(const char *code, char *abc, char *xyz)
{
    if (code == NULL || code[0] < 'A' || code[0] > 'C' || code[1] < 'X' || code[1] > 'Z' ||
        code[2] != '\0')
        return false;
    *abc = code[0];
    *xyz = code[1];
    return true;
}

int fc_class_index(char abc, char xyz)
{
    return (abc - 'A') * 3 + (xyz - 'X');
}

double fc_class_default_target(char abc, char xyz)
{
    return default_targets[abc - 'A'][xyz - 'X'];
}
