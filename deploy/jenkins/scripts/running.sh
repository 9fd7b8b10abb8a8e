#!/usr/bin/env bash
# running.sh: what runs in the namespace, for affected.sh: a line
# "<deployment> <image>" per Deployment, into .pipeline/running.tsv. Run
# in the kubectl container (it holds the token), on builds that deploy only.
#
# A deploy compares each app with the commit its running image was built from
# (the image tag), not with the last successful build, which need not have
# deployed (DEPLOY is off unless ticked) nor to this target. Nothing running
# (a new namespace): an empty file, and every app is built.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

mkdir -p "${STATE}"
kubectl -n "${NAMESPACE}" get deployments \
  -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.spec.template.spec.containers[0].image}{"\n"}{end}' \
  >"${STATE}/running.tsv.new"
mv "${STATE}/running.tsv.new" "${STATE}/running.tsv"
step "running in ${NAMESPACE}: $(cut -f1 "${STATE}/running.tsv" | words)"
