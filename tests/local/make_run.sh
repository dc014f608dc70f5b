#!/usr/bin/env bash
# integration_make_run: `make run`'s script (deploy/local/run.sh) as a new
# user meets it, secure by default, in a private folder and on free ports
# (so a developer's own `make run` is left alone):
#   - every gRPC port speaks TLS with the throwaway CA and refuses
#     plaintext; every HTTP port speaks HTTPS and refuses plain HTTP;
#   - calls need the signed tokens it made: the Connect face answers 401
#     without one, an answer with the cs-agent token, 403 for a role that
#     may not (AdjustStock as cs-agent);
#   - a demo loader (the forecasting one: quick, and independent of the
#     others) loads over TLS with the banner's variables, and fails
#     without the CA;
#   - stopping it (SIGTERM, which run.sh handles as Ctrl-C's SIGINT: a
#     background job of a script starts with SIGINT ignored, so the test
#     cannot send that one) stops the services and the embedded PostgreSQL.
# The full demo load is left out (SHELFLINE_DEMO=0): it takes minutes.
set -euo pipefail

root=${SHELFLINE_SOURCE_DIR:?}
bin=${SHELFLINE_BIN_DIR:?}
work=$(mktemp -d /tmp/shelfline-make-run-XXXXXX)
chmod 755 "$work" # the embedded cluster runs as postgres when we are root
out=$work/run.out
run_pid=
fail() {
    echo "FAIL: $*" >&2
    echo "---- run.sh output ----" >&2
    cat "$out" >&2 || true
    for f in "$work"/local/logs/*.log; do
        [ -f "$f" ] && { echo "---- $f (tail) ----" >&2; tail -5 "$f" >&2; }
    done
    exit 1
}
cleanup() {
    if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
        kill -TERM "$run_pid" 2>/dev/null || true
        sleep 3
        pkill -KILL -P "$run_pid" 2>/dev/null || true
    fi
    "$root/deploy/local/pg.sh" destroy "$work/local/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Six free ports: four gRPC, and a base for four HTTP ones (base+1..+4).
read -r p1 p2 p3 p4 hb < <(/usr/bin/python3 - <<'PY'
import socket
def free(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports
grpc = free(4)
# a base whose base+1..base+4 are all free
import random
while True:
    base = random.randint(20000, 40000)
    ok = True
    for p in range(base + 1, base + 5):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        s.close()
    if ok:
        break
print(*grpc, base)
PY
)

env -u SHELFLINE_DATABASE_URL -u SHELFLINE_AUTH -u SHELFLINE_RUN_TLS -u SHELFLINE_TLS_CA_FILE \
    -u SHELFLINE_TOKEN_FILE \
    SHELFLINE_BIN_DIR="$bin" SHELFLINE_LOCAL_DIR="$work/local" SHELFLINE_DEMO=0 \
    SHELFLINE_RUN_SECONDS=600 SHELFLINE_HTTP_PORT_BASE="$hb" \
    SHELFLINE_INVENTORY_ADDR=127.0.0.1:$p1 SHELFLINE_FORECASTING_ADDR=127.0.0.1:$p2 \
    SHELFLINE_CUSTOMER_VALUE_ADDR=127.0.0.1:$p3 SHELFLINE_SERVICE_DESK_ADDR=127.0.0.1:$p4 \
    "$root/deploy/local/run.sh" >"$out" 2>&1 &
run_pid=$!
for _ in $(seq 1 900); do
    grep -q "Press Ctrl-C to stop" "$out" && break
    kill -0 "$run_pid" 2>/dev/null || fail "run.sh exited early"
    sleep 0.1
done
grep -q "Press Ctrl-C to stop" "$out" || fail "no banner within 90 s"

ca=$work/local/tls/ca.pem
auth=$work/local/auth
[ -s "$ca" ] || fail "no CA at $ca"
grep -q "verify with $ca" "$out" || fail "the banner does not name the CA"

# gRPC: TLS with the CA, plaintext refused.
names=(InventoryService ForecastingService CustomerValueService ServiceDeskService)
ports=("$p1" "$p2" "$p3" "$p4")
for i in 0 1 2 3; do
    SHELFLINE_TEST_TLS_CA=$ca /usr/bin/python3 "$root/tests/interop/health_check.py" \
        "127.0.0.1:${ports[$i]}" "shelfline.v1.${names[$i]}" SERVING >/dev/null ||
        fail "health over TLS of ${names[$i]}"
    SHELFLINE_HEALTH_DEADLINE=2 SHELFLINE_HEALTH_ATTEMPTS=1 /usr/bin/python3 \
        "$root/tests/interop/health_check.py" "127.0.0.1:${ports[$i]}" "" REFUSED \
        >/dev/null 2>&1 || fail "plaintext gRPC answered by ${names[$i]}"
    hp=$((hb + 1 + i))
    # Into a file first: grep -q exits at the first match, and curl, still
    # writing, would fail the pipeline (pipefail) with a broken pipe.
    curl -sSf --max-time 5 --cacert "$ca" -o "$work/metrics.txt" "https://127.0.0.1:$hp/metrics" ||
        fail "metrics over HTTPS on $hp"
    grep -q '^shelfline_build_info' "$work/metrics.txt" || fail "metrics on $hp: no shelfline_build_info"
    if curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$hp/metrics"; then
        fail "plain HTTP answered on $hp"
    fi
done

# Connect face: tokens and roles.
url=https://127.0.0.1:$((hb + 1))/shelfline.v1.InventoryService
code=$(curl -s --max-time 5 --cacert "$ca" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' -d '{"sku": "ELEC-0001"}' "$url/GetStock")
[ "$code" = 401 ] || fail "GetStock without a token: HTTP $code, expected 401"
body=$(curl -s --max-time 5 --cacert "$ca" -H "Authorization: Bearer $(cat "$auth/cs-agent.token")" \
    -H 'Content-Type: application/json' -d '{"sku": "NOPE-0001"}' "$url/GetStock")
grep -q '"code":"not_found"' <<<"$body" || fail "GetStock as cs-agent: $body"
body=$(curl -s --max-time 5 --cacert "$ca" -H "Authorization: Bearer $(cat "$auth/cs-agent.token")" \
    -H 'Content-Type: application/json' \
    -d '{"requestId": "make-run-1", "sku": "ELEC-0001", "warehouseId": "DC-ATL", "delta": -5, "reason": "SHRINKAGE"}' \
    "$url/AdjustStock")
grep -q '"code":"permission_denied"' <<<"$body" || fail "AdjustStock as cs-agent: $body"

# A demo loader with the banner's variables, over TLS; without the CA it
# cannot connect.
if SHELFLINE_FORECASTING_ADDR=127.0.0.1:$p2 SHELFLINE_TOKEN_FILE=$auth/loader.token \
    timeout 20 "$bin/shelfline-forecasting-demo" >"$work/nodemo.out" 2>&1; then
    fail "the demo loader succeeded over plaintext"
fi
SHELFLINE_FORECASTING_ADDR=127.0.0.1:$p2 SHELFLINE_TOKEN_FILE=$auth/loader.token \
    SHELFLINE_TLS_CA_FILE=$ca timeout 120 "$bin/shelfline-forecasting-demo" >"$work/demo.out" 2>&1 ||
    { cat "$work/demo.out" >&2; fail "the forecasting demo over TLS"; }
grep -q "109500 sales rows" "$work/demo.out" || fail "demo output: $(cat "$work/demo.out")"

# Stopped: services drained, PostgreSQL stopped, run.sh gone.
svc_pids=$(pgrep -P "$run_pid" -f 'shelfline-(inventory|forecasting|customer-value|service-desk)$' || true)
[ "$(echo "$svc_pids" | wc -w)" = 4 ] || fail "expected 4 service processes, got: $svc_pids"
kill -TERM "$run_pid"
for _ in $(seq 1 300); do
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$run_pid" 2>/dev/null && fail "run.sh still running 30 s after SIGTERM"
run_pid=
for p in $svc_pids; do
    kill -0 "$p" 2>/dev/null && fail "service $p survived the stop"
done
[ -f "$work/local/pg/data/PG_VERSION" ] || fail "no embedded cluster in $work/local/pg"
if [ -f "$work/local/pg/data/postmaster.pid" ]; then
    fail "the embedded PostgreSQL survived the stop"
fi
echo "ok: make run over TLS with tokens; demo loader over TLS; clean stop"
