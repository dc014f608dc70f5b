/*
 * cv_api_stock: the handlers that must respect regional stock --
 * GetRepurchaseReminders, Recommend and SuggestSubstitutes.
 *
 * Both build their candidates from the stored purchases, then ask the
 * inventory service (cv_catalog) which of them are available in each
 * customer's region, and keep only those.  When inventory cannot be asked
 * the call fails with UNAVAILABLE: an unfiltered list would point
 * customers at empty shelves.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_app.h"
#include "cv_interest.h"
#include "cv_repurchase.h"
#include "cv_store.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

/* Reminders stay up this many days after the due day. */
#define REMINDER_GRACE_DAYS 7
/* Recommendation weights (see docs/CUSTOMER_VALUE.md). */
#define W_COPURCHASE 1.0
#define W_INTEREST 0.8
#define W_REGION 0.3
#define SEASONAL_BOOST 1.5
#define BESTSELLER_DAYS 90
#define CANDIDATES 50

/* ---- the purchase history in memory (cv_history) ---- */

/* The snapshot of the history conn sees, acquired: the current one when
 * its data version is the one conn reads now, else one this caller builds
 * now -- unless another caller is building (or the cache is off: h NULL),
 * when *out is NULL and the caller reads with SQL.  Either way the answer
 * is the SQL's. */
static sl_status history_for(cv_history *h, sl_db_conn *conn, cv_history_snap **out, sl_err *err)
{
    *out = NULL;
    if (h == NULL)
        return SL_OK;
    int64_t version;
    sl_status st = cv_store_data_version(conn, &version, err);
    if (st != SL_OK || (*out = cv_history_acquire(h, version)) != NULL ||
        !cv_history_begin_build(h))
        return st;
    /* Every line as text is several times the snapshot: its own arena. */
    sl_arena *rows_arena = sl_arena_create(1 << 20);
    cv_history_row *rows = NULL;
    size_t n = 0;
    cv_history_snap *s = NULL;
    st = rows_arena != NULL ? cv_store_history(conn, rows_arena, &version, &rows, &n, err)
                            : OOM(err);
    if (st == SL_OK)
        st = cv_history_build(version, rows, n, &s, err);
    sl_arena_destroy(rows_arena);
    *out = cv_history_install(h, s);
    return st;
}

/* Copies the strings of scores into a: they pointed into a snapshot. */
static sl_status own_scores(sl_arena *a, cv_sku_score *s, size_t n, sl_err *err)
{
    for (size_t i = 0; i < n; i++)
        if ((s[i].sku = sl_arena_strdup(a, s[i].sku)) == NULL ||
            (s[i].category = sl_arena_strdup(a, s[i].category)) == NULL)
            return OOM(err);
    return SL_OK;
}

/* cv_store_bestsellers, from the snapshot h when there is one. */
static sl_status bestsellers(sl_db_conn *conn, const cv_history_snap *h, sl_arena *a,
                             const char *region, const char *category, int32_t since,
                             cv_sku_score **out, size_t *n, sl_err *err)
{
    if (h == NULL)
        return cv_store_bestsellers(conn, a, region, category, since, CANDIDATES, out, n, err);
    sl_status st = cv_history_bestsellers(h, a, region, category, since, CANDIDATES, out, n, err);
    return st == SL_OK ? own_scores(a, *out, *n, err) : st;
}

/* ---- GetRepurchaseReminders ---- */

typedef struct reminder {
    const char *customer_id, *region, *sku;
    cv_repurchase_due due;
    int64_t available;
} reminder;

typedef struct lines_ctx {
    sl_arena *a;
    cv_history *hist;
    cv_history_snap *snap; /* acquired when rows point into it */
    const char *const *skus;
    size_t nskus;
    cv_repeat_row *rows;
    size_t n;
} lines_ctx;

static sl_status lines_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    lines_ctx *c = p;
    /* A retried transaction starts over. */
    cv_history_release(c->hist, c->snap);
    c->snap = NULL;
    sl_status st = history_for(c->hist, conn, &c->snap, err);
    if (st != SL_OK)
        return st;
    if (c->snap != NULL)
        return cv_history_repeat_lines(c->snap, c->a, c->skus, c->nskus, &c->rows, &c->n, err);
    return cv_store_repeat_lines(conn, c->a, c->skus, c->nskus, &c->rows, &c->n, err);
}

/* Copies the strings of items into a: they may point into a snapshot. */
static sl_status own_reminders(sl_arena *a, reminder *items, size_t n, sl_err *err)
{
    for (size_t i = 0; i < n; i++)
        if ((items[i].customer_id = sl_arena_strdup(a, items[i].customer_id)) == NULL ||
            (items[i].region = sl_arena_strdup(a, items[i].region)) == NULL ||
            (items[i].sku = sl_arena_strdup(a, items[i].sku)) == NULL)
            return OOM(err);
    return SL_OK;
}

typedef struct publish_ctx {
    sl_call *call;
    reminder *items;
    size_t n;
} publish_ctx;

static Shelfline__V1__RepurchaseReminder *reminder_msg(sl_arena *a, const reminder *r)
{
    Shelfline__V1__RepurchaseReminder *m = sl_arena_alloc(a, sizeof *m);
    if (m == NULL)
        return NULL;
    shelfline__v1__repurchase_reminder__init(m);
    m->customer_id = (char *)r->customer_id;
    m->region = (char *)r->region;
    m->sku = (char *)r->sku;
    m->last_purchase_at_ms = (int64_t)r->due.last_day * CV_DAY_MS;
    m->due_at_ms = (int64_t)r->due.due_day * CV_DAY_MS;
    m->days_per_unit = r->due.days_per_unit;
    m->available = r->available;
    return m;
}

static sl_status publish_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    publish_ctx *c = p;
    sl_arena *a = sl_call_arena(c->call);
    for (size_t i = 0; i < c->n; i++) {
        bool fresh;
        sl_status st = cv_store_reminder_mark(conn, c->items[i].customer_id, c->items[i].sku,
                                              c->items[i].due.due_day, &fresh, err);
        if (st != SL_OK)
            return st;
        if (!fresh)
            continue;
        Shelfline__V1__RepurchaseReminder *m = reminder_msg(a, &c->items[i]);
        if (m == NULL)
            return OOM(err);
        st = sl_events_publish(CV_APP(c->call)->events, conn, "REPURCHASE_DUE",
                               c->items[i].customer_id, &m->base, err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

static int reminder_cmp(const void *x, const void *y)
{
    const reminder *a = x, *b = y;
    if (a->due.due_day != b->due.due_day)
        return a->due.due_day < b->due.due_day ? -1 : 1;
    int c = strcmp(a->customer_id, b->customer_id);
    return c != 0 ? c : strcmp(a->sku, b->sku);
}

static int region_cmp(const void *x, const void *y)
{
    const reminder *a = *(reminder *const *)x, *b = *(reminder *const *)y;
    int c = strcmp(a->region, b->region);
    return c != 0 ? c : strcmp(a->sku, b->sku);
}

/* Fills available for every candidate: one batched availability question
 * per region, each distinct SKU asked once. */
static sl_status fill_availability(sl_call *call, reminder *items, size_t n, sl_err *err)
{
    sl_arena *a = sl_call_arena(call);
    reminder **by = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *by);
    const char **skus = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *skus);
    int64_t *avail = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *avail);
    if (by == NULL || skus == NULL || avail == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        by[i] = &items[i];
    qsort(by, n, sizeof *by, region_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i, ns = 0;
        while (j < n && strcmp(by[j]->region, by[i]->region) == 0) {
            if (ns == 0 || strcmp(skus[ns - 1], by[j]->sku) != 0)
                skus[ns++] = by[j]->sku;
            j++;
        }
        sl_status st = cv_catalog_availability(CV_APP(call)->catalog, call, by[i]->region, skus, ns,
                                               avail, err);
        if (st != SL_OK)
            return st;
        size_t s = 0;
        for (size_t k = i; k < j; k++) {
            while (strcmp(skus[s], by[k]->sku) != 0)
                s++;
            by[k]->available = avail[s];
        }
        i = j;
    }
    return SL_OK;
}

/* The products with a consumption cycle (inventory's catalogue), in the
 * catalogue's (strcmp) order, copied into a. */
static sl_status cycled_skus(sl_call *call, sl_arena *a, const char ***skus, int32_t **cycle,
                             size_t *ns, sl_err *err)
{
    cv_catalog *cat = CV_APP(call)->catalog;
    cv_snapshot *snap;
    sl_status st = cv_catalog_acquire(cat, call, NULL, 0, &snap, err);
    if (st != SL_OK)
        return st;
    size_t np;
    const cv_product *prods = cv_snapshot_products(snap, &np);
    *skus = sl_arena_alloc(a, (np > 0 ? np : 1) * sizeof **skus);
    *cycle = sl_arena_alloc(a, (np > 0 ? np : 1) * sizeof **cycle);
    *ns = 0;
    if (*skus == NULL || *cycle == NULL)
        st = OOM(err);
    for (size_t i = 0; i < np && st == SL_OK; i++)
        if (prods[i].repeat_days > 0) {
            (*skus)[*ns] = sl_arena_strdup(a, prods[i].sku);
            (*cycle)[*ns] = prods[i].repeat_days;
            if ((*skus)[(*ns)++] == NULL)
                st = OOM(err);
        }
    cv_catalog_release(cat, snap);
    return st;
}

/* The cycle of sku among skus (catalogue order), 0 when it has none. */
static int32_t cycle_of(const char *const *skus, const int32_t *cycle, size_t ns, const char *sku)
{
    size_t lo = 0, hi = ns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(skus[mid], sku);
        if (cmp == 0)
            return cycle[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* One reminder per customer x SKU whose next purchase falls within
 * horizon days of as_of (the purchase lines come grouped that way). */
static sl_status due_reminders(sl_arena *a, const lines_ctx *lc, const int32_t *cycle,
                               int32_t as_of, int32_t horizon, reminder **out, size_t *n,
                               sl_err *err)
{
    reminder *items = sl_arena_alloc(a, (lc->n > 0 ? lc->n : 1) * sizeof *items);
    cv_repurchase_event *ev = sl_arena_alloc(a, (lc->n > 0 ? lc->n : 1) * sizeof *ev);
    if (items == NULL || ev == NULL)
        return OOM(err);
    const cv_repeat_row *rows = lc->rows;
    size_t ni = 0;
    for (size_t i = 0; i < lc->n;) {
        size_t j = i, ne = 0;
        while (j < lc->n && strcmp(rows[j].customer_id, rows[i].customer_id) == 0 &&
               strcmp(rows[j].sku, rows[i].sku) == 0) {
            if (rows[j].day <= as_of)
                ev[ne++] = (cv_repurchase_event){rows[j].day, (double)rows[j].qty};
            j++;
        }
        int32_t cyc = cycle_of(lc->skus, cycle, lc->nskus, rows[i].sku);
        cv_repurchase_due due;
        if (ne > 0 && cyc > 0 && cv_repurchase_schedule(ev, ne, cyc, &due, NULL) == SL_OK &&
            cv_repurchase_in_window(&due, as_of, horizon, REMINDER_GRACE_DAYS))
            items[ni++] = (reminder){rows[i].customer_id, rows[i].region, rows[i].sku, due, 0};
        i = j;
    }
    *out = items;
    *n = ni;
    return SL_OK;
}

/* The answer: the reminders for SKUs available in the customer's region,
 * in reminder order, at most limit (truncated says when there were more). */
static sl_status reminders_reply(sl_arena *a, reminder *items, size_t n, size_t limit,
                                 Shelfline__V1__GetRepurchaseRemindersResponse *out, sl_err *err)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].available > 0)
            items[kept++] = items[i];
    qsort(items, kept, sizeof *items, reminder_cmp);
    if (kept > limit) {
        out->truncated = true;
        kept = limit;
    }
    out->reminders = sl_arena_alloc(a, (kept > 0 ? kept : 1) * sizeof *out->reminders);
    if (out->reminders == NULL)
        return OOM(err);
    for (size_t i = 0; i < kept; i++)
        if ((out->reminders[i] = reminder_msg(a, &items[i])) == NULL)
            return OOM(err);
    out->n_reminders = kept;
    return SL_OK;
}

sl_status cv_api_get_repurchase_reminders(sl_call *call, const ProtobufCMessage *req,
                                          ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__GetRepurchaseRemindersRequest *r =
        (const Shelfline__V1__GetRepurchaseRemindersRequest *)req;
    Shelfline__V1__GetRepurchaseRemindersResponse *out =
        (Shelfline__V1__GetRepurchaseRemindersResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    /* The request was checked by cv_valid_reminders_request. */
    size_t limit = r->limit > 0 ? (size_t)r->limit : 1000;
    int32_t as_of = cv_day(r->as_of_ms != 0 ? r->as_of_ms : sl_db_now_ms());
    const char **skus;
    int32_t *cycle;
    size_t ns;
    sl_status st = cycled_skus(call, a, &skus, &cycle, &ns, err);
    if (st != SL_OK || ns == 0)
        return st;
    lines_ctx lc = {a, CV_APP(call)->history, NULL, skus, ns, NULL, 0};
    sl_db_tx_options o = sl_service_tx_options(call, true);
    reminder *items = NULL;
    size_t ni = 0;
    if ((st = sl_db_tx(CV_APP(call)->db, &o, lines_tx, &lc, err)) == SL_OK &&
        (st = due_reminders(a, &lc, cycle, as_of, r->horizon_days, &items, &ni, err)) == SL_OK)
        st = own_reminders(a, items, ni, err);
    cv_history_release(lc.hist, lc.snap);
    if (st != SL_OK || (st = fill_availability(call, items, ni, err)) != SL_OK ||
        (st = reminders_reply(a, items, ni, limit, out, err)) != SL_OK)
        return st;
    if (r->publish && out->n_reminders > 0) {
        publish_ctx pc = {call, items, out->n_reminders};
        o = sl_service_tx_options(call, false);
        return sl_db_tx(CV_APP(call)->db, &o, publish_tx, &pc, err);
    }
    return SL_OK;
}

/* ---- Recommend ---- */

typedef struct cand {
    const char *sku, *category;
    double score;
    Shelfline__V1__RecommendationReason reason;
    bool seasonal;
    int64_t available;
} cand;

typedef struct rec_ctx {
    sl_arena *a;
    cv_history *hist;
    const char *id;
    int32_t today;
    cv_customer_row *cust;
    cv_line_row *lines;
    size_t nlines;
    cv_interest ints[3];
    size_t nints;
    cv_sku_score *co, *region, *cat[3];
    size_t nco, nregion, ncat[3];
} rec_ctx;

/* The candidates' sources for a customer with lines: co-purchases and
 * the bestsellers of their top interest categories. */
static sl_status rec_interests(sl_db_conn *conn, rec_ctx *c, const cv_history_snap *h,
                               int32_t since, sl_err *err)
{
    sl_status st;
    if (h == NULL)
        st = cv_store_copurchase(conn, c->a, c->id, CANDIDATES, &c->co, &c->nco, err);
    else if ((st = cv_history_copurchase(h, c->a, c->id, CANDIDATES, &c->co, &c->nco, err)) ==
             SL_OK)
        st = own_scores(c->a, c->co, c->nco, err);
    if (st != SL_OK)
        return st;
    cv_purchase_line *pl = sl_arena_alloc(c->a, c->nlines * sizeof *pl);
    if (pl == NULL)
        return OOM(err);
    for (size_t i = 0; i < c->nlines; i++)
        pl[i] = (cv_purchase_line){c->lines[i].category, c->lines[i].day,
                                   (double)c->lines[i].net_minor};
    if ((st = cv_interest_rank(pl, c->nlines, c->today, 180.0, c->ints, 3, &c->nints, err)) !=
        SL_OK)
        return st;
    for (size_t k = 0; k < c->nints; k++)
        if ((st = bestsellers(conn, h, c->a, NULL, c->ints[k].category, since, &c->cat[k],
                              &c->ncat[k], err)) != SL_OK)
            return st;
    return SL_OK;
}

static sl_status rec_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    rec_ctx *c = p;
    sl_status st = cv_store_customer_get(conn, c->a, c->id, false, &c->cust, err);
    if (st != SL_OK || c->cust == NULL)
        return st;
    if ((st = cv_store_customer_lines(conn, c->a, c->id, &c->lines, &c->nlines, err)) != SL_OK)
        return st;
    cv_history_snap *h = NULL;
    if ((st = history_for(c->hist, conn, &h, err)) != SL_OK)
        return st;
    int32_t since = c->today - BESTSELLER_DAYS;
    c->nints = 0;
    c->nco = 0;
    if ((st = bestsellers(conn, h, c->a, c->cust->region, NULL, since, &c->region, &c->nregion,
                          err)) == SL_OK &&
        c->nregion == 0)
        st = bestsellers(conn, h, c->a, NULL, NULL, since, &c->region, &c->nregion, err);
    if (st == SL_OK && c->nlines > 0)
        st = rec_interests(conn, c, h, since, err);
    cv_history_release(c->hist, h);
    return st;
}

/* Adds the scored SKUs, normalised to the best of the list, times w. */
static void add_cands(cand *cs, size_t *n, const cv_sku_score *s, size_t ns, double w,
                      Shelfline__V1__RecommendationReason reason, const cv_line_row *own,
                      size_t nown)
{
    double top = ns > 0 && s[0].score > 0 ? s[0].score : 1;
    for (size_t i = 0; i < ns; i++) {
        bool mine = false;
        for (size_t k = 0; k < nown && !mine; k++)
            mine = strcmp(own[k].sku, s[i].sku) == 0;
        if (mine)
            continue;
        double score = w * s[i].score / top;
        size_t k = 0;
        while (k < *n && strcmp(cs[k].sku, s[i].sku) != 0)
            k++;
        if (k == *n)
            cs[(*n)++] = (cand){s[i].sku, s[i].category, score, reason, false, 0};
        else if (score > cs[k].score) {
            cs[k].score = score;
            cs[k].reason = reason;
        }
    }
}

static int cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->sku, b->sku);
}

/* The candidates of c: co-purchases, the categories the customer is
 * interested in, the region's bestsellers; *n of them (arena memory). */
static sl_status recommend_candidates(sl_arena *a, const rec_ctx *c, cand **out, size_t *n,
                                      sl_err *err)
{
    size_t cap = c->nco + c->nregion + c->ncat[0] + c->ncat[1] + c->ncat[2] + 1;
    cand *cs = sl_arena_alloc(a, cap * sizeof *cs);
    if (cs == NULL)
        return OOM(err);
    *n = 0;
    add_cands(cs, n, c->co, c->nco, W_COPURCHASE,
              SHELFLINE__V1__RECOMMENDATION_REASON__RECOMMENDATION_REASON_CO_PURCHASE, c->lines,
              c->nlines);
    for (size_t k = 0; k < c->nints; k++)
        add_cands(cs, n, c->cat[k], c->ncat[k], W_INTEREST * c->ints[k].score,
                  SHELFLINE__V1__RECOMMENDATION_REASON__RECOMMENDATION_REASON_CATEGORY_INTEREST,
                  c->lines, c->nlines);
    add_cands(cs, n, c->region, c->nregion, c->nlines == 0 ? 1.0 : W_REGION,
              SHELFLINE__V1__RECOMMENDATION_REASON__RECOMMENDATION_REASON_REGION_BESTSELLER,
              c->lines, c->nlines);
    *out = cs;
    return SL_OK;
}

/* Keeps the candidates inventory sells (in-season ones boosted), best
 * first, with their availability in region; *n becomes how many.  The
 * answer is the best want candidates with stock, so availability is asked
 * for the best 2 * want first, and for the rest only when fewer than want
 * of those have stock: otherwise the rest could never be in the answer and
 * are dropped. */
/* Availability in region of skus[0..n), best first, into available[]:
 * twice want first (when there are more), then the rest, until want of
 * them are in stock; *asked is how many were asked. */
static sl_status ask_until_in_stock(sl_call *call, const char *region, const char *const *skus,
                                    size_t n, size_t want, int64_t *available, size_t *asked,
                                    sl_err *err)
{
    size_t done = 0, in_stock = 0;
    while (done < n && in_stock < want) {
        size_t batch = done == 0 && 2 * want < n ? 2 * want : n - done;
        sl_status st = cv_catalog_availability(CV_APP(call)->catalog, call, region, skus + done,
                                               batch, available + done, err);
        if (st != SL_OK)
            return st;
        for (size_t i = 0; i < batch; i++)
            in_stock += available[done + i] > 0;
        done += batch;
    }
    *asked = done;
    return SL_OK;
}

static sl_status recommend_in_stock(sl_call *call, sl_arena *a, const char *region, int32_t today,
                                    size_t want, cand *cs, size_t *n, sl_err *err)
{
    const char **skus = sl_arena_alloc(a, *n * sizeof *skus);
    int64_t *avail = sl_arena_alloc(a, *n * sizeof *avail);
    if (skus == NULL || avail == NULL)
        return OOM(err);
    for (size_t i = 0; i < *n; i++)
        skus[i] = cs[i].sku;
    cv_catalog *cat = CV_APP(call)->catalog;
    cv_snapshot *snap;
    sl_status st = cv_catalog_acquire(cat, call, skus, *n, &snap, err);
    if (st != SL_OK)
        return st;
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        const cv_product *p = cv_snapshot_find(snap, cs[i].sku);
        if (p == NULL)
            continue;
        if (cv_tags_in_season(p->tags, today)) {
            cs[i].score *= SEASONAL_BOOST;
            cs[i].seasonal = true;
        }
        cs[kept++] = cs[i];
    }
    cv_catalog_release(cat, snap);
    *n = kept;
    if (kept == 0)
        return SL_OK;
    qsort(cs, kept, sizeof *cs, cand_cmp);
    for (size_t i = 0; i < kept; i++)
        skus[i] = cs[i].sku;
    size_t asked;
    if ((st = ask_until_in_stock(call, region, skus, kept, want, avail, &asked, err)) != SL_OK)
        return st;
    for (size_t i = 0; i < asked; i++)
        cs[i].available = avail[i];
    *n = asked;
    return SL_OK;
}

/* The answer: the best want candidates with stock. */
static sl_status recommend_reply(sl_arena *a, cand *cs, size_t n, size_t want,
                                 Shelfline__V1__RecommendResponse *out, sl_err *err)
{
    qsort(cs, n, sizeof *cs, cand_cmp);
    out->items = sl_arena_alloc(a, want * sizeof *out->items);
    if (out->items == NULL)
        return OOM(err);
    size_t k = 0;
    for (size_t i = 0; i < n && k < want; i++) {
        if (cs[i].available <= 0)
            continue;
        Shelfline__V1__Recommendation *m = sl_arena_alloc(a, sizeof *m);
        if (m == NULL)
            return OOM(err);
        shelfline__v1__recommendation__init(m);
        m->sku = (char *)cs[i].sku;
        m->category = (char *)cs[i].category;
        m->score = cs[i].score;
        m->reason = cs[i].reason;
        m->seasonal = cs[i].seasonal;
        m->available = cs[i].available;
        out->items[k++] = m;
    }
    out->n_items = k;
    return SL_OK;
}

sl_status cv_api_recommend(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err)
{
    const Shelfline__V1__RecommendRequest *r = (const Shelfline__V1__RecommendRequest *)req;
    Shelfline__V1__RecommendResponse *out = (Shelfline__V1__RecommendResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    /* The request was checked by cv_valid_recommend_request. */
    size_t want = r->n > 0 ? (size_t)r->n : 10;
    rec_ctx c = {.a = a,
                 .hist = CV_APP(call)->history,
                 .id = r->customer_id,
                 .today = cv_day(sl_db_now_ms())};
    sl_db_tx_options o = sl_service_tx_options(call, true);
    sl_status st = sl_db_tx(CV_APP(call)->db, &o, rec_tx, &c, err);
    if (st != SL_OK)
        return st;
    if (c.cust == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "CUSTOMER_NOT_FOUND",
                             "customer_id: unknown customer \"%s\"", r->customer_id);
    out->customer_id = r->customer_id;
    out->region = (char *)c.cust->region;
    cand *cs = NULL;
    size_t n = 0;
    if ((st = recommend_candidates(a, &c, &cs, &n, err)) != SL_OK || n == 0)
        return st;
    if ((st = recommend_in_stock(call, a, c.cust->region, c.today, want, cs, &n, err)) != SL_OK ||
        n == 0)
        return st;
    return recommend_reply(a, cs, n, want, out, err);
}

/* ---- SuggestSubstitutes ---- */

#define SUBSTITUTES_DEFAULT 5
#define SAME_BRAND_BOOST 1.5
#define CUSTOMER_BRAND_BOOST 1.25

typedef struct sub_cand {
    const cv_product *p; /* in the catalogue snapshot */
    double score, pct;
    bool same_brand, customer_brand;
    int64_t available;
} sub_cand;

typedef struct subs_ctx {
    sl_arena *a;
    const char *id;
    cv_customer_row *cust;
    cv_line_row *lines;
    size_t nlines;
} subs_ctx;

static sl_status subs_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    subs_ctx *c = p;
    sl_status st = cv_store_customer_get(conn, c->a, c->id, false, &c->cust, err);
    if (st != SL_OK || c->cust == NULL)
        return st;
    return cv_store_customer_lines(conn, c->a, c->id, &c->lines, &c->nlines, err);
}

/* 1 at the same price, 1/e at 1.5 times (or two thirds of) it: the ratio
 * counts, whichever way. */
static double price_closeness(int64_t orig, int64_t cand)
{
    if (orig <= 0 || cand <= 0)
        return orig == cand ? 1.0 : 0.5;
    return exp(-fabs(log((double)cand / (double)orig)) / log(1.5));
}

static int sub_cmp(const void *x, const void *y)
{
    const sub_cand *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return strcmp(a->p->sku, b->p->sku);
}

static bool has_string(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

/* The brands of the products the customer bought (those the catalogue
 * knows), distinct; strings point into snap. */
static sl_status customer_brands(sl_arena *a, const cv_snapshot *snap, const subs_ctx *c,
                                 const char ***out, size_t *n, sl_err *err)
{
    const char **b = sl_arena_alloc(a, (c->nlines > 0 ? c->nlines : 1) * sizeof *b);
    if (b == NULL)
        return OOM(err);
    size_t k = 0;
    for (size_t i = 0; i < c->nlines; i++) {
        const cv_product *p = cv_snapshot_find(snap, c->lines[i].sku);
        if (p != NULL && p->brand[0] != '\0' && !has_string(b, k, p->brand))
            b[k++] = p->brand;
    }
    *out = b;
    *n = k;
    return SL_OK;
}

/* Every product of orig's category and currency but orig, scored. */
static sl_status substitute_candidates(sl_arena *a, const cv_snapshot *snap, const cv_product *orig,
                                       const char *const *brands, size_t nb, sub_cand **out,
                                       size_t *n, sl_err *err)
{
    size_t np;
    const cv_product *all = cv_snapshot_products(snap, &np);
    sub_cand *cs = sl_arena_alloc(a, (np > 0 ? np : 1) * sizeof *cs);
    if (cs == NULL)
        return OOM(err);
    size_t k = 0;
    for (size_t i = 0; i < np; i++) {
        const cv_product *p = &all[i];
        if (strcmp(p->category, orig->category) != 0 || strcmp(p->sku, orig->sku) == 0 ||
            strcmp(p->currency, orig->currency) != 0)
            continue;
        sub_cand *c = &cs[k++];
        *c = (sub_cand){.p = p};
        c->score = price_closeness(orig->price_minor, p->price_minor);
        c->pct = orig->price_minor > 0 ? 100.0 * (double)(p->price_minor - orig->price_minor) /
                                             (double)orig->price_minor
                                       : 0.0;
        c->same_brand = p->brand[0] != '\0' && strcmp(p->brand, orig->brand) == 0;
        c->customer_brand = p->brand[0] != '\0' && has_string(brands, nb, p->brand);
        if (c->same_brand)
            c->score *= SAME_BRAND_BOOST;
        if (c->customer_brand)
            c->score *= CUSTOMER_BRAND_BOOST;
    }
    qsort(cs, k, sizeof *cs, sub_cmp);
    *out = cs;
    *n = k;
    return SL_OK;
}

/* Availability of the best candidates in region, asked in batches until
 * want of them are in stock (or none is left); *n becomes how many were
 * asked. */
static sl_status substitutes_in_stock(sl_call *call, sl_arena *a, const char *region, size_t want,
                                      sub_cand *cs, size_t *n, sl_err *err)
{
    const char **skus = sl_arena_alloc(a, (*n > 0 ? *n : 1) * sizeof *skus);
    int64_t *avail = sl_arena_alloc(a, (*n > 0 ? *n : 1) * sizeof *avail);
    if (skus == NULL || avail == NULL)
        return OOM(err);
    for (size_t i = 0; i < *n; i++)
        skus[i] = cs[i].p->sku;
    size_t asked;
    sl_status st = ask_until_in_stock(call, region, skus, *n, want, avail, &asked, err);
    if (st != SL_OK)
        return st;
    for (size_t i = 0; i < asked; i++)
        cs[i].available = avail[i];
    *n = asked;
    return SL_OK;
}

static const char *substitute_reason(sl_arena *a, const sub_cand *c)
{
    char price[48];
    long pct = lround(c->pct);
    if (pct == 0)
        snprintf(price, sizeof price, "same price");
    else
        snprintf(price, sizeof price, "%ld%% %s", labs(pct), pct > 0 ? "dearer" : "cheaper");
    char buf[128];
    snprintf(buf, sizeof buf, "%s%s%s", c->same_brand ? "same brand, " : "",
             c->customer_brand && !c->same_brand ? "a brand they bought, " : "", price);
    return sl_arena_strdup(a, buf);
}

static sl_status substitutes_reply(sl_arena *a, const sub_cand *cs, size_t n, size_t want,
                                   Shelfline__V1__SuggestSubstitutesResponse *out, sl_err *err)
{
    out->items = sl_arena_alloc(a, want * sizeof *out->items);
    if (out->items == NULL)
        return OOM(err);
    size_t k = 0;
    for (size_t i = 0; i < n && k < want; i++) {
        const sub_cand *c = &cs[i];
        if (c->available <= 0)
            continue;
        Shelfline__V1__Substitute *m = sl_arena_alloc(a, sizeof *m);
        Shelfline__V1__Money *price = sl_arena_alloc(a, sizeof *price);
        if (m == NULL || price == NULL)
            return OOM(err);
        shelfline__v1__substitute__init(m);
        shelfline__v1__money__init(price);
        /* Copies: the strings live in the catalogue snapshot, released
         * before the answer is sent. */
        m->sku = sl_arena_strdup(a, c->p->sku);
        m->name = sl_arena_strdup(a, c->p->name);
        m->category = sl_arena_strdup(a, c->p->category);
        m->brand = sl_arena_strdup(a, c->p->brand);
        price->currency = sl_arena_strdup(a, c->p->currency);
        price->minor_units = c->p->price_minor;
        m->price = price;
        m->price_difference_pct = c->pct;
        m->available = c->available;
        m->same_brand = c->same_brand;
        m->customer_brand = c->customer_brand;
        m->score = c->score;
        m->reason = (char *)substitute_reason(a, c);
        if (m->sku == NULL || m->name == NULL || m->category == NULL || m->brand == NULL ||
            price->currency == NULL || m->reason == NULL)
            return OOM(err);
        out->items[k++] = m;
    }
    out->n_items = k;
    return SL_OK;
}

sl_status cv_api_suggest_substitutes(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__SuggestSubstitutesRequest *r =
        (const Shelfline__V1__SuggestSubstitutesRequest *)req;
    Shelfline__V1__SuggestSubstitutesResponse *out =
        (Shelfline__V1__SuggestSubstitutesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    /* The request was checked by cv_valid_substitutes_request. */
    size_t want = r->limit > 0 ? (size_t)r->limit : SUBSTITUTES_DEFAULT;
    subs_ctx c = {.a = a, .id = r->customer_id};
    sl_status st;
    if (r->customer_id[0] != '\0') {
        sl_db_tx_options o = sl_service_tx_options(call, true);
        if ((st = sl_db_tx(CV_APP(call)->db, &o, subs_tx, &c, err)) != SL_OK)
            return st;
        if (c.cust == NULL)
            return sl_err_reason(err, SL_NOT_FOUND, "CUSTOMER_NOT_FOUND",
                                 "customer_id: unknown customer \"%s\"", r->customer_id);
    }
    cv_catalog *cat = CV_APP(call)->catalog;
    cv_snapshot *snap;
    const char *need[1] = {r->sku};
    if ((st = cv_catalog_acquire(cat, call, need, 1, &snap, err)) != SL_OK)
        return st;
    const cv_product *orig = cv_snapshot_find(snap, r->sku);
    const char **brands = NULL;
    size_t nb = 0, n = 0;
    sub_cand *cs = NULL;
    if (orig == NULL)
        st = sl_err_reason(err, SL_NOT_FOUND, "SKU_NOT_FOUND", "sku: unknown SKU \"%s\"", r->sku);
    if (st == SL_OK)
        st = customer_brands(a, snap, &c, &brands, &nb, err);
    if (st == SL_OK)
        st = substitute_candidates(a, snap, orig, brands, nb, &cs, &n, err);
    if (st == SL_OK)
        st = substitutes_in_stock(call, a, r->region, want, cs, &n, err);
    if (st == SL_OK)
        st = substitutes_reply(a, cs, n, want, out, err);
    cv_catalog_release(cat, snap);
    if (st != SL_OK)
        return st;
    out->sku = r->sku;
    out->region = r->region;
    return SL_OK;
}
