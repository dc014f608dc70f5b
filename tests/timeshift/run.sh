#!/usr/bin/env bash
# The unit and integration tests again, with the clock moved: every test
# process, every service it starts and the test PostgreSQL run under
# libfaketime (Debian's faketime) with one shared offset, so a test that
# only passes on the day it was written -- a fixed date that becomes the
# past, a weekday assumed, an hour that does not exist -- fails the day it
# is written rather than months later.
#
# Clocks (each a full run; the offset is computed once per run, so all
# processes agree on the time, and time then passes at the normal rate):
#   friday-evening  a year and more ahead, Friday 2027-12-10 23:58:30 UTC
#                   (18:58 in New York, after every warehouse's cut-off),
#                   crossing midnight UTC into Saturday during the run;
#   dst-fall-back   Sunday 2027-11-07 05:58:30 UTC, two minutes before New
#                   York's clocks go back from 02:00 EDT to 01:00 EST, so
#                   the run crosses the repeated hour.
# CLOCK_MONOTONIC is left alone (FAKETIME_DONT_FAKE_MONOTONIC): timeouts and
# latencies stay real.  libshelfline_timeshift.so (futex.c beside this
# script) keeps gRPC core's timed waits on the real clock: abseil waits on
# futexes with CLOCK_REALTIME deadlines the kernel reads from the real
# clock, so without it every gRPC timer would wait out the offset.  FAKETIME_FORCE_MONOTONIC_FIX=0 turns off a glibc
# workaround of libfaketime 0.9.10 that makes pthread_cond_timedwait on a
# CLOCK_MONOTONIC condition variable (sl_db, sl_outbox, sl_health) time
# out at once: with it, the suite's waits would spin, and fail as waits.  Interop (Go does not read the clock through libc),
# style and fuzz tests do not depend on the date and are not repeated, nor
# are integration_db and integration_db_restart: they test PostgreSQL's own
# timeouts (statement_timeout, deadlock detection), which do not fire in a
# server under libfaketime, and a deadlock left undetected there holds the
# cluster's xmin back for every other test.  Nor is integration_make_run:
# it runs `make run`'s script (its own embedded cluster through pg.sh, four
# services, openssl, curl and Python clients) and has no date logic of
# its own; under the preload its start did not complete within the test's
# 300 s, and the services' date-bound behaviour is covered by the other
# integration tests here.
#
# usage: tests/timeshift/run.sh BUILD_DIR [CLOCK...]   (default: both clocks)
set -euo pipefail
build=$(cd "${1:?usage: timeshift/run.sh BUILD_DIR [CLOCK...]}" && pwd)
shift
lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
if [ ! -r "$lib" ]; then
    echo "timeshift: $lib is missing (deploy/local/deps.sh test installs faketime)" >&2
    exit 1
fi
shim=$build/lib/libshelfline_timeshift.so
if [ ! -r "$shim" ]; then
    echo "timeshift: $shim is missing (built with the tests)" >&2
    exit 1
fi
[ $# -gt 0 ] || set -- friday-evening dst-fall-back

for clock in "$@"; do
    case "$clock" in
    friday-evening) at='2027-12-10 23:58:30 UTC' ;;
    dst-fall-back) at='2027-11-07 05:58:30 UTC' ;;
    *) echo "timeshift: unknown clock \"$clock\" (friday-evening, dst-fall-back)" >&2; exit 2 ;;
    esac
    offset=$(( $(date -d "$at" +%s) - $(date +%s) ))
    echo "timeshift: unit and integration tests at $at ($clock, offset ${offset}s)"
    # pg_start (a ctest fixture) makes a fresh cluster for each run, so no
    # run sees rows another clock wrote.
    if ! (cd "$build" &&
          LD_PRELOAD="$lib $shim" FAKETIME="+$offset" FAKETIME_DONT_FAKE_MONOTONIC=1 \
              FAKETIME_FORCE_MONOTONIC_FIX=0 ctest --output-on-failure -j "$(nproc)" -L '^(unit|integration)$' \
              -E '^integration_(db|db_restart|make_run)$' \
              >"$build/timeshift-$clock.log" 2>&1); then
        cat "$build/timeshift-$clock.log"
        echo "timeshift: tests failed with the clock at $at ($clock); log in" \
             "$build/timeshift-$clock.log" >&2
        exit 1
    fi
    grep -a "tests passed" "$build/timeshift-$clock.log"
done
