/*
 * Fuzz target: the parsers of configuration text -- common/sl_config.c's
 * sl_config_parse_int, _duration_ms, _bool and _hostport (the environment
 * getters' parsers, also every listen address) and sl_parse_target (peer
 * addresses: gRPC target URIs), the log level
 * words (sl_log_level_parse), the role names of bearer tokens
 * (sl_role_parse; the tokens themselves: fuzz_jwt.c), and the
 * service-desk settings read as strings and parsed at start-up:
 * sd_sla_hours_parse (SHELFLINE_SD_SLA_HOURS), sd_comp_policy_parse
 * (SHELFLINE_SD_COMP_TIERS and _CURRENCY) and sd_coupon_key_parse
 * (SHELFLINE_SD_COUPON_KEY).
 *
 * Input: byte 0 picks the parser (and, for the ranged ones, its bounds),
 * the rest is the text up to its first NUL (an environment value cannot
 * hold one).
 * Properties checked: no crash, leak or undefined behaviour; each
 * sl_config parser accepts exactly what an independent reference grammar
 * in this file accepts (integers -?[0-9]+ within int64 and the bounds,
 * durations [0-9]+(ms|s|m|h)? without overflow, the eight boolean words in
 * any case, host:port with a non-empty host, [v6] in brackets and a port
 * 1..65535 in plain digits) and returns the same value; a rejection is
 * INVALID_ARGUMENT with a message naming the variable; an accepted log
 * level is one of its four words; a role name parses exactly when it is
 * one of the five and formats back to itself; what the service-desk
 * parsers accept satisfies their documented invariants (intervals within
 * 0..1440, ascending and disjoint; tiers ascending with non-decreasing
 * values in range, usable by sd_comp_decide; a three-letter currency; a
 * coupon key of 32 hex digits, never quoted in an error).
 *
 * Built two ways: with clang -fsanitize=fuzzer for `make fuzz`, and with
 * fuzz_driver.c as a deterministic ctest that replays seeds and mutations.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sd_comp.h"
#include "sd_sla.h"
#include "sl_config.h"
#include "sl_log.h"
#include "sl_service.h"

#define NAME "SHELFLINE_FUZZ"
#define MAX_TEXT 512

static void check(bool ok)
{
    if (!ok)
        abort();
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Plain decimal digits s[0..n) into *v; false when empty, not digits or
 * above limit. */
static bool ref_digits(const char *s, size_t n, uint64_t limit, uint64_t *v)
{
    if (n == 0)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (limit - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

static bool ref_int(const char *s, int64_t *out)
{
    bool neg = s[0] == '-';
    uint64_t v;
    if (!ref_digits(s + neg, strlen(s + neg), neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v))
        return false;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

static bool ref_duration(const char *s, int64_t *out)
{
    size_t n = 0;
    while (is_digit(s[n]))
        n++;
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        uint64_t v;
        if (strcmp(s + n, units[i].unit) == 0)
            return ref_digits(s, n, (uint64_t)(INT64_MAX / units[i].mult), &v) &&
                   (*out = (int64_t)v * units[i].mult, true);
    }
    return false;
}

static bool ref_bool(const char *s, bool *out)
{
    static const char *const words[] = {"1", "true", "yes", "on", "0", "false", "no", "off"};
    for (size_t i = 0; i < 8; i++)
        if (strcasecmp(s, words[i]) == 0)
            return *out = i < 4, true;
    return false;
}

static bool ref_hostport(const char *s)
{
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close == s + 1 || close[1] != ':')
            return false;
        colon = close + 1;
    } else {
        colon = strchr(s, ':');
        if (colon == NULL || colon == s || strchr(colon + 1, ':') != NULL)
            return false;
    }
    uint64_t port;
    return ref_digits(colon + 1, strlen(colon + 1), 65535, &port) && port >= 1;
}

static void check_rejection(sl_status st, const sl_err *err)
{
    check(st == SL_INVALID_ARGUMENT && err->status == st);
    check(strstr(err->msg, NAME) != NULL);
}

static const int64_t bounds[][2] = {
    {INT64_MIN, INT64_MAX}, {1, 256}, {0, 30}, {-100, 100}, {0, INT32_MAX}, {10, 3600 * 1000},
};

static void fuzz_sl_config(uint8_t which, const char *text)
{
    sl_err err = {0};
    const int64_t *b = bounds[(which >> 3) % (sizeof bounds / sizeof bounds[0])];
    switch (which & 3) {
    case 0: {
        int64_t v = 42, want;
        sl_status st = sl_config_parse_int(NAME, text, b[0], b[1], &v, &err);
        bool ok = ref_int(text, &want) && want >= b[0] && want <= b[1];
        check((st == SL_OK) == ok);
        if (ok)
            check(v == want);
        else
            check_rejection(st, &err), check(v == 42);
        break;
    }
    case 1: {
        int64_t v = 42, want;
        int64_t lo = b[0] < 0 ? 0 : b[0];
        sl_status st = sl_config_parse_duration_ms(NAME, text, lo, b[1], &v, &err);
        bool ok = ref_duration(text, &want) && want >= lo && want <= b[1];
        check((st == SL_OK) == ok);
        if (ok)
            check(v == want);
        else
            check_rejection(st, &err), check(v == 42);
        break;
    }
    case 2: {
        bool v = false, want = false;
        sl_status st = sl_config_parse_bool(NAME, text, &v, &err);
        bool ok = ref_bool(text, &want);
        check((st == SL_OK) == ok);
        if (ok)
            check(v == want);
        else
            check_rejection(st, &err);
        break;
    }
    default: {
        sl_status st = sl_config_parse_hostport(NAME, text, &err);
        bool ok = ref_hostport(text);
        check((st == SL_OK) == ok);
        if (!ok)
            check_rejection(st, &err);
        /* Peer targets (SHELFLINE_*_ADDR): without a scheme a target is
         * exactly a host:port; with one, parsing never crashes. */
        bool scheme = strncmp(text, "ipv4:", 5) == 0 || strncmp(text, "ipv6:", 5) == 0 ||
                      strncmp(text, "dns:", 4) == 0 || strncmp(text, "unix:", 5) == 0;
        sl_status tst = sl_config_parse_target(NAME, text, &err);
        if (!scheme)
            check((tst == SL_OK) == ok);
        if (tst != SL_OK)
            check_rejection(tst, &err);
        break;
    }
    }
}

/* SHELFLINE_LOG_LEVEL's words, and the role names a token's roles claim
 * holds. */
static void fuzz_log_level_and_token(const char *text)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    sl_log_level lv = SL_LOG_ERROR;
    int got = sl_log_level_parse(text, &lv);
    bool known = false;
    for (int i = 0; i < 4; i++)
        if (strcmp(text, levels[i]) == 0)
            known = true, check(got == 0 && (int)lv == i);
    check(known || got == -1);

    static const char *const roles[] = {"storefront", "cs-agent", "planner", "stock-admin",
                                        "service"};
    unsigned bit = sl_role_parse(text, strlen(text));
    bool role = false;
    for (int i = 0; i < 5; i++)
        if (strcmp(text, roles[i]) == 0)
            role = true, check(bit == 1u << i);
    check(role || bit == 0);
    if (bit != 0) {
        char back[64];
        check(strcmp(sl_roles_format(bit, ",", back, sizeof back), text) == 0);
    }
}

static void fuzz_sla_hours(const char *text)
{
    sd_sla_day week[7];
    sl_err err = {0};
    sl_status st = sd_sla_hours_parse(text, week, &err);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT);
        return;
    }
    for (int d = 0; d < 7; d++) {
        check(week[d].n <= SD_SLA_MAX_INTERVALS);
        int prev_close = -1;
        for (size_t i = 0; i < week[d].n; i++) {
            int o = week[d].iv[i].open_minute, c = week[d].iv[i].close_minute;
            check(o >= 0 && o < c && c <= 1440 && o >= prev_close);
            prev_close = c;
        }
    }
}

static void fuzz_comp(const char *text)
{
    /* The text is "tiers|currency"; without '|' the currency is EUR. */
    char buf[MAX_TEXT + 1];
    snprintf(buf, sizeof buf, "%s", text);
    char *bar = strchr(buf, '|');
    const char *currency = "EUR";
    if (bar != NULL) {
        *bar = '\0';
        currency = bar + 1;
    }
    sd_comp_policy p;
    sl_err err = {0};
    sl_status st = sd_comp_policy_parse(buf, currency, &p, &err);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT);
        return;
    }
    check(p.n_tiers <= SD_COMP_MAX_TIERS);
    check(strlen(p.currency) == 3);
    for (int i = 0; i < 3; i++)
        check(p.currency[i] >= 'A' && p.currency[i] <= 'Z');
    for (size_t i = 0; i < p.n_tiers; i++) {
        check(p.tiers[i].min_slip_days >= 0 && p.tiers[i].min_slip_days <= 365);
        check(p.tiers[i].value_minor >= 1 && p.tiers[i].value_minor <= 1000000000);
        if (i > 0)
            check(p.tiers[i].min_slip_days > p.tiers[i - 1].min_slip_days &&
                  p.tiers[i].value_minor >= p.tiers[i - 1].value_minor);
    }
    /* A policy that parsed is one sd_comp_decide accepts. */
    sd_comp_decision d;
    check(sd_comp_decide(&p, 0, 400, 0, &d, &err) == SL_OK);
    check(d.grant_minor >= 0);
}

static void fuzz_coupon_key(const char *text)
{
    uint8_t key[SD_COUPON_KEY_LEN];
    sl_err err = {0};
    sl_status st = sd_coupon_key_parse(text, key, &err);
    bool hex = strlen(text) == 2 * SD_COUPON_KEY_LEN;
    for (size_t i = 0; hex && i < 2 * SD_COUPON_KEY_LEN; i++)
        hex = strchr("0123456789abcdefABCDEF", text[i]) != NULL;
    check((st == SL_OK) == hex);
    if (hex) {
        for (size_t i = 0; i < SD_COUPON_KEY_LEN; i++) {
            unsigned byte;
            check(sscanf(text + 2 * i, "%2x", &byte) == 1 && byte == key[i]);
        }
        return;
    }
    /* The key is a secret: the message is the same whatever the text, so
     * none of it is quoted. */
    sl_err ref = {0};
    check(st == SL_INVALID_ARGUMENT && sd_coupon_key_parse("", key, &ref) == st);
    check(strcmp(err.msg, ref.msg) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char text[MAX_TEXT + 1];
    size_t n = size - 1 < MAX_TEXT ? size - 1 : MAX_TEXT;
    memcpy(text, data + 1, n);
    text[n] = '\0';
    uint8_t which = data[0];
    switch (which % 8) {
    case 0:
    case 1:
    case 2:
    case 3:
        fuzz_sl_config(which, text);
        break;
    case 4:
        fuzz_log_level_and_token(text);
        break;
    case 5:
        fuzz_sla_hours(text);
        break;
    case 6:
        fuzz_comp(text);
        break;
    default:
        fuzz_coupon_key(text);
        break;
    }
    return 0;
}
