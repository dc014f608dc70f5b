/*
 * cv_app: the customer-value service's context (the one piece of state its
 * handlers share, passed through sl_call_ctx), its handlers (one per RPC,
 * listed in cv_service.c's method table) and the helpers they share:
 * request validation, transaction options, day arithmetic.
 *
 * Each handler validates its whole request first (INVALID_ARGUMENT naming
 * the field; nothing is written on bad input), then runs its work in one
 * transaction bounded by the call's deadline.  Memory is the call's arena.
 */
#ifndef CV_APP_H
#define CV_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cv_catalog.h"
#include "cv_history.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "sl_consumer.h"
#include "sl_page.h"
#include "sl_service.h"

typedef struct cv_app {
    sl_service *svc;
    sl_db *db;
    sl_events *events;
    cv_catalog *catalog; /* inventory's products and availability */
    sl_consumer *orders; /* service-desk's order events; NULL when off */
    cv_history *history; /* purchase lines in memory; NULL when off */
} cv_app;

#define CV_APP(call) ((cv_app *)sl_call_ctx(call))

/* The handlers, each named in full in cv_service.c's method table. */

/* writes (cv_api_write.c) */
sl_status cv_api_upsert_customer(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status cv_api_record_purchase(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status cv_api_upsert_customers(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status cv_api_record_purchases(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status cv_api_record_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err);

/* models and reports (cv_api_value.c) */
sl_status cv_api_fit_models(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err);
sl_status cv_api_get_customer_value(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err);
sl_status cv_api_get_retention_report(sl_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage *resp, sl_err *err);
sl_status cv_api_list_segment(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);

/* inventory-aware (cv_api_stock.c) */
sl_status cv_api_get_repurchase_reminders(sl_call *call, const ProtobufCMessage *req,
                                          ProtobufCMessage *resp, sl_err *err);
sl_status cv_api_suggest_substitutes(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err);
sl_status cv_api_recommend(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err);

/* campaigns (cv_api_campaign.c) */
sl_status cv_api_build_campaign(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status cv_api_list_campaign_recipients(sl_call *call, const ProtobufCMessage *req,
                                          ProtobufCMessage *resp, sl_err *err);
sl_status cv_api_send_campaign(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err);

/* ListSegment's filters, shared with campaigns' audiences
 * (cv_api_value.c): every rule of r (INVALID_ARGUMENT naming the field),
 * and every customer with purchases matching r, in id order (summary rows
 * in the call's arena); FAILED_PRECONDITION when a model filter is given
 * before any fit.  r's page is ignored. */
sl_status cv_segment_check(const Shelfline__V1__ListSegmentRequest *r, sl_err *err);
sl_status cv_segment_members(sl_call *call, const Shelfline__V1__ListSegmentRequest *r,
                             const struct cv_summary_row ***out, size_t *n, sl_err *err);

/* Starts following service-desk's ORDER_PAID and RETURN_RECEIVED events
 * (cv_orders.c); the caller owns *out (sl_consumer_stop). */
sl_status cv_orders_start(cv_app *app, sl_consumer **out, sl_err *err);

/* ---- helpers the handlers share (cv_api.c) ---- */

#define CV_DAY_MS 86400000LL

/* The UTC day of a Unix-ms time (floor). */
int32_t cv_day(int64_t ms);

/* The packed bytes of m in the call's arena (NULL when out of memory). */
const uint8_t *cv_pack(sl_call *call, const ProtobufCMessage *m, size_t *len);

/* Money in arena memory. */
Shelfline__V1__Money *cv_money(sl_arena *a, int64_t minor, const char *currency);

/* ---- request validation (cv_valid.c) ---- */

/* An identifier: 1..64 characters of A-Z a-z 0-9 . _ -. */
sl_status cv_valid_id(const char *field, const char *v, sl_err *err);

/* A region: 1..32 characters of A-Z 0-9 _ -, starting with a letter. */
sl_status cv_valid_region(const char *field, const char *v, sl_err *err);

/* Free text of min..max bytes without control characters. */
sl_status cv_valid_text(const char *field, const char *v, size_t min, size_t max, sl_err *err);

/* A time: > 0 and not more than a day after now. */
sl_status cv_valid_time(const char *field, int64_t ms, sl_err *err);

/* Money: present, minor_units >= min, currency three upper-case letters. */
sl_status cv_valid_money(const char *field, const Shelfline__V1__Money *m, int64_t min,
                         sl_err *err);

/* A cohort "YYYY-MM" (empty: none) into [lo, hi] days. */
sl_status cv_valid_cohort(const char *field, const char *v, bool *set, int32_t *lo, int32_t *hi,
                          sl_err *err);

/* Paging: sl_page.h. */

/* The method table's validate slots (cv_service.c): every syntactic rule
 * of GetRepurchaseReminders and Recommend, run before their handlers. */
sl_status cv_valid_reminders_request(const ProtobufCMessage *req, sl_err *err);
sl_status cv_valid_recommend_request(const ProtobufCMessage *req, sl_err *err);
sl_status cv_valid_substitutes_request(const ProtobufCMessage *req, sl_err *err);
/* BuildCampaign's rules, and campaign_id of ListCampaignRecipients and
 * SendCampaign (cv_api_campaign.c). */
sl_status cv_valid_build_campaign_request(const ProtobufCMessage *req, sl_err *err);
sl_status cv_valid_campaign_id_request(const ProtobufCMessage *req, sl_err *err);

#endif
