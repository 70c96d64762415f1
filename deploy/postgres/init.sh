#!/bin/sh
# The `postgres-provision` one-shot of deploy/compose.yaml: applies provision.sql for every
# service with the passwords compose mounts as secrets (this container runs as root, which
# can read them; the postgres server's user could not). Idempotent: it runs on every `up`.
set -eu
PGPASSWORD=$(cat /run/secrets/postgres-password)
export PGPASSWORD
# The image's own first-start initialisation runs a server without TCP; wait for the real one.
tries=0
until pg_isready -q -d postgres; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "[provision] PostgreSQL at $PGHOST is not ready" >&2; exit 1; }
  sleep 1
done
for svc in ${TOUCHSTONE_PROVISION_SERVICES:-leads funnel touchpoints breakeven}; do
  # printf is a shell builtin: the password reaches psql on stdin, not on a command line.
  { printf '\\set password %s\n' "$(cat "/run/secrets/$svc-pg-password")"; cat /provision/provision.sql; } \
    | psql -X -q -w -d postgres -v ON_ERROR_STOP=1 \
      -v role="touchstone_$svc" -v db="touchstone_$svc" -f -
  echo "[provision] $svc: role and database touchstone_$svc"
done
