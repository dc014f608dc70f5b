/*
 * fc_accuracy: forecast accuracy after the fact and forecast value added
 * (see fc_accuracy.h).
 */
#include "fc_accuracy.h"

#include <math.h>
#include <string.h>

double fc_accuracy_scale(const double *hist, size_t n, int m)
{
    if (m < 1)
        m = 1;
    if (n < 2 * (size_t)m)
        m = 1;
    double s = 0;
    size_t k = 0;
    for (size_t t = (size_t)m; t < n; t++) {
        if (isnan(hist[t]) || isnan(hist[t - (size_t)m]))
            continue;
        s += fabs(hist[t] - hist[t - (size_t)m]);
        k++;
    }
    return k > 0 && s > 0 ? s / (double)k : NAN;
}

typedef struct acc_sum {
    size_t n, n_scaled;
    double abs, scaled, err;
} acc_sum;

static void add(acc_sum *a, double fc, double actual, double scale)
{
    double e = fc - actual;
    a->n++;
    a->abs += fabs(e);
    a->err += e;
    if (scale > 0 && isfinite(scale)) {
        a->scaled += fabs(e) / scale;
        a->n_scaled++;
    }
}

static void finish(const acc_sum *a, fc_acc_measure *m)
{
    m->days = a->n;
    m->mae = a->n > 0 ? a->abs / (double)a->n : 0;
    m->bias = a->n > 0 ? a->err / (double)a->n : 0;
    m->mase = a->n_scaled > 0 ? a->scaled / (double)a->n_scaled : -1;
}

void fc_accuracy_score(const fc_acc_day *d, size_t n, fc_acc_report *out)
{
    acc_sum all = {0}, so = {0}, ov = {0};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        add(&all, d[i].statistical, d[i].actual, d[i].scale);
        if (!d[i].overridden)
            continue;
        add(&so, d[i].statistical, d[i].actual, d[i].scale);
        add(&ov, d[i].final, d[i].actual, d[i].scale);
        double es = fabs(d[i].statistical - d[i].actual), eo = fabs(d[i].final - d[i].actual);
        /* A tie (the override equal to the model, or both exact) is
         * neither: counting it as help would flatter overriding. */
        if (eo < es)
            out->helped++;
        else if (eo > es)
            out->hurt++;
    }
    finish(&all, &out->statistical);
    finish(&so, &out->statistical_ovr);
    finish(&ov, &out->overridden);
    if (so.n > 0 && so.abs > 0)
        out->fva = 100.0 * (so.abs - ov.abs) / so.abs;
    else if (so.n > 0)
        out->fva = ov.abs > 0 ? -100.0 : 0.0; /* the model was exact */
}
