#!/usr/bin/env bash
# The portal's Secrets, with fresh random passwords, as YAML for `kubectl
# create -f -`. No password is in git: the manifests only name these Secrets.
#
#   deploy/scripts/portal-secrets.sh [NAME...]   the Secrets NAME... (all by default)
#   deploy/scripts/portal-secrets.sh --names     their names, one a line
#
# cluster:up creates those that are missing on its cluster (and keeps those
# that exist: PostgreSQL set its users' passwords from them on its first
# start). For a real cluster, once, as an admin (deploy/jenkins/README.md):
#   kubectl create namespace portal   # or: kubectl apply -f deploy/k8s/base/namespace.yaml
#   deploy/scripts/portal-secrets.sh | kubectl -n portal create -f -
#
# One database and one user per service: the password is in its Secret twice,
# as `password` (PostgreSQL's init script gives it to the user) and inside
# DATABASE_URL (what the app reads). Grafana's admin password is in
# grafana-admin. Sourced, this file only defines PORTAL_SECRETS and
# portal_secrets_yaml.

PORTAL_DATABASES=(auth news blog webtoon payment analytics)
PORTAL_SECRETS=(postgres-admin "${PORTAL_DATABASES[@]/%/-database}" grafana-admin)

# 32 letters and digits from the kernel's random source: about 190 bits, and
# nothing that needs escaping in a URL or YAML.
portal_random_password() {
  local value
  value=$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32) || true
  [ ${#value} -eq 32 ] || { echo "error: could not read 32 random characters from /dev/urandom" >&2; return 1; }
  echo "${value}"
}

# portal_secrets_yaml [NAME...]: the Secrets as YAML documents.
portal_secrets_yaml() {
  local name db password
  [ $# -gt 0 ] || set -- "${PORTAL_SECRETS[@]}"
  for name in "$@"; do
    case " ${PORTAL_SECRETS[*]} " in
      *" ${name} "*) ;;
      *) echo "error: no Secret ${name} in the portal (${PORTAL_SECRETS[*]})" >&2; return 1 ;;
    esac
    password=$(portal_random_password) || return 1
    printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: portal\n  labels:\n    app.kubernetes.io/part-of: portal\ntype: Opaque\nstringData:\n  password: "%s"\n' "${name}" "${password}"
    case "${name}" in
      postgres-admin | grafana-admin) ;;
      *-database)
        db=${name%-database}
        printf -- '  DATABASE_URL: "postgres://%s:%s@postgres:5432/%s"\n' "${db}" "${password}" "${db}"
        ;;
    esac
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  if [ "${1:-}" = --names ]; then
    printf '%s\n' "${PORTAL_SECRETS[@]}"
  else
    portal_secrets_yaml "$@"
  fi
fi
