/*
 * shelfline's inventory commands: `stock` (GetStock, or GetAvailability
 * with --region), `reserve hold|get|commit|release` (Reserve,
 * GetReservation, Commit, Release) and `feed` (GetStockFeed, every page:
 * a table, JSON, or a Merchant Center feed file with --out).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "shelfline/v1/inventory.pb-c.h"

static int stock_levels(cli *c)
{
    Shelfline__V1__GetStockRequest req = SHELFLINE__V1__GET_STOCK_REQUEST__INIT;
    req.sku = (char *)c->pos[0];
    if (cli_value(c, "warehouse") != NULL)
        req.warehouse_id = (char *)cli_value(c, "warehouse");
    ProtobufCMessage *m;
    if (cli_call(c, "GetStock", &req.base, &shelfline__v1__get_stock_response__descriptor, &m) !=
        CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__GetStockResponse *r = (const Shelfline__V1__GetStockResponse *)m;
    static const char *const head[] = {"WAREHOUSE", "ON_HAND", "RESERVED", "AVAILABLE",
                                       "INCOMING",  "SAFETY",  "LOW_AT",   "UPDATED"};
    cli_table t;
    cli_table_init(&t, c, 8, head);
    for (size_t i = 0; i < r->n_levels; i++) {
        const Shelfline__V1__StockLevel *l = r->levels[i];
        cli_table_cell(&t, l->warehouse_id);
        cli_table_cell(&t, cli_fmt(c, "%lld", (long long)l->on_hand));
        cli_table_cell(&t, cli_fmt(c, "%lld", (long long)l->reserved));
        cli_table_cell(&t, cli_fmt(c, "%lld", (long long)l->available));
        cli_table_cell(&t, cli_fmt(c, "%lld", (long long)l->incoming));
        cli_table_cell(&t, cli_fmt(c, "%lld", (long long)l->safety_stock));
        cli_table_cell(&t, cli_fmt(c, "%lld", (long long)l->low_stock_threshold));
        cli_table_cell(&t, cli_time(c, l->updated_at_ms));
    }
    printf("%s\n", c->pos[0]);
    cli_table_print(&t);
    return CLI_EXIT_OK;
}

static int availability(cli *c)
{
    if (cli_value(c, "warehouse") != NULL)
        return cli_usage_error(c, "--warehouse and --region do not go together");
    Shelfline__V1__GetAvailabilityRequest req = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    char *skus[1] = {(char *)c->pos[0]};
    req.skus = skus;
    req.n_skus = 1;
    req.region = (char *)cli_value(c, "region");
    ProtobufCMessage *m;
    if (cli_call(c, "GetAvailability", &req.base,
                 &shelfline__v1__get_availability_response__descriptor, &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__GetAvailabilityResponse *r =
        (const Shelfline__V1__GetAvailabilityResponse *)m;
    for (size_t i = 0; i < r->n_items; i++) {
        const Shelfline__V1__Availability *av = r->items[i];
        cli_kv("sku", "%s", av->sku);
        cli_kv("region", "%s", r->region);
        cli_kv("status", "%s",
               cli_enum(&shelfline__v1__availability__status__descriptor, av->status, ""));
        cli_kv("available", "%lld%s%s", (long long)av->available, av->hint[0] != '\0' ? " -- " : "",
               av->hint);
        if (av->next_inbound != NULL)
            cli_kv("next inbound", "%s to %s, %lld units, expected %s",
                   av->next_inbound->inbound_id, av->next_inbound->warehouse_id,
                   (long long)av->next_inbound->qty, cli_time(c, av->next_inbound->expected_at_ms));
        static const char *const head[] = {"WAREHOUSE", "AVAILABLE", "TRANSIT_P50", "TRANSIT_P90"};
        cli_table t;
        cli_table_init(&t, c, 4, head);
        for (size_t k = 0; k < av->n_warehouses; k++) {
            const Shelfline__V1__WarehouseAvailability *w = av->warehouses[k];
            cli_table_cell(&t, w->warehouse_id);
            cli_table_cell(&t, cli_fmt(c, "%lld", (long long)w->available));
            cli_table_cell(&t, cli_fmt(c, "%d d", w->transit_p50_days));
            cli_table_cell(&t, cli_fmt(c, "%d d", w->transit_p90_days));
        }
        cli_table_print(&t);
    }
    return CLI_EXIT_OK;
}

int cli_stock(cli *c)
{
    return cli_value(c, "region") != NULL ? availability(c) : stock_levels(c);
}

static void print_reservation(cli *c, const Shelfline__V1__Reservation *r)
{
    cli_kv("reservation", "%s", r->reservation_id);
    cli_kv("status", "%s",
           cli_enum(&shelfline__v1__reservation__status__descriptor, r->status, ""));
    cli_kv("customer", "%s", r->customer_id[0] != '\0' ? r->customer_id : "-");
    cli_kv("region", "%s", r->region);
    cli_kv("created", "%s", cli_time(c, r->created_at_ms));
    cli_kv("expires", "%s", cli_time(c, r->expires_at_ms));
    if (r->closed_at_ms != 0)
        cli_kv("closed", "%s", cli_time(c, r->closed_at_ms));
    static const char *const head[] = {"SKU",  "QTY",     "PRICE",   "WAREHOUSE",
                                       "PART", "INBOUND", "EXPECTED"};
    cli_table t;
    cli_table_init(&t, c, 7, head);
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shelfline__V1__ReservationLine *l = r->lines[i];
        const char *price = l->unit_price != NULL
                                ? cli_money(c, l->unit_price->minor_units, l->unit_price->currency)
                                : "-";
        for (size_t k = 0; k == 0 || k < l->n_allocations; k++) {
            const Shelfline__V1__Allocation *al = k < l->n_allocations ? l->allocations[k] : NULL;
            cli_table_cell(&t, k == 0 ? l->sku : NULL);
            cli_table_cell(&t, k == 0 ? cli_fmt(c, "%lld", (long long)l->qty) : NULL);
            cli_table_cell(&t, k == 0 ? price : NULL);
            cli_table_cell(&t, al != NULL ? al->warehouse_id : "");
            cli_table_cell(&t, al != NULL ? cli_fmt(c, "%lld", (long long)al->qty) : "");
            cli_table_cell(&t, al != NULL ? al->inbound_id : "");
            cli_table_cell(
                &t, al != NULL && al->expected_at_ms != 0 ? cli_time(c, al->expected_at_ms) : "");
        }
    }
    cli_table_print(&t);
}

int cli_reserve_hold(cli *c)
{
    Shelfline__V1__ReserveRequest req = SHELFLINE__V1__RESERVE_REQUEST__INIT;
    req.reservation_id = (char *)c->pos[0];
    if (cli_value(c, "region") == NULL)
        return cli_usage_error(c, "--region is required");
    req.region = (char *)cli_value(c, "region");
    if (cli_value(c, "customer") != NULL)
        req.customer_id = (char *)cli_value(c, "customer");
    req.allow_split = cli_flag(c, "split");
    req.allow_backorder = cli_flag(c, "backorder");
    int64_t hold_s = 0;
    if (cli_value(c, "hold") != NULL &&
        !cli_int(c, "--hold", cli_value(c, "hold"), 1, 7 * 86400, &hold_s))
        return CLI_EXIT_USAGE;
    req.hold_ttl_ms = hold_s * 1000;
    void **lines;
    int rc = cli_lines(c, 1, &shelfline__v1__reserve_line__descriptor, &lines, &req.n_lines);
    if (rc != CLI_EXIT_OK)
        return rc;
    req.lines = (Shelfline__V1__ReserveLine **)lines;
    ProtobufCMessage *m;
    if (cli_call(c, "Reserve", &req.base, &shelfline__v1__reserve_response__descriptor, &m) !=
        CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    const Shelfline__V1__ReserveResponse *r = (const Shelfline__V1__ReserveResponse *)m;
    if (r->replayed)
        printf("(a retry: the reservation as first answered)\n");
    if (r->reservation != NULL)
        print_reservation(c, r->reservation);
    return CLI_EXIT_OK;
}

/* GetReservation, Commit and Release: the same request shape (the id) and
 * answer (the reservation). */
static int by_id(cli *c, const char *method)
{
    Shelfline__V1__GetReservationRequest get = SHELFLINE__V1__GET_RESERVATION_REQUEST__INIT;
    Shelfline__V1__CommitRequest commit = SHELFLINE__V1__COMMIT_REQUEST__INIT;
    Shelfline__V1__ReleaseRequest release = SHELFLINE__V1__RELEASE_REQUEST__INIT;
    ProtobufCMessage *req;
    if (strcmp(method, "Commit") == 0) {
        commit.reservation_id = (char *)c->pos[0];
        req = &commit.base;
    } else if (strcmp(method, "Release") == 0) {
        release.reservation_id = (char *)c->pos[0];
        req = &release.base;
    } else {
        get.reservation_id = (char *)c->pos[0];
        req = &get.base;
    }
    ProtobufCMessage *m;
    if (cli_call(c, method, req, &shelfline__v1__reservation__descriptor, &m) != CLI_EXIT_OK)
        return CLI_EXIT_FAILED;
    if (c->json)
        return cli_print_json(c, m);
    print_reservation(c, (const Shelfline__V1__Reservation *)m);
    return CLI_EXIT_OK;
}

int cli_reserve_get(cli *c)
{
    return by_id(c, "GetReservation");
}

int cli_reserve_commit(cli *c)
{
    return by_id(c, "Commit");
}

int cli_reserve_release(cli *c)
{
    return by_id(c, "Release");
}

/* ---- feed: GetStockFeed, every page, as a table, JSON or a feed file ---- */

/* Writes text into a tab-separated feed cell: tabs and line breaks would
 * split the row, so they become spaces. */
static void tsv_cell(FILE *f, const char *text, bool last)
{
    for (const char *p = text; *p != '\0'; p++)
        fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, f);
    fputc(last ? '\n' : '\t', f);
}

/* One item as a row of a Merchant Center feed (tab-separated, the
 * attributes' own names in the header; excluded_destination pauses the
 * ads of what is out of stock). */
static void feed_row(cli *c, FILE *f, const Shelfline__V1__StockFeedItem *it)
{
    tsv_cell(f, it->sku, false);
    tsv_cell(f, it->title, false);
    tsv_cell(f, it->brand, false);
    tsv_cell(f, it->category, false);
    tsv_cell(f, it->price != NULL ? cli_money(c, it->price->minor_units, it->price->currency) : "",
             false);
    tsv_cell(f, it->availability, false);
    tsv_cell(f, it->availability_date, false);
    tsv_cell(f, it->hint, false);
    tsv_cell(f, it->suppress_ads ? "Shopping_ads" : "", true);
}

static const char feed_header[] = "id\ttitle\tbrand\tproduct_type\tprice\tavailability\t"
                                  "availability_date\tcustom_label_0\texcluded_destination\n";

int cli_feed(cli *c)
{
    int64_t limit = 0;
    if (cli_value(c, "limit") != NULL &&
        !cli_int(c, "--limit", cli_value(c, "limit"), 1, 1000, &limit))
        return CLI_EXIT_USAGE;
    const char *path = cli_value(c, "out");
    if (path != NULL && c->json)
        return cli_usage_error(c, "--out and --json do not go together");
    /* A feed file appears whole or not at all: written beside, renamed. */
    char tmp[4096];
    FILE *f = NULL;
    if (path != NULL) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
            return cli_usage_error(c, "--out: path too long");
        if ((f = fopen(tmp, "w")) == NULL) {
            fprintf(stderr, "shelfline: cannot write %s: %s\n", tmp, strerror(errno));
            return CLI_EXIT_FAILED;
        }
        fputs(feed_header, f);
    }
    static const char *const head[] = {"SKU", "AVAILABILITY", "AVAILABLE", "DATE", "PRICE", "NOTE"};
    cli_table t;
    if (path == NULL && !c->json)
        cli_table_init(&t, c, 6, head);
    Shelfline__V1__GetStockFeedRequest req = SHELFLINE__V1__GET_STOCK_FEED_REQUEST__INIT;
    Shelfline__V1__PageRequest page = SHELFLINE__V1__PAGE_REQUEST__INIT;
    req.region = (char *)c->pos[0];
    req.page = &page;
    page.page_size = (int32_t)limit;
    long long items = 0;
    int pages = 0;
    for (;;) {
        ProtobufCMessage *m;
        if (cli_call(c, "GetStockFeed", &req.base,
                     &shelfline__v1__get_stock_feed_response__descriptor, &m) != CLI_EXIT_OK) {
            if (f != NULL) {
                fclose(f);
                remove(tmp);
            }
            return CLI_EXIT_FAILED;
        }
        const Shelfline__V1__GetStockFeedResponse *r =
            (const Shelfline__V1__GetStockFeedResponse *)m;
        pages++;
        if (c->json && cli_print_json(c, m) != CLI_EXIT_OK)
            return CLI_EXIT_FAILED;
        for (size_t i = 0; i < r->n_items; i++) {
            const Shelfline__V1__StockFeedItem *it = r->items[i];
            items++;
            if (f != NULL) {
                feed_row(c, f, it);
            } else if (!c->json) {
                cli_table_cell(&t, it->sku);
                cli_table_cell(&t, it->availability);
                cli_table_cell(&t, cli_fmt(c, "%lld", (long long)it->available));
                cli_table_cell(&t, it->availability_date[0] != '\0' ? it->availability_date : "-");
                cli_table_cell(&t, it->price != NULL
                                       ? cli_money(c, it->price->minor_units, it->price->currency)
                                       : "-");
                cli_table_cell(&t, it->suppress_ads      ? "ads paused"
                                   : it->hint[0] != '\0' ? it->hint
                                                         : "");
            }
        }
        if (r->next_page_token[0] == '\0')
            break;
        page.page_token = r->next_page_token;
    }
    if (f != NULL) {
        bool ok = fflush(f) == 0 && !ferror(f);
        ok = fclose(f) == 0 && ok;
        if (!ok || rename(tmp, path) != 0) {
            fprintf(stderr, "shelfline: cannot write %s: %s\n", path, strerror(errno));
            remove(tmp);
            return CLI_EXIT_FAILED;
        }
        printf("%lld items of region %s in %d pages written to %s\n", items, c->pos[0], pages,
               path);
    } else if (!c->json) {
        cli_table_print(&t);
    }
    return CLI_EXIT_OK;
}
