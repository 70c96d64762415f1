#!/usr/bin/env bash
# `make chaos`: starts the suite as `make run REPLICAS=2` does (in the background, its log in
# .run/chaos-suite.log), runs touchstone-chaos against it (a seeded fault schedule under load,
# then the invariants from the public APIs; the report goes to docs/reliability.md), and
# stops the suite. Not part of `make test`: it restarts the machine's PostgreSQL and RabbitMQ.
#   CHAOS_SEED (7), CHAOS_SECONDS (240): the schedule's seed and the load's length.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${TOUCHSTONE_BIN_DIR:-target/release}
mkdir -p .run
log=.run/chaos-suite.log
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_open 8080 || port_open 8081; then
  echo "[chaos] something already listens on 8080/8081 (a 'make run'?): stop it first"
  exit 1
fi
echo "[chaos] starting the suite (REPLICAS=2); its log: $log"
REPLICAS=2 setsid bash deploy/scripts/run.sh >"$log" 2>&1 &
suite=$!
stop_suite() {
  echo "[chaos] stopping the suite"
  kill -TERM -- "-$suite" 2>/dev/null || kill -TERM "$suite" 2>/dev/null || true
  wait "$suite" 2>/dev/null || true
}
trap stop_suite EXIT
for _ in $(seq 600); do
  grep -q "Touchstone is running" "$log" 2>/dev/null && break
  if ! kill -0 "$suite" 2>/dev/null; then
    echo "[chaos] the suite did not start; the end of its log:"
    tail -n 30 "$log"
    exit 1
  fi
  sleep 1
done
grep -q "Touchstone is running" "$log" || { echo "[chaos] the suite is not up after 10 minutes"; exit 1; }
"$bin/touchstone-chaos" --seed "${CHAOS_SEED:-7}" --seconds "${CHAOS_SECONDS:-240}" "$@"
