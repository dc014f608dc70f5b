/*
 * sl_utf8: UTF-8 well-formedness (RFC 3629, Table 3-7 of the Unicode
 * standard) and escaping of ill-formed bytes in messages.
 */
#include "sl_utf8.h"

#include <stdio.h>
#include <string.h>

/* Length of the well-formed sequence starting at p[0] (at most n bytes
 * available), or 0 when it is ill-formed or cut short. */
static size_t seq_len(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    if (b < 0x80)
        return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        if (b == 0xF0)
            lo = 0x90; /* overlong */
        else if (b == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 or F5..FF */
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return len;
}

bool sl_utf8_valid(const uint8_t *p, size_t len, size_t *bad_at)
{
    size_t i = 0;
    while (i < len) {
        /* ASCII runs are the usual content: skip them byte by byte. */
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = seq_len(p + i, len - i);
        if (k == 0) {
            if (bad_at != NULL)
                *bad_at = i;
            return false;
        }
        i += k;
    }
    return true;
}

void sl_utf8_sanitize(char *s, size_t cap)
{
    size_t len = strlen(s);
    if (sl_utf8_valid((const uint8_t *)s, len, NULL) || cap == 0)
        return;
    /* Messages are short (sl_err holds 512 bytes): a stack copy is enough,
     * and longer text is cut rather than allocated for on an error path. */
    char buf[1024];
    size_t limit = cap < sizeof buf ? cap : sizeof buf;
    size_t o = 0;
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        size_t k = seq_len(p + i, len - i);
        if (k == 0) {
            if (o + 4 >= limit)
                break;
            snprintf(buf + o, 5, "\\x%02x", p[i]);
            o += 4;
            i++;
        } else {
            if (o + k >= limit)
                break;
            memcpy(buf + o, p + i, k);
            o += k;
            i += k;
        }
    }
    buf[o] = '\0';
    memcpy(s, buf, o + 1);
}
