#!/usr/bin/env bash
# The import rule of every service's layers (docs/architecture.md, "Layers"):
#   - domain/ is pure: no actix, diesel, lapin, utoipa, platform::http or Problem, and
#     nothing from the layers above it (api, usecases, store, events);
#   - store/ reads and writes rows: it never imports api/ or usecases/.
# Usage: check-layers.sh [CRATES_DIR]   (default: crates)
#        check-layers.sh --self-test    (proves the check fails on a breach)
set -euo pipefail

check() {
  local root="$1" failed=0
  if [[ -z "$(find "$root" -path '*/src/domain/*' -name '*.rs' -print -quit 2>/dev/null)" ]]; then
    echo "layers: no domain/ files under $root: nothing to check" >&2
    return 1
  fi
  # Code lines only: comment lines (//, //!, ///) are skipped.
  local domain_rule='(\b(actix_web|actix|diesel|lapin|utoipa)::|\buse (actix_web|actix|diesel|lapin|utoipa)\b|platform::(http|Problem)\b|ToSchema|IntoParams|crate::(api|usecases|store|events)\b|super::super::(api|usecases|store|events)\b)'
  local store_rule='(crate::(api|usecases)\b|super::super::(api|usecases)\b)'
  while IFS= read -r hit; do
    echo "layers: domain/ must stay pure: $hit" >&2
    failed=1
  done < <(find "$root" -path '*/src/domain/*' -name '*.rs' -print0 \
    | xargs -0 -r grep -nHE "$domain_rule" | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
  while IFS= read -r hit; do
    echo "layers: store/ must not import api/ or usecases/: $hit" >&2
    failed=1
  done < <(find "$root" -path '*/src/store/*' -name '*.rs' -print0 \
    | xargs -0 -r grep -nHE "$store_rule" | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
  return "$failed"
}

if [[ "${1:-}" == "--self-test" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/svc/src/domain" "$tmp/svc/src/store"
  printf '//! use actix_web::web; in a comment is fine\npub fn f() {}\n' > "$tmp/svc/src/domain/ok.rs"
  printf 'pub fn g() {}\n' > "$tmp/svc/src/store/ok.rs"
  check "$tmp" || { echo "self-test: a clean tree was rejected" >&2; exit 1; }
  if check "$tmp/missing" 2>/dev/null; then echo "self-test: an empty tree passed" >&2; exit 1; fi
  for bad in 'use actix_web::HttpResponse;' 'use platform::http::FieldErrors;' \
             '#[derive(utoipa::ToSchema)]' 'use diesel::prelude::*;' 'use crate::store::rows;'; do
    printf '%s\n' "$bad" > "$tmp/svc/src/domain/bad.rs"
    if check "$tmp" 2>/dev/null; then echo "self-test: missed a domain breach: $bad" >&2; exit 1; fi
    rm "$tmp/svc/src/domain/bad.rs"
  done
  printf 'use crate::api::leads::Body;\n' > "$tmp/svc/src/store/bad.rs"
  if check "$tmp" 2>/dev/null; then echo "self-test: missed a store breach" >&2; exit 1; fi
  echo "layers self-test: ok"
  exit 0
fi

check "${1:-crates}" && echo "layers: ok"
