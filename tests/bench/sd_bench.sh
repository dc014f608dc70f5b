#!/usr/bin/env bash
# Service-desk benchmark:
#   (a) GetOrderEta and QuoteEta (10 SKUs) calls/s with p50/p99 under many
#       concurrent clients while PlaceOrder runs at the same time;
#   (b) INBOUND_DELAYED -> the last affected customer's DELAY notification,
#       for SD_BENCH_ORDERS (10,000) orders backordered on one inbound.
#
# usage: tests/bench/sd_bench.sh BUILD_DIR
#
# Builds the load client (tests/bench/sd_load.c) against BUILD_DIR's
# libraries, starts a private PostgreSQL cluster (deploy/local/pg.sh;
# fsync per SD_BENCH_FSYNC), one shelfline-inventory and one
# shelfline-service-desk, seeds inventory with SQL (one warehouse serving
# region BENCH, 10,000 SKUs in stock, one SKU only on an inbound), places
# the backordered orders through PlaceOrder, then measures.  Loopback only.
#
# Knobs: SD_BENCH_ORDERS [10000], SD_BENCH_CLIENTS [32],
# SD_BENCH_DURATION [10] seconds, SD_BENCH_FSYNC [off].
set -euo pipefail
# The benchmark measures the service alone: it runs without authentication,
# said in so many words (services fail closed otherwise).
export SHELFLINE_AUTH=none
build=$(cd "${1:?usage: sd_bench.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
orders=${SD_BENCH_ORDERS:-10000}
clients=${SD_BENCH_CLIENTS:-32}
duration=${SD_BENCH_DURATION:-10}
fsync=${SD_BENCH_FSYNC:-off}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

work=$(mktemp -d /tmp/sd-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    "$repo/deploy/local/pg.sh" destroy "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '%s\n' "$*"; }

say "== service-desk benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "machine: $(nproc) CPUs, $(uname -sr); fsync=$fsync; $orders backordered orders; $clients clients for ${duration}s"

load=$work/sd_load
cc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-missing-field-initializers \
   -I"$repo/common" -I"$build/gen" "$here/sd_load.c" -o "$load" \
   "$build/common/libshelfline_common.a" "$build/proto/libshelfline_proto.a" \
   $(pkg-config --cflags --libs grpc libprotobuf-c libpq libjwt jansson libmicrohttpd gnutls) -lpthread -lm

url=$(PG_FSYNC=$fsync PG_SYNC_COMMIT=$fsync "$repo/deploy/local/pg.sh" start "$work/pg")
inv_port=$(( 30000 + RANDOM % 10000 )); sd_port=$(( inv_port + 1 ))
wait_port() {
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "sd_bench: nothing listens on $1" >&2; tail -20 "$work"/*.log >&2; exit 1
}
SHELFLINE_DATABASE_URL=$url SHELFLINE_LISTEN=127.0.0.1:$inv_port SHELFLINE_HTTP_LISTEN=127.0.0.1:0 SHELFLINE_LOG_LEVEL=error \
    "$build/bin/shelfline-inventory" >>"$work/inventory.log" 2>&1 &
pids+=($!)
wait_port "$inv_port"
SHELFLINE_DATABASE_URL=$url SHELFLINE_LISTEN=127.0.0.1:$sd_port SHELFLINE_HTTP_LISTEN=127.0.0.1:0 SHELFLINE_LOG_LEVEL=error \
SHELFLINE_INVENTORY_ADDR=127.0.0.1:$inv_port SHELFLINE_WORKERS=$(( clients + 8 )) \
    "$build/bin/shelfline-service-desk" >>"$work/service-desk.log" 2>&1 &
pids+=($!)
wait_port "$sd_port"
sleep 1

say "seeding inventory (SQL): warehouse BW-1 -> BENCH (1/2 days), 10,000 SKUs in stock, B-BACK on inbound IN-BENCH"
"$pgbin/psql" "$url" -v ON_ERROR_STOP=1 -qAt <<SQL
SET search_path = inventory;
INSERT INTO warehouse (warehouse_id, name, region, kind, time_zone, cutoff_minutes)
VALUES ('BW-1', 'bench', 'BENCH', 'DISTRIBUTION_CENTER', 'UTC', 1020);
INSERT INTO transit (warehouse_id, region, p50_days, p90_days) VALUES ('BW-1', 'BENCH', 1, 2);
INSERT INTO product (sku, name, category, price_minor, currency)
SELECT 'B-' || lpad(i::text, 6, '0'), 'bench item', 'bench', 100, 'USD'
FROM generate_series(1, 10000) i;
INSERT INTO product (sku, name, category, price_minor, currency)
VALUES ('B-BACK', 'backordered item', 'bench', 100, 'USD');
INSERT INTO stock (sku, warehouse_id, on_hand) SELECT sku, 'BW-1', 1000000000 FROM product
WHERE sku <> 'B-BACK';
INSERT INTO stock (sku, warehouse_id, on_hand) VALUES ('B-BACK', 'BW-1', 0);
INSERT INTO ledger (sku, warehouse_id, delta, reason, reference)
SELECT sku, 'BW-1', 1000000000, 'RECEIPT', 'bench seed' FROM product WHERE sku <> 'B-BACK';
INSERT INTO inbound (id, kind, sku, warehouse_id, qty, expected_at, original_expected_at, request)
VALUES ('IN-BENCH', 'PURCHASE_ORDER', 'B-BACK', 'BW-1', $(( orders * 2 )),
        now() + interval '10 days', now() + interval '10 days', '\x');
VACUUM ANALYZE product, stock, ledger, inbound;
SQL

say "placing $orders orders backordered on IN-BENCH (PlaceOrder, 8 threads)"
"$load" 127.0.0.1:$sd_port 127.0.0.1:$inv_port place "$orders" D B-BACK 1 8

say "(a) GetOrderEta / QuoteEta with $clients clients, PlaceOrder running alongside, ${duration}s"
"$load" 127.0.0.1:$sd_port 127.0.0.1:$inv_port read "$duration" "$clients" "$orders" D 10000

new_ms=$(( ($(date +%s) + 13 * 86400) * 1000 ))
say "(b) DelayInbound IN-BENCH by 3 days -> $orders DELAY notifications"
"$load" 127.0.0.1:$sd_port 127.0.0.1:$inv_port delay IN-BENCH "$new_ms" "$orders"
