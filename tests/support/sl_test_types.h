/*
 * sl_test_types: every message type of the suite's four services -- the
 * request and response of each RPC and every message they nest -- from
 * the protoc-c service descriptors, so a new RPC is covered without
 * touching a test.  Header-only: the JSON tool and the fuzz target that
 * use it link neither cmocka nor libpq.
 */
#ifndef SL_TEST_TYPES_H
#define SL_TEST_TYPES_H

#include <stddef.h>

#include "shelfline/v1/customer_value.pb-c.h"
#include "shelfline/v1/forecasting.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"

static inline size_t sl_test__add_type(const ProtobufCMessageDescriptor *d,
                                       const ProtobufCMessageDescriptor **types, size_t n,
                                       size_t cap)
{
    for (size_t i = 0; i < n; i++)
        if (types[i] == d)
            return n;
    if (n == cap)
        return n;
    types[n++] = d;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            n = sl_test__add_type(d->fields[i].descriptor, types, n, cap);
    return n;
}

/* Fills types[0..cap) with the suite's message types, requests first in
 * method order; returns how many (at most cap). */
static inline size_t sl_test_suite_types(const ProtobufCMessageDescriptor **types, size_t cap)
{
    static const ProtobufCServiceDescriptor *const services[] = {
        &shelfline__v1__inventory_service__descriptor,
        &shelfline__v1__forecasting_service__descriptor,
        &shelfline__v1__customer_value_service__descriptor,
        &shelfline__v1__service_desk_service__descriptor,
    };
    size_t n = 0;
    for (size_t s = 0; s < sizeof services / sizeof services[0]; s++)
        for (unsigned m = 0; m < services[s]->n_methods; m++) {
            n = sl_test__add_type(services[s]->methods[m].input, types, n, cap);
            n = sl_test__add_type(services[s]->methods[m].output, types, n, cap);
        }
    return n;
}

#endif
