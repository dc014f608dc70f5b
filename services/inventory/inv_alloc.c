/*
 * inv_alloc: allocation and region status (see inv_alloc.h).
 *
 * Candidate lists are short (the warehouses serving one region), so orders
 * are computed with insertion sorts over small index arrays on the stack.
 */
#include "inv_alloc.h"

#include <string.h>

/* Enough for any realistic network; larger candidate lists are cut (the
 * farthest ones are ignored) rather than failing. */
#define MAX_CANDIDATES 256

static int near_cmp(const inv_source *a, const inv_source *b)
{
    if (a->p50 != b->p50)
        return a->p50 < b->p50 ? -1 : 1;
    if (a->p90 != b->p90)
        return a->p90 < b->p90 ? -1 : 1;
    return strcmp(a->warehouse_id, b->warehouse_id);
}

/* Nearest first; with prefer_big, among equally near the larger first. */
static int stock_cmp(const inv_source *a, const inv_source *b, bool prefer_big)
{
    if (a->p50 != b->p50)
        return a->p50 < b->p50 ? -1 : 1;
    if (a->p90 != b->p90)
        return a->p90 < b->p90 ? -1 : 1;
    if (prefer_big && a->available != b->available)
        return a->available > b->available ? -1 : 1;
    return near_cmp(a, b);
}

static size_t order_stock(const inv_source *s, size_t n, bool prefer_big, int *idx)
{
    if (n > MAX_CANDIDATES)
        n = MAX_CANDIDATES;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && stock_cmp(&s[idx[j - 1]], &s[i], prefer_big) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = (int)i;
    }
    return n;
}

static int inbound_cmp(const inv_inbound_src *a, const inv_inbound_src *b)
{
    if (a->expected_at_ms != b->expected_at_ms)
        return a->expected_at_ms < b->expected_at_ms ? -1 : 1;
    if (a->p50 != b->p50)
        return a->p50 < b->p50 ? -1 : 1;
    if (a->p90 != b->p90)
        return a->p90 < b->p90 ? -1 : 1;
    return strcmp(a->inbound_id, b->inbound_id);
}

static size_t order_inbound(const inv_inbound_src *s, size_t n, int *idx)
{
    if (n > MAX_CANDIDATES)
        n = MAX_CANDIDATES;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && inbound_cmp(&s[idx[j - 1]], &s[i]) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = (int)i;
    }
    return n;
}

static void add_part(inv_alloc_out *out, int source, int inbound, int64_t qty)
{
    out->parts[out->nparts++] = (inv_part){source, inbound, qty};
}

bool inv_alloc_line(const inv_alloc_in *in, inv_alloc_out *out)
{
    int sidx[MAX_CANDIDATES], iidx[MAX_CANDIDATES];
    out->nparts = 0;
    out->could_have = 0;
    out->reason = NULL;
    int64_t want = in->qty;
    int64_t stock_total = 0, inbound_total = 0;
    for (size_t i = 0; i < in->nstock; i++)
        if (in->stock[i].available > 0)
            stock_total += in->stock[i].available;
    for (size_t i = 0; i < in->ninbound; i++)
        if (in->inbound[i].unallocated > 0)
            inbound_total += in->inbound[i].unallocated;

    /* 1. The nearest single warehouse that holds the whole line. */
    size_t ns = order_stock(in->stock, in->nstock, false, sidx);
    for (size_t k = 0; k < ns; k++) {
        if (in->stock[sidx[k]].available >= want) {
            add_part(out, sidx[k], -1, want);
            return true;
        }
    }

    /* 2. Split over the nearest warehouses. */
    if (in->allow_split && stock_total >= want) {
        ns = order_stock(in->stock, in->nstock, true, sidx);
        int64_t left = want;
        for (size_t k = 0; k < ns && left > 0; k++) {
            int64_t a = in->stock[sidx[k]].available;
            if (a <= 0)
                continue;
            int64_t take = a < left ? a : left;
            add_part(out, sidx[k], -1, take);
            left -= take;
        }
        return true;
    }

    /* 3. Backorder the shortfall against inbound shipments. */
    if (in->allow_backorder && in->ninbound > 0) {
        size_t ni = order_inbound(in->inbound, in->ninbound, iidx);
        if (in->allow_split) {
            if (stock_total + inbound_total >= want) {
                ns = order_stock(in->stock, in->nstock, true, sidx);
                int64_t left = want;
                for (size_t k = 0; k < ns && left > 0; k++) {
                    int64_t a = in->stock[sidx[k]].available;
                    if (a <= 0)
                        continue;
                    int64_t take = a < left ? a : left;
                    add_part(out, sidx[k], -1, take);
                    left -= take;
                }
                for (size_t k = 0; k < ni && left > 0; k++) {
                    int64_t a = in->inbound[iidx[k]].unallocated;
                    if (a <= 0)
                        continue;
                    int64_t take = a < left ? a : left;
                    add_part(out, -1, iidx[k], take);
                    left -= take;
                }
                return true;
            }
        } else {
            /* One warehouse: its stock, then its own inbound shipments. */
            ns = order_stock(in->stock, in->nstock, false, sidx);
            for (size_t k = 0; k < ns; k++) {
                const inv_source *w = &in->stock[sidx[k]];
                int64_t have = w->available > 0 ? w->available : 0;
                for (size_t j = 0; j < ni && have < want; j++) {
                    const inv_inbound_src *b = &in->inbound[iidx[j]];
                    if (b->unallocated > 0 && strcmp(b->warehouse_id, w->warehouse_id) == 0)
                        have += b->unallocated;
                }
                if (have < want)
                    continue;
                int64_t left = want;
                if (w->available > 0) {
                    int64_t take = w->available < left ? w->available : left;
                    add_part(out, sidx[k], -1, take);
                    left -= take;
                }
                for (size_t j = 0; j < ni && left > 0; j++) {
                    const inv_inbound_src *b = &in->inbound[iidx[j]];
                    if (b->unallocated <= 0 || strcmp(b->warehouse_id, w->warehouse_id) != 0)
                        continue;
                    int64_t take = b->unallocated < left ? b->unallocated : left;
                    add_part(out, -1, iidx[j], take);
                    left -= take;
                }
                return true;
            }
        }
    }

    /* 4. Short. */
    out->could_have = stock_total + (in->allow_backorder ? inbound_total : 0);
    if (out->could_have >= want)
        out->reason = in->allow_backorder ? "no single warehouse can cover the line from its "
                                            "stock and inbound shipments (split not allowed)"
                                          : "no single warehouse holds the whole line (split not "
                                            "allowed)";
    else if (in->allow_backorder)
        out->reason = "not enough stock and unallocated inbound units in the region";
    else
        out->reason = "not enough stock in the region";
    return false;
}

inv_region_status inv_region_status_of(int64_t available, int64_t threshold)
{
    if (available <= 0)
        return INV_OUT_OF_STOCK;
    if (available <= threshold)
        return INV_LOW_STOCK;
    return INV_IN_STOCK;
}

const char *inv_region_transition(int64_t before, int64_t before_threshold, int64_t after,
                                  int64_t after_threshold)
{
    inv_region_status b = inv_region_status_of(before, before_threshold);
    inv_region_status a = inv_region_status_of(after, after_threshold);
    if (b != INV_OUT_OF_STOCK && a == INV_OUT_OF_STOCK)
        return "OUT_OF_STOCK";
    if (b == INV_OUT_OF_STOCK && a != INV_OUT_OF_STOCK)
        return "BACK_IN_STOCK";
    if (b == INV_IN_STOCK && a == INV_LOW_STOCK)
        return "LOW_STOCK";
    return NULL;
}
