#!/usr/bin/env bash
# Generates a Python client with openapi-python-client from each service's OpenAPI document
# (`touchstone-<service> openapi`) and from the gateway's aggregated one
# (deploy/gateway/openapi.json), then makes one write and one read per service with them
# through the gateway (deploy/test/generated_client.py).
#
#   CLIENT_KEY=<api key> deploy/test/generated_client.sh [GATEWAY_URL] [BIN_DIR]
#
# GATEWAY_URL defaults to http://127.0.0.1:8080 and BIN_DIR to target/debug. The virtualenv,
# target/client-venv (CLIENT_VENV), is made from deploy/test/client-requirements.txt when
# missing or stale. Exits non-zero when a document does not generate or a call fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
base=${1:-http://127.0.0.1:8080}
bin_dir=${2:-$root/target/debug}
venv=${CLIENT_VENV:-$root/target/client-venv}
: "${CLIENT_KEY:?set CLIENT_KEY to an API key with every scope}"

log() { printf '[generated-client] %s\n' "$*" >&2; }

stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/client-requirements.txt" | cut -d' ' -f1)
if [ ! -x "$venv/bin/openapi-python-client" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing deploy/test/client-requirements.txt into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/client-requirements.txt"
  echo "$want" >"$stamp"
fi
# The generator formats its output with ruff, which it looks for on PATH.
export PATH="$venv/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/generated-client.XXXXXX")
trap 'rm -rf "$work"' EXIT

generate() { # name document
  log "generating ${1}_client from $2"
  if ! openapi-python-client generate --path "$2" --meta none \
    --output-path "$work/${1}_client" >"$work/$1.log" 2>&1; then
    cat "$work/$1.log" >&2
    return 1
  fi
  # What the generator left out: content types it cannot handle (NDJSON, CSV, SVG) are
  # expected; anything else (a schema it could not read) fails the run.
  if grep -E "Cannot|Could not|Failure" "$work/$1.log" | grep -vE "Unsupported content.type" >&2; then
    log "$1: the generator could not read part of the document (above)"
    return 1
  fi
}

for service in leads funnel touchpoints breakeven; do
  "$bin_dir/touchstone-$service" openapi >"$work/$service.json"
  generate "$service" "$work/$service.json"
done
generate gateway "$root/deploy/gateway/openapi.json"

log "calling the suite at $base"
PYTHONPATH="$work" "$venv/bin/python" "$here/generated_client.py" "$base"
