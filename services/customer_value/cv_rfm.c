/*
 * cv_rfm: quintile scores by mid-rank and the segment rule table (see
 * cv_rfm.h).
 */
#include "cv_rfm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

/* A rule: inclusive ranges of R and FM, and whether it applies only to
 * customers with a single purchase.  Checked in order; the first match
 * wins. */
typedef struct rule {
    cv_segment segment;
    int r_lo, r_hi, fm_lo, fm_hi;
    int single_purchase_only;
} rule;

static const rule rules[] = {
    {CV_SEGMENT_NEW, 4, 5, 1, 5, 1},         {CV_SEGMENT_CHAMPIONS, 4, 5, 4, 5, 0},
    {CV_SEGMENT_LOYAL, 3, 5, 3, 5, 0},       {CV_SEGMENT_POTENTIAL_LOYALISTS, 4, 5, 1, 2, 0},
    {CV_SEGMENT_CANT_LOSE, 1, 1, 4, 5, 0},   {CV_SEGMENT_AT_RISK, 1, 2, 3, 5, 0},
    {CV_SEGMENT_HIBERNATING, 2, 3, 1, 2, 0}, {CV_SEGMENT_LOST, 1, 1, 1, 2, 0},
};

static const char *const wire_names[] = {
#define CV__SEGMENT_WIRE(name, wire, display) wire,
    CV_SEGMENT_LIST(CV__SEGMENT_WIRE)
#undef CV__SEGMENT_WIRE
};

static const char *const display_names[] = {
#define CV__SEGMENT_DISPLAY(name, wire, display) display,
    CV_SEGMENT_LIST(CV__SEGMENT_DISPLAY)
#undef CV__SEGMENT_DISPLAY
};

static int clamp_score(int s)
{
    return s < 1 ? 1 : s > 5 ? 5 : s;
}

cv_segment cv_rfm_segment(int r, int f, int m, double purchases)
{
    r = clamp_score(r);
    int fm = (clamp_score(f) + clamp_score(m) + 1) / 2;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        const rule *ru = &rules[i];
        if (ru->single_purchase_only && purchases > 1.0)
            continue;
        if (r >= ru->r_lo && r <= ru->r_hi && fm >= ru->fm_lo && fm <= ru->fm_hi)
            return ru->segment;
    }
    /* Unreachable: the rows after "new" cover all 25 (R, FM) pairs (a unit
     * test walks them). */
    return CV_SEGMENT_LOST;
}

const char *cv_segment_name(cv_segment s)
{
    return (unsigned)s < CV_SEGMENT_COUNT ? wire_names[s] : "unknown";
}

const char *cv_segment_display_name(cv_segment s)
{
    return (unsigned)s < CV_SEGMENT_COUNT ? display_names[s] : "unknown";
}

sl_status cv_segment_from_name(const char *name, cv_segment *out, sl_err *err)
{
    for (int i = 0; i < CV_SEGMENT_COUNT; i++) {
        if (strcmp(name, wire_names[i]) == 0) {
            *out = (cv_segment)i;
            return SL_OK;
        }
    }
    return sl_err_reason(err, SL_NOT_FOUND, "SEGMENT_NOT_FOUND", "unknown RFM segment \"%s\"",
                         name);
}

typedef struct keyed {
    double v;
    size_t i;
} keyed;

static int cmp_keyed(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    return (a->v > b->v) - (a->v < b->v);
}

/* Scores one dimension: k[] holds (value, customer) with larger values
 * better; writes the score of customer i to score[i * stride]. */
static void score_dimension(keyed *k, size_t n, uint8_t *score, size_t stride)
{
    qsort(k, n, sizeof *k, cmp_keyed);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo;
        while (hi < n && k[hi].v == k[lo].v)
            hi++;
        /* lo customers are strictly worse, hi - lo are tied (inclusive). */
        double pos = ((double)lo + 0.5 * (double)(hi - lo)) / (double)n;
        int s = 1 + (int)floor(5.0 * pos);
        if (s > 5)
            s = 5;
        for (size_t j = lo; j < hi; j++)
            score[k[j].i * stride] = (uint8_t)s;
        lo = hi;
    }
}

sl_status cv_rfm_score_all(const cv_rfm_input *in, size_t n, cv_rfm_score *out, sl_err *err)
{
    if (n == 0)
        return SL_OK;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(in[i].recency) || !isfinite(in[i].frequency) || !isfinite(in[i].monetary))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "customer %zu: recency, frequency and monetary must be finite", i);
    keyed *k = sl_malloc(n * sizeof *k);
    if (k == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory scoring %zu customers", n);
    size_t stride = sizeof *out;
    uint8_t *base = (uint8_t *)out;
    /* Recency: fewer days is better, so it is ranked negated. */
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){-in[i].recency, i};
    score_dimension(k, n, base + offsetof(cv_rfm_score, r), stride);
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){in[i].frequency, i};
    score_dimension(k, n, base + offsetof(cv_rfm_score, f), stride);
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){in[i].monetary, i};
    score_dimension(k, n, base + offsetof(cv_rfm_score, m), stride);
    free(k);
    for (size_t i = 0; i < n; i++)
        out[i].segment = cv_rfm_segment(out[i].r, out[i].f, out[i].m, in[i].frequency);
    return SL_OK;
}
