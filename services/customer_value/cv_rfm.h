/*
 * cv_rfm: RFM quintile scores and named segments.
 *
 * Scores.  Each of recency (days since the last purchase, lower is better),
 * frequency (purchases) and monetary value (spend) becomes a score 1..5 by
 * quintile of the customers scored together.  Ties are handled by mid-rank:
 * a customer's position is (customers strictly worse + half of those tied
 * with them, themselves included) / n, and the score is 1 + floor(5 x
 * position), capped at 5.  So equal values always get equal scores, the
 * result does not depend on input order, a single customer (or a group all
 * alike) scores 3, and n distinct values split into quintiles exactly.
 *
 * Segments.  FM = (F + M + 1) / 2 (the rounded-up mean of the frequency and
 * monetary scores).  The first matching rule wins:
 *
 *   segment               rule
 *   new                   one purchase only, R 4-5
 *   champions             R 4-5, FM 4-5
 *   loyal                 R 3-5, FM 3-5
 *   potential loyalists   R 4-5, FM 1-2
 *   can't lose            R 1,   FM 4-5
 *   at risk               R 1-2, FM 3-5
 *   hibernating           R 2-3, FM 1-2
 *   lost                  R 1,   FM 1-2
 *
 * Every (R, FM) pair falls in exactly one of the last seven rows, so every
 * customer gets a segment.  The table lives in cv_rfm.c as data.
 */
#ifndef CV_RFM_H
#define CV_RFM_H

#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* X(enum suffix, wire name, display name) */
#define CV_SEGMENT_LIST(X)                                                                         \
    X(CHAMPIONS, "champions", "champions")                                                         \
    X(LOYAL, "loyal", "loyal")                                                                     \
    X(POTENTIAL_LOYALISTS, "potential_loyalists", "potential loyalists")                           \
    X(NEW, "new", "new")                                                                           \
    X(AT_RISK, "at_risk", "at risk")                                                               \
    X(CANT_LOSE, "cant_lose", "can't lose")                                                        \
    X(HIBERNATING, "hibernating", "hibernating")                                                   \
    X(LOST, "lost", "lost")

typedef enum cv_segment {
#define CV__SEGMENT_ENUM(name, wire, display) CV_SEGMENT_##name,
    CV_SEGMENT_LIST(CV__SEGMENT_ENUM)
#undef CV__SEGMENT_ENUM
        CV_SEGMENT_COUNT
} cv_segment;

/* One customer as RFM sees them, as of some date. */
typedef struct cv_rfm_input {
    double recency;   /* time since the last purchase (any unit, the same for all) */
    double frequency; /* purchases (>= 1 for a customer who bought) */
    double monetary;  /* spend: total or per order, the same for all */
} cv_rfm_input;

typedef struct cv_rfm_score {
    uint8_t r, f, m; /* 1..5, 5 best */
    cv_segment segment;
} cv_rfm_score;

/*
 * Scores n customers together into out[0..n-1] (caller-provided).
 * Allocates a temporary index while it runs.  SL_INVALID_ARGUMENT when a
 * value is not finite (naming the customer's index), SL_RESOURCE_EXHAUSTED
 * when out of memory.  n = 0 is fine and does nothing.
 */
sl_status cv_rfm_score_all(const cv_rfm_input *in, size_t n, cv_rfm_score *out, sl_err *err);

/* The segment for scores r, f, m (1..5) and the customer's purchase count;
 * out-of-range scores are clamped into 1..5. */
cv_segment cv_rfm_segment(int r, int f, int m, double purchases);

/* Wire name ("cant_lose") and display name ("can't lose"); "unknown" for
 * values outside the list.  Static storage. */
const char *cv_segment_name(cv_segment s);
const char *cv_segment_display_name(cv_segment s);

/* The segment with this wire name; SL_NOT_FOUND (naming it) otherwise. */
sl_status cv_segment_from_name(const char *name, cv_segment *out, sl_err *err);

#endif
