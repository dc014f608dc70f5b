#!/usr/bin/env bash
# Inventory benchmark: end-to-end gRPC Reserve throughput and latency with
# many concurrent clients, each as a ratio to pgbench running the
# single-statement conditional update
#   UPDATE ... SET reserved = reserved + 1 WHERE sku = :s AND on_hand - reserved >= 1
# on the same PostgreSQL in the same run:
#   (a) spread: random SKUs among 100,000 (pgbench: random rows among 100,000)
#   (b) hot:    every call on one SKU (pgbench: one row)
# plus Reserve followed by Commit (an order's two calls) and AdjustStock of
# random SKUs (a ledger entry and an event per transaction), both against
# the same pgbench spread figure, and GetAvailability
# of 100 random SKUs: calls/s and p99.
#
# usage: tests/bench/inventory_bench.sh BUILD_DIR
#
# Standalone (tests/bench/run.sh may call it as a section).  It builds the
# load client (tests/bench/inventory_load.c) against BUILD_DIR's libraries,
# starts a private PostgreSQL cluster (deploy/local/pg.sh, durable settings
# unless INV_BENCH_FSYNC=off) and one shelfline-inventory process, seeds the
# catalogue with SQL (100,000 SKUs + the hot one, 1e9 units each, with
# matching ledger entries, so CheckInvariants stays clean), runs each case
# for a bounded time, prints every command and raw figure, and a summary.
# Only 127.0.0.1 is used.
#
# Each client has its own connection (up to 64 connections), as separate
# client processes would: the server runs a connection's calls on one
# worker first (see docs/INVENTORY.md, known limits).
#
# Knobs (environment), defaults in brackets:
#   INV_BENCH_CLIENTS    concurrent clients (gRPC calls in flight / pgbench
#                        connections) [64]
#   INV_BENCH_DURATION   measured seconds per case [10]
#   INV_BENCH_WARMUP     warm-up seconds per case [2]
#   INV_BENCH_FSYNC      PostgreSQL fsync and synchronous_commit [on]
#   INV_BENCH_SINGLE     1: also run the hot case with the combiner off
#                        (SHELFLINE_INVENTORY_BATCH_MAX=1) [1]
#   INV_BENCH_COMBINERS  SHELFLINE_INVENTORY_COMBINERS of the service [1, its
#                        default]
#
# Exit status: 0 when every case ran without errors, 1 otherwise, 2 on usage.
set -euo pipefail
# The benchmark measures the service alone: it runs without authentication,
# said in so many words (services fail closed otherwise).
export SHELFLINE_AUTH=none

if [ $# -ne 1 ]; then
    echo "usage: tests/bench/inventory_bench.sh BUILD_DIR" >&2
    exit 2
fi
build=$(realpath -m "$1")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
clients=${INV_BENCH_CLIENTS:-64}
duration=${INV_BENCH_DURATION:-10}
warmup=${INV_BENCH_WARMUP:-2}
fsync=${INV_BENCH_FSYNC:-on}
single=${INV_BENCH_SINGLE:-1}
combiners=${INV_BENCH_COMBINERS:-1}
pgbin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}

for f in "$build/bin/shelfline-inventory" "$build/common/libshelfline_common.a" \
         "$build/proto/libshelfline_proto.a"; do
    if [ ! -e "$f" ]; then
        echo "inventory_bench: $f is missing; build first (cmake --build $1)" >&2
        exit 1
    fi
done

work=$(mktemp -d /tmp/inventory-bench.XXXXXX)
chmod 755 "$work" # PostgreSQL runs as "postgres" when we are root
pgdir=$work/pg
svc_pid=
failed=0
cleanup() {
    if [ -n "$svc_pid" ]; then kill -TERM "$svc_pid" 2>/dev/null || true; wait "$svc_pid" 2>/dev/null || true; fi
    "$repo/deploy/local/pg.sh" destroy "$pgdir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
show() { local q; printf -v q '%q ' "$@"; printf '  $ %s\n' "${q% }"; }
value_of() { local kv; for kv in $2; do [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }; done; echo NA; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%.2f", a / b }'; }

say "== inventory benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
say "clients $clients, warm-up ${warmup}s, measured ${duration}s per case, fsync=$fsync synchronous_commit=$fsync"

# ---- the load client ----
load=$work/inventory_load
cmd=(cc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers
     -I"$repo/common" -I"$build/gen" "$here/inventory_load.c" -o "$load"
     "$build/common/libshelfline_common.a" "$build/proto/libshelfline_proto.a")
# shellcheck disable=SC2207
cmd+=($(pkg-config --cflags --libs grpc libprotobuf-c libpq libjwt jansson libmicrohttpd gnutls) -lpthread -lm)
show "${cmd[@]}"
"${cmd[@]}"

# ---- PostgreSQL and the service ----
url=$(PG_FSYNC=$fsync PG_SYNC_COMMIT=$fsync "$repo/deploy/local/pg.sh" start "$pgdir")
psql_() { "$pgbin/psql" "$url" -v ON_ERROR_STOP=1 -qAt "$@"; }
port=$(( 30000 + RANDOM % 20000 ))
start_service() {
    local batch=$1
    SHELFLINE_DATABASE_URL=$url SHELFLINE_LISTEN=127.0.0.1:$port SHELFLINE_HTTP_LISTEN=127.0.0.1:0 SHELFLINE_LOG_LEVEL=error \
    SHELFLINE_WORKERS=$(( clients + 8 )) SHELFLINE_DB_POOL=24 \
    SHELFLINE_INVENTORY_BATCH_MAX=$batch SHELFLINE_INVENTORY_COMBINERS=$combiners \
        "$build/bin/shelfline-inventory" >>"$work/service.log" 2>&1 &
    svc_pid=$!
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "inventory_bench: the service did not start:" >&2
    tail -20 "$work/service.log" >&2
    exit 1
}
stop_service() {
    kill -TERM "$svc_pid" 2>/dev/null || true
    wait "$svc_pid" 2>/dev/null || true
    svc_pid=
}
say "service: SHELFLINE_WORKERS=$(( clients + 8 )) SHELFLINE_INVENTORY_COMBINERS=$combiners SHELFLINE_INVENTORY_BATCH_MAX=64"
start_service 64

say "seeding 100,000 SKUs + B-HOT (SQL, with matching ledger entries) and the pgbench table"
psql_ <<'SQL'
SET search_path = inventory;
INSERT INTO warehouse (warehouse_id, name, region, kind, time_zone, cutoff_minutes)
VALUES ('BW-1', 'bench', 'BENCH', 'DISTRIBUTION_CENTER', 'UTC', 1020);
INSERT INTO transit (warehouse_id, region, p50_days, p90_days) VALUES ('BW-1', 'BENCH', 1, 2);
INSERT INTO product (sku, name, category, price_minor, currency)
SELECT 'B-' || lpad(i::text, 6, '0'), 'bench item', 'bench', 100, 'USD'
FROM generate_series(1, 100000) i;
INSERT INTO product (sku, name, category, price_minor, currency)
VALUES ('B-HOT', 'hot item', 'bench', 100, 'USD');
INSERT INTO stock (sku, warehouse_id, on_hand) SELECT sku, 'BW-1', 1000000000 FROM product;
INSERT INTO ledger (sku, warehouse_id, delta, reason, reference)
SELECT sku, 'BW-1', 1000000000, 'RECEIPT', 'bench seed' FROM product;
CREATE TABLE public.pgb_stock (sku int PRIMARY KEY, on_hand bigint NOT NULL, reserved bigint NOT NULL);
INSERT INTO public.pgb_stock SELECT i, 1000000000, 0 FROM generate_series(1, 100000) i;
-- Only the seeded tables: statistics of a still-empty reservation table
-- would make cached plans scan it sequentially as it fills up.
VACUUM ANALYZE product, stock, ledger, public.pgb_stock;
SQL
cat >"$work/spread.sql" <<'EOF'
\set s random(1, 100000)
UPDATE pgb_stock SET reserved = reserved + 1 WHERE sku = :s AND on_hand - reserved >= 1;
EOF
cat >"$work/hot.sql" <<'EOF'
UPDATE pgb_stock SET reserved = reserved + 1 WHERE sku = 1 AND on_hand - reserved >= 1;
EOF

# Before every case: flush and vacuum what the previous one left behind,
# so no case pays for another's checkpoint or autovacuum.
settle() {
    psql_ -c "CHECKPOINT" -c "VACUUM ANALYZE" >/dev/null
    sleep 2
}

declare -A R
run_pgbench() { # name script
    local c=(env PGOPTIONS=-csearch_path=public "$pgbin/pgbench" -n -M prepared -c "$clients" -j 2
             -T "$(( warmup + duration ))" -f "$2" "$url")
    settle
    show "${c[@]}"
    local out
    out=$("${c[@]}" 2>&1) || { say "$out"; failed=1; R[$1]="NA NA"; return; }
    local tps lat
    tps=$(awk '/^tps = / {printf "%.0f", $3; exit}' <<<"$out")
    lat=$(awk '/latency average/ {print $4; exit}' <<<"$out")
    say "  pgbench: tps=$tps latency_avg_ms=$lat"
    R[$1]="$tps $lat"
}
run_load() { # name args...
    local name=$1
    shift
    local c=("$load" --target "127.0.0.1:$port" --clients "$clients"
             --channels "$(( clients < 64 ? clients : 64 ))" --warmup "$warmup"
             --duration "$duration" --max-calls 20000000 "$@")
    settle
    show "${c[@]}"
    local out
    out=$("${c[@]}" 2>"$work/load.err") || { cat "$work/load.err"; failed=1; R[$name]="NA NA NA NA"; return; }
    cat "$work/load.err"
    say "  $out"
    local errors
    errors=$(value_of errors "$out")
    [ "$errors" = 0 ] || failed=1
    R[$name]="$(value_of calls_per_s "$out") $(value_of p50_us "$out") $(value_of p99_us "$out") $errors"
}

# A live inventory has reservations already: make some (not measured) so
# that the statistics, and the plans cached from them, are those of a
# table in use rather than of an empty one.
say "pre-warming: 5s of reservations and 3s of stock adjustments, not measured"
"$load" --target "127.0.0.1:$port" --clients "$clients" --channels "$(( clients < 64 ? clients : 64 ))" \
    --warmup 0 --duration 5 --mode reserve --skus 100000 --run warm >/dev/null
"$load" --target "127.0.0.1:$port" --clients "$clients" --channels "$(( clients < 64 ? clients : 64 ))" \
    --warmup 0 --duration 3 --mode adjust --skus 100000 --run warm >/dev/null

say ""
say "-- (a) spread over 100,000 SKUs"
run_pgbench pg_spread "$work/spread.sql"
run_load inv_spread --mode reserve --skus 100000 --run spread
say ""
say "-- (b) one hot SKU"
run_pgbench pg_hot "$work/hot.sql"
run_load inv_hot --mode reserve --sku B-HOT --run hot
if [ "$single" = 1 ]; then
    say "   the same with the combiner off (SHELFLINE_INVENTORY_BATCH_MAX=1)"
    stop_service
    start_service 1
    run_load inv_hot_single --mode reserve --sku B-HOT --run hot1
    stop_service
    start_service 64
fi
say ""
say "-- an order's inventory calls: Reserve then Commit of it (counted once)"
run_load inv_commit --mode commit --skus 100000 --run commit
say ""
say "-- AdjustStock +1 of a random SKU: a ledger entry and a STOCK_CHANGED event per transaction"
run_load inv_adjust --mode adjust --skus 100000 --run adjust
say ""
say "-- the server's ceiling for context: GetProduct (one read, no lock)"
run_load inv_product --mode product --skus 100000 --run product
say ""
say "-- GetAvailability of 100 SKUs"
run_load inv_avail --mode availability --skus 100000 --batch 100 --run avail

say ""
say "table scans during the runs (sequential scans of big tables would mean a bad plan):"
psql_ -F ' ' -c "SELECT relname, 'seq_scan=' || seq_scan, 'seq_tup_read=' || seq_tup_read, 'idx_scan=' || coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE schemaname = 'inventory' AND seq_tup_read > 100000 ORDER BY seq_tup_read DESC" | sed 's/^/  /'
say ""
say "stock row updates, and how many were HOT (in place, no index touched):"
psql_ -F ' ' -c "SELECT 'updates=' || n_tup_upd, 'hot=' || n_tup_hot_upd FROM pg_stat_user_tables WHERE schemaname = 'inventory' AND relname = 'stock'" | sed 's/^/  /'
violations=$(psql_ -c "SELECT count(*) FROM inventory.stock WHERE reserved > on_hand OR reserved < 0")
held=$(psql_ -c "SELECT count(*) FROM inventory.reservation")
say ""
say "after the runs: $held reservations held, $violations oversold rows"
[ "$violations" = 0 ] || failed=1

read -r pgs_tps pgs_lat <<<"${R[pg_spread]}"
read -r pgh_tps pgh_lat <<<"${R[pg_hot]}"
read -r is_cps is_p50 is_p99 is_err <<<"${R[inv_spread]}"
read -r ih_cps ih_p50 ih_p99 ih_err <<<"${R[inv_hot]}"
read -r ia_cps ia_p50 ia_p99 ia_err <<<"${R[inv_avail]}"
say ""
say "== summary (calls/s; latency in microseconds; pgbench latency is its average)"
printf '%-38s %10s %10s %10s %8s\n' case calls/s p50_us p99_us vs_pgbench
printf '%-38s %10s %10s %10s %8s\n' "pgbench spread (100k rows)" "$pgs_tps" "avg $(awk -v l="$pgs_lat" 'BEGIN{printf "%.0f", l*1000}')" - -
printf '%-38s %10s %10s %10s %8s\n' "Reserve spread (100k SKUs)" "$is_cps" "$is_p50" "$is_p99" "$(ratio "$is_cps" "$pgs_tps")"
printf '%-38s %10s %10s %10s %8s\n' "pgbench hot (1 row)" "$pgh_tps" "avg $(awk -v l="$pgh_lat" 'BEGIN{printf "%.0f", l*1000}')" - -
printf '%-38s %10s %10s %10s %8s\n' "Reserve hot (1 SKU)" "$ih_cps" "$ih_p50" "$ih_p99" "$(ratio "$ih_cps" "$pgh_tps")"
if [ "$single" = 1 ]; then
    read -r i1_cps i1_p50 i1_p99 i1_err <<<"${R[inv_hot_single]}"
    printf '%-38s %10s %10s %10s %8s\n' "Reserve hot, combiner off" "$i1_cps" "$i1_p50" "$i1_p99" "$(ratio "$i1_cps" "$pgh_tps")"
fi
read -r ic_cps ic_p50 ic_p99 ic_err <<<"${R[inv_commit]}"
printf '%-38s %10s %10s %10s %8s\n' "Reserve + Commit (one order)" "$ic_cps" "$ic_p50" "$ic_p99" "$(ratio "$ic_cps" "$pgs_tps")"
read -r ij_cps ij_p50 ij_p99 ij_err <<<"${R[inv_adjust]}"
printf '%-38s %10s %10s %10s %8s\n' "AdjustStock spread (event per tx)" "$ij_cps" "$ij_p50" "$ij_p99" "$(ratio "$ij_cps" "$pgs_tps")"
printf '%-38s %10s %10s %10s %8s\n' "GetAvailability (100 SKUs)" "$ia_cps" "$ia_p50" "$ia_p99" -
read -r ip_cps ip_p50 ip_p99 ip_err <<<"${R[inv_product]}"
printf '%-38s %10s %10s %10s %8s\n' "GetProduct (ceiling, for context)" "$ip_cps" "$ip_p50" "$ip_p99" -
say "errors: spread=$is_err hot=$ih_err commit=$ic_err adjust=$ij_err availability=$ia_err"
exit $failed
