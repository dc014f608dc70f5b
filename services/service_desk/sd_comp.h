/*
 * sd_comp: compensation for late orders -- how much a delay is worth under
 * the configured policy, and the coupon code that carries it.
 *
 * Policy: tiers "a slip of more than N days is worth V" (money in minor
 * units of one currency).  The slip is measured against the promise --
 * the order's current p50 date minus the p50 date promised at placement --
 * not slip by slip, so an inbound that slips one day three times still
 * earns the three-day tier; each decision grants only what the customer is
 * entitled to beyond what earlier slips already granted.  With the
 * service recording at most one compensation per (order, slip number),
 * every slip gives at most one coupon and the total never exceeds the
 * highest tier reached.
 *
 * Coupon codes are deterministic: SipHash-2-4 under a secret key of the
 * order id and the slip number, as 12 Crockford base-32 characters
 * ("SL-7K2M-9QXD-4TNE").  A retried delay event produces the same code;
 * without the key nobody can forge the code of another order.  Everything
 * here is pure and thread-safe.
 */
#ifndef SD_COMP_H
#define SD_COMP_H

#include <stddef.h>
#include <stdint.h>

#include "sd_time.h"
#include "sl_status.h"

#define SD_COMP_MAX_TIERS 8

/* A slip of more than min_slip_days earns value_minor in total. */
typedef struct sd_comp_tier {
    int32_t min_slip_days;
    int64_t value_minor;
} sd_comp_tier;

typedef struct sd_comp_policy {
    size_t n_tiers;                        /* 0: delays are never compensated */
    sd_comp_tier tiers[SD_COMP_MAX_TIERS]; /* ascending days, non-decreasing values */
    char currency[4];                      /* ISO 4217, e.g. "EUR" */
} sd_comp_policy;

/*
 * Parses tiers "2:500,5:1500" (more than 2 days: 500 minor units; more than
 * 5 days: 1500 in total) and a currency "EUR" into *out.  "" means no
 * compensation.  Days must ascend (0..365), values not decrease
 * (1..1000000000 minor units), at most SD_COMP_MAX_TIERS tiers; the
 * currency is three upper-case letters.  Fails with SL_INVALID_ARGUMENT
 * quoting the bad part.
 */
sl_status sd_comp_policy_parse(const char *tiers, const char *currency, sd_comp_policy *out,
                               sl_err *err);

typedef struct sd_comp_decision {
    int32_t slip_days;      /* current p50 - promised p50, at least 0 */
    int tier;               /* index of the highest tier reached, -1 for none */
    int64_t entitled_minor; /* total the delay is worth so far */
    int64_t grant_minor;    /* what to grant now: entitled - already granted, >= 0 */
} sd_comp_decision;

/*
 * Decides the compensation for an order whose p50 delivery date was
 * promised as promised_p50 and is now current_p50, when granted_minor has
 * already been granted for it.  An ETA that moved earlier is a slip of 0.
 * Fails with SL_INVALID_ARGUMENT when granted_minor is negative or the
 * policy's tiers are out of order.
 */
sl_status sd_comp_decide(const sd_comp_policy *p, sd_date promised_p50, sd_date current_p50,
                         int64_t granted_minor, sd_comp_decision *out, sl_err *err);

#define SD_COUPON_KEY_LEN 16
/* "SL-XXXX-XXXX-XXXX" and its NUL. */
#define SD_COUPON_CODE_LEN 18

/* Parses a coupon key given as 32 hexadecimal digits (configuration keeps
 * it as text).  Fails with SL_INVALID_ARGUMENT (without quoting the
 * secret). */
sl_status sd_coupon_key_parse(const char *hex, uint8_t key[SD_COUPON_KEY_LEN], sl_err *err);

/* The coupon code of slip number slip (1 for an order's first slip) of
 * order order_id (1..64 bytes) under key, into out.  Fails with
 * SL_INVALID_ARGUMENT for an empty or over-long order id or slip 0. */
sl_status sd_coupon_code(const uint8_t key[SD_COUPON_KEY_LEN], const char *order_id, uint32_t slip,
                         char out[SD_COUPON_CODE_LEN], sl_err *err);

/* SipHash-2-4 of data[0..len) under key (Aumasson & Bernstein, 2012);
 * exposed for its published test vectors. */
uint64_t sd_siphash24(const uint8_t key[SD_COUPON_KEY_LEN], const void *data, size_t len);

#endif
