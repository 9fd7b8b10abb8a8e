#!/usr/bin/env bash
# Decides what this build ships: the image tag of the commit, and the apps
# whose image the change since BASE affects (the workspace dependency graph,
# in @portal/pipeline), plus FORCE_SERVICES. Writes .pipeline/image-tag and
# .pipeline/services.
#
#   BASE            the commit the running images were built from; default
#                   Jenkins' GIT_PREVIOUS_SUCCESSFUL_COMMIT (the last build that
#                   passed, smoke test included). Empty on a first build: every app.
#                   On a build that deploys, running.sh has written
#                   .pipeline/running.tsv (what the namespace runs): then each
#                   app is compared with the commit its image was built from
#                   instead, since the last successful build need not have deployed
#   FORCE_SERVICES  apps to build and deploy whether changed or not, comma- or
#                   space-separated; `all` for every one
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

cd "${ROOT}"
mkdir -p "${STATE}"
BASE=${BASE:-}
[ -f "${STATE}/running.tsv" ] || BASE=${BASE:-${GIT_PREVIOUS_SUCCESSFUL_COMMIT:-}}

tag=$(npm run -s pipeline:image-tag)
case "${tag}" in
  *-dirty)
    git status --porcelain >&2
    die "the working tree differs from the commit (above), so its images would not be the commit's; the pipeline writes only under .pipeline/"
    ;;
esac
echo "${tag}" >"${STATE}/image-tag"
step "image tag: ${tag}"

# With no base, pipeline:affected names every deployable app: the valid names.
all=$(npm run -s pipeline:affected)
if [ -z "${BASE:-}" ] && [ -f "${STATE}/running.tsv" ]; then
  changed=$(npm run -s pipeline:affected -- --running "${STATE}/running.tsv")
  step "changed since the commit each running image was built from: $(words <<<"${changed}")"
else
  changed=$(npm run -s pipeline:affected -- --base "${BASE:-}")
  step "changed since ${BASE:-the beginning (no previous build)}: $(words <<<"${changed}")"
fi

forced=""
requested=${FORCE_SERVICES:-}
for name in ${requested//,/ }; do
  if [ "${name}" = all ]; then
    forced="${all}"
  elif grep -qx -- "${name}" <<<"${all}"; then
    forced+=$'\n'"${name}"
  else
    die "FORCE_SERVICES: unknown app '${name}' (apps: $(words <<<"${all}"), or all)"
  fi
done
[ -z "${forced}" ] || step "forced: $(words <<<"${forced}")"

# In the order pipeline:affected lists the apps, each once.
selected=$(printf '%s\n%s\n' "${changed}" "${forced}" | grep -v '^$' | sort -u)
grep -Fx -f <(printf '%s\n' "${selected}") <<<"${all}" >"${STATE}/services" || true
step "to build and deploy: $(words <"${STATE}/services")"
