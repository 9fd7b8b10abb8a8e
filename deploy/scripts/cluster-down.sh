#!/usr/bin/env bash
# npm run cluster:down: deletes the kind cluster cluster:up made, and all in it.
# shellcheck source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
[ $# -eq 0 ] || die "cluster:down takes no arguments (got: $*); CLUSTER_NAME picks the cluster's name"

require_tools kind
if ! kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
  echo "no kind cluster named ${CLUSTER_NAME}; nothing to delete"
  exit 0
fi
step "deleting kind cluster ${CLUSTER_NAME}"
run kind delete cluster --name "${CLUSTER_NAME}"
