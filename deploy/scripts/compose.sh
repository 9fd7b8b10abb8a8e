#!/usr/bin/env bash
# `npm run up` and `npm run down`: the Compose stack (deploy/compose/docker-compose.yml).
#
#   up [compose up args...]    builds the apps' images that are missing, starts the
#                              stack (`npm run up -- --scale webtoon=3`; name services
#                              to start only those and what they depend on), waits
#                              until every container is healthy, printing progress,
#                              then prints each service's start-to-ready time and
#                              where the gateway, Prometheus and Grafana answer.
#   down [compose down args...] stops and removes the stack (`-- -v` also drops its data).
#
# Works with `docker compose` (v2) or `docker-compose` (v1.29+). Environment:
# COMPOSE_PROJECT_NAME (default portal), PORTAL_TAG (default local), UP_TIMEOUT
# seconds (default 600), and the variables docker-compose.yml reads (image names,
# GATEWAY_PORT, PROMETHEUS_PORT, GRAFANA_PORT, passwords).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FILE="${ROOT}/deploy/compose/docker-compose.yml"
APP_SERVICES=(auth news blog webtoon payment analytics gateway)
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-portal}
export PORTAL_TAG=${PORTAL_TAG:-local}
say() { echo "[compose] $*"; }
fail() { echo "[compose] $*" >&2; exit 1; }

command -v docker >/dev/null || fail "docker is not installed (https://docs.docker.com/engine/install/)"
docker info >/dev/null 2>&1 || fail "no Docker engine answers (is dockerd running, may this user use it?)"
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  fail "needs Docker Compose: the 'docker compose' plugin (v2) or docker-compose (v1.29+)"
fi
compose() { "${COMPOSE[@]}" -f "${FILE}" "$@"; }

# Every container of the project, running or not: name, state, health.
containers() {
  local ids
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=${COMPOSE_PROJECT_NAME}")
  # shellcheck disable=SC2086 # one argument per container id
  [ -z "${ids}" ] || docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' ${ids} | sed 's#^/##'
}

wait_healthy() {
  local deadline=$((SECONDS + ${UP_TIMEOUT:-600})) last=-1 list total healthy pending bad
  for (( ; ; )); do
    list=$(containers)
    total=$(grep -c . <<< "${list}" || true)
    healthy=$(awk '$2 == "running" && ($3 == "healthy" || $3 == "none")' <<< "${list}" | grep -c . || true)
    bad=$(awk '$2 == "exited" || $2 == "dead" || $3 == "unhealthy" {print $1}' <<< "${list}")
    if [ -n "${bad}" ]; then
      for name in ${bad}; do
        echo "[compose] ${name} failed ($(docker inspect -f '{{.State.Status}}, exit {{.State.ExitCode}}' "${name}")); its last log lines:" >&2
        docker logs --tail 30 "${name}" 2>&1 | sed 's/^/[compose]   /' >&2
      done
      fail "the stack did not come up; 'npm run down' removes it"
    fi
    if [ "${total}" -gt 0 ] && [ "${healthy}" -eq "${total}" ]; then
      say "all ${total} containers healthy"
      return
    fi
    if [ "${SECONDS}" -ge "${deadline}" ]; then
      fail "not healthy within ${UP_TIMEOUT:-600}s: $(awk '$3 != "healthy" && $3 != "none" {printf "%s (%s) ", $1, $3}' <<< "${list}")"
    fi
    if [ "${healthy}" -ne "${last}" ]; then
      pending=$(awk '!($2 == "running" && ($3 == "healthy" || $3 == "none")) {printf "%s ", $1}' <<< "${list}")
      say "${healthy}/${total} healthy; waiting for ${pending}"
      last=${healthy}
    fi
    sleep 2
  done
}

report() {
  local name line
  say "start-to-ready, from each app's own ready line:"
  for name in $(containers | awk '{print $1}' | sort); do
    line=$(docker logs "${name}" 2>&1 | grep -m1 -o ' ready on .*' || true)
    [ -z "${line}" ] || say "  ${name}${line}"
  done
  local published
  published=$(compose ps 2>/dev/null | grep -o '127\.0\.0\.1:[0-9]*->[0-9]*' | sort -u || true)
  port_of() { sed -n "s/^127\.0\.0\.1:\([0-9]*\)->$1\$/\1/p" <<< "${published}" | head -n1; }
  local gw prom graf
  gw=$(port_of 8080); prom=$(port_of 9090); graf=$(port_of 3000)
  [ -z "${gw}" ] || say "gateway:    http://127.0.0.1:${gw}/api/<service>/...  (e.g. http://127.0.0.1:${gw}/api/webtoon/series)"
  [ -z "${prom}" ] || say "prometheus: http://127.0.0.1:${prom}/targets"
  if [ -n "${graf}" ]; then
    say "grafana:    http://127.0.0.1:${graf}/  (dashboards in the Portal folder)"
    local password
    password=$(compose logs --no-color grafana 2>/dev/null | grep -o 'grafana admin password (generated.*' | tail -n1 || true)
    if [ -n "${password}" ]; then
      say "            ${password#grafana }, user admin"
    else
      say "            admin password: GRAFANA_ADMIN_PASSWORD, as set"
    fi
  fi
  say "gateway admin: ${COMPOSE[*]} -f ${FILE#"${ROOT}"/} exec gateway node -e \"fetch('http://127.0.0.1:9876/upstreams').then(r => r.text()).then(console.log)\""
}

cmd=${1:-}
shift || true
case "${cmd}" in
  up)
    missing=()
    for app in "${APP_SERVICES[@]}"; do
      docker image inspect "portal/${app}:${PORTAL_TAG}" >/dev/null 2>&1 || missing+=("${app}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      say "building missing images: ${missing[*]}"
      PORTAL_TAG=${PORTAL_TAG} bash "${ROOT}/deploy/docker/build-images.sh" "${missing[@]}"
    fi
    say "starting project ${COMPOSE_PROJECT_NAME} with ${COMPOSE[*]} (images portal/<app>:${PORTAL_TAG})"
    t0=${SECONDS}
    # --no-build: the images are built above, from the one recipe, not by Compose.
    compose up -d --no-build "$@"
    wait_healthy
    say "up in $((SECONDS - t0))s"
    report
    ;;
  down)
    # The monolith's profile too, so a monolith started with it goes as well.
    COMPOSE_PROFILES=${COMPOSE_PROFILES:-monolith} compose down --remove-orphans "$@"
    ;;
  *)
    fail "usage: compose.sh up|down [compose args...]"
    ;;
esac
