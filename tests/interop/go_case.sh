#!/usr/bin/env bash
# Runs one official Go gRPC interop test case against an interop server:
# starts SERVER_BIN --port=PORT on a free loopback port, waits until that
# very process listens, runs the Go client (under `timeout`: it waits forever
# when nothing answers), stops the server and exits with the client's status.
#
# usage: go_case.sh SERVER_BIN CLIENT_BIN CASE
#   SERVER_BIN  build/bin/shelfline-interop-server, or OUTDIR/interop-server
#               (grpc-go's own, for self-checks); both take --port=N
#   CLIENT_BIN  OUTDIR/interop-client from build_go_client.sh
#   CASE        empty_unary, large_unary, ... (the client's --test_case)
#
# Prints one line, "interop_go CASE: PASS (1.2s)" or "... FAIL ...", and on
# failure the client's and the server's output.  Never leaves a server
# running: the EXIT trap stops it (TERM, then KILL).
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 SERVER_BIN CLIENT_BIN CASE" >&2
    exit 2
fi
server_bin=$1
client_bin=$2
test_case=$3
for b in "$server_bin" "$client_bin"; do
    if [ ! -x "$b" ]; then
        echo "interop_go $test_case: FAIL ($b is not an executable)" >&2
        exit 2
    fi
done

client_timeout=60 # seconds for the client, as the issue asks
listen_wait=150   # x 0.1 s until the server must listen (2 cores, ctest -j)
port_tries=5      # fresh ports when another process took ours first

tmp=$(mktemp -d)
server_pid=
client_pid=
# (shellcheck cannot see that the EXIT trap calls these.)
# shellcheck disable=SC2317
stop() { # stop PID: TERM, up to 5 s of grace, then KILL; reaps it
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317
cleanup() {
    stop "$client_pid"
    stop "$server_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap stops the server (ctest
# sends TERM on its timeout; a terminal sends INT).
# shellcheck disable=SC2317
interrupted() {
    echo "interop_go $test_case: FAIL (interrupted by SIG$1)"
    exit "$2"
}
trap 'interrupted TERM 143' TERM
trap 'interrupted INT 130' INT
trap 'interrupted HUP 129' HUP

# Lists the socket inodes listening on TCP port $1 (IPv4 or IPv6, any
# address), from /proc so nothing beyond coreutils/awk is needed.
listen_inodes() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# True when process $1 itself holds a socket listening on port $2, so the
# client never talks to some other process that happens to own the port.
pid_listens_on() {
    local pid=$1 port=$2 ino
    for ino in $(listen_inodes "$port"); do
        [ "$ino" != 0 ] || continue
        [ -n "$(find "/proc/$pid/fd" -maxdepth 1 -lname "socket:\[$ino\]" -print -quit 2>/dev/null)" ] &&
            return 0
    done
    return 1
}

start=$(date +%s%N)
port=
for ((try = 1; try <= port_tries; try++)); do
    # Below Linux's ephemeral range (32768-60999 by default) so outgoing
    # connections do not collide with it; skip ports someone listens on.
    cand=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    [ -z "$(listen_inodes "$cand")" ] || continue
    "$server_bin" --port="$cand" >"$tmp/server.log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < listen_wait; i++)); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break # died: most likely lost the port to someone else; retry
        fi
        if pid_listens_on "$server_pid" "$cand"; then
            port=$cand
            break 2
        fi
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        # Alive but still not listening after the whole wait: not a port race.
        echo "interop_go $test_case: FAIL (server not listening on 127.0.0.1:$cand after $((listen_wait / 10))s)"
        echo "--- server output ---"
        cat "$tmp/server.log"
        exit 1
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=
done
if [ -z "$port" ]; then
    echo "interop_go $test_case: FAIL (server did not start after $port_tries tries)"
    echo "--- server output ---"
    cat "$tmp/server.log"
    exit 1
fi

# The 1.33 client speaks plaintext by default; say so explicitly.  Its info
# log is kept (shown only on failure) unless the caller chose a level.
export GRPC_GO_LOG_SEVERITY_LEVEL="${GRPC_GO_LOG_SEVERITY_LEVEL:-info}"
# In the background so that a TERM from ctest is handled at once (bash runs
# traps only between foreground commands) instead of after the client.
timeout "$client_timeout" "$client_bin" --server_host=127.0.0.1 --server_port="$port" \
    --use_tls=false --test_case="$test_case" >"$tmp/client.log" 2>&1 &
client_pid=$!
rc=0
wait "$client_pid" || rc=$?
client_pid=
elapsed=$((($(date +%s%N) - start) / 1000000))
took="$((elapsed / 1000)).$((elapsed % 1000 / 100))s"

if ! kill -0 "$server_pid" 2>/dev/null; then
    server_died=" (the server exited during the case)"
else
    server_died=
fi
if [ "$rc" -eq 0 ]; then
    echo "interop_go $test_case: PASS ($took, port $port)$server_died"
else
    if [ "$rc" -eq 124 ]; then
        why="client timed out after ${client_timeout}s"
    else
        why="client exit $rc"
    fi
    echo "interop_go $test_case: FAIL ($why, $took, port $port)$server_died"
    echo "--- client output ---"
    cat "$tmp/client.log"
    echo "--- server output ---"
    cat "$tmp/server.log"
fi
exit "$rc"
