# shellcheck shell=bash
# The kind provider (sourced by cluster-lib.sh's select_provider): a kind
# cluster named $CLUSTER_NAME from deploy/kind/cluster.yaml, for machines that
# can pull kind's node image.
provider_tools() { echo kind kubectl docker; }
provider_context() { echo "kind-${CLUSTER_NAME}"; }
provider_exists() { kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; }

provider_up() {
  if [ "${CLUSTER_DRY_RUN:-}" != 1 ] && provider_exists; then
    step "kind cluster ${CLUSTER_NAME} exists; reusing it"
  else
    step "creating kind cluster ${CLUSTER_NAME} (deploy/kind/cluster.yaml)"
    run kind create cluster --name "${CLUSTER_NAME}" --config deploy/kind/cluster.yaml --wait 120s
  fi
}

provider_load_images() {
  local image
  for image in "$@"; do run kind load docker-image "${image}" --name "${CLUSTER_NAME}"; done
}

# deploy/kind/cluster.yaml maps host port 8080 to the gateway's NodePort.
provider_gateway_url() { echo "http://localhost:8080"; }

provider_down() {
  if ! provider_exists; then
    echo "no kind cluster named ${CLUSTER_NAME}; nothing to delete"
    return 0
  fi
  step "deleting kind cluster ${CLUSTER_NAME}"
  run kind delete cluster --name "${CLUSTER_NAME}"
}
