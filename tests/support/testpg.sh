#!/usr/bin/env bash
# ctest fixture: the test PostgreSQL cluster (deploy/local/pg.sh) unless
# SHELFLINE_DATABASE_URL names an existing server, in which case nothing is
# started or stopped.
set -euo pipefail
[ -n "${SHELFLINE_DATABASE_URL:-}" ] && exit 0
here=$(cd "$(dirname "$0")" && pwd)
case "$1" in
start) "$here/../../deploy/local/pg.sh" destroy "$2"
       PG_FSYNC=off "$here/../../deploy/local/pg.sh" start "$2" ;;
stop) "$here/../../deploy/local/pg.sh" destroy "$2" ;;
esac
