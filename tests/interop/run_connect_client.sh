#!/usr/bin/env bash
# The Connect face (common/sl_connect.h) called with curl, as any HTTP
# client would, against a real inventory service with authentication on:
#   - CreateProduct over application/json (a proto field name and JSON
#     names mixed), the reply's 64-bit integers as strings;
#   - GetProduct over application/proto, the reply decoded by protoc;
#   - an unknown JSON field: 400 invalid_argument naming it, with a
#     google.rpc.BadRequest detail; an empty sku: the handler's own
#     BadRequest; an unknown SKU: 404 not_found with its ErrorInfo;
#   - no token: 401 unauthenticated; a token without the role: 403;
#   - an unknown method and an unknown service: 404 unimplemented;
#     a streaming method: 501; another content type: 415; GET: 405;
#   - the calls counted in /metrics as gRPC calls are.
#
# usage: run_connect_client.sh SERVICE_BIN
# Environment: as run_health_client.sh (SHELFLINE_TEST_PG_DIR or
# SHELFLINE_DATABASE_URL, SHELFLINE_START_TIMEOUT); SHELFLINE_SOURCE_DIR
# (default: two folders up) for proto/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_connect_client.sh

die() { echo "$me: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $me SERVICE_BIN" >&2; exit 2; }
service_bin=$1
[ -x "$service_bin" ] || die "service binary $service_bin is missing or not executable"
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
src=${SHELFLINE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
for t in curl jq protoc; do
    command -v $t >/dev/null || die "$t not found (deploy/local/deps.sh test)"
done

. "$here/service.sh"

admin=$(make_token connect-admin stock-admin)
shopper=$(make_token connect-shopper storefront)
start_service SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub"

# The HTTP port the service picked (SHELFLINE_HTTP_LISTEN=127.0.0.1:0).
http_port=
for _ in $(seq 1 50); do
    http_port=$(sed -n 's/.*HTTP on [^ ]* (port \([0-9]*\)).*/\1/p' "$tmp/service.log" | head -n1)
    [ -n "$http_port" ] && break
    sleep 0.1
done
[ -n "$http_port" ] || { service_log; die "the service logged no HTTP port"; }
base=http://127.0.0.1:$http_port

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# call NAME METHOD CONTENT_TYPE TOKEN BODY_FILE: POSTs BODY_FILE to
# /shelfline.v1.InventoryService/METHOD; the status goes to $tmp/NAME.status,
# the body to $tmp/NAME.body, the content type to $tmp/NAME.type.
call() {
    local name=$1 method=$2 ctype=$3 token=$4 body=$5 path
    case $method in /*) path=$method ;; *) path=/shelfline.v1.InventoryService/$method ;; esac
    local auth=()
    [ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
    curl -sS -o "$tmp/$name.body" -w '%{http_code} %{content_type}' -X POST \
        -H "Content-Type: $ctype" "${auth[@]}" --data-binary "@$body" \
        "$base$path" >"$tmp/$name.out" || die "curl failed for $name"
    cut -d' ' -f1 <"$tmp/$name.out" >"$tmp/$name.status"
    cut -d' ' -f2- <"$tmp/$name.out" >"$tmp/$name.type"
}

expect_status() {
    local name=$1 want=$2 got
    got=$(cat "$tmp/$name.status")
    [ "$got" = "$want" ] || fail "$name: HTTP $got, expected $want: $(head -c 400 "$tmp/$name.body")"
}

# expect_json NAME JQ_FILTER EXPECTED: the filter's raw output on the body.
expect_json() {
    local name=$1 filter=$2 want=$3 got
    got=$(jq -r "$filter" <"$tmp/$name.body" 2>&1) || got="(not JSON: $(head -c 200 "$tmp/$name.body"))"
    [ "$got" = "$want" ] || fail "$name: $filter is \"$got\", expected \"$want\""
}

# A detail's value decoded with protoc against google/rpc/error_details.proto.
detail_text() {
    local name=$1 type=$2 googleapis=${SHELFLINE_GOOGLEAPIS_PROTO_DIR:-/usr/share/gocode/src/github.com/gogo/googleapis}
    jq -r --arg t "$type" '.details[] | select(.type == $t) | .value' <"$tmp/$name.body" |
        tr -- '-_' '+/' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d |
        protoc -I"$googleapis" --decode="$type" google/rpc/error_details.proto 2>&1
}

# 1. CreateProduct in JSON: seasonal_tags by its proto name, the rest by
#    JSON names; minorUnits as a number, accepted as the string it is.
cat >"$tmp/create.json" <<'EOF'
{"product": {"sku": "SKU-CONNECT-1", "name": "Connect mug", "category": "kitchen",
 "price": {"minorUnits": 1299, "currency": "EUR"}, "seasonal_tags": ["winter"],
 "repeatPurchaseDays": 30}}
EOF
call create CreateProduct application/json "$admin" "$tmp/create.json"
expect_status create 200
expect_json create .sku SKU-CONNECT-1
expect_json create .price.minorUnits 1299
expect_json create '.price.minorUnits | type' string
expect_json create '.seasonalTags[0]' winter
expect_json create '.createdAtMs | test("^[0-9]+$")' true
grep -q '^application/json' "$tmp/create.type" || fail "create: content type $(cat "$tmp/create.type")"

# 2. GetProduct in protobuf: the request made by protoc, the reply read by it.
printf 'sku: "SKU-CONNECT-1"\n' | protoc -I"$src/proto" --encode=shelfline.v1.GetProductRequest \
    shelfline/v1/inventory.proto >"$tmp/get.pb" || die "protoc --encode failed"
call getpb GetProduct application/proto "$admin" "$tmp/get.pb"
expect_status getpb 200
grep -q '^application/proto' "$tmp/getpb.type" || fail "getpb: content type $(cat "$tmp/getpb.type")"
protoc -I"$src/proto" --decode=shelfline.v1.Product shelfline/v1/inventory.proto \
    <"$tmp/getpb.body" >"$tmp/getpb.txt" 2>&1 || fail "getpb: the reply does not decode as a Product"
grep -q 'name: "Connect mug"' "$tmp/getpb.txt" || fail "getpb: reply $(cat "$tmp/getpb.txt")"

# 3. An unknown field: invalid_argument naming it, with a BadRequest.
echo '{"sku": "SKU-CONNECT-1", "colour": "red"}' >"$tmp/unknown.json"
call unknown GetProduct application/json "$admin" "$tmp/unknown.json"
expect_status unknown 400
expect_json unknown .code invalid_argument
expect_json unknown '.message | contains("unknown field \"colour\"")' true
detail_text unknown google.rpc.BadRequest | grep -q 'field: "colour"' ||
    fail "unknown: no BadRequest for colour: $(detail_text unknown google.rpc.BadRequest)"

# A wrong JSON type, and text that is not JSON.
echo '{"sku": 12}' >"$tmp/type.json"
call type GetProduct application/json "$admin" "$tmp/type.json"
expect_status type 400
expect_json type '.message | startswith("sku: expected a string")' true
echo '{"sku": ' >"$tmp/broken.json"
call broken GetProduct application/json "$admin" "$tmp/broken.json"
expect_status broken 400
expect_json broken .code invalid_argument

# 4. The handler's own validation: an empty sku.
echo '{}' >"$tmp/empty.json"
call empty GetProduct application/json "$admin" "$tmp/empty.json"
expect_status empty 400
detail_text empty google.rpc.BadRequest | grep -q 'field: "sku"' ||
    fail "empty: no BadRequest for sku: $(detail_text empty google.rpc.BadRequest)"

# 5. A business error with its ErrorInfo.
echo '{"sku": "NO-SUCH-SKU"}' >"$tmp/missing.json"
call missing GetProduct application/json "$admin" "$tmp/missing.json"
expect_status missing 404
expect_json missing .code not_found
detail_text missing google.rpc.ErrorInfo | grep -q 'reason: "SKU_NOT_FOUND"' ||
    fail "missing: no ErrorInfo SKU_NOT_FOUND: $(detail_text missing google.rpc.ErrorInfo)"

# 6. Authentication and roles, as over gRPC.
call anon GetProduct application/json "" "$tmp/missing.json"
expect_status anon 401
expect_json anon .code unauthenticated
call shopper CreateProduct application/json "$shopper" "$tmp/create.json"
expect_status shopper 403
expect_json shopper .code permission_denied

# 7. Paths and types the face does not serve.
call nomethod NoSuchMethod application/json "$admin" "$tmp/missing.json"
expect_status nomethod 404
expect_json nomethod .code unimplemented
call noservice /shelfline.v1.NoSuchService/GetProduct application/json "$admin" "$tmp/missing.json"
expect_status noservice 404
expect_json noservice .code unimplemented
echo '{}' >"$tmp/watch.json"
call watch WatchEvents application/json "$admin" "$tmp/watch.json"
expect_status watch 501
expect_json watch .code unimplemented
call plain GetProduct text/plain "$admin" "$tmp/missing.json"
expect_status plain 415
get_status=$(curl -sS -o /dev/null -w '%{http_code}' "$base/shelfline.v1.InventoryService/GetProduct")
[ "$get_status" = 405 ] || fail "GET: HTTP $get_status, expected 405"

# 8. Counted like gRPC calls.
curl -sS "$base/metrics" >"$tmp/metrics.txt" || die "curl /metrics failed"
grep -q 'grpc_server_handled_total{grpc_type="unary",grpc_service="shelfline.v1.InventoryService",grpc_method="GetProduct",grpc_code="NOT_FOUND"} [1-9]' "$tmp/metrics.txt" ||
    fail "metrics: GetProduct NOT_FOUND not counted: $(grep GetProduct "$tmp/metrics.txt" | head -n 5)"

if ! kill -0 "$service_pid" 2>/dev/null; then
    fail "$(basename "$service_bin") died during the checks"
fi
if [ $failures -gt 0 ]; then
    service_log
    echo "$me: $failures check(s) failed" >&2
    exit 1
fi
echo "$me: every Connect check passed"
