#!/bin/sh
# What the official image does with POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB: on an
# empty data folder, a cluster whose superuser is that user, reached from other containers
# with that password; then the server, listening on every interface of the container.
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
# No command, or options alone (`-c name=value`), is the server, as in the official image.
case "${1:-}" in -* | "") set -- postgres "$@" ;; esac
if [ "$1" = postgres ]; then
  shift
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    password=$(mktemp)
    trap 'rm -f "$password"' EXIT
    printf '%s' "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" > "$password"
    "$bin/initdb" --pgdata="$PGDATA" --username="$user" --pwfile="$password" \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
    rm -f "$password"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "$database" != postgres ]; then
      quoted=$(printf '%s' "$database" | sed 's/"/""/g')
      echo "CREATE DATABASE \"$quoted\"" | "$bin/postgres" --single -D "$PGDATA" postgres \
        >/dev/null
    fi
  fi
  exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
