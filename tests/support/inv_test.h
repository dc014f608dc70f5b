/*
 * inv_test: helpers for the inventory service's integration tests --
 * starting shelfline-inventory processes on a fresh database, calling its
 * RPCs over real gRPC, seeding a small network, and reading the database
 * directly to check what the service wrote.
 */
#ifndef INV_TEST_H
#define INV_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "shelfline/v1/inventory.pb-c.h"
#include "sl_client.h"

/* A running inventory service (one or more processes on one database). */
typedef struct invt_svc {
    char conninfo[512];         /* the database, as its owner (tests read it) */
    char runtime_conninfo[512]; /* as inventory's runtime role (the process) */
    char dbname[64];
    int nproc;
    pid_t pid[4];
    int port[4];
    sl_channel *ch[4];
} invt_svc;

/* Creates database "<name>_<pid>", migrates it as its owner and starts
 * nproc (1..4) processes on it as the runtime role, which has DML only
 * (sl_testpg_runtime_url; SHELFLINE_MIGRATE=verify), with extra
 * environment entries (NULL-terminated, may be NULL); waits
 * until each answers health checks.  Returns 0 or -1 (message on
 * stderr). */
int invt_start(invt_svc *s, const char *name, int nproc, const char *const *env);

/* invt_start on a database created with CREATE DATABASE options. */
int invt_start_on(invt_svc *s, const char *name, const char *db_options, int nproc,
                  const char *const *env);

/* Restarts process i (after it was killed) with the same settings. */
int invt_restart(invt_svc *s, int i, const char *const *env);

/* SIGTERMs every process still running (exit status checked: 0 expected),
 * closes the channels and drops the database.  Returns the number of
 * processes that did not exit cleanly. */
int invt_stop(invt_svc *s);

/* Calls "/shelfline.v1.InventoryService/<method>" on ch; the response is
 * allocated from a (caller resets).  Returns the status with err. */
sl_status invt_call(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, sl_arena *a, void *resp_out,
                    sl_err *err);

/* Seeds the standard small network over the API:
 *   regions EAST and WEST;
 *   warehouses W-NEAR (EAST p50 1/p90 2, WEST p50 4/p90 6),
 *              W-MID  (EAST 2/3, WEST 2/3),
 *              W-FAR  (EAST 5/7, WEST 1/1);
 *   products given in skus (category "test", price 1000 USD).
 * Returns 0 or -1. */
int invt_seed(sl_channel *ch, const char *const *skus, int nskus);

/* AdjustStock RECEIPT of qty (> 0) with a unique request id. */
int invt_stock(sl_channel *ch, const char *sku, const char *wh, int64_t qty);

/* Runs one SQL query on conninfo and returns the first column of the
 * first row as an integer (NULL: -1). */
long long invt_sql_int(const char *conninfo, const char *sql);

/* CheckInvariants over the API: the number of violations (-1 on error);
 * prints them to stderr. */
int invt_violations(sl_channel *ch);

/* Milliseconds of CLOCK_MONOTONIC; a sleep. */
int64_t invt_now_ms(void);
void invt_sleep_ms(int64_t ms);

#endif
