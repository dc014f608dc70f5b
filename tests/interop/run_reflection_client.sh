#!/usr/bin/env bash
# Server reflection checked by an independent client: grpc-go's reflection
# types (Debian's golang-google-grpc-dev) and protobuf APIv2's protodesc and
# dynamicpb (golang-google-protobuf-dev), in reflection/main.go, against a
# real service started with a bearer token.  The client knows no .proto
# file: it lists the services over v1alpha and v1, fetches the inventory
# service's descriptors and calls CreateProduct and GetProduct with them.
#
# usage: run_reflection_client.sh SERVICE_BIN OUTDIR
#   SERVICE_BIN  build/bin/shelfline-inventory
#   OUTDIR       where the Go client is built (GOPATH mode, offline, like
#                build_go_client.sh); nothing of it is committed
#
# Environment: as run_health_client.sh (SHELFLINE_TEST_PG_DIR or
# SHELFLINE_DATABASE_URL, SHELFLINE_START_TIMEOUT).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_reflection_client.sh

die() { echo "$me: $*" >&2; exit 1; }

if [ $# -ne 2 ]; then
    echo "usage: $me SERVICE_BIN OUTDIR" >&2
    exit 2
fi
service_bin=$1
[ -x "$service_bin" ] || die "service binary $service_bin is missing or not executable"
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
mkdir -p "$2"
out=$(cd "$2" && pwd)

# --- the client -------------------------------------------------------------

command -v go >/dev/null || die "go not found (deploy/local/deps.sh test)"
for d in google.golang.org/grpc/reflection/grpc_reflection_v1alpha \
    google.golang.org/protobuf/types/dynamicpb; do
    [ -d "/usr/share/gocode/src/$d" ] || die "/usr/share/gocode/src/$d missing (deploy/local/deps.sh test)"
done
client=$out/reflection-client
# shellcheck source=tests/interop/go_build.sh
. "$here/go_build.sh"
go_build "$here/reflection/main.go" "$out" reflection-client

# $tmp, start_service, and the cleanup that stops the service.
# shellcheck source=tests/interop/service.sh
. "$here/service.sh"

# --- the service and the checks ---------------------------------------------

# A signed token with a role that may call CreateProduct and GetProduct
# (stock-admin; any role may reflect).
token=$(make_token reflection-client stock-admin)
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub"
rc=0
timeout 60 "$client" -addr "$address" -token "$token" || rc=$?
if ! kill -0 "$service_pid" 2>/dev/null; then
    echo "$me: $(basename "$service_bin") died during the checks" >&2
    rc=1
fi
[ $rc -eq 0 ] || service_log
if [ $rc -eq 0 ]; then echo "go reflection: 1 passed, 0 failed"; else echo "go reflection: 0 passed, 1 failed"; fi
exit $rc
