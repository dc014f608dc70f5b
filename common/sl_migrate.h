/*
 * sl_migrate: versioned SQL migrations of a service's schema, applied at
 * start-up so that any number of replicas starting together are safe.
 *
 * A service's migrations are files services/<svc>/migrations/NNNN_name.sql,
 * compiled into the binary by shelfline_embed_migrations (CMake), which
 * emits `const sl_migration <schema>_migrations[]` ending with a version-0
 * row.  The library's own tables (the outbox and consumer cursors, see
 * sl_outbox.h and sl_cursor.h) come the same way from common/migrations as
 * common_migrations, and are applied first into every service schema.
 *
 * sl_migrate_apply, on a dedicated connection:
 *  1. takes a session advisory lock keyed on the schema -- replicas queue
 *     here, and the first one does the work while the others then find
 *     nothing left to do; the lock dies with the connection if the process
 *     does;
 *  2. creates the schema and its schema_migrations table if missing;
 *  3. for the common component, then the service's: refuses
 *     (FAILED_PRECONDITION, naming the file) when an applied migration's
 *     text or name changed, or when an unapplied one is older than the
 *     newest applied (a merge that reordered history); then applies each
 *     pending migration in version order, each in its own transaction
 *     together with its row in schema_migrations, so a failure leaves
 *     exactly the earlier ones applied.
 * Applied versions the binary does not know (a newer replica ran them
 * during a rolling upgrade) are logged and left alone.
 *
 * Least privilege (docs/OPERATIONS.md "Database roles"): an up-to-date
 * schema needs no DDL at all -- step 2 is skipped when the schema and its
 * schema_migrations table exist, so a service whose role has only DML on
 * its schema starts against it.  sl_migrate_run's verify mode writes
 * nothing and refuses a schema with a pending migration; its grant_role
 * gives a runtime role exactly the DML on the schema's tables and
 * sequences, after migrating, as the owner.
 *
 * Migration files run as one multi-statement script inside that
 * transaction, with search_path = the schema: they create unqualified names
 * and must not contain transaction control (BEGIN, COMMIT) or statements
 * that cannot run in a transaction (CREATE INDEX CONCURRENTLY).
 */
#ifndef SL_MIGRATE_H
#define SL_MIGRATE_H

#include <stdbool.h>

#include "sl_db.h"
#include "sl_status.h"

typedef struct sl_migration {
    int version;      /* > 0, strictly increasing; 0 ends the array */
    const char *name; /* the file name, e.g. "0001_init.sql" */
    const char *sql;
} sl_migration;

/* The library's migrations (generated from common/migrations). */
extern const sl_migration common_migrations[];

/* Brings db's schema up to date: common_migrations, then migrations (may be
 * NULL for none), as described above.  db must have a schema.  Blocks while
 * another process migrates the same schema.
 * Errors: INVALID_ARGUMENT for a malformed array (versions not increasing,
 * missing name or SQL); FAILED_PRECONDITION for an edited or out-of-order
 * migration, or one that committed by itself; UNAVAILABLE when the server
 * cannot be reached; a migration's own SQL error as its SQLSTATE's status,
 * with the file name and line in the message. */
sl_status sl_migrate_apply(sl_db *db, const sl_migration *migrations, sl_err *err);

typedef struct sl_migrate_options {
    /* Write nothing: FAILED_PRECONDITION when the schema is missing or a
     * migration is pending (run the migrate command as the owner). */
    bool verify_only;
    /* After migrating, GRANT this role USAGE on the schema, SELECT,
     * INSERT, UPDATE and DELETE on all its tables (not TRUNCATE, REFERENCES
     * or TRIGGER) and USAGE, SELECT, UPDATE on its sequences; REVOKE CREATE
     * on the schema.  NULL: no grant.  Refused (INVALID_ARGUMENT) when it
     * names the connecting role itself, or a role that does not exist
     * (NOT_FOUND). */
    const char *grant_role;
} sl_migrate_options;

/* sl_migrate_apply with options (o may be NULL: apply, no grant).  Sets
 * *applied (may be NULL) to the number of migrations applied. */
sl_status sl_migrate_run(sl_db *db, const sl_migration *migrations, const sl_migrate_options *o,
                         int *applied, sl_err *err);

#endif
