/*
 * Roles from client certificates (SHELFLINE_MTLS_ROLES_FILE) on a real
 * shelfline-inventory process under mTLS, with no JWT key: certificates
 * made for the test (deploy/local/tls-certs.sh, identities
 * spiffe://shelfline/NAME):
 *  - a certificate mapped to stock-admin seeds the network and writes off
 *    stock, and the ledger's actor is the certificate's identity;
 *  - one mapped to cs-agent reads availability and the ledger, and is
 *    refused AdjustStock (PERMISSION_DENIED naming the role);
 *  - a certificate of the trusted CA that the file does not list, and a
 *    bearer token where no JWT key is configured, are UNAUTHENTICATED;
 *  - the file is re-read when it changes (the agent gains stock-admin), and
 *    an invalid new version keeps the previous roles;
 *  - start-up refuses a roles file without mTLS, an unknown role, and a
 *    roles file together with SHELFLINE_AUTH=none (exit 2).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inv_test.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_client.h"
#include "sl_test.h"
#include "sl_testpg.h"

typedef struct fixture {
    char dir[64];
    char roles[128];
    char conninfo[512];
    char runtime[512];
    int port;
    pid_t pid;
    sl_channel *admin, *agent, *stranger;
    sl_arena *a;
} fixture;

static fixture F;

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void write_roles(const char *text)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", F.roles);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    /* Replaced whole, as a ConfigMap update does. */
    assert_int_equal(rename(tmp, F.roles), 0);
}

/* Starts inventory with mTLS and the given extra variables; its pid. */
static pid_t start(const char *const *extra)
{
    char e[12][640];
    int n = 0;
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", F.runtime);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LISTEN=127.0.0.1:%d", F.port);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LOG_LEVEL=error");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_TLS_CERT_FILE=%s/server.pem", F.dir);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_TLS_KEY_FILE=%s/server.key", F.dir);
    for (int i = 0; extra != NULL && extra[i] != NULL; i++)
        snprintf(e[n++], sizeof e[0], "%s", extra[i]);
    char *envp[13];
    for (int i = 0; i < n; i++)
        envp[i] = e[i];
    envp[n] = NULL;
    char *bin = sl_test_bin("shelfline-inventory");
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, envp);
    free(bin);
    return pid;
}

static sl_channel *channel_as(const char *name)
{
    char target[64], cert[128], key[128], ca[128];
    snprintf(target, sizeof target, "127.0.0.1:%d", F.port);
    snprintf(ca, sizeof ca, "%s/ca.pem", F.dir);
    snprintf(cert, sizeof cert, "%s/%s.pem", F.dir, name);
    snprintf(key, sizeof key, "%s/%s.key", F.dir, name);
    sl_channel_options o = {.tls_ca_file = ca, .tls_cert_file = cert, .tls_key_file = key};
    sl_channel *ch = NULL;
    sl_err err;
    return sl_channel_create(target, &o, &ch, &err) == SL_OK ? ch : NULL;
}

static int setup(void **state)
{
    (void)state;
    snprintf(F.dir, sizeof F.dir, "/tmp/shelfline-mtls-XXXXXX");
    if (mkdtemp(F.dir) == NULL)
        return -1;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s/deploy/local/tls-certs.sh %s admin-tool cs-tool stranger >/dev/null",
             getenv("SHELFLINE_SOURCE_DIR"), F.dir);
    if (run(cmd) != 0)
        return -1;
    snprintf(F.roles, sizeof F.roles, "%s/roles", F.dir);
    if (sl_testpg_fresh_db("mtls_roles", F.conninfo, sizeof F.conninfo) != 0 ||
        sl_testpg_runtime_url(F.conninfo, "inventory", F.runtime, sizeof F.runtime) != 0)
        return -1;
    F.port = sl_test_free_port();
    F.a = sl_arena_create(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sl_channel_destroy(F.admin);
    sl_channel_destroy(F.agent);
    sl_channel_destroy(F.stranger);
    int bad = F.pid > 0 && sl_test_stop(F.pid, SIGTERM, 15000) != 0;
    sl_test_kill_all();
    sl_testpg_drop_db("mtls_roles");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", F.dir);
    run(cmd);
    sl_arena_destroy(F.a);
    return bad ? -1 : 0;
}

static Shelfline__V1__AdjustStockRequest write_off(const char *id)
{
    Shelfline__V1__AdjustStockRequest r = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    r.request_id = (char *)id;
    r.sku = "MTLS-1";
    r.warehouse_id = "W-NEAR";
    r.delta = -1;
    r.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__SHRINKAGE;
    return r;
}

static sl_status adjust(sl_channel *ch, const char *id, const char *auth, sl_err *err)
{
    Shelfline__V1__AdjustStockRequest r = write_off(id);
    Shelfline__V1__AdjustStockResponse *resp;
    sl_call_options o = {.authorization = auth, .timeout_ms = 10000};
    return sl_client_unary(ch, "/shelfline.v1.InventoryService/AdjustStock", &r.base,
                           &shelfline__v1__adjust_stock_response__descriptor, F.a,
                           (ProtobufCMessage **)&resp, &o, err);
}

static void test_certificate_identities_carry_their_roles(void **state)
{
    (void)state;
    write_roles("# identities of the test's certificates\n"
                "spiffe://shelfline/admin-tool   stock-admin, planner\n"
                "\n"
                "spiffe://shelfline/cs-tool cs-agent  # the console\n");
    char roles_env[200], ca_env[200];
    snprintf(roles_env, sizeof roles_env, "SHELFLINE_MTLS_ROLES_FILE=%s", F.roles);
    snprintf(ca_env, sizeof ca_env, "SHELFLINE_TLS_CLIENT_CA_FILE=%s/ca.pem", F.dir);
    const char *env[] = {roles_env, ca_env, NULL};
    F.pid = start(env);
    assert_true(sl_test_wait_child_port(F.pid, F.port, 30000));
    F.admin = channel_as("admin-tool");
    F.agent = channel_as("cs-tool");
    F.stranger = channel_as("stranger");
    assert_non_null(F.admin);
    assert_true(sl_test_wait_serving(F.admin, 30000));

    /* stock-admin: the network, a receipt, a write-off. */
    const char *skus[] = {"MTLS-1"};
    assert_int_equal(invt_seed(F.admin, skus, 1), 0);
    assert_int_equal(invt_stock(F.admin, "MTLS-1", "W-NEAR", 10), 0);
    sl_err err;
    assert_int_equal(adjust(F.admin, "admin-write-off", NULL, &err), SL_OK);
    assert_int_equal(invt_sql_int(F.conninfo, "SELECT count(*) FROM inventory.ledger WHERE "
                                              "reference = 'admin-write-off' AND actor = "
                                              "'spiffe://shelfline/admin-tool'"),
                     1);

    /* cs-agent: reads, and no write-off. */
    Shelfline__V1__ListLedgerRequest lr = SHELFLINE__V1__LIST_LEDGER_REQUEST__INIT;
    lr.sku = "MTLS-1";
    Shelfline__V1__ListLedgerResponse *page;
    assert_int_equal(invt_call(F.agent, "ListLedger", &lr.base,
                               &shelfline__v1__list_ledger_response__descriptor, F.a, &page, &err),
                     SL_OK);
    assert_string_equal(page->entries[0]->actor, "spiffe://shelfline/admin-tool");
    assert_int_equal(adjust(F.agent, "agent-write-off", NULL, &err), SL_PERMISSION_DENIED);
    if (strstr(err.msg, "stock-admin") == NULL)
        fail_msg("refusal does not name the role: %s", err.msg);

    /* Unlisted certificate; a bearer token with no JWT key configured. */
    assert_int_equal(adjust(F.stranger, "stranger-write-off", NULL, &err), SL_UNAUTHENTICATED);
    if (strstr(err.msg, "spiffe://shelfline/stranger") == NULL)
        fail_msg("refusal does not name the identity: %s", err.msg);
    assert_int_equal(adjust(F.agent, "bearer-write-off", "Bearer x.y.z", &err), SL_UNAUTHENTICATED);
    assert_int_equal(invt_sql_int(F.conninfo, "SELECT count(*) FROM inventory.ledger WHERE "
                                              "reference IN ('agent-write-off', "
                                              "'stranger-write-off', 'bearer-write-off')"),
                     0);
}

static void test_roles_file_is_reread(void **state)
{
    (void)state;
    sl_err err;
    /* An invalid version is ignored: the agent keeps cs-agent only. */
    invt_sleep_ms(1100);
    write_roles("spiffe://shelfline/admin-tool stock-admin\n"
                "spiffe://shelfline/cs-tool cs-agent,root\n");
    invt_sleep_ms(1100);
    assert_int_equal(adjust(F.agent, "agent-write-off-2", NULL, &err), SL_PERMISSION_DENIED);
    assert_int_equal(adjust(F.admin, "admin-write-off-2", NULL, &err), SL_OK);
    /* A valid one takes effect without a restart. */
    write_roles("spiffe://shelfline/admin-tool stock-admin\n"
                "spiffe://shelfline/cs-tool cs-agent,stock-admin\n");
    sl_status st = SL_UNKNOWN;
    for (int i = 0; i < 40 && st != SL_OK; i++) {
        st = adjust(F.agent, "agent-write-off-3", NULL, &err);
        if (st != SL_OK)
            invt_sleep_ms(100);
    }
    assert_int_equal(st, SL_OK);
    assert_int_equal(invt_sql_int(F.conninfo, "SELECT count(*) FROM inventory.ledger WHERE "
                                              "reference = 'agent-write-off-3' AND actor = "
                                              "'spiffe://shelfline/cs-tool'"),
                     1);
}

static void test_bad_configurations_refuse_to_start(void **state)
{
    (void)state;
    char roles_env[200], ca_env[200], bad_env[200];
    snprintf(roles_env, sizeof roles_env, "SHELFLINE_MTLS_ROLES_FILE=%s", F.roles);
    snprintf(ca_env, sizeof ca_env, "SHELFLINE_TLS_CLIENT_CA_FILE=%s/ca.pem", F.dir);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad-roles", F.dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("spiffe://shelfline/x warehouse-king\n", f);
    fclose(f);
    snprintf(bad_env, sizeof bad_env, "SHELFLINE_MTLS_ROLES_FILE=%s", bad);
    const char *no_mtls[] = {roles_env, NULL};
    const char *unknown_role[] = {bad_env, ca_env, NULL};
    const char *with_none[] = {roles_env, ca_env, "SHELFLINE_AUTH=none", NULL};
    const char *const *cases[] = {no_mtls, unknown_role, with_none};
    int port = F.port;
    F.port = sl_test_free_port();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pid_t p = start(cases[i]);
        int ws = sl_test_stop(p, 0, 20000);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 2);
    }
    F.port = port;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_certificate_identities_carry_their_roles),
        cmocka_unit_test(test_roles_file_is_reread),
        cmocka_unit_test(test_bad_configurations_refuse_to_start),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
