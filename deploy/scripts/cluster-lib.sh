# shellcheck shell=bash
# Shared by cluster-up.sh, cluster-down.sh and scale-webtoon.sh (sourced).
# CLUSTER_DRY_RUN=1 prints every command that would change something instead
# of running it; the tool checks and argument checks still run.
set -euo pipefail

# shellcheck disable=SC2034 # ROOT and CLUSTER_APPS are for the scripts that source this file.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_NAME=${CLUSTER_NAME:-portal}
NAMESPACE=portal
# scale-webtoon.sh works on any cluster running the overlay: KUBE_CONTEXT=minikube, k3d-portal, ...
KUBE_CONTEXT=${KUBE_CONTEXT:-kind-${CLUSTER_NAME}}
# The apps with an image (deploy/docker); the monolith is an image too but not
# part of the cluster deployment.
# shellcheck disable=SC2034 # see ROOT
CLUSTER_APPS=(gateway auth news blog webtoon payment analytics)

die() {
  echo "error: $*" >&2
  exit 1
}

# require_tools kind kubectl docker: each missing one is named with where to get it.
require_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "${tool}" >/dev/null 2>&1 || missing+=("${tool}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  for tool in "${missing[@]}"; do
    case "${tool}" in
      kind) echo "missing: kind - install it from https://kind.sigs.k8s.io/docs/user/quick-start/#installation (or: go install sigs.k8s.io/kind@latest)" >&2 ;;
      kubectl) echo "missing: kubectl - install it from https://kubernetes.io/docs/tasks/tools/" >&2 ;;
      docker) echo "missing: docker - install Docker Engine or Docker Desktop: https://docs.docker.com/engine/install/" >&2 ;;
      *) echo "missing: ${tool}" >&2 ;;
    esac
  done
  die "install ${missing[*]} and run this again"
}

# run CMD...: runs it, or prints it under CLUSTER_DRY_RUN=1.
run() {
  if [ "${CLUSTER_DRY_RUN:-}" = 1 ]; then
    echo "+ $*"
  else
    "$@"
  fi
}

kube() {
  run kubectl --context "${KUBE_CONTEXT}" --namespace "${NAMESPACE}" "$@"
}

# A read-only kubectl call: it runs even in a dry run, when there is a cluster.
kube_get() {
  kubectl --context "${KUBE_CONTEXT}" --namespace "${NAMESPACE}" "$@"
}

step() {
  echo "==> $*"
}
