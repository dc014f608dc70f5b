#!/usr/bin/env bash
# `make peak`: the peak day as a repeatable run.  PostgreSQL and two
# replicas of each of the four services on this machine, a realistic
# catalogue, an open-loop Black Friday load (a normal stretch, then a 10x
# surge) with faults on a schedule during the surge, then the audit, the
# SLO gates and the report in peak-report/.  Exits 1 when an audit line or
# a gate fails (or the run could not be made), 0 when all pass.
#
# usage: tests/peak/peak.sh [BUILD_DIR]            (BUILD_DIR: build)
#
# Profiles (PEAK_PROFILE): short (about 5 minutes, what `make test` runs)
# and full (about 20 minutes, the run docs/peak/ records).  Every figure
# of a profile is a knob (environment, defaults from the profile):
#   PEAK_NORMAL_S, PEAK_SURGE_S   seconds of each phase
#   PEAK_RATE                     orders/s in the normal phase
#   PEAK_SURGE_X                  the surge's multiple of it (10)
#   PEAK_SKUS, PEAK_CUSTOMERS     catalogue size (100,000 and 50,000)
#   PEAK_QUOTA, PEAK_CAP          each flash sale's quota and per-customer cap
#   PEAK_BACKORDERS               orders waiting on the inbound that slips
#   PEAK_FAULTS                   which faults, of: kill rolling pg partition lock
#   PEAK_OUT                      the report folder (peak-report)
#   PEAK_KEEP_DB=1                leave PostgreSQL running afterwards, to look
#   PEAK_ENFORCE                  all (default): exit 1 on a failed audit line
#                                 or gate; audit: only on a failed audit line
#                                 (the gates are still measured and reported)
#
# Replica 2 of inventory runs in a network namespace of the run's own
# (ip netns + a veth pair on a private /30), so the partition fault can cut
# it off from PostgreSQL alone (iptables DROP inside the namespace) while
# its clients still reach it.  That needs root; without it the replica
# runs on loopback and the partition fault is reported as not run.
#
# Everything listens on loopback or on the run's own veth addresses.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case "$build" in /*) ;; *) build=$root/$build ;; esac
bin=$build/bin
here=$root/tests/peak

# The rates are what this 2-core machine sustains with PostgreSQL, eight
# replicas and the load generator on it and every gate holding: 2 orders/s
# normal, 20 at the surge (about 150 calls/s of every kind, 1,000 backorders
# on top).  At 30/s the p99 gates still held without faults, at 60/s
# nothing did: the CPU was saturated (docs/peak/README.md has the figures
# and where the time goes).  The rates are knobs for a bigger machine.
profile=${PEAK_PROFILE:-short}
case "$profile" in
short) d_normal=30 d_surge=150 d_rate=2 d_backorders=1000 ;;
full) d_normal=240 d_surge=900 d_rate=2 d_backorders=2000 ;;
*) echo "peak.sh: PEAK_PROFILE must be short or full (got \"$profile\")" >&2; exit 2 ;;
esac
normal_s=${PEAK_NORMAL_S:-$d_normal}
surge_s=${PEAK_SURGE_S:-$d_surge}
rate=${PEAK_RATE:-$d_rate}
surge_x=${PEAK_SURGE_X:-10}
skus=${PEAK_SKUS:-100000}
customers=${PEAK_CUSTOMERS:-50000}
quota=${PEAK_QUOTA:-600}
cap=${PEAK_CAP:-2}
backorders=${PEAK_BACKORDERS:-$d_backorders}
faults=${PEAK_FAULTS:-kill rolling pg partition lock}
out=${PEAK_OUT:-$root/peak-report}
hold_ttl_s=60
# Worker threads per replica.  Handlers block on PostgreSQL and on peers
# (service-desk's QuoteEta waits on inventory), so the default of 2 x CPUs
# (4 here) caps a replica at four calls in flight: at the surge, calls
# queued in front of them until their deadlines passed (QuoteEta failed
# outright in the first runs).  Two replicas here stand for the many small
# pods of deploy/k8s (4 workers each), so each gets the threads of several.
workers=${PEAK_WORKERS:-16}
for v in normal_s surge_s rate surge_x skus customers quota cap backorders hold_ttl_s; do
    case "${!v}" in '' | *[!0-9]*) echo "peak.sh: $v must be a whole number (got \"${!v}\")" >&2; exit 2 ;; esac
done
[ "$skus" -ge 1000 ] || { echo "peak.sh: PEAK_SKUS must be at least 1000" >&2; exit 2; }

for b in shelfline-inventory shelfline-forecasting shelfline-customer-value shelfline-service-desk \
         peak_load peak_seed peak_inventory_load; do
    [ -x "$bin/$b" ] || { echo "peak.sh: $bin/$b is missing; build first (make build)" >&2; exit 1; }
done

rm -rf "$out"
mkdir -p "$out/logs"
work=$out/run
mkdir -p "$work"
run_id=peak$(date +%s)
t0_file=$work/t0_ms

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$out/logs/peak.log"; }
now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- network
netns=
inv2_host=127.0.0.1
pg_listen=
make_netns() {
    ip netns add "$netns" &&
    ip link add "$veth_h" type veth peer name "$veth_n" &&
    ip link set "$veth_n" netns "$netns" &&
    ip addr add "$host_ip/30" dev "$veth_h" &&
    ip link set "$veth_h" up &&
    ip netns exec "$netns" ip addr add "$ns_ip/30" dev "$veth_n" &&
    ip netns exec "$netns" ip link set "$veth_n" up &&
    ip netns exec "$netns" ip link set lo up
}
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && command -v iptables >/dev/null; then
    n=$(( $$ % 250 + 1 ))
    netns=slpeak$$
    veth_h=slp$$h veth_n=slp$$n
    host_ip=10.213.$n.1 ns_ip=10.213.$n.2
    if make_netns 2>>"$out/logs/peak.log"; then
        inv2_host=$ns_ip
        pg_listen=$host_ip
    else
        ip link del "$veth_h" 2>/dev/null || true
        ip netns del "$netns" 2>/dev/null || true
        netns=
        say "could not make a network namespace here: inventory replica 2 runs on loopback, the partition fault cannot run"
    fi
else
    say "not root or no ip/iptables: inventory replica 2 runs on loopback, the partition fault cannot run"
fi

# ---------------------------------------------------------------- cleanup
pgdir=$work/pg
declare -A pid
cleanup() {
    set +e
    for k in "${!pid[@]}"; do kill -KILL "${pid[$k]}" 2>/dev/null; done
    [ -n "${load_pid:-}" ] && kill -KILL "$load_pid" 2>/dev/null
    wait 2>/dev/null
    if [ "${PEAK_KEEP_DB:-0}" = 1 ]; then
        echo "peak.sh: PostgreSQL left running for a look: $db_url (deploy/local/pg.sh destroy $pgdir)"
    else
        PG_LISTEN=$pg_listen "$root/deploy/local/pg.sh" destroy "$pgdir" >/dev/null 2>&1
    fi
    if [ -n "$netns" ]; then
        ip link del "$veth_h" 2>/dev/null
        ip netns del "$netns" 2>/dev/null
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- database
say "profile $profile: normal ${normal_s}s at $rate orders/s, surge ${surge_s}s at x$surge_x; faults: $faults"
db_url=$(PG_LISTEN=$pg_listen "$root/deploy/local/pg.sh" start "$pgdir")
pg_port=${db_url##*:}
pg_port=${pg_port%%/*}
psql_() { psql "$db_url" -X -q -v ON_ERROR_STOP=1 "$@"; }
if [ -n "$netns" ]; then
    # the namespace's side reaches PostgreSQL on the veth address
    echo "host all all 10.213.$n.0/30 trust" >>"$pgdir/data/pg_hba.conf"
    psql_ -c "SELECT pg_reload_conf()" >/dev/null
fi
say "PostgreSQL at $db_url"

# ---------------------------------------------------------------- services
base=$(( 40000 + RANDOM % 9000 ))
declare -A addr
addr[inventory1]=127.0.0.1:$((base + 1)) addr[inventory2]=$inv2_host:$((base + 2))
addr[forecasting1]=127.0.0.1:$((base + 3)) addr[forecasting2]=127.0.0.1:$((base + 4))
addr[customer-value1]=127.0.0.1:$((base + 5)) addr[customer-value2]=127.0.0.1:$((base + 6))
addr[service-desk1]=127.0.0.1:$((base + 7)) addr[service-desk2]=127.0.0.1:$((base + 8))
target() { echo "ipv4:${addr[${1}1]},${addr[${1}2]}"; }
inv_t=$(target inventory) fc_t=$(target forecasting) cv_t=$(target customer-value)
sd_t=$(target service-desk)
replicas=(inventory1 inventory2 forecasting1 forecasting2 customer-value1 customer-value2
          service-desk1 service-desk2)

# start_replica NAME: one process, its log appended to logs/NAME.log.
# The replicas run without authentication, said in so many words
# (SHELFLINE_AUTH=none): the load and the audit carry no tokens yet.
start_replica() {
    local name=$1 svc=${1%[12]} url=$db_url
    local -a pre=()
    if [ "$name" = inventory2 ] && [ -n "$netns" ]; then
        pre=(ip netns exec "$netns")
        url=${db_url/127.0.0.1/$host_ip}
    fi
    SHELFLINE_DATABASE_URL=$url SHELFLINE_LISTEN=${addr[$name]} SHELFLINE_HTTP_LISTEN=127.0.0.1:0 \
    SHELFLINE_INVENTORY_ADDR=$inv_t SHELFLINE_FORECASTING_ADDR=$fc_t \
    SHELFLINE_CUSTOMER_VALUE_ADDR=$cv_t SHELFLINE_SERVICE_DESK_ADDR=$sd_t \
    SHELFLINE_SD_HOLD_TTL=${hold_ttl_s}s SHELFLINE_HEALTH_INTERVAL=500ms \
    SHELFLINE_DRAIN_GRACE=10s SHELFLINE_LOG_LEVEL=${PEAK_LOG_LEVEL:-info} \
    SHELFLINE_WORKERS=$workers SHELFLINE_AUTH=none \
        "${pre[@]}" "$bin/shelfline-$svc" >>"$out/logs/$name.log" 2>&1 &
    pid[$name]=$!
}
wait_ready() { "$bin/peak_seed" wait "${addr[$1]}" "${2:-60}"; }

# Migrations first (each service migrates its schema at start), then the
# bulk catalogue straight into the schemas, then the suite.
say "migrating: one replica of each service"
for s in inventory1 forecasting1 customer-value1 service-desk1; do start_replica "$s"; done
for s in inventory1 forecasting1 customer-value1 service-desk1; do wait_ready "$s"; done
for s in inventory1 forecasting1 customer-value1 service-desk1; do kill -TERM "${pid[$s]}"; done
for s in inventory1 forecasting1 customer-value1 service-desk1; do wait "${pid[$s]}" || true; unset "pid[$s]"; done

say "seeding $skus SKUs and $customers customers with history (seed.sql)"
t=$(now_ms)
psql_ -v skus="$skus" -v customers="$customers" -f "$here/seed.sql" >"$out/logs/seed.log" 2>&1 ||
    { cat "$out/logs/seed.log" >&2; exit 1; }
say "  seeded in $(( ($(now_ms) - t) / 1000 ))s"

say "starting two replicas of each service"
for s in "${replicas[@]}"; do start_replica "$s"; done
for s in "${replicas[@]}"; do wait_ready "$s" || { tail -20 "$out/logs/$s.log" >&2; exit 1; }; done
say "  all eight SERVING"

say "promotions, inbound shipments and subscribers through the API (peak_seed)"
"$bin/peak_seed" "$inv_t" "$sd_t" "$skus" "$quota" "$cap" 200 | tee -a "$out/logs/peak.log"
"$bin/peak_load" check --inventory "$inv_t" >"$work/check_before.txt" 2>&1 ||
    { cat "$work/check_before.txt" >&2; echo "peak.sh: the seeded catalogue breaks an invariant" >&2; exit 1; }

say "bare Reserve+Commit rate of one inventory replica (make bench's order case), 10 s"
bare=$("$bin/peak_inventory_load" --target "${addr[inventory1]}" --mode commit --skus 10000 \
       --region BENCH --run "$run_id-bare" --clients 64 --channels 4 --warmup 2 --duration 10)
say "  $bare"
echo "$bare" >"$work/bare.txt"

# ---------------------------------------------------------------- load
surge_rate=$(( rate * surge_x ))
say "load: normal ${normal_s}s at $rate orders/s, surge ${surge_s}s at $surge_rate orders/s"
now_ms >"$t0_file"
"$bin/peak_load" run --inventory "$inv_t" --service-desk "$sd_t" --customer-value "$cv_t" \
    --forecasting "$fc_t" --phases "normal:$normal_s:$rate,surge:$surge_s:$surge_rate" \
    --skus "$skus" --customers "$customers" --regions NA-EAST,NA-WEST,EU-CENTRAL \
    --hot P-000001,P-000002,P-000003 --promos PEAK-FLASH-1,PEAK-FLASH-2,PEAK-FLASH-3 \
    --backorder-sku P-BACKORDER --backorder-inbound PEAK-IN-DELAY --backorder-orders "$backorders" \
    --backorder-region NA-EAST \
    --restock-sku P-SOLDOUT-1 --visibility-probes 20 --delay-at 10 --restock-at 15 \
    --run "$run_id" --out "$out" >"$out/logs/load.log" 2>&1 &
load_pid=$!

# ---------------------------------------------------------------- faults
# Offsets into the surge, as fractions of it, so both profiles get them
# all in the same order with room for each to settle.
since_s() { awk -v a="$(now_ms)" -v b="$(cat "$t0_file")" 'BEGIN { printf "%.3f", (a - b) / 1000 }'; }
fault_log=$out/faults.csv
echo "fault,target,start_s,end_s,note" >"$fault_log"
record() { echo "$1,$2,$3,$4,$5" >>"$fault_log"; }
sleep_until() { # seconds since t0
    local left
    left=$(awk -v t="$1" -v n="$(since_s)" 'BEGIN { printf "%.3f", t - n }')
    case "$left" in -* | 0.000) ;; *) sleep "$left" ;; esac
}
has_fault() { case " $faults " in *" $1 "*) return 0 ;; esac; return 1; }
at() { awk -v n="$normal_s" -v s="$surge_s" -v f="$1" 'BEGIN { printf "%.3f", n + s * f }'; }

fault_kill() {
    local s start
    start=$(since_s)
    for s in inventory1 forecasting2 customer-value1 service-desk2; do
        kill -KILL "${pid[$s]}"
        wait "${pid[$s]}" 2>/dev/null || true
    done
    say "fault: SIGKILL inventory1 forecasting2 customer-value1 service-desk2; restart in 5 s"
    sleep 5
    for s in inventory1 forecasting2 customer-value1 service-desk2; do start_replica "$s"; done
    for s in inventory1 forecasting2 customer-value1 service-desk2; do
        wait_ready "$s" || say "  $s not SERVING 60 s after its restart"
    done
    record kill "inventory1 forecasting2 customer-value1 service-desk2" "$start" "$(since_s)" \
        "SIGKILL one replica of each service, restarted after 5 s"
}

fault_rolling() {
    local s start
    start=$(since_s)
    say "fault: rolling restart of every replica, one at a time"
    for s in "${replicas[@]}"; do
        kill -TERM "${pid[$s]}"
        wait "${pid[$s]}" 2>/dev/null || true
        start_replica "$s"
        wait_ready "$s" || say "  $s not SERVING 60 s after its restart"
    done
    record rolling all "$start" "$(since_s)" "SIGTERM (drain), start the new one, wait for SERVING; one replica at a time"
}

fault_pg() {
    local start
    start=$(since_s)
    say "fault: PostgreSQL restart (CHECKPOINT, then fast shutdown and start)"
    # As an operator restarts it: a CHECKPOINT first, so the shutdown's own
    # checkpoint has little left to write and the outage is the restart.
    psql_ -c "CHECKPOINT" >/dev/null 2>&1 || true
    start=$(since_s)
    PG_LISTEN=$pg_listen "$root/deploy/local/pg.sh" restart "$pgdir"
    record pg postgresql "$start" "$(since_s)" "CHECKPOINT, then pg_ctl restart -m fast"
}

fault_partition() {
    local start
    if [ -z "$netns" ]; then
        record partition inventory2 "$(since_s)" "$(since_s)" "not run: needs root and ip netns"
        return
    fi
    start=$(since_s)
    say "fault: inventory2 cut off from PostgreSQL for 10 s"
    if ! ip netns exec "$netns" iptables -A OUTPUT -p tcp -d "$host_ip" --dport "$pg_port" -j DROP ||
       ! ip netns exec "$netns" iptables -A INPUT -p tcp -s "$host_ip" --sport "$pg_port" -j DROP; then
        ip netns exec "$netns" iptables -F 2>/dev/null || true
        record partition inventory2 "$start" "$(since_s)" "not run: iptables refused the rule"
        return
    fi
    sleep 10
    ip netns exec "$netns" iptables -F
    local healed
    healed=$(since_s)
    wait_ready inventory2 60 || say "  inventory2 did not come back SERVING within 60 s"
    record partition inventory2 "$start" "$healed" "iptables DROP of PostgreSQL's port inside the namespace, 10 s; SERVING again at $(since_s)"
}

fault_lock() {
    local start live1 live2
    start=$(since_s)
    say "fault: a 5 s lock on the hottest stock row (P-000001 at DC-ATL)"
    # Liveness of both inventory replicas is watched meanwhile, the way a
    # kubelet would (1 s deadline every 200 ms): it must never fail.
    "$bin/peak_seed" probe "${addr[inventory1]}" liveness 7 >"$work/live1.txt" 2>&1 &
    live1=$!
    "$bin/peak_seed" probe "${addr[inventory2]}" liveness 7 >"$work/live2.txt" 2>&1 &
    live2=$!
    psql_ -c "BEGIN; SELECT 1 FROM inventory.stock WHERE sku = 'P-000001' AND warehouse_id = 'DC-ATL' FOR UPDATE; SELECT pg_sleep(5); COMMIT;" >/dev/null
    wait "$live1" || true
    wait "$live2" || true
    record lock "P-000001@DC-ATL" "$start" "$(since_s)" \
        "SELECT ... FOR UPDATE held 5 s; liveness inventory1 $(tail -1 "$work/live1.txt") inventory2 $(tail -1 "$work/live2.txt")"
}

# The delay and the restock happen first, at 10% and 15% of the surge,
# with no fault running: their gates measure the pipeline at the surge
# rate; the faults' own gates measure what each fault costs.
for f in kill:0.25 rolling:0.35 pg:0.70 partition:0.77 lock:0.90; do
    name=${f%%:*}
    has_fault "$name" || continue
    sleep_until "$(at "${f##*:}")"
    if ! kill -0 "$load_pid" 2>/dev/null; then break; fi
    "fault_$name"
done

load_rc=0
wait "$load_pid" || load_rc=$?
unset load_pid
say "load finished (exit $load_rc)"
[ "$load_rc" -le 1 ] && [ -f "$out/calls.csv" ] || { tail -30 "$out/logs/load.log" >&2; exit 1; }
for s in "${replicas[@]}"; do
    kill -0 "${pid[$s]}" 2>/dev/null || { say "replica $s is not running at the end"; echo "FAIL replica $s exited during the run" >>"$out/audit.txt"; }
done
# Memory per replica at the end of the load: the high-water mark of its
# resident set (VmHWM: since the process started, so a replica the kill or
# rolling fault restarted counts from its restart) and the resident set now.
echo "replica,vm_hwm_kib,vm_rss_kib,threads" >"$out/memory.csv"
for s in "${replicas[@]}"; do
    st=/proc/${pid[$s]}/status
    [ -r "$st" ] || continue
    awk -v r="$s" '/^VmHWM:/ { h = $2 } /^VmRSS:/ { m = $2 } /^Threads:/ { t = $2 }
        END { print r "," h "," m "," t }' "$st" >>"$out/memory.csv"
done

# ---------------------------------------------------------------- audit
say "waiting for the suite to go quiet (every consumer at the end of its stream)"
for _ in $(seq 1 120); do
    line=$(psql_ -At -f "$here/caught_up.sql" 2>/dev/null || true)
    case "$line" in PASS*) break ;; esac
    sleep 1
done

say "audit"
{
    if "$bin/peak_load" check --inventory "$inv_t" >"$work/check_after.txt" 2>&1; then
        echo "PASS CheckInvariants clean: $(tail -1 "$work/check_after.txt")"
    else
        echo "FAIL CheckInvariants: $(head -5 "$work/check_after.txt" | tr '\n' ' ')"
    fi
    psql_ -At -v run="$run_id" -v hold_ttl_s="$hold_ttl_s" \
        -c "CREATE TEMP TABLE peak_orders (order_id text PRIMARY KEY, customer_id text, kind text, lines text, placed text, outcome text);" \
        -c "\\copy peak_orders FROM '$out/orders.csv' WITH (FORMAT csv, HEADER true)" \
        -f "$here/audit.sql"
} >>"$out/audit.txt" 2>&1 || true
cat "$out/audit.txt" | tee -a "$out/logs/peak.log"

# ---------------------------------------------------------------- report
say "report"
/usr/bin/python3 "$here/report.py" --out "$out" --profile "$profile" --surge-start "$normal_s" \
    --surge-end "$((normal_s + surge_s))" --bare "$work/bare.txt" \
    --orders-per-s "$surge_rate" --enforce "${PEAK_ENFORCE:-all}" | tee -a "$out/logs/peak.log"
exit "${PIPESTATUS[0]}"
