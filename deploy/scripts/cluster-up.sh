#!/usr/bin/env bash
# npm run cluster:up: the portal on a local Kubernetes cluster. A provider
# makes the cluster (kind where it can run, else one built from source on this
# machine; CLUSTER_PROVIDER picks one); everything after "a cluster answers"
# is the same for both: build and load the images, apply the overlay, wait for
# every workload, print where things answer. Every phase prints its duration.
# shellcheck source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"
[ $# -eq 0 ] || die "cluster:up takes no arguments (got: $*); CLUSTER_PROVIDER (kind|source), CLUSTER_OVERLAY and CLUSTER_NAME choose"

select_provider
# shellcheck disable=SC2046 # one word per tool
require_tools $(provider_tools)
cd "${ROOT}" || exit 1
started=${SECONDS}
step "cluster provider: ${PROVIDER} (${PROVIDER_REASON})"

phase_start=${SECONDS}
provider_up
# The cluster this script made, whatever KUBE_CONTEXT said.
KUBE_CONTEXT=$(provider_context)
step "cluster answers as context ${KUBE_CONTEXT} ($(elapsed "${phase_start}"))"

have_image() { docker image inspect "$1" >/dev/null 2>&1 || timeout 120 docker pull -q "$1" >/dev/null 2>&1; }

phase_start=${SECONDS}
# The images' Node base (the Dockerfile's default): where it can be neither
# found nor pulled (no registry), the stand-in built here, saying so.
if [ "${CLUSTER_DRY_RUN:-}" != 1 ] && [ -z "${NODE_IMAGE:-}" ]; then
  node_base=$(awk -F= '/^ARG NODE_IMAGE=/ { print $2; exit }' deploy/docker/Dockerfile)
  if ! have_image "${node_base}"; then
    export NODE_IMAGE=portal-standin/node:24-bookworm-slim
    step "${node_base}: not on this machine and cannot be pulled; building on the stand-in ${NODE_IMAGE} (.ci/standins/build.sh; reused when up to date)"
    bash .ci/standins/build.sh | sed 's/^/    /'
  fi
fi
step "building images portal/<app>:local"
# deploy/docker/build-images.sh: only the apps the cluster runs, tagged `local`.
run env PORTAL_TAG=local npm run images -- "${CLUSTER_APPS[@]}"
step "images built ($(elapsed "${phase_start}"))"

# The overlay's third-party images (Kafka, PostgreSQL, Prometheus, Grafana):
# on this machine, or pulled. Where one can be neither (no registry), the
# stand-ins overlay runs stand-ins built here instead, and says so.
overlay=${CLUSTER_OVERLAY:-local}
[ -f "deploy/k8s/overlays/${overlay}/kustomization.yaml" ] || die "CLUSTER_OVERLAY=${overlay}: no deploy/k8s/overlays/${overlay}/kustomization.yaml"
overlay_images() { kubectl kustomize "deploy/k8s/overlays/$1" | awk '$1 == "image:" || $1 == "-" && $2 == "image:" { print $NF }' | sort -u; }
third_party_images() { overlay_images "$1" | grep -v '^portal/' || true; }
if [ "${CLUSTER_DRY_RUN:-}" != 1 ]; then
  phase_start=${SECONDS}
  missing=()
  for image in $(third_party_images "${overlay}"); do have_image "${image}" || missing+=("${image}"); done
  if [ ${#missing[@]} -gt 0 ] && [ "${overlay}" = local ] && [ -z "${CLUSTER_OVERLAY:-}" ]; then
    overlay=local-standins
    step "${missing[*]}: not on this machine and cannot be pulled; using deploy/k8s/overlays/local-standins instead (stand-ins built here under their own names, no Grafana; deploy/k8s/components/standins says why)"
  elif [ ${#missing[@]} -gt 0 ]; then
    die "images not on this machine and not pullable: ${missing[*]} (CLUSTER_OVERLAY=local-standins runs stand-ins built here instead)"
  fi
  if [ "${overlay}" = local-standins ]; then
    step "stand-in images (.ci/standins/build.sh; reused when up to date)"
    bash .ci/standins/build.sh | sed 's/^/    /'
    for image in $(third_party_images "${overlay}"); do
      docker image inspect "${image}" >/dev/null 2>&1 || die "stand-in ${image} is missing after .ci/standins/build.sh"
    done
  fi
  step "third-party images ready ($(elapsed "${phase_start}"))"
fi

phase_start=${SECONDS}
step "loading images into the cluster's node (they are never pulled)"
images=()
for app in "${CLUSTER_APPS[@]}"; do
  if [ "${CLUSTER_DRY_RUN:-}" != 1 ] && ! docker image inspect "portal/${app}:local" >/dev/null 2>&1; then
    die "image portal/${app}:local is not on this machine after the build step; build it with: docker build -f deploy/docker/Dockerfile --build-arg APP=${app} -t portal/${app}:local ."
  fi
  images+=("portal/${app}:local")
done
if [ "${CLUSTER_DRY_RUN:-}" != 1 ]; then
  while IFS= read -r image; do images+=("${image}"); done < <(third_party_images "${overlay}")
fi
provider_load_images "${images[@]}"
step "${#images[@]} images loaded ($(elapsed "${phase_start}"))"

# The Secrets the workloads name hold passwords, which are not in git: those
# missing get fresh random ones; those there stay as they are, since
# PostgreSQL gave its users their passwords on its first start.
phase_start=${SECONDS}
# shellcheck source=portal-secrets.sh
source "$(dirname "${BASH_SOURCE[0]}")/portal-secrets.sh"
run kubectl --context "${KUBE_CONTEXT}" apply -f deploy/k8s/base/namespace.yaml
missing_secrets=()
for secret in "${PORTAL_SECRETS[@]}"; do
  [ -n "$(kube_get get secret "${secret}" --ignore-not-found -o name 2>/dev/null)" ] || missing_secrets+=("${secret}")
done
if [ ${#missing_secrets[@]} -eq 0 ]; then
  step "Secrets: all ${#PORTAL_SECRETS[@]} there already, kept"
else
  step "Secrets: ${missing_secrets[*]} with random passwords ($((${#PORTAL_SECRETS[@]} - ${#missing_secrets[@]})) there already, kept)"
  if [ "${CLUSTER_DRY_RUN:-}" = 1 ]; then
    echo "+ portal_secrets_yaml ${missing_secrets[*]} | kubectl --context ${KUBE_CONTEXT} --namespace ${NAMESPACE} create -f -"
  else
    portal_secrets_yaml "${missing_secrets[@]}" | kube create -f - >/dev/null
  fi
fi

step "applying deploy/k8s/overlays/${overlay}"
run kubectl --context "${KUBE_CONTEXT}" apply -k "deploy/k8s/overlays/${overlay}"

# Dependencies first: the services are not ready until PostgreSQL and Kafka are.
workloads=(statefulset/postgres statefulset/kafka)
for app in "${CLUSTER_APPS[@]}"; do workloads+=("deployment/${app}"); done
if [ "${CLUSTER_DRY_RUN:-}" != 1 ]; then
  for extra in prometheus grafana; do
    kube_get get "deployment/${extra}" >/dev/null 2>&1 && workloads+=("deployment/${extra}")
  done
fi
i=0
for workload in "${workloads[@]}"; do
  i=$((i + 1))
  step "[${i}/${#workloads[@]}] waiting for ${workload} to be ready ($(elapsed "${phase_start}") since the apply)"
  kube rollout status "${workload}" --timeout=600s
done
step "every workload ready $(elapsed "${phase_start}") after the apply"

# Ready pods are not yet routes: the gateway finds each service's pods by DNS
# every few seconds, and until then answers 503 ("no instance of the X service
# is known", then its breaker's "stops sending it requests for a while"). Up
# means a user's first request gets through: any answer of the service's own
# (here a 404 for its bare prefix) rather than the gateway's 5xx.
gateway=$(provider_gateway_url)
gateway_knows() {
  case "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' "${gateway}/api/$1/")" in
    000 | 502 | 503 | 504) return 1 ;;
    *) return 0 ;;
  esac
}
if [ "${CLUSTER_DRY_RUN:-}" != 1 ]; then
  require_tools curl
  phase_start=${SECONDS}
  for app in "${CLUSTER_APPS[@]}"; do
    [ "${app}" = gateway ] && continue
    deadline=$((SECONDS + 120))
    until gateway_knows "${app}"; do
      [ "${SECONDS}" -lt "${deadline}" ] || die "the gateway (${gateway}) still knows no instance of ${app} 120s after every pod was ready; its log: kubectl --context ${KUBE_CONTEXT} -n ${NAMESPACE} logs deployment/gateway"
      sleep 1
    done
  done
  step "the gateway routes to every service ($(elapsed "${phase_start}"))"
fi

grafana=$(kube_get get service -l app.kubernetes.io/name=grafana \
  -o 'jsonpath={.items[0].metadata.name}:{.items[0].spec.ports[0].port}' 2>/dev/null || true)
echo
echo "portal is up on the ${PROVIDER} cluster (context ${KUBE_CONTEXT}, overlay ${overlay}) after $((SECONDS - started))s"
echo "  gateway:    ${gateway}/api/webtoon/series  (try the README walk-through with API=${gateway}/api)"
echo "  prometheus: kubectl --context ${KUBE_CONTEXT} -n ${NAMESPACE} port-forward svc/prometheus 9090:9090  then http://localhost:9090"
if [ -n "${grafana}" ] && [ "${grafana}" != ":" ]; then
  echo "  grafana:    kubectl --context ${KUBE_CONTEXT} -n ${NAMESPACE} port-forward svc/${grafana%%:*} 3000:${grafana##*:}  then http://localhost:3000"
  echo "              admin password: kubectl --context ${KUBE_CONTEXT} -n ${NAMESPACE} get secret grafana-admin -o jsonpath='{.data.password}' | base64 -d"
else
  echo "  grafana:    not deployed by overlay ${overlay}"
fi
echo "  scale webtoon alone: npm run scale:webtoon -- 3"
echo "  remove it all: npm run cluster:down"
