/*
 * shelfline: the suite's command-line client (docs/CLI.md).
 *
 *   shelfline [GLOBAL OPTIONS] COMMAND [SUBCOMMAND] [ARGS] [OPTIONS]
 *
 * The commands are one table (commands[] below: words, service, arguments,
 * options, handler); the generic checks -- does the command exist, are
 * its options known and its argument count right -- run here once, before
 * any handler, as Redis does with its command table.  The handlers
 * (cli_inventory.c, cli_desk.c, cli_watch.c, cli_planning.c) build the
 * request, make the call (cli_call.c) and print the answer: a table for
 * people, or with --json the answer's proto3 JSON (the Connect face's).
 *
 * Where the services are: --addr, else the variable deploy/local/run.sh
 * exports for the command's service, else its default port.  TLS and the
 * bearer token: the variables the services read for their own peer calls
 * (sl_channel_options_from_env), each overridden by its flag.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "cli.h"

/* ---- the command table ---------------------------------------------------- */

#define WATCH_BOUNDS                                                                               \
    {"count", "N", false, "stop after N messages"},                                                \
        {"timeout", "SECONDS", false, "stop after SECONDS (default: until Ctrl-C)"},               \
    {                                                                                              \
        "after", "ID", false, "start after this id (default 0: replay from the start)"             \
    }

static const cli_opt stock_opts[] = {
    {"region", "REGION", false, "availability for a customer region (GetAvailability)"},
    {"warehouse", "WAREHOUSE", false, "only this warehouse (without --region)"},
    {NULL, NULL, false, NULL},
};
static const cli_opt feed_opts[] = {
    {"out", "FILE", false, "write a Merchant Center feed file (tab-separated) instead"},
    {"limit", "N", false, "SKUs per call, 1..1000 (default: the service's)"},
    {NULL, NULL, false, NULL},
};
static const cli_opt hold_opts[] = {
    {"region", "REGION", false, "the customer's region (required)"},
    {"customer", "CUSTOMER", false, "the customer (required; promotion limits are per customer)"},
    {"split", NULL, false, "a line may be split over several warehouses"},
    {"backorder", NULL, false, "a shortfall may wait for an inbound shipment"},
    {"hold", "SECONDS", false, "how long the hold lasts (default 15 minutes)"},
    {NULL, NULL, false, NULL},
};
static const cli_opt place_opts[] = {
    {"customer", "CUSTOMER", false, "the customer (required)"},
    {"region", "REGION", false, "the delivery region (required)"},
    {"split", NULL, false, "a line may be split over several warehouses"},
    {"backorder", NULL, false, "a shortfall may wait for an inbound shipment"},
    {NULL, NULL, false, NULL},
};
static const cli_opt cancel_opts[] = {
    {"reason", "TEXT", false, "why (kept with the order)"},
    {NULL, NULL, false, NULL},
};
static const cli_opt ticket_open_opts[] = {
    {"customer", "CUSTOMER", false, "who writes (required)"},
    {"subject", "TEXT", false, "the subject"},
    {"body", "TEXT", false, "the message (required)"},
    {"order", "ORDER", false, "the order it is about"},
    {"channel", "email|chat|phone|web", false, "where it came from (default web)"},
    {"language", "LANG", false, "e.g. en, fr (default: detected)"},
    {NULL, NULL, false, NULL},
};
static const cli_opt ticket_list_opts[] = {
    {"status", "open|waiting|resolved", false, "only tickets in this status"},
    {"category", "CATEGORY", false, "only this category"},
    {"priority", "PRIORITY", false, "only this priority"},
    {"customer", "CUSTOMER", false, "only this customer's"},
    {"breaching-within", "MINUTES", false, "only those whose SLA breaches within MINUTES"},
    {"limit", "N", false, "page size (default: the service's)"},
    {"page-token", "TOKEN", false, "the next page of an earlier list"},
    {NULL, NULL, false, NULL},
};
static const cli_opt watch_events_opts[] = {
    WATCH_BOUNDS,
    {"topic", "TOPIC", true, "only this topic (repeatable)"},
    {NULL, NULL, false, NULL},
};
static const cli_opt watch_notifications_opts[] = {
    WATCH_BOUNDS,
    {"customer", "CUSTOMER", false, "only this customer's"},
    {NULL, NULL, false, NULL},
};
static const cli_opt forecast_opts[] = {
    {"horizon", "DAYS", false, "days to forecast, 1..365 (default 14)"},
    {"method", "METHOD", false, "auto (default), ets, theta, croston, arima, ..."},
    {NULL, NULL, false, NULL},
};

static const cli_cmd commands[] = {
    {"stock", NULL, CLI_INVENTORY, "SKU", "stock of a SKU per warehouse, or its availability", 1, 1,
     false, stock_opts, cli_stock},
    {"feed", NULL, CLI_INVENTORY, "REGION",
     "every SKU's availability for ad and marketing feeds (Merchant Center's terms)", 1, 1, false,
     feed_opts, cli_feed},
    {"reserve", "hold", CLI_INVENTORY, "RESERVATION SKU:QTY[:PROMOTION]...",
     "hold stock for an order (all lines or none)", 2, CLI_MAX_POS - 1, false, hold_opts,
     cli_reserve_hold},
    {"reserve", "get", CLI_INVENTORY, "RESERVATION", "a reservation and its allocations", 1, 1,
     false, NULL, cli_reserve_get},
    {"reserve", "commit", CLI_INVENTORY, "RESERVATION", "turn a hold into a sale", 1, 1, false,
     NULL, cli_reserve_commit},
    {"reserve", "release", CLI_INVENTORY, "RESERVATION", "give a hold's stock back", 1, 1, false,
     NULL, cli_reserve_release},
    {"order", "place", CLI_SERVICE_DESK, "ORDER SKU:QTY[:PROMOTION]...",
     "place an order (reserves its stock, promises an ETA)", 2, CLI_MAX_POS - 1, false, place_opts,
     cli_order_place},
    {"order", "get", CLI_SERVICE_DESK, "ORDER", "an order, its lines and allocations", 1, 1, false,
     NULL, cli_order_get},
    {"order", "eta", CLI_SERVICE_DESK, "ORDER", "an order's live ETA against its promise", 1, 1,
     false, NULL, cli_order_eta},
    {"order", "cancel", CLI_SERVICE_DESK, "ORDER", "cancel an order and release its stock", 1, 1,
     false, cancel_opts, cli_order_cancel},
    {"ticket", "open", CLI_SERVICE_DESK, "TICKET", "open a support ticket (classified, SLA set)", 1,
     1, false, ticket_open_opts, cli_ticket_open},
    {"ticket", "list", CLI_SERVICE_DESK, "", "list tickets, most urgent first", 0, 0, false,
     ticket_list_opts, cli_ticket_list},
    {"watch", "events", CLI_INVENTORY, "",
     "follow a service's events (--service, default inventory)", 0, 0, true, watch_events_opts,
     cli_watch_events},
    {"watch", "notifications", CLI_SERVICE_DESK, "", "follow customer notifications", 0, 0, false,
     watch_notifications_opts, cli_watch_notifications},
    {"forecast", NULL, CLI_FORECASTING, "SKU REGION",
     "daily demand forecast with 80% and 95% intervals", 2, 2, false, forecast_opts, cli_forecast},
    {"clv", NULL, CLI_CUSTOMER_VALUE, "CUSTOMER", "a customer's value, retention and segment", 1, 1,
     false, NULL, cli_clv},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The options every command takes. */
enum global_opt { G_JSON, G_ADDR, G_SERVICE, G_TOKEN, G_CA, G_CERT, G_KEY, G_NAME, G_DEADLINE };
static const cli_opt global_opts[] = {
    [G_JSON] = {"json", NULL, false, "print the answer as proto3 JSON (one line per message)"},
    [G_ADDR] = {"addr", "HOST:PORT", false, "the service's address (or a gRPC target URI)"},
    [G_SERVICE] = {"service", "NAME", false,
                   "watch events: inventory, forecasting, customer-value or service-desk"},
    [G_TOKEN] = {"token-file", "FILE", false, "bearer token file (SHELFLINE_TOKEN_FILE)"},
    [G_CA] = {"ca", "FILE", false, "TLS: verify the server with this CA (SHELFLINE_TLS_CA_FILE)"},
    [G_CERT] = {"cert", "FILE", false, "mTLS: client certificate (SHELFLINE_TLS_CLIENT_CERT_FILE)"},
    [G_KEY] = {"key", "FILE", false, "mTLS: its key (SHELFLINE_TLS_CLIENT_KEY_FILE)"},
    [G_NAME] = {"server-name", "NAME", false,
                "the name on the server's certificate (SHELFLINE_TLS_SERVER_NAME)"},
    [G_DEADLINE] = {"deadline", "SECONDS", false, "a call's deadline (default 10)"},
};
#define N_GLOBAL (sizeof global_opts / sizeof global_opts[0])

/* The variable each flag overrides (NULL: none). */
static const char *const global_env[N_GLOBAL] = {
    [G_TOKEN] = "SHELFLINE_TOKEN_FILE",          [G_CA] = "SHELFLINE_TLS_CA_FILE",
    [G_CERT] = "SHELFLINE_TLS_CLIENT_CERT_FILE", [G_KEY] = "SHELFLINE_TLS_CLIENT_KEY_FILE",
    [G_NAME] = "SHELFLINE_TLS_SERVER_NAME",
};

static const struct {
    const char *name, *env, *fallback;
} services[] = {
    [CLI_INVENTORY] = {"inventory", "SHELFLINE_INVENTORY_ADDR", "127.0.0.1:50051"},
    [CLI_FORECASTING] = {"forecasting", "SHELFLINE_FORECASTING_ADDR", "127.0.0.1:50052"},
    [CLI_CUSTOMER_VALUE] = {"customer-value", "SHELFLINE_CUSTOMER_VALUE_ADDR", "127.0.0.1:50053"},
    [CLI_SERVICE_DESK] = {"service-desk", "SHELFLINE_SERVICE_DESK_ADDR", "127.0.0.1:50054"},
};

/* ---- help -------------------------------------------------------------- */

static void print_opts(FILE *out, const cli_opt *opts, size_t n)
{
    for (size_t i = 0; i < n && opts[i].name != NULL; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].metavar != NULL ? " " : "",
                 opts[i].metavar != NULL ? opts[i].metavar : "");
        fprintf(out, "  %-30s %s\n", left, opts[i].help);
    }
}

/* Every command, or those of group (e.g. "order") when not NULL. */
static void usage_all(FILE *out, const char *group)
{
    fprintf(out, "usage: " CLI_PROG " [--json] [--addr HOST:PORT] COMMAND [ARGS] [OPTIONS]\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (group != NULL && strcmp(commands[i].group, group) != 0)
            continue;
        char words[64];
        snprintf(words, sizeof words, "%s%s%s", commands[i].group,
                 commands[i].sub != NULL ? " " : "",
                 commands[i].sub != NULL ? commands[i].sub : "");
        fprintf(out, "  %-20s %s\n", words, commands[i].summary);
    }
    fprintf(out, "\noptions of every command:\n");
    print_opts(out, global_opts, N_GLOBAL);
    fprintf(out, "\n`" CLI_PROG " COMMAND --help` shows a command's arguments.  Exit status: 0,\n"
                 "1 when a call failed (its status, message and details on stderr), 2 on bad "
                 "usage.\n");
}

static void usage_cmd(FILE *out, const cli_cmd *cmd)
{
    fprintf(out, "usage: " CLI_PROG " %s%s%s %s%s[OPTIONS]\n  %s (%s)\n", cmd->group,
            cmd->sub != NULL ? " " : "", cmd->sub != NULL ? cmd->sub : "", cmd->args,
            cmd->args[0] != '\0' ? " " : "", cmd->summary, services[cmd->service].name);
    if (cmd->opts != NULL) {
        fprintf(out, "options:\n");
        print_opts(out, cmd->opts, CLI_MAX_OPTS);
    }
    fprintf(out, "options of every command (" CLI_PROG " --help):\n");
    print_opts(out, global_opts, N_GLOBAL);
    fprintf(out, "default address: $%s, else %s\n", services[cmd->service].env,
            services[cmd->service].fallback);
}

int cli_usage_error(const cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(CLI_PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (c != NULL && c->cmd != NULL)
        fprintf(stderr, "try '" CLI_PROG " %s%s%s --help'\n", c->cmd->group,
                c->cmd->sub != NULL ? " " : "", c->cmd->sub != NULL ? c->cmd->sub : "");
    else
        fputs("try '" CLI_PROG " --help'\n", stderr);
    return CLI_EXIT_USAGE;
}

/* ---- option values --------------------------------------------------------- */

static int opt_index(const cli_opt *opts, const char *name, size_t len)
{
    for (int i = 0; opts != NULL && i < CLI_MAX_OPTS && opts[i].name != NULL; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return i;
    return -1;
}

const char *cli_value(const cli *c, const char *name)
{
    int i = opt_index(c->cmd->opts, name, strlen(name));
    return i < 0 ? NULL : c->val[i];
}

bool cli_flag(const cli *c, const char *name)
{
    return cli_value(c, name) != NULL;
}

size_t cli_values(const cli *c, const char *name, const char *const **out)
{
    int i = opt_index(c->cmd->opts, name, strlen(name));
    if (i < 0) {
        *out = NULL;
        return 0;
    }
    *out = c->rep[i];
    return c->n_rep[i];
}

bool cli_int(const cli *c, const char *what, const char *text, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
        cli_usage_error(c, "%s must be an integer from %lld to %lld, got \"%s\"", what,
                        (long long)lo, (long long)hi, text);
        return false;
    }
    *out = v;
    return true;
}

/* "SKU:QTY" or "SKU:QTY:PROMOTION", pieces in arena memory; false after a
 * usage error naming the argument. */
static bool parse_line(cli *c, const char *text, char **sku, int64_t *qty, char **promotion)
{
    const char *colon = strchr(text, ':');
    if (colon == NULL || colon == text) {
        cli_usage_error(c, "a line is SKU:QTY[:PROMOTION], got \"%s\"", text);
        return false;
    }
    const char *qty_end = strchr(colon + 1, ':');
    char *s = sl_arena_strdup(c->a, text);
    if (s == NULL)
        return false;
    s[colon - text] = '\0';
    char *q = s + (colon - text) + 1;
    if (qty_end != NULL)
        q[qty_end - colon - 1] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(q, &end, 10);
    if (errno != 0 || end == q || *end != '\0') {
        cli_usage_error(c, "the quantity in line \"%s\" is not an integer", text);
        return false;
    }
    /* Its range is the service's to check, naming the field. */
    *qty = v;
    *sku = s;
    *promotion = qty_end != NULL ? q + (qty_end - colon) : "";
    return true;
}

/* A field of desc that must be there with its type (the line messages of
 * proto/ all have them: checked by every test run). */
static const ProtobufCFieldDescriptor *line_field(const ProtobufCMessageDescriptor *desc,
                                                  const char *name, ProtobufCType type)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    if (f == NULL || f->type != type || f->label == PROTOBUF_C_LABEL_REPEATED) {
        /* A contract change this client was not built for. */
        fprintf(stderr, "shelfline: %s has no singular field %s of the expected type\n", desc->name,
                name);
        abort();
    }
    return f;
}

int cli_lines(cli *c, int first, const ProtobufCMessageDescriptor *desc, void ***out, size_t *n)
{
    const ProtobufCFieldDescriptor *f_sku = line_field(desc, "sku", PROTOBUF_C_TYPE_STRING);
    const ProtobufCFieldDescriptor *f_qty = line_field(desc, "qty", PROTOBUF_C_TYPE_INT64);
    const ProtobufCFieldDescriptor *f_promo =
        line_field(desc, "promotion_id", PROTOBUF_C_TYPE_STRING);
    size_t count = (size_t)(c->n_pos - first);
    void **lines = sl_arena_zalloc(c->a, count * sizeof *lines);
    if (lines == NULL)
        return CLI_EXIT_FAILED;
    for (size_t i = 0; i < count; i++) {
        char *m = sl_arena_zalloc(c->a, desc->sizeof_message);
        if (m == NULL)
            return CLI_EXIT_FAILED;
        protobuf_c_message_init(desc, m);
        char *sku, *promotion;
        int64_t qty;
        if (!parse_line(c, c->pos[first + (int)i], &sku, &qty, &promotion))
            return CLI_EXIT_USAGE;
        memcpy(m + f_sku->offset, &sku, sizeof sku);
        memcpy(m + f_qty->offset, &qty, sizeof qty);
        memcpy(m + f_promo->offset, &promotion, sizeof promotion);
        lines[i] = m;
    }
    *out = lines;
    *n = count;
    return CLI_EXIT_OK;
}

int cli_choice(const cli *c, const char *name, const char *value, const char *const *choices,
               size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(value, choices[i]) == 0)
            return (int)i;
    char list[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i == 0 ? "" : ", ",
                                 choices[i]);
    cli_usage_error(c, "--%s must be one of %s, got \"%s\"", name, list, value);
    return -1;
}

/* ---- parsing ----------------------------------------------------------- */

static const cli_cmd *find_command(const char *group, const char *sub, bool *group_known)
{
    *group_known = false;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].group, group) != 0)
            continue;
        *group_known = true;
        if (commands[i].sub == NULL || (sub != NULL && strcmp(commands[i].sub, sub) == 0))
            return &commands[i];
    }
    return NULL;
}

/* One "--name[=value]" at argv[*i] (a global or the command's option) into
 * c and globals[]; *help set for --help.  CLI_EXIT_OK, or a usage error
 * naming the option. */
static int parse_option(cli *c, int argc, char **argv, int *i, const char *globals[N_GLOBAL],
                        bool *help)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        *help = true;
        return CLI_EXIT_OK;
    }
    if (strncmp(arg, "--", 2) != 0)
        return cli_usage_error(c, "unknown option \"%s\"", arg);
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    int g = opt_index(global_opts, name, len);
    if (g == G_SERVICE && (c->cmd == NULL || !c->cmd->any_service))
        g = -1;
    if (g >= (int)N_GLOBAL)
        g = -1;
    int k = g < 0 && c->cmd != NULL ? opt_index(c->cmd->opts, name, len) : -1;
    if (g < 0 && k < 0)
        return cli_usage_error(c, "unknown option \"--%.*s\"", (int)len, name);
    const cli_opt *o = g >= 0 ? &global_opts[g] : &c->cmd->opts[k];
    const char *value = "";
    if (o->metavar != NULL) {
        if (eq != NULL)
            value = eq + 1;
        else if (*i + 1 < argc)
            value = argv[++*i];
        else
            return cli_usage_error(c, "option \"--%s\" needs a value (%s)", o->name, o->metavar);
    } else if (eq != NULL) {
        return cli_usage_error(c, "option \"--%s\" takes no value", o->name);
    }
    if (g >= 0) {
        globals[g] = value;
        return CLI_EXIT_OK;
    }
    c->val[k] = value;
    if (o->repeat) {
        if (c->n_rep[k] == CLI_MAX_REPEAT)
            return cli_usage_error(c, "option \"--%s\" given more than %d times", o->name,
                                   CLI_MAX_REPEAT);
        c->rep[k][c->n_rep[k]++] = value;
    }
    return CLI_EXIT_OK;
}

/* Steps: 1. global options before the command; 2. the command's words;
 * 3. options and positionals in any order ("--" ends options); 4. the
 * positional count.  *help: print the usage and exit 0 (of *help_group's
 * commands when "GROUP --help" named no subcommand). */
static int parse(cli *c, int argc, char **argv, const char *globals[N_GLOBAL], bool *help,
                 const char **help_group)
{
    int i = 1, rc;
    for (; i < argc && argv[i][0] == '-'; i++)
        if ((rc = parse_option(c, argc, argv, &i, globals, help)) != CLI_EXIT_OK)
            return rc;
    if (*help)
        return CLI_EXIT_OK;
    if (i >= argc)
        return cli_usage_error(c, "no command given");
    const char *group = argv[i++];
    const char *sub = i < argc ? argv[i] : NULL;
    bool group_known;
    c->cmd = find_command(group, sub, &group_known);
    if (!group_known)
        return cli_usage_error(c, "unknown command \"%s\"", group);
    if (c->cmd == NULL) {
        if (sub != NULL && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
            *help = true;
            *help_group = group;
            return CLI_EXIT_OK;
        }
        return sub == NULL ? cli_usage_error(c, "\"%s\" needs a subcommand", group)
                           : cli_usage_error(c, "unknown command \"%s %s\"", group, sub);
    }
    if (c->cmd->sub != NULL)
        i++;
    bool options_done = false;
    for (; i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0) {
            options_done = true;
        } else if (!options_done && argv[i][0] == '-' && argv[i][1] != '\0') {
            if ((rc = parse_option(c, argc, argv, &i, globals, help)) != CLI_EXIT_OK)
                return rc;
        } else {
            if (c->n_pos == CLI_MAX_POS)
                return cli_usage_error(c, "too many arguments");
            c->pos[c->n_pos++] = argv[i];
        }
    }
    if (*help)
        return CLI_EXIT_OK;
    if (c->n_pos < c->cmd->min_pos)
        return cli_usage_error(c, "missing argument: %s", c->cmd->args);
    if (c->cmd->max_pos >= 0 && c->n_pos > c->cmd->max_pos)
        return cli_usage_error(c, "unexpected argument \"%s\"", c->pos[c->cmd->max_pos]);
    return CLI_EXIT_OK;
}

/* The command's service, address, deadline and channel from the global
 * options and the environment. */
static int connect_service(cli *c, const char *globals[N_GLOBAL], sl_channel_options *co)
{
    c->service = c->cmd->service;
    if (globals[G_SERVICE] != NULL) {
        static const char *const names[] = {"inventory", "forecasting", "customer-value",
                                            "service-desk"};
        int k = -1;
        for (int s = 0; s < 4; s++)
            if (strcmp(globals[G_SERVICE], names[s]) == 0)
                k = s;
        if (k < 0)
            return cli_usage_error(c,
                                   "--service must be one of inventory, forecasting, "
                                   "customer-value, service-desk, got \"%s\"",
                                   globals[G_SERVICE]);
        c->service = (cli_service)k;
    }
    int64_t deadline_s = 10;
    if (globals[G_DEADLINE] != NULL &&
        !cli_int(c, "--deadline", globals[G_DEADLINE], 1, 3600, &deadline_s))
        return CLI_EXIT_USAGE;
    c->deadline_ms = deadline_s * 1000;
    c->json = globals[G_JSON] != NULL;
    const char *env = getenv(services[c->service].env);
    c->addr = globals[G_ADDR] != NULL         ? globals[G_ADDR]
              : env != NULL && env[0] != '\0' ? env
                                              : services[c->service].fallback;
    /* A flag wins over its variable: it is put in the environment that
     * sl_channel_options_from_env reads, so both go through one check. */
    for (size_t g = 0; g < N_GLOBAL; g++)
        if (global_env[g] != NULL && globals[g] != NULL &&
            setenv(global_env[g], globals[g], 1) != 0)
            return cli_usage_error(c, "could not set %s", global_env[g]);
    sl_err err;
    if (sl_channel_options_from_env(co, &err) != SL_OK)
        return cli_usage_error(c, "%s", err.msg);
    if (sl_channel_create(c->addr, co, &c->ch, &err) != SL_OK)
        return cli_usage_error(c, "--addr \"%s\": %s", c->addr, err.msg);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof c);
    const char *globals[N_GLOBAL] = {NULL};
    bool help = false;
    const char *help_group = NULL;
    int rc = parse(&c, argc, argv, globals, &help, &help_group);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (help) {
        if (c.cmd != NULL)
            usage_cmd(stdout, c.cmd);
        else
            usage_all(stdout, help_group);
        return CLI_EXIT_OK;
    }
    if ((c.a = sl_arena_create(64 * 1024)) == NULL) {
        fputs(CLI_PROG ": out of memory\n", stderr);
        return CLI_EXIT_FAILED;
    }
    sl_channel_options co;
    memset(&co, 0, sizeof co);
    rc = connect_service(&c, globals, &co);
    if (rc == CLI_EXIT_OK)
        rc = c.cmd->run(&c);
    if (c.ch != NULL)
        sl_channel_destroy(c.ch);
    if (co.token_file != NULL)
        sl_token_file_destroy(co.token_file);
    sl_arena_destroy(c.a);
    return rc;
}
