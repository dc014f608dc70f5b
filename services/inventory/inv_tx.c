/*
 * inv_tx: locks, loaded stock and its write-back with events (see
 * inv_tx.h).
 */
#include "inv_tx.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "inv_alloc.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_metrics.h"

void inv_tx_init(inv_tx *tx, sl_db_conn *conn, sl_events *events, sl_arena *arena)
{
    memset(tx, 0, sizeof *tx);
    tx->conn = conn;
    tx->events = events;
    tx->arena = arena;
    tx->audit = sl_audit_background("system");
}

/* FNV-1a over a one-letter namespace and the string: SKUs and other ids
 * never share a key by construction, only (harmlessly) by collision. */
static int64_t lock_key(char ns, const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    h = (h ^ (unsigned char)ns) * 1099511628211ULL;
    h = (h ^ 0) * 1099511628211ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (int64_t)h;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The sorted distinct lock keys of skus and ids (a fixed order, so that
 * transactions locking overlapping sets cannot deadlock). */
static int64_t *lock_keys(sl_arena *a, const char *const *skus, size_t nskus,
                          const char *const *ids, size_t nids, size_t *nkeys)
{
    size_t n = nskus + nids;
    int64_t *keys = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *keys);
    if (keys == NULL)
        return NULL;
    for (size_t i = 0; i < nskus; i++)
        keys[i] = lock_key('s', skus[i]);
    for (size_t i = 0; i < nids; i++)
        keys[nskus + i] = lock_key('k', ids[i]);
    qsort(keys, n, sizeof *keys, cmp_i64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || keys[k - 1] != keys[i])
            keys[k++] = keys[i];
    *nkeys = k;
    return keys;
}

sl_status inv_tx_lock(inv_tx *tx, const char *const *skus, size_t nskus, const char *const *ids,
                      size_t nids, sl_err *err)
{
    size_t k;
    int64_t *keys = lock_keys(tx->arena, skus, nskus, ids, nids, &k);
    if (keys == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    return inv_store_lock(tx->conn, tx->arena, keys, k, &tx->now_ms, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct skus, sorted: the load returns each product once per row. */
static const char **distinct(sl_arena *a, const char *const *skus, size_t n, size_t *k)
{
    const char **u = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *u);
    if (u == NULL)
        return NULL;
    if (n > 0)
        memcpy(u, skus, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_str);
    *k = 0;
    for (size_t i = 0; i < n; i++)
        if (*k == 0 || strcmp(u[*k - 1], u[i]) != 0)
            u[(*k)++] = u[i];
    return u;
}

/* The lookups below (inv_tx_row, inv_tx_product) search by strcmp: the
 * loaded rows must come in that order.  inv_load_stock sorts them
 * COLLATE "C", which agrees with strcmp whatever the database's own
 * collation (test_collation_not_c runs on an ICU en-US database); these
 * check it in debug builds. */
#ifndef NDEBUG
static bool ordered_rows(const inv_stock_row *rows, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int c = strcmp(rows[i - 1].sku, rows[i].sku);
        if (c > 0 || (c == 0 && strcmp(rows[i - 1].warehouse_id, rows[i].warehouse_id) >= 0))
            return false;
    }
    return true;
}

static bool ordered_products(const inv_product_row *p, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(p[i - 1].sku, p[i].sku) >= 0)
            return false;
    return true;
}
#endif

/* Makes the loaded stock rows the transaction's working rows. */
static sl_status adopt_rows(inv_tx *tx, const inv_stock_row *rows, size_t nr, sl_err *err)
{
    /* Rows come ordered by (sku, warehouse): already the lookup order. */
    assert(ordered_rows(rows, nr));
    tx->caprows = nr + 16;
    tx->rows = sl_arena_alloc(tx->arena, tx->caprows * sizeof *tx->rows);
    inv_row *rs = sl_arena_alloc(tx->arena, (nr > 0 ? nr : 1) * sizeof *rs);
    if (tx->rows == NULL || rs == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < nr; i++) {
        inv_row *r = &rs[i];
        r->sku = rows[i].sku;
        r->warehouse_id = rows[i].warehouse_id;
        r->on_hand = r->on_hand0 = rows[i].on_hand;
        r->reserved = r->reserved0 = rows[i].reserved;
        r->safety_stock = rows[i].safety_stock;
        r->low_stock_threshold = r->threshold0 = rows[i].low_stock_threshold;
        r->updated_ms = rows[i].updated_ms;
        r->exists = true;
        tx->rows[i] = r;
    }
    tx->nrows = nr;
    return SL_OK;
}

sl_status inv_tx_load(inv_tx *tx, const char *const *skus, size_t n, sl_err *err)
{
    sl_status st = inv_store_network(tx->conn, tx->arena, &tx->routes, &tx->nroutes, err);
    if (st != SL_OK)
        return st;
    size_t k;
    const char **u = distinct(tx->arena, skus, n, &k);
    if (u == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    inv_stock_row *rows;
    size_t nr;
    st = inv_store_load_stock(tx->conn, tx->arena, u, k, &tx->products, &tx->nproducts, &rows, &nr,
                              err);
    if (st != SL_OK)
        return st;
    assert(ordered_products(tx->products, tx->nproducts));
    return adopt_rows(tx, rows, nr, err);
}

sl_status inv_tx_lock_load(inv_tx *tx, const char *const *skus, size_t nskus,
                           const char *const *ids, size_t nids, inv_resv_row **resv, size_t *nresv,
                           const char *const *customers, size_t ncustomers, inv_usage_row **members,
                           size_t *nmembers, sl_err *err)
{
    size_t nkeys, k;
    int64_t *keys = lock_keys(tx->arena, skus, nskus, ids, nids, &nkeys);
    const char **u = distinct(tx->arena, skus, nskus, &k);
    if (keys == NULL || u == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    inv_locked_read r;
    sl_status st =
        inv_store_locked_read(tx->conn, tx->arena, keys, nkeys, ids, resv != NULL ? nids : 0, u, k,
                              customers, members != NULL ? ncustomers : 0, &r, err);
    if (st != SL_OK)
        return st;
    tx->now_ms = r.now_ms;
    tx->routes = r.routes;
    tx->nroutes = r.nroutes;
    tx->products = r.products;
    tx->nproducts = r.nproducts;
    assert(ordered_products(tx->products, tx->nproducts));
    if (resv != NULL) {
        *resv = r.existing;
        *nresv = r.nexisting;
    }
    if (members != NULL) {
        *members = r.members;
        *nmembers = r.nmembers;
    }
    return adopt_rows(tx, r.rows, r.nrows, err);
}

const inv_product_row *inv_tx_product(const inv_tx *tx, const char *sku)
{
    size_t lo = 0, hi = tx->nproducts;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(tx->products[mid].sku, sku);
        if (c == 0)
            return &tx->products[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int row_cmp(const inv_row *r, const char *sku, const char *wh)
{
    int c = strcmp(r->sku, sku);
    return c != 0 ? c : strcmp(r->warehouse_id, wh);
}

inv_row *inv_tx_row(inv_tx *tx, const char *sku, const char *warehouse_id, bool create)
{
    size_t lo = 0, hi = tx->nrows;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = row_cmp(tx->rows[mid], sku, warehouse_id);
        if (c == 0)
            return tx->rows[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!create)
        return NULL;
    if (tx->nrows == tx->caprows) {
        size_t cap = tx->caprows * 2 + 16;
        inv_row **nr = sl_arena_alloc(tx->arena, cap * sizeof *nr);
        if (nr == NULL)
            return NULL;
        if (tx->nrows > 0)
            memcpy(nr, tx->rows, tx->nrows * sizeof *nr);
        tx->rows = nr;
        tx->caprows = cap;
    }
    inv_row *r = sl_arena_zalloc(tx->arena, sizeof *r);
    if (r == NULL)
        return NULL;
    r->sku = sl_arena_strdup(tx->arena, sku);
    r->warehouse_id = sl_arena_strdup(tx->arena, warehouse_id);
    r->updated_ms = tx->now_ms;
    if (r->sku == NULL || r->warehouse_id == NULL)
        return NULL;
    assert(tx->nrows < tx->caprows);
    memmove(&tx->rows[lo + 1], &tx->rows[lo], (tx->nrows - lo) * sizeof *tx->rows);
    tx->rows[lo] = r;
    tx->nrows++;
    assert((lo == 0 || row_cmp(tx->rows[lo - 1], sku, warehouse_id) < 0) &&
           (lo + 1 == tx->nrows || row_cmp(tx->rows[lo + 1], sku, warehouse_id) > 0));
    return r;
}

const inv_route *inv_tx_region(const inv_tx *tx, const char *region, size_t *n)
{
    /* Routes are ordered by region, then nearest first. */
    for (size_t i = 0; i < tx->nroutes; i++) {
        if (strcmp(tx->routes[i].region, region) != 0)
            continue;
        size_t j = i;
        while (j < tx->nroutes && strcmp(tx->routes[j].region, region) == 0)
            j++;
        *n = j - i;
        return &tx->routes[i];
    }
    *n = 0;
    return NULL;
}

const inv_route *inv_tx_route(const inv_tx *tx, const char *warehouse_id, const char *region)
{
    for (size_t i = 0; i < tx->nroutes; i++)
        if (strcmp(tx->routes[i].region, region) == 0 &&
            strcmp(tx->routes[i].warehouse_id, warehouse_id) == 0)
            return &tx->routes[i];
    return NULL;
}

sl_status inv_tx_ledger(inv_tx *tx, inv_row *row, int64_t delta, const char *reason,
                        const char *reference, inv_ledger_note **note, sl_err *err)
{
    if (tx->nledger == tx->capledger) {
        size_t cap = tx->capledger * 2 + 8;
        inv_ledger_note *nl = sl_arena_alloc(tx->arena, cap * sizeof *nl);
        if (nl == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        if (tx->nledger > 0)
            memcpy(nl, tx->ledger, tx->nledger * sizeof *nl);
        tx->ledger = nl;
        tx->capledger = cap;
    }
    /* Inserted with the others when the transaction publishes: the id and
     * time are known from then on. */
    inv_ledger_note *n = &tx->ledger[tx->nledger];
    n->id = 0;
    n->created_ms = 0;
    row->on_hand += delta;
    n->row = row;
    n->delta = delta;
    n->on_hand_after = row->on_hand;
    n->reason = reason;
    n->reference = reference != NULL ? sl_arena_strdup(tx->arena, reference) : "";
    n->audit = tx->audit;
    tx->nledger++;
    if (note != NULL)
        *note = n;
    return SL_OK;
}

static const char *const reason_names[] = {
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT] = "RECEIPT",
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__COUNT_CORRECTION] = "COUNT_CORRECTION",
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__DAMAGE] = "DAMAGE",
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__SHRINKAGE] = "SHRINKAGE",
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__CYCLE_COUNT] = "CYCLE_COUNT",
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__SHIPMENT] = "SHIPMENT",
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__TRANSFER_OUT] = "TRANSFER_OUT",
    [SHELFLINE__V1__LEDGER_ENTRY__REASON__INBOUND_RECEIPT] = "INBOUND_RECEIPT",
};
#define N_REASONS (sizeof reason_names / sizeof reason_names[0])

Shelfline__V1__LedgerEntry__Reason inv_reason_of(const char *name)
{
    for (size_t i = 1; i < N_REASONS; i++)
        if (reason_names[i] != NULL && strcmp(reason_names[i], name) == 0)
            return (Shelfline__V1__LedgerEntry__Reason)i;
    return SHELFLINE__V1__LEDGER_ENTRY__REASON__REASON_UNSPECIFIED;
}

const char *inv_reason_name(Shelfline__V1__LedgerEntry__Reason r)
{
    if ((size_t)r < N_REASONS && reason_names[r] != NULL)
        return reason_names[r];
    return "";
}

Shelfline__V1__LedgerEntry *inv_tx_ledger_entry(sl_arena *a, const inv_ledger_note *n)
{
    Shelfline__V1__LedgerEntry *e = sl_arena_alloc(a, sizeof *e);
    if (e == NULL)
        return NULL;
    shelfline__v1__ledger_entry__init(e);
    e->ledger_id = n->id;
    e->sku = (char *)n->row->sku;
    e->warehouse_id = (char *)n->row->warehouse_id;
    e->delta = n->delta;
    e->reason = inv_reason_of(n->reason);
    e->reference = (char *)n->reference;
    e->created_at_ms = n->created_ms;
    e->actor = (char *)n->audit.actor;
    e->request_id = (char *)n->audit.request_id;
    e->trace_id = (char *)n->audit.trace_id;
    return e;
}

sl_status inv_tx_stock_level(inv_tx *tx, const inv_row *row, Shelfline__V1__StockLevel **out,
                             sl_err *err)
{
    Shelfline__V1__StockLevel *s = sl_arena_alloc(tx->arena, sizeof *s);
    if (s == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    shelfline__v1__stock_level__init(s);
    s->sku = (char *)row->sku;
    s->warehouse_id = (char *)row->warehouse_id;
    s->on_hand = row->on_hand;
    s->reserved = row->reserved;
    s->available = row->on_hand - row->reserved;
    s->safety_stock = row->safety_stock;
    s->low_stock_threshold = row->low_stock_threshold;
    bool changed = row->on_hand != row->on_hand0 || row->reserved != row->reserved0 ||
                   row->low_stock_threshold != row->threshold0 || !row->exists;
    s->updated_at_ms = changed ? tx->now_ms : row->updated_ms;
    sl_status st = inv_store_stock_incoming(tx->conn, tx->arena, row->sku, row->warehouse_id,
                                            &s->incoming, err);
    if (st == SL_OK)
        *out = s;
    return st;
}

static bool row_changed(const inv_row *r)
{
    return r->on_hand != r->on_hand0 || r->reserved != r->reserved0 ||
           r->low_stock_threshold != r->threshold0;
}

static Shelfline__V1__Availability__Status status_proto(inv_region_status s)
{
    switch (s) {
    case INV_IN_STOCK:
        return SHELFLINE__V1__AVAILABILITY__STATUS__IN_STOCK;
    case INV_LOW_STOCK:
        return SHELFLINE__V1__AVAILABILITY__STATUS__LOW_STOCK;
    case INV_OUT_OF_STOCK:
        return SHELFLINE__V1__AVAILABILITY__STATUS__OUT_OF_STOCK;
    }
    return SHELFLINE__V1__AVAILABILITY__STATUS__STATUS_UNSPECIFIED;
}

/* Queues the region transitions of one SKU (rows [first, last)). */
static sl_status sku_transitions(inv_tx *tx, size_t first, size_t last, sl_err *err)
{
    const char *sku = tx->rows[first]->sku;
    for (size_t i = 0; i < tx->nroutes;) {
        const char *region = tx->routes[i].region;
        int64_t b = 0, bt = 0, a = 0, at = 0;
        size_t j = i;
        for (; j < tx->nroutes && strcmp(tx->routes[j].region, region) == 0; j++) {
            for (size_t k = first; k < last; k++) {
                const inv_row *r = tx->rows[k];
                if (strcmp(r->warehouse_id, tx->routes[j].warehouse_id) != 0)
                    continue;
                b += r->on_hand0 - r->reserved0;
                bt += r->threshold0;
                a += r->on_hand - r->reserved;
                at += r->low_stock_threshold;
            }
        }
        i = j;
        const char *topic = inv_region_transition(b, bt, a, at);
        if (topic == NULL)
            continue;
        Shelfline__V1__RegionStockAlert *ev = sl_arena_alloc(tx->arena, sizeof *ev);
        if (ev == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__region_stock_alert__init(ev);
        ev->sku = (char *)sku;
        ev->region = (char *)region;
        ev->status = status_proto(inv_region_status_of(a, at));
        ev->previous_status = status_proto(inv_region_status_of(b, bt));
        ev->available = a;
        ev->previous_available = b;
        ev->low_stock_threshold = at;
        sl_status st = inv_tx_event(tx, topic, sku, &ev->base, err);
        if (st != SL_OK)
            return st;
        bool out = strcmp(topic, "OUT_OF_STOCK") == 0;
        if (out || strcmp(topic, "BACK_IN_STOCK") == 0) {
            inv_tx_crossing *x = sl_arena_alloc(tx->arena, sizeof *x);
            if (x == NULL)
                return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            *x = (inv_tx_crossing){region, out, tx->crossings};
            tx->crossings = x;
        }
    }
    return SL_OK;
}

/* shelfline_inventory_stockouts_total{region} and
 * shelfline_inventory_back_in_stock_total{region}: the crossings of a
 * committed transaction (x, arena memory: the hook runs before sl_db_tx
 * returns to the arena's owner).  Regions are the network's, so bounded. */
static void count_crossings(void *x)
{
    static const char *const l[] = {"region", NULL};
    sl_metric *out = sl_metric_counter("shelfline_inventory_stockouts_total",
                                       "SKUs whose available stock in a region fell to 0 "
                                       "(OUT_OF_STOCK events).",
                                       l);
    sl_metric *back = sl_metric_counter("shelfline_inventory_back_in_stock_total",
                                        "SKUs whose available stock in a region rose from 0 "
                                        "(BACK_IN_STOCK events).",
                                        l);
    for (const inv_tx_crossing *c = x; c != NULL; c = c->next)
        sl_metric_add(sl_metric_with(c->out ? out : back, (const char *[]){c->region}), 1);
}

sl_status inv_tx_deltas(inv_tx *tx, inv_stock_delta **out, size_t *n, sl_err *err)
{
    inv_stock_delta *d = sl_arena_alloc(tx->arena, (tx->nrows + 1) * sizeof *d);
    if (d == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t nd = 0;
    for (size_t i = 0; i < tx->nrows; i++) {
        const inv_row *r = tx->rows[i];
        if (r->on_hand == r->on_hand0 && r->reserved == r->reserved0)
            continue;
        d[nd++] = (inv_stock_delta){r->sku, r->warehouse_id, r->on_hand - r->on_hand0,
                                    r->reserved - r->reserved0, r->exists};
    }
    *out = d;
    *n = nd;
    return SL_OK;
}

/* Inserts the ledger entries noted since the last call, in one round
 * trip, and fills in their ids and times. */
static sl_status write_ledger(inv_tx *tx, sl_err *err)
{
    size_t n = tx->nledger - tx->nledger_written;
    if (n == 0)
        return SL_OK;
    inv_ledger_in *in = sl_arena_alloc(tx->arena, n * sizeof *in);
    int64_t *ids = sl_arena_alloc(tx->arena, n * sizeof *ids);
    int64_t *at = sl_arena_alloc(tx->arena, n * sizeof *at);
    if (in == NULL || ids == NULL || at == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const inv_ledger_note *x = &tx->ledger[tx->nledger_written + i];
        in[i] = (inv_ledger_in){x->row->sku, x->row->warehouse_id, x->delta,
                                x->reason,   x->reference,         x->audit};
    }
    sl_status st = inv_store_ledger_append(tx->conn, tx->arena, in, n, ids, at, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        tx->ledger[tx->nledger_written + i].id = ids[i];
        tx->ledger[tx->nledger_written + i].created_ms = at[i];
    }
    tx->nledger_written = tx->nledger;
    return SL_OK;
}

sl_status inv_tx_event(inv_tx *tx, const char *topic, const char *key,
                       const ProtobufCMessage *payload, sl_err *err)
{
    if (tx->npub == tx->cappub) {
        size_t cap = tx->cappub * 2 + 16;
        sl_event_pub *np = sl_arena_alloc(tx->arena, cap * sizeof *np);
        if (np == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        if (tx->npub > 0)
            memcpy(np, tx->pub, tx->npub * sizeof *np);
        tx->pub = np;
        tx->cappub = cap;
    }
    tx->pub[tx->npub++] = (sl_event_pub){topic, key, payload};
    return SL_OK;
}

sl_status inv_tx_publish(inv_tx *tx, sl_err *err)
{
    sl_status st = write_ledger(tx, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < tx->nledger; i++) {
        const inv_ledger_note *n = &tx->ledger[i];
        Shelfline__V1__StockChanged *ev = sl_arena_alloc(tx->arena, sizeof *ev);
        if (ev == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        shelfline__v1__stock_changed__init(ev);
        ev->entry = inv_tx_ledger_entry(tx->arena, n);
        if (ev->entry == NULL)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        ev->on_hand = n->on_hand_after;
        ev->reserved = n->row->reserved;
        ev->available = n->row->on_hand - n->row->reserved;
        if ((st = inv_tx_event(tx, "STOCK_CHANGED", n->row->sku, &ev->base, err)) != SL_OK)
            return st;
    }
    for (size_t i = 0; i < tx->nrows;) {
        size_t j = i;
        bool changed = false;
        while (j < tx->nrows && strcmp(tx->rows[j]->sku, tx->rows[i]->sku) == 0) {
            changed = changed || row_changed(tx->rows[j]);
            j++;
        }
        if (changed && (st = sku_transitions(tx, i, j, err)) != SL_OK)
            return st;
        i = j;
    }
    if ((st = inv_tx_send_events(tx, err)) != SL_OK)
        return st;
    /* Counted when the events are: not for an attempt rolled back or
     * retried.  Outside a transaction (or past its hooks) at once. */
    if (tx->crossings != NULL && !sl_db_after_commit(tx->conn, count_crossings, tx->crossings))
        count_crossings(tx->crossings);
    tx->crossings = NULL;
    return SL_OK;
}

sl_status inv_tx_send_events(inv_tx *tx, sl_err *err)
{
    sl_status st = sl_events_publish_many(tx->events, tx->conn, tx->pub, tx->npub, tx->arena, err);
    if (st == SL_OK)
        tx->npub = 0;
    return st;
}

sl_status inv_tx_flush(inv_tx *tx, sl_err *err)
{
    inv_stock_delta *d;
    size_t nd;
    sl_status st = inv_tx_deltas(tx, &d, &nd, err);
    if (st == SL_OK)
        st = inv_store_apply_stock(tx->conn, tx->arena, d, nd, err);
    if (st == SL_OK)
        st = inv_tx_publish(tx, err);
    return st;
}
