/*
 * sd_api_tickets: the ticket RPCs -- OpenTicket, RespondTicket,
 * ResolveTicket, GetTicket, ListTickets, GetSlaReport.  Each decodes nothing itself
 * (the dispatcher did), validates (sd_valid), calls the domain
 * (sd_tickets) and fills the reply.
 */
#include "sd_api.h"
#include "sd_app.h"
#include "sd_slapol.h"
#include "sd_store.h"
#include "sd_tickets.h"
#include "sd_valid.h"

sl_status sd_api_open_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err)
{
    const Shelfline__V1__OpenTicketRequest *r = (const void *)req;
    int64_t now = sl_db_now_ms();
    sd_lang lang;
    sl_status st = sd_valid_open_ticket(r, now, &lang, err);
    Shelfline__V1__Ticket *t;
    if (st != SL_OK || (st = sd_tickets_open(call, r, lang, now, &t, err)) != SL_OK)
        return st;
    *(Shelfline__V1__Ticket *)resp = *t;
    return SL_OK;
}

/* The ticket as it is after a response or the resolution. */
static sl_status answer_ticket(sl_call *call, const char *ticket_id, ProtobufCMessage *resp,
                               sl_err *err)
{
    Shelfline__V1__Ticket *t;
    sl_status st = sd_tickets_get(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call),
                                  ticket_id, &t, NULL, err);
    if (st == SL_OK)
        *(Shelfline__V1__Ticket *)resp = *t;
    return st;
}

sl_status sd_api_respond_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__RespondTicketRequest *r = (const void *)req;
    sl_status st = sd_valid_respond_ticket(r, err);
    if (st != SL_OK || (st = sd_tickets_respond(sl_call_ctx(call), sl_call_deadline_ms(call), r,
                                                NULL, err)) != SL_OK)
        return st;
    return answer_ticket(call, r->ticket_id, resp, err);
}

sl_status sd_api_resolve_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__ResolveTicketRequest *r = (const void *)req;
    sl_status st = sd_valid_resolve_ticket(r, err);
    if (st != SL_OK || (st = sd_tickets_respond(sl_call_ctx(call), sl_call_deadline_ms(call), NULL,
                                                r, err)) != SL_OK)
        return st;
    return answer_ticket(call, r->ticket_id, resp, err);
}

sl_status sd_api_get_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__GetTicketRequest *r = (const void *)req;
    Shelfline__V1__Ticket *out = (Shelfline__V1__Ticket *)resp;
    sd_app *app = sl_call_ctx(call);
    sl_status st = sd_valid_id("ticket_id", r->ticket_id, err);
    if (st != SL_OK || (st = answer_ticket(call, r->ticket_id, resp, err)) != SL_OK)
        return st;
    return sd_store_ticket_messages(app->db, sl_call_deadline_ms(call), r->ticket_id,
                                    sl_call_arena(call), &out->messages, &out->n_messages, err);
}

sl_status sd_api_list_tickets(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__ListTicketsRequest *r = (const void *)req;
    sd_ticket_filter f;
    sl_status st = sd_valid_list_tickets(r, &f, err);
    if (st != SL_OK)
        return st;
    return sd_tickets_list(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call), &f,
                           r->breaching_within_minutes, (void *)resp, err);
}

sl_status sd_api_get_sla_report(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const Shelfline__V1__GetSlaReportRequest *r = (const void *)req;
    if (sd_valid_sla_report(r, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    return sd_tickets_sla_report(sl_call_ctx(call), sl_call_deadline_ms(call), sl_call_arena(call),
                                 r->from_ms, r->to_ms, (void *)resp, err);
}

/* SetSlaPolicy: validate the whole policy (nothing written on a bad one),
 * store it as the next version unless it is the one in force, and let
 * this replica's book know it at once (the others load it when a ticket
 * or GetSlaPolicy needs it). */
sl_status sd_api_set_sla_policy(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    sl_arena *a = sl_call_arena(call);
    const Shelfline__V1__SetSlaPolicyRequest *r = (const void *)req;
    Shelfline__V1__SlaPolicy *canon, *out;
    sl_status st = sd_slapol_validate(app->tz, r->policy, a, &canon, NULL, err);
    if (st == SL_OK)
        st = sd_slapol_store(app->db, sl_call_deadline_ms(call), canon, a, &out, err);
    if (st == SL_OK)
        st = sd_slabook_sync(app->slas, app->db, sl_call_deadline_ms(call), err);
    if (st == SL_OK)
        *(Shelfline__V1__SlaPolicy *)resp = *out;
    return st;
}

/* GetSlaPolicy: version 0 is the newest stored (or the configured one). */
sl_status sd_api_get_sla_policy(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__GetSlaPolicyRequest *r = (const void *)req;
    if (r->version < 0)
        return sl_err_field(err, "version", "version must not be negative (got %lld)",
                            (long long)r->version);
    sl_status st = sd_slabook_sync(app->slas, app->db, sl_call_deadline_ms(call), err);
    Shelfline__V1__SlaPolicy *out;
    if (st == SL_OK)
        st = sd_slabook_message(app->slas, r->version, sl_call_arena(call), &out, err);
    if (st == SL_OK)
        *(Shelfline__V1__SlaPolicy *)resp = *out;
    return st;
}
