#!/usr/bin/env bash
# `make run`: every service (REPLICAS instances of each, default 1), the HAProxy gateway on
# 127.0.0.1:8080 in front of them, demo data loaded through the public APIs, a demo API key
# with every scope, and a clean stop of everything on Ctrl-C.
#
# Instance i of a service listens on its port + 100 * i (leads: 8081, 8181, ...); all
# instances of a service share its database and queue (competing consumers). The broker
# topology is declared first (`touchstone bus setup`), so an event published before its
# consumer's first start waits in that consumer's queue. Every process is supervised: one
# that exits is started again within seconds, and the restart is logged
# (deploy/scripts/supervise.sh). Each service connects with its own PostgreSQL role and
# RabbitMQ user when `deploy/scripts/provision.sh` has written `.run/secrets/<service>.env`
# (make run runs it first).
set -euo pipefail
cd "$(dirname "$0")/../.."
# Release binaries (`make build`): the code `make bench` measures.
bin=${TOUCHSTONE_BIN_DIR:-target/release}
services=(leads funnel touchpoints breakeven)
replicas=${REPLICAS:-1}
[[ "$replicas" =~ ^[1-9]$ ]] || { echo "[run] REPLICAS must be 1-9, not '$replicas'"; exit 2; }
# `make run` builds first; when the script runs on its own, build whatever is missing.
for s in "${services[@]}"; do
  [ -x "$bin/touchstone-$s" ] || cargo build -q --release -p "$s" --bins
done
[ -x "$bin/touchstone" ] || cargo build -q --release -p cli --bins
command -v haproxy >/dev/null || { echo "[run] haproxy is missing: run 'make services' (it installs it)"; exit 1; }

. deploy/scripts/supervise.sh
mkdir -p .run
state=.run/gateway
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "[run] stopping the gateway and ${services[*]}"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "[run] stopped"
}
trap stop INT TERM EXIT

declare -A ports=([leads]=8081 [funnel]=8082 [touchpoints]=8083 [breakeven]=8084)
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Something else on a port would answer the readiness checks in our place.
busy=()
for s in "${services[@]}"; do
  for ((i = 0; i < replicas; i++)); do
    port_open $((ports[$s] + 100 * i)) && busy+=($((ports[$s] + 100 * i)))
  done
done
for p in 8080 8405; do port_open $p && busy+=($p); done
if [ ${#busy[@]} -gt 0 ]; then
  echo "[run] ports already in use: ${busy[*]} (another 'make run'?); stop what listens there first"
  exit 1
fi
# Every queue, retry queue, DLQ and binding, before any service publishes.
"$bin/touchstone" bus setup

declare -A instances=()
for s in "${services[@]}"; do
  list=()
  for ((i = 0; i < replicas; i++)); do
    port=$((ports[$s] + 100 * i))
    name=$s; [ "$replicas" -gt 1 ] && name="$s-$((i + 1))"
    (
      upper=${s^^}
      if [ -f ".run/secrets/$s.env" ]; then set -a; . ".run/secrets/$s.env"; set +a; fi
      export "TOUCHSTONE_${upper}__HTTP__PORT=$port"
      # Pretty logs would need a TTY; JSON lines are prefixed so the streams stay readable.
      supervise "$name" "$bin/touchstone-$s"
    ) > >(sed -u "s/^/[$name] /") 2>&1 &
    pids+=($!)
    list+=("127.0.0.1:$port")
  done
  instances[$s]=$(IFS=,; echo "${list[*]}")
done

for s in "${services[@]}"; do
  for addr in ${instances[$s]//,/ }; do
    for _ in $(seq 120); do
      curl -fs "http://$addr/health/ready" >/dev/null 2>&1 && break
      sleep 0.5
    done
    if ! curl -fs "http://$addr/health/ready" >/dev/null; then
      echo "[run] $s on $addr is not ready after 60s (is PostgreSQL/RabbitMQ up? see its log lines above)"
      exit 1
    fi
  done
done

# The gateway: HAProxy, configured by deploy/gateway/haproxy.cfg and the instance lists.
(
  for s in "${services[@]}"; do export "TOUCHSTONE_GATEWAY_${s^^}_INSTANCES=${instances[$s]}"; done
  supervise gateway "$bin/touchstone" gateway start --state "$state"
) > >(sed -u "s/^/[gateway] /") 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  curl -fs http://127.0.0.1:8080/health/ready >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs http://127.0.0.1:8080/health/ready >/dev/null \
  || { echo "[run] the gateway is not ready on 127.0.0.1:8080 (see its log lines above)"; exit 1; }

# A fresh demo key each run: the store keeps only hashes, so an old key cannot be shown.
"$bin/touchstone" keys revoke demo --state "$state" 2>/dev/null || true
key=$("$bin/touchstone" keys create --name demo --scope '*' --state "$state" | tail -n1)
( umask 077; printf '%s\n' "$key" > .run/demo-key )

"$bin/touchstone" demo --seed "${SEED:-42}" --gateway-url http://127.0.0.1:8080 \
  || echo "[run] the demo data did not load completely (see above); the services keep running"

cat <<TXT

Touchstone is running. Ctrl-C stops everything.
  gateway      http://127.0.0.1:8080   (API docs: http://127.0.0.1:8080/docs, OpenAPI: /openapi.json)
  metrics      http://127.0.0.1:8405/metrics (the gateway's, Prometheus)
TXT
for s in "${services[@]}"; do
  printf '  %-12s %s   (behind the gateway; /docs, /openapi.json and /metrics on each)\n' "$s" "$(echo "${instances[$s]}" | sed 's/\([^,]*\)/http:\/\/\1/g; s/,/ /g')"
done
cat <<TXT

Demo API key (every scope; also in .run/demo-key):
  $key

Try (the demo's hints above use the same key as \$KEY):
  KEY=\$(cat .run/demo-key)
  curl -s -H "Authorization: Bearer \$KEY" 'http://127.0.0.1:8080/v1/leads?limit=3&stage=mql'
  curl -s -H "Authorization: Bearer \$KEY" 'http://127.0.0.1:8080/v1/reports/lead-quality?format=csv'
  target/release/touchstone keys create --name analyst --scope leads:read --scope funnel:read --rate-limit 600/min
Watch events in another terminal:  make events
TXT
wait
