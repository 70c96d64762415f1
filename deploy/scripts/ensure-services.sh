#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres, trust) and RabbitMQ (127.0.0.1:5672,
# guest/guest) are up, and that HAProxy is installed: starts them if installed, installs them with apt if missing and we
# are root, otherwise says exactly what to do. Also installs libpq-dev, which diesel links.
set -euo pipefail

log() { printf '[services] %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
is_root() { [ "$(id -u)" = 0 ]; }
apt_updated=0
apt_install() {
  if ! is_root; then
    log "missing packages: $*"
    log "install them with: sudo apt-get update && sudo apt-get install -y $*"
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
wait_port() {
  local port=$1 what=$2 tries=${3:-60}
  for _ in $(seq "$tries"); do
    port_open "$port" && return 0
    sleep 1
  done
  log "$what did not open port $port"
  return 1
}

# Build dependency of diesel (libpq).
if [ ! -f /usr/include/postgresql/libpq-fe.h ]; then
  apt_install libpq-dev
fi

# PostgreSQL
if ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 PostgreSQL 30
fi
command -v psql >/dev/null 2>&1 || apt_install postgresql-client
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
  # A fresh Debian install asks for passwords on TCP; Touchstone's defaults expect trust.
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | sort -V | tail -n1 || true)
  if is_root && [ -n "$hba" ] && ! grep -q 'touchstone-trust' "$hba"; then
    log "allowing local TCP connections without a password in $hba"
    sed -i '1i host all all 127.0.0.1/32 trust # touchstone-trust\nhost all all ::1/128 trust # touchstone-trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload
    sleep 1
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
    log "cannot connect as postgres@127.0.0.1:5432; allow trust auth for 127.0.0.1 in pg_hba.conf"
    log "or set TOUCHSTONE_<SERVICE>__DATABASE__URL=postgres://user:pass@host:5432"
    exit 1
  fi
fi

# The tests run several suites at once (the gateway's start four services each, each with
# its pool, consumers and relay): PostgreSQL's default of 100 connections runs out. Raised
# once, with a restart, on a local cluster this script may manage.
want_connections=400
have_connections=$(psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SHOW max_connections' 2>/dev/null || echo 0)
if [ "${have_connections:-0}" -lt "$want_connections" ] && is_root && ls /etc/postgresql/*/main >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  log "raising PostgreSQL max_connections from $have_connections to $want_connections (restart)"
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc "ALTER SYSTEM SET max_connections = $want_connections" >/dev/null
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart || true
  wait_port 5432 PostgreSQL 30
fi

# RabbitMQ
if ! port_open 5672; then
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    apt_install rabbitmq-server
  fi
  log "starting RabbitMQ"
  rabbitmq-server -detached || true
  wait_port 5672 RabbitMQ 90
  # The port opens before the node finishes booting.
  command -v rabbitmqctl >/dev/null 2>&1 && timeout 60 rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
# HAProxy, the gateway (Debian's 2.6 has maps, stick tables, Lua and the Prometheus exporter).
command -v haproxy >/dev/null 2>&1 || apt_install haproxy
# The tests' Python tools live in a venv the Makefile makes.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_install python3-venv
log "PostgreSQL, RabbitMQ and HAProxy are up"
