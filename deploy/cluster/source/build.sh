#!/usr/bin/env bash
# Builds what the source cluster runs, from pinned sources on the Go module
# proxy, into a cache that later runs reuse (a warm call takes a second):
#   bin/   kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl,
#          kube-proxy, coredns, metrics-server, local-path-provisioner,
#          kube-router, prometheus, promtool, pause
# Usage: build.sh [component...]   (none: all of them)
# Cold, on two cores, this takes 20 to 30 minutes; each component prints its time.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "${HERE}/versions.sh"

BIN=${SOURCE_CLUSTER_CACHE}/bin
mkdir -p "${BIN}"
# One build at a time per cache: the stand-ins' build asks for prometheus too.
exec 9>"${SOURCE_CLUSTER_CACHE}/.lock"
flock 9
[ -x /usr/local/go/bin/go ] && export PATH="${PATH}:/usr/local/go/bin"
command -v go >/dev/null || { echo "error: the source cluster is built with Go (https://go.dev/doc/install); none is on PATH" >&2; exit 1; }

export CGO_ENABLED=0 GOFLAGS=-mod=mod
# nice: a build that shares the machine with running tests should not starve them.
GO="nice -n 10 go"

built() { [ -x "${BIN}/$1" ] && [ "$(cat "${BIN}/.$1.version" 2>/dev/null)" = "$2" ]; }
mark() { echo "$2" >"${BIN}/.$1.version"; }

timed() {
  local name=$1 start=${SECONDS}
  shift
  echo "--> building ${name}"
  "$@"
  echo "<-- ${name}: $((SECONDS - start))s"
}

k8s_ldflags() {
  local p flags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${p}.gitVersion=${K8S_VERSION} -X ${p}.gitMajor=${K8S_VERSION_MAJOR} -X ${p}.gitMinor=${K8S_VERSION_MINOR}"
    flags+=" -X ${p}.gitTreeState=clean -X ${p}.buildDate=1970-01-01T00:00:00Z"
  done
  echo "${flags}"
}

build_kubernetes() {
  local cmds=() c
  for c in "${K8S_COMMANDS[@]}"; do built "${c}" "${K8S_VERSION}" || cmds+=("${c}"); done
  [ ${#cmds[@]} -eq 0 ] && return 0
  echo "    go build ${cmds[*]}"
  # One `go build` for all of them: they share most packages, and go compiles
  # each once. The module (k8s/go.mod, go.sum) pins every dependency.
  (cd "${HERE}/k8s" && ${GO} build -trimpath -ldflags "$(k8s_ldflags)" -o "${BIN}/" \
    "${cmds[@]/#/k8s.io/kubernetes/cmd/}")
  for c in "${cmds[@]}"; do mark "${c}" "${K8S_VERSION}"; done
}

# go_install NAME MODULE/PATH@VERSION: tools whose go.mod has no replace lines
# install straight from the proxy, pinned by version and checked by go.sum.
go_install() {
  local name=$1 target=$2
  built "${name}" "${target}" && return 0
  GOBIN="${BIN}" ${GO} install -trimpath -ldflags "-s -w" "${target}"
  mark "${name}" "${target}"
}

build_pause() {
  built pause "${PAUSE_VERSION}" && return 0
  (cd "${HERE}/images/pause" && ${GO} build -trimpath -ldflags "-s -w" -o "${BIN}/pause" .)
  mark pause "${PAUSE_VERSION}"
}

build_prometheus() {
  local c
  built prometheus "${PROMETHEUS_VERSION}" && built promtool "${PROMETHEUS_VERSION}" && return 0
  # prometheus/go.mod pins the module and keeps Prometheus's own replace lines;
  # its default build includes every service discovery, Kubernetes too, which
  # Debian's package leaves out.
  (cd "${HERE}/prometheus" && ${GO} build -trimpath -o "${BIN}/" \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION} -X github.com/prometheus/common/version.Branch=HEAD" \
    github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool)
  for c in prometheus promtool; do mark "${c}" "${PROMETHEUS_VERSION}"; done
}

build_one() {
  case "$1" in
    kubernetes) timed "Kubernetes ${K8S_VERSION}" build_kubernetes ;;
    coredns) timed "CoreDNS ${COREDNS_VERSION}" go_install coredns "github.com/coredns/coredns@${COREDNS_VERSION}" ;;
    metrics-server) timed "metrics-server ${METRICS_SERVER_VERSION}" go_install metrics-server "sigs.k8s.io/metrics-server/cmd/metrics-server@${METRICS_SERVER_VERSION}" ;;
    local-path-provisioner) timed "local-path-provisioner ${LOCAL_PATH_VERSION}" go_install local-path-provisioner "github.com/rancher/local-path-provisioner@${LOCAL_PATH_VERSION}" ;;
    kube-router) timed "kube-router ${KUBE_ROUTER_VERSION}" go_install kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@${KUBE_ROUTER_VERSION}" ;;
    prometheus) timed "Prometheus ${PROMETHEUS_VERSION} (module ${PROMETHEUS_MODULE_VERSION})" build_prometheus ;;
    pause) timed "pause" build_pause ;;
    *) echo "error: unknown component '$1' (one of: ${SOURCE_CLUSTER_COMPONENTS[*]})" >&2; exit 2 ;;
  esac
}

started=${SECONDS}
if [ $# -eq 0 ]; then set -- "${SOURCE_CLUSTER_COMPONENTS[@]}"; fi
for component in "$@"; do build_one "${component}"; done
echo "source cluster binaries in ${BIN} ($((SECONDS - started))s)"
