#!/usr/bin/env bash
# `make run`: all four services (leads, funnel, touchpoints, breakeven), log lines prefixed by service name, demo data
# loaded through the public APIs, and a clean stop of everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/debug
services=(leads funnel touchpoints breakeven)
# `make run` builds first; when the script runs on its own, build whatever is missing.
for s in "${services[@]}"; do
  [ -x "$bin/touchstone-$s" ] || cargo build -q -p "$s" --bins
done
[ -x "$bin/touchstone" ] || cargo build -q -p cli --bins

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
  if ! curl -fs "http://127.0.0.1:${ports[$s]}/health/ready" >/dev/null; then
    echo "[run] $s is not ready after 60s (is PostgreSQL/RabbitMQ up? see its log lines above)"
    exit 1
  fi
done

"$bin/touchstone" demo --seed "${SEED:-42}" \
  || echo "[run] the demo data did not load completely (see above); the services keep running"

cat <<TXT

Touchstone is running. Ctrl-C stops everything.
TXT
for s in "${services[@]}"; do
  p=${ports[$s]}
  printf '  %-12s http://127.0.0.1:%s   (API docs: http://127.0.0.1:%s/docs, OpenAPI: /openapi.json, metrics: /metrics)\n' "$s" "$p" "$p"
done
cat <<'TXT'

Try:
  # leads
  curl -s 'http://127.0.0.1:8081/v1/leads?limit=3&stage=mql'
  curl -s 'http://127.0.0.1:8081/v1/reports/lead-quality?format=csv'
  # funnel: the B2B funnel by campaign, the marketing funnel by monthly cohort
  curl -s 'http://127.0.0.1:8082/v1/funnels/00000000-0000-4000-8000-00000000b2b0/report?breakdown=campaign'
  curl -s 'http://127.0.0.1:8082/v1/funnels/00000000-0000-4000-8000-0000000000a1/report?cohort=month&format=csv'
  # touchpoints: campaign performance, attribution models side by side (a journey: see the demo's summary)
  curl -s 'http://127.0.0.1:8083/v1/reports/campaign-performance?format=csv'
  curl -s 'http://127.0.0.1:8083/v1/reports/attribution-comparison'
  # breakeven: one campaign live, and all of them
  curl -s 'http://127.0.0.1:8084/v1/campaigns/cmp-search-brand/breakeven'
  curl -s 'http://127.0.0.1:8084/v1/reports/campaign-profitability?format=csv'
Watch events in another terminal:  make events
RabbitMQ management (if enabled):   rabbitmqadmin list queues name messages
TXT
wait
