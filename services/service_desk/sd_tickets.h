/*
 * sd_tickets: support tickets -- the domain behind sd_api_tickets.c.
 * Each function takes a validated request (sd_valid.h) and the call's
 * deadline (as sl_call_deadline_ms; 0: none); messages are arena memory.
 */
#ifndef SD_TICKETS_H
#define SD_TICKETS_H

#include <stdint.h>

#include "sd_app.h"
#include "sd_valid.h"

/* The ticket with its SLA clocks read now; *fingerprint (may be NULL)
 * receives its request fingerprint.  NOT_FOUND naming the id. */
sl_status sd_tickets_get(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *id,
                         Shelfline__V1__Ticket **out, const char **fingerprint, sl_err *err);

/* Opens the ticket (or answers the retry of the same request; another
 * request under the same id is ALREADY_EXISTS).  The calls to
 * customer-value (tier) and inventory (stock answers) are made on behalf
 * of call. */
sl_status sd_tickets_open(sl_call *call, const Shelfline__V1__OpenTicketRequest *r, sd_lang lang,
                          int64_t now, Shelfline__V1__Ticket **out, sl_err *err);

/* Records a response (respond_req) or the resolution (resolve_req, the
 * other one NULL) in one transaction. */
sl_status sd_tickets_respond(sd_app *app, int64_t deadline_ms,
                             const Shelfline__V1__RespondTicketRequest *respond_req,
                             const Shelfline__V1__ResolveTicketRequest *resolve_req, sl_err *err);

/* The tickets matching f, only those breaching within the window when it
 * is positive. */
sl_status sd_tickets_list(sd_app *app, int64_t deadline_ms, sl_arena *a, const sd_ticket_filter *f,
                          int breaching_within_minutes, Shelfline__V1__ListTicketsResponse *out,
                          sl_err *err);

/* The SLA report of the tickets opened in [from_ms, to_ms). */
sl_status sd_tickets_sla_report(sd_app *app, int64_t deadline_ms, sl_arena *a, int64_t from_ms,
                                int64_t to_ms, Shelfline__V1__SlaReport *out, sl_err *err);

#endif
