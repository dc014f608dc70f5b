/*
 * inv_api_reserve: Reserve (through the combiner), Commit, Release,
 * GetReservation, CreatePromotion and GetPromotion.
 */
#include <stdio.h>
#include <string.h>

#include "inv_api.h"
#include "inv_promo.h"
#include "inv_reserve.h"
#include "inv_resv.h"
#include "inv_store.h"
#include "inv_valid.h"

#define APP(call) ((inv_app *)sl_call_ctx(call))
#define OOM(err) sl_err_set((err), SL_RESOURCE_EXHAUSTED, "out of memory")

/* ---- Reserve ---- */

typedef struct precheck_ctx {
    const Shelfline__V1__ReserveRequest *r;
    size_t line; /* the line that failed */
    int64_t remaining;
} precheck_ctx;

/* Rejects a line naming a sold-out or unknown promotion without queueing
 * for the SKU's lock (a flash sale's losers should not wait for the
 * winners' commits).  A retry of an accepted reservation is let through:
 * it must get its first answer even after the sale sold out. */
static sl_status precheck_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    precheck_ctx *c = p;
    for (size_t i = 0; i < c->r->n_lines; i++) {
        const char *pid = c->r->lines[i]->promotion_id;
        if (pid[0] == '\0')
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(c->r->lines[k]->promotion_id, pid) == 0;
        if (seen)
            continue;
        bool exists;
        sl_status st =
            inv_store_promo_precheck(conn, pid, c->r->reservation_id, &c->remaining, &exists, err);
        if (st != SL_OK)
            return st;
        if (exists)
            return SL_OK;
        if (c->remaining < 0)
            return sl_err_reason(err, SL_NOT_FOUND, "PROMOTION_NOT_FOUND",
                                 "lines[%zu].promotion_id: unknown promotion \"%s\"", i, pid);
        if (c->remaining == 0) {
            sl_err_reason(err, SL_RESOURCE_EXHAUSTED, "PROMOTION_SOLD_OUT",
                          "lines[%zu]: promotion \"%s\" is sold out", i, pid);
            sl_err_meta(err, "promotion_id", "%s", pid);
            sl_err_meta(err, "remaining", "0");
            return SL_RESOURCE_EXHAUSTED;
        }
    }
    return SL_OK;
}

sl_status inv_api_reserve(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    const Shelfline__V1__ReserveRequest *r = (const Shelfline__V1__ReserveRequest *)req;
    Shelfline__V1__ReserveResponse *out = (Shelfline__V1__ReserveResponse *)resp;
    inv_app *app = APP(call);
    sl_arena *a = sl_call_arena(call);
    bool any_promo = false;
    for (size_t i = 0; i < r->n_lines; i++)
        any_promo = any_promo || r->lines[i]->promotion_id[0] != '\0';
    if (any_promo) {
        precheck_ctx pc = {r, 0, 0};
        sl_db_tx_options o = sl_service_tx_options(call, true);
        o.isolation = SL_DB_READ_COMMITTED;
        sl_status st = sl_db_tx(app->db, &o, precheck_tx, &pc, err);
        if (st != SL_OK)
            return st;
    }
    /* The canonical request: everything but the TTL. */
    Shelfline__V1__ReserveRequest canon = *r;
    canon.hold_ttl_ms = 0;
    inv_reserve_job job;
    memset(&job, 0, sizeof job);
    job.req = r;
    job.canon = inv_api_pack(call, &canon.base, &job.canon_len);
    job.base.deadline_ms = sl_call_deadline_ms(call);
    job.arena = a;
    if (job.canon == NULL)
        return OOM(err);
    inv_reserve_run(app->combiner, &job);
    if (job.st != SL_OK) {
        if (err != NULL)
            *err = job.err;
        /* Best effort: the message names the short lines anyway. */
        if (job.st == SL_FAILED_PRECONDITION && job.shortfall_len > 0)
            sl_call_add_error_detail(call, &shelfline__v1__reserve_shortfall__descriptor,
                                     job.shortfall, job.shortfall_len, NULL);
        return job.st;
    }
    out->reservation = (Shelfline__V1__Reservation *)protobuf_c_message_unpack(
        &shelfline__v1__reservation__descriptor, sl_arena_pb_allocator(a), job.result_len,
        job.result);
    if (out->reservation == NULL)
        return sl_err_set(err, SL_INTERNAL, "stored reservation \"%s\" does not decode",
                          r->reservation_id);
    out->replayed = job.replayed;
    return SL_OK;
}

/* ---- Commit, Release ---- */

static sl_status close_one(sl_call *call, const char *id, inv_close_kind kind,
                           ProtobufCMessage *resp, sl_err *err)
{
    sl_status st = inv_valid_id("reservation_id", id, INV_ID_KEY, err);
    if (st != SL_OK)
        return st;
    inv_close_outcome out;
    sl_audit audit = sl_call_audit(call);
    st = inv_closer_run(APP(call)->closer, id, &audit, kind, sl_call_deadline_ms(call),
                        sl_call_arena(call), &out, err);
    if (st != SL_OK)
        return st;
    if (!out.found)
        return sl_err_reason(err, SL_NOT_FOUND, "RESERVATION_NOT_FOUND",
                             "reservation_id: unknown reservation \"%s\"", id);
    Shelfline__V1__Reservation *rv = out.resv;
    switch (rv->status) {
    case SHELFLINE__V1__RESERVATION__STATUS__COMMITTED:
        if (kind == INV_CLOSE_RELEASE)
            return sl_err_reason(err, SL_FAILED_PRECONDITION, "RESERVATION_COMMITTED",
                                 "reservation \"%s\" is committed and cannot be released", id);
        break;
    case SHELFLINE__V1__RESERVATION__STATUS__RELEASED:
        if (kind == INV_CLOSE_COMMIT)
            return sl_err_reason(err, SL_FAILED_PRECONDITION, "RESERVATION_RELEASED",
                                 "reservation \"%s\" was released and cannot be committed", id);
        break;
    case SHELFLINE__V1__RESERVATION__STATUS__EXPIRED:
        if (kind == INV_CLOSE_COMMIT)
            return sl_err_reason(err, SL_FAILED_PRECONDITION, "RESERVATION_EXPIRED",
                                 "reservation \"%s\" expired and cannot be committed", id);
        break;
    case SHELFLINE__V1__RESERVATION__STATUS__HELD:
    case SHELFLINE__V1__RESERVATION__STATUS__STATUS_UNSPECIFIED:
    case _SHELFLINE__V1__RESERVATION__STATUS_IS_INT_SIZE:
        return sl_err_set(err, SL_INTERNAL, "reservation \"%s\" was not closed", id);
    }
    *(Shelfline__V1__Reservation *)resp = *rv;
    return SL_OK;
}

sl_status inv_api_commit(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                         sl_err *err)
{
    return close_one(call, ((const Shelfline__V1__CommitRequest *)req)->reservation_id,
                     INV_CLOSE_COMMIT, resp, err);
}

sl_status inv_api_release(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    return close_one(call, ((const Shelfline__V1__ReleaseRequest *)req)->reservation_id,
                     INV_CLOSE_RELEASE, resp, err);
}

typedef struct get_ctx {
    sl_call *call;
    const char *id;
    void *out;
} get_ctx;

static sl_status get_resv_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return inv_resv_get(conn, sl_call_arena(c->call), c->id, (Shelfline__V1__Reservation **)&c->out,
                        err);
}

sl_status inv_api_get_reservation(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err)
{
    const char *id = ((const Shelfline__V1__GetReservationRequest *)req)->reservation_id;
    sl_status st = inv_valid_id("reservation_id", id, INV_ID_KEY, err);
    if (st != SL_OK)
        return st;
    get_ctx c = {call, id, NULL};
    st = inv_api_tx(call, true, get_resv_tx, &c, err);
    if (st != SL_OK)
        return st;
    if (c.out == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "RESERVATION_NOT_FOUND",
                             "reservation_id: unknown reservation \"%s\"", id);
    *(Shelfline__V1__Reservation *)resp = *(Shelfline__V1__Reservation *)c.out;
    return SL_OK;
}

/* ---- promotions ---- */

typedef struct promo_ctx {
    sl_call *call;
    const Shelfline__V1__Promotion *p;
    const uint8_t *canon;
    size_t canon_len;
    Shelfline__V1__Promotion *out;
} promo_ctx;

static sl_status create_promo_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    promo_ctx *c = p;
    sl_audit audit = sl_call_audit(c->call);
    return inv_promo_create(conn, APP(c->call)->events, sl_call_arena(c->call), &audit, c->p,
                            c->canon, c->canon_len, &c->out, err);
}

sl_status inv_api_create_promotion(sl_call *call, const ProtobufCMessage *req,
                                   ProtobufCMessage *resp, sl_err *err)
{
    const Shelfline__V1__Promotion *p =
        ((const Shelfline__V1__CreatePromotionRequest *)req)->promotion;
    sl_status st = inv_valid_promotion(p, err);
    if (st != SL_OK)
        return st;
    /* Output-only fields are not part of the request. */
    Shelfline__V1__Promotion canon = *p;
    canon.status = SHELFLINE__V1__PROMOTION__STATUS__STATUS_UNSPECIFIED;
    canon.sold = canon.held = canon.remaining = canon.returned = 0;
    canon.fences = NULL;
    canon.n_fences = 0;
    promo_ctx c = {call, &canon, NULL, 0, NULL};
    c.canon = inv_api_pack(call, &canon.base, &c.canon_len);
    if (c.canon == NULL)
        return OOM(err);
    st = inv_api_tx(call, false, create_promo_tx, &c, err);
    if (st == SL_OK)
        *(Shelfline__V1__Promotion *)resp = *c.out;
    return st;
}

static sl_status get_promo_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    get_ctx *c = p;
    return inv_promo_get(conn, sl_call_arena(c->call), c->id, sl_db_now_ms(),
                         (Shelfline__V1__Promotion **)&c->out, err);
}

sl_status inv_api_get_promotion(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err)
{
    const char *id = ((const Shelfline__V1__GetPromotionRequest *)req)->promotion_id;
    sl_status st = inv_valid_id("promotion_id", id, INV_ID_KEY, err);
    if (st != SL_OK)
        return st;
    get_ctx c = {call, id, NULL};
    st = inv_api_tx(call, true, get_promo_tx, &c, err);
    if (st != SL_OK)
        return st;
    if (c.out == NULL)
        return sl_err_reason(err, SL_NOT_FOUND, "PROMOTION_NOT_FOUND",
                             "promotion_id: unknown promotion \"%s\"", id);
    *(Shelfline__V1__Promotion *)resp = *(Shelfline__V1__Promotion *)c.out;
    return SL_OK;
}
