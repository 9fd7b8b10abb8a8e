#!/usr/bin/env bash
# npm run cluster:down: removes the cluster cluster:up made, and all in it:
# kind's cluster, or the source cluster's processes, mounts, network rules,
# containers and data. CLUSTER_PROVIDER picks one; by default the source
# cluster where its state is on this machine, else kind.
# shellcheck source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
[ $# -eq 0 ] || die "cluster:down takes no arguments (got: $*); CLUSTER_PROVIDER (kind|source) and CLUSTER_NAME choose"

if [ -z "${CLUSTER_PROVIDER:-}" ]; then
  # shellcheck source=provider-source.sh
  source "$(dirname "$0")/provider-source.sh"
  if provider_exists; then
    CLUSTER_PROVIDER=source
  else
    CLUSTER_PROVIDER=kind
  fi
fi
select_provider
# shellcheck disable=SC2046 # one word per tool
[ "${PROVIDER}" = kind ] && require_tools kind
provider_down
