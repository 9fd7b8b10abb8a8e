#!/usr/bin/env bash
# npm run scale:webtoon -- N: webtoon to N replicas; no other workload changes.
#
# Webtoon has an HPA, which owns its replica count: a bare `kubectl scale` is
# undone at the HPA's next sync whenever N is outside [minReplicas,
# maxReplicas] or the CPU says otherwise. So this sets minReplicas to N
# (raising maxReplicas if needed) and then scales: the HPA keeps at least N
# and may still add more under load.
# shellcheck source=cluster-lib.sh
source "$(dirname "$0")/cluster-lib.sh"

usage="usage: npm run scale:webtoon -- N   (N: replicas, a whole number from 1 to 50)"
[ $# -eq 1 ] || die "expected one argument, the replica count N; ${usage}"
replicas=$1
[[ "${replicas}" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive whole number, got '${replicas}'; ${usage}"
# A cap against typos (500 for 5): a laptop cluster cannot hold more anyway.
[ "${replicas}" -le 50 ] || die "N must be at most 50, got ${replicas}; ${usage}"

require_tools kubectl

if [ "${CLUSTER_DRY_RUN:-}" = 1 ]; then
  max=${replicas}
  hpa=webtoon
else
  kube_get get deployment webtoon >/dev/null || die "no deployment webtoon in namespace ${NAMESPACE} of context ${KUBE_CONTEXT}; run npm run cluster:up first"
  hpa=$(kube_get get hpa webtoon -o 'jsonpath={.metadata.name}' 2>/dev/null || true)
  max=$(kube_get get hpa webtoon -o 'jsonpath={.spec.maxReplicas}' 2>/dev/null || echo 0)
fi

if [ -n "${hpa}" ]; then
  [ "${max}" -ge "${replicas}" ] || max=${replicas}
  step "HPA webtoon: minReplicas ${replicas}, maxReplicas ${max} (so the HPA keeps at least ${replicas})"
  kube patch hpa webtoon --type merge -p "{\"spec\":{\"minReplicas\":${replicas},\"maxReplicas\":${max}}}"
fi
step "scaling deployment/webtoon to ${replicas}"
kube scale deployment/webtoon --replicas="${replicas}"
kube rollout status deployment/webtoon --timeout=300s

[ "${CLUSTER_DRY_RUN:-}" = 1 ] && exit 0
deadline=$((SECONDS + 300))
while :; do
  ready=$(kube_get get deployment webtoon -o 'jsonpath={.status.readyReplicas}')
  echo "webtoon: ${ready:-0}/${replicas} replicas ready"
  [ "${ready:-0}" -ge "${replicas}" ] && break
  [ "${SECONDS}" -lt "${deadline}" ] || die "webtoon has ${ready:-0} of ${replicas} replicas ready after 300s; see: kubectl --context ${KUBE_CONTEXT} -n ${NAMESPACE} get pods -l app.kubernetes.io/name=webtoon"
  sleep 2
done
echo
kube_get get deployments -o 'custom-columns=DEPLOYMENT:.metadata.name,READY:.status.readyReplicas,WANTED:.spec.replicas'
