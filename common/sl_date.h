/*
 * sl_date: proleptic Gregorian calendar arithmetic (Howard Hinnant's
 * days_from_civil / civil_from_days), the one copy every service uses for
 * "YYYY-MM-DD" days and Unix-day numbers.
 */
#ifndef SL_DATE_H
#define SL_DATE_H

#include <stdint.h>

/* Days from 1970-01-01 to year-month-day (month 1..12, day 1..31; no
 * validation: out-of-range days roll over). */
int64_t sl_days_from_civil(int64_t year, int month, int day);

/* The date of a day number; any of the out-pointers may be NULL. */
void sl_civil_from_days(int64_t days, int *year, int *month, int *day);

#endif
