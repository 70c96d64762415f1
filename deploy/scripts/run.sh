#!/usr/bin/env bash
# `make run`: every service that exists, log lines prefixed by service name, demo data
# loaded through the public APIs, and a clean stop of everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/debug
services=()
for s in leads funnel touchpoints breakeven; do
  [ -x "$bin/touchstone-$s" ] && services+=("$s")
done

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "[run] stopping ${services[*]}"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "[run] stopped"
}
trap stop INT TERM EXIT

declare -A ports=([leads]=8081 [funnel]=8082 [touchpoints]=8083 [breakeven]=8084)
for s in "${services[@]}"; do
  # Pretty logs would need a TTY; JSON lines are prefixed so the streams stay readable.
  # Process substitution keeps $! the service's own pid, so TERM reaches it.
  "$bin/touchstone-$s" > >(sed -u "s/^/[$s] /") 2>&1 &
  pids+=($!)
done

for s in "${services[@]}"; do
  for _ in $(seq 120); do
    curl -fs "http://127.0.0.1:${ports[$s]}/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fs "http://127.0.0.1:${ports[$s]}/health/ready" >/dev/null || echo "[run] $s is not ready yet"
done

"$bin/touchstone" demo --seed "${SEED:-42}"

cat <<TXT

Touchstone is running. Ctrl-C stops everything.
TXT
for s in "${services[@]}"; do
  p=${ports[$s]}
  printf '  %-12s http://127.0.0.1:%s   (API docs: http://127.0.0.1:%s/docs, OpenAPI: /openapi.json, metrics: /metrics)\n' "$s" "$p" "$p"
done
cat <<'TXT'

Try:
  curl -s 'http://127.0.0.1:8081/v1/leads?limit=3&stage=mql'
  curl -s 'http://127.0.0.1:8081/v1/accounts/targets'
  curl -s 'http://127.0.0.1:8081/v1/reports/lead-quality?format=csv'
  curl -s -X POST http://127.0.0.1:8081/v1/leads -H 'content-type: application/json' \
       -d '{"email":"you@example.com","source":"webinar"}'
Watch events in another terminal:  make events
RabbitMQ management (if enabled):   rabbitmqadmin list queues name messages
TXT
wait
