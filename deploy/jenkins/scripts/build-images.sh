#!/bin/sh
# Builds and pushes REGISTRY/portal/<app>:<tag> for each app affected.sh
# selected, with rootless BuildKit (buildctl-daemonless.sh: it starts its own
# buildkitd, no Docker engine or socket). One recipe for every app:
# deploy/docker/Dockerfile with the build argument APP. The registry's
# credentials are the Docker config in DOCKER_CONFIG (the agent pod mounts the
# registry-push Secret there). Layers are cached in the registry, per app.
#
#   REGISTRY     e.g. registry.example.com/team (no trailing slash)
#   NODE_IMAGE   optional: the Dockerfile's base image, if not its default
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

require_env REGISTRY
cd "${ROOT}"
tag=$(image_tag)
apps=$(services)
if [ -z "${apps}" ]; then
  step "no app is affected: nothing to build"
  exit 0
fi
[ -f deploy/docker/Dockerfile ] || die "deploy/docker/Dockerfile is missing"

count=$(echo "${apps}" | wc -l | tr -d ' ')
i=0
for app in ${apps}; do
  i=$((i + 1))
  image="${REGISTRY}/portal/${app}:${tag}"
  cache="${REGISTRY}/portal/${app}:buildcache"
  step "[${i}/${count}] ${image}"
  set -- --frontend dockerfile.v0 \
    --local context=. --local dockerfile=deploy/docker \
    --opt filename=Dockerfile --opt build-arg:APP="${app}" \
    --import-cache type=registry,ref="${cache}" \
    --export-cache type=registry,ref="${cache}",mode=max \
    --output type=image,name="${image}",push=true
  if [ -n "${NODE_IMAGE:-}" ]; then
    set -- "$@" --opt build-arg:NODE_IMAGE="${NODE_IMAGE}"
  fi
  buildctl-daemonless.sh build "$@"
done
step "pushed ${count} image(s) tagged ${tag}"
