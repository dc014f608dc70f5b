/*
 * suite_test: the whole suite on one fresh database for the integration
 * tests that need all four services: inventory (inv_test) and the three
 * others as real processes wired to each other as in production, and a
 * fingerprint of everything they keep, to tell that nothing was written.
 */
#ifndef SUITE_TEST_H
#define SUITE_TEST_H

#include <sys/types.h>

#include "inv_test.h"
#include "sl_client.h"

enum { SUITET_FC, SUITET_CV, SUITET_SD, SUITET_NSPAWN };

typedef struct suitet {
    invt_svc inv;             /* inventory, one process; inv.ch[0] */
    pid_t pid[SUITET_NSPAWN]; /* forecasting, customer-value, service-desk */
    int port[SUITET_NSPAWN];
    sl_channel *ch[SUITET_NSPAWN]; /* a channel to each */
} suitet;

/* Creates database "<name>_<pid>", starts inventory and the three others
 * on it (log level $SUITET_LOG_LEVEL, default error) and waits until each
 * reports SERVING.  Returns 0 or -1 (message on stderr); suitet_stop cleans
 * up after either. */
int suitet_start(suitet *s, const char *name);

/* SIGTERMs the processes (each must exit with status 0: under the
 * sanitizers, a leak fails it), closes the channels and drops the database.
 * Returns the number of processes that did not exit cleanly. */
int suitet_stop(suitet *s);

/* PlaceOrder on service-desk for customer "cust-1" in region EAST: one
 * line of qty units of sku.  Returns 0 or -1 (message on stderr). */
int suitet_place_order(suitet *s, const char *order_id, const char *sku, int64_t qty);

/* A fingerprint of every table of the four services' schemas: per table
 * its row count and an md5 of its rows in a stable order.  Equal
 * fingerprints mean nothing was written (or written and undone).  Fails
 * the cmocka test when the database cannot be read.  The caller frees. */
char *suitet_fingerprint(const char *conninfo);

/* The fingerprint once background work (event consumers catching up) has
 * settled: two readings a second apart that agree, within 30 s. */
char *suitet_settled_fingerprint(const char *conninfo);

#endif
