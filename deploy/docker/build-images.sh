#!/usr/bin/env bash
# Builds the apps' images from deploy/docker/Dockerfile, one line of progress
# per image and a table of sizes at the end: `npm run images` (all eight), or
# `bash deploy/docker/build-images.sh webtoon gateway` (some).
#
# Tags portal/<app>:<tag>. The tag is PORTAL_TAG if set; otherwise the commit's
# (`npm run pipeline:image-tag`, e.g. 3cc42c0f1a2b-dirty) and `local` as well,
# the tag Compose uses by default; `local` alone where no tag can be computed.
#
# Environment:
#   PORTAL_TAG      the tag to build (no `local` alias then)
#   NODE_IMAGE      the Node 24 base image (default node:24-bookworm-slim; CI: a stand-in)
#   BUILD_CA_FILE   a PEM CA bundle the build's npm must trust (a TLS-intercepting
#                   proxy); copied into deploy/docker/build-ca/, never into an image
#   VERBOSE=1       stream docker build's output (else it goes to a log file)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ALL_APPS=(gateway news blog webtoon payment auth analytics monolith)
LOG_DIR=${TMPDIR:-/tmp}/portal-images
say() { echo "[images] $*"; }

apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=("${ALL_APPS[@]}")
for app in "${apps[@]}"; do
  case " ${ALL_APPS[*]} " in
    *" ${app} "*) ;;
    *) echo "[images] unknown app '${app}': expected some of ${ALL_APPS[*]}" >&2; exit 64 ;;
  esac
done

command -v docker >/dev/null || { echo "[images] docker is not installed (https://docs.docker.com/engine/install/)" >&2; exit 69; }
docker info >/dev/null 2>&1 || { echo "[images] no Docker engine answers (is dockerd running, may this user use it?)" >&2; exit 69; }
# Without the buildx plugin a recent docker CLI cannot use BuildKit; the
# Dockerfile needs none of its features, so say so and use the classic builder.
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi

# One build at a time on this machine (two test suites may ask at once): the
# second then finds every layer in the cache instead of building them again
# side by side, and the logs under LOG_DIR stay one build's.
mkdir -p "${LOG_DIR}"
if command -v flock >/dev/null; then
  exec 9>"${LOG_DIR}/.lock"
  if ! flock -n 9; then
    say "another build of the images is running on this machine: waiting for it to finish"
    flock 9
  fi
fi

aliases=()
if [ -n "${PORTAL_TAG:-}" ]; then
  tag=${PORTAL_TAG}
elif tag=$(cd "${ROOT}" && npm run -s pipeline:image-tag 2>/dev/null) && [ -n "${tag}" ]; then
  aliases=(local)
else
  say "no commit tag (npm run pipeline:image-tag failed): tagging 'local'"
  tag=local
fi
[[ "${tag}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "[images] PORTAL_TAG: '${tag}' is not a valid image tag" >&2; exit 64; }

if [ -n "${BUILD_CA_FILE:-}" ]; then
  [ -s "${BUILD_CA_FILE}" ] || { echo "[images] BUILD_CA_FILE: ${BUILD_CA_FILE} is missing or empty" >&2; exit 66; }
  cp "${BUILD_CA_FILE}" "${ROOT}/deploy/docker/build-ca/build-ca-file.crt"
fi

build_args=()
[ -z "${NODE_IMAGE:-}" ] || build_args+=(--build-arg "NODE_IMAGE=${NODE_IMAGE}")
mkdir -p "${LOG_DIR}"
say "building ${#apps[@]} image(s) as portal/<app>:${tag}${aliases:+ (and :${aliases[*]})} from ${NODE_IMAGE:-node:24-bookworm-slim}; the first builds the shared stages, the rest reuse them"
t_all=${SECONDS}
n=0
for app in "${apps[@]}"; do
  n=$((n + 1))
  log="${LOG_DIR}/${app}.log"
  t0=${SECONDS}
  say "(${n}/${#apps[@]}) portal/${app}:${tag} ..."
  tags=(-t "portal/${app}:${tag}")
  for alias in "${aliases[@]}"; do tags+=(-t "portal/${app}:${alias}"); done
  cmd=(docker build --pull=false -f "${ROOT}/deploy/docker/Dockerfile" --build-arg "APP=${app}" "${build_args[@]}" "${tags[@]}" "${ROOT}")
  if [ "${VERBOSE:-}" = 1 ]; then
    "${cmd[@]}" 2>&1 | tee "${log}"
  # The full output goes to the log; each build step that runs (not served
  # from the cache) is a progress line, since the shared stages take minutes.
  elif ! "${cmd[@]}" 2>&1 | tee "${log}" | awk '
      /^Step [0-9]+\/[0-9]+ : / { step = ($0 ~ / : FROM /) ? "" : $0; next }
      step != "" { if ($0 !~ /Using cache/) { print "[images]     " substr(step, 1, 100); fflush() } step = "" }
      /^#[0-9]+ \[/ { print "[images]     " substr($0, 1, 100); fflush() }'; then
    echo "[images] portal/${app}:${tag} FAILED after $((SECONDS - t0))s; the end of ${log}:" >&2
    tail -n 40 "${log}" | sed 's/^/[images]   /' >&2
    exit 1
  fi
  size=$(docker image inspect -f '{{.Size}}' "portal/${app}:${tag}" | awk '{printf "%d MB", $1 / 1000000}')
  say "(${n}/${#apps[@]}) portal/${app}:${tag} built in $((SECONDS - t0))s, ${size}"
done

# What each image adds to the base is what a registry stores and a node pulls
# per app; the base's layers are shared by all eight.
base=${NODE_IMAGE:-node:24-bookworm-slim}
base_bytes=$(docker image inspect -f '{{.Size}}' "${base}")
say "done in $((SECONDS - t_all))s; the base ${base} is $((base_bytes / 1000000)) MB, shared by all:"
for app in "${apps[@]}"; do
  docker image inspect -f '{{.Size}}' "portal/${app}:${tag}" \
    | awk -v name="portal/${app}:${tag}" -v base="${base_bytes}" '{printf "[images]   %-40s %4d MB (the base + %.1f MB)\n", name, $1 / 1000000, ($1 - base) / 1000000}'
done
