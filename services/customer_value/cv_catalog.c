/*
 * cv_catalog: the inventory client of the customer-value service (see
 * cv_catalog.h).
 */
#include "cv_catalog.h"
#include "cv_service.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_log.h"
#include "sl_date.h"

struct cv_snapshot {
    int refs; /* guarded by the catalogue's mutex */
    int64_t loaded_ms;
    sl_arena *arena; /* strings and the product array */
    cv_product *products;
    size_t n;
};

struct cv_catalog {
    sl_service *svc;
    pthread_mutex_t mu;
    cv_snapshot *current; /* NULL until the first load */
};

static const char *const tag_names[] = {
#define CV__TAG_NAME(name, wire) wire,
    CV_TAG_LIST(CV__TAG_NAME)
#undef CV__TAG_NAME
};

cv_catalog *cv_catalog_create(sl_service *svc)
{
    cv_catalog *c = sl_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->svc = svc;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void snapshot_free(cv_snapshot *s)
{
    if (s == NULL)
        return;
    sl_arena_destroy(s->arena);
    free(s);
}

void cv_catalog_destroy(cv_catalog *c)
{
    if (c == NULL)
        return;
    snapshot_free(c->current);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The retry policy of customer-value's calls to inventory (reads only):
 * two attempts within CV_INVENTORY_TIMEOUT_MS, bounded by the caller's
 * deadline (sl_client_call_from). */
static const sl_call_options inventory_policy = {
    .timeout_ms = CV_INVENTORY_TIMEOUT_MS,
    .idempotent = true,
    .max_attempts = 2,
};

/* The inventory status of a failed call as ours: the client's problem
 * stays ours to explain, anything else means inventory cannot be asked. */
static sl_status peer_failure(sl_status st, const char *what, sl_err *err)
{
    if (st == SL_DEADLINE_EXCEEDED) {
        sl_err_wrap(err, "could not %s in time", what);
        return st;
    }
    char msg[SL_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err != NULL ? err->msg : "");
    return sl_err_set(err, SL_UNAVAILABLE, "could not %s: inventory answered %s: %s", what,
                      sl_status_name(st), msg);
}

static int product_cmp(const void *x, const void *y)
{
    return strcmp(((const cv_product *)x)->sku, ((const cv_product *)y)->sku);
}

/* Loads every product (ListProducts, pages of 1,000) into a new snapshot. */
static sl_status load(cv_catalog *c, sl_call *call, cv_snapshot **out, sl_err *err)
{
    sl_channel *ch = sl_service_peer(c->svc, CV_PEER_INVENTORY);
    if (ch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "out of memory opening the inventory channel");
    cv_snapshot *s = sl_calloc(1, sizeof *s);
    sl_arena *page = sl_arena_create(64 * 1024);
    sl_status st = SL_OK;
    if (s == NULL || page == NULL || (s->arena = sl_arena_create(64 * 1024)) == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading the catalogue");
        goto fail;
    }
    size_t cap = 0;
    char *token = NULL;
    for (;;) {
        Shelfline__V1__PageRequest pr = SHELFLINE__V1__PAGE_REQUEST__INIT;
        pr.page_size = 1000;
        pr.page_token = token != NULL ? token : "";
        Shelfline__V1__ListProductsRequest req = SHELFLINE__V1__LIST_PRODUCTS_REQUEST__INIT;
        req.page = &pr;
        ProtobufCMessage *m = NULL;
        st = sl_client_call_from(call, ch, "/shelfline.v1.InventoryService/ListProducts", &req.base,
                                 &shelfline__v1__list_products_response__descriptor, page, &m,
                                 &inventory_policy, err);
        if (st != SL_OK) {
            st = peer_failure(st, "list the inventory catalogue", err);
            goto fail;
        }
        Shelfline__V1__ListProductsResponse *r = (Shelfline__V1__ListProductsResponse *)m;
        if (s->n + r->n_products > cap) {
            size_t ncap = cap == 0 ? 1024 : cap;
            while (ncap < s->n + r->n_products)
                ncap *= 2;
            cv_product *np = sl_realloc(s->products, ncap * sizeof *np);
            if (np == NULL) {
                st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading the catalogue");
                goto fail;
            }
            s->products = np;
            cap = ncap;
        }
        for (size_t i = 0; i < r->n_products; i++) {
            const Shelfline__V1__Product *p = r->products[i];
            cv_product *d = &s->products[s->n++];
            d->sku = sl_arena_strdup(s->arena, p->sku);
            d->category = sl_arena_strdup(s->arena, p->category);
            d->name = sl_arena_strdup(s->arena, p->name);
            d->brand = sl_arena_strdup(s->arena, p->brand);
            d->price_minor = p->price != NULL ? p->price->minor_units : 0;
            d->currency = sl_arena_strdup(s->arena, p->price != NULL ? p->price->currency : "");
            d->repeat_days = p->repeat_purchase_days;
            d->tags = 0;
            for (size_t t = 0; t < p->n_seasonal_tags; t++)
                for (size_t k = 0; k < sizeof tag_names / sizeof tag_names[0]; k++)
                    if (strcmp(p->seasonal_tags[t], tag_names[k]) == 0)
                        d->tags |= 1u << k;
            if (d->sku == NULL || d->category == NULL || d->name == NULL || d->brand == NULL ||
                d->currency == NULL) {
                st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading the catalogue");
                goto fail;
            }
        }
        if (r->next_page_token == NULL || r->next_page_token[0] == '\0')
            break;
        token = sl_arena_strdup(s->arena, r->next_page_token);
        sl_arena_reset(page);
        if (token == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading the catalogue");
            goto fail;
        }
    }
    /* The snapshot's product array is malloc'ed; move it into the arena so
     * one destroy frees everything. */
    cv_product *arr = sl_arena_alloc(s->arena, (s->n > 0 ? s->n : 1) * sizeof *arr);
    if (arr == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory loading the catalogue");
        goto fail;
    }
    if (s->n > 0)
        memcpy(arr, s->products, s->n * sizeof *arr);
    free(s->products);
    s->products = arr;
    qsort(s->products, s->n, sizeof *s->products, product_cmp);
    s->loaded_ms = sl_db_now_ms();
    s->refs = 1;
    sl_arena_destroy(page);
    *out = s;
    return SL_OK;
fail:
    /* Every failure happens before the products moved into the arena. */
    if (s != NULL) {
        free(s->products);
        sl_arena_destroy(s->arena);
        free(s);
    }
    sl_arena_destroy(page);
    return st;
}

const cv_product *cv_snapshot_find(const cv_snapshot *s, const char *sku)
{
    cv_product key = {.sku = sku};
    return bsearch(&key, s->products, s->n, sizeof *s->products, product_cmp);
}

const cv_product *cv_snapshot_products(const cv_snapshot *s, size_t *n)
{
    *n = s->n;
    return s->products;
}

static bool covers(const cv_snapshot *s, const char *const *skus, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cv_snapshot_find(s, skus[i]) == NULL)
            return false;
    return true;
}

sl_status cv_catalog_acquire(cv_catalog *c, sl_call *call, const char *const *skus, size_t n,
                             cv_snapshot **out, sl_err *err)
{
    int64_t now = sl_db_now_ms();
    pthread_mutex_lock(&c->mu);
    cv_snapshot *cur = c->current;
    bool reload = cur == NULL || now - cur->loaded_ms > CV_CATALOG_TTL_MS ||
                  (now - cur->loaded_ms > CV_CATALOG_MIN_AGE_MS && !covers(cur, skus, n));
    if (!reload) {
        cur->refs++;
        pthread_mutex_unlock(&c->mu);
        *out = cur;
        return SL_OK;
    }
    pthread_mutex_unlock(&c->mu);

    cv_snapshot *fresh = NULL;
    sl_err lerr;
    sl_status st = load(c, call, &fresh, &lerr);
    pthread_mutex_lock(&c->mu);
    if (st == SL_OK) {
        cv_snapshot *old = c->current;
        c->current = fresh; /* the catalogue's own reference */
        if (old != NULL && --old->refs == 0)
            snapshot_free(old);
    } else if (c->current == NULL) {
        pthread_mutex_unlock(&c->mu);
        if (err != NULL)
            *err = lerr;
        return st;
    } else {
        SL_LOG(SL_LOG_WARN, "catalogue", call != NULL ? sl_call_request_id(call) : NULL,
               "could not reload the catalogue, using the previous one: %s", lerr.msg);
    }
    c->current->refs++;
    *out = c->current;
    pthread_mutex_unlock(&c->mu);
    return SL_OK;
}

void cv_catalog_release(cv_catalog *c, cv_snapshot *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (last)
        snapshot_free(s);
}

bool cv_tags_in_season(uint32_t tags, int32_t day)
{
    int m, d;
    sl_civil_from_days(day, NULL, &m, &d);
    int md = m * 100 + d;
    uint32_t season = 0;
    if (md >= 1115 && md <= 1130)
        season |= 1u << 0;
    if (md >= 1120 && md <= 1224)
        season |= 1u << 1;
    if (md >= 801 && md <= 915)
        season |= 1u << 2;
    if (m >= 6 && m <= 8)
        season |= 1u << 3;
    if (m == 12 || m <= 2)
        season |= 1u << 4;
    return (tags & season) != 0;
}

sl_status cv_catalog_availability(cv_catalog *c, sl_call *call, const char *region,
                                  const char *const *skus, size_t n, int64_t *available,
                                  sl_err *err)
{
    return cv_catalog_offer(c, call, region, skus, n, available, NULL, err);
}

/* The nearest serving warehouse with units (inventory lists them nearest
 * first) gives the delivery promise. */
static void offer_of(const Shelfline__V1__Availability *it, cv_offer *o)
{
    *o = (cv_offer){it->available > 0 ? it->available : 0, it->only_left, 0, 0};
    for (size_t w = 0; w < it->n_warehouses; w++)
        if (it->warehouses[w]->available > 0) {
            o->transit_p50 = it->warehouses[w]->transit_p50_days;
            o->transit_p90 = it->warehouses[w]->transit_p90_days;
            break;
        }
}

sl_status cv_catalog_offer(cv_catalog *c, sl_call *call, const char *region,
                           const char *const *skus, size_t n, int64_t *available, cv_offer *offers,
                           sl_err *err)
{
    sl_channel *ch = sl_service_peer(c->svc, CV_PEER_INVENTORY);
    if (ch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "out of memory opening the inventory channel");
    sl_arena *a = sl_arena_create(64 * 1024);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status st = SL_OK;
    for (size_t off = 0; off < n; off += CV_AVAIL_BATCH) {
        size_t k = n - off < CV_AVAIL_BATCH ? n - off : CV_AVAIL_BATCH;
        Shelfline__V1__GetAvailabilityRequest req = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
        req.skus = (char **)(skus + off);
        req.n_skus = k;
        req.region = (char *)region;
        ProtobufCMessage *m = NULL;
        st = sl_client_call_from(call, ch, "/shelfline.v1.InventoryService/GetAvailability",
                                 &req.base, &shelfline__v1__get_availability_response__descriptor,
                                 a, &m, &inventory_policy, err);
        if (st == SL_INVALID_ARGUMENT && err != NULL && strstr(err->msg, "not served") != NULL) {
            /* Nothing ships to the region: nothing is available there. */
            for (size_t i = 0; i < n; i++) {
                if (available != NULL)
                    available[i] = 0;
                if (offers != NULL)
                    offers[i] = (cv_offer){0, 0, 0, 0};
            }
            sl_err_clear(err);
            st = SL_OK;
            goto done;
        }
        if (st != SL_OK) {
            st = peer_failure(st, "check availability with the inventory service", err);
            goto done;
        }
        Shelfline__V1__GetAvailabilityResponse *r = (Shelfline__V1__GetAvailabilityResponse *)m;
        if (r->n_items != k) {
            st = sl_err_set(err, SL_UNAVAILABLE,
                            "could not check availability: inventory answered %zu items for %zu "
                            "SKUs",
                            r->n_items, k);
            goto done;
        }
        for (size_t i = 0; i < k; i++) {
            if (available != NULL)
                available[off + i] = r->items[i]->available > 0 ? r->items[i]->available : 0;
            if (offers != NULL)
                offer_of(r->items[i], &offers[off + i]);
        }
        sl_arena_reset(a);
    }
done:
    sl_arena_destroy(a);
    return st;
}

sl_status cv_catalog_promotion(cv_catalog *c, sl_call *call, const char *promotion_id, sl_arena *a,
                               Shelfline__V1__Promotion **out, sl_err *err)
{
    sl_channel *ch = sl_service_peer(c->svc, CV_PEER_INVENTORY);
    if (ch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "out of memory opening the inventory channel");
    Shelfline__V1__GetPromotionRequest req = SHELFLINE__V1__GET_PROMOTION_REQUEST__INIT;
    req.promotion_id = (char *)promotion_id;
    ProtobufCMessage *m = NULL;
    sl_status st =
        sl_client_call_from(call, ch, "/shelfline.v1.InventoryService/GetPromotion", &req.base,
                            &shelfline__v1__promotion__descriptor, a, &m, &inventory_policy, err);
    if (st == SL_NOT_FOUND)
        return sl_err_reason(err, SL_NOT_FOUND, "PROMOTION_NOT_FOUND",
                             "promotion_id: inventory knows no promotion \"%s\"", promotion_id);
    if (st != SL_OK)
        return peer_failure(st, "read the promotion from the inventory service", err);
    *out = (Shelfline__V1__Promotion *)m;
    return SL_OK;
}

sl_status cv_catalog_promotion_reach(cv_catalog *c, sl_call *call,
                                     const Shelfline__V1__Promotion *p, const char *region,
                                     cv_offer *out, sl_err *err)
{
    sl_channel *ch = sl_service_peer(c->svc, CV_PEER_INVENTORY);
    if (ch == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED,
                          "out of memory opening the inventory channel");
    *out = (cv_offer){0, 0, 0, 0};
    if (p->region[0] != '\0' && strcmp(p->region, region) != 0)
        return SL_OK;
    sl_arena *a = sl_arena_create(16 * 1024);
    if (a == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    char *skus[1] = {p->sku};
    Shelfline__V1__GetAvailabilityRequest req = SHELFLINE__V1__GET_AVAILABILITY_REQUEST__INIT;
    req.skus = skus;
    req.n_skus = 1;
    req.region = (char *)region;
    ProtobufCMessage *m = NULL;
    sl_status st = sl_client_call_from(
        call, ch, "/shelfline.v1.InventoryService/GetAvailability", &req.base,
        &shelfline__v1__get_availability_response__descriptor, a, &m, &inventory_policy, err);
    if (st == SL_INVALID_ARGUMENT && err != NULL && strstr(err->msg, "not served") != NULL) {
        sl_err_clear(err);
        st = SL_OK; /* nothing ships there: nothing reaches it */
        goto done;
    }
    if (st != SL_OK) {
        st = peer_failure(st, "check availability with the inventory service", err);
        goto done;
    }
    Shelfline__V1__GetAvailabilityResponse *r = (Shelfline__V1__GetAvailabilityResponse *)m;
    if (r->n_items != 1)
        goto done;
    /* The serving warehouses come nearest first: the first holding part
     * of the fence gives the promise. */
    for (size_t w = 0; w < r->items[0]->n_warehouses; w++) {
        const Shelfline__V1__WarehouseAvailability *wa = r->items[0]->warehouses[w];
        for (size_t f = 0; f < p->n_fences; f++)
            if (p->fences[f]->remaining > 0 &&
                strcmp(p->fences[f]->warehouse_id, wa->warehouse_id) == 0) {
                if (out->available == 0) {
                    out->transit_p50 = wa->transit_p50_days;
                    out->transit_p90 = wa->transit_p90_days;
                }
                out->available += p->fences[f]->remaining;
            }
    }
    out->only_left = out->available;
done:
    sl_arena_destroy(a);
    return st;
}
