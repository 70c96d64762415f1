#!/usr/bin/env bash
# Property-based API test of one service or of the gateway: validates the OpenAPI document
# served at <base>/openapi.json (openapi-spec-validator), then lets schemathesis generate
# requests from it and fails on any server error or on a response that breaks its own
# schema.
#
#   deploy/test/schemathesis.sh [BASE_URL]        # default http://127.0.0.1:8080 (the gateway)
#   deploy/test/schemathesis.sh http://127.0.0.1:8081
#
# Environment:
#   SCHEMATHESIS_AUTH      extra request headers, `Name: value`, one per line
#                          (e.g. `Authorization: Bearer xyz`); sent with every request
#   SCHEMATHESIS_EXAMPLES  test cases per operation and phase (default 100: the four services
#                          take about two minutes together on 2 cores)
#   SCHEMATHESIS_SEED      seed of the generator (default 42): a run is reproducible
#   SCHEMATHESIS_CHECKS    comma-separated checks (default: the four below)
#   SCHEMATHESIS_PHASES    comma-separated phases (default examples,coverage,fuzzing,stateful)
#   SCHEMATHESIS_WORKERS   concurrent workers (default 1: with more, hypothesis parses lambdas
#                          from several threads at once, which CPython 3.11.7's `ast.parse`
#                          does not survive -- "AST constructor recursion depth mismatch")
#   SCHEMATHESIS_VENV      the virtualenv (default target/venv; created from
#                          deploy/test/requirements.txt when missing)
#   SCHEMATHESIS_REPORT    a directory for the JUnit report (default: none)
#
# Exits non-zero when the document is invalid or any check fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
base=${1:-http://127.0.0.1:8080}
base=${base%/}
venv=${SCHEMATHESIS_VENV:-$root/target/venv}
examples=${SCHEMATHESIS_EXAMPLES:-100}
seed=${SCHEMATHESIS_SEED:-42}
checks=${SCHEMATHESIS_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance}
phases=${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}
workers=${SCHEMATHESIS_WORKERS:-1}

log() { printf '[schemathesis] %s\n' "$*" >&2; }

# The virtualenv is made once and reused; a changed requirements.txt reinstalls it.
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/schemathesis" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing deploy/test/requirements.txt into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
  echo "$want" >"$stamp"
fi

headers=()
curl_headers=()
if [ -n "${SCHEMATHESIS_AUTH:-}" ]; then
  while IFS= read -r h; do
    h=${h%$'\r'}
    [ -z "$h" ] && continue
    headers+=(--header "$h")
    curl_headers+=(-H "$h")
  done <<<"$SCHEMATHESIS_AUTH"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/schemathesis.XXXXXX")
trap 'rm -rf "$work"' EXIT
doc="$work/openapi.json"
if ! curl -fsS --retry 5 --retry-connrefused --retry-delay 1 "${curl_headers[@]}" \
  -o "$doc" "$base/openapi.json"; then
  log "could not fetch $base/openapi.json"
  exit 2
fi

log "validating $base/openapi.json"
"$venv/bin/openapi-spec-validator" "$doc"

report=()
if [ -n "${SCHEMATHESIS_REPORT:-}" ]; then
  mkdir -p "$SCHEMATHESIS_REPORT"
  report_dir=$(cd "$SCHEMATHESIS_REPORT" && pwd)
  name=$(printf '%s' "$base" | tr -c 'A-Za-z0-9' '_')
  report=(--report junit --report-junit-path "$report_dir/$name.xml")
fi

log "fuzzing $base ($examples examples per operation, seed $seed, checks $checks)"
started=$(date +%s)
status=0
# Run from the scratch directory: schemathesis keeps a cache of past failures in
# ./.schemathesis, which would replay them and make runs depend on earlier ones.
(cd "$work" && SCHEMATHESIS_HOOKS="$here/schemathesis_hooks.py" "$venv/bin/schemathesis" run "$doc" \
  --url "$base" \
  --checks "$checks" \
  --phases "$phases" \
  --max-examples "$examples" \
  --seed "$seed" \
  --workers "$workers" \
  --generation-database none \
  --request-timeout 30 \
  --no-color \
  "${headers[@]}" "${report[@]}") || status=$?
log "$base: exit $status after $(($(date +%s) - started)) s"
exit "$status"
