/*
 * sl_trace: W3C traceparent parsing and span ids.
 */
#include "sl_trace.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static _Thread_local const sl_trace *current;
static _Thread_local uint64_t rng;

/* Ids need not be secret, only unique: a per-thread xorshift seeded from
 * the kernel once. */
static uint64_t next_random(void)
{
    if (rng == 0) {
        if (getrandom(&rng, sizeof rng, 0) != (ssize_t)sizeof rng || rng == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            rng = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
                  (uint64_t)(uintptr_t)&rng;
            if (rng == 0)
                rng = 0x9E3779B97F4A7C15ULL;
        }
    }
    uint64_t x = rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng = x;
    return x * 2685821657736338717ULL;
}

static bool lower_hex(const char *s, size_t n, bool *all_zero)
{
    *all_zero = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        if (c != '0')
            *all_zero = false;
    }
    return true;
}

static unsigned hex_value(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

bool sl_trace_parse(const char *tp, size_t len, char trace_id[33], char parent_id[17],
                    uint8_t *flags)
{
    bool zero;
    if (tp == NULL || len < SL_TRACEPARENT_LEN)
        return false;
    if (!lower_hex(tp, 2, &zero) || (tp[0] == 'f' && tp[1] == 'f'))
        return false;
    bool v00 = tp[0] == '0' && tp[1] == '0';
    /* Version 00 is exactly 55 characters; a later version may go on after
     * a '-', and is read as far as version 00 goes. */
    if ((v00 && len != SL_TRACEPARENT_LEN) ||
        (!v00 && len > SL_TRACEPARENT_LEN && tp[SL_TRACEPARENT_LEN] != '-'))
        return false;
    if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
        return false;
    if (!lower_hex(tp + 3, 32, &zero) || zero)
        return false;
    if (!lower_hex(tp + 36, 16, &zero) || zero)
        return false;
    if (!lower_hex(tp + 53, 2, &zero))
        return false;
    memcpy(trace_id, tp + 3, 32);
    trace_id[32] = '\0';
    memcpy(parent_id, tp + 36, 16);
    parent_id[16] = '\0';
    *flags = (uint8_t)(hex_value(tp[53]) << 4 | hex_value(tp[54]));
    return true;
}

void sl_trace_begin(sl_trace *t, const char *traceparent, size_t len, const char *tracestate,
                    size_t slen)
{
    t->state[0] = '\0';
    if (sl_trace_parse(traceparent, len, t->trace_id, t->parent_id, &t->flags)) {
        if (tracestate != NULL && slen > 0) {
            if (slen >= sizeof t->state)
                slen = sizeof t->state - 1;
            memcpy(t->state, tracestate, slen);
            t->state[slen] = '\0';
        }
    } else {
        uint64_t hi = next_random(), lo = next_random();
        snprintf(t->trace_id, sizeof t->trace_id, "%016llx%016llx", (unsigned long long)hi,
                 (unsigned long long)(lo | 1)); /* never all zero */
        t->parent_id[0] = '\0';
        t->flags = 0;
    }
    snprintf(t->span_id, sizeof t->span_id, "%016llx", (unsigned long long)(next_random() | 1));
}

void sl_trace_set_request_id(sl_trace *t, const char *id, size_t len)
{
    if (id == NULL || len == 0) {
        snprintf(t->request_id, sizeof t->request_id, "%016llx", (unsigned long long)next_random());
        return;
    }
    if (len >= sizeof t->request_id)
        len = sizeof t->request_id - 1;
    memcpy(t->request_id, id, len);
    t->request_id[len] = '\0';
}

void sl_trace_traceparent(const sl_trace *t, char *out, size_t cap)
{
    snprintf(out, cap, "00-%s-%s-%02x", t->trace_id, t->span_id, t->flags);
}

const sl_trace *sl_trace_current(void)
{
    return current;
}

const sl_trace *sl_trace_swap(const sl_trace *t)
{
    const sl_trace *prev = current;
    current = t;
    return prev;
}
