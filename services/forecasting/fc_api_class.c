/*
 * fc_api_class: ABC/XYZ classes and their service levels --
 * ClassifySkus, ListSkusByClass, SetServiceLevelTarget.  Classifying is
 * fc_classify's work (and fc_class's arithmetic); here are the replies.
 */
#include <math.h>

#include "fc_api.h"
#include "fc_app.h"
#include "fc_class.h"
#include "fc_classify.h"
#include "fc_valid.h"

/* ---- replies ---- */

/* The fields ClassifySkusResponse and ListSkusByClassResponse share (the
 * same numbers and types: two messages only so that each RPC has its own
 * response type), for class_reply to fill in either. */
typedef struct class_fields {
    char **region, **classified_on;
    int32_t *period_days;
    size_t *n_skus;
    Shelfline__V1__SkuClass ***skus;
} class_fields;

static sl_status class_reply(sl_arena *a, const char *region, const fc_class_row *rows, size_t n,
                             const double targets[9], const class_fields *out, sl_err *err)
{
    *out->region = (char *)region;
    Shelfline__V1__SkuClass **skus = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *skus);
    Shelfline__V1__SkuClass *m = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *m);
    char *codes = sl_arena_alloc(a, 4 * (n > 0 ? n : 1));
    char *day = sl_arena_alloc(a, 16);
    if (skus == NULL || m == NULL || codes == NULL || day == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *out->skus = skus;
    *out->classified_on = day;
    day[0] = '\0';
    if (n > 0) {
        fc_day_format(rows[0].classified_on, day, 16);
        *out->period_days = rows[0].period_days;
    }
    for (size_t i = 0; i < n; i++) {
        const fc_class_row *x = &rows[i];
        shelfline__v1__sku_class__init(&m[i]);
        char *c = &codes[4 * i];
        c[0] = x->abc, c[1] = '\0', c[2] = x->xyz, c[3] = '\0';
        m[i].sku = (char *)x->sku;
        m[i].abc = c;
        m[i].xyz = c + 2;
        m[i].revenue_minor_units = x->revenue_minor;
        m[i].revenue_share = x->share;
        m[i].cumulative_share = x->cumulative;
        m[i].weekly_cv = x->cv;
        m[i].units = x->units;
        int k = fc_class_index(x->abc, x->xyz);
        m[i].service_level =
            isnan(targets[k]) ? fc_class_default_target(x->abc, x->xyz) : targets[k];
        skus[i] = &m[i];
    }
    *out->n_skus = n;
    return SL_OK;
}

/* ---- ClassifySkus ---- */

sl_status fc_api_classify(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err)
{
    const Shelfline__V1__ClassifySkusRequest *r = (const Shelfline__V1__ClassifySkusRequest *)req;
    Shelfline__V1__ClassifySkusResponse *out = (Shelfline__V1__ClassifySkusResponse *)resp;
    /* The options with their defaults filled (the dispatcher checked
     * them). */
    fc_class_opts opts = {r->a_share, r->b_share, r->x_cv, r->y_cv};
    sl_status st = fc_class_opts_check(&opts, err);
    if (st != SL_OK)
        return st;
    fc_class_row *rows;
    size_t n;
    double targets[9];
    if ((st = fc_classify_region(FC_APP(call), call, r->region, r->period_days, &opts, &rows, &n,
                                 targets, err)) != SL_OK)
        return st;
    class_fields f = {&out->region, &out->classified_on, &out->period_days, &out->n_skus,
                      &out->skus};
    return class_reply(sl_call_arena(call), r->region, rows, n, targets, &f, err);
}

/* ---- ListSkusByClass ---- */

typedef struct list_ctx {
    const char *region, *abc, *xyz;
    sl_arena *a;
    fc_class_row *rows;
    size_t n;
    double targets[9];
} list_ctx;

static sl_status list_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    list_ctx *c = p;
    sl_status st = fc_store_class_list(conn, c->region, c->abc, c->xyz, c->a, &c->rows, &c->n, err);
    return st == SL_OK ? fc_store_targets(conn, c->region, c->targets, err) : st;
}

sl_status fc_api_list_classes(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err)
{
    const Shelfline__V1__ListSkusByClassRequest *r =
        (const Shelfline__V1__ListSkusByClassRequest *)req;
    Shelfline__V1__ListSkusByClassResponse *out = (Shelfline__V1__ListSkusByClassResponse *)resp;
    sl_status st;
    list_ctx c = {r->region, r->abc[0] != '\0' ? r->abc : NULL, r->xyz[0] != '\0' ? r->xyz : NULL,
                  sl_call_arena(call)};
    sl_db_tx_options o = {.read_only = true, .deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, list_tx, &c, err)) != SL_OK)
        return st;
    class_fields f = {&out->region, &out->classified_on, &out->period_days, &out->n_skus,
                      &out->skus};
    return class_reply(sl_call_arena(call), r->region, c.rows, c.n, c.targets, &f, err);
}

/* ---- SetServiceLevelTarget ---- */

typedef struct target_ctx {
    const char *region, *code;
    double level;
} target_ctx;

static sl_status target_tx(sl_db_conn *conn, void *p, sl_err *err)
{
    target_ctx *c = p;
    return fc_store_target_set(conn, c->region, c->code, c->level, err);
}

sl_status fc_api_set_target(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__SetServiceLevelTargetRequest *r =
        (const Shelfline__V1__SetServiceLevelTargetRequest *)req;
    Shelfline__V1__ServiceLevelTarget *out = (Shelfline__V1__ServiceLevelTarget *)resp;
    sl_status st;
    target_ctx c = {r->region, r->class_code, r->service_level};
    sl_db_tx_options o = {.deadline_ms = sl_call_deadline_ms(call)};
    if ((st = sl_db_tx(FC_APP(call)->db, &o, target_tx, &c, err)) != SL_OK)
        return st;
    out->region = r->region;
    out->class_code = r->class_code;
    out->service_level = r->service_level;
    return SL_OK;
}
