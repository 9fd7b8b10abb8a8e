#!/usr/bin/env bash
# test.sh unit|integration: one test stage. `unit` runs the specs next to the
# code (src/), which need nothing; `integration` the others (test/ folders and
# deploy/), which start Kafka, PostgreSQL, Prometheus and images through the
# Docker engine in DOCKER_HOST (the agent pod's dind sidecar). Each package
# writes JUnit XML into .pipeline/junit for the post step to publish.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set -o pipefail

scope=${1:-}
case "${scope}" in
  unit | integration) ;;
  *) die "usage: test.sh unit|integration (got '${scope}')" ;;
esac

cd "${ROOT}"
mkdir -p "${STATE}/junit"
export CI=true TEST_SCOPE="${scope}" JUNIT_REPORT_DIR="${STATE}/junit"
if [ "${scope}" = integration ]; then
  require_env DOCKER_HOST
  step "Docker engine for the tests: ${DOCKER_HOST}"
  # Tests bind-mount temporary files into containers: the engine (a sidecar)
  # sees the workspace at the same path, not this container's /tmp.
  export TMPDIR="${STATE}/tmp"
  mkdir -p "${TMPDIR}"
fi
# --force: a cached result would replay the log but write no JUnit file.
# Four tasks at once at most: the integration suites each start JVMs and
# PostgreSQL servers.
step "${scope} tests"
npx turbo run test --force --concurrency="${TEST_CONCURRENCY:-4}"
