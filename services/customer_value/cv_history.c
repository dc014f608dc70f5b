/*
 * cv_history: the purchase history in memory, one snapshot per data
 * version (see cv_history.h).
 *
 * A snapshot interns SKUs, categories, regions and customers into arrays
 * sorted in byte order, so an id comparison is a string comparison, and
 * keeps the orders grouped by customer with their lines, the orders that
 * hold each SKU, and the lines not fully returned in (customer, SKU, day)
 * order.  Every query walks these arrays with per-call scratch arrays in
 * the caller's arena; nothing in a snapshot changes after it is built.
 */
#include "cv_history.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")
#define NONE UINT32_MAX

/* A bestseller list computed once per snapshot (they are the same for
 * every customer of a region or with an interest in a category). */
typedef struct memo {
    uint32_t region, category;
    int32_t since;
    int limit;
    cv_sku_score *scores; /* malloc'd; strings point into the snapshot */
    size_t n;
    struct memo *next;
} memo;

struct cv_history_snap {
    sl_arena *arena; /* everything below but the memos */
    int refs;        /* guarded by the holder's mutex */
    pthread_mutex_t memo_mu;
    memo *memos; /* guarded by memo_mu: the only part that changes */
    int64_t version;
    const char **skus, **cats, **regions, **custs; /* sorted, distinct */
    size_t nskus, ncats, nregions, ncusts;
    uint32_t *cust_region;            /* region of each customer */
    uint32_t *cust_first;             /* orders of customer c: [cust_first[c], cust_first[c+1]) */
    size_t norders;                   /* orders, by customer then order id */
    uint32_t *order_cust;             /* customer of each order */
    int32_t *order_day;               /* day of each order */
    uint32_t *order_first;            /* lines of order o: [order_first[o], order_first[o+1]) */
    size_t nlines;                    /* lines, by order then SKU */
    uint32_t *line_sku, *line_cat;    /* ids */
    int64_t *line_net;                /* units not returned */
    uint32_t *line_order;             /* order of each line */
    uint32_t *sku_first, *sku_orders; /* orders holding SKU s: sku_orders[sku_first[s]..] */
    uint32_t *repeat;                 /* lines with units left, by customer, SKU, day */
    size_t nrepeat;
};

struct cv_history {
    pthread_mutex_t mu;
    cv_history_snap *current;
    bool building;
};

/* ---- the holder ---- */

cv_history *cv_history_create(void)
{
    cv_history *h = sl_calloc(1, sizeof *h);
    if (h != NULL)
        pthread_mutex_init(&h->mu, NULL);
    return h;
}

static void snap_free(cv_history_snap *s)
{
    if (s == NULL)
        return;
    for (memo *m = s->memos, *next; m != NULL; m = next) {
        next = m->next;
        free(m->scores);
        free(m);
    }
    pthread_mutex_destroy(&s->memo_mu);
    sl_arena_destroy(s->arena);
}

void cv_history_destroy(cv_history *h)
{
    if (h == NULL)
        return;
    snap_free(h->current);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

cv_history_snap *cv_history_acquire(cv_history *h, int64_t version)
{
    cv_history_snap *s = NULL;
    pthread_mutex_lock(&h->mu);
    if (h->current != NULL && h->current->version == version) {
        s = h->current;
        s->refs++;
    }
    pthread_mutex_unlock(&h->mu);
    return s;
}

void cv_history_release(cv_history *h, cv_history_snap *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last)
        snap_free(s);
}

bool cv_history_begin_build(cv_history *h)
{
    pthread_mutex_lock(&h->mu);
    bool mine = !h->building;
    h->building = true;
    pthread_mutex_unlock(&h->mu);
    return mine;
}

cv_history_snap *cv_history_install(cv_history *h, cv_history_snap *s)
{
    cv_history_snap *old = NULL;
    pthread_mutex_lock(&h->mu);
    h->building = false;
    if (s != NULL) {
        s->refs = 1; /* the caller's */
        if (h->current == NULL || h->current->version <= s->version) {
            old = h->current;
            h->current = s;
            s->refs++; /* the holder's */
        }
    }
    bool last = old != NULL && --old->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last)
        snap_free(old);
    return s;
}

int64_t cv_history_version(const cv_history_snap *s)
{
    return s->version;
}

/* ---- building ---- */

static int str_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The distinct strings of field `off` of rows, sorted, copied into a. */
static const char **intern(sl_arena *a, const cv_history_row *rows, size_t n, size_t off,
                           size_t *count)
{
    const char **all = sl_malloc((n > 0 ? n : 1) * sizeof *all);
    const char **out = NULL;
    *count = 0;
    if (all == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        all[i] = *(const char *const *)((const char *)&rows[i] + off);
    qsort(all, n, sizeof *all, str_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(all[k - 1], all[i]) != 0)
            all[k++] = all[i];
    out = sl_arena_alloc(a, (k > 0 ? k : 1) * sizeof *out);
    for (size_t i = 0; out != NULL && i < k; i++)
        if ((out[i] = sl_arena_strdup(a, all[i])) == NULL)
            out = NULL;
    free(all);
    if (out != NULL)
        *count = k;
    return out;
}

/* The id of v among sorted[0..n-1], or NONE. */
static uint32_t id_of(const char *const *sorted, size_t n, const char *v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sorted[mid], v);
        if (c == 0)
            return (uint32_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NONE;
}

static int row_cmp(const void *x, const void *y)
{
    const cv_history_row *a = *(const cv_history_row *const *)x;
    const cv_history_row *b = *(const cv_history_row *const *)y;
    int c = strcmp(a->customer_id, b->customer_id);
    if (c == 0)
        c = strcmp(a->order_id, b->order_id);
    return c != 0 ? c : strcmp(a->sku, b->sku);
}

/* A line's place in the repeat order. */
typedef struct repeat_key {
    uint32_t cust, sku;
    int32_t day;
    uint32_t line;
} repeat_key;

static int repeat_cmp(const void *x, const void *y)
{
    const repeat_key *a = x, *b = y;
    if (a->cust != b->cust)
        return a->cust < b->cust ? -1 : 1;
    if (a->sku != b->sku)
        return a->sku < b->sku ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return (a->line > b->line) - (a->line < b->line);
}

/* Orders, lines and customers from rows taken in customer, order, SKU
 * order (by[]); false when out of memory. */
static bool build_orders(cv_history_snap *s, const cv_history_row *const *by, size_t n)
{
    sl_arena *a = s->arena;
    s->nlines = n;
    s->line_sku = sl_arena_alloc(a, (n + 1) * sizeof *s->line_sku);
    s->line_cat = sl_arena_alloc(a, (n + 1) * sizeof *s->line_cat);
    s->line_net = sl_arena_alloc(a, (n + 1) * sizeof *s->line_net);
    s->line_order = sl_arena_alloc(a, (n + 1) * sizeof *s->line_order);
    s->order_cust = sl_arena_alloc(a, (n + 1) * sizeof *s->order_cust);
    s->order_day = sl_arena_alloc(a, (n + 1) * sizeof *s->order_day);
    s->order_first = sl_arena_alloc(a, (n + 2) * sizeof *s->order_first);
    s->cust_region = sl_arena_alloc(a, (s->ncusts + 1) * sizeof *s->cust_region);
    s->cust_first = sl_arena_alloc(a, (s->ncusts + 2) * sizeof *s->cust_first);
    if (s->line_sku == NULL || s->line_cat == NULL || s->line_net == NULL ||
        s->line_order == NULL || s->order_cust == NULL || s->order_day == NULL ||
        s->order_first == NULL || s->cust_region == NULL || s->cust_first == NULL)
        return false;
    size_t no = 0, nc = 0;
    for (size_t i = 0; i < n; i++) {
        const cv_history_row *r = by[i];
        bool new_cust = i == 0 || strcmp(by[i - 1]->customer_id, r->customer_id) != 0;
        if (new_cust) {
            s->cust_region[nc] = id_of(s->regions, s->nregions, r->region);
            s->cust_first[nc++] = (uint32_t)no;
        }
        if (new_cust || strcmp(by[i - 1]->order_id, r->order_id) != 0) {
            s->order_cust[no] = (uint32_t)(nc - 1);
            s->order_day[no] = r->day;
            s->order_first[no++] = (uint32_t)i;
        }
        s->line_sku[i] = id_of(s->skus, s->nskus, r->sku);
        s->line_cat[i] = id_of(s->cats, s->ncats, r->category);
        s->line_net[i] = r->qty - r->returned_qty;
        s->line_order[i] = (uint32_t)(no - 1);
    }
    s->norders = no;
    s->order_first[no] = (uint32_t)n;
    s->cust_first[nc] = (uint32_t)no;
    return true;
}

/* The orders holding each SKU, and the repeat order of the lines with
 * units left; false when out of memory. */
static bool build_indexes(cv_history_snap *s)
{
    sl_arena *a = s->arena;
    s->sku_first = sl_arena_zalloc(a, (s->nskus + 2) * sizeof *s->sku_first);
    s->sku_orders = sl_arena_alloc(a, (s->nlines + 1) * sizeof *s->sku_orders);
    s->repeat = sl_arena_alloc(a, (s->nlines + 1) * sizeof *s->repeat);
    if (s->sku_first == NULL || s->sku_orders == NULL || s->repeat == NULL)
        return false;
    /* (order, SKU) is unique, so each line is one order of its SKU. */
    for (size_t i = 0; i < s->nlines; i++)
        s->sku_first[s->line_sku[i] + 1]++;
    for (size_t k = 0; k < s->nskus; k++)
        s->sku_first[k + 1] += s->sku_first[k];
    uint32_t *fill = sl_malloc((s->nskus + 1) * sizeof *fill);
    if (fill == NULL)
        return false;
    memcpy(fill, s->sku_first, (s->nskus + 1) * sizeof *fill);
    for (size_t i = 0; i < s->nlines; i++)
        s->sku_orders[fill[s->line_sku[i]]++] = s->line_order[i];
    free(fill);
    repeat_key *keys = sl_malloc((s->nlines + 1) * sizeof *keys);
    if (keys == NULL)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < s->nlines; i++)
        if (s->line_net[i] > 0) {
            uint32_t o = s->line_order[i];
            keys[k++] =
                (repeat_key){s->order_cust[o], s->line_sku[i], s->order_day[o], (uint32_t)i};
        }
    qsort(keys, k, sizeof *keys, repeat_cmp);
    for (size_t i = 0; i < k; i++)
        s->repeat[i] = keys[i].line;
    s->nrepeat = k;
    free(keys);
    return true;
}

sl_status cv_history_build(int64_t version, const cv_history_row *rows, size_t n,
                           cv_history_snap **out, sl_err *err)
{
    *out = NULL;
    if (n >= NONE)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "too many purchase lines to copy: %zu", n);
    sl_arena *a = sl_arena_create(1 << 20);
    const cv_history_row **by = sl_malloc((n > 0 ? n : 1) * sizeof *by);
    cv_history_snap *s = a != NULL ? sl_arena_zalloc(a, sizeof *s) : NULL;
    if (s == NULL || by == NULL) {
        free(by);
        sl_arena_destroy(a);
        return OOM(err);
    }
    s->arena = a;
    s->version = version;
    for (size_t i = 0; i < n; i++)
        by[i] = &rows[i];
    /* The store sends them in this order already; sort only if not. */
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = row_cmp(&by[i - 1], &by[i]) <= 0;
    if (!sorted)
        qsort(by, n, sizeof *by, row_cmp);
    pthread_mutex_init(&s->memo_mu, NULL);
    bool ok =
        (s->skus = intern(a, rows, n, offsetof(cv_history_row, sku), &s->nskus)) != NULL &&
        (s->cats = intern(a, rows, n, offsetof(cv_history_row, category), &s->ncats)) != NULL &&
        (s->regions = intern(a, rows, n, offsetof(cv_history_row, region), &s->nregions)) != NULL &&
        (s->custs = intern(a, rows, n, offsetof(cv_history_row, customer_id), &s->ncusts)) !=
            NULL &&
        build_orders(s, by, n) && build_indexes(s);
    free(by);
    if (!ok) {
        snap_free(s);
        return OOM(err);
    }
    *out = s;
    return SL_OK;
}

/* ---- queries ---- */

/* Per-SKU scratch of one query: a count, the last customer (+1) counted,
 * the least category. */
typedef struct tally {
    uint32_t *count, *last, *mincat;
} tally;

static bool tally_init(sl_arena *a, size_t nskus, tally *t)
{
    size_t k = nskus > 0 ? nskus : 1;
    t->count = sl_arena_zalloc(a, k * sizeof *t->count);
    t->last = sl_arena_zalloc(a, k * sizeof *t->last);
    t->mincat = sl_arena_alloc(a, k * sizeof *t->mincat);
    if (t->count == NULL || t->last == NULL || t->mincat == NULL)
        return false;
    for (size_t i = 0; i < nskus; i++)
        t->mincat[i] = NONE;
    return true;
}

/* A SKU with its count, for ranking. */
typedef struct ranked {
    uint32_t count, sku;
} ranked;

/* By count, highest first, then SKU (ids are in byte order). */
static int rank_cmp(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return (a->sku > b->sku) - (a->sku < b->sku);
}

/* The best limit SKUs of t as scores, into a. */
static sl_status top(const cv_history_snap *s, sl_arena *a, const tally *t, int limit,
                     cv_sku_score **out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    ranked *r = sl_arena_alloc(a, (s->nskus > 0 ? s->nskus : 1) * sizeof *r);
    if (r == NULL)
        return OOM(err);
    size_t k = 0;
    for (size_t i = 0; i < s->nskus; i++)
        if (t->count[i] > 0)
            r[k++] = (ranked){t->count[i], (uint32_t)i};
    qsort(r, k, sizeof *r, rank_cmp);
    /* SQL's LIMIT: never more than limit (none for a negative one). */
    size_t m = limit < 0 ? 0 : (size_t)limit < k ? (size_t)limit : k;
    cv_sku_score *o = sl_arena_alloc(a, (m > 0 ? m : 1) * sizeof *o);
    if (o == NULL)
        return OOM(err);
    for (size_t i = 0; i < m; i++)
        o[i] = (cv_sku_score){s->skus[r[i].sku], s->cats[t->mincat[r[i].sku]], (double)r[i].count};
    *out = o;
    *n = m;
    return SL_OK;
}

static void count_line(const cv_history_snap *s, tally *t, size_t line, uint32_t cust)
{
    uint32_t sku = s->line_sku[line];
    if (t->last[sku] != cust + 1) {
        t->last[sku] = cust + 1;
        t->count[sku]++;
    }
    if (s->line_cat[line] < t->mincat[sku])
        t->mincat[sku] = s->line_cat[line];
}

/* The bestsellers of (rid, cid) computed from the snapshot's lines. */
static sl_status count_bestsellers(const cv_history_snap *s, sl_arena *a, uint32_t rid,
                                   uint32_t cid, int32_t since_day, int limit, cv_sku_score **out,
                                   size_t *n, sl_err *err)
{
    const bool region = rid != NONE, category = cid != NONE;
    tally t;
    if (!tally_init(a, s->nskus, &t))
        return OOM(err);
    /* Customers one after the other: a SKU's last customer tells whether
     * this one is counted already (count(DISTINCT customer_id)). */
    for (uint32_t c = 0; c < s->ncusts; c++) {
        if (region && s->cust_region[c] != rid)
            continue;
        for (uint32_t o = s->cust_first[c]; o < s->cust_first[c + 1]; o++) {
            if (s->order_day[o] < since_day)
                continue;
            for (uint32_t l = s->order_first[o]; l < s->order_first[o + 1]; l++)
                if (s->line_net[l] > 0 && (!category || s->line_cat[l] == cid))
                    count_line(s, &t, l, c);
        }
    }
    return top(s, a, &t, limit, out, n, err);
}

/* The memo of (rid, cid, since, limit), or NULL; memo_mu held. */
static const memo *memo_find(const cv_history_snap *s, uint32_t rid, uint32_t cid, int32_t since,
                             int limit)
{
    for (const memo *m = s->memos; m != NULL; m = m->next)
        if (m->region == rid && m->category == cid && m->since == since && m->limit == limit)
            return m;
    return NULL;
}

/* Copies scores[0..n-1] into a. */
static sl_status copy_scores(sl_arena *a, const cv_sku_score *scores, size_t n, cv_sku_score **out,
                             sl_err *err)
{
    *out = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof **out);
    if (*out == NULL)
        return OOM(err);
    if (n > 0)
        memcpy(*out, scores, n * sizeof **out);
    return SL_OK;
}

sl_status cv_history_bestsellers(const cv_history_snap *s, sl_arena *a, const char *region,
                                 const char *category, int32_t since_day, int limit,
                                 cv_sku_score **out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    uint32_t rid = region != NULL ? id_of(s->regions, s->nregions, region) : NONE;
    uint32_t cid = category != NULL ? id_of(s->cats, s->ncats, category) : NONE;
    if ((region != NULL && rid == NONE) || (category != NULL && cid == NONE))
        return SL_OK; /* no line can match */
    /* The memos are the snapshot's one mutable part: a cast, under their
     * own mutex. */
    cv_history_snap *w = (cv_history_snap *)s;
    pthread_mutex_lock(&w->memo_mu);
    const memo *m = memo_find(s, rid, cid, since_day, limit);
    size_t found = m != NULL ? m->n : 0;
    sl_status st = m != NULL ? copy_scores(a, m->scores, found, out, err) : SL_OK;
    pthread_mutex_unlock(&w->memo_mu);
    if (m != NULL) {
        *n = st == SL_OK ? found : 0;
        return st;
    }
    /* Computed outside the lock: two callers may both compute it; the
     * second keeps its own and does not add it again. */
    if ((st = count_bestsellers(s, a, rid, cid, since_day, limit, out, n, err)) != SL_OK)
        return st;
    memo *add = sl_malloc(sizeof *add);
    cv_sku_score *keep = sl_malloc((*n > 0 ? *n : 1) * sizeof *keep);
    if (add == NULL || keep == NULL) {
        free(add);
        free(keep);
        return SL_OK; /* not remembered: only slower next time */
    }
    if (*n > 0)
        memcpy(keep, *out, *n * sizeof *keep);
    *add = (memo){rid, cid, since_day, limit, keep, *n, NULL};
    pthread_mutex_lock(&w->memo_mu);
    if (memo_find(s, rid, cid, since_day, limit) == NULL) {
        add->next = w->memos;
        w->memos = add;
        add = NULL;
    }
    pthread_mutex_unlock(&w->memo_mu);
    if (add != NULL) {
        free(add->scores);
        free(add);
    }
    return SL_OK;
}

sl_status cv_history_copurchase(const cv_history_snap *s, sl_arena *a, const char *customer_id,
                                int limit, cv_sku_score **out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    uint32_t me = id_of(s->custs, s->ncusts, customer_id);
    if (me == NONE)
        return SL_OK; /* no SKU of theirs */
    tally t;
    bool *mine = sl_arena_zalloc(a, (s->nskus > 0 ? s->nskus : 1) * sizeof *mine);
    bool *seen = sl_arena_zalloc(a, (s->norders > 0 ? s->norders : 1) * sizeof *seen);
    if (mine == NULL || seen == NULL || !tally_init(a, s->nskus, &t))
        return OOM(err);
    for (uint32_t o = s->cust_first[me]; o < s->cust_first[me + 1]; o++)
        for (uint32_t l = s->order_first[o]; l < s->order_first[o + 1]; l++)
            mine[s->line_sku[l]] = true;
    /* Every other customer's order holding one of their SKUs, once; each
     * of its lines of another SKU counts (one line per order and SKU). */
    for (uint32_t k = 0; k < s->nskus; k++) {
        if (!mine[k])
            continue;
        for (uint32_t j = s->sku_first[k]; j < s->sku_first[k + 1]; j++) {
            uint32_t o = s->sku_orders[j];
            if (seen[o] || s->order_cust[o] == me)
                continue;
            seen[o] = true;
            for (uint32_t l = s->order_first[o]; l < s->order_first[o + 1]; l++) {
                uint32_t sku = s->line_sku[l];
                if (mine[sku])
                    continue;
                t.count[sku]++;
                if (s->line_cat[l] < t.mincat[sku])
                    t.mincat[sku] = s->line_cat[l];
            }
        }
    }
    return top(s, a, &t, limit, out, n, err);
}

sl_status cv_history_repeat_lines(const cv_history_snap *s, sl_arena *a, const char *const *skus,
                                  size_t nskus, cv_repeat_row **out, size_t *n, sl_err *err)
{
    *out = NULL;
    *n = 0;
    bool *want = sl_arena_zalloc(a, (s->nskus > 0 ? s->nskus : 1) * sizeof *want);
    if (want == NULL)
        return OOM(err);
    for (size_t i = 0; i < nskus; i++) {
        uint32_t id = id_of(s->skus, s->nskus, skus[i]);
        if (id != NONE)
            want[id] = true;
    }
    size_t m = 0;
    for (size_t i = 0; i < s->nrepeat; i++)
        m += want[s->line_sku[s->repeat[i]]];
    cv_repeat_row *o = sl_arena_alloc(a, (m > 0 ? m : 1) * sizeof *o);
    if (o == NULL)
        return OOM(err);
    size_t k = 0;
    for (size_t i = 0; i < s->nrepeat; i++) {
        uint32_t l = s->repeat[i];
        if (!want[s->line_sku[l]])
            continue;
        uint32_t ord = s->line_order[l], c = s->order_cust[ord];
        o[k++] = (cv_repeat_row){s->custs[c], s->regions[s->cust_region[c]],
                                 s->skus[s->line_sku[l]], s->order_day[ord], s->line_net[l]};
    }
    *out = o;
    *n = k;
    return SL_OK;
}
