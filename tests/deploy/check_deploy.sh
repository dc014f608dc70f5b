#!/usr/bin/env bash
# Checks deploy/ without a cluster (ctest deploy_checks):
#   rules       the plain rules file is what gen-rules.sh makes of the
#               PrometheusRule; `promtool check rules` on it; `promtool
#               test rules` on tests/deploy/*.test.yaml (every alert fires
#               when it must and stays quiet when it must)
#   promql      every PromQL expression of the Grafana dashboard and the
#               adapter's query parses (promtool check rules) and selects
#               metrics and labels the suite registers (so do the rules)
#   scrape      the scrape config passes `promtool check config`
#   manifests   every Kubernetes manifest under deploy/k8s, rendered,
#               validates against the Kubernetes schemas (npm's
#               kubernetes-models) and its references hold; the
#               PrometheusRule validates against prometheus-operator's
#   (check_deploy.js says what each of these looks at.)
#
# usage: check_deploy.sh SOURCE_DIR NODE_DIR [CHECK...]
#        check_deploy.sh --self-test SOURCE_DIR NODE_DIR
# NODE_DIR: where tests/deploy/node's locked npm packages are installed
# (npm ci on first use, e.g. build/deploy-node).  --self-test breaks a
# copy of the tree in each way below and fails unless every check catches
# its breakage.
set -euo pipefail

me=check_deploy.sh
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
[ ${#checks[@]} -gt 0 ] || checks=(rules promql scrape manifests)

command -v promtool >/dev/null || die "promtool is missing (Debian's prometheus; deploy/local/deps.sh test)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "node and npm are missing (deploy/local/deps.sh test)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=../support/npm_ci.sh
. "$here/../support/npm_ci.sh"
mkdir -p "$node_dir"
node_dir=$(cd "$node_dir" && pwd)
sl_npm_ci "$here/node" "$node_dir" "$tmp/npm.log"
export NODE_PATH=$node_dir/node_modules

# Runs the named checks on the tree at $1; prints what failed.
run_checks() {
    local tree=$1 out=$tmp/out.$RANDOM rc=0 c
    shift
    mkdir -p "$out"
    for c in "$@"; do
        case "$c" in
        rules)
            "$tree/deploy/prometheus/gen-rules.sh" "$tree/deploy/prometheus/shelfline-rules.yaml" >"$out/gen.yml" &&
                if ! diff -u "$tree/deploy/prometheus/shelfline.rules.yml" "$out/gen.yml"; then
                    echo "rules: deploy/prometheus/shelfline.rules.yml is not what gen-rules.sh makes of shelfline-rules.yaml"
                    false
                fi &&
                promtool check rules "$tree/deploy/prometheus/shelfline.rules.yml" &&
                promtool test rules "$tree"/tests/deploy/*.test.yaml || rc=1
            ;;
        promql)
            node "$tree/tests/deploy/check_deploy.js" promql "$tree" "$out" &&
                promtool check rules "$out/promql.rules.yml" || rc=1
            ;;
        scrape)
            node "$tree/tests/deploy/check_deploy.js" scrape "$tree" "$out" &&
                promtool check config "$out/scrape.yml" || rc=1
            ;;
        manifests)
            node "$tree/tests/deploy/check_deploy.js" manifests "$tree" || rc=1
            ;;
        *) die "unknown check \"$c\" (rules, promql, scrape, manifests)" ;;
        esac
    done
    return $rc
}

if ! $self_test; then
    passed=0 failed=0
    for c in "${checks[@]}"; do
        echo "---- $c"
        if run_checks "$src" "$c"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
    echo "deploy checks: $passed passed, $failed failed"
    [ $failed -eq 0 ]
    exit
fi

# --- self-test ------------------------------------------------------------------
# Each case: a check, the file to break, a sed expression, and a piece of
# the message the check must print.  The clean copy must pass first.
copy=$tmp/tree
mkdir -p "$copy/tests"
cp -r "$src/deploy" "$src/common" "$src/services" "$copy/"
cp -r "$src/tests/deploy" "$src/tests/support" "$copy/tests/"
regen='deploy/prometheus/gen-rules.sh deploy/prometheus/shelfline-rules.yaml >deploy/prometheus/shelfline.rules.yml'
cases=(
    "rules|deploy/prometheus/shelfline-rules.yaml|s/expr: max by (namespace, subscription) (shelfline_consumer_cursor)/expr: max by (namespace, subscription) (shelfline_consumer_cursor/|regen|could not parse expression"
    "rules|deploy/prometheus/shelfline-rules.yaml|s/ > (14.4 \* 0.001)/ > (144 * 0.001)/|regen|FAILED"
    "rules|deploy/prometheus/shelfline-rules.yaml|s/expr: shelfline:consumer_active:sum == 0/expr: shelfline:consumer_active:sum < 0/|regen|ShelflineConsumerNotActive"
    "rules|deploy/prometheus/shelfline-rules.yaml|s/for: 10m/for: 11m/|-|is not what gen-rules.sh makes"
    "promql|deploy/grafana/shelfline-dashboard.json|0,/sum by (grpc_method) (rate(/s//sum by (grpc_method) ((rate(/|-|could not parse expression"
    "promql|deploy/grafana/shelfline-dashboard.json|s/shelfline_db_pool_waiting{/shelfline_db_pool_waitng{/|-|unknown metric shelfline_db_pool_waitng"
    "promql|deploy/grafana/shelfline-dashboard.json|0,/\$namespace/s//\$nmespace/|-|which is no template variable"
    "promql|deploy/grafana/shelfline-dashboard.json|0,/by (grpc_method, grpc_code)/s//by (grpc_method, grpc_cod)/|-|unknown label grpc_cod"
    "promql|deploy/grafana/shelfline-dashboard.json|0,/{{subscription}}/s//{{subscripton}}/|-|unknown label subscripton"
    "promql|deploy/prometheus/shelfline-rules.yaml|s/shelfline_db_pool_connections{state=/shelfline_db_pool_connections{stat=/|regen|unknown label stat"
    "promql|deploy/prometheus/adapter-rules.yaml|s/\[1m\])) by/[1m]) by/|-|could not parse expression"
    "scrape|deploy/prometheus/scrape-config.yaml|s/action: keep/action: kept/|-|unknown relabel action"
    "manifests|deploy/k8s/base/inventory/hpa.yaml|s/maxReplicas: 20/maxReplicas: twenty/|-|maxReplicas must be integer"
    "manifests|deploy/k8s/base/forecasting/deployment.yaml|s/failureThreshold: 18/failureThreshold: \"18\"/|-|failureThreshold must be integer"
    "manifests|deploy/k8s/overlays/peak/hpa-peak.yaml|0,/name: grpc_server_started_per_second/s//name: grpc_server_started_per_sec/|-|is not served by"
    "manifests|deploy/k8s/overlays/peak/pdb-peak.yaml|0,/name: inventory/s//name: inventry/|-|which no resource of"
    "manifests|deploy/k8s/base/service-desk/service.yaml|s/targetPort: http/targetPort: htp/|-|targetPort htp is no container port"
    "manifests|deploy/k8s/base/customer-value/deployment.yaml|s/prometheus.io\/port: \"8053\"/prometheus.io\/port: \"8054\"/|-|prometheus.io/port the http port"
    "manifests|deploy/k8s/base/inventory/deployment.yaml|s/serviceAccountName: inventory/serviceAccountName: inventry/|-|is not a rendered ServiceAccount"
    "manifests|deploy/k8s/base/networkpolicies.yaml|0,/        - port: http/s//        - port: htp/|-|ingress port htp is no container port"
    "manifests|deploy/k8s/components/tls/inventory.yaml|s/secretName: inventory-tls/secretName: inventory-tsl/|-|is no Certificate's secretName"
    "manifests|deploy/k8s/components/tls/certificates.yaml|s/    rotationPolicy: Always/    rotationPolicy: Sometimes/|-|rotationPolicy"
    "manifests|services/forecasting/fc_service.c|s/\"INBOUND_RECEIVED\"}/\"INBOUND_RECEIVED\", \"INBOUND_DELAYED\"}/|-|subscription forecasting/inventory: the rule reads"
    "manifests|deploy/prometheus/shelfline-rules.yaml|s/for: 15m/for: 15 minutes/|regen|must match pattern"
)
if ! run_checks "$copy" rules promql scrape manifests >"$tmp/clean.log" 2>&1; then
    cat "$tmp/clean.log"
    die "self-test: the unchanged copy fails"
fi
passed=0 failed=0
for c in "${cases[@]}"; do
    IFS='|' read -r check file expr post want <<<"$c"
    cp "$src/$file" "$copy/$file.orig"
    sed -i "$expr" "$copy/$file"
    if cmp -s "$copy/$file" "$copy/$file.orig"; then
        echo "FAIL: $check: the sed expression changed nothing in $file: $expr"
        failed=$((failed + 1))
    else
        [ "$post" = regen ] && (cd "$copy" && eval "$regen")
        if run_checks "$copy" "$check" >"$tmp/case.log" 2>&1; then
            echo "FAIL: $check passed with $file broken by $expr"
            failed=$((failed + 1))
        elif ! grep -qF -- "$want" "$tmp/case.log"; then
            echo "FAIL: $check failed with $file broken by $expr, but without \"$want\":"
            sed 's/^/    /' "$tmp/case.log" | head -20
            failed=$((failed + 1))
        else
            echo "ok: $check catches $file: $expr"
            passed=$((passed + 1))
        fi
    fi
    mv "$copy/$file.orig" "$copy/$file"
    [ "$post" = regen ] && (cd "$copy" && eval "$regen")
done
echo "deploy self-test: $passed passed, $failed failed"
[ $failed -eq 0 ]
