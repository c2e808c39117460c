#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through cargo-fuzz, AddressSanitizer on) of the HTTP/1.1
# code that reads bytes from strangers: the request head parser, the chunked decoder and the
# upstream response decoder (fuzz/fuzz_targets/, checks in native/src/fuzzing.rs). Each target
# runs FUZZ_SECS seconds (default 60), starting from its hand-written seeds and past findings
# (fuzz/seeds/<target>/, never rewritten) and its corpus (fuzz/corpus/<target>/), which it
# grows and then minimises: in a copy under $GATEHOUSE_CACHE by default, so a test run leaves
# the clone untouched, or in fuzz/corpus itself with FUZZ_KEEP=1 (to commit what it found). A
# crash fails the run and leaves its input in fuzz/artifacts/.
# cargo-fuzz passes -Z flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain take them (no
# nightly needed). cargo-fuzz is installed from crates.io into $GATEHOUSE_CACHE when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${GATEHOUSE_CACHE:-$HOME/.cache/gatehouse}"
bin="$cache/cargo-bin/bin"
secs="${FUZZ_SECS:-60}"
if ! "$bin/cargo-fuzz" --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install -q --locked cargo-fuzz --root "$cache/cargo-bin"
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="$cache/target-fuzz"
for target in request_head chunked response; do
  corpus="fuzz/corpus/$target"
  if [ "${FUZZ_KEEP:-0}" != 1 ]; then
    corpus="$cache/fuzz-corpus/$target"
    mkdir -p "$corpus"
    cp -n "fuzz/corpus/$target"/* "$corpus"/ 2>/dev/null || true
  fi
  before=$(find "$corpus" -type f | wc -l)
  "$bin/cargo-fuzz" run --fuzz-dir fuzz "$target" "$corpus" "fuzz/seeds/$target" -- \
    -max_total_time="$secs" -max_len=4096 -print_final_stats=1 2>"$cache/fuzz-$target.log" || {
    tail -40 "$cache/fuzz-$target.log" >&2
    exit 1
  }
  # Keep only the inputs that add coverage, so the corpus committed under fuzz/ stays small.
  "$bin/cargo-fuzz" cmin --fuzz-dir fuzz "$target" "$corpus" >>"$cache/fuzz-$target.log" 2>&1
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$cache/fuzz-$target.log" | grep -Eo '[0-9]+$' || echo '?')
  cov=$(grep -Eo 'cov: [0-9]+' "$cache/fuzz-$target.log" | tail -1 | grep -Eo '[0-9]+' || echo '?')
  echo "fuzz $target: ${secs} s, $runs inputs run, coverage $cov edges, corpus $before -> $(find "$corpus" -type f | wc -l) files, no crash"
done
