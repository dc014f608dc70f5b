/*
 * fc_transfer: surplus, shortage and the greedy matching of
 * SuggestTransfers (see fc_transfer.h).
 */
#include "fc_transfer.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Days from today until a region's next inbound, within target_days (it
 * may be negative for an inbound already late: then no days count). */
static long days_until_inbound(const fc_transfer_region *r, int target_days)
{
    long until = r->days_to_inbound == INT32_MAX ? target_days : r->days_to_inbound;
    return until > target_days ? target_days : until;
}

void fc_transfer_positions(fc_transfer_region *regions, size_t n, int target_days)
{
    for (size_t i = 0; i < n; i++) {
        fc_transfer_region *x = &regions[i];
        double need_target = 0, need_inbound = 0;
        long until = days_until_inbound(x, target_days);
        for (int k = 0; k < target_days; k++) {
            need_target += x->demand[k];
            if (k < until)
                need_inbound += x->demand[k];
        }
        x->surplus = 0;
        x->shortage = 0;
        if ((double)x->available > need_target)
            x->surplus = (int64_t)floor((double)x->available - need_target);
        if (need_inbound > (double)x->available + 0.5)
            x->shortage = (int64_t)ceil(need_inbound - (double)x->available);
    }
}

/* Transit days from warehouse to region, or -1 when it does not ship
 * there. */
static int32_t transit(const fc_transfer_route *routes, size_t n, const char *warehouse,
                       const char *region)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(routes[i].warehouse_id, warehouse) == 0 && strcmp(routes[i].region, region) == 0)
            return routes[i].p50_days;
    return -1;
}

/* The unserved region with the largest shortage (the first of equals), or
 * -1 when none is short. */
static long most_short(const fc_transfer_region *regions, size_t n, const bool *served)
{
    long best = -1;
    for (size_t i = 0; i < n; i++)
        if (!served[i] && regions[i].shortage > 0 &&
            (best < 0 || regions[i].shortage > regions[best].shortage))
            best = (long)i;
    return best;
}

size_t fc_transfer_match(fc_transfer_region *regions, size_t n, int target_days,
                         const fc_transfer_route *routes, size_t n_routes, fc_transfer_move *moves)
{
    bool served[FC_TRANSFER_MAX_REGIONS] = {false};
    if (n > FC_TRANSFER_MAX_REGIONS)
        n = FC_TRANSFER_MAX_REGIONS;
    size_t n_moves = 0;
    long t;
    while ((t = most_short(regions, n, served)) >= 0) {
        fc_transfer_region *to = &regions[t];
        served[t] = true;
        /* The surplus region whose source ships to `to` fastest (the first
         * of equals). */
        long from = -1;
        int32_t days = 0;
        for (size_t i = 0; i < n; i++) {
            if ((long)i == t || regions[i].surplus <= 0 || regions[i].source_wh == NULL)
                continue;
            int32_t d = transit(routes, n_routes, regions[i].source_wh, to->region);
            if (d >= 0 && (from < 0 || d < days))
                from = (long)i, days = d;
        }
        if (from < 0 || to->dest_wh == NULL)
            continue;
        /* What the region needs after the move arrives, less what it still
         * holds then. */
        double before = 0, after = 0;
        long until = days_until_inbound(to, target_days);
        for (long k = 0; k < until; k++)
            *(k < days ? &before : &after) += to->demand[k];
        double left = (double)to->available - before;
        int64_t qty = (int64_t)ceil(after - (left > 0 ? left : 0) - 1e-9);
        if (qty > regions[from].surplus)
            qty = regions[from].surplus;
        if (qty > to->shortage)
            qty = to->shortage;
        if (qty <= 0)
            continue;
        regions[from].surplus -= qty;
        moves[n_moves++] = (fc_transfer_move){(size_t)from, (size_t)t, qty, days};
    }
    return n_moves;
}
