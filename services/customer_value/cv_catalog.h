/*
 * cv_catalog: what the customer-value service asks the inventory service --
 * its product catalogue (category, repeat-purchase cycle, seasonal tags)
 * and a region's availability of SKUs -- over gRPC on the service's shared
 * inventory channel.
 *
 * The catalogue is cached as an immutable, reference-counted snapshot,
 * reloaded (ListProducts, paged) when older than CV_CATALOG_TTL_MS or when a
 * caller needs a SKU it lacks and the snapshot is older than
 * CV_CATALOG_MIN_AGE_MS.  Availability is never cached: reminders and
 * recommendations must follow stock as it changes.  Every call carries a
 * deadline within the caller's; when inventory cannot be asked the status
 * is UNAVAILABLE, so callers never fall back to unfiltered data.
 */
#ifndef CV_CATALOG_H
#define CV_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_server.h"
#include "sl_service.h"

#define CV_CATALOG_TTL_MS 60000
#define CV_CATALOG_MIN_AGE_MS 1000
/* SKUs per GetAvailability call (inventory takes at most 1,000). */
#define CV_AVAIL_BATCH 500
/* Time allowed for one call to inventory (within the caller's deadline). */
#define CV_INVENTORY_TIMEOUT_MS 3000

/* Seasonal tags the recommender knows (bit i of cv_product.tags). */
#define CV_TAG_LIST(X)                                                                             \
    X(BLACK_FRIDAY, "black-friday")                                                                \
    X(CHRISTMAS, "christmas")                                                                      \
    X(BACK_TO_SCHOOL, "back-to-school")                                                            \
    X(SUMMER, "summer")                                                                            \
    X(WINTER, "winter")

typedef struct cv_product {
    const char *sku, *category;
    const char *name, *brand; /* brand may be "" */
    int64_t price_minor;      /* list price */
    const char *currency;
    int32_t repeat_days; /* 0: not a repeat-purchase item */
    uint32_t tags;       /* CV_TAG_* bits */
} cv_product;

typedef struct cv_snapshot cv_snapshot;
typedef struct cv_catalog cv_catalog;

/* Creates the cache for svc's inventory peer; nothing is loaded yet.  The
 * caller owns it (cv_catalog_destroy).  NULL when out of memory. */
cv_catalog *cv_catalog_create(sl_service *svc);
void cv_catalog_destroy(cv_catalog *c);

/* A snapshot holding every SKU in skus (those inventory does not know are
 * simply absent), loading or reloading as described above; release it with
 * cv_catalog_release.  UNAVAILABLE when inventory cannot be asked and no
 * snapshot exists yet (a stale one is used when a reload fails). */
sl_status cv_catalog_acquire(cv_catalog *c, sl_call *call, const char *const *skus, size_t n,
                             cv_snapshot **out, sl_err *err);
void cv_catalog_release(cv_catalog *c, cv_snapshot *s);

/* The product with this SKU in s, or NULL. */
const cv_product *cv_snapshot_find(const cv_snapshot *s, const char *sku);
/* All products of s, in SKU order. */
const cv_product *cv_snapshot_products(const cv_snapshot *s, size_t *n);

/* True when a tag of tags is in season on day (days since 1970-01-01):
 * black-friday Nov 15-30, christmas Nov 20-Dec 24, back-to-school Aug 1-Sep
 * 15, summer Jun-Aug, winter Dec-Feb. */
bool cv_tags_in_season(uint32_t tags, int32_t day);

/* Units available in region for each of skus[0..n-1] into available[]
 * (every SKU must be in the catalogue).  In batches of CV_AVAIL_BATCH.  A
 * region no active warehouse serves has nothing available (all zeros).
 * UNAVAILABLE (naming the cause) when inventory cannot be asked,
 * DEADLINE_EXCEEDED when the call's deadline leaves no time. */
sl_status cv_catalog_availability(cv_catalog *c, sl_call *call, const char *region,
                                  const char *const *skus, size_t n, int64_t *available,
                                  sl_err *err);

/* How a SKU stands in a region: units available, "only N left" (N when
 * inventory reports low stock, else 0), and the transit days (p50, p90)
 * from the nearest serving warehouse with units (0 when none has any). */
typedef struct cv_offer {
    int64_t available, only_left;
    int32_t transit_p50, transit_p90;
} cv_offer;

/* cv_catalog_availability with the whole offer per SKU into offers[]
 * (available may be NULL, and so may offers); the same calls and
 * statuses. */
sl_status cv_catalog_offer(cv_catalog *c, sl_call *call, const char *region,
                           const char *const *skus, size_t n, int64_t *available, cv_offer *offers,
                           sl_err *err);

/* Inventory's promotion promotion_id (GetPromotion) into a.  NOT_FOUND
 * naming promotion_id when inventory knows none; UNAVAILABLE when it
 * cannot be asked. */
sl_status cv_catalog_promotion(cv_catalog *c, sl_call *call, const char *promotion_id, sl_arena *a,
                               Shelfline__V1__Promotion **out, sl_err *err);

/* What of promotion p reaches region: out->available (and only_left) the
 * fenced units still free in the warehouses serving region, the transit
 * (p50, p90) from the nearest of them holding any; all 0 when p is for
 * another region or no warehouse with its fence serves region. */
sl_status cv_catalog_promotion_reach(cv_catalog *c, sl_call *call,
                                     const Shelfline__V1__Promotion *p, const char *region,
                                     cv_offer *out, sl_err *err);

#endif
