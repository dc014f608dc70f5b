/*
 * sd_api: the ServiceDeskService handlers (sl_unary_handler signatures).
 */
#ifndef SD_API_H
#define SD_API_H

#include "sl_server.h"

#define SD_API(fn)                                                                                 \
    sl_status sd_api_##fn(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,      \
                          sl_err *err)

SD_API(place_order);
SD_API(confirm_payment);
SD_API(cancel_order);
SD_API(update_shipment);
SD_API(get_order);
SD_API(list_orders);
SD_API(get_order_eta);
SD_API(quote_eta);
SD_API(open_ticket);
SD_API(respond_ticket);
SD_API(resolve_ticket);
SD_API(list_tickets);
SD_API(get_sla_report);
SD_API(create_return);
SD_API(receive_return);
SD_API(subscribe_back_in_stock);
SD_API(unsubscribe);
SD_API(list_subscriptions);
SD_API(list_notifications);
SD_API(ack_notification);

/* WatchNotifications (server streaming). */
sl_status sd_api_watch_notifications(sl_call *call, const ProtobufCMessage *req, sl_err *err);

#endif
