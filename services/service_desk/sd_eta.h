/*
 * sd_eta: when an order will arrive -- the ETA rules of DESIGN.md as a pure
 * engine (no gRPC, no database) under GetOrderEta, QuoteEta, PlaceOrder's
 * promise and the INBOUND_DELAYED recomputation.
 *
 * The rules, per order line:
 *  - In stock in warehouse W: the line ships on the order's day if it was
 *    placed strictly before W's cut-off on a shipping day, both read on W's
 *    wall clock (its IANA zone, so the rule holds across daylight-saving
 *    changes); otherwise on W's next shipping day.  Shipping days are a
 *    weekday mask (default Monday to Friday) minus W's holidays.
 *  - Backordered on an inbound shipment expected at W on date E: the goods
 *    are received on W's first shipping day on or after E and need W's
 *    handling time, h shipping days, to be put away: the line ships h
 *    shipping days after that (h = 0: the day they are received).  It
 *    never ships before the order's own in-stock ship day, nor -- when E
 *    has passed and the goods are still not in -- as if they arrived
 *    before today (the inbound is overdue: E is then read as today).
 *  - Then transit to the customer's region: p50 and p90 days from the ship
 *    date.  Calendar days by default: the transit times inventory keeps are
 *    measured as calendar days from dispatch to delivery, so weekends are
 *    already inside them.  SD_TRANSIT_BUSINESS_DAYS counts Monday to
 *    Friday only, skipping W's holidays, for carriers quoted that way.
 * The order's ETA is its latest line: the latest p50 and, separately, the
 * latest p90 (they may come from different lines).
 *
 * Dates are calendar dates on W's calendar: the ship date is W's local
 * date, and delivery dates count whole days from it.  A delivery in a
 * region a few hours away would be the same day there except around
 * midnight, which the p50..p90 range already covers; the service shows the
 * dates as they are, "YYYY-MM-DD", without converting them.
 *
 * Confidence: HIGH for in-stock lines; MEDIUM for a backorder whose inbound
 * has not slipped; LOW once it has slipped or is overdue.  An order's
 * confidence is its lowest line's.
 *
 * Warehouses are built once (sd_warehouse_new) from their settings and are
 * then immutable: any number of threads may compute ETAs against them.
 */
#ifndef SD_ETA_H
#define SD_ETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sd_time.h"
#include "sl_status.h"

/* Longest transit and handling accepted (days). */
#define SD_ETA_MAX_DAYS 365

/* Room for any sentence sd_eta_describe_* writes, with its NUL. */
#define SD_ETA_TEXT_MAX 512

/* ---- warehouses ---------------------------------------------------------- */

typedef struct sd_warehouse_config {
    const char *id;          /* required, e.g. "fr-lyon-1" */
    const char *name;        /* as customers should read it, e.g. "Lyon";
                                NULL or "" means the id */
    const sd_tz *zone;       /* required; borrowed: must outlive the warehouse */
    const char *cutoff;      /* required, "HH:MM" on the warehouse's clock;
                                "00:00" never ships the same day, "24:00"
                                always does on a shipping day */
    unsigned ship_days;      /* weekday mask (SD_WEEKDAY_BIT); 0 means
                                Monday to Friday */
    const sd_date *holidays; /* dates it does not ship, any order;
                                copied; may be NULL when n_holidays is 0 */
    size_t n_holidays;
    int handling_days; /* shipping days to receive an inbound shipment
                          before its goods can ship, 0..SD_ETA_MAX_DAYS */
} sd_warehouse_config;

/* A validated, immutable warehouse calendar. */
typedef struct sd_warehouse sd_warehouse;

/*
 * Validates cfg and builds the warehouse.  On success *out is owned by the
 * caller (sd_warehouse_free); cfg's strings and holidays are copied, its
 * zone is borrowed.  Fails with SL_INVALID_ARGUMENT naming the first bad
 * field ("warehouse \"x\": cutoff ..."), SL_RESOURCE_EXHAUSTED when out of
 * memory.
 */
sl_status sd_warehouse_new(const sd_warehouse_config *cfg, sd_warehouse **out, sl_err *err);

/* NULL is a no-op. */
void sd_warehouse_free(sd_warehouse *w);

/* The id and display name (the id when no name was given); owned by w. */
const char *sd_warehouse_id(const sd_warehouse *w);
const char *sd_warehouse_name(const sd_warehouse *w);

/* Whether w ships on date d (a shipping weekday and not a holiday). */
bool sd_warehouse_ships_on(const sd_warehouse *w, sd_date d);

/*
 * The next cut-off at or after now_ms: the instant of the cut-off on the
 * first shipping day whose cut-off has not passed -- what a quote shows as
 * "order within 2 h 10 min to ship today".  Fails with
 * SL_FAILED_PRECONDITION for a 00:00 cut-off (nothing ever ships the day it
 * is ordered), SL_OUT_OF_RANGE when holidays leave no shipping day within a
 * year, SL_INVALID_ARGUMENT when now_ms is outside years 1..9999.
 */
sl_status sd_warehouse_next_cutoff(const sd_warehouse *w, int64_t now_ms, int64_t *cutoff_ms,
                                   sl_err *err);

/* ---- lines and orders ------------------------------------------------------ */

typedef enum sd_transit_unit {
    SD_TRANSIT_CALENDAR_DAYS, /* the default */
    SD_TRANSIT_BUSINESS_DAYS, /* Monday to Friday, not the warehouse's holidays */
} sd_transit_unit;

/* Transit time from the warehouse to the customer's region (inventory's
 * TransitTime). */
typedef struct sd_transit {
    int p50_days; /* 0..SD_ETA_MAX_DAYS; 0 is same-day delivery */
    int p90_days; /* p50_days..SD_ETA_MAX_DAYS */
    sd_transit_unit unit;
} sd_transit;

typedef enum sd_line_source {
    SD_LINE_IN_STOCK,  /* reserved from stock on hand */
    SD_LINE_BACKORDER, /* waiting for an inbound shipment */
} sd_line_source;

/* One order line as the engine needs it. */
typedef struct sd_eta_line {
    const sd_warehouse *warehouse; /* where it is reserved */
    sd_transit transit;            /* from that warehouse to the order's region */
    sd_line_source source;
    /* Backorders only: */
    sd_date inbound_expected; /* the inbound's current expected arrival at the warehouse */
    int inbound_slips;        /* times that date has been pushed back so far */
    bool inbound_received;    /* it came in on inbound_expected: no overdue slide */
} sd_eta_line;

typedef enum sd_confidence {
    SD_CONFIDENCE_HIGH,
    SD_CONFIDENCE_MEDIUM,
    SD_CONFIDENCE_LOW,
} sd_confidence;

/* "high", "medium" or "low".  Static storage. */
const char *sd_confidence_name(sd_confidence c);

/* Why a line ships on its ship date. */
typedef enum sd_ship_reason {
    SD_SHIP_BEFORE_CUTOFF,  /* placed before the cut-off on a shipping day */
    SD_SHIP_AFTER_CUTOFF,   /* placed at or after the cut-off: next shipping day */
    SD_SHIP_CLOSED_DAY,     /* placed on a non-shipping day or holiday */
    SD_SHIP_AFTER_INBOUND,  /* waits for its inbound shipment and handling */
    SD_SHIP_INBOUND_OVERDUE /* its inbound is late and not in yet: from today */
} sd_ship_reason;

typedef struct sd_line_eta {
    sd_date ship_date; /* leaves the warehouse */
    sd_date p50, p90;  /* delivery dates, p50 <= p90 */
    sd_confidence confidence;
    sd_ship_reason reason;
    bool holiday_skipped; /* a holiday pushed the ship date back */
} sd_line_eta;

typedef struct sd_order_eta {
    sd_date ship_date;         /* latest line's ship date */
    sd_date p50, p90;          /* latest line p50, latest line p90 */
    sd_confidence confidence;  /* lowest over the lines */
    size_t p50_line, p90_line; /* first line that sets each */
} sd_order_eta;

/*
 * One line's ETA for an order placed at placed_at_ms, as known at now_ms
 * (both Unix epoch milliseconds; for a quote or a promise both are "now").
 * now_ms only matters for backorders: an overdue inbound ships no earlier
 * than today.  Fails with SL_INVALID_ARGUMENT naming the bad field (no
 * warehouse, transit outside 0..365 or p90 < p50, an unknown source or
 * unit, negative slips, times outside years 1..9999), SL_OUT_OF_RANGE when
 * the warehouse has no shipping day within a year of the date it needs
 * one.  Allocates nothing.
 */
sl_status sd_eta_compute_line(const sd_eta_line *line, int64_t placed_at_ms, int64_t now_ms,
                              sd_line_eta *out, sl_err *err);

/*
 * The ETA of an order of n >= 1 lines (split shipments are simply several
 * lines), with each line's ETA in line_etas[0..n) when that is not NULL.
 * Fails like sd_eta_compute_line, with the message prefixed
 * "lines[i]: "; SL_INVALID_ARGUMENT when n is 0.
 */
sl_status sd_eta_compute_order(const sd_eta_line *lines, size_t n, int64_t placed_at_ms,
                               int64_t now_ms, sd_line_eta *line_etas, sd_order_eta *out,
                               sl_err *err);

/* ---- words for customers ------------------------------------------------ */

/*
 * How an ETA moved, for an agent to read to the customer or for a DELAY
 * notification, into buf (cap bytes; SD_ETA_TEXT_MAX is always enough):
 *   later:   "the shipment from Lyon was delayed from 2025-03-07 to
 *             2025-03-12 (at the latest 2025-03-14): <reason>"
 *   earlier: "the shipment from Lyon is now expected earlier, on 2025-03-05
 *             instead of 2025-03-07: <reason>"
 *   same:    "the shipment from Lyon is on schedule for 2025-03-07"
 * Dates are the p50 before and after, with the new p90 when it differs.
 * reason (NULL or empty: none) is the inbound's delay reason from
 * inventory; it is cut to 200 bytes at a UTF-8 boundary and control
 * characters become spaces.  Fails with SL_INVALID_ARGUMENT when cap is too
 * small for the sentence (nothing is truncated silently).
 */
sl_status sd_eta_describe_move(const sd_warehouse *w, const sd_line_eta *before,
                               const sd_line_eta *after, const char *reason, char *buf, size_t cap,
                               sl_err *err);

/*
 * One line's ETA in words, for a where-is-my-order answer, e.g.
 *   "in stock at Lyon; ordered after the 14:00 cut-off, ships Mon
 *    2025-03-10; delivery expected 2025-03-12, at the latest 2025-03-14"
 *   "waiting for a delivery to Lyon expected 2025-03-15; ships Tue
 *    2025-03-18; delivery expected ..."
 * Fails with SL_INVALID_ARGUMENT when cap is too small.
 */
sl_status sd_eta_describe_line(const sd_eta_line *line, const sd_line_eta *eta, char *buf,
                               size_t cap, sl_err *err);

#endif
