/*
 * fc_season: the long seasonal cycle (a year of days) that ETS cannot carry
 * as m states.  Internal to the engine.
 *
 * A least-squares fit of a line plus K = 4 Fourier harmonics of the period
 * gives a smooth yearly profile; it is kept only when the series covers two
 * cycles and the harmonics are significant (F test at 1%).  The profile is
 * multiplicative (1 + harmonics / line) when the line stays positive over
 * the data and horizon and the data are non-negative, additive otherwise.
 * The models then see the series with the profile taken out, and their
 * forecasts get it back.
 */
#ifndef FC_SEASON_H
#define FC_SEASON_H

#include <stddef.h>

/* Fits the profile of period to y (n values, NAN skipped) and writes its
 * term for t = 0 .. n + h - 1 into ls (a factor when *mul, else an addend).
 * Returns 1 when the profile is significant and was written, 0 otherwise. */
int fc__long_season(const double *y, size_t n, size_t h, double period, double *ls, int *mul);

#endif
