/*
 * inv_test: inventory integration-test helpers (see inv_test.h).
 */
#include "inv_test.h"

#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "sl_arena.h"
#include "sl_health.h"
#include "sl_test.h"
#include "sl_testpg.h"

int64_t invt_now_ms(void)
{
    return sl_test_now_ms();
}

void invt_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static pid_t spawn(invt_svc *s, int i, const char *const *env)
{
    char e[16][640];
    char *envp[17];
    int n = 0;
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DATABASE_URL=%s", s->runtime_conninfo);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_MIGRATE=verify");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LISTEN=127.0.0.1:%d", s->port[i]);
    snprintf(e[n++], sizeof e[0], "SHELFLINE_LOG_LEVEL=%s",
             getenv("INVT_LOG_LEVEL") != NULL ? getenv("INVT_LOG_LEVEL") : "error");
    snprintf(e[n++], sizeof e[0], "SHELFLINE_DRAIN_GRACE=5s");
    for (int k = 0; env != NULL && env[k] != NULL && n < 16; k++)
        snprintf(e[n++], sizeof e[0], "%s", env[k]);
    for (int k = 0; k < n; k++)
        envp[k] = e[k];
    envp[n] = NULL;
    char *bin = sl_test_bin("shelfline-inventory");
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, envp);
    free(bin);
    return pid;
}

static int health_ok(sl_channel *ch)
{
    sl_arena *a = sl_arena_create(0);
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = "shelfline.v1.InventoryService";
    ProtobufCMessage *resp;
    sl_err err;
    sl_call_options o = {.timeout_ms = 2000};
    int ok = sl_client_unary(ch, "/grpc.health.v1.Health/Check", &req.base,
                             &grpc__health__v1__health_check_response__descriptor, a, &resp, &o,
                             &err) == SL_OK &&
             (int)((Grpc__Health__V1__HealthCheckResponse *)resp)->status == (int)SL_HEALTH_SERVING;
    sl_arena_destroy(a);
    return ok;
}

static int wait_up(invt_svc *s, int i)
{
    if (!sl_test_wait_port(s->port[i], 30000)) {
        fprintf(stderr, "inventory process %d did not listen\n", i);
        return -1;
    }
    if (s->ch[i] == NULL) {
        char target[64];
        snprintf(target, sizeof target, "127.0.0.1:%d", s->port[i]);
        sl_err err;
        if (sl_channel_create(target, NULL, &s->ch[i], &err) != SL_OK)
            return -1;
    }
    for (int k = 0; k < 100; k++) {
        if (health_ok(s->ch[i]))
            return 0;
        invt_sleep_ms(100);
    }
    fprintf(stderr, "inventory process %d is not SERVING\n", i);
    return -1;
}

int invt_start(invt_svc *s, const char *name, int nproc, const char *const *env)
{
    return invt_start_on(s, name, "", nproc, env);
}

int invt_start_on(invt_svc *s, const char *name, const char *db_options, int nproc,
                  const char *const *env)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dbname, sizeof s->dbname, "%s", name);
    if (sl_testpg_fresh_db_with(name, db_options, s->conninfo, sizeof s->conninfo) != 0 ||
        sl_testpg_runtime_url(s->conninfo, "inventory", s->runtime_conninfo,
                              sizeof s->runtime_conninfo) != 0)
        return -1;
    s->nproc = nproc;
    for (int i = 0; i < nproc; i++) {
        s->port[i] = sl_test_free_port();
        s->pid[i] = spawn(s, i, env);
        if (s->pid[i] <= 0)
            return -1;
    }
    for (int i = 0; i < nproc; i++)
        if (wait_up(s, i) != 0)
            return -1;
    return 0;
}

int invt_restart(invt_svc *s, int i, const char *const *env)
{
    /* A fresh channel: the old one's reconnect backoff grew while the
     * process was down and could outlast the wait below. */
    sl_channel_destroy(s->ch[i]);
    s->ch[i] = NULL;
    s->pid[i] = spawn(s, i, env);
    return s->pid[i] > 0 ? wait_up(s, i) : -1;
}

int invt_stop(invt_svc *s)
{
    int bad = 0;
    for (int i = 0; i < s->nproc; i++) {
        if (s->pid[i] > 0) {
            int status = sl_test_stop(s->pid[i], SIGTERM, 30000);
            if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "inventory process %d did not exit cleanly (%d)\n", i, status);
                bad++;
            }
            s->pid[i] = 0;
        }
        sl_channel_destroy(s->ch[i]);
        s->ch[i] = NULL;
    }
    sl_testpg_drop_db(s->dbname);
    return bad;
}

sl_status invt_call(sl_channel *ch, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp_desc, sl_arena *a, void *resp_out,
                    sl_err *err)
{
    return sl_test_call(ch, "InventoryService", method, req, resp_desc, a, resp_out, 0, err);
}

static int must(sl_status st, const sl_err *err, const char *what)
{
    if (st == SL_OK || st == SL_ALREADY_EXISTS)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, sl_status_name(st), err->msg);
    return -1;
}

int invt_seed(sl_channel *ch, const char *const *skus, int nskus)
{
    sl_arena *a = sl_arena_create(0);
    sl_err err;
    int rc = 0;
    struct {
        const char *id;
        Shelfline__V1__Warehouse__Kind kind;
        int east50, east90, west50, west90;
    } whs[] = {
        {"W-NEAR", SHELFLINE__V1__WAREHOUSE__KIND__DISTRIBUTION_CENTER, 1, 2, 4, 6},
        {"W-MID", SHELFLINE__V1__WAREHOUSE__KIND__STORE, 2, 3, 2, 3},
        {"W-FAR", SHELFLINE__V1__WAREHOUSE__KIND__THIRD_PARTY_LOGISTICS, 5, 7, 1, 1},
    };
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        Shelfline__V1__Warehouse w = SHELFLINE__V1__WAREHOUSE__INIT;
        w.warehouse_id = (char *)whs[i].id;
        w.name = (char *)whs[i].id;
        w.region = i == 2 ? "WEST" : "EAST";
        w.kind = whs[i].kind;
        w.location = "test";
        w.time_zone = "America/New_York";
        w.ship_cutoff = "16:00";
        w.active = true;
        Shelfline__V1__CreateWarehouseRequest r = SHELFLINE__V1__CREATE_WAREHOUSE_REQUEST__INIT;
        r.warehouse = &w;
        rc = must(invt_call(ch, "CreateWarehouse", &r.base, &shelfline__v1__warehouse__descriptor,
                            a, NULL, &err),
                  &err, "CreateWarehouse");
        const char *regions[2] = {"EAST", "WEST"};
        int p50[2] = {whs[i].east50, whs[i].west50}, p90[2] = {whs[i].east90, whs[i].west90};
        for (int k = 0; k < 2 && rc == 0; k++) {
            Shelfline__V1__TransitTime t = SHELFLINE__V1__TRANSIT_TIME__INIT;
            t.warehouse_id = (char *)whs[i].id;
            t.region = (char *)regions[k];
            t.p50_days = p50[k];
            t.p90_days = p90[k];
            Shelfline__V1__CreateTransitTimeRequest tr =
                SHELFLINE__V1__CREATE_TRANSIT_TIME_REQUEST__INIT;
            tr.transit_time = &t;
            rc = must(invt_call(ch, "CreateTransitTime", &tr.base,
                                &shelfline__v1__transit_time__descriptor, a, NULL, &err),
                      &err, "CreateTransitTime");
        }
        sl_arena_reset(a);
    }
    for (int i = 0; i < nskus && rc == 0; i++) {
        Shelfline__V1__Money m = SHELFLINE__V1__MONEY__INIT;
        m.minor_units = 1000;
        m.currency = "USD";
        Shelfline__V1__Product p = SHELFLINE__V1__PRODUCT__INIT;
        p.sku = (char *)skus[i];
        p.name = (char *)skus[i];
        p.category = "test";
        p.price = &m;
        Shelfline__V1__CreateProductRequest r = SHELFLINE__V1__CREATE_PRODUCT_REQUEST__INIT;
        r.product = &p;
        rc = must(invt_call(ch, "CreateProduct", &r.base, &shelfline__v1__product__descriptor, a,
                            NULL, &err),
                  &err, "CreateProduct");
        sl_arena_reset(a);
    }
    sl_arena_destroy(a);
    return rc;
}

int invt_stock(sl_channel *ch, const char *sku, const char *wh, int64_t qty)
{
    static int seq;
    char id[64];
    snprintf(id, sizeof id, "seed-%d-%d-%s-%s", (int)getpid(), __sync_add_and_fetch(&seq, 1), sku,
             wh);
    Shelfline__V1__AdjustStockRequest r = SHELFLINE__V1__ADJUST_STOCK_REQUEST__INIT;
    r.request_id = id;
    r.sku = (char *)sku;
    r.warehouse_id = (char *)wh;
    r.delta = qty;
    r.reason = SHELFLINE__V1__LEDGER_ENTRY__REASON__RECEIPT;
    sl_arena *a = sl_arena_create(0);
    sl_err err;
    sl_status st = invt_call(ch, "AdjustStock", &r.base,
                             &shelfline__v1__adjust_stock_response__descriptor, a, NULL, &err);
    sl_arena_destroy(a);
    return must(st, &err, "AdjustStock");
}

long long invt_sql_int(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    long long v = -2;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
            v = PQgetisnull(r, 0, 0) ? -1 : atoll(PQgetvalue(r, 0, 0));
        else
            fprintf(stderr, "query failed: %s: %s\n", sql, PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return v;
}

int invt_violations(sl_channel *ch)
{
    sl_arena *a = sl_arena_create(0);
    sl_err err;
    Shelfline__V1__CheckInvariantsRequest r = SHELFLINE__V1__CHECK_INVARIANTS_REQUEST__INIT;
    Shelfline__V1__CheckInvariantsResponse *resp;
    int n = -1;
    if (invt_call(ch, "CheckInvariants", &r.base,
                  &shelfline__v1__check_invariants_response__descriptor, a, &resp, &err) == SL_OK) {
        n = (int)resp->n_violations;
        for (size_t i = 0; i < resp->n_violations; i++)
            fprintf(stderr,
                    "violation: kind %d sku %s wh %s subject %s expected %lld actual %lld: %s\n",
                    resp->violations[i]->kind, resp->violations[i]->sku,
                    resp->violations[i]->warehouse_id, resp->violations[i]->subject_id,
                    (long long)resp->violations[i]->expected,
                    (long long)resp->violations[i]->actual, resp->violations[i]->detail);
    } else {
        fprintf(stderr, "CheckInvariants: %s\n", err.msg);
    }
    sl_arena_destroy(a);
    return n;
}
