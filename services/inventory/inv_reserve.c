/*
 * inv_reserve: the Reserve combiner and its batch transaction (see
 * inv_reserve.h).
 */
#include "inv_reserve.h"

#include <stdlib.h>
#include <string.h>

#include "inv_batch.h"
#include "inv_decide.h"
#include "inv_store.h"
#include "inv_tx.h"
#include "sl_log.h"
#include "sl_metrics.h"

struct inv_combiner {
    inv_app *app;
    inv_batcher *batcher;
};

/* One attempt at a batch's transaction: the jobs, their answers, and the
 * state their decisions share (inv_decide). */
typedef struct batch {
    inv_app *app;
    inv_reserve_job **jobs;
    size_t n;
    inv_decision *js; /* the answer of each job */
    sl_arena *arena;
    inv_tx tx;
    inv_decide_state d;
} batch;

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

/* ---- the batch transaction ---- */

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static size_t uniq(const char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
            v[k++] = v[i];
    return k;
}

static sl_status load_promos(batch *b, const char **pids, size_t np, sl_err *err)
{
    sl_arena *a = b->arena;
    inv_promo_row *pr;
    size_t n;
    sl_status st = inv_store_promo_load(b->tx.conn, a, pids, np, &pr, &n, err);
    if (st != SL_OK)
        return st;
    b->d.promos = sl_arena_alloc(a, (n + 1) * sizeof *b->d.promos);
    if (b->d.promos == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        b->d.promos[i] = (inv_promo_st){pr[i], pr[i].remaining, pr[i].held};
    b->d.npromos = n;
    inv_fence_row *fr;
    st = inv_store_fence_load(b->tx.conn, a, pids, np, &fr, &n, err);
    if (st != SL_OK)
        return st;
    b->d.fences = sl_arena_alloc(a, (n + 1) * sizeof *b->d.fences);
    if (b->d.fences == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        b->d.fences[i] = (inv_fence_st){fr[i], fr[i].remaining};
    b->d.nfences = n;
    /* Usage of every (promotion, customer) pair of the batch. */
    size_t cap = 0;
    for (size_t j = 0; j < b->n; j++)
        cap += b->jobs[j]->req->n_lines;
    const char **up = sl_arena_alloc(a, (cap + 1) * sizeof *up);
    const char **uc = sl_arena_alloc(a, (cap + 1) * sizeof *uc);
    if (up == NULL || uc == NULL)
        return OOM(err);
    size_t nu = 0;
    for (size_t j = 0; j < b->n; j++) {
        if (b->js[j].st != SL_OK)
            continue;
        const Shelfline__V1__ReserveRequest *r = b->jobs[j]->req;
        for (size_t i = 0; i < r->n_lines; i++)
            if (r->lines[i]->promotion_id[0] != '\0') {
                up[nu] = r->lines[i]->promotion_id;
                uc[nu++] = r->customer_id;
            }
    }
    inv_usage_row *ur;
    st = inv_store_usage_load(b->tx.conn, a, up, uc, nu, &ur, &n, err);
    if (st != SL_OK)
        return st;
    b->d.capusage = n + 16;
    b->d.usage = sl_arena_alloc(a, b->d.capusage * sizeof *b->d.usage);
    if (b->d.usage == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        b->d.usage[i] = (inv_usage_st){ur[i].promotion_id, ur[i].customer_id, ur[i].qty, ur[i].qty,
                                       ur[i].limit_qty};
    b->d.nusage = n;
    return SL_OK;
}

/* Step 3: adds the stock fences of the (fence, customer) pairs read with
 * the locks (b->d.elig: the live fences of the batch's SKUs whose members
 * include one of its customers) to the promotions to load: *pids becomes
 * a new sorted, distinct array in the arena and *np grows. */
static sl_status add_member_fences(batch *b, const char ***pids, size_t *np, sl_err *err)
{
    sl_arena *a = b->arena;
    if (b->d.nelig == 0)
        return SL_OK;
    const char **all = sl_arena_alloc(a, (*np + b->d.nelig + 1) * sizeof *all);
    if (all == NULL)
        return OOM(err);
    memcpy(all, *pids, *np * sizeof *all);
    for (size_t i = 0; i < b->d.nelig; i++)
        all[*np + i] = b->d.elig[i].promotion_id;
    *np = uniq(all, *np + b->d.nelig);
    *pids = all;
    return SL_OK;
}

/* Writes the batch's accepted reservations and every counter they moved. */
static sl_status write_batch(batch *b, sl_err *err)
{
    sl_arena *a = b->arena;
    sl_db_conn *c = b->tx.conn;
    inv_stock_delta *d;
    size_t nd;
    sl_status st = inv_tx_deltas(&b->tx, &d, &nd, err);
    if (st != SL_OK)
        return st;
    if (b->d.nresv > 0 && (st = inv_store_reserve_write(c, a, b->d.resv, b->d.nresv, b->d.allocs,
                                                        b->d.nallocs, d, nd, err)) != SL_OK)
        return st;
    inv_fence_row *fd = sl_arena_alloc(a, (b->d.nfences + 1) * sizeof *fd);
    inv_promo_delta *pd = sl_arena_alloc(a, (b->d.npromos + 1) * sizeof *pd);
    inv_usage_row *ud = sl_arena_alloc(a, (b->d.nusage + 1) * sizeof *ud);
    const char **ids = sl_arena_alloc(a, (b->d.ninb + 1) * sizeof *ids);
    int64_t *bd = sl_arena_alloc(a, (b->d.ninb + 1) * sizeof *bd);
    if (fd == NULL || pd == NULL || ud == NULL || ids == NULL || bd == NULL)
        return OOM(err);
    size_t nf = 0, np = 0, nu = 0, nb = 0;
    for (size_t i = 0; i < b->d.nfences; i++)
        if (b->d.fences[i].row.remaining != b->d.fences[i].remaining0)
            fd[nf++] =
                (inv_fence_row){b->d.fences[i].row.promotion_id, b->d.fences[i].row.warehouse_id, 0,
                                b->d.fences[i].row.remaining - b->d.fences[i].remaining0};
    for (size_t i = 0; i < b->d.npromos; i++) {
        const inv_promo_st *p = &b->d.promos[i];
        if (p->row.remaining != p->remaining0 || p->row.held != p->held0)
            pd[np++] = (inv_promo_delta){
                p->row.id, p->row.remaining - p->remaining0, p->row.held - p->held0, 0, 0, false};
    }
    for (size_t i = 0; i < b->d.nusage; i++)
        if (b->d.usage[i].qty != b->d.usage[i].qty0)
            ud[nu++] = (inv_usage_row){b->d.usage[i].promotion_id, b->d.usage[i].customer_id,
                                       b->d.usage[i].qty - b->d.usage[i].qty0, b->d.usage[i].limit};
    for (size_t i = 0; i < b->d.ninb; i++)
        if (b->d.inb[i].row.unallocated != b->d.inb[i].unallocated0) {
            ids[nb] = b->d.inb[i].row.id;
            bd[nb++] = b->d.inb[i].unallocated0 - b->d.inb[i].row.unallocated;
        }
    if ((st = inv_store_fence_apply(c, a, fd, nf, err)) != SL_OK ||
        (st = inv_store_promo_apply(c, a, pd, np, err)) != SL_OK ||
        (st = inv_store_usage_apply(c, a, ud, nu, err)) != SL_OK ||
        (st = inv_store_inbound_backorder(c, a, ids, bd, nb, err)) != SL_OK)
        return st;
    return inv_tx_publish(&b->tx, err);
}

/* One attempt at the batch's transaction (sl_db_tx runs it again after a
 * serialization failure or a deadlock, so it starts from a reset arena):
 *  1. Collect the batch's SKUs and promotion ids (sorted, distinct) and
 *     its reservation ids.
 *  2. Lock the SKUs and ids in the global order and, in the same round
 *     trip, load the network, the products, the stock rows, the stored
 *     reservations of the ids and the (stock fence, customer) pairs of
 *     the live fences of the SKUs whose members include the batch's
 *     customers (inv_tx_lock_load).
 *  3. Add the member's stock fences found (add_member_fences); load them
 *     with the promotions,
 *     their fences and customers' usage when a job names a promotion or a
 *     member's fence was found; the open inbound shipments when a job
 *     allows backorders.
 *  4. Decide each job in queue order against that state (inv_decide): a
 *     job's failure is its own answer.
 *  5. Write the accepted reservations and every counter they moved, then
 *     the ledger entries and events (write_batch); sl_db_tx commits. */
static sl_status batch_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    batch *b = p;
    sl_arena_reset(b->arena);
    sl_arena *a = b->arena;
    b->js = sl_arena_zalloc(a, b->n * sizeof *b->js);
    inv_resv_row *resv = sl_arena_alloc(a, b->n * sizeof *resv);
    inv_accepted *acc = sl_arena_alloc(a, b->n * sizeof *acc);
    if (b->js == NULL || resv == NULL || acc == NULL)
        return OOM(err);
    b->d = (inv_decide_state){.arena = a, .tx = &b->tx, .resv = resv, .acc = acc};

    size_t nl = 0;
    bool any_promo = false, any_backorder = false;
    for (size_t j = 0; j < b->n; j++) {
        const Shelfline__V1__ReserveRequest *r = b->jobs[j]->req;
        nl += r->n_lines;
        any_backorder = any_backorder || r->allow_backorder;
        for (size_t i = 0; i < r->n_lines; i++)
            any_promo = any_promo || r->lines[i]->promotion_id[0] != '\0';
    }
    const char **skus = sl_arena_alloc(a, (nl + 1) * sizeof *skus);
    const char **pids = sl_arena_alloc(a, (nl + 1) * sizeof *pids);
    const char **ids = sl_arena_alloc(a, (b->n + 1) * sizeof *ids);
    if (skus == NULL || pids == NULL || ids == NULL)
        return OOM(err);
    size_t ns = 0, np = 0;
    for (size_t j = 0; j < b->n; j++) {
        const Shelfline__V1__ReserveRequest *r = b->jobs[j]->req;
        ids[j] = r->reservation_id;
        for (size_t i = 0; i < r->n_lines; i++) {
            skus[ns++] = r->lines[i]->sku;
            if (r->lines[i]->promotion_id[0] != '\0')
                pids[np++] = r->lines[i]->promotion_id;
        }
    }
    ns = uniq(skus, ns);
    np = uniq(pids, np);

    const char **customers = sl_arena_alloc(a, (b->n + 1) * sizeof *customers);
    if (customers == NULL)
        return OOM(err);
    for (size_t j = 0; j < b->n; j++)
        customers[j] = b->jobs[j]->req->customer_id;
    size_t nc = uniq(customers, b->n);

    inv_tx_init(&b->tx, conn, b->app->events, a);
    inv_resv_row *existing = NULL;
    inv_usage_row *elig = NULL;
    sl_status st = inv_tx_lock_load(&b->tx, skus, ns, ids, b->n, &existing, &b->d.nexisting,
                                    customers, nc, &elig, &b->d.nelig, err);
    if (st != SL_OK)
        return st;
    b->d.existing = existing;
    b->d.elig = elig;
    if ((st = add_member_fences(b, &pids, &np, err)) != SL_OK)
        return st;
    if ((any_promo || b->d.nelig > 0) && (st = load_promos(b, pids, np, err)) != SL_OK)
        return st;
    if (any_backorder) {
        inv_open_inbound *ib;
        size_t n;
        st = inv_store_open_inbound(conn, a, skus, ns, &ib, &n, err);
        if (st != SL_OK)
            return st;
        b->d.inb = sl_arena_alloc(a, (n + 1) * sizeof *b->d.inb);
        if (b->d.inb == NULL)
            return OOM(err);
        for (size_t i = 0; i < n; i++)
            b->d.inb[i] = (inv_inbound_st){ib[i], ib[i].unallocated};
        b->d.ninb = n;
    }
    for (size_t j = 0; j < b->n; j++) {
        size_t before = b->d.nresv;
        if ((st = inv_decide(&b->d, b->jobs[j]->req, b->jobs[j]->canon, b->jobs[j]->canon_len,
                             &b->js[j], err)) != SL_OK)
            return st;
        /* An accepted reservation is audited with its own caller's
         * identity, whoever else shares the batch. */
        if (b->d.nresv > before)
            b->d.resv[b->d.nresv - 1].audit = b->jobs[j]->audit;
    }
    return write_batch(b, err);
}

/* Copies an attempt's answer into the job's own arena. */
static void answer(inv_reserve_job *job, const inv_decision *s)
{
    job->st = s->st;
    job->err = s->err;
    job->replayed = s->replayed;
    job->result = NULL;
    job->shortfall = NULL;
    job->result_len = job->shortfall_len = 0;
    if (s->st == SL_OK && s->result != NULL) {
        uint8_t *p = sl_arena_alloc(job->arena, s->result_len + 1);
        if (p == NULL) {
            job->st = sl_err_set(&job->err, SL_RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        memcpy(p, s->result, s->result_len);
        job->result = p;
        job->result_len = s->result_len;
    }
    if (s->shortfall_len > 0) {
        uint8_t *p = sl_arena_alloc(job->arena, s->shortfall_len);
        if (p != NULL) {
            memcpy(p, s->shortfall, s->shortfall_len);
            job->shortfall = p;
            job->shortfall_len = s->shortfall_len;
        }
    }
}

static void reserve_late(inv_batch_job *job)
{
    inv_reserve_job *j = (inv_reserve_job *)job;
    j->st = sl_err_set(&j->err, SL_DEADLINE_EXCEEDED,
                       "deadline passed while the reservation was queued");
}

/* shelfline_inventory_reservations_total{outcome}: "held", "replay" (an
 * idempotent repeat answered from the stored result), "short" (refused for
 * stock, FAILED_PRECONDITION) or "failed" (any other status); and
 * shelfline_inventory_batch_size, the reservations of each batch
 * transaction.  Counted once the answers are final. */
static void count_batch(inv_reserve_job **jobs, size_t n, bool combined)
{
    static const double sizes[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    static const char *const l[] = {"outcome", NULL};
    sl_metric *res =
        sl_metric_counter("shelfline_inventory_reservations_total",
                          "Reserve answers by outcome (held, replay, short, failed).", l);
    if (combined)
        sl_metric_observe(
            sl_metric_with(sl_metric_histogram("shelfline_inventory_batch_size",
                                               "Reservations decided in one batch transaction.",
                                               NULL, sizes, sizeof sizes / sizeof sizes[0]),
                           NULL),
            (double)n);
    for (size_t i = 0; i < n; i++) {
        const char *o = jobs[i]->st == SL_OK ? (jobs[i]->replayed ? "replay" : "held")
                        : jobs[i]->st == SL_FAILED_PRECONDITION ? "short"
                                                                : "failed";
        sl_metric_add(sl_metric_with(res, (const char *[]){o}), 1);
    }
}

static void run_batch(inv_combiner *c, inv_reserve_job **jobs, size_t n, sl_arena *arena)
{
    int64_t deadline;
    size_t k = inv_batch_live((inv_batch_job **)jobs, n, reserve_late, &deadline);
    if (k == 0)
        return;
    batch b;
    memset(&b, 0, sizeof b);
    b.app = c->app;
    b.jobs = jobs;
    b.n = k;
    b.arena = arena;
    sl_db_tx_options o = {.deadline_ms = deadline};
    sl_err err;
    sl_err_clear(&err);
    int64_t t0 = sl_db_now_ms();
    sl_status st = sl_db_tx(c->app->db, &o, batch_tx, &b, &err);
    SL_LOG(SL_LOG_DEBUG, "reserve_batch", NULL,
           "%zu reservations in one transaction: %s in %lld ms", k, sl_status_name(st),
           (long long)(sl_db_now_ms() - t0));
    if (st == SL_OK) {
        for (size_t i = 0; i < k; i++)
            answer(jobs[i], &b.js[i]);
        count_batch(jobs, k, true);
        return;
    }
    if (k > 1) {
        SL_LOG(SL_LOG_WARN, "reserve_batch", NULL,
               "combined transaction of %zu reservations failed, running them one by one: %s", k,
               err.msg);
        for (size_t i = 0; i < k; i++)
            run_batch(c, &jobs[i], 1, arena);
        return;
    }
    jobs[0]->st = st;
    jobs[0]->err = err;
    count_batch(jobs, 1, false);
}

/* The batcher's callback: jobs are inv_reserve_jobs. */
static void run_jobs(void *ctx, inv_batch_job **jobs, size_t n, sl_arena *arena)
{
    run_batch(ctx, (inv_reserve_job **)jobs, n, arena);
}

sl_status inv_combiner_start(inv_app *app, inv_combiner **out, sl_err *err)
{
    *out = NULL;
    inv_combiner *c = sl_calloc(1, sizeof *c);
    if (c == NULL)
        return OOM(err);
    c->app = app;
    sl_status st = inv_batcher_start((size_t)app->cfg.combiners, (size_t)app->cfg.batch_max,
                                     run_jobs, c, &c->batcher, err);
    if (st != SL_OK) {
        free(c);
        return st;
    }
    *out = c;
    return SL_OK;
}

void inv_combiner_stop(inv_combiner *c)
{
    if (c == NULL)
        return;
    inv_batcher_stop(c->batcher);
    free(c);
}

void inv_reserve_run(inv_combiner *c, inv_reserve_job *job)
{
    /* The queue of the job's smallest SKU: a hot SKU's reservations meet in
     * one batch. */
    const char *first = job->req->lines[0]->sku;
    for (size_t i = 1; i < job->req->n_lines; i++)
        if (strcmp(job->req->lines[i]->sku, first) < 0)
            first = job->req->lines[i]->sku;
    job->base.key = inv_batch_key(first);
    if (!inv_batcher_run(c->batcher, &job->base))
        job->st = sl_err_set(&job->err, SL_UNAVAILABLE, "the service is shutting down");
}
