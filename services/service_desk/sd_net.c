/*
 * sd_net: inventory's warehouses cached as sd_warehouse calendars (see
 * sd_net.h).
 */
#include "sd_net.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_arena.h"
#include "sl_db.h"
#include "sl_log.h"

struct sd_net_snap {
    atomic_int refs; /* readers + 1 while current */
    size_t n;
    sd_warehouse **wh;  /* sorted by id */
    const sd_tz **zone; /* zone[i] is wh[i]'s */
    int64_t fetched_ms;
};

struct sd_net {
    sl_channel *inventory;
    sd_tzdb *tz;
    int64_t ttl_ms;
    int handling_days;
    int64_t call_timeout_ms;
    pthread_mutex_t mu; /* guards cur and last_fetch_ms; fetches run under it */
    sd_net_snap *cur;
    int64_t last_fetch_ms;
};

static void snap_free(sd_net_snap *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        sd_warehouse_free(s->wh[i]);
    free(s->wh);
    free(s->zone);
    free(s);
}

static void snap_unref(sd_net_snap *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        snap_free(s);
}

typedef struct wh_pair {
    sd_warehouse *w;
    const sd_tz *zone;
} wh_pair;

static int wh_cmp(const void *a, const void *b)
{
    return strcmp(sd_warehouse_id(((const wh_pair *)a)->w),
                  sd_warehouse_id(((const wh_pair *)b)->w));
}

/* Sorts wh[] (with zone[]) by id. */
static sl_status snap_sort(sd_net_snap *s, sl_err *err)
{
    if (s->n < 2)
        return SL_OK;
    wh_pair *p = sl_malloc(s->n * sizeof *p);
    if (p == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < s->n; i++)
        p[i] = (wh_pair){s->wh[i], s->zone[i]};
    qsort(p, s->n, sizeof *p, wh_cmp);
    for (size_t i = 0; i < s->n; i++) {
        s->wh[i] = p[i].w;
        s->zone[i] = p[i].zone;
    }
    free(p);
    return SL_OK;
}

sl_status sd_net_create(sl_channel *inventory, sd_tzdb *tz, int64_t ttl_ms, int handling_days,
                        int64_t call_timeout_ms, sd_net **out, sl_err *err)
{
    sd_net *n = sl_calloc(1, sizeof *n);
    if (n == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    n->inventory = inventory;
    n->tz = tz;
    n->ttl_ms = ttl_ms;
    n->handling_days = handling_days;
    n->call_timeout_ms = call_timeout_ms;
    pthread_mutex_init(&n->mu, NULL);
    *out = n;
    return SL_OK;
}

void sd_net_destroy(sd_net *n)
{
    if (n == NULL)
        return;
    snap_unref(n->cur);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

/* Builds one warehouse; a warehouse inventory holds with a zone this host
 * does not know is skipped with a warning rather than failing every ETA. */
static sl_status add_warehouse(sd_net *n, sd_net_snap *s, size_t *cap,
                               const Shelfline__V1__Warehouse *w, sl_err *err)
{
    const sd_tz *zone;
    sl_err e;
    if (sd_tzdb_get(n->tz, w->time_zone, &zone, &e) != SL_OK) {
        SL_LOG(SL_LOG_WARN, "warehouse_skipped", NULL, "could not use warehouse \"%s\": %s",
               w->warehouse_id, e.msg);
        return SL_OK;
    }
    /* The shipping calendar SetWarehouseCalendar keeps; none (an older
     * inventory) is Monday to Friday without holidays. */
    unsigned days = 0;
    for (size_t i = 0; i < w->n_ship_weekdays; i++)
        if (w->ship_weekdays[i] >= SHELFLINE__V1__WEEKDAY__WEEKDAY_MONDAY &&
            w->ship_weekdays[i] <= SHELFLINE__V1__WEEKDAY__WEEKDAY_SUNDAY)
            days |= SD_WEEKDAY_BIT(SD_MON + (w->ship_weekdays[i] - 1));
    sd_date *holidays = w->n_holidays > 0 ? sl_malloc(w->n_holidays * sizeof *holidays) : NULL;
    if (w->n_holidays > 0 && holidays == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    sl_status parsed = SL_OK;
    for (size_t i = 0; i < w->n_holidays && parsed == SL_OK; i++)
        if ((parsed = sd_date_parse(w->holidays[i], &holidays[i], &e)) != SL_OK)
            sl_err_wrap(&e, "holidays[%zu]", i);
    sd_warehouse_config cfg = {
        .id = w->warehouse_id,
        .name = w->name,
        .zone = zone,
        .cutoff = w->ship_cutoff,
        .ship_days = days != 0 ? days : SD_WEEKDAYS_MON_FRI,
        .holidays = holidays,
        .n_holidays = w->n_holidays,
        .handling_days = n->handling_days,
    };
    sd_warehouse *built;
    if (parsed != SL_OK || sd_warehouse_new(&cfg, &built, &e) != SL_OK) {
        free(holidays);
        if (e.status == SL_RESOURCE_EXHAUSTED)
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        SL_LOG(SL_LOG_WARN, "warehouse_skipped", NULL, "could not use warehouse \"%s\": %s",
               w->warehouse_id, e.msg);
        return SL_OK;
    }
    free(holidays);
    if (s->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        sd_warehouse **g = sl_realloc(s->wh, nc * sizeof *g);
        if (g != NULL)
            s->wh = g;
        const sd_tz **z = g == NULL ? NULL : sl_realloc(s->zone, nc * sizeof *z);
        if (z != NULL)
            s->zone = z;
        if (g == NULL || z == NULL) {
            sd_warehouse_free(built);
            return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        }
        *cap = nc;
    }
    s->zone[s->n] = zone;
    s->wh[s->n++] = built;
    return SL_OK;
}

static sl_status fetch(sd_net *n, sd_net_snap **out, sl_err *err)
{
    sd_net_snap *s = sl_calloc(1, sizeof *s);
    sl_arena *a = sl_arena_create(64 * 1024);
    sl_status st = SL_OK;
    size_t cap = 0;
    char token[256] = "";
    if (s == NULL || a == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto done;
    }
    for (int page = 0; page < 1000; page++) {
        Shelfline__V1__PageRequest pr = SHELFLINE__V1__PAGE_REQUEST__INIT;
        pr.page_size = 1000;
        pr.page_token = token;
        Shelfline__V1__ListWarehousesRequest req = SHELFLINE__V1__LIST_WAREHOUSES_REQUEST__INIT;
        req.page = &pr;
        ProtobufCMessage *resp;
        /* The shared network cache, refreshed for whichever call needs it
         * first: its own budget, not that caller's. */
        sl_call_options policy = {.timeout_ms = n->call_timeout_ms, .idempotent = true};
        st = sl_client_call_from(
            NULL, n->inventory, "/shelfline.v1.InventoryService/ListWarehouses", &req.base,
            &shelfline__v1__list_warehouses_response__descriptor, a, &resp, &policy, err);
        if (st != SL_OK) {
            sl_err_wrap(err, "could not list warehouses");
            goto done;
        }
        const Shelfline__V1__ListWarehousesResponse *r = (void *)resp;
        for (size_t i = 0; i < r->n_warehouses && st == SL_OK; i++)
            if (r->warehouses[i]->active)
                st = add_warehouse(n, s, &cap, r->warehouses[i], err);
        if (st != SL_OK)
            goto done;
        if (r->next_page_token == NULL || r->next_page_token[0] == '\0' ||
            strlen(r->next_page_token) >= sizeof token)
            break;
        memcpy(token, r->next_page_token, strlen(r->next_page_token) + 1);
        sl_arena_reset(a);
    }
    if ((st = snap_sort(s, err)) != SL_OK)
        goto done;
    atomic_init(&s->refs, 1);
    s->fetched_ms = sl_db_now_ms();
done:
    sl_arena_destroy(a);
    if (st != SL_OK) {
        snap_free(s);
        return st;
    }
    *out = s;
    return SL_OK;
}

sl_status sd_net_acquire(sd_net *n, bool refresh, sd_net_snap **out, sl_err *err)
{
    sl_status st = SL_OK;
    pthread_mutex_lock(&n->mu);
    int64_t now = sl_db_now_ms();
    bool stale = n->cur == NULL || now - n->cur->fetched_ms > n->ttl_ms;
    if (refresh && now - n->last_fetch_ms > 1000)
        stale = true;
    if (stale && (n->cur == NULL || now - n->last_fetch_ms > 250)) {
        sd_net_snap *fresh;
        sl_err e;
        n->last_fetch_ms = now;
        st = fetch(n, &fresh, &e);
        if (st == SL_OK) {
            snap_unref(n->cur);
            n->cur = fresh;
        } else if (n->cur == NULL) {
            if (err != NULL)
                *err = e;
            pthread_mutex_unlock(&n->mu);
            return st;
        } else {
            SL_LOG(SL_LOG_WARN, "warehouse_cache_stale", NULL, "could not refresh warehouses: %s",
                   e.msg);
            st = SL_OK;
        }
    }
    atomic_fetch_add(&n->cur->refs, 1);
    *out = n->cur;
    pthread_mutex_unlock(&n->mu);
    return st;
}

void sd_net_release(sd_net *n, sd_net_snap *s)
{
    (void)n;
    snap_unref(s);
}

static size_t find_index(const sd_net_snap *s, const char *id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sd_warehouse_id(s->wh[mid]), id);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

const sd_tz *sd_net_zone(const sd_net_snap *s, const sd_warehouse *w)
{
    size_t i = find_index(s, sd_warehouse_id(w));
    return i == SIZE_MAX ? NULL : s->zone[i];
}

const sd_warehouse *sd_net_warehouse(const sd_net_snap *s, const char *id)
{
    size_t i = find_index(s, id);
    return i == SIZE_MAX ? NULL : s->wh[i];
}

const sd_warehouse *sd_net_find(sd_net *n, sd_net_snap **snap, const char *id)
{
    const sd_warehouse *w = sd_net_warehouse(*snap, id);
    if (w != NULL)
        return w;
    sd_net_snap *fresh;
    if (sd_net_acquire(n, true, &fresh, NULL) != SL_OK)
        return NULL;
    sd_net_release(n, *snap);
    *snap = fresh;
    return sd_net_warehouse(fresh, id);
}

void sd_net_invalidate(sd_net *n)
{
    pthread_mutex_lock(&n->mu);
    snap_unref(n->cur);
    n->cur = NULL;
    n->last_fetch_ms = 0;
    pthread_mutex_unlock(&n->mu);
}
