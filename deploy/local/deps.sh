#!/usr/bin/env bash
# Installs the Debian packages Shelfline needs, and only those that are
# missing, so a fresh Debian 12 machine needs nothing by hand.  Quiet and
# idempotent: prints nothing when everything is already there.
#
# usage: deps.sh [build|test|bench]   (each set includes the previous one)
set -euo pipefail

set_name=${1:-test}

build_pkgs=(
    build-essential cmake pkg-config
    libgrpc-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler grpc-proto
    # google/protobuf/descriptor.proto: server reflection reads the embedded
    # descriptor set with it
    libprotobuf-dev
    # google/rpc/status.proto and error_details.proto: the rich error
    # details every service sends (Debian ships them only in this package)
    golang-github-gogo-googleapis-dev
    libpq-dev postgresql-15 postgresql-client-15
    # every service's HTTP port (/metrics and the JSON API), over GnuTLS
    # (its certificate callback follows rotated certificates)
    libmicrohttpd-dev libgnutls28-dev
    # sl_tls checks the TLS files with libcrypto (libgrpc-dev pulls it in too)
    libssl-dev
    # bearer JWTs (RS256/ES256) verified with libjwt; their claims read with
    # jansson, which also parses the Connect face's JSON (common/sl_json.c)
    libjwt-dev libjansson-dev
    # make run and the tests make throwaway key pairs with the openssl CLI
    openssl
    # service-desk reads IANA time zones from /usr/share/zoneinfo itself
    tzdata
)
test_pkgs=(
    libcmocka-dev clang-format
    # interop clients in other languages
    golang-go golang-google-grpc-dev protoc-gen-go-1-3 protoc-gen-go-grpc dpkg-dev
    # tests/interop/reflection: protodesc and dynamicpb (protobuf APIv2)
    golang-google-protobuf-dev
    python3 python3-grpcio
    # tests/clients: the Python client's grpc stubs (grpc_python_plugin)
    protobuf-compiler-grpc
    # integration_tls and the interop TLS tests: throwaway certificates
    # (deploy/local/tls-certs.sh) and an HTTPS client
    openssl curl
    # tests/timeshift.sh: the suite again with the clock moved (libfaketime)
    faketime
    # tests/peak (make peak and its short profile in make test): a replica
    # in a network namespace of the run's own, cut off from PostgreSQL
    # with iptables; the report's charts
    iproute2 iptables gnuplot-nox
    # promtool: every /metrics scrape of the tests is checked with it, and
    # deploy/'s rules, alert unit tests and dashboard queries (tests/deploy)
    prometheus
    # the service-desk console's end-to-end tests (tests/console): headless
    # Chromium driven by playwright-core and Firefox ESR driven by
    # puppeteer-core (WebDriver BiDi), no browser download
    chromium firefox-esr
)
bench_pkgs=(
    libgrpc++-dev nghttp2-client
    # tests/bench/clv_bench.sh: the base-R reference fits (Rscript)
    r-base-core
    # tests/bench/forecast_bench.sh: R's forecast package and the data sets
    # its accuracy run uses (tseries, urca, ggplot2, dslabs, AER, timeSeries)
    r-cran-forecast r-cran-tseries r-cran-urca r-cran-ggplot2 r-cran-dslabs
    r-cran-aer r-cran-timeseries
)

pkgs=("${build_pkgs[@]}")
case "$set_name" in
build) ;;
test) pkgs+=("${test_pkgs[@]}") ;;
bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
*) echo "deps.sh: unknown package set \"$set_name\" (build, test or bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$p")
    fi
done
# Node.js may come from another packaging (NodeSource bundles npm and
# conflicts with Debian's npm); only ask Debian for it when there is none.
# The tests' npm packages (tests/interop/node, tests/deploy/node: the
# Kubernetes schemas, tests/contract/node: buf, tests/clients/typescript:
# protobuf-es and connect-es) are installed by the tests themselves, `npm
# ci` from their lock files into the build folder (tests/support/npm_ci.sh).
if [ "$set_name" != build ] && ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "deps: missing packages ${missing[*]} and not root (and no sudo)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${sudo[@]}" apt-get update -qq && \
       "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "deps: apt-get failed" >&2
    exit 1
fi
