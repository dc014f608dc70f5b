/*
 * sd_tickets: support tickets -- OpenTicket (classification with
 * sd_classify, priority from the category and customer-value's tier,
 * SLA clocks with sd_sla, a suggested answer with the live ETA),
 * RespondTicket (first response, pause/resume), ResolveTicket and
 * ListTickets.
 *
 * Deadlines are never stored: a ticket's clocks are read from its opening
 * time, its priority's targets and its pause/resume events whenever it is
 * returned (sd_sla_clock_at), so "breaching within N minutes" is always
 * current and a changed policy applies to open tickets at once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "sd_api.h"
#include "sd_app.h"
#include "sd_store.h"
#include "sd_valid.h"
#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_log.h"

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

/* Parses "PAUSE:123,RESUME:456" into events (arena memory). */
static size_t parse_events(sl_arena *a, const char *s, sd_sla_event **out)
{
    size_t n = 0, cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    sd_sla_event *ev = sl_arena_alloc(a, cap * sizeof *ev);
    *out = ev;
    if (ev == NULL || s[0] == '\0')
        return 0;
    const char *p = s;
    while (*p != '\0' && n < cap) {
        const char *colon = strchr(p, ':');
        if (colon == NULL)
            break;
        ev[n].kind = strncmp(p, "PAUSE", 5) == 0 ? SD_SLA_PAUSE : SD_SLA_RESUME;
        char *end;
        ev[n].at_ms = strtoll(colon + 1, &end, 10);
        n++;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

static sl_status ticket_row(sd_app *app, sl_arena *a, PGresult *r, int i, int64_t now,
                            Shelfline__V1__Ticket **out, sl_err *err)
{
    Shelfline__V1__Ticket *t = sl_arena_alloc(a, sizeof *t);
    if (t == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__ticket__init(t);
#define S(c) sl_arena_strdup(a, PQgetvalue(r, i, c))
#define N(c) strtoll(PQgetvalue(r, i, c), NULL, 10)
    t->ticket_id = S(0);
    t->customer_id = S(2);
    t->order_id = S(3);
    t->channel = (Shelfline__V1__TicketChannel)N(4);
    t->subject = S(5);
    t->body = S(6);
    t->language = S(7);
    t->category = S(8);
    t->category_confidence = strtod(PQgetvalue(r, i, 9), NULL);
    t->priority = S(10);
    t->tier = S(11);
    const char *status = PQgetvalue(r, i, 12);
    t->status = strcmp(status, "OPEN") == 0 ? SHELFLINE__V1__TICKET_STATUS__TICKET_OPEN
                : strcmp(status, "WAITING") == 0
                    ? SHELFLINE__V1__TICKET_STATUS__TICKET_WAITING_ON_CUSTOMER
                    : SHELFLINE__V1__TICKET_STATUS__TICKET_RESOLVED;
    t->opened_at_ms = N(13);
    int64_t first = N(14), resolved = N(15);
    t->suggested_answer = S(16);
    const char *mentions = PQgetvalue(r, i, 17);
    if (mentions[0] != '\0') {
        size_t k = 1;
        for (const char *p = mentions; *p; p++)
            k += *p == ' ';
        t->mentions = sl_arena_zalloc(a, (k + 1) * sizeof *t->mentions);
        char *copy = sl_arena_strdup(a, mentions);
        if (t->mentions == NULL || copy == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        for (char *p = copy; p != NULL && *p;) {
            t->mentions[t->n_mentions++] = p;
            p = strchr(p, ' ');
            if (p != NULL)
                *p++ = '\0';
        }
    }
    sd_sla_event *ev;
    size_t n_ev = parse_events(a, PQgetvalue(r, i, 18), &ev);
#undef S
#undef N
    sd_priority prio;
    if (sd_priority_parse(t->priority, &prio, err) != SL_OK)
        return SL_INTERNAL;
    int64_t frt = sd_sla_target_ms(app->sla, prio, SD_SLA_FIRST_RESPONSE);
    int64_t rst = sd_sla_target_ms(app->sla, prio, SD_SLA_RESOLUTION);
    sd_sla_clock fr, rs;
    int64_t fr_at = first > 0 ? first : now, rs_at = resolved > 0 ? resolved : now;
    if (fr_at < t->opened_at_ms)
        fr_at = t->opened_at_ms;
    if (rs_at < t->opened_at_ms)
        rs_at = t->opened_at_ms;
    sl_status st;
    if ((st = sd_sla_clock_at(app->sla, t->opened_at_ms, frt, NULL, 0, fr_at, &fr, err)) != SL_OK ||
        (st = sd_sla_clock_at(app->sla, t->opened_at_ms, rst, ev, n_ev, rs_at, &rs, err)) != SL_OK)
        return st;
    t->first_response = clock_msg(a, &fr, frt, first > 0);
    t->resolution = clock_msg(a, &rs, rst, resolved > 0);
    if (t->first_response == NULL || t->resolution == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *out = t;
    return SL_OK;
}

static sl_status load_ticket(sd_app *app, sl_arena *a, const char *id, Shelfline__V1__Ticket **out,
                             const char **fingerprint, sl_err *err)
{
    sl_db_conn *conn;
    sl_status st = sl_db_acquire(app->db, -1, &conn, err);
    if (st != SL_OK)
        return st;
    PGresult *r = NULL;
    const char *p[1] = {id};
    if ((st = sl_db_exec(conn, "sd_ticket_get", 1, p, NULL, NULL, &r, err)) == SL_OK) {
        if (PQntuples(r) == 0) {
            st = sl_err_set(err, SL_NOT_FOUND, "ticket_id \"%s\" not found", id);
        } else {
            st = ticket_row(app, a, r, 0, sl_db_now_ms(), out, err);
            if (fingerprint != NULL)
                *fingerprint = sl_arena_strdup(a, PQgetvalue(r, 0, 1));
        }
    }
    PQclear(r);
    sl_db_release(app->db, conn);
    return st;
}

/* ---- OpenTicket ---- */

/* The customer's tier from customer-value; "unknown" (priced as NEW) when
 * it does not answer in time or does not know the customer. */
static sd_tier customer_tier(sd_app *app, sl_arena *a, const char *customer_id, const char **name)
{
    *name = "unknown";
    if (app->customer_value == NULL)
        return SD_TIER_NEW;
    Shelfline__V1__GetCustomerValueRequest r = SHELFLINE__V1__GET_CUSTOMER_VALUE_REQUEST__INIT;
    r.customer_id = (char *)customer_id;
    ProtobufCMessage *m;
    sl_call_options o = {.timeout_ms = app->cfg.tier_timeout_ms};
    sl_err e;
    if (sl_client_unary(app->customer_value, "/shelfline.v1.CustomerValueService/GetCustomerValue",
                        &r.base, &shelfline__v1__customer_value__descriptor, a, &m, &o,
                        &e) != SL_OK)
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

static bool order_exists(sd_app *app, const char *order_id, sl_status *st, sl_err *err)
{
    sl_db_conn *conn;
    if ((*st = sl_db_acquire(app->db, -1, &conn, err)) != SL_OK)
        return false;
    PGresult *r = NULL;
    const char *p[1] = {order_id};
    bool found = false;
    if ((*st = sl_db_exec(conn, "sd_order_exists", 1, p, NULL, NULL, &r, err)) == SL_OK)
        found = PQntuples(r) == 1;
    PQclear(r);
    sl_db_release(app->db, conn);
    return found;
}

/* "Order o-1: <why it moved | where it ships from>; delivery expected
 * <p50>, at the latest <p90>." from the live ETA; NULL when none. */
static const char *suggest(sd_app *app, sl_arena *a, const char *order_id)
{
    Shelfline__V1__OrderEta *e = sl_arena_alloc(a, sizeof *e);
    if (e == NULL)
        return NULL;
    shelfline__v1__order_eta__init(e);
    sl_err err;
    if (sd_orders_eta(app, 0, a, order_id, e, &err) != SL_OK || e->current == NULL)
        return NULL;
    const char *why = e->moved && e->reason[0] != '\0' ? e->reason
                      : e->n_lines > 0                 ? e->lines[0]->explanation
                                                       : "";
    size_t cap = strlen(why) + 256;
    char *s = sl_arena_alloc(a, cap);
    if (s == NULL)
        return NULL;
    if (e->status == SHELFLINE__V1__ORDER_STATUS__ORDER_CANCELLED)
        snprintf(s, cap, "Order %s was cancelled.", order_id);
    else
        snprintf(s, cap, "Order %s: %s. Delivery expected %s, at the latest %s.", order_id, why,
                 e->current->p50_date, e->current->p90_date);
    return s;
}

typedef struct insert_ctx {
    sd_app *app;
    const char *const *p; /* sd_ticket_insert's 15 parameters */
    const sd_mentions *mentions;
    bool unmet;
    int64_t opened_at;
} insert_ctx;

/* Records the ticket and, for a new out-of-stock ticket, one UNMET_DEMAND
 * event per SKU it names, in one transaction. */
static sl_status insert_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    insert_ctx *c = vctx;
    PGresult *res = NULL;
    sl_status st = sl_db_exec(conn, "sd_ticket_insert", 15, c->p, NULL, NULL, &res, err);
    bool fresh = st == SL_OK && PQntuples(res) == 1;
    PQclear(res);
    if (!fresh || !c->unmet || c->mentions->n_skus == 0)
        return st;
    const char *q[1] = {c->p[2]};
    if ((st = sl_db_exec(conn, "sd_customer_region", 1, q, NULL, NULL, &res, err)) != SL_OK)
        return st;
    char region[40] = "";
    if (PQntuples(res) == 1)
        snprintf(region, sizeof region, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    for (size_t i = 0; i < c->mentions->n_skus && st == SL_OK; i++) {
        Shelfline__V1__UnmetDemand u = SHELFLINE__V1__UNMET_DEMAND__INIT;
        u.sku = (char *)c->mentions->skus[i];
        u.region = region;
        u.ticket_id = (char *)c->p[0];
        u.customer_id = (char *)c->p[2];
        u.at_ms = c->opened_at;
        st = sl_events_publish(c->app->events, conn, "UNMET_DEMAND", u.sku, &u.base, err);
    }
    return st;
}

/* The region of the customer's latest order into buf ("" when none). */
static void customer_region(sd_app *app, const char *customer_id, char *buf, size_t cap)
{
    buf[0] = '\0';
    sl_db_conn *conn;
    if (sl_db_acquire(app->db, -1, &conn, NULL) != SL_OK)
        return;
    PGresult *r = NULL;
    const char *p[1] = {customer_id};
    if (sl_db_exec(conn, "sd_customer_region", 1, p, NULL, NULL, &r, NULL) == SL_OK &&
        PQntuples(r) == 1)
        snprintf(buf, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    sl_db_release(app->db, conn);
}

/* For an out-of-stock question: each SKU named, as it stands now in the
 * customer's region (live availability, so OUT_OF_STOCK shows at once);
 * NULL when there is nothing to say (no region, unknown SKUs, inventory
 * not answering in time). */
static const char *suggest_stock(sd_app *app, sl_arena *a, const char *customer_id,
                                 const sd_mentions *men)
{
    char region[40];
    customer_region(app, customer_id, region, sizeof region);
    if (region[0] == '\0' || men->n_skus == 0)
        return NULL;
    char **skus = sl_arena_alloc(a, men->n_skus * sizeof *skus);
    Shelfline__V1__QuoteEtaResponse *q = sl_arena_alloc(a, sizeof *q);
    if (skus == NULL || q == NULL)
        return NULL;
    shelfline__v1__quote_eta_response__init(q);
    for (size_t i = 0; i < men->n_skus; i++)
        skus[i] = (char *)men->skus[i];
    int64_t t = app->cfg.inventory_timeout_ms < 1000 ? app->cfg.inventory_timeout_ms : 1000;
    if (sd_orders_quote(app, a, region, skus, men->n_skus, sl_db_now_ms(), t, q, NULL) != SL_OK)
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

SD_API(open_ticket)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__OpenTicketRequest *r = (const void *)req;
    sl_arena *a = sl_call_arena(call);
    int64_t now = sl_db_now_ms();
    sl_status st;
    sd_lang lang;
    if ((st = sd_valid_open_ticket(r, now, &lang, err)) != SL_OK)
        return st;
    const char *order_id = r->order_id != NULL ? r->order_id : "";
    /* the request's fingerprint: FNV-1a over its fields, and its time */
    char fp[64];
    uint64_t h = 1469598103934665603ULL;
    const char *fields[5] = {r->customer_id, order_id, r->subject, r->body,
                             r->language ? r->language : ""};
    for (int k = 0; k < 5; k++) {
        for (const char *q = fields[k]; *q; q++)
            h = (h ^ (unsigned char)*q) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    h = (h ^ (uint64_t)r->channel) * 1099511628211ULL;
    snprintf(fp, sizeof fp, "%016" PRIx64 ":%" PRId64, h, r->opened_at_ms);

    Shelfline__V1__Ticket *t;
    const char *old_fp;
    st = load_ticket(app, a, r->ticket_id, &t, &old_fp, err);
    if (st == SL_OK) {
        if (strcmp(old_fp, fp) != 0)
            return sl_err_set(err, SL_ALREADY_EXISTS,
                              "ticket_id \"%s\" was already opened with a different request",
                              r->ticket_id);
        *(Shelfline__V1__Ticket *)resp = *t;
        return SL_OK;
    }
    if (st != SL_NOT_FOUND)
        return st;
    if (order_id[0] != '\0') {
        bool found = order_exists(app, order_id, &st, err);
        if (st != SL_OK)
            return st;
        if (!found)
            return sl_err_set(err, SL_NOT_FOUND, "order_id \"%s\" not found", order_id);
    }

    sd_classification cls;
    if ((st = sd_classify(app->classifier, r->subject, r->body, lang, &cls, err)) != SL_OK)
        return st;
    const char *tier_name;
    sd_tier tier = customer_tier(app, a, r->customer_id, &tier_name);
    sd_priority prio = sd_priority_for(NULL, cls.category, tier);

    /* mentions, and the order a where-is-my-order answer is about */
    sd_mentions men;
    size_t cap = strlen(r->subject) + strlen(r->body) + 2;
    char *text = sl_arena_alloc(a, cap);
    char *mtext = sl_arena_alloc(a, 2 * SD_MENTIONS_MAX * (SD_MENTION_LEN + 1) + 1);
    if (text == NULL || mtext == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    snprintf(text, cap, "%s\n%s", r->subject, r->body);
    sd_extract_mentions(text, strlen(text), &men);
    size_t mcap = 2 * SD_MENTIONS_MAX * (SD_MENTION_LEN + 1) + 1, mlen = 0;
    mtext[0] = '\0';
    for (size_t i = 0; i < men.n_orders + men.n_skus && mlen < mcap; i++)
        mlen += (size_t)snprintf(mtext + mlen, mcap - mlen, "%s%s", mlen ? " " : "",
                                 i < men.n_orders ? men.orders[i] : men.skus[i - men.n_orders]);
    const char *about = order_id;
    if (about[0] == '\0' && men.n_orders > 0) {
        sl_status st2;
        if (order_exists(app, men.orders[0], &st2, NULL))
            about = men.orders[0];
    }
    const char *suggestion = "";
    if (about[0] != '\0' && (cls.category == SD_CATEGORY_WHERE_IS_MY_ORDER ||
                             cls.category == SD_CATEGORY_DELIVERY_DELAY)) {
        const char *s = suggest(app, a, about);
        if (s != NULL)
            suggestion = s;
    } else if (cls.category == SD_CATEGORY_OUT_OF_STOCK) {
        const char *s = suggest_stock(app, a, r->customer_id, &men);
        if (s != NULL)
            suggestion = s;
    }

    char b[4][32];
    snprintf(b[0], sizeof b[0], "%d", (int)r->channel);
    snprintf(b[1], sizeof b[1], "%.4f", cls.confidence);
    snprintf(b[2], sizeof b[2], "%" PRId64, r->opened_at_ms != 0 ? r->opened_at_ms : now);
    const char *p[15] = {r->ticket_id,
                         fp,
                         r->customer_id,
                         order_id,
                         b[0],
                         r->subject,
                         r->body,
                         sd_lang_name(cls.language),
                         sd_category_name(cls.category),
                         b[1],
                         sd_priority_name(prio),
                         tier_name,
                         b[2],
                         suggestion,
                         mtext};
    insert_ctx ic = {.app = app,
                     .p = p,
                     .mentions = &men,
                     .unmet = cls.category == SD_CATEGORY_OUT_OF_STOCK,
                     .opened_at = r->opened_at_ms != 0 ? r->opened_at_ms : now};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(app->db, &o, insert_tx, &ic, err)) != SL_OK)
        return st;
    /* a concurrent attempt may have inserted first: answer what is stored */
    if ((st = load_ticket(app, a, r->ticket_id, &t, &old_fp, err)) != SL_OK)
        return st;
    if (strcmp(old_fp, fp) != 0)
        return sl_err_set(err, SL_ALREADY_EXISTS,
                          "ticket_id \"%s\" was already opened with a different request",
                          r->ticket_id);
    *(Shelfline__V1__Ticket *)resp = *t;
    return SL_OK;
}

/* ---- RespondTicket / ResolveTicket ---- */

typedef struct respond_ctx {
    const Shelfline__V1__RespondTicketRequest *req;
    const Shelfline__V1__ResolveTicketRequest *resolve;
    int64_t now;
} respond_ctx;

static sl_status event(sl_db_conn *conn, const char *id, const char *kind, const char *at,
                       const char *body, sl_err *err)
{
    const char *p[4] = {id, kind, at, body};
    return sl_db_exec(conn, "sd_ticket_event", 4, p, NULL, NULL, NULL, err);
}

static sl_status respond_tx(sl_db_conn *conn, void *vctx, sl_err *err)
{
    respond_ctx *c = vctx;
    const char *id = c->req ? c->req->ticket_id : c->resolve->ticket_id;
    const char *p[1] = {id};
    PGresult *r = NULL;
    sl_status st = sl_db_exec(conn, "sd_ticket_lock", 1, p, NULL, NULL, &r, err);
    if (st != SL_OK)
        return st;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return sl_err_set(err, SL_NOT_FOUND, "ticket_id \"%s\" not found", id);
    }
    char status[16];
    snprintf(status, sizeof status, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    char at[24];
    sd_i64(at, c->now);
    if (c->resolve != NULL) {
        if (strcmp(status, "RESOLVED") == 0)
            return SL_OK; /* idempotent */
        const char *q[3] = {id, at, c->resolve->resolution ? c->resolve->resolution : ""};
        return sl_db_exec(conn, "sd_ticket_resolve", 3, q, NULL, NULL, NULL, err);
    }
    if (strcmp(status, "RESOLVED") == 0)
        return sl_err_set(err, SL_FAILED_PRECONDITION, "ticket \"%s\" is resolved", id);
    const Shelfline__V1__RespondTicketRequest *q = c->req;
    const char *to = status;
    bool first = false;
    if (q->from_customer) {
        if ((st = event(conn, id, "CUSTOMER", at, q->body, err)) != SL_OK)
            return st;
        if (strcmp(status, "WAITING") == 0) {
            if ((st = event(conn, id, "RESUME", at, "", err)) != SL_OK)
                return st;
            to = "OPEN";
        }
    } else {
        first = true;
        if ((st = event(conn, id, "RESPONSE", at, q->body, err)) != SL_OK)
            return st;
        if (q->waiting_on_customer && strcmp(status, "OPEN") == 0) {
            if ((st = event(conn, id, "PAUSE", at, "", err)) != SL_OK)
                return st;
            to = "WAITING";
        } else if (!q->waiting_on_customer && strcmp(status, "WAITING") == 0) {
            if ((st = event(conn, id, "RESUME", at, "", err)) != SL_OK)
                return st;
            to = "OPEN";
        }
    }
    const char *u[4] = {id, to, first ? "true" : "false", at};
    return sl_db_exec(conn, "sd_ticket_set", 4, u, NULL, NULL, NULL, err);
}

SD_API(respond_ticket)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__RespondTicketRequest *r = (const void *)req;
    sl_status st = sd_valid_respond_ticket(r, err);
    if (st != SL_OK)
        return st;
    respond_ctx c = {.req = r, .now = sl_db_now_ms()};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(app->db, &o, respond_tx, &c, err);
    Shelfline__V1__Ticket *t;
    if (st != SL_OK ||
        (st = load_ticket(app, sl_call_arena(call), r->ticket_id, &t, NULL, err)) != SL_OK)
        return st;
    *(Shelfline__V1__Ticket *)resp = *t;
    return SL_OK;
}

SD_API(resolve_ticket)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__ResolveTicketRequest *r = (const void *)req;
    sl_status st = sd_valid_resolve_ticket(r, err);
    if (st != SL_OK)
        return st;
    respond_ctx c = {.resolve = r, .now = sl_db_now_ms()};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    st = sl_db_tx(app->db, &o, respond_tx, &c, err);
    Shelfline__V1__Ticket *t;
    if (st != SL_OK ||
        (st = load_ticket(app, sl_call_arena(call), r->ticket_id, &t, NULL, err)) != SL_OK)
        return st;
    *(Shelfline__V1__Ticket *)resp = *t;
    return SL_OK;
}

/* ---- ListTickets ---- */

SD_API(list_tickets)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__ListTicketsRequest *r = (const void *)req;
    Shelfline__V1__ListTicketsResponse *out = (void *)resp;
    sl_arena *a = sl_call_arena(call);
    sd_ticket_filter f;
    sl_status st = sd_valid_list_tickets(r, &f, err);
    if (st != SL_OK)
        return st;
    sl_db_conn *conn;
    if ((st = sl_db_acquire_by(app->db, sl_call_deadline_ms(call), &conn, err)) != SL_OK)
        return st;
    PGresult *res = NULL;
    const char *p[4] = {f.status, f.category, f.priority, f.customer};
    st = sl_db_exec(conn, "sd_ticket_list", 4, p, NULL, NULL, &res, err);
    sl_db_release(app->db, conn);
    if (st != SL_OK)
        return st;
    int n = PQntuples(res);
    int64_t now = sl_db_now_ms(), window = (int64_t)r->breaching_within_minutes * 60000;
    out->tickets = sl_arena_zalloc(a, (size_t)(n + 1) * sizeof *out->tickets);
    if (out->tickets == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (int i = 0; i < n && st == SL_OK; i++) {
        Shelfline__V1__Ticket *t;
        if ((st = ticket_row(app, a, res, i, now, &t, err)) != SL_OK)
            break;
        if (window > 0) {
            bool hit = false;
            const Shelfline__V1__SlaClock *cl[2] = {t->first_response, t->resolution};
            for (int k = 0; k < 2; k++)
                if (!cl[k]->met && !cl[k]->paused &&
                    (cl[k]->breached || (cl[k]->due_at_ms > 0 && cl[k]->due_at_ms <= now + window)))
                    hit = true;
            if (!hit)
                continue;
        }
        out->tickets[out->n_tickets++] = t;
    }
    PQclear(res);
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

SD_API(get_sla_report)
{
    sd_app *app = sl_call_ctx(call);
    const Shelfline__V1__GetSlaReportRequest *r = (const void *)req;
    Shelfline__V1__SlaReport *out = (void *)resp;
    sl_arena *a = sl_call_arena(call);
    if (sd_valid_sla_report(r, err) != SL_OK)
        return SL_INVALID_ARGUMENT;
    char b[2][24];
    const char *p[2] = {sd_i64(b[0], r->from_ms), sd_i64(b[1], r->to_ms)};
    sl_db_conn *conn;
    sl_status st = sl_db_acquire_by(app->db, sl_call_deadline_ms(call), &conn, err);
    if (st != SL_OK)
        return st;
    PGresult *res = NULL;
    st = sl_db_exec(conn, "sd_ticket_period", 2, p, NULL, NULL, &res, err);
    sl_db_release(app->db, conn);
    if (st != SL_OK)
        return st;
    int n = PQntuples(res);
    out->from_ms = r->from_ms;
    out->to_ms = r->to_ms;
    out->truncated = n > REPORT_MAX;
    if (n > REPORT_MAX)
        n = REPORT_MAX;
    sla_group g[N_GROUPS];
    memset(g, 0, sizeof g);
    for (int k = 0; k < N_GROUPS; k++) {
        g[k].fr = malloc(((size_t)n + 1) * sizeof(double));
        g[k].rs = malloc(((size_t)n + 1) * sizeof(double));
        if (g[k].fr == NULL || g[k].rs == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    sl_arena *tmp = sl_arena_create(0);
    if (tmp == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    int64_t now = sl_db_now_ms();
    for (int i = 0; i < n && st == SL_OK; i++) {
        Shelfline__V1__Ticket *t;
        if ((st = ticket_row(app, tmp, res, i, now, &t, err)) != SL_OK)
            break;
        sd_priority prio;
        sd_category cat;
        if (sd_priority_parse(t->priority, &prio, NULL) != SL_OK ||
            sd_category_parse(t->category, &cat, NULL) != SL_OK) {
            sl_arena_reset(tmp);
            continue;
        }
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
        sl_arena_reset(tmp);
    }
    PQclear(res);
    sl_arena_destroy(tmp);
    if (st == SL_OK) {
        out->rows = sl_arena_zalloc(a, (N_GROUPS + 1) * sizeof *out->rows);
        if (out->rows == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int k = 0; k < N_GROUPS && st == SL_OK; k++) {
        sla_group *x = &g[k];
        if (x->tickets == 0)
            continue;
        Shelfline__V1__SlaReportRow *row = sl_arena_alloc(a, sizeof *row);
        if (row == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            break;
        }
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
        out->rows[out->n_rows++] = row;
    }
    for (int k = 0; k < N_GROUPS; k++) {
        free(g[k].fr);
        free(g[k].rs);
    }
    return st;
}
