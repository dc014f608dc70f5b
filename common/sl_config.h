/*
 * sl_config: settings from environment variables.
 *
 * Each getter takes the variable's name and its default, validates the
 * value, and on a bad value fails with INVALID_ARGUMENT and a message naming
 * the variable and the value, e.g.
 *   invalid SHELFLINE_WORKERS "abc": expected an integer between 1 and 256
 * Values returned as strings point into the environment (process lifetime).
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_status.h"

/* Empty and unset both mean "use the default". */
sl_status sl_config_string(const char *name, const char *def, const char **out, sl_err *err);

sl_status sl_config_int(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out,
                        sl_err *err);

/* Accepts "250ms", "30s", "5m", "2h" or a plain number of milliseconds. */
sl_status sl_config_duration_ms(const char *name, int64_t def, int64_t min, int64_t max,
                                int64_t *out, sl_err *err);

/* Accepts true/false, 1/0, yes/no, on/off. */
sl_status sl_config_bool(const char *name, bool def, bool *out, sl_err *err);

/* host:port with a port in 1..65535; "[::1]:50051" for IPv6. */
sl_status sl_config_hostport(const char *name, const char *def, const char **out, sl_err *err);

/*
 * The getters' pure parsers: each validates text, the value of the variable
 * name, exactly as the getter does (text must not be NULL; the getters turn
 * unset and empty into the default before they get here, so "" is a bad
 * value), and on a bad value fails with SL_INVALID_ARGUMENT and the
 * getter's message naming name and text.  Nothing is written to *out on
 * failure.  Command-line tools and the fuzz targets call them directly.
 */
sl_status sl_config_parse_int(const char *name, const char *text, int64_t min, int64_t max,
                              int64_t *out, sl_err *err);
sl_status sl_config_parse_duration_ms(const char *name, const char *text, int64_t min, int64_t max,
                                      int64_t *out, sl_err *err);
sl_status sl_config_parse_bool(const char *name, const char *text, bool *out, sl_err *err);
sl_status sl_config_parse_hostport(const char *name, const char *text, sl_err *err);
sl_status sl_config_parse_target(const char *name, const char *text, sl_err *err);

/* The grammars under those parsers, exposed for tests and command-line
 * flags: an integer is an optional '-' and decimal digits (no blanks, no
 * '+'), a duration such digits without the sign and an optional unit.
 * Return 0 on success, -1 on a malformed value (including NULL). */
int sl_parse_int64(const char *s, int64_t *out);
int sl_parse_duration_ms(const char *s, int64_t *out);
int sl_parse_bool(const char *s, bool *out);
int sl_parse_hostport(const char *s);

/* A gRPC target URI for a peer: "host:port", "ipv4:a:p,b:p" (several
 * replicas, calls balanced round robin), "ipv6:[::1]:p", "dns:///name:port"
 * (every address DNS gives, e.g. a Kubernetes headless Service) or
 * "unix:path".  sl_parse_target returns 0 or -1 like the parsers above. */
sl_status sl_config_target(const char *name, const char *def, const char **out, sl_err *err);
int sl_parse_target(const char *s);

#endif
