#!/usr/bin/env bash
# Shelfline benchmarks (`make bench`): builds the benchmark tools, a CMake
# project of their own (tests/bench/CMakeLists.txt), into BUILD_DIR/bench and
# runs each section, printing the machine, every command it runs, the raw
# figures of every run and a summary table.
#
# usage: tests/bench/run.sh BUILD_DIR
#
# A section is a function section_<name>; add one by writing the function
# and listing it in BENCH_SECTIONS' default below.  Only 127.0.0.1 is used.
#
# Knobs (environment), defaults in brackets:
#   BENCH_SECTIONS         sections to run, in order
#                          ["unary inventory forecast clv cv_service service_desk"]
#   BENCH_ROUNDS           rounds per server; medians are reported [3]
#   BENCH_WARMUP           loadgen warm-up, seconds [2]
#   BENCH_DURATION         loadgen measured window, seconds [10]
#   BENCH_CONNECTIONS      loadgen connections [8]
#   BENCH_OUTSTANDING      loadgen calls in flight per connection [16]
#   BENCH_H2LOAD           1: add the h2load cross-check, 0: skip it [1]
#   BENCH_H2LOAD_DURATION  h2load run, seconds [5]
#   BENCH_RETRIES          extra attempts of a run disturbed by other work [2]
#   BENCH_QUIET_WAIT       seconds to wait for an idle machine before a run [30]
#   BENCH_SERVER_CPU       CPU the server is pinned to [0]
#   BENCH_CLIENT_CPU       CPU the load generator is pinned to [1]
#
# Exit status: 0 when every run completed without errors (whatever the
# figures), 1 when something failed or a run saw gRPC errors, 2 on usage.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: tests/bench/run.sh BUILD_DIR" >&2
    exit 2
fi
build_dir=$(realpath -m "$1")
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$src_dir/../.." && pwd)
bench_dir=$build_dir/bench

sections=${BENCH_SECTIONS:-unary inventory forecast clv cv_service service_desk}
rounds=${BENCH_ROUNDS:-3}
warmup=${BENCH_WARMUP:-2}
duration=${BENCH_DURATION:-10}
connections=${BENCH_CONNECTIONS:-8}
outstanding=${BENCH_OUTSTANDING:-16}
with_h2load=${BENCH_H2LOAD:-1}
h2load_duration=${BENCH_H2LOAD_DURATION:-5}
retries=${BENCH_RETRIES:-2}
quiet_wait=${BENCH_QUIET_WAIT:-30}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}

# The knobs are checked before anything runs; the first bad one is named.
check_knob() { # NAME VALUE REGEX WHAT
    if ! [[ $2 =~ ^($3)$ ]]; then
        echo "bench: invalid $1 \"$2\" (expected $4)" >&2
        exit 2
    fi
}
int='[1-9][0-9]*'
secs='[0-9]+(\.[0-9]+)?'
check_knob BENCH_ROUNDS "$rounds" "$int" "a positive integer"
check_knob BENCH_WARMUP "$warmup" "$secs" "seconds"
check_knob BENCH_DURATION "$duration" "$secs" "seconds"
check_knob BENCH_CONNECTIONS "$connections" "$int" "a positive integer"
check_knob BENCH_OUTSTANDING "$outstanding" "$int" "a positive integer"
check_knob BENCH_H2LOAD "$with_h2load" "0|1" "0 or 1"
check_knob BENCH_H2LOAD_DURATION "$h2load_duration" "$int" "whole seconds"
check_knob BENCH_RETRIES "$retries" "0|$int" "a number of attempts"
check_knob BENCH_QUIET_WAIT "$quiet_wait" "0|$int" "whole seconds"
check_knob BENCH_SERVER_CPU "$server_cpu" "0|$int" "a CPU number"
check_knob BENCH_CLIENT_CPU "$client_cpu" "0|$int" "a CPU number"
if [ "$server_cpu" = "$client_cpu" ]; then
    echo "bench: BENCH_SERVER_CPU and BENCH_CLIENT_CPU must differ" >&2
    exit 2
fi

# Cores of other work (beyond the server and the load generator) above which
# a measurement counts as disturbed; a quiet machine shows about 0.02.
busy_limit=0.08

# h2load's own shape (calls in flight = clients x streams); 4 x 32 gave the
# C++ server its best h2load figure here.
h2load_clients=4
h2load_streams=32

failed=0
server_pid=
tmp=$(mktemp -d)
trap 'stop_server; rm -rf "$tmp"' EXIT
# Interrupted: leave through the EXIT trap, so no server is left behind.
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*"; }
# Shows a command in the report, quoted so it can be pasted into a shell.
show() {
    local q
    printf -v q '%q ' "$@"
    printf '  $ %s\n' "${q% }"
}

# Figures that could not be measured are "NA" throughout.

# value_of KEY LINE: the value of KEY=VALUE in a loadgen-style line.
value_of() {
    local kv
    for kv in $2; do
        if [ "${kv%%=*}" = "$1" ]; then
            printf '%s\n' "${kv#*=}"
            return
        fi
    done
    echo NA
}

# median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g |
        awk '{ a[NR] = $1 } END {
            if (NR == 0) print "NA"
            else if (NR % 2) print a[(NR + 1) / 2]
            else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# calc EXPR: floating-point arithmetic, two decimals.
calc() {
    case "$1" in
    *NA*) echo NA ;;
    *) awk "BEGIN { d = $1; printf \"%.2f\", d }" 2>/dev/null || echo NA ;;
    esac
}

# A TCP port nothing listens on (bash's /dev/tcp, so no ss or netstat needed).
free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "bench: could not find a free port" >&2
    return 1
}

# Established client connections to port, from /proc/net/tcp{,6} (gRPC
# uses IPv4-mapped IPv6 sockets; the remote port is the 3rd field's hex
# suffix, state 01 is ESTABLISHED).
count_connections() {
    awk -v port="$(printf '%04X' "$1")" \
        'FNR > 1 && $4 == "01" && substr($3, length($3) - 3) == port { n++ } END { print n + 0 }' \
        /proc/net/tcp /proc/net/tcp6
}

# CPU seconds (user + system) used so far by process pid.
proc_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# CPU seconds the whole machine has spent busy (user, nice, system, irq,
# softirq), from /proc/stat.
machine_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8) / hz; exit }' /proc/stat
}

# CPU seconds used by this shell's finished children, from the times builtin
# (run in this shell, not in a subshell, hence the file).
children_cpu() {
    times >"$tmp/times"
    awk 'NR == 2 { s = 0; for (i = 1; i <= NF; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] }
        print s }' "$tmp/times"
}

# Busy cores of the whole machine over one second.
machine_busy() {
    local a b
    a=$(machine_cpu)
    sleep 1
    b=$(machine_cpu)
    calc "$b - $a"
}

# Waits (up to BENCH_QUIET_WAIT seconds) until the machine is idle, so a
# measurement does not start in the middle of someone else's build.
wait_quiet() {
    local busy waited=0
    while busy=$(machine_busy) && awk "BEGIN { exit !($busy > $busy_limit) }"; do
        waited=$((waited + 1))
        if [ "$waited" -ge "$quiet_wait" ]; then
            say "  (the machine is still busy, $busy cores; measuring anyway)"
            return
        fi
    done
}

# Whether process pid, and nobody else, listens on port: every listening
# socket on it (state 0A in /proc/net/tcp{,6}) must be one of pid's, matched
# by inode.  gRPC servers set SO_REUSEPORT, so a second server on the same
# port would silently take half of the connections.
listens_alone() {
    local inodes owned=0 inode fd
    inodes=$(awk -v port="$(printf '%04X' "$2")" \
        'FNR > 1 && $4 == "0A" && substr($2, length($2) - 3) == port { print $10 }' \
        /proc/net/tcp /proc/net/tcp6)
    [ -n "$inodes" ] || return 1
    for fd in "/proc/$1/fd/"*; do
        inode=$(readlink "$fd" 2>/dev/null) || continue
        case "$inode" in
        socket:\[*\]) inode=${inode#socket:[} inode=${inode%]} ;;
        *) continue ;;
        esac
        if grep -qxF "$inode" <<<"$inodes"; then
            owned=$((owned + 1))
        fi
    done
    [ "$owned" -eq "$(wc -l <<<"$inodes")" ]
}

# start_server LOG PORT CMD...: runs the server pinned to the server CPU and
# waits (up to 10 s) until it listens on PORT.  Returns 1 when it exited
# instead (e.g. someone else took the port meanwhile).
start_server() {
    local log=$1 port=$2
    shift 2
    show taskset -c "$server_cpu" "$@"
    taskset -c "$server_cpu" "$@" >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" 2>/dev/null || true
            server_pid=
            return 1
        fi
        listens_alone "$server_pid" "$port" && return 0
        sleep 0.1
    done
    say "  (the server does not listen alone on port $port)"
    stop_server
    return 1
}

# Stops the running server: SIGTERM (graceful drain), SIGKILL after 10 s.
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

print_header() {
    local cpu_model grpc_version grpcpp_version h2load_version git_rev
    cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    grpc_version=$(pkg-config --modversion grpc 2>/dev/null || echo "?")
    grpcpp_version=$(pkg-config --modversion grpc++ 2>/dev/null || echo "?")
    h2load_version=$(h2load --version 2>/dev/null | head -1 || true)
    git_rev=$(git -C "$repo_dir" rev-parse --short HEAD 2>/dev/null || echo "?")
    if [ -n "$(git -C "$repo_dir" status --porcelain 2>/dev/null)" ]; then
        git_rev="$git_rev (with local changes)"
    fi
    say "Shelfline benchmarks, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    say "machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, $(uname -srm)"
    say "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    say "gRPC: core $grpc_version (Debian libgrpc), grpc++ $grpcpp_version; ${h2load_version:-h2load missing}"
    say "source: $repo_dir at $git_rev; build: $build_dir"
    say "pinning: server on CPU $server_cpu, load generator on CPU $client_cpu"
    say
}

build_tools() {
    say "== build (tests/bench, CMake project of its own)"
    local log=$tmp/build.log
    local configure=(cmake -S "$src_dir" -B "$bench_dir" -DCMAKE_BUILD_TYPE=Release)
    local build=(cmake --build "$bench_dir" -j "$(nproc)")
    show "${configure[@]}"
    show "${build[@]}"
    if ! { "${configure[@]}" && "${build[@]}"; } >"$log" 2>&1; then
        cat "$log"
        echo "bench: could not build the benchmark tools" >&2
        exit 1
    fi
    say
}

# ---- section: unary ------------------------------------------------------
# Unary throughput and latency of one trivial method
# (grpc.testing.TestService/UnaryCall, empty SimpleRequest -> empty
# SimpleResponse) on one server core: Shelfline's server against the C++
# async reference, both driven by the same loadgen; rounds alternate the
# servers so that drift on the machine hits both alike.

# unary_server_cmd NAME PORT: sets cmd to the server's command line; returns
# 1 when that server is not built.
unary_server_cmd() {
    case "$1" in
    cpp) cmd=("$bench_dir/cpp_ref_server" --port="$2" --threads=1) ;;
    ours)
        [ -x "$build_dir/bin/shelfline-interop-server" ] || return 1
        cmd=("$build_dir/bin/shelfline-interop-server" --port="$2" --workers=1)
        ;;
    esac
}

declare -A unary_label=([cpp]="C++ async (grpc++)" [ours]="Shelfline sl_server")
declare -A unary_results
h2_line=
line=
conns=

# unary_h2load PORT: h2load cross-check of the running server; sets h2_line to
# "calls_per_s=N mean_us=N server_cpu=N other_cpu=N verified=yes|no"
# (other_cpu: cores used by neither the server nor h2load).  h2load counts an
# HTTP 200 even when grpc-status says error, so the DATA bytes are checked:
# an error is a trailers-only response without any, every OK response
# carries the same message.
unary_h2load() {
    local port=$1 url out data one b ok total c0 c1 m0 m1 h0 h1 secs rps mean verified
    url=http://127.0.0.1:$port/grpc.testing.TestService/UnaryCall
    local req=(-d "$tmp/empty.grpc" -H 'content-type: application/grpc' -H 'te: trailers')
    # One call at a time first: the size of one OK response on the wire.
    local probe=(h2load -n 100 -c 1 -m 1 "${req[@]}" "$url")
    show "${probe[@]}"
    one=$("${probe[@]}" 2>&1)
    data=$(sed -n 's/^traffic:.*(\([0-9]*\)) data.*/\1/p' <<<"$one")
    ok=$(sed -n 's/^requests:.* \([0-9]*\) succeeded.*/\1/p' <<<"$one")
    if [ "$ok" != 100 ] || [ -z "$data" ] || [ $((data % 100)) -ne 0 ] || [ "$data" -eq 0 ]; then
        warn "h2load probe of 100 calls did not get 100 same-sized gRPC responses"
        h2_line="calls_per_s=NA mean_us=NA server_cpu=NA other_cpu=NA verified=no"
        return
    fi
    b=$((data / 100))
    local run=(taskset -c "$client_cpu" h2load -c "$h2load_clients" -m "$h2load_streams" -t 1
        -D "$h2load_duration" "${req[@]}" "$url")
    show "${run[@]}"
    c0=$(proc_cpu "$server_pid") m0=$(machine_cpu) h0=$(children_cpu)
    out=$("${run[@]}" 2>&1)
    c1=$(proc_cpu "$server_pid") m1=$(machine_cpu) h1=$(children_cpu)
    secs=$(sed -n 's/^finished in \([0-9.]*\)s,.*/\1/p' <<<"$out")
    rps=$(sed -n 's/^finished in [0-9.]*s, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")
    mean=$(awk '/^time for request:/ { v = $6; if (v ~ /ms$/) v *= 1000; sub(/us$/, "", v); print v + 0 }' <<<"$out")
    data=$(sed -n 's/^traffic:.*(\([0-9]*\)) data.*/\1/p' <<<"$out")
    ok=$(sed -n 's/^requests:.* \([0-9]*\) succeeded.*/\1/p' <<<"$out")
    total=$(sed -n 's/^requests: .* \([0-9]*\) done.*/\1/p' <<<"$out")
    # Calls cut off at the end may have had their data counted already.
    verified=no
    if [ -n "$ok" ] && [ "$ok" = "$total" ] && [ "$data" -ge $((b * ok)) ] &&
        [ "$data" -le $((b * (ok + h2load_clients * h2load_streams))) ]; then
        verified=yes
    fi
    h2_line=$(printf 'calls_per_s=%.0f mean_us=%s server_cpu=%s other_cpu=%s verified=%s' \
        "${rps:-0}" "${mean:-NA}" "$(calc "($c1 - $c0) / ${secs:-NA}")" \
        "$(calc "(($m1 - $m0) - ($c1 - $c0) - ($h1 - $h0)) / ${secs:-NA}")" "$verified")
}

# unary_measure NAME: one measurement of one server (loadgen, then h2load on
# the same server process).  Sets line, h2_line and conns; returns 1 when it
# could not measure (reported, and the run marked failed).
unary_measure() {
    local name=$1 port tries=0
    while :; do
        port=$(free_port)
        unary_server_cmd "$name" "$port"
        start_server "$tmp/$name.log" "$port" "${cmd[@]}" && break
        tries=$((tries + 1))
        if [ "$tries" -ge 3 ]; then
            say "the server did not start; its log:"
            tail -20 "$tmp/$name.log"
            failed=1
            return 1
        fi
        say "  (the server exited at start, trying another port)"
    done
    local lg=(taskset -c "$client_cpu" "$bench_dir/loadgen" --target="127.0.0.1:$port"
        --connections="$connections" --outstanding="$outstanding" --threads=1
        --warmup="$warmup" --duration="$duration" --server-pid="$server_pid")
    # Counted in the middle of the window: proves the channels really are
    # separate connections.
    (sleep "$(calc "$warmup + $duration / 2")" && count_connections "$port" >"$tmp/conns") &
    local counter=$!
    show "${lg[@]}"
    if ! line=$("${lg[@]}" 2>"$tmp/loadgen.err"); then
        cat "$tmp/loadgen.err"
        kill "$counter" 2>/dev/null || true
        wait "$counter" 2>/dev/null || true
        if ! kill -0 "$server_pid" 2>/dev/null; then
            say "the server exited; its log:"
            tail -20 "$tmp/$name.log"
        fi
        stop_server
        failed=1
        return 1
    fi
    wait "$counter" 2>/dev/null || true
    conns=$(cat "$tmp/conns" 2>/dev/null || echo "?")
    grep -v '^loadgen: 127' "$tmp/loadgen.err" || true
    say "  $line connections_seen=$conns"
    h2_line=
    if [ "$with_h2load" = 1 ]; then
        unary_h2load "$port"
        say "  h2load: $h2_line"
        if [ "$(value_of verified "$h2_line")" != yes ]; then
            warn "h2load's figure for ${unary_label[$name]} is not backed by OK gRPC responses"
            failed=1
        fi
    fi
    stop_server
    if [ "$(value_of errors "$line")" != 0 ]; then
        warn "${unary_label[$name]} answered errors (see above); its figures are invalid"
        failed=1
    fi
    if [ "$conns" != "?" ] && [ "$conns" != "$connections" ]; then
        warn "expected $connections connections, saw $conns"
    fi
}

# unary_round NAME ROUND: measures one server, again (up to BENCH_RETRIES
# times) while other work on the machine disturbs the measurement; the last
# attempt counts either way, marked as disturbed.
unary_round() {
    local name=$1 round=$2 attempt=1 other
    while :; do
        wait_quiet
        say "-- ${unary_label[$name]}, round $round, attempt $attempt"
        unary_measure "$name" || return 0
        other=$(calc "$(value_of machine_cpu "$line") - $(value_of client_cpu "$line") - $(value_of server_cpu "$line")")
        if [ -n "$h2_line" ] && [ "$(value_of other_cpu "$h2_line")" != NA ]; then
            other=$(calc "$other > $(value_of other_cpu "$h2_line") ? $other : $(value_of other_cpu "$h2_line")")
        fi
        if [ "$other" = NA ] || awk "BEGIN { exit !($other <= $busy_limit) }"; then
            break
        fi
        if [ "$attempt" -le "$retries" ]; then
            warn "other work used $other cores while measuring; measuring again"
            attempt=$((attempt + 1))
            continue
        fi
        warn "other work used $other cores while measuring; keeping this disturbed figure"
        unary_results[$name,disturbed]=$((${unary_results[$name,disturbed]:-0} + 1))
        break
    done
    for k in calls_per_s p50_us p99_us server_cpu client_cpu; do
        unary_results[$name,$k]+=" $(value_of "$k" "$line")"
    done
    # Server CPU time per call: the efficiency, even when the client rather
    # than the server was the bottleneck.
    unary_results[$name,us_per_call]+=" $(calc "$(value_of server_cpu "$line") * 1000000 / $(value_of calls_per_s "$line")")"
    if [ -n "$h2_line" ]; then
        unary_results[$name,h2_calls]+=" $(value_of calls_per_s "$h2_line")"
        unary_results[$name,h2_cpu]+=" $(value_of server_cpu "$h2_line")"
    fi
}

section_unary() {
    say "== unary: /grpc.testing.TestService/UnaryCall, empty request, one server core"
    say "loadgen: $connections connections x $outstanding calls in flight, 1 thread," \
        "warm-up ${warmup}s, window ${duration}s; $rounds rounds, servers alternating"
    # An empty message in gRPC's framing: no compression, length 0.
    printf '\0\0\0\0\0' >"$tmp/empty.grpc"
    local servers=(cpp) name
    if unary_server_cmd ours 0; then
        servers+=(ours)
    else
        say "NOTE: $build_dir/bin/shelfline-interop-server is not built yet; only the C++" \
            "reference is measured (run 'make build' first for the comparison)"
    fi
    say
    for round in $(seq "$rounds"); do
        for name in "${servers[@]}"; do
            unary_round "$name" "$round"
        done
    done
    say

    # Medians per server, then the ratios.
    declare -A m
    for name in "${servers[@]}"; do
        for k in calls_per_s p50_us p99_us server_cpu us_per_call client_cpu h2_calls h2_cpu; do
            # shellcheck disable=SC2086  # the values are space-separated on purpose
            m[$name,$k]=$(median ${unary_results[$name,$k]:-})
        done
    done
    local fmt='  %-20s | %8s %7s %7s %7s %8s %7s | %8s %7s\n'
    say "unary summary (medians of $rounds rounds; cpu in cores, cpu_us/call = server CPU per call):"
    # shellcheck disable=SC2059  # the format is shared by the rows
    printf "$fmt" "" "loadgen" "" "" "" "" "" "h2load" ""
    # shellcheck disable=SC2059
    printf "$fmt" server calls/s p50_us p99_us srv_cpu cpu_us/c cli_cpu calls/s srv_cpu
    for name in "${servers[@]}"; do
        # shellcheck disable=SC2059
        printf "$fmt" "${unary_label[$name]}" "${m[$name,calls_per_s]}" "${m[$name,p50_us]}" \
            "${m[$name,p99_us]}" "${m[$name,server_cpu]}" "${m[$name,us_per_call]}" \
            "${m[$name,client_cpu]}" "${m[$name,h2_calls]}" "${m[$name,h2_cpu]}"
    done
    for name in "${servers[@]}"; do
        if awk "BEGIN { exit !(${m[$name,client_cpu]/NA/0} >= 0.95) }"; then
            say "  note: loadgen used its whole core against ${unary_label[$name]}: its calls/s" \
                "is a lower bound of the server's capacity (see cpu_us/c and h2load)"
        fi
        if [ -n "${unary_results[$name,disturbed]:-}" ]; then
            say "  note: ${unary_results[$name,disturbed]} of $rounds rounds of" \
                "${unary_label[$name]} shared the machine with other work"
        fi
    done
    if [ "${#servers[@]}" -eq 2 ]; then
        local r_lg r_h2 r_cpu
        r_lg=$(calc "${m[ours,calls_per_s]} / ${m[cpp,calls_per_s]}")
        r_h2=$(calc "${m[ours,h2_calls]} / ${m[cpp,h2_calls]}")
        r_cpu=$(calc "${m[cpp,us_per_call]} / ${m[ours,us_per_call]}")
        say
        local verdict
        if [ -n "${unary_results[cpp,disturbed]:-}${unary_results[ours,disturbed]:-}" ]; then
            verdict="not judged, other work disturbed some runs"
        else
            verdict=$(awk "BEGIN { print ($r_lg >= 1.0) ? \"met\" : \"NOT met\" }")
        fi
        say "  ratio ours/C++: ${r_lg}x calls/s with loadgen (goal >= 1.0x: $verdict);" \
            "${r_cpu}x calls per server CPU second (cpu_us/c); ${r_h2}x calls/s with h2load"
        say "unary_ratio_loadgen=$r_lg unary_ratio_h2load=$r_h2 unary_ratio_cpu=$r_cpu"
    fi
    say
}

main() {
    local n
    n=$(nproc)
    if [ "$n" -lt 2 ]; then
        echo "bench: needs 2 CPUs (server and load generator on separate cores), this machine has $n" >&2
        exit 1
    fi
    for tool in cmake taskset h2load pkg-config; do
        if ! command -v "$tool" >/dev/null; then
            echo "bench: $tool is missing (deploy/local/deps.sh bench installs it)" >&2
            exit 1
        fi
    done
    for s in $sections; do
        if ! declare -F "section_$s" >/dev/null; then
            echo "bench: unknown section \"$s\" in BENCH_SECTIONS" >&2
            exit 2
        fi
    done
    print_header
    build_tools
    for s in $sections; do
        "section_$s"
    done
    if [ "$failed" -ne 0 ]; then
        say "some runs failed or saw errors (see the warnings above)"
        exit 1
    fi
}

# The services' benchmarks are scripts of their own (each standalone and
# documented at its top); a missing script is reported, not fatal, so the
# sections can land one by one.
run_script_section() { # NAME SCRIPT
    say "== section $1: $2"
    if [ ! -x "$src_dir/$2" ]; then
        say "$2 is not there yet: section $1 skipped"
        return
    fi
    if ! "$src_dir/$2" "$build_dir"; then
        say "section $1 failed"
        failed=1
    fi
}
section_inventory() { run_script_section inventory inventory_bench.sh; }
section_forecast() { run_script_section forecast forecast_bench.sh; }
section_clv() { run_script_section clv clv_bench.sh; }
section_cv_service() { run_script_section cv_service cv_service_bench.sh; }
section_service_desk() { run_script_section service_desk sd_bench.sh; }

main
