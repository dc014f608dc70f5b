/*
 * sl_utf8: UTF-8 checks for text that comes from outside.
 *
 * protobuf-c does not check that proto3 `string` fields hold UTF-8, and
 * PostgreSQL refuses invalid sequences only when a statement runs, deep
 * inside a handler and possibly after another service was already called.
 * The request check (sl_valid) refuses them at the door instead; the error
 * paths use sl_utf8_sanitize so a message that quotes a bad value is itself
 * valid UTF-8 (gRPC status messages, JSON logs and Connect bodies require
 * it).
 */
#ifndef SL_UTF8_H
#define SL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when p[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  On false, *bad_at (if not NULL) is
 * the offset of the first byte of the first ill-formed sequence. */
bool sl_utf8_valid(const uint8_t *p, size_t len, size_t *bad_at);

/* Rewrites the NUL-terminated string s (buffer of cap bytes) so that it is
 * valid UTF-8: each byte of an ill-formed sequence becomes the four
 * characters \xNN.  When the result does not fit, it is cut at a character
 * boundary.  Never fails; a no-op for valid text (the common case, checked
 * first without copying).  At most 1,023 bytes are kept. */
void sl_utf8_sanitize(char *s, size_t cap);

#endif
