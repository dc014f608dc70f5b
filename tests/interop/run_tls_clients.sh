#!/usr/bin/env bash
# TLS and mTLS with official gRPC clients in other languages against a real
# Shelfline service (inventory), certificates made by
# deploy/local/tls-certs.sh in a scratch folder:
#   python  Debian's python3-grpcio (health_check.py)
#   node    @grpc/grpc-js (node/health_check.js; npm ci into BUILD/interop-node)
#   go      grpc-go from Debian's golang-google-grpc-dev (tls/main.go, built
#           into OUTDIR)
#
# usage: run_tls_clients.sh python|node|go SERVICE_BIN OUTDIR
#
# The service first runs with TLS (SHELFLINE_TLS_CERT_FILE/KEY_FILE): a
# client trusting the CA gets SERVING, a plaintext one is refused.  Then
# with mTLS (SHELFLINE_TLS_CLIENT_CA_FILE too): a client with a certificate
# of the CA gets SERVING; one without a certificate, one whose certificate
# another CA signed, and a plaintext one are refused; the service's own
# --probe succeeds with its client certificate and fails without.
#
# Environment: as run_health_client.sh (SHELFLINE_TEST_PG_DIR,
# SHELFLINE_BIN_DIR, SHELFLINE_DATABASE_URL, SHELFLINE_START_TIMEOUT).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
me=run_tls_clients.sh

die() { echo "$me: $*" >&2; exit 1; }

if [ $# -ne 3 ]; then
    echo "usage: $me python|node|go SERVICE_BIN OUTDIR" >&2
    exit 2
fi
lang=$1 service_bin=$2
case "$lang" in
python | node | go) ;;
*) echo "$me: unknown client language \"$lang\" (python, node or go)" >&2; exit 2 ;;
esac
[ -x "$service_bin" ] || die "service binary $service_bin is missing or not executable"
mkdir -p "$3"
out=$(cd "$3" && pwd)
bin_dir=${SHELFLINE_BIN_DIR:-$(dirname "$service_bin")}
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
command -v openssl >/dev/null || die "openssl is missing"

# shellcheck source=tests/interop/service.sh
. "$here/service.sh"

certs=$tmp/certs
"$src/deploy/local/tls-certs.sh" "$certs" client >/dev/null
CA_NAME=rogue "$src/deploy/local/tls-certs.sh" "$certs" rogue-client >/dev/null

# --- the client -------------------------------------------------------------

case "$lang" in
python)
    /usr/bin/python3 -c 'import grpc' 2>/dev/null ||
        die "Debian's python3-grpcio is missing (deploy/local/deps.sh test)"
    ;;
node)
    command -v node >/dev/null && command -v npm >/dev/null ||
        die "node and npm are missing (deploy/local/deps.sh test)"
    node_dir=$(mkdir -p "$bin_dir/../interop-node" && cd "$bin_dir/../interop-node" && pwd)
    # shellcheck source=../support/npm_ci.sh
    . "$here/../support/npm_ci.sh"
    sl_npm_ci "$here/node" "$node_dir" "$tmp/npm.log"
    export NODE_PATH=$node_dir/node_modules
    ;;
go)
    command -v go >/dev/null || die "go not found (deploy/local/deps.sh test)"
    go_client=$out/tls-client
    # shellcheck source=tests/interop/go_build.sh
    . "$here/go_build.sh"
    go_build "$here/tls/main.go" "$out" tls-client
    ;;
esac

# check WHAT EXPECTED: one Health.Check of "" by the language's client;
# WHAT is plaintext, ca (TLS trusting the CA), client (and presenting a
# certificate of the CA) or rogue (presenting one of another CA).
passed=0 failed=0
check() {
    local what=$1 expected=$2 ca='' cert='' key='' rc=0
    case "$what" in
    ca) ca=$certs/ca.pem ;;
    client) ca=$certs/ca.pem cert=$certs/client.pem key=$certs/client.key ;;
    rogue) ca=$certs/ca.pem cert=$certs/rogue-client.pem key=$certs/rogue-client.key ;;
    esac
    echo "-- $lang $what, expecting $expected"
    case "$lang" in
    python | node)
        local -a client=(/usr/bin/python3 "$here/health_check.py")
        [ "$lang" = node ] && client=(node "$here/node/health_check.js")
        local -a retry=()
        [ "$expected" = REFUSED ] && retry=(SHELFLINE_HEALTH_ATTEMPTS=1 SHELFLINE_HEALTH_DEADLINE=2)
        env "${retry[@]}" SHELFLINE_TEST_TLS_CA="$ca" SHELFLINE_TEST_TLS_CERT="$cert" \
            SHELFLINE_TEST_TLS_KEY="$key" "${client[@]}" "$address" "" "$expected" || rc=$?
        ;;
    go)
        local -a args=(-addr "$address" -expect "$expected")
        if [ -z "$ca" ]; then args+=(-plaintext); else args+=(-ca "$ca"); fi
        [ -z "$cert" ] || args+=(-cert "$cert" -key "$key")
        timeout 30 "$go_client" "${args[@]}" || rc=$?
        ;;
    esac
    if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

stop_service() {
    kill -TERM "$service_pid"
    wait "$service_pid" || true
    service_pid=
}

tls=(SHELFLINE_TLS_CERT_FILE="$certs/server.pem" SHELFLINE_TLS_KEY_FILE="$certs/server.key"
    SHELFLINE_DRAIN_DELAY=0)
start_service "${tls[@]}"
check ca SERVING
check plaintext REFUSED
stop_service

start_service "${tls[@]}" SHELFLINE_TLS_CLIENT_CA_FILE="$certs/ca.pem"
check client SERVING
check ca REFUSED
check rogue REFUSED
check plaintext REFUSED
# The service's own exec probe (--probe) over mTLS, as in Kubernetes: its
# TLS settings find the server; without a client certificate it fails.
probe_env=("${tls[@]}" SHELFLINE_TLS_CLIENT_CA_FILE="$certs/ca.pem" SHELFLINE_LISTEN="$address"
    SHELFLINE_TLS_CA_FILE="$certs/ca.pem")
if env "${probe_env[@]}" SHELFLINE_TLS_CLIENT_CERT_FILE="$certs/client.pem" \
    SHELFLINE_TLS_CLIENT_KEY_FILE="$certs/client.key" "$service_bin" --probe &&
    ! env "${probe_env[@]}" "$service_bin" --probe 2>/dev/null; then
    passed=$((passed + 1))
else
    echo "FAIL $(basename "$service_bin") --probe: not 0 with the client certificate and 1 without" >&2
    failed=$((failed + 1))
fi
if ! kill -0 "$service_pid" 2>/dev/null; then
    echo "$me: $(basename "$service_bin") died during the checks" >&2
    failed=$((failed + 1))
fi
[ $failed -eq 0 ] || service_log
echo "$lang tls: $passed passed, $failed failed"
[ $failed -eq 0 ]
