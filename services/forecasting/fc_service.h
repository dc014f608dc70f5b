/*
 * fc_service: the forecasting service -- demand forecasts, replenishment plans, transfer
 * suggestions, inventory KPIs and alerts.
 */
#ifndef FC_SERVICE_H
#define FC_SERVICE_H

#include "sl_service.h"

extern const sl_service_spec fc_service_spec;

#endif
