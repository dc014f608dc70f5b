#!/usr/bin/env bash
# Loads the demo data set into the running services (called by run.sh
# after the services are up; safe to run again -- every loader is
# idempotent).  Runs every demo loader built into the bin directory,
# shelfline-<service>-demo, inventory first (the others read its
# catalogue), then the others side by side, each with the services'
# addresses in the environment (SHELFLINE_INVENTORY_ADDR, ...).
#
# Environment: SHELFLINE_BIN_DIR [build/bin], the SHELFLINE_*_ADDR
# variables (run.sh exports them; defaults 127.0.0.1:50051..50054).
# Exit status: 0 when every loader succeeded, 1 when one failed (its
# output, on stderr, names the cause).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SHELFLINE_BIN_DIR:-$root/build/bin}
export SHELFLINE_INVENTORY_ADDR=${SHELFLINE_INVENTORY_ADDR:-127.0.0.1:50051}
export SHELFLINE_FORECASTING_ADDR=${SHELFLINE_FORECASTING_ADDR:-127.0.0.1:50052}
export SHELFLINE_CUSTOMER_VALUE_ADDR=${SHELFLINE_CUSTOMER_VALUE_ADDR:-127.0.0.1:50053}
export SHELFLINE_SERVICE_DESK_ADDR=${SHELFLINE_SERVICE_DESK_ADDR:-127.0.0.1:50054}

loaders=()
[ -x "$bin/shelfline-inventory-demo" ] && loaders+=("$bin/shelfline-inventory-demo")
for l in "$bin"/shelfline-*-demo; do
    [ -x "$l" ] || continue
    [ "$l" = "$bin/shelfline-inventory-demo" ] && continue
    loaders+=("$l")
done

if [ ${#loaders[@]} -eq 0 ]; then
    echo "demo.sh: no demo loaders (shelfline-*-demo) in $bin; build first (make build)" >&2
    exit 1
fi

# Inventory first (the others read its catalogue and stock); the others
# only read inventory, so they load side by side.  Each one's output is
# kept and printed whole, in order, when all have ended.
run_loader() {
    local l=$1 out=$2 start
    start=$(date +%s)
    if "$l" >"$out" 2>&1; then
        echo "  $(basename "$l") done in $(( $(date +%s) - start ))s" >>"$out"
    else
        echo "demo.sh: $(basename "$l") failed; the demo data set is incomplete (see its message above)" >>"$out"
        return 1
    fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for wave in first rest; do
    pids=() outs=()
    for l in "${loaders[@]}"; do
        name=$(basename "$l")
        if [ "$wave" = first ] && [ "$name" != shelfline-inventory-demo ]; then continue; fi
        if [ "$wave" = rest ] && [ "$name" = shelfline-inventory-demo ]; then continue; fi
        echo "loading demo data: $name"
        run_loader "$l" "$tmp/$name.out" &
        pids+=("$!") outs+=("$tmp/$name.out")
    done
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then
            cat "${outs[$i]}"
        else
            cat "${outs[$i]}" >&2
            failed=1
        fi
    done
    if [ "$failed" != 0 ]; then
        echo "demo.sh: a demo loader failed (see above)" >&2
        exit 1
    fi
done
