/*
 * shelfline's service-desk commands: `order place|get|eta|cancel`
 * (PlaceOrder, GetOrder, GetOrderEta, CancelOrder) and `ticket open|list`
 * (OpenTicket, ListTickets).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "shelfline/v1/service_desk.pb-c.h"

static const char *eta_text(cli *c, const Shelfline__V1__EtaRange *e)
{
    if (e == NULL)
        return "-";
    return cli_fmt(c, "%s .. %s (ships %s, %s confidence)", e->p50_date, e->p90_date,
                   e->ship_date[0] != '\0' ? e->ship_date : "-",
                   cli_enum(&shelfline__v1__eta_confidence__descriptor, (int)e->confidence,
                            "ETA_CONFIDENCE_"));
}

static void print_order(cli *c, const Shelfline__V1__Order *o)
{
    cli_kv("order", "%s", o->order_id);
    cli_kv("status", "%s",
           cli_enum(&shelfline__v1__order_status__descriptor, (int)o->status, "ORDER_"));
    cli_kv("customer", "%s", o->customer_id);
    cli_kv("region", "%s", o->region);
    cli_kv("placed", "%s", cli_time(c, o->placed_at_ms));
    cli_kv("promised", "%s", eta_text(c, o->promised));
    if (o->carrier[0] != '\0' || o->tracking[0] != '\0')
        cli_kv("shipment", "%s %s", o->carrier, o->tracking);
    static const char *const head[] = {"LINE", "SKU",     "QTY", "PRICE", "FROM",
                                       "PART", "INBOUND", "P50", "P90"};
    cli_table t;
    cli_table_init(&t, c, 9, head);
    for (size_t i = 0; i < o->n_lines; i++) {
        const Shelfline__V1__OrderLine *l = o->lines[i];
        for (size_t k = 0; k == 0 || k < l->n_allocations; k++) {
            const Shelfline__V1__LineAllocation *al =
                k < l->n_allocations ? l->allocations[k] : NULL;
            bool first = k == 0;
            cli_table_cell(&t, first ? cli_fmt(c, "%d", l->line_no) : NULL);
            cli_table_cell(&t, first ? l->sku : NULL);
            cli_table_cell(&t, first ? cli_fmt(c, "%lld", (long long)l->qty) : NULL);
            const char *price = l->unit_price != NULL ? cli_money(c, l->unit_price->minor_units,
                                                                  l->unit_price->currency)
                                                      : "";
            cli_table_cell(&t, first ? price : NULL);
            cli_table_cell(&t, al != NULL ? al->warehouse_id : "");
            cli_table_cell(&t, al != NULL ? cli_fmt(c, "%lld", (long long)al->qty) : "");
            cli_table_cell(&t, al != NULL ? al->inbound_id : "");
            cli_table_cell(&t, !first ? NULL : l->promised != NULL ? l->promised->p50_date : "");
            cli_table_cell(&t, !first ? NULL : l->promised != NULL ? l->promised->p90_date : "");
        }
    }
    cli_table_print(&t);
}

/* Steps: 1. the lines from the positionals; 2. the call; 3. the order. */
int cli_order_place(cli *c)
{
    Shelfline__V1__PlaceOrderRequest req = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    req.order_id = (char *)c->pos[0];
    if (cli_value(c, "customer") == NULL)
        return cli_usage_error(c, "--customer is required");
    if (cli_value(c, "region") == NULL)
        return cli_usage_error(c, "--region is required");
    req.customer_id = (char *)cli_value(c, "customer");
    req.region = (char *)cli_value(c, "region");
    req.allow_split = cli_flag(c, "split");
    req.allow_backorder = cli_flag(c, "backorder");
    void **lines;
    int rc = cli_lines(c, 1, &shelfline__v1__order_line_request__descriptor, &lines, &req.n_lines);
    if (rc != CLI_EXIT_OK)
        return rc;
    req.lines = (Shelfline__V1__OrderLineRequest **)lines;
    ProtobufCMessage *m;
    if (cli_call(c, "PlaceOrder", &req.base, &shelfline__v1__place_order_response__descriptor,
                 &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__PlaceOrderResponse *r = (const Shelfline__V1__PlaceOrderResponse *)m;
    if (r->replayed)
        printf("(a retry: the order as first placed)\n");
    if (r->order != NULL)
        print_order(c, r->order);
    return CLI_EXIT_OK;
}

int cli_order_get(cli *c)
{
    Shelfline__V1__GetOrderRequest req = SHELFLINE__V1__GET_ORDER_REQUEST__INIT;
    req.order_id = (char *)c->pos[0];
    ProtobufCMessage *m;
    if (cli_call(c, "GetOrder", &req.base, &shelfline__v1__order__descriptor, &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    print_order(c, (const Shelfline__V1__Order *)m);
    return CLI_EXIT_OK;
}

int cli_order_eta(cli *c)
{
    Shelfline__V1__GetOrderEtaRequest req = SHELFLINE__V1__GET_ORDER_ETA_REQUEST__INIT;
    req.order_id = (char *)c->pos[0];
    ProtobufCMessage *m;
    if (cli_call(c, "GetOrderEta", &req.base, &shelfline__v1__order_eta__descriptor, &m) !=
        CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__OrderEta *e = (const Shelfline__V1__OrderEta *)m;
    cli_kv("order", "%s", e->order_id);
    cli_kv("status", "%s",
           cli_enum(&shelfline__v1__order_status__descriptor, (int)e->status, "ORDER_"));
    cli_kv("eta", "%s", eta_text(c, e->current));
    cli_kv("promised", "%s", eta_text(c, e->promised));
    cli_kv("moved", "%s%s%s", e->moved ? "yes" : "no", e->reason[0] != '\0' ? ": " : "", e->reason);
    cli_kv("slips", "%d", e->slips);
    static const char *const head[] = {"LINE", "SKU", "P50", "P90", "MOVED", "WHY"};
    cli_table t;
    cli_table_init(&t, c, 6, head);
    for (size_t i = 0; i < e->n_lines; i++) {
        const Shelfline__V1__LineEta *l = e->lines[i];
        cli_table_cell(&t, cli_fmt(c, "%d", l->line_no));
        cli_table_cell(&t, l->sku);
        cli_table_cell(&t, l->current != NULL ? l->current->p50_date : "");
        cli_table_cell(&t, l->current != NULL ? l->current->p90_date : "");
        cli_table_cell(&t, l->moved ? "yes" : "no");
        cli_table_cell(&t, l->explanation);
    }
    cli_table_print(&t);
    return CLI_EXIT_OK;
}

int cli_order_cancel(cli *c)
{
    Shelfline__V1__CancelOrderRequest req = SHELFLINE__V1__CANCEL_ORDER_REQUEST__INIT;
    req.order_id = (char *)c->pos[0];
    if (cli_value(c, "reason") != NULL)
        req.reason = (char *)cli_value(c, "reason");
    ProtobufCMessage *m;
    if (cli_call(c, "CancelOrder", &req.base, &shelfline__v1__order__descriptor, &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    print_order(c, (const Shelfline__V1__Order *)m);
    return CLI_EXIT_OK;
}

static const char *sla_text(cli *c, const Shelfline__V1__SlaClock *s)
{
    if (s == NULL)
        return "-";
    if (s->met)
        return "met";
    if (s->breached)
        return cli_fmt(c, "BREACHED (due %s)", cli_time(c, s->due_at_ms));
    return cli_fmt(c, "due %s%s", cli_time(c, s->due_at_ms), s->paused ? " (paused)" : "");
}

int cli_ticket_open(cli *c)
{
    static const char *const channels[] = {"email", "chat", "phone", "web"};
    static const Shelfline__V1__TicketChannel channel_values[] = {
        SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_EMAIL,
        SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_CHAT,
        SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_PHONE,
        SHELFLINE__V1__TICKET_CHANNEL__TICKET_CHANNEL_WEB};
    Shelfline__V1__OpenTicketRequest req = SHELFLINE__V1__OPEN_TICKET_REQUEST__INIT;
    req.ticket_id = (char *)c->pos[0];
    int ch = 3;
    if (cli_value(c, "channel") != NULL &&
        (ch = cli_choice(c, "channel", cli_value(c, "channel"), channels, 4)) < 0)
        return CLI_EXIT_USAGE;
    req.channel = channel_values[ch];
    /* Required fields left out are the service's to refuse, naming them. */
    if (cli_value(c, "customer") != NULL)
        req.customer_id = (char *)cli_value(c, "customer");
    if (cli_value(c, "subject") != NULL)
        req.subject = (char *)cli_value(c, "subject");
    if (cli_value(c, "body") != NULL)
        req.body = (char *)cli_value(c, "body");
    if (cli_value(c, "order") != NULL)
        req.order_id = (char *)cli_value(c, "order");
    if (cli_value(c, "language") != NULL)
        req.language = (char *)cli_value(c, "language");
    ProtobufCMessage *m;
    if (cli_call(c, "OpenTicket", &req.base, &shelfline__v1__ticket__descriptor, &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__Ticket *t = (const Shelfline__V1__Ticket *)m;
    cli_kv("ticket", "%s", t->ticket_id);
    cli_kv("status", "%s",
           cli_enum(&shelfline__v1__ticket_status__descriptor, (int)t->status, "TICKET_"));
    cli_kv("customer", "%s", t->customer_id);
    if (t->order_id[0] != '\0')
        cli_kv("order", "%s", t->order_id);
    cli_kv("category", "%s (%.0f%%)", t->category, t->category_confidence * 100);
    cli_kv("priority", "%s", t->priority);
    cli_kv("tier", "%s", t->tier);
    cli_kv("language", "%s", t->language);
    cli_kv("first response", "%s", sla_text(c, t->first_response));
    cli_kv("resolution", "%s", sla_text(c, t->resolution));
    if (t->suggested_answer[0] != '\0')
        cli_kv("suggested", "%s", t->suggested_answer);
    return CLI_EXIT_OK;
}

/* Steps: 1. the filters; 2. the page; 3. the call; 4. the table and the
 * next page's token. */
int cli_ticket_list(cli *c)
{
    static const char *const statuses[] = {"open", "waiting", "resolved"};
    static const Shelfline__V1__TicketStatus status_values[] = {
        SHELFLINE__V1__TICKET_STATUS__TICKET_OPEN,
        SHELFLINE__V1__TICKET_STATUS__TICKET_WAITING_ON_CUSTOMER,
        SHELFLINE__V1__TICKET_STATUS__TICKET_RESOLVED};
    Shelfline__V1__ListTicketsRequest req = SHELFLINE__V1__LIST_TICKETS_REQUEST__INIT;
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    if (cli_value(c, "status") != NULL) {
        int s = cli_choice(c, "status", cli_value(c, "status"), statuses, 3);
        if (s < 0)
            return CLI_EXIT_USAGE;
        req.status = status_values[s];
    }
    if (cli_value(c, "category") != NULL)
        req.category = (char *)cli_value(c, "category");
    if (cli_value(c, "priority") != NULL)
        req.priority = (char *)cli_value(c, "priority");
    if (cli_value(c, "customer") != NULL)
        req.customer_id = (char *)cli_value(c, "customer");
    int64_t v;
    if (cli_value(c, "breaching-within") != NULL) {
        if (!cli_int(c, "--breaching-within", cli_value(c, "breaching-within"), 1, INT32_MAX, &v))
            return CLI_EXIT_USAGE;
        req.breaching_within_minutes = (int32_t)v;
    }
    if (cli_value(c, "limit") != NULL || cli_value(c, "page-token") != NULL) {
        if (cli_value(c, "limit") != NULL) {
            if (!cli_int(c, "--limit", cli_value(c, "limit"), 1, INT32_MAX, &v))
                return CLI_EXIT_USAGE;
            page.page_size = (int32_t)v;
        }
        if (cli_value(c, "page-token") != NULL)
            page.page_token = (char *)cli_value(c, "page-token");
        req.page = &page;
    }
    ProtobufCMessage *m;
    if (cli_call(c, "ListTickets", &req.base, &shelfline__v1__list_tickets_response__descriptor,
                 &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__ListTicketsResponse *r = (const Shelfline__V1__ListTicketsResponse *)m;
    static const char *const head[] = {"TICKET",   "STATUS", "PRIORITY",       "CATEGORY",
                                       "LANGUAGE", "TIER",   "FIRST RESPONSE", "SUBJECT"};
    cli_table t;
    cli_table_init(&t, c, 8, head);
    for (size_t i = 0; i < r->n_tickets; i++) {
        const Shelfline__V1__Ticket *k = r->tickets[i];
        cli_table_cell(&t, k->ticket_id);
        cli_table_cell(
            &t, cli_enum(&shelfline__v1__ticket_status__descriptor, (int)k->status, "TICKET_"));
        cli_table_cell(&t, k->priority);
        cli_table_cell(&t, k->category);
        cli_table_cell(&t, k->language);
        cli_table_cell(&t, k->tier);
        cli_table_cell(&t, sla_text(c, k->first_response));
        cli_table_cell(&t, k->subject);
    }
    cli_table_print(&t);
    if (r->next_page_token[0] != '\0')
        printf("more: --page-token %s\n", r->next_page_token);
    return CLI_EXIT_OK;
}
