/*
 * sl_config: environment variable getters with validation.
 */
#include "sl_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return (v == NULL || v[0] == '\0') ? NULL : v;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int sl_parse_int64(const char *s, int64_t *out)
{
    /* strtoll would also take leading blanks and a '+': " 42" or "+42" in
     * the environment is a mistake to report, not a number, and the port
     * of "host: 80" would pass here and fail later in gRPC. */
    if (s == NULL || !(is_digit(s[0]) || (s[0] == '-' && is_digit(s[1]))))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

int sl_parse_duration_ms(const char *s, int64_t *out)
{
    if (s == NULL || !is_digit(s[0]))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || v < 0)
        return -1;
    int64_t mult;
    if (*end == '\0' || strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0)
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60 * 1000;
    else if (strcmp(end, "h") == 0)
        mult = 3600 * 1000;
    else
        return -1;
    if (v > INT64_MAX / mult)
        return -1;
    *out = (int64_t)v * mult;
    return 0;
}

int sl_parse_bool(const char *s, bool *out)
{
    if (s == NULL)
        return -1;
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

int sl_parse_hostport(const char *s)
{
    if (s == NULL)
        return -1;
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close == s + 1 || close[1] != ':')
            return -1;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || colon == s || memchr(s, ':', (size_t)(colon - s)) != NULL)
            return -1;
    }
    int64_t port;
    if (sl_parse_int64(colon + 1, &port) != 0 || port < 1 || port > 65535)
        return -1;
    return 0;
}

sl_status sl_config_parse_int(const char *name, const char *text, int64_t min, int64_t max,
                              int64_t *out, sl_err *err)
{
    int64_t x;
    if (sl_parse_int64(text, &x) != 0 || x < min || x > max)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid %s \"%s\": expected an integer between %" PRId64 " and %" PRId64,
                          name, text, min, max);
    *out = x;
    return SL_OK;
}

sl_status sl_config_parse_duration_ms(const char *name, const char *text, int64_t min, int64_t max,
                                      int64_t *out, sl_err *err)
{
    int64_t x;
    if (sl_parse_duration_ms(text, &x) != 0 || x < min || x > max)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid %s \"%s\": expected a duration such as 500ms, 30s or 5m "
                          "between %" PRId64 "ms and %" PRId64 "ms",
                          name, text, min, max);
    *out = x;
    return SL_OK;
}

sl_status sl_config_parse_bool(const char *name, const char *text, bool *out, sl_err *err)
{
    if (sl_parse_bool(text, out) != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid %s \"%s\": expected true or false",
                          name, text);
    return SL_OK;
}

sl_status sl_config_parse_hostport(const char *name, const char *text, sl_err *err)
{
    if (sl_parse_hostport(text) != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid %s \"%s\": expected host:port (port 1-65535)", name, text);
    return SL_OK;
}

sl_status sl_config_string(const char *name, const char *def, const char **out, sl_err *err)
{
    (void)err;
    const char *v = env_or_null(name);
    *out = v != NULL ? v : def;
    return SL_OK;
}

sl_status sl_config_int(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out,
                        sl_err *err)
{
    const char *v = env_or_null(name);
    if (v == NULL) {
        *out = def;
        return SL_OK;
    }
    return sl_config_parse_int(name, v, min, max, out, err);
}

sl_status sl_config_duration_ms(const char *name, int64_t def, int64_t min, int64_t max,
                                int64_t *out, sl_err *err)
{
    const char *v = env_or_null(name);
    if (v == NULL) {
        *out = def;
        return SL_OK;
    }
    return sl_config_parse_duration_ms(name, v, min, max, out, err);
}

sl_status sl_config_bool(const char *name, bool def, bool *out, sl_err *err)
{
    const char *v = env_or_null(name);
    if (v == NULL) {
        *out = def;
        return SL_OK;
    }
    return sl_config_parse_bool(name, v, out, err);
}

/* A string variable whose value parse (one of the sl_config_parse_*
 * address checks) accepts; unset or empty gives def. */
static sl_status checked_string(const char *name, const char *def, const char **out,
                                sl_status (*parse)(const char *, const char *, sl_err *),
                                sl_err *err)
{
    const char *v = env_or_null(name);
    if (v == NULL) {
        *out = def;
        return SL_OK;
    }
    sl_status st = parse(name, v, err);
    if (st == SL_OK)
        *out = v;
    return st;
}

sl_status sl_config_hostport(const char *name, const char *def, const char **out, sl_err *err)
{
    return checked_string(name, def, out, sl_config_parse_hostport, err);
}

/* An ipv4:/ipv6: address list: host:port items separated by commas, IPv6
 * hosts in brackets as in plain host:port ("ipv6:[::1]:50051"). */
static int parse_list(const char *list)
{
    char item[256];
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || n >= sizeof item)
            return -1;
        memcpy(item, p, n);
        item[n] = '\0';
        if (sl_parse_hostport(item) != 0)
            return -1;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

int sl_parse_target(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return -1;
    if (strncmp(s, "ipv4:", 5) == 0 || strncmp(s, "ipv6:", 5) == 0)
        return parse_list(s + 5);
    if (strncmp(s, "dns:", 4) == 0) {
        /* dns:host:port, dns:///host:port or dns://authority/host:port */
        const char *name = s + 4;
        if (strncmp(name, "//", 2) == 0) {
            name = strchr(name + 2, '/');
            if (name == NULL)
                return -1;
            name++;
        }
        return sl_parse_hostport(name);
    }
    if (strncmp(s, "unix:", 5) == 0)
        return s[5] != '\0' ? 0 : -1;
    return sl_parse_hostport(s);
}

sl_status sl_config_parse_target(const char *name, const char *text, sl_err *err)
{
    if (sl_parse_target(text) != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid %s \"%s\": expected host:port, ipv4:host:port[,host:port...], "
                          "dns:///name:port or unix:path",
                          name, text);
    return SL_OK;
}

sl_status sl_config_target(const char *name, const char *def, const char **out, sl_err *err)
{
    return checked_string(name, def, out, sl_config_parse_target, err);
}
