/*
 * Who may call what: every RPC of every service, called through the
 * dispatcher by every role, is allowed exactly when the product says so.
 *
 * The expectations below are written from the roles as the product
 * describes them (issue 14, docs/OPERATIONS.md "Roles"), one list per
 * role, and not read from the method tables: a row that gives a role too
 * much or too little fails here, naming the RPC and the role.
 *
 *   storefront   availability, quotes, orders and payments on behalf of
 *                shoppers, back-in-stock subscriptions; the catalogue and
 *                the holds behind a checkout; a shopper's customer record,
 *                purchases, returns and recommendations.
 *   cs-agent     reads orders, ETAs, stock, the ledger, customer value;
 *                tickets, returns, subscriptions, cancelling an order for a
 *                customer.  Never adjusts stock, reserves directly, or
 *                changes promotions or inbound shipments.
 *   planner      forecasting, events, replenishment, inbound shipments,
 *                transfers, stock policy; the reads planning needs.
 *   stock-admin  AdjustStock, SetStockCount, promotions, the catalogue and
 *                the network (warehouses, transit times); shipments.
 *   service      the suite's own peer calls (what each service calls on
 *                another) and the event streams.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cv_service.h"
#include "fc_service.h"
#include "inv_service.h"
#include "sd_service.h"
#include "sl_service.h"

/* Reads anyone working with the suite may make: the catalogue and the
 * network. */
#define CATALOGUE_READS                                                                            \
    "InventoryService/GetProduct", "InventoryService/ListProducts",                                \
        "InventoryService/GetWarehouse", "InventoryService/ListWarehouses",                        \
        "InventoryService/GetTransitTime", "InventoryService/ListTransitTimes",                    \
        "InventoryService/GetAvailability", "InventoryService/GetPromotion",                       \
        "InventoryService/GetStockFeed", "InventoryService/GetStockFence"

static const char *const storefront[] = {
    CATALOGUE_READS,
    "InventoryService/Reserve",
    "InventoryService/Commit",
    "InventoryService/Release",
    "InventoryService/GetReservation",
    "CustomerValueService/UpsertCustomer",
    "CustomerValueService/UpsertCustomers",
    "CustomerValueService/RecordPurchase",
    "CustomerValueService/RecordPurchases",
    "CustomerValueService/RecordReturn",
    "CustomerValueService/Recommend",
    "CustomerValueService/SuggestSubstitutes",
    "ServiceDeskService/PlaceOrder",
    "ServiceDeskService/ConfirmPayment",
    "ServiceDeskService/CancelOrder",
    "ServiceDeskService/GetOrder",
    "ServiceDeskService/ListOrders",
    "ServiceDeskService/GetOrderEta",
    "ServiceDeskService/ListEtaChanges",
    "ServiceDeskService/QuoteEta",
    "ServiceDeskService/SubscribeBackInStock",
    "ServiceDeskService/Unsubscribe",
    "ServiceDeskService/ListSubscriptions",
    NULL,
};

static const char *const cs_agent[] = {
    CATALOGUE_READS,
    "InventoryService/GetStock",
    "InventoryService/ListLowStock",
    "InventoryService/GetReservation",
    "InventoryService/GetInbound",
    "InventoryService/ListInbound",
    "InventoryService/ListStockFences",
    "InventoryService/ListLedger",
    "CustomerValueService/GetCustomerValue",
    "CustomerValueService/GetRetentionReport",
    "CustomerValueService/ListSegment",
    "CustomerValueService/GetRepurchaseReminders",
    "CustomerValueService/Recommend",
    "CustomerValueService/SuggestSubstitutes",
    "CustomerValueService/ListCampaignRecipients",
    "ServiceDeskService/CancelOrder",
    "ServiceDeskService/GetOrder",
    "ServiceDeskService/ListOrders",
    "ServiceDeskService/GetOrderEta",
    "ServiceDeskService/ListEtaChanges",
    "ServiceDeskService/QuoteEta",
    "ServiceDeskService/OpenTicket",
    "ServiceDeskService/RespondTicket",
    "ServiceDeskService/ResolveTicket",
    "ServiceDeskService/GetTicket",
    "ServiceDeskService/ListTickets",
    "ServiceDeskService/GetSlaReport",
    "ServiceDeskService/GetSlaPolicy",
    "ServiceDeskService/CreateReturn",
    "ServiceDeskService/ReceiveReturn",
    "ServiceDeskService/GetReturn",
    "ServiceDeskService/ListReturns",
    "ServiceDeskService/SubscribeBackInStock",
    "ServiceDeskService/Unsubscribe",
    "ServiceDeskService/ListSubscriptions",
    "ServiceDeskService/GetBackInStockQueue",
    "ServiceDeskService/ListNotifications",
    "ServiceDeskService/WatchNotifications",
    NULL,
};

static const char *const planner[] = {
    CATALOGUE_READS,
    "InventoryService/SetStockPolicy",
    "InventoryService/GetStock",
    "InventoryService/GetAverageStock",
    "InventoryService/ListLowStock",
    "InventoryService/CreateInbound",
    "InventoryService/DelayInbound",
    "InventoryService/ReceiveInbound",
    "InventoryService/Transfer",
    "InventoryService/GetInbound",
    "InventoryService/ListInbound",
    "InventoryService/ListStockFences",
    "InventoryService/ListLedger",
    "ForecastingService/RecordSales",
    "ForecastingService/RecordHourlySales",
    "ForecastingService/SetEvent",
    "ForecastingService/ListEvents",
    "ForecastingService/ForecastDemand",
    "ForecastingService/GetReplenishmentPlan",
    "ForecastingService/SuggestTransfers",
    "ForecastingService/GetInventoryKpis",
    "ForecastingService/SetForecastOverride",
    "ForecastingService/ListForecastOverrides",
    "ForecastingService/RemoveForecastOverride",
    "ForecastingService/GetForecastAccuracy",
    "ForecastingService/ClassifySkus",
    "ForecastingService/ListSkusByClass",
    "ForecastingService/SetServiceLevelTarget",
    "ForecastingService/GetLeadTimes",
    "ForecastingService/WatchAlerts",
    "CustomerValueService/FitModels",
    "CustomerValueService/GetCustomerValue",
    "CustomerValueService/GetRetentionReport",
    "CustomerValueService/ListSegment",
    "CustomerValueService/GetRepurchaseReminders",
    "ServiceDeskService/GetBackInStockQueue",
    "CustomerValueService/BuildCampaign",
    "CustomerValueService/ListCampaignRecipients",
    "CustomerValueService/SendCampaign",
    NULL,
};

static const char *const stock_admin[] = {
    CATALOGUE_READS,
    "InventoryService/CreateProduct",
    "InventoryService/UpdateProduct",
    "InventoryService/CreateWarehouse",
    "InventoryService/UpdateWarehouse",
    "InventoryService/SetWarehouseCalendar",
    "InventoryService/CreateTransitTime",
    "InventoryService/UpdateTransitTime",
    "InventoryService/AdjustStock",
    "InventoryService/SetStockCount",
    "InventoryService/GetStock",
    "InventoryService/GetAverageStock",
    "InventoryService/ListLowStock",
    "InventoryService/CreatePromotion",
    "InventoryService/CreateStockFence",
    "InventoryService/ListStockFences",
    "InventoryService/GetInbound",
    "InventoryService/ListInbound",
    "InventoryService/CheckInvariants",
    "InventoryService/ListLedger",
    "ServiceDeskService/UpdateShipment",
    "ServiceDeskService/SetSlaPolicy",
    "ServiceDeskService/GetSlaPolicy",
    NULL,
};

/* What the services call on each other (grep sl_client_call_from and the
 * consumers), and every event stream. */
static const char *const service[] = {
    CATALOGUE_READS,
    "InventoryService/AdjustStock", /* service-desk restocks a received return */
    "InventoryService/GetStock",
    "InventoryService/GetAverageStock",
    "InventoryService/Reserve",
    "InventoryService/Commit",
    "InventoryService/Release",
    "InventoryService/GetReservation",
    "InventoryService/GetInbound",
    "InventoryService/ListInbound",
    "InventoryService/WatchEvents",
    "InventoryService/ListStockFences",
    "InventoryService/SetStockFenceEligibility", /* customer-value pushes a segment's members */
    "ForecastingService/WatchEvents",
    "CustomerValueService/GetCustomerValue",
    "CustomerValueService/WatchEvents",
    "ServiceDeskService/UpdateShipment",
    "ServiceDeskService/SetSlaPolicy",
    "ServiceDeskService/GetSlaPolicy",
    "ServiceDeskService/ListNotifications",
    "ServiceDeskService/WatchNotifications",
    "ServiceDeskService/AckNotification",
    "ServiceDeskService/WatchEvents",
    NULL,
};

static const struct {
    unsigned bit;
    const char *const *may;
} roles[] = {
    {SL_ROLE_STOREFRONT, storefront},   {SL_ROLE_CS_AGENT, cs_agent}, {SL_ROLE_PLANNER, planner},
    {SL_ROLE_STOCK_ADMIN, stock_admin}, {SL_ROLE_SERVICE, service},
};
#define N_ROLES (sizeof roles / sizeof roles[0])

static const sl_service_spec *const specs[] = {&inv_service_spec, &fc_service_spec,
                                               &cv_service_spec, &sd_service_spec};
#define N_SPECS (sizeof specs / sizeof specs[0])

/* "InventoryService/Reserve" for the method md of service d. */
static void short_name(const ProtobufCServiceDescriptor *d, const ProtobufCMethodDescriptor *md,
                       char *out, size_t cap)
{
    const char *svc = strrchr(d->name, '.');
    snprintf(out, cap, "%s/%s", svc != NULL ? svc + 1 : d->name, md->name);
}

static bool listed(const char *const *may, const char *name)
{
    for (size_t i = 0; may[i] != NULL; i++)
        if (strcmp(may[i], name) == 0)
            return true;
    return false;
}

static sl_status allow_all(sl_call *call, const ProtobufCMessage *req, ProtobufCMessage *resp,
                           sl_err *err)
{
    (void)call;
    (void)req;
    (void)resp;
    (void)err;
    return SL_OK;
}

static sl_status stream_stub(sl_call *call, const ProtobufCMessage *req, sl_err *err)
{
    (void)call;
    (void)req;
    (void)err;
    return SL_OK;
}

/* The interceptor of the walk: the caller is whoever *ctx says. */
static sl_status as_identity(sl_call *call, void *ctx, sl_err *err)
{
    (void)err;
    sl_call_set_identity(call, ctx);
    return SL_OK;
}

/* Every expectation names an RPC that exists, so a typo in the lists
 * cannot make a role's permission silently untested. */
static void test_every_expected_rpc_exists(void **state)
{
    (void)state;
    for (size_t r = 0; r < N_ROLES; r++)
        for (size_t i = 0; roles[r].may[i] != NULL; i++) {
            bool found = false;
            for (size_t s = 0; s < N_SPECS && !found; s++) {
                const ProtobufCServiceDescriptor *d = specs[s]->descriptor;
                for (unsigned k = 0; k < d->n_methods && !found; k++) {
                    char name[128];
                    short_name(d, &d->methods[k], name, sizeof name);
                    found = strcmp(name, roles[r].may[i]) == 0;
                }
            }
            if (!found)
                fail_msg("%s lists %s, which is no RPC", sl_role_name(roles[r].bit),
                         roles[r].may[i]);
        }
}

/* The walk: each service's table (handlers replaced by stubs, request
 * checks dropped, so an allowed call answers OK), in a server that checks
 * roles, called in-process for every unary RPC as every role; streaming
 * RPCs, which cannot be called in-process, by their row's roles. */
static void test_every_rpc_with_every_role_is_what_the_product_means(void **state)
{
    (void)state;
    size_t checked = 0, rpcs = 0;
    for (size_t s = 0; s < N_SPECS; s++) {
        rpcs += specs[s]->descriptor->n_methods;
        sl_service_def def;
        sl_err err;
        sl_err_clear(&err);
        if (sl_service_method_table(specs[s], NULL, &def, &err) != SL_OK)
            fail_msg("%s: %s", specs[s]->name, err.msg);
        sl_method *rows = (sl_method *)def.methods;
        for (size_t j = 0; j < def.n_methods; j++) {
            rows[j].validate = NULL;
            if (rows[j].kind == SL_RPC_UNARY)
                rows[j].unary = allow_all;
            else
                rows[j].stream = stream_stub;
            rows[j].ctx = NULL;
        }
        sl_identity caller = {.subject = "walker"};
        sl_server_options o = {.listen = "127.0.0.1:0",
                               .workers = 1,
                               .interceptor = as_identity,
                               .interceptor_ctx = &caller,
                               .check_roles = true,
                               .access_log = SL_ACCESS_LOG_OFF};
        sl_server *srv;
        assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
        assert_int_equal(sl_server_add_service(srv, &def, &err), SL_OK);
        sl_arena *arena = sl_arena_create(0);
        const ProtobufCServiceDescriptor *d = specs[s]->descriptor;
        for (unsigned k = 0; k < d->n_methods; k++) {
            char name[128], path[256];
            short_name(d, &d->methods[k], name, sizeof name);
            snprintf(path, sizeof path, "/%s/%s", d->name, d->methods[k].name);
            const sl_method *row = NULL;
            for (size_t j = 0; j < def.n_methods; j++)
                if (strcmp(rows[j].name, d->methods[k].name) == 0 ||
                    strcmp(rows[j].name, path) == 0)
                    row = &rows[j];
            assert_non_null(row);
            for (size_t r = 0; r < N_ROLES; r++) {
                bool want = listed(roles[r].may, name);
                bool got;
                caller.roles = roles[r].bit;
                if (row->kind == SL_RPC_UNARY) {
                    void *out;
                    size_t out_len;
                    sl_err_clear(&err);
                    sl_status st =
                        sl_server_call_local(srv, path, "", 0, arena, &out, &out_len, &err);
                    if (st != SL_OK && st != SL_PERMISSION_DENIED)
                        fail_msg("%s as %s: %s %s", name, sl_role_name(roles[r].bit),
                                 sl_status_name(st), err.msg);
                    got = st == SL_OK;
                    /* A refusal names the roles that would do. */
                    if (!got && strstr(err.msg, "needs role") == NULL)
                        fail_msg("%s as %s refused with \"%s\"", name, sl_role_name(roles[r].bit),
                                 err.msg);
                    sl_arena_reset(arena);
                } else {
                    got = (row->roles & roles[r].bit) != 0;
                }
                if (got != want)
                    fail_msg("%s as %s: %s, the product says %s", name, sl_role_name(roles[r].bit),
                             got ? "allowed" : "refused", want ? "allowed" : "refused");
                checked++;
            }
        }
        sl_arena_destroy(arena);
        sl_server_destroy(srv);
        free(rows);
    }
    /* Every RPC of the four protos (80 and more) x 5 roles: the walk really
     * walked. */
    assert_true(rpcs >= 80);
    assert_int_equal(checked, rpcs * N_ROLES);
}

/* With no identity set (an interceptor that forgot, or none), every role
 * check refuses: the dispatcher fails closed. */
static void test_no_identity_holds_no_role(void **state)
{
    (void)state;
    sl_service_def def;
    sl_err err;
    assert_int_equal(sl_service_method_table(&inv_service_spec, NULL, &def, &err), SL_OK);
    sl_method *rows = (sl_method *)def.methods;
    for (size_t j = 0; j < def.n_methods; j++) {
        rows[j].validate = NULL;
        if (rows[j].kind == SL_RPC_UNARY)
            rows[j].unary = allow_all;
    }
    sl_server_options o = {.listen = "127.0.0.1:0",
                           .workers = 1,
                           .check_roles = true,
                           .access_log = SL_ACCESS_LOG_OFF};
    sl_server *srv;
    assert_int_equal(sl_server_create(&o, &srv, &err), SL_OK);
    assert_int_equal(sl_server_add_service(srv, &def, &err), SL_OK);
    sl_arena *arena = sl_arena_create(0);
    void *out;
    size_t out_len;
    assert_int_equal(sl_server_call_local(srv, "/shelfline.v1.InventoryService/GetProduct", "", 0,
                                          arena, &out, &out_len, &err),
                     SL_PERMISSION_DENIED);
    assert_string_equal(err.msg, "/shelfline.v1.InventoryService/GetProduct needs role "
                                 "storefront or cs-agent or planner or stock-admin or service; "
                                 "\"\" has (none)");
    sl_arena_destroy(arena);
    sl_server_destroy(srv);
    free(rows);
}

/* A table that forgets its roles column is refused at start-up. */
static void test_a_row_without_roles_is_refused(void **state)
{
    (void)state;
    sl_service_spec spec = inv_service_spec;
    sl_method *rows = calloc(spec.n_methods, sizeof *rows);
    assert_non_null(rows);
    memcpy(rows, spec.methods, spec.n_methods * sizeof *rows);
    for (size_t j = 0; j < spec.n_methods; j++)
        if (strcmp(rows[j].name, "AdjustStock") == 0)
            rows[j].roles = 0;
    spec.methods = rows;
    sl_service_def def;
    sl_err err;
    assert_int_equal(sl_service_method_table(&spec, NULL, &def, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "AdjustStock: no valid roles in its row");
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_expected_rpc_exists),
        cmocka_unit_test(test_every_rpc_with_every_role_is_what_the_product_means),
        cmocka_unit_test(test_no_identity_holds_no_role),
        cmocka_unit_test(test_a_row_without_roles_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
