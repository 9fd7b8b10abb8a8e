# shellcheck shell=bash
# Shared by cluster-up.sh, cluster-down.sh and scale-webtoon.sh (sourced).
# A cluster comes from a provider (provider-kind.sh, provider-source.sh), each
# implementing the same functions:
#   provider_tools            the commands it needs on PATH
#   provider_up               a cluster answers, and kubectl's current context is it
#   provider_context          that context's name
#   provider_load_images I..  puts Docker images into the cluster's nodes (never pulled)
#   provider_gateway_url      where the gateway's NodePort answers on this machine
#   provider_exists           whether its cluster is there
#   provider_down             removes all it started
# CLUSTER_DRY_RUN=1 prints every command that would change something instead
# of running it; the tool checks and argument checks still run.
set -euo pipefail

# shellcheck disable=SC2034 # ROOT and CLUSTER_APPS are for the scripts that source this file.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_NAME=${CLUSTER_NAME:-portal}
NAMESPACE=portal
# scale-webtoon.sh works on any cluster running the overlay: KUBE_CONTEXT=minikube,
# k3d-portal, ...; by default the current context, which cluster:up sets (as kind does).
if [ -z "${KUBE_CONTEXT:-}" ]; then
  KUBE_CONTEXT=$(kubectl config current-context 2>/dev/null || true)
  KUBE_CONTEXT=${KUBE_CONTEXT:-kind-${CLUSTER_NAME}}
fi
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

# select_provider: CLUSTER_PROVIDER=kind|source, or by default kind where it is
# installed and Docker answers, else the source cluster (deploy/cluster/source).
select_provider() {
  local reason
  case "${CLUSTER_PROVIDER:-}" in
    kind | source)
      PROVIDER=${CLUSTER_PROVIDER}
      reason="CLUSTER_PROVIDER=${CLUSTER_PROVIDER}"
      ;;
    "")
      if ! command -v kind >/dev/null 2>&1; then
        PROVIDER=source
        reason="kind is not installed"
      elif ! docker info >/dev/null 2>&1; then
        PROVIDER=source
        reason="Docker does not answer, and kind runs its nodes in Docker"
      else
        PROVIDER=kind
        reason="kind is installed"
      fi
      ;;
    *) die "CLUSTER_PROVIDER must be kind or source, got '${CLUSTER_PROVIDER}'" ;;
  esac
  # shellcheck source=provider-kind.sh
  source "$(dirname "${BASH_SOURCE[0]}")/provider-${PROVIDER}.sh"
  # shellcheck disable=SC2034 # read by cluster-up.sh
  PROVIDER_REASON=${reason}
}

# elapsed SINCE: "12s"
elapsed() { echo "$((SECONDS - $1))s"; }
