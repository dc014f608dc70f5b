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

/* One inv_resv_close call: its arguments, what it loaded and what it
 * changes. */
typedef struct closing {
    sl_db_conn *conn;
    sl_arena *a;
    inv_tx tx;
    const char *const *ids;
    size_t n;
    inv_close_kind kind;
    inv_close_outcome *out;
    inv_resv_row *rows; /* the stored reservations of ids */
    size_t nrows;
    inv_alloc_row *al; /* their allocations */
    size_t nal;
    pstate ps;
    const char **inb_ids; /* inbound shipments given units back */
    int64_t *inb_d;
    size_t ninb;
    const char **to_close[3]; /* ids per new status (T_*) */
    size_t nclose[3];
    int *target; /* each id's new status (T_*), -1 when it stays */
} closing;

/* The statuses a HELD reservation can move to, indices of the tables
 * below. */
enum { T_COMMITTED, T_RELEASED, T_EXPIRED };
static const char *const status_name[3] = {"COMMITTED", "RELEASED", "EXPIRED"};
static const char *const topic[3] = {"RESERVATION_COMMITTED", "RESERVATION_RELEASED",
                                     "RESERVATION_EXPIRED"};

static const inv_resv_row *stored(const closing *c, const char *id)
{
    const inv_resv_row *r = NULL;
    for (size_t k = 0; k < c->nrows; k++)
        if (strcmp(c->rows[k].id, id) == 0)
            r = &c->rows[k];
    return r;
}

/* Step 1: lock and load. */
static sl_status lock_and_load(closing *c, sl_events *events, sl_err *err)
{
    sl_arena *a = c->a;
    /* Which SKUs to lock: allocations never change SKU, so reading them
     * before locking is safe; a reservation created meanwhile is caught
     * after the lock. */
    sl_status st = inv_store_allocs(c->conn, a, c->ids, c->n, &c->al, &c->nal, err);
    if (st != SL_OK)
        return st;
    const char **skus = sl_arena_alloc(a, (c->nal + 1) * sizeof *skus);
    if (skus == NULL)
        return OOM(err);
    for (size_t i = 0; i < c->nal; i++)
        skus[i] = c->al[i].sku;
    size_t ns = uniq(skus, c->nal);
    inv_tx_init(&c->tx, c->conn, events, a);
    st = inv_tx_lock(&c->tx, skus, ns, c->ids, c->n, err);
    if (st != SL_OK)
        return st;

    st = inv_store_resv_lookup(c->conn, a, c->ids, c->n, &c->rows, &c->nrows, err);
    if (st == SL_OK)
        st = inv_store_allocs(c->conn, a, c->ids, c->n, &c->al, &c->nal, err);
    if (st != SL_OK)
        return st;
    const char **more = sl_arena_alloc(a, (c->nal + 1) * sizeof *more);
    if (more == NULL)
        return OOM(err);
    size_t nmore = 0;
    for (size_t i = 0; i < c->nal; i++)
        if (!contains(skus, ns, c->al[i].sku))
            more[nmore++] = c->al[i].sku;
    if (nmore > 0) {
        /* Raced with the reservation's creation: lock the rest too (a
         * deadlock here is detected and the transaction retried). */
        nmore = uniq(more, nmore);
        inv_tx t2;
        inv_tx_init(&t2, c->conn, events, a);
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
    return inv_tx_load(&c->tx, skus, ns, err);
}

/* Step 2: the promotions and fences of the allocations, and room for
 * every counter the closing may move. */
static sl_status load_promotions(closing *c, sl_err *err)
{
    sl_arena *a = c->a;
    pstate *ps = &c->ps;
    sl_status st;
    memset(ps, 0, sizeof *ps);
    const char **pids = sl_arena_alloc(a, (c->nal + 1) * sizeof *pids);
    if (pids == NULL)
        return OOM(err);
    size_t np = 0;
    for (size_t i = 0; i < c->nal; i++)
        if (c->al[i].promotion_id[0] != '\0')
            pids[np++] = c->al[i].promotion_id;
    np = uniq(pids, np);
    if (np > 0) {
        if ((st = inv_store_promo_load(c->conn, a, pids, np, &ps->p, &ps->np, err)) != SL_OK ||
            (st = inv_store_fence_load(c->conn, a, pids, np, &ps->f, &ps->nf, err)) != SL_OK)
            return st;
    }
    ps->d_remaining = sl_arena_zalloc(a, (ps->np + 1) * sizeof(int64_t));
    ps->d_held = sl_arena_zalloc(a, (ps->np + 1) * sizeof(int64_t));
    ps->d_sold = sl_arena_zalloc(a, (ps->np + 1) * sizeof(int64_t));
    ps->d_returned = sl_arena_zalloc(a, (ps->np + 1) * sizeof(int64_t));
    ps->d_fence = sl_arena_zalloc(a, (ps->nf + 1) * sizeof(int64_t));
    c->inb_ids = sl_arena_alloc(a, (c->nal + 1) * sizeof *c->inb_ids);
    c->inb_d = sl_arena_zalloc(a, (c->nal + 1) * sizeof *c->inb_d);
    for (int k = 0; k < 3; k++)
        c->to_close[k] = sl_arena_alloc(a, (c->n + 1) * sizeof(char *));
    c->target = sl_arena_alloc(a, c->n * sizeof *c->target);
    if (ps->d_remaining == NULL || ps->d_held == NULL || ps->d_sold == NULL ||
        ps->d_returned == NULL || ps->d_fence == NULL || c->inb_ids == NULL || c->inb_d == NULL ||
        c->to_close[0] == NULL || c->to_close[1] == NULL || c->to_close[2] == NULL ||
        c->target == NULL)
        return OOM(err);
    return SL_OK;
}

/* Step 3: the new status of ids[i] (stored as r), or -1 when it stays:
 * unknown, asked twice in this call (the first closes it), not HELD, or
 * an EXPIRE of a hold still within its TTL.  A COMMIT past the TTL
 * expires it. */
static int target_of(closing *c, size_t i, const inv_resv_row *r)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(c->ids[k], c->ids[i]) == 0)
            return -1;
    if (strcmp(r->status, "HELD") != 0)
        return -1;
    if (c->kind == INV_CLOSE_EXPIRE)
        return r->expires_ms > c->tx.now_ms ? -1 : T_EXPIRED;
    if (c->kind == INV_CLOSE_COMMIT && r->expires_ms <= c->tx.now_ms) {
        c->out[i].expired = true;
        return T_EXPIRED;
    }
    return c->kind == INV_CLOSE_COMMIT ? T_COMMITTED : T_RELEASED;
}

/* Step 4, a released or expired promotion allocation x (pi its
 * promotion): the customer's usage drops; units of an ended promotion are
 * returned (unreserved), those of a running one go back to its fence
 * (still set aside, still reserved). */
static sl_status give_back_promo(closing *c, const inv_resv_row *r, const inv_alloc_row *x,
                                 size_t pi, inv_row *row, sl_err *err)
{
    pstate *ps = &c->ps;
    sl_status st = add_usage(c->a, ps, x->promotion_id, r->customer_id, -x->qty, err);
    if (st != SL_OK)
        return st;
    ps->d_held[pi] -= x->qty;
    if (ps->p[pi].ended) {
        row->reserved -= x->qty - x->awaiting;
        ps->d_returned[pi] += x->qty;
        return SL_OK;
    }
    ps->d_remaining[pi] += x->qty;
    for (size_t f = 0; f < ps->nf; f++)
        if (strcmp(ps->f[f].promotion_id, x->promotion_id) == 0 &&
            strcmp(ps->f[f].warehouse_id, x->warehouse_id) == 0)
            ps->d_fence[f] += x->qty;
    return SL_OK;
}

/* Step 4: moves the units of reservation r's allocations for status t.
 * COMMIT: stock units leave reserved (on_hand drops by the SHIPMENT
 * entries of ship()), promotion units go from held to sold.  RELEASE and
 * EXPIRE: stock units are freed or go back to a promotion's fence, and
 * awaited units go back to their inbound. */
static sl_status move_units(closing *c, const inv_resv_row *r, int t, sl_err *err)
{
    for (size_t k = 0; k < c->nal; k++) {
        const inv_alloc_row *x = &c->al[k];
        if (strcmp(x->reservation_id, r->id) != 0)
            continue;
        int64_t in_stock = x->qty - x->awaiting;
        inv_row *row = inv_tx_row(&c->tx, x->sku, x->warehouse_id, true);
        if (row == NULL)
            return OOM(err);
        size_t pi = x->promotion_id[0] != '\0' ? promo_index(&c->ps, x->promotion_id) : (size_t)-1;
        if (x->promotion_id[0] != '\0' && pi == (size_t)-1)
            return sl_err_set(err, SL_INTERNAL,
                              "promotion \"%s\" of reservation \"%s\" is "
                              "missing",
                              x->promotion_id, r->id);
        if (t == T_COMMITTED) {
            row->reserved -= in_stock;
            if (pi != (size_t)-1) {
                c->ps.d_held[pi] -= x->qty;
                c->ps.d_sold[pi] += x->qty;
            }
            continue; /* on_hand: one ledger entry per row, in ship() */
        }
        if (pi != (size_t)-1) {
            sl_status st = give_back_promo(c, r, x, pi, row, err);
            if (st != SL_OK)
                return st;
        } else {
            row->reserved -= in_stock;
        }
        if (x->awaiting > 0) {
            size_t b = 0;
            while (b < c->ninb && strcmp(c->inb_ids[b], x->inbound_id) != 0)
                b++;
            if (b == c->ninb)
                c->inb_ids[c->ninb++] = x->inbound_id;
            c->inb_d[b] -= x->awaiting;
        }
    }
    return SL_OK;
}

/* Step 4, a COMMIT: one SHIPMENT ledger entry per SKU x warehouse of the
 * reservation r, for its units in stock. */
static sl_status ship(closing *c, const inv_resv_row *r, sl_err *err)
{
    const inv_alloc_row *al = c->al;
    for (size_t k = 0; k < c->nal; k++) {
        const inv_alloc_row *x = &al[k];
        if (strcmp(x->reservation_id, r->id) != 0 || x->qty - x->awaiting == 0)
            continue;
        bool seen = false;
        for (size_t m = 0; m < k; m++)
            seen = seen ||
                   (strcmp(al[m].reservation_id, r->id) == 0 && strcmp(al[m].sku, x->sku) == 0 &&
                    strcmp(al[m].warehouse_id, x->warehouse_id) == 0 &&
                    al[m].qty - al[m].awaiting > 0);
        if (seen)
            continue;
        int64_t units = 0;
        for (size_t m = k; m < c->nal; m++)
            if (strcmp(al[m].reservation_id, r->id) == 0 && strcmp(al[m].sku, x->sku) == 0 &&
                strcmp(al[m].warehouse_id, x->warehouse_id) == 0)
                units += al[m].qty - al[m].awaiting;
        inv_row *row = inv_tx_row(&c->tx, x->sku, x->warehouse_id, true);
        if (row == NULL)
            return OOM(err);
        sl_status st = inv_tx_ledger(&c->tx, row, -units, "SHIPMENT", r->id, NULL, err);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

/* Step 5: the statuses (each update guarded by status = 'HELD', so the
 * count must match), the promotion, fence, usage and inbound counters,
 * then the stock rows, ledger entries and region events (inv_tx_flush). */
static sl_status write_close(closing *c, sl_err *err)
{
    sl_arena *a = c->a;
    const pstate *ps = &c->ps;
    sl_status st;
    for (int t = 0; t < 3; t++) {
        if (c->nclose[t] == 0)
            continue;
        int64_t changed;
        st = inv_store_resv_close(c->conn, a, c->to_close[t], c->nclose[t], status_name[t],
                                  &changed, err);
        if (st != SL_OK)
            return st;
        if (changed != (int64_t)c->nclose[t])
            return sl_err_set(err, SL_INTERNAL, "closed %lld reservations instead of %zu",
                              (long long)changed, c->nclose[t]);
    }
    inv_promo_delta *pd = sl_arena_alloc(a, (ps->np + 1) * sizeof *pd);
    inv_fence_row *fd = sl_arena_alloc(a, (ps->nf + 1) * sizeof *fd);
    if (pd == NULL || fd == NULL)
        return OOM(err);
    size_t npd = 0, nfd = 0;
    for (size_t i = 0; i < ps->np; i++)
        if (ps->d_remaining[i] != 0 || ps->d_held[i] != 0 || ps->d_sold[i] != 0 ||
            ps->d_returned[i] != 0)
            pd[npd++] = (inv_promo_delta){ps->p[i].id,   ps->d_remaining[i], ps->d_held[i],
                                          ps->d_sold[i], ps->d_returned[i],  false};
    for (size_t i = 0; i < ps->nf; i++)
        if (ps->d_fence[i] != 0)
            fd[nfd++] =
                (inv_fence_row){ps->f[i].promotion_id, ps->f[i].warehouse_id, 0, ps->d_fence[i]};
    if ((st = inv_store_promo_apply(c->conn, a, pd, npd, err)) != SL_OK ||
        (st = inv_store_fence_apply(c->conn, a, fd, nfd, err)) != SL_OK ||
        (st = inv_store_usage_apply(c->conn, a, ps->u, ps->nu, err)) != SL_OK ||
        (st = inv_store_inbound_backorder(c->conn, a, c->inb_ids, c->inb_d, c->ninb, err)) != SL_OK)
        return st;
    return inv_tx_flush(&c->tx, err);
}

/* Step 6: each found id's state after the call, and one event per
 * reservation this call moved. */
static sl_status answer_and_publish(closing *c, sl_err *err)
{
    sl_arena *a = c->a;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->out[i].found)
            continue;
        const inv_resv_row *r = stored(c, c->ids[i]);
        int t = c->target[i];
        /* An id asked twice (two calls combined into one batch) shows the
         * state the first one left, without a second event. */
        int shown = t;
        for (size_t k = 0; k < i && shown < 0; k++)
            if (strcmp(c->ids[k], c->ids[i]) == 0)
                shown = c->target[k];
        c->out[i].resv = build(a, r, c->al, c->nal, shown >= 0 ? status_name[shown] : r->status,
                               shown >= 0 ? c->tx.now_ms : r->closed_ms);
        if (c->out[i].resv == NULL)
            return sl_err_set(err, SL_INTERNAL, "stored reservation \"%s\" does not decode", r->id);
        if (t < 0)
            continue;
        Shelfline__V1__ReservationEvent *ev = sl_arena_alloc(a, sizeof *ev);
        if (ev == NULL)
            return OOM(err);
        shelfline__v1__reservation_event__init(ev);
        ev->reservation = c->out[i].resv;
        sl_status st = inv_tx_event(&c->tx, topic[t], r->id, &ev->base, err);
        if (st != SL_OK)
            return st;
    }
    return inv_tx_send_events(&c->tx, err);
}

/* Closing reservations, in the caller's transaction:
 *  1. Read the allocations to learn the SKUs, lock the SKUs and the ids,
 *     read the reservations and allocations again under the locks (and
 *     lock any SKU a reservation created meanwhile added), load the stock
 *     rows.
 *  2. Load the promotions and fences the allocations name.
 *  3. Pick each id's new status (target_of): only HELD ones move, each
 *     once.
 *  4. Move each moving reservation's units in memory (move_units) and, for
 *     a COMMIT, write its SHIPMENT ledger entries (ship).
 *  5. Write the statuses, the counters and the stock (write_close).
 *  6. Build each found reservation's state and queue one event per moved
 *     reservation, then send the events (answer_and_publish).
 * Any failure returns at once: the caller's transaction rolls back. */
sl_status inv_resv_close(sl_db_conn *conn, sl_events *events, sl_arena *a, const char *const *ids,
                         const sl_audit *audits, size_t n, inv_close_kind kind,
                         inv_close_outcome *out, sl_err *err)
{
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return SL_OK;
    closing c;
    memset(&c, 0, sizeof c);
    c.conn = conn;
    c.a = a;
    c.ids = ids;
    c.n = n;
    c.kind = kind;
    c.out = out;
    sl_status st = lock_and_load(&c, events, err);
    if (st == SL_OK)
        st = load_promotions(&c, err);
    for (size_t i = 0; st == SL_OK && i < n; i++) {
        c.target[i] = -1;
        const inv_resv_row *r = stored(&c, ids[i]);
        if (r == NULL)
            continue;
        out[i].found = true;
        int t = target_of(&c, i, r);
        if (t < 0)
            continue;
        c.target[i] = t;
        out[i].changed = true;
        c.to_close[t][c.nclose[t]++] = r->id;
        if (audits != NULL)
            c.tx.audit = audits[i];
        st = move_units(&c, r, t, err);
        if (st == SL_OK && t == T_COMMITTED)
            st = ship(&c, r, err);
    }
    if (st == SL_OK)
        st = write_close(&c, err);
    if (st == SL_OK)
        st = answer_and_publish(&c, err);
    return st;
}

/* ---- combining Commit and Release ---- */

typedef struct close_job {
    inv_batch_job base;
    const char *id;
    sl_audit audit;  /* the caller's (its call outlives the job) */
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
    sl_audit *audits = sl_arena_alloc(b->arena, b->n * sizeof *audits);
    b->out = sl_arena_alloc(b->arena, b->n * sizeof *b->out);
    if (ids == NULL || audits == NULL || b->out == NULL)
        return OOM(err);
    for (size_t i = 0; i < b->n; i++) {
        ids[i] = b->jobs[i]->id;
        audits[i] = b->jobs[i]->audit;
    }
    return inv_resv_close(conn, b->app->events, b->arena, ids, audits, b->n, b->kind, b->out, err);
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

sl_status inv_closer_run(inv_closer *c, const char *id, const sl_audit *audit, inv_close_kind kind,
                         int64_t deadline_ms, sl_arena *arena, inv_close_outcome *out, sl_err *err)
{
    if (kind != INV_CLOSE_COMMIT && kind != INV_CLOSE_RELEASE)
        return sl_err_set(err, SL_INTERNAL, "only commits and releases are combined");
    close_job job;
    memset(&job, 0, sizeof job);
    job.id = id;
    job.audit = *audit;
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
