# Sourced by the interop scripts that call a real Shelfline service: a
# scratch folder $tmp, the service's life (start_service), and a cleanup
# on exit that stops it.  The caller defines die() and sets service_bin
# and start_timeout (seconds) before calling start_service.
#
# start_service [VAR=VALUE...]: starts $service_bin on a free loopback port
# with the extra environment given, sets address (127.0.0.1:PORT) and
# service_pid, and returns once it listens; dies with its output otherwise.
# The database is SHELFLINE_DATABASE_URL, or the ctest fixture's cluster
# (SHELFLINE_TEST_PG_DIR).  Services fail closed without authentication:
# unless the extra environment sets SHELFLINE_AUTH or a JWT key, the
# service runs with SHELFLINE_AUTH=none, said here in so many words.
#
# start_service may be called again with another $service_bin (a service
# and its peers, e.g. inventory then service-desk): each start sets
# address and service_pid anew, every service started is stopped on exit
# (the last started first), and their output goes to one log.
#
# http_port N: the HTTP port of the N+1-th service started (0: the first),
# from its log line "HTTP on ... (port P)" (SHELFLINE_HTTP_LISTEN is
# 127.0.0.1:0); dies when it logged none.
#
# make_token SUBJECT ROLES: prints a bearer token (without "Bearer ") for
# SUBJECT with ROLES ("cs-agent,planner"), signed by a throwaway ES256 key
# made in $tmp on first use (openssl, and shelfline-token next to
# $service_bin); start the service with
# SHELFLINE_JWT_PUBLIC_KEY_FILE=$tmp/jwt.pub.  (Called as $(make_token ...),
# it runs in a subshell: it sets no variable of the caller's.)

tmp=$(mktemp -d)
service_pid=
service_pids=()
cleanup() {
    local i pid
    for ((i = ${#service_pids[@]} - 1; i >= 0; i--)); do
        pid=${service_pids[$i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

service_log() {
    echo "---- $(basename "$service_bin") output ----" >&2
    tail -n 100 "$tmp/service.log" >&2 || true
    echo "----" >&2
}

make_token() {
    if [ ! -s "$tmp/jwt.pub" ]; then
        openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/jwt.key" 2>/dev/null &&
            openssl ec -in "$tmp/jwt.key" -pubout -out "$tmp/jwt.pub" 2>/dev/null ||
            die "openssl could not make a key pair"
    fi
    "$(dirname "$service_bin")/shelfline-token" --key "$tmp/jwt.key" --sub "$1" --roles "$2" --ttl 1h ||
        die "shelfline-token failed"
}

http_port() {
    local p=
    for _ in $(seq 1 50); do
        p=$(sed -n 's/.*HTTP on [^ ]* (port \([0-9]*\)).*/\1/p' "$tmp/service.log" | sed -n "$(($1 + 1))p")
        [ -n "$p" ] && break
        sleep 0.1
    done
    [ -n "$p" ] || { service_log; die "service $1 logged no HTTP port"; }
    echo "$p"
}

start_service() {
    if [ -z "${SHELFLINE_DATABASE_URL:-}" ]; then
        [ -n "${SHELFLINE_TEST_PG_DIR:-}" ] ||
            die "neither SHELFLINE_DATABASE_URL nor SHELFLINE_TEST_PG_DIR is set"
        [ -s "$SHELFLINE_TEST_PG_DIR/port" ] ||
            die "no $SHELFLINE_TEST_PG_DIR/port: is the test PostgreSQL (ctest fixture pg) running?"
        if [ "$(id -u)" -eq 0 ]; then owner=postgres; else owner=$(id -un); fi
        SHELFLINE_DATABASE_URL="postgresql://$owner@127.0.0.1:$(cat "$SHELFLINE_TEST_PG_DIR/port")/shelfline"
    fi
    export SHELFLINE_DATABASE_URL

    # A free port below the kernel's ephemeral range; "free" is checked by
    # connecting, and a collision shows up as the service failing to start.
    port=
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
    done
    [ -n "$port" ] || die "found no free port on 127.0.0.1"
    address=127.0.0.1:$port

    auth=SHELFLINE_AUTH=none
    for a in "$@"; do
        case $a in SHELFLINE_AUTH=* | SHELFLINE_JWT_PUBLIC_KEY_FILE=*) auth= ;; esac
    done
    # shellcheck disable=SC2086
    env $auth "$@" SHELFLINE_LISTEN=$address SHELFLINE_HTTP_LISTEN=127.0.0.1:0 "$service_bin" >>"$tmp/service.log" 2>&1 &
    service_pid=$!
    service_pids+=("$service_pid")

    now_us() { echo $((10#${EPOCHREALTIME//[!0-9]/})); }
    deadline=$(($(now_us) + start_timeout * 1000000))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! kill -0 "$service_pid" 2>/dev/null; then
            rc=0
            wait "$service_pid" || rc=$?
            service_pid=
            service_log
            die "$(basename "$service_bin") exited with status $rc before listening on $address"
        fi
        if [ "$(now_us)" -ge $deadline ]; then
            service_log
            die "$(basename "$service_bin") did not listen on $address within ${start_timeout}s"
        fi
        sleep 0.1
    done
}
