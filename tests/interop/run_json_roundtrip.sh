#!/usr/bin/env bash
# sl_json against Python's google.protobuf.json_format (json_roundtrip.py):
# generates the Python modules of proto/ into OUTDIR, then round-trips
# random instances of every request and response type both ways.
#
# usage: run_json_roundtrip.sh TOOL OUTDIR [COUNT [SEED]]
#   TOOL    build/bin/shelfline-json-tool
#   OUTDIR  where the generated Python goes (nothing of it is committed)
# Environment: SHELFLINE_SOURCE_DIR (default: two folders up) for proto/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=run_json_roundtrip.sh
die() { echo "$me: $*" >&2; exit 1; }

[ $# -ge 2 ] || { echo "usage: $me TOOL OUTDIR [COUNT [SEED]]" >&2; exit 2; }
tool=$1
[ -x "$tool" ] || die "$tool is missing or not executable"
src=${SHELFLINE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
/usr/bin/python3 -c 'import google.protobuf' 2>/dev/null ||
    die "Debian's python3-protobuf is missing (deploy/local/deps.sh test)"
mkdir -p "$2"
gen=$(cd "$2" && pwd)/python
rm -rf "$gen.tmp"
mkdir -p "$gen.tmp"
protoc -I"$src/proto" --python_out="$gen.tmp" "$src"/proto/shelfline/v1/*.proto ||
    die "protoc --python_out failed"
rm -rf "$gen"
mv "$gen.tmp" "$gen"
exec /usr/bin/python3 "$here/json_roundtrip.py" "$gen" "$tool" "${3:-25}" "${4:-16}"
