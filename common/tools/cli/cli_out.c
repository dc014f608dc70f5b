/*
 * shelfline's printing helpers, shared by every command: tables padded to
 * their widest cell, "key: value" lines, times, money, enum names, and the
 * JSON form of --json (sl_json, the proto3 JSON mapping the Connect face
 * speaks, so a script reads the same JSON from either).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sl_json.h"

/* Out of memory in a command-line tool: nothing sensible is left to do,
 * and nothing is half-written (every command reads). */
static void *need(void *p)
{
    if (p == NULL) {
        fputs(CLI_PROG ": out of memory\n", stderr);
        exit(CLI_EXIT_FAILED);
    }
    return p;
}

const char *cli_fmt(cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = need(sl_arena_alloc(c->a, (size_t)(n < 0 ? 0 : n) + 1));
    va_start(ap, fmt);
    vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    va_end(ap);
    return s;
}

void cli_kv(const char *key, const char *fmt, ...)
{
    char label[64];
    snprintf(label, sizeof label, "%s%s", key, key[0] != '\0' ? ":" : "");
    printf("%-16s ", label);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

const char *cli_time(cli *c, int64_t ms)
{
    if (ms == 0)
        return "-";
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
        return cli_fmt(c, "%lld ms", (long long)ms);
    return cli_fmt(c, "%s", buf);
}

/* ISO 4217 currencies without minor unit digits that the suite may see;
 * every other is taken to have two. */
static int currency_digits(const char *currency)
{
    static const char *const zero[] = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD"};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (strcmp(currency, zero[i]) == 0)
            return 0;
    return 2;
}

const char *cli_money(cli *c, int64_t minor_units, const char *currency)
{
    if (currency == NULL || currency[0] == '\0')
        return minor_units == 0 ? "-" : cli_fmt(c, "%lld", (long long)minor_units);
    if (currency_digits(currency) == 0)
        return cli_fmt(c, "%lld %s", (long long)minor_units, currency);
    unsigned long long mag =
        minor_units < 0 ? 0ULL - (unsigned long long)minor_units : (unsigned long long)minor_units;
    return cli_fmt(c, "%s%llu.%02llu %s", minor_units < 0 ? "-" : "", mag / 100, mag % 100,
                   currency);
}

const char *cli_enum(const ProtobufCEnumDescriptor *d, int value, const char *prefix)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (v == NULL)
        return "-";
    size_t n = strlen(prefix);
    return strncmp(v->name, prefix, n) == 0 ? v->name + n : v->name;
}

int cli_print_json(cli *c, const ProtobufCMessage *msg)
{
    (void)c;
    char *text = NULL;
    size_t len = 0;
    sl_err err;
    if (sl_json_encode(msg, &text, &len, &err) != SL_OK) {
        fprintf(stderr, CLI_PROG ": could not write the answer as JSON: %s\n", err.msg);
        return CLI_EXIT_FAILED;
    }
    fwrite(text, 1, len, stdout);
    putchar('\n');
    free(text); /* sl_json_encode's text is malloc'd */
    return CLI_EXIT_OK;
}

/* ---- tables ------------------------------------------------------------ */

void cli_table_init(cli_table *t, cli *c, size_t ncols, const char *const *head)
{
    memset(t, 0, sizeof *t);
    t->a = c->a;
    t->ncols = ncols < CLI_TABLE_MAX_COLS ? ncols : CLI_TABLE_MAX_COLS;
    for (size_t i = 0; i < t->ncols; i++)
        t->head[i] = head[i];
}

void cli_table_cell(cli_table *t, const char *text)
{
    if (t->n == t->cap) {
        size_t cap = t->cap == 0 ? 64 : t->cap * 2;
        const char **cells = need(sl_arena_alloc(t->a, cap * sizeof *cells));
        if (t->n > 0)
            memcpy(cells, t->cells, t->n * sizeof *cells);
        t->cells = cells;
        t->cap = cap;
    }
    t->cells[t->n++] = need(sl_arena_strdup(t->a, text == NULL      ? ""
                                                  : text[0] != '\0' ? text
                                                                    : "-"));
}

static void print_row(const char *const *cells, size_t ncols, const size_t *width)
{
    for (size_t i = 0; i < ncols; i++) {
        if (i + 1 == ncols)
            printf("%s\n", cells[i]);
        else
            printf("%-*s  ", (int)width[i], cells[i]);
    }
}

void cli_table_print(const cli_table *t)
{
    size_t width[CLI_TABLE_MAX_COLS] = {0};
    size_t rows = t->ncols == 0 ? 0 : t->n / t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        width[i] = strlen(t->head[i]);
        for (size_t r = 0; r < rows; r++) {
            size_t w = strlen(t->cells[r * t->ncols + i]);
            if (w > width[i])
                width[i] = w;
        }
    }
    print_row(t->head, t->ncols, width);
    for (size_t r = 0; r < rows; r++)
        print_row(t->cells + r * t->ncols, t->ncols, width);
    if (rows == 0)
        puts("(none)");
}
