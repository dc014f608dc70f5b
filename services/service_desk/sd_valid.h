/*
 * sd_valid: syntactic validation of the service-desk requests, one
 * function per request, run by each handler before anything else happens.
 *
 * Pure functions (no I/O; `now` is passed in), so every rule can be
 * unit-tested without a database.  Ids, SKUs and regions follow the suite's
 * grammar (sl_valid.h); every refusal is INVALID_ARGUMENT with a message
 * starting with the field as the client wrote it ("lines[1].qty must be
 * 1..1000000 (got 0)").  Checks that need the database (does the order
 * exist, is the return window open) stay with the domain code.
 */
#ifndef SD_VALID_H
#define SD_VALID_H

#include <stdint.h>

#include "sd_classify.h"
#include "sd_sla.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_status.h"

#define SD_MAX_LINES 100
#define SD_MAX_QTY 1000000
#define SD_MAX_QUOTE_SKUS 100
#define SD_MAX_RETURN_LINES 100
#define SD_MAX_SUBJECT 200
#define SD_MAX_BODY 10000
#define SD_DAY_MS INT64_C(86400000)

/* An order, ticket or RMA id (the suite's SL_ID grammar). */
sl_status sd_valid_id(const char *field, const char *value, sl_err *err);

/* The page of a list RPC that paged only from issue 17 on (ListTickets,
 * ListSubscriptions), read with sl_page_read: its size (an absent page
 * keeps the 1,000 rows those RPCs answered before paging; a page with
 * size 0 means 100) and the key after which it starts ("" for
 * the first page) into after (capacity cap). */
sl_status sd_valid_page(const Shelfline__V1__PageRequest *page, int *limit, char *after, size_t cap,
                        sl_err *err);

/* A page key "<ms>:<id>" (as sd_valid_page decoded it) split into *ms and
 * *id; the first page ("") is INT64_MIN and "".  INVALID_ARGUMENT naming
 * page.page_token for anything else. */
sl_status sd_valid_page_key(char *key, int64_t *ms, const char **id, sl_err *err);

/* ---- orders ---- */
sl_status sd_valid_place_order(const Shelfline__V1__PlaceOrderRequest *r, int64_t now, sl_err *err);
sl_status sd_valid_cancel_order(const Shelfline__V1__CancelOrderRequest *r, sl_err *err);
sl_status sd_valid_update_shipment(const Shelfline__V1__UpdateShipmentRequest *r, sl_err *err);

/* ListOrders: the customer, the page size (100 when unset) and the page
 * token "<placed_at_ms>:<order_id>" split into *after_ms (decimal text in
 * after_ms_buf) and *after_id, both NULL for the first page. */
sl_status sd_valid_list_orders(const Shelfline__V1__ListOrdersRequest *r, int64_t *size,
                               char after_ms_buf[24], const char **after_ms, const char **after_id,
                               sl_err *err);

/* ListEtaChanges: the order, the page size (sl_page_read: 100 when
 * unset) and the slip number the page starts after (0 for the first page;
 * the key of a page is the last slip number it answered). */
sl_status sd_valid_list_eta_changes(const Shelfline__V1__ListEtaChangesRequest *r, int *limit,
                                    int *after_slip, sl_err *err);

/* QuoteEta: region, 1..SD_MAX_QUOTE_SKUS SKUs, no quantities or one per
 * SKU in 0..SD_MAX_QTY, at_ms 0 or within
 * 2000-01-01 .. a year from now. */
sl_status sd_valid_quote_eta(const Shelfline__V1__QuoteEtaRequest *r, int64_t now, sl_err *err);

/* ---- tickets ---- */

/* OpenTicket; *lang receives the parsed language (SD_LANG_UNKNOWN when
 * unset: detect it). */
sl_status sd_valid_open_ticket(const Shelfline__V1__OpenTicketRequest *r, int64_t now,
                               sd_lang *lang, sl_err *err);
sl_status sd_valid_respond_ticket(const Shelfline__V1__RespondTicketRequest *r, sl_err *err);
sl_status sd_valid_resolve_ticket(const Shelfline__V1__ResolveTicketRequest *r, sl_err *err);

/* ListTickets' filters, as the store takes them: status ("" for every
 * unresolved ticket, else OPEN / WAITING / RESOLVED), category ("" or its
 * name), priority ("" or its canonical name), customer ("" or an id); the
 * page: its size and the (opened_at_ms, ticket_id) it starts after. */
typedef struct sd_ticket_filter {
    const char *status, *category, *priority, *customer;
    int limit;
    int64_t after_ms;
    const char *after_id;
    char key[160]; /* after_id's storage */
} sd_ticket_filter;
sl_status sd_valid_list_tickets(const Shelfline__V1__ListTicketsRequest *r, sd_ticket_filter *f,
                                sl_err *err);
sl_status sd_valid_sla_report(const Shelfline__V1__GetSlaReportRequest *r, sl_err *err);

/* ---- returns ---- */
sl_status sd_valid_create_return(const Shelfline__V1__CreateReturnRequest *r, sl_err *err);
sl_status sd_valid_receive_return(const Shelfline__V1__ReceiveReturnRequest *r, sl_err *err);
/* ListReturns: the filters (ids or ""), the page size (100 when unset)
 * and the (created_at_ms, rma_id) the page starts below, from the token
 * "<ms>:<rma_id>" decoded into key (INT64_MAX and "" for the first
 * page). */
sl_status sd_valid_list_returns(const Shelfline__V1__ListReturnsRequest *r, int *limit,
                                char key[160], int64_t *before_ms, const char **before_id,
                                sl_err *err);

/* ---- back in stock and notifications ---- */
sl_status sd_valid_subscribe(const Shelfline__V1__SubscribeBackInStockRequest *r, sl_err *err);
/* ListSubscriptions: the customer, the page size and the subscription id
 * the page starts below (INT64_MAX for the first page; the key of a page
 * is the last subscription id it answered). */
sl_status sd_valid_list_subscriptions(const Shelfline__V1__ListSubscriptionsRequest *r, int *limit,
                                      int64_t *before_id, sl_err *err);
/* GetBackInStockQueue: the SKU, and the region when given. */
sl_status sd_valid_bis_queue(const Shelfline__V1__GetBackInStockQueueRequest *r, sl_err *err);
sl_status sd_valid_positive(const char *field, int64_t v, sl_err *err);
sl_status sd_valid_list_notifications(const Shelfline__V1__ListNotificationsRequest *r,
                                      sl_err *err);
sl_status sd_valid_watch_notifications(const Shelfline__V1__WatchNotificationsRequest *r,
                                       sl_err *err);

#endif
