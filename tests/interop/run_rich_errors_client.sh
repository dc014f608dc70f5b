#!/usr/bin/env bash
# Shelfline's rich errors (docs/OPERATIONS.md "Error model") read by an
# official gRPC client in another language, against a real inventory
# service started with a bearer token:
#   python  Debian's python3-grpcio; google/rpc and shelfline/v1 modules
#           generated here with protoc --python_out (rich_errors.py)
#   go      grpc-go and genproto's errdetails from Debian, built offline in
#           GOPATH mode like the reflection client (rich_errors/main.go)
#   node    @grpc/grpc-js, the trailer decoded by protobufjs from the
#           .proto files (node/rich_errors.js)
# Each checks a BadRequest (field "sku", field "lines[0].qty") and an
# ErrorInfo (SKU_NOT_FOUND, domain shelfline.v1).
#
# usage: run_rich_errors_client.sh python|go|node SERVICE_BIN OUTDIR
#   SERVICE_BIN  build/bin/shelfline-inventory
#   OUTDIR       where generated code, the Go client and node_modules go
#                (nothing of it is committed)
#
# Environment: as run_health_client.sh (SHELFLINE_TEST_PG_DIR or
# SHELFLINE_DATABASE_URL, SHELFLINE_START_TIMEOUT); SHELFLINE_SOURCE_DIR
# (default: two folders up) for proto/; SHELFLINE_GOOGLEAPIS_PROTO_DIR
# (default Debian's golang-github-gogo-googleapis-dev folder) and
# SHELFLINE_PROTOBUF_PROTO_DIR (default /usr/include).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_rich_errors_client.sh

die() { echo "$me: $*" >&2; exit 1; }

if [ $# -ne 3 ]; then
    echo "usage: $me python|go|node SERVICE_BIN OUTDIR" >&2
    exit 2
fi
lang=$1 service_bin=$2
[ -x "$service_bin" ] || die "service binary $service_bin is missing or not executable"
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
mkdir -p "$3"
out=$(cd "$3" && pwd)
src=${SHELFLINE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
googleapis=${SHELFLINE_GOOGLEAPIS_PROTO_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}
wkt=${SHELFLINE_PROTOBUF_PROTO_DIR:-/usr/include}
[ -f "$googleapis/google/rpc/error_details.proto" ] ||
    die "$googleapis/google/rpc/error_details.proto missing (golang-github-gogo-googleapis-dev: deploy/local/deps.sh build)"

# --- the client -------------------------------------------------------------

case "$lang" in
python)
    /usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
        die "Debian's python3-grpcio and python3-protobuf are missing (deploy/local/deps.sh test)"
    gen=$out/python
    rm -rf "$gen.tmp"
    mkdir -p "$gen.tmp"
    protoc -I"$src/proto" -I"$googleapis" -I"$wkt" --python_out="$gen.tmp" \
        google/rpc/status.proto google/rpc/error_details.proto \
        "$src"/proto/shelfline/v1/*.proto || die "protoc --python_out failed"
    rm -rf "$gen"
    mv "$gen.tmp" "$gen"
    ;;
go)
    command -v go >/dev/null || die "go not found (deploy/local/deps.sh test)"
    for d in google.golang.org/genproto/googleapis/rpc/errdetails \
        google.golang.org/protobuf/encoding/protowire; do
        [ -d "/usr/share/gocode/src/$d" ] || die "/usr/share/gocode/src/$d missing (deploy/local/deps.sh test)"
    done
    bin=$out/rich-errors-client
    (
        # One build at a time per OUTDIR; rebuilt when the source is newer.
        exec 9>"$out/.lock"
        flock 9
        if [ ! -x "$bin" ] || [ "$here/rich_errors/main.go" -nt "$bin" ]; then
            mkdir -p "$out/gopath" "$out/gocache"
            export GO111MODULE=off GOPATH="$out/gopath:/usr/share/gocode" GOCACHE="$out/gocache" \
                GOENV=off GOFLAGS=-buildvcs=false GOPROXY=off GOWORK=off
            unset GOROOT GOBIN GOOS GOARCH
            go build -o "$bin.tmp" "$here/rich_errors/main.go" || die "go build rich_errors/main.go failed"
            mv "$bin.tmp" "$bin"
        fi
    )
    ;;
node)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        die "node and npm are missing (deploy/local/deps.sh test)"
    fi
    # shellcheck source=../support/npm_ci.sh
    . "$here/../support/npm_ci.sh"
    sl_npm_ci "$here/node" "$out/node" "$out/npm.log"
    export NODE_PATH=$out/node/node_modules
    ;;
*) echo "$me: unknown client language \"$lang\" (python, go or node)" >&2; exit 2 ;;
esac

# $tmp, start_service, and the cleanup that stops the service.
# shellcheck source=tests/interop/service.sh
. "$here/service.sh"

# --- the service and the checks ---------------------------------------------

# A signed token whose roles may make every call the checks make.
token=$(make_token rich-errors-client storefront,cs-agent,planner,stock-admin)
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub"
rc=0
case "$lang" in
python) client=(/usr/bin/python3 "$here/rich_errors.py" "$gen" "$address" "$token") ;;
go) client=("$bin" -addr "$address" -token "$token") ;;
node) client=(node "$here/node/rich_errors.js" "$address" "$token" "$src/proto" "$googleapis" "$wkt") ;;
esac
timeout 120 "${client[@]}" || rc=$?
if ! kill -0 "$service_pid" 2>/dev/null; then
    echo "$me: $(basename "$service_bin") died during the checks" >&2
    rc=1
fi
[ $rc -eq 0 ] || service_log
exit $rc
