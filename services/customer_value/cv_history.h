/*
 * cv_history: every purchase line in memory, valid for one data version,
 * so that Recommend and GetRepurchaseReminders answer from arrays instead
 * of re-reading all orders of the popular SKUs on every call.
 *
 * The data version (migration 0002, table data_version) is a sum of
 * counters that triggers bump in the same transaction as any change to
 * purchase, purchase_line or a customer's region.  A snapshot is built by
 * one statement that reads the version and the lines together (one
 * statement, one MVCC snapshot), so a snapshot stamped with version V holds
 * exactly the lines any later reader sees while the version still reads V:
 * every committed change since would have raised it.  A reader compares the
 * version it reads with the snapshot's and falls back to the SQL (the
 * definition) when they differ, so answers are always those of the SQL,
 * only cheaper.  Under a stream of writes the snapshot is rebuilt at most
 * once per version that a reader asks for, by one caller at a time.
 *
 * The queries reproduce cv_store's statements exactly (cv_store.h):
 * cv_store_bestsellers, cv_store_copurchase and cv_store_repeat_lines.
 * Ties are broken by SKU in byte order, which is the database's order under
 * the C and C.UTF-8 collations that deploy/local/pg.sh and the tests use.
 *
 * Snapshots are immutable and reference-counted: a reader keeps its own
 * until it releases it, whatever replaces it meanwhile.  Strings the query
 * functions return point into the snapshot: copy what must outlive it.
 */
#ifndef CV_HISTORY_H
#define CV_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cv_store.h"
#include "sl_arena.h"
#include "sl_status.h"

typedef struct cv_history cv_history;
typedef struct cv_history_snap cv_history_snap;

/* An empty holder; the caller owns it (cv_history_destroy).  NULL when out
 * of memory. */
cv_history *cv_history_create(void);
/* Frees the holder and its current snapshot; no snapshot may still be
 * acquired. */
void cv_history_destroy(cv_history *h);

/* The current snapshot, acquired, when it is of data version `version`;
 * NULL otherwise.  Release it with cv_history_release. */
cv_history_snap *cv_history_acquire(cv_history *h, int64_t version);
void cv_history_release(cv_history *h, cv_history_snap *s);

/* True when the caller may build the next snapshot (no one else is
 * building); it must then call cv_history_install, with NULL if the build
 * failed. */
bool cv_history_begin_build(cv_history *h);

/* Builds a snapshot of data version `version` from rows[0..n-1] (every
 * purchase line, in any order; the strings are copied).  The caller owns
 * *out until it installs it.  RESOURCE_EXHAUSTED when out of memory. */
sl_status cv_history_build(int64_t version, const cv_history_row *rows, size_t n,
                           cv_history_snap **out, sl_err *err);

/* Makes s (may be NULL) the current snapshot unless the current one is of
 * a later version, ends the build cv_history_begin_build started, and
 * returns s acquired for the caller (NULL when s was NULL).  The holder
 * owns s from now on. */
cv_history_snap *cv_history_install(cv_history *h, cv_history_snap *s);

/* The snapshot's data version. */
int64_t cv_history_version(const cv_history_snap *s);

/* cv_store_bestsellers on the snapshot: SKUs by distinct customers (in
 * region and of category when not NULL) with a line not fully returned on
 * day since_day or later, at most limit, into arena a. */
sl_status cv_history_bestsellers(const cv_history_snap *s, sl_arena *a, const char *region,
                                 const char *category, int32_t since_day, int limit,
                                 cv_sku_score **out, size_t *n, sl_err *err);

/* cv_store_copurchase on the snapshot, into arena a. */
sl_status cv_history_copurchase(const cv_history_snap *s, sl_arena *a, const char *customer_id,
                                int limit, cv_sku_score **out, size_t *n, sl_err *err);

/* cv_store_repeat_lines on the snapshot: the lines not fully returned of
 * skus[0..nskus-1], ordered by customer, SKU and day, into arena a. */
sl_status cv_history_repeat_lines(const cv_history_snap *s, sl_arena *a, const char *const *skus,
                                  size_t nskus, cv_repeat_row **out, size_t *n, sl_err *err);

#endif
