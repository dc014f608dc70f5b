/*
 * inv_resv: commit, release, expiry and reading reservations (see
 * inv_resv.h).
 */
#include "inv_resv.h"

#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "inv_batch.h"
#include "inv_store.h"
#include "inv_tx.h"
#include "sl_log.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

static Shelfline__V1__Reservation__Status status_of(const char *s)
{
    if (strcmp(s, "HELD") == 0)
        return SHELFLINE__V1__RESERVATION__STATUS__HELD;
    if (strcmp(s, "COMMITTED") == 0)
        return SHELFLINE__V1__RESERVATION__STATUS__COMMITTED;
    if (strcmp(s, "RELEASED") == 0)
        return SHELFLINE__V1__RESERVATION__STATUS__RELEASED;
    if (strcmp(s, "EXPIRED") == 0)
        return SHELFLINE__V1__RESERVATION__STATUS__EXPIRED;
    return SHELFLINE__V1__RESERVATION__STATUS__STATUS_UNSPECIFIED;
}

/* The stored first answer, brought up to date: status, closing time and
 * the units still awaited per allocation. */
static Shelfline__V1__Reservation *build(sl_arena *a, const inv_resv_row *r,
                                         const inv_alloc_row *al, size_t nal, const char *status,
                                         int64_t closed_ms)
{
    Shelfline__V1__Reservation *x = (Shelfline__V1__Reservation *)protobuf_c_message_unpack(
        &shelfline__v1__reservation__descriptor, sl_arena_pb_allocator(a), r->result_len,
        r->result);
    if (x == NULL)
        return NULL;
    x->status = status_of(status);
    x->closed_at_ms = closed_ms;
    for (size_t i = 0; i < nal; i++) {
        if (strcmp(al[i].reservation_id, r->id) != 0)
            continue;
        if ((size_t)al[i].line_no < x->n_lines &&
            (size_t)al[i].part_no < x->lines[al[i].line_no]->n_allocations)
            x->lines[al[i].line_no]->allocations[al[i].part_no]->awaiting_qty = al[i].awaiting;
    }
    return x;
}

sl_status inv_resv_get(sl_db_conn *conn, sl_arena *a, const char *id,
                       Shelfline__V1__Reservation **out, sl_err *err)
{
    *out = NULL;
    const char *ids[1] = {id};
    inv_resv_row *r;
    size_t n, nal;
    inv_alloc_row *al;
    sl_status st = inv_store_resv_lookup(conn, a, ids, 1, &r, &n, err);
    if (st != SL_OK || n == 0)
        return st;
    st = inv_store_allocs(conn, a, ids, 1, &al, &nal, err);
    if (st != SL_OK)
        return st;
    *out = build(a, &r[0], al, nal, r[0].status, r[0].closed_ms);
    return *out != NULL ? SL_OK
                        : sl_err_set(err, SL_INTERNAL,
                                     "stored reservation \"%s\" does "
                                     "not decode",
                                     id);
}

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

static bool contains(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

typedef struct pstate {
    inv_promo_row *p;
    size_t np;
    int64_t *d_remaining, *d_held, *d_sold, *d_returned;
    inv_fence_row *f;
    size_t nf;
    int64_t *d_fence;
    inv_usage_row *u; /* per (promotion, customer) touched */
    size_t nu, capu;
} pstate;

static size_t promo_index(const pstate *ps, const char *id)
{
    for (size_t i = 0; i < ps->np; i++)
        if (strcmp(ps->p[i].id, id) == 0)
            return i;
    return (size_t)-1;
}

static sl_status add_usage(sl_arena *a, pstate *ps, const char *promo, const char *customer,
                           int64_t d, sl_err *err)
{
    for (size_t i = 0; i < ps->nu; i++)
        if (strcmp(ps->u[i].promotion_id, promo) == 0 &&
            strcmp(ps->u[i].customer_id, customer) == 0) {
            ps->u[i].qty += d;
            return SL_OK;
        }
    if (ps->nu == ps->capu) {
        size_t cap = ps->capu * 2 + 8;
        inv_usage_row *nu = sl_arena_alloc(a, cap * sizeof *nu);
        if (nu == NULL)
            return OOM(err);
        if (ps->nu > 0)
            memcpy(nu, ps->u, ps->nu * sizeof *nu);
        ps->u = nu;
        ps->capu = cap;
    }
    /* limit_qty only matters when a row is created, which a decrement never
     * does for a real reservation; 0 keeps the constraint strict. */
    ps->u[ps->nu++] = (inv_usage_row){promo, customer, d, 0};
    return SL_OK;
}

sl_status inv_resv_close(sl_db_conn *conn, sl_events *events, sl_arena *a, const char *const *ids,
                         size_t n, inv_close_kind kind, inv_close_outcome *out, sl_err *err)
{
    sl_status st;
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return SL_OK;

    /* Which SKUs to lock: allocations never change SKU, so reading them
     * before locking is safe; a reservation created meanwhile is caught
     * after the lock. */
    inv_alloc_row *al;
    size_t nal;
    st = inv_store_allocs(conn, a, ids, n, &al, &nal, err);
    if (st != SL_OK)
        return st;
    const char **skus = sl_arena_alloc(a, (nal + 1) * sizeof *skus);
    if (skus == NULL)
        return OOM(err);
    for (size_t i = 0; i < nal; i++)
        skus[i] = al[i].sku;
    size_t ns = uniq(skus, nal);
    inv_tx tx;
    inv_tx_init(&tx, conn, events, a);
    st = inv_tx_lock(&tx, skus, ns, ids, n, err);
    if (st != SL_OK)
        return st;

    inv_resv_row *rows;
    size_t nrows;
    st = inv_store_resv_lookup(conn, a, ids, n, &rows, &nrows, err);
    if (st == SL_OK)
        st = inv_store_allocs(conn, a, ids, n, &al, &nal, err);
    if (st != SL_OK)
        return st;
    const char **more = sl_arena_alloc(a, (nal + 1) * sizeof *more);
    if (more == NULL)
        return OOM(err);
    size_t nmore = 0;
    for (size_t i = 0; i < nal; i++)
        if (!contains(skus, ns, al[i].sku))
            more[nmore++] = al[i].sku;
    if (nmore > 0) {
        /* Raced with the reservation's creation: lock the rest too (a
         * deadlock here is detected and the transaction retried). */
        nmore = uniq(more, nmore);
        inv_tx t2;
        inv_tx_init(&t2, conn, events, a);
        st = inv_tx_lock(&t2, more, nmore, NULL, 0, err);
        if (st != SL_OK)
            return st;
        const char **all = sl_arena_alloc(a, (ns + nmore + 1) * sizeof *all);
        if (all == NULL)
            return OOM(err);
        memcpy(all, skus, ns * sizeof *all);
        memcpy(all + ns, more, nmore * sizeof *all);
        skus = all;
        ns = uniq(skus, ns + nmore);
    }
    st = inv_tx_load(&tx, skus, ns, err);
    if (st != SL_OK)
        return st;

    /* Promotions of the allocations. */
    pstate ps;
    memset(&ps, 0, sizeof ps);
    const char **pids = sl_arena_alloc(a, (nal + 1) * sizeof *pids);
    if (pids == NULL)
        return OOM(err);
    size_t np = 0;
    for (size_t i = 0; i < nal; i++)
        if (al[i].promotion_id[0] != '\0')
            pids[np++] = al[i].promotion_id;
    np = uniq(pids, np);
    if (np > 0) {
        if ((st = inv_store_promo_load(conn, a, pids, np, &ps.p, &ps.np, err)) != SL_OK ||
            (st = inv_store_fence_load(conn, a, pids, np, &ps.f, &ps.nf, err)) != SL_OK)
            return st;
    }
    ps.d_remaining = sl_arena_zalloc(a, (ps.np + 1) * sizeof(int64_t));
    ps.d_held = sl_arena_zalloc(a, (ps.np + 1) * sizeof(int64_t));
    ps.d_sold = sl_arena_zalloc(a, (ps.np + 1) * sizeof(int64_t));
    ps.d_returned = sl_arena_zalloc(a, (ps.np + 1) * sizeof(int64_t));
    ps.d_fence = sl_arena_zalloc(a, (ps.nf + 1) * sizeof(int64_t));
    const char **inb_ids = sl_arena_alloc(a, (nal + 1) * sizeof *inb_ids);
    int64_t *inb_d = sl_arena_zalloc(a, (nal + 1) * sizeof *inb_d);
    const char **to_close[3];
    size_t nclose[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
        to_close[k] = sl_arena_alloc(a, (n + 1) * sizeof(char *));
    if (ps.d_remaining == NULL || ps.d_held == NULL || ps.d_sold == NULL || ps.d_returned == NULL ||
        ps.d_fence == NULL || inb_ids == NULL || inb_d == NULL || to_close[0] == NULL ||
        to_close[1] == NULL || to_close[2] == NULL)
        return OOM(err);
    size_t ninb = 0;

    static const char *const status_name[3] = {"COMMITTED", "RELEASED", "EXPIRED"};
    static const char *const topic[3] = {"RESERVATION_COMMITTED", "RESERVATION_RELEASED",
                                         "RESERVATION_EXPIRED"};
    int *target = sl_arena_alloc(a, n * sizeof *target);
    if (target == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++) {
        target[i] = -1;
        const inv_resv_row *r = NULL;
        for (size_t k = 0; k < nrows; k++)
            if (strcmp(rows[k].id, ids[i]) == 0)
                r = &rows[k];
        if (r == NULL)
            continue;
        out[i].found = true;
        /* The same id twice in one call closes once. */
        bool dup = false;
        for (size_t k = 0; k < i; k++)
            dup = dup || strcmp(ids[k], ids[i]) == 0;
        if (dup || strcmp(r->status, "HELD") != 0)
            continue;
        int t;
        if (kind == INV_CLOSE_EXPIRE) {
            if (r->expires_ms > tx.now_ms)
                continue;
            t = 2;
        } else if (kind == INV_CLOSE_COMMIT && r->expires_ms <= tx.now_ms) {
            t = 2;
            out[i].expired = true;
        } else {
            t = kind == INV_CLOSE_COMMIT ? 0 : 1;
        }
        target[i] = t;
        out[i].changed = true;
        to_close[t][nclose[t]++] = r->id;

        /* Per SKU x warehouse stock units of this reservation (shipment
         * entries are one per row per reservation). */
        for (size_t k = 0; k < nal; k++) {
            const inv_alloc_row *x = &al[k];
            if (strcmp(x->reservation_id, r->id) != 0)
                continue;
            int64_t in_stock = x->qty - x->awaiting;
            inv_row *row = inv_tx_row(&tx, x->sku, x->warehouse_id, true);
            if (row == NULL)
                return OOM(err);
            size_t pi = x->promotion_id[0] != '\0' ? promo_index(&ps, x->promotion_id) : (size_t)-1;
            if (x->promotion_id[0] != '\0' && pi == (size_t)-1)
                return sl_err_set(err, SL_INTERNAL,
                                  "promotion \"%s\" of reservation \"%s\" is "
                                  "missing",
                                  x->promotion_id, r->id);
            if (t == 0) {
                row->reserved -= in_stock;
                if (pi != (size_t)-1) {
                    ps.d_held[pi] -= x->qty;
                    ps.d_sold[pi] += x->qty;
                }
                continue; /* on_hand: one ledger entry per row below */
            }
            if (pi != (size_t)-1) {
                if ((st = add_usage(a, &ps, x->promotion_id, r->customer_id, -x->qty, err)) !=
                    SL_OK)
                    return st;
                ps.d_held[pi] -= x->qty;
                if (ps.p[pi].ended) {
                    row->reserved -= in_stock;
                    ps.d_returned[pi] += x->qty;
                } else {
                    /* Back into the fence: still set aside, still reserved. */
                    ps.d_remaining[pi] += x->qty;
                    for (size_t f = 0; f < ps.nf; f++)
                        if (strcmp(ps.f[f].promotion_id, x->promotion_id) == 0 &&
                            strcmp(ps.f[f].warehouse_id, x->warehouse_id) == 0)
                            ps.d_fence[f] += x->qty;
                }
            } else {
                row->reserved -= in_stock;
            }
            if (x->awaiting > 0) {
                size_t b = 0;
                while (b < ninb && strcmp(inb_ids[b], x->inbound_id) != 0)
                    b++;
                if (b == ninb)
                    inb_ids[ninb++] = x->inbound_id;
                inb_d[b] -= x->awaiting;
            }
        }
        if (t == 0) {
            /* One SHIPMENT entry per SKU x warehouse of the reservation. */
            for (size_t k = 0; k < nal; k++) {
                const inv_alloc_row *x = &al[k];
                if (strcmp(x->reservation_id, r->id) != 0 || x->qty - x->awaiting == 0)
                    continue;
                bool seen = false;
                for (size_t m = 0; m < k; m++)
                    seen = seen || (strcmp(al[m].reservation_id, r->id) == 0 &&
                                    strcmp(al[m].sku, x->sku) == 0 &&
                                    strcmp(al[m].warehouse_id, x->warehouse_id) == 0 &&
                                    al[m].qty - al[m].awaiting > 0);
                if (seen)
                    continue;
                int64_t units = 0;
                for (size_t m = k; m < nal; m++)
                    if (strcmp(al[m].reservation_id, r->id) == 0 &&
                        strcmp(al[m].sku, x->sku) == 0 &&
                        strcmp(al[m].warehouse_id, x->warehouse_id) == 0)
                        units += al[m].qty - al[m].awaiting;
                inv_row *row = inv_tx_row(&tx, x->sku, x->warehouse_id, true);
                if (row == NULL)
                    return OOM(err);
                st = inv_tx_ledger(&tx, row, -units, "SHIPMENT", r->id, NULL, err);
                if (st != SL_OK)
                    return st;
            }
        }
    }

    /* Write: statuses, counters, stock, then events. */
    for (int t = 0; t < 3; t++) {
        if (nclose[t] == 0)
            continue;
        int64_t changed;
        st = inv_store_resv_close(conn, a, to_close[t], nclose[t], status_name[t], &changed, err);
        if (st != SL_OK)
            return st;
        if (changed != (int64_t)nclose[t])
            return sl_err_set(err, SL_INTERNAL, "closed %lld reservations instead of %zu",
                              (long long)changed, nclose[t]);
    }
    inv_promo_delta *pd = sl_arena_alloc(a, (ps.np + 1) * sizeof *pd);
    inv_fence_row *fd = sl_arena_alloc(a, (ps.nf + 1) * sizeof *fd);
    if (pd == NULL || fd == NULL)
        return OOM(err);
    size_t npd = 0, nfd = 0;
    for (size_t i = 0; i < ps.np; i++)
        if (ps.d_remaining[i] != 0 || ps.d_held[i] != 0 || ps.d_sold[i] != 0 ||
            ps.d_returned[i] != 0)
            pd[npd++] = (inv_promo_delta){ps.p[i].id,   ps.d_remaining[i], ps.d_held[i],
                                          ps.d_sold[i], ps.d_returned[i],  false};
    for (size_t i = 0; i < ps.nf; i++)
        if (ps.d_fence[i] != 0)
            fd[nfd++] =
                (inv_fence_row){ps.f[i].promotion_id, ps.f[i].warehouse_id, 0, ps.d_fence[i]};
    if ((st = inv_store_promo_apply(conn, a, pd, npd, err)) != SL_OK ||
        (st = inv_store_fence_apply(conn, a, fd, nfd, err)) != SL_OK ||
        (st = inv_store_usage_apply(conn, a, ps.u, ps.nu, err)) != SL_OK ||
        (st = inv_store_inbound_backorder(conn, a, inb_ids, inb_d, ninb, err)) != SL_OK ||
        (st = inv_tx_flush(&tx, err)) != SL_OK)
        return st;

    for (size_t i = 0; i < n; i++) {
        if (!out[i].found)
            continue;
        const inv_resv_row *r = NULL;
        for (size_t k = 0; k < nrows; k++)
            if (strcmp(rows[k].id, ids[i]) == 0)
                r = &rows[k];
        int t = target[i];
        /* An id asked twice (two calls combined into one batch) shows the
         * state the first one left, without a second event. */
        int shown = t;
        for (size_t k = 0; k < i && shown < 0; k++)
            if (strcmp(ids[k], ids[i]) == 0)
                shown = target[k];
        out[i].resv = build(a, r, al, nal, shown >= 0 ? status_name[shown] : r->status,
                            shown >= 0 ? tx.now_ms : r->closed_ms);
        if (out[i].resv == NULL)
            return sl_err_set(err, SL_INTERNAL, "stored reservation \"%s\" does not decode", r->id);
        if (t < 0)
            continue;
        Shelfline__V1__ReservationEvent *ev = sl_arena_alloc(a, sizeof *ev);
        if (ev == NULL)
            return OOM(err);
        shelfline__v1__reservation_event__init(ev);
        ev->reservation = out[i].resv;
        if ((st = inv_tx_event(&tx, topic[t], r->id, &ev->base, err)) != SL_OK)
            return st;
    }
    return inv_tx_send_events(&tx, err);
}

/* ---- combining Commit and Release ---- */

typedef struct close_job {
    inv_batch_job base;
    const char *id;
    sl_arena *arena; /* the caller's: the answer's memory */
    sl_status st;
    sl_err err;
    inv_close_outcome out;
} close_job;

/* One batcher per kind: a transaction closes reservations of one kind. */
typedef struct closer_kind {
    inv_closer *c;
    inv_close_kind kind;
    inv_batcher *batcher;
} closer_kind;

struct inv_closer {
    inv_app *app;
    closer_kind kinds[2]; /* COMMIT, RELEASE */
};

typedef struct close_batch {
    inv_app *app;
    inv_close_kind kind;
    close_job **jobs;
    size_t n;
    sl_arena *arena;
    inv_close_outcome *out;
} close_batch;

static sl_status close_batch_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    close_batch *b = p;
    /* A retried attempt starts from nothing. */
    sl_arena_reset(b->arena);
    const char **ids = sl_arena_alloc(b->arena, b->n * sizeof *ids);
    b->out = sl_arena_alloc(b->arena, b->n * sizeof *b->out);
    if (ids == NULL || b->out == NULL)
        return OOM(err);
    for (size_t i = 0; i < b->n; i++)
        ids[i] = b->jobs[i]->id;
    return inv_resv_close(conn, b->app->events, b->arena, ids, b->n, b->kind, b->out, err);
}

/* The outcome in the job's own memory (the batch's arena is reused). */
static void answer_close(close_job *j, const inv_close_outcome *o, sl_arena *scratch)
{
    j->st = SL_OK;
    j->out = *o;
    j->out.resv = NULL;
    if (o->resv == NULL)
        return;
    size_t len = protobuf_c_message_get_packed_size(&o->resv->base);
    uint8_t *buf = sl_arena_alloc(scratch, len + 1);
    if (buf != NULL) {
        protobuf_c_message_pack(&o->resv->base, buf);
        j->out.resv = (Shelfline__V1__Reservation *)protobuf_c_message_unpack(
            &shelfline__v1__reservation__descriptor, sl_arena_pb_allocator(j->arena), len, buf);
    }
    if (j->out.resv == NULL)
        j->st = sl_err_set(&j->err, SL_RESOURCE_EXHAUSTED, "out of memory");
}

static void close_late(inv_batch_job *job)
{
    close_job *j = (close_job *)job;
    j->st = sl_err_set(&j->err, SL_DEADLINE_EXCEEDED, "deadline passed while the call was queued");
}

static void close_jobs(closer_kind *k, close_job **jobs, size_t n, sl_arena *arena)
{
    int64_t deadline;
    size_t m = inv_batch_live((inv_batch_job **)jobs, n, close_late, &deadline);
    if (m == 0)
        return;
    close_batch b = {k->c->app, k->kind, jobs, m, arena, NULL};
    sl_db_tx_options o = {.deadline_ms = deadline};
    sl_err err;
    sl_err_clear(&err);
    int64_t t0 = sl_db_now_ms();
    sl_status st = sl_db_tx(k->c->app->db, &o, close_batch_tx, &b, &err);
    SL_LOG(SL_LOG_DEBUG, "close_batch", NULL, "%zu %s in one transaction: %s in %lld ms", m,
           k->kind == INV_CLOSE_COMMIT ? "commits" : "releases", sl_status_name(st),
           (long long)(sl_db_now_ms() - t0));
    if (st == SL_OK) {
        for (size_t i = 0; i < m; i++)
            answer_close(jobs[i], &b.out[i], arena);
    } else if (m > 1) {
        SL_LOG(SL_LOG_WARN, "close_batch", NULL,
               "combined transaction of %zu closes failed, running them one by one: %s", m,
               err.msg);
        for (size_t i = 0; i < m; i++)
            close_jobs(k, &jobs[i], 1, arena);
    } else {
        jobs[0]->st = st;
        jobs[0]->err = err;
    }
}

static void run_close_jobs(void *ctx, inv_batch_job **jobs, size_t n, sl_arena *arena)
{
    close_jobs(ctx, (close_job **)jobs, n, arena);
}

sl_status inv_closer_start(inv_app *app, inv_closer **out, sl_err *err)
{
    *out = NULL;
    inv_closer *c = sl_calloc(1, sizeof *c);
    if (c == NULL)
        return OOM(err);
    c->app = app;
    static const inv_close_kind kinds[2] = {INV_CLOSE_COMMIT, INV_CLOSE_RELEASE};
    for (int i = 0; i < 2; i++) {
        c->kinds[i] = (closer_kind){c, kinds[i], NULL};
        sl_status st = inv_batcher_start((size_t)app->cfg.combiners, (size_t)app->cfg.batch_max,
                                         run_close_jobs, &c->kinds[i], &c->kinds[i].batcher, err);
        if (st != SL_OK) {
            inv_closer_stop(c);
            return st;
        }
    }
    *out = c;
    return SL_OK;
}

void inv_closer_stop(inv_closer *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < 2; i++)
        inv_batcher_stop(c->kinds[i].batcher);
    free(c);
}

sl_status inv_closer_run(inv_closer *c, const char *id, inv_close_kind kind, int64_t deadline_ms,
                         sl_arena *arena, inv_close_outcome *out, sl_err *err)
{
    if (kind != INV_CLOSE_COMMIT && kind != INV_CLOSE_RELEASE)
        return sl_err_set(err, SL_INTERNAL, "only commits and releases are combined");
    close_job job;
    memset(&job, 0, sizeof job);
    job.id = id;
    job.base.deadline_ms = deadline_ms;
    job.arena = arena;
    job.base.key = inv_batch_key(id);
    if (!inv_batcher_run(c->kinds[kind == INV_CLOSE_COMMIT ? 0 : 1].batcher, &job.base))
        return sl_err_set(err, SL_UNAVAILABLE, "the service is shutting down");
    if (job.st != SL_OK) {
        if (err != NULL)
            *err = job.err;
        return job.st;
    }
    *out = job.out;
    return SL_OK;
}
