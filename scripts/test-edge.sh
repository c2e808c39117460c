#!/usr/bin/env bash
# The edge Worker, built to wasm32 and tested end to end under workerd (Miniflare): seeded
# Workers KV, real Durable Objects, the Cache API, a real upstream and a usage ingest server
# on 127.0.0.1 (edge/tests/). Installs what it needs when missing (see ../shared/TOOLCHAIN.md):
# Debian's rustc-web + std sources + wasm-ld, worker-build and wasm-bindgen-cli (into
# $GATEHOUSE_CACHE/cargo-bin), the pinned npm packages (edge/package-lock.json), and moto
# (the DynamoDB emulator, into $GATEHOUSE_CACHE/venv) for access.test.mjs, which puts the real
# AWS control plane (aws/examples/control_plane_http.rs, built here) in front of the Worker.
# Warm reruns skip the wasm build when no input changed (a hash of the sources); the tests
# themselves always run against fresh servers.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache="${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}"
bin="$cache/cargo-bin/bin"
host_cargo="$(command -v cargo)"
started=$SECONDS
step() { printf '\n== edge: %s (%ss)\n' "$1" "$((SECONDS - started))"; }

step "toolchain"
if ! [ -x /usr/bin/rustc ] || ! [ -d /usr/lib/rustlib/src/rust/library ] || ! [ -x /usr/lib/llvm-19/bin/wasm-ld ]; then
  echo "installing Debian's rustc-web, cargo-web, rust-web-src and lld-19"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq rustc-web cargo-web rust-web-src lld-19 >/dev/null
fi
# worker-build checks that the target's libdir exists; build-std supplies the library itself.
mkdir -p "$(/usr/bin/rustc --target wasm32-unknown-unknown --print target-libdir 2>/dev/null || echo /usr/lib/rustlib/wasm32-unknown-unknown/lib)"
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
if ! "$bin/worker-build" --version 2>/dev/null | grep -q '0\.8\.7'; then
  echo "installing worker-build 0.8.7"
  "$host_cargo" install -q worker-build --version 0.8.7 --root "$cache/cargo-bin"
fi
if ! "$bin/wasm-bindgen" --version 2>/dev/null | grep -q "$bindgen_version"; then
  echo "installing wasm-bindgen-cli $bindgen_version (the version in Cargo.lock)"
  "$host_cargo" install -q wasm-bindgen-cli --version "$bindgen_version" --root "$cache/cargo-bin" --force
fi
stamp=edge/node_modules/.gatehouse-lock
if ! [ -f "$stamp" ] || ! cmp -s edge/package-lock.json "$stamp"; then
  echo "installing npm packages (wrangler, miniflare, binaryen)"
  (cd edge && npm ci --no-audit --no-fund --loglevel=error)
  cp edge/package-lock.json "$stamp"
fi

step "build the worker (wasm32, worker-build --release)"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
inputs=$(cat Cargo.lock edge/Cargo.toml shared/Cargo.toml wrangler.toml \
  $(find edge/src shared/src \( -name '*.rs' -o -name '*.js' \) | sort) | sha256sum | cut -c1-16)
if [ "$(cat edge/build/.inputs 2>/dev/null)" != "$inputs" ] || ! [ -f edge/build/index_bg.wasm ]; then
  (
    export PATH="$bin:/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
    export CARGO_TARGET_DIR="$cache/target-edge"
    export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
    export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-19/bin/wasm-ld
    # Size matters more than speed for a Worker (upload limit, cold start).
    export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
    export WASM_BINDGEN_BIN="$bin/wasm-bindgen"
    export ESBUILD_BIN="$root/edge/node_modules/@esbuild/linux-x64/bin/esbuild"
    export WASM_OPT_BIN="$root/edge/node_modules/binaryen/bin/wasm-opt"
    # wrangler runs wrangler.toml's [build] command (worker-build) and bundles offline, so
    # this one step builds the Worker, validates wrangler.toml and reports the upload size.
    rm -f edge/build/index_bg.wasm edge/build/index.js
    log="$cache/edge-build.log"
    if ! edge/node_modules/.bin/wrangler deploy --dry-run --outdir "$cache/edge-dist" >"$log" 2>&1; then
      cat "$log" >&2
      exit 1
    fi
    grep -E 'Total Upload' "$log" || true
  )
  [ -f edge/build/index_bg.wasm ] || { echo "edge: worker build failed" >&2; exit 1; }
  echo "$inputs" > edge/build/.inputs
else
  echo "unchanged since the last build: $(cat edge/build/.inputs)"
fi
echo "wasm: $(wc -c < edge/build/index_bg.wasm) bytes, $(gzip -9c edge/build/index_bg.wasm | wc -c) gzipped"

step "seed (KV records from the core's own types)"
CARGO_TARGET_DIR="$cache/target-edge-host" "$host_cargo" run -q --locked -p gatehouse-edge --example seed > edge/build/seed.json

step "the AWS control plane over HTTP, and moto"
venv="$cache/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# (Asked of moto itself: `pip show | grep -q` can fail under pipefail when grep exits early.)
if ! "$venv/bin/python" -c 'import sys, moto; sys.exit(moto.__version__ != "5.2.5")' 2>/dev/null; then
  echo "installing moto[server]==5.2.5 into $venv"
  "$venv/bin/python" -m pip install -q "moto[server]==5.2.5"
fi
# Built where scripts/test-aws.sh builds the aws crate (the same dependencies and features, as
# an example sees dev-dependencies): after the AWS tests, only the example itself compiles.
aws_target="${CARGO_TARGET_DIR:-$cache/target-aws}"
CARGO_TARGET_DIR="$aws_target" "$host_cargo" build -q --locked -p gatehouse-aws --example control_plane_http
export GATEHOUSE_CONTROL_PLANE_BIN="$aws_target/debug/examples/control_plane_http"
export GATEHOUSE_MOTO_PYTHON="$venv/bin/python" GATEHOUSE_MOTO_SCRIPT="$root/scripts/moto-serial.py"

step "end-to-end under workerd"
(cd edge && node --test --test-reporter=spec tests/)

step "edge passed in $((SECONDS - started)) s"
