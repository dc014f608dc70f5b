#!/usr/bin/env bash
# Embedded PostgreSQL for development and tests: a throwaway cluster in a
# git-ignored folder, listening on 127.0.0.1 on a free port, with a
# "shelfline" database.  PostgreSQL refuses to run as root, so when run as
# root the cluster is owned and run by the "postgres" user.
#
# usage: pg.sh start [DIR]   create (first time) and start; prints the URL
#        pg.sh stop  [DIR]   stop (the data stays until "destroy")
#        pg.sh restart [DIR] fast shutdown and start again, same port and
#                            options (tests/peak's database fault)
#        pg.sh url   [DIR]   print the libpq URL of a running cluster
#        pg.sh destroy [DIR] stop and delete the folder
# DIR defaults to .local/pg at the top of the repository.  PG_LISTEN adds
# addresses to listen on besides 127.0.0.1 (comma-separated; tests/peak
# gives its network namespace's host side), PG_FSYNC sets fsync (default
# on) and PG_SYNC_COMMIT synchronous_commit.  synchronous_commit is put on
# the command line only when PG_SYNC_COMMIT is given: a command-line
# setting outranks ALTER SYSTEM, and run.sh turns it off with ALTER SYSTEM
# for the demo load (PostgreSQL's own default, on, applies otherwise).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cmd=${1:-}
dir=${2:-$root/.local/pg}
bin=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
db=shelfline

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    local port
    port=$(cat "$dir/port")
    echo "postgresql://$owner@127.0.0.1:$port/$db"
}

if [ "$(id -u)" -eq 0 ]; then owner=postgres; else owner=$(id -un); fi

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U "$owner" -A trust -E UTF8 \
            --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        url
        exit 0
    fi
    # A random port may be taken between the check and the start: retry.
    for _ in $(seq 1 20); do
        port=$((20000 + RANDOM % 30000))
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        echo "$port" >"$dir/port"
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1${PG_LISTEN:+,$PG_LISTEN} -p $port -c unix_socket_directories='' -c max_connections=300 \
                -c shared_buffers=256MB -c fsync=${PG_FSYNC:-on} \
                ${PG_SYNC_COMMIT:+-c synchronous_commit=$PG_SYNC_COMMIT}" start >/dev/null 2>&1; then
            if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U "$owner" -d postgres -Atqc \
                "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
                as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$owner" "$db"
            fi
            url
            exit 0
        fi
    done
    echo "pg.sh: could not start PostgreSQL in $dir (see $dir/server.log)" >&2
    tail -20 "$dir/server.log" >&2 || true
    exit 1
    ;;
stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
    ;;
url)
    url
    ;;
destroy)
    if [ -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg.sh start|stop|restart|url|destroy [DIR]" >&2
    exit 2
    ;;
esac
