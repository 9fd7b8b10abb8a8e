#!/bin/sh
# target.sh TARGET: the Jenkinsfile's first stage where a build will deploy
# (main, not a pull request, DEPLOY ticked): fails at once, naming what to do,
# when nobody chose where to deploy, rather than after the tests.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

check_target "${1:-}"
step "this build deploys to ${1} (deploy/k8s/overlays/${1})"
