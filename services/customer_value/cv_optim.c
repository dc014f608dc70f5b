/*
 * cv_optim: BFGS on the inverse Hessian with a strong-Wolfe line search
 * (Nocedal & Wright, Numerical Optimization, algorithms 3.5, 3.6 and 6.1).
 */
#include "cv_optim.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Sufficient decrease and curvature constants of the Wolfe conditions; 0.9
 * is the usual choice for quasi-Newton methods (a loose curvature test keeps
 * line searches to one evaluation most of the time). */
#define WOLFE_C1 1e-4
#define WOLFE_C2 0.9
#define LS_MAX_STEPS 40

typedef struct point {
    double x[CV_OPTIM_MAX_DIM];
    double g[CV_OPTIM_MAX_DIM];
    double f;
} point;

typedef struct search {
    cv_objective fn;
    void *ctx;
    size_t n;
    const point *start;
    const double *dir;
    double d0; /* directional derivative at the start, < 0 */
    int evaluations;
} search;

static double dot(const double *u, const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += u[i] * v[i];
    return s;
}

static double max_abs(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(v[i]) > m)
            m = fabs(v[i]);
    return m;
}

/* Evaluates the objective at start + step * dir into *p; returns the
 * directional derivative there (NaN when f is not finite). */
static double probe(search *s, double step, point *p)
{
    for (size_t i = 0; i < s->n; i++)
        p->x[i] = s->start->x[i] + step * s->dir[i];
    p->f = s->fn(p->x, p->g, s->ctx);
    s->evaluations++;
    if (!isfinite(p->f))
        return NAN;
    return dot(p->g, s->dir, s->n);
}

/* Minimiser of the cubic through (a, fa, da) and (b, fb, db), kept inside
 * the safe middle of [a, b]; bisection when the cubic has no minimiser. */
static double cubic_step(double a, double fa, double da, double b, double fb, double db)
{
    double lo = a < b ? a : b, hi = a < b ? b : a;
    double d1 = da + db - 3.0 * (fa - fb) / (a - b);
    double disc = d1 * d1 - da * db;
    double t = NAN;
    if (disc >= 0.0) {
        double d2 = (b > a ? 1.0 : -1.0) * sqrt(disc);
        t = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
    }
    double margin = 0.1 * (hi - lo);
    if (!isfinite(t) || t < lo + margin || t > hi - margin)
        t = 0.5 * (lo + hi);
    return t;
}

/* Algorithm 3.6: narrows [lo, hi] (lo satisfies sufficient decrease) down to
 * a strong-Wolfe step.  Returns 0 and the point in *out, or -1. */
static int zoom(search *s, double lo, double f_lo, double d_lo, double hi, double f_hi, double d_hi,
                point *out)
{
    point p;
    for (int k = 0; k < LS_MAX_STEPS; k++) {
        double step;
        if (isfinite(f_hi) && isfinite(d_hi))
            step = cubic_step(lo, f_lo, d_lo, hi, f_hi, d_hi);
        else
            step = 0.5 * (lo + hi);
        double d = probe(s, step, &p);
        if (isnan(d) || p.f > s->start->f + WOLFE_C1 * step * s->d0 || p.f >= f_lo) {
            hi = step;
            f_hi = p.f;
            d_hi = d;
        } else {
            if (fabs(d) <= -WOLFE_C2 * s->d0) {
                *out = p;
                return 0;
            }
            if (d * (hi - lo) >= 0.0) {
                hi = lo;
                f_hi = f_lo;
                d_hi = d_lo;
            }
            lo = step;
            f_lo = p.f;
            d_lo = d;
            *out = p; /* best so far, in case the interval collapses */
        }
        if (fabs(hi - lo) < 1e-16 * (fabs(lo) + 1e-300))
            break;
    }
    /* The interval collapsed: accept the best sufficient-decrease point if
     * the search found one. */
    return lo > 0.0 ? 0 : -1;
}

/* Algorithm 3.5: a step along dir satisfying the strong Wolfe conditions.
 * Returns 0 with the new point in *out, or -1 when none was found. */
static int line_search(search *s, double step, point *out)
{
    double prev = 0.0, f_prev = s->start->f, d_prev = s->d0;
    point p;
    for (int k = 0; k < LS_MAX_STEPS; k++) {
        double d = probe(s, step, &p);
        if (isnan(d) || p.f > s->start->f + WOLFE_C1 * step * s->d0 || (k > 0 && p.f >= f_prev)) {
            return zoom(s, prev, f_prev, d_prev, step, p.f, d, out);
        }
        if (fabs(d) <= -WOLFE_C2 * s->d0) {
            *out = p;
            return 0;
        }
        if (d >= 0.0) {
            *out = p; /* zoom's lo end, returned if its interval collapses */
            return zoom(s, step, p.f, d, prev, f_prev, d_prev, out);
        }
        prev = step;
        f_prev = p.f;
        d_prev = d;
        *out = p;
        step *= 2.0;
    }
    return -1;
}

/* Solves a x = b (n <= CV_OPTIM_MAX_DIM) by Gaussian elimination with
 * partial pivoting; a and b are overwritten, x lands in b.  Returns -1 when a
 * is singular. */
static int solve(double a[CV_OPTIM_MAX_DIM][CV_OPTIM_MAX_DIM], double *b, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(a[r][c]) > fabs(a[piv][c]))
                piv = r;
        if (!(fabs(a[piv][c]) > 0.0))
            return -1;
        if (piv != c) {
            for (size_t k = 0; k < n; k++) {
                double t = a[c][k];
                a[c][k] = a[piv][k];
                a[piv][k] = t;
            }
            double t = b[c];
            b[c] = b[piv];
            b[piv] = t;
        }
        for (size_t r = c + 1; r < n; r++) {
            double m = a[r][c] / a[c][c];
            for (size_t k = c; k < n; k++)
                a[r][k] -= m * a[c][k];
            b[r] -= m * b[c];
        }
    }
    for (size_t c = n; c-- > 0;) {
        for (size_t k = c + 1; k < n; k++)
            b[c] -= a[c][k] * b[k];
        b[c] /= a[c][c];
    }
    return 0;
}

/*
 * Newton steps on a Hessian from central differences of the analytic
 * gradient, for when BFGS stalls on a flat ridge (Gamma-Gamma's q-gamma
 * valley): there the decrease a step would bring is below the rounding of f,
 * so no line search can see it, but the gradient still points the way.  A
 * step is kept only if it at least halves the gradient without raising f
 * beyond its rounding noise.
 */
static void newton_polish(cv_objective f, void *ctx, size_t n, point *cur, double gtol,
                          int *evaluations)
{
    const double h = 1e-5; /* on log-parameters: about 1e-5 relative */
    for (int it = 0; it < 8 && max_abs(cur->g, n) > gtol; it++) {
        double hess[CV_OPTIM_MAX_DIM][CV_OPTIM_MAX_DIM];
        point probe_pt;
        for (size_t j = 0; j < n; j++) {
            double gp[CV_OPTIM_MAX_DIM], gm[CV_OPTIM_MAX_DIM];
            probe_pt = *cur;
            probe_pt.x[j] = cur->x[j] + h;
            double fp = f(probe_pt.x, gp, ctx);
            probe_pt.x[j] = cur->x[j] - h;
            double fm = f(probe_pt.x, gm, ctx);
            *evaluations += 2;
            if (!isfinite(fp) || !isfinite(fm))
                return;
            for (size_t i = 0; i < n; i++)
                hess[i][j] = (gp[i] - gm[i]) / (2.0 * h);
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++)
                hess[i][j] = hess[j][i] = 0.5 * (hess[i][j] + hess[j][i]);
        double step[CV_OPTIM_MAX_DIM];
        for (size_t i = 0; i < n; i++)
            step[i] = -cur->g[i];
        if (solve(hess, step, n) != 0)
            return;
        point next;
        for (size_t i = 0; i < n; i++)
            next.x[i] = cur->x[i] + step[i];
        next.f = f(next.x, next.g, ctx);
        (*evaluations)++;
        /* The likelihood sums cancel large terms, so f carries noise of
         * ~1e-13 relative: a rise below 1e-10 with the gradient at least
         * halved is the optimum seen through that noise, not a worse point. */
        if (!isfinite(next.f) || next.f > cur->f + 1e-10 * fabs(cur->f) ||
            !(max_abs(next.g, n) <= 0.5 * max_abs(cur->g, n)))
            return;
        *cur = next;
    }
}

sl_status cv_optim_bfgs(cv_objective f, void *ctx, size_t n, double *theta, int max_iter,
                        double gtol, cv_optim_result *res, sl_err *err)
{
    if (n == 0 || n > CV_OPTIM_MAX_DIM)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "optimiser dimension %zu is outside 1..%d", n,
                          CV_OPTIM_MAX_DIM);
    memset(res, 0, sizeof *res);
    point cur;
    memcpy(cur.x, theta, n * sizeof *theta);
    cur.f = f(cur.x, cur.g, ctx);
    res->evaluations = 1;
    if (!isfinite(cur.f))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "objective is not finite at the start point");

    double h[CV_OPTIM_MAX_DIM][CV_OPTIM_MAX_DIM] = {{0}};
    for (size_t i = 0; i < n; i++)
        h[i][i] = 1.0;
    bool scaled = false;

    int it;
    for (it = 0; it < max_iter && max_abs(cur.g, n) > gtol; it++) {
        double dir[CV_OPTIM_MAX_DIM];
        for (size_t i = 0; i < n; i++) {
            dir[i] = 0.0;
            for (size_t j = 0; j < n; j++)
                dir[i] -= h[i][j] * cur.g[j];
        }
        double d0 = dot(dir, cur.g, n);
        if (!(d0 < 0.0)) {
            /* The inverse Hessian lost positive definiteness to rounding:
             * fall back to steepest descent and rebuild it. */
            for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < n; j++)
                    h[i][j] = i == j ? 1.0 : 0.0;
                dir[i] = -cur.g[i];
            }
            scaled = false;
            d0 = dot(dir, cur.g, n);
        }
        /* A quasi-Newton step promises a decrease of about -d0 / 2; once
         * that is below the rounding of f itself no line search can see
         * it, and trying only burns evaluations. */
        if (scaled && -d0 <= 8.0 * DBL_EPSILON * fabs(cur.f))
            break;
        search s = {f, ctx, n, &cur, dir, d0, 0};
        /* Before the Hessian has a scale, a unit step along the raw gradient
         * can be far too long; cap the first step's length at 1. */
        double step = scaled ? 1.0 : fmin(1.0, 1.0 / max_abs(dir, n));
        point next;
        int rc = line_search(&s, step, &next);
        res->evaluations += s.evaluations;
        if (rc != 0 || !(next.f <= cur.f))
            break;

        double sv[CV_OPTIM_MAX_DIM], yv[CV_OPTIM_MAX_DIM];
        for (size_t i = 0; i < n; i++) {
            sv[i] = next.x[i] - cur.x[i];
            yv[i] = next.g[i] - cur.g[i];
        }
        double sy = dot(sv, yv, n);
        cur = next;
        if (sy <= 1e-300)
            continue; /* no curvature information: keep H */
        if (!scaled) {
            /* Nocedal & Wright (6.20): scale the initial H to the curvature
             * just seen before the first update. */
            double gamma = sy / dot(yv, yv, n);
            for (size_t i = 0; i < n; i++)
                h[i][i] = gamma;
            scaled = true;
        }
        /* H+ = (I - rho s y') H (I - rho y s') + rho s s' */
        double rho = 1.0 / sy;
        double hy[CV_OPTIM_MAX_DIM];
        for (size_t i = 0; i < n; i++) {
            hy[i] = 0.0;
            for (size_t j = 0; j < n; j++)
                hy[i] += h[i][j] * yv[j];
        }
        double yhy = dot(yv, hy, n);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                h[i][j] +=
                    rho * ((1.0 + rho * yhy) * sv[i] * sv[j] - hy[i] * sv[j] - sv[i] * hy[j]);
    }
    if (max_abs(cur.g, n) > gtol && it < max_iter)
        newton_polish(f, ctx, n, &cur, gtol, &res->evaluations);
    memcpy(theta, cur.x, n * sizeof *theta);
    res->f = cur.f;
    res->grad_norm = max_abs(cur.g, n);
    res->iterations = it;
    res->converged = res->grad_norm <= gtol;
    return SL_OK;
}
