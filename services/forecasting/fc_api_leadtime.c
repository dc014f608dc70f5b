/*
 * fc_api_leadtime: GetLeadTimes -- suppliers' lead times as learned from
 * inventory's receipts (fc_leadtime.c).
 */
#include "fc_api.h"
#include "fc_app.h"

sl_status fc_api_lead_times(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err)
{
    const Shelfline__V1__GetLeadTimesRequest *r = (const Shelfline__V1__GetLeadTimesRequest *)req;
    Shelfline__V1__GetLeadTimesResponse *out = (Shelfline__V1__GetLeadTimesResponse *)resp;
    sl_arena *a = sl_call_arena(call);
    fc_lead_row *rows;
    size_t n;
    sl_status st = fc_lead_time_list(
        FC_APP(call)->db, sl_call_deadline_ms(call), r->supplier[0] != '\0' ? r->supplier : NULL,
        r->warehouse_id[0] != '\0' ? r->warehouse_id : NULL, a, &rows, &n, err);
    if (st != SL_OK)
        return st;
    out->lead_times = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *out->lead_times);
    Shelfline__V1__LeadTimeStats *m = sl_arena_alloc(a, (n > 0 ? n : 1) * sizeof *m);
    if (out->lead_times == NULL || m == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const fc_lead_row *x = &rows[i];
        shelfline__v1__lead_time_stats__init(&m[i]);
        m[i].supplier = (char *)x->supplier;
        m[i].warehouse_id = (char *)x->warehouse_id;
        m[i].receipts = (int32_t)x->receipts;
        m[i].mean_days = x->mean;
        m[i].stddev_days = x->sd;
        m[i].p50_days = x->p50;
        m[i].p90_days = x->p90;
        m[i].mean_delay_days = x->delay;
        m[i].on_time_share = x->on_time;
        out->lead_times[i] = &m[i];
    }
    out->n_lead_times = n;
    return SL_OK;
}
