#!/usr/bin/env bash
# deploy.sh local|production: puts this build's images into the kustomize
# overlay deploy/k8s/overlays/<target>, applies it to the `portal` namespace
# and waits for each changed Deployment to roll out.
#
# Every Deployment gets an explicit image: the new one for the apps this build
# made, the one running now for the others, so applying the overlay never
# moves a service this build did not touch. Before anything is applied, the
# revision of each Deployment about to change goes into .pipeline/rollback.tsv
# for rollback.sh.
#
# The Namespace and Secrets are not applied (the overlays hold no Secret; a
# Secret that showed up would not be sent either): the namespace and the
# Secrets are created once by whoever sets the cluster up, since Secrets hold
# credentials that are not in git (deploy/jenkins/README.md). The deploy
# stops before applying anything when a Secret the overlay names is missing.
#
#   REGISTRY          where build-images.sh pushed, e.g. registry.example.com/team
#   ROLLOUT_TIMEOUT   per Deployment, default 5m
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

target=${1:-}
check_target "${target}"
require_env REGISTRY
for tool in kubectl kustomize yq; do
  command -v "${tool}" >/dev/null 2>&1 || die "${tool} is not installed in this container"
done

overlay="${ROOT}/deploy/k8s/overlays/${target}"
[ -f "${overlay}/kustomization.yaml" ] || die "no overlay at ${overlay}"
tag=$(image_tag)
mapfile -t built < <(services)
# Every namespace has this ConfigMap (Kubernetes >= 1.20); reading it needs no
# rights outside the namespace, unlike reading the Namespace.
kubectl -n "${NAMESPACE}" get configmap kube-root-ca.crt >/dev/null ||
  die "namespace ${NAMESPACE} is missing or not ours to deploy to: create it and its Secrets first (deploy/jenkins/README.md)"

# Every Secret the overlay's workloads name must be there: they hold the
# passwords, which are not in git and which the agent may not write (an admin
# creates them once: deploy/jenkins/README.md). Asked with a server-side dry
# run of creating one: "already exists" means it is there, and the agent
# needs no right to read any Secret's value for that.
mapfile -t secrets < <(kustomize build "${overlay}" |
  yq -N '.. | select(tag == "!!map") | (.secretKeyRef.name // ""), (.secretRef.name // ""), (.secret.secretName // "")' |
  grep -v '^$' | sort -u)
missing=()
for secret in "${secrets[@]}"; do
  if answer=$(kubectl -n "${NAMESPACE}" create secret generic "${secret}" --from-literal=probe=probe --dry-run=server -o name 2>&1); then
    missing+=("${secret}")
  else
    case "${answer}" in
      *AlreadyExists* | *"already exists"*) ;;
      *) die "could not check Secret ${secret} in ${NAMESPACE}: ${answer}" ;;
    esac
  fi
done
[ ${#missing[@]} -eq 0 ] ||
  die "missing Secret(s) in namespace ${NAMESPACE}: ${missing[*]}. The overlay ${target} needs them and holds no passwords: an admin creates them once (deploy/jenkins/README.md, step 1: deploy/scripts/portal-secrets.sh | kubectl -n ${NAMESPACE} create -f -)"
step "Secrets ${secrets[*]}: there"

# The overlay's Deployments of our images (portal/<app>; Prometheus and Grafana
# keep theirs). The monolith's image is built, but no Deployment runs it.
mapfile -t deployments < <(kustomize build "${overlay}" |
  yq -N 'select(.kind == "Deployment" and (.spec.template.spec.containers[0].image | test("^portal/"))) | .metadata.name')
step "overlay ${target}: Deployments ${deployments[*]}"

# revision NAME: the Deployment's current revision, empty when it does not exist.
revision() {
  kubectl -n "${NAMESPACE}" get deployment "$1" --ignore-not-found \
    -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}'
}

mkdir -p "${STATE}"
: >"${STATE}/rollback.tsv"
changed=()
for app in "${deployments[@]}"; do
  if printf '%s\n' "${built[@]}" | grep -qx -- "${app}"; then
    image="${REGISTRY}/portal/${app}:${tag}"
    printf '%s\t%s\n' "${app}" "$(revision "${app}")" >>"${STATE}/rollback.tsv"
    changed+=("${app}")
  else
    image=$(kubectl -n "${NAMESPACE}" get deployment "${app}" --ignore-not-found \
      -o jsonpath="{.spec.template.spec.containers[?(@.name==\"${app}\")].image}")
    [ -n "${image}" ] || die "${app} is not running yet and this build did not make its image: run the pipeline with FORCE_SERVICES=${app} (or all)"
  fi
  echo "    ${app}: ${image}"
  (cd "${overlay}" && kustomize edit set image "portal/${app}=${image}")
done
for app in "${built[@]}"; do
  printf '%s\n' "${deployments[@]}" | grep -qx -- "${app}" || echo "    ${app}: image pushed; no Deployment in this overlay runs it"
done
if [ ${#changed[@]} -eq 0 ]; then
  step "no Deployment changes: nothing to apply"
  exit 0
fi

step "apply ${target} to namespace ${NAMESPACE} (without the Namespace and the Secrets)"
kustomize build "${overlay}" |
  yq 'select(.kind != "Namespace" and .kind != "Secret")' |
  kubectl apply -n "${NAMESPACE}" -f -

for app in "${changed[@]}"; do
  step "rollout of ${app}"
  if ! kubectl -n "${NAMESPACE}" rollout status "deployment/${app}" --timeout="${ROLLOUT_TIMEOUT:-5m}"; then
    kubectl -n "${NAMESPACE}" get pods -l "app.kubernetes.io/name=${app}" -o wide >&2 || true
    die "${app} did not roll out within ${ROLLOUT_TIMEOUT:-5m}"
  fi
done
step "deployed ${changed[*]} at ${tag}"
