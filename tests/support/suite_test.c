/*
 * suite_test: the four services on one database (see suite_test.h).
 */
#include "suite_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shelfline/v1/service_desk.pb-c.h"
#include "sl_health.h"
#include "sl_test.h"
#include "sl_testpg.h"

static const char *const spawn_bin[SUITET_NSPAWN] = {
    "shelfline-forecasting", "shelfline-customer-value", "shelfline-service-desk"};
static const char *const spawn_service[SUITET_NSPAWN] = {"shelfline.v1.ForecastingService",
                                                         "shelfline.v1.CustomerValueService",
                                                         "shelfline.v1.ServiceDeskService"};

static const char *const spawn_name[SUITET_NSPAWN] = {"forecasting", "customer-value",
                                                      "service-desk"};

/* Each service as its runtime role, which has DML on its schema only. */
static pid_t spawn(suitet *s, int k)
{
    char e[9][640];
    char *envp[10];
    int n = 0;
    const char *level = getenv("SUITET_LOG_LEVEL");
    char url[512];
    if (sl_testpg_runtime_url(s->inv.conninfo, spawn_name[k], url, sizeof url) != 0)
        return -1;
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", url);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_MIGRATE=verify");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LISTEN=127.0.0.1:%d", s->port[k]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_INVENTORY_ADDR=127.0.0.1:%d", s->inv.port[0]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_CUSTOMER_VALUE_ADDR=127.0.0.1:%d", s->port[SUITET_CV]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_SERVICE_DESK_ADDR=127.0.0.1:%d", s->port[SUITET_SD]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LOG_LEVEL=%s", level != NULL ? level : "error");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DRAIN_GRACE=5s");
    for (int i = 0; i < n; i++)
        envp[i] = e[i];
    envp[n] = NULL;
    char *bin = sl_test_bin(spawn_bin[k]);
    char *argv[] = {bin, NULL};
    pid_t p = sl_test_spawn(argv, envp);
    free(bin);
    return p;
}

static bool serving(sl_channel *c, const char *service)
{
    sl_arena *a = sl_arena_create(0);
    bool ok = false;
    for (int i = 0; i < 300 && !ok; i++) {
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        req.service = (char *)service;
        ProtobufCMessage *resp;
        sl_call_options o = {.timeout_ms = 2000};
        ok = sl_client_unary(c, "/grpc.health.v1.Health/Check", &req.base,
                             &grpc__health__v1__health_check_response__descriptor, a, &resp, &o,
                             NULL) == SL_OK &&
             (int)((Grpc__Health__V1__HealthCheckResponse *)resp)->status == (int)SL_HEALTH_SERVING;
        sl_arena_reset(a);
        if (!ok)
            invt_sleep_ms(100);
    }
    sl_arena_destroy(a);
    return ok;
}

int suitet_start(suitet *s, const char *name)
{
    memset(s, 0, sizeof *s);
    if (invt_start(&s->inv, name, 1, NULL) != 0)
        return -1;
    for (int k = 0; k < SUITET_NSPAWN; k++)
        s->port[k] = sl_test_free_port();
    for (int k = 0; k < SUITET_NSPAWN; k++) {
        if ((s->pid[k] = spawn(s, k)) <= 0 ||
            !sl_test_wait_child_port(s->pid[k], s->port[k], 30000))
            return -1;
        char t[64];
        snprintf(t, sizeof t, "127.0.0.1:%d", s->port[k]);
        if (sl_channel_create(t, NULL, &s->ch[k], NULL) != SL_OK)
            return -1;
    }
    for (int k = 0; k < SUITET_NSPAWN; k++)
        if (!serving(s->ch[k], spawn_service[k])) {
            fprintf(stderr, "%s is not SERVING\n", spawn_bin[k]);
            return -1;
        }
    return 0;
}

int suitet_stop(suitet *s)
{
    int bad = 0;
    for (int k = SUITET_NSPAWN - 1; k >= 0; k--) {
        if (s->ch[k] != NULL)
            sl_channel_destroy(s->ch[k]);
        s->ch[k] = NULL;
        int ws = s->pid[k] > 0 ? sl_test_stop(s->pid[k], SIGTERM, 15000) : 0;
        if (ws != 0) {
            fprintf(stderr, "%s did not exit cleanly (%d)\n", spawn_bin[k], ws);
            bad++;
        }
        s->pid[k] = 0;
    }
    bad += invt_stop(&s->inv);
    return bad;
}

int suitet_place_order(suitet *s, const char *order_id, const char *sku, int64_t qty)
{
    Shelfline__V1__PlaceOrderRequest o = SHELFLINE__V1__PLACE_ORDER_REQUEST__INIT;
    Shelfline__V1__OrderLineRequest l = SHELFLINE__V1__ORDER_LINE_REQUEST__INIT;
    Shelfline__V1__OrderLineRequest *lp = &l;
    l.sku = (char *)sku;
    l.qty = qty;
    o.order_id = (char *)order_id;
    o.customer_id = "cust-1";
    o.region = "EAST";
    o.lines = &lp;
    o.n_lines = 1;
    sl_arena *a = sl_arena_create(0);
    sl_err err;
    sl_status st = sl_test_call(s->ch[SUITET_SD], "ServiceDeskService", "PlaceOrder", &o.base,
                                &shelfline__v1__place_order_response__descriptor, a, NULL, 0, &err);
    sl_arena_destroy(a);
    if (st != SL_OK)
        fprintf(stderr, "PlaceOrder %s: %s\n", order_id, err.msg);
    return st == SL_OK ? 0 : -1;
}

char *suitet_fingerprint(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *t = PQexec(c, "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)"
                            " FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND"
                            " table_schema IN ('inventory', 'forecasting', 'customer_value',"
                            " 'service_desk') ORDER BY 1");
    assert_int_equal(PQresultStatus(t), PGRES_TUPLES_OK);
    assert_true(PQntuples(t) > 20);
    size_t cap = 160 * (size_t)PQntuples(t) + 1, len = 0;
    char *fp = malloc(cap);
    assert_non_null(fp);
    fp[0] = '\0';
    for (int i = 0; i < PQntuples(t); i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY"
                 " x::text), '')) FROM %s x",
                 PQgetvalue(t, i, 0));
        PGresult *r = PQexec(c, sql);
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        int n =
            snprintf(fp + len, cap - len, "%.100s=%s;", PQgetvalue(t, i, 0), PQgetvalue(r, 0, 0));
        assert_true(n > 0 && (size_t)n < cap - len);
        len += (size_t)n;
        PQclear(r);
    }
    PQclear(t);
    PQfinish(c);
    return fp;
}

char *suitet_settled_fingerprint(const char *conninfo)
{
    char *a = suitet_fingerprint(conninfo);
    for (int i = 0; i < 30; i++) {
        invt_sleep_ms(1000);
        char *b = suitet_fingerprint(conninfo);
        if (strcmp(a, b) == 0) {
            free(b);
            return a;
        }
        free(a);
        a = b;
    }
    fail_msg("the database did not settle within 30 s");
    return a;
}
