/*
 * sd_api: the ServiceDeskService handlers (sl_unary_handler signatures),
 * one file per group: sd_api_orders.c, sd_api_tickets.c, sd_api_returns.c,
 * sd_api_bis.c, sd_api_notifications.c.  Each is decode (done by the
 * dispatcher) -> validate (sd_valid) -> domain -> reply.
 */
#ifndef SD_API_H
#define SD_API_H

#include "sl_server.h"

sl_status sd_api_place_order(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err);
sl_status sd_api_confirm_payment(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status sd_api_cancel_order(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status sd_api_update_shipment(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                 sl_err *err);
sl_status sd_api_get_order(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err);
sl_status sd_api_list_orders(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err);
sl_status sd_api_get_order_eta(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err);
sl_status sd_api_list_eta_changes(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);
sl_status sd_api_quote_eta(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err);
sl_status sd_api_open_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err);
sl_status sd_api_respond_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status sd_api_resolve_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status sd_api_get_ticket(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err);
sl_status sd_api_list_tickets(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status sd_api_set_sla_policy(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status sd_api_get_sla_policy(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status sd_api_get_sla_report(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status sd_api_create_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                               sl_err *err);
sl_status sd_api_receive_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                                sl_err *err);
sl_status sd_api_get_return(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                            sl_err *err);
sl_status sd_api_list_returns(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                              sl_err *err);
sl_status sd_api_subscribe_back_in_stock(sl_call *call, const ProtobufCMessage *req,
                                         ProtobufCMessage *resp, sl_err *err);
sl_status sd_api_unsubscribe(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                             sl_err *err);
sl_status sd_api_list_subscriptions(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err);
sl_status sd_api_get_back_in_stock_queue(sl_call *call, const ProtobufCMessage *req,
                                         ProtobufCMessage *resp, sl_err *err);
sl_status sd_api_list_notifications(sl_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage *resp, sl_err *err);
sl_status sd_api_ack_notification(sl_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage *resp, sl_err *err);

/* WatchNotifications (server streaming). */
sl_status sd_api_watch_notifications(sl_call *call, const ProtobufCMessage *req, sl_err *err);

#endif
