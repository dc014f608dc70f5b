/*
 * inv_valid: request validation (see inv_valid.h).
 */
#include "inv_valid.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sl_page.h"

/* The grammar and the text rule are the suite's (sl_valid.h); these keep
 * inventory's names for them. */

bool inv_id_ok(const char *s, inv_id_kind kind)
{
    return sl_id_ok(s, kind);
}

sl_status inv_valid_id(const char *field, const char *value, inv_id_kind kind, sl_err *err)
{
    return sl_valid_id(field, value, kind, err);
}

sl_status inv_valid_opt_id(const char *field, const char *value, inv_id_kind kind, sl_err *err)
{
    return sl_valid_opt_id(field, value, kind, err);
}

sl_status inv_valid_text(const char *field, const char *value, size_t min, size_t max, sl_err *err)
{
    return sl_valid_text(field, value, min, max, err);
}

sl_status inv_valid_cutoff(const char *field, const char *value, int *minutes, sl_err *err)
{
    const char *v = value != NULL ? value : "";
    bool ok = strlen(v) == 5 && v[2] == ':';
    for (int i = 0; ok && i < 5; i++)
        if (i != 2 && !(v[i] >= '0' && v[i] <= '9'))
            ok = false;
    int h = ok ? (v[0] - '0') * 10 + (v[1] - '0') : 0;
    int m = ok ? (v[3] - '0') * 10 + (v[4] - '0') : 0;
    if (!ok || h > 23 || m > 59)
        return sl_err_field(err, field,
                            "%s \"%.20s\" is malformed: expected HH:MM between 00:00 and 23:59",
                            field, v);
    *minutes = h * 60 + m;
    return SL_OK;
}

void inv_format_cutoff(int minutes, char *buf)
{
    if (minutes < 0 || minutes > 1439)
        minutes = 0;
    snprintf(buf, 6, "%02d:%02d", minutes / 60, minutes % 60);
}

sl_status inv_valid_money(const char *field, const Shelfline__V1__Money *m, sl_err *err)
{
    if (m == NULL)
        return sl_err_field(err, field, "%s is required", field);
    if (m->minor_units < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s.minor_units must not be negative (got %lld)", field,
                          (long long)m->minor_units);
    const char *c = m->currency != NULL ? m->currency : "";
    bool ok = strlen(c) == 3;
    for (int i = 0; ok && i < 3; i++)
        ok = c[i] >= 'A' && c[i] <= 'Z';
    if (!ok)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "%s.currency \"%.16s\" is malformed: expected an ISO 4217 code like "
                          "\"USD\"",
                          field, c);
    return SL_OK;
}

/* ---- whole requests ---- */

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        sl_status st_ = (expr);                                                                    \
        if (st_ != SL_OK)                                                                          \
            return st_;                                                                            \
    } while (0)

static sl_status qty_range(const char *field, int64_t v, int64_t min, int64_t max, sl_err *err)
{
    if (v < min && min == 1)
        return sl_err_field(err, field, "%s must be positive (got %lld)", field, (long long)v);
    if (v < min)
        return sl_err_field(err, field, "%s must be at least %lld (got %lld)", field,
                            (long long)min, (long long)v);
    if (v > max)
        return sl_err_field(err, field, "%s must be at most %lld (got %lld)", field, (long long)max,
                            (long long)v);
    return SL_OK;
}

sl_status inv_valid_product(const Shelfline__V1__Product *p, sl_err *err)
{
    if (p == NULL)
        return sl_err_field(err, "product", "product is required");
    CHECK(inv_valid_id("product.sku", p->sku, INV_ID_SKU, err));
    CHECK(inv_valid_text("product.name", p->name, 1, INV_MAX_TEXT, err));
    CHECK(inv_valid_text("product.category", p->category, 1, 64, err));
    CHECK(inv_valid_text("product.brand", p->brand, 0, 64, err));
    CHECK(inv_valid_money("product.price", p->price, err));
    CHECK(qty_range("product.repeat_purchase_days", p->repeat_purchase_days, 0, 3650, err));
    if (p->n_seasonal_tags > INV_MAX_TAGS)
        return sl_err_field(err, "product.seasonal_tags",
                            "product.seasonal_tags has %zu tags (at most %d)", p->n_seasonal_tags,
                            INV_MAX_TAGS);
    for (size_t i = 0; i < p->n_seasonal_tags; i++) {
        char f[64];
        snprintf(f, sizeof f, "product.seasonal_tags[%zu]", i);
        CHECK(inv_valid_text(f, p->seasonal_tags[i], 1, 32, err));
        /* Tags go into a text[] literal: keep them to simple words. */
        for (const char *c = p->seasonal_tags[i]; *c != '\0'; c++)
            if (*c == '"' || *c == '\\' || *c == '{' || *c == '}' || *c == ',')
                return sl_err_field(err, f,
                                    "%s must not contain quotes, braces, commas or backslashes", f);
    }
    return SL_OK;
}

sl_status inv_valid_warehouse(const Shelfline__V1__Warehouse *w, int *cutoff_minutes, sl_err *err)
{
    if (w == NULL)
        return sl_err_field(err, "warehouse", "warehouse is required");
    CHECK(inv_valid_id("warehouse.warehouse_id", w->warehouse_id, INV_ID_WAREHOUSE, err));
    CHECK(inv_valid_text("warehouse.name", w->name, 1, INV_MAX_TEXT, err));
    CHECK(inv_valid_id("warehouse.region", w->region, INV_ID_REGION, err));
    switch (w->kind) {
    case SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER:
    case SHELFLINE__V1__WAREHOUSE__KIND__STORE:
    case SHELFLINE__V1__WAREHOUSE__KIND__MICRO_FULFILLMENT:
    case SHELFLINE__V1__WAREHOUSE__KIND__THIRD_PARTY_LOGISTICS:
        break;
    case SHELFLINE__V1__WAREHOUSE__KIND__KIND_UNSPECIFIED:
    case _SHELFLINE__V1__WAREHOUSE__KIND_IS_INT_SIZE:
    default:
        return sl_err_field(
            err, "warehouse.kind",
            "warehouse.kind must be DISTRIBUTION_CENTER, STORE, MICRO_FULFILLMENT or "
            "THIRD_PARTY_LOGISTICS (got %d)",
            (int)w->kind);
    }
    CHECK(inv_valid_text("warehouse.location", w->location, 0, INV_MAX_TEXT, err));
    CHECK(inv_valid_text("warehouse.time_zone", w->time_zone, 1, 64, err));
    CHECK(inv_valid_cutoff("warehouse.ship_cutoff", w->ship_cutoff, cutoff_minutes, err));
    return SL_OK;
}

sl_status inv_valid_calendar(const Shelfline__V1__SetWarehouseCalendarRequest *r, unsigned *mask,
                             sl_err *err)
{
    CHECK(inv_valid_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err));
    if (r->n_ship_weekdays == 0)
        return sl_err_field(err, "ship_weekdays",
                            "ship_weekdays must name at least one day (a warehouse that never "
                            "ships is one set inactive)");
    unsigned m = 0;
    for (size_t i = 0; i < r->n_ship_weekdays; i++) {
        int d = (int)r->ship_weekdays[i];
        char f[48];
        snprintf(f, sizeof f, "ship_weekdays[%zu]", i);
        if (d < SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY ||
            d > SHELFLINE__V1__WEEKDAY__WEEKDAY_SUNDAY)
            return sl_err_field(err, f,
                                "%s must be a day from WEEKDAY_MONDAY to WEEKDAY_SUNDAY "
                                "(got %d)",
                                f, d);
        unsigned bit = 1u << (unsigned)(d - 1);
        if (m & bit)
            return sl_err_field(err, f, "%s repeats a day already given", f);
        m |= bit;
    }
    if (r->n_holidays > INV_MAX_HOLIDAYS)
        return sl_err_field(err, "holidays", "holidays has %zu dates (at most %d)", r->n_holidays,
                            INV_MAX_HOLIDAYS);
    for (size_t i = 0; i < r->n_holidays; i++) {
        char f[48];
        snprintf(f, sizeof f, "holidays[%zu]", i);
        CHECK(sl_valid_date(f, r->holidays[i], err));
    }
    *mask = m;
    return SL_OK;
}

sl_status inv_valid_transit(const Shelfline__V1__TransitTime *t, sl_err *err)
{
    if (t == NULL)
        return sl_err_field(err, "transit_time", "transit_time is required");
    CHECK(inv_valid_id("transit_time.warehouse_id", t->warehouse_id, INV_ID_WAREHOUSE, err));
    CHECK(inv_valid_id("transit_time.region", t->region, INV_ID_REGION, err));
    CHECK(qty_range("transit_time.p50_days", t->p50_days, 0, 365, err));
    if (t->p90_days < t->p50_days || t->p90_days > 365)
        return sl_err_field(err, "transit_time.p90_days",
                            "transit_time.p90_days must be between p50_days (%d) and 365 (got %d)",
                            t->p50_days, t->p90_days);
    return SL_OK;
}

sl_status inv_valid_adjust(const Shelfline__V1__AdjustStockRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("request_id", r->request_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("sku", r->sku, INV_ID_SKU, err));
    CHECK(inv_valid_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err));
    if (r->delta == 0)
        return sl_err_field(err, "delta", "delta must not be 0");
    if (r->delta > INV_MAX_QTY || r->delta < -INV_MAX_QTY)
        return sl_err_field(err, "delta", "delta must be within +-%lld (got %lld)", INV_MAX_QTY,
                            (long long)r->delta);
    switch (r->reason) {
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT:
        if (r->delta < 0)
            return sl_err_field(err, "delta",
                                "delta must be positive for reason RECEIPT (got %lld)",
                                (long long)r->delta);
        break;
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__DAMAGE:
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__SHRINKAGE:
        if (r->delta > 0)
            return sl_err_field(
                err, "delta", "delta must be negative for reason %s (got %lld)",
                r->reason == SHELFLINE__V1__LEDGER_ENTRY__REASON__DAMAGE ? "DAMAGE" : "SHRINKAGE",
                (long long)r->delta);
        break;
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__COUNT_CORRECTION:
        break;
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__REASON_UNSPECIFIED:
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__CYCLE_COUNT:
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__SHIPMENT:
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__TRANSFER_OUT:
    case SHELFLINE__V1__LEDGER_ENTRY__REASON__INBOUND_RECEIPT:
    case _SHELFLINE__V1__LEDGER_ENTRY__REASON_IS_INT_SIZE:
    default:
        return sl_err_field(
            err, "reason", "reason must be RECEIPT, COUNT_CORRECTION, DAMAGE or SHRINKAGE (got %d)",
            (int)r->reason);
    }
    CHECK(inv_valid_text("reference", r->reference, 0, INV_MAX_TEXT, err));
    return SL_OK;
}

sl_status inv_valid_count(const Shelfline__V1__SetStockCountRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("request_id", r->request_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("sku", r->sku, INV_ID_SKU, err));
    CHECK(inv_valid_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err));
    CHECK(qty_range("counted", r->counted, 0, INV_MAX_QTY, err));
    CHECK(inv_valid_text("reference", r->reference, 0, INV_MAX_TEXT, err));
    return SL_OK;
}

sl_status inv_valid_policy(const Shelfline__V1__SetStockPolicyRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("sku", r->sku, INV_ID_SKU, err));
    CHECK(inv_valid_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err));
    CHECK(qty_range("safety_stock", r->safety_stock, 0, INV_MAX_QTY, err));
    CHECK(qty_range("low_stock_threshold", r->low_stock_threshold, 0, INV_MAX_QTY, err));
    return SL_OK;
}

/* A batch of SKUs (GetAvailability, GetAverageStock): 1 to 1,000 ids. */
static sl_status valid_skus(char *const *skus, size_t n, sl_err *err)
{
    if (n == 0)
        return sl_err_field(err, "skus", "skus must not be empty");
    if (n > INV_MAX_AVAIL_SKUS)
        return sl_err_field(err, "skus", "skus has %zu entries (at most %d)", n,
                            INV_MAX_AVAIL_SKUS);
    for (size_t i = 0; i < n; i++) {
        char f[32];
        snprintf(f, sizeof f, "skus[%zu]", i);
        CHECK(inv_valid_id(f, skus[i], INV_ID_SKU, err));
    }
    return SL_OK;
}

sl_status inv_valid_availability(const Shelfline__V1__GetAvailabilityRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("region", r->region, INV_ID_REGION, err));
    CHECK(valid_skus(r->skus, r->n_skus, err));
    return SL_OK;
}

sl_status inv_valid_average_stock(const Shelfline__V1__GetAverageStockRequest *r, int64_t now_ms,
                                  int64_t *to_ms, sl_err *err)
{
    CHECK(valid_skus(r->skus, r->n_skus, err));
    CHECK(inv_valid_opt_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err));
    if (r->from_at_ms <= 0)
        return sl_err_field(err, "from_at_ms", "from_at_ms must be positive (got %" PRId64 ")",
                            r->from_at_ms);
    *to_ms = r->to_at_ms == 0 ? now_ms : r->to_at_ms;
    /* A second of slack for clocks of the caller's and ours. */
    if (*to_ms > now_ms + 1000)
        return sl_err_field(err, "to_at_ms", "to_at_ms is in the future");
    if (*to_ms <= r->from_at_ms)
        return sl_err_field(err, "to_at_ms",
                            "to_at_ms must be after from_at_ms (%" PRId64 " <= %" PRId64 ")",
                            *to_ms, r->from_at_ms);
    return SL_OK;
}

sl_status inv_valid_reserve(const Shelfline__V1__ReserveRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("reservation_id", r->reservation_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("customer_id", r->customer_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("region", r->region, INV_ID_REGION, err));
    if (r->n_lines == 0)
        return sl_err_field(err, "lines", "lines must not be empty");
    if (r->n_lines > INV_MAX_LINES)
        return sl_err_field(err, "lines", "lines has %zu entries (at most %d)", r->n_lines,
                            INV_MAX_LINES);
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shelfline__V1__ReserveLine *l = r->lines[i];
        char f[48];
        snprintf(f, sizeof f, "lines[%zu].sku", i);
        CHECK(inv_valid_id(f, l->sku, INV_ID_SKU, err));
        snprintf(f, sizeof f, "lines[%zu].qty", i);
        CHECK(qty_range(f, l->qty, 1, INV_MAX_QTY_LINE, err));
        snprintf(f, sizeof f, "lines[%zu].promotion_id", i);
        CHECK(inv_valid_opt_id(f, l->promotion_id, INV_ID_KEY, err));
    }
    if (r->hold_ttl_ms < 0 || r->hold_ttl_ms > INV_MAX_HOLD_MS)
        return sl_err_field(err, "hold_ttl_ms",
                            "hold_ttl_ms must be between 0 (default) and %lld (got %lld)",
                            INV_MAX_HOLD_MS, (long long)r->hold_ttl_ms);
    return SL_OK;
}

sl_status inv_valid_promotion(const Shelfline__V1__Promotion *p, sl_err *err)
{
    if (p == NULL)
        return sl_err_field(err, "promotion", "promotion is required");
    CHECK(inv_valid_id("promotion.promotion_id", p->promotion_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("promotion.sku", p->sku, INV_ID_SKU, err));
    CHECK(qty_range("promotion.quota", p->quota, 1, INV_MAX_QTY, err));
    CHECK(qty_range("promotion.per_customer_limit", p->per_customer_limit, 1, INV_MAX_QTY, err));
    if (p->starts_at_ms <= 0)
        return sl_err_field(err, "promotion.starts_at_ms",
                            "promotion.starts_at_ms must be positive (got %lld)",
                            (long long)p->starts_at_ms);
    if (p->ends_at_ms <= p->starts_at_ms)
        return sl_err_field(err, "promotion.ends_at_ms",
                            "promotion.ends_at_ms must be after starts_at_ms (got %lld <= %lld)",
                            (long long)p->ends_at_ms, (long long)p->starts_at_ms);
    CHECK(inv_valid_money("promotion.price", p->price, err));
    CHECK(inv_valid_opt_id("promotion.region", p->region, INV_ID_REGION, err));
    return SL_OK;
}

sl_status inv_valid_stock_fence(const Shelfline__V1__StockFence *f, sl_err *err)
{
    if (f == NULL)
        return sl_err_field(err, "fence", "fence is required");
    CHECK(inv_valid_id("fence.fence_id", f->fence_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("fence.sku", f->sku, INV_ID_SKU, err));
    CHECK(inv_valid_opt_id("fence.warehouse_id", f->warehouse_id, INV_ID_WAREHOUSE, err));
    CHECK(inv_valid_opt_id("fence.region", f->region, INV_ID_REGION, err));
    if ((f->warehouse_id[0] == '\0') == (f->region[0] == '\0'))
        return sl_err_field(err, "fence.warehouse_id",
                            "exactly one of fence.warehouse_id and fence.region must be set");
    CHECK(qty_range("fence.qty", f->qty, 1, INV_MAX_QTY, err));
    CHECK(inv_valid_id("fence.segment", f->segment, INV_ID_SKU, err));
    if (f->starts_at_ms <= 0)
        return sl_err_field(err, "fence.starts_at_ms",
                            "fence.starts_at_ms must be positive (got %lld)",
                            (long long)f->starts_at_ms);
    if (f->ends_at_ms <= f->starts_at_ms)
        return sl_err_field(err, "fence.ends_at_ms",
                            "fence.ends_at_ms must be after starts_at_ms (got %lld <= %lld)",
                            (long long)f->ends_at_ms, (long long)f->starts_at_ms);
    return SL_OK;
}

sl_status inv_valid_fence_eligibility(const Shelfline__V1__SetStockFenceEligibilityRequest *r,
                                      sl_err *err)
{
    CHECK(inv_valid_id("fence_id", r->fence_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("segment", r->segment, INV_ID_SKU, err));
    if (r->n_customer_ids > INV_MAX_FENCE_MEMBERS)
        return sl_err_field(err, "customer_ids", "customer_ids has %zu entries (at most %d)",
                            r->n_customer_ids, INV_MAX_FENCE_MEMBERS);
    for (size_t i = 0; i < r->n_customer_ids; i++) {
        char f[48];
        snprintf(f, sizeof f, "customer_ids[%zu]", i);
        CHECK(inv_valid_id(f, r->customer_ids[i], INV_ID_KEY, err));
    }
    return SL_OK;
}

sl_status inv_valid_inbound(const Shelfline__V1__CreateInboundRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("inbound_id", r->inbound_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("sku", r->sku, INV_ID_SKU, err));
    CHECK(inv_valid_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err));
    CHECK(qty_range("qty", r->qty, 1, INV_MAX_QTY, err));
    if (r->expected_at_ms <= 0)
        return sl_err_field(err, "expected_at_ms", "expected_at_ms must be positive (got %lld)",
                            (long long)r->expected_at_ms);
    CHECK(inv_valid_text("supplier", r->supplier, 0, INV_MAX_TEXT, err));
    CHECK(inv_valid_text("reference", r->reference, 0, INV_MAX_TEXT, err));
    return SL_OK;
}

sl_status inv_valid_delay(const Shelfline__V1__DelayInboundRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("inbound_id", r->inbound_id, INV_ID_KEY, err));
    if (r->new_expected_at_ms <= 0)
        return sl_err_field(err, "new_expected_at_ms",
                            "new_expected_at_ms must be positive (got %lld)",
                            (long long)r->new_expected_at_ms);
    CHECK(inv_valid_text("reason", r->reason, 1, INV_MAX_TEXT, err));
    return SL_OK;
}

sl_status inv_valid_receive(const Shelfline__V1__ReceiveInboundRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("inbound_id", r->inbound_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("receipt_id", r->receipt_id, INV_ID_KEY, err));
    CHECK(qty_range("qty", r->qty, 1, INV_MAX_QTY, err));
    return SL_OK;
}

sl_status inv_valid_transfer(const Shelfline__V1__TransferRequest *r, sl_err *err)
{
    CHECK(inv_valid_id("transfer_id", r->transfer_id, INV_ID_KEY, err));
    CHECK(inv_valid_id("sku", r->sku, INV_ID_SKU, err));
    CHECK(inv_valid_id("from_warehouse_id", r->from_warehouse_id, INV_ID_WAREHOUSE, err));
    CHECK(inv_valid_id("to_warehouse_id", r->to_warehouse_id, INV_ID_WAREHOUSE, err));
    if (strcmp(r->from_warehouse_id, r->to_warehouse_id) == 0)
        return sl_err_field(err, "to_warehouse_id",
                            "to_warehouse_id must differ from from_warehouse_id (both \"%s\")",
                            r->to_warehouse_id);
    CHECK(qty_range("qty", r->qty, 1, INV_MAX_QTY, err));
    CHECK(inv_valid_text("reference", r->reference, 0, INV_MAX_TEXT, err));
    return SL_OK;
}

/* ---- validate slots ---- */

sl_status inv_valid_adjust_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_adjust((const Shelfline__V1__AdjustStockRequest *)req, err);
}

sl_status inv_valid_count_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_count((const Shelfline__V1__SetStockCountRequest *)req, err);
}

sl_status inv_valid_ledger_request(const ProtobufCMessage *req, sl_err *err)
{
    const Shelfline__V1__ListLedgerRequest *r = (const Shelfline__V1__ListLedgerRequest *)req;
    int limit;
    char before[32];
    sl_status st = inv_valid_id("sku", r->sku, INV_ID_SKU, err);
    if (st == SL_OK)
        st = inv_valid_opt_id("warehouse_id", r->warehouse_id, INV_ID_WAREHOUSE, err);
    if (st == SL_OK)
        st = sl_page_read(r->page, &limit, before, sizeof before, err);
    if (st != SL_OK)
        return st;
    /* The token is a ledger id this RPC issued: digits alone. */
    for (const char *p = before; *p != '\0'; p++)
        if (*p < '0' || *p > '9')
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "page.page_token is not a token this RPC issued");
    return SL_OK;
}

sl_status inv_valid_policy_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_policy((const Shelfline__V1__SetStockPolicyRequest *)req, err);
}

sl_status inv_valid_availability_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_availability((const Shelfline__V1__GetAvailabilityRequest *)req, err);
}

sl_status inv_valid_reserve_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_reserve((const Shelfline__V1__ReserveRequest *)req, err);
}

sl_status inv_valid_inbound_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_inbound((const Shelfline__V1__CreateInboundRequest *)req, err);
}

sl_status inv_valid_delay_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_delay((const Shelfline__V1__DelayInboundRequest *)req, err);
}

sl_status inv_valid_receive_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_receive((const Shelfline__V1__ReceiveInboundRequest *)req, err);
}

sl_status inv_valid_transfer_request(const ProtobufCMessage *req, sl_err *err)
{
    return inv_valid_transfer((const Shelfline__V1__TransferRequest *)req, err);
}
