/*
 * The database's least privilege (issue 14; docs/OPERATIONS.md "Database
 * roles"), on a private cluster whose roles this test alone creates:
 *  - deploy/README.md's setup, its SQL block run exactly as written, then
 *    `shelfline-<service> migrate --grant <runtime role>` as the owner for
 *    all four services, and the four services started as their runtime
 *    roles serve reads and writes (a stock receipt, a reservation, an
 *    order placed through service-desk);
 *  - each runtime role tries what it must not do and is refused: DDL in
 *    its schema, in public or a new schema; disabling, dropping or
 *    replacing the ledger's append-only trigger, or switching triggers off
 *    for its session; TRUNCATE; changing ledger rows; reading or writing
 *    another service's schema; becoming the owner;
 *  - a service whose schema is not migrated does not start as its runtime
 *    role (auto or verify), and does once the owner has migrated it;
 *  - migrate refuses to grant to itself or to a role that does not exist,
 *    and SHELFLINE_DATABASE_URL_FILE carries the URL in a file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inv_test.h"
#include "sl_test.h"
#include "sl_testpg.h"
#include "suite_test.h"

enum { INV, FC, CV, SD, NSVC };
static const char *const svc_name[NSVC] = {"inventory", "forecasting", "customer-value",
                                           "service-desk"};
static const char *const svc_role[NSVC] = {"shelfline_inventory", "shelfline_forecasting",
                                           "shelfline_customer_value", "shelfline_service_desk"};

typedef struct fixture {
    char dir[64];
    char admin[512]; /* superuser, database shelfline */
    char owner[512]; /* shelfline_owner */
    int port[NSVC];
    pid_t pid[NSVC];
} fixture;

static fixture F;

/* The ```sql block after the marker comment in deploy/README.md. */
static char *readme_sql(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/deploy/README.md", getenv("SHELFLINE_SOURCE_DIR"));
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    static char text[1 << 17];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *mark = strstr(text, "test_db_roles.c runs this block exactly as written");
    const char *open = mark != NULL ? strstr(mark, "```sql\n") : NULL;
    const char *close = open != NULL ? strstr(open + 7, "```") : NULL;
    if (close == NULL)
        return NULL;
    size_t len = (size_t)(close - (open + 7));
    char *sql = malloc(len + 1);
    memcpy(sql, open + 7, len);
    sql[len] = '\0';
    return sql;
}

/* Runs `shelfline-<svc> migrate [--grant role]` on url; its exit status. */
static int migrate(int k, const char *url, const char *role)
{
    char bin_name[64], env_url[640], grant[64];
    snprintf(bin_name, sizeof bin_name, "shelfline-%s", svc_name[k]);
    snprintf(env_url, sizeof env_url, "SHELFLINE_DATABASE_URL=%s", url);
    snprintf(grant, sizeof grant, "%s", role != NULL ? role : "");
    char *bin = sl_test_bin(bin_name);
    char *argv[] = {bin, "migrate", "--grant", grant, NULL};
    if (role == NULL)
        argv[2] = NULL;
    char *env[] = {env_url, "SHELFLINE_LOG_LEVEL=error", "SHELFLINE_DB_STARTUP_TIMEOUT=0s", NULL};
    pid_t pid = sl_test_spawn(argv, env);
    free(bin);
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static void role_url(const char *role, char *out, size_t cap)
{
    assert_int_equal(sl_testpg_conninfo_with(F.admin, "user", role, out, cap), 0);
}

/* Starts service k as its runtime role with the peers of the others. */
static pid_t start(int k, const char *url_env, const char *migrate_mode)
{
    char e[8][640];
    int n = 0;
    snprintf(e[n++], sizeof e[0], "%s", url_env);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LISTEN=127.0.0.1:%d", F.port[k]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", F.port[INV]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_CUSTOMER_VALUE_ADDR=127.0.0.1:%d", F.port[CV]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LOG_LEVEL=error");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_MIGRATE=%s", migrate_mode);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DB_STARTUP_TIMEOUT=0s");
    char *envp[9];
    for (int i = 0; i < n; i++)
        envp[i] = e[i];
    envp[n] = NULL;
    char bin_name[64];
    snprintf(bin_name, sizeof bin_name, "shelfline-%s", svc_name[k]);
    char *bin = sl_test_bin(bin_name);
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, envp);
    free(bin);
    return pid;
}

static int setup(void **state)
{
    (void)state;
    snprintf(F.dir, sizeof F.dir, "/tmp/sl_dbroles_XXXXXX");
    if (mkdtemp(F.dir) == NULL || sl_testpg_cluster_start(F.dir, F.admin, sizeof F.admin) != 0)
        return -1;
    for (int k = 0; k < NSVC; k++)
        F.port[k] = sl_test_free_port();
    return sl_testpg_conninfo_with(F.admin, "user", "shelfline_owner", F.owner, sizeof F.owner);
}

static int teardown(void **state)
{
    (void)state;
    for (int k = 0; k < NSVC; k++)
        if (F.pid[k] > 0)
            sl_test_stop(F.pid[k], SIGTERM, 15000);
    sl_test_kill_all();
    sl_testpg_cluster_destroy(F.dir);
    rmdir(F.dir);
    return 0;
}

/* SQL as role on the database: the SQLSTATE of its error, "" when it
 * succeeded (static storage). */
static const char *try_as(const char *role, const char *sql)
{
    static char state[8];
    char url[512];
    role_url(role, url, sizeof url);
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    ExecStatusType rs = PQresultStatus(r);
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(state, sizeof state, "%s",
             rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK ? "" : (s != NULL ? s : "?"));
    if (state[0] != '\0' && strcmp(state, "42501") != 0)
        fprintf(stderr, "  %s: %s -> %s %s", role, sql, state, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return state;
}

/* 1. The README's setup, then migrate as the owner, then the suite as the
 *    runtime roles serving writes. */
static void test_readme_setup_serves_as_runtime_roles(void **state)
{
    (void)state;
    char *sql = readme_sql();
    assert_non_null(sql);
    assert_int_equal(sl_testpg_exec(F.admin, sql), 0);
    free(sql);

    /* Before the owner migrated: the runtime role cannot create the
     * schema's tables, in either mode, and says what to do. */
    char url[512], env_url[640];
    role_url(svc_role[INV], url, sizeof url);
    snprintf(env_url, sizeof env_url, "SHELFLINE_DATABASE_URL=%s", url);
    const char *modes[] = {"auto", "verify"};
    for (int m = 0; m < 2; m++) {
        pid_t p = start(INV, env_url, modes[m]);
        int ws = sl_test_stop(p, 0, 30000);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 1);
    }

    /* migrate refuses nonsense grants and writes nothing for them. */
    assert_int_equal(migrate(INV, F.owner, "shelfline_owner"), 1);
    assert_int_equal(migrate(INV, F.owner, "no_such_role"), 1);
    /* The owner migrates each schema and grants its runtime role; a
     * second run finds nothing to do. */
    for (int k = 0; k < NSVC; k++) {
        assert_int_equal(migrate(k, F.owner, svc_role[k]), 0);
        assert_int_equal(migrate(k, F.owner, svc_role[k]), 0);
    }
    /* The runtime role finds nothing pending, and so needs no DDL. */
    role_url(svc_role[INV], url, sizeof url);
    assert_int_equal(migrate(INV, url, NULL), 0);

    /* The four services as their runtime roles; service-desk reads its
     * URL from a file (SHELFLINE_DATABASE_URL_FILE). */
    char file[128];
    snprintf(file, sizeof file, "%s/sd.url", F.dir);
    char sd_url[512];
    role_url(svc_role[SD], sd_url, sizeof sd_url);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", sd_url);
    fclose(f);
    for (int k = 0; k < NSVC; k++) {
        if (k == SD) {
            snprintf(env_url, sizeof env_url, "SHELFLINE_DATABASE_URL_FILE=%s", file);
        } else {
            role_url(svc_role[k], url, sizeof url);
            snprintf(env_url, sizeof env_url, "SHELFLINE_DATABASE_URL=%s", url);
        }
        /* Inventory verifies, the others start in auto mode: neither
         * needs CREATE against an up-to-date schema. */
        F.pid[k] = start(k, env_url, k == INV ? "verify" : "auto");
        assert_true(sl_test_wait_child_port(F.pid[k], F.port[k], 30000));
    }
    suitet s;
    memset(&s, 0, sizeof s);
    s.ch[SUITET_SD] = sl_test_channel(F.port[SD]);
    sl_channel *inv = sl_test_channel(F.port[INV]);
    for (int k = 0; k < NSVC; k++) {
        sl_channel *c = sl_test_channel(F.port[k]);
        assert_true(sl_test_wait_serving(c, 30000));
        sl_channel_destroy(c);
    }
    const char *skus[] = {"ROLE-1"};
    assert_int_equal(invt_seed(inv, skus, 1), 0);
    assert_int_equal(invt_stock(inv, "ROLE-1", "W-NEAR", 5), 0);
    assert_int_equal(suitet_place_order(&s, "role-order-1", "ROLE-1", 2), 0);
    assert_int_equal(invt_sql_int(F.admin, "SELECT count(*) FROM inventory.reservation"), 1);
    assert_int_equal(invt_sql_int(F.admin, "SELECT count(*) FROM service_desk.orders"), 1);
    assert_true(invt_sql_int(F.admin, "SELECT count(*) FROM inventory.ledger") >= 1);
    sl_channel_destroy(inv);
    sl_channel_destroy(s.ch[SUITET_SD]);
    for (int k = NSVC - 1; k >= 0; k--) {
        assert_int_equal(sl_test_stop(F.pid[k], SIGTERM, 15000), 0);
        F.pid[k] = 0;
    }
}

/* 2. What each runtime role must not do (after test 1's setup). */
static void test_runtime_roles_are_refused(void **state)
{
    (void)state;
    const char *inv = svc_role[INV];
    /* DDL anywhere. */
    assert_string_equal(try_as(inv, "CREATE TABLE inventory.x (id int)"), "42501");
    assert_string_equal(try_as(inv, "CREATE TABLE public.x (id int)"), "42501");
    assert_string_equal(try_as(inv, "CREATE SCHEMA evil"), "42501");
    assert_string_equal(try_as(inv, "CREATE INDEX ON inventory.ledger (delta)"), "42501");
    assert_string_equal(try_as(inv, "ALTER TABLE inventory.stock ADD COLUMN x int"), "42501");
    assert_string_equal(try_as(inv, "DROP TABLE inventory.reservation"), "42501");
    /* The ledger's append-only trigger stays. */
    assert_string_equal(
        try_as(inv, "ALTER TABLE inventory.ledger DISABLE TRIGGER ledger_append_only"), "42501");
    assert_string_equal(try_as(inv, "ALTER TABLE inventory.ledger DISABLE TRIGGER ALL"), "42501");
    assert_string_equal(try_as(inv, "DROP TRIGGER ledger_append_only ON inventory.ledger"),
                        "42501");
    assert_string_equal(try_as(inv, "DROP FUNCTION inventory.ledger_append_only() CASCADE"),
                        "42501");
    assert_string_equal(try_as(inv, "CREATE OR REPLACE FUNCTION inventory.ledger_append_only() "
                                    "RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; "
                                    "END$$"),
                        "42501");
    assert_string_equal(try_as(inv, "SET session_replication_role = replica"), "42501");
    assert_string_equal(try_as(inv, "TRUNCATE inventory.ledger"), "42501");
    assert_string_equal(try_as(inv, "SET ROLE shelfline_owner"), "42501");
    assert_string_equal(try_as(inv, "GRANT shelfline_owner TO shelfline_inventory"), "42501");
    /* Its rows are append-only whatever the role may do (test 1 wrote
     * some: an UPDATE of no rows would fire no row trigger). */
    assert_true(invt_sql_int(F.admin, "SELECT count(*) FROM inventory.ledger") >= 1);
    assert_string_equal(try_as(inv, "UPDATE inventory.ledger SET delta = delta + 1"), "23001");
    assert_string_equal(try_as(inv, "DELETE FROM inventory.ledger"), "23001");
    /* Other services' schemas are closed to it, and its to them. */
    assert_string_equal(try_as(inv, "SELECT count(*) FROM service_desk.orders"), "42501");
    assert_string_equal(try_as(inv, "DELETE FROM customer_value.customer"), "42501");
    assert_string_equal(try_as(svc_role[SD], "SELECT count(*) FROM inventory.stock"), "42501");
    assert_string_equal(try_as(svc_role[FC], "UPDATE inventory.stock SET on_hand = 0"), "42501");
    assert_string_equal(try_as(svc_role[CV], "SELECT count(*) FROM forecasting.schema_migrations"),
                        "42501");
    /* What it needs works: DML on its own tables. */
    assert_string_equal(try_as(inv, "SELECT count(*) FROM inventory.ledger"), "");
    assert_string_equal(try_as(svc_role[SD], "UPDATE service_desk.orders SET region = region"), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_setup_serves_as_runtime_roles),
        cmocka_unit_test(test_runtime_roles_are_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
