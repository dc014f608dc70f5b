#!/usr/bin/env bash
# The layering of the suite, checked by ctest (issue 15, STYLE.md rule 8):
#   - libpq (PQ* calls) and sl_db_exec* only in common/ and in a service's
#     store modules (*_store.c, *_store_*.c): SQL and rows stay there;
#   - sl_db_acquire only in common/: services run their statements in
#     transactions (sl_db_tx), never on a raw pooled connection;
#   - gRPC core (#include <grpc/...>) only in common/: its API is not stable
#     across versions, so everything of it stays behind sl_server/sl_client.
# It looks at the product code of services/ (common/ is the library the
# rules protect).
#
# usage: check_layering.sh SOURCE_DIR
#        check_layering.sh --self-test   (plants each violation in a copy)
set -euo pipefail

# Files exempt from the database rules while they are being rewritten
# (none now: service-desk's domain files moved their SQL into
# sd_*_store.c).  Add an entry only with the issue that removes it; the
# check says when one is no longer needed.
allow=()

check() {
    local dir=$1 bad=0 f
    cd "$dir"
    local files
    files=$(git ls-files 'services/*.c' 'services/*.h' 2>/dev/null || true)
    [ -n "$files" ] || files=$(find services -name '*.[ch]' | sort)
    for f in $files; do
        local allowed=0 a
        for a in "${allow[@]}"; do [ "$f" = "$a" ] && allowed=1; done
        case $f in
        *_store.c | *_store_*.c) ;;
        *)
            if [ $allowed -eq 0 ]; then
                if grep -nE '(^|[^A-Za-z0-9_])PQ[a-zA-Z]+[[:space:]]*\(' "$f"; then
                    echo "$f: libpq outside a store module (move the SQL into its *_store.c)"
                    bad=$((bad + 1))
                fi
                if grep -nE '(^|[^A-Za-z0-9_])sl_db_exec[a-z_]*[[:space:]]*\(' "$f"; then
                    echo "$f: sl_db_exec outside a store module (call a typed store function)"
                    bad=$((bad + 1))
                fi
            fi
            ;;
        esac
        if [ $allowed -eq 0 ] && grep -nE '(^|[^A-Za-z0-9_])sl_db_acquire[[:space:]]*\(' "$f"; then
            echo "$f: sl_db_acquire outside common/ (run the statements in sl_db_tx)"
            bad=$((bad + 1))
        fi
        if grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]grpc/' "$f"; then
            echo "$f: gRPC core included outside common/ (use sl_server.h / sl_client.h)"
            bad=$((bad + 1))
        fi
    done
    for a in "${allow[@]}"; do
        if [ ! -f "$a" ] || ! grep -qE '(^|[^A-Za-z0-9_])(PQ[a-zA-Z]+|sl_db_exec[a-z_]*|sl_db_acquire)[[:space:]]*\(' "$a"; then
            echo "note: $a is allowed but needs it no more: drop it from check_layering.sh"
        fi
    done
    if [ "$bad" -ne 0 ]; then
        echo "$bad layering violation(s)"
        return 1
    fi
    echo "layering: services/ keeps libpq and sl_db_exec in store modules, sl_db_acquire and gRPC core in common/"
}

self_test() {
    local src=$1 tmp rc=0
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    mkdir -p "$tmp/services/x"
    printf 'int ok(void)\n{\n    return PQntuples(r);\n}\n' >"$tmp/services/x/x_store.c"
    local -a plants=(
        'PGresult *r = PQexec(c, "SELECT 1");'
        'st = sl_db_exec(conn, "x_get", 1, p, &r, err);'
        'sl_db_exec_pipeline(conn, q, n, err);'
        'st = sl_db_acquire(db, &conn, err);'
        '#include <grpc/grpc.h>'
    )
    local p
    for p in "${plants[@]}"; do
        printf '%s\n' "$p" >"$tmp/services/x/x_api.c"
        if (check "$tmp" >/dev/null); then
            echo "self-test: not caught: $p"
            rc=1
        fi
    done
    rm -f "$tmp/services/x/x_api.c"
    if ! (check "$tmp" >/dev/null); then
        echo "self-test: a clean tree (libpq in a store module) was refused"
        rc=1
    fi
    [ $rc -eq 0 ] && echo "self-test: every planted violation caught"
    return $rc
}

if [ "${1:-}" = "--self-test" ]; then
    self_test "$(cd "$(dirname "$0")/../.." && pwd)"
else
    check "$1"
fi
