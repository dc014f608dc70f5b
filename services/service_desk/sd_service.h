/*
 * sd_service: the service-desk service -- orders and ETAs, tickets with SLAs, back-in-stock
 * subscriptions, delay compensation and returns.
 */
#ifndef SD_SERVICE_H
#define SD_SERVICE_H

#include "sl_service.h"

extern const sl_service_spec sd_service_spec;

#endif
