/*
 * fc_accuracy: scoring issued forecasts against what sold, and the
 * forecast value added by planners' overrides (pure; unit-tested in
 * tests/unit/test_fc_accuracy.c).
 *
 * Each scored day has its actual units, the statistical forecast issued
 * for it, the final one (the override's figure when overridden) and its
 * series' MASE scale.  Measures: MAE, bias (mean forecast - actual) and
 * MASE (mean of |error| / scale over days whose series has a scale).
 * Forecast value added, in percent, compares the override with the
 * statistical forecast on the overridden days only:
 * 100 (MAE_stat - MAE_override) / MAE_stat -- what the planners' touch
 * added to the forecast they would have had without it (Gilliland's FVA).
 */
#ifndef FC_ACCURACY_H
#define FC_ACCURACY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fc_acc_day {
    double actual;
    double statistical;
    double final; /* == statistical when not overridden */
    bool overridden;
    double scale; /* the series' MASE scale; <= 0 or NAN: none */
} fc_acc_day;

typedef struct fc_acc_measure {
    size_t days;
    double mae;
    double mase; /* -1 when no day had a scale */
    double bias;
} fc_acc_measure;

typedef struct fc_acc_report {
    fc_acc_measure statistical;     /* every day */
    fc_acc_measure statistical_ovr; /* the statistical forecast, overridden days */
    fc_acc_measure overridden;      /* the overrides on those days */
    double fva;                     /* percent; 0 without overridden days */
    size_t helped, hurt;            /* overridden days closer / further */
} fc_acc_report;

/* The scale of MASE for a series: the in-sample mean absolute error of the
 * seasonal naive forecast with period m on hist (n values, NAN skipped),
 * falling back to period 1 when the series is shorter than 2 m.  Returns
 * NAN when it cannot be computed or is zero (a constant series). */
double fc_accuracy_scale(const double *hist, size_t n, int m);

/* Scores n days (n may be 0: every measure 0, mase -1). */
void fc_accuracy_score(const fc_acc_day *d, size_t n, fc_acc_report *out);

#endif
