/*
 * fc_api: the gRPC handlers of shelfline.v1.ForecastingService (one per
 * RPC, listed in fc_service.c's method table).
 *
 * Each handler is decode -> domain call -> reply: the dispatcher already
 * decoded the request, checked size and deadline and ran the row's
 * validate slot (fc_valid.c), so a handler starts from a request whose
 * syntax is right; the work is the domain modules' (fc_demand, fc_promo,
 * fc_replenish, fc_stock, fc_transfer, fc_kpi, fc_adjust, fc_classify,
 * fc_store), each in transactions bounded by the call's deadline.
 * Statuses become gRPC codes in the dispatcher only.  Memory is the
 * call's arena.
 */
#ifndef FC_API_H
#define FC_API_H

#include "sl_server.h"

/* history and calendar (fc_api_sales.c) */
sl_status fc_api_record_sales(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status fc_api_record_hourly_sales(sl_call *call, const ProtobufCMessage *req,
                                     ProtobufCMessage *resp, sl_err *err);
sl_status fc_api_set_event(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err);
sl_status fc_api_list_events(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err);

/* forecasts and plans (fc_api_plan.c) */
sl_status fc_api_forecast(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err);
sl_status fc_api_plan(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                      sl_err *err);
sl_status fc_api_transfers(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err);
sl_status fc_api_kpis(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                      sl_err *err);

/* alerts (fc_alert.c) */
sl_status fc_api_watch_alerts(sl_call *call, const ProtobufCMessage *req, sl_err *err);

/* overrides and accuracy (fc_api_override.c) */
sl_status fc_api_set_override(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status fc_api_list_overrides(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status fc_api_remove_override(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status fc_api_accuracy(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err);

/* classes and service levels (fc_api_class.c) */
sl_status fc_api_classify(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                          sl_err *err);
sl_status fc_api_list_classes(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status fc_api_set_target(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err);

/* suppliers' lead times (fc_api_leadtime.c) */
sl_status fc_api_lead_times(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err);

#endif
