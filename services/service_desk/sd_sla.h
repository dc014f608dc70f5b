/*
 * sd_sla: ticket priorities and SLA clocks -- the pure rules under
 * OpenTicket's deadlines, ListTickets' "breaching within N minutes" and
 * GetSlaReport.
 *
 * Priority comes from the ticket's category and the customer's tier (a
 * matrix, see sd_priority_matrix_default).  Each priority has two targets,
 * first response and resolution, in business minutes: minutes inside the
 * desk's business hours, on the desk's wall clock (an IANA zone, so
 * 09:00-18:00 stays 09:00-18:00 across daylight-saving changes), outside
 * its holidays.  A ticket's clock starts when it is opened, counts only
 * business time, stops while the ticket waits on the customer (PAUSE ...
 * RESUME events) and is read at any instant: business time elapsed, time
 * remaining, whether and when it breached, and -- while it runs -- the
 * wall-clock deadline at which it will breach if nothing changes.
 *
 * Policies are built once (sd_sla_policy_new) and are then immutable: any
 * number of threads may evaluate clocks against one.  Times are Unix epoch
 * milliseconds.
 */
#ifndef SD_SLA_H
#define SD_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sd_classify.h"
#include "sd_time.h"
#include "sl_status.h"

/* ---- priorities and tiers ----------------------------------------------------- */

typedef enum sd_priority {
    SD_P1, /* most urgent */
    SD_P2,
    SD_P3,
    SD_P4,
} sd_priority;

#define SD_PRIORITY_COUNT 4

/* "P1" .. "P4"; "unknown" outside.  Static storage. */
const char *sd_priority_name(sd_priority p);

/* Parses "P1" .. "P4" (or "p1" ..).  Fails with SL_INVALID_ARGUMENT quoting
 * the value. */
sl_status sd_priority_parse(const char *s, sd_priority *out, sl_err *err);

/* X(enum suffix, name) -- customer tiers from customer-value. */
#define SD_TIER_LIST(X)                                                                            \
    X(PLATINUM, "platinum")                                                                        \
    X(GOLD, "gold")                                                                                \
    X(SILVER, "silver")                                                                            \
    X(BRONZE, "bronze")                                                                            \
    X(NEW, "new")

typedef enum sd_tier {
#define SD__TIER_ENUM(name, str) SD_TIER_##name,
    SD_TIER_LIST(SD__TIER_ENUM)
#undef SD__TIER_ENUM
} sd_tier;

#define SD_TIER_COUNT 5

/* The tier's name, e.g. "gold"; "unknown" outside the list.  Static. */
const char *sd_tier_name(sd_tier t);

/* Parses a tier name (exact, lower case).  Fails with SL_INVALID_ARGUMENT
 * quoting the value. */
sl_status sd_tier_parse(const char *name, sd_tier *out, sl_err *err);

/*
 * The tier of a customer from customer-value's figures: NEW with fewer than
 * two orders (their first experience decides whether they come back), else
 * by the customer's CLV percentile among all customers (0..1): the top 5%
 * PLATINUM, the next 15% GOLD, the next 30% SILVER, the rest BRONZE.  A
 * percentile outside 0..1 (or NaN) is clamped (NaN reads as 0).
 */
sd_tier sd_tier_from_value(double clv_percentile, uint32_t orders);

/* Priority by category (rows, sd_category order) and tier (columns,
 * sd_tier order). */
typedef struct sd_priority_matrix {
    sd_priority cell[SD_CATEGORY_COUNT][SD_TIER_COUNT];
} sd_priority_matrix;

/*
 * The default matrix (docs/SERVICE_DESK.md explains it):
 *
 *                      platinum gold silver bronze new
 *   where_is_my_order     P2     P3    P3     P4    P3
 *   delivery_delay        P1     P2    P2     P3    P2
 *   return_refund         P2     P3    P3     P4    P3
 *   damaged_item          P1     P2    P2     P3    P2
 *   out_of_stock          P3     P3    P4     P4    P4
 *   payment               P1     P1    P2     P2    P2
 *   other                 P3     P4    P4     P4    P4
 *
 * Static storage.
 */
const sd_priority_matrix *sd_priority_matrix_default(void);

/* The priority of a ticket of category c from a customer of tier t under
 * matrix m (NULL: the default).  Out-of-range c or t read as OTHER and NEW. */
sd_priority sd_priority_for(const sd_priority_matrix *m, sd_category c, sd_tier t);

/* ---- policies -------------------------------------------------------------------- */

#define SD_SLA_MAX_INTERVALS 4

/* Business hours of one weekday: up to four intervals [open, close) in
 * minutes after local midnight (0..1440), ascending and disjoint; n = 0 is
 * closed all day.  A lunch break is two intervals; a night shift is the
 * end of one day and the start of the next. */
typedef struct sd_sla_day {
    size_t n;
    struct {
        int open_minute, close_minute;
    } iv[SD_SLA_MAX_INTERVALS];
} sd_sla_day;

/*
 * Parses a week's business hours, e.g.
 *   "Mon-Fri 09:00-18:00; Sat 10:00-14:00"
 *   "Mon-Thu 08:00-12:00,13:00-17:00; Fri 08:00-12:00"
 *   "Mon-Sun 00:00-24:00"    (or "24x7")
 * into week[0..7) (Monday first); days not named are closed.  Day names
 * are English three-letter abbreviations, any case; a range may wrap
 * ("Sat-Mon").  Fails with SL_INVALID_ARGUMENT quoting the bad part (an
 * unknown day, a bad time, intervals out of order or overlapping, a day
 * named twice, more than four intervals in a day).
 */
sl_status sd_sla_hours_parse(const char *spec, sd_sla_day week[7], sl_err *err);

typedef struct sd_sla_targets {
    int32_t first_response_minutes; /* business minutes, > 0 */
    int32_t resolution_minutes;     /* business minutes, >= first_response_minutes */
} sd_sla_targets;

typedef struct sd_sla_config {
    const sd_tz *zone;       /* required; borrowed: must outlive the policy */
    sd_sla_day week[7];      /* Monday first */
    const sd_date *holidays; /* closed all day, any order; copied */
    size_t n_holidays;
    sd_sla_targets targets[SD_PRIORITY_COUNT];
} sd_sla_config;

/*
 * Fills cfg with the defaults, leaving zone NULL for the caller: Monday to
 * Friday 09:00-18:00, no holidays, and targets in business minutes
 *   P1: first response 30, resolution 240 (4 h)
 *   P2: 120 (2 h), 540 (one 9-hour business day)
 *   P3: 240 (4 h), 1620 (3 days)
 *   P4: 540 (1 day), 2700 (5 days)
 */
void sd_sla_config_defaults(sd_sla_config *cfg);

typedef struct sd_sla_policy sd_sla_policy;

/*
 * Validates cfg and builds the policy.  On success *out is owned by the
 * caller (sd_sla_policy_free); holidays are copied, the zone is borrowed.
 * Fails with SL_INVALID_ARGUMENT naming the first bad field (no zone, a
 * week with no business hours at all, bad intervals, targets not positive
 * or a resolution shorter than the first response, holidays outside years
 * 1..9999), SL_RESOURCE_EXHAUSTED when out of memory.
 */
sl_status sd_sla_policy_new(const sd_sla_config *cfg, sd_sla_policy **out, sl_err *err);

/* NULL is a no-op. */
void sd_sla_policy_free(sd_sla_policy *p);

typedef enum sd_sla_kind {
    SD_SLA_FIRST_RESPONSE,
    SD_SLA_RESOLUTION,
} sd_sla_kind;

/* The target of priority prio and kind, in business milliseconds (0 for an
 * out-of-range priority or kind). */
int64_t sd_sla_target_ms(const sd_sla_policy *p, sd_priority prio, sd_sla_kind kind);

/* ---- business time ----------------------------------------------------------------- */

/* Business milliseconds in [from_ms, to_ms).  Fails with
 * SL_INVALID_ARGUMENT when to_ms < from_ms or either is outside years
 * 1..9999, SL_OUT_OF_RANGE for spans over ten years. */
sl_status sd_sla_business_ms(const sd_sla_policy *p, int64_t from_ms, int64_t to_ms, int64_t *out,
                             sl_err *err);

/* The instant at which business_ms (>= 0) of business time after from_ms
 * have passed: 30 business minutes from Friday 17:50 is Monday 09:20.
 * Zero is from_ms itself.  Fails with SL_INVALID_ARGUMENT for a negative
 * amount or from_ms outside years 1..9999, SL_OUT_OF_RANGE when the
 * instant is over ten years away. */
sl_status sd_sla_add_business(const sd_sla_policy *p, int64_t from_ms, int64_t business_ms,
                              int64_t *at_ms, sl_err *err);

/* ---- clocks --------------------------------------------------------------------- */

typedef enum sd_sla_event_kind {
    SD_SLA_PAUSE,  /* the ticket now waits on the customer */
    SD_SLA_RESUME, /* the customer answered */
} sd_sla_event_kind;

typedef struct sd_sla_event {
    int64_t at_ms;
    sd_sla_event_kind kind;
} sd_sla_event;

/* A clock read at an instant. */
typedef struct sd_sla_clock {
    bool paused;            /* stopped at that instant */
    int64_t elapsed_ms;     /* business time counted so far */
    int64_t remaining_ms;   /* target - elapsed; <= 0 once breached */
    bool breached;          /* remaining <= 0 */
    int64_t breached_at_ms; /* when it reached 0 (breached only) */
    bool has_deadline;      /* false while paused and not breached */
    int64_t deadline_ms;    /* when it will breach if it runs on (running and not
                               breached), or breached_at_ms (breached) */
} sd_sla_clock;

/*
 * Reads the clock of a ticket opened at start_ms with a target of target_ms
 * business milliseconds (> 0, e.g. sd_sla_target_ms), given its pause and
 * resume events in time order, at now_ms.  Events after now_ms are ignored
 * (so a ticket's whole history can be replayed at any instant), as are a
 * PAUSE while paused and a RESUME while running (event logs delivered at
 * least once).  Events before start_ms take effect at start_ms.  For a
 * resolved ticket, read the clock at its resolution time.  The first
 * response clock is normally read without events.  Fails with
 * SL_INVALID_ARGUMENT when events are out of order or of an unknown kind,
 * the target is not positive or a time is outside years 1..9999,
 * SL_OUT_OF_RANGE for a ticket open over ten years.
 */
sl_status sd_sla_clock_at(const sd_sla_policy *p, int64_t start_ms, int64_t target_ms,
                          const sd_sla_event *events, size_t n_events, int64_t now_ms,
                          sd_sla_clock *out, sl_err *err);

/* For ListTickets' "breaching within N minutes": true when the clock has
 * breached, or runs and its deadline is at most window_ms after now_ms.  A
 * paused clock cannot breach, so it is not "breaching". */
bool sd_sla_breaching_within(const sd_sla_clock *c, int64_t now_ms, int64_t window_ms);

#endif
