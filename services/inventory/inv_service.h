/*
 * inv_service: the inventory service -- the source of truth for what can
 * be sold where (stock per SKU x warehouse, reservations, promotions,
 * inbound shipments and the stock ledger).
 */
#ifndef INV_SERVICE_H
#define INV_SERVICE_H

#include "sl_service.h"

extern const sl_service_spec inv_service_spec;

#endif
