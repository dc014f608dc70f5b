#!/usr/bin/env bash
# Customer-value service benchmark: GetCustomerValue calls/s and latency
# with concurrent clients, on the demo data set (10,000 customers, ~41,000
# orders, a fit), end to end over loopback gRPC.  Also one short run each
# of Recommend and GetRepurchaseReminders for scale.
#
# usage: tests/bench/cv_service_bench.sh BUILD_DIR
#
# Standalone.  It builds the load client (tests/bench/cv_load.c) against
# BUILD_DIR's libraries, starts a private PostgreSQL cluster
# (deploy/local/pg.sh; fsync off: the measured calls only read), one
# shelfline-inventory and one shelfline-customer-value process, loads both
# demo data sets through the APIs (shelfline-inventory-demo, then
# shelfline-customer-value-demo), runs the cases, and prints every command
# and raw figure.  Only 127.0.0.1 is used.
#
# Knobs (environment), defaults in brackets:
#   CV_BENCH_CLIENTS    concurrent GetCustomerValue clients [16]
#   CV_BENCH_DURATION   measured seconds per case [10]
#   CV_BENCH_WARMUP     warm-up seconds per case [2]
#
# Exit status: 0 when every case ran without errors, 1 otherwise, 2 on usage.
set -euo pipefail
# The benchmark measures the service alone: it runs without authentication,
# said in so many words (services fail closed otherwise).
export SHELFLINE_AUTH=none

if [ $# -ne 1 ]; then
    echo "usage: tests/bench/cv_service_bench.sh BUILD_DIR" >&2
    exit 2
fi
build=$(realpath -m "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
clients=${CV_BENCH_CLIENTS:-16}
duration=${CV_BENCH_DURATION:-10}
warmup=${CV_BENCH_WARMUP:-2}

for f in "$build/bin/shelfline-inventory" "$build/bin/shelfline-customer-value" \
         "$build/bin/shelfline-inventory-demo" "$build/bin/shelfline-customer-value-demo" \
         "$build/common/libshelfline_common.a" "$build/proto/libshelfline_proto.a"; do
    if [ ! -e "$f" ]; then
        echo "cv_service_bench: $f is missing; build first (cmake --build $1)" >&2
        exit 1
    fi
done

work=$(mktemp -d /tmp/cv-bench.XXXXXX)
chmod 755 "$work" # PostgreSQL runs as "postgres" when we are root
pgdir=$work/pg
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    "$repo/deploy/local/pg.sh" destroy "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
show() { local q; printf -v q '%q ' "$@"; printf '  $ %s\n' "${q% }"; }

say "== customer-value service benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
say "build: $build ($(grep -m1 '^CMAKE_BUILD_TYPE' "$build/CMakeCache.txt" 2>/dev/null || echo 'build type unknown'))"

load=$work/cv_load
cmd=(cc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers
     -I"$repo/common" -I"$build/gen" "$here/cv_load.c" -o "$load"
     "$build/common/libshelfline_common.a" "$build/proto/libshelfline_proto.a")
# shellcheck disable=SC2207
cmd+=($(pkg-config --cflags --libs grpc libprotobuf-c libpq libjwt jansson libmicrohttpd gnutls) -lpthread -lm)
show "${cmd[@]}"
"${cmd[@]}"

url=$(PG_FSYNC=off "$repo/deploy/local/pg.sh" start "$pgdir")
inv_port=$(( 30000 + RANDOM % 10000 ))
cv_port=$(( 40000 + RANDOM % 10000 ))
wait_port() {
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "cv_service_bench: nothing listens on port $1:" >&2
    tail -20 "$work/service.log" >&2
    exit 1
}
SHELFLINE_DATABASE_URL=$url SHELFLINE_LISTEN=127.0.0.1:$inv_port SHELFLINE_HTTP_LISTEN=127.0.0.1:0 SHELFLINE_LOG_LEVEL=error \
    "$build/bin/shelfline-inventory" >>"$work/service.log" 2>&1 &
pids+=($!)
SHELFLINE_DATABASE_URL=$url SHELFLINE_LISTEN=127.0.0.1:$cv_port SHELFLINE_HTTP_LISTEN=127.0.0.1:0 SHELFLINE_LOG_LEVEL=error \
SHELFLINE_INVENTORY_ADDR=127.0.0.1:$inv_port \
    "$build/bin/shelfline-customer-value" >>"$work/service.log" 2>&1 &
pids+=($!)
wait_port "$inv_port"
wait_port "$cv_port"
export SHELFLINE_INVENTORY_ADDR=127.0.0.1:$inv_port SHELFLINE_CUSTOMER_VALUE_ADDR=127.0.0.1:$cv_port
say "loading the demo data sets"
show "$build/bin/shelfline-inventory-demo"
"$build/bin/shelfline-inventory-demo"
show "$build/bin/shelfline-customer-value-demo"
"$build/bin/shelfline-customer-value-demo"
# Freshly bulk-loaded tables have no statistics yet (autovacuum would get
# there within a minute): measure the steady state.
show psql "$url" -c "VACUUM ANALYZE"
psql "$url" -qc "VACUUM ANALYZE"

failed=0
run_case() {
    local name=$1; shift
    say "-- $name"
    show "$load" "$@"
    local out
    out=$("$load" "$@")
    say "  $out"
    case "$out" in *" errors=0 "*) ;; *) failed=1 ;; esac
}
run_case "GetCustomerValue, $clients clients" --target=127.0.0.1:$cv_port --mode=value \
    --clients="$clients" --duration="$duration" --warmup="$warmup"
run_case "GetCustomerValue, 1 client" --target=127.0.0.1:$cv_port --mode=value \
    --clients=1 --duration="$duration" --warmup="$warmup"
run_case "Recommend(n=10), 4 clients" --target=127.0.0.1:$cv_port --mode=recommend \
    --clients=4 --duration="$duration" --warmup="$warmup"
run_case "GetRepurchaseReminders(7 days), 1 client" --target=127.0.0.1:$cv_port --mode=reminders \
    --clients=1 --duration="$duration" --warmup="$warmup"
exit $failed
