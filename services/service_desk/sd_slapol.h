/*
 * sd_slapol: the SLA policies of SetSlaPolicy / GetSlaPolicy -- validating
 * a shelfline.v1.SlaPolicy into an sd_sla_policy, and the book of every
 * version the process has met.
 *
 * Versions: 0 is the policy configured at start (SHELFLINE_SD_SLA_ZONE,
 * SHELFLINE_SD_SLA_HOURS, the default targets); 1, 2, ... are stored in
 * service_desk.sla_policy as they are set.  A ticket records the version
 * in force when its row is inserted, and its clocks always run on that
 * version: setting a policy re-times only tickets opened afterwards.  A
 * support lead changing targets expects the promise made to a customer
 * who is already waiting to stand -- a tightened target must not breach a
 * queue of open tickets at once, nor a loosened one quietly give them more
 * time.
 *
 * The book keeps every version it loaded for the life of the process
 * (policies are small and set by hand, a few a year), so a policy pointer
 * it returned stays valid until sd_slabook_free.  It loads versions it
 * has not seen from the database on demand, so every replica finds a
 * version another replica set.
 */
#ifndef SD_SLAPOL_H
#define SD_SLAPOL_H

#include <stddef.h>
#include <stdint.h>

#include "sd_sla.h"
#include "sd_time.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_arena.h"
#include "sl_db.h"
#include "sl_status.h"

/* Longest target, in business minutes (a year). */
#define SD_SLAPOL_MAX_MINUTES 525600
#define SD_SLAPOL_MAX_HOLIDAYS 1000

/*
 * Validates in (field names under "policy.") and builds it: *canon
 * (arena a) is the policy as stored and answered -- holidays ascending and
 * once, targets P1..P4, version and created_at_ms 0 -- and *built (when
 * not NULL) the policy its clocks run on, owned by the caller
 * (sd_sla_policy_free); zones come from tz (borrowed).  Fails with
 * SL_INVALID_ARGUMENT naming the first bad field, SL_RESOURCE_EXHAUSTED
 * when out of memory.  Nothing is written.
 */
sl_status sd_slapol_validate(sd_tzdb *tz, const Shelfline__V1__SlaPolicy *in, sl_arena *a,
                             Shelfline__V1__SlaPolicy **canon, sd_sla_policy **built, sl_err *err);

typedef struct sd_slabook sd_slabook;

/* A book whose version 0 is default (validated as by sd_slapol_validate;
 * copied).  The caller owns *out (sd_slabook_free). */
sl_status sd_slabook_new(sd_tzdb *tz, const Shelfline__V1__SlaPolicy *default_policy,
                         sd_slabook **out, sl_err *err);

void sd_slabook_free(sd_slabook *b);

/* Loads every stored version newer than the newest the book has, within
 * deadline_ms.  Fails with the database's status (the book is unchanged
 * beyond the versions loaded before the failure), INTERNAL for a stored
 * policy that no longer validates (e.g. a zone this host lacks). */
sl_status sd_slabook_sync(sd_slabook *b, sl_db *db, int64_t deadline_ms, sl_err *err);

/* The policy of version, loading newer versions first when the book does
 * not have it.  *out stays valid until sd_slabook_free.  NOT_FOUND for a
 * version that is not stored. */
sl_status sd_slabook_policy(sd_slabook *b, sl_db *db, int64_t deadline_ms, int64_t version,
                            const sd_sla_policy **out, sl_err *err);

/* Version (0: the newest the book has) as a message in arena a, with its
 * version and created_at_ms.  NOT_FOUND when the book does not have it
 * (sync first). */
sl_status sd_slabook_message(sd_slabook *b, int64_t version, sl_arena *a,
                             Shelfline__V1__SlaPolicy **out, sl_err *err);

/* The shortest target of prio and kind over every version the book has:
 * what a query may safely assume of a ticket of any version. */
int64_t sd_slabook_min_target_ms(sd_slabook *b, sd_priority prio, sd_sla_kind kind);

/* Stores policy (a canonical form from sd_slapol_validate) as the next
 * version unless it is the one in force, then answers the one in force
 * (its version and created_at_ms set) in arena a; the caller's audit
 * (actor, request and trace ids) is recorded with it.  One writer at a
 * time (an advisory lock).  Fails with the database's status. */
sl_status sd_slapol_store(sl_db *db, int64_t deadline_ms, const Shelfline__V1__SlaPolicy *policy,
                          sl_arena *a, Shelfline__V1__SlaPolicy **out, sl_err *err);

#endif
