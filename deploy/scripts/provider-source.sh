# shellcheck shell=bash
# The source provider (sourced by cluster-lib.sh's select_provider): a
# one-node cluster built from pinned Kubernetes sources on this machine, for
# machines where kind cannot run (no image can be pulled). Everything it does
# is in deploy/cluster/source/cluster.sh.
# shellcheck source=../cluster/source/cluster.sh
source "${ROOT}/deploy/cluster/source/cluster.sh"

provider_tools() { echo docker; }
provider_context() { echo "${CONTEXT_NAME}"; }
provider_exists() { source_exists; }

provider_up() {
  if [ "${CLUSTER_DRY_RUN:-}" = 1 ]; then
    echo "+ source_up (deploy/cluster/source/cluster.sh)"
    return 0
  fi
  source_up
}

provider_load_images() {
  if [ "${CLUSTER_DRY_RUN:-}" = 1 ]; then
    echo "+ docker save $* | ctr images import -"
    return 0
  fi
  source_load_images "$@"
}

# kube-proxy answers NodePorts on 127.0.0.1 too (it sets route_localnet).
provider_gateway_url() { echo "http://127.0.0.1:30080"; }

provider_down() {
  if [ "${CLUSTER_DRY_RUN:-}" = 1 ]; then
    echo "+ source_down (deploy/cluster/source/cluster.sh)"
    return 0
  fi
  source_down
}

# The source cluster's own kubectl (built with it) where the user has none.
if [ -x "${SOURCE_CLUSTER_CACHE}/bin/kubectl" ]; then
  PATH="${SOURCE_CLUSTER_CACHE}/bin:${PATH}"
fi
