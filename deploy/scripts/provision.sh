#!/usr/bin/env bash
# Least-privilege accounts for every service S (docs/security.md says why each right is there):
#   PostgreSQL  role <prefix>_S (no superuser, createdb or createrole) owning database
#               <prefix>_S, which no other role may connect to (deploy/postgres/provision.sql);
#   RabbitMQ    user <prefix>-S, no tags, that may declare, bind and consume only its own
#               queues <prefix>.S and <prefix>.S.*, declare and read the exchange, publish on it
#               only its own event types (touchstone.S.*), and publish through the default
#               exchange (its retries and dead letters);
#   secrets     random passwords created once in $TOUCHSTONE_SECRETS_DIR (S.pg-password,
#               S.amqp-password), and S.env with the service's TOUCHSTONE_S__… settings.
# Idempotent. Run as root on the dev machine (rabbitmqctl needs the node's cookie); PostgreSQL
# is reached as its superuser over TCP. Passwords never appear on a command line or in output.
#
#   provision.sh            provision the local PostgreSQL and RabbitMQ
#   provision.sh --compose  only write what deploy/compose.yaml reads (its own secrets, the
#                           RabbitMQ definitions, S.compose.env) and S.env; touches no server
#
# Environment (tests use the first ones to provision throw-away names):
#   TOUCHSTONE_PROVISION_PREFIX    touchstone                      names: <prefix>_S, <prefix>-S, <prefix>.S…
#   TOUCHSTONE_PROVISION_SERVICES  "leads funnel touchpoints breakeven"
#   TOUCHSTONE_PROVISION_EXCHANGE  touchstone.events
#   TOUCHSTONE_PROVISION_VHOST     /
#   TOUCHSTONE_SECRETS_DIR         <repo>/.run/secrets
#   TOUCHSTONE_PROVISION_PG_HOST / _PG_PORT / _PG_ADMIN      127.0.0.1 / 5432 / postgres
#   TOUCHSTONE_PROVISION_AMQP_HOST / _AMQP_PORT              127.0.0.1 / 5672 (written to S.env)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix=${TOUCHSTONE_PROVISION_PREFIX:-touchstone}
read -r -a services <<<"${TOUCHSTONE_PROVISION_SERVICES:-leads funnel touchpoints breakeven}"
exchange=${TOUCHSTONE_PROVISION_EXCHANGE:-touchstone.events}
vhost=${TOUCHSTONE_PROVISION_VHOST:-/}
secrets=${TOUCHSTONE_SECRETS_DIR:-$repo/.run/secrets}
pg_host=${TOUCHSTONE_PROVISION_PG_HOST:-127.0.0.1}
pg_port=${TOUCHSTONE_PROVISION_PG_PORT:-5432}
pg_admin=${TOUCHSTONE_PROVISION_PG_ADMIN:-postgres}
amqp_host=${TOUCHSTONE_PROVISION_AMQP_HOST:-127.0.0.1}
amqp_port=${TOUCHSTONE_PROVISION_AMQP_PORT:-5672}

mode=local
case "${1:-}" in
  "") ;;
  --compose) mode=compose ;;
  *) echo "usage: $0 [--compose]" >&2; exit 2 ;;
esac

log() { printf '[provision] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# Names go into SQL identifiers, RabbitMQ regexes and URLs unquoted: keep them plain.
[[ $prefix =~ ^[a-z][a-z0-9_]{0,39}$ ]] || die "TOUCHSTONE_PROVISION_PREFIX must match [a-z][a-z0-9_]{0,39}"
[ "${#services[@]}" -gt 0 ] || die "TOUCHSTONE_PROVISION_SERVICES is empty"
for s in "${services[@]}"; do
  [[ $s =~ ^[a-z][a-z0-9_]{0,19}$ ]] || die "service name '$s' must match [a-z][a-z0-9_]{0,19}"
done
[[ $exchange =~ ^[A-Za-z0-9_.:-]+$ ]] || die "TOUCHSTONE_PROVISION_EXCHANGE has characters RabbitMQ names should not"

# A regex matching exactly $1.
re_quote() { sed 's/[][\\.^$*+?(){}|/]/\\&/g' <<<"$1"; }
# $1 as a JSON string body.
json_str() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }
# $1 percent-encoded for a URL path segment (the vhost).
url_encode() {
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02x' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}
random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
hex_to_bin() { printf "$(sed 's/../\\x&/g' <<<"$1")"; }

# RabbitMQ's stored form of a password (rabbit_password_hashing_sha256):
# base64(salt ++ sha256(salt ++ password)) with a 4-byte salt.
rabbit_hash() {
  local salt digest
  salt=$(random_hex 4)
  digest=$({ hex_to_bin "$salt"; printf '%s' "$1"; } | sha256sum | cut -c1-64)
  { hex_to_bin "$salt"; hex_to_bin "$digest"; } | base64 -w0
}

umask 077
mkdir -p "$secrets"
chmod 700 "$secrets"

# The password in file $1, created once (24 random bytes, hex: safe in URLs unescaped).
# Concurrent runs agree on one: the file appears atomically and the loser drops its own.
secret() {
  local f=$secrets/$1 tmp
  if [ ! -s "$f" ]; then
    tmp=$(mktemp "$secrets/.new.XXXXXX")
    random_hex 24 >"$tmp"
    ln "$tmp" "$f" 2>/dev/null || true
    rm -f "$tmp"
  fi
  chmod 600 "$f"
  local pw
  pw=$(<"$f")
  [[ $pw =~ ^[A-Za-z0-9._~-]{16,}$ ]] || die "$f must hold a URL-safe password of 16+ characters ([A-Za-z0-9._~-])"
  printf '%s' "$pw"
}

# Writes stdin to file $1 (mode 600) in one step.
write_private() {
  local tmp
  tmp=$(mktemp "$secrets/.new.XXXXXX")
  cat >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$1"
}

# What each service may do on the broker. RabbitMQ checks a regex per operation kind:
#   configure  declare/delete: its queues, and the exchange it declares on start-up;
#   write      queue.bind into its queues, publishing to the exchange, and publishing to
#              amq.default (the default exchange): the consumer sends retries and dead letters
#              there, and declaring a retry queue whose x-dead-letter-exchange is "" needs it;
#   read       consume/get from its queues, and queue.bind from the exchange.
# Topic permissions narrow publishing on the exchange to routing keys touchstone.S.*: the
# service's own event types (event types keep the `touchstone.` namespace whatever the prefix).
ex_re=$(re_quote "$exchange")
perm_configure() { printf '^(%s\\.%s(\\..+)?|%s)$' "$prefix" "$1" "$ex_re"; }
perm_write() { printf '^(%s\\.%s(\\..+)?|%s|amq\\.default)$' "$prefix" "$1" "$ex_re"; }
perm_read() { perm_configure "$1"; }
topic_write() { printf '^touchstone\\.%s\\.' "$1"; }
topic_read='.*'

# RabbitMQ definitions (users, permissions, topic permissions) for the services; with
# $1 = compose, also the vhost and an operator account, since a node that loads definitions
# at boot creates neither the default vhost nor `guest`.
definitions() {
  local s first=1 user
  printf '{\n"users": [\n'
  for s in "${services[@]}"; do
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '  {"name": "%s-%s", "password_hash": "%s", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}' \
      "$prefix" "$s" "$(rabbit_hash "$(secret "$s.amqp-password")")"
  done
  if [ "$1" = compose ]; then
    printf ',\n  {"name": "%s-admin", "password_hash": "%s", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}' \
      "$prefix" "$(rabbit_hash "$(secret rabbitmq-admin.password)")"
    printf '\n],\n"vhosts": [{"name": "%s"}],\n"permissions": [\n' "$(json_str "$vhost")"
    printf '  {"user": "%s-admin", "vhost": "%s", "configure": ".*", "write": ".*", "read": ".*"},\n' \
      "$prefix" "$(json_str "$vhost")"
  else
    printf '\n],\n"permissions": [\n'
  fi
  first=1
  for s in "${services[@]}"; do
    [ $first = 1 ] || printf ',\n'
    first=0
    printf '  {"user": "%s-%s", "vhost": "%s", "configure": "%s", "write": "%s", "read": "%s"}' \
      "$prefix" "$s" "$(json_str "$vhost")" "$(json_str "$(perm_configure "$s")")" \
      "$(json_str "$(perm_write "$s")")" "$(json_str "$(perm_read "$s")")"
  done
  printf '\n],\n"topic_permissions": [\n'
  first=1
  for s in "${services[@]}"; do
    [ $first = 1 ] || printf ',\n'
    first=0
    user="$prefix-$s"
    printf '  {"user": "%s", "vhost": "%s", "exchange": "%s", "write": "%s", "read": "%s"}' \
      "$user" "$(json_str "$vhost")" "$(json_str "$exchange")" \
      "$(json_str "$(topic_write "$s")")" "$(json_str "$topic_read")"
  done
  printf '\n]\n}\n'
}

# S.env (or S.compose.env): the service's settings, in a form both `set -a; . file` and
# compose's env_file read.
env_file() {
  local s=$1 pghost=$2 amqphost=$3 upper
  upper=$(tr '[:lower:]' '[:upper:]' <<<"$s")
  cat <<ENV
# Written by deploy/scripts/provision.sh: the $s service's own accounts. Keep private.
TOUCHSTONE_${upper}__DATABASE__URL=postgres://${prefix}_$s:$(secret "$s.pg-password")@$pghost:$pg_port
TOUCHSTONE_${upper}__DATABASE__NAME=${prefix}_$s
TOUCHSTONE_${upper}__BUS__URL=amqp://$prefix-$s:$(secret "$s.amqp-password")@$amqphost:$amqp_port/$(url_encode "$vhost")
TOUCHSTONE_${upper}__BUS__EXCHANGE=$exchange
TOUCHSTONE_${upper}__BUS__QUEUE_PREFIX=$prefix
ENV
}

# Every password exists and is valid before anything uses one (inside $(…) a failure
# would go unnoticed).
for s in "${services[@]}"; do
  secret "$s.pg-password" >/dev/null
  secret "$s.amqp-password" >/dev/null
done

if [ "$mode" = compose ]; then
  secret postgres.password >/dev/null
  secret rabbitmq-admin.password >/dev/null
  for s in "${services[@]}"; do
    env_file "$s" postgres rabbitmq | write_private "$secrets/$s.compose.env"
    # For services run on the host against the containers' published ports.
    env_file "$s" "$pg_host" "$amqp_host" | write_private "$secrets/$s.env"
  done
  definitions compose | write_private "$secrets/rabbitmq-definitions.json"
  log "wrote the secrets deploy/compose.yaml reads to $secrets"
  exit 0
fi

command -v psql >/dev/null || die "psql is missing (deploy/scripts/ensure-services.sh installs it)"
command -v rabbitmqctl >/dev/null || die "rabbitmqctl is missing; provision RabbitMQ on a machine that runs the node"

for s in "${services[@]}"; do
  role="${prefix}_$s"
  # The password goes to psql on standard input, not as a -v argument anyone could read in ps.
  { printf '\\set password %s\n' "$(secret "$s.pg-password")"; cat "$repo/deploy/postgres/provision.sql"; } \
    | psql -X -q -w -h "$pg_host" -p "$pg_port" -U "$pg_admin" -d postgres \
      -v ON_ERROR_STOP=1 -v role="$role" -v db="$role" -f - \
    || die "PostgreSQL provisioning of $s failed (as $pg_admin@$pg_host:$pg_port)"
done

if [ "$vhost" != / ] && ! rabbitmqctl -q list_vhosts --no-table-headers | grep -qxF -- "$vhost"; then
  rabbitmqctl -q add_vhost "$vhost" >/dev/null
fi
# One import creates or updates every user (password, no tags) and replaces its permissions
# and its topic permissions on the exchange; the passwords travel as salted hashes on stdin.
definitions local | rabbitmqctl -q import_definitions --format json >/dev/null \
  || die "RabbitMQ provisioning failed (is this root, and is the node up?)"

for s in "${services[@]}"; do
  env_file "$s" "$pg_host" "$amqp_host" | write_private "$secrets/$s.env"
done
log "provisioned ${services[*]} (prefix $prefix); credentials in $secrets"
