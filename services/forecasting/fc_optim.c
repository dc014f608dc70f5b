/*
 * fc_optim: Nelder-Mead simplex minimisation (see fc_optim.h), with the
 * standard coefficients (reflection 1, expansion 2, contraction 1/2,
 * shrink 1/2).
 */
#include "fc_optim.h"

#include <math.h>
#include <string.h>

double fc__nelder_mead(fc__objective f, void *ctx, double *x, const double *step, int dim,
                       int max_eval, double tol, int *n_eval)
{
    double p[FC__OPT_MAX_DIM + 1][FC__OPT_MAX_DIM];
    double fv[FC__OPT_MAX_DIM + 1];
    double cen[FC__OPT_MAX_DIM], xr[FC__OPT_MAX_DIM], xe[FC__OPT_MAX_DIM];
    int evals = 0;
    int np = dim + 1;

    for (int i = 0; i < np; i++) {
        memcpy(p[i], x, (size_t)dim * sizeof *x);
        if (i > 0)
            p[i][i - 1] += step[i - 1];
        fv[i] = f(p[i], ctx);
        evals++;
    }
    for (;;) {
        /* Order: best first, worst last (insertion sort, dim is small). */
        for (int i = 1; i < np; i++) {
            double v = fv[i];
            double tmp[FC__OPT_MAX_DIM];
            memcpy(tmp, p[i], (size_t)dim * sizeof *x);
            int j = i - 1;
            while (j >= 0 && fv[j] > v) {
                fv[j + 1] = fv[j];
                memcpy(p[j + 1], p[j], (size_t)dim * sizeof *x);
                j--;
            }
            fv[j + 1] = v;
            memcpy(p[j + 1], tmp, (size_t)dim * sizeof *x);
        }
        double best = fv[0], worst = fv[np - 1];
        if (evals >= max_eval)
            break;
        if (isfinite(worst) && worst - best <= tol * (fabs(best) + tol))
            break;
        for (int k = 0; k < dim; k++) {
            double s = 0;
            for (int i = 0; i < np - 1; i++)
                s += p[i][k];
            cen[k] = s / dim;
        }
        for (int k = 0; k < dim; k++)
            xr[k] = cen[k] + (cen[k] - p[np - 1][k]);
        double fr = f(xr, ctx);
        evals++;
        if (fr < fv[0]) {
            for (int k = 0; k < dim; k++)
                xe[k] = cen[k] + 2.0 * (cen[k] - p[np - 1][k]);
            double fe = f(xe, ctx);
            evals++;
            if (fe < fr) {
                memcpy(p[np - 1], xe, (size_t)dim * sizeof *x);
                fv[np - 1] = fe;
            } else {
                memcpy(p[np - 1], xr, (size_t)dim * sizeof *x);
                fv[np - 1] = fr;
            }
            continue;
        }
        if (fr < fv[np - 2]) {
            memcpy(p[np - 1], xr, (size_t)dim * sizeof *x);
            fv[np - 1] = fr;
            continue;
        }
        /* Contract towards the better of the worst point and its reflection. */
        int outside = fr < fv[np - 1];
        for (int k = 0; k < dim; k++)
            xe[k] =
                outside ? cen[k] + 0.5 * (xr[k] - cen[k]) : cen[k] + 0.5 * (p[np - 1][k] - cen[k]);
        double fc = f(xe, ctx);
        evals++;
        if (fc < (outside ? fr : fv[np - 1])) {
            memcpy(p[np - 1], xe, (size_t)dim * sizeof *x);
            fv[np - 1] = fc;
            continue;
        }
        for (int i = 1; i < np; i++) {
            for (int k = 0; k < dim; k++)
                p[i][k] = p[0][k] + 0.5 * (p[i][k] - p[0][k]);
            fv[i] = f(p[i], ctx);
            evals++;
        }
    }
    memcpy(x, p[0], (size_t)dim * sizeof *x);
    if (n_eval)
        *n_eval = evals;
    return fv[0];
}
