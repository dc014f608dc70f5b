#!/usr/bin/env bash
# `make run`: the whole suite on this machine.  Starts the embedded
# PostgreSQL (unless SHELFLINE_DATABASE_URL names a server), runs the four
# services (each migrates its schema at start), loads the demo data set and
# stays in the foreground; Ctrl-C drains the services and stops PostgreSQL.
#
# Secure as in production, with throwaway material under .local/:
# - TLS on every port: a CA made once (.local/tls/ca.pem, 30 days) signs a
#   server certificate for localhost and 127.0.0.1 at every run
#   (deploy/local/tls-certs.sh); the gRPC and HTTP ports serve it, peers
#   and the demo loaders verify it with the CA.
# - Callers authenticate: a throwaway ES256 key pair under .local/auth/
#   (made once, with openssl) signs a token per role
#   (.local/auth/<role>.token, valid 24 hours, made afresh at every run),
#   one per service for its peer calls (role service) and one for the demo
#   loaders; the services verify them with the public key.
# The banner at the end says how to call.
#
# Environment: SHELFLINE_DATABASE_URL, SHELFLINE_DEMO=0 to skip demo data,
# SHELFLINE_RUN_SECONDS=N to stop by itself after N seconds (smoke tests),
# SHELFLINE_AUTH=none to run without authentication (the services warn),
# SHELFLINE_RUN_TLS=0 for plaintext ports, SHELFLINE_LOCAL_DIR [.local] for
# the keys, logs and embedded cluster, SHELFLINE_HTTP_PORT_BASE [8050]: the
# HTTP ports are BASE+1 (inventory) to BASE+4 (service-desk); the gRPC
# addresses are the SHELFLINE_*_ADDR variables below.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SHELFLINE_BIN_DIR:-$root/build/bin}
localdir=${SHELFLINE_LOCAL_DIR:-$root/.local}
logs=$localdir/logs
mkdir -p "$logs"
http_base=${SHELFLINE_HTTP_PORT_BASE:-8050}

started_pg=0
if [ -z "${SHELFLINE_DATABASE_URL:-}" ]; then
    SHELFLINE_DATABASE_URL=$("$root/deploy/local/pg.sh" start "$localdir/pg")
    started_pg=1
fi
export SHELFLINE_DATABASE_URL
export SHELFLINE_INVENTORY_ADDR=${SHELFLINE_INVENTORY_ADDR:-127.0.0.1:50051}
export SHELFLINE_FORECASTING_ADDR=${SHELFLINE_FORECASTING_ADDR:-127.0.0.1:50052}
export SHELFLINE_CUSTOMER_VALUE_ADDR=${SHELFLINE_CUSTOMER_VALUE_ADDR:-127.0.0.1:50053}
export SHELFLINE_SERVICE_DESK_ADDR=${SHELFLINE_SERVICE_DESK_ADDR:-127.0.0.1:50054}

services=(inventory forecasting customer-value service-desk)

# ---- keys and tokens ----
auth=$localdir/auth
auth_env=()
if [ "${SHELFLINE_AUTH:-}" != none ]; then
    mkdir -p "$auth"
    chmod 700 "$auth"
    if [ ! -s "$auth/jwt.key" ] || [ ! -s "$auth/jwt.pub" ]; then
        openssl ecparam -name prime256v1 -genkey -noout -out "$auth/jwt.key" 2>/dev/null
        openssl ec -in "$auth/jwt.key" -pubout -out "$auth/jwt.pub" 2>/dev/null
    fi
    token() { "$bin/shelfline-token" --key "$auth/jwt.key" --sub "$1" --roles "$2" --ttl 24h >"$auth/$3.token"; }
    for role in storefront cs-agent planner stock-admin; do token "demo-$role" "$role" "$role"; done
    for s in "${services[@]}"; do token "shelfline-$s" service "service-$s"; done
    token demo-loader storefront,cs-agent,planner,stock-admin loader
    export SHELFLINE_TOKEN_FILE=$auth/loader.token
    auth_env=(SHELFLINE_JWT_PUBLIC_KEY_FILE="$auth/jwt.pub")
fi
# ---- TLS ----
tls_env=()
scheme=http
if [ "${SHELFLINE_RUN_TLS:-1}" != 0 ]; then
    tls=$localdir/tls
    # A CA about to expire (or expired: it lives 30 days) is made afresh.
    if [ -s "$tls/ca.pem" ] && ! openssl x509 -checkend 172800 -noout -in "$tls/ca.pem" >/dev/null; then
        rm -f "$tls/ca.pem" "$tls/ca.key"
    fi
    "$root/deploy/local/tls-certs.sh" "$tls"
    tls_env=(SHELFLINE_TLS_CERT_FILE="$tls/server.pem" SHELFLINE_TLS_KEY_FILE="$tls/server.key")
    # Peers and the demo loaders verify the services with the CA.
    export SHELFLINE_TLS_CA_FILE=$tls/ca.pem
    scheme=https
fi
addrs=("$SHELFLINE_INVENTORY_ADDR" "$SHELFLINE_FORECASTING_ADDR"
       "$SHELFLINE_CUSTOMER_VALUE_ADDR" "$SHELFLINE_SERVICE_DESK_ADDR")
pids=()

stop_all() {
    trap - INT TERM EXIT
    echo "stopping services (draining)..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$started_pg" = 1 ]; then "$root/deploy/local/pg.sh" stop "$localdir/pg"; fi
}
trap stop_all INT TERM EXIT

for i in "${!services[@]}"; do
    s=${services[$i]}
    peer=()
    [ ${#auth_env[@]} -eq 0 ] || peer=(SHELFLINE_PEER_TOKEN_FILE="$auth/service-$s.token")
    # The console (service-desk's HTTP port) calls inventory and
    # forecasting on their own ports for its Stock page.
    console="$scheme://127.0.0.1:$((http_base + 4)),$scheme://localhost:$((http_base + 4))"
    env "${auth_env[@]}" "${peer[@]}" "${tls_env[@]}" SHELFLINE_LISTEN="${addrs[$i]}" \
        SHELFLINE_HTTP_LISTEN="127.0.0.1:$((http_base + 1 + i))" \
        SHELFLINE_HTTP_CORS_ORIGINS="${SHELFLINE_HTTP_CORS_ORIGINS:-$console}" \
        "$bin/shelfline-$s" >"$logs/$s.log" 2>&1 &
    pids+=($!)
done

wait_port() {
    local host=${1%:*} port=${1##*:}
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}
for i in "${!services[@]}"; do
    if ! wait_port "${addrs[$i]}"; then
        echo "shelfline-${services[$i]} did not start; its log:" >&2
        tail -20 "$logs/${services[$i]}.log" >&2
        exit 1
    fi
done

# The demo load is some 60,000 small transactions, a third of whose time
# was waiting for the WAL to reach the disk.  On the embedded cluster (ours,
# throwaway) they commit without waiting (synchronous_commit off: a crash
# could lose the last fraction of a second, never corrupt), and the setting
# is restored for the services' own use once the load has ended.  An
# existing database named by SHELFLINE_DATABASE_URL is left alone.
sync_commit() {
    [ "$started_pg" = 1 ] || return 0
    psql "$SHELFLINE_DATABASE_URL" -Xqc "ALTER SYSTEM $1" -c "SELECT pg_reload_conf()" >/dev/null
}
if [ "${SHELFLINE_DEMO:-1}" != 0 ] && [ -x "$root/deploy/local/demo.sh" ]; then
    sync_commit "SET synchronous_commit = off"
    demo_rc=0
    "$root/deploy/local/demo.sh" || demo_rc=$?
    sync_commit "RESET synchronous_commit"
    [ "$demo_rc" = 0 ] || exit "$demo_rc"
fi

# How to call, with the paths as given (relative under the repository).
rel() { case "$1" in "$root"/*) echo "${1#"$root"/}" ;; *) echo "$1" ;; esac; }
ld=$(rel "$localdir")
curl_tls=""
py_tls=""
if [ "$scheme" = https ]; then
    curl_tls="--cacert $ld/tls/ca.pem "
    py_tls="SHELFLINE_TEST_TLS_CA=$ld/tls/ca.pem "
fi
cat <<EOT

Shelfline is running (logs in $ld/logs/):
  inventory       ${addrs[0]}   $scheme://127.0.0.1:$((http_base + 1))
  forecasting     ${addrs[1]}   $scheme://127.0.0.1:$((http_base + 2))
  customer-value  ${addrs[2]}   $scheme://127.0.0.1:$((http_base + 3))
  service-desk    ${addrs[3]}   $scheme://127.0.0.1:$((http_base + 4))
  database        $SHELFLINE_DATABASE_URL

Call the suite with the command-line client (docs/CLI.md), e.g.:
  export SHELFLINE_TOKEN_FILE=$ld/auth/loader.token${SHELFLINE_TLS_CA_FILE:+ SHELFLINE_TLS_CA_FILE=$ld/tls/ca.pem}
  build/bin/shelfline stock ELEC-0001 --region NA-EAST
  build/bin/shelfline ticket list --status open --limit 5

Every service speaks gRPC (package shelfline.v1, see proto/) and the
standard grpc.health.v1.Health on the first address, and on the second
Prometheus metrics and every unary RPC as JSON (the Connect protocol).
EOT
if [ "$scheme" = https ]; then
    cat <<EOT
Both are TLS with a throwaway CA: verify with $ld/tls/ca.pem
(deploy/local/tls-certs.sh $ld/tls NAME makes client certificates for mTLS).
EOT
fi
cat <<EOT
  ${py_tls}/usr/bin/python3 tests/interop/health_check.py ${addrs[0]} shelfline.v1.InventoryService SERVING
  curl ${curl_tls}$scheme://127.0.0.1:$((http_base + 1))/metrics
EOT
if [ ${#auth_env[@]} -gt 0 ]; then
    cat <<EOT
Calls carry a signed token (health and metrics need none): one per role is
in $ld/auth/ -- storefront, cs-agent, planner, stock-admin -- valid 24 h:
  curl ${curl_tls}-H "Authorization: Bearer \$(cat $ld/auth/cs-agent.token)" \\
       -H 'Content-Type: application/json' -d '{"sku": "ELEC-0001"}' \\
       $scheme://127.0.0.1:$((http_base + 1))/shelfline.v1.InventoryService/GetStock
Clients read the token and the CA from the services' variables, e.g. the
demo loaders:
  SHELFLINE_TOKEN_FILE=$ld/auth/stock-admin.token ${SHELFLINE_TLS_CA_FILE:+SHELFLINE_TLS_CA_FILE=$ld/tls/ca.pem }\\
      build/bin/shelfline-inventory-demo
and a token for any subject and roles (docs/OPERATIONS.md, "Roles"):
  build/bin/shelfline-token --key $ld/auth/jwt.key --sub you --roles cs-agent
EOT
fi
cat <<EOT

The customer-service console (docs/CONSOLE.md): open
  $scheme://127.0.0.1:$((http_base + 4))/
and sign in with the cs-agent token: paste the content of
  $ld/auth/cs-agent.token
EOT
if [ "$scheme" = https ]; then
    cat <<EOT
(the browser does not know the throwaway CA: import $ld/tls/ca.pem as a
certificate authority, or run with SHELFLINE_RUN_TLS=0 for plain HTTP)
EOT
fi
echo "Press Ctrl-C to stop."

if [ -n "${SHELFLINE_RUN_SECONDS:-}" ]; then
    # In the background, so a signal's trap runs at once (bash runs traps
    # only between foreground commands; wait is interrupted).
    sleep "$SHELFLINE_RUN_SECONDS" &
    wait $!
    exit 0
fi
wait -n "${pids[@]}" || true
echo "a service exited; see .local/logs/" >&2
exit 1
