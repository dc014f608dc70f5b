/*
 * timeshift_futex: a test-only LD_PRELOAD companion of libfaketime for
 * tests/timeshift.sh.
 *
 * libfaketime moves what processes read from the wall clock, but it cannot
 * move what the kernel compares with: abseil (Debian 12's 20220623, which
 * gRPC core's mutexes and condition variables are built on) waits on a
 * futex with FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME and an absolute
 * deadline computed from the faked clock.  The kernel measures that
 * deadline against the real clock, so with the clock a year ahead every
 * timed wait inside gRPC (its timer thread: deadlines, backoff, keepalive,
 * connection age) would sleep for a year.  This library interposes
 * syscall(), which abseil calls through the PLT, and takes the fake offset
 * back out of exactly those deadlines.  Everything else passes through.
 *
 * The offset is read from FAKETIME, which timeshift.sh sets to "+N" or
 * "-N" seconds; any other form leaves the deadlines alone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>

typedef long (*syscall_fn)(long, ...);

static long fake_offset_s(void)
{
    static long offset = -1;
    static int known;
    if (!known) {
        const char *f = getenv("FAKETIME");
        char *end = NULL;
        long v = f != NULL && (f[0] == '+' || f[0] == '-') ? strtol(f, &end, 10) : 0;
        offset = end != NULL && *end == '\0' ? v : 0;
        known = 1;
    }
    return offset;
}

long syscall(long number, ...)
{
    static syscall_fn real;
    if (real == NULL)
        real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_futex) {
        int op = (int)a[1];
        struct timespec *ts = (struct timespec *)a[3];
        long off = fake_offset_s();
        if ((op & FUTEX_CLOCK_REALTIME) != 0 && (op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET &&
            ts != NULL && off != 0) {
            /* Only deadlines on the faked clock move: those nearer the
             * faked than the real now (a deadline some library computed
             * from the real clock stays as it is).  The real now comes from
             * the kernel itself, which libfaketime does not intercept. */
            struct timespec now;
            real(SYS_clock_gettime, (long)CLOCK_REALTIME, (long)&now, 0L, 0L, 0L, 0L);
            long faked_now = now.tv_sec + off;
            long d_fake = ts->tv_sec - faked_now, d_real = ts->tv_sec - now.tv_sec;
            if (labs(d_fake) < labs(d_real)) {
                struct timespec real_ts = *ts;
                real_ts.tv_sec -= off;
                return real(number, a[0], a[1], a[2], (long)&real_ts, a[4], a[5]);
            }
        }
    }
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
