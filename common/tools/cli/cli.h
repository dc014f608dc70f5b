/*
 * shelfline: the suite's command-line client.  This header is what the
 * command modules share: the command table's shape, the parsed command
 * line, the one way to call a service (cli_call, cli_watch_open) and the
 * printing helpers (tables, key/value lines, JSON, errors).
 *
 * Exit codes, the same for every command: 0 done, 1 the call failed (the
 * status name, message and rich details are on stderr), 2 bad usage (the
 * message names the bad argument).
 *
 * Memory: everything a command allocates comes from c->a, the one arena
 * of the process, released at exit.
 */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "sl_arena.h"
#include "sl_client.h"
#include "sl_status.h"

#define CLI_PROG "shelfline"
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILED 1
#define CLI_EXIT_USAGE 2

#define CLI_MAX_OPTS 12
#define CLI_MAX_POS 64
#define CLI_MAX_REPEAT 32

/* The service a command talks to: its gRPC service name, its address
 * variable and its default address (deploy/local/run.sh's ports). */
typedef enum cli_service {
    CLI_INVENTORY,
    CLI_FORECASTING,
    CLI_CUSTOMER_VALUE,
    CLI_SERVICE_DESK,
} cli_service;

/* A command's own option: --name VALUE (metavar set) or --name (a flag);
 * repeat: may be given several times (cli_values). */
typedef struct cli_opt {
    const char *name;
    const char *metavar;
    bool repeat;
    const char *help;
} cli_opt;

typedef struct cli cli;

/* One row of the command table: "group" or "group sub" (sub NULL for a
 * one-word command), the service it calls, its positional arguments
 * (min_pos..max_pos, max_pos -1: no limit), its options and the handler,
 * which returns the exit code. */
typedef struct cli_cmd {
    const char *group;
    const char *sub;
    cli_service service;
    const char *args; /* usage of the positionals, e.g. "SKU [REGION]" */
    const char *summary;
    int min_pos, max_pos;
    bool any_service;    /* takes --service NAME (watch events) */
    const cli_opt *opts; /* terminated by a {NULL} entry; NULL: none */
    int (*run)(cli *c);
} cli_cmd;

/* The parsed command line and what the run needs. */
struct cli {
    const cli_cmd *cmd;
    const char *pos[CLI_MAX_POS];
    int n_pos;
    /* The command's options by their index in cmd->opts: the last value
     * (a flag given: ""), and every value of a repeatable one. */
    const char *val[CLI_MAX_OPTS];
    const char *rep[CLI_MAX_OPTS][CLI_MAX_REPEAT];
    size_t n_rep[CLI_MAX_OPTS];
    cli_service service; /* cmd->service, or --service's (any_service) */
    bool json;
    const char *addr;
    int64_t deadline_ms; /* unary calls' deadline */
    sl_channel *ch;
    sl_arena *a;
};

/* The handlers of the command table (cli_main.c), by module. */
int cli_stock(cli *c);               /* cli_inventory.c */
int cli_reserve_hold(cli *c);        /* cli_inventory.c */
int cli_reserve_get(cli *c);         /* cli_inventory.c */
int cli_reserve_commit(cli *c);      /* cli_inventory.c */
int cli_reserve_release(cli *c);     /* cli_inventory.c */
int cli_feed(cli *c);                /* cli_inventory.c */
int cli_order_place(cli *c);         /* cli_desk.c */
int cli_order_get(cli *c);           /* cli_desk.c */
int cli_order_eta(cli *c);           /* cli_desk.c */
int cli_order_cancel(cli *c);        /* cli_desk.c */
int cli_ticket_open(cli *c);         /* cli_desk.c */
int cli_ticket_list(cli *c);         /* cli_desk.c */
int cli_watch_events(cli *c);        /* cli_watch.c */
int cli_watch_notifications(cli *c); /* cli_watch.c */
int cli_forecast(cli *c);            /* cli_planning.c */
int cli_clv(cli *c);                 /* cli_planning.c */

/* ---- command line ------------------------------------------------------ */

/* Prints "shelfline: <message>" and how to get help to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value of the command's option name (the last one given), NULL when
 * absent; for a flag, "" when given. */
const char *cli_value(const cli *c, const char *name);
bool cli_flag(const cli *c, const char *name);
/* Every value of a repeatable option, in order; their count. */
size_t cli_values(const cli *c, const char *name, const char *const **out);

/* text as an integer in lo..hi into *out; false after a usage error naming
 * what ("--count", "QTY") and the text. */
bool cli_int(const cli *c, const char *what, const char *text, int64_t lo, int64_t hi,
             int64_t *out);

/* The positionals from first on as line messages of type desc (reserve's
 * ReserveLine, PlaceOrder's OrderLineRequest: each has sku, qty and
 * promotion_id), from "SKU:QTY" or "SKU:QTY:PROMOTION"; *out (n of them)
 * is arena memory.  CLI_EXIT_OK; CLI_EXIT_USAGE after a usage error naming
 * the bad line; CLI_EXIT_FAILED when out of memory. */
int cli_lines(cli *c, int first, const ProtobufCMessageDescriptor *desc, void ***out, size_t *n);

/* The value of name when it is one of choices[0..n) (its index), or a
 * usage error listing them: -1. */
int cli_choice(const cli *c, const char *name, const char *value, const char *const *choices,
               size_t n);

/* ---- calls ------------------------------------------------------------- */

/* Calls method ("GetStock") of the command's service with the command's
 * deadline.  CLI_EXIT_OK with *resp set (arena memory), or
 * CLI_EXIT_FAILED after the error went to stderr (cli_report_error). */
int cli_call(cli *c, const char *method, const ProtobufCMessage *req,
             const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);

/* Follows a server stream of the command's service: prints each message
 * with print (or as a JSON line with --json), until --count messages,
 * --timeout seconds, Ctrl-C (SIGINT) or the end of the stream, each of
 * them CLI_EXIT_OK; CLI_EXIT_FAILED when the stream fails. */
int cli_watch(cli *c, const char *method, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *msg_desc,
              void (*print)(cli *c, const ProtobufCMessage *msg, bool first));

/* The error of a failed call on stderr: "shelfline: STATUS: message", then
 * one line per rich detail of details (a serialized google.rpc.Status,
 * NULL: none): BadRequest field violations, ErrorInfo reason and metadata,
 * RetryInfo delay, the suite's own details as JSON. */
void cli_report_error(cli *c, sl_status st, const sl_err *err, const uint8_t *details,
                      size_t details_len);

/* ---- output ------------------------------------------------------------ */

/* msg as one line of proto3 JSON (sl_json) on stdout: CLI_EXIT_OK, or
 * CLI_EXIT_FAILED when it cannot be encoded. */
int cli_print_json(cli *c, const ProtobufCMessage *msg);

/* "key:        value" on stdout, the value printf-formatted. */
void cli_kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Unix milliseconds as "YYYY-MM-DD HH:MM:SSZ" (UTC), "-" for 0; arena
 * memory. */
const char *cli_time(cli *c, int64_t ms);
/* minor units and an ISO 4217 code as "19.99 EUR" ("-" when unset); arena
 * memory. */
const char *cli_money(cli *c, int64_t minor_units, const char *currency);
/* An enum value's name without prefix: ("ORDER_PLACED", "ORDER_") ->
 * "PLACED"; "-" for a value the enum does not name. */
const char *cli_enum(const ProtobufCEnumDescriptor *d, int value, const char *prefix);
/* printf into arena memory. */
const char *cli_fmt(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A table with a header row, columns padded to their widest cell. */
#define CLI_TABLE_MAX_COLS 10
typedef struct cli_table {
    sl_arena *a;
    size_t ncols;
    const char *head[CLI_TABLE_MAX_COLS];
    const char **cells; /* row-major, ncols per row */
    size_t n, cap;
} cli_table;

/* head: ncols column names. */
void cli_table_init(cli_table *t, cli *c, size_t ncols, const char *const *head);
/* Appends the next cell (rows fill left to right); copied.  "" prints as
 * "-" (an unset value), NULL as nothing (a continuation row). */
void cli_table_cell(cli_table *t, const char *text);
/* Prints the table on stdout; "(none)" when it has no row. */
void cli_table_print(const cli_table *t);

#endif
