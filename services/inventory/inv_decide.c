/*
 * inv_decide: the decision on one Reserve request against a batch's
 * in-memory state (see inv_decide.h for the steps).
 */
#include "inv_decide.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inv_alloc.h"
#include "inv_valid.h"

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

/* ---- the working state and its undo log ---- */

static bool grow(sl_arena *a, void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t nc = *cap * 2 + 16;
    void *p = sl_arena_alloc(a, nc * size);
    if (p == NULL)
        return false;
    if (n > 0)
        memcpy(p, *arr, n * size);
    *arr = p;
    *cap = nc;
    return true;
}

static bool push_undo(inv_decide_state *d, inv_undo_kind k, void *p, int64_t q)
{
    if (!grow(d->arena, (void **)&d->undo, &d->capundo, d->nundo, sizeof *d->undo))
        return false;
    d->undo[d->nundo++] = (inv_undo){k, p, q};
    return true;
}

/* Undoes the counter moves logged after mark (an undo count taken earlier
 * in the same decision): the counters are then what they were there, and
 * none is ever below zero. */
static void rollback(inv_decide_state *d, size_t mark)
{
    assert(mark <= d->nundo);
    while (d->nundo > mark) {
        inv_undo *u = &d->undo[--d->nundo];
        switch (u->kind) {
        case INV_UNDO_ROW:
            ((inv_row *)u->p)->reserved -= u->q;
            assert(((inv_row *)u->p)->reserved >= 0);
            break;
        case INV_UNDO_INB:
            ((inv_inbound_st *)u->p)->row.unallocated += u->q;
            break;
        case INV_UNDO_FENCE:
            ((inv_fence_st *)u->p)->row.remaining += u->q;
            assert(((inv_fence_st *)u->p)->row.remaining <= ((inv_fence_st *)u->p)->row.fenced);
            break;
        case INV_UNDO_PROMO:
            ((inv_promo_st *)u->p)->row.remaining += u->q;
            ((inv_promo_st *)u->p)->row.held -= u->q;
            assert(((inv_promo_st *)u->p)->row.held >= 0);
            break;
        case INV_UNDO_USAGE:
            ((inv_usage_st *)u->p)->qty -= u->q;
            assert(((inv_usage_st *)u->p)->qty >= 0);
            break;
        }
    }
}

static inv_promo_st *find_promo(inv_decide_state *d, const char *id)
{
    for (size_t i = 0; i < d->npromos; i++)
        if (strcmp(d->promos[i].row.id, id) == 0)
            return &d->promos[i];
    return NULL;
}

/* The customer's usage of p, added (with nothing used) when the batch has
 * none yet.  NULL when out of memory. */
static inv_usage_st *find_usage(inv_decide_state *d, const inv_promo_st *p, const char *customer)
{
    for (size_t i = 0; i < d->nusage; i++)
        if (strcmp(d->usage[i].promotion_id, p->row.id) == 0 &&
            strcmp(d->usage[i].customer_id, customer) == 0)
            return &d->usage[i];
    if (!grow(d->arena, (void **)&d->usage, &d->capusage, d->nusage, sizeof *d->usage))
        return NULL;
    inv_usage_st *u = &d->usage[d->nusage++];
    *u = (inv_usage_st){p->row.id, customer, 0, 0, p->row.per_customer_limit};
    return u;
}

static const inv_accepted *find_accepted(const inv_decide_state *d, const char *id)
{
    for (size_t i = 0; i < d->nacc; i++)
        if (strcmp(d->acc[i].id, id) == 0)
            return &d->acc[i];
    return NULL;
}

/* ---- one job ---- */

/* The candidates of one line for inv_alloc_line, and what each stands
 * for in the working state. */
typedef struct line_alloc {
    inv_source *src;
    inv_inbound_src *isrc;
    void **src_ref; /* inv_row* or inv_fence_st* per source */
    inv_inbound_st **isrc_ref;
    size_t cap; /* of each array */
} line_alloc;

/* A job being decided. */
typedef struct job {
    inv_decide_state *d;
    const Shelfline__V1__ReserveRequest *req;
    inv_decision *out;
    bool failed; /* out says why */
    const inv_route *routes;
    size_t nr;
    inv_promo_st **lp; /* each line's promotion, or NULL */
    line_alloc la;
    Shelfline__V1__LineShortfall **sf;
    size_t nsf;
    Shelfline__V1__ReservationLine **lines;
    size_t undo_mark, alloc_mark; /* the state before the job */
} job;

/* Fails the job with st and its message; reason (NULL: none) is the
 * refusal's stable ErrorInfo reason (sl_status.h). */
static void fail(job *j, sl_status st, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(job *j, sl_status st, const char *reason, const char *fmt, ...)
{
    inv_decision *s = j->out;
    char msg[SL_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sl_err_set(&s->err, st, "%s", msg);
    if (reason != NULL)
        sl_err_set_reason(&s->err, reason);
    s->st = st;
    j->failed = true;
}

/* Undoes what the job's lines changed so far. */
static void undo_job(job *j)
{
    rollback(j->d, j->undo_mark);
    j->d->nallocs = j->alloc_mark;
}

static Shelfline__V1__Money *money(sl_arena *a, int64_t minor, const char *currency)
{
    Shelfline__V1__Money *m = sl_arena_alloc(a, sizeof *m);
    if (m != NULL) {
        shelfline__v1__money__init(m);
        m->minor_units = minor;
        m->currency = (char *)currency;
    }
    return m;
}

static bool pack(sl_arena *a, const ProtobufCMessage *m, const uint8_t **out, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = sl_arena_alloc(a, n + 1);
    if (buf == NULL)
        return false;
    protobuf_c_message_pack(m, buf);
    *out = buf;
    *len = n;
    return true;
}

/* Step 4: fails the job with a stock shortfall: a message naming each
 * short line, and the structured ReserveShortfall. */
static void fail_short(job *j)
{
    inv_decision *s = j->out;
    Shelfline__V1__LineShortfall **sf = j->sf;
    char msg[SL_ERR_MSG_MAX];
    size_t len = (size_t)snprintf(
        msg, sizeof msg, "insufficient stock for %zu of %zu lines:", j->nsf, j->req->n_lines);
    for (size_t i = 0; i < j->nsf && len < sizeof msg; i++)
        len += (size_t)snprintf(msg + len, sizeof msg - len,
                                "%s lines[%d] (sku \"%s\"): requested %" PRId64
                                ", can have %" PRId64 " (%s)",
                                i > 0 ? ";" : "", sf[i]->line, sf[i]->sku, sf[i]->requested,
                                sf[i]->available, sf[i]->reason);
    sl_err_reason(&s->err, SL_FAILED_PRECONDITION, "OUT_OF_STOCK", "%s", msg);
    /* The first short line, for clients that read only the ErrorInfo (the
     * ReserveShortfall detail lists them all). */
    sl_err_meta(&s->err, "sku", "%s", sf[0]->sku);
    sl_err_meta(&s->err, "requested", "%" PRId64, sf[0]->requested);
    sl_err_meta(&s->err, "available", "%" PRId64, sf[0]->available);
    sl_err_meta(&s->err, "short_lines", "%zu", j->nsf);
    s->st = SL_FAILED_PRECONDITION;
    j->failed = true;
    Shelfline__V1__ReserveShortfall rs = SHELFLINE__V1__RESERVE_SHORTFALL__INIT;
    rs.lines = sf;
    rs.n_lines = j->nsf;
    if (!pack(j->d->arena, &rs.base, &s->shortfall, &s->shortfall_len))
        s->shortfall_len = 0;
}

/* Step 1: answers a reservation id seen before (stored, or accepted
 * earlier in the batch, which is the newer); false when it is new. */
static bool replay(job *j, const uint8_t *canon, size_t canon_len)
{
    const inv_decide_state *d = j->d;
    const char *id = j->req->reservation_id;
    const uint8_t *prev_canon = NULL, *prev_result = NULL;
    size_t prev_canon_len = 0, prev_result_len = 0;
    for (size_t i = 0; i < d->nexisting; i++)
        if (strcmp(d->existing[i].id, id) == 0) {
            prev_canon = d->existing[i].request;
            prev_canon_len = d->existing[i].request_len;
            prev_result = d->existing[i].result;
            prev_result_len = d->existing[i].result_len;
        }
    const inv_accepted *acc = find_accepted(d, id);
    if (acc != NULL) {
        prev_canon = acc->canon;
        prev_canon_len = acc->canon_len;
        prev_result = acc->result;
        prev_result_len = acc->result_len;
    }
    if (prev_canon == NULL)
        return false;
    if (prev_canon_len != canon_len || memcmp(prev_canon, canon, canon_len) != 0) {
        fail(j, SL_ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED",
             "reservation_id \"%s\" is already used by a different request", id);
        return true;
    }
    j->out->st = SL_OK;
    j->out->result = prev_result;
    j->out->result_len = prev_result_len;
    j->out->replayed = true;
    return true;
}

/* Step 2: the checks against the loaded state, before anything changes;
 * fills j->routes and j->lp, or fails the job. */
static void check_request(job *j)
{
    inv_decide_state *d = j->d;
    const Shelfline__V1__ReserveRequest *req = j->req;
    j->routes = inv_tx_region(d->tx, req->region, &j->nr);
    if (j->nr == 0) {
        fail(j, SL_INVALID_ARGUMENT, NULL, "region \"%s\" is not served by any active warehouse",
             req->region);
        return;
    }
    for (size_t i = 0; i < req->n_lines; i++) {
        const Shelfline__V1__ReserveLine *l = req->lines[i];
        if (inv_tx_product(d->tx, l->sku) == NULL) {
            fail(j, SL_NOT_FOUND, "SKU_NOT_FOUND", "lines[%zu].sku: unknown SKU \"%s\"", i, l->sku);
            sl_err_meta(&j->out->err, "sku", "%s", l->sku);
            return;
        }
        if (l->promotion_id[0] == '\0')
            continue;
        inv_promo_st *p = find_promo(d, l->promotion_id);
        if (p == NULL || p->row.is_fence) {
            fail(j, SL_NOT_FOUND, "PROMOTION_NOT_FOUND",
                 "lines[%zu].promotion_id: unknown promotion \"%s\"", i, l->promotion_id);
            return;
        }
        if (strcmp(p->row.sku, l->sku) != 0) {
            fail(j, SL_INVALID_ARGUMENT, NULL,
                 "lines[%zu].promotion_id: promotion \"%s\" is for SKU \"%s\", not \"%s\"", i,
                 l->promotion_id, p->row.sku, l->sku);
            return;
        }
        if (d->tx->now_ms < p->row.starts_ms) {
            fail(j, SL_FAILED_PRECONDITION, "PROMOTION_NOT_STARTED",
                 "lines[%zu].promotion_id: promotion \"%s\" has not started", i, l->promotion_id);
            return;
        }
        if (p->row.ended || d->tx->now_ms >= p->row.ends_ms) {
            fail(j, SL_FAILED_PRECONDITION, "PROMOTION_ENDED",
                 "lines[%zu].promotion_id: promotion \"%s\" has ended", i, l->promotion_id);
            return;
        }
        j->lp[i] = p;
    }
}

/* The candidates of a normal line: every warehouse serving the region
 * (with its available units) and, with backorders allowed, open inbound
 * shipments of the SKU to those warehouses. */
static void normal_sources(job *j, const char *sku, size_t *ns, size_t *ni)
{
    inv_decide_state *d = j->d;
    line_alloc *la = &j->la;
    *ns = 0;
    *ni = 0;
    for (size_t k = 0; k < j->nr; k++) {
        const inv_route *rt = &j->routes[k];
        inv_row *row = inv_tx_row(d->tx, sku, rt->warehouse_id, false);
        la->src[*ns] = (inv_source){rt->warehouse_id, rt->p50, rt->p90,
                                    row != NULL ? row->on_hand - row->reserved : 0};
        la->src_ref[*ns] = row;
        (*ns)++;
    }
    if (!j->req->allow_backorder)
        return;
    for (size_t k = 0; k < d->ninb; k++) {
        inv_inbound_st *x = &d->inb[k];
        if (x->row.unallocated <= 0 || strcmp(x->row.sku, sku) != 0)
            continue;
        for (size_t r = 0; r < j->nr; r++) {
            const inv_route *rt = &j->routes[r];
            if (strcmp(rt->warehouse_id, x->row.warehouse_id) != 0)
                continue;
            la->isrc[*ni] = (inv_inbound_src){x->row.id, x->row.warehouse_id, rt->p50,
                                              rt->p90,   x->row.unallocated,  x->row.expected_ms};
            la->isrc_ref[*ni] = x;
            (*ni)++;
            break;
        }
    }
}

/* The candidates of a promotion line: the promotion's fences in
 * warehouses serving the region. */
static void fence_sources(job *j, const inv_promo_st *p, size_t *ns)
{
    inv_decide_state *d = j->d;
    *ns = 0;
    for (size_t k = 0; k < d->nfences; k++) {
        inv_fence_st *f = &d->fences[k];
        if (strcmp(f->row.promotion_id, p->row.id) != 0)
            continue;
        for (size_t r = 0; r < j->nr; r++) {
            const inv_route *rt = &j->routes[r];
            if (strcmp(rt->warehouse_id, f->row.warehouse_id) != 0)
                continue;
            j->la.src[*ns] = (inv_source){f->row.warehouse_id, rt->p50, rt->p90, f->row.remaining};
            j->la.src_ref[*ns] = f;
            (*ns)++;
            break;
        }
    }
}

/* Step 3, a promotion line's limits: the customer's limit, then the
 * promotion's remaining quota.  Sets *u to the customer's usage, or
 * fails the job (its earlier lines undone). */
static sl_status promo_limits(job *j, size_t i, inv_promo_st *p, inv_usage_st **u, sl_err *err)
{
    const Shelfline__V1__ReserveRequest *req = j->req;
    int64_t qty = req->lines[i]->qty;
    *u = find_usage(j->d, p, req->customer_id);
    if (*u == NULL)
        return OOM(err);
    sl_err *e = &j->out->err;
    if ((*u)->qty + qty > (*u)->limit) {
        undo_job(j);
        fail(j, SL_RESOURCE_EXHAUSTED, "CUSTOMER_LIMIT_REACHED",
             "lines[%zu]: customer \"%s\" may have at most %" PRId64
             " units of promotion \"%s\" (holds or bought %" PRId64 ", asked %" PRId64 ")",
             i, req->customer_id, (*u)->limit, p->row.id, (*u)->qty, qty);
        sl_err_meta(e, "promotion_id", "%s", p->row.id);
        sl_err_meta(e, "limit", "%" PRId64, (*u)->limit);
        sl_err_meta(e, "held", "%" PRId64, (*u)->qty);
        return SL_OK;
    }
    if (p->row.remaining < qty) {
        undo_job(j);
        if (p->row.remaining == 0)
            fail(j, SL_RESOURCE_EXHAUSTED, "PROMOTION_SOLD_OUT",
                 "lines[%zu]: promotion \"%s\" is sold out", i, p->row.id);
        else
            fail(j, SL_RESOURCE_EXHAUSTED, "PROMOTION_QUOTA_SHORT",
                 "lines[%zu]: promotion \"%s\" has only %" PRId64 " units left (asked %" PRId64 ")",
                 i, p->row.id, p->row.remaining, qty);
        sl_err_meta(e, "promotion_id", "%s", p->row.id);
        sl_err_meta(e, "remaining", "%" PRId64, p->row.remaining);
    }
    return SL_OK;
}

/* Step 3, a line that cannot be had: noted for the shortfall. */
static sl_status note_short(job *j, size_t i, const inv_promo_st *p, const inv_alloc_out *out,
                            sl_err *err)
{
    const Shelfline__V1__ReserveLine *l = j->req->lines[i];
    Shelfline__V1__LineShortfall *x = sl_arena_alloc(j->d->arena, sizeof *x);
    if (x == NULL)
        return OOM(err);
    shelfline__v1__line_shortfall__init(x);
    x->line = (int32_t)i;
    x->sku = l->sku;
    x->requested = l->qty;
    x->available = out->could_have;
    x->short_by = l->qty - out->could_have > 0 ? l->qty - out->could_have : 0;
    x->reason = (char *)(p != NULL ? "the promotion's units are not in warehouses "
                                     "serving the region as asked"
                                   : out->reason);
    j->sf[j->nsf++] = x;
    return SL_OK;
}

/* Step 3, one part of an allocated line: moves its units in the working
 * state (logging the undo) and describes it in the answer (x) and the
 * allocation row (ar). */
static sl_status apply_part(job *j, const inv_part *pt, inv_promo_st *p, inv_usage_st *u,
                            Shelfline__V1__Allocation *x, inv_alloc_row *ar, sl_err *err)
{
    inv_decide_state *d = j->d;
    if (pt->source < 0) {
        const inv_inbound_src *src = &j->la.isrc[pt->inbound];
        inv_inbound_st *ib = j->la.isrc_ref[pt->inbound];
        x->warehouse_id = (char *)src->warehouse_id;
        x->inbound_id = (char *)src->inbound_id;
        x->expected_at_ms = src->expected_at_ms;
        x->transit_p50_days = src->p50;
        x->transit_p90_days = src->p90;
        x->awaiting_qty = pt->qty;
        ar->warehouse_id = src->warehouse_id;
        ar->inbound_id = src->inbound_id;
        ar->awaiting = pt->qty;
        ib->row.unallocated -= pt->qty;
        return push_undo(d, INV_UNDO_INB, ib, pt->qty) ? SL_OK : OOM(err);
    }
    const inv_source *src = &j->la.src[pt->source];
    x->warehouse_id = (char *)src->warehouse_id;
    x->inbound_id = "";
    x->transit_p50_days = src->p50;
    x->transit_p90_days = src->p90;
    ar->warehouse_id = src->warehouse_id;
    if (p == NULL) {
        inv_row *row = j->la.src_ref[pt->source];
        row->reserved += pt->qty;
        return push_undo(d, INV_UNDO_ROW, row, pt->qty) ? SL_OK : OOM(err);
    }
    inv_fence_st *f = j->la.src_ref[pt->source];
    f->row.remaining -= pt->qty;
    p->row.remaining -= pt->qty;
    p->row.held += pt->qty;
    u->qty += pt->qty;
    if (!push_undo(d, INV_UNDO_FENCE, f, pt->qty) || !push_undo(d, INV_UNDO_PROMO, p, pt->qty) ||
        !push_undo(d, INV_UNDO_USAGE, u, pt->qty))
        return OOM(err);
    return SL_OK;
}

/* Step 3, an allocated line: its parts applied, its ReservationLine (unit
 * price the promotion's or the product's) and allocation rows. */
static sl_status apply_line(job *j, size_t i, inv_promo_st *p, inv_usage_st *u,
                            const inv_alloc_out *out, sl_err *err)
{
    inv_decide_state *d = j->d;
    sl_arena *a = d->arena;
    const Shelfline__V1__ReserveLine *l = j->req->lines[i];
    Shelfline__V1__ReservationLine *rl = sl_arena_alloc(a, sizeof *rl);
    Shelfline__V1__Allocation **al = sl_arena_alloc(a, out->nparts * sizeof *al);
    if (rl == NULL || al == NULL)
        return OOM(err);
    shelfline__v1__reservation_line__init(rl);
    rl->sku = l->sku;
    rl->qty = l->qty;
    rl->promotion_id = l->promotion_id;
    const inv_product_row *prod = inv_tx_product(d->tx, l->sku);
    rl->unit_price = p != NULL ? money(a, p->row.price_minor, p->row.currency)
                               : money(a, prod->price_minor, prod->currency);
    rl->allocations = al;
    rl->n_allocations = out->nparts;
    for (size_t k = 0; k < out->nparts; k++) {
        const inv_part *pt = &out->parts[k];
        Shelfline__V1__Allocation *x = sl_arena_alloc(a, sizeof *x);
        if (x == NULL || rl->unit_price == NULL)
            return OOM(err);
        shelfline__v1__allocation__init(x);
        x->qty = pt->qty;
        if (!grow(a, (void **)&d->allocs, &d->capallocs, d->nallocs, sizeof *d->allocs))
            return OOM(err);
        inv_alloc_row *ar = &d->allocs[d->nallocs++];
        memset(ar, 0, sizeof *ar);
        ar->reservation_id = j->req->reservation_id;
        ar->line_no = (int)i;
        ar->part_no = (int)k;
        ar->sku = l->sku;
        ar->qty = pt->qty;
        ar->inbound_id = "";
        ar->promotion_id = l->promotion_id;
        sl_status st = apply_part(j, pt, p, u, x, ar, err);
        if (st != SL_OK)
            return st;
        al[k] = x;
    }
    j->lines[i] = rl;
    return SL_OK;
}

/* ---- stock fences ---- */

static bool eligible(const inv_decide_state *d, const char *fence, const char *customer)
{
    for (size_t i = 0; i < d->nelig; i++)
        if (strcmp(d->elig[i].promotion_id, fence) == 0 &&
            strcmp(d->elig[i].customer_id, customer) == 0)
            return true;
    return false;
}

/* A fence part a line may take from, with its fence. */
typedef struct member_part {
    inv_fence_st *f;
    inv_promo_st *p;
    size_t route; /* index in j->routes */
} member_part;

/* Soonest ending first (its units go back to free stock first), then by
 * id: the order a warehouse's fenced units are taken in. */
static int member_part_cmp(const void *x, const void *y)
{
    const member_part *a = x, *b = y;
    if (a->p->row.ends_ms != b->p->row.ends_ms)
        return a->p->row.ends_ms < b->p->row.ends_ms ? -1 : 1;
    return strcmp(a->p->row.id, b->p->row.id);
}

/* The parts with units left of the running stock fences of sku in the
 * job's serving warehouses whose members include the job's customer (a
 * region's fence only for an order in that region). */
static size_t member_parts(job *j, const char *sku, member_part *mp)
{
    inv_decide_state *d = j->d;
    size_t n = 0;
    for (size_t k = 0; k < d->nfences; k++) {
        inv_fence_st *f = &d->fences[k];
        if (f->row.remaining <= 0)
            continue;
        inv_promo_st *p = find_promo(d, f->row.promotion_id);
        if (p == NULL || !p->row.is_fence || strcmp(p->row.sku, sku) != 0 || p->row.ended ||
            d->tx->now_ms < p->row.starts_ms || d->tx->now_ms >= p->row.ends_ms ||
            !eligible(d, p->row.id, j->req->customer_id))
            continue;
        /* A region's fence is for that region's orders; a warehouse's for
         * any region it serves. */
        if (p->row.region[0] != '\0' && strcmp(p->row.region, j->req->region) != 0)
            continue;
        for (size_t r = 0; r < j->nr; r++)
            if (strcmp(j->routes[r].warehouse_id, f->row.warehouse_id) == 0) {
                mp[n++] = (member_part){f, p, r};
                break;
            }
    }
    qsort(mp, n, sizeof *mp, member_part_cmp);
    return n;
}

/* Takes qty units of part pt (a serving warehouse's source) for line i,
 * the fenced ones of that warehouse first (mp, in order), the rest free:
 * one allocation per fence drawn on, one for the free units. */
static sl_status take_fenced_part(job *j, size_t i, const inv_part *pt, member_part *mp, size_t nmp,
                                  Shelfline__V1__Allocation **al, size_t *nal, sl_err *err)
{
    inv_decide_state *d = j->d;
    sl_arena *a = d->arena;
    const Shelfline__V1__ReserveLine *l = j->req->lines[i];
    const inv_source *src = &j->la.src[pt->source];
    int64_t left = pt->qty;
    for (size_t k = 0; k <= nmp && left > 0; k++) {
        member_part *m = k < nmp ? &mp[k] : NULL;
        if (m != NULL &&
            (strcmp(m->f->row.warehouse_id, src->warehouse_id) != 0 || m->f->row.remaining <= 0))
            continue;
        int64_t q = m == NULL ? left : (m->f->row.remaining < left ? m->f->row.remaining : left);
        Shelfline__V1__Allocation *x = sl_arena_alloc(a, sizeof *x);
        if (x == NULL ||
            !grow(a, (void **)&d->allocs, &d->capallocs, d->nallocs, sizeof *d->allocs))
            return OOM(err);
        shelfline__v1__allocation__init(x);
        x->qty = q;
        x->warehouse_id = (char *)src->warehouse_id;
        x->inbound_id = "";
        x->transit_p50_days = src->p50;
        x->transit_p90_days = src->p90;
        x->stock_fence_id = m != NULL ? (char *)m->p->row.id : "";
        inv_alloc_row *ar = &d->allocs[d->nallocs++];
        memset(ar, 0, sizeof *ar);
        ar->reservation_id = j->req->reservation_id;
        ar->line_no = (int)i;
        ar->part_no = (int)*nal;
        ar->sku = l->sku;
        ar->warehouse_id = src->warehouse_id;
        ar->qty = q;
        ar->inbound_id = "";
        ar->promotion_id = m != NULL ? m->p->row.id : "";
        al[(*nal)++] = x;
        left -= q;
        if (m == NULL) {
            inv_row *row = j->la.src_ref[pt->source];
            if (row == NULL) /* free units were counted there, so it exists */
                return sl_err_set(err, SL_INTERNAL, "no stock row of SKU \"%s\" in \"%s\"", l->sku,
                                  src->warehouse_id);
            row->reserved += q;
            if (!push_undo(d, INV_UNDO_ROW, row, q))
                return OOM(err);
            continue;
        }
        inv_usage_st *u = find_usage(d, m->p, j->req->customer_id);
        if (u == NULL)
            return OOM(err);
        m->f->row.remaining -= q;
        m->p->row.remaining -= q;
        m->p->row.held += q;
        u->qty += q;
        if (!push_undo(d, INV_UNDO_FENCE, m->f, q) || !push_undo(d, INV_UNDO_PROMO, m->p, q) ||
            !push_undo(d, INV_UNDO_USAGE, u, q))
            return OOM(err);
    }
    return SL_OK;
}

/* Step 3 for a normal line i of a member of running stock fences of its
 * SKU: *done false (nothing changed) when there are none in serving
 * warehouses.  Else the line is allocated (inv_alloc_line) first over the
 * fenced units alone, per serving warehouse, and when they cannot cover
 * it as asked, over fenced plus free units (and inbound shipments with
 * allow_backorder); each stock part then takes its warehouse's fenced
 * units first (take_fenced_part).  A line short either way is noted. */
static sl_status fence_line(job *j, size_t i, bool *done, sl_err *err)
{
    *done = false;
    inv_decide_state *d = j->d;
    sl_arena *a = d->arena;
    const Shelfline__V1__ReserveRequest *req = j->req;
    const Shelfline__V1__ReserveLine *l = req->lines[i];
    if (d->nelig == 0)
        return SL_OK;
    member_part *mp = sl_arena_alloc(a, (d->nfences + 1) * sizeof *mp);
    int64_t *fenced = sl_arena_zalloc(a, (j->nr + 1) * sizeof *fenced);
    if (mp == NULL || fenced == NULL)
        return OOM(err);
    size_t nmp = member_parts(j, l->sku, mp);
    if (nmp == 0)
        return SL_OK;
    *done = true;
    for (size_t k = 0; k < nmp; k++)
        fenced[mp[k].route] += mp[k].f->row.remaining;
    size_t ns, ni;
    normal_sources(j, l->sku, &ns, &ni);
    int64_t *free_units = sl_arena_alloc(a, (ns + 1) * sizeof *free_units);
    inv_part *parts = sl_arena_alloc(a, j->la.cap * sizeof *parts);
    if (free_units == NULL || parts == NULL)
        return OOM(err);
    /* Fenced units alone first (normal_sources gives one source per route,
     * in route order). */
    for (size_t k = 0; k < ns; k++) {
        free_units[k] = j->la.src[k].available;
        j->la.src[k].available = fenced[k];
    }
    inv_alloc_in in = {j->la.src, ns, j->la.isrc, 0, l->qty, req->allow_split, false};
    inv_alloc_out out = {.parts = parts};
    if (!inv_alloc_line(&in, &out)) {
        for (size_t k = 0; k < ns; k++)
            j->la.src[k].available = fenced[k] + free_units[k];
        in = (inv_alloc_in){j->la.src,           ns, j->la.isrc, ni, l->qty, req->allow_split,
                            req->allow_backorder};
        out = (inv_alloc_out){.parts = parts};
        if (!inv_alloc_line(&in, &out))
            return note_short(j, i, NULL, &out, err);
    }
    Shelfline__V1__ReservationLine *rl = sl_arena_alloc(a, sizeof *rl);
    Shelfline__V1__Allocation **al = sl_arena_alloc(a, (out.nparts * (nmp + 1) + 1) * sizeof *al);
    const inv_product_row *prod = inv_tx_product(d->tx, l->sku);
    if (rl == NULL || al == NULL)
        return OOM(err);
    shelfline__v1__reservation_line__init(rl);
    rl->sku = l->sku;
    rl->qty = l->qty;
    rl->promotion_id = l->promotion_id;
    rl->unit_price = money(a, prod->price_minor, prod->currency);
    if (rl->unit_price == NULL)
        return OOM(err);
    size_t nal = 0;
    for (size_t k = 0; k < out.nparts; k++) {
        const inv_part *pt = &out.parts[k];
        sl_status st;
        if (pt->source >= 0) {
            st = take_fenced_part(j, i, pt, mp, nmp, al, &nal, err);
        } else {
            Shelfline__V1__Allocation *x = sl_arena_alloc(a, sizeof *x);
            if (x == NULL ||
                !grow(a, (void **)&d->allocs, &d->capallocs, d->nallocs, sizeof *d->allocs))
                return OOM(err);
            shelfline__v1__allocation__init(x);
            x->qty = pt->qty;
            x->stock_fence_id = "";
            inv_alloc_row *ar = &d->allocs[d->nallocs++];
            memset(ar, 0, sizeof *ar);
            *ar = (inv_alloc_row){.reservation_id = req->reservation_id,
                                  .line_no = (int)i,
                                  .part_no = (int)nal,
                                  .sku = l->sku,
                                  .qty = pt->qty,
                                  .inbound_id = "",
                                  .promotion_id = ""};
            st = apply_part(j, pt, NULL, NULL, x, ar, err);
            al[nal++] = x;
        }
        if (st != SL_OK)
            return st;
    }
    rl->allocations = al;
    rl->n_allocations = nal;
    j->lines[i] = rl;
    return SL_OK;
}

/* Step 3 for line i: its limits, its candidates, the allocation, and the
 * line applied or noted short. */
static sl_status take_line(job *j, size_t i, sl_err *err)
{
    const Shelfline__V1__ReserveRequest *req = j->req;
    const Shelfline__V1__ReserveLine *l = req->lines[i];
    inv_promo_st *p = j->lp[i];
    inv_usage_st *u = NULL;
    size_t ns = 0, ni = 0;
    if (p != NULL) {
        sl_status st = promo_limits(j, i, p, &u, err);
        if (st != SL_OK || j->failed)
            return st;
        fence_sources(j, p, &ns);
    } else {
        bool done = false;
        sl_status st = fence_line(j, i, &done, err);
        if (st != SL_OK || done)
            return st;
        normal_sources(j, l->sku, &ns, &ni);
    }
    inv_part *parts = sl_arena_alloc(j->d->arena, j->la.cap * sizeof *parts);
    if (parts == NULL)
        return OOM(err);
    inv_alloc_in in = {
        j->la.src, ns, j->la.isrc, ni, l->qty, req->allow_split, req->allow_backorder && p == NULL};
    inv_alloc_out out = {.parts = parts};
    if (!inv_alloc_line(&in, &out))
        return note_short(j, i, p, &out, err);
    return apply_line(j, i, p, u, &out, err);
}

/* Step 5: the answer, the reservation's row, and a note for duplicates. */
static sl_status accept(job *j, const uint8_t *canon, size_t canon_len, sl_err *err)
{
    inv_decide_state *d = j->d;
    const Shelfline__V1__ReserveRequest *req = j->req;
    inv_decision *s = j->out;
    int64_t ttl = req->hold_ttl_ms > 0 ? req->hold_ttl_ms : INV_DEFAULT_HOLD_MS;
    Shelfline__V1__Reservation r = SHELFLINE__V1__RESERVATION__INIT;
    r.reservation_id = req->reservation_id;
    r.customer_id = req->customer_id;
    r.region = req->region;
    r.status = SHELFLINE__V1__RESERVATION__STATUS__HELD;
    r.lines = j->lines;
    r.n_lines = req->n_lines;
    r.created_at_ms = d->tx->now_ms;
    r.expires_at_ms = d->tx->now_ms + ttl;
    if (!pack(d->arena, &r.base, &s->result, &s->result_len))
        return OOM(err);
    s->st = SL_OK;
    inv_resv_row *rr = &d->resv[d->nresv++];
    memset(rr, 0, sizeof *rr);
    rr->id = req->reservation_id;
    rr->customer_id = req->customer_id;
    rr->region = req->region;
    rr->request = canon;
    rr->request_len = canon_len;
    rr->result = s->result;
    rr->result_len = s->result_len;
    rr->created_ms = r.created_at_ms;
    rr->expires_ms = r.expires_at_ms;
    d->acc[d->nacc++] =
        (inv_accepted){req->reservation_id, canon, s->result, canon_len, s->result_len};
    return SL_OK;
}

static void job_init(job *j, inv_decide_state *d, const Shelfline__V1__ReserveRequest *req,
                     inv_decision *out)
{
    memset(j, 0, sizeof *j);
    j->d = d;
    j->req = req;
    j->out = out;
}

static bool line_alloc_init(line_alloc *la, sl_arena *a, size_t cap)
{
    la->cap = cap;
    la->src = sl_arena_alloc(a, cap * sizeof *la->src);
    la->isrc = sl_arena_alloc(a, cap * sizeof *la->isrc);
    la->src_ref = sl_arena_alloc(a, cap * sizeof *la->src_ref);
    la->isrc_ref = sl_arena_alloc(a, cap * sizeof *la->isrc_ref);
    return la->src != NULL && la->isrc != NULL && la->src_ref != NULL && la->isrc_ref != NULL;
}

sl_status inv_decide(inv_decide_state *d, const Shelfline__V1__ReserveRequest *req,
                     const uint8_t *canon, size_t canon_len, inv_decision *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    job j;
    job_init(&j, d, req, out);
    if (replay(&j, canon, canon_len))
        return SL_OK;
    sl_arena *a = d->arena;
    j.lp = sl_arena_zalloc(a, req->n_lines * sizeof *j.lp);
    if (j.lp == NULL)
        return OOM(err);
    check_request(&j);
    if (j.failed)
        return SL_OK;
    j.sf = sl_arena_alloc(a, req->n_lines * sizeof *j.sf);
    j.lines = sl_arena_alloc(a, req->n_lines * sizeof *j.lines);
    if (!line_alloc_init(&j.la, a, j.nr + d->ninb + d->nfences + 1) || j.sf == NULL ||
        j.lines == NULL)
        return OOM(err);
    j.undo_mark = d->nundo;
    j.alloc_mark = d->nallocs;
    for (size_t i = 0; i < req->n_lines; i++) {
        sl_status st = take_line(&j, i, err);
        if (st != SL_OK || j.failed)
            return st;
    }
    if (j.nsf > 0) {
        undo_job(&j);
        fail_short(&j);
        return SL_OK;
    }
    return accept(&j, canon, canon_len, err);
}
