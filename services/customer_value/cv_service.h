/*
 * cv_service: the customer-value service -- customer lifetime value, retention, RFM segments,
 * reminders and regional recommendations.
 */
#ifndef CV_SERVICE_H
#define CV_SERVICE_H

#include "sl_service.h"

extern const sl_service_spec cv_service_spec;

/* The services customer-value calls: indexes of its spec's peers, for
 * sl_service_peer. */
enum { CV_PEER_INVENTORY, CV_PEER_SERVICE_DESK };

#endif
