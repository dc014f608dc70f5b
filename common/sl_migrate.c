/*
 * sl_migrate: applies embedded migrations under an advisory lock, recording
 * each in <schema>.schema_migrations (see sl_migrate.h).
 */
#include "sl_migrate.h"
#include "sl_db_int.h"
#include "sl_log.h"
#include "sl_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

/* Component names in schema_migrations: the library's tables and the
 * service's own, so that their version numbers never collide. */
#define COMPONENT_COMMON "common"
#define COMPONENT_SERVICE "service"

const sl_db_stmt sl__migrate_stmts[] = {
    {"sl__migrate_lock",
     "SELECT pg_catalog.pg_advisory_lock(" SL__LOCK_CLASS_MIGRATE ", pg_catalog.hashtext($1))", 1},
    {"sl__migrate_unlock",
     "SELECT pg_catalog.pg_advisory_unlock(" SL__LOCK_CLASS_MIGRATE ", pg_catalog.hashtext($1))",
     1},
    /* A role's default statement_timeout must not cut a long migration, nor
     * the wait for another replica's. */
    {"sl__migrate_no_timeout",
     "SELECT pg_catalog.set_config('statement_timeout', '0', false), "
     "pg_catalog.set_config('lock_timeout', '0', false)",
     0},
    {"sl__migrate_table",
     "CREATE TABLE IF NOT EXISTS schema_migrations ("
     " component text NOT NULL,"
     " version integer NOT NULL,"
     " name text NOT NULL,"
     " checksum text NOT NULL,"
     " applied_at timestamptz NOT NULL DEFAULT now(),"
     " PRIMARY KEY (component, version))",
     0},
    /* Whether the schema and its history exist: when both do, migrating
     * needs no DDL (a runtime role without CREATE can start). */
    {"sl__migrate_exists",
     "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1), "
     "EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
     "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
     "WHERE n.nspname = $1 AND c.relname = 'schema_migrations')",
     1},
    {"sl__migrate_role",
     "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1::text), "
     "$1::text = CURRENT_USER::text",
     1},
    {"sl__migrate_applied",
     "SELECT version, name, checksum FROM schema_migrations WHERE component = $1 ORDER BY version",
     1},
    /* Checksums are computed by the server so that the client needs no hash
     * code; the text goes as binary bytea so no escaping is involved. */
    {"sl__migrate_checksum", "SELECT pg_catalog.encode(pg_catalog.sha256($1::bytea), 'hex')", 1},
    {"sl__migrate_record",
     "INSERT INTO schema_migrations (component, version, name, checksum) "
     "VALUES ($1, $2::integer, $3, pg_catalog.encode(pg_catalog.sha256($4::bytea), 'hex'))",
     4},
    {NULL, NULL, 0},
};

static sl_status check_list(const char *component, const sl_migration *list, sl_err *err)
{
    int prev = 0;
    for (const sl_migration *m = list; m != NULL && m->version != 0; m++) {
        if (m->name == NULL || m->name[0] == '\0' || m->sql == NULL)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "invalid %s migration %d: missing name or SQL", component,
                              m->version);
        if (m->version <= prev)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "invalid %s migration \"%s\": version %d does not follow %d",
                              component, m->name, m->version, prev);
        prev = m->version;
    }
    return SL_OK;
}

/* Line (1-based) of a 1-based character position in a UTF-8 script. */
static int line_of(const char *sql, long pos)
{
    int line = 1;
    long chars = 0;
    for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++) {
        if ((*p & 0xC0) != 0x80 && ++chars >= pos)
            break;
        if (*p == '\n')
            line++;
    }
    return line;
}

/* The server-side checksum of a migration's text into out (65 bytes). */
static sl_status checksum_of(sl_db_conn *c, const sl_migration *m, char *out, sl_err *err)
{
    PGresult *res = NULL;
    const char *v[1] = {m->sql};
    int len[1] = {(int)strlen(m->sql)};
    int fmt[1] = {1};
    sl_status st = sl_db_exec(c, "sl__migrate_checksum", 1, v, len, fmt, &res, err);
    if (st != SL_OK)
        return st;
    snprintf(out, 65, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return SL_OK;
}

/* Applies one migration in its own transaction with its record. */
static sl_status apply_one(sl_db_conn *c, const char *component, const sl_migration *m, sl_err *err)
{
    sl_status st;
    PGresult *res = NULL;
    PGconn *pg = sl_db_pgconn(c);
    const char *schema = sl_db_schema(sl_db_conn_db(c));

    st = sl_db_exec(c, "sl__db_begin_rc", 0, NULL, NULL, NULL, NULL, err);
    if (st != SL_OK)
        goto done;
    /* A migration is a script of several statements: the simple-query
     * protocol runs it as written.  It is compiled-in text, never built
     * from input, so the rule that SQL is prepared and parameterized does
     * not apply to it. */
    res = PQexec(pg, m->sql);
    ExecStatusType rs = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK && rs != PGRES_EMPTY_QUERY) {
        const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        const char *pos = res != NULL ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
        char why[256];
        snprintf(why, sizeof why, "%s", primary != NULL ? primary : PQerrorMessage(pg));
        why[strcspn(why, "\n")] = '\0';
        if (PQstatus(pg) != CONNECTION_OK)
            st = SL_UNAVAILABLE;
        else if (rs == PGRES_FATAL_ERROR && state != NULL)
            st = sl_db_status_from_sqlstate(state);
        else
            st = SL_INTERNAL;
        if (pos != NULL)
            sl_err_set(err, st, "could not apply migration \"%s\" at line %d: %s", m->name,
                       line_of(m->sql, strtol(pos, NULL, 10)), why);
        else
            sl_err_set(err, st, "could not apply migration \"%s\": %s", m->name, why);
        goto done;
    }
    if (PQtransactionStatus(pg) != PQTRANS_INTRANS) {
        st = sl_err_set(err, SL_FAILED_PRECONDITION,
                        "migration \"%s\" ended its transaction itself: migrations must not "
                        "contain COMMIT or ROLLBACK",
                        m->name);
        goto done;
    }
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *v[4] = {component, version, m->name, m->sql};
    int len[4] = {0, 0, 0, (int)strlen(m->sql)};
    int fmt[4] = {0, 0, 0, 1};
    st = sl_db_exec(c, "sl__migrate_record", 4, v, len, fmt, NULL, err);
    if (st != SL_OK)
        goto done;
    st = sl_db_exec(c, "sl__db_commit", 0, NULL, NULL, NULL, NULL, err);
    if (st != SL_OK)
        goto done;
    SL_LOG(SL_LOG_INFO, "migration_applied", NULL, "applied %s migration \"%s\" to schema \"%s\"",
           component, m->name, schema);
done:
    PQclear(res);
    if (st != SL_OK && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        sl_db_exec(c, "sl__db_rollback", 0, NULL, NULL, NULL, NULL, NULL);
    return st;
}

/* shelfline_db_migrations_applied_total counts what this process applied;
 * shelfline_db_migration_version is the schema's version afterwards, so a
 * replica left on an old binary shows by its version. */
static void count_migrations(const char *schema, const char *component, int applied, int version)
{
    static const char *const labels[] = {"schema", "component", NULL};
    const char *v[] = {schema, component};
    sl_metric_add(
        sl_metric_with(sl_metric_counter("shelfline_db_migrations_applied_total",
                                         "Schema migrations applied by this process.", labels),
                       v),
        applied);
    sl_metric_set(
        sl_metric_with(sl_metric_gauge("shelfline_db_migration_version",
                                       "The highest migration version of the schema.", labels),
                       v),
        version);
}

/* Checks the applied history of one component against list, then applies
 * what is pending, in order. */
static sl_status apply_component(sl_db_conn *c, const char *component, const sl_migration *list,
                                 bool apply, int *count, sl_err *err)
{
    sl_status st;
    PGresult *res = NULL;
    const char *schema = sl_db_schema(sl_db_conn_db(c));
    const char *v[1] = {component};
    int max_applied = 0;

    st = sl_db_exec(c, "sl__migrate_applied", 1, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        goto done;
    int nrows = PQntuples(res);
    for (int r = 0; r < nrows; r++) {
        int version = (int)strtol(PQgetvalue(res, r, 0), NULL, 10);
        const char *name = PQgetvalue(res, r, 1);
        const char *sum = PQgetvalue(res, r, 2);
        const sl_migration *m = list;
        while (m != NULL && m->version != 0 && m->version != version)
            m++;
        if (version > max_applied)
            max_applied = version;
        if (m == NULL || m->version == 0) {
            SL_LOG(SL_LOG_WARN, "migration_unknown", NULL,
                   "schema \"%s\" has %s migration \"%s\" that this binary does not know", schema,
                   component, name);
            continue;
        }
        if (strcmp(m->name, name) != 0) {
            st = sl_err_set(err, SL_FAILED_PRECONDITION,
                            "migration \"%s\" has version %d, which was applied as \"%s\"", m->name,
                            version, name);
            goto done;
        }
        char now[65];
        st = checksum_of(c, m, now, err);
        if (st != SL_OK)
            goto done;
        if (strcmp(now, sum) != 0) {
            st = sl_err_set(err, SL_FAILED_PRECONDITION,
                            "migration \"%s\" was changed after it was applied to schema \"%s\": "
                            "add a new migration instead of editing an applied one",
                            m->name, schema);
            goto done;
        }
    }
    for (const sl_migration *m = list; m != NULL && m->version != 0; m++) {
        bool applied = false;
        for (int r = 0; r < nrows && !applied; r++)
            applied = strtol(PQgetvalue(res, r, 0), NULL, 10) == m->version;
        if (!applied && m->version < max_applied) {
            st = sl_err_set(err, SL_FAILED_PRECONDITION,
                            "migration \"%s\" is older than version %d, already applied to "
                            "schema \"%s\": renumber it after the applied ones",
                            m->name, max_applied, schema);
            goto done;
        }
    }
    int applied = 0;
    for (const sl_migration *m = list; m != NULL && m->version != 0; m++) {
        if (m->version <= max_applied)
            continue;
        if (!apply) {
            st = sl_err_set(err, SL_FAILED_PRECONDITION,
                            "schema \"%s\" lacks %s migration \"%s\": run the service's migrate "
                            "command as the schema's owner",
                            schema, component, m->name);
            break;
        }
        st = apply_one(c, component, m, err);
        if (st != SL_OK)
            break;
        applied++;
        max_applied = m->version;
    }
    count_migrations(schema, component, applied, max_applied);
    *count += applied;
done:
    PQclear(res);
    return st;
}

/* Runs one utility statement (DDL takes no $n parameters: names are
 * quoted by the caller). */
static sl_status utility(sl_db_conn *c, const char *sql, const char *what, sl_err *err)
{
    PGconn *pg = sl_db_pgconn(c);
    PGresult *res = PQexec(pg, sql);
    sl_status st = SL_OK;
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        char why[256];
        snprintf(why, sizeof why, "%s", PQerrorMessage(pg));
        why[strcspn(why, "\n")] = '\0';
        st = sl_err_set(
            err, PQstatus(pg) != CONNECTION_OK ? SL_UNAVAILABLE : sl_db_status_from_sqlstate(state),
            "could not %s: %s", what, why);
    }
    PQclear(res);
    return st;
}

/* Two booleans of a one-row result. */
static sl_status two_flags(sl_db_conn *c, const char *stmt, const char *arg, bool *a, bool *b,
                           sl_err *err)
{
    PGresult *res = NULL;
    const char *v[1] = {arg};
    sl_status st = sl_db_exec(c, stmt, 1, v, NULL, NULL, &res, err);
    if (st != SL_OK)
        return st;
    *a = PQgetvalue(res, 0, 0)[0] == 't';
    *b = PQgetvalue(res, 0, 1)[0] == 't';
    PQclear(res);
    return SL_OK;
}

/* CREATE SCHEMA and schema_migrations when either is missing (never
 * otherwise: CREATE SCHEMA IF NOT EXISTS checks the CREATE right on the
 * database before it looks). */
static sl_status create_schema(sl_db_conn *c, const char *schema, const char *quoted,
                               bool verify_only, sl_err *err)
{
    bool have_schema, have_table;
    sl_status st = two_flags(c, "sl__migrate_exists", schema, &have_schema, &have_table, err);
    if (st != SL_OK || (have_schema && have_table))
        return st;
    if (verify_only)
        return sl_err_set(err, SL_FAILED_PRECONDITION,
                          "schema \"%s\" %s: run the service's migrate command as the schema's "
                          "owner",
                          schema, have_schema ? "has no schema_migrations" : "does not exist");
    if (!have_schema) {
        char ddl[256];
        snprintf(ddl, sizeof ddl, "CREATE SCHEMA IF NOT EXISTS %s", quoted);
        char what[160];
        snprintf(what, sizeof what, "create schema \"%s\"", schema);
        st = utility(c, ddl, what, err);
        if (st != SL_OK)
            return st;
    }
    return sl_db_exec(c, "sl__migrate_table", 0, NULL, NULL, NULL, NULL, err);
}

/* The runtime role's rights on the schema: DML, nothing more. */
static sl_status grant(sl_db_conn *c, const char *schema, const char *quoted, const char *role,
                       sl_err *err)
{
    bool exists, self;
    sl_status st = two_flags(c, "sl__migrate_role", role, &exists, &self, err);
    if (st != SL_OK)
        return st;
    if (!exists)
        return sl_err_set(err, SL_NOT_FOUND, "role \"%s\" does not exist", role);
    if (self)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "role \"%s\" is the role migrating (the owner): the runtime role must "
                          "be another",
                          role);
    PGconn *pg = sl_db_pgconn(c);
    char *qrole = PQescapeIdentifier(pg, role, strlen(role));
    if (qrole == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory quoting role \"%s\"", role);
    static const char *const forms[] = {
        "GRANT USAGE ON SCHEMA %s TO %s",
        "REVOKE CREATE ON SCHEMA %s FROM %s",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %s TO %s",
        "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA %s FROM %s",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %s TO %s",
    };
    char what[200];
    snprintf(what, sizeof what, "grant role \"%s\" its rights on schema \"%s\"", role, schema);
    st = sl_db_exec(c, "sl__db_begin_rc", 0, NULL, NULL, NULL, NULL, err);
    for (size_t i = 0; st == SL_OK && i < sizeof forms / sizeof forms[0]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql, forms[i], quoted, qrole);
        st = utility(c, sql, what, err);
    }
    if (st == SL_OK)
        st = sl_db_exec(c, "sl__db_commit", 0, NULL, NULL, NULL, NULL, err);
    else if (PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        sl_db_exec(c, "sl__db_rollback", 0, NULL, NULL, NULL, NULL, NULL);
    if (st == SL_OK)
        SL_LOG(SL_LOG_INFO, "migration_grant", NULL,
               "granted role \"%s\" DML on the tables of schema \"%s\"", role, schema);
    PQfreemem(qrole);
    return st;
}

sl_status sl_migrate_apply(sl_db *db, const sl_migration *migrations, sl_err *err)
{
    return sl_migrate_run(db, migrations, NULL, NULL, err);
}

sl_status sl_migrate_run(sl_db *db, const sl_migration *migrations, const sl_migrate_options *o,
                         int *applied, sl_err *err)
{
    static const sl_migrate_options defaults = {0};
    sl_status st;
    sl_db_conn *c = NULL;
    char *quoted = NULL;
    bool locked = false;
    int count = 0;
    const char *schema = sl_db_schema(db);
    const char *v[1] = {schema};

    if (o == NULL)
        o = &defaults;
    if (applied != NULL)
        *applied = 0;
    if (schema == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "migrations need a pool with a schema");
    st = check_list(COMPONENT_COMMON, common_migrations, err);
    if (st == SL_OK)
        st = check_list(COMPONENT_SERVICE, migrations, err);
    if (st != SL_OK)
        return st;

    /* Dedicated: the session lock must stay on one session from start to
     * end, and a pooled connection must not keep it afterwards. */
    st = sl_db_connect_dedicated(db, -1, &c, err);
    if (st != SL_OK)
        goto done;
    st = sl_db_exec(c, "sl__migrate_no_timeout", 0, NULL, NULL, NULL, NULL, err);
    if (st == SL_OK)
        st = sl_db_exec(c, "sl__migrate_lock", 1, v, NULL, NULL, NULL, err);
    if (st != SL_OK)
        goto done;
    locked = true;

    /* The name is quoted with libpq's quoting (which knows the
     * connection's encoding) for the utility statements, which take no $n
     * parameters.  It was also validated by sl_db_open to plain lower-case
     * identifier characters, so quoting is a second guard, not the only
     * one. */
    quoted = PQescapeIdentifier(sl_db_pgconn(c), schema, strlen(schema));
    if (quoted == NULL || strlen(quoted) > 128) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory quoting schema \"%s\"", schema);
        goto done;
    }
    st = create_schema(c, schema, quoted, o->verify_only, err);
    if (st == SL_OK)
        st = apply_component(c, COMPONENT_COMMON, common_migrations, !o->verify_only, &count, err);
    if (st == SL_OK)
        st = apply_component(c, COMPONENT_SERVICE, migrations, !o->verify_only, &count, err);
    if (st == SL_OK && o->grant_role != NULL)
        st = grant(c, schema, quoted, o->grant_role, err);

done:
    if (locked && st == SL_OK) {
        /* Closing the session would release the lock as well; unlocking
         * explicitly just lets the next replica in without waiting for the
         * backend to exit. */
        st = sl_db_exec(c, "sl__migrate_unlock", 1, v, NULL, NULL, NULL, err);
    }
    if (applied != NULL)
        *applied = count;
    PQfreemem(quoted);
    sl_db_close_dedicated(c);
    return st;
}
