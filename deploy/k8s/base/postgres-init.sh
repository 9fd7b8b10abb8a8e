#!/usr/bin/env bash
# One database and one user per service, each user owning only its database.
# The services are the <NAME>_DB_PASSWORD variables the StatefulSet sets
# (from each service's Secret), so the list lives in one place. Compose mounts
# this same file. Runs once, on an empty data directory, from the image's
# /docker-entrypoint-initdb.d.
set -euo pipefail
names=$(compgen -e | sed -n 's/_DB_PASSWORD$//p' | tr '[:upper:]' '[:lower:]')
if [ -z "${names}" ]; then
  echo "postgres-init: no <NAME>_DB_PASSWORD variables set; no service databases created" >&2
  exit 1
fi
for name in ${names}; do
  var="${name^^}_DB_PASSWORD"
  echo "postgres-init: database and user ${name}"
  psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v name="${name}" -v password="${!var}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
