/*
 * cv_api_write: the customer-value service's writes -- UpsertCustomer,
 * RecordPurchase, RecordReturn.
 *
 * Idempotency: an order (a return) is keyed by its id and stored with the
 * packed bytes of the request that created it.  A retry sends the same
 * request, so equal bytes mean "answer as the first time" and different
 * bytes mean a different order under a reused key (ALREADY_EXISTS).
 * protobuf-c packs fields in field-number order, so equal messages pack to
 * equal bytes.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_app.h"
#include "cv_store.h"

#define MAX_LINES 500
#define MAX_QTY 1000000
/* Entries of one UpsertCustomers / RecordPurchases call: one transaction
 * of this many orders (up to 500 lines each) stays well under a second. */
#define MAX_BATCH 1000

/* ---- batch checks shared by UpsertCustomers and RecordPurchases ---- */

typedef struct keyed {
    const char *key;
    size_t index;
} keyed;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c != 0 ? c : (a->index > b->index) - (a->index < b->index);
}

static sl_status valid_batch_size(const char *list, size_t n, sl_err *err)
{
    if (n == 0)
        return sl_err_field(err, list, "%s must not be empty", list);
    if (n > MAX_BATCH)
        return sl_err_field(err, list, "%s has %zu entries (at most %d)", list, n, MAX_BATCH);
    return SL_OK;
}

/* INVALID_ARGUMENT naming the later entry when two entries of list share a
 * key (field key_field): one request may not say two things of one key. */
static sl_status valid_batch_unique(sl_call *call, const char *list, const char *key_field,
                                    const char *const *keys, size_t n, sl_err *err)
{
    keyed *k = sl_arena_alloc(sl_call_arena(call), n * sizeof *k);
    if (k == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++)
        k[i] = (keyed){keys[i], i};
    qsort(k, n, sizeof *k, keyed_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(k[i - 1].key, k[i].key) == 0) {
            char f[64];
            snprintf(f, sizeof f, "%s[%zu].%s", list, k[i].index, key_field);
            return sl_err_field(err, f, "%s: \"%s\" is also %s[%zu]'s %s", f, k[i].key, list,
                                k[i - 1].index, key_field);
        }
    return SL_OK;
}

/* ---- UpsertCustomer ---- */

typedef struct upsert_ctx {
    sl_call *call;
    const Shelfline__V1__UpsertCustomerRequest *r;
    Shelfline__V1__UpsertCustomerResponse *out;
} upsert_ctx;

static Shelfline__V1__Customer *customer_msg(sl_arena *a, const cv_customer_row *row)
{
    Shelfline__V1__Customer *m = sl_arena_alloc(a, sizeof *m);
    if (m == NULL)
        return NULL;
    shelfline__v1__customer__init(m);
    m->customer_id = (char *)row->customer_id;
    m->region = (char *)row->region;
    m->signed_up_at_ms = row->signed_up_ms;
    m->referred_by = (char *)row->referred_by;
    m->updated_at_ms = row->updated_ms;
    return m;
}

/* Upserts one customer inside the caller's transaction and fills out;
 * shared by UpsertCustomer and UpsertCustomers. */
static sl_status upsert_one(sl_db_conn *conn, sl_call *call,
                            const Shelfline__V1__UpsertCustomerRequest *r,
                            Shelfline__V1__UpsertCustomerResponse *out, sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    if (r->referred_by[0] != '\0') {
        cv_customer_row *ref;
        sl_status st = cv_store_customer_get(conn, a, r->referred_by, false, &ref, err);
        if (st != SL_OK)
            return st;
        if (ref == NULL)
            return sl_err_reason(err, SL_NOT_FOUND, "CUSTOMER_NOT_FOUND",
                                 "referred_by: unknown customer \"%s\"", r->referred_by);
    }
    cv_customer_row in = {r->customer_id, r->region, r->referred_by, r->signed_up_at_ms, 0};
    cv_customer_row *row;
    bool created, changed;
    sl_status st = cv_store_customer_upsert(conn, a, &in, &created, &changed, &row, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__Customer *m = customer_msg(a, row);
    if (m == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    if (changed) {
        st = sl_events_publish(CV_APP(call)->events, conn, "CUSTOMER_UPSERTED", row->customer_id,
                               &m->base, err);
        if (st != SL_OK)
            return st;
    }
    out->customer = m;
    out->created = created;
    out->changed = changed;
    return SL_OK;
}

static sl_status upsert_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    upsert_ctx *c = p;
    return upsert_one(conn, c->call, c->r, c->out, err);
}

static sl_status valid_upsert(const Shelfline__V1__UpsertCustomerRequest *r, sl_err *err)
{
    sl_status st = cv_valid_id("customer_id", r->customer_id, err);
    if (st == SL_OK)
        st = cv_valid_region("region", r->region, err);
    if (st == SL_OK)
        st = cv_valid_time("signed_up_at_ms", r->signed_up_at_ms, err);
    if (st == SL_OK && r->referred_by[0] != '\0')
        st = cv_valid_id("referred_by", r->referred_by, err);
    if (st == SL_OK && strcmp(r->referred_by, r->customer_id) == 0)
        st = sl_err_field(err, "referred_by", "referred_by must differ from customer_id");
    return st;
}

sl_status cv_api_upsert_customer(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__UpsertCustomerRequest *r =
        (const Shelfline__V1__UpsertCustomerRequest *)req;
    sl_status st = valid_upsert(r, err);
    if (st != SL_OK)
        return st;
    upsert_ctx c = {call, r, (Shelfline__V1__UpsertCustomerResponse *)resp};
    sl_db_tx_options o = sl_service_tx_options(call, false);
    return sl_db_tx(CV_APP(call)->db, &o, upsert_tx, &c, err);
}

/* ---- UpsertCustomers ---- */

typedef struct upsert_batch_ctx {
    sl_call *call;
    const Shelfline__V1__UpsertCustomersRequest *r;
    Shelfline__V1__UpsertCustomersResponse *out;
} upsert_batch_ctx;

static sl_status upsert_batch_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    upsert_batch_ctx *c = p;
    for (size_t i = 0; i < c->r->n_customers; i++) {
        sl_status st = upsert_one(conn, c->call, c->r->customers[i], c->out->results[i], err);
        if (st != SL_OK) {
            sl_err_in_entry(err, "customers", i);
            return st;
        }
    }
    return SL_OK;
}

sl_status cv_api_upsert_customers(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__UpsertCustomersRequest *r =
        (const Shelfline__V1__UpsertCustomersRequest *)req;
    Shelfline__V1__UpsertCustomersResponse *out = (Shelfline__V1__UpsertCustomersResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    sl_status st = valid_batch_size("customers", r->n_customers, err);
    for (size_t i = 0; st == SL_OK && i < r->n_customers; i++)
        if ((st = valid_upsert(r->customers[i], err)) != SL_OK)
            sl_err_in_entry(err, "customers", i);
    const char **keys = NULL;
    if (st == SL_OK && (keys = sl_arena_alloc(a, r->n_customers * sizeof *keys)) == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; st == SL_OK && i < r->n_customers; i++)
        keys[i] = r->customers[i]->customer_id;
    if (st == SL_OK)
        st = valid_batch_unique(call, "customers", "customer_id", keys, r->n_customers, err);
    if (st != SL_OK)
        return st;
    out->results = sl_arena_alloc(a, r->n_customers * sizeof *out->results);
    if (out->results == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < r->n_customers; i++) {
        if ((out->results[i] = sl_arena_alloc(a, sizeof *out->results[i])) == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__upsert_customer_response__init(out->results[i]);
    }
    out->n_results = r->n_customers;
    /* Entries are applied in request order (a referrer before the customers
     * it referred); two batches locking shared customers in opposite orders
     * deadlock, and sl_db_tx runs the loser again. */
    upsert_batch_ctx c = {call, r, out};
    sl_db_tx_options o = sl_service_tx_options(call, false);
    return sl_db_tx(CV_APP(call)->db, &o, upsert_batch_tx, &c, err);
}

/* ---- line checks shared by RecordPurchase and RecordReturn ---- */

/* Purchase lines and returned items are different message types with the
 * same sku/qty/amount fields, so the shared checks take those fields. */

static sl_status valid_line_count(size_t n, sl_err *err)
{
    if (n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lines must not be empty");
    if (n > MAX_LINES)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lines has %zu entries (at most %d)", n,
                          MAX_LINES);
    return SL_OK;
}

/* Line i's sku; first_same is the index of the first earlier line with the
 * same sku, or i when there is none. */
static sl_status valid_line_sku(size_t i, const char *sku, size_t first_same, sl_err *err)
{
    char f[48];
    snprintf(f, sizeof f, "lines[%zu].sku", i);
    sl_status st = cv_valid_id(f, sku, err);
    if (st != SL_OK)
        return st;
    if (first_same < i)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lines[%zu].sku \"%s\" repeats lines[%zu]", i,
                          sku, first_same);
    return SL_OK;
}

/* Line i's qty and amount (in the currency of total); adds the amount to
 * *sum, refusing a sum that would overflow. */
static sl_status valid_line_amount(size_t i, int64_t qty, const Shelfline__V1__Money *amount,
                                   const Shelfline__V1__Money *total, int64_t *sum, sl_err *err)
{
    char f[48];
    if (qty <= 0 || qty > MAX_QTY)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "lines[%zu].qty must be between 1 and %d (got %lld)", i, MAX_QTY,
                          (long long)qty);
    snprintf(f, sizeof f, "lines[%zu].amount", i);
    sl_status st = cv_valid_money(f, amount, 0, err);
    if (st != SL_OK)
        return st;
    if (strcmp(amount->currency, total->currency) != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "lines[%zu].amount.currency \"%s\" differs from amount.currency "
                          "\"%s\"",
                          i, amount->currency, total->currency);
    if (amount->minor_units > INT64_MAX - *sum)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "lines[%zu].amount overflows the total", i);
    *sum += amount->minor_units;
    return SL_OK;
}

static sl_status valid_total(const Shelfline__V1__Money *total, int64_t sum, sl_err *err)
{
    if (sum != total->minor_units)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "amount.minor_units %lld differs from the sum of the lines (%lld)",
                          (long long)total->minor_units, (long long)sum);
    return SL_OK;
}

/* ---- RecordPurchase ---- */

static sl_status valid_purchase(const Shelfline__V1__RecordPurchaseRequest *r, sl_err *err)
{
    char f[48];
    sl_status st = cv_valid_id("order_id", r->order_id, err);
    if (st == SL_OK)
        st = cv_valid_id("customer_id", r->customer_id, err);
    if (st == SL_OK)
        st = cv_valid_time("at_ms", r->at_ms, err);
    if (st == SL_OK)
        st = cv_valid_money("amount", r->amount, 1, err);
    if (st != SL_OK)
        return st;
    if ((st = valid_line_count(r->n_lines, err)) != SL_OK)
        return st;
    int64_t sum = 0;
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shelfline__V1__PurchaseLine *l = r->lines[i];
        size_t k = 0;
        while (k < i && strcmp(r->lines[k]->sku, l->sku) != 0)
            k++;
        if ((st = valid_line_sku(i, l->sku, k, err)) != SL_OK)
            return st;
        snprintf(f, sizeof f, "lines[%zu].category", i);
        if ((st = cv_valid_text(f, l->category, 1, 64, err)) != SL_OK)
            return st;
        if ((st = valid_line_amount(i, l->qty, l->amount, r->amount, &sum, err)) != SL_OK)
            return st;
    }
    return valid_total(r->amount, sum, err);
}

typedef struct purchase_ctx {
    sl_call *call;
    const Shelfline__V1__RecordPurchaseRequest *r;
    const uint8_t *bytes;
    size_t len;
    Shelfline__V1__RecordPurchaseResponse *out;
} purchase_ctx;

/* Records one order inside the caller's transaction and fills out; the
 * customer's summary is refreshed when refresh is set (a batch refreshes
 * each customer once, after its last order).  bytes/len are the packed
 * request, the idempotency record.  Shared by RecordPurchase and
 * RecordPurchases. */
static sl_status purchase_one(sl_db_conn *conn, sl_call *call,
                              const Shelfline__V1__RecordPurchaseRequest *r, const uint8_t *bytes,
                              size_t len, bool refresh, Shelfline__V1__RecordPurchaseResponse *out,
                              sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    /* The customer row lock orders concurrent orders of one customer (the
     * currency check) and makes a retry racing its original wait. */
    cv_customer_row *cust;
    sl_status st = cv_store_customer_get(conn, a, r->customer_id, true, &cust, err);
    if (st != SL_OK)
        return st;
    cv_keyed_row *prev;
    if ((st = cv_store_purchase_get(conn, a, r->order_id, false, &prev, err)) != SL_OK)
        return st;
    if (prev != NULL) {
        if (prev->request_len != len || memcmp(prev->request, bytes, len) != 0)
            return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                                 "order_id \"%s\" was already recorded with other content",
                                 r->order_id);
        out->order_id = r->order_id;
        out->customer_id = r->customer_id;
        out->recorded_at_ms = prev->recorded_ms;
        out->replayed = true;
        return SL_OK;
    }
    if (cust == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "CUSTOMER_NOT_FOUND",
                             "customer_id: unknown customer \"%s\"", r->customer_id);
    const char *cur;
    if ((st = cv_store_customer_currency(conn, a, r->customer_id, &cur, err)) != SL_OK)
        return st;
    if (cur != NULL && strcmp(cur, r->amount->currency) != 0)
        return sl_err_reason(err, SL_FAILED_PRECONDITION, "CURRENCY_MISMATCH",
                             "amount.currency \"%s\" differs from the customer's earlier orders "
                             "(\"%s\")",
                             r->amount->currency, cur);
    cv_line_in *lines = sl_arena_alloc(a, r->n_lines * sizeof *lines);
    if (lines == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < r->n_lines; i++)
        lines[i] = (cv_line_in){r->lines[i]->sku, r->lines[i]->category, r->lines[i]->qty,
                                r->lines[i]->amount->minor_units};
    int64_t recorded;
    st = cv_store_purchase_insert(conn, a, r->order_id, r->customer_id, r->at_ms,
                                  r->amount->minor_units, r->amount->currency, bytes, len, lines,
                                  r->n_lines, &recorded, err);
    if (st == SL_OK && refresh)
        st = cv_store_summary_refresh(conn, r->customer_id, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__PurchaseRecorded ev = SHELFLINE__V1__PURCHASE_RECORDED__INIT;
    ev.order_id = r->order_id;
    ev.customer_id = r->customer_id;
    ev.at_ms = r->at_ms;
    ev.amount = r->amount;
    ev.line_count = (int32_t)r->n_lines;
    st = sl_events_publish(CV_APP(call)->events, conn, "PURCHASE_RECORDED", r->customer_id,
                           &ev.base, err);
    if (st != SL_OK)
        return st;
    out->order_id = r->order_id;
    out->customer_id = r->customer_id;
    out->recorded_at_ms = recorded;
    out->replayed = false;
    return SL_OK;
}

static sl_status purchase_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    purchase_ctx *c = p;
    return purchase_one(conn, c->call, c->r, c->bytes, c->len, true, c->out, err);
}

sl_status cv_api_record_purchase(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err)
{
    const Shelfline__V1__RecordPurchaseRequest *r =
        (const Shelfline__V1__RecordPurchaseRequest *)req;
    sl_status st = valid_purchase(r, err);
    if (st != SL_OK)
        return st;
    purchase_ctx c = {call, r, NULL, 0, (Shelfline__V1__RecordPurchaseResponse *)resp};
    if ((c.bytes = cv_pack(call, req, &c.len)) == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_tx_options o = sl_service_tx_options(call, false);
    st = sl_db_tx(CV_APP(call)->db, &o, purchase_tx, &c, err);
    if (st == SL_ALREADY_EXISTS && err != NULL && strstr(err->msg, "other content") == NULL) {
        /* A concurrent first attempt with the same order id won the insert:
         * answer as a retry would. */
        return sl_db_tx(CV_APP(call)->db, &o, purchase_tx, &c, err);
    }
    return st;
}

/* ---- RecordPurchases ---- */

typedef struct purchase_batch_ctx {
    sl_call *call;
    const Shelfline__V1__RecordPurchasesRequest *r;
    const uint8_t **bytes;
    size_t *len;
    Shelfline__V1__RecordPurchasesResponse *out;
} purchase_batch_ctx;

static sl_status purchase_batch_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    purchase_batch_ctx *c = p;
    const Shelfline__V1__RecordPurchasesRequest *r = c->r;
    for (size_t i = 0; i < r->n_purchases; i++) {
        const Shelfline__V1__RecordPurchaseRequest *e = r->purchases[i];
        /* A customer's summary once after a run of their orders, not after
         * each (a history arrives customer by customer). */
        bool last_of_run = i + 1 == r->n_purchases ||
                           strcmp(r->purchases[i + 1]->customer_id, e->customer_id) != 0;
        sl_status st = purchase_one(conn, c->call, e, c->bytes[i], c->len[i], last_of_run,
                                    c->out->results[i], err);
        if (st != SL_OK) {
            sl_err_in_entry(err, "purchases", i);
            return st;
        }
    }
    return SL_OK;
}

sl_status cv_api_record_purchases(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__RecordPurchasesRequest *r =
        (const Shelfline__V1__RecordPurchasesRequest *)req;
    Shelfline__V1__RecordPurchasesResponse *out = (Shelfline__V1__RecordPurchasesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    size_t n = r->n_purchases;
    sl_status st = valid_batch_size("purchases", n, err);
    for (size_t i = 0; st == SL_OK && i < n; i++)
        if ((st = valid_purchase(r->purchases[i], err)) != SL_OK)
            sl_err_in_entry(err, "purchases", i);
    const char **keys = NULL;
    if (st == SL_OK && (keys = sl_arena_alloc(a, n * sizeof *keys)) == NULL)
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; st == SL_OK && i < n; i++)
        keys[i] = r->purchases[i]->order_id;
    if (st == SL_OK)
        st = valid_batch_unique(call, "purchases", "order_id", keys, n, err);
    if (st != SL_OK)
        return st;
    /* Each entry is packed alone: its bytes are what RecordPurchase would
     * store for the same order, so retries may mix the two RPCs. */
    purchase_batch_ctx c = {call, r, sl_arena_alloc(a, n * sizeof *c.bytes),
                            sl_arena_alloc(a, n * sizeof *c.len), out};
    out->results = sl_arena_alloc(a, n * sizeof *out->results);
    if (c.bytes == NULL || c.len == NULL || out->results == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if ((c.bytes[i] = cv_pack(call, &r->purchases[i]->base, &c.len[i])) == NULL ||
            (out->results[i] = sl_arena_alloc(a, sizeof *out->results[i])) == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__record_purchase_response__init(out->results[i]);
    }
    out->n_results = n;
    sl_db_tx_options o = sl_service_tx_options(call, false);
    st = sl_db_tx(CV_APP(call)->db, &o, purchase_batch_tx, &c, err);
    if (st == SL_ALREADY_EXISTS && err != NULL && strstr(err->msg, "other content") == NULL) {
        /* A concurrent first attempt of one of the orders won its insert:
         * run again, that order now answering as a retry. */
        return sl_db_tx(CV_APP(call)->db, &o, purchase_batch_tx, &c, err);
    }
    return st;
}

/* ---- RecordReturn ---- */

static sl_status valid_return(const Shelfline__V1__RecordReturnRequest *r, sl_err *err)
{
    sl_status st = cv_valid_id("order_id", r->order_id, err);
    if (st == SL_OK)
        st = cv_valid_id("return_id", r->return_id, err);
    if (st == SL_OK)
        st = cv_valid_time("at_ms", r->at_ms, err);
    if (st == SL_OK)
        st = cv_valid_money("amount", r->amount, 0, err);
    if (st != SL_OK)
        return st;
    if ((st = valid_line_count(r->n_lines, err)) != SL_OK)
        return st;
    int64_t sum = 0;
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shelfline__V1__ReturnedItem *l = r->lines[i];
        size_t k = 0;
        while (k < i && strcmp(r->lines[k]->sku, l->sku) != 0)
            k++;
        if ((st = valid_line_sku(i, l->sku, k, err)) != SL_OK)
            return st;
        if ((st = valid_line_amount(i, l->qty, l->amount, r->amount, &sum, err)) != SL_OK)
            return st;
    }
    return valid_total(r->amount, sum, err);
}

typedef struct return_ctx {
    sl_call *call;
    const Shelfline__V1__RecordReturnRequest *r;
    const uint8_t *bytes;
    size_t len;
    Shelfline__V1__RecordReturnResponse *out;
} return_ctx;

static sl_status return_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    return_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    const Shelfline__V1__RecordReturnRequest *r = c->r;
    /* Locking the order serialises its returns (the CHECKs then see every
     * earlier one). */
    cv_keyed_row *order;
    sl_status st = cv_store_purchase_get(conn, a, r->order_id, true, &order, err);
    if (st != SL_OK)
        return st;
    cv_keyed_row *prev;
    if ((st = cv_store_return_get(conn, a, r->return_id, &prev, err)) != SL_OK)
        return st;
    if (prev != NULL) {
        if (prev->request_len != c->len || memcmp(prev->request, c->bytes, c->len) != 0)
            return sl_err_reason(err, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
                                 "return_id \"%s\" was already recorded with other content",
                                 r->return_id);
        c->out->return_id = r->return_id;
        c->out->order_id = (char *)prev->order_id;
        c->out->customer_id = (char *)prev->customer_id;
        c->out->recorded_at_ms = prev->recorded_ms;
        c->out->replayed = true;
        return SL_OK;
    }
    if (order == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "ORDER_NOT_FOUND", "order_id: unknown order \"%s\"",
                             r->order_id);
    if (strcmp(order->currency, r->amount->currency) != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "amount.currency \"%s\" differs from the order's (\"%s\")",
                          r->amount->currency, order->currency);
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shelfline__V1__ReturnedItem *l = r->lines[i];
        bool found;
        st = cv_store_return_line(conn, r->order_id, l->sku, l->qty, l->amount->minor_units, &found,
                                  err);
        if (st == SL_FAILED_PRECONDITION)
            return sl_err_reason(err, SL_FAILED_PRECONDITION, "RETURN_QTY_EXCEEDED",
                                 "lines[%zu]: more of \"%s\" would be returned than order \"%s\" "
                                 "bought",
                                 i, l->sku, r->order_id);
        if (st != SL_OK)
            return st;
        if (!found)
            return sl_err_reason(err, SL_NOT_FOUND, "RETURN_LINE_NOT_IN_ORDER",
                                 "lines[%zu].sku: \"%s\" is not on order \"%s\"", i, l->sku,
                                 r->order_id);
    }
    int64_t recorded;
    st = cv_store_return_insert(conn, r->return_id, r->order_id, r->at_ms, r->amount->minor_units,
                                c->bytes, c->len, &recorded, err);
    if (st == SL_OK)
        st = cv_store_summary_refresh(conn, order->customer_id, err);
    if (st != SL_OK)
        return st;
    Shelfline__V1__ReturnRecorded ev = SHELFLINE__V1__RETURN_RECORDED__INIT;
    ev.return_id = r->return_id;
    ev.order_id = r->order_id;
    ev.customer_id = (char *)order->customer_id;
    ev.amount = r->amount;
    st = sl_events_publish(CV_APP(c->call)->events, conn, "RETURN_RECORDED", order->customer_id,
                           &ev.base, err);
    if (st != SL_OK)
        return st;
    c->out->return_id = r->return_id;
    c->out->order_id = r->order_id;
    c->out->customer_id = (char *)order->customer_id;
    c->out->recorded_at_ms = recorded;
    c->out->replayed = false;
    return SL_OK;
}

sl_status cv_api_record_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err)
{
    const Shelfline__V1__RecordReturnRequest *r = (const Shelfline__V1__RecordReturnRequest *)req;
    sl_status st = valid_return(r, err);
    if (st != SL_OK)
        return st;
    return_ctx c = {call, r, NULL, 0, (Shelfline__V1__RecordReturnResponse *)resp};
    if ((c.bytes = cv_pack(call, req, &c.len)) == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_db_tx_options o = sl_service_tx_options(call, false);
    return sl_db_tx(CV_APP(call)->db, &o, return_tx, &c, err);
}
