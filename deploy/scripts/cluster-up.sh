#!/usr/bin/env bash
# npm run cluster:up: a kind cluster named `portal` running the local overlay
# (deploy/k8s/overlays/local), with images built from this checkout.
# shellcheck source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
# The cluster this script creates, whatever KUBE_CONTEXT says.
KUBE_CONTEXT="kind-${CLUSTER_NAME}"
[ $# -eq 0 ] || die "cluster:up takes no arguments (got: $*); CLUSTER_NAME picks the cluster's name"

require_tools kind kubectl docker
cd "${ROOT}" || exit 1
started=${SECONDS}

if kind get clusters 2>/dev/null | grep -qx "${CLUSTER_NAME}"; then
  step "kind cluster ${CLUSTER_NAME} exists; reusing it"
else
  step "creating kind cluster ${CLUSTER_NAME} (deploy/kind/cluster.yaml)"
  run kind create cluster --name "${CLUSTER_NAME}" --config deploy/kind/cluster.yaml --wait 120s
fi

step "building images portal/<app>:local"
if node -e 'process.exit(require("./package.json").scripts?.images ? 0 : 1)'; then
  # deploy/docker/build-images.sh: only the apps the cluster runs, tagged `local`.
  run env PORTAL_TAG=local npm run images -- "${CLUSTER_APPS[@]}"
else
  for app in "${CLUSTER_APPS[@]}"; do
    echo "--> portal/${app}:local"
    run docker build -f deploy/docker/Dockerfile --build-arg "APP=${app}" -t "portal/${app}:local" .
  done
fi

step "loading images into the cluster's node (they are never pulled)"
for app in "${CLUSTER_APPS[@]}"; do
  if [ "${CLUSTER_DRY_RUN:-}" != 1 ] && ! docker image inspect "portal/${app}:local" >/dev/null 2>&1; then
    die "image portal/${app}:local is not on this machine after the build step; build it with: docker build -f deploy/docker/Dockerfile --build-arg APP=${app} -t portal/${app}:local ."
  fi
  run kind load docker-image "portal/${app}:local" --name "${CLUSTER_NAME}"
done

step "applying deploy/k8s/overlays/local"
run kubectl --context "${KUBE_CONTEXT}" apply -k deploy/k8s/overlays/local

# Dependencies first: the services are not ready until PostgreSQL and Kafka are.
workloads=(statefulset/postgres statefulset/kafka)
for app in "${CLUSTER_APPS[@]}"; do workloads+=("deployment/${app}"); done
i=0
for workload in "${workloads[@]}"; do
  i=$((i + 1))
  step "[${i}/${#workloads[@]}] waiting for ${workload} to be ready ($((SECONDS - started))s so far)"
  kube rollout status "${workload}" --timeout=600s
done

grafana=$(kube_get get service -l app.kubernetes.io/name=grafana \
  -o 'jsonpath={.items[0].metadata.name}:{.items[0].spec.ports[0].port}' 2>/dev/null || true)
echo
echo "portal is up on kind cluster ${CLUSTER_NAME} after $((SECONDS - started))s"
echo "  gateway:  http://localhost:8080/api/webtoon/series  (try the README walk-through with API=http://localhost:8080/api)"
if [ -n "${grafana}" ] && [ "${grafana}" != ":" ]; then
  echo "  grafana:  kubectl --context ${KUBE_CONTEXT} -n ${NAMESPACE} port-forward svc/${grafana%%:*} 3000:${grafana##*:}  then http://localhost:3000"
else
  echo "  grafana:  not deployed (deploy/monitoring is not part of the overlay)"
fi
echo "  scale webtoon alone: npm run scale:webtoon -- 5"
echo "  remove it all: npm run cluster:down"
