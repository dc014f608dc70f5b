/*
 * sl_testpg: PostgreSQL for integration tests.
 *
 * The server is the ctest fixture's cluster (its port in
 * $SHELFLINE_TEST_PG_DIR/port, database "shelfline", user "postgres" when
 * running as root, else the current user) or the one SHELFLINE_DATABASE_URL
 * names.  Each test makes its own databases so tests can run in parallel.
 */
#ifndef SL_TESTPG_H
#define SL_TESTPG_H

#include <stddef.h>

#include "sl_db.h"

/* A libpq URL of the test server with rights to create databases, or NULL
 * (with a message on stderr) when neither source is available.  Static
 * storage, computed on first use; not thread-safe on that first call. */
const char *sl_testpg_admin_url(void);

/* Drops (if present) and creates database "<name>_<pid>" and writes a
 * connection string for it into conninfo.  Returns 0, or -1 with a message
 * on stderr. */
int sl_testpg_fresh_db(const char *name, char *conninfo, size_t cap);

/* sl_testpg_fresh_db with CREATE DATABASE options (e.g. a collation:
 * "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"). */
int sl_testpg_fresh_db_with(const char *name, const char *options, char *conninfo, size_t cap);

/* A fresh database (as sl_testpg_fresh_db) and a pool on it with the given
 * schema and size; conninfo (may be NULL) receives its connection string.
 * Returns NULL with a message on stderr on failure.  The caller owns the
 * pool (sl_db_close). */
sl_db *sl_testpg_open(const char *name, const char *schema, int pool_size, char *conninfo,
                      size_t cap);

/* Runs one SQL string (setup DDL in tests) on a short-lived connection to
 * conninfo; returns 0 or -1 with the error on stderr. */
int sl_testpg_exec(const char *conninfo, const char *sql);

/* conninfo base with key's value replaced or added ("user", "dbname"),
 * as key='value' pairs.  Returns 0, or -1 with a message on stderr. */
int sl_testpg_conninfo_with(const char *base, const char *key, const char *value, char *out,
                            size_t cap);

/* The service's runtime role on conninfo's database, as production runs
 * it (docs/OPERATIONS.md, "Database roles"): creates role
 * "shelfline_<service>_rt" (service "customer-value" -> customer_value) if
 * the cluster lacks it, runs `shelfline-<service> migrate --grant <role>`
 * as conninfo's (owner) user, and writes conninfo with that role as user
 * into out.  Returns 0, or -1 with a message on stderr. */
int sl_testpg_runtime_url(const char *conninfo, const char *service, char *out, size_t cap);

/* Drops a database made by sl_testpg_fresh_db (forcing other sessions
 * off).  Returns 0 or -1. */
int sl_testpg_drop_db(const char *name);

/* A private cluster for tests that stop and restart the server, made with
 * deploy/local/pg.sh in dir.  start creates and starts it and writes its
 * conninfo ("shelfline" database); restart stops it (fast shutdown) and
 * starts it again on the same port, sleeping down_ms in between; stop
 * and destroy as pg.sh.  Return 0 or -1. */
int sl_testpg_cluster_start(const char *dir, char *conninfo, size_t cap);
int sl_testpg_cluster_stop(const char *dir);
int sl_testpg_cluster_start_again(const char *dir);
int sl_testpg_cluster_destroy(const char *dir);

#endif
