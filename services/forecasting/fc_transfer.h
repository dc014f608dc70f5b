/*
 * fc_transfer: which stock of one SKU to move between regions
 * (SuggestTransfers) -- a pure function of numbers and names (no gRPC, no
 * database), so every suggestion can be checked by hand in unit tests.
 *
 * A region has a surplus when it holds more than target_days of its
 * expected demand, and a shortage when its demand until its next inbound
 * (or target_days, if sooner or none) exceeds what it holds.  The matching
 * is greedy: the short regions, largest shortage first, each take one move
 * from the surplus region whose source warehouse ships to it fastest; the
 * move covers the demand from arrival until the next inbound (or the
 * target), less what the region still holds on arrival, capped by the
 * shortage and by what the source can spare.
 */
#ifndef FC_TRANSFER_H
#define FC_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#define FC_TRANSFER_MAX_REGIONS 64

typedef struct fc_transfer_region {
    const char *region;
    int64_t available;
    const double *demand;      /* target_days days of expected demand, from today */
    int32_t days_to_inbound;   /* to its next open inbound; INT32_MAX: none */
    const char *source_wh;     /* moves leave from it (most available); NULL: none */
    const char *dest_wh;       /* moves arrive at it; NULL: none */
    int64_t surplus, shortage; /* out (fc_transfer_positions); surplus spent by the matching */
} fc_transfer_region;

/* A warehouse ships to a customer region in p50_days (inventory's transit
 * times). */
typedef struct fc_transfer_route {
    const char *warehouse_id;
    const char *region;
    int32_t p50_days;
} fc_transfer_route;

typedef struct fc_transfer_move {
    size_t from, to; /* indexes of regions */
    int64_t qty;
    int32_t transit_days;
} fc_transfer_move;

/* Sets each region's surplus and shortage for target_days (>= 1). */
void fc_transfer_positions(fc_transfer_region *regions, size_t n, int target_days);

/* The greedy matching over regions with their positions set (n at most
 * FC_TRANSFER_MAX_REGIONS): writes the moves into moves (room for n) in
 * the order they were decided and returns how many.  Each move's quantity
 * is taken from its source region's surplus; shortages are left as they
 * were.  A short region no surplus region's source warehouse ships to, or
 * without a destination warehouse, gets no move. */
size_t fc_transfer_match(fc_transfer_region *regions, size_t n, int target_days,
                         const fc_transfer_route *routes, size_t n_routes, fc_transfer_move *moves);

#endif
