/*
 * sd_valid: the service-desk request checks (see sd_valid.h).
 */
#include "sd_valid.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_classify.h"
#include "sd_time.h"
#include "sl_page.h"
#include "sl_valid.h"

sl_status sd_valid_id(const char *field, const char *value, sl_err *err)
{
    return sl_valid_id(field, value, SL_ID, err);
}

sl_status sd_valid_page(const Shelfline__V1__PageRequest *page, int *limit, char *after, size_t cap,
                        sl_err *err)
{
    sl_status st = sl_page_read(page, limit, after, cap, err);
    if (st == SL_OK && page == NULL)
        *limit = SL_PAGE_MAX;
    return st;
}

sl_status sd_valid_page_key(char *key, int64_t *ms, const char **id, sl_err *err)
{
    *ms = INT64_MIN;
    *id = "";
    if (key[0] == '\0')
        return SL_OK;
    char *colon = strchr(key, ':'), *end;
    if (colon == NULL || colon == key || colon[1] == '\0')
        return sl_err_field(err, "page.page_token", "page.page_token is malformed");
    *colon = '\0';
    *ms = strtoll(key, &end, 10);
    if (*end != '\0')
        return sl_err_field(err, "page.page_token", "page.page_token is malformed");
    *id = colon + 1;
    return SL_OK;
}

static size_t len_of(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

/* ---- orders ---- */

sl_status sd_valid_place_order(const Shelfline__V1__PlaceOrderRequest *r, int64_t now, sl_err *err)
{
    sl_status st;
    if ((st = sd_valid_id("order_id", r->order_id, err)) != SL_OK ||
        (st = sd_valid_id("customer_id", r->customer_id, err)) != SL_OK ||
        (st = sl_valid_id("region", r->region, SL_ID_REGION, err)) != SL_OK)
        return st;
    if (r->n_lines < 1 || r->n_lines > SD_MAX_LINES)
        return sl_err_field(err, "lines", "lines must hold 1..%d lines (got %zu)", SD_MAX_LINES,
                            r->n_lines);
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shelfline__V1__OrderLineRequest *l = r->lines[i];
        char f[48];
        snprintf(f, sizeof f, "lines[%zu].sku", i);
        if ((st = sd_valid_id(f, l->sku, err)) != SL_OK)
            return st;
        if (l->qty < 1 || l->qty > SD_MAX_QTY)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "lines[%zu].qty must be 1..%d (got %" PRId64 ")", i, SD_MAX_QTY,
                              l->qty);
        snprintf(f, sizeof f, "lines[%zu].promotion_id", i);
        if ((st = sl_valid_opt_id(f, l->promotion_id, SL_ID, err)) != SL_OK)
            return st;
    }
    sd_lang lang;
    if (r->language != NULL &&
        (strlen(r->language) > 35 || sd_lang_parse(r->language, &lang, NULL) != SL_OK))
        return sl_err_field(err, "language",
                            "language \"%.40s\" is malformed: expected a BCP 47 tag like \"fr\" "
                            "or \"zh-Hans\"",
                            r->language);
    if (r->placed_at_ms != 0)
        return sl_valid_instant("placed_at_ms", r->placed_at_ms, SL_VALID_MIN_RECENT_MS,
                                now + SD_DAY_MS, err);
    return SL_OK;
}

sl_status sd_valid_cancel_order(const Shelfline__V1__CancelOrderRequest *r, sl_err *err)
{
    sl_status st = sd_valid_id("order_id", r->order_id, err);
    if (st != SL_OK)
        return st;
    if (len_of(r->reason) > 200)
        return sl_err_field(err, "reason", "reason must be at most 200 bytes (got %zu)",
                            len_of(r->reason));
    return SL_OK;
}

sl_status sd_valid_update_shipment(const Shelfline__V1__UpdateShipmentRequest *r, sl_err *err)
{
    sl_status st = sd_valid_id("order_id", r->order_id, err);
    if (st != SL_OK)
        return st;
    if (r->step < SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_PICKED ||
        r->step > SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_FAILED_DELIVERY)
        return sl_err_field(err, "step",
                            "step must be PICKED, SHIPPED, DELIVERED or "
                            "FAILED_DELIVERY (got %d)",
                            (int)r->step);
    if (r->step == SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED &&
        ((st = sd_valid_id("carrier", r->carrier, err)) != SL_OK ||
         (st = sd_valid_id("tracking", r->tracking, err)) != SL_OK))
        return st;
    if (r->promised_date != NULL && r->promised_date[0] != '\0') {
        sd_date d;
        if (r->step != SHELFLINE__V1__SHIPMENT_STEP__SHIPMENT_SHIPPED)
            return sl_err_field(err, "promised_date", "promised_date is only for step SHIPPED");
        if (sd_date_parse(r->promised_date, &d, NULL) != SL_OK)
            return sl_err_field(err, "promised_date",
                                "promised_date must be a date \"YYYY-MM-DD\" (got \"%.40s\")",
                                r->promised_date);
    }
    return SL_OK;
}

sl_status sd_valid_list_orders(const Shelfline__V1__ListOrdersRequest *r, int64_t *size,
                               char after_ms_buf[24], const char **after_ms, const char **after_id,
                               sl_err *err)
{
    sl_status st = sd_valid_id("customer_id", r->customer_id, err);
    if (st != SL_OK)
        return st;
    *size = 100;
    *after_ms = *after_id = NULL;
    const char *tok = NULL;
    if (r->page != NULL) {
        if (r->page->page_size < 0 || r->page->page_size > 1000)
            return sl_err_field(err, "page.page_size", "page.page_size must be 0..1000 (got %d)",
                                r->page->page_size);
        if (r->page->page_size > 0)
            *size = r->page->page_size;
        if (r->page->page_token != NULL && r->page->page_token[0] != '\0')
            tok = r->page->page_token;
    }
    if (tok == NULL)
        return SL_OK;
    /* token: "<placed_at_ms>:<order_id>" of the last order of the page */
    const char *colon = strchr(tok, ':');
    size_t n = colon ? (size_t)(colon - tok) : 0;
    if (colon == NULL || n == 0 || n >= 24 || !sl_id_ok(colon + 1, SL_ID))
        return sl_err_field(err, "page.page_token", "page.page_token is malformed");
    memcpy(after_ms_buf, tok, n);
    after_ms_buf[n] = '\0';
    char *end;
    strtoll(after_ms_buf, &end, 10);
    if (*end != '\0')
        return sl_err_field(err, "page.page_token", "page.page_token is malformed");
    *after_ms = after_ms_buf;
    *after_id = colon + 1;
    return SL_OK;
}

sl_status sd_valid_quote_eta(const Shelfline__V1__QuoteEtaRequest *r, int64_t now, sl_err *err)
{
    sl_status st = sl_valid_id("region", r->region, SL_ID_REGION, err);
    if (st != SL_OK)
        return st;
    if (r->n_skus < 1 || r->n_skus > SD_MAX_QUOTE_SKUS)
        return sl_err_field(err, "skus", "skus must hold 1..%d SKUs (got %zu)", SD_MAX_QUOTE_SKUS,
                            r->n_skus);
    for (size_t i = 0; i < r->n_skus; i++) {
        char f[32];
        snprintf(f, sizeof f, "skus[%zu]", i);
        if ((st = sd_valid_id(f, r->skus[i], err)) != SL_OK)
            return st;
    }
    if (r->n_quantities != 0 && r->n_quantities != r->n_skus)
        return sl_err_field(err, "quantities",
                            "quantities must be empty or hold one per SKU (got %zu for %zu SKUs)",
                            r->n_quantities, r->n_skus);
    for (size_t i = 0; i < r->n_quantities; i++)
        if (r->quantities[i] < 0 || r->quantities[i] > SD_MAX_QTY) {
            char f[40];
            snprintf(f, sizeof f, "quantities[%zu]", i);
            return sl_err_field(err, f, "%s must be 0..%d (got %" PRId64 ")", f, SD_MAX_QTY,
                                r->quantities[i]);
        }
    if (r->at_ms != 0)
        return sl_valid_instant("at_ms", r->at_ms, SL_VALID_MIN_RECENT_MS, now + 366 * SD_DAY_MS,
                                err);
    return SL_OK;
}

/* ---- tickets ---- */

/* len bytes of body within 1..SD_MAX_BODY. */
static sl_status valid_body(const char *body, sl_err *err)
{
    size_t lb = len_of(body);
    if (lb < 1 || lb > SD_MAX_BODY)
        return sl_err_field(err, "body", "body must be 1..%d bytes (got %zu)", SD_MAX_BODY, lb);
    return SL_OK;
}

sl_status sd_valid_open_ticket(const Shelfline__V1__OpenTicketRequest *r, int64_t now,
                               sd_lang *lang, sl_err *err)
{
    sl_status st;
    if ((st = sd_valid_id("ticket_id", r->ticket_id, err)) != SL_OK ||
        (st = sd_valid_id("customer_id", r->customer_id, err)) != SL_OK ||
        (st = sl_valid_opt_id("order_id", r->order_id, SL_ID, err)) != SL_OK)
        return st;
    if (r->channel < SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL ||
        r->channel > SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_WEB)
        return sl_err_field(err, "channel", "channel must be EMAIL, CHAT, PHONE or WEB (got %d)",
                            (int)r->channel);
    size_t ls = len_of(r->subject);
    if (ls < 1 || ls > SD_MAX_SUBJECT)
        return sl_err_field(err, "subject", "subject must be 1..%d bytes (got %zu)", SD_MAX_SUBJECT,
                            ls);
    if ((st = valid_body(r->body, err)) != SL_OK)
        return st;
    if (sd_lang_parse(r->language, lang, err) != SL_OK) {
        sl_err_wrap(err, "language");
        return SL_INVALID_ARGUMENT;
    }
    if (r->opened_at_ms != 0)
        return sl_valid_instant("opened_at_ms", r->opened_at_ms, SL_VALID_MIN_RECENT_MS,
                                now + 60000, err);
    return SL_OK;
}

sl_status sd_valid_respond_ticket(const Shelfline__V1__RespondTicketRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = sd_valid_id("ticket_id", r->ticket_id, err)) != SL_OK ||
        (st = valid_body(r->body, err)) != SL_OK)
        return st;
    if (r->from_customer && r->waiting_on_customer)
        return sl_err_field(err, "waiting_on_customer",
                            "waiting_on_customer cannot be set with from_customer");
    return SL_OK;
}

sl_status sd_valid_resolve_ticket(const Shelfline__V1__ResolveTicketRequest *r, sl_err *err)
{
    sl_status st = sd_valid_id("ticket_id", r->ticket_id, err);
    if (st != SL_OK)
        return st;
    if (len_of(r->resolution) > 1000)
        return sl_err_field(err, "resolution", "resolution must be at most 1000 bytes");
    return SL_OK;
}

sl_status sd_valid_list_tickets(const Shelfline__V1__ListTicketsRequest *r, sd_ticket_filter *f,
                                sl_err *err)
{
    f->status = "";
    switch (r->status) {
    case SHELFLINE__V1__TICKET_STATUS__TICKET_STATUS_UNSPECIFIED:
        break;
    case SHELFLINE__V1__TICKET_STATUS__TICKET_OPEN:
        f->status = "OPEN";
        break;
    case SHELFLINE__V1__TICKET_STATUS__TICKET_WAITING_ON_CUSTOMER:
        f->status = "WAITING";
        break;
    case SHELFLINE__V1__TICKET_STATUS__TICKET_RESOLVED:
        f->status = "RESOLVED";
        break;
    case _SHELFLINE__V1__TICKET_STATUS_IS_INT_SIZE:
    default:
        return sl_err_field(err, "status", "status %d is unknown", (int)r->status);
    }
    f->category = r->category ? r->category : "";
    sd_category cat;
    if (f->category[0] != '\0' && sd_category_parse(f->category, &cat, err) != SL_OK) {
        sl_err_wrap(err, "category");
        return SL_INVALID_ARGUMENT;
    }
    f->priority = r->priority ? r->priority : "";
    sd_priority prio;
    if (f->priority[0] != '\0') {
        if (sd_priority_parse(f->priority, &prio, err) != SL_OK) {
            sl_err_wrap(err, "priority");
            return SL_INVALID_ARGUMENT;
        }
        f->priority = sd_priority_name(prio);
    }
    f->customer = r->customer_id ? r->customer_id : "";
    sl_status st = sl_valid_opt_id("customer_id", f->customer, SL_ID, err);
    if (st != SL_OK)
        return st;
    if (r->breaching_within_minutes < 0 || r->breaching_within_minutes > 525600)
        return sl_err_field(err, "breaching_within_minutes",
                            "breaching_within_minutes must be 0..525600 (got %d)",
                            r->breaching_within_minutes);
    if ((st = sd_valid_page(r->page, &f->limit, f->key, sizeof f->key, err)) != SL_OK)
        return st;
    return sd_valid_page_key(f->key, &f->after_ms, &f->after_id, err);
}

sl_status sd_valid_sla_report(const Shelfline__V1__GetSlaReportRequest *r, sl_err *err)
{
    if (r->from_ms < SL_VALID_MIN_RECENT_MS)
        return sl_err_field(err, "from_ms", "from_ms must be at or after 2000-01-01");
    if (r->to_ms <= r->from_ms || r->to_ms - r->from_ms > 366 * SD_DAY_MS)
        return sl_err_field(err, "to_ms", "to_ms must be after from_ms and at most 366 days later");
    return SL_OK;
}

/* ---- returns ---- */

sl_status sd_valid_create_return(const Shelfline__V1__CreateReturnRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = sd_valid_id("rma_id", r->rma_id, err)) != SL_OK ||
        (st = sd_valid_id("order_id", r->order_id, err)) != SL_OK)
        return st;
    if (r->n_lines < 1 || r->n_lines > SD_MAX_RETURN_LINES)
        return sl_err_field(err, "lines", "lines must hold 1..%d lines (got %zu)",
                            SD_MAX_RETURN_LINES, r->n_lines);
    for (size_t i = 0; i < r->n_lines; i++) {
        char f[32];
        snprintf(f, sizeof f, "lines[%zu].sku", i);
        if ((st = sd_valid_id(f, r->lines[i]->sku, err)) != SL_OK)
            return st;
        if (r->lines[i]->qty < 1 || r->lines[i]->qty > SD_MAX_QTY)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "lines[%zu].qty must be 1..1000000 (got %" PRId64 ")", i,
                              r->lines[i]->qty);
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->lines[j]->sku, r->lines[i]->sku) == 0)
                return sl_err_set(err, SL_INVALID_ARGUMENT,
                                  "lines[%zu].sku \"%s\" repeats lines[%zu]", i, r->lines[i]->sku,
                                  j);
    }
    size_t lr = len_of(r->reason);
    if (lr < 1 || lr > 500)
        return sl_err_field(err, "reason", "reason must be 1..500 bytes (got %zu)", lr);
    return SL_OK;
}

sl_status sd_valid_list_returns(const Shelfline__V1__ListReturnsRequest *r, int *limit,
                                char key[160], int64_t *before_ms, const char **before_id,
                                sl_err *err)
{
    sl_status st;
    if ((st = sl_valid_opt_id("customer_id", r->customer_id ? r->customer_id : "", SL_ID, err)) !=
            SL_OK ||
        (st = sl_valid_opt_id("order_id", r->order_id ? r->order_id : "", SL_ID, err)) != SL_OK ||
        (st = sl_page_read(r->page, limit, key, 160, err)) != SL_OK ||
        (st = sd_valid_page_key(key, before_ms, before_id, err)) != SL_OK)
        return st;
    if (key[0] == '\0')
        *before_ms = INT64_MAX;
    return SL_OK;
}

sl_status sd_valid_receive_return(const Shelfline__V1__ReceiveReturnRequest *r, sl_err *err)
{
    sl_status st = sd_valid_id("rma_id", r->rma_id, err);
    if (st != SL_OK)
        return st;
    if (r->condition < SHELFLINE__V1__RETURN_CONDITION__RETURN_RESELLABLE ||
        r->condition > SHELFLINE__V1__RETURN_CONDITION__RETURN_SCRAP)
        return sl_err_field(err, "condition",
                            "condition must be RESELLABLE, REFURBISH or SCRAP (got %d)",
                            (int)r->condition);
    return SL_OK;
}

/* ---- back in stock and notifications ---- */

sl_status sd_valid_list_subscriptions(const Shelfline__V1__ListSubscriptionsRequest *r, int *limit,
                                      int64_t *before_id, sl_err *err)
{
    char key[24];
    sl_status st = sd_valid_id("customer_id", r->customer_id, err);
    if (st != SL_OK || (st = sd_valid_page(r->page, limit, key, sizeof key, err)) != SL_OK)
        return st;
    *before_id = INT64_MAX;
    if (key[0] == '\0')
        return SL_OK;
    char *end;
    *before_id = strtoll(key, &end, 10);
    if (*end != '\0' || *before_id <= 0)
        return sl_err_field(err, "page.page_token", "page.page_token is malformed");
    return SL_OK;
}

sl_status sd_valid_subscribe(const Shelfline__V1__SubscribeBackInStockRequest *r, sl_err *err)
{
    sl_status st;
    if ((st = sd_valid_id("customer_id", r->customer_id, err)) != SL_OK ||
        (st = sd_valid_id("sku", r->sku, err)) != SL_OK)
        return st;
    return sl_valid_id("region", r->region, SL_ID_REGION, err);
}

sl_status sd_valid_bis_queue(const Shelfline__V1__GetBackInStockQueueRequest *r, sl_err *err)
{
    sl_status st = sd_valid_id("sku", r->sku, err);
    if (st != SL_OK || len_of(r->region) == 0)
        return st;
    return sl_valid_id("region", r->region, SL_ID_REGION, err);
}

sl_status sd_valid_list_eta_changes(const Shelfline__V1__ListEtaChangesRequest *r, int *limit,
                                    int *after_slip, sl_err *err)
{
    char key[24];
    sl_status st = sd_valid_id("order_id", r->order_id, err);
    if (st != SL_OK || (st = sl_page_read(r->page, limit, key, sizeof key, err)) != SL_OK)
        return st;
    *after_slip = 0;
    if (key[0] == '\0')
        return SL_OK;
    char *end;
    long v = strtol(key, &end, 10);
    if (*end != '\0' || v <= 0 || v > INT32_MAX)
        return sl_err_field(err, "page.page_token", "page.page_token is malformed");
    *after_slip = (int)v;
    return SL_OK;
}

sl_status sd_valid_positive(const char *field, int64_t v, sl_err *err)
{
    if (v <= 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "%s must be positive (got %" PRId64 ")", field,
                          v);
    return SL_OK;
}

static sl_status valid_after(int64_t after_id, sl_err *err)
{
    if (after_id < 0)
        return sl_err_field(err, "after_id", "after_id must be >= 0 (got %" PRId64 ")", after_id);
    return SL_OK;
}

/* A feed's customer filter: any text of at most 64 bytes (it only
 * compares). */
static sl_status valid_customer_filter(const char *customer_id, sl_err *err)
{
    if (len_of(customer_id) > 64)
        return sl_err_field(err, "customer_id", "customer_id must be at most 64 characters");
    return SL_OK;
}

sl_status sd_valid_list_notifications(const Shelfline__V1__ListNotificationsRequest *r, sl_err *err)
{
    sl_status st = valid_after(r->after_id, err);
    if (st != SL_OK)
        return st;
    if (r->limit < 0 || r->limit > 1000)
        return sl_err_field(err, "limit", "limit must be 0..1000 (got %d)", r->limit);
    return valid_customer_filter(r->customer_id, err);
}

sl_status sd_valid_watch_notifications(const Shelfline__V1__WatchNotificationsRequest *r,
                                       sl_err *err)
{
    sl_status st = valid_after(r->after_id, err);
    return st != SL_OK ? st : valid_customer_filter(r->customer_id, err);
}
