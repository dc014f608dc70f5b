#!/usr/bin/env bash
# The command-line client `shelfline` against the real suite (ctest
# cli_shelfline; docs/CLI.md): every subcommand in table and --json mode
# (the JSON parsed here with Python's json), bad usage (exit 2 naming the
# argument), failed calls (exit 1 with the status, the message and the rich
# details: a BadRequest field, an ErrorInfo reason, inventory's
# ReserveShortfall), watch bounded by --count and --timeout and ended by
# Ctrl-C, a call without a token, and a TLS + token run.
#
# The suite: the four services (tests/interop/service.sh) on free loopback
# ports with signed tokens as in production, seeded by seed_cli.py (a
# warehouse, region, SKU and customer named after the run) with the Python
# stubs generated from proto/.
#
# usage: run_cli.sh BIN_DIR OUTDIR
#   BIN_DIR  the build's bin/ (shelfline, the services, shelfline-token)
#   OUTDIR   where the generated stubs go
# Environment: as tests/interop/service.sh (SHELFLINE_TEST_PG_DIR or
# SHELFLINE_DATABASE_URL), SHELFLINE_START_TIMEOUT (30 s),
# SHELFLINE_SOURCE_DIR (default: two folders up).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_cli.sh
die() { echo "$me: $*" >&2; exit 1; }

[ $# -eq 2 ] || { echo "usage: $me BIN_DIR OUTDIR" >&2; exit 2; }
bin=$(cd "$1" && pwd)
cli=$bin/shelfline
[ -x "$cli" ] || die "$cli is missing or not executable"
start_timeout=${SHELFLINE_START_TIMEOUT:-30}
src=${SHELFLINE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
mkdir -p "$2"
out=$(cd "$2" && pwd)

# --- the Python stubs for the seeds ------------------------------------------

exec 8>"$out/cli.lock"
flock 8
py=$out/python
rm -rf "$py"
mkdir -p "$py"
/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null ||
    die "Debian's python3-grpcio and python3-protobuf are missing (deploy/local/deps.sh test)"
protoc -I"$src/proto" --python_out="$py" --grpc_python_out="$py" \
    --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin "$src"/proto/shelfline/v1/*.proto ||
    die "protoc --python_out --grpc_python_out failed"

# --- the suite ---------------------------------------------------------------

service_bin=$bin/shelfline-inventory
# shellcheck source=../interop/service.sh
. "$here/../interop/service.sh"

make_token cli-seed stock-admin,planner,storefront >"$tmp/seed.token"
make_token cli-user storefront,cs-agent,planner,stock-admin >"$tmp/user.token"
make_token cli-storefront storefront >"$tmp/storefront.token"
make_token shelfline-peer service >"$tmp/peer.token"
jwt_env=(SHELFLINE_JWT_PUBLIC_KEY_FILE="$tmp/jwt.pub" SHELFLINE_PEER_TOKEN_FILE="$tmp/peer.token")

start_service "${jwt_env[@]}" 8>&-
inv=$address
service_bin=$bin/shelfline-forecasting
start_service "${jwt_env[@]}" SHELFLINE_INVENTORY_ADDR="$inv" 8>&-
fc=$address
# (customer-value's service-desk consumer is pointed nowhere: its data here
# is the seed's alone.)
service_bin=$bin/shelfline-customer-value
start_service "${jwt_env[@]}" SHELFLINE_INVENTORY_ADDR="$inv" SHELFLINE_SERVICE_DESK_ADDR=127.0.0.1:9 8>&-
cv=$address
service_bin=$bin/shelfline-service-desk
start_service "${jwt_env[@]}" SHELFLINE_INVENTORY_ADDR="$inv" SHELFLINE_CUSTOMER_VALUE_ADDR="$cv" 8>&-
sd=$address

# Names of this run's own, so that the other tests sharing the database
# (and a second run) neither see nor move what is checked here.
run=$(date +%s)$$
SKU=SKU-$run WH=WH-$run REGION=R-$run CUST=C-$run
SHELFLINE_TOKEN_FILE=$tmp/seed.token timeout 60 /usr/bin/python3 "$here/seed_cli.py" "$py" "$run" \
    "$inv" "$fc" "$cv" || { service_log; die "seeding the suite failed"; }

export SHELFLINE_INVENTORY_ADDR=$inv SHELFLINE_FORECASTING_ADDR=$fc
export SHELFLINE_CUSTOMER_VALUE_ADDR=$cv SHELFLINE_SERVICE_DESK_ADDR=$sd
export SHELFLINE_TOKEN_FILE=$tmp/user.token
unset SHELFLINE_TLS_CA_FILE SHELFLINE_TLS_CLIENT_CERT_FILE SHELFLINE_TLS_CLIENT_KEY_FILE \
    SHELFLINE_TLS_SERVER_NAME

# --- helpers -----------------------------------------------------------------

checks=0
# run NAME WANT_RC ARGS...: shelfline ARGS, its output in $tmp/NAME.out and
# .err; dies unless it exits WANT_RC.
run() {
    local name=$1 want=$2 rc=0
    shift 2
    timeout 60 "$cli" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "---- stdout ----" >&2; cat "$tmp/$name.out" >&2
        echo "---- stderr ----" >&2; cat "$tmp/$name.err" >&2
        die "$name: shelfline $* exited $rc, expected $want"
    fi
    checks=$((checks + 1))
}
# has NAME out|err PATTERN: the output holds the extended regex.
has() {
    grep -Eq -- "$3" "$tmp/$1.$2" || {
        cat "$tmp/$1.$2" >&2
        die "$1: std$2 lacks /$3/"
    }
}
# json NAME EXPR: stdout is JSON (one document per line: d is the first,
# docs all of them) for which the Python expression EXPR holds.
json() {
    /usr/bin/python3 - "$tmp/$1.out" "$2" <<'EOF' || die "$1: JSON check failed: $2"
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
d = docs[0] if docs else None
ok = eval(sys.argv[2])
if not ok:
    print("JSON:", docs, file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# --- help and bad usage: exit 2 naming the argument ------------------------

run help 0 --help
has help out 'order place'
has help out 'watch notifications'
run help_cmd 0 order place --help
has help_cmd out 'usage: shelfline order place ORDER SKU:QTY'
run help_group 0 order --help
has help_group out '^  order cancel '
! grep -q '^  stock ' "$tmp/help_group.out" || die "help_group: lists more than the order commands"
run no_command 2
has no_command err 'no command given'
run bad_command 2 frobnicate
has bad_command err 'unknown command "frobnicate"'
run bad_sub 2 order frob
has bad_sub err 'unknown command "order frob"'
run missing_arg 2 stock
has missing_arg err 'missing argument: SKU'
run extra_arg 2 clv $CUST C-OTHER
has extra_arg err 'unexpected argument "C-OTHER"'
run bad_option 2 stock $SKU --frob
has bad_option err 'unknown option "--frob"'
run bad_int 2 forecast $SKU $REGION --horizon soon
has bad_int err '--horizon must be an integer from 1 to 365, got "soon"'
run bad_line 2 order place O-X $SKU --customer $CUST --region $REGION
has bad_line err "a line is SKU:QTY\[:PROMOTION\], got \"$SKU\""
run no_region 2 reserve hold R-X $SKU:1
has no_region err '--region is required'
run bad_choice 2 ticket list --status later
has bad_choice err '--status must be one of open, waiting, resolved, got "later"'
run bad_count 2 watch events --count 0
has bad_count err '--count must be an integer'
run bad_service 2 watch events --service billing --count 1
has bad_service err '--service must be one of'
run bad_ca 2 --ca "$tmp/none.pem" stock $SKU
has bad_ca err 'SHELFLINE_TLS_CA_FILE'

# --- stock ---------------------------------------------------------------------

run stock 0 stock $SKU
has stock out '^WAREHOUSE +ON_HAND +RESERVED +AVAILABLE'
has stock out "^$WH +1000 +0 +1000 "
run stock_json 0 --json stock $SKU
json stock_json "d['levels'][0]['warehouseId'] == '$WH' and d['levels'][0]['onHand'] == '1000'"
run avail 0 stock $SKU --region $REGION
has avail out '^status: +IN_STOCK'
has avail out "^$WH +1000 +2 d +4 d"
run avail_json 0 stock $SKU --region $REGION --json
json avail_json "d['region'] == '$REGION' and d['items'][0]['status'] == 'IN_STOCK' and d['items'][0]['available'] == '1000'"
run stock_unknown 1 stock NO-SUCH-SKU
has stock_unknown err '^shelfline: NOT_FOUND: .*NO-SUCH-SKU'

# --- feed ----------------------------------------------------------------------
# Two products: SKU (1000 units in WH, which serves REGION) and SKU-NONE
# (never stocked).  Other tests' products may be listed
# too (one database): checks pick the rows by SKU.

run feed 0 feed $REGION
has feed out '^SKU +AVAILABILITY +AVAILABLE +DATE +PRICE +NOTE'
has feed out "^$SKU +in_stock +1000 +- +19.99 EUR"
has feed out "^$SKU-NONE +out_of_stock +0 +- +5.00 EUR +ads paused"
# one SKU per call: every page is followed (one JSON document per page)
run feed_json 0 --json feed $REGION --limit 1
json feed_json "len(docs) >= 2 and all(len(x.get('items', [])) <= 1 and x['region'] == '$REGION' for x in docs) and [i['availability'] for x in docs for i in x.get('items', []) if i['sku'] in ('$SKU', '$SKU-NONE')] == ['in_stock', 'out_of_stock']"
run feed_file 0 feed $REGION --out "$tmp/feed.tsv" --limit 1
has feed_file out "items of region $REGION in [0-9]+ pages written to $tmp/feed.tsv"
[ "$(head -1 "$tmp/feed.tsv")" = "$(printf 'id\ttitle\tbrand\tproduct_type\tprice\tavailability\tavailability_date\tcustom_label_0\texcluded_destination')" ] ||
    die "feed_file: header is $(head -1 "$tmp/feed.tsv")"
grep -q "^$SKU	CLI test item	Shelfline	examples	19.99 EUR	in_stock		" "$tmp/feed.tsv" ||
    die "feed_file: no in_stock row for $SKU: $(cat "$tmp/feed.tsv")"
grep -q "^$SKU-NONE	CLI test gap	Shelfline	examples	5.00 EUR	out_of_stock			Shopping_ads\$" "$tmp/feed.tsv" ||
    die "feed_file: no out_of_stock row (ads excluded) for $SKU-NONE"
[ "$(awk -F'\t' 'NF != 9' "$tmp/feed.tsv" | wc -l)" = 0 ] || die "feed_file: a row without 9 cells"
[ ! -e "$tmp/feed.tsv.tmp" ] || die "feed_file: the temporary file was left"
# a refused region writes no file
run feed_bad 1 feed 'no such region!' --out "$tmp/bad.tsv"
has feed_bad err '^shelfline: INVALID_ARGUMENT: .*region'
[ ! -e "$tmp/bad.tsv" ] && [ ! -e "$tmp/bad.tsv.tmp" ] || die "feed_bad: a file was written"
run feed_limit 2 feed $REGION --limit 0
run feed_out_json 2 --json feed $REGION --out "$tmp/x.tsv"

# --- reserve -------------------------------------------------------------------

run hold 0 reserve hold R-$run-1 $SKU:2 --region $REGION --customer $CUST
has hold out '^status: +HELD'
has hold out "^$SKU +2 +19.99 EUR +$WH +2"
run hold_json 0 --json reserve hold R-$run-2 $SKU:1 --region $REGION --customer $CUST
json hold_json 'd["reservation"]["status"] == "HELD" and d["reservation"]["lines"][0]["qty"] == "1"'
run get 0 reserve get R-$run-1
has get out "^reservation: +R-$run-1"
run get_json 0 reserve get R-$run-1 --json
json get_json "d['reservationId'] == 'R-$run-1' and d['lines'][0]['allocations'][0]['warehouseId'] == '$WH'"
run commit 0 reserve commit R-$run-1
has commit out '^status: +COMMITTED'
run release_json 0 reserve release R-$run-2 --json
json release_json 'd["status"] == "RELEASED"'
run hold3 0 reserve hold R-$run-3 $SKU:1 --region $REGION --customer $CUST --hold 60
run commit_json 0 reserve commit R-$run-3 --json
json commit_json 'd["status"] == "COMMITTED"'
run hold4 0 reserve hold R-$run-4 $SKU:1 --region $REGION --customer $CUST
run release 0 reserve release R-$run-4
has release out '^status: +RELEASED'
# INVALID_ARGUMENT naming the field, in the message and as a BadRequest
run bad_qty 1 reserve hold R-$run-5 $SKU:0 --region $REGION --customer $CUST
has bad_qty err '^shelfline: INVALID_ARGUMENT: lines\[0\]\.qty'
has bad_qty err '^  field lines\[0\]\.qty: '
# FAILED_PRECONDITION with the reason and inventory's own detail
run short 1 reserve hold R-$run-6 $SKU:5000 --region $REGION --customer $CUST
has short err '^shelfline: FAILED_PRECONDITION: '
has short err "^  shelfline\.v1\.ReserveShortfall: \{\"lines\":\[\{.*\"sku\":\"$SKU\""
run hold_no_customer 1 reserve hold R-$run-7 $SKU:1 --region $REGION
has hold_no_customer err '^  field customer_id: '
run get_unknown 1 reserve get R-NOPE
has get_unknown err '^shelfline: NOT_FOUND: .*R-NOPE'

# --- order ---------------------------------------------------------------------

run place 0 order place O-$run-1 $SKU:1 --customer $CUST --region $REGION
has place out '^status: +PLACED'
has place out '^promised: +[0-9]{4}-[0-9]{2}-[0-9]{2} \.\. [0-9]{4}-[0-9]{2}-[0-9]{2}'
run place_json 0 --json order place O-$run-2 $SKU:1 --customer $CUST --region $REGION
json place_json "d['order']['orderId'] == 'O-$run-2' and d['order']['status'] == 'ORDER_PLACED'"
run place3 0 order place O-$run-3 $SKU:1 --customer $CUST --region $REGION
run order_get 0 order get O-$run-1
has order_get out "^0 +$SKU +1 +19.99 EUR +$WH"
run order_get_json 0 order get O-$run-1 --json
json order_get_json "d['orderId'] == 'O-$run-1' and d['lines'][0]['sku'] == '$SKU'"
run eta 0 order eta O-$run-1
has eta out '^eta: +[0-9]{4}-[0-9]{2}-[0-9]{2} \.\. '
has eta out '^moved: +no'
run eta_json 0 order eta O-$run-1 --json
json eta_json "d['orderId'] == 'O-$run-1' and d['current']['p50Date'] == d['promised']['p50Date']"
run cancel 0 order cancel O-$run-2 --reason "changed my mind"
has cancel out '^status: +CANCELLED'
run cancel_json 0 order cancel O-$run-3 --json
json cancel_json 'd["status"] == "ORDER_CANCELLED"'
run order_unknown 1 order get O-NOPE
has order_unknown err '^shelfline: NOT_FOUND: .*O-NOPE'
run order_bad_region 1 order place O-$run-4 $SKU:1 --customer $CUST --region 'no such region'
has order_bad_region err '^shelfline: INVALID_ARGUMENT: '
has order_bad_region err '^  field region: '

# --- ticket --------------------------------------------------------------------

run ticket 0 ticket open T-$run-1 --customer $CUST --order O-$run-1 --channel email \
    --subject "Where is my order" --body "My order O-$run-1 has not arrived yet, where is it?"
has ticket out "^ticket: +T-$run-1"
has ticket out '^first response: +due '
run ticket_json 0 --json ticket open T-$run-2 --customer $CUST --subject "Broken" \
    --body "The item arrived broken, I want a refund"
json ticket_json "d['ticketId'] == 'T-$run-2' and d['status'] == 'TICKET_OPEN' and d['channel'] == 'TICKET_CHANNEL_WEB'"
run ticket_no_body 1 ticket open T-$run-3 --customer $CUST --subject "Empty"
has ticket_no_body err '^shelfline: INVALID_ARGUMENT: '
has ticket_no_body err '^  field body: '
run tickets 0 ticket list --customer $CUST
has tickets out '^TICKET +STATUS +PRIORITY'
has tickets out "^T-$run-1 +OPEN "
run tickets_json 0 ticket list --status open --customer $CUST --json
json tickets_json "{'T-$run-1', 'T-$run-2'} <= {t['ticketId'] for t in d['tickets']}"

# --- forecast and clv ----------------------------------------------------------

run forecast 0 forecast $SKU $REGION --horizon 7
has forecast out '^DAY +POINT +LO80 +HI80 +LO95 +HI95'
[ "$(grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2} ' "$tmp/forecast.out")" -eq 7 ] ||
    die "forecast: expected 7 days in the table"
run forecast_json 0 --json forecast $SKU $REGION
json forecast_json 'len(d["points"]) == 14 and d["historyDays"] >= 90 and all(p["lo95"] <= p["point"] <= p["hi95"] for p in d["points"])'
run forecast_none 1 forecast $SKU NOWHERE
has forecast_none err '^shelfline: NOT_FOUND: '
has forecast_none err '^  reason NO_SALES_HISTORY \(shelfline\.v1\)'
run clv 0 clv $CUST
has clv out "^customer: +$CUST"
has clv out '^orders: +2 '
has clv out '^spend: +59\.97 EUR'
run clv_json 0 clv $CUST --json
json clv_json "d['customerId'] == '$CUST' and d['orders'] == '2' and d['totalSpend']['minorUnits'] == '5997'"
run clv_unknown 1 clv C-NOPE
has clv_unknown err '^shelfline: NOT_FOUND: '

# --- watch ---------------------------------------------------------------------

# WatchEvents and WatchNotifications are for the services and the
# notification sender: role service.
svc=(--token-file "$tmp/peer.token")
run watch_role 1 watch events --count 1
has watch_role err '^shelfline: PERMISSION_DENIED: .*needs role service'

run watch 0 "${svc[@]}" watch events --count 2
[ "$(wc -l <"$tmp/watch.out")" -eq 3 ] || { cat "$tmp/watch.out" >&2; die "watch: expected a header and 2 events"; }
has watch out '^ID +AT +TOPIC +KEY +PAYLOAD'
run watch_json 0 "${svc[@]}" --json watch events --count 2 --timeout 20 --topic RESERVATION_COMMITTED
json watch_json 'len(docs) == 2 and all(e["topic"] == "RESERVATION_COMMITTED" for e in docs) and int(docs[0]["id"]) < int(docs[1]["id"])'
run watch_sd 0 "${svc[@]}" watch events --service service-desk --topic ORDER_PLACED --count 1 --json
json watch_sd 'd["topic"].startswith("ORDER_") and d["payloadType"].startswith("shelfline.v1.")'
# nothing to tell anyone yet: --timeout bounds the wait, an empty watch is
# fine
run notifications_none 0 "${svc[@]}" watch notifications --customer $CUST --timeout 1 --json
[ ! -s "$tmp/notifications_none.out" ] || die "notifications_none: expected none"
# An order backordered on an inbound shipment that is then delayed: its
# ETA moves, and its customer gets one delay notice.
inbound() {
    SHELFLINE_TOKEN_FILE=$tmp/seed.token timeout 60 /usr/bin/python3 "$here/inbound.py" "$py" \
        "$run" "$inv" "$1" >/dev/null || { service_log; die "inbound.py $1 failed"; }
}
inbound create
run backorder 0 order place O-$run-BO $SKU:1000 --customer $CUST --region $REGION --split --backorder
has backorder out " IN-$run "
inbound delay
run notifications 0 "${svc[@]}" watch notifications --customer $CUST --count 1 --timeout 30
has notifications out '^ID +AT +KIND +CUSTOMER +ORDER +MESSAGE'
has notifications out " DELAY +$CUST +O-$run-BO "
run notifications_json 0 "${svc[@]}" --json watch notifications --customer $CUST --count 1 --timeout 30
json notifications_json "len(docs) == 1 and d['kind'] == 'NOTIFICATION_DELAY' and d['orderId'] == 'O-$run-BO'"
run eta_moved 0 order eta O-$run-BO
has eta_moved out '^moved: +yes'
run watch_bad_topic 1 "${svc[@]}" watch events --topic NO_SUCH_TOPIC --count 1
has watch_bad_topic err '^shelfline: INVALID_ARGUMENT: '
# Ctrl-C: a watch past the last event ends cleanly, with exit 0
"$cli" "${svc[@]}" watch events --after 1 >"$tmp/sigint.out" 2>"$tmp/sigint.err" &
watch_pid=$!
sleep 1.5
kill -INT "$watch_pid"
rc=0
for _ in $(seq 1 50); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$watch_pid" 2>/dev/null && { kill -KILL "$watch_pid"; die "sigint: watch still running 5 s after Ctrl-C"; }
wait "$watch_pid" || rc=$?
[ "$rc" -eq 0 ] || { cat "$tmp/sigint.err" >&2; die "sigint: watch exited $rc after Ctrl-C"; }
has sigint out '^ID +AT +TOPIC'
checks=$((checks + 1))

# --- tokens and TLS --------------------------------------------------------------

SHELFLINE_TOKEN_FILE= run no_token 1 stock $SKU
has no_token err '^shelfline: UNAUTHENTICATED: '
run wrong_role 1 --token-file "$tmp/storefront.token" clv $CUST
has wrong_role err '^shelfline: PERMISSION_DENIED: '

"$src/deploy/local/tls-certs.sh" "$tmp/tls" >/dev/null || die "tls-certs.sh failed"
service_bin=$bin/shelfline-inventory
start_service "${jwt_env[@]}" SHELFLINE_TLS_CERT_FILE="$tmp/tls/server.pem" \
    SHELFLINE_TLS_KEY_FILE="$tmp/tls/server.key" 8>&-
tls=$address
SHELFLINE_TOKEN_FILE= run tls 0 --addr "$tls" --ca "$tmp/tls/ca.pem" \
    --token-file "$tmp/user.token" --json stock $SKU
json tls "d['levels'][0]['warehouseId'] == '$WH'"
SHELFLINE_TLS_CA_FILE=$tmp/tls/ca.pem run tls_env 0 --addr "$tls" stock $SKU --region $REGION
has tls_env out '^status: +[A-Z_]+$'
run tls_plaintext 1 --addr "$tls" --deadline 2 stock $SKU
has tls_plaintext err '^shelfline: (UNAVAILABLE|DEADLINE_EXCEEDED): '
SHELFLINE_TOKEN_FILE= run tls_no_token 1 --addr "$tls" --ca "$tmp/tls/ca.pem" stock $SKU
has tls_no_token err '^shelfline: UNAUTHENTICATED: '

echo "$me: $checks shelfline runs as expected"
