#!/usr/bin/env bash
# `make run`: the whole suite on this machine.  Starts the embedded
# PostgreSQL (unless SHELFLINE_DATABASE_URL names a server), runs the four
# services (each migrates its schema at start), loads the demo data set and
# stays in the foreground; Ctrl-C drains the services and stops PostgreSQL.
#
# Callers authenticate: a throwaway ES256 key pair under .local/auth/
# (made once, with openssl) signs a token per role (.local/auth/<role>.token,
# valid 24 hours, made afresh at every run), one per service for its peer
# calls (role service) and one for the demo loaders; the services verify
# them with the public key.  The banner at the end says how to call.
#
# Environment: SHELFLINE_DATABASE_URL, SHELFLINE_DEMO=0 to skip demo data,
# SHELFLINE_RUN_SECONDS=N to stop by itself after N seconds (smoke tests),
# SHELFLINE_AUTH=none to run without authentication (the services warn).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SHELFLINE_BIN_DIR:-$root/build/bin}
logs=$root/.local/logs
mkdir -p "$logs"

started_pg=0
if [ -z "${SHELFLINE_DATABASE_URL:-}" ]; then
    SHELFLINE_DATABASE_URL=$("$root/deploy/local/pg.sh" start)
    started_pg=1
fi
export SHELFLINE_DATABASE_URL
export SHELFLINE_INVENTORY_ADDR=${SHELFLINE_INVENTORY_ADDR:-127.0.0.1:50051}
export SHELFLINE_FORECASTING_ADDR=${SHELFLINE_FORECASTING_ADDR:-127.0.0.1:50052}
export SHELFLINE_CUSTOMER_VALUE_ADDR=${SHELFLINE_CUSTOMER_VALUE_ADDR:-127.0.0.1:50053}
export SHELFLINE_SERVICE_DESK_ADDR=${SHELFLINE_SERVICE_DESK_ADDR:-127.0.0.1:50054}

services=(inventory forecasting customer-value service-desk)

# ---- keys and tokens ----
auth=$root/.local/auth
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
addrs=("$SHELFLINE_INVENTORY_ADDR" "$SHELFLINE_FORECASTING_ADDR"
       "$SHELFLINE_CUSTOMER_VALUE_ADDR" "$SHELFLINE_SERVICE_DESK_ADDR")
pids=()

stop_all() {
    trap - INT TERM EXIT
    echo "stopping services (draining)..."
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$started_pg" = 1 ]; then "$root/deploy/local/pg.sh" stop; fi
}
trap stop_all INT TERM EXIT

for i in "${!services[@]}"; do
    s=${services[$i]}
    peer=()
    [ ${#auth_env[@]} -eq 0 ] || peer=(SHELFLINE_PEER_TOKEN_FILE="$auth/service-$s.token")
    env "${auth_env[@]}" "${peer[@]}" SHELFLINE_LISTEN="${addrs[$i]}" \
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

cat <<EOT

Shelfline is running (logs in .local/logs/):
  inventory       ${addrs[0]}
  forecasting     ${addrs[1]}
  customer-value  ${addrs[2]}
  service-desk    ${addrs[3]}
  database        $SHELFLINE_DATABASE_URL

Call the suite with the command-line client (docs/CLI.md), e.g.:
  export SHELFLINE_TOKEN_FILE=.local/auth/loader.token
  build/bin/shelfline stock ELEC-0001 --region NA-EAST
  build/bin/shelfline ticket list --status open --limit 5
Every service speaks gRPC (package shelfline.v1, see proto/) and the
standard grpc.health.v1.Health, e.g.:
  /usr/bin/python3 tests/interop/health_check.py ${addrs[0]} shelfline.v1.InventoryService SERVING
Calls carry a signed token (health needs none): one per role is in
.local/auth/ -- storefront, cs-agent, planner, stock-admin -- valid 24 h:
  authorization: Bearer \$(cat .local/auth/cs-agent.token)
e.g. the demo loaders with a token of your choice:
  SHELFLINE_TOKEN_FILE=.local/auth/stock-admin.token build/bin/shelfline-inventory-demo
and a token for any subject and roles (docs/OPERATIONS.md, "Roles"):
  build/bin/shelfline-token --key .local/auth/jwt.key --sub you --roles cs-agent
Each serves Prometheus metrics over HTTP (SHELFLINE_HTTP_LISTEN):
  curl http://127.0.0.1:8051/metrics   # inventory; :8052 forecasting,
                                       # :8053 customer-value, :8054 service-desk
Press Ctrl-C to stop.
EOT

if [ -n "${SHELFLINE_RUN_SECONDS:-}" ]; then
    sleep "$SHELFLINE_RUN_SECONDS"
    exit 0
fi
wait -n "${pids[@]}" || true
echo "a service exited; see .local/logs/" >&2
exit 1
