#!/usr/bin/env bash
# The image's build, as one script: deploy/docker/Dockerfile runs it in its
# build stage, and `make test` runs it on the host, so the configuration the
# image ships (Release, tests off, -Werror as everywhere) is compiled on
# every test run and a warning that only -O2 finds cannot hide until the
# next image build.
#
# usage: deploy/docker/build-release.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build}
# The image carries service-desk's console in /usr/share/shelfline/console
# (Dockerfile), its SHELFLINE_CONSOLE_DIR by default.
cmake -S . -B "$dir" -DSHELFLINE_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
    -DSHELFLINE_CONSOLE_DEFAULT_DIR=/usr/share/shelfline/console >/dev/null
cmake --build "$dir" -j "$(nproc)"
strip --strip-unneeded "$dir"/bin/shelfline-*
