#!/usr/bin/env bash
# A client generated from proto/ alone, built and run against a running
# suite (ctest clients_python, clients_typescript, clients_go): its example
# places an order with service-desk, then asks for its ETA
# (docs/CLIENTS.md shows each).
#   python      protoc --python_out and grpc_python_plugin (Debian's
#               protobuf-compiler-grpc), run on Debian's python3-grpcio
#               (python/place_order.py)
#   typescript  protoc-gen-es (messages and service descriptors) and
#               Connect's gRPC transport for Node, HTTP/2 to the gRPC port;
#               compiled with tsc; npm packages locked in typescript/
#               (typescript/place_order.ts)
#   connect     the same TypeScript toolchain, Connect's own protocol over
#               HTTP/1.1 to the services' HTTP ports (what a browser
#               speaks): a backordered order, its ETA, WatchNotifications
#               followed in Connect's streaming form until the delay notice
#               of its inbound shipment arrives (typescript/watch_delay.ts)
#   go          Debian's protoc-gen-go (1.3, the generator of the
#               golang/protobuf that Debian's grpc-go 1.33 marshals with) and
#               protoc-gen-go-grpc, into the package go_package names; built
#               offline in GOPATH mode as the other Go clients of the tests
#               (go/place_order.go)
# The code is generated afresh at every run, so a change to proto/ that
# breaks a client's build fails here.
#
# The suite: inventory and service-desk (tests/interop/service.sh) on free
# loopback ports, with signed tokens as in production (a throwaway key;
# service-desk's peer token has role service); inventory seeded through its
# API by seed.py (one warehouse, one product in stock).  The example gets a
# storefront token in SHELFLINE_TOKEN_FILE; its output is checked: the
# order placed, and its ETA the one promised.
#
# usage: run_client.sh python|typescript|connect|go INVENTORY_BIN SERVICE_DESK_BIN OUTDIR
#   OUTDIR  where generated code, builds and node_modules go (nothing of
#           it is committed)
# Environment: as tests/interop/service.sh (SHELFLINE_TEST_PG_DIR or
# SHELFLINE_DATABASE_URL), SHELFLINE_START_TIMEOUT (30 s), and
# SHELFLINE_SOURCE_DIR (default: two folders up) for proto/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_client.sh
die() { echo "$me: $*" >&2; exit 1; }

if [ $# -ne 4 ]; then
    echo "usage: $me python|typescript|connect|go INVENTORY_BIN SERVICE_DESK_BIN OUTDIR" >&2
    exit 2
fi
lang=$1 inventory_bin=$2 desk_bin=$3
for b in "$inventory_bin" "$desk_bin"; do
    [ -x "$b" ] || die "service binary $b is missing or not executable"
done
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
mkdir -p "$4"
out=$(cd "$4" && pwd)
src=${SHELFLINE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
protos=("$src"/proto/shelfline/v1/*.proto)

# --- the clients, generated from proto/ ------------------------------------------

# One run at a time per OUTDIR and language (two ctest runs sharing a
# build folder): the lock is held until the end, while the generated code
# is in use.
mkdir -p "$out/$lang"
exec 8>"$out/$lang.lock"
flock 8

# The Python stubs: the python client, and seed.py for every language.
command -v protoc >/dev/null || die "protoc is missing (deploy/local/deps.sh build)"
[ -x /usr/bin/grpc_python_plugin ] ||
    die "/usr/bin/grpc_python_plugin is missing (protobuf-compiler-grpc: deploy/local/deps.sh test)"
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
    die "Debian's python3-grpcio and python3-protobuf are missing (deploy/local/deps.sh test)"
py=$out/$lang/python
rm -rf "$py"
mkdir -p "$py"
protoc -I"$src/proto" --python_out="$py" --grpc_python_out="$py" \
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin "${protos[@]}" ||
    die "protoc --python_out --grpc_python_out failed"

case "$lang" in
python)
    client=(/usr/bin/python3 "$here/python/place_order.py" "$py")
    ;;
typescript | connect)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        die "node and npm are missing (deploy/local/deps.sh test)"
    fi
    example=place_order
    [ "$lang" = connect ] && example=watch_delay
    ts=$out/$lang/node
    # shellcheck source=../support/npm_ci.sh
    . "$here/../support/npm_ci.sh"
    sl_npm_ci "$here/typescript" "$ts" "$out/$lang/npm.log"
    rm -rf "$ts/src" "$ts/dist"
    mkdir -p "$ts/src/gen"
    cp "$here/typescript/tsconfig.json" "$ts/"
    cp "$here/typescript/$example.ts" "$ts/src/"
    protoc -I"$src/proto" --plugin=protoc-gen-es="$ts/node_modules/.bin/protoc-gen-es" \
        --es_out="$ts/src/gen" --es_opt=target=ts,import_extension=js "${protos[@]}" ||
        die "protoc --es_out failed"
    "$ts/node_modules/.bin/tsc" -p "$ts" || die "tsc failed on the example and the generated code"
    client=(node "$ts/dist/$example.js")
    ;;
go)
    command -v go >/dev/null || die "go not found (deploy/local/deps.sh test)"
    for plugin in /usr/bin/protoc-gen-go /usr/bin/protoc-gen-go-grpc; do
        [ -x "$plugin" ] ||
            die "$plugin missing (protoc-gen-go-1-3, protoc-gen-go-grpc: deploy/local/deps.sh test)"
    done
    gout=$out/go
    pkg=$gout/gopath/src/shelfline.io
    rm -rf "$pkg" "$gout/place_order"
    mkdir -p "$gout/gopath/src"
    protoc -I"$src/proto" --plugin=protoc-gen-go=/usr/bin/protoc-gen-go \
        --plugin=protoc-gen-go-grpc=/usr/bin/protoc-gen-go-grpc \
        --go_out="$gout/gopath/src" --go-grpc_out="$gout/gopath/src" "${protos[@]}" ||
        die "protoc --go_out --go-grpc_out failed"
    # shellcheck source=../interop/go_build.sh
    . "$here/../interop/go_build.sh"
    go_build "$here/go/place_order.go" "$gout" place_order
    client=("$gout/place_order")
    ;;
*) echo "$me: unknown client language \"$lang\" (python, typescript, connect or go)" >&2; exit 2 ;;
esac

# --- the suite ---------------------------------------------------------------------

# $tmp, start_service, make_token, and the cleanup that stops the services.
service_bin=$inventory_bin
# shellcheck source=../interop/service.sh
. "$here/../interop/service.sh"

make_token client-seed stock-admin >"$tmp/seed.token"
make_token client-example storefront >"$tmp/storefront.token"
make_token shelfline-service-desk service >"$tmp/peer.token"
make_token client-agent cs-agent >"$tmp/agent.token"
make_token client-planner stock-admin,planner >"$tmp/planner.token"
# (8>&-: the services do not inherit the lock above.)
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub" 8>&-
inventory_address=$address
SHELFLINE_TOKEN_FILE=$tmp/seed.token timeout 60 /usr/bin/python3 "$here/seed.py" "$py" \
    "$inventory_address" || { service_log; die "seeding inventory failed"; }
service_bin=$desk_bin
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub" SHELFLINE_PEER_TOKEN_FILE="$tmp/peer.token" \
    SHELFLINE_INVENTORY_ADDR="$inventory_address" 8>&-

# --- the example and its output ----------------------------------------------------

order=EX-$lang-$(date +%s)-$$
rc=0
if [ "$lang" = connect ]; then
    SHELFLINE_TOKEN_FILE=$tmp/storefront.token SHELFLINE_AGENT_TOKEN_FILE=$tmp/agent.token \
        SHELFLINE_ADMIN_TOKEN_FILE=$tmp/planner.token timeout 90 "${client[@]}" \
        "127.0.0.1:$(http_port 1)" "127.0.0.1:$(http_port 0)" "$order" C-EXAMPLE WH-CLIENTS CLIENTS \
        >"$tmp/client.out" 2>&1 || rc=$?
    cat "$tmp/client.out"
    [ $rc -eq 0 ] || { service_log; die "the connect example failed (exit $rc)"; }
    day='[0-9]{4}-[0-9]{2}-[0-9]{2}'
    before=$(grep -E "^eta $order: p50 $day p90 $day, ETA_CONFIDENCE_[A-Z]+\$" "$tmp/client.out") ||
        die "the connect example printed no eta $order line"
    grep -q "^notice $order: ." "$tmp/client.out" ||
        die "the connect example printed no delay notice from the stream"
    after=$(grep -E "^eta $order now: p50 $day p90 $day, ETA_CONFIDENCE_[A-Z]+, reason: .*supplier strike" \
        "$tmp/client.out") || die "the connect example printed no moved ETA with the delay's reason"
    p50() { sed -E 's/.*p50 ([0-9-]+) .*/\1/' <<<"$1"; }
    [[ "$(p50 "$after")" > "$(p50 "$before")" ]] ||
        die "order $order: the ETA did not move later ($(p50 "$before") -> $(p50 "$after"))"
    # The example left the stream when the notice came: the server ends it
    # (CANCELLED) at its next look at the connection.
    logged=
    for _ in $(seq 1 50); do
        if grep -q '"method":"/shelfline.v1.ServiceDeskService/WatchNotifications","code":"CANCELLED"' \
            "$tmp/service.log"; then
            logged=1
            break
        fi
        sleep 0.1
    done
    [ -n "$logged" ] || die "the WatchNotifications stream the example left was not logged CANCELLED"
    echo "$me: connect client: the delay notice of $order arrived on WatchNotifications over HTTP"
    exit 0
fi
SHELFLINE_TOKEN_FILE=$tmp/storefront.token timeout 60 "${client[@]}" "$address" "$order" \
    C-EXAMPLE CLIENT-SKU CLIENTS >"$tmp/client.out" 2>&1 || rc=$?
cat "$tmp/client.out"
[ $rc -eq 0 ] || { service_log; die "the $lang example failed (exit $rc)"; }

day='[0-9]{4}-[0-9]{2}-[0-9]{2}'
placed=$(grep -E "^placed $order: ORDER_PLACED, promised p50 $day p90 $day\$" "$tmp/client.out") ||
    die "the $lang example printed no placed $order line with its promised dates"
eta=$(grep -E "^eta $order: p50 $day p90 $day, ETA_CONFIDENCE_(HIGH|MEDIUM|LOW)\$" "$tmp/client.out") ||
    die "the $lang example printed no eta $order line with dates and a confidence"
# Nothing moved since the order was placed: its ETA is the one promised.
promised=$(sed -E 's/.*promised (p50 [0-9-]+ p90 [0-9-]+)$/\1/' <<<"$placed")
current=$(sed -E 's/.*: (p50 [0-9-]+ p90 [0-9-]+),.*/\1/' <<<"$eta")
[ "$promised" = "$current" ] ||
    die "order $order: promised $promised, but GetOrderEta says $current"
echo "$me: $lang client: PlaceOrder and GetOrderEta on $order ok ($current)"
