#!/usr/bin/env bash
# Starts a real Shelfline service and calls grpc.health.v1.Health/Check on
# it with an official gRPC client in another language:
#   python  Debian's python3-grpcio (health_check.py, run by /usr/bin/python3)
#   node    @grpc/grpc-js (node/health_check.js); its node_modules are
#           installed by `npm ci` into BUILD/interop-node on first use
#
# usage: run_health_client.sh python|node SERVICE_BIN SERVICE_NAME
#   e.g. run_health_client.sh node build/bin/shelfline-inventory shelfline.v1.InventoryService
#
# Three checks: "" -> SERVING, SERVICE_NAME -> SERVING and
# no.such.Service -> SERVICE_UNKNOWN (status NOT_FOUND).
#
# Environment (ctest sets the first two, see tests/CMakeLists.txt):
#   SHELFLINE_TEST_PG_DIR   the test cluster; its "port" file gives the port
#   SHELFLINE_BIN_DIR       build/bin; node_modules go to its ../interop-node
#                           (default: the directory of SERVICE_BIN)
#   SHELFLINE_DATABASE_URL  when set, used as is instead of the test cluster
#   SHELFLINE_START_TIMEOUT seconds to wait for the service's port (default 30)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_health_client.sh

die() { echo "$me: $*" >&2; exit 1; }

if [ $# -ne 3 ]; then
    echo "usage: $me python|node SERVICE_BIN SERVICE_NAME" >&2
    exit 2
fi
lang=$1 service_bin=$2 service_name=$3
case "$lang" in
python | node) ;;
*) echo "$me: unknown client language \"$lang\" (python or node)" >&2; exit 2 ;;
esac
[ -x "$service_bin" ] || die "service binary $service_bin is missing or not executable"
bin_dir=${SHELFLINE_BIN_DIR:-$(dirname "$service_bin")}
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
case "$start_timeout" in
'' | *[!0-9]*) die "SHELFLINE_START_TIMEOUT must be a whole number of seconds, not \"$start_timeout\"" ;;
esac

# $tmp, start_service, and the cleanup that stops the service.
# shellcheck source=tests/interop/service.sh
. "$here/service.sh"

# --- the client -------------------------------------------------------------

install_node_modules() {
    # shellcheck source=../support/npm_ci.sh
    . "$here/../support/npm_ci.sh"
    sl_npm_ci "$here/node" "$1" "$tmp/npm.log"
}

case "$lang" in
python)
    [ -x /usr/bin/python3 ] || die "/usr/bin/python3 is missing (deploy/local/deps.sh test)"
    /usr/bin/python3 -c 'import grpc' 2>/dev/null ||
        die "Debian's python3-grpcio is missing (deploy/local/deps.sh test)"
    client=(/usr/bin/python3 "$here/health_check.py")
    ;;
node)
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        die "node and npm are missing (deploy/local/deps.sh test)"
    fi
    node_dir=$(mkdir -p "$bin_dir/../interop-node" && cd "$bin_dir/../interop-node" && pwd)
    install_node_modules "$node_dir"
    export NODE_PATH=$node_dir/node_modules
    client=(node "$here/node/health_check.js")
    ;;
esac

# --- the service ------------------------------------------------------------

start_service

# --- the checks -------------------------------------------------------------

passed=0 failed=0
for check in "|SERVING" "$service_name|SERVING" "no.such.Service|SERVICE_UNKNOWN"; do
    if "${client[@]}" "$address" "${check%|*}" "${check##*|}"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
if ! kill -0 "$service_pid" 2>/dev/null; then
    echo "$me: $(basename "$service_bin") died during the checks" >&2
    failed=$((failed + 1))
fi
[ $failed -eq 0 ] || service_log
echo "$lang health: $passed passed, $failed failed"
[ $failed -eq 0 ]
