#!/usr/bin/env bash
# Builds the four Shelfline images from deploy/docker/Dockerfile.
#
# usage: deploy/docker/build.sh [TAG]          (TAG defaults to "dev")
# Environment: REGISTRY=registry.example.com/shelfline  image name prefix
#              (images are named $REGISTRY/shelfline-<service>:TAG, or
#              shelfline-<service>:TAG without REGISTRY);
#              PUSH=1 to push after building; DOCKER=podman to use another
#              client with the same CLI.
# The compile stage does not depend on the service, so it runs once and the
# other three builds reuse it from the cache.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tag=${1:-dev}
docker=${DOCKER:-docker}
prefix=${REGISTRY:+$REGISTRY/}

services=(inventory forecasting customer-value service-desk)
ports=(50051 50052 50053 50054)
http_ports=(8051 8052 8053 8054)

export DOCKER_BUILDKIT=1 # Dockerfile.dockerignore is a BuildKit feature
for i in "${!services[@]}"; do
    s=${services[$i]}
    image="${prefix}shelfline-$s:$tag"
    echo "== $image" >&2
    "$docker" build -f "$root/deploy/docker/Dockerfile" \
        --build-arg "SERVICE=$s" --build-arg "PORT=${ports[$i]}" \
        --build-arg "HTTP_PORT=${http_ports[$i]}" \
        -t "$image" "$root"
    if [ "${PUSH:-0}" = 1 ]; then
        "$docker" push "$image"
    fi
done
