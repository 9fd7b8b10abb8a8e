#!/usr/bin/env bash
# Rolls back what deploy.sh changed, after a failed deploy or smoke test: each
# Deployment in .pipeline/rollback.tsv whose revision moved goes back to the
# revision it had before, and is waited for. Deployments this build created
# have no earlier revision and are left as they are (said so). Nothing
# recorded: nothing was applied, nothing to do.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

record="${STATE}/rollback.tsv"
if [ ! -s "${record}" ]; then
  step "no deploy was started: nothing to roll back"
  exit 0
fi

failed=0
while IFS=$'\t' read -r app before; do
  now=$(kubectl -n "${NAMESPACE}" get deployment "${app}" --ignore-not-found \
    -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')
  if [ -z "${before}" ]; then
    step "${app}: created by this build, no earlier revision to go back to (left at revision ${now:-none})"
  elif [ "${now}" = "${before}" ]; then
    step "${app}: still at revision ${before}, unchanged"
  else
    step "${app}: revision ${now} -> back to ${before}"
    if ! kubectl -n "${NAMESPACE}" rollout undo "deployment/${app}" --to-revision="${before}" ||
      ! kubectl -n "${NAMESPACE}" rollout status "deployment/${app}" --timeout="${ROLLOUT_TIMEOUT:-5m}"; then
      echo "error: rolling back ${app} failed" >&2
      failed=1
    fi
  fi
done <"${record}"
[ "${failed}" = 0 ] || die "some rollbacks failed (above): the namespace needs a look"
step "rolled back"
