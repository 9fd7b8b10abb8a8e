#!/usr/bin/env bash
# Entrypoint of the postgres stand-in: a short rewrite of the upstream postgres
# image's docker-entrypoint.sh, with the same variables and first-start behaviour:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#   POSTGRES_USER (default postgres), POSTGRES_DB (default: the user),
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, PGDATA, and *_FILE variants.
# On first start: initdb, then /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|
# *.sql.xz against a temporary server listening only on the unix socket, then the
# real server (listen_addresses='*', "host all all all scram-sha-256").
set -Eeo pipefail
shopt -s nullglob

file_env() { # VAR [default]: VAR or the contents of the file named by VAR_FILE
  local var=$1 file_var="${1}_FILE" def=${2:-} val
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo >&2 "error: both $var and $file_var are set (but are exclusive)"; exit 1
  fi
  val=$def
  if [ -n "${!var:-}" ]; then val=${!var}; elif [ -n "${!file_var:-}" ]; then val=$(< "${!file_var}"); fi
  export "$var"="$val"
  unset "$file_var"
}

process_sql() {
  local runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ -n "$POSTGRES_DB" ]; then runner+=(--dbname "$POSTGRES_DB"); fi
  PGHOST= PGHOSTADDR= "${runner[@]}" "$@"
}

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
  chmod 00700 "$PGDATA"
  chown postgres /var/run/postgresql && chmod 03775 /var/run/postgresql
  exec gosu postgres "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = 'postgres' ]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=}"

  if [ -s "$PGDATA/PG_VERSION" ]; then
    echo
    echo 'PostgreSQL Database directory appears to contain a database; Skipping initialization'
    echo
  else
    if [ -z "$POSTGRES_PASSWORD" ] && [ 'trust' != "$POSTGRES_HOST_AUTH_METHOD" ]; then
      cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html
EOE
      exit 1
    fi

    mkdir -p "$PGDATA" && chmod 00700 "$PGDATA"
    # --pwfile refuses an empty file, hence the newline
    eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"

    auth=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption)}
    {
      echo
      if [ 'trust' = "$auth" ]; then echo '# warning trust is enabled for all connections'; fi
      echo "host all all all $auth"
    } >> "$PGDATA/pg_hba.conf"

    export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
    PGUSER="${PGUSER:-$POSTGRES_USER}" \
      pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start

    if [ "$POSTGRES_DB" != 'postgres' ]; then
      exists=$(POSTGRES_DB= process_sql --dbname postgres --set db="$POSTGRES_DB" --tuples-only \
        <<< "SELECT 1 FROM pg_database WHERE datname = :'db' ;")
      if [ -z "$exists" ]; then
        POSTGRES_DB= process_sql --dbname postgres --set db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db" ;'
        echo
      fi
    fi

    echo
    for f in /docker-entrypoint-initdb.d/*; do
      case "$f" in
        *.sh)
          if [ -x "$f" ]; then echo "$0: running $f"; "$f"
          else echo "$0: sourcing $f"; . "$f"; fi ;;
        *.sql)    echo "$0: running $f"; process_sql -f "$f"; echo ;;
        *.sql.gz) echo "$0: running $f"; gunzip -c "$f" | process_sql; echo ;;
        *.sql.xz) echo "$0: running $f"; xzcat "$f" | process_sql; echo ;;
        *)        echo "$0: ignoring $f" ;;
      esac
    done

    PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD
    echo
    echo 'PostgreSQL init process complete; ready for start up.'
    echo
  fi
fi

exec "$@"
