#!/usr/bin/env bash
# The Connect face's streaming form (common/sl_connect.h) called with curl
# against a real inventory service with authentication on, WatchEvents as
# the stream:
#   - application/connect+json: HTTP 200, enveloped messages (flags 0,
#     4-byte big-endian length) each an Event in JSON, then the end-stream
#     message (flags 0x02) with the status: deadline_exceeded at the
#     Connect-Timeout-Ms the client gave;
#   - application/connect+proto: the messages decode with protoc as Events;
#   - live: an event written while the stream waits arrives on it;
#   - errors as end-stream messages (HTTP 200): no token (unauthenticated),
#     a token without the role (permission_denied), an unknown JSON field
#     (invalid_argument with its BadRequest), a cursor beyond the newest
#     event (out_of_range), a compressed or mis-sized envelope
#     (invalid_argument); another content type: 415; the unary form of a
#     stream: 501 unimplemented;
#   - the stream cap (SHELFLINE_MAX_STREAMS=1, shared with gRPC streams): a
#     second stream ends resource_exhausted; a client that disconnects
#     frees its place within seconds, and its stream is logged CANCELLED;
#   - streams counted in /metrics as gRPC streams are.
#
# usage: run_connect_stream.sh SERVICE_BIN
# Environment: as run_connect_client.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_connect_stream.sh

die() { echo "$me: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $me SERVICE_BIN" >&2; exit 2; }
service_bin=$1
[ -x "$service_bin" ] || die "service binary $service_bin is missing or not executable"
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
src=${SHELFLINE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
for t in curl jq protoc python3; do
    command -v $t >/dev/null || die "$t not found (deploy/local/deps.sh test)"
done

. "$here/service.sh"

admin=$(make_token stream-admin stock-admin)
watcher=$(make_token stream-watcher service)
shopper=$(make_token stream-shopper storefront)

start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub"
base=http://127.0.0.1:$(http_port 0)

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# unary NAME METHOD JSON: a unary JSON call to inventory as stock-admin.
unary() {
    local code
    code=$(curl -sS -o "$tmp/$1.body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $admin" --data-binary "$3" \
        "$base/shelfline.v1.InventoryService/$2") || die "curl failed for $1"
    [ "$code" = 200 ] || die "$1: HTTP $code: $(cat "$tmp/$1.body")"
}

# envelope FLAGS FILE: FILE's bytes in one envelope, on stdout.
envelope() {
    python3 -c 'import sys, struct
data = open(sys.argv[2], "rb").read()
sys.stdout.buffer.write(struct.pack(">BI", int(sys.argv[1], 0), len(data)) + data)' "$1" "$2"
}

# stream NAME TYPE TOKEN BODY_FILE [CURL_ARGS...]: POSTs BODY_FILE (already
# enveloped) to WatchEvents with content type application/connect+TYPE;
# $tmp/NAME.status, .type, .body (raw) and .frames (one line per envelope:
# "FLAGS LENGTH" then the message, JSON ones as text, proto ones in
# $tmp/NAME.N.pb).
stream() {
    local name=$1 type=$2 token=$3 body=$4
    shift 4
    local auth=()
    [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
    curl -sS -N -o "$tmp/$name.body" -w '%{http_code} %{content_type}' -X POST \
        -H "Content-Type: application/connect+$type" "${auth[@]}" "$@" --data-binary "@$body" \
        "$base/shelfline.v1.InventoryService/WatchEvents" >"$tmp/$name.out" || true
    cut -d' ' -f1 <"$tmp/$name.out" >"$tmp/$name.status"
    cut -d' ' -f2- <"$tmp/$name.out" >"$tmp/$name.type"
    python3 - "$tmp/$name.body" "$tmp/$name" "$type" <<'EOF' >"$tmp/$name.frames"
import struct, sys
data = open(sys.argv[1], "rb").read()
i = n = 0
while i < len(data):
    if len(data) - i < 5:
        print("TRUNCATED header")
        break
    flags, length = struct.unpack(">BI", data[i:i + 5])
    msg = data[i + 5:i + 5 + length]
    if len(msg) != length:
        print("TRUNCATED message")
        break
    if flags == 0 and sys.argv[3] == "proto":
        open(f"{sys.argv[2]}.{n}.pb", "wb").write(msg)
        text = "(protobuf)"
    else:
        text = msg.decode(errors="replace").replace("\n", " ")
    print(flags, length, text)
    i += 5 + length
    n += 1
EOF
}

# The end-stream message of a stream: its JSON.
end_of() { awk '$1 == 2 { $1 = ""; $2 = ""; print substr($0, 3) }' "$tmp/$1.frames" | tail -n1; }
messages_of() { awk '$1 == 0' "$tmp/$1.frames" | wc -l; }

expect_end_code() {
    local name=$1 want=$2 got last
    [ "$(cat "$tmp/$name.status")" = 200 ] || fail "$name: HTTP $(cat "$tmp/$name.status"), expected 200"
    last=$(tail -n1 "$tmp/$name.frames" | cut -d' ' -f1)
    [ "$last" = 2 ] || fail "$name: the last envelope has flags \"$last\", not the end-stream 2: $(cat "$tmp/$name.frames")"
    [ "$(awk '$1 == 2' "$tmp/$name.frames" | wc -l)" = 1 ] || fail "$name: not exactly one end-stream message"
    got=$(end_of "$name" | jq -r '.error.code // "ok"' 2>&1) || got="(not JSON: $(end_of "$name"))"
    [ "$got" = "$want" ] || fail "$name: the stream ended \"$got\", expected \"$want\": $(end_of "$name")"
}

# --- data: a warehouse, a product, stock (a STOCK_CHANGED event) ---------------
unary wh CreateWarehouse '{"warehouse": {"warehouseId": "WH-STREAM", "name": "Stream", "region": "STREAM",
 "kind": "DISTRIBUTION_CENTER", "location": "Loopback", "timeZone": "UTC", "shipCutoff": "23:59", "active": true}}'
unary product CreateProduct '{"product": {"sku": "SKU-STREAM-1", "name": "Stream mug", "category": "kitchen",
 "price": {"minorUnits": "900", "currency": "EUR"}}}'
unary adjust1 AdjustStock '{"requestId": "stream-adjust-1", "sku": "SKU-STREAM-1", "warehouseId": "WH-STREAM",
 "delta": "5", "reason": "RECEIPT", "reference": "stream test"}'

echo '{"topics": ["STOCK_CHANGED"]}' >"$tmp/all.json"
envelope 0 "$tmp/all.json" >"$tmp/all.env"

# 1. JSON: the replay, then the end at the client's deadline.
stream replay json "$watcher" "$tmp/all.env" -H 'Connect-Timeout-Ms: 1500' --max-time 20
expect_end_code replay deadline_exceeded
grep -q '^application/connect+json' "$tmp/replay.type" || fail "replay: content type $(cat "$tmp/replay.type")"
[ "$(messages_of replay)" -ge 1 ] || fail "replay: no message before the end: $(cat "$tmp/replay.frames")"
awk '$1 == 0 { $1 = ""; $2 = ""; print substr($0, 3) }' "$tmp/replay.frames" >"$tmp/replay.msgs"
jq -e -s 'map(select(.topic == "STOCK_CHANGED" and .key == "SKU-STREAM-1")) | length >= 1' \
    "$tmp/replay.msgs" >/dev/null || fail "replay: no STOCK_CHANGED of SKU-STREAM-1: $(head -c 600 "$tmp/replay.msgs")"
jq -e -s 'all(.id | type == "string")' "$tmp/replay.msgs" >/dev/null ||
    fail "replay: event ids are not JSON strings (64-bit integers)"
newest=$(jq -r -s 'map(.id | tonumber) | max' "$tmp/replay.msgs")

# 2. Protobuf: each message decodes as an Event.
printf 'topics: "STOCK_CHANGED"\n' | protoc -I"$src/proto" --encode=shelfline.v1.WatchEventsRequest \
    shelfline/v1/common.proto >"$tmp/all.pb" || die "protoc --encode failed"
envelope 0 "$tmp/all.pb" >"$tmp/allpb.env"
stream replaypb proto "$watcher" "$tmp/allpb.env" -H 'Connect-Timeout-Ms: 1000' --max-time 20
expect_end_code replaypb deadline_exceeded
grep -q '^application/connect+proto' "$tmp/replaypb.type" || fail "replaypb: content type $(cat "$tmp/replaypb.type")"
[ -s "$tmp/replaypb.0.pb" ] || fail "replaypb: no protobuf message: $(cat "$tmp/replaypb.frames")"
if [ -s "$tmp/replaypb.0.pb" ]; then
    protoc -I"$src/proto" --decode=shelfline.v1.Event shelfline/v1/common.proto <"$tmp/replaypb.0.pb" \
        >"$tmp/replaypb.txt" 2>&1 || fail "replaypb: the first message is not an Event: $(cat "$tmp/replaypb.txt")"
    grep -q 'topic: "STOCK_CHANGED"' "$tmp/replaypb.txt" || fail "replaypb: $(cat "$tmp/replaypb.txt")"
fi

# 3. Live: from the newest event on, a change made while the stream waits.
echo "{\"afterId\": \"$newest\", \"topics\": [\"STOCK_CHANGED\"]}" >"$tmp/live.json"
envelope 0 "$tmp/live.json" >"$tmp/live.env"
# (The deadline leaves the write time on a loaded machine: the event is
# replayed from after_id even if it lands before the stream is set up.)
stream live json "$watcher" "$tmp/live.env" -H 'Connect-Timeout-Ms: 8000' --max-time 30 &
live_pid=$!
sleep 1.5
unary adjust2 AdjustStock '{"requestId": "stream-adjust-2", "sku": "SKU-STREAM-1", "warehouseId": "WH-STREAM",
 "delta": "2", "reason": "RECEIPT", "reference": "stream test, live"}'
wait $live_pid || true
expect_end_code live deadline_exceeded
[ "$(messages_of live)" = 1 ] || fail "live: expected the one new event, got: $(cat "$tmp/live.frames")"

# 4. Errors, as end-stream messages.
stream anon json "" "$tmp/all.env" --max-time 20
expect_end_code anon unauthenticated
[ "$(messages_of anon)" = 0 ] || fail "anon: messages sent without a token"
stream shopper json "$shopper" "$tmp/all.env" --max-time 20
expect_end_code shopper permission_denied
echo '{"colour": "red"}' >"$tmp/unknown.json"
envelope 0 "$tmp/unknown.json" >"$tmp/unknown.env"
stream unknown json "$watcher" "$tmp/unknown.env" --max-time 20
expect_end_code unknown invalid_argument
end_of unknown | jq -e '.error.message | contains("colour")' >/dev/null ||
    fail "unknown: the message does not name colour: $(end_of unknown)"
end_of unknown | jq -e '.error.details | map(.type) | index("google.rpc.BadRequest") != null' >/dev/null ||
    fail "unknown: no BadRequest detail: $(end_of unknown)"
echo "{\"afterId\": \"$((newest + 1000000))\"}" >"$tmp/far.json"
envelope 0 "$tmp/far.json" >"$tmp/far.env"
stream far json "$watcher" "$tmp/far.env" --max-time 20
expect_end_code far out_of_range
envelope 1 "$tmp/all.json" >"$tmp/compressed.env"
stream compressed json "$watcher" "$tmp/compressed.env" --max-time 20
expect_end_code compressed invalid_argument
head -c 7 "$tmp/all.env" >"$tmp/short.env"
stream short json "$watcher" "$tmp/short.env" --max-time 20
expect_end_code short invalid_argument
: >"$tmp/empty.env"
stream empty json "$watcher" "$tmp/empty.env" --max-time 20
expect_end_code empty invalid_argument
code=$(curl -sS -o "$tmp/plain.body" -w '%{http_code}' -X POST -H 'Content-Type: text/plain' \
    -H "Authorization: Bearer $watcher" --data-binary "@$tmp/all.env" \
    "$base/shelfline.v1.InventoryService/WatchEvents")
[ "$code" = 415 ] || fail "text/plain: HTTP $code, expected 415"
code=$(curl -sS -o "$tmp/unary.body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $watcher" --data-binary "@$tmp/all.json" \
    "$base/shelfline.v1.InventoryService/WatchEvents")
[ "$code" = 501 ] || fail "the unary form of a stream: HTTP $code, expected 501"
# A unary method in the streaming form: 415.
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/connect+json' \
    -H "Authorization: Bearer $admin" --data-binary "@$tmp/all.env" \
    "$base/shelfline.v1.InventoryService/GetProduct")
[ "$code" = 415 ] || fail "a unary method in the streaming form: HTTP $code, expected 415"

# 5. Metrics: the streams counted as gRPC streams.
curl -sS "$base/metrics" >"$tmp/metrics.txt" || die "curl /metrics failed"
grep -q 'grpc_server_handled_total{grpc_type="server_stream",grpc_service="shelfline.v1.InventoryService",grpc_method="WatchEvents",grpc_code="DEADLINE_EXCEEDED"} [1-9]' "$tmp/metrics.txt" ||
    fail "metrics: WatchEvents DEADLINE_EXCEEDED not counted: $(grep WatchEvents "$tmp/metrics.txt" | head -n 5)"
grep -q 'grpc_server_msg_sent_total{grpc_type="server_stream",grpc_service="shelfline.v1.InventoryService",grpc_method="WatchEvents"} [1-9]' "$tmp/metrics.txt" ||
    fail "metrics: no WatchEvents message counted as sent"

# 6. The stream cap, and a client that goes away: a second inventory with
#    room for one stream.
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub" SHELFLINE_MAX_STREAMS=1
base=http://127.0.0.1:$(http_port 1)
curl -sS -N -o "$tmp/hold.body" -X POST -H 'Content-Type: application/connect+json' \
    -H "Authorization: Bearer $watcher" --data-binary "@$tmp/live.env" \
    "$base/shelfline.v1.InventoryService/WatchEvents" &
hold_pid=$!
# The holder is set up once its first message (the live check's event,
# after after_id) has arrived; give a loaded machine 15 s for that.
for _ in $(seq 1 150); do
    [ -s "$tmp/hold.body" ] && break
    sleep 0.1
done
[ -s "$tmp/hold.body" ] || fail "the stream holding the only place got no message within 15 s"
stream second json "$watcher" "$tmp/live.env" -H 'Connect-Timeout-Ms: 5000' --max-time 20
expect_end_code second resource_exhausted
kill "$hold_pid" 2>/dev/null || true
wait "$hold_pid" 2>/dev/null || true
freed=
for _ in $(seq 1 30); do
    stream third json "$watcher" "$tmp/live.env" -H 'Connect-Timeout-Ms: 300' --max-time 20
    if [ "$(end_of third | jq -r '.error.code')" = deadline_exceeded ]; then freed=1; break; fi
    sleep 0.2
done
[ -n "$freed" ] || fail "the place of a client that went away was not freed: $(end_of third)"
grep -q '"method":"/shelfline.v1.InventoryService/WatchEvents".*"code":"CANCELLED"' "$tmp/service.log" ||
    fail "the stream of the client that went away was not logged CANCELLED"

for pid in "${service_pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail "a service died during the checks"
done
if [ $failures -gt 0 ]; then
    service_log
    echo "$me: $failures check(s) failed" >&2
    exit 1
fi
echo "$me: every Connect streaming check passed"
