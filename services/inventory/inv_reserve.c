/*
 * inv_reserve: the Reserve combiner and its batch transaction (see
 * inv_reserve.h).
 */
#include "inv_reserve.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"
#include "inv_alloc.h"
#include "inv_batch.h"
#include "inv_store.h"
#include "inv_tx.h"
#include "inv_valid.h"
#include "sl_log.h"

struct inv_combiner {
    inv_app *app;
    inv_batcher *batcher;
};

/* ---- per-attempt state of a batch ---- */

typedef struct jstate {
    sl_status st;
    sl_err err;
    const uint8_t *result;
    size_t result_len;
    bool replayed;
    const uint8_t *shortfall;
    size_t shortfall_len;
} jstate;

typedef struct promo_st {
    inv_promo_row row; /* remaining and held are current */
    int64_t remaining0, held0;
} promo_st;

typedef struct fence_st {
    inv_fence_row row; /* remaining is current */
    int64_t remaining0;
} fence_st;

typedef struct usage_st {
    const char *promotion_id, *customer_id;
    int64_t qty, qty0, limit;
} usage_st;

typedef struct inb_st {
    inv_open_inbound row; /* unallocated is current */
    int64_t unallocated0;
} inb_st;

typedef enum undo_kind { U_ROW, U_INB, U_FENCE, U_PROMO, U_USAGE } undo_kind;
typedef struct undo {
    undo_kind kind;
    void *p;
    int64_t q;
} undo;

/* An id accepted earlier in this batch (a duplicate job answers from it). */
typedef struct accepted {
    const char *id;
    const uint8_t *canon, *result;
    size_t canon_len, result_len;
} accepted;

typedef struct batch {
    inv_app *app;
    inv_reserve_job **jobs;
    size_t n;
    jstate *js;
    sl_arena *arena;
    /* loaded / working state */
    inv_tx tx;
    inv_resv_row *existing;
    size_t nexisting;
    promo_st *promos;
    size_t npromos;
    fence_st *fences;
    size_t nfences;
    usage_st *usage;
    size_t nusage, capusage;
    inb_st *inb;
    size_t ninb;
    accepted *acc;
    size_t nacc;
    /* writes */
    inv_resv_row *resv;
    size_t nresv;
    inv_alloc_row *allocs;
    size_t nallocs, capallocs;
    undo *undo;
    size_t nundo, capundo;
} batch;

#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

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

static bool push_undo(batch *b, undo_kind k, void *p, int64_t q)
{
    if (!grow(b->arena, (void **)&b->undo, &b->capundo, b->nundo, sizeof *b->undo))
        return false;
    b->undo[b->nundo++] = (undo){k, p, q};
    return true;
}

/* Undoes the batch's counter moves back to mark, an undo count taken
 * earlier in the same decide(): the counters are then what they were
 * there, never below zero. */
static void rollback(batch *b, size_t mark)
{
    assert(mark <= b->nundo);
    while (b->nundo > mark) {
        undo *u = &b->undo[--b->nundo];
        switch (u->kind) {
        case U_ROW:
            ((inv_row *)u->p)->reserved -= u->q;
            assert(((inv_row *)u->p)->reserved >= 0);
            break;
        case U_INB:
            ((inb_st *)u->p)->row.unallocated += u->q;
            break;
        case U_FENCE:
            ((fence_st *)u->p)->row.remaining += u->q;
            break;
        case U_PROMO:
            ((promo_st *)u->p)->row.remaining += u->q;
            ((promo_st *)u->p)->row.held -= u->q;
            assert(((promo_st *)u->p)->row.held >= 0);
            break;
        case U_USAGE:
            ((usage_st *)u->p)->qty -= u->q;
            assert(((usage_st *)u->p)->qty >= 0);
            break;
        }
    }
}

static promo_st *find_promo(batch *b, const char *id)
{
    for (size_t i = 0; i < b->npromos; i++)
        if (strcmp(b->promos[i].row.id, id) == 0)
            return &b->promos[i];
    return NULL;
}

static usage_st *find_usage(batch *b, const promo_st *p, const char *customer)
{
    for (size_t i = 0; i < b->nusage; i++)
        if (strcmp(b->usage[i].promotion_id, p->row.id) == 0 &&
            strcmp(b->usage[i].customer_id, customer) == 0)
            return &b->usage[i];
    if (!grow(b->arena, (void **)&b->usage, &b->capusage, b->nusage, sizeof *b->usage))
        return NULL;
    usage_st *u = &b->usage[b->nusage++];
    *u = (usage_st){p->row.id, customer, 0, 0, p->row.per_customer_limit};
    return u;
}

/* ---- deciding one job ---- */

typedef struct line_alloc {
    inv_part *parts;
    size_t nparts;
    inv_source *src;
    inv_inbound_src *isrc;
    void **src_ref; /* inv_row* or fence_st* per source */
    inb_st **isrc_ref;
} line_alloc;

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

/* Fails job j with a stock shortfall: message naming each short line, and
 * the structured ReserveShortfall. */
static void fail_short(batch *b, size_t j, Shelfline__V1__LineShortfall **sf, size_t nsf)
{
    jstate *s = &b->js[j];
    char msg[SL_ERR_MSG_MAX];
    size_t len = (size_t)snprintf(msg, sizeof msg, "insufficient stock for %zu of %zu lines:", nsf,
                                  b->jobs[j]->req->n_lines);
    for (size_t i = 0; i < nsf && len < sizeof msg; i++)
        len += (size_t)snprintf(msg + len, sizeof msg - len,
                                "%s lines[%d] (sku \"%s\"): requested %" PRId64
                                ", can have %" PRId64 " (%s)",
                                i > 0 ? ";" : "", sf[i]->line, sf[i]->sku, sf[i]->requested,
                                sf[i]->available, sf[i]->reason);
    sl_err_set(&s->err, SL_FAILED_PRECONDITION, "%s", msg);
    s->st = SL_FAILED_PRECONDITION;
    Shelfline__V1__ReserveShortfall rs = SHELFLINE__V1__RESERVE_SHORTFALL__INIT;
    rs.lines = sf;
    rs.n_lines = nsf;
    if (!pack(b->arena, &rs.base, &s->shortfall, &s->shortfall_len))
        s->shortfall_len = 0;
}

static sl_status fail(batch *b, size_t j, sl_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sl_status fail(batch *b, size_t j, sl_status st, const char *fmt, ...)
{
    jstate *s = &b->js[j];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err.msg, sizeof s->err.msg, fmt, ap);
    va_end(ap);
    s->err.status = st;
    s->st = st;
    return st;
}

/* Builds the candidate sources of a normal line: every warehouse serving
 * the region (with its available units) and, with backorders allowed,
 * open inbound shipments of the SKU to those warehouses. */
static bool normal_sources(batch *b, const char *sku, const inv_route *routes, size_t nr,
                           bool backorder, line_alloc *la, size_t *ns, size_t *ni)
{
    *ns = 0;
    *ni = 0;
    for (size_t k = 0; k < nr; k++) {
        inv_row *row = inv_tx_row(&b->tx, sku, routes[k].warehouse_id, false);
        la->src[*ns] = (inv_source){routes[k].warehouse_id, routes[k].p50, routes[k].p90,
                                    row != NULL ? row->on_hand - row->reserved : 0};
        la->src_ref[*ns] = row;
        (*ns)++;
    }
    if (!backorder)
        return true;
    for (size_t k = 0; k < b->ninb; k++) {
        inb_st *x = &b->inb[k];
        if (x->row.unallocated <= 0 || strcmp(x->row.sku, sku) != 0)
            continue;
        for (size_t r = 0; r < nr; r++) {
            if (strcmp(routes[r].warehouse_id, x->row.warehouse_id) != 0)
                continue;
            la->isrc[*ni] =
                (inv_inbound_src){x->row.id,     x->row.warehouse_id, routes[r].p50,
                                  routes[r].p90, x->row.unallocated,  x->row.expected_ms};
            la->isrc_ref[*ni] = x;
            (*ni)++;
            break;
        }
    }
    return true;
}

static bool fence_sources(batch *b, const promo_st *p, const inv_route *routes, size_t nr,
                          line_alloc *la, size_t *ns)
{
    *ns = 0;
    for (size_t k = 0; k < b->nfences; k++) {
        fence_st *f = &b->fences[k];
        if (strcmp(f->row.promotion_id, p->row.id) != 0)
            continue;
        for (size_t r = 0; r < nr; r++) {
            if (strcmp(routes[r].warehouse_id, f->row.warehouse_id) != 0)
                continue;
            la->src[*ns] =
                (inv_source){f->row.warehouse_id, routes[r].p50, routes[r].p90, f->row.remaining};
            la->src_ref[*ns] = f;
            (*ns)++;
            break;
        }
    }
    return true;
}

static const accepted *find_accepted(const batch *b, const char *id)
{
    for (size_t i = 0; i < b->nacc; i++)
        if (strcmp(b->acc[i].id, id) == 0)
            return &b->acc[i];
    return NULL;
}

/* Decides job j.  Returns OK even when the job fails (its state says so);
 * a non-OK return is a failure of the whole batch (out of memory). */
static sl_status decide(batch *b, size_t j, sl_err *err)
{
    const inv_reserve_job *job = b->jobs[j];
    const Shelfline__V1__ReserveRequest *req = job->req;
    jstate *s = &b->js[j];
    sl_arena *a = b->arena;

    /* Idempotency: an id seen before answers with its first result. */
    const uint8_t *prev_canon = NULL, *prev_result = NULL;
    size_t prev_canon_len = 0, prev_result_len = 0;
    for (size_t i = 0; i < b->nexisting; i++)
        if (strcmp(b->existing[i].id, req->reservation_id) == 0) {
            prev_canon = b->existing[i].request;
            prev_canon_len = b->existing[i].request_len;
            prev_result = b->existing[i].result;
            prev_result_len = b->existing[i].result_len;
        }
    const accepted *acc = find_accepted(b, req->reservation_id);
    if (acc != NULL) {
        prev_canon = acc->canon;
        prev_canon_len = acc->canon_len;
        prev_result = acc->result;
        prev_result_len = acc->result_len;
    }
    if (prev_canon != NULL) {
        if (prev_canon_len != job->canon_len ||
            memcmp(prev_canon, job->canon, job->canon_len) != 0) {
            fail(b, j, SL_ALREADY_EXISTS,
                 "reservation_id \"%s\" is already used by a different request",
                 req->reservation_id);
            return SL_OK;
        }
        s->st = SL_OK;
        s->result = prev_result;
        s->result_len = prev_result_len;
        s->replayed = true;
        return SL_OK;
    }

    /* Checks against the database, before anything changes. */
    size_t nr;
    const inv_route *routes = inv_tx_region(&b->tx, req->region, &nr);
    if (nr == 0) {
        fail(b, j, SL_INVALID_ARGUMENT, "region \"%s\" is not served by any active warehouse",
             req->region);
        return SL_OK;
    }
    promo_st **lp = sl_arena_zalloc(a, req->n_lines * sizeof *lp);
    if (lp == NULL)
        return OOM(err);
    for (size_t i = 0; i < req->n_lines; i++) {
        const Shelfline__V1__ReserveLine *l = req->lines[i];
        if (inv_tx_product(&b->tx, l->sku) == NULL) {
            fail(b, j, SL_NOT_FOUND, "lines[%zu].sku: unknown SKU \"%s\"", i, l->sku);
            return SL_OK;
        }
        if (l->promotion_id[0] == '\0')
            continue;
        promo_st *p = find_promo(b, l->promotion_id);
        if (p == NULL) {
            fail(b, j, SL_NOT_FOUND, "lines[%zu].promotion_id: unknown promotion \"%s\"", i,
                 l->promotion_id);
            return SL_OK;
        }
        if (strcmp(p->row.sku, l->sku) != 0) {
            fail(b, j, SL_INVALID_ARGUMENT,
                 "lines[%zu].promotion_id: promotion \"%s\" is for SKU \"%s\", not \"%s\"", i,
                 l->promotion_id, p->row.sku, l->sku);
            return SL_OK;
        }
        if (b->tx.now_ms < p->row.starts_ms) {
            fail(b, j, SL_FAILED_PRECONDITION,
                 "lines[%zu].promotion_id: promotion \"%s\" has not started", i, l->promotion_id);
            return SL_OK;
        }
        if (p->row.ended || b->tx.now_ms >= p->row.ends_ms) {
            fail(b, j, SL_FAILED_PRECONDITION,
                 "lines[%zu].promotion_id: promotion \"%s\" has ended", i, l->promotion_id);
            return SL_OK;
        }
        lp[i] = p;
    }

    /* Allocate line by line against the working state. */
    size_t mark = b->nundo;
    size_t cap = nr + b->ninb + b->nfences + 1;
    line_alloc la;
    la.src = sl_arena_alloc(a, cap * sizeof *la.src);
    la.isrc = sl_arena_alloc(a, cap * sizeof *la.isrc);
    la.src_ref = sl_arena_alloc(a, cap * sizeof *la.src_ref);
    la.isrc_ref = sl_arena_alloc(a, cap * sizeof *la.isrc_ref);
    Shelfline__V1__LineShortfall **sf = sl_arena_alloc(a, req->n_lines * sizeof *sf);
    Shelfline__V1__ReservationLine **lines = sl_arena_alloc(a, req->n_lines * sizeof *lines);
    if (la.src == NULL || la.isrc == NULL || la.src_ref == NULL || la.isrc_ref == NULL ||
        sf == NULL || lines == NULL)
        return OOM(err);
    size_t nsf = 0;
    size_t alloc_mark = b->nallocs;
    for (size_t i = 0; i < req->n_lines; i++) {
        const Shelfline__V1__ReserveLine *l = req->lines[i];
        promo_st *p = lp[i];
        usage_st *u = NULL;
        size_t ns = 0, ni = 0;
        if (p != NULL) {
            u = find_usage(b, p, req->customer_id);
            if (u == NULL)
                return OOM(err);
            if (u->qty + l->qty > u->limit) {
                rollback(b, mark);
                b->nallocs = alloc_mark;
                fail(b, j, SL_RESOURCE_EXHAUSTED,
                     "lines[%zu]: customer \"%s\" may have at most %" PRId64
                     " units of promotion \"%s\" (holds or bought %" PRId64 ", asked %" PRId64 ")",
                     i, req->customer_id, u->limit, p->row.id, u->qty, l->qty);
                return SL_OK;
            }
            if (p->row.remaining < l->qty) {
                rollback(b, mark);
                b->nallocs = alloc_mark;
                if (p->row.remaining == 0)
                    fail(b, j, SL_RESOURCE_EXHAUSTED, "lines[%zu]: promotion \"%s\" is sold out", i,
                         p->row.id);
                else
                    fail(b, j, SL_RESOURCE_EXHAUSTED,
                         "lines[%zu]: promotion \"%s\" has only %" PRId64
                         " units left (asked %" PRId64 ")",
                         i, p->row.id, p->row.remaining, l->qty);
                return SL_OK;
            }
            fence_sources(b, p, routes, nr, &la, &ns);
        } else {
            normal_sources(b, l->sku, routes, nr, req->allow_backorder, &la, &ns, &ni);
        }
        inv_part *parts = sl_arena_alloc(a, cap * sizeof *parts);
        if (parts == NULL)
            return OOM(err);
        inv_alloc_in in = {
            la.src, ns, la.isrc, ni, l->qty, req->allow_split, req->allow_backorder && p == NULL};
        inv_alloc_out out = {.parts = parts};
        if (!inv_alloc_line(&in, &out)) {
            Shelfline__V1__LineShortfall *x = sl_arena_alloc(a, sizeof *x);
            if (x == NULL)
                return OOM(err);
            shelfline__v1__line_shortfall__init(x);
            x->line = (int32_t)i;
            x->sku = l->sku;
            x->requested = l->qty;
            x->available = out.could_have;
            x->short_by = l->qty - out.could_have > 0 ? l->qty - out.could_have : 0;
            x->reason = (char *)(p != NULL ? "the promotion's units are not in warehouses "
                                             "serving the region as asked"
                                           : out.reason);
            sf[nsf++] = x;
            continue;
        }
        /* Apply the parts and describe them. */
        Shelfline__V1__ReservationLine *rl = sl_arena_alloc(a, sizeof *rl);
        Shelfline__V1__Allocation **al = sl_arena_alloc(a, out.nparts * sizeof *al);
        if (rl == NULL || al == NULL)
            return OOM(err);
        shelfline__v1__reservation_line__init(rl);
        rl->sku = l->sku;
        rl->qty = l->qty;
        rl->promotion_id = l->promotion_id;
        const inv_product_row *prod = inv_tx_product(&b->tx, l->sku);
        rl->unit_price = p != NULL ? money(a, p->row.price_minor, p->row.currency)
                                   : money(a, prod->price_minor, prod->currency);
        rl->allocations = al;
        rl->n_allocations = out.nparts;
        for (size_t k = 0; k < out.nparts; k++) {
            const inv_part *pt = &out.parts[k];
            Shelfline__V1__Allocation *x = sl_arena_alloc(a, sizeof *x);
            if (x == NULL || rl->unit_price == NULL)
                return OOM(err);
            shelfline__v1__allocation__init(x);
            x->qty = pt->qty;
            if (!grow(a, (void **)&b->allocs, &b->capallocs, b->nallocs, sizeof *b->allocs))
                return OOM(err);
            inv_alloc_row *ar = &b->allocs[b->nallocs++];
            memset(ar, 0, sizeof *ar);
            ar->reservation_id = req->reservation_id;
            ar->line_no = (int)i;
            ar->part_no = (int)k;
            ar->sku = l->sku;
            ar->qty = pt->qty;
            ar->inbound_id = "";
            ar->promotion_id = l->promotion_id;
            if (pt->source >= 0) {
                const inv_source *src = &la.src[pt->source];
                x->warehouse_id = (char *)src->warehouse_id;
                x->inbound_id = "";
                x->transit_p50_days = src->p50;
                x->transit_p90_days = src->p90;
                ar->warehouse_id = src->warehouse_id;
                if (p != NULL) {
                    fence_st *f = la.src_ref[pt->source];
                    f->row.remaining -= pt->qty;
                    p->row.remaining -= pt->qty;
                    p->row.held += pt->qty;
                    u->qty += pt->qty;
                    if (!push_undo(b, U_FENCE, f, pt->qty) || !push_undo(b, U_PROMO, p, pt->qty) ||
                        !push_undo(b, U_USAGE, u, pt->qty))
                        return OOM(err);
                } else {
                    inv_row *row = la.src_ref[pt->source];
                    row->reserved += pt->qty;
                    if (!push_undo(b, U_ROW, row, pt->qty))
                        return OOM(err);
                }
            } else {
                const inv_inbound_src *src = &la.isrc[pt->inbound];
                inb_st *ib = la.isrc_ref[pt->inbound];
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
                if (!push_undo(b, U_INB, ib, pt->qty))
                    return OOM(err);
            }
            al[k] = x;
        }
        lines[i] = rl;
    }
    if (nsf > 0) {
        rollback(b, mark);
        b->nallocs = alloc_mark;
        fail_short(b, j, sf, nsf);
        return SL_OK;
    }

    /* Accepted: the answer, its rows, and a note for duplicates. */
    int64_t ttl = req->hold_ttl_ms > 0 ? req->hold_ttl_ms : INV_DEFAULT_HOLD_MS;
    Shelfline__V1__Reservation r = SHELFLINE__V1__RESERVATION__INIT;
    r.reservation_id = req->reservation_id;
    r.customer_id = req->customer_id;
    r.region = req->region;
    r.status = SHELFLINE__V1__RESERVATION__STATUS__HELD;
    r.lines = lines;
    r.n_lines = req->n_lines;
    r.created_at_ms = b->tx.now_ms;
    r.expires_at_ms = b->tx.now_ms + ttl;
    if (!pack(a, &r.base, &s->result, &s->result_len))
        return OOM(err);
    s->st = SL_OK;
    /* resv and acc hold one entry per job of the batch at most. */
    assert(b->nresv < b->n && b->nacc < b->n);
    inv_resv_row *rr = &b->resv[b->nresv++];
    memset(rr, 0, sizeof *rr);
    rr->id = req->reservation_id;
    rr->customer_id = req->customer_id;
    rr->region = req->region;
    rr->request = job->canon;
    rr->request_len = job->canon_len;
    rr->result = s->result;
    rr->result_len = s->result_len;
    rr->created_ms = r.created_at_ms;
    rr->expires_ms = r.expires_at_ms;
    b->acc[b->nacc++] =
        (accepted){req->reservation_id, job->canon, s->result, job->canon_len, s->result_len};
    return SL_OK;
}

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
    b->promos = sl_arena_alloc(a, (n + 1) * sizeof *b->promos);
    if (b->promos == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        b->promos[i] = (promo_st){pr[i], pr[i].remaining, pr[i].held};
    b->npromos = n;
    inv_fence_row *fr;
    st = inv_store_fence_load(b->tx.conn, a, pids, np, &fr, &n, err);
    if (st != SL_OK)
        return st;
    b->fences = sl_arena_alloc(a, (n + 1) * sizeof *b->fences);
    if (b->fences == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        b->fences[i] = (fence_st){fr[i], fr[i].remaining};
    b->nfences = n;
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
    b->capusage = n + 16;
    b->usage = sl_arena_alloc(a, b->capusage * sizeof *b->usage);
    if (b->usage == NULL)
        return OOM(err);
    for (size_t i = 0; i < n; i++)
        b->usage[i] = (usage_st){ur[i].promotion_id, ur[i].customer_id, ur[i].qty, ur[i].qty,
                                 ur[i].limit_qty};
    b->nusage = n;
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
    if (b->nresv > 0 && (st = inv_store_reserve_write(c, a, b->resv, b->nresv, b->allocs,
                                                      b->nallocs, d, nd, err)) != SL_OK)
        return st;
    inv_fence_row *fd = sl_arena_alloc(a, (b->nfences + 1) * sizeof *fd);
    inv_promo_delta *pd = sl_arena_alloc(a, (b->npromos + 1) * sizeof *pd);
    inv_usage_row *ud = sl_arena_alloc(a, (b->nusage + 1) * sizeof *ud);
    const char **ids = sl_arena_alloc(a, (b->ninb + 1) * sizeof *ids);
    int64_t *bd = sl_arena_alloc(a, (b->ninb + 1) * sizeof *bd);
    if (fd == NULL || pd == NULL || ud == NULL || ids == NULL || bd == NULL)
        return OOM(err);
    size_t nf = 0, np = 0, nu = 0, nb = 0;
    for (size_t i = 0; i < b->nfences; i++)
        if (b->fences[i].row.remaining != b->fences[i].remaining0)
            fd[nf++] = (inv_fence_row){b->fences[i].row.promotion_id, b->fences[i].row.warehouse_id,
                                       0, b->fences[i].row.remaining - b->fences[i].remaining0};
    for (size_t i = 0; i < b->npromos; i++) {
        const promo_st *p = &b->promos[i];
        if (p->row.remaining != p->remaining0 || p->row.held != p->held0)
            pd[np++] = (inv_promo_delta){
                p->row.id, p->row.remaining - p->remaining0, p->row.held - p->held0, 0, 0, false};
    }
    for (size_t i = 0; i < b->nusage; i++)
        if (b->usage[i].qty != b->usage[i].qty0)
            ud[nu++] = (inv_usage_row){b->usage[i].promotion_id, b->usage[i].customer_id,
                                       b->usage[i].qty - b->usage[i].qty0, b->usage[i].limit};
    for (size_t i = 0; i < b->ninb; i++)
        if (b->inb[i].row.unallocated != b->inb[i].unallocated0) {
            ids[nb] = b->inb[i].row.id;
            bd[nb++] = b->inb[i].unallocated0 - b->inb[i].row.unallocated;
        }
    if ((st = inv_store_fence_apply(c, a, fd, nf, err)) != SL_OK ||
        (st = inv_store_promo_apply(c, a, pd, np, err)) != SL_OK ||
        (st = inv_store_usage_apply(c, a, ud, nu, err)) != SL_OK ||
        (st = inv_store_inbound_backorder(c, a, ids, bd, nb, err)) != SL_OK)
        return st;
    return inv_tx_publish(&b->tx, err);
}

static sl_status batch_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    batch *b = p;
    sl_arena_reset(b->arena);
    sl_arena *a = b->arena;
    b->js = sl_arena_zalloc(a, b->n * sizeof *b->js);
    b->resv = sl_arena_alloc(a, b->n * sizeof *b->resv);
    b->acc = sl_arena_alloc(a, b->n * sizeof *b->acc);
    if (b->js == NULL || b->resv == NULL || b->acc == NULL)
        return OOM(err);
    b->nresv = b->nacc = b->nallocs = b->capallocs = b->nundo = b->capundo = 0;
    b->npromos = b->nfences = b->nusage = b->ninb = 0;
    b->allocs = NULL;
    b->undo = NULL;

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

    inv_tx_init(&b->tx, conn, b->app->events, a);
    sl_status st = inv_tx_lock_load(&b->tx, skus, ns, ids, b->n, &b->existing, &b->nexisting, err);
    if (st != SL_OK)
        return st;
    if (any_promo && (st = load_promos(b, pids, np, err)) != SL_OK)
        return st;
    if (any_backorder) {
        inv_open_inbound *ib;
        size_t n;
        st = inv_store_open_inbound(conn, a, skus, ns, &ib, &n, err);
        if (st != SL_OK)
            return st;
        b->inb = sl_arena_alloc(a, (n + 1) * sizeof *b->inb);
        if (b->inb == NULL)
            return OOM(err);
        for (size_t i = 0; i < n; i++)
            b->inb[i] = (inb_st){ib[i], ib[i].unallocated};
        b->ninb = n;
    }
    for (size_t j = 0; j < b->n; j++)
        if ((st = decide(b, j, err)) != SL_OK)
            return st;
    return write_batch(b, err);
}

/* Copies an attempt's answer into the job's own arena. */
static void answer(inv_reserve_job *job, const jstate *s)
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
