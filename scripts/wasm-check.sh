#!/usr/bin/env bash
# Proves the core (and anything else passed as -p) builds for wasm32-unknown-unknown, the
# Cloudflare Worker target. rustup here cannot download the wasm32 standard library, so this
# uses Debian's Rust (rustc-web) and builds std from source (see ../shared/TOOLCHAIN.md).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(-p gatehouse-core)

if ! [ -x /usr/bin/rustc ] || ! [ -d /usr/lib/rustlib/src/rust/library ] || ! [ -x /usr/lib/llvm-19/bin/wasm-ld ]; then
  echo "wasm-check: installing Debian's rustc-web, rust-web-src and lld-19"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq rustc-web cargo-web rust-web-src lld-19 >/dev/null
fi

export PATH=/usr/bin:$PATH
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${GATEHOUSE_WASM_TARGET_DIR:-$HOME/.cache/gatehouse/target-wasm}"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=/usr/lib/llvm-19/bin/wasm-ld
/usr/bin/cargo check --target wasm32-unknown-unknown -Z build-std=std,panic_abort "${packages[@]}"
echo "wasm-check: ${packages[*]} builds for wasm32-unknown-unknown"
