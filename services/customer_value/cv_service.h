/*
 * cv_service: the customer-value service -- customer lifetime value, retention, RFM segments,
 * reminders and regional recommendations.
 */
#ifndef CV_SERVICE_H
#define CV_SERVICE_H

#include "sl_service.h"

extern const sl_service_spec cv_service_spec;

#endif
