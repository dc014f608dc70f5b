#!/usr/bin/env bash
# Loads the demo data set into the running services (called by run.sh
# after the services are up; safe to run again -- every loader is
# idempotent).  Runs every demo loader built into the bin directory,
# shelfline-<service>-demo, inventory first (the others may read its
# catalogue), each with the services' addresses in the environment
# (SHELFLINE_INVENTORY_ADDR, ...).
#
# Environment: SHELFLINE_BIN_DIR [build/bin], the SHELFLINE_*_ADDR
# variables (run.sh exports them; defaults 127.0.0.1:50051..50054).
# Exit status: 0 when every loader succeeded, 1 naming the first that
# failed.
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

for l in "${loaders[@]}"; do
    name=$(basename "$l")
    echo "loading demo data: $name"
    start=$(date +%s)
    if ! "$l"; then
        echo "demo.sh: $name failed; the demo data set is incomplete (see its message above)" >&2
        exit 1
    fi
    echo "  $name done in $(( $(date +%s) - start ))s"
done
