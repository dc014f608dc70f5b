#!/usr/bin/env bash
# Guards the public contract, proto/ (ctest contract_lint,
# contract_breaking, contract_self_test):
#   lint      `buf lint` with proto/buf.yaml: the STANDARD rules but the
#             exemptions that file names (docs/CLIENTS.md says why)
#   breaking  `buf breaking` of proto/ against proto/released.binpb, the
#             image of the contract as last released (FILE rules: wire,
#             JSON and generated code); the image changes only when a
#             release is cut (docs/CLIENTS.md "Cutting a release")
# buf is npm's @bufbuild/buf, installed by `npm ci` from tests/contract/node
# into NODE_DIR on first use.
#
# usage: check_contract.sh SOURCE_DIR NODE_DIR [CHECK...]
#        check_contract.sh --self-test SOURCE_DIR NODE_DIR
# --self-test changes a copy of proto/ in each way below and fails unless
# every check catches each incompatible change or style slip and lets the
# compatible ones through.
set -euo pipefail

me=check_contract.sh
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "$me: $*" >&2; exit 1; }

self_test=false
if [ "${1:-}" = --self-test ]; then
    self_test=true
    shift
fi
[ $# -ge 2 ] || { echo "usage: $me [--self-test] SOURCE_DIR NODE_DIR [CHECK...]" >&2; exit 2; }
src=$(cd "$1" && pwd)
node_dir=$2
shift 2
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(lint breaking)

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "node and npm are missing (deploy/local/deps.sh test)"
fi
[ -f "$src/proto/buf.yaml" ] || die "$src/proto/buf.yaml is missing"
[ -s "$src/proto/released.binpb" ] || die "$src/proto/released.binpb is missing"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../support/npm_ci.sh
. "$here/../support/npm_ci.sh"
mkdir -p "$node_dir"
node_dir=$(cd "$node_dir" && pwd)
sl_npm_ci "$here/node" "$node_dir" "$tmp/npm.log"
buf=$node_dir/node_modules/.bin/buf
[ -x "$buf" ] || die "$buf is missing after npm ci"
# buf keeps a cache; in the build folder, not in a HOME CI may not have.
export BUF_CACHE_DIR=$node_dir/buf-cache

# Runs the named checks on the proto/ folder $1 against the image $2;
# prints what failed, each finding with the rule that made it.
run_checks() {
    local proto=$1 image=$2 rc=0 c
    shift 2
    for c in "$@"; do
        case "$c" in
        lint)
            "$buf" lint "$proto" --error-format=msvs || rc=1
            ;;
        breaking)
            "$buf" breaking "$proto" --against "$image" --error-format=msvs || rc=1
            ;;
        *) die "unknown check \"$c\" (lint, breaking)" ;;
        esac
    done
    return $rc
}

if ! $self_test; then
    if run_checks "$src/proto" "$src/proto/released.binpb" "${checks[@]}"; then
        echo "contract checks passed: ${checks[*]}"
        exit 0
    fi
    echo "contract checks failed (${checks[*]}): see the findings above, each with its rule"
    exit 1
fi

# --- self-test ------------------------------------------------------------------
# The baseline is an image of the copy as it stands (so the self-test does
# not depend on how far proto/ has moved since the last release).  Each
# case: a check, the file to change (under shelfline/v1/), a sed
# expression, and what the check must do: "fail:RULE" (fail naming RULE)
# or "pass" (a compatible change: new fields, messages, RPCs and enum
# values break nothing).
copy=$tmp/proto
cp -r "$src/proto" "$copy"
"$buf" build "$copy" --exclude-source-info -o "$tmp/baseline.binpb" ||
    die "self-test: buf build of the unchanged copy failed"
cases=(
    "breaking|common.proto|/string currency = 2;/d|fail:FIELD_NO_DELETE"
    "breaking|common.proto|s/int64 minor_units = 1;/int64 minor_units = 3;/|fail:FIELD_NO_DELETE"
    "breaking|common.proto|s/int64 minor_units = 1;/int32 minor_units = 1;/|fail:FIELD_SAME_TYPE"
    "breaking|common.proto|s/int64 minor_units = 1;/int64 minor_cents = 1;/|fail:FIELD_SAME_NAME"
    "breaking|inventory.proto|s/    STORE = 2;/    SHOP = 2;/|fail:ENUM_VALUE_SAME_NAME"
    "breaking|service_desk.proto|s/  ORDER_PAID = 2;/  ORDER_PAID = 9;/|fail:ENUM_VALUE_NO_DELETE"
    "breaking|service_desk.proto|s/returns (OrderEta);/returns (Order);/|fail:RPC_SAME_RESPONSE_TYPE"
    "breaking|forecasting.proto|s/returns (ListSkusByClassResponse);/returns (ClassifySkusResponse);/|fail:RPC_SAME_RESPONSE_TYPE"
    "breaking|service_desk.proto|/rpc GetOrderEta(/d|fail:RPC_NO_DELETE"
    "breaking|inventory.proto|s/^service InventoryService {/service StockService {/|fail:SERVICE_NO_DELETE"
    "breaking|customer_value.proto|s/^option go_package = .*/option go_package = \"example.com\/cv;cv\";/|fail:FILE_SAME_GO_PACKAGE"
    "breaking|common.proto|s/^message Money {/message Money {\n  string note = 3;/|pass"
    "breaking|service_desk.proto|s/^  NOTIFICATION_BACK_IN_STOCK = 3;/  NOTIFICATION_BACK_IN_STOCK = 3;\n  NOTIFICATION_OTHER = 99;/|pass"
    "lint|common.proto|s/^message Money {/message Money {\n  string noteText = 3;/|fail:FIELD_LOWER_SNAKE_CASE"
    "lint|common.proto|s/^message PageRequest {/enum Mood {\n  HAPPY = 0;\n}\n\nmessage PageRequest {/|fail:ENUM_ZERO_VALUE_SUFFIX"
    "lint|inventory.proto|s/^service InventoryService {/service Inventory {/|fail:SERVICE_SUFFIX"
    "lint|service_desk.proto|s/^  rpc GetOrderEta(GetOrderEtaRequest)/  rpc GetOrderEta(GetOrderRequest)/|fail:RPC_REQUEST_STANDARD_NAME"
    "lint|common.proto|s/^message PageRequest {/message page_hint {\n  int32 size = 1;\n}\n\nmessage PageRequest {/|fail:MESSAGE_PASCAL_CASE"
    "lint|service_desk.proto|s/^  NOTIFICATION_BACK_IN_STOCK = 3;/  NOTIFICATION_BACK_IN_STOCK = 3;\n  NOTIFICATION_OTHER = 99;/|pass"
)
if ! run_checks "$copy" "$tmp/baseline.binpb" lint breaking >"$tmp/clean.log" 2>&1; then
    cat "$tmp/clean.log"
    die "self-test: the unchanged copy fails"
fi
passed=0 failed=0
for c in "${cases[@]}"; do
    IFS='|' read -r check file expr want <<<"$c"
    f=$copy/shelfline/v1/$file
    cp "$f" "$f.orig"
    sed -i "$expr" "$f"
    rc=0
    run_checks "$copy" "$tmp/baseline.binpb" "$check" >"$tmp/case.log" 2>&1 || rc=$?
    if cmp -s "$f" "$f.orig"; then
        echo "FAIL: $check: the sed expression changed nothing in $file: $expr"
        failed=$((failed + 1))
    elif [ "$want" = pass ] && [ $rc -ne 0 ]; then
        echo "FAIL: $check failed on a compatible change to $file: $expr"
        sed 's/^/    /' "$tmp/case.log" | head -20
        failed=$((failed + 1))
    elif [ "$want" != pass ] && [ $rc -eq 0 ]; then
        echo "FAIL: $check passed with $file changed by $expr"
        failed=$((failed + 1))
    elif [ "$want" != pass ] && ! grep -qF -- "${want#fail:}" "$tmp/case.log"; then
        echo "FAIL: $check failed with $file changed by $expr, but not by ${want#fail:}:"
        sed 's/^/    /' "$tmp/case.log" | head -20
        failed=$((failed + 1))
    else
        echo "ok: $check ${want/fail:/catches with } on $file: $expr"
        passed=$((passed + 1))
    fi
    mv "$f.orig" "$f"
done
echo "contract self-test: $passed passed, $failed failed"
[ $failed -eq 0 ]
