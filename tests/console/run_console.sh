#!/usr/bin/env bash
# The service-desk console end to end (ctest console_e2e, and
# console_e2e_firefox): inventory and service-desk started as in
# production (signed tokens, service-desk's consumer of inventory's
# events), the console as the build bundled it, a demo-like order waiting
# on an inbound shipment, a ticket about it and customers waiting for its
# SKU, then console_e2e.mjs drives a headless browser through it.
# Chromium is never skipped: no /usr/bin/chromium (deploy/local/deps.sh
# test installs it) or no console build fails the test.  Firefox is
# skipped (exit 77, ctest's SKIP_RETURN_CODE) only when
# /usr/bin/firefox-esr is not installed.
#
# usage: run_console.sh INVENTORY_BIN SERVICE_DESK_BIN CONSOLE_BUILD_DIR SHOTS_DIR [BROWSER]
#   CONSOLE_BUILD_DIR  what services/service_desk/console/build.sh made
#                      (dist/ served, node/node_modules with playwright-core
#                      and puppeteer-core)
#   SHOTS_DIR          where the screenshots go (docs/console to refresh
#                      the committed ones)
#   BROWSER            chromium (default) or firefox
# Environment: as tests/interop/service.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_console.sh
die() { echo "$me: $*" >&2; exit 1; }

[ $# -eq 4 ] || [ $# -eq 5 ] ||
    { echo "usage: $me INVENTORY_BIN SERVICE_DESK_BIN CONSOLE_BUILD_DIR SHOTS_DIR [BROWSER]" >&2; exit 2; }
inventory_bin=$1 desk_bin=$2 console=$3 shots=$4 browser=${5:-chromium}
for b in "$inventory_bin" "$desk_bin"; do
    [ -x "$b" ] || die "service binary $b is missing or not executable"
done
case $browser in
chromium)
    [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing (deploy/local/deps.sh test installs Debian's chromium)"
    driver=playwright-core ;;
firefox)
    if [ ! -x /usr/bin/firefox-esr ]; then
        echo "$me: SKIP: /usr/bin/firefox-esr is not installed (deploy/local/deps.sh test installs Debian's firefox-esr)"
        exit 77
    fi
    driver=puppeteer-core ;;
*) die "unknown browser \"$browser\" (chromium or firefox)" ;;
esac
[ -s "$console/dist/app.js" ] || die "no console in $console/dist (built with npm: deploy/local/deps.sh test)"
[ -d "$console/node/node_modules/$driver" ] || die "no $driver in $console/node"
for t in curl jq node; do
    command -v $t >/dev/null || die "$t not found (deploy/local/deps.sh test)"
done
start_timeout=${SHELFLINE_START_TIMEOUT:-30}

service_bin=$inventory_bin
# shellcheck source=../interop/service.sh
. "$here/../interop/service.sh"

make_token console-planner stock-admin,planner >"$tmp/planner.token"
make_token console-shop storefront >"$tmp/storefront.token"
make_token console-agent cs-agent >"$tmp/agent.token"
make_token shelfline-service-desk service >"$tmp/peer.token"

# call URL SERVICE METHOD TOKEN_FILE JSON: a unary Connect call that must answer 200.
call() {
    local code
    code=$(curl -sS -o "$tmp/call.body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $(cat "$4")" --data-binary "$5" "$1/shelfline.v1.$2/$3") ||
        die "curl failed for $3"
    [ "$code" = 200 ] || { service_log; die "$3: HTTP $code: $(cat "$tmp/call.body")"; }
}

start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub"
inventory_address=$address
inv=http://127.0.0.1:$(http_port 0)
run=$(date +%s)-$$
order=CO-$run sku=SKU-CONSOLE-$run inbound=IN-CONSOLE-$run ticket=T-CONSOLE-$run
expected=$(( ($(date +%s) + 5 * 86400) * 1000 ))
call "$inv" InventoryService CreateWarehouse "$tmp/planner.token" '{"warehouse": {"warehouseId": "WH-CONSOLE",
 "name": "Console DC", "region": "CONSOLE", "kind": "DISTRIBUTION_CENTER", "location": "Loopback",
 "timeZone": "UTC", "shipCutoff": "23:59", "active": true}}'
call "$inv" InventoryService CreateTransitTime "$tmp/planner.token" '{"transitTime": {"warehouseId": "WH-CONSOLE",
 "region": "CONSOLE", "p50Days": 2, "p90Days": 4}}'
call "$inv" InventoryService CreateProduct "$tmp/planner.token" "{\"product\": {\"sku\": \"$sku\",
 \"name\": \"Console kettle\", \"category\": \"kitchen\", \"price\": {\"minorUnits\": \"4999\", \"currency\": \"EUR\"}}}"
call "$inv" InventoryService CreateInbound "$tmp/planner.token" "{\"inboundId\": \"$inbound\", \"sku\": \"$sku\",
 \"warehouseId\": \"WH-CONSOLE\", \"qty\": \"20\", \"expectedAtMs\": \"$expected\", \"supplier\": \"Kettle Co\"}"

service_bin=$desk_bin
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub" SHELFLINE_PEER_TOKEN_FILE="$tmp/peer.token" \
    SHELFLINE_INVENTORY_ADDR="$inventory_address" SHELFLINE_CONSOLE_DIR="$console/dist"
desk=http://127.0.0.1:$(http_port 1)
call "$desk" ServiceDeskService PlaceOrder "$tmp/storefront.token" "{\"orderId\": \"$order\",
 \"customerId\": \"C-CONSOLE\", \"region\": \"CONSOLE\", \"lines\": [{\"sku\": \"$sku\", \"qty\": \"1\"}],
 \"allowBackorder\": true}"
call "$desk" ServiceDeskService OpenTicket "$tmp/agent.token" "{\"ticketId\": \"$ticket\",
 \"customerId\": \"C-CONSOLE\", \"orderId\": \"$order\", \"channel\": \"TICKET_CHANNEL_EMAIL\",
 \"subject\": \"Where is my kettle?\", \"body\": \"Hello, where is my order $order? It has not arrived.\",
 \"language\": \"en\"}"

# Customers waiting for the SKU to come back: two in the order's region
# (one more leaves again), one elsewhere.
for c in 1 2 3 4; do
    r=CONSOLE
    [ $c -eq 4 ] && r=ELSEWHERE
    call "$desk" ServiceDeskService SubscribeBackInStock "$tmp/storefront.token" \
        "{\"customerId\": \"C-WAIT-$c\", \"sku\": \"$sku\", \"region\": \"$r\"}"
    [ $c -eq 3 ] || continue
    id=$(jq -r .subscriptionId "$tmp/call.body")
    call "$desk" ServiceDeskService Unsubscribe "$tmp/storefront.token" "{\"subscriptionId\": \"$id\"}"
done

# An inventory whose HTTP port lets the console's pages call it (CORS), for
# the Stock page; and none other's.
service_bin=$inventory_bin
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub" SHELFLINE_HTTP_CORS_ORIGINS="$desk"
stock_inv=http://127.0.0.1:$(http_port 2)
curl -sS -o /dev/null -D "$tmp/preflight.h" -w '%{http_code}' -X OPTIONS -H "Origin: $desk" \
    -H 'Access-Control-Request-Method: POST' -H 'Access-Control-Request-Headers: content-type,authorization' \
    "$stock_inv/shelfline.v1.InventoryService/GetAvailability" >"$tmp/preflight.code"
[ "$(cat "$tmp/preflight.code")" = 204 ] || die "preflight from $desk: HTTP $(cat "$tmp/preflight.code")"
grep -qi "^access-control-allow-origin: $desk" "$tmp/preflight.h" || die "preflight: no Access-Control-Allow-Origin"
curl -sS -o /dev/null -D "$tmp/other.h" -X OPTIONS -H 'Origin: http://elsewhere.example' \
    -H 'Access-Control-Request-Method: POST' "$stock_inv/shelfline.v1.InventoryService/GetAvailability"
! grep -qi '^access-control-allow-origin' "$tmp/other.h" || die "another origin was allowed"
! curl -sS -D - -o /dev/null -X OPTIONS -H "Origin: $desk" -H 'Access-Control-Request-Method: POST' \
    "$inv/shelfline.v1.InventoryService/GetAvailability" | grep -qi '^access-control-allow-origin' ||
    die "an inventory without SHELFLINE_HTTP_CORS_ORIGINS allowed $desk"

# The console's static files: the page, and nothing outside dist.
curl -sS -o "$tmp/index.html" -w '%{http_code} %{content_type}' "$desk/" >"$tmp/index.out"
grep -q '^200 text/html' "$tmp/index.out" || die "GET /: $(cat "$tmp/index.out")"
for bad in /../dist/index.html /.hidden.js /app.js/ /%2e%2e/x.js /node/package.json /app.exe; do
    code=$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' "$desk$bad")
    [ "$code" = 404 ] || die "GET $bad: HTTP $code, expected 404"
done
code=$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$desk/app.js")
[ "$code" = "200 text/javascript; charset=utf-8" ] || die "GET /app.js: $code"

rc=0
SHELFLINE_AGENT_TOKEN_FILE=$tmp/agent.token SHELFLINE_PLANNER_TOKEN_FILE=$tmp/planner.token \
    CONSOLE_BROWSER=$browser PUPPETEER_SKIP_DOWNLOAD=1 NODE_PATH=$console/node/node_modules \
    timeout 240 node "$here/console_e2e.mjs" "$desk/" "$inv" \
    "$order" "$inbound" "$ticket" "$shots" "$stock_inv" "$sku" CONSOLE 2 1 || rc=$?
[ $rc -eq 0 ] || { service_log; die "the console's end-to-end run in $browser failed (exit $rc)"; }
echo "$me: $browser: signed in, saw $order's ETA move with its reason and history live, answered $ticket," \
    "saw $sku's back-in-stock queue; screenshots in $shots"
