# shellcheck shell=sh
# Shared by the pipeline's scripts (sourced). POSIX sh, not bash: the image
# build runs in the BuildKit container, which has no bash.
#
# The scripts hand each other their results through files under .pipeline/
# (ignored by git, so the image tag is not marked -dirty by them):
#   .pipeline/image-tag      the tag every image of this build gets
#   .pipeline/services       the apps to build and deploy, one a line
#   .pipeline/rollback.tsv   each Deployment this build changed, and its revision before
#   .pipeline/running.tsv    what the namespace ran before a deploy, a Deployment and its image a line
#   .pipeline/junit/         JUnit XML, one file per package and test scope
set -eu

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
STATE="${ROOT}/.pipeline"
NAMESPACE=${NAMESPACE:-portal}

die() {
  echo "error: $*" >&2
  exit 1
}

step() {
  echo "==> $*"
}

# Lines on stdin as one line of words, or `none`.
words() {
  out=$(tr '\n' ' ' | sed 's/  */ /g; s/^ //; s/ $//')
  echo "${out:-none}"
}

# require_env NAME...: each must be set and not empty.
require_env() {
  for name in "$@"; do
    eval "value=\${${name}:-}"
    # shellcheck disable=SC2154 # set by the eval above
    [ -n "${value}" ] || die "${name} is not set"
  done
}

# check_target TARGET: TARGET names an overlay to deploy to, or this dies
# saying how to choose one. The Jenkinsfile's TARGET has no usable default:
# its first entry, `none`, is what a build gets that nobody chose a target for.
check_target() {
  case "${1:-}" in
    local | production) ;;
    none | "") die "TARGET is '${1:-}': a deploy needs an environment chosen for this build. Run it again with Build with Parameters, TARGET production or local (or DEPLOY off to only test)" ;;
    *) die "TARGET '$1' is not an overlay to deploy to: production or local (deploy/k8s/overlays/<TARGET>)" ;;
  esac
}

# The apps to build and deploy, as affected.sh wrote them.
services() {
  [ -f "${STATE}/services" ] || die "${STATE}/services is missing: run affected.sh first"
  cat "${STATE}/services"
}

image_tag() {
  [ -s "${STATE}/image-tag" ] || die "${STATE}/image-tag is missing: run affected.sh first"
  cat "${STATE}/image-tag"
}
