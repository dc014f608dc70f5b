/*
 * shelfline's calls: one unary call per command (cli_call), the server
 * streams of `shelfline watch` (cli_watch), and the one error report every
 * failed call prints (cli_report_error) with the rich details the suite
 * sends in grpc-status-details-bin (docs/OPERATIONS.md, "Error model").
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "google/rpc/error_details.pb-c.h"
#include "shelfline/v1/inventory.pb-c.h"
#include "sl_json.h"
#include "sl_rpc_status.h"

/* Set by SIGINT (and SIGTERM): a watch ends cleanly at its next wake-up. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char *const service_names[] = {
    [CLI_INVENTORY] = "shelfline.v1.InventoryService",
    [CLI_FORECASTING] = "shelfline.v1.ForecastingService",
    [CLI_CUSTOMER_VALUE] = "shelfline.v1.CustomerValueService",
    [CLI_SERVICE_DESK] = "shelfline.v1.ServiceDeskService",
};

/* The suite's own details, printed as JSON; the google.rpc ones have their
 * lines of their own (print_detail). */
static const ProtobufCMessageDescriptor *const suite_details[] = {
    &shelfline__v1__reserve_shortfall__descriptor,
};

static const char *method_path(cli *c, const char *method)
{
    return cli_fmt(c, "/%s/%s", service_names[c->service], method);
}

static void print_detail(const sl_rpc_detail *d)
{
    const char *type = d->type_url;
    if (strncmp(type, SL_RPC_TYPE_URL_PREFIX, strlen(SL_RPC_TYPE_URL_PREFIX)) == 0)
        type += strlen(SL_RPC_TYPE_URL_PREFIX);
    ProtobufCAllocator *no_allocator = NULL;
    if (strcmp(type, "google.rpc.BadRequest") == 0) {
        Google__Rpc__BadRequest *br =
            google__rpc__bad_request__unpack(no_allocator, d->len, d->value);
        for (size_t i = 0; br != NULL && i < br->n_field_violations; i++)
            fprintf(stderr, "  field %s: %s\n",
                    br->field_violations[i]->field[0] != '\0' ? br->field_violations[i]->field
                                                              : "(request)",
                    br->field_violations[i]->description);
        if (br != NULL)
            google__rpc__bad_request__free_unpacked(br, no_allocator);
        return;
    }
    if (strcmp(type, "google.rpc.ErrorInfo") == 0) {
        Google__Rpc__ErrorInfo *ei =
            google__rpc__error_info__unpack(no_allocator, d->len, d->value);
        if (ei == NULL)
            return;
        fprintf(stderr, "  reason %s (%s)", ei->reason, ei->domain);
        for (size_t i = 0; i < ei->n_metadata; i++)
            fprintf(stderr, "%s%s=%s", i == 0 ? ": " : ", ", ei->metadata[i]->key,
                    ei->metadata[i]->value);
        fputc('\n', stderr);
        google__rpc__error_info__free_unpacked(ei, no_allocator);
        return;
    }
    if (strcmp(type, "google.rpc.RetryInfo") == 0) {
        Google__Rpc__RetryInfo *ri =
            google__rpc__retry_info__unpack(no_allocator, d->len, d->value);
        if (ri != NULL && ri->retry_delay != NULL)
            fprintf(stderr, "  retry after %lld ms\n",
                    (long long)ri->retry_delay->seconds * 1000 + ri->retry_delay->nanos / 1000000);
        if (ri != NULL)
            google__rpc__retry_info__free_unpacked(ri, no_allocator);
        return;
    }
    for (size_t i = 0; i < sizeof suite_details / sizeof suite_details[0]; i++) {
        if (strcmp(type, suite_details[i]->name) != 0)
            continue;
        ProtobufCMessage *m = protobuf_c_message_unpack(suite_details[i], NULL, d->len, d->value);
        char *json = NULL;
        size_t len = 0;
        sl_err err;
        if (m != NULL && sl_json_encode(m, &json, &len, &err) == SL_OK)
            fprintf(stderr, "  %s: %s\n", type, json);
        free(json); /* sl_json_encode's text is malloc'd */
        if (m != NULL)
            protobuf_c_message_free_unpacked(m, NULL);
        return;
    }
    fprintf(stderr, "  detail %s (%zu bytes)\n", type, d->len);
}

void cli_report_error(cli *c, sl_status st, const sl_err *err, const uint8_t *details,
                      size_t details_len)
{
    fprintf(stderr, CLI_PROG ": %s: %s\n", sl_status_name(st),
            err != NULL && err->msg[0] != '\0' ? err->msg : "(no message)");
    sl_rpc_detail *d = NULL;
    size_t n = 0;
    if (details == NULL || !sl_rpc_status_details(details, details_len, c->a, &d, &n))
        return;
    for (size_t i = 0; i < n; i++)
        print_detail(&d[i]);
}

int cli_call(cli *c, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
    const uint8_t *details = NULL;
    size_t details_len = 0;
    /* Retried on UNAVAILABLE within the deadline, and a service still
     * starting waited for: every call the commands make is a read or a
     * mutation idempotent under the key the user gives (the reservation,
     * order or ticket id), so a retry changes nothing more. */
    sl_call_options o = {.timeout_ms = c->deadline_ms,
                         .idempotent = true,
                         .wait_for_ready = true,
                         .status_details = &details,
                         .status_details_len = &details_len};
    sl_err err;
    memset(&err, 0, sizeof err);
    sl_status st =
        sl_client_unary(c->ch, method_path(c, method), req, resp_desc, c->a, resp, &o, &err);
    if (st == SL_OK)
        return CLI_EXIT_OK;
    cli_report_error(c, st, &err, details, details_len);
    return CLI_EXIT_FAILED;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How often a watch wakes up to look at Ctrl-C and its --timeout. */
#define WATCH_TICK_MS 200

/* Steps: 1. read --count and --timeout; 2. catch SIGINT/SIGTERM; 3. open
 * the stream; 4. print messages until one of the ends (each in the
 * per-message arena); 5. close. */
int cli_watch(cli *c, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *msg_desc,
              void (*print)(cli *c, const ProtobufCMessage *msg, bool first))
{
    int64_t count = 0, timeout_s = 0;
    if (cli_value(c, "count") != NULL &&
        !cli_int(c, "--count", cli_value(c, "count"), 1, INT32_MAX, &count))
        return CLI_EXIT_USAGE;
    if (cli_value(c, "timeout") != NULL &&
        !cli_int(c, "--timeout", cli_value(c, "timeout"), 1, 365LL * 86400, &timeout_s))
        return CLI_EXIT_USAGE;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sl_call_options o = {.timeout_ms = 0, .wait_for_ready = true};
    sl_client_stream *st = NULL;
    sl_err err;
    memset(&err, 0, sizeof err);
    sl_status s =
        sl_client_stream_open(c->ch, method_path(c, method), req, msg_desc, &o, &st, &err);
    if (s != SL_OK) {
        cli_report_error(c, s, &err, NULL, 0);
        return CLI_EXIT_FAILED;
    }
    /* Each message and its printing in an arena of their own, reset after
     * it: a watch left running does not grow. */
    sl_arena *shared = c->a, *per_msg = sl_arena_create(16 * 1024);
    if (per_msg == NULL) {
        sl_client_stream_close(st);
        fputs(CLI_PROG ": out of memory\n", stderr);
        return CLI_EXIT_FAILED;
    }
    c->a = per_msg;
    int rc = CLI_EXIT_OK;
    int64_t end = timeout_s > 0 ? now_ms() + timeout_s * 1000 : 0;
    int64_t seen = 0;
    while (!stop_requested && (count == 0 || seen < count)) {
        int64_t wait = WATCH_TICK_MS;
        if (end != 0) {
            int64_t left = end - now_ms();
            if (left <= 0)
                break;
            if (left < wait)
                wait = left;
        }
        ProtobufCMessage *m = NULL;
        bool timed_out = false;
        s = sl_client_stream_next(st, c->a, &m, wait, &timed_out, &err);
        if (s != SL_OK) {
            /* Ctrl-C while waiting can surface as the call's cancellation. */
            if (!(stop_requested && s == SL_CANCELLED)) {
                cli_report_error(c, s, &err, NULL, 0);
                rc = CLI_EXIT_FAILED;
            }
            break;
        }
        if (m == NULL && timed_out)
            continue;
        if (m == NULL) /* the server ended the stream */
            break;
        if (c->json)
            rc = cli_print_json(c, m);
        else
            print(c, m, seen == 0);
        fflush(stdout);
        sl_arena_reset(per_msg);
        seen++;
        if (rc != CLI_EXIT_OK)
            break;
    }
    sl_client_stream_close(st);
    c->a = shared;
    sl_arena_destroy(per_msg);
    return rc;
}
