/*
 * sd_tickets: support tickets, the domain behind sd_api_tickets.c --
 * opening (classification with sd_classify, priority from the category
 * and customer-value's tier, SLA clocks with sd_sla, a suggested answer
 * with the live ETA), responses (first response, pause/resume),
 * resolution, lists and the SLA report.
 *
 * Deadlines are never stored: a ticket's clocks are read from its opening
 * time, its priority's targets and its pause/resume events whenever it is
 * returned (sd_sla_clock_at), so "breaching within N minutes" is always
 * current.  Its targets and hours are those of the SLA policy version in
 * force when it opened (the row records it; sd_slapol.h says why a later
 * policy does not re-time it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_app.h"
#include "sd_store.h"
#include "sd_i18n.h"
#include "sd_orders.h"
#include "sd_slapol.h"
#include "sd_tickets.h"
#include "sd_valid.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_page.h"

#include "sl_arena.h"

/* ---- reading a ticket ---- */

static Shelfline__V1__SlaClock *clock_msg(sl_arena *a, const sd_sla_clock *c, int64_t target,
                                          bool met)
{
    Shelfline__V1__SlaClock *m = sl_arena_alloc(a, sizeof *m);
    if (m == NULL)
        return NULL;
    shelfline__v1__sla_clock__init(m);
    m->target_minutes = target / 60000;
    m->elapsed_minutes = c->elapsed_ms / 60000;
    m->due_at_ms = c->has_deadline ? c->deadline_ms : 0;
    m->breached = c->breached;
    m->met = met;
    m->paused = c->paused;
    return m;
}

/* The ticket's message with its two clocks read at now, from its opening
 * time, its priority's targets and its pause/resume events. */
static sl_status ticket_clocks(sd_app *app, int64_t deadline_ms, sl_arena *a,
                               const sd_ticket_rec *rec, int64_t now, Shelfline__V1__Ticket **out,
                               sl_err *err)
{
    Shelfline__V1__Ticket *t = rec->msg;
    int64_t first = rec->first_response_ms, resolved = rec->resolved_ms;
    sd_priority prio;
    if (sd_priority_parse(t->priority, &prio, err) != SL_OK)
        return SL_INTERNAL;
    /* the policy version in force when it opened (sd_slapol.h) */
    const sd_sla_policy *pol;
    sl_status st =
        sd_slabook_policy(app->slas, app->db, deadline_ms, t->sla_policy_version, &pol, err);
    if (st != SL_OK)
        return st == SL_NOT_FOUND ? SL_INTERNAL : st;
    int64_t frt = sd_sla_target_ms(pol, prio, SD_SLA_FIRST_RESPONSE);
    int64_t rst = sd_sla_target_ms(pol, prio, SD_SLA_RESOLUTION);
    sd_sla_clock fr, rs;
    int64_t fr_at = first > 0 ? first : now, rs_at = resolved > 0 ? resolved : now;
    if (fr_at < t->opened_at_ms)
        fr_at = t->opened_at_ms;
    if (rs_at < t->opened_at_ms)
        rs_at = t->opened_at_ms;
    if ((st = sd_sla_clock_at(pol, t->opened_at_ms, frt, NULL, 0, fr_at, &fr, err)) != SL_OK ||
        (st = sd_sla_clock_at(pol, t->opened_at_ms, rst, rec->events, rec->n_events, rs_at, &rs,
                              err)) != SL_OK)
        return st;
    t->first_response = clock_msg(a, &fr, frt, first > 0);
    t->resolution = clock_msg(a, &rs, rst, resolved > 0);
    if (t->first_response == NULL || t->resolution == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *out = t;
    return SL_OK;
}

sl_status sd_tickets_get(sd_app *app, int64_t deadline_ms, sl_arena *a, const char *id,
                         Shelfline__V1__Ticket **out, const char **fingerprint, sl_err *err)
{
    sd_ticket_rec rec;
    sl_status st = sd_store_ticket_read(app->db, deadline_ms, id, a, &rec, err);
    if (st != SL_OK)
        return st;
    if (fingerprint != NULL)
        *fingerprint = rec.fingerprint;
    return ticket_clocks(app, deadline_ms, a, &rec, sl_db_now_ms(), out, err);
}

/* ---- OpenTicket ---- */

/* The customer's tier from customer-value; "unknown" (priced as NEW) when
 * it does not answer in time or does not know the customer. */
static sd_tier customer_tier(sd_app *app, sl_call *call, sl_arena *a, const char *customer_id,
                             const char **name)
{
    *name = "unknown";
    if (app->customer_value == NULL)
        return SD_TIER_NEW;
    Shelfline__V1__GetCustomerValueRequest r = SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
    r.customer_id = (char *)customer_id;
    ProtobufCMessage *m;
    /* One attempt: an unknown tier is an answer, a wait is not. */
    sl_call_options policy = {.timeout_ms = app->cfg.tier_timeout_ms};
    sl_err e;
    if (sl_client_call_from(
            call, app->customer_value, "/shelfline.v1.CustomerValueService/GetCustomerValue",
            &r.base, &shelfline__v1__customer_value__descriptor, a, &m, &policy, &e) != SL_OK)
        return SD_TIER_NEW;
    switch (((Shelfline__V1__CustomerValue *)m)->tier) {
    case SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_PLATINUM:
        *name = "platinum";
        return SD_TIER_PLATINUM;
    case SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_GOLD:
        *name = "gold";
        return SD_TIER_GOLD;
    case SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_SILVER:
        *name = "silver";
        return SD_TIER_SILVER;
    case SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_BRONZE:
        *name = "bronze";
        return SD_TIER_BRONZE;
    case SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_NEW:
        *name = "new";
        return SD_TIER_NEW;
    case SHELFLINE__V1__CUSTOMER_TIER__CUSTOMER_TIER_UNSPECIFIED:
    case _SHELFLINE__V1__CUSTOMER_TIER_IS_INT_SIZE:
        break;
    }
    return SD_TIER_NEW;
}

/* The where-is-my-order answer from the live ETA, in lang (sd_i18n):
 * "Order o-1: <why it moved | where it ships from>; delivery expected
 * <p50>, at the latest <p90>." in English; NULL when there is none. */
static const char *suggest(sd_app *app, sl_arena *a, const char *order_id, sd_lang lang)
{
    Shelfline__V1__OrderEta *e = sl_arena_alloc(a, sizeof *e);
    if (e == NULL)
        return NULL;
    shelfline__v1__order_eta__init(e);
    sl_err err;
    sd_date p50, p90;
    if (sd_orders_eta(app, 0, a, order_id, e, &err) != SL_OK || e->current == NULL ||
        sd_date_parse(e->current->p50_date, &p50, NULL) != SL_OK ||
        sd_date_parse(e->current->p90_date, &p90, NULL) != SL_OK)
        return NULL;
    const char *why = e->moved && e->reason[0] != '\0' ? e->reason
                      : e->n_lines > 0                 ? e->lines[0]->explanation
                                                       : "";
    size_t cap = strlen(why) + 512;
    char *s = sl_arena_alloc(a, cap);
    if (s == NULL ||
        !sd_i18n_wismo(lang, order_id, e->status == SHELFLINE__V1__ORDER_STATUS__ORDER_CANCELLED,
                       e->moved, why, p50, p90, s, cap))
        return NULL;
    return s;
}

typedef struct insert_ctx {
    sd_app *app;
    const sd_new_ticket *ticket;
    const sd_mentions *mentions;
    bool unmet;
    bool fresh; /* out: this attempt recorded the ticket */
} insert_ctx;

/* Records the ticket and, for a new out-of-stock ticket, one UNMET_DEMAND
 * event per SKU it names, in one transaction. */
static sl_status insert_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    insert_ctx *c = vctx;
    bool unmet = c->unmet && c->mentions->n_skus > 0;
    char region[SD_REGION_MAX];
    c->fresh = false;
    sl_status st = sd_store_ticket_insert(conn, c->ticket, &c->fresh, unmet ? region : NULL, err);
    if (st != SL_OK || !c->fresh || !unmet)
        return st;
    for (size_t i = 0; i < c->mentions->n_skus && st == SL_OK; i++) {
        Shelfline__V1__UnmetDemand u = SHELFLINE__V1__UNMET_DEMAND__INIT;
        u.sku = (char *)c->mentions->skus[i];
        u.region = region;
        u.ticket_id = (char *)c->ticket->ticket_id;
        u.customer_id = (char *)c->ticket->customer_id;
        u.at_ms = c->ticket->opened_at_ms;
        st = sl_events_publish(c->app->events, conn, "UNMET_DEMAND", u.sku, &u.base, err);
    }
    return st;
}

/* For an out-of-stock question: each SKU named, as it stands now in the
 * customer's region (live availability, so OUT_OF_STOCK shows at once);
 * NULL when there is nothing to say (no region, unknown SKUs, inventory
 * not answering in time). */
static const char *suggest_stock(sd_app *app, sl_call *call, sl_arena *a, const char *customer_id,
                                 const sd_mentions *men)
{
    char region[SD_REGION_MAX];
    if (sd_store_customer_region(app->db, 0, customer_id, region, sizeof region, NULL) != SL_OK ||
        region[0] == '\0' || men->n_skus == 0)
        return NULL;
    char **skus = sl_arena_alloc(a, men->n_skus * sizeof *skus);
    Shelfline__V1__QuoteEtaResponse *q = sl_arena_alloc(a, sizeof *q);
    if (skus == NULL || q == NULL)
        return NULL;
    shelfline__v1__quote_eta_response__init(q);
    for (size_t i = 0; i < men->n_skus; i++)
        skus[i] = (char *)men->skus[i];
    int64_t t = app->cfg.inventory_timeout_ms < 1000 ? app->cfg.inventory_timeout_ms : 1000;
    if (sd_orders_quote(app, call, a, region, skus, NULL, men->n_skus, sl_db_now_ms(), t, q,
                        NULL) != SL_OK)
        return NULL;
    size_t cap = 64 + q->n_quotes * (SD_ETA_TEXT_MAX + 128), n = 0;
    char *s = sl_arena_alloc(a, cap);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < q->n_quotes && n < cap; i++) {
        const Shelfline__V1__SkuQuote *x = q->quotes[i];
        switch (x->status) {
        case SHELFLINE__V1__QUOTE_STATUS__QUOTE_IN_STOCK:
            n += (size_t)snprintf(s + n, cap - n, "%s%s is in stock in %s: %s.", n ? " " : "",
                                  x->sku, region, x->explanation);
            break;
        case SHELFLINE__V1__QUOTE_STATUS__QUOTE_BACKORDER:
            n += (size_t)snprintf(s + n, cap - n,
                                  "%s%s is out of stock in %s but can be ordered now: %s.",
                                  n ? " " : "", x->sku, region, x->explanation);
            break;
        case SHELFLINE__V1__QUOTE_STATUS__QUOTE_OUT_OF_STOCK:
        case SHELFLINE__V1__QUOTE_STATUS__QUOTE_STATUS_UNSPECIFIED:
        case _SHELFLINE__V1__QUOTE_STATUS_IS_INT_SIZE:
            n += (size_t)snprintf(s + n, cap - n,
                                  "%s%s is out of stock in %s with no delivery scheduled; "
                                  "subscribe to be told when it is back.",
                                  n ? " " : "", x->sku, region);
            break;
        }
    }
    return s;
}

/* ---- OpenTicket ---- */

/* shelfline_service_desk_tickets_opened_total{category,priority}: tickets
 * recorded (not a retry's answer), by their classification's category and
 * their priority -- both names of closed lists (sd_classify.h, sd_sla.h). */
static void count_opened(const char *category, const char *priority)
{
    sl_metric_add(sl_metric_with(sl_metric_counter("shelfline_service_desk_tickets_opened_total",
                                                   "Tickets opened, by category and priority.",
                                                   (const char *[]){"category", "priority", NULL}),
                                 (const char *[]){category, priority}),
                  1);
}

/* The request's fingerprint: FNV-1a over its fields, and its time; a
 * retry must give the same one. */
static void ticket_fingerprint(const Shelfline__V1__OpenTicketRequest *r, char fp[64])
{
    uint64_t h = 1469598103934665603ULL;
    const char *fields[5] = {r->customer_id, r->order_id ? r->order_id : "", r->subject, r->body,
                             r->language ? r->language : ""};
    for (int k = 0; k < 5; k++) {
        for (const char *q = fields[k]; *q; q++)
            h = (h ^ (unsigned char)*q) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    h = (h ^ (uint64_t)r->channel) * 1099511628211ULL;
    snprintf(fp, 64, "%016" PRIx64 ":%" PRId64, h, r->opened_at_ms);
}

/* The stored ticket if it was opened with the same request; ALREADY_EXISTS
 * if with another. */
static sl_status same_ticket(const char *ticket_id, const char *stored_fp, const char *fp,
                             sl_err *err)
{
    if (strcmp(stored_fp, fp) != 0)
        return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                             "ticket_id \"%s\" was already opened with a different request",
                             ticket_id);
    return SL_OK;
}

/* The order ids and SKUs the ticket mentions, and them as one
 * space-separated string (arena memory). */
static sl_status ticket_mentions(sl_arena *a, const Shelfline__V1__OpenTicketRequest *r,
                                 sd_mentions *men, const char **text_out, sl_err *err)
{
    size_t cap = strlen(r->subject) + strlen(r->body) + 2;
    size_t mcap = 2 * SD_MENTIONS_MAX * (SD_MENTION_LEN + 1) + 1, mlen = 0;
    char *text = sl_arena_alloc(a, cap), *mtext = sl_arena_alloc(a, mcap);
    if (text == NULL || mtext == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(text, cap, "%s\n%s", r->subject, r->body);
    sd_extract_mentions(text, strlen(text), men);
    mtext[0] = '\0';
    for (size_t i = 0; i < men->n_orders + men->n_skus && mlen < mcap; i++)
        mlen += (size_t)snprintf(mtext + mlen, mcap - mlen, "%s%s", mlen ? " " : "",
                                 i < men->n_orders ? men->orders[i] : men->skus[i - men->n_orders]);
    *text_out = mtext;
    return SL_OK;
}

/* The suggested answer: the live ETA of the order a where-is-my-order or
 * delay ticket is about (given, or the first mentioned one that exists),
 * or the live standing of the SKUs an out-of-stock ticket names; "" when
 * there is nothing to say. */
static const char *ticket_suggestion(sd_app *app, sl_call *call, sl_arena *a,
                                     const char *customer_id, const char *order_id,
                                     sd_category category, sd_lang lang, const sd_mentions *men)
{
    const char *about = order_id, *s = NULL;
    bool found = false;
    if (about[0] == '\0' && men->n_orders > 0 &&
        sd_store_order_exists(app->db, 0, men->orders[0], &found, NULL) == SL_OK && found)
        about = men->orders[0];
    if (about[0] != '\0' &&
        (category == SD_CATEGORY_WHERE_IS_MY_ORDER || category == SD_CATEGORY_DELIVERY_DELAY))
        s = suggest(app, a, about, lang);
    else if (category == SD_CATEGORY_OUT_OF_STOCK)
        s = suggest_stock(app, call, a, customer_id, men);
    return s != NULL ? s : "";
}

/* OpenTicket after validation:
 *  1. a ticket recorded under the id answers the retry (or ALREADY_EXISTS);
 *  2. an order named must exist;
 *  3. classify, ask customer-value for the tier, set the priority;
 *  4. the mentions and the suggested answer (live ETA or stock);
 *  5. record it (with its UNMET_DEMAND events) and answer what is stored:
 *     a concurrent attempt may have recorded first. */
sl_status sd_tickets_open(sl_call *call, const Shelfline__V1__OpenTicketRequest *r, sd_lang lang,
                          int64_t now, Shelfline__V1__Ticket **out, sl_err *err)
{
    sd_app *app = sl_call_ctx(call);
    sl_arena *a = sl_call_arena(call);
    int64_t deadline_ms = sl_call_deadline_ms(call);
    char fp[64];
    ticket_fingerprint(r, fp);
    const char *stored_fp, *order_id = r->order_id != NULL ? r->order_id : "";
    sl_status st = sd_tickets_get(app, deadline_ms, a, r->ticket_id, out, &stored_fp, err);
    if (st != SL_NOT_FOUND)
        return st == SL_OK ? same_ticket(r->ticket_id, stored_fp, fp, err) : st;
    bool found = true;
    if (order_id[0] != '\0' &&
        (st = sd_store_order_exists(app->db, deadline_ms, order_id, &found, err)) != SL_OK)
        return st;
    if (!found)
        return sl_err_reason(err, SL_NOT_FOUND, "ORDER_NOT_FOUND", "order_id \"%s\" not found",
                             order_id);

    sd_classification cls;
    if ((st = sd_classify(app->classifier, r->subject, r->body, lang, &cls, err)) != SL_OK)
        return st;
    const char *tier_name;
    sd_tier tier = customer_tier(app, call, a, r->customer_id, &tier_name);
    sd_priority prio = sd_priority_for(NULL, cls.category, tier);
    sd_mentions men;
    const char *mtext = "";
    if ((st = ticket_mentions(a, r, &men, &mtext, err)) != SL_OK)
        return st;

    sd_new_ticket t = {
        .ticket_id = r->ticket_id,
        .fingerprint = fp,
        .customer_id = r->customer_id,
        .order_id = order_id,
        .channel = (int)r->channel,
        .subject = r->subject,
        .body = r->body,
        .language = sd_lang_name(cls.language),
        .category = sd_category_name(cls.category),
        .confidence = cls.confidence,
        .priority = sd_priority_name(prio),
        .tier = tier_name,
        .opened_at_ms = r->opened_at_ms != 0 ? r->opened_at_ms : now,
        .suggested = ticket_suggestion(app, call, a, r->customer_id, order_id, cls.category,
                                       cls.language, &men),
        .mentions = mtext,
    };
    insert_ctx ic = {app, &t, &men, cls.category == SD_CATEGORY_OUT_OF_STOCK, false};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, false);
    if ((st = sl_db_tx(app->db, &o, insert_tx, &ic, err)) != SL_OK)
        return st;
    if (ic.fresh)
        count_opened(t.category, t.priority);
    if ((st = sd_tickets_get(app, deadline_ms, a, r->ticket_id, out, &stored_fp, err)) != SL_OK)
        return st;
    return same_ticket(r->ticket_id, stored_fp, fp, err);
}

/* ---- RespondTicket / ResolveTicket ---- */

typedef struct respond_ctx {
    const Shelfline__V1__RespondTicketRequest *req;
    const Shelfline__V1__ResolveTicketRequest *resolve;
    int64_t now;
    /* out, per attempt: the clocks this call stops */
    bool stops_first_response, stops_resolution;
} respond_ctx;

/* A message on an unresolved ticket in status: its event, the clock's
 * PAUSE or RESUME it implies, and the new status. */
static sl_status respond(sl_db_conn *conn, const Shelfline__V1__RespondTicketRequest *q,
                         const char *status, int64_t at, sl_err *err)
{
    const char *id = q->ticket_id, *to = status;
    bool waiting = strcmp(status, "WAITING") == 0, open = strcmp(status, "OPEN") == 0;
    sl_status st = sd_store_ticket_event(conn, id, q->from_customer ? "CUSTOMER" : "RESPONSE", at,
                                         q->body, err);
    if (st != SL_OK)
        return st;
    if (waiting && (q->from_customer || !q->waiting_on_customer)) {
        st = sd_store_ticket_event(conn, id, "RESUME", at, "", err);
        to = "OPEN";
    } else if (open && !q->from_customer && q->waiting_on_customer) {
        st = sd_store_ticket_event(conn, id, "PAUSE", at, "", err);
        to = "WAITING";
    }
    if (st != SL_OK)
        return st;
    return sd_store_ticket_set(conn, id, to, !q->from_customer, at, err);
}

static sl_status respond_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    respond_ctx *c = vctx;
    const char *id = c->req ? c->req->ticket_id : c->resolve->ticket_id;
    char status[16];
    bool responded;
    c->stops_first_response = c->stops_resolution = false;
    sl_status st = sd_store_ticket_lock(conn, id, status, &responded, err);
    if (st != SL_OK)
        return st;
    bool open = strcmp(status, "RESOLVED") != 0;
    /* What sd_ticket_set and sd_ticket_resolve record: the first response
     * by staff (or the resolution, which answers too) and the resolution. */
    c->stops_first_response = open && !responded && (c->resolve != NULL || !c->req->from_customer);
    c->stops_resolution = open && c->resolve != NULL;
    if (c->resolve != NULL) {
        if (!open)
            return SL_OK; /* idempotent */
        return sd_store_ticket_resolve(conn, id, c->now,
                                       c->resolve->resolution ? c->resolve->resolution : "", err);
    }
    if (strcmp(status, "RESOLVED") == 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "TICKET_RESOLVED",
                             "ticket \"%s\" is resolved", id);
    return respond(conn, c->req, status, c->now, err);
}

/* shelfline_service_desk_sla_breaches_total{clock}: a clock
 * ("first_response", "resolution") counts when it stops breached -- the
 * call that records the late response or resolution counts it, once.  The
 * clocks are read again after the commit (deadlines are never stored); a
 * read that fails leaves the breach uncounted, never the call failed. */
static void count_breaches(sd_app *app, const char *ticket_id, bool first_response, bool resolution)
{
    sl_metric *m = sl_metric_counter("shelfline_service_desk_sla_breaches_total",
                                     "SLA clocks (first_response, resolution) that stopped "
                                     "breached: a response or resolution recorded late.",
                                     (const char *[]){"clock", NULL});
    sl_arena *a = sl_arena_create(0);
    Shelfline__V1__Ticket *t;
    sl_err err;
    if (a == NULL || sd_tickets_get(app, 0, a, ticket_id, &t, NULL, &err) != SL_OK) {
        SL_LOG(SL_LOG_WARN, "sla", NULL, "could not read ticket \"%s\" to count its breaches",
               ticket_id);
    } else {
        if (first_response && t->first_response->breached)
            sl_metric_add(sl_metric_with(m, (const char *[]){"first_response"}), 1);
        if (resolution && t->resolution->breached)
            sl_metric_add(sl_metric_with(m, (const char *[]){"resolution"}), 1);
    }
    sl_arena_destroy(a);
}

sl_status sd_tickets_respond(sd_app *app, int64_t deadline_ms,
                             const Shelfline__V1__RespondTicketRequest *respond_req,
                             const Shelfline__V1__ResolveTicketRequest *resolve_req, sl_err *err)
{
    respond_ctx c = {.req = respond_req, .resolve = resolve_req, .now = sl_db_now_ms()};
    sl_db_tx_options o = sd_store_tx_options(deadline_ms, false);
    sl_status st = sl_db_tx(app->db, &o, respond_tx, &c, err);
    if (st == SL_OK && (c.stops_first_response || c.stops_resolution))
        count_breaches(app, c.req ? c.req->ticket_id : c.resolve->ticket_id, c.stops_first_response,
                       c.stops_resolution);
    return st;
}

/* ---- ListTickets ---- */

/* Whether either running clock of t has breached or will within window. */
static bool breaching(const Shelfline__V1__Ticket *t, int64_t now, int64_t window)
{
    const Shelfline__V1__SlaClock *cl[2] = {t->first_response, t->resolution};
    for (int k = 0; k < 2; k++)
        if (!cl[k]->met && !cl[k]->paused &&
            (cl[k]->breached || (cl[k]->due_at_ms > 0 && cl[k]->due_at_ms <= now + window)))
            return true;
    return false;
}

/*
 * One page: SQL keeps the rows of the filters and, for breaching_within,
 * the tickets that can breach in the window at all (sd_ticket_query); the
 * clocks on business hours are read here and decide.  The page is the
 * next f->limit rows SQL kept (one more tells whether there is a next
 * page), and the token is the key of the last of them whether or not it
 * passed the clock check: a page may hold fewer tickets than the limit,
 * but no ticket is skipped or answered twice.
 */
sl_status sd_tickets_list(sd_app *app, int64_t deadline_ms, sl_arena *a, const sd_ticket_filter *f,
                          int breaching_within_minutes, Shelfline__V1__ListTicketsResponse *out,
                          sl_err *err)
{
    int64_t now = sl_db_now_ms(), window = (int64_t)breaching_within_minutes * 60000;
    sd_ticket_query q = {.status = f->status,
                         .category = f->category,
                         .priority = f->priority,
                         .customer = f->customer,
                         .after_ms = f->after_ms,
                         .after_id = f->after_id,
                         .limit = f->limit + 1,
                         .breaching = window > 0};
    /* Tickets run on the policy version they opened with: the SQL cut-off
     * takes each priority's shortest target over every version, so no
     * ticket that can breach is left out (the clocks then decide). */
    sl_status st = window > 0 ? sd_slabook_sync(app->slas, app->db, deadline_ms, err) : SL_OK;
    if (st != SL_OK)
        return st;
    for (int p = 0; p < SD_PRIORITY_COUNT; p++) {
        q.fr_cutoff_ms[p] =
            now + window -
            sd_slabook_min_target_ms(app->slas, (sd_priority)p, SD_SLA_FIRST_RESPONSE);
        q.rs_cutoff_ms[p] =
            now + window - sd_slabook_min_target_ms(app->slas, (sd_priority)p, SD_SLA_RESOLUTION);
    }
    sd_ticket_rows *rows;
    st = sd_store_tickets_list(app->db, deadline_ms, &q, &rows, err);
    if (st != SL_OK)
        return st;
    int n = sd_ticket_rows_count(rows);
    bool more = n > f->limit;
    if (more)
        n = f->limit;
    out->tickets = sl_arena_zalloc(a, (size_t)(n + 1) * sizeof *out->tickets);
    if (out->tickets == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    const Shelfline__V1__Ticket *last = NULL;
    for (int i = 0; i < n && st == SL_OK; i++) {
        sd_ticket_rec rec;
        Shelfline__V1__Ticket *t = NULL;
        if ((st = sd_ticket_rows_get(rows, i, a, &rec, err)) != SL_OK ||
            (st = ticket_clocks(app, deadline_ms, a, &rec, now, &t, err)) != SL_OK)
            break;
        if (window == 0 || breaching(t, now, window))
            out->tickets[out->n_tickets++] = t;
        last = t;
    }
    sd_ticket_rows_free(rows);
    if (st == SL_OK && more && last != NULL) {
        char key[sizeof f->key];
        snprintf(key, sizeof key, "%" PRId64 ":%s", last->opened_at_ms, last->ticket_id);
        if ((out->next_page_token = sl_page_token_encode(a, key)) == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return st;
}

/* ---- GetSlaReport ---- */

#define REPORT_MAX 100000
#define N_GROUPS (1 + SD_PRIORITY_COUNT + SD_CATEGORY_COUNT)

typedef struct sla_group {
    int64_t tickets, responded, resolved, fr_breached, rs_breached;
    double *fr, *rs; /* minutes, REPORT_MAX each */
} sla_group;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0..n) (sorted in place); 0 when empty. */
static double percentile(double *v, int64_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int64_t k = (int64_t)(p * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    return v[k - 1];
}

/* Counts ticket t into its groups: all, its priority, its category. */
static void count_ticket(sla_group *g, const Shelfline__V1__Ticket *t)
{
    sd_priority prio;
    sd_category cat;
    if (sd_priority_parse(t->priority, &prio, NULL) != SL_OK ||
        sd_category_parse(t->category, &cat, NULL) != SL_OK)
        return;
    int idx[3] = {0, 1 + (int)prio, 1 + SD_PRIORITY_COUNT + (int)cat};
    for (int k = 0; k < 3; k++) {
        sla_group *x = &g[idx[k]];
        x->tickets++;
        if (t->first_response->met)
            x->fr[x->responded++] = (double)t->first_response->elapsed_minutes;
        if (t->resolution->met)
            x->rs[x->resolved++] = (double)t->resolution->elapsed_minutes;
        x->fr_breached += t->first_response->breached;
        x->rs_breached += t->resolution->breached;
    }
}

/* The report's row of group k (NULL when out of memory). */
static Shelfline__V1__SlaReportRow *report_row(sl_arena *a, sla_group *x, int k)
{
    Shelfline__V1__SlaReportRow *row = sl_arena_alloc(a, sizeof *row);
    if (row == NULL)
        return NULL;
    shelfline__v1__sla_report_row__init(row);
    row->priority = k >= 1 && k <= SD_PRIORITY_COUNT ? (char *)sd_priority_name(k - 1) : "";
    row->category = k > SD_PRIORITY_COUNT
                        ? (char *)sd_category_name((sd_category)(k - 1 - SD_PRIORITY_COUNT))
                        : "";
    row->tickets = x->tickets;
    row->responded = x->responded;
    row->resolved = x->resolved;
    row->first_response_p50_minutes = percentile(x->fr, x->responded, 0.5);
    row->first_response_p90_minutes = percentile(x->fr, x->responded, 0.9);
    row->resolution_p50_minutes = percentile(x->rs, x->resolved, 0.5);
    row->resolution_p90_minutes = percentile(x->rs, x->resolved, 0.9);
    row->first_response_breach_rate = (double)x->fr_breached / (double)x->tickets;
    row->resolution_breach_rate = (double)x->rs_breached / (double)x->tickets;
    return row;
}

/* GetSlaReport: every ticket opened in [from_ms, to_ms) (at most
 * REPORT_MAX, one in memory at a time), its clocks read now, grouped. */
sl_status sd_tickets_sla_report(sd_app *app, int64_t deadline_ms, sl_arena *a, int64_t from_ms,
                                int64_t to_ms, Shelfline__V1__SlaReport *out, sl_err *err)
{
    sd_ticket_rows *rows;
    sl_status st = sd_store_tickets_period(app->db, deadline_ms, from_ms, to_ms, &rows, err);
    if (st != SL_OK)
        return st;
    int n = sd_ticket_rows_count(rows);
    out->from_ms = from_ms;
    out->to_ms = to_ms;
    out->truncated = n > REPORT_MAX;
    if (n > REPORT_MAX)
        n = REPORT_MAX;
    sla_group g[N_GROUPS];
    memset(g, 0, sizeof g);
    for (int k = 0; k < N_GROUPS; k++) {
        g[k].fr = sl_malloc(((size_t)n + 1) * sizeof(double));
        g[k].rs = sl_malloc(((size_t)n + 1) * sizeof(double));
        if (g[k].fr == NULL || g[k].rs == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    sl_arena *tmp = sl_arena_create(0);
    if (tmp == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    int64_t now = sl_db_now_ms();
    for (int i = 0; i < n && st == SL_OK; i++) {
        sd_ticket_rec rec;
        Shelfline__V1__Ticket *t = NULL;
        if ((st = sd_ticket_rows_get(rows, i, tmp, &rec, err)) == SL_OK &&
            (st = ticket_clocks(app, deadline_ms, tmp, &rec, now, &t, err)) == SL_OK)
            count_ticket(g, t);
        sl_arena_reset(tmp);
    }
    sd_ticket_rows_free(rows);
    sl_arena_destroy(tmp);
    if (st == SL_OK && (out->rows = sl_arena_zalloc(a, (N_GROUPS + 1) * sizeof *out->rows)) == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int k = 0; k < N_GROUPS && st == SL_OK; k++) {
        if (g[k].tickets == 0)
            continue;
        if ((out->rows[out->n_rows] = report_row(a, &g[k], k)) == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        else
            out->n_rows++;
    }
    for (int k = 0; k < N_GROUPS; k++) {
        free(g[k].fr);
        free(g[k].rs);
    }
    return st;
}
